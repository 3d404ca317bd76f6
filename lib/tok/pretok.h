/* pretok: pre-tokenization, the split of text into chunks that BPE merges never cross.
 *
 * A pattern is a PCRE2 regex compiled with PCRE2_UTF | PCRE2_UCP |
 * PCRE2_MATCH_INVALID_UTF, so \p{L}, \s and friends follow Unicode, and bytes that are not
 * valid UTF-8 never stop matching: no match can cover them.  pretok_split() reports the
 * successive non-overlapping matches as chunks, and each run of bytes between matches
 * (invalid UTF-8, or whatever the pattern leaves out) as a chunk of its own, so the
 * chunks always tile the text exactly.  Empty matches are skipped.  The empty pattern
 * means no split: the whole text is one chunk. */
#ifndef RUNNEL_TOK_PRETOK_H
#define RUNNEL_TOK_PRETOK_H

#include <stddef.h>

/* GPT-2's pattern, and cl100k's (GPT-4). */
extern const char PRETOK_GPT2[];
extern const char PRETOK_GPT4[];

/* The regex a --pattern argument names: "gpt2", "gpt4", "bytes" (no split: ""), or
 * any other string, taken as a regex itself. */
const char *pretok_named(const char *name);

typedef struct pretok pretok;

/* Compile pattern; NULL with a message in err[errlen] when it does not compile. */
pretok *pretok_new(const char *pattern, char *err, size_t errlen);
void pretok_free(pretok *p);

typedef void (*pretok_fn)(void *ctx, const char *chunk, size_t len);

/* Call fn on each chunk of text[len], in order.  A match that fails for lack of
 * resources (a pathological regex) is bad data: die() with EX_DATAERR. */
void pretok_split(pretok *p, const char *text, size_t len, pretok_fn fn, void *ctx);

#endif
