/* Report formats: text, json, junit, tap, html — one file each under cst/report/,
 * all fed the same struct cst_report. */
#ifndef CST_REPORT_H
#define CST_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "cst/error.h"
#include "cst/result.h"

struct cst_report_opts {
	bool color;                    /* ANSI colour (text only) */
	const char *junit_suite_name;  /* default "container-structure-test.test" */
	bool failures_only;            /* text: passing tests are only counted */
	bool provenance_line;          /* text: a line saying what was tested under
					* the first banner (-v info; CST has none) */
};

struct cst_reporter {
	const char *name; /* "text", "json", "junit", "tap", "html" */
	/* Writes the whole report to out.  Returns -1 with err on a write error. */
	int (*write)(FILE *out, const struct cst_report *rep, const struct cst_report_opts *opts, struct cst_error *err);
};

extern const struct cst_reporter cst_report_text;
extern const struct cst_reporter cst_report_json;
extern const struct cst_reporter cst_report_junit;
extern const struct cst_reporter cst_report_tap;
extern const struct cst_reporter cst_report_html;

/* NULL when name is not a known format. */
const struct cst_reporter *cst_reporter_find(const char *name);

/* Writes the report to path atomically: a temporary file in the same
 * directory, fsync'd and renamed, removed on any failure, so a failed run
 * never leaves half a report.  path "-" or NULL writes to stdout. */
int cst_report_write_file(const struct cst_reporter *fmt, const char *path, const struct cst_report *rep,
			  const struct cst_report_opts *opts, struct cst_error *err);

#endif
