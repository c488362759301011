#include "cst/checks.h"

int cst_checks_want(const struct cst_config *cfg, const struct cst_env_list *env, struct cst_fs *fs)
{
	(void)env;
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
	return 0;
}
