/* The fine-tuning tools' shared command line and setup. */
#include "train/tune.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/threads.h"
#include "model/ckpt.h"
#include "train/lm.h"

enum {
    O_BASE = HPARAMS_CLI_END, O_FULL, O_LORA, O_QLORA, O_TARGETS, O_RANK, O_ALPHA, O_DROPOUT,
    O_ADAPTER, O_MERGED
};

/* the method's options beside the shared training options (train/hparams_cli.h) */
static const struct option opts[] = {
    {"base", required_argument, NULL, O_BASE},
    {"full", no_argument, NULL, O_FULL},
    {"lora", no_argument, NULL, O_LORA},
    {"qlora", no_argument, NULL, O_QLORA},
    {"targets", required_argument, NULL, O_TARGETS},
    {"rank", required_argument, NULL, O_RANK},
    {"alpha", required_argument, NULL, O_ALPHA},
    {"dropout", required_argument, NULL, O_DROPOUT},
    {"adapter", required_argument, NULL, O_ADAPTER},
    {"merged", required_argument, NULL, O_MERGED},
    {0},
};

void tune_parse(tune_options *o, int argc, char **argv, const tune_tool *tool)
{
    memset(o, 0, sizeof *o);
    train_hparams *h = &o->h;
    hparams_cli c;
    hparams_cli_init(&c, h);
    h->adam.weight_decay = 0; /* fine-tuning's defaults: no decay, the tool's -B */
    if (tool->batch)
        h->batch = tool->batch;
    o->method = TUNE_LORA;
    o->lora = (lora_config){.rank = 8, .alpha = 16, .dropout = 0.05, .targets = LORA_ALL};
    int methods = 0;
    struct option *all = hparams_cli_longopts(opts, tool->opts);
    cli_init(argc, argv, tool->usage);
    for (int code; (code = cli_getopt(argc, argv, HPARAMS_CLI_SHORTOPTS, all)) != -1;) {
        if (hparams_cli_option(&c, code, optarg))
            continue;
        switch (code) {
        case O_BASE: o->base = optarg; break;
        case O_FULL: case O_LORA: case O_QLORA:
            o->method = code == O_FULL ? TUNE_FULL : code == O_LORA ? TUNE_LORA : TUNE_QLORA;
            methods++;
            break;
        case O_TARGETS:
            if (!(o->lora.targets = lora_targets_parse(optarg)))
                cli_usage_error("--targets: expected attn, mlp or all, not \"%s\"", optarg);
            break;
        case O_RANK: o->lora.rank = (int)cli_u64("--rank", optarg, 1, 1 << 16); break;
        case O_ALPHA: o->lora.alpha = cli_f64("--alpha", optarg, 1e-6, 1e6); break;
        case O_DROPOUT: o->lora.dropout = cli_f64("--dropout", optarg, 0, 0.99); break;
        case O_ADAPTER: o->adapter = optarg; break;
        case O_MERGED: o->merged = optarg; break;
        default: tool->option(tool->ctx, code, optarg); break;
        }
    }
    free(all);
    o->input = cli_one_input(argc, argv);
    if (!o->base)
        cli_usage_error("--base CKPT, the model to fine-tune, is needed");
    if (methods > 1)
        cli_usage_error("--full, --lora and --qlora: give one");
    bool adapters = o->method != TUNE_FULL;
    if (!adapters && (c.given[O_TARGETS] || c.given[O_RANK] || c.given[O_ALPHA] ||
                      c.given[O_DROPOUT] || c.given[O_ADAPTER] || c.given[O_MERGED]))
        cli_usage_error("--targets, --rank, --alpha, --dropout, --adapter and --merged are "
                        "for --lora and --qlora");
    if (o->adapter && (c.given[O_TARGETS] || c.given[O_RANK] || c.given[O_ALPHA] ||
                       c.given[O_DROPOUT] || c.given[O_QLORA]))
        cli_usage_error("--adapter %s brings its own settings: no --targets, --rank, "
                        "--alpha, --dropout or --qlora", o->adapter);
    hparams_cli_finish(&c, "--checkpoint-every needs -o FILE",
                       "--eval-every needs --val FILE");
    o->val = c.val;
    o->out = c.checkpoint;
    o->progress = c.progress;
    threads_init(c.threads);
}

void tune_load(tune_run *run, const tune_options *o)
{
    memset(run, 0, sizeof *run);
    run->o = o;
    msgpack_sbuffer_init(&run->tok_bytes);
    ckpt_reader r = {.fd = -1};
    run->m = ckpt_load(&r, o->base);
    run->tok = lm_tokenizer(&r);
    if (r.tokenizer)
        msgpack_sbuffer_write(&run->tok_bytes, r.tokenizer, r.tokenizer_len);
    ckpt_close(&r);
    run->fmt = (seq_format){
        .tok = run->tok,
        .vocab = (uint32_t)model_cfg(run->m)->vocab,
        .eot = run->tok ? lm_eot(run->tok) : TOKENS_NO_EOT,
        .context = model_max_len(run->m),
    };
    if (o->adapter) {
        run->ad = adapter_load(run->m, o->adapter);
        lora_seed_dropout(run->ad->lora, o->h.seed);
    } else if (o->method != TUNE_FULL) {
        run->ad = adapter_new(run->m, &(adapter_config){.lora = o->lora,
                                                        .nf4 = o->method == TUNE_QLORA});
        lora_init(run->ad->lora, o->h.seed);
    }
}

uint64_t tune_fit(tune_run *run, tune_options *o, seq_source *const *sources, int n)
{
    int context = model_max_len(run->m), T = o->h.seq_len;
    if (T && context && T > context)
        cli_usage_error("-T %d is longer than the model's context %d", T, context);
    if (!T) {
        size_t longest = 0;
        for (int i = 0; i < n; i++)
            if (sources[i]->longest > longest)
                longest = sources[i]->longest;
        T = (int)longest - 1;
        if (context && T > context)
            T = context;
    }
    uint64_t truncated = 0;
    for (int i = 0; i < n; i++) {
        seq_source_fit(sources[i], T);
        truncated += sources[i]->truncated;
    }
    o->h.seq_len = T;
    return truncated;
}

/* ---- the hooks ---- */

static void mode(void *ctx, bool training)
{
    tune_run *run = ctx;
    if (run->ad)
        lora_set_training(run->ad->lora, training);
}

/* The model alone, with its tokenizer: a base for sample, score or another run. */
static void write_model(tune_run *run, const char *path)
{
    ckpt_write(path, &(ckpt_contents){
                         .cfg = model_cfg(run->m),
                         .params = model_params(run->m),
                         .tokenizer = run->tok_bytes.size ? run->tok_bytes.data : NULL,
                         .tokenizer_len = run->tok_bytes.size,
                     });
}

static void save(void *ctx, const char *path)
{
    tune_run *run = ctx;
    if (run->ad)
        adapter_write(run->ad, path);
    else
        write_model(run, path);
}

/* ---- the run ---- */

static const char *method_name(tune_method m)
{
    return m == TUNE_FULL ? "full" : m == TUNE_LORA ? "lora" : "qlora";
}

static void setup_record(tune_run *run, uint64_t truncated)
{
    rec_writer *w = run->t.metrics;
    adapter *ad = run->ad;
    rec_begin(w);
    rec_put_cstr(w, "event", "setup");
    rec_put_cstr(w, "method", ad ? (ad->cfg.nf4 ? "qlora" : "lora") : method_name(TUNE_FULL));
    rec_put_cstr(w, "base", run->o->base);
    char hash[17];
    snprintf(hash, sizeof hash, "%016" PRIx64, ad ? ad->base_hash : adapter_base_hash(run->m));
    rec_put_cstr(w, "base_hash", hash);
    if (ad) {
        const lora_config *c = &ad->lora->cfg;
        rec_put_cstr(w, "targets", lora_targets_name(c->targets));
        rec_put_i64(w, "rank", c->rank);
        rec_put_f64(w, "alpha", c->alpha);
        rec_put_f64(w, "dropout", c->dropout);
        rec_put_i64(w, "adapted_layers", ad->lora->n);
        rec_put_u64(w, "adapter_params", param_count(&ad->lora->params));
    }
    if (ad && ad->cfg.nf4) {
        size_t nf4, fp32;
        adapter_base_bytes(ad, &nf4, &fp32);
        rec_put_u64(w, "base_bytes", nf4);
        rec_put_u64(w, "base_fp32_bytes", fp32);
        rec_put_f64(w, "base_bits", 32.0 * (double)nf4 / (double)fp32);
    }
    rec_put_u64(w, "truncated", truncated);
    rec_end(w);
}

void tune_start(tune_run *run, tune_options *o, train_loss loss, train_stats stats,
                batch_source *train, batch_source *val, uint64_t truncated)
{
    trainer *t = &run->t;
    o->h.eot = run->fmt.eot;
    trainer_init(t, run->m, &o->h, loss, NULL);
    t->stats = stats;
    t->batches = train;
    t->val_batches = val;
    if (run->ad)
        trainer_learn(t, &run->ad->lora->params);
    t->hooks = (train_hooks){.ctx = run, .mode = mode, .save = save};
    t->checkpoint = o->out;
    t->metrics = rec_create("-", false);
    t->progress = o->progress;
    setup_record(run, truncated);
}

void tune_finish(tune_run *run)
{
    if (run->o->merged) {
        adapter_merge(run->ad);
        write_model(run, run->o->merged);
    }
    rec_finish(run->t.metrics);
    trainer_free(&run->t);
    adapter_free(run->ad);
    model_free(run->m);
    if (run->tok)
        tok_free(run->tok);
    msgpack_sbuffer_destroy(&run->tok_bytes);
}
