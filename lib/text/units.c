/* Cutting text into units.  Complete lines are handled where they lie in the caller's block;
 * only a line cut by a block boundary is copied, into `partial`.  Paragraphs are gathered
 * into `unit` line by line, so memory grows with the longest paragraph, not the text. */
#include "text/units.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static void append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n)
            c *= 2;
        *buf = xrealloc(*buf, c);
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
}

void units_init(units *u, const units_opts *opt, units_emit_fn emit, void *ctx)
{
    *u = (units){.opt = *opt, .emit = emit, .ctx = ctx};
    u->seplen = opt->sep ? strlen(opt->sep) : 0;
}

static void emit(units *u, const char *text, size_t len, uint64_t line)
{
    if (len >= u->opt.min_bytes)
        u->emit(u->ctx, text, len, line);
}

static void close_para(units *u)
{
    if (u->unit_line)
        emit(u, u->unit, u->unit_len, u->unit_line);
    u->unit_line = 0;
    u->unit_len = 0;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\v' && s[i] != '\f')
            return false;
    return true;
}

static bool separates(const units *u, const char *s, size_t n)
{
    if (u->opt.sep)
        return n == u->seplen && memcmp(s, u->opt.sep, n) == 0;
    return blank(s, n);
}

/* One complete line, its "\n" already removed. */
static void line(units *u, const char *s, size_t n)
{
    u->lines++;
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (u->opt.unit == UNIT_LINE) {
        emit(u, s, n, u->lines);
    } else if (separates(u, s, n)) {
        close_para(u);
    } else {
        if (u->unit_line)
            append(&u->unit, &u->unit_len, &u->unit_cap, "\n", 1);
        else
            u->unit_line = u->lines;
        append(&u->unit, &u->unit_len, &u->unit_cap, s, n);
    }
}

void units_feed(units *u, const void *data, size_t n)
{
    const char *p = data, *end = p + n;
    if (u->opt.unit == UNIT_FILE) {
        append(&u->unit, &u->unit_len, &u->unit_cap, p, n);
        return;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            append(&u->partial, &u->partial_len, &u->partial_cap, p, (size_t)(end - p));
            return;
        }
        if (u->partial_len) {
            append(&u->partial, &u->partial_len, &u->partial_cap, p, (size_t)(nl - p));
            line(u, u->partial, u->partial_len);
            u->partial_len = 0;
        } else {
            line(u, p, (size_t)(nl - p));
        }
        p = nl + 1;
    }
}

void units_end(units *u)
{
    if (u->opt.unit == UNIT_FILE) {
        emit(u, u->unit ? u->unit : "", u->unit_len, 1);
        u->unit_len = 0;
        return;
    }
    if (u->partial_len) {
        line(u, u->partial, u->partial_len);
        u->partial_len = 0;
    }
    close_para(u);
    u->lines = 0;
}

void units_free(units *u)
{
    free(u->partial);
    free(u->unit);
    *u = (units){0};
}
