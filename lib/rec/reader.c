/* Reading record streams from an input (lib/base/input: files, stdin, gzip).  Each record
 * is decoded (rec/decode.h) straight out of one large buffer into one reused zone, so a
 * record costs no allocation and its strings point into the buffer.  When a record is cut
 * by the end of the buffer, the unparsed tail moves to the front (the previous record is
 * given up by then), more is read and the record is decoded again from its start; a record
 * larger than the buffer doubles it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/input.h"
#include "rec/rec.h"
#include "rec/decode.h"

enum { INITIAL_BUFFER = 1 << 20 };

struct rec_reader {
    input *src;
    char *buf;
    size_t cap, len, off; /* buf[off, len) is read but not yet parsed */
    size_t base;          /* stream offset of buf[0] (after decompression) */
    msgpack_zone zone;
    msgpack_object obj;
    uint64_t count; /* records returned so far */
    bool eof;
};

static rec_reader *reader_on(input *src)
{
    rec_reader *in = xcalloc(1, sizeof *in);
    in->src = src;
    in->cap = INITIAL_BUFFER;
    in->buf = xmalloc(in->cap);
    if (!msgpack_zone_init(&in->zone, 1 << 16))
        die(EX_OSERR, "out of memory");
    return in;
}

rec_reader *rec_open_fd(int fd, const char *name) { return reader_on(input_open_fd(fd, name)); }
rec_reader *rec_open(const char *path) { return reader_on(input_open(path)); }
const char *rec_input_name(const rec_reader *in) { return input_name(in->src); }

/* Read more input after the unparsed bytes; false at end of input. */
static bool fill(rec_reader *in)
{
    if (in->eof)
        return false;
    if (in->off > 0) {
        memmove(in->buf, in->buf + in->off, in->len - in->off);
        in->base += in->off;
        in->len -= in->off;
        in->off = 0;
    }
    if (in->len == in->cap) {
        in->cap *= 2;
        in->buf = xrealloc(in->buf, in->cap);
    }
    size_t n = input_read(in->src, in->buf + in->len, in->cap - in->len);
    if (n == 0) {
        in->eof = true;
        return false;
    }
    in->len += n;
    return true;
}

bool rec_next(rec_reader *in, rec *r)
{
    size_t size;
    decode_result got;
    /* A record that is not whole yet is decoded again from its start, after more is read:
     * only once the bytes at hand have doubled while more are ready at once, so a large
     * record costs a few decodes instead of one per read of a pipe, and always before
     * the reader would wait for input, so a record is passed on as soon as it is whole. */
    size_t tried = 0; /* bytes at hand at the last decode that found the record cut */
    bool more = true;
    for (;;) {
        size_t avail = in->len - in->off;
        if (avail > tried &&
            (tried == 0 || !more || avail >= 2 * tried || !input_ready(in->src))) {
            msgpack_zone_clear(&in->zone);
            got = decode_object(in->buf + in->off, avail, &in->zone, &in->obj, &size);
            if (got != DECODE_INCOMPLETE)
                break;
            tried = avail;
        }
        if (!more) {
            if (avail == 0)
                return false;
            die(EX_DATAERR, "%s: record %llu (byte %zu): truncated: the stream ends inside it",
                rec_input_name(in), (unsigned long long)in->count + 1, in->base + in->off);
        }
        more = fill(in);
    }
    if (got == DECODE_NOMEM)
        die(EX_OSERR, "out of memory");
    if (got != DECODE_COMPLETE)
        die(EX_DATAERR, "%s: record %llu (byte %zu): %s", rec_input_name(in),
            (unsigned long long)in->count + 1, in->base + in->off,
            got == DECODE_TOO_DEEP ? "nested more than 32 deep" : "not valid msgpack");
    in->off += size;
    in->count++;
    r->from = in;
    r->index = in->count;
    if (in->obj.type != MSGPACK_OBJECT_MAP) {
        r->map = NULL;
        rec_fail(r, "expected a map, found %s", rec_type_name(&in->obj));
    }
    r->map = &in->obj.via.map;
    for (uint32_t i = 0; i < r->map->size; i++)
        if (r->map->ptr[i].key.type != MSGPACK_OBJECT_STR)
            rec_fail(r, "key %u is %s, expected a string", i + 1,
                     rec_type_name(&r->map->ptr[i].key));
    return true;
}

void rec_close(rec_reader *in)
{
    if (!in)
        return;
    msgpack_zone_destroy(&in->zone);
    input_close(in->src);
    free(in->buf);
    free(in);
}

/* ---- failure ---- */

static rec_fail_fn fail_handler;

void rec_set_fail_handler(rec_fail_fn fn) { fail_handler = fn; }

_Noreturn void rec_fail(const rec *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (fail_handler)
        fail_handler(r, msg);
    die(EX_DATAERR, "%s: record %llu: %s", r->from ? rec_input_name(r->from) : "<input>",
        (unsigned long long)r->index, msg);
}
