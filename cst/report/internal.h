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

/* The report's provenance as name/value pairs, in the order every format
 * writes them; unknown values are left out, and a report without
 * provenance (prov.version NULL) has none.  name is the machine key (JUnit
 * property "cst.NAME", TAP comment, HTML class), json the key of JSON's
 * Provenance object (NULL: the format carries it elsewhere), label the
 * words for people. */
struct cst_prov_field {
	const char *name;
	const char *json;
	const char *label;
	const char *value;
};

#define CST_PROV_MAX 9

struct cst_prov_fields {
	struct cst_prov_field f[CST_PROV_MAX];
	size_t n;
	char start[32];    /* "2026-01-31T12:00:00Z" */
	char duration[32]; /* seconds, "0.041252499" */
};

void cst_provenance_fields(const struct cst_report *rep, struct cst_prov_fields *ret);

/* Seconds with at least three decimals and no float rounding: 1500000 ns is
 * "0.0015", 2 s is "2.000". */
void cst_report_seconds(int64_t ns, char buf[static 32]);

/* A JUnit classname for a config path: the path relative to cwd when it
 * lies below it (a relative path without "..": as given, "./" dropped),
 * else its base name.  CI servers split a classname at its last dot into
 * package and class, so every '.' of the path becomes '_' and every '/' a
 * '.': "tests/structure.yaml" is class structure_yaml of package tests.
 * malloc'd; NULL when out of memory. */
char *cst_junit_classname(const char *path, const char *cwd);

/* Flushes out and turns a stream error into CST_E_IO. */
int cst_report_finish(FILE *out, struct cst_error *err);

#endif
