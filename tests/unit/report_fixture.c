/* Writes one of the fixed reports of report_cases.h to a file, through
 * cst_report_write_file, for the checks that feed reports to outside
 * consumers (xmllint, prove).
 *
 *   report_fixture FORMAT CASE PATH [JUNIT_SUITE_NAME]
 *   report_fixture --yaml-expect CASE
 *
 * The second form prints what a YAML reader must get back from the TAP
 * diagnostics of each failed result, in tap-yaml.pl's format, for the
 * values that can come back byte for byte (valid UTF-8, no U+FFFE/FFFF;
 * the others are replaced by design).
 */
#include <stdio.h>
#include <string.h>

#include "cst/report.h"
#include "report_cases.h"

static bool round_trips(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		if (len == 0 || i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
		if (len == 2 && c < 0xC2)
			return false;
		if (len == 3 && ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] >= 0xA0) ||
				 (c == 0xEF && p[i + 1] == 0xBF && p[i + 2] >= 0xBE)))
			return false;
		if (len == 4 && ((c == 0xF0 && p[i + 1] < 0x90) || c > 0xF4 || (c == 0xF4 && p[i + 1] >= 0x90)))
			return false;
		/* C1 controls are escaped as \xNN, which YAML reads as the code
		 * point and Perl's YAMLish as the byte. */
		if (len == 2 && c == 0xC2 && p[i + 1] < 0xA0)
			return false;
		i += len - 1;
	}
	return true;
}

static void expect(size_t test, const char *key, const char *s, size_t n)
{
	if (!round_trips(s, n))
		return;
	/* Long output with control characters is cut short in TAP by design
	 * (test_report checks how); plain long output must come back whole. */
	for (size_t i = 0; n > 20000 && i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n')
			return;
	printf("%zu %s ", test, key);
	for (size_t i = 0; i < n; i++)
		printf("%02x", (unsigned char)s[i]);
	putchar('\n');
}

static int yaml_expect(const char *name)
{
	struct cst_report rep = {0};
	if (report_case_build(name, &rep) < 0) {
		cst_report_release(&rep);
		return 2;
	}
	size_t test = 0;
	for (size_t i = 0; i < rep.n_suites; i++)
		for (size_t j = 0; j < rep.suites[i].n_results; j++) {
			const struct cst_result *r = &rep.suites[i].results[j];
			test++;
			if (r->pass)
				continue;
			const char *msg = r->n_errors ? r->errors[0] : "test failed";
			expect(test, "message", msg, strlen(msg));
			if (r->out_len)
				expect(test, "stdout", r->out, r->out_len);
			if (r->err_len)
				expect(test, "stderr", r->err, r->err_len);
			for (size_t k = 0; k < r->n_errors; k++) {
				char key[32];
				snprintf(key, sizeof(key), "error.%zu", k);
				expect(test, key, r->errors[k], strlen(r->errors[k]));
			}
		}
	cst_report_release(&rep);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--yaml-expect") == 0)
		return yaml_expect(argv[2]);
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: %s FORMAT CASE PATH [JUNIT_SUITE_NAME]\n       %s --yaml-expect CASE\n",
			argv[0], argv[0]);
		return 2;
	}
	const struct cst_reporter *fmt = cst_reporter_find(argv[1]);
	if (!fmt) {
		fprintf(stderr, "%s: unknown format '%s'\n", argv[0], argv[1]);
		return 2;
	}
	struct cst_report rep = {0};
	if (report_case_build(argv[2], &rep) < 0) {
		fprintf(stderr, "%s: cannot build case '%s'\n", argv[0], argv[2]);
		cst_report_release(&rep);
		return 2;
	}
	const struct cst_report_opts opts = {false, argc == 5 ? argv[4] : NULL};
	struct cst_error err = CST_ERROR_INIT;
	int rc = cst_report_write_file(fmt, argv[3], &rep, &opts, &err);
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", argv[0], err.msg ? err.msg : "error");
	cst_error_clear(&err);
	cst_report_release(&rep);
	return rc < 0 ? 1 : 0;
}
