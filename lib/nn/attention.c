#include "nn/attention.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "base/threads.h"
#include "nn/fastmath.h"

/* Query rows per block of sgemm calls: a block needs the keys up to its last row only, so
 * the products skip most of the masked upper triangle while staying large enough for
 * sgemm to run near its peak. */
enum { ROWS = 64 };

static inline int min_int(int a, int b) { return a < b ? a : b; }

void attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int NH)
{
    int hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * NH; bh++) {
        int b = bh / NH, h = bh % NH;
        const float *q = qkv + (long)b * T * 3 * C + h * hs; /* (T, hs), row stride 3C */
        const float *k = q + C;                                /* (T, hs), row stride 3C */
        const float *v = q + 2 * C;                            /* (T, hs), row stride 3C */
        float *a = att + (long)bh * T * T;                     /* (T, T) */
        float *o = out + (long)b * T * C + h * hs;             /* (T, hs), row stride C */
        for (int r0 = 0; r0 < T; r0 += ROWS) {
            int r1 = min_int(T, r0 + ROWS), nr = r1 - r0;
            /* scores of the block's queries against the keys 0 .. r1-1 */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, r1, hs, scale,
                        q + (long)r0 * 3 * C, 3 * C, k, 3 * C, 0.0f, a + (long)r0 * T, T);
            for (int i = r0; i < r1; i++) {
                float *row = a + (long)i * T;
                float max = row[0];
                for (int j = 1; j <= i; j++)
                    max = row[j] > max ? row[j] : max;
                float sum = 0.0f;
                for (int j = 0; j <= i; j++) {
                    row[j] = fast_expf(row[j] - max);
                    sum += row[j];
                }
                float inv = 1.0f / sum;
#pragma omp simd
                for (int j = 0; j <= i; j++)
                    row[j] *= inv;
                memset(row + i + 1, 0, (size_t)(T - i - 1) * sizeof *row);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, hs, r1, 1.0f,
                        a + (long)r0 * T, T, v, 3 * C, 0.0f, o + (long)r0 * C, C);
        }
    }
}

void attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                        const float *att, int B, int T, int C, int NH)
{
    int hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * NH; bh++) {
        int b = bh / NH, h = bh % NH;
        long base = (long)b * T * 3 * C + h * hs;
        const float *q = qkv + base, *k = q + C, *v = q + 2 * C; /* (T, hs), stride 3C */
        float *dq = dqkv + base, *dk = dq + C, *dv = dq + 2 * C;  /* (T, hs), stride 3C */
        const float *a = att + (long)bh * T * T;                   /* (T, T) */
        float *da = datt + (long)bh * T * T;                       /* (T, T) */
        const float *dout_h = dout + (long)b * T * C + h * hs;     /* (T, hs), stride C */
        for (int r0 = 0; r0 < T; r0 += ROWS) {
            int r1 = min_int(T, r0 + ROWS), nr = r1 - r0;
            const float *a_blk = a + (long)r0 * T;   /* (nr, r1), stride T */
            float *da_blk = da + (long)r0 * T;       /* (nr, r1), stride T */
            const float *do_blk = dout_h + (long)r0 * C;
            /* datt = dout vᵀ, and dv += attᵀ dout */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, r1, hs, 1.0f, do_blk, C,
                        v, 3 * C, 0.0f, da_blk, T);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r1, hs, nr, 1.0f, a_blk, T,
                        do_blk, C, 1.0f, dv, 3 * C);
            /* through the softmax: dscore = att (datt - sum_j att datt); att is zero past
             * the diagonal, and so is dscore */
            for (int i = r0; i < r1; i++) {
                const float *arow = a + (long)i * T;
                float *drow = da + (long)i * T;
                float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
                for (int j = 0; j <= i; j++)
                    dot += arow[j] * drow[j];
#pragma omp simd
                for (int j = 0; j < r1; j++)
                    drow[j] = arow[j] * (drow[j] - dot);
            }
            /* dq += scale dscore k, and dk += scale dscoreᵀ q */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, hs, r1, scale, da_blk,
                        T, k, 3 * C, 1.0f, dq + (long)r0 * 3 * C, 3 * C);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r1, hs, nr, scale, da_blk, T,
                        q + (long)r0 * 3 * C, 3 * C, 1.0f, dk, 3 * C);
        }
    }
}

void attention_step(float *out, float *att, const float *q, const float *k, const float *v,
                    int n, int C, int NH)
{
    int hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for schedule(static) if (2L * n * C >= PARALLEL_MIN_MACS)
    for (int h = 0; h < NH; h++) {
        float *a = att + (long)h * n;
        /* scores (n) = K_h q_h scale, K_h (n, hs) with row stride C */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, n, hs, scale, k + h * hs, C, q + h * hs, 1,
                    0.0f, a, 1);
        float max = a[0];
        for (int t = 1; t < n; t++)
            max = a[t] > max ? a[t] : max;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int t = 0; t < n; t++) {
            a[t] = fast_expf(a[t] - max);
            sum += a[t];
        }
        /* out_h (hs) = V_hᵀ a / sum */
        cblas_sgemv(CblasRowMajor, CblasTrans, n, hs, 1.0f / sum, v + h * hs, C, a, 1, 0.0f,
                    out + h * hs, 1);
    }
}
