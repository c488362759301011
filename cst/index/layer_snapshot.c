/* One staged layer saved to a file and loaded back: the per-layer index
 * cache's entries.
 *
 * A staged layer (layer.c) is what a layer tar says, before it meets the
 * layers below it: its entries, hardlinks, whiteouts and opaque markers,
 * in tar order.  Applying a saved one therefore gives exactly what applying
 * the tar gives, whatever lies below; and one saved layer serves every
 * image built on it.  Contents are kept for the paths some run wanted, as
 * a staged layer keeps them; a run that wants one more finds the saved
 * layer lacking (cst_layer_content_missing) and reads the layer again.
 *
 * The format is ours and versioned, every integer little-endian (snap-io.h):
 *
 *   "CSTLAYER" u32 version  u32 key_len key  u32 n_entries, then per entry:
 *     u8 kind  u8 type  u32 mode  u32 uid  u32 gid  i64 size
 *     u32 name_len name  u32 link_len link  u32 content_len content
 *     (link_len and content_len are NONE when absent)
 *   u64 FNV-1a of every byte before it
 */
#include "cst/fs.h"

#include <stdlib.h>
#include <string.h>

#include "cst/index/fs-internal.h"
#include "cst/index/snap-io.h"

#define LAYER_MAGIC "CSTLAYER"
#define LAYER_VERSION 1u
#define LAYER_KEY_MAX 4096u
/* A path inside a layer: bounded like a tar reader bounds its names. */
#define LAYER_NAME_MAX 65536u

/* The contents entry i of `extra` (the saved layer being replaced, read
 * from the same digest, so in the same order) has for e. */
static const struct stage_entry *extra_at(const struct stage_entry *x, const struct stage_entry *e)
{
	if (!x || x->kind != STAGE_ENTRY || e->kind != STAGE_ENTRY || x->type != CST_FT_REG ||
	    e->type != CST_FT_REG || !x->content || x->size != e->size || strcmp(x->name, e->name) != 0)
		return NULL;
	return x;
}

int cst_layer_snapshot_write(const struct cst_layer *layer, const struct cst_layer *extra, const char *key, FILE *f,
			     struct cst_error *err)
{
	struct snap_out o = {.f = f, .sum = SNAP_SUM_INIT};
	if (layer->n >= SNAP_NONE)
		return cst_error_set(err, CST_E_INTERNAL, "a layer of %zu entries is too large to save", layer->n);
	/* Only an extra of the same shape is walked beside this one. */
	const struct stage_entry *x = extra && extra->n == layer->n ? extra->head : NULL;
	snap_put(&o, LAYER_MAGIC, 8);
	snap_put_u(&o, LAYER_VERSION, 4);
	snap_put_str(&o, key, strlen(key));
	snap_put_u(&o, layer->n, 4);
	for (const struct stage_entry *e = layer->head; e; e = e->next, x = x ? x->next : NULL) {
		snap_put_u(&o, e->kind, 1);
		snap_put_u(&o, e->type, 1);
		snap_put_u(&o, e->mode, 4);
		snap_put_u(&o, e->uid, 4);
		snap_put_u(&o, e->gid, 4);
		snap_put_u(&o, (uint64_t)e->size, 8);
		snap_put_str(&o, e->name, strlen(e->name));
		if (e->link)
			snap_put_str(&o, e->link, strlen(e->link));
		else
			snap_put_u(&o, SNAP_NONE, 4);
		const struct stage_entry *c = e->content ? e : extra_at(x, e);
		if (c)
			snap_put_str(&o, c->content, c->content_len);
		else
			snap_put_u(&o, SNAP_NONE, 4);
	}
	uint64_t sum = o.sum;
	snap_put_u(&o, sum, 8);
	if (o.failed || fflush(f) != 0)
		return cst_error_set(err, CST_E_IO, "writing the layer index failed");
	return 0;
}

/* A normalised relative path as layer.c makes them: components neither
 * empty, "." nor ".."; "" (the root) only where allowed. */
static bool valid_path(const char *s, size_t n, bool root_ok)
{
	if (n == 0)
		return root_ok;
	if (memchr(s, '\0', n))
		return false;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && s[j] != '/')
			j++;
		size_t c = j - i;
		if (c == 0 || (c == 1 && s[i] == '.') || (c == 2 && s[i] == '.' && s[i + 1] == '.'))
			return false;
		i = j + 1;
		if (j + 1 == n)
			return false; /* a trailing slash */
	}
	return true;
}

static int read_entry(struct snap_in *in, struct cst_layer *layer, uint32_t rec)
{
	uint64_t kind, type, mode, uid, gid, size;
	if (snap_get_u(in, &kind, 1) < 0 || snap_get_u(in, &type, 1) < 0 || snap_get_u(in, &mode, 4) < 0 ||
	    snap_get_u(in, &uid, 4) < 0 || snap_get_u(in, &gid, 4) < 0 || snap_get_u(in, &size, 8) < 0)
		return -1;
	char *name = NULL, *link = NULL, *content = NULL;
	size_t name_len = 0, link_len = 0, content_len = 0;
	int rc = -1;
	if (snap_get_str(in, LAYER_NAME_MAX, false, &name, &name_len) < 0 ||
	    snap_get_str(in, LAYER_NAME_MAX, true, &link, &link_len) < 0 ||
	    snap_get_str(in, CST_FS_CONTENT_MAX, true, &content, &content_len) < 0)
		goto out;
	bool ok = (int64_t)size >= 0 && mode <= 07777;
	switch (kind) {
	case STAGE_ENTRY:
		ok = ok && type >= CST_FT_REG && type <= CST_FT_SOCK && valid_path(name, name_len, true) &&
		     (type == CST_FT_SYMLINK) == (link != NULL) && (!link || !memchr(link, '\0', link_len)) &&
		     (!content || (type == CST_FT_REG && name_len && content_len == size));
		break;
	case STAGE_HARDLINK:
		ok = ok && type == CST_FT_REG && valid_path(name, name_len, false) && link &&
		     valid_path(link, link_len, false) && !content;
		break;
	case STAGE_WHITEOUT:
	case STAGE_OPAQUE:
		ok = ok && type == 0 && valid_path(name, name_len, kind == STAGE_OPAQUE) && !link && !content;
		break;
	default:
		ok = false;
	}
	if (!ok) {
		cst_error_set(in->err, CST_E_IO, "%s: entry %u is malformed", in->what, rec);
		goto out;
	}
	struct stage_entry *e = cst_arena_alloc(&layer->arena, sizeof(*e));
	if (e)
		memset(e, 0, sizeof(*e));
	if (!e || !(e->name = cst_arena_strndup(&layer->arena, name, name_len)) ||
	    (link && !(e->link = cst_arena_strndup(&layer->arena, link, link_len)))) {
		cst_error_set(in->err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	e->kind = (uint8_t)kind;
	e->type = (uint8_t)type;
	e->mode = (uint32_t)mode;
	e->uid = (uint32_t)uid;
	e->gid = (uint32_t)gid;
	e->size = (int64_t)size;
	e->content = content;
	e->content_len = content_len;
	content = NULL;
	if (layer->tail)
		layer->tail->next = e;
	else
		layer->head = e;
	layer->tail = e;
	layer->n++;
	rc = 0;
out:
	free(name);
	free(link);
	free(content);
	return rc;
}

int cst_layer_snapshot_read(const char *key, FILE *f, const char *what, struct cst_layer **ret,
			    struct cst_error *err)
{
	struct snap_in in = {.f = f, .sum = SNAP_SUM_INIT, .what = what, .err = err};
	char magic[8];
	uint64_t version, count;
	char *stored_key = NULL;
	size_t key_len = 0;
	struct cst_layer *layer = NULL;
	int rc = -1;

	*ret = NULL;
	if (snap_get(&in, magic, 8) < 0)
		return -1;
	if (memcmp(magic, LAYER_MAGIC, 8) != 0)
		return cst_error_set(err, CST_E_IO, "%s: not a layer index", what);
	if (snap_get_u(&in, &version, 4) < 0)
		return -1;
	if (version != LAYER_VERSION)
		return cst_error_set(err, CST_E_IO, "%s: layer index version %llu, not %u", what,
				     (unsigned long long)version, LAYER_VERSION);
	if (snap_get_str(&in, LAYER_KEY_MAX, false, &stored_key, &key_len) < 0)
		return -1;
	if (strlen(key) != key_len || memcmp(stored_key, key, key_len) != 0) {
		cst_error_set(err, CST_E_IO, "%s: saved for another layer", what);
		goto out;
	}
	if (snap_get_u(&in, &count, 4) < 0)
		goto out;
	if (count >= SNAP_NONE) {
		cst_error_set(err, CST_E_IO, "%s: a count of %llu entries is out of bounds", what,
			      (unsigned long long)count);
		goto out;
	}
	if (!(layer = calloc(1, sizeof(*layer)))) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	for (uint32_t rec = 0; rec < count; rec++)
		if (read_entry(&in, layer, rec) < 0)
			goto out;
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
	*ret = layer;
	layer = NULL;
	rc = 0;
out:
	cst_layer_free(layer);
	free(stored_key);
	return rc;
}

int cst_layer_content_missing(const struct cst_fs *fs, const struct cst_layer *layer, char **ret_path)
{
	*ret_path = NULL;
	char *abs = NULL;
	size_t cap = 0;
	int rc = 0;
	for (const struct stage_entry *e = layer->head; e && rc == 0; e = e->next) {
		if (e->kind != STAGE_ENTRY || e->type != CST_FT_REG || e->content || !e->name[0])
			continue;
		size_t n = strlen(e->name) + 2;
		if (n > cap) {
			char *grown = realloc(abs, n);
			if (!grown) {
				rc = -1;
				break;
			}
			abs = grown;
			cap = n;
		}
		abs[0] = '/';
		memcpy(abs + 1, e->name, n - 1);
		if (fs_wants_clean(fs, abs)) {
			rc = 1;
			*ret_path = abs;
			abs = NULL;
		}
	}
	free(abs);
	return rc;
}
