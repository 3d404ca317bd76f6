/* rec: runnel record streams (see runnel-stream(5)).
 *
 * A stream is msgpack maps with string keys, back to back.  Reading:
 *
 *     rec_reader *in = rec_open(path);          // "-" is stdin; gzip is detected
 *     rec r;
 *     while (rec_next(in, &r)) {
 *         size_t len;
 *         const char *text = rec_need_str(&r, "text", &len);
 *         ...
 *     }
 *     rec_close(in);
 *
 * A record stays valid until the next rec_next() on its reader.  Errors in the data
 * (truncated msgpack, a non-map record, a key of the wrong type) go through rec_fail(),
 * which names the input, the record (counted from 1) and the key, and exits 65.
 *
 * Writing builds one record at a time; the key count is worked out by rec_end():
 *
 *     rec_writer *out = rec_create("-", false);  // a file is written atomically
 *     rec_begin(out);
 *     rec_put_u32s(out, "tokens", ids, n);
 *     rec_put_rest(out, &r, (const char *[]){"text", "tokens", NULL});  // keep the rest
 *     rec_end(out);
 *     rec_finish(out);
 */
#ifndef RUNNEL_REC_REC_H
#define RUNNEL_REC_REC_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- reading ---- */

typedef struct rec_reader rec_reader;

typedef struct {
    const msgpack_object_map *map;
    rec_reader *from;
    uint64_t index; /* 1 for the first record of the input */
} rec;

/* Open a file ("-" or NULL: stdin).  A missing file exits 66. */
rec_reader *rec_open(const char *path);
/* Read from an open descriptor; name is used in messages. */
rec_reader *rec_open_fd(int fd, const char *name);
/* Next record into *r; false at the end of the stream.  Bad data exits 65. */
bool rec_next(rec_reader *in, rec *r);
const char *rec_input_name(const rec_reader *in);
void rec_close(rec_reader *in);

/* Report a problem with record r ("tool: FILE: record N: <fmt>") and exit 65.
 * Tools that keep going past bad records can install their own handler, which must not
 * return (it may longjmp). */
_Noreturn void rec_fail(const rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
typedef void (*rec_fail_fn)(const rec *r, const char *msg);
void rec_set_fail_handler(rec_fail_fn fn);

/* The value under key, or NULL. */
const msgpack_object *rec_find(const rec *r, const char *key);
/* Name of a msgpack type for messages ("string", "array", ...). */
const char *rec_type_name(const msgpack_object *o);

/* Typed access.  rec_get_* return false when the key is absent and fail when it is present
 * with another type; rec_need_* also fail when it is absent.  Integer getters fail on
 * values outside their type; f64 accepts any number. */
bool rec_get_str(const rec *r, const char *key, const char **s, size_t *len);
bool rec_get_bin(const rec *r, const char *key, const void **p, size_t *len);
bool rec_get_i64(const rec *r, const char *key, int64_t *v);
bool rec_get_u64(const rec *r, const char *key, uint64_t *v);
bool rec_get_f64(const rec *r, const char *key, double *v);
bool rec_get_bool(const rec *r, const char *key, bool *v);
const char *rec_need_str(const rec *r, const char *key, size_t *len);
int64_t rec_need_i64(const rec *r, const char *key);
uint64_t rec_need_u64(const rec *r, const char *key);
double rec_need_f64(const rec *r, const char *key);

/* A growable array of uint32 (token ids and the like). */
typedef struct {
    uint32_t *v;
    size_t n, cap;
} u32vec;
void u32vec_push(u32vec *a, uint32_t x);
void u32vec_reserve(u32vec *a, size_t n);
void u32vec_free(u32vec *a);

/* An array of unsigned integers, each at most max, into out (replacing its contents). */
bool rec_get_u32s(const rec *r, const char *key, uint32_t max, u32vec *out);
void rec_need_u32s(const rec *r, const char *key, uint32_t max, u32vec *out);

/* Dense numeric arrays: {"dtype":"f32","shape":[...],"data":<bin>}. */
enum { REC_MAX_DIMS = 8 };
typedef struct {
    char dtype[8];               /* "f32", "f64", "i32", "u8", ... */
    int ndim;
    uint64_t shape[REC_MAX_DIMS];
    const void *data;            /* little-endian, points into the record */
    size_t nbytes;               /* product(shape) * element size, checked */
} rec_tensor;
bool rec_get_tensor(const rec *r, const char *key, rec_tensor *t);
size_t rec_dtype_size(const char *dtype); /* 0 if unknown */

/* ---- writing ---- */

typedef struct rec_writer rec_writer;

/* "-" is stdout; a file is written under a temporary name and renamed by rec_finish().
 * gzip compresses the output. */
rec_writer *rec_create(const char *path, bool gzip);
void rec_begin(rec_writer *w);
void rec_end(rec_writer *w);
void rec_put_str(rec_writer *w, const char *key, const char *s, size_t len);
void rec_put_cstr(rec_writer *w, const char *key, const char *s);
void rec_put_bin(rec_writer *w, const char *key, const void *p, size_t len);
void rec_put_i64(rec_writer *w, const char *key, int64_t v);
void rec_put_u64(rec_writer *w, const char *key, uint64_t v);
void rec_put_f64(rec_writer *w, const char *key, double v);
void rec_put_f32(rec_writer *w, const char *key, float v);
void rec_put_bool(rec_writer *w, const char *key, bool v);
void rec_put_nil(rec_writer *w, const char *key);
void rec_put_u32s(rec_writer *w, const char *key, const uint32_t *v, size_t n);
void rec_put_f32s(rec_writer *w, const char *key, const float *v, size_t n);
void rec_put_tensor(rec_writer *w, const char *key, const char *dtype, const uint64_t *shape,
                    int ndim, const void *data);
void rec_put_obj(rec_writer *w, const char *key, const msgpack_object *o);
/* Start a key whose value the caller packs with rec_packer() (nested maps, arrays ...);
 * exactly one msgpack object must follow. */
msgpack_packer *rec_put_key(rec_writer *w, const char *key);
/* Copy every key of r not listed in skip (a NULL-terminated list, or NULL). */
void rec_put_rest(rec_writer *w, const rec *r, const char *const *skip);
/* Write r unchanged as a whole record. */
void rec_copy(rec_writer *w, const rec *r);
/* Flush buffered records (done automatically when the buffer fills and at rec_finish). */
void rec_flush(rec_writer *w);
/* Flush, close and (for files) rename into place.  Frees w. */
void rec_finish(rec_writer *w);

#endif
