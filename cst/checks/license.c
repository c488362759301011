#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/checks.h"

#define DEBIAN_DOC_ROOT "/usr/share/doc"

/* CST's lists, kept as they are so verdicts stay the same. */
static const char *const skipped_packages[] = {"libgnutls30", NULL};
static const char *const banned_words[] = {"AGPL", "WTFPL", NULL};

static bool contains_upper(const char *text, size_t len, const char *word)
{
	size_t wl = strlen(word);
	for (size_t i = 0; i + wl <= len; i++) {
		size_t k = 0;
		while (k < wl && toupper((unsigned char)text[i + k]) == word[k])
			k++;
		if (k == wl)
			return true;
	}
	return false;
}

static int check_file(const struct cst_check_ctx *ctx, const char *path, struct cst_result *r)
{
	struct cst_fs_info info;
	struct cst_error err = CST_ERROR_INIT;
	int found = cst_fs_lookup(ctx->fs, path, true, &info, NULL, &err);
	int rc = 0;
	if (found <= 0 || info.type != CST_FT_REG || !info.has_content) {
		const char *why = found < 0 ? (err.msg ? err.msg : "lookup failed")
			: !found		  ? "no such file or directory"
			: info.type != CST_FT_REG ? "not a regular file"
						  : "contents not available";
		rc = cst_result_fail(r, "Error reading license file for %s: %s", path, why);
	} else {
		for (const char *const *w = banned_words; *w; w++) {
			if (contains_upper(info.content, info.content_len, *w)) {
				rc = cst_result_fail(r, "Invalid license for %s, license contains %s", path, *w);
				break;
			}
		}
	}
	cst_error_clear(&err);
	return rc;
}

struct pkg_walk {
	const struct cst_check_ctx *ctx;
	struct cst_result *r;
	size_t prefix_len;
	int rc;
};

static int on_package(const char *path, const struct cst_fs_info *info, void *ud)
{
	struct pkg_walk *w = ud;
	if (info->type != CST_FT_DIR)
		return 0;
	const char *name = path + w->prefix_len;
	for (const char *const *s = skipped_packages; *s; s++)
		if (strcmp(name, *s) == 0)
			return 0;
	char *file = NULL;
	if (asprintf(&file, "%s/copyright", path) < 0) {
		w->rc = -1;
		return 1;
	}
	struct cst_fs_info ci;
	struct cst_error err = CST_ERROR_INIT;
	if (cst_fs_lookup(w->ctx->fs, file, true, &ci, NULL, &err) <= 0 &&
	    cst_result_fail(w->r, "Error reading license file for %s: %s", name,
			    err.msg ? err.msg : "no such file or directory") < 0)
		w->rc = -1;
	cst_error_clear(&err);
	if (w->rc == 0 && check_file(w->ctx, file, w->r) < 0)
		w->rc = -1;
	free(file);
	return w->rc;
}

int cst_check_license(const struct cst_check_ctx *ctx, const struct cst_license_test *t, struct cst_result *r)
{
	if (cst_result_init(r, "License Test") < 0)
		return -1;
	char *root = NULL;
	if (t->debian) {
		struct cst_fs_info info;
		struct cst_error err = CST_ERROR_INIT;
		/* CST lists the packages from an archive of the directory: one
		 * that is a symlink or a file lists none. */
		int found = cst_fs_lookup(ctx->fs, DEBIAN_DOC_ROOT, false, &info, &root, &err);
		if (found <= 0) {
			int rc = cst_result_fail(r, "Error reading directory: %s: %s", DEBIAN_DOC_ROOT,
						 found < 0 ? err.msg : "no such directory");
			cst_error_clear(&err);
			free(root);
			return rc;
		}
		if (info.type != CST_FT_DIR) {
			free(root);
			root = NULL;
		}
	}
	if (t->debian && root) {
		char *pattern = NULL;
		if (asprintf(&pattern, "%s/*", root) < 0) {
			free(root);
			return -1;
		}
		struct pkg_walk w = {ctx, r, strlen(root) + 1, 0};
		cst_fs_glob(ctx->fs, pattern, on_package, &w);
		free(pattern);
		free(root);
		if (w.rc < 0)
			return -1;
	}
	for (size_t i = 0; i < t->files.n; i++)
		if (check_file(ctx, t->files.v[i].s, r) < 0)
			return -1;
	return 0;
}
