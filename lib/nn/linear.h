/* linear: y = x W + b, the one dense layer of every model.
 *
 * W is stored (in, out), as Hugging Face's GPT-2 stores its Conv1D weights, so real GPT-2
 * checkpoints load unchanged; x is (n, in) and y is (n, out), row-major.  Every product
 * goes through cblas_sgemm.
 *
 * Later issues attach to any linear layer without touching the model code, through
 * l->ext (NULL for a plain layer): a LoRA adapter (y += (α/r) (x A) B), fake quantizers
 * of weights, activations and gradients, or a frozen W stored in NF4 and dequantized on
 * the fly.  Models only ever call linear_forward() and linear_backward(). */
#ifndef RUNNEL_NN_LINEAR_H
#define RUNNEL_NN_LINEAR_H

typedef struct linear_ext linear_ext;

typedef struct {
    int in, out;
    float *w;  /* (in, out) */
    float *b;  /* (out), or NULL: no bias */
    float *dw; /* (in, out) gradient, or NULL when W does not learn */
    float *db; /* (out) gradient, or NULL */
    linear_ext *ext;
} linear;

/* What an extension may change in a layer's products; every hook is optional (NULL).
 *   product    replaces the forward's y = x W + b altogether (an integer kernel for
 *              inference); weight and input are then not called by the forward
 *   weight     the W to multiply with: a fake-quantized copy, a dequantized NF4 base ...
 *              (called in forward and again in backward, for dx = dy Wᵀ)
 *   input      the x to multiply with in forward and in dW = xᵀ dy (fake-quantized ...)
 *   grad_w     the dy to use in dW = xᵀ dy (fake-quantized gradients)
 *   grad_x     the dy to use in dx = dy Wᵀ
 *   forward    runs after y = x W + b with the original x: adds an adapter's output
 *   backward   runs after the layer's own backward with the original x and dy:
 *              accumulates an adapter's gradients and its share of dx
 * A hook returns either its argument or memory of its own that stays valid until the
 * layer's next call.  Rounding hooks make a straight-through estimator: the backward
 * treats the quantizer as the identity. */
struct linear_ext {
    void (*product)(linear_ext *e, const linear *l, float *y, const float *x, int n);
    const float *(*weight)(linear_ext *e, const linear *l);
    const float *(*input)(linear_ext *e, const linear *l, const float *x, int n);
    const float *(*grad_w)(linear_ext *e, const linear *l, const float *dy, int n);
    const float *(*grad_x)(linear_ext *e, const linear *l, const float *dy, int n);
    void (*forward)(linear_ext *e, const linear *l, float *y, const float *x, int n);
    void (*backward)(linear_ext *e, const linear *l, float *dx, const float *dy,
                     const float *x, int n);
};

/* y (n, out) = x (n, in) W + b; y is overwritten. */
void linear_forward(const linear *l, float *y, const float *x, int n);

/* Backward of linear_forward with the same x.  Accumulates (+=) into dx (when not NULL),
 * dw and db (when the layer has them), so gradients of several uses add up. */
void linear_backward(const linear *l, float *dx, const float *dy, const float *x, int n);

#endif
