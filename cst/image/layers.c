/* Reading an image's layers into the index, in the plan's order.
 *
 * Inside a tar the layers come in whatever order the writer chose, which
 * need not be the manifest's; one pass stages each listed layer as it
 * passes by, and the staged layers are then applied bottom first.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cst/image/archive-internal.h"
#include "cst/index/fs-internal.h"

void image_plan_release(struct image_plan *p)
{
	json_decref(p->config);
	free(p->config_what);
	for (size_t i = 0; i < p->n_layers; i++)
		free(p->layers[i]);
	free(p->layers);
	memset(p, 0, sizeof(*p));
}

int image_plan_add_layer(struct image_plan *p, const char *name, struct cst_error *err)
{
	char **v = realloc(p->layers, (p->n_layers + 1) * sizeof(*v));
	if (!v)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	p->layers = v;
	if (!(v[p->n_layers] = strdup(name)))
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	p->n_layers++;
	return 0;
}

static bool is_sha256(const char *s)
{
	return s && strncmp(s, "sha256:", 7) == 0 && strlen(s + 7) == 64 && strspn(s + 7, "0123456789abcdef") == 64;
}

char *plan_layer_digest(const struct image_plan *p, const struct layer_cache *lc, size_t i)
{
	const char *name = p->layers[i];
	char *d = NULL;
	if (strncmp(name, "blobs/sha256/", 13) == 0) {
		if (asprintf(&d, "sha256:%s", name + 13) < 0)
			return NULL;
		if (is_sha256(d))
			return d;
		free(d);
		return NULL;
	}
	json_t *ids = json_object_get(json_object_get(p->config, "rootfs"), "diff_ids");
	/* Only a list that matches the layers one for one names them. */
	if (!lc->diff_ids || !json_is_array(ids) || json_array_size(ids) != p->n_layers)
		return NULL;
	const char *id = json_string_value(json_array_get(ids, i));
	return is_sha256(id) ? strdup(id) : NULL;
}

/* A layer read from the archive with sum over its bytes: saved when they
 * are the digest it is named by, never otherwise. */
static void store_checked(struct layer_cache *lc, const char *digest, struct cst_sha256 *sum, const char *what,
			  const struct cst_layer *layer)
{
	char got[72];
	if (cst_sha256_final(sum, got) < 0) {
		cst_index_cache_note(&lc->ic, "index cache: layer %s: no digest could be computed; not saved", what);
		return;
	}
	if (strcmp(got, digest) != 0) {
		cst_index_cache_note(&lc->ic, "index cache: layer %s: its bytes are %s, not %s; not saved", what, got,
				     digest);
		return;
	}
	cst_index_cache_note(&lc->ic, "index cache: layer %s read from %s", digest, what);
	cst_layer_cache_store(&lc->ic, digest, layer);
}

/* One layer file of an OCI layout, from the cache or from the file. */
static int dir_layer(const char *file, const char *digest, struct layer_cache *lc, struct cst_fs *fs,
		     struct cst_layer **ret, struct cst_error *err)
{
	if (digest && cst_layer_cache_load(&lc->ic, digest, fs, ret)) {
		lc->cached++;
		return 0;
	}
	struct archive *a;
	struct cst_sha256 sum = {0};
	int fd = -1, r;
	if (!digest)
		r = archive_open_file(file, &a, err);
	else if (cst_sha256_init(&sum) < 0)
		r = cst_error_set(err, CST_E_NOMEM, "out of memory");
	else
		r = archive_open_file_sum(file, &sum, &a, &fd, err);
	if (r < 0) {
		cst_sha256_release(&sum);
		return cst_error_wrap(err, "layer %s", file);
	}
	r = cst_layer_read(a, fs, ret, err);
	archive_read_free(a);
	if (r < 0)
		cst_error_wrap(err, "%s", file);
	else if (digest && archive_sum_fd_rest(fd, &sum) == 0)
		store_checked(lc, digest, &sum, file, *ret);
	if (fd >= 0)
		close(fd);
	cst_sha256_release(&sum);
	lc->read += r == 0;
	return r;
}

int layers_from_dir(const char *dir, const struct image_plan *p, struct layer_cache *lc, struct cst_fs *fs,
		    struct cst_error *err)
{
	for (size_t i = 0; i < p->n_layers; i++) {
		char *file, *digest = lc->ic.dir ? plan_layer_digest(p, lc, i) : NULL;
		if (asprintf(&file, "%s/%s", dir, p->layers[i]) < 0) {
			free(digest);
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		}
		struct cst_layer *layer = NULL;
		int r = dir_layer(file, digest, lc, fs, &layer, err);
		if (r == 0 && cst_fs_apply_layer(fs, layer, (int)i, err) < 0)
			r = cst_error_wrap(err, "%s", file);
		free(file);
		free(digest);
		if (r < 0)
			return -1;
	}
	return 0;
}

int layer_from_file(const char *file, const char *what, struct cst_fs *fs, int index, struct cst_error *err)
{
	struct archive *a;
	if (archive_open_file(file, &a, err) < 0)
		return cst_error_wrap(err, "layer %s", what);
	struct cst_layer *layer = NULL;
	int r = cst_layer_read(a, fs, &layer, err);
	archive_read_free(a);
	if (r < 0)
		return cst_error_wrap(err, "%s", what);
	if (cst_fs_apply_layer(fs, layer, index, err) < 0)
		return cst_error_wrap(err, "%s", what);
	return 0;
}

/* For each plan layer, the first plan layer with the same name: an image
 * may list one layer (an empty one, typically) more than once.  Computed
 * once, so that the scan of a big outer tar does not redo it per entry. */
static size_t *distinct_slots(const struct image_plan *p)
{
	size_t *slot = calloc(p->n_layers + 1, sizeof(*slot));
	if (!slot)
		return NULL;
	for (size_t i = 0; i < p->n_layers; i++) {
		slot[i] = i;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(p->layers[j], p->layers[i]) == 0) {
				slot[i] = j;
				break;
			}
		}
	}
	return slot;
}

static bool used_later(const struct image_plan *p, const size_t *slots, size_t slot, size_t after)
{
	for (size_t j = after + 1; j < p->n_layers; j++) {
		if (slots[j] == slot)
			return true;
	}
	return false;
}

static int stage_pass(const char *path, const struct image_plan *p, const size_t *slots, char **digests,
		      struct layer_cache *lc, struct cst_fs *fs, struct cst_layer **staged, struct cst_error *err)
{
	size_t distinct = 0, done = 0;
	for (size_t i = 0; i < p->n_layers; i++) {
		distinct += slots[i] == i;
		done += slots[i] == i && staged[i];
	}
	/* Every layer from the cache: the archive is not opened. */
	if (done == distinct)
		return 0;
	struct archive *a;
	if (archive_open_file(path, &a, err) < 0)
		return -1;
	char *name = NULL;
	int r = -1;
	/* Stops as soon as every layer is staged: what follows is not needed. */
	while (done < distinct) {
		struct archive_entry *entry;
		int h = archive_read_next_header(a, &entry);
		if (h == ARCHIVE_EOF)
			break;
		if (h == ARCHIVE_RETRY)
			continue;
		if (h < ARCHIVE_WARN) {
			cst_error_set(err, CST_E_IMAGE, "%s: %s", path, archive_error_string(a));
			goto out;
		}
		const char *raw = archive_entry_pathname(entry);
		if (!raw || archive_entry_filetype(entry) != AE_IFREG)
			continue;
		free(name);
		if (!(name = strdup(raw))) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		archive_name_normalise(name);
		size_t slot = p->n_layers;
		for (size_t i = 0; i < p->n_layers; i++) {
			if (!staged[i] && slots[i] == i && strcmp(p->layers[i], name) == 0) {
				slot = i;
				break;
			}
		}
		if (slot == p->n_layers)
			continue;
		struct archive *inner;
		struct cst_sha256 sum = {0};
		if (digests[slot] && cst_sha256_init(&sum) < 0) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		if (archive_open_nested_sum(a, digests[slot] ? &sum : NULL, &inner, err) < 0) {
			cst_sha256_release(&sum);
			cst_error_wrap(err, "%s: layer '%s'", path, name);
			goto out;
		}
		int lr = cst_layer_read(inner, fs, &staged[slot], err);
		archive_read_free(inner);
		if (lr < 0) {
			cst_sha256_release(&sum);
			cst_error_wrap(err, "%s: layer '%s'", path, name);
			goto out;
		}
		if (digests[slot] && archive_sum_rest(a, &sum) == 0) {
			char *what = NULL;
			if (asprintf(&what, "%s:%s", path, name) >= 0)
				store_checked(lc, digests[slot], &sum, what, staged[slot]);
			free(what);
		}
		cst_sha256_release(&sum);
		lc->read++;
		done++;
	}
	for (size_t i = 0; i < p->n_layers; i++) {
		if (slots[i] == i && !staged[i]) {
			cst_error_set(err, CST_E_IMAGE, "%s: layer '%s' is listed in the manifest but not in the archive",
				      path, p->layers[i]);
			goto out;
		}
	}
	r = 0;
out:
	free(name);
	archive_read_free(a);
	return r;
}

int layers_from_tar(const char *path, const struct image_plan *p, struct layer_cache *lc, struct cst_fs *fs,
		    struct cst_error *err)
{
	struct cst_layer **staged = calloc(p->n_layers + 1, sizeof(*staged));
	char **digests = calloc(p->n_layers + 1, sizeof(*digests));
	size_t *slots = distinct_slots(p);
	if (!staged || !slots || !digests) {
		free(staged);
		free(slots);
		free(digests);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; lc->ic.dir && i < p->n_layers; i++) {
		if (slots[i] != i || !(digests[i] = plan_layer_digest(p, lc, i)))
			continue;
		if (cst_layer_cache_load(&lc->ic, digests[i], fs, &staged[i]))
			lc->cached++;
	}
	int r = stage_pass(path, p, slots, digests, lc, fs, staged, err);
	for (size_t i = 0; r == 0 && i < p->n_layers; i++) {
		size_t slot = slots[i];
		if (used_later(p, slots, slot, i)) {
			r = cst_fs_apply_layer_copy(fs, staged[slot], (int)i, err);
		} else {
			r = cst_fs_apply_layer(fs, staged[slot], (int)i, err);
			staged[slot] = NULL;
		}
		if (r < 0)
			cst_error_wrap(err, "%s: layer '%s'", path, p->layers[i]);
	}
	for (size_t i = 0; i < p->n_layers; i++) {
		cst_layer_free(staged[i]);
		free(digests[i]);
	}
	free(staged);
	free(digests);
	free(slots);
	return r;
}
