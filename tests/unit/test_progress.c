/* The progress meter: drawn on the stream it is given once its phase
 * outlasts a second, erased at the end; nothing without a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cst/progress.h"

/* The meter writes from a thread of its own, so the file is read through a
 * stream of its own: the writer's file position is never moved. */
static char path[64];

static FILE *open_out(void)
{
	snprintf(path, sizeof(path), "/tmp/cst-progress-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	return f;
}

static void close_out(FILE *f)
{
	fclose(f);
	unlink(path);
}

static char *contents(FILE *f, size_t *ret_len)
{
	(void)f;
	FILE *r = fopen(path, "r");
	assert_non_null(r);
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	assert_non_null(buf);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, r)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
	}
	fclose(r);
	buf[n] = '\0';
	*ret_len = n;
	return buf;
}

/* Waits (at most a minute, however loaded the machine) until the stream
 * holds needle. */
static char *wait_for(FILE *f, const char *needle)
{
	for (int i = 0; i < 6000; i++) {
		size_t n;
		char *s = contents(f, &n);
		if (strstr(s, needle))
			return s;
		free(s);
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	fail_msg("'%s' never appeared", needle);
	return NULL;
}

static void test_counts_drawn_then_erased(void **state)
{
	(void)state;
	FILE *f = open_out();
	struct cst_progress *p = cst_progress_start(f, "command tests", 4, CST_PROGRESS_COUNT);
	assert_non_null(p);
	cst_progress_add(p, 3);
	free(wait_for(f, "\r\033[2Kcst: command tests: 3 of 4 done"));
	cst_progress_line(p, f, "a note");
	cst_progress_add(p, 1);
	free(wait_for(f, "cst: command tests: 4 of 4 done"));
	cst_progress_stop(p);
	size_t n;
	char *s = contents(f, &n);
	/* The note has a line of its own, and the meter ends erased. */
	assert_non_null(strstr(s, "\r\033[2Ka note\n"));
	assert_true(n > 5);
	assert_memory_equal(s + n - 5, "\r\033[2K", 5);
	free(s);
	close_out(f);
}

static void test_bytes(void **state)
{
	(void)state;
	FILE *f = open_out();
	struct cst_progress *p = cst_progress_start(f, "reading app:1", 200u << 20, CST_PROGRESS_BYTES);
	cst_progress_add(p, 50u << 20);
	free(wait_for(f, "cst: reading app:1: 50.0 MiB of about 200.0 MiB (25%)"));
	/* An export a little past the image's size is not "101%". */
	cst_progress_set(p, 210u << 20, 200u << 20);
	free(wait_for(f, "210.0 MiB of about 200.0 MiB (99%)"));
	cst_progress_stop(p);
	close_out(f);
}

/* Reading the image beside command tests: one line for both, the one
 * still running left on it when the other ends. */
static void test_phases_share_the_line(void **state)
{
	(void)state;
	FILE *f = open_out();
	struct cst_progress *a = cst_progress_start(f, "reading app:1", 10, CST_PROGRESS_BYTES);
	struct cst_progress *b = cst_progress_start(f, "command tests", 2, CST_PROGRESS_COUNT);
	cst_progress_add(a, 5);
	cst_progress_add(b, 1);
	free(wait_for(f, "\r\033[2Kcst: reading app:1: 5 B of about 10 B (50%) \xC2\xB7 command tests: 1 of 2 done"));
	cst_progress_stop(a);
	size_t n;
	char *s = contents(f, &n);
	static const char left[] = "\r\033[2Kcst: command tests: 1 of 2 done";
	assert_true(n >= sizeof(left) - 1);
	assert_memory_equal(s + n - (sizeof(left) - 1), left, sizeof(left) - 1);
	free(s);
	cst_progress_stop(b);
	s = contents(f, &n);
	assert_memory_equal(s + n - 5, "\r\033[2K", 5);
	free(s);
	close_out(f);
}

static void test_no_terminal_no_meter(void **state)
{
	(void)state;
	FILE *f = open_out();
	assert_null(cst_progress_stream(f, 0));
	assert_null(cst_progress_stream(stderr, 1));
	assert_null(cst_progress_start(NULL, "x", 1, CST_PROGRESS_COUNT));
	/* Every call takes the NULL a phase without a meter holds. */
	cst_progress_add(NULL, 1);
	cst_progress_set(NULL, 1, 2);
	cst_progress_line(NULL, f, "plain");
	cst_progress_stop(NULL);
	fflush(f);
	size_t n;
	char *s = contents(f, &n);
	assert_string_equal(s, "plain\n");
	free(s);
	close_out(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_drawn_then_erased),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_phases_share_the_line),
		cmocka_unit_test(test_no_terminal_no_meter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
