#include "base/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"

struct outfile {
    int fd;
    char *path;     /* target */
    char *tmp;      /* temporary name, NULL for stdout */
    outfile *next;  /* list of uncommitted files, for cleanup */
};

static outfile *pending;

static mode_t current_umask(void)
{
    mode_t m = umask(0);
    umask(m);
    return m;
}

static void remove_pending(void)
{
    for (outfile *f = pending; f; f = f->next)
        if (f->tmp)
            unlink(f->tmp);
}

static void on_signal(int sig)
{
    remove_pending();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void watch(outfile *f)
{
    static bool installed;
    if (!installed) {
        err_on_exit(remove_pending);
        int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
        for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
            struct sigaction old;
            sigaction(sigs[i], NULL, &old);
            if (old.sa_handler == SIG_DFL)
                signal(sigs[i], on_signal);
        }
        installed = true;
    }
    f->next = pending;
    pending = f;
}

static void unwatch(outfile *f)
{
    for (outfile **p = &pending; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            return;
        }
}

outfile *outfile_open(const char *path)
{
    outfile *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    if (strcmp(path, "-") == 0) {
        f->fd = STDOUT_FILENO;
        return f;
    }
    /* A FIFO, a device or /dev/null is written directly: renaming over it would replace
     * it with a regular file. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        f->fd = open(path, O_WRONLY);
        if (f->fd < 0)
            die(EX_CANTCREAT, "%s: cannot open for writing: %s", path, strerror(errno));
        return f;
    }
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    size_t n = dirlen + strlen(base) + 16;
    f->tmp = xmalloc(n);
    snprintf(f->tmp, n, "%.*s.%s.XXXXXX", (int)dirlen, path, base);
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0)
        die(EX_CANTCREAT, "%s: cannot create: %s", path, strerror(errno));
    fchmod(f->fd, 0666 & ~current_umask());
    watch(f);
    return f;
}

int outfile_fd(const outfile *f) { return f->fd; }
const char *outfile_name(const outfile *f) { return f->path; }

static void free_outfile(outfile *f)
{
    free(f->path);
    free(f->tmp);
    free(f);
}

void outfile_commit(outfile *f)
{
    if (!f->tmp) {
        if (f->fd != STDOUT_FILENO && close(f->fd) != 0)
            die(EX_IOERR, "%s: write failed: %s", f->path, strerror(errno));
        free_outfile(f);
        return;
    }
    if (close(f->fd) != 0)
        die(EX_IOERR, "%s: write failed: %s", f->path, strerror(errno));
    if (rename(f->tmp, f->path) != 0)
        die(EX_IOERR, "%s: cannot rename into place: %s", f->path, strerror(errno));
    unwatch(f);
    free_outfile(f);
}

void outfile_abort(outfile *f)
{
    if (!f->tmp && f->fd != STDOUT_FILENO)
        close(f->fd);
    if (f->tmp) {
        close(f->fd);
        unlink(f->tmp);
        unwatch(f);
    }
    free_outfile(f);
}

void write_all(int fd, const void *buf, size_t len, const char *name)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die(EX_IOERR, "%s: write failed: %s", name, n < 0 ? strerror(errno) : "no progress");
        p += n;
        len -= (size_t)n;
    }
}
