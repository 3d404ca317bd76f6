/* tune: the command line and setup that the fine-tuning tools share (lora-tune, dpo).
 *
 * They start from a trained model (--base CKPT, its tokenizer included) and train it by
 * full fine-tuning, LoRA or QLoRA (model/adapter.h) on examples (train/batch.h), with the
 * training, reporting and checkpoint options of train(1) that apply (a fine-tuning run
 * does not resume).  A tool adds its options through a tune_tool and does its part
 * between the steps:
 *
 *     tune_options o;
 *     tune_parse(&o, argc, argv, &tool);   // exit 64 on a usage error
 *     tune_run run;
 *     tune_load(&run, &o);                 // the base model, the adapter, the format
 *     ... the tool's examples (seq_source), then T: tune_fit(&run, &o, sources, n)
 *     tune_start(&run, &o, loss, stats, train, val, cut);
 *     ... (dpo: the reference log-probs)
 *     train_run(&run.t);
 *     tune_finish(&run);                   // --merged, and frees
 *
 * The run writes, before the trainer's config record, a record {"event":"setup"} with the
 * method and the adapters' settings, the adapted layers, the base's content hash, and for
 * QLoRA the bytes its NF4 base takes against float32.  -o writes the adapter (LoRA,
 * QLoRA) or the fine-tuned model (full), at --checkpoint-every steps and at the end;
 * --merged writes the base with the adapters merged into it, a model for sample(1),
 * score(1) or another fine-tuning run. */
#ifndef RUNNEL_TRAIN_TUNE_H
#define RUNNEL_TRAIN_TUNE_H

#include <getopt.h>
#include <msgpack.h>
#include <stdbool.h>

#include "model/adapter.h"
#include "tok/bpe.h"
#include "train/batch.h"
#include "train/hparams_cli.h"
#include "train/train.h"

/* A tool's own long options use codes from here up. */
enum { TUNE_OPT_TOOL = HPARAMS_CLI_TOOL };

typedef struct {
    const char *usage;          /* the whole -h text */
    const struct option *opts;  /* its long options, {0}-terminated */
    void (*option)(void *ctx, int code, const char *arg);
    void *ctx;
    int batch;                  /* the default of -B (0: 8) */
} tune_tool;

typedef enum { TUNE_FULL, TUNE_LORA, TUNE_QLORA } tune_method;

typedef struct {
    train_hparams h;            /* seq_len 0: fit the longest example */
    tune_method method;
    lora_config lora;
    const char *base, *adapter; /* the model to start from; an adapter to start from */
    const char *input, *val;    /* examples ("-": stdin), validation examples or NULL */
    const char *out, *merged;   /* -o, --merged, or NULL */
    bool progress;
} tune_options;

void tune_parse(tune_options *o, int argc, char **argv, const tune_tool *tool);

/* The lines of a tool's -h text for the options tune_parse() takes, and their defaults:
 * the methods and adapter settings (after --base), and the training options after -B and
 * -T, reporting and output; val names the validation records. */
#define TUNE_USAGE_METHODS                                                                    \
    "  --full               train every weight of the model\n"                                \
    "  --lora               train low-rank adapters on a frozen model (default)\n"            \
    "  --qlora              the same with the frozen model's dense layers in NF4\n"           \
    "  --targets T          adapted layers: attn, mlp or all (default all)\n"                 \
    "  --rank R             adapter rank (default 8)\n"                                       \
    "  --alpha A            adapter scale alpha / R (default 16)\n"                           \
    "  --dropout P          dropout on the adapters' input (default 0.05)\n"
#define TUNE_USAGE_TRAINING(val)                                                              \
    "  --accum N, --steps N, --lr X, --min-lr X, --warmup N, --wd X (default 0),\n"           \
    "  --beta1 X, --beta2 X, --eps X, --clip X    as train(1)\n"                              \
    "  -s, --seed S         seed of the adapters, the data order and dropout (default 1)\n"   \
    "  -j, --threads N      threads (default RUNNEL_THREADS, else all cores)\n"               \
    "reporting and output:\n"                                                                 \
    "  --log-every N, --eval-every N, --progress    as train(1)\n"                            \
    "  --val FILE           validation " val "\n"                                             \
    "  -o, --checkpoint F   the adapter (LoRA, QLoRA) or the model (full) to F\n"             \
    "  --checkpoint-every N also every N steps (default: at the end only)\n"                  \
    "  --merged FILE        the model with the adapters merged into it, to FILE\n"            \
    "  -h, --help           this text; --version the version\n"

typedef struct {
    model *m;
    bpe_t *tok;
    msgpack_sbuffer tok_bytes;
    seq_format fmt;
    adapter *ad;                /* NULL for full fine-tuning */
    trainer t;
    const tune_options *o;
} tune_run;

/* Load the base model (and the adapter); fills run->fmt for reading examples. */
void tune_load(tune_run *run, const tune_options *o);
/* Fix T (o->h.seq_len): -T when given, else the longest sequence of the sources within
 * the model's context; check every example against it (seq_source_fit) and return the
 * number of sequences it cuts. */
uint64_t tune_fit(tune_run *run, tune_options *o, seq_source *const *sources, int n);
/* Set up the trainer on train (and val), write the setup record. */
void tune_start(tune_run *run, tune_options *o, train_loss loss, train_stats stats,
                batch_source *train, batch_source *val, uint64_t truncated);
void tune_finish(tune_run *run);

#endif
