#include "chem/descriptors.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "chem/valence.h"

static int hydrogens(const chem_mol *m, const chem_adj *g, uint32_t i)
{
    int h = m->atoms[i].hcount;
    for (uint32_t t = g->start[i]; t < g->start[i + 1]; t++)
        h += m->atoms[g->nbr[t]].z == 1;
    return h;
}

static int heavy_degree(const chem_mol *m, const chem_adj *g, uint32_t i)
{
    int d = 0;
    for (uint32_t t = g->start[i]; t < g->start[i + 1]; t++)
        d += m->atoms[g->nbr[t]].z != 1;
    return d;
}

static bool has_triple(const chem_mol *m, const chem_adj *g, uint32_t i)
{
    for (uint32_t t = g->start[i]; t < g->start[i + 1]; t++)
        if (m->bonds[g->nbond[t]].order == 3)
            return true;
    return false;
}

/* Atom i is single bonded to an atom with a (non-aromatic, and if ring_ok is false
 * non-ring) double bond to O, N, P or S: "$(*-*=[O,N,P,S])". */
static bool next_to_double(const chem_mol *m, const chem_adj *g, const bool *ring, const bool *arom,
                           uint32_t i, bool ring_ok)
{
    for (uint32_t t = g->start[i]; t < g->start[i + 1]; t++) {
        if (m->bonds[g->nbond[t]].order != 1 || arom[g->nbond[t]])
            continue;
        uint32_t j = g->nbr[t];
        for (uint32_t u = g->start[j]; u < g->start[j + 1]; u++) {
            uint32_t b = g->nbond[u];
            int z = m->atoms[g->nbr[u]].z;
            if (g->nbr[u] != i && m->bonds[b].order == 2 && !arom[b] && (ring_ok || !ring[b]) &&
                (z == 8 || z == 7 || z == 15 || z == 16))
                return true;
        }
    }
    return false;
}

/* RDKit's HBA pattern (CalcNumHBA):
 * [$([O,S;H1;v2]-[!$(*=[O,N,P,S])]),$([O,S;H0;v2]),$([O,S;-]),
 *  $([N;v3;!$(N-*=!@[O,N,P,S])]),$([nH0,o,s;+0])] */
static bool acceptor(const chem_mol *m, const chem_adj *g, const bool *ring, const bool *arom, uint32_t i)
{
    const chem_atom *a = &m->atoms[i];
    int h = hydrogens(m, g, i), v = mol_valence(m, i);
    if (a->aromatic)
        return a->charge == 0 && (a->z == 8 || a->z == 16 || (a->z == 7 && h == 0));
    if (a->z == 8 || a->z == 16) {
        if (a->charge < 0)
            return true;
        if (v != 2)
            return false;
        return h == 0 || (h == 1 && !next_to_double(m, g, ring, arom, i, true));
    }
    if (a->z == 7)
        return v == 3 && !next_to_double(m, g, ring, arom, i, false);
    return false;
}

/* RDKit's HBD pattern: [$([N;!H0;v3]),$([N;!H0;+1;v4]),$([O,S;H1;+0]),$([n;H1;+0])] */
static bool donor(const chem_mol *m, const chem_adj *g, uint32_t i)
{
    const chem_atom *a = &m->atoms[i];
    int h = hydrogens(m, g, i), v = mol_valence(m, i);
    if (a->z == 7 && a->aromatic)
        return h == 1 && a->charge == 0;
    if (a->z == 7)
        return h > 0 && (v == 3 || (v == 4 && a->charge == 1));
    if ((a->z == 8 || a->z == 16) && !a->aromatic)
        return h == 1 && a->charge == 0;
    return false;
}

static int count_nbrs(const chem_mol *m, const chem_adj *g, uint32_t i, int z, int want_h)
{
    int n = 0;
    for (uint32_t t = g->start[i]; t < g->start[i + 1]; t++) {
        uint32_t j = g->nbr[t];
        n += m->atoms[j].z == z &&
             (want_h < 0 || (hydrogens(m, g, j) == want_h && heavy_degree(m, g, j) == 1));
    }
    return n;
}

/* Either end of a rotatable bond in RDKit's strict pattern: not terminal, not triple
 * bonded, not the carbon of CF3, CCl3, CBr3 or tert-butyl. */
static bool rotor_any_end(const chem_mol *m, const chem_adj *g, uint32_t i)
{
    if (heavy_degree(m, g, i) < 2 || has_triple(m, g, i))
        return false;
    if (m->atoms[i].z == 6 && !m->atoms[i].aromatic)
        if (count_nbrs(m, g, i, 9, -1) >= 3 || count_nbrs(m, g, i, 17, -1) >= 3 ||
            count_nbrs(m, g, i, 35, -1) >= 3 || count_nbrs(m, g, i, 6, 3) >= 3)
            return false;
    return true;
}

/* [CD3](=[N,O,S]) or, with charged, [CD3](=[N+]) */
static bool carbonyl_like(const chem_mol *m, const chem_adj *g, const bool *arom, uint32_t c, bool charged)
{
    if (m->atoms[c].z != 6 || m->atoms[c].aromatic || heavy_degree(m, g, c) != 3)
        return false;
    for (uint32_t t = g->start[c]; t < g->start[c + 1]; t++) {
        uint32_t b = g->nbond[t];
        const chem_atom *x = &m->atoms[g->nbr[t]];
        if (m->bonds[b].order != 2 || arom[b] || x->aromatic)
            continue;
        if (charged ? x->z == 7 && x->charge > 0 : x->z == 7 || x->z == 8 || x->z == 16)
            return true;
    }
    return false;
}

/* The first end of the strict pattern also excludes amide, ester and amidine
 * linkages: [CD3](=[N,O,S])-!@[#7,O,S!D1] seen from either atom, and the [N+] form. */
static bool rotor_first_end(const chem_mol *m, const chem_adj *g, const bool *ring,
                            const bool *arom, uint32_t i)
{
    if (!rotor_any_end(m, g, i))
        return false;
    for (uint32_t t = g->start[i]; t < g->start[i + 1]; t++) {
        uint32_t j = g->nbr[t], b = g->nbond[t];
        if (ring[b] || m->bonds[b].order != 1)
            continue;
        const chem_atom *ai = &m->atoms[i], *aj = &m->atoms[j];
        bool j_het = aj->z == 7 || (!aj->aromatic && aj->z == 8) ||
                     (!aj->aromatic && aj->z == 16 && heavy_degree(m, g, j) > 1);
        bool i_het = ai->z == 7 || (!ai->aromatic && ai->z == 8) ||
                     (!ai->aromatic && ai->z == 16 && heavy_degree(m, g, i) > 1);
        if (carbonyl_like(m, g, arom, i, false) && j_het)
            return false;
        if (i_het && carbonyl_like(m, g, arom, j, false))
            return false;
        if (carbonyl_like(m, g, arom, i, true) && aj->z == 7 && heavy_degree(m, g, j) > 1)
            return false;
        if (ai->z == 7 && heavy_degree(m, g, i) > 1 && carbonyl_like(m, g, arom, j, true))
            return false;
    }
    return true;
}

void mol_descriptors(const chem_mol *in, chem_descriptors *d)
{
    memset(d, 0, sizeof *d);
    /* Aromaticity perceived afresh (on a copy), as RDKit's sanitization does. */
    chem_mol copy = *in, *m = &copy;
    copy.atoms = xmalloc((in->n_atoms + 1) * sizeof *copy.atoms);
    memcpy(copy.atoms, in->atoms, in->n_atoms * sizeof *copy.atoms);
    bool *arom = xmalloc((m->n_bonds + 1) * sizeof *arom);
    mol_aromaticity(m, arom);
    chem_adj g;
    adj_build(&g, m);
    bool *ring = xmalloc((m->n_bonds + 1) * sizeof *ring);
    mol_ring_bonds(m, ring);
    for (uint32_t i = 0; i < m->n_atoms; i++) {
        const chem_atom *a = &m->atoms[i];
        /* A labelled isotope weighs its mass number (RDKit's exact isotope masses
         * differ by under 0.01). */
        d->mw += (a->isotope ? a->isotope : element_mass(a->z)) + a->hcount * element_mass(1);
        if (a->z == 1)
            continue;
        d->heavy_atoms++;
        d->hbd += donor(m, &g, i);
        d->hba += acceptor(m, &g, ring, arom, i);
    }
    for (size_t b = 0; b < m->n_bonds; b++) {
        const chem_bond *x = &m->bonds[b];
        if (x->order != 1 || ring[b] || m->atoms[x->a].z == 1 || m->atoms[x->b].z == 1)
            continue;
        d->rotatable_bonds += (rotor_first_end(m, &g, ring, arom, x->a) && rotor_any_end(m, &g, x->b)) ||
                              (rotor_first_end(m, &g, ring, arom, x->b) && rotor_any_end(m, &g, x->a));
    }
    d->rings = mol_ring_count(m);
    d->ro5_violations = (d->mw > 500) + (d->hbd > 5) + (d->hba > 10);
    free(ring);
    free(arom);
    free(copy.atoms);
    adj_free(&g);
}
