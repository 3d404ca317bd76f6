#include "quant/nf4_linear.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/err.h"

/* The dequantized W, in the shared scratch: valid until the next NF4 layer's call. */
static const float *nf4_weight(linear_ext *ext, const linear *l)
{
    nf4_linear *e = (nf4_linear *)ext;
    nf4_scratch *s = e->scratch;
    if (s->cap < e->q.n) {
        free(s->w);
        s->w = xmalloc(e->q.n * sizeof *s->w);
        s->cap = e->q.n;
    }
    nf4_dequantize(s->w, &e->q);
    return s->w;
}

/* Hand the whole pages of [p, p + n) back to the system; they read as zero afterwards. */
static void release(float *p, size_t n)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p + page - 1) / page * page;
    uintptr_t hi = ((uintptr_t)(p + n)) / page * page;
    if (hi > lo && madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0)
        die(EX_OSERR, "nf4: cannot release a float base: madvise failed");
}

void nf4_linear_attach(nf4_linear *e, linear *l, nf4_scratch *scratch)
{
    if (l->ext || l->dw)
        die(EX_SOFTWARE, "nf4_linear_attach: the layer has an extension or learns W");
    memset(e, 0, sizeof *e);
    size_t n = (size_t)l->in * l->out;
    nf4_quantize(&e->q, l->w, n);
    release(l->w, n);
    e->lin = l;
    e->scratch = scratch;
    e->ext.weight = nf4_weight;
    l->ext = &e->ext;
}

void nf4_linear_detach(nf4_linear *e)
{
    if (e->lin->ext != &e->ext)
        die(EX_SOFTWARE, "nf4_linear_detach: the layer has another extension on top");
    nf4_dequantize(e->lin->w, &e->q);
    e->lin->ext = NULL;
    nf4_free(&e->q);
}

size_t nf4_linear_bytes(const nf4_linear *e) { return nf4_bytes(&e->q); }

void nf4_scratch_free(nf4_scratch *s)
{
    free(s->w);
    memset(s, 0, sizeof *s);
}
