/* holdout: a record's split (train, valid or test) decided by the hash of its id alone.
 *
 * The same id always lands in the same split, whatever its position, the records around it
 * or the stream it comes in, so a split stays put as a data set grows.  The mapping is part
 * of runnel's contract (holdout(1) documents it):
 *
 *     u = (hash64(id, salt) >> 11) * 2^-53          uniform in [0, 1)
 *     test if u < test,  valid if u < test + valid,  else train
 *
 * where id is the bytes of a string id, or the decimal text of an integer id (so 42 and
 * "42" agree). */
#ifndef RUNNEL_RECUTIL_HOLDOUT_H
#define RUNNEL_RECUTIL_HOLDOUT_H

#include <stddef.h>
#include <stdint.h>

#include "rec/rec.h"

typedef enum { SPLIT_TRAIN, SPLIT_VALID, SPLIT_TEST } split_kind;

extern const char *const split_names[3]; /* "train", "valid", "test" */

typedef struct {
    double valid, test; /* fractions, each in [0, 1], summing to at most 1 */
    uint64_t salt;
} holdout_opts;

split_kind holdout_split(const void *id, size_t len, const holdout_opts *o);
/* The split of record r by the value under key; a missing key or one that is neither a
 * string nor an integer fails the record (exit 65). */
split_kind holdout_record(const rec *r, const char *key, const holdout_opts *o);

#endif
