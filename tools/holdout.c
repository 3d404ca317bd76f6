/* holdout: assign each record to train, valid or test by a hash of its id. */
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "rec/rec.h"
#include "recutil/holdout.h"

static const char usage[] =
    "usage: holdout [--valid F] [--test F] [--key K] [--salt S] [--keep SPLIT]\n"
    "               [-o FILE] [-z] [FILE]\n"
    "Add a key \"split\" (train, valid or test) to each record of FILE (default stdin),\n"
    "decided by a hash of its id alone: the same id always lands in the same split.\n"
    "\n"
    "  --valid F         fraction for valid (default 0.05)\n"
    "  --test F          fraction for test (default 0.05); the rest is train\n"
    "  --key K           the key to hash, a string or an integer (default id)\n"
    "  --salt S          an integer that changes the assignment (default 0)\n"
    "  --keep SPLIT      write only the records of SPLIT: train, valid or test\n"
    "  -o, --output F    write to F (atomically) instead of stdout\n"
    "  -z, --gzip        compress the output\n"
    "  -h, --help        this text; --version the version\n";

enum { OPT_VALID = 0x100, OPT_TEST, OPT_KEY, OPT_SALT, OPT_KEEP };

static int parse_split(const char *arg)
{
    for (int s = 0; s < 3; s++)
        if (strcmp(arg, split_names[s]) == 0)
            return s;
    cli_usage_error("--keep: expected train, valid or test, found '%s'", arg);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"valid", required_argument, NULL, OPT_VALID},
        {"test", required_argument, NULL, OPT_TEST},
        {"key", required_argument, NULL, OPT_KEY},
        {"salt", required_argument, NULL, OPT_SALT},
        {"keep", required_argument, NULL, OPT_KEEP},
        {"output", required_argument, NULL, 'o'},
        {"gzip", no_argument, NULL, 'z'},
        CLI_STD_OPTIONS,
        {0},
    };
    holdout_opts h = {.valid = 0.05, .test = 0.05};
    const char *key = "id", *output = "-";
    int keep = -1;
    bool gzip = false;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "o:z", opts)) != -1;) {
        switch (c) {
        case OPT_VALID: h.valid = cli_f64("--valid", optarg, 0, 1); break;
        case OPT_TEST: h.test = cli_f64("--test", optarg, 0, 1); break;
        case OPT_KEY: key = optarg; break;
        case OPT_SALT: h.salt = cli_u64("--salt", optarg, 0, UINT64_MAX); break;
        case OPT_KEEP: keep = parse_split(optarg); break;
        case 'o': output = optarg; break;
        case 'z': gzip = true; break;
        }
    }
    /* a little slack, so that 0.7 + 0.3 is not refused for its rounding */
    if (h.valid + h.test > 1 + 1e-9)
        cli_usage_error("--valid %g and --test %g add up to more than 1", h.valid, h.test);

    rec_reader *in = rec_open(cli_one_input(argc, argv));
    rec_writer *out = rec_create(output, gzip);
    static const char *const replaced[] = {"split", NULL};
    rec r;
    while (rec_next(in, &r)) {
        split_kind s = holdout_record(&r, key, &h);
        if (keep >= 0 && (int)s != keep)
            continue;
        rec_begin(out);
        rec_put_rest(out, &r, replaced);
        rec_put_cstr(out, "split", split_names[s]);
        rec_end(out);
    }
    rec_finish(out);
    rec_close(in);
    return 0;
}
