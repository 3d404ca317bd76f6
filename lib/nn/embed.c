#include "nn/embed.h"

#include <cblas.h>
#include <math.h>

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

void head_forward(float *logits, float *lse, float *logp, const float *h, const float *wte,
                  const uint32_t *targets, int N, int C, int V)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, V, C, 1.0f, h, C, wte, C, 0.0f,
                logits, V);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const float *row = logits + (long)i * V;
        float max = row[0];
        for (int v = 1; v < V; v++)
            max = row[v] > max ? row[v] : max;
        double sum = 0;
        for (int v = 0; v < V; v++)
            sum += expf(row[v] - max);
        lse[i] = max + (float)log(sum);
        if (logp)
            logp[i] = targets[i] == EMBED_IGNORE ? 0.0f : row[targets[i]] - lse[i];
    }
}

void head_backward(float *dh, float *dwte, float *logits, const float *lse, const float *dlogp,
                   const float *h, const float *wte, const uint32_t *targets, int N, int C,
                   int V)
{
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        float *row = logits + (long)i * V;
        float g = targets[i] == EMBED_IGNORE ? 0.0f : dlogp[i];
        for (int v = 0; v < V; v++)
            row[v] = -g * expf(row[v] - lse[i]);
        if (g != 0.0f)
            row[targets[i]] += g;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, V, 1.0f, logits, V, wte, C,
                1.0f, dh, C);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, C, N, 1.0f, logits, V, h, C, 1.0f,
                dwte, C);
}
