#include "optim/adamw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

enum { BLOCK = 1 << 14 }; /* floats per block of the norm's partial sums */

void adamw_init(adamw *o, param_set *ps, adamw_hparams h)
{
    memset(o, 0, sizeof *o);
    o->h = h;
    o->ps = ps;
    o->m = xcalloc(ps->total ? ps->total : 1, sizeof(float));
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
}

void adamw_free(adamw *o)
{
    free(o->m);
    free(o->v);
    free(o->blocks);
    free(o->partial);
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
    /* The scalars as torch computes them (in double, applied in float). */
    const float beta2 = (float)o->h.beta2;
    const float one_minus_beta1 = (float)(1.0 - o->h.beta1); /* not 1 - (float)beta */
    const float one_minus_beta2 = (float)(1.0 - o->h.beta2);
    const float step_size = (float)(lr / (1.0 - pow(o->h.beta1, (double)o->t)));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(o->h.beta2, (double)o->t));
    const float eps = (float)o->h.eps;
    const float decay = (float)(1.0 - lr * o->h.weight_decay);
    float *w = o->ps->w, *g = o->ps->g, *m = o->m, *v = o->v;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < o->n_blocks; b++) {
        const adamw_block *bl = &o->blocks[b];
        bool decays = bl->flags & PARAM_DECAY;
        for (size_t i = bl->offset; i < bl->offset + bl->count; i++) {
            if (decays)
                w[i] *= decay;
            m[i] += one_minus_beta1 * (g[i] - m[i]); /* torch's lerp */
            v[i] = beta2 * v[i] + one_minus_beta2 * g[i] * g[i];
            float denom = sqrtf(v[i]) / bc2_sqrt + eps;
            w[i] -= step_size * (m[i] / denom);
        }
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
