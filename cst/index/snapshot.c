/* An index saved to a file and loaded back: what the index cache keeps.
 *
 * Reading an image through the engine costs a full export (seconds for a
 * Debian image); loading its saved index costs milliseconds.  The index is
 * the result of applying every layer, so a snapshot holds final nodes only:
 * no layers, no whiteouts.  File contents are kept only for the paths some
 * earlier run wanted; a run that wants one more sees the snapshot as
 * incomplete (cst_fs_content_missing) and reads the image again.
 *
 * Not a tar: a tar entry cannot say "this file has 2 MB that were not
 * kept", and that is what most entries of a snapshot are.  The format is
 * ours and versioned, every integer little-endian:
 *
 *   "CSTINDEX" u32 version  u32 key_len key
 *   u32 root mode  u32 root uid  u32 root gid  u16 root layer
 *   u32 n_nodes, then per node, parents before children (node 0 is the root):
 *     u32 parent  u8 type  u8 flags  u16 layer  u32 mode  u32 uid  u32 gid
 *     i64 size  u32 name_len name  u32 link_len link  u32 content_len content
 *     (link_len and content_len are NONE when absent)
 *   u64 FNV-1a of every byte before it
 *
 * A snapshot that does not parse, has another key or fails its checksum is
 * not an error for the run: the caller reads the image instead. */
#include "cst/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/buf.h"
#include "cst/index/fs-internal.h"
#include "cst/index/snap-io.h"

#define SNAP_MAGIC "CSTINDEX"
#define SNAP_VERSION 1u
/* Bounds a corrupt length field before it becomes an allocation. */
#define SNAP_KEY_MAX 4096u
#define SNAP_NAME_MAX 4096u

/* The contents a node would have in `extra`, the snapshot being replaced:
 * same path, a regular file of the same size (the image is the same, so
 * this only fails for an extra that is not what it claims). */
static const struct fs_content *extra_content(const struct cst_fs *extra, const char *rel, const struct fs_node *n)
{
	uint32_t id;
	if (!extra || n->type != CST_FT_REG || !fs_find_literal(extra, rel, &id))
		return NULL;
	const struct fs_node *e = &extra->nodes[id];
	if (e->type != CST_FT_REG || !e->content || e->size != n->size)
		return NULL;
	return &extra->contents[e->content];
}

int cst_fs_snapshot_write(const struct cst_fs *fs, const struct cst_fs *extra, const char *key, FILE *f,
			  struct cst_error *err)
{
	struct snap_out o = {.f = f, .sum = SNAP_SUM_INIT};
	uint32_t *order = NULL; /* record number of each node id, 0: root */
	uint32_t *stack = NULL;
	struct cst_buf path = CST_BUF_INIT;
	size_t *lens = NULL;
	int rc = -1;

	if (fs->count >= SNAP_NONE)
		return cst_error_set(err, CST_E_INTERNAL, "an index of %zu entries is too large to save", fs->count);
	order = calloc(fs->n_nodes ? fs->n_nodes : 1, sizeof(*order));
	stack = malloc(((size_t)fs->n_nodes + 1) * sizeof(*stack));
	lens = malloc(((size_t)fs->n_nodes + 1) * sizeof(*lens));
	if (!order || !stack || !lens) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	snap_put(&o, SNAP_MAGIC, 8);
	snap_put_u(&o, SNAP_VERSION, 4);
	snap_put_str(&o, key, strlen(key));
	const struct fs_node *root = &fs->nodes[0];
	snap_put_u(&o, root->mode, 4);
	snap_put_u(&o, root->uid, 4);
	snap_put_u(&o, root->gid, 4);
	snap_put_u(&o, root->layer, 2);
	snap_put_u(&o, fs->count, 4);

	/* Depth-first, parents before children; the path of each node is
	 * built on the way down for the lookups in extra. */
	uint32_t next_rec = 1;
	size_t depth = 0;
	uint32_t cur = root->first_child;
	lens[0] = 0;
	while (cur) {
		const struct fs_node *n = &fs->nodes[cur];
		path.len = lens[depth];
		if ((depth > 0 && cst_buf_puts(&path, "/") < 0) || cst_buf_puts(&path, n->name) < 0) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		order[cur] = next_rec++;
		snap_put_u(&o, order[n->parent], 4);
		snap_put_u(&o, n->type, 1);
		snap_put_u(&o, n->flags, 1);
		snap_put_u(&o, n->layer, 2);
		snap_put_u(&o, n->mode, 4);
		snap_put_u(&o, n->uid, 4);
		snap_put_u(&o, n->gid, 4);
		snap_put_u(&o, (uint64_t)n->size, 8);
		snap_put_str(&o, n->name, strlen(n->name));
		if (n->link)
			snap_put_str(&o, n->link, strlen(n->link));
		else
			snap_put_u(&o, SNAP_NONE, 4);
		const struct fs_content *c = n->content ? &fs->contents[n->content] : extra_content(extra, path.data, n);
		if (c)
			snap_put_str(&o, c->data, c->len);
		else
			snap_put_u(&o, SNAP_NONE, 4);

		if (n->first_child) {
			stack[depth] = cur;
			lens[++depth] = path.len;
			cur = n->first_child;
			continue;
		}
		while (!fs->nodes[cur].next && depth > 0)
			cur = stack[--depth];
		cur = fs->nodes[cur].next;
	}
	if (next_rec - 1 != fs->count) {
		cst_error_set(err, CST_E_INTERNAL, "saving the index: %u nodes reached of %zu", next_rec - 1, fs->count);
		goto out;
	}
	uint64_t sum = o.sum;
	snap_put_u(&o, sum, 8);
	if (o.failed || fflush(f) != 0) {
		cst_error_set(err, CST_E_IO, "writing the index failed");
		goto out;
	}
	rc = 0;
out:
	free(order);
	free(stack);
	free(lens);
	cst_buf_release(&path);
	return rc;
}

static bool valid_name(const char *s, size_t n)
{
	return n > 0 && memchr(s, '\0', n) == NULL && memchr(s, '/', n) == NULL &&
	       !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

static int read_node(struct snap_in *in, struct cst_fs *fs, uint32_t *ids, uint32_t rec)
{
	uint64_t parent, type, flags, layer, mode, uid, gid, size;
	if (snap_get_u(in, &parent, 4) < 0 || snap_get_u(in, &type, 1) < 0 || snap_get_u(in, &flags, 1) < 0 ||
	    snap_get_u(in, &layer, 2) < 0 || snap_get_u(in, &mode, 4) < 0 || snap_get_u(in, &uid, 4) < 0 || snap_get_u(in, &gid, 4) < 0 ||
	    snap_get_u(in, &size, 8) < 0)
		return -1;
	if (parent >= rec || fs->nodes[ids[parent]].type != CST_FT_DIR || type < CST_FT_REG || type > CST_FT_SOCK ||
	    (flags & ~(uint64_t)(NODE_HARDLINK | NODE_STAT_ONLY)) || (int64_t)size < 0)
		return cst_error_set(in->err, CST_E_IO, "%s: entry %u is malformed", in->what, rec);
	char *name = NULL, *link = NULL, *content = NULL;
	size_t name_len = 0, link_len = 0, content_len = 0;
	int rc = -1;
	if (snap_get_str(in, SNAP_NAME_MAX, false, &name, &name_len) < 0 ||
	    snap_get_str(in, SNAP_NAME_MAX * 4, true, &link, &link_len) < 0 ||
	    snap_get_str(in, CST_FS_CONTENT_MAX, true, &content, &content_len) < 0)
		goto out;
	bool needs_link = type == CST_FT_SYMLINK || (flags & NODE_HARDLINK);
	if (!valid_name(name, name_len) || needs_link != (link != NULL) || (content && type != CST_FT_REG) ||
	    fs_child(fs, ids[parent], name, name_len)) {
		cst_error_set(in->err, CST_E_IO, "%s: entry %u is malformed", in->what, rec);
		goto out;
	}
	uint32_t id = fs_add_child(fs, ids[parent], name, name_len);
	if (!id || (link && !(fs->nodes[id].link = cst_arena_strndup(&fs->names, link, link_len)))) {
		cst_error_set(in->err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	struct fs_node *n = &fs->nodes[id];
	n->type = (uint8_t)type;
	n->flags = (uint8_t)flags;
	n->layer = (uint16_t)layer;
	n->mode = (uint32_t)mode;
	n->uid = (uint32_t)uid;
	n->gid = (uint32_t)gid;
	n->size = (int64_t)size;
	if (content) {
		if (fs_set_content(fs, id, content, content_len) < 0) {
			cst_error_set(in->err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		content = NULL;
	}
	ids[rec] = id;
	rc = 0;
out:
	free(name);
	free(link);
	free(content);
	return rc;
}

int cst_fs_snapshot_read(struct cst_fs *fs, const char *key, FILE *f, const char *what, struct cst_error *err)
{
	struct snap_in in = {.f = f, .sum = SNAP_SUM_INIT, .what = what, .err = err};
	char magic[8];
	uint64_t version, mode, uid, gid, layer, count;
	char *stored_key = NULL;
	size_t key_len = 0;
	uint32_t *ids = NULL;
	int rc = -1;

	if (snap_get(&in, magic, 8) < 0)
		return -1;
	if (memcmp(magic, SNAP_MAGIC, 8) != 0)
		return cst_error_set(err, CST_E_IO, "%s: not an index snapshot", what);
	if (snap_get_u(&in, &version, 4) < 0)
		return -1;
	if (version != SNAP_VERSION)
		return cst_error_set(err, CST_E_IO, "%s: snapshot version %llu, not %u", what, (unsigned long long)version,
				     SNAP_VERSION);
	if (snap_get_str(&in, SNAP_KEY_MAX, false, &stored_key, &key_len) < 0)
		return -1;
	if (strlen(key) != key_len || memcmp(stored_key, key, key_len) != 0) {
		cst_error_set(err, CST_E_IO, "%s: saved for another image or engine", what);
		goto out;
	}
	if (snap_get_u(&in, &mode, 4) < 0 || snap_get_u(&in, &uid, 4) < 0 || snap_get_u(&in, &gid, 4) < 0 ||
	    snap_get_u(&in, &layer, 2) < 0 || snap_get_u(&in, &count, 4) < 0)
		goto out;
	if (count >= SNAP_NONE) {
		cst_error_set(err, CST_E_IO, "%s: a count of %llu entries is out of bounds", what,
			      (unsigned long long)count);
		goto out;
	}
	cst_fs_clear(fs);
	struct fs_node *root = &fs->nodes[0];
	root->mode = (uint32_t)mode;
	root->uid = (uint32_t)uid;
	root->gid = (uint32_t)gid;
	root->layer = (uint16_t)layer;
	/* ids grows with the records read, not with the count claimed. */
	size_t cap = 0;
	for (uint32_t rec = 0; rec <= count; rec++) {
		if (rec == cap) {
			cap = cap ? cap * 2 : 1024;
			uint32_t *grown = realloc(ids, cap * sizeof(*ids));
			if (!grown) {
				cst_error_set(err, CST_E_NOMEM, "out of memory");
				goto out;
			}
			ids = grown;
		}
		if (rec == 0)
			ids[0] = 0;
		else if (read_node(&in, fs, ids, rec) < 0)
			goto out;
	}
	uint64_t sum = in.sum, stored_sum;
	if (snap_get_u(&in, &stored_sum, 8) < 0)
		goto out;
	if (stored_sum != sum) {
		cst_error_set(err, CST_E_IO, "%s: checksum mismatch", what);
		goto out;
	}
	if (fgetc(f) != EOF) {
		cst_error_set(err, CST_E_IO, "%s: data after the end", what);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		cst_fs_clear(fs);
	free(ids);
	free(stored_key);
	return rc;
}

/* --- is a snapshot enough for this run? --------------------------------- */

static bool lacks_content(const struct cst_fs *fs, uint32_t id)
{
	const struct fs_node *n = &fs->nodes[id];
	return n->type == CST_FT_REG && !n->content;
}

static int glob_missing_cb(const struct cst_fs *fs, uint32_t id, const char *path, void *ud)
{
	(void)path;
	(void)ud;
	return lacks_content(fs, id) ? 1 : 0;
}

int cst_fs_content_missing(const struct cst_fs *fs)
{
	if (fs->wants.slots) {
		for (size_t i = 0; i <= fs->wants.mask; i++) {
			const char *p = fs->wants.slots[i];
			uint32_t id;
			/* Wanted paths are clean and absolute; the literal
			 * lookup takes them relative. */
			if (p && fs_find_literal(fs, p + 1, &id) && id && lacks_content(fs, id))
				return 1;
		}
	}
	for (size_t i = 0; i < fs->n_globs; i++) {
		int r = fs_glob_ids(fs, fs->globs[i], glob_missing_cb, NULL);
		if (r != 0)
			return r;
	}
	return 0;
}
