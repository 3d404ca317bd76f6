/* tarfile: a tar of named members, msgpack maps and little-endian float32 tensors, written
 * atomically and read with size checks: the container of checkpoints (model/ckpt.h) and
 * adapter files (model/adapter.h).
 *
 * Writing gives the same bytes for the same members: ustar, with pax headers only for
 * names over 100 bytes; every member a regular file dated 0, owned by 0, mode 0644, in the
 * order put; no padding after the two zero blocks that end the archive.  The file appears
 * whole at tar_finish() or not at all (base/outfile.h).  A path that cannot be created
 * exits 73; a failed write 74, "PATH: cannot write WHAT: why".
 *
 *     tar_writer w;
 *     tar_create(&w, path, "checkpoint");
 *     msgpack_pack_map(&w.pk, 11);                  // a map member: pack it ...
 *     tar_pack_str(&w.pk, "format"); ...
 *     tar_put_map(&w, "config.mp");                 // ... then put it
 *     tar_put(&w, "tokenizer.mp", bytes, len);      // bytes as they are
 *     tar_put_tensors(&w, "tensors/", ps, ps->w, false);
 *     tar_finish(&w);
 *
 * Reading goes member by member from a descriptor the caller owns.  tar_next() says what
 * the next header holds and leaves the wording of a problem to the caller; tar_read(),
 * tar_read_whole() and tar_skip() take the current member's data, and every problem in
 * the data exits 65 through tar_bad(), "NAME: member MEMBER: what".
 *
 *     tar_reader t;
 *     tar_start(&t, fd = tar_open_file(path), path, "a checkpoint");
 *     while (tar_next(&t) == TAR_MEMBER)
 *         ... t.member, t.size; tar_read(&t, dst, t.size) ...
 *     tar_close(&t);
 *     close(fd);
 *
 * A small member (a msgpack map) is read whole into the reader's buffer, which grows as
 * the data arrives, so a header that claims gigabytes allocates nothing until they are
 * there; tensors are read straight to where they belong. */
#ifndef RUNNEL_MODEL_TARFILE_H
#define RUNNEL_MODEL_TARFILE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/outfile.h"
#include "nn/params.h"

struct archive;

/* ---- writing ---- */

typedef struct {
    struct archive *a;
    outfile *f;
    const char *path;
    const char *what;   /* "checkpoint", for messages */
    msgpack_sbuffer sb;
    msgpack_packer pk;  /* packs the next map member into sb, for tar_put_map() */
} tar_writer;

/* Start writing path (atomically); a path that cannot be created exits 73. */
void tar_create(tar_writer *w, const char *path, const char *what);
/* A member of len bytes. */
void tar_put(tar_writer *w, const char *name, const void *data, size_t len);
/* A member of what w->pk packed since the last map member. */
void tar_put_map(tar_writer *w, const char *name);
/* A member PREFIX+NAME for every tensor of ps (only those that learn when learning_only),
 * in declaration order, its float32 taken from slab, a slab shaped like ps->w. */
void tar_put_tensors(tar_writer *w, const char *prefix, const param_set *ps,
                     const float *slab, bool learning_only);
/* End the archive, rename it into place and free what w holds. */
void tar_finish(tar_writer *w);

/* ---- reading ---- */

typedef struct {
    struct archive *a;
    const char *name;   /* of the file, for messages (not owned) */
    const char *member; /* the current member's name, or NULL */
    uint64_t size;      /* and its size in bytes */
    char *buf;          /* what tar_read_whole() read */
    size_t buf_cap;
} tar_reader;

/* What the next header holds. */
typedef enum {
    TAR_MEMBER,   /* a regular file, t->member of t->size bytes */
    TAR_END,      /* no more members */
    TAR_DAMAGED,  /* a header that does not read: tar_error() says why */
    TAR_NOT_FILE, /* t->member (NULL when it has no name) is a folder, a link ... */
    TAR_NO_NAME,  /* a regular file without a name */
    TAR_NO_SIZE,  /* t->member has no size */
} tar_entry;

/* open(2) path for reading; a missing file exits 66, another failure 74. */
int tar_open_file(const char *path);
/* Start reading a tar from fd at its current offset; name is for messages.  Data that is
 * not a tar exits 65, "NAME: not WHAT (tar archive): why" (what as "a checkpoint"). */
void tar_start(tar_reader *t, int fd, const char *name, const char *what);
/* Move to the next member (skipping what is left of the current one). */
tar_entry tar_next(tar_reader *t);
/* Why the last call failed, as libarchive says. */
const char *tar_error(const tar_reader *t);
/* The next len bytes of the current member into dst; exit 65 when they are not there. */
void tar_read(tar_reader *t, void *dst, size_t len);
/* All of the current member, into t->buf (valid until the next tar_read_whole() or
 * tar_close()); the caller has checked that t->size is small. */
const char *tar_read_whole(tar_reader *t);
/* Pass over the current member's data. */
void tar_skip(tar_reader *t);
/* Free what the reader holds (not the descriptor); safe on a zeroed reader or one that
 * failed anywhere. */
void tar_close(tar_reader *t);
/* Exit 65 with "NAME: " and the message. */
_Noreturn void tar_bad(const tar_reader *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- msgpack maps ---- */

/* buf as exactly one msgpack map, unpacked into u (initialized here; the caller destroys
 * it, whatever happened): the map, or NULL with "not one msgpack map" in msg.  msg is
 * emptied when buf is a map, so that a parser can collect what it finds wrong there. */
const msgpack_object_map *tar_map_unpack(msgpack_unpacked *u, const char *buf, size_t len,
                                         char *msg, size_t msglen);
/* o is the msgpack string s (false for NULL and any other type). */
bool tar_str_is(const msgpack_object *o, const char *s);
/* Pack the string s. */
void tar_pack_str(msgpack_packer *pk, const char *s);

#endif
