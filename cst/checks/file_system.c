/* fileSystemTests: assertions over every entry of the image a glob
 * selects, answered in one walk of the index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/checks.h"
#include "cst/glob.h"

/* A failure lists this many offending paths (the first in path order) and
 * counts the rest. */
#define SHOWN 20

struct offender {
	char *path;
	struct cst_fs_info info; /* link and content pointers cleared */
};

struct offenders {
	const char *what;
	struct offender v[SHOWN];
	size_t n;
	size_t count;
};

enum {
	O_WORLD_WRITABLE,
	O_SETUID,
	O_SETGID,
	O_MUST_NOT_EXIST,
	O_UID_RANGE,
	O_GID_RANGE,
	O_OWNER,
	O_GROUP,
	O_N,
};

struct walk {
	const struct cst_file_system_test *t;
	int64_t uid;
	int64_t gid;
	struct offenders o[O_N];
	int64_t total;
	size_t selected;
};

static bool any_match(const struct cst_globv *gv, const char *path, size_t len)
{
	for (size_t i = 0; i < gv->src.n; i++)
		if (gv->g && gv->g[i] && cst_glob_match(gv->g[i], path, len))
			return true;
	return false;
}

/* Keeps the SHOWN smallest paths, sorted. */
static int offend(struct offenders *o, const char *path, const struct cst_fs_info *info)
{
	o->count++;
	if (o->n == SHOWN && strcmp(path, o->v[SHOWN - 1].path) > 0)
		return 0;
	char *copy = strdup(path);
	if (!copy)
		return -1;
	if (o->n == SHOWN)
		free(o->v[--o->n].path);
	size_t i = o->n;
	while (i > 0 && strcmp(o->v[i - 1].path, path) > 0) {
		o->v[i] = o->v[i - 1];
		i--;
	}
	o->v[i].path = copy;
	o->v[i].info = *info;
	o->v[i].info.link = NULL;
	o->v[i].info.content = NULL;
	o->n++;
	return 0;
}

static int visit(const char *path, size_t len, const struct cst_fs_info *info, void *ud)
{
	struct walk *w = ud;
	const struct cst_file_system_test *t = w->t;
	if (t->paths.src.present && !any_match(&t->paths, path, len))
		return 0;
	if (any_match(&t->exclude, path, len))
		return 0;
	w->selected++;
	bool special = info->type != CST_FT_DIR && info->type != CST_FT_SYMLINK;
	/* A link's mode is always 0777 and means nothing; character devices
	 * (/dev/null, /dev/tty) and sticky directories (/tmp) are
	 * world-writable by design, the latter checked when asked. */
	if (t->no_world_writable && info->type != CST_FT_SYMLINK && info->type != CST_FT_CHR && (info->mode & 0002) &&
	    (t->sticky_world_writable || info->type != CST_FT_DIR || !(info->mode & 01000)) &&
	    offend(&w->o[O_WORLD_WRITABLE], path, info) < 0)
		return -1;
	if (t->setuid_allowed.src.present && special && (info->mode & 04000) &&
	    !any_match(&t->setuid_allowed, path, len) && offend(&w->o[O_SETUID], path, info) < 0)
		return -1;
	/* A setgid directory only hands its group down (Debian's /var/local). */
	if (t->setgid_allowed.src.present && special && (info->mode & 02000) &&
	    !any_match(&t->setgid_allowed, path, len) && offend(&w->o[O_SETGID], path, info) < 0)
		return -1;
	if (any_match(&t->must_not_exist, path, len) && offend(&w->o[O_MUST_NOT_EXIST], path, info) < 0)
		return -1;
	if (t->uid_range.present && (info->uid < t->uid_range.min || info->uid > t->uid_range.max) &&
	    offend(&w->o[O_UID_RANGE], path, info) < 0)
		return -1;
	if (t->gid_range.present && (info->gid < t->gid_range.min || info->gid > t->gid_range.max) &&
	    offend(&w->o[O_GID_RANGE], path, info) < 0)
		return -1;
	if (t->owner.s && info->uid != w->uid && offend(&w->o[O_OWNER], path, info) < 0)
		return -1;
	if (t->group.s && info->gid != w->gid && offend(&w->o[O_GROUP], path, info) < 0)
		return -1;
	if (info->type == CST_FT_REG)
		w->total += info->size;
	return 0;
}

static int report(struct cst_result *r, const struct offenders *o)
{
	if (!o->count)
		return 0;
	if (cst_result_fail(r, "%s: %zu %s", o->what, o->count, o->count == 1 ? "entry" : "entries") < 0)
		return -1;
	for (size_t i = 0; i < o->n; i++) {
		char mode[16];
		cst_mode_string(&o->v[i].info, mode);
		if (cst_result_fail(r, "  %s (%s %lld:%lld %lld bytes)", o->v[i].path, mode, (long long)o->v[i].info.uid,
				    (long long)o->v[i].info.gid, (long long)o->v[i].info.size) < 0)
			return -1;
	}
	if (o->count > o->n && cst_result_fail(r, "  ... and %zu more", o->count - o->n) < 0)
		return -1;
	return 0;
}

int cst_check_file_system(const struct cst_check_ctx *ctx, const struct cst_file_system_test *t,
			  struct cst_result *r)
{
	if (cst_result_init(r, "File System Test: %s", t->name.s) < 0)
		return -1;
	struct walk *w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	w->t = t;
	char why[256];
	char what[2][160];
	if (t->owner.s && !cst_image_account(ctx->fs, false, t->owner.s, &w->uid, why, sizeof(why))) {
		free(w);
		return cst_result_fail(r, "owner: %s", why);
	}
	if (t->group.s && !cst_image_account(ctx->fs, true, t->group.s, &w->gid, why, sizeof(why))) {
		free(w);
		return cst_result_fail(r, "group: %s", why);
	}
	snprintf(what[0], sizeof(what[0]), "not owned by %s (%lld)", t->owner.s ? t->owner.s : "",
		 (long long)w->uid);
	snprintf(what[1], sizeof(what[1]), "not in group %s (%lld)", t->group.s ? t->group.s : "",
		 (long long)w->gid);
	w->o[O_WORLD_WRITABLE].what = "world-writable";
	w->o[O_SETUID].what = "setuid and not in setuidAllowed";
	w->o[O_SETGID].what = "setgid and not in setgidAllowed";
	w->o[O_MUST_NOT_EXIST].what = "matching mustNotExist";
	w->o[O_UID_RANGE].what = "with a uid outside uidRange";
	w->o[O_GID_RANGE].what = "with a gid outside gidRange";
	w->o[O_OWNER].what = what[0];
	w->o[O_GROUP].what = what[1];

	int rc = cst_fs_walk(ctx->fs, visit, w) < 0 ? -1 : 0;
	for (int i = 0; i < O_N && rc == 0; i++)
		rc = report(r, &w->o[i]);
	if (rc == 0 && t->max_total_size.present && w->total > t->max_total_size.value)
		rc = cst_result_fail(r, "maxTotalSize: the %zu selected entries' files hold %lld bytes, more than %lld",
				     w->selected, (long long)w->total, (long long)t->max_total_size.value);
	for (int i = 0; i < O_N; i++)
		for (size_t j = 0; j < w->o[i].n; j++)
			free(w->o[i].v[j].path);
	free(w);
	return rc;
}
