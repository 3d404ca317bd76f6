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
 * (and therefore training) does not depend on the number of threads.
 *
 * Low-bit moments: with adamw_hparams.m_store or v_store set (bits 4 or 8), that moment
 * is held as b-bit codes (two 4-bit codes per byte) and float scales, one per tensor, per
 * row of a tensor (its last dimension; a vector is one row) or per group of G elements of
 * a row (G divides the row), instead of a float slab (o->m or o->v is then NULL).  A step
 * decodes the moments of a chunk of whole rows, updates them and the weights exactly as
 * above with the new float values, and encodes them again with fresh scales (a tensor-wide
 * scale needs a first pass for the tensor's range).  adamw_get_moments() and
 * adamw_set_moments() carry them to and from float slabs for checkpoints: setting what
 * getting gave restores the codes and the decoded values exactly. */
#ifndef RUNNEL_OPTIM_ADAMW_H
#define RUNNEL_OPTIM_ADAMW_H

#include <stddef.h>
#include <stdint.h>

#include "nn/params.h"
#include "quant/quant.h"

typedef struct {
    double beta1, beta2, eps, weight_decay;
    quant_spec m_store, v_store; /* bits 4 or 8: low-bit moments; 0: float32 */
} adamw_hparams;

typedef struct adamw_lowbit adamw_lowbit;

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
    adamw_lowbit *lowbit; /* the low-bit moments, or NULL */
} adamw;

/* NULL if h's moment storage applies to the tensors of ps that learn, else why not (in
 * msg: a group that does not divide a row, naming the tensor). */
const char *adamw_check(const param_set *ps, const adamw_hparams *h, char *msg, size_t len);
/* Set up the optimizer of ps (whose flags must be final: frozen tensors get no state);
 * the moment storage must pass adamw_check(). */
void adamw_init(adamw *o, param_set *ps, adamw_hparams h);
void adamw_free(adamw *o);

/* Global L2 norm of the gradients of every learning tensor. */
double adamw_grad_norm(adamw *o);
/* torch.nn.utils.clip_grad_norm_: when the norm exceeds max_norm > 0, scale the gradients
 * by max_norm / (norm + 1e-6).  Returns the norm before clipping. */
double adamw_clip(adamw *o, double max_norm);
/* One update with learning rate lr from the gradients in ps->g. */
void adamw_step(adamw *o, double lr);

/* Bytes the optimizer holds for its state: the moments (float slabs, or codes, scales and
 * zero points) and the buffers of low-bit steps; not the per-block norm sums. */
size_t adamw_state_bytes(const adamw *o);
/* The moments as float slabs like ps->w (frozen tensors' entries untouched). */
void adamw_get_moments(const adamw *o, float *m, float *v);
void adamw_set_moments(adamw *o, const float *m, const float *v);

/* The learning rate of step (1 .. steps): linear warmup from 0 to lr over the first
 * warmup steps (step / warmup of lr), then a cosine from lr down to min_lr, reached at
 * the last step. */
double lr_schedule(uint64_t step, uint64_t steps, uint64_t warmup, double lr, double min_lr);

#endif
