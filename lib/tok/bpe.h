/* bpe: byte-level byte-pair encoding, the tokenizer of GPT-2 and its descendants.
 *
 * A model turns any bytes into token ids and back, exactly: every byte has a token of
 * its own, so nothing is ever unknown, and decoding concatenates the tokens' bytes.
 * Text is first cut into chunks by a regex (see pretok.h); within a chunk, merges join
 * adjacent tokens, lowest rank first, until no merge applies.
 *
 * Id layout, the same for learned and imported models:
 *     0 .. 255                      the 256 single bytes (in any order: byte_of_id)
 *     256 .. 256+n_merges-1         merge i joins merges[i].left, merges[i].right into 256+i
 *     256+n_merges .. n_vocab-1     special tokens, literal strings such as <|endoftext|>
 * Every token's bytes differ from every other's, a merge only uses ids made before it,
 * and a model is never built unless all of this holds (tok_new checks it).
 *
 * Special tokens are matched in text only when the caller allows it (tok_encode's
 * allow_special); otherwise their strings encode as ordinary text, as tiktoken does, so
 * data cannot inject them.
 *
 * Encoding keeps a cache and scratch space inside the model: one thread per model. */
#ifndef RUNNEL_TOK_BPE_H
#define RUNNEL_TOK_BPE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rec/rec.h"

typedef struct {
    uint32_t left, right;
} tok_pair;

typedef struct {
    const char *s;
    size_t len;
} tok_str;

typedef struct tok_encoder tok_encoder;

typedef struct {
    uint32_t n_vocab;     /* 256 + n_merges + n_special */
    uint32_t n_merges;
    uint32_t n_special;
    char *pattern;        /* pre-tokenization regex; "" for none */
    uint8_t byte_of_id[256];
    uint32_t id_of_byte[256];
    tok_pair *merges;     /* (n_merges) in rank order */
    char *bytes;          /* every token's bytes back to back */
    uint64_t *start;      /* (n_vocab + 1) token id is bytes[start[id] .. start[id + 1]) */
    tok_encoder *enc;     /* rank table, pre-tokenizer, chunk cache (bpe.c) */
} bpe_t;

enum { TOK_MAX_VOCAB = 1 << 24 };

/* Build a model from its parts, checking the layout above; NULL and a message in
 * err[errlen] if they are inconsistent.  byte_of_id[i] is the byte of id i < 256. */
bpe_t *tok_new(const uint8_t byte_of_id[256], const tok_pair *merges, uint32_t n_merges,
               const tok_str *special, uint32_t n_special, const char *pattern, char *err,
               size_t errlen);
void tok_free(bpe_t *m);

static inline const char *tok_bytes(const bpe_t *m, uint32_t id, size_t *len)
{
    *len = (size_t)(m->start[id + 1] - m->start[id]);
    return m->bytes + m->start[id];
}
static inline uint32_t tok_first_special(const bpe_t *m) { return 256 + m->n_merges; }

/* Append the ids of text[len] to out. */
void tok_encode(bpe_t *m, const char *text, size_t len, bool allow_special, u32vec *out);

/* Append the bytes of ids[n] to *buf (grown with xrealloc; *len bytes used, *cap
 * allocated).  An id outside the vocabulary dies with EX_DATAERR. */
void tok_decode(const bpe_t *m, const uint32_t *ids, size_t n, char **buf, size_t *len,
                size_t *cap);

/* ---- learning (learn.c) ---- */

typedef struct tok_learner tok_learner;

/* pattern is a regex, as pretok_named() gives; the specials get the last ids, in order.
 * NULL and a message if the pattern does not compile or a special is empty, repeated or
 * a single byte (which has its token already). */
tok_learner *tok_learner_new(const char *pattern, const tok_str *special, uint32_t n_special,
                             char *err, size_t errlen);
/* Count the chunks of one text. */
void tok_learner_add(tok_learner *l, const char *text, size_t len);
/* Bytes of text added so far. */
uint64_t tok_learner_bytes(const tok_learner *l);
/* Learn merges until n_vocab tokens (256 bytes + merges + specials) or until no pair
 * occurs min_freq times; frees l.  The most frequent pair is merged first; ties go to
 * the pair with the smaller (left id, right id).  Byte b gets id b.  A merge that would
 * make a token that exists already (or a special's bytes) is skipped.  Dies with
 * EX_USAGE, l freed, if n_vocab < 256 + the number of specials. */
bpe_t *tok_learn(tok_learner *l, uint32_t n_vocab, uint64_t min_freq);

/* ---- model files (model_io.c) ---- */

/* A model as one msgpack map: {"type":"bpe", "version":1, "pattern":str,
 * "vocab":[bin per id], "merges":[[left,right] ...], "special":{str:id}}. */
void tok_pack(const bpe_t *m, msgpack_packer *pk);
/* The model in o, checked through and through; dies with EX_DATAERR naming `where` if
 * anything is wrong.  Allocates nothing that outlives a failure. */
bpe_t *tok_unpack(const msgpack_object *o, const char *where);
/* A model file: one record holding the map (gzip allowed).  A missing file exits 66. */
bpe_t *tok_load(const char *path);
/* Written atomically. */
void tok_save(const bpe_t *m, const char *path);

/* ---- GPT-2's vocab.json and merges.txt (gpt2.c) ---- */

/* GPT-2's bytes_to_unicode(): the character standing for each byte in its files. */
uint32_t gpt2_char_of_byte(uint8_t b);

/* A model from the text of vocab.json and merges.txt (names for messages); the pattern
 * is GPT-2's.  Ids must follow the layout above, as GPT-2's do; vocab entries after the
 * merge results are special tokens, taken literally.  Dies with EX_DATAERR on bad data,
 * allocating nothing that outlives the failure. */
bpe_t *gpt2_parse(const char *vocab, size_t vocab_len, const char *vocab_name,
                  const char *merges, size_t merges_len, const char *merges_name);
/* The same from files (gzip allowed). */
bpe_t *gpt2_import(const char *vocab_path, const char *merges_path);
/* Write both files atomically: vocab.json as compact JSON in id order, merges.txt as
 * "#version: 0.2" and one merge per line. */
void gpt2_export(const bpe_t *m, const char *vocab_path, const char *merges_path);

#endif
