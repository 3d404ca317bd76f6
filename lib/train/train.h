/* train: the one training loop that train, train-quant, lora-tune and dpo share.
 *
 * They differ in the loss and in which parameters learn, not in the loop.  The loss is a
 * train_loss: from the log-probabilities the model gives each target, it returns the loss
 * of a micro-batch and fills dL/dlogp.  Which parameters learn is the PARAM_FROZEN flag
 * of each tensor, set before trainer_init().  One step is:
 *
 *     zero the gradients
 *     K times (gradient accumulation): the next B windows of the data; model_forward;
 *         the loss and dL/dlogp; model_backward with dL/dlogp / K
 *     clip the global gradient norm; lr from the warmup + cosine schedule; AdamW
 *     report; every N steps evaluate on the validation windows and write a checkpoint
 *
 * The micro-batches are windows of one token stream (train/data.h), or come from a
 * batch_source (train/batch.h: examples such as SFT's prompts and responses, DPO's pairs);
 * the optimizer updates the model's tensors, or another param_set (LoRA's adapters, with
 * the model frozen: trainer_learn()).
 *
 * Metric records go to a record stream: {"event":"config", ...} once, then "step",
 * "eval" and finally "done" records (train(1) lists their keys).  A non-finite loss or
 * gradient norm stops the run with exit 65, naming the step, before anything is updated
 * or saved, so the last checkpoint stays the last good one.
 *
 * A checkpoint holds, besides the model, the moments, the hyperparameters, the step and
 * the data position (state/train.mp); a run resumed from it takes exactly the steps the
 * uninterrupted run would have taken: the same seed, data and thread count give
 * bit-identical weights either way. */
#ifndef RUNNEL_TRAIN_TRAIN_H
#define RUNNEL_TRAIN_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/ckpt.h"
#include "model/model.h"
#include "optim/adamw.h"
#include "rec/rec.h"
#include "train/batch.h"
#include "train/data.h"

enum { TRAIN_RECIPE_MAX = 256, TRAIN_MAX_STATS = 8 };

typedef struct {
    int batch, seq_len, accum; /* B, T, K */
    uint64_t steps, warmup;
    double lr, min_lr, clip;   /* clip 0: none */
    adamw_hparams adam;
    uint64_t seed;             /* of the initial weights */
    uint32_t eot;              /* end-of-text id between documents, or TOKENS_NO_EOT */
    uint64_t log_every;        /* a "step" record every this many steps */
    uint64_t eval_every;       /* 0: only at the end */
    uint64_t eval_windows;     /* validation windows of T + 1 tokens; 0: the whole stream */
    uint64_t checkpoint_every; /* 0: only at the end */
    char recipe[TRAIN_RECIPE_MAX]; /* the quantization recipe (quant/recipe.h), "" for none */
} train_hparams;

/* The loss of a micro-batch of B sequences of T targets, from logp (B, T), the model's
 * log-probability of each target; fills dlogp (B, T) with dL/dlogp. */
typedef struct {
    const char *name;
    double (*fn)(void *ctx, const uint32_t *tokens, const uint32_t *targets,
                 const float *logp, float *dlogp, int B, int T);
    void *ctx;
} train_loss;

/* Other means a loss reports beside itself (DPO's reward accuracy ...), at most
 * TRAIN_MAX_STATS: their names, and their values for the last call of the loss.  Step
 * records carry them (means over the micro-batches), eval records as val_NAME. */
typedef struct {
    int n;
    const char *const *names;
    const double *values;
} train_stats;

/* Language modelling: the mean of -logp over the targets that are not MODEL_IGNORE. */
double train_xent(void *ctx, const uint32_t *tokens, const uint32_t *targets,
                  const float *logp, float *dlogp, int B, int T);

/* What a trainer tool changes in the loop; every member is optional. */
typedef struct {
    void *ctx;
    /* Training mode on before the steps, off around evaluations and at the end (LoRA's
     * dropout). */
    void (*mode)(void *ctx, bool training);
    /* Writes the checkpoints instead of trainer_save() (an adapter, a model alone). */
    void (*save)(void *ctx, const char *path);
} train_hooks;

typedef struct {
    model *m;
    param_set *learn;          /* what the optimizer updates: model_params(m) unless changed */
    adamw opt;
    train_hparams h;
    train_loss loss;
    train_stats stats;         /* the loss's, or none */
    token_stream *data;
    token_stream *val;         /* NULL: no evaluation */
    batch_source *batches;     /* when set, the micro-batches come from here, not data */
    batch_source *val_batches; /* when set, the validation batches */
    train_hooks hooks;
    uint64_t step;             /* steps done */
    const char *checkpoint;    /* where checkpoints go, or NULL */
    uint64_t saved_step;       /* step of the last checkpoint written (0: none) */
    const void *tokenizer;     /* msgpack bytes that checkpoints embed, or NULL */
    size_t tokenizer_len;
    rec_writer *metrics;
    bool progress;             /* a progress line on stderr */
    uint32_t *tokens, *targets; /* (B, T) the current micro-batch */
    float *logp, *dlogp;        /* (B, T) */
} trainer;

/* Set up t to train m (whose PARAM_FROZEN flags are final) on data with hyperparameters
 * h and loss; plans the model for (B, T) training.  The caller fills in val, checkpoint,
 * tokenizer, metrics and progress as wanted. */
void trainer_init(trainer *t, model *m, const train_hparams *h, train_loss loss,
                  token_stream *data);
void trainer_free(trainer *t);
/* Let the optimizer update ps instead (before the first step): the adapters of a frozen
 * model.  trainer_save() and resuming then do not apply (use hooks.save). */
void trainer_learn(trainer *t, param_set *ps);

/* Where a run stands, as state/train.mp keeps it. */
typedef struct {
    uint64_t step, data_pos;
} train_progress;

/* The hyperparameters and progress saved in a checkpoint opened with ckpt_open(); exit
 * 65 naming the member when it has none or it is malformed. */
void train_state_read(const ckpt_reader *r, train_hparams *h, train_progress *p);
/* Take the weights and moments from r (trainer_init() done with the checkpoint's model)
 * and continue from p. */
void trainer_resume(trainer *t, ckpt_reader *r, const train_progress *p);

/* Write a checkpoint of the model, the moments and the progress to path (atomically). */
void trainer_save(trainer *t, const char *path);
typedef struct {
    double loss, lr, grad_norm; /* the mean loss of the micro-batches; the norm before clipping */
    double stats[TRAIN_MAX_STATS]; /* the loss's stats, means over the micro-batches */
} train_step_result;

/* One optimizer step, step t->step + 1 (then t->step).  A non-finite loss or gradient
 * norm exits 65 before anything is updated. */
train_step_result train_step(trainer *t);
/* Mean cross-entropy over the validation windows (of val; val_batches are evaluated with
 * the loss, each batch weighted by its examples). */
double train_evaluate(trainer *t);
/* Train from step t->step + 1 to h.steps, then evaluate and save a last time. */
void train_run(trainer *t);

#endif
