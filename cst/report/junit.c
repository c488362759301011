/* JUnit XML in CST's shape (testsuites > one testsuite > testcase, one
 * <failure> per error, <system-out>/<system-err>), plus what CI servers
 * need and CST leaves out (its issue #273): classname on every testcase,
 * tests/failures/errors/skipped/time on the suite, message on failures.
 *
 * All results go into one <testsuite>, as in CST, so the suite name users
 * pass with --junit-suite-name still names everything; the config file a
 * result came from becomes its classname. */
#include "cst/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cst/report/internal.h"

/* XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
 * [#x10000-#x10FFFF].  The decoder already rules out surrogates. */
static bool xml_char_ok(uint32_t cp)
{
	if (cp < 0x20)
		return cp == 0x9 || cp == 0xA || cp == 0xD;
	return cp != 0xFFFE && cp != 0xFFFF;
}

/* Writes s escaped for character data (attr = false) or for a double- or
 * single-quoted attribute (attr = true).  Characters XML cannot carry
 * become U+FFFD.  In attributes, tab and newlines are written as character
 * references, since a parser normalises them to spaces otherwise; CR is a
 * reference everywhere because parsers turn a literal CR into LF. */
static void xml_escape(FILE *out, const char *s, size_t n, bool attr)
{
	size_t run = 0;
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t len = cst_utf8_decode(s + i, n - i, &cp);
		const char *rep = NULL;
		if (!len || !xml_char_ok(cp)) {
			rep = CST_UTF8_REPLACEMENT;
		} else {
			switch (cp) {
			case '<': rep = "&lt;"; break;
			case '>': rep = "&gt;"; break;
			case '&': rep = "&amp;"; break;
			case '"': rep = "&quot;"; break;
			case '\'': rep = "&apos;"; break;
			case '\r': rep = "&#13;"; break;
			case '\n': rep = attr ? "&#10;" : NULL; break;
			case '\t': rep = attr ? "&#9;" : NULL; break;
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

static void xml_str(FILE *out, const char *s, bool attr)
{
	if (s)
		xml_escape(out, s, strlen(s), attr);
}

/* JUnit readers parse time as a decimal. */
static void xml_seconds(FILE *out, int64_t ns)
{
	char buf[32];
	cst_report_seconds(ns, buf);
	fputs(buf, out);
}

/* Jenkins and GitLab read hostname and timestamp from the suite; the rest
 * of what was tested goes into <properties>, which they show per suite. */
static void provenance(FILE *out, const struct cst_prov_fields *pf)
{
	fputs("    <properties>\n", out);
	for (size_t i = 0; i < pf->n; i++) {
		fprintf(out, "      <property name=\"cst.%s\" value=\"", pf->f[i].name);
		xml_str(out, pf->f[i].value, true);
		fputs("\"/>\n", out);
	}
	fputs("    </properties>\n", out);
}

static void testcase(FILE *out, const struct cst_result *r, const char *classname)
{
	fputs("    <testcase name=\"", out);
	xml_str(out, r->name, true);
	fputs("\" classname=\"", out);
	xml_str(out, classname, true);
	fputs("\" time=\"", out);
	xml_seconds(out, r->duration_ns);
	fputs("\"", out);
	if (r->pass && r->n_errors == 0 && r->out_len == 0 && r->err_len == 0) {
		fputs("/>\n", out);
		return;
	}
	fputs(">\n", out);
	for (size_t i = 0; i < r->n_errors; i++) {
		fputs("      <failure message=\"", out);
		xml_str(out, r->errors[i], true);
		fputs("\">", out);
		xml_str(out, r->errors[i], false);
		fputs("</failure>\n", out);
	}
	/* A failed result always carries a <failure>, or CI would count it as
	 * passed. */
	if (!r->pass && r->n_errors == 0)
		fputs("      <failure message=\"test failed\"></failure>\n", out);
	if (r->out_len) {
		fputs("      <system-out>", out);
		xml_escape(out, r->out, r->out_len, false);
		fputs("</system-out>\n", out);
	}
	if (r->err_len) {
		fputs("      <system-err>", out);
		xml_escape(out, r->err, r->err_len, false);
		fputs("</system-err>\n", out);
	}
	fputs("    </testcase>\n", out);
}

static int junit_write(FILE *out, const struct cst_report *rep, const struct cst_report_opts *opts,
		       struct cst_error *err)
{
	const char *suite = opts && opts->junit_suite_name && *opts->junit_suite_name ? opts->junit_suite_name
										       : CST_DEFAULT_JUNIT_SUITE;
	size_t pass, fail;
	cst_report_counts(rep, &pass, &fail);

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fputs("<testsuites name=\"", out);
	xml_str(out, suite, true);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"", pass + fail, fail);
	xml_seconds(out, rep->duration_ns);
	fputs("\">\n", out);

	fputs("  <testsuite name=\"", out);
	xml_str(out, suite, true);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"", pass + fail, fail);
	xml_seconds(out, rep->duration_ns);
	fputs("\"", out);
	struct cst_prov_fields pf;
	cst_provenance_fields(rep, &pf);
	if (rep->prov.hostname && *rep->prov.hostname) {
		fputs(" hostname=\"", out);
		xml_str(out, rep->prov.hostname, true);
		fputs("\"", out);
	}
	if (pf.start[0]) {
		/* UTC without the zone, which the Ant schema that JUnit
		 * readers follow forbids; cst.start says it is UTC. */
		fprintf(out, " timestamp=\"%.19s\"", pf.start);
	}
	if (pass + fail == 0 && pf.n == 0) {
		fputs("/>\n", out);
	} else {
		fputs(">\n", out);
		if (pf.n)
			provenance(out, &pf);
		char cwd[4096];
		const char *here = getcwd(cwd, sizeof(cwd));
		for (size_t i = 0; i < rep->n_suites; i++) {
			const struct cst_suite *s = &rep->suites[i];
			char *classname = s->config_path && *s->config_path ? cst_junit_classname(s->config_path, here)
									    : NULL;
			if (!classname && s->config_path && *s->config_path)
				return cst_error_set(err, CST_E_NOMEM, "writing JUnit report: out of memory");
			for (size_t j = 0; j < s->n_results; j++)
				testcase(out, &s->results[j], classname ? classname : suite);
			free(classname);
		}
		fputs("  </testsuite>\n", out);
	}
	fputs("</testsuites>\n", out);
	return cst_report_finish(out, err);
}

const struct cst_reporter cst_report_junit = {
	.name = "junit",
	.write = junit_write,
};
