/* rglru: the Real-Gated Linear Recurrent Unit of Griffin (De et al. 2024, section 2.4).
 *
 * On an input sequence x_t (D channels) it runs, per channel,
 *     r_t = σ(x_t W_a + b_a)                          recurrence gate
 *     i_t = σ(x_t W_x + b_x)                          input gate
 *     log a_t = -RGLRU_C · r_t · softplus(-Λ)         (= c r_t log σ(Λ), kept in log space)
 *     h_t = a_t ⊙ h_{t-1} + sqrt(1 - a_t²) ⊙ (i_t ⊙ x_t),    h_{-1} = 0 per sequence
 * and outputs y_t = h_t.  sqrt(1 - a²) is computed as sqrt(-expm1(2 log a)), which keeps
 * its precision as a approaches 1.  W_a and W_x are dense (D, D) linear layers (so their
 * extensions apply); Λ (D) sets each channel's base decay a = σ(Λ)^(c r).
 *
 * The scan is sequential in time and parallel over (sequence, channel); every sum is
 * taken in a fixed order, so results do not depend on the thread count.  Backward is
 * exact backpropagation through time, with gradients for x, both gates and Λ. */
#ifndef RUNNEL_NN_RGLRU_H
#define RUNNEL_NN_RGLRU_H

#include "nn/linear.h"

#define RGLRU_C 8.0f

typedef struct {
    int D;          /* channels */
    linear a_gate;  /* (D, D): recurrence gate r */
    linear x_gate;  /* (D, D): input gate i */
    float *lambda;  /* (D) Λ */
    float *dlambda; /* (D) gradient, or NULL when Λ does not learn */
} rglru;

/* What forward keeps for backward; each (B, T, D). */
typedef struct {
    float *r;     /* recurrence gate */
    float *i;     /* input gate */
    float *log_a; /* log a_t */
    float *h;     /* the states h_t, which are also the outputs */
} rglru_acts;

/* Scratch of backward: dr and di (B, T, D) receive the gradients of the gates'
 * pre-activations, dlambda_seq (B, D) each sequence's share of dΛ. */
typedef struct {
    float *dr, *di;
    float *dlambda_seq;
} rglru_scratch;

/* Forward over x (B, T, D); the output is a->h. */
void rglru_forward(const rglru *l, rglru_acts *a, const float *x, int B, int T);

/* Backward from dy = dL/dh (B, T, D) with the forward's x and activations: accumulates
 * (+=) into dx (B, T, D), the gates' gradients and dlambda. */
void rglru_backward(const rglru *l, float *dx, const float *dy, const float *x,
                    const rglru_acts *a, const rglru_scratch *s, int B, int T);

/* One time step: the state h (D) advances by the input x (D) and is the output.  r and i
 * (D each) are scratch. */
void rglru_step(const rglru *l, float *h, float *r, float *i, const float *x);

#endif
