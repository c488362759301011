/* The HTML report: the fixed cases of report_cases.h rendered and compared
 * with tests/html/golden/, plus properties that must hold whatever the
 * page looks like: failures before passes, everything escaped, nothing
 * loaded from outside, valid UTF-8 only.  CST_UPDATE_GOLDEN=1 rewrites the
 * golden files instead (review the diff before committing it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cst/report.h"
#include "report_cases.h"

struct page {
	char *data;
	size_t len;
};

static struct page render_case(const char *name)
{
	struct cst_report rep = {0};
	assert_int_equal(report_case_build(name, &rep), 0);
	struct page p = {NULL, 0};
	FILE *f = open_memstream(&p.data, &p.len);
	assert_non_null(f);
	struct cst_error err = CST_ERROR_INIT;
	struct cst_report_opts opts = {0};
	assert_int_equal(cst_report_html.write(f, &rep, &opts, &err), 0);
	assert_int_equal(err.code, CST_OK);
	assert_int_equal(fclose(f), 0);
	cst_report_release(&rep);
	return p;
}

static char *read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *data = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&data, &len);
	assert_non_null(m);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(f);
	fclose(m);
	*ret_len = len;
	return data;
}

static void check_golden(const char *name, const struct page *got)
{
	const char *dir = getenv("CST_TESTS");
	assert_non_null(dir);
	char *path = NULL;
	assert_true(asprintf(&path, "%s/html/golden/%s.html", dir, name) > 0);
	if (getenv("CST_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(got->data, 1, got->len, f), got->len);
		assert_int_equal(fclose(f), 0);
	}
	size_t want_len = 0;
	char *want = read_file(path, &want_len);
	if (!want)
		fail_msg("%s missing (CST_UPDATE_GOLDEN=1 creates it)", path);
	size_t i = 0, line = 1;
	while (i < got->len && i < want_len && got->data[i] == want[i])
		line += got->data[i++] == '\n';
	if (i != got->len || i != want_len)
		fail_msg("%s differs at line %zu (got %zu bytes, want %zu)", path, line, got->len, want_len);
	free(want);
	free(path);
}

static size_t count(const struct page *p, const char *needle)
{
	size_t n = 0, k = strlen(needle);
	for (const char *s = p->data; (s = memmem(s, p->len - (size_t)(s - p->data), needle, k)); s += k)
		n++;
	return n;
}

static const char *find(const struct page *p, const char *needle)
{
	return memmem(p->data, p->len, needle, strlen(needle));
}

static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		if (!len || i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
		if (len == 3 && c == 0xED && p[i + 1] >= 0xA0)
			return false;
		i += len;
	}
	return true;
}

/* Bytes HTML forbids in a document: NUL and the C0 controls other than
 * whitespace, DEL. */
static bool has_forbidden_controls(const struct page *p)
{
	for (size_t i = 0; i < p->len; i++) {
		unsigned char c = (unsigned char)p->data[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
			return true;
	}
	return false;
}

static void test_golden(void **state)
{
	static const char *const cases[] = {"empty", "pass", "mixed"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct page p = render_case(cases[i]);
		check_golden(cases[i], &p);
		free(p.data);
	}
}

static void test_found_by_name(void **state)
{
	assert_ptr_equal(cst_reporter_find("html"), &cst_report_html);
	assert_string_equal(cst_report_html.name, "html");
}

static void test_self_contained(void **state)
{
	struct page p = render_case("mixed");
	assert_true(p.len > 0);
	assert_non_null(find(&p, "<meta name=\"viewport\""));
	assert_non_null(find(&p, "<meta charset=\"utf-8\">"));
	/* Nothing that makes a browser fetch or run anything. */
	assert_null(find(&p, "<script"));
	assert_null(find(&p, "<link"));
	assert_null(find(&p, "src="));
	assert_null(find(&p, "href="));
	assert_null(find(&p, "url("));
	assert_null(find(&p, "@import"));
	assert_true(valid_utf8(p.data, p.len));
	assert_false(has_forbidden_controls(&p));
	free(p.data);
}

static void test_summary_counts(void **state)
{
	struct page p = render_case("mixed");
	assert_non_null(find(&p, "<header id=\"summary\" data-pass=\"2\" data-fail=\"5\" data-total=\"7\">"));
	assert_non_null(find(&p, "<span class=\"verdict fail\">FAIL</span>"));
	assert_non_null(find(&p, "<title>FAIL: 2 passed, 5 failed</title>"));
	/* 2 of 7 and 5 of 7, rounded to one decimal. */
	assert_non_null(find(&p, "class=\"bar-pass\" style=\"width:28.6%\""));
	assert_non_null(find(&p, "class=\"bar-fail\" style=\"width:71.4%\""));
	free(p.data);

	p = render_case("pass");
	assert_non_null(find(&p, "data-pass=\"3\" data-fail=\"0\" data-total=\"3\""));
	assert_non_null(find(&p, "<span class=\"verdict pass\">PASS</span>"));
	assert_null(find(&p, "id=\"failures\""));
	assert_null(find(&p, "class=\"bar-fail\""));
	free(p.data);

	/* No tests is a failure, as in the other formats. */
	p = render_case("empty");
	assert_non_null(find(&p, "<span class=\"verdict fail\">FAIL</span>"));
	assert_non_null(find(&p, "No tests run!"));
	assert_null(find(&p, "id=\"passes\""));
	free(p.data);
}

static void test_failures_first(void **state)
{
	struct page p = render_case("mixed");
	const char *failures = find(&p, "<section id=\"failures\">");
	const char *passes = find(&p, "<section id=\"passes\">");
	assert_non_null(failures);
	assert_non_null(passes);
	assert_true(failures < passes);
	/* Every failure is open, every pass folded. */
	assert_int_equal(count(&p, "<article class=\"result fail\""), 5);
	assert_int_equal(count(&p, "<details class=\"result pass\""), 2);
	const char *first_pass = find(&p, "<details class=\"result pass\"");
	const char *last_fail = NULL;
	for (const char *s = p.data; (s = memmem(s, p.len - (size_t)(s - p.data), "<article", 8)); s++)
		last_fail = s;
	assert_true(last_fail < first_pass);
	/* Failures keep run order across config files. */
	const char *a = find(&p, "data-name=\"Command Test: several errors\"");
	const char *b = find(&p, "data-name=\"License Test\"");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);
	/* A failed result without errors still says it failed. */
	const char *lic = strstr(b, "</article>");
	assert_non_null(lic);
	const char *msg = strstr(b, "<li class=\"error\">test failed</li>");
	assert_non_null(msg);
	assert_true(msg < lic);
	free(p.data);
}

static void test_escaping(void **state)
{
	struct page p = render_case("mixed");
	/* Markup in names, errors, output and config paths is text. */
	assert_non_null(find(&p, "Command Test: echo &lt;a&gt; &amp; &quot;b&quot; &#39;c&#39;"));
	assert_non_null(find(&p, "<pre class=\"stderr\">error: &lt;bad&gt; &amp; worse\n</pre>"));
	assert_non_null(find(&p, "<span class=\"config\">other/dir/files &amp; &lt;more&gt;.yml</span>"));
	assert_null(find(&p, "<bad>"));
	assert_null(find(&p, "<a>"));
	/* Controls are shown as pictures (SOH, ESC, NUL becomes U+FFFD, DEL),
	 * tab and CRLF pass as they are. */
	assert_non_null(find(&p, "a\xE2\x90\x81" "b\xE2\x90\x9B[31mred\xE2\x90\x9B[0m\tTab\r\nnext\xEF\xBF\xBDnul\xE2\x90\xA1" "del"));
	/* Invalid UTF-8, surrogates and noncharacters become U+FFFD. */
	assert_non_null(find(&p, "\xEF\xBF\xBD\xEF\xBF\xBD invalid \xEF\xBF\xBD( utf8"));
	assert_non_null(find(&p, " FFFE "));
	assert_null(find(&p, "\xEF\xBF\xBE"));
	assert_non_null(find(&p, "bad byte \xEF\xBF\xBD and bell \xE2\x90\x87 in error"));
	free(p.data);
}

static void test_long_output_whole(void **state)
{
	struct page p = render_case("long");
	/* Plain stdout is carried byte for byte; the page is the whole record. */
	const char *pre = find(&p, "<pre class=\"stdout\">");
	assert_non_null(pre);
	pre += strlen("<pre class=\"stdout\">");
	const char *end = strstr(pre, "</pre>");
	assert_non_null(end);
	assert_int_equal((size_t)(end - pre), LONG_OUTPUT_BYTES);
	assert_int_equal(count(&p, "line 0000001 the quick brown fox"), 1);
	assert_true(valid_utf8(p.data, p.len));
	assert_false(has_forbidden_controls(&p));
	free(p.data);
}

static void test_durations(void **state)
{
	struct page p = render_case("mixed");
	/* 2.25 ms, 1.5 s, 90 s, 1 h 2 min 3.5 s, 1 ns. */
	assert_non_null(find(&p, "<span class=\"duration\">2.25 ms</span>"));
	assert_non_null(find(&p, "<span class=\"duration\">1.500 s</span>"));
	assert_non_null(find(&p, "<span class=\"duration\">1 min 30.0 s</span>"));
	assert_non_null(find(&p, "<span class=\"duration\">1 h 2 min 3.5 s</span>"));
	assert_non_null(find(&p, "<span class=\"duration\">1 ns</span>"));
	free(p.data);
	p = render_case("pass");
	assert_non_null(find(&p, "<span class=\"duration\">41.25 ms</span>"));
	assert_non_null(find(&p, "<span class=\"duration\">1.50 \xC2\xB5s</span>"));
	free(p.data);
}

/* The HTML parser drops one line break right after <pre>: output that
 * starts with a blank line must get one extra to drop. */
static void test_pre_keeps_leading_newline(void **state)
{
	struct cst_report rep = {0};
	struct cst_suite *s = cst_report_add_suite(&rep, "t.yaml");
	assert_non_null(s);
	struct cst_result r;
	assert_int_equal(cst_result_init(&r, "Command Test: blank first"), 0);
	assert_int_equal(cst_result_set_output(&r, "\nsecond\n", 8, "\r\nx", 3), 0);
	assert_int_equal(cst_suite_add(s, &r), 0);
	struct page p = {NULL, 0};
	FILE *f = open_memstream(&p.data, &p.len);
	assert_non_null(f);
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_report_html.write(f, &rep, NULL, &err), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(find(&p, "<pre class=\"stdout\">\n\nsecond\n</pre>"));
	assert_non_null(find(&p, "<pre class=\"stderr\">\n\r\nx</pre>"));
	free(p.data);
	cst_report_release(&rep);
}

/* A full disk must be an error, not a truncated page that looks whole. */
static void test_write_error(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	assert_non_null(f);
	struct cst_report rep = {0};
	assert_int_equal(report_case_build("mixed", &rep), 0);
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_report_html.write(f, &rep, NULL, &err), -1);
	assert_int_equal(err.code, CST_E_IO);
	cst_error_clear(&err);
	cst_report_release(&rep);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_by_name),   cmocka_unit_test(test_golden),
		cmocka_unit_test(test_self_contained),  cmocka_unit_test(test_summary_counts),
		cmocka_unit_test(test_failures_first),  cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_long_output_whole), cmocka_unit_test(test_durations),
		cmocka_unit_test(test_pre_keeps_leading_newline), cmocka_unit_test(test_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
