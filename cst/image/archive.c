/* Image sources over local files: each format bids on the input.
 *
 * A directory must be an OCI layout.  A file is scanned once (headers plus
 * the JSON entries): manifest.json makes it a docker-save archive (newer
 * `docker save` writes an OCI layout too; manifest.json is the simpler
 * path), oci-layout with index.json an OCI layout tar, and anything else a
 * rootfs tar, which needs --metadata for its config.
 */
#include "cst/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cst/image/archive-internal.h"

enum src_kind {
	SRC_DOCKER_SAVE,
	SRC_OCI_TAR,
	SRC_OCI_DIR,
	SRC_ROOTFS,
};

struct archive_src {
	char *path;
	enum src_kind kind;
	struct image_plan plan;
	const char *cache_dir; /* the per-layer index cache; NULL: none */
	int64_t cache_max;
	FILE *notes;
};

/* An archive names the config by its digest ("blobs/sha256/HEX", or
 * "HEX.json" in an older docker save), and that digest is the image ID the
 * engine gives the image; the reports name it.  NULL when the name is not
 * a digest (a rootfs tar's --metadata file). */
static char *id_from_config_name(const struct archive_src *s)
{
	const char *what = s->plan.config_what;
	size_t n = strlen(s->path);
	if (s->kind == SRC_ROOTFS || !what || strncmp(what, s->path, n) != 0 || what[n] != ':')
		return NULL;
	const char *name = what + n + 1;
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	if (strspn(base, "0123456789abcdef") != 64 || (base[64] && strcmp(base + 64, ".json") != 0))
		return NULL;
	if (slash && (base - name < 7 || strncmp(base - 7, "sha256/", 7) != 0))
		return NULL;
	char *id;
	return asprintf(&id, "sha256:%.64s", base) < 0 ? NULL : id;
}

static int archive_read_meta(struct cst_image_source *src, struct cst_image_meta *ret, struct cst_error *err)
{
	struct archive_src *s = src->priv;
	if (cst_image_meta_from_json(s->plan.config, s->plan.config_what, ret, err) < 0)
		return -1;
	ret->id = id_from_config_name(s);
	return 0;
}

static int read_layers(struct archive_src *s, struct layer_cache *lc, struct cst_fs *fs, struct cst_error *err)
{
	switch (s->kind) {
	case SRC_DOCKER_SAVE:
	case SRC_OCI_TAR:
		return layers_from_tar(s->path, &s->plan, lc, fs, err);
	case SRC_OCI_DIR:
		return layers_from_dir(s->path, &s->plan, lc, fs, err);
	case SRC_ROOTFS:
		/* Named by no digest: never cached. */
		return layer_from_file(s->path, s->path, fs, 0, err);
	}
	return cst_error_set(err, CST_E_INTERNAL, "unknown archive kind");
}

static int archive_read_fs(struct cst_image_source *src, struct cst_fs *fs, struct cst_error *err)
{
	struct archive_src *s = src->priv;
	struct layer_cache lc = {
		.ic = {.dir = s->kind == SRC_ROOTFS ? NULL : s->cache_dir, .max_bytes = s->cache_max},
		.diff_ids = s->kind == SRC_DOCKER_SAVE,
	};
	int r = read_layers(s, &lc, fs, err);
	if (r == 0 && lc.ic.dir)
		cst_index_cache_note(&lc.ic, "index cache: %zu of %zu layers from the cache, %zu from the archive",
				     lc.cached, s->plan.n_layers, lc.read);
	cst_index_cache_say(&lc.ic, s->notes);
	return r;
}

static void archive_close(struct cst_image_source *src)
{
	if (!src)
		return;
	struct archive_src *s = src->priv;
	if (s) {
		image_plan_release(&s->plan);
		free(s->path);
		free(s);
	}
	free(src);
}

static const struct cst_image_source_ops docker_save_ops = {
	.name = "docker-save",
	.read_meta = archive_read_meta,
	.read_fs = archive_read_fs,
	.close = archive_close,
};

static const struct cst_image_source_ops oci_ops = {
	.name = "oci-layout",
	.read_meta = archive_read_meta,
	.read_fs = archive_read_fs,
	.close = archive_close,
};

static const struct cst_image_source_ops rootfs_ops = {
	.name = "rootfs",
	.read_meta = archive_read_meta,
	.read_fs = archive_read_fs,
	.close = archive_close,
};

static bool file_exists(const char *dir, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return false;
	struct stat st;
	bool r = stat(p, &st) == 0 && S_ISREG(st.st_mode);
	free(p);
	return r;
}

/* Fills s->kind and s->plan from what the path holds. */
static int bid(struct archive_src *s, const struct cst_archive_opts *opts, struct cst_error *err)
{
	const char *path = s->path;
	struct stat st;
	if (stat(path, &st) < 0)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if (!file_exists(path, "oci-layout") || !file_exists(path, "index.json"))
			return cst_error_set(err, CST_E_IMAGE,
					     "%s: a directory, but not an OCI image layout (no oci-layout and index.json)",
					     path);
		s->kind = SRC_OCI_DIR;
		struct oci_store store = {.path = path};
		return oci_plan(&store, opts->platform, opts->ref_name, &s->plan, err);
	}
	struct tar_cache cache = {0};
	if (tar_scan(path, &cache, err) < 0)
		return -1;
	int r;
	if (tar_cache_get(&cache, "manifest.json")) {
		s->kind = SRC_DOCKER_SAVE;
		r = docker_save_plan(path, &cache, &s->plan, err);
	} else if (tar_cache_get(&cache, "oci-layout") && tar_cache_get(&cache, "index.json")) {
		s->kind = SRC_OCI_TAR;
		struct oci_store store = {.path = path, .cache = &cache};
		r = oci_plan(&store, opts->platform, opts->ref_name, &s->plan, err);
	} else if (opts->metadata_path) {
		s->kind = SRC_ROOTFS;
		r = rootfs_plan(path, opts->metadata_path, &s->plan, err);
	} else {
		r = cst_error_set(err, CST_E_IMAGE,
				  "%s: neither a docker-save archive (no manifest.json) nor an OCI layout (no "
				  "oci-layout and index.json); a plain file-system tar needs --metadata",
				  path);
	}
	tar_cache_release(&cache);
	return r;
}

int cst_image_open_archive(const char *path, const struct cst_archive_opts *opts, struct cst_image_source **ret,
			   struct cst_error *err)
{
	static const struct cst_archive_opts no_opts = {0};
	if (!opts)
		opts = &no_opts;
	struct cst_image_source *src = calloc(1, sizeof(*src));
	struct archive_src *s = calloc(1, sizeof(*s));
	if (!src || !s || !(s->path = strdup(path))) {
		free(src);
		if (s)
			free(s->path);
		free(s);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	src->priv = s;
	s->cache_dir = opts->cache_dir;
	s->cache_max = opts->cache_max;
	s->notes = opts->notes;
	if (bid(s, opts, err) < 0) {
		archive_close(src);
		return -1;
	}
	switch (s->kind) {
	case SRC_DOCKER_SAVE:
		src->ops = &docker_save_ops;
		break;
	case SRC_OCI_TAR:
	case SRC_OCI_DIR:
		src->ops = &oci_ops;
		break;
	case SRC_ROOTFS:
		src->ops = &rootfs_ops;
		break;
	}
	*ret = src;
	return 0;
}

void cst_image_close(struct cst_image_source *src)
{
	if (src && src->ops)
		src->ops->close(src);
}
