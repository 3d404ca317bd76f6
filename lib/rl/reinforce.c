/* REINFORCE with a baseline (Williams, 1992): whole episodes are collected until a batch
 * holds at least batch_steps steps; then one gradient step raises log pi(a_t | s_t) in
 * proportion to the advantage G_t - V(s_t) (returns-to-go discounted by gamma, minus a
 * learned value baseline, normalized over the batch), plus an entropy bonus, and one
 * step fits V to G_t.  Returns are Monte Carlo: nothing is bootstrapped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "rl/agent.h"
#include "rl/net.h"
#include "rl/policy.h"

typedef struct {
    rl_agent base;
    rl_net pi, v;
    int obs_dim, n_actions, n_out, cap;
    /* the batch: cap steps */
    float *obs;              /* (cap, D) */
    double *action, *reward, *ret;
    int n, episode_start;
    float *dpi, *dv;         /* (cap, n_out), (cap, 1) */
} reinforce;

static double pg_act(rl_agent *a, const float *obs)
{
    reinforce *r = (reinforce *)a;
    return policy_sample(mlp_forward(&r->pi.m, obs, 1), r->n_actions, &a->rng);
}

static double pg_greedy(rl_agent *a, const float *obs)
{
    reinforce *r = (reinforce *)a;
    return policy_mode(mlp_forward(&r->pi.m, obs, 1), r->n_actions);
}

static void update(reinforce *r)
{
    rl_agent *a = &r->base;
    const rl_agent_config *c = &a->c;
    int n = r->n, K = r->n_out;
    const float *v = mlp_forward(&r->v.m, r->obs, n);
    double mean = 0, var = 0, vloss = 0, vsum = 0, vmax = -INFINITY;
    double *adv = xmalloc((size_t)n * sizeof *adv);
    for (int i = 0; i < n; i++) {
        adv[i] = r->ret[i] - v[i];
        mean += adv[i] / n;
        double e = v[i] - r->ret[i];
        vloss += e * e / n;
        r->dv[i] = (float)(2 * e / n * 0.5); /* the loss weighs the value term by 0.5 */
        vsum += v[i];
        vmax = fmax(vmax, v[i]);
    }
    for (int i = 0; i < n; i++)
        var += (adv[i] - mean) * (adv[i] - mean) / n;
    mlp_backward(&r->v.m, r->dv);
    const float *out = mlp_forward(&r->pi.m, r->obs, n);
    double ploss = 0, entropy = 0, sd = sqrt(var) + 1e-8;
    memset(r->dpi, 0, (size_t)n * (size_t)K * sizeof(float));
    for (int i = 0; i < n; i++) {
        double A = (adv[i] - mean) / sd, lp = policy_logprob(out + (size_t)i * K, r->n_actions, r->action[i]);
        ploss += -c->pg_sign * lp * A / n;
        entropy += policy_entropy(out + (size_t)i * K, r->n_actions) / n;
        policy_grad(out + (size_t)i * K, r->n_actions, r->action[i], -c->pg_sign * A / n,
                    -c->ent_coef / n, r->dpi + (size_t)i * K);
    }
    free(adv);
    mlp_backward(&r->pi.m, r->dpi);
    trace_layer layers[2 * MLP_MAX_LAYERS];
    int n_layers = 0;
    bool want = rl_log_wants_layers(a->log);
    double lr = rl_agent_lr(a);
    double norm = rl_net_step((rl_net *[]){&r->pi, &r->v}, 2, lr, c->max_grad_norm,
                              want ? layers : NULL, &n_layers);
    rl_grad g = {0};
    rl_grad_set(&g, TF_LOSS, ploss - c->ent_coef * entropy + 0.5 * vloss);
    rl_grad_set(&g, TF_POLICY_LOSS, ploss);
    rl_grad_set(&g, TF_VALUE_LOSS, vloss);
    rl_grad_set(&g, TF_ENTROPY, entropy);
    rl_grad_set(&g, TF_GRAD_NORM, norm);
    rl_grad_set(&g, TF_Q_MEAN, vsum / n);
    rl_grad_set(&g, TF_Q_MAX, vmax);
    rl_grad_set(&g, TF_LR, lr);
    rl_log_grad(a->log, &g, want ? layers : NULL, n_layers);
    r->n = r->episode_start = 0;
}

static void pg_observe(rl_agent *a, const float *obs, double action, double reward,
                       const float *next_obs, bool terminated, bool truncated)
{
    reinforce *r = (reinforce *)a;
    a->steps++;
    if (r->n == r->cap) /* an episode longer than the batch can hold: drop its start */
        die(EX_SOFTWARE, "reinforce: an episode outgrew the batch (%d steps)", r->cap);
    memcpy(r->obs + (size_t)r->n * r->obs_dim, obs, (size_t)r->obs_dim * sizeof(float));
    r->action[r->n] = action;
    r->reward[r->n] = reward;
    r->n++;
    if (!(terminated || truncated))
        return;
    double g = 0;
    for (int i = r->n - 1; i >= r->episode_start; i--) {
        g = r->reward[i] + a->c.gamma * g;
        r->ret[i] = g;
    }
    r->episode_start = r->n;
    if (r->n >= a->c.batch_steps)
        update(r);
}

static void pg_free(rl_agent *a)
{
    reinforce *r = (reinforce *)a;
    rl_net_free(&r->pi);
    rl_net_free(&r->v);
    free(r->obs);
    free(r->action);
    free(r->reward);
    free(r->ret);
    free(r->dpi);
    free(r->dv);
    free(r);
}

rl_agent *rl_reinforce_new(const rl_agent *base)
{
    reinforce *r = xcalloc(1, sizeof *r);
    r->base = *base;
    rl_agent *a = &r->base;
    const rl_agent_config *c = &a->c;
    r->obs_dim = a->env->obs_dim;
    r->n_actions = a->env->n_actions;
    r->n_out = policy_outputs(r->n_actions);
    /* a batch closes at the end of the episode that reaches batch_steps */
    r->cap = c->batch_steps + c->max_episode_steps;
    rl_net_init(&r->pi, "pi", r->obs_dim, c->hidden, r->n_out, MLP_RELU, r->cap, 0.01,
                c->hidden_bias_shift, &a->rng);
    rl_net_init(&r->v, "v", r->obs_dim, c->hidden, 1, MLP_RELU, r->cap, 1, c->hidden_bias_shift,
                &a->rng);
    r->obs = xmalloc((size_t)r->cap * (size_t)r->obs_dim * sizeof(float));
    r->action = xmalloc((size_t)r->cap * sizeof(double));
    r->reward = xmalloc((size_t)r->cap * sizeof(double));
    r->ret = xmalloc((size_t)r->cap * sizeof(double));
    r->dpi = xmalloc((size_t)r->cap * (size_t)r->n_out * sizeof(float));
    r->dv = xmalloc((size_t)r->cap * sizeof(float));
    a->act = pg_act;
    a->greedy = pg_greedy;
    a->observe = pg_observe;
    a->free = pg_free;
    return a;
}
