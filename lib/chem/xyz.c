/* XYZ: an atom count, a comment line, then "Element x y z" per atom; frames may
 * follow each other.  There are no bonds: a reader that needs them perceives them. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chem/io.h"
#include "chem/text.h"

int xyz_next(chem_src *s, chem_mol *m, chem_error *err)
{
    mol_clear(m);
    m->has_coords = true;
    const char *line;
    size_t len;
    char f[32];
    do
        if (!src_line(s, &line, &len))
            return 0;
    while (len == 0);
    column(line, len, 1, len, f, sizeof f);
    char *end;
    long n = strtol(f, &end, 10);
    if (!*f || *end || n < 1 || n > 1000000)
        return chem_fail(err, "%s: line %u: expected an atom count, found \"%s\"", s->name, s->line, f), -1;
    if (!src_line(s, &line, &len))
        return chem_fail(err, "%s: line %u: no comment line", s->name, s->line), -1;
    column(line, len, 1, len < 80 ? len : 80, m->title, sizeof m->title);
    for (long i = 0; i < n; i++) {
        if (!src_line(s, &line, &len))
            return chem_fail(err, "%s: line %u: %ld atoms announced, %ld found", s->name, s->line, n, i), -1;
        char buf[256], sym[8], xs[3][64];
        size_t k = len < sizeof buf - 1 ? len : sizeof buf - 1;
        memcpy(buf, line, k);
        buf[k] = '\0';
        chem_atom *a = mol_add_atom(m);
        a->line = s->line;
        if (sscanf(buf, "%7s %63s %63s %63s", sym, xs[0], xs[1], xs[2]) != 4)
            return chem_fail(err, "%s: line %u: atom %ld: expected an element and three coordinates",
                             s->name, s->line, i + 1), -1;
        if (isdigit((unsigned char)sym[0]))
            a->z = (uint8_t)atoi(sym);
        else {
            sym[0] = (char)toupper((unsigned char)sym[0]);
            if (sym[1])
                sym[1] = (char)tolower((unsigned char)sym[1]);
            a->z = (uint8_t)element_from_symbol(sym, strlen(sym));
        }
        if (a->z < 1 || a->z > 118)
            return chem_fail(err, "%s: line %u: atom %ld: unknown element \"%s\"", s->name, s->line,
                             i + 1, sym), -1;
        for (int c = 0; c < 3; c++)
            if (!parse_double(xs[c], &a->xyz[c]))
                return chem_fail(err, "%s: line %u: atom %ld: coordinate \"%s\" is not a number",
                                 s->name, s->line, i + 1, xs[c]), -1;
    }
    return 1;
}
