#include "rl/lsq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void lsq_add(lsq *s, double x, double y)
{
    if (s->n == 0) {
        s->x0 = x;
        s->y0 = y;
        s->min = s->max = y;
    }
    s->n += 1;
    double dx = x - s->mx, dy = y - s->my;
    s->mx += dx / s->n;
    s->my += dy / s->n;
    s->cxx += dx * (x - s->mx);
    s->cxy += dx * (y - s->my);
    s->cyy += dy * (y - s->my);
    s->min = y < s->min ? y : s->min;
    s->max = y > s->max ? y : s->max;
    s->x1 = x;
    s->y1 = y;
}

void lsq_merge(lsq *a, const lsq *b)
{
    if (b->n == 0)
        return;
    if (a->n == 0) {
        *a = *b;
        return;
    }
    double n = a->n + b->n, dx = b->mx - a->mx, dy = b->my - a->my, w = a->n * b->n / n;
    a->cxx += b->cxx + dx * dx * w;
    a->cxy += b->cxy + dx * dy * w;
    a->cyy += b->cyy + dy * dy * w;
    a->mx += dx * b->n / n;
    a->my += dy * b->n / n;
    a->n = n;
    a->min = b->min < a->min ? b->min : a->min;
    a->max = b->max > a->max ? b->max : a->max;
    a->x1 = b->x1;
    a->y1 = b->y1;
}

double lsq_slope(const lsq *s) { return s->cxx > 0 ? s->cxy / s->cxx : 0; }

double lsq_std(const lsq *s) { return s->n > 1 ? sqrt(fmax(s->cyy, 0) / (s->n - 1)) : 0; }

double lsq_resid_std(const lsq *s)
{
    if (s->cxx <= 0 || s->n < 3)
        return lsq_std(s);
    double r = s->cyy - s->cxy * s->cxy / s->cxx;
    return sqrt(fmax(r, 0) / (s->n - 2));
}

void wtrack_init(wtrack *t, int w)
{
    memset(t, 0, sizeof *t);
    t->w = w > 0 ? w : 1;
}

void wtrack_free(wtrack *t)
{
    free(t->win);
    memset(t, 0, sizeof *t);
}

/* Halve the stored windows by merging neighbours. */
static void compact(wtrack *t)
{
    int k = 0;
    for (int i = 0; i + 1 < t->n; i += 2, k++) {
        window m = t->win[i];
        lsq_merge(&m.fit, &t->win[i + 1].fit);
        m.s1 = t->win[i + 1].s1;
        t->win[k] = m;
    }
    if (t->n % 2)
        t->win[k++] = t->win[t->n - 1];
    t->n = k;
}

bool wtrack_add(wtrack *t, uint64_t s, double x, double y)
{
    if (t->cur.n == 0)
        t->cur_s0 = s;
    t->cur_s1 = s;
    lsq_add(&t->cur, x, y);
    lsq_add(&t->all, x, y);
    if (t->cur.n < t->w)
        return false;
    if (t->n == WTRACK_MAX_WINDOWS)
        compact(t);
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->win = xrealloc(t->win, (size_t)t->cap * sizeof *t->win);
    }
    t->win[t->n++] = (window){t->cur, t->cur_s0, s};
    memset(&t->cur, 0, sizeof t->cur);
    return true;
}

lsq wtrack_range(const wtrack *t, uint64_t s0, uint64_t s1)
{
    lsq out = {0};
    for (int i = 0; i < t->n; i++)
        if (t->win[i].s0 >= s0 && t->win[i].s1 <= s1)
            lsq_merge(&out, &t->win[i].fit);
    if (t->cur.n > 0 && t->cur_s0 >= s0 && t->cur_s1 <= s1)
        lsq_merge(&out, &t->cur);
    return out;
}
