/* Low-bit moments: chunks of whole rows, decoded, updated and encoded by one thread each. */
#include "optim/lowbit.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "base/threads.h"

enum { CHUNK = 1 << 14 }; /* elements per chunk, about: whole rows */

typedef struct {
    size_t off, count;  /* the tensor in the slab */
    size_t coff;        /* its first code, numbering the learning elements (even) */
    int rows, cols;
    unsigned flags;
    size_t soff[2];     /* its first scale in each moment's arrays */
} lb_tensor;

typedef struct {
    int tensor;
    size_t start, count; /* elements of the tensor: whole rows, start even */
} lb_chunk;

typedef struct {
    quant_spec q;       /* bits 0: the float slab f */
    float *f;
    uint8_t *codes;     /* 8-bit: a byte per element; 4-bit: two per byte */
    float *scales, *zeros; /* zeros only when asymmetric */
    float *lo, *hi;     /* (n_chunks) the range of new values, for tensor-wide scales */
} lb_moment;

struct adamw_lowbit {
    lb_tensor *tensors;
    int n_tensors;
    lb_chunk *chunks;
    int n_chunks;
    lb_moment mom[2];   /* m, v */
    int threads;
    size_t tmp_len;     /* floats per thread and moment: the longest chunk and 2 */
    float *tmp;         /* (threads, 2, tmp_len) */
    uint8_t *tcodes;    /* (threads, tmp_len) */
    size_t bytes;
};

/* A chunk of tensor t in moment mo: its scale index and the (rows, cols) of its codes. */
static size_t first_scale(const lb_moment *mo, const lb_tensor *t, int which, size_t start)
{
    switch (mo->q.gran) {
    case QUANT_PER_ROW: return t->soff[which] + start / (size_t)t->cols;
    case QUANT_PER_GROUP: return t->soff[which] + start / (size_t)mo->q.group;
    default: return t->soff[which];
    }
}

static size_t tensor_scales(const quant_spec *q, const lb_tensor *t)
{
    switch (q->gran) {
    case QUANT_PER_ROW: return (size_t)t->rows;
    case QUANT_PER_GROUP: return t->count / (size_t)q->group;
    default: return 1;
    }
}

static void *alloc_counted(adamw_lowbit *lb, size_t n)
{
    lb->bytes += n;
    return xcalloc(n ? n : 1, 1);
}

bool lowbit_init(adamw *o)
{
    const quant_spec *store[2] = {&o->h.m_store, &o->h.v_store};
    if (!store[0]->bits && !store[1]->bits)
        return false;
    const param_set *ps = o->ps;
    adamw_lowbit *lb = xcalloc(1, sizeof *lb);
    lb->tensors = xcalloc((size_t)ps->n + 1, sizeof *lb->tensors);
    size_t codes = 0, nscales[2] = {0, 0}, longest = 2;
    int cap = 0;
    for (int i = 0; i < ps->n; i++) {
        const param_info *p = &ps->info[i];
        if (p->flags & PARAM_FROZEN)
            continue;
        lb_tensor *t = &lb->tensors[lb->n_tensors];
        int cols = p->ndim >= 2 ? (int)p->shape[p->ndim - 1] : (int)p->count;
        *t = (lb_tensor){.off = p->offset, .count = p->count, .coff = codes,
                         .cols = cols ? cols : 1, .flags = p->flags};
        t->rows = (int)(p->count / (size_t)t->cols);
        codes += (p->count + 1) & ~(size_t)1;
        for (int k = 0; k < 2; k++) {
            t->soff[k] = nscales[k];
            nscales[k] += tensor_scales(store[k], t);
        }
        /* chunks of whole rows, an even number of elements apart */
        size_t rows = CHUNK / (size_t)t->cols ? CHUNK / (size_t)t->cols : 1;
        if (t->cols % 2 && rows % 2)
            rows++;
        size_t step = rows * (size_t)t->cols;
        for (size_t start = 0; start < t->count; start += step) {
            if (lb->n_chunks == cap) {
                cap = cap ? 2 * cap : 64;
                lb->chunks = xrealloc(lb->chunks, (size_t)cap * sizeof *lb->chunks);
            }
            size_t left = t->count - start, n = left < step ? left : step;
            lb->chunks[lb->n_chunks++] = (lb_chunk){lb->n_tensors, start, n};
            if (n + 2 > longest)
                longest = n + 2;
        }
        lb->n_tensors++;
    }
    lb->threads = omp_get_max_threads();
    lb->tmp_len = longest;
    lb->tmp = alloc_counted(lb, (size_t)lb->threads * 2 * longest * sizeof(float));
    lb->tcodes = alloc_counted(lb, (size_t)lb->threads * longest);
    float *slab[2] = {o->m, o->v};
    for (int k = 0; k < 2; k++) {
        lb_moment *mo = &lb->mom[k];
        mo->q = *store[k];
        if (!mo->q.bits) {
            mo->f = slab[k];
            continue;
        }
        mo->codes = alloc_counted(lb, mo->q.bits == 4 ? codes / 2 : codes);
        mo->scales = alloc_counted(lb, nscales[k] * sizeof(float));
        for (size_t s = 0; s < nscales[k]; s++)
            mo->scales[s] = QUANT_MIN_SCALE; /* zero codes decode to zero */
        if (mo->q.asymmetric)
            mo->zeros = alloc_counted(lb, nscales[k] * sizeof(float));
        if (mo->q.gran == QUANT_PER_TENSOR) {
            mo->lo = alloc_counted(lb, (size_t)lb->n_chunks * sizeof(float));
            mo->hi = alloc_counted(lb, (size_t)lb->n_chunks * sizeof(float));
        }
        /* the codes of zero: symmetric codes are biased by 2^(b-1) */
        if (!mo->q.asymmetric) {
            uint8_t zero = (uint8_t)(1 << (mo->q.bits - 1));
            memset(mo->codes, mo->q.bits == 4 ? zero | zero << 4 : zero,
                   mo->q.bits == 4 ? codes / 2 : codes);
        }
    }
    o->lowbit = lb;
    return true;
}

void lowbit_free(adamw_lowbit *lb)
{
    if (!lb)
        return;
    for (int k = 0; k < 2; k++) {
        lb_moment *mo = &lb->mom[k];
        if (!mo->q.bits)
            continue;
        free(mo->codes);
        free(mo->scales);
        free(mo->zeros);
        free(mo->lo);
        free(mo->hi);
    }
    free(lb->tensors);
    free(lb->chunks);
    free(lb->tmp);
    free(lb->tcodes);
    free(lb);
}

size_t lowbit_bytes(const adamw_lowbit *lb) { return lb->bytes; }

/* The (rows, cols) under which a chunk's codes are decoded and encoded: its rows, or one
 * row for a tensor-wide scale. */
static void chunk_shape(const lb_moment *mo, const lb_tensor *t, const lb_chunk *c, int *rows,
                        int *cols)
{
    bool whole = mo->q.gran == QUANT_PER_TENSOR;
    *rows = whole ? 1 : (int)(c->count / (size_t)t->cols);
    *cols = whole ? (int)c->count : t->cols;
}

/* The chunk's values of a low-bit moment, into x (c->count). */
static void decode_chunk(const adamw_lowbit *lb, const lb_moment *mo, int which,
                         const lb_chunk *c, float *x, uint8_t *codes)
{
    const lb_tensor *t = &lb->tensors[c->tensor];
    size_t at = t->coff + c->start;
    if (mo->q.bits == 4)
        quant_unpack4(codes, mo->codes + at / 2, c->count);
    else
        memcpy(codes, mo->codes + at, c->count);
    int rows, cols;
    chunk_shape(mo, t, c, &rows, &cols);
    size_t s = first_scale(mo, t, which, c->start);
    quant_decode(&mo->q, x, codes, mo->scales + s, mo->zeros ? mo->zeros + s : NULL, rows, cols);
}

/* Encode x (c->count, with 2 floats of room after it) as the chunk's codes; a tensor-wide
 * scale comes from the range [lo, hi] of the whole tensor, appended to x so that the
 * chunk's range is the tensor's. */
static void encode_chunk(adamw_lowbit *lb, lb_moment *mo, int which, const lb_chunk *c,
                         float *x, uint8_t *codes, float lo, float hi, uint64_t t_step)
{
    const lb_tensor *t = &lb->tensors[c->tensor];
    int rows, cols;
    chunk_shape(mo, t, c, &rows, &cols);
    size_t s = first_scale(mo, t, which, c->start);
    rng_t r;
    rng_seed(&r, mix64(t_step) ^ mix64(((uint64_t)(c - lb->chunks) << 1) | (uint64_t)which));
    if (mo->q.gran == QUANT_PER_TENSOR) {
        float scale, zero = 0;
        x[c->count] = lo;
        x[c->count + 1] = hi;
        quant_encode(&mo->q, codes, &scale, &zero, x, 1, cols + 2, &r);
        if (c->start == 0) { /* every chunk of the tensor finds the same scale */
            mo->scales[s] = scale;
            if (mo->zeros)
                mo->zeros[s] = zero;
        }
    } else {
        quant_encode(&mo->q, codes, mo->scales + s, mo->zeros ? mo->zeros + s : NULL, x, rows,
                     cols, &r);
    }
    size_t at = t->coff + c->start;
    if (mo->q.bits == 4)
        quant_pack4(mo->codes + at / 2, codes, c->count);
    else
        memcpy(mo->codes + at, codes, c->count);
}

/* The moments of chunk c as float arrays: the slab itself for a float moment, else
 * decoded into this thread's buffers. */
static void load_chunk(adamw_lowbit *lb, const lb_chunk *c, float *x[2], uint8_t *codes)
{
    const lb_tensor *t = &lb->tensors[c->tensor];
    float *tmp = lb->tmp + (size_t)omp_get_thread_num() * 2 * lb->tmp_len;
    for (int k = 0; k < 2; k++) {
        lb_moment *mo = &lb->mom[k];
        if (!mo->q.bits) {
            x[k] = mo->f + t->off + c->start;
        } else {
            x[k] = tmp + (size_t)k * lb->tmp_len;
            decode_chunk(lb, mo, k, c, x[k], codes);
        }
    }
}

void lowbit_step(adamw *o, const adamw_scalars *k)
{
    adamw_lowbit *lb = o->lowbit;
    float *w = o->ps->w, *g = o->ps->g;
    bool tensor_wide = false;
    for (int j = 0; j < 2; j++)
        tensor_wide |= lb->mom[j].q.bits && lb->mom[j].q.gran == QUANT_PER_TENSOR;
    /* First pass, for tensor-wide scales: the range of each chunk's new moments. */
    if (tensor_wide) {
#pragma omp parallel for schedule(static) num_threads(lb->threads) if (lb->n_chunks > 1)
        for (int ci = 0; ci < lb->n_chunks; ci++) {
            const lb_chunk *c = &lb->chunks[ci];
            const lb_tensor *t = &lb->tensors[c->tensor];
            uint8_t *codes = lb->tcodes + (size_t)omp_get_thread_num() * lb->tmp_len;
            float *x[2];
            load_chunk(lb, c, x, codes);
            float lo[2] = {0, 0}, hi[2] = {0, 0};
            for (size_t i = 0; i < c->count; i++) {
                float m = x[0][i], v = x[1][i], wi = 0;
                adamw_update(&wi, g[t->off + c->start + i], &m, &v, k, false, false);
                lo[0] = m < lo[0] ? m : lo[0];
                hi[0] = m > hi[0] ? m : hi[0];
                lo[1] = v < lo[1] ? v : lo[1];
                hi[1] = v > hi[1] ? v : hi[1];
            }
            for (int j = 0; j < 2; j++)
                if (lb->mom[j].lo) {
                    lb->mom[j].lo[ci] = lo[j];
                    lb->mom[j].hi[ci] = hi[j];
                }
        }
        /* each tensor's range (its chunks are consecutive), in every one of its chunks */
        for (int j = 0; j < 2; j++) {
            lb_moment *mo = &lb->mom[j];
            if (!mo->lo)
                continue;
            for (int first = 0, end; first < lb->n_chunks; first = end) {
                float lo = mo->lo[first], hi = mo->hi[first];
                for (end = first + 1; end < lb->n_chunks && lb->chunks[end].start; end++) {
                    lo = mo->lo[end] < lo ? mo->lo[end] : lo;
                    hi = mo->hi[end] > hi ? mo->hi[end] : hi;
                }
                for (int ci = first; ci < end; ci++) {
                    mo->lo[ci] = lo;
                    mo->hi[ci] = hi;
                }
            }
        }
    }
#pragma omp parallel for schedule(static) num_threads(lb->threads) if (lb->n_chunks > 1)
    for (int ci = 0; ci < lb->n_chunks; ci++) {
        const lb_chunk *c = &lb->chunks[ci];
        const lb_tensor *t = &lb->tensors[c->tensor];
        uint8_t *codes = lb->tcodes + (size_t)omp_get_thread_num() * lb->tmp_len;
        float *x[2];
        load_chunk(lb, c, x, codes);
        bool decays = t->flags & PARAM_DECAY;
        float *wc = w + t->off + c->start;
        const float *gc = g + t->off + c->start;
        for (size_t i = 0; i < c->count; i++)
            adamw_update(&wc[i], gc[i], &x[0][i], &x[1][i], k, decays, true);
        for (int j = 0; j < 2; j++) {
            lb_moment *mo = &lb->mom[j];
            if (mo->q.bits)
                encode_chunk(lb, mo, j, c, x[j], codes, mo->lo ? mo->lo[ci] : 0,
                             mo->hi ? mo->hi[ci] : 0, o->t);
        }
    }
}

void lowbit_get(const adamw *o, float *m, float *v)
{
    adamw_lowbit *lb = o->lowbit;
    float *out[2] = {m, v};
#pragma omp parallel for schedule(static) num_threads(lb->threads) if (lb->n_chunks > 1)
    for (int ci = 0; ci < lb->n_chunks; ci++) {
        const lb_chunk *c = &lb->chunks[ci];
        const lb_tensor *t = &lb->tensors[c->tensor];
        uint8_t *codes = lb->tcodes + (size_t)omp_get_thread_num() * lb->tmp_len;
        for (int k = 0; k < 2; k++) {
            const lb_moment *mo = &lb->mom[k];
            float *dst = out[k] + t->off + c->start;
            if (mo->q.bits)
                decode_chunk(lb, mo, k, c, dst, codes);
            else
                memcpy(dst, mo->f + t->off + c->start, c->count * sizeof *dst);
        }
    }
}

/* Whether every element of x (n) decodes from its codes under scale s and zero z. */
static bool decodes_to(const quant_spec *q, const float *x, const uint8_t *codes, size_t n,
                       float s, float z)
{
    float bias = q->asymmetric ? 0.0f : (float)(1 << (q->bits - 1));
    for (size_t i = 0; i < n; i++)
        if (s * ((float)codes[i] - bias - z) != x[i])
            return false;
    return true;
}

/* Encode the float values x (a tensor, slab layout) as moment mo of tensor t, rounding
 * to nearest.  Values that came from decoding codes get those codes back, and a scale under which they
 * decode to exactly the same floats: re-deriving a scale from decoded values can land an
 * ulp away, so the neighbours of the scale found are tried. */
static void set_tensor(adamw_lowbit *lb, lb_moment *mo, int which, const lb_tensor *t,
                       const float *x, uint8_t *codes)
{
    int rows = mo->q.gran == QUANT_PER_TENSOR ? 1 : t->rows;
    int cols = mo->q.gran == QUANT_PER_TENSOR ? (int)t->count : t->cols;
    size_t s0 = t->soff[which];
    float *scales = mo->scales + s0, *zeros = mo->zeros ? mo->zeros + s0 : NULL;
    quant_spec nearest = mo->q; /* values from codes are on the grid: no noise to add */
    nearest.stochastic = false;
    quant_encode(&nearest, codes, scales, zeros, x, rows, cols, NULL);
    size_t units = tensor_scales(&mo->q, t), len = t->count / units;
    for (size_t u = 0; u < units; u++) {
        const float *xu = x + u * len;
        const uint8_t *cu = codes + u * len;
        float z = zeros ? zeros[u] : 0.0f, s = scales[u], up = s, down = s;
        for (int step = 0; step < 8 && !decodes_to(&mo->q, xu, cu, len, scales[u], z); step++) {
            up = nextafterf(up, INFINITY);
            down = nextafterf(down, 0.0f);
            if (decodes_to(&mo->q, xu, cu, len, up, z))
                scales[u] = up;
            else if (decodes_to(&mo->q, xu, cu, len, down, z))
                scales[u] = down;
        }
    }
    if (mo->q.bits == 4)
        quant_pack4(mo->codes + t->coff / 2, codes, t->count);
    else
        memcpy(mo->codes + t->coff, codes, t->count);
}

void lowbit_set(adamw *o, const float *m, const float *v)
{
    adamw_lowbit *lb = o->lowbit;
    const float *in[2] = {m, v};
    size_t longest = 1;
    for (int i = 0; i < lb->n_tensors; i++)
        longest = lb->tensors[i].count > longest ? lb->tensors[i].count : longest;
    uint8_t *codes = xmalloc(longest);
    for (int k = 0; k < 2; k++) {
        lb_moment *mo = &lb->mom[k];
        for (int i = 0; i < lb->n_tensors; i++) {
            const lb_tensor *t = &lb->tensors[i];
            if (mo->q.bits)
                set_tensor(lb, mo, k, t, in[k] + t->off, codes);
            else
                memcpy(mo->f + t->off, in[k] + t->off, t->count * sizeof(float));
        }
    }
    free(codes);
}
