/* GridWorld-v0: runnel's small navigation task.
 *
 * A 5 x 5 open grid; the agent starts in the top-left cell (row 0, column 0) and must reach
 * the bottom-right cell.  Actions: 0 up, 1 right, 2 down, 3 left; a move off the grid
 * leaves the agent where it is.  Reward -1 per step and 0 on the step that reaches the goal,
 * which terminates, so the best return is -7 (eight moves).  The observation is
 * (row / 4, column / 4).  Truncated after 100 steps; solved at a mean return of -10. */
#include "rl/env.h"

enum { SIZE = 5 };

static void reset(double *s, rng_t *r)
{
    s[0] = 0;
    s[1] = 0;
}

static void step(double *s, double a, double *reward, bool *terminated)
{
    static const int drow[4] = {-1, 0, 1, 0}, dcol[4] = {0, 1, 0, -1};
    int row = (int)s[0] + drow[(int)a], col = (int)s[1] + dcol[(int)a];
    if (row >= 0 && row < SIZE && col >= 0 && col < SIZE) {
        s[0] = row;
        s[1] = col;
    }
    *terminated = s[0] == SIZE - 1 && s[1] == SIZE - 1;
    *reward = *terminated ? 0.0 : -1.0;
}

static void observe(const double *s, float *obs)
{
    obs[0] = (float)(s[0] / (SIZE - 1));
    obs[1] = (float)(s[1] / (SIZE - 1));
}

const rl_env_class rl_gridworld = {
    .name = "GridWorld-v0",
    .obs_dim = 2,
    .n_actions = 4,
    .max_episode_steps = 100,
    .reward_threshold = -10.0,
    .ends = RL_ENDS_AT_GOAL,
    .reset = reset,
    .step = step,
    .observe = observe,
};
