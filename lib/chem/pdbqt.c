/* PDBQT and PDB: fixed-column ATOM/HETATM records; PDBQT adds the partial charge
 * (columns 69-76), the AutoDock type (from column 78) and the ROOT/BRANCH torsion
 * tree of a ligand. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "chem/adtype.h"
#include "chem/io.h"
#include "chem/text.h"

static bool starts(const char *line, size_t len, const char *tag)
{
    size_t n = strlen(tag);
    return len >= n && memcmp(line, tag, n) == 0;
}

/* Move past the rest of the current model after an error. */
static int skip_model(chem_src *s, bool in_model)
{
    const char *line;
    size_t len;
    while (in_model && src_line(s, &line, &len))
        if (starts(line, len, "ENDMDL"))
            break;
    return -1;
}

/* Fields shared by PDB and PDBQT atom records. */
static bool atom_record(chem_src *s, const char *line, size_t len, chem_atom *a, chem_error *err)
{
    char f[16];
    if (len < 54)
        return chem_fail(err, "%s: line %u: atom record too short for coordinates (%zu columns, need 54)",
                         s->name, s->line, len);
    column(line, len, 7, 11, f, sizeof f);
    char *end;
    long serial = strtol(f, &end, 10);
    if (!*f || *end || serial < 0)
        return chem_fail(err, "%s: line %u: atom number \"%s\" is not a number", s->name, s->line, f);
    a->serial = (uint32_t)serial;
    static const char *const axis = "xyz";
    for (int k = 0; k < 3; k++) {
        column(line, len, 31 + 8 * k, 38 + 8 * k, f, sizeof f);
        if (!parse_double(f, &a->xyz[k]))
            return chem_fail(err, "%s: line %u: atom %ld: %c coordinate \"%s\" is not a number",
                             s->name, s->line, serial, axis[k], f);
    }
    column(line, len, 13, 16, a->name, sizeof a->name);
    column(line, len, 18, 20, a->resname, sizeof a->resname);
    a->chain = len >= 22 ? line[21] : ' ';
    column(line, len, 23, 26, f, sizeof f);
    a->resseq = (int32_t)strtol(f, NULL, 10);
    a->line = s->line;
    return true;
}

/* Tree bookkeeping while reading a PDBQT ligand. */
typedef struct {
    int32_t stack[256];
    uint32_t from[256], to[256];
    int depth;
    bool in_root, root_seen;
} tree_state;

static long find_serial(const chem_mol *m, uint32_t serial, int32_t node)
{
    for (size_t i = m->n_atoms; i-- > 0;)
        if (m->atoms[i].serial == serial && (node == NODE_NONE || m->atoms[i].node == node))
            return (long)i;
    return -1;
}

static bool branch_record(chem_src *s, const char *line, size_t len, chem_mol *m, tree_state *t,
                          bool open, chem_error *err)
{
    const char *tag = open ? "BRANCH" : "ENDBRANCH";
    size_t n = strlen(tag);
    char buf[64];
    size_t k = len - n < sizeof buf - 1 ? len - n : sizeof buf - 1;
    memcpy(buf, line + n, k);
    buf[k] = '\0';
    unsigned a, b;
    char extra;
    if (sscanf(buf, "%u %u %c", &a, &b, &extra) != 2)
        return chem_fail(err, "%s: line %u: %s needs two atom numbers", s->name, s->line, tag);
    if (!t->root_seen || t->in_root)
        return chem_fail(err, "%s: line %u: %s outside the torsion tree (after ENDROOT)", s->name,
                         s->line, tag);
    if (open) {
        if (t->depth == 255)
            return chem_fail(err, "%s: line %u: branches nested too deep", s->name, s->line);
        int32_t parent = t->stack[t->depth];
        long from = find_serial(m, a, parent);
        if (from < 0)
            return chem_fail(err, "%s: line %u: BRANCH %u %u: no atom %u in the enclosing branch",
                             s->name, s->line, a, b, a);
        mol_add_node(m, parent, (uint32_t)from, UINT32_MAX);
        t->depth++;
        t->stack[t->depth] = (int32_t)m->n_nodes - 1;
        t->from[t->depth] = a, t->to[t->depth] = b;
        return true;
    }
    if (t->depth == 0)
        return chem_fail(err, "%s: line %u: ENDBRANCH without BRANCH", s->name, s->line);
    if (t->from[t->depth] != a || t->to[t->depth] != b)
        return chem_fail(err, "%s: line %u: ENDBRANCH %u %u closes BRANCH %u %u", s->name, s->line, a,
                         b, t->from[t->depth], t->to[t->depth]);
    int32_t node = t->stack[t->depth];
    long to = find_serial(m, b, node);
    if (to < 0)
        return chem_fail(err, "%s: line %u: BRANCH %u %u: atom %u is not in the branch", s->name,
                         s->line, a, b, b);
    m->nodes[node].to = (uint32_t)to;
    t->depth--;
    return true;
}

int pdbqt_next(chem_src *s, chem_mol *m, chem_error *err)
{
    mol_clear(m);
    m->has_coords = true;
    tree_state t = {.stack = {NODE_NONE}};
    bool in_model = false, any = false;
    const char *line;
    size_t len;
    while (src_line(s, &line, &len)) {
        if (starts(line, len, "MODEL")) {
            if (any || in_model)
                return chem_fail(err, "%s: line %u: MODEL inside a model (missing ENDMDL)", s->name,
                                 s->line), skip_model(s, true);
            in_model = true;
        } else if (starts(line, len, "ENDMDL")) {
            if (!in_model)
                return chem_fail(err, "%s: line %u: ENDMDL without MODEL", s->name, s->line), -1;
            break;
        } else if (starts(line, len, "ATOM  ") || starts(line, len, "HETATM")) {
            if (t.root_seen && !t.in_root && t.depth == 0)
                return chem_fail(err, "%s: line %u: atom outside ROOT and every BRANCH", s->name, s->line),
                       skip_model(s, in_model);
            chem_atom *a = mol_add_atom(m);
            if (!atom_record(s, line, len, a, err))
                return skip_model(s, in_model);
            char type[8], q[16];
            if (len < 78)
                return chem_fail(err, "%s: line %u: atom %u has no AutoDock type (column 78)", s->name,
                                 s->line, a->serial), skip_model(s, in_model);
            column(line, len, 78, len, type, sizeof type);
            column(line, len, 69, 76, q, sizeof q);
            if (*q && !parse_double(q, &a->q))
                return chem_fail(err, "%s: line %u: atom %u: charge \"%s\" is not a number", s->name,
                                 s->line, a->serial, q), skip_model(s, in_model);
            int ad = ad_from_name(type);
            int z = element_from_symbol(type, strlen(type));
            if (ad == AD_NONE && !ad_is_extra_metal(z))
                return chem_fail(err, "%s: line %u: atom %u: \"%s\" is not an AutoDock atom type",
                                 s->name, s->line, a->serial, type), skip_model(s, in_model);
            a->ad = (uint8_t)ad;
            a->z = (uint8_t)(ad == AD_NONE ? z : ad_element(ad));
            a->aromatic = ad == AD_A;
            a->node = t.root_seen ? t.stack[t.depth] : NODE_NONE;
            any = true;
        } else if (starts(line, len, "ROOT")) {
            if (t.root_seen)
                return chem_fail(err, "%s: line %u: second ROOT", s->name, s->line), skip_model(s, in_model);
            mol_add_node(m, -1, 0, 0);
            t.root_seen = t.in_root = true;
            t.stack[0] = 0;
        } else if (starts(line, len, "ENDROOT")) {
            if (!t.in_root)
                return chem_fail(err, "%s: line %u: ENDROOT without ROOT", s->name, s->line),
                       skip_model(s, in_model);
            t.in_root = false;
        } else if (starts(line, len, "BRANCH") || starts(line, len, "ENDBRANCH")) {
            if (!branch_record(s, line, len, m, &t, line[0] == 'B', err))
                return skip_model(s, in_model);
        } else if (starts(line, len, "TORSDOF")) {
            int n;
            char count[32]; /* the line is not NUL-terminated: parse a copy */
            column(line, len, 8, len, count, sizeof count);
            if (sscanf(count, "%d", &n) != 1 || n < 0)
                return chem_fail(err, "%s: line %u: TORSDOF needs a count", s->name, s->line),
                       skip_model(s, in_model);
            m->torsdof = n;
        } else if (starts(line, len, "REMARK  Name = ") && !m->title[0]) {
            column(line, len, 16, len, m->title, sizeof m->title);
        }
        /* REMARK, TER, END, CRYST1 ... carry nothing the score needs. */
    }
    if (!any)
        return in_model ? (chem_fail(err, "%s: line %u: model without atoms", s->name, s->line), -1) : 0;
    if (t.in_root || t.depth > 0)
        return chem_fail(err, "%s: line %u: %s not closed at the end of the molecule", s->name, s->line,
                         t.in_root ? "ROOT" : "BRANCH"), -1;
    if (t.root_seen && m->nodes[0].parent == -1 && m->n_nodes)
        for (size_t i = 0; i < m->n_atoms; i++)
            if (m->atoms[i].node == NODE_NONE)
                return chem_fail(err, "%s: line %u: atom %u precedes ROOT", s->name, m->atoms[i].line,
                                 m->atoms[i].serial), -1;
    return 1;
}

int pdb_next(chem_src *s, chem_mol *m, chem_error *err)
{
    mol_clear(m);
    m->has_coords = true;
    bool in_model = false, any = false;
    const char *line;
    size_t len;
    while (src_line(s, &line, &len)) {
        if (starts(line, len, "MODEL")) {
            in_model = true;
        } else if (starts(line, len, "ENDMDL")) {
            break;
        } else if (starts(line, len, "ATOM  ") || starts(line, len, "HETATM")) {
            chem_atom *a = mol_add_atom(m);
            if (!atom_record(s, line, len, a, err))
                return skip_model(s, in_model);
            char el[4], q[4];
            column(line, len, 77, 78, el, sizeof el);
            if (!*el) {
                /* Old files: the element is the atom name's leading letters. */
                size_t k = 0;
                while (a->name[k] && isdigit((unsigned char)a->name[k]))
                    k++;
                el[0] = a->name[k], el[1] = '\0';
            } else if (el[1]) {
                el[1] = (char)tolower((unsigned char)el[1]);
            }
            a->z = (uint8_t)element_from_symbol(el, strlen(el));
            if (!a->z)
                return chem_fail(err, "%s: line %u: atom %u: unknown element \"%s\"", s->name, s->line,
                                 a->serial, el), skip_model(s, in_model);
            column(line, len, 79, 80, q, sizeof q);
            if (*q) {
                int sign = strchr(q, '-') ? -1 : 1;
                a->charge = (int8_t)(sign * atoi(q));
            }
            any = true;
        } else if (starts(line, len, "CONECT")) {
            /* CONECT a b c ...: columns 7-11, 12-16, 17-21 ... */
            char f[8];
            column(line, len, 7, 11, f, sizeof f);
            long a = find_serial(m, (uint32_t)atol(f), NODE_NONE);
            for (size_t c = 12; a >= 0 && c + 4 <= len; c += 5) {
                column(line, len, c, c + 4, f, sizeof f);
                long b = *f ? find_serial(m, (uint32_t)atol(f), NODE_NONE) : -1;
                if (b > a && mol_find_bond(m, (uint32_t)a, (uint32_t)b) < 0)
                    mol_add_bond(m, (uint32_t)a, (uint32_t)b, 1);
            }
        } else if (starts(line, len, "HEADER") && !m->title[0]) {
            column(line, len, 63, 66, m->title, sizeof m->title);
        }
    }
    return any ? 1 : 0;
}

static void write_atom(chem_buf *b, const chem_atom *a, uint32_t serial)
{
    char name[8];
    const char *n = a->name[0] ? a->name : element_symbol(a->z);
    snprintf(name, sizeof name, strlen(n) < 4 ? " %-3s" : "%-4s", n);
    buf_printf(b, "ATOM  %5u %-4s %-3s %c%4d    %8.3f%8.3f%8.3f  1.00  0.00    %6.3f %-2s\n", serial,
               name, a->resname[0] ? a->resname : "UNL", a->chain > ' ' ? a->chain : ' ',
               a->resseq ? a->resseq : 1, a->xyz[0], a->xyz[1], a->xyz[2], a->q, ad_name(a->ad));
}

/* Atoms of node k in the order they are written: the axis atom first.  A molecule
 * without a tree is all root. */
static void node_atoms(const chem_mol *m, int32_t k, uint32_t *out, size_t *n)
{
    bool branch = m->n_nodes && m->nodes[k].parent >= 0;
    *n = 0;
    if (branch)
        out[(*n)++] = m->nodes[k].to;
    for (uint32_t i = 0; i < m->n_atoms; i++)
        if ((m->n_nodes == 0 || m->atoms[i].node == k) && (!branch || i != m->nodes[k].to))
            out[(*n)++] = i;
}

/* Number atoms in writing order (depth first), so BRANCH lines can name them. */
static void number_node(const chem_mol *m, int32_t k, uint32_t *serial, uint32_t *next, uint32_t *tmp)
{
    size_t n;
    node_atoms(m, k, tmp, &n);
    for (size_t i = 0; i < n; i++)
        serial[tmp[i]] = (*next)++;
    for (size_t c = 0; c < m->n_nodes; c++)
        if (m->nodes[c].parent == k)
            number_node(m, (int32_t)c, serial, next, tmp);
}

static void write_node(chem_buf *b, const chem_mol *m, int32_t k, const uint32_t *serial, uint32_t *tmp)
{
    size_t n;
    node_atoms(m, k, tmp, &n);
    for (size_t i = 0; i < n; i++)
        write_atom(b, &m->atoms[tmp[i]], serial[tmp[i]]);
    if (k == 0)
        buf_printf(b, "ENDROOT\n");
    for (size_t c = 0; c < m->n_nodes; c++)
        if (m->nodes[c].parent == k) {
            uint32_t from = serial[m->nodes[c].from], to = serial[m->nodes[c].to];
            buf_printf(b, "BRANCH %3u %3u\n", from, to);
            write_node(b, m, (int32_t)c, serial, tmp);
            buf_printf(b, "ENDBRANCH %3u %3u\n", from, to);
        }
}

void pdbqt_write(chem_buf *b, const chem_mol *m)
{
    uint32_t *serial = xcalloc(m->n_atoms + 1, sizeof *serial);
    uint32_t *tmp = xmalloc((m->n_atoms + 1) * sizeof *tmp);
    uint32_t next = 1;
    number_node(m, 0, serial, &next, tmp);
    if (m->title[0])
        buf_printf(b, "REMARK  Name = %s\n", m->title);
    buf_printf(b, "ROOT\n");
    write_node(b, m, 0, serial, tmp);
    buf_printf(b, "TORSDOF %d\n", m->torsdof >= 0 ? m->torsdof : m->n_nodes ? (int)m->n_nodes - 1 : 0);
    free(tmp);
    free(serial);
}
