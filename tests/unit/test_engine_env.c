/* containerRunOptions.envFile read as CST reads it (godotenv 1.5.1).  Each
 * expectation here is what godotenv's UnmarshalBytes gives for the same
 * text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cst/docker.h"

static struct cst_env_list parse_ok(const char *text, size_t len)
{
	struct cst_env_list env = {0};
	struct cst_error err = CST_ERROR_INIT;
	if (cst_env_file_parse(text, len, &env, &err) < 0)
		fail_msg("refused: %s", err.msg);
	return env;
}

static void expect_var(const struct cst_env_list *env, const char *key, const char *want)
{
	const char *got = cst_env_get(env, key, strlen(key));
	if (!got)
		fail_msg("%s is not set", key);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got [%s], want [%s]", key, got, want);
}

static void expect_refused(const char *text, const char *why)
{
	struct cst_env_list env = {0};
	struct cst_error err = CST_ERROR_INIT;
	if (cst_env_file_parse(text, strlen(text), &env, &err) == 0)
		fail_msg("accepted: [%s]", text);
	if (!err.msg || !strstr(err.msg, why))
		fail_msg("[%s]: message [%s] lacks [%s]", text, err.msg ? err.msg : "", why);
	cst_error_clear(&err);
	cst_env_release(&env);
}

static void test_statements(void **state)
{
	(void)state;
	const char *text = "export A=exported\n"
			   "  export   I = spaced  \n"
			   "exportX=no export\n"
			   "export\tT=tab\n"
			   "E: colon\n"
			   "\n"
			   "  # an indented comment\n"
			   "\t\n"
			   "A.B_1=dotted\n"
			   "K V=blank inside the key\n"
			   "CR=1\r\n"
			   "OLD=mac\rNEXT=after\r";
	struct cst_env_list env = parse_ok(text, strlen(text));
	expect_var(&env, "A", "exported");
	expect_var(&env, "I", "spaced");
	expect_var(&env, "exportX", "no export");
	expect_var(&env, "T", "tab");
	expect_var(&env, "E", "colon");
	expect_var(&env, "A.B_1", "dotted");
	expect_var(&env, "K V", "blank inside the key");
	expect_var(&env, "CR", "1");
	expect_var(&env, "OLD", "mac");
	expect_var(&env, "NEXT", "after");
	assert_int_equal(env.n, 10);
	cst_env_release(&env);
}

static void test_unquoted_values(void **state)
{
	(void)state;
	const char *text = "D=unq # comment\n"
			   "F=x#y\n"
			   "G=a #b #c\n"
			   "H=#not a comment\n"
			   "J= #x\n"
			   "L=x\t#y\n"
			   "M=a=b:c\n"
			   "N=x\\ny\n"
			   "EMPTY=\n"
			   "BAD=\xff\xfe\n"
			   "NBSP=1 \xc2\xa0#c\n"
			   "LAST=no newline";
	struct cst_env_list env = parse_ok(text, strlen(text));
	expect_var(&env, "D", "unq");
	expect_var(&env, "F", "x#y");
	/* The last " #" starts the comment. */
	expect_var(&env, "G", "a #b");
	expect_var(&env, "H", "#not a comment");
	expect_var(&env, "J", "#x");
	expect_var(&env, "L", "x");
	expect_var(&env, "M", "a=b:c");
	expect_var(&env, "N", "x\\ny");
	expect_var(&env, "EMPTY", "");
	/* Unquoted values go through Go's []rune: invalid UTF-8 is U+FFFD. */
	expect_var(&env, "BAD", "\xef\xbf\xbd\xef\xbf\xbd");
	expect_var(&env, "NBSP", "1");
	expect_var(&env, "LAST", "no newline");
	cst_env_release(&env);
}

static void test_quoted_values(void **state)
{
	(void)state;
	const char *text = "B=\"double \\\"q\\\" \\n nl\"\n"
			   "C='single $A \\n'\n"
			   "J=\"multi\nline\"\n"
			   "S='multi\nsingle'\n"
			   "ESC=\"\\\\n|\\$X|a\\\\b\"\n"
			   "R=\"x\\ry\\tz\"\n"
			   "TRAIL=\"abc\\\"\"\n"
			   "Q=\"x\" NEXT=2\n"
			   "QC=\"x\" # comment\n"
			   "E1=\"\"\n"
			   "E2=''\n"
			   "RAW='\xfe'\n";
	struct cst_env_list env = parse_ok(text, strlen(text));
	expect_var(&env, "B", "double \"q\" \n nl");
	expect_var(&env, "C", "single $A \\n");
	expect_var(&env, "J", "multi\nline");
	expect_var(&env, "S", "multi\nsingle");
	expect_var(&env, "ESC", "\\n|$X|a\\b");
	/* \t is no escape godotenv knows: the backslash just goes. */
	expect_var(&env, "R", "x\rytz");
	/* Every quote at the end goes, the escaped one too. */
	expect_var(&env, "TRAIL", "abc\\");
	expect_var(&env, "Q", "x");
	expect_var(&env, "NEXT", "2");
	expect_var(&env, "QC", "x");
	expect_var(&env, "E1", "");
	expect_var(&env, "E2", "");
	expect_var(&env, "RAW", "\xfe");
	cst_env_release(&env);
}

static void test_expansion(void **state)
{
	(void)state;
	const char *text = "A=first\n"
			   "H=$A-${A}-$(A)-\\$A-$lower-${}-$\n"
			   "DQ=\"${A}$A|\\${A}\"\n"
			   "SQ='$A'\n"
			   "UNSET=[$NOPE]\n"
			   "SELF=$SELF+x\n"
			   "A=second\n"
			   "AFTER=$A\n"
			   "BS=a\\$b\n";
	struct cst_env_list env = parse_ok(text, strlen(text));
	/* Earlier values of the file only; $(A) loses "$(A" only; lower-case
	 * names are never expanded. */
	expect_var(&env, "H", "first-first-first)-$A-$lower-${}-$");
	expect_var(&env, "DQ", "firstfirst|${A}");
	expect_var(&env, "SQ", "$A");
	expect_var(&env, "UNSET", "[]");
	expect_var(&env, "SELF", "+x");
	expect_var(&env, "A", "second");
	expect_var(&env, "AFTER", "second");
	expect_var(&env, "BS", "a$b");
	cst_env_release(&env);
}

static void test_keys_godotenv_gives_empty(void **state)
{
	(void)state;
	/* No separator at the very end: an empty key with the text as value. */
	struct cst_env_list env = parse_ok("A=1\nFOO", 7);
	expect_var(&env, "", "FOO");
	cst_env_release(&env);
	env = parse_ok("=value\n:other\n", 14);
	expect_var(&env, "", "other");
	cst_env_release(&env);
	env = parse_ok("# only a comment", 16);
	assert_int_equal(env.n, 0);
	cst_env_release(&env);
	env = parse_ok("", 0);
	assert_int_equal(env.n, 0);
	cst_env_release(&env);
}

static void test_refused(void **state)
{
	(void)state;
	/* A bare name (docker's pass-through form) is not godotenv's. */
	expect_refused("OK=1\nFOO\nBAR=2\n", "unexpected character");
	expect_refused("export FOO\n", "unexpected character");
	expect_refused("export\nA=1\n", "unexpected character");
	expect_refused("export ", "zero length string");
	expect_refused("A=\"unterminated\nB=2\n", "unterminated quoted value");
	expect_refused("A='x'y\n", "unexpected character");
	/* A key is read byte by byte as Latin-1: UTF-8 and a BOM fail. */
	expect_refused("\xc3\xa9=1\n", "unexpected character");
	expect_refused("\xef\xbb\xbf" "A=1\n", "unexpected character");
	expect_refused("'A'=1\n", "unexpected character");
}

static char *write_file(const char *text)
{
	char *path = strdup("/tmp/cst-env-fileXXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_read_drops_empty(void **state)
{
	(void)state;
	char *path = write_file("A=1\nEMPTY=\nQ=\"\"\n=novalue\nB=$EMPTY\nC=2\n");
	struct cst_env_list env = {0};
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_env_file_read(path, &env, &err), 0);
	expect_var(&env, "A", "1");
	expect_var(&env, "C", "2");
	assert_null(cst_env_get(&env, "EMPTY", 5));
	assert_null(cst_env_get(&env, "Q", 1));
	assert_null(cst_env_get(&env, "B", 1));
	assert_null(cst_env_get(&env, "", 0));
	assert_int_equal(env.n, 2);
	cst_env_release(&env);
	unlink(path);
	free(path);

	/* A refused file adds nothing at all, as CST ignores it whole. */
	path = write_file("GOOD=1\nexport BAD\n");
	assert_int_equal(cst_env_file_read(path, &env, &err), -1);
	assert_int_equal(env.n, 0);
	cst_error_clear(&err);
	unlink(path);
	free(path);

	assert_int_equal(cst_env_file_read("/nonexistent/cst.env", &env, &err), -1);
	assert_int_equal(err.code, CST_E_IO);
	assert_non_null(strstr(err.msg, "/nonexistent/cst.env"));
	cst_error_clear(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_unquoted_values),
		cmocka_unit_test(test_quoted_values),
		cmocka_unit_test(test_expansion),
		cmocka_unit_test(test_keys_godotenv_gives_empty),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_read_drops_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
