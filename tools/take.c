/* take: pass the first N records of a stream (after skipping K). */
#include "base/cli.h"
#include "base/err.h"
#include "rec/rec.h"

static const char usage[] =
    "usage: take [-n N] [--skip K] [-o FILE] [-z] [FILE]\n"
    "Copy records FILE (default stdin) to stdout, skipping the first K and stopping after N.\n"
    "\n"
    "  -n, --count N    records to pass (default 10)\n"
    "  -s, --skip K     records to drop first (default 0)\n"
    "  -o, --output F   write to F (atomically) instead of stdout\n"
    "  -z, --gzip       compress the output\n"
    "  -h, --help       this text; --version the version\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"count", required_argument, NULL, 'n'},
        {"skip", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {"gzip", no_argument, NULL, 'z'},
        CLI_STD_OPTIONS,
        {0},
    };
    uint64_t count = 10, skip = 0;
    const char *output = "-";
    bool gzip = false;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "n:s:o:z", opts)) != -1;) {
        switch (c) {
        case 'n': count = cli_u64("--count", optarg, 0, UINT64_MAX); break;
        case 's': skip = cli_u64("--skip", optarg, 0, UINT64_MAX); break;
        case 'o': output = optarg; break;
        case 'z': gzip = true; break;
        }
    }
    rec_reader *in = rec_open(cli_one_input(argc, argv));
    rec_writer *out = rec_create(output, gzip);
    rec r;
    /* Stop reading once N records are out: take on a huge stream returns at once. */
    for (uint64_t seen = 0; seen < skip + count && rec_next(in, &r); seen++)
        if (seen >= skip)
            rec_copy(out, &r);
    rec_finish(out);
    rec_close(in);
    return 0;
}
