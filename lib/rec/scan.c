#include "rec/scan.h"

#include <stdint.h>

static uint64_t be(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

scan_result msgpack_scan(const unsigned char *p, size_t n, size_t *size)
{
    /* pending[d]: objects still to read at depth d; the record itself is the one object of
     * depth 0 */
    uint64_t pending[SCAN_MAX_DEPTH + 1] = {1};
    int depth = 0;
    size_t at = 0;
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        if (at >= n)
            return SCAN_INCOMPLETE;
        unsigned char b = p[at];
        uint64_t items = 0; /* elements of a container that starts here */
        int hdr = 1;        /* header bytes */
        uint64_t skip = 0;  /* payload bytes after the header */
        if (b <= 0x7f || b >= 0xe0 || (b >= 0xc2 && b <= 0xc3) || b == 0xc0)
            ; /* fixint, nil, bool */
        else if (b >= 0x80 && b <= 0x8f)
            items = 2 * (uint64_t)(b & 0x0f);
        else if (b >= 0x90 && b <= 0x9f)
            items = b & 0x0f;
        else if (b >= 0xa0 && b <= 0xbf)
            skip = b & 0x1f;
        else {
            switch (b) {
            case 0xc1: return SCAN_INVALID;
            case 0xcc: case 0xd0: skip = 1; break;
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xca: case 0xce: case 0xd2: skip = 4; break;
            case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break; /* fixext: type byte + data */
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xc4: case 0xd9: hdr = 2; break; /* bin8, str8 */
            case 0xc5: case 0xda: hdr = 3; break;
            case 0xc6: case 0xdb: hdr = 5; break;
            case 0xc7: hdr = 2; break; /* ext8: length, then type byte */
            case 0xc8: hdr = 3; break;
            case 0xc9: hdr = 5; break;
            case 0xdc: case 0xde: hdr = 3; break; /* array16, map16 */
            case 0xdd: case 0xdf: hdr = 5; break;
            }
            if (hdr > 1) {
                if (n - at < (size_t)hdr)
                    return SCAN_INCOMPLETE;
                uint64_t len = be(p + at + 1, hdr - 1);
                if (b == 0xdc || b == 0xdd)
                    items = len;
                else if (b == 0xde || b == 0xdf)
                    items = 2 * len;
                else
                    skip = len + (b >= 0xc7 && b <= 0xc9); /* ext: its type byte */
            }
        }
        if (skip > n - at - (size_t)hdr)
            return SCAN_INCOMPLETE;
        at += (size_t)hdr + (size_t)skip;
        if (items) {
            /* each element takes at least one byte: a claim beyond the buffer waits for
             * more input, and is never allocated */
            if (items > n - at)
                return SCAN_INCOMPLETE;
            if (depth == SCAN_MAX_DEPTH)
                return SCAN_TOO_DEEP;
            pending[++depth] = items;
        }
    }
    *size = at;
    return SCAN_COMPLETE;
}
