/* The config schema (2.0.0 and 1.0.0) as tables, the setters only one
 * key needs, and the checks that need a whole object.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "values.h"

/* uid/gid: CST's default, -1, means not checked, so an explicit -1 does
 * too; any other number, negative ones included, is compared. */
static void set_uid(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		    const struct cfg_node *v, void *obj)
{
	struct cst_file_existence_test *t = obj;
	long long val;
	if (cfg_int_value(ctx, key, v, &val) <= 0)
		return;
	bool *has = f->off == offsetof(struct cst_file_existence_test, uid) ? &t->has_uid : &t->has_gid;
	*has = val != -1;
	*FIELD_PTR(obj, f->off, int64_t) = val;
}

static void set_command(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			const struct cfg_node *v, void *obj)
{
	if (v->kind == CFG_SEQ) {
		struct cst_str *s = FIELD_PTR(obj, f->off, struct cst_str);
		s->loc = v->loc;
		cfg_error(ctx, v->loc,
			    "command: expected a string, got a list (a list is schemaVersion 1.0.0 syntax; "
			    "in 2.0.0 put the rest in 'args')");
		return;
	}
	cfg_set_str(ctx, f, key, v, obj);
}

/* 1.0.0 writes the command and its arguments as one list. */
static void set_command_list(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			     const struct cfg_node *v, void *obj)
{
	struct cst_command_test *t = obj;
	struct cst_strv all = {0};
	cfg_fill_strv(ctx, key->text, v, &all);
	t->command.loc = v->loc;
	if (!all.present && !cfg_is_null(v))
		return; /* the wrong type, reported */
	cfg_str_release(&t->command);
	cfg_strv_release(&t->args);
	if (!all.present)
		return;
	if (all.n == 0) {
		free(all.v);
		t->command.s = cfg_strdup(ctx, "");
		return;
	}
	t->command = all.v[0];
	t->args.present = true;
	t->args.loc = v->loc;
	t->args.n = all.n - 1;
	memmove(all.v, all.v + 1, t->args.n * sizeof(*all.v));
	t->args.v = all.v;
}

static void set_exec_by(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			const struct cfg_node *v, void *obj)
{
	static const char *const names[] = {"any", "owner", "group", "other"};
	static const enum cst_exec_by values[] = {CST_EXEC_ANY, CST_EXEC_OWNER, CST_EXEC_GROUP, CST_EXEC_OTHER};
	enum cst_exec_by *e = FIELD_PTR(obj, f->off, enum cst_exec_by);
	/* CST checks nothing for an empty string, as for none. */
	if (cfg_is_null(v) || (cfg_is_text(ctx, v) && !v->text[0] && !cfg_has_nul(v)))
		return;
	if (cfg_is_text(ctx, v) && !cfg_has_nul(v))
		for (size_t i = 0; i < 4; i++)
			if (!strcmp(v->text, names[i])) {
				*e = values[i];
				return;
			}
	cfg_type_error(ctx, key->text, v, "one of any, owner, group, other");
}

/* CST compares Go's FileMode.String() with the string as given, so a
 * string that is no mode at all just fails its test.  cst also takes the
 * ls notation of a mode (-rwsr-xr-x for Go's urwxr-xr-x) and stores the Go
 * form, which the check compares. */
static void set_permissions(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			    const struct cfg_node *v, void *obj)
{
	cfg_set_str(ctx, f, key, v, obj);
	struct cst_str *perm = FIELD_PTR(obj, f->off, struct cst_str);
	/* "" is what CST treats as "not checked". */
	if (!perm->s || !perm->len)
		return;
	/* No mode holds a NUL byte: such a string fails its test in CST.  The
	 * check compares C strings, so store the NUL written out (\x00),
	 * which no mode string can equal either. */
	if (cst_str_has_nul(perm->s, perm->len)) {
		struct cst_buf b;
		cst_buf_init(&b, 0);
		for (size_t i = 0; i < perm->len; i++)
			if ((perm->s[i] ? cst_buf_append(&b, &perm->s[i], 1) : cst_buf_puts(&b, "\\x00")) < 0)
				ctx->oom = true;
		free(perm->s);
		perm->s = cst_buf_detach(&b, &perm->len);
		cfg_warning(ctx, v->loc, "permissions: a NUL byte is in no file mode; the test will fail");
		return;
	}
	/* ls first: its lrwxrwxrwx is a link, while Go would read an
	 * "exclusive" file that no image holds. */
	char go[16];
	if (cfg_ls_to_go_mode(perm->s, go)) {
		char *copy = cfg_strdup(ctx, go);
		if (copy) {
			free(perm->s);
			perm->s = copy;
			perm->len = strlen(copy);
		}
		return;
	}
	if (cfg_valid_filemode(perm->s))
		return;
	cfg_warning(ctx, v->loc,
		    "permissions: '%s' is not a file mode (like -rw-r--r--, drwxr-xr-x or, as Go writes them, "
		    "Lrwxrwxrwx, urwxr-xr-x); the test will fail",
		    perm->s);
}

/* unboundEnvVars: entries are env var maps of which only the key counts;
 * CST checks nothing else about them. */
static void set_unbound(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			const struct cfg_node *v, void *obj)
{
	struct cst_strv *out = FIELD_PTR(obj, f->off, struct cst_strv);
	struct cst_kvv kv = {0};
	struct field tmp = *f;
	tmp.off = 0;
	cfg_set_kvv(ctx, &tmp, key, v, &kv);
	if (!kv.present && !cfg_is_null(v))
		return; /* the wrong type, reported */
	cfg_strv_release(out);
	out->loc = v->loc;
	out->present = kv.present;
	out->v = kv.n ? cfg_calloc(ctx, kv.n, sizeof(*out->v)) : NULL;
	for (size_t i = 0; i < kv.n; i++) {
		if (out->v) {
			out->v[out->n++] = (struct cst_str){kv.v[i].key ? kv.v[i].key : cfg_strdup(ctx, ""),
							    kv.v[i].key_len, kv.v[i].loc};
			kv.v[i].key = NULL;
		}
		cfg_kv_release(&kv.v[i]);
	}
	free(kv.v);
}

static void set_nothing(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			const struct cfg_node *v, void *obj)
{
	/* schemaVersion: read before the walk, since it selects the tables. */
}

/* ---- whole-object checks ---- */

/* A required string: missing (located at its object) or empty (at its value). */
static void require(struct build_ctx *ctx, const struct cfg_node *map, const char *what, const char *key,
		    const struct cst_str *s)
{
	if (s->s && s->len)
		return;
	if (!s->loc.line) {
		cfg_error(ctx, map->loc, "%s has no '%s'", what, key);
		return;
	}
	/* Given but unusable: null or "" is reported here, a value of the
	 * wrong type was reported by its setter. */
	const struct cfg_node *v = cfg_lookup(ctx, map, key);
	if (s->s || !v || cfg_is_null(v))
		cfg_error(ctx, s->loc, "%s: '%s' must not be empty", what, key);
}

/* CST refuses (as a failed test) a command test's env var with an empty
 * key or value, and a metadata env var or label with an empty key.  A
 * global one with an empty key makes the engine refuse every test; one
 * with an empty value sets the variable to "". */
static void check_env(struct build_ctx *ctx, const struct cfg_node *map, struct cst_kv *e, const char *what,
		      bool value_required)
{
	if (!e->key || !e->key_len) {
		const struct cfg_node *k = map->kind == CFG_MAP ? cfg_lookup(ctx, map, "key") : NULL;
		cfg_error(ctx, k ? k->loc : map->loc, "%s with an empty key", what);
	}
	if (value_required && (!e->value || !e->value_len)) {
		const struct cfg_node *v = map->kind == CFG_MAP ? cfg_lookup(ctx, map, "value") : NULL;
		cfg_error(ctx, v ? v->loc : map->loc, "%s with an empty value", what);
	}
	if (!e->value) {
		e->value = cfg_strdup(ctx, "");
		e->value_len = 0;
	}
}

static void check_regex(struct build_ctx *ctx, const struct cfg_node *map, struct cst_kv *e)
{
	cst_regex_free(e->re);
	e->re = NULL;
	if (!e->is_regex || !e->value)
		return;
	struct cst_error err = CST_ERROR_INIT;
	e->re = cst_regex_compilen(e->value, e->value_len, &err);
	if (!e->re) {
		const struct cfg_node *v = map->kind == CFG_MAP ? cfg_lookup(ctx, map, "value") : NULL;
		if (err.code == CST_E_NOMEM)
			ctx->oom = true;
		else
			cfg_error(ctx, v ? v->loc : map->loc, "%s", err.msg ? err.msg : "invalid regex");
	}
	cst_error_clear(&err);
}

static void global_env_check(struct build_ctx *ctx, const struct cfg_node *map, void *obj)
{
	check_env(ctx, map, obj, "env var", false);
}

static void test_env_check(struct build_ctx *ctx, const struct cfg_node *map, void *obj)
{
	check_env(ctx, map, obj, "env var", true);
}

static void metadata_env_check(struct build_ctx *ctx, const struct cfg_node *map, void *obj)
{
	check_env(ctx, map, obj, "env var", false);
	check_regex(ctx, map, obj);
}

static void label_check(struct build_ctx *ctx, const struct cfg_node *map, void *obj)
{
	check_env(ctx, map, obj, "label", false);
	check_regex(ctx, map, obj);
}

static void command_check(struct build_ctx *ctx, const struct cfg_node *map, void *obj)
{
	struct cst_command_test *t = obj;
	require(ctx, map, "command test", "name", &t->name);
	/* 1.0.0 refuses only an absent or empty list: CST runs [""] (and the
	 * engine fails it). */
	if (ctx->version == CFG_V1 && t->command.s && t->args.present)
		return;
	require(ctx, map, "command test", "command", &t->command);
}

static void file_existence_check(struct build_ctx *ctx, const struct cfg_node *map, void *obj)
{
	struct cst_file_existence_test *t = obj;
	require(ctx, map, "file existence test", "name", &t->name);
	/* CST's 1.0.0 check of the path has no effect: it runs the test with
	 * "", which exists nowhere. */
	if (ctx->version == CFG_V1) {
		if (!t->path.s)
			t->path.s = cfg_strdup(ctx, "");
		return;
	}
	require(ctx, map, "file existence test", "path", &t->path);
	cfg_file_existence_ext_check(ctx, map, t);
}

static void file_content_check(struct build_ctx *ctx, const struct cfg_node *map, void *obj)
{
	struct cst_file_content_test *t = obj;
	require(ctx, map, "file content test", "name", &t->name);
	require(ctx, map, "file content test", "path", &t->path);
}

static void no_empty_entries(struct build_ctx *ctx, const struct cst_strv *v, const char *key, const char *what)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].s && !*v->v[i].s)
			cfg_error(ctx, v->v[i].loc, "%s: empty %s", key, what);
}

static void metadata_check(struct build_ctx *ctx, const struct cfg_node *map, void *obj)
{
	struct cst_metadata_test *m = obj;
	no_empty_entries(ctx, &m->exposed_ports, "exposedPorts", "port");
	no_empty_entries(ctx, &m->unexposed_ports, "unexposedPorts", "port");
	no_empty_entries(ctx, &m->volumes, "volumes", "volume");
	no_empty_entries(ctx, &m->unmounted_volumes, "unmountedVolumes", "volume");
}

static void run_options_check(struct build_ctx *ctx, const struct cfg_node *map, void *obj)
{
	struct cst_run_options *o = obj;
	for (size_t i = 0; i < o->bind_mounts.n; i++) {
		const char *s = o->bind_mounts.v[i].s;
		const char *colon = s ? strchr(s, ':') : NULL;
		if (s && (!colon || colon == s || colon[1] == '\0' || colon[1] == ':'))
			cfg_error(ctx, o->bind_mounts.v[i].loc,
				    "bindMounts: '%s' is not HOST:CONTAINER or HOST:CONTAINER:OPTIONS", s);
	}
}

static void command_init(void *obj, struct cst_loc loc)
{
	((struct cst_command_test *)obj)->loc = loc;
}

static void file_existence_init(void *obj, struct cst_loc loc)
{
	struct cst_file_existence_test *t = obj;
	t->should_exist = true;
	t->loc = loc;
}

static void file_content_init(void *obj, struct cst_loc loc)
{
	((struct cst_file_content_test *)obj)->loc = loc;
}

static void license_init(void *obj, struct cst_loc loc)
{
	((struct cst_license_test *)obj)->loc = loc;
}

static void metadata_init(void *obj, struct cst_loc loc)
{
	struct cst_metadata_test *m = obj;
	m->present = true;
	m->loc = loc;
}

static void run_options_init(void *obj, struct cst_loc loc)
{
	struct cst_run_options *o = obj;
	o->present = true;
	o->loc = loc;
}

/* ---- tables ---- */

#define FIELD(n, setter, type, member, ver) {.name = n, .set = setter, .off = offsetof(type, member), .versions = ver}
#define LIST(n, setter, type, member, count, ver, d)                                                              \
	{.name = n, .set = setter, .off = offsetof(type, member), .off2 = offsetof(type, count), .versions = ver,  \
	 .desc = d}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* A cst extension key, schema 2.0.0 only. */
#define EXT(n, setter, type, member)                                                                              \
	{.name = n, .set = setter, .off = offsetof(type, member), .versions = CFG_V2, .ext = true}

static const struct field env_fields[] = {
	{.name = "key", .set = cfg_set_cstr, .off = offsetof(struct cst_kv, key),
	 .off2 = offsetof(struct cst_kv, key_len), .versions = CFG_VALL},
	{.name = "value", .set = cfg_set_cstr, .off = offsetof(struct cst_kv, value),
	 .off2 = offsetof(struct cst_kv, value_len), .versions = CFG_VALL},
	FIELD("isRegex", cfg_set_bool, struct cst_kv, is_regex, CFG_VALL),
};

static void kv_init(void *obj, struct cst_loc loc)
{
	((struct cst_kv *)obj)->loc = loc;
}

#define ENV_DESC(what, check)                                                                                     \
	{what, env_fields, COUNT(env_fields), sizeof(struct cst_kv), kv_init, check, cfg_kv_release}
static const struct object_desc global_env_desc = ENV_DESC("env var", global_env_check);
static const struct object_desc test_env_desc = ENV_DESC("env var", test_env_check);
static const struct object_desc metadata_env_desc = ENV_DESC("env var", metadata_env_check);
static const struct object_desc label_desc = ENV_DESC("label", label_check);
static const struct object_desc unbound_env_desc = ENV_DESC("env var", NULL);

#define CT struct cst_command_test
static const struct field command_fields[] = {
	FIELD("name", cfg_set_str, CT, name, CFG_VALL),
	FIELD("command", set_command, CT, command, CFG_V2),
	FIELD("command", set_command_list, CT, command, CFG_V1),
	FIELD("args", cfg_set_strv, CT, args, CFG_V2),
	LIST("setup", cfg_set_commands, CT, setup, n_setup, CFG_VALL, NULL),
	LIST("teardown", cfg_set_commands, CT, teardown, n_teardown, CFG_VALL, NULL),
	{.name = "envVars", .set = cfg_set_kvv, .off = offsetof(CT, env), .versions = CFG_VALL, .desc = &test_env_desc},
	FIELD("expectedOutput", cfg_set_patterns, CT, expected_output, CFG_VALL),
	FIELD("excludedOutput", cfg_set_patterns, CT, excluded_output, CFG_VALL),
	FIELD("expectedError", cfg_set_patterns, CT, expected_error, CFG_VALL),
	FIELD("excludedError", cfg_set_patterns, CT, excluded_error, CFG_VALL),
	FIELD("exitCode", cfg_set_int, CT, exit_code, CFG_VALL),
	{.name = "timeout", .set = cfg_set_timeout, .off = offsetof(CT, timeout), .versions = CFG_VALL, .ext = true},
};
#undef CT

static const struct object_desc command_desc = {"command test", command_fields, COUNT(command_fields),
						sizeof(struct cst_command_test), command_init, command_check,
						cfg_command_test_release};

#define FE struct cst_file_existence_test
static const struct field file_existence_fields[] = {
	FIELD("name", cfg_set_str, FE, name, CFG_VALL),
	FIELD("path", cfg_set_str, FE, path, CFG_VALL),
	FIELD("shouldExist", cfg_set_bool, FE, should_exist, CFG_VALL),
	FIELD("permissions", set_permissions, FE, permissions, CFG_VALL),
	FIELD("uid", set_uid, FE, uid, CFG_V2),
	FIELD("gid", set_uid, FE, gid, CFG_V2),
	FIELD("isExecutableBy", set_exec_by, FE, is_executable_by, CFG_V2),
	EXT("owner", cfg_set_str, FE, owner),
	EXT("group", cfg_set_str, FE, group),
	EXT("type", cfg_set_file_type, FE, file_type),
	EXT("linkTarget", cfg_set_str, FE, link_target),
	EXT("linkTargetIsRegex", cfg_set_bool, FE, link_target_is_regex),
	EXT("size", cfg_set_limit, FE, size),
	EXT("maxSize", cfg_set_limit, FE, max_size),
	EXT("sha256", cfg_set_sha256, FE, sha256),
};
#undef FE

static const struct object_desc file_existence_desc = {
	"file existence test",	 file_existence_fields,	 COUNT(file_existence_fields),
	sizeof(struct cst_file_existence_test), file_existence_init, file_existence_check,
	cfg_file_existence_test_release};

#define FC struct cst_file_content_test
static const struct field file_content_fields[] = {
	FIELD("name", cfg_set_str, FC, name, CFG_VALL),
	FIELD("path", cfg_set_str, FC, path, CFG_VALL),
	FIELD("expectedContents", cfg_set_patterns, FC, expected_contents, CFG_VALL),
	FIELD("excludedContents", cfg_set_patterns, FC, excluded_contents, CFG_VALL),
};
#undef FC

static const struct object_desc file_content_desc = {"file content test", file_content_fields,
						     COUNT(file_content_fields), sizeof(struct cst_file_content_test),
						     file_content_init, file_content_check,
						     cfg_file_content_test_release};

static const struct field license_fields[] = {
	FIELD("debian", cfg_set_bool, struct cst_license_test, debian, CFG_VALL),
	FIELD("files", cfg_set_strv, struct cst_license_test, files, CFG_VALL),
};

static const struct object_desc license_desc = {"license test", license_fields, COUNT(license_fields),
						sizeof(struct cst_license_test), license_init, NULL,
						cfg_license_test_release};

#define MT struct cst_metadata_test
static const struct field metadata_fields[] = {
	{.name = "envVars", .set = cfg_set_kvv, .off = offsetof(MT, env), .versions = CFG_V2, .desc = &metadata_env_desc},
	{.name = "unboundEnvVars", .set = set_unbound, .off = offsetof(MT, unbound_env_vars), .versions = CFG_V2,
	 .desc = &unbound_env_desc},
	{.name = "labels", .set = cfg_set_kvv, .off = offsetof(MT, labels), .versions = CFG_V2, .desc = &label_desc},
	FIELD("entrypoint", cfg_set_strv_ptr, MT, entrypoint, CFG_V2),
	FIELD("cmd", cfg_set_strv_ptr, MT, cmd, CFG_V2),
	FIELD("exposedPorts", cfg_set_strv, MT, exposed_ports, CFG_V2),
	FIELD("unexposedPorts", cfg_set_strv, MT, unexposed_ports, CFG_V2),
	FIELD("volumes", cfg_set_strv, MT, volumes, CFG_V2),
	FIELD("unmountedVolumes", cfg_set_strv, MT, unmounted_volumes, CFG_V2),
	FIELD("workdir", cfg_set_str, MT, workdir, CFG_V2),
	FIELD("user", cfg_set_str, MT, user, CFG_V2),
};
#undef MT

static const struct object_desc metadata_desc = {"metadataTest", metadata_fields, COUNT(metadata_fields),
						 sizeof(struct cst_metadata_test), metadata_init, metadata_check,
						 cfg_metadata_release};

#define RO struct cst_run_options
static const struct field run_options_fields[] = {
	FIELD("user", cfg_set_str, RO, user, CFG_V2),
	FIELD("privileged", cfg_set_bool, RO, privileged, CFG_V2),
	/* CST's JSON decoder knows only the Go name, TTY; cst takes both. */
	FIELD("allocateTty", cfg_set_bool, RO, allocate_tty, CFG_V2),
	{.name = "TTY", .set = cfg_set_bool, .off = offsetof(RO, allocate_tty), .versions = CFG_V2,
	 .formats = CFG_IN_JSON},
	FIELD("envFile", cfg_set_str, RO, env_file, CFG_V2),
	FIELD("envVars", cfg_set_strv, RO, env_vars, CFG_V2),
	FIELD("capabilities", cfg_set_strv, RO, capabilities, CFG_V2),
	FIELD("bindMounts", cfg_set_strv, RO, bind_mounts, CFG_V2),
};
#undef RO

static const struct object_desc run_options_desc = {"containerRunOptions", run_options_fields,
						    COUNT(run_options_fields), sizeof(struct cst_run_options),
						    run_options_init, run_options_check, cfg_run_options_release};

#define CF struct cst_config
static const struct field root_fields[] = {
	{.name = "schemaVersion", .set = set_nothing, .versions = CFG_VALL},
	{.name = "globalEnvVars", .set = cfg_set_kvv, .off = offsetof(CF, global_env), .versions = CFG_VALL,
	 .desc = &global_env_desc},
	LIST("commandTests", cfg_set_objects, CF, command_tests, n_command_tests, CFG_VALL, &command_desc),
	LIST("fileExistenceTests", cfg_set_objects, CF, file_existence_tests, n_file_existence_tests, CFG_VALL,
	     &file_existence_desc),
	LIST("fileContentTests", cfg_set_objects, CF, file_content_tests, n_file_content_tests, CFG_VALL,
	     &file_content_desc),
	LIST("licenseTests", cfg_set_objects, CF, license_tests, n_license_tests, CFG_VALL, &license_desc),
	{.name = "metadataTest", .set = cfg_set_object, .off = offsetof(CF, metadata), .versions = CFG_V2,
	 .desc = &metadata_desc},
	{.name = "containerRunOptions", .set = cfg_set_object, .off = offsetof(CF, run_opts), .versions = CFG_V2,
	 .desc = &run_options_desc},
	{.name = "fileSystemTests", .set = cfg_set_objects, .off = offsetof(CF, file_system_tests),
	 .off2 = offsetof(CF, n_file_system_tests), .versions = CFG_V2, .desc = &cfg_file_system_desc, .ext = true},
	{.name = "layerTests", .set = cfg_set_object, .off = offsetof(CF, layer_test), .versions = CFG_V2,
	 .desc = &cfg_layer_test_desc, .ext = true},
};
#undef CF

static const struct object_desc root_desc = {"the config", root_fields, COUNT(root_fields),
					     sizeof(struct cst_config), NULL, NULL};

void cfg_build(struct build_ctx *ctx, const struct cfg_doc *doc, struct cst_config *cfg)
{
	const struct cfg_node *root = doc->root;
	char buf[96];
	if (!root) {
		cfg_error(ctx, (struct cst_loc){ctx->file, 1, 1}, "missing schemaVersion: the file is empty");
		return;
	}
	if (root->kind != CFG_MAP) {
		cfg_error(ctx, root->loc, "expected a map at the top level, got %s", cfg_got(ctx, root, buf, sizeof(buf)));
		return;
	}
	/* The version selects the tables, so it is read first; a file without
	 * a usable one reports only that. */
	const struct cfg_node *sv = cfg_lookup(ctx, root, "schemaVersion");
	if (!sv || cfg_is_null(sv)) {
		cfg_error(ctx, sv ? sv->loc : root->loc, "missing schemaVersion (\"2.0.0\" or \"1.0.0\")");
		return;
	}
	if (cfg_is_text(ctx, sv) && !cfg_has_nul(sv) && !strcmp(sv->text, "2.0.0")) {
		ctx->version = CFG_V2;
	} else if (cfg_is_text(ctx, sv) && !cfg_has_nul(sv) && !strcmp(sv->text, "1.0.0")) {
		ctx->version = CFG_V1;
	} else {
		cfg_error(ctx, sv->loc, "unsupported schemaVersion %s (expected \"2.0.0\" or \"1.0.0\")",
			    cfg_got(ctx, sv, buf, sizeof(buf)));
		return;
	}
	ctx->version_name = sv->text;
	cfg->schema_version = cfg_strdup(ctx, sv->text);
	cfg_object(ctx, root, &root_desc, cfg);
}
