/* train: one training run of an agent on an environment, traced (runnel-trace(5)).
 *
 * rl_train() writes a config record, then an episode record at the end of every episode
 * and the agent's update records, and a done record.  Every eval_every steps it evaluates
 * the agent's greedy policy on eval_episodes episodes of a separate environment (those
 * steps are not training steps) and writes an eval record; the task is solved at the
 * first evaluation whose mean return reaches the environment's reward threshold.  The environment the agent sees can
 * be changed the way buggy programs change it (fault.h): the step limit, observations
 * and rewards scaled, or an observation that never changes.  The trace records what the
 * agent saw, as a program would log it. */
#ifndef RUNNEL_RL_TRAIN_H
#define RUNNEL_RL_TRAIN_H

#include <stdint.h>

#include "rec/rec.h"
#include "rl/agent.h"
#include "rl/env.h"

typedef struct {
    const rl_env_class *env;
    const char *agent;
    rl_agent_config cfg;
    uint64_t total_steps, seed;
    int log_every;          /* gradient steps per update record */
    uint64_t eval_every;    /* steps between evaluations; 0: none */
    int eval_episodes;      /* episodes of an evaluation */
    bool stop_when_solved;  /* end training at the first evaluation that solves the task */
    /* the environment as the program presents it */
    int max_episode_steps;
    double obs_scale, reward_scale;
    bool constant_obs;      /* every observation is the first one */
} rl_run;

typedef struct {
    uint64_t steps, episodes;
    double mean_return;     /* of the last 100 training episodes */
    double eval_return;     /* of the last evaluation; NAN before one */
    int64_t solved_step;    /* the step of the first evaluation at the threshold; -1 */
} rl_result;

/* Defaults for env and agent: false when the agent cannot act in env. */
bool rl_run_defaults(rl_run *run, const rl_env_class *env, const char *agent);
/* Train, writing the trace to w (which may be NULL: no trace). */
void rl_train(const rl_run *run, rec_writer *w, rl_result *res);

#endif
