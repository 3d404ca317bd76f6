/* Unit tests of LoRA (nn/lora, model/adapter) and of frozen tensors: a frozen tensor gets
 * no gradient and the others the same as before; with B = 0 an adapted model computes its
 * base exactly; a merged model equals the adapted one within 1e-5; adapter gradients
 * (with and without dropout) against finite differences, for gpt and hawk; adapter files
 * are laid out as documented, round-trip and refuse another base; ranks that do not fit a
 * layer are refused. */
#include <archive.h>
#include <archive_entry.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/rng.h"
#include "check.h"
#include "gradcheck.h"
#include "model/adapter.h"
#include "model/model.h"
#include "nn/lora.h"
#include "nn/linear.h"

enum { V = 11, L = 2, C = 8, NH = 2, T = 5, B = 2, N = B * T };

static model *tiny(const char *arch)
{
    model_config cfg = {.vocab = V, .layers = L, .width = C, .heads = NH, .context = T + 2};
    snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
    const char *why = model_config_finish(&cfg);
    if (why)
        die(EX_SOFTWARE, "test config: %s", why);
    return model_new(&cfg);
}

/* Weights well away from the small initializations, so every path carries gradient. */
static void randomize(param_set *ps, uint64_t seed, double std)
{
    rng_t r;
    rng_seed(&r, seed);
    for (int k = 0; k < ps->n; k++) {
        const param_info *p = &ps->info[k];
        bool gain = p->ndim == 1 && strstr(p->name, ".weight") && !strstr(p->name, "lambda");
        float *w = param_w(ps, k);
        for (size_t i = 0; i < p->count; i++)
            w[i] = (float)((gain ? 1.0 : 0.0) + (p->ndim == 1 ? 0.2 : std) * rng_normal(&r));
    }
}

typedef struct {
    model *m;
    lora_set *lora;
    uint32_t tokens[N], targets[N];
    float logp[N], coef[N], dlogp[N];
} fd_case;

static void make_batch(fd_case *k, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    for (int i = 0; i < N; i++) {
        k->tokens[i] = (uint32_t)rng_below(&r, V);
        k->targets[i] = (uint32_t)rng_below(&r, V);
        k->coef[i] = (float)(rng_uniform(&r) - 0.5);
    }
    k->targets[3] = MODEL_IGNORE;
}

/* L = sum of coef * logp: every position's gradient differs. */
static double fd_loss(void *ctx)
{
    fd_case *k = ctx;
    if (k->lora)
        lora_seed_dropout(k->lora, 7); /* the same masks at every evaluation */
    model_forward(k->m, k->tokens, k->targets, k->logp);
    double s = 0;
    for (int i = 0; i < N; i++)
        s += (double)k->coef[i] * k->logp[i];
    return s;
}

static void copy_logits(model *m, const fd_case *k, float *out)
{
    model_forward(m, k->tokens, k->targets, NULL);
    memcpy(out, model_logits(m), (size_t)N * V * sizeof *out);
}

/* Freezing half the tensors leaves their gradient slab untouched (a sentinel survives)
 * and gives the others exactly the gradients of the model that learns everything. */
static void frozen_tensors_get_no_gradient(void)
{
    const char *arch[2] = {"gpt", "hawk"};
    for (int a = 0; a < 2; a++) {
        static fd_case k;
        k.m = tiny(arch[a]);
        k.lora = NULL;
        param_set *ps = model_params(k.m);
        randomize(ps, 3, 0.5);
        make_batch(&k, 4);
        model_plan(k.m, B, T, true);
        param_zero_grads(ps);
        fd_loss(&k);
        model_backward(k.m, k.coef);
        float *all = xmalloc(ps->total * sizeof *all);
        memcpy(all, ps->g, ps->total * sizeof *all);
        for (int i = 0; i < ps->n; i += 2)
            ps->info[i].flags |= PARAM_FROZEN;
        model_plan(k.m, B, T, true); /* binds the layers again: frozen ones lose dW */
        for (size_t i = 0; i < ps->total; i++)
            ps->g[i] = 12345.0f;
        param_zero_grads(ps);
        fd_loss(&k);
        model_backward(k.m, k.coef);
        int frozen_ok = 0, learning_ok = 0;
        for (int i = 0; i < ps->n; i++) {
            const param_info *p = &ps->info[i];
            bool same = true;
            for (size_t j = 0; j < p->count; j++)
                same &= i % 2 ? ps->g[p->offset + j] == all[p->offset + j]
                              : ps->g[p->offset + j] == 12345.0f;
            if (i % 2)
                learning_ok += same;
            else
                frozen_ok += same;
        }
        CHECK_EQ_INT(frozen_ok, (ps->n + 1) / 2);
        CHECK_EQ_INT(learning_ok, ps->n / 2);
        free(all);
        model_free(k.m);
    }
}

/* B = 0: the logits are the base's, bit for bit; then with B drawn, merging W += s A B
 * gives the adapted model's logits within 1e-5. */
static void zero_b_equals_base_and_merge_equals_adapted(void)
{
    const char *arch[2] = {"gpt", "hawk"};
    for (int a = 0; a < 2; a++) {
        static fd_case k;
        k.m = tiny(arch[a]);
        randomize(model_params(k.m), 5, 0.5);
        make_batch(&k, 6);
        model_plan(k.m, B, T, false);
        static float base[N * V], adapted[N * V], merged[N * V];
        copy_logits(k.m, &k, base);
        adapter *ad = adapter_new(k.m, &(adapter_config){
                                           .lora = {.rank = 3, .alpha = 6, .targets = LORA_ALL}});
        lora_init(ad->lora, 9);
        CHECK_EQ_INT(ad->lora->n, a == 0 ? 4 * L : 8 * L);
        copy_logits(k.m, &k, adapted);
        CHECK(memcmp(base, adapted, sizeof base) == 0);
        randomize(&ad->lora->params, 10, 0.3); /* B too */
        copy_logits(k.m, &k, adapted);
        double moved = 0, worst = 0;
        for (int i = 0; i < N * V; i++)
            moved = fmax(moved, fabs(adapted[i] - base[i]));
        adapter_merge(ad);
        copy_logits(k.m, &k, merged);
        for (int i = 0; i < N * V; i++)
            worst = fmax(worst, fabs(merged[i] - adapted[i]));
        printf("#   %s: adapters move the logits by %.3g; merged vs adapted %.3g\n", arch[a],
               moved, worst);
        CHECK(moved > 0.1);
        CHECK(worst <= 1e-5);
        adapter_free(ad);
        model_free(k.m);
    }
}

/* dL/dA and dL/dB of every adapter against finite differences, for gpt and hawk, with
 * and without dropout (its masks drawn again identically at every evaluation): the
 * error relative, with a floor of 1e-2 (the loss's float32 rounding, about 1e-6, makes
 * the differences noisy at 1e-4). */
static void adapter_gradients_match_finite_differences(void)
{
    const char *arch[2] = {"gpt", "hawk"};
    for (int a = 0; a < 2; a++)
        for (int drop = 0; drop < 2; drop++) {
            static fd_case k;
            k.m = tiny(arch[a]);
            randomize(model_params(k.m), 11, 0.3);
            make_batch(&k, 12);
            adapter *ad = adapter_new(
                k.m, &(adapter_config){.lora = {.rank = 2, .alpha = 3,
                                                .dropout = drop ? 0.3 : 0.0,
                                                .targets = LORA_ALL}});
            k.lora = ad->lora;
            randomize(&k.lora->params, 13, 0.3);
            lora_set_training(k.lora, true);
            model_plan(k.m, B, T, true);
            param_alloc_grads(&k.lora->params);
            param_zero_grads(&k.lora->params);
            fd_loss(&k);
            model_backward(k.m, k.coef);
            param_set *ps = &k.lora->params;
            double worst = 0;
            for (int i = 0; i < ps->n; i++) {
                char what[160];
                snprintf(what, sizeof what, "%s%s %s", arch[a], drop ? " dropout" : "",
                         ps->info[i].name);
                worst = fmax(worst, gradcheck(what, fd_loss, &k, param_w(ps, i),
                                              param_g(ps, i), ps->info[i].count, 1, 1e-2f,
                                              1e-2));
            }
            printf("#   %s%s: worst %.3g\n", arch[a], drop ? " with dropout" : "", worst);
            CHECK(worst <= 1e-2);
            adapter_free(ad);
            model_free(k.m);
        }
}

/* One adapted layer large enough for the threads to share its products: y, dx, dA and dB
 * against loops in double, with dropout (the kept inputs read back from the forward's
 * effect) and without. */
static void adapter_products_match_naive_loops(void)
{
    enum { R = 8, IN = 256, OUT = 384, ROWS = 600 };
    float *w = xmalloc(IN * OUT * sizeof *w), *x = xmalloc(ROWS * IN * sizeof *x);
    float *y = xmalloc(ROWS * OUT * sizeof *y), *dy = xmalloc(ROWS * OUT * sizeof *dy);
    float *dx = xcalloc(ROWS * IN, sizeof *dx);
    rng_t r;
    rng_seed(&r, 30);
    for (int i = 0; i < IN * OUT; i++)
        w[i] = (float)rng_normal(&r) * 0.1f;
    for (int i = 0; i < ROWS * IN; i++)
        x[i] = (float)rng_normal(&r);
    for (int i = 0; i < ROWS * OUT; i++)
        dy[i] = (float)rng_normal(&r);
    for (int drop = 0; drop < 2; drop++) {
        linear l = {.in = IN, .out = OUT, .w = w};
        linear *lins[1] = {&l};
        const char *names[1] = {"h.0.mlp.c_fc"};
        lora_set *s = lora_new(&(lora_config){.rank = R, .alpha = 4, .dropout = drop ? 0.25 : 0,
                                              .targets = LORA_ALL}, 1, lins, names);
        lora_init(s, 31);
        float *A = param_w(&s->params, 0), *Bm = param_w(&s->params, 1);
        for (int i = 0; i < R * OUT; i++)
            Bm[i] = (float)rng_normal(&r) * 0.1f;
        param_alloc_grads(&s->params);
        param_zero_grads(&s->params);
        lora_attach(s);
        lora_set_training(s, true);
        linear_forward(&l, y, x, ROWS);
        memset(dx, 0, ROWS * IN * sizeof *dx);
        linear_backward(&l, dx, dy, x, ROWS);
        /* the input the adapter saw: with dropout, the elements its hash keeps (lora.c) */
        double worst = 0, scale = 4.0 / R;
        static double xd[ROWS * IN], xa[ROWS * R], du[ROWS * R];
        long kept = 0;
        for (long i = 0; i < (long)ROWS * IN; i++) {
            uint64_t h = mix64(s->layers[0].mask ^ (uint64_t)i * 0x9e3779b97f4a7c15ULL);
            bool keep = !drop || h >= (uint64_t)ldexp(0.25, 64);
            xd[i] = keep ? x[i] / (drop ? 0.75 : 1.0) : 0;
            kept += keep;
        }
        if (drop) /* a quarter dropped, within 4 standard deviations */
            CHECK(fabs((double)kept / (ROWS * IN) - 0.75) < 4 * sqrt(0.1875 / (ROWS * IN)));
        for (int i = 0; i < ROWS; i++)
            for (int j = 0; j < R; j++) {
                double t = 0;
                for (int k = 0; k < IN; k++)
                    t += xd[i * IN + k] * A[k * R + j];
                xa[i * R + j] = t;
                double u = 0;
                for (int o = 0; o < OUT; o++)
                    u += dy[i * OUT + o] * Bm[j * OUT + o];
                du[i * R + j] = scale * u;
                worst = fmax(worst, fabs(t - s->layers[0].xa[i * R + j]));
            }
        for (int i = 0; i < ROWS; i += 7)
            for (int o = 0; o < OUT; o += 5) {
                double t = 0;
                for (int k = 0; k < IN; k++)
                    t += (double)x[i * IN + k] * w[k * OUT + o];
                for (int j = 0; j < R; j++)
                    t += scale * xa[i * R + j] * Bm[j * OUT + o];
                worst = fmax(worst, fabs(t - y[i * OUT + o]));
            }
        for (int i = 0; i < ROWS; i += 7)
            for (int k = 0; k < IN; k += 3) {
                double t = 0, m = x[i * IN + k] != 0 ? xd[i * IN + k] / x[i * IN + k] : 0;
                for (int o = 0; o < OUT; o++)
                    t += (double)dy[i * OUT + o] * w[k * OUT + o];
                for (int j = 0; j < R; j++)
                    t += m * du[i * R + j] * A[k * R + j];
                worst = fmax(worst, fabs(t - dx[i * IN + k]));
            }
        const float *dA = param_g(&s->params, 0), *dB = param_g(&s->params, 1);
        for (int k = 0; k < IN; k++)
            for (int j = 0; j < R; j++) {
                double t = 0;
                for (int i = 0; i < ROWS; i++)
                    t += xd[i * IN + k] * du[i * R + j];
                worst = fmax(worst, fabs(t - dA[k * R + j]) / fmax(1, fabs(t)));
            }
        for (int j = 0; j < R; j++)
            for (int o = 0; o < OUT; o++) {
                double t = 0;
                for (int i = 0; i < ROWS; i++)
                    t += scale * xa[i * R + j] * dy[i * OUT + o];
                worst = fmax(worst, fabs(t - dB[j * OUT + o]) / fmax(1, fabs(t)));
            }
        printf("#   %s: worst difference %.3g\n", drop ? "dropout 0.25" : "no dropout", worst);
        CHECK(worst < 1e-3);
        lora_free(s);
    }
    free(w), free(x), free(y), free(dy), free(dx);
}

/* Dropout draws a new mask at each training forward and none outside training. */
static void dropout_only_in_training(void)
{
    static fd_case k;
    k.m = tiny("gpt");
    k.lora = NULL;
    randomize(model_params(k.m), 14, 0.5);
    make_batch(&k, 15);
    adapter *ad = adapter_new(k.m, &(adapter_config){
                                       .lora = {.rank = 2, .alpha = 2, .dropout = 0.5,
                                                .targets = LORA_ATTN}});
    randomize(&ad->lora->params, 16, 0.5);
    CHECK_EQ_INT(ad->lora->n, 2 * L); /* c_attn and c_proj of each layer */
    model_plan(k.m, B, T, false);
    static float a1[N * V], a2[N * V], t1[N * V], t2[N * V];
    copy_logits(k.m, &k, a1);
    copy_logits(k.m, &k, a2);
    lora_set_training(ad->lora, true);
    copy_logits(k.m, &k, t1);
    copy_logits(k.m, &k, t2);
    CHECK(memcmp(a1, a2, sizeof a1) == 0);
    CHECK(memcmp(t1, a1, sizeof a1) != 0);
    CHECK(memcmp(t1, t2, sizeof t1) != 0);
    adapter_free(ad);
    model_free(k.m);
}

/* The msgpack string o is s. */
static bool str_is(const msgpack_object *o, const char *s)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* adapter.mp: one map of the documented keys in their order, holding a's settings (those
 * of adapter_files_are_laid_out_as_documented), its layers and the hash of its base. */
static void check_adapter_meta(const char *buf, size_t len, const adapter *a, uint64_t base)
{
    static const char *keys[] = {"format", "version", "base",    "arch", "rank",
                                 "alpha",  "dropout", "targets", "nf4",  "layers"};
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    bool map = msgpack_unpack_next(&u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS &&
               off == len && u.data.type == MSGPACK_OBJECT_MAP && u.data.via.map.size == 10;
    CHECK(map);
    if (map) {
        const msgpack_object_kv *kv = u.data.via.map.ptr;
        for (int i = 0; i < 10; i++)
            CHECK(str_is(&kv[i].key, keys[i]));
        char hash[17];
        snprintf(hash, sizeof hash, "%016" PRIx64, base);
        CHECK(str_is(&kv[0].val, "runnel-adapter"));
        CHECK(kv[1].val.type == MSGPACK_OBJECT_POSITIVE_INTEGER && kv[1].val.via.u64 == 1);
        CHECK(str_is(&kv[2].val, hash));
        CHECK(str_is(&kv[3].val, "hawk"));
        CHECK(kv[4].val.type == MSGPACK_OBJECT_POSITIVE_INTEGER && kv[4].val.via.u64 == 2);
        CHECK(kv[5].val.type == MSGPACK_OBJECT_FLOAT64 && kv[5].val.via.f64 == 3.0);
        CHECK(kv[6].val.type == MSGPACK_OBJECT_FLOAT64 && kv[6].val.via.f64 == 0.25);
        CHECK(str_is(&kv[7].val, "all"));
        CHECK(kv[8].val.type == MSGPACK_OBJECT_BOOLEAN && kv[8].val.via.boolean);
        const msgpack_object *ls = &kv[9].val;
        CHECK(ls->type == MSGPACK_OBJECT_ARRAY && ls->via.array.size == (uint32_t)a->lora->n);
        for (uint32_t i = 0; ls->type == MSGPACK_OBJECT_ARRAY && i < ls->via.array.size; i++)
            CHECK(str_is(&ls->via.array.ptr[i], a->names[i]));
    }
    msgpack_unpacked_destroy(&u);
}

/* An adapter file is a tar (ustar; regular members 0644, dated 0, owned by 0; nothing after
 * the two zero blocks that end it) of adapter.mp, then tensors/NAME.lora_A and .lora_B,
 * the float32 adapters of every adapted layer in order, and nothing else. */
static void adapter_files_are_laid_out_as_documented(void)
{
    char dir[] = "/tmp/test_lora.XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/a.tar", dir);
    model *m = tiny("hawk");
    randomize(model_params(m), 21, 0.5);
    const model_linear *lins;
    int n_linears = model_linears(m, &lins);
    uint64_t base = adapter_base_hash(m);
    adapter *ad = adapter_new(m, &(adapter_config){
                                     .lora = {.rank = 2, .alpha = 3, .dropout = 0.25,
                                              .targets = LORA_ALL},
                                     .nf4 = true});
    CHECK_EQ_INT(ad->lora->n, n_linears);
    randomize(&ad->lora->params, 22, 0.4);
    adapter_write(ad, path);

    const param_set *ps = &ad->lora->params;
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    CHECK(archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK);
    struct archive_entry *e;
    static char data[1 << 16];
    int k = 0;
    size_t blocks = 2; /* the zero blocks that end the archive */
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        size_t size = 0;
        for (la_ssize_t n; (n = archive_read_data(a, data + size, sizeof data - size)) > 0;)
            size += (size_t)n;
        CHECK_EQ_INT(archive_entry_size(e), size);
        CHECK_EQ_INT(archive_format(a), ARCHIVE_FORMAT_TAR_USTAR);
        CHECK_EQ_INT(archive_entry_filetype(e), AE_IFREG);
        CHECK_EQ_INT(archive_entry_perm(e), 0644);
        CHECK_EQ_INT(archive_entry_mtime(e), 0);
        CHECK_EQ_INT(archive_entry_uid(e) | archive_entry_gid(e), 0);
        blocks += 1 + (size + 511) / 512;
        char want[160] = "adapter.mp";
        if (k == 0) {
            check_adapter_meta(data, size, ad, base);
        } else if (k <= ps->n) {
            snprintf(want, sizeof want, "tensors/%s.lora_%c", lins[(k - 1) / 2].name,
                     k % 2 ? 'A' : 'B');
            CHECK(size == ps->info[k - 1].count * sizeof(float) &&
                  memcmp(data, param_w(ps, k - 1), size) == 0);
        }
        CHECK_STR(archive_entry_pathname(e), want);
        k++;
    }
    CHECK_EQ_INT(k, 1 + ps->n);
    archive_read_free(a);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (size_t)st.st_size == 512 * blocks);
    CHECK(unlink(path) == 0 && rmdir(dir) == 0);
    adapter_free(ad);
    model_free(m);
}

static _Noreturn void child_exit(int code) { _exit(code); }

/* The exit status of adapter_load(m, path) in a child process (which dies as the tool
 * would, without cleaning up: the parent's memory is left alone). */
static int load_status(model *m, const char *path)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        err_set_exit_hook(child_exit);
        adapter_load(m, path);
        _exit(0);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* An adapter file gives back the adapted model's logits on a fresh copy of its base, and
 * a base that differs in one weight refuses it (exit 65). */
static void adapter_files_round_trip_and_name_their_base(void)
{
    char dir[] = "/tmp/test_lora.XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/a.tar", dir);
    static fd_case k;
    k.m = tiny("gpt");
    randomize(model_params(k.m), 17, 0.5);
    make_batch(&k, 18);
    adapter *ad = adapter_new(k.m, &(adapter_config){
                                       .lora = {.rank = 2, .alpha = 4, .dropout = 0.1,
                                                .targets = LORA_MLP}});
    randomize(&ad->lora->params, 19, 0.4);
    model_plan(k.m, B, T, false);
    static float want[N * V], got[N * V];
    copy_logits(k.m, &k, want);
    adapter_write(ad, path);

    model *m2 = tiny("gpt");
    randomize(model_params(m2), 17, 0.5);
    adapter *back = adapter_load(m2, path);
    CHECK_EQ_INT(back->lora->cfg.rank, 2);
    CHECK_NEAR(back->lora->cfg.dropout, 0.1, 1e-12);
    CHECK_EQ_INT(back->lora->cfg.targets, LORA_MLP);
    model_plan(m2, B, T, false);
    copy_logits(m2, &k, got);
    CHECK(memcmp(want, got, sizeof want) == 0);
    adapter_free(back);

    model *m3 = tiny("gpt");
    randomize(model_params(m3), 17, 0.5);
    param_w(model_params(m3), 5)[0] += 1e-3f;
    CHECK_EQ_INT(load_status(m3, path), EX_DATAERR);
    snprintf(path, sizeof path, "%s/missing.tar", dir);
    CHECK_EQ_INT(load_status(m3, path), EX_NOINPUT);
    adapter_free(ad);
    model_free(k.m);
    model_free(m2);
    model_free(m3);
}

static void ranks_must_fit_the_layers(void)
{
    model *m = tiny("gpt");
    EXPECT_DIE(EX_USAGE, adapter_new(m, &(adapter_config){
                                            .lora = {.rank = C + 1, .alpha = 1,
                                                     .targets = LORA_ATTN}}));
    model_free(m);
    CHECK_EQ_INT(lora_targets_parse("attention"), LORA_ATTN);
    CHECK_EQ_INT(lora_targets_parse("all"), LORA_ALL);
    CHECK_EQ_INT(lora_targets_parse("ffn"), 0);
    CHECK(lora_targets_match(LORA_ATTN, "h.1.rec.lru.a_gate"));
    CHECK(!lora_targets_match(LORA_ATTN, "h.1.mlp.fc1"));
}

int main(void)
{
    RUN(frozen_tensors_get_no_gradient);
    RUN(zero_b_equals_base_and_merge_equals_adapted);
    RUN(adapter_gradients_match_finite_differences);
    RUN(adapter_products_match_naive_loops);
    RUN(dropout_only_in_training);
    RUN(adapter_files_are_laid_out_as_documented);
    RUN(adapter_files_round_trip_and_name_their_base);
    RUN(ranks_must_fit_the_layers);
    return check_done();
}
