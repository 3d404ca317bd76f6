/* options: the command line and setup that the trainer tools share.
 *
 * train and train-quant take the same model, training, reporting and checkpoint options
 * (train(1) documents them; TRAIN_USAGE_OPTIONS is their -h text; the training options
 * are every trainer's, train/hparams_cli.h) and set up a run the same way; a tool adds
 * its own options through a train_tool and does its own part between the steps:
 *
 *     train_options o;
 *     train_options_parse(&o, argc, argv, &tool);  // the flags; the checkpoint to resume
 *     ... the tool's own settings (o.h.recipe, o.h.adam's moment storage ...)
 *     train_options_model(&o);                     // optional: the model, to check against
 *     trainer t;
 *     train_options_start(&o, &t, loss);           // model, data, trainer, weights
 *     ... the tool's hooks on t.m (quantizers, adapters)
 *     train_run(&t);
 *     train_options_finish(&o, &t);
 *
 * A resumed run (--resume CKPT) takes its model from the checkpoint (a model option is a
 * usage error, exit 64) and its training settings too, except those the command line
 * gives.  Its quantization recipe (train_hparams.recipe) must be the one the tool was
 * given, or the tool gives none and takes the checkpoint's: a disagreement exits 64, and a
 * tool that trains without recipes refuses a checkpoint that has one (exit 65).
 *
 * A run from --init CKPT is a new run (step 0, fresh AdamW moments, the command line's
 * training settings) whose model, weights and tokenizer come from the checkpoint: to
 * continue pretraining a model, an imported GPT-2 for one. */
#ifndef RUNNEL_TRAIN_OPTIONS_H
#define RUNNEL_TRAIN_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>

#include "model/ckpt.h"
#include "model/model.h"
#include "tok/bpe.h"
#include "train/data.h"
#include "train/hparams_cli.h"
#include "train/train.h"

/* The tool's own long options use getopt codes from here up. */
enum { TRAIN_OPT_TOOL = HPARAMS_CLI_TOOL };

/* What a trainer tool adds to the shared command line.  All fields but usage are optional. */
typedef struct train_options train_options;
typedef struct {
    const char *usage;               /* the whole -h text */
    const struct option *opts;       /* its long options, {0}-terminated, codes >= TRAIN_OPT_TOOL */
    const char *shortopts;           /* its short options (getopt syntax) */
    void (*option)(void *ctx, int code, const char *arg); /* one of its options */
    /* After the command line, before a checkpoint to resume is read: the tool puts what
     * it was given in o (o->h.recipe, the canonical text of its recipe, or ""). */
    void (*parsed)(void *ctx, train_options *o);
    void *ctx;
    bool recipes;                    /* the tool trains with quantization recipes */
} train_tool;

struct train_options {
    model_config cfg;
    train_hparams h;
    const char *input;               /* the training tokens ("-": stdin) */
    const char *val, *checkpoint, *resume; /* or NULL */
    const char *init;                /* the checkpoint whose weights start a new run, or NULL */
    bool progress;                   /* --progress or stderr is a terminal */
    ckpt_reader r;                   /* the checkpoint to resume or init from, open until start */
    train_progress at;               /* where it stopped */
    bpe_t *tok;                      /* the tokenizer, or NULL */
    msgpack_sbuffer tok_bytes;       /* its msgpack bytes, for checkpoints (size 0: none) */
    model *m;
    token_stream data, valdata;
};

/* Parse the command line (exit 64 on a usage error); --params prints the parameter count
 * and exits 0.  Opens the checkpoint to resume and reads its settings. */
void train_options_parse(train_options *o, int argc, char **argv, const train_tool *tool);
/* Build the model (o->m) from o->cfg. */
void train_options_model(train_options *o);
/* Build the model unless built, load the data, set up t with loss, and either initialise
 * the weights from the seed, or take weights, moments and position from the checkpoint to
 * resume, or the weights from the one to init from; metric records go to stdout. */
void train_options_start(train_options *o, trainer *t, train_loss loss);
/* Close the metric stream and free everything. */
void train_options_finish(train_options *o, trainer *t);

#define TRAIN_USAGE_OPTIONS                                                                   \
    "model (a new run):\n"                                                                    \
    "  --arch A             gpt or hawk\n"                                                    \
    "  --config NAME        sizes to start from: S (default), M, gpt2, gpt2-medium ...\n"     \
    "  --layers, --width, --heads, --context N    override the configuration's\n"            \
    "  --vocab N            vocabulary (default: the tokenizer's, else the configuration's)\n" \
    "  --tokenizer FILE     BPE model (tokenize learn); embedded in the checkpoint\n"         \
    "  --params             print the number of parameters and exit\n"                       \
    "training:\n"                                                                             \
    "  -B, --batch N        sequences per micro-batch (default 8)\n"                          \
    "  -T, --seq-len N      tokens per sequence (default: the context)\n"                     \
    "  --accum N            micro-batches per step (default 1)\n"                             \
    "  --steps N            optimizer steps (default 100)\n"                                  \
    "  --lr X               peak learning rate (default 1e-3)\n"                              \
    "  --min-lr X           learning rate at the last step (default lr / 10)\n"               \
    "  --warmup N           steps of linear warmup (default 0)\n"                             \
    "  --wd X               AdamW weight decay of the matrices (default 0.1)\n"               \
    "  --beta1 X, --beta2 X, --eps X    AdamW (default 0.9, 0.95, 1e-8)\n"                    \
    "  --clip X             clip the gradient norm to X; 0: never (default 1)\n"              \
    "  --eot ID             token between documents (default the tokenizer's <|endoftext|>)\n" \
    "  -s, --seed S         seed of the initial weights (default 1)\n"                        \
    "  -j, --threads N      threads (default RUNNEL_THREADS, else all cores)\n"               \
    "reporting and checkpoints:\n"                                                            \
    "  --log-every N        a step record every N steps (default 1)\n"                        \
    "  --val FILE           validation token records\n"                                       \
    "  --eval-every N       evaluate every N steps (default: at the end only)\n"              \
    "  --eval-windows N     validation windows of T+1 tokens (default: all of FILE)\n"        \
    "  -o, --checkpoint F   write the model and training state to F (atomically)\n"           \
    "  --checkpoint-every N also every N steps (default: at the end only)\n"                  \
    "  --resume CKPT        continue the run saved in CKPT; flags given override its\n"       \
    "                       training settings\n"                                              \
    "  --init CKPT          start a new run from the weights (and tokenizer) of CKPT\n"      \
    "  --progress           a progress line on stderr even when it is not a terminal\n"       \
    "  -h, --help           this text; --version the version\n"

#endif
