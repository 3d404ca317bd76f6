#include "nn/embed.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>

#include "base/threads.h"
#include "nn/fastmath.h"

void embed_forward(float *out, const float *wte, const uint32_t *tokens, int N, int C,
                   float scale)
{
    for (int i = 0; i < N; i++) {
        const float *row = wte + (long)tokens[i] * C;
        for (int c = 0; c < C; c++)
            out[(long)i * C + c] = row[c] * scale;
    }
}

void embed_backward(float *dwte, const float *dout, const uint32_t *tokens, int N, int C,
                    float scale)
{
    /* sequential: several positions may share a token, and the order of the sums must
     * not depend on threads */
    for (int i = 0; i < N; i++) {
        float *row = dwte + (long)tokens[i] * C;
        for (int c = 0; c < C; c++)
            row[c] += scale * dout[(long)i * C + c];
    }
}

/* Each thread takes a share of the positions: its logits by one sgemm, then their
 * log-sum-exp. */
static float log_sum_exp(const float *row, int V)
{
    float max = row[0];
    for (int v = 1; v < V; v++)
        max = row[v] > max ? row[v] : max;
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int v = 0; v < V; v++)
        sum += fast_expf(row[v] - max);
    return max + logf(sum);
}

/* The logits of one position (sampling), split across threads by vocabulary rows. */
static void head_one(float *logits, float *lse, float *logp, const float *h, const float *wte,
                     const uint32_t *targets, int C, int V)
{
#pragma omp parallel if ((long)V * C >= PARALLEL_MIN_MACS)
    {
        long lo, hi;
        thread_share(V, &lo, &hi);
        if (hi > lo)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, hi - lo, C, 1.0f, wte + lo * C, C, h, 1,
                        0.0f, logits + lo, 1);
    }
    *lse = log_sum_exp(logits, V);
    if (logp)
        *logp = targets[0] == EMBED_IGNORE ? 0.0f : logits[targets[0]] - *lse;
}

void head_forward(float *logits, float *lse, float *logp, const float *h, const float *wte,
                  const uint32_t *targets, int N, int C, int V)
{
    if (N == 1) {
        head_one(logits, lse, logp, h, wte, targets, C, V);
        return;
    }
#pragma omp parallel if ((long)N * V >= PARALLEL_MIN)
    {
        long lo, hi;
        thread_share(N, &lo, &hi);
        if (hi > lo)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, V, C, 1.0f,
                        h + (long)lo * C, C, wte, C, 0.0f, logits + (long)lo * V, V);
        for (int i = lo; i < hi; i++) {
            const float *row = logits + (long)i * V;
            lse[i] = log_sum_exp(row, V);
            if (logp)
                logp[i] = targets[i] == EMBED_IGNORE ? 0.0f : row[targets[i]] - lse[i];
        }
    }
}

void head_backward(float *dh, float *dwte, float *logits, const float *lse, const float *dlogp,
                   const float *h, const float *wte, const uint32_t *targets, int N, int C,
                   int V)
{
#pragma omp parallel if ((long)N * V >= PARALLEL_MIN)
    {
        long lo, hi;
        thread_share(N, &lo, &hi);
        for (int i = lo; i < hi; i++) {
            float *row = logits + (long)i * V;
            float g = targets[i] == EMBED_IGNORE ? 0.0f : dlogp[i];
#pragma omp simd
            for (int v = 0; v < V; v++)
                row[v] = -g * fast_expf(row[v] - lse[i]);
            if (g != 0.0f)
                row[targets[i]] += g;
        }
        if (hi > lo) /* dh += dlogits wte, by rows of dh */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, hi - lo, C, V, 1.0f,
                        logits + (long)lo * V, V, wte, C, 1.0f, dh + (long)lo * C, C);
#pragma omp barrier
        thread_share(V, &lo, &hi); /* dwte += dlogitsᵀ h, by rows of dwte */
        if (dwte && hi > lo)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, hi - lo, C, N, 1.0f, logits + lo,
                        V, h, C, 1.0f, dwte + (long)lo * C, C);
    }
}
