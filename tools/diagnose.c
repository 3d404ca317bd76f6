/* diagnose: find the faults of a deep-RL training run in its trace (runnel-trace(5)). */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/outfile.h"
#include "rec/rec.h"
#include "rl/diag.h"

static const char usage[] =
    "usage: diagnose [--text] [--explain] [--keep-going] [--set NAME=VALUE ...] [-o FILE] [FILE]\n"
    "       diagnose --list\n"
    "Run RLExplorer-style diagnosis routines on a training trace (FILE, default stdin; a\n"
    "pipe from a running trainer works) and write each finding as a record.\n"
    "\n"
    "  -t, --text          write findings for people instead of records\n"
    "  -e, --explain       also list the routines that ran and those skipped for lack of inputs\n"
    "  -k, --keep-going    warn about a malformed record and skip it (default: exit 65)\n"
    "  -s, --set N=V       override a parameter (CODE.NAME, or explore / exploit)\n"
    "  -l, --list          print every diagnosis with its parameters and exit\n"
    "  -o, --output F      write to F (atomically) instead of stdout\n"
    "  -h, --help          this text; --version the version\n";

typedef struct {
    bool text;
    rec_writer *w;
    FILE *out;
    int findings[3];
} sink;

static void report(void *ctx, const diag_finding *f)
{
    sink *s = ctx;
    s->findings[f->severity]++;
    if (s->text) {
        diag_print_finding(s->out, f);
    } else {
        diag_write_finding(s->w, f);
        rec_flush(s->w); /* a live trace gets its warnings at once */
    }
}

static jmp_buf skip_record;
static uint64_t skipped;

static void skip_bad_record(const rec *r, const char *msg)
{
    warnx("%s: record %llu: %s (skipped)", r->from ? rec_input_name(r->from) : "<input>",
          (unsigned long long)r->index, msg);
    skipped++;
    longjmp(skip_record, 1);
}

/* Feed every record of in to d; returns the last step.  Steps must not decrease. */
static uint64_t feed_all(rec_reader *in, diag *d)
{
    static trace_rec t; /* large, and kept across the longjmp of a skipped record */
    static uint64_t last_step;
    static bool any;
    rec r;
    setjmp(skip_record);
    while (rec_next(in, &r)) {
        trace_parse(&r, &t);
        if (any && t.step < last_step)
            rec_fail(&r, "step %llu comes after step %llu: steps must not decrease",
                     (unsigned long long)t.step, (unsigned long long)last_step);
        any = true;
        last_step = t.step;
        diag_feed(d, &t, r.index);
    }
    return last_step;
}

static void set_param(diag *d, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        cli_usage_error("--set: expected NAME=VALUE, found \"%s\"", arg);
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
    if (!diag_set(d, name, cli_f64("--set", eq + 1, -1e300, 1e300)))
        cli_usage_error("--set: no parameter \"%s\" takes %s (see diagnose --list)", name, eq + 1);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"text", no_argument, NULL, 't'},
        {"explain", no_argument, NULL, 'e'},
        {"keep-going", no_argument, NULL, 'k'},
        {"set", required_argument, NULL, 's'},
        {"list", no_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'o'},
        CLI_STD_OPTIONS,
        {0},
    };
    sink s = {0};
    bool explain = false, keep_going = false, list = false;
    const char *output = "-";
    cli_init(argc, argv, usage);
    diag *d = diag_new(report, &s);
    for (int c; (c = cli_getopt(argc, argv, "teks:lo:", opts)) != -1;) {
        switch (c) {
        case 't': s.text = true; break;
        case 'e': explain = true; break;
        case 'k': keep_going = true; break;
        case 's': set_param(d, optarg); break;
        case 'l': list = true; break;
        case 'o': output = optarg; break;
        }
    }
    if (list) {
        diag_print_catalogue(stdout, d);
        diag_free(d);
        return 0;
    }
    rec_reader *in = rec_open(cli_one_input(argc, argv));
    outfile *of = NULL;
    if (s.text) {
        of = outfile_open(output);
        s.out = fdopen(dup(outfile_fd(of)), "w");
        if (!s.out)
            die(EX_OSERR, "%s: cannot write", output);
    } else {
        s.w = rec_create(output, false);
    }
    if (keep_going)
        rec_set_fail_handler(skip_bad_record);
    uint64_t last_step = feed_all(in, d);
    rec_set_fail_handler(NULL);
    diag_finish(d);
    if (s.text) {
        if (explain)
            diag_print_explain(s.out, d);
        fprintf(s.out, "findings: %d (error %d, warning %d, info %d)\n",
                s.findings[DIAG_ERROR] + s.findings[DIAG_WARNING] + s.findings[DIAG_INFO],
                s.findings[DIAG_ERROR], s.findings[DIAG_WARNING], s.findings[DIAG_INFO]);
        if (fclose(s.out) != 0)
            die(EX_IOERR, "%s: write failed", output);
        outfile_commit(of);
    } else {
        if (explain)
            diag_write_explain(s.w, d, last_step);
        rec_finish(s.w);
    }
    if (skipped)
        warnx("%s: %llu malformed records skipped", rec_input_name(in), (unsigned long long)skipped);
    rec_close(in);
    diag_free(d);
    return 0;
}
