/* Unit tests of AdamW's low-bit moments (lib/optim/lowbit.c): the stored moments are the
 * quantized fp32 moments, chunk by chunk and tensor-wide; the weights move as fp32
 * AdamW's on the fresh values; real storage in one byte or half a byte per element;
 * moments carried through float slabs come back exactly, so runs resume bit-identical;
 * results do not depend on the thread count. */
#include <math.h>
#include <omp.h>

#include "check.h"
#include "nn/params.h"
#include "optim/adamw.h"
#include "quant/quant.h"

/* A (300, 100) matrix (two chunks of rows), an odd (7, 5) one, and a vector of 35. */
static void declare(param_set *ps)
{
    param_add(ps, "big", PARAM_DECAY, 2, (int64_t[]){300, 100});
    param_add(ps, "odd", PARAM_DECAY, 2, (int64_t[]){7, 5});
    param_add(ps, "vec", 0, 1, (int64_t[]){35});
    param_alloc(ps);
    param_alloc_grads(ps);
    for (int k = 0; k < ps->n; k++)
        for (size_t i = 0; i < ps->info[k].count; i++)
            param_w(ps, k)[i] = 0.02f * cosf(0.37f * (float)i + (float)k);
}

/* A gradient for step t, different every step: of one sign and size within a factor 5
 * (tame), or crossing zero with a few entries 30 times the others (wild). */
static void gradients_of(param_set *ps, int t, bool wild)
{
    for (int k = 0; k < ps->n; k++)
        for (size_t i = 0; i < ps->info[k].count; i++) {
            float x = sinf(0.013f * (float)(i * (size_t)(t + 3)) + (float)k);
            param_g(ps, k)[i] = wild ? 1e-2f * x * (i % 97 == 0 ? 30.0f : 1.0f)
                                     : 1e-2f * (1.5f + x);
        }
}

static void gradients(param_set *ps, int t) { gradients_of(ps, t, true); }

static adamw_hparams hparams(const char *m, const char *v)
{
    adamw_hparams h = {.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1};
    if (m)
        quant_parse(&h.m_store, m);
    if (v)
        quant_parse(&h.v_store, v);
    return h;
}

/* After one step from zero, m = (1 - β1) g and v = (1 - β2) g², and the stored moments
 * decode to exactly what quant_fake() makes of them over each tensor seen as (rows, cols),
 * tensor-wide scales included, though the big tensor is encoded in two chunks. */
static void stored_moments_are_the_quantized_moments(const char *m_spec, const char *v_spec)
{
    param_set ps = {0};
    declare(&ps);
    gradients(&ps, 0);
    adamw o;
    adamw_init(&o, &ps, hparams(m_spec, v_spec));
    CHECK(o.m == NULL && o.v == NULL && o.lowbit != NULL);
    adamw_step(&o, 1e-3);
    float *m = calloc(ps.total, sizeof *m), *v = calloc(ps.total, sizeof *v);
    adamw_get_moments(&o, m, v);
    quant_spec qm, qv;
    quant_parse(&qm, m_spec);
    quant_parse(&qv, v_spec);
    int bad = 0;
    for (int k = 0; k < ps.n; k++) {
        const param_info *p = &ps.info[k];
        int cols = p->ndim == 2 ? (int)p->shape[1] : (int)p->count;
        int rows = (int)(p->count / (size_t)cols);
        float *fm = malloc(p->count * sizeof *fm), *fv = malloc(p->count * sizeof *fv);
        for (size_t i = 0; i < p->count; i++) {
            float g = param_g(&ps, k)[i];
            fm[i] = (float)(1.0 - 0.9) * g;
            fv[i] = (float)(1.0 - 0.95) * g * g;
        }
        quant_fake(&qm, fm, fm, rows, cols, NULL);
        quant_fake(&qv, fv, fv, rows, cols, NULL);
        for (size_t i = 0; i < p->count; i++)
            bad += fm[i] != m[p->offset + i] || fv[i] != v[p->offset + i];
        free(fm);
        free(fv);
    }
    CHECK_EQ_INT(bad, 0);
    free(m);
    free(v);
    adamw_free(&o);
    param_free(&ps);
}

static void stored_8bit_per_row(void) { stored_moments_are_the_quantized_moments("8:per-row", "8:per-row:asym"); }
static void stored_4bit_per_tensor(void) { stored_moments_are_the_quantized_moments("4:per-tensor", "4:per-tensor:asym"); }
static void stored_4bit_per_group(void) { stored_moments_are_the_quantized_moments("4:per-group-5", "8:per-group-5"); }

/* The first step updates the weights from the fresh float moments: the same bits as fp32
 * AdamW.  Later steps start from the stored (rounded) moments and stay close while the
 * gradients are tame; with wild ones, second moments near zero round to zero, and their
 * updates m / (sqrt(v) + eps) blow up: the weakness of linear quantization for v that
 * the study measures. */
static double weight_gap(const char *m_spec, const char *v_spec, bool wild)
{
    param_set a = {0}, b = {0};
    declare(&a);
    declare(&b);
    adamw oa, ob;
    adamw_init(&oa, &a, hparams(NULL, NULL));
    adamw_init(&ob, &b, hparams(m_spec, v_spec));
    size_t bytes = a.total * sizeof(float);
    double worst = 0;
    for (int t = 0; t < 20; t++) {
        gradients_of(&a, t, wild);
        gradients_of(&b, t, wild);
        adamw_step(&oa, 1e-3);
        adamw_step(&ob, 1e-3);
        if (t == 0)
            CHECK(memcmp(a.w, b.w, bytes) == 0);
        for (size_t i = 0; i < a.total; i++)
            worst = fmax(worst, fabs((double)a.w[i] - b.w[i]));
    }
    printf("#   m %s, v %s, %s gradients: largest weight gap after 20 steps of lr 1e-3: %.3g\n",
           m_spec ? m_spec : "fp32", v_spec ? v_spec : "fp32", wild ? "wild" : "tame", worst);
    adamw_free(&oa);
    adamw_free(&ob);
    param_free(&a);
    param_free(&b);
    return worst;
}

static void weights_follow_fp32_adamw(void)
{
    /* 20 steps move a weight by up to 2e-2 */
    double gap = weight_gap("8:per-row", "8:per-row:asym", false);
    CHECK(gap > 0 && gap < 1e-3);
    double gap4 = weight_gap("4:per-row", "4:per-row:asym", false);
    CHECK(gap4 > gap && gap4 < 1e-2); /* coarser, still within half of the movement */
    CHECK(weight_gap(NULL, "8:per-row:asym", true) > 1);
}

/* Codes take a byte (8-bit) or half a byte (4-bit) per element, plus the scales and the
 * step's buffers (two threads' chunk of floats, 2.4 bits per element here): m8v8 and m4v4
 * of a million parameters well under the 8 bytes of fp32. */
static void storage_is_really_low_bit(void)
{
    param_set ps = {0};
    param_add(&ps, "w", PARAM_DECAY, 2, (int64_t[]){1024, 1024});
    param_alloc(&ps);
    size_t n = ps.total;
    adamw f, b8, b4;
    adamw_init(&f, &ps, hparams(NULL, NULL));
    adamw_init(&b8, &ps, hparams("8:per-row", "8:per-row"));
    adamw_init(&b4, &ps, hparams("4:per-row", "4:per-row"));
    size_t fb = adamw_state_bytes(&f), b8b = adamw_state_bytes(&b8), b4b = adamw_state_bytes(&b4);
    printf("#   fp32 %zu, m8v8 %zu, m4v4 %zu bytes\n", fb, b8b, b4b);
    CHECK_EQ_INT(fb, 8 * n);
    CHECK(b8b >= 2 * n && b8b < 2 * n + n / 4 + n / 8); /* codes, 2 x 1024 scales, buffers */
    CHECK(b4b >= n && b4b < n + n / 4 + n / 8);
    adamw_free(&f);
    adamw_free(&b8);
    adamw_free(&b4);
    param_free(&ps);
}

/* Getting the moments and setting them into a new optimizer restores codes and scales:
 * both then take the same steps bit for bit (a resumed run). */
static void moments_round_trip_exactly(const char *m_spec, const char *v_spec)
{
    param_set a = {0}, b = {0};
    declare(&a);
    declare(&b);
    adamw oa, ob;
    adamw_init(&oa, &a, hparams(m_spec, v_spec));
    adamw_init(&ob, &b, hparams(m_spec, v_spec));
    for (int t = 0; t < 5; t++) {
        gradients(&a, t);
        adamw_step(&oa, 1e-3);
    }
    size_t bytes = a.total * sizeof(float);
    float *m = calloc(a.total, 4), *v = calloc(a.total, 4), *m2 = calloc(a.total, 4),
          *v2 = calloc(a.total, 4);
    adamw_get_moments(&oa, m, v);
    memcpy(b.w, a.w, bytes);
    adamw_set_moments(&ob, m, v);
    ob.t = oa.t;
    adamw_get_moments(&ob, m2, v2);
    CHECK(memcmp(m, m2, bytes) == 0 && memcmp(v, v2, bytes) == 0);
    for (int t = 5; t < 10; t++) {
        gradients(&a, t);
        gradients(&b, t);
        adamw_step(&oa, 1e-3);
        adamw_step(&ob, 1e-3);
    }
    CHECK(memcmp(a.w, b.w, bytes) == 0);
    adamw_get_moments(&oa, m, v);
    adamw_get_moments(&ob, m2, v2);
    CHECK(memcmp(m, m2, bytes) == 0 && memcmp(v, v2, bytes) == 0);
    free(m);
    free(v);
    free(m2);
    free(v2);
    adamw_free(&oa);
    adamw_free(&ob);
    param_free(&a);
    param_free(&b);
}

static void round_trip_8bit(void) { moments_round_trip_exactly("8:per-row", "8:per-tensor:asym"); }
static void round_trip_4bit(void) { moments_round_trip_exactly("4:per-group-5:asym", "4:per-row"); }
static void round_trip_mixed(void) { moments_round_trip_exactly(NULL, "8:per-row:stochastic"); }

/* Chunks are fixed and each is one thread's: 1 and 2 threads give the same bits. */
static void steps_do_not_depend_on_threads(void)
{
    param_set a = {0}, b = {0};
    declare(&a);
    declare(&b);
    adamw oa, ob;
    omp_set_num_threads(1);
    adamw_init(&oa, &a, hparams("4:per-tensor:stochastic", "8:per-row:asym"));
    omp_set_num_threads(2);
    adamw_init(&ob, &b, hparams("4:per-tensor:stochastic", "8:per-row:asym"));
    for (int t = 0; t < 4; t++) {
        gradients(&a, t);
        gradients(&b, t);
        omp_set_num_threads(1);
        adamw_step(&oa, 1e-3);
        omp_set_num_threads(2);
        adamw_step(&ob, 1e-3);
    }
    CHECK(memcmp(a.w, b.w, a.total * sizeof(float)) == 0);
    adamw_free(&oa);
    adamw_free(&ob);
    param_free(&a);
    param_free(&b);
}

/* Groups must divide every row of the tensors that learn; column scales are not offered. */
static void check_rejects_what_cannot_be_stored(void)
{
    param_set ps = {0};
    declare(&ps);
    char msg[256];
    adamw_hparams h = hparams("8:per-group-5", "4:per-row");
    CHECK(adamw_check(&ps, &h, msg, sizeof msg) == NULL);
    h = hparams("8:per-group-10", NULL);
    const char *why = adamw_check(&ps, &h, msg, sizeof msg);
    CHECK(why && strstr(why, " odd ") != NULL); /* 10 does not divide its 5 columns */
    ps.info[1].flags |= PARAM_FROZEN;
    why = adamw_check(&ps, &h, msg, sizeof msg);
    CHECK(why && strstr(why, " vec ") != NULL); /* nor 35 */
    h = hparams(NULL, "8:per-column");
    CHECK(adamw_check(&ps, &h, msg, sizeof msg) != NULL);
    param_free(&ps);
}

int main(void)
{
    RUN(stored_8bit_per_row);
    RUN(stored_4bit_per_tensor);
    RUN(stored_4bit_per_group);
    RUN(weights_follow_fp32_adamw);
    RUN(storage_is_really_low_bit);
    RUN(round_trip_8bit);
    RUN(round_trip_4bit);
    RUN(round_trip_mixed);
    RUN(steps_do_not_depend_on_threads);
    RUN(check_rejects_what_cannot_be_stored);
    return check_done();
}
