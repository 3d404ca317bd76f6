/* sample: text generation from a language model, one token at a time.
 *
 * The prompt goes through model_step() (gpt's KV cache, hawk's recurrent state), then
 * each token is drawn from the logits of the last one and fed back.  The draw is greedy
 * (the first largest logit) or random: logits divided by the temperature, cut to the
 * top_k most likely tokens, then to the smallest set of most likely tokens whose
 * probability reaches top_p (renormalised), as Hugging Face's generate() does.  Ties
 * between equal probabilities go to the smaller id, so a seed gives the same text on
 * every machine and thread count.
 *
 * Generation stops after max_tokens, at a stop token (not kept), when the text ends with
 * a stop string (the text is cut before it; the tokens that made it are kept), or when
 * the sequence fills the model's context. */
#ifndef RUNNEL_TRAIN_SAMPLE_H
#define RUNNEL_TRAIN_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "model/model.h"
#include "rec/rec.h"
#include "tok/bpe.h"

typedef struct {
    bool greedy;        /* argmax; also when temperature is 0 */
    double temperature; /* > 0 */
    int top_k;          /* 0: no cut */
    double top_p;       /* 1: no cut */
} sampler_opts;

typedef struct {
    sampler_opts o;
    int V;
    double *p;     /* (V) probabilities */
    uint32_t *ids; /* (V) candidates, most likely first */
} sampler;

void sampler_init(sampler *s, int V, const sampler_opts *o);
void sampler_free(sampler *s);
/* The next token from logits (V). */
uint32_t sampler_draw(sampler *s, const float *logits, rng_t *rng);

typedef struct {
    int max_tokens;
    const uint32_t *stop_tokens;
    int n_stop_tokens;
    const char *const *stop_strings;
    int n_stop_strings;
} gen_opts;

typedef enum { GEN_LENGTH, GEN_STOP, GEN_CONTEXT } gen_finish;

/* What generation produced: token ids, and their text when there is a tokenizer. */
typedef struct {
    u32vec tokens;
    char *text;
    size_t len, cap;
    gen_finish finish;
} gen_result;

/* Continue prompt (n >= 1 tokens, at most the context) with s (reset here); res is
 * overwritten, its memory reused.  tok may be NULL (then stop strings cannot match). */
void generate(model *m, model_state *s, sampler *smp, rng_t *rng, const bpe_t *tok,
              const uint32_t *prompt, size_t n, const gen_opts *o, gen_result *res);
void gen_result_free(gen_result *res);

#endif
