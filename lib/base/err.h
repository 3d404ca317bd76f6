/* err: the one error path of every runnel tool.
 *
 * Messages go to stderr as "tool: where: what" (where is optional and names a file,
 * record, line or byte offset).  die() exits with a sysexits(3) code; nothing else in
 * runnel calls exit() on failure.  Tools set the program name once with err_init(). */
#ifndef RUNNEL_BASE_ERR_H
#define RUNNEL_BASE_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <sysexits.h>

extern const char *err_prog; /* name printed before every message */

void err_init(const char *argv0);

/* Print "tool: <fmt>" and exit with code (EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_SOFTWARE,
 * EX_IOERR ...). */
_Noreturn void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void vdie(int code, const char *fmt, va_list ap);

/* Same message form, no exit. */
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Functions run, newest first, before die() exits (e.g. removing half-written files). */
void err_on_exit(void (*fn)(void));

/* For tests and fuzz targets only: die() calls fn(code) instead of exit(); fn must not
 * return (it longjmps back to the harness). */
void err_set_exit_hook(void (*fn)(int code));

/* Allocation that never returns NULL: out of memory is an internal error (EX_OSERR). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
