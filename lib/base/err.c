#include "base/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *err_prog = "runnel";

void err_init(const char *argv0)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    err_prog = slash ? slash + 1 : (argv0 && *argv0 ? argv0 : "runnel");
}

static void (*exit_hook)(int);

void err_set_exit_hook(void (*fn)(int code)) { exit_hook = fn; }

enum { MAX_EXIT_FNS = 8 };
static void (*exit_fns[MAX_EXIT_FNS])(void);
static int n_exit_fns;

void err_on_exit(void (*fn)(void))
{
    for (int i = 0; i < n_exit_fns; i++)
        if (exit_fns[i] == fn)
            return;
    if (n_exit_fns == MAX_EXIT_FNS)
        die(EX_SOFTWARE, "too many exit handlers");
    exit_fns[n_exit_fns++] = fn;
}

_Noreturn void vdie(int code, const char *fmt, va_list ap)
{
    fflush(stdout);
    fprintf(stderr, "%s: ", err_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    /* Handlers stay registered: a harness that catches die() (err_set_exit_hook) goes on
     * with them in place.  A handler that dies itself is not run again. */
    static int running;
    if (!running++)
        for (int i = n_exit_fns - 1; i >= 0; i--)
            exit_fns[i]();
    running--;
    if (exit_hook)
        exit_hook(code);
    exit(code);
}

_Noreturn void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdie(code, fmt, ap);
}

void warnx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", err_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die(EX_OSERR, "out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die(EX_OSERR, "out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die(EX_OSERR, "out of memory (%zu bytes)", n);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}
