#include "chem/vina_opt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "chem/adtype.h"

typedef struct {
    const vina_receptor *r;
    vina_grid *grid;
    const vina_box *box;
    const vina_ligand *L;
    size_t n, n_nodes;
    const double *ref;      /* (n, 3) starting coordinates */
    int32_t *node;          /* (n) node of each atom */
    int32_t *parent;        /* (n_nodes) */
    uint32_t *from, *to;    /* (n_nodes) rotatable bond of each node but the root */
    bool *below;            /* (n_nodes, n_nodes): below[c * n_nodes + k]: k in c's subtree */
    double origin[3];
    double *xyz, *grad;     /* (n, 3) scratch */
    double (*rot)[9], (*shift)[3];
} model;

/* A conformation: position (3), orientation as a matrix, torsions. */
typedef struct {
    double p[3], R[9], *tors;
} conf;

static void rotation_matrix(const double axis[3], double angle, double M[9])
{
    double c = cos(angle), s = sin(angle), t = 1 - c;
    double x = axis[0], y = axis[1], z = axis[2];
    double m[9] = {t * x * x + c,     t * x * y - s * z, t * x * z + s * y,
                   t * x * y + s * z, t * y * y + c,     t * y * z - s * x,
                   t * x * z - s * y, t * y * z + s * x, t * z * z + c};
    memcpy(M, m, sizeof m);
}

static void mat_mul(const double A[9], const double B[9], double C[9])
{
    double t[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            t[3 * i + j] = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j];
    memcpy(C, t, sizeof t);
}

static void mat_vec(const double A[9], const double v[3], double out[3])
{
    double t[3];
    for (int i = 0; i < 3; i++)
        t[i] = A[3 * i] * v[0] + A[3 * i + 1] * v[1] + A[3 * i + 2] * v[2];
    memcpy(out, t, sizeof t);
}

/* Coordinates of conformation c into mo->xyz. */
static void place(model *mo, const conf *c)
{
    for (size_t k = 0; k < mo->n_nodes; k++) {
        if (k == 0) {
            memcpy(mo->rot[0], c->R, sizeof c->R);
            double ro[3];
            mat_vec(c->R, mo->origin, ro);
            for (int i = 0; i < 3; i++)
                mo->shift[0][i] = c->p[i] - ro[i];
            continue;
        }
        const double *a = mo->ref + 3 * mo->from[k], *b = mo->ref + 3 * mo->to[k];
        double axis[3], len = 0, Q[9], qb[3];
        for (int i = 0; i < 3; i++)
            axis[i] = b[i] - a[i], len += axis[i] * axis[i];
        for (int i = 0; i < 3; i++)
            axis[i] /= sqrt(len);
        rotation_matrix(axis, c->tors[k - 1], Q);
        int32_t p = mo->parent[k];
        mat_mul(mo->rot[p], Q, mo->rot[k]);
        mat_vec(Q, b, qb);
        double d[3] = {b[0] - qb[0], b[1] - qb[1], b[2] - qb[2]}, rd[3];
        mat_vec(mo->rot[p], d, rd);
        for (int i = 0; i < 3; i++)
            mo->shift[k][i] = rd[i] + mo->shift[p][i];
    }
    for (size_t i = 0; i < mo->n; i++) {
        int32_t k = mo->node[i];
        mat_vec(mo->rot[k], mo->ref + 3 * i, mo->xyz + 3 * i);
        for (int c3 = 0; c3 < 3; c3++)
            mo->xyz[3 * i + c3] += mo->shift[k][c3];
    }
}

/* Energy of conformation c and its gradient g (3 position, 3 orientation, torsions). */
static double energy(model *mo, const conf *c, double *g)
{
    place(mo, c);
    memset(mo->grad, 0, 3 * mo->n * sizeof *mo->grad);
    double e = 0;
    for (size_t i = 0; i < mo->n; i++) {
        int t = mo->L->xs[i];
        if (t == XS_NONE)
            continue;
        double gi[3];
        e += mo->grid ? vina_grid_energy(mo->grid, t, mo->xyz + 3 * i, gi)
                      : vina_atom_energy(mo->r, t, mo->xyz + 3 * i, gi);
        for (int k = 0; k < 3; k++)
            mo->grad[3 * i + k] += gi[k];
        if (!mo->grid) /* the grid has the box penalty built in; the pair sums do not */
            for (int k = 0; k < 3; k++) {
                double x = mo->xyz[3 * i + k];
                if (x < mo->box->lo[k])
                    e += 1e6 * (mo->box->lo[k] - x), mo->grad[3 * i + k] -= 1e6;
                else if (x > mo->box->hi[k])
                    e += 1e6 * (x - mo->box->hi[k]), mo->grad[3 * i + k] += 1e6;
            }
    }
    e += vina_intra_energy(mo->L, mo->xyz, mo->grad);
    size_t nt = mo->n_nodes - 1;
    memset(g, 0, (6 + nt) * sizeof *g);
    for (size_t i = 0; i < mo->n; i++) {
        const double *x = mo->xyz + 3 * i, *f = mo->grad + 3 * i;
        double d[3] = {x[0] - c->p[0], x[1] - c->p[1], x[2] - c->p[2]};
        for (int k = 0; k < 3; k++)
            g[k] += f[k];
        g[3] += d[1] * f[2] - d[2] * f[1];
        g[4] += d[2] * f[0] - d[0] * f[2];
        g[5] += d[0] * f[1] - d[1] * f[0];
        for (size_t k = 1; k < mo->n_nodes; k++) {
            if (!mo->below[k * mo->n_nodes + (size_t)mo->node[i]])
                continue;
            const double *a = mo->xyz + 3 * mo->from[k], *b = mo->xyz + 3 * mo->to[k];
            double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
            double un = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
            double r[3] = {x[0] - b[0], x[1] - b[1], x[2] - b[2]};
            double tq[3] = {r[1] * f[2] - r[2] * f[1], r[2] * f[0] - r[0] * f[2], r[0] * f[1] - r[1] * f[0]};
            g[6 + k - 1] += (tq[0] * u[0] + tq[1] * u[1] + tq[2] * u[2]) / un;
        }
    }
    return e;
}

static void step(const conf *c, const double *dir, double alpha, size_t nt, conf *out)
{
    for (int k = 0; k < 3; k++)
        out->p[k] = c->p[k] + alpha * dir[k];
    double w[3] = {alpha * dir[3], alpha * dir[4], alpha * dir[5]};
    double angle = sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]), M[9];
    if (angle > 0) {
        for (int k = 0; k < 3; k++)
            w[k] /= angle;
        rotation_matrix(w, angle, M);
        mat_mul(M, c->R, out->R);
    } else {
        memcpy(out->R, c->R, sizeof c->R);
    }
    for (size_t k = 0; k < nt; k++)
        out->tors[k] = c->tors[k] + alpha * dir[6 + k];
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

void vina_autobox(const vina_ligand *L, const double *xyz, vina_box *box)
{
    double c[3] = {0, 0, 0}, far[3] = {0, 0, 0}, size[3];
    for (size_t i = 0; i < L->n; i++)
        for (int k = 0; k < 3; k++)
            c[k] += xyz[3 * i + k] / (double)L->n;
    for (size_t i = 0; i < L->n; i++)
        for (int k = 0; k < 3; k++)
            far[k] = fmax(far[k], fabs(xyz[3 * i + k] - c[k]));
    for (int k = 0; k < 3; k++)
        size[k] = ceil((far[k] + 4) * 2);
    vina_box_make(box, c, size);
}

double vina_minimize(const vina_receptor *r, vina_grid *grid, const vina_box *box,
                     const vina_ligand *L, const chem_mol *m, double *xyz)
{
    model mo = {.r = r, .grid = grid, .box = box, .L = L, .n = L->n};
    mo.n_nodes = m->n_nodes ? m->n_nodes : 1;
    size_t nn = mo.n_nodes, nt = nn - 1, dim = 6 + nt;
    double *ref = xmalloc(3 * mo.n * sizeof *ref);
    memcpy(ref, xyz, 3 * mo.n * sizeof *ref);
    mo.ref = ref;
    mo.node = xmalloc(mo.n * sizeof *mo.node);
    for (size_t i = 0; i < mo.n; i++)
        mo.node[i] = m->n_nodes ? m->atoms[i].node : 0;
    mo.parent = xmalloc(nn * sizeof *mo.parent);
    mo.from = xmalloc(nn * sizeof *mo.from);
    mo.to = xmalloc(nn * sizeof *mo.to);
    mo.below = xcalloc(nn * nn, sizeof *mo.below);
    for (size_t k = 0; k < nn; k++) {
        mo.parent[k] = m->n_nodes ? m->nodes[k].parent : -1;
        mo.from[k] = m->n_nodes ? m->nodes[k].from : 0;
        mo.to[k] = m->n_nodes ? m->nodes[k].to : 0;
        for (int32_t a = (int32_t)k; a >= 0; a = mo.parent[a])
            mo.below[(size_t)a * nn + k] = true;
    }
    /* Vina's origin: the root's first atom. */
    for (size_t i = 0; i < mo.n; i++)
        if (mo.node[i] == 0) {
            memcpy(mo.origin, ref + 3 * i, sizeof mo.origin);
            break;
        }
    mo.xyz = xmalloc(3 * mo.n * sizeof *mo.xyz);
    mo.grad = xmalloc(3 * mo.n * sizeof *mo.grad);
    mo.rot = xmalloc(nn * sizeof *mo.rot);
    mo.shift = xmalloc(nn * sizeof *mo.shift);

    double *tors = xcalloc(4 * (nt + 1), sizeof *tors);
    conf x = {.R = {1, 0, 0, 0, 1, 0, 0, 0, 1}, .tors = tors};
    conf x_new = {.tors = tors + (nt + 1)}, x_orig = {.tors = tors + 2 * (nt + 1)};
    memcpy(x.p, mo.origin, sizeof x.p);
    double *h = xcalloc(dim * dim, sizeof *h), *g = xmalloc(4 * dim * sizeof *g);
    double *g_new = g + dim, *p = g + 2 * dim, *y = g + 3 * dim, *hy = xmalloc(dim * sizeof *hy);
    for (size_t i = 0; i < dim; i++)
        h[i * dim + i] = 1;
    double f0 = energy(&mo, &x, g), f_orig = f0;
    x_orig.tors = tors + 2 * (nt + 1);
    memcpy(x_orig.p, x.p, sizeof x.p), memcpy(x_orig.R, x.R, sizeof x.R);
    unsigned max_steps = (unsigned)((25 + mo.n) / 3);
    for (unsigned it = 0; it < max_steps; it++) {
        for (size_t i = 0; i < dim; i++)
            p[i] = -dot(h + i * dim, g, dim);
        /* Armijo backtracking, as Vina's line_search. */
        double pg = dot(p, g, dim), alpha = 1, f1 = 0;
        for (int trial = 0; trial < 10; trial++) {
            step(&x, p, alpha, nt, &x_new);
            f1 = energy(&mo, &x_new, g_new);
            if (f1 - f0 < 0.0001 * alpha * pg)
                break;
            alpha *= 0.5;
        }
        for (size_t i = 0; i < dim; i++)
            y[i] = g_new[i] - g[i];
        f0 = f1;
        memcpy(x.p, x_new.p, sizeof x.p), memcpy(x.R, x_new.R, sizeof x.R);
        memcpy(x.tors, x_new.tors, nt * sizeof *x.tors);
        memcpy(g, g_new, dim * sizeof *g);
        if (!(sqrt(dot(g, g, dim)) >= 1e-5))
            break;
        if (it == 0) {
            double yy = dot(y, y, dim);
            if (fabs(yy) > 1e-12)
                for (size_t i = 0; i < dim; i++) {
                    memset(h + i * dim, 0, dim * sizeof *h);
                    h[i * dim + i] = alpha * dot(y, p, dim) / yy;
                }
        }
        /* BFGS update of the inverse Hessian (Vina's bfgs_update). */
        double yp = dot(y, p, dim);
        if (alpha * yp < 1e-12)
            continue;
        for (size_t i = 0; i < dim; i++)
            hy[i] = -dot(h + i * dim, y, dim);
        double yhy = -dot(y, hy, dim), rr = 1 / (alpha * yp);
        for (size_t i = 0; i < dim; i++)
            for (size_t j = i; j < dim; j++) {
                double d = alpha * rr * (hy[i] * p[j] + hy[j] * p[i]) +
                           alpha * alpha * (rr * rr * yhy + rr) * p[i] * p[j];
                h[i * dim + j] += d;
                if (j != i)
                    h[j * dim + i] += d;
            }
    }
    if (!(f0 <= f_orig)) {
        f0 = f_orig;
        x.tors = x_orig.tors;
        memcpy(x.p, x_orig.p, sizeof x.p), memcpy(x.R, x_orig.R, sizeof x.R);
    }
    place(&mo, &x);
    memcpy(xyz, mo.xyz, 3 * mo.n * sizeof *xyz);
    free(h), free(g), free(hy), free(tors), free(ref), free(mo.node), free(mo.parent);
    free(mo.from), free(mo.to), free(mo.below), free(mo.xyz), free(mo.grad), free(mo.rot), free(mo.shift);
    return f0;
}
