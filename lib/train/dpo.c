#include "train/dpo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "model/model.h"

void dpo_init(dpo *d, double beta, double smoothing, int B)
{
    memset(d, 0, sizeof *d);
    d->beta = beta;
    d->smoothing = smoothing;
    d->rows = B;
    d->ref_rows = xcalloc((size_t)B, sizeof *d->ref_rows);
}

void dpo_free(dpo *d)
{
    free(d->ref_rows);
    memset(d, 0, sizeof *d);
}

/* ---- the pairs' batches ---- */

/* Tell the loss the references of the pairs just put in the rows. */
static void tell(dpo_source *s, int B)
{
    dpo *d = s->d;
    if (B != d->rows)
        die(EX_SOFTWARE, "dpo: batches of %d rows, the loss expects %d", B, d->rows);
    memset(d->ref_rows, 0, (size_t)B * sizeof *d->ref_rows);
    for (int e = 0; e < s->seqs.n_last; e++)
        for (int j = 0; j < 2; j++)
            d->ref_rows[2 * e + j] = s->ref[2 * s->seqs.last[e] + j];
}

static void dpo_next(batch_source *b, int B, int T, uint32_t *tokens, uint32_t *targets)
{
    dpo_source *s = (dpo_source *)b;
    s->seqs.base.next(&s->seqs.base, B, T, tokens, targets);
    tell(s, B);
}

static uint64_t dpo_count(const batch_source *b, int B)
{
    const dpo_source *s = (const dpo_source *)b;
    return s->seqs.base.count(&s->seqs.base, B);
}

static int dpo_get(batch_source *b, uint64_t k, int B, int T, uint32_t *tokens,
                   uint32_t *targets)
{
    dpo_source *s = (dpo_source *)b;
    int n = s->seqs.base.get(&s->seqs.base, k, B, T, tokens, targets);
    tell(s, B);
    return n;
}

void dpo_source_load(dpo_source *s, dpo *d, const char *path, const seq_format *f,
                     uint64_t seed)
{
    static const char *const keys[] = {"prompt", "chosen", "rejected"};
    memset(s, 0, sizeof *s);
    seq_source_load(&s->seqs, path, 2, keys, f, seed);
    s->d = d;
    s->ref = xcalloc(s->seqs.n_seq, sizeof *s->ref);
    s->base = s->seqs.base;
    s->base.next = dpo_next;
    s->base.count = dpo_count;
    s->base.get = dpo_get;
}

void dpo_source_free(dpo_source *s)
{
    seq_source_free(&s->seqs);
    free(s->ref);
    memset(s, 0, sizeof *s);
}

void dpo_reference(dpo_source *s, trainer *t)
{
    int B = t->h.batch, T = t->h.seq_len;
    seq_source *q = &s->seqs;
    uint64_t n = q->base.count(&q->base, B);
    for (uint64_t k = 0; k < n; k++) {
        q->base.get(&q->base, k, B, T, t->tokens, t->targets);
        model_forward(t->m, t->tokens, t->targets, t->logp);
        for (int e = 0; e < q->n_last; e++)
            for (int j = 0; j < 2; j++) {
                size_t row = 2 * (size_t)e + j;
                double sum = 0;
                for (int i = 0; i < T; i++)
                    if (t->targets[row * T + i] != MODEL_IGNORE)
                        sum += t->logp[row * T + i];
                s->ref[2 * q->last[e] + j] = sum;
            }
    }
}

/* ---- the loss ---- */

static double log_sigmoid(double z) { return z >= 0 ? -log1p(exp(-z)) : z - log1p(exp(z)); }
static double sigmoid(double z) { return exp(log_sigmoid(z)); }

/* Sum of the scored log-probs of row r; false when the row scores nothing (padding). */
static bool row_logp(const uint32_t *targets, const float *logp, int r, int T, double *sum)
{
    bool any = false;
    *sum = 0;
    for (int i = 0; i < T; i++)
        if (targets[(size_t)r * T + i] != MODEL_IGNORE) {
            *sum += logp[(size_t)r * T + i];
            any = true;
        }
    return any;
}

double dpo_loss_fn(void *ctx, const uint32_t *tokens, const uint32_t *targets,
                   const float *logp, float *dlogp, int B, int T)
{
    dpo *d = ctx;
    double beta = d->beta, eps = d->smoothing;
    int pairs = 0;
    for (int p = 0; p < B / 2; p++) {
        double pc;
        pairs += row_logp(targets, logp, 2 * p, T, &pc);
    }
    memset(dlogp, 0, (size_t)B * T * sizeof *dlogp);
    double loss = 0, acc = 0, margin = 0, chosen = 0, rejected = 0;
    for (int p = 0; p < B / 2 && pairs; p++) {
        double pc, pr;
        if (!row_logp(targets, logp, 2 * p, T, &pc))
            continue;
        row_logp(targets, logp, 2 * p + 1, T, &pr);
        double rc = beta * (pc - d->ref_rows[2 * p]);     /* implicit rewards */
        double rr = beta * (pr - d->ref_rows[2 * p + 1]);
        double z = rc - rr;
        loss -= (1 - eps) * log_sigmoid(z) + eps * log_sigmoid(-z);
        double dz = -(1 - eps) * sigmoid(-z) + eps * sigmoid(z);
        float g = (float)(beta * dz / pairs);
        for (int i = 0; i < T; i++) {
            size_t c = (size_t)2 * p * T + i, r = c + (size_t)T;
            if (targets[c] != MODEL_IGNORE)
                dlogp[c] = g;
            if (targets[r] != MODEL_IGNORE)
                dlogp[r] = -g;
        }
        acc += rc > rr;
        margin += z;
        chosen += rc;
        rejected += rr;
    }
    double n = pairs ? pairs : 1;
    d->stats[0] = acc / n;
    d->stats[1] = margin / n;
    d->stats[2] = chosen / n;
    d->stats[3] = rejected / n;
    return loss / n;
}

train_loss dpo_loss(dpo *d) { return (train_loss){"dpo", dpo_loss_fn, d}; }

train_stats dpo_stats(const dpo *d)
{
    static const char *const names[DPO_STATS] = {"reward_accuracy", "reward_margin",
                                                 "chosen_reward", "rejected_reward"};
    return (train_stats){DPO_STATS, names, d->stats};
}
