/* Fuzz the record reader: arbitrary bytes (plain or gzip) through rec_open_fd(), every
 * record copied with rec_copy() to a writer whose output is discarded.  Bad data must end
 * in die() (diverted here into a longjmp), never in a crash or a hang.  Each record also
 * goes through mp2json and json2mp (check_json). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "base/err.h"
#include "fuzz_input.h"
#include "json/json.h"
#include "rec/rec.h"

static jmp_buf on_die;

static void exit_hook(int code) { longjmp(on_die, code ? code : -1); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    err_set_exit_hook(exit_hook);
    /* rec_create("-") writes to standard output: send it nowhere */
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
        abort();
    close(null);
    return 0;
}

static void pack_record(void *pk, const msgpack_object *o) { msgpack_pack_object(pk, *o); }

/* JSON text read back into packed records; aborts if it does not parse. */
static void json_to_msgpack(const json_buf *text, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    json_reader *jr = json_reader_new(0, pack_record, &pk);
    if (!json_reader_feed(jr, text->p, text->len) || !json_reader_finish(jr))
        abort();
    json_reader_free(jr);
}

/* mp2json's output for any record must read back, and what it reads back must go
 * through JSON again unchanged.  (Not necessarily equal to the record itself: float32
 * becomes float64, a NaN loses its payload, and integers take their shortest form.) */
static void check_json(const rec *r)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_MAP, .via.map = *r->map};
    json_buf text = {0};
    msgpack_sbuffer once, twice;
    msgpack_sbuffer_init(&once);
    msgpack_sbuffer_init(&twice);
    json_emit(&text, &o, 0);
    json_to_msgpack(&text, &once);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, once.data, once.size, NULL) != MSGPACK_UNPACK_SUCCESS)
        abort();
    text.len = 0;
    json_emit(&text, &u.data, 0);
    json_to_msgpack(&text, &twice);
    if (once.size != twice.size || memcmp(once.data, twice.data, once.size) != 0)
        abort();
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&once);
    msgpack_sbuffer_destroy(&twice);
    json_buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_rec", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0)
        abort();
    if (fuzz_declares_huge_container(fd)) {
        close(fd);
        return 0;
    }
    /* volatile: they are read after a longjmp back here */
    rec_reader *volatile in = rec_open_fd(fd, "<fuzz>");
    rec_writer *volatile out = rec_create("-", false);
    if (setjmp(on_die) == 0) {
        rec r;
        while (rec_next(in, &r)) {
            rec_copy(out, &r);
            check_json(&r);
        }
    }
    rec_finish(out);
    rec_close(in);
    return 0;
}
