/* Reporters: fixed results in, bytes out, compared with tests/golden/.
 * CST_UPDATE_GOLDEN=1 rewrites the golden files instead (review the diff
 * before committing it). */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cst/report.h"
#include "cst/report/internal.h"
#include "report_cases.h"

struct rendered {
	char *data;
	size_t len;
};

static struct rendered render(const struct cst_reporter *fmt, const struct cst_report *rep,
			      const struct cst_report_opts *opts)
{
	struct rendered r = {NULL, 0};
	FILE *f = open_memstream(&r.data, &r.len);
	assert_non_null(f);
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(fmt->write(f, rep, opts, &err), 0);
	assert_int_equal(err.code, CST_OK);
	assert_int_equal(fclose(f), 0);
	return r;
}

static char *read_all(const char *path, size_t *ret_len)
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

static char *golden_path(const char *file)
{
	const char *dir = getenv("CST_TESTS");
	assert_non_null(dir);
	char *p = NULL;
	assert_true(asprintf(&p, "%s/golden/%s", dir, file) > 0);
	return p;
}

/* Prints the first differing line, so a failure shows what changed. */
static void report_difference(const char *file, const struct rendered *got, const char *want, size_t want_len)
{
	size_t i = 0, line = 1, start = 0;
	while (i < got->len && i < want_len && got->data[i] == want[i]) {
		if (want[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	print_error("%s differs at line %zu (byte %zu; got %zu bytes, want %zu)\n", file, line, i, got->len,
		    want_len);
	size_t ge = start, we = start;
	while (ge < got->len && got->data[ge] != '\n' && ge - start < 300)
		ge++;
	while (we < want_len && want[we] != '\n' && we - start < 300)
		we++;
	print_error("  got:  %.*s\n  want: %.*s\n", (int)(ge - start), got->data + start, (int)(we - start),
		    want + start);
}

static void check_golden(const char *file, const struct rendered *got)
{
	char *path = golden_path(file);
	const char *update = getenv("CST_UPDATE_GOLDEN");
	if (update && strcmp(update, "1") == 0) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(got->data, 1, got->len, f), got->len);
		assert_int_equal(fclose(f), 0);
	}
	size_t want_len = 0;
	char *want = read_all(path, &want_len);
	if (!want)
		fail_msg("cannot read golden file %s: %s", path, strerror(errno));
	if (want_len != got->len || memcmp(want, got->data, want_len) != 0) {
		report_difference(file, got, want, want_len);
		fail_msg("%s does not match the golden file (CST_UPDATE_GOLDEN=1 rewrites it)", file);
	}
	free(want);
	free(path);
}

static void golden_case(const char *name, const char *suffix, const struct cst_reporter *fmt,
			const struct cst_report_opts *opts, const char *ext)
{
	struct cst_report rep = {0};
	assert_int_equal(report_case_build(name, &rep), 0);
	struct rendered got = render(fmt, &rep, opts);
	char file[64];
	snprintf(file, sizeof(file), "%s%s.%s", name, suffix, ext);
	check_golden(file, &got);
	free(got.data);
	cst_report_release(&rep);
}

static const struct cst_report_opts plain = {false, NULL};

static void all_formats(const char *name)
{
	golden_case(name, "", &cst_report_text, &plain, "txt");
	golden_case(name, "", &cst_report_json, &plain, "json");
	golden_case(name, "", &cst_report_junit, &plain, "xml");
	golden_case(name, "", &cst_report_tap, &plain, "tap");
}

static void test_golden_pass(void **state)
{
	all_formats("pass");
}

static void test_golden_mixed(void **state)
{
	all_formats("mixed");
}

static void test_golden_empty(void **state)
{
	all_formats("empty");
}

static void test_golden_color(void **state)
{
	const struct cst_report_opts color = {true, NULL};
	golden_case("mixed", "-color", &cst_report_text, &color, "txt");
}

static void test_golden_suite_name(void **state)
{
	const struct cst_report_opts named = {false, "my <suite> & co"};
	golden_case("pass", "-suite-name", &cst_report_junit, &named, "xml");
}

static void test_golden_provenance_line(void **state)
{
	const struct cst_report_opts info = {.provenance_line = true};
	golden_case("pass", "-provenance", &cst_report_text, &info, "txt");
}

/* Provenance is added beside CST's keys: the report without it is the
 * same bytes up to the closing brace. */
static void test_json_provenance_after_cst_keys(void **state)
{
	struct cst_report rep = {0};
	assert_int_equal(report_case_build("pass", &rep), 0);
	struct rendered with = render(&cst_report_json, &rep, &plain);
	free(rep.prov.version);
	rep.prov.version = NULL;
	struct rendered without = render(&cst_report_json, &rep, &plain);
	assert_true(without.len > 2 && with.len > without.len);
	assert_memory_equal(with.data, without.data, without.len - 2);
	const char *tail = with.data + without.len - 2;
	assert_memory_equal(tail, ",\"Provenance\":{", strlen(",\"Provenance\":{"));

	json_error_t jerr;
	json_t *root = json_loadb(with.data, with.len, 0, &jerr);
	assert_non_null(root);
	json_t *p = json_object_get(root, "Provenance");
	assert_string_equal(json_string_value(json_object_get(p, "Image")), "registry.example:5000/team/app:1.2.3");
	assert_string_equal(json_string_value(json_object_get(p, "StartTime")), "2026-01-01T00:00:00Z");
	assert_null(json_object_get(p, "Duration"));
	json_decref(root);
	free(with.data);
	free(without.data);
	cst_report_release(&rep);
}

static void test_junit_classname(void **state)
{
	static const struct {
		const char *path, *cwd, *want;
	} cases[] = {
		{"structure-tests.yaml", "/src", "structure-tests_yaml"},
		{"./tests/structure.yaml", "/src", "tests.structure_yaml"},
		{"tests//./structure.yaml", "/src", "tests.structure_yaml"},
		{"/builds/x/tests/structure.yaml", "/builds/x", "tests.structure_yaml"},
		{"/builds/x/tests/structure.yaml", "/builds/x/", "tests.structure_yaml"},
		{"/builds/x/tests/structure.yaml", "/builds/xy", "structure_yaml"},
		{"/builds/x/tests/structure.yaml", "/elsewhere", "structure_yaml"},
		{"/builds/x/tests/structure.yaml", NULL, "structure_yaml"},
		{"/etc/cst.yaml", "/", "etc.cst_yaml"},
		{"../shared/base.yaml", "/src", "base_yaml"},
		{"/src/../etc/a.yaml", "/src", "a_yaml"},
		{"v1.2/app.tests.yaml", "/src", "v1_2.app_tests_yaml"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = cst_junit_classname(cases[i].path, cases[i].cwd);
		assert_non_null(got);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s in %s: got '%s', want '%s'", cases[i].path, cases[i].cwd ? cases[i].cwd : "(none)",
				 got, cases[i].want);
		free(got);
	}
}

static void test_color_only_when_asked(void **state)
{
	struct cst_report rep = {0};
	assert_int_equal(report_case_build("mixed", &rep), 0);
	struct rendered plain_out = render(&cst_report_text, &rep, &plain);
	const struct cst_report_opts color = {true, NULL};
	struct rendered color_out = render(&cst_report_text, &rep, &color);
	/* The command output itself holds an escape sequence, so look for the
	 * reporter's own codes. */
	assert_null(memmem(plain_out.data, plain_out.len, "\033[32m", 5));
	assert_null(memmem(plain_out.data, plain_out.len, "\033[35m", 5));
	assert_null(memmem(plain_out.data, plain_out.len, "\033[0m\n", 5));
	assert_non_null(memmem(color_out.data, color_out.len, "\033[32m--- PASS\033[0m\n", 18));
	assert_non_null(memmem(color_out.data, color_out.len, "\033[31m--- FAIL\033[0m\n", 18));
	assert_non_null(memmem(color_out.data, color_out.len, "\033[31mFAIL\033[0m\n", 14));
	free(plain_out.data);
	free(color_out.data);
	cst_report_release(&rep);
}

static void test_json_round_trip(void **state)
{
	struct cst_report rep = {0};
	assert_int_equal(report_case_build("mixed", &rep), 0);
	struct rendered got = render(&cst_report_json, &rep, &plain);
	json_error_t jerr;
	json_t *root = json_loadb(got.data, got.len, JSON_ALLOW_NUL, &jerr);
	if (!root)
		fail_msg("invalid JSON: %s at %d:%d", jerr.text, jerr.line, jerr.column);
	assert_int_equal(json_integer_value(json_object_get(root, "Total")), 7);
	assert_int_equal(json_integer_value(json_object_get(root, "Fail")), 5);
	json_t *results = json_object_get(root, "Results");
	assert_int_equal(json_array_size(results), 7);

	/* NUL bytes survive; invalid bytes become U+FFFD one for one. */
	json_t *ctl = json_array_get(results, 2);
	json_t *out = json_object_get(ctl, "Stdout");
	assert_int_equal(json_string_length(out), rep.suites[0].results[2].out_len);
	assert_memory_equal(json_string_value(out), rep.suites[0].results[2].out, rep.suites[0].results[2].out_len);
	const char *want_err = "\xef\xbf\xbd\xef\xbf\xbd invalid \xef\xbf\xbd( utf8 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			       " surrogate \xef\xbf\xbe FFFE \xef\xbf\xbd\xef\xbf\xbd cut\n";
	assert_string_equal(json_string_value(json_object_get(ctl, "Stderr")), want_err);

	/* Omitted when empty, as Go's omitempty does. */
	json_t *quiet = json_array_get(results, 3);
	assert_null(json_object_get(quiet, "Stdout"));
	assert_null(json_object_get(quiet, "Stderr"));
	assert_null(json_object_get(quiet, "Errors"));
	assert_int_equal(json_integer_value(json_object_get(quiet, "Duration")), 0);
	json_decref(root);
	free(got.data);
	cst_report_release(&rep);
}

/* 1 MiB of output in every format: carried whole, in linear time. */
static void test_long_output(void **state)
{
	struct cst_report rep = {0};
	assert_int_equal(report_case_build("long", &rep), 0);
	const struct cst_result *r = &rep.suites[0].results[0];
	assert_int_equal(r->out_len, LONG_OUTPUT_BYTES);

	struct rendered text = render(&cst_report_text, &rep, &plain);
	assert_true(text.len > 2 * LONG_OUTPUT_BYTES);
	assert_non_null(memmem(text.data, text.len, r->out, r->out_len));
	assert_non_null(memmem(text.data, text.len, r->err, r->err_len));
	free(text.data);

	struct rendered json = render(&cst_report_json, &rep, &plain);
	json_t *root = json_loadb(json.data, json.len, 0, NULL);
	assert_non_null(root);
	json_t *res = json_array_get(json_object_get(root, "Results"), 0);
	json_t *out = json_object_get(res, "Stdout");
	assert_int_equal(json_string_length(out), r->out_len);
	assert_memory_equal(json_string_value(out), r->out, r->out_len);
	json_t *err = json_object_get(res, "Stderr");
	assert_int_equal(json_string_length(err), r->err_len);
	assert_memory_equal(json_string_value(err), r->err, r->err_len);
	json_decref(root);
	free(json.data);

	struct rendered xml = render(&cst_report_junit, &rep, &plain);
	char *sysout = NULL;
	assert_true(asprintf(&sysout, "<system-out>%.*s</system-out>\n", (int)r->out_len, r->out) > 0);
	assert_non_null(memmem(xml.data, xml.len, sysout, strlen(sysout)));
	free(sysout);
	/* Control characters cannot appear in XML 1.0: one U+FFFD each. */
	assert_null(memchr(xml.data, '\x01', xml.len));
	free(xml.data);

	struct rendered tap = render(&cst_report_tap, &rep, &plain);
	/* stdout is plain lines: a literal block, each line indented by four. */
	const char *block = strstr(tap.data, "  stdout: |\n    line 0000000 the quick");
	assert_non_null(block);
	const char *head = "TAP version 13\n1..1\n# Test file: long.yaml\nnot ok 1 - Command Test: long output\n";
	assert_int_equal(strncmp(tap.data, head, strlen(head)), 0);
	/* stderr has control bytes: one quoted line with \x01 escapes, cut
	 * short (TAP::Parser cannot read longer quoted strings) and saying by
	 * how much. */
	const char *key = "  stderr: \"";
	char *q = strstr(tap.data, key);
	assert_non_null(q);
	q += strlen(key);
	char *eol = strchr(q, '\n');
	assert_non_null(eol);
	const char *more = strstr(q, " [... ");
	assert_non_null(more);
	assert_true(more < eol);
	size_t omitted = 0;
	assert_int_equal(sscanf(more, " [... %zu more bytes]\"", &omitted), 1);
	assert_true(omitted > 0 && omitted < r->err_len);
	size_t kept = r->err_len - omitted;
	/* The kept part, escaped, is exactly what precedes the marker. */
	char *want = malloc(4 * kept + 1);
	assert_non_null(want);
	size_t w = 0;
	for (size_t i = 0; i < kept; i++) {
		if (r->err[i] == '\x01') {
			memcpy(want + w, "\\x01", 4);
			w += 4;
		} else if (r->err[i] == '\n') {
			memcpy(want + w, "\\n", 2);
			w += 2;
		} else {
			want[w++] = r->err[i];
		}
	}
	assert_int_equal((size_t)(more - q), w);
	assert_memory_equal(q, want, w);
	assert_true(w <= 30000 + 4);
	free(want);
	const char *tail = " more bytes]\"\n  duration_ms: 1000.000000\n  ...\n";
	assert_int_equal(memcmp(tap.data + tap.len - strlen(tail), tail, strlen(tail)), 0);
	/* and the whole of stdout, line by line */
	assert_true(strstr(tap.data, "\n    line 0018078 the quick brown fox jumps over the lazy dog\n") != NULL);
	free(tap.data);

	cst_report_release(&rep);
}

static void test_find(void **state)
{
	assert_ptr_equal(cst_reporter_find("text"), &cst_report_text);
	assert_ptr_equal(cst_reporter_find("json"), &cst_report_json);
	assert_ptr_equal(cst_reporter_find("junit"), &cst_report_junit);
	assert_ptr_equal(cst_reporter_find("tap"), &cst_report_tap);
	assert_null(cst_reporter_find("xml"));
	assert_null(cst_reporter_find("JSON"));
	assert_null(cst_reporter_find(""));
	assert_null(cst_reporter_find(NULL));
}

/* A directory of its own for each write_file test. */
static char *make_dir(void)
{
	const char *base = getenv("CST_BUILD");
	char *dir = NULL;
	assert_true(asprintf(&dir, "%s/test-report-XXXXXX", base ? base : "/tmp") > 0);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *join(const char *a, const char *b)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

static void write_text_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(s, f);
	assert_int_equal(fclose(f), 0);
}

static void test_write_file_replaces(void **state)
{
	char *dir = make_dir();
	char *path = join(dir, "report.json");
	char *old_link = join(dir, "old");
	write_text_file(path, "old report\n");
	/* A second name for the old file shows whether it was rewritten in
	 * place (the link would see the new bytes) or replaced. */
	assert_int_equal(link(path, old_link), 0);

	struct cst_report rep = {0};
	assert_int_equal(report_case_build("mixed", &rep), 0);
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_report_write_file(&cst_report_json, path, &rep, &plain, &err), 0);
	assert_int_equal(err.code, CST_OK);

	struct rendered want = render(&cst_report_json, &rep, &plain);
	size_t len;
	char *got = read_all(path, &len);
	assert_non_null(got);
	assert_int_equal(len, want.len);
	assert_memory_equal(got, want.data, len);
	free(got);

	got = read_all(old_link, &len);
	assert_non_null(got);
	assert_string_equal(got, "old report\n");
	free(got);

	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	mode_t mask = umask(0);
	umask(mask);
	assert_int_equal(st.st_mode & 0777, 0666 & ~mask);
	assert_int_equal(count_entries(dir), 2); /* no temporary left behind */

	unlink(path);
	unlink(old_link);
	assert_int_equal(rmdir(dir), 0);
	free(want.data);
	free(old_link);
	free(path);
	free(dir);
	cst_report_release(&rep);
}

static void test_write_file_missing_dir(void **state)
{
	char *dir = make_dir();
	char *path = join(dir, "missing/report.xml");
	struct cst_report rep = {0};
	assert_int_equal(report_case_build("pass", &rep), 0);
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_report_write_file(&cst_report_junit, path, &rep, &plain, &err), -1);
	assert_int_equal(err.code, CST_E_IO);
	assert_non_null(err.msg);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, strerror(ENOENT)));
	assert_int_equal(count_entries(dir), 0);
	assert_int_equal(rmdir(dir), 0);
	cst_error_clear(&err);
	cst_report_release(&rep);
	free(path);
	free(dir);
}

/* A format that fails after writing part of its output, as a full disk
 * would make any of them do. */
static int failing_write(FILE *out, const struct cst_report *rep, const struct cst_report_opts *opts,
			 struct cst_error *err)
{
	fputs("half a rep", out);
	return cst_error_set(err, CST_E_IO, "writing report: %s", strerror(ENOSPC));
}

static void test_write_file_failure_keeps_old(void **state)
{
	const struct cst_reporter failing = {"failing", failing_write};
	char *dir = make_dir();
	char *path = join(dir, "report.tap");
	write_text_file(path, "previous\n");
	struct cst_report rep = {0};
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_report_write_file(&failing, path, &rep, &plain, &err), -1);
	assert_int_equal(err.code, CST_E_IO);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, strerror(ENOSPC)));
	size_t len;
	char *got = read_all(path, &len);
	assert_non_null(got);
	assert_string_equal(got, "previous\n");
	free(got);
	assert_int_equal(count_entries(dir), 1);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	cst_error_clear(&err);
	free(path);
	free(dir);
}

/* A write error on the stream itself (not reported by the format) is
 * still caught when the report is finished. */
static void test_stream_error(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		fail_msg("cannot open /dev/full: %s", strerror(errno));
	struct cst_report rep = {0};
	assert_int_equal(report_case_build("pass", &rep), 0);
	const struct cst_reporter *fmts[] = {&cst_report_text, &cst_report_json, &cst_report_junit, &cst_report_tap};
	for (size_t i = 0; i < 4; i++) {
		struct cst_error err = CST_ERROR_INIT;
		assert_int_equal(fmts[i]->write(f, &rep, &plain, &err), -1);
		assert_int_equal(err.code, CST_E_IO);
		cst_error_clear(&err);
		clearerr(f);
	}
	fclose(f);
	cst_report_release(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_pass),
		cmocka_unit_test(test_golden_mixed),
		cmocka_unit_test(test_golden_empty),
		cmocka_unit_test(test_golden_color),
		cmocka_unit_test(test_golden_suite_name),
		cmocka_unit_test(test_golden_provenance_line),
		cmocka_unit_test(test_json_provenance_after_cst_keys),
		cmocka_unit_test(test_junit_classname),
		cmocka_unit_test(test_color_only_when_asked),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_long_output),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_write_file_replaces),
		cmocka_unit_test(test_write_file_missing_dir),
		cmocka_unit_test(test_write_file_failure_keeps_old),
		cmocka_unit_test(test_stream_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
