/* Pins CST's (Go RE2) regex semantics as cst implements them over PCRE2. */
#include <setjmp.h>
#include <stdbool.h>
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

/* (pattern, subject, subject length, Go's answer): 1 match, 0 no match,
 * -1 Go refuses the pattern, 2 Go accepts it (compile only).  The answers
 * are Go 1.19's regexp package (the Go CST v1.15.0 is built with). */
struct go_case {
	const char *pattern, *subject;
	size_t len;
	int want;
};

static const struct go_case go_cases[] = {
	{"\\s", "\x0b", 1, 0},
	{"\\s", "\x0c", 1, 1},
	{"\\s", "\x09", 1, 1},
	{"^\\S$", "\x0b", 1, 1},
	{"[\\s]", "\x0b", 1, 0},
	{"[^\\s]", "\x0b", 1, 1},
	{"[\\S]", "\x0b", 1, 1},
	{"[[:space:]]", "\x0b", 1, 1},
	{"\\s", "\xc2\xa0", 2, 0},
	{"\\s", "\xe2\x80\x83", 3, 0},
	{"a.b", "a\xff\x62", 3, 1},
	{"^a..b$", "a\xe2\x82\x62", 4, 1},
	{"^a.b$", "a\xe2\x82\x62", 4, 0},
	{"\\x{FFFD}", "\xff", 1, 1},
	{"^\\x{FFFD}{2}$", "\xc0\x80", 2, 1},
	{"a[^x]b", "a\xff\x62", 3, 1},
	{"^.$", "\xed\xa0\x80", 3, 0},
	{"^...$", "\xed\xa0\x80", 3, 1},
	{"\\xff", "\xff", 1, 0},
	{"^\\W$", "\xfe", 1, 1},
	{"\\bx", "\xffx", 2, 1},
	{"(\x3fs)^.{3}$", "\xf4\x90\x80", 3, 1},
	{"^.$", "\xf0\x9f\x98\x80", 4, 1},
	{"(\x3fi)k", "\xe2\x84\xaa", 3, 1},
	{"(\x3fi)K", "\xe2\x84\xaa", 3, 1},
	{"(\x3fi)\\x{212a}", "k", 1, 1},
	{"(\x3fi)s", "\xc5\xbf", 2, 1},
	{"(\x3fi)\xc5\xbf", "S", 1, 1},
	{"(\x3fi)[a-z]", "\xe2\x84\xaa", 3, 1},
	{"(\x3fi)[k]", "\xe2\x84\xaa", 3, 1},
	{"(\x3fi)[^k]", "\xe2\x84\xaa", 3, 0},
	{"(\x3fi)[^k]", "K", 1, 0},
	{"(\x3fi)\\w", "\xc5\xbf", 2, 1},
	{"(\x3fi)\\W", "\xc5\xbf", 2, 0},
	{"(\x3fi)[\\W]", "s", 1, 0},
	{"(\x3fi)[^\\w]", "\xe2\x84\xaa", 3, 0},
	{"(\x3fi)\xc3\x9f", "\xe1\xba\x9e", 3, 1},
	{"(\x3fi)\xcf\x83", "\xcf\x82", 2, 1},
	{"(\x3fi)\xce\xa3", "\xcf\x82", 2, 1},
	{"(\x3fi)\xc2\xb5", "\xce\x9c", 2, 1},
	{"(\x3fi)i", "\xc4\xb0", 2, 0},
	{"(\x3fi)i", "\xc4\xb1", 2, 0},
	{"(\x3fi)\xc3\xa5", "\xe2\x84\xab", 3, 1},
	{"(\x3fi)[[:upper:]]", "a", 1, 1},
	{"(\x3fi)[[:upper:]]", "\xc5\xbf", 2, 1},
	{"(\x3fi)[[:^upper:]]", "a", 1, 0},
	{"(\x3fi)[[:lower:]]", "\xe2\x84\xaa", 3, 1},
	{"(\x3fi)\\pL", "\xcd\x85", 2, 1},
	{"(\x3fi)\\p{Greek}", "\xc2\xb5", 2, 1},
	{"(\x3fi)\\p{Lu}", "a", 1, 1},
	{"(\x3fi)\\p{Ll}", "A", 1, 1},
	{"(\x3fi)\\p{Ll}", "\xc4\xb8", 2, 1},
	{"\\p{Lu}", "a", 1, 0},
	{"(\x3fi)\xc7\x85", "\xc7\x86", 2, 1},
	{"(\x3fi)[\xc7\x85]", "\xc7\x84", 2, 1},
	{"(\x3fi)hello", "HeLLo", 5, 1},
	{"(\x3fi:a)b", "AB", 2, 0},
	{"(\x3fi:a)b", "Ab", 2, 1},
	{"a(\x3fi)b", "aB", 2, 1},
	{"(a(\x3fi)b|c)", "C", 1, 1},
	{"(\x3fi)a(\x3f-i)b", "Ab", 2, 1},
	{"(\x3fi)a(\x3f-i)b", "AB", 2, 0},
	{"\\b\xc3\xa9", "\xc3\xa9", 2, 0},
	{"x\\b", "x\xc3\xa9", 3, 1},
	{"\\B\xc3\xa9", "a\xc3\xa9", 3, 0},
	{"\\pL", "\xc3\xa9", 2, 1},
	{"^\\pL+$", "h\xc3\xa9llo", 6, 1},
	{"^\\p{L}$", "1", 1, 0},
	{"\\PL", "a", 1, 0},
	{"\\p{^L}", "1", 1, 1},
	{"\\p{Greek}", "\xce\xb1", 2, 1},
	{"\\p{Han}", "\xe4\xb8\xad", 3, 1},
	{"[[:alpha:]]", "\xc3\xa9", 2, 0},
	{"[[:alpha:]]", "a", 1, 1},
	{"[[:^alpha:]]", "\xc3\xa9", 2, 1},
	{"[[:word:]]", "_", 1, 1},
	{"[[:punct:]]", "^", 1, 1},
	{"[[:cntrl:]]", "\x00", 1, 1},
	{"[[:ascii:]]", "\x00", 1, 1},
	{"[[:^ascii:]]", "\xc3\xa9", 2, 1},
	{"\\d", "\xd9\xa3", 2, 0},
	{"\\w", "\xc3\xa9", 2, 0},
	{"[\\d]", "5", 1, 1},
	{"\\p{Any}", "\x0a", 1, 1},
	{"^\\P{Any}$", "a", 1, 0},
	{"\\pN", "\xd9\xa3", 2, 1},
	{"\\p{Nd}", "\xd9\xa3", 2, 1},
	{"\\p{C}", "\x01", 1, 1},
	{"(\x3fU)a+b", "aab", 3, 1},
	{"(\x3fU)^a+\x3f$", "aaa", 3, 1},
	{"(\x3fs)a.b", "a\x0a\x62", 3, 1},
	{"a.b", "a\x0a\x62", 3, 0},
	{"(\x3fs:a.)b", "a\x0a\x62", 3, 1},
	{"(\x3fs)a[^x]b", "a\x0a\x62", 3, 1},
	{"a[^x]b", "a\x0a\x62", 3, 1},
	{"(\x3fm)^b", "a\x0a\x62", 3, 1},
	{"(\x3fm)a$", "a\x0a\x62", 3, 1},
	{"(\x3fm)^$", "a\x0a", 2, 1},
	{"(\x3fm)^$", "a", 1, 0},
	{"^$", "\x0a", 1, 0},
	{"(\x3fm)^x", "a\x0dx", 3, 0},
	{"(\x3fm)a$", "a\x0d\x0a", 3, 0},
	{"$", "", 0, 1},
	{"a$", "a\x0a", 2, 0},
	{"a\\z", "a", 1, 1},
	{"\\Aa", "ba", 2, 0},
	{"\\101", "A", 1, 1},
	{"\\0", "\x00", 1, 1},
	{"\\12", "\x0a", 1, 1},
	{"\\x41", "A", 1, 1},
	{"\\x{1F600}", "\xf0\x9f\x98\x80", 4, 1},
	{"\\a\\f\\t\\n\\r\\v", "\x07\x0c\x09\x0a\x0d\x0b", 6, 1},
	{"\\Qa.b\\E", "axb", 3, 0},
	{"\\Qa.b\\E", "a.b", 3, 1},
	{"\\Qa.b", "a.b", 3, 1},
	{"\\Qab\\E+", "abbb", 4, 1},
	{"\\_", "_", 1, 1},
	{"\\-", "-", 1, 1},
	{"\\x{D800}", "\xed\xa0\x80", 3, 0},
	{"[\\x{D7FF}-\\x{E000}]", "\xee\x80\x80", 3, 1},
	{"a{,2}", "a{,2}", 5, 1},
	{"a{,2}", "a", 1, 0},
	{"a{01}", "a{01}", 5, 1},
	{"a{2}", "aa", 2, 1},
	{"a{2,}", "aaa", 3, 1},
	{"^a{2,3}$", "aaaa", 4, 0},
	{"a{", "a{", 2, 1},
	{"a{1000}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1000, 1},
	{"x{2}{", "xx{", 3, 1},
	{"^*", "", 0, 1},
	{"\\b+x", "x", 1, 1},
	{"(\x3f:)*", "", 0, 1},
	{"()+a", "a", 1, 1},
	{"a*(\x3fi)*", "a", 1, 1},
	{"a(\x3fi)*", "aaa", 3, 1},
	{"(|a)*", "b", 1, 1},
	{"[]a]", "]", 1, 1},
	{"[^]a]", "]", 1, 0},
	{"[a-]", "-", 1, 1},
	{"[-a]", "-", 1, 1},
	{"[[:alpha:]-z]", "-", 1, 1},
	{"[a[b]", "[", 1, 1},
	{"[[.a.]]", "[.a.]]", 6, 1},
	{"[\\]]", "]", 1, 1},
	{"[^a]", "\x0a", 1, 1},
	{"[^\\x00-\\x{10FFFF}]", "a", 1, 0},
	{"[\\p{Greek}\\d]", "5", 1, 1},
	{"[^\\P{Greek}]", "\xce\xb1", 2, 1},
	{"[\\x00]", "\x00", 1, 1},
	{"(\x3fi)[^\\p{Lu}]", "a", 1, 0},
	{"(\x3fi)\\p{Lu}", "\xc4\xb8", 2, 0},
	{"(\x3fi)\\p{Lt}", "a", 1, 0},
	{"(\x3fi)\\p{Lt}", "\xc7\x86", 2, 1},
	{"(\x3fi)\\P{Lu}", "a", 1, 0},
	{"(\x3fi)\\p{M}", "\xce\xb9", 2, 1},
	{"(\x3fi)\\p{Common}", "\xce\xbc", 2, 1},
	{"(\x3fi)\xc3\xa9", "\xc3\x89", 2, 1},
	{"(\x3fi)[\xc3\xa0-\xc3\xbf]", "\xc3\x87", 2, 1},
	{"(\x3fi)\\x{FFFD}", "\xff", 1, 1},
	{"(\x3fi)[^a]", "\xff", 1, 1},
	{"(a|b)*c{2}", "abcc", 4, 1},
	{"(\x3f:a{2}){3}", "aaaaaa", 6, 1},
	{"^(\x3f:a{2}){3}$", "aaaaa", 5, 0},
	{"(\x3fi)\\p{Ll}", "\xe2\x85\xa0", 3, 0},
	{"(\x3fi)\\p{Ll}", "\xcd\x85", 2, 1},
	{"(\x3fi)\\p{Lu}", "\xf0\x9e\xa4\xa2", 4, 1},
	{"(\x3fi)[\\P{Ll}x]", "\xe2\x85\xa0", 3, 1},
	{"(\x3fi)[\\P{Ll}x]", "\xce\x9c", 2, 0},
	{"(\x3fi)[^x\\P{Ll}]", "a", 1, 1},
	{"(\x3fi)[^x\\P{Ll}]", "X", 1, 0},
	{"(\x3fi)[^x\\P{Ll}]", "1", 1, 0},
	{"\\p{Greek}", "\xcd\x85", 2, 0},
	{"\\p{Inherited}", "\xcd\x85", 2, 1},
	{"(\x3fi)[^\\P{Greek}\\P{L}]", "\xc2\xb5", 2, 1},
	{"(\x3fi)\\P{Greek}", "\xc2\xb5", 2, 0},
	{"\\p{C}", "\xcd\xb8", 2, 0},
	{"\\PC", "\xcd\xb8", 2, 1},
	{"[\\PCa]", "\xcd\xb8", 2, 1},
	{"[^\\p{C}]", "\xcd\xb8", 2, 1},
	{"[^\\PC]", "\xc2\xad", 2, 1},
	{"(\x3fi)\\pC", "\x01", 1, 1},
	{"(\x3fP<name>a)", "a", 1, 1},
	{"(\x3fP<1>a)", "a", 1, 1},
	{"(\x3f:a|b)c", "bc", 2, 1},
	{"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10", "abcdefghij\x08", 11, 1},
	{"(\x3fi)(\x3f-i:A)", "a", 1, 0},
	{"(\x3f)a", "a", 1, 1},
	{"a(b", "", 0, -1}, /* missing closing ): `a(b` */
	{"a)", "", 0, -1}, /* unexpected ): `a)` */
	{"\\Z", "", 0, -1}, /* invalid escape sequence: `\Z` */
	{"a\\Z", "", 0, -1}, /* invalid escape sequence: `\Z` */
	{"(\x3f=a)", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?=` */
	{"(\x3f!a)", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?!` */
	{"(\x3f<=a)b", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?<` */
	{"(\x3f<!a)b", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?<` */
	{"(\x3f>a)", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?>` */
	{"a++", "", 0, -1}, /* invalid nested repetition operator: `++` */
	{"a*+", "", 0, -1}, /* invalid nested repetition operator: `*+` */
	{"a\x3f+", "", 0, -1}, /* invalid nested repetition operator: `?+` */
	{"a{2}+", "", 0, -1}, /* invalid nested repetition operator: `{2}+` */
	{"a**", "", 0, -1}, /* invalid nested repetition operator: `**` */
	{"a{2}{3}", "", 0, -1}, /* invalid nested repetition operator: `{2}{3}` */
	{"(a)\\1", "", 0, -1}, /* invalid escape sequence: `\1` */
	{"\\1", "", 0, -1}, /* invalid escape sequence: `\1` */
	{"\\8", "", 0, -1}, /* invalid escape sequence: `\8` */
	{"\\k<n>", "", 0, -1}, /* invalid escape sequence: `\k` */
	{"\\g1", "", 0, -1}, /* invalid escape sequence: `\g` */
	{"(\x3f<n>a)", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?<` */
	{"(\x3f'n'a)", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?'` */
	{"(\x3fP=n)", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?P` */
	{"(\x3fP>n)", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?P` */
	{"(\x3f#c)", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?#` */
	{"(\x3f|a)", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?|` */
	{"(\x3fR)", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?R` */
	{"(\x3f\x31)", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?1` */
	{"(*FAIL)", "", 0, -1}, /* missing argument to repetition operator: `*` */
	{"(*UTF)a", "", 0, -1}, /* missing argument to repetition operator: `*` */
	{"\\h", "", 0, -1}, /* invalid escape sequence: `\h` */
	{"\\R", "", 0, -1}, /* invalid escape sequence: `\R` */
	{"\\X", "", 0, -1}, /* invalid escape sequence: `\X` */
	{"\\N", "", 0, -1}, /* invalid escape sequence: `\N` */
	{"\\K", "", 0, -1}, /* invalid escape sequence: `\K` */
	{"\\G", "", 0, -1}, /* invalid escape sequence: `\G` */
	{"\\e", "", 0, -1}, /* invalid escape sequence: `\e` */
	{"\\cA", "", 0, -1}, /* invalid escape sequence: `\c` */
	{"\\o{101}", "", 0, -1}, /* invalid escape sequence: `\o` */
	{"\\C", "", 0, -1}, /* invalid escape sequence: `\C` */
	{"\\E", "", 0, -1}, /* invalid escape sequence: `\E` */
	{"[\\b]", "", 0, -1}, /* invalid escape sequence: `\b` */
	{"[\\Q]\\E]", "", 0, -1}, /* invalid escape sequence: `\Q` */
	{"(\x3fx)a", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?x` */
	{"(\x3fn)a", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?n` */
	{"(\x3fJ)a", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?J` */
	{"(\x3f-)a", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?-)` */
	{"(\x3fi-)a", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?i-)` */
	{"(\x3f--i)a", "", 0, -1}, /* invalid or unsupported Perl syntax: `(?--` */
	{"(\x3fP<>a)", "", 0, -1}, /* invalid named capture: `(?P<>` */
	{"(\x3fP<a-b>a)", "", 0, -1}, /* invalid named capture: `(?P<a-b>` */
	{"(\x3fP<n>a)(\x3fP<n>b)", "", 0, 2}, /* compiles */
	{"*a", "", 0, -1}, /* missing argument to repetition operator: `*` */
	{"a|*", "", 0, -1}, /* missing argument to repetition operator: `*` */
	{"(*)", "", 0, -1}, /* missing argument to repetition operator: `*` */
	{"(\x3fi)*", "", 0, -1}, /* missing argument to repetition operator: `*` */
	{"x{1001}", "", 0, -1}, /* invalid repeat count: `{1001}` */
	{"x{2,1}", "", 0, -1}, /* invalid repeat count: `{2,1}` */
	{"(x{500}){3}", "", 0, -1}, /* invalid repeat count: `{3}` */
	{"((a{10}){10}){11}", "", 0, -1}, /* invalid repeat count: `{11}` */
	{"((a{1000}){0}){2}", "", 0, 2}, /* compiles */
	{"((a{1000}){1}){2}", "", 0, -1}, /* invalid repeat count: `{2}` */
	{"[a", "", 0, -1}, /* missing closing ]: `[a` */
	{"[]", "", 0, -1}, /* missing closing ]: `[]` */
	{"[z-a]", "", 0, -1}, /* invalid character class range: `z-a` */
	{"[[:foo:]]", "", 0, -1}, /* invalid character class range: `[:foo:]` */
	{"[[:alpha:]", "", 0, -1}, /* missing closing ]: `[[:alpha:]` */
	{"\\p{Foo}", "", 0, -1}, /* invalid character class range: `\p{Foo}` */
	{"\\p{greek}", "", 0, -1}, /* invalid character class range: `\p{greek}` */
	{"\\p{L", "", 0, -1}, /* invalid character class range: `\p{L` */
	{"\\pX", "", 0, -1}, /* invalid character class range: `\pX` */
	{"\\p{Xan}", "", 0, -1}, /* invalid character class range: `\p{Xan}` */
	{"\\p{Cn}", "", 0, -1}, /* invalid character class range: `\p{Cn}` */
	{"\\p{LC}", "", 0, -1}, /* invalid character class range: `\p{LC}` */
	{"\\p{L&}", "", 0, -1}, /* invalid character class range: `\p{L&}` */
	{"[\\d-z]", "", 0, 2}, /* compiles */
	{"[a-\\d]", "", 0, -1}, /* invalid escape sequence: `\d` */
	{"\\x{110000}", "", 0, -1}, /* invalid escape sequence: `\x{110000` */
	{"\\x{}", "", 0, -1}, /* invalid escape sequence: `\x{}` */
	{"\\xg", "", 0, -1}, /* invalid escape sequence: `\xg` */
	{"\\x1", "", 0, -1}, /* invalid escape sequence: `\x1` */
	{"\xff", "", 0, -1}, /* invalid UTF-8: `\xff` */
	{"a\\", "", 0, -1}, /* trailing backslash at end of expression: `` */
	{"[[=a=]]", "", 0, 2}, /* compiles */
	{"\\Q", "", 0, 2}, /* compiles */
	{"[\\Q]", "", 0, -1}, /* invalid escape sequence: `\Q` */
	{"x{1000}{2}", "", 0, -1}, /* invalid nested repetition operator: `{1000}{2}` */
	{"(\x3fi)", "", 0, 2}, /* compiles */
	{"(\x3fU)a", "", 0, 2}, /* compiles */
	{"\\pL", "", 0, 2}, /* compiles */
	{"\\p^L", "", 0, -1}, /* invalid character class range: `\p^` */
	{"\\P{^Greek}", "", 0, 2}, /* compiles */
	{"[\\p{^L}]", "", 0, 2}, /* compiles */
};

static void test_answers_as_go(void **state)
{
	(void)state;
	int wrong = 0;
	for (size_t i = 0; i < sizeof(go_cases) / sizeof(go_cases[0]); i++) {
		const struct go_case *c = &go_cases[i];
		struct cst_error err = CST_ERROR_INIT;
		struct cst_regex *re = cst_regex_compile(c->pattern, &err);
		int got = !re ? -1 : c->want == 2 ? 2 : cst_regex_match(re, c->subject, c->len, &err);
		if (got != c->want) {
			print_error("'%s' on %zu bytes: Go says %d, cst %d %s\n", c->pattern, c->len, c->want, got,
				    err.msg ? err.msg : "");
			wrong++;
		}
		cst_error_clear(&err);
		cst_regex_free(re);
	}
	assert_int_equal(wrong, 0);
}

static void test_go_reason_in_error(void **state)
{
	(void)state;
	struct cst_error err = CST_ERROR_INIT;
	assert_null(cst_regex_compile("ab(\x3f=c)", &err));
	assert_int_equal(err.code, CST_E_CONFIG);
	assert_non_null(strstr(err.msg, "invalid regex 'ab(\x3f=c)': invalid or unsupported Perl syntax at offset 2"));
	cst_error_clear(&err);
	assert_null(cst_regex_compile("x\\Z", &err));
	assert_non_null(strstr(err.msg, "invalid escape sequence at offset 1"));
	cst_error_clear(&err);
}

/* open^n + mid + close^n; whether it compiles. */
static bool nested_compiles(const char *open, const char *mid, const char *close, int n)
{
	size_t lo = strlen(open), lc = strlen(close), lm = strlen(mid);
	char *p = malloc((lo + lc) * (size_t)n + lm + 1), *q = p;
	assert_non_null(p);
	for (int i = 0; i < n; i++, q += lo)
		memcpy(q, open, lo);
	memcpy(q, mid, lm);
	q += lm;
	for (int i = 0; i < n; i++, q += lc)
		memcpy(q, close, lc);
	*q = '\0';
	struct cst_error err = CST_ERROR_INIT;
	struct cst_regex *re = cst_regex_compile(p, &err);
	bool ok = re != NULL;
	if (!ok)
		assert_non_null(strstr(err.msg, "expression nests too deeply"));
	cst_error_clear(&err);
	cst_regex_free(re);
	free(p);
	return ok;
}

/* Go refuses a parse tree higher than 1000; up to there cst compiles what
 * Go compiles (answers from Go 1.19). */
static void test_nesting_limit_as_go(void **state)
{
	(void)state;
	assert_true(nested_compiles("(", "a", ")", 999));
	assert_false(nested_compiles("(", "a", ")", 1000));
	assert_true(nested_compiles("(", "a", ")*", 499));
	assert_false(nested_compiles("(", "a", ")*", 500));
	assert_true(nested_compiles("(\x3f:", "a", ")*", 999));
	assert_false(nested_compiles("(\x3f:", "a", ")*", 1000));
	assert_true(nested_compiles("(x", "a", ")", 499));
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
		cmocka_unit_test(test_answers_as_go),
		cmocka_unit_test(test_go_reason_in_error),
		cmocka_unit_test(test_nesting_limit_as_go),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
