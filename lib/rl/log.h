/* log: update records from an agent's gradient steps.
 *
 * Agents report every gradient step (its loss, entropy, gradient norm ...) with
 * rl_log_grad(); the log writes an update record (runnel-trace(5)) every `every` steps,
 * holding the means of the steps it summarizes, the largest q_max, the last lr and
 * epsilon, the number of target-network updates, and the layer statistics of its last
 * step.  Before a gradient step an agent asks rl_log_wants_layers(): only then does it
 * compute the (costlier) layer statistics. */
#ifndef RUNNEL_RL_LOG_H
#define RUNNEL_RL_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "rec/rec.h"
#include "rl/trace.h"

/* One gradient step. */
typedef struct {
    uint64_t has; /* 1 << trace_field of the values set */
    double v[TF_COUNT];
    int target_updates;
    bool has_target; /* the agent has a target network */
} rl_grad;

static inline void rl_grad_set(rl_grad *g, trace_field f, double v)
{
    g->v[f] = v;
    g->has |= (uint64_t)1 << f;
}

enum { RL_LOG_MAX_LAYERS = 8 };

typedef struct {
    rec_writer *w;
    int every;
    uint64_t step;  /* the environment step, kept current by the trainer */
    int n;          /* steps in the pending record */
    uint64_t has;
    double sum[TF_COUNT], last[TF_COUNT];
    int counted[TF_COUNT];
    double q_max;
    int target_updates;
    bool has_target;
    int n_layers;
    trace_layer layers[RL_LOG_MAX_LAYERS];
    trace_rec *rec;
} rl_log;

/* w may be NULL: nothing is written. */
void rl_log_init(rl_log *l, rec_writer *w, int every);
void rl_log_free(rl_log *l);
/* Whether the next gradient step ends a record. */
bool rl_log_wants_layers(const rl_log *l);
/* A gradient step; layers (n_layers of them) only when rl_log_wants_layers() said so. */
void rl_log_grad(rl_log *l, const rl_grad *g, const trace_layer *layers, int n_layers);
/* Write what is pending (at the end of training). */
void rl_log_flush(rl_log *l);

#endif
