/* scan: find where one msgpack object ends, without building it.
 *
 * The reader scans a record before msgpack-c parses it, so a record is parsed only once
 * all its bytes are buffered.  msgpack-c allocates what a container's header claims as
 * soon as it sees the header; after the scan, every claimed element is known to be
 * present, so no input can make the reader allocate more than a small multiple of its
 * own size. */
#ifndef RUNNEL_REC_SCAN_H
#define RUNNEL_REC_SCAN_H

#include <stddef.h>

enum { SCAN_MAX_DEPTH = 32 }; /* msgpack-c's own nesting limit */

typedef enum {
    SCAN_COMPLETE,   /* *size is the object's length in bytes */
    SCAN_INCOMPLETE, /* the object goes on past the buffer */
    SCAN_INVALID,    /* a byte that no msgpack object starts with (0xc1) */
    SCAN_TOO_DEEP,   /* containers nested deeper than SCAN_MAX_DEPTH */
} scan_result;

scan_result msgpack_scan(const unsigned char *p, size_t n, size_t *size);

#endif
