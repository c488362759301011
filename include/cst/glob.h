/* Path globs for file system policy tests.
 *
 * `*` and `?` match within one path component, `[...]` a byte of a set
 * (`[!...]` or `[^...]` its complement; never `/`), `\` quotes the next
 * byte, `**` matches anything across components, and `**` followed by `/`
 * also matches nothing at all (so `/a/` `**` `/b` matches `/a/b`).  A
 * pattern that does not start with `/` matches at any depth (`*.pem` is
 * read as `/` `**` `/` `*.pem`).  Leading dots are not special.  Matching simulates the
 * pattern as an automaton, one step per byte of the path, so its work is
 * bounded by the path's length times the pattern's (which is capped): no
 * pattern backtracks without end.
 */
#ifndef CST_GLOB_H
#define CST_GLOB_H

#include <stdbool.h>
#include <stddef.h>

#include "cst/error.h"

/* The longest pattern accepted, in bytes. */
#define CST_GLOB_MAX 1024

struct cst_glob;

/* NULL with err (CST_E_CONFIG, saying why) for a pattern that is empty,
 * too long or has an unclosed `[`; CST_E_NOMEM when out of memory. */
struct cst_glob *cst_glob_compile(const char *pattern, struct cst_error *err);
/* Whether the clean absolute path ("/a/b") matches. */
bool cst_glob_match(const struct cst_glob *g, const char *path, size_t len);
const char *cst_glob_pattern(const struct cst_glob *g);
void cst_glob_free(struct cst_glob *g);

#endif
