/* dpo: Direct Preference Optimization of a language model on preference pairs, by full
 * fine-tuning, LoRA or QLoRA. */
#include "base/cli.h"
#include "train/dpo.h"
#include "train/tune.h"

static const char usage[] =
    "usage: dpo --base CKPT [--beta X] [--label-smoothing X] [--full | --lora | --qlora]\n"
    "           [--targets attn|mlp|all] [--rank R] [--alpha A] [--dropout P]\n"
    "           [--adapter FILE] [-o FILE] [--merged FILE] [training options] [FILE]\n"
    "Align the model CKPT with the preference pairs of FILE (default stdin), each a\n"
    "`prompt`, a `chosen` answer and a `rejected` one (text, or ids as prompt_tokens,\n"
    "chosen_tokens and rejected_tokens), by the DPO loss against the starting model.\n"
    "Metric records (setup, config, step, eval, done) go to stdout, with the reward\n"
    "accuracy and margin and the implicit rewards of the chosen and rejected answers.\n"
    "\n"
    "preference:\n"
    "  --beta X             strength of the KL constraint (default 0.1)\n"
    "  --label-smoothing X  conservative DPO: the labels' flip probability (default 0)\n"
    "method:\n"
    "  --base CKPT          the model to start from (with its tokenizer): the reference\n"
    TUNE_USAGE_METHODS
    "  --adapter FILE       start from this adapter (base plus adapter: the reference)\n"
    "training:\n"
    "  -B, --batch N        pairs per micro-batch (default 4: 8 sequences)\n"
    "  -T, --seq-len N      positions per row (default: the longest answer, within the\n"
    "                       context); longer answers are cut\n"
    TUNE_USAGE_TRAINING("pairs");

enum { O_BETA = TUNE_OPT_TOOL, O_SMOOTHING };

static const struct option opts[] = {
    {"beta", required_argument, NULL, O_BETA},
    {"label-smoothing", required_argument, NULL, O_SMOOTHING},
    {0},
};

typedef struct {
    double beta, smoothing;
} dpo_cli;

static void option(void *ctx, int code, const char *arg)
{
    dpo_cli *c = ctx;
    if (code == O_BETA)
        c->beta = cli_f64("--beta", arg, 1e-6, 1e6);
    else
        c->smoothing = cli_f64("--label-smoothing", arg, 0, 0.49);
}

int main(int argc, char **argv)
{
    dpo_cli c = {.beta = 0.1};
    tune_options o;
    tune_parse(&o, argc, argv, &(tune_tool){.usage = usage, .opts = opts, .option = option,
                                            .ctx = &c, .batch = 4});
    o.h.batch *= 2; /* rows: two per pair */
    tune_run run;
    tune_load(&run, &o);
    dpo d;
    dpo_init(&d, c.beta, c.smoothing, o.h.batch);
    dpo_source train, val;
    dpo_source_load(&train, &d, o.input, &run.fmt, o.h.seed);
    if (o.val)
        dpo_source_load(&val, &d, o.val, &run.fmt, o.h.seed);
    seq_source *sources[2] = {&train.seqs, &val.seqs};
    uint64_t cut = tune_fit(&run, &o, sources, o.val ? 2 : 1);
    tune_start(&run, &o, dpo_loss(&d), dpo_stats(&d), &train.base, o.val ? &val.base : NULL,
               cut);
    dpo_reference(&train, &run.t);
    if (o.val)
        dpo_reference(&val, &run.t);
    train_run(&run.t);
    tune_finish(&run);
    dpo_source_free(&train);
    if (o.val)
        dpo_source_free(&val);
    dpo_free(&d);
    return 0;
}
