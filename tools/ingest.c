/* ingest: text files, compressed files and archives to {"id","text"} records, one per file,
 * paragraph or line. */
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "rec/rec.h"
#include "text/members.h"
#include "text/units.h"

static const char usage[] =
    "usage: ingest [--unit file|para|line] [--sep SEP] [--min-bytes N] [-o FILE] [-z]\n"
    "              [FILE ...]\n"
    "Turn text files, compressed files and archives (tar, zip, 7z, cpio) into records\n"
    "{\"id\", \"text\"}, one per file, paragraph or line.  No FILE, or \"-\", reads stdin.\n"
    "\n"
    "  --unit U          file (default), para (blank lines separate) or line\n"
    "  --sep SEP         paragraphs are separated by lines equal to SEP (implies para)\n"
    "  --min-bytes N     drop units shorter than N bytes (default 1: no empty units)\n"
    "  -o, --output F    write to F (atomically) instead of stdout\n"
    "  -z, --gzip        compress the output\n"
    "  -h, --help        this text; --version the version\n";

enum { BLOCK = 1 << 18, OPT_UNIT = 0x100, OPT_SEP, OPT_MIN_BYTES };

/* Where units go: records whose id is the member's name, with ":LINE" unless whole. */
typedef struct {
    rec_writer *out;
    bool whole;
    char *id;
    size_t name_len, id_cap;
} sink;

static void sink_member(sink *s, const char *name)
{
    s->name_len = strlen(name);
    if (s->name_len + 32 > s->id_cap) {
        s->id_cap = s->name_len + 32;
        s->id = xrealloc(s->id, s->id_cap);
    }
    memcpy(s->id, name, s->name_len + 1);
}

/* ":LINE" at p; by hand, since snprintf() took a third of the time on short lines. */
static size_t put_line_number(char *p, uint64_t line)
{
    char digits[20];
    size_t n = 0;
    do
        digits[n++] = (char)('0' + line % 10);
    while ((line /= 10) > 0);
    p[0] = ':';
    for (size_t i = 0; i < n; i++)
        p[1 + i] = digits[n - 1 - i];
    return 1 + n;
}

static void put_unit(void *ctx, const char *text, size_t len, uint64_t line)
{
    sink *s = ctx;
    size_t id_len = s->name_len;
    if (!s->whole)
        id_len += put_line_number(s->id + id_len, line);
    if (len > UINT32_MAX)
        die(EX_DATAERR, "%.*s: %zu bytes of text do not fit in one record (4 GiB at most)",
            (int)id_len, s->id, len);
    rec_begin(s->out);
    rec_put_str(s->out, "id", s->id, id_len);
    rec_put_str(s->out, "text", text, len);
    rec_end(s->out);
}

static unit_kind parse_unit(const char *arg)
{
    if (strcmp(arg, "file") == 0)
        return UNIT_FILE;
    if (strcmp(arg, "para") == 0)
        return UNIT_PARA;
    if (strcmp(arg, "line") == 0)
        return UNIT_LINE;
    cli_usage_error("--unit: expected file, para or line, found '%s'", arg);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"unit", required_argument, NULL, OPT_UNIT},
        {"sep", required_argument, NULL, OPT_SEP},
        {"min-bytes", required_argument, NULL, OPT_MIN_BYTES},
        {"output", required_argument, NULL, 'o'},
        {"gzip", no_argument, NULL, 'z'},
        CLI_STD_OPTIONS,
        {0},
    };
    units_opts opt = {.unit = UNIT_FILE, .min_bytes = 1};
    const char *unit_arg = NULL, *output = "-";
    bool gzip = false;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "o:z", opts)) != -1;) {
        switch (c) {
        case OPT_UNIT: unit_arg = optarg; opt.unit = parse_unit(optarg); break;
        case OPT_SEP: opt.sep = optarg; break;
        case OPT_MIN_BYTES: opt.min_bytes = cli_u64("--min-bytes", optarg, 0, UINT64_MAX); break;
        case 'o': output = optarg; break;
        case 'z': gzip = true; break;
        }
    }
    if (opt.sep && unit_arg && opt.unit != UNIT_PARA)
        cli_usage_error("--sep splits paragraphs; it cannot go with --unit %s", unit_arg);
    if (opt.sep)
        opt.unit = UNIT_PARA;
    if (opt.sep && strchr(opt.sep, '\n'))
        cli_usage_error("--sep: a separator is one line; it cannot hold a newline");

    sink s = {.out = rec_create(output, gzip), .whole = opt.unit == UNIT_FILE};
    units u;
    units_init(&u, &opt, put_unit, &s);
    char *buf = xmalloc(BLOCK);
    static char *const stdin_only[] = {"-"};
    char *const *paths = optind < argc ? argv + optind : stdin_only;
    int npaths = optind < argc ? argc - optind : 1;
    for (int i = 0; i < npaths; i++) {
        members *m = members_open(paths[i]);
        for (const char *name; (name = members_next(m));) {
            sink_member(&s, name);
            for (size_t n; (n = members_read(m, buf, BLOCK)) > 0;)
                units_feed(&u, buf, n);
            units_end(&u);
        }
        members_close(m);
    }
    rec_finish(s.out);
    units_free(&u);
    free(buf);
    free(s.id);
    return 0;
}
