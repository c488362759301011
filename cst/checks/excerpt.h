#ifndef CST_CHECKS_EXCERPT_H
#define CST_CHECKS_EXCERPT_H

#include <stddef.h>

#include "cst/config.h"
#include "cst/result.h"

/* CST quotes the whole text in its failure messages; cst quotes at most
 * this much so that a mismatch on a large file or output does not produce a
 * report of many megabytes. */
#define CST_EXCERPT_MAX 4096

/* The text as quoted in a message: itself, or its head and a note of how
 * much was left out.  NULL on allocation failure. */
char *cst_excerpt(const char *text, size_t len);

/* Checks the expected (must match) and excluded (must not match) lists
 * against text, adding CST's messages to r; `what` is "output", "error" or
 * "file content string".  -1 on allocation failure. */
int cst_check_patterns(struct cst_result *r, const struct cst_patternv *expected, const struct cst_patternv *excluded,
		       const char *what, const char *text, size_t len);

#endif
