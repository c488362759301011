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
#include "cst/index_cache.h"
#include "cst/sha256.h"

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

/* The same, with every byte the reader takes from the outer entry or the
 * file added to sum; the layer's digest is then complete once the rest,
 * past the tar's end marker (padding, a compressor's trailer), is added
 * too: archive_sum_rest (outer entry) or archive_sum_fd_rest (the file's
 * descriptor, which the caller closes).  -1 when the rest cannot be read. */
int archive_open_nested_sum(struct archive *outer, struct cst_sha256 *sum, struct archive **ret,
			    struct cst_error *err);
int archive_sum_rest(struct archive *outer, struct cst_sha256 *sum);
int archive_open_file_sum(const char *path, struct cst_sha256 *sum, struct archive **ret, int *ret_fd,
			  struct cst_error *err);
int archive_sum_fd_rest(int fd, struct cst_sha256 *sum);

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

/* The per-layer index cache as the archive sources use it. */
struct layer_cache {
	struct cst_index_cache ic; /* ic.dir NULL: no cache */
	bool diff_ids;             /* a docker save: layers not named by digest are by rootfs.diff_ids */
	size_t cached, read;       /* layers from the cache, from the archive */
};

/* The sha256 digest that names plan layer i's bytes ("sha256:<hex>",
 * malloc'd): its blob name, or (lc->diff_ids) the config's diff_id for
 * it, which a docker save's uncompressed layer.tar has.  NULL when none. */
char *plan_layer_digest(const struct image_plan *p, const struct layer_cache *lc, size_t i);

/* Reads the plan's layers from the entries of the tar at path (one pass,
 * staged, applied in plan order); those lc has saved are taken from it,
 * and the pass is skipped when it has them all. */
int layers_from_tar(const char *path, const struct image_plan *p, struct layer_cache *lc, struct cst_fs *fs,
		    struct cst_error *err);
/* Reads the plan's layers from the files of an OCI layout directory. */
int layers_from_dir(const char *dir, const struct image_plan *p, struct layer_cache *lc, struct cst_fs *fs,
		    struct cst_error *err);
/* Reads one layer file and applies it as layer `index`. */
int layer_from_file(const char *file, const char *what, struct cst_fs *fs, int index, struct cst_error *err);

#endif
