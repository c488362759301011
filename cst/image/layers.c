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

static int stage_pass(const char *path, const struct image_plan *p, const size_t *slots, struct cst_fs *fs,
		      struct cst_layer **staged, struct cst_error *err)
{
	struct archive *a;
	if (archive_open_file(path, &a, err) < 0)
		return -1;
	size_t distinct = 0, done = 0;
	for (size_t i = 0; i < p->n_layers; i++)
		distinct += slots[i] == i;
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
		if (archive_open_nested(a, &inner, err) < 0) {
			cst_error_wrap(err, "%s: layer '%s'", path, name);
			goto out;
		}
		int lr = cst_layer_read(inner, fs, &staged[slot], err);
		archive_read_free(inner);
		if (lr < 0) {
			cst_error_wrap(err, "%s: layer '%s'", path, name);
			goto out;
		}
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

int layers_from_tar(const char *path, const struct image_plan *p, struct cst_fs *fs, struct cst_error *err)
{
	struct cst_layer **staged = calloc(p->n_layers + 1, sizeof(*staged));
	size_t *slots = distinct_slots(p);
	if (!staged || !slots) {
		free(staged);
		free(slots);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	int r = stage_pass(path, p, slots, fs, staged, err);
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
	for (size_t i = 0; i < p->n_layers; i++)
		cst_layer_free(staged[i]);
	free(staged);
	free(slots);
	return r;
}
