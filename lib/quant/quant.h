/* quant: b-bit linear quantization, for fake-quantized training and low-bit storage.
 *
 * A spec says how a (rows, cols) row-major matrix is quantized:
 *   bits        2..8
 *   symmetric   s = max|x| / Qp with Qp = 2^(b-1) - 1, codes q in [-Qp, Qp], x^ = s q
 *   asymmetric  s = (max - min) / (2^b - 1), zero point z = round(-min / s),
 *               codes q in [0, 2^b - 1], x^ = s (q - z)
 *   granularity one scale per tensor, per row (a weight's output channel when W is stored
 *               (out, in); a token of activations or gradients), per column, or per group
 *               of G consecutive elements of a row (G divides cols)
 *   rounding    to nearest (ties away from zero), or stochastic: up with probability equal
 *               to the fractional part, so E[Q(x)] = x
 * Every scale is at least QUANT_MIN_SCALE, so an all-zero block quantizes to zeros
 * instead of dividing by zero.  In training the rounding has a straight-through gradient:
 * dL/dx = dL/dQ(x); that is the caller's business (nn/linear), not this module's.
 *
 * quant_fake() quantizes and dequantizes in one pass (fake quantization); quant_encode()
 * and quant_decode() store real codes, one uint8 per element (biased by 2^(b-1) when
 * symmetric), with quant_pack4() for two 4-bit codes per byte. */
#ifndef RUNNEL_QUANT_QUANT_H
#define RUNNEL_QUANT_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"

#define QUANT_MIN_SCALE 1e-30f

typedef enum { QUANT_PER_TENSOR, QUANT_PER_ROW, QUANT_PER_COLUMN, QUANT_PER_GROUP } quant_gran;

typedef struct {
    int bits;          /* 2..8; 0 means "not quantized" */
    bool asymmetric;
    bool stochastic;
    quant_gran gran;
    int group;         /* G, for QUANT_PER_GROUP */
} quant_spec;

/* Parse "BITS[:GRANULARITY][:asym][:stochastic]" with GRANULARITY one of per-tensor,
 * per-row (alias per-token, per-channel), per-column, per-group-G (e.g. "4:per-group-64:asym").
 * Returns NULL, or a message saying what is wrong. */
const char *quant_parse(quant_spec *q, const char *text);
/* The spec as text, in the form quant_parse() reads. */
void quant_format(const quant_spec *q, char *buf, size_t size);
/* NULL if q applies to a (rows, cols) matrix, else why not (a group that does not divide). */
const char *quant_check(const quant_spec *q, int rows, int cols);

/* Number of scales (and zero points) q uses for a (rows, cols) matrix. */
size_t quant_nscales(const quant_spec *q, int rows, int cols);

/* y = dequantize(quantize(x)); y may be x.  rng is used only for stochastic rounding. */
void quant_fake(const quant_spec *q, float *y, const float *x, int rows, int cols, rng_t *rng);

/* Codes (rows * cols bytes), scales and zero points (quant_nscales() each; zeros only when
 * asymmetric, else may be NULL). */
void quant_encode(const quant_spec *q, uint8_t *codes, float *scales, float *zeros,
                  const float *x, int rows, int cols, rng_t *rng);
void quant_decode(const quant_spec *q, float *x, const uint8_t *codes, const float *scales,
                  const float *zeros, int rows, int cols);

/* Two 4-bit codes per byte (element 2i in the low nibble); n need not be even. */
void quant_pack4(uint8_t *packed, const uint8_t *codes, size_t n);
void quant_unpack4(uint8_t *codes, const uint8_t *packed, size_t n);

#endif
