#include "train/sft.h"

void sft_load(seq_source *s, const char *path, const seq_format *f, uint64_t seed)
{
    static const char *const keys[] = {"prompt", "response"};
    seq_source_load(s, path, 1, keys, f, seed);
}

train_loss sft_loss(void) { return (train_loss){"sft", train_xent, NULL}; }
