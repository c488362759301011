/* A flat file-system tar (`docker export` output) as a one-layer image,
 * with the image config taken from a separate JSON file (--metadata). */
#include <stdlib.h>
#include <string.h>

#include "cst/image/archive-internal.h"

int rootfs_plan(const char *path, const char *metadata_path, struct image_plan *ret, struct cst_error *err)
{
	json_error_t jerr;
	struct image_plan p = {0};
	if (!(p.config = json_load_file(metadata_path, 0, &jerr)))
		return cst_error_set(err, CST_E_IMAGE, "metadata file %s: %s (line %d)", metadata_path, jerr.text,
				     jerr.line);
	if (!(p.config_what = strdup(metadata_path)) || image_plan_add_layer(&p, path, err) < 0) {
		image_plan_release(&p);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	*ret = p;
	return 0;
}
