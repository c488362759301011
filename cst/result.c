#include "cst/result.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cst_result_init(struct cst_result *r, const char *fmt, ...)
{
	memset(r, 0, sizeof(*r));
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&r->name, fmt, ap);
	va_end(ap);
	if (n < 0) {
		r->name = NULL;
		return -1;
	}
	r->pass = true;
	return 0;
}

int cst_result_fail(struct cst_result *r, const char *fmt, ...)
{
	r->pass = false;
	char **v = realloc(r->errors, (r->n_errors + 1) * sizeof(*v));
	if (!v)
		return -1;
	r->errors = v;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&v[r->n_errors], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	r->n_errors++;
	return 0;
}

static char *dup_bytes(const char *p, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	if (n)
		memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

int cst_result_set_output(struct cst_result *r, const char *out, size_t out_len, const char *err, size_t err_len)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = 0;
	if (out && out_len) {
		if (!(r->out = dup_bytes(out, out_len)))
			return -1;
		r->out_len = out_len;
	}
	if (err && err_len) {
		if (!(r->err = dup_bytes(err, err_len)))
			return -1;
		r->err_len = err_len;
	}
	return 0;
}

void cst_result_release(struct cst_result *r)
{
	free(r->name);
	free(r->out);
	free(r->err);
	for (size_t i = 0; i < r->n_errors; i++)
		free(r->errors[i]);
	free(r->errors);
	memset(r, 0, sizeof(*r));
}

struct cst_suite *cst_report_add_suite(struct cst_report *rep, const char *config_path)
{
	if (rep->n_suites == rep->cap) {
		size_t cap = rep->cap ? rep->cap * 2 : 4;
		struct cst_suite *v = realloc(rep->suites, cap * sizeof(*v));
		if (!v)
			return NULL;
		rep->suites = v;
		rep->cap = cap;
	}
	struct cst_suite *s = &rep->suites[rep->n_suites];
	memset(s, 0, sizeof(*s));
	if (!(s->config_path = strdup(config_path ? config_path : "")))
		return NULL;
	rep->n_suites++;
	return s;
}

int cst_suite_add(struct cst_suite *s, struct cst_result *r)
{
	if (s->n_results == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct cst_result *v = realloc(s->results, cap * sizeof(*v));
		if (!v)
			return -1;
		s->results = v;
		s->cap = cap;
	}
	s->results[s->n_results++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

void cst_report_counts(const struct cst_report *rep, size_t *ret_pass, size_t *ret_fail)
{
	size_t pass = 0, fail = 0;
	for (size_t i = 0; i < rep->n_suites; i++)
		for (size_t j = 0; j < rep->suites[i].n_results; j++) {
			if (rep->suites[i].results[j].pass)
				pass++;
			else
				fail++;
		}
	if (ret_pass)
		*ret_pass = pass;
	if (ret_fail)
		*ret_fail = fail;
}

void cst_report_release(struct cst_report *rep)
{
	for (size_t i = 0; i < rep->n_suites; i++) {
		struct cst_suite *s = &rep->suites[i];
		for (size_t j = 0; j < s->n_results; j++)
			cst_result_release(&s->results[j]);
		free(s->results);
		free(s->config_path);
	}
	free(rep->suites);
	memset(rep, 0, sizeof(*rep));
}
