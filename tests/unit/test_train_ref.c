/* Ten AdamW steps of each model family against PyTorch: the fixtures
 * tests/ref/gpt/tiny.mp and tests/ref/hawk/tiny.mp (written by tests/ref/torch_gpt.py and
 * tests/ref/torch_hawk.py) hold a tiny model's weights, one batch, and the losses of 10
 * steps of torch.optim.AdamW on that batch (lr 1e-3, betas (0.9, 0.95), eps 1e-8, weight
 * decay 0.1 on the tensors marked "decay", no clipping).  The same steps here, through
 * model_forward, train_xent, model_backward and adamw_step, must give the same losses:
 * float32 here and float64 there agree to about 2e-7 relative; the test allows 1e-5.  This
 * checks the optimizer, the decay flags of every tensor and the loss's gradient
 * together, over a trajectory rather than one step. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "model/model.h"
#include "optim/adamw.h"
#include "rec/rec.h"
#include "train/train.h"

enum { MAX_PARAMS = 256, STEPS = 10 };

typedef struct {
    model_config cfg;
    int B, T;
    u32vec tokens, targets;
    adamw_hparams adam;
    double lr;
    double losses[STEPS];
    int n_losses;
} fixture;

static int get_int(const rec *r, const char *key, int fallback)
{
    uint64_t v;
    return rec_get_u64(r, key, &v) ? (int)v : fallback;
}

static bool kind_is(const rec *r, const char *kind)
{
    const char *s;
    size_t len;
    return rec_get_str(r, "kind", &s, &len) && len == strlen(kind) && memcmp(s, kind, len) == 0;
}

/* Read the fixture of arch; the weights go straight into the model built from its
 * config, and each tensor's decay flag is checked against the model's. */
static model *load(const char *arch, const char *path, fixture *f)
{
    memset(f, 0, sizeof *f);
    rec_reader *in = rec_open(path);
    model *m = NULL;
    rec r;
    while (rec_next(in, &r)) {
        if (kind_is(&r, "config")) {
            model_config *c = &f->cfg;
            snprintf(c->arch, sizeof c->arch, "%s", arch);
            c->vocab = get_int(&r, "vocab", 0);
            c->layers = get_int(&r, "layers", 0);
            c->width = get_int(&r, "width", 0);
            c->heads = get_int(&r, "heads", 0);
            c->context = get_int(&r, "context", 0);
            c->mlp = get_int(&r, "mlp", 0);
            c->lru = get_int(&r, "lru", 0);
            c->conv = get_int(&r, "conv", 0);
            f->B = get_int(&r, "batch", 0);
            f->T = get_int(&r, "time", 0);
            CHECK(model_config_finish(c) == NULL);
            m = model_new(c);
        } else if (kind_is(&r, "batch")) {
            f->B = get_int(&r, "batch", f->B);
            f->T = get_int(&r, "time", f->T);
            rec_need_u32s(&r, "tokens", UINT32_MAX, &f->tokens);
            rec_need_u32s(&r, "targets", UINT32_MAX, &f->targets);
        } else if (kind_is(&r, "param")) {
            param_set *ps = model_params(m);
            const char *name;
            size_t len;
            name = rec_need_str(&r, "name", &len);
            char buf[PARAM_NAME_MAX];
            snprintf(buf, sizeof buf, "%.*s", (int)len, name);
            int i = param_find(ps, buf);
            CHECK(i >= 0);
            if (i < 0)
                continue;
            rec_tensor t;
            CHECK(rec_get_tensor(&r, "weight", &t) || rec_get_tensor(&r, "value", &t));
            CHECK(t.nbytes == ps->info[i].count * sizeof(float));
            memcpy(param_w(ps, i), t.data, t.nbytes);
            bool decay;
            CHECK(rec_get_bool(&r, "decay", &decay));
            if (decay != !!(ps->info[i].flags & PARAM_DECAY))
                printf("#   %s: decay %d in the fixture, not in the model\n", buf, decay);
            CHECK(decay == !!(ps->info[i].flags & PARAM_DECAY));
        } else if (kind_is(&r, "adamw")) {
            f->lr = rec_need_f64(&r, "lr");
            f->adam = (adamw_hparams){
                .beta1 = rec_need_f64(&r, "beta1"),
                .beta2 = rec_need_f64(&r, "beta2"),
                .eps = rec_need_f64(&r, "eps"),
                .weight_decay = rec_need_f64(&r, "weight_decay"),
            };
            const msgpack_object *l = rec_find(&r, "losses");
            CHECK(l && l->type == MSGPACK_OBJECT_ARRAY && l->via.array.size == STEPS);
            for (uint32_t k = 0; l && k < l->via.array.size && k < STEPS; k++)
                f->losses[f->n_losses++] = l->via.array.ptr[k].via.f64;
        }
    }
    rec_close(in);
    CHECK(m != NULL);
    CHECK(f->n_losses == STEPS);
    CHECK(f->tokens.n == (size_t)f->B * f->T && f->targets.n == f->tokens.n);
    return m;
}

static void ten_adamw_steps_match_torch(const char *arch, const char *path)
{
    fixture f;
    model *m = load(arch, path, &f);
    if (!m || f.n_losses != STEPS)
        return;
    param_set *ps = model_params(m);
    model_plan(m, f.B, f.T, true);
    adamw opt;
    adamw_init(&opt, ps, f.adam);
    size_t n = (size_t)f.B * f.T;
    float *logp = xmalloc(n * sizeof *logp), *dlogp = xmalloc(n * sizeof *dlogp);
    for (int k = 0; k < STEPS; k++) {
        param_zero_grads(ps);
        model_forward(m, f.tokens.v, f.targets.v, logp);
        double loss = train_xent(NULL, f.tokens.v, f.targets.v, logp, dlogp, f.B, f.T);
        CHECK_NEAR(loss, f.losses[k], 1e-5 * f.losses[k]); /* float32: ~2e-7 */
        model_backward(m, dlogp);
        adamw_step(&opt, f.lr);
    }
    free(logp);
    free(dlogp);
    adamw_free(&opt);
    u32vec_free(&f.tokens);
    u32vec_free(&f.targets);
    model_free(m);
}

static void gpt_ten_adamw_steps_match_torch(void)
{
    ten_adamw_steps_match_torch("gpt", "tests/ref/gpt/tiny.mp");
}

static void hawk_ten_adamw_steps_match_torch(void)
{
    ten_adamw_steps_match_torch("hawk", "tests/ref/hawk/tiny.mp");
}

int main(void)
{
    RUN(gpt_ten_adamw_steps_match_torch);
    RUN(hawk_ten_adamw_steps_match_torch);
    return check_done();
}
