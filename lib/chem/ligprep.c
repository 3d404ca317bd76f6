#include "chem/ligprep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "chem/adtype.h"
#include "chem/valence.h"

/* Place atom i's implicit hydrogens at 1.01 A, pointing away from its neighbours. */
static void add_polar_hydrogens(chem_mol *m, uint32_t i)
{
    int k = m->atoms[i].hcount;
    double away[3] = {0, 0, 0};
    for (size_t b = 0; b < m->n_bonds; b++) {
        uint32_t j = m->bonds[b].a == i ? m->bonds[b].b : m->bonds[b].b == i ? m->bonds[b].a : UINT32_MAX;
        if (j == UINT32_MAX)
            continue;
        double d[3], n = 0;
        for (int c = 0; c < 3; c++)
            d[c] = m->atoms[i].xyz[c] - m->atoms[j].xyz[c], n += d[c] * d[c];
        for (int c = 0; c < 3; c++)
            away[c] += d[c] / sqrt(n > 0 ? n : 1);
    }
    double n = sqrt(away[0] * away[0] + away[1] * away[1] + away[2] * away[2]);
    if (n < 1e-3)
        away[0] = 1, away[1] = away[2] = 0, n = 1;
    for (int c = 0; c < 3; c++)
        away[c] /= n;
    /* Two unit vectors perpendicular to `away`, to fan several hydrogens out. */
    double t[3] = {fabs(away[0]) < 0.9 ? 1 : 0, fabs(away[0]) < 0.9 ? 0 : 1, 0};
    double u[3] = {away[1] * t[2] - away[2] * t[1], away[2] * t[0] - away[0] * t[2],
                   away[0] * t[1] - away[1] * t[0]};
    double un = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    for (int c = 0; c < 3; c++)
        u[c] /= un;
    double w[3] = {away[1] * u[2] - away[2] * u[1], away[2] * u[0] - away[0] * u[2],
                   away[0] * u[1] - away[1] * u[0]};
    /* One hydrogen points straight away; several fan out about 70 degrees from that
     * direction, as on a tetrahedral centre. */
    double axial = k > 1 ? 0.34 : 1, radial = k > 1 ? 0.94 : 0;
    for (int h = 0; h < k; h++) {
        double ang = 2 * M_PI * h / k, dir[3], dn = 0;
        for (int c = 0; c < 3; c++) {
            dir[c] = axial * away[c] + radial * (cos(ang) * u[c] + sin(ang) * w[c]);
            dn += dir[c] * dir[c];
        }
        chem_atom *a = mol_add_atom(m);
        a->z = 1;
        a->line = m->atoms[i].line;
        for (int c = 0; c < 3; c++)
            a->xyz[c] = m->atoms[i].xyz[c] + 1.01 * dir[c] / sqrt(dn);
        mol_add_bond(m, i, (uint32_t)m->n_atoms - 1, 1);
    }
    m->atoms[i].hcount = 0;
}

/* Drop non-polar hydrogens (type H), renumbering atoms and bonds. */
static void merge_nonpolar_hydrogens(chem_mol *m)
{
    uint32_t *map = xmalloc((m->n_atoms + 1) * sizeof *map);
    size_t n = 0;
    for (size_t i = 0; i < m->n_atoms; i++) {
        map[i] = m->atoms[i].ad == AD_H ? UINT32_MAX : (uint32_t)n;
        if (map[i] != UINT32_MAX)
            m->atoms[n++] = m->atoms[i];
    }
    size_t nb = 0;
    for (size_t b = 0; b < m->n_bonds; b++) {
        chem_bond bd = m->bonds[b];
        if (map[bd.a] == UINT32_MAX || map[bd.b] == UINT32_MAX) {
            uint32_t heavy = map[bd.a] == UINT32_MAX ? bd.b : bd.a;
            if (map[heavy] != UINT32_MAX)
                m->atoms[map[heavy]].hcount++;
            continue;
        }
        m->bonds[nb++] = (chem_bond){map[bd.a], map[bd.b], bd.order};
    }
    m->n_atoms = n, m->n_bonds = nb;
    free(map);
}

static bool has_multiple_bond(const chem_mol *m, const chem_adj *g, uint32_t i, int order, int z)
{
    for (uint32_t t = g->start[i]; t < g->start[i + 1]; t++)
        if (m->bonds[g->nbond[t]].order == order && (z == 0 || m->atoms[g->nbr[t]].z == z))
            return true;
    return false;
}

static bool amide_bond(const chem_mol *m, const chem_adj *g, uint32_t c, uint32_t n)
{
    return m->atoms[c].z == 6 && m->atoms[n].z == 7 &&
           (has_multiple_bond(m, g, c, 2, 8) || has_multiple_bond(m, g, c, 2, 16));
}

static bool rotatable(const chem_mol *m, const chem_adj *g, const bool *ring, size_t b)
{
    const chem_bond *bd = &m->bonds[b];
    if (bd->order != 1 || ring[b] || adj_degree(g, bd->a) < 2 || adj_degree(g, bd->b) < 2)
        return false;
    if (amide_bond(m, g, bd->a, bd->b) || amide_bond(m, g, bd->b, bd->a))
        return false;
    return !has_multiple_bond(m, g, bd->a, 3, 0) && !has_multiple_bond(m, g, bd->b, 3, 0);
}

/* Nodes: rigid fragments joined by rotatable bonds, breadth first from the largest. */
static void build_tree(chem_mol *m)
{
    size_t n = m->n_atoms;
    chem_adj g;
    adj_build(&g, m);
    bool *ring = xmalloc((m->n_bonds + 1) * sizeof *ring), *rot = xmalloc((m->n_bonds + 1) * sizeof *rot);
    mol_ring_bonds(m, ring);
    for (size_t b = 0; b < m->n_bonds; b++)
        rot[b] = rotatable(m, &g, ring, b);
    int32_t *frag = xmalloc((n + 1) * sizeof *frag);
    uint32_t *queue = xmalloc((n + 1) * sizeof *queue), *size = xcalloc(n + 1, sizeof *size);
    for (size_t i = 0; i < n; i++)
        frag[i] = -1;
    int32_t nf = 0;
    for (uint32_t s = 0; s < n; s++) {
        if (frag[s] >= 0)
            continue;
        size_t head = 0, tail = 0;
        frag[s] = nf, queue[tail++] = s;
        while (head < tail) {
            uint32_t a = queue[head++];
            size[nf]++;
            for (uint32_t t = g.start[a]; t < g.start[a + 1]; t++)
                if (!rot[g.nbond[t]] && frag[g.nbr[t]] < 0)
                    frag[g.nbr[t]] = nf, queue[tail++] = g.nbr[t];
        }
        nf++;
    }
    int32_t root = 0;
    for (int32_t f = 1; f < nf; f++)
        if (size[f] > size[root])
            root = f;
    /* Breadth first over fragments; node[f] is fragment f's node. */
    int32_t *node = xmalloc((size_t)(nf + 1) * sizeof *node);
    for (int32_t f = 0; f < nf; f++)
        node[f] = -1;
    m->n_nodes = 0;
    mol_add_node(m, -1, 0, 0);
    node[root] = 0;
    int32_t *fq = xmalloc((size_t)(nf + 1) * sizeof *fq);
    size_t head = 0, tail = 0;
    fq[tail++] = root;
    while (head < tail) {
        int32_t f = fq[head++];
        for (uint32_t a = 0; a < n; a++) {
            if (frag[a] != f)
                continue;
            for (uint32_t t = g.start[a]; t < g.start[a + 1]; t++) {
                uint32_t b = g.nbr[t];
                if (!rot[g.nbond[t]] || node[frag[b]] >= 0)
                    continue;
                mol_add_node(m, node[f], a, b);
                node[frag[b]] = (int32_t)m->n_nodes - 1;
                fq[tail++] = frag[b];
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        m->atoms[i].node = node[frag[i]];
    m->torsdof = (int)m->n_nodes - 1;
    free(ring), free(rot), free(frag), free(queue), free(size), free(node), free(fq);
    adj_free(&g);
}

bool ligprep(chem_mol *m, chem_error *err)
{
    if (m->n_atoms == 0)
        return chem_fail(err, "no atoms");
    for (size_t i = 0; i < m->n_atoms; i++)
        if (m->atoms[i].z == 0)
            return chem_fail(err, "atom %zu: a wildcard atom cannot be docked", i + 1);
    if (!mol_kekulize(m, err) || !mol_assign_hydrogens(m, err))
        return false;
    size_t heavy = m->n_atoms;
    for (uint32_t i = 0; i < heavy; i++)
        if ((m->atoms[i].z == 7 || m->atoms[i].z == 8) && m->atoms[i].hcount)
            add_polar_hydrogens(m, i);
    ad_assign(m);
    for (size_t i = 0; i < m->n_atoms; i++)
        if (m->atoms[i].ad == AD_NONE && !ad_is_extra_metal(m->atoms[i].z))
            return chem_fail(err, "atom %zu: no AutoDock type for element %s", i + 1,
                             element_symbol(m->atoms[i].z));
    merge_nonpolar_hydrogens(m);
    for (size_t i = 0; i < m->n_atoms; i++)
        m->atoms[i].serial = (uint32_t)i + 1;
    build_tree(m);
    return true;
}

bool receptor_prepare(chem_mol *m, chem_error *err)
{
    /* Element types first, so that bond perception knows the covalent radii. */
    for (size_t i = 0; i < m->n_atoms; i++) {
        chem_atom *a = &m->atoms[i];
        int ad = ad_from_name(element_symbol(a->z));
        if (ad == AD_NONE && !ad_is_extra_metal(a->z))
            return chem_fail(err, "atom %u (line %u): element %s has no AutoDock type", a->serial,
                             a->line, element_symbol(a->z));
        a->ad = (uint8_t)ad;
    }
    vina_perceive_bonds(m, NULL, NULL);
    chem_adj g;
    adj_build(&g, m);
    for (uint32_t i = 0; i < m->n_atoms; i++) {
        chem_atom *a = &m->atoms[i];
        int h = 0, polar_nbr = 0;
        for (uint32_t t = g.start[i]; t < g.start[i + 1]; t++) {
            int z = m->atoms[g.nbr[t]].z;
            h += z == 1;
            polar_nbr += z == 7 || z == 8;
        }
        switch (a->z) {
        case 1: a->ad = polar_nbr ? AD_HD : AD_H; break;
        case 7: a->ad = h == 0 && adj_degree(&g, i) <= 2 ? AD_NA : AD_N; break;
        case 8: a->ad = AD_OA; break;
        case 16: a->ad = AD_SA; break;
        }
    }
    adj_free(&g);
    return true;
}
