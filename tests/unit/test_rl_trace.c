/* Unit tests of lib/rl/trace and lib/rl/lsq: trace records written and read back, records
 * that break the schema, and the least-squares windows against direct computation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rng.h"
#include "check.h"
#include "rl/lsq.h"
#include "rl/trace.h"

static char dir[] = "/tmp/test_rl_trace.XXXXXX";
static char path[96];

static trace_rec a, b;

/* Write one trace record to the file, read it back into b. */
static void round_trip(const trace_rec *in)
{
    rec_writer *w = rec_create(path, false);
    trace_write(w, in);
    rec_finish(w);
    rec_reader *r = rec_open(path);
    rec x;
    CHECK(rec_next(r, &x));
    trace_parse(&x, &b);
    CHECK(!rec_next(r, &x));
    rec_close(r);
}

static void update_record_round_trips(void)
{
    trace_clear(&a, TR_UPDATE, 1234);
    trace_set(&a, TF_LOSS, 0.25);
    trace_set(&a, TF_ENTROPY, NAN);
    trace_set(&a, TF_UPDATES, 10);
    trace_set(&a, TF_EPSILON, INFINITY);
    a.flags |= TB_TARGET_UPDATED | TB_LAYERS;
    a.target_updated = true;
    a.n_layers = 2;
    for (int l = 0; l < 2; l++) {
        a.layers[l].has = 0;
        snprintf(a.layers[l].name, sizeof a.layers[l].name, "q.%d", l);
        layer_set(&a.layers[l], TL_W_STD, 0.5 + l);
        layer_set(&a.layers[l], TL_FRAC_DEAD, 0.125);
    }
    round_trip(&a);
    CHECK(b.event == TR_UPDATE && b.step == 1234);
    CHECK(b.has == a.has && b.flags == a.flags);
    CHECK(b.v[TF_LOSS] == 0.25 && isnan(b.v[TF_ENTROPY]) && b.v[TF_EPSILON] == INFINITY);
    CHECK(b.v[TF_UPDATES] == 10 && b.target_updated);
    CHECK_EQ_INT(b.n_layers, 2);
    CHECK_STR(b.layers[1].name, "q.1");
    CHECK(b.layers[1].has == a.layers[1].has && b.layers[1].v[TL_W_STD] == 1.5);
    CHECK(b.layers[0].v[TL_FRAC_DEAD] == 0.125);
}

static void config_and_episode_round_trip(void)
{
    trace_clear(&a, TR_CONFIG, 0);
    snprintf(a.env, sizeof a.env, "CartPole-v1");
    snprintf(a.agent, sizeof a.agent, "dqn");
    a.flags |= TB_ENV | TB_AGENT;
    trace_set(&a, TF_GAMMA, 0.99);
    trace_set(&a, TF_SEED, 0);
    a.seed = UINT64_MAX;
    round_trip(&a);
    CHECK(b.event == TR_CONFIG);
    CHECK_STR(b.env, "CartPole-v1");
    CHECK_STR(b.agent, "dqn");
    CHECK(b.v[TF_GAMMA] == 0.99 && b.seed == UINT64_MAX);

    trace_clear(&a, TR_EPISODE, 77);
    trace_set(&a, TF_RETURN, -3.5);
    a.flags |= TB_ACTION_COUNTS | TB_FINAL_OBS | TB_TERMINATED;
    a.terminated = true;
    a.n_action_counts = 3;
    a.action_counts[0] = 5, a.action_counts[1] = 0, a.action_counts[2] = 9;
    a.n_final_obs = 2;
    a.final_obs[0] = 0.5, a.final_obs[1] = -2;
    round_trip(&a);
    CHECK(b.event == TR_EPISODE && b.step == 77 && b.v[TF_RETURN] == -3.5);
    CHECK(b.terminated && b.flags == a.flags);
    CHECK(b.n_action_counts == 3 && b.action_counts[2] == 9);
    CHECK(b.n_final_obs == 2 && b.final_obs[1] == -2);
}

/* The reader of parse_bytes(), kept where a die() that jumps out of it leaves it. */
static rec_reader *reading;

static void stop_reading(void)
{
    rec_close(reading);
    reading = NULL;
}

/* Write raw msgpack bytes as the file and parse its first record. */
static void parse_bytes(const char *hex)
{
    stop_reading();
    FILE *f = fopen(path, "wb");
    for (const char *p = hex; *p; p += 2) {
        while (*p == ' ')
            p++;
        unsigned x;
        sscanf(p, "%2x", &x);
        fputc((int)x, f);
    }
    fclose(f);
    reading = rec_open(path);
    rec x;
    if (rec_next(reading, &x))
        trace_parse(&x, &b);
    stop_reading();
}

/* {"event":"update","step":5,"foo":"bar","loss":1.5}: keys outside the schema are fine. */
static void unknown_keys_are_ignored(void)
{
    parse_bytes("84 a5 6576656e74 a6 757064617465 a4 73746570 05 a3 666f6f a3 626172 "
                "a4 6c6f7373 cb 3ff8000000000000");
    CHECK(b.event == TR_UPDATE && b.step == 5 && b.v[TF_LOSS] == 1.5);
    /* {"event":"warning","step":3}: another event */
    parse_bytes("82 a5 6576656e74 a7 7761726e696e67 a4 73746570 03");
    CHECK(b.event == TR_OTHER && b.step == 3);
}

static void schema_violations_exit_65(void)
{
    /* no event: {"step":1} */
    EXPECT_DIE(EX_DATAERR, parse_bytes("81 a4 73746570 01"));
    /* no step: {"event":"update"} */
    EXPECT_DIE(EX_DATAERR, parse_bytes("81 a5 6576656e74 a6 757064617465"));
    /* negative step */
    EXPECT_DIE(EX_DATAERR, parse_bytes("82 a5 6576656e74 a6 757064617465 a4 73746570 ff"));
    /* step as a float */
    EXPECT_DIE(EX_DATAERR, parse_bytes("82 a5 6576656e74 a6 757064617465 a4 73746570 cb 3ff8000000000000"));
    /* loss as a string */
    EXPECT_DIE(EX_DATAERR, parse_bytes("83 a5 6576656e74 a6 757064617465 a4 73746570 01 a4 6c6f7373 a1 78"));
    /* terminated as an integer */
    EXPECT_DIE(EX_DATAERR, parse_bytes("83 a5 6576656e74 a7 657069736f6465 a4 73746570 01 "
                                       "aa 7465726d696e61746564 01"));
    /* action_counts with a negative count */
    EXPECT_DIE(EX_DATAERR, parse_bytes("83 a5 6576656e74 a7 657069736f6465 a4 73746570 01 "
                                       "ad 616374696f6e5f636f756e7473 92 01 ff"));
    /* layers that are not maps */
    EXPECT_DIE(EX_DATAERR, parse_bytes("83 a5 6576656e74 a6 757064617465 a4 73746570 01 "
                                       "a6 6c6179657273 91 01"));
    stop_reading();
}

/* The fit of a window equals the textbook formulas; merged windows equal one long fit. */
static void lsq_matches_direct_least_squares(void)
{
    rng_t r;
    rng_seed(&r, 3);
    double x[200], y[200];
    lsq all = {0}, first = {0}, second = {0};
    for (int i = 0; i < 200; i++) {
        x[i] = 1e6 + 7 * i;
        y[i] = 3 - 0.02 * i + rng_normal(&r);
        lsq_add(&all, x[i], y[i]);
        lsq_add(i < 80 ? &first : &second, x[i], y[i]);
    }
    double mx = 0, my = 0;
    for (int i = 0; i < 200; i++)
        mx += x[i] / 200, my += y[i] / 200;
    double sxx = 0, sxy = 0, syy = 0;
    for (int i = 0; i < 200; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
        syy += (y[i] - my) * (y[i] - my);
    }
    double slope = sxy / sxx, rss = 0;
    for (int i = 0; i < 200; i++) {
        double e = y[i] - (my + slope * (x[i] - mx));
        rss += e * e;
    }
    CHECK_NEAR(lsq_slope(&all), slope, 1e-12);
    CHECK_NEAR(lsq_resid_std(&all), sqrt(rss / 198), 1e-9);
    CHECK_NEAR(lsq_std(&all), sqrt(syy / 199), 1e-9);
    lsq_merge(&first, &second);
    CHECK_NEAR(lsq_slope(&first), slope, 1e-12);
    CHECK_NEAR(first.my, my, 1e-12);
    CHECK_NEAR(lsq_resid_std(&first), sqrt(rss / 198), 1e-9);
    CHECK(first.x0 == x[0] && first.y1 == y[199] && first.n == 200);
}

/* Windows keep their step ranges; beyond the cap neighbours merge and ranges still hold. */
static void wtrack_windows_and_ranges(void)
{
    wtrack t;
    wtrack_init(&t, 10);
    int finished = 0;
    for (uint64_t s = 1; s <= 100000; s++)
        finished += wtrack_add(&t, s, (double)s, s <= 50000 ? 1.0 : 3.0);
    CHECK_EQ_INT(finished, 10000);
    CHECK(t.n <= WTRACK_MAX_WINDOWS && t.n > WTRACK_MAX_WINDOWS / 4);
    lsq early = wtrack_range(&t, 0, 20000), late = wtrack_range(&t, 80001, UINT64_MAX);
    CHECK(early.n == 20000 && late.n == 20000);
    CHECK_NEAR(early.my, 1.0, 1e-12);
    CHECK_NEAR(late.my, 3.0, 1e-12);
    CHECK(t.all.n == 100000);
    CHECK_NEAR(t.all.my, 2.0, 1e-12);
    wtrack_free(&t);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/trace.mp", dir);
    RUN(update_record_round_trips);
    RUN(config_and_episode_round_trip);
    RUN(unknown_keys_are_ignored);
    RUN(schema_violations_exit_65);
    RUN(lsq_matches_direct_least_squares);
    RUN(wtrack_windows_and_ranges);
    unlink(path);
    rmdir(dir);
    return check_done();
}
