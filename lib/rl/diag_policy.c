/* Diagnosis routines of the policy and its results: entropy, actions and returns. */
#include <math.h>
#include <string.h>

#include "rl/diag_int.h"

/* ---- entropy ---- */

/* The scale of the entropy: log(n) nats for n discrete actions (the uniform policy's);
 * 0 for a continuous policy, whose entropy has no natural maximum. */
static double entropy_scale(const diag *d)
{
    int n = diag_actions(d);
    return n >= 2 ? log(n) : 0;
}

typedef struct {
    wtrack w;
    bool judged;
} entropy_state;

static void entropy_init(diag *d, routine *r)
{
    wtrack_init(&((entropy_state *)r->state)->w, (int)r->p[0]);
}

static void entropy_free(routine *r) { wtrack_free(&((entropy_state *)r->state)->w); }

/* Add the record's entropy; true when a window finished. */
static bool entropy_add(diag *d, routine *r, const trace_rec *t)
{
    entropy_state *s = r->state;
    return t->event == TR_UPDATE && trace_has(t, TF_ENTROPY) && isfinite(t->v[TF_ENTROPY]) &&
           wtrack_add(&s->w, t->step, (double)d->grad_steps, t->v[TF_ENTROPY]);
}

static void low_start_feed(diag *d, routine *r, const trace_rec *t)
{
    entropy_state *s = r->state;
    double scale = entropy_scale(d);
    if (!entropy_add(d, r, t) || s->judged)
        return;
    s->judged = true;
    if (scale == 0)
        return;
    diag_ran(r);
    double h = s->w.win[0].fit.my;
    if (h < r->p[1] * scale)
        diag_fire(d, r, DIAG_WARNING, t->step,
                  (diag_evidence[]){{"entropy", h}, {"uniform_entropy", scale}, {0}},
                  "the policy starts with an entropy of %.3g nats, %.0f%% of the uniform "
                  "policy's %.3g", h, 100 * h / scale, scale);
}

/* entropy_collapse: before the exploitation phase a window's entropy falls below floor x
 * the uniform entropy (discrete), or more than drop nats below the first window
 * (continuous). */
static bool collapse_check(diag *d, routine *r, const window *w, const window *first)
{
    double scale = entropy_scale(d), h = w->fit.my, h0 = first->fit.my;
    diag_ran(r);
    if (scale > 0 ? h < r->p[1] * scale : h0 - h > r->p[2]) {
        diag_fire(d, r, DIAG_WARNING, w->s1,
                  (diag_evidence[]){{"entropy", h}, {"first_entropy", h0},
                                    {"uniform_entropy", scale}, {0}},
                  "before the exploitation phase the entropy fell from %.3g to %.3g nats", h0, h);
        return true;
    }
    return false;
}

static void collapse_feed(diag *d, routine *r, const trace_rec *t)
{
    entropy_state *s = r->state;
    if (!entropy_add(d, r, t) || diag_actions(d) < 0)
        return;
    const window *w = &s->w.win[s->w.n - 1];
    diag_phase ph = diag_phase_of(d, w->s0, w->s1);
    if ((ph == PHASE_EXPLORE || ph == PHASE_MIDDLE) && s->w.n > 1)
        collapse_check(d, r, w, &s->w.win[0]);
}

static void collapse_finish(diag *d, routine *r)
{
    entropy_state *s = r->state;
    if (d->total_steps || diag_actions(d) < 0)
        return; /* judged while the records came */
    for (int i = 1; i < s->w.n && s->w.win[i].s0 < diag_exploit_start(d); i++)
        if (collapse_check(d, r, &s->w.win[i], &s->w.win[0]))
            return;
}

/* entropy_stagnant: by the exploitation phase, the entropy has not moved from its start. */
/* Judge the entropy of late (the exploitation phase, or its first window) against the
 * first window's. */
static void stagnant_judge(diag *d, routine *r, lsq late, uint64_t at)
{
    entropy_state *s = r->state;
    s->judged = true;
    if (s->w.n < 2 || late.n == 0)
        return;
    diag_ran(r);
    double scale = entropy_scale(d), h0 = s->w.win[0].fit.my, h = late.my;
    bool flat = scale > 0 ? h >= r->p[1] * h0 : fabs(h - h0) < r->p[2];
    if (flat)
        diag_fire(d, r, DIAG_WARNING, at,
                  (diag_evidence[]){{"first_entropy", h0}, {"exploitation_entropy", h}, {0}},
                  "the entropy went from %.3g nats at the start to %.3g in the exploitation "
                  "phase: the policy did not become more certain", h0, h);
}

static void stagnant_feed(diag *d, routine *r, const trace_rec *t)
{
    entropy_state *s = r->state;
    if (s->judged || diag_actions(d) < 0)
        return;
    if (!entropy_add(d, r, t))
        return;
    const window *w = &s->w.win[s->w.n - 1];
    if (diag_phase_of(d, w->s0, w->s1) == PHASE_EXPLOIT)
        stagnant_judge(d, r, w->fit, t->step);
}

static void stagnant_finish(diag *d, routine *r)
{
    entropy_state *s = r->state;
    if (!s->judged && diag_actions(d) >= 0)
        stagnant_judge(d, r, wtrack_range(&s->w, diag_exploit_start(d), UINT64_MAX), d->step);
}

/* entropy_fluctuating: after the exploration phase, the entropy's residual fluctuation
 * within a window exceeds limit x log n, or, for a continuous policy, nats. */
static bool fluct_check(diag *d, routine *r, const window *w)
{
    double limit = entropy_scale(d) > 0 ? r->p[1] * entropy_scale(d) : r->p[2];
    double f = lsq_resid_std(&w->fit);
    diag_ran(r);
    if (f > limit) {
        diag_fire(d, r, DIAG_WARNING, w->s1,
                  (diag_evidence[]){{"residual_std", f}, {"mean_entropy", w->fit.my}, {0}},
                  "the entropy fluctuates by %.3g nats around its trend (mean %.3g)", f,
                  w->fit.my);
        return true;
    }
    return false;
}

static void fluct_feed(diag *d, routine *r, const trace_rec *t)
{
    entropy_state *s = r->state;
    if (!entropy_add(d, r, t) || diag_actions(d) < 0)
        return;
    const window *w = &s->w.win[s->w.n - 1];
    diag_phase ph = diag_phase_of(d, w->s0, w->s1);
    if (ph == PHASE_MIDDLE || ph == PHASE_EXPLOIT)
        fluct_check(d, r, w);
}

static void fluct_finish(diag *d, routine *r)
{
    entropy_state *s = r->state;
    if (d->total_steps || diag_actions(d) < 0)
        return;
    for (int i = 0; i < s->w.n; i++)
        if (s->w.win[i].s0 > diag_explore_end(d) && fluct_check(d, r, &s->w.win[i]))
            return;
}

/* ---- action_dominant ---- */

typedef struct {
    double counts[TRACE_MAX_ARRAY];
    int n, episodes;
    bool judged;
} dominant_state;

static void dominant_judge(diag *d, routine *r, uint64_t at)
{
    dominant_state *s = r->state;
    s->judged = true;
    if (s->n < 2 || s->episodes < (int)r->p[1])
        return;
    diag_ran(r);
    double total = 0, top = -1;
    int best = 0;
    for (int i = 0; i < s->n; i++) {
        total += s->counts[i];
        if (s->counts[i] > top) {
            top = s->counts[i];
            best = i;
        }
    }
    if (total > 0 && top / total >= r->p[0])
        diag_fire(d, r, DIAG_WARNING, at,
                  (diag_evidence[]){{"share", top / total}, {"action", best},
                                    {"episodes", s->episodes}, {0}},
                  "in the exploration phase action %d took %.1f%% of the steps", best,
                  100 * top / total);
}

static void dominant_feed(diag *d, routine *r, const trace_rec *t)
{
    dominant_state *s = r->state;
    if (s->judged || t->event != TR_EPISODE || !(t->flags & TB_ACTION_COUNTS))
        return;
    if (diag_total(d) && t->step > diag_explore_end(d)) {
        dominant_judge(d, r, t->step);
        return;
    }
    for (int i = 0; i < t->n_action_counts; i++)
        if (isfinite(t->action_counts[i]))
            s->counts[i] += t->action_counts[i];
    s->n = t->n_action_counts > s->n ? t->n_action_counts : s->n;
    s->episodes++;
}

static void dominant_finish(diag *d, routine *r)
{
    dominant_state *s = r->state;
    /* Without a plan the episodes of the first part are gone by now: judge all. */
    if (!s->judged)
        dominant_judge(d, r, d->step);
}

/* ---- action_sequence_repeat ---- */

typedef struct {
    double counts[TRACE_MAX_ARRAY];
    int n;
    double length, ret;
    bool have;
    unsigned char same[256]; /* ring of the last window's "equal to the previous" */
    int pos, filled, repeats;
} repeat_state;

static void repeat_feed(diag *d, routine *r, const trace_rec *t)
{
    repeat_state *s = r->state;
    if (t->event != TR_EPISODE || !(t->flags & TB_ACTION_COUNTS) || !trace_has(t, TF_LENGTH) ||
        !trace_has(t, TF_RETURN))
        return;
    bool same = s->have && s->n == t->n_action_counts && s->length == t->v[TF_LENGTH] &&
                s->ret == t->v[TF_RETURN] && t->v[TF_LENGTH] >= 2 &&
                memcmp(s->counts, t->action_counts, (size_t)s->n * sizeof(double)) == 0;
    memcpy(s->counts, t->action_counts, (size_t)t->n_action_counts * sizeof(double));
    s->n = t->n_action_counts;
    s->length = t->v[TF_LENGTH];
    s->ret = t->v[TF_RETURN];
    s->have = true;
    int w = (int)fmin(fmax(r->p[0], 2), 256);
    s->repeats += same - s->same[s->pos];
    s->same[s->pos] = same;
    s->pos = (s->pos + 1) % w;
    if (s->filled < w) {
        s->filled++;
        return;
    }
    diag_ran(r);
    /* A repeated success is a converged policy; repeating a failure is a loop. */
    bool failing = isnan(d->reward_threshold) ? t->truncated || !t->terminated
                                              : s->ret < d->reward_threshold;
    if (s->repeats >= r->p[1] * w && failing)
        diag_fire(d, r, DIAG_WARNING, t->step,
                  (diag_evidence[]){{"repeats", s->repeats}, {"window", w}, {"length", s->length},
                                    {"return", s->ret}, {0}},
                  "%d of the last %d episodes repeated the previous one exactly (%.0f steps, "
                  "return %.3g)", s->repeats, w, s->length, s->ret);
}

/* ---- reward_stagnant, reward_decreasing, reward_unstable ---- */

typedef struct {
    wtrack w;      /* returns against steps, for phases found only at the end */
    lsq a, b;      /* the returns of the two phases, while the plan is known */
    double lo, hi; /* the range of returns */
    bool judged;
} return_state;

static void return_init(diag *d, routine *r)
{
    return_state *s = r->state;
    wtrack_init(&s->w, (int)r->p[0]);
    s->lo = INFINITY;
    s->hi = -INFINITY;
}

static void return_free(routine *r) { wtrack_free(&((return_state *)r->state)->w); }

/* The returns of the two phases and the range of all returns. */
typedef struct {
    lsq a, b;
    double range;
} phases;

static bool phases_of(diag *d, return_state *s, phases *p)
{
    if (d->total_steps) {
        p->a = s->a;
        p->b = s->b;
    } else {
        p->a = wtrack_range(&s->w, 0, diag_explore_end(d));
        p->b = wtrack_range(&s->w, diag_exploit_start(d), UINT64_MAX);
    }
    p->range = s->hi - s->lo;
    return p->a.n >= 2 && p->b.n >= 2;
}

static void stagnant_r_judge(diag *d, routine *r, uint64_t at)
{
    return_state *s = r->state;
    phases p;
    s->judged = true;
    if (!phases_of(d, s, &p))
        return;
    diag_ran(r);
    bool solved = !isnan(d->reward_threshold) && p.b.my >= d->reward_threshold;
    double gain = p.b.my - p.a.my;
    if (!solved && gain <= r->p[1] * p.range)
        diag_fire(d, r, DIAG_WARNING, at,
                  (diag_evidence[]){{"exploration_mean", p.a.my}, {"exploitation_mean", p.b.my},
                                    {"return_range", p.range}, {"threshold", d->reward_threshold},
                                    {0}},
                  "the mean return went from %.4g in the exploration phase to %.4g in the "
                  "exploitation phase (returns range over %.4g)", p.a.my, p.b.my, p.range);
}

static void decreasing_judge(diag *d, routine *r, uint64_t at)
{
    return_state *s = r->state;
    phases p;
    s->judged = true;
    if (!phases_of(d, s, &p))
        return;
    diag_ran(r);
    double sa = lsq_std(&p.a), se = sqrt(sa * sa / p.a.n + pow(lsq_std(&p.b), 2) / p.b.n);
    double drop = p.a.my - p.b.my;
    if (drop > r->p[1] * sa && drop > r->p[3] * se)
        diag_fire(d, r, DIAG_WARNING, at,
                  (diag_evidence[]){{"exploration_mean", p.a.my}, {"exploitation_mean", p.b.my},
                                    {"exploration_std", sa}, {"standard_error", se}, {0}},
                  "the mean return fell from %.4g in the exploration phase to %.4g in the "
                  "exploitation phase", p.a.my, p.b.my);
}

/* reward_unstable: in the exploitation phase the returns fluctuate around their trend by
 * more than limit x their range. */
static void unstable_judge(diag *d, routine *r, uint64_t at)
{
    return_state *s = r->state;
    phases p;
    s->judged = true;
    if (!phases_of(d, s, &p) || p.range <= 0)
        return;
    diag_ran(r);
    double f = lsq_resid_std(&p.b);
    if (f > r->p[1] * p.range)
        diag_fire(d, r, DIAG_WARNING, at,
                  (diag_evidence[]){{"residual_std", f}, {"return_range", p.range},
                                    {"exploitation_mean", p.b.my}, {0}},
                  "in the exploitation phase returns fluctuate by %.4g around their trend, "
                  "%.0f%% of their range", f, 100 * f / p.range);
}

typedef void judge_fn(diag *d, routine *r, uint64_t at);

/* Feed a return; judge once the exploitation phase has min_episodes episodes. */
static void return_feed(diag *d, routine *r, const trace_rec *t, judge_fn *judge)
{
    return_state *s = r->state;
    if (s->judged || t->event != TR_EPISODE || !trace_has(t, TF_RETURN) ||
        !isfinite(t->v[TF_RETURN]))
        return;
    double v = t->v[TF_RETURN];
    s->lo = fmin(s->lo, v);
    s->hi = fmax(s->hi, v);
    if (!d->total_steps) {
        wtrack_add(&s->w, t->step, (double)t->step, v);
        return;
    }
    if (t->step <= diag_explore_end(d))
        lsq_add(&s->a, (double)t->step, v);
    if (t->step >= diag_exploit_start(d)) {
        lsq_add(&s->b, (double)t->step, v);
        if (s->b.n >= r->p[2])
            judge(d, r, t->step);
    }
}

static void stagnant_r_feed(diag *d, routine *r, const trace_rec *t) { return_feed(d, r, t, stagnant_r_judge); }
static void decreasing_feed(diag *d, routine *r, const trace_rec *t) { return_feed(d, r, t, decreasing_judge); }
static void unstable_feed(diag *d, routine *r, const trace_rec *t) { return_feed(d, r, t, unstable_judge); }

static void stagnant_r_finish(diag *d, routine *r)
{
    if (!((return_state *)r->state)->judged)
        stagnant_r_judge(d, r, d->step);
}

static void decreasing_finish(diag *d, routine *r)
{
    if (!((return_state *)r->state)->judged)
        decreasing_judge(d, r, d->step);
}

static void unstable_finish(diag *d, routine *r)
{
    if (!((return_state *)r->state)->judged)
        unstable_judge(d, r, d->step);
}

const routine_def diag_policy_routines[] = {
    {
        .code = "entropy_low_start",
        .severity = DIAG_WARNING,
        .needs = "update records with entropy, and n_actions (config or action_counts)",
        .meaning = "The policy is nearly deterministic before it has learned anything, so "
                   "it hardly explores from the start.",
        .practice = "A fresh policy should be close to uniform over the actions (entropy "
                    "near log of the number of actions).",
        .fixes = "Initialize the last policy layer with small weights (e.g. scaled by 0.01) "
                 "and zero bias; normalize observations; check the logits for a constant "
                 "offset.",
        .params = {{"window", 5, "update records averaged at the start"},
                   {"fraction", 0.5, "the start is low below this fraction of log(n_actions)"}},
        .state_size = sizeof(entropy_state),
        .init = entropy_init,
        .feed = low_start_feed,
        .free = entropy_free,
    },
    {
        .code = "entropy_collapse",
        .severity = DIAG_WARNING,
        .needs = "update records with entropy before the exploitation phase",
        .meaning = "The policy became (nearly) deterministic before the exploitation phase: "
                   "it converged prematurely, usually to a poor behaviour it can no longer "
                   "leave.",
        .practice = "Entropy should decrease gradually over training; keep it up early with "
                    "an entropy bonus and a moderate learning rate.",
        .fixes = "Lower the learning rate; add or raise the entropy coefficient; check the "
                 "sign of the policy-gradient loss (a wrong sign drives the policy to its "
                 "worst action with certainty).",
        .params = {{"window", 10, "update records per window"},
                   {"floor", 0.1, "discrete: collapsed below this fraction of log(n_actions)"},
                   {"drop", 1.5, "continuous: collapsed after a fall of this many nats"}},
        .state_size = sizeof(entropy_state),
        .init = entropy_init,
        .feed = collapse_feed,
        .finish = collapse_finish,
        .free = entropy_free,
    },
    {
        .code = "entropy_stagnant",
        .severity = DIAG_WARNING,
        .needs = "update records with entropy from the start and in the exploitation phase",
        .meaning = "The policy's entropy has not moved from its start by the exploitation "
                   "phase: the policy is not becoming more certain of anything, so it is not "
                   "learning.",
        .practice = "A learning policy concentrates on better actions: its entropy drops "
                    "noticeably over training.",
        .fixes = "Raise a learning rate that is too low; lower an entropy coefficient that "
                 "dominates the loss; check that advantages are not all zero (gamma = 0, a "
                 "constant reward, a baseline equal to the return).",
        .params = {{"window", 10, "update records per window"},
                   {"fraction", 0.95, "discrete: stagnant when the late entropy is above this fraction of the first"},
                   {"delta", 0.05, "continuous: stagnant when it moved less than this many nats"}},
        .state_size = sizeof(entropy_state),
        .init = entropy_init,
        .feed = stagnant_feed,
        .finish = stagnant_finish,
        .free = entropy_free,
    },
    {
        .code = "entropy_fluctuating",
        .severity = DIAG_WARNING,
        .needs = "update records with entropy after the exploration phase",
        .meaning = "The policy's entropy swings strongly from update to update: each update "
                   "changes the policy too much, and what it learned is repeatedly undone.",
        .practice = "Policy updates should be small (PPO's clipping and a KL around 0.01 per "
                    "update); the entropy then follows a smooth trend.",
        .fixes = "Lower the learning rate; use larger batches; clip the policy update or "
                 "stop epochs early on a KL target; normalize advantages.",
        .params = {{"window", 10, "update records per window"},
                   {"limit", 0.1, "discrete: residual std of a window above this fraction of log(n_actions)"},
                   {"nats", 0.3, "continuous: residual std of a window above this many nats"}},
        .state_size = sizeof(entropy_state),
        .init = entropy_init,
        .feed = fluct_feed,
        .finish = fluct_finish,
        .free = entropy_free,
    },
    {
        .code = "action_dominant",
        .severity = DIAG_WARNING,
        .needs = "episode records with action_counts in the exploration phase",
        .meaning = "One action took almost all steps while the agent should be exploring: "
                   "the other actions are never tried, so their value is never learned.",
        .practice = "Early in training every action should be tried often (epsilon near 1, "
                    "or a near-uniform policy).",
        .fixes = "Start epsilon at 1 and decay it; keep an entropy bonus; check the "
                 "initialization of the output layer and the observations (a constant "
                 "input gives a constant choice).",
        .params = {{"share", 0.95, "the share of steps of one action that dominates"},
                   {"episodes", 5, "episodes needed in the exploration phase"}},
        .state_size = sizeof(dominant_state),
        .feed = dominant_feed,
        .finish = dominant_finish,
    },
    {
        .code = "action_sequence_repeat",
        .severity = DIAG_WARNING,
        .needs = "episode records with action_counts, length and return",
        .meaning = "Episode after episode the agent repeats the same actions with the same "
                   "unsuccessful outcome: it is stuck in a loop and no longer explores.",
        .practice = "Keep some exploration throughout training (a floor on epsilon, an "
                    "entropy bonus) and vary initial states.",
        .fixes = "Keep epsilon or entropy above a floor; check that observations change "
                 "(a constant observation gives a constant policy); randomize resets.",
        .params = {{"window", 20, "episodes looked at (at most 256)"},
                   {"fraction", 0.9, "the share of them equal to their predecessor"}},
        .state_size = sizeof(repeat_state),
        .feed = repeat_feed,
    },
    {
        .code = "reward_stagnant",
        .severity = DIAG_WARNING,
        .needs = "episode records with return in both phases",
        .meaning = "The return did not improve from the exploration phase to the "
                   "exploitation phase, and the task is not solved: the agent is not "
                   "learning the task.",
        .practice = "Returns should rise well above those of the initial (random) behaviour "
                    "long before the end of training.",
        .fixes = "Check the other findings first; then the learning rate, the discount "
                 "factor, the reward signal, exploration, and that the optimizer updates "
                 "the network that acts.",
        .params = {{"window", 10, "episodes per window"},
                   {"gain", 0.1, "the rise of the mean return, as a fraction of the range of returns, below which it stagnates"},
                   {"episodes", 20, "episodes needed in the exploitation phase to judge while training runs"}},
        .state_size = sizeof(return_state),
        .init = return_init,
        .feed = stagnant_r_feed,
        .finish = stagnant_r_finish,
        .free = return_free,
    },
    {
        .code = "reward_decreasing",
        .severity = DIAG_WARNING,
        .needs = "episode records with return in both phases",
        .meaning = "The agent does worse in the exploitation phase than while it explored: "
                   "it is learning to avoid reward.",
        .practice = "Returns should not end below those of the initial behaviour.",
        .fixes = "Check the sign of the policy-gradient loss and of the rewards; check "
                 "maximization against minimization (argmax of Q, gradient ascent); lower a "
                 "learning rate that makes training collapse.",
        .params = {{"window", 10, "episodes per window"},
                   {"drop", 0.25, "the fall of the mean return, in standard deviations of the exploration phase's returns"},
                   {"episodes", 20, "episodes needed in the exploitation phase to judge while training runs"},
                   {"z", 3, "the fall must also exceed this many standard errors"}},
        .state_size = sizeof(return_state),
        .init = return_init,
        .feed = decreasing_feed,
        .finish = decreasing_finish,
        .free = return_free,
    },
    {
        .code = "reward_unstable",
        .severity = DIAG_WARNING,
        .needs = "episode records with return in both phases",
        .meaning = "In the exploitation phase returns swing widely around their trend: the "
                   "policy keeps changing, forgetting what it learned.",
        .practice = "Once learned, a policy should give steady returns; stabilize training "
                    "with smaller updates and a slowly moving target.",
        .fixes = "Lower the learning rate (or decay it); update the target network less "
                 "often; use a larger replay buffer or batch; clip gradients.",
        .params = {{"window", 10, "episodes per window"},
                   {"limit", 0.35, "residual std of returns above this fraction of their range"},
                   {"episodes", 20, "episodes needed in the exploitation phase to judge while training runs"}},
        .state_size = sizeof(return_state),
        .init = return_init,
        .feed = unstable_feed,
        .finish = unstable_finish,
        .free = return_free,
    },
    {0},
};
