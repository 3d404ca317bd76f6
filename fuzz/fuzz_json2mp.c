/* Fuzz json2mp's reader: arbitrary bytes as JSON Lines.  Whatever the input, the result
 * must not depend on how it is cut into chunks; and when it parses, writing the records
 * back as JSON and reading that again must give the same msgpack bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

static void pack_record(void *pk, const msgpack_object *o) { msgpack_pack_object(pk, *o); }

/* Parse len bytes fed `chunk` at a time into out; false on an error, whose text is
 * copied to err. */
static bool parse(const char *text, size_t len, size_t chunk, unsigned flags,
                  msgpack_sbuffer *out, char err[256])
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    json_reader *r = json_reader_new(flags, pack_record, &pk);
    bool ok = true;
    for (size_t i = 0; ok && i < len; i += chunk)
        ok = json_reader_feed(r, text + i, len - i < chunk ? len - i : chunk);
    ok = ok && json_reader_finish(r);
    strcpy(err, ok ? "" : json_reader_error(r));
    json_reader_free(r);
    return ok;
}

static bool same(const msgpack_sbuffer *a, const msgpack_sbuffer *b)
{
    return a->size == b->size && (a->size == 0 || memcmp(a->data, b->data, a->size) == 0);
}

static void check(const char *data, size_t size, unsigned flags)
{
    msgpack_sbuffer whole, pieces, again;
    msgpack_sbuffer_init(&whole);
    msgpack_sbuffer_init(&pieces);
    msgpack_sbuffer_init(&again);
    char err_whole[256], err_pieces[256], err_again[256];
    bool ok = parse(data, size, size ? size : 1, flags, &whole, err_whole);
    bool ok_pieces = parse(data, size, size % 7 + 1, flags, &pieces, err_pieces);
    if (ok != ok_pieces || !same(&whole, &pieces) || strcmp(err_whole, err_pieces) != 0)
        abort();
    if (ok) {
        /* the records as JSON Lines, as mp2json writes them */
        json_buf text = {0};
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        size_t off = 0;
        while (msgpack_unpack_next(&u, whole.data, whole.size, &off) == MSGPACK_UNPACK_SUCCESS) {
            json_emit(&text, &u.data, size & 1 ? JSON_PRETTY : 0);
            json_buf_put(&text, "\n", 1);
        }
        if (off != whole.size)
            abort();
        if (!parse(text.p, text.len, 5, flags, &again, err_again) || !same(&whole, &again))
            abort();
        msgpack_unpacked_destroy(&u);
        json_buf_free(&text);
    }
    msgpack_sbuffer_destroy(&whole);
    msgpack_sbuffer_destroy(&pieces);
    msgpack_sbuffer_destroy(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check((const char *)data, size, 0);
    check((const char *)data, size, JSON_F32);
    return 0;
}
