/* decode: parse one msgpack object out of a buffer, in one pass, into msgpack-c's object
 * types (the same tree msgpack_unpack() builds: strings, binaries and extensions point
 * into the buffer, arrays and maps are allocated in a zone).
 *
 * msgpack_unpack() allocates what a container's header claims as soon as it sees the
 * header, so eight bytes can make it ask for 128 GiB.  Here a container is allocated only
 * when the buffer holds at least one byte for each element it claims; otherwise the
 * object is incomplete.  No input can make the decoder allocate more than a small multiple
 * of its own size, and a reader learns in the same pass whether it must read more. */
#ifndef RUNNEL_REC_DECODE_H
#define RUNNEL_REC_DECODE_H

#include <stddef.h>

#include <msgpack.h>

enum { DECODE_MAX_DEPTH = 32 }; /* msgpack-c's own nesting limit */

typedef enum {
    DECODE_COMPLETE,   /* *obj is the object, *size its length in bytes */
    DECODE_INCOMPLETE, /* the object goes on past the buffer */
    DECODE_INVALID,    /* a byte that no msgpack object starts with (0xc1) */
    DECODE_TOO_DEEP,   /* containers nested deeper than DECODE_MAX_DEPTH */
    DECODE_NOMEM,      /* the zone could not grow */
} decode_result;

/* Parse the object at the start of p[0, n).  Whatever the result, the zone keeps what was
 * allocated; *obj and *size are set only on DECODE_COMPLETE. */
decode_result decode_object(const char *p, size_t n, msgpack_zone *zone, msgpack_object *obj,
                            size_t *size);

#endif
