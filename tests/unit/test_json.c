/* Unit tests of lib/json: the JSON form of every msgpack value, exact round trips
 * msgpack -> JSON -> msgpack (edge values and random records), error positions. */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "base/rng.h"
#include "check.h"
#include "json/base64.h"
#include "json/json.h"

/* ---- helpers ---- */

static void pack_record(void *ctx, const msgpack_object *o) { msgpack_pack_object(ctx, *o); }

/* Parse text fed in pieces of `chunk` bytes; records are packed into out.  On failure
 * the error goes to err (when given). */
static bool parse(const char *text, size_t len, unsigned flags, size_t chunk,
                  msgpack_sbuffer *out, char *err)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    json_reader *r = json_reader_new(flags, pack_record, &pk);
    bool ok = true;
    for (size_t i = 0; ok && i < len; i += chunk)
        ok = json_reader_feed(r, text + i, len - i < chunk ? len - i : chunk);
    ok = ok && json_reader_finish(r);
    if (!ok && err)
        strcpy(err, json_reader_error(r));
    json_reader_free(r);
    return ok;
}

/* The JSON of one packed object, NUL-terminated, in b. */
static const char *to_json(json_buf *b, const char *data, size_t len, unsigned flags)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    CHECK(msgpack_unpack_next(&u, data, len, &off) == MSGPACK_UNPACK_SUCCESS);
    b->len = 0;
    json_emit(b, &u.data, flags);
    json_buf_put(b, "", 1);
    msgpack_unpacked_destroy(&u);
    return b->p;
}

/* Packed record -> JSON -> packed record must give the same bytes. */
static bool round_trips(const char *data, size_t len, unsigned emit_flags, unsigned parse_flags)
{
    json_buf b = {0};
    to_json(&b, data, len, emit_flags);
    msgpack_sbuffer back;
    msgpack_sbuffer_init(&back);
    char err[256] = "";
    bool same = parse(b.p, b.len - 1, parse_flags, b.len, &back, err) && back.size == len &&
                memcmp(back.data, data, len) == 0;
    if (!same)
        printf("#   no round trip: %s %s\n", b.p, err);
    msgpack_sbuffer_destroy(&back);
    json_buf_free(&b);
    return same;
}

/* A record {"v": value} packed by fn. */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} packed;

static msgpack_packer *record_v(packed *p)
{
    msgpack_sbuffer_init(&p->sb);
    msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&p->pk, 1);
    msgpack_pack_str_with_body(&p->pk, "v", 1);
    return &p->pk;
}

/* The JSON of {"v": value} must be `want` and read back to the same bytes. */
static void check_value_json(packed *p, const char *want)
{
    json_buf b = {0};
    CHECK_STR(to_json(&b, p->sb.data, p->sb.size, 0), want);
    CHECK(round_trips(p->sb.data, p->sb.size, 0, 0));
    json_buf_free(&b);
    msgpack_sbuffer_destroy(&p->sb);
}

/* ---- the JSON form of each kind of value ---- */

static void integers_are_exact_over_int64_and_uint64(void)
{
    packed p;
    msgpack_pack_uint64(record_v(&p), UINT64_MAX);
    check_value_json(&p, "{\"v\":18446744073709551615}");
    msgpack_pack_int64(record_v(&p), INT64_MIN);
    check_value_json(&p, "{\"v\":-9223372036854775808}");
    msgpack_pack_int64(record_v(&p), INT64_MAX);
    check_value_json(&p, "{\"v\":9223372036854775807}");
    msgpack_pack_int64(record_v(&p), -1);
    check_value_json(&p, "{\"v\":-1}");
    msgpack_pack_uint64(record_v(&p), 0);
    check_value_json(&p, "{\"v\":0}");
    msgpack_pack_uint64(record_v(&p), 1ULL << 53 | 1); /* not a double */
    check_value_json(&p, "{\"v\":9007199254740993}");
}

static void floats_print_shortest_and_always_as_floats(void)
{
    static const struct { double v; const char *json; } cases[] = {
        {0.1, "0.1"},
        {1.0, "1.0"},
        {-0.0, "-0.0"},
        {100.0, "100.0"},
        {1e21, "1e+21"},
        {1e-7, "1e-07"},
        {1e-310, "1e-310"},  /* subnormal */
        {5e-324, "5e-324"},  /* the smallest subnormal */
        {DBL_MAX, "1.7976931348623157e+308"},
        {0.30000000000000004, "0.30000000000000004"},
        {1.0 / 3, "0.3333333333333333"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        packed p;
        msgpack_pack_double(record_v(&p), cases[i].v);
        char want[64];
        snprintf(want, sizeof want, "{\"v\":%s}", cases[i].json);
        check_value_json(&p, want);
    }
}

static void nonfinite_floats_use_the_float_form(void)
{
    packed p;
    msgpack_pack_double(record_v(&p), INFINITY);
    check_value_json(&p, "{\"v\":{\"$float\":\"inf\"}}");
    msgpack_pack_double(record_v(&p), -INFINITY);
    check_value_json(&p, "{\"v\":{\"$float\":\"-inf\"}}");
    msgpack_pack_double(record_v(&p), NAN);
    check_value_json(&p, "{\"v\":{\"$float\":\"nan\"}}");
    msgpack_pack_double(record_v(&p), -NAN);
    check_value_json(&p, "{\"v\":{\"$float\":\"-nan\"}}");
}

static void float32_prints_its_own_shortest_form(void)
{
    static const struct { float v; const char *json; } cases[] = {
        {0.1f, "0.1"}, {16777216.0f, "16777216.0"}, {FLT_MAX, "3.4028235e+38"},
        {1e-45f, "1e-45"}, {-0.0f, "-0.0"}, {1.0f / 3, "0.33333334"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        packed p;
        msgpack_pack_float(record_v(&p), cases[i].v);
        json_buf b = {0};
        char want[64];
        snprintf(want, sizeof want, "{\"v\":%s}", cases[i].json);
        CHECK_STR(to_json(&b, p.sb.data, p.sb.size, 0), want);
        /* read back as float32 with JSON_F32: the same bytes */
        CHECK(round_trips(p.sb.data, p.sb.size, 0, JSON_F32));
        /* by default as float64, which rounds to the same float32 */
        msgpack_sbuffer back;
        msgpack_sbuffer_init(&back);
        CHECK(parse(b.p, b.len - 1, 0, 64, &back, NULL));
        CHECK_EQ_INT((unsigned char)back.data[3], 0xcb);
        double d;
        uint64_t bits = 0;
        for (int k = 0; k < 8; k++)
            bits = bits << 8 | (unsigned char)back.data[4 + k];
        memcpy(&d, &bits, 8);
        CHECK((float)d == cases[i].v && !signbit(d) == !signbit(cases[i].v));
        msgpack_sbuffer_destroy(&back);
        json_buf_free(&b);
        msgpack_sbuffer_destroy(&p.sb);
    }
}

static void f32_mode_keeps_floats_too_large_for_float32_as_float64(void)
{
    msgpack_sbuffer out;
    msgpack_sbuffer_init(&out);
    CHECK(parse("{\"a\":1e300,\"b\":0.5}", 19, JSON_F32, 64, &out, NULL));
    /* 82 a1 61 cb <8 bytes> a1 62 ca <4 bytes> */
    CHECK_EQ_INT(out.size, 1 + 2 + 9 + 2 + 5);
    CHECK_EQ_INT((unsigned char)out.data[3], 0xcb);
    CHECK_EQ_INT((unsigned char)out.data[14], 0xca);
    msgpack_sbuffer_destroy(&out);
}

static void strings_escape_controls_and_keep_utf8(void)
{
    packed p;
    msgpack_packer *pk = record_v(&p);
    char s[40];
    for (int c = 0; c < 32; c++)
        s[c] = (char)c;
    memcpy(s + 32, "\"\\/\x7f", 4);
    msgpack_pack_str_with_body(pk, s, 36);
    check_value_json(&p, "{\"v\":\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
                         "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013"
                         "\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
                         "\\u001d\\u001e\\u001f\\\"\\\\/\x7f\"}");
    pk = record_v(&p);
    msgpack_pack_str_with_body(pk, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xa8", 14);
    check_value_json(&p, "{\"v\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xa8\"}");
    pk = record_v(&p);
    msgpack_pack_str_with_body(pk, "", 0);
    check_value_json(&p, "{\"v\":\"\"}");
}

static void strings_that_are_not_utf8_use_the_str_form(void)
{
    static const struct { const char *bytes; size_t len; const char *json; } cases[] = {
        {"\xff", 1, "{\"v\":{\"$str\":\"/w==\"}}"},
        {"a\xc0\x80", 3, "{\"v\":{\"$str\":\"YcCA\"}}"},          /* overlong NUL */
        {"\xed\xa0\x80", 3, "{\"v\":{\"$str\":\"7aCA\"}}"},       /* a surrogate */
        {"\xf4\x90\x80\x80", 4, "{\"v\":{\"$str\":\"9JCAgA==\"}}"}, /* past U+10FFFF */
        {"\xe2\x82", 2, "{\"v\":{\"$str\":\"4oI=\"}}"},            /* cut short */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        packed p;
        msgpack_pack_str_with_body(record_v(&p), cases[i].bytes, cases[i].len);
        check_value_json(&p, cases[i].json);
    }
}

static void bin_and_ext_use_base64_forms(void)
{
    packed p;
    msgpack_pack_bin_with_body(record_v(&p), "\0\1\2\xff", 4);
    check_value_json(&p, "{\"v\":{\"$bin\":\"AAEC/w==\"}}");
    msgpack_pack_bin_with_body(record_v(&p), "", 0);
    check_value_json(&p, "{\"v\":{\"$bin\":\"\"}}");
    msgpack_pack_ext_with_body(record_v(&p), "abcd", 4, -1);
    check_value_json(&p, "{\"v\":{\"$ext\":[-1,\"YWJjZA==\"]}}");
    msgpack_pack_ext_with_body(record_v(&p), "abc", 3, 127);
    check_value_json(&p, "{\"v\":{\"$ext\":[127,\"YWJj\"]}}");
    msgpack_pack_ext_with_body(record_v(&p), "x", 1, -128);
    check_value_json(&p, "{\"v\":{\"$ext\":[-128,\"eA==\"]}}");
}

static void containers_keep_order_and_nesting(void)
{
    packed p;
    msgpack_packer *pk = record_v(&p);
    msgpack_pack_array(pk, 4);
    msgpack_pack_array(pk, 0);
    msgpack_pack_map(pk, 0);
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 1);
    msgpack_pack_nil(pk);
    msgpack_pack_map(pk, 3); /* order kept, a duplicate key too */
    msgpack_pack_str_with_body(pk, "z", 1);
    msgpack_pack_true(pk);
    msgpack_pack_str_with_body(pk, "a", 1);
    msgpack_pack_false(pk);
    msgpack_pack_str_with_body(pk, "z", 1);
    msgpack_pack_uint8(pk, 1);
    check_value_json(&p, "{\"v\":[[],{},[[null]],{\"z\":true,\"a\":false,\"z\":1}]}");
}

static void maps_json_cannot_hold_use_the_map_form(void)
{
    packed p;
    msgpack_packer *pk = record_v(&p); /* a key that is not a string */
    msgpack_pack_map(pk, 2);
    msgpack_pack_uint8(pk, 1);
    msgpack_pack_str_with_body(pk, "one", 3);
    msgpack_pack_str_with_body(pk, "two", 3);
    msgpack_pack_uint8(pk, 2);
    check_value_json(&p, "{\"v\":{\"$map\":[[1,\"one\"],[\"two\",2]]}}");
    pk = record_v(&p); /* a key that is not UTF-8 */
    msgpack_pack_map(pk, 1);
    msgpack_pack_str_with_body(pk, "\xff", 1);
    msgpack_pack_nil(pk);
    check_value_json(&p, "{\"v\":{\"$map\":[[{\"$str\":\"/w==\"},null]]}}");
    pk = record_v(&p); /* a map that would read back as a form */
    msgpack_pack_map(pk, 1);
    msgpack_pack_str_with_body(pk, "$bin", 4);
    msgpack_pack_str_with_body(pk, "not base64!", 11);
    check_value_json(&p, "{\"v\":{\"$map\":[[\"$bin\",\"not base64!\"]]}}");
    pk = record_v(&p); /* two keys: an ordinary object */
    msgpack_pack_map(pk, 2);
    msgpack_pack_str_with_body(pk, "$bin", 4);
    msgpack_pack_nil(pk);
    msgpack_pack_str_with_body(pk, "$str", 4);
    msgpack_pack_nil(pk);
    check_value_json(&p, "{\"v\":{\"$bin\":null,\"$str\":null}}");
}

static void a_record_with_a_reserved_or_bad_key_is_a_map_form(void)
{
    packed p;
    msgpack_sbuffer_init(&p.sb);
    msgpack_packer_init(&p.pk, &p.sb, msgpack_sbuffer_write);
    msgpack_pack_map(&p.pk, 1);
    msgpack_pack_str_with_body(&p.pk, "$map", 4);
    msgpack_pack_uint8(&p.pk, 7);
    check_value_json(&p, "{\"$map\":[[\"$map\",7]]}");
    msgpack_sbuffer_init(&p.sb);
    msgpack_pack_map(&p.pk, 2);
    msgpack_pack_str_with_body(&p.pk, "a\0b", 3); /* NUL in a key is fine in JSON */
    msgpack_pack_uint8(&p.pk, 1);
    msgpack_pack_str_with_body(&p.pk, "\xc3", 1);
    msgpack_pack_uint8(&p.pk, 2);
    check_value_json(&p, "{\"$map\":[[\"a\\u0000b\",1],[{\"$str\":\"ww==\"},2]]}");
}

static void pretty_output_is_indented_and_reads_back(void)
{
    const char *text = "{\"a\":[1,{\"b\":{\"$bin\":\"AA==\"}},[]],\"c\":{}}";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    CHECK(parse(text, strlen(text), 0, 64, &sb, NULL));
    json_buf b = {0};
    CHECK_STR(to_json(&b, sb.data, sb.size, JSON_PRETTY),
              "{\n  \"a\": [\n    1,\n    {\n      \"b\": {\n        \"$bin\": \"AA==\"\n"
              "      }\n    },\n    []\n  ],\n  \"c\": {}\n}");
    CHECK(round_trips(sb.data, sb.size, JSON_PRETTY, 0));
    json_buf_free(&b);
    msgpack_sbuffer_destroy(&sb);
}

static void tensors_show_their_data_as_numbers(void)
{
    static const struct {
        const char *dtype, *data;
        uint32_t nbytes, count;
        const char *json;
    } cases[] = {
        {"f32", "\x00\x00\xc0\x3f\x00\x00\x00\xc0", 8, 2, "[1.5,-2.0]"},
        {"f64", "\x9a\x99\x99\x99\x99\x99\xb9\x3f", 8, 1, "[0.1]"},
        {"f16", "\x00\x3c\x00\xfc\x01\x00", 6, 3, "[1.0,{\"$float\":\"-inf\"},5.9604645e-08]"},
        {"bf16", "\x80\x3f\xc0\xbf", 4, 2, "[1.0,-1.5]"},
        {"i8", "\xff\x7f", 2, 2, "[-1,127]"},
        {"u16", "\xff\xff", 2, 1, "[65535]"},
        {"i64", "\x00\x00\x00\x00\x00\x00\x00\x80", 8, 1, "[-9223372036854775808]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        packed p;
        msgpack_packer *pk = record_v(&p);
        msgpack_pack_map(pk, 3);
        msgpack_pack_str_with_body(pk, "dtype", 5);
        msgpack_pack_str_with_body(pk, cases[i].dtype, strlen(cases[i].dtype));
        msgpack_pack_str_with_body(pk, "shape", 5);
        msgpack_pack_array(pk, 1);
        msgpack_pack_uint32(pk, cases[i].count);
        msgpack_pack_str_with_body(pk, "data", 4);
        msgpack_pack_bin_with_body(pk, cases[i].data, cases[i].nbytes);
        json_buf b = {0};
        char want[160];
        snprintf(want, sizeof want, "{\"v\":{\"dtype\":\"%s\",\"shape\":[%u],\"data\":%s}}",
                 cases[i].dtype, cases[i].count, cases[i].json);
        CHECK_STR(to_json(&b, p.sb.data, p.sb.size, JSON_TENSORS), want);
        json_buf_free(&b);
        msgpack_sbuffer_destroy(&p.sb);
    }
}

static void a_tensor_whose_data_does_not_match_stays_binary(void)
{
    packed p;
    msgpack_packer *pk = record_v(&p);
    msgpack_pack_map(pk, 3);
    msgpack_pack_str_with_body(pk, "dtype", 5);
    msgpack_pack_str_with_body(pk, "f32", 3);
    msgpack_pack_str_with_body(pk, "shape", 5);
    msgpack_pack_array(pk, 1);
    msgpack_pack_uint8(pk, 2);
    msgpack_pack_str_with_body(pk, "data", 4);
    msgpack_pack_bin_with_body(pk, "\0\0\0\0", 4);
    json_buf b = {0};
    CHECK_STR(to_json(&b, p.sb.data, p.sb.size, JSON_TENSORS),
              "{\"v\":{\"dtype\":\"f32\",\"shape\":[2],\"data\":{\"$bin\":\"AAAAAA==\"}}}");
    json_buf_free(&b);
    msgpack_sbuffer_destroy(&p.sb);
}

/* ---- reading ---- */

static void reading_takes_json_lines_and_pretty_objects(void)
{
    const char *text = "\n{\"a\":1}\n\n  {\"b\":\n [2]}{\"c\":3}\n";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    CHECK(parse(text, strlen(text), 0, 1, &sb, NULL));
    CHECK_EQ_INT(sb.size, 13);
    CHECK(memcmp(sb.data, "\x81\xa1" "a\x01\x81\xa1" "b\x91\x02\x81\xa1" "c\x03", 13) == 0);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_init(&sb);
    CHECK(parse(" \n\t ", 4, 0, 4, &sb, NULL) && sb.size == 0);
    CHECK(parse("", 0, 0, 4, &sb, NULL) && sb.size == 0);
    msgpack_sbuffer_destroy(&sb);
}

static void integers_pack_small_and_floats_stay_floats(void)
{
    const char *text = "{\"a\":0,\"b\":-1,\"c\":255,\"d\":-0,\"e\":2.0,\"f\":1E2}";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    CHECK(parse(text, strlen(text), 0, 7, &sb, NULL));
    CHECK_EQ_INT(sb.size, 1 + 3 + 3 + 4 + 3 + 2 * 11);
    CHECK(memcmp(sb.data, "\x86\xa1" "a\x00\xa1" "b\xff\xa1" "c\xcc\xff\xa1" "d\x00\xa1" "e\xcb",
                 17) == 0);
    msgpack_sbuffer_destroy(&sb);
}

static void forms_read_back_to_their_types(void)
{
    const char *text = "{\"s\":{\"$str\":\"AGE=\"},\"b\":{\"$bin\":\"\"},\"x\":{\"$ext\":[5,\"\"]},"
                       "\"f\":{\"$float\":\"inf\"},\"m\":{\"$map\":[]},\"k\":\"\\u0000\"}";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    CHECK(parse(text, strlen(text), 0, 3, &sb, NULL));
    static const char want[] = "\x86\xa1s\xa2\x00" "a\xa1" "b\xc4\x00\xa1x\xc7\x00\x05\xa1"
                               "f\xcb\x7f\xf0\0\0\0\0\0\0\xa1m\x80\xa1k\xa1\x00";
    CHECK_EQ_INT(sb.size, sizeof want - 1);
    CHECK(memcmp(sb.data, want, sizeof want - 1) == 0);
    msgpack_sbuffer_destroy(&sb);
}

static void escapes_decode_to_utf8(void)
{
    const char *text = "{\"s\":\"\\u00e9\\u4e2d\\ud83d\\ude00\\/\\u0000\"}";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    CHECK(parse(text, strlen(text), 0, 5, &sb, NULL));
    static const char want[] = "\x81\xa1s\xab\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80/";
    CHECK_EQ_INT(sb.size, sizeof want);
    CHECK(memcmp(sb.data, want, sizeof want) == 0); /* the NUL too */
    msgpack_sbuffer_destroy(&sb);
}

/* The error for text fed whole and byte by byte. */
static void check_error(const char *text, const char *want)
{
    for (size_t chunk = 1; chunk <= 4096; chunk *= 4096) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        char err[256] = "";
        CHECK(!parse(text, strlen(text), 0, chunk, &sb, err));
        if (strncmp(err, want, strlen(want)) != 0)
            printf("#   %s (chunk %zu)\n#   wanted: %s\n", err, chunk, want);
        CHECK(strncmp(err, want, strlen(want)) == 0);
        msgpack_sbuffer_destroy(&sb);
    }
}

static void errors_name_line_and_column(void)
{
    check_error("{\"a\":1}\n{\"a\":2}\n{\"a\" 3}\n", "line 3, column 6: parse error");
    check_error("{\"a\":1}\n\n  [1]\n", "line 3, column 3: expected an object, found an array");
    check_error("{\"a\":1}\n 42\n", "line 2, column 2: expected an object, found a number");
    check_error("{\"a\":1}\n 42", "line 2, column 2: expected an object, found a number");
    check_error("\"s\"", "line 1, column 3: expected an object, found a string");
    check_error("{\"a\":\n  99999999999999999999999}",
                "line 2, column 3: integer 99999999999999999999999 is out of range");
    check_error("{\"a\":18446744073709551616}", "line 1, column 6: integer");
    check_error("{\"a\":-9223372036854775809}", "line 1, column 6: integer");
    check_error("{\"a\":1e400}", "line 1, column 6: 1e400 is out of range for a float");
    check_error("{\"a\":{\"$bin\":\"AAE\"}}", "line 1, column 19: \"$bin\" must be a base64");
    check_error("{\"a\":{\"$bin\":\"AB==\"}}", "line 1, column 20: \"$bin\" must be a base64");
    check_error("{\"a\":{\"$float\":1}}", "line 1, column 17: \"$float\" must be");
    check_error("{\"a\":{\"$ext\":[1]}}", "line 1, column 17: \"$ext\" must be");
    check_error("{\"a\":{\"$map\":[1]}}", "line 1, column 17: \"$map\" must be");
    check_error("{\"$bin\":\"\"}", "line 1, column 11: expected an object holding a record");
    check_error("{\"$map\":[[1,2]]}", "line 1, column 16: key 1 of the record is a number");
    check_error("{\"a\":1 -2}", "line 1, column 8: parse error: after key and value");
    check_error("{\"a\":[1 2]}", "line 1, column 9: parse error: after array element");
    check_error("{\"a\":1", "line 1, column 7: parse error: premature EOF");
    check_error("{\"a\":\"\xff\"}", "line 1, column 7: lexical error");
    /* each column is the offending byte's, however yajl leaves its offset */
    check_error("{\"a\":tru}", "line 1, column 9: lexical error: invalid string");
    check_error("{\"a\":\"x\\q\"}", "line 1, column 9: lexical error");
    check_error("{\"a\":\"\x01\"}", "line 1, column 7: lexical error: invalid character");
    check_error("{\"a\":1.}", "line 1, column 8: lexical error: malformed number");
    check_error("{\"a\":x}", "line 1, column 6: lexical error: invalid char");
    check_error("{1:2}", "line 1, column 2: parse error: invalid object key");
}

/* A record of `levels` nested containers (itself included). */
static void nested(char *text, int levels)
{
    strcpy(text, "{\"a\":");
    for (int i = 1; i < levels; i++)
        strcat(text, "[");
    strcat(text, "0");
    for (int i = 1; i < levels; i++)
        strcat(text, "]");
    strcat(text, "}");
}

static void nesting_is_limited_to_what_the_record_reader_takes(void)
{
    char text[512];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    nested(text, JSON_MAX_DEPTH);
    CHECK(parse(text, strlen(text), 0, 4096, &sb, NULL));
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    CHECK(msgpack_unpack_next(&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    nested(text, JSON_MAX_DEPTH + 1);
    check_error(text, "line 1, column 71: nested deeper than 32 levels");
    /* far too deep fails as the bracket opens */
    nested(text, 200);
    check_error(text, "line 1, column 103: nested deeper than 32 levels");
}

/* ---- random records ---- */

static void random_string(msgpack_packer *pk, rng_t *r, bool as_bin)
{
    static const char *const pieces[] = {
        "a", "Z", " ", "\"", "\\", "/", "\0", "\x1f", "\x7f", "\xc3\xa9", "\xf0\x9f\x98\x80",
        "\xe2\x80\xa8", "\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "$bin", "$map",
    };
    char s[300];
    size_t n = 0, want = rng_below(r, 4) ? rng_below(r, 12) : rng_below(r, 80);
    for (size_t i = 0; i < want; i++) {
        const char *piece = pieces[rng_below(r, sizeof pieces / sizeof *pieces)];
        size_t len = piece[0] ? strlen(piece) : 1;
        memcpy(s + n, piece, len);
        n += len;
    }
    if (as_bin)
        msgpack_pack_bin_with_body(pk, s, n);
    else
        msgpack_pack_str_with_body(pk, s, n);
}

static void random_value(msgpack_packer *pk, rng_t *r, int depth, bool f32);

static void random_map(msgpack_packer *pk, rng_t *r, int depth, bool f32, bool string_keys)
{
    uint32_t n = (uint32_t)rng_below(r, 6);
    msgpack_pack_map(pk, n);
    for (uint32_t i = 0; i < n; i++) {
        if (string_keys || rng_below(r, 3))
            random_string(pk, r, false);
        else
            random_value(pk, r, depth + 1, f32);
        random_value(pk, r, depth + 1, f32);
    }
}

static void random_value(msgpack_packer *pk, rng_t *r, int depth, bool f32)
{
    uint64_t u = rng_u64(r) >> rng_below(r, 64);
    switch (rng_below(r, depth < 4 ? 11 : 8)) {
    case 0: msgpack_pack_nil(pk); break;
    case 1: rng_below(r, 2) ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
    case 2: msgpack_pack_uint64(pk, u); break;
    case 3: msgpack_pack_int64(pk, -(int64_t)(u >> 1) - 1); break;
    case 4:
        if (f32) {
            uint32_t bits = (uint32_t)rng_u64(r);
            float f;
            memcpy(&f, &bits, 4);
            msgpack_pack_float(pk, isnan(f) ? (signbit(f) ? -NAN : NAN) : f);
        } else {
            uint64_t bits = rng_u64(r);
            double d;
            memcpy(&d, &bits, 8);
            if (rng_below(r, 2))
                d = (double)(int64_t)(rng_u64(r) % 2001 - 1000) / 8; /* short decimals */
            msgpack_pack_double(pk, isnan(d) ? (signbit(d) ? -NAN : NAN) : d);
        }
        break;
    case 5: random_string(pk, r, false); break;
    case 6: random_string(pk, r, true); break;
    case 7: {
        char data[20];
        size_t n = rng_below(r, sizeof data);
        for (size_t i = 0; i < n; i++)
            data[i] = (char)rng_u64(r);
        msgpack_pack_ext_with_body(pk, data, n, (int8_t)rng_u64(r));
        break;
    }
    case 8:
    case 9: {
        uint32_t n = (uint32_t)rng_below(r, 5);
        msgpack_pack_array(pk, n);
        for (uint32_t i = 0; i < n; i++)
            random_value(pk, r, depth + 1, f32);
        break;
    }
    default: random_map(pk, r, depth, f32, false); break;
    }
}

static void random_records_round_trip_byte_for_byte(void)
{
    rng_t r;
    rng_seed(&r, 2024);
    for (int i = 0; i < 3000; i++) {
        bool f32 = i % 3 == 2;
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        random_map(&pk, &r, 1, f32, true);
        unsigned flags = i % 2 ? JSON_PRETTY : 0;
        CHECK(round_trips(sb.data, sb.size, flags, f32 ? JSON_F32 : 0));
        msgpack_sbuffer_destroy(&sb);
    }
}

/* ---- base64 ---- */

static void base64_matches_rfc4648_and_rejects_noncanonical_text(void)
{
    static const char *const vec[][2] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof vec / sizeof *vec; i++) {
        char enc[16], dec[16];
        size_t n = base64_encode(vec[i][0], strlen(vec[i][0]), enc), m = 99;
        enc[n] = 0;
        CHECK_STR(enc, vec[i][1]);
        CHECK(base64_decode(enc, n, dec, &m) && m == strlen(vec[i][0]));
        CHECK(memcmp(dec, vec[i][0], m) == 0);
    }
    static const char *const bad[] = {"Zg=", "Zh==", "Zm9=", "Z===", "Zm9v!A==", "=Zg=", "Zg==Zg==",
                                      "Zm 9v", "Zm-_"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char dec[16];
        size_t m;
        CHECK(!base64_decode(bad[i], strlen(bad[i]), dec, &m));
    }
}

int main(void)
{
    RUN(integers_are_exact_over_int64_and_uint64);
    RUN(floats_print_shortest_and_always_as_floats);
    RUN(nonfinite_floats_use_the_float_form);
    RUN(float32_prints_its_own_shortest_form);
    RUN(f32_mode_keeps_floats_too_large_for_float32_as_float64);
    RUN(strings_escape_controls_and_keep_utf8);
    RUN(strings_that_are_not_utf8_use_the_str_form);
    RUN(bin_and_ext_use_base64_forms);
    RUN(containers_keep_order_and_nesting);
    RUN(maps_json_cannot_hold_use_the_map_form);
    RUN(a_record_with_a_reserved_or_bad_key_is_a_map_form);
    RUN(pretty_output_is_indented_and_reads_back);
    RUN(tensors_show_their_data_as_numbers);
    RUN(a_tensor_whose_data_does_not_match_stays_binary);
    RUN(reading_takes_json_lines_and_pretty_objects);
    RUN(integers_pack_small_and_floats_stay_floats);
    RUN(forms_read_back_to_their_types);
    RUN(escapes_decode_to_utf8);
    RUN(errors_name_line_and_column);
    RUN(nesting_is_limited_to_what_the_record_reader_takes);
    RUN(random_records_round_trip_byte_for_byte);
    RUN(base64_matches_rfc4648_and_rejects_noncanonical_text);
    return check_done();
}
