/* Unit tests of QLoRA (quant/nf4_linear with nn/lora, through model/adapter): an NF4
 * layer multiplies with exactly the dequantized W, holds about 4.13 bits per weight and
 * hands its float copy back to the system; a QLoRA model with B = 0 computes the model
 * whose W are NF4-rounded, its merge equals it within 1e-5, and its adapter gradients
 * match finite differences. */
#include <stdint.h>
#include <stdlib.h>

#include "base/rng.h"
#include "check.h"
#include "gradcheck.h"
#include "model/adapter.h"
#include "model/model.h"
#include "quant/nf4.h"
#include "quant/nf4_linear.h"

enum { V = 11, L = 2, C = 8, NH = 2, T = 5, B = 2, N = B * T };

static void fill_normal(float *w, size_t n, uint64_t seed, double std)
{
    rng_t r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(std * rng_normal(&r));
}

/* A 256 x 1024 layer: y = x W' + b with W' the dequantized NF4 W, bit for bit; 4.127 bits
 * per weight; the float W's whole pages read zero once released; detaching writes W'
 * back. */
static void nf4_layer_multiplies_with_the_dequantized_weights(void)
{
    enum { IN = 256, OUT = 1024, ROWS = 3 };
    size_t n = (size_t)IN * OUT;
    float *w = NULL, *deq = xmalloc(n * sizeof *deq), b[OUT], x[ROWS * IN];
    CHECK(posix_memalign((void **)&w, 4096, n * sizeof *w) == 0);
    fill_normal(w, n, 1, 0.05);
    fill_normal(b, OUT, 2, 0.1);
    fill_normal(x, ROWS * IN, 3, 1.0);
    nf4_tensor q;
    nf4_quantize(&q, w, n);
    nf4_dequantize(deq, &q);
    nf4_free(&q);

    static float want[ROWS * OUT], got[ROWS * OUT];
    linear plain = {.in = IN, .out = OUT, .w = deq, .b = b};
    linear_forward(&plain, want, x, ROWS);
    linear l = {.in = IN, .out = OUT, .w = w, .b = b};
    nf4_scratch scratch = {0};
    nf4_linear e;
    nf4_linear_attach(&e, &l, &scratch);
    size_t zero = 0;
    for (size_t i = 0; i < n; i++)
        zero += w[i] == 0.0f;
    CHECK_EQ_INT(zero, n); /* every page of this page-aligned W was released */
    double bits = 8.0 * (double)nf4_linear_bytes(&e) / (double)n;
    printf("#   %.4f bits per weight\n", bits);
    CHECK(bits > 4.12 && bits < 4.135);
    linear_forward(&l, got, x, ROWS);
    CHECK(memcmp(want, got, sizeof want) == 0);
    static float dy[ROWS * OUT], dx_want[ROWS * IN], dx_got[ROWS * IN];
    fill_normal(dy, ROWS * OUT, 4, 1.0);
    linear_backward(&plain, dx_want, dy, x, ROWS);
    linear_backward(&l, dx_got, dy, x, ROWS);
    CHECK(memcmp(dx_want, dx_got, sizeof dx_want) == 0);
    nf4_linear_detach(&e);
    CHECK(l.ext == NULL);
    CHECK(memcmp(w, deq, n * sizeof *w) == 0);
    nf4_scratch_free(&scratch);
    free(w);
    free(deq);
}

static model *tiny(void)
{
    model_config cfg = {.arch = "gpt", .vocab = V, .layers = L, .width = C, .heads = NH,
                        .context = T + 2};
    CHECK(model_config_finish(&cfg) == NULL);
    model *m = model_new(&cfg);
    param_set *ps = model_params(m);
    for (int k = 0; k < ps->n; k++) {
        const param_info *p = &ps->info[k];
        fill_normal(param_w(ps, k), p->count, 20 + (uint64_t)k, p->ndim == 1 ? 0.2 : 0.3);
        if (p->ndim == 1 && strstr(p->name, ".weight"))
            for (size_t i = 0; i < p->count; i++)
                param_w(ps, k)[i] += 1.0f;
    }
    return m;
}

typedef struct {
    model *m;
    uint32_t tokens[N], targets[N];
    float logp[N], coef[N];
} fd_case;

static double fd_loss(void *ctx)
{
    fd_case *k = ctx;
    model_forward(k->m, k->tokens, k->targets, k->logp);
    double s = 0;
    for (int i = 0; i < N; i++)
        s += (double)k->coef[i] * k->logp[i];
    return s;
}

static void make_batch(fd_case *k)
{
    rng_t r;
    rng_seed(&r, 30);
    for (int i = 0; i < N; i++) {
        k->tokens[i] = (uint32_t)rng_below(&r, V);
        k->targets[i] = (uint32_t)rng_below(&r, V);
        k->coef[i] = (float)(rng_uniform(&r) - 0.5);
    }
}

/* The reference: the same model with each dense W replaced by its NF4 round trip. */
static void qlora_computes_the_nf4_rounded_base_and_merges(void)
{
    static fd_case k;
    make_batch(&k);
    model *ref = tiny();
    const model_linear *ls;
    int n = model_linears(ref, &ls);
    for (int i = 0; i < n; i++) {
        nf4_tensor q;
        nf4_quantize(&q, ls[i].lin->w, (size_t)ls[i].lin->in * ls[i].lin->out);
        nf4_dequantize(ls[i].lin->w, &q);
        nf4_free(&q);
    }
    model_plan(ref, B, T, false);
    model_forward(ref, k.tokens, NULL, NULL);
    static float want[N * V], got[N * V], merged[N * V];
    memcpy(want, model_logits(ref), sizeof want);

    k.m = tiny();
    adapter *ad = adapter_new(k.m, &(adapter_config){
                                       .lora = {.rank = 2, .alpha = 4, .targets = LORA_ATTN},
                                       .nf4 = true});
    CHECK_EQ_INT(ad->n_nf4, n); /* the whole base, adapted layers or not */
    lora_init(ad->lora, 5);
    model_plan(k.m, B, T, false);
    model_forward(k.m, k.tokens, NULL, NULL);
    memcpy(got, model_logits(k.m), sizeof got);
    CHECK(memcmp(want, got, sizeof want) == 0);
    size_t nf4_bytes, fp32_bytes;
    adapter_base_bytes(ad, &nf4_bytes, &fp32_bytes);
    printf("#   base: %zu NF4 bytes for %zu float32 bytes\n", nf4_bytes, fp32_bytes);
    CHECK(nf4_bytes > 0 && nf4_bytes < fp32_bytes / 4);

    param_set *lp = &ad->lora->params;
    for (int i = 0; i < lp->n; i++)
        fill_normal(param_w(lp, i), lp->info[i].count, 40 + (uint64_t)i, 0.3);
    model_forward(k.m, k.tokens, NULL, NULL);
    memcpy(got, model_logits(k.m), sizeof got);
    adapter_merge(ad);
    model_forward(k.m, k.tokens, NULL, NULL);
    memcpy(merged, model_logits(k.m), sizeof merged);
    double moved = 0, worst = 0;
    for (int i = 0; i < N * V; i++) {
        moved = fmax(moved, fabs(got[i] - want[i]));
        worst = fmax(worst, fabs(merged[i] - got[i]));
    }
    printf("#   adapters move the logits by %.3g; merged vs adapted %.3g\n", moved, worst);
    CHECK(moved > 0.1);
    CHECK(worst <= 1e-5);
    adapter_free(ad);
    model_free(k.m);
    model_free(ref);
}

static void qlora_adapter_gradients_match_finite_differences(void)
{
    static fd_case k;
    make_batch(&k);
    k.m = tiny();
    adapter *ad = adapter_new(k.m, &(adapter_config){
                                       .lora = {.rank = 2, .alpha = 3, .targets = LORA_ALL},
                                       .nf4 = true});
    param_set *ps = &ad->lora->params;
    for (int i = 0; i < ps->n; i++)
        fill_normal(param_w(ps, i), ps->info[i].count, 60 + (uint64_t)i, 0.3);
    model_plan(k.m, B, T, true);
    param_alloc_grads(ps);
    param_zero_grads(ps);
    fd_loss(&k);
    model_backward(k.m, k.coef);
    double worst = 0;
    for (int i = 0; i < ps->n; i++)
        worst = fmax(worst, gradcheck(ps->info[i].name, fd_loss, &k, param_w(ps, i),
                                      param_g(ps, i), ps->info[i].count, 1, 1e-2f, 1e-2));
    printf("#   worst %.3g\n", worst);
    CHECK(worst <= 1e-2);
    adapter_free(ad);
    model_free(k.m);
}

int main(void)
{
    RUN(nf4_layer_multiplies_with_the_dequantized_weights);
    RUN(qlora_computes_the_nf4_rounded_base_and_merges);
    RUN(qlora_adapter_gradients_match_finite_differences);
    return check_done();
}
