#include "tok/pretok.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

const char PRETOK_GPT2[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char PRETOK_GPT4[] =
    "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*"
    "|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

const char *pretok_named(const char *name)
{
    if (strcmp(name, "gpt2") == 0)
        return PRETOK_GPT2;
    if (strcmp(name, "gpt4") == 0)
        return PRETOK_GPT4;
    if (strcmp(name, "bytes") == 0)
        return "";
    return name;
}

struct pretok {
    pcre2_code *code;        /* NULL for the empty pattern */
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *stack;
};

pretok *pretok_new(const char *pattern, char *err, size_t errlen)
{
    pretok *p = xcalloc(1, sizeof *p);
    if (!*pattern)
        return p;
    int code;
    PCRE2_SIZE at;
    p->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                            PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &code, &at, NULL);
    if (!p->code) {
        char msg[256];
        pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof msg);
        snprintf(err, errlen, "pattern does not compile at offset %zu: %s", (size_t)at, msg);
        free(p);
        return NULL;
    }
    p->md = pcre2_match_data_create_from_pattern(p->code, NULL);
    p->mctx = pcre2_match_context_create(NULL);
    /* Bound the work a pathological pattern can do on one text; GPT-2's needs little. */
    pcre2_set_match_limit(p->mctx, 10000000);
    pcre2_set_depth_limit(p->mctx, 100000);
    /* JIT when the platform has it: several times faster than the interpreter. */
    if (pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE) == 0) {
        p->stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, NULL);
        pcre2_jit_stack_assign(p->mctx, NULL, p->stack);
    }
    if (!p->md || !p->mctx)
        die(EX_OSERR, "out of memory compiling a pattern");
    return p;
}

void pretok_free(pretok *p)
{
    if (!p)
        return;
    pcre2_jit_stack_free(p->stack);
    pcre2_match_context_free(p->mctx);
    pcre2_match_data_free(p->md);
    pcre2_code_free(p->code);
    free(p);
}

void pretok_split(pretok *p, const char *text, size_t len, pretok_fn fn, void *ctx)
{
    if (!p->code) {
        if (len)
            fn(ctx, text, len);
        return;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
    size_t pos = 0, done = 0; /* search from pos; text before done is reported */
    uint32_t opts = 0;
    while (pos < len) {
        int rc = pcre2_match(p->code, (PCRE2_SPTR)text, len, pos, opts, p->md, p->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            char msg[256];
            pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof msg);
            die(EX_DATAERR, "pre-tokenization pattern failed at byte %zu: %s", pos, msg);
        }
        size_t start = ov[0], end = ov[1];
        if (end == start) {
            /* An empty match: look again for a non-empty one from the same place.  The
             * next search either matches something or finds an empty match further on. */
            pos = start;
            opts = PCRE2_NOTEMPTY_ATSTART;
            continue;
        }
        if (start > done)
            fn(ctx, text + done, start - done);
        fn(ctx, text + start, end - start);
        done = pos = end;
        opts = 0;
    }
    if (done < len)
        fn(ctx, text + done, len - done);
}
