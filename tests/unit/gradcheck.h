/* gradcheck: an analytic gradient against finite differences.
 *
 * f(ctx) is a scalar function of the floats x[0..n) (it reads them through ctx), evaluated
 * in float32 and summed in double; g[0..n) is its analytic gradient at x.  Each x[i] is
 * moved by ±h and ±2h (and restored), and the numeric derivative is the fourth-order
 * central difference
 *
 *     d = (8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h,
 *
 * whose truncation error (h^4 f^(5) / 30) stays far below float32 rounding for h ~ 1e-2,
 * where the rounding noise of f, about 1e-7 |f| / h, is itself small.  The error of
 * element i is relative with a floor,
 *
 *     |g[i] - d| / max(|g[i]|, |d|, floor),
 *
 * so gradients far below the floor are compared absolutely.  gradcheck checks the elements
 * 0, stride, 2 stride ... below n (stride 1: all of them), returns the worst error and
 * prints where it was. */
#ifndef RUNNEL_TESTS_GRADCHECK_H
#define RUNNEL_TESTS_GRADCHECK_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

static double gradcheck_at_(double (*f)(void *), void *ctx, float *x, float v)
{
    *x = v;
    return f(ctx);
}

__attribute__((unused)) static double gradcheck(const char *what, double (*f)(void *ctx),
                                                void *ctx, float *x, const float *g, size_t n,
                                                size_t stride, float h, double floor)
{
    double worst = 0;
    size_t worst_i = 0;
    double worst_d = 0;
    for (size_t i = 0; i < n; i += stride) {
        float x0 = x[i];
        /* the steps as float32 represents them */
        double h1 = ((double)(x0 + h) - (double)(x0 - h)) / 2;
        double h2 = ((double)(x0 + 2 * h) - (double)(x0 - 2 * h)) / 4;
        double f1 = gradcheck_at_(f, ctx, &x[i], x0 + h) - gradcheck_at_(f, ctx, &x[i], x0 - h);
        double f2 = gradcheck_at_(f, ctx, &x[i], x0 + 2 * h) -
                    gradcheck_at_(f, ctx, &x[i], x0 - 2 * h);
        x[i] = x0;
        double d = (8 * f1 / (2 * h1) - f2 / (2 * h2)) / 6;
        double scale = fmax(fmax(fabs(g[i]), fabs(d)), floor);
        double err = fabs(g[i] - d) / scale;
        if (err > worst || i == 0) {
            worst = err;
            worst_i = i;
            worst_d = d;
        }
    }
    if (n)
        printf("#   %s: worst error %.3g at [%zu]: analytic %.9g, numeric %.9g\n", what, worst,
               worst_i, g[worst_i], worst_d);
    return worst;
}

#endif
