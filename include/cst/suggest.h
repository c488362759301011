/* "Did you mean": config keys, commands and flags share one notion of a
 * likely typo. */
#ifndef CST_SUGGEST_H
#define CST_SUGGEST_H

#include <stddef.h>

/* The closest of `n` candidate names to `name` by edit distance (ignoring
 * case), or NULL when none is close enough to be a likely typo. */
const char *cst_suggest(const char *name, const char *const *candidates, size_t n);

#endif
