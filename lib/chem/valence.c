#include "chem/valence.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* RDKit's valence lists (atomic_data.cpp); -1 ends a list that accepts anything
 * above; elements not listed accept any valence. */
static const struct {
    uint8_t z, outer, n;
    int8_t v[4];
} valences[] = {
    {1, 1, 1, {1}}, {2, 2, 1, {0}}, {3, 1, 1, {1}}, {4, 2, 1, {2}}, {5, 3, 1, {3}},
    {6, 4, 1, {4}}, {7, 5, 1, {3}}, {8, 6, 1, {2}}, {9, 7, 1, {1}}, {10, 8, 1, {0}},
    {11, 1, 1, {1}}, {12, 2, 2, {2, -1}}, {13, 3, 2, {3, 6}}, {14, 4, 2, {4, 6}},
    {15, 5, 3, {3, 5, 7}}, {16, 6, 3, {2, 4, 6}}, {17, 7, 1, {1}}, {18, 8, 1, {0}},
    {19, 1, 1, {1}}, {20, 2, 2, {2, -1}}, {31, 3, 1, {3}}, {32, 4, 1, {4}},
    {33, 5, 3, {3, 5, 7}}, {34, 6, 3, {2, 4, 6}}, {35, 7, 1, {1}}, {36, 8, 1, {0}},
    {37, 1, 1, {1}}, {38, 2, 2, {2, -1}}, {49, 3, 1, {3}}, {50, 4, 2, {2, 4}},
    {51, 5, 3, {3, 5, 7}}, {52, 6, 3, {2, 4, 6}}, {53, 7, 3, {1, 3, 5}},
    {54, 8, 4, {0, 2, 4, 6}}, {55, 1, 1, {1}}, {56, 2, 2, {2, -1}}, {81, 3, 1, {3}},
    {82, 4, 2, {2, 4}}, {83, 5, 3, {3, 5, 7}}, {84, 6, 3, {2, 4, 6}}, {85, 7, 3, {1, 3, 5}},
    {86, 8, 1, {0}}, {87, 1, 1, {1}}, {88, 2, 2, {2, -1}},
};

/* The valence list of element z (NULL: any valence), its length and outer electrons. */
static const int8_t *valence_list(int z, int *n, int *outer)
{
    for (size_t i = 0; i < sizeof valences / sizeof *valences; i++)
        if (valences[i].z == z) {
            *n = valences[i].n;
            *outer = valences[i].outer;
            return valences[i].v;
        }
    return NULL;
}

static int max_valence(const int8_t *v, int n) { return v[n - 1]; }

int element_default_hydrogens(int z, int ev)
{
    int n, outer;
    const int8_t *v = valence_list(z, &n, &outer);
    if (!v)
        return -1;
    for (int k = 0; k < n; k++) {
        if (v[k] < 0)
            return -1;
        if (v[k] >= ev)
            return v[k] - ev;
    }
    return -1;
}

void mol_ring_bonds(const chem_mol *m, bool *ring)
{
    /* A bond is in a ring unless it is a bridge (Tarjan, iterative). */
    size_t n = m->n_atoms;
    chem_adj g;
    adj_build(&g, m);
    int *disc = xmalloc((n + 1) * sizeof *disc), *low = xmalloc((n + 1) * sizeof *low);
    uint32_t *stack = xmalloc((n + 1) * sizeof *stack), *edge = xmalloc((n + 1) * sizeof *edge);
    uint32_t *it = xmalloc((n + 1) * sizeof *it);
    for (size_t i = 0; i < n; i++)
        disc[i] = -1;
    for (size_t b = 0; b < m->n_bonds; b++)
        ring[b] = true;
    int time = 0;
    for (uint32_t s = 0; s < n; s++) {
        if (disc[s] >= 0)
            continue;
        size_t top = 0;
        stack[top] = s, edge[top] = UINT32_MAX, it[top] = g.start[s];
        disc[s] = low[s] = time++;
        while (top != SIZE_MAX) {
            uint32_t u = stack[top];
            if (it[top] < g.start[u + 1]) {
                uint32_t t = it[top]++;
                uint32_t v = g.nbr[t], b = g.nbond[t];
                if (b == edge[top])
                    continue;
                if (disc[v] < 0) {
                    disc[v] = low[v] = time++;
                    top++;
                    stack[top] = v, edge[top] = b, it[top] = g.start[v];
                } else if (disc[v] < low[u]) {
                    low[u] = disc[v];
                }
            } else {
                if (top > 0) {
                    uint32_t p = stack[top - 1];
                    if (low[u] < low[p])
                        low[p] = low[u];
                    if (low[u] > disc[p])
                        ring[edge[top]] = false;
                }
                top = top ? top - 1 : SIZE_MAX;
            }
        }
    }
    free(disc), free(low), free(stack), free(edge), free(it);
    adj_free(&g);
}

enum { MAX_SMALL_RING = 8 };
typedef struct {
    uint32_t atom[MAX_SMALL_RING];
    int n;
} small_ring;

/* Every simple cycle of 3 to max_size atoms, once each. */
static void find_rings(const chem_mol *m, const chem_adj *g, const bool *ring_bond, int max_size,
                       small_ring **out, size_t *n_out)
{
    size_t cap = 0;
    *out = NULL, *n_out = 0;
    uint32_t path[MAX_SMALL_RING];
    /* Depth-first from each atom over ring bonds to larger-numbered atoms only, so each
     * cycle is found from its smallest atom, in both directions (kept once). */
    for (uint32_t s = 0; s < m->n_atoms; s++) {
        int depth = 0;
        uint32_t it[MAX_SMALL_RING];
        path[0] = s, it[0] = g->start[s];
        while (depth >= 0) {
            uint32_t u = path[depth];
            if (it[depth] >= g->start[u + 1]) {
                depth--;
                continue;
            }
            uint32_t t = it[depth]++;
            uint32_t v = g->nbr[t];
            if (!ring_bond[g->nbond[t]] || v < s)
                continue;
            if (v == s && depth >= 2 && path[1] < path[depth]) {
                if (*n_out == cap)
                    *out = xrealloc(*out, (cap = cap ? 2 * cap : 16) * sizeof **out);
                small_ring *r = &(*out)[(*n_out)++];
                r->n = depth + 1;
                memcpy(r->atom, path, (size_t)r->n * sizeof *path);
                continue;
            }
            if (v == s || depth == max_size - 1)
                continue;
            bool seen = false;
            for (int k = 0; k <= depth; k++)
                seen |= path[k] == v;
            if (seen)
                continue;
            depth++;
            path[depth] = v, it[depth] = g->start[v];
        }
    }
}

/* Pi electrons atom a gives an aromatic ring, or -1 when it cannot be aromatic. */
static int pi_electrons(const chem_mol *m, const chem_adj *g, const bool *ring_bond, uint32_t a)
{
    const chem_atom *at = &m->atoms[a];
    int e = -1;
    for (uint32_t t = g->start[a]; t < g->start[a + 1]; t++) {
        int order = m->bonds[g->nbond[t]].order, z = m->atoms[g->nbr[t]].z;
        if (order == 2 && ring_bond[g->nbond[t]])
            e = 1;
        else if (order == 2 && at->z == 6 && (z == 8 || z == 16 || z == 7))
            e = e < 0 ? 0 : e;
        else if (order == 3 || order == 4)
            return -1;
    }
    if (e >= 0)
        return e;
    int deg = (int)adj_degree(g, a) + at->hcount;
    if ((at->z == 7 || at->z == 15) && deg == 3 && at->charge == 0)
        return 2;
    if ((at->z == 8 || at->z == 16 || at->z == 34) && deg == 2 && at->charge == 0)
        return 2;
    if ((at->z == 6 && at->charge == -1 && deg == 3) || (at->z == 7 && at->charge == -1 && deg == 2))
        return 2;
    if (at->z == 6 && at->charge == 1 && deg == 3)
        return 0;
    return -1;
}

static void mark_aromatic(chem_mol *m, bool *arom_bond, const small_ring *r)
{
    for (int i = 0; i < r->n; i++) {
        arom_bond[mol_find_bond(m, r->atom[i], r->atom[(i + 1) % r->n])] = true;
        m->atoms[r->atom[i]].aromatic = true;
    }
}

static bool shares_bond(const small_ring *x, const small_ring *y)
{
    for (int i = 0; i < x->n; i++)
        for (int j = 0; j < y->n; j++)
            if (x->atom[i] == y->atom[j] &&
                (x->atom[(i + 1) % x->n] == y->atom[(j + 1) % y->n] ||
                 x->atom[(i + 1) % x->n] == y->atom[(j + y->n - 1) % y->n]))
                return true;
    return false;
}

void mol_aromaticity(chem_mol *m, bool *arom_bond)
{
    chem_adj g;
    adj_build(&g, m);
    bool *ring_bond = xmalloc((m->n_bonds + 1) * sizeof *ring_bond);
    mol_ring_bonds(m, ring_bond);
    small_ring *rings;
    size_t nr;
    find_rings(m, &g, ring_bond, 7, &rings, &nr);
    int *e = xmalloc((m->n_atoms + 1) * sizeof *e);
    for (uint32_t a = 0; a < m->n_atoms; a++)
        e[a] = pi_electrons(m, &g, ring_bond, a);
    for (size_t b = 0; b < m->n_bonds; b++)
        arom_bond[b] = false;
    for (size_t a = 0; a < m->n_atoms; a++)
        m->atoms[a].aromatic = false;
    /* Electrons of ring k, or -1 when an atom cannot be aromatic or the ring is small. */
    int *ring_e = xmalloc((nr + 1) * sizeof *ring_e);
    for (size_t k = 0; k < nr; k++) {
        ring_e[k] = rings[k].n < 5 ? -1 : 0;
        for (int i = 0; i < rings[k].n && ring_e[k] >= 0; i++)
            ring_e[k] = e[rings[k].atom[i]] < 0 ? -1 : ring_e[k] + e[rings[k].atom[i]];
        if (ring_e[k] >= 0 && ring_e[k] % 4 == 2)
            mark_aromatic(m, arom_bond, &rings[k]);
    }
    /* Two fused rings that fail alone may pass together (a five-membered ring with a
     * bridgehead nitrogen fused to a six-membered one): count the union's electrons. */
    for (size_t k = 0; k < nr; k++)
        for (size_t l = k + 1; l < nr; l++) {
            if (ring_e[k] < 0 || ring_e[l] < 0 || (ring_e[k] % 4 == 2 && ring_e[l] % 4 == 2) ||
                !shares_bond(&rings[k], &rings[l]))
                continue;
            int sum = ring_e[k];
            for (int j = 0; j < rings[l].n; j++) {
                bool shared = false;
                for (int i = 0; i < rings[k].n; i++)
                    shared |= rings[k].atom[i] == rings[l].atom[j];
                sum += shared ? 0 : e[rings[l].atom[j]];
            }
            if (sum % 4 == 2) {
                mark_aromatic(m, arom_bond, &rings[k]);
                mark_aromatic(m, arom_bond, &rings[l]);
            }
        }
    free(ring_e);
    free(e);
    free(rings);
    free(ring_bond);
    adj_free(&g);
}

/* Bonds - atoms + connected components. */
static int cycle_rank(const chem_mol *m)
{
    size_t n = m->n_atoms;
    uint32_t *parent = xmalloc((n + 1) * sizeof *parent);
    for (size_t i = 0; i < n; i++)
        parent[i] = (uint32_t)i;
    int components = (int)n;
    for (size_t b = 0; b < m->n_bonds; b++) {
        uint32_t x = m->bonds[b].a, y = m->bonds[b].b;
        while (parent[x] != x)
            x = parent[x] = parent[parent[x]];
        while (parent[y] != y)
            y = parent[y] = parent[parent[y]];
        if (x != y)
            parent[x] = y, components--;
    }
    free(parent);
    return (int)m->n_bonds - (int)n + components;
}

/* Reduce v (words of bits over bonds) against the basis; true if it stays nonzero
 * (independent), in which case it is added. */
static bool gf2_insert(uint64_t *basis, int *pivot, int *nb, uint64_t *v, int words)
{
    for (int k = 0; k < *nb; k++)
        if (v[pivot[k] / 64] >> (pivot[k] % 64) & 1)
            for (int w = 0; w < words; w++)
                v[w] ^= basis[(size_t)k * words + w];
    for (int w = 0; w < words; w++)
        if (v[w]) {
            int bit = w * 64 + __builtin_ctzll(v[w]);
            memcpy(basis + (size_t)*nb * words, v, (size_t)words * sizeof *v);
            pivot[(*nb)++] = bit;
            return true;
        }
    return false;
}

/* Rings as RDKit counts them (its symmetrized smallest set): the cycle rank, plus
 * the small rings that are needed for symmetry, such as the fourth ring of
 * adamantane: rings that are sums of rings of their own size but not of smaller ones. */
int mol_ring_count(const chem_mol *m)
{
    int rank = cycle_rank(m);
    if (rank <= 0 || m->n_bonds > 4096)
        return rank < 0 ? 0 : rank;
    chem_adj g;
    adj_build(&g, m);
    bool *ring_bond = xmalloc((m->n_bonds + 1) * sizeof *ring_bond);
    mol_ring_bonds(m, ring_bond);
    small_ring *rings;
    size_t nr;
    find_rings(m, &g, ring_bond, MAX_SMALL_RING, &rings, &nr);
    int words = (int)(m->n_bonds + 63) / 64, nb = 0, extra = 0;
    size_t row = (size_t)words * sizeof(uint64_t);
    /* basis: rings so far; smaller: the basis as it was before this size */
    uint64_t *basis = xcalloc((size_t)(rank + 1), row), *smaller = xcalloc((size_t)(rank + 1), row);
    uint64_t *v = xmalloc(row), *w = xmalloc(row);
    int *pivot = xmalloc((size_t)(rank + 1) * sizeof *pivot),
        *smaller_pivot = xmalloc((size_t)(rank + 1) * sizeof *pivot);
    /* By size: a ring independent of all smaller rings is relevant; relevant rings of a
     * size beyond what that size adds to the basis are the symmetric extras. */
    for (int size = 3; size <= MAX_SMALL_RING && nb < rank; size++) {
        int relevant = 0, before = nb;
        memcpy(smaller, basis, (size_t)nb * row);
        memcpy(smaller_pivot, pivot, (size_t)nb * sizeof *pivot);
        for (size_t k = 0; k < nr; k++) {
            if (rings[k].n != size)
                continue;
            memset(v, 0, row);
            for (int i = 0; i < size; i++) {
                long b = mol_find_bond(m, rings[k].atom[i], rings[k].atom[(i + 1) % size]);
                v[b / 64] ^= 1ULL << (b % 64);
            }
            memcpy(w, v, row);
            int tnb = before;
            uint64_t *scratch = xmalloc((size_t)(before + 1) * row);
            int *scratch_pivot = xmalloc((size_t)(before + 1) * sizeof *pivot);
            memcpy(scratch, smaller, (size_t)before * row);
            memcpy(scratch_pivot, smaller_pivot, (size_t)before * sizeof *pivot);
            bool is_relevant = gf2_insert(scratch, scratch_pivot, &tnb, w, words);
            free(scratch), free(scratch_pivot);
            if (!is_relevant)
                continue;
            relevant++;
            if (nb < rank)
                gf2_insert(basis, pivot, &nb, v, words);
        }
        extra += relevant - (nb - before);
    }
    free(basis), free(smaller), free(v), free(w), free(pivot), free(smaller_pivot);
    free(rings), free(ring_bond);
    adj_free(&g);
    return rank + extra;
}

int mol_valence(const chem_mol *m, uint32_t i)
{
    int v = m->atoms[i].hcount;
    for (size_t b = 0; b < m->n_bonds; b++)
        if (m->bonds[b].a == i || m->bonds[b].b == i)
            v += m->bonds[b].order == BOND_AROMATIC ? 1 : m->bonds[b].order;
    return v;
}

/* The valence an atom must reach, as RDKit counts it with charges: the smallest
 * allowed valence >= its effective valence, or -1 when it has none (too many bonds),
 * or INT_MAX-like 1000 when the element takes anything. */
static int effective(int z, int charge, int outer, int ev, bool implicit)
{
    if (implicit && z == 6)
        return ev + abs(charge);
    return outer >= 4 ? ev - charge : ev + charge;
}

static int target_valence(const chem_atom *a, int ev, bool implicit)
{
    int n, outer;
    const int8_t *v = valence_list(a->z, &n, &outer);
    if (!v || v[0] < 0)
        return 1000;
    int eff = effective(a->z, a->charge, outer, ev, implicit);
    for (int k = 0; k < n; k++) {
        if (v[k] == -1)
            return 1000;
        if (v[k] >= eff)
            return v[k] + (ev - eff);
    }
    return -1;
}

/* Depth-first search for a perfect matching of the atoms that need a double bond. */
static bool match(const chem_mol *m, const chem_adj *g, const bool *need, uint32_t *mate,
                  const uint32_t *order, size_t n_order, size_t at, long *budget)
{
    while (at < n_order && mate[order[at]] != UINT32_MAX)
        at++;
    if (at == n_order)
        return true;
    if (--*budget < 0)
        return false;
    uint32_t i = order[at];
    for (uint32_t t = g->start[i]; t < g->start[i + 1]; t++) {
        uint32_t j = g->nbr[t];
        if (m->bonds[g->nbond[t]].order != BOND_AROMATIC || mate[j] != UINT32_MAX ||
            !(need[j] || m->atoms[j].z == 0))
            continue;
        mate[i] = j, mate[j] = i;
        if (match(m, g, need, mate, order, n_order, at + 1, budget))
            return true;
        mate[i] = mate[j] = UINT32_MAX;
    }
    return false;
}

bool mol_kekulize(chem_mol *m, chem_error *err)
{
    size_t n = m->n_atoms;
    bool any = false;
    for (size_t b = 0; b < m->n_bonds; b++)
        any |= m->bonds[b].order == BOND_AROMATIC;
    if (!any)
        return true;
    chem_adj g;
    adj_build(&g, m);
    bool *need = xcalloc(n + 1, sizeof *need);
    uint32_t *mate = xmalloc((n + 1) * sizeof *mate), *order = xmalloc((n + 1) * sizeof *order);
    size_t n_order = 0;
    for (uint32_t i = 0; i < n; i++) {
        mate[i] = UINT32_MAX;
        bool aromatic_bond = false;
        for (uint32_t t = g.start[i]; t < g.start[i + 1]; t++)
            aromatic_bond |= m->bonds[g.nbond[t]].order == BOND_AROMATIC;
        if (!aromatic_bond)
            continue;
        /* Counted with aromatic bonds as single: does the atom still lack a bond? */
        int ev = mol_valence(m, i);
        int target = target_valence(&m->atoms[i], ev, !m->atoms[i].bracket);
        need[i] = target != 1000 && target - ev >= 1;
        if (need[i])
            order[n_order++] = i;
    }
    long budget = 1000000;
    bool ok = match(m, &g, need, mate, order, n_order, 0, &budget);
    if (ok) {
        for (size_t b = 0; b < m->n_bonds; b++)
            if (m->bonds[b].order == BOND_AROMATIC)
                m->bonds[b].order = mate[m->bonds[b].a] == m->bonds[b].b ? 2 : 1;
    } else {
        uint32_t bad = UINT32_MAX;
        for (size_t k = 0; k < n_order && bad == UINT32_MAX; k++)
            if (mate[order[k]] == UINT32_MAX)
                bad = order[k];
        if (bad == UINT32_MAX)
            bad = n_order ? order[0] : 0;
        chem_fail(err, "cannot kekulize the aromatic system at atom %u (%s)", bad + 1,
                  element_symbol(m->atoms[bad].z));
    }
    free(need), free(mate), free(order);
    adj_free(&g);
    return ok;
}

/* RDKit's explicit valence: aromatic bonds count 1.5 and x.5 rounds up; an aromatic
 * atom over its valence by at most 1.5 is taken to be at it. */
static int rdkit_explicit_valence(const chem_mol *m, uint32_t i, int chr, const int8_t *v, int n)
{
    double acc = m->atoms[i].bracket ? m->atoms[i].hcount : 0;
    for (size_t b = 0; b < m->n_bonds; b++)
        if (m->bonds[b].a == i || m->bonds[b].b == i)
            acc += m->bonds[b].order == BOND_AROMATIC ? 1.5 : m->bonds[b].order;
    if (m->atoms[i].aromatic && acc > v[0] + chr) {
        int pval = v[0] + chr;
        for (int k = 0; k < n && v[k] != -1; k++) {
            if (v[k] + chr > acc)
                break;
            pval = v[k] + chr;
        }
        if (acc - pval <= 1.5)
            acc = pval;
    }
    return (int)(acc + 0.1 + 0.5);
}

/* Neutral five-valent nitrogen with a double bond to oxygen becomes N+ and O-, as
 * RDKit's cleanUp does for nitro groups written without charges. */
static void charge_separate_nitro(chem_mol *m)
{
    for (uint32_t i = 0; i < m->n_atoms; i++) {
        if (m->atoms[i].z != 7 || m->atoms[i].aromatic || m->atoms[i].charge != 0 || mol_valence(m, i) != 5)
            continue;
        for (size_t b = 0; b < m->n_bonds; b++) {
            uint32_t o = m->bonds[b].a == i ? m->bonds[b].b : m->bonds[b].b == i ? m->bonds[b].a : UINT32_MAX;
            if (o != UINT32_MAX && m->bonds[b].order == 2 && m->atoms[o].z == 8 && m->atoms[o].charge == 0) {
                m->bonds[b].order = 1;
                m->atoms[i].charge = 1, m->atoms[o].charge = -1;
                break;
            }
        }
    }
}

/* RDKit's valence check, on the molecule as written (before kekulization). */
static bool check_valences(const chem_mol *m, chem_error *err)
{
    for (uint32_t i = 0; i < m->n_atoms; i++) {
        const chem_atom *a = &m->atoms[i];
        int n, outer;
        const int8_t *v = valence_list(a->z, &n, &outer);
        if (!v || v[0] < 0 || max_valence(v, n) < 0)
            continue;
        int chr = outer >= 4 ? a->charge : -a->charge;
        int ev = rdkit_explicit_valence(m, i, chr, v, n);
        if (ev - chr > max_valence(v, n))
            return chem_fail(err, "atom %u (%s): valence %d is more than %s allows", i + 1,
                             element_symbol(a->z), ev, element_symbol(a->z));
    }
    return true;
}

bool mol_assign_hydrogens(chem_mol *m, chem_error *err)
{
    for (uint32_t i = 0; i < m->n_atoms; i++) {
        chem_atom *a = &m->atoms[i];
        if (a->bracket)
            continue;
        a->hcount = 0;
        int ev = mol_valence(m, i);
        int target = target_valence(a, ev, true);
        /* An aromatic atom over its valence passed RDKit's lenient check: no H. */
        if (target < 0 && !a->aromatic)
            return chem_fail(err, "atom %u (%s): valence %d is more than %s allows", i + 1,
                             element_symbol(a->z), ev, element_symbol(a->z));
        if (target >= 0 && target != 1000)
            a->hcount = (uint8_t)(target - ev);
    }
    return true;
}

bool mol_sanitize(chem_mol *m, chem_error *err)
{
    bool *ring = xmalloc((m->n_bonds + 1) * sizeof *ring);
    mol_ring_bonds(m, ring);
    bool ok = true;
    for (uint32_t i = 0; i < m->n_atoms && ok; i++) {
        if (!m->atoms[i].aromatic)
            continue;
        bool in_ring = false;
        for (size_t b = 0; b < m->n_bonds; b++)
            if ((m->bonds[b].a == i || m->bonds[b].b == i) && ring[b])
                in_ring = true;
        if (!in_ring)
            ok = chem_fail(err, "atom %u (%s) is aromatic but not in a ring", i + 1,
                           element_symbol(m->atoms[i].z));
    }
    /* An aromatic bond written between atoms that are not both aromatic is single. */
    for (size_t b = 0; b < m->n_bonds; b++) {
        chem_bond *bd = &m->bonds[b];
        const chem_atom *x = &m->atoms[bd->a], *y = &m->atoms[bd->b];
        if (bd->order == BOND_AROMATIC && !((x->aromatic || x->z == 0) && (y->aromatic || y->z == 0)))
            bd->order = 1;
    }
    free(ring);
    if (!ok)
        return false;
    charge_separate_nitro(m);
    return check_valences(m, err) && mol_kekulize(m, err) && mol_assign_hydrogens(m, err);
}
