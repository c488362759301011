/* The cst extensions of a file existence test: owner and group by name,
 * type, link target, size and digest. */
#include <stdio.h>
#include <string.h>

#include "cst/checks.h"
#include "cst/sha256.h"

static const char *type_name(enum cst_ftype t)
{
	switch (t) {
	case CST_FT_REG:
		return "file";
	case CST_FT_DIR:
		return "directory";
	case CST_FT_SYMLINK:
		return "symlink";
	case CST_FT_CHR:
		return "char";
	case CST_FT_BLK:
		return "block";
	case CST_FT_FIFO:
		return "fifo";
	case CST_FT_SOCK:
		return "socket";
	}
	return "unknown";
}

const char *cst_ftype_name(enum cst_ftype t)
{
	return type_name(t);
}

static int check_account(const struct cst_check_ctx *ctx, struct cst_result *r, const char *shown, bool group,
			 const struct cst_str *want, int64_t actual)
{
	if (!want->s)
		return 0;
	int64_t id;
	char why[256];
	if (!cst_image_account(ctx->fs, group, want->s, &id, why, sizeof(why)))
		return cst_result_fail(r, "%s: %s", shown, why);
	if (id == actual)
		return 0;
	return cst_result_fail(r, "%s has incorrect %s. Expected: %s (%lld), Actual: %lld", shown,
			       group ? "group" : "owner", want->s, (long long)id, (long long)actual);
}

static int check_link(struct cst_result *r, const char *shown, const struct cst_file_existence_test *t,
		      const struct cst_fs_info *info)
{
	if (!t->link_target.s)
		return 0;
	if (info->type != CST_FT_SYMLINK)
		return cst_result_fail(r, "%s is not a symlink, so has no link target (it is a %s)", shown,
				       type_name(info->type));
	if (!t->link_re)
		return strcmp(info->link, t->link_target.s) == 0
			       ? 0
			       : cst_result_fail(r, "%s has incorrect link target. Expected: %s, Actual: %s", shown,
						 t->link_target.s, info->link);
	struct cst_error err = CST_ERROR_INIT;
	int m = cst_regex_match(t->link_re, info->link, strlen(info->link), &err);
	int rc = 0;
	if (m < 0)
		rc = cst_result_fail(r, "%s: link target regex: %s", shown, err.msg ? err.msg : "match failed");
	else if (m == 0)
		rc = cst_result_fail(r, "%s has incorrect link target. Expected to match: %s, Actual: %s", shown,
				     t->link_target.s, info->link);
	cst_error_clear(&err);
	return rc;
}

/* The digest is of the contents a process would read: through a final
 * symlink. */
static int check_sha256(const struct cst_check_ctx *ctx, struct cst_result *r, const char *shown,
			const char *path, const struct cst_file_existence_test *t)
{
	if (!t->sha256.s)
		return 0;
	struct cst_fs_info info;
	struct cst_error err = CST_ERROR_INIT;
	int found = cst_fs_lookup(ctx->fs, path, true, &info, NULL, &err);
	int rc = 0;
	if (found <= 0)
		rc = cst_result_fail(r, "%s: cannot read it for its sha256: %s", shown,
				     found < 0 && err.msg ? err.msg : "dangling symlink");
	else if (info.type != CST_FT_REG)
		rc = cst_result_fail(r, "%s: only a regular file has a sha256 (it is a %s)", shown,
				     type_name(info.type));
	else if (!info.has_content)
		rc = cst_result_fail(r, "%s: contents not available for its sha256 (%lld bytes)", shown,
				     (long long)info.size);
	else {
		char hex[65];
		if (cst_sha256_hex(info.content, info.content_len, hex) < 0)
			rc = cst_result_fail(r, "%s: its sha256 could not be computed", shown);
		else if (strcmp(hex, t->sha256.s) != 0)
			rc = cst_result_fail(r, "%s has incorrect sha256. Expected: %s, Actual: %s", shown,
					     t->sha256.s, hex);
	}
	cst_error_clear(&err);
	return rc;
}

int cst_check_file_attrs(const struct cst_check_ctx *ctx, const struct cst_file_existence_test *t,
			 const char *shown, const char *path, const struct cst_fs_info *info, struct cst_result *r)
{
	if (check_account(ctx, r, shown, false, &t->owner, info->uid) < 0 ||
	    check_account(ctx, r, shown, true, &t->group, info->gid) < 0)
		return -1;
	if (t->file_type && (enum cst_ftype)t->file_type != info->type &&
	    cst_result_fail(r, "%s has incorrect type. Expected: %s, Actual: %s", shown,
			    type_name((enum cst_ftype)t->file_type), type_name(info->type)) < 0)
		return -1;
	if (check_link(r, shown, t, info) < 0)
		return -1;
	if (t->size.present && info->size != t->size.value &&
	    cst_result_fail(r, "%s has incorrect size. Expected: %lld, Actual: %lld", shown,
			    (long long)t->size.value, (long long)info->size) < 0)
		return -1;
	if (t->max_size.present && info->size > t->max_size.value &&
	    cst_result_fail(r, "%s is larger than allowed. Maximum: %lld, Actual: %lld", shown,
			    (long long)t->max_size.value, (long long)info->size) < 0)
		return -1;
	return check_sha256(ctx, r, shown, path, t);
}
