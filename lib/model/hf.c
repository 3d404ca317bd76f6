/* Hugging Face GPT-2 folders: safetensors, config.json, and the mapping onto runnel's gpt. */
#include "model/hf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/input.h"
#include "json/json.h"
#include "model/tarfile.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "safetensors data is little-endian, read straight into memory");

static const struct { const char *name; unsigned size; } dtypes[ST_N_DTYPES] = {
    [ST_F64] = {"F64", 8}, [ST_F32] = {"F32", 4}, [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2}, [ST_I64] = {"I64", 8}, [ST_I32] = {"I32", 4},
    [ST_I16] = {"I16", 2}, [ST_I8] = {"I8", 1}, [ST_U64] = {"U64", 8}, [ST_U32] = {"U32", 4},
    [ST_U16] = {"U16", 2}, [ST_U8] = {"U8", 1}, [ST_BOOL] = {"BOOL", 1},
    [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
};

/* The value of key in map m, or NULL; of a key given twice the last, as Python's json
 * module (which wrote the file) reads it. */
static const msgpack_object *get(const msgpack_object *m, const char *key)
{
    for (uint32_t i = m->via.map.size; i-- > 0;)
        if (tar_str_is(&m->via.map.ptr[i].key, key))
            return &m->via.map.ptr[i].val;
    return NULL;
}

/* ---- the safetensors header ---- */

/* What the header callback builds; the first problem found goes to err. */
typedef struct {
    st_file *f;
    int objects;
    char err[320];
} header_ctx;

/* The first problem found into err (size bytes); later ones are dropped. */
static void keep_first(char *err, size_t size, const char *fmt, va_list ap)
{
    if (!err[0])
        vsnprintf(err, size, fmt, ap);
}

__attribute__((format(printf, 2, 3))) static void header_fail(header_ctx *c, const char *fmt,
                                                              ...)
{
    va_list ap;
    va_start(ap, fmt);
    keep_first(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

/* A non-negative integer of at most max, or false. */
static bool get_u64(const msgpack_object *o, uint64_t max, uint64_t *v)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
        return false;
    *v = o->via.u64;
    return true;
}

/* One entry {"dtype", "shape", "data_offsets"} into t (name already set). */
static void header_entry(header_ctx *c, st_tensor *t, const msgpack_object *v)
{
    const char *name = t->name;
    if (v->type != MSGPACK_OBJECT_MAP)
        return header_fail(c, "tensor %.100s: not an object", name);
    const msgpack_object *dt = get(v, "dtype"), *sh = get(v, "shape"),
                         *off = get(v, "data_offsets");
    if (!dt || !sh || !off)
        return header_fail(c, "tensor %.100s: \"dtype\", \"shape\" and \"data_offsets\" are "
                           "needed", name);
    int d = 0;
    while (d < ST_N_DTYPES && !tar_str_is(dt, dtypes[d].name))
        d++;
    if (d == ST_N_DTYPES)
        return header_fail(c, "tensor %.100s: unknown dtype", name);
    t->dtype = (st_dtype)d;
    if (sh->type != MSGPACK_OBJECT_ARRAY || sh->via.array.size > ST_MAX_DIMS)
        return header_fail(c, "tensor %.100s: \"shape\" is not an array of at most %d sizes",
                           name, ST_MAX_DIMS);
    t->ndim = (int)sh->via.array.size;
    t->count = 1;
    for (int i = 0; i < t->ndim; i++) {
        uint64_t n;
        /* 2^62 bytes at most, so count times a dtype size cannot overflow */
        if (!get_u64(&sh->via.array.ptr[i], UINT64_C(1) << 62, &n) ||
            (n && t->count > (UINT64_C(1) << 59) / n))
            return header_fail(c, "tensor %.100s: a size in \"shape\" is not a count or too "
                               "large", name);
        t->shape[i] = (int64_t)n;
        t->count *= n;
    }
    if (off->type != MSGPACK_OBJECT_ARRAY || off->via.array.size != 2 ||
        !get_u64(&off->via.array.ptr[0], UINT64_MAX, &t->begin) ||
        !get_u64(&off->via.array.ptr[1], UINT64_MAX, &t->end) || t->end < t->begin)
        return header_fail(c, "tensor %.100s: \"data_offsets\" is not [begin, end] with "
                           "begin <= end", name);
    if (t->end - t->begin != t->count * dtypes[d].size)
        return header_fail(c, "tensor %.100s: %llu bytes of data for %llu %s values", name,
                           (unsigned long long)(t->end - t->begin),
                           (unsigned long long)t->count, dtypes[d].name);
}

static void header_object(void *ctx, const msgpack_object *o)
{
    header_ctx *c = ctx;
    st_file *f = c->f;
    if (c->objects++ || c->err[0])
        return header_fail(c, "more than one JSON object");
    f->t = xcalloc(o->via.map.size ? o->via.map.size : 1, sizeof *f->t);
    for (uint32_t i = 0; i < o->via.map.size && !c->err[0]; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 ||
            memchr(k->via.str.ptr, 0, k->via.str.size))
            return header_fail(c, "a tensor name is empty or holds a NUL byte");
        if (tar_str_is(k, "__metadata__")) {
            if (v->type != MSGPACK_OBJECT_MAP)
                header_fail(c, "\"__metadata__\" is not an object");
            continue;
        }
        st_tensor *t = &f->t[f->n++];
        t->name = xmalloc(k->via.str.size + 1);
        memcpy(t->name, k->via.str.ptr, k->via.str.size);
        t->name[k->via.str.size] = 0;
        for (int j = 0; j < f->n - 1; j++)
            if (strcmp(f->t[j].name, t->name) == 0)
                return header_fail(c, "tensor %.100s appears twice", t->name);
        header_entry(c, t, v);
    }
}

static int by_offset(const void *a, const void *b)
{
    const st_tensor *x = *(st_tensor *const *)a, *y = *(st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* The tensors must tile the data: sorted by offset, each starts where the last ended. */
static void check_tiling(const st_file *f)
{
    uint64_t need = 0;
    for (int i = 0; i < f->n; i++)
        if (f->t[i].end > need)
            need = f->t[i].end;
    if (need > f->data_len)
        die(EX_DATAERR, "%s: truncated: the tensors need %llu bytes of data after the header, "
            "the file has %llu", f->name, (unsigned long long)need,
            (unsigned long long)f->data_len);
    const st_tensor **order = xmalloc((size_t)(f->n ? f->n : 1) * sizeof *order);
    for (int i = 0; i < f->n; i++)
        order[i] = &f->t[i];
    qsort(order, (size_t)f->n, sizeof *order, by_offset);
    uint64_t at = 0;
    const char *gap = NULL, *overlap = NULL;
    for (int i = 0; i < f->n && !gap && !overlap; i++) {
        if (order[i]->begin > at)
            gap = order[i]->name;
        else if (order[i]->begin < at)
            overlap = order[i]->name;
        at = order[i]->end;
    }
    char what[200];
    if (gap || overlap)
        snprintf(what, sizeof what, "tensor %.100s %s", gap ? gap : overlap,
                 gap ? "leaves a gap before it" : "overlaps another");
    free(order);
    if (gap || overlap)
        die(EX_DATAERR, "%s: corrupt header: %s", f->name, what);
    if (at != f->data_len)
        die(EX_DATAERR, "%s: %llu bytes after the last tensor", f->name,
            (unsigned long long)(f->data_len - at));
}

/* pread exactly len bytes at off, or die naming what was read. */
static void read_at(const st_file *f, void *dst, size_t len, uint64_t off, const char *what)
{
    char *p = dst;
    while (len > 0) {
        ssize_t n = pread(f->fd, p, len > (1u << 30) ? 1u << 30 : len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die(EX_IOERR, "%s: %s: %s", f->name, what, strerror(errno));
        if (n == 0)
            die(EX_DATAERR, "%s: %s: the file ends early", f->name, what);
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
}

void st_open_fd(st_file *f, int fd, const char *name)
{
    f->fd = fd;
    f->name = xstrdup(name);
    struct stat st;
    if (fstat(fd, &st) != 0)
        die(EX_IOERR, "%s: %s", name, strerror(errno));
    if (!S_ISREG(st.st_mode))
        die(EX_DATAERR, "%s: not a regular file", name);
    uint64_t size = (uint64_t)st.st_size;
    if (size < 8)
        die(EX_DATAERR, "%s: %llu bytes: too short for a safetensors file", name,
            (unsigned long long)size);
    unsigned char len8[8];
    read_at(f, len8, 8, 0, "header length");
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | len8[i];
    if (hlen < 2 || hlen > ST_MAX_HEADER)
        die(EX_DATAERR, "%s: corrupt header: its length %llu is not in [2, %d]: not a "
            "safetensors file", name, (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen > size - 8)
        die(EX_DATAERR, "%s: truncated: the header claims %llu bytes, the file has %llu "
            "after the length", name, (unsigned long long)hlen, (unsigned long long)(size - 8));
    f->data_start = 8 + hlen;
    f->data_len = size - f->data_start;
    f->header = xmalloc(hlen);
    read_at(f, f->header, hlen, 8, "header");
    if (f->header[0] != '{')
        die(EX_DATAERR, "%s: corrupt header: it does not start with '{'", name);

    header_ctx c = {.f = f};
    json_reader *jr = json_reader_new(0, header_object, &c);
    bool ok = json_reader_feed(jr, f->header, hlen) && json_reader_finish(jr);
    if (!ok)
        snprintf(c.err, sizeof c.err, "%s", json_reader_error(jr));
    json_reader_free(jr);
    free(f->header);
    f->header = NULL;
    if (c.err[0])
        die(EX_DATAERR, "%s: corrupt header: %s", name, c.err);
    check_tiling(f);
}

void st_open(st_file *f, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die(errno == ENOENT || errno == EACCES || errno == ENOTDIR ? EX_NOINPUT : EX_IOERR,
            "%s: cannot open: %s", path, strerror(errno));
    f->own_fd = true;
    st_open_fd(f, fd, path);
}

int st_find(const st_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return i;
    return -1;
}

float st_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = h >> 10 & 0x1f, mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) { /* zero or subnormal: mant 2^-24, exact in float32 */
        float v = (float)mant * 0x1p-24f;
        memcpy(&bits, &v, 4);
        bits |= sign;
    } else if (exp == 31) { /* infinity or NaN, the payload kept */
        bits = sign | 0x7f800000u | mant << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | mant << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float st_bf16_to_f32(uint16_t b)
{
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Elements [first, first + n) of tensor t as float32 into dst. */
static void read_f32_range(const st_file *f, const st_tensor *t, uint64_t first, size_t n,
                           float *dst)
{
    char what[160];
    snprintf(what, sizeof what, "tensor %.100s", t->name);
    unsigned size = dtypes[t->dtype].size;
    uint64_t off = f->data_start + t->begin + first * size;
    if (t->dtype == ST_F32) {
        read_at(f, dst, n * 4, off, what);
        return;
    }
    if (t->dtype != ST_F16 && t->dtype != ST_BF16 && t->dtype != ST_F64)
        die(EX_DATAERR, "%s: %s: dtype %s, where F32, F16, BF16 or F64 weights are needed",
            f->name, what, dtypes[t->dtype].name);
    enum { CHUNK = 1 << 14 };
    unsigned char *buf = xmalloc((size_t)CHUNK * size);
    for (size_t done = 0; done < n;) {
        size_t k = n - done < CHUNK ? n - done : CHUNK;
        read_at(f, buf, k * size, off + done * size, what);
        for (size_t j = 0; j < k; j++) {
            const unsigned char *p = buf + j * size;
            if (t->dtype == ST_F64) {
                double d;
                memcpy(&d, p, 8);
                dst[done + j] = (float)d;
            } else {
                uint16_t h = (uint16_t)(p[0] | p[1] << 8);
                dst[done + j] = t->dtype == ST_F16 ? st_f16_to_f32(h) : st_bf16_to_f32(h);
            }
        }
        done += k;
    }
    free(buf);
}

void st_read_f32(const st_file *f, int i, float *dst)
{
    read_f32_range(f, &f->t[i], 0, (size_t)f->t[i].count, dst);
}

void st_close(st_file *f)
{
    if (f->own_fd && f->fd >= 0)
        close(f->fd);
    for (int i = 0; i < f->n; i++)
        free(f->t[i].name);
    free(f->t);
    free(f->name);
    free(f->header);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

/* ---- config.json ---- */

typedef struct {
    model_config cfg;
    int objects;
    char err[240];
} config_ctx;

__attribute__((format(printf, 2, 3))) static void config_fail(config_ctx *c, const char *fmt,
                                                              ...)
{
    va_list ap;
    va_start(ap, fmt);
    keep_first(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

/* A boolean key that must have the value want when present. */
static void config_flag(config_ctx *c, const msgpack_object *o, const char *key, bool want,
                        const char *why)
{
    const msgpack_object *v = get(o, key);
    if (!v || v->type == MSGPACK_OBJECT_NIL)
        return;
    if (v->type != MSGPACK_OBJECT_BOOLEAN)
        return config_fail(c, "\"%s\" is not true or false", key);
    if (v->via.boolean != want)
        config_fail(c, "\"%s\": %s is not supported (runnel's gpt is GPT-2 %s)", key,
                    v->via.boolean ? "true" : "false", why);
}

static void config_object(void *ctx, const msgpack_object *o)
{
    config_ctx *c = ctx;
    if (c->objects++)
        return config_fail(c, "more than one JSON object");
    const msgpack_object *type = get(o, "model_type");
    if (!type || type->type != MSGPACK_OBJECT_STR)
        return config_fail(c, "no \"model_type\": not a Hugging Face model configuration");
    if (!tar_str_is(type, "gpt2"))
        return config_fail(c, "unknown architecture \"%.*s\" (model_type): import-hf reads "
                           "GPT-2 (\"gpt2\")", type->via.str.size > 64 ? 64 :
                           (int)type->via.str.size, type->via.str.ptr);
    static const struct { const char *key; size_t field; int max; bool optional; } ints[] = {
        {"vocab_size", offsetof(model_config, vocab), 1 << 24, false},
        {"n_layer", offsetof(model_config, layers), 1 << 12, false},
        {"n_embd", offsetof(model_config, width), 1 << 16, false},
        {"n_head", offsetof(model_config, heads), 1 << 12, false},
        {"n_positions", offsetof(model_config, context), 1 << 20, false},
        {"n_inner", offsetof(model_config, mlp), 1 << 18, true}, /* null: 4 n_embd */
    };
    memset(&c->cfg, 0, sizeof c->cfg);
    snprintf(c->cfg.arch, sizeof c->cfg.arch, "gpt");
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        const msgpack_object *v = get(o, ints[i].key);
        if ((!v || v->type == MSGPACK_OBJECT_NIL) && ints[i].optional)
            continue;
        uint64_t n;
        if (!v)
            return config_fail(c, "no \"%s\"", ints[i].key);
        if (!get_u64(v, (uint64_t)ints[i].max, &n) || n < 1)
            return config_fail(c, "\"%s\" is not an integer in [1, %d]", ints[i].key,
                               ints[i].max);
        *(int *)((char *)&c->cfg + ints[i].field) = (int)n;
    }
    const msgpack_object *eps = get(o, "layer_norm_epsilon");
    if (eps) {
        double e = eps->type == MSGPACK_OBJECT_FLOAT64 || eps->type == MSGPACK_OBJECT_FLOAT32
                       ? eps->via.f64
                   : eps->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (double)eps->via.u64
                                                                  : NAN;
        if (isnan(e))
            return config_fail(c, "\"layer_norm_epsilon\" is not a number");
        if (fabs(e - 1e-5) > 1e-12)
            return config_fail(c, "\"layer_norm_epsilon\" is %g: runnel's LayerNorm uses "
                               "GPT-2's 1e-5", e);
    }
    const msgpack_object *act = get(o, "activation_function");
    if (act && !tar_str_is(act, "gelu_new") && !tar_str_is(act, "gelu_pytorch_tanh")) {
        if (act->type != MSGPACK_OBJECT_STR)
            return config_fail(c, "\"activation_function\" is not a string");
        return config_fail(c, "\"activation_function\" is \"%.*s\": runnel's gpt uses "
                           "GPT-2's tanh GELU (\"gelu_new\")", act->via.str.size > 64 ? 64 :
                           (int)act->via.str.size, act->via.str.ptr);
    }
    config_flag(c, o, "scale_attn_weights", true, "attention, scaled by 1/sqrt(head size)");
    config_flag(c, o, "scale_attn_by_inverse_layer_idx", false,
                "attention, scaled by 1/sqrt(head size) alone");
    config_flag(c, o, "add_cross_attention", false, "without cross-attention");
}

void hf_config_read(const char *path, model_config *cfg)
{
    enum { MAX_CONFIG = 1 << 20 };
    input *in = input_open(path);
    char *text = xmalloc(MAX_CONFIG);
    size_t len = 0, n;
    while (len < MAX_CONFIG && (n = input_read(in, text + len, MAX_CONFIG - len)) > 0)
        len += n;
    bool too_long = len == MAX_CONFIG && input_read(in, &(char){0}, 1) > 0;
    input_close(in);
    config_ctx c = {.objects = 0};
    if (too_long)
        snprintf(c.err, sizeof c.err, "more than %d bytes: not a model configuration",
                 MAX_CONFIG);
    if (!c.err[0]) {
        json_reader *jr = json_reader_new(0, config_object, &c);
        if (!json_reader_feed(jr, text, len) || !json_reader_finish(jr))
            snprintf(c.err, sizeof c.err, "%s", json_reader_error(jr));
        json_reader_free(jr);
    }
    free(text);
    if (!c.err[0] && c.objects == 0)
        snprintf(c.err, sizeof c.err, "no JSON object");
    const char *why = c.err[0] ? NULL : model_config_finish(&c.cfg);
    if (why)
        snprintf(c.err, sizeof c.err, "%s", why);
    if (c.err[0])
        die(EX_DATAERR, "%s: %s", path, c.err);
    *cfg = c.cfg;
}

/* ---- GPT-2's tensors ---- */

/* h.N.attn.bias and h.N.attn.masked_bias: causal-mask buffers, not weights. */
static bool mask_buffer(const char *name)
{
    if (strncmp(name, "h.", 2) != 0)
        return false;
    const char *p = name + 2;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    return strcmp(p, ".attn.bias") == 0 || strcmp(p, ".attn.masked_bias") == 0;
}

static void shape_str(char *buf, size_t len, int ndim, const int64_t *shape)
{
    size_t at = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (at < len)
        snprintf(buf + at, len - at, "]");
}

/* lm_head.weight (V, C) must be wte.weight, read already: compared a slice at a time. */
static void check_tied_head(const st_file *f, int i, const param_set *ps)
{
    int wte = param_find(ps, "wte.weight");
    const st_tensor *t = &f->t[i];
    const float *w = param_w(ps, wte);
    if (t->ndim != 2 || t->shape[0] != ps->info[wte].shape[0] ||
        t->shape[1] != ps->info[wte].shape[1])
        die(EX_DATAERR, "%s: tensor %s: not shaped like wte.weight", f->name, t->name);
    enum { SLICE = 1 << 16 };
    float *head = xmalloc(SLICE * sizeof *head);
    bool same = true;
    for (uint64_t at = 0; at < t->count && same; at += SLICE) {
        size_t n = t->count - at < SLICE ? (size_t)(t->count - at) : SLICE;
        read_f32_range(f, t, at, n, head);
        same = memcmp(head, w + at, n * sizeof *head) == 0;
    }
    free(head);
    if (!same)
        die(EX_DATAERR, "%s: tensor %s differs from wte.weight: runnel's gpt ties its output "
            "head to the token embedding", f->name, t->name);
}

void hf_read_gpt2(st_file *f, param_set *ps)
{
    static const char prefix[] = "transformer.";
    size_t plen = sizeof prefix - 1;
    int *from = xmalloc((size_t)ps->n * sizeof *from); /* file tensor of each param */
    for (int j = 0; j < ps->n; j++)
        from[j] = -1;
    int head = -1;
    char msg[400] = "";
    for (int i = 0; i < f->n && !msg[0]; i++) {
        const st_tensor *t = &f->t[i];
        const char *name = strncmp(t->name, prefix, plen) == 0 ? t->name + plen : t->name;
        if (mask_buffer(name))
            continue;
        if (strcmp(name, "lm_head.weight") == 0) {
            if (head >= 0)
                snprintf(msg, sizeof msg, "tensor %.100s appears twice", t->name);
            head = i;
            continue;
        }
        int j = param_find(ps, name);
        if (j < 0) {
            snprintf(msg, sizeof msg, "tensor %.100s is not part of a GPT-2 model", t->name);
            break;
        }
        if (from[j] >= 0) {
            snprintf(msg, sizeof msg, "tensor %.100s appears twice (as %.100s too)", name,
                     f->t[from[j]].name);
            break;
        }
        from[j] = i;
        const param_info *p = &ps->info[j];
        bool same = t->ndim == p->ndim;
        for (int d = 0; same && d < p->ndim; d++)
            same = t->shape[d] == p->shape[d];
        if (!same) {
            char have[128], want[128];
            shape_str(have, sizeof have, t->ndim, t->shape);
            shape_str(want, sizeof want, p->ndim, p->shape);
            snprintf(msg, sizeof msg, "tensor %.100s: shape %s, where config.json makes it %s",
                     t->name, have, want);
        }
    }
    for (int j = 0; j < ps->n && !msg[0]; j++)
        if (from[j] < 0)
            snprintf(msg, sizeof msg, "tensor %.100s is missing", ps->info[j].name);
    if (msg[0]) {
        free(from);
        die(EX_DATAERR, "%s: %s", f->name, msg);
    }
    for (int j = 0; j < ps->n; j++)
        st_read_f32(f, from[j], param_w(ps, j));
    free(from);
    if (head >= 0)
        check_tied_head(f, head, ps);
}

/* ---- the folder ---- */

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

model *hf_load(const char *dir, bpe_t **tok)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        die(EX_NOINPUT, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        die(EX_NOINPUT, "%s: not a folder (a Hugging Face model folder is needed)", dir);
    char *config = join(dir, "config.json"), *weights = join(dir, "model.safetensors");
    char *vocab = join(dir, "vocab.json"), *merges = join(dir, "merges.txt");
    if (!exists(weights)) {
        char *bin = join(dir, "pytorch_model.bin");
        if (exists(bin))
            die(EX_NOINPUT, "%s: no model.safetensors; pytorch_model.bin (a pickle) is not "
                "read: save the model with safe_serialization", dir);
        free(bin);
    }
    model_config cfg;
    hf_config_read(config, &cfg);
    *tok = NULL;
    bool has_vocab = exists(vocab), has_merges = exists(merges);
    if (has_vocab != has_merges)
        die(EX_NOINPUT, "%s: %s without %s: the tokenizer needs both", dir,
            has_vocab ? "vocab.json" : "merges.txt", has_vocab ? "merges.txt" : "vocab.json");
    if (has_vocab) {
        *tok = gpt2_import(vocab, merges);
        if ((*tok)->n_vocab > (uint32_t)cfg.vocab)
            die(EX_DATAERR, "%s: %u tokens, more than the %d of vocab_size in %s", vocab,
                (*tok)->n_vocab, cfg.vocab, config);
    }
    st_file f = {.fd = -1};
    st_open(&f, weights);
    model *m = model_new(&cfg);
    hf_read_gpt2(&f, model_params(m));
    st_close(&f);
    free(config);
    free(weights);
    free(vocab);
    free(merges);
    return m;
}
