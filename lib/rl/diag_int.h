/* diag_int: what the diagnosis routines share (internal to lib/rl/diag*.c).
 *
 * A routine is a routine_def (its code, texts, parameters and two functions) and a
 * state of state_size bytes that diag allocates zeroed.  feed() sees every record;
 * finish() runs once at the end of the trace.  A routine calls diag_ran() once its inputs
 * have arrived and it has evaluated them, and diag_fire() to report (once: after firing
 * it is fed no more). */
#ifndef RUNNEL_RL_DIAG_INT_H
#define RUNNEL_RL_DIAG_INT_H

#include <stddef.h>

#include "rl/diag.h"
#include "rl/lsq.h"

enum { DIAG_MAX_PARAMS = 6 };

typedef struct {
    const char *name;
    double value;
    const char *doc;
} diag_param_def;

typedef struct routine routine;

typedef struct {
    const char *code;
    diag_severity severity;
    const char *needs;
    const char *meaning, *practice, *fixes;
    diag_param_def params[DIAG_MAX_PARAMS]; /* until a NULL name */
    size_t state_size;
    void (*init)(diag *d, routine *r);      /* optional, after parameters are final */
    void (*feed)(diag *d, routine *r, const trace_rec *t);
    void (*finish)(diag *d, routine *r);    /* optional */
    void (*free)(routine *r);               /* optional */
} routine_def;

struct routine {
    const routine_def *def;
    double p[DIAG_MAX_PARAMS];
    bool ran, fired, started;
    void *state;
};

/* What every routine may read about the run. */
struct diag {
    diag_report_fn *report;
    void *ctx;
    double explore, exploit;  /* phase fractions */
    /* from the config record (NAN or 0 when absent) */
    double gamma, reward_threshold;
    uint64_t total_steps, max_episode_steps;
    int n_actions;            /* -1: unknown; 0: continuous */
    int n_actions_seen;       /* the longest action_counts so far */
    /* the current record */
    uint64_t step, index;
    uint64_t grad_steps;      /* gradient steps so far (sum of "updates") */
    uint64_t last_step;
    bool started;             /* the routines' init has run */
    bool finishing;           /* in diag_finish() */
    routine *r;
    int n;
};

/* The routine tables of diag_*.c, each ending with a NULL code. */
extern const routine_def diag_health_routines[], diag_policy_routines[],
    diag_env_routines[], diag_value_routines[];

void diag_ran(routine *r);
/* Report routine r's finding (severity sev) detected at step, with evidence ev (up to a
 * NULL name) and a summary line. */
void diag_fire(diag *d, routine *r, diag_severity sev, uint64_t step, const diag_evidence *ev,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The phase of the steps a window covers, once the plan is known (else PHASE_UNKNOWN). */
typedef enum { PHASE_UNKNOWN, PHASE_EXPLORE, PHASE_MIDDLE, PHASE_EXPLOIT } diag_phase;
diag_phase diag_phase_of(const diag *d, uint64_t s0, uint64_t s1);

/* The planned steps: total_steps from the config, else at the end the last step seen;
 * 0 while unknown. */
uint64_t diag_total(const diag *d);
/* The end of the exploration phase and the start of the exploitation phase, in steps
 * (0 while the total is unknown). */
uint64_t diag_explore_end(const diag *d);
uint64_t diag_exploit_start(const diag *d);

/* n_actions from the config, or the length of action_counts seen; -1 if unknown. */
int diag_actions(const diag *d);

/* Gradient steps summarized by an update record. */
double diag_updates_of(const trace_rec *t);

#endif
