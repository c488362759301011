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

/* Go's strconv.ParseInt(s, 0, 64): a sign, then 0x/0o/0b or a leading 0
 * (octal) or decimal digits.  1: *ret set; -1: an unsigned number past
 * int64, which ParseUint takes and no int field does; 0: anything else. */
static int go_parse_int(const char *t, long long *ret)
{
	const char *p = t;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	int base = 10;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
		base = 8;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		base = 2;
		p += 2;
	} else if (p[0] == '0' && p[1]) {
		base = 8;
		p++;
	}
	if (!*p)
		return 0;
	const char *digits = base == 16 ? "0123456789abcdefABCDEF" : base == 8 ? "01234567" : base == 2 ? "01"
												       : "0123456789";
	if (strspn(p, digits) != strlen(p))
		return 0;
	errno = 0;
	unsigned long long u = strtoull(p, NULL, base);
	if (errno == ERANGE)
		return 0;
	if (u > (neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX))
		return t[0] == '-' || t[0] == '+' ? 0 : -1;
	*ret = neg ? (long long)(0 - u) : (long long)u;
	return 1;
}

/* yaml.v2's pattern for a float written without a base prefix. */
static bool yaml_style_float(const char *p)
{
	if (*p == '-' || *p == '+')
		p++;
	size_t int_digits = strspn(p, "0123456789");
	p += int_digits;
	size_t frac_digits = 0;
	if (*p == '.') {
		p++;
		frac_digits = strspn(p, "0123456789");
		p += frac_digits;
	}
	if (!int_digits && !frac_digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		size_t exp_digits = strspn(p, "0123456789");
		if (!exp_digits)
			return false;
		p += exp_digits;
	}
	return *p == '\0';
}

/* A float stored into a Go int by yaml.v2: truncated; what amd64 makes of
 * one out of range (the minimum) where yaml.v2 lets it through. */
static bool float_to_int(double f, long long *ret)
{
	const double two63 = 9223372036854775808.0;
	if (isnan(f) || f > two63)
		return false;
	*ret = f >= two63 || f < -two63 ? LLONG_MIN : (long long)f;
	return true;
}

/* A plain YAML scalar as yaml.v2 resolves it for a Go int: YAML 1.1 forms
 * through Go's base-0 integer syntax with '_' dropped (0x1F, 0o17, 017 is
 * octal, 0b1, 1_000), then floats (08 and 1.5 are floats; 1.5 becomes 1).
 * Booleans, timestamps and other text are not numbers. */
static bool yaml_int(const char *t, long long *ret)
{
	static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"};
	static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF"};
	for (size_t i = 0; i < sizeof(inf) / sizeof(inf[0]); i++)
		if (!strcmp(t, inf[i]))
			return false;
	for (size_t i = 0; i < sizeof(ninf) / sizeof(ninf[0]); i++)
		if (!strcmp(t, ninf[i]))
			return float_to_int(-INFINITY, ret);
	if (t[0] == '.') {
		if (!strcmp(t, ".nan") || !strcmp(t, ".NaN") || !strcmp(t, ".NAN"))
			return false;
		/* Go's ParseFloat, which takes "." followed by digits and an
		 * exponent here: a hex float cannot start with '.'. */
		if (!yaml_style_float(t))
			return false;
		return float_to_int(strtod(t, NULL), ret);
	}
	if (!t[0] || !strchr("+-0123456789", t[0]))
		return false;
	/* YYYY-... is a timestamp (or plain text): never a number. */
	if (strspn(t, "0123456789") == 4 && t[4] == '-')
		return false;
	char plain[128];
	size_t n = 0;
	for (const char *p = t; *p; p++) {
		if (*p == '_')
			continue;
		if (n + 1 >= sizeof(plain))
			return false;
		plain[n++] = *p;
	}
	plain[n] = '\0';
	int rc = go_parse_int(plain, ret);
	if (rc)
		return rc > 0;
	if (yaml_style_float(plain))
		return float_to_int(strtod(plain, NULL), ret);
	return false;
}

/* encoding/json into a Go int: a JSON integer literal alone. */
static bool json_int(const char *t, long long *ret)
{
	const char *p = t[0] == '-' ? t + 1 : t;
	if (!*p || strspn(p, "0123456789") != strlen(p))
		return false;
	errno = 0;
	long long v = strtoll(t, NULL, 10);
	if (errno == ERANGE)
		return false;
	*ret = v;
	return true;
}

void cfg_set_str(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		 const struct cfg_node *v, void *obj)
{
	struct cst_str *s = FIELD_PTR(obj, f->off, struct cst_str);
	if (cfg_is_null(v)) {
		/* JSON null leaves a Go string as it was; YAML null empties it. */
		if (!ctx->json) {
			cfg_str_release(s);
			s->loc = v->loc;
		}
		return;
	}
	/* Located even when refused: the check of a required key then knows
	 * it was given. */
	s->loc = v->loc;
	if (!cfg_is_text(ctx, v)) {
		cfg_type_error(ctx, key->text, v, "a string");
		return;
	}
	cfg_str_release(s);
	s->s = cfg_memdup(ctx, v->text, v->len);
	s->len = v->len;
}

void cfg_set_cstr(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		  const struct cfg_node *v, void *obj)
{
	char **s = FIELD_PTR(obj, f->off, char *);
	size_t *len = FIELD_PTR(obj, f->off2, size_t);
	if (cfg_is_null(v)) {
		if (!ctx->json) {
			free(*s);
			*s = NULL;
			*len = 0;
		}
		return;
	}
	if (!cfg_is_text(ctx, v)) {
		cfg_type_error(ctx, key->text, v, "a string");
		return;
	}
	free(*s);
	*s = cfg_memdup(ctx, v->text, v->len);
	*len = v->len;
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

int cfg_int_value(struct build_ctx *ctx, const struct cfg_node *key, const struct cfg_node *v, long long *ret)
{
	if (cfg_is_null(v)) {
		if (ctx->json)
			return 0;
		*ret = 0;
		return 1;
	}
	if (v->kind == CFG_SCALAR && v->plain && (ctx->json ? json_int(v->text, ret) : yaml_int(v->text, ret)))
		return 1;
	cfg_type_error(ctx, key->text, v, "an integer");
	return -1;
}

void cfg_set_int(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		 const struct cfg_node *v, void *obj)
{
	long long val;
	if (cfg_int_value(ctx, key, v, &val) <= 0)
		return;
	/* CST's field is 64 bits wide; no exit status lies outside an int,
	 * so a value clamped to one still never matches. */
	*FIELD_PTR(obj, f->off, int) = val < INT_MIN ? INT_MIN : val > INT_MAX ? INT_MAX : (int)val;
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

/* Null empties a list in both formats (a Go slice becomes nil). */
void cfg_fill_strv(struct build_ctx *ctx, const char *key, const struct cfg_node *v, struct cst_strv *out)
{
	if (!cfg_is_null(v) && v->kind != CFG_SEQ) {
		cfg_type_error(ctx, key, v, "a list of strings");
		return;
	}
	cfg_strv_release(out);
	out->loc = v->loc;
	if (cfg_is_null(v))
		return;
	out->present = true;
	if (!(out->v = cfg_calloc(ctx, v->n, sizeof(*out->v))))
		return;
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *item = v->items[i];
		const char *text = "";
		size_t len = 0;
		if (!cfg_is_null(item)) {
			if (!cfg_is_text(ctx, item)) {
				cfg_type_error(ctx, key, item, "a string in the list");
				continue;
			}
			text = item->text;
			len = item->len;
		}
		out->v[out->n++] = (struct cst_str){cfg_memdup(ctx, text, len), len, item->loc};
	}
}

void cfg_set_strv(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		  const struct cfg_node *v, void *obj)
{
	cfg_fill_strv(ctx, key->text, v, FIELD_PTR(obj, f->off, struct cst_strv));
}

/* metadataTest's cmd and entrypoint, pointers to lists in CST: yaml.v2
 * leaves the pointer nil (not checked) only for null, ~ and nothing; Null
 * and NULL allocate it and make the list empty (checked: must be empty). */
void cfg_set_strv_ptr(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		      const struct cfg_node *v, void *obj)
{
	struct cst_strv *out = FIELD_PTR(obj, f->off, struct cst_strv);
	cfg_fill_strv(ctx, key->text, v, out);
	if (!ctx->json && cfg_is_null(v) && (!strcmp(v->text, "Null") || !strcmp(v->text, "NULL")))
		out->present = true;
}

/* Every pattern is compiled here, so a bad one is a config error with its
 * location instead of a failed test at run time. */
void cfg_set_patterns(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		      const struct cfg_node *v, void *obj)
{
	struct cst_patternv *pv = FIELD_PTR(obj, f->off, struct cst_patternv);
	struct cst_strv strs = {0};
	cfg_fill_strv(ctx, key->text, v, &strs);
	if (!strs.present && !cfg_is_null(v))
		return; /* the wrong type, reported */
	cfg_patternv_release(pv);
	if (strs.n && !(pv->v = cfg_calloc(ctx, strs.n, sizeof(*pv->v))))
		strs.n = 0;
	for (size_t i = 0; i < strs.n; i++) {
		if (!strs.v[i].s)
			continue;
		struct cst_error e = CST_ERROR_INIT;
		struct cst_regex *re = cst_regex_compilen(strs.v[i].s, strs.v[i].len, &e);
		if (!re) {
			if (e.code == CST_E_NOMEM)
				ctx->oom = true;
			else
				cfg_error(ctx, strs.v[i].loc, "%s: %s", key->text, e.msg ? e.msg : "invalid regex");
			cst_error_clear(&e);
			free(strs.v[i].s);
			continue;
		}
		pv->v[pv->n++] = (struct cst_pattern){strs.v[i].s, strs.v[i].len, re, strs.v[i].loc};
	}
	free(strs.v);
}

/* setup/teardown: a list of commands, each a non-empty list of strings. */
void cfg_set_commands(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		      const struct cfg_node *v, void *obj)
{
	struct cst_strv **arr = FIELD_PTR(obj, f->off, struct cst_strv *);
	size_t *count = FIELD_PTR(obj, f->off2, size_t);
	if (!cfg_is_null(v) && v->kind != CFG_SEQ) {
		cfg_type_error(ctx, key->text, v, "a list of commands, each a list of strings");
		return;
	}
	cfg_commands_release(arr, count);
	if (cfg_is_null(v))
		return;
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

/* One list entry: a map, or null, which leaves the entry as it was (a
 * JSON null, or yaml.v2's zero struct: either way no name, and the check
 * says so). */
static void fill_entry(struct build_ctx *ctx, const struct object_desc *desc, const char *key,
		       const struct cfg_node *item, void *elem)
{
	if (item->kind != CFG_MAP && !cfg_is_null(item)) {
		cfg_type_error(ctx, key, item,
			       desc->size == sizeof(struct cst_kv) ? "a {key, value} map for each entry"
								   : "a map for each entry");
		return;
	}
	if (item->kind == CFG_MAP)
		cfg_object(ctx, item, desc, elem);
	if (desc->check)
		desc->check(ctx, item, elem);
}

/* A list of maps into an array of desc->size elements at *arr.  YAML
 * replaces the list.  encoding/json decodes a repeated key's array into the
 * slice it already filled: an entry at an index the earlier array had keeps
 * what the new entry does not set. */
static void fill_entries(struct build_ctx *ctx, const struct object_desc *desc, const char *key,
			 const struct cfg_node *v, char **arr, size_t *count)
{
	if (!cfg_is_null(v) && v->kind != CFG_SEQ) {
		cfg_type_error(ctx, key, v,
			       desc->size == sizeof(struct cst_kv) ? "a list of {key, value} maps" : "a list");
		return;
	}
	if (cfg_is_null(v) || !ctx->json || v->n == 0)
		cfg_objects_release(arr, count, desc->size, desc->release);
	if (cfg_is_null(v))
		return;
	size_t kept = *count;
	if (kept > v->n) {
		for (size_t i = v->n; i < kept; i++)
			desc->release(*arr + i * desc->size);
		kept = v->n;
	}
	char *grown = realloc(*arr, (v->n ? v->n : 1) * desc->size);
	if (!grown) {
		ctx->oom = true;
		*count = kept;
		return;
	}
	*arr = grown;
	memset(grown + kept * desc->size, 0, (v->n - kept) * desc->size);
	*count = v->n;
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *item = v->items[i];
		void *elem = grown + i * desc->size;
		if (i >= kept && desc->init)
			desc->init(elem, item->loc);
		fill_entry(ctx, desc, key, item, elem);
	}
}

void cfg_set_objects(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		     const struct cfg_node *v, void *obj)
{
	fill_entries(ctx, f->desc, key->text, v, FIELD_PTR(obj, f->off, char *), FIELD_PTR(obj, f->off2, size_t));
}

/* One nested object: a repeated key (a JSON duplicate, a YAML merge)
 * decodes into what the first one set, as both of CST's decoders do. */
void cfg_set_object(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		    const struct cfg_node *v, void *obj)
{
	void *target = FIELD_PTR(obj, f->off, char);
	if (cfg_is_null(v)) {
		/* yaml.v2 zeroes the struct; encoding/json leaves it. */
		if (!ctx->json) {
			f->desc->release(target);
			memset(target, 0, f->desc->size);
		}
		return;
	}
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
	char *arr = (char *)kv->v;
	fill_entries(ctx, f->desc, key->text, v, &arr, &kv->n);
	kv->v = (struct cst_kv *)(void *)arr;
	if (!cfg_is_null(v) && v->kind == CFG_SEQ)
		kv->present = true;
	else if (cfg_is_null(v))
		kv->present = false;
}
