/* Diagnosis routines of the network's training health: non-finite values, the loss,
 * gradients, activations, weights and the size of updates (the learning rate). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rl/diag_int.h"

/* ---- nan_inf ---- */

/* The first value of t that is not finite: its key into name, its value into *v. */
static bool first_nonfinite(const trace_rec *t, char *name, size_t size, double *v)
{
    for (uint64_t bits = t->has; bits; bits &= bits - 1) {
        int f = __builtin_ctzll(bits);
        if (!isfinite(t->v[f])) {
            snprintf(name, size, "%s", trace_field_name((trace_field)f));
            *v = t->v[f];
            return true;
        }
    }
    const double *arrays[2] = {t->action_counts, t->final_obs};
    const int lengths[2] = {t->n_action_counts, t->n_final_obs};
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < lengths[a]; i++)
            if (!isfinite(arrays[a][i])) {
                snprintf(name, size, "%s[%d]", a ? "final_obs" : "action_counts", i);
                *v = arrays[a][i];
                return true;
            }
    for (int i = 0; i < t->n_layers; i++)
        for (int f = 0; f < TL_COUNT; f++)
            if (layer_has(&t->layers[i], (trace_layer_field)f) && !isfinite(t->layers[i].v[f])) {
                snprintf(name, size, "layers[%d].%s", i, trace_layer_field_name((trace_layer_field)f));
                *v = t->layers[i].v[f];
                return true;
            }
    return false;
}

static void nan_feed(diag *d, routine *r, const trace_rec *t)
{
    char name[96];
    double v;
    if (t->event == TR_OTHER)
        return;
    diag_ran(r);
    if (first_nonfinite(t, name, sizeof name, &v))
        diag_fire(d, r, DIAG_ERROR, t->step, (diag_evidence[]){{"value", v}, {0}},
                  "%s is %g in the %s record", name, v, trace_event_name(t->event));
}

/* ---- loss_diverging, loss_not_decreasing ---- */

/* The loss a routine follows: the value loss when the record has one (the policy term of
 * an actor-critic need not decrease), else the loss. */
static bool loss_of(const trace_rec *t, bool prefer_value, double *v)
{
    if (t->event != TR_UPDATE)
        return false;
    if (prefer_value && trace_has(t, TF_VALUE_LOSS))
        *v = t->v[TF_VALUE_LOSS];
    else if (trace_has(t, TF_LOSS))
        *v = t->v[TF_LOSS];
    else if (trace_has(t, TF_VALUE_LOSS))
        *v = t->v[TF_VALUE_LOSS];
    else
        return false;
    return isfinite(*v);
}

typedef struct {
    wtrack w;
    int rising;  /* windows in a row, each above the one before */
    double prev;
} diverge_state;

static void diverge_init(diag *d, routine *r)
{
    diverge_state *s = r->state;
    wtrack_init(&s->w, (int)r->p[0]);
}

static void diverge_free(routine *r) { wtrack_free(&((diverge_state *)r->state)->w); }

static void diverge_feed(diag *d, routine *r, const trace_rec *t)
{
    diverge_state *s = r->state;
    double v;
    if (!loss_of(t, false, &v) || !wtrack_add(&s->w, t->step, (double)d->grad_steps, fabs(v)))
        return;
    diag_ran(r);
    /* Against the first window: a loss that falls near 0 once a task is mastered (a
     * critic's, when every episode reaches the limit) jumps by large factors from there
     * without diverging. */
    double m = s->w.win[s->w.n - 1].fit.my, first = fmax(s->w.win[0].fit.my, 1e-12);
    s->rising = s->w.n > 1 && m > s->prev ? s->rising + 1 : 0;
    s->prev = m;
    if (m > r->p[1] * first && s->rising >= (int)r->p[2])
        diag_fire(d, r, DIAG_ERROR, t->step,
                  (diag_evidence[]){{"window_mean", m}, {"first_window_mean", first},
                                    {"growth", m / first}, {0}},
                  "the loss grew %.3g-fold, from a window mean of %.3g at the start to %.3g, "
                  "rising for %d windows", m / first, first, m, s->rising);
}

typedef struct {
    wtrack w;
    lsq start; /* the first records */
    bool judged;
} decrease_state;

static void decrease_init(diag *d, routine *r)
{
    decrease_state *s = r->state;
    wtrack_init(&s->w, (int)r->p[0]);
}

static void decrease_free(routine *r) { wtrack_free(&((decrease_state *)r->state)->w); }

/* Judge the windows that end in the exploration phase against the first records. */
static void decrease_judge(diag *d, routine *r, uint64_t at)
{
    decrease_state *s = r->state;
    double best = INFINITY, first = s->start.my;
    int n = 0;
    for (int i = 0; i < s->w.n && s->w.win[i].s1 <= diag_explore_end(d); i++, n++)
        best = fmin(best, s->w.win[i].fit.my);
    s->judged = true;
    if (n < (int)r->p[2])
        return;
    diag_ran(r);
    if (best > (1 - r->p[1]) * first)
        diag_fire(d, r, DIAG_WARNING, at,
                  (diag_evidence[]){{"start_mean", first}, {"lowest_window_mean", best},
                                    {"windows", n}, {0}},
                  "in the exploration phase the loss never fell below %.3g, from %.3g at the "
                  "start", best, first);
}

static void decrease_feed(diag *d, routine *r, const trace_rec *t)
{
    decrease_state *s = r->state;
    double v;
    if (s->judged)
        return;
    if (diag_total(d) && t->step > diag_explore_end(d)) {
        decrease_judge(d, r, t->step);
        return;
    }
    if (!loss_of(t, true, &v))
        return;
    if (s->start.n < r->p[3])
        lsq_add(&s->start, 0, fabs(v));
    wtrack_add(&s->w, t->step, (double)d->grad_steps, fabs(v));
}

static void decrease_finish(diag *d, routine *r)
{
    if (!((decrease_state *)r->state)->judged)
        decrease_judge(d, r, d->step);
}

/* ---- exploding_gradients, vanishing_gradients ---- */

/* The global gradient norm, or the norm of the layers' norms. */
static bool grad_norm_of(const trace_rec *t, double *v)
{
    if (t->event != TR_UPDATE)
        return false;
    if (trace_has(t, TF_GRAD_NORM)) {
        *v = t->v[TF_GRAD_NORM];
        return isfinite(*v);
    }
    double sum = 0;
    int n = 0;
    for (int i = 0; i < t->n_layers; i++)
        if (layer_has(&t->layers[i], TL_G_NORM)) {
            sum += t->layers[i].v[TL_G_NORM] * t->layers[i].v[TL_G_NORM];
            n++;
        }
    *v = sqrt(sum);
    return n > 0 && isfinite(*v);
}

typedef struct {
    wtrack w;
} track_state;

static void track_init(diag *d, routine *r) { wtrack_init(&((track_state *)r->state)->w, (int)r->p[0]); }

static void track_free(routine *r) { wtrack_free(&((track_state *)r->state)->w); }

static void explode_feed(diag *d, routine *r, const trace_rec *t)
{
    track_state *s = r->state;
    double v;
    if (!grad_norm_of(t, &v) || !wtrack_add(&s->w, t->step, (double)d->grad_steps, v))
        return;
    diag_ran(r);
    double first = s->w.win[0].fit.my, m = s->w.win[s->w.n - 1].fit.my;
    if (m > r->p[2] || (s->w.n > 1 && m > r->p[1] * fmax(first, 1e-12)))
        diag_fire(d, r, DIAG_ERROR, t->step,
                  (diag_evidence[]){{"window_mean", m}, {"first_window_mean", first}, {0}},
                  "the gradient norm reached a window mean of %.3g, from %.3g at the start", m,
                  first);
}

typedef struct {
    lsq lo, hi, loss;  /* the current window: smallest and largest layer norm, the loss */
    lsq grad;
    int n;
} vanish_state;

static void vanish_feed(diag *d, routine *r, const trace_rec *t)
{
    vanish_state *s = r->state;
    double g, loss = 0;
    if (!grad_norm_of(t, &g))
        return;
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < t->n_layers; i++)
        if (layer_has(&t->layers[i], TL_G_NORM) && isfinite(t->layers[i].v[TL_G_NORM])) {
            lo = fmin(lo, t->layers[i].v[TL_G_NORM]);
            hi = fmax(hi, t->layers[i].v[TL_G_NORM]);
        }
    if (isfinite(lo)) {
        lsq_add(&s->lo, 0, lo);
        lsq_add(&s->hi, 0, hi);
    }
    lsq_add(&s->grad, 0, g);
    if (loss_of(t, false, &loss))
        lsq_add(&s->loss, 0, fabs(loss));
    if (++s->n < (int)r->p[0])
        return;
    diag_ran(r);
    double tiny = r->p[1], ratio = r->p[2];
    if (s->grad.my < tiny && s->loss.n > 0 && s->loss.my > r->p[3])
        diag_fire(d, r, DIAG_WARNING, t->step,
                  (diag_evidence[]){{"grad_norm", s->grad.my}, {"loss", s->loss.my}, {0}},
                  "the gradient norm is %.3g while the loss is %.3g", s->grad.my, s->loss.my);
    else if (s->lo.n > 0 && s->hi.my > 0 && s->lo.my < ratio * s->hi.my)
        diag_fire(d, r, DIAG_WARNING, t->step,
                  (diag_evidence[]){{"smallest_layer_g_norm", s->lo.my},
                                    {"largest_layer_g_norm", s->hi.my}, {0}},
                  "a layer's gradient norm is %.3g against %.3g in another: it no longer learns",
                  s->lo.my, s->hi.my);
    memset(s, 0, sizeof *s);
}

/* ---- dead_activations, saturated_activations ---- */

typedef struct {
    double sum[TRACE_MAX_LAYERS];
    int n[TRACE_MAX_LAYERS];
    int records;
    char name[TRACE_MAX_LAYERS][TRACE_NAME_MAX];
} layer_window;

/* Average statistic f of each layer over a window of records; at the window's end, fire
 * when the worst layer's mean reaches the warning level (an error from p[2]). */
static void layer_fraction_feed(diag *d, routine *r, const trace_rec *t, trace_layer_field f,
                                const char *what)
{
    layer_window *s = r->state;
    if (t->event != TR_UPDATE)
        return;
    bool any = false;
    for (int i = 0; i < t->n_layers; i++) {
        const trace_layer *l = &t->layers[i];
        if (!layer_has(l, f) || !isfinite(l->v[f]))
            continue;
        s->sum[i] += l->v[f];
        s->n[i]++;
        memcpy(s->name[i], l->name, TRACE_NAME_MAX);
        any = true;
    }
    if (!any || ++s->records < (int)r->p[0])
        return;
    diag_ran(r);
    int worst = -1;
    double wm = -1;
    for (int i = 0; i < TRACE_MAX_LAYERS; i++)
        if (s->n[i] && s->sum[i] / s->n[i] > wm) {
            wm = s->sum[i] / s->n[i];
            worst = i;
        }
    if (worst >= 0 && wm >= r->p[1]) {
        diag_severity sev = r->p[2] > 0 && wm >= r->p[2] ? DIAG_ERROR : r->def->severity;
        diag_fire(d, r, sev, t->step,
                  (diag_evidence[]){{"fraction", wm}, {"layer", worst}, {0}},
                  "%.0f%% of the units of layer %s are %s", 100 * wm, s->name[worst], what);
        return;
    }
    memset(s, 0, sizeof *s);
}

static void dead_feed(diag *d, routine *r, const trace_rec *t)
{
    layer_fraction_feed(d, r, t, TL_FRAC_DEAD, "dead (zero for every sample)");
}

/* Only the first window: units saturated from the first updates on mean inputs far too
 * large for the layer.  (A critic's last hidden layer saturates later in healthy runs
 * as its values grow to the scale of the returns.) */
static void saturated_feed(diag *d, routine *r, const trace_rec *t)
{
    if (!r->ran)
        layer_fraction_feed(d, r, t, TL_FRAC_SATURATED, "saturated from the start");
}

/* ---- weights_diverging ---- */

enum { RECENT = 16 }; /* window means kept per layer */

typedef struct {
    lsq cur[TRACE_MAX_LAYERS];
    double first[TRACE_MAX_LAYERS];
    double recent[TRACE_MAX_LAYERS][RECENT]; /* the last window means, a ring */
    int windows[TRACE_MAX_LAYERS], records;
} weights_state;

/* A layer's largest weight diverges when it has grown factor-fold since the first window
 * and still grows by rate over the last `span` windows: healthy weights also grow a lot
 * (a Q-network's, as the values reach the scale of the returns) but their growth slows
 * down. */
static void weights_feed(diag *d, routine *r, const trace_rec *t)
{
    weights_state *s = r->state;
    if (t->event != TR_UPDATE)
        return;
    bool any = false;
    for (int i = 0; i < t->n_layers; i++)
        if (layer_has(&t->layers[i], TL_W_MAXABS) && isfinite(t->layers[i].v[TL_W_MAXABS])) {
            lsq_add(&s->cur[i], 0, t->layers[i].v[TL_W_MAXABS]);
            any = true;
        }
    if (!any || ++s->records < (int)r->p[0])
        return;
    diag_ran(r);
    s->records = 0;
    int span = (int)fmin(fmax(r->p[3], 1), RECENT - 1);
    for (int i = 0; i < TRACE_MAX_LAYERS; i++) {
        if (s->cur[i].n == 0)
            continue;
        double m = s->cur[i].my;
        memset(&s->cur[i], 0, sizeof s->cur[i]);
        int k = s->windows[i]++;
        s->recent[i][k % RECENT] = m;
        if (k == 0 || s->first[i] == 0) {
            s->first[i] = m;
            continue;
        }
        if (k < span)
            continue;
        double before = s->recent[i][(k - span) % RECENT];
        if (m > r->p[1] * s->first[i] && before > 0 && m >= (1 + r->p[2]) * before) {
            diag_fire(d, r, DIAG_ERROR, t->step,
                      (diag_evidence[]){{"w_maxabs", m}, {"first_w_maxabs", s->first[i]},
                                        {"recent_growth", m / before}, {"layer", i}, {0}},
                      "the largest weight of layer %s grew %.3g-fold, to %.3g, and still grows "
                      "(%.2g-fold in the last %d windows)",
                      t->n_layers > i ? t->layers[i].name : "?", m / s->first[i], m,
                      m / before, span);
            return;
        }
    }
}

/* ---- lr_too_high, lr_too_low: the size of updates relative to the weights ---- */

/* The median over layers of update_ratio in one record, or NAN. */
static double update_ratio_of(const trace_rec *t)
{
    double v[TRACE_MAX_LAYERS];
    int n = 0;
    if (t->event != TR_UPDATE)
        return NAN;
    for (int i = 0; i < t->n_layers; i++)
        if (layer_has(&t->layers[i], TL_UPDATE_RATIO) && isfinite(t->layers[i].v[TL_UPDATE_RATIO]))
            v[n++] = t->layers[i].v[TL_UPDATE_RATIO];
    if (n == 0)
        return NAN;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
    wtrack w;
    int high;  /* windows in a row above the limit */
    bool judged;
} ratio_state;

static void ratio_init(diag *d, routine *r) { wtrack_init(&((ratio_state *)r->state)->w, (int)r->p[0]); }

static void ratio_free(routine *r) { wtrack_free(&((ratio_state *)r->state)->w); }

static void high_feed(diag *d, routine *r, const trace_rec *t)
{
    ratio_state *s = r->state;
    double v = update_ratio_of(t);
    if (isnan(v) || !wtrack_add(&s->w, t->step, (double)d->grad_steps, v))
        return;
    diag_ran(r);
    double m = s->w.win[s->w.n - 1].fit.my;
    s->high = m > r->p[1] ? s->high + 1 : 0;
    if (s->high >= (int)r->p[2])
        diag_fire(d, r, DIAG_WARNING, t->step,
                  (diag_evidence[]){{"update_ratio", m}, {"limit", r->p[1]}, {0}},
                  "each update changes the weights by %.3g of their norm (median over layers), "
                  "for %d windows in a row", m, s->high);
}

/* Judge the windows of the exploration phase: every one below the limit. */
static void low_judge(diag *d, routine *r, uint64_t at)
{
    ratio_state *s = r->state;
    double largest = 0;
    int n = 0;
    for (int i = 0; i < s->w.n && s->w.win[i].s1 <= diag_explore_end(d); i++, n++)
        largest = fmax(largest, s->w.win[i].fit.my);
    s->judged = true;
    if (n < (int)r->p[2])
        return;
    diag_ran(r);
    if (largest < r->p[1])
        diag_fire(d, r, DIAG_WARNING, at,
                  (diag_evidence[]){{"largest_update_ratio", largest}, {"limit", r->p[1]},
                                    {"windows", n}, {0}},
                  "in the exploration phase no update changed the weights by more than %.3g "
                  "of their norm (median over layers)", largest);
}

static void low_feed(diag *d, routine *r, const trace_rec *t)
{
    ratio_state *s = r->state;
    if (s->judged)
        return;
    if (diag_total(d) && t->step > diag_explore_end(d)) {
        low_judge(d, r, t->step);
        return;
    }
    double v = update_ratio_of(t);
    if (!isnan(v))
        wtrack_add(&s->w, t->step, (double)d->grad_steps, v);
}

static void low_finish(diag *d, routine *r)
{
    if (!((ratio_state *)r->state)->judged)
        low_judge(d, r, d->step);
}

const routine_def diag_health_routines[] = {
    {
        .code = "nan_inf",
        .severity = DIAG_ERROR,
        .needs = "any config, episode or update record",
        .meaning = "A NaN or an infinity reached the trace: some computation overflowed or "
                   "divided by zero, and everything computed from it since is meaningless.",
        .practice = "Check losses, gradients and inputs for finite values as training runs "
                    "and stop at the first non-finite one.",
        .fixes = "Lower the learning rate; clip gradients; normalize observations and "
                 "rewards; guard logarithms and divisions (log of a probability, division "
                 "by a standard deviation) with a small epsilon.",
        .feed = nan_feed,
    },
    {
        .code = "loss_diverging",
        .severity = DIAG_ERROR,
        .needs = "update records with loss or value_loss",
        .meaning = "The loss grows steadily by orders of magnitude: the optimization "
                   "diverges instead of converging, and the value or policy it fits is "
                   "being destroyed.",
        .practice = "The loss of a healthy run may rise as returns grow, but within the scale "
                    "of the returns; it does not grow without bound.",
        .fixes = "Lower the learning rate; clip gradients; use a Huber loss for values; "
                 "check the discount factor (gamma > 1 diverges) and the target network.",
        .params = {{"window", 20, "update records per window"},
                   {"factor", 1000, "growth of the window mean of |loss| over the first window's"},
                   {"rising", 3, "windows in a row, each larger than the one before"}},
        .state_size = sizeof(diverge_state),
        .init = diverge_init,
        .feed = diverge_feed,
        .free = diverge_free,
    },
    {
        .code = "loss_not_decreasing",
        .severity = DIAG_WARNING,
        .needs = "update records with loss or value_loss in the exploration phase",
        .meaning = "During the whole exploration phase the (value) loss never fell clearly "
                   "below its level at the first updates: the network is not fitting its "
                   "targets.",
        .practice = "A value function fits its first targets quickly: its loss should drop "
                    "early in training, before the returns improve.",
        .fixes = "Raise a learning rate that is too low; check that the optimizer steps and "
                 "that gradients reach the network; check the loss for a wrong target.",
        .params = {{"window", 20, "update records per window"},
                   {"drop", 0.1, "the fraction by which some window must fall below the start"},
                   {"windows", 3, "windows needed in the exploration phase"},
                   {"start", 3, "update records averaged for the starting level"}},
        .state_size = sizeof(decrease_state),
        .init = decrease_init,
        .feed = decrease_feed,
        .finish = decrease_finish,
        .free = decrease_free,
    },
    {
        .code = "exploding_gradients",
        .severity = DIAG_ERROR,
        .needs = "update records with grad_norm or layers[].g_norm",
        .meaning = "The gradient norm became huge: updates are dominated by a few samples or "
                   "an unbounded loss, and weights jump instead of learning.",
        .practice = "Clip the global gradient norm (0.5 to 10 is common) and keep the loss "
                    "bounded (Huber for values, normalized advantages for policies).",
        .fixes = "Clip gradients; lower the learning rate; normalize or clip rewards and "
                 "observations; use a Huber loss.",
        .params = {{"window", 10, "update records per window"},
                   {"factor", 1000, "growth of the window mean over the first window's"},
                   {"limit", 1e6, "a window mean above this is exploding whatever the start"}},
        .state_size = sizeof(track_state),
        .init = track_init,
        .feed = explode_feed,
        .free = track_free,
    },
    {
        .code = "vanishing_gradients",
        .severity = DIAG_WARNING,
        .needs = "update records with grad_norm or layers[].g_norm",
        .meaning = "Gradients vanish, in the whole network or in some layers, while there is "
                   "still loss to reduce: those weights have stopped learning.",
        .practice = "Every layer should receive a gradient of a size comparable to the "
                    "others'.",
        .fixes = "Look for dead ReLUs or saturated tanh units (see dead_activations); use a "
                 "standard initialization; check that the loss depends on the network's "
                 "output (a detached tensor gives no gradient).",
        .params = {{"window", 10, "update records per window"},
                   {"tiny", 1e-10, "a global gradient norm below this vanishes"},
                   {"ratio", 1e-8, "a layer's norm below this fraction of the largest vanishes"},
                   {"loss", 1e-6, "the loss above which a vanished gradient is a problem"}},
        .state_size = sizeof(vanish_state),
        .feed = vanish_feed,
    },
    {
        .code = "dead_activations",
        .severity = DIAG_WARNING,
        .needs = "update records with layers[].frac_dead",
        .meaning = "Many ReLU units output zero for every input: they pass no gradient and "
                   "never recover, so the network has lost that capacity.",
        .practice = "Initialize as PyTorch does (uniform +-1/sqrt(fan_in)) or with He or "
                    "orthogonal initialization and small biases; keep the learning rate "
                    "moderate.",
        .fixes = "Fix the initialization (no large negative biases); lower the learning "
                 "rate; normalize the inputs; consider LeakyReLU or tanh.",
        .params = {{"window", 10, "update records per window"},
                   {"warn", 0.85, "mean dead fraction of a layer that is reported"},
                   {"error", 0.95, "mean dead fraction reported as an error"}},
        .state_size = sizeof(layer_window),
        .feed = dead_feed,
    },
    {
        .code = "saturated_activations",
        .severity = DIAG_WARNING,
        .needs = "update records with layers[].frac_saturated from the start",
        .meaning = "From the first updates most tanh or sigmoid outputs of a layer sit at "
                   "their bounds, where the gradient is nearly zero: its inputs are far too "
                   "large, so the layer barely learns and what it feeds is insensitive to "
                   "the observation.",
        .practice = "Normalize observations to about zero mean and unit variance and keep "
                    "pre-activations in the linear range.",
        .fixes = "Normalize or rescale observations; lower the learning rate; initialize "
                 "with smaller weights.",
        .params = {{"window", 10, "the first update records, averaged"},
                   {"warn", 0.5, "mean saturated fraction of a layer that is reported"},
                   {"error", 0, "mean fraction reported as an error (0: never)"}},
        .state_size = sizeof(layer_window),
        .feed = saturated_feed,
    },
    {
        .code = "weights_diverging",
        .severity = DIAG_ERROR,
        .needs = "update records with layers[].w_maxabs",
        .meaning = "A layer's weights keep growing by a large factor: the optimization is "
                   "unstable and the values or logits the layer produces grow with them.",
        .practice = "Weights settle to a scale set by the targets: their growth slows down; "
                    "growth that does not slow down means divergence.",
        .fixes = "Lower the learning rate; clip gradients; check the targets (a discount "
                 "factor of 1 or more, bootstrapping through terminal states, unscaled "
                 "rewards); add weight decay.",
        .params = {{"window", 10, "update records per window"},
                   {"factor", 50, "growth of a layer's window mean of w_maxabs over its first"},
                   {"rate", 0.1, "the growth over the last span windows that counts as still growing"},
                   {"span", 3, "windows (at most 15)"}},
        .state_size = sizeof(weights_state),
        .feed = weights_feed,
    },
    {
        .code = "lr_too_high",
        .severity = DIAG_WARNING,
        .needs = "update records with layers[].update_ratio",
        .meaning = "Each update changes the weights by a large fraction of their size: the "
                   "learning rate is too high for the network, and training oscillates or "
                   "forgets.",
        .practice = "An update moves the weights by about 1e-3 to 1e-2 of their norm (0.1 is "
                    "far too much); watch update_ratio when choosing the learning rate.",
        .fixes = "Lower the learning rate by 10x steps until the ratio is near 1e-3; use a "
                 "learning-rate schedule.",
        .params = {{"window", 3, "update records per window"},
                   {"limit", 0.1, "window mean of the median update_ratio that is too high"},
                   {"windows", 1, "windows in a row above the limit"}},
        .state_size = sizeof(ratio_state),
        .init = ratio_init,
        .feed = high_feed,
        .free = ratio_free,
    },
    {
        .code = "lr_too_low",
        .severity = DIAG_WARNING,
        .needs = "update records with layers[].update_ratio in the exploration phase",
        .meaning = "Updates change the weights by a tiny fraction of their size: the "
                   "learning rate is too low, and the agent learns too slowly to improve "
                   "within its budget.",
        .practice = "Early in training, updates move the weights by about 1e-3 to 1e-2 of "
                    "their norm; if none reaches 1e-3, little is learned.",
        .fixes = "Raise the learning rate by 10x steps; check a learning-rate schedule that "
                 "decays too early.",
        .params = {{"window", 5, "update records per window"},
                   {"limit", 1e-3, "the largest window mean of the median update_ratio below this is too low"},
                   {"windows", 3, "windows needed in the exploration phase"}},
        .state_size = sizeof(ratio_state),
        .init = ratio_init,
        .feed = low_feed,
        .finish = low_finish,
        .free = ratio_free,
    },
    {0},
};
