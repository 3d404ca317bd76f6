/* SDF and MOL files: the V2000 connection table, V3000 when a record says so, and the
 * "> <name>" data items (skipped).  Molecules end with "$$$$" or the end of text. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chem/io.h"
#include "chem/text.h"

static bool starts(const char *line, size_t len, const char *tag)
{
    size_t n = strlen(tag);
    return len >= n && memcmp(line, tag, n) == 0;
}

/* Skip to just past the next "$$$$" after an error. */
static int skip_record(chem_src *s)
{
    const char *line;
    size_t len;
    while (src_line(s, &line, &len))
        if (starts(line, len, "$$$$"))
            break;
    return -1;
}

static bool int_field(const char *line, size_t len, size_t from, size_t to, long *v)
{
    char f[16], *end;
    column(line, len, from, to, f, sizeof f);
    *v = strtol(f, &end, 10);
    return *f && !*end;
}

static bool set_element(chem_atom *a, const char *sym)
{
    size_t n = strlen(sym);
    a->z = (uint8_t)element_from_symbol(sym, n);
    if (!a->z && n == 1 && (sym[0] == 'D' || sym[0] == 'T'))
        a->z = 1, a->isotope = sym[0] == 'D' ? 2 : 3;
    return a->z != 0;
}

static bool add_checked_bond(chem_src *s, chem_mol *m, long a, long b, long type, chem_error *err)
{
    if (a < 1 || b < 1 || (size_t)a > m->n_atoms || (size_t)b > m->n_atoms || a == b)
        return chem_fail(err, "%s: line %u: bond between atoms %ld and %ld of %zu", s->name, s->line,
                         a, b, m->n_atoms);
    if (type < 1 || type > 4)
        return chem_fail(err, "%s: line %u: bond type %ld (expected 1, 2, 3 or 4)", s->name, s->line, type);
    if (mol_find_bond(m, (uint32_t)(a - 1), (uint32_t)(b - 1)) >= 0)
        return chem_fail(err, "%s: line %u: second bond between atoms %ld and %ld", s->name, s->line, a, b);
    mol_add_bond(m, (uint32_t)(a - 1), (uint32_t)(b - 1), type == 4 ? BOND_AROMATIC : (uint8_t)type);
    if (type == 4)
        m->atoms[a - 1].aromatic = m->atoms[b - 1].aromatic = true;
    return true;
}

static bool read_v2000(chem_src *s, chem_mol *m, long na, long nb, chem_error *err)
{
    const char *line;
    size_t len;
    for (long i = 0; i < na; i++) {
        if (!src_line(s, &line, &len))
            return chem_fail(err, "%s: line %u: %ld atoms announced, %ld found", s->name, s->line, na, i);
        chem_atom *a = mol_add_atom(m);
        a->line = s->line;
        char f[16];
        for (int k = 0; k < 3; k++) {
            column(line, len, 1 + 10 * (size_t)k, 10 + 10 * (size_t)k, f, sizeof f);
            if (!parse_double(f, &a->xyz[k]))
                return chem_fail(err, "%s: line %u: atom %ld: coordinate \"%s\" is not a number",
                                 s->name, s->line, i + 1, f);
        }
        column(line, len, 32, 34, f, sizeof f);
        if (!set_element(a, f))
            return chem_fail(err, "%s: line %u: atom %ld: unknown element \"%s\"", s->name, s->line,
                             i + 1, f);
        long c = 0;
        if (int_field(line, len, 37, 39, &c) && c >= 1 && c <= 7 && c != 4)
            a->charge = (int8_t)(4 - c);
    }
    for (long i = 0; i < nb; i++) {
        long a, b, t;
        if (!src_line(s, &line, &len))
            return chem_fail(err, "%s: line %u: %ld bonds announced, %ld found", s->name, s->line, nb, i);
        if (!int_field(line, len, 1, 3, &a) || !int_field(line, len, 4, 6, &b) ||
            !int_field(line, len, 7, 9, &t))
            return chem_fail(err, "%s: line %u: malformed bond line", s->name, s->line);
        if (!add_checked_bond(s, m, a, b, t, err))
            return false;
    }
    bool charges_reset = false;
    while (src_line(s, &line, &len)) {
        if (starts(line, len, "M  END"))
            return true;
        bool chg = starts(line, len, "M  CHG"), iso = starts(line, len, "M  ISO");
        if (!chg && !iso)
            continue;
        if (chg && !charges_reset) { /* M  CHG replaces every atom-block charge */
            for (size_t k = 0; k < m->n_atoms; k++)
                m->atoms[k].charge = 0;
            charges_reset = true;
        }
        long n;
        if (!int_field(line, len, 7, 9, &n) || n < 0 || n > 8)
            return chem_fail(err, "%s: line %u: malformed property line", s->name, s->line);
        for (long k = 0; k < n; k++) {
            long at, v;
            size_t c = 11 + 8 * (size_t)k;
            if (!int_field(line, len, c, c + 2, &at) || !int_field(line, len, c + 4, c + 6, &v) ||
                at < 1 || (size_t)at > m->n_atoms)
                return chem_fail(err, "%s: line %u: malformed property line", s->name, s->line);
            if (chg)
                m->atoms[at - 1].charge = (int8_t)v;
            else
                m->atoms[at - 1].isotope = (uint16_t)v;
        }
    }
    return chem_fail(err, "%s: line %u: no \"M  END\"", s->name, s->line);
}

/* One logical V3000 line: "M  V30 " records joined across trailing '-'. */
static bool v30_line(chem_src *s, char *out, size_t cap)
{
    const char *line;
    size_t len, n = 0;
    out[0] = '\0';
    while (src_line(s, &line, &len)) {
        if (!starts(line, len, "M  V30 "))
            return false;
        line += 7, len -= 7;
        bool more = len && line[len - 1] == '-';
        size_t k = len - more;
        if (n + k + 1 > cap)
            return false;
        memcpy(out + n, line, k);
        n += k;
        out[n] = '\0';
        if (!more)
            return true;
    }
    return false;
}

static bool read_v3000(chem_src *s, chem_mol *m, chem_error *err)
{
    char buf[1024];
    long na = -1, nb = -1;
    while (v30_line(s, buf, sizeof buf))
        if (sscanf(buf, "COUNTS %ld %ld", &na, &nb) == 2)
            break;
    if (na < 0 || !v30_line(s, buf, sizeof buf) || strncmp(buf, "BEGIN ATOM", 10) != 0)
        return chem_fail(err, "%s: line %u: malformed V3000 connection table", s->name, s->line);
    for (long i = 0; i < na; i++) {
        char sym[8];
        long idx;
        chem_atom *a = mol_add_atom(m);
        int used = 0;
        if (!v30_line(s, buf, sizeof buf) ||
            sscanf(buf, "%ld %7s %lf %lf %lf %*d%n", &idx, sym, &a->xyz[0], &a->xyz[1], &a->xyz[2],
                   &used) < 5 || used == 0)
            return chem_fail(err, "%s: line %u: malformed V3000 atom %ld", s->name, s->line, i + 1);
        a->line = s->line;
        if (!set_element(a, sym))
            return chem_fail(err, "%s: line %u: atom %ld: unknown element \"%s\"", s->name, s->line,
                             i + 1, sym);
        const char *p;
        if ((p = strstr(buf + used, "CHG=")))
            a->charge = (int8_t)atoi(p + 4);
        if ((p = strstr(buf + used, "MASS=")))
            a->isotope = (uint16_t)atoi(p + 5);
    }
    if (!v30_line(s, buf, sizeof buf) || strncmp(buf, "END ATOM", 8) != 0)
        return chem_fail(err, "%s: line %u: expected END ATOM", s->name, s->line);
    if (nb > 0) {
        if (!v30_line(s, buf, sizeof buf) || strncmp(buf, "BEGIN BOND", 10) != 0)
            return chem_fail(err, "%s: line %u: expected BEGIN BOND", s->name, s->line);
        for (long i = 0; i < nb; i++) {
            long idx, t, a, b;
            if (!v30_line(s, buf, sizeof buf) || sscanf(buf, "%ld %ld %ld %ld", &idx, &t, &a, &b) != 4)
                return chem_fail(err, "%s: line %u: malformed V3000 bond", s->name, s->line);
            if (!add_checked_bond(s, m, a, b, t, err))
                return false;
        }
    }
    const char *line;
    size_t len;
    while (src_line(s, &line, &len))
        if (starts(line, len, "M  END"))
            return true;
    return chem_fail(err, "%s: line %u: no \"M  END\"", s->name, s->line);
}

int sdf_next(chem_src *s, chem_mol *m, chem_error *err)
{
    mol_clear(m);
    m->has_coords = true;
    const char *line;
    size_t len;
    /* Only whitespace left: the end, not a molecule with a blank title. */
    size_t rest = s->pos;
    while (rest < s->len && isspace((unsigned char)s->text[rest]))
        rest++;
    if (rest == s->len || !src_line(s, &line, &len))
        return 0;
    column(line, len, 1, len < 80 ? len : 80, m->title, sizeof m->title);
    const char *hdr[2];
    size_t hl[2];
    for (int k = 0; k < 2; k++)
        if (!src_line(s, &hdr[k], &hl[k]))
            return chem_fail(err, "%s: line %u: molecule header cut short", s->name, s->line), -1;
    if (!src_line(s, &line, &len))
        return chem_fail(err, "%s: line %u: no counts line", s->name, s->line), -1;
    long na, nb;
    if (!int_field(line, len, 1, 3, &na) || !int_field(line, len, 4, 6, &nb) || na < 0 || nb < 0)
        return chem_fail(err, "%s: line %u: malformed counts line", s->name, s->line), skip_record(s);
    bool v3000 = len >= 39 && memcmp(line + 34, "V3000", 5) == 0;
    if (!(v3000 ? read_v3000(s, m, err) : read_v2000(s, m, na, nb, err)))
        return skip_record(s);
    while (src_line(s, &line, &len))
        if (starts(line, len, "$$$$"))
            break;
    return 1;
}

void sdf_write(chem_buf *b, const chem_mol *m)
{
    buf_printf(b, "%s\n  runnel          3D\n\n", m->title);
    buf_printf(b, "%3zu%3zu  0  0  0  0  0  0  0  0999 V2000\n", m->n_atoms, m->n_bonds);
    for (size_t i = 0; i < m->n_atoms; i++) {
        const chem_atom *a = &m->atoms[i];
        int c = a->charge >= -3 && a->charge <= 3 && a->charge ? 4 - a->charge : 0;
        buf_printf(b, "%10.4f%10.4f%10.4f %-3s 0%3d  0  0  0  0  0  0  0  0  0  0\n", a->xyz[0],
                   a->xyz[1], a->xyz[2], element_symbol(a->z), c);
    }
    for (size_t i = 0; i < m->n_bonds; i++)
        buf_printf(b, "%3u%3u%3u  0\n", m->bonds[i].a + 1, m->bonds[i].b + 1,
                   m->bonds[i].order == BOND_AROMATIC ? 4u : m->bonds[i].order);
    for (size_t i = 0; i < m->n_atoms; i++)
        if (m->atoms[i].charge)
            buf_printf(b, "M  CHG  1 %3zu %3d\n", i + 1, m->atoms[i].charge);
    buf_printf(b, "M  END\n$$$$\n");
}
