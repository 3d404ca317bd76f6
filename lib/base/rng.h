/* rng: the seeded pseudo-random generator behind every --seed.
 *
 * xoshiro256** (Blackman & Vigna, 2018), its 256-bit state filled from the 64-bit seed by
 * splitmix64.  The sequence for a seed is part of runnel's contract: the same seed gives
 * the same bytes out on every machine.  Streams that must not interfere (data order,
 * dropout, sampling) use rng_fork() rather than sharing one generator. */
#ifndef RUNNEL_BASE_RNG_H
#define RUNNEL_BASE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rng_t;

void rng_seed(rng_t *r, uint64_t seed);
uint64_t rng_u64(rng_t *r);
/* Uniform in [0, 1) with 53 random bits. */
double rng_uniform(rng_t *r);
/* Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject); n > 0. */
uint64_t rng_below(rng_t *r, uint64_t n);
/* Standard normal (Box-Muller, both values used in turn is not kept: one draw per call). */
double rng_normal(rng_t *r);
/* A generator for an independent stream, derived from r's next output and a label. */
rng_t rng_fork(rng_t *r, uint64_t label);

/* splitmix64 finalizer: a good 64-bit mixing function, exposed for hashing. */
uint64_t mix64(uint64_t x);

#endif
