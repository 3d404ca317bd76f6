/* lora-tune: supervised fine-tuning of a language model on prompts and responses, by full
 * fine-tuning, LoRA or QLoRA. */
#include "train/sft.h"
#include "train/tune.h"

static const char usage[] =
    "usage: lora-tune --base CKPT [--full | --lora | --qlora] [--targets attn|mlp|all]\n"
    "                 [--rank R] [--alpha A] [--dropout P] [--adapter FILE] [-o FILE]\n"
    "                 [--merged FILE] [training options] [FILE]\n"
    "Fine-tune the model CKPT on the records of FILE (default stdin), each a `prompt` and\n"
    "a `response` (text, or ids as prompt_tokens and response_tokens); the loss is the\n"
    "cross-entropy of the response tokens.  Metric records (setup, config, step, eval,\n"
    "done) go to stdout.\n"
    "\n"
    "method:\n"
    "  --base CKPT          the model to start from (with its tokenizer)\n"
    TUNE_USAGE_METHODS
    "  --adapter FILE       start from this adapter (its settings) instead of new ones\n"
    "training:\n"
    "  -B, --batch N        examples per micro-batch (default 8)\n"
    "  -T, --seq-len N      positions per row (default: the longest example, within the\n"
    "                       context); longer responses are cut\n"
    TUNE_USAGE_TRAINING("examples");

int main(int argc, char **argv)
{
    tune_options o;
    tune_parse(&o, argc, argv, &(tune_tool){.usage = usage});
    tune_run run;
    tune_load(&run, &o);
    seq_source train, val;
    sft_load(&train, o.input, &run.fmt, o.h.seed);
    if (o.val)
        sft_load(&val, o.val, &run.fmt, o.h.seed);
    seq_source *sources[2] = {&train, &val};
    uint64_t cut = tune_fit(&run, &o, sources, o.val ? 2 : 1);
    tune_start(&run, &o, sft_loss(), (train_stats){0}, &train.base, o.val ? &val.base : NULL,
               cut);
    train_run(&run.t);
    tune_finish(&run);
    seq_source_free(&train);
    if (o.val)
        seq_source_free(&val);
    return 0;
}
