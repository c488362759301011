/* The engine driver against a real Docker Engine and the test images of
 * testdata/images (built when missing): containers, command jobs in
 * parallel, timeouts, engine errors, the file system export, cleanup and
 * interruption.  Prints how long 10 jobs take with 1 and 4 workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cst/engine/client.h"
#include "cst/fs.h"
#include "cst/signals.h"

#define BUSYBOX "cst-test/busybox:1"
#define BUSYBOX_USER "cst-test/busybox-user:1"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct cst_docker *open_engine(int jobs, bool save)
{
	struct cst_docker_opts o = {.jobs = jobs, .save = save, .progress = stderr};
	struct cst_docker *d = NULL;
	struct cst_error err = CST_ERROR_INIT;
	if (cst_docker_open(&o, &d, &err) < 0)
		fail_msg("cst_docker_open: %s", err.msg);
	return d;
}

/* How many containers (or images) still carry the run's label. */
static size_t count_labelled(struct cst_docker *d, const char *what)
{
	char filter[128], path[512];
	snprintf(filter, sizeof(filter), "{\"label\":[\"dev.cst.run=%s\"]}", d->run_id);
	char *ef = dk_escape(&d->conn, filter);
	snprintf(path, sizeof(path), "/%s/json?all=1&filters=%s", what, ef);
	free(ef);
	struct dk_request r = {.path = path, .no_abort = true};
	json_t *list = NULL;
	struct cst_error err = CST_ERROR_INIT;
	if (dk_call_json(d, &d->conn, &r, &list, NULL, &err) < 0)
		fail_msg("listing %s: %s", what, err.msg);
	size_t n = json_array_size(list);
	json_decref(list);
	return n;
}

static void close_clean(struct cst_docker *d)
{
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_docker_cleanup(d, &err), 0);
	assert_int_equal(count_labelled(d, "containers"), 0);
	assert_int_equal(count_labelled(d, "images"), 0);
	/* Twice is safe. */
	assert_int_equal(cst_docker_cleanup(d, &err), 0);
	cst_docker_close(d);
}

/* A job of argv (NULL-terminated), owning copies. */
static void job_init(struct cst_command_job *job, const struct cst_run_options *opts, double timeout, ...)
{
	memset(job, 0, sizeof(*job));
	va_list ap;
	va_start(ap, timeout);
	const char *a;
	job->argv = calloc(16, sizeof(char *));
	while ((a = va_arg(ap, const char *)))
		job->argv[job->argc++] = strdup(a);
	va_end(ap);
	job->opts = opts;
	job->timeout = timeout;
}

static void release_all(struct cst_command_job *jobs, struct cst_command_outcome *outs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cst_command_job_release(&jobs[i]);
		cst_command_outcome_release(&outs[i]);
	}
}

static void test_container_lifecycle(void **state)
{
	(void)state;
	struct cst_docker *d = open_engine(1, false);
	assert_true(dk_version_cmp(d->api, DK_API_MAX) <= 0);
	struct cst_error err = CST_ERROR_INIT;
	json_t *cfg = json_pack("{s:s, s:[], s:[s,s,s]}", "Image", BUSYBOX, "Entrypoint", "Cmd", "sh", "-c",
				"echo to-out; echo to-err >&2; exit 3");
	char *id = NULL;
	assert_int_equal(dk_container_create(d, &d->conn, cfg, &id, &err), 0);
	json_decref(cfg);
	assert_int_equal(count_labelled(d, "containers"), 1);
	assert_int_equal(dk_container_start(d, &d->conn, id, &err), 0);
	int code = -1;
	bool timed_out = true;
	assert_int_equal(dk_container_wait(d, &d->conn, id, 30, &code, &timed_out, &err), 0);
	assert_int_equal(code, 3);
	assert_false(timed_out);
	struct cst_buf out = CST_BUF_INIT, errb = CST_BUF_INIT;
	assert_int_equal(dk_container_logs(d, &d->conn, id, false, &out, &errb, &err), 0);
	assert_string_equal(out.data, "to-out\n");
	assert_string_equal(errb.data, "to-err\n");
	assert_int_equal(dk_container_remove(d, &d->conn, id, &err), 0);
	assert_int_equal(count_labelled(d, "containers"), 0);
	/* Removing what is gone is not an error. */
	assert_int_equal(dk_container_remove(d, &d->conn, id, &err), 0);
	free(id);
	cst_buf_release(&out);
	cst_buf_release(&errb);
	close_clean(d);
}

static double run_ten(int jobs)
{
	struct cst_docker *d = open_engine(jobs, false);
	struct cst_command_job job[10];
	struct cst_command_outcome out[10];
	memset(out, 0, sizeof(out));
	for (int i = 0; i < 10; i++) {
		char script[128];
		snprintf(script, sizeof(script), "echo out-%d; echo err-%d >&2; sleep 0.2; exit %d", i, i, i);
		job_init(&job[i], NULL, 60, "sh", "-c", script, NULL);
	}
	struct cst_error err = CST_ERROR_INIT;
	double t0 = now_s();
	assert_int_equal(cst_docker_run_commands(d, BUSYBOX, job, 10, out, &err), 0);
	double t = now_s() - t0;
	for (int i = 0; i < 10; i++) {
		char want[32];
		assert_null(out[i].failure);
		assert_int_equal(out[i].exit_code, i);
		snprintf(want, sizeof(want), "out-%d\n", i);
		assert_string_equal(out[i].out.data, want);
		snprintf(want, sizeof(want), "err-%d\n", i);
		assert_string_equal(out[i].err.data, want);
		assert_true(out[i].duration_ns > 200000000);
	}
	release_all(job, out, 10);
	close_clean(d);
	return t;
}

static void test_ten_jobs_serial_and_parallel(void **state)
{
	(void)state;
	double t1 = run_ten(1);
	double t4 = run_ten(4);
	printf("# 10 command jobs: %.2f s with jobs=1, %.2f s with jobs=4\n", t1, t4);
	/* Parallel must not be slower in any meaningful way. */
	assert_true(t4 < t1 * 1.2);
}

static void test_env_entrypoint_user(void **state)
{
	(void)state;
	struct cst_docker *d = open_engine(2, false);
	struct cst_command_job job[3];
	struct cst_command_outcome out[3];
	memset(out, 0, sizeof(out));
	/* The image env is kept under the job's env by the engine. */
	job_init(&job[0], NULL, 30, "sh", "-c", "echo \"$CST_IMAGE|$GREETING|$MINE|$PATH\"", NULL);
	assert_int_equal(cst_env_set(&job[0].env, "MINE", "set by test"), 0);
	assert_int_equal(cst_env_set(&job[0].env, "GREETING", "replaced"), 0);
	/* The image's ENTRYPOINT is cleared; its USER applies. */
	job_init(&job[1], NULL, 30, "id", "-u", NULL);
	job_init(&job[2], NULL, 30, "pwd", NULL);
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_docker_run_commands(d, BUSYBOX, job, 1, out, &err), 0);
	assert_int_equal(cst_docker_run_commands(d, BUSYBOX_USER, job + 1, 2, out + 1, &err), 0);
	assert_string_equal(out[0].out.data,
			    "busybox|replaced|set by test|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
	assert_string_equal(out[1].out.data, "1000\n");
	assert_string_equal(out[2].out.data, "/srv\n");
	release_all(job, out, 3);
	close_clean(d);
}

static void test_timeout_and_bad_command(void **state)
{
	(void)state;
	struct cst_docker *d = open_engine(3, false);
	struct cst_command_job job[3];
	struct cst_command_outcome out[3];
	memset(out, 0, sizeof(out));
	job_init(&job[0], NULL, 5, "sh", "-c", "echo before; echo err-before >&2; sleep 600; echo after", NULL);
	job_init(&job[1], NULL, 30, "/no/such/binary", "arg", NULL);
	job_init(&job[2], NULL, 30, "echo", "still runs", NULL);
	struct cst_error err = CST_ERROR_INIT;
	double t0 = now_s();
	assert_int_equal(cst_docker_run_commands(d, BUSYBOX, job, 3, out, &err), 0);
	/* killed at the timeout, not at the end of the sleep */
	assert_true(now_s() - t0 < 300);

	assert_true(out[0].timed_out);
	assert_null(out[0].failure);
	assert_string_equal(out[0].out.data, "before\n");
	assert_string_equal(out[0].err.data, "err-before\n");
	assert_int_not_equal(out[0].exit_code, 0);

	assert_non_null(out[1].failure);
	printf("# engine message for a missing binary: %s\n", out[1].failure);
	assert_non_null(strstr(out[1].failure, "/no/such/binary"));

	assert_null(out[2].failure);
	assert_string_equal(out[2].out.data, "still runs\n");
	assert_int_equal(out[2].exit_code, 0);
	release_all(job, out, 3);
	close_clean(d);
}

static void test_setup_tty_and_run_options(void **state)
{
	(void)state;
	struct cst_docker *d = open_engine(2, false);
	struct cst_run_options tty = {.present = true, .allocate_tty = true};
	struct cst_str cap = {.s = (char *)"NET_ADMIN"};
	struct cst_run_options ro = {
		.present = true,
		.user = {.s = (char *)"1000:1000"},
		.capabilities = {.v = &cap, .n = 1, .present = true},
	};

	struct cst_command_job job[3];
	struct cst_command_outcome out[3];
	memset(out, 0, sizeof(out));
	job_init(&job[0], NULL, 30, "cat", "/setup.txt", NULL);
	job[0].n_setup = 2;
	job[0].setup = calloc(2, sizeof(char **));
	job[0].setup[0] = calloc(4, sizeof(char *));
	job[0].setup[0][0] = strdup("sh");
	job[0].setup[0][1] = strdup("-c");
	job[0].setup[0][2] = strdup("echo first > /setup.txt; exit 5");
	job[0].setup[1] = calloc(4, sizeof(char *));
	job[0].setup[1][0] = strdup("sh");
	job[0].setup[1][1] = strdup("-c");
	job[0].setup[1][2] = strdup("echo second $IMG-$OWN >> /setup.txt");
	/* Setup steps run with what CST commits (image_env) only. */
	assert_int_equal(cst_env_set(&job[0].image_env, "IMG", "committed"), 0);
	assert_int_equal(cst_env_set(&job[0].env, "OWN", "test only"), 0);
	job_init(&job[1], &tty, 30, "sh", "-c", "echo out; echo err >&2", NULL);
	job_init(&job[2], &ro, 30, "sh", "-c",
		 "echo \"$(id -u) $FROM_IMAGE|$OWN|$GREETING\"; grep CapEff /proc/self/status", NULL);
	/* The test's container: image_env, the job's env over it, the image's
	 * own under both. */
	assert_int_equal(cst_env_set(&job[2].image_env, "FROM_IMAGE", "committed"), 0);
	assert_int_equal(cst_env_set(&job[2].image_env, "OWN", "replaced"), 0);
	assert_int_equal(cst_env_set(&job[2].env, "OWN", "own value"), 0);

	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_docker_run_commands(d, BUSYBOX, job, 3, out, &err), 0);
	/* Setup exit codes are ignored; each step sees the one before. */
	assert_null(out[0].failure);
	assert_string_equal(out[0].out.data, "first\nsecond committed-\n");
	/* A TTY merges the streams and ends lines in CRLF. */
	assert_null(out[1].failure);
	assert_string_equal(out[1].out.data, "out\r\nerr\r\n");
	assert_int_equal(out[1].err.len, 0);
	assert_null(out[2].failure);
	assert_non_null(strstr(out[2].out.data, "1000 committed|own value|hello world\n"));
	/* A non-root user has no effective capabilities. */
	assert_non_null(strstr(out[2].out.data, "CapEff:\t0000000000000000"));
	release_all(job, out, 3);
	/* The committed setup images are gone before cleanup already. */
	assert_int_equal(count_labelled(d, "images"), 0);
	close_clean(d);
}

static void test_save_keeps_containers(void **state)
{
	(void)state;
	struct cst_docker *d = open_engine(1, true);
	struct cst_command_job job[1];
	struct cst_command_outcome out[1];
	memset(out, 0, sizeof(out));
	job_init(&job[0], NULL, 30, "true", NULL);
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_docker_run_commands(d, BUSYBOX, job, 1, out, &err), 0);
	assert_int_equal(cst_docker_cleanup(d, &err), 0);
	assert_int_equal(count_labelled(d, "containers"), 1);
	/* Remove it as a user would after looking. */
	d->save = false;
	release_all(job, out, 1);
	close_clean(d);
}

static int keep_path(const char *path, const struct cst_fs_info *info, void *ud)
{
	(void)info;
	(*(size_t *)ud)++;
	return 0;
}

static void test_image_source(void **state)
{
	(void)state;
	struct cst_docker *d = open_engine(1, false);
	struct cst_error err = CST_ERROR_INIT;
	struct cst_image_source *src = NULL;

	assert_int_equal(cst_docker_image_source(d, "cst-test/no-such-image:0", &src, &err), 0);
	struct cst_image_meta meta = {0};
	assert_int_equal(src->ops->read_meta(src, &meta, &err), -1);
	assert_int_equal(err.code, CST_E_IMAGE);
	/* Engines differ in case, and some say it twice; cst says it once. */
	const char *cause = strcasestr(err.msg, "no such image: cst-test/no-such-image:0");
	assert_non_null(cause);
	assert_null(strcasestr(cause + 1, "no such image"));
	assert_non_null(strstr(err.msg, "--pull"));
	cst_error_clear(&err);
	cst_image_meta_release(&meta);
	src->ops->close(src);

	assert_int_equal(cst_docker_image_source(d, BUSYBOX, &src, &err), 0);
	memset(&meta, 0, sizeof(meta));
	if (src->ops->read_meta(src, &meta, &err) < 0)
		fail_msg("read_meta: %s", err.msg);
	assert_string_equal(cst_env_get(&meta.env, "CST_IMAGE", 9), "busybox");
	assert_string_equal(meta.workdir, "/srv");
	/* What the reports name it by, and what the export is measured against. */
	assert_non_null(meta.id);
	assert_int_equal(strncmp(meta.id, "sha256:", 7), 0);
	assert_true(meta.size > 0);
	cst_image_meta_release(&meta);

	struct cst_fs *fs = cst_fs_new();
	assert_int_equal(cst_fs_want_path(fs, "/etc/cst/hello.txt"), 0);
	assert_int_equal(cst_fs_want_path(fs, "/etc/cst/hello-link"), 0);
	double t0 = now_s();
	if (src->ops->read_fs(src, fs, &err) < 0)
		fail_msg("read_fs: %s", err.msg);
	printf("# export of %s: %zu entries in %.3f s\n", BUSYBOX, cst_fs_count(fs), now_s() - t0);
	assert_true(cst_fs_count(fs) > 300);
	/* hello.txt is a hardlink in the export and hello-link a symlink:
	 * their contents take a second pass, as run.c does it.  It reuses
	 * the container and gives the same index. */
	size_t first = cst_fs_count(fs);
	assert_true(cst_fs_want_resolved(fs) > 0);
	cst_fs_clear(fs);
	if (src->ops->read_fs(src, fs, &err) < 0)
		fail_msg("second read_fs: %s", err.msg);
	assert_int_equal(cst_fs_count(fs), first);
	struct cst_fs_info info;
	assert_int_equal(cst_fs_lookup(fs, "/etc/cst/hello-link", true, &info, NULL, &err), 1);
	assert_true(info.has_content);
	assert_int_equal(info.content_len, 27);
	assert_int_equal(cst_fs_lookup(fs, "/etc/cst/hello.txt", true, &info, NULL, &err), 1);
	assert_true(info.has_content);
	assert_int_equal(info.content_len, 27);
	assert_memory_equal(info.content, "hello from cst\nsecond line\n", 27);
	assert_int_equal(cst_fs_lookup(fs, "/usr/local/bin/suid-box", false, &info, NULL, &err), 1);
	assert_int_equal(info.mode, 04755);
	assert_int_equal(cst_fs_lookup(fs, "/home/cst", false, &info, NULL, &err), 1);
	assert_int_equal(info.uid, 1000);
	assert_int_equal(cst_fs_lookup(fs, "/bin/sh", false, &info, NULL, &err), 1);
	assert_int_equal(info.type, CST_FT_SYMLINK);
	assert_int_equal(cst_fs_lookup(fs, "/etc/cst/gone.txt", false, &info, NULL, &err), 0);

	size_t n = 0;
	cst_fs_glob(fs, "/etc/cst/*", keep_path, &n);
	assert_int_equal(n, 3);
	assert_int_equal(count_labelled(d, "containers"), 1);
	src->ops->close(src);
	assert_int_equal(count_labelled(d, "containers"), 0);
	cst_fs_free(fs);
	close_clean(d);
}

/* A command printing without end: both kinds of output are cut at the
 * ceiling, the container is killed at once (not at the timeout), and the
 * test after it runs normally. */
static void test_output_ceiling(void **state)
{
	(void)state;
	struct cst_docker *d = open_engine(1, false);
	struct cst_command_job job[3];
	struct cst_command_outcome out[3];
	memset(out, 0, sizeof(out));
	job_init(&job[0], NULL, 600, "yes", NULL);
	job_init(&job[1], NULL, 600, "sh", "-c", "head -c 100000000 /dev/zero >&2; echo done", NULL);
	job_init(&job[2], NULL, 600, "echo", "after", NULL);
	struct cst_error err = CST_ERROR_INIT;
	double t0 = now_s();
	assert_int_equal(cst_docker_run_commands(d, BUSYBOX, job, 3, out, &err), 0);
	double t = now_s() - t0;
	printf("# three jobs, two cut at %zu bytes: %.2f s\n", DK_OUTPUT_MAX, t);
	/* not at the timeout */
	assert_true(t < 300);
	assert_true(out[0].out.truncated);
	assert_int_equal(out[0].out.len, DK_OUTPUT_MAX);
	assert_memory_equal(out[0].out.data, "y\ny\n", 4);
	assert_false(out[0].timed_out);
	assert_null(out[0].failure);
	assert_int_equal(out[0].exit_code, 137);
	assert_true(out[1].err.truncated);
	assert_int_equal(out[1].err.len, DK_OUTPUT_MAX);
	assert_false(out[1].out.truncated);
	assert_string_equal(out[2].out.data, "after\n");
	assert_int_equal(out[2].exit_code, 0);
	release_all(job, out, 3);
	close_clean(d);
}

static void *interrupt_later(void *ud)
{
	(void)ud;
	sleep(2);
	kill(getpid(), SIGINT);
	return NULL;
}

/* Last: the pending signal cannot be taken back. */
static void test_interrupt_cleans_up(void **state)
{
	(void)state;
	assert_int_equal(cst_signals_install(), 0);
	struct cst_docker *d = open_engine(2, false);
	struct cst_command_job job[4];
	struct cst_command_outcome out[4];
	memset(out, 0, sizeof(out));
	for (int i = 0; i < 4; i++)
		job_init(&job[i], NULL, 900, "sleep", "600", NULL);
	pthread_t t;
	pthread_create(&t, NULL, interrupt_later, NULL);
	struct cst_error err = CST_ERROR_INIT;
	double t0 = now_s();
	assert_int_equal(cst_docker_run_commands(d, BUSYBOX, job, 4, out, &err), -1);
	pthread_join(t, NULL);
	/* the containers were stopped, not waited for */
	assert_true(now_s() - t0 < 300);
	assert_int_equal(err.code, CST_E_INTERRUPTED);
	cst_error_clear(&err);
	/* The jobs never started say so. */
	assert_non_null(out[3].failure);
	release_all(job, out, 4);
	close_clean(d);
}

static int group_setup(void **state)
{
	(void)state;
	const char *tests = getenv("CST_TESTS");
	const char *data = getenv("CST_TESTDATA");
	if (!tests || !data) {
		fprintf(stderr, "CST_TESTS and CST_TESTDATA must be set (meson test does it)\n");
		return -1;
	}
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "sh '%s/lib/engine.sh' && sh '%s/images/build.sh' busybox busybox-user", tests, data);
	int rc = system(cmd);
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_lifecycle),
		cmocka_unit_test(test_ten_jobs_serial_and_parallel),
		cmocka_unit_test(test_env_entrypoint_user),
		cmocka_unit_test(test_timeout_and_bad_command),
		cmocka_unit_test(test_setup_tty_and_run_options),
		cmocka_unit_test(test_save_keeps_containers),
		cmocka_unit_test(test_image_source),
		cmocka_unit_test(test_output_ceiling),
		cmocka_unit_test(test_interrupt_cleans_up),
	};
	/* Without an engine outside CI engine.sh asks for a skip. */
	const char *tests_dir = getenv("CST_TESTS");
	if (tests_dir) {
		char cmd[4096];
		snprintf(cmd, sizeof(cmd), "sh '%s/lib/engine.sh'", tests_dir);
		int rc = system(cmd);
		if (rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 77)
			return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
