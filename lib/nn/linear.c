/* The products run as single-threaded sgemm calls, one per OpenMP thread over a share of
 * the rows: one pool of threads for the whole program (OpenBLAS is told to use one
 * thread, see base/threads.c), and every output element comes from one sgemm over the
 * full inner dimension. */
#include "nn/linear.h"

#include <cblas.h>
#include <omp.h>

#include "base/threads.h"

void linear_forward(const linear *l, float *y, const float *x, int n)
{
    int in = l->in, out = l->out;
    linear_ext *e = l->ext;
    const float *w = e && e->weight ? e->weight(e, l) : l->w;
    const float *xq = e && e->input ? e->input(e, l, x, n) : x;
    if (n == 1) { /* one token (sampling): a matrix-vector product, split by columns */
#pragma omp parallel if ((long)in * out >= PARALLEL_MIN_MACS)
        {
            long lo, hi;
            thread_share(out, &lo, &hi);
            if (l->b)
                for (int o = lo; o < hi; o++)
                    y[o] = l->b[o];
            if (hi > lo)
                cblas_sgemv(CblasRowMajor, CblasTrans, in, hi - lo, 1.0f, w + lo, out, xq, 1,
                            l->b ? 1.0f : 0.0f, y + lo, 1);
        }
        if (e && e->forward)
            e->forward(e, l, y, x, n);
        return;
    }
#pragma omp parallel if ((long)n * out >= PARALLEL_MIN)
    {
        long lo, hi;
        thread_share(n, &lo, &hi);
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
                        xq + (long)lo * in, in, w, out, beta, y + (long)lo * out, out);
    }
    if (e && e->forward)
        e->forward(e, l, y, x, n);
}

void linear_backward(const linear *l, float *dx, const float *dy, const float *x, int n)
{
    int in = l->in, out = l->out;
    linear_ext *e = l->ext;
    const float *w = dx && e && e->weight ? e->weight(e, l) : l->w;
    const float *xq = l->dw && e && e->input ? e->input(e, l, x, n) : x;
    const float *gw = l->dw && e && e->grad_w ? e->grad_w(e, l, dy, n) : dy;
    const float *gx = dx && e && e->grad_x ? e->grad_x(e, l, dy, n) : dy;
#pragma omp parallel if ((long)n * out >= PARALLEL_MIN)
    {
        long lo, hi;
        if (dx) { /* dx (n, in) += dy (n, out) Wᵀ, by rows of dx */
            thread_share(n, &lo, &hi);
            if (hi > lo)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, in, out, 1.0f,
                            gx + (long)lo * out, out, w, out, 1.0f, dx + (long)lo * in, in);
        }
        if (l->dw) { /* dW (in, out) += xᵀ dy, by rows of dW */
            thread_share(in, &lo, &hi);
            if (hi > lo)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, hi - lo, out, n, 1.0f,
                            xq + lo, in, gw, out, 1.0f, l->dw + (long)lo * out, out);
        }
        if (l->db) { /* by columns, each summed over the rows in order */
            thread_share(out, &lo, &hi);
            for (int i = 0; i < n; i++)
#pragma omp simd
                for (int o = lo; o < hi; o++)
                    l->db[o] += dy[(long)i * out + o];
        }
    }
    if (e && e->backward)
        e->backward(e, l, dx, dy, x, n);
}
