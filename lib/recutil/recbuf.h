/* recbuf: many records held in memory as their packed msgpack bytes, in one arena.
 *
 * For tools that must hold a stream before writing it (shuffle): a record costs its encoded
 * size plus 16 bytes, and the records can be written out in any order.  Slots are numbered
 * from 0 in the order they were added; a slot can be given a new record, and the arena is
 * compacted when replaced records waste more than the live ones use.
 *
 *     recbuf b = {0};
 *     while (rec_next(in, &r))
 *         recbuf_push(&b, &r);
 *     recbuf_swap(&b, 0, b.n - 1);
 *     for (size_t i = 0; i < b.n; i++)
 *         recbuf_write(&b, i, out);
 *     recbuf_free(&b);
 */
#ifndef RUNNEL_RECUTIL_RECBUF_H
#define RUNNEL_RECUTIL_RECBUF_H

#include <stddef.h>

#include "rec/rec.h"

typedef struct {
    size_t off, len;
} recbuf_span;

typedef struct {
    char *bytes;        /* the arena */
    size_t len, cap;
    size_t live;        /* bytes of the arena that slots still point at */
    recbuf_span *slot;  /* (n): where each record's bytes are */
    size_t n, slot_cap;
    msgpack_unpacked view; /* the record being written out */
} recbuf;

/* Add a copy of r as slot n. */
void recbuf_push(recbuf *b, const rec *r);
/* Give slot i a copy of r in place of its record. */
void recbuf_set(recbuf *b, size_t i, const rec *r);
void recbuf_swap(recbuf *b, size_t i, size_t j);
/* Write the record in slot i to w, unchanged. */
void recbuf_write(recbuf *b, size_t i, rec_writer *w);
void recbuf_free(recbuf *b);

#endif
