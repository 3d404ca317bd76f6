/* read_bandwidth: how fast THREADS threads read a buffer of MB megabytes, over and over,
 * in GB/s (best pass of about a second of passes).  Sampling one token reads every weight
 * of the model once, so for a buffer of the weights' size this bounds batch-1 sampling:
 * bench/nn.sh divides it by the bytes of the weights.
 *
 *     read_bandwidth THREADS MB */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: read_bandwidth THREADS MB\n");
        return 64;
    }
    int threads = atoi(argv[1]);
    size_t n = (size_t)(atof(argv[2]) * 1e6 / sizeof(float)) / 32 * 32;
    float *a = malloc(n * sizeof *a);
    if (!a || threads < 1 || n < 1)
        return 71;
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(i % 3);
    omp_set_num_threads(threads);
    double best = 0, start = omp_get_wtime(), total = 0;
    while (omp_get_wtime() - start < 1.0) {
        double t0 = omp_get_wtime();
        float sum = 0;
        /* 32 partial sums, so that the adds' latency does not limit the reads */
#pragma omp parallel reduction(+ : sum)
        {
            float part[32] = {0};
#pragma omp for schedule(static)
            for (size_t b = 0; b < n / 32; b++)
                for (int j = 0; j < 32; j++)
                    part[j] += a[b * 32 + j];
            for (int j = 0; j < 32; j++)
                sum += part[j];
        }
        double rate = n * sizeof *a / (omp_get_wtime() - t0) / 1e9;
        best = rate > best ? rate : best;
        total += sum; /* the sums are used: the reads cannot be optimised away */
    }
    printf("%.1f\n", best);
    free(a);
    return total < 0;
}
