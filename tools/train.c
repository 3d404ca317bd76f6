/* train: train a gpt or hawk language model on token records. */
#include "train/options.h"
#include "train/train.h"

static const char usage[] =
    "usage: train --arch gpt|hawk [--config NAME] [--layers N] [--width N] [--heads N]\n"
    "             [--context N] [--vocab N] [--tokenizer FILE] [-B N] [-T N] [--steps N]\n"
    "             [--lr X] [--min-lr X] [--warmup N] [--wd X] [--clip X] [--accum N]\n"
    "             [--eot ID] [--val FILE] [--eval-every N] [--eval-windows N] [--seed S]\n"
    "             [-j N] [--checkpoint FILE] [--checkpoint-every N] [--progress] [FILE]\n"
    "       train --resume CKPT [--steps N] [...] [FILE]\n"
    "       train --init CKPT [training options] [FILE]\n"
    "       train --arch gpt|hawk [model options] --params\n"
    "Train a language model on the `tokens` of the records in FILE (default stdin);\n"
    "metric records (config, step, eval, done) go to stdout.\n"
    "\n" TRAIN_USAGE_OPTIONS;

int main(int argc, char **argv)
{
    train_options o;
    train_options_parse(&o, argc, argv, &(train_tool){.usage = usage});
    trainer t;
    train_options_start(&o, &t, (train_loss){"xent", train_xent, NULL});
    train_run(&t);
    train_options_finish(&o, &t);
    return 0;
}
