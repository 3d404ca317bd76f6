/* The products run as single-threaded sgemm calls, one per OpenMP thread over a share of
 * the rows: one pool of threads for the whole program (OpenBLAS is told to use one
 * thread, see base/threads.c), and every output element comes from one sgemm over the
 * full inner dimension. */
#include "nn/linear.h"

#include <cblas.h>
#include <omp.h>

#include "base/threads.h"

/* This thread's share [*lo, *hi) of n rows. */
static void share(int n, int *lo, int *hi)
{
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    *lo = (int)((long)n * t / nt);
    *hi = (int)((long)n * (t + 1) / nt);
}

void linear_forward(const linear *l, float *y, const float *x, int n)
{
    int in = l->in, out = l->out;
#pragma omp parallel if ((long)n * out >= PARALLEL_MIN)
    {
        int lo, hi;
        share(n, &lo, &hi);
        float beta = 0.0f;
        if (l->b) {
            for (int i = lo; i < hi; i++)
#pragma omp simd
                for (int o = 0; o < out; o++)
                    y[(long)i * out + o] = l->b[o];
            beta = 1.0f;
        }
        if (hi > lo)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, hi - lo, out, in, 1.0f,
                        x + (long)lo * in, in, l->w, out, beta, y + (long)lo * out, out);
    }
}

void linear_backward(const linear *l, float *dx, const float *dy, const float *x, int n)
{
    int in = l->in, out = l->out;
#pragma omp parallel if ((long)n * out >= PARALLEL_MIN)
    {
        int lo, hi;
        if (dx) { /* dx (n, in) += dy (n, out) Wᵀ, by rows of dx */
            share(n, &lo, &hi);
            if (hi > lo)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, in, out, 1.0f,
                            dy + (long)lo * out, out, l->w, out, 1.0f, dx + (long)lo * in, in);
        }
        if (l->dw) { /* dW (in, out) += xᵀ dy, by rows of dW */
            share(in, &lo, &hi);
            if (hi > lo)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, hi - lo, out, n, 1.0f,
                            x + lo, in, dy, out, 1.0f, l->dw + (long)lo * out, out);
        }
        if (l->db) { /* by columns, each summed over the rows in order */
            share(out, &lo, &hi);
            for (int i = 0; i < n; i++)
#pragma omp simd
                for (int o = lo; o < hi; o++)
                    l->db[o] += dy[(long)i * out + o];
        }
    }
}
