#include "nn/rglru.h"

#include <math.h>

#include "nn/act.h"
#include "base/threads.h"

/* Loops over fewer elements than this run on one thread: forking would cost more than it
 * saves (one step of inference works on single rows). */
/* softplus(z) = log(1 + e^z), without overflow for large z */
static float softplus(float z) { return fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z))); }

/* The gates r and i (N, D) of the inputs x (N, D). */
static void gates_forward(const rglru *l, float *r, float *i, const float *x, int N)
{
    size_t n = (size_t)N * l->D;
    linear_forward(&l->a_gate, r, x, N);
    sigmoid_forward(r, r, n);
    linear_forward(&l->x_gate, i, x, N);
    sigmoid_forward(i, i, n);
}

void rglru_forward(const rglru *l, rglru_acts *a, const float *x, int B, int T)
{
    int D = l->D;
    gates_forward(l, a->r, a->i, x, B * T);
#pragma omp parallel for collapse(2) schedule(static) if ((long)B * T * D >= PARALLEL_MIN)
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++) {
            float sp = softplus(-l->lambda[d]);
            float h = 0.0f;
            for (int t = 0; t < T; t++) {
                long n = ((long)b * T + t) * D + d;
                float log_a = -RGLRU_C * a->r[n] * sp;
                float decay = expf(log_a);
                float mult = sqrtf(-expm1f(2.0f * log_a)); /* sqrt(1 - a²) */
                h = decay * h + mult * (a->i[n] * x[n]);
                a->log_a[n] = log_a;
                a->h[n] = h;
            }
        }
}

/* Backward through time, per (b, d), from the last step to the first.  With
 * g_t = dL/dh_t = dy_t + a_{t+1} g_{t+1}, β_t = sqrt(1 - a_t²) and dβ/dlog a = -a²/β:
 *     dL/d(i x)_t  = g_t β_t
 *     dL/dlog a_t  = g_t (a_t h_{t-1} - (a_t² / β_t) i_t x_t)
 *     dL/dr_t      = dL/dlog a_t · (-c softplus(-Λ))
 *     dL/dΛ        = Σ_t dL/dlog a_t · c r_t σ(-Λ)
 * β_t is 0 only when r_t is exactly 0 (log a = 0); the gradients that flow through log a
 * then all carry the factor r_t = 0 and their limit is 0, so the a²/β term is dropped
 * there instead of making 0 · ∞. */
void rglru_backward(const rglru *l, float *dx, const float *dy, const float *x,
                    const rglru_acts *a, const rglru_scratch *s, int B, int T)
{
    int D = l->D;
#pragma omp parallel for collapse(2) schedule(static) if ((long)B * T * D >= PARALLEL_MIN)
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++) {
            float sp = softplus(-l->lambda[d]);
            float sig = 1.0f / (1.0f + expf(l->lambda[d])); /* σ(-Λ) = dsoftplus(-Λ)/d(-Λ) */
            float carry = 0.0f; /* a_{t+1} g_{t+1} */
            float dlambda = 0.0f;
            for (int t = T - 1; t >= 0; t--) {
                long n = ((long)b * T + t) * D + d;
                float g = dy[n] + carry;
                float log_a = a->log_a[n];
                float decay = expf(log_a);
                float mult = sqrtf(-expm1f(2.0f * log_a));
                float h_prev = t > 0 ? a->h[n - D] : 0.0f;
                float r = a->r[n], i = a->i[n];
                float dix = g * mult;
                dx[n] += dix * i;
                float dmult = mult > 0.0f ? decay * decay / mult : 0.0f;
                float dlog_a = g * (decay * h_prev - dmult * i * x[n]);
                s->dr[n] = dlog_a * (-RGLRU_C * sp) * r * (1.0f - r);
                s->di[n] = dix * x[n] * i * (1.0f - i);
                dlambda += dlog_a * RGLRU_C * r * sig;
                carry = decay * g;
            }
            s->dlambda_seq[(long)b * D + d] = dlambda;
        }
    if (l->dlambda) /* sequences in order, so the sum does not depend on the thread count */
        for (int b = 0; b < B; b++)
            for (int d = 0; d < D; d++)
                l->dlambda[d] += s->dlambda_seq[(long)b * D + d];
    linear_backward(&l->a_gate, dx, s->dr, x, B * T);
    linear_backward(&l->x_gate, dx, s->di, x, B * T);
}

void rglru_step(const rglru *l, float *h, float *r, float *i, const float *x)
{
    gates_forward(l, r, i, x, 1);
    for (int d = 0; d < l->D; d++) {
        float log_a = -RGLRU_C * r[d] * softplus(-l->lambda[d]);
        float mult = sqrtf(-expm1f(2.0f * log_a));
        h[d] = expf(log_a) * h[d] + mult * (i[d] * x[d]);
    }
}
