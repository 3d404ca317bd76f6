/* Unit tests of the gpt family (lib/model/gpt.c) through the model interface: the logits,
 * loss and every gradient of a tiny GPT-2 against PyTorch (tests/ref/torch_gpt.py wrote
 * tests/ref/gpt/tiny.mp), every gradient against finite differences, incremental
 * inference against the batch forward, GPT-2's initialization, and the errors.  Run from
 * the top of the checkout (as tests/run does), where the fixture's path starts. */
#include <stdint.h>

#include "base/rng.h"
#include "check.h"
#include "gradcheck.h"
#include "model/model.h"
#include "rec/rec.h"

#define FIXTURE "tests/ref/gpt/tiny.mp"

static model *new_gpt(int V, int L, int C, int NH, int context)
{
    model_config cfg = {.arch = "gpt", .vocab = V, .layers = L, .width = C, .heads = NH,
                        .context = context};
    const char *why = model_config_finish(&cfg);
    if (why)
        die(EX_SOFTWARE, "test config: %s", why);
    return model_new(&cfg);
}

/* dL/dlogp of the mean cross-entropy over the targets that are not ignored. */
static void mean_ce_dlogp(float *dlogp, const uint32_t *targets, int n)
{
    int valid = 0;
    for (int i = 0; i < n; i++)
        valid += targets[i] != MODEL_IGNORE;
    for (int i = 0; i < n; i++)
        dlogp[i] = targets[i] != MODEL_IGNORE ? -1.0f / valid : 0.0f;
}

static double mean_ce(const float *logp, const uint32_t *targets, int n)
{
    double sum = 0;
    int valid = 0;
    for (int i = 0; i < n; i++)
        if (targets[i] != MODEL_IGNORE) {
            sum -= logp[i];
            valid++;
        }
    return sum / valid;
}

/* ---- against PyTorch ---- */

/* The reference state of tests/ref/gpt/tiny.mp (see tests/ref/gpt/README.md). */
typedef struct {
    model *m;
    int B, T;
    u32vec tokens, targets;
    double loss;
    float *logits; /* (B, T, V) */
    float *grads;  /* shaped like the gradient slab */
    int n_params;  /* param records read */
} reference;

static void copy_tensor(const rec *r, const char *key, float *dst, const param_info *p)
{
    rec_tensor t;
    if (!rec_get_tensor(r, key, &t) || strcmp(t.dtype, "f32") != 0 || t.ndim != p->ndim ||
        t.nbytes != p->count * sizeof(float))
        rec_fail(r, "%s: expected f32 of %zu values as %s", key, p->count, p->name);
    for (int d = 0; d < p->ndim; d++)
        if ((int64_t)t.shape[d] != p->shape[d])
            rec_fail(r, "%s of %s: shape differs from the model's", key, p->name);
    memcpy(dst, t.data, t.nbytes);
}

/* Record strings are not NUL-terminated. */
static bool str_is(const char *s, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(s, want, len) == 0;
}

static void reference_load(reference *ref)
{
    memset(ref, 0, sizeof *ref);
    rec_reader *in = rec_open(FIXTURE);
    rec r;
    param_set *ps = NULL;
    while (rec_next(in, &r)) {
        size_t len;
        const char *kind = rec_need_str(&r, "kind", &len);
        if (str_is(kind, len, "config")) {
            ref->m = new_gpt((int)rec_need_i64(&r, "vocab"), (int)rec_need_i64(&r, "layers"),
                             (int)rec_need_i64(&r, "width"), (int)rec_need_i64(&r, "heads"),
                             (int)rec_need_i64(&r, "context"));
            CHECK_EQ_INT(model_cfg(ref->m)->mlp, rec_need_i64(&r, "mlp"));
            ref->B = (int)rec_need_i64(&r, "batch");
            ref->T = (int)rec_need_i64(&r, "time");
            ps = model_params(ref->m);
            ref->grads = xcalloc(ps->total, sizeof(float));
        } else if (str_is(kind, len, "batch")) {
            rec_need_u32s(&r, "tokens", UINT32_MAX, &ref->tokens);
            rec_need_u32s(&r, "targets", UINT32_MAX, &ref->targets);
        } else if (str_is(kind, len, "output")) {
            ref->loss = rec_need_f64(&r, "loss");
            rec_tensor t;
            if (!ps || !rec_get_tensor(&r, "logits", &t) || strcmp(t.dtype, "f32") != 0 ||
                t.nbytes != sizeof(float) * ref->B * ref->T * model_cfg(ref->m)->vocab)
                rec_fail(&r, "logits: expected f32 (batch, time, vocab) after the config");
            ref->logits = xmalloc(t.nbytes);
            memcpy(ref->logits, t.data, t.nbytes);
        } else if (str_is(kind, len, "param")) {
            if (!ps)
                rec_fail(&r, "a tensor before the config");
            /* by name; and the model declares the same tensors in the same order */
            char name[PARAM_NAME_MAX];
            const char *s = rec_need_str(&r, "name", &len);
            snprintf(name, sizeof name, "%.*s", (int)len, s);
            int k = param_find(ps, name);
            if (k < 0)
                rec_fail(&r, "the model has no tensor %s", name);
            CHECK_EQ_INT(k, ref->n_params++);
            const param_info *p = &ps->info[k];
            bool decay = false;
            rec_get_bool(&r, "decay", &decay);
            CHECK_EQ_INT(!!(p->flags & PARAM_DECAY), decay);
            copy_tensor(&r, "weight", ps->w + p->offset, p);
            copy_tensor(&r, "grad", ref->grads + p->offset, p);
        }
    }
    rec_close(in);
    CHECK_EQ_INT(ref->n_params, ps->n);
    CHECK_EQ_INT(ref->tokens.n, (size_t)ref->B * ref->T);
    CHECK_EQ_INT(ref->targets.n, (size_t)ref->B * ref->T);
}

static void reference_free(reference *ref)
{
    model_free(ref->m);
    u32vec_free(&ref->tokens);
    u32vec_free(&ref->targets);
    free(ref->logits);
    free(ref->grads);
}

/* Logits within 1e-4 absolute; the loss within 1e-5 relative; each gradient element a
 * (ours) of b (PyTorch's, in float64) within |a - b| <= 1e-3 max(|b|, 1e-4): relative,
 * and absolute at 1e-7 for gradients under 1e-4. */
static void gpt_matches_pytorch_reference(void)
{
    reference ref;
    reference_load(&ref);
    model *m = ref.m;
    int N = ref.B * ref.T, V = model_cfg(m)->vocab;
    model_plan(m, ref.B, ref.T, true);
    float *logp = xmalloc((size_t)N * sizeof *logp), *dlogp = xmalloc((size_t)N * sizeof *dlogp);
    model_forward(m, ref.tokens.v, ref.targets.v, logp);

    double worst = 0;
    const float *logits = model_logits(m);
    for (long i = 0; i < (long)N * V; i++)
        worst = fmax(worst, fabs(logits[i] - ref.logits[i]));
    printf("#   logits: worst absolute error %.3g\n", worst);
    CHECK(worst <= 1e-4);
    double loss = mean_ce(logp, ref.targets.v, N);
    printf("#   loss %.9g, PyTorch %.9g\n", loss, ref.loss);
    CHECK_NEAR(loss, ref.loss, 1e-5 * ref.loss);

    param_set *ps = model_params(m);
    param_zero_grads(ps);
    mean_ce_dlogp(dlogp, ref.targets.v, N);
    model_backward(m, dlogp);
    double worst_all = 0;
    for (int k = 0; k < ps->n; k++) {
        const param_info *p = &ps->info[k];
        const float *a = ps->g + p->offset, *b = ref.grads + p->offset;
        double w = 0;
        for (size_t i = 0; i < p->count; i++)
            w = fmax(w, fabs(a[i] - b[i]) / fmax(fabs(b[i]), 1e-4));
        if (w > 1e-3)
            printf("#   %s: gradient error %.3g\n", p->name, w);
        worst_all = fmax(worst_all, w);
    }
    printf("#   gradients: worst relative error %.3g\n", worst_all);
    CHECK(worst_all <= 1e-3);
    free(logp);
    free(dlogp);
    reference_free(&ref);
}

/* The KV cache: feeding a sequence one token at a time gives the batch forward's logits at
 * every position, and reset starts a new sequence. */
static void gpt_step_reproduces_forward_logits(void)
{
    reference ref;
    reference_load(&ref);
    model *m = ref.m;
    int V = model_cfg(m)->vocab;
    model_plan(m, ref.B, ref.T, false);
    model_forward(m, ref.tokens.v, NULL, NULL);
    const float *logits = model_logits(m);
    model_state *s = model_state_new(m);
    double worst = 0;
    for (int b = 0; b < ref.B; b++) {
        model_state_reset(s);
        for (int t = 0; t < ref.T; t++) {
            const float *step = model_step(m, s, ref.tokens.v[b * ref.T + t]);
            CHECK_EQ_INT(model_state_pos(s), t + 1);
            for (int v = 0; v < V; v++)
                worst = fmax(worst, fabs(step[v] - logits[((long)b * ref.T + t) * V + v]));
        }
    }
    printf("#   worst absolute difference %.3g\n", worst);
    CHECK(worst <= 1e-5);
    model_state_free(s);
    reference_free(&ref);
}

/* ---- finite differences over the whole model ---- */

enum { FD_V = 11, FD_L = 2, FD_C = 8, FD_NH = 2, FD_T = 5, FD_B = 2, FD_N = FD_B * FD_T };

typedef struct {
    model *m;
    uint32_t tokens[FD_N], targets[FD_N];
    float logp[FD_N];
} fd_case;

static double fd_loss(void *ctx)
{
    fd_case *k = ctx;
    model_forward(k->m, k->tokens, k->targets, k->logp);
    return mean_ce(k->logp, k->targets, FD_N);
}

/* Weights well away from GPT-2's small initialization, so that every path (peaked
 * attention, curved gelu, LayerNorm gains) carries gradient worth checking. */
static void randomize(model *m, uint64_t seed)
{
    param_set *ps = model_params(m);
    rng_t r;
    rng_seed(&r, seed);
    for (int k = 0; k < ps->n; k++) {
        const param_info *p = &ps->info[k];
        bool gain = p->ndim == 1 && strstr(p->name, ".weight");
        double mean = gain ? 1.0 : 0.0, std = p->ndim == 1 ? 0.2 : 0.5;
        float *w = param_w(ps, k);
        for (size_t i = 0; i < p->count; i++)
            w[i] = (float)(mean + std * rng_normal(&r));
    }
}

/* Each tensor's gradient (gradcheck.h's error, relative with floor 1e-3, at most 1e-2 at
 * h = 1e-2), the tied wte taking gradient from both its uses, and wpe's rows past T none. */
static void gpt_gradients_match_finite_differences(void)
{
    static fd_case k;
    k.m = new_gpt(FD_V, FD_L, FD_C, FD_NH, FD_T + 2);
    randomize(k.m, 3);
    rng_t r;
    rng_seed(&r, 100);
    for (int i = 0; i < FD_N; i++) {
        k.tokens[i] = (uint32_t)rng_below(&r, FD_V);
        k.targets[i] = (uint32_t)rng_below(&r, FD_V);
    }
    k.targets[2] = MODEL_IGNORE;
    model_plan(k.m, FD_B, FD_T, true);
    param_set *ps = model_params(k.m);
    param_zero_grads(ps);
    float dlogp[FD_N];
    fd_loss(&k);
    mean_ce_dlogp(dlogp, k.targets, FD_N);
    model_backward(k.m, dlogp);
    float *g = xmalloc(ps->total * sizeof *g);
    memcpy(g, ps->g, ps->total * sizeof *g);
    double worst = 0;
    for (int t = 0; t < ps->n; t++) {
        const param_info *p = &ps->info[t];
        worst = fmax(worst, gradcheck(p->name, fd_loss, &k, ps->w + p->offset, g + p->offset,
                                      p->count, 1, 1e-2f, 5e-3));
    }
    CHECK(worst <= 1e-2);
    const float *dwpe = g + ps->info[param_find(ps, "wpe.weight")].offset;
    for (int i = FD_T * FD_C; i < (FD_T + 2) * FD_C; i++)
        CHECK(dwpe[i] == 0.0f);
    free(g);
    model_free(k.m);
}

/* ---- plans, determinism, initialization, errors ---- */

/* Inference plans share one block's activations between the blocks; the logits must not
 * change, and two training passes give bit-identical gradients. */
static void gpt_inference_plan_and_repeated_training_agree(void)
{
    enum { V = 37, B = 3, T = 9 };
    model *m = new_gpt(V, 3, 16, 4, 12);
    randomize(m, 5);
    uint32_t tokens[B * T], targets[B * T];
    rng_t r;
    rng_seed(&r, 6);
    for (int i = 0; i < B * T; i++) {
        tokens[i] = (uint32_t)rng_below(&r, V);
        targets[i] = (uint32_t)rng_below(&r, V);
    }
    float *train = xmalloc(sizeof(float) * B * T * V), dlogp[B * T];
    param_set *ps = model_params(m);
    model_plan(m, B, T, true);
    model_forward(m, tokens, targets, NULL);
    memcpy(train, model_logits(m), sizeof(float) * B * T * V);
    mean_ce_dlogp(dlogp, targets, B * T);
    param_zero_grads(ps);
    model_backward(m, dlogp);
    float *g1 = xmalloc(ps->total * sizeof(float));
    memcpy(g1, ps->g, ps->total * sizeof(float));
    model_forward(m, tokens, targets, NULL);
    param_zero_grads(ps);
    model_backward(m, dlogp);
    CHECK(memcmp(g1, ps->g, ps->total * sizeof(float)) == 0);

    model_plan(m, B, T, false);
    model_forward(m, tokens, NULL, NULL);
    CHECK(memcmp(train, model_logits(m), sizeof(float) * B * T * V) == 0);
    free(train);
    free(g1);
    model_free(m);
}

static double std_of(const float *x, size_t n)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        s2 += (double)x[i] * x[i];
    }
    return sqrt(s2 / n - (s / n) * (s / n));
}

/* GPT-2's scheme on config S: std 0.02, the residual projections 0.02/sqrt(2L), wpe 0.01
 * (each estimated from at least 16384 draws: within 3%); gains 1, biases 0; the same seed
 * gives the same weights. */
static void gpt_init_follows_gpt2(void)
{
    model_config cfg;
    CHECK(model_config_named(&cfg, "gpt", "S"));
    CHECK(model_config_finish(&cfg) == NULL);
    model *a = model_new(&cfg), *b = model_new(&cfg);
    model_init(a, 7);
    model_init(b, 7);
    param_set *ps = model_params(a);
    CHECK(memcmp(ps->w, model_params(b)->w, ps->total * sizeof(float)) == 0);
    model_init(b, 8);
    CHECK(memcmp(ps->w, model_params(b)->w, ps->total * sizeof(float)) != 0);
    double proj = 0.02 / sqrt(2.0 * cfg.layers);
    for (int k = 0; k < ps->n; k++) {
        const param_info *p = &ps->info[k];
        const float *w = param_w(ps, k);
        if (p->ndim == 2) {
            double want = strcmp(p->name, "wpe.weight") == 0 ? 0.01
                          : strstr(p->name, "c_proj") ? proj : 0.02;
            CHECK_NEAR(std_of(w, p->count), want, 0.03 * want);
        } else {
            float want = strstr(p->name, ".weight") ? 1.0f : 0.0f;
            for (size_t i = 0; i < p->count; i++)
                CHECK(w[i] == want);
        }
    }
    model_free(a);
    model_free(b);
}

static void gpt_rejects_bad_tokens_and_overlong_sequences(void)
{
    model *m = new_gpt(5, 1, 8, 2, 3);
    model_init(m, 1);
    uint32_t tokens[3] = {1, 2, 5}, targets[3] = {0, 1, 2};
    model_plan(m, 1, 3, false);
    EXPECT_DIE(EX_DATAERR, model_forward(m, tokens, targets, NULL));
    tokens[2] = 4;
    targets[1] = 7;
    EXPECT_DIE(EX_DATAERR, model_forward(m, tokens, targets, NULL));
    float dlogp[3] = {0};
    EXPECT_DIE(EX_SOFTWARE, model_backward(m, dlogp)); /* an inference plan */
    EXPECT_DIE(EX_DATAERR, model_plan(m, 1, 4, false));
    model_state *s = model_state_new(m);
    for (int t = 0; t < 3; t++)
        model_step(m, s, tokens[t]);
    EXPECT_DIE(EX_DATAERR, model_step(m, s, 0));
    model_state_reset(s);
    CHECK_EQ_INT(model_state_pos(s), 0);
    model_step(m, s, 0);
    model_state_free(s);
    model_free(m);
}

int main(void)
{
    RUN(gpt_matches_pytorch_reference);
    RUN(gpt_step_reproduces_forward_logits);
    RUN(gpt_gradients_match_finite_differences);
    RUN(gpt_inference_plan_and_repeated_training_agree);
    RUN(gpt_init_follows_gpt2);
    RUN(gpt_rejects_bad_tokens_and_overlong_sequences);
    return check_done();
}
