/* conv1d: causal depthwise convolution along time, Griffin's temporal conv.
 *
 * Each of the D channels of a sequence is filtered on its own by K taps over the current
 * and the K-1 previous inputs, with zeros before the start of each sequence:
 *     y[b,t] = bias + Σ_{k=0..K-1} w[k] ⊙ x[b,t-k]          (x[b,t-k] = 0 when t-k < 0)
 * Tap order: w[k] weighs the input k steps back, so w[0] is the current input.  (This is
 * the reverse of torch.nn.Conv1d and RecurrentGemma, whose last tap is the current input.)
 *
 * For inference one step at a time, conv1d_step keeps the last K-1 inputs in a history
 * (K-1, D), newest first, that starts as zeros: stepping through a sequence gives exactly
 * conv1d_forward's outputs. */
#ifndef RUNNEL_NN_CONV1D_H
#define RUNNEL_NN_CONV1D_H

typedef struct {
    int K, D;  /* taps, channels */
    float *w;  /* (K, D) */
    float *b;  /* (D) */
    float *dw; /* (K, D) gradient, or NULL when the layer does not learn */
    float *db; /* (D) gradient, or NULL */
} conv1d;

/* y (B, T, D) from x (B, T, D); y is overwritten. */
void conv1d_forward(const conv1d *c, float *y, const float *x, int B, int T);

/* Backward of conv1d_forward with the same x: accumulates (+=) into dx (B, T, D) and into
 * dw and db when the layer has them. */
void conv1d_backward(const conv1d *c, float *dx, const float *dy, const float *x, int B, int T);

/* One time step: y (D) from the next input x (D) and the history (K-1, D) of the inputs
 * before it, which is then shifted to take x. */
void conv1d_step(const conv1d *c, float *y, float *hist, const float *x);

#endif
