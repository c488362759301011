/* The read plan's choice with fixed costs, and the partial index that
 * per-path reads fill: what it answers, and that a lookup outside what was
 * read is an error, never an absence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "cst/engine/client.h"

static const struct dk_read_costs fixed = {
	.export_fixed_ms = 100.0,
	.export_ms_per_mib = 2.5,
	.request_ms = 50.0,
	.link_rounds = 2.0,
};

#define MIB ((int64_t)1024 * 1024)

static enum dk_read_plan choose(enum dk_read_plan forced, const char *tree, int64_t bytes, size_t requests,
				char *why)
{
	struct dk_plan_input in = {
		.forced = forced,
		.tree_why = tree,
		.image_bytes = bytes,
		.n_paths = requests,
		.n_requests = requests,
	};
	return dk_read_plan_choose(&fixed, &in, why, 400);
}

static void test_costs(void **state)
{
	(void)state;
	/* 100 + 2.5 * 2200 */
	assert_true(dk_read_plan_export_ms(&fixed, 2200 * MIB) > 5599.0);
	assert_true(dk_read_plan_export_ms(&fixed, 2200 * MIB) < 5601.0);
	/* 40 requests one after the other (the engine's container lock), and
	 * 2 for links. */
	assert_true(dk_read_plan_paths_ms(&fixed, 40) > 2099.0);
	assert_true(dk_read_plan_paths_ms(&fixed, 40) < 2101.0);
	assert_true(dk_read_plan_paths_ms(&fixed, 0) < 1.0);
}

static void test_choice(void **state)
{
	(void)state;
	char why[400];
	/* A big image and a few paths: per path. */
	assert_int_equal(choose(DK_PLAN_AUTO, NULL, 2200 * MIB, 40, why), DK_PLAN_PATHS);
	assert_non_null(strstr(why, "per-path reads"));
	/* A small image and many paths: the export (100 + 500 < 50 * 602). */
	assert_int_equal(choose(DK_PLAN_AUTO, NULL, 200 * MIB, 600, why), DK_PLAN_EXPORT);
	assert_non_null(strstr(why, "costs less than"));
	/* Either side of the break-even: 200 MiB is 600 ms, 10 requests too. */
	assert_int_equal(choose(DK_PLAN_AUTO, NULL, 200 * MIB, 8, why), DK_PLAN_PATHS);
	assert_int_equal(choose(DK_PLAN_AUTO, NULL, 200 * MIB, 12, why), DK_PLAN_EXPORT);
	/* No path declared: the export, which answers any. */
	assert_int_equal(choose(DK_PLAN_AUTO, NULL, 2200 * MIB, 0, why), DK_PLAN_EXPORT);
	/* No size known: the export, whose cost does not surprise. */
	assert_int_equal(choose(DK_PLAN_AUTO, NULL, -1, 1, why), DK_PLAN_EXPORT);
	assert_non_null(strstr(why, "size is not known"));
	/* A test that lists a directory: the export, even when paths are asked for. */
	assert_int_equal(choose(DK_PLAN_PATHS, "a listing", 2200 * MIB, 1, why), DK_PLAN_EXPORT);
	assert_non_null(strstr(why, "a listing"));
	assert_non_null(strstr(why, "--read-plan=paths cannot answer it"));
	assert_int_equal(choose(DK_PLAN_AUTO, "a listing", 2200 * MIB, 1, why), DK_PLAN_EXPORT);
	/* Forced either way. */
	assert_int_equal(choose(DK_PLAN_PATHS, NULL, 1, 100000, why), DK_PLAN_PATHS);
	assert_int_equal(choose(DK_PLAN_EXPORT, NULL, 100000 * MIB, 1, why), DK_PLAN_EXPORT);
}

static void test_estimate(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	assert_non_null(fs);
	assert_int_equal(dk_paths_estimate(fs), 0);
	assert_int_equal(cst_fs_need_path(fs, "/usr/share/doc/a/copyright"), 0);
	assert_int_equal(cst_fs_need_path(fs, "/usr/share/doc/b/copyright"), 0);
	assert_int_equal(cst_fs_need_path(fs, "/usr/share/doc/b/copyright"), 0);
	assert_int_equal(cst_fs_need_path(fs, "/etc//passwd"), 0);
	assert_int_equal(cst_fs_n_needs(fs), 3);
	/* usr, usr/share, usr/share/doc, a, a/copyright, b, b/copyright, etc, etc/passwd */
	assert_int_equal(dk_paths_estimate(fs), 9);
	cst_fs_free(fs);
}

/* A one-entry archive as the engine sends it: the entry by its base name. */
static size_t one_entry(char *buf, size_t cap, const char *name, mode_t type, const char *link, const char *data)
{
	struct archive *a = archive_write_new();
	size_t used = 0;
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFLNK ? 0777 : 0640);
	archive_entry_set_uid(e, 1000);
	archive_entry_set_gid(e, 100);
	if (link)
		archive_entry_set_symlink(e, link);
	archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	if (data)
		assert_int_equal(archive_write_data(a, data, strlen(data)), (la_ssize_t)strlen(data));
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return used;
}

static void put(struct cst_fs *fs, const char *path, mode_t type, const char *link, const char *data)
{
	static char buf[64 * 1024];
	size_t n = one_entry(buf, sizeof(buf), strrchr(path, '/') + 1, type, link, data);
	struct archive *a = archive_read_new();
	assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_memory(a, buf, n), ARCHIVE_OK);
	struct cst_error err = CST_ERROR_INIT;
	assert_true(cst_fs_can_put(fs, path));
	assert_int_equal(cst_fs_read_first(a, fs, path, &err), 1);
	archive_read_free(a);
}

static void test_partial(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	assert_non_null(fs);
	cst_fs_set_partial(fs);
	struct cst_fs_info info;
	struct cst_error err = CST_ERROR_INIT;
	char *missing = NULL, *rest = NULL;

	/* Nothing read: the walk stops at the first component, with the rest. */
	assert_int_equal(cst_fs_lookup_partial(fs, "/etc/os-release", true, &info, NULL, &missing, &rest, &err), 2);
	assert_string_equal(missing, "/etc");
	assert_string_equal(rest, "/os-release");
	free(missing);
	free(rest);
	/* The checks' own lookup never guesses. */
	assert_int_equal(cst_fs_lookup(fs, "/etc/os-release", true, &info, NULL, &err), -1);
	assert_int_equal(err.code, CST_E_INTERNAL);
	cst_error_clear(&err);

	put(fs, "/etc", AE_IFDIR, NULL, NULL);
	put(fs, "/usr", AE_IFDIR, NULL, NULL);
	put(fs, "/usr/lib", AE_IFDIR, NULL, NULL);
	assert_int_equal(cst_fs_want_path(fs, "/usr/lib/os-release"), 0);
	put(fs, "/etc/os-release", AE_IFLNK, "../usr/lib/os-release", NULL);
	/* The link is followed by cst's resolution: the next unread component
	 * is its target's. */
	assert_int_equal(cst_fs_lookup_partial(fs, "/etc/os-release", true, &info, NULL, &missing, &rest, &err), 2);
	assert_string_equal(missing, "/usr/lib/os-release");
	free(missing);
	free(rest);
	put(fs, "/usr/lib/os-release", AE_IFREG, NULL, "ID=debian\n");
	assert_int_equal(cst_fs_lookup(fs, "/etc/os-release", true, &info, NULL, &err), 1);
	assert_int_equal(info.type, CST_FT_REG);
	assert_int_equal(info.uid, 1000);
	assert_int_equal(info.gid, 100);
	assert_int_equal(info.mode, 0640);
	assert_true(info.has_content);
	assert_int_equal(info.content_len, 10);
	assert_int_equal(cst_fs_lookup(fs, "/etc/os-release", false, &info, NULL, &err), 1);
	assert_int_equal(info.type, CST_FT_SYMLINK);

	/* Read and absent: an absence. */
	assert_int_equal(cst_fs_put_absent(fs, "/etc/nonesuch"), 0);
	assert_int_equal(cst_fs_lookup(fs, "/etc/nonesuch", false, &info, NULL, &err), 0);
	/* Under a file: absent without a read, as in a full index. */
	assert_int_equal(cst_fs_lookup(fs, "/usr/lib/os-release/x", false, &info, NULL, &err), 0);
	/* Beyond a file or an unread component, nothing can be put. */
	assert_false(cst_fs_can_put(fs, "/usr/lib/os-release/x"));
	assert_false(cst_fs_can_put(fs, "/var/lib"));
	assert_true(cst_fs_can_put(fs, "/var"));

	/* A link the engine gave up on loops in cst's walk too. */
	assert_int_equal(cst_fs_put_loop(fs, "/etc/loop", &err), 0);
	assert_int_equal(cst_fs_lookup(fs, "/etc/loop", false, &info, NULL, &err), 1);
	assert_int_equal(info.type, CST_FT_SYMLINK);
	assert_int_equal(cst_fs_lookup(fs, "/etc/loop", true, &info, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "too many levels of symbolic links"));
	cst_error_clear(&err);
	cst_fs_free(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_costs),
		cmocka_unit_test(test_choice),
		cmocka_unit_test(test_estimate),
		cmocka_unit_test(test_partial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
