/* JSON text to msgpack objects, with yajl's event parser (its tree parser cuts strings at
 * a NUL).  Values are built in a msgpack zone as they complete: strings are copied in,
 * and a container, whose size is unknown when it opens, gathers its items from a stack
 * of finished values when it closes.  Once the stacks have grown nothing is malloc'd
 * per value, and the zone is cleared after each top-level object is handed over.
 * Numbers arrive as their text (yajl_number), so integers never pass through a double. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>
#include <zlib.h>

#include "base/err.h"
#include "base/input.h"
#include "json/base64.h"
#include "json/json.h"

struct json_reader {
    yajl_handle yh;
    unsigned flags;
    json_record_fn *fn;
    void *ctx;
    msgpack_zone zone;     /* the object being built */
    msgpack_object *vals;  /* finished values whose container is still open */
    size_t nvals, vcap;
    size_t *frames;        /* for each open array or map, where its items start in vals
                              (a map's keys and values alternate) */
    size_t nframes, fcap;
    char *num;             /* a float's text with a NUL, for strtod */
    size_t numcap;
    char *tail;            /* the input's last line while its newline has not come */
    size_t ntail, tailcap;
    uint64_t line, col;    /* where the text now parsed starts: newlines before it,
                              bytes after the last of them */
    bool seen_text;        /* anything but white space so far */
    bool failed;
    size_t back;           /* bytes back from yajl's offset to where the error is */
    char what[160];        /* what went wrong, from a callback */
    char error[256];       /* "line N, column C: what" */
};

/* ---- failing from a callback ---- */

/* Record what went wrong with the token just read (back bytes long, 1 to point at its
 * last byte) and stop the parse. */
__attribute__((format(printf, 3, 4))) static int fail(json_reader *r, size_t back,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->what, sizeof r->what, fmt, ap);
    va_end(ap);
    r->back = back;
    return 0;
}

static const char *type_name(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return "null";
    case MSGPACK_OBJECT_BOOLEAN: return "a boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "a number";
    case MSGPACK_OBJECT_STR: return "a string";
    case MSGPACK_OBJECT_BIN: return "binary data ($bin)";
    case MSGPACK_OBJECT_EXT: return "an extension value ($ext)";
    case MSGPACK_OBJECT_ARRAY: return "an array";
    case MSGPACK_OBJECT_MAP: return "an object";
    }
    return "an unknown value";
}

/* ---- building values ---- */

static void *zalloc(json_reader *r, size_t n)
{
    void *p = msgpack_zone_malloc(&r->zone, n);
    if (!p)
        die(EX_OSERR, "out of memory (%zu bytes)", n);
    return p;
}

/* A string from yajl, copied into the zone (never NULL: msgpack packs from it with
 * memcpy). */
static msgpack_object_str keep_string(json_reader *r, const unsigned char *s, size_t n)
{
    if (n == 0)
        return (msgpack_object_str){0, ""};
    char *q = msgpack_zone_malloc_no_align(&r->zone, n);
    if (!q)
        die(EX_OSERR, "out of memory (%zu bytes)", n);
    return (msgpack_object_str){(uint32_t)n, memcpy(q, s, n)};
}

static void push(json_reader *r, msgpack_object o)
{
    if (r->nvals == r->vcap) {
        r->vcap = r->vcap ? 2 * r->vcap : 256;
        r->vals = xrealloc(r->vals, r->vcap * sizeof *r->vals);
    }
    r->vals[r->nvals++] = o;
}

static bool within_depth(const msgpack_object *o, int levels)
{
    if (o->type != MSGPACK_OBJECT_ARRAY && o->type != MSGPACK_OBJECT_MAP)
        return true;
    if (levels == 0)
        return false;
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (!within_depth(&o->via.array.ptr[i], levels - 1))
                return false;
    } else {
        for (uint32_t i = 0; i < o->via.map.size; i++)
            if (!within_depth(&o->via.map.ptr[i].key, levels - 1) ||
                !within_depth(&o->via.map.ptr[i].val, levels - 1))
                return false;
    }
    return true;
}

/* A top-level object is complete: check that it is a record and hand it over. */
static int deliver(json_reader *r, const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return fail(r, 1, "expected an object holding a record, found %s", type_name(o));
    for (uint32_t i = 0; i < o->via.map.size; i++)
        if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
            return fail(r, 1, "key %u of the record is %s; record keys are strings", i + 1,
                        type_name(&o->via.map.ptr[i].key));
    if (!within_depth(o, JSON_MAX_DEPTH))
        return fail(r, 1, "nested deeper than %d levels", JSON_MAX_DEPTH);
    r->fn(r->ctx, o);
    msgpack_zone_clear(&r->zone);
    return 1;
}

/* A value is complete: it goes into the open container, or is a whole record. */
static int finish(json_reader *r, msgpack_object o)
{
    if (r->nframes == 0)
        return deliver(r, &o);
    push(r, o);
    return 1;
}

/* A scalar; toklen is the length of its token, for the column of an error. */
static int scalar(json_reader *r, msgpack_object o, size_t toklen)
{
    if (r->nframes == 0)
        return fail(r, toklen, "expected an object, found %s", type_name(&o));
    push(r, o);
    return 1;
}

static msgpack_object float_object(const json_reader *r, double d, float f)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_FLOAT64};
    o.via.f64 = d;
    /* float32 unless the value would become infinite */
    if ((r->flags & JSON_F32) && (isfinite(f) || !isfinite(d))) {
        o.type = MSGPACK_OBJECT_FLOAT32;
        o.via.f64 = f;
    }
    return o;
}

/* ---- the single-key forms ---- */

static bool str_is(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

/* Base64 text o decoded into the zone. */
static bool decode_base64(json_reader *r, const msgpack_object *o, const char **p,
                          uint32_t *n)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return false;
    if (o->via.str.size == 0) {
        *p = "", *n = 0;
        return true;
    }
    char *out = msgpack_zone_malloc_no_align(&r->zone, o->via.str.size / 4 * 3 + 1);
    if (!out)
        die(EX_OSERR, "out of memory");
    size_t len;
    if (!base64_decode(o->via.str.ptr, o->via.str.size, out, &len))
        return false;
    *p = out, *n = (uint32_t)len;
    return true;
}

static bool is_integer(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
           o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

/* {"$float": ...}, {"$str": ...} ... into *out: 1 done, 0 failed, -1 not a form. */
static int form(json_reader *r, const msgpack_object *k, const msgpack_object *v,
                msgpack_object *out)
{
    if (str_is(k, "$float")) {
        static const struct { const char *name; uint64_t bits; } special[] = {
            {"nan", 0x7ff8000000000000}, {"-nan", 0xfff8000000000000},
            {"inf", 0x7ff0000000000000}, {"-inf", 0xfff0000000000000},
        };
        for (size_t i = 0; i < 4; i++)
            if (str_is(v, special[i].name)) {
                double d;
                memcpy(&d, &special[i].bits, sizeof d);
                *out = float_object(r, d, (float)d);
                return 1;
            }
        return fail(r, 1, "\"$float\" must be \"nan\", \"-nan\", \"inf\" or \"-inf\"");
    }
    if (str_is(k, "$str") || str_is(k, "$bin")) {
        bool bin = k->via.str.ptr[1] == 'b';
        const char *p;
        uint32_t n;
        if (!decode_base64(r, v, &p, &n))
            return fail(r, 1, "\"%s\" must be a base64 string (standard alphabet, padded)",
                        bin ? "$bin" : "$str");
        out->type = bin ? MSGPACK_OBJECT_BIN : MSGPACK_OBJECT_STR;
        if (bin)
            out->via.bin = (msgpack_object_bin){n, p};
        else
            out->via.str = (msgpack_object_str){n, p};
        return 1;
    }
    if (str_is(k, "$ext")) {
        bool pair = v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 2;
        const msgpack_object *a = pair ? v->via.array.ptr : NULL;
        const char *p;
        uint32_t n;
        if (!pair || !is_integer(&a[0]) ||
            (a[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER ? a[0].via.u64 > 127
                                                          : a[0].via.i64 < -128) ||
            !decode_base64(r, &a[1], &p, &n))
            return fail(r, 1, "\"$ext\" must be [type, \"base64\"], the type from -128 to 127");
        out->type = MSGPACK_OBJECT_EXT;
        out->via.ext = (msgpack_object_ext){(int8_t)a[0].via.i64, n, p};
        return 1;
    }
    if (str_is(k, "$map")) {
        bool ok = v->type == MSGPACK_OBJECT_ARRAY;
        for (uint32_t i = 0; ok && i < v->via.array.size; i++)
            ok = v->via.array.ptr[i].type == MSGPACK_OBJECT_ARRAY &&
                 v->via.array.ptr[i].via.array.size == 2;
        if (!ok)
            return fail(r, 1, "\"$map\" must be a list of [key, value] pairs");
        uint32_t n = v->via.array.size;
        msgpack_object_kv *kv = n ? zalloc(r, n * sizeof *kv) : NULL;
        for (uint32_t i = 0; i < n; i++) {
            kv[i].key = v->via.array.ptr[i].via.array.ptr[0];
            kv[i].val = v->via.array.ptr[i].via.array.ptr[1];
        }
        out->type = MSGPACK_OBJECT_MAP;
        out->via.map = (msgpack_object_map){n, kv};
        return 1;
    }
    return -1;
}

/* ---- yajl callbacks ---- */

static int on_null(void *ctx)
{
    return scalar(ctx, (msgpack_object){.type = MSGPACK_OBJECT_NIL}, 4);
}

static int on_boolean(void *ctx, int b)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_BOOLEAN};
    o.via.boolean = b;
    return scalar(ctx, o, b ? 4 : 5);
}

/* The number text for a message: at most 40 characters of it. */
#define NUMBER_TEXT(s, len) (int)((len) > 40 ? 40 : (len)), (s), (len) > 40 ? "..." : ""

static int on_number(void *ctx, const char *s, size_t len)
{
    json_reader *r = ctx;
    if (r->nframes == 0)
        return fail(r, len, "expected an object, found a number");
    msgpack_object o;
    if (memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len)) {
        if (len >= r->numcap) {
            r->numcap = 2 * len + 64;
            r->num = xrealloc(r->num, r->numcap);
        }
        memcpy(r->num, s, len);
        r->num[len] = 0;
        double d = strtod(r->num, NULL);
        if (isinf(d)) /* underflow is rounding (to a subnormal or zero), overflow an error */
            return fail(r, len, "%.*s%s is out of range for a float", NUMBER_TEXT(s, len));
        o = float_object(r, d, r->flags & JSON_F32 ? strtof(r->num, NULL) : 0);
    } else {
        /* yajl has checked the syntax: an optional '-' and digits */
        bool neg = s[0] == '-';
        uint64_t v = 0;
        for (size_t i = neg; i < len; i++) {
            unsigned d = (unsigned)(s[i] - '0');
            if (v > (UINT64_MAX - d) / 10)
                return fail(r, len, "integer %.*s%s is out of range", NUMBER_TEXT(s, len));
            v = v * 10 + d;
        }
        if (neg && v > (uint64_t)INT64_MAX + 1)
            return fail(r, len, "integer %.*s%s is out of range", NUMBER_TEXT(s, len));
        if (neg && v > 0) {
            o.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
            o.via.i64 = -(int64_t)(v - 1) - 1; /* -2^63 too */
        } else {
            o.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
            o.via.u64 = v;
        }
    }
    push(r, o);
    return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    json_reader *r = ctx;
    if (len > UINT32_MAX)
        return fail(r, 1, "a string longer than 4 GiB");
    msgpack_object o = {.type = MSGPACK_OBJECT_STR};
    if (r->nframes == 0)
        return scalar(r, o, 1);
    o.via.str = keep_string(r, s, len);
    push(r, o);
    return 1;
}

/* JSON nesting allowed for a record of JSON_MAX_DEPTH levels: a "$map" takes three JSON
 * levels ({"$map":[[k, v]]}) for one of msgpack, and a leaf "$ext" two.  The exact
 * depth is checked when the record is complete; this bound keeps the stacks small. */
enum { MAX_JSON_NESTING = 3 * JSON_MAX_DEPTH + 2 };

static int open_container(json_reader *r)
{
    if (r->nframes == MAX_JSON_NESTING)
        return fail(r, 1, "nested deeper than %d levels", JSON_MAX_DEPTH);
    if (r->nframes == r->fcap) {
        r->fcap = r->fcap ? 2 * r->fcap : 16;
        r->frames = xrealloc(r->frames, r->fcap * sizeof *r->frames);
    }
    r->frames[r->nframes++] = r->nvals;
    return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx); }

static int on_start_array(void *ctx)
{
    json_reader *r = ctx;
    if (r->nframes == 0)
        return fail(r, 1, "expected an object, found an array");
    return open_container(r);
}

static int on_map_key(void *ctx, const unsigned char *s, size_t len)
{
    return on_string(ctx, s, len);
}

/* Close the innermost container: its items are the n values from *first on. */
static size_t close_container(json_reader *r, size_t *first)
{
    *first = r->frames[--r->nframes];
    size_t n = r->nvals - *first;
    r->nvals = *first; /* the items stay in place until the next push */
    return n;
}

static int on_end_array(void *ctx)
{
    json_reader *r = ctx;
    size_t first, n = close_container(r, &first);
    if (n > UINT32_MAX)
        return fail(r, 1, "an array of more than 2^32 - 1 items");
    msgpack_object o = {.type = MSGPACK_OBJECT_ARRAY};
    o.via.array = (msgpack_object_array){(uint32_t)n, NULL};
    if (n) {
        o.via.array.ptr = zalloc(r, n * sizeof(msgpack_object));
        memcpy(o.via.array.ptr, r->vals + first, n * sizeof(msgpack_object));
    }
    return finish(r, o);
}

static int on_end_map(void *ctx)
{
    json_reader *r = ctx;
    size_t first, n = close_container(r, &first) / 2; /* keys and values alternate */
    const msgpack_object *v = r->vals + first;
    msgpack_object o = {.type = MSGPACK_OBJECT_MAP};
    if (n == 1) {
        int got = form(r, &v[0], &v[1], &o);
        if (got == 0)
            return 0;
        if (got == 1)
            return finish(r, o);
    }
    if (n > UINT32_MAX)
        return fail(r, 1, "an object of more than 2^32 - 1 keys");
    msgpack_object_kv *kv = n ? zalloc(r, n * sizeof *kv) : NULL;
    for (size_t i = 0; i < n; i++)
        kv[i] = (msgpack_object_kv){v[2 * i], v[2 * i + 1]};
    o.via.map = (msgpack_object_map){(uint32_t)n, kv};
    return finish(r, o);
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

/* ---- the reader ---- */

json_reader *json_reader_new(unsigned flags, json_record_fn *fn, void *ctx)
{
    json_reader *r = xcalloc(1, sizeof *r);
    r->flags = flags;
    r->fn = fn;
    r->ctx = ctx;
    if (!msgpack_zone_init(&r->zone, 1 << 16))
        die(EX_OSERR, "out of memory");
    r->yh = yajl_alloc(&callbacks, NULL, r);
    if (!r->yh)
        die(EX_OSERR, "out of memory");
    yajl_config(r->yh, yajl_allow_multiple_values, 1);
    return r;
}

void json_reader_free(json_reader *r)
{
    if (!r)
        return;
    yajl_free(r->yh);
    msgpack_zone_destroy(&r->zone);
    free(r->vals);
    free(r->frames);
    free(r->num);
    free(r->tail);
    free(r);
}

/* Move the position over n bytes of text. */
static void advance(uint64_t *line, uint64_t *col, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n')
            ++*line, *col = 0;
        else
            ++*col;
    }
}

/* Where yajl leaves its offset after an error, as bytes back to the offending byte:
 * just past it for most parse errors, on it for most lexical ones (yajl steps back),
 * at the start of the unexpected token after a map value. */
static size_t yajl_error_back(const char *msg)
{
    if (strncmp(msg, "lexical error", 13) == 0)
        return strstr(msg, "invalid char in json text") || strstr(msg, "invalid bytes in UTF8");
    return !strstr(msg, "after key and value");
}

/* The parse of text p (NULL at the end of input) stopped with status s. */
static bool failed(json_reader *r, yajl_status s, const unsigned char *p)
{
    r->failed = true;
    if (s != yajl_status_client_canceled) {
        unsigned char *msg = yajl_get_error(r->yh, 0, NULL, 0);
        snprintf(r->what, sizeof r->what, "%s", msg ? (char *)msg : "bad JSON");
        r->what[strcspn(r->what, "\n")] = 0;
        yajl_free_error(r->yh, msg);
        r->back = p ? yajl_error_back(r->what) : 0;
    }
    /* Tokens never span lines, so the token's start is on the line where it ends. */
    uint64_t line = r->line, col = r->col;
    if (p)
        advance(&line, &col, p, yajl_get_bytes_consumed(r->yh));
    col = col > r->back ? col - r->back : 0;
    snprintf(r->error, sizeof r->error, "line %llu, column %llu: %s",
             (unsigned long long)line + 1, (unsigned long long)col + 1, r->what);
    return false;
}

/* Parse n bytes of text. */
static bool parse(json_reader *r, const char *text, size_t n)
{
    const unsigned char *p = (const unsigned char *)text;
    yajl_status s = yajl_parse(r->yh, p, n);
    if (s != yajl_status_ok)
        return failed(r, s, p);
    advance(&r->line, &r->col, p, n);
    return true;
}

static void keep_tail(json_reader *r, const char *text, size_t n)
{
    if (n == 0)
        return;
    if (r->ntail + n > r->tailcap) {
        r->tailcap = 2 * (r->ntail + n);
        r->tail = xrealloc(r->tail, r->tailcap);
    }
    memcpy(r->tail + r->ntail, text, n);
    r->ntail += n;
}

/* White space as yajl's lexer knows it. */
static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* yajl is given whole lines only, so no token is split between two of its calls: where
 * one is, yajl's error offsets point into the wrong call's text, and the position of an
 * error would depend on how the input happened to be read. */
bool json_reader_feed(json_reader *r, const void *data, size_t len)
{
    const char *text = data;
    if (r->failed)
        return false;
    for (size_t i = 0; !r->seen_text && i < len; i++)
        r->seen_text = !is_space((unsigned char)text[i]);
    const char *last = memrchr(text, '\n', len);
    if (!last) {
        keep_tail(r, text, len);
        return true;
    }
    size_t whole = (size_t)(last - text) + 1;
    if (r->ntail > 0) { /* complete the held line with the first of this text */
        size_t first = (size_t)((const char *)memchr(text, '\n', len) - text) + 1;
        keep_tail(r, text, first);
        size_t n = r->ntail;
        r->ntail = 0;
        if (!parse(r, r->tail, n))
            return false;
        text += first, len -= first, whole -= first;
    }
    if (whole > 0 && !parse(r, text, whole))
        return false;
    keep_tail(r, text + whole, len - whole);
    return true;
}

bool json_reader_finish(json_reader *r)
{
    if (r->failed)
        return false;
    /* yajl calls input without a value an early end; for us it is an empty stream */
    if (!r->seen_text)
        return true;
    size_t n = r->ntail;
    r->ntail = 0;
    if (n > 0 && !parse(r, r->tail, n))
        return false;
    yajl_status s = yajl_complete_parse(r->yh);
    return s == yajl_status_ok || failed(r, s, NULL);
}

const char *json_reader_error(const json_reader *r) { return r->error; }

/* ---- whole files ---- */

void json_read_file(const char *path, unsigned flags, json_record_fn *fn, void *ctx)
{
    enum { CHUNK = 1 << 18 };
    input *in = input_open(path);
    const char *name = input_name(in);
    json_reader *r = json_reader_new(flags, fn, ctx);
    char *buf = xmalloc(CHUNK);
    for (size_t n; (n = input_read(in, buf, CHUNK)) > 0;)
        if (!json_reader_feed(r, buf, n))
            die(EX_DATAERR, "%s: %s", name, json_reader_error(r));
    if (!json_reader_finish(r))
        die(EX_DATAERR, "%s: %s", name, json_reader_error(r));
    free(buf);
    json_reader_free(r);
    input_close(in);
}
