#include "nn/act.h"

#include <math.h>

#include "base/threads.h"
#include "nn/fastmath.h"

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

static void gelu_range(float *y, const float *x, long lo, long hi)
{
#pragma omp simd
    for (long i = lo; i < hi; i++) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + fast_tanhf(GELU_K * (v + 0.044715f * v * v * v)));
    }
}

void gelu_forward(float *y, const float *x, size_t n)
{
    if (n < PARALLEL_MIN) { /* without the cost of entering a parallel region */
        gelu_range(y, x, 0, (long)n);
        return;
    }
#pragma omp parallel
    {
        long lo, hi;
        thread_share((long)n, &lo, &hi);
        gelu_range(y, x, lo, hi);
    }
}

void gelu_backward(float *dx, const float *dy, const float *x, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float u = GELU_K * (v + 0.044715f * v * v * v);
        float t = fast_tanhf(u);
        float sech2 = 1.0f - t * t;
        float du = GELU_K * (1.0f + 3.0f * 0.044715f * v * v);
        dx[i] += dy[i] * (0.5f * (1.0f + t) + 0.5f * v * sech2 * du);
    }
}

void sigmoid_forward(float *y, const float *x, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; i++)
        y[i] = 1.0f / (1.0f + fast_expf(-x[i]));
}

void relu_forward(float *y, const float *x, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0 ? x[i] : 0;
}

void relu_backward(float *dx, const float *dy, const float *y, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0 ? dy[i] : 0;
}

void tanh_forward(float *y, const float *x, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; i++)
        y[i] = tanhf(x[i]);
}

void tanh_backward(float *dx, const float *dy, const float *y, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * (1 - y[i] * y[i]);
}
