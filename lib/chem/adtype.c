#include "chem/adtype.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* Names, elements and covalent radii of AutoDock Vina 1.2.3's atom_kind_data. */
static const struct {
    const char *name;
    uint8_t z;
    double covalent_radius;
} ad_kinds[AD_NTYPES] = {
    [AD_C] = {"C", 6, 0.77},     [AD_A] = {"A", 6, 0.77},     [AD_N] = {"N", 7, 0.75},
    [AD_O] = {"O", 8, 0.73},     [AD_P] = {"P", 15, 1.06},    [AD_S] = {"S", 16, 1.02},
    [AD_H] = {"H", 1, 0.37},     [AD_F] = {"F", 9, 0.71},     [AD_I] = {"I", 53, 1.33},
    [AD_NA] = {"NA", 7, 0.75},   [AD_OA] = {"OA", 8, 0.73},   [AD_SA] = {"SA", 16, 1.02},
    [AD_HD] = {"HD", 1, 0.37},   [AD_Mg] = {"Mg", 12, 1.30},  [AD_Mn] = {"Mn", 25, 1.39},
    [AD_Zn] = {"Zn", 30, 1.31},  [AD_Ca] = {"Ca", 20, 1.74},  [AD_Fe] = {"Fe", 26, 1.25},
    [AD_Cl] = {"Cl", 17, 0.99},  [AD_Br] = {"Br", 35, 1.14},  [AD_Si] = {"Si", 14, 1.11},
    [AD_At] = {"At", 85, 1.44},
};
/* Ca's, the largest radius in Vina's table; bounds the search for bond partners. */
static const double max_covalent_radius = 1.74;
/* Vina's radius for metals AutoDock has no type for. */
static const double extra_metal_covalent_radius = 1.75;

int ad_from_name(const char *s)
{
    if (strcmp(s, "Se") == 0)
        return AD_S;
    for (int i = 0; i < AD_NTYPES; i++)
        if (strcmp(ad_kinds[i].name, s) == 0)
            return i;
    return AD_NONE;
}

const char *ad_name(int ad) { return ad < AD_NTYPES ? ad_kinds[ad].name : "?"; }
int ad_element(int ad) { return ad < AD_NTYPES ? ad_kinds[ad].z : 0; }

/* Vina's non_ad_metal_names: Cu, Fe, Na, K, Hg, Co, U, Cd, Ni. */
bool ad_is_extra_metal(int z)
{
    return z == 29 || z == 26 || z == 11 || z == 19 || z == 80 || z == 27 || z == 92 ||
           z == 48 || z == 28;
}

static const struct {
    const char *name;
    double radius;
} xs_kinds[XS_NTYPES] = {
    [XS_C_H] = {"C_H", 1.9},   [XS_C_P] = {"C_P", 1.9},     [XS_N_P] = {"N_P", 1.8},
    [XS_N_D] = {"N_D", 1.8},   [XS_N_A] = {"N_A", 1.8},     [XS_N_DA] = {"N_DA", 1.8},
    [XS_O_P] = {"O_P", 1.7},   [XS_O_D] = {"O_D", 1.7},     [XS_O_A] = {"O_A", 1.7},
    [XS_O_DA] = {"O_DA", 1.7}, [XS_S_P] = {"S_P", 2.0},     [XS_P_P] = {"P_P", 2.1},
    [XS_F_H] = {"F_H", 1.5},   [XS_Cl_H] = {"Cl_H", 1.8},   [XS_Br_H] = {"Br_H", 2.0},
    [XS_I_H] = {"I_H", 2.2},   [XS_Si] = {"Si", 2.2},       [XS_At] = {"At", 2.3},
    [XS_Met_D] = {"Met_D", 1.2},
};

const char *xs_name(int xs) { return xs < XS_NTYPES ? xs_kinds[xs].name : "none"; }
double xs_radius(int xs) { return xs_kinds[xs].radius; }

bool xs_is_hydrophobic(int xs)
{
    return xs == XS_C_H || xs == XS_F_H || xs == XS_Cl_H || xs == XS_Br_H || xs == XS_I_H;
}

bool xs_is_donor(int xs)
{
    return xs == XS_N_D || xs == XS_N_DA || xs == XS_O_D || xs == XS_O_DA || xs == XS_Met_D;
}

bool xs_is_acceptor(int xs) { return xs == XS_N_A || xs == XS_N_DA || xs == XS_O_A || xs == XS_O_DA; }

static bool is_metal_type(const chem_atom *a)
{
    return (a->ad >= AD_Mg && a->ad <= AD_Fe) || (a->ad == AD_NONE && ad_is_extra_metal(a->z));
}

static bool is_hydrogen(const chem_atom *a) { return a->ad == AD_H || a->ad == AD_HD; }

static bool is_heteroatom(const chem_atom *a)
{
    if (a->ad == AD_NONE)
        return ad_is_extra_metal(a->z);
    return a->ad != AD_C && a->ad != AD_A && a->ad != AD_H && a->ad != AD_HD;
}

static double covalent_radius(const chem_atom *a)
{
    return a->ad < AD_NTYPES ? ad_kinds[a->ad].covalent_radius : extra_metal_covalent_radius;
}

static double dist2(const double *p, const double *q)
{
    double dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
    return dx * dx + dy * dy + dz * dz;
}

/* A uniform cell list over the atoms, cells `edge` wide. */
typedef struct {
    double lo[3], edge;
    int dim[3];
    uint32_t *start, *atom;
} cells;

static long cell_coord(const cells *c, const double *p, int k)
{
    long v = (long)floor((p[k] - c->lo[k]) / c->edge);
    return v < 0 ? 0 : v >= c->dim[k] ? c->dim[k] - 1 : v;
}

static void cells_build(cells *c, const chem_mol *m, double edge)
{
    double hi[3];
    for (int k = 0; k < 3; k++)
        c->lo[k] = hi[k] = m->n_atoms ? m->atoms[0].xyz[k] : 0;
    for (size_t i = 0; i < m->n_atoms; i++)
        for (int k = 0; k < 3; k++) {
            c->lo[k] = fmin(c->lo[k], m->atoms[i].xyz[k]);
            hi[k] = fmax(hi[k], m->atoms[i].xyz[k]);
        }
    c->edge = edge;
    size_t n = 1;
    for (int k = 0; k < 3; k++) {
        double span = (hi[k] - c->lo[k]) / edge;
        c->dim[k] = span < 1000 ? (int)span + 1 : 1000; /* absurd extents get coarse cells */
        n *= (size_t)c->dim[k];
    }
    c->start = xcalloc(n + 1, sizeof *c->start);
    c->atom = xmalloc((m->n_atoms + 1) * sizeof *c->atom);
    size_t *idx = xmalloc((m->n_atoms + 1) * sizeof *idx);
    for (size_t i = 0; i < m->n_atoms; i++) {
        const double *p = m->atoms[i].xyz;
        idx[i] = ((size_t)cell_coord(c, p, 0) * c->dim[1] + cell_coord(c, p, 1)) * c->dim[2] +
                 cell_coord(c, p, 2);
        c->start[idx[i] + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        c->start[i + 1] += c->start[i];
    uint32_t *fill = xmalloc((n + 1) * sizeof *fill);
    memcpy(fill, c->start, (n + 1) * sizeof *fill);
    for (size_t i = 0; i < m->n_atoms; i++)
        c->atom[fill[idx[i]]++] = (uint32_t)i;
    free(fill);
    free(idx);
}

static void cells_free(cells *c)
{
    free(c->start);
    free(c->atom);
}

void vina_perceive_bonds(chem_mol *m, fixed_fn fixed, const void *ctx)
{
    m->n_bonds = 0;
    if (m->n_atoms == 0)
        return;
    const double reach = 1.1 * 2 * max_covalent_radius + 0.01;
    cells c;
    cells_build(&c, m, reach);
    uint32_t *relevant = NULL;
    size_t cap = 0;
    for (uint32_t i = 0; i < m->n_atoms; i++) {
        const chem_atom *ai = &m->atoms[i];
        double ri = ai->ad < AD_NTYPES ? ad_kinds[ai->ad].covalent_radius : max_covalent_radius;
        double cut = 1.1 * (ri + max_covalent_radius);
        size_t n = 0;
        long lo[3], hi[3];
        for (int k = 0; k < 3; k++) {
            lo[k] = cell_coord(&c, ai->xyz, k) - 1;
            hi[k] = cell_coord(&c, ai->xyz, k) + 1;
            lo[k] = lo[k] < 0 ? 0 : lo[k];
            hi[k] = hi[k] >= c.dim[k] ? c.dim[k] - 1 : hi[k];
        }
        for (long x = lo[0]; x <= hi[0]; x++)
            for (long y = lo[1]; y <= hi[1]; y++)
                for (long z = lo[2]; z <= hi[2]; z++) {
                    size_t cell = ((size_t)x * c.dim[1] + y) * c.dim[2] + z;
                    for (uint32_t t = c.start[cell]; t < c.start[cell + 1]; t++) {
                        uint32_t j = c.atom[t];
                        if (j == i || (fixed && !fixed(ctx, i, j)))
                            continue;
                        if (dist2(ai->xyz, m->atoms[j].xyz) < cut * cut) {
                            if (n == cap) {
                                cap = cap ? 2 * cap : 64;
                                relevant = xrealloc(relevant, cap * sizeof *relevant);
                            }
                            relevant[n++] = j;
                        }
                    }
                }
        for (size_t s = 0; s < n; s++) {
            uint32_t j = relevant[s];
            if (j <= i)
                continue;
            const chem_atom *aj = &m->atoms[j];
            double r2 = dist2(ai->xyz, aj->xyz);
            double len = 1.1 * (covalent_radius(ai) + covalent_radius(aj));
            if (r2 >= len * len)
                continue;
            /* No bond when a third atom, rigid relative to both, sits closer to each. */
            bool between = false;
            for (size_t u = 0; u < n && !between; u++) {
                uint32_t k = relevant[u];
                if (k == j || (fixed && !fixed(ctx, j, k)))
                    continue;
                between = dist2(ai->xyz, m->atoms[k].xyz) < r2 && dist2(aj->xyz, m->atoms[k].xyz) < r2;
            }
            if (!between)
                mol_add_bond(m, i, j, 1);
        }
    }
    free(relevant);
    cells_free(&c);
}

void xs_assign(const chem_mol *m, uint8_t *xs)
{
    chem_adj g;
    adj_build(&g, m);
    for (uint32_t i = 0; i < m->n_atoms; i++) {
        const chem_atom *a = &m->atoms[i];
        bool hetero_nbr = false, hd_nbr = false;
        for (uint32_t t = g.start[i]; t < g.start[i + 1]; t++) {
            const chem_atom *b = &m->atoms[g.nbr[t]];
            hetero_nbr |= is_heteroatom(b);
            hd_nbr |= b->ad == AD_HD;
        }
        uint8_t x = XS_NONE;
        if (is_metal_type(a))
            x = XS_Met_D;
        else if (!is_hydrogen(a))
            switch (ad_element(a->ad)) {
            case 6: x = hetero_nbr ? XS_C_P : XS_C_H; break;
            case 7:
                x = a->ad == AD_NA ? (hd_nbr ? XS_N_DA : XS_N_A) : (hd_nbr ? XS_N_D : XS_N_P);
                break;
            case 8:
                x = a->ad == AD_OA ? (hd_nbr ? XS_O_DA : XS_O_A) : (hd_nbr ? XS_O_D : XS_O_P);
                break;
            case 16: x = XS_S_P; break;
            case 15: x = XS_P_P; break;
            case 9: x = XS_F_H; break;
            case 17: x = XS_Cl_H; break;
            case 35: x = XS_Br_H; break;
            case 53: x = XS_I_H; break;
            case 14: x = XS_Si; break;
            case 85: x = XS_At; break;
            }
        xs[i] = x;
    }
    adj_free(&g);
}

/* An atom that delocalizes a neighbouring nitrogen's lone pair: aromatic, or with a
 * double, triple or aromatic bond (amides, anilines in Kekule form, enamines,
 * sulfonamides). */
static bool conjugating(const chem_mol *m, const chem_adj *g, uint32_t i)
{
    if (m->atoms[i].aromatic)
        return true;
    for (uint32_t t = g->start[i]; t < g->start[i + 1]; t++)
        if (m->bonds[g->nbond[t]].order >= 2)
            return true;
    return false;
}

static int nitrogen_type(const chem_mol *m, const chem_adj *g, uint32_t i)
{
    const chem_atom *a = &m->atoms[i];
    int links = (int)adj_degree(g, i) + a->hcount;
    if (a->charge > 0)
        return AD_N;
    if (a->aromatic)
        return links >= 3 ? AD_N : AD_NA;
    if (links >= 3)
        for (uint32_t t = g->start[i]; t < g->start[i + 1]; t++) {
            uint32_t j = g->nbr[t];
            if (m->bonds[g->nbond[t]].order == 1 && m->atoms[j].z != 1 && conjugating(m, g, j))
                return AD_N;
        }
    return AD_NA;
}

void ad_assign(chem_mol *m)
{
    chem_adj g;
    adj_build(&g, m);
    for (uint32_t i = 0; i < m->n_atoms; i++) {
        chem_atom *a = &m->atoms[i];
        switch (a->z) {
        case 1: {
            bool polar = false;
            for (uint32_t t = g.start[i]; t < g.start[i + 1]; t++)
                polar |= m->atoms[g.nbr[t]].z == 7 || m->atoms[g.nbr[t]].z == 8;
            a->ad = polar ? AD_HD : AD_H;
            break;
        }
        case 6: a->ad = a->aromatic ? AD_A : AD_C; break;
        case 7: a->ad = (uint8_t)nitrogen_type(m, &g, i); break;
        case 8: a->ad = AD_OA; break;
        case 16: a->ad = AD_SA; break;
        case 34: a->ad = AD_S; break;
        default: {
            const char *sym = element_symbol(a->z);
            int ad = ad_from_name(sym);
            a->ad = (uint8_t)ad;
        }
        }
    }
    adj_free(&g);
}
