/* Unit tests of lib/rec/decode: the same objects as msgpack-c's msgpack_unpack() for every
 * format (written byte by byte, in every width), incomplete input at every cut, claims
 * beyond the buffer, invalid bytes and the depth limit. */
#include <msgpack.h>

#include "base/rng.h"
#include "check.h"
#include "rec/decode.h"

typedef struct {
    unsigned char b[1 << 16];
    size_t n;
} bytes;

static void put(bytes *o, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--)
        o->b[o->n++] = (unsigned char)(v >> (8 * i));
}

static void put_payload(bytes *o, rng_t *r, size_t len)
{
    for (size_t i = 0; i < len; i++)
        o->b[o->n++] = (unsigned char)rng_below(r, 256);
}

/* A random object in a random one of the formats that can hold it; containers nest at
 * most `depth` deeper.  Floats are finite, so that msgpack_object_equal() can compare. */
static void random_object(bytes *o, rng_t *r, int depth)
{
    static const int widths[4] = {1, 2, 4, 8};
    int kind = (int)rng_below(r, depth > 0 ? 12 : 9);
    int w = widths[rng_below(r, 4)], wlen = widths[rng_below(r, 3)];
    uint64_t v = rng_u64(r) >> rng_below(r, 64);
    size_t len = rng_below(r, 40);
    switch (kind) {
    case 0: /* positive or negative fixint */
        o->b[o->n++] = (unsigned char)(rng_below(r, 2) ? rng_below(r, 128) : 0xe0 + rng_below(r, 32));
        break;
    case 1: /* uint 8-64 */
        o->b[o->n++] = (unsigned char)(0xcc + (w == 1 ? 0 : w == 2 ? 1 : w == 4 ? 2 : 3));
        put(o, v, w);
        break;
    case 2: /* int 8-64, negative or not */
        o->b[o->n++] = (unsigned char)(0xd0 + (w == 1 ? 0 : w == 2 ? 1 : w == 4 ? 2 : 3));
        put(o, rng_below(r, 2) ? v : (uint64_t)-(int64_t)v, w);
        break;
    case 3: { /* nil, booleans */
        static const unsigned char c[3] = {0xc0, 0xc2, 0xc3};
        o->b[o->n++] = c[rng_below(r, 3)];
        break;
    }
    case 4: { /* float 32, 64 */
        double x = rng_normal(r) * 1e3;
        if (rng_below(r, 2)) {
            float f = (float)x;
            uint32_t u;
            memcpy(&u, &f, sizeof u);
            o->b[o->n++] = 0xca;
            put(o, u, 4);
        } else {
            uint64_t u;
            memcpy(&u, &x, sizeof u);
            o->b[o->n++] = 0xcb;
            put(o, u, 8);
        }
        break;
    }
    case 5: /* str: fix, 8, 16, 32 */
        if (rng_below(r, 2) && len < 32) {
            o->b[o->n++] = (unsigned char)(0xa0 + len);
        } else {
            o->b[o->n++] = (unsigned char)(0xd9 + (wlen == 1 ? 0 : wlen == 2 ? 1 : 2));
            put(o, len, wlen);
        }
        put_payload(o, r, len);
        break;
    case 6: /* bin 8, 16, 32 */
        o->b[o->n++] = (unsigned char)(0xc4 + (wlen == 1 ? 0 : wlen == 2 ? 1 : 2));
        put(o, len, wlen);
        put_payload(o, r, len);
        break;
    case 7: /* ext 8, 16, 32 */
        o->b[o->n++] = (unsigned char)(0xc7 + (wlen == 1 ? 0 : wlen == 2 ? 1 : 2));
        put(o, len, wlen);
        o->b[o->n++] = (unsigned char)rng_below(r, 256);
        put_payload(o, r, len);
        break;
    case 8: { /* fixext 1-16 */
        int k = (int)rng_below(r, 5);
        o->b[o->n++] = (unsigned char)(0xd4 + k);
        o->b[o->n++] = (unsigned char)rng_below(r, 256);
        put_payload(o, r, (size_t)1 << k);
        break;
    }
    default: { /* array or map: fix, 16, 32 */
        bool map = kind == 9;
        size_t items = rng_below(r, 6);
        if (rng_below(r, 2))
            o->b[o->n++] = (unsigned char)((map ? 0x80 : 0x90) + items);
        else {
            int big = (int)rng_below(r, 2);
            o->b[o->n++] = (unsigned char)((map ? 0xde : 0xdc) + big);
            put(o, items, big ? 4 : 2);
        }
        for (size_t i = 0; i < (map ? 2 : 1) * items; i++)
            random_object(o, r, depth - 1);
        break;
    }
    }
}

/* decode_object and msgpack_unpack agree on p[0, n); every shorter prefix is incomplete. */
static int differs_from_msgpack_c(const unsigned char *p, size_t n)
{
    msgpack_zone ours, theirs;
    msgpack_zone_init(&ours, 1024);
    msgpack_zone_init(&theirs, 1024);
    msgpack_object a, b;
    size_t size = 0, off = 0;
    int bad = decode_object((const char *)p, n, &ours, &a, &size) != DECODE_COMPLETE ||
              size != n ||
              msgpack_unpack((const char *)p, n, &off, &theirs, &b) != MSGPACK_UNPACK_SUCCESS ||
              off != n || !msgpack_object_equal(a, b);
    for (size_t cut = 0; cut < n && !bad; cut++) {
        msgpack_zone_clear(&ours);
        bad = decode_object((const char *)p, cut, &ours, &a, &size) != DECODE_INCOMPLETE;
    }
    msgpack_zone_destroy(&ours);
    msgpack_zone_destroy(&theirs);
    return bad;
}

static void random_objects_decode_as_msgpack_c_does(void)
{
    rng_t r;
    rng_seed(&r, 7);
    static bytes o;
    int wrong = 0;
    for (int i = 0; i < 3000; i++) {
        o.n = 0;
        random_object(&o, &r, 4);
        wrong += differs_from_msgpack_c(o.b, o.n);
    }
    CHECK_EQ_INT(wrong, 0);
}

/* The signed formats holding non-negative values, the widest values, float32 as float32,
 * empty containers, a string that points into the buffer. */
static void edge_values(void)
{
    const unsigned char cases[][10] = {
        {0xd0, 0x05}, {0xd0, 0x80}, {0xd1, 0x7f, 0xff}, {0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0},
        {0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0xca, 0x3f, 0xc0, 0, 0},
        {0x90}, {0x80}, {0xdc, 0, 0}, {0xdf, 0, 0, 0, 0}, {0xa0}, {0xc4, 0},
    };
    const size_t len[] = {2, 2, 3, 9, 9, 9, 5, 1, 1, 3, 5, 1, 2};
    int wrong = 0;
    for (size_t i = 0; i < sizeof len / sizeof len[0]; i++)
        wrong += differs_from_msgpack_c(cases[i], len[i]);
    CHECK_EQ_INT(wrong, 0);

    msgpack_zone z;
    msgpack_zone_init(&z, 1024);
    msgpack_object o;
    size_t size;
    CHECK(decode_object((const char *)cases[6], 5, &z, &o, &size) == DECODE_COMPLETE);
    CHECK(o.type == MSGPACK_OBJECT_FLOAT32 && o.via.f64 == 1.5);
    const char s[] = "\xa3" "abc" "\x01"; /* a following object is not counted */
    CHECK(decode_object(s, 5, &z, &o, &size) == DECODE_COMPLETE);
    CHECK(size == 4 && o.type == MSGPACK_OBJECT_STR && o.via.str.ptr == s + 1);
    msgpack_zone_destroy(&z);
}

static void claims_beyond_the_buffer_wait_and_bad_bytes_fail(void)
{
    msgpack_zone z;
    msgpack_zone_init(&z, 1024);
    msgpack_object o;
    size_t size;
    /* 2^28 elements claimed with 3 bytes after: incomplete, and only the map's one pair
     * allocated */
    const char huge_array[] = {(char)0x81, (char)0xa1, 'a', (char)0xdd, 0x10, 0, 0, 0, 1, 2, 3};
    size_t free_before = z.chunk_list.free;
    CHECK(decode_object(huge_array, sizeof huge_array, &z, &o, &size) == DECODE_INCOMPLETE);
    CHECK(free_before - z.chunk_list.free <= 2 * sizeof(msgpack_object_kv));
    const char huge_str[] = {(char)0xdb, (char)0xff, (char)0xff, (char)0xff, (char)0xf0, 'a'};
    CHECK(decode_object(huge_str, sizeof huge_str, &z, &o, &size) == DECODE_INCOMPLETE);
    const char bad[] = {(char)0x92, 0x01, (char)0xc1};
    CHECK(decode_object(bad, sizeof bad, &z, &o, &size) == DECODE_INVALID);
    msgpack_zone_destroy(&z);
}

static void depth_limit_is_msgpack_c_s(void)
{
    char deep[40];
    for (int d = 0; d < 34; d++)
        deep[d] = (char)0x91; /* 34 nested one-element arrays, then an int */
    deep[34] = 0x01;
    msgpack_zone z;
    msgpack_zone_init(&z, 1024);
    msgpack_object o;
    size_t size;
    CHECK(decode_object(deep + 2, 33, &z, &o, &size) == DECODE_COMPLETE); /* 32 containers */
    CHECK_EQ_INT(size, 33);
    CHECK(decode_object(deep + 1, 34, &z, &o, &size) == DECODE_TOO_DEEP); /* 33 containers */
    msgpack_zone_destroy(&z);
}

int main(void)
{
    RUN(random_objects_decode_as_msgpack_c_does);
    RUN(edge_values);
    RUN(claims_beyond_the_buffer_wait_and_bad_bytes_fail);
    RUN(depth_limit_is_msgpack_c_s);
    return check_done();
}
