/* lora: low-rank adapters on a model's dense layers (LoRA, Hu et al., 2021).
 *
 * An adapted layer computes, in runnel's row layout (x (n, in), W (in, out)),
 *
 *     y = x W + b + s (x A) B,     A (in, r), B (r, out), s = alpha / r,
 *
 * the paper's h = W x + (alpha/r) B A x.  A starts Kaiming-uniform as peft draws it
 * (torch's kaiming_uniform_ with a = sqrt(5): U(-1/sqrt(in), 1/sqrt(in))), B at zero, so an
 * adapted model starts equal to its base.  The adapters live in a param_set of their own,
 * named after their layer ("h.0.attn.c_attn.lora_A", "h.0.attn.c_attn.lora_B"), so an
 * optimizer over that set sees only them (model/adapter.h picks a model's layers, freezes
 * its tensors and keeps adapters in files).
 *
 * In training without dropout the layer multiplies with W + s A B, formed at each call in
 * a scratch buffer (in out (r + 1) multiply-adds, less than a pass over a training batch):
 * y and dx then cost one product each, as for the base alone, and the adapter only adds
 * x A (kept for the backward), dA and dB.  This takes the weight hook.  Otherwise (with
 * dropout, outside training where batches may be one token, or under an inner extension
 * that changes the input or dy) the adapter's products run beside the layer's.
 *
 * Dropout p applies to the adapter's input only: x A becomes (x * mask / (1 - p)) A.  The
 * mask of each forward is drawn from the set's seed, the layer and the count of its
 * training forwards, and the backward draws it again instead of storing it.  Dropout is
 * off unless the set is training (lora_set_training()); the mode must not change between
 * a forward and its backward.
 *
 * An adapter wraps the extension its layer already has (an NF4 base, a fake quantizer):
 * that extension's weight, input and gradient hooks stay in force, and its after-forward
 * and after-backward hooks run before the adapter's.  QLoRA is nf4_linear_attach() on
 * the model's dense layers (the NF4 base's weight hook), then lora_attach() (the adapters'
 * after-hooks on top). */
#ifndef RUNNEL_NN_LORA_H
#define RUNNEL_NN_LORA_H

#include <stdbool.h>
#include <stdint.h>

#include "nn/linear.h"
#include "nn/params.h"

/* Which dense layers get adapters: attention (gpt's attn.*, hawk's recurrent block rec.*,
 * its temporal mixing), the MLP (mlp.*), or both. */
enum { LORA_ATTN = 1, LORA_MLP = 2, LORA_ALL = LORA_ATTN | LORA_MLP };

typedef struct {
    int rank;        /* r >= 1, at most min(in, out) of every adapted layer */
    double alpha;    /* the scale is alpha / r */
    double dropout;  /* on the adapter input, in [0, 1) */
    unsigned targets; /* LORA_ATTN, LORA_MLP or LORA_ALL */
} lora_config;

/* "attn" (or "attention"), "mlp", "all"; 0 for anything else. */
unsigned lora_targets_parse(const char *s);
/* The name lora_targets_parse() takes for targets. */
const char *lora_targets_name(unsigned targets);
/* Whether targets cover the dense layer called name ("h.0.attn.c_attn", "h.3.mlp.fc1"). */
bool lora_targets_match(unsigned targets, const char *name);

typedef struct lora_set lora_set;

typedef struct {
    linear_ext ext;     /* first: the layer's ext points here */
    linear_ext *inner;  /* the extension the adapter wraps, or NULL */
    lora_set *set;
    linear *lin;
    const char *name;   /* the layer's (model_linears) */
    int a, b;           /* indices of lora_A and lora_B in set->params */
    int id;             /* the layer's place among the adapted ones */
    uint64_t forwards;  /* training forwards so far: the dropout mask's counter */
    bool merged;        /* the last forward multiplied with W + s A B */
    bool masked;        /* the last forward dropped inputs out ... */
    uint64_t mask;      /* ... with the mask of this seed */
    float *xa;          /* (cap) x A of the last forward (n, r), kept for the backward */
    long cap;
} lora_layer;

struct lora_set {
    lora_config cfg;
    float scale;        /* alpha / r */
    param_set params;   /* lora_A, lora_B of each adapted layer, in the model's order */
    lora_layer *layers; /* (n) */
    int n;
    bool attached;
    bool training;      /* dropout on */
    uint64_t seed;      /* of the dropout masks */
    float *xd, *tmp;    /* (n, in) scratch: the dropped-out input, du Aᵀ */
    float *du;          /* (n, r) scratch */
    float *w;           /* (in, out) scratch: W + s A B of one layer */
    long xd_cap, tmp_cap, du_cap, w_cap;
};

/* Exit 64 naming the layer unless cfg's rank fits l: from 1 to the smaller of in and out. */
void lora_check(const lora_config *cfg, const linear *l, const char *name);
/* Adapters for the n layers lins, called names (the strings must outlive the set), with
 * A and B allocated at zero; each layer is checked first (lora_check). */
lora_set *lora_new(const lora_config *cfg, int n, linear *const *lins,
                   const char *const *names);
/* A Kaiming-uniform, B zero, from seed; the dropout masks also follow seed. */
void lora_init(lora_set *s, uint64_t seed);
/* The dropout masks from seed (for adapters read from a file). */
void lora_seed_dropout(lora_set *s, uint64_t seed);
/* Put the adapters on their layers (wrapping the layers' extensions). */
void lora_attach(lora_set *s);
/* Take them off again, restoring each layer's former extension. */
void lora_detach(lora_set *s);
void lora_set_training(lora_set *s, bool on);
/* W += s A B for every adapted layer, whose W must hold float weights (an NF4 base is
 * restored first with nf4_linear_detach()); detaches the adapters.  The merged model
 * computes what the adapted one did, without dropout. */
void lora_merge(lora_set *s);
/* Detach and free. */
void lora_free(lora_set *s);

#endif
