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

/* This thread's share [*lo, *hi) of n rows. */
static void share(int n, int *lo, int *hi)
{
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    *lo = (int)((long)n * t / nt);
    *hi = (int)((long)n * (t + 1) / nt);
}

/* Each thread takes a share of the positions: its logits by one sgemm, then their
 * log-sum-exp. */
void head_forward(float *logits, float *lse, float *logp, const float *h, const float *wte,
                  const uint32_t *targets, int N, int C, int V)
{
#pragma omp parallel if ((long)N * V >= PARALLEL_MIN)
    {
        int lo, hi;
        share(N, &lo, &hi);
        if (hi > lo)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, V, C, 1.0f,
                        h + (long)lo * C, C, wte, C, 0.0f, logits + (long)lo * V, V);
        for (int i = lo; i < hi; i++) {
            const float *row = logits + (long)i * V;
            float max = row[0];
            for (int v = 1; v < V; v++)
                max = row[v] > max ? row[v] : max;
            float sum = 0;
#pragma omp simd reduction(+ : sum)
            for (int v = 0; v < V; v++)
                sum += fast_expf(row[v] - max);
            lse[i] = max + logf(sum);
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
        int lo, hi;
        share(N, &lo, &hi);
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
        share(V, &lo, &hi); /* dwte += dlogitsᵀ h, by rows of dwte */
        if (dwte && hi > lo)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, hi - lo, C, N, 1.0f, logits + lo,
                        V, h, C, 1.0f, dwte + (long)lo * C, C);
    }
}
