/* hawk: the two residual blocks of the Hawk model (Griffin, De et al. 2024).
 *
 * The model itself is used through model.h (family "hawk", lib/model/hawk.c has its full
 * definition).  This header exposes its blocks so that they can be tested on their own:
 *
 *   recurrent block, on h (B, T, C):
 *       out = (GeLU(h W_gate + b_gate) ⊙ RG-LRU(conv1d(h W_in + b_in))) W_out + b_out
 *   gated MLP, on h (N, C):
 *       out = (GeLU(h W_1 + b_1) ⊙ (h W_2 + b_2)) W_3 + b_3
 *
 * Forward overwrites out and fills the activations that backward reads; backward
 * accumulates (+=) into dx and into the gradients of the layers that have them, using
 * the scratch it is given.  Letters: B batch, T time, C width, N = B T positions, lru the
 * recurrent width, mlp the MLP's hidden width. */
#ifndef RUNNEL_MODEL_HAWK_H
#define RUNNEL_MODEL_HAWK_H

#include "nn/conv1d.h"
#include "nn/linear.h"
#include "nn/rglru.h"

typedef struct {
    linear gate;  /* (C, lru) the GeLU branch */
    linear in;    /* (C, lru) the recurrent branch */
    conv1d conv;  /* (K, lru) */
    rglru lru;    /* (lru) */
    linear out;   /* (lru, C) */
} hawk_recurrent;

typedef struct {      /* each (B, T, lru) */
    float *gate_pre;  /* h W_gate + b_gate */
    float *gate;      /* GeLU(gate_pre) */
    float *u;         /* h W_in + b_in */
    float *conv;      /* conv1d(u), the RG-LRU's input */
    rglru_acts lru;   /* the RG-LRU's gates, log a and outputs y = lru.h */
    float *gy;        /* gate ⊙ y, the input of out */
} hawk_recurrent_acts;

typedef struct {         /* each (B, T, lru), the RG-LRU's scratch as rglru.h says */
    float *dgy, *dgate, *dgate_pre, *dy, *dconv, *du;
    rglru_scratch lru;
} hawk_recurrent_scratch;

void hawk_recurrent_forward(const hawk_recurrent *rb, float *out, hawk_recurrent_acts *a,
                            const float *x, int B, int T);
void hawk_recurrent_backward(const hawk_recurrent *rb, float *dx, const float *dout,
                             const float *x, const hawk_recurrent_acts *a,
                             const hawk_recurrent_scratch *s, int B, int T);

typedef struct {
    linear fc1; /* (C, mlp) the GeLU branch */
    linear fc2; /* (C, mlp) the linear branch */
    linear fc3; /* (mlp, C) */
} hawk_mlp;

typedef struct {     /* each (N, mlp) */
    float *fc1_pre;  /* h W_1 + b_1 */
    float *fc1;      /* GeLU(fc1_pre) */
    float *fc2;      /* h W_2 + b_2 */
    float *prod;     /* fc1 ⊙ fc2, the input of fc3 */
} hawk_mlp_acts;

typedef struct {     /* each (N, mlp) */
    float *dprod, *dfc1, *dfc1_pre, *dfc2;
} hawk_mlp_scratch;

void hawk_mlp_forward(const hawk_mlp *mlp, float *out, hawk_mlp_acts *a, const float *x,
                      int N);
void hawk_mlp_backward(const hawk_mlp *mlp, float *dx, const float *dout, const float *x,
                       const hawk_mlp_acts *a, const hawk_mlp_scratch *s, int N);

#endif
