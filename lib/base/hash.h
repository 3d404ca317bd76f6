/* hash: a stable 64-bit hash of bytes.
 *
 * Used where a hash decides something users keep, such as which split a record's id falls
 * into, so its values are part of runnel's contract and must never change.  It is FNV-1a
 * over the bytes followed by the splitmix64 finalizer (FNV alone mixes its last bytes
 * poorly into the high bits).  Not for adversarial input. */
#ifndef RUNNEL_BASE_HASH_H
#define RUNNEL_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash64(const void *data, size_t len, uint64_t seed);

#endif
