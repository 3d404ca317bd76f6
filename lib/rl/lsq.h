/* lsq: least-squares trend and residual fluctuation of a series, online and mergeable.
 *
 * The diagnoses of diagnose(1) look at a signal (a loss, the returns, the entropy) over
 * windows of consecutive points: the least-squares line through a window gives its trend
 * (slope) and the residuals around the line its fluctuation.  An lsq holds the means and
 * co-moments of (x, y) (Welford's update, Chan's merge), so adding a point is O(1), two
 * windows merge into the exact fit of their union, and nothing is cancelled
 * catastrophically when x is a large step count.
 *
 * A wtrack cuts a series into windows of w points, keeps each finished window's fit (with
 * the step range it covers, for the exploration and exploitation phases), and stays small
 * on long traces: past WTRACK_MAX_WINDOWS windows, neighbours are merged in pairs. */
#ifndef RUNNEL_RL_LSQ_H
#define RUNNEL_RL_LSQ_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    double n;
    double mx, my;          /* means */
    double cxx, cxy, cyy;   /* sums of products of deviations from the means */
    double min, max;        /* of y */
    double x0, y0, x1, y1;  /* the first and the last point */
} lsq;

void lsq_add(lsq *s, double x, double y);
/* a := the fit of the points of a and b (b's points come after a's). */
void lsq_merge(lsq *a, const lsq *b);
double lsq_slope(const lsq *s);     /* 0 when x does not vary */
double lsq_std(const lsq *s);       /* standard deviation of y (n - 1) */
double lsq_resid_std(const lsq *s); /* of y around the line (n - 2); lsq_std when x is constant */

enum { WTRACK_MAX_WINDOWS = 4096 };

typedef struct {
    lsq fit;
    uint64_t s0, s1; /* the steps of its first and last point */
} window;

typedef struct {
    int w;          /* points per window */
    lsq cur;        /* the window being filled */
    uint64_t cur_s0, cur_s1;
    window *win;    /* the finished windows, oldest first */
    int n, cap;
    lsq all;        /* every point */
} wtrack;

void wtrack_init(wtrack *t, int w);
void wtrack_free(wtrack *t);
/* Add a point at environment step s; true when it finished a window, which is then
 * t->win[t->n - 1]. */
bool wtrack_add(wtrack *t, uint64_t s, double x, double y);
/* The fit of the stored windows (and the partial current one) that lie entirely within
 * steps [s0, s1]; n == 0 when none does. */
lsq wtrack_range(const wtrack *t, uint64_t s0, uint64_t s1);

#endif
