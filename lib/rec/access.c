/* Typed access to the keys of a record. */
#include <math.h>
#include <string.h>

#include "base/err.h"
#include "rec/rec.h"

const char *rec_type_name(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "a boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return "an integer";
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "a negative integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "a float";
    case MSGPACK_OBJECT_STR: return "a string";
    case MSGPACK_OBJECT_ARRAY: return "an array";
    case MSGPACK_OBJECT_MAP: return "a map";
    case MSGPACK_OBJECT_BIN: return "binary data";
    case MSGPACK_OBJECT_EXT: return "an extension value";
    }
    return "an unknown type";
}

const msgpack_object *rec_find(const rec *r, const char *key)
{
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < r->map->size; i++) {
        const msgpack_object_str *k = &r->map->ptr[i].key.via.str;
        if (k->size == klen && memcmp(k->ptr, key, klen) == 0)
            return &r->map->ptr[i].val;
    }
    return NULL;
}

static _Noreturn void wrong_type(const rec *r, const char *key, const char *want,
                                 const msgpack_object *o)
{
    rec_fail(r, "key \"%s\": expected %s, found %s", key, want, rec_type_name(o));
}

static _Noreturn void missing(const rec *r, const char *key)
{
    rec_fail(r, "key \"%s\" is missing", key);
}

bool rec_get_str(const rec *r, const char *key, const char **s, size_t *len)
{
    const msgpack_object *o = rec_find(r, key);
    if (!o)
        return false;
    if (o->type != MSGPACK_OBJECT_STR)
        wrong_type(r, key, "a string", o);
    *s = o->via.str.ptr;
    if (len)
        *len = o->via.str.size;
    return true;
}

bool rec_get_bin(const rec *r, const char *key, const void **p, size_t *len)
{
    const msgpack_object *o = rec_find(r, key);
    if (!o)
        return false;
    if (o->type != MSGPACK_OBJECT_BIN)
        wrong_type(r, key, "binary data", o);
    *p = o->via.bin.ptr;
    *len = o->via.bin.size;
    return true;
}

bool rec_get_i64(const rec *r, const char *key, int64_t *v)
{
    const msgpack_object *o = rec_find(r, key);
    if (!o)
        return false;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *v = o->via.i64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
        *v = (int64_t)o->via.u64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        rec_fail(r, "key \"%s\": %llu is too large", key, (unsigned long long)o->via.u64);
    else
        wrong_type(r, key, "an integer", o);
    return true;
}

bool rec_get_u64(const rec *r, const char *key, uint64_t *v)
{
    const msgpack_object *o = rec_find(r, key);
    if (!o)
        return false;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *v = o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        rec_fail(r, "key \"%s\": expected a non-negative integer, found %lld", key,
                 (long long)o->via.i64);
    else
        wrong_type(r, key, "a non-negative integer", o);
    return true;
}

bool rec_get_f64(const rec *r, const char *key, double *v)
{
    const msgpack_object *o = rec_find(r, key);
    if (!o)
        return false;
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *v = o->via.f64; break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *v = (double)o->via.u64; break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *v = (double)o->via.i64; break;
    default: wrong_type(r, key, "a number", o);
    }
    return true;
}

bool rec_get_bool(const rec *r, const char *key, bool *v)
{
    const msgpack_object *o = rec_find(r, key);
    if (!o)
        return false;
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        wrong_type(r, key, "a boolean", o);
    *v = o->via.boolean;
    return true;
}

const char *rec_need_str(const rec *r, const char *key, size_t *len)
{
    const char *s;
    if (!rec_get_str(r, key, &s, len))
        missing(r, key);
    return s;
}

int64_t rec_need_i64(const rec *r, const char *key)
{
    int64_t v;
    if (!rec_get_i64(r, key, &v))
        missing(r, key);
    return v;
}

uint64_t rec_need_u64(const rec *r, const char *key)
{
    uint64_t v;
    if (!rec_get_u64(r, key, &v))
        missing(r, key);
    return v;
}

double rec_need_f64(const rec *r, const char *key)
{
    double v;
    if (!rec_get_f64(r, key, &v))
        missing(r, key);
    return v;
}

void u32vec_reserve(u32vec *a, size_t n)
{
    if (n <= a->cap)
        return;
    size_t cap = a->cap ? a->cap : 16;
    while (cap < n)
        cap *= 2;
    a->v = xrealloc(a->v, cap * sizeof *a->v);
    a->cap = cap;
}

void u32vec_push(u32vec *a, uint32_t x)
{
    if (a->n == a->cap)
        u32vec_reserve(a, a->n + 1);
    a->v[a->n++] = x;
}

void u32vec_free(u32vec *a)
{
    free(a->v);
    *a = (u32vec){0};
}

bool rec_get_u32s(const rec *r, const char *key, uint32_t max, u32vec *out)
{
    const msgpack_object *o = rec_find(r, key);
    if (!o)
        return false;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        wrong_type(r, key, "an array of integers", o);
    const msgpack_object_array *a = &o->via.array;
    out->n = 0;
    u32vec_reserve(out, a->size);
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object *e = &a->ptr[i];
        if (e->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            rec_fail(r, "key \"%s\"[%u]: expected a non-negative integer, found %s", key,
                     i, rec_type_name(e));
        if (e->via.u64 > max)
            rec_fail(r, "key \"%s\"[%u]: %llu is out of range (at most %u)", key, i,
                     (unsigned long long)e->via.u64, max);
        out->v[i] = (uint32_t)e->via.u64;
    }
    out->n = a->size;
    return true;
}

void rec_need_u32s(const rec *r, const char *key, uint32_t max, u32vec *out)
{
    if (!rec_get_u32s(r, key, max, out))
        missing(r, key);
}

size_t rec_dtype_size(const char *dtype)
{
    static const struct { const char *name; size_t size; } types[] = {
        {"f32", 4}, {"f64", 8}, {"f16", 2}, {"bf16", 2}, {"i8", 1}, {"u8", 1},
        {"i16", 2}, {"u16", 2}, {"i32", 4}, {"u32", 4}, {"i64", 8}, {"u64", 8},
    };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strcmp(dtype, types[i].name) == 0)
            return types[i].size;
    return 0;
}

static const msgpack_object *map_find(const msgpack_object_map *m, const char *key)
{
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            memcmp(k->via.str.ptr, key, klen) == 0)
            return &m->ptr[i].val;
    }
    return NULL;
}

bool rec_get_tensor(const rec *r, const char *key, rec_tensor *t)
{
    const msgpack_object *o = rec_find(r, key);
    if (!o)
        return false;
    if (o->type != MSGPACK_OBJECT_MAP)
        wrong_type(r, key, "a dense array {dtype, shape, data}", o);
    const msgpack_object *dtype = map_find(&o->via.map, "dtype");
    const msgpack_object *shape = map_find(&o->via.map, "shape");
    const msgpack_object *data = map_find(&o->via.map, "data");
    if (!dtype || dtype->type != MSGPACK_OBJECT_STR || dtype->via.str.size >= sizeof t->dtype)
        rec_fail(r, "key \"%s\": \"dtype\" must be a short string", key);
    memcpy(t->dtype, dtype->via.str.ptr, dtype->via.str.size);
    t->dtype[dtype->via.str.size] = 0;
    size_t esize = rec_dtype_size(t->dtype);
    if (!esize)
        rec_fail(r, "key \"%s\": unknown dtype \"%s\"", key, t->dtype);
    if (!shape || shape->type != MSGPACK_OBJECT_ARRAY || shape->via.array.size > REC_MAX_DIMS)
        rec_fail(r, "key \"%s\": \"shape\" must be an array of at most %d sizes", key,
                 REC_MAX_DIMS);
    t->ndim = (int)shape->via.array.size;
    uint64_t count = 1;
    for (int i = 0; i < t->ndim; i++) {
        const msgpack_object *d = &shape->via.array.ptr[i];
        if (d->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            rec_fail(r, "key \"%s\": shape[%d] is not a non-negative integer", key, i);
        t->shape[i] = d->via.u64;
        if (d->via.u64 && count > UINT64_MAX / d->via.u64)
            rec_fail(r, "key \"%s\": shape overflows", key);
        count *= d->via.u64;
    }
    if (!data || data->type != MSGPACK_OBJECT_BIN)
        rec_fail(r, "key \"%s\": \"data\" must be binary data", key);
    if (count > SIZE_MAX / esize || data->via.bin.size != count * esize)
        rec_fail(r, "key \"%s\": shape says %llu elements of %zu bytes but data holds %u bytes",
                 key, (unsigned long long)count, esize, data->via.bin.size);
    t->data = data->via.bin.ptr;
    t->nbytes = data->via.bin.size;
    return true;
}
