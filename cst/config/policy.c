/* The cst extensions to the schema: the file existence keys beyond CST's,
 * fileSystemTests and layerTests.  Every key here is marked `ext` in its
 * table, so `cst validate --portable` can list where a config uses one.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/fs.h"
#include "cst/glob.h"
#include "values.h"

void cfg_set_limit(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		   const struct cfg_node *v, void *obj)
{
	struct cst_limit *l = FIELD_PTR(obj, f->off, struct cst_limit);
	if (cfg_is_null(v)) {
		l->present = false;
		return;
	}
	long long val;
	if (cfg_int_value(ctx, key, v, &val) <= 0)
		return;
	if (val < 0) {
		cfg_error(ctx, v->loc, "%s: expected a number of 0 or more, got %lld", key->text, val);
		return;
	}
	*l = (struct cst_limit){true, val, v->loc};
}

/* [min, max]: ids from min to max, both included. */
void cfg_set_range(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		   const struct cfg_node *v, void *obj)
{
	struct cst_range *r = FIELD_PTR(obj, f->off, struct cst_range);
	if (cfg_is_null(v)) {
		r->present = false;
		return;
	}
	if (v->kind != CFG_SEQ || v->n != 2) {
		cfg_type_error(ctx, key->text, v, "a list of two numbers, [min, max]");
		return;
	}
	long long lo, hi;
	if (cfg_int_value(ctx, key, v->items[0], &lo) <= 0 || cfg_int_value(ctx, key, v->items[1], &hi) <= 0)
		return;
	if (lo < 0 || lo > hi || hi > UINT32_MAX) {
		cfg_error(ctx, v->loc, "%s: [%lld, %lld] is no range of ids (0 <= min <= max <= 4294967295)",
			  key->text, lo, hi);
		return;
	}
	*r = (struct cst_range){true, lo, hi, v->loc};
}

static const char *const type_names[] = {NULL, "file", "directory", "symlink", "char", "block", "fifo", "socket"};

const char *cfg_file_type_name(int type)
{
	return type > 0 && type < (int)(sizeof(type_names) / sizeof(type_names[0])) ? type_names[type] : "unknown";
}

void cfg_set_file_type(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			  const struct cfg_node *v, void *obj)
{
	int *type = FIELD_PTR(obj, f->off, int);
	if (cfg_is_null(v)) {
		*type = 0;
		return;
	}
	if (cfg_is_text(ctx, v) && !cfg_has_nul(v))
		for (int i = 1; i < (int)(sizeof(type_names) / sizeof(type_names[0])); i++)
			if (!strcmp(v->text, type_names[i])) {
				*type = i;
				return;
			}
	cfg_type_error(ctx, key->text, v, "one of file, directory, symlink, fifo, socket, char, block");
}

void cfg_set_sha256(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		       const struct cfg_node *v, void *obj)
{
	cfg_set_str(ctx, f, key, v, obj);
	struct cst_str *s = FIELD_PTR(obj, f->off, struct cst_str);
	if (!s->s)
		return;
	/* The digest's usual spellings: bare or "sha256:", either case. */
	const char *hex = strncmp(s->s, "sha256:", 7) == 0 ? s->s + 7 : s->s;
	bool ok = strlen(hex) == 64 && s->len == strlen(s->s);
	for (size_t i = 0; ok && i < 64; i++)
		ok = isxdigit((unsigned char)hex[i]);
	if (!ok) {
		cfg_error(ctx, v->loc, "%s: expected 64 hex digits, got %s", key->text,
			  cfg_got(ctx, v, (char[96]){0}, 96));
		cfg_str_release(s);
		return;
	}
	memmove(s->s, hex, 65);
	s->len = 64;
	for (size_t i = 0; i < 64; i++)
		s->s[i] = (char)tolower((unsigned char)s->s[i]);
}

/* Compiles a glob list; a bad glob is reported at its entry. */
static void compile_globs(struct build_ctx *ctx, struct cst_globv *gv, const char *key)
{
	cfg_globv_release_compiled(gv);
	if (!gv->src.n)
		return;
	if (!(gv->g = cfg_calloc(ctx, gv->src.n, sizeof(*gv->g))))
		return;
	for (size_t i = 0; i < gv->src.n; i++) {
		const struct cst_str *s = &gv->src.v[i];
		struct cst_error err = CST_ERROR_INIT;
		if (!s->s || cst_str_has_nul(s->s, s->len))
			cfg_error(ctx, s->loc, "%s: a glob cannot hold a NUL byte", key);
		else if (!(gv->g[i] = cst_glob_compile(s->s, &err)) && err.code == CST_E_NOMEM)
			ctx->oom = true;
		else if (!gv->g[i])
			cfg_error(ctx, s->loc, "%s: %s", key, err.msg ? err.msg : "bad glob");
		cst_error_clear(&err);
	}
}

void cfg_file_existence_ext_check(struct build_ctx *ctx, const struct cfg_node *map,
				  struct cst_file_existence_test *t)
{
	cst_regex_free(t->link_re);
	t->link_re = NULL;
	if (t->link_target_is_regex && t->link_target.s) {
		struct cst_error err = CST_ERROR_INIT;
		t->link_re = cst_regex_compilen(t->link_target.s, t->link_target.len, &err);
		if (!t->link_re && err.code == CST_E_NOMEM)
			ctx->oom = true;
		else if (!t->link_re)
			cfg_error(ctx, t->link_target.loc, "linkTarget: %s", err.msg ? err.msg : "invalid regex");
		cst_error_clear(&err);
	}
	if (t->link_target.s && t->file_type && t->file_type != CST_FT_SYMLINK)
		cfg_error(ctx, t->link_target.loc, "linkTarget: only a symlink has one, and type is %s",
			  cfg_file_type_name(t->file_type));
	/* With shouldExist: false nothing else is checked, as CST ignores
	 * permissions then; a JSON config written for CST may carry such a key
	 * (which CST ignores) on such a test. */
	if (t->owner.s && !t->owner.len)
		cfg_error(ctx, t->owner.loc, "owner: must not be empty");
	if (t->group.s && !t->group.len)
		cfg_error(ctx, t->group.loc, "group: must not be empty");
}

static void file_system_init(void *obj, struct cst_loc loc)
{
	((struct cst_file_system_test *)obj)->loc = loc;
}

static void file_system_check(struct build_ctx *ctx, const struct cfg_node *map, void *obj)
{
	struct cst_file_system_test *t = obj;
	if (!t->name.s || !t->name.len)
		cfg_error(ctx, t->name.loc.line ? t->name.loc : map->loc, "file system test has no 'name'");
	compile_globs(ctx, &t->paths, "paths");
	compile_globs(ctx, &t->exclude, "exclude");
	compile_globs(ctx, &t->setuid_allowed, "setuidAllowed");
	compile_globs(ctx, &t->setgid_allowed, "setgidAllowed");
	compile_globs(ctx, &t->must_not_exist, "mustNotExist");
	if (t->paths.src.present && !t->paths.src.n)
		cfg_error(ctx, t->paths.src.loc, "paths: an empty list selects nothing");
	bool asserts = t->no_world_writable || t->setuid_allowed.src.present || t->setgid_allowed.src.present ||
		       t->must_not_exist.src.n || t->uid_range.present || t->gid_range.present || t->owner.s ||
		       t->group.s || t->max_total_size.present;
	if (!asserts)
		cfg_error(ctx, map->loc,
			  "file system test '%s' asserts nothing (noWorldWritable, setuidAllowed, setgidAllowed, "
			  "mustNotExist, uidRange, gidRange, owner, group, maxTotalSize)",
			  t->name.s ? t->name.s : "");
}

static void layer_test_init(void *obj, struct cst_loc loc)
{
	struct cst_layer_test *t = obj;
	t->present = true;
	t->loc = loc;
}

static void layer_test_check(struct build_ctx *ctx, const struct cfg_node *map, void *obj)
{
	struct cst_layer_test *t = obj;
	for (size_t i = 0; i < t->base_layers.n; i++) {
		const char *d = t->base_layers.v[i].s;
		bool ok = d && strncmp(d, "sha256:", 7) == 0 && strlen(d) == 71;
		for (size_t j = 7; ok && j < 71; j++)
			ok = isxdigit((unsigned char)d[j]) && !isupper((unsigned char)d[j]);
		if (!ok)
			cfg_error(ctx, t->base_layers.v[i].loc,
				  "baseLayers: expected a diff ID (sha256: and 64 lowercase hex digits), got '%s'",
				  d ? d : "");
	}
	if (!t->max_layers.present && !t->max_image_size.present && !t->max_layer_size.present &&
	    !t->max_wasted_bytes.present && !t->base_layers.n)
		cfg_error(ctx, map->loc,
			  "layerTests asserts nothing (maxLayers, maxImageSize, maxLayerSize, maxWastedBytes, "
			  "baseLayers)");
}

void cfg_globv_release_compiled(struct cst_globv *gv)
{
	if (gv->g)
		for (size_t i = 0; i < gv->src.n; i++)
			cst_glob_free(gv->g[i]);
	free(gv->g);
	gv->g = NULL;
}

static void globv_release(struct cst_globv *gv)
{
	cfg_globv_release_compiled(gv);
	cfg_strv_release(&gv->src);
}

void cfg_file_system_test_release(void *obj)
{
	struct cst_file_system_test *t = obj;
	cfg_str_release(&t->name);
	globv_release(&t->paths);
	globv_release(&t->exclude);
	globv_release(&t->setuid_allowed);
	globv_release(&t->setgid_allowed);
	globv_release(&t->must_not_exist);
	cfg_str_release(&t->owner);
	cfg_str_release(&t->group);
}

void cfg_layer_test_release(void *obj)
{
	struct cst_layer_test *t = obj;
	cfg_strv_release(&t->base_layers);
}

/* ---- tables ---- */

/* Keys inside an extension's object: the object's own key is the one
 * `validate --portable` names. */
#define EXT(n, setter, type, member) {.name = n, .set = setter, .off = offsetof(type, member), .versions = CFG_V2}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))


#define FS struct cst_file_system_test
static const struct field file_system_fields[] = {
	EXT("name", cfg_set_str, FS, name),
	EXT("paths", cfg_set_strv, FS, paths.src),
	EXT("exclude", cfg_set_strv, FS, exclude.src),
	EXT("noWorldWritable", cfg_set_bool, FS, no_world_writable),
	EXT("stickyWorldWritable", cfg_set_bool, FS, sticky_world_writable),
	EXT("setuidAllowed", cfg_set_strv, FS, setuid_allowed.src),
	EXT("setgidAllowed", cfg_set_strv, FS, setgid_allowed.src),
	EXT("mustNotExist", cfg_set_strv, FS, must_not_exist.src),
	EXT("uidRange", cfg_set_range, FS, uid_range),
	EXT("gidRange", cfg_set_range, FS, gid_range),
	EXT("owner", cfg_set_str, FS, owner),
	EXT("group", cfg_set_str, FS, group),
	EXT("maxTotalSize", cfg_set_limit, FS, max_total_size),
};
#undef FS

const struct object_desc cfg_file_system_desc = {"fileSystemTests entry", file_system_fields,
						 COUNT(file_system_fields), sizeof(struct cst_file_system_test),
						 file_system_init, file_system_check, cfg_file_system_test_release};

#define LT struct cst_layer_test
static const struct field layer_test_fields[] = {
	EXT("maxLayers", cfg_set_limit, LT, max_layers),
	EXT("maxImageSize", cfg_set_limit, LT, max_image_size),
	EXT("maxLayerSize", cfg_set_limit, LT, max_layer_size),
	EXT("maxWastedBytes", cfg_set_limit, LT, max_wasted_bytes),
	EXT("baseLayers", cfg_set_strv, LT, base_layers),
};
#undef LT

const struct object_desc cfg_layer_test_desc = {"layerTests", layer_test_fields, COUNT(layer_test_fields),
						sizeof(struct cst_layer_test), layer_test_init, layer_test_check,
						cfg_layer_test_release};
