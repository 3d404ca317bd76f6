#include "train/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "model/model.h"
#include "train/data.h"

/* ---- building the examples ---- */

/* The ids under KEY_tokens, else the encoding of the text under KEY, into out; false if
 * the record has neither. */
static bool part(const rec *r, const char *key, const seq_format *f, u32vec *out)
{
    char tkey[64];
    snprintf(tkey, sizeof tkey, "%s_tokens", key);
    if (rec_get_u32s(r, tkey, f->vocab - 1, out))
        return true;
    const char *text;
    size_t len;
    if (!rec_get_str(r, key, &text, &len))
        return false;
    if (!f->tok)
        rec_fail(r, "key \"%s\": the model has no tokenizer to encode it; give \"%s\"", key,
                 tkey);
    out->n = 0;
    tok_encode(f->tok, text, len, false, out);
    return true;
}

static void push(seq_source *s, const uint32_t *v, size_t n)
{
    u32vec_reserve(&s->tok, s->tok.n + n);
    if (n)
        memcpy(s->tok.v + s->tok.n, v, n * sizeof *v);
    s->tok.n += n;
}

/* Append the sequence [eot] prompt response [eot]. */
static void add_seq(seq_source *s, const rec *r, const u32vec *prompt, const u32vec *resp,
                    const seq_format *f)
{
    if (s->n_seq == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->start = xrealloc(s->start, (s->cap + 1) * sizeof *s->start);
        s->first = xrealloc(s->first, s->cap * sizeof *s->first);
    }
    bool eot = f->eot != TOKENS_NO_EOT;
    size_t head = (eot ? 1 : 0) + prompt->n;
    if (f->context && head > (size_t)f->context)
        rec_fail(r, "the prompt (%zu tokens%s) leaves no room for a response in the "
                 "model's context of %d tokens", prompt->n, eot ? " after <|endoftext|>" : "",
                 f->context);
    if (eot)
        push(s, &f->eot, 1);
    push(s, prompt->v, prompt->n);
    push(s, resp->v, resp->n);
    if (eot)
        push(s, &f->eot, 1);
    size_t n = head + resp->n + (eot ? 1 : 0);
    size_t first = head ? head : 1; /* the very first token has no prediction */
    if (n <= first)
        rec_fail(r, "no response token can be predicted: give a prompt");
    s->first[s->n_seq] = (uint32_t)first;
    s->start[++s->n_seq] = s->tok.n;
    if (n > s->longest)
        s->longest = n;
}

/* ---- batches ---- */

/* Row (T) of sequence q: inputs and targets, the prompt's targets ignored. */
static void fill_row(const seq_source *s, size_t q, int T, uint32_t *tokens, uint32_t *targets)
{
    const uint32_t *v = s->tok.v + s->start[q];
    size_t n = s->start[q + 1] - s->start[q];
    size_t m = n - 1 < (size_t)T ? n - 1 : (size_t)T; /* inputs in the row */
    for (size_t t = 0; t < (size_t)T; t++) {
        tokens[t] = t < m ? v[t] : 0;
        targets[t] = t < m && t + 1 >= s->first[q] ? v[t + 1] : MODEL_IGNORE;
    }
}

static void pad_row(int T, uint32_t *tokens, uint32_t *targets)
{
    for (int t = 0; t < T; t++) {
        tokens[t] = 0;
        targets[t] = MODEL_IGNORE;
    }
}

static int examples_per_batch(const seq_source *s, int B)
{
    if (B % s->per != 0)
        die(EX_SOFTWARE, "batch: %d rows do not hold whole examples of %d sequences", B,
            s->per);
    return B / s->per;
}

/* The example in its rows of a batch, as slot e of it. */
static void fill_example(seq_source *s, size_t ex, int e, int T, uint32_t *tokens,
                         uint32_t *targets)
{
    for (int j = 0; j < s->per; j++) {
        size_t row = (size_t)e * s->per + j;
        fill_row(s, ex * s->per + j, T, tokens + row * T, targets + row * T);
    }
    s->last[e] = ex;
}

static void shuffle(seq_source *s)
{
    rng_t r;
    rng_seed(&r, mix64(s->seed ^ mix64(s->epoch + 1)));
    for (size_t i = 0; i < s->n; i++)
        s->order[i] = i;
    for (size_t i = s->n; i > 1; i--) {
        size_t j = (size_t)rng_below(&r, i);
        size_t x = s->order[i - 1];
        s->order[i - 1] = s->order[j];
        s->order[j] = x;
    }
}

static void seq_next(batch_source *b, int B, int T, uint32_t *tokens, uint32_t *targets)
{
    seq_source *s = (seq_source *)b;
    int E = examples_per_batch(s, B);
    for (int e = 0; e < E; e++) {
        if (s->pos == s->n) {
            s->epoch++;
            shuffle(s);
            s->pos = 0;
        }
        fill_example(s, s->order[s->pos++], e, T, tokens, targets);
    }
    s->n_last = E;
}

static uint64_t seq_count(const batch_source *b, int B)
{
    const seq_source *s = (const seq_source *)b;
    uint64_t E = (uint64_t)examples_per_batch(s, B);
    return (s->n + E - 1) / E;
}

static int seq_get(batch_source *b, uint64_t k, int B, int T, uint32_t *tokens,
                   uint32_t *targets)
{
    seq_source *s = (seq_source *)b;
    int E = examples_per_batch(s, B), have = 0;
    for (int e = 0; e < E; e++) {
        size_t ex = (size_t)k * E + e;
        if (ex < s->n) {
            fill_example(s, ex, e, T, tokens, targets);
            have++;
        } else {
            for (int j = 0; j < s->per; j++) {
                size_t row = (size_t)e * s->per + j;
                pad_row(T, tokens + row * T, targets + row * T);
            }
        }
    }
    s->n_last = have;
    return have;
}

/* ---- the source ---- */

void seq_source_load(seq_source *s, const char *path, int per, const char *const *keys,
                     const seq_format *f, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->per = per;
    s->seed = seed;
    s->start = xcalloc(1, sizeof *s->start);
    rec_reader *in = s->in = rec_open(path);
    s->name = xstrdup(rec_input_name(in));
    u32vec *prompt = &s->prompt, *resp = &s->resp;
    size_t cap = 0;
    rec r;
    while (rec_next(in, &r)) {
        if (!part(&r, keys[0], f, prompt))
            rec_fail(&r, "no \"%s\" (or \"%s_tokens\")", keys[0], keys[0]);
        for (int j = 1; j <= per; j++) {
            if (!part(&r, keys[j], f, resp))
                rec_fail(&r, "no \"%s\" (or \"%s_tokens\")", keys[j], keys[j]);
            if (resp->n == 0)
                rec_fail(&r, "\"%s\" is empty", keys[j]);
            add_seq(s, &r, prompt, resp, f);
        }
        if (s->n == cap) {
            cap = cap ? 2 * cap : 256;
            s->record = xrealloc(s->record, cap * sizeof *s->record);
        }
        s->record[s->n++] = r.index;
    }
    if (s->n == 0)
        die(EX_DATAERR, "%s: no examples", s->name);
    rec_close(in);
    s->in = NULL;
    u32vec_free(prompt);
    u32vec_free(resp);
    s->order = xmalloc(s->n * sizeof *s->order);
    s->last = xmalloc(s->n * sizeof *s->last);
    shuffle(s);
    s->base = (batch_source){.next = seq_next, .count = seq_count, .get = seq_get,
                             .examples = s->n, .tokens = s->tok.n};
}

void seq_source_fit(seq_source *s, int T)
{
    s->truncated = 0;
    for (size_t q = 0; q < s->n_seq; q++) {
        if (s->first[q] > (size_t)T)
            die(EX_DATAERR, "%s: record %llu: the prompt takes %u positions, and rows of %d "
                "(-T) leave no room for a response", s->name,
                (unsigned long long)s->record[q / s->per], s->first[q], T);
        s->truncated += s->start[q + 1] - s->start[q] - 1 > (size_t)T;
    }
}

void seq_source_free(seq_source *s)
{
    u32vec_free(&s->tok);
    free(s->start);
    free(s->first);
    free(s->record);
    free(s->name);
    free(s->order);
    free(s->last);
    if (s->in)
        rec_close(s->in);
    u32vec_free(&s->prompt);
    u32vec_free(&s->resp);
    memset(s, 0, sizeof *s);
}
