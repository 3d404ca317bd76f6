/* Assigning records to splits by a hash of their id. */
#include "recutil/holdout.h"

#include <stdio.h>

#include "base/hash.h"

const char *const split_names[3] = {"train", "valid", "test"};

split_kind holdout_split(const void *id, size_t len, const holdout_opts *o)
{
    double u = (double)(hash64(id, len, o->salt) >> 11) * 0x1.0p-53;
    if (u < o->test)
        return SPLIT_TEST;
    if (u < o->test + o->valid)
        return SPLIT_VALID;
    return SPLIT_TRAIN;
}

split_kind holdout_record(const rec *r, const char *key, const holdout_opts *o)
{
    const msgpack_object *v = rec_find(r, key);
    if (!v)
        rec_fail(r, "key \"%s\" is missing: every record needs an id to be assigned a split",
                 key);
    char digits[24];
    int n;
    switch (v->type) {
    case MSGPACK_OBJECT_STR:
        return holdout_split(v->via.str.ptr, v->via.str.size, o);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v->via.u64);
        return holdout_split(digits, (size_t)n, o);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        n = snprintf(digits, sizeof digits, "%lld", (long long)v->via.i64);
        return holdout_split(digits, (size_t)n, o);
    default:
        rec_fail(r, "key \"%s\": expected a string or an integer, found %s", key,
                 rec_type_name(v));
    }
}
