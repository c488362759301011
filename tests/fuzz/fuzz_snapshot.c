/* An index snapshot (the index cache's file format), as bytes.
 *
 * A damaged file fails its checksum, which random mutations would hit every
 * time; the harness recomputes the checksum over the input first, so the
 * mutations reach the parser behind it.  A snapshot that loads is then
 * queried as file checks would, written again and read back: the second
 * load must hold as many nodes as the first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/fs.h"
#include "fuzz.h"

#define KEY "image=sha256:fuzz view=export api=1.41"

static void fix_checksum(uint8_t *p, size_t n)
{
	if (n < 8)
		return;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n - 8; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	for (size_t i = 0; i < 8; i++)
		p[n - 8 + i] = (uint8_t)(h >> (8 * i));
}

static int load(struct cst_fs *fs, const void *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "rb");
	if (!f)
		return -1;
	struct cst_error err = CST_ERROR_INIT;
	int r = cst_fs_snapshot_read(fs, KEY, f, "fuzz", &err);
	cst_error_clear(&err);
	fclose(f);
	return r;
}

static int count_node(const char *path, const struct cst_fs_info *info, void *ud)
{
	(void)path;
	(void)info;
	(*(size_t *)ud)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t *copy = malloc(size);
	if (!copy)
		fuzz_die("malloc");
	memcpy(copy, data, size);
	fix_checksum(copy, size);

	struct cst_fs *fs = cst_fs_new();
	if (!fs || cst_fs_want_path(fs, "/etc/os-release") < 0 || cst_fs_want_glob(fs, "/usr/share/doc/*/copyright") < 0)
		fuzz_die("cst_fs_new");
	if (load(fs, copy, size) == 0) {
		static const char *const probes[] = {"/", "/etc/os-release", "/a/b", "/lib/x", "/bin/sh"};
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			struct cst_fs_info info;
			struct cst_error err = CST_ERROR_INIT;
			(void)cst_fs_lookup(fs, probes[i], true, &info, NULL, &err);
			cst_error_clear(&err);
		}
		size_t n = 0;
		(void)cst_fs_glob(fs, "/*/*", count_node, &n);
		(void)cst_fs_content_missing(fs);

		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f)
			fuzz_die("open_memstream");
		struct cst_error err = CST_ERROR_INIT;
		int w = cst_fs_snapshot_write(fs, NULL, KEY, f, &err);
		cst_error_clear(&err);
		fclose(f);
		struct cst_fs *again = cst_fs_new();
		if (!again)
			fuzz_die("cst_fs_new");
		if (w == 0 && (load(again, buf, len) != 0 || cst_fs_count(again) != cst_fs_count(fs)))
			abort();
		cst_fs_free(again);
		free(buf);
	}
	cst_fs_free(fs);
	free(copy);
	return 0;
}
