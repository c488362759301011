/* CST's JSON summary: one compact object and a newline, field order and
 * omitted-when-empty fields as Go's encoding/json writes SummaryObject.
 * Go escapes <, > and & as \u003c...; jansson writes them as they are,
 * which any JSON reader decodes to the same text. */
#include "cst/report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cst/report/internal.h"

/* jansson accepts only valid UTF-8; Go's encoder replaces each invalid byte
 * with U+FFFD, so we do the same before handing it the bytes.  NULs are
 * kept and come out as \u0000. */
static json_t *json_bytes(const char *s, size_t n)
{
	size_t i = 0;
	uint32_t cp;
	while (i < n) {
		size_t len = cst_utf8_decode(s + i, n - i, &cp);
		if (!len)
			break;
		i += len;
	}
	if (i == n)
		return json_stringn(s, n);

	/* At most three bytes out for each byte in. */
	char *buf = malloc(3 * n + 1);
	if (!buf)
		return NULL;
	size_t w = i;
	memcpy(buf, s, i);
	while (i < n) {
		size_t len = cst_utf8_decode(s + i, n - i, &cp);
		if (len) {
			memcpy(buf + w, s + i, len);
			w += len;
			i += len;
		} else {
			memcpy(buf + w, CST_UTF8_REPLACEMENT, 3);
			w += 3;
			i++;
		}
	}
	json_t *v = json_stringn(buf, w);
	free(buf);
	return v;
}

static json_t *json_text(const char *s)
{
	return s ? json_bytes(s, strlen(s)) : json_string("");
}

/* json_object_set_new steals the value even when it fails, so a NULL from
 * an allocation is the only thing to check. */
static int set(json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v) < 0)
		return -1;
	return 0;
}

static json_t *result_json(const struct cst_result *r)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (set(o, "Name", json_text(r->name)) < 0 || set(o, "Pass", json_boolean(r->pass)) < 0)
		goto fail;
	if (r->out_len && set(o, "Stdout", json_bytes(r->out, r->out_len)) < 0)
		goto fail;
	if (r->err_len && set(o, "Stderr", json_bytes(r->err, r->err_len)) < 0)
		goto fail;
	if (r->n_errors) {
		json_t *a = json_array();
		if (set(o, "Errors", a) < 0)
			goto fail;
		for (size_t i = 0; i < r->n_errors; i++)
			if (json_array_append_new(a, json_text(r->errors[i])) < 0)
				goto fail;
	}
	if (set(o, "Duration", json_integer(r->duration_ns)) < 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *report_json(const struct cst_report *rep)
{
	size_t pass, fail;
	cst_report_counts(rep, &pass, &fail);
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (set(o, "Pass", json_integer((json_int_t)pass)) < 0 || set(o, "Fail", json_integer((json_int_t)fail)) < 0 ||
	    set(o, "Total", json_integer((json_int_t)(pass + fail))) < 0 ||
	    set(o, "Duration", json_integer(rep->duration_ns)) < 0)
		goto fail;
	if (pass + fail) {
		json_t *a = json_array();
		if (set(o, "Results", a) < 0)
			goto fail;
		for (size_t i = 0; i < rep->n_suites; i++)
			for (size_t j = 0; j < rep->suites[i].n_results; j++)
				if (json_array_append_new(a, result_json(&rep->suites[i].results[j])) < 0)
					goto fail;
	}
	/* After CST's keys, which stay as CST writes them. */
	struct cst_prov_fields pf;
	cst_provenance_fields(rep, &pf);
	if (pf.n) {
		json_t *p = json_object();
		if (set(o, "Provenance", p) < 0)
			goto fail;
		for (size_t i = 0; i < pf.n; i++)
			if (pf.f[i].json && set(p, pf.f[i].json, json_text(pf.f[i].value)) < 0)
				goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

static int json_write(FILE *out, const struct cst_report *rep, const struct cst_report_opts *opts,
		      struct cst_error *err)
{
	json_t *root = report_json(rep);
	if (!root)
		return cst_error_set(err, CST_E_NOMEM, "building JSON report: out of memory");
	int rc = json_dumpf(root, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	fputc('\n', out);
	if (rc < 0 && !ferror(out))
		return cst_error_set(err, CST_E_INTERNAL, "writing JSON report failed");
	return cst_report_finish(out, err);
}

const struct cst_reporter cst_report_json = {
	.name = "json",
	.write = json_write,
};
