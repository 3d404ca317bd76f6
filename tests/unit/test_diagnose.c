/* Unit tests of lib/rl/diag: a synthetic healthy trace that no routine reports on, and
 * for every code a trace with one fault that must make that code fire; phases without a
 * plan; live reporting; parameters; routines skipped for lack of inputs. */
#include <math.h>
#include <string.h>

#include "base/rng.h"
#include "check.h"
#include "rl/diag.h"

/* ---- a synthetic training run ---- */

/* Each fault changes one aspect of the healthy run. */
typedef enum {
    F_NONE, F_NAN, F_LOSS_DIVERGING, F_LOSS_FLAT, F_GRAD_EXPLODING, F_GRAD_VANISHING, F_DEAD,
    F_SATURATED, F_WEIGHTS, F_ENTROPY_LOW, F_ENTROPY_COLLAPSE, F_ENTROPY_FLAT,
    F_ENTROPY_FLUCT, F_ACTION_DOMINANT, F_REPEAT, F_REWARD_FLAT, F_REWARD_DOWN,
    F_REWARD_UNSTABLE, F_OBS_SCALE, F_REWARD_SCALE, F_OBS_CONSTANT, F_STEP_LIMIT,
    F_EPS_LOW, F_EPS_UP, F_EPS_FAST, F_EPS_FLAT, F_TARGET_NEVER, F_TARGET_ALWAYS,
    F_Q_DIVERGING, F_Q_OVER, F_GAMMA, F_LR_HIGH, F_LR_LOW, N_FAULTS
} fault;

static const char *const expected[N_FAULTS] = {
    NULL, "nan_inf", "loss_diverging", "loss_not_decreasing", "exploding_gradients",
    "vanishing_gradients", "dead_activations", "saturated_activations", "weights_diverging",
    "entropy_low_start", "entropy_collapse", "entropy_stagnant", "entropy_fluctuating",
    "action_dominant", "action_sequence_repeat", "reward_stagnant", "reward_decreasing",
    "reward_unstable", "obs_unnormalized", "reward_unnormalized", "obs_constant",
    "episode_step_limit", "epsilon_bad_start", "epsilon_increasing", "epsilon_too_fast",
    "epsilon_flat", "target_not_updated", "target_updated_too_often", "q_diverging",
    "q_overestimated", "gamma_out_of_range", "lr_too_high", "lr_too_low",
};

enum { TOTAL = 100000, LOG_EVERY = 40 }; /* an update record per 40 steps (10 gradient steps) */

typedef struct {
    int n, errors;
    char codes[64][32];
    uint64_t steps[64];
    bool during_feed[64];
    bool feeding;
} found;

static void collect(void *ctx, const diag_finding *f)
{
    found *x = ctx;
    if (x->n < 64) {
        snprintf(x->codes[x->n], 32, "%s", f->code);
        x->steps[x->n] = f->step;
        x->during_feed[x->n] = x->feeding;
    }
    x->n++;
    x->errors += f->severity == DIAG_ERROR;
}

static int find(const found *x, const char *code)
{
    for (int i = 0; i < x->n && i < 64; i++)
        if (strcmp(x->codes[i], code) == 0)
            return i;
    return -1;
}

static trace_rec t; /* large */

/* The healthy run: returns rise from ~20 to the limit of 500, the loss drops early then
 * rises with the values, entropy falls gently, epsilon decays over 10%, the target is
 * copied every 500 steps, weights and gradients stay in scale. */
static void run(diag *d, found *x, fault f, bool with_total)
{
    rng_t rng;
    rng_seed(&rng, 42);
    uint64_t index = 0;
    x->feeding = true;

    trace_clear(&t, TR_CONFIG, 0);
    snprintf(t.env, sizeof t.env, "Synthetic-v0");
    snprintf(t.agent, sizeof t.agent, "dqn");
    t.flags |= TB_ENV | TB_AGENT;
    trace_set(&t, TF_GAMMA, f == F_GAMMA ? 1.01 : 0.99);
    trace_set(&t, TF_LR, 1e-3);
    if (with_total)
        trace_set(&t, TF_TOTAL_STEPS, TOTAL);
    trace_set(&t, TF_MAX_EPISODE_STEPS, f == F_STEP_LIMIT ? 25 : 500);
    trace_set(&t, TF_REWARD_THRESHOLD, 475);
    trace_set(&t, TF_N_ACTIONS, 2);
    diag_feed(d, &t, ++index);

    uint64_t step = 0, next_update = LOG_EVERY, episode = 0;
    int record = 0;
    while (step < TOTAL) {
        double p = (double)step / TOTAL; /* progress */
        /* one episode */
        double base = 20 + 480 / (1 + exp(-12 * (p - 0.35)));
        if (f == F_REWARD_FLAT)
            base = 20;
        if (f == F_REWARD_DOWN)
            base = 100 - 90 * p;
        if (f == F_REWARD_UNSTABLE && p > 0.5)
            base = episode % 2 ? 15 : 490;
        if (f == F_Q_OVER)
            base = 20;
        int limit = f == F_STEP_LIMIT ? 25 : 500;
        int len = (int)fmax(8, fmin(limit, round(base * (1 + 0.1 * rng_normal(&rng)))));
        bool repeat = f == F_REPEAT && p > 0.5;
        if (repeat)
            len = 9;
        step += (uint64_t)len;
        double rscale = f == F_REWARD_SCALE ? 1000 : 1;
        trace_clear(&t, TR_EPISODE, step);
        trace_set(&t, TF_EPISODE, (double)++episode);
        trace_set(&t, TF_RETURN, len * rscale);
        trace_set(&t, TF_LENGTH, len);
        t.flags |= TB_TERMINATED | TB_TRUNCATED | TB_ACTION_COUNTS | TB_FINAL_OBS;
        t.truncated = len == limit;
        t.terminated = !t.truncated;
        t.n_action_counts = 2;
        int left = len / 2 + (int)rng_below(&rng, 3) - 1;
        if (f == F_ACTION_DOMINANT || repeat)
            left = len;
        t.action_counts[0] = left;
        t.action_counts[1] = len - left;
        double oscale = f == F_OBS_SCALE ? 1000 : 1;
        trace_set(&t, TF_OBS_MIN, -1.5 * oscale * (1 + 0.1 * rng_uniform(&rng)));
        trace_set(&t, TF_OBS_MAX, 1.5 * oscale * (1 + 0.1 * rng_uniform(&rng)));
        trace_set(&t, TF_OBS_MEAN, 0.01 * rng_normal(&rng));
        trace_set(&t, TF_OBS_STD, f == F_OBS_CONSTANT ? 0 : 0.3 + 0.05 * rng_uniform(&rng));
        trace_set(&t, TF_REWARD_MIN, rscale);
        trace_set(&t, TF_REWARD_MAX, rscale);
        t.n_final_obs = 4;
        for (int i = 0; i < 4; i++)
            t.final_obs[i] = repeat ? 0.1 : rng_normal(&rng);
        diag_feed(d, &t, ++index);

        /* the update records of those steps */
        for (; next_update <= step && next_update <= TOTAL; next_update += LOG_EVERY) {
            uint64_t s = next_update;
            double q = (double)s / TOTAL, noise = rng_normal(&rng);
            record++;
            trace_clear(&t, TR_UPDATE, s);
            trace_set(&t, TF_UPDATES, 10);
            double loss = q < 0.05 ? 0.5 - 9 * q : 0.05 + 0.3 * q;
            if (f == F_LOSS_FLAT)
                loss = 0.5;
            if (f == F_LOSS_DIVERGING && q > 0.5)
                loss = 0.2 * exp((q - 0.5) * 60);
            trace_set(&t, TF_LOSS, loss * (1 + 0.05 * noise) * (f == F_REWARD_SCALE ? 1e6 : 1));
            if (f == F_NAN && record == 700)
                trace_set(&t, TF_LOSS, NAN);
            double g = 1 + 0.2 * fabs(noise);
            if (f == F_GRAD_EXPLODING && q > 0.6)
                g *= 1e5;
            trace_set(&t, TF_GRAD_NORM, g);
            double h = log(2) * (1 - 0.4 * q) + 0.01 * noise;
            if (f == F_ENTROPY_LOW)
                h = 0.05 + 0.2 * q;
            if (f == F_ENTROPY_COLLAPSE)
                h = q < 0.05 ? log(2) * (1 - 19 * q) : 0.02;
            if (f == F_ENTROPY_FLAT)
                h = log(2) - 0.001 * fabs(noise);
            if (f == F_ENTROPY_FLUCT && q > 0.3)
                h = 0.4 + (record % 2 ? 0.25 : -0.25);
            trace_set(&t, TF_ENTROPY, h);
            double qm = 60 * q + 1;
            if (f == F_Q_DIVERGING)
                qm = exp(q * 20);
            if (f == F_Q_OVER)
                qm = 5 + 90 * q;
            trace_set(&t, TF_Q_MEAN, qm);
            trace_set(&t, TF_Q_MAX, qm * 1.3);
            trace_set(&t, TF_TD_ERROR, 0.5);
            trace_set(&t, TF_LR, 1e-3);
            double eps = fmax(0.05, 1 - 0.95 * (double)s / 10000);
            if (f == F_EPS_LOW)
                eps = 0.1;
            if (f == F_EPS_UP)
                eps = fmin(1, 0.05 + 0.95 * (double)s / 10000);
            if (f == F_EPS_FAST)
                eps = fmax(0.05, 1 - 0.95 * (double)s / 1000);
            if (f == F_EPS_FLAT)
                eps = 1;
            trace_set(&t, TF_EPSILON, eps);
            int copies = (int)(s / 500 - (s - LOG_EVERY) / 500);
            if (f == F_TARGET_NEVER)
                copies = 0;
            if (f == F_TARGET_ALWAYS)
                copies = 10;
            t.flags |= TB_TARGET_UPDATED | TB_LAYERS;
            t.target_updated = copies > 0;
            trace_set(&t, TF_TARGET_UPDATES, copies);
            t.n_layers = 3;
            for (int l = 0; l < 3; l++) {
                trace_layer *ly = &t.layers[l];
                ly->has = 0;
                snprintf(ly->name, sizeof ly->name, "q.%d", l);
                layer_set(ly, TL_W_MEAN, 0.01 * noise);
                layer_set(ly, TL_W_STD, 0.2 + 0.05 * q);
                double wmax = 0.5 + 0.5 * q;
                if (f == F_WEIGHTS && q > 0.3)
                    wmax = 0.5 * exp((q - 0.3) * 30);
                layer_set(ly, TL_W_MAXABS, wmax);
                double gl = 0.5 + 0.1 * fabs(noise);
                if (f == F_GRAD_VANISHING && l == 0)
                    gl = 0;
                layer_set(ly, TL_G_NORM, gl);
                if (l < 2) {
                    layer_set(ly, TL_FRAC_DEAD, f == F_DEAD ? 0.97 : 0.1);
                    if (f == F_SATURATED)
                        layer_set(ly, TL_FRAC_SATURATED, 0.8);
                }
                double ratio = 2e-3 * (1 + 0.1 * noise);
                if (f == F_LR_HIGH)
                    ratio = 0.2;
                if (f == F_LR_LOW)
                    ratio = 2e-6;
                layer_set(ly, TL_UPDATE_RATIO, ratio);
            }
            diag_feed(d, &t, ++index);
        }
    }
    x->feeding = false;
    diag_finish(d);
}

static found diagnose_run(fault f, bool with_total)
{
    found x = {0};
    diag *d = diag_new(collect, &x);
    run(d, &x, f, with_total);
    diag_free(d);
    return x;
}

static void print_found(const found *x)
{
    for (int i = 0; i < x->n && i < 64; i++)
        printf("#   fired %s at step %llu\n", x->codes[i], (unsigned long long)x->steps[i]);
}

static void healthy_run_has_no_finding(void)
{
    for (int with_total = 0; with_total < 2; with_total++) {
        found x = diagnose_run(F_NONE, with_total);
        CHECK_EQ_INT(x.n, 0);
        print_found(&x);
    }
}

/* Every code fires on the trace made with its fault, with and without the plan. */
static void every_code_fires_on_its_fault(void)
{
    for (int f = 1; f < N_FAULTS; f++)
        for (int with_total = 0; with_total < 2; with_total++) {
            found x = diagnose_run((fault)f, with_total);
            if (find(&x, expected[f]) < 0) {
                printf("#   %s did not fire (total_steps %s)\n", expected[f],
                       with_total ? "known" : "unknown");
                print_found(&x);
                CHECK(0);
            }
        }
}

/* With the plan known, findings come while records arrive, not only at the end. */
static void findings_come_while_training_runs(void)
{
    const fault live[] = {F_NAN, F_LOSS_DIVERGING, F_DEAD, F_EPS_UP, F_TARGET_NEVER,
                          F_REWARD_FLAT, F_EPS_FLAT, F_OBS_CONSTANT, F_ENTROPY_COLLAPSE};
    for (size_t k = 0; k < sizeof live / sizeof live[0]; k++) {
        found x = diagnose_run(live[k], true);
        int i = find(&x, expected[live[k]]);
        CHECK(i >= 0);
        if (i >= 0 && !x.during_feed[i])
            printf("#   %s waited for the end\n", expected[live[k]]);
        CHECK(i >= 0 && x.during_feed[i] && x.steps[i] < TOTAL);
    }
}

/* The phases: reward_stagnant judges at 80% of the plan, epsilon_flat right after 20%. */
static void phases_follow_the_plan(void)
{
    found x = diagnose_run(F_REWARD_FLAT, true);
    int i = find(&x, "reward_stagnant");
    CHECK(i >= 0 && x.steps[i] >= 80000 && x.steps[i] < 85000);
    x = diagnose_run(F_EPS_FLAT, true);
    i = find(&x, "epsilon_flat");
    CHECK(i >= 0 && x.steps[i] > 20000 && x.steps[i] < 21000);
}

static void parameters_can_be_overridden(void)
{
    found x = {0};
    diag *d = diag_new(collect, &x);
    CHECK(diag_set(d, "dead_activations.warn", 0.05));
    CHECK(diag_set(d, "explore", 0.3));
    CHECK(!diag_set(d, "dead_activations.nothing", 1));
    CHECK(!diag_set(d, "no_such_code.warn", 1));
    CHECK(!diag_set(d, "exploit", 1.5));
    run(d, &x, F_NONE, true);
    CHECK(find(&x, "dead_activations") >= 0); /* 10% dead is now reported */
    diag_free(d);
}

/* A trace of episodes only: the routines that need updates are skipped, not run. */
static void routines_without_inputs_are_skipped(void)
{
    found x = {0};
    diag *d = diag_new(collect, &x);
    trace_clear(&t, TR_EPISODE, 10);
    trace_set(&t, TF_RETURN, 10);
    trace_set(&t, TF_LENGTH, 10);
    diag_feed(d, &t, 1);
    diag_finish(d);
    int ran = 0, skipped_updates = 0;
    for (int i = 0; i < diag_count(d); i++) {
        diag_routine_info in;
        diag_info(d, i, &in);
        ran += in.ran;
        if (strstr(in.needs, "update records") == in.needs)
            skipped_updates += !in.ran;
        if (strcmp(in.code, "nan_inf") == 0 || strcmp(in.code, "reward_unnormalized") == 0)
            CHECK(in.ran);
        if (strcmp(in.code, "loss_diverging") == 0)
            CHECK(!in.ran);
    }
    CHECK(ran >= 2 && skipped_updates >= 15);
    CHECK_EQ_INT(x.n, 0);
    diag_free(d);
}

/* An empty trace runs nothing and finds nothing. */
static void empty_trace_finds_nothing(void)
{
    found x = {0};
    diag *d = diag_new(collect, &x);
    diag_finish(d);
    CHECK_EQ_INT(x.n, 0);
    for (int i = 0; i < diag_count(d); i++) {
        diag_routine_info in;
        diag_info(d, i, &in);
        CHECK(!in.ran);
    }
    diag_free(d);
}

/* Each code reports once, however long the fault lasts. */
static void a_code_fires_once(void)
{
    found x = diagnose_run(F_OBS_SCALE, true);
    int n = 0;
    for (int i = 0; i < x.n; i++)
        n += strcmp(x.codes[i], "obs_unnormalized") == 0;
    CHECK_EQ_INT(n, 1);
}

int main(void)
{
    RUN(healthy_run_has_no_finding);
    RUN(every_code_fires_on_its_fault);
    RUN(findings_come_while_training_runs);
    RUN(phases_follow_the_plan);
    RUN(parameters_can_be_overridden);
    RUN(routines_without_inputs_are_skipped);
    RUN(empty_trace_finds_nothing);
    RUN(a_code_fires_once);
    return check_done();
}
