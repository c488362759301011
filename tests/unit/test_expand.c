/* $VAR expansion with Go os.Expand's rules, as CST applies it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_and_braced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dollar_edge_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_entry_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_replaces, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
