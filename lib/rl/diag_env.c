/* Diagnosis routines of what the agent receives from its environment: observations,
 * rewards and the episodes' step limit. */
#include <math.h>
#include <string.h>

#include "rl/diag_int.h"

typedef struct {
    int count;     /* episodes over the limit so far */
    double worst;
} scale_state;

static void scale_check(diag *d, routine *r, double v, const char *what)
{
    scale_state *s = r->state;
    diag_ran(r);
    if (!(v > r->p[0]))
        return;
    s->worst = fmax(s->worst, v);
    if (++s->count >= (int)r->p[1])
        diag_fire(d, r, DIAG_WARNING, d->step,
                  (diag_evidence[]){{"largest_magnitude", s->worst}, {"limit", r->p[0]},
                                    {"episodes", s->count}, {0}},
                  "%s reach a magnitude of %.4g in %d episodes", what, s->worst, s->count);
}

static void obs_feed(diag *d, routine *r, const trace_rec *t)
{
    if (t->event != TR_EPISODE || !trace_has(t, TF_OBS_MIN) || !trace_has(t, TF_OBS_MAX))
        return;
    scale_check(d, r, fmax(fabs(t->v[TF_OBS_MIN]), fabs(t->v[TF_OBS_MAX])), "observations");
}

static void reward_feed(diag *d, routine *r, const trace_rec *t)
{
    if (t->event != TR_EPISODE)
        return;
    if (trace_has(t, TF_REWARD_MIN) && trace_has(t, TF_REWARD_MAX))
        scale_check(d, r, fmax(fabs(t->v[TF_REWARD_MIN]), fabs(t->v[TF_REWARD_MAX])), "rewards");
    else if (trace_has(t, TF_RETURN) && trace_has(t, TF_LENGTH) && t->v[TF_LENGTH] >= 1)
        scale_check(d, r, fabs(t->v[TF_RETURN]) / t->v[TF_LENGTH], "mean rewards per step");
}

/* ---- obs_constant ---- */

typedef struct {
    int run; /* consecutive episodes with unchanging observations */
} constant_state;

static void constant_feed(diag *d, routine *r, const trace_rec *t)
{
    constant_state *s = r->state;
    if (t->event != TR_EPISODE || !trace_has(t, TF_LENGTH) || !(t->v[TF_LENGTH] >= 2))
        return;
    /* An agent that repeats one action against a wall sees an unchanging observation
     * too; the environment is at fault when different actions change nothing. */
    int used = 0;
    for (int i = 0; i < t->n_action_counts; i++)
        used += t->action_counts[i] > 0;
    if ((t->flags & TB_ACTION_COUNTS) && used < 2)
        return;
    /* A standard deviation computed from sums of squares is rounding, not 0, for a
     * constant: compare it with the size of the observations. */
    double size = trace_has(t, TF_OBS_MIN) && trace_has(t, TF_OBS_MAX)
                      ? fmax(fabs(t->v[TF_OBS_MIN]), fabs(t->v[TF_OBS_MAX]))
                  : trace_has(t, TF_OBS_MEAN) ? fabs(t->v[TF_OBS_MEAN])
                                              : 0;
    bool constant;
    if (trace_has(t, TF_OBS_STD))
        constant = t->v[TF_OBS_STD] <= r->p[1] * size;
    else if (trace_has(t, TF_OBS_MIN) && trace_has(t, TF_OBS_MAX))
        constant = t->v[TF_OBS_MIN] == t->v[TF_OBS_MAX];
    else
        return;
    diag_ran(r);
    s->run = constant ? s->run + 1 : 0;
    if (s->run >= (int)r->p[0])
        diag_fire(d, r, DIAG_ERROR, t->step, (diag_evidence[]){{"episodes", s->run}, {0}},
                  "the observation never changed within each of the last %d episodes", s->run);
}

/* ---- episode_step_limit ---- */

typedef struct {
    double length[256];
    unsigned char truncated[256];
    int pos, filled;
} limit_state;

static void limit_feed(diag *d, routine *r, const trace_rec *t)
{
    limit_state *s = r->state;
    if (t->event != TR_EPISODE || !trace_has(t, TF_LENGTH) || !(t->flags & TB_TRUNCATED))
        return;
    int w = (int)fmin(fmax(r->p[0], 2), 256);
    s->length[s->pos] = t->v[TF_LENGTH];
    s->truncated[s->pos] = t->truncated;
    s->pos = (s->pos + 1) % w;
    if (s->filled < w) {
        s->filled++;
        return;
    }
    /* The horizon over which the agent values rewards: 1 / (1 - gamma). */
    double gamma = isnan(d->gamma) ? r->p[3] : d->gamma;
    if (!(gamma > 0 && gamma < 1))
        return;
    diag_ran(r);
    double horizon = 1 / (1 - gamma), limit = 0;
    int truncated = 0, at_limit = 0;
    for (int i = 0; i < w; i++)
        if (s->truncated[i]) {
            truncated++;
            limit = fmax(limit, s->length[i]);
        }
    for (int i = 0; i < w; i++)
        at_limit += s->truncated[i] && s->length[i] == limit;
    if (truncated >= r->p[1] * w && at_limit >= r->p[1] * truncated && limit < r->p[2] * horizon)
        diag_fire(d, r, DIAG_WARNING, t->step,
                  (diag_evidence[]){{"limit", limit}, {"truncated", (double)truncated / w},
                                    {"horizon", horizon}, {0}},
                  "%d of the last %d episodes were cut at %.0f steps, shorter than the "
                  "discount horizon 1/(1-gamma) = %.0f steps", truncated, w, limit, horizon);
}

const routine_def diag_env_routines[] = {
    {
        .code = "obs_unnormalized",
        .severity = DIAG_WARNING,
        .needs = "episode records with obs_min and obs_max",
        .meaning = "Observations reach large magnitudes: inputs of that size saturate tanh "
                   "units, blow up ReLU pre-activations and make the gradient scale depend "
                   "on the units of the observation.",
        .practice = "Feed networks observations of about zero mean and unit variance "
                    "(running mean and std normalization, or known bounds).",
        .fixes = "Normalize observations (e.g. Gymnasium's NormalizeObservation, or divide "
                 "by known bounds); look for a unit conversion or scaling bug.",
        .params = {{"limit", 100, "a magnitude above this is unnormalized"},
                   {"episodes", 3, "episodes over the limit needed"}},
        .state_size = sizeof(scale_state),
        .feed = obs_feed,
    },
    {
        .code = "reward_unnormalized",
        .severity = DIAG_WARNING,
        .needs = "episode records with reward_min and reward_max (or return and length)",
        .meaning = "Single-step rewards are very large: value targets and gradients scale "
                   "with them, which destabilizes learning and breaks hyperparameters tuned "
                   "for rewards of order 1.",
        .practice = "Scale or clip rewards to about [-1, 1] per step (or normalize returns).",
        .fixes = "Divide rewards by a constant or normalize them (Gymnasium's "
                 "NormalizeReward); clip them; look for a scaling bug in reward shaping.",
        .params = {{"limit", 100, "a per-step reward magnitude above this is unnormalized"},
                   {"episodes", 3, "episodes over the limit needed"}},
        .state_size = sizeof(scale_state),
        .feed = reward_feed,
    },
    {
        .code = "obs_constant",
        .severity = DIAG_ERROR,
        .needs = "episode records with length and obs_std (or obs_min and obs_max)",
        .meaning = "The observation the agent receives never changes within an episode, "
                   "although the agent takes different actions: the agent cannot tell states "
                   "apart, so whatever it learns is one action for all states.",
        .practice = "Check what the environment returns before training: observations must "
                    "change as the agent acts.",
        .fixes = "Pass the new observation, not the initial one, to the agent after each "
                 "step (obs = next_obs); check copies and references of observation "
                 "buffers; check the environment's step function.",
        .params = {{"episodes", 5, "consecutive episodes with an unchanging observation (and, "
                                 "with action_counts, two actions or more)"},
                   {"tolerance", 1e-6, "obs_std up to this fraction of the largest |obs| is 0"}},
        .state_size = sizeof(constant_state),
        .feed = constant_feed,
    },
    {
        .code = "episode_step_limit",
        .severity = DIAG_WARNING,
        .needs = "episode records with length and truncated, and gamma in (0, 1) (or the default)",
        .meaning = "Episodes are nearly all cut by the step limit, at a length shorter than "
                   "the discount horizon: the agent never sees the consequences it is "
                   "supposed to plan for, and cannot reach goals further away.",
        .practice = "Use the environment's registered step limit; it should exceed the "
                    "horizon 1/(1-gamma) and the length of a successful episode.",
        .fixes = "Raise max_episode_steps (TimeLimit) to the environment's registered "
                 "value; check a step counter that is not reset between episodes.",
        .params = {{"window", 20, "episodes looked at (at most 256)"},
                   {"fraction", 0.8, "the share truncated, and of those the share at the same length"},
                   {"horizon", 1, "the limit is too small below this multiple of 1/(1-gamma)"},
                   {"gamma", 0.99, "the discount assumed when the config has none"}},
        .state_size = sizeof(limit_state),
        .feed = limit_feed,
    },
    {0},
};
