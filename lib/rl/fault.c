/* The fault catalogue. */
#include "rl/fault.h"

#include <string.h>

static void no_exploration(rl_run *r) { r->cfg.eps_start = r->cfg.eps_end = 0; }
static void epsilon_constant(rl_run *r) { r->cfg.eps_end = r->cfg.eps_start; }

static void epsilon_increasing(rl_run *r)
{
    double start = r->cfg.eps_start;
    r->cfg.eps_start = r->cfg.eps_end;
    r->cfg.eps_end = start;
}

static void target_frozen(rl_run *r) { r->cfg.target_period = 0; }
static void target_every_step(rl_run *r) { r->cfg.target_period = 1; }
static void obs_scale(rl_run *r) { r->obs_scale = 1000; }
static void reward_scale(rl_run *r) { r->reward_scale = 1000; }
static void gamma_zero(rl_run *r) { r->cfg.gamma = 0; }
static void gamma_above_one(rl_run *r) { r->cfg.gamma = 1.01; }
static void bootstrap_terminal(rl_run *r) { r->cfg.bootstrap_terminal = true; }
static void pg_wrong_sign(rl_run *r) { r->cfg.pg_sign = -1; }
static void lr_high(rl_run *r) { r->cfg.lr *= 100; }
static void lr_low(rl_run *r) { r->cfg.lr /= 100; }

static void step_limit(rl_run *r)
{
    r->max_episode_steps = r->max_episode_steps / 20 > 0 ? r->max_episode_steps / 20 : 1;
}

/* Biases of -10 put every hidden ReLU's input far below zero for inputs of order 1. */
static void dead_relu(rl_run *r) { r->cfg.hidden_bias_shift = -10; }
static void constant_obs(rl_run *r) { r->constant_obs = true; }

static const rl_fault faults[] = {
    {"no-exploration", "epsilon is 0 from the start: the agent never explores", "dqn",
     "epsilon_bad_start epsilon_flat action_dominant", no_exploration},
    {"epsilon-constant", "epsilon never decays: the agent acts at random to the end", "dqn",
     "epsilon_flat", epsilon_constant},
    {"epsilon-increasing", "epsilon rises from its floor to 1 (start and end swapped)", "dqn",
     "epsilon_increasing epsilon_bad_start", epsilon_increasing},
    {"target-frozen", "the target network is never updated", "dqn", "target_not_updated",
     target_frozen},
    {"target-every-step", "the target network is copied at every step", "dqn",
     "target_updated_too_often", target_every_step},
    {"obs-scale", "observations are multiplied by 1000", "dqn reinforce ppo",
     "obs_unnormalized saturated_activations", obs_scale},
    {"reward-scale", "rewards are multiplied by 1000", "dqn reinforce ppo",
     "reward_unnormalized", reward_scale},
    {"gamma-zero", "the discount factor is 0", "dqn reinforce ppo", "gamma_out_of_range",
     gamma_zero},
    {"gamma-above-one", "the discount factor is 1.01", "dqn reinforce ppo",
     "gamma_out_of_range q_diverging", gamma_above_one},
    {"bootstrap-terminal", "targets bootstrap through terminal states", "dqn ppo",
     "q_overestimated q_diverging", bootstrap_terminal},
    {"pg-wrong-sign", "the policy-gradient loss has the wrong sign", "reinforce ppo",
     "reward_decreasing entropy_collapse", pg_wrong_sign},
    {"lr-high", "the learning rate is 100 times too high", "dqn reinforce ppo",
     "lr_too_high loss_diverging exploding_gradients weights_diverging dead_activations "
     "saturated_activations entropy_collapse nan_inf",
     lr_high},
    {"lr-low", "the learning rate is 100 times too low", "dqn reinforce ppo",
     "lr_too_low loss_not_decreasing entropy_stagnant", lr_low},
    {"step-limit", "the episode step limit is 20 times too small", "dqn reinforce ppo",
     "episode_step_limit", step_limit},
    {"dead-relu", "hidden biases start at -10: every ReLU is dead", "dqn reinforce",
     "dead_activations vanishing_gradients", dead_relu},
    {"constant-obs", "the environment returns the same observation every step",
     "dqn reinforce ppo", "obs_constant", constant_obs},
};
enum { N_FAULTS = sizeof faults / sizeof faults[0] };

int rl_fault_count(void) { return N_FAULTS; }
const rl_fault *rl_fault_at(int i) { return &faults[i]; }

const rl_fault *rl_fault_find(const char *name)
{
    for (int i = 0; i < N_FAULTS; i++)
        if (strcmp(faults[i].name, name) == 0)
            return &faults[i];
    return NULL;
}

/* Whether word is one of the space-separated words of list. */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
            return true;
    return false;
}

bool rl_fault_applies(const rl_fault *f, const char *agent, const rl_env_class *env)
{
    if (!has_word(f->agents, agent))
        return false;
    /* Bootstrapping through a terminal state hides that the rewards stop there: that
     * matters where episodes end in failure.  Where they end at the goal, the best state
     * there is, the terminal observation's value (never trained: it is never acted from)
     * stays near what it should be, and the fault changes almost nothing: DQN learns the
     * same GridWorld path with it (measured). */
    if (f->apply == bootstrap_terminal && env->ends != RL_ENDS_FAILING)
        return false;
    return true;
}
