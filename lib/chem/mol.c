#include "chem/mol.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

bool chem_fail(chem_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return false;
}

void mol_init(chem_mol *m)
{
    memset(m, 0, sizeof *m);
    m->torsdof = -1;
}

void mol_free(chem_mol *m)
{
    free(m->atoms);
    free(m->bonds);
    free(m->nodes);
    mol_init(m);
}

/* Keep the allocations for the next molecule of a stream. */
void mol_clear(chem_mol *m)
{
    m->n_atoms = m->n_bonds = m->n_nodes = 0;
    m->torsdof = -1;
    m->title[0] = '\0';
    m->has_coords = false;
}

#define GROW(p, n, cap)                                                                  \
    do {                                                                                 \
        if ((n) == (cap)) {                                                              \
            (cap) = (cap) ? 2 * (cap) : 32;                                              \
            (p) = xrealloc((p), (cap) * sizeof *(p));                                    \
        }                                                                                \
    } while (0)

chem_atom *mol_add_atom(chem_mol *m)
{
    GROW(m->atoms, m->n_atoms, m->cap_atoms);
    chem_atom *a = &m->atoms[m->n_atoms++];
    memset(a, 0, sizeof *a);
    a->ad = AD_NONE;
    a->node = NODE_NONE;
    a->serial = (uint32_t)m->n_atoms;
    return a;
}

void mol_add_bond(chem_mol *m, uint32_t a, uint32_t b, uint8_t order)
{
    GROW(m->bonds, m->n_bonds, m->cap_bonds);
    m->bonds[m->n_bonds++] = (chem_bond){a, b, order};
}

void mol_add_node(chem_mol *m, int32_t parent, uint32_t from, uint32_t to)
{
    GROW(m->nodes, m->n_nodes, m->cap_nodes);
    m->nodes[m->n_nodes++] = (chem_node){parent, from, to};
}

long mol_find_bond(const chem_mol *m, uint32_t a, uint32_t b)
{
    for (size_t i = 0; i < m->n_bonds; i++)
        if ((m->bonds[i].a == a && m->bonds[i].b == b) || (m->bonds[i].a == b && m->bonds[i].b == a))
            return (long)i;
    return -1;
}

void adj_build(chem_adj *g, const chem_mol *m)
{
    size_t n = m->n_atoms;
    g->start = xcalloc(n + 1, sizeof *g->start);
    g->nbr = xmalloc(2 * m->n_bonds * sizeof *g->nbr + 1);
    g->nbond = xmalloc(2 * m->n_bonds * sizeof *g->nbond + 1);
    for (size_t i = 0; i < m->n_bonds; i++) {
        g->start[m->bonds[i].a + 1]++;
        g->start[m->bonds[i].b + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        g->start[i + 1] += g->start[i];
    uint32_t *fill = xmalloc((n + 1) * sizeof *fill);
    memcpy(fill, g->start, (n + 1) * sizeof *fill);
    for (size_t i = 0; i < m->n_bonds; i++) {
        uint32_t a = m->bonds[i].a, b = m->bonds[i].b;
        g->nbr[fill[a]] = b, g->nbond[fill[a]++] = (uint32_t)i;
        g->nbr[fill[b]] = a, g->nbond[fill[b]++] = (uint32_t)i;
    }
    free(fill);
}

void adj_free(chem_adj *g)
{
    free(g->start);
    free(g->nbr);
    free(g->nbond);
    memset(g, 0, sizeof *g);
}

/* Symbols and standard atomic weights as RDKit 2022.09 tabulates them, so that
 * molecular weights agree with the reference to the last digit. */
static const char *const symbols[] = {
    "",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si",
    "P",  "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu",
    "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru",
    "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr",
    "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",
    "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac",
    "Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf",
    "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og",
};
static const double masses[] = {
    0,       1.008,   4.003,   6.941,   9.012,   10.812,  12.011,  14.007,  15.999,  18.998,
    20.18,   22.99,   24.305,  26.982,  28.086,  30.974,  32.067,  35.453,  39.948,  39.098,
    40.078,  44.956,  47.867,  50.942,  51.996,  54.938,  55.845,  58.933,  58.693,  63.546,
    65.39,   69.723,  72.61,   74.922,  78.96,   79.904,  83.8,    85.468,  87.62,   88.906,
    91.224,  92.906,  95.94,   98,      101.07,  102.906, 106.42,  107.868, 112.412, 114.818,
    118.711, 121.76,  127.6,   126.904, 131.29,  132.905, 137.328, 138.906, 140.116, 140.908,
    144.24,  145,     150.36,  151.964, 157.25,  158.925, 162.5,   164.93,  167.26,  168.934,
    173.04,  174.967, 178.49,  180.948, 183.84,  186.207, 190.23,  192.217, 195.078, 196.967,
    200.59,  204.383, 207.2,   208.98,  209,     210,     222,     223,     226,     227,
    232.038, 231.036, 238.029, 237,     244,     243,     247,     247,     251,     252,
    257,     258,     259,     262,     267,     268,     269,     270,     269,     278,
    281,     281,     285,     284,     289,     288,     293,     292,     294,
};

int element_from_symbol(const char *s, size_t len)
{
    if (len == 0 || len > 2)
        return 0;
    for (int z = 1; z <= 118; z++)
        if (strlen(symbols[z]) == len && memcmp(symbols[z], s, len) == 0)
            return z;
    return 0;
}

const char *element_symbol(int z) { return z >= 1 && z <= 118 ? symbols[z] : "*"; }

double element_mass(int z) { return z >= 1 && z <= 118 ? masses[z] : 0; }
