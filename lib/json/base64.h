/* base64: the standard alphabet of RFC 4648 (section 4), with '=' padding.
 *
 * The JSON form of runnel records carries bytes as base64 (see json.h).  Decoding is
 * strict: only the standard alphabet, padding to a multiple of four, and zero bits in the
 * unused low bits of the last group, so each byte string has exactly one encoding. */
#ifndef RUNNEL_JSON_BASE64_H
#define RUNNEL_JSON_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Characters base64_encode() writes for n bytes. */
static inline size_t base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

/* Encode n bytes into out (base64_encoded_len(n) characters, no NUL); returns that count. */
size_t base64_encode(const void *in, size_t n, char *out);

/* Decode len characters into out (room for len / 4 * 3 bytes); *n gets the byte count.
 * False if the text is not canonical base64. */
bool base64_decode(const char *in, size_t len, void *out, size_t *n);

#endif
