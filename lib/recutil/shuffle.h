/* shuffle: records in a random order fixed by a seed.
 *
 * With window 0 every record is held in memory and the output is a uniformly random
 * permutation: Fisher-Yates, drawing with rng_below() from the seed's xoshiro256** stream.
 *
 * With a window of N records memory is bounded but the order is only locally random: the
 * first N records are held; each later record takes the place of a uniformly chosen held
 * one, which is written; at the end the held records are shuffled and written.  A record
 * is evicted with probability 1/N at each step, so it stays a geometrically distributed
 * number of steps (mean N): it comes out at most N - 1 places before its input position
 * and rarely more than a few N after it.  A stream sorted by some key stays roughly sorted
 * at scales much larger than N.  A stream of at most N records gives exactly the output
 * of window 0 for the same seed. */
#ifndef RUNNEL_RECUTIL_SHUFFLE_H
#define RUNNEL_RECUTIL_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

#include "rec/rec.h"

void shuffle_records(rec_reader *in, rec_writer *out, uint64_t seed, size_t window);

#endif
