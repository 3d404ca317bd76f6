/* Unit tests of DPO and SFT (train/dpo, train/sft, train/batch): the DPO loss, rewards and
 * gradients against PyTorch (tests/ref/dpo/torch_dpo.py wrote tests/ref/dpo/tiny.mp), with
 * LoRA adapters and for full training; the loss by hand (z = 0, label smoothing, padding
 * pairs); how examples become rows and the errors in them; and, on a small preference
 * task, DPO raising held-out preference accuracy well above chance and SFT lowering the
 * loss of the chosen answers.  Run from the top of the checkout. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rng.h"
#include "base/threads.h"
#include "check.h"
#include "model/adapter.h"
#include "model/model.h"
#include "rec/rec.h"
#include "train/batch.h"
#include "train/dpo.h"
#include "train/sft.h"
#include "train/train.h"

#define FIXTURE "tests/ref/dpo/tiny.mp"

static char dir[] = "/tmp/test_dpo.XXXXXX";

static const char *in_dir(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static bool kind_is(const rec *r, const char *kind)
{
    const char *s;
    size_t len;
    return rec_get_str(r, "kind", &s, &len) && len == strlen(kind) && memcmp(s, kind, len) == 0;
}

/* ---- against PyTorch ---- */

typedef struct {
    model_config cfg;
    int B, T, rank;
    double alpha, beta, smoothing;
    u32vec tokens, targets;
    double loss[2], ref[2][6], rewards[2][6]; /* [0] lora, [1] full */
} fixture;

static void read_doubles(const rec *r, const char *key, double *out, int n)
{
    const msgpack_object *o = rec_find(r, key);
    if (!o || o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != (uint32_t)n)
        rec_fail(r, "%s: expected an array of %d numbers", key, n);
    for (int i = 0; i < n; i++)
        out[i] = o->via.array.ptr[i].via.f64;
}

/* Copy the tensor under key into the named tensor of ps (its shape checked). */
static void copy_named(const rec *r, const char *key, param_set *ps, float *slab)
{
    size_t len;
    const char *s = rec_need_str(r, "name", &len);
    char name[PARAM_NAME_MAX];
    snprintf(name, sizeof name, "%.*s", (int)len, s);
    int k = param_find(ps, name);
    rec_tensor t;
    if (k < 0 || !rec_get_tensor(r, key, &t) || strcmp(t.dtype, "f32") != 0 ||
        t.nbytes != ps->info[k].count * sizeof(float))
        rec_fail(r, "%s of %s: no such tensor, or not f32 of its size", key, name);
    memcpy(slab + ps->info[k].offset, t.data, t.nbytes);
}

/* The config, batch and cases; then the tensors into m (and into the adapters when a is
 * not NULL), their reference gradients into grads (shaped like the set they go to). */
static void load(fixture *f, model **m, bool lora, adapter **a, float **grads)
{
    rec_reader *in = rec_open(FIXTURE);
    rec r;
    memset(f, 0, sizeof *f);
    while (rec_next(in, &r)) {
        if (kind_is(&r, "config")) {
            f->cfg = (model_config){.arch = "gpt", .vocab = (int)rec_need_i64(&r, "vocab"),
                                    .layers = (int)rec_need_i64(&r, "layers"),
                                    .width = (int)rec_need_i64(&r, "width"),
                                    .heads = (int)rec_need_i64(&r, "heads"),
                                    .context = (int)rec_need_i64(&r, "context")};
            CHECK(model_config_finish(&f->cfg) == NULL);
            CHECK_EQ_INT(f->cfg.mlp, rec_need_i64(&r, "mlp"));
            f->B = (int)rec_need_i64(&r, "rows");
            f->T = (int)rec_need_i64(&r, "time");
            f->rank = (int)rec_need_i64(&r, "rank");
            f->alpha = rec_need_f64(&r, "alpha");
            f->beta = rec_need_f64(&r, "beta");
            f->smoothing = rec_need_f64(&r, "label_smoothing");
            *m = model_new(&f->cfg);
        } else if (kind_is(&r, "batch")) {
            rec_need_u32s(&r, "tokens", UINT32_MAX, &f->tokens);
            rec_need_u32s(&r, "targets", UINT32_MAX, &f->targets);
        } else if (kind_is(&r, "lora") || kind_is(&r, "full")) {
            int c = kind_is(&r, "full");
            f->loss[c] = rec_need_f64(&r, "loss");
            read_doubles(&r, "ref", f->ref[c], f->B);
            read_doubles(&r, "rewards", f->rewards[c], f->B);
        } else if (kind_is(&r, "param")) {
            param_set *ps = model_params(*m);
            copy_named(&r, "weight", ps, ps->w);
            if (!lora) {
                if (!*grads)
                    *grads = xcalloc(ps->total, sizeof **grads);
                copy_named(&r, "grad", ps, *grads);
            }
        } else if (kind_is(&r, "adapter") && lora) {
            if (!*a) /* the base is whole: adapt it */
                *a = adapter_new(*m, &(adapter_config){.lora = {.rank = f->rank,
                                                                .alpha = f->alpha,
                                                                .targets = LORA_ALL}});
            param_set *ps = &(*a)->lora->params;
            if (!*grads)
                *grads = xcalloc(ps->total, sizeof **grads);
            copy_named(&r, "weight", ps, ps->w);
            copy_named(&r, "grad", ps, *grads);
        }
    }
    rec_close(in);
    CHECK_EQ_INT(f->tokens.n, (size_t)f->B * f->T);
}

/* Loss within 1e-6 relative, rewards within 1e-5 absolute, every gradient element within
 * 1e-3 relative (1e-7 absolute below 1e-4), as the model's own test against PyTorch. */
static void dpo_matches_pytorch(bool lora)
{
    fixture f;
    model *m = NULL;
    adapter *a = NULL;
    float *want = NULL;
    load(&f, &m, lora, &a, &want);
    int c = !lora, B = f.B, T = f.T;
    param_set *ps = lora ? &a->lora->params : model_params(m);
    model_plan(m, B, T, true);
    param_alloc_grads(ps);
    param_zero_grads(ps);
    dpo d;
    dpo_init(&d, f.beta, f.smoothing, B);
    for (int i = 0; i < B; i++)
        d.ref_rows[i] = f.ref[c][i];
    float *logp = xmalloc((size_t)B * T * sizeof *logp), *dlogp = xmalloc((size_t)B * T * sizeof *dlogp);
    model_forward(m, f.tokens.v, f.targets.v, logp);
    double loss = dpo_loss_fn(&d, f.tokens.v, f.targets.v, logp, dlogp, B, T);
    printf("#   %s: loss %.9g, PyTorch %.9g\n", lora ? "lora" : "full", loss, f.loss[c]);
    CHECK_NEAR(loss, f.loss[c], 1e-6 * f.loss[c]);
    double chosen = 0, rejected = 0, margin = 0, acc = 0;
    for (int p = 0; p < B / 2; p++) {
        chosen += f.rewards[c][2 * p] / (B / 2);
        rejected += f.rewards[c][2 * p + 1] / (B / 2);
        margin += (f.rewards[c][2 * p] - f.rewards[c][2 * p + 1]) / (B / 2);
        acc += (f.rewards[c][2 * p] > f.rewards[c][2 * p + 1]) / (double)(B / 2);
    }
    CHECK_NEAR(d.stats[0], acc, 1e-12);
    CHECK_NEAR(d.stats[1], margin, 1e-5);
    CHECK_NEAR(d.stats[2], chosen, 1e-5);
    CHECK_NEAR(d.stats[3], rejected, 1e-5);
    model_backward(m, dlogp);
    double worst = 0;
    for (int k = 0; k < ps->n; k++) {
        const param_info *p = &ps->info[k];
        for (size_t i = 0; i < p->count; i++) {
            double g = ps->g[p->offset + i], w = want[p->offset + i];
            worst = fmax(worst, fabs(g - w) / fmax(fabs(w), 1e-4));
        }
    }
    printf("#   %s: gradients' worst relative error %.3g over %d tensors\n",
           lora ? "lora" : "full", worst, ps->n);
    CHECK(worst <= 1e-3);
    free(logp);
    free(dlogp);
    free(want);
    dpo_free(&d);
    u32vec_free(&f.tokens);
    u32vec_free(&f.targets);
    adapter_free(a);
    model_free(m);
}

static void dpo_with_lora_matches_pytorch(void) { dpo_matches_pytorch(true); }
static void full_dpo_matches_pytorch(void) { dpo_matches_pytorch(false); }

/* ---- the loss by hand ---- */

/* Two pairs of rows of T = 2 and a padding pair: z = 0 gives log 2 and dL/dz = -1/2; a
 * pair ahead by margin m gives log(1 + e^-m); smoothing mixes in the flipped label. */
static void dpo_loss_by_hand(void)
{
    enum { B = 6, T = 2 };
    uint32_t targets[B * T] = {1, 2, 3, MODEL_IGNORE, 1, MODEL_IGNORE, 2, MODEL_IGNORE,
                               MODEL_IGNORE, MODEL_IGNORE, MODEL_IGNORE, MODEL_IGNORE};
    float logp[B * T] = {-1, -2, -1, 0, -0.5f, 0, -2.5f, 0, 0, 0, 0, 0}, dlogp[B * T];
    dpo d;
    dpo_init(&d, 2.0, 0.0, B);
    /* pair 0: policy -3 vs -1, reference -3 vs -1: z = 0
     * pair 1: policy -0.5 vs -2.5, reference -1 vs -1: z = 2 (2 - 0) = 4 */
    double ref[B] = {-3, -1, -1, -1, 0, 0};
    memcpy(d.ref_rows, ref, sizeof ref);
    double loss = dpo_loss_fn(&d, NULL, targets, logp, dlogp, B, T);
    CHECK_NEAR(loss, (log(2.0) + log1p(exp(-4.0))) / 2, 1e-12);
    CHECK_NEAR(dlogp[0], 2.0 * -0.5 / 2, 1e-7); /* beta dL/dz / pairs */
    CHECK_NEAR(dlogp[1], dlogp[0], 0);
    CHECK_NEAR(dlogp[2], -dlogp[0], 0);
    CHECK(dlogp[3] == 0.0f && dlogp[8] == 0.0f); /* ignored, padding */
    CHECK_NEAR(dlogp[4], 2.0 * -1 / (1 + exp(4.0)) / 2, 1e-7);
    CHECK_NEAR(d.stats[0], 0.5, 1e-12); /* z = 0 is no win */
    CHECK_NEAR(d.stats[1], 2.0, 1e-12);
    CHECK_NEAR(d.stats[2], (0 + 2 * 0.5) / 2, 1e-12);
    CHECK_NEAR(d.stats[3], (0 + 2 * -1.5) / 2, 1e-12);
    d.smoothing = 0.25;
    loss = dpo_loss_fn(&d, NULL, targets, logp, dlogp, B, T);
    CHECK_NEAR(loss, (log(2.0) + 0.75 * log1p(exp(-4.0)) + 0.25 * log1p(exp(4.0))) / 2,
               1e-12);
    CHECK_NEAR(dlogp[0], 2.0 * (-0.75 * 0.5 + 0.25 * 0.5) / 2, 1e-7);
    dpo_free(&d);
}

/* ---- examples into rows ---- */

/* Records of token ids: each a prompt and the answers under keys[1 ..]. */
static void write_examples(const char *path, int n, const char *const *keys, int parts,
                           const uint32_t *const *ids, const size_t *lens)
{
    rec_writer *w = rec_create(path, false);
    for (int i = 0; i < n; i++) {
        rec_begin(w);
        for (int j = 0; j < parts; j++) {
            char key[64];
            snprintf(key, sizeof key, "%s_tokens", keys[j]);
            rec_put_u32s(w, key, ids[i * parts + j], lens[i * parts + j]);
        }
        rec_end(w);
    }
    rec_finish(w);
}

static const char *const SFT_KEYS[] = {"prompt", "response"};
static const char *const DPO_KEYS[] = {"prompt", "chosen", "rejected"};

/* [9 1 2 | 3 4 5 9] and [9 6 | 7 9] with end-of-text 9: the prompt's targets ignored,
 * rows padded; T = 3 cuts the first; T = 2 leaves its prompt no room (exit 65). */
static void examples_become_rows_with_the_prompt_ignored(void)
{
    const char *p = in_dir("sft.mp");
    write_examples(p, 2, SFT_KEYS, 2,
                   (const uint32_t *[]){(uint32_t[]){1, 2}, (uint32_t[]){3, 4, 5},
                                        (uint32_t[]){6}, (uint32_t[]){7}},
                   (size_t[]){2, 3, 1, 1});
    seq_source s;
    seq_format f = {.vocab = 10, .eot = 9, .context = 8};
    sft_load(&s, p, &f, 1);
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_INT(s.longest, 7);
    CHECK_EQ_INT(s.base.tokens, 11);
    enum { I = MODEL_IGNORE };
    uint32_t tok[4 * 6], tgt[4 * 6];
    seq_source_fit(&s, 6);
    CHECK_EQ_INT(s.truncated, 0);
    CHECK_EQ_INT(s.base.count(&s.base, 4), 1);
    CHECK_EQ_INT(s.base.get(&s.base, 0, 4, 6, tok, tgt), 2);
    static const uint32_t want_tok[4 * 6] = {9, 1, 2, 3, 4, 5, 9, 6, 7, 0, 0, 0},
                          want_tgt[4 * 6] = {I, I, 3, 4, 5, 9, I, 7, 9, I, I, I,
                                             I, I, I, I, I, I, I, I, I, I, I, I};
    CHECK(memcmp(tok, want_tok, sizeof tok) == 0);
    CHECK(memcmp(tgt, want_tgt, sizeof tgt) == 0);
    seq_source_fit(&s, 3);
    CHECK_EQ_INT(s.truncated, 1);
    s.base.get(&s.base, 0, 2, 3, tok, tgt);
    static const uint32_t cut_tgt[6] = {I, I, 3, I, 7, 9};
    CHECK(memcmp(tgt, cut_tgt, sizeof cut_tgt) == 0);
    EXPECT_DIE(EX_DATAERR, seq_source_fit(&s, 2));
    /* training: each epoch takes every example once, in a shuffled order */
    int seen[2] = {0, 0};
    for (int k = 0; k < 6; k++) {
        s.base.next(&s.base, 1, 3, tok, tgt);
        seen[s.last[0]]++;
    }
    CHECK_EQ_INT(seen[0], 3);
    CHECK_EQ_INT(seen[1], 3);
    seq_source_free(&s);
}

/* A pair's two sequences share a batch, chosen first. */
static void pairs_fill_adjacent_rows(void)
{
    const char *p = in_dir("pairs.mp");
    write_examples(p, 1, DPO_KEYS, 3,
                   (const uint32_t *[]){(uint32_t[]){1}, (uint32_t[]){2}, (uint32_t[]){3, 4}},
                   (size_t[]){1, 1, 2});
    seq_source s;
    seq_format f = {.vocab = 10, .eot = TOKENS_NO_EOT};
    seq_source_load(&s, p, 2, DPO_KEYS, &f, 1);
    CHECK_EQ_INT(s.longest, 3);
    seq_source_fit(&s, 2);
    uint32_t tok[4], tgt[4];
    s.base.next(&s.base, 2, 2, tok, tgt);
    static const uint32_t want_tok[4] = {1, 0, 1, 3}, want_tgt[4] = {2, MODEL_IGNORE, 3, 4};
    CHECK(memcmp(tok, want_tok, sizeof tok) == 0);
    CHECK(memcmp(tgt, want_tgt, sizeof tgt) == 0);
    EXPECT_DIE(EX_SOFTWARE, s.base.next(&s.base, 3, 2, tok, tgt)); /* half a pair */
    seq_source_free(&s);
}

/* Each dies with exit 65, and the source it left half-loaded frees cleanly. */
static void bad_examples_exit_65(void)
{
    seq_source s;
    seq_format f = {.vocab = 10, .eot = 9, .context = 3};
    const char *p = in_dir("bad.mp");
    /* no rejected answer */
    write_examples(p, 1, DPO_KEYS, 2, (const uint32_t *[]){(uint32_t[]){1}, (uint32_t[]){2}},
                   (size_t[]){1, 1});
    EXPECT_DIE(EX_DATAERR, seq_source_load(&s, p, 2, DPO_KEYS, &f, 1));
    seq_source_free(&s);
    /* an empty response */
    write_examples(p, 1, SFT_KEYS, 2, (const uint32_t *[]){(uint32_t[]){1}, (uint32_t[]){0}},
                   (size_t[]){1, 0});
    EXPECT_DIE(EX_DATAERR, sft_load(&s, p, &f, 1));
    seq_source_free(&s);
    /* a prompt longer than the context: <|endoftext|> and 3 tokens in a context of 3 */
    write_examples(p, 1, SFT_KEYS, 2,
                   (const uint32_t *[]){(uint32_t[]){1, 2, 3}, (uint32_t[]){4}},
                   (size_t[]){3, 1});
    EXPECT_DIE(EX_DATAERR, sft_load(&s, p, &f, 1));
    seq_source_free(&s);
    /* a token outside the vocabulary */
    write_examples(p, 1, SFT_KEYS, 2, (const uint32_t *[]){(uint32_t[]){1}, (uint32_t[]){10}},
                   (size_t[]){1, 1});
    EXPECT_DIE(EX_DATAERR, sft_load(&s, p, &f, 1));
    seq_source_free(&s);
    /* text, and no tokenizer to encode it */
    rec_writer *w = rec_create(p, false);
    rec_begin(w);
    rec_put_cstr(w, "prompt", "hello");
    rec_put_cstr(w, "response", "world");
    rec_end(w);
    rec_finish(w);
    EXPECT_DIE(EX_DATAERR, sft_load(&s, p, &f, 1));
    seq_source_free(&s);
    /* nothing at all */
    rec_finish(rec_create(p, false));
    EXPECT_DIE(EX_DATAERR, sft_load(&s, p, &f, 1));
    seq_source_free(&s);
}

/* ---- a small preference task ---- */

/* Prompts of three tokens from 1..8; the chosen answer repeats the prompt's first token
 * twice, the rejected one is two other tokens.  End-of-text is 11. */
enum { TV = 12, TEOT = 11 };

static void write_task(const char *path, int n, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    rec_writer *w = rec_create(path, false);
    for (int i = 0; i < n; i++) {
        uint32_t prompt[3], chosen[2], rejected[2];
        for (int j = 0; j < 3; j++)
            prompt[j] = 1 + (uint32_t)rng_below(&r, 8);
        chosen[0] = chosen[1] = prompt[0];
        for (int j = 0; j < 2; j++)
            do
                rejected[j] = 1 + (uint32_t)rng_below(&r, 8);
            while (rejected[j] == prompt[0]);
        rec_begin(w);
        rec_put_u32s(w, "prompt_tokens", prompt, 3);
        rec_put_u32s(w, "chosen_tokens", chosen, 2);
        rec_put_u32s(w, "response_tokens", chosen, 2);
        rec_put_u32s(w, "rejected_tokens", rejected, 2);
        rec_end(w);
    }
    rec_finish(w);
}

static model *task_model(void)
{
    model_config cfg = {.arch = "gpt", .vocab = TV, .layers = 2, .width = 32, .heads = 2,
                        .context = 8};
    CHECK(model_config_finish(&cfg) == NULL);
    model *m = model_new(&cfg);
    model_init(m, 1);
    return m;
}

static const train_hparams task_h = {
    .batch = 16, .seq_len = 6, .accum = 1, .steps = 150, .lr = 1e-2, .min_lr = 1e-3,
    .clip = 1.0, .adam = {.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8}, .seed = 1,
    .eot = TEOT, .log_every = 1,
};

/* The mean of the loss and of stat (or -1: none) over the validation source. */
static double held_out(trainer *t, batch_source *val, const double *stat, double *stat_mean)
{
    int B = t->h.batch, T = t->h.seq_len;
    double loss = 0, s = 0, n = 0;
    for (uint64_t k = 0; k < val->count(val, B); k++) {
        int e = val->get(val, k, B, T, t->tokens, t->targets);
        model_forward(t->m, t->tokens, t->targets, t->logp);
        loss += e * t->loss.fn(t->loss.ctx, t->tokens, t->targets, t->logp, t->dlogp, B, T);
        s += stat ? e * *stat : 0;
        n += e;
    }
    if (stat_mean)
        *stat_mean = s / n;
    return loss / n;
}

/* DPO with LoRA (rank 4) on 256 pairs: the implicit-reward accuracy on 128 held-out pairs
 * goes from 0 (policy = reference: every reward is 0) to over 0.9. */
static void dpo_learns_the_preference_on_held_out_pairs(void)
{
    write_task(in_dir("task.mp"), 256, 1);
    write_task(in_dir("task_val.mp"), 128, 2);
    model *m = task_model();
    adapter *a = adapter_new(m, &(adapter_config){.lora = {.rank = 4, .alpha = 8,
                                                            .targets = LORA_ALL}});
    lora_init(a->lora, 3);
    seq_format f = {.vocab = TV, .eot = TEOT, .context = 8};
    dpo d;
    dpo_init(&d, 0.5, 0.0, task_h.batch);
    dpo_source train, val;
    dpo_source_load(&train, &d, in_dir("task.mp"), &f, 4);
    dpo_source_load(&val, &d, in_dir("task_val.mp"), &f, 4);
    seq_source_fit(&train.seqs, task_h.seq_len);
    seq_source_fit(&val.seqs, task_h.seq_len);
    trainer t;
    trainer_init(&t, m, &task_h, dpo_loss(&d), NULL);
    t.batches = &train.base;
    trainer_learn(&t, &a->lora->params);
    dpo_reference(&train, &t);
    dpo_reference(&val, &t);
    double before, after;
    double loss0 = held_out(&t, &val.base, &d.stats[0], &before);
    while (t.step < task_h.steps)
        train_step(&t);
    double loss1 = held_out(&t, &val.base, &d.stats[0], &after);
    printf("#   held-out reward accuracy %.3f -> %.3f, DPO loss %.4f -> %.4f\n", before, after,
           loss0, loss1);
    CHECK_NEAR(loss0, log(2.0), 1e-6);
    CHECK(after > 0.9);
    trainer_free(&t);
    dpo_source_free(&train);
    dpo_source_free(&val);
    dpo_free(&d);
    adapter_free(a);
    model_free(m);
}

/* SFT on the chosen answers (full fine-tuning) cuts their held-out loss by more than half. */
static void sft_lowers_the_loss_of_chosen_answers(void)
{
    model *m = task_model();
    seq_format f = {.vocab = TV, .eot = TEOT, .context = 8};
    seq_source train, val;
    sft_load(&train, in_dir("task.mp"), &f, 4);
    sft_load(&val, in_dir("task_val.mp"), &f, 4);
    seq_source_fit(&train, task_h.seq_len);
    seq_source_fit(&val, task_h.seq_len);
    trainer t;
    trainer_init(&t, m, &task_h, sft_loss(), NULL);
    t.batches = &train.base;
    double before = held_out(&t, &val.base, NULL, NULL);
    while (t.step < task_h.steps)
        train_step(&t);
    double after = held_out(&t, &val.base, NULL, NULL);
    printf("#   held-out loss of the chosen answers %.4f -> %.4f\n", before, after);
    CHECK(after < 0.5 * before);
    trainer_free(&t);
    seq_source_free(&train);
    seq_source_free(&val);
    model_free(m);
}

int main(void)
{
    /* One thread: the trainings below take many tiny steps, whose parallel regions only
     * cost time (and much of it on a busy machine); nothing here depends on the count. */
    threads_init(1);
    if (!mkdtemp(dir))
        die(EX_IOERR, "cannot make %s", dir);
    RUN(dpo_with_lora_matches_pytorch);
    RUN(full_dpo_matches_pytorch);
    RUN(dpo_loss_by_hand);
    RUN(examples_become_rows_with_the_prompt_ignored);
    RUN(pairs_fill_adjacent_rows);
    RUN(bad_examples_exit_65);
    RUN(dpo_learns_the_preference_on_held_out_pairs);
    RUN(sft_lowers_the_loss_of_chosen_answers);
    return check_done();
}
