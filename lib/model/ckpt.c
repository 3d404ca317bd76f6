/* Checkpoints: tar archives of a model's configuration, tensors and training state. */
#include "model/ckpt.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/outfile.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "checkpoints hold little-endian float32, written straight from memory");

static const char FORMAT[] = "runnel-ckpt";

/* Members other than tensors are small; these bound what a damaged file can make us
 * allocate before its data runs out. */
enum {
    MAX_CONFIG = 1 << 16,
    MAX_TOKENIZER = 1 << 30,
    MAX_TRAIN_STATE = 1 << 20,
};

/* ---- writing ---- */

typedef struct {
    struct archive *a;
    const char *path;
} writer;

static _Noreturn void write_failed(writer *w)
{
    die(EX_IOERR, "%s: cannot write checkpoint: %s", w->path, archive_error_string(w->a));
}

static void put_member(writer *w, const char *name, const void *data, size_t len)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 0, 0);
    if (archive_write_header(w->a, e) != ARCHIVE_OK)
        write_failed(w);
    archive_entry_free(e);
    const char *p = data;
    while (len > 0) {
        la_ssize_t n = archive_write_data(w->a, p, len);
        if (n <= 0)
            write_failed(w);
        p += n;
        len -= (size_t)n;
    }
}

static void put_tensors(writer *w, const char *prefix, const param_set *ps, const float *slab,
                        bool learning_only)
{
    char name[PARAM_NAME_MAX + 32];
    for (int i = 0; i < ps->n; i++) {
        const param_info *p = &ps->info[i];
        if (learning_only && (p->flags & PARAM_FROZEN))
            continue;
        snprintf(name, sizeof name, "%s%s", prefix, p->name);
        put_member(w, name, slab + p->offset, p->count * sizeof(float));
    }
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void ckpt_write(const char *path, const ckpt_contents *c)
{
    const model_config *cfg = c->cfg;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    const struct { const char *key; int value; } sizes[] = {
        {"vocab", cfg->vocab}, {"layers", cfg->layers}, {"width", cfg->width},
        {"heads", cfg->heads}, {"context", cfg->context}, {"mlp", cfg->mlp},
        {"lru", cfg->lru}, {"conv", cfg->conv},
    };
    msgpack_pack_map(&pk, 3 + sizeof sizes / sizeof *sizes);
    pack_str(&pk, "format");
    pack_str(&pk, FORMAT);
    pack_str(&pk, "version");
    msgpack_pack_int(&pk, CKPT_VERSION);
    pack_str(&pk, "arch");
    pack_str(&pk, cfg->arch);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        pack_str(&pk, sizes[i].key);
        msgpack_pack_int(&pk, sizes[i].value);
    }

    outfile *f = outfile_open(path);
    writer w = {archive_write_new(), path};
    if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
        archive_write_open_fd(w.a, outfile_fd(f)) != ARCHIVE_OK)
        write_failed(&w);
    put_member(&w, "config.mp", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (c->tokenizer)
        put_member(&w, "tokenizer.mp", c->tokenizer, c->tokenizer_len);
    if (c->train_state)
        put_member(&w, "state/train.mp", c->train_state, c->train_state_len);
    put_tensors(&w, "tensors/", c->params, c->params->w, false);
    if (c->adam_m && c->adam_v) {
        put_tensors(&w, "state/adam_m/", c->params, c->adam_m, true);
        put_tensors(&w, "state/adam_v/", c->params, c->adam_v, true);
    }
    if (archive_write_close(w.a) != ARCHIVE_OK)
        write_failed(&w);
    archive_write_free(w.a);
    outfile_commit(f);
}

/* ---- reading ---- */

static _Noreturn void bad(const ckpt_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static _Noreturn void bad(const ckpt_reader *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    die(EX_DATAERR, "%s: %s", r->name, msg);
}

/* The next member's header; false at the end of the archive. */
static bool next_member(ckpt_reader *r, struct archive_entry **e, bool first)
{
    int rc = archive_read_next_header(r->a, e);
    if (rc == ARCHIVE_EOF) {
        if (first)
            bad(r, "empty archive: not a checkpoint");
        return false;
    }
    if (rc != ARCHIVE_OK)
        bad(r, "%s: %s", first ? "not a checkpoint (tar archive)" : "damaged archive",
            archive_error_string(r->a));
    if (archive_entry_filetype(*e) != AE_IFREG)
        bad(r, "member %.200s: not a regular file", archive_entry_pathname(*e));
    if (!archive_entry_pathname(*e))
        bad(r, "a member has no name");
    if (!archive_entry_size_is_set(*e) || archive_entry_size(*e) < 0)
        bad(r, "member %.200s: no size", archive_entry_pathname(*e));
    return true;
}

/* Read len bytes of the current member into dst. */
static void read_exact(ckpt_reader *r, const char *member, void *dst, size_t len)
{
    char *p = dst;
    while (len > 0) {
        la_ssize_t n = archive_read_data(r->a, p, len);
        if (n < 0)
            bad(r, "member %.200s: %s", member, archive_error_string(r->a));
        if (n == 0)
            bad(r, "member %.200s: truncated", member);
        p += n;
        len -= (size_t)n;
    }
}

/* The whole current member into r->buf, growing it as data arrives (a header claiming
 * gigabytes allocates nothing until they are there).  Returns its size. */
static size_t read_small(ckpt_reader *r, const char *member, struct archive_entry *e,
                         size_t max)
{
    la_int64_t size = archive_entry_size(e);
    if (size > (la_int64_t)max)
        bad(r, "member %.200s: %lld bytes, more than the %zu allowed", member,
            (long long)size, max);
    size_t have = 0, want = (size_t)size;
    while (have < want) {
        if (r->buf_cap <= have) {
            size_t cap = r->buf_cap ? 2 * r->buf_cap : 1 << 16;
            r->buf_cap = cap < want ? cap : want;
            r->buf = xrealloc(r->buf, r->buf_cap);
        }
        size_t end = r->buf_cap < want ? r->buf_cap : want;
        read_exact(r, member, r->buf + have, end - have);
        have = end;
    }
    return want;
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
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msg[0] = 0;
    if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len ||
        u.data.type != MSGPACK_OBJECT_MAP) {
        snprintf(msg, msglen, "not one msgpack map");
        goto done;
    }
    const msgpack_object_map *map = &u.data.via.map;
    for (uint32_t i = 0; i < map->size && !msg[0]; i++) {
        const msgpack_object *k = &map->ptr[i].key, *v = &map->ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR) {
            snprintf(msg, msglen, "a key is not a string");
            break;
        }
        const char *key = k->via.str.ptr;
        int klen = (int)k->via.str.size;
        bool is_str = v->type == MSGPACK_OBJECT_STR;
        bool is_uint = v->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
#define KEY(s) (klen == (int)strlen(s) && memcmp(key, s, (size_t)klen) == 0)
        if (KEY("format")) {
            if (!is_str || v->via.str.size != strlen(FORMAT) ||
                memcmp(v->via.str.ptr, FORMAT, strlen(FORMAT)) != 0)
                snprintf(msg, msglen, "\"format\" is not \"%s\"", FORMAT);
            have_format = true;
        } else if (KEY("version")) {
            if (!is_uint || v->via.u64 < 1)
                snprintf(msg, msglen, "\"version\" is not a positive integer");
            else if (v->via.u64 > CKPT_VERSION)
                snprintf(msg, msglen, "format version %llu is newer than this runnel reads (%d)",
                         (unsigned long long)v->via.u64, CKPT_VERSION);
            have_version = true;
        } else if (KEY("arch")) {
            if (!is_str || v->via.str.size == 0 || v->via.str.size >= sizeof cfg->arch)
                snprintf(msg, msglen, "\"arch\" is not an architecture name");
            else
                memcpy(cfg->arch, v->via.str.ptr, v->via.str.size);
            have_arch = true;
        } else {
            int j = 0;
            while (j < N_INTS && !KEY(ints[j].key))
                j++;
            if (j == N_INTS)
                snprintf(msg, msglen, "unknown key \"%.*s\"", klen > 64 ? 64 : klen, key);
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
#undef KEY
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
    r->a = archive_read_new();
    archive_read_support_format_tar(r->a);
    if (archive_read_open_fd(r->a, fd, 1 << 16) != ARCHIVE_OK)
        bad(r, "not a checkpoint (tar archive): %s", archive_error_string(r->a));
    struct archive_entry *e;
    next_member(r, &e, true);
    if (strcmp(archive_entry_pathname(e), "config.mp") != 0)
        bad(r, "the first member is %.200s, expected config.mp", archive_entry_pathname(e));
    size_t len = read_small(r, "config.mp", e, MAX_CONFIG);
    char msg[256];
    if (parse_config(r->buf, len, &r->cfg, msg, sizeof msg))
        bad(r, "member config.mp: %s", msg);
    /* the small members up to the first tensor */
    while (next_member(r, &e, false)) {
        const char *member = archive_entry_pathname(e);
        bool tok = strcmp(member, "tokenizer.mp") == 0;
        if (!tok && strcmp(member, "state/train.mp") != 0) {
            r->next = e;
            return;
        }
        if (tok ? r->tokenizer != NULL : r->train_state != NULL)
            bad(r, "member %s appears twice", member);
        len = read_small(r, member, e, tok ? MAX_TOKENIZER : MAX_TRAIN_STATE);
        char *copy = xmalloc(len);
        if (len)
            memcpy(copy, r->buf, len);
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
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: cannot open: %s", path,
            strerror(errno));
    open_reader(r, fd, true, path);
}

enum { TENSOR, MOMENT_M, MOMENT_V };

void ckpt_read(ckpt_reader *r, param_set *ps, float *adam_m, float *adam_v)
{
    static const struct { const char *prefix; int kind; } tensor_dirs[] = {
        {"tensors/", TENSOR}, {"state/adam_m/", MOMENT_M}, {"state/adam_v/", MOMENT_V}};
    r->seen = xcalloc(3 * (size_t)(ps->n ? ps->n : 1), 1);
    for (struct archive_entry *e = r->next; e; e = next_member(r, &e, false) ? e : NULL) {
        const char *member = archive_entry_pathname(e);
        bool tok = strcmp(member, "tokenizer.mp") == 0;
        bool train = strcmp(member, "state/train.mp") == 0;
        if (strcmp(member, "config.mp") == 0 || (tok && r->tokenizer) ||
            (train && r->train_state))
            bad(r, "member %s appears twice", member);
        if (tok || train)
            bad(r, "member %s must come before the tensors", member);
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
            bad(r, "unknown member %.200s", member);
        int i = param_find(ps, tname);
        if (i < 0)
            bad(r, "member %.200s: no tensor \"%.100s\" in a %s model", member, tname,
                r->cfg.arch);
        const param_info *p = &ps->info[i];
        if (kind != TENSOR && (p->flags & PARAM_FROZEN) && adam_m)
            bad(r, "member %s: optimizer state of a frozen tensor", member);
        if (r->seen[3 * i + kind])
            bad(r, "member %s appears twice", member);
        r->seen[3 * i + kind] = 1;
        la_int64_t size = archive_entry_size(e);
        if ((uint64_t)size != p->count * sizeof(float)) {
            char shape[96] = "";
            for (int d = 0; d < p->ndim; d++)
                snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld",
                         d ? "x" : "", (long long)p->shape[d]);
            bad(r, "member %s: %lld bytes, expected %zu (float32 %s)", member, (long long)size,
                p->count * sizeof(float), shape);
        }
        float *dst = kind == TENSOR ? ps->w : kind == MOMENT_M ? adam_m : adam_v;
        if (dst)
            read_exact(r, member, dst + p->offset, p->count * sizeof(float));
        else if (archive_read_data_skip(r->a) != ARCHIVE_OK)
            bad(r, "member %s: %s", member, archive_error_string(r->a));
    }
    int moments = 0;
    for (int i = 0; i < ps->n; i++) {
        if (!r->seen[3 * i + TENSOR])
            bad(r, "member tensors/%s is missing", ps->info[i].name);
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
                    bad(r, "member state/adam_%c/%s is missing", kind == MOMENT_M ? 'm' : 'v',
                        ps->info[i].name);
}

void ckpt_close(ckpt_reader *r)
{
    if (r->a)
        archive_read_free(r->a);
    if (r->fd >= 0)
        close(r->fd);
    free(r->name);
    free(r->tokenizer);
    free(r->train_state);
    free(r->buf);
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
