#include "cst/result.h"
#include "report/internal.h"

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

/* The most any format writes for one byte: JSON's "\u0000" for a control
 * character or a byte of invalid UTF-8, HTML's "&quot;" and the like. */
#define WORST_ESCAPE 6

/* What the most lavish format spends on the character at p (len bytes). */
static size_t escaped_cost(const char *p, size_t n, size_t *ret_len)
{
	unsigned char c = (unsigned char)p[0];
	*ret_len = 1;
	if (c == '\n' || c == '\t' || c == '\r')
		return 2;
	if (c < 0x20 || c == 0x7f || strchr("\"&'<>\\", c))
		return WORST_ESCAPE;
	if (c < 0x80)
		return 1;
	uint32_t cp;
	size_t len = cst_utf8_decode(p, n, &cp);
	if (!len)
		return WORST_ESCAPE;
	*ret_len = len;
	/* JSON writes the line and paragraph separators escaped. */
	return cp == 0x2028 || cp == 0x2029 ? WORST_ESCAPE : len;
}

size_t cst_report_cut(const char *p, size_t n, size_t max_escaped)
{
	size_t cost = 0;
	for (size_t i = 0; i < n;) {
		size_t len;
		size_t each = escaped_cost(p + i, n - i, &len);
		if (cost + each > max_escaped)
			return i;
		cost += each;
		i += len;
	}
	return n;
}

static int take(char **ret, size_t *ret_len, struct cst_buf *b, size_t max_escaped)
{
	*ret = NULL;
	*ret_len = 0;
	if (!b->len) {
		cst_buf_release(b);
		return 0;
	}
	size_t n;
	char *d = cst_buf_detach(b, &n);
	if (!d)
		return -1;
	size_t cut = max_escaped ? cst_report_cut(d, n, max_escaped) : n;
	if (cut < n) {
		char note[96];
		int k = snprintf(note, sizeof(note), "\n[cst: the report shows %zu of the %zu bytes of this output]\n",
				 cut, n);
		char *c = realloc(d, cut + (size_t)k + 1);
		if (!c) {
			free(d);
			return -1;
		}
		memcpy(c + cut, note, (size_t)k + 1);
		d = c;
		n = cut + (size_t)k;
	}
	*ret = d;
	*ret_len = n;
	return 0;
}

int cst_result_take_output(struct cst_result *r, struct cst_buf *out, struct cst_buf *err, size_t max_escaped)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = 0;
	if (take(&r->out, &r->out_len, out, max_escaped) < 0 || take(&r->err, &r->err_len, err, max_escaped) < 0)
		return -1;
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
	struct cst_provenance *p = &rep->prov;
	free(p->image);
	free(p->image_id);
	free(p->repo_digest);
	free(p->platform);
	free(p->driver);
	free(p->version);
	free(p->hostname);
	memset(rep, 0, sizeof(*rep));
}

int cst_provenance_set(char **field, const char *value)
{
	char *copy = NULL;
	if (value && !(copy = strdup(value)))
		return -1;
	free(*field);
	*field = copy;
	return 0;
}
