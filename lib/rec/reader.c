/* Reading record streams.  zlib's gzread() gives transparent gzip (plain input passes
 * through unchanged).  Records are parsed with msgpack_unpack() straight out of one large
 * buffer, with one reused zone, so a record costs no allocation and its strings point
 * into the buffer.  When a record is cut by the end of the buffer, the unparsed tail moves
 * to the front (the previous record is given up by then) and more is read; a record
 * larger than the buffer doubles it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/err.h"
#include "rec/rec.h"

enum { INITIAL_BUFFER = 1 << 20 };

struct rec_reader {
    gzFile gz;
    char *name;
    char *buf;
    size_t cap, len, off; /* buf[off, len) is read but not yet parsed */
    size_t base;          /* stream offset of buf[0] (after decompression) */
    msgpack_zone zone;
    msgpack_object obj;
    uint64_t count; /* records returned so far */
    bool eof;
};

rec_reader *rec_open_fd(int fd, const char *name)
{
    rec_reader *in = xcalloc(1, sizeof *in);
    in->name = xstrdup(name);
    in->gz = gzdopen(fd, "rb");
    if (!in->gz)
        die(EX_OSERR, "%s: cannot set up reading", name);
    gzbuffer(in->gz, 1 << 17);
    in->cap = INITIAL_BUFFER;
    in->buf = xmalloc(in->cap);
    if (!msgpack_zone_init(&in->zone, 1 << 16))
        die(EX_OSERR, "out of memory");
    return in;
}

rec_reader *rec_open(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return rec_open_fd(dup(STDIN_FILENO), "<stdin>");
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(errno == ENOENT || errno == EACCES ? EX_NOINPUT : EX_IOERR, "%s: cannot open: %s",
            path, strerror(errno));
    return rec_open_fd(fd, path);
}

const char *rec_input_name(const rec_reader *in) { return in->name; }

/* zlib prefixes its messages with "<fd:N>: ". */
static const char *gz_message(gzFile gz, int *code)
{
    const char *msg = gzerror(gz, code);
    const char *colon = strncmp(msg, "<fd:", 4) == 0 ? strstr(msg, ": ") : NULL;
    return colon ? colon + 2 : msg;
}

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
    size_t want = in->cap - in->len;
    int n = gzread(in->gz, in->buf + in->len, want > (1u << 30) ? 1u << 30 : (unsigned)want);
    int code;
    const char *msg = gz_message(in->gz, &code);
    if (n < 0 || (n == 0 && code != Z_OK)) {
        if (code == Z_ERRNO)
            die(EX_IOERR, "%s: read failed: %s", in->name, strerror(errno));
        die(EX_DATAERR, "%s: bad gzip data: %s", in->name, msg);
    }
    if (n == 0) {
        in->eof = true;
        return false;
    }
    in->len += (size_t)n;
    return true;
}

bool rec_next(rec_reader *in, rec *r)
{
    for (;;) {
        size_t start = in->off;
        msgpack_zone_clear(&in->zone);
        msgpack_unpack_return ret =
            msgpack_unpack(in->buf, in->len, &in->off, &in->zone, &in->obj);
        if (ret == MSGPACK_UNPACK_SUCCESS || ret == MSGPACK_UNPACK_EXTRA_BYTES) {
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
        in->off = start;
        size_t at = in->base + start;
        if (ret == MSGPACK_UNPACK_CONTINUE) {
            if (fill(in))
                continue;
            if (in->off == in->len)
                return false;
            die(EX_DATAERR, "%s: record %llu (byte %zu): truncated: the stream ends inside it",
                in->name, (unsigned long long)in->count + 1, at);
        }
        if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
            die(EX_DATAERR, "%s: record %llu (byte %zu): a length field claims more memory "
                "than there is", in->name, (unsigned long long)in->count + 1, at);
        die(EX_DATAERR, "%s: record %llu (byte %zu): not valid msgpack", in->name,
            (unsigned long long)in->count + 1, at);
    }
}

void rec_close(rec_reader *in)
{
    if (!in)
        return;
    msgpack_zone_destroy(&in->zone);
    gzclose(in->gz);
    free(in->buf);
    free(in->name);
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
    die(EX_DATAERR, "%s: record %llu: %s", r->from ? r->from->name : "<input>",
        (unsigned long long)r->index, msg);
}
