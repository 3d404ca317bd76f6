/* The adapters' products run as sgemm calls split by rows over the OpenMP threads, as
 * nn/linear.c does; each is small beside the layer's own (r is far below in and out). */
#include "nn/lora.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "base/threads.h"

unsigned lora_targets_parse(const char *s)
{
    if (strcmp(s, "attn") == 0 || strcmp(s, "attention") == 0)
        return LORA_ATTN;
    if (strcmp(s, "mlp") == 0)
        return LORA_MLP;
    if (strcmp(s, "all") == 0)
        return LORA_ALL;
    return 0;
}

const char *lora_targets_name(unsigned targets)
{
    return targets == LORA_ALL ? "all" : targets == LORA_MLP ? "mlp" : "attn";
}

bool lora_targets_match(unsigned targets, const char *name)
{
    bool attn = strstr(name, ".attn.") || strstr(name, ".rec.");
    bool mlp = strstr(name, ".mlp.") != NULL;
    return ((targets & LORA_ATTN) && attn) || ((targets & LORA_MLP) && mlp);
}

/* A forward or backward runs as one parallel region, each thread taking its share of the
 * rows (n) for the row-wise products, then (backward) its share of dA's and dB's rows; a
 * region costs more than it saves below about a million multiply-adds. */
#define PARALLEL_MACS (64L * PARALLEL_MIN)

/* C (M, N) = alpha op(A) op(B) + beta C, row-major. */
static void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, long M, int N, long K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C,
                 int ldc)
{
    if (M > 0)
        cblas_sgemm(CblasRowMajor, ta, tb, (int)M, N, (int)K, alpha, A, lda, B, ldb, beta, C,
                    ldc);
}

static void grow(float **p, long *cap, long n)
{
    if (n > *cap) {
        free(*p);
        *p = xmalloc((size_t)n * sizeof **p);
        *cap = n;
    }
}

/* ---- dropout ---- */

/* xd[i] = x[i] * mask[i] / (1 - p) for i in [lo, hi); element i is kept when a hash of
 * (seed, i) is at least p, so any range can be drawn again alone. */
static void dropout(float *xd, const float *x, long lo, long hi, uint64_t seed, double p)
{
    uint64_t cut = (uint64_t)ldexp(p, 64);
    float keep = (float)(1.0 / (1.0 - p));
    for (long i = lo; i < hi; i++)
        xd[i] = mix64(seed ^ (uint64_t)i * 0x9e3779b97f4a7c15ULL) >= cut ? x[i] * keep : 0.0f;
}

/* ---- the hooks ---- */

static linear_ext *inner(linear_ext *e) { return ((lora_layer *)e)->inner; }

/* Whether the layer multiplies with W + s A B: in training (large batches, where forming
 * it costs less than the passes it saves), when the adapter sees the layer's own input (no
 * dropout, no inner input hook) and its dx takes the layer's own dy (no inner grad_x hook).
 * The training mode must not change between a forward and its backward. */
static bool merges(const lora_layer *a)
{
    const linear_ext *in = a->inner;
    return a->set->training && a->set->cfg.dropout == 0 && !(in && (in->input || in->grad_x));
}

/* W + s A B in the set's scratch (one layer at a time), or W as the inner extension or the
 * layer has it. */
static const float *lora_weight(linear_ext *e, const linear *l)
{
    lora_layer *a = (lora_layer *)e;
    lora_set *s = a->set;
    const float *w = a->inner && a->inner->weight ? a->inner->weight(a->inner, l) : l->w;
    if (!merges(a))
        return w;
    int in = l->in, out = l->out, r = s->cfg.rank;
    const float *A = param_w(&s->params, a->a), *B = param_w(&s->params, a->b);
    grow(&s->w, &s->w_cap, (long)in * out);
    float *sum = s->w;
#pragma omp parallel if ((long)in * out * (r + 1) >= PARALLEL_MACS)
    {
        long lo, hi;
        thread_share(in, &lo, &hi);
        if (hi > lo)
            memcpy(sum + lo * out, w + lo * out, (size_t)(hi - lo) * out * sizeof *sum);
        gemm(CblasNoTrans, CblasNoTrans, hi - lo, out, r, s->scale, A + lo * r, r, B, out,
             1.0f, sum + lo * out, out);
    }
    return sum;
}

static const float *lora_input(linear_ext *e, const linear *l, const float *x, int n)
{
    return inner(e)->input(inner(e), l, x, n);
}

static const float *lora_grad_w(linear_ext *e, const linear *l, const float *dy, int n)
{
    return inner(e)->grad_w(inner(e), l, dy, n);
}

static const float *lora_grad_x(linear_ext *e, const linear *l, const float *dy, int n)
{
    return inner(e)->grad_x(inner(e), l, dy, n);
}

/* xa = xd A, xd the input after dropout, kept for the backward; and y (n, out) += s xa B
 * unless the layer multiplied with W + s A B already.  The adapter reads the layer's input
 * as it is, not an inner extension's version of it. */
static void lora_forward(linear_ext *e, const linear *l, float *y, const float *x, int n)
{
    lora_layer *a = (lora_layer *)e;
    lora_set *s = a->set;
    if (a->inner && a->inner->forward)
        a->inner->forward(a->inner, l, y, x, n);
    int in = l->in, out = l->out, r = s->cfg.rank;
    const float *A = param_w(&s->params, a->a), *B = param_w(&s->params, a->b);
    grow(&a->xa, &a->cap, (long)n * r);
    float *xa = a->xa, *xd = s->xd;
    a->masked = s->training && s->cfg.dropout > 0;
    a->merged = merges(a);
    if (a->masked) {
        a->mask = mix64(s->seed ^ mix64(((uint64_t)a->id << 40) ^ a->forwards++));
        grow(&s->xd, &s->xd_cap, (long)n * in);
        xd = s->xd;
    }
#pragma omp parallel if ((long)n * r * (in + out) >= PARALLEL_MACS)
    {
        long lo, hi;
        thread_share(n, &lo, &hi);
        const float *xin = x;
        if (a->masked) {
            dropout(xd, x, lo * in, hi * in, a->mask, s->cfg.dropout);
            xin = xd;
        }
        gemm(CblasNoTrans, CblasNoTrans, hi - lo, r, in, 1.0f, xin + lo * in, in, A, r, 0.0f,
             xa + lo * r, r);
        if (!a->merged)
            gemm(CblasNoTrans, CblasNoTrans, hi - lo, out, r, s->scale, xa + lo * r, r, B, out,
                 1.0f, y + lo * out, out);
    }
}

/* With du = s dy Bᵀ (n, r):  dx += (du Aᵀ) * mask / (1 - p) (unless the layer's dx came
 * from W + s A B),  dA += xdᵀ du,  dB += s (xd A)ᵀ dy; the mask is drawn again from its
 * seed. */
static void lora_backward(linear_ext *e, const linear *l, float *dx, const float *dy,
                          const float *x, int n)
{
    lora_layer *a = (lora_layer *)e;
    lora_set *s = a->set;
    if (a->inner && a->inner->backward)
        a->inner->backward(a->inner, l, dx, dy, x, n);
    int in = l->in, out = l->out, r = s->cfg.rank;
    const float *A = param_w(&s->params, a->a), *B = param_w(&s->params, a->b);
    float *dA = param_learn_g(&s->params, a->a), *dB = param_learn_g(&s->params, a->b);
    grow(&s->du, &s->du_cap, (long)n * r);
    if (a->masked) {
        grow(&s->xd, &s->xd_cap, (long)n * in);
        grow(&s->tmp, &s->tmp_cap, (long)n * in);
    }
    float *du = s->du, *xd = s->xd, *tmp = s->tmp;
    const float *xa = a->xa;
    double p = s->cfg.dropout;
#pragma omp parallel if ((long)n * r * (in + out) >= PARALLEL_MACS)
    {
        long lo, hi;
        thread_share(n, &lo, &hi);
        gemm(CblasNoTrans, CblasTrans, hi - lo, r, out, s->scale, dy + lo * out, out, B, out,
             0.0f, du + lo * r, r);
        if (a->masked)
            dropout(xd, x, lo * in, hi * in, a->mask, p);
        if (dx && !a->masked && !a->merged)
            gemm(CblasNoTrans, CblasTrans, hi - lo, in, r, 1.0f, du + lo * r, r, A, r, 1.0f,
                 dx + lo * in, in);
        if (dx && a->masked) { /* d(xd)/dx is the mask over (1 - p) */
            gemm(CblasNoTrans, CblasTrans, hi - lo, in, r, 1.0f, du + lo * r, r, A, r, 0.0f,
                 tmp + lo * in, in);
            dropout(tmp, tmp, lo * in, hi * in, a->mask, p);
            for (long i = lo * in; i < hi * in; i++)
                dx[i] += tmp[i];
        }
#pragma omp barrier
        const float *xin = a->masked ? xd : x;
        thread_share(in, &lo, &hi);
        if (dA)
            gemm(CblasTrans, CblasNoTrans, hi - lo, r, n, 1.0f, xin + lo, in, du, r, 1.0f,
                 dA + lo * r, r);
        thread_share(r, &lo, &hi);
        if (dB)
            gemm(CblasTrans, CblasNoTrans, hi - lo, out, n, s->scale, xa + lo, r, dy, out,
                 1.0f, dB + lo * out, out);
    }
}

/* ---- the set ---- */

void lora_check(const lora_config *cfg, const linear *l, const char *name)
{
    if (cfg->rank < 1 || cfg->rank > l->in || cfg->rank > l->out)
        die(EX_USAGE, "rank %d does not fit layer %s (%d x %d): it must be from 1 to %d",
            cfg->rank, name, l->in, l->out, l->in < l->out ? l->in : l->out);
}

lora_set *lora_new(const lora_config *cfg, int n, linear *const *lins,
                   const char *const *names)
{
    for (int i = 0; i < n; i++)
        lora_check(cfg, lins[i], names[i]);
    lora_set *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->scale = (float)(cfg->alpha / cfg->rank);
    s->n = n;
    s->layers = xcalloc(n > 0 ? (size_t)n : 1, sizeof *s->layers);
    int64_t r = cfg->rank;
    for (int i = 0; i < n; i++) {
        lora_layer *a = &s->layers[i];
        linear *l = lins[i];
        char name[PARAM_NAME_MAX];
        snprintf(name, sizeof name, "%s.lora_A", names[i]);
        a->a = param_add(&s->params, name, 0, 2, (int64_t[]){l->in, r});
        snprintf(name, sizeof name, "%s.lora_B", names[i]);
        a->b = param_add(&s->params, name, 0, 2, (int64_t[]){r, l->out});
        a->set = s;
        a->lin = l;
        a->name = names[i];
        a->id = i;
    }
    param_alloc(&s->params);
    return s;
}

void lora_seed_dropout(lora_set *s, uint64_t seed)
{
    s->seed = mix64(seed ^ 0x6c6f7261ULL); /* "lora": the masks' own stream */
    for (int i = 0; i < s->n; i++)
        s->layers[i].forwards = 0;
}

void lora_init(lora_set *s, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    lora_seed_dropout(s, seed);
    for (int i = 0; i < s->n; i++) {
        lora_layer *a = &s->layers[i];
        const param_info *p = &s->params.info[a->a];
        double bound = 1.0 / sqrt((double)a->lin->in);
        float *A = param_w(&s->params, a->a);
        for (size_t k = 0; k < p->count; k++)
            A[k] = (float)(bound * (2.0 * rng_uniform(&r) - 1.0));
        memset(param_w(&s->params, a->b), 0, s->params.info[a->b].count * sizeof(float));
    }
}

void lora_attach(lora_set *s)
{
    if (s->attached)
        return;
    for (int i = 0; i < s->n; i++) {
        lora_layer *a = &s->layers[i];
        linear_ext *in = a->lin->ext;
        a->inner = in;
        a->ext = (linear_ext){
            .weight = lora_weight,
            .input = in && in->input ? lora_input : NULL,
            .grad_w = in && in->grad_w ? lora_grad_w : NULL,
            .grad_x = in && in->grad_x ? lora_grad_x : NULL,
            .forward = lora_forward,
            .backward = lora_backward,
        };
        a->lin->ext = &a->ext;
    }
    s->attached = true;
}

void lora_detach(lora_set *s)
{
    if (!s->attached)
        return;
    for (int i = s->n - 1; i >= 0; i--) {
        lora_layer *a = &s->layers[i];
        if (a->lin->ext != &a->ext)
            die(EX_SOFTWARE, "lora: layer %s has another extension on top of its adapter",
                a->name);
        a->lin->ext = a->inner;
        a->inner = NULL;
    }
    s->attached = false;
}

void lora_set_training(lora_set *s, bool on) { s->training = on; }

void lora_merge(lora_set *s)
{
    lora_detach(s);
    int r = s->cfg.rank;
    for (int i = 0; i < s->n; i++) {
        lora_layer *a = &s->layers[i];
        linear *l = a->lin;
        if (l->ext && l->ext->weight)
            die(EX_SOFTWARE, "lora: layer %s multiplies with another weight than W: restore "
                "it before merging", a->name);
        gemm(CblasNoTrans, CblasNoTrans, l->in, l->out, r, s->scale, param_w(&s->params, a->a),
             r, param_w(&s->params, a->b), l->out, 1.0f, l->w, l->out);
    }
}

void lora_free(lora_set *s)
{
    if (!s)
        return;
    lora_detach(s);
    for (int i = 0; i < s->n; i++)
        free(s->layers[i].xa);
    free(s->layers);
    free(s->xd);
    free(s->tmp);
    free(s->w);
    free(s->du);
    param_free(&s->params);
    free(s);
}
