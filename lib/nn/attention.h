/* attention: GPT-2's causal multi-head self-attention, from the fused q, k, v projection.
 *
 * qkv (B, T, 3C) holds per position the query, key and value, each C = NH * hs wide with
 * head h in columns h*hs .. h*hs+hs-1 of its third (Hugging Face's c_attn layout).  For
 * each batch row b and head h, att = softmax(q kᵀ / sqrt(hs)) over the keys at positions
 * up to the query's own, and the head's output is att v, written to columns h*hs.. of
 * out (B, T, C).
 *
 * The forward keeps att (B, NH, T, T), zero above the diagonal, for the backward.  Work is
 * spread over the (b, h) pairs with a static schedule; each pair's products are sgemm
 * calls on blocks of query rows, skipping the keys that every row of the block masks.
 * The backward accumulates (+=) into dqkv.
 *
 * attention_step is the same layer for one new position during incremental inference:
 * its query against the cached keys and values of the positions so far (itself included). */
#ifndef RUNNEL_NN_ATTENTION_H
#define RUNNEL_NN_ATTENTION_H

/* out (B, T, C), att (B, NH, T, T) from qkv (B, T, 3C). */
void attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int NH);

/* From dout (B, T, C): dqkv (B, T, 3C) += dL/dqkv, given the forward's qkv and att.
 * datt (B, NH, T, T) is scratch. */
void attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                        const float *att, int B, int T, int C, int NH);

/* out (C) for the query q (C) of position n-1 over keys k (n, C) and values v (n, C) with
 * row stride C; att (NH, n) is scratch.  The heads are shared among the threads when the
 * cache is long enough to pay for it. */
void attention_step(float *out, float *att, const float *q, const float *k, const float *v,
                    int n, int C, int NH);

#endif
