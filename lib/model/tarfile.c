/* Tar archives of msgpack maps and float32 tensors, written and read with libarchive. */
#include "model/tarfile.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "rec/decode.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "tensors are little-endian float32, written straight from memory");

/* ---- writing ---- */

static _Noreturn void write_failed(const tar_writer *w)
{
    die(EX_IOERR, "%s: cannot write %s: %s", w->path, w->what, archive_error_string(w->a));
}

void tar_create(tar_writer *w, const char *path, const char *what)
{
    w->f = outfile_open(path);
    w->a = archive_write_new();
    w->path = path;
    w->what = what;
    msgpack_sbuffer_init(&w->sb);
    msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
    if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
        archive_write_open_fd(w->a, outfile_fd(w->f)) != ARCHIVE_OK)
        write_failed(w);
}

void tar_put(tar_writer *w, const char *name, const void *data, size_t len)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 0, 0);
    if (archive_write_header(w->a, e) != ARCHIVE_OK)
        write_failed(w);
    archive_entry_free(e);
    for (const char *p = data; len > 0;) {
        la_ssize_t n = archive_write_data(w->a, p, len);
        if (n <= 0)
            write_failed(w);
        p += n;
        len -= (size_t)n;
    }
}

void tar_put_map(tar_writer *w, const char *name)
{
    tar_put(w, name, w->sb.data, w->sb.size);
    msgpack_sbuffer_clear(&w->sb);
}

void tar_put_tensors(tar_writer *w, const char *prefix, const param_set *ps,
                     const float *slab, bool learning_only)
{
    char name[PARAM_NAME_MAX + 32];
    for (int i = 0; i < ps->n; i++) {
        const param_info *p = &ps->info[i];
        if (learning_only && (p->flags & PARAM_FROZEN))
            continue;
        snprintf(name, sizeof name, "%s%s", prefix, p->name);
        tar_put(w, name, slab + p->offset, p->count * sizeof(float));
    }
}

void tar_finish(tar_writer *w)
{
    if (archive_write_close(w->a) != ARCHIVE_OK)
        write_failed(w);
    archive_write_free(w->a);
    outfile_commit(w->f);
    msgpack_sbuffer_destroy(&w->sb);
    memset(w, 0, sizeof *w);
}

/* ---- reading ---- */

_Noreturn void tar_bad(const tar_reader *t, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    die(EX_DATAERR, "%s: %s", t->name, msg);
}

int tar_open_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: cannot open: %s", path,
            strerror(errno));
    return fd;
}

void tar_start(tar_reader *t, int fd, const char *name, const char *what)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->a = archive_read_new();
    archive_read_support_format_tar(t->a);
    if (archive_read_open_fd(t->a, fd, 1 << 16) != ARCHIVE_OK)
        tar_bad(t, "not %s (tar archive): %s", what, archive_error_string(t->a));
}

tar_entry tar_next(tar_reader *t)
{
    struct archive_entry *e;
    int rc = archive_read_next_header(t->a, &e);
    t->member = NULL;
    t->size = 0;
    if (rc == ARCHIVE_EOF)
        return TAR_END;
    if (rc != ARCHIVE_OK)
        return TAR_DAMAGED;
    t->member = archive_entry_pathname(e);
    if (archive_entry_filetype(e) != AE_IFREG)
        return TAR_NOT_FILE;
    if (!t->member)
        return TAR_NO_NAME;
    if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0)
        return TAR_NO_SIZE;
    t->size = (uint64_t)archive_entry_size(e);
    return TAR_MEMBER;
}

const char *tar_error(const tar_reader *t) { return archive_error_string(t->a); }

void tar_read(tar_reader *t, void *dst, size_t len)
{
    for (char *p = dst; len > 0;) {
        la_ssize_t n = archive_read_data(t->a, p, len);
        if (n < 0)
            tar_bad(t, "member %.200s: %s", t->member, archive_error_string(t->a));
        if (n == 0)
            tar_bad(t, "member %.200s: truncated", t->member);
        p += n;
        len -= (size_t)n;
    }
}

const char *tar_read_whole(tar_reader *t)
{
    size_t have = 0, want = (size_t)t->size;
    while (have < want) {
        if (t->buf_cap <= have) {
            size_t cap = t->buf_cap ? 2 * t->buf_cap : 1 << 16;
            t->buf_cap = cap < want ? cap : want;
            t->buf = xrealloc(t->buf, t->buf_cap);
        }
        size_t end = t->buf_cap < want ? t->buf_cap : want;
        tar_read(t, t->buf + have, end - have);
        have = end;
    }
    return t->buf;
}

void tar_skip(tar_reader *t)
{
    if (archive_read_data_skip(t->a) != ARCHIVE_OK)
        tar_bad(t, "member %s: %s", t->member, archive_error_string(t->a));
}

void tar_close(tar_reader *t)
{
    if (t->a)
        archive_read_free(t->a);
    free(t->buf);
    memset(t, 0, sizeof *t);
}

/* ---- msgpack maps ---- */

const msgpack_object_map *tar_map_unpack(msgpack_unpacked *u, const char *buf, size_t len,
                                         char *msg, size_t msglen)
{
    msgpack_unpacked_init(u);
    u->zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
    if (!u->zone)
        die(EX_OSERR, "out of memory");
    size_t size;
    msg[0] = 0;
    if (decode_object(buf, len, u->zone, &u->data, &size) != DECODE_COMPLETE || size != len ||
        u->data.type != MSGPACK_OBJECT_MAP) {
        snprintf(msg, msglen, "not one msgpack map");
        return NULL;
    }
    return &u->data.via.map;
}

bool tar_str_is(const msgpack_object *o, const char *s)
{
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

void tar_pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}
