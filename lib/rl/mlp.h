/* mlp: the small multilayer perceptrons of runnel's RL agents.
 *
 * Dense layers (nn/linear.h) with ReLU or tanh between them and none after the last:
 * sizes {in, h1, ..., out}.  The weights live in the network's own param_set, named
 * "<name>.<i>.weight" (in, out) and "<name>.<i>.bias", so an optimizer (optim/adamw.h)
 * and a target copy work on slabs.  Initialization is PyTorch's default for nn.Linear
 * (W and b uniform in +-1/sqrt(in)); out_scale multiplies the last layer's weights and
 * zeroes its bias (0.01 gives a policy head that starts near uniform).
 *
 * mlp_forward() keeps the activations of the batch it saw; mlp_backward() uses them, so it
 * must follow the forward of the same batch.  Gradients accumulate into ps.g. */
#ifndef RUNNEL_RL_MLP_H
#define RUNNEL_RL_MLP_H

#include "base/rng.h"
#include "nn/linear.h"
#include "nn/params.h"
#include "rl/trace.h"

typedef enum { MLP_RELU, MLP_TANH } mlp_act;

enum { MLP_MAX_LAYERS = 4 };

typedef struct {
    char name[16];
    int n_layers;                    /* dense layers */
    int sizes[MLP_MAX_LAYERS + 1];   /* in, hidden ..., out */
    mlp_act act;
    param_set ps;
    linear lin[MLP_MAX_LAYERS];
    int max_batch, batch;            /* capacity, and the batch of the last forward */
    const float *x;                  /* (batch, in): the input of the last forward */
    float *h[MLP_MAX_LAYERS];        /* (max_batch, sizes[i+1]): layer outputs, activated
                                        except the last */
    float *d[2];                     /* backward scratch */
} mlp;

void mlp_init(mlp *m, const char *name, const int *sizes, int n_layers, mlp_act act,
              int max_batch, double out_scale, rng_t *rng);
void mlp_free(mlp *m);
/* y (n, out) for x (n, in); the pointer stays valid until the next forward.  x must stay
 * unchanged until the backward. */
const float *mlp_forward(mlp *m, const float *x, int n);
/* Accumulate the gradients of the loss whose gradient at the output is dy (batch, out). */
void mlp_backward(mlp *m, const float *dy);
/* Copy the weights of src into m (same shapes): a target network. */
void mlp_copy(mlp *m, const mlp *src);
/* Add c to every hidden layer's bias (the dead-ReLU fault's bad initialization). */
void mlp_shift_hidden_bias(mlp *m, float c);

/* The per-layer statistics of runnel-trace(5) after the last forward and backward:
 * weight mean, std and largest magnitude, gradient norm, and for hidden layers the
 * fraction of dead ReLU units or saturated tanh outputs in the batch.  before, when not
 * NULL, is a copy of the weight slab before the last update (update_ratio).  Writes
 * n_layers entries into out; returns n_layers. */
int mlp_layer_stats(const mlp *m, const float *before, trace_layer *out);

#endif
