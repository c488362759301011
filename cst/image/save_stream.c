/* A `docker save` archive read as a stream, in one pass.
 *
 * Nothing can be read twice, and the engine writes manifest.json last, so
 * every entry that may be a layer is staged as it passes, the JSON entries
 * are kept, and the manifest then decides which staged layers apply in
 * which order.  Layers are recognised by name (classic "<id>/layer.tar")
 * or, for the blobs of newer engines, by not being JSON: a small blob is
 * read into memory first to tell, a large one can only be a layer. */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "cst/image.h"
#include "cst/image/archive-internal.h"
#include "cst/index/fs-internal.h"

struct staged {
	char *name;
	struct cst_layer *layer;
};

struct stream_state {
	struct tar_cache cache;
	struct staged *v;
	size_t n;
	size_t cap;
};

/* As the file readers: an engine stops at 127 layers; far more is not an
 * image but an attack on memory. */
#define STREAM_LAYERS_MAX 1000

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int add_staged(struct stream_state *st, const char *name, struct cst_layer *layer)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 8;
		struct staged *v = realloc(st->v, cap * sizeof(*v));
		if (!v)
			return -1;
		st->v = v;
		st->cap = cap;
	}
	if (!(st->v[st->n].name = strdup(name)))
		return -1;
	st->v[st->n].layer = layer;
	st->n++;
	return 0;
}

static int stage_archive(struct stream_state *st, struct archive *inner, const char *name, const struct cst_fs *fs,
			 struct cst_error *err)
{
	if (st->n >= STREAM_LAYERS_MAX)
		return cst_error_set(err, CST_E_IMAGE, "more than %d layers", STREAM_LAYERS_MAX);
	struct cst_layer *layer = NULL;
	if (cst_layer_read(inner, fs, &layer, err) < 0)
		return -1;
	if (add_staged(st, name, layer) < 0) {
		cst_layer_free(layer);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	return 0;
}

/* A small blob: JSON goes to the cache, anything else is a layer. */
static int small_blob(struct stream_state *st, struct archive *outer, const char *name, size_t size,
		      const struct cst_fs *fs, struct cst_error *err)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	size_t len = 0;
	while (len < size) {
		la_ssize_t n = archive_read_data(outer, buf + len, size - len);
		if (n < 0) {
			free(buf);
			return cst_error_set(err, CST_E_IMAGE, "%s", archive_error_string(outer));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	size_t i = 0;
	while (i < len && strchr(" \t\r\n", buf[i]))
		i++;
	if (i < len && (buf[i] == '{' || buf[i] == '[')) {
		if (tar_cache_add(&st->cache, name, buf, len) < 0) {
			free(buf);
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		}
		return 0;
	}
	struct archive *inner = archive_read_new();
	if (!inner) {
		free(buf);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	archive_read_support_filter_all(inner);
	archive_read_support_format_tar(inner);
	int r;
	if (archive_read_open_memory(inner, buf, len) != ARCHIVE_OK)
		r = cst_error_set(err, CST_E_IMAGE, "%s", archive_error_string(inner));
	else
		r = stage_archive(st, inner, name, fs, err);
	archive_read_free(inner);
	free(buf);
	return r;
}

static int read_entry(struct stream_state *st, struct archive *outer, struct archive_entry *entry,
		      const struct cst_fs *fs, struct cst_error *err)
{
	const char *raw = archive_entry_pathname(entry);
	if (!raw || archive_entry_filetype(entry) != AE_IFREG)
		return 0;
	char *name = strdup(raw);
	if (!name)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	archive_name_normalise(name);
	int64_t size = archive_entry_size(entry);
	int r = 0;
	if (ends_with(name, "/layer.tar") || (strncmp(name, "blobs/", 6) == 0 && size > (int64_t)CST_IMAGE_JSON_MAX)) {
		struct archive *inner;
		r = archive_open_nested(outer, &inner, err);
		if (r == 0) {
			r = stage_archive(st, inner, name, fs, err);
			archive_read_free(inner);
		}
	} else if (size > 0 && size <= (int64_t)CST_IMAGE_JSON_MAX &&
		   (ends_with(name, ".json") || strncmp(name, "blobs/", 6) == 0)) {
		r = small_blob(st, outer, name, (size_t)size, fs, err);
	}
	if (r < 0)
		cst_error_wrap(err, "entry '%s'", name);
	free(name);
	return r;
}

static struct cst_layer *find_staged(struct stream_state *st, const char *name, size_t *ret_i)
{
	for (size_t i = 0; i < st->n; i++) {
		if (strcmp(st->v[i].name, name) == 0) {
			*ret_i = i;
			return st->v[i].layer;
		}
	}
	return NULL;
}

static bool needed_later(const struct image_plan *p, size_t after, const char *name)
{
	for (size_t j = after + 1; j < p->n_layers; j++)
		if (strcmp(p->layers[j], name) == 0)
			return true;
	return false;
}

static int apply_plan(struct stream_state *st, const struct image_plan *p, const char *what, struct cst_fs *fs,
		      struct cst_error *err)
{
	for (size_t i = 0; i < p->n_layers; i++) {
		size_t k;
		struct cst_layer *layer = find_staged(st, p->layers[i], &k);
		if (!layer)
			return cst_error_set(err, CST_E_IMAGE, "%s: layer '%s' is listed in the manifest but not in the archive",
					     what, p->layers[i]);
		int r;
		if (needed_later(p, i, p->layers[i])) {
			r = cst_fs_apply_layer_copy(fs, layer, (int)i, err);
		} else {
			r = cst_fs_apply_layer(fs, layer, (int)i, err);
			st->v[k].layer = NULL;
		}
		if (r < 0)
			return cst_error_wrap(err, "%s: layer '%s'", what, p->layers[i]);
	}
	return 0;
}

int cst_image_read_save_stream(struct archive *outer, const char *what, struct cst_fs *fs, struct cst_error *err)
{
	struct stream_state st = {0};
	struct image_plan plan = {0};
	int r = -1;
	for (;;) {
		struct archive_entry *entry;
		int h = archive_read_next_header(outer, &entry);
		if (h == ARCHIVE_EOF)
			break;
		if (h == ARCHIVE_RETRY)
			continue;
		if (h < ARCHIVE_WARN) {
			cst_error_set(err, CST_E_IMAGE, "%s: %s", what, archive_error_string(outer));
			goto out;
		}
		if (read_entry(&st, outer, entry, fs, err) < 0) {
			cst_error_wrap(err, "%s", what);
			goto out;
		}
	}
	if (docker_save_plan(what, &st.cache, &plan, err) < 0 || apply_plan(&st, &plan, what, fs, err) < 0)
		goto out;
	r = 0;
out:
	image_plan_release(&plan);
	for (size_t i = 0; i < st.n; i++) {
		free(st.v[i].name);
		cst_layer_free(st.v[i].layer);
	}
	free(st.v);
	tar_cache_release(&st.cache);
	return r;
}
