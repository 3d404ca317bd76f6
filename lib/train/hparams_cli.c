/* The trainer tools' shared training options. */
#include "train/hparams_cli.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/threads.h"

static const struct option shared[] = {
    {"batch", required_argument, NULL, 'B'},
    {"seq-len", required_argument, NULL, 'T'},
    {"accum", required_argument, NULL, HPARAMS_CLI_ACCUM},
    {"steps", required_argument, NULL, HPARAMS_CLI_STEPS},
    {"lr", required_argument, NULL, HPARAMS_CLI_LR},
    {"min-lr", required_argument, NULL, HPARAMS_CLI_MIN_LR},
    {"warmup", required_argument, NULL, HPARAMS_CLI_WARMUP},
    {"wd", required_argument, NULL, HPARAMS_CLI_WD},
    {"beta1", required_argument, NULL, HPARAMS_CLI_BETA1},
    {"beta2", required_argument, NULL, HPARAMS_CLI_BETA2},
    {"eps", required_argument, NULL, HPARAMS_CLI_EPS},
    {"clip", required_argument, NULL, HPARAMS_CLI_CLIP},
    {"seed", required_argument, NULL, 's'},
    {"threads", required_argument, NULL, 'j'},
    {"log-every", required_argument, NULL, HPARAMS_CLI_LOG_EVERY},
    {"val", required_argument, NULL, HPARAMS_CLI_VAL},
    {"eval-every", required_argument, NULL, HPARAMS_CLI_EVAL_EVERY},
    {"checkpoint", required_argument, NULL, 'o'},
    {"checkpoint-every", required_argument, NULL, HPARAMS_CLI_CKPT_EVERY},
    {"progress", no_argument, NULL, HPARAMS_CLI_PROGRESS},
};
enum { N_SHARED = sizeof shared / sizeof *shared };

void hparams_cli_init(hparams_cli *c, train_hparams *h)
{
    memset(c, 0, sizeof *c);
    c->h = h;
    *h = (train_hparams){
        .batch = 8, .accum = 1, .steps = 100, .lr = 1e-3, .clip = 1.0,
        .adam = {.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1},
        .seed = 1, .eot = TOKENS_NO_EOT, .log_every = 1,
    };
}

static size_t count(const struct option *o)
{
    size_t n = 0;
    while (o && o[n].name)
        n++;
    return n;
}

struct option *hparams_cli_longopts(const struct option *own, const struct option *tool)
{
    static const struct option std[] = {CLI_STD_OPTIONS, {0}};
    size_t n_own = count(own), n_tool = count(tool);
    struct option *all = xmalloc((N_SHARED + n_own + n_tool) * sizeof *all + sizeof std);
    memcpy(all, shared, sizeof shared);
    if (n_own)
        memcpy(all + N_SHARED, own, n_own * sizeof *all);
    if (n_tool)
        memcpy(all + N_SHARED + n_own, tool, n_tool * sizeof *all);
    memcpy(all + N_SHARED + n_own + n_tool, std, sizeof std);
    return all;
}

bool hparams_cli_option(hparams_cli *c, int code, const char *arg)
{
    train_hparams *h = c->h;
    if (code >= 0 && code < HPARAMS_CLI_TOOL)
        c->given[code] = true;
    switch (code) {
    case 'B': h->batch = (int)cli_u64("--batch", arg, 1, 1 << 16); break;
    case 'T': h->seq_len = (int)cli_u64("--seq-len", arg, 1, 1 << 20); break;
    case HPARAMS_CLI_ACCUM: h->accum = (int)cli_u64("--accum", arg, 1, 1 << 16); break;
    case HPARAMS_CLI_STEPS: h->steps = cli_u64("--steps", arg, 0, UINT64_MAX); break;
    case HPARAMS_CLI_LR: h->lr = cli_f64("--lr", arg, 0, 1e3); break;
    case HPARAMS_CLI_MIN_LR: h->min_lr = cli_f64("--min-lr", arg, 0, 1e3); break;
    case HPARAMS_CLI_WARMUP: h->warmup = cli_u64("--warmup", arg, 0, UINT64_MAX); break;
    case HPARAMS_CLI_WD: h->adam.weight_decay = cli_f64("--wd", arg, 0, 1e3); break;
    case HPARAMS_CLI_BETA1: h->adam.beta1 = cli_f64("--beta1", arg, 0, 0.999999); break;
    case HPARAMS_CLI_BETA2: h->adam.beta2 = cli_f64("--beta2", arg, 0, 0.999999); break;
    case HPARAMS_CLI_EPS: h->adam.eps = cli_f64("--eps", arg, 0, 1); break;
    case HPARAMS_CLI_CLIP: h->clip = cli_f64("--clip", arg, 0, 1e9); break;
    case 's': h->seed = cli_u64("--seed", arg, 0, UINT64_MAX); break;
    case 'j': c->threads = threads_parse("--threads", arg); break;
    case HPARAMS_CLI_LOG_EVERY:
        h->log_every = cli_u64("--log-every", arg, 1, UINT64_MAX);
        break;
    case HPARAMS_CLI_VAL: c->val = arg; break;
    case HPARAMS_CLI_EVAL_EVERY:
        h->eval_every = cli_u64("--eval-every", arg, 0, UINT64_MAX);
        break;
    case 'o': c->checkpoint = arg; break;
    case HPARAMS_CLI_CKPT_EVERY:
        h->checkpoint_every = cli_u64("--checkpoint-every", arg, 0, UINT64_MAX);
        break;
    case HPARAMS_CLI_PROGRESS: break;
    default: return false;
    }
    return true;
}

void hparams_cli_finish(hparams_cli *c, const char *no_out, const char *no_val)
{
    c->progress = c->given[HPARAMS_CLI_PROGRESS] || isatty(STDERR_FILENO);
    if (c->given[HPARAMS_CLI_CKPT_EVERY] && !c->checkpoint)
        cli_usage_error("%s", no_out);
    if ((c->given[HPARAMS_CLI_EVAL_EVERY] || c->h->eval_windows) && !c->val)
        cli_usage_error("%s", no_val);
    if (!c->given[HPARAMS_CLI_MIN_LR])
        c->h->min_lr = c->h->lr / 10;
}
