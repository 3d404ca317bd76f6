/* Reading inputs through libarchive.  Formats and filters are listed one by one rather than
 * with the *_all() calls, because with the raw format enabled (so that a plain file is one
 * member) two of the extras misread ordinary text: the mtree format bids on almost any text
 * ("hello\n" is taken for an mtree spec describing files on the local disk, and reads as
 * one empty entry), and the uu filter decodes any text holding a uuencoded block. */
#include "text/members.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

enum { BLOCK = 1 << 17 };

struct members {
    struct archive *a;
    int fd;
    const char *path;   /* as given: names are built from it */
    const char *shown;  /* in messages */
    char *name;         /* of the current member; NULL before the first */
    size_t name_cap;
    const char *member; /* its part after "PATH/"; NULL for a plain or compressed file */
    bool started;       /* a header has been asked for */
    bool empty;         /* the input is empty, and read as one empty member */
    bool done;          /* libarchive said the archive has ended */
};

static const char *message(const members *m)
{
    const char *msg = archive_error_string(m->a);
    return msg ? msg : "unreadable data";
}

/* Exit for a libarchive failure, naming the input and where in it. */
static _Noreturn void fail(const members *m, const char *where)
{
    int e = archive_errno(m->a);
    int code = e == EIO ? EX_IOERR : e == ENOMEM ? EX_OSERR : EX_DATAERR;
    const char *msg = message(m);
    if (where && m->member)
        die(code, "%s: %s %s: %s", m->shown, where, m->member, msg);
    die(code, "%s: %s", m->shown, msg);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* An input that libarchive reads as a plain stream although its name promises an archive
 * is almost certainly a damaged archive, not text. */
static bool named_like_archive(const char *path)
{
    static const char *const suffixes[] = {
        ".tar", ".tgz", ".tbz", ".tbz2", ".txz", ".tzst", ".tar.gz", ".tar.bz2",
        ".tar.xz", ".tar.zst", ".tar.lz4", ".tar.lzma", ".tar.Z", ".zip", ".7z", ".cpio",
    };
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
        if (ends_with(path, suffixes[i]))
            return true;
    return false;
}

members *members_open(const char *path)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY);
    if (fd < 0)
        die(errno == ENOENT || errno == EACCES || errno == ENOTDIR ? EX_NOINPUT : EX_IOERR,
            "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        die(EX_NOINPUT, "%s: is a directory: give the files in it, or an archive of them",
            path);
    members *m = xcalloc(1, sizeof *m);
    m->fd = fd;
    m->path = path;
    m->shown = is_stdin ? "<stdin>" : path;

    /* libarchive converts member names to the charset of LC_CTYPE; in the "C" locale
     * every tool starts in, a non-ASCII name in a zip or 7z archive would come out empty. */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "");
    m->a = archive_read_new();
    if (!m->a)
        die(EX_OSERR, "out of memory");
    archive_read_support_filter_gzip(m->a);
    archive_read_support_filter_bzip2(m->a);
    archive_read_support_filter_xz(m->a);
    archive_read_support_filter_lzma(m->a);
    archive_read_support_filter_lzip(m->a);
    archive_read_support_filter_zstd(m->a);
    archive_read_support_filter_lz4(m->a);
    archive_read_support_filter_compress(m->a);
    archive_read_support_format_tar(m->a);
    archive_read_support_format_zip(m->a);
    archive_read_support_format_7zip(m->a);
    archive_read_support_format_cpio(m->a);
    archive_read_support_format_empty(m->a);
    archive_read_support_format_raw(m->a); /* bids last: anything else is one plain member */
    if (archive_read_open_fd(m->a, m->fd, BLOCK) != ARCHIVE_OK)
        fail(m, NULL);
    return m;
}

static void set_name(members *m, const char *member)
{
    bool raw = archive_format(m->a) == ARCHIVE_FORMAT_RAW || m->empty;
    size_t need = strlen(m->path) + 1 + (raw ? 0 : strlen(member)) + 1;
    if (need > m->name_cap) {
        m->name = xrealloc(m->name, need);
        m->name_cap = need;
    }
    strcpy(m->name, m->path);
    m->member = NULL;
    if (!raw) {
        strcat(m->name, "/");
        m->member = m->name + strlen(m->name);
        strcat(m->name, member);
    }
}

const char *members_next(members *m)
{
    while (!m->done) {
        struct archive_entry *e;
        bool first = !m->started;
        m->started = true;
        int r = archive_read_next_header(m->a, &e);
        if (r == ARCHIVE_EOF) {
            m->done = true;
            /* libarchive reads an empty input as an empty archive; unless it is named like
             * one, it is an empty text, and a text is one member */
            m->empty = first && archive_format(m->a) == ARCHIVE_FORMAT_EMPTY &&
                       !named_like_archive(m->path);
            if (!m->empty)
                return NULL;
            set_name(m, "");
            return m->name;
        }
        if (r < ARCHIVE_WARN)
            fail(m, "after member");
        if (r == ARCHIVE_WARN)
            warnx("%s: %s", m->shown, message(m));
        /* a hard link's data belongs to the entry it links to */
        if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
            continue;
        if (archive_format(m->a) == ARCHIVE_FORMAT_RAW && named_like_archive(m->path))
            die(EX_DATAERR, "%s: named like an archive, but not a readable one (damaged?)",
                m->shown);
        const char *member = archive_entry_pathname_utf8(e);
        if (!member)
            member = archive_entry_pathname(e);
        set_name(m, member ? member : "");
        return m->name;
    }
    return NULL;
}

size_t members_read(members *m, void *buf, size_t cap)
{
    if (m->empty)
        return 0;
    la_ssize_t n = archive_read_data(m->a, buf, cap);
    if (n < 0)
        fail(m, "member");
    return (size_t)n;
}

void members_close(members *m)
{
    if (!m)
        return;
    archive_read_free(m->a);
    if (m->fd != STDIN_FILENO)
        close(m->fd);
    free(m->name);
    free(m);
}
