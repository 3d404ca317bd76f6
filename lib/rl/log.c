#include "rl/log.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void rl_log_init(rl_log *l, rec_writer *w, int every)
{
    memset(l, 0, sizeof *l);
    l->w = w;
    l->every = every > 0 ? every : 1;
    l->rec = xmalloc(sizeof *l->rec);
}

void rl_log_free(rl_log *l)
{
    free(l->rec);
    memset(l, 0, sizeof *l);
}

bool rl_log_wants_layers(const rl_log *l) { return l->n + 1 >= l->every; }

/* Fields that are the last value, not the mean, of the summarized steps. */
static bool is_last(int f) { return f == TF_LR || f == TF_EPSILON; }

void rl_log_grad(rl_log *l, const rl_grad *g, const trace_layer *layers, int n_layers)
{
    for (int f = 0; f < TF_COUNT; f++) {
        if (!(g->has >> f & 1))
            continue;
        if (f == TF_Q_MAX)
            l->q_max = l->counted[f] ? (g->v[f] > l->q_max ? g->v[f] : l->q_max) : g->v[f];
        l->sum[f] += g->v[f];
        l->last[f] = g->v[f];
        l->counted[f]++;
    }
    l->has |= g->has;
    l->target_updates += g->target_updates;
    l->has_target |= g->has_target;
    if (layers) {
        l->n_layers = n_layers < RL_LOG_MAX_LAYERS ? n_layers : RL_LOG_MAX_LAYERS;
        memcpy(l->layers, layers, (size_t)l->n_layers * sizeof *layers);
    }
    if (++l->n >= l->every)
        rl_log_flush(l);
}

void rl_log_flush(rl_log *l)
{
    if (l->n == 0)
        return;
    trace_rec *t = l->rec;
    trace_clear(t, TR_UPDATE, l->step);
    trace_set(t, TF_UPDATES, l->n);
    for (int f = 0; f < TF_COUNT; f++) {
        if (!(l->has >> f & 1))
            continue;
        double v = f == TF_Q_MAX ? l->q_max : is_last(f) ? l->last[f] : l->sum[f] / l->counted[f];
        trace_set(t, (trace_field)f, v);
    }
    if (l->has_target) {
        t->flags |= TB_TARGET_UPDATED;
        t->target_updated = l->target_updates > 0;
        trace_set(t, TF_TARGET_UPDATES, l->target_updates);
    }
    if (l->n_layers) {
        t->flags |= TB_LAYERS;
        t->n_layers = l->n_layers;
        memcpy(t->layers, l->layers, (size_t)l->n_layers * sizeof *l->layers);
    }
    if (l->w) {
        trace_write(l->w, t);
        rec_flush(l->w);
    }
    trace_rec *keep = l->rec;
    rec_writer *w = l->w;
    int every = l->every;
    uint64_t step = l->step;
    memset(l, 0, sizeof *l);
    l->rec = keep;
    l->w = w;
    l->every = every;
    l->step = step;
}
