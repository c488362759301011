/* TAP version 13 (rather than 14: cst needs nothing that 14 adds, and
 * Debian 12's prove, Test::Harness 3.44, rejects a version 14 header): a
 * plan, one test point per result in run order, and a YAML diagnostics
 * block under each failure.
 *
 * The YAML is kept to what the small YAML readers inside TAP harnesses
 * understand (Perl's TAP::Parser::YAMLish in prove, among others): plain
 * keys, double-quoted one-line strings with \xNN escapes, block sequences,
 * and plain "|" literal blocks only for output that needs no indentation or
 * chomping indicator.  Every string stays valid for a full YAML parser too.
 *
 * YAMLish matches a quoted scalar with one regex whose repetition Perl caps
 * (32766 or 65534 steps, depending on the version), so a quoted value is cut
 * at QUOTED_MAX bytes and says how much is missing.  Multi-line output,
 * the common case, goes in a literal block, which has no such limit; the
 * JSON and JUnit reports always carry everything. */
#include "cst/report.h"

#include <inttypes.h>
#include <string.h>

#include "cst/report/internal.h"

#define QUOTED_MAX 30000

/* YAML 1.2 c-printable, minus what a double-quoted scalar must escape
 * anyway; U+FFFE/FFFF are not printable and become U+FFFD. */
static bool yaml_printable(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7F)
		return false;
	if (cp >= 0x80 && cp <= 0x9F)
		return false;
	return cp != 0xFFFE && cp != 0xFFFF;
}

/* A double-quoted scalar on one line, cut after QUOTED_MAX bytes of
 * escaped text. */
static void yaml_quoted(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	size_t run = 0;
	size_t i = 0;
	size_t written = 0;
	while (i < n && written < QUOTED_MAX) {
		uint32_t cp;
		size_t len = cst_utf8_decode(s + i, n - i, &cp);
		char esc[8];
		const char *rep = NULL;
		if (!len) {
			rep = CST_UTF8_REPLACEMENT;
			len = 1;
		} else if (cp == '"') {
			rep = "\\\"";
		} else if (cp == '\\') {
			rep = "\\\\";
		} else if (cp == '\n') {
			rep = "\\n";
		} else if (cp == '\t') {
			rep = "\\t";
		} else if (cp == '\r') {
			rep = "\\r";
		} else if (cp == 0xFFFE || cp == 0xFFFF) {
			rep = CST_UTF8_REPLACEMENT;
		} else if (!yaml_printable(cp)) {
			snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)cp);
			rep = esc;
		}
		if (rep) {
			fwrite(s + run, 1, i - run, out);
			fputs(rep, out);
			run = i + len;
			written += strlen(rep);
		} else {
			written += len;
		}
		i += len;
	}
	fwrite(s + run, 1, i - run, out);
	if (i < n)
		fprintf(out, " [... %zu more bytes]", n - i);
	fputc('"', out);
}

/* Whether s reads back unchanged from a plain "|" literal block in both
 * YAML and TAP::Parser::YAMLish: it ends in exactly one newline (the only
 * ending "|" keeps), its first line is neither empty nor indented (no
 * indentation indicator needed), no line starts with a tab (YAMLish would
 * count it as indentation), and it is printable throughout. */
static bool literal_ok(const char *s, size_t n)
{
	if (n < 2 || s[n - 1] != '\n' || s[n - 2] == '\n' || s[0] == ' ' || s[0] == '\n')
		return false;
	bool line_start = true;
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t len = cst_utf8_decode(s + i, n - i, &cp);
		if (!len)
			return false;
		if (cp == '\n') {
			line_start = true;
			i++;
			continue;
		}
		if (line_start && cp == '\t')
			return false;
		if (cp != ' ' && !yaml_printable(cp))
			return false;
		line_start = false;
		i += len;
	}
	return true;
}

/* Empty lines get the indentation too: a TAP harness strips the block's
 * indent from every line and ends the block at a line that lacks it, while
 * YAML reads an indentation-only line as an empty one. */
static void yaml_literal(FILE *out, const char *s, size_t n, const char *indent)
{
	fputs("|\n", out);
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\n')
			continue;
		fputs(indent, out);
		fwrite(s + start, 1, i + 1 - start, out);
		start = i + 1;
	}
}

static void yaml_output(FILE *out, const char *key, const char *s, size_t n)
{
	fprintf(out, "  %s: ", key);
	if (literal_ok(s, n)) {
		yaml_literal(out, s, n, "    ");
	} else {
		yaml_quoted(out, s, n);
		fputc('\n', out);
	}
}

/* A test point's description: one line, with TAP's escapes for '#' (which
 * would start a directive) and '\'. */
static void tap_description(FILE *out, const char *s)
{
	size_t n = strlen(s);
	size_t run = 0;
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t len = cst_utf8_decode(s + i, n - i, &cp);
		const char *rep = NULL;
		if (!len) {
			rep = CST_UTF8_REPLACEMENT;
			len = 1;
		} else if (cp == '#') {
			rep = "\\#";
		} else if (cp == '\\') {
			rep = "\\\\";
		} else if (cp < 0x20 || cp == 0x7F) {
			rep = cp == '\t' ? " " : CST_UTF8_REPLACEMENT;
		}
		if (rep) {
			fwrite(s + run, 1, i - run, out);
			fputs(rep, out);
			run = i + len;
		}
		i += len;
	}
	fwrite(s + run, 1, n - run, out);
}

/* Text for a comment line; control characters would end the line early,
 * so they are replaced. */
static void tap_comment_text(FILE *out, const char *base, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)base[i];
		if (c < 0x20 || c == 0x7F) {
			cst_utf8_write_valid(out, base + run, i - run);
			fputs(CST_UTF8_REPLACEMENT, out);
			run = i + 1;
		}
	}
	cst_utf8_write_valid(out, base + run, n - run);
}

/* A comment line naming the config file. */
static void tap_comment_path(FILE *out, const char *path)
{
	size_t n;
	const char *base = cst_path_base(path, &n);
	fputs("# Test file: ", out);
	tap_comment_text(out, base, n);
	fputc('\n', out);
}

static void diagnostics(FILE *out, const struct cst_result *r)
{
	fputs("  ---\n", out);
	fputs("  message: ", out);
	if (r->n_errors && r->errors[0])
		yaml_quoted(out, r->errors[0], strlen(r->errors[0]));
	else
		yaml_quoted(out, "test failed", strlen("test failed"));
	fputs("\n  severity: fail\n", out);
	if (r->n_errors) {
		fputs("  errors:\n", out);
		for (size_t i = 0; i < r->n_errors; i++) {
			fputs("    - ", out);
			const char *e = r->errors[i] ? r->errors[i] : "";
			yaml_quoted(out, e, strlen(e));
			fputc('\n', out);
		}
	}
	if (r->out_len)
		yaml_output(out, "stdout", r->out, r->out_len);
	if (r->err_len)
		yaml_output(out, "stderr", r->err, r->err_len);
	int64_t ns = r->duration_ns < 0 ? 0 : r->duration_ns;
	fprintf(out, "  duration_ms: %" PRId64 ".%06" PRId64 "\n", ns / 1000000, ns % 1000000);
	fputs("  ...\n", out);
}

static int tap_write(FILE *out, const struct cst_report *rep, const struct cst_report_opts *opts,
		     struct cst_error *err)
{
	size_t total = cst_report_total(rep);
	fputs("TAP version 13\n", out);
	/* Comments before the plan: a harness shows them and counts nothing. */
	struct cst_prov_fields pf;
	cst_provenance_fields(rep, &pf);
	for (size_t i = 0; i < pf.n; i++) {
		fprintf(out, "# %s: ", pf.f[i].name);
		tap_comment_text(out, pf.f[i].value, strlen(pf.f[i].value));
		fputc('\n', out);
	}
	fprintf(out, "1..%zu\n", total);

	size_t n = 0;
	for (size_t i = 0; i < rep->n_suites; i++) {
		const struct cst_suite *s = &rep->suites[i];
		tap_comment_path(out, s->config_path);
		for (size_t j = 0; j < s->n_results; j++) {
			const struct cst_result *r = &s->results[j];
			fprintf(out, "%sok %zu - ", r->pass ? "" : "not ", ++n);
			tap_description(out, r->name ? r->name : "");
			fputc('\n', out);
			if (!r->pass)
				diagnostics(out, r);
		}
	}
	/* CST counts a run without tests as a failure; "1..0" alone would
	 * read as "all skipped" to a harness. */
	if (total == 0)
		fputs("Bail out! No tests run! Check config file format.\n", out);
	return cst_report_finish(out, err);
}

const struct cst_reporter cst_report_tap = {
	.name = "tap",
	.write = tap_write,
};
