/* layernorm: GPT-2's LayerNorm over the last dimension, with its backward pass.
 *
 * out = (inp - mean) * rstd * weight + bias per row of C values, rstd = 1/sqrt(var + 1e-5)
 * with the biased variance, as torch.nn.LayerNorm.  The forward saves mean and rstd per
 * row for the backward, which recomputes the normalized input from them rather than
 * keeping a copy.  The backward accumulates (+=) into dinp, dweight and dbias; its sums
 * over rows run in a fixed order, so the result does not depend on the thread count. */
#ifndef RUNNEL_NN_LAYERNORM_H
#define RUNNEL_NN_LAYERNORM_H

#define LAYERNORM_EPS 1e-5f

/* out (N, C), mean (N), rstd (N) from inp (N, C), weight (C), bias (C). */
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, int N, int C);

/* From dout (N, C): dinp (N, C) += dL/dinp, dweight (C) += dL/dweight, dbias (C) +=
 * dL/dbias, with inp, weight, mean and rstd of the forward.  dweight or dbias NULL: a
 * frozen tensor, whose gradient is not computed. */
void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, const float *mean,
                        const float *rstd, int N, int C);

#endif
