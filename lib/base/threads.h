/* threads: how many threads a tool may use, and telling OpenBLAS and OpenMP.
 *
 * The count comes from -j N when given, else RUNNEL_THREADS, else the number of online
 * cores.  Results depend on the thread count only where documented (a reduction split
 * across threads adds in a different order), never on scheduling: every parallel loop in
 * runnel uses a static schedule and combines partial results in a fixed order. */
#ifndef RUNNEL_BASE_THREADS_H
#define RUNNEL_BASE_THREADS_H

/* Loops over fewer elements than this run on one thread: forking costs more than it
 * saves, and much more when the machine is busy.  Use as
 *     #pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)  */
#define PARALLEL_MIN (1 << 14)
/* The same for a matrix-vector product (one token through a layer, when sampling), in
 * multiply-adds: below it the product takes a few microseconds, less than waking a
 * second thread to share it. */
#define PARALLEL_MIN_MACS (1L << 17)

#include <omp.h>

/* Inside a parallel region: this thread's share [*lo, *hi) of n rows, contiguous and in
 * thread order, so the split depends only on the thread count. */
static inline void thread_share(long n, long *lo, long *hi)
{
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    *lo = n * t / nt;
    *hi = n * (t + 1) / nt;
}

/* Parse a -j argument (dies with 64 on a bad value). */
int threads_parse(const char *opt, const char *arg);
/* Resolve the count (requested > 0 wins, then RUNNEL_THREADS, then cores) and apply it to
 * OpenBLAS and OpenMP.  Returns the count in force. */
int threads_init(int requested);
int threads_count(void);

#endif
