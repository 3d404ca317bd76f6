#include "chem/vina.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "chem/adtype.h"

/* ---- the pair potential and Vina's table of it ---- */

static double slope_step(double x_bad, double x_good, double x)
{
    if (x_bad < x_good) {
        if (x <= x_bad)
            return 0;
        if (x >= x_good)
            return 1;
    } else {
        if (x >= x_bad)
            return 0;
        if (x <= x_good)
            return 1;
    }
    return (x - x_bad) / (x_good - x_bad);
}

static bool hbond_pair(int t1, int t2)
{
    return (xs_is_donor(t1) && xs_is_acceptor(t2)) || (xs_is_donor(t2) && xs_is_acceptor(t1));
}

/* The five unweighted terms at distance r (zero from the 8 A cutoff on). */
static void vina_terms(int t1, int t2, double r, double term[5])
{
    memset(term, 0, 5 * sizeof *term);
    if (r >= VINA_CUTOFF)
        return;
    double d = r - (xs_radius(t1) + xs_radius(t2));
    term[0] = exp(-(d / 0.5) * (d / 0.5));
    term[1] = exp(-((d - 3) / 2) * ((d - 3) / 2));
    term[2] = d > 0 ? 0 : d * d;
    if (xs_is_hydrophobic(t1) && xs_is_hydrophobic(t2))
        term[3] = slope_step(1.5, 0.5, d);
    if (hbond_pair(t1, t2))
        term[4] = slope_step(0, -0.7, d);
}

double vina_pair_energy(int t1, int t2, double r)
{
    double t[5];
    vina_terms(t1, t2, r, t);
    /* Vina's order of summation, for the last bit. */
    double e = 0;
    e += VINA_W_GAUSS1 * t[0];
    e += VINA_W_GAUSS2 * t[1];
    e += VINA_W_REPULSION * t[2];
    e += VINA_W_HYDROPHOBIC * t[3];
    e += VINA_W_HYDROGEN * t[4];
    return e;
}

/* Vina samples r^2 every 1/32 A^2 up to the cutoff, plus margin entries. */
enum { TABLE_FACTOR = 32, TABLE_N = TABLE_FACTOR * 64 + 3, N_PAIRS = XS_NTYPES * XS_NTYPES };

typedef struct {
    double fast[TABLE_N];   /* mean of neighbouring samples: what scoring reads */
    double e[TABLE_N];      /* the samples */
    double dor[TABLE_N];    /* dE/dr / r by central differences */
} pair_table;

static pair_table *tables[N_PAIRS];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_free(void)
{
    for (int i = 0; i < N_PAIRS; i++)
        if (i / XS_NTYPES <= i % XS_NTYPES)
            free(tables[i]);
}

static void tables_build(void)
{
    double rs[TABLE_N];
    for (int i = 0; i < TABLE_N; i++)
        rs[i] = sqrt(i / (double)TABLE_FACTOR);
    for (int t1 = 0; t1 < XS_NTYPES; t1++)
        for (int t2 = t1; t2 < XS_NTYPES; t2++) {
            pair_table *p = xmalloc(sizeof *p);
            for (int i = 0; i < TABLE_N; i++)
                p->e[i] = vina_pair_energy(t1, t2, rs[i]);
            for (int i = 0; i < TABLE_N; i++) {
                p->dor[i] = i == 0 || i == TABLE_N - 1
                                ? 0
                                : (p->e[i + 1] - p->e[i - 1]) / ((rs[i + 1] - rs[i - 1]) * rs[i]);
                p->fast[i] = ((i + 1 >= TABLE_N ? 0 : p->e[i + 1]) + p->e[i]) / 2;
            }
            tables[t1 * XS_NTYPES + t2] = tables[t2 * XS_NTYPES + t1] = p;
        }
    atexit(tables_free);
}

static const pair_table *table(int t1, int t2)
{
    pthread_once(&tables_once, tables_build);
    return tables[t1 * XS_NTYPES + t2];
}

double vina_pair_energy_table(int t1, int t2, double r2)
{
    return table(t1, t2)->fast[(size_t)(TABLE_FACTOR * r2)];
}

double vina_pair_energy_deriv(int t1, int t2, double r2, double *dor)
{
    const pair_table *p = table(t1, t2);
    double x = TABLE_FACTOR * r2;
    size_t i = (size_t)x;
    double f = x - (double)i;
    *dor = p->dor[i] + f * (p->dor[i + 1] - p->dor[i]);
    return p->e[i] + f * (p->e[i + 1] - p->e[i]);
}

/* Vina's "curl": a positive energy e becomes e * v / (v + e) with v = 1000. */
static double damp(double e, double *scale)
{
    if (e <= 0) {
        if (scale)
            *scale = 1;
        return e;
    }
    double k = 1000 / (1000 + e);
    if (scale)
        *scale = k * k;
    return e * k;
}

void vina_box_make(vina_box *b, const double center[3], const double size[3])
{
    for (int k = 0; k < 3; k++) {
        double span = 0.375 * ceil(size[k] / 0.375);
        b->lo[k] = center[k] - span / 2;
        b->hi[k] = b->lo[k] + span;
    }
}

/* ---- receptor ---- */

enum { CELL_EDGE = 4, CELL_REACH = 2 }; /* cells of 4 A, searched +-2 cells: 8 A */

struct vina_receptor {
    size_t n;
    double *xyz;        /* (n, 3), sorted by cell */
    uint8_t *xs;        /* (n) */
    double lo[3];
    int dim[3];
    uint32_t *start;    /* (cells + 1) */
};

static long cell_of(const vina_receptor *r, const double *p, int k)
{
    return (long)floor((p[k] - r->lo[k]) / CELL_EDGE);
}

vina_receptor *vina_receptor_new(const chem_mol *m)
{
    chem_mol g = *m; /* same atoms, bonds of its own */
    g.bonds = NULL, g.n_bonds = g.cap_bonds = 0;
    vina_perceive_bonds(&g, NULL, NULL);
    uint8_t *xs = xmalloc(m->n_atoms + 1);
    xs_assign(&g, xs);
    free(g.bonds);

    vina_receptor *r = xcalloc(1, sizeof *r);
    double hi[3] = {0, 0, 0};
    for (size_t i = 0; i < m->n_atoms; i++) {
        if (xs[i] == XS_NONE)
            continue;
        for (int k = 0; k < 3; k++) {
            double v = m->atoms[i].xyz[k];
            r->lo[k] = r->n == 0 || v < r->lo[k] ? v : r->lo[k];
            hi[k] = r->n == 0 || v > hi[k] ? v : hi[k];
        }
        r->n++;
    }
    size_t cells = 1;
    for (int k = 0; k < 3; k++) {
        double span = (hi[k] - r->lo[k]) / CELL_EDGE;
        r->dim[k] = span < 4096 ? (int)span + 1 : 4096;
        cells *= (size_t)r->dim[k];
    }
    r->start = xcalloc(cells + 1, sizeof *r->start);
    r->xyz = xmalloc((r->n + 1) * 3 * sizeof *r->xyz);
    r->xs = xmalloc(r->n + 1);
    size_t *cell = xmalloc((m->n_atoms + 1) * sizeof *cell);
    for (size_t i = 0; i < m->n_atoms; i++) {
        if (xs[i] == XS_NONE)
            continue;
        long c[3];
        for (int k = 0; k < 3; k++) {
            c[k] = cell_of(r, m->atoms[i].xyz, k);
            c[k] = c[k] >= r->dim[k] ? r->dim[k] - 1 : c[k];
        }
        cell[i] = ((size_t)c[0] * r->dim[1] + c[1]) * r->dim[2] + c[2];
        r->start[cell[i] + 1]++;
    }
    for (size_t i = 0; i < cells; i++)
        r->start[i + 1] += r->start[i];
    uint32_t *fill = xmalloc((cells + 1) * sizeof *fill);
    memcpy(fill, r->start, (cells + 1) * sizeof *fill);
    for (size_t i = 0; i < m->n_atoms; i++) {
        if (xs[i] == XS_NONE)
            continue;
        uint32_t at = fill[cell[i]]++;
        memcpy(r->xyz + 3 * at, m->atoms[i].xyz, 3 * sizeof(double));
        r->xs[at] = xs[i];
    }
    free(fill);
    free(cell);
    free(xs);
    return r;
}

void vina_receptor_free(vina_receptor *r)
{
    if (!r)
        return;
    free(r->xyz);
    free(r->xs);
    free(r->start);
    free(r);
}

size_t vina_receptor_atoms(const vina_receptor *r) { return r->n; }

/* Run body for each receptor atom j within 8 A of p, with r2 its squared distance and
 * d = p - its position. */
#define FOR_NEIGHBOURS(r, p, body)                                                       \
    do {                                                                                 \
        long c_[3], lo_[3], hi_[3];                                                      \
        for (int k_ = 0; k_ < 3; k_++) {                                                 \
            c_[k_] = cell_of(r, p, k_);                                                  \
            lo_[k_] = c_[k_] - CELL_REACH < 0 ? 0 : c_[k_] - CELL_REACH;                 \
            hi_[k_] = c_[k_] + CELL_REACH >= r->dim[k_] ? r->dim[k_] - 1                 \
                                                        : c_[k_] + CELL_REACH;           \
        }                                                                                \
        /* a point beyond the receptor on some axis has no cells there */              \
        for (long x_ = lo_[0]; x_ <= hi_[0] && lo_[2] <= hi_[2]; x_++)                   \
            for (long y_ = lo_[1]; y_ <= hi_[1]; y_++) {                                 \
                size_t row_ = ((size_t)x_ * r->dim[1] + y_) * r->dim[2];                 \
                for (uint32_t j = r->start[row_ + lo_[2]]; j < r->start[row_ + hi_[2] + 1]; \
                     j++) {                                                              \
                    const double *q_ = r->xyz + 3 * j;                                   \
                    double d[3] = {p[0] - q_[0], p[1] - q_[1], p[2] - q_[2]};            \
                    double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];                 \
                    if (r2 < VINA_CUTOFF * VINA_CUTOFF) {                                \
                        body;                                                            \
                    }                                                                    \
                }                                                                        \
            }                                                                            \
    } while (0)

double vina_atom_energy(const vina_receptor *r, int t, const double p[3], double grad[3])
{
    double e = 0;
    if (grad) {
        double g[3] = {0, 0, 0};
        FOR_NEIGHBOURS(r, p, {
            double dor;
            e += vina_pair_energy_deriv(t, r->xs[j], r2, &dor);
            for (int k = 0; k < 3; k++)
                g[k] += dor * d[k];
        });
        double scale;
        e = damp(e, &scale);
        for (int k = 0; k < 3; k++)
            grad[k] = g[k] * scale;
        return e;
    }
    table(t, t); /* built once */
    pair_table *const *row = tables + t * XS_NTYPES;
    FOR_NEIGHBOURS(r, p, e += row[r->xs[j]]->fast[(size_t)(TABLE_FACTOR * r2)]);
    return damp(e, NULL);
}

double vina_receptor_sum(const vina_receptor *r, int t, const double p[3])
{
    table(t, t);
    pair_table *const *row = tables + t * XS_NTYPES;
    double e = 0;
    FOR_NEIGHBOURS(r, p, e += row[r->xs[j]]->fast[(size_t)(TABLE_FACTOR * r2)]);
    return e;
}

/* ---- grid maps ---- */

struct vina_grid {
    const vina_receptor *r;
    double lo[3];
    int n[3];                   /* points per axis (voxels + 1) */
    double *map[XS_NTYPES];     /* (n0, n1, n2), x slowest */
};

static const double GRID_SPACING = 0.375;

vina_grid *vina_grid_new(const vina_receptor *r, const vina_box *box)
{
    vina_grid *g = xcalloc(1, sizeof *g);
    g->r = r;
    for (int k = 0; k < 3; k++) {
        g->lo[k] = box->lo[k];
        g->n[k] = (int)lround((box->hi[k] - box->lo[k]) / GRID_SPACING) + 1;
    }
    return g;
}

void vina_grid_free(vina_grid *g)
{
    if (!g)
        return;
    for (int t = 0; t < XS_NTYPES; t++)
        free(g->map[t]);
    free(g);
}

static const double *grid_map(vina_grid *g, int t)
{
    if (g->map[t])
        return g->map[t];
    double *m = xmalloc((size_t)g->n[0] * g->n[1] * g->n[2] * sizeof *m);
    for (int x = 0; x < g->n[0]; x++)
        for (int y = 0; y < g->n[1]; y++)
            for (int z = 0; z < g->n[2]; z++) {
                double p[3] = {g->lo[0] + x * GRID_SPACING, g->lo[1] + y * GRID_SPACING,
                               g->lo[2] + z * GRID_SPACING};
                m[((size_t)x * g->n[1] + y) * g->n[2] + z] = vina_receptor_sum(g->r, t, p);
            }
    return g->map[t] = m;
}

double vina_grid_energy(vina_grid *g, int t, const double p[3], double grad[3])
{
    const double *m = grid_map(g, t);
    double s[3], miss = 0;
    int a[3], region[3];
    for (int k = 0; k < 3; k++) {
        s[k] = (p[k] - g->lo[k]) / GRID_SPACING;
        if (s[k] < 0) {
            miss += -s[k], region[k] = -1, a[k] = 0, s[k] = 0;
        } else if (s[k] >= g->n[k] - 1) {
            miss += s[k] - (g->n[k] - 1), region[k] = 1, a[k] = g->n[k] - 2, s[k] = 1;
        } else {
            region[k] = 0, a[k] = (int)s[k], s[k] -= a[k];
        }
    }
    double f[2][2][2];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 2; k++)
                f[i][j][k] = m[((size_t)(a[0] + i) * g->n[1] + a[1] + j) * g->n[2] + a[2] + k];
    double x = s[0], y = s[1], z = s[2], mx = 1 - x, my = 1 - y, mz = 1 - z;
    double e = f[0][0][0] * mx * my * mz + f[1][0][0] * x * my * mz + f[0][1][0] * mx * y * mz +
               f[1][1][0] * x * y * mz + f[0][0][1] * mx * my * z + f[1][0][1] * x * my * z +
               f[0][1][1] * mx * y * z + f[1][1][1] * x * y * z;
    double gr[3] = {
        (f[1][0][0] - f[0][0][0]) * my * mz + (f[1][1][0] - f[0][1][0]) * y * mz +
            (f[1][0][1] - f[0][0][1]) * my * z + (f[1][1][1] - f[0][1][1]) * y * z,
        (f[0][1][0] - f[0][0][0]) * mx * mz + (f[1][1][0] - f[1][0][0]) * x * mz +
            (f[0][1][1] - f[0][0][1]) * mx * z + (f[1][1][1] - f[1][0][1]) * x * z,
        (f[0][0][1] - f[0][0][0]) * mx * my + (f[1][0][1] - f[1][0][0]) * x * my +
            (f[0][1][1] - f[0][1][0]) * mx * y + (f[1][1][1] - f[1][1][0]) * x * y,
    };
    double scale;
    e = damp(e, &scale);
    for (int c = 0; c < 3; c++)
        grad[c] = (region[c] == 0 ? gr[c] * scale / GRID_SPACING : 0) + 1e6 * region[c];
    return e + 1e6 * miss * GRID_SPACING;
}

/* ---- ligand ---- */

/* Which pairs of atoms keep their distance whatever the torsions: atoms of one node,
 * plus the atoms at either end of the rotatable bonds that join it to its parent and
 * children (they lie on the axis).  Each atom lists the nodes it is rigid with. */
typedef struct {
    uint32_t *start, *node;
} rigid_sets;

static int32_t node_of(const chem_mol *m, size_t i) { return m->n_nodes ? m->atoms[i].node : 0; }

static void rigid_sets_build(rigid_sets *rs, const chem_mol *m)
{
    size_t n = m->n_atoms;
    rs->start = xcalloc(n + 1, sizeof *rs->start);
    rs->node = xmalloc((n + 2 * m->n_nodes + 1) * sizeof *rs->node);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        rs->node[k++] = (uint32_t)node_of(m, i);
        for (size_t c = 1; c < m->n_nodes; c++) {
            if (m->nodes[c].from == i)
                rs->node[k++] = (uint32_t)c;
            if (m->nodes[c].to == i)
                rs->node[k++] = (uint32_t)m->nodes[c].parent;
        }
        rs->start[i + 1] = (uint32_t)k;
    }
}

static bool rigid_pair(const void *ctx, uint32_t i, uint32_t j)
{
    const rigid_sets *rs = ctx;
    for (uint32_t a = rs->start[i]; a < rs->start[i + 1]; a++)
        for (uint32_t b = rs->start[j]; b < rs->start[j + 1]; b++)
            if (rs->node[a] == rs->node[b])
                return true;
    return false;
}

static bool is_rotor(const chem_mol *m, uint32_t i, uint32_t j)
{
    for (size_t c = 1; c < m->n_nodes; c++)
        if ((m->nodes[c].from == i && m->nodes[c].to == j) || (m->nodes[c].from == j && m->nodes[c].to == i))
            return true;
    return false;
}

static bool heavy(const chem_atom *a) { return a->z != 1; }

bool vina_ligand_build(vina_ligand *L, const chem_mol *m, chem_error *err)
{
    memset(L, 0, sizeof *L);
    size_t n = m->n_atoms;
    if (n == 0)
        return chem_fail(err, "no atoms");
    for (size_t i = 0; i < n; i++) {
        const chem_atom *a = &m->atoms[i];
        if (a->ad == AD_NONE && !ad_is_extra_metal(a->z))
            return chem_fail(err, "atom %u (line %u): no AutoDock type for element %s", a->serial,
                             a->line, element_symbol(a->z));
        for (size_t j = 0; j < i; j++) {
            const double *p = a->xyz, *q = m->atoms[j].xyz;
            double dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
            if (dx * dx + dy * dy + dz * dz < 1e-4)
                return chem_fail(err, "atoms %u (line %u) and %u (line %u) at the same position",
                                 m->atoms[j].serial, m->atoms[j].line, a->serial, a->line);
        }
    }
    rigid_sets rs;
    rigid_sets_build(&rs, m);
    chem_mol g = *m;
    g.bonds = NULL, g.n_bonds = g.cap_bonds = 0;
    vina_perceive_bonds(&g, rigid_pair, &rs);
    L->n = n;
    L->xs = xmalloc(n);
    xs_assign(&g, L->xs);
    L->n_torsions = m->n_nodes ? (int)m->n_nodes - 1 : 0;

    chem_adj adj;
    adj_build(&adj, &g);
    /* N_rot: each rotatable bond counts 0.5 from each heavy end whose partner has
     * more than one heavy neighbour. */
    for (uint32_t i = 0; i < n; i++) {
        if (!heavy(&m->atoms[i]))
            continue;
        for (uint32_t t = adj.start[i]; t < adj.start[i + 1]; t++) {
            uint32_t j = adj.nbr[t];
            if (!heavy(&m->atoms[j]) || !is_rotor(m, i, j))
                continue;
            int heavy_nbrs = 0;
            for (uint32_t u = adj.start[j]; u < adj.start[j + 1]; u++)
                heavy_nbrs += heavy(&m->atoms[adj.nbr[u]]);
            if (heavy_nbrs > 1)
                L->n_rot += 0.5;
        }
    }
    /* Pairs: heavy, not rigid relative to each other, more than three bonds apart. */
    uint32_t *dist = xmalloc(n * sizeof *dist), *queue = xmalloc(n * sizeof *queue);
    size_t cap = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (L->xs[i] == XS_NONE)
            continue;
        for (size_t k = 0; k < n; k++)
            dist[k] = UINT32_MAX;
        size_t head = 0, tail = 0;
        dist[i] = 0, queue[tail++] = i;
        while (head < tail) {
            uint32_t a = queue[head++];
            if (dist[a] == 3)
                continue;
            for (uint32_t t = adj.start[a]; t < adj.start[a + 1]; t++)
                if (dist[adj.nbr[t]] == UINT32_MAX)
                    dist[adj.nbr[t]] = dist[a] + 1, queue[tail++] = adj.nbr[t];
        }
        for (uint32_t j = i + 1; j < n; j++) {
            if (L->xs[j] == XS_NONE || dist[j] != UINT32_MAX || rigid_pair(&rs, i, j))
                continue;
            if (L->n_pairs == cap) {
                cap = cap ? 2 * cap : 256;
                L->pairs = xrealloc(L->pairs, 2 * cap * sizeof *L->pairs);
            }
            L->pairs[2 * L->n_pairs] = i;
            L->pairs[2 * L->n_pairs + 1] = j;
            L->n_pairs++;
        }
    }
    free(dist);
    free(queue);
    adj_free(&adj);
    free(g.bonds);
    free(rs.start);
    free(rs.node);
    return true;
}

void vina_ligand_free(vina_ligand *L)
{
    free(L->xs);
    free(L->pairs);
    memset(L, 0, sizeof *L);
}

double vina_intra_energy(const vina_ligand *L, const double *xyz, double *grad)
{
    double e = 0;
    for (size_t k = 0; k < L->n_pairs; k++) {
        uint32_t i = L->pairs[2 * k], j = L->pairs[2 * k + 1];
        double d[3], r2 = 0;
        for (int c = 0; c < 3; c++) {
            d[c] = xyz[3 * j + c] - xyz[3 * i + c];
            r2 += d[c] * d[c];
        }
        if (r2 >= VINA_CUTOFF * VINA_CUTOFF)
            continue;
        if (grad) {
            double dor, scale;
            double pe = damp(vina_pair_energy_deriv(L->xs[i], L->xs[j], r2, &dor), &scale);
            e += pe;
            for (int c = 0; c < 3; c++) {
                grad[3 * i + c] -= dor * scale * d[c];
                grad[3 * j + c] += dor * scale * d[c];
            }
        } else {
            e += damp(vina_pair_energy_table(L->xs[i], L->xs[j], r2), NULL);
        }
    }
    return e;
}

void vina_score_pose(const vina_receptor *r, const vina_ligand *L, const double *xyz, vina_score *out)
{
    memset(out, 0, sizeof *out);
    double terms[5] = {0};
    for (size_t i = 0; i < L->n; i++) {
        int t = L->xs[i];
        if (t == XS_NONE)
            continue;
        const double *p = xyz + 3 * i;
        out->inter += vina_atom_energy(r, t, p, NULL);
        FOR_NEIGHBOURS(r, p, {
            double tm[5];
            vina_terms(t, r->xs[j], sqrt(r2), tm);
            for (int k = 0; k < 5; k++)
                terms[k] += tm[k];
        });
    }
    out->intra = vina_intra_energy(L, xyz, NULL);
    out->n_rot = L->n_rot;
    /* In --score_only the unbound energy is this pose's intra, so it cancels. */
    out->total = out->inter / (1 + VINA_W_ROT * L->n_rot);
    out->torsional = out->total - out->inter;
    out->gauss1 = terms[0], out->gauss2 = terms[1], out->repulsion = terms[2];
    out->hydrophobic = terms[3], out->hydrogen = terms[4];
}

long vina_outside_box(const vina_box *b, const vina_ligand *L, const double *xyz)
{
    for (size_t i = 0; i < L->n; i++) {
        if (L->xs[i] == XS_NONE)
            continue;
        for (int k = 0; k < 3; k++)
            if (xyz[3 * i + k] < b->lo[k] - 0.0001 || xyz[3 * i + k] > b->hi[k] + 0.0001)
                return (long)i;
    }
    return -1;
}
