/* The trainers' shared command line and setup. */
#include "train/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/threads.h"
#include "train/lm.h"

enum {
    O_ARCH = HPARAMS_CLI_END, O_CONFIG, O_LAYERS, O_WIDTH, O_HEADS, O_CONTEXT, O_VOCAB,
    O_TOKENIZER, O_PARAMS, O_EOT, O_EVAL_WINDOWS, O_RESUME, O_INIT
};

/* train's options beside the shared training options (train/hparams_cli.h) */
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
    {"eot", required_argument, NULL, O_EOT},
    {"eval-windows", required_argument, NULL, O_EVAL_WINDOWS},
    {"resume", required_argument, NULL, O_RESUME},
    {"init", required_argument, NULL, O_INIT},
    {0},
};

/* The options that shape a new model, which a run from --resume or --init takes from its
 * checkpoint. */
static const int model_opts[] = {O_ARCH, O_CONFIG, O_LAYERS, O_WIDTH, O_HEADS, O_CONTEXT,
                                 O_VOCAB, O_TOKENIZER, O_PARAMS};

static const char *opt_name(int code)
{
    for (const struct option *p = opts; p->name; p++)
        if (p->val == code)
            return p->name;
    return "?";
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
    hparams_cli c;
    hparams_cli_init(&c, h);
    o->r.fd = -1;
    msgpack_sbuffer_init(&o->tok_bytes);
    const char *arch = NULL, *config = "S", *tokenizer = NULL;
    int sizes[4] = {0}, vocab = 0; /* layers, width, heads, context */
    char shortopts[64];
    snprintf(shortopts, sizeof shortopts, HPARAMS_CLI_SHORTOPTS "%s",
             tool->shortopts ? tool->shortopts : "");
    struct option *all = hparams_cli_longopts(opts, tool->opts);
    cli_init(argc, argv, tool->usage);
    for (int code; (code = cli_getopt(argc, argv, shortopts, all)) != -1;) {
        if (hparams_cli_option(&c, code, optarg))
            continue;
        switch (code) {
        case O_ARCH: arch = optarg; break;
        case O_CONFIG: config = optarg; break;
        case O_LAYERS: case O_WIDTH: case O_HEADS: case O_CONTEXT:
            sizes[code - O_LAYERS] = (int)cli_u64(opt_name(code), optarg, 1, 1 << 20);
            break;
        case O_VOCAB: vocab = (int)cli_u64("--vocab", optarg, 1, 1 << 24); break;
        case O_TOKENIZER: tokenizer = optarg; break;
        case O_PARAMS: break;
        case O_EOT: h->eot = (uint32_t)cli_u64("--eot", optarg, 0, (1 << 24) - 1); break;
        case O_EVAL_WINDOWS:
            h->eval_windows = cli_u64("--eval-windows", optarg, 1, UINT64_MAX);
            break;
        case O_RESUME: o->resume = optarg; break;
        case O_INIT: o->init = optarg; break;
        default: tool->option(tool->ctx, code, optarg); break;
        }
    }
    free(all);
    o->input = cli_one_input(argc, argv);
    hparams_cli_finish(&c, "--checkpoint-every needs --checkpoint FILE",
                       "--eval-every and --eval-windows need --val FILE");
    o->val = c.val;
    o->checkpoint = c.checkpoint;
    o->progress = c.progress;
    if (tool->parsed)
        tool->parsed(tool->ctx, o);
    threads_init(c.threads);

    if (o->resume && o->init)
        cli_usage_error("--resume and --init: give one");
    const char *from = o->resume ? o->resume : o->init;
    for (size_t i = 0; from && i < sizeof model_opts / sizeof *model_opts; i++)
        if (c.given[model_opts[i]])
            cli_usage_error("--%s: a run from --%s takes its model from %s",
                            opt_name(model_opts[i]), o->resume ? "resume" : "init", from);
    if (o->init) {
        ckpt_open(&o->r, o->init);
        o->cfg = o->r.cfg;
        o->tok = lm_tokenizer(&o->r);
        if (o->r.tokenizer)
            msgpack_sbuffer_write(&o->tok_bytes, o->r.tokenizer, o->r.tokenizer_len);
        if (o->tok && !c.given[O_EOT])
            h->eot = lm_eot(o->tok);
    } else if (o->resume) {
        ckpt_open(&o->r, o->resume);
        train_hparams saved;
        train_state_read(&o->r, &saved, &o->at);
        resume_recipe(o, tool, saved.recipe);
        /* what the command line gives wins over what the checkpoint saved */
#define KEEP(opt, field) if (!c.given[opt]) h->field = saved.field
        KEEP('B', batch); KEEP('T', seq_len); KEEP(HPARAMS_CLI_ACCUM, accum);
        KEEP(HPARAMS_CLI_STEPS, steps); KEEP(HPARAMS_CLI_LR, lr);
        KEEP(HPARAMS_CLI_MIN_LR, min_lr); KEEP(HPARAMS_CLI_WARMUP, warmup);
        KEEP(HPARAMS_CLI_WD, adam.weight_decay); KEEP(HPARAMS_CLI_BETA1, adam.beta1);
        KEEP(HPARAMS_CLI_BETA2, adam.beta2); KEEP(HPARAMS_CLI_EPS, adam.eps);
        KEEP(HPARAMS_CLI_CLIP, clip); KEEP(O_EOT, eot); KEEP('s', seed);
        KEEP(HPARAMS_CLI_LOG_EVERY, log_every); KEEP(HPARAMS_CLI_EVAL_EVERY, eval_every);
        KEEP(O_EVAL_WINDOWS, eval_windows); KEEP(HPARAMS_CLI_CKPT_EVERY, checkpoint_every);
#undef KEEP
        o->cfg = o->r.cfg;
        o->tok = lm_tokenizer(&o->r);
        if (o->r.tokenizer)
            msgpack_sbuffer_write(&o->tok_bytes, o->r.tokenizer, o->r.tokenizer_len);
    } else {
        if (!arch)
            cli_usage_error("--arch gpt or --arch hawk is needed (or --resume, --init)");
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
        if (o->tok && !c.given[O_EOT])
            h->eot = lm_eot(o->tok);
    }
    if (!h->seq_len)
        h->seq_len = o->cfg.context;
    if (h->seq_len > o->cfg.context)
        cli_usage_error("-T %d is longer than the model's context %d", h->seq_len,
                        o->cfg.context);
    if (h->eot != TOKENS_NO_EOT && h->eot >= (uint32_t)o->cfg.vocab)
        cli_usage_error("--eot %u is outside the vocabulary (%d)", h->eot, o->cfg.vocab);
    if (c.given[O_PARAMS]) {
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
    } else if (o->init) { /* the weights only: a new run with its own optimizer */
        ckpt_read(&o->r, model_params(o->m), NULL, NULL);
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
