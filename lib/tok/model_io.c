/* Model files: the model as one msgpack map, checked in full when read. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/outfile.h"
#include "tok/bpe.h"

enum { MODEL_VERSION = 1 };

static void pack_cstr(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

void tok_pack(const bpe_t *m, msgpack_packer *pk)
{
    msgpack_pack_map(pk, 6);
    pack_cstr(pk, "type");
    pack_cstr(pk, "bpe");
    pack_cstr(pk, "version");
    msgpack_pack_uint32(pk, MODEL_VERSION);
    pack_cstr(pk, "pattern");
    pack_cstr(pk, m->pattern);
    pack_cstr(pk, "vocab");
    msgpack_pack_array(pk, m->n_vocab);
    for (uint32_t id = 0; id < m->n_vocab; id++) {
        size_t len;
        const char *t = tok_bytes(m, id, &len);
        msgpack_pack_bin_with_body(pk, t, len);
    }
    pack_cstr(pk, "merges");
    msgpack_pack_array(pk, m->n_merges);
    for (uint32_t i = 0; i < m->n_merges; i++) {
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint32(pk, m->merges[i].left);
        msgpack_pack_uint32(pk, m->merges[i].right);
    }
    pack_cstr(pk, "special");
    msgpack_pack_map(pk, m->n_special);
    for (uint32_t id = tok_first_special(m); id < m->n_vocab; id++) {
        size_t len;
        const char *t = tok_bytes(m, id, &len);
        msgpack_pack_str_with_body(pk, t, len);
        msgpack_pack_uint32(pk, id);
    }
}

static const msgpack_object *find(const msgpack_object_map *map, const char *key)
{
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < map->size; i++) {
        const msgpack_object *k = &map->ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            memcmp(k->via.str.ptr, key, klen) == 0)
            return &map->ptr[i].val;
    }
    return NULL;
}

/* What unpacking has allocated so far, freed on every exit. */
typedef struct {
    char *pattern;
    tok_pair *merges;
    tok_str *special;
    char err[256];
} unpacking;

static bool bad(unpacking *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(unpacking *u, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->err, sizeof u->err, fmt, ap);
    va_end(ap);
    return false;
}

static bool is_uint(const msgpack_object *o) { return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER; }

/* Fill u from o and check everything tok_new() does not: the shape of the map, and that
 * the vocab it lists is the one its bytes, merges and specials make. */
static bool read_parts(const msgpack_object *o, unpacking *u, uint8_t byte_of_id[256],
                       uint32_t *n_merges, uint32_t *n_special)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return bad(u, "expected a map, found %s", rec_type_name(o));
    const msgpack_object_map *map = &o->via.map;
    const msgpack_object *type = find(map, "type"), *version = find(map, "version"),
                         *pattern = find(map, "pattern"), *vocab = find(map, "vocab"),
                         *merges = find(map, "merges"), *special = find(map, "special");
    if (!type || type->type != MSGPACK_OBJECT_STR || type->via.str.size != 3 ||
        memcmp(type->via.str.ptr, "bpe", 3) != 0)
        return bad(u, "not a BPE model: \"type\" must be \"bpe\"");
    if (!version || !is_uint(version) || version->via.u64 != MODEL_VERSION)
        return bad(u, "\"version\" must be %d", MODEL_VERSION);
    if (!pattern || pattern->type != MSGPACK_OBJECT_STR ||
        memchr(pattern->via.str.ptr, 0, pattern->via.str.size))
        return bad(u, "\"pattern\" must be a string without NUL bytes");
    if (!vocab || vocab->type != MSGPACK_OBJECT_ARRAY)
        return bad(u, "\"vocab\" must be an array");
    if (!merges || merges->type != MSGPACK_OBJECT_ARRAY)
        return bad(u, "\"merges\" must be an array");
    if (!special || special->type != MSGPACK_OBJECT_MAP)
        return bad(u, "\"special\" must be a map");
    const msgpack_object *v = vocab->via.array.ptr;
    uint64_t n = vocab->via.array.size, nm = merges->via.array.size, ns = special->via.map.size;
    if (n != 256 + nm + ns)
        return bad(u, "\"vocab\" has %llu tokens, but 256 bytes, %llu merges and %llu specials "
                   "make %llu", (unsigned long long)n, (unsigned long long)nm,
                   (unsigned long long)ns, (unsigned long long)(256 + nm + ns));
    if (n > TOK_MAX_VOCAB)
        return bad(u, "%llu tokens are more than the %d allowed", (unsigned long long)n,
                   TOK_MAX_VOCAB);
    for (uint32_t id = 0; id < n; id++)
        if (v[id].type != MSGPACK_OBJECT_BIN)
            return bad(u, "vocab[%u] is %s, expected binary data", id, rec_type_name(&v[id]));
    for (int id = 0; id < 256; id++) {
        if (v[id].via.bin.size != 1)
            return bad(u, "vocab[%d] must be a single byte", id);
        byte_of_id[id] = (uint8_t)v[id].via.bin.ptr[0];
    }
    u->merges = xmalloc((nm ? nm : 1) * sizeof *u->merges);
    for (uint32_t i = 0; i < nm; i++) {
        const msgpack_object *e = &merges->via.array.ptr[i];
        uint32_t id = 256 + i;
        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
            !is_uint(&e->via.array.ptr[0]) || !is_uint(&e->via.array.ptr[1]))
            return bad(u, "merges[%u] must be a pair of token ids", i);
        uint64_t l = e->via.array.ptr[0].via.u64, r = e->via.array.ptr[1].via.u64;
        if (l >= id || r >= id)
            return bad(u, "merges[%u] joins %llu and %llu, not both made before it", i,
                       (unsigned long long)l, (unsigned long long)r);
        const msgpack_object_bin *bl = &v[l].via.bin, *br = &v[r].via.bin, *bz = &v[id].via.bin;
        if (bz->size != (uint64_t)bl->size + br->size || memcmp(bz->ptr, bl->ptr, bl->size) != 0 ||
            memcmp(bz->ptr + bl->size, br->ptr, br->size) != 0)
            return bad(u, "vocab[%u] is not vocab[%llu] followed by vocab[%llu], as merges[%u] "
                       "says", id, (unsigned long long)l, (unsigned long long)r, i);
        u->merges[i] = (tok_pair){(uint32_t)l, (uint32_t)r};
    }
    uint32_t first = 256 + (uint32_t)nm;
    u->special = xcalloc(ns ? ns : 1, sizeof *u->special);
    for (uint32_t j = 0; j < ns; j++) {
        const msgpack_object_kv *kv = &special->via.map.ptr[j];
        if (kv->key.type != MSGPACK_OBJECT_STR || !is_uint(&kv->val))
            return bad(u, "\"special\" must map strings to token ids");
        uint64_t id = kv->val.via.u64;
        if (id < first || id >= n)
            return bad(u, "special token %llu is not among the last %llu ids",
                       (unsigned long long)id, (unsigned long long)ns);
        tok_str *s = &u->special[id - first];
        if (s->s)
            return bad(u, "two special tokens have id %llu", (unsigned long long)id);
        const msgpack_object_bin *b = &v[id].via.bin;
        if (b->size != kv->key.via.str.size || memcmp(b->ptr, kv->key.via.str.ptr, b->size) != 0)
            return bad(u, "special token %llu differs from vocab[%llu]", (unsigned long long)id,
                        (unsigned long long)id);
        *s = (tok_str){b->ptr, b->size};
    }
    u->pattern = xmalloc(pattern->via.str.size + 1);
    memcpy(u->pattern, pattern->via.str.ptr, pattern->via.str.size);
    u->pattern[pattern->via.str.size] = 0;
    *n_merges = (uint32_t)nm;
    *n_special = (uint32_t)ns;
    return true;
}

bpe_t *tok_unpack(const msgpack_object *o, const char *where)
{
    unpacking u = {0};
    uint8_t byte_of_id[256];
    uint32_t n_merges = 0, n_special = 0;
    bpe_t *m = NULL;
    if (read_parts(o, &u, byte_of_id, &n_merges, &n_special))
        m = tok_new(byte_of_id, u.merges, n_merges, u.special, n_special, u.pattern, u.err,
                    sizeof u.err);
    free(u.pattern);
    free(u.merges);
    free(u.special);
    if (!m)
        die(EX_DATAERR, "%s: bad model: %s", where, u.err);
    return m;
}

bpe_t *tok_load(const char *path)
{
    rec_reader *in = rec_open(path);
    rec r;
    if (!rec_next(in, &r))
        die(EX_DATAERR, "%s: empty: expected a model record", rec_input_name(in));
    msgpack_object o = {.type = MSGPACK_OBJECT_MAP, .via.map = *r.map};
    bpe_t *m = tok_unpack(&o, rec_input_name(in));
    if (rec_next(in, &r))
        die(EX_DATAERR, "%s: record %llu: a model file holds one record", rec_input_name(in),
            (unsigned long long)r.index);
    rec_close(in);
    return m;
}

void tok_save(const bpe_t *m, const char *path)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    tok_pack(m, &pk);
    outfile *f = outfile_open(path);
    write_all(outfile_fd(f), buf.data, buf.size, path);
    outfile_commit(f);
    msgpack_sbuffer_destroy(&buf);
}
