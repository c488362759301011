/* Regexes with container-structure-test's (Go RE2) semantics over PCRE2.
 *
 * Compiled once at config load: unanchored search over the whole text,
 * `.` does not match `\n`, `$` matches only at the very end (DOLLAR_ENDONLY),
 * UTF mode tolerant of invalid UTF-8 input, ASCII \d \w \s \b (no UCP), JIT
 * when available, and a match limit so catastrophic backtracking becomes an
 * error instead of a hang.  Matching is thread-safe: a compiled regex may be
 * used from several threads at once.
 */
#ifndef CST_MATCH_H
#define CST_MATCH_H

#include <stddef.h>

#include "cst/error.h"

struct cst_regex;

/* NULL and err set (CST_E_CONFIG, message "invalid regex 'P': why at
 * offset N") when the pattern does not compile. */
struct cst_regex *cst_regex_compile(const char *pattern, struct cst_error *err);
/* The same for a pattern of len bytes, which may hold NUL bytes (Go's
 * strings do); cst_regex_pattern() then reads it short. */
struct cst_regex *cst_regex_compilen(const char *pattern, size_t len, struct cst_error *err);
/* 1 match, 0 no match, -1 error (match/depth limit hit, no memory): err says which. */
int cst_regex_match(const struct cst_regex *re, const char *text, size_t len, struct cst_error *err);
const char *cst_regex_pattern(const struct cst_regex *re);
void cst_regex_free(struct cst_regex *re);

#endif
