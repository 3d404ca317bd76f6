/* rmsnorm: root-mean-square normalization with a learned gain (Zhang & Sennrich 2019).
 *
 * Each row of x (N, C) is divided by its root mean square and scaled per channel:
 *     y = x / sqrt(mean(x²) + RMSNORM_EPS) ⊙ weight
 * There is no mean subtraction and no bias.  Forward saves rstd = 1/sqrt(mean(x²) + eps)
 * per row for the backward pass; backward accumulates (+=) into dx and dweight. */
#ifndef RUNNEL_NN_RMSNORM_H
#define RUNNEL_NN_RMSNORM_H

#define RMSNORM_EPS 1e-6f

/* y (N, C), rstd (N) from x (N, C) and weight (C). */
void rmsnorm_forward(float *y, float *rstd, const float *x, const float *weight, int N, int C);

/* dx (N, C) += dL/dx and dweight (C) += dL/dweight (when not NULL), from dy (N, C) and the
 * x, weight and rstd of the forward pass. */
void rmsnorm_backward(float *dx, float *dweight, const float *dy, const float *x,
                      const float *weight, const float *rstd, int N, int C);

#endif
