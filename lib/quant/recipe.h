/* recipe: which tensors of a training run are quantized, and how.
 *
 * A recipe is a set of terms KEY=SPEC, SPEC as quant_parse() reads it
 * ("8:per-row", "4:per-group-64:asym", "8:per-token:stochastic"), KEY one of
 *
 *     w    the weights of every linear layer, in forward and backward
 *     a    the activations entering every linear layer (its input X)
 *     g    the gradient of its output used for dW
 *     gx   the gradient of its output used for dX
 *     m    AdamW's first moment, stored in SPEC's bits (4 or 8)
 *     v    AdamW's second moment, stored likewise
 *
 * so that a linear layer computes (lib/quant/qlinear.h)
 *
 *     Y  = Q_a(X) Q_w(W)ᵀ + b          W as (out, in)
 *     dW = Q_g(G)ᵀ Q_a(X)
 *     dX = Q_gx(G) Q_w(W)
 *
 * Granularity reads naturally for each: "per-row" of w is one scale per output channel,
 * of a, g and gx one per token, of m and v one per row of the tensor as stored; a group
 * runs along the input dimension for w and a, the output dimension for g and gx, a row
 * for m and v.
 *
 * Text: the terms separated by white space or newlines, each KEY=SPEC or KEY SPEC; '#'
 * starts a comment to the end of the line (a recipe file is one term per line).  The
 * canonical text (recipe_format) lists the terms given in the order above, as KEY=SPEC
 * separated by one space; "" is the empty recipe, plain fp32 training.  Two recipes are
 * the same exactly when their canonical texts are. */
#ifndef RUNNEL_QUANT_RECIPE_H
#define RUNNEL_QUANT_RECIPE_H

#include <stdbool.h>
#include <stddef.h>

#include "quant/quant.h"

enum { RECIPE_W, RECIPE_A, RECIPE_G, RECIPE_GX, RECIPE_M, RECIPE_V, RECIPE_TERMS };

typedef struct {
    quant_spec q[RECIPE_TERMS]; /* bits 0: that tensor stays float32 */
} quant_recipe;

/* The key of term i ("w", "a" ...). */
const char *recipe_key(int i);

/* Add the term KEY=SPEC to r; NULL, or a message saying what is wrong (an unknown key, a
 * term given twice, a bad spec, moments in other than 4 or 8 bits). */
const char *recipe_term(quant_recipe *r, const char *key, const char *spec, char *msg,
                        size_t msglen);
/* Add every term of a recipe text; NULL, or a message naming the term (and its line). */
const char *recipe_parse(quant_recipe *r, const char *text, char *msg, size_t msglen);
/* The canonical text; returns false if it does not fit in size bytes. */
bool recipe_format(const quant_recipe *r, char *buf, size_t size);
/* Whether r quantizes anything in the linear layers (w, a, g or gx). */
bool recipe_has_linear(const quant_recipe *r);

#endif
