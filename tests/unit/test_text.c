/* Unit tests of lib/text/units: cutting text into lines and paragraphs.  Each case is fed
 * in blocks of several sizes (down to one byte), since the splitter must give the same
 * units wherever the block boundaries fall. */
#include <stdint.h>
#include <stdlib.h>

#include "base/rng.h"
#include "check.h"
#include "text/units.h"

/* The units seen, written as "LINE<text>" one after another. */
typedef struct {
    char *s;
    size_t len, cap;
} transcript;

static void record_unit(void *ctx, const char *text, size_t len, uint64_t line)
{
    transcript *t = ctx;
    char head[32];
    int h = snprintf(head, sizeof head, "%llu<", (unsigned long long)line);
    if (t->len + (size_t)h + len + 2 > t->cap) {
        t->cap = 2 * (t->len + (size_t)h + len + 2);
        t->s = xrealloc(t->s, t->cap);
    }
    memcpy(t->s + t->len, head, (size_t)h);
    memcpy(t->s + t->len + h, text, len);
    t->len += (size_t)h + len;
    t->s[t->len++] = '>';
    t->s[t->len] = 0;
}

/* The transcript of text cut with opt, fed in blocks of `block` bytes (0: all at once). */
static char *cut(const units_opts *opt, const char *text, size_t len, size_t block)
{
    transcript t = {.s = xcalloc(1, 1), .cap = 1};
    units u;
    units_init(&u, opt, record_unit, &t);
    for (size_t i = 0; i < len; i += block ? block : len)
        units_feed(&u, text + i, block && len - i > block ? block : len - i);
    units_end(&u);
    units_free(&u);
    return t.s;
}

/* text must cut into `want` whatever the block size. */
static void expect_units(const units_opts *opt, const char *text, const char *want)
{
    static const size_t blocks[] = {0, 1, 2, 3, 5, 64};
    for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
        char *got = cut(opt, text, strlen(text), blocks[b]);
        if (strcmp(got, want) != 0)
            printf("#   block size %zu:\n", blocks[b]);
        CHECK_STR(got, want);
        free(got);
    }
}

static const units_opts lines = {.unit = UNIT_LINE, .min_bytes = 1};
static const units_opts paras = {.unit = UNIT_PARA, .min_bytes = 1};
static const units_opts fortunes = {.unit = UNIT_PARA, .sep = "%", .min_bytes = 1};

static void lines_drop_lf_and_crlf_and_need_no_final_newline(void)
{
    expect_units(&lines, "a\r\nb\nc", "1<a>2<b>3<c>");
    expect_units(&lines, "a\n", "1<a>");
    /* only a CR right before the LF is a line ending */
    expect_units(&lines, "a\rb\r\r\n", "1<a\rb\r>");
}

static void lines_empty_are_dropped_unless_min_bytes_is_0(void)
{
    expect_units(&lines, "a\n\n \nb\n", "1<a>3< >4<b>");
    units_opts keep = {.unit = UNIT_LINE, .min_bytes = 0};
    expect_units(&keep, "a\n\r\nb\n", "1<a>2<>3<b>");
}

static void paragraphs_split_at_runs_of_blank_lines(void)
{
    expect_units(&paras, "\n\npara one\nstill one\n \t\n\n\r\n\f\vpara two\n\n\n",
                 "3<para one\nstill one>8<\f\vpara two>");
    expect_units(&paras, "one\n\ntwo", "1<one>3<two>");
    expect_units(&paras, "only\nlines", "1<only\nlines>");
}

static void paragraphs_of_crlf_text_join_lines_with_lf(void)
{
    expect_units(&paras, "a\r\nb\r\n\r\nc\r\n", "1<a\nb>4<c>");
}

static void separator_lines_split_and_blank_lines_stay(void)
{
    expect_units(&fortunes, "one\n%\ntwo\n\nstill two\n%\n%\nthree",
                 "1<one>3<two\n\nstill two>8<three>");
    /* a separator matches the whole line, CRLF or not */
    expect_units(&fortunes, "a\n%x\n %\n%\r\nb\n%\n", "1<a\n%x\n %>5<b>");
    units_opts dashes = {.unit = UNIT_PARA, .sep = "---", .min_bytes = 1};
    expect_units(&dashes, "---\nx\n--\n---\ny", "2<x\n-->5<y>");
    /* keeping empty units: an empty line between separators is one, two separators in a
     * row hold none */
    units_opts keep = {.unit = UNIT_PARA, .sep = "%", .min_bytes = 0};
    expect_units(&keep, "%\n%\na\n%\n\n%\n", "3<a>5<>");
}

static void empty_input_has_no_units_except_a_whole_empty_file(void)
{
    expect_units(&lines, "", "");
    expect_units(&paras, "", "");
    expect_units(&paras, "\n\n  \n", "");
    expect_units(&fortunes, "%\n%\n", "");
    units_opts file = {.unit = UNIT_FILE, .min_bytes = 1};
    expect_units(&file, "", "");
    file.min_bytes = 0;
    expect_units(&file, "", "1<>");
}

static void whole_file_is_kept_byte_for_byte(void)
{
    units_opts file = {.unit = UNIT_FILE, .min_bytes = 1};
    expect_units(&file, "a\r\n\n b\n\n", "1<a\r\n\n b\n\n>");
}

static void min_bytes_drops_short_units(void)
{
    units_opts three = {.unit = UNIT_PARA, .min_bytes = 3};
    expect_units(&three, "ab\n\nabc\n\nx\ny\n", "3<abc>5<x\ny>");
}

static void line_numbers_restart_with_each_text(void)
{
    transcript t = {.s = xcalloc(1, 1), .cap = 1};
    units u;
    units_init(&u, &lines, record_unit, &t);
    units_feed(&u, "a\nb", 3);
    units_end(&u);
    units_feed(&u, "c\n", 2);
    units_end(&u);
    units_free(&u);
    CHECK_STR(t.s, "1<a>2<b>1<c>");
    free(t.s);
}

static void bytes_pass_through_nul_and_invalid_utf8(void)
{
    transcript t = {.s = xcalloc(1, 1), .cap = 1};
    units u;
    units_init(&u, &lines, record_unit, &t);
    units_feed(&u, "a\0b\xff\xfe\n", 6);
    units_end(&u);
    units_free(&u);
    CHECK_EQ_INT(t.len, 8);
    CHECK(memcmp(t.s, "1<a\0b\xff\xfe>", 8) == 0);
    free(t.s);
}

/* A 3 MB line and a 3 MB paragraph, far beyond any block or initial buffer. */
static void units_longer_than_any_buffer_are_whole(void)
{
    enum { BIG = 3 << 20 };
    char *text = xmalloc(2 * BIG + 16);
    memset(text, 'x', BIG);
    memcpy(text + BIG, "\nend\n\n", 6);
    for (size_t i = 0; i < BIG; i++)
        text[BIG + 6 + i] = i % 1000 == 999 ? '\n' : 'y';
    size_t len = BIG + 6 + BIG;
    for (int unit = UNIT_PARA; unit <= UNIT_LINE; unit++) {
        char *got = cut(&(units_opts){.unit = unit, .min_bytes = 1}, text, len, 65536);
        char *p = got;
        CHECK(strncmp(p, "1<", 2) == 0);
        p += 2;
        CHECK(strspn(p, "x") == BIG);
        p += BIG;
        if (unit == UNIT_PARA) {
            /* "x...x\nend" is one paragraph; the 3146 lines of y are the next */
            CHECK(strncmp(p, "\nend>4<", 7) == 0);
            CHECK_EQ_INT(strlen(p + 7), BIG + 1);
        } else {
            CHECK(strncmp(p, ">2<end>4<", 9) == 0);
            CHECK(strncmp(p + 9, "yyy", 3) == 0);
        }
        free(got);
    }
    free(text);
}

/* Random texts of short lines, blank lines, separators and CRs: every block size gives the
 * units of the whole text fed at once. */
static void block_boundaries_never_change_the_units(void)
{
    static const char *const pieces[] = {"a", "bc", "\n", "\n", "\r\n", " ", "%", "\t", "z\n"};
    rng_t rng;
    rng_seed(&rng, 5);
    char text[400];
    for (int trial = 0; trial < 200; trial++) {
        size_t len = 0;
        while (len < sizeof text - 4) {
            const char *p = pieces[rng_below(&rng, sizeof pieces / sizeof *pieces)];
            memcpy(text + len, p, strlen(p));
            len += strlen(p);
        }
        text[len] = 0;
        const units_opts *kinds[] = {&lines, &paras, &fortunes};
        for (int k = 0; k < 3; k++) {
            char *whole = cut(kinds[k], text, len, 0);
            for (size_t block = 1; block < 9; block++) {
                char *got = cut(kinds[k], text, len, block);
                CHECK_STR(got, whole);
                free(got);
            }
            free(whole);
        }
    }
}

int main(void)
{
    RUN(lines_drop_lf_and_crlf_and_need_no_final_newline);
    RUN(lines_empty_are_dropped_unless_min_bytes_is_0);
    RUN(paragraphs_split_at_runs_of_blank_lines);
    RUN(paragraphs_of_crlf_text_join_lines_with_lf);
    RUN(separator_lines_split_and_blank_lines_stay);
    RUN(empty_input_has_no_units_except_a_whole_empty_file);
    RUN(whole_file_is_kept_byte_for_byte);
    RUN(min_bytes_drops_short_units);
    RUN(line_numbers_restart_with_each_text);
    RUN(bytes_pass_through_nul_and_invalid_utf8);
    RUN(units_longer_than_any_buffer_are_whole);
    RUN(block_boundaries_never_change_the_units);
    return check_done();
}
