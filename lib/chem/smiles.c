#include "chem/smiles.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "chem/valence.h"

/* ---- parsing ---- */

/* DIRECTIONAL: a bond written / or \ (single, or aromatic between aromatic atoms). */
enum { MAX_RING = 1000, NO_BOND = 0, DIRECTIONAL = 6 };

typedef struct {
    long atom;          /* atom that opened the ring, -1 when free */
    uint8_t order;      /* bond written at the opening, 0 if none */
    size_t at;          /* offset of the opening digit */
} ring_open;

static uint8_t bond_order(char c)
{
    switch (c) {
    case '-': return 1;
    case '/': case '\\': return DIRECTIONAL;
    case '=': return 2;
    case '#': return 3;
    case '$': return 4;
    case ':': return BOND_AROMATIC;
    }
    return NO_BOND;
}

static bool aromatic_symbol(const char *s, size_t n)
{
    static const char *const arom[] = {"b", "c", "n", "o", "p", "s", "se", "as", "te"};
    for (size_t i = 0; i < sizeof arom / sizeof *arom; i++)
        if (strlen(arom[i]) == n && memcmp(arom[i], s, n) == 0)
            return true;
    return false;
}

/* An element symbol at s: the element (0 if none) and its length; aromatic set for
 * lower-case forms.  Bracket atoms may use any element; the organic subset is
 * B C N O P S F Cl Br I and b c n o p s. */
static int read_symbol(const char *s, size_t left, bool bracket, size_t *len, bool *aromatic)
{
    *aromatic = false;
    if (left == 0)
        return 0;
    if (islower((unsigned char)s[0])) {
        size_t n = bracket && left >= 2 && aromatic_symbol(s, 2) ? 2 : 1;
        if (!aromatic_symbol(s, n) || (!bracket && n == 1 && s[0] != 'b' && s[0] != 'c' &&
                                       s[0] != 'n' && s[0] != 'o' && s[0] != 'p' && s[0] != 's'))
            return 0;
        char up[3] = {(char)toupper((unsigned char)s[0]), n == 2 ? s[1] : '\0', '\0'};
        *aromatic = true;
        *len = n;
        return element_from_symbol(up, n);
    }
    if (!isupper((unsigned char)s[0]))
        return 0;
    if (!bracket) {
        if (left >= 2 && (memcmp(s, "Cl", 2) == 0 || memcmp(s, "Br", 2) == 0)) {
            *len = 2;
            return s[0] == 'C' ? 17 : 35;
        }
        *len = 1;
        return strchr("BCNOPSFI", s[0]) ? element_from_symbol(s, 1) : 0;
    }
    if (left >= 2 && islower((unsigned char)s[1]) && element_from_symbol(s, 2)) {
        *len = 2;
        return element_from_symbol(s, 2);
    }
    *len = 1;
    return element_from_symbol(s, 1);
}

static bool read_uint(const char *s, size_t len, size_t *i, unsigned *v, unsigned max)
{
    if (*i >= len || !isdigit((unsigned char)s[*i]))
        return false;
    unsigned x = 0;
    while (*i < len && isdigit((unsigned char)s[*i])) {
        x = x * 10 + (unsigned)(s[*i] - '0');
        if (x > max)
            return false;
        (*i)++;
    }
    *v = x;
    return true;
}

static bool parse_bracket(const char *s, size_t len, size_t *i, chem_atom *a, chem_error *err)
{
    size_t start = *i;
    (*i)++; /* '[' */
    unsigned v;
    if (*i < len && isdigit((unsigned char)s[*i])) {
        if (!read_uint(s, len, i, &v, 999))
            return chem_fail(err, "offset %zu: isotope too large", start + 1);
        a->isotope = (uint16_t)v;
    }
    size_t n;
    bool arom;
    if (*i < len && s[*i] == '*') {
        a->z = 0;
        (*i)++;
    } else {
        a->z = (uint8_t)read_symbol(s + *i, len - *i, true, &n, &arom);
        if (!a->z)
            return chem_fail(err, "offset %zu: unknown element in bracket atom", *i + 1);
        a->aromatic = arom;
        *i += n;
    }
    if (*i < len && s[*i] == '@') { /* chirality: accepted, not kept */
        (*i)++;
        static const char *const classes[] = {"TH", "AL", "SP", "TB", "OH"};
        if (*i < len && s[*i] == '@')
            (*i)++;
        else
            for (int k = 0; k < 5; k++)
                if (*i + 1 < len && memcmp(s + *i, classes[k], 2) == 0) {
                    *i += 2;
                    read_uint(s, len, i, &v, 30);
                    break;
                }
    }
    if (*i < len && s[*i] == 'H') {
        (*i)++;
        a->hcount = 1;
        if (*i < len && isdigit((unsigned char)s[*i]))
            a->hcount = (uint8_t)(s[(*i)++] - '0');
    }
    if (*i < len && (s[*i] == '+' || s[*i] == '-')) {
        char sign = s[(*i)++];
        int c = 1;
        if (*i < len && isdigit((unsigned char)s[*i])) {
            if (!read_uint(s, len, i, &v, 15))
                return chem_fail(err, "offset %zu: charge out of range", *i + 1);
            c = (int)v;
        } else
            while (*i < len && s[*i] == sign && c < 15)
                (*i)++, c++;
        a->charge = (int8_t)(sign == '+' ? c : -c);
    }
    if (*i < len && s[*i] == ':') {
        (*i)++;
        if (!read_uint(s, len, i, &v, 65535))
            return chem_fail(err, "offset %zu: atom class must be a number", *i + 1);
        a->aclass = (uint16_t)v;
    }
    if (*i >= len || s[*i] != ']')
        return chem_fail(err, "offset %zu: bracket atom opened here is not closed by ']'", start + 1);
    (*i)++;
    a->bracket = true;
    return true;
}

static bool add_bond(chem_mol *m, long a, long b, uint8_t order, size_t at, chem_error *err)
{
    if (a == b)
        return chem_fail(err, "offset %zu: ring bond from an atom to itself", at + 1);
    if (mol_find_bond(m, (uint32_t)a, (uint32_t)b) >= 0)
        return chem_fail(err, "offset %zu: second bond between atoms %ld and %ld", at + 1, a + 1, b + 1);
    /* Aromatic by default between aromatic atoms (a '*' goes with either), also when
     * written '/' or '\\'; ':' stays aromatic for mol_sanitize() to judge. */
    bool ar_a = m->atoms[a].aromatic || m->atoms[a].z == 0, ar_b = m->atoms[b].aromatic || m->atoms[b].z == 0;
    bool both = ar_a && ar_b && (m->atoms[a].aromatic || m->atoms[b].aromatic);
    if (order == NO_BOND || order == DIRECTIONAL)
        order = both ? BOND_AROMATIC : 1;
    mol_add_bond(m, (uint32_t)a, (uint32_t)b, order);
    return true;
}

bool smiles_parse(const char *s, size_t len, chem_mol *m, chem_error *err)
{
    mol_clear(m);
    ring_open *rings = xmalloc(MAX_RING * sizeof *rings);
    for (int k = 0; k < MAX_RING; k++)
        rings[k].atom = -1;
    long branch[256];
    size_t branch_at[256];
    bool branch_empty = false; /* '(' seen and no atom since */
    int depth = 0;
    long prev = -1;
    uint8_t bond = NO_BOND;
    size_t bond_at = 0;
    bool ok = true;
    if (len == 0)
        ok = chem_fail(err, "empty SMILES");
    for (size_t i = 0; ok && i < len;) {
        char c = s[i];
        if (c == '(') {
            if (prev < 0)
                ok = chem_fail(err, "offset %zu: branch before any atom", i + 1);
            else if (depth == 256)
                ok = chem_fail(err, "offset %zu: branches nested too deep", i + 1);
            else if (bond != NO_BOND)
                ok = chem_fail(err, "offset %zu: bond before '('", bond_at + 1);
            else if (branch_empty)
                ok = chem_fail(err, "offset %zu: branch opens another branch before any atom", i + 1);
            else
                branch_at[depth] = i, branch[depth++] = prev, branch_empty = true, i++;
        } else if (c == ')') {
            if (depth == 0)
                ok = chem_fail(err, "offset %zu: ')' without '('", i + 1);
            else if (bond != NO_BOND)
                ok = chem_fail(err, "offset %zu: bond with no atom after it", bond_at + 1);
            else if (branch_empty || prev < 0)
                ok = chem_fail(err, "offset %zu: branch without an atom", i + 1);
            else
                prev = branch[--depth], i++;
        } else if (bond_order(c) != NO_BOND) {
            if (bond != NO_BOND)
                ok = chem_fail(err, "offset %zu: two bonds in a row", i + 1);
            else if (prev < 0)
                ok = chem_fail(err, "offset %zu: bond before any atom", i + 1);
            bond = bond_order(c), bond_at = i++;
        } else if (c == '.') {
            if (bond != NO_BOND || prev < 0 || branch_empty)
                ok = chem_fail(err, "offset %zu: '.' needs an atom on each side", i + 1);
            prev = -1, i++;
        } else if (isdigit((unsigned char)c) || c == '%') {
            size_t at = i;
            unsigned n;
            if (c == '%') {
                i++;
                if (i < len && s[i] == '(') {
                    i++;
                    if (!read_uint(s, len, &i, &n, MAX_RING - 1) || i >= len || s[i] != ')') {
                        ok = chem_fail(err, "offset %zu: bad ring number after '%%('", at + 1);
                        break;
                    }
                    i++;
                } else if (i + 1 < len && isdigit((unsigned char)s[i]) && isdigit((unsigned char)s[i + 1])) {
                    n = (unsigned)((s[i] - '0') * 10 + s[i + 1] - '0');
                    i += 2;
                } else {
                    ok = chem_fail(err, "offset %zu: '%%' needs two digits", at + 1);
                    break;
                }
            } else {
                n = (unsigned)(c - '0');
                i++;
            }
            if (prev < 0 || branch_empty) {
                ok = chem_fail(err, "offset %zu: ring number without an atom before it", at + 1);
            } else if (rings[n].atom < 0) {
                rings[n] = (ring_open){prev, bond, at};
            } else {
                uint8_t o = bond;
                if (o != NO_BOND && rings[n].order != NO_BOND && o != rings[n].order)
                    ok = chem_fail(err, "offset %zu: ring %u closed with a different bond", at + 1, n);
                else
                    ok = add_bond(m, rings[n].atom, prev, o != NO_BOND ? o : rings[n].order, at, err);
                rings[n].atom = -1;
            }
            bond = NO_BOND;
        } else {
            chem_atom *a = mol_add_atom(m);
            a->line = (uint32_t)i + 1;
            if (c == '[') {
                ok = parse_bracket(s, len, &i, a, err);
            } else if (c == '*') {
                a->z = 0, i++;
            } else {
                size_t n;
                bool arom;
                a->z = (uint8_t)read_symbol(s + i, len - i, false, &n, &arom);
                if (!a->z) {
                    ok = chem_fail(err, "offset %zu: unexpected character '%c'", i + 1,
                                   isprint((unsigned char)c) ? c : '?');
                    break;
                }
                a->aromatic = arom;
                i += n;
            }
            long idx = (long)m->n_atoms - 1;
            if (ok && prev >= 0)
                ok = add_bond(m, prev, idx, bond, i, err);
            prev = idx, bond = NO_BOND, branch_empty = false;
        }
    }
    if (ok && prev < 0 && m->n_atoms > 0)
        ok = chem_fail(err, "offset %zu: '.' with no atom after it", len);
    if (ok && bond != NO_BOND)
        ok = chem_fail(err, "offset %zu: bond with no atom after it", bond_at + 1);
    if (ok && depth > 0)
        ok = chem_fail(err, "offset %zu: branch '(' not closed", branch_at[depth - 1] + 1);
    for (int k = 0; ok && k < MAX_RING; k++)
        if (rings[k].atom >= 0)
            ok = chem_fail(err, "offset %zu: ring %d not closed", rings[k].at + 1, k);
    free(rings);
    return ok;
}

bool smiles_valid(const char *s, size_t len, chem_mol *m, chem_error *err)
{
    return smiles_parse(s, len, m, err) && mol_sanitize(m, err);
}

/* ---- writing ---- */

/* Canonical ranks: refine atom invariants by neighbour ranks until stable, then break
 * ties one atom at a time. */
static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

static const uint64_t *sort_key;
static int by_key(const void *a, const void *b)
{
    uint64_t x = sort_key[*(const uint32_t *)a], y = sort_key[*(const uint32_t *)b];
    return x < y ? -1 : x > y;
}

/* Turn keys into dense ranks 0..; returns the number of distinct ranks. */
static size_t rank_by(uint64_t *key, uint32_t *rank, uint32_t *order, size_t n)
{
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    sort_key = key;
    qsort(order, n, sizeof *order, by_key);
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && key[order[i]] != key[order[i - 1]])
            r++;
        rank[order[i]] = (uint32_t)r;
    }
    return n ? r + 1 : 0;
}

static int bond_code(const chem_mol *m, const bool *arom, uint32_t b)
{
    return arom[b] ? BOND_AROMATIC : m->bonds[b].order;
}

static void refine(const chem_mol *m, const chem_adj *g, const bool *arom, uint32_t *rank, uint32_t *order,
                   uint64_t *key)
{
    size_t n = m->n_atoms, classes = 0;
    for (;;) {
        for (uint32_t i = 0; i < n; i++) {
            uint64_t nb[64];
            size_t k = 0;
            for (uint32_t t = g->start[i]; t < g->start[i + 1] && k < 64; t++)
                nb[k++] = ((uint64_t)rank[g->nbr[t]] << 8) | (uint64_t)bond_code(m, arom, g->nbond[t]);
            for (size_t a = 1; a < k; a++) /* insertion sort: degrees are small */
                for (size_t b = a; b > 0 && nb[b - 1] > nb[b]; b--) {
                    uint64_t tmp = nb[b];
                    nb[b] = nb[b - 1], nb[b - 1] = tmp;
                }
            uint64_t h = rank[i];
            for (size_t a = 0; a < k; a++)
                h = mix(h, nb[a]);
            /* Keep the old order as the major key so refinement only splits classes. */
            key[i] = ((uint64_t)rank[i] << 40) | (h >> 24);
        }
        size_t c = rank_by(key, rank, order, n);
        if (c == classes)
            return;
        classes = c;
    }
}

static void canonical_ranks(const chem_mol *m, const chem_adj *g, const bool *arom, uint32_t *rank)
{
    size_t n = m->n_atoms;
    uint64_t *key = xmalloc((n + 1) * sizeof *key);
    uint32_t *order = xmalloc((n + 1) * sizeof *order);
    for (uint32_t i = 0; i < n; i++) {
        const chem_atom *a = &m->atoms[i];
        uint64_t k = (uint64_t)a->z;
        k = k * 16 + adj_degree(g, i);
        k = k * 8 + a->hcount;
        k = k * 32 + (uint64_t)(a->charge + 16);
        k = k * 2 + a->aromatic;
        k = k * 1024 + a->isotope;
        key[i] = k;
    }
    rank_by(key, rank, order, n);
    refine(m, g, arom, rank, order, key);
    for (;;) {
        /* Split the first tied class (in rank order) by promoting one of its atoms. */
        size_t i = 0;
        while (i + 1 < n && rank[order[i]] != rank[order[i + 1]])
            i++;
        if (i + 1 >= n)
            break;
        for (size_t j = 0; j < n; j++)
            key[j] = (uint64_t)rank[j] * 2 + (j == order[i + 1]);
        rank_by(key, rank, order, n);
        refine(m, g, arom, rank, order, key);
    }
    free(key);
    free(order);
}

typedef struct {
    const chem_mol *m;
    const chem_adj *g;
    const bool *arom;
    const uint32_t *rank;
    bool *seen;
    bool *closure;      /* (bonds) bond closes a ring */
    bool *used;         /* (bonds) bond already walked */
    int *digit;         /* (bonds) ring digit while open */
    bool digits[100];
    chem_buf *b;
} writer;

/* Neighbours of u in rank order, into out (at most 64). */
static size_t sorted_nbrs(const writer *w, uint32_t u, uint32_t *out)
{
    size_t k = 0;
    for (uint32_t t = w->g->start[u]; t < w->g->start[u + 1] && k < 64; t++)
        out[k++] = t;
    for (size_t a = 1; a < k; a++)
        for (size_t c = a; c > 0 && w->rank[w->g->nbr[out[c - 1]]] > w->rank[w->g->nbr[out[c]]]; c--) {
            uint32_t tmp = out[c];
            out[c] = out[c - 1], out[c - 1] = tmp;
        }
    return k;
}

/* First pass: mark the bonds that close rings, exactly as the writing pass walks. */
static void find_closures(writer *w, uint32_t u, long via)
{
    w->seen[u] = true;
    uint32_t nb[64];
    size_t k = sorted_nbrs(w, u, nb);
    for (size_t i = 0; i < k; i++) {
        uint32_t v = w->g->nbr[nb[i]], bd = w->g->nbond[nb[i]];
        if ((long)bd == via || w->used[bd])
            continue;
        w->used[bd] = true;
        if (w->seen[v])
            w->closure[bd] = true;
        else
            find_closures(w, v, bd);
    }
}

static void write_bond(writer *w, uint32_t bd)
{
    const chem_bond *x = &w->m->bonds[bd];
    if (w->arom[bd])
        return;
    switch (x->order) {
    case 1:
        if (w->m->atoms[x->a].aromatic && w->m->atoms[x->b].aromatic)
            buf_printf(w->b, "-");
        break;
    case 2: buf_printf(w->b, "="); break;
    case 3: buf_printf(w->b, "#"); break;
    case 4: buf_printf(w->b, "$"); break;
    }
}

static void write_atom_symbol(writer *w, uint32_t u)
{
    const chem_atom *a = &w->m->atoms[u];
    int arom_bonds = 0, others = 0;
    for (uint32_t t = w->g->start[u]; t < w->g->start[u + 1]; t++) {
        uint32_t bd = w->g->nbond[t];
        if (w->arom[bd])
            arom_bonds++;
        else
            others += w->m->bonds[bd].order;
    }
    /* Hydrogens a reader gives the atom written bare: an aromatic carbon takes one
     * double bond in its ring, other aromatic atoms none. */
    int bare_h = element_default_hydrogens(a->z, others + arom_bonds);
    if (a->aromatic)
        bare_h = a->z == 6 ? (4 - others - arom_bonds - 1 > 0 ? 4 - others - arom_bonds - 1 : 0) : 0;
    bool organic = false;
    switch (a->z) {
    case 5: case 6: case 7: case 8: case 9: case 15: case 16: case 17: case 35: case 53: organic = true;
    }
    const char *sym = a->z ? element_symbol(a->z) : "*";
    if (organic && a->charge == 0 && a->isotope == 0 && a->aclass == 0 && bare_h == a->hcount) {
        buf_printf(w->b, "%c%s", a->aromatic ? sym[0] + 32 : sym[0], sym + 1);
        return;
    }
    if (a->z == 0 && a->charge == 0 && a->isotope == 0 && a->hcount == 0 && a->aclass == 0) {
        buf_printf(w->b, "*");
        return;
    }
    buf_printf(w->b, "[");
    if (a->isotope)
        buf_printf(w->b, "%u", a->isotope);
    if (a->aromatic)
        buf_printf(w->b, "%c%s", sym[0] + 32, sym + 1);
    else
        buf_printf(w->b, "%s", sym);
    if (a->hcount)
        buf_printf(w->b, a->hcount > 1 ? "H%u" : "H", a->hcount);
    if (a->charge)
        buf_printf(w->b, a->charge == 1 ? "+" : a->charge == -1 ? "-" : "%+d", a->charge);
    if (a->aclass)
        buf_printf(w->b, ":%u", a->aclass);
    buf_printf(w->b, "]");
}

static void write_from(writer *w, uint32_t u, long via)
{
    w->seen[u] = true;
    write_atom_symbol(w, u);
    uint32_t nb[64];
    size_t k = sorted_nbrs(w, u, nb);
    /* Ring digits first: closing the rings opened earlier, then opening new ones. */
    for (size_t i = 0; i < k; i++) {
        uint32_t bd = w->g->nbond[nb[i]];
        if (!w->closure[bd] || (long)bd == via)
            continue;
        if (w->digit[bd] >= 0) {
            write_bond(w, bd);
            int d = w->digit[bd];
            buf_printf(w->b, d < 10 ? "%d" : "%%%02d", d);
            w->digits[d] = false;
            w->digit[bd] = -2; /* closed */
        } else if (w->digit[bd] == -1) {
            int d = 1;
            while (d < 100 && w->digits[d])
                d++;
            w->digits[d] = true;
            w->digit[bd] = d;
            buf_printf(w->b, d < 10 ? "%d" : "%%%02d", d);
        }
    }
    uint32_t child[64];
    size_t nc = 0;
    for (size_t i = 0; i < k; i++) {
        uint32_t v = w->g->nbr[nb[i]], bd = w->g->nbond[nb[i]];
        if ((long)bd != via && !w->closure[bd] && !w->seen[v])
            child[nc++] = nb[i];
    }
    for (size_t i = 0; i < nc; i++) {
        uint32_t v = w->g->nbr[child[i]], bd = w->g->nbond[child[i]];
        if (w->seen[v])
            continue;
        bool branch = i + 1 < nc;
        if (branch)
            buf_printf(w->b, "(");
        write_bond(w, bd);
        write_from(w, v, bd);
        if (branch)
            buf_printf(w->b, ")");
    }
}

void smiles_write(chem_buf *b, const chem_mol *in)
{
    chem_mol m = *in;
    m.atoms = xmalloc((in->n_atoms + 1) * sizeof *m.atoms);
    m.bonds = xmalloc((in->n_bonds + 1) * sizeof *m.bonds);
    memcpy(m.atoms, in->atoms, in->n_atoms * sizeof *m.atoms);
    memcpy(m.bonds, in->bonds, in->n_bonds * sizeof *m.bonds);
    m.nodes = NULL, m.n_nodes = 0;
    size_t n = m.n_atoms, nb = m.n_bonds;
    bool *arom = xmalloc((nb + 1) * sizeof *arom);
    mol_aromaticity(&m, arom);
    chem_adj g;
    adj_build(&g, &m);
    uint32_t *rank = xmalloc((n + 1) * sizeof *rank);
    canonical_ranks(&m, &g, arom, rank);
    writer w = {&m, &g, arom, rank, xcalloc(n + 1, 1), xcalloc(nb + 1, 1), xcalloc(nb + 1, 1),
                xmalloc((nb + 1) * sizeof(int)), {false}, b};
    uint32_t *order = xmalloc((n + 1) * sizeof *order);
    for (uint32_t i = 0; i < n; i++)
        order[rank[i]] = i;
    for (size_t i = 0; i < n; i++)
        if (!w.seen[order[i]])
            find_closures(&w, order[i], -1);
    memset(w.seen, 0, n + 1);
    for (size_t i = 0; i < nb; i++)
        w.digit[i] = -1;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (w.seen[order[i]])
            continue;
        if (!first)
            buf_printf(b, ".");
        first = false;
        write_from(&w, order[i], -1);
    }
    if (b->n == 0 || !b->p)
        buf_printf(b, "%s", "");
    free(order), free(w.seen), free(w.closure), free(w.used), free(w.digit);
    free(rank), free(arom), free(m.atoms), free(m.bonds);
    adj_free(&g);
}
