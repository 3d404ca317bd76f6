/* train-quant: train a language model with quantized linear layers and optimizer states. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/input.h"
#include "model/model.h"
#include "quant/qlinear.h"
#include "quant/recipe.h"
#include "train/options.h"
#include "train/train.h"

static const char usage[] =
    "usage: train-quant [--w SPEC] [--a SPEC] [--g SPEC] [--gx SPEC] [--m SPEC] [--v SPEC]\n"
    "                   [--recipe FILE] --arch gpt|hawk [train options] [FILE]\n"
    "       train-quant --resume CKPT [recipe] [train options] [FILE]\n"
    "       train-quant --init CKPT [recipe] [train options] [FILE]\n"
    "Train a language model as train(1) does, with the quantization recipe given:\n"
    "  Y = Q_a(X) Q_w(W) + b,  dW = Q_a(X)^T Q_g(G),  dX = Q_gx(G) Q_w(W)^T,\n"
    "and AdamW's moments stored in low bits.  SPEC is BITS[:GRANULARITY][:asym]\n"
    "[:stochastic], GRANULARITY per-tensor (default), per-row (per-token, per-channel),\n"
    "per-column or per-group-G, e.g. --w 8:per-row --a 8:per-token.\n"
    "\n"
    "quantization:\n"
    "  --w SPEC             weights of the linear layers (per-row: per output channel)\n"
    "  --a SPEC             their input activations (per-row: per token)\n"
    "  --g SPEC             the output gradient in the weight gradient\n"
    "  --gx SPEC            the output gradient in the input gradient\n"
    "  --m SPEC, --v SPEC   store AdamW's first and second moments in 4 or 8 bits\n"
    "  --recipe FILE        terms KEY SPEC (or KEY=SPEC), one per line; # comments\n"
    "\n" TRAIN_USAGE_OPTIONS;

enum { O_W = TRAIN_OPT_TOOL, O_A, O_G, O_GX, O_M, O_V, O_RECIPE };

static const struct option opts[] = {
    {"w", required_argument, NULL, O_W},
    {"a", required_argument, NULL, O_A},
    {"g", required_argument, NULL, O_G},
    {"gx", required_argument, NULL, O_GX},
    {"m", required_argument, NULL, O_M},
    {"v", required_argument, NULL, O_V},
    {"recipe", required_argument, NULL, O_RECIPE},
    {0},
};

typedef struct {
    quant_recipe r;
    const char *file;
} quant_cli;

static void option(void *ctx, int code, const char *arg)
{
    quant_cli *q = ctx;
    char msg[300];
    if (code == O_RECIPE) {
        if (q->file)
            cli_usage_error("--recipe given twice");
        q->file = arg;
    } else if (recipe_term(&q->r, recipe_key(code - O_W), arg, msg, sizeof msg)) {
        cli_usage_error("--%s", msg);
    }
}

/* The recipe file's terms join the flags'. */
static void read_recipe(quant_cli *q)
{
    input *in = input_open(q->file);
    size_t len = 0, cap = 4096;
    char *text = xmalloc(cap);
    for (size_t n; (n = input_read(in, text + len, cap - 1 - len)) > 0;) {
        len += n;
        if (len + 1 == cap)
            text = xrealloc(text, cap *= 2);
    }
    text[len] = 0;
    if (strlen(text) != len)
        die(EX_DATAERR, "%s: a recipe is text, and this has a NUL byte", q->file);
    char msg[300];
    if (recipe_parse(&q->r, text, msg, sizeof msg))
        die(EX_DATAERR, "%s: %s", q->file, msg);
    free(text);
    input_close(in);
}

static void parsed(void *ctx, train_options *o)
{
    quant_cli *q = ctx;
    if (q->file)
        read_recipe(q);
    if (!recipe_format(&q->r, o->h.recipe, sizeof o->h.recipe))
        cli_usage_error("the recipe is longer than %d bytes", TRAIN_RECIPE_MAX - 1);
}

int main(int argc, char **argv)
{
    quant_cli q = {0};
    train_options o;
    train_options_parse(&o, argc, argv,
                        &(train_tool){.usage = usage, .opts = opts, .option = option,
                                      .parsed = parsed, .ctx = &q, .recipes = true});
    /* the recipe in force: the flags', or a resumed checkpoint's */
    quant_recipe r = {0};
    char msg[300];
    if (recipe_parse(&r, o.h.recipe, msg, sizeof msg))
        die(EX_DATAERR, "%s: its recipe \"%s\": %s", o.resume, o.h.recipe, msg);
    o.h.adam.m_store = r.q[RECIPE_M];
    o.h.adam.v_store = r.q[RECIPE_V];

    train_options_model(&o);
    const model_linear *lin;
    int n = model_linears(o.m, &lin);
    linear **layers = xmalloc((size_t)(n ? n : 1) * sizeof *layers);
    for (int i = 0; i < n; i++) {
        const char *why = qlinear_check(&r, lin[i].lin);
        if (why)
            cli_usage_error("%s: %s (%d in, %d out)", lin[i].name, why, lin[i].lin->in,
                            lin[i].lin->out);
        layers[i] = lin[i].lin;
    }
    if (adamw_check(model_params(o.m), &o.h.adam, msg, sizeof msg))
        cli_usage_error("%s", msg);

    trainer t;
    train_options_start(&o, &t, (train_loss){"xent", train_xent, NULL});
    qlinear_set *qs = recipe_has_linear(&r)
                          ? qlinear_attach(&r, layers, n, o.h.batch * o.h.seq_len, o.h.seed,
                                           &t.opt.t)
                          : NULL;
    train_run(&t);
    qlinear_free(qs);
    free(layers);
    train_options_finish(&o, &t);
    return 0;
}
