#include "optim/adamw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "optim/lowbit.h"

enum { BLOCK = 1 << 14 }; /* floats per block of the norm's partial sums */

const char *adamw_check(const param_set *ps, const adamw_hparams *h, char *msg, size_t len)
{
    const quant_spec *store[2] = {&h->m_store, &h->v_store};
    for (int k = 0; k < 2; k++) {
        if (!store[k]->bits)
            continue;
        if (store[k]->bits != 4 && store[k]->bits != 8) {
            snprintf(msg, len, "%s: moments are stored in 4 or 8 bits", k ? "v" : "m");
            return msg;
        }
        if (store[k]->gran == QUANT_PER_COLUMN) {
            snprintf(msg, len, "%s: moments take per-tensor, per-row or per-group-G scales",
                     k ? "v" : "m");
            return msg;
        }
        for (int i = 0; i < ps->n && store[k]->gran == QUANT_PER_GROUP; i++) {
            const param_info *p = &ps->info[i];
            int64_t cols = p->ndim >= 2 ? p->shape[p->ndim - 1] : (int64_t)p->count;
            if (!(p->flags & PARAM_FROZEN) && cols % store[k]->group) {
                snprintf(msg, len, "%s: the group size %d does not divide the rows of %s "
                         "(%lld elements)", k ? "v" : "m", store[k]->group, p->name,
                         (long long)cols);
                return msg;
            }
        }
    }
    return NULL;
}

void adamw_init(adamw *o, param_set *ps, adamw_hparams h)
{
    memset(o, 0, sizeof *o);
    o->h = h;
    o->ps = ps;
    if (!h.m_store.bits)
        o->m = xcalloc(ps->total ? ps->total : 1, sizeof(float));
    if (!h.v_store.bits)
        o->v = xcalloc(ps->total ? ps->total : 1, sizeof(float));
    int cap = 0;
    for (int i = 0; i < ps->n; i++) {
        const param_info *p = &ps->info[i];
        if (p->flags & PARAM_FROZEN)
            continue;
        for (size_t start = 0; start < p->count; start += BLOCK) {
            if (o->n_blocks == cap) {
                cap = cap ? 2 * cap : 64;
                o->blocks = xrealloc(o->blocks, (size_t)cap * sizeof *o->blocks);
            }
            size_t left = p->count - start;
            o->blocks[o->n_blocks++] = (adamw_block){
                .offset = p->offset + start,
                .count = left < BLOCK ? left : BLOCK,
                .flags = p->flags,
            };
        }
    }
    o->partial = xcalloc(o->n_blocks ? (size_t)o->n_blocks : 1, sizeof *o->partial);
    char msg[256];
    if (adamw_check(ps, &h, msg, sizeof msg))
        die(EX_SOFTWARE, "adamw: %s", msg);
    lowbit_init(o);
}

void adamw_free(adamw *o)
{
    free(o->m);
    free(o->v);
    free(o->blocks);
    free(o->partial);
    lowbit_free(o->lowbit);
    memset(o, 0, sizeof *o);
}

double adamw_grad_norm(adamw *o)
{
    const float *g = o->ps->g;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < o->n_blocks; b++) {
        const float *x = g + o->blocks[b].offset;
        double s = 0;
        for (size_t i = 0; i < o->blocks[b].count; i++)
            s += (double)x[i] * x[i];
        o->partial[b] = s;
    }
    double sum = 0;
    for (int b = 0; b < o->n_blocks; b++)
        sum += o->partial[b];
    return sqrt(sum);
}

double adamw_clip(adamw *o, double max_norm)
{
    double norm = adamw_grad_norm(o);
    if (max_norm <= 0)
        return norm;
    float coef = (float)(max_norm / (norm + 1e-6));
    if (coef < 1.0f) {
        float *g = o->ps->g;
#pragma omp parallel for schedule(static)
        for (int b = 0; b < o->n_blocks; b++) {
            float *x = g + o->blocks[b].offset;
            for (size_t i = 0; i < o->blocks[b].count; i++)
                x[i] *= coef;
        }
    }
    return norm;
}

void adamw_step(adamw *o, double lr)
{
    o->t++;
    const adamw_scalars k = {
        .beta2 = (float)o->h.beta2,
        .one_minus_beta1 = (float)(1.0 - o->h.beta1), /* not 1 - (float)beta */
        .one_minus_beta2 = (float)(1.0 - o->h.beta2),
        .step_size = (float)(lr / (1.0 - pow(o->h.beta1, (double)o->t))),
        .bc2_sqrt = (float)sqrt(1.0 - pow(o->h.beta2, (double)o->t)),
        .eps = (float)o->h.eps,
        .decay = (float)(1.0 - lr * o->h.weight_decay),
    };
    if (o->lowbit) {
        lowbit_step(o, &k);
        return;
    }
    float *w = o->ps->w, *g = o->ps->g, *m = o->m, *v = o->v;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < o->n_blocks; b++) {
        const adamw_block *bl = &o->blocks[b];
        bool decays = bl->flags & PARAM_DECAY;
        for (size_t i = bl->offset; i < bl->offset + bl->count; i++)
            adamw_update(&w[i], g[i], &m[i], &v[i], &k, decays, true);
    }
}

size_t adamw_state_bytes(const adamw *o)
{
    size_t slab = (o->ps->total ? o->ps->total : 1) * sizeof(float);
    return (o->m ? slab : 0) + (o->v ? slab : 0) + (o->lowbit ? lowbit_bytes(o->lowbit) : 0);
}

void adamw_get_moments(const adamw *o, float *m, float *v)
{
    if (o->lowbit) {
        lowbit_get(o, m, v);
        return;
    }
    for (int b = 0; b < o->n_blocks; b++) {
        const adamw_block *bl = &o->blocks[b];
        memcpy(m + bl->offset, o->m + bl->offset, bl->count * sizeof *m);
        memcpy(v + bl->offset, o->v + bl->offset, bl->count * sizeof *v);
    }
}

void adamw_set_moments(adamw *o, const float *m, const float *v)
{
    if (o->lowbit) {
        lowbit_set(o, m, v);
        return;
    }
    for (int b = 0; b < o->n_blocks; b++) {
        const adamw_block *bl = &o->blocks[b];
        memcpy(o->m + bl->offset, m + bl->offset, bl->count * sizeof *m);
        memcpy(o->v + bl->offset, v + bl->offset, bl->count * sizeof *v);
    }
}

double lr_schedule(uint64_t step, uint64_t steps, uint64_t warmup, double lr, double min_lr)
{
    if (step <= warmup)
        return warmup ? lr * (double)step / (double)warmup : lr;
    if (steps <= warmup)
        return lr;
    double progress = (double)(step - warmup) / (double)(steps - warmup);
    if (progress > 1)
        progress = 1;
    return min_lr + 0.5 * (1.0 + cos(M_PI * progress)) * (lr - min_lr);
}
