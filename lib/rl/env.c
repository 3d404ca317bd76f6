/* The environment registry and Gymnasium's TimeLimit. */
#include "rl/env.h"

#include <string.h>

#include "base/err.h"

static const rl_env_class *const classes[] = {
    &rl_cartpole, &rl_mountain_car, &rl_acrobot, &rl_pendulum, &rl_gridworld,
};
enum { N_CLASSES = sizeof classes / sizeof classes[0] };

const rl_env_class *rl_env_find(const char *name)
{
    for (int i = 0; i < N_CLASSES; i++)
        if (strcmp(classes[i]->name, name) == 0)
            return classes[i];
    return NULL;
}

const char *rl_env_names(void)
{
    return "CartPole-v1, MountainCar-v0, Acrobot-v1, Pendulum-v1, GridWorld-v0";
}

void rl_env_init(rl_env *e, const rl_env_class *c, uint64_t seed)
{
    memset(e, 0, sizeof *e);
    e->c = c;
    e->max_steps = c->max_episode_steps;
    rng_seed(&e->rng, seed);
}

void rl_env_reset(rl_env *e, float *obs)
{
    memset(e->s, 0, sizeof e->s);
    e->c->reset(e->s, &e->rng);
    e->t = 0;
    e->c->observe(e->s, obs);
}

void rl_env_step(rl_env *e, double a, float *obs, double *reward, bool *terminated,
                 bool *truncated)
{
    if (e->c->n_actions > 0 && !(a >= 0 && a < e->c->n_actions && a == (int)a))
        die(EX_SOFTWARE, "%s: action %g is not one of 0 .. %d", e->c->name, a,
            e->c->n_actions - 1);
    e->c->step(e->s, a, reward, terminated);
    e->c->observe(e->s, obs);
    e->t++;
    *truncated = e->t >= e->max_steps;
}
