#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "cst/buf.h"
#include "cst/error.h"
#include "cst/result.h"

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

/* Two buffers draw on one budget: the second gets what the first left,
 * says so, and what the first drops comes back. */
static void test_budget_shared(void **state)
{
	(void)state;
	struct cst_budget bg;
	cst_budget_init(&bg, 10);
	struct cst_buf a, b;
	cst_buf_init(&a, 8);
	cst_buf_init(&b, 8);
	a.budget = b.budget = &bg;
	assert_int_equal(cst_buf_append(&a, "123456", 6), 0);
	assert_false(a.truncated);
	assert_int_equal(cst_buf_append(&b, "abcdef", 6), 0);
	assert_int_equal(b.len, 4);
	assert_true(b.truncated);
	assert_true(b.over_budget);
	assert_string_equal(b.data, "abcd");
	/* the buffer's own ceiling is not the budget */
	assert_int_equal(cst_buf_append(&a, "789", 3), 0);
	assert_int_equal(a.len, 6);
	assert_true(a.over_budget);
	cst_buf_reset(&a);
	assert_int_equal(atomic_load(&bg.left), 6);
	assert_int_equal(cst_buf_append(&a, "xyzxy", 5), 0);
	assert_int_equal(a.len, 5);
	assert_false(a.truncated);
	assert_int_equal(atomic_load(&bg.left), 1);
	/* handed on, its bytes stay spent; released, they come back */
	size_t n;
	free(cst_buf_detach(&a, &n));
	assert_int_equal(n, 5);
	cst_buf_release(&b);
	assert_int_equal(atomic_load(&bg.left), 5);
}

struct drawer {
	struct cst_budget *bg;
	size_t got;
};

static void *draw(void *ud)
{
	struct drawer *dr = ud;
	struct cst_buf b;
	cst_buf_init(&b, 0);
	b.budget = dr->bg;
	for (int i = 0; i < 100000; i++)
		if (cst_buf_append(&b, "0123456789", 10) < 0)
			break;
	dr->got = b.len;
	free(cst_buf_detach(&b, NULL));
	return NULL;
}

/* Threads drawing at once never take more than the budget between them. */
static void test_budget_threads(void **state)
{
	(void)state;
	struct cst_budget bg;
	cst_budget_init(&bg, 1000003);
	struct drawer dr[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		dr[i] = (struct drawer){.bg = &bg};
		assert_int_equal(pthread_create(&t[i], NULL, draw, &dr[i]), 0);
	}
	size_t total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += dr[i].got;
	}
	assert_int_equal(total, 1000003);
	assert_int_equal(atomic_load(&bg.left), 0);
}

/* A report spends at most the limit on an output, whatever its bytes. */
static void test_report_cut(void **state)
{
	(void)state;
	assert_int_equal(cst_report_cut("hello", 5, 5), 5);
	assert_int_equal(cst_report_cut("hello", 5, 4), 4);
	/* NUL and invalid UTF-8: six bytes each in JSON */
	assert_int_equal(cst_report_cut("a\0b", 3, 7), 2);
	assert_int_equal(cst_report_cut("\xff\xff", 2, 11), 1);
	/* a newline is two, a valid character its own length */
	assert_int_equal(cst_report_cut("a\nb", 3, 3), 2);
	assert_int_equal(cst_report_cut("\xc3\xa9\xc3\xa9", 4, 3), 2);

	struct cst_buf out, err;
	cst_buf_init(&out, 0);
	cst_buf_init(&err, 0);
	char zeros[1000] = {0};
	assert_int_equal(cst_buf_append(&out, zeros, sizeof(zeros)), 0);
	assert_int_equal(cst_buf_append(&err, "fine", 4), 0);
	struct cst_result r;
	assert_int_equal(cst_result_init(&r, "t"), 0);
	assert_int_equal(cst_result_take_output(&r, &out, &err, 600), 0);
	assert_null(out.data);
	assert_int_equal(r.err_len, 4);
	assert_memory_equal(r.out, zeros, 100);
	assert_string_equal(r.out + 100, "\n[cst: the report shows 100 of the 1000 bytes of this output]\n");
	cst_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_detach),
		cmocka_unit_test(test_ceiling_truncates),
		cmocka_unit_test(test_empty_detach_is_string),
		cmocka_unit_test(test_error_append_and_wrap),
		cmocka_unit_test(test_budget_shared),
		cmocka_unit_test(test_budget_threads),
		cmocka_unit_test(test_report_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
