/* layerTests: the image's layers as a whole, one result per assertion
 * ("Layer Test: maxLayers", ...).
 *
 * Layer counts and diff IDs come from the image config (archives) or the
 * engine's inspect reply (docker driver).  Sizes per layer and wasted
 * bytes need the layers themselves, applied one by one: archives give
 * them, the engine's export is one flattened tree and does not, so there
 * those assertions fail saying they cannot be measured rather than pass
 * unchecked.
 */
#include <string.h>

#include "cst/checks.h"

static const char *const names[CST_LAYER_N] = {"maxLayers", "maxImageSize", "maxLayerSize", "maxWastedBytes",
					       "baseLayers"};

bool cst_layer_test_has(const struct cst_layer_test *t, enum cst_layer_assertion a)
{
	switch (a) {
	case CST_LAYER_MAX_LAYERS:
		return t->max_layers.present;
	case CST_LAYER_MAX_IMAGE_SIZE:
		return t->max_image_size.present;
	case CST_LAYER_MAX_LAYER_SIZE:
		return t->max_layer_size.present;
	case CST_LAYER_MAX_WASTED:
		return t->max_wasted_bytes.present;
	case CST_LAYER_BASE:
		return t->base_layers.present;
	default:
		return false;
	}
}

static int unmeasurable(struct cst_result *r, const char *what)
{
	return cst_result_fail(r,
			       "%s: cannot be measured: the image's layers were not read one by one (the docker "
			       "driver reads the engine's flattened export); test a `docker save` archive with "
			       "--driver tar",
			       what);
}

static const char *layer_id(const struct cst_check_ctx *ctx, size_t i)
{
	return ctx->meta && i < ctx->meta->n_diff_ids ? ctx->meta->diff_ids[i] : "diff ID unknown";
}

int cst_check_layer(const struct cst_check_ctx *ctx, const struct cst_layer_test *t, enum cst_layer_assertion a,
		    struct cst_result *r)
{
	if (cst_result_init(r, "Layer Test: %s", names[a]) < 0)
		return -1;
	const struct cst_fs_layer_stats *st = NULL;
	size_t n_st = ctx->fs ? cst_fs_layer_stats(ctx->fs, &st) : 0;
	size_t n_ids = ctx->meta ? ctx->meta->n_diff_ids : 0;
	switch (a) {
	case CST_LAYER_MAX_LAYERS: {
		size_t n = n_ids ? n_ids : n_st;
		if (!n)
			return cst_result_fail(r, "maxLayers: the image names no layers (no rootfs.diff_ids in its config)");
		if ((int64_t)n > t->max_layers.value)
			return cst_result_fail(r, "maxLayers: the image has %zu layers, more than %lld", n,
					       (long long)t->max_layers.value);
		return 0;
	}
	case CST_LAYER_MAX_IMAGE_SIZE: {
		long long total = ctx->meta ? ctx->meta->size : -1;
		if (n_st) {
			total = 0;
			for (size_t i = 0; i < n_st; i++)
				total += st[i].bytes;
		}
		if (total < 0)
			return unmeasurable(r, "maxImageSize");
		if (total > t->max_image_size.value)
			return cst_result_fail(r, "maxImageSize: the image's layers hold %lld bytes, more than %lld", total,
					       (long long)t->max_image_size.value);
		return 0;
	}
	case CST_LAYER_MAX_LAYER_SIZE:
		if (!n_st)
			return unmeasurable(r, "maxLayerSize");
		for (size_t i = 0; i < n_st; i++)
			if (st[i].bytes > t->max_layer_size.value &&
			    cst_result_fail(r, "maxLayerSize: layer %zu (%s) holds %lld bytes (%zu regular files), more than %lld",
					    i + 1, layer_id(ctx, i), (long long)st[i].bytes, st[i].files,
					    (long long)t->max_layer_size.value) < 0)
				return -1;
		return 0;
	case CST_LAYER_MAX_WASTED: {
		if (!n_st)
			return unmeasurable(r, "maxWastedBytes");
		long long total = 0;
		for (size_t i = 0; i < n_st; i++)
			total += st[i].wasted;
		if (total <= t->max_wasted_bytes.value)
			return 0;
		if (cst_result_fail(r,
				    "maxWastedBytes: %lld bytes that layers added are removed or replaced by later "
				    "ones, more than %lld",
				    total, (long long)t->max_wasted_bytes.value) < 0)
			return -1;
		for (size_t i = 0; i < n_st; i++)
			if (st[i].wasted && cst_result_fail(r, "  layer %zu (%s) removes or replaces %lld bytes", i + 1,
							    layer_id(ctx, i), (long long)st[i].wasted) < 0)
				return -1;
		return 0;
	}
	case CST_LAYER_BASE: {
		if (n_ids < t->base_layers.n)
			return cst_result_fail(r, "baseLayers: the image has %zu layers, fewer than the %zu base layers",
					       n_ids, t->base_layers.n);
		for (size_t i = 0; i < t->base_layers.n; i++)
			if (strcmp(ctx->meta->diff_ids[i], t->base_layers.v[i].s) != 0)
				return cst_result_fail(r, "baseLayers: layer %zu is %s, expected %s", i + 1,
						       ctx->meta->diff_ids[i], t->base_layers.v[i].s);
		return 0;
	}
	default:
		return 0;
	}
}
