/* Shared parts of the archive image sources (docker-save, OCI layout,
 * rootfs): the scan of an outer tar, nested layer reading, and the plan a
 * source produces (config JSON + layer names in apply order).
 */
#ifndef CST_IMAGE_ARCHIVE_INTERNAL_H
#define CST_IMAGE_ARCHIVE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cst/error.h"
#include "cst/fs.h"

struct archive;

/* Manifests, indexes and configs are small; anything bigger is not one. */
#define CST_IMAGE_JSON_MAX ((size_t)4 * 1024 * 1024)
/* Docker stops at 127 layers; a manifest listing thousands is hostile, and
 * the layer bookkeeping need not scale to it. */
#define CST_IMAGE_MAX_LAYERS 1000

/* The JSON-looking entries of an outer tar, read in one scan. */
struct tar_cached {
	char *name; /* normalised: no leading "./" or "/" */
	char *data;
	size_t len;
};

/* Entries by name through a hash index (an outer tar may hold hundreds of
 * thousands of small JSON-looking entries; a linear lookup per entry made
 * such an archive take hours). */
struct tar_cache {
	struct tar_cached *v;
	size_t n;
	size_t cap;
	size_t bytes;
	size_t *slots; /* index into v plus 1; 0: empty.  A power-of-two size, at most half full */
	size_t n_slots;
};

/* Scans the tar at path once, keeping the entries that may be manifests,
 * indexes or configs.  Errors name the path. */
int tar_scan(const char *path, struct tar_cache *ret, struct cst_error *err);
const struct tar_cached *tar_cache_get(const struct tar_cache *c, const char *name);
/* Takes data (malloc'd) into the cache under name; -1 on allocation failure. */
int tar_cache_add(struct tar_cache *c, const char *name, char *data, size_t len);
void tar_cache_release(struct tar_cache *c);
/* Parses a cached entry as JSON; errors name path and entry. */
int tar_cache_json(const struct tar_cache *c, const char *path, const char *name, json_t **ret,
		   struct cst_error *err);

/* Strips leading "./" and "/" and doubled slashes, in place. */
void archive_name_normalise(char *name);

/* A new reader over the outer archive's current entry (gzip, zstd, plain
 * tar); the outer archive must outlive it. */
int archive_open_nested(struct archive *outer, struct archive **ret, struct cst_error *err);
/* A new reader over a file (any compression, tar format). */
int archive_open_file(const char *path, struct archive **ret, struct cst_error *err);

/* What a source has found out about its image. */
struct image_plan {
	json_t *config;
	char *config_what; /* names the config in messages: "image.tar:blobs/sha256/…" */
	char **layers;     /* entry names in the outer tar, or files, bottom first */
	size_t n_layers;
};

void image_plan_release(struct image_plan *p);
/* Appends a copy of name to p->layers; -1 with err on allocation failure. */
int image_plan_add_layer(struct image_plan *p, const char *name, struct cst_error *err);

/* Where an OCI layout's blobs are: a directory, or the cache of a tar. */
struct oci_store {
	const char *path;
	const struct tar_cache *cache; /* NULL: path is a directory */
};

int docker_save_plan(const char *path, const struct tar_cache *cache, struct image_plan *ret, struct cst_error *err);
int oci_plan(const struct oci_store *store, const char *platform, const char *ref, struct image_plan *ret,
	     struct cst_error *err);
int rootfs_plan(const char *path, const char *metadata_path, struct image_plan *ret, struct cst_error *err);

/* Reads the plan's layers from the entries of the tar at path (one pass,
 * staged, applied in plan order). */
int layers_from_tar(const char *path, const struct image_plan *p, struct cst_fs *fs, struct cst_error *err);
/* Reads one layer file and applies it as layer `index`. */
int layer_from_file(const char *file, const char *what, struct cst_fs *fs, int index, struct cst_error *err);

#endif
