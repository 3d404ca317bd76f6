/* model: the language models runnel trains and runs, behind one interface.
 *
 * Two families share it: "gpt", exactly GPT-2, and "hawk", the recurrent model of the
 * Griffin paper (RG-LRU blocks).  Training, scoring, sampling, LoRA, quantization and
 * DPO are written once against this interface, never against a family.
 *
 * Dimension letters as in llm.c: B batch, T time, C width, V vocabulary, L layers,
 * NH heads.  Token ids are uint32; a target equal to MODEL_IGNORE adds no loss.
 *
 * Training:   model_plan(m, B, T, true); model_forward(m, tokens, targets, logp);
 *             fill dlogp = dL/dlogp; param_zero_grads(); model_backward(m, dlogp);
 *             the gradients are in model_params(m)->g.
 * Inference:  s = model_state_new(m); logits = model_step(m, s, token) per token. */
#ifndef RUNNEL_MODEL_MODEL_H
#define RUNNEL_MODEL_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "nn/embed.h"
#include "nn/linear.h"
#include "nn/params.h"

#define MODEL_IGNORE EMBED_IGNORE

typedef struct {
    char arch[16]; /* "gpt" or "hawk" */
    int vocab;     /* V */
    int layers;    /* L */
    int width;     /* C */
    int heads;     /* NH: attention heads (gpt only) */
    int context;   /* longest sequence: gpt's learned positions; hawk's training window */
    int mlp;       /* hidden width of the MLP: gpt 4C; hawk 3C (Griffin's expansion 3) */
    int lru;       /* hawk: width of the recurrent branch (default C) */
    int conv;      /* hawk: width of the causal depthwise convolution (4) */
} model_config;

/* Fill cfg for a named configuration: "S", "M" (the benchmark configs of runnel's bench),
 * "gpt2" (124M), "gpt2-medium", "gpt2-large", "gpt2-xl", "distilgpt2"; arch picks the
 * family ("gpt" or "hawk") and derived sizes.  False for an unknown name. */
bool model_config_named(model_config *cfg, const char *arch, const char *name);
/* Fill derived sizes left at 0 (mlp, lru, conv).  Returns NULL if cfg is usable, else a
 * message naming what is wrong. */
const char *model_config_finish(model_config *cfg);

typedef struct model model;
typedef struct model_state model_state;

/* Parameters of a configuration, counted without allocating them. */
size_t model_param_count(const model_config *cfg);

/* A model with its parameters declared and allocated (zero).  cfg must be finished. */
model *model_new(const model_config *cfg);
/* Initial weights of the family, from seed. */
void model_init(model *m, uint64_t seed);
void model_free(model *m);
const model_config *model_cfg(const model *m);
param_set *model_params(model *m);

/* Allocate activations for batches of B sequences of T tokens (T <= context), and the
 * gradient slabs when training.  Called again with other sizes, it re-plans. */
void model_plan(model *m, int B, int T, bool training);
/* Forward over tokens (B, T).  logp (B, T), when not NULL, receives the log-probability of
 * each target (0 for MODEL_IGNORE).  The logits stay available until the next call. */
void model_forward(model *m, const uint32_t *tokens, const uint32_t *targets, float *logp);
/* Logits (B, T, V) of the last model_forward. */
const float *model_logits(const model *m);
/* Backward from dlogp = dL/dlogp (B, T) after model_forward on the same batch (which it
 * consumes); accumulates into the gradients. */
void model_backward(model *m, const float *dlogp);

/* The longest sequence the model can read: its context for gpt (learned positions), 0
 * for hawk, whose recurrent state takes any length. */
int model_max_len(const model *m);

/* The model's dense layers, each named by its weight without ".weight" (for gpt
 * "h.0.attn.c_attn", "h.0.mlp.c_fc" ...), in declaration order: where LoRA adapters and
 * quantizers attach (linear.ext). */
typedef struct {
    char name[PARAM_NAME_MAX];
    linear *lin;
} model_linear;
int model_linears(model *m, const model_linear **out);

/* Incremental inference of one sequence: a KV cache (gpt) or a constant-size recurrent
 * state (hawk). */
model_state *model_state_new(model *m);
void model_state_reset(model_state *s);
int model_state_pos(const model_state *s); /* tokens fed so far */
/* Feed the next token; returns the logits (V) for the token after it, valid until the next
 * call.  gpt cannot go past its context (die with EX_DATAERR names the limit). */
const float *model_step(model *m, model_state *s, uint32_t token);
void model_state_free(model_state *s);

/* ---- for the family implementations (lib/model/gpt.c, hawk.c) ---- */

typedef struct {
    bool bounded; /* positions end at cfg.context (gpt), or not (hawk) */
    void (*declare)(model *m);                   /* param_add() every tensor, in order */
    void (*bind)(model *m);                      /* point layers into the allocated slabs */
    void (*init)(model *m, uint64_t seed);
    void (*plan)(model *m, int B, int T, bool training);
    void (*forward)(model *m, const uint32_t *tokens, const uint32_t *targets, float *logp);
    void (*backward)(model *m, const float *dlogp);
    const float *(*logits)(const model *m);
    model_state *(*state_new)(model *m);
    void (*state_reset)(model_state *s);
    const float *(*step)(model *m, model_state *s, uint32_t token);
    void (*state_free)(model_state *s);
    void (*free)(model *m);                      /* the family's own memory */
} model_ops;

struct model {
    model_config cfg;
    param_set params;
    const model_ops *ops;
    void *impl; /* the family's own state: layers, activations */
    int B, T;   /* the current plan */
    model_linear *linears;
    int n_linears, cap_linears;
};

/* Families call this from bind for every dense layer (again on a re-bind: a layer
 * already known keeps its place). */
void model_add_linear(model *m, linear *l, const char *name);

struct model_state {
    model *m;
    int pos;
};

extern const model_ops gpt_ops, hawk_ops;

#endif
