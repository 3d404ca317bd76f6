/* Unit tests of lib/train: the token stream's windows, the cross-entropy loss, gradient
 * accumulation, resuming from a checkpoint bit for bit, stopping on a diverged loss, the
 * sampler's distributions, generation's stopping rules, and the scorer's alignment of
 * prompts and targets (against model_step). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "check.h"
#include "model/ckpt.h"
#include "model/model.h"
#include "rec/rec.h"
#include "train/data.h"
#include "train/sample.h"
#include "train/score.h"
#include "train/train.h"

static char dir[] = "/tmp/test_train.XXXXXX";

static const char *in_dir(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* A stream of records {"tokens": docs[i]}. */
static void write_docs(const char *path, const uint32_t *const *docs, const size_t *lens,
                       int n)
{
    rec_writer *w = rec_create(path, false);
    for (int i = 0; i < n; i++) {
        rec_begin(w);
        rec_put_u32s(w, "tokens", docs[i], lens[i]);
        rec_end(w);
    }
    rec_finish(w);
}

/* Two documents [1 2 3] and [4 5] with end-of-text 9 make the circular stream
 * 1 2 3 9 4 5 9; windows of T = 3 start 3 apart. */
static void token_stream_cuts_windows_and_wraps(void)
{
    const char *p = in_dir("docs.mp");
    write_docs(p, (const uint32_t *[]){(uint32_t[]){1, 2, 3}, (uint32_t[]){4, 5}},
               (size_t[]){3, 2}, 2);
    token_stream s;
    token_stream_load(&s, p, 10, 9);
    CHECK_EQ_INT(s.n, 7);
    CHECK_EQ_INT(s.docs, 2);
    uint32_t tok[6], tgt[6];
    token_stream_next(&s, 2, 3, tok, tgt);
    static const uint32_t want_tok[6] = {1, 2, 3, 9, 4, 5}, want_tgt[6] = {2, 3, 9, 4, 5, 9};
    CHECK(memcmp(tok, want_tok, sizeof tok) == 0);
    CHECK(memcmp(tgt, want_tgt, sizeof tgt) == 0);
    CHECK_EQ_INT(s.pos, 6);
    token_stream_next(&s, 1, 3, tok, tgt); /* from 9 at the end, round to the start */
    static const uint32_t wrap_tok[3] = {9, 1, 2}, wrap_tgt[3] = {1, 2, 3};
    CHECK(memcmp(tok, wrap_tok, sizeof wrap_tok) == 0);
    CHECK(memcmp(tgt, wrap_tgt, sizeof wrap_tgt) == 0);
    CHECK_EQ_INT(s.pos, 2);
    token_stream_free(&s);

    token_stream_load(&s, p, 10, TOKENS_NO_EOT); /* no separator: 1 2 3 4 5 */
    CHECK_EQ_INT(s.n, 5);
    token_stream_free(&s);
}

static void xent_is_the_mean_over_scored_targets(void)
{
    uint32_t targets[4] = {1, MODEL_IGNORE, 2, 3};
    float logp[4] = {-1, -100, -2, -3}, dlogp[4];
    double loss = train_xent(NULL, NULL, targets, logp, dlogp, 2, 2);
    CHECK_NEAR(loss, 2.0, 1e-12);
    CHECK_NEAR(dlogp[0], -1.0 / 3, 1e-7);
    CHECK(dlogp[1] == 0.0f);
    CHECK_NEAR(dlogp[3], -1.0 / 3, 1e-7);
}

/* ---- training ---- */

static model_config tiny(const char *arch)
{
    model_config cfg = {.vocab = 23, .layers = 2, .width = 16, .heads = 2, .context = 8};
    snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
    CHECK(model_config_finish(&cfg) == NULL);
    return cfg;
}

/* 40 documents of pseudo-random lengths and ids. */
static void make_corpus(const char *path)
{
    rng_t r;
    rng_seed(&r, 5);
    rec_writer *w = rec_create(path, false);
    for (int d = 0; d < 40; d++) {
        uint32_t doc[12];
        size_t n = 3 + rng_below(&r, 9);
        for (size_t i = 0; i < n; i++)
            doc[i] = (uint32_t)(i == 0 ? rng_below(&r, 22) : (doc[i - 1] * 7 + 3) % 22);
        rec_begin(w);
        rec_put_u32s(w, "tokens", doc, n);
        rec_end(w);
    }
    rec_finish(w);
}

static train_hparams hparams(void)
{
    return (train_hparams){
        .batch = 3, .seq_len = 8, .accum = 2, .steps = 6, .warmup = 2, .lr = 1e-2,
        .min_lr = 1e-3, .clip = 0.5,
        .adam = {.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1},
        .seed = 3, .eot = 22, .log_every = 1,
    };
}

typedef struct {
    model *m;
    token_stream data;
    trainer t;
} run;

static void run_start(run *r, const char *arch, const train_hparams *h)
{
    model_config cfg = tiny(arch);
    r->m = model_new(&cfg);
    model_init(r->m, h->seed);
    token_stream_load(&r->data, in_dir("corpus.mp"), (uint32_t)cfg.vocab, h->eot);
    trainer_init(&r->t, r->m, h, (train_loss){"xent", train_xent, NULL}, &r->data);
}

static void run_end(run *r)
{
    trainer_free(&r->t);
    token_stream_free(&r->data);
    model_free(r->m);
}

/* Six steps straight, and three steps, a checkpoint, a new process's worth of state
 * read back and three more, end with the same bits in weights and moments. */
static void resume_is_bit_identical(const char *arch)
{
    train_hparams h = hparams();
    run a, b;
    run_start(&a, arch, &h);
    a.t.metrics = rec_create(in_dir("metrics.mp"), false);
    train_run(&a.t);
    rec_finish(a.t.metrics);
    CHECK_EQ_INT(a.t.step, 6);

    run_start(&b, arch, &h);
    for (int i = 0; i < 3; i++)
        train_step(&b.t);
    trainer_save(&b.t, in_dir("mid.ckpt"));
    run_end(&b);

    ckpt_reader r;
    ckpt_open(&r, in_dir("mid.ckpt"));
    train_hparams saved;
    train_progress p;
    train_state_read(&r, &saved, &p);
    CHECK_EQ_INT(p.step, 3);
    CHECK(saved.batch == h.batch && saved.seq_len == h.seq_len && saved.accum == h.accum);
    CHECK(saved.steps == h.steps && saved.warmup == h.warmup && saved.seed == h.seed);
    CHECK(saved.lr == h.lr && saved.min_lr == h.min_lr && saved.clip == h.clip);
    CHECK(saved.adam.beta2 == h.adam.beta2 && saved.adam.weight_decay == h.adam.weight_decay);
    CHECK(saved.eot == h.eot && saved.log_every == h.log_every);
    run c = {.m = model_new(&r.cfg)};
    token_stream_load(&c.data, in_dir("corpus.mp"), (uint32_t)r.cfg.vocab, saved.eot);
    trainer_init(&c.t, c.m, &saved, (train_loss){"xent", train_xent, NULL}, &c.data);
    c.t.metrics = rec_create(in_dir("metrics2.mp"), false);
    trainer_resume(&c.t, &r, &p);
    ckpt_close(&r);
    train_run(&c.t);
    rec_finish(c.t.metrics);
    CHECK_EQ_INT(c.t.step, 6);
    param_set *pa = model_params(a.m), *pc = model_params(c.m);
    size_t bytes = pa->total * sizeof(float);
    CHECK(memcmp(pa->w, pc->w, bytes) == 0);
    CHECK(memcmp(a.t.opt.m, c.t.opt.m, bytes) == 0);
    CHECK(memcmp(a.t.opt.v, c.t.opt.v, bytes) == 0);
    CHECK_EQ_INT(a.data.pos, c.data.pos);
    run_end(&a);
    run_end(&c);
}

static void gpt_resume_is_bit_identical(void) { resume_is_bit_identical("gpt"); }
static void hawk_resume_is_bit_identical(void) { resume_is_bit_identical("hawk"); }

/* Two micro-batches of 2 windows give the gradient of one batch of the same 4 windows. */
static void accumulation_matches_one_big_batch(void)
{
    train_hparams h = hparams();
    h.clip = 0;
    h.batch = 4;
    h.accum = 1;
    run one, two;
    run_start(&one, "gpt", &h);
    train_step(&one.t);
    h.batch = 2;
    h.accum = 2;
    run_start(&two, "gpt", &h);
    train_step(&two.t);
    const param_set *p1 = model_params(one.m), *p2 = model_params(two.m);
    double max = 0, diff = 0;
    for (size_t i = 0; i < p1->total; i++) {
        max = fmax(max, fabs(p1->g[i]));
        diff = fmax(diff, fabs(p1->g[i] - p2->g[i]));
    }
    CHECK(max > 0);
    CHECK(diff <= 1e-5 * max);
    CHECK_EQ_INT(one.data.pos, two.data.pos);
    run_end(&one);
    run_end(&two);
}

/* A NaN weight makes the loss NaN: exit 65 at step 1, before anything is updated. */
static void diverged_loss_stops_with_65(void)
{
    train_hparams h = hparams();
    run r;
    run_start(&r, "gpt", &h);
    param_set *ps = model_params(r.m);
    ps->w[0] = NAN;
    float second = ps->w[1];
    EXPECT_DIE(EX_DATAERR, train_step(&r.t));
    CHECK_EQ_INT(r.t.step, 0);
    CHECK(ps->w[1] == second && r.t.opt.t == 0);
    run_end(&r);
}

/* ---- sampling ---- */

/* Logits log(1, 2, 3, 4): probabilities 0.1 .. 0.4. */
static void sampler_follows_softmax_top_k_and_top_p(void)
{
    float logits[4] = {0, logf(2), logf(3), logf(4)};
    sampler s;
    rng_t rng;
    rng_seed(&rng, 11);
    enum { N = 40000 };
    int counts[4] = {0};
    sampler_init(&s, 4, &(sampler_opts){.temperature = 1, .top_p = 1});
    for (int i = 0; i < N; i++)
        counts[sampler_draw(&s, logits, &rng)]++;
    for (int v = 0; v < 4; v++) { /* 5 sd of a binomial count */
        double p = 0.1 * (v + 1);
        CHECK_NEAR(counts[v], N * p, 5 * sqrt(N * p * (1 - p)));
    }
    sampler_free(&s);

    /* top-k 2 and top-p 0.45 both keep {3, 2}, renormalised to 4:3 */
    sampler_opts cuts[2] = {{.temperature = 1, .top_k = 2, .top_p = 1},
                            {.temperature = 1, .top_p = 0.45}};
    for (int c = 0; c < 2; c++) {
        memset(counts, 0, sizeof counts);
        sampler_init(&s, 4, &cuts[c]);
        for (int i = 0; i < N; i++)
            counts[sampler_draw(&s, logits, &rng)]++;
        CHECK(counts[0] == 0 && counts[1] == 0);
        CHECK_NEAR(counts[3], N * 4.0 / 7, 5 * sqrt(N * (4.0 / 7) * (3.0 / 7)));
        sampler_free(&s);
    }
    /* top-p 0.35 keeps the most likely alone; so does greedy; temperature 0 too */
    sampler_opts one[3] = {{.temperature = 1, .top_p = 0.35},
                           {.greedy = true, .temperature = 1, .top_p = 1},
                           {.temperature = 0, .top_p = 1}};
    for (int c = 0; c < 3; c++) {
        sampler_init(&s, 4, &one[c]);
        for (int i = 0; i < 100; i++)
            CHECK_EQ_INT(sampler_draw(&s, logits, &rng), 3);
        sampler_free(&s);
    }
    /* greedy ties go to the smaller id */
    float tie[4] = {1, 5, 5, 2};
    sampler_init(&s, 4, &one[1]);
    CHECK_EQ_INT(sampler_draw(&s, tie, &rng), 1);
    sampler_free(&s);
}

static void generation_stops_at_length_stop_token_and_context(void)
{
    model_config cfg = tiny("gpt");
    model *m = model_new(&cfg);
    model_init(m, 9);
    model_state *st = model_state_new(m);
    sampler s;
    sampler_init(&s, cfg.vocab, &(sampler_opts){.greedy = true});
    rng_t rng;
    rng_seed(&rng, 1);
    gen_result res = {0};
    uint32_t prompt[2] = {4, 7};
    generate(m, st, &s, &rng, NULL, prompt, 2, &(gen_opts){.max_tokens = 3}, &res);
    CHECK_EQ_INT(res.tokens.n, 3);
    CHECK(res.finish == GEN_LENGTH);
    uint32_t three[3];
    memcpy(three, res.tokens.v, sizeof three);
    /* the context of 8 holds the prompt and 6 more: 7 can be drawn, the last not fed */
    generate(m, st, &s, &rng, NULL, prompt, 2, &(gen_opts){.max_tokens = 100}, &res);
    CHECK_EQ_INT(res.tokens.n, 7);
    CHECK(res.finish == GEN_CONTEXT);
    CHECK(memcmp(res.tokens.v, three, sizeof three) == 0); /* greedy: repeatable */
    /* stopping at the third token's id: the greedy sequence up to its first occurrence */
    size_t upto = 0;
    while (three[upto] != three[2])
        upto++;
    generate(m, st, &s, &rng, NULL, prompt, 2,
             &(gen_opts){.max_tokens = 100, .stop_tokens = &three[2], .n_stop_tokens = 1},
             &res);
    CHECK(res.finish == GEN_STOP);
    CHECK_EQ_INT(res.tokens.n, upto);
    CHECK(memcmp(res.tokens.v, three, upto * sizeof *three) == 0);
    gen_result_free(&res);
    sampler_free(&s);
    model_state_free(st);
    model_free(m);
}

/* ---- scoring ---- */

static double step_logprob(const float *logits, int V, uint32_t target)
{
    double max = logits[0], sum = 0;
    for (int v = 1; v < V; v++)
        max = fmax(max, logits[v]);
    for (int v = 0; v < V; v++)
        sum += exp(logits[v] - max);
    return logits[target] - max - log(sum);
}

/* Each record's token_logprobs are the log-probabilities model_step gives the same
 * tokens after the same context, whatever else shares its batch. */
static void scorer_aligns_prompt_and_targets(const char *arch)
{
    model_config cfg = tiny(arch);
    model *m = model_new(&cfg);
    model_init(m, 4);
    static const uint32_t prompts[3][3] = {{0}, {5, 6}, {1}};
    static const size_t np[3] = {0, 2, 1};
    static const uint32_t texts[3][7] = {{3, 9, 9, 2, 17}, {8, 1, 0}, {4, 4, 4, 4, 4, 4, 4}};
    static const size_t nt[3] = {5, 3, 7};
    const char *in = in_dir("score_in.mp"), *out = in_dir("score_out.mp");
    rec_writer *w = rec_create(in, false);
    for (int i = 0; i < 3; i++) {
        rec_begin(w);
        rec_put_u64(w, "id", (uint64_t)i);
        if (np[i])
            rec_put_u32s(w, "prompt_tokens", prompts[i], np[i]);
        rec_put_u32s(w, "tokens", texts[i], nt[i]);
        rec_end(w);
    }
    rec_finish(w);
    for (int with_eot = 0; with_eot < 2; with_eot++) {
        uint32_t eot = with_eot ? 22 : TOKENS_NO_EOT;
        scorer s;
        scorer_init(&s, m, NULL, eot, 2, true);
        rec_reader *rd = rec_open(in);
        w = rec_create(out, false);
        rec r;
        while (rec_next(rd, &r))
            scorer_add(&s, &r, w);
        scorer_flush(&s, w);
        rec_finish(w);
        rec_close(rd);
        scorer_free(&s);

        model_state *st = model_state_new(m);
        rd = rec_open(out);
        for (int i = 0; rec_next(rd, &r); i++) {
            CHECK_EQ_INT(rec_need_u64(&r, "id"), i);
            uint32_t seq[12];
            size_t n = 0;
            if (with_eot)
                seq[n++] = eot;
            for (size_t k = 0; k < np[i]; k++)
                seq[n++] = prompts[i][k];
            size_t first = n ? n : 1;
            for (size_t k = 0; k < nt[i]; k++)
                seq[n++] = texts[i][k];
            CHECK_EQ_INT(rec_need_u64(&r, "n_tokens"), n - first);
            const msgpack_object *lp = rec_find(&r, "token_logprobs");
            CHECK(lp && lp->type == MSGPACK_OBJECT_ARRAY && lp->via.array.size == n - first);
            model_state_reset(st);
            double sum = 0;
            for (size_t k = 0; k + 1 < n; k++) {
                const float *logits = model_step(m, st, seq[k]);
                if (k + 1 < first || !lp)
                    continue;
                double want = step_logprob(logits, cfg.vocab, seq[k + 1]);
                CHECK_NEAR(lp->via.array.ptr[k + 1 - first].via.f64, want, 1e-4);
                sum += want;
            }
            CHECK_NEAR(rec_need_f64(&r, "logprob"), sum, 1e-3);
            CHECK_NEAR(rec_need_f64(&r, "ppl"), exp(-sum / (double)(n - first)), 1e-3);
        }
        rec_close(rd);
        model_state_free(st);
    }
    model_free(m);
}

static void gpt_scorer_aligns_prompt_and_targets(void) { scorer_aligns_prompt_and_targets("gpt"); }
static void hawk_scorer_aligns_prompt_and_targets(void) { scorer_aligns_prompt_and_targets("hawk"); }

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    make_corpus(in_dir("corpus.mp"));
    RUN(token_stream_cuts_windows_and_wraps);
    RUN(xent_is_the_mean_over_scored_targets);
    RUN(gpt_resume_is_bit_identical);
    RUN(hawk_resume_is_bit_identical);
    RUN(accumulation_matches_one_big_batch);
    RUN(diverged_loss_stops_with_65);
    RUN(sampler_follows_softmax_top_k_and_top_p);
    RUN(generation_stops_at_length_stop_token_and_context);
    RUN(gpt_scorer_aligns_prompt_and_targets);
    RUN(hawk_scorer_aligns_prompt_and_targets);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_done();
}
