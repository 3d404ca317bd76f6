/* hawk: the recurrent language model of the Griffin paper (De et al. 2024, "Griffin:
 * Mixing Gated Linear Recurrences with Local Attention"), the recurrent half of
 * RecurrentGemma, behind the model interface (model.h).
 *
 * Definition (tests/ref/torch_hawk.py implements exactly this, independently, in torch):
 *
 *   x = wte[tokens] · sqrt(C)                           wte (V, C), tied with the head
 *   for each layer:
 *       x = x + recurrent(rmsnorm_1(x))
 *       x = x + mlp(rmsnorm_2(x))
 *   logits = rmsnorm_f(x) wteᵀ                          no extra scale
 *
 *   rmsnorm(x)   = x / sqrt(mean(x²) + 1e-6) ⊙ weight
 *   recurrent(h) = (g ⊙ y) W_out + b_out, where
 *       g = GeLU(h W_gate + b_gate)                    (lru)
 *       u = h W_in + b_in                              (lru)
 *       u'_t = b_conv + Σ_{k=0..K-1} w_conv[k] ⊙ u_{t-k}   causal depthwise conv, K = 4,
 *                                                      zeros before each sequence's start;
 *                                                      w_conv[0] weighs the current input
 *       y = RG-LRU(u'):
 *           r_t = σ(u'_t W_a + b_a),  i_t = σ(u'_t W_x + b_x)
 *           log a_t = -8 · r_t ⊙ softplus(-Λ)
 *           h_t = a_t ⊙ h_{t-1} + sqrt(1 - a_t²) ⊙ (i_t ⊙ u'_t),  h_{-1} = 0,  y_t = h_t
 *   mlp(h)       = (GeLU(h W_1 + b_1) ⊙ (h W_2 + b_2)) W_3 + b_3     hidden width 3C
 *   GeLU is the tanh approximation.
 *
 * Every weight matrix is a `linear` (y = x W + b, W stored (in, out)), so LoRA and the
 * quantizers attach to all of them.  Initialization (hawk_init) is documented there.
 *
 * Memory follows llm.c: the parameters are one slab (params.h); model_plan lays out every
 * activation of a (B, T) batch in a second slab, and, for training, the scratch of one
 * layer's backward pass (reused by every layer) in a third; forward and backward allocate
 * nothing.  Incremental inference keeps, per layer, the last K-1 inputs of the conv and
 * the RG-LRU state h: a constant-size state, with no limit on the position. */
#include "model/hawk.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "model/model.h"
#include "nn/act.h"
#include "nn/embed.h"
#include "nn/rmsnorm.h"
#include "base/threads.h"

/* Loops over fewer elements than this run on one thread: forking would cost more than it
 * saves (one step of inference works on single rows). */
/* ---- elementwise helpers ---- */

static void mul(float *y, const float *a, const float *b, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t k = 0; k < n; k++)
        y[k] = a[k] * b[k];
}

static void add_into(float *y, const float *x, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t k = 0; k < n; k++)
        y[k] += x[k];
}

static void zero(float *x, size_t n) { memset(x, 0, n * sizeof *x); }

/* ---- the recurrent block ---- */

void hawk_recurrent_forward(const hawk_recurrent *rb, float *out, hawk_recurrent_acts *a,
                            const float *x, int B, int T)
{
    int N = B * T;
    size_t n = (size_t)N * rb->lru.D;
    linear_forward(&rb->gate, a->gate_pre, x, N);
    gelu_forward(a->gate, a->gate_pre, n);
    linear_forward(&rb->in, a->u, x, N);
    conv1d_forward(&rb->conv, a->conv, a->u, B, T);
    rglru_forward(&rb->lru, &a->lru, a->conv, B, T);
    mul(a->gy, a->gate, a->lru.h, n);
    linear_forward(&rb->out, out, a->gy, N);
}

void hawk_recurrent_backward(const hawk_recurrent *rb, float *dx, const float *dout,
                             const float *x, const hawk_recurrent_acts *a,
                             const hawk_recurrent_scratch *s, int B, int T)
{
    int N = B * T;
    size_t n = (size_t)N * rb->lru.D;
    zero(s->dgy, n);
    linear_backward(&rb->out, s->dgy, dout, a->gy, N);
    mul(s->dgate, s->dgy, a->lru.h, n);
    mul(s->dy, s->dgy, a->gate, n);
    zero(s->dgate_pre, n);
    gelu_backward(s->dgate_pre, s->dgate, a->gate_pre, n);
    zero(s->dconv, n);
    rglru_backward(&rb->lru, s->dconv, s->dy, a->conv, &a->lru, &s->lru, B, T);
    zero(s->du, n);
    conv1d_backward(&rb->conv, s->du, s->dconv, a->u, B, T);
    linear_backward(&rb->in, dx, s->du, x, N);
    linear_backward(&rb->gate, dx, s->dgate_pre, x, N);
}

/* One position of the recurrent block for inference: hist (K-1, lru) and h (lru) are the
 * layer's state; a holds one position's activations (not lru.log_a and lru.h: h is the
 * state). */
static void hawk_recurrent_step(const hawk_recurrent *rb, float *out, float *hist, float *h,
                                hawk_recurrent_acts *a, const float *x)
{
    size_t n = (size_t)rb->lru.D;
    linear_forward(&rb->gate, a->gate_pre, x, 1);
    gelu_forward(a->gate, a->gate_pre, n);
    linear_forward(&rb->in, a->u, x, 1);
    conv1d_step(&rb->conv, a->conv, hist, a->u);
    rglru_step(&rb->lru, h, a->lru.r, a->lru.i, a->conv);
    mul(a->gy, a->gate, h, n);
    linear_forward(&rb->out, out, a->gy, 1);
}

/* ---- the gated MLP ---- */

void hawk_mlp_forward(const hawk_mlp *mlp, float *out, hawk_mlp_acts *a, const float *x,
                      int N)
{
    size_t n = (size_t)N * mlp->fc1.out;
    linear_forward(&mlp->fc1, a->fc1_pre, x, N);
    gelu_forward(a->fc1, a->fc1_pre, n);
    linear_forward(&mlp->fc2, a->fc2, x, N);
    mul(a->prod, a->fc1, a->fc2, n);
    linear_forward(&mlp->fc3, out, a->prod, N);
}

void hawk_mlp_backward(const hawk_mlp *mlp, float *dx, const float *dout, const float *x,
                       const hawk_mlp_acts *a, const hawk_mlp_scratch *s, int N)
{
    size_t n = (size_t)N * mlp->fc1.out;
    zero(s->dprod, n);
    linear_backward(&mlp->fc3, s->dprod, dout, a->prod, N);
    mul(s->dfc1, s->dprod, a->fc2, n);
    mul(s->dfc2, s->dprod, a->fc1, n);
    zero(s->dfc1_pre, n);
    gelu_backward(s->dfc1_pre, s->dfc1, a->fc1_pre, n);
    linear_backward(&mlp->fc1, dx, s->dfc1_pre, x, N);
    linear_backward(&mlp->fc2, dx, s->dfc2, x, N);
}

/* ---- the model: parameters, activations, scratch ---- */

typedef struct {
    float *norm_1, *dnorm_1; /* (C) */
    hawk_recurrent rec;
    float *norm_2, *dnorm_2; /* (C) */
    hawk_mlp mlp;
} hawk_layer;

typedef struct {            /* one layer's activations */
    float *norm_1;          /* (B, T, C) rmsnorm_1 of the layer's input */
    float *rstd_1;          /* (B, T) */
    hawk_recurrent_acts rec;
    float *mid;             /* (B, T, C) the residual stream after the recurrent block */
    float *norm_2;          /* (B, T, C) */
    float *rstd_2;          /* (B, T) */
    hawk_mlp_acts mlp;
} hawk_layer_acts;

typedef struct {
    float *resid;           /* (L+1, B, T, C) the residual stream entering each layer; the
                               last one enters rmsnorm_f */
    hawk_layer_acts *layer; /* (L) */
    float *norm_f;          /* (B, T, C) */
    float *rstd_f;          /* (B, T) */
    float *logits;          /* (B, T, V) */
    float *lse;             /* (B, T) */
} hawk_acts;

typedef struct {            /* the scratch of backward, for one layer at a time */
    float *dresid;          /* (B, T, C) dL/d of the residual stream, carried down */
    float *dnorm;           /* (B, T, C) dL/d of a norm's output */
    hawk_recurrent_scratch rec;
    hawk_mlp_scratch mlp;
} hawk_grads;

typedef struct {
    float *wte, *dwte;       /* (V, C) */
    hawk_layer *layer;       /* (L) */
    float *norm_f, *dnorm_f; /* (C) */
    int B, T;                /* the planned batch */
    hawk_acts acts;
    float *acts_mem;
    hawk_grads grads;
    float *grads_mem;        /* NULL unless planned for training */
    uint32_t *tokens;        /* (B, T) of the last forward */
    uint32_t *targets;       /* (B, T) of the last forward */
    bool have_targets;
} hawk;

/* ---- slabs: every pointer of a plan is carved out of one allocation ---- */

typedef struct {
    struct { float **p; size_t n; } *part;
    int n, cap;
} slab_plan;

static void slab_want(slab_plan *s, float **p, size_t n)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->part = xrealloc(s->part, (size_t)s->cap * sizeof *s->part);
    }
    s->part[s->n].p = p;
    s->part[s->n].n = (n + 15) / 16 * 16; /* every array on a 64-byte line */
    s->n++;
}

/* Allocate the slab and point every wanted pointer into it; returns the slab. */
static float *slab_carve(slab_plan *s)
{
    size_t total = 0;
    for (int k = 0; k < s->n; k++)
        total += s->part[k].n;
    float *mem = NULL;
    if (posix_memalign((void **)&mem, 64, (total ? total : 1) * sizeof *mem) != 0)
        die(EX_OSERR, "hawk: out of memory (%zu floats of activations)", total);
    memset(mem, 0, total * sizeof *mem);
    size_t off = 0;
    for (int k = 0; k < s->n; k++) {
        *s->part[k].p = mem + off;
        off += s->part[k].n;
    }
    free(s->part);
    memset(s, 0, sizeof *s);
    return mem;
}

/* ---- parameters ---- */

static void declare(model *m, unsigned flags, int64_t rows, int64_t cols, const char *fmt,
                    int l)
{
    char name[PARAM_NAME_MAX];
    snprintf(name, sizeof name, fmt, l);
    int64_t shape[2] = {rows, cols};
    param_add(&m->params, name, flags, cols ? 2 : 1, shape);
}

/* Tensors in checkpoint order; 2-D tensors other than the embedding decay. */
static void hawk_declare(model *m)
{
    const model_config *c = &m->cfg;
    int C = c->width, H = c->mlp, R = c->lru, K = c->conv;
    declare(m, 0, c->vocab, C, "wte.weight", 0);
    for (int l = 0; l < c->layers; l++) {
        declare(m, 0, C, 0, "h.%d.norm_1.weight", l);
        declare(m, PARAM_DECAY, C, R, "h.%d.rec.gate.weight", l);
        declare(m, 0, R, 0, "h.%d.rec.gate.bias", l);
        declare(m, PARAM_DECAY, C, R, "h.%d.rec.in.weight", l);
        declare(m, 0, R, 0, "h.%d.rec.in.bias", l);
        declare(m, PARAM_DECAY, K, R, "h.%d.rec.conv.weight", l);
        declare(m, 0, R, 0, "h.%d.rec.conv.bias", l);
        declare(m, PARAM_DECAY, R, R, "h.%d.rec.lru.a_gate.weight", l);
        declare(m, 0, R, 0, "h.%d.rec.lru.a_gate.bias", l);
        declare(m, PARAM_DECAY, R, R, "h.%d.rec.lru.x_gate.weight", l);
        declare(m, 0, R, 0, "h.%d.rec.lru.x_gate.bias", l);
        declare(m, 0, R, 0, "h.%d.rec.lru.lambda", l);
        declare(m, PARAM_DECAY, R, C, "h.%d.rec.out.weight", l);
        declare(m, 0, C, 0, "h.%d.rec.out.bias", l);
        declare(m, 0, C, 0, "h.%d.norm_2.weight", l);
        declare(m, PARAM_DECAY, C, H, "h.%d.mlp.fc1.weight", l);
        declare(m, 0, H, 0, "h.%d.mlp.fc1.bias", l);
        declare(m, PARAM_DECAY, C, H, "h.%d.mlp.fc2.weight", l);
        declare(m, 0, H, 0, "h.%d.mlp.fc2.bias", l);
        declare(m, PARAM_DECAY, H, C, "h.%d.mlp.fc3.weight", l);
        declare(m, 0, C, 0, "h.%d.mlp.fc3.bias", l);
    }
    declare(m, 0, C, 0, "norm_f.weight", 0);
}

/* The weights of a tensor, and its gradient in *grad (NULL until model_plan for training,
 * and for a frozen tensor). */
static float *tensor(model *m, float **grad, const char *name)
{
    int k = param_find(&m->params, name);
    if (k < 0)
        die(EX_SOFTWARE, "hawk: no tensor %s", name);
    *grad = param_learn_g(&m->params, k);
    return param_w(&m->params, k);
}

/* "h.<l>.<leaf>" in buf */
static const char *layer_name(char *buf, int l, const char *leaf)
{
    snprintf(buf, PARAM_NAME_MAX, "h.%d.%s", l, leaf);
    return buf;
}

static void bind_linear(model *m, linear *lin, int in, int out, int l, const char *leaf)
{
    char name[PARAM_NAME_MAX], full[PARAM_NAME_MAX + 8];
    layer_name(name, l, leaf);
    lin->in = in;
    lin->out = out;
    snprintf(full, sizeof full, "%s.weight", name);
    lin->w = tensor(m, &lin->dw, full);
    snprintf(full, sizeof full, "%s.bias", name);
    lin->b = tensor(m, &lin->db, full);
    model_add_linear(m, lin, name);
}

/* Point the layers into the slabs.  Called again once gradients exist; leaves each
 * linear's ext alone. */
static void hawk_bind(model *m)
{
    const model_config *c = &m->cfg;
    int C = c->width, H = c->mlp, R = c->lru;
    hawk *hk = m->impl;
    if (!hk) {
        hk = m->impl = xcalloc(1, sizeof *hk);
        hk->layer = xcalloc((size_t)c->layers, sizeof *hk->layer);
    }
    hk->wte = tensor(m, &hk->dwte, "wte.weight");
    hk->norm_f = tensor(m, &hk->dnorm_f, "norm_f.weight");
    char n[PARAM_NAME_MAX];
    for (int l = 0; l < c->layers; l++) {
        hawk_layer *L = &hk->layer[l];
        L->norm_1 = tensor(m, &L->dnorm_1, layer_name(n, l, "norm_1.weight"));
        bind_linear(m, &L->rec.gate, C, R, l, "rec.gate");
        bind_linear(m, &L->rec.in, C, R, l, "rec.in");
        conv1d *cv = &L->rec.conv;
        cv->K = c->conv;
        cv->D = R;
        cv->w = tensor(m, &cv->dw, layer_name(n, l, "rec.conv.weight"));
        cv->b = tensor(m, &cv->db, layer_name(n, l, "rec.conv.bias"));
        rglru *lru = &L->rec.lru;
        lru->D = R;
        bind_linear(m, &lru->a_gate, R, R, l, "rec.lru.a_gate");
        bind_linear(m, &lru->x_gate, R, R, l, "rec.lru.x_gate");
        lru->lambda = tensor(m, &lru->dlambda, layer_name(n, l, "rec.lru.lambda"));
        bind_linear(m, &L->rec.out, R, C, l, "rec.out");
        L->norm_2 = tensor(m, &L->dnorm_2, layer_name(n, l, "norm_2.weight"));
        bind_linear(m, &L->mlp.fc1, C, H, l, "mlp.fc1");
        bind_linear(m, &L->mlp.fc2, C, H, l, "mlp.fc2");
        bind_linear(m, &L->mlp.fc3, H, C, l, "mlp.fc3");
    }
}

static void fill_normal(rng_t *r, float *w, size_t n, double std)
{
    for (size_t k = 0; k < n; k++)
        w[k] = (float)(std * rng_normal(r));
}

static void fill(float *w, size_t n, float v)
{
    for (size_t k = 0; k < n; k++)
        w[k] = v;
}

static void init_linear(rng_t *r, const linear *lin, double scale)
{
    fill_normal(r, lin->w, (size_t)lin->in * lin->out, scale / sqrt(lin->in));
    fill(lin->b, (size_t)lin->out, 0.0f);
}

/* Initialization, drawn from one generator in declaration order:
 *   matrices       N(0, 1/fan_in) (std 1/sqrt(in)), the LeCun-normal rule; the
 *                  two projections back into the residual stream (rec.out, mlp.fc3) are
 *                  scaled by 1/sqrt(2L), as GPT-2 does, so the stream's variance does not
 *                  grow with depth
 *   wte            N(0, 1/C): times sqrt(C) at the input its entries are of unit size,
 *                  and the tied head's logits have unit scale after rmsnorm_f
 *   conv weight    N(0, 1/K): a depthwise tap sees K inputs, so this is the same fan-in
 *                  rule and keeps the conv's output variance that of its input
 *   Λ              σ(Λ)^8 (a's value at r = 1) uniform in [0.9, 0.999]: s ~ U[0.9, 0.999],
 *                  Λ = logit(s^(1/8))
 *   biases 0, norm weights 1. */
static void hawk_init(model *m, uint64_t seed)
{
    const model_config *c = &m->cfg;
    hawk *hk = m->impl;
    int C = c->width, R = c->lru, K = c->conv;
    double proj = 1.0 / sqrt(2.0 * c->layers);
    rng_t r;
    rng_seed(&r, seed);
    fill_normal(&r, hk->wte, (size_t)c->vocab * C, 1.0 / sqrt(C));
    for (int l = 0; l < c->layers; l++) {
        hawk_layer *L = &hk->layer[l];
        fill(L->norm_1, (size_t)C, 1.0f);
        init_linear(&r, &L->rec.gate, 1.0);
        init_linear(&r, &L->rec.in, 1.0);
        fill_normal(&r, L->rec.conv.w, (size_t)K * R, 1.0 / sqrt(K));
        fill(L->rec.conv.b, (size_t)R, 0.0f);
        init_linear(&r, &L->rec.lru.a_gate, 1.0);
        init_linear(&r, &L->rec.lru.x_gate, 1.0);
        for (int d = 0; d < R; d++) {
            double s = 0.9 + (0.999 - 0.9) * rng_uniform(&r);
            double p = pow(s, 1.0 / RGLRU_C);
            L->rec.lru.lambda[d] = (float)log(p / (1.0 - p));
        }
        init_linear(&r, &L->rec.out, proj);
        fill(L->norm_2, (size_t)C, 1.0f);
        init_linear(&r, &L->mlp.fc1, 1.0);
        init_linear(&r, &L->mlp.fc2, 1.0);
        init_linear(&r, &L->mlp.fc3, proj);
    }
    fill(hk->norm_f, (size_t)C, 1.0f);
}

/* ---- planning a batch ---- */

static void want_recurrent_acts(slab_plan *s, hawk_recurrent_acts *a, size_t n)
{
    slab_want(s, &a->gate_pre, n);
    slab_want(s, &a->gate, n);
    slab_want(s, &a->u, n);
    slab_want(s, &a->conv, n);
    slab_want(s, &a->lru.r, n);
    slab_want(s, &a->lru.i, n);
    slab_want(s, &a->lru.log_a, n);
    slab_want(s, &a->lru.h, n);
    slab_want(s, &a->gy, n);
}

static void want_mlp_acts(slab_plan *s, hawk_mlp_acts *a, size_t n)
{
    slab_want(s, &a->fc1_pre, n);
    slab_want(s, &a->fc1, n);
    slab_want(s, &a->fc2, n);
    slab_want(s, &a->prod, n);
}

static void hawk_plan(model *m, int B, int T, bool training)
{
    const model_config *c = &m->cfg;
    hawk *hk = m->impl;
    size_t N = (size_t)B * T, C = (size_t)c->width, R = (size_t)c->lru, H = (size_t)c->mlp;
    free(hk->acts_mem);
    free(hk->grads_mem);
    free(hk->acts.layer);
    free(hk->tokens);
    free(hk->targets);
    hk->B = B;
    hk->T = T;
    hk->have_targets = false;
    hk->tokens = xmalloc(N * sizeof *hk->tokens);
    hk->targets = xmalloc(N * sizeof *hk->targets);

    slab_plan s = {0};
    hawk_acts *a = &hk->acts;
    a->layer = xcalloc((size_t)c->layers, sizeof *a->layer);
    slab_want(&s, &a->resid, (size_t)(c->layers + 1) * N * C);
    for (int l = 0; l < c->layers; l++) {
        hawk_layer_acts *la = &a->layer[l];
        slab_want(&s, &la->norm_1, N * C);
        slab_want(&s, &la->rstd_1, N);
        want_recurrent_acts(&s, &la->rec, N * R);
        slab_want(&s, &la->mid, N * C);
        slab_want(&s, &la->norm_2, N * C);
        slab_want(&s, &la->rstd_2, N);
        want_mlp_acts(&s, &la->mlp, N * H);
    }
    slab_want(&s, &a->norm_f, N * C);
    slab_want(&s, &a->rstd_f, N);
    slab_want(&s, &a->logits, N * (size_t)c->vocab);
    slab_want(&s, &a->lse, N);
    hk->acts_mem = slab_carve(&s);

    hk->grads_mem = NULL;
    if (!training)
        return;
    hawk_grads *g = &hk->grads;
    slab_want(&s, &g->dresid, N * C);
    slab_want(&s, &g->dnorm, N * C);
    slab_want(&s, &g->rec.dgy, N * R);
    slab_want(&s, &g->rec.dgate, N * R);
    slab_want(&s, &g->rec.dgate_pre, N * R);
    slab_want(&s, &g->rec.dy, N * R);
    slab_want(&s, &g->rec.dconv, N * R);
    slab_want(&s, &g->rec.du, N * R);
    slab_want(&s, &g->rec.lru.dr, N * R);
    slab_want(&s, &g->rec.lru.di, N * R);
    slab_want(&s, &g->rec.lru.dlambda_seq, (size_t)B * R);
    slab_want(&s, &g->mlp.dprod, N * H);
    slab_want(&s, &g->mlp.dfc1, N * H);
    slab_want(&s, &g->mlp.dfc1_pre, N * H);
    slab_want(&s, &g->mlp.dfc2, N * H);
    hk->grads_mem = slab_carve(&s);
    hawk_bind(m); /* model_plan has just allocated the gradients */
}

/* ---- forward and backward ---- */

static void hawk_forward(model *m, const uint32_t *tokens, const uint32_t *targets, float *logp)
{
    const model_config *c = &m->cfg;
    hawk *hk = m->impl;
    int B = hk->B, T = hk->T, N = B * T, C = c->width, V = c->vocab;
    size_t NC = (size_t)N * C;
    hawk_acts *a = &hk->acts;
    if (!hk->acts_mem)
        die(EX_SOFTWARE, "hawk: model_forward before model_plan");
    if (logp && !targets)
        die(EX_SOFTWARE, "hawk: model_forward: log-probabilities need targets");
    memcpy(hk->tokens, tokens, (size_t)N * sizeof *tokens);
    hk->have_targets = targets != NULL;
    if (targets)
        memcpy(hk->targets, targets, (size_t)N * sizeof *targets);

    embed_forward(a->resid, hk->wte, tokens, N, C, sqrtf((float)C));
    for (int l = 0; l < c->layers; l++) {
        hawk_layer *L = &hk->layer[l];
        hawk_layer_acts *la = &a->layer[l];
        float *x = a->resid + l * NC, *x_next = a->resid + (l + 1) * NC;
        rmsnorm_forward(la->norm_1, la->rstd_1, x, L->norm_1, N, C);
        hawk_recurrent_forward(&L->rec, la->mid, &la->rec, la->norm_1, B, T);
        add_into(la->mid, x, NC);
        rmsnorm_forward(la->norm_2, la->rstd_2, la->mid, L->norm_2, N, C);
        hawk_mlp_forward(&L->mlp, x_next, &la->mlp, la->norm_2, N);
        add_into(x_next, la->mid, NC);
    }
    rmsnorm_forward(a->norm_f, a->rstd_f, a->resid + c->layers * NC, hk->norm_f, N, C);
    head_forward(a->logits, a->lse, logp, a->norm_f, hk->wte, hk->targets, N, C, V);
}

static void hawk_backward(model *m, const float *dlogp)
{
    const model_config *c = &m->cfg;
    hawk *hk = m->impl;
    int B = hk->B, T = hk->T, N = B * T, C = c->width;
    size_t NC = (size_t)N * C;
    hawk_acts *a = &hk->acts;
    hawk_grads *g = &hk->grads;
    if (!hk->grads_mem)
        die(EX_SOFTWARE, "hawk: model_backward needs model_plan(..., training = true)");
    if (!hk->have_targets)
        die(EX_SOFTWARE, "hawk: model_backward after a model_forward without targets");

    zero(g->dnorm, NC);
    head_backward(g->dnorm, hk->dwte, a->logits, a->lse, dlogp, a->norm_f, hk->wte,
                  hk->targets, N, C, c->vocab);
    zero(g->dresid, NC);
    rmsnorm_backward(g->dresid, hk->dnorm_f, g->dnorm, a->resid + c->layers * NC, hk->norm_f,
                     a->rstd_f, N, C);
    for (int l = c->layers - 1; l >= 0; l--) {
        hawk_layer *L = &hk->layer[l];
        hawk_layer_acts *la = &a->layer[l];
        /* g->dresid is dL/d(layer output); the residual adds pass it through unchanged */
        zero(g->dnorm, NC);
        hawk_mlp_backward(&L->mlp, g->dnorm, g->dresid, la->norm_2, &la->mlp, &g->mlp, N);
        rmsnorm_backward(g->dresid, L->dnorm_2, g->dnorm, la->mid, L->norm_2, la->rstd_2, N, C);
        zero(g->dnorm, NC);
        hawk_recurrent_backward(&L->rec, g->dnorm, g->dresid, la->norm_1, &la->rec, &g->rec, B,
                                T);
        rmsnorm_backward(g->dresid, L->dnorm_1, g->dnorm, a->resid + l * NC, L->norm_1,
                         la->rstd_1, N, C);
    }
    if (hk->dwte)
        embed_backward(hk->dwte, g->dresid, hk->tokens, N, C, sqrtf((float)C));
}

static const float *hawk_logits(const model *m) { return ((const hawk *)m->impl)->acts.logits; }

/* ---- incremental inference ---- */

typedef struct {
    model_state base;         /* the interface's part, first: a hawk_state is a model_state */
    float *conv_hist;         /* (L, K-1, lru) each conv's last K-1 inputs, newest first */
    float *h;                 /* (L, lru) each RG-LRU's state */
    /* scratch of one step */
    float *x;                 /* (C) the residual stream */
    float *norm;              /* (C) */
    float *out;               /* (C) a block's output */
    hawk_recurrent_acts rec;  /* each (lru), but for lru.log_a and lru.h */
    hawk_mlp_acts mlp;        /* each (mlp) */
    float *logits;            /* (V) */
    float rstd, lse;
    float *mem;
} hawk_state;

static void hawk_state_reset(model_state *base)
{
    hawk_state *st = (hawk_state *)base;
    const model_config *c = &base->m->cfg;
    zero(st->conv_hist, (size_t)c->layers * (c->conv - 1) * c->lru);
    zero(st->h, (size_t)c->layers * c->lru);
    base->pos = 0;
}

static model_state *hawk_state_new(model *m)
{
    const model_config *c = &m->cfg;
    size_t L = (size_t)c->layers, C = (size_t)c->width, R = (size_t)c->lru;
    hawk_state *st = xcalloc(1, sizeof *st);
    st->base.m = m;
    slab_plan s = {0};
    slab_want(&s, &st->conv_hist, L * (size_t)(c->conv - 1) * R);
    slab_want(&s, &st->h, L * R);
    slab_want(&s, &st->x, C);
    slab_want(&s, &st->norm, C);
    slab_want(&s, &st->out, C);
    hawk_recurrent_acts *a = &st->rec; /* lru.log_a and lru.h stay NULL: h is the state */
    slab_want(&s, &a->gate_pre, R);
    slab_want(&s, &a->gate, R);
    slab_want(&s, &a->u, R);
    slab_want(&s, &a->conv, R);
    slab_want(&s, &a->lru.r, R);
    slab_want(&s, &a->lru.i, R);
    slab_want(&s, &a->gy, R);
    want_mlp_acts(&s, &st->mlp, (size_t)c->mlp);
    slab_want(&s, &st->logits, (size_t)c->vocab);
    st->mem = slab_carve(&s);
    return &st->base;
}

static const float *hawk_step(model *m, model_state *base, uint32_t token)
{
    const model_config *c = &m->cfg;
    hawk *hk = m->impl;
    hawk_state *st = (hawk_state *)base;
    int C = c->width, R = c->lru;
    embed_forward(st->x, hk->wte, &token, 1, C, sqrtf((float)C));
    for (int l = 0; l < c->layers; l++) {
        hawk_layer *L = &hk->layer[l];
        rmsnorm_forward(st->norm, &st->rstd, st->x, L->norm_1, 1, C);
        hawk_recurrent_step(&L->rec, st->out, st->conv_hist + (size_t)l * (c->conv - 1) * R,
                            st->h + (size_t)l * R, &st->rec, st->norm);
        add_into(st->x, st->out, (size_t)C);
        rmsnorm_forward(st->norm, &st->rstd, st->x, L->norm_2, 1, C);
        hawk_mlp_forward(&L->mlp, st->out, &st->mlp, st->norm, 1);
        add_into(st->x, st->out, (size_t)C);
    }
    rmsnorm_forward(st->norm, &st->rstd, st->x, hk->norm_f, 1, C);
    head_forward(st->logits, &st->lse, NULL, st->norm, hk->wte, NULL, 1, C, c->vocab);
    base->pos++;
    return st->logits;
}

static void hawk_state_free(model_state *base)
{
    hawk_state *st = (hawk_state *)base;
    free(st->mem);
    free(st);
}

static void hawk_free(model *m)
{
    hawk *hk = m->impl;
    if (!hk)
        return;
    free(hk->layer);
    free(hk->acts.layer);
    free(hk->acts_mem);
    free(hk->grads_mem);
    free(hk->tokens);
    free(hk->targets);
    free(hk);
    m->impl = NULL;
}

const model_ops hawk_ops = {
    .declare = hawk_declare,
    .bind = hawk_bind,
    .init = hawk_init,
    .plan = hawk_plan,
    .forward = hawk_forward,
    .backward = hawk_backward,
    .logits = hawk_logits,
    .state_new = hawk_state_new,
    .state_reset = hawk_state_reset,
    .step = hawk_step,
    .state_free = hawk_state_free,
    .free = hawk_free,
};
