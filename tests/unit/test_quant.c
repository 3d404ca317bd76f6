/* Unit tests of lib/quant: hand-worked values, the error bound of rounding to nearest,
 * idempotence, unbiased stochastic rounding, real codes, and spec parsing. */
#include "check.h"
#include "quant/quant.h"

static quant_spec spec(const char *text)
{
    quant_spec q;
    const char *err = quant_parse(&q, text);
    if (err)
        printf("# quant_parse(%s): %s\n", text, err);
    return q;
}

static void symmetric_4bit_per_tensor_by_hand(void)
{
    /* max|x| = 1.4, Qp = 7, s = 0.2: 3.75 -> 4, -7 -> -7, 0.65 -> 1, 1.65 -> 2 */
    quant_spec q = spec("4:per-tensor");
    float x[4] = {0.75f, -1.4f, 0.13f, 0.33f}, y[4];
    quant_fake(&q, y, x, 1, 4, NULL);
    float want[4] = {0.8f, -1.4f, 0.2f, 0.4f};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(y[i], want[i], 1e-6);
}

static void asymmetric_2bit_per_row_by_hand(void)
{
    /* row 0: range [0, 0.9], s = 0.3, z = 0: exact.
     * row 1: range [-1, 2], s = 1, z = 1: codes 0, 1, 2 (1.5 rounds up), 3 */
    quant_spec q = spec("2:per-row:asym");
    float x[8] = {0, 0.3f, 0.6f, 0.9f, -1, 0, 0.5f, 2}, y[8];
    quant_fake(&q, y, x, 2, 4, NULL);
    float want[8] = {0, 0.3f, 0.6f, 0.9f, -1, 0, 1, 2};
    for (int i = 0; i < 8; i++)
        CHECK_NEAR(y[i], want[i], 1e-6);
}

static void per_group_and_per_column_use_their_own_scales(void)
{
    quant_spec g = spec("8:per-group-2");
    float x[4] = {1, -0.5f, 0.01f, 0.02f}, y[4];
    quant_fake(&g, y, x, 1, 4, NULL);
    CHECK_NEAR(y[2], 0.01f, 0.02 / 127 / 2 + 1e-9); /* second group's scale is 0.02/127 */
    CHECK_NEAR(y[3], 0.02f, 1e-7);
    quant_spec c = spec("2:per-column");
    float m[4] = {1, 100, -1, 50}, z[4]; /* (2, 2): column scales 1 and 100 */
    quant_fake(&c, z, m, 2, 2, NULL);
    CHECK_NEAR(z[0], 1, 1e-6);
    CHECK_NEAR(z[2], -1, 1e-6);
    CHECK_NEAR(z[1], 100, 1e-4);
    CHECK_NEAR(z[3], 100, 1e-4); /* 50/100 = 0.5 rounds away from zero */
    CHECK(quant_check(&g, 3, 4) == NULL);
    quant_spec g3 = spec("4:per-group-3");
    CHECK(quant_check(&g3, 3, 4) != NULL);
}

static void all_zero_block_quantizes_to_zero(void)
{
    quant_spec q = spec("8:per-row:asym");
    float x[6] = {0, 0, 0, 1, 2, 3}, y[6];
    quant_fake(&q, y, x, 2, 3, NULL);
    for (int i = 0; i < 3; i++)
        CHECK(y[i] == 0.0f);
}

/* |x - Q(x)| <= s/2 and Q(Q(x)) = Q(x), for every granularity, both modes, bits 2..8. */
static void nearest_rounding_error_bound_and_idempotence(void)
{
    static const char *const grans[] = {"per-tensor", "per-row", "per-column", "per-group-8"};
    enum { R = 6, C = 16 };
    rng_t rng;
    rng_seed(&rng, 3);
    float x[R * C], y[R * C], yy[R * C], scales[R * C], zeros[R * C];
    for (int bits = 2; bits <= 8; bits++)
        for (int g = 0; g < 4; g++)
            for (int asym = 0; asym < 2; asym++) {
                char text[64];
                snprintf(text, sizeof text, "%d:%s%s", bits, grans[g], asym ? ":asym" : "");
                quant_spec q = spec(text);
                for (int i = 0; i < R * C; i++)
                    x[i] = (float)(rng_normal(&rng) * (1 + i % 5));
                quant_fake(&q, y, x, R, C, NULL);
                uint8_t codes[R * C];
                quant_encode(&q, codes, scales, zeros, x, R, C, NULL);
                int bad = 0;
                for (int i = 0; i < R; i++)
                    for (int j = 0; j < C; j++) {
                        size_t k = q.gran == QUANT_PER_TENSOR ? 0 : q.gran == QUANT_PER_ROW ? i
                                 : q.gran == QUANT_PER_COLUMN ? j : i * (C / 8) + j / 8;
                        float err = fabsf(x[i * C + j] - y[i * C + j]);
                        bad += err > scales[k] / 2 * (1 + 1e-5f);
                    }
                CHECK_EQ_INT(bad, 0);
                quant_fake(&q, yy, y, R, C, NULL);
                float worst = 0;
                for (int i = 0; i < R * C; i++)
                    worst = fmaxf(worst, fabsf(yy[i] - y[i]) / (fabsf(y[i]) + 1e-6f));
                CHECK(worst < 1e-5f);
            }
}

/* E[Q(x)] = x: 0.3 with s = 1 rounds to 1 with probability 0.3.  Over N = 200,000 draws
 * the mean has sd sqrt(0.21 / N) = 0.001; the test allows 5 sd. */
static void stochastic_rounding_is_unbiased(void)
{
    enum { N = 200000 };
    quant_spec q = spec("8:per-tensor:stochastic");
    float *x = xmalloc(N * sizeof *x), *y = xmalloc(N * sizeof *y);
    for (int i = 0; i < N; i++)
        x[i] = 0.3f;
    x[0] = 127; /* sets s = 1 */
    rng_t rng;
    rng_seed(&rng, 5);
    quant_fake(&q, y, x, 1, N, &rng);
    double sum = 0;
    int off_grid = 0;
    for (int i = 1; i < N; i++) {
        sum += y[i];
        off_grid += y[i] != 0.0f && y[i] != 1.0f;
    }
    CHECK_EQ_INT(off_grid, 0);
    CHECK_NEAR(sum / (N - 1), 0.3, 5 * 0.001);
    free(x);
    free(y);
}

static void codes_decode_to_fake_values_and_pack4_round_trips(void)
{
    enum { R = 3, C = 10 };
    quant_spec q = spec("4:per-row:asym");
    rng_t rng;
    rng_seed(&rng, 9);
    float x[R * C], y[R * C], back[R * C], scales[R], zeros[R];
    for (int i = 0; i < R * C; i++)
        x[i] = (float)rng_normal(&rng);
    uint8_t codes[R * C], packed[(R * C + 1) / 2], unpacked[R * C];
    quant_fake(&q, y, x, R, C, NULL);
    quant_encode(&q, codes, scales, zeros, x, R, C, NULL);
    quant_decode(&q, back, codes, scales, zeros, R, C);
    for (int i = 0; i < R * C; i++) {
        CHECK(codes[i] < 16);
        CHECK(back[i] == y[i]);
    }
    quant_pack4(packed, codes, R * C - 1); /* odd count */
    quant_unpack4(unpacked, packed, R * C - 1);
    CHECK(memcmp(unpacked, codes, R * C - 1) == 0);
}

static void parse_rejects_bad_specs(void)
{
    quant_spec q;
    CHECK(quant_parse(&q, "1") != NULL);
    CHECK(quant_parse(&q, "9:per-row") != NULL);
    CHECK(quant_parse(&q, "8:per-banana") != NULL);
    CHECK(quant_parse(&q, "8:per-group-0") != NULL);
    CHECK(quant_parse(&q, "x") != NULL);
    CHECK(quant_parse(&q, "4:per-token:asym:stochastic") == NULL);
    CHECK(q.bits == 4 && q.gran == QUANT_PER_ROW && q.asymmetric && q.stochastic);
    char buf[64];
    quant_format(&q, buf, sizeof buf);
    CHECK_STR(buf, "4:per-row:asym:stochastic");
}

int main(void)
{
    RUN(symmetric_4bit_per_tensor_by_hand);
    RUN(asymmetric_2bit_per_row_by_hand);
    RUN(per_group_and_per_column_use_their_own_scales);
    RUN(all_zero_block_quantizes_to_zero);
    RUN(nearest_rounding_error_bound_and_idempotence);
    RUN(stochastic_rounding_is_unbiased);
    RUN(codes_decode_to_fake_values_and_pack4_round_trips);
    RUN(parse_rejects_bad_specs);
    return check_done();
}
