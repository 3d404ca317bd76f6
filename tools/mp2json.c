/* mp2json: records as JSON Lines, for jq and for people. */
#include "base/cli.h"
#include "base/err.h"
#include "base/outfile.h"
#include "json/json.h"
#include "rec/rec.h"

static const char usage[] =
    "usage: mp2json [-o FILE] [--pretty] [--tensors] [FILE]\n"
    "Write each record of FILE (default stdin) as a line of JSON; json2mp reads it back.\n"
    "\n"
    "  -o, --output F   write to F (atomically) instead of stdout\n"
    "  -p, --pretty     indent, one value per line\n"
    "  -t, --tensors    show dense arrays {dtype, shape, data} with data as numbers\n"
    "  -h, --help       this text; --version the version\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"pretty", no_argument, NULL, 'p'},
        {"tensors", no_argument, NULL, 't'},
        CLI_STD_OPTIONS,
        {0},
    };
    const char *output = "-";
    unsigned flags = 0;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "o:pt", opts)) != -1;) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'p': flags |= JSON_PRETTY; break;
        case 't': flags |= JSON_TENSORS; break;
        }
    }
    rec_reader *in = rec_open(cli_one_input(argc, argv));
    outfile *out = outfile_open(output);
    json_buf b = {0};
    rec r;
    while (rec_next(in, &r)) {
        msgpack_object o = {.type = MSGPACK_OBJECT_MAP, .via.map = *r.map};
        json_emit(&b, &o, flags);
        json_buf_put(&b, "\n", 1);
        if (b.len >= 1 << 20) {
            write_all(outfile_fd(out), b.p, b.len, outfile_name(out));
            b.len = 0;
        }
    }
    write_all(outfile_fd(out), b.p, b.len, outfile_name(out));
    outfile_commit(out);
    json_buf_free(&b);
    rec_close(in);
    return 0;
}
