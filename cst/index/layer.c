/* One layer tar: read into a staged layer, then applied to the index.
 *
 * Reading keeps the header of every entry (in an arena: no malloc per
 * entry) and the contents of wanted regular files only, so a layer costs
 * memory in proportion to its entry count, not its size.  Staging lets a
 * source read layers in whatever order its archive stores them and apply
 * them in the manifest's order.
 */
#include "cst/fs.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/index/fs-internal.h"

enum norm_result {
	NORM_OK,
	NORM_DOTDOT,
};

/* Normalises a tar entry name into out (room for strlen(name) + 1):
 * leading "./" and "/", "." components, doubled and trailing slashes go.
 * A ".." component is refused rather than clamped: an archive that holds
 * one was made to escape, and its intended path is unknowable. */
static enum norm_result normalise(const char *name, char *out)
{
	size_t len = 0;
	const char *p = name;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = p;
		while (*end && *end != '/')
			end++;
		size_t clen = (size_t)(end - p);
		if (clen == 2 && p[0] == '.' && p[1] == '.')
			return NORM_DOTDOT;
		if (clen && !(clen == 1 && p[0] == '.')) {
			if (len)
				out[len++] = '/';
			memcpy(out + len, p, clen);
			len += clen;
		}
		p = end;
	}
	out[len] = '\0';
	return NORM_OK;
}

static enum cst_ftype map_type(mode_t t)
{
	switch (t) {
	case AE_IFREG:
		return CST_FT_REG;
	case AE_IFDIR:
		return CST_FT_DIR;
	case AE_IFLNK:
		return CST_FT_SYMLINK;
	case AE_IFCHR:
		return CST_FT_CHR;
	case AE_IFBLK:
		return CST_FT_BLK;
	case AE_IFIFO:
		return CST_FT_FIFO;
	case AE_IFSOCK:
		return CST_FT_SOCK;
	default:
		return 0;
	}
}

static const char *entry_name(struct archive_entry *entry)
{
	const char *name = archive_entry_pathname(entry);
	return name ? name : archive_entry_pathname_utf8(entry);
}

static int read_content(struct archive *a, struct archive_entry *entry, const char *name, struct stage_entry *e,
			struct cst_error *err)
{
	int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
	if (size < 0 || (uint64_t)size > CST_FS_CONTENT_MAX)
		return cst_error_set(err, CST_E_IMAGE,
				     "entry '%s': %lld bytes; contents over %zu MiB are not kept for tests", name,
				     (long long)size, CST_FS_CONTENT_MAX >> 20);
	/* Grow with the data actually read, never to the header's claim: a
	 * forged size must not become an allocation. */
	size_t cap = (size_t)size < 65536 ? (size_t)size + 1 : 65536;
	size_t len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > CST_FS_CONTENT_MAX) {
				free(buf);
				return cst_error_set(err, CST_E_IMAGE, "entry '%s': more data than its header says",
						     name);
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return cst_error_set(err, CST_E_NOMEM, "out of memory");
			}
			buf = nb;
			cap *= 2;
		}
		la_ssize_t n = archive_read_data(a, buf + len, cap - len - 1);
		if (n < 0) {
			free(buf);
			return cst_error_set(err, CST_E_IMAGE, "entry '%s': %s", name, archive_error_string(a));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if ((int64_t)len != size) {
		free(buf);
		return cst_error_set(err, CST_E_IMAGE, "entry '%s': %zu bytes of data where the header says %lld",
				     name, len, (long long)size);
	}
	buf[len] = '\0';
	e->content = buf;
	e->content_len = len;
	return 0;
}

/* Joins a symlink's target to the directory holding the link, lexically
 * ("." dropped, ".." clamped at the root): a guess at what the link names,
 * good enough to prefetch contents; lookups still resolve for real. */
static char *lexical_target(struct cst_arena *arena, const char *dir, size_t dir_len, const char *target)
{
	char *joined = NULL;
	if (asprintf(&joined, "/%.*s/%s", target[0] == '/' ? 0 : (int)dir_len, dir, target) < 0)
		return NULL;
	char *clean = fs_clean_path(joined);
	free(joined);
	if (!clean)
		return NULL;
	char *out = cst_arena_strndup(arena, clean, strlen(clean));
	free(clean);
	return out;
}

static bool layer_link_wanted(const struct cst_layer *layer, const char *abs)
{
	for (size_t i = 0; i < layer->n_link_wants; i++)
		if (strcmp(layer->link_wants[i], abs) == 0)
			return true;
	return false;
}

static int want_link_target(struct cst_layer *layer, const char *name, size_t dir_len, const char *target)
{
	char *t = lexical_target(&layer->wants_arena, name, dir_len, target);
	if (!t)
		return -1;
	if (layer_link_wanted(layer, t))
		return 0;
	char **v = realloc(layer->link_wants, (layer->n_link_wants + 1) * sizeof(*v));
	if (!v)
		return -1;
	layer->link_wants = v;
	v[layer->n_link_wants++] = t;
	return 0;
}

static struct stage_entry *stage_new(struct cst_layer *layer)
{
	struct stage_entry *e = cst_arena_alloc(&layer->arena, sizeof(*e));
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	if (layer->tail)
		layer->tail->next = e;
	else
		layer->head = e;
	layer->tail = e;
	layer->n++;
	return e;
}

/* Stages one header; 0, or -1 with err. */
static int stage_entry(struct archive *a, struct archive_entry *entry, const struct cst_fs *fs,
		       struct cst_layer *layer, char **scratch, size_t *scratch_cap, struct cst_error *err)
{
	const char *raw = entry_name(entry);
	if (!raw)
		return cst_error_set(err, CST_E_IMAGE, "an entry has no readable name");
	size_t need = strlen(raw) + 2;
	if (need > *scratch_cap) {
		char *s = realloc(*scratch, need);
		if (!s)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		*scratch = s;
		*scratch_cap = need;
	}
	/* scratch holds "/" + the normalised name, the form wanted paths use. */
	char *abs = *scratch;
	abs[0] = '/';
	char *name = abs + 1;
	if (normalise(raw, name) != NORM_OK)
		return cst_error_set(err, CST_E_IMAGE, "entry '%s': a '..' component would leave the image root",
				     raw);
	size_t name_len = strlen(name);

	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	size_t dir_len = slash ? (size_t)(slash - name) : 0;
	int wh = cst_whiteout_kind(base);
	if (wh == 3)
		return 0;
	struct stage_entry *e = stage_new(layer);
	if (!e)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	if (wh == 1 || wh == 2) {
		e->kind = wh == 1 ? STAGE_WHITEOUT : STAGE_OPAQUE;
		if (wh == 1) {
			/* dir + "/" + the name after ".wh." */
			char *victim = cst_arena_alloc(&layer->arena, name_len + 1);
			if (!victim)
				return cst_error_set(err, CST_E_NOMEM, "out of memory");
			memcpy(victim, name, dir_len);
			size_t pos = dir_len;
			if (slash)
				victim[pos++] = '/';
			strcpy(victim + pos, base + 4);
			e->name = victim;
		} else {
			e->name = cst_arena_strndup(&layer->arena, name, dir_len);
		}
		return e->name ? 0 : cst_error_set(err, CST_E_NOMEM, "out of memory");
	}

	e->name = cst_arena_strndup(&layer->arena, name, name_len);
	if (!e->name)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	e->mode = (uint32_t)(archive_entry_mode(entry) & 07777);
	e->uid = (uint32_t)archive_entry_uid(entry);
	e->gid = (uint32_t)archive_entry_gid(entry);
	e->size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;

	const char *hardlink = archive_entry_hardlink(entry);
	if (hardlink) {
		char *target = cst_arena_alloc(&layer->arena, strlen(hardlink) + 1);
		if (!target)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		if (normalise(hardlink, target) != NORM_OK)
			return cst_error_set(err, CST_E_IMAGE,
					     "entry '%s': hardlink target '%s' would leave the image root", raw,
					     hardlink);
		e->kind = STAGE_HARDLINK;
		e->link = target;
		e->type = CST_FT_REG;
		return 0;
	}

	e->kind = STAGE_ENTRY;
	e->type = (uint8_t)map_type(archive_entry_filetype(entry));
	if (!e->type)
		return cst_error_set(err, CST_E_IMAGE, "entry '%s': unknown file type 0%o", raw,
				     (unsigned)archive_entry_filetype(entry));
	if (e->type == CST_FT_SYMLINK) {
		const char *target = archive_entry_symlink(entry);
		if (!target)
			target = archive_entry_symlink_utf8(entry);
		e->link = cst_arena_strndup(&layer->arena, target ? target : "", target ? strlen(target) : 0);
		if (!e->link)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		if (name_len && e->link[0] && (fs_wants_clean(fs, abs) || layer_link_wanted(layer, abs)) &&
		    want_link_target(layer, name, dir_len, e->link) < 0)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	if (e->type == CST_FT_REG && name_len && (fs_wants_clean(fs, abs) || layer_link_wanted(layer, abs)))
		return read_content(a, entry, raw, e, err);
	return 0;
}

static int apply_entry(struct cst_fs *fs, struct stage_entry *e, uint16_t layer, bool consume,
		       struct cst_error *err);

/* Reads every entry of a into layer.  With into (the index fs names, still
 * empty), each entry is applied as soon as it is read and then dropped, so
 * a flat tar never exists twice in memory: staged and indexed.  Whiteouts
 * are dropped too: a layer's own whiteouts apply before its entries, and
 * on an empty index they delete nothing. */
static int read_entries(struct archive *a, const struct cst_fs *fs, struct cst_fs *into, struct cst_layer *layer,
			struct cst_error *err)
{
	char *scratch = NULL;
	size_t scratch_cap = 0;
	int ret_code = -1;
	for (;;) {
		struct archive_entry *entry;
		int r = archive_read_next_header(a, &entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_RETRY)
			continue;
		if (r < ARCHIVE_WARN) {
			const char *msg = archive_error_string(a);
			/* The last entry read places a read error in the archive;
			 * scratch still holds its name. */
			if (scratch)
				cst_error_set(err, CST_E_IMAGE, "after entry '%s': %s", scratch[1] ? scratch + 1 : ".",
					      msg ? msg : "read error");
			else
				cst_error_set(err, CST_E_IMAGE, "%s", msg ? msg : "read error");
			goto out;
		}
		if (stage_entry(a, entry, fs, layer, &scratch, &scratch_cap, err) < 0)
			goto out;
		struct stage_entry *e = layer->tail;
		if (!into || !e)
			continue;
		if ((e->kind == STAGE_ENTRY || e->kind == STAGE_HARDLINK) && apply_entry(into, e, 0, true, err) < 0)
			goto out;
		free(e->content);
		layer->head = layer->tail = NULL;
		layer->n = 0;
		cst_arena_reset(&layer->arena);
	}
	ret_code = 0;
out:
	free(scratch);
	return ret_code;
}

int cst_layer_read(struct archive *a, const struct cst_fs *fs, struct cst_layer **ret, struct cst_error *err)
{
	struct cst_layer *layer = calloc(1, sizeof(*layer));
	if (!layer)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	if (read_entries(a, fs, NULL, layer, err) < 0) {
		cst_layer_free(layer);
		return -1;
	}
	*ret = layer;
	return 0;
}

int cst_fs_read_flat_layer(struct archive *a, struct cst_fs *fs, struct cst_error *err)
{
	if (fs->count)
		return cst_error_set(err, CST_E_INTERNAL, "a flat layer is read into an empty index only");
	struct cst_layer *layer = calloc(1, sizeof(*layer));
	if (!layer)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	int rc = read_entries(a, fs, fs, layer, err);
	cst_layer_free(layer);
	return rc;
}

void cst_layer_free(struct cst_layer *layer)
{
	if (!layer)
		return;
	for (struct stage_entry *e = layer->head; e; e = e->next)
		free(e->content);
	free(layer->link_wants);
	cst_arena_release(&layer->arena);
	cst_arena_release(&layer->wants_arena);
	free(layer);
}

/* --- apply -------------------------------------------------------------- */

static void set_dir(struct fs_node *n, uint16_t layer)
{
	n->type = CST_FT_DIR;
	n->mode = 0755;
	n->uid = 0;
	n->gid = 0;
	n->size = 0;
	n->layer = layer;
}

/* The directory that will hold `name`, made as Docker's untar does: a
 * missing parent is created 0755 root:root, and a parent that is not a
 * directory (a symlink included) is replaced by one. */
static int parent_dir(struct cst_fs *fs, const char *name, uint16_t layer, uint32_t *ret_dir, const char **ret_base,
		      struct cst_error *err)
{
	uint32_t dir = 0;
	const char *p = name;
	for (;;) {
		const char *slash = strchr(p, '/');
		if (!slash)
			break;
		size_t len = (size_t)(slash - p);
		uint32_t child = fs_child(fs, dir, p, len);
		if (!child) {
			child = fs_add_child(fs, dir, p, len);
			if (!child)
				return cst_error_set(err, CST_E_NOMEM, "out of memory");
			set_dir(&fs->nodes[child], layer);
		} else if (fs->nodes[child].type != CST_FT_DIR) {
			fs_reset_node(fs, child);
			set_dir(&fs->nodes[child], layer);
		}
		dir = child;
		p = slash + 1;
	}
	*ret_dir = dir;
	*ret_base = p;
	return 0;
}

/* What a hardlink entry resolves to: its target's metadata. */
struct link_src {
	uint8_t type;
	uint32_t mode, uid, gid;
	int64_t size;
	const char *link; /* in fs->names */
	uint8_t flags;
	const char *data;
	size_t len;
	bool has_data;
};

static int hardlink_source(struct cst_fs *fs, const struct stage_entry *e, struct link_src *src,
			   struct cst_error *err)
{
	uint32_t t;
	if (!fs_find_literal(fs, e->link, &t) || t == 0)
		return cst_error_set(err, CST_E_IMAGE, "entry '%s': hardlink to '%s', which does not exist", e->name,
				     e->link);
	const struct fs_node *n = &fs->nodes[t];
	if (n->type == CST_FT_DIR)
		return cst_error_set(err, CST_E_IMAGE, "entry '%s': hardlink to directory '%s'", e->name, e->link);
	memset(src, 0, sizeof(*src));
	src->type = n->type;
	src->mode = n->mode;
	src->uid = n->uid;
	src->gid = n->gid;
	src->size = n->size;
	if (n->type == CST_FT_SYMLINK) {
		src->link = n->link;
	} else if (n->type == CST_FT_REG) {
		/* Remember the file the data lives in, so a second pass can ask
		 * for it when only the link's path was wanted. */
		src->flags = NODE_HARDLINK;
		if (n->flags & NODE_HARDLINK)
			src->link = n->link;
		else if (!(src->link = cst_arena_strndup(&fs->names, e->link, strlen(e->link))))
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	if (n->content) {
		src->data = fs->contents[n->content].data;
		src->len = fs->contents[n->content].len;
		src->has_data = true;
	}
	return 0;
}

static char *dup_bytes(const char *p, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

static int apply_entry(struct cst_fs *fs, struct stage_entry *e, uint16_t layer, bool consume,
		       struct cst_error *err)
{
	if (!e->name[0]) {
		/* "./" itself: the root's own metadata. */
		if (e->type != CST_FT_DIR || e->kind != STAGE_ENTRY)
			return cst_error_set(err, CST_E_IMAGE, "entry '.': the image root must be a directory");
		struct fs_node *r = &fs->nodes[0];
		r->mode = e->mode;
		r->uid = e->uid;
		r->gid = e->gid;
		r->layer = layer;
		return 0;
	}
	struct link_src src;
	if (e->kind == STAGE_HARDLINK && hardlink_source(fs, e, &src, err) < 0)
		return -1;
	/* A copy of the target's data now: the target may be the node replaced below. */
	char *data = NULL;
	size_t len = 0;
	if (e->kind == STAGE_HARDLINK && src.has_data) {
		data = dup_bytes(src.data, src.len);
		len = src.len;
		if (!data)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
	} else if (e->kind == STAGE_ENTRY && e->content) {
		data = consume ? e->content : dup_bytes(e->content, e->content_len);
		len = e->content_len;
		if (!data)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		if (consume)
			e->content = NULL;
	}

	uint32_t dir = 0;
	const char *base = NULL;
	if (parent_dir(fs, e->name, layer, &dir, &base, err) < 0) {
		free(data);
		return -1;
	}
	uint32_t id = fs_child(fs, dir, base, strlen(base));
	if (id) {
		bool keep_children = fs->nodes[id].type == CST_FT_DIR && e->type == CST_FT_DIR;
		if (!keep_children)
			fs_remove_children(fs, id);
		fs_reset_node(fs, id);
	} else if (!(id = fs_add_child(fs, dir, base, strlen(base)))) {
		free(data);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}

	struct fs_node *n = &fs->nodes[id];
	n->layer = layer;
	if (e->kind == STAGE_HARDLINK) {
		n->type = src.type;
		n->mode = src.mode;
		n->uid = src.uid;
		n->gid = src.gid;
		n->size = src.size;
		n->link = src.link;
		n->flags = src.flags;
	} else {
		n->type = e->type;
		n->mode = e->mode;
		n->uid = e->uid;
		n->gid = e->gid;
		n->size = e->type == CST_FT_DIR ? 0 : e->size;
		if (e->link && !(n->link = cst_arena_strndup(&fs->names, e->link, strlen(e->link)))) {
			free(data);
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		}
	}
	if (data && fs_set_content(fs, id, data, len) < 0) {
		free(data);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	return 0;
}

static int apply(struct cst_fs *fs, struct cst_layer *layer, int index, bool consume, struct cst_error *err)
{
	if (index < 0 || index > UINT16_MAX)
		return cst_error_set(err, CST_E_IMAGE, "layer %d: too many layers", index);
	if ((size_t)index >= fs->n_lstats) {
		struct cst_fs_layer_stats *grown = realloc(fs->lstats, ((size_t)index + 1) * sizeof(*grown));
		if (!grown)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		memset(grown + fs->n_lstats, 0, ((size_t)index + 1 - fs->n_lstats) * sizeof(*grown));
		fs->lstats = grown;
		fs->n_lstats = (size_t)index + 1;
	}
	struct cst_fs_layer_stats *st = &fs->lstats[index];
	for (struct stage_entry *e = layer->head; e; e = e->next)
		if (e->kind == STAGE_ENTRY && e->type == CST_FT_REG) {
			st->bytes += e->size;
			st->files++;
		}
	fs->acct_layer = index;
	for (struct stage_entry *e = layer->head; e; e = e->next) {
		if (e->kind == STAGE_WHITEOUT || e->kind == STAGE_OPAQUE)
			cst_whiteout_apply(fs, e);
	}
	int r = 0;
	for (struct stage_entry *e = layer->head; e && r == 0; e = e->next) {
		if (e->kind != STAGE_ENTRY && e->kind != STAGE_HARDLINK)
			continue;
		r = apply_entry(fs, e, (uint16_t)index, consume, err);
	}
	fs->acct_layer = -1;
	return r;
}

int cst_fs_apply_layer(struct cst_fs *fs, struct cst_layer *layer, int index, struct cst_error *err)
{
	int r = apply(fs, layer, index, true, err);
	cst_layer_free(layer);
	return r;
}

int cst_fs_apply_layer_copy(struct cst_fs *fs, struct cst_layer *layer, int index, struct cst_error *err)
{
	return apply(fs, layer, index, false, err);
}

int cst_fs_read_first(struct archive *a, struct cst_fs *fs, const char *path, struct cst_error *err)
{
	struct archive_entry *entry;
	int r;
	do
		r = archive_read_next_header(a, &entry);
	while (r == ARCHIVE_RETRY);
	if (r == ARCHIVE_EOF)
		return cst_error_set(err, CST_E_IMAGE, "the archive of '%s' holds no entry", path);
	if (r < ARCHIVE_WARN) {
		const char *msg = archive_error_string(a);
		return cst_error_set(err, CST_E_IMAGE, "the archive of '%s': %s", path, msg ? msg : "read error");
	}
	/* The archive names the entry by its base name; its place is the path
	 * asked for.  One file alone is never a hardlink entry. */
	if (archive_entry_hardlink(entry))
		return cst_error_set(err, CST_E_IMAGE, "the archive of '%s' starts with a hardlink", path);
	archive_entry_set_pathname(entry, path);
	struct cst_layer *layer = calloc(1, sizeof(*layer));
	if (!layer)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	char *scratch = NULL;
	size_t scratch_cap = 0;
	int rc = stage_entry(a, entry, fs, layer, &scratch, &scratch_cap, err);
	free(scratch);
	if (rc == 0) {
		struct stage_entry *e = layer->head;
		/* A whiteout name is dropped by a flat read: absent there too. */
		if (!e || e->kind != STAGE_ENTRY)
			rc = 0;
		else if (apply_entry(fs, e, 0, true, err) < 0)
			rc = -1;
		else
			rc = 1;
	}
	cst_layer_free(layer);
	return rc;
}
