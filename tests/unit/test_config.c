/* The config loader: typed values of every valid fixture, and the exact
 * FILE:LINE:COL of every invalid one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cst/config.h"
#include "cst/fs.h"
#include "cst/config/build.h"
#include "cst/config/node.h"
#include "cst/suggest.h"

static char *fixture(const char *rel)
{
	const char *root = getenv("CST_TESTDATA");
	assert_non_null(root);
	char *p = NULL;
	assert_true(asprintf(&p, "%s/configs/%s", root, rel) > 0);
	return p;
}

static struct cst_config *load_ok(const char *path, char **warnings)
{
	struct cst_config *cfg = NULL;
	struct cst_error err = CST_ERROR_INIT;
	int rc = cst_config_load(path, &cfg, warnings, &err);
	if (rc < 0)
		fail_msg("loading %s: %s", path, err.msg);
	assert_non_null(cfg);
	cst_error_clear(&err);
	return cfg;
}

static struct cst_config *load_fixture(const char *rel)
{
	char *path = fixture(rel);
	struct cst_config *cfg = load_ok(path, NULL);
	free(path);
	return cfg;
}

/* Loads a fixture that must fail; returns the message (caller frees). */
static char *load_fail(const char *path, enum cst_error_code code)
{
	struct cst_config *cfg = NULL;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_config_load(path, &cfg, NULL, &err), -1);
	assert_null(cfg);
	assert_int_equal(err.code, code);
	assert_non_null(err.msg);
	char *msg = err.msg;
	err.msg = NULL;
	return msg;
}

static size_t count_lines(const char *s)
{
	size_t n = 1;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* A scratch config file with the given extension. */
static char *write_temp(const char *ext, const char *text)
{
	const char *dir = getenv("TMPDIR");
	char *path = NULL;
	assert_true(asprintf(&path, "%s/cst-test-config-XXXXXX%s", dir && *dir ? dir : "/tmp", ext) > 0);
	int fd = mkstemps(path, (int)strlen(ext));
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static struct cst_config *load_text(const char *ext, const char *text)
{
	char *path = write_temp(ext, text);
	struct cst_config *cfg = load_ok(path, NULL);
	unlink(path);
	free(path);
	return cfg;
}

static char *fail_text(const char *ext, const char *text)
{
	char *path = write_temp(ext, text);
	char *msg = load_fail(path, CST_E_CONFIG);
	/* Report lines name the file; strip it so callers compare positions. */
	size_t plen = strlen(path);
	char *out = calloc(1, strlen(msg) + 1);
	assert_non_null(out);
	const char *s = msg;
	char *o = out;
	while (*s) {
		if (!strncmp(s, path, plen))
			s += plen;
		*o++ = *s++;
	}
	unlink(path);
	free(path);
	free(msg);
	return out;
}

#define assert_loc(l, ln, cl)                                                                                      \
	do {                                                                                                       \
		assert_int_equal((l).line, (ln));                                                                  \
		assert_int_equal((l).col, (cl));                                                                   \
	} while (0)

static void test_v2_yaml_every_field(void **state)
{
	(void)state;
	struct cst_config *cfg = load_fixture("valid/v2-full.yaml");
	assert_string_equal(cfg->schema_version, "2.0.0");
	assert_non_null(strstr(cfg->path, "v2-full.yaml"));

	assert_true(cfg->global_env.present);
	assert_int_equal(cfg->global_env.n, 2);
	assert_string_equal(cfg->global_env.v[0].key, "GLOBAL_PATH");
	assert_string_equal(cfg->global_env.v[0].value, "/opt/bin:$PATH");
	assert_loc(cfg->global_env.v[0].loc, 5, 5);
	/* A missing value is "", not absent. */
	assert_string_equal(cfg->global_env.v[1].value, "");

	const struct cst_run_options *o = &cfg->run_opts;
	assert_true(o->present);
	assert_string_equal(o->user.s, "1000:1000");
	assert_true(o->privileged);
	assert_true(o->allocate_tty); /* YAML 1.1 "yes" */
	assert_string_equal(o->env_file.s, "test.env");
	assert_int_equal(o->env_vars.n, 2);
	assert_string_equal(o->env_vars.v[1].s, "TERM");
	assert_string_equal(o->capabilities.v[0].s, "NET_ADMIN");
	assert_int_equal(o->bind_mounts.n, 2);
	assert_string_equal(o->bind_mounts.v[0].s, "/tmp:/data:ro");
	assert_loc(o->bind_mounts.v[0].loc, 20, 7);

	assert_int_equal(cfg->n_command_tests, 2);
	const struct cst_command_test *c = &cfg->command_tests[0];
	assert_string_equal(c->name.s, "apt-get upgrade");
	assert_loc(c->name.loc, 24, 11);
	assert_loc(c->loc, 24, 5);
	assert_string_equal(c->command.s, "apt-get");
	assert_true(c->args.present);
	assert_int_equal(c->args.n, 2);
	assert_string_equal(c->args.v[0].s, "-qqs");
	assert_loc(c->args.v[1].loc, 26, 20);
	assert_int_equal(c->n_setup, 2);
	assert_int_equal(c->setup[1].n, 2);
	assert_string_equal(c->setup[1].v[1].s, "/tmp/x");
	assert_int_equal(c->n_teardown, 1);
	assert_string_equal(c->teardown[0].v[0].s, "rm");
	assert_int_equal(c->env.n, 1);
	assert_string_equal(c->env.v[0].value, "C.UTF-8");
	assert_int_equal(c->expected_output.n, 1);
	assert_string_equal(c->expected_output.v[0].src, "^Reading package lists");
	assert_non_null(c->expected_output.v[0].re);
	assert_loc(c->expected_output.v[0].loc, 33, 22);
	assert_int_equal(c->excluded_output.n, 1);
	assert_int_equal(c->expected_error.n, 0);
	assert_int_equal(c->excluded_error.n, 1);
	assert_int_equal(c->exit_code, 3);
	assert_true(c->timeout > 2.49 && c->timeout < 2.51);

	c = &cfg->command_tests[1];
	assert_int_equal(c->exit_code, 0);
	assert_true(c->timeout == 0);
	assert_int_equal(c->n_setup, 0);
	assert_false(c->env.present);
	assert_string_equal(c->expected_output.v[0].src, "Python 3\\.\\d+");

	assert_int_equal(cfg->n_file_existence_tests, 4);
	const struct cst_file_existence_test *f = &cfg->file_existence_tests[0];
	assert_string_equal(f->path.s, "/");
	assert_true(f->should_exist);
	assert_string_equal(f->permissions.s, "drwxr-xr-x");
	assert_true(f->has_uid);
	assert_int_equal(f->uid, 0);
	assert_true(f->has_gid);
	assert_int_equal(f->is_executable_by, CST_EXEC_ANY);
	assert_false(cfg->file_existence_tests[1].should_exist);
	f = &cfg->file_existence_tests[2];
	assert_true(f->should_exist); /* default */
	assert_false(f->has_uid);
	assert_false(f->has_gid);
	assert_null(f->permissions.s);
	assert_int_equal(f->is_executable_by, CST_EXEC_UNSET);
	f = &cfg->file_existence_tests[3];
	assert_string_equal(f->permissions.s, "urwxr-xr-x");
	assert_true(f->has_uid);
	assert_false(f->has_gid);
	assert_int_equal(f->is_executable_by, CST_EXEC_OTHER);

	assert_int_equal(cfg->n_file_content_tests, 1);
	assert_string_equal(cfg->file_content_tests[0].path.s, "/etc/apt/sources.list");
	assert_int_equal(cfg->file_content_tests[0].expected_contents.n, 1);
	assert_int_equal(cfg->file_content_tests[0].excluded_contents.n, 1);

	assert_int_equal(cfg->n_license_tests, 1);
	assert_true(cfg->license_tests[0].debian);
	assert_int_equal(cfg->license_tests[0].files.n, 1);

	const struct cst_metadata_test *m = &cfg->metadata;
	assert_true(m->present);
	assert_false(cst_metadata_test_is_empty(m));
	assert_int_equal(m->env.n, 3);
	/* YAML scalars are text as written. */
	assert_string_equal(m->env.v[1].value, "1.10");
	assert_false(m->env.v[1].is_regex);
	assert_null(m->env.v[1].re);
	assert_true(m->env.v[2].is_regex);
	assert_non_null(m->env.v[2].re);
	assert_int_equal(m->unbound_env_vars.n, 1);
	assert_string_equal(m->unbound_env_vars.v[0].s, "SECRET");
	assert_int_equal(m->labels.n, 2);
	assert_string_equal(m->labels.v[0].value, "1.0");
	assert_non_null(m->labels.v[1].re);
	assert_int_equal(m->exposed_ports.n, 2);
	assert_string_equal(m->exposed_ports.v[1].s, "53/udp");
	assert_string_equal(m->unexposed_ports.v[0].s, "22");
	/* `entrypoint: []` is present and empty. */
	assert_true(m->entrypoint.present);
	assert_int_equal(m->entrypoint.n, 0);
	assert_true(m->cmd.present);
	assert_int_equal(m->cmd.n, 2);
	assert_string_equal(m->workdir.s, "/app");
	assert_string_equal(m->user.s, "nobody");
	assert_string_equal(m->volumes.v[0].s, "/data");
	assert_string_equal(m->unmounted_volumes.v[0].s, "/tmp");
	cst_config_free(cfg);
}

static void test_v2_json_every_field(void **state)
{
	(void)state;
	struct cst_config *cfg = load_fixture("valid/v2-full.json");
	assert_string_equal(cfg->schema_version, "2.0.0");
	assert_int_equal(cfg->n_command_tests, 1);
	const struct cst_command_test *c = &cfg->command_tests[0];
	/* Positions come through for JSON too. */
	assert_loc(c->name.loc, 17, 15);
	assert_loc(c->loc, 16, 5);
	assert_string_equal(c->args.v[1].s, "echo $0 \xc3\xa9/");
	assert_int_equal(c->n_setup, 1);
	assert_int_equal(c->n_teardown, 1);
	assert_string_equal(c->env.v[0].value, "1");
	assert_int_equal(c->expected_error.n, 0);
	assert_true(c->timeout == 10);

	/* The YAML defaults apply to JSON too. */
	const struct cst_file_existence_test *f = &cfg->file_existence_tests[0];
	assert_true(f->should_exist);
	assert_false(f->has_uid);
	assert_false(f->has_gid);
	assert_int_equal(f->is_executable_by, CST_EXEC_UNSET);
	f = &cfg->file_existence_tests[1];
	assert_true(f->has_uid);
	assert_int_equal(f->gid, 0);
	assert_int_equal(f->is_executable_by, CST_EXEC_OWNER);
	assert_string_equal(f->permissions.s, "-rwxr-xr-x");

	assert_false(cfg->license_tests[0].debian);
	assert_true(cfg->license_tests[0].files.present);
	assert_int_equal(cfg->license_tests[0].files.n, 0);

	const struct cst_run_options *o = &cfg->run_opts;
	assert_true(o->present);
	assert_false(o->privileged);
	assert_true(o->allocate_tty);

	const struct cst_metadata_test *m = &cfg->metadata;
	assert_true(m->env.v[0].is_regex);
	assert_non_null(m->env.v[0].re);
	assert_true(m->cmd.present);
	assert_int_equal(m->cmd.n, 0);
	assert_true(m->entrypoint.present);
	assert_int_equal(m->entrypoint.n, 1);
	assert_true(m->exposed_ports.present);
	assert_int_equal(m->exposed_ports.n, 0);
	cst_config_free(cfg);
}

static void test_v1_yaml_every_field(void **state)
{
	(void)state;
	struct cst_config *cfg = load_fixture("valid/v1-full.yaml");
	assert_string_equal(cfg->schema_version, "1.0.0");
	assert_int_equal(cfg->n_command_tests, 2);
	const struct cst_command_test *c = &cfg->command_tests[0];
	/* The 1.0.0 list splits into command and args. */
	assert_string_equal(c->command.s, "apt-get");
	assert_loc(c->command.loc, 11, 15);
	assert_true(c->args.present);
	assert_int_equal(c->args.n, 1);
	assert_string_equal(c->args.v[0].s, "help");
	assert_int_equal(c->n_setup, 1);
	assert_int_equal(c->teardown[0].n, 3);
	assert_string_equal(c->env.v[0].key, "DEBIAN_FRONTEND");
	assert_int_equal(c->expected_output.n, 1);
	assert_true(c->timeout == 30);
	c = &cfg->command_tests[1];
	assert_string_equal(c->command.s, "whoami");
	assert_int_equal(c->args.n, 0);

	assert_int_equal(cfg->n_file_existence_tests, 1);
	assert_false(cfg->file_existence_tests[0].has_uid);
	assert_int_equal(cfg->n_file_content_tests, 1);
	assert_int_equal(cfg->n_license_tests, 1);
	assert_int_equal(cfg->global_env.n, 1);
	assert_false(cfg->metadata.present);
	assert_true(cst_metadata_test_is_empty(&cfg->metadata));
	assert_false(cfg->run_opts.present);
	cst_config_free(cfg);
}

/* 1.0.0 as CST's v1 types validate it (CST v1.15.0 against busybox):
 * an empty file existence path is not refused (the engine then finds
 * nothing: shouldExist false passes), nor is a command [""] (the engine
 * fails it); an empty command list is (CST skips that test). */
static void test_v1_validation(void **state)
{
	(void)state;
	struct cst_config *cfg = load_text(".yaml", "schemaVersion: 1.0.0\n"
						    "fileExistenceTests:\n"
						    "  - {name: a, path: '', shouldExist: false}\n"
						    "  - {name: b}\n"
						    "commandTests:\n"
						    "  - {name: c, command: ['']}\n");
	assert_string_equal(cfg->file_existence_tests[0].path.s, "");
	assert_string_equal(cfg->file_existence_tests[1].path.s, "");
	assert_string_equal(cfg->command_tests[0].command.s, "");
	cst_config_free(cfg);

	char *msg = fail_text(".yaml", "schemaVersion: 1.0.0\n"
				       "fileContentTests: [{name: a, path: ''}]\n"
				       "commandTests: [{name: c, command: []}, {name: d}]\n");
	assert_string_equal(msg, ":2:36: file content test: 'path' must not be empty\n"
				 ":3:35: command test: 'command' must not be empty\n"
				 ":3:40: command test has no 'command'");
	free(msg);
}

static void test_yml_extension_and_defaults(void **state)
{
	(void)state;
	struct cst_config *cfg = load_fixture("valid/v2-minimal.yml");
	assert_int_equal(cfg->n_file_existence_tests, 1);
	assert_true(cfg->file_existence_tests[0].should_exist);
	assert_int_equal(cfg->n_command_tests, 0);
	assert_null(cfg->command_tests);
	assert_false(cfg->global_env.present);
	assert_false(cfg->metadata.present);
	assert_false(cfg->metadata.cmd.present);
	assert_false(cfg->metadata.entrypoint.present);
	cst_config_free(cfg);
}

static void test_anchors_and_merge(void **state)
{
	(void)state;
	struct cst_config *cfg = load_fixture("valid/v2-anchors.yaml");
	assert_int_equal(cfg->n_command_tests, 3);
	const struct cst_command_test *d = &cfg->command_tests[1];
	assert_string_equal(d->name.s, "derived");
	assert_string_equal(d->command.s, "sh"); /* merged in */
	assert_int_equal(d->args.n, 2);
	assert_string_equal(d->args.v[1].s, "true");
	/* A key before the merge loses to the merged one (CST v1.15.0 ran the
	 * same config with exitCode 0 there). */
	d = &cfg->command_tests[2];
	assert_string_equal(d->name.s, "base");
	assert_int_equal(d->exit_code, 0);
	assert_int_equal(cfg->metadata.env.n, 1);
	assert_string_equal(cfg->metadata.env.v[0].key, "A");
	assert_int_equal(cfg->metadata.unbound_env_vars.n, 1);
	assert_string_equal(cfg->metadata.unbound_env_vars.v[0].s, "C");
	assert_int_equal(cfg->metadata.cmd.n, 2);
	cst_config_free(cfg);
}

struct invalid_case {
	const char *file;
	const char *where; /* "LINE:COL: message start" after "FILE:" */
};

static const struct invalid_case invalid_cases[] = {
	{"unknown-key.yaml", "5:5: unknown key 'shouldExists' in file existence test; did you mean 'shouldExist'?"},
	{"duplicate-key.yaml", "5:5: duplicate key 'name' (first given at line 3, column 5)"},
	{"wrong-type.yaml", "6:7: args: expected a list of strings, got a map"},
	{"missing-schema-version.yaml", "2:1: missing schemaVersion"},
	{"unsupported-schema-version.yaml", "1:16: unsupported schemaVersion '3.0.0'"},
	{"missing-name.yaml", "3:5: file content test has no 'name'"},
	{"empty-name.yaml", "3:11: command test: 'name' must not be empty"},
	{"empty-path.yaml", "4:11: file existence test: 'path' must not be empty"},
	{"missing-command.yaml", "3:5: command test has no 'command'"},
	{"empty-command.yaml", "4:14: command test: 'command' must not be empty"},
	{"empty-setup.yaml", "7:9: setup: empty command"},
	{"empty-teardown.yaml", "5:16: teardown: empty command"},
	{"empty-env-key.yaml", "6:14: env var with an empty key"},
	{"bad-exec-by.yaml", "5:21: isExecutableBy: expected one of any, owner, group, other, got 'everyone'"},
	{"metadata-env.yaml", "4:3: unknown key 'env' in metadataTest; did you mean 'envVars'?"},
	{"empty-env-value.yaml", "8:9: env var with an empty value"},
	{"bad-regex.yaml", "7:9: expectedOutput: invalid regex '(unclosed'"},
	{"bad-metadata-regex.yaml", "5:14: invalid regex '[0-9'"},
	{"v1-uid.yaml", "5:5: key 'uid' is not part of schemaVersion 1.0.0"},
	{"v1-metadata.yaml", "2:1: key 'metadataTest' is not part of schemaVersion 1.0.0"},
	{"v2-command-list.yaml", "4:14: command: expected a string, got a list (a list is schemaVersion 1.0.0 syntax"},
	{"bad-bool.yaml", "5:18: shouldExist: expected a boolean (true or false), got 'yess'"},
	{"syntax-error.yaml", "5:1: invalid YAML: did not find expected ',' or ']'"},
	{"syntax-error.json", "4:46: invalid JSON: "},
	{"alias-bomb.yaml", "7:38: aliases expand to more than 1000000 nodes"},
	{"deep-nesting.yaml", "2:78: nesting deeper than 64 levels"},
	{"v1-file-system.yaml", "2:1: key 'fileSystemTests' is not part of schemaVersion 1.0.0"},
	{"bad-glob.yaml", "4:20: mustNotExist: glob '/etc/[abc': '[' at byte 6 is not closed"},
	{"file-system-no-assertion.yaml", "3:5: file system test 'nothing' asserts nothing"},
	{"bad-sha256.yaml", "5:13: sha256: expected 64 hex digits, got 'abc'"},
	{"bad-file-type.yaml", "5:11: type: expected one of file, directory, symlink, fifo, socket, char, block, got 'regular'"},
	{"bad-base-layer.yaml", "4:16: baseLayers: expected a diff ID"},
};

/* The cst extensions: every key read, and each use recorded for
 * `validate --portable`. */
static void test_policy_extensions(void **state)
{
	(void)state;
	struct cst_config *cfg = load_fixture("valid/v2-policy.yaml");
	assert_int_equal(cfg->n_file_existence_tests, 3);
	const struct cst_file_existence_test *fe = &cfg->file_existence_tests[0];
	assert_string_equal(fe->owner.s, "root");
	assert_string_equal(fe->group.s, "root");
	assert_int_equal(fe->file_type, CST_FT_REG);
	assert_true(fe->max_size.present);
	assert_int_equal(fe->max_size.value, 20000000);
	assert_false(fe->size.present);
	fe = &cfg->file_existence_tests[1];
	assert_int_equal(fe->file_type, CST_FT_SYMLINK);
	assert_true(fe->link_target_is_regex);
	assert_non_null(fe->link_re);
	fe = &cfg->file_existence_tests[2];
	assert_int_equal(fe->size.value, 120);
	/* The "sha256:" form is kept bare. */
	assert_string_equal(fe->sha256.s, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");

	assert_int_equal(cfg->n_file_system_tests, 4);
	const struct cst_file_system_test *fs = &cfg->file_system_tests[0];
	assert_string_equal(fs->name.s, "no setuid beyond the usual");
	assert_int_equal(fs->paths.src.n, 1);
	assert_non_null(fs->paths.g[0]);
	assert_int_equal(fs->exclude.src.n, 2);
	assert_true(fs->setuid_allowed.src.present);
	assert_true(fs->setgid_allowed.src.present);
	assert_int_equal(fs->setgid_allowed.src.n, 0);
	assert_true(cfg->file_system_tests[1].no_world_writable);
	assert_int_equal(cfg->file_system_tests[2].must_not_exist.src.n, 4);
	fs = &cfg->file_system_tests[3];
	assert_true(fs->uid_range.present);
	assert_int_equal(fs->uid_range.min, 1000);
	assert_int_equal(fs->uid_range.max, 1999);
	assert_string_equal(fs->owner.s, "app");
	assert_int_equal(fs->max_total_size.value, 50000000);

	const struct cst_layer_test *lt = &cfg->layer_test;
	assert_true(lt->present);
	assert_int_equal(lt->max_layers.value, 20);
	assert_int_equal(lt->max_wasted_bytes.value, 1048576);
	assert_int_equal(lt->base_layers.n, 1);
	assert_true(cst_config_needs_whole_tree(cfg));

	assert_non_null(cfg->extensions);
	assert_non_null(strstr(cfg->extensions, "v2-policy.yaml:5:5: cst extension: owner in file existence test\n"));
	assert_non_null(strstr(cfg->extensions, "v2-policy.yaml:18:1: cst extension: fileSystemTests in the config\n"));
	assert_non_null(strstr(cfg->extensions, "v2-policy.yaml:37:1: cst extension: layerTests in the config"));
	cst_config_free(cfg);

	cfg = load_fixture("valid/v2-minimal.yml");
	assert_null(cfg->extensions);
	assert_false(cst_config_needs_whole_tree(cfg));
	cst_config_free(cfg);
}

static void test_invalid_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
		char *rel = NULL;
		assert_true(asprintf(&rel, "invalid/%s", invalid_cases[i].file) > 0);
		char *path = fixture(rel);
		char *msg = load_fail(path, CST_E_CONFIG);
		char *want = NULL;
		assert_true(asprintf(&want, "%s:%s", path, invalid_cases[i].where) > 0);
		if (strncmp(msg, want, strlen(want)) != 0)
			fail_msg("%s:\n got: %s\nwant: %s", invalid_cases[i].file, msg, want);
		/* One problem each: nothing else reported. */
		if (count_lines(msg) != 1)
			fail_msg("%s: more than one error:\n%s", invalid_cases[i].file, msg);
		free(want);
		free(msg);
		free(path);
		free(rel);
	}
}

static void test_json_wrong_types(void **state)
{
	(void)state;
	char *path = fixture("invalid/wrong-type.json");
	char *msg = load_fail(path, CST_E_CONFIG);
	char *want = NULL;
	assert_true(asprintf(&want,
			     "%s:4:14: name: expected a string, got a number 5\n"
			     "%s:4:48: exitCode: expected an integer, got a string '0'",
			     path, path) > 0);
	assert_string_equal(msg, want);
	free(want);
	free(msg);
	free(path);
}

static void test_all_errors_reported_in_file_order(void **state)
{
	(void)state;
	char *path = fixture("invalid/multiple-errors.yaml");
	char *msg = load_fail(path, CST_E_CONFIG);
	assert_int_equal(count_lines(msg), 4);
	const char *lines[] = {
		":3:11: command test: 'name' must not be empty",
		":5:22: expectedOutput: invalid regex '(bad'",
		":9:5: unknown key 'permisions' in file existence test; did you mean 'permissions'?",
		":12:21: isExecutableBy: expected one of any, owner, group, other, got 'nobody'",
	};
	const char *at = msg;
	for (size_t i = 0; i < 4; i++) {
		assert_true(!strncmp(at, path, strlen(path)));
		at += strlen(path);
		assert_true(!strncmp(at, lines[i], strlen(lines[i])));
		at = strchr(at, '\n');
		if (i < 3)
			assert_non_null(at++);
	}
	free(msg);
	free(path);
}

static void test_json_unknown_key_is_a_warning(void **state)
{
	(void)state;
	char *path = fixture("invalid/unknown-key.json");
	char *warnings = strdup("earlier note");
	struct cst_config *cfg = load_ok(path, &warnings);
	/* The misspelt "shouldExists": false was ignored, not applied. */
	assert_true(cfg->file_existence_tests[0].should_exist);
	char *want = NULL;
	assert_true(asprintf(&want,
			     "earlier note\n%s:4:47: warning: unknown key 'shouldExists' in file existence test "
			     "(ignored); did you mean 'shouldExist'?",
			     path) > 0);
	assert_string_equal(warnings, want);
	free(want);
	free(warnings);
	cst_config_free(cfg);
	free(path);
}

static void test_bad_extension_and_missing_file(void **state)
{
	(void)state;
	char *path = fixture("invalid/bad-extension.conf");
	char *msg = load_fail(path, CST_E_CONFIG);
	assert_non_null(strstr(msg, "bad-extension.conf"));
	assert_non_null(strstr(msg, "provide a valid JSON"));
	free(msg);
	free(path);

	path = fixture("valid/does-not-exist.yaml");
	msg = load_fail(path, CST_E_IO);
	assert_non_null(strstr(msg, "does-not-exist.yaml"));
	free(msg);
	free(path);
}

static void test_absent_null_and_empty(void **state)
{
	(void)state;
	/* An empty metadataTest is present but has nothing to check. */
	struct cst_config *cfg = load_text(".yaml", "schemaVersion: '2.0.0'\nmetadataTest: {}\n");
	assert_true(cfg->metadata.present);
	assert_true(cst_metadata_test_is_empty(&cfg->metadata));
	cst_config_free(cfg);

	cfg = load_text(".yaml", "schemaVersion: '2.0.0'\nmetadataTest:\n  cmd: []\n");
	assert_false(cst_metadata_test_is_empty(&cfg->metadata));
	assert_false(cfg->metadata.entrypoint.present);
	cst_config_free(cfg);

	cfg = load_text(".yaml", "schemaVersion: '2.0.0'\nmetadataTest:\n  workdir: ''\n  user: ''\n");
	assert_true(cst_metadata_test_is_empty(&cfg->metadata));
	cst_config_free(cfg);

	/* YAML null sets a boolean to false, as CST's YAML decoder does... */
	cfg = load_text(".yaml", "schemaVersion: '2.0.0'\nfileExistenceTests:\n"
				 "  - {name: a, path: /a, shouldExist: }\n");
	assert_false(cfg->file_existence_tests[0].should_exist);
	cst_config_free(cfg);
	/* ...while JSON null leaves the default, as its JSON decoder does. */
	cfg = load_text(".json", "{\"schemaVersion\": \"2.0.0\", \"fileExistenceTests\": "
				 "[{\"name\": \"a\", \"path\": \"/a\", \"shouldExist\": null}]}");
	assert_true(cfg->file_existence_tests[0].should_exist);
	cst_config_free(cfg);
}

static void test_scalars(void **state)
{
	(void)state;
	struct cst_config *cfg = load_text(".yaml", "schemaVersion: 2.0.0\n"
						    "commandTests:\n"
						    "  - name: 1.10\n"
						    "    command: true\n"
						    "    args: [010, 1e3, null, ~]\n"
						    "    exitCode: -2\n"
						    "fileExistenceTests:\n"
						    "  - name: x\n"
						    "    path: /x\n"
						    "    shouldExist: off\n"
						    "    uid: 0x10\n"
						    "    gid: 1000\n");
	const struct cst_command_test *c = &cfg->command_tests[0];
	assert_string_equal(c->name.s, "1.10");
	assert_string_equal(c->command.s, "true");
	assert_int_equal(c->args.n, 4);
	assert_string_equal(c->args.v[0].s, "010");
	assert_string_equal(c->args.v[1].s, "1e3");
	assert_string_equal(c->args.v[2].s, "");
	assert_int_equal(c->exit_code, -2);
	assert_false(cfg->file_existence_tests[0].should_exist);
	assert_int_equal(cfg->file_existence_tests[0].uid, 16);
	assert_int_equal(cfg->file_existence_tests[0].gid, 1000);
	cst_config_free(cfg);

	char *msg = fail_text(".yaml", "schemaVersion: '2.0.0'\ncommandTests:\n"
				       "  - {name: a, command: b, timeout: soon, exitCode: 2001-01-01}\n");
	assert_string_equal(msg, ":3:36: timeout: expected a number of seconds, got 'soon'\n"
				 ":3:52: exitCode: expected an integer, got '2001-01-01'");
	free(msg);

	/* CST's exitCode is 64 bits wide: a value past an int is no config
	 * error, and matches no exit status. */
	cfg = load_text(".yaml", "schemaVersion: '2.0.0'\ncommandTests:\n"
				 "  - {name: a, command: b, exitCode: 99999999999}\n");
	assert_int_equal(cfg->command_tests[0].exit_code, INT32_MAX);
	cst_config_free(cfg);
}

/* Each case was run with CST v1.15.0 against cst-test/busybox:1 (a
 * directory /bin owned by 0:0, /tmp drwxrwxrwt, Cmd [sh]); the comments
 * give what it reported. */
static void test_yaml_scalars_as_cst_reads_them(void **state)
{
	(void)state;
	struct cst_config *cfg = load_text(".yaml", "schemaVersion: 2.0.0\n"
						    "fileExistenceTests:\n"
						    "  - {name: 123, path: 1.10, shouldExist: yes}\n" /* "1.10" not found */
						    "  - {name: b, path: /bin, shouldExist: On}\n"     /* pass */
						    "  - {name: c, path: /bin, shouldExist: True}\n"   /* pass */
						    "  - {name: d, path: /bin, shouldExist: N}\n"      /* should not exist */
						    "  - {name: e, path: /bin, uid: 0o17}\n"           /* Expected: 15 */
						    "  - {name: f, path: /bin, uid: 017}\n"            /* Expected: 15 */
						    "  - {name: g, path: /bin, uid: 0x1F, gid: 1_0}\n" /* 31, 10 */
						    "  - {name: h, path: /bin, uid: 08, gid: 1.5}\n"   /* 8, 1 */
						    "  - {name: i, path: /bin, uid: -1, gid: ~}\n"     /* pass */
						    "  - {name: j, path: /bin, uid: -2, gid: 0b11}\n"  /* -2, 3 */
						    "  - {name: k, path: /bin, uid: 0.9, gid: 0e5}\n"  /* pass */
						    "metadataTest:\n"
						    "  cmd: Null\n"       /* Cmd [sh] does not match expected Cmd: [] */
						    "  entrypoint: NULL\n" /* (none in the image) pass */
						    "  volumes: ~\n");
	const struct cst_file_existence_test *t = cfg->file_existence_tests;
	assert_string_equal(t[0].name.s, "123");
	assert_string_equal(t[0].path.s, "1.10");
	assert_true(t[0].should_exist && t[1].should_exist && t[2].should_exist);
	assert_false(t[3].should_exist);
	const long long uids[] = {15, 15, 31, 8, 0, -2, 0};
	const long long gids[] = {-1, -1, 10, 1, 0, 3, 0};
	for (size_t i = 0; i < 7; i++) {
		const struct cst_file_existence_test *f = &t[4 + i];
		assert_int_equal(f->has_uid, uids[i] != 0 || i == 6);
		if (f->has_uid)
			assert_int_equal(f->uid, uids[i]);
		assert_int_equal(f->has_gid, gids[i] != -1);
		if (f->has_gid)
			assert_int_equal(f->gid, gids[i]);
	}
	/* uid: -1 is CST's "unchecked". */
	assert_false(t[8].has_uid);
	assert_true(cfg->metadata.cmd.present);
	assert_int_equal(cfg->metadata.cmd.n, 0);
	assert_true(cfg->metadata.entrypoint.present);
	assert_false(cfg->metadata.volumes.present);
	cst_config_free(cfg);

	/* null, ~ and nothing leave cmd unchecked: CST passed this one. */
	cfg = load_text(".yaml", "schemaVersion: 2.0.0\nmetadataTest:\n  cmd: null\n  entrypoint: ~\n  user:\n");
	assert_false(cfg->metadata.cmd.present);
	assert_false(cfg->metadata.entrypoint.present);
	assert_true(cst_metadata_test_is_empty(&cfg->metadata));
	cst_config_free(cfg);

	/* Not integers to yaml.v2: CST refused each config. */
	const char *not_ints[] = {"yes", ".inf", ".nan", "1e400", "0x", "9223372036854775808", "1:30", "'5'"};
	for (size_t i = 0; i < sizeof(not_ints) / sizeof(not_ints[0]); i++) {
		char *text = NULL;
		assert_true(asprintf(&text, "schemaVersion: 2.0.0\nfileExistenceTests:\n  - {name: a, path: /a, uid: %s}\n",
				     not_ints[i]) > 0);
		char *msg = fail_text(".yaml", text);
		if (!strstr(msg, "uid: expected an integer"))
			fail_msg("uid: %s: %s", not_ints[i], msg);
		free(msg);
		free(text);
	}
	/* Nor booleans: yaml.v2 takes no 1 or "true" for a bool. */
	char *msg = fail_text(".yaml", "schemaVersion: 2.0.0\nfileExistenceTests:\n"
				       "  - {name: a, path: /a, shouldExist: 1}\n"
				       "  - {name: b, path: /b, shouldExist: 'true'}\n");
	assert_string_equal(msg, ":3:38: shouldExist: expected a boolean (true or false), got '1'\n"
				 ":4:38: shouldExist: expected a boolean (true or false), got 'true'");
	free(msg);
	/* Negative infinity is the one float out of range yaml.v2 lets into an
	 * int (as the minimum). */
	cfg = load_text(".yaml", "schemaVersion: 2.0.0\ncommandTests: [{name: a, command: b, exitCode: -.inf}]\n");
	assert_int_equal(cfg->command_tests[0].exit_code, INT32_MIN);
	cst_config_free(cfg);
}

/* encoding/json matches keys to Go field names ignoring case, lets a later
 * duplicate win and decodes a repeated array into the entries it already
 * filled.  Checked with CST v1.15.0 (see the comments). */
static void test_json_as_encoding_json_reads_it(void **state)
{
	(void)state;
	char *path = write_temp(".json",
				"{\"SCHEMAVERSION\": \"2.0.0\",\n"
				" \"FileExistenceTests\": [\n"
				"   {\"NAME\": \"a\", \"Path\": \"/bin\", \"ShouldExist\": false},\n"
				"   {\"name\": \"b\", \"path\": \"/nope\", \"\u017fhouldExist\": false},\n"
				"   {\"name\": \"c\", \"path\": \"/bin\", \"isexecutableby\": \"other\", \"PERMISSIONS\": \"-rwsr-xr-x\"},\n"
				"   {\"name\": \"d\", \"uid\": 5, \"Uid\": 0, \"path\": \"/x\", \"path\": null}\n"
				" ],\n"
				" \"commandTests\": [\n"
				"   {\"name\": \"dup\", \"command\": \"sh\", \"args\": [\"-c\", \"exit 1\"], \"exitCode\": 1},\n"
				"   {\"name\": \"tty\", \"command\": \"sh\"}\n"
				" ],\n"
				" \"commandTests\": [\n"
				"   {\"args\": [\"-c\", \"exit 2\"], \"exitCode\": 2},\n"
				"   {\"name\": \"tty2\"},\n"
				"   {\"name\": \"third\", \"command\": \"true\"}\n"
				" ],\n"
				" \"metadataTest\": {\"cmd\": [\"sh\"], \"User\": \"root\"},\n"
				" \"metadataTest\": {\"Workdir\": \"/srv\", \"cmd\": null},\n"
				" \"containerRunOptions\": {\"tty\": true, \"Bogus\": 1},\n"
				" \"globalEnvVars\": [{\"KEY\": \"A\", \"Value\": \"1\"}]\n"
				"}\n");
	char *warnings = NULL;
	struct cst_config *cfg = load_ok(path, &warnings);
	const struct cst_file_existence_test *f = cfg->file_existence_tests;
	assert_int_equal(cfg->n_file_existence_tests, 4);
	assert_string_equal(f[0].name.s, "a");
	assert_string_equal(f[0].path.s, "/bin");
	assert_false(f[0].should_exist);
	/* U+017F (long s) folds to s in Go: CST passed b, /nope being absent. */
	assert_false(f[1].should_exist);
	assert_int_equal(f[2].is_executable_by, CST_EXEC_OTHER);
	assert_string_equal(f[2].permissions.s, "urwxr-xr-x");
	assert_true(f[3].has_uid);
	assert_int_equal(f[3].uid, 0);
	/* JSON null leaves a string as it was. */
	assert_string_equal(f[3].path.s, "/x");

	/* The second commandTests array decoded over the first: CST passed
	 * "dup" (sh -c "exit 2", exitCode 2) and "tty2" (sh, test -t 0). */
	assert_int_equal(cfg->n_command_tests, 3);
	const struct cst_command_test *c = cfg->command_tests;
	assert_string_equal(c[0].name.s, "dup");
	assert_string_equal(c[0].command.s, "sh");
	assert_string_equal(c[0].args.v[1].s, "exit 2");
	assert_int_equal(c[0].exit_code, 2);
	assert_string_equal(c[1].name.s, "tty2");
	assert_string_equal(c[1].command.s, "sh");
	assert_string_equal(c[2].command.s, "true");

	/* Objects merge; null empties a list. */
	assert_false(cfg->metadata.cmd.present);
	assert_string_equal(cfg->metadata.user.s, "root");
	assert_string_equal(cfg->metadata.workdir.s, "/srv");
	/* TTY is the Go field's name. */
	assert_true(cfg->run_opts.allocate_tty);
	assert_string_equal(cfg->global_env.v[0].key, "A");
	assert_string_equal(cfg->global_env.v[0].value, "1");
	assert_non_null(warnings);
	assert_non_null(strstr(warnings, "warning: unknown key 'Bogus' in containerRunOptions (ignored)"));
	free(warnings);
	cst_config_free(cfg);
	unlink(path);
	free(path);

	/* TTY is no YAML key; wrong JSON types still refuse the file (CST:
	 * "json: cannot unmarshal"), and so do numbers with a fraction or
	 * exponent for an int. */
	char *msg = fail_text(".yaml", "schemaVersion: 2.0.0\ncontainerRunOptions: {TTY: true}\n");
	assert_string_equal(msg, ":2:23: unknown key 'TTY' in containerRunOptions; did you mean 'allocateTty'?");
	free(msg);
	msg = fail_text(".json", "{\"schemaVersion\": \"2.0.0\", \"commandTests\": "
				 "[{\"name\": \"a\", \"command\": \"b\", \"exitCode\": 1.0, \"EXITCODE\": 1e2}]}");
	assert_string_equal(msg, ":1:87: exitCode: expected an integer, got a number 1.0\n"
				 ":1:104: EXITCODE: expected an integer, got a number 1e2");
	free(msg);
}

/* What CST refuses about env vars, and where (CST v1.15.0): a command
 * test's with an empty key or value (the test fails: "Please provide
 * non-empty keys and values"), a metadata env var's or label's empty key.
 * A global one with an empty key fails every test (the engine refuses
 * "=x"), so cst refuses the file; an empty global value is set as "". */
static void test_empty_env_keys_and_values(void **state)
{
	(void)state;
	struct cst_config *cfg = load_text(".yaml", "schemaVersion: 2.0.0\n"
						    "globalEnvVars: [{key: A}]\n"
						    "metadataTest:\n"
						    "  envVars: [{key: GREETING, value: ''}]\n"
						    "  labels: [{key: L}]\n"
						    "  unboundEnvVars: [{key: ''}, {value: x}]\n");
	assert_string_equal(cfg->global_env.v[0].value, "");
	assert_string_equal(cfg->metadata.env.v[0].value, "");
	assert_string_equal(cfg->metadata.labels.v[0].value, "");
	assert_int_equal(cfg->metadata.unbound_env_vars.n, 2);
	assert_string_equal(cfg->metadata.unbound_env_vars.v[1].s, "");
	cst_config_free(cfg);

	char *msg = fail_text(".yaml", "schemaVersion: 2.0.0\n"
				       "globalEnvVars: [{key: '', value: x}]\n"
				       "commandTests:\n"
				       "  - name: a\n"
				       "    command: b\n"
				       "    envVars: [{key: A, value: ''}, {key: B}, {value: C}]\n"
				       "metadataTest:\n"
				       "  envVars: [{value: x}]\n"
				       "  labels: [{key: '', value: x}]\n");
	assert_string_equal(msg, ":2:23: env var with an empty key\n"
				 ":6:31: env var with an empty value\n"
				 ":6:36: env var with an empty value\n"
				 ":6:46: env var with an empty key\n"
				 ":8:13: env var with an empty key\n"
				 ":9:18: label with an empty key");
	free(msg);

	/* 1.0.0 refuses the same in its command tests. */
	msg = fail_text(".yaml", "schemaVersion: 1.0.0\ncommandTests:\n"
				 "  - {name: a, command: [b], envVars: [{key: A}]}\n");
	assert_string_equal(msg, ":3:39: env var with an empty value");
	free(msg);
}

/* Strings hold NUL bytes as Go's do (CST v1.15.0 carried each into the
 * regex, the engine's request or the comparison: a path with one names
 * no file, an env value with one is refused by the runtime). */
static void test_nul_bytes_are_kept(void **state)
{
	(void)state;
	struct cst_config *cfg = load_text(".yaml", "schemaVersion: 2.0.0\n"
						    "globalEnvVars: [{key: G, value: \"g\\0h\"}]\n"
						    "commandTests:\n"
						    "  - name: \"a\\0b\"\n"
						    "    command: \"tr\\0ue\"\n"
						    "    args: [\"x\\0y\", \"\\0\"]\n"
						    "    envVars: [{key: A, value: \"x\\0y\"}]\n"
						    "    expectedOutput: [\"a\\0b\"]\n"
						    "fileExistenceTests:\n"
						    "  - {name: p, path: \"/bin\\0x\", permissions: \"drwxr-xr-x\\0\"}\n");
	assert_int_equal(cfg->global_env.v[0].value_len, 3);
	const struct cst_command_test *c = &cfg->command_tests[0];
	assert_int_equal(c->name.len, 3);
	assert_memory_equal(c->command.s, "tr\0ue", 6);
	assert_int_equal(c->command.len, 5);
	assert_int_equal(c->args.v[0].len, 3);
	assert_int_equal(c->args.v[1].len, 1);
	assert_true(cst_str_has_nul(c->args.v[1].s, c->args.v[1].len));
	assert_int_equal(c->env.v[0].value_len, 3);
	/* The regex holds the NUL: it matches a\0b, not a. */
	assert_int_equal(c->expected_output.v[0].len, 3);
	struct cst_error e = CST_ERROR_INIT;
	assert_int_equal(cst_regex_match(c->expected_output.v[0].re, "a\0b", 3, &e), 1);
	assert_int_equal(cst_regex_match(c->expected_output.v[0].re, "ab", 2, &e), 0);
	const struct cst_file_existence_test *f = &cfg->file_existence_tests[0];
	assert_int_equal(f->path.len, 6);
	/* No mode holds a NUL: the stored string can equal none. */
	assert_string_equal(f->permissions.s, "drwxr-xr-x\\x00");
	cst_config_free(cfg);

	cfg = load_text(".json", "{\"schemaVersion\": \"2.0.0\", \"commandTests\": "
				 "[{\"name\": \"a\", \"command\": \"x\\u0000y\"}]}");
	assert_int_equal(cfg->command_tests[0].command.len, 3);
	cst_config_free(cfg);

	/* A key or keyword with a NUL is no key or keyword. */
	char *msg = fail_text(".yaml", "schemaVersion: \"2.0.0\\0\"\n");
	assert_string_equal(msg, ":1:16: unsupported schemaVersion '2.0.0' (expected \"2.0.0\" or \"1.0.0\")");
	free(msg);
	msg = fail_text(".yaml", "schemaVersion: 2.0.0\nfileExistenceTests:\n"
				 "  - {name: a, path: /a, \"uid\\0\": 1, isExecutableBy: \"any\\0\"}\n");
	assert_string_equal(msg, ":3:25: unknown key 'uid\\0' in file existence test; did you mean 'uid'?\n"
				 ":3:53: isExecutableBy: expected one of any, owner, group, other, got 'any'");
	free(msg);
}

static void test_json_surrogates_fall_back_to_jansson(void **state)
{
	(void)state;
	/* libyaml refuses \u surrogate pairs that JSON allows. */
	struct cst_config *cfg = load_text(".json", "{\"schemaVersion\": \"2.0.0\", \"commandTests\": "
						    "[{\"name\": \"\\ud83d\\ude00\", \"command\": \"echo\"}]}");
	assert_string_equal(cfg->command_tests[0].name.s, "\xf0\x9f\x98\x80");
	assert_loc(cfg->command_tests[0].name.loc, 1, 1);
	cst_config_free(cfg);
}

static void test_other_validations(void **state)
{
	(void)state;
	char *msg = fail_text(".yaml", "schemaVersion: '2.0.0'\n"
				       "metadataTest:\n"
				       "  exposedPorts: ['8080', '']\n"
				       "  labels: [{value: x}]\n"
				       "containerRunOptions:\n"
				       "  bindMounts: [/only-host]\n");
	assert_string_equal(msg, ":3:26: exposedPorts: empty port\n"
				 ":4:12: label with an empty key\n"
				 ":6:16: bindMounts: '/only-host' is not HOST:CONTAINER or HOST:CONTAINER:OPTIONS");
	free(msg);

	msg = fail_text(".yaml", "schemaVersion: '1.0.0'\ncommandTests:\n  - name: a\n    command: []\n"
				 "  - name: b\n    command: x\n    args: [y]\n");
	assert_string_equal(msg, ":4:14: command test: 'command' must not be empty\n"
				 ":6:14: command: expected a list of strings, got 'x'\n"
				 ":7:5: key 'args' is not part of schemaVersion 1.0.0");
	free(msg);

	msg = fail_text(".yaml", "- just a list\n");
	assert_string_equal(msg, ":1:1: expected a map at the top level, got a list");
	free(msg);

	msg = fail_text(".yaml", "");
	assert_string_equal(msg, ":1:1: missing schemaVersion: the file is empty");
	free(msg);

	msg = fail_text(".json", "{\"schemaVersion\": 2}");
	assert_string_equal(msg, ":1:19: unsupported schemaVersion a number 2 (expected \"2.0.0\" or \"1.0.0\")");
	free(msg);

	msg = fail_text(".yaml", "schemaVersion: '2.0.0'\nfileExistenceTests: [{name: a, path: *nowhere}]\n");
	assert_string_equal(msg, ":2:38: unknown anchor (or an alias inside its own anchor) 'nowhere'");
	free(msg);

	/* An alias inside its own anchor would be a cycle. */
	msg = fail_text(".yaml", "schemaVersion: '2.0.0'\nx: &a [*a]\n");
	assert_string_equal(msg, ":2:8: unknown anchor (or an alias inside its own anchor) 'a'");
	free(msg);
}

static void test_error_and_size_caps(void **state)
{
	(void)state;
	/* 150 unknown keys: the first 100 errors, then a count. */
	char *text = strdup("schemaVersion: '2.0.0'\n");
	for (int i = 0; i < 150; i++) {
		char *more = NULL;
		assert_true(asprintf(&more, "%sunknown%d: x\n", text, i) > 0);
		free(text);
		text = more;
	}
	char *msg = fail_text(".yaml", text);
	assert_int_equal(count_lines(msg), 101);
	assert_non_null(strstr(msg, ":101:1: unknown key 'unknown99' in the config\n"));
	assert_non_null(strstr(msg, ": 50 more errors not shown"));
	assert_null(strstr(msg, "unknown100"));
	free(msg);
	free(text);

	/* A map far larger than any config object is refused as a whole. */
	text = strdup("schemaVersion: '2.0.0'\nmetadataTest:\n");
	for (int i = 0; i < 1001; i++) {
		char *more = NULL;
		assert_true(asprintf(&more, "%s  k%d: x\n", text, i) > 0);
		free(text);
		text = more;
	}
	msg = fail_text(".yaml", text);
	assert_string_equal(msg, ":3:3: metadataTest: more than 1000 keys");
	free(msg);
	free(text);
}

static int read_nested(const char *text, struct cst_error *err)
{
	struct cfg_doc doc = {0};
	int rc = cfg_read_yaml("nest.yaml", text, strlen(text), &doc, err);
	cfg_doc_release(&doc);
	return rc;
}

static char *nested(size_t depth)
{
	char *s = calloc(1, 2 * depth + 1);
	assert_non_null(s);
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	return s;
}

static void test_nesting_limit(void **state)
{
	(void)state;
	struct cst_error err = CST_ERROR_INIT;
	char *s = nested(10);
	assert_int_equal(read_nested(s, &err), 0);
	free(s);
	s = nested(CFG_MAX_DEPTH);
	assert_int_equal(read_nested(s, &err), 0);
	free(s);
	s = nested(CFG_MAX_DEPTH + 1);
	assert_int_equal(read_nested(s, &err), -1);
	assert_int_equal(err.code, CST_E_CONFIG);
	assert_string_equal(err.msg, "nest.yaml:1:65: nesting deeper than 64 levels");
	cst_error_clear(&err);
	free(s);

	/* Ten levels inside a real config load fine (the unknown key in JSON
	 * only warns). */
	char *warnings = NULL;
	char *path = write_temp(".json", "{\"schemaVersion\": \"2.0.0\", \"x\": [[[[[[[[[[1]]]]]]]]]]}");
	struct cst_config *cfg = load_ok(path, &warnings);
	assert_non_null(warnings);
	assert_non_null(strstr(warnings, ":1:28: warning: unknown key 'x' in the config (ignored)"));
	free(warnings);
	cst_config_free(cfg);
	unlink(path);
	free(path);
}

/* CST checks nothing for an empty isExecutableBy, as for none. */
static void test_empty_exec_by_is_no_check(void **state)
{
	(void)state;
	struct cst_config *cfg = load_text(".yaml", "schemaVersion: 2.0.0\n"
						    "fileExistenceTests:\n"
						    "  - {name: a, path: /a, isExecutableBy: \"\"}\n"
						    "  - {name: b, path: /b, isExecutableBy: owner}\n");
	assert_int_equal(cfg->n_file_existence_tests, 2);
	assert_int_equal(cfg->file_existence_tests[0].is_executable_by, CST_EXEC_UNSET);
	assert_int_equal(cfg->file_existence_tests[1].is_executable_by, CST_EXEC_OWNER);
	cst_config_free(cfg);
}

static void test_filemode_strings(void **state)
{
	(void)state;
	const char *good[] = {"-rw-r--r--", "drwxr-xr-x", "Lrwxrwxrwx", "urwxr-xr-x", "ugrwxr-xr-x", "dgrwxr-xr-x",
			      "dtrwxrwxrwx", "Dcrw-rw-rw-", "Drw-rw----", "prw-r--r--", "----------", "Srwxrwxrwx"};
	const char *bad[] = {"rwxr-xr-x", "-rwsr-xr-x", "gurwxr-xr-x", "ddrwxr-xr-x", "xrwxr-xr-x",
			     "-rw-r--r-", "--rw-r--r--", "drwxr-xr-t", "-wrxr-xr-x", ""};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!cfg_valid_filemode(good[i]))
			fail_msg("rejected %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cfg_valid_filemode(bad[i]))
			fail_msg("accepted %s", bad[i]);

	/* ls notation and the Go string for the same mode. */
	const char *ls[][2] = {
		{"-rwsr-xr-x", "urwxr-xr-x"}, {"drwxrwxrwt", "dtrwxrwxrwx"}, {"lrwxrwxrwx", "Lrwxrwxrwx"},
		{"crw-rw-rw-", "Dcrw-rw-rw-"}, {"brw-rw----", "Drw-rw----"}, {"srwxrwxrwx", "Srwxrwxrwx"},
		{"-rwSr-Sr-T", "ugtrw-r--r--"}, {"drwxr-sr-x", "dgrwxr-xr-x"}, {"crwsrwsrwt", "Dugctrwxrwxrwx"},
	};
	char buf[16];
	for (size_t i = 0; i < sizeof(ls) / sizeof(ls[0]); i++) {
		if (!cfg_ls_to_go_mode(ls[i][0], buf))
			fail_msg("not ls notation: %s", ls[i][0]);
		assert_string_equal(buf, ls[i][1]);
	}
	/* Already the same in both, or not ls notation. */
	const char *not_ls[] = {"-rwxr-xr-x", "drwxr-xr-x", "prw-r--r--", "urwxr-xr-x", "-rwxr-xr-s", "xyz", "-rwtr-xr-x"};
	for (size_t i = 0; i < sizeof(not_ls) / sizeof(not_ls[0]); i++)
		if (cfg_ls_to_go_mode(not_ls[i], buf))
			fail_msg("converted %s to %s", not_ls[i], buf);

	/* In a config: ls notation is stored as Go's string, which the check
	 * compares; anything else stays, fails its test (as in CST) and is
	 * warned about. */
	char *path = write_temp(".yaml", "schemaVersion: 2.0.0\nfileExistenceTests:\n"
					 "  - {name: a, path: /tmp, permissions: drwxrwxrwt}\n"
					 "  - {name: b, path: /bin, permissions: xyz}\n"
					 "  - {name: c, path: /bin, permissions: Lrwxrwxrwx}\n");
	char *warnings = NULL;
	struct cst_config *cfg = load_ok(path, &warnings);
	assert_string_equal(cfg->file_existence_tests[0].permissions.s, "dtrwxrwxrwx");
	assert_string_equal(cfg->file_existence_tests[1].permissions.s, "xyz");
	assert_string_equal(cfg->file_existence_tests[2].permissions.s, "Lrwxrwxrwx");
	assert_non_null(warnings);
	assert_non_null(strstr(warnings, ":4:40: warning: permissions: 'xyz' is not a file mode"));
	assert_null(strchr(warnings, '\n'));
	free(warnings);
	cst_config_free(cfg);
	unlink(path);
	free(path);
}

static void test_suggestions(void **state)
{
	(void)state;
	const char *names[] = {"name", "path", "shouldExist", "permissions", "uid", "gid", "isExecutableBy"};
	size_t n = sizeof(names) / sizeof(names[0]);
	assert_string_equal(cst_suggest("shouldExists", names, n), "shouldExist");
	assert_string_equal(cst_suggest("ShouldExist", names, n), "shouldExist");
	assert_string_equal(cst_suggest("isExecutable", names, n), "isExecutableBy");
	assert_string_equal(cst_suggest("pth", names, n), "path");
	assert_null(cst_suggest("expectedOutput", names, n));
	assert_null(cst_suggest("zzzzzz", names, n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_yaml_every_field),
		cmocka_unit_test(test_v2_json_every_field),
		cmocka_unit_test(test_v1_yaml_every_field),
		cmocka_unit_test(test_v1_validation),
		cmocka_unit_test(test_yml_extension_and_defaults),
		cmocka_unit_test(test_anchors_and_merge),
		cmocka_unit_test(test_policy_extensions),
		cmocka_unit_test(test_invalid_fixtures),
		cmocka_unit_test(test_json_wrong_types),
		cmocka_unit_test(test_all_errors_reported_in_file_order),
		cmocka_unit_test(test_json_unknown_key_is_a_warning),
		cmocka_unit_test(test_bad_extension_and_missing_file),
		cmocka_unit_test(test_absent_null_and_empty),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_nul_bytes_are_kept),
		cmocka_unit_test(test_json_surrogates_fall_back_to_jansson),
		cmocka_unit_test(test_yaml_scalars_as_cst_reads_them),
		cmocka_unit_test(test_json_as_encoding_json_reads_it),
		cmocka_unit_test(test_empty_env_keys_and_values),
		cmocka_unit_test(test_other_validations),
		cmocka_unit_test(test_error_and_size_caps),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_filemode_strings),
		cmocka_unit_test(test_empty_exec_by_is_no_check),
		cmocka_unit_test(test_suggestions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
