/* Unit tests of lib/tok: learning, encoding, decoding, model files. */
#include <stdint.h>
#include <unistd.h>

#include "base/rng.h"
#include "check.h"
#include "tok/bpe.h"
#include "tok/pretok.h"

static bpe_t *learn_from(const char *const *texts, size_t n, const char *pattern, uint32_t n_vocab,
                         const tok_str *special, uint32_t n_special, uint64_t min_freq)
{
    char err[256];
    tok_learner *l = tok_learner_new(pattern, special, n_special, err, sizeof err);
    CHECK(l != NULL);
    for (size_t i = 0; i < n; i++)
        tok_learner_add(l, texts[i], strlen(texts[i]));
    return tok_learn(l, n_vocab, min_freq);
}

static bool merge_is(const bpe_t *m, uint32_t i, uint32_t left, uint32_t right)
{
    return i < m->n_merges && m->merges[i].left == left && m->merges[i].right == right;
}

/* Wikipedia's example: aaabdaaabac -> ZabdZabac (Z=aa) -> ZYdZYac (Y=ab) -> XdXac (X=ZY).
 * The second step is a tie between (Z,a) and (a,b), both twice; (a,b) has the smaller
 * ids, so it wins, as in the example.  Then every pair occurs once and --min-freq 2 stops. */
static void learn_reproduces_the_classic_example(void)
{
    const char *text[] = {"aaabdaaabac"};
    bpe_t *m = learn_from(text, 1, "", 1000, NULL, 0, 2);
    CHECK_EQ_INT(m->n_merges, 3);
    CHECK(merge_is(m, 0, 'a', 'a'));
    CHECK(merge_is(m, 1, 'a', 'b'));
    CHECK(merge_is(m, 2, 256, 257));
    u32vec ids = {0};
    tok_encode(m, text[0], strlen(text[0]), false, &ids);
    uint32_t want[] = {258, 'd', 258, 'a', 'c'};
    CHECK_EQ_INT(ids.n, 5);
    CHECK(ids.n == 5 && memcmp(ids.v, want, sizeof want) == 0);
    u32vec_free(&ids);
    tok_free(m);
}

/* The Hugging Face course's corpus: hug x10, pug x5, pun x12, bun x4, hugs x5.
 * By hand: ug 20; un 16; h+ug 15; p+un 12; then p+ug and hug+s tie at 5 and (p, ug) has
 * the smaller ids; then b+un 4. */
static void learn_follows_hand_worked_counts(void)
{
    const char *words[] = {"hug", "pug", "pun", "bun", "hugs"};
    int times[] = {10, 5, 12, 4, 5};
    const char *texts[36];
    size_t n = 0;
    for (int w = 0; w < 5; w++)
        for (int k = 0; k < times[w]; k++)
            texts[n++] = words[w];
    bpe_t *m = learn_from(texts, n, PRETOK_GPT2, 256 + 7, NULL, 0, 1);
    CHECK_EQ_INT(m->n_merges, 7);
    CHECK(merge_is(m, 0, 'u', 'g'));
    CHECK(merge_is(m, 1, 'u', 'n'));
    CHECK(merge_is(m, 2, 'h', 256));
    CHECK(merge_is(m, 3, 'p', 257));
    CHECK(merge_is(m, 4, 'p', 256));
    CHECK(merge_is(m, 5, 258, 's'));
    CHECK(merge_is(m, 6, 'b', 257));
    tok_free(m);
}

static void pack_to(const bpe_t *m, msgpack_sbuffer *buf)
{
    msgpack_sbuffer_init(buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, msgpack_sbuffer_write);
    tok_pack(m, &pk);
}

static bool same_model(const bpe_t *a, const bpe_t *b)
{
    msgpack_sbuffer x, y;
    pack_to(a, &x);
    pack_to(b, &y);
    bool same = x.size == y.size && memcmp(x.data, y.data, x.size) == 0;
    msgpack_sbuffer_destroy(&x);
    msgpack_sbuffer_destroy(&y);
    return same;
}

/* Random text over a small alphabet: long runs and repeats exercise overlapping merges. */
static void random_text(rng_t *r, char *s, size_t n, const char *alphabet)
{
    size_t k = strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        s[i] = alphabet[rng_below(r, k)];
    s[n] = 0;
}

/* Counts do not depend on the order of the texts, and ties are broken by ids, so the same
 * texts in another order give the same model, byte for byte. */
static void learn_is_deterministic_and_order_free(void)
{
    enum { N = 200 };
    static char buf[N][81];
    const char *fwd[N], *rev[N];
    rng_t r;
    rng_seed(&r, 1);
    for (int i = 0; i < N; i++) {
        random_text(&r, buf[i], 80, "aab c  d,e\n");
        fwd[i] = buf[i];
        rev[N - 1 - i] = buf[i];
    }
    tok_str sp[] = {{"<|endoftext|>", 13}};
    bpe_t *a = learn_from(fwd, N, PRETOK_GPT2, 600, sp, 1, 2);
    bpe_t *b = learn_from(fwd, N, PRETOK_GPT2, 600, sp, 1, 2);
    bpe_t *c = learn_from(rev, N, PRETOK_GPT2, 600, sp, 1, 2);
    CHECK(a->n_merges > 100);
    CHECK(same_model(a, b));
    CHECK(same_model(a, c));
    tok_free(a);
    tok_free(b);
    tok_free(c);
}

/* GPT-2's merge loop, written the slow obvious way: find the adjacent pair of lowest rank,
 * merge every occurrence of it left to right, repeat. */
static void naive_encode(const bpe_t *m, const uint32_t *rank, const char *s, size_t n, u32vec *out)
{
    uint32_t *t = xmalloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = m->id_of_byte[(unsigned char)s[i]];
    for (;;) {
        uint32_t best = UINT32_MAX;
        for (size_t i = 0; i + 1 < n; i++) {
            uint32_t rk = rank[t[i] * m->n_vocab + t[i + 1]];
            if (rk < best)
                best = rk;
        }
        if (best == UINT32_MAX)
            break;
        size_t k = 0;
        for (size_t i = 0; i < n;)
            if (i + 1 < n && t[i] == m->merges[best].left && t[i + 1] == m->merges[best].right) {
                t[k++] = 256 + best;
                i += 2;
            } else {
                t[k++] = t[i++];
            }
        n = k;
    }
    out->n = 0;
    for (size_t i = 0; i < n; i++)
        u32vec_push(out, t[i]);
    free(t);
}

static void encode_matches_the_naive_merge_loop(void)
{
    enum { N = 60, LEN = 300 };
    static char buf[N][LEN + 1];
    const char *texts[N];
    rng_t r;
    rng_seed(&r, 2);
    for (int i = 0; i < N; i++) {
        random_text(&r, buf[i], LEN, "aaaabbc");
        texts[i] = buf[i];
    }
    bpe_t *m = learn_from(texts, N, "", 700, NULL, 0, 2); /* one chunk per text */
    CHECK(m->n_merges > 300);
    uint32_t *rank = xmalloc((size_t)m->n_vocab * m->n_vocab * sizeof *rank);
    memset(rank, 0xff, (size_t)m->n_vocab * m->n_vocab * sizeof *rank);
    for (uint32_t i = 0; i < m->n_merges; i++)
        rank[m->merges[i].left * m->n_vocab + m->merges[i].right] = i;
    u32vec got = {0}, want = {0};
    int mismatches = 0;
    for (int k = 0; k < 200; k++) {
        char s[LEN + 1];
        random_text(&r, s, 1 + rng_below(&r, LEN), "aaaabbcd");
        got.n = 0;
        tok_encode(m, s, strlen(s), false, &got);
        naive_encode(m, rank, s, strlen(s), &want);
        mismatches += got.n != want.n || memcmp(got.v, want.v, got.n * sizeof *got.v) != 0;
    }
    CHECK_EQ_INT(mismatches, 0);
    free(rank);
    u32vec_free(&got);
    u32vec_free(&want);
    tok_free(m);
}

/* Any bytes at all, NULs and invalid UTF-8 included, come back unchanged. */
static void encode_then_decode_is_exact_for_any_bytes(void)
{
    enum { N = 100 };
    static char buf[N][201];
    const char *texts[N];
    rng_t r;
    rng_seed(&r, 3);
    for (int i = 0; i < N; i++) {
        random_text(&r, buf[i], 200, "the cat sat on a mat, 12 \xc3\xa9t\xc3\xa9\n\xe4\xb8\xad");
        texts[i] = buf[i];
    }
    tok_str sp[] = {{"<|endoftext|>", 13}};
    const char *patterns[] = {PRETOK_GPT2, PRETOK_GPT4, ""};
    for (int p = 0; p < 3; p++) {
        bpe_t *m = learn_from(texts, N, patterns[p], 500, sp, 1, 2);
        u32vec ids = {0};
        char *out = NULL;
        size_t cap = 0;
        int bad = 0;
        for (int k = 0; k < 500; k++) {
            char s[400];
            size_t n = rng_below(&r, sizeof s);
            for (size_t i = 0; i < n; i++) /* bytes, words, and pieces of UTF-8 */
                s[i] = rng_below(&r, 2) ? (char)rng_below(&r, 256) : buf[k % N][i % 200];
            if (k % 10 == 0 && n > 20)
                memcpy(s + 5, "<|endoftext|>", 13);
            for (int allow = 0; allow < 2; allow++) {
                ids.n = 0;
                tok_encode(m, s, n, allow, &ids);
                size_t len = 0;
                tok_decode(m, ids.v, ids.n, &out, &len, &cap);
                bad += len != n || (n && memcmp(out, s, n) != 0);
            }
        }
        CHECK_EQ_INT(bad, 0);
        free(out);
        u32vec_free(&ids);
        tok_free(m);
    }
}

static bool contains(const u32vec *ids, uint32_t id)
{
    for (size_t i = 0; i < ids->n; i++)
        if (ids->v[i] == id)
            return true;
    return false;
}

static void special_tokens_only_when_allowed(void)
{
    const char *texts[] = {"hello world", "hello there", "<|endoftext|> world"};
    tok_str sp[] = {{"<|endoftext|>", 13}, {"<|end|>", 7}, {"<|end|>x", 8}};
    bpe_t *m = learn_from(texts, 3, PRETOK_GPT2, 270, sp, 3, 1);
    uint32_t eot = tok_first_special(m), end = eot + 1, endx = eot + 2;
    CHECK_EQ_INT(m->n_vocab, 270);
    const char *s = "hi<|endoftext|>there<|end|>x<|end|>";
    u32vec ids = {0};
    tok_encode(m, s, strlen(s), false, &ids);
    CHECK(!contains(&ids, eot) && !contains(&ids, end) && !contains(&ids, endx));
    ids.n = 0;
    tok_encode(m, s, strlen(s), true, &ids);
    /* the leftmost special wins, and the longest of those starting at the same byte */
    int seen_eot = 0, seen_end = 0, seen_endx = 0;
    for (size_t i = 0; i < ids.n; i++) {
        seen_eot += ids.v[i] == eot;
        seen_end += ids.v[i] == end;
        seen_endx += ids.v[i] == endx;
    }
    CHECK_EQ_INT(seen_eot, 1);
    CHECK_EQ_INT(seen_endx, 1);
    CHECK_EQ_INT(seen_end, 1);
    CHECK_EQ_INT(ids.v[ids.n - 1], end);
    ids.n = 0;
    tok_encode(m, "<|endoftext|>", 13, true, &ids);
    CHECK(ids.n == 1 && ids.v[0] == eot);
    u32vec_free(&ids);
    tok_free(m);
    /* a special that is one byte, or given twice, cannot be a token */
    char err[64];
    CHECK(!tok_learner_new("", (tok_str[]){{"x", 1}}, 1, err, sizeof err));
    CHECK(strstr(err, "single byte") != NULL);
    CHECK(!tok_learner_new("", (tok_str[]){{"<s>", 3}, {"<s>", 3}}, 2, err, sizeof err));
    CHECK(strstr(err, "given twice") != NULL);
    EXPECT_DIE(EX_USAGE, tok_learn(tok_learner_new("", sp, 3, err, sizeof err), 258, 1));
}

typedef struct {
    char out[256];
    size_t n;
} joined;

static void join_chunk(void *ctx, const char *chunk, size_t len)
{
    joined *j = ctx;
    if (j->n)
        j->out[j->n++] = '|';
    memcpy(j->out + j->n, chunk, len);
    j->n += len;
    j->out[j->n] = 0;
}

static const char *split(const char *pattern, const char *text, size_t len, joined *j)
{
    char err[256];
    pretok *p = pretok_new(pattern, err, sizeof err);
    j->n = 0;
    j->out[0] = 0;
    pretok_split(p, text, len, join_chunk, j);
    pretok_free(p);
    return j->out;
}

static void pretok_splits_like_gpt2_and_tiles_any_bytes(void)
{
    joined j;
    const char *s = "Hello world's  123 !!\n\n x";
    CHECK_STR(split(PRETOK_GPT2, s, strlen(s), &j), "Hello| world|'s| | 123| !!|\n\n| x");
    /* invalid UTF-8 is never matched: it becomes chunks of its own */
    CHECK_STR(split(PRETOK_GPT2, "ab\xff\xfe cd", 7, &j), "ab|\xff\xfe| cd");
    CHECK_STR(split(PRETOK_GPT2, "a\xc3", 2, &j), "a|\xc3");
    /* what a pattern leaves out, and empty matches */
    CHECK_STR(split("x*", "axxbx", 5, &j), "a|xx|b|x");
    CHECK_STR(split("[a-z]+", "ab, cd", 6, &j), "ab|, |cd");
    CHECK_STR(split("", "a b", 3, &j), "a b");
    char err[256];
    CHECK(pretok_new("(", err, sizeof err) == NULL);
    CHECK(strstr(err, "does not compile") != NULL);
    /* NUL is an ordinary character */
    CHECK(memcmp(split(PRETOK_GPT2, "a\0b", 3, &j), "a|\0|b", 5) == 0 && j.n == 5);
}

static void gpt2_alphabet_matches_bytes_to_unicode(void)
{
    CHECK_EQ_INT(gpt2_char_of_byte('!'), '!');
    CHECK_EQ_INT(gpt2_char_of_byte(' '), 0x120); /* "Ġ" */
    CHECK_EQ_INT(gpt2_char_of_byte('\n'), 0x10a); /* "Ċ" */
    CHECK_EQ_INT(gpt2_char_of_byte(0), 0x100);
    CHECK_EQ_INT(gpt2_char_of_byte(127), 0x121);
    CHECK_EQ_INT(gpt2_char_of_byte(173), 0x143);
    CHECK_EQ_INT(gpt2_char_of_byte(174), 174);
}

static bool encodes_to(bpe_t *m, const char *text, bool allow_special, const uint32_t *want,
                       size_t n)
{
    u32vec ids = {0};
    tok_encode(m, text, strlen(text), allow_special, &ids);
    bool same = ids.n == n && memcmp(ids.v, want, n * sizeof *want) == 0;
    u32vec_free(&ids);
    return same;
}

/* GPT-2's own files give GPT-2's published ids (run from the repository root, as
 * tests/run does; tests/ref/gpt2/gpt2_ref.py made vocab.json.gz from the merges). */
static void gpt2_import_gives_gpt2_ids(void)
{
    bpe_t *m = gpt2_import("tests/ref/gpt2/vocab.json.gz", "tests/ref/gpt2/merges.txt.gz");
    CHECK_EQ_INT(m->n_vocab, 50257);
    CHECK_EQ_INT(m->n_merges, 50000);
    CHECK(encodes_to(m, "hello world", false, (uint32_t[]){31373, 995}, 2));
    CHECK(encodes_to(m, "Hello, world!", false, (uint32_t[]){15496, 11, 995, 0}, 4));
    CHECK(encodes_to(m, " the", false, (uint32_t[]){262}, 1));
    CHECK(encodes_to(m, "<|endoftext|>", true, (uint32_t[]){50256}, 1));
    CHECK(!encodes_to(m, "<|endoftext|>", false, (uint32_t[]){50256}, 1));
    /* invalid UTF-8 is ours to define: each run is a chunk of its own, encoded as bytes */
    const char bad[] = "caf\xc3 \xff\xfe!";
    u32vec ids = {0};
    tok_encode(m, bad, sizeof bad - 1, false, &ids);
    char *out = NULL;
    size_t len = 0, cap = 0;
    tok_decode(m, ids.v, ids.n, &out, &len, &cap);
    CHECK(len == sizeof bad - 1 && memcmp(out, bad, len) == 0);
    free(out);
    u32vec_free(&ids);
    tok_free(m);
}

/* vocab.json for bytes in byte order, "ab" (256), "abc" (257), then extra entries. */
static void tiny_vocab(char *out, const char *extra)
{
    char *p = out;
    p += sprintf(p, "{");
    for (int b = 0; b < 256; b++) {
        uint32_t cp = gpt2_char_of_byte((uint8_t)b);
        p += sprintf(p, "\"");
        if (cp == '"' || cp == '\\')
            *p++ = '\\';
        if (cp < 0x80) {
            *p++ = (char)cp;
        } else {
            *p++ = (char)(0xc0 | cp >> 6);
            *p++ = (char)(0x80 | (cp & 0x3f));
        }
        p += sprintf(p, "\": %d, ", b);
    }
    sprintf(p, "\"ab\": 256, \"abc\": 257%s}", extra);
}

static bpe_t *parse_gpt2(const char *vocab, const char *merges)
{
    return gpt2_parse(vocab, strlen(vocab), "vocab.json", merges, strlen(merges), "merges.txt");
}

static void gpt2_parse_checks_its_files(void)
{
    static char vocab[4096];
    const char *merges = "#version: 0.2\na b\nab c\n";
    tiny_vocab(vocab, ", \"<|endoftext|>\": 258");
    bpe_t *m = parse_gpt2(vocab, merges);
    CHECK_EQ_INT(m->n_vocab, 259);
    CHECK(encodes_to(m, "abc<|endoftext|>", true, (uint32_t[]){257, 258}, 2));
    tok_free(m);
    EXPECT_DIE(EX_DATAERR, parse_gpt2("{\"a\": 1,", merges));
    EXPECT_DIE(EX_DATAERR, parse_gpt2("{\"a\": [1]}", merges));
    EXPECT_DIE(EX_DATAERR, parse_gpt2("[]", merges));
    tiny_vocab(vocab, ", \"ab\": 258");
    EXPECT_DIE(EX_DATAERR, parse_gpt2(vocab, merges)); /* a token twice */
    tiny_vocab(vocab, ", \"x y\": 300");
    EXPECT_DIE(EX_DATAERR, parse_gpt2(vocab, merges)); /* ids with a gap */
    tiny_vocab(vocab, "");
    EXPECT_DIE(EX_DATAERR, parse_gpt2(vocab, "#version: 0.2\nab\n"));
    EXPECT_DIE(EX_DATAERR, parse_gpt2(vocab, "#version: 0.2\na zz\n"));
    EXPECT_DIE(EX_DATAERR, parse_gpt2(vocab, "#version: 0.2\nab c\na b\n"));
    EXPECT_DIE(EX_DATAERR, parse_gpt2(vocab, "#version: 0.2\na b\nab c\nc a\n"));
    /* a multi-byte spelling among ids 0..255 */
    char *bang = strstr(vocab, "\"!\": 33");
    memcpy(bang, "\"!!\":33", 7);
    EXPECT_DIE(EX_DATAERR, parse_gpt2(vocab, merges));
}

static bpe_t *small_model(void)
{
    const char *texts[] = {"low lower lowest", "new newer newest", "wide wider widest"};
    tok_str sp[] = {{"<|endoftext|>", 13}, {"<pad>", 5}};
    return learn_from(texts, 3, PRETOK_GPT2, 280, sp, 2, 1);
}

static void model_file_round_trips(void)
{
    bpe_t *m = small_model();
    char dir[] = "/tmp/test_tok.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/m.tok", dir);
    tok_save(m, path);
    bpe_t *back = tok_load(path);
    CHECK(same_model(m, back));
    CHECK_STR(back->pattern, PRETOK_GPT2);
    unlink(path);
    rmdir(dir);
    tok_free(back);
    tok_free(m);
}

/* Each corruption of a valid model, applied to a fresh copy, must be refused. */
typedef void (*corruption)(msgpack_object *model);

static msgpack_object *key(msgpack_object *o, const char *k)
{
    for (uint32_t i = 0; i < o->via.map.size; i++)
        if (o->via.map.ptr[i].key.via.str.size == strlen(k) &&
            memcmp(o->via.map.ptr[i].key.via.str.ptr, k, strlen(k)) == 0)
            return &o->via.map.ptr[i].val;
    return NULL;
}

static void not_a_map(msgpack_object *o) { o->type = MSGPACK_OBJECT_NIL; }
static void wrong_version(msgpack_object *o) { key(o, "version")->via.u64 = 2; }
static void wrong_type(msgpack_object *o) { key(o, "type")->via.str.size = 2; }
static void no_vocab(msgpack_object *o) { key(o, "vocab")->type = MSGPACK_OBJECT_NIL; }
static void vocab_short(msgpack_object *o) { key(o, "vocab")->via.array.size--; }
static void byte_token_too_long(msgpack_object *o) { key(o, "vocab")->via.array.ptr[5].via.bin.size = 2; }
static void byte_twice(msgpack_object *o)
{
    msgpack_object *v = key(o, "vocab")->via.array.ptr;
    v[7] = v[8];
}
static void merge_from_the_future(msgpack_object *o)
{
    key(o, "merges")->via.array.ptr[0].via.array.ptr[0].via.u64 = 256;
}
static void merge_not_a_pair(msgpack_object *o) { key(o, "merges")->via.array.ptr[1].via.array.size = 1; }
static void merged_bytes_differ(msgpack_object *o) { key(o, "vocab")->via.array.ptr[257].via.bin.size--; }
/* The last merge repeats the one before: consistent, but two tokens with the same bytes. */
static void merge_twice(msgpack_object *o)
{
    msgpack_object *mg = key(o, "merges")->via.array.ptr, *v = key(o, "vocab")->via.array.ptr;
    uint32_t last = key(o, "merges")->via.array.size - 1;
    mg[last] = mg[last - 1];
    v[256 + last] = v[256 + last - 1];
}
static void special_id_low(msgpack_object *o) { key(o, "special")->via.map.ptr[0].val.via.u64 = 100; }
static void special_id_twice(msgpack_object *o)
{
    msgpack_object *s = key(o, "special");
    s->via.map.ptr[1].val = s->via.map.ptr[0].val;
}
static void special_differs(msgpack_object *o) { key(o, "special")->via.map.ptr[0].key.via.str.size--; }
static void bad_pattern(msgpack_object *o)
{
    key(o, "pattern")->via.str.ptr = "(";
    key(o, "pattern")->via.str.size = 1;
}

static void loader_rejects_corrupt_models(void)
{
    bpe_t *m = small_model();
    msgpack_sbuffer buf;
    pack_to(m, &buf);
    corruption cases[] = {not_a_map, wrong_version, wrong_type, no_vocab, vocab_short,
                          byte_token_too_long, byte_twice, merge_from_the_future,
                          merge_not_a_pair, merged_bytes_differ, merge_twice, special_id_low,
                          special_id_twice, special_differs, bad_pattern};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        CHECK(msgpack_unpack_next(&u, buf.data, buf.size, NULL) == MSGPACK_UNPACK_SUCCESS);
        if (k == 0) { /* the intact model loads */
            bpe_t *back = tok_unpack(&u.data, "test");
            CHECK(same_model(m, back));
            tok_free(back);
        }
        cases[k](&u.data);
        int before = check_test_failed;
        check_test_failed = 0;
        EXPECT_DIE(EX_DATAERR, tok_unpack(&u.data, "test"));
        if (check_test_failed)
            printf("#   corruption %zu was accepted\n", k);
        check_test_failed |= before;
        msgpack_unpacked_destroy(&u);
    }
    msgpack_sbuffer_destroy(&buf);
    tok_free(m);
}

int main(void)
{
    RUN(learn_reproduces_the_classic_example);
    RUN(learn_follows_hand_worked_counts);
    RUN(learn_is_deterministic_and_order_free);
    RUN(encode_matches_the_naive_merge_loop);
    RUN(encode_then_decode_is_exact_for_any_bytes);
    RUN(special_tokens_only_when_allowed);
    RUN(pretok_splits_like_gpt2_and_tiles_any_bytes);
    RUN(gpt2_alphabet_matches_bytes_to_unicode);
    RUN(gpt2_import_gives_gpt2_ids);
    RUN(gpt2_parse_checks_its_files);
    RUN(model_file_round_trips);
    RUN(loader_rejects_corrupt_models);
    return check_done();
}
