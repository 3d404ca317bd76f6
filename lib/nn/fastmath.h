/* fastmath: exp and tanh for the hot loops of the models, written so that the compiler
 * vectorizes them (libm's expf and tanhf are calls it cannot).
 *
 * fast_expf: x = k ln2 + r with |r| <= ln2/2, 2^k built in the exponent bits and e^r by
 * its Taylor polynomial to degree 7 (truncation below 1e-8 relative); results within
 * 2 ulp of expf for |x| < 87; +inf above 88.7 (as expf overflows) and 0 below -87
 * (subnormal results are flushed).  fast_tanhf is
 * 1 - 2 / (e^(2x) + 1), exact to about 1e-7 absolute. */
#ifndef RUNNEL_NN_FASTMATH_H
#define RUNNEL_NN_FASTMATH_H

#include <stdint.h>
#include <string.h>

static inline float fast_expf(float arg)
{
    float x = arg < 87.0f ? arg : 87.0f;
    x = x > -87.0f ? x : -87.0f;
    /* k = round(x / ln2), by adding 1.5 * 2^23 (which leaves k in the low mantissa bits):
     * roundf() is a libm call on x86-64 without SSE4.1, and it stops vectorization */
    float shifted = x * 1.44269504088896341f + 12582912.0f;
    float k = shifted - 12582912.0f;
    /* ln 2 split in two so that k ln2 is exact in the first part */
    float r = (x - k * 0.693145751953125f) - k * 1.42860682030941723212e-6f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float y = p * scale;
    y = arg > 88.72f ? __builtin_inff() : y;
    return arg < -87.0f ? 0.0f : y;
}

static inline float fast_tanhf(float x) { return 1.0f - 2.0f / (fast_expf(2.0f * x) + 1.0f); }

#endif
