/* Checks: one file each under cst/checks/.  A check turns one test of the
 * config and what the image holds into a struct cst_result; a failed check
 * is a result, not an error (-1 means out of memory). */
#ifndef CST_CHECKS_H
#define CST_CHECKS_H

#include "cst/command.h"
#include "cst/config.h"
#include "cst/expand.h"
#include "cst/fs.h"
#include "cst/image.h"
#include "cst/result.h"

struct cst_check_ctx {
	const struct cst_fs *fs;
	const struct cst_image_meta *meta;
	const struct cst_env_list *env; /* image env: $VAR in fileExistence paths */
};

int cst_check_file_existence(const struct cst_check_ctx *ctx, const struct cst_file_existence_test *t,
			     struct cst_result *ret);
int cst_check_file_content(const struct cst_check_ctx *ctx, const struct cst_file_content_test *t,
			   struct cst_result *ret);
int cst_check_license(const struct cst_check_ctx *ctx, const struct cst_license_test *t, struct cst_result *ret);
int cst_check_metadata(const struct cst_check_ctx *ctx, const struct cst_metadata_test *t, struct cst_result *ret);
/* Moves o's output into ret (o's buffers are left empty). */
int cst_check_command(const struct cst_command_test *t, struct cst_command_outcome *o, struct cst_result *ret);

/* Declares to fs every path whose contents the config's tests need. */
int cst_checks_want(const struct cst_config *cfg, const struct cst_env_list *env, struct cst_fs *fs);
/* Declares to fs every path the config's file checks will look up, or
 * that one needs the whole tree (cst_fs_need_*); env as ctx->env. */
int cst_checks_need(const struct cst_config *cfg, const struct cst_env_list *env, struct cst_fs *fs);

/* Go's FileMode.String() for a node ("drwxr-xr-x", "Lrwxrwxrwx", ...). */
void cst_mode_string(const struct cst_fs_info *info, char buf[16]);

#endif
