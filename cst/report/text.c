/* CST's human-readable output, byte for byte where it matters to people who
 * grep it: the same banners, markers, colours and Go duration strings. */
#include "cst/report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "cst/report/internal.h"

/* ANSI colours CST uses (pkg/color). */
enum {
	C_NONE = 0,
	C_RED = 31,
	C_GREEN = 32,
	C_YELLOW = 33,
	C_BLUE = 34,
	C_PURPLE = 35,
	C_CYAN = 36,
	C_LIGHT_RED = 91,
	C_LIGHT_GREEN = 92,
};

/* CST's banner width before any test file is seen. */
#define DEFAULT_BANNER_LEN 27

struct text_out {
	FILE *f;
	bool color;
};

/* Like CST's Color.Fprintf: the escape codes wrap the whole formatted text,
 * newline included. */
CST_PRINTF(3, 4)
static void cprintf(const struct text_out *t, int color, const char *fmt, ...)
{
	if (t->color)
		fprintf(t->f, "\033[%dm", color);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(t->f, fmt, ap);
	va_end(ap);
	if (t->color)
		fputs("\033[0m", t->f);
}

/* Like CST's Color.Fprintln: the newline comes after the reset code. */
static void cline(const struct text_out *t, int color, const char *s)
{
	if (t->color)
		fprintf(t->f, "\033[%dm%s\033[0m\n", color, s);
	else
		fprintf(t->f, "%s\n", s);
}

/* "label: BYTES\n", the bytes written as they are (CST prints command output
 * unfiltered; it may hold NULs). */
static void cbytes(const struct text_out *t, int color, const char *label, const char *p, size_t n)
{
	if (t->color)
		fprintf(t->f, "\033[%dm", color);
	fputs(label, t->f);
	fwrite(p, 1, n, t->f);
	fputc('\n', t->f);
	if (t->color)
		fputs("\033[0m", t->f);
}

static void repeat(FILE *f, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc(c, f);
}

/* A Fprintln'd rule of n '=' after prefix. */
static void crule(const struct text_out *t, int color, const char *prefix, size_t n)
{
	if (t->color)
		fprintf(t->f, "\033[%dm", color);
	fputs(prefix, t->f);
	repeat(t->f, '=', n);
	if (t->color)
		fputs("\033[0m", t->f);
	fputc('\n', t->f);
}

/* Appends v with prec decimal places, trailing zeros (and a bare point)
 * dropped, as Go's time.Duration.String does. */
static void frac(char **w, uint64_t v, int prec)
{
	char digits[32];
	int nd = 0;
	bool print = false;
	for (int i = 0; i < prec; i++) {
		unsigned d = (unsigned)(v % 10);
		print = print || d != 0;
		if (print)
			digits[nd++] = (char)('0' + d);
		v /= 10;
	}
	*w += sprintf(*w, "%" PRIu64, v);
	if (nd) {
		*(*w)++ = '.';
		while (nd)
			*(*w)++ = digits[--nd];
	}
	**w = '\0';
}

/* Go's time.Duration.String(): "0s", "512ns", "1.5µs", "2.25ms", "1.5s",
 * "1m30s", "2h0m5.1s". */
static void go_duration(int64_t d, char buf[static 48])
{
	char *w = buf;
	if (d == 0) {
		strcpy(buf, "0s");
		return;
	}
	uint64_t u = (uint64_t)d;
	if (d < 0) {
		*w++ = '-';
		u = -u;
	}
	if (u < 1000000000ULL) {
		if (u < 1000ULL) {
			sprintf(w, "%" PRIu64 "ns", u);
		} else if (u < 1000000ULL) {
			frac(&w, u, 3);
			strcpy(w, "\xC2\xB5s");
		} else {
			frac(&w, u, 6);
			strcpy(w, "ms");
		}
		return;
	}
	uint64_t secs = u / 1000000000ULL;
	uint64_t mins = secs / 60, hours = mins / 60;
	if (hours)
		w += sprintf(w, "%" PRIu64 "h", hours);
	if (mins)
		w += sprintf(w, "%" PRIu64 "m", mins % 60);
	frac(&w, (secs % 60) * 1000000000ULL + u % 1000000000ULL, 9);
	strcpy(w, "s");
}

static void banner(const struct text_out *t, const char *config_path, size_t *banner_len)
{
	size_t base_len;
	const char *base = cst_path_base(config_path, &base_len);
	size_t len = strlen("====== Test file:  ======") + base_len;
	*banner_len = len;

	crule(t, C_PURPLE, "\n", len);
	if (t->color)
		fprintf(t->f, "\033[%dm", C_PURPLE);
	fprintf(t->f, "====== Test file: %.*s ======", (int)base_len, base);
	if (t->color)
		fputs("\033[0m", t->f);
	fputc('\n', t->f);
	crule(t, C_PURPLE, "", len);
}

static void result(const struct text_out *t, const struct cst_result *r)
{
	char dur[48];
	go_duration(r->duration_ns, dur);
	cprintf(t, C_NONE, "=== RUN: %s\n", r->name ? r->name : "");
	if (r->pass)
		cline(t, C_GREEN, "--- PASS");
	else
		cline(t, C_RED, "--- FAIL");
	cprintf(t, C_NONE, "duration: %s\n", dur);
	if (r->out_len)
		cbytes(t, C_BLUE, "stdout: ", r->out, r->out_len);
	if (r->err_len)
		cbytes(t, C_BLUE, "stderr: ", r->err, r->err_len);
	for (size_t i = 0; i < r->n_errors; i++)
		cprintf(t, C_YELLOW, "Error: %s\n", r->errors[i] ? r->errors[i] : "");
}

/* One plain line, "Tested: image app:1, image ID sha256:..., ...". */
static void provenance_line(const struct text_out *t, const struct cst_report *rep)
{
	struct cst_prov_fields pf;
	cst_provenance_fields(rep, &pf);
	if (!pf.n)
		return;
	fputs("Tested:", t->f);
	for (size_t i = 0; i < pf.n; i++) {
		if (!pf.f[i].json)
			continue;
		fprintf(t->f, "%s %s ", i ? "," : "", pf.f[i].label);
		/* A name may hold anything; the line stays one line. */
		for (const char *c = pf.f[i].value; *c; c++)
			fputc((unsigned char)*c < 0x20 || *c == 0x7F ? '?' : *c, t->f);
	}
	fputc('\n', t->f);
}

static int text_write(FILE *out, const struct cst_report *rep, const struct cst_report_opts *opts,
		      struct cst_error *err)
{
	const struct text_out t = {out, opts && opts->color};
	size_t banner_len = DEFAULT_BANNER_LEN;

	for (size_t i = 0; i < rep->n_suites; i++) {
		const struct cst_suite *s = &rep->suites[i];
		banner(&t, s->config_path, &banner_len);
		if (i == 0 && opts && opts->provenance_line)
			provenance_line(&t, rep);
		for (size_t j = 0; j < s->n_results; j++)
			if (!(opts && opts->failures_only && s->results[j].pass))
				result(&t, &s->results[j]);
	}

	size_t pass, fail;
	cst_report_counts(rep, &pass, &fail);
	if (pass + fail == 0) {
		if (rep->n_suites == 0 && opts && opts->provenance_line)
			provenance_line(&t, rep);
		cline(&t, C_RED, "No tests run! Check config file format.");
		return cst_report_finish(out, err);
	}

	/* An odd width centres " RESULTS " (9 columns) exactly. */
	if (banner_len % 2 == 0)
		banner_len++;
	size_t side = (banner_len - 9) / 2;
	char dur[48];
	go_duration(rep->duration_ns, dur);

	cline(&t, C_NONE, "");
	crule(&t, C_NONE, "", banner_len);
	/* Fprintf'd: the newline sits inside the colour codes. */
	if (t.color)
		fprintf(out, "\033[%dm", C_NONE);
	repeat(out, '=', side);
	fputs(" RESULTS ", out);
	repeat(out, '=', side);
	fputc('\n', out);
	if (t.color)
		fputs("\033[0m", out);
	crule(&t, C_NONE, "", banner_len);
	cprintf(&t, C_LIGHT_GREEN, "Passes:      %zu\n", pass);
	cprintf(&t, C_LIGHT_RED, "Failures:    %zu\n", fail);
	cprintf(&t, C_NONE, "Duration:    %s\n", dur);
	cprintf(&t, C_CYAN, "Total tests: %zu\n", pass + fail);
	cline(&t, C_NONE, "");
	cline(&t, fail ? C_RED : C_GREEN, fail ? "FAIL" : "PASS");
	return cst_report_finish(out, err);
}

const struct cst_reporter cst_report_text = {
	.name = "text",
	.write = text_write,
};
