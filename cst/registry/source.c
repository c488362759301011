/* The registry as an image source: the manifest and config read when it is
 * opened (so that a wrong name fails before anything runs), the layers
 * streamed in order on each read of the file system. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/fs.h"
#include "cst/index_cache.h"
#include "cst/registry/blob.h"

struct reg_src {
	struct reg_client c;
	struct reg_plan plan;
	struct cst_registry_opts opts;
};

static int reg_read_meta(struct cst_image_source *src, struct cst_image_meta *ret, struct cst_error *err)
{
	struct reg_src *s = src->priv;
	return cst_image_meta_from_json(s->plan.config, s->c.what, ret, err);
}

/* Each layer from the index cache when an earlier run saved it (under its
 * blob digest, which the registry's bytes were checked against), else from
 * the registry, saved once its digest checked.  A layer whose transfer or
 * check fails is never saved: nothing is stored before reg_blob_layer
 * returns it whole. */
static int read_layers(struct reg_src *s, struct cst_fs *fs, struct cst_index_cache *ic, struct cst_error *err)
{
	s->c.expanded = 0;
	size_t cached = 0;
	for (size_t i = 0; i < s->plan.n_layers; i++) {
		const char *digest = s->plan.layers[i].digest;
		struct cst_layer *layer = NULL;
		if (ic->dir && cst_layer_cache_load(ic, digest, fs, &layer)) {
			cached++;
		} else {
			if (reg_blob_layer(&s->c, &s->plan.layers[i], fs, &layer, err) < 0)
				return -1;
			if (ic->dir) {
				cst_index_cache_note(ic, "index cache: layer %s read from the registry", digest);
				cst_layer_cache_store(ic, digest, layer);
			}
		}
		if (cst_fs_apply_layer(fs, layer, (int)i, err) < 0)
			return cst_error_wrap(err, "%s: layer %s", s->c.what, digest);
	}
	if (ic->dir)
		cst_index_cache_note(ic, "index cache: %zu of %zu layers from the cache, %zu from the registry",
				     cached, s->plan.n_layers, s->plan.n_layers - cached);
	return 0;
}

static int reg_read_fs(struct cst_image_source *src, struct cst_fs *fs, struct cst_error *err)
{
	struct reg_src *s = src->priv;
	struct cst_index_cache ic = {.dir = s->opts.cache_dir, .max_bytes = s->opts.cache_max};
	int r = read_layers(s, fs, &ic, err);
	cst_index_cache_say(&ic, s->opts.notes);
	return r;
}

static void reg_close(struct cst_image_source *src)
{
	if (!src)
		return;
	struct reg_src *s = src->priv;
	if (s) {
		reg_plan_release(&s->plan);
		reg_client_release(&s->c);
		free(s);
	}
	free(src);
}

static const struct cst_image_source_ops registry_ops = {
	.name = "registry",
	.read_meta = reg_read_meta,
	.read_fs = reg_read_fs,
	.close = reg_close,
};

int cst_registry_open(const char *ref, const struct cst_registry_opts *opts, struct cst_image_source **ret,
		      struct cst_error *err)
{
	struct cst_image_source *src = calloc(1, sizeof(*src));
	struct reg_src *s = calloc(1, sizeof(*s));
	if (!src || !s) {
		free(src);
		free(s);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	if (opts)
		s->opts = *opts;
	src->priv = s;
	src->ops = &registry_ops;
	if (reg_client_init(&s->c, ref, &s->opts, err) < 0 || reg_plan(&s->c, &s->plan, err) < 0) {
		reg_close(src);
		return -1;
	}
	*ret = src;
	return 0;
}

int cst_registry_pinned(const struct cst_image_source *src, char **ret_ref, char **ret_id)
{
	*ret_ref = *ret_id = NULL;
	if (!src || src->ops != &registry_ops)
		return 0;
	const struct reg_src *s = src->priv;
	if (asprintf(ret_ref, "%s/%s@%s", s->c.ref.host, s->c.ref.repo, s->plan.manifest_digest) < 0) {
		*ret_ref = NULL;
		return -1;
	}
	if (!(*ret_id = strdup(s->plan.config_digest))) {
		free(*ret_ref);
		*ret_ref = NULL;
		return -1;
	}
	return 0;
}
