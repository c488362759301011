/* One layer tar, as bytes: read twice into an index (so the second copy's
 * whiteouts and replacements act on the first), then looked up, globbed
 * and re-read for resolved links, as file checks do. */
#include <archive.h>
#include <stdlib.h>
#include <string.h>

#include "cst/fs.h"
#include "fuzz.h"

static int count_node(const char *path, const struct cst_fs_info *info, void *ud)
{
	(void)path;
	(void)info;
	(*(size_t *)ud)++;
	return 0;
}

static int read_layer(struct cst_fs *fs, const uint8_t *data, size_t size, int index)
{
	struct archive *a = archive_read_new();
	if (!a)
		fuzz_die("archive_read_new");
	/* As a layer inside an image is opened: any compression, tar. */
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	struct cst_error err = CST_ERROR_INIT;
	int r = -1;
	if (archive_read_open_memory(a, data, size) == ARCHIVE_OK) {
		struct cst_layer *layer = NULL;
		if (cst_layer_read(a, fs, &layer, &err) == 0)
			r = cst_fs_apply_layer(fs, layer, index, &err);
	}
	archive_read_free(a);
	cst_error_clear(&err);
	return r;
}

static const char *const probes[] = {"/", "/etc/passwd", "/a", "/a/b", "/a/b/c", "/lib/x", "/../x", "/etc/../a"};

static void read_all(struct cst_fs *fs, const uint8_t *data, size_t size)
{
	if (read_layer(fs, data, size, 0) == 0)
		(void)read_layer(fs, data, size, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cst_fs *fs = cst_fs_new();
	if (!fs)
		fuzz_die("cst_fs_new");
	if (cst_fs_want_path(fs, "/etc/passwd") < 0 || cst_fs_want_path(fs, "/a") < 0 ||
	    cst_fs_want_glob(fs, "/a/*") < 0)
		fuzz_die("cst_fs_want");
	read_all(fs, data, size);
	struct cst_error err = CST_ERROR_INIT;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		for (int follow = 0; follow < 2; follow++) {
			struct cst_fs_info info;
			char *resolved = NULL;
			if (cst_fs_lookup(fs, probes[i], follow, &info, &resolved, &err) == 1 && info.has_content &&
			    info.content_len && !info.content)
				abort();
			free(resolved);
			cst_error_clear(&err);
		}
	}
	size_t n = 0;
	cst_fs_glob(fs, "/*", count_node, &n);
	cst_fs_glob(fs, "*", count_node, &n);
	if (cst_fs_want_resolved(fs) > 0) {
		cst_fs_clear(fs);
		read_all(fs, data, size);
	}
	cst_fs_free(fs);
	return 0;
}
