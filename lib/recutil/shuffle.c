/* Shuffling a stream, whole or through a window; see shuffle.h for what each promises. */
#include "recutil/shuffle.h"

#include "base/rng.h"
#include "recutil/recbuf.h"

void shuffle_records(rec_reader *in, rec_writer *out, uint64_t seed, size_t window)
{
    rng_t rng;
    rng_seed(&rng, seed);
    recbuf held = {0};
    rec r;
    while (rec_next(in, &r)) {
        if (window == 0 || held.n < window) {
            recbuf_push(&held, &r);
            continue;
        }
        size_t j = (size_t)rng_below(&rng, held.n);
        recbuf_write(&held, j, out);
        recbuf_set(&held, j, &r);
    }
    for (size_t i = held.n; i > 1; i--)
        recbuf_swap(&held, i - 1, (size_t)rng_below(&rng, i));
    for (size_t i = 0; i < held.n; i++)
        recbuf_write(&held, i, out);
    recbuf_free(&held);
}
