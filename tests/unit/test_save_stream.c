/* A docker-save archive read as a one-pass stream (how the engine's
 * GET /images/{name}/get arrives) gives the same index as the same archive
 * read from a file. */
#include <archive.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cst/fs.h"
#include "cst/image.h"

static char fixtures[4096];

static int setup(void **state)
{
	(void)state;
	const char *tests = getenv("CST_TESTS");
	const char *base = getenv("CST_BUILD");
	if (!tests)
		return -1;
	snprintf(fixtures, sizeof(fixtures), "%s/test_save_stream.XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(fixtures))
		return -1;
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/fixtures/mkimages.py' '%s'", tests, fixtures);
	int st = system(cmd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixtures);
	return system(cmd) == 0 ? 0 : -1;
}

/* A reader that can neither seek nor skip, like a socket: small reads. */
struct pipe_src {
	FILE *f;
	char buf[3000];
};

static la_ssize_t pipe_read(struct archive *a, void *ud, const void **buf)
{
	(void)a;
	struct pipe_src *p = ud;
	*buf = p->buf;
	return (la_ssize_t)fread(p->buf, 1, sizeof(p->buf), p->f);
}

static int read_stream(const char *name, struct cst_fs *fs, struct cst_error *err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	struct pipe_src src = {.f = fopen(path, "rb")};
	assert_non_null(src.f);
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open(a, &src, NULL, pipe_read, NULL), ARCHIVE_OK);
	int r = cst_image_read_save_stream(a, name, fs, err);
	archive_read_free(a);
	fclose(src.f);
	return r;
}

static void same(const struct cst_fs *a, const struct cst_fs *b, const char *path, bool follow)
{
	struct cst_fs_info x, y;
	struct cst_error err = CST_ERROR_INIT;
	int fa = cst_fs_lookup(a, path, follow, &x, NULL, &err);
	int fb = cst_fs_lookup(b, path, follow, &y, NULL, &err);
	if (fa != fb)
		fail_msg("%s: found %d from the file, %d from the stream", path, fa, fb);
	if (fa != 1)
		return;
	assert_int_equal(x.type, y.type);
	assert_int_equal(x.mode, y.mode);
	assert_int_equal(x.uid, y.uid);
	assert_int_equal(x.gid, y.gid);
	assert_int_equal(x.layer, y.layer);
	assert_int_equal(x.has_content, y.has_content);
	if (x.has_content)
		assert_memory_equal(x.content, y.content, x.content_len);
}

static const char *const paths[] = {
	"/etc/passwd", "/etc/alt", "/usr/bin/suid", "/usr/bin/sgid", "/tmp", "/home/user", "/to-delete",
	"/to-delete/sub/b", "/opaque/old1", "/opaque/new1", "/replace-dir", "/replace-file/inner", "/srv/hard",
	"/newdir/sub/file", "/abs/file", "/lib/libfoo.so.1", NULL,
};

static void test_stream_matches_file(void **state)
{
	(void)state;
	const char *images[] = {"layered.tar", "layered.tar.gz", "layered-newer-save.tar"};
	for (size_t k = 0; k < sizeof(images) / sizeof(images[0]); k++) {
		struct cst_fs *from_file = cst_fs_new(), *from_stream = cst_fs_new();
		for (struct cst_fs *fs = from_file; fs; fs = fs == from_file ? from_stream : NULL) {
			assert_int_equal(cst_fs_want_path(fs, "/etc/passwd"), 0);
			assert_int_equal(cst_fs_want_path(fs, "/srv/orig"), 0);
		}
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", fixtures, images[k]);
		struct cst_image_source *src = NULL;
		struct cst_error err = CST_ERROR_INIT;
		struct cst_archive_opts opts = {0};
		assert_int_equal(cst_image_open_archive(path, &opts, &src, &err), 0);
		assert_int_equal(src->ops->read_fs(src, from_file, &err), 0);
		cst_image_close(src);
		if (read_stream(images[k], from_stream, &err) < 0)
			fail_msg("%s: %s", images[k], err.msg);
		assert_int_equal(cst_fs_count(from_file), cst_fs_count(from_stream));
		for (const char *const *p = paths; *p; p++) {
			same(from_file, from_stream, *p, false);
			same(from_file, from_stream, *p, true);
		}
		cst_fs_free(from_file);
		cst_fs_free(from_stream);
	}
}

static void test_stream_errors(void **state)
{
	(void)state;
	const char *bad[] = {"missing-layer.tar", "no-manifest.tar", "truncated.tar", "not-a-tar-layer.tar"};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct cst_fs *fs = cst_fs_new();
		struct cst_error err = CST_ERROR_INIT;
		assert_int_equal(read_stream(bad[k], fs, &err), -1);
		assert_int_equal(err.code, CST_E_IMAGE);
		if (!strstr(err.msg, bad[k]))
			fail_msg("error does not name %s: %s", bad[k], err.msg);
		cst_error_clear(&err);
		cst_fs_free(fs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_matches_file),
		cmocka_unit_test(test_stream_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
