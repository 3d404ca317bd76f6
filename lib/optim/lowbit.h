/* lowbit: AdamW's moments held as b-bit codes (see optim/adamw.h), the part of adamw.c
 * that only its low-bit runs use.  Internal to lib/optim. */
#ifndef RUNNEL_OPTIM_LOWBIT_H
#define RUNNEL_OPTIM_LOWBIT_H

#include <math.h>
#include <stdbool.h>

#include "optim/adamw.h"

/* The scalars of one step, as torch computes them (in double, applied in float). */
typedef struct {
    float beta2, one_minus_beta1, one_minus_beta2, step_size, bc2_sqrt, eps, decay;
} adamw_scalars;

/* The moments and weight of one element after a step (w is left alone when !apply). */
static inline void adamw_update(float *w, float g, float *m, float *v, const adamw_scalars *k,
                                bool decays, bool apply)
{
    if (decays && apply)
        *w *= k->decay;
    *m += k->one_minus_beta1 * (g - *m); /* torch's lerp */
    *v = k->beta2 * *v + k->one_minus_beta2 * g * g;
    if (apply) {
        float denom = sqrtf(*v) / k->bc2_sqrt + k->eps;
        *w -= k->step_size * (*m / denom);
    }
}

/* Set up o->lowbit for o->h's storage (o->ps and o->h set, o->m / o->v allocated only for
 * a float moment); false when both moments are float32. */
bool lowbit_init(adamw *o);
void lowbit_free(adamw_lowbit *lb);
void lowbit_step(adamw *o, const adamw_scalars *k);
size_t lowbit_bytes(const adamw_lowbit *lb);
void lowbit_get(const adamw *o, float *m, float *v);
void lowbit_set(adamw *o, const float *m, const float *v);

#endif
