/* Unit tests of lib/quant/int8_linear: the integer product against the float product of
 * the dequantized weights and activations (quantized here, independently of quant.c),
 * its distance from the float32 layer, one row alone against the same row in a batch and
 * across thread counts, and the layer as it was after detaching; each with the kernel the
 * machine picks and with the portable one, which must agree bit for bit. */
#include <float.h>
#include <omp.h>
#include <stdbool.h>

#include "base/rng.h"
#include "check.h"
#include "quant/int8_linear.h"
#include "quant/int8_vnni.h"

static bool portable; /* the pass of the tests that forces the portable kernel */

/* A layer with weights and bias drawn from N(0, 1) (bias scaled by 0.1). */
typedef struct {
    linear l;
    float *w, *b;
} layer;

static void layer_init(layer *t, int in, int out, bool bias, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    t->w = xmalloc((size_t)in * out * sizeof *t->w);
    t->b = bias ? xmalloc((size_t)out * sizeof *t->b) : NULL;
    for (size_t i = 0; i < (size_t)in * out; i++)
        t->w[i] = (float)rng_normal(&r);
    for (int o = 0; bias && o < out; o++)
        t->b[o] = 0.1f * (float)rng_normal(&r);
    t->l = (linear){.in = in, .out = out, .w = t->w, .b = t->b};
}

static void layer_free(layer *t)
{
    free(t->w);
    free(t->b);
}

static float *normal(int n, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    float *x = xmalloc((size_t)n * sizeof *x);
    for (int i = 0; i < n; i++)
        x[i] = (float)rng_normal(&r);
    return x;
}

/* Symmetric 8-bit codes of a vector of len elements stride apart, as the header states
 * them: s = max |v| / 127, q = round(v / s), ties away from zero. */
static float codes_of(int *q, const float *v, int len, size_t stride)
{
    float m = 0.0f;
    for (int i = 0; i < len; i++)
        m = fmaxf(m, fabsf(v[i * stride]));
    float s = fmaxf(m / 127.0f, 1e-30f);
    for (int i = 0; i < len; i++)
        q[i] = (int)roundf(fminf(fmaxf(v[i * stride] / s, -127.0f), 127.0f));
    return s;
}

/* Every output against Σ (s_t q_ti)(s_o q_io) + b_o in double: the sum of integer
 * products is exact in the layer, so only the scaling's few roundings may differ. */
static void check_against_dequantized(int in, int out, int n, bool bias)
{
    layer t;
    layer_init(&t, in, out, bias, 7);
    float *x = normal(n * in, 8), *y = xmalloc((size_t)n * out * sizeof *y);
    int *qw = xmalloc((size_t)in * out * sizeof *qw), *qx = xmalloc((size_t)in * sizeof *qx);
    float *sw = xmalloc((size_t)out * sizeof *sw);
    for (int o = 0; o < out; o++)
        sw[o] = codes_of(qw + (size_t)o * in, t.w + o, in, (size_t)out);
    linear *lp = &t.l;
    int8_linear_set *s = int8_linear_attach(&lp, 1);
    linear_forward(&t.l, y, x, n);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        float sx = codes_of(qx, x + (size_t)i * in, in, 1);
        for (int o = 0; o < out; o++) {
            double dot = 0, mag = 0;
            for (int k = 0; k < in; k++) {
                double p = (double)(sx * (float)qx[k]) * (double)(sw[o] * (float)qw[(size_t)o * in + k]);
                dot += p;
                mag += fabs(p);
            }
            double b = bias ? t.b[o] : 0.0, ref = dot + b;
            double err = fabs(y[(size_t)i * out + o] - ref) / (4 * FLT_EPSILON * (mag + fabs(b)) + 1e-30);
            worst = err > worst ? err : worst;
        }
    }
    CHECK(worst <= 1.0); /* within 4 float epsilons of the magnitude summed */
    int8_linear_free(s);
    layer_free(&t);
    free(x);
    free(y);
    free(qw);
    free(qx);
    free(sw);
}

static void product_is_the_dequantized_float_product(void)
{
    check_against_dequantized(70, 37, 9, true);  /* in padded; 2 blocks of 4 rows and 1 */
    check_against_dequantized(64, 5, 1, false);  /* one token, no bias */
    check_against_dequantized(384, 96, 6, true); /* a width of config M */
}

/* Rounding both operands to 8 bits costs about 1% of the output's size here (each
 * element's error is uniform over a step of 3σ/127 or so); the bound stated is 2% of
 * the RMS of the float32 output, per layer. */
static void close_to_float32(void)
{
    int in = 384, out = 256, n = 8;
    layer t;
    layer_init(&t, in, out, true, 11);
    float *x = normal(n * in, 12);
    float *ref = xmalloc((size_t)n * out * sizeof *ref), *y = xmalloc((size_t)n * out * sizeof *y);
    linear_forward(&t.l, ref, x, n);
    linear *lp = &t.l;
    int8_linear_set *s = int8_linear_attach(&lp, 1);
    linear_forward(&t.l, y, x, n);
    double se = 0, sr = 0;
    for (int i = 0; i < n * out; i++) {
        se += (double)(y[i] - ref[i]) * (y[i] - ref[i]);
        sr += (double)ref[i] * ref[i];
    }
    double rel = sqrt(se / sr);
    CHECK(rel < 0.02);
    CHECK(rel > 1e-4); /* and the product really is quantized */
    int8_linear_free(s);
    layer_free(&t);
    free(x);
    free(ref);
    free(y);
}

/* The same row alone (n == 1, the sampling path), in a batch (rows by four), on one thread
 * or two: bit for bit the same.  512 x 512 reaches PARALLEL_MIN_MACS even for one row. */
static void one_row_equals_its_row_in_a_batch(void)
{
    int in = 512, out = 512, n = 7;
    layer t;
    layer_init(&t, in, out, true, 21);
    float *x = normal(n * in, 22);
    float *batch = xmalloc((size_t)n * out * sizeof *batch), *one = xmalloc((size_t)out * sizeof *one);
    float *batch1 = xmalloc((size_t)n * out * sizeof *batch1);
    linear *lp = &t.l;
    int8_linear_set *s = int8_linear_attach(&lp, 1);
    int threads = omp_get_max_threads();
    omp_set_num_threads(2);
    linear_forward(&t.l, batch, x, n);
    for (int i = 0; i < n; i++) {
        linear_forward(&t.l, one, x + (size_t)i * in, 1);
        CHECK(memcmp(one, batch + (size_t)i * out, (size_t)out * sizeof *one) == 0);
    }
    omp_set_num_threads(1);
    linear_forward(&t.l, batch1, x, n);
    CHECK(memcmp(batch1, batch, (size_t)n * out * sizeof *batch) == 0);
    omp_set_num_threads(threads);
    int8_linear_free(s);
    layer_free(&t);
    free(x);
    free(batch);
    free(batch1);
    free(one);
}

/* Attached, the layer computes in int8 and the same call gives the same bytes again;
 * detached, the layer is as it was. */
static void detach_restores_the_layer(void)
{
    int in = 40, out = 24, n = 3;
    layer t;
    layer_init(&t, in, out, true, 31);
    float *w0 = xmalloc((size_t)in * out * sizeof *w0);
    memcpy(w0, t.w, (size_t)in * out * sizeof *w0);
    float *x = normal(n * in, 32), *ref = xmalloc((size_t)n * out * sizeof *ref);
    float *a = xmalloc((size_t)n * out * sizeof *a), *b = xmalloc((size_t)n * out * sizeof *b);
    linear_forward(&t.l, ref, x, n);
    linear *lp = &t.l;
    int8_linear_set *s = int8_linear_attach(&lp, 1);
    CHECK(t.l.ext != NULL);
    if (portable || !int8_vnni_supported())
        CHECK_EQ_INT(int8_linear_bytes(s), 24 * 128 + 24 * 4); /* in padded to 128 */
    else /* one panel of 32 outputs: 40 codes and an offset each */
        CHECK_EQ_INT(int8_linear_bytes(s), 32 * (40 + 4) + 24 * 4);
    linear_forward(&t.l, a, x, n);
    linear_forward(&t.l, b, x, n);
    CHECK(memcmp(a, b, (size_t)n * out * sizeof *a) == 0);
    CHECK(memcmp(a, ref, (size_t)n * out * sizeof *a) != 0);
    int8_linear_free(s);
    CHECK(t.l.ext == NULL);
    CHECK_EQ_INT(t.l.in, in);
    CHECK(memcmp(t.w, w0, (size_t)in * out * sizeof *w0) == 0);
    linear_forward(&t.l, b, x, n);
    CHECK(memcmp(b, ref, (size_t)n * out * sizeof *b) == 0);
    layer_free(&t);
    free(w0);
    free(x);
    free(ref);
    free(a);
    free(b);
}

static void refuses_layers_that_learn_or_have_an_extension(void)
{
    layer t;
    layer_init(&t, 8, 8, false, 41);
    float dw[64];
    t.l.dw = dw;
    linear *lp = &t.l;
    EXPECT_DIE(EX_SOFTWARE, int8_linear_attach(&lp, 1));
    t.l.dw = NULL;
    linear_ext other = {0};
    t.l.ext = &other;
    EXPECT_DIE(EX_SOFTWARE, int8_linear_attach(&lp, 1));
    layer_free(&t);
}

static void forward_with(bool force_portable, layer *t, float *y, const float *x, int n)
{
    int8_linear_force_portable(force_portable);
    linear *lp = &t->l;
    int8_linear_set *s = int8_linear_attach(&lp, 1);
    linear_forward(&t->l, y, x, n);
    int8_linear_free(s);
    int8_linear_force_portable(portable);
}

/* The kernel the machine picks (VNNI where it runs) against the portable one: the same
 * bytes, for inputs that are not a multiple of 4, outputs that do not fill a panel, and
 * row counts around the tiles'. */
static void kernels_agree(void)
{
    if (!int8_vnni_supported())
        printf("# this processor has no AVX-512 VNNI: the portable kernel is compared with itself\n");
    const int shapes[][3] = {{70, 37, 9}, {384, 96, 1}, {384, 1536, 17}, {1537, 5, 15}, {4, 64, 3}};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        int in = shapes[c][0], out = shapes[c][1], n = shapes[c][2];
        layer t;
        layer_init(&t, in, out, c % 2 == 0, 51 + c);
        float *x = normal(n * in, 61 + c);
        float *a = xmalloc((size_t)n * out * sizeof *a), *b = xmalloc((size_t)n * out * sizeof *b);
        forward_with(false, &t, a, x, n);
        forward_with(true, &t, b, x, n);
        CHECK(memcmp(a, b, (size_t)n * out * sizeof *a) == 0);
        layer_free(&t);
        free(x);
        free(a);
        free(b);
    }
}

int main(void)
{
    for (int pass = 0; pass < 2; pass++) {
        portable = pass == 1;
        int8_linear_force_portable(portable);
        RUN(product_is_the_dequantized_float_product);
        RUN(close_to_float32);
        RUN(one_row_equals_its_row_in_a_batch);
        RUN(detach_restores_the_layer);
        RUN(refuses_layers_that_learn_or_have_an_extension);
    }
    RUN(kernels_agree);
    return check_done();
}
