/* The training loop, its metric records and its checkpoints. */
#include "train/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/threads.h"
#include "model/tarfile.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double train_xent(void *ctx, const uint32_t *tokens, const uint32_t *targets,
                  const float *logp, float *dlogp, int B, int T)
{
    size_t n = (size_t)B * T, count = 0;
    for (size_t i = 0; i < n; i++)
        count += targets[i] != MODEL_IGNORE;
    double sum = 0;
    float d = count ? -1.0f / (float)count : 0.0f;
    for (size_t i = 0; i < n; i++) {
        bool scored = targets[i] != MODEL_IGNORE;
        if (scored)
            sum -= logp[i];
        dlogp[i] = scored ? d : 0.0f;
    }
    return count ? sum / (double)count : 0.0;
}

void trainer_init(trainer *t, model *m, const train_hparams *h, train_loss loss,
                  token_stream *data)
{
    memset(t, 0, sizeof *t);
    t->m = m;
    t->h = *h;
    t->loss = loss;
    t->data = data;
    t->learn = model_params(m);
    size_t n = (size_t)h->batch * h->seq_len;
    t->tokens = xmalloc(n * sizeof *t->tokens);
    t->targets = xmalloc(n * sizeof *t->targets);
    t->logp = xmalloc(n * sizeof *t->logp);
    t->dlogp = xmalloc(n * sizeof *t->dlogp);
    model_plan(m, h->batch, h->seq_len, true);
    adamw_init(&t->opt, model_params(m), h->adam);
}

void trainer_learn(trainer *t, param_set *ps)
{
    param_alloc_grads(ps);
    adamw_free(&t->opt);
    adamw_init(&t->opt, ps, t->h.adam);
    t->learn = ps;
}

void trainer_free(trainer *t)
{
    adamw_free(&t->opt);
    free(t->tokens);
    free(t->targets);
    free(t->logp);
    free(t->dlogp);
    memset(t, 0, sizeof *t);
}

/* ---- state/train.mp ---- */

enum { U64, F64, EOT, INT, RECIPE }; /* RECIPE: optional, absent when "" */

/* Every field of state/train.mp, in the order written. */
typedef struct {
    const char *key;
    int type;
    void *field;
} state_field;

static int state_fields(state_field *f, train_hparams *h, train_progress *p)
{
    int n = 0;
#define FIELD(k, t, ptr) f[n++] = (state_field){k, t, ptr}
    FIELD("step", U64, &p->step);
    FIELD("data_pos", U64, &p->data_pos);
    FIELD("batch", INT, &h->batch);
    FIELD("seq_len", INT, &h->seq_len);
    FIELD("accum", INT, &h->accum);
    FIELD("steps", U64, &h->steps);
    FIELD("warmup", U64, &h->warmup);
    FIELD("lr", F64, &h->lr);
    FIELD("min_lr", F64, &h->min_lr);
    FIELD("clip", F64, &h->clip);
    FIELD("beta1", F64, &h->adam.beta1);
    FIELD("beta2", F64, &h->adam.beta2);
    FIELD("eps", F64, &h->adam.eps);
    FIELD("wd", F64, &h->adam.weight_decay);
    FIELD("seed", U64, &h->seed);
    FIELD("eot", EOT, &h->eot);
    FIELD("log_every", U64, &h->log_every);
    FIELD("eval_every", U64, &h->eval_every);
    FIELD("eval_windows", U64, &h->eval_windows);
    FIELD("checkpoint_every", U64, &h->checkpoint_every);
    FIELD("recipe", RECIPE, h->recipe);
#undef FIELD
    return n;
}

enum { MAX_FIELDS = 32 };

static void pack_state(msgpack_sbuffer *sb, const train_hparams *h0, const train_progress *p0)
{
    train_hparams h = *h0;
    train_progress p = *p0;
    state_field f[MAX_FIELDS];
    int n = state_fields(f, &h, &p);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, (size_t)(h.recipe[0] ? n : n - 1));
    for (int i = 0; i < n; i++) {
        if (f[i].type == RECIPE && !h.recipe[0])
            continue;
        msgpack_pack_str(&pk, strlen(f[i].key));
        msgpack_pack_str_body(&pk, f[i].key, strlen(f[i].key));
        switch (f[i].type) {
        case U64: msgpack_pack_uint64(&pk, *(uint64_t *)f[i].field); break;
        case INT: msgpack_pack_int(&pk, *(int *)f[i].field); break;
        case F64: msgpack_pack_double(&pk, *(double *)f[i].field); break;
        case EOT:
            if (*(uint32_t *)f[i].field == TOKENS_NO_EOT)
                msgpack_pack_nil(&pk);
            else
                msgpack_pack_uint32(&pk, *(uint32_t *)f[i].field);
            break;
        case RECIPE:
            msgpack_pack_str(&pk, strlen(h.recipe));
            msgpack_pack_str_body(&pk, h.recipe, strlen(h.recipe));
            break;
        }
    }
}

/* Parse state/train.mp; NULL, or what is wrong in msg. */
static const char *parse_state(const char *buf, size_t len, train_hparams *h,
                               train_progress *p, char *msg, size_t msglen)
{
    state_field f[MAX_FIELDS];
    int n = state_fields(f, h, p);
    bool have[MAX_FIELDS] = {false};
    msgpack_unpacked u;
    const msgpack_object_map *map = tar_map_unpack(&u, buf, len, msg, msglen);
    for (uint32_t i = 0; map && i < map->size && !msg[0]; i++) {
        const msgpack_object *k = &map->ptr[i].key, *v = &map->ptr[i].val;
        int j = 0;
        while (j < n && !tar_str_is(k, f[j].key))
            j++;
        if (j == n) {
            if (k->type == MSGPACK_OBJECT_STR)
                snprintf(msg, msglen, "unknown key \"%.*s\"",
                         k->via.str.size > 64 ? 64 : (int)k->via.str.size, k->via.str.ptr);
            else
                snprintf(msg, msglen, "a key is not a string");
            break;
        }
        if (have[j]) {
            snprintf(msg, msglen, "key \"%s\" appears twice", f[j].key);
            break;
        }
        have[j] = true;
        bool uint = v->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
        bool ok = true;
        switch (f[j].type) {
        case U64:
            if ((ok = uint))
                *(uint64_t *)f[j].field = v->via.u64;
            break;
        case INT:
            if ((ok = uint && v->via.u64 >= 1 && v->via.u64 <= 1 << 20))
                *(int *)f[j].field = (int)v->via.u64;
            break;
        case F64:
            if ((ok = v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_FLOAT32))
                *(double *)f[j].field = v->via.f64;
            break;
        case EOT:
            if ((ok = v->type == MSGPACK_OBJECT_NIL || (uint && v->via.u64 < TOKENS_NO_EOT)))
                *(uint32_t *)f[j].field = uint ? (uint32_t)v->via.u64 : TOKENS_NO_EOT;
            break;
        case RECIPE:
            if ((ok = v->type == MSGPACK_OBJECT_STR && v->via.str.size < TRAIN_RECIPE_MAX)) {
                memcpy(h->recipe, v->via.str.ptr, v->via.str.size);
                h->recipe[v->via.str.size] = 0;
            }
            break;
        }
        if (!ok)
            snprintf(msg, msglen, "key \"%s\" has a value of the wrong type or range", f[j].key);
    }
    for (int j = 0; j < n && !msg[0]; j++)
        if (!have[j] && f[j].type != RECIPE)
            snprintf(msg, msglen, "key \"%s\" is missing", f[j].key);
    msgpack_unpacked_destroy(&u);
    return msg[0] ? msg : NULL;
}

void train_state_read(const ckpt_reader *r, train_hparams *h, train_progress *p)
{
    if (!r->train_state)
        die(EX_DATAERR, "%s: no training state (state/train.mp): cannot resume from it",
            r->name);
    char msg[256];
    memset(h, 0, sizeof *h); /* what state/train.mp does not hold: float moments, no recipe */
    if (parse_state(r->train_state, r->train_state_len, h, p, msg, sizeof msg))
        die(EX_DATAERR, "%s: member state/train.mp: %s", r->name, msg);
}

void trainer_resume(trainer *t, ckpt_reader *r, const train_progress *p)
{
    param_set *ps = model_params(t->m);
    /* low-bit moments come through float slabs */
    float *m = t->opt.lowbit ? xcalloc(ps->total, sizeof *m) : t->opt.m;
    float *v = t->opt.lowbit ? xcalloc(ps->total, sizeof *v) : t->opt.v;
    ckpt_read(r, ps, m, v);
    if (!r->has_moments)
        die(EX_DATAERR, "%s: no optimizer state (state/adam_m, state/adam_v): cannot resume "
            "from it", r->name);
    if (t->opt.lowbit) {
        adamw_set_moments(&t->opt, m, v);
        free(m);
        free(v);
    }
    t->step = p->step;
    t->opt.t = p->step;
    t->data->pos = p->data_pos % t->data->n;
}

void trainer_save(trainer *t, const char *path)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_state(&sb, &t->h, &(train_progress){t->step, t->data->pos});
    param_set *ps = model_params(t->m);
    float *m = t->opt.lowbit ? xcalloc(ps->total, sizeof *m) : t->opt.m;
    float *v = t->opt.lowbit ? xcalloc(ps->total, sizeof *v) : t->opt.v;
    if (t->opt.lowbit)
        adamw_get_moments(&t->opt, m, v);
    ckpt_write(path, &(ckpt_contents){
                         .cfg = model_cfg(t->m),
                         .params = model_params(t->m),
                         .tokenizer = t->tokenizer,
                         .tokenizer_len = t->tokenizer_len,
                         .train_state = sb.data,
                         .train_state_len = sb.size,
                         .adam_m = m,
                         .adam_v = v,
                     });
    msgpack_sbuffer_destroy(&sb);
    if (t->opt.lowbit) {
        free(m);
        free(v);
    }
    t->saved_step = t->step;
}

/* ---- evaluation ---- */

double train_evaluate(trainer *t)
{
    const token_stream *val = t->val;
    int B = t->h.batch, T = t->h.seq_len;
    uint64_t windows = t->h.eval_windows ? t->h.eval_windows : (val->n + (size_t)T - 1) / (size_t)T;
    double sum = 0;
    uint64_t count = 0;
    for (uint64_t w = 0; w < windows; w += (uint64_t)B) {
        for (int b = 0; b < B; b++) {
            uint32_t *tok = t->tokens + (size_t)b * T, *tgt = t->targets + (size_t)b * T;
            token_stream_window(val, (w + (uint64_t)b) * (uint64_t)T, T, tok, tgt);
            if (w + (uint64_t)b >= windows) /* past the last window: rows that do not count */
                for (int i = 0; i < T; i++)
                    tgt[i] = MODEL_IGNORE;
        }
        model_forward(t->m, t->tokens, t->targets, t->logp);
        for (size_t i = 0; i < (size_t)B * T; i++)
            if (t->targets[i] != MODEL_IGNORE) {
                sum -= t->logp[i];
                count++;
            }
    }
    return sum / (double)count;
}

/* The loss and its stats over the validation batches, each batch weighted by the examples
 * in it. */
static double evaluate_batches(trainer *t, double *stats)
{
    batch_source *val = t->val_batches;
    int B = t->h.batch, T = t->h.seq_len, S = t->stats.n;
    double sum = 0, weight = 0;
    for (int j = 0; j < S; j++)
        stats[j] = 0;
    uint64_t n = val->count(val, B);
    for (uint64_t k = 0; k < n; k++) {
        int examples = val->get(val, k, B, T, t->tokens, t->targets);
        model_forward(t->m, t->tokens, t->targets, t->logp);
        double l = t->loss.fn(t->loss.ctx, t->tokens, t->targets, t->logp, t->dlogp, B, T);
        sum += l * examples;
        weight += examples;
        for (int j = 0; j < S; j++)
            stats[j] += t->stats.values[j] * examples;
    }
    for (int j = 0; j < S; j++)
        stats[j] /= weight;
    return sum / weight;
}

/* ---- metric records ---- */

static void put_f64_or_nil(rec_writer *w, const char *key, double v)
{
    if (isnan(v))
        rec_put_nil(w, key);
    else
        rec_put_f64(w, key, v);
}

static void config_record(trainer *t)
{
    rec_writer *w = t->metrics;
    const model_config *c = model_cfg(t->m);
    const param_set *ps = model_params(t->m);
    const train_hparams *h = &t->h;
    size_t learning = 0;
    for (int i = 0; i < t->learn->n; i++)
        if (!(t->learn->info[i].flags & PARAM_FROZEN))
            learning += t->learn->info[i].count;
    rec_begin(w);
    rec_put_cstr(w, "event", "config");
    rec_put_cstr(w, "arch", c->arch);
    const struct { const char *key; int v; } sizes[] = {
        {"vocab", c->vocab}, {"layers", c->layers}, {"width", c->width}, {"heads", c->heads},
        {"context", c->context}, {"mlp", c->mlp}, {"lru", c->lru}, {"conv", c->conv},
        {"batch", h->batch}, {"seq_len", h->seq_len}, {"accum", h->accum},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        rec_put_i64(w, sizes[i].key, sizes[i].v);
    rec_put_u64(w, "params", param_count(ps));
    rec_put_u64(w, "learning", learning);
    rec_put_cstr(w, "loss", t->loss.name);
    rec_put_u64(w, "steps", h->steps);
    rec_put_u64(w, "warmup", h->warmup);
    rec_put_f64(w, "lr", h->lr);
    rec_put_f64(w, "min_lr", h->min_lr);
    rec_put_f64(w, "wd", h->adam.weight_decay);
    rec_put_f64(w, "clip", h->clip);
    rec_put_f64(w, "beta1", h->adam.beta1);
    rec_put_f64(w, "beta2", h->adam.beta2);
    rec_put_f64(w, "eps", h->adam.eps);
    rec_put_u64(w, "seed", h->seed);
    if (h->eot == TOKENS_NO_EOT)
        rec_put_nil(w, "eot");
    else
        rec_put_u64(w, "eot", h->eot);
    rec_put_u64(w, "eval_every", h->eval_every);
    rec_put_u64(w, "eval_windows", h->eval_windows);
    rec_put_u64(w, "checkpoint_every", h->checkpoint_every);
    rec_put_u64(w, "threads", (uint64_t)threads_count());
    if (t->batches) {
        rec_put_u64(w, "examples", t->batches->examples);
        rec_put_u64(w, "tokens", t->batches->tokens);
    } else {
        rec_put_u64(w, "tokens", t->data->n);
    }
    if (t->val_batches)
        rec_put_u64(w, "val_examples", t->val_batches->examples);
    else if (t->val)
        rec_put_u64(w, "val_tokens", t->val->n);
    rec_put_u64(w, "start_step", t->step);
    rec_put_u64(w, "optimizer_bytes", adamw_state_bytes(&t->opt));
    if (h->recipe[0])
        rec_put_cstr(w, "recipe", h->recipe);
    rec_end(w);
    rec_flush(w);
}

/* The loss's stats, as NAME (prefix "") or val_NAME. */
static void stats_record(trainer *t, const char *prefix, const double *stats)
{
    for (int j = 0; j < t->stats.n; j++) {
        char key[64];
        snprintf(key, sizeof key, "%s%s", prefix, t->stats.names[j]);
        rec_put_f64(t->metrics, key, stats[j]);
    }
}

static void step_record(trainer *t, double loss, double lr, double norm, double tokens_per_s,
                        const double *stats)
{
    rec_writer *w = t->metrics;
    rec_begin(w);
    rec_put_cstr(w, "event", "step");
    rec_put_u64(w, "step", t->step);
    rec_put_f64(w, "loss", loss);
    rec_put_f64(w, "lr", lr);
    rec_put_f64(w, "grad_norm", norm);
    rec_put_f64(w, "tokens_per_s", tokens_per_s);
    stats_record(t, "", stats);
    rec_end(w);
    rec_flush(w);
}

static void set_mode(trainer *t, bool training)
{
    if (t->hooks.mode)
        t->hooks.mode(t->hooks.ctx, training);
}

static double eval_record(trainer *t)
{
    double stats[TRAIN_MAX_STATS];
    set_mode(t, false);
    double val_loss = t->val_batches ? evaluate_batches(t, stats) : train_evaluate(t);
    set_mode(t, true);
    rec_writer *w = t->metrics;
    rec_begin(w);
    rec_put_cstr(w, "event", "eval");
    rec_put_u64(w, "step", t->step);
    rec_put_f64(w, "val_loss", val_loss);
    if (t->val_batches)
        stats_record(t, "val_", stats);
    rec_end(w);
    rec_flush(w);
    return val_loss;
}

/* ---- the loop ---- */

static _Noreturn void not_finite(const trainer *t, uint64_t step, const char *what, double v)
{
    char kept[300];
    if (t->checkpoint && t->saved_step)
        snprintf(kept, sizeof kept, "%s keeps step %llu", t->checkpoint,
                 (unsigned long long)t->saved_step);
    else
        snprintf(kept, sizeof kept, "no checkpoint written");
    die(EX_DATAERR, "step %llu: the %s is %g: training diverged; stopping (%s)",
        (unsigned long long)step, what, v, kept);
}

train_step_result train_step(trainer *t)
{
    const train_hparams *h = &t->h;
    int B = h->batch, T = h->seq_len, K = h->accum;
    size_t n = (size_t)B * T;
    uint64_t step = t->step + 1;
    train_step_result res = {0};
    param_zero_grads(model_params(t->m));
    if (t->learn != model_params(t->m))
        param_zero_grads(t->learn);
    for (int k = 0; k < K; k++) {
        if (t->batches)
            t->batches->next(t->batches, B, T, t->tokens, t->targets);
        else
            token_stream_next(t->data, B, T, t->tokens, t->targets);
        model_forward(t->m, t->tokens, t->targets, t->logp);
        double l = t->loss.fn(t->loss.ctx, t->tokens, t->targets, t->logp, t->dlogp, B, T);
        if (!isfinite(l))
            not_finite(t, step, "loss", l);
        for (size_t i = 0; i < n; i++)
            t->dlogp[i] /= (float)K;
        model_backward(t->m, t->dlogp);
        res.loss += l / K;
        for (int j = 0; j < t->stats.n; j++)
            res.stats[j] += t->stats.values[j] / K;
    }
    res.grad_norm = adamw_clip(&t->opt, h->clip);
    if (!isfinite(res.grad_norm))
        not_finite(t, step, "gradient norm", res.grad_norm);
    res.lr = lr_schedule(step, h->steps, h->warmup, h->lr, h->min_lr);
    adamw_step(&t->opt, res.lr);
    t->step = step;
    return res;
}

static void save(trainer *t)
{
    if (!t->hooks.save) {
        trainer_save(t, t->checkpoint);
        return;
    }
    t->hooks.save(t->hooks.ctx, t->checkpoint);
    t->saved_step = t->step;
}

void train_run(trainer *t)
{
    const train_hparams *h = &t->h;
    double start = now(), loss = NAN, val_loss = NAN;
    uint64_t evaluated = UINT64_MAX;
    bool validating = t->val || t->val_batches;
    config_record(t);
    set_mode(t, true);
    while (t->step < h->steps) {
        double t0 = now();
        train_step_result s = train_step(t);
        uint64_t step = t->step;
        loss = s.loss;
        double tokens_per_s = (double)h->batch * h->seq_len * h->accum / (now() - t0);
        if (step % h->log_every == 0 || step == h->steps)
            step_record(t, s.loss, s.lr, s.grad_norm, tokens_per_s, s.stats);
        if (t->progress)
            fprintf(stderr, "\r%s: step %llu/%llu  loss %.4f  lr %.3g  %.0f tokens/s ",
                    err_prog, (unsigned long long)step, (unsigned long long)h->steps, s.loss,
                    s.lr, tokens_per_s);
        if (validating && h->eval_every && step % h->eval_every == 0) {
            val_loss = eval_record(t);
            evaluated = step;
        }
        if (t->checkpoint && h->checkpoint_every && step % h->checkpoint_every == 0)
            save(t);
    }
    if (t->progress)
        fputc('\n', stderr);
    set_mode(t, false);
    if (validating && evaluated != t->step)
        val_loss = eval_record(t);
    if (t->checkpoint && t->saved_step != t->step)
        save(t);
    rec_writer *w = t->metrics;
    rec_begin(w);
    rec_put_cstr(w, "event", "done");
    rec_put_u64(w, "step", t->step);
    put_f64_or_nil(w, "loss", loss);
    put_f64_or_nil(w, "val_loss", val_loss);
    rec_put_f64(w, "seconds", now() - start);
    rec_end(w);
    rec_flush(w);
}
