#include "base/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/err.h"

struct input {
    gzFile gz;
    char *name;
};

input *input_open_fd(int fd, const char *name)
{
    input *in = xcalloc(1, sizeof *in);
    in->name = xstrdup(name);
    in->gz = gzdopen(fd, "rb");
    if (!in->gz)
        die(EX_OSERR, "%s: cannot set up reading", name);
    gzbuffer(in->gz, 1 << 17);
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

/* zlib prefixes its messages with "<fd:N>: ". */
static const char *gz_message(gzFile gz, int *code)
{
    const char *msg = gzerror(gz, code);
    const char *colon = strncmp(msg, "<fd:", 4) == 0 ? strstr(msg, ": ") : NULL;
    return colon ? colon + 2 : msg;
}

size_t input_read(input *in, void *buf, size_t n)
{
    unsigned want = n > (1u << 30) ? 1u << 30 : (unsigned)n;
    int got = gzread(in->gz, buf, want);
    int code = Z_OK;
    const char *msg = got > 0 ? NULL : gz_message(in->gz, &code);
    if (got < 0 && code == Z_ERRNO)
        die(EX_IOERR, "%s: read failed: %s", in->name, strerror(errno));
    /* a gzip stream cut short is reported only by the read that reaches its end */
    if (got <= 0 && code != Z_OK)
        die(code == Z_ERRNO ? EX_IOERR : EX_DATAERR, "%s: bad gzip data: %s", in->name, msg);
    return got > 0 ? (size_t)got : 0;
}

void input_close(input *in)
{
    if (!in)
        return;
    gzclose(in->gz);
    free(in->name);
    free(in);
}
