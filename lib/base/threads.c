#include "base/threads.h"

#include <stdlib.h>
#include <unistd.h>

#include "base/cli.h"
#include "base/err.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void openblas_set_num_threads(int n); /* from OpenBLAS (cblas.h does not always declare it) */

static int n_threads = 1;

int threads_parse(const char *opt, const char *arg) { return (int)cli_u64(opt, arg, 1, 1024); }

int threads_init(int requested)
{
    int n = requested;
    const char *env = getenv("RUNNEL_THREADS");
    if (n <= 0 && env && *env)
        n = (int)cli_u64("RUNNEL_THREADS", env, 1, 1024);
    if (n <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
    n_threads = n;
    /* One pool of threads: ours.  Each sgemm runs on one thread, and the layers split
     * their products across OpenMP threads (nn/linear.c), so OpenBLAS's own pool never
     * spins against OpenMP's for the same cores. */
    openblas_set_num_threads(1);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    return n;
}

int threads_count(void) { return n_threads; }
