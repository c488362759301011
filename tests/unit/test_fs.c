/* The in-memory index: layers written in memory with libarchive, read with
 * cst_layer_read, applied, then checked node by node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "cst/fs.h"

struct spec {
	const char *name;
	char type; /* f file, d dir, l symlink, h hardlink, p fifo */
	unsigned mode;
	const char *data; /* file contents, or link target */
	int uid, gid;
};

#define TAR_MAX (1 << 20)

/* Writes specs as a pax tar into buf, through a compression filter
 * (ARCHIVE_FILTER_*); returns its length. */
static size_t write_tar_filtered(const struct spec *s, size_t n, char *buf, int filter)
{
	struct archive *a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
	size_t used = 0;
	assert_int_equal(archive_write_open_memory(a, buf, TAR_MAX, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, s[i].name);
		archive_entry_set_uid(e, s[i].uid);
		archive_entry_set_gid(e, s[i].gid);
		unsigned mode = s[i].mode;
		size_t len = 0;
		switch (s[i].type) {
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			mode = mode ? mode : 0755;
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, s[i].data);
			mode = 0777;
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, s[i].data);
			mode = mode ? mode : 0644;
			break;
		case 'p':
			archive_entry_set_filetype(e, AE_IFIFO);
			mode = mode ? mode : 0644;
			break;
		default:
			archive_entry_set_filetype(e, AE_IFREG);
			len = s[i].data ? strlen(s[i].data) : 0;
			mode = mode ? mode : 0644;
			break;
		}
		archive_entry_set_perm(e, mode);
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (len)
			assert_int_equal(archive_write_data(a, s[i].data, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return used;
}

static size_t write_tar(const struct spec *s, size_t n, char *buf)
{
	return write_tar_filtered(s, n, buf, ARCHIVE_FILTER_NONE);
}

static int read_buf(struct cst_fs *fs, const char *buf, size_t len, struct cst_layer **ret, struct cst_error *err)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	/* libarchive recognises the format on open, as the sources do. */
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		cst_error_set(err, CST_E_IMAGE, "%s", archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	int r = cst_layer_read(a, fs, ret, err);
	archive_read_free(a);
	return r;
}

static int apply_specs(struct cst_fs *fs, const struct spec *s, size_t n, int index, struct cst_error *err)
{
	char *buf = malloc(TAR_MAX);
	assert_non_null(buf);
	size_t len = write_tar(s, n, buf);
	struct cst_layer *layer = NULL;
	int r = read_buf(fs, buf, len, &layer, err);
	free(buf);
	if (r < 0)
		return r;
	return cst_fs_apply_layer(fs, layer, index, err);
}

#define APPLY(fs, arr, idx)                                                                  \
	do {                                                                                 \
		struct cst_error e_ = CST_ERROR_INIT;                                         \
		int r_ = apply_specs(fs, arr, sizeof(arr) / sizeof(arr[0]), idx, &e_);        \
		if (r_ < 0)                                                                  \
			fail_msg("apply: %s", e_.msg);                                       \
	} while (0)

static int look(struct cst_fs *fs, const char *path, bool follow, struct cst_fs_info *info)
{
	struct cst_error err = CST_ERROR_INIT;
	int r = cst_fs_lookup(fs, path, follow, info, NULL, &err);
	cst_error_clear(&err);
	return r;
}

static void assert_absent(struct cst_fs *fs, const char *path)
{
	struct cst_fs_info info;
	if (look(fs, path, false, &info) != 0)
		fail_msg("%s should be absent", path);
}

static struct cst_fs_info must(struct cst_fs *fs, const char *path, bool follow)
{
	struct cst_fs_info info;
	if (look(fs, path, follow, &info) != 1)
		fail_msg("%s should exist", path);
	return info;
}

static void test_types_modes_owners(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	assert_non_null(fs);
	const struct spec l0[] = {
		{"./", 'd', 0700},
		{"./etc/", 'd'},
		{"./etc/passwd", 'f', 0644, "root\n"},
		{"usr/bin/su", 'f', 04755, "x", 0, 0},
		{"usr/bin/wall", 'f', 02755, "x", 0, 5},
		{"tmp/", 'd', 01777},
		{"home/u/", 'd', 0700, NULL, 1000, 1001},
		{"run/fifo", 'p', 0600},
		{"bin", 'l', 0, "usr/bin"},
	};
	APPLY(fs, l0, 0);
	struct cst_fs_info i = must(fs, "/", false);
	assert_int_equal(i.type, CST_FT_DIR);
	assert_int_equal(i.mode, 0700);
	i = must(fs, "/etc/passwd", false);
	assert_int_equal(i.type, CST_FT_REG);
	assert_int_equal(i.mode, 0644);
	assert_int_equal(i.size, 5);
	assert_false(i.has_content); /* nobody wanted it */
	assert_int_equal(must(fs, "/usr/bin/su", false).mode, 04755);
	i = must(fs, "/usr/bin/wall", false);
	assert_int_equal(i.mode, 02755);
	assert_int_equal(i.gid, 5);
	assert_int_equal(must(fs, "/tmp", false).mode, 01777);
	i = must(fs, "/home/u", false);
	assert_int_equal(i.uid, 1000);
	assert_int_equal(i.gid, 1001);
	assert_int_equal(must(fs, "/run/fifo", false).type, CST_FT_FIFO);
	i = must(fs, "/bin", false);
	assert_int_equal(i.type, CST_FT_SYMLINK);
	assert_string_equal(i.link, "usr/bin");
	/* Implied parents: 0755 root:root. */
	i = must(fs, "/usr", false);
	assert_int_equal(i.type, CST_FT_DIR);
	assert_int_equal(i.mode, 0755);
	assert_int_equal(i.uid, 0);
	assert_int_equal(cst_fs_count(fs), 12);
	cst_fs_free(fs);
}

static void test_layers_and_replacement(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	const struct spec l0[] = {
		{"a/", 'd'}, {"a/x", 'f', 0, "x"}, {"a/sub/y", 'f', 0, "y"}, {"f", 'f', 0, "file"}, {"keep", 'f', 0, "k"},
		{"d/", 'd', 0700}, {"d/child", 'f', 0, "c"},
	};
	const struct spec l1[] = {
		{"a", 'f', 0600, "now a file"},
		{"f/", 'd', 0711},
		{"f/inner", 'f', 0, "in"},
		{"d/", 'd', 0750},
	};
	APPLY(fs, l0, 0);
	APPLY(fs, l1, 1);
	struct cst_fs_info i = must(fs, "/a", false);
	assert_int_equal(i.type, CST_FT_REG);
	assert_int_equal(i.mode, 0600);
	assert_int_equal(i.layer, 1);
	assert_absent(fs, "/a/x");
	assert_absent(fs, "/a/sub/y");
	i = must(fs, "/f", false);
	assert_int_equal(i.type, CST_FT_DIR);
	assert_int_equal(i.mode, 0711);
	assert_int_equal(must(fs, "/f/inner", false).layer, 1);
	assert_int_equal(must(fs, "/keep", false).layer, 0);
	/* A directory over a directory keeps the lower children. */
	i = must(fs, "/d", false);
	assert_int_equal(i.mode, 0750);
	assert_int_equal(i.layer, 1);
	assert_int_equal(must(fs, "/d/child", false).layer, 0);
	cst_fs_free(fs);
}

static void test_whiteouts(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	const struct spec l0[] = {
		{"gone/", 'd'},     {"gone/a", 'f'},   {"gone/sub/b", 'f'}, {"file", 'f'},
		{"opq/", 'd'},      {"opq/old", 'f'},  {"opq/sub/old2", 'f'}, {"other/keep", 'f'},
		{"opq2/old", 'f'},
	};
	const struct spec l1[] = {
		{".wh.gone", 'f'},
		{"other/.wh.never-existed", 'f'},
		{".wh.ghost", 'f'},
		/* Same-layer entries survive their own layer's markers, in any order. */
		{"opq/new-before", 'f', 0, "n"},
		{"opq/.wh..wh..opq", 'f'},
		{"opq/new-after", 'f'},
		{"opq2/.wh..wh..opq", 'f'},
		{"opq2/old", 'f', 0, "again"},
		{"file", 'f', 0, "rewritten"},
		{".wh.file", 'f'},
		/* Markers that would name the directory itself are ignored. */
		{"other/.wh..", 'f'},
		{"other/.wh.", 'f'},
	};
	APPLY(fs, l0, 0);
	size_t before = cst_fs_count(fs);
	APPLY(fs, l1, 1);
	assert_absent(fs, "/gone");
	assert_absent(fs, "/gone/a");
	assert_absent(fs, "/opq/old");
	assert_absent(fs, "/opq/sub");
	assert_absent(fs, "/.wh.ghost");
	assert_absent(fs, "/opq/.wh..wh..opq");
	must(fs, "/opq/new-before", false);
	must(fs, "/opq/new-after", false);
	assert_int_equal(must(fs, "/opq2/old", false).layer, 1);
	/* The file of this layer stays although the layer also whites it out. */
	assert_int_equal(must(fs, "/file", false).layer, 1);
	must(fs, "/other/keep", false);
	must(fs, "/other", false);
	assert_true(cst_fs_count(fs) < before);
	const struct spec l2[] = {{".wh.file", 'f'}, {"opq/.wh.new-after", 'f'}};
	APPLY(fs, l2, 2);
	assert_absent(fs, "/file");
	assert_absent(fs, "/opq/new-after");
	must(fs, "/opq/new-before", false);
	cst_fs_free(fs);
}

/* layerTests' figures: what each layer's files hold, and what a layer
 * removes or replaces of what earlier layers added. */
static void test_layer_stats(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	const struct spec l0[] = {
		{"big", 'f', 0, "0123456789"}, {"dir/a", 'f', 0, "aaaa"}, {"dir/b", 'f', 0, "bb"},
		{"kept", 'f', 0, "k"}, {"link", 'l', 0, "kept"},
	};
	const struct spec l1[] = {
		{".wh.big", 'f'},                 /* 10 bytes wasted */
		{"dir/.wh..wh..opq", 'f'},        /* 6 more */
		{"kept", 'f', 0, "new"},          /* 1 more: replaced */
		{"fresh", 'f', 0, "xyz"},
		{"fresh", 'f', 0, "xyz!"},        /* the same layer twice: not waste */
	};
	APPLY(fs, l0, 0);
	APPLY(fs, l1, 1);
	const struct cst_fs_layer_stats *st = NULL;
	assert_int_equal(cst_fs_layer_stats(fs, &st), 2);
	assert_int_equal(st[0].bytes, 17);
	assert_int_equal(st[0].files, 4);
	assert_int_equal(st[0].wasted, 0);
	assert_int_equal(st[1].bytes, 10);
	assert_int_equal(st[1].wasted, 17);
	cst_fs_clear(fs);
	assert_int_equal(cst_fs_layer_stats(fs, &st), 0);
	cst_fs_free(fs);
}

static int count_walk(const char *path, size_t len, const struct cst_fs_info *info, void *ud)
{
	assert_int_equal(strlen(path), len);
	if (info->type == CST_FT_REG)
		(*(size_t *)ud)++;
	return strcmp(path, "/stop/here") == 0 ? 7 : 0;
}

/* The walk visits every node once, however deep, and stops when asked. */
static void test_walk(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	static char deep[4200];
	size_t n = 0;
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "d/");
	snprintf(deep + n, sizeof(deep) - n, "leaf");
	const struct spec l0[] = {{"a/b/c", 'f'}, {"a/d", 'f'}, {"e", 'f'}, {"a/b/f", 'f'}, {deep, 'f'}};
	APPLY(fs, l0, 0);
	size_t files = 0;
	assert_int_equal(cst_fs_walk(fs, count_walk, &files), 0);
	assert_int_equal(files, 5);
	const struct spec l1[] = {{"stop/here", 'f'}};
	APPLY(fs, l1, 1);
	files = 0;
	assert_int_equal(cst_fs_walk(fs, count_walk, &files), 7);
	cst_fs_free(fs);
}

static void test_lookup(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	const struct spec l0[] = {
		{"usr/lib/libx.so", 'f', 0, "x"},
		{"usr/bin/tool", 'f', 0755, "t"},
		{"lib", 'l', 0, "usr/lib"},
		{"abs", 'l', 0, "/usr/bin"},
		{"etc/up", 'l', 0, "../usr/lib"},
		{"etc/escape", 'l', 0, "../../../../usr/bin/tool"},
		{"etc/dangling", 'l', 0, "/nope"},
		{"etc/empty", 'l', 0, ""},
		{"loop1", 'l', 0, "loop2"},
		{"loop2", 'l', 0, "/loop1"},
		{"self", 'l', 0, "self/x"},
		{"chain/a", 'l', 0, "b"},
		{"chain/b", 'l', 0, "c"},
		{"chain/c", 'l', 0, "/usr/bin/tool"},
	};
	APPLY(fs, l0, 0);
	struct cst_fs_info info;
	char *resolved = NULL;
	struct cst_error err = CST_ERROR_INIT;

	assert_int_equal(cst_fs_lookup(fs, "/lib/libx.so", false, &info, &resolved, &err), 1);
	assert_string_equal(resolved, "/usr/lib/libx.so");
	free(resolved);
	assert_int_equal(info.type, CST_FT_REG);
	/* The final component is not followed unless asked. */
	assert_int_equal(must(fs, "/lib", false).type, CST_FT_SYMLINK);
	assert_int_equal(must(fs, "/lib", true).type, CST_FT_DIR);
	assert_int_equal(must(fs, "/abs/tool", false).mode, 0755);
	must(fs, "/etc/up/libx.so", false);
	/* ".." stops at the root, in paths and in link targets. */
	must(fs, "/../../usr/bin/tool", false);
	must(fs, "/usr/../../../usr/lib", false);
	assert_int_equal(cst_fs_lookup(fs, "/etc/escape", true, &info, &resolved, &err), 1);
	assert_string_equal(resolved, "/usr/bin/tool");
	free(resolved);
	assert_int_equal(cst_fs_lookup(fs, "/chain/a", true, &info, &resolved, &err), 1);
	assert_string_equal(resolved, "/usr/bin/tool");
	free(resolved);
	assert_int_equal(cst_fs_lookup(fs, "/", true, &info, &resolved, &err), 1);
	assert_string_equal(resolved, "/");
	free(resolved);
	/* Relative paths and "." are taken from the root. */
	must(fs, "usr/./bin//tool", false);
	/* Dangling: the link exists, its target does not. */
	must(fs, "/etc/dangling", false);
	assert_absent(fs, "/etc/dangling/x");
	struct cst_fs_info i2;
	assert_int_equal(look(fs, "/etc/dangling", true, &i2), 0);
	assert_int_equal(look(fs, "/etc/empty", true, &i2), 0);
	/* A regular file is not a directory. */
	assert_absent(fs, "/usr/bin/tool/x");
	/* A path spelt as a directory follows a final link and names nothing
	 * when that is no directory (CST through the engine's archive API). */
	assert_int_equal(must(fs, "/lib/", false).type, CST_FT_DIR);
	assert_int_equal(must(fs, "/lib//", false).type, CST_FT_DIR);
	assert_int_equal(must(fs, "/lib/.", false).type, CST_FT_DIR);
	assert_int_equal(cst_fs_lookup(fs, "/chain/a/", false, &info, &resolved, &err), 0);
	assert_absent(fs, "/usr/bin/tool/");
	assert_int_equal(look(fs, "/etc/dangling/", false, &i2), 0);
	assert_int_equal(must(fs, "/usr/bin/", false).type, CST_FT_DIR);
	/* ".." in the path is lexical, as Go's path.Clean: it drops the name
	 * before it, a link or not ("/abs" is "/usr/bin"). */
	must(fs, "/abs/../usr/lib/libx.so", false);
	assert_absent(fs, "/abs/../libx.so");
	assert_int_equal(cst_fs_lookup(fs, "/abs/../lib/libx.so", false, &info, &resolved, &err), 1);
	assert_string_equal(resolved, "/usr/lib/libx.so");
	free(resolved);
	assert_absent(fs, "/nothing");

	/* Loops: an error, not a hang. */
	assert_int_equal(cst_fs_lookup(fs, "/loop1", true, &info, NULL, &err), -1);
	assert_int_equal(err.code, CST_E_IMAGE);
	assert_non_null(strstr(err.msg, "symbolic links"));
	cst_error_clear(&err);
	assert_int_equal(cst_fs_lookup(fs, "/loop1/x", false, &info, NULL, &err), -1);
	cst_error_clear(&err);
	assert_int_equal(cst_fs_lookup(fs, "/self", true, &info, NULL, &err), -1);
	cst_error_clear(&err);
	/* Not followed, the loop is just a link. */
	assert_int_equal(cst_fs_lookup(fs, "/loop1", false, &info, NULL, &err), 1);
	assert_string_equal(info.link, "loop2");
	cst_fs_free(fs);
}

static void test_names(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	const struct spec l0[] = {
		{"/abs/file", 'f'},
		{"./dot/file", 'f'},
		{"trailing/", 'd'},
		{"a//b/./c", 'f'},
		{"with space/x y", 'f'},
	};
	APPLY(fs, l0, 0);
	must(fs, "/abs/file", false);
	must(fs, "/dot/file", false);
	must(fs, "/trailing", false);
	must(fs, "/a/b/c", false);
	must(fs, "/with space/x y", false);

	const struct spec bad[] = {{"ok", 'f'}, {"a/../../evil", 'f'}};
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(apply_specs(fs, bad, 2, 1, &err), -1);
	assert_int_equal(err.code, CST_E_IMAGE);
	assert_non_null(strstr(err.msg, "a/../../evil"));
	cst_error_clear(&err);
	const struct spec badlink[] = {{"h", 'h', 0, "../x"}};
	assert_int_equal(apply_specs(fs, badlink, 1, 1, &err), -1);
	assert_non_null(strstr(err.msg, "../x"));
	cst_error_clear(&err);
	assert_absent(fs, "/evil");
	assert_absent(fs, "/ok");
	cst_fs_free(fs);
}

static void test_wanted_contents(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	assert_int_equal(cst_fs_want_path(fs, "/etc/os-release"), 0);
	assert_int_equal(cst_fs_want_path(fs, "//etc/../etc/./empty"), 0);
	assert_int_equal(cst_fs_want_glob(fs, "/usr/share/doc/*/copyright"), 0);
	assert_true(cst_fs_wants(fs, "/etc/os-release"));
	assert_true(cst_fs_wants(fs, "etc/empty"));
	assert_true(cst_fs_wants(fs, "/usr/share/doc/bash/copyright"));
	assert_false(cst_fs_wants(fs, "/usr/share/doc/bash/x/copyright"));
	assert_false(cst_fs_wants(fs, "/etc/passwd"));
	const struct spec l0[] = {
		{"etc/os-release", 'f', 0, "ID=test\n"},
		{"etc/empty", 'f', 0, ""},
		{"etc/passwd", 'f', 0, "root\n"},
		{"usr/share/doc/b/copyright", 'f', 0, "GPL b"},
		{"usr/share/doc/a/copyright", 'f', 0, "GPL a"},
		{"usr/share/doc/c/", 'd'},
	};
	APPLY(fs, l0, 0);
	struct cst_fs_info i = must(fs, "/etc/os-release", false);
	assert_true(i.has_content);
	assert_int_equal(i.content_len, 8);
	assert_memory_equal(i.content, "ID=test\n", 8);
	i = must(fs, "/etc/empty", false);
	assert_true(i.has_content);
	assert_int_equal(i.content_len, 0);
	assert_false(must(fs, "/etc/passwd", false).has_content);
	assert_string_equal(must(fs, "/usr/share/doc/a/copyright", false).content, "GPL a");

	/* A later layer's change replaces the kept contents. */
	const struct spec l1[] = {{"etc/os-release", 'f', 0, "ID=new\n"}};
	APPLY(fs, l1, 1);
	assert_string_equal(must(fs, "/etc/os-release", false).content, "ID=new\n");

	/* Clear drops nodes, keeps the wanted set. */
	cst_fs_clear(fs);
	assert_int_equal(cst_fs_count(fs), 0);
	assert_absent(fs, "/etc/os-release");
	assert_true(cst_fs_wants(fs, "/etc/os-release"));
	APPLY(fs, l0, 0);
	assert_true(must(fs, "/etc/os-release", false).has_content);
	cst_fs_free(fs);
}

struct seen {
	char paths[8][64];
	int n;
};

static int collect(const char *path, const struct cst_fs_info *info, void *ud)
{
	struct seen *s = ud;
	assert_true(s->n < 8);
	snprintf(s->paths[s->n++], sizeof(s->paths[0]), "%s%s", path, info->type == CST_FT_DIR ? "/" : "");
	return 0;
}

static void test_glob(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	const struct spec l0[] = {
		{"doc/zz/copyright", 'f'}, {"doc/aa/copyright", 'f'}, {"doc/mm/copyright", 'l', 0, "../aa/copyright"},
		{"doc/nn/", 'd'},          {"doc/aa/other", 'f'},      {"doc/.hidden/copyright", 'f'},
	};
	APPLY(fs, l0, 0);
	struct seen s = {0};
	assert_int_equal(cst_fs_glob(fs, "/doc/*/copyright", collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.paths[0], "/doc/.hidden/copyright");
	assert_string_equal(s.paths[1], "/doc/aa/copyright");
	assert_string_equal(s.paths[2], "/doc/mm/copyright");
	assert_string_equal(s.paths[3], "/doc/zz/copyright");
	memset(&s, 0, sizeof(s));
	assert_int_equal(cst_fs_glob(fs, "/doc/[a-n]?", collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.paths[0], "/doc/aa/");
	assert_string_equal(s.paths[2], "/doc/nn/");
	memset(&s, 0, sizeof(s));
	assert_int_equal(cst_fs_glob(fs, "/", collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.paths[0], "//");
	cst_fs_free(fs);
}

static void test_hardlinks_and_second_pass(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	/* Only the links are wanted, not what they point to. */
	assert_int_equal(cst_fs_want_path(fs, "/srv/hard"), 0);
	assert_int_equal(cst_fs_want_path(fs, "/srv/soft"), 0);
	assert_int_equal(cst_fs_want_path(fs, "/srv/back"), 0);
	assert_int_equal(cst_fs_want_path(fs, "/via/file"), 0);
	const struct spec l0[] = {
		{"srv/orig", 'f', 0640, "shared", 5, 6},
		{"srv/hard", 'h', 0, "srv/orig"},
		{"srv/early", 'f', 0, "early contents"},
		{"srv/back", 'l', 0, "./early"},
		/* a link to a file later in the tar is followed lexically while
		 * reading, so no second pass is needed for it */
		{"srv/soft", 'l', 0, "../srv/./other"},
		{"srv/other", 'f', 0, "other contents"},
		{"real/file", 'f', 0, "through a dir link"},
		{"via", 'l', 0, "real"},
	};
	APPLY(fs, l0, 0);
	struct cst_fs_info i = must(fs, "/srv/hard", false);
	assert_int_equal(i.type, CST_FT_REG);
	assert_int_equal(i.mode, 0640);
	assert_int_equal(i.uid, 5);
	assert_int_equal(i.gid, 6);
	assert_int_equal(i.size, 6);
	assert_false(i.has_content);
	assert_string_equal(must(fs, "/srv/soft", true).content, "other contents");
	assert_false(must(fs, "/srv/back", true).has_content);

	int added = cst_fs_want_resolved(fs);
	assert_int_equal(added, 3);
	assert_true(cst_fs_wants(fs, "/srv/orig"));
	assert_true(cst_fs_wants(fs, "/srv/early"));
	assert_false(cst_fs_wants(fs, "/srv/other"));
	assert_true(cst_fs_wants(fs, "/real/file"));
	cst_fs_clear(fs);
	APPLY(fs, l0, 0);
	assert_string_equal(must(fs, "/srv/hard", false).content, "shared");
	assert_string_equal(must(fs, "/srv/soft", true).content, "other contents");
	assert_string_equal(must(fs, "/srv/back", true).content, "early contents");
	assert_string_equal(must(fs, "/via/file", true).content, "through a dir link");
	assert_int_equal(cst_fs_want_resolved(fs), 0);

	/* A hardlink to nothing is an error naming both. */
	const struct spec bad[] = {{"link", 'h', 0, "no/such/target"}};
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(apply_specs(fs, bad, 1, 1, &err), -1);
	assert_int_equal(err.code, CST_E_IMAGE);
	assert_non_null(strstr(err.msg, "no/such/target"));
	assert_non_null(strstr(err.msg, "link"));
	cst_error_clear(&err);
	cst_fs_free(fs);
}

/* Layers come plain, gzip'd or zstd-compressed; the reader must not care. */
static void test_compressed_layers(void **state)
{
	(void)state;
	static const int filters[] = {ARCHIVE_FILTER_NONE, ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_ZSTD};
	const struct spec s[] = {{"etc/motd", 'f', 0, "hello"}, {"etc/dir/", 'd'}};
	char *buf = malloc(TAR_MAX);
	for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
		size_t len = write_tar_filtered(s, 2, buf, filters[f]);
		struct cst_fs *fs = cst_fs_new();
		assert_int_equal(cst_fs_want_path(fs, "/etc/motd"), 0);
		struct cst_layer *layer = NULL;
		struct cst_error err = CST_ERROR_INIT;
		if (read_buf(fs, buf, len, &layer, &err) < 0)
			fail_msg("filter %d: %s", filters[f], err.msg);
		assert_int_equal(cst_fs_apply_layer(fs, layer, 0, &err), 0);
		assert_string_equal(must(fs, "/etc/motd", false).content, "hello");
		assert_int_equal(must(fs, "/etc/dir", false).type, CST_FT_DIR);
		cst_fs_free(fs);
	}
	/* Not a tar at all: an error, not an empty layer. */
	memset(buf, 'x', 4096);
	struct cst_fs *fs = cst_fs_new();
	struct cst_layer *layer = NULL;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(read_buf(fs, buf, 4096, &layer, &err), -1);
	assert_int_equal(err.code, CST_E_IMAGE);
	cst_error_clear(&err);
	cst_fs_free(fs);
	free(buf);
}

/* A header whose size field claims far more than the stream holds. */
static void test_size_beyond_stream(void **state)
{
	(void)state;
	const struct spec s[] = {{"ok", 'f', 0, "fine"}, {"huge", 'f', 0, "abc"}};
	char *buf = malloc(TAR_MAX);
	size_t len = write_tar(s, 2, buf);
	/* Find the ustar header of "huge" and claim 1 GiB; cut the stream. */
	size_t off = 0;
	for (; off + 512 <= len; off += 512) {
		if (memcmp(buf + off, "huge", 5) == 0 && memcmp(buf + off + 257, "ustar", 5) == 0)
			break;
	}
	assert_true(off + 512 <= len);
	char *h = buf + off;
	snprintf(h + 124, 12, "%011o", 1u << 30);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	size_t cut = off + 512 + 512;

	for (int wanted = 0; wanted < 2; wanted++) {
		struct cst_fs *fs = cst_fs_new();
		if (wanted)
			assert_int_equal(cst_fs_want_path(fs, "/huge"), 0);
		struct cst_layer *layer = NULL;
		struct cst_error err = CST_ERROR_INIT;
		assert_int_equal(read_buf(fs, buf, cut, &layer, &err), -1);
		assert_int_equal(err.code, CST_E_IMAGE);
		assert_non_null(strstr(err.msg, "huge"));
		cst_error_clear(&err);
		cst_fs_free(fs);
	}
	free(buf);
}

/* --- a million entries, generated on the fly ---------------------------- */

/* CST_TEST_LIGHT (set for the valgrind run, where a million entries take
 * minutes) keeps 10 files a directory: the same paths, a hundredth the work. */
static long n_dirs = 1000;
static long n_files = 1000;

struct gen {
	long next; /* entry number: each dir is followed by its files */
	long total;
	int zeros; /* end-of-archive blocks written */
	char block[512 * 128];
};

/* Headers differ only in name, type and checksum: patch a template
 * rather than format every field, so the test measures the reader. */
static char tmpl[2][512];
static unsigned tmpl_sum[2];

static void make_templates(void)
{
	for (int t = 0; t < 2; t++) {
		char *h = tmpl[t];
		memset(h, 0, 512);
		snprintf(h + 100, 8, "%07o", t ? 0755u : 0644u);
		snprintf(h + 108, 8, "%07o", 0u);
		snprintf(h + 116, 8, "%07o", 0u);
		snprintf(h + 124, 12, "%011o", 0u);
		snprintf(h + 136, 12, "%011o", 1700000000u);
		h[156] = t ? '5' : '0';
		memcpy(h + 257, "ustar", 6);
		memcpy(h + 263, "00", 2);
		memset(h + 148, ' ', 8);
		tmpl_sum[t] = 0;
		for (int i = 0; i < 512; i++)
			tmpl_sum[t] += (unsigned char)h[i];
	}
}

/* "d0042/" or "d0042/f0007": fixed-width decimal, written by hand. */
static size_t put_num(char *p, char prefix, long v)
{
	p[0] = prefix;
	for (int i = 4; i >= 1; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return 5;
}

static void ustar_header(char *h, long dir, long file)
{
	int t = file < 0;
	memcpy(h, tmpl[t], 512);
	size_t n = put_num(h, 'd', dir);
	h[n++] = '/';
	if (!t)
		n += put_num(h + n, 'f', file);
	unsigned sum = tmpl_sum[t];
	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)h[i];
	char *c = h + 148;
	for (int i = 5; i >= 0; i--, sum >>= 3)
		c[i] = (char)('0' + (sum & 7));
	c[6] = '\0';
	c[7] = ' ';
}

static la_ssize_t gen_read(struct archive *a, void *ud, const void **buf)
{
	struct gen *g = ud;
	size_t n = 0;
	while (n < sizeof(g->block)) {
		char *h = g->block + n;
		if (g->next < g->total) {
			long d = g->next / (n_files + 1), f = g->next % (n_files + 1);
			ustar_header(h, d, f - 1);
			g->next++;
		} else if (g->zeros < 2) {
			memset(h, 0, 512);
			g->zeros++;
		} else {
			break;
		}
		n += 512;
	}
	*buf = g->block;
	return (la_ssize_t)n;
}

/* AddressSanitizer's shadow memory and quarantine inflate the process's
 * RSS several times over; the bound is on the index, not on them. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_SLACK 4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_SLACK 4
#endif
#endif
#ifndef RSS_SLACK
#define RSS_SLACK 1
#endif

static long max_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void test_million_entries(void **state)
{
	(void)state;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long rss0 = max_rss_kib();
	make_templates();
	struct gen *g = calloc(1, sizeof(*g));
	if (getenv("CST_TEST_LIGHT"))
		n_files = 10;
	g->total = n_dirs * (n_files + 1);
	struct cst_fs *fs = cst_fs_new();
	assert_int_equal(cst_fs_want_glob(fs, "/d0500/f000[12]"), 0);
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open(a, g, NULL, gen_read, NULL), ARCHIVE_OK);
	struct cst_layer *layer = NULL;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_layer_read(a, fs, &layer, &err), 0);
	archive_read_free(a);
	assert_int_equal(cst_fs_apply_layer(fs, layer, 0, &err), 0);
	assert_int_equal(cst_fs_count(fs), (size_t)g->total);
	char last[32];
	snprintf(last, sizeof(last), "/d%04ld/f%04ld", n_dirs - 1, n_files - 1);
	assert_true(must(fs, last, false).type == CST_FT_REG);
	assert_true(must(fs, "/d0500/f0001", false).has_content);
	assert_false(must(fs, "/d0500/f0003", false).has_content);
	assert_absent(fs, "/d1000");

	/* Whiting out a big subtree is as cheap as building it. */
	struct cst_layer *wl = NULL;
	const struct spec wh[] = {{".wh.d0001", 'f'}, {"d0002/.wh..wh..opq", 'f'}};
	char *buf = malloc(TAR_MAX);
	size_t len = write_tar(wh, 2, buf);
	assert_int_equal(read_buf(fs, buf, len, &wl, &err), 0);
	free(buf);
	assert_int_equal(cst_fs_apply_layer(fs, wl, 1, &err), 0);
	assert_int_equal(cst_fs_count(fs), (size_t)(g->total - (n_files + 1) - n_files));
	assert_absent(fs, "/d0001/f0000");
	assert_absent(fs, "/d0002/f0000");
	must(fs, "/d0002", false);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	long grew_mib = (max_rss_kib() - rss0) / 1024;
	print_message("%ld entries: %.2f s, peak RSS grew %ld MiB\n", g->total, secs, grew_mib);
	/* About 64 bytes a node plus names and staging: far from unbounded. */
	assert_true(grew_mib < 400 * RSS_SLACK);
	assert_true(secs < 60);
	cst_fs_free(fs);
	free(g);
}

/* --- snapshots ---------------------------------------------------------- */

static char *snapshot_of(const struct cst_fs *fs, const struct cst_fs *extra, const char *key, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	struct cst_error err = CST_ERROR_INIT;
	if (cst_fs_snapshot_write(fs, extra, key, f, &err) < 0)
		fail_msg("snapshot: %s", err.msg);
	assert_int_equal(fclose(f), 0);
	*ret_len = len;
	return buf;
}

static int load_snapshot(struct cst_fs *fs, const char *buf, size_t len, const char *key, struct cst_error *err)
{
	FILE *f = fmemopen((void *)buf, len, "rb");
	assert_non_null(f);
	int r = cst_fs_snapshot_read(fs, key, f, "snap", err);
	fclose(f);
	return r;
}

static int list_cb(const char *path, const struct cst_fs_info *i, void *ud)
{
	FILE *out = ud;
	fprintf(out, "%s %d %o %lld %lld %lld %d %s %d %.*s\n", path, i->type, i->mode, (long long)i->uid,
		(long long)i->gid, (long long)i->size, i->layer, i->link ? i->link : "-", i->has_content,
		(int)i->content_len, i->has_content ? i->content : "");
	return 0;
}

/* Every node with everything the checks see, in path order. */
static char *listing(const struct cst_fs *fs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	const char *pats[] = {"/", "/*", "/*/*", "/*/*/*", "/*/*/*/*"};
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		assert_int_equal(cst_fs_glob(fs, pats[i], list_cb, f), 0);
	fclose(f);
	return buf;
}

static void test_snapshot_round_trip(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	assert_int_equal(cst_fs_want_path(fs, "/etc/os-release"), 0);
	assert_int_equal(cst_fs_want_path(fs, "/srv/hard"), 0);
	assert_int_equal(cst_fs_want_glob(fs, "/usr/share/doc/*/copyright"), 0);
	const struct spec l0[] = {
		{"./", 'd', 0700, NULL, 1, 2},
		{"etc/os-release", 'f', 0644, "ID=test\n"},
		{"etc/passwd", 'f', 04755, "root\n", 7, 8},
		{"etc/gone", 'f', 0, "x"},
		{"srv/orig", 'f', 0640, "shared", 5, 6},
		{"srv/hard", 'h', 0, "srv/orig"},
		{"srv/fifo", 'p', 0600},
		{"bin", 'l', 0, "usr/bin"},
		{"usr/bin/sh", 'f', 0755, "#!"},
		{"usr/share/doc/a/copyright", 'f', 0, "GPL a"},
		{"usr/share/doc/b/copyright", 'f', 0, ""},
	};
	APPLY(fs, l0, 0);
	const struct spec l1[] = {{"etc/.wh.gone", 'f'}, {"etc/new", 'f', 0600, "new", 3, 4}};
	APPLY(fs, l1, 1);
	size_t len;
	char *snap = snapshot_of(fs, NULL, "image=x view=export", &len);

	struct cst_fs *back = cst_fs_new();
	assert_int_equal(cst_fs_want_path(back, "/etc/os-release"), 0);
	struct cst_error err = CST_ERROR_INIT;
	if (load_snapshot(back, snap, len, "image=x view=export", &err) < 0)
		fail_msg("load: %s", err.msg);
	char *a = listing(fs), *b = listing(back);
	assert_string_equal(a, b);
	/* A hardlink's contents come with the second pass, as from a layer. */
	assert_non_null(strstr(b, "/srv/hard 1 640 5 6 6 0 - 0 \n"));
	assert_int_equal(cst_fs_count(back), cst_fs_count(fs));
	assert_absent(back, "/etc/gone");
	assert_string_equal(must(back, "/bin/sh", true).content ? "kept" : "not kept", "not kept");
	/* Wanted here and kept there: the snapshot answers this run. */
	assert_int_equal(cst_fs_content_missing(back), 0);
	free(a);
	free(b);

	/* One more wanted file that was not kept: it cannot. */
	assert_int_equal(cst_fs_want_path(back, "/etc/passwd"), 0);
	assert_int_equal(cst_fs_content_missing(back), 1);
	/* A glob that matches a file without contents cannot either. */
	struct cst_fs *globbed = cst_fs_new();
	assert_int_equal(cst_fs_want_glob(globbed, "/usr/bin/*"), 0);
	assert_int_equal(load_snapshot(globbed, snap, len, "image=x view=export", &err), 0);
	assert_int_equal(cst_fs_content_missing(globbed), 1);
	cst_fs_free(globbed);

	/* A snapshot that replaces this one keeps its contents: passwd's
	 * now, os-release's from the old one. */
	struct cst_fs *next = cst_fs_new();
	assert_int_equal(cst_fs_want_path(next, "/etc/passwd"), 0);
	APPLY(next, l0, 0);
	APPLY(next, l1, 1);
	size_t len2;
	char *snap2 = snapshot_of(next, back, "image=x view=export", &len2);
	assert_int_equal(load_snapshot(back, snap2, len2, "image=x view=export", &err), 0);
	assert_int_equal(cst_fs_content_missing(back), 0);
	assert_string_equal(must(back, "/etc/passwd", false).content, "root\n");
	assert_string_equal(must(back, "/etc/os-release", false).content, "ID=test\n");
	free(snap2);
	cst_fs_free(next);
	cst_fs_free(back);
	cst_fs_free(fs);
	free(snap);
}

static void test_snapshot_damage(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	assert_int_equal(cst_fs_want_path(fs, "/etc/os-release"), 0);
	const struct spec l0[] = {
		{"etc/os-release", 'f', 0644, "ID=test\n"},
		{"usr/lib/x", 'l', 0, "../../etc/os-release"},
		{"usr/bin/sh", 'f', 0755, "#!"},
	};
	APPLY(fs, l0, 0);
	size_t len;
	char *snap = snapshot_of(fs, NULL, "k1", &len);
	struct cst_fs *back = cst_fs_new();
	struct cst_error err = CST_ERROR_INIT;

	assert_int_equal(load_snapshot(back, snap, len, "k2", &err), -1);
	assert_non_null(strstr(err.msg, "another image"));
	cst_error_clear(&err);

	/* Every truncation and every flipped byte is refused, and the index
	 * is left empty rather than half filled. */
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(load_snapshot(back, snap, cut, "k1", &err), -1);
		assert_int_equal(cst_fs_count(back), 0);
		cst_error_clear(&err);
	}
	char *bad = malloc(len + 1);
	assert_non_null(bad);
	for (size_t at = 0; at < len; at++) {
		memcpy(bad, snap, len);
		bad[at] ^= 0x20;
		assert_int_equal(load_snapshot(back, bad, len, "k1", &err), -1);
		assert_int_equal(cst_fs_count(back), 0);
		cst_error_clear(&err);
	}
	memcpy(bad, snap, len);
	bad[len] = 0;
	assert_int_equal(load_snapshot(back, bad, len + 1, "k1", &err), -1);
	cst_error_clear(&err);
	assert_int_equal(load_snapshot(back, snap, len, "k1", &err), 0);
	assert_int_equal(cst_fs_count(back), cst_fs_count(fs));
	free(bad);
	free(snap);
	cst_fs_free(back);
	cst_fs_free(fs);
}

/* --- saved layers ------------------------------------------------------- */

static struct cst_layer *stage_specs(const struct cst_fs *fs, const struct spec *s, size_t n)
{
	char *buf = malloc(TAR_MAX);
	assert_non_null(buf);
	size_t len = write_tar(s, n, buf);
	struct cst_layer *layer = NULL;
	struct cst_error err = CST_ERROR_INIT;
	if (read_buf((struct cst_fs *)fs, buf, len, &layer, &err) < 0)
		fail_msg("stage: %s", err.msg);
	free(buf);
	return layer;
}

static char *layer_bytes(const struct cst_layer *layer, const struct cst_layer *extra, const char *key, size_t *ret_len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, ret_len);
	assert_non_null(f);
	struct cst_error err = CST_ERROR_INIT;
	if (cst_layer_snapshot_write(layer, extra, key, f, &err) < 0)
		fail_msg("save: %s", err.msg);
	fclose(f);
	return buf;
}

static int layer_load(const char *buf, size_t len, const char *key, struct cst_layer **ret, struct cst_error *err)
{
	FILE *f = fmemopen((void *)buf, len, "rb");
	assert_non_null(f);
	int r = cst_layer_snapshot_read(key, f, "saved", ret, err);
	fclose(f);
	return r;
}

/* The lower layer with files, a hardlink, a symlink and directories; the
 * upper one deletes a file, a subtree and a directory's lower children. */
static const struct spec lower[] = {
	{"./", 'd', 0755},
	{"etc/passwd", 'f', 0644, "root:x:0:0\n"},
	{"etc/os-release", 'f', 0644, "ID=base\n"},
	{"srv/orig", 'f', 0640, "shared", 5, 6},
	{"srv/hard", 'h', 0, "srv/orig"},
	{"bin", 'l', 0, "usr/bin"},
	{"usr/bin/sh", 'f', 0755, "#!"},
	{"gone/sub/a", 'f', 0644, "a"},
	{"opaque/old", 'f', 0644, "old"},
};
static const struct spec upper[] = {
	{"etc/.wh.os-release", 'f'},
	{".wh.gone", 'f'},
	{"opaque/.wh..wh..opq", 'f'},
	{"opaque/new", 'f', 0600, "new", 3, 4},
	{"etc/passwd", 'f', 0600, "root:x:0:0\nuser:x:1000\n"},
};

static void test_saved_layers_apply_as_read(void **state)
{
	(void)state;
	struct cst_fs *full = cst_fs_new(), *cached = cst_fs_new();
	assert_int_equal(cst_fs_want_path(full, "/etc/passwd"), 0);
	assert_int_equal(cst_fs_want_path(cached, "/etc/passwd"), 0);
	APPLY(full, lower, 0);
	APPLY(full, upper, 1);

	/* Each layer staged, saved, loaded back and applied over the other. */
	const struct spec *specs[] = {lower, upper};
	size_t counts[] = {sizeof(lower) / sizeof(lower[0]), sizeof(upper) / sizeof(upper[0])};
	for (int i = 0; i < 2; i++) {
		struct cst_layer *staged = stage_specs(cached, specs[i], counts[i]);
		size_t len;
		char *bytes = layer_bytes(staged, NULL, "layer=k", &len);
		cst_layer_free(staged);
		struct cst_layer *back = NULL;
		struct cst_error err = CST_ERROR_INIT;
		if (layer_load(bytes, len, "layer=k", &back, &err) < 0)
			fail_msg("load: %s", err.msg);
		char *missing = NULL;
		assert_int_equal(cst_layer_content_missing(cached, back, &missing), 0);
		if (cst_fs_apply_layer(cached, back, i, &err) < 0)
			fail_msg("apply: %s", err.msg);
		free(bytes);
	}
	char *a = listing(full), *b = listing(cached);
	assert_string_equal(a, b);
	assert_absent(cached, "/etc/os-release");
	assert_absent(cached, "/gone/sub/a");
	assert_absent(cached, "/opaque/old");
	assert_string_equal(must(cached, "/etc/passwd", true).content, "root:x:0:0\nuser:x:1000\n");
	free(a);
	free(b);
	cst_fs_free(full);
	cst_fs_free(cached);
}

static void test_saved_layer_wants_and_damage(void **state)
{
	(void)state;
	struct cst_fs *fs = cst_fs_new();
	assert_int_equal(cst_fs_want_path(fs, "/etc/passwd"), 0);
	struct cst_layer *staged = stage_specs(fs, lower, sizeof(lower) / sizeof(lower[0]));
	size_t len;
	char *bytes = layer_bytes(staged, NULL, "layer=k1", &len);
	struct cst_error err = CST_ERROR_INIT;

	/* Saved while passwd was wanted: a run that wants os-release too
	 * cannot be answered from it; one whose glob matches only kept or
	 * non-regular files can. */
	struct cst_fs *other = cst_fs_new();
	assert_int_equal(cst_fs_want_path(other, "/etc/os-release"), 0);
	struct cst_layer *back = NULL;
	assert_int_equal(layer_load(bytes, len, "layer=k1", &back, &err), 0);
	char *missing = NULL;
	assert_int_equal(cst_layer_content_missing(other, back, &missing), 1);
	assert_string_equal(missing, "/etc/os-release");
	free(missing);
	struct cst_fs *globbed = cst_fs_new();
	assert_int_equal(cst_fs_want_glob(globbed, "/etc/pass*"), 0);
	assert_int_equal(cst_layer_content_missing(globbed, back, &missing), 0);
	cst_fs_free(globbed);

	/* Read again for os-release and saved over the old one: both kept. */
	struct cst_layer *again = stage_specs(other, lower, sizeof(lower) / sizeof(lower[0]));
	size_t len2;
	char *bytes2 = layer_bytes(again, back, "layer=k1", &len2);
	struct cst_layer *merged = NULL;
	assert_int_equal(layer_load(bytes2, len2, "layer=k1", &merged, &err), 0);
	assert_int_equal(cst_layer_content_missing(fs, merged, &missing), 0);
	assert_int_equal(cst_layer_content_missing(other, merged, &missing), 0);
	cst_layer_free(merged);
	cst_layer_free(again);
	cst_layer_free(back);
	free(bytes2);

	assert_int_equal(layer_load(bytes, len, "layer=k2", &back, &err), -1);
	assert_non_null(strstr(err.msg, "another layer"));
	cst_error_clear(&err);
	/* Every truncation and every flipped byte is refused. */
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(layer_load(bytes, cut, "layer=k1", &back, &err), -1);
		assert_null(back);
		cst_error_clear(&err);
	}
	char *bad = malloc(len);
	assert_non_null(bad);
	for (size_t at = 0; at < len; at++) {
		memcpy(bad, bytes, len);
		bad[at] ^= 0x20;
		assert_int_equal(layer_load(bad, len, "layer=k1", &back, &err), -1);
		assert_null(back);
		cst_error_clear(&err);
	}
	free(bad);
	free(bytes);
	cst_layer_free(staged);
	cst_fs_free(other);
	cst_fs_free(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types_modes_owners),
		cmocka_unit_test(test_layers_and_replacement),
		cmocka_unit_test(test_whiteouts),
		cmocka_unit_test(test_layer_stats),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_wanted_contents),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_hardlinks_and_second_pass),
		cmocka_unit_test(test_compressed_layers),
		cmocka_unit_test(test_size_beyond_stream),
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_snapshot_damage),
		cmocka_unit_test(test_saved_layers_apply_as_read),
		cmocka_unit_test(test_saved_layer_wants_and_damage),
		cmocka_unit_test(test_million_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
