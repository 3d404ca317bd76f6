/* Inputs read with read(2), so that a read returns what a pipe holds instead of waiting for
 * a full buffer: `rl-trace | diagnose` reports while training runs.  Gzip is recognised
 * by its first two bytes and inflated with zlib's stream interface for the same reason
 * (gzread() waits until it has filled the caller's buffer). */
#include "base/input.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/err.h"

enum { RAW_CAP = 1 << 17 };

struct input {
    int fd;
    char *name;
    unsigned char *raw; /* compressed bytes, or the plain bytes read to sniff the magic */
    size_t raw_len, raw_off;
    bool raw_eof;
    bool sniffed, gzip;
    bool in_member; /* inside a gzip member: its end has not been seen */
    z_stream z;
};

input *input_open_fd(int fd, const char *name)
{
    input *in = xcalloc(1, sizeof *in);
    in->fd = fd;
    in->name = xstrdup(name);
    in->raw = xmalloc(RAW_CAP);
    return in;
}

input *input_open(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return input_open_fd(dup(STDIN_FILENO), "<stdin>");
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(errno == ENOENT || errno == EACCES || errno == ENOTDIR ? EX_NOINPUT : EX_IOERR,
            "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        die(EX_NOINPUT, "%s: is a directory", path);
    return input_open_fd(fd, path);
}

const char *input_name(const input *in) { return in->name; }

/* One read(2) of what is available, up to n bytes; 0 at end of input. */
static size_t read_some(input *in, void *buf, size_t n)
{
    if (n > INT_MAX)
        n = INT_MAX;
    for (;;) {
        ssize_t got = read(in->fd, buf, n);
        if (got >= 0)
            return (size_t)got;
        if (errno != EINTR)
            die(EX_IOERR, "%s: read failed: %s", in->name, strerror(errno));
    }
}

/* Make compressed bytes available unless the input has ended; false at its end. */
static bool refill_raw(input *in)
{
    if (in->raw_off < in->raw_len)
        return true;
    if (in->raw_eof)
        return false;
    in->raw_off = 0;
    in->raw_len = read_some(in, in->raw, RAW_CAP);
    in->raw_eof = in->raw_len == 0;
    return !in->raw_eof;
}

/* Read until two bytes are buffered (or the input ends) and decide whether it is gzip. */
static void sniff(input *in)
{
    while (in->raw_len < 2 && !in->raw_eof) {
        size_t got = read_some(in, in->raw + in->raw_len, RAW_CAP - in->raw_len);
        in->raw_len += got;
        in->raw_eof = got == 0;
    }
    in->gzip = in->raw_len >= 2 && in->raw[0] == 0x1f && in->raw[1] == 0x8b;
    if (in->gzip && inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK)
        die(EX_OSERR, "%s: cannot set up gzip decompression", in->name);
    in->in_member = in->gzip;
    in->sniffed = true;
}

static size_t read_plain(input *in, void *buf, size_t n)
{
    if (in->raw_off < in->raw_len) {
        size_t k = in->raw_len - in->raw_off < n ? in->raw_len - in->raw_off : n;
        memcpy(buf, in->raw + in->raw_off, k);
        in->raw_off += k;
        return k;
    }
    return in->raw_eof ? 0 : read_some(in, buf, n);
}

_Noreturn static void bad_gzip(const input *in, const char *what)
{
    die(EX_DATAERR, "%s: bad gzip data: %s", in->name, what);
}

/* Inflate into buf until something is produced or the input ends.  Members may follow one
 * another (as `cat a.gz b.gz` makes them); anything else after a member is an error. */
static size_t read_gzip(input *in, void *buf, size_t n)
{
    in->z.next_out = buf;
    in->z.avail_out = n > UINT_MAX ? UINT_MAX : (unsigned)n;
    for (;;) {
        if (!refill_raw(in)) {
            if (in->in_member)
                bad_gzip(in, "unexpected end of file");
            return 0;
        }
        if (!in->in_member) { /* a member ended and more bytes follow */
            if (in->raw[in->raw_off] != 0x1f)
                bad_gzip(in, "data after the end of the compressed stream");
            if (inflateReset(&in->z) != Z_OK)
                die(EX_SOFTWARE, "%s: cannot restart gzip decompression", in->name);
            in->in_member = true;
        }
        in->z.next_in = in->raw + in->raw_off;
        in->z.avail_in = (unsigned)(in->raw_len - in->raw_off);
        int ret = inflate(&in->z, Z_NO_FLUSH);
        in->raw_off = in->raw_len - in->z.avail_in;
        if (ret == Z_STREAM_END)
            in->in_member = false;
        else if (ret == Z_MEM_ERROR)
            die(EX_OSERR, "%s: out of memory inflating gzip data", in->name);
        else if (ret != Z_OK && ret != Z_BUF_ERROR)
            bad_gzip(in, in->z.msg ? in->z.msg : "corrupt data");
        size_t produced = (size_t)((unsigned char *)in->z.next_out - (unsigned char *)buf);
        if (produced > 0)
            return produced;
    }
}

size_t input_read(input *in, void *buf, size_t n)
{
    if (n == 0)
        return 0;
    if (!in->sniffed)
        sniff(in);
    return in->gzip ? read_gzip(in, buf, n) : read_plain(in, buf, n);
}

bool input_ready(const input *in)
{
    if (in->raw_off < in->raw_len || in->raw_eof)
        return true;
    if (in->gzip && in->z.avail_out == 0) /* inflate may hold output it had no room for */
        return true;
    struct pollfd p = {.fd = in->fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

void input_close(input *in)
{
    if (!in)
        return;
    if (in->gzip)
        inflateEnd(&in->z);
    close(in->fd);
    free(in->raw);
    free(in->name);
    free(in);
}
