/* Value setters shared by every config object: strings, booleans,
 * numbers, lists, regex lists, nested objects.
 *
 * Value rules follow CST's YAML decoder: a YAML scalar read as a string is
 * its text as written (`1.10` stays "1.10"), booleans take YAML 1.1 forms,
 * and an explicit null sets a boolean or number to zero.  JSON is held to
 * JSON's types (a number is not a string) and its null changes nothing, as
 * with CST's JSON decoder; defaults are the YAML ones for both.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "values.h"

/* What a value was, for "expected X, got Y": scalars are quoted as given. */
const char *cfg_got(const struct build_ctx *ctx, const struct cfg_node *v, char *buf, size_t size)
{
	if (v->kind != CFG_SCALAR || cfg_is_null(v))
		return cfg_describe(v, ctx->json);
	if (ctx->json)
		snprintf(buf, size, "%s %s%s%s", cfg_describe(v, true), v->plain ? "" : "'", v->text,
			 v->plain ? "" : "'");
	else if (strlen(v->text) > 40)
		snprintf(buf, size, "'%.40s...'", v->text);
	else
		snprintf(buf, size, "'%s'", v->text);
	return buf;
}

void cfg_type_error(struct build_ctx *ctx, const char *key, const struct cfg_node *v, const char *expected)
{
	char buf[96];
	cfg_error(ctx, v->loc, "%s: expected %s, got %s", key, expected, cfg_got(ctx, v, buf, sizeof(buf)));
}

/* A scalar usable as text: any YAML scalar, only a quoted one in JSON. */
bool cfg_is_text(const struct build_ctx *ctx, const struct cfg_node *v)
{
	return v->kind == CFG_SCALAR && !(ctx->json && v->plain);
}

static bool parse_bool(const char *t, bool json, bool *ret)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF"};
	size_t n = json ? 1 : sizeof(yes) / sizeof(yes[0]);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(t, yes[i])) {
			*ret = true;
			return true;
		}
		if (!strcmp(t, no[i])) {
			*ret = false;
			return true;
		}
	}
	return false;
}

/* Decimal, or YAML's 0x/0o forms; the whole text must be the number. */
static bool parse_int(const char *t, bool json, long long *ret)
{
	const char *p = t;
	if (*p == '-' || *p == '+')
		p++;
	int base = 10;
	if (!json && p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
		base = p[1] == 'x' ? 16 : 8;
		p += 2;
	}
	if (!*p)
		return false;
	const char *digits = base == 16 ? "0123456789abcdefABCDEF" : base == 8 ? "01234567" : "0123456789";
	if (strspn(p, digits) != strlen(p))
		return false;
	errno = 0;
	long long v = strtoll(p, NULL, base);
	if (errno == ERANGE)
		return false;
	*ret = t[0] == '-' ? -v : v;
	return true;
}

void cfg_set_str(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		    const struct cfg_node *v, void *obj)
{
	struct cst_str *s = FIELD_PTR(obj, f->off, struct cst_str);
	s->loc = v->loc;
	if (cfg_is_null(v))
		return;
	if (!cfg_is_text(ctx, v)) {
		cfg_type_error(ctx, key->text, v, "a string");
		return;
	}
	s->s = cfg_strdup(ctx, v->text);
}

void cfg_set_cstr(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		     const struct cfg_node *v, void *obj)
{
	char **s = FIELD_PTR(obj, f->off, char *);
	if (cfg_is_null(v))
		return;
	if (!cfg_is_text(ctx, v)) {
		cfg_type_error(ctx, key->text, v, "a string");
		return;
	}
	*s = cfg_strdup(ctx, v->text);
}

void cfg_set_bool(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		     const struct cfg_node *v, void *obj)
{
	bool *b = FIELD_PTR(obj, f->off, bool);
	if (cfg_is_null(v)) {
		if (!ctx->json)
			*b = false;
		return;
	}
	bool val;
	if (v->kind == CFG_SCALAR && v->plain && parse_bool(v->text, ctx->json, &val))
		*b = val;
	else
		cfg_type_error(ctx, key->text, v, "a boolean (true or false)");
}

bool cfg_int_value(struct build_ctx *ctx, const struct cfg_node *key, const struct cfg_node *v, long long min,
		      long long max, long long *ret)
{
	if (cfg_is_null(v)) {
		*ret = 0;
		return !ctx->json;
	}
	long long val;
	if (v->kind == CFG_SCALAR && v->plain && parse_int(v->text, ctx->json, &val) && val >= min && val <= max) {
		*ret = val;
		return true;
	}
	cfg_type_error(ctx, key->text, v, min == 0 ? "a non-negative integer" : "an integer");
	return false;
}

void cfg_set_int(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		    const struct cfg_node *v, void *obj)
{
	long long val;
	if (cfg_int_value(ctx, key, v, INT_MIN, INT_MAX, &val))
		*FIELD_PTR(obj, f->off, int) = (int)val;
}

void cfg_set_timeout(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			const struct cfg_node *v, void *obj)
{
	double *d = FIELD_PTR(obj, f->off, double);
	if (cfg_is_null(v))
		return;
	if (v->kind == CFG_SCALAR && v->plain && v->text[0]) {
		char *end = NULL;
		errno = 0;
		double val = strtod(v->text, &end);
		if (!*end && !errno && isfinite(val) && val >= 0) {
			*d = val;
			return;
		}
	}
	cfg_type_error(ctx, key->text, v, "a number of seconds");
}

void cfg_fill_strv(struct build_ctx *ctx, const char *key, const struct cfg_node *v, struct cst_strv *out)
{
	out->loc = v->loc;
	if (cfg_is_null(v))
		return;
	if (v->kind != CFG_SEQ) {
		cfg_type_error(ctx, key, v, "a list of strings");
		return;
	}
	out->present = true;
	if (!(out->v = cfg_calloc(ctx, v->n, sizeof(*out->v))))
		return;
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *item = v->items[i];
		const char *text = "";
		if (!cfg_is_null(item)) {
			if (!cfg_is_text(ctx, item)) {
				cfg_type_error(ctx, key, item, "a string in the list");
				continue;
			}
			text = item->text;
		}
		out->v[out->n++] = (struct cst_str){cfg_strdup(ctx, text), item->loc};
	}
}

void cfg_set_strv(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		     const struct cfg_node *v, void *obj)
{
	cfg_fill_strv(ctx, key->text, v, FIELD_PTR(obj, f->off, struct cst_strv));
}

/* Every pattern is compiled here, so a bad one is a config error with its
 * location instead of a failed test at run time. */
void cfg_set_patterns(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			 const struct cfg_node *v, void *obj)
{
	struct cst_patternv *pv = FIELD_PTR(obj, f->off, struct cst_patternv);
	struct cst_strv strs = {0};
	cfg_fill_strv(ctx, key->text, v, &strs);
	if (strs.n && !(pv->v = cfg_calloc(ctx, strs.n, sizeof(*pv->v))))
		strs.n = 0;
	for (size_t i = 0; i < strs.n; i++) {
		if (!strs.v[i].s)
			continue;
		struct cst_error e = CST_ERROR_INIT;
		struct cst_regex *re = cst_regex_compile(strs.v[i].s, &e);
		if (!re) {
			if (e.code == CST_E_NOMEM)
				ctx->oom = true;
			else
				cfg_error(ctx, strs.v[i].loc, "%s: %s", key->text, e.msg ? e.msg : "invalid regex");
			cst_error_clear(&e);
			free(strs.v[i].s);
			continue;
		}
		pv->v[pv->n++] = (struct cst_pattern){strs.v[i].s, re, strs.v[i].loc};
	}
	free(strs.v);
}

/* setup/teardown: a list of commands, each a non-empty list of strings. */
void cfg_set_commands(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			 const struct cfg_node *v, void *obj)
{
	struct cst_strv **arr = FIELD_PTR(obj, f->off, struct cst_strv *);
	size_t *count = FIELD_PTR(obj, f->off2, size_t);
	if (cfg_is_null(v))
		return;
	if (v->kind != CFG_SEQ) {
		cfg_type_error(ctx, key->text, v, "a list of commands, each a list of strings");
		return;
	}
	if (!(*arr = cfg_calloc(ctx, v->n, sizeof(**arr))))
		return;
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *item = v->items[i];
		struct cst_strv *cmd = &(*arr)[(*count)++];
		if (cfg_is_null(item) || (item->kind == CFG_SEQ && item->n == 0)) {
			cfg_error(ctx, item->loc, "%s: empty command", key->text);
			continue;
		}
		cfg_fill_strv(ctx, key->text, item, cmd);
	}
}

/* A list of maps, each built with the field's element table. */
void cfg_set_objects(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			const struct cfg_node *v, void *obj)
{
	const struct object_desc *desc = f->desc;
	char **arr = FIELD_PTR(obj, f->off, char *);
	size_t *count = FIELD_PTR(obj, f->off2, size_t);
	if (cfg_is_null(v))
		return;
	if (v->kind != CFG_SEQ) {
		cfg_type_error(ctx, key->text, v, "a list");
		return;
	}
	if (!(*arr = cfg_calloc(ctx, v->n, desc->size)))
		return;
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *item = v->items[i];
		void *elem = *arr + i * desc->size;
		(*count)++;
		if (desc->init)
			desc->init(elem, item->loc);
		if (item->kind != CFG_MAP) {
			cfg_type_error(ctx, key->text, item, "a map for each entry");
			continue;
		}
		cfg_object(ctx, item, desc, elem);
		if (desc->check)
			desc->check(ctx, item, elem);
	}
}

void cfg_set_object(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		       const struct cfg_node *v, void *obj)
{
	void *target = FIELD_PTR(obj, f->off, char);
	if (cfg_is_null(v))
		return;
	if (v->kind != CFG_MAP) {
		cfg_type_error(ctx, key->text, v, "a map");
		return;
	}
	if (f->desc->init)
		f->desc->init(target, v->loc);
	cfg_object(ctx, v, f->desc, target);
	if (f->desc->check)
		f->desc->check(ctx, v, target);
}

/* {key, value, isRegex} lists: env vars and labels. */
void cfg_set_kvv(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		    const struct cfg_node *v, void *obj)
{
	struct cst_kvv *kv = FIELD_PTR(obj, f->off, struct cst_kvv);
	if (cfg_is_null(v))
		return;
	if (v->kind != CFG_SEQ) {
		cfg_type_error(ctx, key->text, v, "a list of {key, value} maps");
		return;
	}
	kv->present = true;
	if (!(kv->v = cfg_calloc(ctx, v->n, sizeof(*kv->v))))
		return;
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *item = v->items[i];
		struct cst_kv *e = &kv->v[kv->n++];
		e->loc = item->loc;
		if (item->kind != CFG_MAP) {
			cfg_type_error(ctx, key->text, item, "a {key, value} map for each entry");
			continue;
		}
		cfg_object(ctx, item, f->desc, e);
		f->desc->check(ctx, item, e);
	}
}
