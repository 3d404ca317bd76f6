/* Unit tests of lib/quant/nf4: the codes, double-quantized maxima and dequantized weights
 * against tests/ref/nf4/nf4.py (an independent numpy implementation), and the memory. */
#include "check.h"
#include "quant/nf4.h"

enum { N = 64 * 600 };

/* The weights tests/ref/nf4/nf4.py makes, from the same LCG. */
static void reference_weights(float *w)
{
    uint64_t x = 1;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(x >> 40) / (double)(1 << 24);
        w[i] = (float)((u - 0.5) * (1 + i % 7));
    }
}

static void matches_independent_reference(void)
{
    FILE *f = fopen("tests/ref/nf4/expected.bin", "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    size_t nb = N / 64, ns = (nb + 255) / 256;
    uint8_t packed[N / 2];
    int8_t q[N / 64];
    float scales[3], mean, deq[1024];
    CHECK(ns == 3);
    CHECK(fread(packed, 1, sizeof packed, f) == sizeof packed);
    CHECK(fread(q, 1, sizeof q, f) == sizeof q);
    CHECK(fread(scales, sizeof(float), ns, f) == ns);
    CHECK(fread(&mean, sizeof mean, 1, f) == 1);
    CHECK(fread(deq, sizeof(float), 1024, f) == 1024);
    fclose(f);

    float *w = xmalloc(N * sizeof *w), *back = xmalloc(N * sizeof *back);
    reference_weights(w);
    nf4_tensor t;
    nf4_quantize(&t, w, N);
    CHECK(memcmp(t.codes, packed, sizeof packed) == 0);
    CHECK(memcmp(t.absmax_q, q, sizeof q) == 0);
    CHECK(memcmp(t.absmax_scale, scales, sizeof scales) == 0);
    CHECK(t.absmax_mean == mean);
    nf4_dequantize(back, &t);
    CHECK(memcmp(back, deq, sizeof deq) == 0);
    nf4_free(&t);
    free(w);
    free(back);
}

/* 4 + 8/64 + 32/(64*256) bits per weight, plus the mean: 4.127 at this size. */
static void costs_about_4_13_bits_per_weight(void)
{
    float *w = xcalloc(N, sizeof *w);
    nf4_tensor t;
    nf4_quantize(&t, w, N);
    double bits = 8.0 * (double)nf4_bytes(&t) / N;
    CHECK_NEAR(bits, 4.127, 0.002);
    nf4_free(&t);
    free(w);
}

static void nearest_code_and_exact_values(void)
{
    CHECK_EQ_INT(nf4_nearest(-1.0f), 0);
    CHECK_EQ_INT(nf4_nearest(1.0f), 15);
    CHECK_EQ_INT(nf4_nearest(0.0f), 7);
    CHECK_EQ_INT(nf4_nearest(0.03f), 7);
    CHECK_EQ_INT(nf4_nearest(0.05f), 8);
    /* a block holding only code values times its maximum comes back exactly */
    float w[64], back[64];
    for (int i = 0; i < 64; i++)
        w[i] = 2.0f * nf4_code[i % 16];
    nf4_tensor t;
    nf4_quantize(&t, w, 64);
    nf4_dequantize(back, &t);
    for (int i = 0; i < 64; i++)
        CHECK_NEAR(back[i], w[i], 1e-6);
    nf4_free(&t);
}

int main(void)
{
    RUN(matches_independent_reference);
    RUN(costs_about_4_13_bits_per_weight);
    RUN(nearest_code_and_exact_values);
    return check_done();
}
