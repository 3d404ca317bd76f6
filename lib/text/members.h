/* members: the regular files inside an input, whatever its packaging, read with libarchive.
 *
 * An input is a plain file, a compressed file (gzip, bzip2, xz, lzma, lzip, zstd, lz4,
 * compress) or an archive (tar in all its variants, zip, 7z, cpio), itself possibly
 * compressed.  A plain or compressed file is one member named by the input's path as given;
 * an archive member is named "PATH/MEMBER" with MEMBER as stored in the archive.
 * Directories, links and other non-regular entries are skipped; members come in archive
 * order and are read as a stream, so a member never has to fit in memory.
 *
 *     members *m = members_open(path);           // "-" is stdin
 *     for (const char *name; (name = members_next(m));)
 *         while ((n = members_read(m, buf, sizeof buf)) > 0)
 *             ...
 *     members_close(m);
 *
 * Names are UTF-8 where the archive says what its names are encoded in (zip, 7z, pax) and
 * the stored bytes otherwise; to that end members_open() sets LC_CTYPE to C.UTF-8.
 *
 * A missing input or a directory exits 66.  Damaged data (a corrupt archive, a truncated
 * compressed stream, an input named like an archive that is not one) exits 65 naming the
 * input and the member. */
#ifndef RUNNEL_TEXT_MEMBERS_H
#define RUNNEL_TEXT_MEMBERS_H

#include <stddef.h>

typedef struct members members;

members *members_open(const char *path);
/* The next regular member's name, valid until the next call; NULL after the last. */
const char *members_next(members *m);
/* Up to cap bytes of the current member into buf; 0 at its end. */
size_t members_read(members *m, void *buf, size_t cap);
void members_close(members *m);

#endif
