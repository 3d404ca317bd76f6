/* Reading record streams: zlib's gzread() gives transparent gzip (and plain input is passed
 * through unchanged), msgpack-c's unpacker parses incrementally from large reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/err.h"
#include "rec/rec.h"

enum { READ_CHUNK = 1 << 20 };

struct rec_reader {
    gzFile gz;
    char *name;
    msgpack_unpacker up;
    msgpack_unpacked result;
    uint64_t count; /* records returned so far */
    size_t start;   /* byte offset where the next record starts (after decompression) */
    bool eof;
};

rec_reader *rec_open_fd(int fd, const char *name)
{
    rec_reader *in = xcalloc(1, sizeof *in);
    in->name = xstrdup(name);
    in->gz = gzdopen(fd, "rb");
    if (!in->gz)
        die(EX_OSERR, "%s: cannot set up reading", name);
    gzbuffer(in->gz, 1 << 18);
    if (!msgpack_unpacker_init(&in->up, READ_CHUNK))
        die(EX_OSERR, "out of memory");
    msgpack_unpacked_init(&in->result);
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

/* Bytes buffered but not yet returned as a record. */
static size_t unparsed(const rec_reader *in) { return in->up.used - in->up.off; }

/* Read more input into the unpacker; false at end of input. */
static bool fill(rec_reader *in)
{
    if (in->eof)
        return false;
    if (!msgpack_unpacker_reserve_buffer(&in->up, READ_CHUNK))
        die(EX_OSERR, "%s: out of memory while buffering a record", in->name);
    int n = gzread(in->gz, msgpack_unpacker_buffer(&in->up),
                   (unsigned)msgpack_unpacker_buffer_capacity(&in->up));
    if (n < 0) {
        int code;
        const char *msg = gz_message(in->gz, &code);
        if (code == Z_ERRNO)
            die(EX_IOERR, "%s: read failed: %s", in->name, strerror(errno));
        die(EX_DATAERR, "%s: bad gzip data: %s", in->name, msg);
    }
    if (n == 0) {
        /* zlib reports a gzip stream cut short as an error only on the call that hits it. */
        int code;
        const char *msg = gz_message(in->gz, &code);
        if (code != Z_OK)
            die(EX_DATAERR, "%s: bad gzip data: %s", in->name, msg);
        in->eof = true;
        return false;
    }
    msgpack_unpacker_buffer_consumed(&in->up, (size_t)n);
    return true;
}

bool rec_next(rec_reader *in, rec *r)
{
    for (;;) {
        size_t size = 0;
        msgpack_unpack_return ret = msgpack_unpacker_next_with_size(&in->up, &in->result, &size);
        switch (ret) {
        case MSGPACK_UNPACK_SUCCESS:
            in->count++;
            in->start += size;
            r->from = in;
            r->index = in->count;
            if (in->result.data.type != MSGPACK_OBJECT_MAP) {
                r->map = NULL;
                rec_fail(r, "expected a map, found %s", rec_type_name(&in->result.data));
            }
            r->map = &in->result.data.via.map;
            for (uint32_t i = 0; i < r->map->size; i++)
                if (r->map->ptr[i].key.type != MSGPACK_OBJECT_STR)
                    rec_fail(r, "key %u is %s, expected a string", i + 1,
                             rec_type_name(&r->map->ptr[i].key));
            return true;
        case MSGPACK_UNPACK_CONTINUE:
            if (fill(in))
                continue;
            /* the unpacker consumes a partial record into its own state */
            if (unparsed(in) == 0 && msgpack_unpacker_parsed_size(&in->up) == 0)
                return false;
            die(EX_DATAERR, "%s: record %llu (byte %zu): truncated: the stream ends inside it",
                in->name, (unsigned long long)in->count + 1, in->start);
        case MSGPACK_UNPACK_NOMEM_ERROR:
            die(EX_DATAERR, "%s: record %llu (byte %zu): a length field claims more memory "
                "than there is", in->name, (unsigned long long)in->count + 1, in->start);
        default:
            die(EX_DATAERR, "%s: record %llu (byte %zu): not valid msgpack", in->name,
                (unsigned long long)in->count + 1, in->start);
        }
    }
}

void rec_close(rec_reader *in)
{
    if (!in)
        return;
    msgpack_unpacked_destroy(&in->result);
    msgpack_unpacker_destroy(&in->up);
    gzclose(in->gz);
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
