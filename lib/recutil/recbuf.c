/* Records packed into one arena.  A record is packed again from its parsed form (as
 * rec_copy does), and parsed again from the arena when it is written out. */
#include "recutil/recbuf.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

enum { MIN_COMPACT = 1 << 20 }; /* don't bother compacting smaller arenas */

static int arena_append(void *data, const char *p, size_t n)
{
    recbuf *b = data;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + n)
            cap *= 2;
        b->bytes = xrealloc(b->bytes, cap);
        b->cap = cap;
    }
    memcpy(b->bytes + b->len, p, n);
    b->len += n;
    return 0;
}

/* Pack r at the end of the arena. */
static recbuf_span pack(recbuf *b, const rec *r)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, arena_append);
    msgpack_object map = {.type = MSGPACK_OBJECT_MAP, .via.map = *r->map};
    recbuf_span s = {.off = b->len};
    msgpack_pack_object(&pk, map);
    s.len = b->len - s.off;
    b->live += s.len;
    return s;
}

void recbuf_push(recbuf *b, const rec *r)
{
    if (b->n == b->slot_cap) {
        b->slot_cap = b->slot_cap ? 2 * b->slot_cap : 1024;
        b->slot = xrealloc(b->slot, b->slot_cap * sizeof *b->slot);
    }
    b->slot[b->n++] = pack(b, r);
}

/* Copy the live records into a fresh arena, dropping the replaced ones. */
static void compact(recbuf *b)
{
    char *fresh = xmalloc(b->live);
    size_t len = 0;
    for (size_t i = 0; i < b->n; i++) {
        memcpy(fresh + len, b->bytes + b->slot[i].off, b->slot[i].len);
        b->slot[i].off = len;
        len += b->slot[i].len;
    }
    free(b->bytes);
    b->bytes = fresh;
    b->len = b->cap = len;
}

void recbuf_set(recbuf *b, size_t i, const rec *r)
{
    b->live -= b->slot[i].len;
    b->slot[i] = pack(b, r);
    if (b->len > MIN_COMPACT && b->len > 2 * b->live)
        compact(b);
}

void recbuf_swap(recbuf *b, size_t i, size_t j)
{
    recbuf_span t = b->slot[i];
    b->slot[i] = b->slot[j];
    b->slot[j] = t;
}

void recbuf_write(recbuf *b, size_t i, rec_writer *w)
{
    size_t pos = 0;
    if (msgpack_unpack_next(&b->view, b->bytes + b->slot[i].off, b->slot[i].len, &pos) !=
            MSGPACK_UNPACK_SUCCESS ||
        b->view.data.type != MSGPACK_OBJECT_MAP)
        die(EX_SOFTWARE, "recbuf: slot %zu does not hold a packed record", i);
    rec r = {.map = &b->view.data.via.map, .index = i + 1};
    rec_copy(w, &r);
}

void recbuf_free(recbuf *b)
{
    msgpack_unpacked_destroy(&b->view);
    free(b->bytes);
    free(b->slot);
    *b = (recbuf){0};
}
