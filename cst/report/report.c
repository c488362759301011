#include "cst/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cst/atomic_file.h"
#include "cst/report/internal.h"

static const struct cst_reporter *const reporters[] = {
	&cst_report_text,
	&cst_report_json,
	&cst_report_junit,
	&cst_report_tap,
	&cst_report_html,
};

const struct cst_reporter *cst_reporter_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(reporters) / sizeof(reporters[0]); i++)
		if (strcmp(reporters[i]->name, name) == 0)
			return reporters[i];
	return NULL;
}

const char *cst_path_base(const char *path, size_t *ret_len)
{
	size_t n = path ? strlen(path) : 0;
	if (n == 0) {
		*ret_len = 1;
		return ".";
	}
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n == 0) {
		*ret_len = 1;
		return "/";
	}
	size_t start = n;
	while (start > 0 && path[start - 1] != '/')
		start--;
	*ret_len = n - start;
	return path + start;
}

size_t cst_report_total(const struct cst_report *rep)
{
	size_t total = 0;
	for (size_t i = 0; i < rep->n_suites; i++)
		total += rep->suites[i].n_results;
	return total;
}

int cst_report_finish(FILE *out, struct cst_error *err)
{
	if (fflush(out) != 0 || ferror(out)) {
		int e = errno ? errno : EIO;
		return cst_error_set(err, CST_E_IO, "writing report: %s", strerror(e));
	}
	return 0;
}

struct write_ud {
	const struct cst_reporter *fmt;
	const struct cst_report *rep;
	const struct cst_report_opts *opts;
};

static int write_report(FILE *f, void *ud, struct cst_error *err)
{
	const struct write_ud *w = ud;
	return w->fmt->write(f, w->rep, w->opts, err);
}

int cst_report_write_file(const struct cst_reporter *fmt, const char *path, const struct cst_report *rep,
			  const struct cst_report_opts *opts, struct cst_error *err)
{
	if (!path || strcmp(path, "-") == 0) {
		if (fmt->write(stdout, rep, opts, err) < 0)
			return cst_error_wrap(err, "writing report to stdout");
		return 0;
	}

	struct write_ud w = {fmt, rep, opts};
	return cst_atomic_write(path, "report", 0, true, write_report, &w, err);
}
