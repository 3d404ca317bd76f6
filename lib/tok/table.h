/* table: the two hash tables the tokenizer is built on.
 *
 * pairmap maps a 64-bit key (a pair of token ids, left << 32 | right) to a 32-bit value.
 * strmap interns byte strings: each distinct string gets the next index 0, 1, 2 ...,
 * and callers keep whatever they attach to a string in arrays of their own, indexed by it.
 * Both use open addressing with linear probing and never remove single entries (a
 * strmap can be cleared as a whole).  Not for adversarial input: the hash is unseeded. */
#ifndef RUNNEL_TOK_TABLE_H
#define RUNNEL_TOK_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t *keys; /* (cap) PAIRMAP_EMPTY marks a free slot */
    uint32_t *vals; /* (cap) */
    size_t cap, n;  /* cap is a power of two, at least twice n */
} pairmap;

#define PAIRMAP_EMPTY UINT64_MAX

static inline uint64_t pair_key(uint32_t left, uint32_t right)
{
    return (uint64_t)left << 32 | right;
}

/* The value of key, or NULL. */
uint32_t *pairmap_get(const pairmap *m, uint64_t key);
/* The value slot of key, inserted (holding 0) if absent; *added tells which. */
uint32_t *pairmap_put(pairmap *m, uint64_t key, bool *added);
void pairmap_free(pairmap *m);

typedef struct {
    char *bytes;       /* every key back to back */
    size_t nbytes, capbytes;
    uint64_t *start;   /* (n + 1) key i is bytes[start[i] .. start[i + 1]) */
    uint64_t *slot;    /* (cap) hash << 32 | index + 1 of the key here; 0 if free.  The
                        * hash skips most key compares without touching the keys. */
    uint32_t n, cap, capkeys;
} strmap;

#define STRMAP_NONE UINT32_MAX

/* The index of the string, or STRMAP_NONE. */
uint32_t strmap_find(const strmap *m, const void *s, size_t len);
/* The index of the string, interned if new; *added tells which (may be NULL). */
uint32_t strmap_add(strmap *m, const void *s, size_t len, bool *added);
static inline const char *strmap_key(const strmap *m, uint32_t i, size_t *len)
{
    *len = (size_t)(m->start[i + 1] - m->start[i]);
    return m->bytes + m->start[i];
}
/* Forget every string, keeping the memory. */
void strmap_clear(strmap *m);
void strmap_free(strmap *m);

#endif
