/* The random agent: uniform actions (over the indices, or over the continuous action's
 * bounds), no learning. */
#include <stdlib.h>

#include "base/err.h"
#include "rl/agent.h"

static double random_act(rl_agent *a, const float *obs)
{
    if (a->env->n_actions > 0)
        return (double)rng_below(&a->rng, (uint64_t)a->env->n_actions);
    return a->env->act_low + (a->env->act_high - a->env->act_low) * rng_uniform(&a->rng);
}

static void random_observe(rl_agent *a, const float *obs, double action, double reward,
                           const float *next_obs, bool terminated, bool truncated)
{
    a->steps++;
}

static void random_free(rl_agent *a) { free(a); }

rl_agent *rl_random_new(const rl_agent *base)
{
    rl_agent *a = xmalloc(sizeof *a);
    *a = *base;
    a->act = random_act;
    a->greedy = random_act;
    a->observe = random_observe;
    a->free = random_free;
    return a;
}
