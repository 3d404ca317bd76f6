/* fuzz_input: what several fuzz targets do with their input bytes.
 *
 * fuzz_edited_fd: the input as a file (a memfd at offset 0).  With an odd first byte the
 * input is taken as edits of a valid file base: a length to cut it to, then (offset,
 * byte) pairs to overwrite, so that most inputs reach past the format's first checks;
 * with an even one the rest of the input is the file.
 *
 * fuzz_declares_huge_container: msgpack-c's unpacker reserves memory for the item count
 * an array or map header declares before any item arrives, so five bytes can ask for
 * gigabytes; under the fuzzer that is an out-of-memory abort, in a tool a large
 * (untouched) allocation and then an error.  True when the file declares more than 2^20
 * items anywhere, after gzip is undone as the reader does it; the offset is left at 0. */
#ifndef RUNNEL_FUZZ_INPUT_H
#define RUNNEL_FUZZ_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "base/err.h"

static inline int fuzz_edited_fd(const char *name, const uint8_t *data, size_t size,
                                 const uint8_t *base, size_t base_len)
{
    int fd = memfd_create(name, 0);
    if (fd < 0 || size < 1)
        abort();
    if (data[0] & 1) {
        uint8_t *file = xmalloc(base_len);
        memcpy(file, base, base_len);
        size_t len = base_len;
        if (size >= 3) {
            size_t cut = ((size_t)data[1] << 8 | data[2]) % (base_len + 1);
            len = cut ? cut : base_len;
        }
        for (size_t i = 3; i + 3 <= size; i += 3)
            file[((size_t)data[i] << 8 | data[i + 1]) % base_len] = data[i + 2];
        if (write(fd, file, len) != (ssize_t)len)
            abort();
        free(file);
    } else if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
        abort();
    }
    if (lseek(fd, 0, SEEK_SET) != 0)
        abort();
    return fd;
}

static inline bool fuzz_declares_huge_container(int fd)
{
    enum { MAX = 1 << 24 };
    static unsigned char buf[MAX];
    gzFile gz = gzdopen(dup(fd), "rb");
    int n = gz ? gzread(gz, buf, MAX) : -1;
    if (gz)
        gzclose(gz);
    if (lseek(fd, 0, SEEK_SET) != 0)
        abort();
    for (int i = 0; i + 4 < n; i++)
        if ((buf[i] == 0xdd || buf[i] == 0xdf) &&
            ((uint32_t)buf[i + 1] << 24 | buf[i + 2] << 16 | buf[i + 3] << 8 | buf[i + 4]) > 1u << 20)
            return true;
    return false;
}

#endif
