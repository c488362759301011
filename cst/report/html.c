/* One self-contained HTML page for people: a summary bar, the failures
 * first with their errors and output, the passes folded away.
 *
 * The page has no scripts and loads nothing (a CI artifact viewer or a
 * mail client may block both); folding is <details>, the layout is a
 * single column that fits a phone.  Every element a reader or a test may
 * want to find has a class or id, and the counts are also data attributes,
 * so a DOM query need not parse prose. */
#include "cst/report.h"

#include <inttypes.h>
#include <string.h>

#include "cst/report/internal.h"

/* Kept short and plain: the page must stay readable with the stylesheet
 * ignored, and the colours pass WCAG AA contrast on both schemes. */
static const char style[] =
	":root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;"
	"--pass:#1a7f37;--fail:#cf222e;--code:#f6f8fa}\n"
	"@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;"
	"--line:#30363d;--pass:#3fb950;--fail:#f85149;--code:#161b22}}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0 auto;max-width:60rem;padding:1rem;font:16px/1.5 system-ui,sans-serif;"
	"color:var(--fg);background:var(--bg);overflow-wrap:anywhere}\n"
	"h1{font-size:1.4rem;margin:0 0 .5rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}"
	"h3{font-size:1rem;margin:0}\n"
	".verdict{display:inline-block;padding:0 .5rem;border-radius:.25rem;color:#fff;font-weight:700}\n"
	".verdict.pass{background:var(--pass)}.verdict.fail{background:var(--fail)}\n"
	".bar{display:flex;height:.75rem;border-radius:.375rem;overflow:hidden;background:var(--line);"
	"margin:.5rem 0}\n"
	".bar-pass{background:var(--pass)}.bar-fail{background:var(--fail)}\n"
	".counts{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:0;padding:0;list-style:none}\n"
	".counts .n{font-weight:700}\n"
	".result{border:1px solid var(--line);border-left:.3rem solid var(--pass);border-radius:.25rem;"
	"margin:.5rem 0;padding:.5rem .75rem}\n"
	".result.fail{border-left-color:var(--fail)}\n"
	".meta{color:var(--muted);font-size:.875rem}\n"
	"summary{cursor:pointer}\n"
	".errors{margin:.5rem 0;padding-left:1.25rem;color:var(--fail)}\n"
	".errors li{white-space:pre-wrap}\n"
	"pre{margin:.25rem 0 .5rem;padding:.5rem;background:var(--code);border-radius:.25rem;"
	"overflow-x:auto;white-space:pre-wrap;font:13px/1.4 ui-monospace,monospace}\n"
	".label{font-size:.875rem;font-weight:700;margin:.5rem 0 0}\n"
	".provenance{display:grid;grid-template-columns:max-content 1fr;gap:0 1rem;margin:.5rem 0;"
	"font-size:.875rem}\n"
	".provenance dt{color:var(--muted)}.provenance dd{margin:0;font-family:ui-monospace,monospace}\n";

/* Writes s for HTML text or a quoted attribute; both escapes are the same
 * here, so one function serves.  What HTML cannot show (invalid UTF-8,
 * NUL, C1 controls, noncharacters) becomes U+FFFD; other C0 controls and
 * DEL become their Control Pictures (U+2400 block), so an escape sequence
 * in command output stays visible instead of vanishing.  Tab, LF and CR
 * pass through: a <pre> shows them as the terminal did. */
static void html_escape(FILE *out, const char *s, size_t n)
{
	size_t run = 0;
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t len = cst_utf8_decode(s + i, n - i, &cp);
		const char *rep = NULL;
		char pic[4];
		if (!len || cp == 0 || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) ||
		    (cp & 0xFFFE) == 0xFFFE) {
			rep = CST_UTF8_REPLACEMENT;
		} else if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F) {
			uint32_t p = cp == 0x7F ? 0x2421 : 0x2400 + cp;
			pic[0] = (char)(0xE0 | (p >> 12));
			pic[1] = (char)(0x80 | ((p >> 6) & 0x3F));
			pic[2] = (char)(0x80 | (p & 0x3F));
			pic[3] = '\0';
			rep = pic;
		} else {
			switch (cp) {
			case '<': rep = "&lt;"; break;
			case '>': rep = "&gt;"; break;
			case '&': rep = "&amp;"; break;
			case '"': rep = "&quot;"; break;
			case '\'': rep = "&#39;"; break;
			default: break;
			}
		}
		if (!len)
			len = 1;
		if (rep) {
			fwrite(s + run, 1, i - run, out);
			fputs(rep, out);
			run = i + len;
		}
		i += len;
	}
	fwrite(s + run, 1, n - run, out);
}

static void html_str(FILE *out, const char *s)
{
	if (s)
		html_escape(out, s, strlen(s));
}

/* A short human duration: "999 ns", "41.25 ms", "1.500 s", "1 h 2 min 3.5 s".
 * Integer arithmetic only, so the page is the same on every machine. */
static void html_duration(FILE *out, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	if (ns < 1000) {
		fprintf(out, "%" PRId64 " ns", ns);
	} else if (ns < 1000000) {
		fprintf(out, "%" PRId64 ".%02" PRId64 " \xC2\xB5s", ns / 1000, ns % 1000 / 10);
	} else if (ns < 1000000000) {
		fprintf(out, "%" PRId64 ".%02" PRId64 " ms", ns / 1000000, ns % 1000000 / 10000);
	} else if (ns < INT64_C(60000000000)) {
		fprintf(out, "%" PRId64 ".%03" PRId64 " s", ns / 1000000000, ns % 1000000000 / 1000000);
	} else {
		int64_t s = ns / 1000000000;
		if (s >= 3600)
			fprintf(out, "%" PRId64 " h ", s / 3600);
		fprintf(out, "%" PRId64 " min %" PRId64 ".%01" PRId64 " s", s % 3600 / 60, s % 60,
			ns % 1000000000 / 100000000);
	}
}

/* A percentage with one decimal, from integers: "66.7". */
static void html_percent(FILE *out, size_t part, size_t whole)
{
	size_t tenths = whole ? (part * 1000 + whole / 2) / whole : 0;
	fprintf(out, "%zu.%zu", tenths / 10, tenths % 10);
}

static void output_block(FILE *out, const char *label, const char *cls, const char *s, size_t n)
{
	if (!n)
		return;
	fprintf(out, "<p class=\"label\">%s</p><pre class=\"%s\">", label, cls);
	/* A parser drops one line break right after <pre>; give it one to drop
	 * so that output starting with a blank line keeps it. */
	if (s[0] == '\n' || s[0] == '\r')
		fputc('\n', out);
	html_escape(out, s, n);
	fputs("</pre>\n", out);
}

/* The body shared by failures and passes: config file, duration, errors,
 * output. */
static void result_body(FILE *out, const struct cst_suite *s, const struct cst_result *r)
{
	fputs("<p class=\"meta\"><span class=\"config\">", out);
	html_str(out, s->config_path);
	fputs("</span> \xC2\xB7 <span class=\"duration\">", out);
	html_duration(out, r->duration_ns);
	fputs("</span></p>\n", out);
	if (r->n_errors) {
		fputs("<ul class=\"errors\">\n", out);
		for (size_t i = 0; i < r->n_errors; i++) {
			fputs("<li class=\"error\">", out);
			html_str(out, r->errors[i]);
			fputs("</li>\n", out);
		}
		fputs("</ul>\n", out);
	} else if (!r->pass) {
		fputs("<ul class=\"errors\">\n<li class=\"error\">test failed</li>\n</ul>\n", out);
	}
	output_block(out, "stdout", "stdout", r->out, r->out_len);
	output_block(out, "stderr", "stderr", r->err, r->err_len);
}

static void failure(FILE *out, const struct cst_suite *s, const struct cst_result *r)
{
	fputs("<article class=\"result fail\" data-name=\"", out);
	html_str(out, r->name);
	fputs("\">\n<h3 class=\"name\">", out);
	html_str(out, r->name);
	fputs("</h3>\n", out);
	result_body(out, s, r);
	fputs("</article>\n", out);
}

/* Passes fold into one line each; they rarely need reading, but their
 * output is still there for the one that does. */
static void pass(FILE *out, const struct cst_suite *s, const struct cst_result *r)
{
	fputs("<details class=\"result pass\" data-name=\"", out);
	html_str(out, r->name);
	fputs("\">\n<summary><span class=\"name\">", out);
	html_str(out, r->name);
	fputs("</span></summary>\n", out);
	result_body(out, s, r);
	fputs("</details>\n", out);
}

/* What was tested: a definition list, each value also a data attribute
 * of the list so that a query need not read prose. */
static void provenance(FILE *out, const struct cst_report *rep)
{
	struct cst_prov_fields pf;
	cst_provenance_fields(rep, &pf);
	if (!pf.n)
		return;
	fputs("<dl class=\"provenance\" id=\"provenance\"", out);
	for (size_t i = 0; i < pf.n; i++) {
		if (!pf.f[i].json)
			continue;
		fputs(" data-", out);
		for (const char *c = pf.f[i].name; *c; c++)
			fputc(*c == '.' ? '-' : *c, out);
		fputs("=\"", out);
		html_str(out, pf.f[i].value);
		fputc('"', out);
	}
	fputs(">\n", out);
	for (size_t i = 0; i < pf.n; i++) {
		if (!pf.f[i].json)
			continue;
		fputs("<dt>", out);
		html_str(out, pf.f[i].label);
		fputs("</dt><dd class=\"", out);
		for (const char *c = pf.f[i].name; *c; c++)
			fputc(*c == '.' ? '-' : *c, out);
		fputs("\">", out);
		html_str(out, pf.f[i].value);
		fputs("</dd>\n", out);
	}
	fputs("</dl>\n", out);
}

static void summary(FILE *out, const struct cst_report *rep, size_t npass, size_t nfail, int64_t duration_ns)
{
	size_t total = npass + nfail;
	bool ok = total > 0 && nfail == 0;
	fprintf(out,
		"<header id=\"summary\" data-pass=\"%zu\" data-fail=\"%zu\" data-total=\"%zu\">\n"
		"<h1>Container structure tests <span class=\"verdict %s\">%s</span></h1>\n",
		npass, nfail, total, ok ? "pass" : "fail", ok ? "PASS" : "FAIL");
	fprintf(out, "<div class=\"bar\" role=\"img\" aria-label=\"%zu passed, %zu failed\">", npass, nfail);
	if (npass) {
		fputs("<span class=\"bar-pass\" style=\"width:", out);
		html_percent(out, npass, total);
		fputs("%\"></span>", out);
	}
	if (nfail) {
		fputs("<span class=\"bar-fail\" style=\"width:", out);
		html_percent(out, nfail, total);
		fputs("%\"></span>", out);
	}
	fputs("</div>\n<ul class=\"counts\">", out);
	fprintf(out, "<li><span class=\"n\">%zu</span> passed</li>", npass);
	fprintf(out, "<li><span class=\"n\">%zu</span> failed</li>", nfail);
	fprintf(out, "<li><span class=\"n\">%zu</span> total</li>", total);
	fputs("<li>in <span class=\"duration\">", out);
	html_duration(out, duration_ns);
	fputs("</span></li></ul>\n", out);
	provenance(out, rep);
	if (total == 0)
		fputs("<p class=\"no-tests\">No tests run! Check config file format.</p>\n", out);
	fputs("</header>\n", out);
}

static int html_write(FILE *out, const struct cst_report *rep, const struct cst_report_opts *opts,
		      struct cst_error *err)
{
	size_t npass, nfail;
	cst_report_counts(rep, &npass, &nfail);
	bool ok = npass + nfail > 0 && nfail == 0;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
	      out);
	fprintf(out, "<title>%s: %zu passed, %zu failed</title>\n", ok ? "PASS" : "FAIL", npass, nfail);
	fprintf(out, "<style>\n%s</style>\n</head>\n<body>\n", style);
	summary(out, rep, npass, nfail, rep->duration_ns);

	if (nfail) {
		fprintf(out, "<section id=\"failures\">\n<h2>Failures (%zu)</h2>\n", nfail);
		for (size_t i = 0; i < rep->n_suites; i++)
			for (size_t j = 0; j < rep->suites[i].n_results; j++)
				if (!rep->suites[i].results[j].pass)
					failure(out, &rep->suites[i], &rep->suites[i].results[j]);
		fputs("</section>\n", out);
	}
	if (npass) {
		fprintf(out, "<section id=\"passes\">\n<h2>Passes (%zu)</h2>\n", npass);
		for (size_t i = 0; i < rep->n_suites; i++)
			for (size_t j = 0; j < rep->suites[i].n_results; j++)
				if (rep->suites[i].results[j].pass)
					pass(out, &rep->suites[i], &rep->suites[i].results[j]);
		fputs("</section>\n", out);
	}
	fputs("</body>\n</html>\n", out);
	return cst_report_finish(out, err);
}

const struct cst_reporter cst_report_html = {
	.name = "html",
	.write = html_write,
};
