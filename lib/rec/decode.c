/* One-pass msgpack decoding into msgpack-c's objects (see decode.h), following the
 * msgpack specification's formats byte by byte. */
#include "rec/decode.h"

#include <stdint.h>
#include <string.h>

typedef struct {
    const unsigned char *p;
    size_t n, at; /* p[at, n) is not yet decoded */
    msgpack_zone *zone;
} decoder;

/* The big-endian unsigned integer of the next `bytes` bytes (1, 2, 4 or 8), consumed;
 * false when the buffer ends first. */
static inline bool take_uint(decoder *d, int bytes, uint64_t *v)
{
    if (d->n - d->at < (size_t)bytes)
        return false;
    const unsigned char *q = d->p + d->at;
    uint64_t x = 0;
    for (int i = 0; i < bytes; i++)
        x = x << 8 | q[i];
    d->at += (size_t)bytes;
    *v = x;
    return true;
}

static void set_int(msgpack_object *o, int64_t v)
{
    /* msgpack-c's rule: a signed format holding a non-negative value is a positive integer */
    if (v < 0) {
        o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        o->via.i64 = v;
    } else {
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = (uint64_t)v;
    }
}

/* A string, binary or extension payload of `len` bytes, pointing into the buffer. */
static decode_result payload(decoder *d, uint64_t len, const char **ptr, uint32_t *size)
{
    if (len > d->n - d->at)
        return DECODE_INCOMPLETE;
    *ptr = (const char *)d->p + d->at;
    *size = (uint32_t)len;
    d->at += (size_t)len;
    return DECODE_COMPLETE;
}

static decode_result ext(decoder *d, msgpack_object *o, uint64_t len)
{
    if (d->at >= d->n)
        return DECODE_INCOMPLETE;
    o->type = MSGPACK_OBJECT_EXT;
    o->via.ext.type = (int8_t)d->p[d->at++];
    return payload(d, len, &o->via.ext.ptr, &o->via.ext.size);
}

static decode_result object(decoder *d, msgpack_object *o, int depth);

/* An array of `items` objects, or a map of `items` pairs, whose header was `depth`
 * containers deep. */
static decode_result container(decoder *d, msgpack_object *o, int depth, uint64_t items,
                               bool map)
{
    o->type = map ? MSGPACK_OBJECT_MAP : MSGPACK_OBJECT_ARRAY;
    o->via.array.size = (uint32_t)items; /* the map's size shares the place */
    o->via.array.ptr = NULL;
    if (items == 0)
        return DECODE_COMPLETE;
    /* every element takes at least one byte: a claim beyond the buffer waits for more
     * input and is never allocated */
    if ((map ? 2 * items : items) > d->n - d->at)
        return DECODE_INCOMPLETE;
    if (depth == DECODE_MAX_DEPTH)
        return DECODE_TOO_DEEP;
    decode_result r = DECODE_COMPLETE;
    if (map) {
        msgpack_object_kv *kv = msgpack_zone_malloc(d->zone, items * sizeof *kv);
        if (!kv)
            return DECODE_NOMEM;
        o->via.map.ptr = kv;
        for (uint64_t i = 0; i < items && r == DECODE_COMPLETE; i++)
            if ((r = object(d, &kv[i].key, depth + 1)) == DECODE_COMPLETE)
                r = object(d, &kv[i].val, depth + 1);
    } else {
        msgpack_object *e = msgpack_zone_malloc(d->zone, items * sizeof *e);
        if (!e)
            return DECODE_NOMEM;
        o->via.array.ptr = e;
        for (uint64_t i = 0; i < items && r == DECODE_COMPLETE; i++)
            r = object(d, &e[i], depth + 1);
    }
    return r;
}

static decode_result object(decoder *d, msgpack_object *o, int depth)
{
    if (d->at >= d->n)
        return DECODE_INCOMPLETE;
    unsigned b = d->p[d->at++];
    if (b <= 0x7f) {
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = b;
        return DECODE_COMPLETE;
    }
    if (b >= 0xe0) {
        o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        o->via.i64 = (int8_t)b;
        return DECODE_COMPLETE;
    }
    if (b <= 0x8f)
        return container(d, o, depth, b & 0x0f, true);
    if (b <= 0x9f)
        return container(d, o, depth, b & 0x0f, false);
    if (b <= 0xbf) {
        o->type = MSGPACK_OBJECT_STR;
        return payload(d, b & 0x1f, &o->via.str.ptr, &o->via.str.size);
    }
    /* 0xc0-0xdf: the byte's low bits give the width of what follows */
    static const signed char width[32] = {
        [0x04] = 1, [0x05] = 2, [0x06] = 4, /* bin 8, 16, 32: the length */
        [0x07] = 1, [0x08] = 2, [0x09] = 4, /* ext 8, 16, 32: the length */
        [0x0a] = 4, [0x0b] = 8,             /* float 32, 64 */
        [0x0c] = 1, [0x0d] = 2, [0x0e] = 4, [0x0f] = 8, /* uint 8-64 */
        [0x10] = 1, [0x11] = 2, [0x12] = 4, [0x13] = 8, /* int 8-64 */
        [0x19] = 1, [0x1a] = 2, [0x1b] = 4, /* str 8, 16, 32: the length */
        [0x1c] = 2, [0x1d] = 4, [0x1e] = 2, [0x1f] = 4, /* array, map 16, 32 */
    };
    uint64_t v = 0;
    if (width[b - 0xc0] && !take_uint(d, width[b - 0xc0], &v))
        return DECODE_INCOMPLETE;
    switch (b) {
    case 0xc0:
        o->type = MSGPACK_OBJECT_NIL;
        return DECODE_COMPLETE;
    case 0xc1:
        return DECODE_INVALID;
    case 0xc2: case 0xc3:
        o->type = MSGPACK_OBJECT_BOOLEAN;
        o->via.boolean = b == 0xc3;
        return DECODE_COMPLETE;
    case 0xc4: case 0xc5: case 0xc6:
        o->type = MSGPACK_OBJECT_BIN;
        return payload(d, v, &o->via.bin.ptr, &o->via.bin.size);
    case 0xc7: case 0xc8: case 0xc9:
        return ext(d, o, v);
    case 0xca: {
        uint32_t u = (uint32_t)v;
        float f;
        memcpy(&f, &u, sizeof f);
        o->type = MSGPACK_OBJECT_FLOAT32;
        o->via.f64 = f;
        return DECODE_COMPLETE;
    }
    case 0xcb:
        o->type = MSGPACK_OBJECT_FLOAT64;
        memcpy(&o->via.f64, &v, sizeof v);
        return DECODE_COMPLETE;
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = v;
        return DECODE_COMPLETE;
    case 0xd0: set_int(o, (int8_t)v); return DECODE_COMPLETE;
    case 0xd1: set_int(o, (int16_t)v); return DECODE_COMPLETE;
    case 0xd2: set_int(o, (int32_t)v); return DECODE_COMPLETE;
    case 0xd3: set_int(o, (int64_t)v); return DECODE_COMPLETE;
    case 0xd4: return ext(d, o, 1); /* fixext 1-16 */
    case 0xd5: return ext(d, o, 2);
    case 0xd6: return ext(d, o, 4);
    case 0xd7: return ext(d, o, 8);
    case 0xd8: return ext(d, o, 16);
    case 0xd9: case 0xda: case 0xdb:
        o->type = MSGPACK_OBJECT_STR;
        return payload(d, v, &o->via.str.ptr, &o->via.str.size);
    case 0xdc: case 0xdd:
        return container(d, o, depth, v, false);
    default: /* 0xde, 0xdf */
        return container(d, o, depth, v, true);
    }
}

decode_result decode_object(const char *p, size_t n, msgpack_zone *zone, msgpack_object *obj,
                            size_t *size)
{
    decoder d = {(const unsigned char *)p, n, 0, zone};
    msgpack_object o;
    decode_result r = object(&d, &o, 0);
    if (r == DECODE_COMPLETE) {
        *obj = o;
        *size = d.at;
    }
    return r;
}
