/* nf4: 4-bit NormalFloat storage of frozen weights, as QLoRA (Dettmers et al., 2023) and
 * bitsandbytes store them.
 *
 * Weights are cut into blocks of 64; each block is scaled by its absolute maximum and each
 * weight replaced by the index of the nearest of the 16 NF4 code values (two per byte,
 * element 2i in the low nibble).  The block maxima are quantized again ("double
 * quantization"): their mean is subtracted, then they are stored as int8 with one float
 * scale (max |value| / 127) per block of 256 maxima.  The cost is
 * 4 + 8/64 + 32/(64*256) = 4.127 bits per weight, plus one float for the mean.
 * (bitsandbytes quantizes the maxima with its 8-bit dynamic code; runnel uses linear
 * int8, which costs the same memory.)  nf4_dequantize() restores float weights; a matmul
 * dequantizes a layer on the fly into scratch memory. */
#ifndef RUNNEL_QUANT_NF4_H
#define RUNNEL_QUANT_NF4_H

#include <stddef.h>
#include <stdint.h>

enum { NF4_BLOCK = 64, NF4_SCALE_BLOCK = 256 };

extern const float nf4_code[16];

typedef struct {
    size_t n;              /* weights */
    uint8_t *codes;        /* (n + 1) / 2 bytes, two 4-bit codes each */
    int8_t *absmax_q;      /* one per block of 64: (absmax - mean) / scale, rounded */
    float *absmax_scale;   /* one per 256 blocks */
    float absmax_mean;
} nf4_tensor;

void nf4_quantize(nf4_tensor *t, const float *w, size_t n);
void nf4_dequantize(float *w, const nf4_tensor *t);
/* Bytes held by t, everything included. */
size_t nf4_bytes(const nf4_tensor *t);
void nf4_free(nf4_tensor *t);
/* The index of the code value nearest to x (x in [-1, 1]). */
int nf4_nearest(float x);

#endif
