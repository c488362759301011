/* Partial indexes: the declared lookups, and the bookkeeping of an index
 * read path by path (what is known absent, where a read may go). */
#include <stdlib.h>
#include <string.h>

#include "cst/fs.h"
#include "cst/index/fs-internal.h"

int cst_fs_need_path(struct cst_fs *fs, const char *path)
{
	/* Kept as spelt: a trailing "/" changes what a lookup means. */
	char *copy = strdup(path);
	if (!copy)
		return -1;
	return fs_strset_add(&fs->needs, copy) < 0 ? -1 : 0;
}

int cst_fs_need_tree(struct cst_fs *fs, const char *why)
{
	if (fs->tree_why)
		return 0;
	fs->tree_why = strdup(why);
	return fs->tree_why ? 0 : -1;
}

const char *cst_fs_tree_needed(const struct cst_fs *fs)
{
	return fs->tree_why;
}

int cst_fs_each_need(const struct cst_fs *fs, int (*fn)(const char *path, void *ud), void *ud)
{
	if (!fs->needs.slots)
		return 0;
	for (size_t i = 0; i <= fs->needs.mask; i++) {
		if (!fs->needs.slots[i])
			continue;
		int r = fn(fs->needs.slots[i], ud);
		if (r)
			return r;
	}
	return 0;
}

size_t cst_fs_n_needs(const struct cst_fs *fs)
{
	return fs->needs.n;
}

void cst_fs_set_partial(struct cst_fs *fs)
{
	fs->partial = true;
}

bool cst_fs_is_partial(const struct cst_fs *fs)
{
	return fs->partial;
}

bool cst_fs_can_put(const struct cst_fs *fs, const char *path)
{
	if (path[0] != '/')
		return false;
	if (!path[1])
		return true;
	const char *slash = strrchr(path, '/');
	if (slash == path)
		return true; /* a child of the root */
	char *parent = strndup(path + 1, (size_t)(slash - path - 1));
	if (!parent)
		return false;
	uint32_t id;
	bool ok = fs_find_literal(fs, parent, &id) && fs->nodes[id].type == CST_FT_DIR;
	free(parent);
	return ok;
}

int cst_fs_put_absent(struct cst_fs *fs, const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	return fs_strset_add(&fs->absent, copy) < 0 ? -1 : 0;
}

/* The node for path (a child of a directory of the index), made when
 * missing; 0 with err. */
static uint32_t node_for(struct cst_fs *fs, const char *path, bool *ret_existed, struct cst_error *err)
{
	if (!cst_fs_can_put(fs, path) || !path[1]) {
		cst_error_set(err, CST_E_INTERNAL, "'%s' has no directory to go in", path);
		return 0;
	}
	const char *slash = strrchr(path, '/');
	const char *base = slash + 1;
	uint32_t dir = 0;
	if (slash != path) {
		char *parent = strndup(path + 1, (size_t)(slash - path - 1));
		bool found = parent && fs_find_literal(fs, parent, &dir);
		free(parent);
		if (!found) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			return 0;
		}
	}
	uint32_t id = fs_child(fs, dir, base, strlen(base));
	*ret_existed = id != 0;
	if (!id && !(id = fs_add_child(fs, dir, base, strlen(base))))
		cst_error_set(err, CST_E_NOMEM, "out of memory");
	return id;
}

int cst_fs_put_stat(struct cst_fs *fs, const char *path, enum cst_ftype type, uint32_t mode, int64_t size,
		    struct cst_error *err)
{
	bool existed;
	uint32_t id = node_for(fs, path, &existed, err);
	if (!id)
		return -1;
	if (existed)
		return 0;
	struct fs_node *n = &fs->nodes[id];
	n->type = (uint8_t)type;
	n->mode = mode & 07777;
	n->uid = n->gid = 0;
	n->size = type == CST_FT_REG ? size : 0;
	n->layer = 0;
	n->flags = NODE_STAT_ONLY;
	return 0;
}

int cst_fs_put_loop(struct cst_fs *fs, const char *path, struct cst_error *err)
{
	bool existed;
	uint32_t id = node_for(fs, path, &existed, err);
	if (!id)
		return -1;
	const char *base = strrchr(path, '/') + 1;
	if (existed) {
		fs_remove_children(fs, id);
		fs_reset_node(fs, id);
	}
	struct fs_node *n = &fs->nodes[id];
	/* A link to itself: every walk through it ends as the engine's did,
	 * in "too many levels of symbolic links" at the same bound. */
	if (!(n->link = cst_arena_strndup(&fs->names, base, strlen(base))))
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	n->type = CST_FT_SYMLINK;
	n->mode = 0777;
	n->uid = n->gid = 0;
	n->size = 0;
	n->layer = 0;
	return 0;
}
