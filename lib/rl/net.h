/* net: an MLP with its Adam optimizer, as the agents train them (internal to lib/rl).
 *
 * rl_net_step() clips the global gradient norm, takes an Adam step and zeroes the
 * gradients; asked for layer statistics it first keeps the weights, so that the
 * statistics include update_ratio. */
#ifndef RUNNEL_RL_NET_H
#define RUNNEL_RL_NET_H

#include <stdbool.h>

#include "optim/adamw.h"
#include "rl/mlp.h"

typedef struct {
    mlp m;
    adamw opt;
    float *before; /* the weights before the last step, when statistics were asked for */
} rl_net;

/* Two hidden layers of `hidden` units between in and out. */
void rl_net_init(rl_net *n, const char *name, int in, int hidden, int out, mlp_act act,
                 int max_batch, double out_scale, double hidden_bias_shift, rng_t *rng);
void rl_net_free(rl_net *n);
/* One optimizer step of nets n[0..count): clip their gradients together to the global
 * norm max_norm (0: no clipping), step with lr, zero the gradients; returns the global
 * norm before clipping.  With layers not NULL, writes the layer statistics of every net
 * there, in order, and their count in *n_layers. */
double rl_net_step(rl_net *const *n, int count, double lr, double max_norm, trace_layer *layers,
                   int *n_layers);

#endif
