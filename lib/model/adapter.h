/* adapter: LoRA and QLoRA adapters on a model, and the files that keep them.
 *
 * adapter_new() adapts a model: every tensor of the model is frozen; with nf4 (QLoRA)
 * every dense layer's W moves to NF4, adapted or not, as QLoRA stores its whole base
 * (quant/nf4_linear.h); then the layers the targets cover get LoRA adapters (nn/lora.h),
 * which are all that learns.  Call it before the model is planned for training, or plan
 * again after: the frozen layers then compute no weight gradient.
 *
 * An adapter file is a tar archive written as checkpoints are (model/tarfile.h: ustar,
 * members dated 0, written atomically) holding
 *
 *     adapter.mp     {"format":"runnel-adapter","version":1,"base":"<16 hex digits>",
 *                     "arch","rank","alpha","dropout","targets","nf4","layers":[...]}
 *     tensors/NAME   the float32 A and B of every adapted layer, in order
 *                    (NAME as "h.0.attn.c_attn.lora_A")
 *
 * "base" is the content hash of the model the adapter was made for (adapter_base_hash:
 * the name, shape and float32 bytes of every tensor, in order; for QLoRA, of the float
 * model before quantization), so an adapter is applied to its own base only: any other
 * model exits 65.  Merging adds s A B into each W (QLoRA's base dequantized first). */
#ifndef RUNNEL_MODEL_ADAPTER_H
#define RUNNEL_MODEL_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "nn/lora.h"
#include "quant/nf4_linear.h"

typedef struct {
    lora_config lora;
    bool nf4;          /* QLoRA: the base's dense layers in NF4 */
} adapter_config;

typedef struct {
    adapter_config cfg;
    model *m;
    uint64_t base_hash;
    lora_set *lora;
    nf4_linear *nf4;   /* (n_nf4) the base's layers in NF4, or NULL */
    int n_nf4;
    nf4_scratch scratch;
    char **names;      /* (lora->n) the adapted layers' names */
} adapter;

/* The content hash of m's tensors. */
uint64_t adapter_base_hash(const model *m);
/* Adapt m (adapters A and B at zero; lora_init() draws A).  Bad settings exit 64 (see
 * lora_new). */
adapter *adapter_new(model *m, const adapter_config *cfg);
/* Write the adapters to path (atomically). */
void adapter_write(const adapter *a, const char *path);
/* Adapt m with the adapter file path: settings and tensors from the file.  A file that is
 * not an adapter, is damaged, or was made for another base exits 65; a missing one 66. */
adapter *adapter_load(model *m, const char *path);
/* Fold the adapters into the base's W (restoring NF4 layers to float first, so a QLoRA
 * merge starts from the dequantized base) and take every extension off: m is then a
 * plain model computing what the adapted one did. */
void adapter_merge(adapter *a);
/* Bytes the NF4 base layers take, and what they took in float32 (both 0 without nf4). */
void adapter_base_bytes(const adapter *a, size_t *nf4_bytes, size_t *fp32_bytes);
void adapter_free(adapter *a);

#endif
