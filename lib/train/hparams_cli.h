/* hparams_cli: the training options on every trainer tool's command line.
 *
 * train and train-quant (train/options.h), lora-tune and dpo (train/tune.h) take the same
 * micro-batch, schedule, AdamW, seed, thread, reporting and checkpoint options, with the
 * same names, ranges and meaning (train(1) documents them):
 *
 *     -B/--batch -T/--seq-len --accum --steps --lr --min-lr --warmup --wd --beta1
 *     --beta2 --eps --clip -s/--seed -j/--threads --log-every --val --eval-every
 *     -o/--checkpoint --checkpoint-every --progress
 *
 * Their one definition is here; a module adds its own options around them:
 *
 *     hparams_cli c;
 *     hparams_cli_init(&c, &h);                // train(1)'s defaults in h
 *     struct option *all = hparams_cli_longopts(own, tool_opts);
 *     for (int code; (code = cli_getopt(argc, argv, HPARAMS_CLI_SHORTOPTS "...", all)) != -1;)
 *         if (!hparams_cli_option(&c, code, optarg))
 *             ... an option of the module's or the tool's
 *     free(all);
 *     hparams_cli_finish(&c, "--checkpoint-every needs ...", "--eval-every needs ...");
 *     threads_init(c.threads);
 *
 * Option codes: the shared ones (and 'B', 'T', 's', 'j', 'o'), then a module's own from
 * HPARAMS_CLI_END, then a tool's own from HPARAMS_CLI_TOOL. */
#ifndef RUNNEL_TRAIN_HPARAMS_CLI_H
#define RUNNEL_TRAIN_HPARAMS_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "train/train.h"

enum {
    HPARAMS_CLI_ACCUM = 0x100, HPARAMS_CLI_STEPS, HPARAMS_CLI_LR, HPARAMS_CLI_MIN_LR,
    HPARAMS_CLI_WARMUP, HPARAMS_CLI_WD, HPARAMS_CLI_BETA1, HPARAMS_CLI_BETA2, HPARAMS_CLI_EPS,
    HPARAMS_CLI_CLIP, HPARAMS_CLI_LOG_EVERY, HPARAMS_CLI_VAL, HPARAMS_CLI_EVAL_EVERY,
    HPARAMS_CLI_CKPT_EVERY, HPARAMS_CLI_PROGRESS,
    HPARAMS_CLI_END,           /* a module's own long options use codes from here */
    HPARAMS_CLI_TOOL = 0x200,  /* a tool's own long options use codes from here up */
};

#define HPARAMS_CLI_SHORTOPTS "B:T:s:j:o:"

typedef struct {
    train_hparams *h;             /* what the options set */
    const char *val, *checkpoint; /* --val FILE, -o FILE, or NULL */
    int threads;                  /* -j, for threads_init() (0: not given) */
    bool progress;                /* after finish: --progress, or stderr is a terminal */
    bool given[HPARAMS_CLI_TOOL]; /* the options given, by code: the module's too */
} hparams_cli;

/* c reads into h; h takes train(1)'s defaults: B 8, accumulation 1, 100 steps, lr 1e-3,
 * clip 1, AdamW 0.9, 0.95, 1e-8 with weight decay 0.1, seed 1, no end-of-text token, a
 * step record every step.  (min-lr is lr / 10 unless given: hparams_cli_finish.) */
void hparams_cli_init(hparams_cli *c, train_hparams *h);

/* The long options for cli_getopt(), in a new array for free(): the shared ones, own and
 * tool ({0}-terminated, either may be NULL), then -h and --version. */
struct option *hparams_cli_longopts(const struct option *own, const struct option *tool);

/* Note that the option code was given (codes below HPARAMS_CLI_TOOL: the module's own
 * too); when it is one of the shared options, apply arg (exit 64 when it is out of range)
 * and return true. */
bool hparams_cli_option(hparams_cli *c, int code, const char *arg);

/* After the command line: --checkpoint-every without -o is the usage error no_out (exit
 * 64), and --eval-every, or eval windows (h->eval_windows), without --val the usage error
 * no_val, in the words of the tool's usage text; min-lr defaults to lr / 10; sets
 * c->progress. */
void hparams_cli_finish(hparams_cli *c, const char *no_out, const char *no_val);

#endif
