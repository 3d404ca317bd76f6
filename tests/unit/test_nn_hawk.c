/* Unit tests of Hawk's layers: RMSNorm, the causal depthwise conv and the RG-LRU in lib/nn,
 * and the recurrent block and gated MLP of lib/model/hawk.h.  Each forward is checked
 * against a direct computation from its definition, each backward against finite
 * differences, and each one-step function against the forward pass over the sequence.
 *
 * Finite differences (gradcheck.h) are fourth-order with h = 5e-2; the error, relative with
 * a floor of 1e-3, must be at most 1e-2.  The layers compute in float32, so the numeric
 * derivative carries rounding noise of about 1e-7 |L| / h: at h = 1e-2 that noise alone
 * reaches 1e-2 on the smallest gradients of the recurrent block, at h = 5e-2 the worst
 * error seen is 3e-3, while a wrong gradient is off by far more. */
#include <stdint.h>

#include "base/rng.h"
#include "check.h"
#include "gradcheck.h"
#include "model/hawk.h"
#include "nn/conv1d.h"
#include "nn/rglru.h"
#include "nn/rmsnorm.h"

#define GRAD_H 5e-2f
#define GRAD_FLOOR 1e-3
#define GRAD_TOL 1e-2

/* A test's arrays, all carved out of one zeroed allocation and freed together. */
typedef struct {
    float *mem;
    size_t used, cap;
} pool;

static pool pool_new(size_t cap) { return (pool){xcalloc(cap, sizeof(float)), 0, cap}; }

static float *take(pool *p, size_t n)
{
    if (p->used + n > p->cap)
        die(EX_SOFTWARE, "test pool too small");
    float *x = p->mem + p->used;
    p->used += n;
    return x;
}

static float *take_normal(pool *p, size_t n, rng_t *r, double mean, double std)
{
    float *x = take(p, n);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(mean + std * rng_normal(r));
    return x;
}

/* A linear layer (in, out) with random weights and biases and zeroed gradients. */
static linear take_linear(pool *p, int in, int out, rng_t *r)
{
    return (linear){.in = in,
                    .out = out,
                    .w = take_normal(p, (size_t)in * out, r, 0.0, 1.0 / sqrt(in)),
                    .b = take_normal(p, (size_t)out, r, 0.0, 0.3),
                    .dw = take(p, (size_t)in * out),
                    .db = take(p, (size_t)out)};
}

/* Λ with σ(Λ)^8 spread over [0.5, 0.999]: channels with fast and with slow decay. */
static float *take_lambda(pool *p, int D, rng_t *r)
{
    float *lambda = take(p, (size_t)D);
    for (int d = 0; d < D; d++) {
        double s = pow(0.5 + 0.499 * rng_uniform(r), 1.0 / RGLRU_C);
        lambda[d] = (float)log(s / (1 - s));
    }
    return lambda;
}

/* L = sum_i u_i out_i with fixed random u, summed in double: dL/dout = u. */
static double weighted_sum(const float *out, const float *u, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)u[i] * out[i];
    return s;
}

static void check_grad(const char *what, double (*f)(void *), void *ctx, float *x,
                       const float *g, size_t n)
{
    double err = gradcheck(what, f, ctx, x, g, n, 1, GRAD_H, GRAD_FLOOR);
    if (!(err <= GRAD_TOL)) {
        char m[160];
        snprintf(m, sizeof m, "%s: finite-difference error %.3g > %g", what, err, GRAD_TOL);
        check_fail_(__FILE__, __LINE__, m);
    }
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    return worst;
}

/* ---- rmsnorm ---- */

enum { RN_N = 3, RN_C = 8 };

typedef struct {
    float *x, *weight, *y, *rstd, *u;
} rn_case;

static double rn_loss(void *ctx)
{
    rn_case *k = ctx;
    rmsnorm_forward(k->y, k->rstd, k->x, k->weight, RN_N, RN_C);
    return weighted_sum(k->y, k->u, RN_N * RN_C);
}

static rn_case rn_setup(pool *p, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    return (rn_case){.x = take_normal(p, RN_N * RN_C, &r, 0.5, 2.0),
                     .weight = take_normal(p, RN_C, &r, 1.0, 0.3),
                     .y = take(p, RN_N * RN_C),
                     .rstd = take(p, RN_N),
                     .u = take_normal(p, RN_N * RN_C, &r, 0.0, 1.0)};
}

static void rmsnorm_divides_each_row_by_its_rms(void)
{
    pool p = pool_new(1024);
    rn_case k = rn_setup(&p, 1);
    rn_loss(&k);
    for (int n = 0; n < RN_N; n++) {
        double ms = 0;
        for (int c = 0; c < RN_C; c++)
            ms += (double)k.x[n * RN_C + c] * k.x[n * RN_C + c] / RN_C;
        double s = 1 / sqrt(ms + 1e-6);
        CHECK_NEAR(k.rstd[n], s, 1e-6 * s);
        for (int c = 0; c < RN_C; c++)
            CHECK_NEAR(k.y[n * RN_C + c], k.x[n * RN_C + c] * s * k.weight[c], 1e-6);
    }
    free(p.mem);
}

static void rmsnorm_backward_matches_finite_differences(void)
{
    pool p = pool_new(1024);
    rn_case k = rn_setup(&p, 2);
    float *dx = take(&p, RN_N * RN_C), *dweight = take(&p, RN_C);
    rn_loss(&k);
    rmsnorm_backward(dx, dweight, k.u, k.x, k.weight, k.rstd, RN_N, RN_C);
    check_grad("rmsnorm dx", rn_loss, &k, k.x, dx, RN_N * RN_C);
    check_grad("rmsnorm dweight", rn_loss, &k, k.weight, dweight, RN_C);
    free(p.mem);
}

/* ---- conv1d ---- */

enum { CV_B = 2, CV_T = 6, CV_D = 5, CV_K = 4, CV_N = CV_B * CV_T * CV_D };

typedef struct {
    conv1d c;
    float *x, *y, *u;
} cv_case;

static double cv_loss(void *ctx)
{
    cv_case *k = ctx;
    conv1d_forward(&k->c, k->y, k->x, CV_B, CV_T);
    return weighted_sum(k->y, k->u, CV_N);
}

static cv_case cv_setup(pool *p, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    return (cv_case){.c = {.K = CV_K,
                           .D = CV_D,
                           .w = take_normal(p, CV_K * CV_D, &r, 0.0, 0.5),
                           .b = take_normal(p, CV_D, &r, 0.0, 0.3),
                           .dw = take(p, CV_K * CV_D),
                           .db = take(p, CV_D)},
                     .x = take_normal(p, CV_N, &r, 0.0, 1.0),
                     .y = take(p, CV_N),
                     .u = take_normal(p, CV_N, &r, 0.0, 1.0)};
}

/* An impulse at (b = 0, t = 1) reads out the taps in order: y[0, 1 + k] = b + w[k]; before
 * it and in the other sequence there is only the bias. */
static void conv1d_impulse_reads_out_the_taps_in_lag_order(void)
{
    pool p = pool_new(1024);
    cv_case k = cv_setup(&p, 3);
    memset(k.x, 0, CV_N * sizeof(float));
    for (int d = 0; d < CV_D; d++)
        k.x[1 * CV_D + d] = 1.0f;
    cv_loss(&k);
    for (int b = 0; b < CV_B; b++)
        for (int t = 0; t < CV_T; t++)
            for (int d = 0; d < CV_D; d++) {
                int lag = t - 1;
                float want = k.c.b[d];
                if (b == 0 && lag >= 0 && lag < CV_K)
                    want += k.c.w[lag * CV_D + d];
                CHECK(k.y[(b * CV_T + t) * CV_D + d] == want);
            }
    free(p.mem);
}

static void conv1d_backward_matches_finite_differences(void)
{
    pool p = pool_new(1024);
    cv_case k = cv_setup(&p, 4);
    float *dx = take(&p, CV_N);
    cv_loss(&k);
    conv1d_backward(&k.c, dx, k.u, k.x, CV_B, CV_T);
    check_grad("conv1d dx", cv_loss, &k, k.x, dx, CV_N);
    check_grad("conv1d dw", cv_loss, &k, k.c.w, k.c.dw, CV_K * CV_D);
    check_grad("conv1d db", cv_loss, &k, k.c.b, k.c.db, CV_D);
    free(p.mem);
}

static void conv1d_step_matches_forward_at_each_position(void)
{
    pool p = pool_new(1024);
    cv_case k = cv_setup(&p, 5);
    float *hist = take(&p, (CV_K - 1) * CV_D), *y = take(&p, CV_D);
    cv_loss(&k);
    for (int b = 0; b < CV_B; b++) {
        memset(hist, 0, (CV_K - 1) * CV_D * sizeof(float));
        for (int t = 0; t < CV_T; t++) {
            long row = ((long)b * CV_T + t) * CV_D;
            conv1d_step(&k.c, y, hist, k.x + row);
            CHECK(max_abs_diff(y, k.y + row, CV_D) == 0);
        }
    }
    free(p.mem);
}

/* ---- rglru ---- */

enum { LR_B = 2, LR_T = 6, LR_D = 5, LR_N = LR_B * LR_T * LR_D };

typedef struct {
    rglru l;
    rglru_acts a;
    float *x, *u;
} lr_case;

static double lr_loss(void *ctx)
{
    lr_case *k = ctx;
    rglru_forward(&k->l, &k->a, k->x, LR_B, LR_T);
    return weighted_sum(k->a.h, k->u, LR_N);
}

static lr_case lr_setup(pool *p, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    lr_case k = {.l = {.D = LR_D,
                       .a_gate = take_linear(p, LR_D, LR_D, &r),
                       .x_gate = take_linear(p, LR_D, LR_D, &r),
                       .lambda = take_lambda(p, LR_D, &r),
                       .dlambda = take(p, LR_D)},
                 .a = {take(p, LR_N), take(p, LR_N), take(p, LR_N), take(p, LR_N)},
                 .x = take_normal(p, LR_N, &r, 0.0, 1.0),
                 .u = take_normal(p, LR_N, &r, 0.0, 1.0)};
    return k;
}

static rglru_scratch lr_scratch(pool *p)
{
    return (rglru_scratch){take(p, LR_N), take(p, LR_N), take(p, LR_B * LR_D)};
}

static double sigmoid(double z) { return 1 / (1 + exp(-z)); }

/* The recurrence from its definition, in double, for every (b, d). */
static void rglru_follows_its_definition(void)
{
    pool p = pool_new(4096);
    lr_case k = lr_setup(&p, 6);
    lr_loss(&k);
    double worst = 0;
    for (int b = 0; b < LR_B; b++)
        for (int d = 0; d < LR_D; d++) {
            double h = 0;
            for (int t = 0; t < LR_T; t++) {
                const float *x = k.x + ((long)b * LR_T + t) * LR_D;
                double za = k.l.a_gate.b[d], zx = k.l.x_gate.b[d];
                for (int e = 0; e < LR_D; e++) {
                    za += (double)x[e] * k.l.a_gate.w[e * LR_D + d];
                    zx += (double)x[e] * k.l.x_gate.w[e * LR_D + d];
                }
                double a = pow(sigmoid(k.l.lambda[d]), RGLRU_C * sigmoid(za));
                h = a * h + sqrt(1 - a * a) * sigmoid(zx) * x[d];
                worst = fmax(worst, fabs(h - k.a.h[((long)b * LR_T + t) * LR_D + d]));
            }
        }
    CHECK(worst < 1e-6);
    free(p.mem);
}

static void rglru_backward_matches_finite_differences(void)
{
    pool p = pool_new(4096);
    lr_case k = lr_setup(&p, 7);
    rglru_scratch s = lr_scratch(&p);
    float *dx = take(&p, LR_N);
    lr_loss(&k);
    rglru_backward(&k.l, dx, k.u, k.x, &k.a, &s, LR_B, LR_T);
    check_grad("rglru dx", lr_loss, &k, k.x, dx, LR_N);
    check_grad("rglru a_gate.dw", lr_loss, &k, k.l.a_gate.w, k.l.a_gate.dw, LR_D * LR_D);
    check_grad("rglru a_gate.db", lr_loss, &k, k.l.a_gate.b, k.l.a_gate.db, LR_D);
    check_grad("rglru x_gate.dw", lr_loss, &k, k.l.x_gate.w, k.l.x_gate.dw, LR_D * LR_D);
    check_grad("rglru x_gate.db", lr_loss, &k, k.l.x_gate.b, k.l.x_gate.db, LR_D);
    check_grad("rglru dlambda", lr_loss, &k, k.l.lambda, k.l.dlambda, LR_D);
    free(p.mem);
}

/* A recurrence gate shut to exactly 0 makes a = 1 and sqrt(1 - a²) = 0, whose derivative
 * is infinite: the gradients must stay finite (their limit is 0), and h carries over. */
static void rglru_backward_is_finite_when_the_gate_shuts(void)
{
    pool p = pool_new(4096);
    lr_case k = lr_setup(&p, 8);
    rglru_scratch s = lr_scratch(&p);
    float *dx = take(&p, LR_N);
    k.l.a_gate.b[0] = -200.0f; /* σ(-200) is 0 in float32 */
    lr_loss(&k);
    for (int b = 0; b < LR_B; b++)
        for (int t = 0; t < LR_T; t++)
            CHECK(k.a.h[((long)b * LR_T + t) * LR_D] == 0.0f);
    rglru_backward(&k.l, dx, k.u, k.x, &k.a, &s, LR_B, LR_T);
    int finite = 1;
    for (int i = 0; i < LR_N; i++)
        finite &= isfinite(dx[i]);
    for (int i = 0; i < LR_D * LR_D; i++)
        finite &= isfinite(k.l.a_gate.dw[i]) && isfinite(k.l.x_gate.dw[i]);
    for (int d = 0; d < LR_D; d++)
        finite &= isfinite(k.l.dlambda[d]);
    CHECK(finite);
    CHECK(k.l.dlambda[0] == 0.0f);
    free(p.mem);
}

static void rglru_step_matches_forward_at_each_position(void)
{
    pool p = pool_new(4096);
    lr_case k = lr_setup(&p, 9);
    float *h = take(&p, LR_D), *r = take(&p, LR_D), *i = take(&p, LR_D);
    lr_loss(&k);
    double worst = 0;
    for (int b = 0; b < LR_B; b++) {
        memset(h, 0, LR_D * sizeof(float));
        for (int t = 0; t < LR_T; t++) {
            long row = ((long)b * LR_T + t) * LR_D;
            rglru_step(&k.l, h, r, i, k.x + row);
            worst = fmax(worst, max_abs_diff(h, k.a.h + row, LR_D));
        }
    }
    CHECK(worst < 1e-6);
    free(p.mem);
}

/* ---- the recurrent block ---- */

/* K = 3 and lru != C, so neither the conv width nor a transposed shape is assumed. */
enum { RB_B = 2, RB_T = 5, RB_C = 6, RB_R = 4, RB_K = 3 };
enum { RB_NC = RB_B * RB_T * RB_C, RB_NR = RB_B * RB_T * RB_R };

typedef struct {
    hawk_recurrent rb;
    hawk_recurrent_acts a;
    float *x, *out, *u;
} rb_case;

static double rb_loss(void *ctx)
{
    rb_case *k = ctx;
    hawk_recurrent_forward(&k->rb, k->out, &k->a, k->x, RB_B, RB_T);
    return weighted_sum(k->out, k->u, RB_NC);
}

static rb_case rb_setup(pool *p, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    rb_case k;
    k.rb.gate = take_linear(p, RB_C, RB_R, &r);
    k.rb.in = take_linear(p, RB_C, RB_R, &r);
    k.rb.conv = (conv1d){.K = RB_K,
                         .D = RB_R,
                         .w = take_normal(p, RB_K * RB_R, &r, 0.0, 1 / sqrt(RB_K)),
                         .b = take_normal(p, RB_R, &r, 0.0, 0.3),
                         .dw = take(p, RB_K * RB_R),
                         .db = take(p, RB_R)};
    k.rb.lru = (rglru){.D = RB_R,
                       .a_gate = take_linear(p, RB_R, RB_R, &r),
                       .x_gate = take_linear(p, RB_R, RB_R, &r),
                       .lambda = take_lambda(p, RB_R, &r),
                       .dlambda = take(p, RB_R)};
    k.rb.out = take_linear(p, RB_R, RB_C, &r);
    k.a = (hawk_recurrent_acts){
        take(p, RB_NR), take(p, RB_NR), take(p, RB_NR), take(p, RB_NR),
        {take(p, RB_NR), take(p, RB_NR), take(p, RB_NR), take(p, RB_NR)}, take(p, RB_NR)};
    k.x = take_normal(p, RB_NC, &r, 0.0, 1.0);
    k.out = take(p, RB_NC);
    k.u = take_normal(p, RB_NC, &r, 0.0, 1.0);
    return k;
}

static void recurrent_block_backward_matches_finite_differences(void)
{
    pool p = pool_new(8192);
    rb_case k = rb_setup(&p, 10);
    hawk_recurrent_scratch s = {take(&p, RB_NR), take(&p, RB_NR), take(&p, RB_NR),
                                take(&p, RB_NR), take(&p, RB_NR), take(&p, RB_NR),
                                {take(&p, RB_NR), take(&p, RB_NR), take(&p, RB_B * RB_R)}};
    float *dx = take(&p, RB_NC);
    rb_loss(&k);
    hawk_recurrent_backward(&k.rb, dx, k.u, k.x, &k.a, &s, RB_B, RB_T);
    hawk_recurrent *rb = &k.rb;
    check_grad("block dx", rb_loss, &k, k.x, dx, RB_NC);
    const linear *lins[] = {&rb->gate, &rb->in, &rb->lru.a_gate, &rb->lru.x_gate, &rb->out};
    const char *names[] = {"gate", "in", "lru.a_gate", "lru.x_gate", "out"};
    for (int j = 0; j < 5; j++) {
        char what[64];
        snprintf(what, sizeof what, "block %s.dw", names[j]);
        check_grad(what, rb_loss, &k, lins[j]->w, lins[j]->dw, (size_t)lins[j]->in * lins[j]->out);
        snprintf(what, sizeof what, "block %s.db", names[j]);
        check_grad(what, rb_loss, &k, lins[j]->b, lins[j]->db, (size_t)lins[j]->out);
    }
    check_grad("block conv.dw", rb_loss, &k, rb->conv.w, rb->conv.dw, RB_K * RB_R);
    check_grad("block conv.db", rb_loss, &k, rb->conv.b, rb->conv.db, RB_R);
    check_grad("block lru.dlambda", rb_loss, &k, rb->lru.lambda, rb->lru.dlambda, RB_R);
    free(p.mem);
}

/* ---- the gated MLP ---- */

enum { MLP_N = 4, MLP_C = 5, MLP_H = 7 };

typedef struct {
    hawk_mlp mlp;
    hawk_mlp_acts a;
    float *x, *out, *u;
} mlp_case;

static double mlp_loss(void *ctx)
{
    mlp_case *k = ctx;
    hawk_mlp_forward(&k->mlp, k->out, &k->a, k->x, MLP_N);
    return weighted_sum(k->out, k->u, MLP_N * MLP_C);
}

static mlp_case mlp_setup(pool *p, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    return (mlp_case){.mlp = {take_linear(p, MLP_C, MLP_H, &r), take_linear(p, MLP_C, MLP_H, &r),
                              take_linear(p, MLP_H, MLP_C, &r)},
                      .a = {take(p, MLP_N * MLP_H), take(p, MLP_N * MLP_H),
                            take(p, MLP_N * MLP_H), take(p, MLP_N * MLP_H)},
                      .x = take_normal(p, MLP_N * MLP_C, &r, 0.0, 1.0),
                      .out = take(p, MLP_N * MLP_C),
                      .u = take_normal(p, MLP_N * MLP_C, &r, 0.0, 1.0)};
}

static void mlp_forward_is_a_gated_gelu_unit(void)
{
    pool p = pool_new(4096);
    mlp_case k = mlp_setup(&p, 11);
    mlp_loss(&k);
    double worst = 0;
    for (int n = 0; n < MLP_N; n++)
        for (int c = 0; c < MLP_C; c++) {
            double o = k.mlp.fc3.b[c];
            for (int j = 0; j < MLP_H; j++) {
                double z1 = k.mlp.fc1.b[j], z2 = k.mlp.fc2.b[j];
                for (int e = 0; e < MLP_C; e++) {
                    z1 += (double)k.x[n * MLP_C + e] * k.mlp.fc1.w[e * MLP_H + j];
                    z2 += (double)k.x[n * MLP_C + e] * k.mlp.fc2.w[e * MLP_H + j];
                }
                double g = 0.5 * z1 * (1 + tanh(sqrt(2 / M_PI) * (z1 + 0.044715 * z1 * z1 * z1)));
                o += g * z2 * k.mlp.fc3.w[j * MLP_C + c];
            }
            worst = fmax(worst, fabs(o - k.out[n * MLP_C + c]));
        }
    CHECK(worst < 1e-5);
    free(p.mem);
}

static void mlp_backward_matches_finite_differences(void)
{
    pool p = pool_new(4096);
    mlp_case k = mlp_setup(&p, 12);
    hawk_mlp_scratch s = {take(&p, MLP_N * MLP_H), take(&p, MLP_N * MLP_H),
                          take(&p, MLP_N * MLP_H), take(&p, MLP_N * MLP_H)};
    float *dx = take(&p, MLP_N * MLP_C);
    mlp_loss(&k);
    hawk_mlp_backward(&k.mlp, dx, k.u, k.x, &k.a, &s, MLP_N);
    check_grad("mlp dx", mlp_loss, &k, k.x, dx, MLP_N * MLP_C);
    linear *fc[] = {&k.mlp.fc1, &k.mlp.fc2, &k.mlp.fc3};
    for (int j = 0; j < 3; j++) {
        char what[64];
        snprintf(what, sizeof what, "mlp fc%d.dw", j + 1);
        check_grad(what, mlp_loss, &k, fc[j]->w, fc[j]->dw, (size_t)fc[j]->in * fc[j]->out);
        snprintf(what, sizeof what, "mlp fc%d.db", j + 1);
        check_grad(what, mlp_loss, &k, fc[j]->b, fc[j]->db, (size_t)fc[j]->out);
    }
    free(p.mem);
}

int main(void)
{
    RUN(rmsnorm_divides_each_row_by_its_rms);
    RUN(rmsnorm_backward_matches_finite_differences);
    RUN(conv1d_impulse_reads_out_the_taps_in_lag_order);
    RUN(conv1d_backward_matches_finite_differences);
    RUN(conv1d_step_matches_forward_at_each_position);
    RUN(rglru_follows_its_definition);
    RUN(rglru_backward_matches_finite_differences);
    RUN(rglru_backward_is_finite_when_the_gate_shuts);
    RUN(rglru_step_matches_forward_at_each_position);
    RUN(recurrent_block_backward_matches_finite_differences);
    RUN(mlp_forward_is_a_gated_gelu_unit);
    RUN(mlp_backward_matches_finite_differences);
    return check_done();
}
