/* env: the environments runnel's RL tools train on.
 *
 * CartPole-v1, MountainCar-v0, Acrobot-v1 and Pendulum-v1 follow Gymnasium's classic-control
 * code term by term: the same constants, the same float64 arithmetic in the same order
 * (Acrobot integrates with rk4 over [0, dt]; Pendulum's angle_normalize uses Python's
 * modulo), observations rounded to float32, and the TimeLimit truncation of Gymnasium's
 * registry (max_episode_steps, reward_threshold).  GridWorld-v0 is runnel's own small
 * task.  tests/ref/gym/trajectories.py is the reference the unit tests compare with.
 *
 * Initial states are drawn from runnel's rng (rng.h) with Gymnasium's distributions
 * (low + (high - low) * U[0, 1)), so a seed gives other starts than numpy's generator.
 *
 * An episode: rl_env_reset(), then rl_env_step() until terminated (the task ended: the
 * pole fell, the goal was reached) or truncated (the step limit).  After either, reset. */
#ifndef RUNNEL_RL_ENV_H
#define RUNNEL_RL_ENV_H

#include <stdbool.h>

#include "base/rng.h"

enum { RL_MAX_OBS = 8, RL_MAX_ACTIONS = 8 };

typedef struct {
    const char *name;        /* "CartPole-v1" */
    int obs_dim;             /* floats per observation */
    int n_actions;           /* discrete actions 0 .. n_actions-1, or 0: one continuous action */
    double act_low, act_high;/* bounds of the continuous action (the env clips to them) */
    int max_episode_steps;   /* Gymnasium's TimeLimit */
    double reward_threshold; /* the registry's "solved" return, or NAN when it has none */
    /* What ends an episode before its step limit: nothing (only truncation), a failure
     * (the pole falls: the rewards stop), or reaching the goal (the best outcome). */
    enum { RL_ENDS_NEVER, RL_ENDS_FAILING, RL_ENDS_AT_GOAL } ends;
    /* Draw an initial state into s. */
    void (*reset)(double *s, rng_t *r);
    /* Advance s by action a (an index, or the continuous action); sets the reward and
     * whether the episode terminated. */
    void (*step)(double *s, double a, double *reward, bool *terminated);
    /* The observation of state s (obs_dim floats). */
    void (*observe)(const double *s, float *obs);
} rl_env_class;

extern const rl_env_class rl_cartpole, rl_mountain_car, rl_acrobot, rl_pendulum,
    rl_gridworld;

typedef struct {
    const rl_env_class *c;
    double s[4];    /* the internal state, float64 as in Gymnasium */
    int t;          /* steps since the last reset */
    int max_steps;  /* truncation: max_episode_steps unless changed */
    rng_t rng;
} rl_env;

/* The class of an environment name, or NULL. */
const rl_env_class *rl_env_find(const char *name);
/* The names, comma-separated, for messages. */
const char *rl_env_names(void);

void rl_env_init(rl_env *e, const rl_env_class *c, uint64_t seed);
void rl_env_reset(rl_env *e, float *obs);
/* One step.  A discrete action must be an index below n_actions (anything else is a
 * programming error: EX_SOFTWARE).  truncated is set when the step count reaches
 * max_steps, also on a terminating step (as Gymnasium's TimeLimit does). */
void rl_env_step(rl_env *e, double a, float *obs, double *reward, bool *terminated,
                 bool *truncated);

#endif
