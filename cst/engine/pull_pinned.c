/* The image a registry source read, for the command tests of the tar
 * driver with --pull: the engine pulls that very manifest by digest, so
 * that the files read from the registry and the commands run in the
 * engine are one image.  What the pull adds goes at cleanup unless the
 * engine had it: the reference is registered as an image of the run, and
 * removing a reference only untags the image while it has other names. */
#include "cst/engine/client.h"

#include <stdlib.h>

/* Whether the engine has image (a reference or an ID), and whether by
 * any name. */
static int inspect(struct cst_docker *d, const char *image, bool *ret_exists, bool *ret_named, struct cst_error *err)
{
	*ret_exists = *ret_named = false;
	char *path = dk_id_path(&d->conn, "/images/", image, "/json");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	json_t *root = NULL;
	long status = 0;
	long st = dk_call_json(d, &d->conn, &r, &root, &status, err);
	free(path);
	if (st < 0) {
		if (status != 404)
			return -1;
		cst_error_clear(err);
		return 0;
	}
	*ret_exists = true;
	*ret_named = json_array_size(json_object_get(root, "RepoTags")) + json_array_size(json_object_get(root, "RepoDigests")) > 0;
	json_decref(root);
	return 0;
}

int cst_docker_pull_pinned(struct cst_docker *d, const char *ref, const char *image_id, bool *ret_pulled,
			   struct cst_error *err)
{
	*ret_pulled = false;
	bool have, named;
	if (inspect(d, ref, &have, &named, err) < 0)
		return cst_error_wrap(err, "asking the engine for %s", ref);
	if (have)
		return 0;
	if (image_id && inspect(d, image_id, &have, &named, err) < 0)
		return cst_error_wrap(err, "asking the engine for %s", image_id);
	/* Registered before the pull, so that an interrupted pull is cleaned
	 * up too.  An image the engine had without any name keeps the
	 * reference: removing it would remove the image. */
	if ((!have || named) && dk_registry_add(d, ref, true) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	if (cst_docker_pull(d, ref, err) < 0)
		return -1;
	*ret_pulled = true;
	return 0;
}
