#include "chem/text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/err.h"

void chem_src_init(chem_src *s, const char *text, size_t len, const char *name)
{
    *s = (chem_src){text, len, 0, 0, name};
}

/* The next line (without its newline or carriage return) or false at the end. */
bool src_line(chem_src *s, const char **line, size_t *len)
{
    if (s->pos >= s->len)
        return false;
    const char *p = s->text + s->pos;
    const char *nl = memchr(p, '\n', s->len - s->pos);
    size_t n = nl ? (size_t)(nl - p) : s->len - s->pos;
    s->pos += n + (nl != NULL);
    s->line++;
    if (n && p[n - 1] == '\r')
        n--;
    *line = p, *len = n;
    return true;
}

/* Copy columns [from, to] (1-based, inclusive) of a line, trimmed, into out. */
void column(const char *line, size_t len, size_t from, size_t to, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t c = from; c <= to && c <= len && n + 1 < cap; c++)
        out[n++] = line[c - 1];
    out[n] = '\0';
    size_t a = 0;
    while (a < n && isspace((unsigned char)out[a]))
        a++;
    while (n > a && isspace((unsigned char)out[n - 1]))
        n--;
    memmove(out, out + a, n - a);
    out[n - a] = '\0';
}

bool parse_double(const char *s, double *v)
{
    char *end;
    if (!*s)
        return false;
    *v = strtod(s, &end);
    return *end == '\0' && *v == *v && *v < 1e9 && *v > -1e9;
}

void buf_printf(chem_buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->n;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
        va_end(ap);
        if (k < 0)
            die(EX_SOFTWARE, "buf_printf: bad format");
        if ((size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        b->cap = 2 * b->cap + (size_t)k + 256;
        b->p = xrealloc(b->p, b->cap);
    }
}

void buf_free(chem_buf *b)
{
    free(b->p);
    *b = (chem_buf){0};
}

int chem_format_of(const char *path)
{
    static const struct {
        const char *ext;
        int fmt;
    } exts[] = {{".pdbqt", FMT_PDBQT}, {".pdb", FMT_PDB}, {".ent", FMT_PDB}, {".sdf", FMT_SDF},
                {".sd", FMT_SDF},      {".mol", FMT_SDF}, {".xyz", FMT_XYZ}};
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
        n -= 3;
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        size_t e = strlen(exts[i].ext);
        if (n > e && strncasecmp(path + n - e, exts[i].ext, e) == 0)
            return exts[i].fmt;
    }
    return FMT_NONE;
}

int chem_next(int format, chem_src *s, chem_mol *m, chem_error *err)
{
    switch (format) {
    case FMT_PDBQT: return pdbqt_next(s, m, err);
    case FMT_PDB: return pdb_next(s, m, err);
    case FMT_SDF: return sdf_next(s, m, err);
    case FMT_XYZ: return xyz_next(s, m, err);
    }
    chem_fail(err, "%s: unknown molecule format", s->name);
    return -1;
}

char *chem_slurp(const char *path, size_t *len)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        die(EX_NOINPUT, "%s: cannot open", path);
    size_t cap = 1 << 16, n = 0;
    char *p = xmalloc(cap);
    for (;;) {
        if (cap - n < 1 << 15)
            p = xrealloc(p, cap *= 2);
        int k = gzread(f, p + n, (unsigned)(cap - n - 1));
        if (k < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            die(EX_IOERR, "%s: read error: %s", path, msg);
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    gzclose(f);
    p[n] = '\0';
    *len = n;
    return p;
}
