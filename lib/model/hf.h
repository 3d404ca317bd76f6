/* hf: Hugging Face GPT-2 checkpoints as runnel models (import-hf(1)).
 *
 * A model folder as Hugging Face's transformers saves a GPT2LMHeadModel:
 *
 *     config.json            n_layer, n_head, n_embd, n_positions, vocab_size ...
 *     model.safetensors      the weights
 *     vocab.json, merges.txt the tokenizer (tok/bpe.h reads them; both or neither)
 *
 * safetensors is 8 bytes of little-endian header length N, N bytes of JSON, then the data:
 *
 *     {"wte.weight": {"dtype": "F32", "shape": [50257, 768], "data_offsets": [0, 154389504]},
 *      ..., "__metadata__": {"format": "pt"}}
 *
 * each tensor row-major and little-endian at [begin, end) bytes from the start of the data.
 * The header is parsed with yajl (through lib/json) and checked whole before any data is
 * read: every entry well formed with a known dtype, a size that matches its shape, and
 * the tensors tiling the data exactly (no gap, no overlap, nothing after the last one),
 * as the safetensors format requires, so a truncated file is caught up front.
 *
 * GPT-2's names and layouts are runnel's gpt's (nn/params.h), Conv1D weights (in, out)
 * included, so tensors are matched by name and shape.  Real checkpoints carry extras that
 * are accepted: a "transformer." prefix on every name, the causal-mask buffers
 * h.N.attn.bias and h.N.attn.masked_bias (skipped), and lm_head.weight, which must equal
 * wte.weight (runnel's head is tied to the embedding).  Weights in F32 are read as they
 * are; F16, BF16 and F64 are converted to float32.
 *
 * Everything wrong with the input dies with exit 65 naming the file and the tensor or key
 * (a missing file 66). */
#ifndef RUNNEL_MODEL_HF_H
#define RUNNEL_MODEL_HF_H

#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"
#include "nn/params.h"
#include "tok/bpe.h"

enum {
    ST_MAX_DIMS = 8,
    ST_MAX_HEADER = 100 << 20, /* the safetensors format's own limit on N */
};

/* The dtypes of the safetensors format, with their sizes in bytes. */
typedef enum {
    ST_F64, ST_F32, ST_F16, ST_BF16, ST_I64, ST_I32, ST_I16, ST_I8, ST_U64, ST_U32, ST_U16,
    ST_U8, ST_BOOL, ST_F8_E4M3, ST_F8_E5M2, ST_N_DTYPES
} st_dtype;

typedef struct {
    char *name;      /* as in the file */
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t count;  /* elements */
    uint64_t begin, end; /* bytes from the start of the data */
} st_tensor;

/* An open safetensors file.  Its fields are public so that a harness can clean up after a
 * failure: st_close() is safe on a file that died half-way (zero it before st_open). */
typedef struct {
    int fd;             /* -1 when none */
    bool own_fd;        /* opened by st_open() */
    char *name;         /* for messages */
    uint64_t data_start; /* 8 + N */
    uint64_t data_len;  /* bytes after the header */
    st_tensor *t;       /* (n) in the order of the header */
    int n;
    char *header;       /* the header's JSON while it is parsed */
} st_file;

/* Open path (a missing file exits 66) and read and check its header. */
void st_open(st_file *f, const char *path);
/* The same from a descriptor positioned anywhere (read with pread); name is for messages. */
void st_open_fd(st_file *f, int fd, const char *name);
/* Index of the tensor named name, or -1. */
int st_find(const st_file *f, const char *name);
/* Tensor i as float32 into dst (t[i].count elements), converted from F16, BF16 or F64;
 * another dtype exits 65. */
void st_read_f32(const st_file *f, int i, float *dst);
void st_close(st_file *f);

/* IEEE half and bfloat16 bit patterns as float32 (exact: every value is representable). */
float st_f16_to_f32(uint16_t h);
float st_bf16_to_f32(uint16_t b);

/* The model_config of a GPT-2 config.json (arch "gpt", finished).  Refused with exit 65:
 * a model_type other than "gpt2", a layer_norm_epsilon other than 1e-5, an activation
 * other than the tanh GELU ("gelu_new", "gelu_pytorch_tanh"), attention scaled otherwise
 * than by 1/sqrt(head size), cross-attention, sizes missing or out of range. */
void hf_config_read(const char *path, model_config *cfg);

/* Read the weights of a gpt model from f into ps (declared by model_new() on the config
 * that goes with f): every tensor of ps exactly once with its shape, the extras above
 * accepted, anything else refused. */
void hf_read_gpt2(st_file *f, param_set *ps);

/* A gpt model from the folder dir, with its tokenizer in *tok (NULL when the folder has
 * neither vocab.json nor merges.txt). */
model *hf_load(const char *dir, bpe_t **tok);

#endif
