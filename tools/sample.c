/* sample: continue prompts with a trained language model. */
#include "base/cli.h"
#include "base/err.h"
#include "base/rng.h"
#include "base/threads.h"
#include "model/model.h"
#include "quant/int8_linear.h"
#include "rec/rec.h"
#include "train/data.h"
#include "train/lm.h"
#include "train/sample.h"

static const char usage[] =
    "usage: sample -m CKPT [--max-tokens N] [--temperature X] [--top-k K] [--top-p P]\n"
    "              [--greedy] [--seed S] [--stop STR]... [--stop-token ID]...\n"
    "              [--truncate-left] [--int8] [-j N] [-o FILE] [FILE]\n"
    "Continue the \"prompt\" (text) or \"prompt_tokens\" of each record of FILE (default\n"
    "stdin); write the record with \"completion\", \"completion_tokens\" and \"finish\" added.\n"
    "\n"
    "  -m, --model CKPT     checkpoint written by train\n"
    "  -n, --max-tokens N   tokens to generate at most (default 128)\n"
    "  -t, --temperature X  divide the logits by X (default 1; 0 is --greedy)\n"
    "  -k, --top-k K        draw among the K most likely tokens only (default: all)\n"
    "  -p, --top-p P        ... and among the fewest whose probability reaches P (default 1)\n"
    "  -g, --greedy         always the most likely token\n"
    "  -s, --seed S         seed of the draws (default 1)\n"
    "      --stop STR       stop when the text ends with STR, cut before it (repeatable)\n"
    "      --stop-token ID  stop at token ID, not kept (repeatable; <|endoftext|> always)\n"
    "      --truncate-left  keep the end of a prompt longer than the context\n"
    "      --int8           dense layers in int8: weights per channel, activations per token\n"
    "  -j, --threads N      threads (default RUNNEL_THREADS, else all cores)\n"
    "  -o, --output F       write to F (atomically) instead of stdout\n"
    "  -h, --help           this text; --version the version\n";

enum { O_STOP = 0x100, O_STOP_TOKEN, O_TRUNCATE, O_INT8 };

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"max-tokens", required_argument, NULL, 'n'},
        {"temperature", required_argument, NULL, 't'},
        {"top-k", required_argument, NULL, 'k'},
        {"top-p", required_argument, NULL, 'p'},
        {"greedy", no_argument, NULL, 'g'},
        {"seed", required_argument, NULL, 's'},
        {"stop", required_argument, NULL, O_STOP},
        {"stop-token", required_argument, NULL, O_STOP_TOKEN},
        {"truncate-left", no_argument, NULL, O_TRUNCATE},
        {"int8", no_argument, NULL, O_INT8},
        {"threads", required_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        CLI_STD_OPTIONS,
        {0},
    };
    const char *path = NULL, *output = "-";
    sampler_opts so = {.temperature = 1.0, .top_p = 1.0};
    gen_opts go = {.max_tokens = 128};
    const char **stops = xcalloc((size_t)argc, sizeof *stops);
    uint32_t *stop_tokens = xcalloc((size_t)argc + 1, sizeof *stop_tokens);
    uint64_t seed = 1;
    bool truncate = false, int8 = false;
    int threads = 0;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "m:n:t:k:p:gs:j:o:", opts)) != -1;) {
        switch (c) {
        case 'm': path = optarg; break;
        case 'n': go.max_tokens = (int)cli_u64("--max-tokens", optarg, 0, 1 << 24); break;
        case 't': so.temperature = cli_f64("--temperature", optarg, 0, 1e6); break;
        case 'k': so.top_k = (int)cli_u64("--top-k", optarg, 0, 1 << 24); break;
        case 'p': so.top_p = cli_f64("--top-p", optarg, 1e-9, 1); break;
        case 'g': so.greedy = true; break;
        case 's': seed = cli_u64("--seed", optarg, 0, UINT64_MAX); break;
        case O_STOP: stops[go.n_stop_strings++] = optarg; break;
        case O_STOP_TOKEN:
            stop_tokens[go.n_stop_tokens++] =
                (uint32_t)cli_u64("--stop-token", optarg, 0, (1 << 24) - 1);
            break;
        case O_TRUNCATE: truncate = true; break;
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
    const model_config *cfg = model_cfg(m);
    for (int i = 0; i < go.n_stop_tokens; i++)
        if (stop_tokens[i] >= (uint32_t)cfg->vocab)
            cli_usage_error("--stop-token %u is outside the vocabulary (%d)", stop_tokens[i],
                            cfg->vocab);
    uint32_t eot = tok ? lm_eot(tok) : TOKENS_NO_EOT;
    if (eot != TOKENS_NO_EOT)
        stop_tokens[go.n_stop_tokens++] = eot;
    go.stop_tokens = stop_tokens;
    go.stop_strings = stops;

    sampler smp;
    sampler_init(&smp, cfg->vocab, &so);
    model_state *state = model_state_new(m);
    rng_t base;
    rng_seed(&base, seed);
    rec_reader *in = rec_open(input);
    rec_writer *out = rec_create(output, false);
    u32vec prompt = {0};
    gen_result res = {0};
    static const char *const finish[] = {"length", "stop", "context"};
    static const char *const written[] = {"completion", "completion_tokens", "finish", NULL};
    rec r;
    while (rec_next(in, &r)) {
        const char *text;
        size_t len;
        if (!rec_get_u32s(&r, "prompt_tokens", (uint32_t)cfg->vocab - 1, &prompt)) {
            if (!rec_get_str(&r, "prompt", &text, &len))
                rec_fail(&r, "no \"prompt\" or \"prompt_tokens\"");
            if (!tok)
                rec_fail(&r, "key \"prompt\": %s has no tokenizer; give \"prompt_tokens\"",
                         path);
            prompt.n = 0;
            tok_encode(tok, text, len, false, &prompt);
        }
        if (prompt.n == 0) {
            if (eot == TOKENS_NO_EOT)
                rec_fail(&r, "empty prompt, and no <|endoftext|> token to start from");
            u32vec_push(&prompt, eot);
        }
        const uint32_t *p = prompt.v;
        size_t n = prompt.n;
        size_t limit = (size_t)model_max_len(m);
        if (limit && n > limit) {
            if (!truncate)
                rec_fail(&r, "the prompt has %zu tokens, more than the model's context of %zu "
                         "(--truncate-left keeps its end)", n, limit);
            p += n - limit;
            n = limit;
        }
        rng_t rng = rng_fork(&base, r.index);
        generate(m, state, &smp, &rng, tok, p, n, &go, &res);
        rec_begin(out);
        rec_put_rest(out, &r, written);
        if (tok)
            rec_put_str(out, "completion", res.text ? res.text : "", res.len);
        rec_put_u32s(out, "completion_tokens", res.tokens.v, res.tokens.n);
        rec_put_cstr(out, "finish", finish[res.finish]);
        rec_end(out);
    }
    rec_finish(out);
    rec_close(in);
    gen_result_free(&res);
    u32vec_free(&prompt);
    model_state_free(state);
    sampler_free(&smp);
    if (tok)
        tok_free(tok);
    int8_linear_free(q8);
    model_free(m);
    free(stops);
    free(stop_tokens);
    return 0;
}
