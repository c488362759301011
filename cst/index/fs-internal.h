/* The index's internals, shared by the files of cst/index/ and by the image
 * sources that apply one staged layer at several positions.
 *
 * Nodes live in one array and refer to each other by 32-bit index; node 0 is
 * the root and never a child, so 0 also means "none".  A directory's
 * children form a doubly linked list (removal in O(1)); finding a child by
 * name goes through one open-addressing table keyed by (parent, name) for
 * the whole index, which stays fast for a directory of a million entries
 * without a per-directory allocation.
 */
#ifndef CST_INDEX_FS_INTERNAL_H
#define CST_INDEX_FS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cst/fs.h"
#include "cst/index/arena.h"


/* Symlinks followed by one lookup: the engine's limit when CST asks it
 * for a path (Linux's MAXSYMLINKS is 40). */
#define CST_FS_MAX_HOPS 255

enum {
	NODE_HARDLINK = 1, /* link holds the normalised path of the hardlink's target */
	/* Of a partial index: known from a stat only (a directory or a regular
	 * file, mode without owner), enough to walk through; a check never
	 * sees it (lookup.c). */
	NODE_STAT_ONLY = 2,
};

struct fs_node {
	const char *name; /* one component, in fs->names; "" for the root */
	const char *link; /* symlink target, or hardlink target with NODE_HARDLINK */
	int64_t size;
	uint32_t parent;
	uint32_t first_child;
	uint32_t next; /* siblings; also the free list */
	uint32_t prev;
	uint32_t hash; /* of (parent, name) */
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint32_t content; /* index into fs->contents; 0: none */
	uint16_t layer;
	uint8_t type; /* enum cst_ftype; 0 on a free node */
	uint8_t flags;
};

/* A table slot keeps the hash beside the node index so that probing
 * compares hashes without touching (and cache-missing on) the nodes. */
struct fs_slot {
	uint32_t id; /* 0: empty */
	uint32_t hash;
};

struct fs_content {
	char *data;
	size_t len;
};

/* A set of normalised absolute paths. */
struct fs_strset {
	char **slots;
	size_t mask; /* slots has mask + 1 entries, 0 when slots is NULL */
	size_t n;
};

struct cst_fs {
	struct fs_node *nodes;
	uint32_t n_nodes; /* used slots, free ones included */
	uint32_t cap_nodes;
	uint32_t free_list;
	size_t count; /* live nodes, root excluded */

	struct fs_slot *table;
	uint32_t table_mask;
	uint32_t table_used;

	struct cst_arena names;

	struct fs_content *contents; /* [0] unused */
	uint32_t n_contents;
	uint32_t cap_contents;

	struct fs_strset wants;
	char **globs;
	size_t n_globs;

	/* Per-layer figures, kept while layers are applied one by one. */
	struct cst_fs_layer_stats *lstats;
	size_t n_lstats;
	int acct_layer; /* the layer being applied; -1 outside apply */
	/* A partial index (partial.c) holds only what was read path by path:
	 * a child that is neither a node nor in `absent` (clean absolute
	 * paths read and found missing) was never asked about, and a lookup
	 * through it is an internal error rather than an absence. */
	bool partial;
	struct fs_strset absent;
	/* What the checks will look up, spelt as they will (kept by clear). */
	struct fs_strset needs;
	char *tree_why; /* why a test needs the whole tree; NULL: none does */
};

/* One entry of a staged layer. */
enum stage_kind {
	STAGE_ENTRY,
	STAGE_HARDLINK, /* link: normalised target path */
	STAGE_WHITEOUT, /* name: the path to delete */
	STAGE_OPAQUE,   /* name: the directory whose lower children go */
};

struct stage_entry {
	struct stage_entry *next;
	const char *name; /* normalised, relative to the root; "" is the root */
	const char *link;
	char *content; /* malloc'd; NULL when not kept */
	size_t content_len;
	int64_t size;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint8_t type;
	uint8_t kind;
};

struct cst_layer {
	struct cst_arena arena;
	struct stage_entry *head;
	struct stage_entry *tail;
	size_t n;
	/* Lexical targets of wanted symlinks met in this layer ("/a/b"): their
	 * contents are kept too, which spares a second pass for the common
	 * case of a link to a file later in the same tar (/etc/os-release ->
	 * ../usr/lib/os-release). */
	char **link_wants;
	size_t n_link_wants;
	struct cst_arena wants_arena; /* link_wants' strings */
};

/* Node helpers (fs.c). */
uint32_t fs_child(const struct cst_fs *fs, uint32_t dir, const char *name, size_t len);
/* A new empty child node (type 0: the caller fills it); 0 on allocation failure. */
uint32_t fs_add_child(struct cst_fs *fs, uint32_t dir, const char *name, size_t len);
/* Removes a node and its subtree (not the root). */
void fs_remove(struct cst_fs *fs, uint32_t id);
void fs_remove_children(struct cst_fs *fs, uint32_t id);
/* Drops content and link of a node, keeping its place in the tree. */
void fs_reset_node(struct cst_fs *fs, uint32_t id);
/* Stores data (taking ownership) as the node's content; -1 on allocation failure. */
int fs_set_content(struct cst_fs *fs, uint32_t id, char *data, size_t len);
/* Finds a relative normalised path ("" is the root) without following
 * symlinks. */
bool fs_find_literal(const struct cst_fs *fs, const char *path, uint32_t *ret_id);
/* "/a/b" for node id (malloc'd), "/" for the root. */
char *fs_node_path(const struct cst_fs *fs, uint32_t id);
void fs_node_info(const struct cst_fs *fs, uint32_t id, struct cst_fs_info *ret);

/* Normalises an absolute or relative path lexically ("." dropped, ".."
 * clamped at the root, slashes collapsed) into "/a/b"; malloc'd. */
char *fs_clean_path(const char *path);
/* Whether a clean absolute path is wanted (exact or glob). */
bool fs_wants_clean(const struct cst_fs *fs, const char *path);

/* The path sets of fs.c: key taken over; 0 added, 1 already there, -1
 * allocation failure. */
int fs_strset_add(struct fs_strset *s, char *key);
bool fs_strset_has(const struct fs_strset *s, const char *key);
void fs_strset_release(struct fs_strset *s);

/* Lookup (lookup.c): 1 and *ret_id when found, 0 when absent, -1 with err. */
int fs_resolve(const struct cst_fs *fs, const char *path, bool follow_final, uint32_t *ret_id,
	       struct cst_error *err);

/* Glob over node ids (fs.c); fn returns non-zero to stop, which is returned. */
int fs_glob_ids(const struct cst_fs *fs, const char *pattern,
		int (*fn)(const struct cst_fs *fs, uint32_t id, const char *path, void *ud), void *ud);

/* Whiteouts (whiteout.c). */
/* Classifies a base name: 0 ordinary, 1 whiteout of name+4, 2 opaque marker,
 * 3 a marker to ignore (aufs internals, or one naming "", "." or ".."). */
int cst_whiteout_kind(const char *base);
void cst_whiteout_apply(struct cst_fs *fs, const struct stage_entry *e);

/* Applies a staged layer like cst_fs_apply_layer() but leaves it intact
 * (contents are copied), for an image that lists one layer twice. */
int cst_fs_apply_layer_copy(struct cst_fs *fs, struct cst_layer *layer, int index, struct cst_error *err);

#endif
