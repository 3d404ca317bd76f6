#include "train/lm.h"

#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "model/tarfile.h"
#include "train/data.h"

uint32_t lm_eot(const bpe_t *tok)
{
    size_t want = strlen(LM_EOT_TEXT);
    for (uint32_t id = tok_first_special(tok); id < tok->n_vocab; id++) {
        size_t len;
        const char *s = tok_bytes(tok, id, &len);
        if (len == want && memcmp(s, LM_EOT_TEXT, len) == 0)
            return id;
    }
    return TOKENS_NO_EOT;
}

bpe_t *lm_tokenizer(const ckpt_reader *r)
{
    if (!r->tokenizer)
        return NULL;
    char where[600];
    snprintf(where, sizeof where, "%s: member tokenizer.mp", r->name);
    msgpack_unpacked u;
    char msg[64];
    if (!tar_map_unpack(&u, r->tokenizer, r->tokenizer_len, msg, sizeof msg)) {
        msgpack_unpacked_destroy(&u);
        die(EX_DATAERR, "%s: %s", where, msg);
    }
    bpe_t *tok = tok_unpack(&u.data, where);
    msgpack_unpacked_destroy(&u);
    if (tok->n_vocab > (uint32_t)r->cfg.vocab)
        die(EX_DATAERR, "%s: %u tokens, more than the model's vocabulary of %d", where,
            tok->n_vocab, r->cfg.vocab);
    return tok;
}

model *lm_load(const char *path, bpe_t **tok)
{
    ckpt_reader ck;
    model *m = ckpt_load(&ck, path);
    *tok = lm_tokenizer(&ck);
    ckpt_close(&ck);
    return m;
}
