/* text: line and column helpers shared by the fixed-format readers in lib/chem. */
#ifndef RUNNEL_CHEM_TEXT_H
#define RUNNEL_CHEM_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "chem/io.h"

/* The next line, without its newline or carriage return; false at the end. */
bool src_line(chem_src *s, const char **line, size_t *len);
/* Columns [from, to] (1-based, inclusive) of a line, trimmed, into out. */
void column(const char *line, size_t len, size_t from, size_t to, char *out, size_t cap);
/* A whole finite number of sane size (|v| < 1e9), or false. */
bool parse_double(const char *s, double *v);

#endif
