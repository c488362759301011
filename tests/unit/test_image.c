/* Archive image sources against the fixtures of tests/fixtures/mkimages.py:
 * the same layered image as docker-save (plain, gzip, Docker 25 layout),
 * OCI directory and OCI tar must give the same index; bad inputs give
 * CST_E_IMAGE errors that name the file and the entry. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cst/fs.h"
#include "cst/image.h"
#include "cst/image/platform.h"

static char fixtures[4096];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	const char *tests = getenv("CST_TESTS");
	if (!tests) {
		fprintf(stderr, "CST_TESTS is not set\n");
		return -1;
	}
	const char *base = getenv("CST_BUILD");
	snprintf(fixtures, sizeof(fixtures), "%s/test_image.XXXXXX", base ? base : "/tmp");
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
	return nftw(fixtures, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *fx(const char *name)
{
	static char path[4][4096];
	static int i;
	i = (i + 1) % 4;
	if (snprintf(path[i], sizeof(path[i]), "%s/%s", fixtures, name) >= (int)sizeof(path[i]))
		fail_msg("path too long");
	return path[i];
}

static struct cst_image_source *open_ok(const char *name, const char *platform, const char *metadata)
{
	struct cst_archive_opts opts = {.platform = platform, .metadata_path = metadata};
	struct cst_image_source *src = NULL;
	struct cst_error err = CST_ERROR_INIT;
	if (cst_image_open_archive(fx(name), &opts, &src, &err) < 0)
		fail_msg("open %s: %s", name, err.msg);
	return src;
}

/* Opening fails, or reading fails; returns the error for inspection. */
static void expect_error(const char *name, const char *platform, const char *want_path, struct cst_error *err)
{
	struct cst_archive_opts opts = {.platform = platform};
	struct cst_image_source *src = NULL;
	if (cst_image_open_archive(fx(name), &opts, &src, err) == 0) {
		struct cst_fs *fs = cst_fs_new();
		if (want_path)
			assert_int_equal(cst_fs_want_path(fs, want_path), 0);
		int r = src->ops->read_fs(src, fs, err);
		cst_fs_free(fs);
		cst_image_close(src);
		if (r == 0)
			fail_msg("%s: expected an error", name);
	}
	assert_int_equal(err->code, CST_E_IMAGE);
	assert_non_null(err->msg);
	assert_non_null(strstr(err->msg, name));
}

/* As run.c does: read, ask for link targets, read again if needed. */
static struct cst_fs *read_fs(struct cst_image_source *src, const char *const *wanted, const char *const *globs)
{
	struct cst_fs *fs = cst_fs_new();
	for (; wanted && *wanted; wanted++)
		assert_int_equal(cst_fs_want_path(fs, *wanted), 0);
	for (; globs && *globs; globs++)
		assert_int_equal(cst_fs_want_glob(fs, *globs), 0);
	struct cst_error err = CST_ERROR_INIT;
	if (src->ops->read_fs(src, fs, &err) < 0)
		fail_msg("read_fs: %s", err.msg);
	int more = cst_fs_want_resolved(fs);
	assert_true(more >= 0);
	if (more > 0) {
		cst_fs_clear(fs);
		if (src->ops->read_fs(src, fs, &err) < 0)
			fail_msg("read_fs (second pass): %s", err.msg);
	}
	return fs;
}

static struct cst_fs_info get(struct cst_fs *fs, const char *path, bool follow)
{
	struct cst_fs_info info;
	struct cst_error err = CST_ERROR_INIT;
	int r = cst_fs_lookup(fs, path, follow, &info, NULL, &err);
	if (r != 1)
		fail_msg("%s: expected to exist (%d: %s)", path, r, err.msg ? err.msg : "absent");
	return info;
}

static void absent(struct cst_fs *fs, const char *path)
{
	struct cst_fs_info info;
	struct cst_error err = CST_ERROR_INIT;
	if (cst_fs_lookup(fs, path, false, &info, NULL, &err) != 0)
		fail_msg("%s: expected to be absent", path);
}

static void assert_content(struct cst_fs_info i, const char *want, size_t len)
{
	assert_true(i.has_content);
	assert_int_equal(i.content_len, len);
	assert_memory_equal(i.content, want, len);
}

#define CONTENT(i, lit) assert_content(i, lit, sizeof(lit) - 1)

static void check_layered_meta(struct cst_image_source *src)
{
	struct cst_image_meta m;
	struct cst_error err = CST_ERROR_INIT;
	if (src->ops->read_meta(src, &m, &err) < 0)
		fail_msg("read_meta: %s", err.msg);
	assert_int_equal(m.env.n, 2);
	assert_string_equal(m.env.v[1], "FOO=bar");
	assert_false(m.has_entrypoint);
	assert_true(m.has_cmd);
	assert_int_equal(m.n_cmd, 3);
	assert_string_equal(m.cmd[2], "echo hi");
	assert_string_equal(m.workdir, "/srv");
	assert_string_equal(m.user, "1000:1000");
	assert_string_equal(m.os, "linux");
	assert_string_equal(m.architecture, "amd64");
	assert_int_equal(m.n_exposed_ports, 2);
	assert_int_equal(m.n_volumes, 1);
	assert_string_equal(m.volumes[0], "/data");
	assert_int_equal(m.n_labels, 2);
	/* Named by its config's digest, the same in every layout of it. */
	static char first_id[80];
	assert_non_null(m.id);
	assert_int_equal(strlen(m.id), 71);
	assert_int_equal(strncmp(m.id, "sha256:", 7), 0);
	if (!first_id[0])
		snprintf(first_id, sizeof(first_id), "%s", m.id);
	assert_string_equal(m.id, first_id);
	cst_image_meta_release(&m);
}

static void check_layered_fs(struct cst_image_source *src)
{
	static const char *const wanted[] = {
		"/etc/passwd", "/data/binary.bin", "/home/user/file with spaces.txt", "/etc/alt",
		"/usr/bin/tool-hard", "/srv/hard", "/lib/libfoo.so.1", NULL,
	};
	static const char *const globs[] = {"/opaque/*", NULL};
	struct cst_fs *fs = read_fs(src, wanted, globs);

	/* Layer 1 rewrote /etc/passwd. */
	struct cst_fs_info i = get(fs, "/etc/passwd", false);
	assert_int_equal(i.layer, 1);
	CONTENT(i, "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
	assert_int_equal(get(fs, "/etc/os-release", false).layer, 0);

	/* Whiteouts and the opaque directory. */
	absent(fs, "/to-delete");
	absent(fs, "/to-delete/sub/b");
	absent(fs, "/ghost");
	absent(fs, "/.wh.ghost");
	absent(fs, "/opaque/old1");
	absent(fs, "/opaque/sub");
	i = get(fs, "/opaque", false);
	assert_int_equal(i.mode, 0750);
	CONTENT(get(fs, "/opaque/new1", false), "new");

	/* Replacements both ways, implied parents. */
	i = get(fs, "/replace-dir", false);
	assert_int_equal(i.type, CST_FT_REG);
	assert_int_equal(i.mode, 0600);
	absent(fs, "/replace-dir/child");
	i = get(fs, "/replace-file", false);
	assert_int_equal(i.type, CST_FT_DIR);
	assert_int_equal(i.mode, 0711);
	get(fs, "/replace-file/inner", false);
	i = get(fs, "/newdir", false);
	assert_int_equal(i.type, CST_FT_DIR);
	assert_int_equal(i.mode, 0755);
	assert_int_equal(i.layer, 1);
	get(fs, "/newdir/sub/file", false);

	/* Modes and owners. */
	assert_int_equal(get(fs, "/usr/bin/suid", false).mode, 04755);
	i = get(fs, "/usr/bin/sgid", false);
	assert_int_equal(i.mode, 02755);
	assert_int_equal(i.gid, 42);
	assert_int_equal(get(fs, "/tmp", false).mode, 01777);
	i = get(fs, "/home/user", false);
	assert_int_equal(i.mode, 0700);
	assert_int_equal(i.uid, 1000);
	i = get(fs, "/home/user/big-ids", false);
	assert_int_equal(i.uid, 70000);
	assert_int_equal(i.gid, 70001);
	assert_int_equal(get(fs, "/etc/fifo", false).type, CST_FT_FIFO);
	i = get(fs, "/etc/null", false);
	assert_int_equal(i.type, CST_FT_CHR);
	assert_int_equal(i.mode, 0666);
	CONTENT(get(fs, "/home/user/file with spaces.txt", false), "spaces ok\n");
	CONTENT(get(fs, "/data/binary.bin", false), "\xff\xfe\x00" "binary\x80\x81 not utf-8\n");

	/* Symlinks: kept as links, followed on request, inside the root. */
	i = get(fs, "/etc/alt", false);
	assert_int_equal(i.type, CST_FT_SYMLINK);
	assert_string_equal(i.link, "/usr/bin/tool");
	CONTENT(get(fs, "/etc/alt", true), "#!/bin/sh\necho tool\n");
	assert_string_equal(get(fs, "/etc/dangling", false).link, "/does/not/exist");
	struct cst_fs_info tmp;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_fs_lookup(fs, "/etc/dangling", true, &tmp, NULL, &err), 0);
	CONTENT(get(fs, "/lib/libfoo.so.1", false), "libfoo contents\n");
	get(fs, "/etc/link-to-dir/libfoo.so.1", false);
	char *resolved = NULL;
	assert_int_equal(cst_fs_lookup(fs, "/etc/escape", true, &tmp, &resolved, &err), 1);
	assert_string_equal(resolved, "/etc/passwd");
	free(resolved);
	assert_int_equal(cst_fs_lookup(fs, "/loop1", true, &tmp, NULL, &err), -1);
	assert_int_equal(err.code, CST_E_IMAGE);
	cst_error_clear(&err);

	/* Hardlinks carry their target's metadata and contents. */
	i = get(fs, "/usr/bin/tool-hard", false);
	assert_int_equal(i.type, CST_FT_REG);
	assert_int_equal(i.mode, 0755);
	CONTENT(i, "#!/bin/sh\necho tool\n");
	i = get(fs, "/srv/hard", false);
	assert_int_equal(i.mode, 0640);
	assert_int_equal(i.uid, 5);
	assert_int_equal(i.gid, 6);
	assert_int_equal(i.layer, 2);
	CONTENT(i, "shared inode\n");
	get(fs, "/abs/file", false);
	cst_fs_free(fs);
}

static void check_layered(const char *name, const char *source_name)
{
	struct cst_image_source *src = open_ok(name, NULL, NULL);
	assert_string_equal(src->ops->name, source_name);
	check_layered_meta(src);
	check_layered_fs(src);
	cst_image_close(src);
}

static void test_docker_save(void **state)
{
	(void)state;
	check_layered("layered.tar", "docker-save");
}

static void test_docker_save_gzip(void **state)
{
	(void)state;
	check_layered("layered.tar.gz", "docker-save");
}

static void test_docker_save_newer_layout(void **state)
{
	(void)state;
	check_layered("layered-newer-save.tar", "docker-save");
}

static void test_oci_dir(void **state)
{
	(void)state;
	check_layered("layered-oci", "oci-layout");
}

static void test_oci_tar(void **state)
{
	(void)state;
	check_layered("layered-oci.tar", "oci-layout");
}

static void check_platform(const char *platform, const char *want)
{
	struct cst_image_source *src = open_ok("multi-oci", platform, NULL);
	static const char *const wanted[] = {"/platform", NULL};
	struct cst_fs *fs = read_fs(src, wanted, NULL);
	assert_content(get(fs, "/platform", false), want, strlen(want));
	struct cst_image_meta m;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(src->ops->read_meta(src, &m, &err), 0);
	assert_string_equal(m.architecture, want);
	cst_image_meta_release(&m);
	cst_fs_free(fs);
	cst_image_close(src);
}

static void test_oci_platforms(void **state)
{
	(void)state;
	check_platform("linux/arm64", "arm64");
	check_platform("linux/arm64/v8", "arm64");
	check_platform("linux/amd64", "amd64");
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	struct cst_error err = CST_ERROR_INIT;
	if (strcmp(u.machine, "x86_64") == 0) {
		check_platform(NULL, "amd64");
	} else if (strcmp(u.machine, "aarch64") == 0) {
		check_platform(NULL, "arm64");
	} else {
		expect_error("multi-oci", NULL, NULL, &err);
		cst_error_clear(&err);
	}
	expect_error("multi-oci", "linux/s390x", NULL, &err);
	assert_non_null(strstr(err.msg, "linux/amd64"));
	assert_non_null(strstr(err.msg, "linux/arm64/v8"));
	assert_null(strstr(err.msg, "unknown"));
	cst_error_clear(&err);
}

static void test_rootfs(void **state)
{
	(void)state;
	char meta_path[4096];
	snprintf(meta_path, sizeof(meta_path), "%s", fx("rootfs-meta.json"));
	struct cst_image_source *src = open_ok("rootfs.tar", NULL, meta_path);
	assert_string_equal(src->ops->name, "rootfs");
	static const char *const wanted[] = {"/etc/hostname", NULL};
	struct cst_fs *fs = read_fs(src, wanted, NULL);
	CONTENT(get(fs, "/etc/hostname", false), "rootfs\n");
	assert_int_equal(get(fs, "/bin/sh", false).layer, 0);
	struct cst_image_meta m;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(src->ops->read_meta(src, &m, &err), 0);
	assert_string_equal(m.user, "nobody");
	assert_true(m.has_entrypoint);
	assert_int_equal(m.n_entrypoint, 0);
	assert_int_equal(m.n_cmd, 1);
	assert_null(m.id); /* a --metadata file is no digest */
	cst_image_meta_release(&m);
	cst_fs_free(fs);
	cst_image_close(src);

	/* Without --metadata a plain tar is refused, saying why. */
	expect_error("rootfs.tar", NULL, NULL, &err);
	assert_non_null(strstr(err.msg, "--metadata"));
	cst_error_clear(&err);
}

static void test_duplicate_layer(void **state)
{
	(void)state;
	struct cst_image_source *src = open_ok("dup-layer.tar", NULL, NULL);
	struct cst_fs *fs = read_fs(src, NULL, NULL);
	assert_int_equal(get(fs, "/twice", false).layer, 2);
	assert_int_equal(get(fs, "/etc/passwd", false).layer, 1);
	cst_fs_free(fs);
	cst_image_close(src);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	struct cst_error err = CST_ERROR_INIT;
	expect_error("truncated.tar", NULL, NULL, &err);
	cst_error_clear(&err);
	expect_error("not-a-tar-layer.tar", NULL, NULL, &err);
	assert_non_null(strstr(err.msg, "layer.tar"));
	cst_error_clear(&err);
	expect_error("no-manifest.tar", NULL, NULL, &err);
	cst_error_clear(&err);
	expect_error("no-config.tar", NULL, NULL, &err);
	assert_non_null(strstr(err.msg, ".json"));
	cst_error_clear(&err);
	expect_error("missing-layer.tar", NULL, NULL, &err);
	assert_non_null(strstr(err.msg, "nope/layer.tar"));
	cst_error_clear(&err);
	expect_error("dotdot.tar", NULL, NULL, &err);
	assert_non_null(strstr(err.msg, "a/../../evil"));
	cst_error_clear(&err);
	expect_error("hardlink-missing.tar", NULL, NULL, &err);
	assert_non_null(strstr(err.msg, "no/such/target"));
	cst_error_clear(&err);
	expect_error("oversized.tar", NULL, NULL, &err);
	cst_error_clear(&err);
	expect_error("oversized.tar", NULL, "/huge", &err);
	assert_non_null(strstr(err.msg, "huge"));
	cst_error_clear(&err);
	expect_error("does-not-exist.tar", NULL, NULL, &err);
	cst_error_clear(&err);
	/* A directory that is not an OCI layout. */
	expect_error("", NULL, NULL, &err);
	assert_non_null(strstr(err.msg, "OCI"));
	cst_error_clear(&err);
	/* A malformed --platform is a usage error. */
	struct cst_archive_opts opts = {.platform = "linux"};
	struct cst_image_source *src = NULL;
	assert_int_equal(cst_image_open_archive(fx("layered-oci"), &opts, &src, &err), -1);
	assert_int_equal(err.code, CST_E_USAGE);
	cst_error_clear(&err);
}

/* --platform all's platforms: what an OCI layout's index lists, and
 * one image (n == 0) for anything else. */
static void test_archive_platforms(void **state)
{
	(void)state;
	struct cst_platform_list l;
	struct cst_error err = CST_ERROR_INIT;
	/* Nested, with an attestation manifest beside the images. */
	assert_int_equal(cst_image_archive_platforms(fx("multi-oci"), NULL, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "linux/amd64");
	assert_string_equal(l.v[1], "linux/arm64/v8");
	cst_platform_list_release(&l);
	static const char *const one[] = {"layered-oci", "layered-oci.tar", "layered.tar", "layered-newer-save.tar"};
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		assert_int_equal(cst_image_archive_platforms(fx(one[i]), NULL, &l, &err), 0);
		assert_int_equal(l.n, 0);
	}
	assert_int_equal(cst_image_archive_platforms(fx("does-not-exist"), NULL, &l, &err), -1);
	assert_int_equal(err.code, CST_E_IMAGE);
	cst_error_clear(&err);
}

static int desc_platform(void *ud, json_t *desc, struct platform *p, struct cst_error *err)
{
	(void)ud;
	(void)err;
	platform_from(json_object_get(desc, "platform"), "os", "architecture", p);
	return 0;
}

static void list_of(const char *index_json, int want_rc, const char *want)
{
	json_error_t je;
	json_t *index = json_loads(index_json, 0, &je);
	assert_non_null(index);
	struct cst_platform_list l;
	json_t *only = (json_t *)1;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(platform_list(index, "who", "where", desc_platform, NULL, &l, &only, &err), want_rc);
	char got[256] = "";
	if (want_rc < 0)
		snprintf(got, sizeof(got), "error: %s", err.msg);
	else if (only)
		snprintf(got, sizeof(got), "only %s", json_string_value(json_object_get(only, "digest")));
	for (size_t i = 0; want_rc == 0 && i < l.n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "", l.v[i]);
	assert_string_equal(got, want);
	cst_platform_list_release(&l);
	cst_error_clear(&err);
	json_decref(index);
}

/* Which entries of an index --platform all runs. */
static void test_platform_list(void **state)
{
	(void)state;
	/* BuildKit's attestations (annotated, and unknown/unknown) are never
	 * images; a platform listed twice runs once; an entry without one
	 * cannot be chosen by platform. */
	list_of("{\"manifests\": ["
		"{\"digest\": \"a\", \"platform\": {\"os\": \"linux\", \"architecture\": \"amd64\"}},"
		"{\"digest\": \"b\", \"platform\": {\"os\": \"unknown\", \"architecture\": \"unknown\"}},"
		"{\"digest\": \"c\", \"platform\": {\"os\": \"linux\", \"architecture\": \"arm\", "
		"\"variant\": \"v7\"}},"
		"{\"digest\": \"d\", \"platform\": {\"os\": \"linux\", \"architecture\": \"amd64\"},"
		" \"annotations\": {\"vnd.docker.reference.type\": \"attestation-manifest\"}},"
		"{\"digest\": \"e\"},"
		"{\"digest\": \"f\", \"platform\": {\"os\": \"linux\", \"architecture\": \"amd64\"}},"
		"{\"digest\": \"g\", \"platform\": {\"os\": \"linux\", \"architecture\": \"arm64\"}}]}",
		0, "linux/amd64 linux/arm/v7 linux/arm64");
	/* One image beside an attestation: followed, whatever its platform. */
	list_of("{\"manifests\": [{\"digest\": \"a\"},"
		"{\"digest\": \"b\", \"platform\": {\"os\": \"unknown\", \"architecture\": \"unknown\"}}]}",
		0, "only a");
	list_of("{\"manifests\": [{\"digest\": \"b\", \"platform\": {\"os\": \"unknown\", "
		"\"architecture\": \"unknown\"}}]}",
		-1, "error: who: where lists no image");
	list_of("{\"manifests\": [{\"digest\": \"a\"}, {\"digest\": \"b\"}]}", -1,
		"error: who: where lists 2 images, none of them with a platform");
	list_of("{}", -1, "error: who: where has no manifests list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_save),
		cmocka_unit_test(test_docker_save_gzip),
		cmocka_unit_test(test_docker_save_newer_layout),
		cmocka_unit_test(test_oci_dir),
		cmocka_unit_test(test_oci_tar),
		cmocka_unit_test(test_oci_platforms),
		cmocka_unit_test(test_archive_platforms),
		cmocka_unit_test(test_platform_list),
		cmocka_unit_test(test_rootfs),
		cmocka_unit_test(test_duplicate_layer),
		cmocka_unit_test(test_bad_inputs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
