/* Go regexp (RE2) syntax rewritten as a PCRE2 pattern with the same verdicts.
 *
 * CST matches with Go's regexp package.  PCRE2 accepts a superset of its
 * syntax and gives some shared syntax another meaning, so a pattern is not
 * handed to PCRE2 as written: it is parsed with Go's rules (what Go rejects
 * is an error here too) and written out in explicit PCRE2 terms: `\s` as
 * [\t\n\f\r ], `^`/`$` as \A/\z (or line assertions under (?m)), `.` as
 * [^\n], octal escapes as code points, Go's POSIX and Perl classes as ASCII
 * ranges, Go's case folding where PCRE2's differs (\W, \p{..}), every
 * group as a plain "(" (compiled with PCRE2_NO_AUTO_CAPTURE).  Greediness
 * is kept though it cannot change whether a text matches.
 */
#ifndef CST_RE2_SYNTAX_H
#define CST_RE2_SYNTAX_H

#include <stddef.h>

#include "cst/error.h"

/* A malloc'd NUL-terminated PCRE2 pattern, or NULL and err set
 * (CST_E_CONFIG: "<Go's reason> at offset N", CST_E_NOMEM). */
char *cst_re2_to_pcre2(const char *pattern, size_t len, struct cst_error *err);

/* Bytes of text that Go reads as U+FFFD (bytes that are not part of a
 * valid UTF-8 sequence); 0 when text is valid UTF-8. */
size_t cst_utf8_bad_bytes(const char *text, size_t len);
/* Writes text to out with each such byte replaced by U+FFFD (EF BF BD);
 * out holds len + 2 * cst_utf8_bad_bytes(text, len) bytes. */
void cst_utf8_replace_bad(const char *text, size_t len, char *out);

#endif
