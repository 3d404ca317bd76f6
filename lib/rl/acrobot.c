/* Acrobot-v1: gymnasium/envs/classic_control/acrobot.py, the book's dynamics.
 * State (theta1, theta2, dtheta1, dtheta2); one rk4 step over [0, dt] per action; reward
 * -1, or 0 on the step the free end rises above the line (which terminates). */
#include <math.h>

#include "rl/env.h"

#define DT 0.2
#define LINK_LENGTH_1 1.0
#define LINK_MASS_1 1.0
#define LINK_MASS_2 1.0
#define LINK_COM_POS_1 0.5
#define LINK_COM_POS_2 0.5
#define LINK_MOI 1.0
#define MAX_VEL_1 (4 * M_PI)
#define MAX_VEL_2 (9 * M_PI)

static const double avail_torque[3] = {-1.0, 0.0, +1};

/* Gymnasium draws the state in float64 and keeps it as float32 (astype), so a start is a
 * float32 value; the first step widens it to float64 again. */
static void reset(double *s, rng_t *r)
{
    for (int i = 0; i < 4; i++)
        s[i] = (float)(-0.1 + (0.1 - -0.1) * rng_uniform(r));
}

/* _dsdt: the time derivative of (theta1, theta2, dtheta1, dtheta2) under torque a. */
static void dsdt(const double *s, double a, double *ds)
{
    const double m1 = LINK_MASS_1, m2 = LINK_MASS_2, l1 = LINK_LENGTH_1;
    const double lc1 = LINK_COM_POS_1, lc2 = LINK_COM_POS_2, I1 = LINK_MOI, I2 = LINK_MOI;
    const double g = 9.8;
    double theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
    double d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos(theta2)) + I1 +
                I2;
    double d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos(theta2)) + I2;
    double phi2 = m2 * lc2 * g * cos(theta1 + theta2 - M_PI / 2.0);
    double phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin(theta2) -
                  2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2) +
                  (m1 * lc1 + m2 * l1) * g * cos(theta1 - M_PI / 2) + phi2;
    double ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin(theta2) -
                       phi2) /
                      (m2 * (lc2 * lc2) + I2 - (d2 * d2) / d1);
    double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    ds[0] = dtheta1;
    ds[1] = dtheta2;
    ds[2] = ddtheta1;
    ds[3] = ddtheta2;
}

/* rk4 over t = [0, DT]: one step of the classic fourth-order Runge-Kutta. */
static void rk4(double *y, double a)
{
    const double dt = DT - 0, dt2 = dt / 2.0;
    double k1[4], k2[4], k3[4], k4[4], tmp[4];
    dsdt(y, a, k1);
    for (int i = 0; i < 4; i++)
        tmp[i] = y[i] + dt2 * k1[i];
    dsdt(tmp, a, k2);
    for (int i = 0; i < 4; i++)
        tmp[i] = y[i] + dt2 * k2[i];
    dsdt(tmp, a, k3);
    for (int i = 0; i < 4; i++)
        tmp[i] = y[i] + dt * k3[i];
    dsdt(tmp, a, k4);
    for (int i = 0; i < 4; i++)
        y[i] = y[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
}

static double wrap(double x, double m, double M)
{
    double diff = M - m;
    while (x > M)
        x = x - diff;
    while (x < m)
        x = x + diff;
    return x;
}

static double bound(double x, double m, double M) { return fmin(fmax(x, m), M); }

static void step(double *s, double a, double *reward, bool *terminated)
{
    rk4(s, avail_torque[(int)a]);
    s[0] = wrap(s[0], -M_PI, M_PI);
    s[1] = wrap(s[1], -M_PI, M_PI);
    s[2] = bound(s[2], -MAX_VEL_1, MAX_VEL_1);
    s[3] = bound(s[3], -MAX_VEL_2, MAX_VEL_2);
    *terminated = -cos(s[0]) - cos(s[1] + s[0]) > 1.0;
    *reward = *terminated ? 0.0 : -1.0;
}

static void observe(const double *s, float *obs)
{
    obs[0] = (float)cos(s[0]);
    obs[1] = (float)sin(s[0]);
    obs[2] = (float)cos(s[1]);
    obs[3] = (float)sin(s[1]);
    obs[4] = (float)s[2];
    obs[5] = (float)s[3];
}

const rl_env_class rl_acrobot = {
    .name = "Acrobot-v1",
    .obs_dim = 6,
    .n_actions = 3,
    .max_episode_steps = 500,
    .reward_threshold = -100.0,
    .ends = RL_ENDS_AT_GOAL,
    .reset = reset,
    .step = step,
    .observe = observe,
};
