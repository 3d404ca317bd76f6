/* Fuzz the two tokenizer loaders.  The first byte picks one: even, the rest is a msgpack
 * model for tok_unpack(); odd, the rest is vocab.json, a NUL byte, and merges.txt for
 * gpt2_parse().  Bad data must end in die() (diverted here into a longjmp), never in a
 * crash or a hang.  A model that loads must turn the input's own bytes into tokens and
 * back unchanged, with and without special tokens, and pack into the same model again. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "tok/bpe.h"

static jmp_buf on_die;

static void exit_hook(int code) { longjmp(on_die, code ? code : -1); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    err_set_exit_hook(exit_hook);
    return 0;
}

/* Buffers that live across runs, so that a die() in the middle leaks nothing. */
static u32vec ids;
static char *back;
static size_t back_cap;

static void check_round_trip(bpe_t *m, const char *text, size_t len)
{
    for (int allow = 0; allow < 2; allow++) {
        ids.n = 0;
        tok_encode(m, text, len, allow, &ids);
        size_t n = 0;
        tok_decode(m, ids.v, ids.n, &back, &n, &back_cap);
        if (n != len || (len && memcmp(back, text, len) != 0))
            abort();
    }
}

static void check_repack(const bpe_t *m)
{
    msgpack_sbuffer a, b;
    msgpack_packer pk;
    msgpack_sbuffer_init(&a);
    msgpack_packer_init(&pk, &a, msgpack_sbuffer_write);
    tok_pack(m, &pk);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, a.data, a.size, NULL) != MSGPACK_UNPACK_SUCCESS)
        abort();
    bpe_t *again = tok_unpack(&u.data, "repacked");
    msgpack_sbuffer_init(&b);
    msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
    tok_pack(again, &pk);
    if (a.size != b.size || memcmp(a.data, b.data, a.size) != 0)
        abort();
    tok_free(again);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* msgpack-c allocates room for the elements an array or map claims before reading them,
 * so a 5-byte input can ask for gigabytes, which libFuzzer counts as a crash.  True when
 * the objects still to be read never outnumber the bytes left. */
static bool sizes_plausible(const uint8_t *p, size_t n)
{
    static const uint8_t fixed[0x20] = {/* 0xc0 .. 0xdf: bytes after the type byte */
        0, 0, 0, 0, 1, 2, 4, 1, 2, 4, 4, 8, 1, 2, 4, 8,
        1, 2, 4, 8, 2, 3, 5, 9, 17, 1, 2, 4, 2, 4, 2, 4};
    uint64_t pending = 1;
    for (size_t i = 0; pending && i < n; pending--) {
        uint8_t t = p[i++];
        uint64_t count = 0, skip = 0;
        if (t >= 0x80 && t <= 0x8f)
            count = 2 * (t & 0x0f);
        else if (t >= 0x90 && t <= 0x9f)
            count = t & 0x0f;
        else if (t >= 0xa0 && t <= 0xbf)
            skip = t & 0x1f;
        else if (t >= 0xc0 && t <= 0xdf) {
            int h = fixed[t - 0xc0];
            if (h > (int)(n - i))
                return true; /* truncated: msgpack-c says so without allocating */
            switch (t) {
            case 0xc4: case 0xc5: case 0xc6: case 0xd9: case 0xda: case 0xdb:
                skip = be(p + i, h); break;
            case 0xc7: case 0xc8: case 0xc9: skip = be(p + i, h) + 1; break;
            case 0xdc: case 0xdd: count = be(p + i, h); break;
            case 0xde: case 0xdf: count = 2 * be(p + i, h); break;
            }
            i += (size_t)h;
        }
        i += skip < n - i ? skip : n - i;
        pending += count;
        if (pending - 1 > n - i)
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    /* static: they are read after a longjmp back here */
    static msgpack_unpacked u;
    static bpe_t *m;
    static enum { LOADING, ENCODING, REPACKING } stage;
    msgpack_unpacked_init(&u);
    m = NULL;
    stage = LOADING;
    if (setjmp(on_die) != 0) {
        /* Loading may fail, and encoding when a pattern exceeds its match limit on this
         * text; a loaded model that does not load again once packed is a bug. */
        if (stage == REPACKING)
            abort();
    } else {
        if (data[0] % 2 == 0) {
            if (sizes_plausible(data + 1, len) &&
                msgpack_unpack_next(&u, in, len, NULL) == MSGPACK_UNPACK_SUCCESS)
                m = tok_unpack(&u.data, "<fuzz>");
        } else {
            const char *nul = memchr(in, 0, len);
            size_t vlen = nul ? (size_t)(nul - in) : len;
            m = gpt2_parse(in, vlen, "vocab.json", in + vlen + !!nul, len - vlen - !!nul,
                           "merges.txt");
        }
        if (m) {
            stage = ENCODING;
            check_round_trip(m, in, len);
            stage = REPACKING;
            check_repack(m);
        }
    }
    tok_free(m);
    msgpack_unpacked_destroy(&u);
    return 0;
}
