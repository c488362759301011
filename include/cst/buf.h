/* A growable byte buffer with a ceiling.
 *
 * Invariants: data is NULL or NUL-terminated at data[len]; len <= max when
 * max != 0.  Appending past max keeps the first max bytes, drops the rest and
 * sets `truncated`: output of a command or an engine reply never grows
 * without bound.  Only allocation failure is an error.
 */
#ifndef CST_BUF_H
#define CST_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "cst/error.h"

struct cst_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0: no ceiling */
	bool truncated;
};

#define CST_BUF_INIT {NULL, 0, 0, 0, false}

void cst_buf_init(struct cst_buf *b, size_t max);
/* 0 on success (also when truncated), -1 on allocation failure. */
int cst_buf_append(struct cst_buf *b, const void *p, size_t n);
int cst_buf_puts(struct cst_buf *b, const char *s);
int cst_buf_printf(struct cst_buf *b, const char *fmt, ...) CST_PRINTF(2, 3);
/* Returns the contents (never NULL: "" for an empty buffer) and resets b. */
char *cst_buf_detach(struct cst_buf *b, size_t *ret_len);
void cst_buf_reset(struct cst_buf *b);   /* len = 0, keeps memory */
void cst_buf_release(struct cst_buf *b); /* frees data, b reusable */

#endif
