/* fault: the common faults of deep-RL programs, planted in a training run.
 *
 * Each fault changes what a buggy program would change: a hyperparameter, the epsilon
 * schedule, the target-network update, the environment the agent sees, the loss, or the
 * initialization.  None of them crashes training or prints an error; finding them is
 * diagnose(1)'s job.  A fault applies to some agents (and not to environments where it
 * changes nothing); `codes` lists the diagnoses that point at it, which the evaluation
 * (pipelines/diagnose.mk) counts as detecting it.  The trace never names the fault. */
#ifndef RUNNEL_RL_FAULT_H
#define RUNNEL_RL_FAULT_H

#include <stdbool.h>

#include "rl/train.h"

typedef struct {
    const char *name;   /* "target-frozen" */
    const char *what;   /* one line for --list and the man page */
    const char *agents; /* the agents it applies to, space-separated */
    const char *codes;  /* the diagnoses that detect it, space-separated */
    void (*apply)(rl_run *run);
} rl_fault;

int rl_fault_count(void);
const rl_fault *rl_fault_at(int i);
const rl_fault *rl_fault_find(const char *name);
/* Whether the fault changes anything for this agent on this environment. */
bool rl_fault_applies(const rl_fault *f, const char *agent, const rl_env_class *env);

#endif
