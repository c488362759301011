#include <stdlib.h>

#include "cst/checks.h"

static bool names_accounts(const struct cst_config *cfg, bool group)
{
	for (size_t i = 0; i < cfg->n_file_existence_tests; i++)
		if (group ? cfg->file_existence_tests[i].group.s != NULL : cfg->file_existence_tests[i].owner.s != NULL)
			return true;
	for (size_t i = 0; i < cfg->n_file_system_tests; i++)
		if (group ? cfg->file_system_tests[i].group.s != NULL : cfg->file_system_tests[i].owner.s != NULL)
			return true;
	return false;
}

int cst_checks_want(const struct cst_config *cfg, const struct cst_env_list *env, struct cst_fs *fs)
{
	for (size_t i = 0; i < cfg->n_file_content_tests; i++)
		if (cst_fs_want_path(fs, cfg->file_content_tests[i].path.s) < 0)
			return -1;
	for (size_t i = 0; i < cfg->n_license_tests; i++) {
		const struct cst_license_test *t = &cfg->license_tests[i];
		if (t->debian && cst_fs_want_glob(fs, "/usr/share/doc/*/copyright") < 0)
			return -1;
		for (size_t j = 0; j < t->files.n; j++)
			if (cst_fs_want_path(fs, t->files.v[j].s) < 0)
				return -1;
	}
	/* Owners and groups by name are the image's own. */
	if (names_accounts(cfg, false) && cst_fs_want_path(fs, "/etc/passwd") < 0)
		return -1;
	if (names_accounts(cfg, true) && cst_fs_want_path(fs, "/etc/group") < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_file_existence_tests; i++) {
		const struct cst_file_existence_test *t = &cfg->file_existence_tests[i];
		if (!t->sha256.s || cst_str_has_nul(t->path.s, t->path.len))
			continue;
		/* The path as the check expands it (schema 2.0.0 only has sha256). */
		char *path = env ? cst_expand(t->path.s, env) : NULL;
		int rc = cst_fs_want_path(fs, path ? path : t->path.s);
		free(path);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Every lookup the checks will make, spelt as they will make it: the
 * existence checks expand $VAR against env first (NULL: no expansion). */
int cst_checks_need(const struct cst_config *cfg, const struct cst_env_list *env, struct cst_fs *fs)
{
	if (cst_config_needs_whole_tree(cfg) &&
	    cst_fs_need_tree(fs, cfg->n_file_system_tests ? "fileSystemTests look at every entry"
				 : cfg->layer_test.max_image_size.present || cfg->layer_test.max_layer_size.present ||
						 cfg->layer_test.max_wasted_bytes.present
					 ? "layer sizes are measured over every entry"
					 : "owner and group by name are looked up in /etc/passwd and /etc/group") < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_file_existence_tests; i++) {
		const struct cst_file_existence_test *t = &cfg->file_existence_tests[i];
		if (cst_str_has_nul(t->path.s, t->path.len))
			continue;
		char *path = cst_expand(t->path.s, env);
		if (!path)
			return -1;
		int rc = *path ? cst_fs_need_path(fs, path) : 0;
		free(path);
		if (rc < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->n_file_content_tests; i++) {
		const struct cst_file_content_test *t = &cfg->file_content_tests[i];
		if (!cst_str_has_nul(t->path.s, t->path.len) && cst_fs_need_path(fs, t->path.s) < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->n_license_tests; i++) {
		const struct cst_license_test *t = &cfg->license_tests[i];
		if (t->debian && cst_fs_need_tree(fs, "a license test with debian: true lists /usr/share/doc") < 0)
			return -1;
		for (size_t j = 0; j < t->files.n; j++)
			if (cst_fs_need_path(fs, t->files.v[j].s) < 0)
				return -1;
	}
	return 0;
}
