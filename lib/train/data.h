/* data: training text as one circular stream of token ids, cut into windows.
 *
 * The documents (records with a `tokens` array) are concatenated in order, each followed
 * by the end-of-text token when there is one, and the end joins the beginning: a window
 * of T + 1 tokens starting at p is tokens[p], tokens[p + 1] ... modulo the length, its
 * first T the inputs and its last T the targets.  A batch is B such windows starting T
 * apart, so each token is a target once per pass, and the stream moves on by B T tokens.
 * Its position is all the state there is, so a trainer saves it to resume. */
#ifndef RUNNEL_TRAIN_DATA_H
#define RUNNEL_TRAIN_DATA_H

#include <stddef.h>
#include <stdint.h>

#define TOKENS_NO_EOT UINT32_MAX

typedef struct {
    uint32_t *tok;  /* (n) */
    size_t n;
    uint64_t docs;  /* records read */
    uint64_t pos;   /* start of the next window, in [0, n) */
} token_stream;

/* Read every record of path ("-": stdin); ids must be below vocab (else exit 65 naming
 * the record); eot is TOKENS_NO_EOT for none.  A stream without any token exits 65. */
void token_stream_load(token_stream *s, const char *path, uint32_t vocab, uint32_t eot);
void token_stream_free(token_stream *s);

/* The window starting at start: tokens (T) and targets (T). */
void token_stream_window(const token_stream *s, uint64_t start, int T, uint32_t *tokens,
                         uint32_t *targets);
/* The next batch: tokens (B, T) and targets (B, T); advances the position by B T. */
void token_stream_next(token_stream *s, int B, int T, uint32_t *tokens, uint32_t *targets);

#endif
