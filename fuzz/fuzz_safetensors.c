/* Fuzz the safetensors reader: bytes through st_open_fd() and, when the header passes,
 * hf_read_gpt2() into the model of tests/ref/hf/tiny (fuzz/run starts from the top of the
 * checkout), as import-hf reads.  Bad data must end in die() (diverted here into a
 * longjmp), never in a crash, a hang or a large allocation.
 *
 * An input whose first byte is odd is taken as edits of the valid tests/ref/hf/tiny/
 * model.safetensors: a length to cut it to, then (offset, byte) pairs to overwrite, so
 * that most inputs reach past the header's checks.  An even first byte gives the rest of
 * the input as the file. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/err.h"
#include "fuzz_input.h"
#include "model/hf.h"
#include "model/model.h"

#define TINY "tests/ref/hf/tiny/"

static jmp_buf on_die;
static uint8_t *base; /* the valid file */
static size_t base_len;
static model *m;      /* the tiny folder's model */

static void exit_hook(int code) { longjmp(on_die, code ? code : -1); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    model_config cfg;
    hf_config_read(TINY "config.json", &cfg);
    m = model_new(&cfg);
    int fd = open(TINY "model.safetensors", O_RDONLY);
    if (fd < 0)
        abort();
    base_len = (size_t)lseek(fd, 0, SEEK_END);
    base = xmalloc(base_len);
    if (pread(fd, base, base_len, 0) != (ssize_t)base_len)
        abort();
    close(fd);
    err_set_exit_hook(exit_hook);
    return 0;
}

static st_file f;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fd = fuzz_edited_fd("fuzz_safetensors", data, size, base, base_len);
    memset(&f, 0, sizeof f);
    f.fd = -1;
    if (setjmp(on_die) == 0) {
        st_open_fd(&f, fd, "<fuzz>");
        hf_read_gpt2(&f, model_params(m));
    }
    st_close(&f);
    close(fd);
    return 0;
}
