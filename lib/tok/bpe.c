/* The model: building and checking it, encoding and decoding. */
#include "tok/bpe.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "tok/pretok.h"
#include "tok/table.h"

/* The chunk cache is dropped whole when it grows past either bound.  Long chunks (the
 * "bytes" pattern makes whole texts chunks) rarely repeat and are not cached. */
enum { CACHE_MAX_CHUNKS = 1 << 20, CACHE_MAX_IDS = 1 << 24, CACHE_MAX_LEN = 256 };

struct tok_encoder {
    pretok *pre;
    pairmap rank;       /* pair_key(left, right) -> merge index */
    strmap cache;       /* chunk -> entry k, whose ids are cache_ids[cache_at[k] .. cache_at[k+1]) */
    u32vec cache_ids;
    uint32_t *cache_at; /* (cache.n + 1) */
    size_t cache_at_cap;
    /* scratch for merging one chunk of n bytes: a linked list of tokens and a heap */
    uint32_t *id;       /* (n) token at each node; DEAD once merged into its left */
    int32_t *prev, *next;
    uint64_t *heap;     /* rank << 32 | node: lowest rank first, then leftmost */
    size_t scratch_cap;
    size_t *special_at; /* (n_special) where each special next occurs */
    bpe_t *m;           /* the model and output of the chunk being encoded */
    u32vec *out;
};

enum { DEAD = UINT32_MAX };

static void fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

bpe_t *tok_new(const uint8_t byte_of_id[256], const tok_pair *merges, uint32_t n_merges,
               const tok_str *special, uint32_t n_special, const char *pattern, char *err,
               size_t errlen)
{
    if ((uint64_t)256 + n_merges + n_special > TOK_MAX_VOCAB) {
        fail(err, errlen, "%llu tokens are more than the %d allowed",
             256ULL + n_merges + n_special, TOK_MAX_VOCAB);
        return NULL;
    }
    uint32_t n = 256 + n_merges + n_special;
    bool seen[256] = {0};
    for (int i = 0; i < 256; i++) {
        if (seen[byte_of_id[i]]) {
            fail(err, errlen, "byte 0x%02x has two tokens", byte_of_id[i]);
            return NULL;
        }
        seen[byte_of_id[i]] = true;
    }
    /* Token lengths first: a chain of merges can double a length each time. */
    uint64_t *start = xmalloc(((size_t)n + 1) * sizeof *start);
    start[0] = 0;
    for (uint32_t id = 0; id < n; id++) {
        uint64_t len = 1;
        if (id >= 256 && id < 256 + n_merges) {
            const tok_pair *p = &merges[id - 256];
            if (p->left >= id || p->right >= id) {
                fail(err, errlen, "merge %u joins %u and %u, not both made before it",
                     id - 256, p->left, p->right);
                free(start);
                return NULL;
            }
            len = (start[p->left + 1] - start[p->left]) + (start[p->right + 1] - start[p->right]);
        } else if (id >= 256) {
            len = special[id - 256 - n_merges].len;
            if (!len) {
                fail(err, errlen, "special token %u is empty", id);
                free(start);
                return NULL;
            }
        }
        start[id + 1] = start[id] + len;
        if (start[id + 1] > (uint64_t)1 << 32) {
            fail(err, errlen, "the tokens hold more than 4 GiB");
            free(start);
            return NULL;
        }
    }
    char *bytes = xmalloc(start[n]);
    for (uint32_t id = 0; id < n; id++) {
        char *p = bytes + start[id];
        if (id < 256) {
            *p = (char)byte_of_id[id];
        } else if (id < 256 + n_merges) {
            const tok_pair *mg = &merges[id - 256];
            size_t l = start[mg->left + 1] - start[mg->left];
            memcpy(p, bytes + start[mg->left], l);
            memcpy(p + l, bytes + start[mg->right], start[mg->right + 1] - start[mg->right]);
        } else {
            memcpy(p, special[id - 256 - n_merges].s, start[id + 1] - start[id]);
        }
    }
    strmap seen_tokens = {0};
    for (uint32_t id = 0; id < n; id++) {
        bool added;
        uint32_t k = strmap_add(&seen_tokens, bytes + start[id], start[id + 1] - start[id], &added);
        if (!added) {
            fail(err, errlen, "tokens %u and %u have the same bytes", k, id);
            strmap_free(&seen_tokens);
            free(bytes);
            free(start);
            return NULL;
        }
    }
    strmap_free(&seen_tokens);
    pretok *pre = pretok_new(pattern, err, errlen);
    if (!pre) {
        free(bytes);
        free(start);
        return NULL;
    }

    bpe_t *m = xcalloc(1, sizeof *m);
    m->n_vocab = n;
    m->n_merges = n_merges;
    m->n_special = n_special;
    m->pattern = xstrdup(pattern);
    memcpy(m->byte_of_id, byte_of_id, 256);
    for (int i = 0; i < 256; i++)
        m->id_of_byte[byte_of_id[i]] = (uint32_t)i;
    m->merges = xmalloc((n_merges ? n_merges : 1) * sizeof *m->merges);
    if (n_merges)
        memcpy(m->merges, merges, n_merges * sizeof *merges);
    m->bytes = bytes;
    m->start = start;
    m->enc = xcalloc(1, sizeof *m->enc);
    m->enc->pre = pre;
    /* No pair repeats: it would make two tokens of the same bytes, refused above. */
    for (uint32_t i = 0; i < n_merges; i++) {
        bool added;
        *pairmap_put(&m->enc->rank, pair_key(merges[i].left, merges[i].right), &added) = i;
    }
    m->enc->special_at = xmalloc((n_special ? n_special : 1) * sizeof *m->enc->special_at);
    return m;
}

void tok_free(bpe_t *m)
{
    if (!m)
        return;
    tok_encoder *e = m->enc;
    pretok_free(e->pre);
    pairmap_free(&e->rank);
    strmap_free(&e->cache);
    u32vec_free(&e->cache_ids);
    free(e->cache_at);
    free(e->id);
    free(e->prev);
    free(e->next);
    free(e->heap);
    free(e->special_at);
    free(e);
    free(m->pattern);
    free(m->merges);
    free(m->bytes);
    free(m->start);
    free(m);
}

/* ---- encoding ---- */

static void heap_push(uint64_t *h, size_t *n, uint64_t x)
{
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > x) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static uint64_t heap_pop(uint64_t *h, size_t *n)
{
    uint64_t top = h[0], x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= x)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
    return top;
}

static void push_pair(tok_encoder *e, size_t *nheap, int32_t node)
{
    if (node < 0 || e->next[node] < 0)
        return;
    int32_t right = e->next[node];
    const uint32_t *r = pairmap_get(&e->rank, pair_key(e->id[node], e->id[right]));
    if (r)
        heap_push(e->heap, nheap, (uint64_t)*r << 32 | (uint32_t)node);
}

/* Merge the bytes of one chunk (n >= 2) into tokens, appended to out.  The heap holds
 * every adjacent pair that has a merge, so each step takes the lowest-rank pair and the
 * leftmost of equals, which is exactly GPT-2's merge-all-occurrences loop: a merge's new
 * pairs contain its new id and so rank after it.  Entries go stale as their nodes merge;
 * they are recognised on popping, because the two nodes no longer hold the merge's ids. */
static void merge_chunk(tok_encoder *e, const bpe_t *m, const unsigned char *s, size_t n,
                        u32vec *out)
{
    if (n > INT32_MAX)
        die(EX_DATAERR, "a chunk of %zu bytes is too long to encode", n);
    if (n > e->scratch_cap) {
        e->scratch_cap = n > 2 * e->scratch_cap ? n : 2 * e->scratch_cap;
        e->id = xrealloc(e->id, e->scratch_cap * sizeof *e->id);
        e->prev = xrealloc(e->prev, e->scratch_cap * sizeof *e->prev);
        e->next = xrealloc(e->next, e->scratch_cap * sizeof *e->next);
        e->heap = xrealloc(e->heap, 2 * e->scratch_cap * sizeof *e->heap);
    }
    for (size_t i = 0; i < n; i++) {
        e->id[i] = m->id_of_byte[s[i]];
        e->prev[i] = (int32_t)i - 1;
        e->next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    size_t nheap = 0;
    for (size_t i = 0; i + 1 < n; i++)
        push_pair(e, &nheap, (int32_t)i);
    while (nheap > 0) {
        uint64_t top = heap_pop(e->heap, &nheap);
        uint32_t rank = (uint32_t)(top >> 32);
        int32_t i = (int32_t)(uint32_t)top, j = e->next[i];
        if (j < 0 || e->id[i] != m->merges[rank].left || e->id[j] != m->merges[rank].right)
            continue;
        e->id[i] = 256 + rank;
        e->id[j] = DEAD;
        e->next[i] = e->next[j];
        if (e->next[j] >= 0)
            e->prev[e->next[j]] = i;
        push_pair(e, &nheap, e->prev[i]);
        push_pair(e, &nheap, i);
    }
    for (int32_t i = 0; i >= 0; i = e->next[i])
        u32vec_push(out, e->id[i]);
}

static void encode_chunk(void *ctx, const char *chunk, size_t len)
{
    tok_encoder *e = ctx;
    const bpe_t *m = e->m;
    if (len == 1) {
        u32vec_push(e->out, m->id_of_byte[(unsigned char)*chunk]);
        return;
    }
    if (len > CACHE_MAX_LEN) {
        merge_chunk(e, m, (const unsigned char *)chunk, len, e->out);
        return;
    }
    uint32_t k = strmap_find(&e->cache, chunk, len);
    if (k == STRMAP_NONE) {
        if (e->cache.n >= CACHE_MAX_CHUNKS || e->cache_ids.n >= CACHE_MAX_IDS) {
            strmap_clear(&e->cache);
            e->cache_ids.n = 0;
        }
        k = strmap_add(&e->cache, chunk, len, NULL);
        if (k + 2 > e->cache_at_cap) {
            e->cache_at_cap = 2 * (k + 2);
            e->cache_at = xrealloc(e->cache_at, e->cache_at_cap * sizeof *e->cache_at);
        }
        e->cache_at[k] = (uint32_t)e->cache_ids.n;
        merge_chunk(e, m, (const unsigned char *)chunk, len, &e->cache_ids);
        e->cache_at[k + 1] = (uint32_t)e->cache_ids.n;
    }
    uint32_t a = e->cache_at[k], b = e->cache_at[k + 1];
    u32vec_reserve(e->out, e->out->n + (b - a));
    memcpy(e->out->v + e->out->n, e->cache_ids.v + a, (b - a) * sizeof(uint32_t));
    e->out->n += b - a;
}

/* Where special token j next occurs at or after pos (SIZE_MAX if it does not). */
static size_t find_special(const bpe_t *m, uint32_t j, const char *text, size_t len, size_t pos)
{
    size_t slen;
    const char *s = tok_bytes(m, tok_first_special(m) + j, &slen);
    const char *at = memmem(text + pos, len - pos, s, slen);
    return at ? (size_t)(at - text) : SIZE_MAX;
}

void tok_encode(bpe_t *m, const char *text, size_t len, bool allow_special, u32vec *out)
{
    tok_encoder *e = m->enc;
    e->m = m;
    e->out = out;
    if (!allow_special || !m->n_special) {
        pretok_split(e->pre, text, len, encode_chunk, e);
        return;
    }
    /* Cut the text at special tokens (the leftmost, the longest of those starting
     * there), and encode what lies between as usual. */
    size_t *at = e->special_at;
    for (uint32_t j = 0; j < m->n_special; j++)
        at[j] = find_special(m, j, text, len, 0);
    for (size_t pos = 0;;) {
        uint32_t best = UINT32_MAX;
        size_t best_len = 0;
        for (uint32_t j = 0; j < m->n_special; j++) {
            if (at[j] < pos)
                at[j] = find_special(m, j, text, len, pos);
            size_t slen;
            tok_bytes(m, tok_first_special(m) + j, &slen);
            if (at[j] != SIZE_MAX &&
                (best == UINT32_MAX || at[j] < at[best] || (at[j] == at[best] && slen > best_len))) {
                best = j;
                best_len = slen;
            }
        }
        if (best == UINT32_MAX) {
            pretok_split(e->pre, text + pos, len - pos, encode_chunk, e);
            return;
        }
        pretok_split(e->pre, text + pos, at[best] - pos, encode_chunk, e);
        u32vec_push(out, tok_first_special(m) + best);
        pos = at[best] + best_len;
    }
}

void tok_decode(const bpe_t *m, const uint32_t *ids, size_t n, char **buf, size_t *len,
                size_t *cap)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= m->n_vocab)
            die(EX_DATAERR, "token id %u is outside the vocabulary (%u tokens)", ids[i], m->n_vocab);
        size_t tlen;
        const char *t = tok_bytes(m, ids[i], &tlen);
        if (*len + tlen > *cap) {
            *cap = *cap ? 2 * *cap : 256;
            while (*len + tlen > *cap)
                *cap *= 2;
            *buf = xrealloc(*buf, *cap);
        }
        memcpy(*buf + *len, t, tlen);
        *len += tlen;
    }
}
