/* score: the log-probability a language model gives to texts, batched.
 *
 * A record gives the scored tokens (`tokens`, else `text` encoded with the tokenizer)
 * and optionally a prompt that is conditioned on but not scored (`prompt_tokens`, else
 * `prompt` encoded on its own).  When the model has an end-of-text token the sequence
 * starts with it, as GPT-2 was trained, so every scored token has a prediction; without
 * one and without a prompt the first token only conditions.  The sequence less its last
 * token must fit the context (a longer one is refused with exit 65 naming the record).
 *
 * Records are held until B of them fill a batch, which goes through one model_forward of
 * (B, T) with T the longest row rounded up to a power of two; the records then go out in
 * order, every key kept, with `logprob` (the sum, natural log), `n_tokens` and `ppl`
 * (exp(-logprob / n_tokens), nil for no tokens), and `token_logprobs` when asked. */
#ifndef RUNNEL_TRAIN_SCORE_H
#define RUNNEL_TRAIN_SCORE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"
#include "rec/rec.h"
#include "tok/bpe.h"

typedef struct {
    model *m;
    bpe_t *tok;          /* NULL: records must give tokens */
    uint32_t eot;        /* TOKENS_NO_EOT: none */
    bool per_token;
    int B, T;            /* rows per batch; the length planned (0: none yet) */
    int rows;            /* records held */
    u32vec *seq;         /* (B) each row's whole sequence */
    int *first;          /* (B) index in seq of the first scored token */
    msgpack_sbuffer held;  /* the records held, packed back to back */
    msgpack_unpacked view; /* one of them, being written */
    u32vec text;         /* encoding scratch */
    uint32_t *tokens, *targets; /* (B, T) */
    float *logp;         /* (B, T) */
} scorer;

void scorer_init(scorer *s, model *m, bpe_t *tok, uint32_t eot, int B, bool per_token);
void scorer_free(scorer *s);
/* Hold record r; a full batch is scored and written to out. */
void scorer_add(scorer *s, const rec *r, rec_writer *out);
/* Score and write the records held. */
void scorer_flush(scorer *s, rec_writer *out);

#endif
