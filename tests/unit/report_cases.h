/* Fixed reports for the reporter tests: results in, bytes out.  Shared by
 * test_report.c (golden files) and report_fixture.c (files for xmllint and
 * prove).  Durations are fixed so that output is reproducible. */
#ifndef REPORT_CASES_H
#define REPORT_CASES_H

#include <stdlib.h>
#include <string.h>

#include "cst/result.h"

#define LONG_OUTPUT_BYTES (1u << 20)

struct case_result {
	const char *name;
	bool pass;
	const char *out;
	size_t out_len;
	const char *err;
	size_t err_len;
	const char *errors[4];
	int64_t duration_ns;
};

#define S(lit) lit, sizeof(lit) - 1

static const struct case_result pass_results[] = {
	{"Command Test: say hello", true, S("hello\n"), NULL, 0, {NULL}, 41250000},
	{"File Existence Test: /etc/passwd", true, NULL, 0, NULL, 0, {NULL}, 999},
	{"Metadata Test", true, NULL, 0, NULL, 0, {NULL}, 1500},
};

static const struct case_result mixed_commands[] = {
	{"Command Test: echo <a> & \"b\" 'c'", true, S("a <b> & \"c\" 'd'\n"), NULL, 0, {NULL}, 2250000},
	{"Command Test: several errors", false, S("bye\n"), S("error: <bad> & worse\n"),
	 {"Expected string 'hello' not found in output 'bye\n'", "Expected exit code 0, got 1",
	  "Found excluded string '<bad> & \"worse\"' in error 'error: <bad> & worse\n'", NULL},
	 1500000000},
	{"Command Test: control characters", false, S("a\x01" "b\x1b[31mred\x1b[0m\tTab\r\nnext\0nul\x7f" "del"),
	 S("\xff\xfe invalid \xc3\x28 utf8 \xed\xa0\x80 surrogate \xef\xbf\xbe FFFE \xe2\x82 cut\n"),
	 {"bad byte \x80 and bell \x07 in error", NULL}, 90000000000},
};

static const struct case_result mixed_files[] = {
	{"File Existence Test: /etc/passwd", true, NULL, 0, NULL, 0, {NULL}, 0},
	{"File Content Test: weird #name \\ with\ttab", false, NULL, 0, NULL, 0,
	 {"Expected contents 'Debian' not found in /etc/os-release", NULL}, 3723500000000},
	{"Command Test: multi-line", false, S("line one\n\n  indented \xc3\xa9\n   \nlast # not a comment\n...\n"), S("no newline at end"),
	 {"Expected exit code 0, got 2", NULL}, 1},
	{"License Test", false, NULL, 0, NULL, 0, {NULL}, 17},
};

static int case_add(struct cst_suite *s, const struct case_result *c)
{
	struct cst_result r;
	if (cst_result_init(&r, "%s", c->name) < 0)
		return -1;
	if (cst_result_set_output(&r, c->out, c->out_len, c->err, c->err_len) < 0)
		goto fail;
	for (size_t i = 0; c->errors[i]; i++)
		if (cst_result_fail(&r, "%s", c->errors[i]) < 0)
			goto fail;
	r.pass = c->pass;
	r.duration_ns = c->duration_ns;
	if (cst_suite_add(s, &r) < 0)
		goto fail;
	return 0;
fail:
	cst_result_release(&r);
	return -1;
}

static int case_suite(struct cst_report *rep, const char *path, const struct case_result *v, size_t n)
{
	struct cst_suite *s = cst_report_add_suite(rep, path);
	if (!s)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (case_add(s, &v[i]) < 0)
			return -1;
	return 0;
}

/* The 1 MiB outputs of the "long" case: stdout is plain lines (so every
 * format can carry it unchanged), stderr has a control character per line. */
static char *long_output(bool control)
{
	char *p = malloc(LONG_OUTPUT_BYTES);
	if (!p)
		return NULL;
	static const char line[] = "line 0000000 the quick brown fox jumps over the lazy dog\n";
	size_t n = sizeof(line) - 1;
	for (size_t off = 0, i = 0; off < LONG_OUTPUT_BYTES; off += n, i++) {
		char buf[sizeof(line)];
		memcpy(buf, line, sizeof(line));
		char num[16];
		snprintf(num, sizeof(num), "%07zu", i % 10000000);
		memcpy(buf + 5, num, 7);
		if (control)
			buf[12] = '\x01';
		size_t k = LONG_OUTPUT_BYTES - off < n ? LONG_OUTPUT_BYTES - off : n;
		memcpy(p + off, buf, k);
	}
	p[LONG_OUTPUT_BYTES - 1] = '\n';
	return p;
}

/* Fixed provenance, as a run fills it from the engine and the clock;
 * "mixed" names an archive whose path needs escaping in every format. */
static int case_provenance(struct cst_report *rep, const char *image, const char *id, const char *digest)
{
	struct cst_provenance *p = &rep->prov;
	p->start_unix_ns = INT64_C(1767225600) * 1000000000 + 250000000; /* 2026-01-01T00:00:00.25Z */
	if (cst_provenance_set(&p->image, image) < 0 || cst_provenance_set(&p->image_id, id) < 0 ||
	    cst_provenance_set(&p->repo_digest, digest) < 0 ||
	    cst_provenance_set(&p->platform, "linux/arm64/v8") < 0 ||
	    cst_provenance_set(&p->driver, id ? "docker" : "tar") < 0 ||
	    cst_provenance_set(&p->version, "1.2.3") < 0 || cst_provenance_set(&p->hostname, "ci-runner-7") < 0)
		return -1;
	return 0;
}

/* Builds the named case into rep (zeroed by the caller).  -1 on an unknown
 * name or allocation failure; rep must be released either way. */
static int report_case_build(const char *name, struct cst_report *rep)
{
	if (strcmp(name, "empty") == 0) {
		rep->duration_ns = 1000;
		return 0;
	}
	if (strcmp(name, "pass") == 0) {
		rep->duration_ns = 41251500 + 999;
		if (case_provenance(rep, "registry.example:5000/team/app:1.2.3",
				    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				    "registry.example:5000/team/app@sha256:"
				    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210") < 0)
			return -1;
		return case_suite(rep, "tests/pass.yaml", pass_results,
				  sizeof(pass_results) / sizeof(pass_results[0]));
	}
	if (strcmp(name, "mixed") == 0) {
		rep->duration_ns = 3815002250018;
		if (case_provenance(rep, "images/app & <\"new\">\t'x'.tar", NULL, NULL) < 0)
			return -1;
		if (case_suite(rep, "configs/commands.yaml", mixed_commands,
			       sizeof(mixed_commands) / sizeof(mixed_commands[0])) < 0)
			return -1;
		return case_suite(rep, "other/dir/files & <more>.yml", mixed_files,
				  sizeof(mixed_files) / sizeof(mixed_files[0]));
	}
	if (strcmp(name, "long") == 0) {
		rep->duration_ns = 2000000000;
		struct cst_suite *s = cst_report_add_suite(rep, "long.yaml");
		if (!s)
			return -1;
		char *out = long_output(false), *err = long_output(true);
		struct case_result c = {"Command Test: long output", false, out, LONG_OUTPUT_BYTES, err,
					LONG_OUTPUT_BYTES, {"Expected string 'needle' not found", NULL}, 1000000000};
		int rc = out && err ? case_add(s, &c) : -1;
		free(out);
		free(err);
		return rc;
	}
	return -1;
}

#undef S

#endif
