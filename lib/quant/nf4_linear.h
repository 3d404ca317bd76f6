/* nf4_linear: a frozen dense layer whose W is held in NF4, QLoRA's base.
 *
 * Attaching quantizes the layer's float W (quant/nf4.h: blocks of 64 scaled by their
 * absolute maximum, the maxima double-quantized, about 4.13 bits per weight) and releases
 * the float copy's memory: the whole pages inside W's range are handed back to the system
 * (madvise MADV_DONTNEED), so they read as zero until written again.  From then on the
 * layer's weight hook dequantizes W into a scratch buffer at every call, for the forward's
 * x W and the backward's dy Wᵀ; the buffer is shared by all the layers of a model (one W
 * at a time).  The layer no longer learns W (dw must be NULL: its tensor frozen); its bias
 * stays in float.  Detaching writes the dequantized W back into the layer, for merging. */
#ifndef RUNNEL_QUANT_NF4_LINEAR_H
#define RUNNEL_QUANT_NF4_LINEAR_H

#include <stddef.h>

#include "nn/linear.h"
#include "quant/nf4.h"

/* One dequantized W at a time. */
typedef struct {
    float *w;   /* (cap) */
    size_t cap;
} nf4_scratch;

typedef struct {
    linear_ext ext;       /* first: the layer's ext points here */
    linear *lin;
    nf4_tensor q;         /* W (in, out) in NF4 */
    nf4_scratch *scratch;
} nf4_linear;

/* Quantize l's W into e and release the float copy; l must have no extension and no dW. */
void nf4_linear_attach(nf4_linear *e, linear *l, nf4_scratch *scratch);
/* Write the dequantized W back into the layer and take the extension off. */
void nf4_linear_detach(nf4_linear *e);
/* Bytes of the NF4 storage (nf4_bytes). */
size_t nf4_linear_bytes(const nf4_linear *e);
void nf4_scratch_free(nf4_scratch *s);

#endif
