/* The image's file system as an in-memory index.
 *
 * Built once per run from the image's layers (in order, with whiteouts) and
 * queried by every file check; no container and no extraction to disk.  Per
 * path it keeps type, mode, owner, size, link target and the layer it came
 * from.  File contents are kept only for the paths some test wants (declared
 * before reading with cst_fs_want_*), so memory does not grow with the image.
 */
#ifndef CST_FS_H
#define CST_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cst/error.h"

struct archive;

/* A wanted file larger than this is an error rather than a silent
 * truncation: a content test on it could not give a right answer. */
#define CST_FS_CONTENT_MAX ((size_t)64 * 1024 * 1024)

enum cst_ftype {
	CST_FT_REG = 1,
	CST_FT_DIR,
	CST_FT_SYMLINK,
	CST_FT_CHR,
	CST_FT_BLK,
	CST_FT_FIFO,
	CST_FT_SOCK,
};

/* A view of one node; pointers stay valid until the fs is cleared or freed. */
struct cst_fs_info {
	enum cst_ftype type;
	uint32_t mode;  /* permission bits with 04000 setuid, 02000 setgid, 01000 sticky; no type bits */
	int64_t uid;
	int64_t gid;
	int64_t size;
	const char *link;    /* symlink target as stored; NULL for other types */
	int layer;           /* 0-based index of the layer that last wrote it */
	const char *content; /* kept contents (hardlinks resolved); NULL when not kept */
	size_t content_len;
	bool has_content;
	bool stat_only; /* partial index: no owner known (cst_fs_put_stat) */
};

struct cst_fs;
struct cst_layer;

struct cst_fs *cst_fs_new(void);
void cst_fs_free(struct cst_fs *fs);
/* Drops every node, keeps the wanted set: ready for another read pass. */
void cst_fs_clear(struct cst_fs *fs);

/* Content wanted for an absolute path, or for every path matching an
 * fnmatch(3) pattern with FNM_PATHNAME ("/usr/share/doc/x/copyright" style).
 * -1 on allocation failure. */
int cst_fs_want_path(struct cst_fs *fs, const char *path);
int cst_fs_want_glob(struct cst_fs *fs, const char *pattern);
bool cst_fs_wants(const struct cst_fs *fs, const char *path);

/* Reads one layer tar (the caller opened `a`) into a staged layer: headers
 * of every entry, contents of wanted paths.  Names are normalised (leading
 * "./" and "/" dropped); a name with a ".." component is an error.  Sources
 * whose layers arrive out of order stage them and apply them later. */
int cst_layer_read(struct archive *a, const struct cst_fs *fs, struct cst_layer **ret, struct cst_error *err);
void cst_layer_free(struct cst_layer *layer);
/* Applies a staged layer on top of the index with OCI whiteout semantics,
 * as layer number `index`, and frees it (also on failure). */
int cst_fs_apply_layer(struct cst_fs *fs, struct cst_layer *layer, int index, struct cst_error *err);
/* Reads a single layer tar straight into an empty index, entry by entry. */
int cst_fs_read_flat_layer(struct archive *a, struct cst_fs *fs, struct cst_error *err);

/* Resolves path as CST's engine lookups do: path is cleaned lexically
 * first ("//", "." and ".." against the previous name, as Go's path.Clean:
 * "/a/../b" is "/b" even when /a is a symlink, relative paths start at the
 * root), then resolved like the kernel inside a container rooted at the
 * image: symlinks are followed inside the root (absolute targets are
 * relative to the root, ".." in a target stops at the root), the final
 * component only when follow_final or when path ends in "/" or "/.", which
 * must then name a directory.  Returns 1 and fills *ret
 * (and *ret_resolved, malloc'd, when not NULL) when found, 0 when absent,
 * -1 with err on a symlink loop or too many hops. */
int cst_fs_lookup(const struct cst_fs *fs, const char *path, bool follow_final, struct cst_fs_info *ret,
		  char **ret_resolved, struct cst_error *err);

/* Calls fn for every node whose path matches the fnmatch pattern (no
 * symlink resolution), in sorted path order.  fn returns 0 to go on. */
int cst_fs_glob(const struct cst_fs *fs, const char *pattern,
		int (*fn)(const char *path, const struct cst_fs_info *info, void *ud), void *ud);

/* Calls fn for every node but the root, a directory before its children,
 * siblings in no particular order; path ("/a/b", len bytes) is valid
 * during the call only.  fn returns 0 to go on; the walk returns what
 * else it returned, or -1 on allocation failure. */
int cst_fs_walk(const struct cst_fs *fs,
		int (*fn)(const char *path, size_t len, const struct cst_fs_info *info, void *ud), void *ud);

/* After a read pass: adds to the wanted set the resolved targets of wanted
 * paths that are symlinks or hardlinks whose contents were not kept.
 * Returns the number added (the source must then be read again after
 * cst_fs_clear), or -1 on allocation failure. */
int cst_fs_want_resolved(struct cst_fs *fs);

size_t cst_fs_count(const struct cst_fs *fs);

/* What each layer applied to the index held: the bytes of its regular
 * files, and the bytes of files earlier layers added that it removed or
 * replaced (wasted: they stay in the image).  Known only when layers were
 * applied one by one (image archives); none after a flat read. */
struct cst_fs_layer_stats {
	int64_t bytes;
	int64_t wasted;
	size_t files;
};
size_t cst_fs_layer_stats(const struct cst_fs *fs, const struct cst_fs_layer_stats **ret);

/* Snapshots (the index cache's files): the index as built, written to f
 * under key.  A regular file without kept contents takes them from extra
 * (may be NULL) when extra has that path with contents: a snapshot being
 * replaced keeps what earlier runs wanted. */
int cst_fs_snapshot_write(const struct cst_fs *fs, const struct cst_fs *extra, const char *key, FILE *f,
			  struct cst_error *err);
/* Replaces the nodes of fs (its wanted set stays) with a snapshot's.  A
 * snapshot that is truncated, corrupt or saved under another key is a
 * CST_E_IO error naming `what`, and leaves fs empty. */
int cst_fs_snapshot_read(struct cst_fs *fs, const char *key, FILE *f, const char *what, struct cst_error *err);
/* 1 when a wanted path (or a match of a wanted glob) is a regular file
 * whose contents are not kept: a snapshot that cannot answer this run.
 * 0 when none, -1 on allocation failure. */
int cst_fs_content_missing(const struct cst_fs *fs);

/* Saved staged layers (layer_snapshot.c, the per-layer index cache): a
 * layer as read, whiteouts included, written to f under key, contents
 * kept for the paths it kept them for; a regular file without them takes
 * them from extra (may be NULL), the saved layer being replaced, when it
 * has them.  A saved layer that is truncated, corrupt or of another key is
 * a CST_E_IO error naming `what`. */
int cst_layer_snapshot_write(const struct cst_layer *layer, const struct cst_layer *extra, const char *key, FILE *f,
			     struct cst_error *err);
int cst_layer_snapshot_read(const char *key, FILE *f, const char *what, struct cst_layer **ret,
			    struct cst_error *err);
/* 1 with *ret_path (malloc'd) when the layer holds a regular file fs wants
 * whose contents it did not keep: a saved layer that cannot answer this
 * run.  0 when none, -1 on allocation failure. */
int cst_layer_content_missing(const struct cst_fs *fs, const struct cst_layer *layer, char **ret_path);

/* Reading only what the tests ask for (partial.c).
 *
 * Before a source reads, the run declares every path a check will look up,
 * spelt as the check will pass it (existence paths after $VAR expansion),
 * or that a test needs the whole tree (it lists a directory): a source may
 * then read those paths alone into a partial index.  A partial index
 * answers lookups like a full one for the paths it was read for; a lookup
 * that reaches a child it was never told about is a CST_E_INTERNAL error,
 * never an absence. */
int cst_fs_need_path(struct cst_fs *fs, const char *path);
int cst_fs_need_tree(struct cst_fs *fs, const char *why);
/* Why the whole tree is needed, NULL when per-path reads can answer. */
const char *cst_fs_tree_needed(const struct cst_fs *fs);
/* fn for every declared path (in no order); stops at fn's non-zero. */
int cst_fs_each_need(const struct cst_fs *fs, int (*fn)(const char *path, void *ud), void *ud);
size_t cst_fs_n_needs(const struct cst_fs *fs);

void cst_fs_set_partial(struct cst_fs *fs);
bool cst_fs_is_partial(const struct cst_fs *fs);
/* cst_fs_lookup on a partial index: 2 when the walk reaches a component
 * not read yet, with *ret_missing its clean absolute path (symlinks before
 * it already resolved: a real directory's child) and *ret_rest what the
 * walk had left after it, both malloc'd. */
int cst_fs_lookup_partial(const struct cst_fs *fs, const char *path, bool follow_final, struct cst_fs_info *ret,
			  char **ret_resolved, char **ret_missing, char **ret_rest, struct cst_error *err);
/* Whether a read of the clean absolute path can be put in the index: its
 * parent is a directory of it (true for "/"). */
bool cst_fs_can_put(const struct cst_fs *fs, const char *path);
/* The path is a symlink whose resolution the engine gave up on (a loop,
 * or more links than CST_FS_MAX_HOPS): put as a link to itself, whose
 * every walk fails the same way. */
int cst_fs_put_loop(struct cst_fs *fs, const char *path, struct cst_error *err);
/* A directory or regular file known from a stat only (the engine's
 * HEAD), enough to walk through: put unless the path is in already. */
int cst_fs_put_stat(struct cst_fs *fs, const char *path, enum cst_ftype type, uint32_t mode, int64_t size,
		    struct cst_error *err);
/* The path was read and is absent. */
int cst_fs_put_absent(struct cst_fs *fs, const char *path);
/* Puts the first entry of a (a one-path archive, whose entry is named by
 * its base name) in the index as the clean absolute path, reading its
 * contents when the path is wanted (cst_fs_want_path), with the limits of
 * a layer read.  1 when put, 0 when the entry is one a layer read drops
 * (whiteout names): absent as in a full read; -1 with err. */
int cst_fs_read_first(struct archive *a, struct cst_fs *fs, const char *path, struct cst_error *err);

#endif
