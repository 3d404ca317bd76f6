/* Checkpoints: tar archives of a model's configuration, tensors and training state. */
#include "model/ckpt.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"

static const char FORMAT[] = "runnel-ckpt";

/* Members other than tensors are small; these bound what a damaged file can make us
 * allocate before its data runs out. */
enum {
    MAX_CONFIG = 1 << 16,
    MAX_TOKENIZER = 1 << 30,
    MAX_TRAIN_STATE = 1 << 20,
};

void ckpt_write(const char *path, const ckpt_contents *c)
{
    const model_config *cfg = c->cfg;
    const struct { const char *key; int value; } sizes[] = {
        {"vocab", cfg->vocab}, {"layers", cfg->layers}, {"width", cfg->width},
        {"heads", cfg->heads}, {"context", cfg->context}, {"mlp", cfg->mlp},
        {"lru", cfg->lru}, {"conv", cfg->conv},
    };
    tar_writer w;
    tar_create(&w, path, "checkpoint");
    msgpack_packer *pk = &w.pk;
    msgpack_pack_map(pk, 3 + sizeof sizes / sizeof *sizes);
    tar_pack_str(pk, "format");
    tar_pack_str(pk, FORMAT);
    tar_pack_str(pk, "version");
    msgpack_pack_int(pk, CKPT_VERSION);
    tar_pack_str(pk, "arch");
    tar_pack_str(pk, cfg->arch);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        tar_pack_str(pk, sizes[i].key);
        msgpack_pack_int(pk, sizes[i].value);
    }
    tar_put_map(&w, "config.mp");
    if (c->tokenizer)
        tar_put(&w, "tokenizer.mp", c->tokenizer, c->tokenizer_len);
    if (c->train_state)
        tar_put(&w, "state/train.mp", c->train_state, c->train_state_len);
    tar_put_tensors(&w, "tensors/", c->params, c->params->w, false);
    if (c->adam_m && c->adam_v) {
        tar_put_tensors(&w, "state/adam_m/", c->params, c->adam_m, true);
        tar_put_tensors(&w, "state/adam_v/", c->params, c->adam_v, true);
    }
    tar_finish(&w);
}

/* ---- reading ---- */

/* The next member (r->tar.member, of r->tar.size bytes); false at the end of the archive. */
static bool next_member(ckpt_reader *r, bool first)
{
    tar_reader *t = &r->tar;
    switch (tar_next(t)) {
    case TAR_MEMBER:
        break;
    case TAR_END:
        if (first)
            tar_bad(t, "empty archive: not a checkpoint");
        return false;
    case TAR_DAMAGED:
        tar_bad(t, "%s: %s", first ? "not a checkpoint (tar archive)" : "damaged archive",
                tar_error(t));
    case TAR_NOT_FILE:
        tar_bad(t, "member %.200s: not a regular file", t->member);
    case TAR_NO_NAME:
        tar_bad(t, "a member has no name");
    case TAR_NO_SIZE:
        tar_bad(t, "member %.200s: no size", t->member);
    }
    return true;
}

/* The whole current member, at most max bytes; its size in *len. */
static const char *read_small(ckpt_reader *r, size_t max, size_t *len)
{
    if (r->tar.size > max)
        tar_bad(&r->tar, "member %.200s: %lld bytes, more than the %zu allowed", r->tar.member,
                (long long)r->tar.size, max);
    *len = (size_t)r->tar.size;
    return tar_read_whole(&r->tar);
}

/* Parse config.mp into cfg; NULL, or what is wrong in msg. */
static const char *parse_config(const char *buf, size_t len, model_config *cfg, char *msg,
                                size_t msglen)
{
    static const struct { const char *key; size_t field; int max; } ints[] = {
        {"vocab", offsetof(model_config, vocab), 1 << 24},
        {"layers", offsetof(model_config, layers), 1 << 12},
        {"width", offsetof(model_config, width), 1 << 16},
        {"heads", offsetof(model_config, heads), 1 << 12},
        {"context", offsetof(model_config, context), 1 << 20},
        {"mlp", offsetof(model_config, mlp), 1 << 18},
        {"lru", offsetof(model_config, lru), 1 << 16},
        {"conv", offsetof(model_config, conv), 1 << 8},
    };
    enum { N_INTS = sizeof ints / sizeof *ints };
    bool have[N_INTS] = {false}, have_format = false, have_version = false, have_arch = false;
    memset(cfg, 0, sizeof *cfg);
    msgpack_unpacked u;
    const msgpack_object_map *map = tar_map_unpack(&u, buf, len, msg, msglen);
    for (uint32_t i = 0; map && i < map->size && !msg[0]; i++) {
        const msgpack_object *k = &map->ptr[i].key, *v = &map->ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR) {
            snprintf(msg, msglen, "a key is not a string");
            break;
        }
        bool is_uint = v->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
        if (tar_str_is(k, "format")) {
            if (!tar_str_is(v, FORMAT))
                snprintf(msg, msglen, "\"format\" is not \"%s\"", FORMAT);
            have_format = true;
        } else if (tar_str_is(k, "version")) {
            if (!is_uint || v->via.u64 < 1)
                snprintf(msg, msglen, "\"version\" is not a positive integer");
            else if (v->via.u64 > CKPT_VERSION)
                snprintf(msg, msglen, "format version %llu is newer than this runnel reads (%d)",
                         (unsigned long long)v->via.u64, CKPT_VERSION);
            have_version = true;
        } else if (tar_str_is(k, "arch")) {
            if (v->type != MSGPACK_OBJECT_STR || v->via.str.size == 0 ||
                v->via.str.size >= sizeof cfg->arch)
                snprintf(msg, msglen, "\"arch\" is not an architecture name");
            else
                memcpy(cfg->arch, v->via.str.ptr, v->via.str.size);
            have_arch = true;
        } else {
            int j = 0;
            while (j < N_INTS && !tar_str_is(k, ints[j].key))
                j++;
            if (j == N_INTS)
                snprintf(msg, msglen, "unknown key \"%.*s\"",
                         k->via.str.size > 64 ? 64 : (int)k->via.str.size, k->via.str.ptr);
            else if (have[j])
                snprintf(msg, msglen, "key \"%s\" appears twice", ints[j].key);
            else if (!is_uint || v->via.u64 > (uint64_t)ints[j].max)
                snprintf(msg, msglen, "\"%s\" is not an integer from 0 to %d", ints[j].key,
                         ints[j].max);
            else
                *(int *)((char *)cfg + ints[j].field) = (int)v->via.u64;
            if (j < N_INTS)
                have[j] = true;
        }
    }
    if (msg[0])
        goto done;
    if (!have_format || !have_version || !have_arch) {
        snprintf(msg, msglen, "key \"%s\" is missing",
                 !have_format ? "format" : !have_version ? "version" : "arch");
        goto done;
    }
    for (int j = 0; j < N_INTS; j++)
        if (!have[j]) {
            snprintf(msg, msglen, "key \"%s\" is missing", ints[j].key);
            goto done;
        }
    const char *why = model_config_finish(cfg);
    if (why)
        snprintf(msg, msglen, "%s (arch \"%s\")", why, cfg->arch);
done:
    msgpack_unpacked_destroy(&u);
    return msg[0] ? msg : NULL;
}

/* Start reading from fd; the reader closes fd when it owns it. */
static void open_reader(ckpt_reader *r, int fd, bool owns, const char *name)
{
    memset(r, 0, sizeof *r);
    r->fd = owns ? fd : -1;
    r->name = xstrdup(name);
    tar_reader *t = &r->tar;
    tar_start(t, fd, r->name, "a checkpoint");
    next_member(r, true);
    if (strcmp(t->member, "config.mp") != 0)
        tar_bad(t, "the first member is %.200s, expected config.mp", t->member);
    size_t len;
    const char *buf = read_small(r, MAX_CONFIG, &len);
    char msg[256];
    if (parse_config(buf, len, &r->cfg, msg, sizeof msg))
        tar_bad(t, "member config.mp: %s", msg);
    /* the small members up to the first tensor, where ckpt_read() goes on */
    while (next_member(r, false)) {
        bool tok = strcmp(t->member, "tokenizer.mp") == 0;
        if (!tok && strcmp(t->member, "state/train.mp") != 0)
            return;
        if (tok ? r->tokenizer != NULL : r->train_state != NULL)
            tar_bad(t, "member %s appears twice", t->member);
        buf = read_small(r, tok ? MAX_TOKENIZER : MAX_TRAIN_STATE, &len);
        char *copy = xmalloc(len);
        if (len)
            memcpy(copy, buf, len);
        if (tok) {
            r->tokenizer = copy;
            r->tokenizer_len = len;
        } else {
            r->train_state = copy;
            r->train_state_len = len;
        }
    }
}

void ckpt_open_fd(ckpt_reader *r, int fd, const char *name) { open_reader(r, fd, false, name); }

void ckpt_open(ckpt_reader *r, const char *path)
{
    open_reader(r, tar_open_file(path), true, path);
}

enum { TENSOR, MOMENT_M, MOMENT_V };

void ckpt_read(ckpt_reader *r, param_set *ps, float *adam_m, float *adam_v)
{
    static const struct { const char *prefix; int kind; } tensor_dirs[] = {
        {"tensors/", TENSOR}, {"state/adam_m/", MOMENT_M}, {"state/adam_v/", MOMENT_V}};
    tar_reader *t = &r->tar;
    r->seen = xcalloc(3 * (size_t)(ps->n ? ps->n : 1), 1);
    for (bool more = t->member != NULL; more; more = next_member(r, false)) {
        const char *member = t->member;
        bool tok = strcmp(member, "tokenizer.mp") == 0;
        bool train = strcmp(member, "state/train.mp") == 0;
        if (strcmp(member, "config.mp") == 0 || (tok && r->tokenizer) ||
            (train && r->train_state))
            tar_bad(t, "member %s appears twice", member);
        if (tok || train)
            tar_bad(t, "member %s must come before the tensors", member);
        int kind = -1;
        const char *tname = NULL;
        for (size_t d = 0; d < 3; d++) {
            size_t n = strlen(tensor_dirs[d].prefix);
            if (strncmp(member, tensor_dirs[d].prefix, n) == 0) {
                kind = tensor_dirs[d].kind;
                tname = member + n;
            }
        }
        if (kind < 0)
            tar_bad(t, "unknown member %.200s", member);
        int i = param_find(ps, tname);
        if (i < 0)
            tar_bad(t, "member %.200s: no tensor \"%.100s\" in a %s model", member, tname,
                    r->cfg.arch);
        const param_info *p = &ps->info[i];
        if (kind != TENSOR && (p->flags & PARAM_FROZEN) && adam_m)
            tar_bad(t, "member %s: optimizer state of a frozen tensor", member);
        if (r->seen[3 * i + kind])
            tar_bad(t, "member %s appears twice", member);
        r->seen[3 * i + kind] = 1;
        if (t->size != p->count * sizeof(float)) {
            char shape[96] = "";
            for (int d = 0; d < p->ndim; d++)
                snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld",
                         d ? "x" : "", (long long)p->shape[d]);
            tar_bad(t, "member %s: %lld bytes, expected %zu (float32 %s)", member,
                    (long long)t->size, p->count * sizeof(float), shape);
        }
        float *dst = kind == TENSOR ? ps->w : kind == MOMENT_M ? adam_m : adam_v;
        if (dst)
            tar_read(t, dst + p->offset, p->count * sizeof(float));
        else
            tar_skip(t);
    }
    int moments = 0;
    for (int i = 0; i < ps->n; i++) {
        if (!r->seen[3 * i + TENSOR])
            tar_bad(t, "member tensors/%s is missing", ps->info[i].name);
        moments += r->seen[3 * i + MOMENT_M] + r->seen[3 * i + MOMENT_V];
    }
    r->has_moments = moments > 0;
    /* Only a caller that resumes knows which tensors learn, so only it checks that the
     * state is whole. */
    if (r->has_moments && adam_m)
        for (int i = 0; i < ps->n; i++)
            for (int kind = MOMENT_M; kind <= MOMENT_V && !(ps->info[i].flags & PARAM_FROZEN);
                 kind++)
                if (!r->seen[3 * i + kind])
                    tar_bad(t, "member state/adam_%c/%s is missing",
                            kind == MOMENT_M ? 'm' : 'v', ps->info[i].name);
}

void ckpt_close(ckpt_reader *r)
{
    tar_close(&r->tar);
    if (r->fd >= 0)
        close(r->fd);
    free(r->name);
    free(r->tokenizer);
    free(r->train_state);
    free(r->seen);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

model *ckpt_load(ckpt_reader *r, const char *path)
{
    ckpt_open(r, path);
    model *m = model_new(&r->cfg);
    ckpt_read(r, model_params(m), NULL, NULL);
    return m;
}
