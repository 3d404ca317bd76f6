/* Unit tests of lib/model/hf: a Hugging Face GPT-2 folder (tests/ref/hf/tiny, written by
 * tests/ref/hf/make_hf.py) gives the logits that plain torch operations give on the same
 * weights (tests/ref/hf/torch_ref.py wrote tests/ref/hf/expected.jsonl); safetensors
 * files built here check the reader's checks one by one (every damage exits 65), the
 * dtype conversions, and config.json's refusals.  Run from the top of the checkout. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "json/json.h"
#include "model/hf.h"
#include "model/model.h"

#define TINY "tests/ref/hf/tiny"
#define EXPECTED "tests/ref/hf/expected.jsonl"

static char dir[] = "/tmp/test_hf.XXXXXX";

static const char *in_dir(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void spit(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(p, 1, len, f) == len);
    fclose(f);
}

/* ---- against torch ---- */

typedef struct {
    int n;
    uint32_t tokens[3][32];
    int len[3];
    float last_logits[3][64];
    int V;
} expected;

static void expected_record(void *ctx, const msgpack_object *o)
{
    expected *e = ctx;
    if (e->n >= 3)
        return;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        const msgpack_object_array *a = &v->via.array;
        if (k->via.str.size == 6 && memcmp(k->via.str.ptr, "tokens", 6) == 0) {
            e->len[e->n] = (int)a->size;
            for (uint32_t j = 0; j < a->size && j < 32; j++)
                e->tokens[e->n][j] = (uint32_t)a->ptr[j].via.u64;
        } else if (k->via.str.size == 11 && memcmp(k->via.str.ptr, "last_logits", 11) == 0) {
            e->V = (int)a->size;
            for (uint32_t j = 0; j < a->size && j < 64; j++)
                e->last_logits[e->n][j] = (float)a->ptr[j].via.f64;
        }
    }
    e->n++;
}

static void tiny_folder_matches_torch(void)
{
    expected e = {0};
    json_read_file(EXPECTED, 0, expected_record, &e);
    CHECK_EQ_INT(e.n, 3);
    bpe_t *tok = (bpe_t *)1;
    model *m = hf_load(TINY, &tok);
    CHECK(tok == NULL); /* the folder has no vocab.json or merges.txt */
    const model_config *c = model_cfg(m);
    CHECK_STR(c->arch, "gpt");
    CHECK_EQ_INT(c->vocab, 64);
    CHECK_EQ_INT(c->layers, 2);
    CHECK_EQ_INT(c->width, 16);
    CHECK_EQ_INT(c->heads, 2);
    CHECK_EQ_INT(c->context, 16);
    CHECK_EQ_INT(c->mlp, 64);
    CHECK_EQ_INT(e.V, c->vocab);
    model_state *s = model_state_new(m);
    for (int r = 0; r < e.n; r++) {
        /* the batch forward */
        int T = e.len[r];
        model_plan(m, 1, T, false);
        model_forward(m, e.tokens[r], NULL, NULL);
        const float *last = model_logits(m) + (size_t)(T - 1) * c->vocab;
        double worst = 0;
        for (int v = 0; v < c->vocab; v++)
            worst = fmax(worst, fabs(last[v] - e.last_logits[r][v]));
        CHECK_NEAR(worst, 0, 2e-5);
        /* and incremental inference */
        model_state_reset(s);
        const float *step = NULL;
        for (int t = 0; t < T; t++)
            step = model_step(m, s, e.tokens[r][t]);
        worst = 0;
        for (int v = 0; v < c->vocab; v++)
            worst = fmax(worst, fabs(step[v] - e.last_logits[r][v]));
        CHECK_NEAR(worst, 0, 2e-5);
    }
    model_state_free(s);
    model_free(m);
}

/* ---- safetensors built here ---- */

/* A file of the given header JSON followed by data. */
static void write_st(const char *path, const char *json, const void *data, size_t len)
{
    size_t hlen = strlen(json);
    char *buf = xmalloc(8 + hlen + len);
    for (int i = 0; i < 8; i++)
        buf[i] = (char)(hlen >> (8 * i) & 0xff);
    memcpy(buf + 8, json, hlen);
    if (len)
        memcpy(buf + 8 + hlen, data, len);
    spit(path, buf, 8 + hlen + len);
    free(buf);
}

/* st_open on a file of that header and data must exit 65. */
static void refused(const char *json, const void *data, size_t len)
{
    const char *path = in_dir("bad.safetensors");
    write_st(path, json, data, len);
    st_file f = {.fd = -1};
    EXPECT_DIE(EX_DATAERR, st_open(&f, path));
    st_close(&f);
}

static void dtypes_convert_exactly(void)
{
    CHECK(st_f16_to_f32(0x3c00) == 1.0f);
    CHECK(st_f16_to_f32(0xc000) == -2.0f);
    CHECK(st_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(st_f16_to_f32(0x0400) == 0x1p-14f);       /* smallest normal */
    CHECK(st_f16_to_f32(0x0001) == 0x1p-24f);       /* smallest subnormal */
    CHECK(st_f16_to_f32(0x03ff) == 1023 * 0x1p-24f); /* largest subnormal */
    CHECK(st_f16_to_f32(0x3555) == 0x1.554p-2f);    /* 1/3 rounded to half */
    float z = st_f16_to_f32(0x8000);
    CHECK(z == 0 && signbit(z));
    CHECK(isinf(st_f16_to_f32(0xfc00)) && st_f16_to_f32(0xfc00) < 0);
    CHECK(isnan(st_f16_to_f32(0x7e00)));
    CHECK(st_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(st_bf16_to_f32(0xc040) == -3.0f);
    CHECK(st_bf16_to_f32(0x4049) == 3.140625f);

    /* one file with a tensor of each convertible dtype */
    unsigned char data[8 + 4 + 4 + 16];
    float f32[2] = {1.5f, -0.25f};
    uint16_t f16[2] = {0x3e00, 0xb400}, bf16[2] = {0x3fc0, 0xbe80}; /* 1.5 -0.25 */
    double f64[2] = {1.5, -0.25};
    memcpy(data, f32, 8);
    memcpy(data + 8, f16, 4);
    memcpy(data + 12, bf16, 4);
    memcpy(data + 16, f64, 16);
    const char *path = in_dir("dtypes.safetensors");
    write_st(path,
             "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
             "\"b\":{\"dtype\":\"F16\",\"shape\":[2,1],\"data_offsets\":[8,12]},"
             "\"c\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[12,16]},"
             "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[16,32]},"
             "\"__metadata__\":{\"format\":\"pt\"}}   ",
             data, sizeof data);
    st_file f = {.fd = -1};
    st_open(&f, path);
    CHECK_EQ_INT(f.n, 4);
    const char *names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        int j = st_find(&f, names[i]);
        CHECK_EQ_INT(j, i);
        float got[2] = {0, 0};
        st_read_f32(&f, j, got);
        CHECK(got[0] == 1.5f && got[1] == -0.25f);
    }
    CHECK_EQ_INT(f.t[1].ndim, 2);
    CHECK_EQ_INT(f.t[1].shape[0], 2);
    CHECK_EQ_INT(st_find(&f, "e"), -1);
    st_close(&f);
}

static void damaged_safetensors_exit_65(void)
{
    static const char ok[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    float d[4] = {1, 2, 3, 4};
    /* the well-formed file first, so each refusal below is down to its one change */
    const char *path = in_dir("good.safetensors");
    write_st(path, ok, d, 8);
    st_file f = {.fd = -1};
    st_open(&f, path);
    CHECK_EQ_INT(f.n, 1);
    st_close(&f);

    refused(ok, d, 4);  /* truncated data */
    refused(ok, d, 12); /* bytes after the last tensor */
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", d, 8); /* bad JSON */
    refused("[1, 2]", d, 8);                                              /* not an object */
    refused("{\"a\":{\"dtype\":\"F31\",\"shape\":[2],\"data_offsets\":[0,8]}}", d, 8);
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", d, 8);
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", d, 8);
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", d, 8);
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", d, 8);
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", d, 8);
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", d, 8);
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", d, 8); /* gap */
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", d, 8); /* overlap */
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", d, 8); /* twice */
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
            "\"data_offsets\":[0,8]}}", d, 8); /* a size that overflows */
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} {}", d, 8);
    refused("{\"__metadata__\":[],\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
            "[0,8]}}", d, 8);

    /* a header length beyond the file, or absurd; a file shorter than the length */
    unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
    spit(in_dir("huge.safetensors"), huge, sizeof huge);
    unsigned char beyond[16] = {200, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    spit(in_dir("beyond.safetensors"), beyond, sizeof beyond);
    spit(in_dir("short.safetensors"), "\x02\x00", 2);
    const char *bad[] = {"huge.safetensors", "beyond.safetensors", "short.safetensors"};
    for (int i = 0; i < 3; i++) {
        st_file g = {.fd = -1};
        EXPECT_DIE(EX_DATAERR, st_open(&g, in_dir(bad[i])));
        st_close(&g);
    }
    st_file g = {.fd = -1};
    EXPECT_DIE(EX_NOINPUT, st_open(&g, in_dir("missing.safetensors")));
    st_close(&g);
    /* an integer dtype opens, but is not weights */
    write_st(path, "{\"a\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", d, 8);
    st_open(&g, path);
    float out[2];
    EXPECT_DIE(EX_DATAERR, st_read_f32(&g, 0, out));
    st_close(&g);
}

/* ---- GPT-2's tensors ---- */

/* Edits of a safetensors file made from a model's weights, every name with the
 * "transformer." prefix: tensor `which` dropped, renamed (the new name taken as it is)
 * or one longer in its first size; a tensor named extra added; lm_head.weight added, a
 * copy of wte.weight or not quite (head_differs). */
typedef struct {
    int which;
    const char *rename;
    bool drop, reshape, head, head_differs;
    const char *extra;
} edit;

static void write_model_st(const char *path, const param_set *ps, const edit *e)
{
    char *json = xmalloc(1 << 16);
    size_t at = 0, off = 0;
    float *data = xmalloc((ps->total + 4096) * sizeof(float));
    at += (size_t)sprintf(json + at, "{");
    for (int i = 0; i < ps->n; i++) {
        const param_info *p = &ps->info[i];
        if (i == e->which && e->drop)
            continue;
        char name[PARAM_NAME_MAX + 16]; /* a new name is taken as it is, without prefix */
        if (i == e->which && e->rename)
            snprintf(name, sizeof name, "%s", e->rename);
        else
            snprintf(name, sizeof name, "transformer.%s", p->name);
        int64_t d0 = p->shape[0] + (i == e->which && e->reshape);
        size_t n = p->count / (size_t)p->shape[0] * (size_t)d0;
        at += (size_t)sprintf(json + at, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld",
                              at > 1 ? "," : "", name, (long long)d0);
        if (p->ndim == 2)
            at += (size_t)sprintf(json + at, ",%lld", (long long)p->shape[1]);
        at += (size_t)sprintf(json + at, "],\"data_offsets\":[%zu,%zu]}", off * 4,
                              (off + n) * 4);
        for (size_t j = 0; j < n; j++)
            data[off + j] = j < p->count ? param_w(ps, i)[j] : 0.5f;
        off += n;
    }
    if (e->head) {
        const param_info *p = &ps->info[0]; /* wte.weight */
        at += (size_t)sprintf(json + at, ",\"lm_head.weight\":{\"dtype\":\"F32\",\"shape\":"
                              "[%lld,%lld],\"data_offsets\":[%zu,%zu]}",
                              (long long)p->shape[0], (long long)p->shape[1], off * 4,
                              (off + p->count) * 4);
        memcpy(data + off, param_w(ps, 0), p->count * sizeof(float));
        if (e->head_differs)
            data[off + p->count - 1] += 1e-3f;
        off += p->count;
    }
    if (e->extra) {
        at += (size_t)sprintf(json + at, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[1],"
                              "\"data_offsets\":[%zu,%zu]}", e->extra, off * 4, off * 4 + 4);
        data[off++] = 0;
    }
    at += (size_t)sprintf(json + at, "}");
    write_st(path, json, data, off * 4);
    free(json);
    free(data);
}

/* hf_read_gpt2 of the edited file into a fresh model like m: accepted (then the weights
 * must be m's exactly) or refused with 65. */
static void read_edited(model *m, const edit *e, bool accepted)
{
    const char *path = in_dir("model.safetensors");
    write_model_st(path, model_params(m), e);
    model *fresh = model_new(model_cfg(m));
    st_file f = {.fd = -1};
    st_open(&f, path);
    if (accepted) {
        hf_read_gpt2(&f, model_params(fresh));
        param_set *a = model_params(m), *b = model_params(fresh);
        CHECK(memcmp(a->w, b->w, a->total * sizeof(float)) == 0);
    } else {
        EXPECT_DIE(EX_DATAERR, hf_read_gpt2(&f, model_params(fresh)));
    }
    st_close(&f);
    model_free(fresh);
}

static void gpt2_tensors_checked_by_name_and_shape(void)
{
    bpe_t *tok;
    model *m = hf_load(TINY, &tok);
    int ln = param_find(model_params(m), "h.1.ln_2.bias");
    CHECK(ln > 0);
    read_edited(m, &(edit){.which = -1}, true);
    read_edited(m, &(edit){.which = -1, .head = true}, true);
    read_edited(m, &(edit){.which = -1, .extra = "transformer.h.1.attn.masked_bias"}, true);
    read_edited(m, &(edit){.which = -1, .extra = "h.0.attn.bias"}, true);
    read_edited(m, &(edit){.which = -1, .head = true, .head_differs = true}, false);
    read_edited(m, &(edit){.which = ln, .drop = true}, false);
    read_edited(m, &(edit){.which = ln, .reshape = true}, false);
    read_edited(m, &(edit){.which = ln, .rename = "h.1.ln_3.bias"}, false);
    read_edited(m, &(edit){.which = ln, .rename = "h.0.ln_2.bias"}, false); /* twice */
    read_edited(m, &(edit){.which = -1, .extra = "h.0.attn.bias.x"}, false);
    read_edited(m, &(edit){.which = -1, .extra = "h.x.attn.bias"}, false);
    read_edited(m, &(edit){.which = -1, .extra = "score.weight"}, false);
    model_free(m);
}

/* ---- config.json ---- */

static const char base_config[] =
    "{\"model_type\":\"gpt2\",\"vocab_size\":50,\"n_layer\":2,\"n_embd\":24,\"n_head\":3,"
    "\"n_positions\":32,\"n_inner\":null,\"layer_norm_epsilon\":1e-05,"
    "\"activation_function\":\"gelu_new\",\"scale_attn_weights\":true%s}";

static void config_with(const char *extra, bool accepted, model_config *out)
{
    char text[1024];
    snprintf(text, sizeof text, base_config, extra);
    const char *path = in_dir("config.json");
    spit(path, text, strlen(text));
    model_config cfg = {.vocab = 0};
    if (accepted) {
        hf_config_read(path, &cfg);
        if (out)
            *out = cfg;
    } else {
        EXPECT_DIE(EX_DATAERR, hf_config_read(path, &cfg));
    }
}

static void config_json_read_and_refused(void)
{
    model_config cfg;
    config_with("", true, &cfg);
    CHECK_STR(cfg.arch, "gpt");
    CHECK_EQ_INT(cfg.vocab, 50);
    CHECK_EQ_INT(cfg.layers, 2);
    CHECK_EQ_INT(cfg.width, 24);
    CHECK_EQ_INT(cfg.heads, 3);
    CHECK_EQ_INT(cfg.context, 32);
    CHECK_EQ_INT(cfg.mlp, 96);
    config_with(",\"n_inner\":40", true, &cfg);
    CHECK_EQ_INT(cfg.mlp, 40);
    config_with(",\"activation_function\":\"gelu_pytorch_tanh\"", true, NULL);
    config_with(",\"layer_norm_epsilon\":1e-06", false, NULL);
    config_with(",\"activation_function\":\"relu\"", false, NULL);
    config_with(",\"activation_function\":\"gelu\"", false, NULL);
    config_with(",\"model_type\":\"llama\"", false, NULL);
    config_with(",\"n_head\":5", false, NULL);   /* 24 is not a multiple of 5 */
    config_with(",\"n_layer\":0", false, NULL);
    config_with(",\"n_layer\":\"2\"", false, NULL);
    config_with(",\"scale_attn_by_inverse_layer_idx\":true", false, NULL);
    config_with(",\"scale_attn_weights\":false", false, NULL);
    config_with(",\"add_cross_attention\":true", false, NULL);
    const char *path = in_dir("config.json");
    spit(path, "{\"model_type\":\"gpt2\",\"n_layer\":2}", 33);
    EXPECT_DIE(EX_DATAERR, hf_config_read(path, &cfg)); /* sizes missing */
    spit(path, "not json", 8);
    EXPECT_DIE(EX_DATAERR, hf_config_read(path, &cfg));
    spit(path, "", 0);
    EXPECT_DIE(EX_DATAERR, hf_config_read(path, &cfg));
    EXPECT_DIE(EX_NOINPUT, hf_config_read(in_dir("none.json"), &cfg));
}

int main(void)
{
    if (!mkdtemp(dir))
        die(EX_IOERR, "mkdtemp");
    RUN(tiny_folder_matches_torch);
    RUN(dtypes_convert_exactly);
    RUN(damaged_safetensors_exit_65);
    RUN(gpt2_tensors_checked_by_name_and_shape);
    RUN(config_json_read_and_refused);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return check_done();
}
