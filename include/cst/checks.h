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

/* cst extensions: fileSystemTests, layerTests, and the extension keys
 * of a file existence test (called by cst_check_file_existence on a found
 * path; path is expanded, shown as written). */
int cst_check_file_system(const struct cst_check_ctx *ctx, const struct cst_file_system_test *t,
			  struct cst_result *ret);
enum cst_layer_assertion {
	CST_LAYER_MAX_LAYERS,
	CST_LAYER_MAX_IMAGE_SIZE,
	CST_LAYER_MAX_LAYER_SIZE,
	CST_LAYER_MAX_WASTED,
	CST_LAYER_BASE,
	CST_LAYER_N,
};
/* Whether layerTests asks for a (each assertion is a result of its own,
 * "Layer Test: maxLayers"...). */
bool cst_layer_test_has(const struct cst_layer_test *t, enum cst_layer_assertion a);
int cst_check_layer(const struct cst_check_ctx *ctx, const struct cst_layer_test *t, enum cst_layer_assertion a,
		    struct cst_result *ret);
int cst_check_file_attrs(const struct cst_check_ctx *ctx, const struct cst_file_existence_test *t,
			 const char *shown, const char *path, const struct cst_fs_info *info, struct cst_result *ret);
/* The id of a user (group: of a group) by name as the image's own
 * /etc/passwd (/etc/group) defines it; a number names itself.  1 with
 * *ret set, 0 with why saying why not. */
int cst_image_account(const struct cst_fs *fs, bool group, const char *name, int64_t *ret, char *why,
		      size_t why_size);
/* "file", "directory", "symlink", "char", "block", "fifo", "socket". */
const char *cst_ftype_name(enum cst_ftype t);

/* Declares to fs every path whose contents the config's tests need. */
int cst_checks_want(const struct cst_config *cfg, const struct cst_env_list *env, struct cst_fs *fs);
/* Declares to fs every path the config's file checks will look up, or
 * that one needs the whole tree (cst_fs_need_*); env as ctx->env. */
int cst_checks_need(const struct cst_config *cfg, const struct cst_env_list *env, struct cst_fs *fs);

/* Go's FileMode.String() for a node ("drwxr-xr-x", "Lrwxrwxrwx", ...). */
void cst_mode_string(const struct cst_fs_info *info, char buf[16]);

#endif
