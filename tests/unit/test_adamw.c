/* Unit tests of lib/optim: the AdamW update against values worked out by hand, clipping,
 * the learning-rate schedule, and thread-independence of the gradient norm. */
#include <math.h>
#include <omp.h>

#include "check.h"
#include "nn/params.h"
#include "optim/adamw.h"

/* Three learning parameters: w (2, decays) and b (1, does not), and a frozen f (1).
 * The loss is 0.5 * sum(p^2), so the gradient is p itself.  With lr 0.1, betas
 * (0.9, 0.999), eps 1e-8 and weight decay 0.1:
 *   step 1: m̂ = g and v̂ = g², so each parameter moves by lr * sign(g) after decay:
 *           w0 = 1 * (1 - 0.01) - 0.1 = 0.89,  w1 = -2 * 0.99 + 0.1 = -1.88,
 *           b = 0.5 - 0.1 = 0.4 (no decay)
 *   step 2: w0: g = 0.89, m = 0.9 * 0.1 + 0.1 * 0.89 = 0.179,
 *           v = 0.999 * 0.001 + 0.001 * 0.89² = 0.0017911,
 *           m̂ = 0.179 / 0.19 = 0.942105, v̂ = 0.0017911 / 0.001999 = 0.895998,
 *           w0 = 0.89 * 0.99 - 0.1 * 0.942105 / sqrt(0.895998) = 0.781572
 *   step 3 likewise (worked in double precision). */
static void adamw_matches_hand_computed_three_steps(void)
{
    param_set ps = {0};
    int w = param_add(&ps, "w", PARAM_DECAY, 1, (int64_t[]){2});
    int b = param_add(&ps, "b", 0, 1, (int64_t[]){1});
    int f = param_add(&ps, "f", PARAM_FROZEN | PARAM_DECAY, 1, (int64_t[]){1});
    param_alloc(&ps);
    param_alloc_grads(&ps);
    param_w(&ps, w)[0] = 1.0f;
    param_w(&ps, w)[1] = -2.0f;
    param_w(&ps, b)[0] = 0.5f;
    param_w(&ps, f)[0] = 3.0f;
    adamw o;
    adamw_init(&o, &ps, (adamw_hparams){.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                                        .weight_decay = 0.1});
    static const double want[3][3] = {
        {0.890000001, -1.880000000, 0.400000002},
        {0.781571857, -1.761408951, 0.301187424},
        {0.675101223, -1.644368684, 0.204871256},
    };
    for (int t = 0; t < 3; t++) {
        for (int k = 0; k < ps.n; k++)
            for (size_t i = 0; i < ps.info[k].count; i++)
                param_g(&ps, k)[i] = param_w(&ps, k)[i];
        adamw_step(&o, 0.1);
        CHECK_NEAR(param_w(&ps, w)[0], want[t][0], 1e-6);
        CHECK_NEAR(param_w(&ps, w)[1], want[t][1], 1e-6);
        CHECK_NEAR(param_w(&ps, b)[0], want[t][2], 1e-6);
        CHECK(param_w(&ps, f)[0] == 3.0f); /* frozen: no decay, no update */
    }
    CHECK_NEAR(o.m[ps.info[w].offset], 0.239257186, 1e-7);
    CHECK_NEAR(o.v[ps.info[w].offset + 1], 0.0106254311, 1e-9);
    CHECK(o.m[ps.info[f].offset] == 0.0f);
    CHECK_EQ_INT(o.t, 3);
    adamw_free(&o);
    param_free(&ps);
}

/* The norm covers learning tensors only: grads (3, 4) and a frozen 100 give 5; clipping
 * to 1 scales by 1 / (5 + 1e-6) and leaves the frozen gradient alone. */
static void clip_scales_to_max_norm_and_skips_frozen(void)
{
    param_set ps = {0};
    int a = param_add(&ps, "a", 0, 1, (int64_t[]){2});
    int f = param_add(&ps, "f", PARAM_FROZEN, 1, (int64_t[]){1});
    param_alloc(&ps);
    param_alloc_grads(&ps);
    param_g(&ps, a)[0] = 3;
    param_g(&ps, a)[1] = 4;
    param_g(&ps, f)[0] = 100;
    adamw o;
    adamw_init(&o, &ps, (adamw_hparams){.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8});
    CHECK_NEAR(adamw_grad_norm(&o), 5.0, 1e-12);
    CHECK_NEAR(adamw_clip(&o, 10.0), 5.0, 1e-12); /* under the limit: untouched */
    CHECK(param_g(&ps, a)[0] == 3.0f);
    CHECK_NEAR(adamw_clip(&o, 1.0), 5.0, 1e-12);
    CHECK_NEAR(param_g(&ps, a)[0], 3 / (5 + 1e-6), 1e-6);
    CHECK_NEAR(param_g(&ps, a)[1], 4 / (5 + 1e-6), 1e-6);
    CHECK_NEAR(adamw_grad_norm(&o), 1.0, 1e-6);
    CHECK(param_g(&ps, f)[0] == 100.0f);
    CHECK_NEAR(adamw_clip(&o, 0), 1.0, 1e-6); /* 0: no clipping, the norm still reported */
    adamw_free(&o);
    param_free(&ps);
}

static void schedule_warms_up_linearly_then_decays_to_min_lr(void)
{
    /* 10 steps, 4 of warmup, lr 1, min_lr 0.1 */
    CHECK_NEAR(lr_schedule(1, 10, 4, 1.0, 0.1), 0.25, 1e-15);
    CHECK_NEAR(lr_schedule(2, 10, 4, 1.0, 0.1), 0.5, 1e-15);
    CHECK_NEAR(lr_schedule(4, 10, 4, 1.0, 0.1), 1.0, 1e-15);
    /* halfway through the decay (step 7 of 5..10 is 3/6): the cosine is at its midpoint */
    CHECK_NEAR(lr_schedule(7, 10, 4, 1.0, 0.1), 0.55, 1e-12);
    CHECK_NEAR(lr_schedule(5, 10, 4, 1.0, 0.1), 0.1 + 0.45 * (1 + cos(M_PI / 6)), 1e-12);
    CHECK_NEAR(lr_schedule(10, 10, 4, 1.0, 0.1), 0.1, 1e-12);
    /* no warmup: the first step is already past it */
    CHECK_NEAR(lr_schedule(1, 2, 0, 1.0, 0.0), 0.5, 1e-12);
    CHECK_NEAR(lr_schedule(2, 2, 0, 1.0, 0.0), 0.0, 1e-12);
    /* lr == min_lr: constant */
    for (uint64_t s = 1; s <= 10; s++)
        CHECK_NEAR(lr_schedule(s, 10, 0, 0.3, 0.3), 0.3, 1e-15);
}

/* The norm adds fixed blocks in a fixed order: bit-identical with 1 and 2 threads. */
static void grad_norm_does_not_depend_on_threads(void)
{
    param_set ps = {0};
    int a = param_add(&ps, "a", 0, 1, (int64_t[]){300001});
    param_alloc(&ps);
    param_alloc_grads(&ps);
    for (int i = 0; i < 300001; i++)
        param_g(&ps, a)[i] = sinf((float)i) * 1e-3f;
    adamw o;
    adamw_init(&o, &ps, (adamw_hparams){.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8});
    omp_set_num_threads(1);
    double one = adamw_grad_norm(&o);
    omp_set_num_threads(2);
    double two = adamw_grad_norm(&o);
    CHECK(one == two);
    CHECK_NEAR(one, sqrt(300001 * 0.5) * 1e-3, 1e-3 * one);
    adamw_free(&o);
    param_free(&ps);
}

int main(void)
{
    RUN(adamw_matches_hand_computed_three_steps);
    RUN(clip_scales_to_max_norm_and_skips_frozen);
    RUN(schedule_warms_up_linearly_then_decays_to_min_lr);
    RUN(grad_norm_does_not_depend_on_threads);
    return check_done();
}
