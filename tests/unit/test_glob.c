#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cst/error.h"
#include "cst/glob.h"
#include "cst/sha256.h"

static bool matches(const char *pattern, const char *path)
{
	struct cst_error err = CST_ERROR_INIT;
	struct cst_glob *g = cst_glob_compile(pattern, &err);
	assert_non_null(g);
	bool m = cst_glob_match(g, path, strlen(path));
	cst_glob_free(g);
	return m;
}

static void test_components(void **state)
{
	(void)state;
	assert_true(matches("/etc/*.conf", "/etc/a.conf"));
	assert_false(matches("/etc/*.conf", "/etc/x/a.conf"));
	assert_true(matches("/etc/?", "/etc/a"));
	assert_false(matches("/etc/?", "/etc/ab"));
	assert_true(matches("/etc/[a-c]x", "/etc/bx"));
	assert_false(matches("/etc/[!a-c]x", "/etc/bx"));
	assert_true(matches("/etc/[^a-c]x", "/etc/dx"));
	assert_false(matches("/etc[/]x", "/etc/x"));
	assert_true(matches("/a\\*b", "/a*b"));
	assert_false(matches("/a\\*b", "/axb"));
	assert_true(matches("/var/lib/apt/lists/*_Packages", "/var/lib/apt/lists/deb_main_Packages"));
	assert_true(matches("/etc/", "/etc"));
}

static void test_double_star(void **state)
{
	(void)state;
	assert_true(matches("/**", "/a"));
	assert_true(matches("/**", "/a/b/c"));
	assert_true(matches("/proc/**", "/proc/1/status"));
	assert_false(matches("/proc/**", "/proc"));
	assert_false(matches("/proc/**", "/process"));
	assert_true(matches("/a/**/b", "/a/b"));
	assert_true(matches("/a/**/b", "/a/x/y/b"));
	assert_false(matches("/a/**/b", "/a/xb"));
	assert_true(matches("**/*.pem", "/key.pem"));
	assert_true(matches("**/*.pem", "/etc/ssl/private/key.pem"));
	assert_true(matches("**/*.pem", "/root/.hidden.pem"));
	assert_false(matches("**/*.pem", "/etc/key.pem.bak"));
	/* Relative patterns match at any depth. */
	assert_true(matches("id_rsa", "/root/.ssh/id_rsa"));
	assert_true(matches(".git", "/src/app/.git"));
	assert_false(matches(".git", "/src/app/.gitignore"));
}

/* A pattern that backtracking matchers take exponential time on: the
 * automaton answers in a step per byte. */
static void test_hostile(void **state)
{
	(void)state;
	char pattern[200], path[400];
	size_t n = 0;
	pattern[n++] = '/';
	for (int i = 0; i < 40; i++) {
		pattern[n++] = '*';
		pattern[n++] = 'a';
	}
	pattern[n++] = 'b';
	pattern[n] = '\0';
	path[0] = '/';
	memset(path + 1, 'a', 300);
	path[301] = '\0';
	assert_false(matches(pattern, path));
	/* The longest pattern accepted, a relative one: its states span
	 * many words. */
	char longest[CST_GLOB_MAX + 1];
	for (size_t i = 0; i < CST_GLOB_MAX; i += 2) {
		longest[i] = 'a';
		longest[i + 1] = '*';
	}
	longest[CST_GLOB_MAX] = '\0';
	char apath[CST_GLOB_MAX + 64];
	memcpy(apath, "/x/", 3);
	memset(apath + 3, 'a', CST_GLOB_MAX);
	apath[CST_GLOB_MAX + 3] = '\0';
	assert_true(matches(longest, apath));
	/* Too few bytes in the last component now: "*" stays in one. */
	apath[CST_GLOB_MAX - 100] = '/';
	assert_false(matches(longest, apath));
	char deep[] = "/**/**/**/**/**/**/**/**/**/**/**/**/**/x";
	assert_false(matches(deep, "/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/y"));
	assert_true(matches(deep, "/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/x"));
}

static void test_refused(void **state)
{
	(void)state;
	struct cst_error err = CST_ERROR_INIT;
	assert_null(cst_glob_compile("/etc/[abc", &err));
	assert_int_equal(err.code, CST_E_CONFIG);
	assert_non_null(strstr(err.msg, "not closed"));
	cst_error_clear(&err);
	assert_null(cst_glob_compile("", &err));
	cst_error_clear(&err);
	char *big = malloc(CST_GLOB_MAX + 2);
	memset(big, 'a', CST_GLOB_MAX + 1);
	big[CST_GLOB_MAX + 1] = '\0';
	assert_null(cst_glob_compile(big, &err));
	cst_error_clear(&err);
	free(big);
}

static void test_sha256(void **state)
{
	(void)state;
	char hex[65];
	cst_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	cst_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	cst_sha256_hex(two, strlen(two), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *million = malloc(1000000);
	memset(million, 'a', 1000000);
	cst_sha256_hex(million, 1000000, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_components), cmocka_unit_test(test_double_star), cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_refused), cmocka_unit_test(test_sha256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
