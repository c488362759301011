#include "build.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/suggest.h"

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

char *cfg_memdup(struct build_ctx *ctx, const char *s, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy) {
		ctx->oom = true;
		return NULL;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

void *cfg_calloc(struct build_ctx *ctx, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		ctx->oom = true;
	return p;
}

bool cfg_json_key_matches(const char *key, const char *name)
{
	const unsigned char *k = (const unsigned char *)key;
	for (const char *n = name; *n; n++) {
		char c = (char)tolower((unsigned char)*n);
		if (tolower(*k) == c) {
			k++;
		} else if (c == 's' && k[0] == 0xc5 && k[1] == 0xbf) {
			k += 2; /* U+017F LATIN SMALL LETTER LONG S */
		} else if (c == 'k' && k[0] == 0xe2 && k[1] == 0x84 && k[2] == 0xaa) {
			k += 3; /* U+212A KELVIN SIGN */
		} else {
			return false;
		}
	}
	return *k == '\0';
}

const struct cfg_node *cfg_lookup(const struct build_ctx *ctx, const struct cfg_node *map, const char *key)
{
	const struct cfg_node *found = NULL;
	for (size_t i = 0; i < cfg_map_len(map); i++) {
		const struct cfg_node *k = cfg_map_key(map, i);
		if (k->kind != CFG_SCALAR || cfg_has_nul(k))
			continue;
		if (ctx->json ? cfg_json_key_matches(k->text, key) : !strcmp(k->text, key)) {
			found = cfg_map_value(map, i);
			if (!ctx->json)
				break;
		}
	}
	return found;
}

static bool is_merge_key(const struct cfg_node *key, bool json)
{
	return !json && key->kind == CFG_SCALAR && key->plain && !strcmp(key->text, "<<");
}

static bool field_in_format(const struct field *f, bool json)
{
	return !f->formats || (f->formats & (json ? CFG_IN_JSON : CFG_IN_YAML));
}

static const struct field *find_field(const struct object_desc *desc, const char *name, unsigned versions, bool json)
{
	for (size_t i = 0; i < desc->n_fields; i++) {
		const struct field *f = &desc->fields[i];
		if (!(f->versions & versions) || !field_in_format(f, json))
			continue;
		if (json ? cfg_json_key_matches(name, f->name) : !strcmp(f->name, name))
			return f;
	}
	return NULL;
}

/* A key as written, a NUL byte as \0 (a key holding one is no field's). */
static const char *shown_key(const struct cfg_node *key, char *buf, size_t size)
{
	if (!cfg_has_nul(key))
		return key->text;
	size_t w = 0;
	for (size_t i = 0; i < key->len && w + 3 < size; i++) {
		if (key->text[i]) {
			buf[w++] = key->text[i];
		} else {
			buf[w++] = '\\';
			buf[w++] = '0';
		}
	}
	buf[w] = '\0';
	return buf;
}

static void unknown_key(struct build_ctx *ctx, const struct object_desc *desc, const struct cfg_node *key)
{
	char msg[512], shown[128];
	const char *name = shown_key(key, shown, sizeof(shown));
	const char *ignored = ctx->json ? " (ignored)" : "";

	if (!cfg_has_nul(key) && find_field(desc, key->text, CFG_VALL & ~ctx->version, ctx->json)) {
		snprintf(msg, sizeof(msg), "key '%s' is not part of schemaVersion %s%s", name, ctx->version_name,
			 ignored);
	} else {
		const char *names[64];
		size_t n = 0;
		for (size_t i = 0; i < desc->n_fields && n < 64; i++)
			if ((desc->fields[i].versions & ctx->version) && field_in_format(&desc->fields[i], ctx->json))
				names[n++] = desc->fields[i].name;
		const char *best = cst_suggest(key->text, names, n);
		/* `env` and `unboundEnv` were never CST's keys, though cst once
		 * took them: name the key they were taken for. */
		char plus_vars[80];
		if (!best && !cfg_has_nul(key) &&
		    snprintf(plus_vars, sizeof(plus_vars), "%sVars", key->text) < (int)sizeof(plus_vars)) {
			const struct field *f = find_field(desc, plus_vars, ctx->version, ctx->json);
			if (f)
				best = f->name;
		}
		/* A Go field name the other format knows (TTY): its YAML key. */
		for (size_t i = 0; i < desc->n_fields && !best && !ctx->json; i++) {
			const struct field *f = &desc->fields[i];
			if (f->formats == CFG_IN_JSON && cfg_json_key_matches(key->text, f->name))
				for (size_t j = 0; j < desc->n_fields && !best; j++)
					if (desc->fields[j].off == f->off && field_in_format(&desc->fields[j], false))
						best = desc->fields[j].name;
		}
		if (best)
			snprintf(msg, sizeof(msg), "unknown key '%s' in %s%s; did you mean '%s'?", name,
				 desc->what, ignored, best);
		else
			snprintf(msg, sizeof(msg), "unknown key '%s' in %s%s", name, desc->what, ignored);
	}
	/* CST's JSON decoder ignores unknown keys, so JSON files only warn. */
	if (ctx->json)
		cfg_warning(ctx, key->loc, "%s", msg);
	else
		cfg_error(ctx, key->loc, "%s", msg);
}

static void note_extension(struct build_ctx *ctx, const struct object_desc *desc, const struct cfg_node *key)
{
	if ((ctx->extensions.len && cst_buf_puts(&ctx->extensions, "\n") < 0) ||
	    cst_buf_printf(&ctx->extensions, "%s:%d:%d: cst extension: %s in %s", key->loc.file, key->loc.line, key->loc.col,
			   key->text, desc->what) < 0)
		ctx->oom = true;
}

static void merge_from(struct build_ctx *ctx, const struct cfg_node *src, const struct object_desc *desc, void *obj)
{
	if (src->kind == CFG_MAP) {
		cfg_object(ctx, src, desc, obj);
		return;
	}
	if (src->kind != CFG_SEQ) {
		cfg_error(ctx, src->loc, "<<: expected a map or a list of maps to merge, got %s",
			  cfg_describe(src, ctx->json));
		return;
	}
	for (size_t i = 0; i < src->n; i++)
		if (src->items[i]->kind != CFG_MAP) {
			cfg_error(ctx, src->items[i]->loc, "<<: expected a map to merge, got %s",
				  cfg_describe(src->items[i], ctx->json));
			return;
		}
	/* Later maps first, so that earlier ones win. */
	for (size_t i = src->n; i-- > 0;)
		cfg_object(ctx, src->items[i], desc, obj);
}

/* Keys apply in file order, each value over what an earlier one set: a
 * merge key (`<<: *base`) sets its map's keys where it stands, so keys
 * written after it win over the merged ones and keys before it lose, as in
 * CST's YAML library.  Only a YAML map's own keys can be duplicates. */
void cfg_object(struct build_ctx *ctx, const struct cfg_node *map, const struct object_desc *desc, void *obj)
{
	size_t n = cfg_map_len(map);
	if (n > CFG_MAX_KEYS) {
		cfg_error(ctx, map->loc, "%s: more than %d keys", desc->what, CFG_MAX_KEYS);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cfg_node *key = cfg_map_key(map, i);
		const struct cfg_node *value = cfg_map_value(map, i);
		if (key->kind != CFG_SCALAR) {
			cfg_error(ctx, key->loc, "a key must be a string, got %s", cfg_describe(key, ctx->json));
			continue;
		}
		if (is_merge_key(key, ctx->json)) {
			merge_from(ctx, value, desc, obj);
			continue;
		}
		if (!ctx->json) {
			const struct cfg_node *first = NULL;
			for (size_t j = 0; j < i && !first; j++) {
				const struct cfg_node *k = cfg_map_key(map, j);
				if (k->kind == CFG_SCALAR && !is_merge_key(k, false) && k->len == key->len &&
				    !memcmp(k->text, key->text, k->len))
					first = k;
			}
			if (first) {
				cfg_error(ctx, key->loc, "duplicate key '%s' (first given at line %d, column %d)",
					  key->text, first->loc.line, first->loc.col);
				continue;
			}
		}
		/* A key with a NUL byte names no field. */
		const struct field *f = cfg_has_nul(key) ? NULL : find_field(desc, key->text, ctx->version, ctx->json);
		if (!f) {
			unknown_key(ctx, desc, key);
			continue;
		}
		if (f->ext)
			note_extension(ctx, desc, key);
		f->set(ctx, f, key, value, obj);
	}
}
