/* A walk over every node, for the checks that ask about the whole tree. */
#include <stdlib.h>
#include <string.h>

#include "cst/buf.h"
#include "fs-internal.h"

/* Iterative, over the parent/child/sibling links: no recursion however
 * deep the tree, and one path buffer grown and cut in place. */
int cst_fs_walk(const struct cst_fs *fs,
		int (*fn)(const char *path, size_t len, const struct cst_fs_info *info, void *ud), void *ud)
{
	struct cst_buf path = CST_BUF_INIT;
	int r = 0;
	uint32_t id = fs->n_nodes ? fs->nodes[0].first_child : 0;
	while (id && r == 0) {
		const struct fs_node *n = &fs->nodes[id];
		if (cst_buf_puts(&path, "/") < 0 || cst_buf_puts(&path, n->name) < 0) {
			r = -1;
			break;
		}
		struct cst_fs_info info;
		fs_node_info(fs, id, &info);
		r = fn(path.data, path.len, &info, ud);
		if (r)
			break;
		if (n->type == CST_FT_DIR && n->first_child) {
			id = n->first_child;
			continue;
		}
		/* Up until a node has a next sibling, cutting its name off. */
		for (;;) {
			char *slash = strrchr(path.data, '/');
			path.len = (size_t)(slash - path.data);
			*slash = '\0';
			if (fs->nodes[id].next) {
				id = fs->nodes[id].next;
				break;
			}
			id = fs->nodes[id].parent;
			if (id == 0)
				break;
		}
	}
	cst_buf_release(&path);
	return r;
}
