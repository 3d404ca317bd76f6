#include "train/data.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "rec/rec.h"

void token_stream_load(token_stream *s, const char *path, uint32_t vocab, uint32_t eot)
{
    memset(s, 0, sizeof *s);
    rec_reader *in = rec_open(path);
    u32vec all = {0}, doc = {0};
    rec r;
    while (rec_next(in, &r)) {
        rec_need_u32s(&r, "tokens", vocab - 1, &doc);
        u32vec_reserve(&all, all.n + doc.n + 1);
        if (doc.n)
            memcpy(all.v + all.n, doc.v, doc.n * sizeof *doc.v);
        all.n += doc.n;
        if (eot != TOKENS_NO_EOT)
            all.v[all.n++] = eot;
        s->docs++;
    }
    if (all.n == 0)
        die(EX_DATAERR, "%s: no tokens to train on (%llu records)", rec_input_name(in),
            (unsigned long long)s->docs);
    rec_close(in);
    u32vec_free(&doc);
    s->tok = all.v;
    s->n = all.n;
}

void token_stream_free(token_stream *s)
{
    free(s->tok);
    memset(s, 0, sizeof *s);
}

void token_stream_window(const token_stream *s, uint64_t start, int T, uint32_t *tokens,
                         uint32_t *targets)
{
    size_t p = (size_t)(start % s->n);
    for (int t = 0; t < T; t++) {
        tokens[t] = s->tok[p];
        p = p + 1 == s->n ? 0 : p + 1;
        targets[t] = s->tok[p];
    }
}

void token_stream_next(token_stream *s, int B, int T, uint32_t *tokens, uint32_t *targets)
{
    for (int b = 0; b < B; b++) {
        token_stream_window(s, s->pos, T, tokens + (size_t)b * T, targets + (size_t)b * T);
        s->pos = (s->pos + (uint64_t)T) % s->n;
    }
}
