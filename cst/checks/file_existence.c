#include <stdlib.h>
#include <string.h>

#include "cst/checks.h"

static const char *exec_by_name(enum cst_exec_by e)
{
	switch (e) {
	case CST_EXEC_ANY:
		return "any";
	case CST_EXEC_OWNER:
		return "owner";
	case CST_EXEC_GROUP:
		return "group";
	case CST_EXEC_OTHER:
		return "other";
	default:
		return "";
	}
}

static uint32_t exec_mask(enum cst_exec_by e)
{
	switch (e) {
	case CST_EXEC_ANY:
		return 0111;
	case CST_EXEC_OWNER:
		return 0100;
	case CST_EXEC_GROUP:
		return 0010;
	case CST_EXEC_OTHER:
		return 0001;
	default:
		return 0;
	}
}

int cst_check_file_existence(const struct cst_check_ctx *ctx, const struct cst_file_existence_test *t,
			     struct cst_result *r)
{
	if (cst_result_init(r, "File Existence Test: %s", t->name.s) < 0)
		return -1;
	const char *shown = t->path.s;
	char *path = cst_expand(t->path.s, ctx->env);
	if (!path)
		return -1;

	struct cst_fs_info info;
	struct cst_error err = CST_ERROR_INIT;
	/* The final component is not followed: a symlink is tested as itself.
	 * An empty path (1.0.0 lets one through) or one with a NUL byte names
	 * nothing, as the engine tells CST. */
	bool named = *path && !cst_str_has_nul(t->path.s, t->path.len);
	int found = named ? cst_fs_lookup(ctx->fs, path, false, &info, NULL, &err) : 0;
	int rc = 0;
	/* The engine CST asks resolves a final symlink all the same (to report
	 * its target) and answers an error for a loop: such a link does not
	 * exist to CST. */
	if (found > 0 && info.type == CST_FT_SYMLINK) {
		struct cst_fs_info target;
		found = cst_fs_lookup(ctx->fs, path, true, &target, NULL, &err);
		if (found == 0)
			found = 1; /* dangling: the link itself exists */
	}
	/* An error is an absence, as to CST; not cst's own failure to have
	 * read the path, which must never pass as one. */
	if (found < 0 && !t->should_exist && err.code != CST_E_INTERNAL)
		found = 0;
	if (found < 0) {
		rc = cst_result_fail(r, "Error examining file in container: %s", err.msg ? err.msg : "lookup failed");
		goto out;
	}
	if (!t->should_exist) {
		if (found)
			rc = cst_result_fail(r, "File %s should not exist but does", shown);
		goto out;
	}
	if (!found) {
		rc = cst_result_fail(r, "Error examining file in container: %s: no such file or directory", path);
		goto out;
	}

	char mode[16];
	cst_mode_string(&info, mode);
	/* An empty permissions string is no check (CST). */
	if (t->permissions.s && t->permissions.s[0] && strcmp(mode, t->permissions.s) != 0 &&
	    cst_result_fail(r, "%s has incorrect permissions. Expected: %s, Actual: %s", shown, t->permissions.s,
			    mode) < 0)
		rc = -1;
	if (t->is_executable_by != CST_EXEC_UNSET && !(info.mode & exec_mask(t->is_executable_by)) &&
	    cst_result_fail(r, "%s has incorrect executable bit. Expected to be executable by %s, Actual: %s", shown,
			    exec_by_name(t->is_executable_by), mode) < 0)
		rc = -1;
	if (t->has_uid && info.uid != t->uid &&
	    cst_result_fail(r, "%s has incorrect user ownership. Expected: %lld, Actual: %lld", shown,
			    (long long)t->uid, (long long)info.uid) < 0)
		rc = -1;
	if (t->has_gid && info.gid != t->gid &&
	    cst_result_fail(r, "%s has incorrect group ownership. Expected: %lld, Actual: %lld", shown,
			    (long long)t->gid, (long long)info.gid) < 0)
		rc = -1;
	if (rc == 0 && cst_check_file_attrs(ctx, t, shown, path, &info, r) < 0)
		rc = -1;
out:
	cst_error_clear(&err);
	free(path);
	return rc;
}
