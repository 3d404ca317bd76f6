/* Unit tests of lib/rec: what is written reads back the same, and bad data fails with a
 * message that says where and what.  Streams go through files in a temporary folder. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "rec/rec.h"

static char dir[] = "/tmp/test_rec.XXXXXX";

/* A file in the temporary folder (one static buffer per slot, so two can be in use). */
static const char *tmp_path(const char *name)
{
    static char paths[2][64];
    static int turn;
    char *p = paths[turn ^= 1];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, n, f) == n);
    fclose(f);
}

/* The whole file, and its length in *n. */
static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *p = xmalloc(*n);
    CHECK(fread(p, 1, *n, f) == *n);
    fclose(f);
    return p;
}

/* ---- catching die() and its message ---- */

static char captured[1024];
static int saved_stderr = -1;

static void capture_stderr(void)
{
    fflush(stderr);
    saved_stderr = dup(2);
    int fd = open(tmp_path("stderr"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
}

static const char *release_stderr(void)
{
    fflush(stderr);
    size_t n;
    unsigned char *p = read_bytes(tmp_path("stderr"), &n);
    if (n >= sizeof captured)
        n = sizeof captured - 1;
    memcpy(captured, p, n);
    captured[n] = 0;
    free(p);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    return captured;
}

/* stmt must die() with code, printing a message that contains want. */
#define EXPECT_FAIL(code, want, stmt)                                                    \
    do {                                                                                 \
        capture_stderr();                                                                \
        EXPECT_DIE(code, stmt);                                                          \
        const char *got_ = release_stderr();                                             \
        if (!strstr(got_, want)) {                                                       \
            char m_[1400];                                                               \
            snprintf(m_, sizeof m_, "message \"%s\" lacks \"%s\"", got_, want);          \
            check_fail_(__FILE__, __LINE__, m_);                                         \
        }                                                                                \
    } while (0)

/* ---- helpers ---- */

/* Open path and read its first record into *r. */
static rec_reader *open_first(const char *path, rec *r)
{
    rec_reader *in = rec_open(path);
    CHECK(rec_next(in, r));
    return in;
}

static rec_reader *open_hex_record(const char *name, const void *data, size_t n, rec *r)
{
    write_bytes(tmp_path(name), data, n);
    return open_first(tmp_path(name), r);
}

/* ---- round trips ---- */

static void every_put_reads_back_with_its_getter(void)
{
    static const char str[] = "h\0\xc3\xa9\xff";  /* bytes, not C strings: NUL, UTF-8, invalid */
    static const unsigned char bin[] = {0, 1, 2, 255};
    static const uint32_t ids[] = {0, 1, 65535, UINT32_MAX};
    static const float fl[] = {0.5f, -1e30f, 0.1f};
    static const float grid[2][3] = {{1, 2, 3}, {4, 5, 6}};
    rec_writer *w = rec_create(tmp_path("types.mp"), false);
    rec_begin(w);
    rec_put_str(w, "str", str, sizeof str - 1);
    rec_put_cstr(w, "cstr", "plain");
    rec_put_bin(w, "bin", bin, sizeof bin);
    rec_put_i64(w, "imin", INT64_MIN);
    rec_put_i64(w, "imax", INT64_MAX);
    rec_put_i64(w, "ineg", -1);
    rec_put_u64(w, "umax", UINT64_MAX);
    rec_put_u64(w, "uzero", 0);
    rec_put_f64(w, "f64", 3.141592653589793);
    rec_put_f64(w, "negzero", -0.0);
    rec_put_f32(w, "f32", 0.1f);
    rec_put_bool(w, "yes", true);
    rec_put_bool(w, "no", false);
    rec_put_nil(w, "nil");
    rec_put_u32s(w, "ids", ids, 4);
    rec_put_u32s(w, "none", NULL, 0);
    rec_put_f32s(w, "floats", fl, 3);
    rec_put_tensor(w, "grid", "f32", (const uint64_t[]){2, 3}, 2, grid);
    msgpack_object_kv kv = {.key = {.type = MSGPACK_OBJECT_STR, .via.str = {1, "k"}},
                            .val = {.type = MSGPACK_OBJECT_NEGATIVE_INTEGER, .via.i64 = -7}};
    msgpack_object obj = {.type = MSGPACK_OBJECT_MAP, .via.map = {1, &kv}};
    rec_put_obj(w, "obj", &obj);
    msgpack_packer *pk = rec_put_key(w, "nested");
    msgpack_pack_array(pk, 2);
    msgpack_pack_str_with_body(pk, "x", 1);
    msgpack_pack_uint8(pk, 9);
    rec_end(w);
    rec_finish(w);

    rec r;
    rec_reader *in = open_first(tmp_path("types.mp"), &r);
    CHECK_EQ_INT(r.map->size, 20);
    CHECK_EQ_INT(r.index, 1);
    const char *s;
    size_t len;
    CHECK(rec_get_str(&r, "str", &s, &len) && len == sizeof str - 1 && memcmp(s, str, len) == 0);
    s = rec_need_str(&r, "cstr", &len);
    CHECK(len == 5 && memcmp(s, "plain", 5) == 0);
    const void *p;
    CHECK(rec_get_bin(&r, "bin", &p, &len) && len == 4 && memcmp(p, bin, 4) == 0);
    int64_t i;
    CHECK(rec_get_i64(&r, "imin", &i) && i == INT64_MIN);
    CHECK(rec_get_i64(&r, "imax", &i) && i == INT64_MAX);
    CHECK(rec_need_i64(&r, "ineg") == -1);
    CHECK(rec_get_i64(&r, "uzero", &i) && i == 0);
    uint64_t u;
    CHECK(rec_get_u64(&r, "umax", &u) && u == UINT64_MAX);
    CHECK(rec_need_u64(&r, "imax") == INT64_MAX);
    double d;
    CHECK(rec_get_f64(&r, "f64", &d) && d == 3.141592653589793);
    CHECK(rec_get_f64(&r, "negzero", &d) && d == 0 && signbit(d));
    CHECK(rec_need_f64(&r, "f32") == (double)0.1f);
    CHECK(rec_find(&r, "f32")->type == MSGPACK_OBJECT_FLOAT32);
    CHECK(rec_need_f64(&r, "ineg") == -1.0);  /* f64 accepts any number */
    CHECK(rec_need_f64(&r, "umax") == 0x1p64);
    bool b = false;
    CHECK(rec_get_bool(&r, "yes", &b) && b);
    CHECK(rec_get_bool(&r, "no", &b) && !b);
    CHECK(rec_find(&r, "nil")->type == MSGPACK_OBJECT_NIL);
    u32vec v = {0};
    CHECK(rec_get_u32s(&r, "ids", UINT32_MAX, &v) && v.n == 4 && memcmp(v.v, ids, sizeof ids) == 0);
    rec_need_u32s(&r, "none", 0, &v);
    CHECK_EQ_INT(v.n, 0);
    u32vec_free(&v);
    const msgpack_object *f = rec_find(&r, "floats");
    CHECK(f->type == MSGPACK_OBJECT_ARRAY && f->via.array.size == 3);
    for (int k = 0; k < 3; k++)
        CHECK(f->via.array.ptr[k].type == MSGPACK_OBJECT_FLOAT32 &&
              f->via.array.ptr[k].via.f64 == (double)fl[k]);
    rec_tensor t;
    CHECK(rec_get_tensor(&r, "grid", &t));
    CHECK_STR(t.dtype, "f32");
    CHECK(t.ndim == 2 && t.shape[0] == 2 && t.shape[1] == 3 && t.nbytes == sizeof grid);
    CHECK(memcmp(t.data, grid, sizeof grid) == 0);
    CHECK(msgpack_object_equal(*rec_find(&r, "obj"), obj));
    const msgpack_object *n = rec_find(&r, "nested");
    CHECK(n->type == MSGPACK_OBJECT_ARRAY && n->via.array.size == 2 &&
          n->via.array.ptr[1].via.u64 == 9);
    CHECK(!rec_get_str(&r, "absent", &s, &len));
    CHECK(!rec_get_tensor(&r, "absent", &t));
    CHECK(!rec_next(in, &r));
    rec_close(in);
}

/* Floats keep their width on the wire: f32 is 0xca, f64 is 0xcb. */
static void floats_are_written_at_their_width(void)
{
    rec_writer *w = rec_create(tmp_path("f.mp"), false);
    rec_begin(w);
    rec_put_f32(w, "a", 1.5f);
    rec_put_f64(w, "b", 1.5);
    rec_end(w);
    rec_finish(w);
    size_t n;
    unsigned char *p = read_bytes(tmp_path("f.mp"), &n);
    static const unsigned char want[] = {0x82, 0xa1, 'a', 0xca, 0x3f, 0xc0, 0, 0, 0xa1, 'b',
                                         0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0};
    CHECK(n == sizeof want && memcmp(p, want, n) == 0);
    free(p);
}

static void rest_passes_unknown_keys_through(void)
{
    /* {"a":1, "text":"x", "meta":{"k":[1,2]}, "raw":bin(2), "split":"old"} */
    static const unsigned char in_bytes[] = {
        0x85, 0xa1, 'a', 0x01, 0xa4, 't', 'e', 'x', 't', 0xa1, 'x',
        0xa4, 'm', 'e', 't', 'a', 0x81, 0xa1, 'k', 0x92, 0x01, 0x02,
        0xa3, 'r', 'a', 'w', 0xc4, 0x02, 0xde, 0xad,
        0xa5, 's', 'p', 'l', 'i', 't', 0xa3, 'o', 'l', 'd'};
    rec r;
    rec_reader *in = open_hex_record("rest.mp", in_bytes, sizeof in_bytes, &r);
    rec_writer *w = rec_create(tmp_path("rest.out.mp"), false);
    rec_begin(w);
    rec_put_cstr(w, "text", "y");
    rec_put_rest(w, &r, (const char *const[]){"text", "split", NULL});
    rec_end(w);
    rec_copy(w, &r);
    rec_finish(w);

    rec o;
    rec_reader *back = open_first(tmp_path("rest.out.mp"), &o);
    CHECK_EQ_INT(o.map->size, 4);
    CHECK(o.map->ptr[0].key.via.str.size == 4 &&
          memcmp(o.map->ptr[0].key.via.str.ptr, "text", 4) == 0);
    size_t len;
    CHECK(memcmp(rec_need_str(&o, "text", &len), "y", 1) == 0 && len == 1);
    CHECK(!rec_find(&o, "split"));
    const char *const kept[] = {"a", "meta", "raw"};
    for (int k = 0; k < 3; k++)
        CHECK(rec_find(&o, kept[k]) && msgpack_object_equal(*rec_find(&o, kept[k]),
                                                            *rec_find(&r, kept[k])));
    rec_close(in);
    rec_close(back);

    /* rec_copy of a canonically packed record gives back its very bytes */
    size_t n;
    unsigned char *all = read_bytes(tmp_path("rest.out.mp"), &n);
    CHECK(n > sizeof in_bytes &&
          memcmp(all + n - sizeof in_bytes, in_bytes, sizeof in_bytes) == 0);
    free(all);
}

/* A record of nkeys keys "k0".."kN", each holding its number. */
static void put_many_keys(rec_writer *w, uint32_t nkeys)
{
    rec_begin(w);
    for (uint32_t k = 0; k < nkeys; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%u", k);
        rec_put_u64(w, key, k);
    }
    rec_end(w);
}

/* rec_end patches the map header once the key count is known: fixmap up to 15 keys, map16
 * up to 65535, map32 beyond, shifting the body without disturbing the records around. */
static void key_counts_past_15_and_65535_get_wider_headers(void)
{
    static const uint32_t counts[] = {15, 16, 65535, 65536, 3};
    rec_writer *w = rec_create(tmp_path("keys.mp"), false);
    for (int k = 0; k < 5; k++)
        put_many_keys(w, counts[k]);
    rec_finish(w);

    size_t n;
    unsigned char *p = read_bytes(tmp_path("keys.mp"), &n);
    CHECK(p[0] == 0x8f);
    rec r;
    rec_reader *in = rec_open(tmp_path("keys.mp"));
    for (int k = 0; k < 5; k++) {
        CHECK(rec_next(in, &r));
        CHECK_EQ_INT(r.map->size, counts[k]);
        for (uint32_t i = 0; i < r.map->size; i++) {
            char key[16];
            int len = snprintf(key, sizeof key, "k%u", i);
            const msgpack_object_kv *kv = &r.map->ptr[i];
            CHECK(kv->key.via.str.size == (uint32_t)len &&
                  memcmp(kv->key.via.str.ptr, key, (size_t)len) == 0 && kv->val.via.u64 == i);
            if (check_test_failed)
                break;
        }
    }
    CHECK(!rec_next(in, &r));
    rec_close(in);

    /* the header bytes themselves, found by walking the file */
    size_t off = 0, at16 = 0, at65536 = 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    for (int k = 0; k < 4; k++) {
        if (k == 1)
            at16 = off;
        if (k == 3)
            at65536 = off;
        CHECK(msgpack_unpack_next(&u, (const char *)p, n, &off) == MSGPACK_UNPACK_SUCCESS);
    }
    msgpack_unpacked_destroy(&u);
    CHECK(memcmp(p + at16, "\xde\x00\x10", 3) == 0);
    CHECK(memcmp(p + at65536, "\xdf\x00\x01\x00\x00", 5) == 0);
    free(p);
}

/* Records far larger than the reader's buffer, between small ones, plain and gzipped. */
static void records_larger_than_any_buffer_read_back(void)
{
    enum { BIG = 3 << 20 };
    char *big = xmalloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        big[i] = (char)('a' + i % 26);
    for (int gz = 0; gz < 2; gz++) {
        const char *path = tmp_path(gz ? "big.mp.gz" : "big.mp");
        rec_writer *w = rec_create(path, gz);
        for (int k = 0; k < 5; k++) {
            rec_begin(w);
            rec_put_i64(w, "k", k);
            rec_put_str(w, "text", big, k % 2 ? BIG - (size_t)k : 3);
            rec_end(w);
        }
        rec_finish(w);
        rec_reader *in = rec_open(path);
        rec r;
        for (int k = 0; k < 5; k++) {
            CHECK(rec_next(in, &r) && rec_need_i64(&r, "k") == k);
            size_t len;
            const char *t = rec_need_str(&r, "text", &len);
            CHECK(len == (k % 2 ? BIG - (size_t)k : 3) && memcmp(t, big, len) == 0);
        }
        CHECK(!rec_next(in, &r));
        rec_close(in);
    }
    free(big);
}

static void gzip_input_is_read_transparently(void)
{
    /* {"id":1} {"id":2}, compressed with zlib directly */
    static const unsigned char plain[] = {0x81, 0xa2, 'i', 'd', 1, 0x81, 0xa2, 'i', 'd', 2};
    gzFile gz = gzopen(tmp_path("in.mp.gz"), "wb");
    CHECK(gzwrite(gz, plain, sizeof plain) == (int)sizeof plain);
    gzclose(gz);
    rec r;
    rec_reader *in = rec_open(tmp_path("in.mp.gz"));
    CHECK(rec_next(in, &r) && rec_need_u64(&r, "id") == 1);
    CHECK(rec_next(in, &r) && rec_need_u64(&r, "id") == 2 && r.index == 2);
    CHECK(!rec_next(in, &r));
    rec_close(in);
}

static void gzip_output_is_gzip_and_reads_back(void)
{
    rec_writer *w = rec_create(tmp_path("out.mp.gz"), true);
    for (int k = 0; k < 1000; k++) {
        rec_begin(w);
        rec_put_i64(w, "n", -k);
        rec_put_cstr(w, "pad", "the same text over and over compresses well");
        rec_end(w);
    }
    rec_finish(w);
    size_t n;
    unsigned char *p = read_bytes(tmp_path("out.mp.gz"), &n);
    CHECK(n > 2 && p[0] == 0x1f && p[1] == 0x8b);
    CHECK(n < 1000 * 40); /* compressed, not merely wrapped */
    free(p);
    rec r;
    rec_reader *in = rec_open(tmp_path("out.mp.gz"));
    for (int k = 0; k < 1000; k++)
        CHECK(rec_next(in, &r) && rec_need_i64(&r, "n") == -k);
    CHECK(!rec_next(in, &r));
    rec_close(in);
}

static void empty_input_is_an_empty_stream(void)
{
    write_bytes(tmp_path("empty.mp"), "", 0);
    rec r;
    rec_reader *in = rec_open(tmp_path("empty.mp"));
    CHECK(!rec_next(in, &r));
    CHECK(!rec_next(in, &r));
    rec_close(in);
    rec_finish(rec_create(tmp_path("empty.mp.gz"), true));
    in = rec_open(tmp_path("empty.mp.gz"));
    CHECK(!rec_next(in, &r));
    rec_close(in);
}

/* ---- failures ---- */

static void missing_file_exits_66(void)
{
    EXPECT_FAIL(66, "nowhere.mp: cannot open", rec_open(tmp_path("nowhere.mp")));
}

static void truncated_input_fails_naming_record_and_byte(void)
{
    static const unsigned char cut[] = {0x81, 0xa2, 'i', 'd', 1, 0x81, 0xa2, 'i'};
    write_bytes(tmp_path("cut.mp"), cut, sizeof cut);
    rec r;
    rec_reader *in = open_first(tmp_path("cut.mp"), &r);
    EXPECT_FAIL(65, "cut.mp: record 2 (byte 5): truncated", rec_next(in, &r));
    rec_close(in);

    /* a whole stream, gzipped and cut short */
    rec_writer *w = rec_create(tmp_path("long.mp.gz"), true);
    for (int k = 0; k < 20000; k++) {
        rec_begin(w);
        rec_put_u64(w, "k", (uint64_t)k * 2654435761u);
        rec_end(w);
    }
    rec_finish(w);
    size_t n;
    unsigned char *p = read_bytes(tmp_path("long.mp.gz"), &n);
    write_bytes(tmp_path("long_cut.mp.gz"), p, n / 2);
    free(p);
    in = rec_open(tmp_path("long_cut.mp.gz"));
    capture_stderr();
    EXPECT_DIE(65, while (rec_next(in, &r)) {});
    const char *msg = release_stderr();
    CHECK(strstr(msg, "long_cut.mp.gz: bad gzip data"));
    rec_close(in);
}

static void non_map_records_and_non_string_keys_fail(void)
{
    rec r;
    write_bytes(tmp_path("int.mp"), "\x81\xa1x\x01\x05", 5);
    rec_reader *in = open_first(tmp_path("int.mp"), &r);
    EXPECT_FAIL(65, "int.mp: record 2: expected a map, found an integer", rec_next(in, &r));
    rec_close(in);
    write_bytes(tmp_path("key.mp"), "\x82\xa1x\x01\x07\x01", 6);
    in = rec_open(tmp_path("key.mp"));
    EXPECT_FAIL(65, "key.mp: record 1: key 2 is an integer, expected a string", rec_next(in, &r));
    rec_close(in);
    write_bytes(tmp_path("junk.mp"), "\xc1", 1);
    in = rec_open(tmp_path("junk.mp"));
    EXPECT_FAIL(65, "junk.mp: record 1 (byte 0): not valid msgpack", rec_next(in, &r));
    rec_close(in);
}

static void wrong_types_fail_naming_key_and_types(void)
{
    /* {"n":-1, "s":"x", "big":2^64-1, "l":[1,300,"a"], "f":1.5} */
    static const unsigned char b[] = {
        0x85, 0xa1, 'n', 0xff, 0xa1, 's', 0xa1, 'x',
        0xa3, 'b', 'i', 'g', 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xa1, 'l', 0x93, 0x01, 0xcd, 0x01, 0x2c, 0xa1, 'a',
        0xa1, 'f', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0};
    rec r;
    rec_reader *in = open_hex_record("types.mp", b, sizeof b, &r);
    const char *s;
    const void *p;
    size_t len;
    int64_t i;
    uint64_t u;
    double d;
    bool flag;
    u32vec v = {0};
    EXPECT_FAIL(65, "types.mp: record 1: key \"n\": expected a string, found a negative integer",
                rec_get_str(&r, "n", &s, &len));
    EXPECT_FAIL(65, "key \"s\": expected binary data, found a string",
                rec_get_bin(&r, "s", &p, &len));
    EXPECT_FAIL(65, "key \"s\": expected an integer, found a string", rec_get_i64(&r, "s", &i));
    EXPECT_FAIL(65, "key \"big\": 18446744073709551615 is too large", rec_get_i64(&r, "big", &i));
    EXPECT_FAIL(65, "key \"n\": expected a non-negative integer, found -1",
                rec_get_u64(&r, "n", &u));
    EXPECT_FAIL(65, "key \"f\": expected a non-negative integer, found a float",
                rec_get_u64(&r, "f", &u));
    EXPECT_FAIL(65, "key \"s\": expected a number, found a string", rec_get_f64(&r, "s", &d));
    EXPECT_FAIL(65, "key \"s\": expected a boolean, found a string", rec_get_bool(&r, "s", &flag));
    EXPECT_FAIL(65, "key \"s\": expected an array of integers, found a string",
                rec_get_u32s(&r, "s", 10, &v));
    EXPECT_FAIL(65, "key \"l\"[1]: 300 is out of range (at most 255)",
                rec_get_u32s(&r, "l", 255, &v));
    EXPECT_FAIL(65, "key \"l\"[2]: expected a non-negative integer, found a string",
                rec_get_u32s(&r, "l", 1000, &v));
    EXPECT_FAIL(65, "types.mp: record 1: key \"gone\" is missing", rec_need_str(&r, "gone", &len));
    EXPECT_FAIL(65, "key \"gone\" is missing", rec_need_i64(&r, "gone"));
    EXPECT_FAIL(65, "key \"gone\" is missing", rec_need_u64(&r, "gone"));
    EXPECT_FAIL(65, "key \"gone\" is missing", rec_need_f64(&r, "gone"));
    EXPECT_FAIL(65, "key \"gone\" is missing", rec_need_u32s(&r, "gone", 1, &v));
    u32vec_free(&v);
    rec_close(in);
}

/* A record {"t": TENSOR} where TENSOR is given as packed bytes. */
static rec_reader *tensor_record(const char *tensor, size_t n, rec *r)
{
    unsigned char b[256] = {0x81, 0xa1, 't'};
    memcpy(b + 3, tensor, n);
    return open_hex_record("tensor.mp", b, 3 + n, r);
}

#define TENSOR_FAILS(want, bytes)                                                        \
    do {                                                                                 \
        rec r_;                                                                          \
        rec_tensor t_;                                                                   \
        rec_reader *in_ = tensor_record(bytes, sizeof bytes - 1, &r_);                   \
        EXPECT_FAIL(65, want, rec_get_tensor(&r_, "t", &t_));                            \
        rec_close(in_);                                                                  \
    } while (0)

static void tensors_are_validated(void)
{
    /* the valid one: {"dtype":"u8","shape":[2,2],"data":bin(4)} */
    rec r;
    rec_tensor t;
    static const char square[] =
        "\x83\xa5" "dtype\xa2u8\xa5shape\x92\x02\x02\xa4" "data\xc4\x04" "abcd";
    rec_reader *in = tensor_record(square, sizeof square - 1, &r);
    CHECK(rec_get_tensor(&r, "t", &t) && t.nbytes == 4 && t.ndim == 2 &&
          memcmp(t.data, "abcd", 4) == 0);
    rec_close(in);
    /* a scalar: shape [] holds one element */
    static const char scalar[] = "\x83\xa5" "dtype\xa3i16\xa5shape\x90\xa4" "data\xc4\x02" "ab";
    in = tensor_record(scalar, sizeof scalar - 1, &r);
    CHECK(rec_get_tensor(&r, "t", &t) && t.ndim == 0 && t.nbytes == 2);
    rec_close(in);

    TENSOR_FAILS("key \"t\": expected a dense array {dtype, shape, data}, found an array",
                 "\x91\x01");
    TENSOR_FAILS("key \"t\": shape says 4 elements of 4 bytes but data holds 4 bytes",
                 "\x83\xa5" "dtype\xa3" "f32\xa5shape\x92\x02\x02\xa4" "data\xc4\x04" "abcd");
    TENSOR_FAILS("key \"t\": unknown dtype \"q7\"",
                 "\x83\xa5" "dtype\xa2q7\xa5shape\x91\x01\xa4" "data\xc4\x01" "a");
    TENSOR_FAILS("key \"t\": \"dtype\" must be a short string",
                 "\x83\xa5" "dtype\x01\xa5shape\x91\x01\xa4" "data\xc4\x01" "a");
    TENSOR_FAILS("key \"t\": \"dtype\" must be a short string",
                 "\x82\xa5shape\x91\x01\xa4" "data\xc4\x01" "a");
    TENSOR_FAILS("key \"t\": \"shape\" must be an array of at most 8 sizes",
                 "\x83\xa5" "dtype\xa2u8\xa5shape\x01\xa4" "data\xc4\x01" "a");
    TENSOR_FAILS("key \"t\": \"shape\" must be an array of at most 8 sizes",
                 "\x83\xa5" "dtype\xa2u8\xa5shape\x99\x01\x01\x01\x01\x01\x01\x01\x01\x01"
                 "\xa4" "data\xc4\x01" "a");
    TENSOR_FAILS("key \"t\": shape[1] is not a non-negative integer",
                 "\x83\xa5" "dtype\xa2u8\xa5shape\x92\x01\xff\xa4" "data\xc4\x01" "a");
    TENSOR_FAILS("key \"t\": shape overflows",
                 "\x83\xa5" "dtype\xa2u8\xa5shape\x92\xcf\xff\xff\xff\xff\xff\xff\xff\xff\x03"
                 "\xa4" "data\xc4\x01" "a");
    TENSOR_FAILS("key \"t\": \"data\" must be binary data",
                 "\x83\xa5" "dtype\xa2u8\xa5shape\x91\x01\xa4" "data\xa1" "a");
}

/* The ordinary case at scale: a million small records come back in order, across many
 * buffer refills on both sides. */
static void million_small_records_read_back_in_order(void)
{
    enum { N = 1000000 };
    rec_writer *w = rec_create(tmp_path("million.mp"), false);
    for (uint32_t k = 0; k < N; k++) {
        rec_begin(w);
        rec_put_u64(w, "i", k);
        rec_put_str(w, "t", "abcdefgh", k % 9);
        rec_end(w);
    }
    rec_finish(w);
    rec_reader *in = rec_open(tmp_path("million.mp"));
    rec r;
    uint32_t k = 0, wrong = 0;
    while (rec_next(in, &r)) {
        size_t len;
        rec_need_str(&r, "t", &len);
        wrong += rec_need_u64(&r, "i") != k || r.index != k + 1u || len != k % 9;
        k++;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(k, N);
    rec_close(in);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(every_put_reads_back_with_its_getter);
    RUN(floats_are_written_at_their_width);
    RUN(rest_passes_unknown_keys_through);
    RUN(key_counts_past_15_and_65535_get_wider_headers);
    RUN(records_larger_than_any_buffer_read_back);
    RUN(gzip_input_is_read_transparently);
    RUN(gzip_output_is_gzip_and_reads_back);
    RUN(empty_input_is_an_empty_stream);
    RUN(missing_file_exits_66);
    RUN(truncated_input_fails_naming_record_and_byte);
    RUN(non_map_records_and_non_string_keys_fail);
    RUN(wrong_types_fail_naming_key_and_types);
    RUN(tensors_are_validated);
    RUN(million_small_records_read_back_in_order);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return check_done();
}
