/* Unit tests of the hawk model (lib/model/hawk.c) through the model interface.
 *
 * The reference state tests/ref/hawk/tiny.mp, written by tests/ref/torch_hawk.py (an
 * independent PyTorch implementation, in float64), pins the definition: with its weights,
 * the logits must agree within 1e-4 absolute and every parameter's gradient of the mean
 * cross-entropy within 1e-3 relative, where the relative error of a tensor is
 *     max_j |g_j - ref_j| / max_j |ref_j|
 * (the error of the worst element against the tensor's largest reference gradient).
 * Finite differences check the gradients of a freshly initialized model as well, and
 * stepping token by token must give the batched forward's logits. */
#include <stdint.h>

#include "base/rng.h"
#include "check.h"
#include "gradcheck.h"
#include "model/model.h"
#include "rec/rec.h"

#define FIXTURE "tests/ref/hawk/tiny.mp"

/* ---- the reference state ---- */

typedef struct {
    char name[PARAM_NAME_MAX];
    bool decay;
    int ndim;
    int64_t shape[PARAM_MAX_DIMS];
    size_t count;
    float *value;
} ref_tensor;

enum { REF_MAX_TENSORS = 256 };

typedef struct {
    model_config cfg;
    int B, T;
    u32vec tokens, targets;              /* (B, T) */
    ref_tensor param[REF_MAX_TENSORS];   /* in declaration order */
    ref_tensor grad[REF_MAX_TENSORS];
    int n_param, n_grad;
    float *logits;                       /* (B, T, V) */
    double loss;
} reference;

static bool kind_is(const char *kind, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(kind, want, len) == 0;
}

static void read_tensor(ref_tensor *t, const rec *r, bool named)
{
    memset(t, 0, sizeof *t);
    if (named) {
        size_t len;
        const char *name = rec_need_str(r, "name", &len);
        if (len >= sizeof t->name)
            rec_fail(r, "tensor name too long");
        memcpy(t->name, name, len);
        rec_get_bool(r, "decay", &t->decay);
    }
    rec_tensor rt;
    if (!rec_get_tensor(r, "value", &rt) || strcmp(rt.dtype, "f32") != 0 ||
        rt.ndim > PARAM_MAX_DIMS)
        rec_fail(r, "expected an f32 tensor under \"value\"");
    t->ndim = rt.ndim;
    t->count = rt.nbytes / sizeof(float);
    for (int k = 0; k < rt.ndim; k++)
        t->shape[k] = (int64_t)rt.shape[k];
    t->value = xmalloc(rt.nbytes);
    memcpy(t->value, rt.data, rt.nbytes); /* little-endian floats, as the host's */
}

static void reference_load(reference *ref)
{
    memset(ref, 0, sizeof *ref);
    rec_reader *in = rec_open(FIXTURE);
    rec r;
    while (rec_next(in, &r)) {
        size_t len;
        const char *kind = rec_need_str(&r, "kind", &len);
        if (kind_is(kind, len, "config")) {
            const char *arch = rec_need_str(&r, "arch", &len);
            snprintf(ref->cfg.arch, sizeof ref->cfg.arch, "%.*s", (int)len, arch);
            ref->cfg.vocab = (int)rec_need_i64(&r, "vocab");
            ref->cfg.layers = (int)rec_need_i64(&r, "layers");
            ref->cfg.width = (int)rec_need_i64(&r, "width");
            ref->cfg.lru = (int)rec_need_i64(&r, "lru");
            ref->cfg.mlp = (int)rec_need_i64(&r, "mlp");
            ref->cfg.conv = (int)rec_need_i64(&r, "conv");
            ref->cfg.context = (int)rec_need_i64(&r, "context");
        } else if (kind_is(kind, len, "batch")) {
            ref->B = (int)rec_need_i64(&r, "batch");
            ref->T = (int)rec_need_i64(&r, "time");
            rec_need_u32s(&r, "tokens", UINT32_MAX, &ref->tokens);
            rec_need_u32s(&r, "targets", UINT32_MAX, &ref->targets);
        } else if (kind_is(kind, len, "param") && ref->n_param < REF_MAX_TENSORS) {
            read_tensor(&ref->param[ref->n_param++], &r, true);
        } else if (kind_is(kind, len, "grad") && ref->n_grad < REF_MAX_TENSORS) {
            read_tensor(&ref->grad[ref->n_grad++], &r, true);
        } else if (kind_is(kind, len, "logits")) {
            ref_tensor t;
            read_tensor(&t, &r, false);
            ref->logits = t.value;
        } else if (kind_is(kind, len, "loss")) {
            ref->loss = rec_need_f64(&r, "loss");
        }
    }
    rec_close(in);
    if (model_config_finish(&ref->cfg) || !ref->logits || ref->n_param == 0 ||
        ref->n_grad != ref->n_param || ref->tokens.n != (size_t)ref->B * ref->T ||
        ref->targets.n != ref->tokens.n)
        die(EX_DATAERR, "%s: incomplete reference state", FIXTURE);
}

static void reference_free(reference *ref)
{
    for (int k = 0; k < ref->n_param; k++)
        free(ref->param[k].value);
    for (int k = 0; k < ref->n_grad; k++)
        free(ref->grad[k].value);
    free(ref->logits);
    u32vec_free(&ref->tokens);
    u32vec_free(&ref->targets);
}

/* A model with the reference's weights, planned for its batch. */
static model *reference_model(const reference *ref)
{
    model *m = model_new(&ref->cfg);
    param_set *ps = model_params(m);
    for (int k = 0; k < ref->n_param; k++) {
        int i = param_find(ps, ref->param[k].name);
        if (i < 0 || ps->info[i].count != ref->param[k].count)
            die(EX_DATAERR, "%s: tensor %s does not fit the model", FIXTURE,
                ref->param[k].name);
        memcpy(param_w(ps, i), ref->param[k].value, ref->param[k].count * sizeof(float));
    }
    model_plan(m, ref->B, ref->T, true);
    return m;
}

/* Mean cross-entropy of the targets: forward, and dlogp = -1/N for backward. */
static double mean_cross_entropy(model *m, const uint32_t *tokens, const uint32_t *targets,
                                 float *logp, float *dlogp, int N)
{
    model_forward(m, tokens, targets, logp);
    double loss = 0;
    for (int n = 0; n < N; n++) {
        loss -= logp[n];
        dlogp[n] = -1.0f / N;
    }
    return loss / N;
}

static void hawk_declares_the_reference_tensors_in_order(void)
{
    reference ref;
    reference_load(&ref);
    model *m = model_new(&ref.cfg);
    const param_set *ps = model_params(m);
    CHECK_EQ_INT(ps->n, ref.n_param);
    for (int k = 0; k < ps->n && k < ref.n_param; k++) {
        const param_info *p = &ps->info[k];
        const ref_tensor *t = &ref.param[k];
        CHECK_STR(p->name, t->name);
        CHECK_EQ_INT(p->ndim, t->ndim);
        for (int d = 0; d < p->ndim; d++)
            CHECK_EQ_INT(p->shape[d], t->shape[d]);
        CHECK_EQ_INT(!!(p->flags & PARAM_DECAY), t->decay);
    }
    model_free(m);
    reference_free(&ref);
}

static void hawk_matches_the_torch_reference(void)
{
    reference ref;
    reference_load(&ref);
    model *m = reference_model(&ref);
    param_set *ps = model_params(m);
    int N = ref.B * ref.T, V = ref.cfg.vocab;
    float *logp = xmalloc(N * sizeof *logp), *dlogp = xmalloc(N * sizeof *dlogp);
    double loss = mean_cross_entropy(m, ref.tokens.v, ref.targets.v, logp, dlogp, N);

    double logit_err = 0;
    const float *logits = model_logits(m);
    for (int i = 0; i < N * V; i++)
        logit_err = fmax(logit_err, fabs((double)logits[i] - ref.logits[i]));
    printf("#   logits: max abs error %.3g; loss %.9g vs %.9g\n", logit_err, loss, ref.loss);
    CHECK(logit_err <= 1e-4);
    CHECK_NEAR(loss, ref.loss, 1e-5);

    param_zero_grads(ps);
    model_backward(m, dlogp);
    double worst = 0;
    const char *worst_name = "";
    for (int k = 0; k < ref.n_grad; k++) {
        const ref_tensor *t = &ref.grad[k];
        int i = param_find(ps, t->name);
        CHECK(i >= 0 && ps->info[i].count == t->count);
        if (i < 0 || ps->info[i].count != t->count)
            continue;
        const float *g = param_g(ps, i);
        double err = 0, scale = 0;
        for (size_t j = 0; j < t->count; j++) {
            err = fmax(err, fabs((double)g[j] - t->value[j]));
            scale = fmax(scale, fabs(t->value[j]));
        }
        double rel = scale > 0 ? err / scale : err;
        if (rel > worst) {
            worst = rel;
            worst_name = t->name;
        }
        if (!(rel <= 1e-3)) {
            char msg[160];
            snprintf(msg, sizeof msg, "gradient of %s: relative error %.3g > 1e-3", t->name,
                     rel);
            check_fail_(__FILE__, __LINE__, msg);
        }
    }
    printf("#   gradients: worst relative error %.3g (%s)\n", worst, worst_name);
    free(logp);
    free(dlogp);
    model_free(m);
    reference_free(&ref);
}

/* Feeding each sequence one token at a time gives the logits of the batched forward; and
 * the state, of constant size, runs on past the training window. */
static void hawk_step_reproduces_forward_logits(void)
{
    reference ref;
    reference_load(&ref);
    model *m = reference_model(&ref);
    int T = ref.T, V = ref.cfg.vocab;
    model_forward(m, ref.tokens.v, NULL, NULL);
    const float *want = model_logits(m);
    model_state *s = model_state_new(m);
    double worst = 0;
    for (int b = 0; b < ref.B; b++) {
        model_state_reset(s);
        for (int t = 0; t < T; t++) {
            const float *got = model_step(m, s, ref.tokens.v[b * T + t]);
            for (int v = 0; v < V; v++)
                worst = fmax(worst, fabs((double)got[v] - want[((long)b * T + t) * V + v]));
        }
        CHECK_EQ_INT(model_state_pos(s), T);
    }
    printf("#   step vs forward: max abs difference %.3g\n", worst);
    CHECK(worst <= 1e-5);
    bool finite = true;
    for (int t = 0; t < 4 * ref.cfg.context; t++) {
        const float *got = model_step(m, s, (uint32_t)(t % V));
        for (int v = 0; v < V; v++)
            finite &= isfinite(got[v]);
    }
    CHECK(finite);
    CHECK_EQ_INT(model_state_pos(s), T + 4 * ref.cfg.context);
    model_state_free(s);
    model_free(m);
    reference_free(&ref);
}

/* ---- a freshly initialized model ---- */

static model_config tiny_config(void)
{
    model_config cfg = {.arch = "hawk", .vocab = 11, .layers = 2, .width = 8, .lru = 8,
                        .mlp = 12, .context = 5};
    CHECK(model_config_finish(&cfg) == NULL);
    return cfg;
}

enum { FD_B = 2, FD_T = 5, FD_N = FD_B * FD_T };

typedef struct {
    model *m;
    uint32_t tokens[FD_N], targets[FD_N];
    float logp[FD_N], dlogp[FD_N];
} fd_case;

static double fd_loss(void *ctx)
{
    fd_case *k = ctx;
    return mean_cross_entropy(k->m, k->tokens, k->targets, k->logp, k->dlogp, FD_N);
}

static void random_tokens(uint32_t *x, int n, int V, rng_t *r)
{
    for (int i = 0; i < n; i++)
        x[i] = (uint32_t)rng_below(r, (uint64_t)V);
}

/* Every parameter of the whole model against fourth-order central differences (h = 5e-2;
 * the error, relative with a floor of 1e-3, at most 1e-2, as in test_nn_hawk.c).  The
 * embedding enters the model times sqrt(C), so its step is h / sqrt(C): the same move of
 * the model's input, where a larger one leaves the range in which the fourth-order
 * difference is accurate. */
static void hawk_gradients_match_finite_differences(void)
{
    model_config cfg = tiny_config();
    fd_case k = {.m = model_new(&cfg)};
    model_init(k.m, 5);
    rng_t r;
    rng_seed(&r, 6);
    random_tokens(k.tokens, FD_N, cfg.vocab, &r);
    random_tokens(k.targets, FD_N, cfg.vocab, &r);
    model_plan(k.m, FD_B, FD_T, true);
    param_set *ps = model_params(k.m);
    fd_loss(&k);
    param_zero_grads(ps);
    model_backward(k.m, k.dlogp);
    for (int i = 0; i < ps->n; i++) {
        const param_info *p = &ps->info[i];
        float h = strcmp(p->name, "wte.weight") == 0 ? 5e-2f / sqrtf(cfg.width) : 5e-2f;
        double err = gradcheck(p->name, fd_loss, &k, ps->w + p->offset, ps->g + p->offset,
                               p->count, 1, h, 1e-3);
        if (!(err <= 1e-2)) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s: finite-difference error %.3g > 1e-2", p->name, err);
            check_fail_(__FILE__, __LINE__, msg);
        }
    }
    model_free(k.m);
}

/* Same inputs, same results, bit for bit; and backward adds to the gradients already
 * there, so micro-batches accumulate. */
static void hawk_is_repeatable_and_backward_accumulates(void)
{
    model_config cfg = tiny_config();
    fd_case k = {.m = model_new(&cfg)};
    model_init(k.m, 9);
    rng_t r;
    rng_seed(&r, 10);
    random_tokens(k.tokens, FD_N, cfg.vocab, &r);
    random_tokens(k.targets, FD_N, cfg.vocab, &r);
    model_plan(k.m, FD_B, FD_T, true);
    param_set *ps = model_params(k.m);
    size_t nl = (size_t)FD_N * cfg.vocab;
    float *logits = xmalloc(nl * sizeof *logits), *once = xmalloc(ps->total * sizeof *once);

    fd_loss(&k);
    memcpy(logits, model_logits(k.m), nl * sizeof *logits);
    param_zero_grads(ps);
    model_backward(k.m, k.dlogp);
    memcpy(once, ps->g, ps->total * sizeof *once);

    fd_loss(&k);
    CHECK(memcmp(logits, model_logits(k.m), nl * sizeof *logits) == 0);
    model_backward(k.m, k.dlogp);
    double worst = 0;
    for (size_t j = 0; j < ps->total; j++)
        worst = fmax(worst, fabs(ps->g[j] - 2.0 * once[j]) / fmax(fabs(once[j]), 1e-3));
    CHECK(worst < 1e-5);

    fd_loss(&k);
    param_zero_grads(ps);
    model_backward(k.m, k.dlogp);
    CHECK(memcmp(once, ps->g, ps->total * sizeof *once) == 0);
    free(logits);
    free(once);
    model_free(k.m);
}

static double rms_of(const float *w, size_t n)
{
    double s = 0;
    for (size_t j = 0; j < n; j++)
        s += (double)w[j] * w[j];
    return sqrt(s / n);
}

static const float *named(model *m, const char *name, size_t *count)
{
    const param_set *ps = model_params(m);
    int i = param_find(ps, name);
    CHECK(i >= 0);
    *count = i >= 0 ? ps->info[i].count : 0;
    return i >= 0 ? param_w(ps, i) : ps->w;
}

/* The initialization of hawk_init, on config S (C = 128, L = 4): a given seed gives the same
 * weights, and each tensor has its documented distribution.  An RMS estimated from n
 * normal draws has a relative standard deviation of 1/sqrt(2n); the bounds are 5 of those. */
static void hawk_init_is_seeded_and_follows_its_distributions(void)
{
    model_config cfg;
    CHECK(model_config_named(&cfg, "hawk", "S"));
    CHECK(model_config_finish(&cfg) == NULL);
    model *a = model_new(&cfg), *b = model_new(&cfg);
    model_init(a, 7);
    model_init(b, 7);
    const param_set *ps = model_params(a);
    CHECK(memcmp(ps->w, model_params(b)->w, ps->total * sizeof(float)) == 0);
    model_init(b, 8);
    CHECK(memcmp(ps->w, model_params(b)->w, ps->total * sizeof(float)) != 0);

    int C = cfg.width, L = cfg.layers;
    struct { const char *name; double std; } normal[] = {
        {"wte.weight", 1 / sqrt(C)},
        {"h.1.rec.gate.weight", 1 / sqrt(C)},
        {"h.1.rec.conv.weight", 1 / sqrt(cfg.conv)},
        {"h.1.rec.lru.a_gate.weight", 1 / sqrt(cfg.lru)},
        {"h.1.rec.out.weight", 1 / sqrt(cfg.lru) / sqrt(2.0 * L)},
        {"h.1.mlp.fc1.weight", 1 / sqrt(C)},
        {"h.1.mlp.fc3.weight", 1 / sqrt(cfg.mlp) / sqrt(2.0 * L)},
    };
    for (size_t j = 0; j < sizeof normal / sizeof *normal; j++) {
        size_t n;
        const float *w = named(a, normal[j].name, &n);
        CHECK_NEAR(rms_of(w, n), normal[j].std, 5 * normal[j].std / sqrt(2.0 * n));
    }
    for (int i = 0; i < ps->n; i++) {
        const param_info *p = &ps->info[i];
        const float *w = param_w(ps, i);
        bool norm = strstr(p->name, "norm") != NULL, bias = strstr(p->name, ".bias") != NULL;
        for (size_t j = 0; (norm || bias) && j < p->count; j++)
            CHECK(w[j] == (norm ? 1.0f : 0.0f));
    }
    /* σ(Λ)^8 uniform in [0.9, 0.999]: its mean 0.9495 has a standard deviation of
     * 0.0286/sqrt(n) */
    size_t n;
    const float *lambda = named(a, "h.2.rec.lru.lambda", &n);
    double mean = 0;
    for (size_t d = 0; d < n; d++) {
        double s = pow(1 / (1 + exp(-(double)lambda[d])), 8);
        CHECK(s >= 0.9 - 1e-5 && s <= 0.999 + 1e-5);
        mean += s / n;
    }
    CHECK_NEAR(mean, 0.9495, 5 * 0.0286 / sqrt(n));
    model_free(a);
    model_free(b);
}

static void hawk_rejects_misuse(void)
{
    model_config cfg = tiny_config();
    model *m = model_new(&cfg);
    model_init(m, 1);
    uint32_t tokens[FD_N] = {0}, targets[FD_N] = {0};
    float dlogp[FD_N] = {0};
    model_plan(m, FD_B, FD_T, false);
    tokens[3] = (uint32_t)cfg.vocab;
    EXPECT_DIE(EX_DATAERR, model_forward(m, tokens, targets, NULL));
    tokens[3] = 0;
    model_forward(m, tokens, targets, NULL);
    EXPECT_DIE(EX_SOFTWARE, model_backward(m, dlogp));
    model_free(m);
}

int main(void)
{
    RUN(hawk_declares_the_reference_tensors_in_order);
    RUN(hawk_matches_the_torch_reference);
    RUN(hawk_step_reproduces_forward_logits);
    RUN(hawk_gradients_match_finite_differences);
    RUN(hawk_is_repeatable_and_backward_accumulates);
    RUN(hawk_init_is_seeded_and_follows_its_distributions);
    RUN(hawk_rejects_misuse);
    return check_done();
}
