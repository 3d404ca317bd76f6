/* trace: the records of a deep-RL training trace (runnel-trace(5)).
 *
 * A trace is a record stream in which every record has "event" and "step" (environment
 * steps so far); rl-trace(1) writes one and diagnose(1) reads one, as can any program
 * (python/runnel_trace.py).  Three events carry the training's signals:
 *
 *   config   what is trained: env, agent, gamma, lr, total_steps, ...
 *   episode  one finished episode: return, length, terminated, truncated, action counts,
 *            statistics of its observations and rewards
 *   update   one or more gradient steps: losses, entropy, gradient norm, value estimates,
 *            epsilon, target-network updates, and per-layer statistics
 *
 * and two report results: eval (the mean return of evaluation episodes) and done.
 *
 * Every other key is optional.  A trace_rec holds one record of any event in a fixed
 * layout: the numbers of the schema by field (present when their bit is set in has), so
 * that reading is one pass over the record's keys and writing emits the present keys in
 * the schema's order.  Numbers keep their value as written, NaN and infinities included:
 * finding them is diagnose's business, not the reader's. */
#ifndef RUNNEL_RL_TRACE_H
#define RUNNEL_RL_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "rec/rec.h"

typedef enum { TR_CONFIG, TR_EPISODE, TR_UPDATE, TR_EVAL, TR_DONE, TR_OTHER } trace_event;

/* The numbers of the schema (a field's name is its key). */
typedef enum {
    /* config */
    TF_GAMMA, TF_TOTAL_STEPS, TF_MAX_EPISODE_STEPS, TF_REWARD_THRESHOLD,
    TF_N_ACTIONS, TF_SEED,
    /* episode */
    TF_EPISODE, TF_RETURN, TF_LENGTH, TF_OBS_MIN, TF_OBS_MAX, TF_OBS_MEAN, TF_OBS_STD,
    TF_REWARD_MIN, TF_REWARD_MAX,
    /* update */
    TF_LOSS, TF_VALUE_LOSS, TF_POLICY_LOSS, TF_ENTROPY, TF_GRAD_NORM, TF_KL, TF_Q_MEAN,
    TF_Q_MAX, TF_TD_ERROR, TF_EPSILON, TF_UPDATES, TF_TARGET_UPDATES,
    /* config and update */
    TF_LR,
    /* eval and done */
    TF_EPISODES, TF_MEAN_RETURN, TF_SOLVED_STEP,
    TF_COUNT
} trace_field;

/* The statistics of one layer in an update record. */
typedef enum {
    TL_W_MEAN, TL_W_STD, TL_W_MAXABS, TL_G_NORM, TL_FRAC_DEAD, TL_FRAC_SATURATED,
    TL_UPDATE_RATIO, TL_COUNT
} trace_layer_field;

enum {
    TRACE_MAX_ARRAY = 1024, /* entries of action_counts and final_obs */
    TRACE_MAX_LAYERS = 64,
    TRACE_NAME_MAX = 64,
};

/* Bits of the flags that say which booleans and arrays a record has. */
enum {
    TB_TERMINATED = 1 << 0,
    TB_TRUNCATED = 1 << 1,
    TB_TARGET_UPDATED = 1 << 2,
    TB_ACTION_COUNTS = 1 << 3,
    TB_FINAL_OBS = 1 << 4,
    TB_LAYERS = 1 << 5,
    TB_ENV = 1 << 6,
    TB_AGENT = 1 << 7,
};

typedef struct {
    char name[TRACE_NAME_MAX]; /* cut to TRACE_NAME_MAX - 1 bytes */
    unsigned has;              /* 1 << trace_layer_field */
    double v[TL_COUNT];
} trace_layer;

typedef struct {
    trace_event event;
    uint64_t step;
    uint64_t has;  /* 1 << trace_field for each number present */
    double v[TF_COUNT];
    uint64_t seed; /* config's seed, exactly (v[TF_SEED] rounds above 2^53) */
    unsigned flags; /* TB_* present */
    bool terminated, truncated, target_updated;
    char env[TRACE_NAME_MAX], agent[TRACE_NAME_MAX];
    int n_action_counts, n_final_obs, n_layers;
    double action_counts[TRACE_MAX_ARRAY];
    double final_obs[TRACE_MAX_ARRAY];
    trace_layer layers[TRACE_MAX_LAYERS];
} trace_rec;

/* The name of an event ("update"; "other" for TR_OTHER). */
const char *trace_event_name(trace_event e);
/* The key of a field and of a layer statistic. */
const char *trace_field_name(trace_field f);
const char *trace_layer_field_name(trace_layer_field f);

static inline bool trace_has(const trace_rec *t, trace_field f) { return t->has >> f & 1; }
static inline void trace_set(trace_rec *t, trace_field f, double v)
{
    t->v[f] = v;
    t->has |= (uint64_t)1 << f;
}
static inline bool layer_has(const trace_layer *l, trace_layer_field f) { return l->has >> f & 1; }
static inline void layer_set(trace_layer *l, trace_layer_field f, double v)
{
    l->v[f] = v;
    l->has |= 1u << f;
}

/* Start an empty record of an event at a step (cheap: the arrays are not cleared). */
void trace_clear(trace_rec *t, trace_event event, uint64_t step);

/* Read record r into t.  A record that breaks the schema (no "event" or "step", a key of
 * the schema with a value of the wrong type, an array too long) goes to rec_fail() with
 * the key and what was found.  Keys outside the schema are ignored; records of events
 * other than config, episode, update, eval and done come back as TR_OTHER. */
void trace_parse(const rec *r, trace_rec *t);

/* Write t as one record: the present keys in the schema's order. */
void trace_write(rec_writer *w, const trace_rec *t);

#endif
