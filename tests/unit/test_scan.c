/* Unit tests of lib/rec/scan: object boundaries for every msgpack type, incomplete input
 * at every cut, and the depth limit. */
#include <msgpack.h>

#include "check.h"
#include "rec/scan.h"

static int write_sbuf(void *data, const char *buf, size_t len)
{
    return msgpack_sbuffer_write(data, buf, len);
}

/* One object of every type, nested; the scan must end exactly at its last byte, and
 * every shorter prefix must be incomplete. */
static void finds_the_end_of_every_type(void)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, write_sbuf);
    msgpack_pack_map(&pk, 12);
    const char *keys[12] = {"i", "n", "u64", "f32", "f64", "s", "b", "e", "a", "m", "nil", "big"};
    for (int k = 0; k < 12; k++) {
        msgpack_pack_str_with_body(&pk, keys[k], strlen(keys[k]));
        switch (k) {
        case 0: msgpack_pack_int(&pk, 5); break;
        case 1: msgpack_pack_int64(&pk, -1234567890123LL); break;
        case 2: msgpack_pack_uint64(&pk, UINT64_MAX); break;
        case 3: msgpack_pack_float(&pk, 1.5f); break;
        case 4: msgpack_pack_double(&pk, 0.1); break;
        case 5: msgpack_pack_str_with_body(&pk, "hello, world, a string over 31 bytes!", 37); break;
        case 6: msgpack_pack_bin_with_body(&pk, "\0\1\2", 3); break;
        case 7: msgpack_pack_ext_with_body(&pk, "abcde", 5, 7); break;
        case 8: msgpack_pack_array(&pk, 3); msgpack_pack_true(&pk); msgpack_pack_array(&pk, 0);
                msgpack_pack_map(&pk, 1); msgpack_pack_nil(&pk); msgpack_pack_false(&pk); break;
        case 9: msgpack_pack_map(&pk, 0); break;
        case 10: msgpack_pack_nil(&pk); break;
        case 11: msgpack_pack_array(&pk, 20);
                 for (int i = 0; i < 20; i++)
                     msgpack_pack_int(&pk, i * 1000);
                 break;
        }
    }
    size_t total = sb.size;
    msgpack_pack_int(&pk, 1); /* a following object must not be counted */
    size_t size = 0;
    CHECK(msgpack_scan((unsigned char *)sb.data, sb.size, &size) == SCAN_COMPLETE);
    CHECK_EQ_INT(size, total);
    int wrong = 0;
    for (size_t cut = 0; cut < total; cut++)
        wrong += msgpack_scan((unsigned char *)sb.data, cut, &size) != SCAN_INCOMPLETE;
    CHECK_EQ_INT(wrong, 0);
    msgpack_sbuffer_destroy(&sb);
}

static void claims_beyond_the_buffer_wait_and_bad_bytes_fail(void)
{
    size_t size;
    const unsigned char huge_array[] = {0x81, 0xa1, 'a', 0xdd, 0x10, 0, 0, 0};
    CHECK(msgpack_scan(huge_array, sizeof huge_array, &size) == SCAN_INCOMPLETE);
    const unsigned char huge_str[] = {0xdb, 0xff, 0xff, 0xff, 0xf0, 'a'};
    CHECK(msgpack_scan(huge_str, sizeof huge_str, &size) == SCAN_INCOMPLETE);
    const unsigned char bad[] = {0x92, 0x01, 0xc1};
    CHECK(msgpack_scan(bad, sizeof bad, &size) == SCAN_INVALID);
}

static void depth_limit_is_msgpack_c_s(void)
{
    unsigned char deep[40];
    for (int d = 0; d < 34; d++)
        deep[d] = 0x91; /* 34 nested one-element arrays, then an int */
    deep[34] = 0x01;
    size_t size;
    CHECK(msgpack_scan(deep + 2, 33, &size) == SCAN_COMPLETE); /* 32 containers */
    CHECK_EQ_INT(size, 33);
    CHECK(msgpack_scan(deep + 1, 34, &size) == SCAN_TOO_DEEP); /* 33 containers */
}

int main(void)
{
    RUN(finds_the_end_of_every_type);
    RUN(claims_beyond_the_buffer_wait_and_bad_bytes_fail);
    RUN(depth_limit_is_msgpack_c_s);
    return check_done();
}
