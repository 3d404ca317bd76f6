/* int8_vnni: int8_linear's product on processors with AVX-512 VNNI.
 *
 * vpdpbusd multiplies 64 unsigned bytes by 64 signed bytes and adds each group of four
 * products to one of 16 int32 sums.  The weights' codes are packed in panels of 32 output
 * channels, (k4, 32, 4) each: four consecutive inputs of one output make one 32-bit lane,
 * so one instruction advances 16 outputs by four inputs, with one row's four activation
 * codes broadcast to every lane, and no sum ever needs a horizontal reduction.  The
 * activations enter as unsigned codes, the signed code plus 128; the 128 Σ_i q_io that
 * adds to output o is subtracted at the end.  The sums are exact, so the outputs are bit
 * for bit those of the portable kernel.
 *
 * Every sum stays within int32 for in <= INT8_VNNI_MAX_IN: 255 * 127 * 65536 < 2^31. */
#ifndef RUNNEL_QUANT_INT8_VNNI_H
#define RUNNEL_QUANT_INT8_VNNI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { INT8_VNNI_PANEL = 32, INT8_VNNI_MAX_IN = 1 << 16 };

typedef struct {
    int in, out;
    int k4;          /* in / 4, rounded up */
    int panels;      /* out / INT8_VNNI_PANEL, rounded up */
    int8_t *w;       /* (panels, k4, INT8_VNNI_PANEL, 4) codes, zero past in and out */
    int32_t *offset; /* (panels * INT8_VNNI_PANEL) 128 Σ_i q_io */
} int8_vnni_weights;

/* Whether this processor runs the kernel. */
bool int8_vnni_supported(void);
/* Pack codes (in, out) of W, biased by 128 as quant_encode writes them. */
void int8_vnni_pack(int8_vnni_weights *p, const uint8_t *codes, int in, int out);
void int8_vnni_free(int8_vnni_weights *p);
/* Bytes of the packed codes and offsets. */
size_t int8_vnni_bytes(const int8_vnni_weights *p);
/* y (n, out) for the output channels of panels [lo, hi):
 *     y_to = (xs_t ws_o) (Σ_i xu_ti q_io - offset_o) + b_o
 * xu (n, ldx) the rows' activation codes biased by 128, ldx >= 4 k4 (the bytes past in
 * multiply zeros); ws (out) the weights' scales; b (out) or NULL. */
void int8_vnni_product(const int8_vnni_weights *p, float *y, const float *b, const float *ws,
                       const uint8_t *xu, size_t ldx, const float *xs, int n, long lo, long hi);

#endif
