#include "quant/quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/threads.h"

const char *quant_parse(quant_spec *q, const char *text)
{
    memset(q, 0, sizeof *q);
    q->gran = QUANT_PER_TENSOR;
    char buf[128];
    if (snprintf(buf, sizeof buf, "%s", text) >= (int)sizeof buf)
        return "quantization spec too long";
    char *save = NULL;
    char *part = strtok_r(buf, ":", &save);
    char *end;
    long bits = part ? strtol(part, &end, 10) : 0;
    if (!part || *end || bits < 2 || bits > 8)
        return "bits must be an integer from 2 to 8";
    q->bits = (int)bits;
    while ((part = strtok_r(NULL, ":", &save))) {
        if (strcmp(part, "per-tensor") == 0)
            q->gran = QUANT_PER_TENSOR;
        else if (!strcmp(part, "per-row") || !strcmp(part, "per-token") || !strcmp(part, "per-channel"))
            q->gran = QUANT_PER_ROW;
        else if (strcmp(part, "per-column") == 0)
            q->gran = QUANT_PER_COLUMN;
        else if (strncmp(part, "per-group-", 10) == 0) {
            long g = strtol(part + 10, &end, 10);
            if (*end || g < 1 || g > 1 << 20)
                return "group size must be a positive integer (per-group-G)";
            q->gran = QUANT_PER_GROUP;
            q->group = (int)g;
        } else if (strcmp(part, "asym") == 0)
            q->asymmetric = true;
        else if (strcmp(part, "sym") == 0)
            q->asymmetric = false;
        else if (strcmp(part, "stochastic") == 0)
            q->stochastic = true;
        else if (strcmp(part, "nearest") == 0)
            q->stochastic = false;
        else
            return "unknown term (expected per-tensor, per-row, per-token, per-channel, "
                   "per-column, per-group-G, sym, asym, nearest or stochastic)";
    }
    return NULL;
}

void quant_format(const quant_spec *q, char *buf, size_t size)
{
    static const char *const gran[] = {"per-tensor", "per-row", "per-column", "per-group"};
    char g[32];
    if (q->gran == QUANT_PER_GROUP)
        snprintf(g, sizeof g, "per-group-%d", q->group);
    else
        snprintf(g, sizeof g, "%s", gran[q->gran]);
    snprintf(buf, size, "%d:%s%s%s", q->bits, g, q->asymmetric ? ":asym" : "",
             q->stochastic ? ":stochastic" : "");
}

const char *quant_check(const quant_spec *q, int rows, int cols)
{
    if (q->gran == QUANT_PER_GROUP && (q->group <= 0 || cols % q->group != 0))
        return "the group size does not divide the row";
    (void)rows;
    return NULL;
}

size_t quant_nscales(const quant_spec *q, int rows, int cols)
{
    switch (q->gran) {
    case QUANT_PER_TENSOR: return 1;
    case QUANT_PER_ROW: return (size_t)rows;
    case QUANT_PER_COLUMN: return (size_t)cols;
    case QUANT_PER_GROUP: return (size_t)rows * (size_t)(cols / q->group);
    }
    return 1;
}

/* Scales (and zero points) of every block from its range.  The asymmetric range always
 * holds 0, so the zero point is an exact code and no element is clipped by more than s/2.
 * Ranges are minima and maxima, which do not depend on the order of the elements, so the
 * rows split across threads freely. */
static void block_scales(const quant_spec *q, float *scales, float *zeros, const float *x,
                         int rows, int cols)
{
    size_t nb = quant_nscales(q, rows, cols);
    float *lo = xmalloc(nb * sizeof *lo), *hi = xmalloc(nb * sizeof *hi);
    for (size_t k = 0; k < nb; k++)
        lo[k] = hi[k] = 0.0f;
    long n = (long)rows * cols;
    if (q->gran == QUANT_PER_COLUMN) {
        for (int i = 0; i < rows; i++) {
            const float *xi = x + (size_t)i * cols;
            for (int j = 0; j < cols; j++) {
                lo[j] = xi[j] < lo[j] ? xi[j] : lo[j];
                hi[j] = xi[j] > hi[j] ? xi[j] : hi[j];
            }
        }
    } else if (q->gran == QUANT_PER_TENSOR) {
        float l = 0.0f, h = 0.0f;
#pragma omp parallel for schedule(static) reduction(min : l) reduction(max : h) if (n >= PARALLEL_MIN)
        for (long i = 0; i < n; i++) {
            l = x[i] < l ? x[i] : l;
            h = x[i] > h ? x[i] : h;
        }
        lo[0] = l;
        hi[0] = h;
    } else { /* runs of len elements, one block each: rows or groups */
        int len = q->gran == QUANT_PER_ROW ? cols : q->group;
        long runs = n / len;
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
        for (long k = 0; k < runs; k++) {
            const float *xk = x + (size_t)k * len;
            float l = 0.0f, h = 0.0f;
            for (int j = 0; j < len; j++) {
                l = xk[j] < l ? xk[j] : l;
                h = xk[j] > h ? xk[j] : h;
            }
            lo[k] = l;
            hi[k] = h;
        }
    }
    float qmax = (float)((1 << q->bits) - 1), qp = (float)((1 << (q->bits - 1)) - 1);
    for (size_t k = 0; k < nb; k++) {
        if (q->asymmetric) {
            float s = fmaxf((hi[k] - lo[k]) / qmax, QUANT_MIN_SCALE);
            scales[k] = s;
            zeros[k] = roundf(-lo[k] / s);
        } else {
            scales[k] = fmaxf(fmaxf(hi[k], -lo[k]) / qp, QUANT_MIN_SCALE);
        }
    }
    free(lo);
    free(hi);
}

/* v rounded to the nearest integer, ties away from zero, as roundf() but inline: for
 * |v| < 2^22, adding and taking away 1.5 2^23 rounds to nearest even exactly, and a tie
 * that went to the even integer nearer zero is moved up. */
static inline float round_away(float v)
{
    float a = fabsf(v), t = (a + 0x1.8p23f) - 0x1.8p23f;
    t += a - t == 0.5f ? 1.0f : 0.0f;
    return copysignf(t, v);
}

/* v within [lo, hi]; a NaN becomes lo. */
static inline float clamp(float v, float lo, float hi)
{
    v = v > lo ? v : lo;
    return v < hi ? v : hi;
}

/* floorf(v) inline, for |v| < 2^22. */
static inline float floor_small(float v)
{
    float t = (v + 0x1.8p23f) - 0x1.8p23f;
    return t > v ? t - 1.0f : t;
}

/* Quantize every element, writing either its dequantized value (fake_out) or its stored
 * code: one loop for both, so fake and real quantization round identically.  Values are
 * clamped to the code range before rounding (the same as after, the bounds being
 * integers; a NaN becomes the lowest code). */
static void quantize(const quant_spec *q, const float *x, int rows, int cols, rng_t *rng,
                     float *fake_out, uint8_t *codes, float *scales, float *zeros)
{
    block_scales(q, scales, zeros, x, rows, cols);
    /* Stochastic rounding draws element i's noise from a counter-based hash of one draw of
     * rng, so the result does not depend on the number of threads. */
    uint64_t base = q->stochastic ? rng_u64(rng) : 0;
    float qp = (float)((1 << (q->bits - 1)) - 1), qmax = (float)((1 << q->bits) - 1);
    float lo = q->asymmetric ? 0.0f : -qp, hi = q->asymmetric ? qmax : qp;
    float bias = q->asymmetric ? 0.0f : (float)(1 << (q->bits - 1));
    int gsize = q->gran == QUANT_PER_GROUP ? q->group : cols;
    int per_row = cols / gsize; /* scales per row for rows and groups */
#pragma omp parallel for schedule(static) if ((long)rows * cols >= PARALLEL_MIN)
    for (int i = 0; i < rows; i++)
        for (int g = 0; g < cols; g += gsize) {
            size_t k = q->gran == QUANT_PER_TENSOR ? 0
                       : q->gran == QUANT_PER_COLUMN ? 0
                       : (size_t)i * per_row + (size_t)(g / gsize);
            const float *sc = q->gran == QUANT_PER_COLUMN ? scales + g : scales + k;
            const float *zc = !q->asymmetric ? NULL
                              : q->gran == QUANT_PER_COLUMN ? zeros + g : zeros + k;
            int cstep = q->gran == QUANT_PER_COLUMN; /* 1: a scale per element */
            size_t at = (size_t)i * cols + (size_t)g;
            if (!cstep && !q->stochastic) { /* the hot cases, vectorized */
                float s = sc[0], z = zc ? zc[0] : 0.0f;
                const float *xa = x + at;
                if (fake_out) {
                    float *ya = fake_out + at;
#pragma omp simd
                    for (int j = 0; j < gsize; j++)
                        ya[j] = s * (round_away(clamp(xa[j] / s + z, lo, hi)) - z);
                } else {
                    uint8_t *ca = codes + at;
#pragma omp simd
                    for (int j = 0; j < gsize; j++)
                        ca[j] = (uint8_t)(round_away(clamp(xa[j] / s + z, lo, hi)) + bias);
                }
                continue;
            }
            for (int j = 0; j < gsize; j++) {
                size_t idx = at + (size_t)j;
                float s = sc[cstep * j], z = zc ? zc[cstep * j] : 0.0f;
                float v = x[idx] / s + z, c;
                if (q->stochastic)
                    v += (float)(mix64(base + idx) >> 40) * 0x1.0p-24f;
                v = clamp(v, lo, hi);
                c = q->stochastic ? floor_small(v) : round_away(v);
                if (fake_out)
                    fake_out[idx] = s * (c - z);
                else
                    codes[idx] = (uint8_t)(c + bias);
            }
        }
}

void quant_fake(const quant_spec *q, float *y, const float *x, int rows, int cols, rng_t *rng)
{
    size_t nb = quant_nscales(q, rows, cols);
    float *scales = xmalloc(nb * sizeof *scales), *zeros = xmalloc(nb * sizeof *zeros);
    quantize(q, x, rows, cols, rng, y, NULL, scales, zeros);
    free(scales);
    free(zeros);
}

void quant_encode(const quant_spec *q, uint8_t *codes, float *scales, float *zeros,
                  const float *x, int rows, int cols, rng_t *rng)
{
    quantize(q, x, rows, cols, rng, NULL, codes, scales, zeros);
}

/* The scale shared by element (i, j). */
static inline size_t block_of(const quant_spec *q, int cols, int i, int j)
{
    switch (q->gran) {
    case QUANT_PER_TENSOR: return 0;
    case QUANT_PER_ROW: return (size_t)i;
    case QUANT_PER_COLUMN: return (size_t)j;
    case QUANT_PER_GROUP: return (size_t)i * (size_t)(cols / q->group) + (size_t)(j / q->group);
    }
    return 0;
}

void quant_decode(const quant_spec *q, float *x, const uint8_t *codes, const float *scales,
                  const float *zeros, int rows, int cols)
{
    float bias = q->asymmetric ? 0.0f : (float)(1 << (q->bits - 1));
#pragma omp parallel for schedule(static)
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            size_t idx = (size_t)i * cols + j;
            size_t k = block_of(q, cols, i, j);
            float z = q->asymmetric ? zeros[k] : 0.0f;
            x[idx] = scales[k] * ((float)codes[idx] - bias - z);
        }
}

void quant_pack4(uint8_t *packed, const uint8_t *codes, size_t n)
{
    for (size_t i = 0; i < n; i += 2)
        packed[i / 2] = (uint8_t)((codes[i] & 15) | (i + 1 < n ? (codes[i + 1] & 15) << 4 : 0));
}

void quant_unpack4(uint8_t *codes, const uint8_t *packed, size_t n)
{
    for (size_t i = 0; i < n; i++)
        codes[i] = (uint8_t)(i % 2 ? packed[i / 2] >> 4 : packed[i / 2] & 15);
}
