/* Unit tests of lib/model/ckpt: a model and its training state survive a round trip bit
 * for bit, the archive is laid out as documented (member by member and byte for byte), and
 * every kind of damage is refused with exit 65 (a missing file with 66). */
#include <archive.h>
#include <archive_entry.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "model/ckpt.h"
#include "model/model.h"

static char dir[] = "/tmp/test_ckpt.XXXXXX";

static const char *path_in_dir(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static model_config tiny(const char *arch)
{
    model_config cfg = {.vocab = 19, .layers = 2, .width = 8, .heads = 2, .context = 6};
    snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
    CHECK(model_config_finish(&cfg) == NULL);
    return cfg;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = xmalloc(*len + 1);
    CHECK(fread(p, 1, *len, f) == *len);
    fclose(f);
    return p;
}

static void spit(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, len, f);
    fclose(f);
}

/* A model with seeded weights and made-up moments, written with a tokenizer and state. */
static model *write_sample(const char *path, const char *arch, float **m_out, float **v_out)
{
    model_config cfg = tiny(arch);
    model *m = model_new(&cfg);
    model_init(m, 7);
    param_set *ps = model_params(m);
    float *am = xcalloc(ps->total, sizeof(float)), *av = xcalloc(ps->total, sizeof(float));
    for (size_t i = 0; i < ps->total; i++) {
        am[i] = (float)i * 0.5f;
        av[i] = (float)i * 0.25f;
    }
    static const char tok[] = "\x81\xa4type\xa3" "bpe";
    static const char st[] = "\x81\xa4step\x05";
    ckpt_write(path, &(ckpt_contents){.cfg = &cfg, .params = ps, .tokenizer = tok,
                                      .tokenizer_len = sizeof tok - 1, .train_state = st,
                                      .train_state_len = sizeof st - 1, .adam_m = am,
                                      .adam_v = av});
    *m_out = am;
    *v_out = av;
    return m;
}

static void round_trip_is_bit_exact(const char *arch)
{
    const char *path = path_in_dir("a.ckpt");
    float *am, *av;
    model *m = write_sample(path, arch, &am, &av);
    param_set *ps = model_params(m);

    ckpt_reader r;
    ckpt_open(&r, path);
    CHECK_STR(r.cfg.arch, arch);
    CHECK(memcmp(&r.cfg, model_cfg(m), sizeof r.cfg) == 0);
    model *m2 = model_new(&r.cfg);
    param_set *ps2 = model_params(m2);
    float *bm = xcalloc(ps2->total, sizeof(float)), *bv = xcalloc(ps2->total, sizeof(float));
    ckpt_read(&r, ps2, bm, bv);
    CHECK(r.has_moments);
    for (int i = 0; i < ps->n; i++) {
        size_t n = ps->info[i].count * sizeof(float);
        CHECK(memcmp(param_w(ps, i), param_w(ps2, i), n) == 0);
        CHECK(memcmp(am + ps->info[i].offset, bm + ps->info[i].offset, n) == 0);
        CHECK(memcmp(av + ps->info[i].offset, bv + ps->info[i].offset, n) == 0);
    }
    CHECK(r.tokenizer_len == 10 && memcmp(r.tokenizer, "\x81\xa4type\xa3" "bpe", 10) == 0);
    CHECK(r.train_state_len == 7 && memcmp(r.train_state, "\x81\xa4step\x05", 7) == 0);
    ckpt_close(&r);

    /* inference: the moments are skipped, the weights the same */
    model *m3 = ckpt_load(&r, path);
    CHECK(memcmp(model_params(m3)->w, ps->w, ps->total * sizeof(float)) == 0);
    CHECK(r.has_moments);
    ckpt_close(&r);

    /* the same model gives the same bytes */
    size_t n1, n2;
    char *b1 = slurp(path, &n1);
    ckpt_write(path_in_dir("b.ckpt"),
               &(ckpt_contents){.cfg = model_cfg(m3), .params = model_params(m3),
                                .tokenizer = "\x81\xa4type\xa3" "bpe", .tokenizer_len = 10,
                                .train_state = "\x81\xa4step\x05", .train_state_len = 7,
                                .adam_m = am, .adam_v = av});
    char *b2 = slurp(path_in_dir("b.ckpt"), &n2);
    CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    free(b1);
    free(b2);
    free(am), free(av), free(bm), free(bv);
    model_free(m), model_free(m2), model_free(m3);
}

static void gpt_round_trip_is_bit_exact(void) { round_trip_is_bit_exact("gpt"); }
static void hawk_round_trip_is_bit_exact(void) { round_trip_is_bit_exact("hawk"); }

/* config.mp first, then the tokenizer and the trainer's state, the tensors in declaration
 * order, the moments. */
static void members_are_in_documented_order(void)
{
    const char *path = path_in_dir("order.ckpt");
    float *am, *av;
    model *m = write_sample(path, "gpt", &am, &av);
    param_set *ps = model_params(m);
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    CHECK(archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK);
    struct archive_entry *e;
    char want[160];
    int k = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        int n = ps->n;
        if (k == 0)
            snprintf(want, sizeof want, "config.mp");
        else if (k == 1)
            snprintf(want, sizeof want, "tokenizer.mp");
        else if (k == 2)
            snprintf(want, sizeof want, "state/train.mp");
        else if (k < 3 + n)
            snprintf(want, sizeof want, "tensors/%s", ps->info[k - 3].name);
        else if (k < 3 + 2 * n)
            snprintf(want, sizeof want, "state/adam_m/%s", ps->info[k - 3 - n].name);
        else
            snprintf(want, sizeof want, "state/adam_v/%s", ps->info[k - 3 - 2 * n].name);
        CHECK_STR(archive_entry_pathname(e), want);
        CHECK_EQ_INT(archive_entry_mtime(e), 0);
        k++;
    }
    CHECK_EQ_INT(k, 3 + 3 * ps->n);
    CHECK_STR(ps->info[0].name, "wte.weight");
    archive_read_free(a);
    free(am), free(av);
    model_free(m);
}

/* ---- damaged checkpoints ---- */

typedef struct {
    const char *name;
    const void *data;
    size_t len;
} member;

/* Write a tar of the given members. */
static void make_tar(const char *path, const member *mem, int n)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open_filename(a, path);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, mem[i].name);
        archive_entry_set_size(e, (la_int64_t)mem[i].len);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 0, 0);
        archive_write_header(a, e);
        archive_write_data(a, mem[i].data, mem[i].len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

/* config.mp for cfg with one key's value replaced (or dropped when value is NULL). */
static size_t pack_config(char *out, size_t cap, const model_config *cfg, const char *key,
                          const char *value)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    const char *keys[] = {"format", "version", "arch", "vocab", "layers", "width",
                          "heads", "context", "mlp", "lru", "conv"};
    int ints[] = {0, 1, 0, cfg->vocab, cfg->layers, cfg->width, cfg->heads, cfg->context,
                  cfg->mlp, cfg->lru, cfg->conv};
    int n = 11;
    for (int i = 0; i < 11; i++)
        n -= key && !value && strcmp(key, keys[i]) == 0;
    msgpack_pack_map(&pk, (size_t)n);
    for (int i = 0; i < 11; i++) {
        bool replace = key && strcmp(key, keys[i]) == 0;
        if (replace && !value)
            continue;
        msgpack_pack_str(&pk, strlen(keys[i]));
        msgpack_pack_str_body(&pk, keys[i], strlen(keys[i]));
        const char *s = replace ? value : i == 0 ? "runnel-ckpt" : i == 2 ? cfg->arch : NULL;
        if (s) {
            msgpack_pack_str(&pk, strlen(s));
            msgpack_pack_str_body(&pk, s, strlen(s));
        } else {
            msgpack_pack_int(&pk, ints[i]);
        }
    }
    CHECK(sb.size <= cap);
    memcpy(out, sb.data, sb.size);
    size_t len = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return len;
}

/* A checkpoint is, byte for byte, the tar (ustar, members 0644 dated 0) of the documented
 * members that make_tar() writes: config.mp packed here key by key, the tokenizer and
 * state as given, the tensors and moments as raw float32 in declaration order; and
 * without the optional members, config.mp and the tensors alone. */
static void files_are_the_documented_archive_byte_for_byte(void)
{
    const char *got_path = path_in_dir("got.ckpt"), *want_path = path_in_dir("want.ckpt");
    for (int with_state = 0; with_state < 2; with_state++) {
        float *am, *av;
        model *m = write_sample(got_path, "hawk", &am, &av);
        param_set *ps = model_params(m);
        if (!with_state)
            ckpt_write(got_path, &(ckpt_contents){.cfg = model_cfg(m), .params = ps});
        int n = ps->n, k = 0;
        member *mem = xcalloc(3 + 3 * (size_t)n, sizeof *mem);
        char (*names)[128] = xcalloc(3 * (size_t)n, sizeof *names);
        char config[512];
        mem[k++] = (member){"config.mp", config,
                            pack_config(config, sizeof config, model_cfg(m), NULL, NULL)};
        if (with_state) {
            mem[k++] = (member){"tokenizer.mp", "\x81\xa4type\xa3" "bpe", 10};
            mem[k++] = (member){"state/train.mp", "\x81\xa4step\x05", 7};
        }
        const char *dirs[3] = {"tensors", "state/adam_m", "state/adam_v"};
        const float *slabs[3] = {ps->w, am, av};
        for (int d = 0; d < (with_state ? 3 : 1); d++)
            for (int i = 0; i < n; i++) {
                char *name = names[d * n + i];
                snprintf(name, sizeof names[0], "%s/%s", dirs[d], ps->info[i].name);
                mem[k++] = (member){name, slabs[d] + ps->info[i].offset,
                                    ps->info[i].count * sizeof(float)};
            }
        make_tar(want_path, mem, k);
        size_t n1, n2;
        char *got = slurp(got_path, &n1), *want = slurp(want_path, &n2);
        CHECK(n1 > 0 && n1 == n2 && memcmp(got, want, n1) == 0);
        free(got), free(want), free(mem), free(names), free(am), free(av);
        model_free(m);
    }
}

static ckpt_reader rd;
static model *md;
static float *mm, *mv;

/* What a resuming trainer does. */
static void load_for_resume(const char *path)
{
    ckpt_open(&rd, path);
    md = model_new(&rd.cfg);
    mm = xcalloc(model_params(md)->total, sizeof(float));
    mv = xcalloc(model_params(md)->total, sizeof(float));
    ckpt_read(&rd, model_params(md), mm, mv);
}

static void cleanup(void)
{
    ckpt_close(&rd);
    model_free(md);
    free(mm), free(mv);
    md = NULL, mm = mv = NULL;
}

#define EXPECT_BAD(code, path)                                                           \
    do {                                                                                 \
        EXPECT_DIE(code, load_for_resume(path));                                         \
        cleanup();                                                                       \
    } while (0)

/* Members of a valid gpt checkpoint (without state), one replaced or dropped. */
static void damaged_members_are_refused(void)
{
    model_config cfg = tiny("gpt");
    model *m = model_new(&cfg);
    model_init(m, 1);
    param_set *ps = model_params(m);
    int n = ps->n;
    member *mem = xcalloc((size_t)n + 3, sizeof *mem);
    char (*names)[128] = xcalloc((size_t)n + 3, sizeof *names);
    char config[512];
    size_t config_len = pack_config(config, sizeof config, &cfg, NULL, NULL);
    mem[0] = (member){"config.mp", config, config_len};
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "tensors/%s", ps->info[i].name);
        mem[i + 1] = (member){names[i], param_w(ps, i), ps->info[i].count * sizeof(float)};
    }
    const char *p = path_in_dir("bad.ckpt");

    make_tar(p, mem, n + 1); /* the valid one */
    load_for_resume(p);
    CHECK(!rd.has_moments);
    CHECK(memcmp(model_params(md)->w, ps->w, ps->total * sizeof(float)) == 0);
    cleanup();

    make_tar(p, mem + 1, n); /* no config.mp */
    EXPECT_BAD(EX_DATAERR, p);
    /* a config.mp whose array claims 2^32 - 1 items in 8 bytes: refused without
     * allocating for them (found by fuzz_ckpt; the ASan build aborts on the allocation) */
    static const char huge[] = {'\x81', '\xa1', 'a', '\xdd', '\xff', '\xff', '\xff', '\xff'};
    mem[0] = (member){"config.mp", huge, sizeof huge};
    make_tar(p, mem, n + 1);
    EXPECT_BAD(EX_DATAERR, p);
    mem[0] = (member){"config.mp", config, config_len};
    make_tar(p, mem, n); /* the last tensor missing */
    EXPECT_BAD(EX_DATAERR, p);

    member save = mem[2]; /* a tensor one float short */
    mem[2].len -= 4;
    make_tar(p, mem, n + 1);
    EXPECT_BAD(EX_DATAERR, p);
    mem[2] = (member){"tensors/h.9.mlp.c_fc.weight", save.data, save.len}; /* unknown */
    make_tar(p, mem, n + 1);
    EXPECT_BAD(EX_DATAERR, p);
    mem[2] = (member){"weights.bin", save.data, save.len}; /* unknown member */
    make_tar(p, mem, n + 1);
    EXPECT_BAD(EX_DATAERR, p);
    mem[2] = mem[1]; /* repeated */
    make_tar(p, mem, n + 1);
    EXPECT_BAD(EX_DATAERR, p);
    mem[2] = (member){"tokenizer.mp", "\x80", 1}; /* metadata after a tensor */
    make_tar(p, mem, n + 1);
    EXPECT_BAD(EX_DATAERR, p);
    mem[2] = save;

    /* half the optimizer state: adam_m of one tensor without its adam_v */
    mem[n + 1] = (member){"state/adam_m/wte.weight", param_w(ps, 0),
                          ps->info[0].count * sizeof(float)};
    make_tar(p, mem, n + 2);
    EXPECT_BAD(EX_DATAERR, p);

    /* bad configurations */
    static const char *bad_configs[][2] = {
        {"arch", "transformer"}, {"format", "gguf"}, {"version", "2"}, {"vocab", NULL},
        {"heads", "3"}, {"extra", "1"},
    };
    for (volatile size_t k = 0; k < sizeof bad_configs / sizeof *bad_configs; k++) {
        model_config c = cfg;
        const char *key = bad_configs[k][0], *val = bad_configs[k][1];
        size_t len;
        if (strcmp(key, "heads") == 0) { /* width 8 is not a multiple of 3 heads */
            c.heads = 3;
            len = pack_config(config, sizeof config, &c, NULL, NULL);
        } else if (strcmp(key, "version") == 0 || strcmp(key, "extra") == 0) {
            len = pack_config(config, sizeof config, &c, key, NULL);
            /* re-add the key with an integer value */
            config[0] = (char)(config[0] + 1);
            char *q = config + len;
            *q++ = (char)(0xa0 | strlen(key));
            memcpy(q, key, strlen(key));
            q += strlen(key);
            *q++ = (char)atoi(val);
            len = (size_t)(q - config);
        } else {
            len = pack_config(config, sizeof config, &c, key, val);
        }
        mem[0].len = len;
        make_tar(p, mem, n + 1);
        EXPECT_BAD(EX_DATAERR, p);
    }
    mem[0].len = config_len = pack_config(config, sizeof config, &cfg, NULL, NULL);

    /* truncated anywhere: in a header, in data, before the end */
    make_tar(p, mem, n + 1);
    size_t len;
    char *whole = slurp(p, &len);
    size_t cuts[] = {0, 100, 512 + 10, 1024 + 700, len / 2};
    for (volatile size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        spit(p, whole, cuts[k]);
        EXPECT_BAD(EX_DATAERR, p);
    }
    spit(p, "not a tar file at all", 21);
    EXPECT_BAD(EX_DATAERR, p);
    free(whole);
    EXPECT_BAD(EX_NOINPUT, path_in_dir("nowhere.ckpt"));

    free(mem);
    free(names);
    model_free(m);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    RUN(gpt_round_trip_is_bit_exact);
    RUN(hawk_round_trip_is_bit_exact);
    RUN(members_are_in_documented_order);
    RUN(files_are_the_documented_archive_byte_for_byte);
    RUN(damaged_members_are_refused);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_done();
}
