#include "rl/net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void rl_net_init(rl_net *n, const char *name, int in, int hidden, int out, mlp_act act,
                 int max_batch, double out_scale, double hidden_bias_shift, rng_t *rng)
{
    memset(n, 0, sizeof *n);
    mlp_init(&n->m, name, (int[]){in, hidden, hidden, out}, 3, act, max_batch, out_scale, rng);
    if (hidden_bias_shift != 0)
        mlp_shift_hidden_bias(&n->m, (float)hidden_bias_shift);
    adamw_init(&n->opt, &n->m.ps, (adamw_hparams){.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8});
    n->before = xmalloc(n->m.ps.total * sizeof(float));
}

void rl_net_free(rl_net *n)
{
    adamw_free(&n->opt);
    mlp_free(&n->m);
    free(n->before);
}

double rl_net_step(rl_net *const *n, int count, double lr, double max_norm, trace_layer *layers,
                   int *n_layers)
{
    double sq = 0;
    for (int i = 0; i < count; i++) {
        double g = adamw_grad_norm(&n[i]->opt);
        sq += g * g;
    }
    double norm = sqrt(sq);
    if (layers)
        *n_layers = 0;
    for (int i = 0; i < count; i++) {
        param_set *ps = &n[i]->m.ps;
        if (max_norm > 0 && norm > max_norm) { /* torch's clip_grad_norm_ */
            float coef = (float)(max_norm / (norm + 1e-6));
            for (size_t k = 0; k < ps->total; k++)
                ps->g[k] *= coef;
        }
        if (layers)
            memcpy(n[i]->before, ps->w, ps->total * sizeof(float));
        adamw_step(&n[i]->opt, lr);
        if (layers)
            *n_layers += mlp_layer_stats(&n[i]->m, n[i]->before, layers + *n_layers);
        param_zero_grads(ps);
    }
    return norm;
}
