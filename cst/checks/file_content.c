#include <stdlib.h>

#include "cst/checks.h"
#include "excerpt.h"

int cst_check_file_content(const struct cst_check_ctx *ctx, const struct cst_file_content_test *t,
			   struct cst_result *r)
{
	if (cst_result_init(r, "File Content Test: %s", t->name.s) < 0)
		return -1;
	struct cst_fs_info info;
	struct cst_error err = CST_ERROR_INIT;
	/* Contents are read through a final symlink, as a process in the
	 * container would; the path is not $VAR-expanded (as CST). */
	/* A path with a NUL byte names nothing, as the engine tells CST. */
	int found = cst_str_has_nul(t->path.s, t->path.len) ? 0
							     : cst_fs_lookup(ctx->fs, t->path.s, true, &info, NULL, &err);
	int rc;
	if (found < 0)
		rc = cst_result_fail(r, "Failed to open %s. Error: %s", t->path.s, err.msg ? err.msg : "lookup failed");
	else if (!found)
		rc = cst_result_fail(r, "Failed to open %s. Error: no such file or directory", t->path.s);
	else if (info.type == CST_FT_DIR)
		rc = cst_result_fail(r, "Failed to open %s. Error: is a directory", t->path.s);
	else if (info.type != CST_FT_REG)
		rc = cst_result_fail(r, "Failed to open %s. Error: not a regular file", t->path.s);
	else if (!info.has_content)
		rc = cst_result_fail(r, "Failed to open %s. Error: contents not available (%lld bytes)", t->path.s,
				     (long long)info.size);
	else
		rc = cst_check_patterns(r, &t->expected_contents, &t->excluded_contents, "file content string",
					info.content, info.content_len);
	cst_error_clear(&err);
	return rc;
}
