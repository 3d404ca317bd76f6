#include "nn/rmsnorm.h"
#include "base/threads.h"

#include <math.h>

/* Loops over fewer elements than this run on one thread: forking would cost more than it
 * saves (one step of inference works on single rows). */
void rmsnorm_forward(float *y, float *rstd, const float *x, const float *weight, int N, int C)
{
#pragma omp parallel for schedule(static) if ((long)N * C >= PARALLEL_MIN)
    for (int n = 0; n < N; n++) {
        const float *xr = x + (long)n * C;
        float *yr = y + (long)n * C;
        float ss = 0.0f;
        for (int c = 0; c < C; c++)
            ss += xr[c] * xr[c];
        float s = 1.0f / sqrtf(ss / C + RMSNORM_EPS);
        for (int c = 0; c < C; c++)
            yr[c] = xr[c] * s * weight[c];
        rstd[n] = s;
    }
}

/* With s = rstd and y_j = x_j s w_j, ds/dx_k = -s³ x_k / C, so
 *     dx_k = s w_k dy_k - (s³ / C) x_k Σ_j dy_j w_j x_j. */
void rmsnorm_backward(float *dx, float *dweight, const float *dy, const float *x,
                      const float *weight, const float *rstd, int N, int C)
{
#pragma omp parallel for schedule(static) if ((long)N * C >= PARALLEL_MIN)
    for (int n = 0; n < N; n++) {
        const float *xr = x + (long)n * C, *dyr = dy + (long)n * C;
        float *dxr = dx + (long)n * C;
        float s = rstd[n];
        float dot = 0.0f;
        for (int c = 0; c < C; c++)
            dot += dyr[c] * weight[c] * xr[c];
        float k = s * s * s * dot / C;
        for (int c = 0; c < C; c++)
            dxr[c] += s * weight[c] * dyr[c] - k * xr[c];
    }
    if (!dweight)
        return;
    /* rows in order, so the sum does not depend on the thread count */
    for (int n = 0; n < N; n++) {
        const float *xr = x + (long)n * C, *dyr = dy + (long)n * C;
        for (int c = 0; c < C; c++)
            dweight[c] += dyr[c] * xr[c] * rstd[n];
    }
}
