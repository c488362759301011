/* Pins CST's (Go RE2) regex semantics as cst implements them over PCRE2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cst/match.h"

static int m(const char *pattern, const char *text, size_t len)
{
	struct cst_error err = CST_ERROR_INIT;
	struct cst_regex *re = cst_regex_compile(pattern, &err);
	assert_non_null(re);
	int r = cst_regex_match(re, text, len, &err);
	cst_error_clear(&err);
	cst_regex_free(re);
	return r;
}

#define M(p, t) m(p, t, strlen(t))

static void test_unanchored_search(void **state)
{
	(void)state;
	assert_int_equal(M("world", "hello world\n"), 1);
	assert_int_equal(M("planet", "hello world\n"), 0);
	assert_int_equal(M("", ""), 1);
}

static void test_dollar_only_at_very_end(void **state)
{
	(void)state;
	/* RE2 without (?m): `$` does not match before a trailing newline. */
	assert_int_equal(M("^1.2.3$", "1.2.3\n"), 0);
	assert_int_equal(M("^1.2.3$", "1.2.3"), 1);
	assert_int_equal(M("^1.2.3\n$", "1.2.3\n"), 1);
}

static void test_caret_only_at_start(void **state)
{
	(void)state;
	assert_int_equal(M("^b", "a\nb"), 0);
	assert_int_equal(M("(?m)^b", "a\nb"), 1);
}

static void test_dot_does_not_match_newline(void **state)
{
	(void)state;
	assert_int_equal(M("a.b", "a\nb"), 0);
	assert_int_equal(M("a.b", "axb"), 1);
	assert_int_equal(M("(?s)a.b", "a\nb"), 1);
}

static void test_ascii_classes(void **state)
{
	(void)state;
	/* No UCP: \d is [0-9] only, as in RE2. */
	assert_int_equal(M("^\\d$", "\xd9\xa3"), 0); /* ARABIC-INDIC DIGIT THREE */
	assert_int_equal(M("^\\d$", "3"), 1);
	assert_int_equal(M("^\\w+$", "caf\xc3\xa9"), 0);
	/* but `.` matches a whole UTF-8 character */
	assert_int_equal(M("^caf.$", "caf\xc3\xa9"), 1);
}

static void test_invalid_utf8_subject(void **state)
{
	(void)state;
	const char text[] = "ok \xff\xfe bytes";
	assert_int_equal(m("bytes", text, sizeof(text) - 1), 1);
	assert_int_equal(m("^ok", text, sizeof(text) - 1), 1);
	assert_int_equal(m("missing", text, sizeof(text) - 1), 0);
}

static void test_nul_in_subject(void **state)
{
	(void)state;
	const char text[] = "a\0b";
	assert_int_equal(m("b", text, 3), 1);
	assert_int_equal(m("a\\x00b", text, 3), 1);
}

static void test_invalid_pattern(void **state)
{
	(void)state;
	struct cst_error err = CST_ERROR_INIT;
	assert_null(cst_regex_compile("a(b", &err));
	assert_int_equal(err.code, CST_E_CONFIG);
	assert_non_null(strstr(err.msg, "invalid regex 'a(b'"));
	assert_non_null(strstr(err.msg, "offset 3"));
	cst_error_clear(&err);
}

static void test_catastrophic_backtracking_is_bounded(void **state)
{
	(void)state;
	char text[64];
	memset(text, 'a', 40);
	text[40] = '!';
	struct cst_error err = CST_ERROR_INIT;
	struct cst_regex *re = cst_regex_compile("^(a+)+$", &err);
	assert_non_null(re);
	time_t t0 = time(NULL);
	int r = cst_regex_match(re, text, 41, &err);
	/* The match limit turns exponential backtracking into a clear error
	 * (a failed test) instead of a hung CI job. */
	assert_int_equal(r, -1);
	assert_non_null(strstr(err.msg, "gave up"));
	assert_true(time(NULL) - t0 < 30);
	cst_error_clear(&err);
	cst_regex_free(re);
}

/* Long texts go through JIT-compiled code (made on first need), short
 * ones through the interpreter: one pattern must answer the same either
 * way, whichever text it meets first, and keep its semantics. */
static void test_long_and_short_texts_agree(void **state)
{
	(void)state;
	size_t len = 256 * 1024;
	char *big = malloc(len + 1);
	assert_non_null(big);
	for (size_t i = 0; i < len; i++)
		big[i] = "abc\n"[i % 4];
	memcpy(big + len - 8, "\nversion", 8);
	big[len] = '\0';
	struct cst_error err = CST_ERROR_INIT;
	struct cst_regex *re = cst_regex_compile("version$", &err);
	assert_non_null(re);
	assert_int_equal(cst_regex_match(re, "version\n", 8, &err), 0);
	assert_int_equal(cst_regex_match(re, big, len, &err), 1);
	assert_int_equal(cst_regex_match(re, "a version", 9, &err), 1);
	big[len - 1] = '\n';
	assert_int_equal(cst_regex_match(re, big, len, &err), 0);
	cst_regex_free(re);

	/* The match limit holds for JIT code too. */
	memset(big, 'a', len);
	big[len - 1] = '!';
	re = cst_regex_compile("^(a+)+$", &err);
	assert_non_null(re);
	assert_int_equal(cst_regex_match(re, big, len, &err), -1);
	assert_non_null(strstr(err.msg, "gave up"));
	cst_error_clear(&err);
	cst_regex_free(re);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unanchored_search),
		cmocka_unit_test(test_dollar_only_at_very_end),
		cmocka_unit_test(test_caret_only_at_start),
		cmocka_unit_test(test_dot_does_not_match_newline),
		cmocka_unit_test(test_ascii_classes),
		cmocka_unit_test(test_invalid_utf8_subject),
		cmocka_unit_test(test_nul_in_subject),
		cmocka_unit_test(test_invalid_pattern),
		cmocka_unit_test(test_catastrophic_backtracking_is_bounded),
		cmocka_unit_test(test_long_and_short_texts_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
