/* Writing record streams.  Records are packed into one growing buffer that is flushed in
 * large writes at record boundaries.  A record's map header is written when the record
 * ends, once its key count is known: rec_begin() leaves one byte (a fixmap holds up to 15
 * keys) and rec_end() shifts the body in the rare case that a larger header is needed. */
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/err.h"
#include "base/outfile.h"
#include "rec/rec.h"

enum { FLUSH_AT = 1 << 20 };

struct rec_writer {
    outfile *file;
    gzFile gz; /* NULL unless compressing */
    msgpack_packer pk;
    char *buf;
    size_t len, cap;
    size_t start;   /* offset of the open record's header byte */
    uint32_t nkeys; /* keys in the open record */
    bool open;
};

static void reserve(rec_writer *w, size_t n)
{
    if (w->len + n <= w->cap)
        return;
    size_t cap = w->cap * 2;
    while (cap < w->len + n)
        cap *= 2;
    w->buf = xrealloc(w->buf, cap);
    w->cap = cap;
}

static int append(void *data, const char *p, size_t n)
{
    rec_writer *w = data;
    reserve(w, n);
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

rec_writer *rec_create(const char *path, bool gzip)
{
    rec_writer *w = xcalloc(1, sizeof *w);
    w->file = outfile_open(path);
    if (gzip) {
        w->gz = gzdopen(dup(outfile_fd(w->file)), "wb"); /* gzclose_w closes its own copy */
        if (!w->gz)
            die(EX_OSERR, "%s: cannot set up compression", path);
    }
    w->cap = FLUSH_AT + 4096;
    w->buf = xmalloc(w->cap);
    msgpack_packer_init(&w->pk, w, append);
    return w;
}

void rec_flush(rec_writer *w)
{
    if (w->len == 0)
        return;
    if (w->gz) {
        if (gzwrite(w->gz, w->buf, (unsigned)w->len) != (int)w->len) {
            int code;
            die(EX_IOERR, "%s: write failed: %s", outfile_name(w->file), gzerror(w->gz, &code));
        }
    } else {
        write_all(outfile_fd(w->file), w->buf, w->len, outfile_name(w->file));
    }
    w->len = 0;
}

void rec_begin(rec_writer *w)
{
    if (w->open)
        die(EX_SOFTWARE, "rec_begin: a record is already open");
    w->open = true;
    w->nkeys = 0;
    w->start = w->len;
    reserve(w, 1);
    w->len++;
}

void rec_end(rec_writer *w)
{
    if (!w->open)
        die(EX_SOFTWARE, "rec_end: no record is open");
    w->open = false;
    unsigned char hdr[5];
    size_t h;
    if (w->nkeys <= 15) {
        hdr[0] = (unsigned char)(0x80 | w->nkeys);
        h = 1;
    } else if (w->nkeys <= 0xffff) {
        hdr[0] = 0xde, hdr[1] = (unsigned char)(w->nkeys >> 8), hdr[2] = (unsigned char)w->nkeys;
        h = 3;
    } else {
        hdr[0] = 0xdf;
        for (int i = 0; i < 4; i++)
            hdr[1 + i] = (unsigned char)(w->nkeys >> (24 - 8 * i));
        h = 5;
    }
    if (h > 1) {
        reserve(w, h - 1);
        char *body = w->buf + w->start + 1;
        memmove(body + h - 1, body, w->len - w->start - 1);
        w->len += h - 1;
    }
    memcpy(w->buf + w->start, hdr, h);
    if (w->len >= FLUSH_AT)
        rec_flush(w);
}

msgpack_packer *rec_put_key(rec_writer *w, const char *key)
{
    if (!w->open)
        die(EX_SOFTWARE, "rec_put: no record is open (key \"%s\")", key);
    size_t n = strlen(key);
    msgpack_pack_str(&w->pk, n);
    msgpack_pack_str_body(&w->pk, key, n);
    w->nkeys++;
    return &w->pk;
}

/* msgpack lengths are 32-bit. */
static void check_length(const char *key, size_t len)
{
    if (len > UINT32_MAX)
        die(EX_DATAERR, "key \"%s\": %zu bytes is more than a msgpack value can hold", key, len);
}

void rec_put_str(rec_writer *w, const char *key, const char *s, size_t len)
{
    check_length(key, len);
    msgpack_packer *pk = rec_put_key(w, key);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

void rec_put_cstr(rec_writer *w, const char *key, const char *s)
{
    rec_put_str(w, key, s, strlen(s));
}

void rec_put_bin(rec_writer *w, const char *key, const void *p, size_t len)
{
    check_length(key, len);
    msgpack_packer *pk = rec_put_key(w, key);
    msgpack_pack_bin(pk, len);
    msgpack_pack_bin_body(pk, p, len);
}

void rec_put_i64(rec_writer *w, const char *key, int64_t v) { msgpack_pack_int64(rec_put_key(w, key), v); }
void rec_put_u64(rec_writer *w, const char *key, uint64_t v) { msgpack_pack_uint64(rec_put_key(w, key), v); }
void rec_put_f64(rec_writer *w, const char *key, double v) { msgpack_pack_double(rec_put_key(w, key), v); }
void rec_put_f32(rec_writer *w, const char *key, float v) { msgpack_pack_float(rec_put_key(w, key), v); }
void rec_put_nil(rec_writer *w, const char *key) { msgpack_pack_nil(rec_put_key(w, key)); }

void rec_put_bool(rec_writer *w, const char *key, bool v)
{
    msgpack_packer *pk = rec_put_key(w, key);
    if (v)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

void rec_put_u32s(rec_writer *w, const char *key, const uint32_t *v, size_t n)
{
    msgpack_packer *pk = rec_put_key(w, key);
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_uint32(pk, v[i]);
}

void rec_put_f32s(rec_writer *w, const char *key, const float *v, size_t n)
{
    msgpack_packer *pk = rec_put_key(w, key);
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_float(pk, v[i]);
}

void rec_put_tensor(rec_writer *w, const char *key, const char *dtype, const uint64_t *shape,
                    int ndim, const void *data)
{
    size_t esize = rec_dtype_size(dtype);
    if (!esize)
        die(EX_SOFTWARE, "rec_put_tensor: unknown dtype \"%s\"", dtype);
    size_t count = 1;
    for (int i = 0; i < ndim; i++)
        count *= shape[i];
    msgpack_packer *pk = rec_put_key(w, key);
    msgpack_pack_map(pk, 3);
    msgpack_pack_str_with_body(pk, "dtype", 5);
    msgpack_pack_str_with_body(pk, dtype, strlen(dtype));
    msgpack_pack_str_with_body(pk, "shape", 5);
    msgpack_pack_array(pk, (size_t)ndim);
    for (int i = 0; i < ndim; i++)
        msgpack_pack_uint64(pk, shape[i]);
    msgpack_pack_str_with_body(pk, "data", 4);
    /* runnel is little-endian only (checked at build time), so the bytes go out as they are */
    msgpack_pack_bin_with_body(pk, data, count * esize);
}

void rec_put_obj(rec_writer *w, const char *key, const msgpack_object *o)
{
    msgpack_pack_object(rec_put_key(w, key), *o);
}

static bool listed(const msgpack_object_str *k, const char *const *skip)
{
    for (; skip && *skip; skip++)
        if (strlen(*skip) == k->size && memcmp(*skip, k->ptr, k->size) == 0)
            return true;
    return false;
}

void rec_put_rest(rec_writer *w, const rec *r, const char *const *skip)
{
    for (uint32_t i = 0; i < r->map->size; i++) {
        const msgpack_object_kv *kv = &r->map->ptr[i];
        if (listed(&kv->key.via.str, skip))
            continue;
        msgpack_pack_object(&w->pk, kv->key);
        msgpack_pack_object(&w->pk, kv->val);
        w->nkeys++;
    }
}

void rec_copy(rec_writer *w, const rec *r)
{
    rec_begin(w);
    rec_put_rest(w, r, NULL);
    rec_end(w);
}

void rec_finish(rec_writer *w)
{
    if (w->open)
        die(EX_SOFTWARE, "rec_finish: a record is still open");
    rec_flush(w);
    if (w->gz && gzclose_w(w->gz) != Z_OK)
        die(EX_IOERR, "%s: write failed", outfile_name(w->file));
    outfile_commit(w->file);
    free(w->buf);
    free(w);
}
