#include "base/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static const char *usage_text = "";

void cli_init(int argc, char **argv, const char *usage)
{
    (void)argc;
    err_init(argv[0]);
    usage_text = usage;
    opterr = 0;
}

_Noreturn void cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", err_prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", err_prog);
    exit(EX_USAGE);
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    char spec[128];
    if (snprintf(spec, sizeof spec, ":h%s", shortopts) >= (int)sizeof spec)
        die(EX_SOFTWARE, "option string too long");
    int c = getopt_long(argc, argv, spec, longopts, NULL);
    switch (c) {
    case 'h':
        fputs(usage_text, stdout);
        exit(0);
    case CLI_VERSION:
        printf("%s (runnel) %s\n", err_prog, RUNNEL_VERSION);
        exit(0);
    /* getopt_long() leaves in optopt the short option, or a long option's code: name what
     * the user typed instead when it was a long option */
    case ':':
        if (strncmp(argv[optind - 1], "--", 2) == 0)
            cli_usage_error("option %s needs an argument", argv[optind - 1]);
        cli_usage_error("option -%c needs an argument", optopt);
    case '?':
        if (optopt && strncmp(argv[optind - 1], "--", 2) != 0)
            cli_usage_error("unknown option -%c", optopt);
        cli_usage_error("unknown option %s", argv[optind - 1]);
    default:
        return c;
    }
}

uint64_t cli_u64(const char *opt, const char *arg, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || arg[strspn(arg, " \t")] == '-' || v < lo || v > hi)
        cli_usage_error("%s: expected an integer from %llu to %llu, found '%s'", opt,
                        (unsigned long long)lo, (unsigned long long)hi, arg);
    return v;
}

int64_t cli_i64(const char *opt, const char *arg, int64_t lo, int64_t hi)
{
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi)
        cli_usage_error("%s: expected an integer from %lld to %lld, found '%s'", opt,
                        (long long)lo, (long long)hi, arg);
    return v;
}

double cli_f64(const char *opt, const char *arg, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || isnan(v) || v < lo || v > hi)
        cli_usage_error("%s: expected a number from %g to %g, found '%s'", opt, lo, hi, arg);
    return v;
}

const char *cli_one_input(int argc, char **argv)
{
    if (optind < argc - 1)
        cli_usage_error("expected at most one input file, found %d", argc - optind);
    return optind < argc ? argv[optind] : "-";
}
