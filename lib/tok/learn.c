/* Learning merges: count the distinct chunks of the training text (the "words") once,
 * then run the standard incremental BPE over them.  Each pair of adjacent tokens has a
 * count (the sum of the frequencies of the words it occurs in, once per occurrence) and
 * a list of the words that may hold it.  A merge visits only the words on its pair's
 * list and adjusts the counts of the pairs around each occurrence, and a max-heap with
 * lazy deletion finds the next most frequent pair: an entry whose count is out of date
 * is put back with the current count when it surfaces.  Counts of existing pairs only
 * fall (only pairs with the new token are new), so a surfacing entry is never too low. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "tok/bpe.h"
#include "tok/pretok.h"
#include "tok/table.h"

struct tok_learner {
    char *pattern;
    pretok *pre;
    strmap tokens;    /* every token's bytes: the 256 bytes, the specials, then merges */
    uint32_t n_special;
    strmap words;     /* distinct chunks */
    uint64_t *freq;   /* (words.n) occurrences of each */
    size_t freq_cap;
    uint64_t bytes;   /* of text added */
};

static void learner_free(tok_learner *l)
{
    pretok_free(l->pre);
    strmap_free(&l->tokens);
    strmap_free(&l->words);
    free(l->freq);
    free(l->pattern);
    free(l);
}

/* Intern the specials after the bytes; false with a message if one cannot be a token. */
static bool add_specials(tok_learner *l, const tok_str *special, uint32_t n_special,
                         char *err, size_t errlen)
{
    for (uint32_t j = 0; j < n_special; j++) {
        bool added;
        if (!special[j].len) {
            snprintf(err, errlen, "a special token cannot be empty");
            return false;
        }
        strmap_add(&l->tokens, special[j].s, special[j].len, &added);
        if (!added) {
            snprintf(err, errlen, "special token '%.*s' is %s", (int)special[j].len,
                     special[j].s, special[j].len == 1 ? "a single byte, a token already"
                                                       : "given twice");
            return false;
        }
    }
    l->n_special = n_special;
    return true;
}

tok_learner *tok_learner_new(const char *pattern, const tok_str *special, uint32_t n_special,
                             char *err, size_t errlen)
{
    tok_learner *l = xcalloc(1, sizeof *l);
    l->pattern = xstrdup(pattern);
    for (int b = 0; b < 256; b++)
        strmap_add(&l->tokens, &(char){(char)b}, 1, NULL);
    if (!add_specials(l, special, n_special, err, errlen) ||
        !(l->pre = pretok_new(pattern, err, errlen))) {
        learner_free(l);
        return NULL;
    }
    return l;
}

static void count_chunk(void *ctx, const char *chunk, size_t len)
{
    tok_learner *l = ctx;
    bool added;
    uint32_t k = strmap_add(&l->words, chunk, len, &added);
    if (added) {
        if (k >= l->freq_cap) {
            l->freq_cap = l->freq_cap ? 2 * l->freq_cap : 1024;
            l->freq = xrealloc(l->freq, l->freq_cap * sizeof *l->freq);
        }
        l->freq[k] = 0;
    }
    l->freq[k]++;
}

void tok_learner_add(tok_learner *l, const char *text, size_t len)
{
    pretok_split(l->pre, text, len, count_chunk, l);
    l->bytes += len;
}

uint64_t tok_learner_bytes(const tok_learner *l) { return l->bytes; }

/* ---- the state of learning ---- */

typedef struct {
    uint64_t key;    /* pair_key(left, right) */
    int64_t count;   /* weighted occurrences */
    uint32_t *words; /* words that held the pair when an occurrence was added; may be stale */
    uint32_t nwords, capwords;
    uint32_t touched; /* merge step that last added occurrences, to push it once */
} pair_stat;

typedef struct {
    int64_t count;
    uint64_t key;
} heap_entry;

typedef struct {
    uint32_t *sym;      /* every word's tokens; word w is sym[at[w] .. at[w] + len[w]) */
    size_t *at;
    uint32_t *len;
    const uint64_t *freq;
    uint32_t *visited;  /* (words) merge step that last rewrote the word */
    pairmap index;      /* pair key -> index into pairs */
    pair_stat *pairs;
    size_t npairs, cappairs;
    heap_entry *heap;
    size_t nheap, capheap;
    uint32_t *touched;  /* pairs that gained occurrences in this step */
    size_t ntouched, captouched;
    uint32_t step;
} learning;

/* Higher count first; among equal counts, the smaller (left, right). */
static bool heap_before(heap_entry a, heap_entry b)
{
    return a.count > b.count || (a.count == b.count && a.key < b.key);
}

static void heap_push(learning *s, int64_t count, uint64_t key)
{
    if (s->nheap == s->capheap) {
        s->capheap = s->capheap ? 2 * s->capheap : 1024;
        s->heap = xrealloc(s->heap, s->capheap * sizeof *s->heap);
    }
    heap_entry x = {count, key};
    size_t i = s->nheap++;
    while (i > 0 && heap_before(x, s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = x;
}

static heap_entry heap_pop(learning *s)
{
    heap_entry top = s->heap[0], x = s->heap[--s->nheap];
    size_t i = 0, n = s->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_before(s->heap[c + 1], s->heap[c]))
            c++;
        if (!heap_before(s->heap[c], x))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    s->heap[i] = x;
    return top;
}

/* Add delta occurrences of (left, right), found in word w. */
static void add_pair(learning *s, uint32_t left, uint32_t right, int64_t delta, uint32_t w)
{
    bool added;
    uint32_t *slot = pairmap_put(&s->index, pair_key(left, right), &added);
    if (added) {
        if (s->npairs == s->cappairs) {
            s->cappairs = s->cappairs ? 2 * s->cappairs : 4096;
            s->pairs = xrealloc(s->pairs, s->cappairs * sizeof *s->pairs);
        }
        *slot = (uint32_t)s->npairs;
        s->pairs[s->npairs++] = (pair_stat){.key = pair_key(left, right)};
    }
    pair_stat *p = &s->pairs[*slot];
    p->count += delta;
    if (delta <= 0)
        return;
    if (!p->nwords || p->words[p->nwords - 1] != w) {
        if (p->nwords == p->capwords) {
            p->capwords = p->capwords ? 2 * p->capwords : 4;
            p->words = xrealloc(p->words, p->capwords * sizeof *p->words);
        }
        p->words[p->nwords++] = w;
    }
    if (p->touched != s->step) {
        p->touched = s->step;
        if (s->ntouched == s->captouched) {
            s->captouched = s->captouched ? 2 * s->captouched : 1024;
            s->touched = xrealloc(s->touched, s->captouched * sizeof *s->touched);
        }
        s->touched[s->ntouched++] = *slot;
    }
}

/* Replace each occurrence of (a, b) in word w, left to right, by z, and move the counts
 * of the pairs on either side from the old neighbours to z. */
static void merge_word(learning *s, uint32_t w, uint32_t a, uint32_t b, uint32_t z)
{
    uint32_t *t = s->sym + s->at[w], n = s->len[w], out = 0;
    int64_t f = (int64_t)s->freq[w];
    for (uint32_t i = 0; i < n;) {
        if (i + 1 < n && t[i] == a && t[i + 1] == b) {
            if (out > 0) {
                add_pair(s, t[out - 1], a, -f, w);
                add_pair(s, t[out - 1], z, f, w);
            }
            if (i + 2 < n) {
                add_pair(s, b, t[i + 2], -f, w);
                add_pair(s, z, t[i + 2], f, w);
            }
            t[out++] = z;
            i += 2;
        } else {
            t[out++] = t[i++];
        }
    }
    s->len[w] = out;
}

/* The bytes of a token during learning: tokens interns the 256 bytes, then the
 * specials, then each merge's result, so merge id 256+m is entry 256+n_special+m. */
static const char *token_bytes(const strmap *tokens, uint32_t id, uint32_t n_special, size_t *len)
{
    return strmap_key(tokens, id < 256 ? id : id + n_special, len);
}

static void free_learning(learning *s)
{
    for (size_t p = 0; p < s->npairs; p++)
        free(s->pairs[p].words);
    free(s->pairs);
    pairmap_free(&s->index);
    free(s->heap);
    free(s->touched);
    free(s->sym);
    free(s->at);
    free(s->len);
    free(s->visited);
}

bpe_t *tok_learn(tok_learner *l, uint32_t n_vocab, uint64_t min_freq)
{
    uint32_t n_special = l->n_special;
    if ((uint64_t)n_vocab < 256ULL + n_special) {
        learner_free(l);
        die(EX_USAGE, "a vocabulary of %u cannot hold 256 bytes and %u special tokens",
            n_vocab, n_special);
    }
    strmap *tokens = &l->tokens; /* a merge that would repeat a token is not made */

    learning s = {0};
    uint32_t nwords = l->words.n;
    s.at = xmalloc((nwords ? nwords : 1) * sizeof *s.at);
    s.len = xmalloc((nwords ? nwords : 1) * sizeof *s.len);
    s.visited = xcalloc(nwords ? nwords : 1, sizeof *s.visited);
    s.sym = xmalloc((l->words.nbytes ? l->words.nbytes : 1) * sizeof *s.sym);
    s.freq = l->freq;
    for (uint32_t w = 0; w < nwords; w++) {
        size_t len;
        const unsigned char *c = (const unsigned char *)strmap_key(&l->words, w, &len);
        s.at[w] = l->words.start[w];
        s.len[w] = (uint32_t)len;
        for (size_t i = 0; i < len; i++)
            s.sym[s.at[w] + i] = c[i];
        for (size_t i = 0; i + 1 < len; i++)
            add_pair(&s, c[i], c[i + 1], (int64_t)s.freq[w], w);
    }
    for (size_t p = 0; p < s.npairs; p++)
        heap_push(&s, s.pairs[p].count, s.pairs[p].key);

    uint32_t want = n_vocab - 256 - n_special, n_merges = 0;
    tok_pair *merges = xmalloc((want ? want : 1) * sizeof *merges);
    char *joined = NULL;
    size_t joined_cap = 0;
    while (n_merges < want && s.nheap > 0) {
        heap_entry top = heap_pop(&s);
        pair_stat *p = &s.pairs[*pairmap_get(&s.index, top.key)];
        if (p->count != top.count) {
            if (p->count > 0)
                heap_push(&s, p->count, top.key);
            continue;
        }
        if (top.count < (int64_t)min_freq)
            break;
        uint32_t a = (uint32_t)(top.key >> 32), b = (uint32_t)top.key, z = 256 + n_merges;
        size_t la, lb;
        const char *ta = token_bytes(tokens, a, n_special, &la);
        const char *tb = token_bytes(tokens, b, n_special, &lb);
        if (la + lb > joined_cap) {
            joined_cap = 2 * (la + lb);
            joined = xrealloc(joined, joined_cap);
        }
        memcpy(joined, ta, la);
        memcpy(joined + la, tb, lb);
        bool added;
        strmap_add(tokens, joined, la + lb, &added);
        p->count = 0; /* merged now, or never: either way it never surfaces again */
        if (!added)
            continue;
        merges[n_merges++] = (tok_pair){a, b};
        s.step = n_merges;
        s.ntouched = 0;
        /* add_pair() may grow the pair table: hold the list, not p */
        uint32_t *words = p->words, nw = p->nwords;
        p->words = NULL;
        p->nwords = p->capwords = 0;
        for (uint32_t k = 0; k < nw; k++) {
            uint32_t w = words[k];
            if (s.visited[w] == s.step)
                continue;
            s.visited[w] = s.step;
            merge_word(&s, w, a, b, z);
        }
        free(words);
        s.pairs[*pairmap_get(&s.index, top.key)].count = 0;
        for (size_t k = 0; k < s.ntouched; k++) {
            pair_stat *q = &s.pairs[s.touched[k]];
            if (q->count > 0)
                heap_push(&s, q->count, q->key);
        }
    }
    free(joined);
    free_learning(&s);

    uint8_t identity[256];
    for (int i = 0; i < 256; i++)
        identity[i] = (uint8_t)i;
    tok_str *special = xmalloc((n_special ? n_special : 1) * sizeof *special);
    for (uint32_t j = 0; j < n_special; j++)
        special[j].s = strmap_key(tokens, 256 + j, &special[j].len);
    char err[256];
    bpe_t *m = tok_new(identity, merges, n_merges, special, n_special, l->pattern, err, sizeof err);
    if (!m)
        die(EX_SOFTWARE, "learned an inconsistent model: %s", err);
    free(special);
    free(merges);
    learner_free(l);
    return m;
}
