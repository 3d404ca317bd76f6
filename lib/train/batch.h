/* batch: micro-batches of examples, for trainers that do not read one flat token stream.
 *
 * A batch_source gives the trainer (train/train.h) micro-batches of B rows of T positions,
 * tokens (B, T) and targets (B, T), where a target MODEL_IGNORE adds no loss.  For
 * training it goes on forever (next); for validation it is a fixed list of batches (count,
 * get), the last one padded with rows whose targets are all ignored.
 *
 * seq_source is runnel's: a set of examples, each of `per` sequences laid out as
 *
 *     [eot] prompt response [eot]          (eot when the model has an end-of-text token)
 *
 * of which only the response (and the closing eot) is scored: the targets of the prompt
 * are MODEL_IGNORE.  SFT has one sequence per example (prompt, response); DPO two (the
 * prompt with the chosen answer, then with the rejected one), which always share a
 * micro-batch, in rows 2i and 2i + 1.  Each row holds one sequence, left-aligned and
 * padded with token 0, its inputs the sequence less its last token and its targets the
 * sequence less its first.  A sequence longer than T + 1 tokens loses the end of its
 * response; a prompt that leaves no response token within T + 1 is an error.  Training
 * takes the examples in an order shuffled anew each epoch (from the seed); validation
 * takes them in file order. */
#ifndef RUNNEL_TRAIN_BATCH_H
#define RUNNEL_TRAIN_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rec/rec.h"
#include "tok/bpe.h"

typedef struct batch_source batch_source;
struct batch_source {
    /* The next training micro-batch. */
    void (*next)(batch_source *s, int B, int T, uint32_t *tokens, uint32_t *targets);
    /* Micro-batches in one pass over the source as validation data. */
    uint64_t (*count)(const batch_source *s, int B);
    /* Validation batch k (of count); returns the examples in it (the other rows padding). */
    int (*get)(batch_source *s, uint64_t k, int B, int T, uint32_t *tokens, uint32_t *targets);
    uint64_t examples;  /* for the trainer's config record */
    uint64_t tokens;    /* tokens of all the sequences */
};

/* How records become token sequences. */
typedef struct {
    bpe_t *tok;        /* encodes text fields; NULL: records must give KEY_tokens */
    uint32_t vocab;    /* ids must be below */
    uint32_t eot;      /* TOKENS_NO_EOT: none */
    int context;       /* the longest input the model reads (model_max_len; 0: any) */
} seq_format;

typedef struct {
    batch_source base;   /* first */
    int per;             /* sequences per example */
    u32vec tok;          /* every sequence's tokens, back to back */
    size_t *start;       /* (n_seq + 1) where each sequence starts in tok */
    uint32_t *first;     /* (n_seq) index of each sequence's first scored token */
    uint64_t *record;    /* (n) the record each example came from (counted from 1) */
    size_t n, n_seq, cap; /* examples, sequences, capacity in sequences */
    size_t longest;      /* tokens in the longest sequence */
    char *name;          /* the input, for messages */
    uint64_t seed, epoch;
    size_t *order;       /* (n) this epoch's order of the examples */
    size_t pos;          /* next place in order */
    size_t *last;        /* (n) the examples of the last batch given, in row order ... */
    int n_last;          /* ... and how many */
    uint64_t truncated;  /* sequences cut to fit T (counted by seq_source_fit) */
    rec_reader *in;      /* while loading; with the scratch below, freed by */
    u32vec prompt, resp; /* seq_source_free() even when loading died half-way */
} seq_source;

/* Read every record of path ("-": stdin) into s: an example of per sequences from the
 * prompt under keys[0] and the responses under keys[1 .. per], each given as token ids
 * (KEY_tokens) or text (KEY, encoded with f->tok).  A record without one of the keys, an
 * empty response, a prompt that leaves no room for a response within the model's context,
 * or no record at all, exit 65 naming the input and the record. */
void seq_source_load(seq_source *s, const char *path, int per, const char *const *keys,
                     const seq_format *f, uint64_t seed);
/* Free everything s holds; s may have died anywhere in seq_source_load(). */
/* Check that every example fits rows of T positions and count the sequences that will be
 * cut; a prompt that leaves no response token within T + 1 exits 65 naming the record. */
void seq_source_fit(seq_source *s, int T);
void seq_source_free(seq_source *s);

#endif
