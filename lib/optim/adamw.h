/* adamw: the AdamW optimizer over a param_set, exactly as torch.optim.AdamW, with global
 * gradient-norm clipping and the warmup + cosine learning-rate schedule.
 *
 * The first and second moments m and v are two slabs with the weights' layout (so a
 * checkpoint stores them tensor by tensor, like the weights).  One step t (counted from 1)
 * with learning rate lr does, for every element p of a tensor that learns:
 *
 *     p -= lr * wd * p                        only for PARAM_DECAY tensors, first
 *     m  = beta1 m + (1 - beta1) g
 *     v  = beta2 v + (1 - beta2) g^2
 *     p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 *
 * PARAM_FROZEN tensors are skipped everywhere: no update, no moments, no share of the
 * gradient norm.  Sums over the gradients add fixed blocks in a fixed order, so the norm
 * (and therefore training) does not depend on the number of threads. */
#ifndef RUNNEL_OPTIM_ADAMW_H
#define RUNNEL_OPTIM_ADAMW_H

#include <stddef.h>
#include <stdint.h>

#include "nn/params.h"

typedef struct {
    double beta1, beta2, eps, weight_decay;
} adamw_hparams;

typedef struct {
    size_t offset, count; /* a run of learning elements in the slab, in floats */
    unsigned flags;       /* the tensor's flags (PARAM_DECAY) */
} adamw_block;

typedef struct {
    adamw_hparams h;
    param_set *ps;
    float *m, *v;         /* moments, slabs like ps->w (zero at the start) */
    uint64_t t;           /* steps taken: the bias correction of the next step uses t + 1 */
    adamw_block *blocks;  /* the learning tensors cut into fixed blocks */
    int n_blocks;
    double *partial;      /* (n_blocks) per-block sums of squares */
} adamw;

/* Set up the optimizer of ps (whose flags must be final: frozen tensors get no state). */
void adamw_init(adamw *o, param_set *ps, adamw_hparams h);
void adamw_free(adamw *o);

/* Global L2 norm of the gradients of every learning tensor. */
double adamw_grad_norm(adamw *o);
/* torch.nn.utils.clip_grad_norm_: when the norm exceeds max_norm > 0, scale the gradients
 * by max_norm / (norm + 1e-6).  Returns the norm before clipping. */
double adamw_clip(adamw *o, double max_norm);
/* One update with learning rate lr from the gradients in ps->g. */
void adamw_step(adamw *o, double lr);

/* The learning rate of step (1 .. steps): linear warmup from 0 to lr over the first
 * warmup steps (step / warmup of lr), then a cosine from lr down to min_lr, reached at
 * the last step. */
double lr_schedule(uint64_t step, uint64_t steps, uint64_t warmup, double lr, double min_lr);

#endif
