/* lm: what the tools that run a language model share about its tokenizer.
 *
 * A checkpoint may embed the tokenizer it was trained with (tokenizer.mp); train, sample
 * and score take it from there, and the end-of-text token that separates documents in
 * training is the tokenizer's <|endoftext|>. */
#ifndef RUNNEL_TRAIN_LM_H
#define RUNNEL_TRAIN_LM_H

#include <stdint.h>

#include "model/ckpt.h"
#include "tok/bpe.h"

#define LM_EOT_TEXT "<|endoftext|>"

/* The id of the special token <|endoftext|>, or TOKENS_NO_EOT (train/data.h). */
uint32_t lm_eot(const bpe_t *tok);
/* The tokenizer of a checkpoint read with ckpt_open(), or NULL when it has none; exit 65
 * naming the member when it is malformed or has more tokens than the model. */
bpe_t *lm_tokenizer(const ckpt_reader *r);
/* The model of a checkpoint file and its tokenizer (*tok, NULL when it has none): what
 * sample and score run. */
model *lm_load(const char *path, bpe_t **tok);

#endif
