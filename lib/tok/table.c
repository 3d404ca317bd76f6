#include "tok/table.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/rng.h"

/* ---- pairmap ---- */

static size_t pair_slot(uint64_t key, size_t cap) { return mix64(key) & (cap - 1); }

uint32_t *pairmap_get(const pairmap *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    for (size_t i = pair_slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key)
            return &m->vals[i];
        if (m->keys[i] == PAIRMAP_EMPTY)
            return NULL;
    }
}

static void pairmap_grow(pairmap *m)
{
    pairmap old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->keys = xmalloc(m->cap * sizeof *m->keys);
    m->vals = xmalloc(m->cap * sizeof *m->vals);
    memset(m->keys, 0xff, m->cap * sizeof *m->keys);
    for (size_t j = 0; j < old.cap; j++) {
        if (old.keys[j] == PAIRMAP_EMPTY)
            continue;
        size_t i = pair_slot(old.keys[j], m->cap);
        while (m->keys[i] != PAIRMAP_EMPTY)
            i = (i + 1) & (m->cap - 1);
        m->keys[i] = old.keys[j];
        m->vals[i] = old.vals[j];
    }
    free(old.keys);
    free(old.vals);
}

uint32_t *pairmap_put(pairmap *m, uint64_t key, bool *added)
{
    if (key == PAIRMAP_EMPTY)
        die(EX_SOFTWARE, "pairmap: reserved key");
    if (2 * (m->n + 1) > m->cap)
        pairmap_grow(m);
    size_t i = pair_slot(key, m->cap);
    for (; m->keys[i] != PAIRMAP_EMPTY; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == key) {
            *added = false;
            return &m->vals[i];
        }
    m->keys[i] = key;
    m->vals[i] = 0;
    m->n++;
    *added = true;
    return &m->vals[i];
}

void pairmap_free(pairmap *m)
{
    free(m->keys);
    free(m->vals);
    *m = (pairmap){0};
}

/* ---- strmap ---- */

static uint32_t str_hash(const void *s, size_t len) { return (uint32_t)hash64(s, len, 0); }

uint32_t strmap_find(const strmap *m, const void *s, size_t len)
{
    if (!m->cap)
        return STRMAP_NONE;
    uint32_t h = str_hash(s, len);
    for (uint32_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        uint64_t e = m->slot[i];
        if (!e)
            return STRMAP_NONE;
        uint32_t k = (uint32_t)e - 1;
        if (e >> 32 == h && m->start[k + 1] - m->start[k] == len &&
            memcmp(m->bytes + m->start[k], s, len) == 0)
            return k;
    }
}

static void place(strmap *m, uint64_t e)
{
    uint32_t i = (uint32_t)(e >> 32) & (m->cap - 1);
    while (m->slot[i])
        i = (i + 1) & (m->cap - 1);
    m->slot[i] = e;
}

static void strmap_grow(strmap *m)
{
    uint64_t *old = m->slot;
    uint32_t oldcap = m->cap;
    m->cap = oldcap ? 2 * oldcap : 64;
    m->slot = xcalloc(m->cap, sizeof *m->slot);
    for (uint32_t i = 0; i < oldcap; i++)
        if (old[i])
            place(m, old[i]);
    free(old);
}

uint32_t strmap_add(strmap *m, const void *s, size_t len, bool *added)
{
    uint32_t k = strmap_find(m, s, len);
    if (added)
        *added = k == STRMAP_NONE;
    if (k != STRMAP_NONE)
        return k;
    if (m->n >= UINT32_MAX / 4)
        die(EX_SOFTWARE, "strmap: too many strings");
    if (m->n + 1 >= m->capkeys) {
        m->capkeys = m->capkeys ? m->capkeys * 2 : 64;
        m->start = xrealloc(m->start, (m->capkeys + 1) * sizeof *m->start);
    }
    if (!m->bytes || m->nbytes + len > m->capbytes) {
        m->capbytes = m->capbytes ? m->capbytes : 1024;
        while (m->nbytes + len > m->capbytes)
            m->capbytes *= 2;
        m->bytes = xrealloc(m->bytes, m->capbytes);
    }
    if (2 * (m->n + 1) > m->cap)
        strmap_grow(m);
    k = m->n++;
    m->start[0] = 0;
    if (len)
        memcpy(m->bytes + m->nbytes, s, len);
    m->nbytes += len;
    m->start[k + 1] = m->nbytes;
    place(m, (uint64_t)str_hash(s, len) << 32 | (k + 1));
    return k;
}

void strmap_clear(strmap *m)
{
    if (m->cap)
        memset(m->slot, 0, m->cap * sizeof *m->slot);
    m->n = 0;
    m->nbytes = 0;
}

void strmap_free(strmap *m)
{
    free(m->bytes);
    free(m->start);
    free(m->slot);
    *m = (strmap){0};
}
