/* int8_linear: dense layers computed with int8 weights and int8 activations, for inference.
 *
 * Attaching quantizes each layer's W (in, out) per output channel with quant/quant.h
 * (8 bits, symmetric, round to nearest: s_o = max_i |W_io| / 127, codes
 * q_io = round(W_io / s_o) in [-127, 127]) and keeps the codes transposed, (out, in),
 * so that every output is one contiguous dot product, with one float scale per output.
 * At every forward each row of x (a token) is quantized the same way, one scale s_t per
 * row, the products are summed exactly in int32, and
 *
 *     y_to = (s_t s_o) Σ_i q_ti q_io + b_o        (float32; the bias stays float)
 *
 * which is the float product of the dequantized x and W up to the rounding of that last
 * line.  The products are split across threads by output channels, so a thread reads
 * only its share of the codes: a quarter of the bytes the float W takes, which is what
 * limits the speed of one-token steps.  Each output's sum is the same whatever the rows
 * and thread count, so a row computed alone (n == 1) equals the same row of a batch.
 *
 * The layer's float W and bias are left in place and unchanged; the layer can no longer
 * learn (dw must be NULL) and linear_backward must not be called while attached.
 *
 * Two kernels compute the sums, with the same results: a portable one that the compiler
 * vectorizes, over int16 activations and the codes of each output in a row, and on
 * processors with AVX-512 VNNI one that packs the codes in panels of 32 outputs
 * (quant/int8_vnni.h), four to eight times as fast for a batch of rows.
 *
 * It plugs into nn/linear as the layer's product hook, which replaces the float
 * product; detaching restores the layer as it was. */
#ifndef RUNNEL_QUANT_INT8_LINEAR_H
#define RUNNEL_QUANT_INT8_LINEAR_H

#include <stdbool.h>
#include <stddef.h>

#include "model/model.h"
#include "nn/linear.h"

typedef struct int8_linear_set int8_linear_set;

/* Quantize the n layers' weights and attach; every layer's ext must be NULL and dw NULL. */
int8_linear_set *int8_linear_attach(linear **layers, int n);
/* The same for every dense layer of a model (model_linears()). */
int8_linear_set *int8_linear_attach_model(model *m);
/* Detach every layer (restoring it as it was) and free everything. */
void int8_linear_free(int8_linear_set *s);
/* Bytes of the int8 codes (padded with zeros as the kernel reads them) and their scales:
 * the weights as the products read them. */
size_t int8_linear_bytes(const int8_linear_set *s);
/* For tests: the sets attached from now on use the portable kernel even where the VNNI
 * one runs. */
void int8_linear_force_portable(bool on);

#endif
