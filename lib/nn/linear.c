/* The products run as single-threaded sgemm calls, one per OpenMP thread over a share of
 * the rows: one pool of threads for the whole program (OpenBLAS is told to use one
 * thread, see base/threads.c), and every output element comes from one sgemm over the
 * full inner dimension. */
#include "nn/linear.h"

#include <cblas.h>
#include <omp.h>

#include "base/err.h"
#include "base/threads.h"

/* y (out) = x (in) W + b for one token.  The threads split W by its rows, so each reads one
 * contiguous block (measured: 1.4 times the bandwidth of splitting it by columns, whose
 * rows each thread reads a piece of), into partial sums that are then added in thread
 * order, so the result depends on the thread count only. */
static void matvec(float *y, const float *x, const float *w, const float *b, int in, int out)
{
    int nt = (long)in * out >= PARALLEL_MIN_MACS ? omp_get_max_threads() : 1;
    if (nt == 1) {
        cblas_sgemv(CblasRowMajor, CblasTrans, in, out, 1.0f, w, out, x, 1, 0.0f, y, 1);
        if (b)
            for (int o = 0; o < out; o++)
                y[o] += b[o];
        return;
    }
    /* the other threads' partial sums: grown once, then reused */
    static _Thread_local float *partial;
    static _Thread_local size_t partial_cap;
    size_t need = (size_t)(nt - 1) * (size_t)out;
    if (need > partial_cap) {
        partial = xrealloc(partial, need * sizeof *partial);
        partial_cap = need;
    }
    float *part = partial;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), used = omp_get_num_threads();
        long lo, hi;
        thread_share(in, &lo, &hi);
        float *dst = t ? part + (size_t)(t - 1) * out : y;
        if (hi > lo)
            cblas_sgemv(CblasRowMajor, CblasTrans, hi - lo, out, 1.0f, w + lo * out, out,
                        x + lo, 1, 0.0f, dst, 1);
        else
            for (int o = 0; o < out; o++)
                dst[o] = 0;
#pragma omp barrier
        thread_share(out, &lo, &hi);
        for (int u = 1; u < used; u++)
            for (long o = lo; o < hi; o++)
                y[o] += part[(size_t)(u - 1) * out + o];
        if (b)
            for (long o = lo; o < hi; o++)
                y[o] += b[o];
    }
}

void linear_forward(const linear *l, float *y, const float *x, int n)
{
    int in = l->in, out = l->out;
    linear_ext *e = l->ext;
    if (e && e->product) {
        e->product(e, l, y, x, n);
        if (e->forward)
            e->forward(e, l, y, x, n);
        return;
    }
    const float *w = e && e->weight ? e->weight(e, l) : l->w;
    const float *xq = e && e->input ? e->input(e, l, x, n) : x;
    if (n == 1) { /* one token (sampling) */
        matvec(y, xq, w, l->b, in, out);
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
