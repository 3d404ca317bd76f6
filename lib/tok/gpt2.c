/* GPT-2's vocab.json and merges.txt.  Both spell tokens in the alphabet of GPT-2's
 * bytes_to_unicode(), where each byte is one printable character: printable Latin-1
 * bytes stand for themselves and the other 68 bytes (controls, space, DEL, NBSP, soft
 * hyphen) for U+0100 onwards, in byte order, so a space is "Ġ" (U+0120).  GPT-2's ids
 * 0..255 are these characters in the order bytes_to_unicode() lists them (the printable
 * ones first), and merge i of merges.txt makes id 256+i. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>
#include <zlib.h>

#include "base/err.h"
#include "base/outfile.h"
#include "tok/bpe.h"
#include "tok/pretok.h"
#include "tok/table.h"

static bool printable(unsigned b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 255 && b != 173); }

uint32_t gpt2_char_of_byte(uint8_t b)
{
    if (printable(b))
        return b;
    if (b <= 32)
        return 256 + b;
    if (b <= 160)
        return 256 + 33 + (b - 127);
    return 256 + 33 + 34; /* 173 */
}

/* The byte character cp stands for, or -1. */
static int byte_of_char(uint32_t cp)
{
    if (cp < 256)
        return printable(cp) ? (int)cp : -1;
    if (cp < 256 + 33)
        return (int)(cp - 256);
    if (cp < 256 + 33 + 34)
        return (int)(cp - 256 - 33 + 127);
    return cp == 256 + 33 + 34 ? 173 : -1;
}

/* Decode a token spelled in the byte alphabet into bytes (out holds len bytes at least);
 * the number of bytes, or -1 if s is not such a spelling.  The alphabet lies below
 * U+0144, so only 1- and 2-byte UTF-8 sequences can belong to it. */
static long decode_spelling(const char *s, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        if (p[i] < 0x80) {
            cp = p[i++];
        } else if ((p[i] & 0xe0) == 0xc0 && i + 1 < len && (p[i + 1] & 0xc0) == 0x80) {
            cp = (uint32_t)(p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f);
            if (cp < 0x80)
                return -1;
            i += 2;
        } else {
            return -1;
        }
        int b = byte_of_char(cp);
        if (b < 0)
            return -1;
        out[n++] = (char)b;
    }
    return n;
}

/* Append the spelling of bytes t[len] to out (2 bytes per input byte at most). */
static size_t spell(const char *t, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t cp = gpt2_char_of_byte((uint8_t)t[i]);
        if (cp < 0x80) {
            out[n++] = (char)cp;
        } else {
            out[n++] = (char)(0xc0 | cp >> 6);
            out[n++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    return n;
}

/* ---- import ---- */

/* The state of reading vocab.json and merges.txt; everything in it is freed on every exit. */
typedef struct {
    strmap keys;      /* vocab.json's token spellings */
    uint64_t *id;     /* (keys.n) the id of each */
    size_t cap_id;
    int depth;
    bool have_key;
    uint32_t key;     /* the key awaiting its value */
    uint32_t *key_of_id;
    tok_pair *merges;
    tok_str *special;
    char *bytes;      /* decoded spellings */
    char err[256];
} gpt2_reading;

static bool bad(gpt2_reading *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(gpt2_reading *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    return false;
}

static void free_reading(gpt2_reading *g)
{
    strmap_free(&g->keys);
    free(g->id);
    free(g->key_of_id);
    free(g->merges);
    free(g->special);
    free(g->bytes);
}

static int not_an_id(void *ctx) { return bad(ctx, "expected an object mapping tokens to ids"); }
static int not_an_id_b(void *ctx, int b) { (void)b; return not_an_id(ctx); }
static int not_an_id_d(void *ctx, double d) { (void)d; return not_an_id(ctx); }
static int not_an_id_s(void *ctx, const unsigned char *s, size_t n)
{
    (void)s, (void)n;
    return not_an_id(ctx);
}

static int on_start_map(void *ctx)
{
    gpt2_reading *g = ctx;
    return g->depth++ == 0 ? 1 : not_an_id(ctx);
}

static int on_end_map(void *ctx)
{
    ((gpt2_reading *)ctx)->depth--;
    return 1;
}

static int on_key(void *ctx, const unsigned char *s, size_t n)
{
    gpt2_reading *g = ctx;
    bool added;
    g->key = strmap_add(&g->keys, s, n, &added);
    if (!added)
        return bad(g, "token \"%.*s\" appears twice", (int)(n < 64 ? n : 64), (const char *)s);
    g->have_key = true;
    return 1;
}

static int on_integer(void *ctx, long long v)
{
    gpt2_reading *g = ctx;
    if (!g->have_key)
        return not_an_id(ctx);
    if (v < 0 || v >= TOK_MAX_VOCAB)
        return bad(g, "id %lld is out of range", v);
    if (g->key >= g->cap_id) {
        g->cap_id = 2 * (g->key + 1);
        g->id = xrealloc(g->id, g->cap_id * sizeof *g->id);
    }
    g->id[g->key] = (uint64_t)v;
    g->have_key = false;
    return 1;
}

static const yajl_callbacks vocab_callbacks = {
    .yajl_null = not_an_id,
    .yajl_boolean = not_an_id_b,
    .yajl_integer = on_integer,
    .yajl_double = not_an_id_d,
    .yajl_string = not_an_id_s,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = not_an_id,
    .yajl_end_array = not_an_id,
};

static bool read_vocab(gpt2_reading *g, const char *text, size_t len)
{
    yajl_handle h = yajl_alloc(&vocab_callbacks, NULL, g);
    yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    if (st == yajl_status_error) {
        unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)text, len);
        size_t n = strlen((const char *)msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            n--;
        bad(g, "not valid JSON: %.*s", (int)n, (const char *)msg);
        yajl_free_error(h, msg);
    }
    yajl_free(h);
    if (st != yajl_status_ok)
        return false;
    uint32_t n = g->keys.n;
    if (n < 256)
        return bad(g, "%u tokens, expected at least the 256 bytes", n);
    g->key_of_id = xmalloc(n * sizeof *g->key_of_id);
    memset(g->key_of_id, 0xff, n * sizeof *g->key_of_id);
    for (uint32_t k = 0; k < n; k++) {
        size_t klen;
        const char *key = strmap_key(&g->keys, k, &klen);
        if (g->id[k] >= n)
            return bad(g, "token \"%.*s\" has id %llu, but ids must run from 0 to %u",
                       (int)(klen < 64 ? klen : 64), key, (unsigned long long)g->id[k], n - 1);
        if (g->key_of_id[g->id[k]] != UINT32_MAX)
            return bad(g, "two tokens have id %llu", (unsigned long long)g->id[k]);
        g->key_of_id[g->id[k]] = k;
    }
    return true;
}

/* The id of the spelling s[len] in vocab.json, or UINT32_MAX. */
static uint32_t id_of(const gpt2_reading *g, const char *s, size_t len)
{
    uint32_t k = strmap_find(&g->keys, s, len);
    return k == STRMAP_NONE ? UINT32_MAX : (uint32_t)g->id[k];
}

static bool read_merges(gpt2_reading *g, const char *text, size_t len, uint32_t *n_merges)
{
    uint32_t n_vocab = g->keys.n;
    g->merges = xmalloc(n_vocab * sizeof *g->merges);
    char *joined = NULL;
    size_t cap = 0;
    uint32_t i = 0;
    size_t line = 0;
    bool ok = true;
    for (size_t pos = 0; pos < len && ok; line++) {
        const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + 1;
        if (line == 0 && n >= 8 && memcmp(s, "#version", 8) == 0)
            continue;
        if (n == 0 && pos >= len)
            break;
        const char *sp = memchr(s, ' ', n);
        if (!sp || sp == s || sp == s + n - 1 || memchr(sp + 1, ' ', (size_t)(s + n - sp - 1)))
            ok = bad(g, "line %zu: expected two tokens separated by one space", line + 1);
        else if (256 + i >= n_vocab)
            ok = bad(g, "line %zu: more merges than vocab.json has tokens for", line + 1);
        if (!ok)
            break;
        size_t la = (size_t)(sp - s), lb = n - la - 1;
        uint32_t a = id_of(g, s, la), b = id_of(g, sp + 1, lb);
        if (a == UINT32_MAX || b == UINT32_MAX) {
            ok = bad(g, "line %zu: \"%.*s\" is not in vocab.json", line + 1,
                     (int)(a == UINT32_MAX ? la : lb), a == UINT32_MAX ? s : sp + 1);
            break;
        }
        if (la + lb > cap) {
            cap = 2 * (la + lb);
            joined = xrealloc(joined, cap);
        }
        memcpy(joined, s, la);
        memcpy(joined + la, sp + 1, lb);
        uint32_t z = id_of(g, joined, la + lb);
        if (z != 256 + i) {
            if (z == UINT32_MAX)
                ok = bad(g, "line %zu: the result \"%.*s\" is not in vocab.json", line + 1,
                         (int)(la + lb), joined);
            else
                ok = bad(g, "line %zu: the result has id %u; merge %u must make id %u",
                         line + 1, z, i, 256 + i);
            break;
        }
        g->merges[i++] = (tok_pair){a, b};
    }
    free(joined);
    *n_merges = i;
    return ok;
}

/* Everything after the merges' results is a special token, taken literally. */
static bool read_tokens(gpt2_reading *g, uint32_t n_merges, uint8_t byte_of_id[256])
{
    uint32_t n = g->keys.n, first = 256 + n_merges;
    g->bytes = xmalloc(g->keys.nbytes + 1);
    for (uint32_t id = 0; id < 256; id++) {
        size_t len;
        const char *key = strmap_key(&g->keys, g->key_of_id[id], &len);
        if (decode_spelling(key, len, g->bytes) != 1)
            return bad(g, "token %u, \"%.*s\", is not a single byte's character", id,
                       (int)(len < 64 ? len : 64), key);
        byte_of_id[id] = (uint8_t)g->bytes[0];
    }
    g->special = xcalloc(n - first + 1, sizeof *g->special);
    for (uint32_t id = first; id < n; id++) {
        size_t len;
        const char *key = strmap_key(&g->keys, g->key_of_id[id], &len);
        g->special[id - first] = (tok_str){key, len};
    }
    return true;
}

bpe_t *gpt2_parse(const char *vocab, size_t vocab_len, const char *vocab_name,
                  const char *merges, size_t merges_len, const char *merges_name)
{
    gpt2_reading g = {0};
    uint8_t byte_of_id[256];
    uint32_t n_merges = 0;
    const char *where = vocab_name;
    bpe_t *m = NULL;
    if (read_vocab(&g, vocab, vocab_len)) {
        where = merges_name;
        if (read_merges(&g, merges, merges_len, &n_merges)) {
            where = vocab_name;
            if (read_tokens(&g, n_merges, byte_of_id))
                m = tok_new(byte_of_id, g.merges, n_merges, g.special, g.keys.n - 256 - n_merges,
                            PRETOK_GPT2, g.err, sizeof g.err);
        }
    }
    char err[sizeof g.err];
    memcpy(err, g.err, sizeof err);
    free_reading(&g);
    if (!m)
        die(EX_DATAERR, "%s: %s", where, err);
    return m;
}

/* The whole of a file, gzip or plain. */
static char *slurp(const char *path, size_t *len)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        die(errno == ENOENT || errno == EACCES ? EX_NOINPUT : EX_IOERR, "%s: cannot open: %s",
            path, strerror(errno));
    size_t cap = 1 << 16;
    char *buf = xmalloc(cap);
    *len = 0;
    for (;;) {
        if (*len == cap)
            buf = xrealloc(buf, cap *= 2);
        unsigned want = cap - *len > (1u << 30) ? 1u << 30 : (unsigned)(cap - *len);
        int n = gzread(gz, buf + *len, want);
        if (n < 0) {
            int code;
            die(EX_DATAERR, "%s: cannot read: %s", path, gzerror(gz, &code));
        }
        if (n == 0)
            break;
        *len += (size_t)n;
    }
    gzclose(gz);
    return buf;
}

bpe_t *gpt2_import(const char *vocab_path, const char *merges_path)
{
    size_t vlen, mlen;
    char *vocab = slurp(vocab_path, &vlen), *merges = slurp(merges_path, &mlen);
    bpe_t *m = gpt2_parse(vocab, vlen, vocab_path, merges, mlen, merges_path);
    free(vocab);
    free(merges);
    return m;
}

/* ---- export ---- */

void gpt2_export(const bpe_t *m, const char *vocab_path, const char *merges_path)
{
    if (strcmp(m->pattern, PRETOK_GPT2) != 0)
        warnx("%s: the model's pattern is not GPT-2's, and these files do not record it",
              vocab_path);
    size_t max_len = 0;
    for (uint32_t id = 0; id < m->n_vocab; id++)
        if (m->start[id + 1] - m->start[id] > max_len)
            max_len = m->start[id + 1] - m->start[id];
    char *sp = xmalloc(2 * max_len + 2);

    yajl_gen gen = yajl_gen_alloc(NULL);
    yajl_gen_config(gen, yajl_gen_validate_utf8, 1);
    yajl_gen_map_open(gen);
    strmap seen = {0};
    for (uint32_t id = 0; id < m->n_vocab; id++) {
        size_t len;
        const char *t = tok_bytes(m, id, &len);
        if (id < tok_first_special(m)) {
            len = spell(t, len, sp);
            t = sp;
        }
        bool added;
        uint32_t k = strmap_add(&seen, t, len, &added);
        if (!added)
            die(EX_DATAERR, "%s: token %u is spelled \"%.*s\" like token %u", vocab_path, id,
                (int)len, t, k);
        if (yajl_gen_string(gen, (const unsigned char *)t, len) != yajl_gen_status_ok)
            die(EX_DATAERR, "%s: special token %u is not valid UTF-8, which JSON cannot hold",
                vocab_path, id);
        yajl_gen_integer(gen, id);
    }
    yajl_gen_map_close(gen);
    strmap_free(&seen);
    const unsigned char *json;
    size_t json_len;
    yajl_gen_get_buf(gen, &json, &json_len);

    outfile *vf = outfile_open(vocab_path), *mf = outfile_open(merges_path);
    write_all(outfile_fd(vf), json, json_len, vocab_path);
    yajl_gen_free(gen);
    msgpack_sbuffer buf; /* a byte buffer */
    msgpack_sbuffer_init(&buf);
    msgpack_sbuffer_write(&buf, "#version: 0.2\n", 14);
    for (uint32_t i = 0; i < m->n_merges; i++) {
        size_t la, lb;
        const char *a = tok_bytes(m, m->merges[i].left, &la), *b = tok_bytes(m, m->merges[i].right, &lb);
        size_t n = spell(a, la, sp);
        msgpack_sbuffer_write(&buf, sp, n);
        msgpack_sbuffer_write(&buf, " ", 1);
        n = spell(b, lb, sp);
        sp[n++] = '\n';
        msgpack_sbuffer_write(&buf, sp, n);
    }
    write_all(outfile_fd(mf), buf.data, buf.size, merges_path);
    msgpack_sbuffer_destroy(&buf);
    free(sp);
    outfile_commit(vf);
    outfile_commit(mf);
}
