/* sft: supervised fine-tuning on prompts and responses.
 *
 * Each record gives a prompt and a response (`prompt` and `response` as text, or
 * `prompt_tokens` and `response_tokens` as ids); it becomes one sequence
 * [eot] prompt response [eot] (train/batch.h) of which only the response and its closing
 * end-of-text are scored, so the model learns to answer, not to write prompts.  The loss
 * is the mean cross-entropy over the scored tokens of a micro-batch (train_xent). */
#ifndef RUNNEL_TRAIN_SFT_H
#define RUNNEL_TRAIN_SFT_H

#include <stdint.h>

#include "train/batch.h"
#include "train/train.h"

/* The examples of path ("-": stdin); errors as seq_source_load(). */
void sft_load(seq_source *s, const char *path, const seq_format *f, uint64_t seed);
/* The loss: mean cross-entropy over the response tokens. */
train_loss sft_loss(void);

#endif
