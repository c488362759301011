/* `docker save` archives: manifest.json names the config and the layers,
 * bottom first, as paths inside the archive ("<id>/layer.tar" in the
 * classic layout, "blobs/sha256/<hex>" since Docker 25). */
#include <stdlib.h>
#include <string.h>

#include "cst/image/archive-internal.h"

int docker_save_plan(const char *path, const struct tar_cache *cache, struct image_plan *ret, struct cst_error *err)
{
	json_t *m = NULL;
	struct image_plan p = {0};
	char *name = NULL;
	int r = -1;
	if (tar_cache_json(cache, path, "manifest.json", &m, err) < 0)
		return -1;
	if (!json_is_array(m) || json_array_size(m) == 0) {
		cst_error_set(err, CST_E_IMAGE, "%s: manifest.json lists no image", path);
		goto out;
	}
	if (json_array_size(m) > 1) {
		/* As container-structure-test's tar driver: no way to choose. */
		cst_error_set(err, CST_E_IMAGE, "%s: manifest.json lists %zu images; save one image per archive", path,
			      json_array_size(m));
		goto out;
	}
	json_t *img = json_array_get(m, 0);
	json_t *config = json_object_get(img, "Config");
	json_t *layers = json_object_get(img, "Layers");
	if (!json_is_string(config) || !json_is_array(layers)) {
		cst_error_set(err, CST_E_IMAGE, "%s: manifest.json: the image has no Config or no Layers", path);
		goto out;
	}
	if (json_array_size(layers) > CST_IMAGE_MAX_LAYERS) {
		cst_error_set(err, CST_E_IMAGE, "%s: manifest.json lists %zu layers; at most %d are supported", path,
			      json_array_size(layers), CST_IMAGE_MAX_LAYERS);
		goto out;
	}
	if (!(name = strdup(json_string_value(config)))) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	archive_name_normalise(name);
	if (tar_cache_json(cache, path, name, &p.config, err) < 0)
		goto out;
	if (asprintf(&p.config_what, "%s:%s", path, name) < 0) {
		p.config_what = NULL;
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		if (!json_is_string(l)) {
			cst_error_set(err, CST_E_IMAGE, "%s: manifest.json: Layers[%zu] is not a string", path, i);
			goto out;
		}
		free(name);
		if (!(name = strdup(json_string_value(l)))) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		archive_name_normalise(name);
		if (image_plan_add_layer(&p, name, err) < 0)
			goto out;
	}
	*ret = p;
	p = (struct image_plan){0};
	r = 0;
out:
	free(name);
	json_decref(m);
	image_plan_release(&p);
	return r;
}
