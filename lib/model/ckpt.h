/* ckpt: a model in one file, and the training state that lets a run resume.
 *
 * A checkpoint is a tar archive (ustar, pax headers only for names over 100 bytes; every
 * member dated 0, owned by 0, mode 0644, so the same model gives the same bytes), whose
 * members are, in this order:
 *
 *     config.mp              the model_config as a msgpack map, with "format":"runnel-ckpt"
 *                            and "version":1 (always the first member)
 *     tokenizer.mp           the tokenizer model, one msgpack map (tok_pack), optional
 *     state/train.mp         the trainer's state (lib/train), optional
 *     tensors/NAME           every tensor of the model, in declaration order, as raw
 *                            little-endian float32 (outermost dimension first)
 *     state/adam_m/NAME      AdamW's first and second moments of every tensor that learns,
 *     state/adam_v/NAME      optional (both or neither)
 *
 * so `tar tvf` lists the tensors and `tar xOf CKPT tensors/wte.weight` extracts one.
 * Writing is atomic (a temporary file renamed into place); model/tarfile.h writes and
 * reads the archive, as it does adapter files.  Reading checks everything and stops at the
 * first problem with exit 65, naming the file and the member: not a tar archive,
 * truncated, an unknown or repeated member, a tensor missing or of the wrong size, an
 * unknown architecture or a bad configuration, half the optimizer state.
 *
 * Reading is in two steps, because the tensors are read straight into the model's slab:
 *
 *     ckpt_reader r;
 *     ckpt_open(&r, path);        // config.mp, tokenizer.mp, state/train.mp
 *     model *m = model_new(&r.cfg);
 *     ckpt_read(&r, model_params(m), NULL, NULL);   // or the AdamW moments to resume
 *     ckpt_close(&r);
 *
 * so the small members must come before the tensors, as ckpt_write() puts them.
 *
 * The reader's fields are public so that a harness can clean up after a failure:
 * ckpt_close() is safe on a reader that died half-way (zero it before ckpt_open). */
#ifndef RUNNEL_MODEL_CKPT_H
#define RUNNEL_MODEL_CKPT_H

#include <stdbool.h>
#include <stddef.h>

#include "model/model.h"
#include "model/tarfile.h"
#include "nn/params.h"

enum { CKPT_VERSION = 1 };

/* What goes into a checkpoint; every pointer but cfg and params may be NULL. */
typedef struct {
    const model_config *cfg;
    const param_set *params;
    const void *tokenizer;   /* msgpack bytes of the tokenizer model */
    size_t tokenizer_len;
    const void *train_state; /* msgpack bytes of the trainer's state */
    size_t train_state_len;
    const float *adam_m, *adam_v; /* moment slabs shaped like params->w */
} ckpt_contents;

/* Write atomically; dies with EX_CANTCREAT or EX_IOERR. */
void ckpt_write(const char *path, const ckpt_contents *c);

typedef struct {
    tar_reader tar;      /* the archive; after ckpt_open, at the first tensor (member NULL
                          * when there is none) */
    int fd;              /* opened by ckpt_open(), -1 when given by the caller */
    char *name;          /* for messages */
    model_config cfg;    /* from config.mp, finished and checked */
    char *tokenizer;     /* tokenizer.mp, or NULL */
    size_t tokenizer_len;
    char *train_state;   /* state/train.mp, or NULL */
    size_t train_state_len;
    bool has_moments;    /* state/adam_m and state/adam_v were present */
    unsigned char *seen; /* (3 n) tensors, first and second moments read so far */
} ckpt_reader;

/* Open a checkpoint file (a missing file exits 66) and read its small members. */
void ckpt_open(ckpt_reader *r, const char *path);
/* The same from an open descriptor, read from its current offset; name is for messages. */
void ckpt_open_fd(ckpt_reader *r, int fd, const char *name);
/* Read the tensors into ps->w (ps declared by model_new(&r->cfg)), and the moments into
 * adam_m and adam_v (slabs like ps->w) when they are not NULL (else they are checked and
 * skipped). */
void ckpt_read(ckpt_reader *r, param_set *ps, float *adam_m, float *adam_v);
/* Free everything the reader holds; the reader may have failed anywhere. */
void ckpt_close(ckpt_reader *r);

/* A model from a checkpoint file, for inference: open, build, read the weights.  The
 * reader stays open for its tokenizer; close it when done. */
model *ckpt_load(ckpt_reader *r, const char *path);

#endif
