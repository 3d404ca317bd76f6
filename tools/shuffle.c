/* shuffle: records in a random order fixed by --seed. */
#include "base/cli.h"
#include "base/err.h"
#include "rec/rec.h"
#include "recutil/shuffle.h"

static const char usage[] =
    "usage: shuffle [--seed S] [--window N] [-o FILE] [-z] [FILE]\n"
    "Write the records of FILE (default stdin) in a uniformly random order; the same seed\n"
    "gives the same order.  All records are held in memory unless --window is given.\n"
    "\n"
    "  -s, --seed S      seed of the order (default 0)\n"
    "  -w, --window N    hold only N records: bounded memory, but only a local shuffle\n"
    "  -o, --output F    write to F (atomically) instead of stdout\n"
    "  -z, --gzip        compress the output\n"
    "  -h, --help        this text; --version the version\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"seed", required_argument, NULL, 's'},
        {"window", required_argument, NULL, 'w'},
        {"output", required_argument, NULL, 'o'},
        {"gzip", no_argument, NULL, 'z'},
        CLI_STD_OPTIONS,
        {0},
    };
    uint64_t seed = 0, window = 0;
    const char *output = "-";
    bool gzip = false;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "s:w:o:z", opts)) != -1;) {
        switch (c) {
        case 's': seed = cli_u64("--seed", optarg, 0, UINT64_MAX); break;
        case 'w': window = cli_u64("--window", optarg, 1, SIZE_MAX); break;
        case 'o': output = optarg; break;
        case 'z': gzip = true; break;
        }
    }
    rec_reader *in = rec_open(cli_one_input(argc, argv));
    rec_writer *out = rec_create(output, gzip);
    shuffle_records(in, out, seed, (size_t)window);
    rec_finish(out);
    rec_close(in);
    return 0;
}
