/* Regexes with container-structure-test's (Go regexp, RE2) semantics over PCRE2.
 *
 * Compiled once at config load: the pattern is read with Go's syntax rules
 * (what Go refuses is an error here: lookarounds, backreferences,
 * possessive and nested quantifiers, \Z, counts over 1000...) and
 * rewritten into PCRE2 terms with Go's meaning (see cst/re2_syntax.h).
 * Matching is an unanchored search over the whole text: `.` does not match
 * `\n`, `^`/`$` only at the very start/end, ASCII \d \s \w \b (`\s` without
 * \v), Unicode simple case folding, and each byte of invalid UTF-8 in the
 * text reads as U+FFFD.  JIT when a text is long, and a match limit so
 * catastrophic backtracking becomes an error instead of a hang.  Matching
 * is thread-safe: a compiled regex may be used from several threads at once.
 */
#ifndef CST_MATCH_H
#define CST_MATCH_H

#include <stddef.h>

#include "cst/error.h"

struct cst_regex;

/* NULL and err set (CST_E_CONFIG, message "invalid regex 'P': why at
 * offset N", why in Go's words) when Go would not compile the pattern. */
struct cst_regex *cst_regex_compile(const char *pattern, struct cst_error *err);
/* The same for a pattern of len bytes, which may hold NUL bytes (Go's
 * strings do); cst_regex_pattern() then reads it short. */
struct cst_regex *cst_regex_compilen(const char *pattern, size_t len, struct cst_error *err);
/* 1 match, 0 no match, -1 error (match/depth limit hit, no memory): err says which. */
int cst_regex_match(const struct cst_regex *re, const char *text, size_t len, struct cst_error *err);
const char *cst_regex_pattern(const struct cst_regex *re);
void cst_regex_free(struct cst_regex *re);

#endif
