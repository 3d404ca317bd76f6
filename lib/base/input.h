/* input: what a tool reads — a file, or standard input for "-" — with gzip recognised by
 * its magic bytes and inflated on the fly (other input passes through unchanged;
 * concatenated gzip members read as one stream; anything else after a member is an
 * error).  A read returns what is available, as read(2) does, so a consumer of a pipe
 * sees data as soon as it is written.
 *
 * A missing or unreadable file exits 66, bad gzip data (a stream cut short, a corrupt
 * member) exits 65 and a failed read exits 74, each naming the input. */
#ifndef RUNNEL_BASE_INPUT_H
#define RUNNEL_BASE_INPUT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct input input;

/* Open path ("-" or NULL: stdin). */
input *input_open(const char *path);
/* Read from an open descriptor, which the input then owns; name is used in messages. */
input *input_open_fd(int fd, const char *name);
/* Read up to n bytes, at least one unless the input has ended: 0 only at its end. */
size_t input_read(input *in, void *buf, size_t n);
/* Whether input_read would return at once: bytes are buffered or waiting in the file or
 * pipe, or the input has ended.  A reader that needs more of a large record reads on while
 * this holds, and parses when it would otherwise wait. */
bool input_ready(const input *in);
const char *input_name(const input *in);
void input_close(input *in);

#endif
