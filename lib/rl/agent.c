/* The agents' defaults and dispatch. */
#include "rl/agent.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "base/err.h"

const char *rl_agent_names(void) { return "dqn, reinforce, ppo, random"; }

bool rl_agent_defaults(const char *agent, const rl_env_class *env, rl_agent_config *c)
{
    memset(c, 0, sizeof *c);
    c->gamma = 0.99;
    c->hidden = 64;
    c->pg_sign = 1;
    if (strcmp(agent, "dqn") == 0) {
        if (env->n_actions < 1)
            return false;
        /* Measured to solve CartPole-v1 within 100k steps on seeds 1 to 5 (the greedy
         * policy's mean over 100 episodes at 475 by 40k to 80k steps). */
        c->lr = 2e-3;
        c->lr_anneal = true;
        c->max_grad_norm = 10;
        c->eps_start = 1;
        c->eps_end = 0.01;
        c->eps_fraction = 0.1;
        c->batch = 64;
        c->buffer = 100000;
        c->learning_starts = 1000;
        c->train_freq = 4;
        c->target_period = 500;
        c->double_q = true;
        return true;
    }
    if (strcmp(agent, "reinforce") == 0) {
        c->lr = 3e-3;
        c->max_grad_norm = 1;
        c->batch_steps = 1000;
        c->ent_coef = 0.01;
        return true;
    }
    if (strcmp(agent, "random") == 0)
        return true;
    if (strcmp(agent, "ppo") == 0) { /* Stable-Baselines3's defaults */
        c->lr = 3e-4;
        c->max_grad_norm = 0.5;
        c->n_steps = 2048;
        c->minibatch = 64;
        c->epochs = 10;
        c->gae_lambda = 0.95;
        c->clip = 0.2;
        c->vf_coef = 0.5;
        return true;
    }
    return false;
}

#define D(f) {#f, 'd', offsetof(rl_agent_config, f)}
#define I(f) {#f, 'i', offsetof(rl_agent_config, f)}
#define B(f) {#f, 'b', offsetof(rl_agent_config, f)}
static const struct {
    const char *name;
    char type;
    size_t offset;
} params[] = {
    D(gamma), D(lr), B(lr_anneal), D(max_grad_norm), I(hidden), D(eps_start), D(eps_end),
    D(eps_fraction), I(batch), I(buffer), I(learning_starts), I(train_freq), I(target_period),
    B(double_q), D(ent_coef), I(batch_steps), I(n_steps), I(epochs), I(minibatch),
    D(gae_lambda), D(clip), D(vf_coef),
};
#undef D
#undef I
#undef B

bool rl_agent_set(rl_agent_config *c, const char *name, double value)
{
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        if (strcmp(params[i].name, name) != 0)
            continue;
        char *p = (char *)c + params[i].offset;
        if (params[i].type == 'd')
            *(double *)p = value;
        else if (params[i].type == 'i')
            *(int *)p = (int)llround(value);
        else
            *(bool *)p = value != 0;
        return true;
    }
    return false;
}

const char *rl_agent_params(void)
{
    return "gamma lr lr_anneal max_grad_norm hidden eps_start eps_end eps_fraction batch buffer "
           "learning_starts train_freq target_period double_q ent_coef batch_steps n_steps "
           "epochs minibatch gae_lambda clip vf_coef";
}

const char *rl_agent_invalid(const char *agent, const rl_agent_config *c)
{
    if (!isfinite(c->gamma) || !(c->lr >= 0) || !isfinite(c->lr) || !(c->max_grad_norm >= 0))
        return "gamma, lr and max_grad_norm must be finite, lr and max_grad_norm not negative";
    if (c->hidden < 1 || c->hidden > 4096)
        return "hidden must be 1 to 4096";
    if (!(c->ent_coef >= 0) || !isfinite(c->ent_coef))
        return "ent_coef must not be negative";
    if (strcmp(agent, "dqn") == 0) {
        if (!(c->eps_start >= 0 && c->eps_start <= 1 && c->eps_end >= 0 && c->eps_end <= 1 &&
              c->eps_fraction >= 0))
            return "eps_start and eps_end must be in [0, 1], eps_fraction not negative";
        if (c->batch < 1 || c->batch > 1024 || c->buffer < c->batch || c->buffer > 10000000)
            return "batch must be 1 to 1024 and buffer from batch to 10000000";
        if (c->train_freq < 1 || c->learning_starts < 0 || c->target_period < 0)
            return "train_freq must be positive, learning_starts and target_period not negative";
    } else if (strcmp(agent, "reinforce") == 0) {
        if (c->batch_steps < 1 || c->batch_steps > 1000000)
            return "batch_steps must be 1 to 1000000";
    } else if (strcmp(agent, "ppo") == 0) {
        if (c->n_steps < 1 || c->n_steps > 1000000 || c->epochs < 1 || c->epochs > 1000 ||
            c->minibatch < 1 || c->minibatch > c->n_steps)
            return "n_steps must be 1 to 1000000, epochs 1 to 1000, minibatch 1 to n_steps";
        if (!(c->clip > 0) || !(c->gae_lambda >= 0 && c->gae_lambda <= 1) || !(c->vf_coef >= 0))
            return "clip must be positive, gae_lambda in [0, 1], vf_coef not negative";
    }
    return NULL;
}

rl_agent *rl_agent_new(const char *agent, const rl_env_class *env, const rl_agent_config *c,
                       uint64_t total_steps, uint64_t seed, rl_log *log)
{
    rl_agent base = {.env = env, .c = *c, .total_steps = total_steps, .log = log};
    rng_seed(&base.rng, seed);
    if (strcmp(agent, "dqn") == 0)
        return rl_dqn_new(&base);
    if (strcmp(agent, "reinforce") == 0)
        return rl_reinforce_new(&base);
    if (strcmp(agent, "ppo") == 0)
        return rl_ppo_new(&base);
    if (strcmp(agent, "random") == 0)
        return rl_random_new(&base);
    die(EX_SOFTWARE, "no agent \"%s\"", agent);
}

double rl_agent_lr(const rl_agent *a)
{
    if (!a->c.lr_anneal || a->total_steps == 0)
        return a->c.lr;
    return a->c.lr * fmax(1 - (double)a->steps / (double)a->total_steps, 0);
}

double rl_agent_act(rl_agent *a, const float *obs) { return a->act(a, obs); }

double rl_agent_greedy(rl_agent *a, const float *obs) { return a->greedy(a, obs); }

void rl_agent_observe(rl_agent *a, const float *obs, double action, double reward,
                      const float *next_obs, bool terminated, bool truncated)
{
    a->observe(a, obs, action, reward, next_obs, terminated, truncated);
}

void rl_agent_free(rl_agent *a)
{
    if (a)
        a->free(a);
}
