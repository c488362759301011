#ifndef CST_REGISTRY_BLOB_H
#define CST_REGISTRY_BLOB_H

#include "cst/fs.h"
#include "cst/registry/manifest.h"

/* Streams layer l into a staged layer (*ret), its digest and size checked. */
int reg_blob_layer(struct reg_client *c, const struct reg_layer *l, const struct cst_fs *fs,
		   struct cst_layer **ret, struct cst_error *err);

#endif
