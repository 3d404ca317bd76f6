/* dpo: Direct Preference Optimization (Rafailov et al., 2023), with conservative DPO's
 * label smoothing.
 *
 * Each record gives a prompt and two answers, `chosen` preferred to `rejected` (text, or
 * ids under prompt_tokens, chosen_tokens, rejected_tokens).  A pair is two sequences in
 * rows 2i and 2i + 1 of a micro-batch (train/batch.h), and log π(y) is the sum of the
 * log-probabilities of the answer's tokens (and its closing end-of-text).  With π the
 * model being trained and π_ref the model it started from,
 *
 *     z = β [(log π(c) - log π(r)) - (log π_ref(c) - log π_ref(r))]
 *     L = -(1 - ε) log σ(z) - ε log σ(-z)            (ε: label smoothing, cDPO)
 *
 * averaged over the pairs of a micro-batch.  Its gradient reaches the model through
 * dL/dlogp: β dL/dz / P on every scored token of the chosen row, the opposite on the
 * rejected one (dL/dz = -(1 - ε) σ(-z) + ε σ(z)).  The reference log-probs are computed
 * once, before training, with the starting model (dpo_reference()), and looked up for each
 * batch: a dpo_source hands out its pairs' batches and tells the loss their references.
 *
 * Beside the loss it reports, as means over the pairs: the implicit rewards
 * β (log π(y) - log π_ref(y)) of the chosen and of the rejected answers, their margin, and
 * the reward accuracy (the fraction of pairs whose chosen reward is the higher). */
#ifndef RUNNEL_TRAIN_DPO_H
#define RUNNEL_TRAIN_DPO_H

#include <stdint.h>

#include "train/batch.h"
#include "train/train.h"

enum { DPO_STATS = 4 }; /* reward_accuracy, reward_margin, chosen_reward, rejected_reward */

typedef struct {
    double beta, smoothing;
    double *ref_rows;         /* (B) reference log-probs of the rows last handed out */
    int rows;
    double stats[DPO_STATS];  /* of the last call of the loss */
} dpo;

typedef struct {
    batch_source base;        /* first: the batches of the pairs */
    seq_source seqs;          /* two sequences per pair: chosen, rejected */
    double *ref;              /* (2 n) log π_ref of each sequence */
    dpo *d;                   /* the loss told about each batch */
} dpo_source;

/* beta > 0, smoothing in [0, 0.5); B rows per micro-batch (two per pair). */
void dpo_init(dpo *d, double beta, double smoothing, int B);
void dpo_free(dpo *d);
/* The pairs of path; errors as seq_source_load() (a missing chosen or rejected, an empty
 * answer ...). */
void dpo_source_load(dpo_source *s, dpo *d, const char *path, const seq_format *f,
                     uint64_t seed);
void dpo_source_free(dpo_source *s);
/* log π_ref of every sequence of s: the model of t as it is now, planned by t, through t's
 * batch buffers. */
void dpo_reference(dpo_source *s, trainer *t);

/* The loss and its stats, for the trainer. */
double dpo_loss_fn(void *ctx, const uint32_t *tokens, const uint32_t *targets,
                   const float *logp, float *dlogp, int B, int T);
train_loss dpo_loss(dpo *d);
train_stats dpo_stats(const dpo *d);

#endif
