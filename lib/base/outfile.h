/* outfile: output files that appear whole or not at all.
 *
 * outfile_open() creates a temporary file beside the target (".NAME.XXXXXX" in the same
 * folder, so rename() is atomic); outfile_commit() closes it and renames it into place.
 * If the tool dies or is interrupted (SIGINT, SIGTERM, SIGHUP, SIGPIPE) first, the
 * temporary file is removed, so a failed run never leaves a half-written output.
 * The path "-" means standard output, written directly. */
#ifndef RUNNEL_BASE_OUTFILE_H
#define RUNNEL_BASE_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct outfile outfile;

outfile *outfile_open(const char *path);
int outfile_fd(const outfile *f);
const char *outfile_name(const outfile *f); /* the target path, for messages */
/* Close and rename into place; dies with EX_IOERR on failure.  Frees f. */
void outfile_commit(outfile *f);
/* Close and remove the temporary file.  Frees f. */
void outfile_abort(outfile *f);

/* write(2) all of buf or die with EX_IOERR naming `name`. */
void write_all(int fd, const void *buf, size_t len, const char *name);

#endif
