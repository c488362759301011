/* Test results: what checks produce and reporters consume.
 *
 * A failed check is a result with pass = false and one or more errors, never
 * a struct cst_error.  Results are grouped per config file (the text report
 * prints a banner per file) and kept in config order.
 */
#ifndef CST_RESULT_H
#define CST_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cst/buf.h"
#include "cst/error.h"

struct cst_result {
	char *name;     /* "Command Test: NAME", "File Existence Test: NAME", ... */
	bool pass;
	char *out;      /* stdout of a command test; NULL when none */
	size_t out_len; /* may contain NUL bytes and invalid UTF-8 */
	char *err;      /* stderr of a command test; NULL when none */
	size_t err_len;
	char **errors;  /* failure messages */
	size_t n_errors;
	int64_t duration_ns;
};

struct cst_suite {
	char *config_path;
	struct cst_result *results;
	size_t n_results;
	size_t cap;
};

/* What was tested, by what, and when: every report names it, so that a
 * report read later can be told apart from the next one.  Strings are
 * owned by the report; NULL (or 0) is "unknown" and is left out.  A report
 * whose version is NULL carries no provenance at all. */
struct cst_provenance {
	char *image;       /* the reference or path as given */
	char *image_id;    /* "sha256:..." */
	char *repo_digest; /* "name@sha256:...", the first the engine knows */
	char *platform;    /* "linux/amd64[/v8]" */
	char *driver;      /* "docker", "tar" */
	char *version;     /* cst's */
	char *hostname;
	int64_t start_unix_ns; /* wall clock at the start of the run */
};

struct cst_report {
	struct cst_suite *suites;
	size_t n_suites;
	size_t cap;
	int64_t duration_ns; /* the whole run */
	struct cst_provenance prov;
};

/* Initializes r with name (copied) and pass = true. -1 on allocation failure. */
int cst_result_init(struct cst_result *r, const char *fmt, ...) CST_PRINTF(2, 3);
/* Adds an error line and marks the result failed. -1 on allocation failure. */
int cst_result_fail(struct cst_result *r, const char *fmt, ...) CST_PRINTF(2, 3);
/* Takes copies of a command's output. */
int cst_result_set_output(struct cst_result *r, const char *out, size_t out_len, const char *err, size_t err_len);

/* Moves the contents of both buffers into r (they are left empty): a
 * command's output is held once, not copied.  An output whose escaped form
 * (a NUL is 6 bytes in JSON, "\u0000") would pass max_escaped bytes is cut
 * where it would, and a line saying so ends it: a report grows with the
 * output it shows, whatever the bytes.  -1 when out of memory. */
int cst_result_take_output(struct cst_result *r, struct cst_buf *out, struct cst_buf *err, size_t max_escaped);

/* Where to cut n bytes of output so that no report format spends more
 * than max_escaped bytes on them; n when they fit. */
size_t cst_report_cut(const char *p, size_t n, size_t max_escaped);
void cst_result_release(struct cst_result *r);

/* Appends a new suite; returns it or NULL on allocation failure. */
struct cst_suite *cst_report_add_suite(struct cst_report *rep, const char *config_path);
/* Moves *r (which is left zeroed) to the end of the suite. -1 on allocation failure. */
int cst_suite_add(struct cst_suite *s, struct cst_result *r);
void cst_report_counts(const struct cst_report *rep, size_t *ret_pass, size_t *ret_fail);
void cst_report_release(struct cst_report *rep);
/* Sets *field to a copy of value (NULL stays NULL). -1 on allocation failure. */
int cst_provenance_set(char **field, const char *value);

#endif
