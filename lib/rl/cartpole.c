/* CartPole-v1: gymnasium/envs/classic_control/cartpole.py, Euler integration.
 * State (x, x_dot, theta, theta_dot); reward 1 on every step, the terminating one too. */
#include <math.h>

#include "rl/env.h"

#define GRAVITY 9.8
#define MASSCART 1.0
#define MASSPOLE 0.1
#define TOTAL_MASS (MASSPOLE + MASSCART)
#define LENGTH 0.5 /* half the pole's length */
#define POLEMASS_LENGTH (MASSPOLE * LENGTH)
#define FORCE_MAG 10.0
#define TAU 0.02
#define THETA_THRESHOLD (12 * 2 * M_PI / 360)
#define X_THRESHOLD 2.4

static void reset(double *s, rng_t *r)
{
    for (int i = 0; i < 4; i++)
        s[i] = -0.05 + (0.05 - -0.05) * rng_uniform(r);
}

static void step(double *s, double a, double *reward, bool *terminated)
{
    double x = s[0], x_dot = s[1], theta = s[2], theta_dot = s[3];
    double force = a == 1 ? FORCE_MAG : -FORCE_MAG;
    double costheta = cos(theta), sintheta = sin(theta);
    double temp = (force + POLEMASS_LENGTH * (theta_dot * theta_dot) * sintheta) / TOTAL_MASS;
    double thetaacc = (GRAVITY * sintheta - costheta * temp) /
                      (LENGTH * (4.0 / 3.0 - MASSPOLE * (costheta * costheta) / TOTAL_MASS));
    double xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS;
    s[0] = x + TAU * x_dot;
    s[1] = x_dot + TAU * xacc;
    s[2] = theta + TAU * theta_dot;
    s[3] = theta_dot + TAU * thetaacc;
    *terminated = s[0] < -X_THRESHOLD || s[0] > X_THRESHOLD || s[2] < -THETA_THRESHOLD ||
                  s[2] > THETA_THRESHOLD;
    *reward = 1.0;
}

static void observe(const double *s, float *obs)
{
    for (int i = 0; i < 4; i++)
        obs[i] = (float)s[i];
}

const rl_env_class rl_cartpole = {
    .name = "CartPole-v1",
    .obs_dim = 4,
    .n_actions = 2,
    .max_episode_steps = 500,
    .reward_threshold = 475.0,
    .ends = RL_ENDS_FAILING,
    .reset = reset,
    .step = step,
    .observe = observe,
};
