/* $VAR expansion with Go os.Expand's rules, as CST applies it, and the
 * env a command test's job gets: what CST's docker driver commits into the
 * image before the test and what it sends to the test's container. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cst/command.h"
#include "cst/expand.h"

static struct cst_env_list env;

static int setup(void **state)
{
	(void)state;
	memset(&env, 0, sizeof(env));
	assert_int_equal(cst_env_set(&env, "HOME", "/root"), 0);
	assert_int_equal(cst_env_set(&env, "PATH", "/usr/bin:/bin"), 0);
	assert_int_equal(cst_env_set(&env, "A_1", "x"), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cst_env_release(&env);
	return 0;
}

static void expect(const char *in, const char *want)
{
	char *got = cst_expand(in, &env);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_plain_and_braced(void **state)
{
	(void)state;
	expect("$HOME/bin", "/root/bin");
	expect("${HOME}bin", "/rootbin");
	expect("echo $PATH", "echo /usr/bin:/bin");
	expect("$A_1-y", "x-y");
	expect("no vars", "no vars");
}

static void test_unknown_is_empty(void **state)
{
	(void)state;
	expect("[$NOPE]", "[]");
	expect("[${NOPE}]", "[]");
}

static void test_dollar_edge_cases(void **state)
{
	(void)state;
	expect("cost $", "cost $");        /* a lone trailing $ stays */
	expect("a $ b", "a $ b");          /* $ not followed by a name stays */
	expect("pid $$", "pid ");          /* special one-character names are looked up */
	expect("${}x", "x");               /* bad syntax is eaten, as Go does */
	expect("${HOME", "HOME");          /* unterminated: "${" eaten */
	expect("$1x", "x");
}

static void test_last_entry_wins(void **state)
{
	(void)state;
	struct cst_env_list e = {0};
	char a[] = "K=1", b[] = "K=2";
	char *v[] = {a, b};
	e.v = v;
	e.n = 2;
	assert_string_equal(cst_env_get(&e, "K", 1), "2");
	assert_null(cst_env_get(&e, "KK", 2));
}

static void test_set_replaces(void **state)
{
	(void)state;
	assert_int_equal(cst_env_set(&env, "HOME", "/home/u"), 0);
	expect("$HOME", "/home/u");
	assert_int_equal(env.n, 3);
}

static void test_no_env_no_expansion(void **state)
{
	(void)state;
	char *got = cst_expand("$HOME/${X}", NULL);
	assert_string_equal(got, "$HOME/${X}");
	free(got);
}

/* A config and test to build jobs from; the image env is `env`. */
struct fixture {
	struct cst_config cfg;
	struct cst_command_test t;
	struct cst_kv globals[1];
	struct cst_kv test_env[2];
	struct cst_str args[2];
	struct cst_str setup_argv[3];
	struct cst_strv setup[1];
	struct cst_env_list run_env;
	struct cst_env_list g;
	struct cst_command_job job;
};

static void fixture_init(struct fixture *f, const char *schema, bool with_setup)
{
	memset(f, 0, sizeof(*f));
	f->cfg.schema_version = (char *)schema;
	f->globals[0] = (struct cst_kv){.key = (char *)"G", .value = (char *)"g-$A_1"};
	f->cfg.global_env = (struct cst_kvv){.v = f->globals, .n = 1, .present = true};
	f->test_env[0] = (struct cst_kv){.key = (char *)"MINE", .value = (char *)"m-$HOME"};
	f->test_env[1] = (struct cst_kv){.key = (char *)"SEES_G", .value = (char *)"[$G]"};
	f->t.env = (struct cst_kvv){.v = f->test_env, .n = 2, .present = true};
	f->t.command.s = (char *)"sh";
	f->args[0].s = (char *)"-c";
	f->args[1].s = (char *)"$G|$MINE|$SEES_G|$HOME";
	f->t.args = (struct cst_strv){.v = f->args, .n = 2, .present = true};
	if (with_setup) {
		f->setup_argv[0].s = (char *)"sh";
		f->setup_argv[1].s = (char *)"-c";
		f->setup_argv[2].s = (char *)"echo $HOME > /x";
		f->setup[0] = (struct cst_strv){.v = f->setup_argv, .n = 3, .present = true};
		f->t.setup = f->setup;
		f->t.n_setup = 1;
	}
	assert_int_equal(cst_env_set(&f->run_env, "FROM_FILE", "f"), 0);
	/* Config strings carry their length (they may hold NUL bytes). */
	struct cst_str *strs[] = {&f->t.command, &f->args[0], &f->args[1], &f->setup_argv[0], &f->setup_argv[1],
				  &f->setup_argv[2]};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		strs[i]->len = strs[i]->s ? strlen(strs[i]->s) : 0;
	struct cst_kv *kvs[] = {&f->globals[0], &f->test_env[0], &f->test_env[1]};
	for (size_t i = 0; i < sizeof(kvs) / sizeof(kvs[0]); i++) {
		kvs[i]->key_len = strlen(kvs[i]->key);
		kvs[i]->value_len = strlen(kvs[i]->value);
	}
}

static void fixture_build(struct fixture *f)
{
	assert_int_equal(cst_command_globals(&f->cfg, &env, &f->g), 0);
	assert_int_equal(cst_command_job_init(&f->job, &f->cfg, &f->t, &env, &f->g, &f->run_env), 0);
}

static void fixture_release(struct fixture *f)
{
	cst_command_job_release(&f->job);
	cst_env_release(&f->g);
	cst_env_release(&f->run_env);
}

static void expect_env(const struct cst_env_list *e, const char *key, const char *want)
{
	const char *got = cst_env_get(e, key, strlen(key));
	if (!want && got)
		fail_msg("%s should be unset, is [%s]", key, got);
	if (want && (!got || strcmp(got, want) != 0))
		fail_msg("%s: got [%s], want [%s]", key, got ? got : "(unset)", want);
}

static void test_job_v2_without_setup(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f, "2.0.0", false);
	fixture_build(&f);
	/* Globals are committed expanded and take part in expansion; the
	 * test's envVars reach the process as given and do not. */
	assert_int_equal(f.job.argc, 3);
	assert_string_equal(f.job.argv[2], "g-x|||/root");
	expect_env(&f.job.image_env, "G", "g-x");
	expect_env(&f.job.image_env, "MINE", NULL);
	expect_env(&f.job.env, "MINE", "m-$HOME");
	expect_env(&f.job.env, "SEES_G", "[$G]");
	expect_env(&f.job.env, "FROM_FILE", NULL);
	fixture_release(&f);
}

static void test_job_v2_with_setup(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f, "2.0.0", true);
	fixture_build(&f);
	/* Setup commits the test's envVars expanded against the image env
	 * with the globals, so they take part in expansion; setup commands
	 * themselves are not expanded. */
	assert_string_equal(f.job.argv[2], "g-x|m-/root|[g-x]|/root");
	expect_env(&f.job.image_env, "G", "g-x");
	expect_env(&f.job.image_env, "MINE", "m-/root");
	expect_env(&f.job.image_env, "SEES_G", "[g-x]");
	expect_env(&f.job.env, "MINE", "m-$HOME");
	assert_int_equal(f.job.n_setup, 1);
	assert_string_equal(f.job.setup[0][2], "echo $HOME > /x");
	assert_null(f.job.setup[0][3]);
	fixture_release(&f);
}

static void test_job_v2_run_options(void **state)
{
	(void)state;
	struct fixture f;
	/* Given but all defaults: not set, as CST's IsSet() says. */
	fixture_init(&f, "2.0.0", true);
	f.cfg.run_opts.present = true;
	assert_false(cst_run_options_set(&f.cfg.run_opts));
	fixture_build(&f);
	expect_env(&f.job.env, "MINE", "m-$HOME");
	expect_env(&f.job.env, "FROM_FILE", NULL);
	fixture_release(&f);

	/* Set, with setup: the file's variables over the committed image,
	 * which holds the test's envVars expanded already. */
	fixture_init(&f, "2.0.0", true);
	f.cfg.run_opts.present = true;
	f.cfg.run_opts.privileged = true;
	assert_true(cst_run_options_set(&f.cfg.run_opts));
	fixture_build(&f);
	expect_env(&f.job.env, "FROM_FILE", "f");
	expect_env(&f.job.env, "MINE", NULL);
	expect_env(&f.job.image_env, "MINE", "m-/root");
	fixture_release(&f);

	/* Set, without setup: cst keeps the test's envVars (CST drops them). */
	fixture_init(&f, "2.0.0", false);
	f.cfg.run_opts.present = true;
	f.cfg.run_opts.user.s = (char *)"1000";
	fixture_build(&f);
	expect_env(&f.job.env, "FROM_FILE", "f");
	expect_env(&f.job.env, "MINE", "m-$HOME");
	fixture_release(&f);
}

static void test_job_v1(void **state)
{
	(void)state;
	struct fixture f;
	/* No setup: globals reach neither the process nor expansion. */
	fixture_init(&f, "1.0.0", false);
	fixture_build(&f);
	assert_string_equal(f.job.argv[2], "|||/root");
	assert_int_equal(f.job.image_env.n, 0);
	expect_env(&f.job.env, "G", NULL);
	expect_env(&f.job.env, "MINE", "m-$HOME");
	fixture_release(&f);

	/* Setup: globals and then the test's envVars, all expanded against
	 * the image's own env (so $G in a test's value is empty). */
	fixture_init(&f, "1.0.0", true);
	fixture_build(&f);
	assert_string_equal(f.job.argv[2], "g-x|m-/root|[]|/root");
	expect_env(&f.job.image_env, "G", "g-x");
	expect_env(&f.job.image_env, "SEES_G", "[]");
	expect_env(&f.job.env, "MINE", "m-$HOME");
	fixture_release(&f);
}

/* A config string may hold NUL bytes: they stay, and names around them
 * expand; a variable holding one goes to the engine as given, after the
 * rest, for it to refuse as it refuses CST's. */
static void test_nul_bytes_kept(void **state)
{
	(void)state;
	size_t len = 99;
	char *got = cst_expandn("$HOME\0$A_1\0", 11, &env, &len);
	assert_non_null(got);
	assert_int_equal(len, 8);
	assert_memory_equal(got, "/root\0x\0", 8);
	free(got);
	got = cst_expandn("", 0, &env, &len);
	assert_non_null(got);
	assert_int_equal(len, 0);
	free(got);

	struct fixture f;
	fixture_init(&f, "2.0.0", true);
	f.args[1] = (struct cst_str){.s = (char *)"$HOME\0x", .len = 7};
	f.test_env[0] = (struct cst_kv){.key = (char *)"N", .key_len = 1, .value = (char *)"a\0b", .value_len = 3};
	fixture_build(&f);
	assert_int_equal(f.job.argv_len[2], 7);
	assert_memory_equal(f.job.argv[2], "/root\0x", 7);
	assert_int_equal(f.job.setup_len[0][2], strlen("echo $HOME > /x"));
	expect_env(&f.job.env, "N", NULL);
	assert_int_equal(f.job.n_env_nul, 1);
	assert_int_equal(f.job.env_nul_len[0], 5);
	assert_memory_equal(f.job.env_nul[0], "N=a\0b", 5);
	fixture_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_and_braced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dollar_edge_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_entry_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_replaces, setup, teardown),
		cmocka_unit_test(test_no_env_no_expansion),
		cmocka_unit_test_setup_teardown(test_job_v2_without_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_v2_with_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_v2_run_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_bytes_kept, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
