/* What the registry source reads: one image's config and its layers. */
#ifndef CST_REGISTRY_MANIFEST_H
#define CST_REGISTRY_MANIFEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cst/registry/registry-internal.h"

struct reg_layer {
	char *digest;
	uint64_t size;
};

struct reg_plan {
	json_t *config;
	char *config_digest;   /* the image ID */
	char *manifest_digest; /* of the image manifest chosen */
	struct reg_layer *layers; /* bottom first */
	size_t n_layers;
};

/* Resolves c's reference (by platform through indexes) and reads the
 * config. */
int reg_plan(struct reg_client *c, struct reg_plan *ret, struct cst_error *err);
void reg_plan_release(struct reg_plan *p);

#endif
