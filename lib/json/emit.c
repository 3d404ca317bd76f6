/* msgpack objects as JSON text (the form is described in json.h), appended to a growable
 * buffer.  The hot path is strings: they are checked for UTF-8 and copied in long runs
 * in one pass, so plain text costs a few compares per byte and a memcpy. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "json/base64.h"
#include "json/json.h"

typedef struct {
    json_buf *b;
    unsigned flags;
    int depth; /* open containers, for indenting */
} emitter;

/* ---- the buffer ---- */

static void reserve(json_buf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

void json_buf_put(json_buf *b, const void *p, size_t n)
{
    reserve(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_char(json_buf *b, char c)
{
    reserve(b, 1);
    b->p[b->len++] = c;
}

void json_buf_free(json_buf *b)
{
    free(b->p);
    *b = (json_buf){0};
}

/* ---- layout: compact, or one value per line with --pretty ---- */

static void newline(emitter *e)
{
    reserve(e->b, 1 + 2 * (size_t)e->depth);
    e->b->p[e->b->len++] = '\n';
    memset(e->b->p + e->b->len, ' ', 2 * (size_t)e->depth);
    e->b->len += 2 * (size_t)e->depth;
}

static void open_container(emitter *e, char c)
{
    put_char(e->b, c);
    e->depth++;
}

/* Before item i of a container. */
static void item(emitter *e, uint32_t i)
{
    if (i > 0)
        put_char(e->b, ',');
    if (e->flags & JSON_PRETTY)
        newline(e);
}

static void close_container(emitter *e, char c, uint32_t n)
{
    e->depth--;
    if ((e->flags & JSON_PRETTY) && n > 0)
        newline(e);
    put_char(e->b, c);
}

static void colon(emitter *e)
{
    if (e->flags & JSON_PRETTY)
        json_buf_put(e->b, ": ", 2);
    else
        put_char(e->b, ':');
}

/* A single-key object {"$name": ...}; the caller writes the value. */
static void form_begin(emitter *e, const char *name)
{
    open_container(e, '{');
    item(e, 0);
    put_char(e->b, '"');
    json_buf_put(e->b, name, strlen(name));
    put_char(e->b, '"');
    colon(e);
}

static void form_end(emitter *e) { close_container(e, '}', 1); }

/* ---- numbers ---- */

static void put_u64(json_buf *b, uint64_t v, bool negative)
{
    char t[21];
    int i = sizeof t;
    do
        t[--i] = (char)('0' + v % 10);
    while (v /= 10);
    if (negative)
        t[--i] = '-';
    json_buf_put(b, t + i, sizeof t - (size_t)i);
}

static void put_i64(json_buf *b, int64_t v)
{
    /* the magnitude of INT64_MIN fits in a uint64 but not in an int64 */
    put_u64(b, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
}

/* Append ".0" to a number that would otherwise read back as an integer. */
static int mark_float(char *t, int n)
{
    if (!strpbrk(t, ".e")) {
        memcpy(t + n, ".0", 3);
        n += 2;
    }
    return n;
}

static void emit_nonfinite(emitter *e, double v)
{
    form_begin(e, "$float");
    const char *s = isinf(v) ? (v < 0 ? "\"-inf\"" : "\"inf\"") : signbit(v) ? "\"-nan\"" : "\"nan\"";
    json_buf_put(e->b, s, strlen(s));
    form_end(e);
}

/* The shortest of 15, 16 or 17 significant digits that strtod reads back exactly
 * (15 digits always survive a round trip through a double, 17 always identify one).
 * A subnormal holds fewer digits, so there the search starts at one. */
static void emit_f64(emitter *e, double v)
{
    if (!isfinite(v)) {
        emit_nonfinite(e, v);
        return;
    }
    char t[40];
    int n = 0;
    for (int prec = fabs(v) < DBL_MIN ? 1 : DBL_DIG; prec <= DBL_DECIMAL_DIG; prec++) {
        n = snprintf(t, sizeof t - 2, "%.*g", prec, v);
        if (strtod(t, NULL) == v)
            break;
    }
    json_buf_put(e->b, t, (size_t)mark_float(t, n));
}

/* The same for float32: 6 to 9 digits, checked with strtof. */
static void emit_f32(emitter *e, float v)
{
    if (!isfinite(v)) {
        emit_nonfinite(e, v);
        return;
    }
    char t[40];
    int n = 0;
    for (int prec = fabsf(v) < FLT_MIN ? 1 : FLT_DIG; prec <= FLT_DECIMAL_DIG; prec++) {
        n = snprintf(t, sizeof t - 2, "%.*g", prec, (double)v);
        if (strtof(t, NULL) == v)
            break;
    }
    json_buf_put(e->b, t, (size_t)mark_float(t, n));
}

/* ---- strings ---- */

/* Length of the well-formed UTF-8 sequence at p (Unicode table 3-7: no overlong forms,
 * no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else
        return 0;
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

static bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_sequence(p, (size_t)(end - p));
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* The escape of an ASCII byte that may not stand in a JSON string as it is. */
static void put_escape(json_buf *b, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char t[6] = {'\\', (char)c};
    size_t n = 2;
    switch (c) {
    case '"': case '\\': break;
    case '\b': t[1] = 'b'; break;
    case '\f': t[1] = 'f'; break;
    case '\n': t[1] = 'n'; break;
    case '\r': t[1] = 'r'; break;
    case '\t': t[1] = 't'; break;
    default:
        memcpy(t + 1, "u00", 3);
        t[4] = hex[c >> 4];
        t[5] = hex[c & 15];
        n = 6;
    }
    json_buf_put(b, t, n);
}

/* Write s as a JSON string; false (and nothing written) if it is not valid UTF-8.
 * Text is copied in runs that end only at a byte to escape. */
static bool put_utf8_string(json_buf *b, const char *s, size_t len)
{
    size_t start = b->len;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    put_char(b, '"');
    while (p < end) {
        const unsigned char *run = p;
        for (size_t n; p < end; p += n) {
            if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
                n = 1;
            else if (*p < 0x80 || !(n = utf8_sequence(p, (size_t)(end - p))))
                break;
        }
        json_buf_put(b, run, (size_t)(p - run));
        if (p == end)
            break;
        if (*p >= 0x80) {
            b->len = start;
            return false;
        }
        put_escape(b, *p++);
    }
    put_char(b, '"');
    return true;
}

/* "<base64>" */
static void put_base64(json_buf *b, const void *p, size_t n)
{
    reserve(b, base64_encoded_len(n) + 2);
    b->p[b->len++] = '"';
    b->len += base64_encode(p, n, b->p + b->len);
    b->p[b->len++] = '"';
}

/* {"$bin":"<base64>"} or {"$str":"<base64>"} */
static void emit_bytes_form(emitter *e, const char *name, const void *p, size_t n)
{
    form_begin(e, name);
    put_base64(e->b, p, n);
    form_end(e);
}

static void emit_string(emitter *e, const char *s, size_t len)
{
    if (!put_utf8_string(e->b, s, len))
        emit_bytes_form(e, "$str", s, len);
}

static void emit_ext(emitter *e, const msgpack_object_ext *x)
{
    form_begin(e, "$ext");
    open_container(e, '[');
    item(e, 0);
    put_i64(e->b, x->type);
    item(e, 1);
    put_base64(e->b, x->ptr, x->size);
    close_container(e, ']', 2);
    form_end(e);
}

/* ---- dense arrays (JSON_TENSORS) ---- */

enum dkind { D_F16, D_BF16, D_F32, D_F64, D_INT, D_UINT };

static const struct dtype {
    const char *name;
    size_t size;
    enum dkind kind;
} dtypes[] = {
    {"f32", 4, D_F32}, {"f64", 8, D_F64}, {"f16", 2, D_F16}, {"bf16", 2, D_BF16},
    {"i8", 1, D_INT},  {"u8", 1, D_UINT}, {"i16", 2, D_INT}, {"u16", 2, D_UINT},
    {"i32", 4, D_INT}, {"u32", 4, D_UINT}, {"i64", 8, D_INT}, {"u64", 8, D_UINT},
};

static bool str_is(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = h >> 10 & 31, man = h & 1023;
    if (exp == 0) /* zero or subnormal: man * 2^-24 */
        return sign ? -ldexpf((float)man, -24) : ldexpf((float)man, -24);
    uint32_t bits = sign | (exp == 31 ? 0xffu : exp + 112) << 23 | man << 13;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Element i of little-endian data (runnel runs on little-endian machines only). */
static void emit_element(emitter *e, const struct dtype *t, const unsigned char *p)
{
    union {
        uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
        int8_t i8; int16_t i16; int32_t i32; int64_t i64;
        float f32; double f64;
    } v;
    memcpy(&v, p, t->size);
    switch (t->kind) {
    case D_F16: emit_f32(e, half_to_float(v.u16)); break;
    case D_BF16: {
        uint32_t bits = (uint32_t)v.u16 << 16;
        float f;
        memcpy(&f, &bits, 4);
        emit_f32(e, f);
        break;
    }
    case D_F32: emit_f32(e, v.f32); break;
    case D_F64: emit_f64(e, v.f64); break;
    case D_INT:
        put_i64(e->b, t->size == 1 ? v.i8 : t->size == 2 ? v.i16 : t->size == 4 ? v.i32 : v.i64);
        break;
    case D_UINT:
        put_u64(e->b, t->size == 1 ? v.u8 : t->size == 2 ? v.u16 : t->size == 4 ? v.u32 : v.u64,
                false);
        break;
    }
}

static void emit_value(emitter *e, const msgpack_object *o);

/* A map {"dtype","shape","data"} whose data matches its dtype and shape, with data as a
 * list of numbers; false (nothing written) for any other map. */
static bool emit_tensor(emitter *e, const msgpack_object_map *m)
{
    if (m->size != 3)
        return false;
    const msgpack_object *dtype = NULL, *shape = NULL, *data = NULL;
    for (uint32_t i = 0; i < 3; i++) {
        const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
        if (str_is(k, "dtype") && v->type == MSGPACK_OBJECT_STR)
            dtype = v;
        else if (str_is(k, "shape") && v->type == MSGPACK_OBJECT_ARRAY)
            shape = v;
        else if (str_is(k, "data") && v->type == MSGPACK_OBJECT_BIN)
            data = v;
    }
    if (!dtype || !shape || !data)
        return false;
    const struct dtype *t = NULL;
    for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
        if (str_is(dtype, dtypes[i].name))
            t = &dtypes[i];
    if (!t)
        return false;
    uint64_t count = 1;
    for (uint32_t i = 0; i < shape->via.array.size; i++) {
        const msgpack_object *d = &shape->via.array.ptr[i];
        if (d->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
            (d->via.u64 && count > UINT64_MAX / d->via.u64))
            return false;
        count *= d->via.u64;
    }
    if (count > UINT32_MAX / t->size || count * t->size != data->via.bin.size)
        return false;

    open_container(e, '{');
    for (uint32_t i = 0; i < 3; i++) {
        item(e, i);
        emit_string(e, m->ptr[i].key.via.str.ptr, m->ptr[i].key.via.str.size);
        colon(e);
        if (&m->ptr[i].val != data) {
            emit_value(e, &m->ptr[i].val);
            continue;
        }
        open_container(e, '[');
        for (uint32_t j = 0; j < (uint32_t)count; j++) {
            item(e, j);
            emit_element(e, t, (const unsigned char *)data->via.bin.ptr + j * t->size);
        }
        close_container(e, ']', (uint32_t)count);
    }
    close_container(e, '}', 3);
    return true;
}

/* ---- maps and arrays ---- */

static bool is_form_name(const msgpack_object *k)
{
    static const char *const names[] = {"$float", "$str", "$bin", "$ext", "$map"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (str_is(k, names[i]))
            return true;
    return false;
}

/* A JSON object can hold the map when every key is a UTF-8 string and it would not be
 * read back as one of the single-key forms. */
static bool fits_object(const msgpack_object_map *m)
{
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR || !utf8_valid(k->via.str.ptr, k->via.str.size))
            return false;
    }
    return !(m->size == 1 && is_form_name(&m->ptr[0].key));
}

static void emit_map(emitter *e, const msgpack_object_map *m)
{
    if ((e->flags & JSON_TENSORS) && emit_tensor(e, m))
        return;
    if (fits_object(m)) {
        open_container(e, '{');
        for (uint32_t i = 0; i < m->size; i++) {
            item(e, i);
            put_utf8_string(e->b, m->ptr[i].key.via.str.ptr, m->ptr[i].key.via.str.size);
            colon(e);
            emit_value(e, &m->ptr[i].val);
        }
        close_container(e, '}', m->size);
        return;
    }
    form_begin(e, "$map");
    open_container(e, '[');
    for (uint32_t i = 0; i < m->size; i++) {
        item(e, i);
        open_container(e, '[');
        item(e, 0);
        emit_value(e, &m->ptr[i].key);
        item(e, 1);
        emit_value(e, &m->ptr[i].val);
        close_container(e, ']', 2);
    }
    close_container(e, ']', m->size);
    form_end(e);
}

static void emit_value(emitter *e, const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: json_buf_put(e->b, "null", 4); break;
    case MSGPACK_OBJECT_BOOLEAN:
        if (o->via.boolean)
            json_buf_put(e->b, "true", 4);
        else
            json_buf_put(e->b, "false", 5);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: put_u64(e->b, o->via.u64, false); break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: put_i64(e->b, o->via.i64); break;
    case MSGPACK_OBJECT_FLOAT32: emit_f32(e, (float)o->via.f64); break;
    case MSGPACK_OBJECT_FLOAT64: emit_f64(e, o->via.f64); break;
    case MSGPACK_OBJECT_STR: emit_string(e, o->via.str.ptr, o->via.str.size); break;
    case MSGPACK_OBJECT_BIN: emit_bytes_form(e, "$bin", o->via.bin.ptr, o->via.bin.size); break;
    case MSGPACK_OBJECT_EXT: emit_ext(e, &o->via.ext); break;
    case MSGPACK_OBJECT_ARRAY: {
        const msgpack_object_array *a = &o->via.array;
        open_container(e, '[');
        for (uint32_t i = 0; i < a->size; i++) {
            item(e, i);
            emit_value(e, &a->ptr[i]);
        }
        close_container(e, ']', a->size);
        break;
    }
    case MSGPACK_OBJECT_MAP: emit_map(e, &o->via.map); break;
    }
}

void json_emit(json_buf *b, const msgpack_object *o, unsigned flags)
{
    emitter e = {b, flags, 0};
    emit_value(&e, o);
}
