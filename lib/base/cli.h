/* cli: command-line conventions shared by every tool.
 *
 * cli_getopt() is getopt_long() with runnel's rules built in: -h/--help prints the
 * tool's usage text to stdout and exits 0, --version prints the version, and an unknown
 * option or a missing argument is a usage error (exit 64) that points at --help.
 * The cli_<type>() parsers turn an option argument into a number or die with exit 64,
 * naming the option and what was expected. */
#ifndef RUNNEL_BASE_CLI_H
#define RUNNEL_BASE_CLI_H

#include <getopt.h>
#include <stdint.h>

#ifndef RUNNEL_VERSION
#define RUNNEL_VERSION "unknown"
#endif

enum { CLI_VERSION = 0x1000 }; /* the getopt code of --version */

#define CLI_STD_OPTIONS {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, CLI_VERSION}

/* Remember argv[0] (for messages) and the usage text printed by -h. */
void cli_init(int argc, char **argv, const char *usage);

/* getopt_long() that handles -h, --version, unknown options and missing arguments itself;
 * shortopts need not mention 'h' or start with ':'.  Returns the next option or -1. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* A usage error: print "tool: <fmt>", a pointer to --help, and exit 64. */
_Noreturn void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

uint64_t cli_u64(const char *opt, const char *arg, uint64_t lo, uint64_t hi);
int64_t cli_i64(const char *opt, const char *arg, int64_t lo, int64_t hi);
double cli_f64(const char *opt, const char *arg, double lo, double hi);

/* The one operand a filter may take: at most one FILE after the options ("-" or none
 * means stdin).  Returns the path or "-". */
const char *cli_one_input(int argc, char **argv);

#endif
