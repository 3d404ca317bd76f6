/* json2mp: JSON Lines (or any run of JSON objects) as records. */
#include "base/cli.h"
#include "base/err.h"
#include "json/json.h"
#include "rec/rec.h"

static const char usage[] =
    "usage: json2mp [-o FILE] [-z] [--f32] [FILE]\n"
    "Write each JSON object of FILE (default stdin; JSON Lines, gzip or plain) as a record.\n"
    "\n"
    "  -o, --output F   write to F (atomically) instead of stdout\n"
    "  -z, --gzip       compress the output\n"
    "      --f32        store floats as float32 (float64 if too large for one)\n"
    "  -h, --help       this text; --version the version\n";

static void put_record(void *out, const msgpack_object *o)
{
    rec r = {.map = &o->via.map};
    rec_copy(out, &r);
}

int main(int argc, char **argv)
{
    enum { OPT_F32 = 0x100 };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"gzip", no_argument, NULL, 'z'},
        {"f32", no_argument, NULL, OPT_F32},
        CLI_STD_OPTIONS,
        {0},
    };
    const char *output = "-";
    bool gzip = false;
    unsigned flags = 0;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "o:z", opts)) != -1;) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'z': gzip = true; break;
        case OPT_F32: flags |= JSON_F32; break;
        }
    }
    const char *input = cli_one_input(argc, argv);
    rec_writer *out = rec_create(output, gzip);
    json_read_file(input, flags, put_record, out);
    rec_finish(out);
    return 0;
}
