/* Diagnosis routines of value-based learning: the epsilon-greedy schedule, the target
 * network, the value estimates and the discount factor. */
#include <math.h>
#include <string.h>

#include "rl/diag_int.h"

static bool epsilon_of(const trace_rec *t, double *e)
{
    if (t->event != TR_UPDATE || !trace_has(t, TF_EPSILON))
        return false;
    *e = t->v[TF_EPSILON];
    return isfinite(*e);
}

/* ---- epsilon_bad_start ---- */

typedef struct {
    bool judged; /* only the first epsilon matters */
} start_state;

static void bad_start_feed(diag *d, routine *r, const trace_rec *t)
{
    start_state *s = r->state;
    double e;
    if (s->judged || !epsilon_of(t, &e))
        return;
    diag_ran(r);
    s->judged = true;
    if (e < r->p[0])
        diag_fire(d, r, e <= 0 ? DIAG_ERROR : DIAG_WARNING, t->step,
                  (diag_evidence[]){{"epsilon", e}, {"minimum", r->p[0]}, {0}},
                  "epsilon starts at %.3g", e);
}

/* ---- epsilon_increasing ---- */

typedef struct {
    double lowest;
    bool have;
} increasing_state;

static void increasing_feed(diag *d, routine *r, const trace_rec *t)
{
    increasing_state *s = r->state;
    double e;
    if (!epsilon_of(t, &e))
        return;
    if (s->have) {
        diag_ran(r);
        if (e > s->lowest + r->p[0]) {
            diag_fire(d, r, DIAG_ERROR, t->step,
                      (diag_evidence[]){{"epsilon", e}, {"lowest_before", s->lowest}, {0}},
                      "epsilon rose to %.3g after having been %.3g", e, s->lowest);
            return;
        }
    }
    s->lowest = s->have ? fmin(s->lowest, e) : e;
    s->have = true;
}

/* ---- epsilon_too_fast, epsilon_flat: the schedule over the run ---- */

typedef struct {
    wtrack w;       /* epsilon against steps, one point per window of 1 */
    double first;
    uint64_t n;
    bool judged;
} schedule_state;

static void schedule_init(diag *d, routine *r)
{
    wtrack_init(&((schedule_state *)r->state)->w, 1);
}

static void schedule_free(routine *r) { wtrack_free(&((schedule_state *)r->state)->w); }

static bool schedule_add(routine *r, const trace_rec *t)
{
    schedule_state *s = r->state;
    double e;
    if (!epsilon_of(t, &e))
        return false;
    if (s->n++ == 0)
        s->first = e;
    wtrack_add(&s->w, t->step, (double)t->step, e);
    return true;
}

/* At the end: the step at which epsilon first came within tol of its final value. */
static void too_fast_finish(diag *d, routine *r)
{
    schedule_state *s = r->state;
    if (s->n < 2)
        return;
    diag_ran(r);
    double final = s->w.all.y1, tol = r->p[1];
    if (s->first - final < r->p[2])
        return; /* no decay to judge */
    for (int i = 0; i < s->w.n; i++) {
        const window *w = &s->w.win[i];
        if (w->fit.min <= final + tol) {
            uint64_t limit = (uint64_t)(r->p[0] * (double)diag_total(d));
            if (w->s1 < limit)
                diag_fire(d, r, DIAG_WARNING, w->s1,
                          (diag_evidence[]){{"epsilon_start", s->first}, {"epsilon_final", final},
                                            {"fraction_of_steps", (double)w->s1 / (double)diag_total(d)},
                                            {0}},
                          "epsilon fell from %.3g to its final %.3g by step %llu, %.1f%% of "
                          "the planned steps", s->first, final, (unsigned long long)w->s1,
                          100.0 * (double)w->s1 / (double)diag_total(d));
            return;
        }
    }
}

static void too_fast_feed(diag *d, routine *r, const trace_rec *t) { schedule_add(r, t); }

static void flat_judge(diag *d, routine *r, uint64_t at)
{
    schedule_state *s = r->state;
    lsq early = wtrack_range(&s->w, 0, diag_explore_end(d));
    s->judged = true;
    if (early.n < r->p[1])
        return;
    diag_ran(r);
    if (early.max - early.min <= r->p[0])
        diag_fire(d, r, DIAG_WARNING, at,
                  (diag_evidence[]){{"epsilon", early.my}, {"records", early.n}, {0}},
                  "epsilon stayed at %.3g through the exploration phase (%.0f records)",
                  early.my, early.n);
}

static void flat_feed(diag *d, routine *r, const trace_rec *t)
{
    schedule_state *s = r->state;
    if (s->judged)
        return;
    if (diag_total(d) && t->step > diag_explore_end(d) && s->n > 0) {
        flat_judge(d, r, t->step);
        return;
    }
    schedule_add(r, t);
}

static void flat_finish(diag *d, routine *r)
{
    if (!((schedule_state *)r->state)->judged)
        flat_judge(d, r, d->step);
}

/* ---- target_not_updated, target_updated_too_often ---- */

typedef struct {
    double since;           /* gradient steps since the last target update (or the start) */
    double updates, targets;
} target_state;

static double target_updates_of(const trace_rec *t)
{
    if (trace_has(t, TF_TARGET_UPDATES) && isfinite(t->v[TF_TARGET_UPDATES]))
        return t->v[TF_TARGET_UPDATES];
    return t->target_updated ? 1 : 0;
}

static void not_updated_feed(diag *d, routine *r, const trace_rec *t)
{
    target_state *s = r->state;
    if (t->event != TR_UPDATE || !(t->flags & TB_TARGET_UPDATED))
        return;
    diag_ran(r);
    s->since = target_updates_of(t) > 0 ? 0 : s->since + diag_updates_of(t);
    if (s->since >= r->p[0])
        diag_fire(d, r, DIAG_ERROR, t->step, (diag_evidence[]){{"gradient_steps", s->since}, {0}},
                  "the target network was not updated in %.0f gradient steps", s->since);
}

static void too_often_feed(diag *d, routine *r, const trace_rec *t)
{
    target_state *s = r->state;
    if (t->event != TR_UPDATE || !(t->flags & TB_TARGET_UPDATED))
        return;
    s->updates += diag_updates_of(t);
    s->targets += target_updates_of(t);
    if (s->updates < r->p[1])
        return;
    diag_ran(r);
    double period = s->targets > 0 ? s->updates / s->targets : INFINITY;
    if (period < r->p[0])
        diag_fire(d, r, DIAG_WARNING, t->step,
                  (diag_evidence[]){{"period", period}, {"gradient_steps", s->updates}, {0}},
                  "the target network was updated every %.3g gradient steps", period);
}

/* ---- q_diverging, q_overestimated ---- */

typedef struct {
    double r_abs, r_pos;      /* the largest |reward| and reward of one step */
    double bound;             /* the largest discounted return an episode allowed */
    double longest;
    int episodes;
    lsq q;                    /* the current window */
} q_state;

/* Track the reward scale and episode lengths (and with bound, the largest discounted
 * return an episode allowed). */
static void q_episode(diag *d, q_state *s, const trace_rec *t, bool bound)
{
    double rmax = NAN, rabs = NAN;
    if (trace_has(t, TF_REWARD_MIN) && trace_has(t, TF_REWARD_MAX)) {
        rmax = t->v[TF_REWARD_MAX];
        rabs = fmax(fabs(t->v[TF_REWARD_MIN]), fabs(t->v[TF_REWARD_MAX]));
    } else if (trace_has(t, TF_RETURN) && trace_has(t, TF_LENGTH) && t->v[TF_LENGTH] >= 1) {
        rmax = t->v[TF_RETURN] / t->v[TF_LENGTH];
        rabs = fabs(rmax);
    }
    if (!isfinite(rabs))
        return;
    s->episodes++;
    s->r_abs = fmax(s->r_abs, rabs);
    s->r_pos = fmax(s->r_pos, rmax);
    double len = trace_has(t, TF_LENGTH) ? t->v[TF_LENGTH] : 0;
    s->longest = fmax(s->longest, len);
    if (!bound)
        return;
    double g = d->gamma;
    /* The most an episode of this length returns, discounted from its first step; an
     * episode cut by the limit could have gone on. */
    double b = t->truncated ? s->r_pos / (1 - g) : s->r_pos * (1 - pow(g, len)) / (1 - g);
    s->bound = fmax(s->bound, b);
}

static bool q_window(routine *r, const trace_rec *t, trace_field f, double *mean)
{
    q_state *s = r->state;
    if (t->event != TR_UPDATE || !trace_has(t, f) || !isfinite(t->v[f]))
        return false;
    lsq_add(&s->q, 0, t->v[f]);
    if (s->q.n < r->p[0])
        return false;
    *mean = s->q.my;
    memset(&s->q, 0, sizeof s->q);
    return true;
}

static void diverging_feed(diag *d, routine *r, const trace_rec *t)
{
    q_state *s = r->state;
    double q;
    if (t->event == TR_EPISODE)
        q_episode(d, s, t, false);
    if (!q_window(r, t, trace_has(t, TF_Q_MAX) ? TF_Q_MAX : TF_Q_MEAN, &q) || s->episodes == 0 ||
        s->r_abs <= 0)
        return;
    diag_ran(r);
    double g = d->gamma;
    double bound = g >= 0 && g < 1 ? s->r_abs / (1 - g) : s->r_abs * fmax(s->longest, 1);
    if (fabs(q) > r->p[1] * bound)
        diag_fire(d, r, DIAG_ERROR, t->step,
                  (diag_evidence[]){{"q", q}, {"bound", bound}, {"reward_scale", s->r_abs}, {0}},
                  "value estimates reach %.4g, beyond %.4g, the most any return could be "
                  "with rewards of magnitude %.4g", q, bound, s->r_abs);
}

static void over_feed(diag *d, routine *r, const trace_rec *t)
{
    q_state *s = r->state;
    double q;
    if (!(d->gamma > 0 && d->gamma < 1))
        return;
    if (t->event == TR_EPISODE)
        q_episode(d, s, t, true);
    if (!q_window(r, t, TF_Q_MEAN, &q) || s->episodes < (int)r->p[2] || s->r_pos <= 0)
        return;
    diag_ran(r);
    if (q > r->p[1] * s->bound)
        diag_fire(d, r, DIAG_WARNING, t->step,
                  (diag_evidence[]){{"q_mean", q}, {"bound", s->bound}, {"longest_episode", s->longest},
                                    {0}},
                  "the mean value estimate is %.4g, but no episode so far allowed a discounted "
                  "return above %.4g", q, s->bound);
}

/* ---- gamma_out_of_range ---- */

static void gamma_feed(diag *d, routine *r, const trace_rec *t)
{
    if (t->event != TR_CONFIG || !trace_has(t, TF_GAMMA))
        return;
    double g = t->v[TF_GAMMA];
    diag_ran(r);
    if (!(g > 0 && g <= 1))
        diag_fire(d, r, DIAG_ERROR, t->step, (diag_evidence[]){{"gamma", g}, {0}},
                  "the discount factor is %.4g, outside (0, 1]", g);
}

const routine_def diag_value_routines[] = {
    {
        .code = "epsilon_bad_start",
        .severity = DIAG_WARNING,
        .needs = "update records with epsilon",
        .meaning = "Epsilon-greedy exploration starts low: the untrained agent acts mostly "
                   "greedily on random value estimates and explores little (at 0, not at "
                   "all).",
        .practice = "Start epsilon at 1 (fully random) and decay it to a small floor "
                    "(0.01 to 0.1).",
        .fixes = "Set the initial epsilon to 1; check that the schedule's start and end are "
                 "not swapped and that epsilon is passed to action selection.",
        .params = {{"minimum", 0.5, "a first epsilon below this starts too low"}},
        .state_size = sizeof(start_state),
        .feed = bad_start_feed,
    },
    {
        .code = "epsilon_increasing",
        .severity = DIAG_ERROR,
        .needs = "update records with epsilon",
        .meaning = "Epsilon grows during training: the agent acts more randomly the more it "
                   "has learned, so its behaviour gets worse over time.",
        .practice = "Epsilon decreases monotonically (linearly or exponentially) to a floor.",
        .fixes = "Check the schedule's sign and its start and end values (a swap makes it "
                 "rise); check an exponential decay factor above 1.",
        .params = {{"tolerance", 0.01, "a rise above the lowest value so far that counts"}},
        .state_size = sizeof(increasing_state),
        .feed = increasing_feed,
    },
    {
        .code = "epsilon_too_fast",
        .severity = DIAG_WARNING,
        .needs = "update records with epsilon that decays, and the planned steps",
        .meaning = "Epsilon reached its final value within a tiny part of training: the "
                   "agent stops exploring before its value estimates mean anything.",
        .practice = "Decay epsilon over about 10% to 50% of the training steps.",
        .fixes = "Lengthen the decay (exploration fraction, or a decay factor closer to 1); "
                 "decay per step rather than per update or per episode by mistake.",
        .params = {{"fraction", 0.02, "reaching the final value before this fraction of the steps is too fast"},
                   {"tolerance", 0.01, "within this of the final value counts as reached"},
                   {"decay", 0.1, "the fall from the first value needed to judge"}},
        .state_size = sizeof(schedule_state),
        .init = schedule_init,
        .feed = too_fast_feed,
        .finish = too_fast_finish,
        .free = schedule_free,
    },
    {
        .code = "epsilon_flat",
        .severity = DIAG_WARNING,
        .needs = "update records with epsilon in the exploration phase",
        .meaning = "Epsilon does not change during the exploration phase: the schedule is "
                   "not applied, so the agent either never stops acting randomly or never "
                   "explores.",
        .practice = "Decay epsilon from 1 to a small floor over the first part of training.",
        .fixes = "Update epsilon every step from the schedule (not only once); check the "
                 "variable the schedule writes is the one action selection reads.",
        .params = {{"tolerance", 1e-6, "a range of epsilon within this is flat"},
                   {"records", 5, "update records needed in the exploration phase"}},
        .state_size = sizeof(schedule_state),
        .init = schedule_init,
        .feed = flat_feed,
        .finish = flat_finish,
        .free = schedule_free,
    },
    {
        .code = "target_not_updated",
        .severity = DIAG_ERROR,
        .needs = "update records with target_updated",
        .meaning = "The target network has not been updated for a long time: value targets "
                   "come from the initial random network, so the agent learns one step of "
                   "reward and nothing beyond it.",
        .practice = "Copy the online network into the target every few hundred to few "
                    "thousand gradient steps, or soft-update it every step.",
        .fixes = "Call the target update (load_state_dict, or the copy) on its schedule; "
                 "check the modulo condition that triggers it and that it copies in the "
                 "right direction.",
        .params = {{"gap", 5000, "gradient steps without a target update"}},
        .state_size = sizeof(target_state),
        .feed = not_updated_feed,
    },
    {
        .code = "target_updated_too_often",
        .severity = DIAG_WARNING,
        .needs = "update records with target_updated",
        .meaning = "The target network is replaced (almost) every gradient step, so targets "
                   "move with the network that chases them; Q-learning then tends to "
                   "oscillate or diverge.  Soft (Polyak) updates with a small rate every "
                   "step are fine.",
        .practice = "Hard target updates every few hundred to few thousand gradient steps, "
                    "or soft updates with a rate of about 0.005.",
        .fixes = "Update the target on its period, not every step; with soft updates use a "
                 "small rate tau.",
        .params = {{"period", 2, "a mean period below this many gradient steps is too often"},
                   {"updates", 500, "gradient steps needed to judge"}},
        .state_size = sizeof(target_state),
        .feed = too_often_feed,
    },
    {
        .code = "q_diverging",
        .severity = DIAG_ERROR,
        .needs = "update records with q_max or q_mean, and episode records with rewards",
        .meaning = "Value estimates exceed anything the rewards allow (the most a discounted "
                   "return can be is the largest reward over 1 - gamma): the bootstrapped "
                   "targets feed on themselves and diverge.",
        .practice = "Values stay within the discounted sum of the largest rewards.",
        .fixes = "Check gamma (it must be below 1); stop bootstrapping at terminal states; "
                 "use a target network updated periodically; lower the learning rate; use a "
                 "Huber loss and clip gradients; consider double Q-learning.",
        .params = {{"window", 10, "update records per window"},
                   {"factor", 10, "a window mean beyond this multiple of the bound diverges"}},
        .state_size = sizeof(q_state),
        .feed = diverging_feed,
    },
    {
        .code = "q_overestimated",
        .severity = DIAG_WARNING,
        .needs = "update records with q_mean, episode records with positive rewards, and gamma in (0, 1)",
        .meaning = "Value estimates are well above the largest discounted return any episode "
                   "has allowed: the agent values states as if episodes never ended, which "
                   "is what bootstrapping through terminal states does.",
        .practice = "At a terminal state the target is the reward alone; bootstrap (add "
                    "gamma V(s')) only when the episode was truncated or continues.",
        .fixes = "Multiply the bootstrap term by (1 - terminated); do not treat truncation "
                 "as termination, nor termination as truncation.",
        .params = {{"window", 10, "update records per window"},
                   {"factor", 1.25, "a window mean above this multiple of the bound is overestimated"},
                   {"episodes", 20, "episodes needed first"}},
        .state_size = sizeof(q_state),
        .feed = over_feed,
    },
    {
        .code = "gamma_out_of_range",
        .severity = DIAG_ERROR,
        .needs = "a config record with gamma",
        .meaning = "The discount factor is outside (0, 1]: at 0 the agent ignores every "
                   "future reward and learns only the next one; above 1 returns and values "
                   "grow without bound.",
        .practice = "Use gamma in [0.9, 0.999] for most tasks (0.99 is the usual default).",
        .fixes = "Set gamma to 0.99; look for a typo (1.01, 0.0) or a gamma overwritten by "
                 "another setting.",
        .feed = gamma_feed,
    },
    {0},
};
