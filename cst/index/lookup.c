#include "cst/fs.h"

#include <stdlib.h>
#include <string.h>

#include "cst/index/fs-internal.h"

/* Whether nothing but slashes follows: the component just read is the last. */
static bool only_slashes(const char *s)
{
	while (*s == '/')
		s++;
	return *s == '\0';
}

/* Replaces the unread part of the walk with target + "/" + rest. */
static char *splice(const char *target, const char *rest)
{
	size_t tl = strlen(target), rl = strlen(rest);
	char *s = malloc(tl + rl + 2);
	if (!s)
		return NULL;
	memcpy(s, target, tl);
	s[tl] = '/';
	memcpy(s + tl + 1, rest, rl + 1);
	return s;
}

/* The child of dir named name (len bytes) that a partial index has not
 * been told about: 1 with *ret_missing (its clean absolute path, malloc'd)
 * and *ret_rest (the walk still to go, malloc'd) when the caller asked for
 * them, else an internal error; 0 when it was read and found absent. */
static int unknown_child(const struct cst_fs *fs, const char *path, uint32_t dir, const char *name, size_t len,
			 const char *rest, char **ret_missing, char **ret_rest, struct cst_error *err)
{
	char *dpath = fs_node_path(fs, dir);
	if (!dpath)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	size_t dl = strcmp(dpath, "/") == 0 ? 0 : strlen(dpath);
	char *phys = malloc(dl + len + 2);
	if (!phys) {
		free(dpath);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	memcpy(phys, dpath, dl);
	phys[dl] = '/';
	memcpy(phys + dl + 1, name, len);
	phys[dl + 1 + len] = '\0';
	free(dpath);
	if (fs_strset_has(&fs->absent, phys)) {
		free(phys);
		return 0;
	}
	if (!ret_missing) {
		/* The reader of a partial index fetches every path a check will
		 * ask for: this one was not declared, and guessing "absent" here
		 * could turn into a wrong verdict. */
		cst_error_set(err, CST_E_INTERNAL, "%s: %s was not read from the image (a lookup the read plan missed)",
			      path, phys);
		free(phys);
		return -1;
	}
	char *r = strdup(rest);
	if (!r) {
		free(phys);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	*ret_missing = phys;
	*ret_rest = r;
	return 1;
}

/* fs_resolve, and on a partial index 2 with *ret_missing and *ret_rest for
 * the first component not read yet (see unknown_child). */
static int resolve_walk(const struct cst_fs *fs, const char *path, bool follow_final, uint32_t *ret_id,
			char **ret_missing, char **ret_rest, struct cst_error *err)
{
	char *work = strdup(path);
	if (!work)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	const char *p = work;
	uint32_t cur = 0;
	int hops = 0;
	int ret = 0;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = p;
		while (*end && *end != '/')
			end++;
		size_t len = (size_t)(end - p);
		const struct fs_node *dir = &fs->nodes[cur];
		if (dir->type != CST_FT_DIR)
			goto out; /* ENOTDIR: absent */
		if (len == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			/* The root's parent is the root: ".." never leaves the image. */
			cur = dir->parent;
			p = end;
			continue;
		}
		uint32_t child = fs_child(fs, cur, p, len);
		if (!child) {
			if (fs->partial) {
				int u = unknown_child(fs, path, cur, p, len, end, ret_missing, ret_rest, err);
				ret = u == 1 ? 2 : u;
			}
			goto out;
		}
		const struct fs_node *n = &fs->nodes[child];
		bool final = only_slashes(end);
		if (n->type == CST_FT_SYMLINK && (!final || follow_final)) {
			if (++hops > CST_FS_MAX_HOPS) {
				ret = cst_error_set(err, CST_E_IMAGE, "%s: too many levels of symbolic links", path);
				goto out;
			}
			if (!n->link[0])
				goto out; /* an empty target names nothing */
			char *next = splice(n->link, end);
			if (!next) {
				ret = cst_error_set(err, CST_E_NOMEM, "out of memory");
				goto out;
			}
			free(work);
			work = next;
			p = work;
			if (n->link[0] == '/')
				cur = 0;
			continue;
		}
		cur = child;
		p = end;
	}
	*ret_id = cur;
	ret = 1;
out:
	free(work);
	return ret;
}

int fs_resolve(const struct cst_fs *fs, const char *path, bool follow_final, uint32_t *ret_id,
	       struct cst_error *err)
{
	return resolve_walk(fs, path, follow_final, ret_id, NULL, NULL, err);
}

/* Whether the path names a directory by its spelling: a trailing "/" or
 * "/." (kept by Docker's archive API when it cleans a path). */
static bool names_directory(const char *path)
{
	size_t n = strlen(path);
	if (n && path[n - 1] == '/')
		return true;
	return (n >= 2 && path[n - 1] == '.' && path[n - 2] == '/') || (n == 1 && path[0] == '.');
}

static int lookup(const struct cst_fs *fs, const char *path, bool follow_final, struct cst_fs_info *ret,
		  char **ret_resolved, char **ret_missing, char **ret_rest, struct cst_error *err)
{
	/* CST asks the engine for a path that is first cleaned like Go's
	 * path.Clean: "/a/../b" is "/b" even when /a is a symlink.  A path
	 * spelt as a directory follows a final symlink, and names nothing when
	 * that is no directory (ENOTDIR). */
	bool dir = names_directory(path);
	char *clean = fs_clean_path(path);
	if (!clean)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	uint32_t id;
	int r = resolve_walk(fs, clean, follow_final || dir, &id, ret_missing, ret_rest, err);
	free(clean);
	if (r <= 0 || r == 2)
		return r;
	if (dir && fs->nodes[id].type != CST_FT_DIR)
		return 0;
	/* A node known from a stat can be walked through; what a check is
	 * told about must come from the entry itself. */
	if (!ret_missing && (fs->nodes[id].flags & NODE_STAT_ONLY))
		return cst_error_set(err, CST_E_INTERNAL, "%s: only a stat of it was read (a lookup the read plan missed)",
				     path);
	if (ret_resolved) {
		char *resolved = fs_node_path(fs, id);
		if (!resolved)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		*ret_resolved = resolved;
	}
	fs_node_info(fs, id, ret);
	return 1;
}

int cst_fs_lookup(const struct cst_fs *fs, const char *path, bool follow_final, struct cst_fs_info *ret,
		  char **ret_resolved, struct cst_error *err)
{
	return lookup(fs, path, follow_final, ret, ret_resolved, NULL, NULL, err);
}

int cst_fs_lookup_partial(const struct cst_fs *fs, const char *path, bool follow_final, struct cst_fs_info *ret,
			  char **ret_resolved, char **ret_missing, char **ret_rest, struct cst_error *err)
{
	*ret_missing = *ret_rest = NULL;
	return lookup(fs, path, follow_final, ret, ret_resolved, ret_missing, ret_rest, err);
}
