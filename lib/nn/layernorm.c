#include "nn/layernorm.h"

#include <math.h>

#include "base/threads.h"

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, int N, int C)
{
#pragma omp parallel for schedule(static) if ((long)N * C >= PARALLEL_MIN)
    for (int i = 0; i < N; i++) {
        const float *x = inp + (long)i * C;
        float m = 0.0f;
#pragma omp simd reduction(+ : m)
        for (int c = 0; c < C; c++)
            m += x[c];
        m /= C;
        float v = 0.0f;
#pragma omp simd reduction(+ : v)
        for (int c = 0; c < C; c++)
            v += (x[c] - m) * (x[c] - m);
        v /= C;
        float s = 1.0f / sqrtf(v + LAYERNORM_EPS);
        float *y = out + (long)i * C;
#pragma omp simd
        for (int c = 0; c < C; c++)
            y[c] = (x[c] - m) * s * weight[c] + bias[c];
        mean[i] = m;
        rstd[i] = s;
    }
}

/* Columns per task of the weight and bias gradients: one cache line of each. */
enum { COLS = 16 };

void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, const float *mean,
                        const float *rstd, int N, int C)
{
    /* dinp, row by row: with n = (x - mean) rstd and g = dout * weight,
     * dx = rstd (g - mean(g) - n mean(g n)) */
#pragma omp parallel for schedule(static) if ((long)N * C >= PARALLEL_MIN)
    for (int i = 0; i < N; i++) {
        const float *x = inp + (long)i * C, *dy = dout + (long)i * C;
        float m = mean[i], s = rstd[i];
        float g_mean = 0.0f, gn_mean = 0.0f;
#pragma omp simd reduction(+ : g_mean, gn_mean)
        for (int c = 0; c < C; c++) {
            float g = dy[c] * weight[c];
            g_mean += g;
            gn_mean += g * (x[c] - m) * s;
        }
        g_mean /= C;
        gn_mean /= C;
        float *dx = dinp + (long)i * C;
#pragma omp simd
        for (int c = 0; c < C; c++) {
            float n = (x[c] - m) * s;
            dx[c] += s * (dy[c] * weight[c] - g_mean - n * gn_mean);
        }
    }
    if (!dweight && !dbias) /* frozen */
        return;
    /* dweight and dbias, a block of columns per task: each column sums its rows in order,
     * whatever the number of threads */
#pragma omp parallel for schedule(static) if ((long)N * C >= PARALLEL_MIN)
    for (int c0 = 0; c0 < C; c0 += COLS) {
        int nc = C - c0 < COLS ? C - c0 : COLS;
        float dw[COLS] = {0}, db[COLS] = {0};
        for (int i = 0; i < N; i++) {
            const float *x = inp + (long)i * C + c0, *dy = dout + (long)i * C + c0;
            float m = mean[i], s = rstd[i];
#pragma omp simd
            for (int c = 0; c < nc; c++) {
                dw[c] += dy[c] * (x[c] - m) * s;
                db[c] += dy[c];
            }
        }
        for (int c = 0; c < nc; c++) {
            if (dweight)
                dweight[c0 + c] += dw[c];
            if (dbias)
                dbias[c0 + c] += db[c];
        }
    }
}
