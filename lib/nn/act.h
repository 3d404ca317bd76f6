/* act: elementwise activations with their backward passes.
 *
 * gelu is GPT-2's tanh approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
 * which is also what Griffin uses.  Backward functions accumulate (+=) into dx. */
#ifndef RUNNEL_NN_ACT_H
#define RUNNEL_NN_ACT_H

#include <stddef.h>

void gelu_forward(float *y, const float *x, size_t n);
void gelu_backward(float *dx, const float *dy, const float *x, size_t n);

void sigmoid_forward(float *y, const float *x, size_t n);

/* relu and tanh (libm's, exact) may work in place (y == x).  Their backward passes take
 * the forward's output y, which is all they need, and set dx rather than add to it, so
 * that they too may work in place (dx == dy). */
void relu_forward(float *y, const float *x, size_t n);
void relu_backward(float *dx, const float *dy, const float *y, size_t n);
void tanh_forward(float *y, const float *x, size_t n);
void tanh_backward(float *dx, const float *dy, const float *y, size_t n);

#endif
