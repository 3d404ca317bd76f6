/* qlinear: fake quantization of linear layers in training, through their linear_ext hooks.
 *
 * With a recipe's w, a, g and gx specs (quant/recipe.h; a spec with bits 0 leaves that
 * tensor alone), a layer with W stored (in, out) computes
 *
 *     forward   Y  = Q_a(X) Q_w(W) + b
 *     backward  dW = Q_a(X)ᵀ Q_g(dY)      the quantized input, as the forward used it
 *               dX = Q_gx(dY) Q_w(W)ᵀ
 *               db = dY                    unquantized
 *
 * and every quantizer has a straight-through gradient: the backward is that of the
 * layer y = x' W' + b evaluated at x' = Q_a(X), W' = Q_w(W), treating Q as the identity.
 *
 * Memory is planned once: each layer keeps its Q_w(W) (in, out), recomputed only when the
 * optimizer has moved the weights since (the version counter, e.g. AdamW's step count t,
 * changed; with no counter, at every call); the layers share scratch for Q_a(X), Q_g(dY)
 * and Q_gx(dY) of up to max_rows rows.  The backward computes Q_a(X) again rather than
 * keeping a copy per layer.
 *
 * Stochastic rounding draws its noise from the seed, the layer, the tensor, the version
 * and the number of backward passes the layer has made since the version changed, so the
 * forward and the backward of a micro-batch round X alike, and a run resumed at a step
 * rounds as the uninterrupted run did. */
#ifndef RUNNEL_QUANT_QLINEAR_H
#define RUNNEL_QUANT_QLINEAR_H

#include <stdint.h>

#include "nn/linear.h"
#include "quant/recipe.h"

typedef struct qlinear_set qlinear_set;

/* NULL if recipe r applies to layer l, else why not (a group that does not divide). */
const char *qlinear_check(const quant_recipe *r, const linear *l);

/* Attach r's quantizers to the n layers (checked with qlinear_check) for batches of up
 * to max_rows rows; version may be NULL.  The layers' ext must be NULL. */
qlinear_set *qlinear_attach(const quant_recipe *r, linear **layers, int n, int max_rows,
                            uint64_t seed, const uint64_t *version);
/* Detach the hooks and free everything. */
void qlinear_free(qlinear_set *s);
/* Bytes of scratch and cached weights held. */
size_t qlinear_bytes(const qlinear_set *s);

#endif
