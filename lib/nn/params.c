#include "nn/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

enum { ALIGN_FLOATS = 16 }; /* 64 bytes: every tensor starts on a cache line */

int param_add(param_set *ps, const char *name, unsigned flags, int ndim, const int64_t *shape)
{
    if (ps->w)
        die(EX_SOFTWARE, "param_add(%s): the slab is already allocated", name);
    if (ndim < 1 || ndim > PARAM_MAX_DIMS || strlen(name) >= PARAM_NAME_MAX)
        die(EX_SOFTWARE, "param_add(%s): bad name or rank", name);
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 64;
        ps->info = xrealloc(ps->info, (size_t)ps->cap * sizeof *ps->info);
    }
    param_info *p = &ps->info[ps->n];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->count = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->count *= (size_t)shape[i];
    }
    p->flags = flags;
    p->offset = ps->total;
    ps->total += (p->count + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    return ps->n++;
}

static float *slab(size_t floats)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, (floats ? floats : 1) * sizeof(float)) != 0)
        die(EX_OSERR, "out of memory (%zu parameters)", floats);
    memset(p, 0, floats * sizeof(float));
    return p;
}

void param_alloc(param_set *ps) { ps->w = slab(ps->total); }

void param_alloc_grads(param_set *ps)
{
    if (!ps->g)
        ps->g = slab(ps->total);
}

void param_zero_grads(param_set *ps)
{
    if (!ps->g)
        return;
    for (int i = 0; i < ps->n; i++)
        if (!(ps->info[i].flags & PARAM_FROZEN))
            memset(param_g(ps, i), 0, ps->info[i].count * sizeof(float));
}

void param_free(param_set *ps)
{
    free(ps->info);
    free(ps->w);
    free(ps->g);
    memset(ps, 0, sizeof *ps);
}

int param_find(const param_set *ps, const char *name)
{
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->info[i].name, name) == 0)
            return i;
    return -1;
}

size_t param_count(const param_set *ps)
{
    size_t n = 0;
    for (int i = 0; i < ps->n; i++)
        n += ps->info[i].count;
    return n;
}
