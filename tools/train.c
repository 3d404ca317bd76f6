/* train: train a gpt or hawk language model on token records. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/threads.h"
#include "model/ckpt.h"
#include "model/model.h"
#include "rec/rec.h"
#include "tok/bpe.h"
#include "train/data.h"
#include "train/lm.h"
#include "train/train.h"

static const char usage[] =
    "usage: train --arch gpt|hawk [--config NAME] [--layers N] [--width N] [--heads N]\n"
    "             [--context N] [--vocab N] [--tokenizer FILE] [-B N] [-T N] [--steps N]\n"
    "             [--lr X] [--min-lr X] [--warmup N] [--wd X] [--clip X] [--accum N]\n"
    "             [--eot ID] [--val FILE] [--eval-every N] [--eval-windows N] [--seed S]\n"
    "             [-j N] [--checkpoint FILE] [--checkpoint-every N] [--progress] [FILE]\n"
    "       train --resume CKPT [--steps N] [...] [FILE]\n"
    "       train --arch gpt|hawk [model options] --params\n"
    "Train a language model on the `tokens` of the records in FILE (default stdin);\n"
    "metric records (config, step, eval, done) go to stdout.\n"
    "\n"
    "model (a new run):\n"
    "  --arch A             gpt or hawk\n"
    "  --config NAME        sizes to start from: S (default), M, gpt2, gpt2-medium ...\n"
    "  --layers, --width, --heads, --context N    override the configuration's\n"
    "  --vocab N            vocabulary (default: the tokenizer's, else the configuration's)\n"
    "  --tokenizer FILE     BPE model (tokenize learn); embedded in the checkpoint\n"
    "  --params             print the number of parameters and exit\n"
    "training:\n"
    "  -B, --batch N        sequences per micro-batch (default 8)\n"
    "  -T, --seq-len N      tokens per sequence (default: the context)\n"
    "  --accum N            micro-batches per step (default 1)\n"
    "  --steps N            optimizer steps (default 100)\n"
    "  --lr X               peak learning rate (default 1e-3)\n"
    "  --min-lr X           learning rate at the last step (default lr / 10)\n"
    "  --warmup N           steps of linear warmup (default 0)\n"
    "  --wd X               AdamW weight decay of the matrices (default 0.1)\n"
    "  --beta1 X, --beta2 X, --eps X    AdamW (default 0.9, 0.95, 1e-8)\n"
    "  --clip X             clip the gradient norm to X; 0: never (default 1)\n"
    "  --eot ID             token between documents (default the tokenizer's <|endoftext|>)\n"
    "  -s, --seed S         seed of the initial weights (default 1)\n"
    "  -j, --threads N      threads (default RUNNEL_THREADS, else all cores)\n"
    "reporting and checkpoints:\n"
    "  --log-every N        a step record every N steps (default 1)\n"
    "  --val FILE           validation token records\n"
    "  --eval-every N       evaluate every N steps (default: at the end only)\n"
    "  --eval-windows N     validation windows of T+1 tokens (default: all of FILE)\n"
    "  -o, --checkpoint F   write the model and training state to F (atomically)\n"
    "  --checkpoint-every N also every N steps (default: at the end only)\n"
    "  --resume CKPT        continue the run saved in CKPT; flags given override its\n"
    "                       training settings\n"
    "  --progress           a progress line on stderr even when it is not a terminal\n"
    "  -h, --help           this text; --version the version\n";

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
    CLI_STD_OPTIONS,
    {0},
};

/* The options that shape a new model, which a resumed run takes from its checkpoint. */
static const int model_opts[] = {O_ARCH, O_CONFIG, O_LAYERS, O_WIDTH, O_HEADS, O_CONTEXT,
                                 O_VOCAB, O_TOKENIZER, O_PARAMS};

static const char *opt_name(int code)
{
    for (const struct option *o = opts; o->name; o++)
        if (o->val == code)
            return o->name;
    return "?";
}

int main(int argc, char **argv)
{
    train_hparams h = {
        .batch = 8, .accum = 1, .steps = 100, .lr = 1e-3, .clip = 1.0,
        .adam = {.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1},
        .seed = 1, .eot = TOKENS_NO_EOT, .log_every = 1,
    };
    model_config cfg = {0};
    const char *arch = NULL, *config = "S", *tokenizer = NULL, *val = NULL,
               *checkpoint = NULL, *resume = NULL;
    int sizes[4] = {0}, vocab = 0, threads = 0; /* layers, width, heads, context */
    bool given[O_LAST] = {false};
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "B:T:s:j:o:", opts)) != -1;) {
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
        case 'B': h.batch = (int)cli_u64("--batch", optarg, 1, 1 << 16); break;
        case 'T': h.seq_len = (int)cli_u64("--seq-len", optarg, 1, 1 << 20); break;
        case O_ACCUM: h.accum = (int)cli_u64("--accum", optarg, 1, 1 << 16); break;
        case O_STEPS: h.steps = cli_u64("--steps", optarg, 0, UINT64_MAX); break;
        case O_LR: h.lr = cli_f64("--lr", optarg, 0, 1e3); break;
        case O_MIN_LR: h.min_lr = cli_f64("--min-lr", optarg, 0, 1e3); break;
        case O_WARMUP: h.warmup = cli_u64("--warmup", optarg, 0, UINT64_MAX); break;
        case O_WD: h.adam.weight_decay = cli_f64("--wd", optarg, 0, 1e3); break;
        case O_BETA1: h.adam.beta1 = cli_f64("--beta1", optarg, 0, 0.999999); break;
        case O_BETA2: h.adam.beta2 = cli_f64("--beta2", optarg, 0, 0.999999); break;
        case O_EPS: h.adam.eps = cli_f64("--eps", optarg, 0, 1); break;
        case O_CLIP: h.clip = cli_f64("--clip", optarg, 0, 1e9); break;
        case O_EOT: h.eot = (uint32_t)cli_u64("--eot", optarg, 0, (1 << 24) - 1); break;
        case 's': h.seed = cli_u64("--seed", optarg, 0, UINT64_MAX); break;
        case 'j': threads = threads_parse("--threads", optarg); break;
        case O_LOG_EVERY: h.log_every = cli_u64("--log-every", optarg, 1, UINT64_MAX); break;
        case O_VAL: val = optarg; break;
        case O_EVAL_EVERY: h.eval_every = cli_u64("--eval-every", optarg, 0, UINT64_MAX); break;
        case O_EVAL_WINDOWS:
            h.eval_windows = cli_u64("--eval-windows", optarg, 1, UINT64_MAX);
            break;
        case 'o': checkpoint = optarg; break;
        case O_CKPT_EVERY:
            h.checkpoint_every = cli_u64("--checkpoint-every", optarg, 0, UINT64_MAX);
            break;
        case O_RESUME: resume = optarg; break;
        case O_PROGRESS: break;
        }
    }
    const char *input = cli_one_input(argc, argv);
    if (given[O_CKPT_EVERY] && !checkpoint)
        cli_usage_error("--checkpoint-every needs --checkpoint FILE");
    if ((given[O_EVAL_EVERY] || given[O_EVAL_WINDOWS]) && !val)
        cli_usage_error("--eval-every and --eval-windows need --val FILE");
    if (!given[O_MIN_LR])
        h.min_lr = h.lr / 10;
    threads_init(threads);

    ckpt_reader r = {.fd = -1};
    bpe_t *tok = NULL;
    msgpack_sbuffer tok_bytes;
    msgpack_sbuffer_init(&tok_bytes);
    train_progress progress = {0};
    if (resume) {
        for (size_t i = 0; i < sizeof model_opts / sizeof *model_opts; i++)
            if (given[model_opts[i]])
                cli_usage_error("--%s: a resumed run takes its model from %s",
                                opt_name(model_opts[i]), resume);
        ckpt_open(&r, resume);
        train_hparams saved;
        train_state_read(&r, &saved, &progress);
        /* what the command line gives wins over what the checkpoint saved */
#define KEEP(opt, field) if (!given[opt]) h.field = saved.field
        KEEP('B', batch); KEEP('T', seq_len); KEEP(O_ACCUM, accum); KEEP(O_STEPS, steps);
        KEEP(O_LR, lr); KEEP(O_MIN_LR, min_lr); KEEP(O_WARMUP, warmup);
        KEEP(O_WD, adam.weight_decay); KEEP(O_BETA1, adam.beta1); KEEP(O_BETA2, adam.beta2);
        KEEP(O_EPS, adam.eps); KEEP(O_CLIP, clip); KEEP(O_EOT, eot); KEEP('s', seed);
        KEEP(O_LOG_EVERY, log_every); KEEP(O_EVAL_EVERY, eval_every);
        KEEP(O_EVAL_WINDOWS, eval_windows); KEEP(O_CKPT_EVERY, checkpoint_every);
#undef KEEP
        cfg = r.cfg;
        tok = lm_tokenizer(&r);
        if (r.tokenizer)
            msgpack_sbuffer_write(&tok_bytes, r.tokenizer, r.tokenizer_len);
    } else {
        if (!arch)
            cli_usage_error("--arch gpt or --arch hawk is needed (or --resume)");
        if (!model_config_named(&cfg, arch, config))
            cli_usage_error("--config: unknown configuration \"%s\"", config);
        int *fields[] = {&cfg.layers, &cfg.width, &cfg.heads, &cfg.context};
        for (int i = 0; i < 4; i++)
            if (sizes[i])
                *fields[i] = sizes[i];
        if (tokenizer) {
            tok = tok_load(tokenizer);
            msgpack_packer pk;
            msgpack_packer_init(&pk, &tok_bytes, msgpack_sbuffer_write);
            tok_pack(tok, &pk);
            cfg.vocab = (int)tok->n_vocab;
            if (vocab && vocab < cfg.vocab)
                cli_usage_error("--vocab %d is smaller than the tokenizer's %d tokens", vocab,
                                cfg.vocab);
        }
        if (vocab)
            cfg.vocab = vocab;
        const char *why = model_config_finish(&cfg);
        if (why)
            cli_usage_error("%s", why);
        if (tok && !given[O_EOT])
            h.eot = lm_eot(tok);
    }
    if (!h.seq_len)
        h.seq_len = cfg.context;
    if (h.seq_len > cfg.context)
        cli_usage_error("-T %d is longer than the model's context %d", h.seq_len, cfg.context);
    if (h.eot != TOKENS_NO_EOT && h.eot >= (uint32_t)cfg.vocab)
        cli_usage_error("--eot %u is outside the vocabulary (%d)", h.eot, cfg.vocab);

    if (given[O_PARAMS]) {
        printf("%zu\n", model_param_count(&cfg));
        return 0;
    }
    model *m = model_new(&cfg);
    token_stream data, valdata;
    token_stream_load(&data, input, (uint32_t)cfg.vocab, h.eot);
    if (val)
        token_stream_load(&valdata, val, (uint32_t)cfg.vocab, h.eot);

    trainer t;
    trainer_init(&t, m, &h, (train_loss){"xent", train_xent, NULL}, &data);
    if (resume) {
        trainer_resume(&t, &r, &progress);
        ckpt_close(&r);
    } else {
        model_init(m, h.seed);
    }
    t.val = val ? &valdata : NULL;
    t.checkpoint = checkpoint;
    t.tokenizer = tok_bytes.size ? tok_bytes.data : NULL;
    t.tokenizer_len = tok_bytes.size;
    t.metrics = rec_create("-", false);
    t.progress = given[O_PROGRESS] || isatty(STDERR_FILENO);
    train_run(&t);
    rec_finish(t.metrics);

    trainer_free(&t);
    token_stream_free(&data);
    if (val)
        token_stream_free(&valdata);
    msgpack_sbuffer_destroy(&tok_bytes);
    if (tok)
        tok_free(tok);
    model_free(m);
    return 0;
}
