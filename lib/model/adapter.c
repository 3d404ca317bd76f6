#include "model/adapter.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/outfile.h"

static const char FORMAT[] = "runnel-adapter";
enum { VERSION = 1, MAX_META = 1 << 20 };

uint64_t adapter_base_hash(const model *m)
{
    const param_set *ps = &m->params;
    uint64_t h = 0;
    for (int i = 0; i < ps->n; i++) {
        const param_info *p = &ps->info[i];
        h = hash64(p->name, strlen(p->name), h);
        h = hash64(p->shape, (size_t)p->ndim * sizeof *p->shape, h);
        h = hash64(param_w(ps, i), p->count * sizeof(float), h);
    }
    return h;
}

adapter *adapter_new(model *m, const adapter_config *cfg)
{
    const model_linear *ls;
    int n = model_linears(m, &ls), matched = 0;
    for (int i = 0; i < n; i++) /* the settings first, before anything changes */
        if (lora_targets_match(cfg->lora.targets, ls[i].name)) {
            lora_check(&cfg->lora, ls[i].lin, ls[i].name);
            matched++;
        }
    if (!matched)
        die(EX_USAGE, "targets \"%s\" cover no layer of this %s model",
            lora_targets_name(cfg->lora.targets), m->cfg.arch);
    adapter *a = xcalloc(1, sizeof *a);
    a->cfg = *cfg;
    a->m = m;
    a->base_hash = adapter_base_hash(m);
    param_set *ps = model_params(m);
    for (int i = 0; i < ps->n; i++)
        ps->info[i].flags |= PARAM_FROZEN;
    if (cfg->nf4) {
        a->nf4 = xcalloc((size_t)n, sizeof *a->nf4);
        for (int i = 0; i < n; i++)
            nf4_linear_attach(&a->nf4[i], ls[i].lin, &a->scratch);
        a->n_nf4 = n;
    }
    linear **lins = xmalloc((size_t)n * sizeof *lins);
    a->names = xmalloc((size_t)n * sizeof *a->names);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (lora_targets_match(cfg->lora.targets, ls[i].name)) {
            lins[k] = ls[i].lin;
            a->names[k++] = xstrdup(ls[i].name);
        }
    a->lora = lora_new(&cfg->lora, k, lins, (const char *const *)a->names);
    free(lins);
    lora_attach(a->lora);
    return a;
}

void adapter_merge(adapter *a)
{
    lora_detach(a->lora);
    for (int i = 0; i < a->n_nf4; i++)
        nf4_linear_detach(&a->nf4[i]);
    a->n_nf4 = 0;
    lora_merge(a->lora);
}

void adapter_base_bytes(const adapter *a, size_t *nf4_bytes, size_t *fp32_bytes)
{
    *nf4_bytes = *fp32_bytes = 0;
    for (int i = 0; i < a->n_nf4; i++) {
        *nf4_bytes += nf4_linear_bytes(&a->nf4[i]);
        *fp32_bytes += a->nf4[i].q.n * sizeof(float);
    }
}

void adapter_free(adapter *a)
{
    if (!a)
        return;
    int n = a->lora->n;
    lora_free(a->lora);
    for (int i = 0; i < a->n_nf4; i++)
        nf4_linear_detach(&a->nf4[i]);
    free(a->nf4);
    nf4_scratch_free(&a->scratch);
    for (int i = 0; i < n; i++)
        free(a->names[i]);
    free(a->names);
    free(a);
}

/* ---- writing ---- */

static void pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

typedef struct {
    struct archive *a;
    const char *path;
} writer;

static _Noreturn void write_failed(const writer *w)
{
    die(EX_IOERR, "%s: cannot write adapter: %s", w->path, archive_error_string(w->a));
}

static void put_member(const writer *w, const char *name, const void *data, size_t len)
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
    for (const char *p = data; len > 0;) {
        la_ssize_t n = archive_write_data(w->a, p, len);
        if (n <= 0)
            write_failed(w);
        p += n;
        len -= (size_t)n;
    }
}

void adapter_write(const adapter *a, const char *path)
{
    const lora_config *c = &a->cfg.lora;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char hash[17];
    snprintf(hash, sizeof hash, "%016" PRIx64, a->base_hash);
    msgpack_pack_map(&pk, 10);
    pack_str(&pk, "format"), pack_str(&pk, FORMAT);
    pack_str(&pk, "version"), msgpack_pack_int(&pk, VERSION);
    pack_str(&pk, "base"), pack_str(&pk, hash);
    pack_str(&pk, "arch"), pack_str(&pk, a->m->cfg.arch);
    pack_str(&pk, "rank"), msgpack_pack_int(&pk, c->rank);
    pack_str(&pk, "alpha"), msgpack_pack_double(&pk, c->alpha);
    pack_str(&pk, "dropout"), msgpack_pack_double(&pk, c->dropout);
    pack_str(&pk, "targets"), pack_str(&pk, lora_targets_name(c->targets));
    pack_str(&pk, "nf4");
    if (a->cfg.nf4)
        msgpack_pack_true(&pk);
    else
        msgpack_pack_false(&pk);
    pack_str(&pk, "layers");
    msgpack_pack_array(&pk, (size_t)a->lora->n);
    for (int i = 0; i < a->lora->n; i++)
        pack_str(&pk, a->names[i]);

    outfile *f = outfile_open(path);
    writer w = {archive_write_new(), path};
    if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
        archive_write_open_fd(w.a, outfile_fd(f)) != ARCHIVE_OK)
        write_failed(&w);
    put_member(&w, "adapter.mp", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    const param_set *ps = &a->lora->params;
    char name[PARAM_NAME_MAX + 16];
    for (int i = 0; i < ps->n; i++) {
        snprintf(name, sizeof name, "tensors/%s", ps->info[i].name);
        put_member(&w, name, param_w(ps, i), ps->info[i].count * sizeof(float));
    }
    if (archive_write_close(w.a) != ARCHIVE_OK)
        write_failed(&w);
    archive_write_free(w.a);
    outfile_commit(f);
}

/* ---- reading ---- */

typedef struct {
    struct archive *a;
    int fd;
    const char *path;
    msgpack_unpacked meta;
    char *buf;
} reader;

static _Noreturn void bad(const reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static _Noreturn void bad(const reader *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    die(EX_DATAERR, "%s: %s", r->path, msg);
}

/* The next member's header and size; false at the end of the archive. */
static bool next_member(reader *r, struct archive_entry **e, size_t *size)
{
    int rc = archive_read_next_header(r->a, e);
    if (rc == ARCHIVE_EOF)
        return false;
    if (rc != ARCHIVE_OK)
        bad(r, "not an adapter file (tar archive): %s", archive_error_string(r->a));
    if (archive_entry_filetype(*e) != AE_IFREG || !archive_entry_pathname(*e) ||
        !archive_entry_size_is_set(*e) || archive_entry_size(*e) < 0)
        bad(r, "a member is not a regular file of known size");
    *size = (size_t)archive_entry_size(*e);
    return true;
}

static void read_exact(reader *r, const char *member, void *dst, size_t len)
{
    for (char *p = dst; len > 0;) {
        la_ssize_t n = archive_read_data(r->a, p, len);
        if (n <= 0)
            bad(r, "member %.200s: %s", member, n < 0 ? archive_error_string(r->a) : "truncated");
        p += n;
        len -= (size_t)n;
    }
}

/* The value of key in the map, or NULL. */
static const msgpack_object *field(const msgpack_object_map *map, const char *key)
{
    for (uint32_t i = 0; i < map->size; i++) {
        const msgpack_object *k = &map->ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
            return &map->ptr[i].val;
    }
    return NULL;
}

static bool str_is(const msgpack_object *o, const char *s)
{
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* A string field into buf (NUL-terminated). */
static void get_str(reader *r, const msgpack_object_map *map, const char *key, char *buf,
                    size_t len)
{
    const msgpack_object *o = field(map, key);
    if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len)
        bad(r, "adapter.mp: \"%s\" is missing or not a short string", key);
    memcpy(buf, o->via.str.ptr, o->via.str.size);
    buf[o->via.str.size] = 0;
}

static double get_num(reader *r, const msgpack_object_map *map, const char *key)
{
    const msgpack_object *o = field(map, key);
    if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (double)o->via.u64;
    if (o && (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32))
        return o->via.f64;
    bad(r, "adapter.mp: \"%s\" is missing or not a number", key);
}

/* adapter.mp: the settings, after checking the format and the base. */
static adapter_config read_meta(reader *r, const model *m, const msgpack_object_array **layers)
{
    struct archive_entry *e;
    size_t size;
    if (!next_member(r, &e, &size) || strcmp(archive_entry_pathname(e), "adapter.mp") != 0)
        bad(r, "not an adapter file: the first member is not adapter.mp");
    if (size > MAX_META)
        bad(r, "adapter.mp: %zu bytes, more than the %d allowed", size, MAX_META);
    r->buf = xmalloc(size ? size : 1);
    read_exact(r, "adapter.mp", r->buf, size);
    size_t off = 0;
    if (msgpack_unpack_next(&r->meta, r->buf, size, &off) != MSGPACK_UNPACK_SUCCESS ||
        off != size || r->meta.data.type != MSGPACK_OBJECT_MAP)
        bad(r, "adapter.mp: not one msgpack map");
    const msgpack_object_map *map = &r->meta.data.via.map;
    if (!str_is(field(map, "format"), FORMAT))
        bad(r, "adapter.mp: \"format\" is not \"%s\"", FORMAT);
    if (get_num(r, map, "version") != VERSION)
        bad(r, "adapter.mp: format version %g, this runnel reads %d",
            get_num(r, map, "version"), VERSION);
    char hash[32], want[17], arch[16], targets[16];
    get_str(r, map, "base", hash, sizeof hash);
    snprintf(want, sizeof want, "%016" PRIx64, adapter_base_hash(m));
    if (strcmp(hash, want) != 0)
        bad(r, "an adapter for another base (hash %s); this model's is %s", hash, want);
    get_str(r, map, "arch", arch, sizeof arch);
    get_str(r, map, "targets", targets, sizeof targets);
    adapter_config c = {.lora = {.rank = (int)get_num(r, map, "rank"),
                                 .alpha = get_num(r, map, "alpha"),
                                 .dropout = get_num(r, map, "dropout"),
                                 .targets = lora_targets_parse(targets)}};
    const msgpack_object *nf4 = field(map, "nf4"), *ls = field(map, "layers");
    if (!nf4 || nf4->type != MSGPACK_OBJECT_BOOLEAN)
        bad(r, "adapter.mp: \"nf4\" is missing or not a boolean");
    c.nf4 = nf4->via.boolean;
    if (!c.lora.targets || c.lora.rank < 1 || !(c.lora.alpha > 0) ||
        !(c.lora.dropout >= 0 && c.lora.dropout < 1))
        bad(r, "adapter.mp: bad settings (targets \"%s\", rank %d, alpha %g, dropout %g)",
            targets, c.lora.rank, c.lora.alpha, c.lora.dropout);
    if (!ls || ls->type != MSGPACK_OBJECT_ARRAY)
        bad(r, "adapter.mp: \"layers\" is missing or not an array");
    *layers = &ls->via.array;
    return c;
}

adapter *adapter_load(model *m, const char *path)
{
    reader r = {.path = path};
    r.fd = open(path, O_RDONLY);
    if (r.fd < 0)
        die(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: cannot open: %s", path,
            strerror(errno));
    r.a = archive_read_new();
    archive_read_support_format_tar(r.a);
    if (archive_read_open_fd(r.a, r.fd, 1 << 16) != ARCHIVE_OK)
        bad(&r, "not an adapter file (tar archive): %s", archive_error_string(r.a));
    msgpack_unpacked_init(&r.meta);
    const msgpack_object_array *layers;
    adapter_config c = read_meta(&r, m, &layers);
    adapter *a = adapter_new(m, &c);
    if (layers->size != (uint32_t)a->lora->n)
        bad(&r, "adapter.mp: %u layers, but targets \"%s\" cover %d of this model",
            layers->size, lora_targets_name(c.lora.targets), a->lora->n);
    for (int i = 0; i < a->lora->n; i++)
        if (!str_is(&layers->ptr[i], a->names[i]))
            bad(&r, "adapter.mp: layer %d is not %s", i, a->names[i]);
    param_set *ps = &a->lora->params;
    unsigned char *seen = xcalloc((size_t)ps->n, 1);
    struct archive_entry *e;
    size_t size;
    while (next_member(&r, &e, &size)) {
        const char *member = archive_entry_pathname(e);
        int i = strncmp(member, "tensors/", 8) == 0 ? param_find(ps, member + 8) : -1;
        if (i < 0)
            bad(&r, "unknown member %.200s", member);
        if (seen[i]++)
            bad(&r, "member %.200s appears twice", member);
        if (size != ps->info[i].count * sizeof(float))
            bad(&r, "member %.200s: %zu bytes, expected %zu", member, size,
                ps->info[i].count * sizeof(float));
        read_exact(&r, member, param_w(ps, i), size);
    }
    for (int i = 0; i < ps->n; i++)
        if (!seen[i])
            bad(&r, "member tensors/%s is missing", ps->info[i].name);
    free(seen);
    free(r.buf);
    msgpack_unpacked_destroy(&r.meta);
    archive_read_free(r.a);
    close(r.fd);
    return a;
}
