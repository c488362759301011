/* Helpers shared by the report formats; not part of the public API.
 *
 * Every format has to make arbitrary bytes (command output may hold NULs,
 * control characters and invalid UTF-8) safe for its syntax, so the one
 * UTF-8 decoder lives here and each format decides what to do with a bad
 * byte.  Writers go through stdio and report errors once, at the end, from
 * ferror(): a reporter never has to check every fputs.
 */
#ifndef CST_REPORT_INTERNAL_H
#define CST_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cst/error.h"
#include "cst/result.h"

#define CST_DEFAULT_JUNIT_SUITE "container-structure-test.test"

/* U+FFFD, what every format writes in place of a byte it cannot carry. */
#define CST_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Length (1-4) of the well-formed UTF-8 sequence at p, with its code point
 * in *ret_cp; 0 when p[0] does not start one.  Overlong forms, surrogates and
 * code points past U+10FFFF are not well-formed, as in Go and RFC 3629.  A
 * caller that gets 0 replaces the single byte p[0] and moves on, which is
 * how Go's encoders treat invalid input. */
size_t cst_utf8_decode(const char *p, size_t n, uint32_t *ret_cp);

/* Writes the bytes of s with every invalid sequence replaced by U+FFFD. */
void cst_utf8_write_valid(FILE *out, const char *s, size_t n);

/* Go's filepath.Base: the last element of path, trailing slashes dropped;
 * "." for an empty path and "/" for a path of slashes.  The result points
 * into path (or at a literal) and is *ret_len bytes long. */
const char *cst_path_base(const char *path, size_t *ret_len);

/* Number of results in all suites. */
size_t cst_report_total(const struct cst_report *rep);

/* Flushes out and turns a stream error into CST_E_IO. */
int cst_report_finish(FILE *out, struct cst_error *err);

#endif
