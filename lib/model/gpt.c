/* gpt: the "gpt" family of the model interface, exactly GPT-2.
 *
 * A pre-LayerNorm transformer: token and learned position embeddings are added, each of
 * the L blocks adds to that residual stream an attention branch and an MLP branch,
 *
 *     x = x + c_proj(attention(c_attn(ln_1(x))))
 *     x = x + mlp.c_proj(gelu(mlp.c_fc(ln_2(x))))
 *
 * and the logits are ln_f(x) wteᵀ, the output embedding tied to the input one.  Tensors
 * carry the names and layouts of Hugging Face's GPT-2 state dict, so its checkpoints load
 * as they are.  Every product with a weight matrix goes through linear_forward and
 * linear_backward, where LoRA and the quantizers attach.
 *
 * Memory is two slabs: the parameters (nn/params.h) and the activations, laid out by
 * plan() for a batch shape, so forward and backward allocate nothing.  Training keeps each
 * block's activations for the backward; inference lets every block reuse the first one's.
 * Incremental inference keeps a cache of each layer's keys and values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/threads.h"
#include "base/rng.h"
#include "model/model.h"
#include "nn/act.h"
#include "nn/attention.h"
#include "nn/embed.h"
#include "nn/layernorm.h"
#include "nn/linear.h"

/* ---- weights ---- */

typedef struct {
    float *w, *b;   /* (C) gain and bias */
    float *dw, *db; /* (C) their gradients, or NULL */
} norm;

typedef struct {
    norm ln_1;
    linear c_attn;   /* C -> 3C: query, key, value */
    linear c_proj;   /* C -> C */
    norm ln_2;
    linear c_fc;     /* C -> mlp */
    linear mlp_proj; /* mlp -> C */
} block;

/* ---- activations ---- */

/* What one block computes over a batch, kept for its backward. */
typedef struct {
    float *ln_1;      /* (B, T, C) */
    float *ln_1_mean; /* (B, T) */
    float *ln_1_rstd; /* (B, T) */
    float *qkv;       /* (B, T, 3C) */
    float *att;       /* (B, NH, T, T) attention probabilities */
    float *atty;      /* (B, T, C) attention output, heads side by side */
    float *res_att;   /* (B, T, C) residual after the attention branch */
    float *ln_2;      /* (B, T, C) */
    float *ln_2_mean; /* (B, T) */
    float *ln_2_rstd; /* (B, T) */
    float *fc;        /* (B, T, mlp) */
    float *fc_gelu;   /* (B, T, mlp) */
    float *res_out;   /* (B, T, C) residual after the MLP: the block's output */
} block_acts;

/* Gradients of activations, shared by the blocks in turn (training only). */
typedef struct {
    float *dres;     /* (B, T, C) dL/d(residual stream), updated in place block by block */
    float *dln;      /* (B, T, C) dL/d(a LayerNorm's output) */
    float *datty;    /* (B, T, C) */
    float *dqkv;     /* (B, T, 3C) */
    float *datt;     /* (B, NH, T, T) scratch of the attention backward */
    float *dfc_gelu; /* (B, T, mlp) */
    float *dfc;      /* (B, T, mlp) */
} grad_acts;

typedef struct {
    float *wte, *dwte; /* (V, C) token embedding, tied to the output head */
    float *wpe, *dwpe; /* (context, C) position embedding */
    block *blocks;     /* (L) */
    norm ln_f;

    /* the batch shape of the last plan() */
    int B, T;
    bool training;
    float *slab;        /* everything below points into it */
    float *encoded;     /* (B, T, C) token plus position embeddings */
    block_acts *acts;   /* (L), all alike when not training */
    float *ln_f_out;    /* (B, T, C) */
    float *ln_f_mean;   /* (B, T) */
    float *ln_f_rstd;   /* (B, T) */
    float *logits;      /* (B, T, V); dL/dlogits after the backward */
    float *lse;         /* (B, T) log-sum-exp of each row of logits */
    grad_acts grads;    /* NULL pointers unless training */
    uint32_t *tokens;   /* (B, T) inputs of the last forward */
    uint32_t *targets;  /* (B, T) its targets */
    bool have_targets;  /* the last forward had targets, so backward can run */
} gpt;

/* ---- parameters: declaration, binding, initialization ---- */

static void add(param_set *ps, unsigned flags, int64_t d0, int64_t d1, const char *prefix,
                const char *name)
{
    char full[PARAM_NAME_MAX];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    int64_t shape[2] = {d0, d1};
    param_add(ps, full, flags, d1 ? 2 : 1, shape);
}

/* Declares the tensors and allocates the family's own state (the layers, bound later). */
static void gpt_declare(model *m)
{
    const model_config *c = &m->cfg;
    int64_t V = c->vocab, C = c->width, M = c->mlp;
    param_set *ps = &m->params;
    add(ps, 0, V, C, "", "wte.weight");
    add(ps, 0, c->context, C, "", "wpe.weight");
    for (int l = 0; l < c->layers; l++) {
        char h[32];
        snprintf(h, sizeof h, "h.%d.", l);
        add(ps, 0, C, 0, h, "ln_1.weight");
        add(ps, 0, C, 0, h, "ln_1.bias");
        add(ps, PARAM_DECAY, C, 3 * C, h, "attn.c_attn.weight");
        add(ps, 0, 3 * C, 0, h, "attn.c_attn.bias");
        add(ps, PARAM_DECAY, C, C, h, "attn.c_proj.weight");
        add(ps, 0, C, 0, h, "attn.c_proj.bias");
        add(ps, 0, C, 0, h, "ln_2.weight");
        add(ps, 0, C, 0, h, "ln_2.bias");
        add(ps, PARAM_DECAY, C, M, h, "mlp.c_fc.weight");
        add(ps, 0, M, 0, h, "mlp.c_fc.bias");
        add(ps, PARAM_DECAY, M, C, h, "mlp.c_proj.weight");
        add(ps, 0, C, 0, h, "mlp.c_proj.bias");
    }
    add(ps, 0, C, 0, "", "ln_f.weight");
    add(ps, 0, C, 0, "", "ln_f.bias");
    gpt *g = xcalloc(1, sizeof *g);
    g->blocks = xcalloc((size_t)c->layers, sizeof *g->blocks);
    m->impl = g;
}

/* The weights of the tensor prefix name suffix, and through grad its gradients (NULL
 * before the gradient slab exists, and for a frozen tensor). */
static float *tensor(model *m, float **grad, const char *prefix, const char *name,
                     const char *suffix)
{
    char full[PARAM_NAME_MAX];
    snprintf(full, sizeof full, "%s%s%s", prefix, name, suffix);
    int i = param_find(&m->params, full);
    if (i < 0)
        die(EX_SOFTWARE, "gpt: no tensor %s", full);
    *grad = param_learn_g(&m->params, i);
    return param_w(&m->params, i);
}

static void bind_norm(model *m, norm *n, const char *prefix, const char *name)
{
    n->w = tensor(m, &n->dw, prefix, name, ".weight");
    n->b = tensor(m, &n->db, prefix, name, ".bias");
}

/* Leaves lin->ext alone: an adapter attached to the layer stays attached. */
static void bind_linear(model *m, linear *lin, int in, int out, const char *prefix,
                        const char *name)
{
    lin->in = in;
    lin->out = out;
    lin->w = tensor(m, &lin->dw, prefix, name, ".weight");
    lin->b = tensor(m, &lin->db, prefix, name, ".bias");
    char full[PARAM_NAME_MAX];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    model_add_linear(m, lin, full);
}

static void gpt_bind(model *m)
{
    gpt *g = m->impl;
    int C = m->cfg.width, M = m->cfg.mlp;
    g->wte = tensor(m, &g->dwte, "", "wte", ".weight");
    g->wpe = tensor(m, &g->dwpe, "", "wpe", ".weight");
    for (int l = 0; l < m->cfg.layers; l++) {
        block *k = &g->blocks[l];
        char h[32];
        snprintf(h, sizeof h, "h.%d.", l);
        bind_norm(m, &k->ln_1, h, "ln_1");
        bind_linear(m, &k->c_attn, C, 3 * C, h, "attn.c_attn");
        bind_linear(m, &k->c_proj, C, C, h, "attn.c_proj");
        bind_norm(m, &k->ln_2, h, "ln_2");
        bind_linear(m, &k->c_fc, C, M, h, "mlp.c_fc");
        bind_linear(m, &k->mlp_proj, M, C, h, "mlp.c_proj");
    }
    bind_norm(m, &g->ln_f, "", "ln_f");
}

/* GPT-2's initialization: matrices N(0, 0.02), except the two projections into the
 * residual stream, N(0, 0.02/sqrt(2L)) (the GPT-2 paper's scaling, as Hugging Face does),
 * and the position embedding, N(0, 0.01) (as OpenAI's GPT-2 code); LayerNorm gains 1,
 * biases 0.  One generator draws every matrix in declaration order. */
static void gpt_init(model *m, uint64_t seed)
{
    param_set *ps = &m->params;
    rng_t r;
    rng_seed(&r, seed);
    double proj_std = 0.02 / sqrt(2.0 * m->cfg.layers);
    for (int i = 0; i < ps->n; i++) {
        const param_info *p = &ps->info[i];
        float *w = param_w(ps, i);
        if (p->ndim == 1) { /* a LayerNorm gain ("*.weight") or a bias */
            size_t len = strlen(p->name);
            float v = strcmp(p->name + len - 7, ".weight") == 0 ? 1.0f : 0.0f;
            for (size_t j = 0; j < p->count; j++)
                w[j] = v;
            continue;
        }
        double std = 0.02;
        if (strcmp(p->name, "wpe.weight") == 0)
            std = 0.01;
        else if (strstr(p->name, ".c_proj.weight"))
            std = proj_std;
        for (size_t j = 0; j < p->count; j++)
            w[j] = (float)(std * rng_normal(&r));
    }
}

/* ---- activations: the plan ---- */

/* Hands out consecutive pieces of a slab, each starting on a 64-byte line; with base NULL
 * it only counts, so the same layout code sizes the slab and then fills it. */
typedef struct {
    float *base;
    size_t used; /* floats */
} carver;

static float *carve(carver *cv, size_t n)
{
    float *p = cv->base ? cv->base + cv->used : NULL;
    cv->used += (n + 15) / 16 * 16;
    return p;
}

static float *slab_alloc(size_t floats)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, (floats ? floats : 1) * sizeof(float)) != 0)
        die(EX_OSERR, "gpt: out of memory for %zu activations", floats);
    return p;
}

static void layout(const model *m, gpt *g, carver *cv)
{
    size_t C = (size_t)m->cfg.width, V = (size_t)m->cfg.vocab, NH = (size_t)m->cfg.heads;
    size_t M = (size_t)m->cfg.mlp, N = (size_t)g->B * (size_t)g->T, TT = (size_t)g->T * g->T;
    g->encoded = carve(cv, N * C);
    for (int l = 0; l < m->cfg.layers; l++) {
        block_acts *a = &g->acts[l];
        if (l > 0 && !g->training) { /* inference: each block overwrites the last one's */
            *a = g->acts[0];
            continue;
        }
        a->ln_1 = carve(cv, N * C);
        a->ln_1_mean = carve(cv, N);
        a->ln_1_rstd = carve(cv, N);
        a->qkv = carve(cv, N * 3 * C);
        a->att = carve(cv, (size_t)g->B * NH * TT);
        a->atty = carve(cv, N * C);
        a->res_att = carve(cv, N * C);
        a->ln_2 = carve(cv, N * C);
        a->ln_2_mean = carve(cv, N);
        a->ln_2_rstd = carve(cv, N);
        a->fc = carve(cv, N * M);
        a->fc_gelu = carve(cv, N * M);
        a->res_out = carve(cv, N * C);
    }
    g->ln_f_out = carve(cv, N * C);
    g->ln_f_mean = carve(cv, N);
    g->ln_f_rstd = carve(cv, N);
    g->logits = carve(cv, N * V);
    g->lse = carve(cv, N);
    memset(&g->grads, 0, sizeof g->grads);
    if (!g->training)
        return;
    grad_acts *d = &g->grads;
    d->dres = carve(cv, N * C);
    d->dln = carve(cv, N * C);
    d->datty = carve(cv, N * C);
    d->dqkv = carve(cv, N * 3 * C);
    d->datt = carve(cv, (size_t)g->B * NH * TT);
    d->dfc_gelu = carve(cv, N * M);
    d->dfc = carve(cv, N * M);
}

static void gpt_plan(model *m, int B, int T, bool training)
{
    gpt *g = m->impl;
    if (B < 1 || T < 1)
        die(EX_SOFTWARE, "gpt: cannot plan for %d sequences of %d tokens", B, T);
    g->B = B;
    g->T = T;
    g->training = training;
    gpt_bind(m); /* model_plan may have just allocated the gradients */
    free(g->slab);
    free(g->acts);
    g->acts = xcalloc((size_t)m->cfg.layers, sizeof *g->acts);
    carver cv = {NULL, 0};
    layout(m, g, &cv);
    g->slab = slab_alloc(cv.used);
    cv = (carver){g->slab, 0};
    layout(m, g, &cv);
    size_t N = (size_t)B * T;
    g->tokens = xrealloc(g->tokens, N * sizeof *g->tokens);
    g->targets = xrealloc(g->targets, N * sizeof *g->targets);
    g->have_targets = false;
}

/* ---- forward ---- */

/* y (N, C) += x (N, C) */
static void residual_add(float *y, const float *x, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; i++)
        y[i] += x[i];
}

static void block_forward(const model *m, const block *k, const block_acts *a, const float *x)
{
    const gpt *g = m->impl;
    int B = g->B, T = g->T, N = B * T, C = m->cfg.width;
    layernorm_forward(a->ln_1, a->ln_1_mean, a->ln_1_rstd, x, k->ln_1.w, k->ln_1.b, N, C);
    linear_forward(&k->c_attn, a->qkv, a->ln_1, N);
    attention_forward(a->atty, a->att, a->qkv, B, T, C, m->cfg.heads);
    linear_forward(&k->c_proj, a->res_att, a->atty, N);
    residual_add(a->res_att, x, (size_t)N * C);
    layernorm_forward(a->ln_2, a->ln_2_mean, a->ln_2_rstd, a->res_att, k->ln_2.w, k->ln_2.b,
                      N, C);
    linear_forward(&k->c_fc, a->fc, a->ln_2, N);
    gelu_forward(a->fc_gelu, a->fc, (size_t)N * m->cfg.mlp);
    /* at inference res_out is x itself, which is no longer needed */
    linear_forward(&k->mlp_proj, a->res_out, a->fc_gelu, N);
    residual_add(a->res_out, a->res_att, (size_t)N * C);
}

static void gpt_forward(model *m, const uint32_t *tokens, const uint32_t *targets, float *logp)
{
    gpt *g = m->impl;
    int B = g->B, T = g->T, N = B * T, C = m->cfg.width, V = m->cfg.vocab;
    if (!g->slab)
        die(EX_SOFTWARE, "gpt: forward before plan");
    if (logp && !targets)
        die(EX_SOFTWARE, "gpt: log-probabilities asked for without targets");
    memcpy(g->tokens, tokens, (size_t)N * sizeof *tokens);
    g->have_targets = targets != NULL;
    if (targets)
        memcpy(g->targets, targets, (size_t)N * sizeof *targets);

    embed_forward(g->encoded, g->wte, tokens, N, C, 1.0f);
#pragma omp parallel for schedule(static) if ((long)N * C >= PARALLEL_MIN)
    for (int i = 0; i < N; i++) {
        float *row = g->encoded + (long)i * C;
        const float *pos = g->wpe + (long)(i % T) * C;
#pragma omp simd
        for (int c = 0; c < C; c++)
            row[c] += pos[c];
    }
    const float *x = g->encoded;
    for (int l = 0; l < m->cfg.layers; l++) {
        block_forward(m, &g->blocks[l], &g->acts[l], x);
        x = g->acts[l].res_out;
    }
    layernorm_forward(g->ln_f_out, g->ln_f_mean, g->ln_f_rstd, x, g->ln_f.w, g->ln_f.b, N, C);
    head_forward(g->logits, g->lse, logp, g->ln_f_out, g->wte, g->targets, N, C, V);
}

static const float *gpt_logits(const model *m) { return ((const gpt *)m->impl)->logits; }

/* ---- backward ---- */

/* From grads.dres = dL/d(block output), leaves there dL/d(block input) x. */
static void block_backward(const model *m, const block *k, const block_acts *a, const float *x)
{
    const gpt *g = m->impl;
    const grad_acts *d = &g->grads;
    int B = g->B, T = g->T, N = B * T, C = m->cfg.width;
    size_t NC = (size_t)N * C, NM = (size_t)N * m->cfg.mlp;
    /* the MLP branch; the residual passes dres through unchanged */
    memset(d->dfc_gelu, 0, NM * sizeof(float));
    linear_backward(&k->mlp_proj, d->dfc_gelu, d->dres, a->fc_gelu, N);
    memset(d->dfc, 0, NM * sizeof(float));
    gelu_backward(d->dfc, d->dfc_gelu, a->fc, NM);
    memset(d->dln, 0, NC * sizeof(float));
    linear_backward(&k->c_fc, d->dln, d->dfc, a->ln_2, N);
    layernorm_backward(d->dres, k->ln_2.dw, k->ln_2.db, d->dln, a->res_att, k->ln_2.w,
                       a->ln_2_mean, a->ln_2_rstd, N, C);
    /* the attention branch */
    memset(d->datty, 0, NC * sizeof(float));
    linear_backward(&k->c_proj, d->datty, d->dres, a->atty, N);
    memset(d->dqkv, 0, 3 * NC * sizeof(float));
    attention_backward(d->dqkv, d->datt, d->datty, a->qkv, a->att, B, T, C, m->cfg.heads);
    memset(d->dln, 0, NC * sizeof(float));
    linear_backward(&k->c_attn, d->dln, d->dqkv, a->ln_1, N);
    layernorm_backward(d->dres, k->ln_1.dw, k->ln_1.db, d->dln, x, k->ln_1.w, a->ln_1_mean,
                       a->ln_1_rstd, N, C);
}

/* dwpe (T, C) += dx (B, T, C) summed over the batch */
static void positions_backward(float *dwpe, const float *dx, int B, int T, int C)
{
#pragma omp parallel for schedule(static) if ((long)B * T * C >= PARALLEL_MIN)
    for (int t = 0; t < T; t++) {
        float *dpos = dwpe + (long)t * C;
        for (int b = 0; b < B; b++) {
            const float *row = dx + ((long)b * T + t) * C;
#pragma omp simd
            for (int c = 0; c < C; c++)
                dpos[c] += row[c];
        }
    }
}

static void gpt_backward(model *m, const float *dlogp)
{
    gpt *g = m->impl;
    int B = g->B, T = g->T, N = B * T, C = m->cfg.width, L = m->cfg.layers;
    if (!g->training || !g->grads.dres)
        die(EX_SOFTWARE, "gpt: backward without a training plan");
    if (!g->have_targets)
        die(EX_SOFTWARE, "gpt: backward after a forward without targets");
    const grad_acts *d = &g->grads;
    size_t NC = (size_t)N * C;
    const float *last = g->acts[L - 1].res_out;

    memset(d->dln, 0, NC * sizeof(float));
    head_backward(d->dln, g->dwte, g->logits, g->lse, dlogp, g->ln_f_out, g->wte, g->targets,
                  N, C, m->cfg.vocab);
    memset(d->dres, 0, NC * sizeof(float));
    layernorm_backward(d->dres, g->ln_f.dw, g->ln_f.db, d->dln, last, g->ln_f.w, g->ln_f_mean,
                       g->ln_f_rstd, N, C);
    for (int l = L - 1; l >= 0; l--)
        block_backward(m, &g->blocks[l], &g->acts[l], l ? g->acts[l - 1].res_out : g->encoded);
    /* dres is now dL/d(encoded): into both embeddings, unless they are frozen */
    if (g->dwte)
        embed_backward(g->dwte, d->dres, g->tokens, N, C, 1.0f);
    if (g->dwpe)
        positions_backward(g->dwpe, d->dres, B, T, C);
    g->have_targets = false; /* the logits are consumed */
}

/* ---- incremental inference ---- */

typedef struct {
    model_state base; /* first: a model_state * points to it */
    float *k_cache;   /* (L, context, C) */
    float *v_cache;   /* (L, context, C) */
    float *x;         /* (C) the residual stream at the new position */
    float *ln;        /* (C) */
    float *qkv;       /* (3C) */
    float *atty;      /* (C) */
    float *proj;      /* (C) output of a projection into the residual stream */
    float *att;       /* (heads, context) */
    float *fc;        /* (mlp) */
    float *fc_gelu;   /* (mlp) */
    float *logits;    /* (V) */
    float *slab;
} gpt_state;

static void state_layout(gpt_state *s, const model_config *c, carver *cv)
{
    size_t C = (size_t)c->width, kv = (size_t)c->layers * c->context * C;
    s->k_cache = carve(cv, kv);
    s->v_cache = carve(cv, kv);
    s->x = carve(cv, C);
    s->ln = carve(cv, C);
    s->qkv = carve(cv, 3 * C);
    s->atty = carve(cv, C);
    s->proj = carve(cv, C);
    s->att = carve(cv, (size_t)c->heads * c->context);
    s->fc = carve(cv, (size_t)c->mlp);
    s->fc_gelu = carve(cv, (size_t)c->mlp);
    s->logits = carve(cv, (size_t)c->vocab);
}

static model_state *gpt_state_new(model *m)
{
    gpt_state *s = xcalloc(1, sizeof *s);
    s->base.m = m;
    carver cv = {NULL, 0};
    state_layout(s, &m->cfg, &cv);
    s->slab = slab_alloc(cv.used);
    cv = (carver){s->slab, 0};
    state_layout(s, &m->cfg, &cv);
    return &s->base;
}

static void gpt_state_reset(model_state *s) { s->pos = 0; }

static void gpt_state_free(model_state *s)
{
    gpt_state *gs = (gpt_state *)s;
    free(gs->slab);
    free(gs);
}

/* The forward of one new position: the same layers at N = 1, attending to the cache. */
static const float *gpt_step(model *m, model_state *st, uint32_t token)
{
    gpt *g = m->impl;
    gpt_state *s = (gpt_state *)st;
    const model_config *c = &m->cfg;
    int C = c->width, pos = st->pos;
    if (pos >= c->context)
        die(EX_DATAERR, "gpt: the sequence is longer than the model's context of %d tokens",
            c->context);
    float mean, rstd;
    const float *te = g->wte + (long)token * C, *pe = g->wpe + (long)pos * C;
    for (int i = 0; i < C; i++)
        s->x[i] = te[i] + pe[i];
    for (int l = 0; l < c->layers; l++) {
        const block *k = &g->blocks[l];
        float *kc = s->k_cache + (long)l * c->context * C; /* (context, C) */
        float *vc = s->v_cache + (long)l * c->context * C; /* (context, C) */
        layernorm_forward(s->ln, &mean, &rstd, s->x, k->ln_1.w, k->ln_1.b, 1, C);
        linear_forward(&k->c_attn, s->qkv, s->ln, 1);
        memcpy(kc + (long)pos * C, s->qkv + C, (size_t)C * sizeof(float));
        memcpy(vc + (long)pos * C, s->qkv + 2 * C, (size_t)C * sizeof(float));
        attention_step(s->atty, s->att, s->qkv, kc, vc, pos + 1, C, c->heads);
        linear_forward(&k->c_proj, s->proj, s->atty, 1);
        for (int i = 0; i < C; i++)
            s->x[i] += s->proj[i];
        layernorm_forward(s->ln, &mean, &rstd, s->x, k->ln_2.w, k->ln_2.b, 1, C);
        linear_forward(&k->c_fc, s->fc, s->ln, 1);
        gelu_forward(s->fc_gelu, s->fc, (size_t)c->mlp);
        linear_forward(&k->mlp_proj, s->proj, s->fc_gelu, 1);
        for (int i = 0; i < C; i++)
            s->x[i] += s->proj[i];
    }
    layernorm_forward(s->ln, &mean, &rstd, s->x, g->ln_f.w, g->ln_f.b, 1, C);
    float lse;
    head_forward(s->logits, &lse, NULL, s->ln, g->wte, NULL, 1, C, c->vocab);
    st->pos++;
    return s->logits;
}

static void gpt_free(model *m)
{
    gpt *g = m->impl;
    if (!g)
        return;
    free(g->blocks);
    free(g->acts);
    free(g->slab);
    free(g->tokens);
    free(g->targets);
    free(g);
}

const model_ops gpt_ops = {
    .bounded = true,
    .declare = gpt_declare,
    .bind = gpt_bind,
    .init = gpt_init,
    .plan = gpt_plan,
    .forward = gpt_forward,
    .backward = gpt_backward,
    .logits = gpt_logits,
    .state_new = gpt_state_new,
    .state_reset = gpt_state_reset,
    .step = gpt_step,
    .state_free = gpt_state_free,
    .free = gpt_free,
};
