/* MountainCar-v0: gymnasium/envs/classic_control/mountain_car.py.
 * State (position, velocity); reward -1 on every step; the left wall stops the car. */
#include <math.h>

#include "rl/env.h"

#define MIN_POSITION -1.2
#define MAX_POSITION 0.6
#define MAX_SPEED 0.07
#define GOAL_POSITION 0.5
#define GOAL_VELOCITY 0.0
#define FORCE 0.001
#define GRAVITY 0.0025

static double clip(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static void reset(double *s, rng_t *r)
{
    s[0] = -0.6 + (-0.4 - -0.6) * rng_uniform(r);
    s[1] = 0;
}

static void step(double *s, double a, double *reward, bool *terminated)
{
    double position = s[0], velocity = s[1];
    velocity += (a - 1) * FORCE + cos(3 * position) * (-GRAVITY);
    velocity = clip(velocity, -MAX_SPEED, MAX_SPEED);
    position += velocity;
    position = clip(position, MIN_POSITION, MAX_POSITION);
    if (position == MIN_POSITION && velocity < 0)
        velocity = 0;
    *terminated = position >= GOAL_POSITION && velocity >= GOAL_VELOCITY;
    *reward = -1.0;
    s[0] = position;
    s[1] = velocity;
}

static void observe(const double *s, float *obs)
{
    obs[0] = (float)s[0];
    obs[1] = (float)s[1];
}

const rl_env_class rl_mountain_car = {
    .name = "MountainCar-v0",
    .obs_dim = 2,
    .n_actions = 3,
    .max_episode_steps = 200,
    .reward_threshold = -110.0,
    .ends = RL_ENDS_AT_GOAL,
    .reset = reset,
    .step = step,
    .observe = observe,
};
