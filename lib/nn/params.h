/* params: a model's named tensors, laid out in one slab.
 *
 * A model declares its tensors once, in a fixed order, with param_add(); param_alloc()
 * then places them in one 64-byte-aligned allocation of weights (and, for training, one
 * of gradients with the same layout), so zeroing gradients is one memset and optimizer
 * state is one more slab shaped like the weights.  Names are the ones checkpoints use
 * (for gpt, Hugging Face's GPT-2 state-dict names such as "h.0.attn.c_attn.weight"). */
#ifndef RUNNEL_NN_PARAMS_H
#define RUNNEL_NN_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    PARAM_DECAY = 1,  /* AdamW applies weight decay (matrices; not norms, biases, embeddings) */
    PARAM_FROZEN = 2, /* excluded from the optimizer (e.g. a LoRA base) */
    PARAM_MAX_DIMS = 4,
    PARAM_NAME_MAX = 96,
};

typedef struct {
    char name[PARAM_NAME_MAX];
    int ndim;
    int64_t shape[PARAM_MAX_DIMS];
    size_t offset; /* in floats, from the start of the slab */
    size_t count;  /* elements */
    unsigned flags;
} param_info;

typedef struct {
    param_info *info;
    int n, cap;
    size_t total; /* floats in the slab, alignment padding included */
    float *w;     /* weights */
    float *g;     /* gradients, same layout; NULL until param_alloc_grads() */
} param_set;

/* Declare a tensor; returns its index.  Shapes are outermost first. */
int param_add(param_set *ps, const char *name, unsigned flags, int ndim, const int64_t *shape);
/* Allocate the weight slab (zeroed).  Tensors can no longer be added. */
void param_alloc(param_set *ps);
void param_alloc_grads(param_set *ps);
/* Zero the gradients of the tensors that learn (a frozen tensor's are never written). */
void param_zero_grads(param_set *ps);
void param_free(param_set *ps);

static inline float *param_w(const param_set *ps, int i) { return ps->w + ps->info[i].offset; }
static inline float *param_g(const param_set *ps, int i)
{
    return ps->g ? ps->g + ps->info[i].offset : NULL;
}
/* The gradient a layer accumulates into: NULL when there is no gradient slab or the
 * tensor is PARAM_FROZEN, and then no layer computes it (a frozen base costs LoRA no dW
 * product).  Flags are read when a model binds its layers, at model_plan(). */
static inline float *param_learn_g(const param_set *ps, int i)
{
    return ps->info[i].flags & PARAM_FROZEN ? NULL : param_g(ps, i);
}
/* Index of a tensor by name, or -1. */
int param_find(const param_set *ps, const char *name);
/* Number of parameters (elements, padding excluded). */
size_t param_count(const param_set *ps);

#endif
