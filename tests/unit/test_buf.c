#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cst/buf.h"
#include "cst/error.h"

static void test_append_and_detach(void **state)
{
	(void)state;
	struct cst_buf b;
	cst_buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(cst_buf_append(&b, "abc", 3), 0);
	assert_int_equal(b.len, 3000);
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(cst_buf_printf(&b, "%d", 42), 0);
	size_t len;
	char *s = cst_buf_detach(&b, &len);
	assert_int_equal(len, 3002);
	assert_memory_equal(s + 3000, "42", 3);
	assert_null(b.data);
	free(s);
}

static void test_ceiling_truncates(void **state)
{
	(void)state;
	struct cst_buf b;
	cst_buf_init(&b, 10);
	assert_int_equal(cst_buf_append(&b, "0123456", 7), 0);
	assert_false(b.truncated);
	assert_int_equal(cst_buf_append(&b, "789abc", 6), 0);
	assert_true(b.truncated);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");
	assert_int_equal(cst_buf_append(&b, "more", 4), 0);
	assert_int_equal(b.len, 10);
	cst_buf_release(&b);
}

static void test_empty_detach_is_string(void **state)
{
	(void)state;
	struct cst_buf b = CST_BUF_INIT;
	char *s = cst_buf_detach(&b, NULL);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void test_error_append_and_wrap(void **state)
{
	(void)state;
	struct cst_error err = CST_ERROR_INIT;
	struct cst_loc loc = {"t.yaml", 3, 5};
	assert_int_equal(cst_error_at(&err, CST_E_CONFIG, loc, "bad %s", "key"), -1);
	assert_string_equal(err.msg, "t.yaml:3:5: bad key");
	cst_error_append(&err, CST_E_CONFIG, "t.yaml:4:1: second");
	assert_string_equal(err.msg, "t.yaml:3:5: bad key\nt.yaml:4:1: second");
	cst_error_wrap(&err, "loading %s", "t.yaml");
	assert_int_equal(strncmp(err.msg, "loading t.yaml: t.yaml:3:5", 26), 0);
	assert_int_equal(err.code, CST_E_CONFIG);
	cst_error_clear(&err);
	assert_null(err.msg);
	assert_int_equal(err.code, CST_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_detach),
		cmocka_unit_test(test_ceiling_truncates),
		cmocka_unit_test(test_empty_detach_is_string),
		cmocka_unit_test(test_error_append_and_wrap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
