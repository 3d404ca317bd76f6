/* Fuzz the checkpoint reader: bytes through ckpt_open_fd() and, when config.mp makes a
 * small model, model_new() and ckpt_read() with the AdamW moments, as `train --resume`
 * reads.  Bad data must end in die() (diverted here into a longjmp), never in a crash, a
 * hang or a large allocation.
 *
 * Random bytes rarely make a tar archive with valid header checksums, so an input whose
 * first byte is odd is taken as edits of a valid checkpoint built at start-up (a tiny gpt
 * with tokenizer, training state and moments): a length to cut it to, then (offset, byte)
 * pairs to overwrite.  An even first byte gives the rest of the input as the file. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/err.h"
#include "fuzz_input.h"
#include "model/ckpt.h"
#include "model/model.h"

static jmp_buf on_die;
static uint8_t *base;   /* the valid checkpoint */
static size_t base_len;

static void exit_hook(int code) { longjmp(on_die, code ? code : -1); }

/* msgpack-c allocates what a container's length claims before it finds the data missing;
 * a real malloc refuses a claim of terabytes and msgpack reports it, so let ASan's do the
 * same instead of aborting. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static void make_base(void)
{
    model_config cfg = {.arch = "gpt", .vocab = 11, .layers = 1, .width = 4, .heads = 2,
                        .context = 4};
    if (model_config_finish(&cfg))
        abort();
    model *m = model_new(&cfg);
    model_init(m, 1);
    param_set *ps = model_params(m);
    float *am = xcalloc(ps->total, sizeof(float)), *av = xcalloc(ps->total, sizeof(float));
    char path[] = "/tmp/fuzz_ckpt.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    ckpt_write(path, &(ckpt_contents){.cfg = &cfg, .params = ps, .tokenizer = "\x80",
                                      .tokenizer_len = 1, .train_state = "\x80",
                                      .train_state_len = 1, .adam_m = am, .adam_v = av});
    fd = open(path, O_RDONLY); /* ckpt_write renamed a new file into place */
    if (fd < 0)
        abort();
    base_len = (size_t)lseek(fd, 0, SEEK_END);
    base = xmalloc(base_len);
    if (pread(fd, base, base_len, 0) != (ssize_t)base_len)
        abort();
    close(fd);
    unlink(path);
    free(am);
    free(av);
    model_free(m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    make_base();
    err_set_exit_hook(exit_hook);
    return 0;
}

/* A generous bound on the parameters of cfg, to skip models too big to build here. */
static double size_bound(const model_config *c)
{
    double C = c->width, mlp = c->mlp, lru = c->lru;
    return (c->vocab + c->context + 8.0) * C +
           c->layers * (8 * C * C + 4 * C * mlp + 4 * C * lru + 4 * lru * lru +
                        (c->conv + 8.0) * lru + 16 * C);
}

static ckpt_reader r;
static model *m;
static float *am, *av;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fd = fuzz_edited_fd("fuzz_ckpt", data, size, base, base_len);
    memset(&r, 0, sizeof r);
    r.fd = -1;
    if (setjmp(on_die) == 0) {
        ckpt_open_fd(&r, fd, "<fuzz>");
        if (size_bound(&r.cfg) < 1e6) {
            m = model_new(&r.cfg);
            param_set *ps = model_params(m);
            am = xcalloc(ps->total, sizeof(float));
            av = xcalloc(ps->total, sizeof(float));
            ckpt_read(&r, ps, am, av);
        }
    }
    ckpt_close(&r);
    model_free(m);
    free(am);
    free(av);
    m = NULL;
    am = av = NULL;
    close(fd);
    return 0;
}
