/* Unit tests of GPT-2's layers in lib/nn: LayerNorm and causal attention, each forward
 * against a direct computation and each backward against finite differences
 * (gradcheck.h: fourth-order differences with h = 1e-2; the error, relative with a floor of
 * 1e-3, must be at most 1e-2). */
#include <stdint.h>

#include "base/rng.h"
#include "check.h"
#include "gradcheck.h"
#include "nn/attention.h"
#include "nn/layernorm.h"

#define GRAD_H 1e-2f
#define GRAD_FLOOR 1e-3
#define GRAD_TOL 1e-2

static void fill_normal(float *x, size_t n, rng_t *r, double mean, double std)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(mean + std * rng_normal(r));
}

/* L = sum_i u_i out_i with fixed random u, summed in double: dL/dout = u. */
static double weighted_sum(const float *out, const float *u, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)u[i] * out[i];
    return s;
}

/* ---- layernorm ---- */

enum { LN_N = 3, LN_C = 8 };

typedef struct {
    float inp[LN_N * LN_C], weight[LN_C], bias[LN_C];
    float out[LN_N * LN_C], mean[LN_N], rstd[LN_N];
    float u[LN_N * LN_C]; /* dL/dout */
} ln_case;

static double ln_loss(void *ctx)
{
    ln_case *k = ctx;
    layernorm_forward(k->out, k->mean, k->rstd, k->inp, k->weight, k->bias, LN_N, LN_C);
    return weighted_sum(k->out, k->u, LN_N * LN_C);
}

static void ln_setup(ln_case *k, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    fill_normal(k->inp, LN_N * LN_C, &r, 0.5, 2.0);
    fill_normal(k->weight, LN_C, &r, 1.0, 0.3);
    fill_normal(k->bias, LN_C, &r, 0.0, 0.3);
    fill_normal(k->u, LN_N * LN_C, &r, 0.0, 1.0);
}

static void layernorm_normalizes_each_row(void)
{
    ln_case k;
    ln_setup(&k, 1);
    for (int c = 0; c < LN_C; c++) {
        k.weight[c] = 1.0f;
        k.bias[c] = 0.0f;
    }
    ln_loss(&k);
    for (int i = 0; i < LN_N; i++) {
        double m = 0, v = 0, xm = 0, xv = 0;
        for (int c = 0; c < LN_C; c++) {
            m += k.out[i * LN_C + c] / LN_C;
            xm += k.inp[i * LN_C + c] / LN_C;
        }
        for (int c = 0; c < LN_C; c++) {
            v += pow(k.out[i * LN_C + c] - m, 2) / LN_C;
            xv += pow(k.inp[i * LN_C + c] - xm, 2) / LN_C;
        }
        CHECK_NEAR(m, 0, 1e-6);
        CHECK_NEAR(v, xv / (xv + 1e-5), 1e-5); /* unit variance up to eps */
        CHECK_NEAR(k.mean[i], xm, 1e-5);
        CHECK_NEAR(k.rstd[i], 1 / sqrt(xv + 1e-5), 1e-5);
    }
}

static void layernorm_backward_matches_finite_differences(void)
{
    ln_case k;
    ln_setup(&k, 2);
    float dinp[LN_N * LN_C] = {0}, dweight[LN_C] = {0}, dbias[LN_C] = {0};
    ln_loss(&k);
    layernorm_backward(dinp, dweight, dbias, k.u, k.inp, k.weight, k.mean, k.rstd, LN_N, LN_C);
    CHECK(gradcheck("dinp", ln_loss, &k, k.inp, dinp, LN_N * LN_C, 1, GRAD_H, GRAD_FLOOR) <=
          GRAD_TOL);
    CHECK(gradcheck("dweight", ln_loss, &k, k.weight, dweight, LN_C, 1, GRAD_H, GRAD_FLOOR) <=
          GRAD_TOL);
    CHECK(gradcheck("dbias", ln_loss, &k, k.bias, dbias, LN_C, 1, GRAD_H, GRAD_FLOOR) <=
          GRAD_TOL);
}

static void layernorm_backward_accumulates(void)
{
    ln_case k;
    ln_setup(&k, 3);
    float d1[LN_N * LN_C] = {0}, w1[LN_C] = {0}, b1[LN_C] = {0};
    float d2[LN_N * LN_C] = {0}, w2[LN_C] = {0}, b2[LN_C] = {0};
    ln_loss(&k);
    layernorm_backward(d1, w1, b1, k.u, k.inp, k.weight, k.mean, k.rstd, LN_N, LN_C);
    for (int pass = 0; pass < 2; pass++)
        layernorm_backward(d2, w2, b2, k.u, k.inp, k.weight, k.mean, k.rstd, LN_N, LN_C);
    for (int i = 0; i < LN_N * LN_C; i++)
        CHECK(d2[i] == 2 * d1[i]);
    for (int c = 0; c < LN_C; c++)
        CHECK(w2[c] == 2 * w1[c] && b2[c] == 2 * b1[c]);
}

/* ---- attention ---- */

/* T = 70 spans two blocks of query rows (attention.c takes 64 at a time), the second one
 * partial. */
enum { AT_B = 2, AT_C = 8, AT_NH = 2, AT_TMAX = 70 };

typedef struct {
    int T;
    float qkv[AT_B * AT_TMAX * 3 * AT_C];
    float out[AT_B * AT_TMAX * AT_C];
    float att[AT_B * AT_NH * AT_TMAX * AT_TMAX];
    float u[AT_B * AT_TMAX * AT_C]; /* dL/dout */
} at_case;

static double at_loss(void *ctx)
{
    at_case *k = ctx;
    attention_forward(k->out, k->att, k->qkv, AT_B, k->T, AT_C, AT_NH);
    return weighted_sum(k->out, k->u, (size_t)AT_B * k->T * AT_C);
}

static void at_setup(at_case *k, int T, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    k->T = T;
    /* scores of a few units: a peaked softmax, not a uniform one */
    fill_normal(k->qkv, (size_t)AT_B * T * 3 * AT_C, &r, 0.0, 1.5);
    fill_normal(k->u, (size_t)AT_B * T * AT_C, &r, 0.0, 1.0);
}

/* The same attention in double, one (b, h, query) at a time. */
static void attention_direct(double *out, const float *qkv, int B, int T, int C, int NH)
{
    int hs = C / NH;
    double w[AT_TMAX];
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < T; i++) {
                const float *q = qkv + ((long)b * T + i) * 3 * C + h * hs;
                double max = -INFINITY, sum = 0;
                for (int j = 0; j <= i; j++) {
                    const float *kj = qkv + ((long)b * T + j) * 3 * C + C + h * hs;
                    double s = 0;
                    for (int e = 0; e < hs; e++)
                        s += (double)q[e] * kj[e];
                    w[j] = s / sqrt(hs);
                    max = fmax(max, w[j]);
                }
                for (int j = 0; j <= i; j++)
                    sum += w[j] = exp(w[j] - max);
                for (int e = 0; e < hs; e++) {
                    double o = 0;
                    for (int j = 0; j <= i; j++)
                        o += w[j] / sum * qkv[((long)b * T + j) * 3 * C + 2 * C + h * hs + e];
                    out[((long)b * T + i) * C + h * hs + e] = o;
                }
            }
}

static void attention_forward_matches_direct_computation(void)
{
    static at_case k;
    static double want[AT_B * AT_TMAX * AT_C];
    at_setup(&k, AT_TMAX, 4);
    at_loss(&k);
    attention_direct(want, k.qkv, AT_B, AT_TMAX, AT_C, AT_NH);
    double worst = 0;
    for (int i = 0; i < AT_B * AT_TMAX * AT_C; i++)
        worst = fmax(worst, fabs(k.out[i] - want[i]));
    CHECK(worst < 1e-5);
    /* probabilities: rows sum to 1, nothing above the diagonal */
    for (int bh = 0; bh < AT_B * AT_NH; bh++)
        for (int i = 0; i < AT_TMAX; i++) {
            const float *row = k.att + ((long)bh * AT_TMAX + i) * AT_TMAX;
            double s = 0;
            for (int j = 0; j < AT_TMAX; j++) {
                s += row[j];
                if (j > i)
                    CHECK(row[j] == 0.0f);
            }
            CHECK_NEAR(s, 1, 1e-5);
        }
}

static void attention_backward_matches_finite_differences(int T, size_t stride, float h,
                                                          double floor)
{
    static at_case k;
    static float dqkv[AT_B * AT_TMAX * 3 * AT_C], datt[AT_B * AT_NH * AT_TMAX * AT_TMAX];
    at_setup(&k, T, 5 + T);
    size_t n = (size_t)AT_B * T * 3 * AT_C;
    memset(dqkv, 0, sizeof dqkv);
    at_loss(&k);
    attention_backward(dqkv, datt, k.u, k.qkv, k.att, AT_B, T, AT_C, AT_NH);
    CHECK(gradcheck("dqkv", at_loss, &k, k.qkv, dqkv, n, stride, h, floor) <=
          GRAD_TOL);
}

static void attention_backward_matches_finite_differences_short(void)
{
    attention_backward_matches_finite_differences(5, 1, GRAD_H, GRAD_FLOOR);
}

static void attention_backward_matches_finite_differences_across_blocks(void)
{
    /* the loss sums 1120 outputs: its float32 rounding, about 1e-6, makes the numeric
     * derivative noisy near 1e-4 at h = 1e-2; a wider step (the fourth-order difference
     * keeps its truncation error small) and gradients under 1e-2 compared absolutely */
    attention_backward_matches_finite_differences(AT_TMAX, 7, 5e-2f, 1e-2);
}

static void attention_step_matches_forward_at_each_position(void)
{
    static at_case k;
    at_setup(&k, AT_TMAX, 6);
    at_loss(&k);
    /* keys and values of batch row 1 as a cache: (T, C) with row stride C */
    static float kc[AT_TMAX * AT_C], vc[AT_TMAX * AT_C];
    float out[AT_C], att[AT_NH * AT_TMAX];
    double worst = 0;
    for (int t = 0; t < AT_TMAX; t++) {
        const float *row = k.qkv + ((long)AT_TMAX + t) * 3 * AT_C;
        memcpy(kc + t * AT_C, row + AT_C, sizeof(float) * AT_C);
        memcpy(vc + t * AT_C, row + 2 * AT_C, sizeof(float) * AT_C);
        attention_step(out, att, row, kc, vc, t + 1, AT_C, AT_NH);
        for (int c = 0; c < AT_C; c++)
            worst = fmax(worst, fabs(out[c] - k.out[((long)AT_TMAX + t) * AT_C + c]));
    }
    CHECK(worst < 1e-5);
}

int main(void)
{
    RUN(layernorm_normalizes_each_row);
    RUN(layernorm_backward_matches_finite_differences);
    RUN(layernorm_backward_accumulates);
    RUN(attention_forward_matches_direct_computation);
    RUN(attention_backward_matches_finite_differences_short);
    RUN(attention_backward_matches_finite_differences_across_blocks);
    RUN(attention_step_matches_forward_at_each_position);
    return check_done();
}
