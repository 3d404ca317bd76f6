#include "train/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void sampler_init(sampler *s, int V, const sampler_opts *o)
{
    s->o = *o;
    s->V = V;
    s->p = xmalloc((size_t)V * sizeof *s->p);
    s->ids = xmalloc((size_t)V * sizeof *s->ids);
}

void sampler_free(sampler *s)
{
    free(s->p);
    free(s->ids);
}

/* More likely first; equal probabilities by id. */
static int by_probability(const void *a, const void *b, void *ctx)
{
    const double *p = ctx;
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    if (p[i] != p[j])
        return p[i] > p[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

uint32_t sampler_draw(sampler *s, const float *logits, rng_t *rng)
{
    int V = s->V;
    uint32_t best = 0;
    for (int v = 1; v < V; v++)
        if (logits[v] > logits[best])
            best = (uint32_t)v;
    if (s->o.greedy || s->o.temperature == 0)
        return best;
    double *p = s->p;
    for (int v = 0; v < V; v++)
        p[v] = exp(((double)logits[v] - logits[best]) / s->o.temperature);
    /* the candidates, in the order the draw walks them */
    int n = V;
    bool cut = (s->o.top_k > 0 && s->o.top_k < V) || s->o.top_p < 1;
    for (int v = 0; v < V; v++)
        s->ids[v] = (uint32_t)v;
    if (cut) {
        qsort_r(s->ids, (size_t)V, sizeof *s->ids, by_probability, p);
        if (s->o.top_k > 0 && s->o.top_k < n)
            n = s->o.top_k;
        if (s->o.top_p < 1) {
            double total = 0, acc = 0;
            for (int i = 0; i < n; i++)
                total += p[s->ids[i]];
            for (int i = 0; i < n; i++) {
                acc += p[s->ids[i]];
                if (acc >= s->o.top_p * total) {
                    n = i + 1;
                    break;
                }
            }
        }
    }
    double total = 0;
    for (int i = 0; i < n; i++)
        total += p[s->ids[i]];
    double u = rng_uniform(rng) * total, acc = 0;
    for (int i = 0; i < n; i++) {
        acc += p[s->ids[i]];
        if (u < acc)
            return s->ids[i];
    }
    return s->ids[0]; /* rounding left u at the very top: the most likely of the kept */
}

static bool is_stop_token(const gen_opts *o, uint32_t t)
{
    for (int i = 0; i < o->n_stop_tokens; i++)
        if (o->stop_tokens[i] == t)
            return true;
    return false;
}

/* Where the first stop string ends up in text, searching only what the bytes from
 * `from` on can complete; -1 if none. */
static long find_stop(const gen_opts *o, const char *text, size_t len, size_t from)
{
    long found = -1;
    for (int i = 0; i < o->n_stop_strings; i++) {
        size_t sl = strlen(o->stop_strings[i]);
        if (sl == 0 || sl > len)
            continue;
        size_t start = from + 1 > sl ? from + 1 - sl : 0;
        const char *hit = memmem(text + start, len - start, o->stop_strings[i], sl);
        if (hit && (found < 0 || hit - text < found))
            found = hit - text;
    }
    return found;
}

void generate(model *m, model_state *s, sampler *smp, rng_t *rng, const bpe_t *tok,
              const uint32_t *prompt, size_t n, const gen_opts *o, gen_result *res)
{
    int limit = model_max_len(m); /* 0: none */
    model_state_reset(s);
    const float *logits = NULL;
    for (size_t i = 0; i < n; i++)
        logits = model_step(m, s, prompt[i]);
    res->tokens.n = 0;
    res->len = 0;
    res->finish = GEN_LENGTH;
    for (;;) {
        if ((int)res->tokens.n == o->max_tokens)
            break;
        if (res->tokens.n > 0) { /* feed the last token for the logits of the next */
            if (limit && model_state_pos(s) >= limit) {
                res->finish = GEN_CONTEXT;
                break;
            }
            logits = model_step(m, s, res->tokens.v[res->tokens.n - 1]);
        }
        uint32_t t = sampler_draw(smp, logits, rng);
        if (is_stop_token(o, t)) {
            res->finish = GEN_STOP;
            break;
        }
        u32vec_push(&res->tokens, t);
        if (tok) {
            size_t before = res->len;
            tok_decode(tok, &t, 1, &res->text, &res->len, &res->cap);
            long at = find_stop(o, res->text, res->len, before);
            if (at >= 0) {
                res->len = (size_t)at;
                res->finish = GEN_STOP;
                break;
            }
        }
    }
}

void gen_result_free(gen_result *res)
{
    u32vec_free(&res->tokens);
    free(res->text);
    memset(res, 0, sizeof *res);
}
