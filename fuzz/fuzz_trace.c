/* Fuzz the trace reader and the diagnosis: arbitrary bytes (plain or gzip) read as a
 * record stream, each record parsed as a trace record (trace_parse) and fed to the
 * diagnosis routines in step order, as diagnose(1) does.  Malformed records must end in
 * die() (diverted here into a longjmp), never in a crash, a hang or a routine reading
 * past what it was given; a stream that gets through is finished (diag_finish). */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "base/err.h"
#include "fuzz_input.h"
#include "rec/rec.h"
#include "rl/diag.h"

static jmp_buf on_die;

static void exit_hook(int code) { longjmp(on_die, code ? code : -1); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    err_set_exit_hook(exit_hook);
    return 0;
}

static uint64_t findings;

static void count(void *ctx, const diag_finding *f)
{
    /* every finding is complete: a code, texts, a severity in range */
    if (!f->code || !f->meaning || !f->practice || !f->fixes || f->severity > DIAG_ERROR ||
        f->n_evidence > DIAG_MAX_EVIDENCE)
        abort();
    findings++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static trace_rec t;
    int fd = memfd_create("fuzz_trace", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0)
        abort();
    if (fuzz_declares_huge_container(fd)) {
        close(fd);
        return 0;
    }
    rec_reader *volatile in = rec_open_fd(fd, "<fuzz>");
    diag *volatile d = diag_new(count, NULL);
    if (setjmp(on_die) == 0) {
        rec r;
        uint64_t last = 0;
        while (rec_next(in, &r)) {
            trace_parse(&r, &t);
            if (t.step < last)
                rec_fail(&r, "step %llu after %llu", (unsigned long long)t.step,
                         (unsigned long long)last);
            last = t.step;
            diag_feed(d, &t, r.index);
        }
        diag_finish(d);
    }
    diag_free(d);
    rec_close(in);
    return 0;
}
