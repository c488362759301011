#include "build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The format attribute lets clang check callers instead of warning here. */
CST_PRINTF(1, 0) static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

void cfg_error(struct build_ctx *ctx, struct cst_loc loc, const char *fmt, ...)
{
	ctx->n_errors++;
	if (ctx->n_errors > CFG_MAX_ERRORS)
		return;
	if (!ctx->errors && !(ctx->errors = calloc(CFG_MAX_ERRORS, sizeof(*ctx->errors)))) {
		ctx->oom = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *m = vformat(fmt, ap);
	va_end(ap);
	if (!m) {
		ctx->oom = true;
		return;
	}
	ctx->errors[ctx->n_kept++] = (struct build_diag){loc, m};
}

int cfg_finish(struct build_ctx *ctx, struct cst_error *err)
{
	/* A stable insertion sort: errors at one position keep the order they
	 * were found in, and there are at most CFG_MAX_ERRORS of them. */
	size_t n = ctx->n_kept;
	struct build_diag *sorted = n ? malloc(n * sizeof(*sorted)) : NULL;
	if (sorted) {
		memcpy(sorted, ctx->errors, n * sizeof(*sorted));
		for (size_t i = 1; i < n; i++) {
			struct build_diag d = sorted[i];
			size_t j = i;
			while (j > 0 && (sorted[j - 1].loc.line > d.loc.line ||
					 (sorted[j - 1].loc.line == d.loc.line && sorted[j - 1].loc.col > d.loc.col))) {
				sorted[j] = sorted[j - 1];
				j--;
			}
			sorted[j] = d;
		}
	}
	const struct build_diag *list = sorted ? sorted : ctx->errors;
	for (size_t i = 0; i < n; i++) {
		cst_error_append(err, CST_E_CONFIG, "%s:%d:%d: %s", list[i].loc.file, list[i].loc.line,
				 list[i].loc.col, list[i].msg);
		free(list[i].msg);
	}
	if (ctx->n_errors > CFG_MAX_ERRORS)
		cst_error_append(err, CST_E_CONFIG, "%s: %zu more errors not shown", ctx->file,
				 ctx->n_errors - CFG_MAX_ERRORS);
	free(sorted);
	free(ctx->errors);
	ctx->errors = NULL;
	ctx->n_kept = 0;
	return ctx->n_errors ? -1 : 0;
}

void cfg_warning(struct build_ctx *ctx, struct cst_loc loc, const char *fmt, ...)
{
	if (++ctx->n_warnings > CFG_MAX_ERRORS) {
		if (ctx->n_warnings == CFG_MAX_ERRORS + 1 &&
		    cst_buf_printf(&ctx->warnings, "\n%s: more warnings not shown", ctx->file) < 0)
			ctx->oom = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *m = vformat(fmt, ap);
	va_end(ap);
	if (!m) {
		ctx->oom = true;
		return;
	}
	if (ctx->warnings.len && cst_buf_puts(&ctx->warnings, "\n") < 0)
		ctx->oom = true;
	if (cst_buf_printf(&ctx->warnings, "%s:%d:%d: warning: %s", loc.file, loc.line, loc.col, m) < 0)
		ctx->oom = true;
	free(m);
}

char *cfg_strdup(struct build_ctx *ctx, const char *s)
{
	char *copy = strdup(s);
	if (!copy)
		ctx->oom = true;
	return copy;
}

void *cfg_calloc(struct build_ctx *ctx, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		ctx->oom = true;
	return p;
}

const struct cfg_node *cfg_lookup(const struct cfg_node *map, const char *key)
{
	for (size_t i = 0; i < cfg_map_len(map); i++) {
		const struct cfg_node *k = cfg_map_key(map, i);
		if (k->kind == CFG_SCALAR && !strcmp(k->text, key))
			return cfg_map_value(map, i);
	}
	return NULL;
}

struct pair {
	const struct cfg_node *key;
	const struct cfg_node *value;
};

struct pairs {
	struct pair *v;
	size_t n;
	size_t cap;
};

static bool is_merge_key(const struct cfg_node *key, bool json)
{
	return !json && key->kind == CFG_SCALAR && key->plain && !strcmp(key->text, "<<");
}

static const struct pair *find_pair(const struct pairs *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].key->text, name))
			return &p->v[i];
	return NULL;
}

static void push_pair(struct build_ctx *ctx, struct pairs *p, const struct cfg_node *key,
		      const struct cfg_node *value)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct pair *v = realloc(p->v, cap * sizeof(*v));
		if (!v) {
			ctx->oom = true;
			return;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct pair){key, value};
}

static void merge_from(struct build_ctx *ctx, struct pairs *p, const struct cfg_node *src);

/* YAML merge keys (`<<: *base`), as CST's YAML library applies them: keys
 * written in the map win over merged ones, and earlier sources win over
 * later ones. */
static void merge_map(struct build_ctx *ctx, struct pairs *p, const struct cfg_node *map)
{
	if (p->n + cfg_map_len(map) > CFG_MAX_KEYS) {
		cfg_error(ctx, map->loc, "<<: merging more than %d keys", CFG_MAX_KEYS);
		return;
	}
	for (size_t i = 0; i < cfg_map_len(map); i++) {
		const struct cfg_node *k = cfg_map_key(map, i);
		if (k->kind == CFG_SCALAR && !is_merge_key(k, false) && !find_pair(p, k->text))
			push_pair(ctx, p, k, cfg_map_value(map, i));
	}
	for (size_t i = 0; i < cfg_map_len(map); i++)
		if (is_merge_key(cfg_map_key(map, i), false))
			merge_from(ctx, p, cfg_map_value(map, i));
}

static void merge_from(struct build_ctx *ctx, struct pairs *p, const struct cfg_node *src)
{
	if (src->kind == CFG_MAP) {
		merge_map(ctx, p, src);
		return;
	}
	if (src->kind == CFG_SEQ) {
		for (size_t i = 0; i < src->n; i++) {
			if (src->items[i]->kind == CFG_MAP)
				merge_map(ctx, p, src->items[i]);
			else
				cfg_error(ctx, src->items[i]->loc, "<<: expected a map to merge, got %s",
					    cfg_describe(src->items[i], ctx->json));
		}
		return;
	}
	cfg_error(ctx, src->loc, "<<: expected a map or a list of maps to merge, got %s",
		    cfg_describe(src, ctx->json));
}

/* The map's own keys in order, each reported once if repeated, then the
 * keys merged in. */
static void collect_pairs(struct build_ctx *ctx, const struct cfg_node *map, struct pairs *p)
{
	bool has_merge = false;
	for (size_t i = 0; i < cfg_map_len(map); i++) {
		const struct cfg_node *k = cfg_map_key(map, i);
		if (k->kind != CFG_SCALAR) {
			cfg_error(ctx, k->loc, "a key must be a string, got %s", cfg_describe(k, ctx->json));
			continue;
		}
		if (is_merge_key(k, ctx->json)) {
			has_merge = true;
			continue;
		}
		const struct pair *first = find_pair(p, k->text);
		if (first) {
			cfg_error(ctx, k->loc, "duplicate key '%s' (first given at line %d, column %d)", k->text,
				    first->key->loc.line, first->key->loc.col);
			continue;
		}
		push_pair(ctx, p, k, cfg_map_value(map, i));
	}
	if (!has_merge)
		return;
	for (size_t i = 0; i < cfg_map_len(map); i++)
		if (is_merge_key(cfg_map_key(map, i), ctx->json))
			merge_from(ctx, p, cfg_map_value(map, i));
}

static const struct field *find_field(const struct object_desc *desc, const char *name, unsigned versions)
{
	for (size_t i = 0; i < desc->n_fields; i++)
		if ((desc->fields[i].versions & versions) && !strcmp(desc->fields[i].name, name))
			return &desc->fields[i];
	return NULL;
}

static void unknown_key(struct build_ctx *ctx, const struct object_desc *desc, const struct cfg_node *key)
{
	char msg[512];
	const char *ignored = ctx->json ? " (ignored)" : "";

	if (find_field(desc, key->text, CFG_VALL & ~ctx->version)) {
		snprintf(msg, sizeof(msg), "key '%s' is not part of schemaVersion %s%s", key->text, ctx->version_name,
			 ignored);
	} else {
		const char *names[64];
		size_t n = 0;
		for (size_t i = 0; i < desc->n_fields && n < 64; i++)
			if ((desc->fields[i].versions & ctx->version) && !desc->fields[i].alias_of)
				names[n++] = desc->fields[i].name;
		const char *best = cfg_suggest(key->text, names, n);
		if (best)
			snprintf(msg, sizeof(msg), "unknown key '%s' in %s%s; did you mean '%s'?", key->text,
				 desc->what, ignored, best);
		else
			snprintf(msg, sizeof(msg), "unknown key '%s' in %s%s", key->text, desc->what, ignored);
	}
	/* CST's JSON decoder ignores unknown keys, so JSON files only warn. */
	if (ctx->json)
		cfg_warning(ctx, key->loc, "%s", msg);
	else
		cfg_error(ctx, key->loc, "%s", msg);
}

void cfg_object(struct build_ctx *ctx, const struct cfg_node *map, const struct object_desc *desc, void *obj)
{
	if (cfg_map_len(map) > CFG_MAX_KEYS) {
		cfg_error(ctx, map->loc, "%s: more than %d keys", desc->what, CFG_MAX_KEYS);
		return;
	}
	struct pairs p = {0};
	collect_pairs(ctx, map, &p);

	/* An older spelling and its current name set the same member: giving
	 * both is a duplicate too. */
	const struct cfg_node *seen[64] = {0};
	for (size_t i = 0; i < p.n; i++) {
		const struct cfg_node *key = p.v[i].key;
		const struct field *f = find_field(desc, key->text, ctx->version);
		if (!f) {
			unknown_key(ctx, desc, key);
			continue;
		}
		const char *canonical = f->alias_of ? f->alias_of : f->name;
		const struct field *cf = find_field(desc, canonical, ctx->version);
		size_t slot = (size_t)((cf ? cf : f) - desc->fields);
		if (slot < 64) {
			if (seen[slot]) {
				cfg_error(ctx, key->loc, "duplicate key '%s' (same as '%s' at line %d, column %d)",
					    key->text, seen[slot]->text, seen[slot]->loc.line, seen[slot]->loc.col);
				continue;
			}
			seen[slot] = key;
		}
		f->set(ctx, f, key, p.v[i].value, obj);
	}
	free(p.v);
}
