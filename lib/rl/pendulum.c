/* Pendulum-v1: gymnasium/envs/classic_control/pendulum.py.
 * State (theta, theta_dot); the action is a torque, clipped to [-2, 2]; reward
 * -(angle_normalize(theta)^2 + 0.1 theta_dot^2 + 0.001 u^2); never terminates. */
#include <math.h>

#include "rl/env.h"

#define MAX_SPEED 8
#define MAX_TORQUE 2.0
#define DT 0.05
#define G 10.0
#define M 1.0
#define L 1.0

static double clip(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* Python's float modulo: the result takes the sign of the divisor. */
static double py_mod(double x, double y)
{
    double r = fmod(x, y);
    if (r != 0 && (r < 0) != (y < 0))
        r += y;
    else if (r == 0)
        r = copysign(0.0, y);
    return r;
}

static double angle_normalize(double x) { return py_mod(x + M_PI, 2 * M_PI) - M_PI; }

static void reset(double *s, rng_t *r)
{
    s[0] = -M_PI + (M_PI - -M_PI) * rng_uniform(r);
    s[1] = -1.0 + (1.0 - -1.0) * rng_uniform(r);
}

static void step(double *s, double a, double *reward, bool *terminated)
{
    double th = s[0], thdot = s[1];
    double u = clip(a, -MAX_TORQUE, MAX_TORQUE);
    double an = angle_normalize(th);
    double costs = an * an + 0.1 * (thdot * thdot) + 0.001 * (u * u);
    double newthdot = thdot + (3 * G / (2 * L) * sin(th) + 3.0 / (M * (L * L)) * u) * DT;
    newthdot = clip(newthdot, -MAX_SPEED, MAX_SPEED);
    s[0] = th + newthdot * DT;
    s[1] = newthdot;
    *reward = -costs;
    *terminated = false;
}

static void observe(const double *s, float *obs)
{
    obs[0] = (float)cos(s[0]);
    obs[1] = (float)sin(s[0]);
    obs[2] = (float)s[1];
}

const rl_env_class rl_pendulum = {
    .name = "Pendulum-v1",
    .obs_dim = 3,
    .n_actions = 0,
    .act_low = -MAX_TORQUE,
    .act_high = MAX_TORQUE,
    .max_episode_steps = 200,
    .reward_threshold = NAN,
    .ends = RL_ENDS_NEVER,
    .reset = reset,
    .step = step,
    .observe = observe,
};
