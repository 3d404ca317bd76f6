#include "json/base64.h"

#include <stdint.h>

static const char alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const void *in, size_t n, char *out)
{
    const unsigned char *p = in;
    char *o = out;
    for (; n >= 3; n -= 3, p += 3) {
        uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        o[0] = alphabet[v >> 18];
        o[1] = alphabet[v >> 12 & 63];
        o[2] = alphabet[v >> 6 & 63];
        o[3] = alphabet[v & 63];
        o += 4;
    }
    if (n > 0) {
        uint32_t v = (uint32_t)p[0] << 16 | (n == 2 ? (uint32_t)p[1] << 8 : 0);
        o[0] = alphabet[v >> 18];
        o[1] = alphabet[v >> 12 & 63];
        o[2] = n == 2 ? alphabet[v >> 6 & 63] : '=';
        o[3] = '=';
        o += 4;
    }
    return (size_t)(o - out);
}

/* The value of a base64 character, or -1. */
static int digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool base64_decode(const char *in, size_t len, void *out, size_t *n)
{
    const unsigned char *p = (const unsigned char *)in;
    unsigned char *o = out;
    if (len % 4)
        return false;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int pad = last ? (p[i + 3] == '=') + (p[i + 2] == '=' && p[i + 3] == '=') : 0;
        uint32_t v = 0;
        for (int k = 0; k < 4 - pad; k++) {
            int d = digit(p[i + k]);
            if (d < 0)
                return false;
            v |= (uint32_t)d << (18 - 6 * k);
        }
        /* the bits below the last whole byte must be zero: one encoding per byte string */
        if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
            return false;
        *o++ = (unsigned char)(v >> 16);
        if (pad < 2)
            *o++ = (unsigned char)(v >> 8);
        if (pad < 1)
            *o++ = (unsigned char)v;
    }
    *n = (size_t)(o - (unsigned char *)out);
    return true;
}
