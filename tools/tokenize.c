/* tokenize: learn a byte-level BPE vocabulary, encode text to token ids and back. */
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "rec/rec.h"
#include "tok/bpe.h"
#include "tok/pretok.h"

static const char usage[] =
    "usage: tokenize learn -v N [--special TOK]... [--no-default-special] [-p PATTERN]\n"
    "                      [--min-freq F] [--skip-missing] -o MODEL [FILE]\n"
    "       tokenize encode -m MODEL [--keep-text] [--allow-special] [--skip-missing]\n"
    "                      [-o FILE] [-z] [FILE]\n"
    "       tokenize decode -m MODEL [--keep-tokens] [--skip-missing] [-o FILE] [-z] [FILE]\n"
    "       tokenize import-gpt2 VOCAB_JSON MERGES_TXT -o MODEL\n"
    "       tokenize export-gpt2 -m MODEL VOCAB_JSON MERGES_TXT\n"
    "       tokenize info -m MODEL\n"
    "Byte-level BPE over record streams: learn reads \"text\" and writes a model; encode\n"
    "turns \"text\" into \"tokens\"; decode turns \"tokens\" into \"text\".\n"
    "\n"
    "  -v, --vocab-size N   tokens in all: 256 bytes + merges + specials\n"
    "      --special TOK    add a special token (default <|endoftext|>)\n"
    "      --no-default-special  do not add <|endoftext|>\n"
    "  -p, --pattern P      pre-tokenization: gpt2 (default), gpt4, bytes or a PCRE2 regex\n"
    "      --min-freq F     merge only pairs seen at least F times (default 2)\n"
    "      --skip-missing   pass over records without the key read (copied by encode/decode)\n"
    "  -m, --model MODEL    the model file\n"
    "      --keep-text      encode: keep \"text\" beside \"tokens\"\n"
    "      --keep-tokens    decode: keep \"tokens\" beside \"text\"\n"
    "      --allow-special  encode: special-token strings in text become their ids\n"
    "  -o, --output F       write to F (atomically) instead of stdout\n"
    "  -z, --gzip           compress the output\n"
    "  -h, --help           this text; --version the version\n";

enum { OPT_SPECIAL = 0x100, OPT_NO_DEFAULT_SPECIAL, OPT_MIN_FREQ, OPT_SKIP_MISSING,
       OPT_KEEP_TEXT, OPT_KEEP_TOKENS, OPT_ALLOW_SPECIAL };

#define OPT_MODEL {"model", required_argument, NULL, 'm'}
#define OPT_OUTPUT {"output", required_argument, NULL, 'o'}
#define OPT_GZIP {"gzip", no_argument, NULL, 'z'}
#define OPT_SKIP {"skip-missing", no_argument, NULL, OPT_SKIP_MISSING}

static const char *need(const char *value, const char *cmd, const char *what)
{
    if (!value)
        cli_usage_error("%s needs %s", cmd, what);
    return value;
}

/* The operands after the options: exactly n of them. */
static char **operands(int argc, char **argv, int n, const char *cmd, const char *what)
{
    if (argc - optind != n)
        cli_usage_error("%s takes %s", cmd, what);
    return argv + optind;
}

/* Options of the subcommands that only name a model and files. */
static void model_options(int argc, char **argv, const char **model, const char **output)
{
    static const struct option opts[] = {OPT_MODEL, OPT_OUTPUT, CLI_STD_OPTIONS, {0}};
    for (int c; (c = cli_getopt(argc, argv, "m:o:", opts)) != -1;) {
        if (c == 'm' && model)
            *model = optarg;
        else if (c == 'o' && output)
            *output = optarg;
        else
            cli_usage_error("%s does not take -%c", argv[0], c);
    }
}

static void learn(int argc, char **argv)
{
    static const struct option opts[] = {
        {"vocab-size", required_argument, NULL, 'v'},
        {"special", required_argument, NULL, OPT_SPECIAL},
        {"no-default-special", no_argument, NULL, OPT_NO_DEFAULT_SPECIAL},
        {"pattern", required_argument, NULL, 'p'},
        {"min-freq", required_argument, NULL, OPT_MIN_FREQ},
        OPT_SKIP, OPT_OUTPUT, CLI_STD_OPTIONS, {0},
    };
    uint64_t vocab_size = 0, min_freq = 2;
    tok_str special[64] = {{"<|endoftext|>", 13}};
    uint32_t n_special = 1;
    bool default_special = true, skip_missing = false;
    const char *pattern = "gpt2", *output = NULL;
    for (int c; (c = cli_getopt(argc, argv, "v:p:o:", opts)) != -1;) {
        switch (c) {
        case 'v': vocab_size = cli_u64("--vocab-size", optarg, 1, TOK_MAX_VOCAB); break;
        case OPT_SPECIAL:
            if (n_special == sizeof special / sizeof *special)
                cli_usage_error("too many --special tokens");
            special[n_special++] = (tok_str){optarg, strlen(optarg)};
            break;
        case OPT_NO_DEFAULT_SPECIAL: default_special = false; break;
        case 'p': pattern = optarg; break;
        case OPT_MIN_FREQ: min_freq = cli_u64("--min-freq", optarg, 1, UINT64_MAX); break;
        case OPT_SKIP_MISSING: skip_missing = true; break;
        case 'o': output = optarg; break;
        }
    }
    need(vocab_size ? "" : NULL, "learn", "-v N, the vocabulary size");
    need(output, "learn", "-o MODEL");
    const char *input = cli_one_input(argc, argv);
    tok_str *sp = default_special ? special : special + 1;
    uint32_t nsp = default_special ? n_special : n_special - 1;
    if (vocab_size < 256 + (uint64_t)nsp)
        cli_usage_error("-v %llu is too small: 256 byte tokens and %u special tokens need %u",
                        (unsigned long long)vocab_size, nsp, 256 + nsp);
    char err[256];
    tok_learner *l = tok_learner_new(pretok_named(pattern), sp, nsp, err, sizeof err);
    if (!l)
        cli_usage_error("%s", err);
    rec_reader *in = rec_open(input);
    rec r;
    while (rec_next(in, &r)) {
        const char *text;
        size_t len;
        if (rec_get_str(&r, "text", &text, &len))
            tok_learner_add(l, text, len);
        else if (!skip_missing)
            rec_fail(&r, "key \"text\" is missing (--skip-missing passes over such records)");
    }
    if (!tok_learner_bytes(l))
        die(EX_DATAERR, "%s: no text to learn from", rec_input_name(in));
    rec_close(in);
    bpe_t *m = tok_learn(l, (uint32_t)vocab_size, min_freq);
    if (m->n_vocab < vocab_size)
        warnx("stopped at %u tokens: no other pair occurs %llu times or more", m->n_vocab,
              (unsigned long long)min_freq);
    tok_save(m, output);
    tok_free(m);
}

static void encode(int argc, char **argv)
{
    static const struct option opts[] = {
        {"keep-text", no_argument, NULL, OPT_KEEP_TEXT},
        {"allow-special", no_argument, NULL, OPT_ALLOW_SPECIAL},
        OPT_SKIP, OPT_MODEL, OPT_OUTPUT, OPT_GZIP, CLI_STD_OPTIONS, {0},
    };
    bool keep_text = false, allow_special = false, skip_missing = false, gzip = false;
    const char *model = NULL, *output = "-";
    for (int c; (c = cli_getopt(argc, argv, "m:o:z", opts)) != -1;) {
        switch (c) {
        case OPT_KEEP_TEXT: keep_text = true; break;
        case OPT_ALLOW_SPECIAL: allow_special = true; break;
        case OPT_SKIP_MISSING: skip_missing = true; break;
        case 'm': model = optarg; break;
        case 'o': output = optarg; break;
        case 'z': gzip = true; break;
        }
    }
    need(model, "encode", "-m MODEL");
    const char *input = cli_one_input(argc, argv);
    bpe_t *m = tok_load(model);
    rec_reader *in = rec_open(input);
    rec_writer *out = rec_create(output, gzip);
    static const char *const replaced[] = {"text", "tokens", NULL};
    u32vec ids = {0};
    rec r;
    while (rec_next(in, &r)) {
        const char *text;
        size_t len;
        if (!rec_get_str(&r, "text", &text, &len)) {
            if (!skip_missing)
                rec_fail(&r, "key \"text\" is missing (--skip-missing passes such records on)");
            rec_copy(out, &r);
            continue;
        }
        ids.n = 0;
        tok_encode(m, text, len, allow_special, &ids);
        rec_begin(out);
        rec_put_rest(out, &r, keep_text ? replaced + 1 : replaced);
        rec_put_u32s(out, "tokens", ids.v, ids.n);
        rec_end(out);
    }
    rec_finish(out);
    rec_close(in);
    u32vec_free(&ids);
    tok_free(m);
}

static void decode(int argc, char **argv)
{
    static const struct option opts[] = {
        {"keep-tokens", no_argument, NULL, OPT_KEEP_TOKENS},
        OPT_SKIP, OPT_MODEL, OPT_OUTPUT, OPT_GZIP, CLI_STD_OPTIONS, {0},
    };
    bool keep_tokens = false, skip_missing = false, gzip = false;
    const char *model = NULL, *output = "-";
    for (int c; (c = cli_getopt(argc, argv, "m:o:z", opts)) != -1;) {
        switch (c) {
        case OPT_KEEP_TOKENS: keep_tokens = true; break;
        case OPT_SKIP_MISSING: skip_missing = true; break;
        case 'm': model = optarg; break;
        case 'o': output = optarg; break;
        case 'z': gzip = true; break;
        }
    }
    need(model, "decode", "-m MODEL");
    const char *input = cli_one_input(argc, argv);
    bpe_t *m = tok_load(model);
    rec_reader *in = rec_open(input);
    rec_writer *out = rec_create(output, gzip);
    static const char *const replaced_all[] = {"text", "tokens", NULL}, *const replaced[] = {"text", NULL};
    u32vec ids = {0};
    char *text = NULL;
    size_t cap = 0;
    rec r;
    while (rec_next(in, &r)) {
        if (!rec_get_u32s(&r, "tokens", m->n_vocab - 1, &ids)) {
            if (!skip_missing)
                rec_fail(&r, "key \"tokens\" is missing (--skip-missing passes such records on)");
            rec_copy(out, &r);
            continue;
        }
        size_t len = 0;
        tok_decode(m, ids.v, ids.n, &text, &len, &cap);
        rec_begin(out);
        rec_put_rest(out, &r, keep_tokens ? replaced : replaced_all);
        rec_put_str(out, "text", text, len);
        rec_end(out);
    }
    rec_finish(out);
    rec_close(in);
    free(text);
    u32vec_free(&ids);
    tok_free(m);
}

static void import_gpt2(int argc, char **argv)
{
    const char *output = NULL;
    model_options(argc, argv, NULL, &output);
    char **files = operands(argc, argv, 2, "import-gpt2", "two files, VOCAB_JSON and MERGES_TXT");
    bpe_t *m = gpt2_import(files[0], files[1]);
    tok_save(m, need(output, "import-gpt2", "-o MODEL"));
    tok_free(m);
}

static void export_gpt2(int argc, char **argv)
{
    const char *model = NULL;
    model_options(argc, argv, &model, NULL);
    char **files = operands(argc, argv, 2, "export-gpt2", "two files, VOCAB_JSON and MERGES_TXT");
    bpe_t *m = tok_load(need(model, "export-gpt2", "-m MODEL"));
    gpt2_export(m, files[0], files[1]);
    tok_free(m);
}

static void info(int argc, char **argv)
{
    const char *model = NULL;
    model_options(argc, argv, &model, NULL);
    operands(argc, argv, 0, "info", "no operands");
    bpe_t *m = tok_load(need(model, "info", "-m MODEL"));
    rec_writer *out = rec_create("-", false);
    rec_begin(out);
    rec_put_u64(out, "vocab_size", m->n_vocab);
    rec_put_u64(out, "merges", m->n_merges);
    rec_put_cstr(out, "pattern", m->pattern);
    msgpack_packer *pk = rec_put_key(out, "special");
    msgpack_pack_map(pk, m->n_special);
    for (uint32_t id = tok_first_special(m); id < m->n_vocab; id++) {
        size_t len;
        const char *t = tok_bytes(m, id, &len);
        msgpack_pack_str_with_body(pk, t, len);
        msgpack_pack_uint32(pk, id);
    }
    rec_end(out);
    rec_finish(out);
    tok_free(m);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*run)(int, char **);
    } cmds[] = {
        {"learn", learn}, {"encode", encode}, {"decode", decode},
        {"import-gpt2", import_gpt2}, {"export-gpt2", export_gpt2}, {"info", info},
    };
    cli_init(argc, argv, usage);
    if (argc < 2 || argv[1][0] == '-') {
        /* only --help and --version get here without a subcommand */
        static const struct option opts[] = {CLI_STD_OPTIONS, {0}};
        while (cli_getopt(argc, argv, "", opts) != -1)
            ;
        cli_usage_error("expected a subcommand: learn, encode, decode, import-gpt2, "
                        "export-gpt2 or info");
    }
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) {
            cmds[i].run(argc - 1, argv + 1); /* its options start after its name */
            return 0;
        }
    cli_usage_error("unknown subcommand '%s'", argv[1]);
}
