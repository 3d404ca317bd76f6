/* The VNNI kernel of int8_linear (see int8_vnni.h).  The build has no -march: the
 * functions that use AVX-512 carry their own target attribute and run only after
 * int8_vnni_supported(). */
#include "quant/int8_vnni.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define ROWS 8 /* rows per tile: 2 ROWS accumulators of the 32 registers */

bool int8_vnni_supported(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}

void int8_vnni_pack(int8_vnni_weights *p, const uint8_t *codes, int in, int out)
{
    if (in < 1 || in > INT8_VNNI_MAX_IN || out < 1)
        die(EX_SOFTWARE, "int8_vnni_pack: a layer of %d x %d is out of range", in, out);
    p->in = in;
    p->out = out;
    p->k4 = (in + 3) / 4;
    p->panels = (out + INT8_VNNI_PANEL - 1) / INT8_VNNI_PANEL;
    size_t panel_bytes = (size_t)p->k4 * INT8_VNNI_PANEL * 4;
    p->w = xcalloc((size_t)p->panels * panel_bytes, 1);
    p->offset = xcalloc((size_t)p->panels * INT8_VNNI_PANEL, sizeof *p->offset);
    for (int i = 0; i < in; i++)
        for (int o = 0; o < out; o++) {
            int q = codes[(size_t)i * out + o] - 128;
            int panel = o / INT8_VNNI_PANEL, lane = o % INT8_VNNI_PANEL;
            p->w[panel * panel_bytes + ((size_t)(i / 4) * INT8_VNNI_PANEL + lane) * 4 + i % 4] =
                (int8_t)q;
            p->offset[o] += 128 * q;
        }
}

void int8_vnni_free(int8_vnni_weights *p)
{
    free(p->w);
    free(p->offset);
    memset(p, 0, sizeof *p);
}

size_t int8_vnni_bytes(const int8_vnni_weights *p)
{
    return (size_t)p->panels * INT8_VNNI_PANEL * ((size_t)p->k4 * 4 + sizeof *p->offset);
}

/* Outputs [o, o + 16) of R rows from their sums: (float)sum * (s_t s_o) + b_o, rounded
 * as the portable kernel rounds it. */
VNNI static inline __attribute__((always_inline)) void
finish(const int8_vnni_weights *p, int o, const __m512i *acc, float *y, const float *b,
       const float *ws, const float *xs, int R)
{
    int valid = p->out - o;
    if (valid <= 0)
        return;
    __mmask16 m = valid >= 16 ? 0xffff : (__mmask16)((1u << valid) - 1);
    __m512i off = _mm512_loadu_si512(p->offset + o);
    __m512 sw = _mm512_maskz_loadu_ps(m, ws + o);
    __m512 bias = b ? _mm512_maskz_loadu_ps(m, b + o) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r], off)),
                                 _mm512_mul_ps(_mm512_set1_ps(xs[r]), sw));
        if (b)
            v = _mm512_add_ps(v, bias);
        _mm512_mask_storeu_ps(y + (size_t)r * p->out + o, m, v);
    }
}

/* R rows (R <= ROWS, a constant where this is inlined) of xu against one panel. */
VNNI static inline __attribute__((always_inline)) void
tile(const int8_vnni_weights *p, long panel, float *y, const float *b, const float *ws,
     const uint8_t *xu, size_t ldx, const float *xs, int R)
{
    /* the sums of outputs [0, 16) and [16, 32) of the panel, in registers: every loop over
     * r is unrolled */
    __m512i lo[ROWS], hi[ROWS];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
        lo[r] = hi[r] = _mm512_setzero_si512();
    const int k4 = p->k4;
    const int8_t *w = p->w + (size_t)panel * k4 * INT8_VNNI_PANEL * 4;
    for (int k = 0; k < k4; k++, w += INT8_VNNI_PANEL * 4) {
        __m512i w0 = _mm512_loadu_si512(w), w1 = _mm512_loadu_si512(w + 64);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            int32_t four;
            memcpy(&four, xu + r * ldx + 4 * (size_t)k, sizeof four);
            __m512i x = _mm512_set1_epi32(four);
            lo[r] = _mm512_dpbusd_epi32(lo[r], x, w0);
            hi[r] = _mm512_dpbusd_epi32(hi[r], x, w1);
        }
    }
    int o = (int)panel * INT8_VNNI_PANEL;
    finish(p, o, lo, y, b, ws, xs, R);
    finish(p, o + 16, hi, y, b, ws, xs, R);
}

VNNI void int8_vnni_product(const int8_vnni_weights *p, float *y, const float *b,
                            const float *ws, const uint8_t *xu, size_t ldx, const float *xs,
                            int n, long lo, long hi)
{
    for (long panel = lo; panel < hi; panel++) {
        int t = 0;
        for (; t + ROWS <= n; t += ROWS)
            tile(p, panel, y + (size_t)t * p->out, b, ws, xu + t * ldx, ldx, xs + t, ROWS);
        switch (n - t) { /* the last rows, each count with its own registers */
        case 1: tile(p, panel, y + (size_t)t * p->out, b, ws, xu + t * ldx, ldx, xs + t, 1); break;
        case 2: tile(p, panel, y + (size_t)t * p->out, b, ws, xu + t * ldx, ldx, xs + t, 2); break;
        case 3: tile(p, panel, y + (size_t)t * p->out, b, ws, xu + t * ldx, ldx, xs + t, 3); break;
        case 4: tile(p, panel, y + (size_t)t * p->out, b, ws, xu + t * ldx, ldx, xs + t, 4); break;
        case 5: tile(p, panel, y + (size_t)t * p->out, b, ws, xu + t * ldx, ldx, xs + t, 5); break;
        case 6: tile(p, panel, y + (size_t)t * p->out, b, ws, xu + t * ldx, ldx, xs + t, 6); break;
        case 7: tile(p, panel, y + (size_t)t * p->out, b, ws, xu + t * ldx, ldx, xs + t, 7); break;
        }
    }
}
