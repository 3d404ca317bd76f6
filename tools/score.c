/* score: the log-probability a trained language model gives to texts. */
#include "base/cli.h"
#include "base/err.h"
#include "base/threads.h"
#include "model/model.h"
#include "quant/int8_linear.h"
#include "rec/rec.h"
#include "train/data.h"
#include "train/lm.h"
#include "train/score.h"

static const char usage[] =
    "usage: score -m CKPT [-B N] [--per-token] [--int8] [-j N] [-o FILE] [FILE]\n"
    "Score the \"tokens\" (or \"text\") of each record of FILE (default stdin), conditioned\n"
    "on its \"prompt_tokens\" (or \"prompt\") when present; write the record with\n"
    "\"logprob\" (natural log, summed), \"n_tokens\" and \"ppl\" added.\n"
    "\n"
    "  -m, --model CKPT     checkpoint written by train\n"
    "  -B, --batch N        records per forward pass (default 8)\n"
    "      --per-token      also \"token_logprobs\", one per scored token\n"
    "      --int8           dense layers in int8: weights per channel, activations per token\n"
    "  -j, --threads N      threads (default RUNNEL_THREADS, else all cores)\n"
    "  -o, --output F       write to F (atomically) instead of stdout\n"
    "  -h, --help           this text; --version the version\n";

enum { O_PER_TOKEN = 0x100, O_INT8 };

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"batch", required_argument, NULL, 'B'},
        {"per-token", no_argument, NULL, O_PER_TOKEN},
        {"int8", no_argument, NULL, O_INT8},
        {"threads", required_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        CLI_STD_OPTIONS,
        {0},
    };
    const char *path = NULL, *output = "-";
    int B = 8, threads = 0;
    bool per_token = false, int8 = false;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "m:B:j:o:", opts)) != -1;) {
        switch (c) {
        case 'm': path = optarg; break;
        case 'B': B = (int)cli_u64("--batch", optarg, 1, 1 << 16); break;
        case O_PER_TOKEN: per_token = true; break;
        case O_INT8: int8 = true; break;
        case 'j': threads = threads_parse("--threads", optarg); break;
        case 'o': output = optarg; break;
        }
    }
    const char *input = cli_one_input(argc, argv);
    if (!path)
        cli_usage_error("-m CKPT is needed");
    threads_init(threads);

    bpe_t *tok;
    model *m = lm_load(path, &tok);
    int8_linear_set *q8 = int8 ? int8_linear_attach_model(m) : NULL;
    scorer s;
    scorer_init(&s, m, tok, tok ? lm_eot(tok) : TOKENS_NO_EOT, B, per_token);
    rec_reader *in = rec_open(input);
    rec_writer *out = rec_create(output, false);
    rec r;
    while (rec_next(in, &r))
        scorer_add(&s, &r, out);
    scorer_flush(&s, out);
    rec_finish(out);
    rec_close(in);
    scorer_free(&s);
    if (tok)
        tok_free(tok);
    int8_linear_free(q8);
    model_free(m);
    return 0;
}
