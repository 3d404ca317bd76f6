#include "model/adapter.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/hash.h"
#include "model/tarfile.h"

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

void adapter_write(const adapter *a, const char *path)
{
    const lora_config *c = &a->cfg.lora;
    char hash[17];
    snprintf(hash, sizeof hash, "%016" PRIx64, a->base_hash);
    tar_writer w;
    tar_create(&w, path, "adapter");
    msgpack_packer *pk = &w.pk;
    msgpack_pack_map(pk, 10);
    tar_pack_str(pk, "format"), tar_pack_str(pk, FORMAT);
    tar_pack_str(pk, "version"), msgpack_pack_int(pk, VERSION);
    tar_pack_str(pk, "base"), tar_pack_str(pk, hash);
    tar_pack_str(pk, "arch"), tar_pack_str(pk, a->m->cfg.arch);
    tar_pack_str(pk, "rank"), msgpack_pack_int(pk, c->rank);
    tar_pack_str(pk, "alpha"), msgpack_pack_double(pk, c->alpha);
    tar_pack_str(pk, "dropout"), msgpack_pack_double(pk, c->dropout);
    tar_pack_str(pk, "targets"), tar_pack_str(pk, lora_targets_name(c->targets));
    tar_pack_str(pk, "nf4");
    if (a->cfg.nf4)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
    tar_pack_str(pk, "layers");
    msgpack_pack_array(pk, (size_t)a->lora->n);
    for (int i = 0; i < a->lora->n; i++)
        tar_pack_str(pk, a->names[i]);
    tar_put_map(&w, "adapter.mp");
    tar_put_tensors(&w, "tensors/", &a->lora->params, a->lora->params.w, false);
    tar_finish(&w);
}

/* ---- reading ---- */

typedef struct {
    tar_reader tar;
    msgpack_unpacked meta;
} reader;

/* The next member (r->tar.member, of r->tar.size bytes); false at the end of the archive. */
static bool next_member(reader *r)
{
    tar_entry got = tar_next(&r->tar);
    if (got == TAR_DAMAGED)
        tar_bad(&r->tar, "not an adapter file (tar archive): %s", tar_error(&r->tar));
    if (got != TAR_MEMBER && got != TAR_END)
        tar_bad(&r->tar, "a member is not a regular file of known size");
    return got == TAR_MEMBER;
}

/* The value of key in the map, or NULL. */
static const msgpack_object *field(const msgpack_object_map *map, const char *key)
{
    for (uint32_t i = 0; i < map->size; i++)
        if (tar_str_is(&map->ptr[i].key, key))
            return &map->ptr[i].val;
    return NULL;
}

/* A string field into buf (NUL-terminated). */
static void get_str(reader *r, const msgpack_object_map *map, const char *key, char *buf,
                    size_t len)
{
    const msgpack_object *o = field(map, key);
    if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len)
        tar_bad(&r->tar, "adapter.mp: \"%s\" is missing or not a short string", key);
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
    tar_bad(&r->tar, "adapter.mp: \"%s\" is missing or not a number", key);
}

/* adapter.mp: the settings, after checking the format and the base. */
static adapter_config read_meta(reader *r, const model *m, const msgpack_object_array **layers)
{
    tar_reader *t = &r->tar;
    if (!next_member(r) || strcmp(t->member, "adapter.mp") != 0)
        tar_bad(t, "not an adapter file: the first member is not adapter.mp");
    if (t->size > MAX_META)
        tar_bad(t, "adapter.mp: %" PRIu64 " bytes, more than the %d allowed", t->size,
                MAX_META);
    char msg[64];
    const msgpack_object_map *map =
        tar_map_unpack(&r->meta, tar_read_whole(t), (size_t)t->size, msg, sizeof msg);
    if (!map)
        tar_bad(t, "adapter.mp: %s", msg);
    if (!tar_str_is(field(map, "format"), FORMAT))
        tar_bad(t, "adapter.mp: \"format\" is not \"%s\"", FORMAT);
    if (get_num(r, map, "version") != VERSION)
        tar_bad(t, "adapter.mp: format version %g, this runnel reads %d",
                get_num(r, map, "version"), VERSION);
    char hash[32], want[17], arch[16], targets[16];
    get_str(r, map, "base", hash, sizeof hash);
    snprintf(want, sizeof want, "%016" PRIx64, adapter_base_hash(m));
    if (strcmp(hash, want) != 0)
        tar_bad(t, "an adapter for another base (hash %s); this model's is %s", hash, want);
    get_str(r, map, "arch", arch, sizeof arch);
    get_str(r, map, "targets", targets, sizeof targets);
    adapter_config c = {.lora = {.rank = (int)get_num(r, map, "rank"),
                                 .alpha = get_num(r, map, "alpha"),
                                 .dropout = get_num(r, map, "dropout"),
                                 .targets = lora_targets_parse(targets)}};
    const msgpack_object *nf4 = field(map, "nf4"), *ls = field(map, "layers");
    if (!nf4 || nf4->type != MSGPACK_OBJECT_BOOLEAN)
        tar_bad(t, "adapter.mp: \"nf4\" is missing or not a boolean");
    c.nf4 = nf4->via.boolean;
    if (!c.lora.targets || c.lora.rank < 1 || !(c.lora.alpha > 0) ||
        !(c.lora.dropout >= 0 && c.lora.dropout < 1))
        tar_bad(t, "adapter.mp: bad settings (targets \"%s\", rank %d, alpha %g, dropout %g)",
                targets, c.lora.rank, c.lora.alpha, c.lora.dropout);
    if (!ls || ls->type != MSGPACK_OBJECT_ARRAY)
        tar_bad(t, "adapter.mp: \"layers\" is missing or not an array");
    *layers = &ls->via.array;
    return c;
}

adapter *adapter_load(model *m, const char *path)
{
    reader r;
    int fd = tar_open_file(path);
    tar_start(&r.tar, fd, path, "an adapter file");
    const msgpack_object_array *layers;
    adapter_config c = read_meta(&r, m, &layers);
    adapter *a = adapter_new(m, &c);
    if (layers->size != (uint32_t)a->lora->n)
        tar_bad(&r.tar, "adapter.mp: %u layers, but targets \"%s\" cover %d of this model",
                layers->size, lora_targets_name(c.lora.targets), a->lora->n);
    for (int i = 0; i < a->lora->n; i++)
        if (!tar_str_is(&layers->ptr[i], a->names[i]))
            tar_bad(&r.tar, "adapter.mp: layer %d is not %s", i, a->names[i]);
    param_set *ps = &a->lora->params;
    unsigned char *seen = xcalloc((size_t)ps->n, 1);
    while (next_member(&r)) {
        const char *member = r.tar.member;
        int i = strncmp(member, "tensors/", 8) == 0 ? param_find(ps, member + 8) : -1;
        if (i < 0)
            tar_bad(&r.tar, "unknown member %.200s", member);
        if (seen[i]++)
            tar_bad(&r.tar, "member %.200s appears twice", member);
        if (r.tar.size != ps->info[i].count * sizeof(float))
            tar_bad(&r.tar, "member %.200s: %" PRIu64 " bytes, expected %zu", member,
                    r.tar.size, ps->info[i].count * sizeof(float));
        tar_read(&r.tar, param_w(ps, i), ps->info[i].count * sizeof(float));
    }
    for (int i = 0; i < ps->n; i++)
        if (!seen[i])
            tar_bad(&r.tar, "member tensors/%s is missing", ps->info[i].name);
    free(seen);
    msgpack_unpacked_destroy(&r.meta);
    tar_close(&r.tar);
    close(fd);
    return a;
}
