/* agent: the deep-RL agents of rl-trace(1): DQN, REINFORCE with a baseline, PPO.
 *
 * An agent chooses actions (rl_agent_act) and learns from each transition
 * (rl_agent_observe), reporting its gradient steps to an rl_log.  All three use small
 * MLPs (mlp.h) trained with Adam (optim/adamw.h, no weight decay) and clip the global
 * gradient norm.
 *
 *   dqn        Q-network, replay buffer, a target network copied every target_period
 *              steps, epsilon-greedy with a linear schedule, Huber loss (discrete actions)
 *   reinforce  a softmax or Gaussian policy trained on whole episodes with returns-to-go
 *              minus a learned value baseline
 *   ppo        actor and critic, GAE, the clipped surrogate objective over epochs of
 *              minibatches (discrete and continuous actions)
 *   random     uniform actions and no learning: the baseline a learner must beat
 *
 * rl_agent_defaults() gives each agent's hyperparameters; the faults of fault.h change
 * them.  Everything random comes from the rng given at creation. */
#ifndef RUNNEL_RL_AGENT_H
#define RUNNEL_RL_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/rng.h"
#include "rl/env.h"
#include "rl/log.h"

typedef struct {
    /* every agent */
    double gamma, lr, max_grad_norm;
    bool lr_anneal;             /* the learning rate falls linearly to 0 over the steps */
    int hidden;                 /* units in each of the two hidden layers */
    int max_episode_steps;      /* the longest episode (rl_train sets it) */
    double hidden_bias_shift;   /* added to hidden biases after initialization */
    /* dqn */
    double eps_start, eps_end, eps_fraction; /* linear from start to end over a fraction of the steps */
    int batch, buffer, learning_starts, train_freq;
    int target_period;          /* environment steps between target copies; 0: never */
    bool double_q;
    /* dqn and ppo */
    bool bootstrap_terminal;    /* treat terminal states as if the episode went on */
    /* reinforce and ppo */
    double pg_sign;             /* 1; -1 flips the sign of the policy-gradient loss */
    double ent_coef;
    int batch_steps;            /* reinforce: steps (whole episodes) per update */
    /* ppo */
    int n_steps, epochs, minibatch;
    double gae_lambda, clip, vf_coef;
} rl_agent_config;

/* The names, for messages: "dqn, reinforce, ppo". */
const char *rl_agent_names(void);
/* Fill c with the defaults of agent for env; false for an unknown agent or one that
 * cannot act in env (dqn needs discrete actions). */
bool rl_agent_defaults(const char *agent, const rl_env_class *env, rl_agent_config *c);

/* Set the hyperparameter called name (a field above: "lr", "gamma", "batch" ...); false
 * when there is none.  Integer and boolean fields take the value rounded (booleans: 0 or
 * not). */
bool rl_agent_set(rl_agent_config *c, const char *name, double value);
/* The names of the hyperparameters, space-separated. */
const char *rl_agent_params(void);
/* NULL when c is usable by agent, else what is wrong with it. */
const char *rl_agent_invalid(const char *agent, const rl_agent_config *c);

typedef struct rl_agent rl_agent;

rl_agent *rl_agent_new(const char *agent, const rl_env_class *env, const rl_agent_config *c,
                       uint64_t total_steps, uint64_t seed, rl_log *log);
/* The action for obs: an index, or the continuous action (unclipped: the env clips). */
double rl_agent_act(rl_agent *a, const float *obs);
/* The action the policy prefers, without exploration (for evaluation). */
double rl_agent_greedy(rl_agent *a, const float *obs);
/* Learn from the transition (obs, action, reward, next_obs); next_obs is the observation
 * the step returned (before any reset). */
void rl_agent_observe(rl_agent *a, const float *obs, double action, double reward,
                      const float *next_obs, bool terminated, bool truncated);
void rl_agent_free(rl_agent *a);

/* ---- inside lib/rl: each agent's functions ---- */

struct rl_agent {
    const rl_env_class *env;
    rl_agent_config c;
    uint64_t total_steps, steps;
    rng_t rng;
    rl_log *log;
    double (*act)(rl_agent *a, const float *obs);
    double (*greedy)(rl_agent *a, const float *obs);
    void (*observe)(rl_agent *a, const float *obs, double action, double reward,
                    const float *next_obs, bool terminated, bool truncated);
    void (*free)(rl_agent *a);
};

/* Each constructor copies base (env, config, steps, rng, log) into its own state, whose
 * first member is an rl_agent, and builds its networks from base->rng. */
rl_agent *rl_dqn_new(const rl_agent *base);
/* The learning rate at the agent's current step. */
double rl_agent_lr(const rl_agent *a);
rl_agent *rl_reinforce_new(const rl_agent *base);
rl_agent *rl_ppo_new(const rl_agent *base);
rl_agent *rl_random_new(const rl_agent *base);

#endif
