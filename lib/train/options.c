/* The trainers' shared command line and setup. */
#include "train/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/threads.h"
#include "train/lm.h"

enum {
    O_ARCH = 0x100, O_CONFIG, O_LAYERS, O_WIDTH, O_HEADS, O_CONTEXT, O_VOCAB, O_TOKENIZER,
    O_PARAMS, O_ACCUM, O_STEPS, O_LR, O_MIN_LR, O_WARMUP, O_WD, O_BETA1, O_BETA2, O_EPS,
    O_CLIP, O_EOT, O_LOG_EVERY, O_VAL, O_EVAL_EVERY, O_EVAL_WINDOWS, O_CKPT_EVERY,
    O_RESUME, O_PROGRESS, O_LAST
};

static const struct option opts[] = {
    {"arch", required_argument, NULL, O_ARCH},
    {"config", required_argument, NULL, O_CONFIG},
    {"layers", required_argument, NULL, O_LAYERS},
    {"width", required_argument, NULL, O_WIDTH},
    {"heads", required_argument, NULL, O_HEADS},
    {"context", required_argument, NULL, O_CONTEXT},
    {"vocab", required_argument, NULL, O_VOCAB},
    {"tokenizer", required_argument, NULL, O_TOKENIZER},
    {"params", no_argument, NULL, O_PARAMS},
    {"batch", required_argument, NULL, 'B'},
    {"seq-len", required_argument, NULL, 'T'},
    {"accum", required_argument, NULL, O_ACCUM},
    {"steps", required_argument, NULL, O_STEPS},
    {"lr", required_argument, NULL, O_LR},
    {"min-lr", required_argument, NULL, O_MIN_LR},
    {"warmup", required_argument, NULL, O_WARMUP},
    {"wd", required_argument, NULL, O_WD},
    {"beta1", required_argument, NULL, O_BETA1},
    {"beta2", required_argument, NULL, O_BETA2},
    {"eps", required_argument, NULL, O_EPS},
    {"clip", required_argument, NULL, O_CLIP},
    {"eot", required_argument, NULL, O_EOT},
    {"seed", required_argument, NULL, 's'},
    {"threads", required_argument, NULL, 'j'},
    {"log-every", required_argument, NULL, O_LOG_EVERY},
    {"val", required_argument, NULL, O_VAL},
    {"eval-every", required_argument, NULL, O_EVAL_EVERY},
    {"eval-windows", required_argument, NULL, O_EVAL_WINDOWS},
    {"checkpoint", required_argument, NULL, 'o'},
    {"checkpoint-every", required_argument, NULL, O_CKPT_EVERY},
    {"resume", required_argument, NULL, O_RESUME},
    {"progress", no_argument, NULL, O_PROGRESS},
};
enum { N_OPTS = sizeof opts / sizeof *opts };

/* The options that shape a new model, which a resumed run takes from its checkpoint. */
static const int model_opts[] = {O_ARCH, O_CONFIG, O_LAYERS, O_WIDTH, O_HEADS, O_CONTEXT,
                                 O_VOCAB, O_TOKENIZER, O_PARAMS};

static const char *opt_name(int code)
{
    for (int i = 0; i < N_OPTS; i++)
        if (opts[i].val == code)
            return opts[i].name;
    return "?";
}

/* train's options, then the tool's, then -h and --version. */
static struct option *all_options(const train_tool *tool)
{
    size_t n = 0;
    while (tool->opts && tool->opts[n].name)
        n++;
    static const struct option std[] = {CLI_STD_OPTIONS, {0}};
    struct option *all = xmalloc((N_OPTS + n + 3) * sizeof *all);
    memcpy(all, opts, sizeof opts);
    if (n)
        memcpy(all + N_OPTS, tool->opts, n * sizeof *all);
    memcpy(all + N_OPTS + n, std, sizeof std);
    return all;
}

/* A resumed run's recipe: the tool's must be the checkpoint's, or the tool gives none. */
static void resume_recipe(train_options *o, const train_tool *tool, const char *saved)
{
    if (!tool->recipes) {
        if (saved[0])
            die(EX_DATAERR, "%s: trained with the quantization recipe \"%s\"; resume it "
                "with train-quant", o->resume, saved);
        return;
    }
    if (o->h.recipe[0] && strcmp(o->h.recipe, saved) != 0)
        cli_usage_error("the recipe \"%s\" disagrees with \"%s\", the recipe %s was "
                        "trained with", o->h.recipe, saved[0] ? saved : "(none: fp32)",
                        o->resume);
    memcpy(o->h.recipe, saved, sizeof o->h.recipe);
}

void train_options_parse(train_options *o, int argc, char **argv, const train_tool *tool)
{
    memset(o, 0, sizeof *o);
    train_hparams *h = &o->h;
    *h = (train_hparams){
        .batch = 8, .accum = 1, .steps = 100, .lr = 1e-3, .clip = 1.0,
        .adam = {.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1},
        .seed = 1, .eot = TOKENS_NO_EOT, .log_every = 1,
    };
    o->r.fd = -1;
    msgpack_sbuffer_init(&o->tok_bytes);
    const char *arch = NULL, *config = "S", *tokenizer = NULL;
    int sizes[4] = {0}, vocab = 0, threads = 0; /* layers, width, heads, context */
    bool given[O_LAST] = {false};
    char shortopts[64];
    snprintf(shortopts, sizeof shortopts, "B:T:s:j:o:%s", tool->shortopts ? tool->shortopts : "");
    struct option *all = all_options(tool);
    cli_init(argc, argv, tool->usage);
    for (int c; (c = cli_getopt(argc, argv, shortopts, all)) != -1;) {
        given[c < O_LAST ? c : 0] = true;
        switch (c) {
        case O_ARCH: arch = optarg; break;
        case O_CONFIG: config = optarg; break;
        case O_LAYERS: case O_WIDTH: case O_HEADS: case O_CONTEXT:
            sizes[c - O_LAYERS] = (int)cli_u64(opt_name(c), optarg, 1, 1 << 20);
            break;
        case O_VOCAB: vocab = (int)cli_u64("--vocab", optarg, 1, 1 << 24); break;
        case O_TOKENIZER: tokenizer = optarg; break;
        case O_PARAMS: break;
        case 'B': h->batch = (int)cli_u64("--batch", optarg, 1, 1 << 16); break;
        case 'T': h->seq_len = (int)cli_u64("--seq-len", optarg, 1, 1 << 20); break;
        case O_ACCUM: h->accum = (int)cli_u64("--accum", optarg, 1, 1 << 16); break;
        case O_STEPS: h->steps = cli_u64("--steps", optarg, 0, UINT64_MAX); break;
        case O_LR: h->lr = cli_f64("--lr", optarg, 0, 1e3); break;
        case O_MIN_LR: h->min_lr = cli_f64("--min-lr", optarg, 0, 1e3); break;
        case O_WARMUP: h->warmup = cli_u64("--warmup", optarg, 0, UINT64_MAX); break;
        case O_WD: h->adam.weight_decay = cli_f64("--wd", optarg, 0, 1e3); break;
        case O_BETA1: h->adam.beta1 = cli_f64("--beta1", optarg, 0, 0.999999); break;
        case O_BETA2: h->adam.beta2 = cli_f64("--beta2", optarg, 0, 0.999999); break;
        case O_EPS: h->adam.eps = cli_f64("--eps", optarg, 0, 1); break;
        case O_CLIP: h->clip = cli_f64("--clip", optarg, 0, 1e9); break;
        case O_EOT: h->eot = (uint32_t)cli_u64("--eot", optarg, 0, (1 << 24) - 1); break;
        case 's': h->seed = cli_u64("--seed", optarg, 0, UINT64_MAX); break;
        case 'j': threads = threads_parse("--threads", optarg); break;
        case O_LOG_EVERY: h->log_every = cli_u64("--log-every", optarg, 1, UINT64_MAX); break;
        case O_VAL: o->val = optarg; break;
        case O_EVAL_EVERY: h->eval_every = cli_u64("--eval-every", optarg, 0, UINT64_MAX); break;
        case O_EVAL_WINDOWS:
            h->eval_windows = cli_u64("--eval-windows", optarg, 1, UINT64_MAX);
            break;
        case 'o': o->checkpoint = optarg; break;
        case O_CKPT_EVERY:
            h->checkpoint_every = cli_u64("--checkpoint-every", optarg, 0, UINT64_MAX);
            break;
        case O_RESUME: o->resume = optarg; break;
        case O_PROGRESS: break;
        default: tool->option(tool->ctx, c, optarg); break;
        }
    }
    free(all);
    o->input = cli_one_input(argc, argv);
    o->progress = given[O_PROGRESS] || isatty(STDERR_FILENO);
    if (given[O_CKPT_EVERY] && !o->checkpoint)
        cli_usage_error("--checkpoint-every needs --checkpoint FILE");
    if ((given[O_EVAL_EVERY] || given[O_EVAL_WINDOWS]) && !o->val)
        cli_usage_error("--eval-every and --eval-windows need --val FILE");
    if (!given[O_MIN_LR])
        h->min_lr = h->lr / 10;
    if (tool->parsed)
        tool->parsed(tool->ctx, o);
    threads_init(threads);

    if (o->resume) {
        for (size_t i = 0; i < sizeof model_opts / sizeof *model_opts; i++)
            if (given[model_opts[i]])
                cli_usage_error("--%s: a resumed run takes its model from %s",
                                opt_name(model_opts[i]), o->resume);
        ckpt_open(&o->r, o->resume);
        train_hparams saved;
        train_state_read(&o->r, &saved, &o->at);
        resume_recipe(o, tool, saved.recipe);
        /* what the command line gives wins over what the checkpoint saved */
#define KEEP(opt, field) if (!given[opt]) h->field = saved.field
        KEEP('B', batch); KEEP('T', seq_len); KEEP(O_ACCUM, accum); KEEP(O_STEPS, steps);
        KEEP(O_LR, lr); KEEP(O_MIN_LR, min_lr); KEEP(O_WARMUP, warmup);
        KEEP(O_WD, adam.weight_decay); KEEP(O_BETA1, adam.beta1); KEEP(O_BETA2, adam.beta2);
        KEEP(O_EPS, adam.eps); KEEP(O_CLIP, clip); KEEP(O_EOT, eot); KEEP('s', seed);
        KEEP(O_LOG_EVERY, log_every); KEEP(O_EVAL_EVERY, eval_every);
        KEEP(O_EVAL_WINDOWS, eval_windows); KEEP(O_CKPT_EVERY, checkpoint_every);
#undef KEEP
        o->cfg = o->r.cfg;
        o->tok = lm_tokenizer(&o->r);
        if (o->r.tokenizer)
            msgpack_sbuffer_write(&o->tok_bytes, o->r.tokenizer, o->r.tokenizer_len);
    } else {
        if (!arch)
            cli_usage_error("--arch gpt or --arch hawk is needed (or --resume)");
        if (!model_config_named(&o->cfg, arch, config))
            cli_usage_error("--config: unknown configuration \"%s\"", config);
        int *fields[] = {&o->cfg.layers, &o->cfg.width, &o->cfg.heads, &o->cfg.context};
        for (int i = 0; i < 4; i++)
            if (sizes[i])
                *fields[i] = sizes[i];
        if (tokenizer) {
            o->tok = tok_load(tokenizer);
            msgpack_packer pk;
            msgpack_packer_init(&pk, &o->tok_bytes, msgpack_sbuffer_write);
            tok_pack(o->tok, &pk);
            o->cfg.vocab = (int)o->tok->n_vocab;
            if (vocab && vocab < o->cfg.vocab)
                cli_usage_error("--vocab %d is smaller than the tokenizer's %d tokens", vocab,
                                o->cfg.vocab);
        }
        if (vocab)
            o->cfg.vocab = vocab;
        const char *why = model_config_finish(&o->cfg);
        if (why)
            cli_usage_error("%s", why);
        if (o->tok && !given[O_EOT])
            h->eot = lm_eot(o->tok);
    }
    if (!h->seq_len)
        h->seq_len = o->cfg.context;
    if (h->seq_len > o->cfg.context)
        cli_usage_error("-T %d is longer than the model's context %d", h->seq_len,
                        o->cfg.context);
    if (h->eot != TOKENS_NO_EOT && h->eot >= (uint32_t)o->cfg.vocab)
        cli_usage_error("--eot %u is outside the vocabulary (%d)", h->eot, o->cfg.vocab);
    if (given[O_PARAMS]) {
        printf("%zu\n", model_param_count(&o->cfg));
        exit(0);
    }
}

void train_options_model(train_options *o) { o->m = model_new(&o->cfg); }

void train_options_start(train_options *o, trainer *t, train_loss loss)
{
    if (!o->m)
        train_options_model(o);
    token_stream_load(&o->data, o->input, (uint32_t)o->cfg.vocab, o->h.eot);
    if (o->val)
        token_stream_load(&o->valdata, o->val, (uint32_t)o->cfg.vocab, o->h.eot);
    trainer_init(t, o->m, &o->h, loss, &o->data);
    if (o->resume) {
        trainer_resume(t, &o->r, &o->at);
        ckpt_close(&o->r);
    } else {
        model_init(o->m, o->h.seed);
    }
    t->val = o->val ? &o->valdata : NULL;
    t->checkpoint = o->checkpoint;
    t->tokenizer = o->tok_bytes.size ? o->tok_bytes.data : NULL;
    t->tokenizer_len = o->tok_bytes.size;
    t->metrics = rec_create("-", false);
    t->progress = o->progress;
}

void train_options_finish(train_options *o, trainer *t)
{
    rec_finish(t->metrics);
    trainer_free(t);
    token_stream_free(&o->data);
    if (o->val)
        token_stream_free(&o->valdata);
    msgpack_sbuffer_destroy(&o->tok_bytes);
    if (o->tok)
        tok_free(o->tok);
    model_free(o->m);
}
