#include "nn/linear.h"

#include <cblas.h>

void linear_forward(const linear *l, float *y, const float *x, int n)
{
    float beta = 0.0f;
    if (l->b) {
        for (int i = 0; i < n; i++)
            for (int o = 0; o < l->out; o++)
                y[(long)i * l->out + o] = l->b[o];
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, l->out, l->in, 1.0f, x, l->in,
                l->w, l->out, beta, y, l->out);
}

void linear_backward(const linear *l, float *dx, const float *dy, const float *x, int n)
{
    if (dx) /* dx (n, in) += dy (n, out) Wᵀ */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, l->in, l->out, 1.0f, dy,
                    l->out, l->w, l->out, 1.0f, dx, l->in);
    if (l->dw) /* dW (in, out) += xᵀ (in, n) dy (n, out) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l->in, l->out, n, 1.0f, x, l->in,
                    dy, l->out, 1.0f, l->dw, l->out);
    if (l->db)
        for (int i = 0; i < n; i++)
            for (int o = 0; o < l->out; o++)
                l->db[o] += dy[(long)i * l->out + o];
}
