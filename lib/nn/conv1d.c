#include "nn/conv1d.h"
#include "base/threads.h"

#include <string.h>

/* Loops over fewer elements than this run on one thread: forking would cost more than it
 * saves (one step of inference works on single rows). */
void conv1d_forward(const conv1d *c, float *y, const float *x, int B, int T)
{
    int K = c->K, D = c->D;
#pragma omp parallel for collapse(2) schedule(static) if ((long)B * T * D >= PARALLEL_MIN)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *yt = y + ((long)b * T + t) * D;
            for (int d = 0; d < D; d++)
                yt[d] = c->b[d];
            for (int k = 0; k < K && k <= t; k++) {
                const float *xs = x + ((long)b * T + t - k) * D, *wk = c->w + (long)k * D;
                for (int d = 0; d < D; d++)
                    yt[d] += wk[d] * xs[d];
            }
        }
}

void conv1d_backward(const conv1d *c, float *dx, const float *dy, const float *x, int B, int T)
{
    int K = c->K, D = c->D;
    /* x[b,s] feeds y[b,s+k] through w[k] */
#pragma omp parallel for collapse(2) schedule(static) if ((long)B * T * D >= PARALLEL_MIN)
    for (int b = 0; b < B; b++)
        for (int s = 0; s < T; s++) {
            float *dxs = dx + ((long)b * T + s) * D;
            for (int k = 0; k < K && s + k < T; k++) {
                const float *dyt = dy + ((long)b * T + s + k) * D, *wk = c->w + (long)k * D;
                for (int d = 0; d < D; d++)
                    dxs[d] += wk[d] * dyt[d];
            }
        }
    /* the weight gradients sum over every position: rows in order, so the result does not
     * depend on the thread count */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *dyt = dy + ((long)b * T + t) * D;
            if (c->db)
                for (int d = 0; d < D; d++)
                    c->db[d] += dyt[d];
            if (c->dw)
                for (int k = 0; k < K && k <= t; k++) {
                    const float *xs = x + ((long)b * T + t - k) * D;
                    float *dwk = c->dw + (long)k * D;
                    for (int d = 0; d < D; d++)
                        dwk[d] += dyt[d] * xs[d];
                }
        }
}

void conv1d_step(const conv1d *c, float *y, float *hist, const float *x)
{
    int K = c->K, D = c->D;
    /* the same sums in the same order as conv1d_forward */
    for (int d = 0; d < D; d++)
        y[d] = c->b[d] + c->w[d] * x[d];
    for (int k = 1; k < K; k++) {
        const float *xs = hist + (long)(k - 1) * D, *wk = c->w + (long)k * D;
        for (int d = 0; d < D; d++)
            y[d] += wk[d] * xs[d];
    }
    if (K > 1) {
        memmove(hist + D, hist, (size_t)(K - 2) * D * sizeof *hist);
        memcpy(hist, x, (size_t)D * sizeof *hist);
    }
}
