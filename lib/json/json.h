/* json: records as JSON text and back (mp2json(1), json2mp(1)).
 *
 * Every value a record can hold has one JSON form, so msgpack -> JSON -> msgpack gives
 * back the same values, and the same bytes for streams packed in msgpack's shortest
 * encodings (what runnel writes):
 *
 *   nil, true, false      null, true, false
 *   integer               decimal digits, exact over the whole int64 and uint64 ranges
 *   float                 the shortest decimal that reads back to the same double (to
 *                         the same float for float32), always with "." or an exponent:
 *                         1.0, not 1.  A JSON number is an integer exactly when it has
 *                         neither; JSON floats read back as float64 (JSON_F32: float32)
 *   NaN, +-infinity       {"$float":"nan"}, {"$float":"-nan"}, {"$float":"inf"},
 *                         {"$float":"-inf"}; a NaN keeps its sign but not its payload
 *   string (UTF-8)        a JSON string; '"', '\' and control characters escaped, other
 *                         text (and '/') written as it is
 *   string (not UTF-8)    {"$str":"<base64 of the bytes>"}
 *   binary                {"$bin":"<base64>"}
 *   extension             {"$ext":[type,"<base64>"]}
 *   array                 a JSON array
 *   map                   a JSON object, keys in their order (duplicates kept), when
 *                         every key is a UTF-8 string and the map is not one of the
 *                         single-key forms here; otherwise {"$map":[[key,value],...]}
 *
 * Base64 is the standard alphabet with padding (base64.h).  Reading JSON, an object
 * with exactly one key, that key being "$float", "$str", "$bin", "$ext" or "$map", is
 * taken as the form above (and must be well formed); any other object is a map.
 *
 * Writing never fails.  Reading reports the line and column (in bytes, from 1) of what
 * it could not take: bad JSON, a top-level value that is not an object, an integer out
 * of range, a malformed form, nesting deeper than JSON_MAX_DEPTH. */
#ifndef RUNNEL_JSON_JSON_H
#define RUNNEL_JSON_JSON_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

/* The deepest nesting of maps and arrays in a record (the record itself is level 1):
 * what msgpack-c's unpacker, and so rec_open(), accepts. */
enum { JSON_MAX_DEPTH = 32 };

/* ---- writing ---- */

/* A growable byte buffer that JSON text is appended to. */
typedef struct {
    char *p;
    size_t len, cap;
} json_buf;

void json_buf_put(json_buf *b, const void *p, size_t n);
void json_buf_free(json_buf *b);

enum {
    JSON_PRETTY = 1 << 0,  /* indent by two spaces, a value per line, "key": value */
    JSON_TENSORS = 1 << 1, /* a dense array {"dtype","shape","data"} shows its data as a
                              list of numbers: for people, as reading it back gives a
                              list, not binary data */
};

/* Append o as JSON (no newline). */
void json_emit(json_buf *b, const msgpack_object *o, unsigned flags);

/* ---- reading ---- */

/* Called with each top-level object, as a map; it lives until the call returns. */
typedef void json_record_fn(void *ctx, const msgpack_object *rec);

typedef struct json_reader json_reader;

enum {
    JSON_F32 = 1 << 0, /* JSON floats become float32 (float64 when too large for one) */
};

/* Text is a sequence of JSON objects separated by white space (JSON Lines, or pretty
 * printed objects such as jq's output). */
json_reader *json_reader_new(unsigned flags, json_record_fn *fn, void *ctx);
/* Feed the next len bytes; calls fn for each object completed.  False on an error in the
 * data, which json_reader_error() describes; the reader takes no more input after that. */
bool json_reader_feed(json_reader *r, const void *text, size_t len);
/* The end of the input: false if it ends inside a value. */
bool json_reader_finish(json_reader *r);
/* "line N, column C: what", for the last failed feed or finish. */
const char *json_reader_error(const json_reader *r);
void json_reader_free(json_reader *r);

/* Read a whole file ("-": stdin), gzip or plain, and call fn for each object.
 * A missing file exits 66, bad data 65 ("tool: FILE: line N, column C: what"). */
void json_read_file(const char *path, unsigned flags, json_record_fn *fn, void *ctx);

#endif
