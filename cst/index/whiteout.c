/* OCI/Docker whiteouts (image-spec layer.md).
 *
 * `.wh.NAME` deletes NAME, with its subtree, and `DIR/.wh..wh..opq` deletes
 * every child of DIR; both act only on what lower layers put there.  The
 * apply step runs all of a layer's whiteouts before any of its entries,
 * which gives exactly that rule whatever the order inside the layer tar.
 * As Docker does, the marker counts whatever its entry type.
 */
#include <string.h>

#include "cst/index/fs-internal.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

int cst_whiteout_kind(const char *base)
{
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
		return 0;
	if (strcmp(base, WH_OPAQUE) == 0)
		return 2;
	const char *victim = base + strlen(WH_PREFIX);
	/* `.wh..wh.` names are aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs);
	 * ".wh.", ".wh.." and ".wh..." would name the directory itself or its
	 * parent: obeying them would let a layer erase what it does not own. */
	if (strncmp(victim, WH_PREFIX, strlen(WH_PREFIX)) == 0 || !victim[0] || strcmp(victim, ".") == 0 ||
	    strcmp(victim, "..") == 0)
		return 3;
	return 1;
}

void cst_whiteout_apply(struct cst_fs *fs, const struct stage_entry *e)
{
	uint32_t id;
	/* Literal lookup: a whiteout names the path in the layer's own tree, so
	 * a symlink in a lower layer must not redirect the deletion. */
	if (!fs_find_literal(fs, e->name, &id))
		return; /* nothing to hide: harmless */
	if (e->kind == STAGE_WHITEOUT)
		fs_remove(fs, id);
	else if (e->kind == STAGE_OPAQUE && fs->nodes[id].type == CST_FT_DIR)
		fs_remove_children(fs, id);
}
