#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cst-version.h"
#include "cst/cli.h"
#include "cst/report.h"
#include "cst/run.h"
#include "cst/signals.h"

enum {
	EXIT_PASS = 0,
	EXIT_TEST_FAILED = 1,
	EXIT_ERROR = 2,
};

static int exit_code_for(const struct cst_error *err)
{
	if (err->code == CST_E_INTERRUPTED)
		return 128 + (err->signo ? err->signo : SIGINT);
	return EXIT_ERROR;
}

static bool want_color(const struct cst_options *o)
{
	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	return !o->no_color && !(no_color && *no_color) && isatty(STDOUT_FILENO) && !(term && strcmp(term, "dumb") == 0);
}

static int do_test(struct cst_options *o, struct cst_error *err)
{
	const char *format = o->output;
	/* CST writes a report file as JSON when the format is text. */
	if (o->test_report && strcmp(format, "text") == 0)
		format = "json";
	const struct cst_reporter *rep_fmt = cst_reporter_find(format);
	if (!rep_fmt)
		return cst_error_set(err, CST_E_USAGE, "unsupported output format '%s'", format);

	struct cst_report rep = {0};
	if (cst_run_test(o, stderr, &rep, err) < 0) {
		/* A refused config still writes the requested report, naming why,
		 * for CI dashboards; the exit status stays that of an error. */
		if (o->test_report && rep.n_suites) {
			struct cst_report_opts ropts = {.junit_suite_name = o->junit_suite_name};
			struct cst_error werr = CST_ERROR_INIT;
			if (cst_report_write_file(rep_fmt, o->test_report, &rep, &ropts, &werr) < 0)
				fprintf(stderr, "cst: %s\n", werr.msg ? werr.msg : "writing the report failed");
			cst_error_clear(&werr);
		}
		cst_report_release(&rep);
		return -1;
	}
	size_t pass = 0, fail = 0;
	cst_report_counts(&rep, &pass, &fail);
	struct cst_report_opts ropts = {
		.color = want_color(o) && !o->test_report,
		.junit_suite_name = o->junit_suite_name,
		.failures_only = o->quiet_pass,
		.provenance_line = strcmp(o->verbosity, "info") == 0 || strcmp(o->verbosity, "debug") == 0 ||
				   strcmp(o->verbosity, "trace") == 0,
	};
	int rc = 0;
	/* -q silences stdout only: a requested report file is still written,
	 * since a CI job that asks for one means to read it. */
	if (o->test_report)
		rc = cst_report_write_file(rep_fmt, o->test_report, &rep, &ropts, err);
	else if (!o->quiet)
		rc = cst_report_write_file(rep_fmt, NULL, &rep, &ropts, err);
	cst_report_release(&rep);
	if (rc < 0)
		return -1;
	if (pass + fail == 0) {
		if (!o->quiet)
			fputs("cst: no tests run\n", stderr);
		return EXIT_TEST_FAILED;
	}
	return fail ? EXIT_TEST_FAILED : EXIT_PASS;
}

int main(int argc, char **argv)
{
	struct cst_options opts;
	struct cst_error err = CST_ERROR_INIT;
	int code;

	/* Command tests run on a few threads that allocate little: an arena
	 * per thread costs more resident memory than the contention it saves. */
	mallopt(M_ARENA_MAX, 1);
	if (cst_signals_install() < 0) {
		perror("cst: installing signal handlers");
		return EXIT_ERROR;
	}
	if (cst_cli_parse(argc, argv, &opts, &err) < 0) {
		fprintf(stderr, "cst: %s\n", err.msg ? err.msg : "bad command line");
		cst_error_clear(&err);
		cst_cli_release(&opts);
		return EXIT_ERROR;
	}
	switch (opts.command) {
	case CST_CMD_HELP:
		if (opts.help_topic && strcmp(opts.help_topic, "test") == 0)
			cst_cli_test_usage(stdout);
		else if (opts.help_topic && strcmp(opts.help_topic, "validate") == 0)
			cst_cli_validate_usage(stdout);
		else
			cst_cli_usage(stdout);
		code = EXIT_PASS;
		break;
	case CST_CMD_VERSION:
		printf("cst %s\n", CST_VERSION);
		code = EXIT_PASS;
		break;
	case CST_CMD_VALIDATE:
		code = cst_run_validate(&opts, stdout, stderr, &err);
		code = code < 0 ? exit_code_for(&err) : code > 0 ? EXIT_TEST_FAILED : EXIT_PASS;
		break;
	case CST_CMD_TEST:
		code = do_test(&opts, &err);
		if (code < 0)
			code = exit_code_for(&err);
		else if (cst_signal_pending())
			/* Interrupted after the last check: the report is whole,
			 * but the caller asked the run to stop and must hear so. */
			code = 128 + cst_signal_pending();
		break;
	default:
		code = EXIT_ERROR;
		break;
	}
	if (err.code != CST_OK) {
		/* Located config errors are already "FILE:LINE:COL: msg" lines. */
		if (err.code == CST_E_CONFIG)
			fprintf(stderr, "%s\n", err.msg ? err.msg : "invalid config");
		else
			fprintf(stderr, "cst: %s\n", err.msg ? err.msg : "error");
	}
	cst_error_clear(&err);
	cst_cli_release(&opts);
	return code;
}
