/* A growable byte buffer with a ceiling.
 *
 * Invariants: data is NULL or NUL-terminated at data[len]; len <= max when
 * max != 0.  Appending past max keeps the first max bytes, drops the rest and
 * sets `truncated`: output of a command or an engine reply never grows
 * without bound.  Only allocation failure is an error.
 *
 * A budget is a second ceiling that many buffers draw on at once, from any
 * thread: the command output one whole run may hold.  A buffer past it is
 * truncated the same way and says `over_budget`.  What a buffer drops
 * (cst_buf_reset, cst_buf_release) goes back to the budget; what it hands
 * on with cst_buf_detach does not, since the run still holds it.
 */
#ifndef CST_BUF_H
#define CST_BUF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "cst/error.h"

struct cst_budget {
	atomic_size_t left;
	size_t total;
};

void cst_budget_init(struct cst_budget *bg, size_t total);

struct cst_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0: no ceiling */
	bool truncated;
	struct cst_budget *budget; /* NULL: none */
	bool over_budget;          /* truncated because the budget ran out */
};

#define CST_BUF_INIT {NULL, 0, 0, 0, false, NULL, false}

/* Empty, with that ceiling and no budget. */
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
