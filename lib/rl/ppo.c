/* PPO (Schulman et al., 2017) with the clipped surrogate objective: rollouts of n_steps
 * steps, advantages by GAE(lambda), then epochs over shuffled minibatches, each one
 * gradient step of the actor and the critic together (clipped to one global norm):
 *
 *     loss = -mean(min(r A, clip(r, 1 - clip, 1 + clip) A)) - ent_coef H
 *            + vf_coef mean((V(s) - R)^2)
 *
 * with r = pi(a|s) / pi_old(a|s), A normalized per minibatch, R = A_gae + V_old.  An
 * episode that terminates ends the bootstrap (its last value is 0); one that is truncated
 * bootstraps from V of its final observation.  Actor and critic are separate tanh MLPs. */
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
    int obs_dim, n_actions, n_out, T, B;
    /* the rollout: T steps */
    float *obs;                    /* (T, D) */
    double *action, *logp, *value, *reward, *adv, *ret;
    double *next_value;            /* (T) V of the final observation of a truncated episode */
    unsigned char *terminated, *truncated;
    int n;
    int *order;                    /* (T) a shuffle */
    float *mb_obs, *dpi, *dv;      /* (B, D), (B, n_out), (B, 1) */
} ppo;

static double ppo_act(rl_agent *a, const float *obs)
{
    ppo *p = (ppo *)a;
    return policy_sample(mlp_forward(&p->pi.m, obs, 1), p->n_actions, &a->rng);
}

static double ppo_greedy(rl_agent *a, const float *obs)
{
    ppo *p = (ppo *)a;
    return policy_mode(mlp_forward(&p->pi.m, obs, 1), p->n_actions);
}

static double value_of(ppo *p, const float *obs) { return mlp_forward(&p->v.m, obs, 1)[0]; }

/* GAE over the rollout; last_value is V of the observation after the last step. */
static void advantages(ppo *p, double last_value)
{
    const rl_agent_config *c = &p->base.c;
    double gae = 0;
    for (int t = p->n - 1; t >= 0; t--) {
        bool stop = p->terminated[t] && !c->bootstrap_terminal;
        double next;
        if (stop)
            next = 0;
        else if (p->truncated[t] || (p->terminated[t] && c->bootstrap_terminal && t == p->n - 1))
            next = p->next_value[t];
        else
            next = t == p->n - 1 ? last_value : p->value[t + 1];
        /* the chain of advantages stops at every episode's end, except through the
         * terminal states the fault bootstraps across */
        bool chain = t < p->n - 1 && !p->truncated[t] && !stop;
        if (!chain)
            gae = 0;
        double delta = p->reward[t] + c->gamma * next - p->value[t];
        gae = delta + c->gamma * c->gae_lambda * gae;
        p->adv[t] = gae;
        p->ret[t] = gae + p->value[t];
    }
}

/* One gradient step on the minibatch of rollout steps idx[0..m). */
static void minibatch(ppo *p, const int *idx, int m)
{
    rl_agent *a = &p->base;
    const rl_agent_config *c = &a->c;
    int D = p->obs_dim, K = p->n_out;
    double amean = 0, avar = 0;
    for (int i = 0; i < m; i++) {
        memcpy(p->mb_obs + (size_t)i * D, p->obs + (size_t)idx[i] * D, (size_t)D * sizeof(float));
        amean += p->adv[idx[i]] / m;
    }
    for (int i = 0; i < m; i++)
        avar += (p->adv[idx[i]] - amean) * (p->adv[idx[i]] - amean) / m;
    double asd = sqrt(avar) + 1e-8;

    const float *v = mlp_forward(&p->v.m, p->mb_obs, m);
    double vloss = 0, vsum = 0, vmax = -INFINITY;
    for (int i = 0; i < m; i++) {
        double e = v[i] - p->ret[idx[i]];
        vloss += e * e / m;
        p->dv[i] = (float)(c->vf_coef * 2 * e / m);
        vsum += v[i];
        vmax = fmax(vmax, v[i]);
    }
    mlp_backward(&p->v.m, p->dv);

    const float *out = mlp_forward(&p->pi.m, p->mb_obs, m);
    double ploss = 0, entropy = 0, kl = 0;
    memset(p->dpi, 0, (size_t)m * (size_t)K * sizeof(float));
    for (int i = 0; i < m; i++) {
        const float *o = out + (size_t)i * K;
        double act = p->action[idx[i]], A = (p->adv[idx[i]] - amean) / asd;
        double lp = policy_logprob(o, p->n_actions, act), ratio = exp(lp - p->logp[idx[i]]);
        double clipped = fmin(fmax(ratio, 1 - c->clip), 1 + c->clip);
        double s1 = ratio * A, s2 = clipped * A;
        ploss += -c->pg_sign * fmin(s1, s2) / m;
        entropy += policy_entropy(o, p->n_actions) / m;
        kl += ((ratio - 1) - (lp - p->logp[idx[i]])) / m;
        /* d(-min(s1, s2))/d logp: -r A where the unclipped term is the smaller one */
        double dlogp = s1 <= s2 ? -c->pg_sign * ratio * A / m : 0;
        policy_grad(o, p->n_actions, act, dlogp, -c->ent_coef / m, p->dpi + (size_t)i * K);
    }
    mlp_backward(&p->pi.m, p->dpi);

    trace_layer layers[2 * MLP_MAX_LAYERS];
    int n_layers = 0;
    bool want = rl_log_wants_layers(a->log);
    double lr = rl_agent_lr(a);
    double norm = rl_net_step((rl_net *[]){&p->pi, &p->v}, 2, lr, c->max_grad_norm,
                              want ? layers : NULL, &n_layers);
    rl_grad g = {0};
    rl_grad_set(&g, TF_LOSS, ploss - c->ent_coef * entropy + c->vf_coef * vloss);
    rl_grad_set(&g, TF_POLICY_LOSS, ploss);
    rl_grad_set(&g, TF_VALUE_LOSS, vloss);
    rl_grad_set(&g, TF_ENTROPY, entropy);
    rl_grad_set(&g, TF_KL, kl);
    rl_grad_set(&g, TF_GRAD_NORM, norm);
    rl_grad_set(&g, TF_Q_MEAN, vsum / m);
    rl_grad_set(&g, TF_Q_MAX, vmax);
    rl_grad_set(&g, TF_LR, lr);
    rl_log_grad(a->log, &g, want ? layers : NULL, n_layers);
}

static void update(ppo *p, const float *last_obs)
{
    rl_agent *a = &p->base;
    advantages(p, value_of(p, last_obs));
    for (int i = 0; i < p->n; i++)
        p->order[i] = i;
    for (int e = 0; e < a->c.epochs; e++) {
        for (int i = p->n - 1; i > 0; i--) { /* Fisher-Yates */
            int j = (int)rng_below(&a->rng, (uint64_t)i + 1), x = p->order[i];
            p->order[i] = p->order[j];
            p->order[j] = x;
        }
        for (int s = 0; s < p->n; s += p->B)
            minibatch(p, p->order + s, p->n - s < p->B ? p->n - s : p->B);
    }
    p->n = 0;
}

static void ppo_observe(rl_agent *a, const float *obs, double action, double reward,
                        const float *next_obs, bool terminated, bool truncated)
{
    ppo *p = (ppo *)a;
    int t = p->n++;
    a->steps++;
    memcpy(p->obs + (size_t)t * p->obs_dim, obs, (size_t)p->obs_dim * sizeof(float));
    const float *out = mlp_forward(&p->pi.m, obs, 1);
    p->action[t] = action;
    p->logp[t] = policy_logprob(out, p->n_actions, action);
    p->value[t] = value_of(p, obs);
    p->reward[t] = reward;
    p->terminated[t] = terminated;
    p->truncated[t] = truncated && !terminated;
    /* the value after an episode cut short (or, under the fault, after any end) */
    if (p->truncated[t] || (terminated && a->c.bootstrap_terminal))
        p->next_value[t] = value_of(p, next_obs);
    if (p->n == p->T)
        update(p, next_obs);
}

static void ppo_free(rl_agent *a)
{
    ppo *p = (ppo *)a;
    rl_net_free(&p->pi);
    rl_net_free(&p->v);
    free(p->obs);
    free(p->action);
    free(p->logp);
    free(p->value);
    free(p->reward);
    free(p->adv);
    free(p->ret);
    free(p->next_value);
    free(p->terminated);
    free(p->truncated);
    free(p->order);
    free(p->mb_obs);
    free(p->dpi);
    free(p->dv);
    free(p);
}

rl_agent *rl_ppo_new(const rl_agent *base)
{
    ppo *p = xcalloc(1, sizeof *p);
    p->base = *base;
    rl_agent *a = &p->base;
    const rl_agent_config *c = &a->c;
    if (c->n_steps < 1 || c->minibatch < 1 || c->epochs < 1)
        die(EX_SOFTWARE, "ppo: bad n_steps %d, minibatch %d or epochs %d", c->n_steps,
            c->minibatch, c->epochs);
    p->obs_dim = a->env->obs_dim;
    p->n_actions = a->env->n_actions;
    p->n_out = policy_outputs(p->n_actions);
    p->T = c->n_steps;
    p->B = c->minibatch;
    rl_net_init(&p->pi, "pi", p->obs_dim, c->hidden, p->n_out, MLP_TANH, p->B, 0.01,
                c->hidden_bias_shift, &a->rng);
    rl_net_init(&p->v, "v", p->obs_dim, c->hidden, 1, MLP_TANH, p->B, 1, c->hidden_bias_shift,
                &a->rng);
    size_t T = (size_t)p->T;
    p->obs = xmalloc(T * (size_t)p->obs_dim * sizeof(float));
    p->action = xmalloc(T * sizeof(double));
    p->logp = xmalloc(T * sizeof(double));
    p->value = xmalloc(T * sizeof(double));
    p->reward = xmalloc(T * sizeof(double));
    p->adv = xmalloc(T * sizeof(double));
    p->ret = xmalloc(T * sizeof(double));
    p->next_value = xcalloc(T, sizeof(double));
    p->terminated = xmalloc(T);
    p->truncated = xmalloc(T);
    p->order = xmalloc(T * sizeof(int));
    p->mb_obs = xmalloc((size_t)p->B * (size_t)p->obs_dim * sizeof(float));
    p->dpi = xmalloc((size_t)p->B * (size_t)p->n_out * sizeof(float));
    p->dv = xmalloc((size_t)p->B * sizeof(float));
    a->act = ppo_act;
    a->greedy = ppo_greedy;
    a->observe = ppo_observe;
    a->free = ppo_free;
    return a;
}
