/* units: cutting a text into the units that become records (the whole text, paragraphs or
 * lines), fed block by block so that a large file never has to fit in memory.
 *
 *     units u;
 *     units_init(&u, &(units_opts){.unit = UNIT_PARA, .min_bytes = 1}, emit, ctx);
 *     while ((n = read(...)) > 0)
 *         units_feed(&u, buf, n);
 *     units_end(&u);           // the last unit; u is then ready for the next text
 *     units_free(&u);
 *
 * The contract, which the ingest(1) man page repeats:
 *  - A line ends at "\n"; a "\r" just before it is dropped too, so CRLF text gives the same
 *    units as LF text.  The last line needs no "\n".
 *  - UNIT_LINE: every line is a unit, without its line ending.
 *  - UNIT_PARA: paragraphs are runs of lines separated by one or more blank lines (empty or
 *    only spaces, tabs, CR, VT, FF).  With a separator (sep != NULL) they are separated by
 *    lines exactly equal to sep instead, and blank lines belong to the paragraph.  A
 *    paragraph's lines are joined with "\n"; it has no trailing newline.
 *  - UNIT_FILE: the whole text, byte for byte (no line-ending changes).
 *  - Each unit comes with the line it starts on, counted from 1 (a UNIT_FILE unit: 1).
 *    A unit shorter than min_bytes is dropped.  A paragraph holds at least one line, so
 *    two separators in a row give no paragraph between them.
 *  - Bytes are bytes: invalid UTF-8 and NULs pass through. */
#ifndef RUNNEL_TEXT_UNITS_H
#define RUNNEL_TEXT_UNITS_H

#include <stddef.h>
#include <stdint.h>

typedef enum { UNIT_FILE, UNIT_PARA, UNIT_LINE } unit_kind;

typedef struct {
    unit_kind unit;
    const char *sep;  /* UNIT_PARA only: the separator line; NULL: blank lines separate */
    uint64_t min_bytes;
} units_opts;

/* Receives each unit and the line it starts on; text is valid only during the call. */
typedef void (*units_emit_fn)(void *ctx, const char *text, size_t len, uint64_t line);

typedef struct {
    units_opts opt;
    size_t seplen;
    units_emit_fn emit;
    void *ctx;
    char *partial;           /* a line cut by the end of a block */
    size_t partial_len, partial_cap;
    char *unit;              /* the paragraph (or text) being gathered */
    size_t unit_len, unit_cap;
    uint64_t lines;          /* complete lines seen */
    uint64_t unit_line;      /* line the open paragraph starts on; 0 when none is open */
} units;

void units_init(units *u, const units_opts *opt, units_emit_fn emit, void *ctx);
void units_feed(units *u, const void *data, size_t n);
/* The text is complete: emit its last unit and start counting lines afresh. */
void units_end(units *u);
void units_free(units *u);

#endif
