#include "quant/nf4.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* The 16 NF4 values of bitsandbytes: quantiles of N(0, 1) scaled to [-1, 1], with an
 * exact zero. */
const float nf4_code[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
};

int nf4_nearest(float x)
{
    /* the codes are sorted: the nearest is decided by the midpoints (ties go up) */
    int i = 0;
    while (i < 15 && x >= 0.5f * (nf4_code[i] + nf4_code[i + 1]))
        i++;
    return i;
}

static size_t blocks_of(size_t n, size_t block) { return (n + block - 1) / block; }

void nf4_quantize(nf4_tensor *t, const float *w, size_t n)
{
    size_t nb = blocks_of(n, NF4_BLOCK), ns = blocks_of(nb, NF4_SCALE_BLOCK);
    t->n = n;
    t->codes = xcalloc((n + 1) / 2, 1);
    t->absmax_q = xmalloc(nb);
    t->absmax_scale = xmalloc(ns * sizeof *t->absmax_scale);
    float *absmax = xmalloc(nb * sizeof *absmax);
    double sum = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t end = (b + 1) * NF4_BLOCK < n ? (b + 1) * NF4_BLOCK : n;
        float m = 0;
        for (size_t i = b * NF4_BLOCK; i < end; i++)
            m = fmaxf(m, fabsf(w[i]));
        absmax[b] = m;
        sum += m;
    }
    t->absmax_mean = (float)(sum / (double)nb);
    for (size_t s = 0; s < ns; s++) {
        size_t end = (s + 1) * NF4_SCALE_BLOCK < nb ? (s + 1) * NF4_SCALE_BLOCK : nb;
        float m = 0;
        for (size_t b = s * NF4_SCALE_BLOCK; b < end; b++)
            m = fmaxf(m, fabsf(absmax[b] - t->absmax_mean));
        float scale = m > 0 ? m / 127.0f : 1.0f;
        t->absmax_scale[s] = scale;
        for (size_t b = s * NF4_SCALE_BLOCK; b < end; b++)
            t->absmax_q[b] = (int8_t)lrintf(fminf(fmaxf((absmax[b] - t->absmax_mean) / scale,
                                                          -127.0f), 127.0f));
    }
    /* As bitsandbytes does, codes are chosen against the exact block maximum; only its
     * stored copy is double-quantized. */
    for (size_t b = 0; b < nb; b++) {
        size_t end = (b + 1) * NF4_BLOCK < n ? (b + 1) * NF4_BLOCK : n;
        for (size_t i = b * NF4_BLOCK; i < end; i++) {
            int c = absmax[b] > 0 ? nf4_nearest(w[i] / absmax[b]) : 7;
            t->codes[i / 2] |= (uint8_t)(i % 2 ? c << 4 : c);
        }
    }
    free(absmax);
}

void nf4_dequantize(float *w, const nf4_tensor *t)
{
    size_t nb = blocks_of(t->n, NF4_BLOCK);
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < nb; b++) {
        float m = t->absmax_q[b] * t->absmax_scale[b / NF4_SCALE_BLOCK] + t->absmax_mean;
        size_t end = (b + 1) * NF4_BLOCK < t->n ? (b + 1) * NF4_BLOCK : t->n;
        for (size_t i = b * NF4_BLOCK; i < end; i++) {
            int c = i % 2 ? t->codes[i / 2] >> 4 : t->codes[i / 2] & 15;
            w[i] = nf4_code[c] * m;
        }
    }
}

size_t nf4_bytes(const nf4_tensor *t)
{
    size_t nb = blocks_of(t->n, NF4_BLOCK);
    return (t->n + 1) / 2 + nb + blocks_of(nb, NF4_SCALE_BLOCK) * sizeof(float) + sizeof(float);
}

void nf4_free(nf4_tensor *t)
{
    free(t->codes);
    free(t->absmax_q);
    free(t->absmax_scale);
    memset(t, 0, sizeof *t);
}
