/* sgemm_peak: the machine's single-precision matrix-multiply peak, as OpenBLAS reaches it,
 * for bench/nn.sh's model FLOPs utilisation.  Multiplies (n, n) by (n, n) matrices in
 * OpenBLAS with the given number of threads, repeatedly for about `seconds`, and prints
 * the best rate of one product in GFLOP/s (2 n^3 flops).
 *
 *     sgemm_peak THREADS [N [SECONDS]]      (default N 1536, SECONDS 2) */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void openblas_set_num_threads(int);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sgemm_peak THREADS [N [SECONDS]]\n");
        return 64;
    }
    int threads = atoi(argv[1]), n = argc > 2 ? atoi(argv[2]) : 1536;
    double seconds = argc > 3 ? atof(argv[3]) : 2;
    openblas_set_num_threads(threads);
    size_t nn = (size_t)n * n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    if (!a || !b || !c)
        return 71;
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)(i % 7) * 0.25f - 0.75f;
        b[i] = (float)(i % 5) * 0.5f - 1.0f;
    }
    double best = 0, start = now();
    while (now() - start < seconds) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n,
                    0.0f, c, n);
        double rate = 2.0 * n * nn / (now() - t0) / 1e9;
        if (rate > best)
            best = rate;
    }
    printf("%.1f\n", best);
    int odd = c[nn - 1] == 12345.0f; /* the product is used: it cannot be optimised away */
    free(a);
    free(b);
    free(c);
    return odd;
}
