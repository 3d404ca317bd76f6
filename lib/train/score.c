#include "train/score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "train/data.h"

void scorer_init(scorer *s, model *m, bpe_t *tok, uint32_t eot, int B, bool per_token)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    s->tok = tok;
    s->eot = eot;
    s->B = B;
    s->per_token = per_token;
    int context = model_cfg(m)->context;
    s->seq = xcalloc((size_t)B, sizeof *s->seq);
    s->first = xcalloc((size_t)B, sizeof *s->first);
    s->tokens = xmalloc((size_t)B * context * sizeof *s->tokens);
    s->targets = xmalloc((size_t)B * context * sizeof *s->targets);
    s->logp = xmalloc((size_t)B * context * sizeof *s->logp);
    msgpack_sbuffer_init(&s->held);
    msgpack_unpacked_init(&s->view);
}

void scorer_free(scorer *s)
{
    for (int b = 0; b < s->B; b++)
        u32vec_free(&s->seq[b]);
    free(s->seq);
    free(s->first);
    free(s->tokens);
    free(s->targets);
    free(s->logp);
    u32vec_free(&s->text);
    msgpack_sbuffer_destroy(&s->held);
    msgpack_unpacked_destroy(&s->view);
}

/* Append the ids under tokens_key, else the encoding of the text under text_key; false
 * if the record has neither. */
static bool append_part(scorer *s, const rec *r, const char *tokens_key, const char *text_key,
                        u32vec *q)
{
    uint32_t V = (uint32_t)model_cfg(s->m)->vocab;
    const char *text;
    size_t len;
    if (!rec_get_u32s(r, tokens_key, V - 1, &s->text)) {
        if (!rec_get_str(r, text_key, &text, &len))
            return false;
        if (!s->tok)
            rec_fail(r, "key \"%s\": the checkpoint has no tokenizer; give \"%s\"", text_key,
                     tokens_key);
        s->text.n = 0;
        tok_encode(s->tok, text, len, false, &s->text);
    }
    u32vec_reserve(q, q->n + s->text.n);
    if (s->text.n)
        memcpy(q->v + q->n, s->text.v, s->text.n * sizeof *q->v);
    q->n += s->text.n;
    return true;
}

void scorer_add(scorer *s, const rec *r, rec_writer *out)
{
    int context = model_cfg(s->m)->context;
    u32vec *q = &s->seq[s->rows];
    q->n = 0;
    if (s->eot != TOKENS_NO_EOT)
        u32vec_push(q, s->eot);
    append_part(s, r, "prompt_tokens", "prompt", q);
    int first = q->n ? (int)q->n : 1;
    if (!append_part(s, r, "tokens", "text", q))
        rec_fail(r, "no \"tokens\" or \"text\" to score");
    if (q->n > (size_t)context + 1)
        rec_fail(r, "%zu tokens (with the prompt%s), more than the model's context of %d "
                 "allows (%d)", q->n, s->eot != TOKENS_NO_EOT ? " and <|endoftext|>" : "",
                 context, context + 1);
    s->first[s->rows] = first;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s->held, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, (msgpack_object){.type = MSGPACK_OBJECT_MAP, .via.map = *r->map});
    if (++s->rows == s->B)
        scorer_flush(s, out);
}

void scorer_flush(scorer *s, rec_writer *out)
{
    if (s->rows == 0)
        return;
    int B = s->B, context = model_cfg(s->m)->context, longest = 1;
    for (int b = 0; b < s->rows; b++)
        if ((int)s->seq[b].n - 1 > longest)
            longest = (int)s->seq[b].n - 1;
    int T = 1;
    while (T < longest)
        T *= 2;
    if (T > context)
        T = context;
    if (T != s->T) {
        model_plan(s->m, B, T, false);
        s->T = T;
    }
    /* row b: inputs seq[0 .. n-2], targets seq[1 .. n-1], unscored before first */
    for (int b = 0; b < B; b++) {
        const u32vec *q = &s->seq[b];
        int n = b < s->rows ? (int)q->n - 1 : 0;
        for (int t = 0; t < T; t++) {
            size_t i = (size_t)b * T + t;
            s->tokens[i] = t < n ? q->v[t] : 0;
            s->targets[i] = t < n && t + 1 >= s->first[b] ? q->v[t + 1] : MODEL_IGNORE;
        }
    }
    model_forward(s->m, s->tokens, s->targets, s->logp);

    static const char *const written[] = {"logprob", "n_tokens", "ppl", "token_logprobs",
                                          NULL};
    size_t off = 0;
    for (int b = 0; b < s->rows; b++) {
        if (msgpack_unpack_next(&s->view, s->held.data, s->held.size, &off) !=
            MSGPACK_UNPACK_SUCCESS)
            die(EX_SOFTWARE, "scorer: a held record does not read back");
        rec held = {.map = &s->view.data.via.map};
        int n = (int)s->seq[b].n - s->first[b];
        if (n < 0)
            n = 0;
        const float *lp = s->logp + (size_t)b * T + s->first[b] - 1;
        double sum = 0;
        for (int t = 0; t < n; t++)
            sum += lp[t];
        rec_begin(out);
        rec_put_rest(out, &held, written);
        rec_put_f64(out, "logprob", sum);
        rec_put_u64(out, "n_tokens", (uint64_t)n);
        if (n > 0)
            rec_put_f64(out, "ppl", exp(-sum / n));
        else
            rec_put_nil(out, "ppl");
        if (s->per_token)
            rec_put_f32s(out, "token_logprobs", lp, (size_t)n);
        rec_end(out);
    }
    s->rows = 0;
    msgpack_sbuffer_clear(&s->held);
}
