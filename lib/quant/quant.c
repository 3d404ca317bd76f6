#include "quant/quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

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

/* Scales (and zero points) of every block from its range.  The asymmetric range always
 * holds 0, so the zero point is an exact code and no element is clipped by more than s/2. */
static void block_scales(const quant_spec *q, float *scales, float *zeros, const float *x,
                         int rows, int cols)
{
    size_t nb = quant_nscales(q, rows, cols);
    float *lo = xmalloc(nb * sizeof *lo), *hi = xmalloc(nb * sizeof *hi);
    for (size_t k = 0; k < nb; k++)
        lo[k] = hi[k] = 0.0f;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            size_t k = block_of(q, cols, i, j);
            float v = x[(size_t)i * cols + j];
            if (v < lo[k])
                lo[k] = v;
            if (v > hi[k])
                hi[k] = v;
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

/* Round v to an integer code in [lo, hi]: nearest, or stochastically with u in [0, 1). */
static inline float round_code(float v, const quant_spec *q, uint64_t noise, float lo, float hi)
{
    float r;
    if (q->stochastic)
        r = floorf(v + (float)(noise >> 40) * 0x1.0p-24f);
    else
        r = roundf(v);
    return fminf(fmaxf(r, lo), hi);
}

/* Quantize every element, writing either its dequantized value (fake_out) or its stored
 * code: one loop for both, so fake and real quantization round identically. */
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
#pragma omp parallel for schedule(static)
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            size_t idx = (size_t)i * cols + j;
            size_t k = block_of(q, cols, i, j);
            float s = scales[k], z = q->asymmetric ? zeros[k] : 0.0f;
            float c = round_code(x[idx] / s + z, q, q->stochastic ? mix64(base + idx) : 0, lo, hi);
            if (fake_out)
                fake_out[idx] = s * (c - z);
            else
                codes[idx] = (uint8_t)(c + bias);
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
