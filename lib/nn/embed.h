/* embed: token embeddings in, and the tied output head out.
 *
 * wte is (V, C).  The head computes logits = h wteᵀ (one sgemm), then, per position, the
 * log-sum-exp of the row and the log-probability of the target token; targets equal to
 * EMBED_IGNORE contribute 0.  Its backward takes dL/dlogp per position, so one head
 * serves every loss that is a weighted sum of target log-probabilities: mean cross-entropy
 * (-1/N each), a response-only loss (0 on the prompt), DPO (a per-sequence coefficient). */
#ifndef RUNNEL_NN_EMBED_H
#define RUNNEL_NN_EMBED_H

#include <stdint.h>

#define EMBED_IGNORE UINT32_MAX

/* out (N, C) = wte[tokens] (times scale) */
void embed_forward(float *out, const float *wte, const uint32_t *tokens, int N, int C,
                   float scale);
/* dwte[tokens] += scale * dout */
void embed_backward(float *dwte, const float *dout, const uint32_t *tokens, int N, int C,
                    float scale);

/* logits (N, V) = h (N, C) wteᵀ; lse (N) their log-sum-exp; logp (N) = logits[target] - lse
 * (0 for ignored targets). */
void head_forward(float *logits, float *lse, float *logp, const float *h, const float *wte,
                  const uint32_t *targets, int N, int C, int V);
/* From dlogp (N): dlogits = dlogp * (onehot(target) - softmax) in place of logits (the
 * logits are consumed), then dh += dlogits wte and dwte += dlogitsᵀ h (skipped when dwte
 * is NULL: a frozen embedding). */
void head_backward(float *dh, float *dwte, float *logits, const float *lse, const float *dlogp,
                   const float *h, const float *wte, const uint32_t *targets, int N, int C,
                   int V);

#endif
