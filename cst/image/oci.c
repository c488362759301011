/* OCI image layouts, as a directory or a tar: index.json -> (image index
 * ->) image manifest -> config and layers, all by digest under blobs/.
 *
 * An index with several images is resolved by platform: --platform, or
 * the host's.  Attestation manifests (BuildKit's "unknown/unknown") are
 * never candidates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cst/buf.h"
#include "cst/image/archive-internal.h"
#include "cst/image/platform.h"

/* Image indexes nest; a deeper chain than this is a loop or an attack. */
#define MAX_INDEX_DEPTH 4

/* "sha256:<hex>" -> "blobs/sha256/<hex>", refusing anything that could
 * name a file outside blobs/. */
static int blob_name(const char *path, json_t *desc, char **ret, struct cst_error *err)
{
	const char *d = json_string_value(json_object_get(desc, "digest"));
	if (!d)
		return cst_error_set(err, CST_E_IMAGE, "%s: a descriptor has no digest", path);
	const char *colon = strchr(d, ':');
	bool ok = colon && colon != d && colon[1];
	for (const char *c = d; ok && c < colon; c++)
		ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || strchr("+._-", *c);
	for (const char *c = colon ? colon + 1 : d; ok && *c; c++)
		ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		     strchr("=_-", *c);
	if (!ok)
		return cst_error_set(err, CST_E_IMAGE, "%s: invalid digest '%s'", path, d);
	if (asprintf(ret, "blobs/%.*s/%s", (int)(colon - d), d, colon + 1) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	return 0;
}

static int store_json(const struct oci_store *s, const char *name, json_t **ret, struct cst_error *err)
{
	if (s->cache)
		return tar_cache_json(s->cache, s->path, name, ret, err);
	char *file;
	if (asprintf(&file, "%s/%s", s->path, name) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct stat st;
	int r = -1;
	json_error_t jerr;
	if (stat(file, &st) < 0)
		cst_error_set(err, CST_E_IMAGE, "%s: %s is missing", s->path, name);
	else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > CST_IMAGE_JSON_MAX)
		cst_error_set(err, CST_E_IMAGE, "%s: %s is not a JSON file of at most %zu MiB", s->path, name,
			      CST_IMAGE_JSON_MAX >> 20);
	else if (!(*ret = json_load_file(file, 0, &jerr)))
		cst_error_set(err, CST_E_IMAGE, "%s: %s: invalid JSON at line %d: %s", s->path, name, jerr.line,
			      jerr.text);
	else
		r = 0;
	free(file);
	return r;
}

static int desc_json(const struct oci_store *s, json_t *desc, json_t **ret, char **ret_name, struct cst_error *err)
{
	char *name;
	if (blob_name(s->path, desc, &name, err) < 0)
		return -1;
	int r = store_json(s, name, ret, err);
	if (r == 0 && ret_name)
		*ret_name = name;
	else
		free(name);
	return r;
}

static bool is_index(json_t *desc_or_doc)
{
	const char *mt = json_string_value(json_object_get(desc_or_doc, "mediaType"));
	if (mt)
		return strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
		       strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0;
	return json_is_array(json_object_get(desc_or_doc, "manifests"));
}

/* A descriptor's platform: its own "platform", or for a bare manifest
 * descriptor (index.json often has none) the os/architecture of its config. */
static int desc_platform(const struct oci_store *s, json_t *desc, struct platform *p, struct cst_error *err)
{
	json_t *plat = json_object_get(desc, "platform");
	if (json_is_object(plat)) {
		platform_from(plat, "os", "architecture", p);
		return 0;
	}
	memset(p, 0, sizeof(*p));
	if (is_index(desc))
		return 0;
	json_t *manifest, *config = NULL;
	if (desc_json(s, desc, &manifest, NULL, err) < 0)
		return -1;
	int r = desc_json(s, json_object_get(manifest, "config"), &config, NULL, err);
	if (r == 0)
		platform_from(config, "os", "architecture", p);
	json_decref(config);
	json_decref(manifest);
	return r;
}

static int oci_platform_of(void *ud, json_t *desc, struct platform *p, struct cst_error *err)
{
	return desc_platform(ud, desc, p, err);
}

static int choose(const struct oci_store *s, json_t *index, const char *where, const struct platform *want,
		  bool explicit_platform, json_t **ret_desc, struct cst_error *err)
{
	return platform_choose(index, s->path, where, want, explicit_platform, oci_platform_of, (void *)s, ret_desc,
			       err);
}

static int plan_from_manifest(const struct oci_store *s, json_t *manifest, const char *where, struct image_plan *p,
			      struct cst_error *err)
{
	json_t *config = json_object_get(manifest, "config");
	json_t *layers = json_object_get(manifest, "layers");
	if (!json_is_object(config) || !json_is_array(layers))
		return cst_error_set(err, CST_E_IMAGE, "%s: manifest %s has no config or no layers", s->path, where);
	if (json_array_size(layers) > CST_IMAGE_MAX_LAYERS)
		return cst_error_set(err, CST_E_IMAGE, "%s: manifest %s lists %zu layers; at most %d are supported",
				     s->path, where, json_array_size(layers), CST_IMAGE_MAX_LAYERS);
	char *name;
	if (desc_json(s, config, &p->config, &name, err) < 0)
		return -1;
	int r = asprintf(&p->config_what, "%s:%s", s->path, name);
	free(name);
	if (r < 0) {
		p->config_what = NULL;
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		if (blob_name(s->path, l, &name, err) < 0)
			return -1;
		r = image_plan_add_layer(p, name, err);
		free(name);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* The descriptor of index.json named ref (oci:DIR:REF). */
static int find_ref(const struct oci_store *s, json_t *index, const char *ref, json_t **ret_desc,
		    struct cst_error *err)
{
	size_t i;
	json_t *desc;
	struct cst_buf seen = CST_BUF_INIT;
	json_array_foreach(json_object_get(index, "manifests"), i, desc) {
		const char *name = json_string_value(
			json_object_get(json_object_get(desc, "annotations"), "org.opencontainers.image.ref.name"));
		if (!name)
			continue;
		if (strcmp(name, ref) == 0) {
			cst_buf_release(&seen);
			*ret_desc = desc;
			return 0;
		}
		cst_buf_printf(&seen, "%s%s", seen.len ? ", " : "", name);
	}
	cst_error_set(err, CST_E_IMAGE, "%s: index.json names no image '%s' (it has: %s)", s->path, ref,
		      seen.data ? seen.data : "no names");
	cst_buf_release(&seen);
	return -1;
}

int oci_plan(const struct oci_store *s, const char *platform, const char *ref, struct image_plan *ret,
	     struct cst_error *err)
{
	struct platform want;
	if (platform) {
		if (parse_platform(platform, &want, err) < 0)
			return -1;
	} else {
		host_platform(&want);
	}
	struct image_plan p = {0};
	json_t *doc = NULL;
	char *where = strdup("index.json");
	int r = -1;
	if (!where) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	if (store_json(s, "index.json", &doc, err) < 0)
		goto out;
	if (ref) {
		json_t *desc = NULL, *next;
		char *name;
		if (find_ref(s, doc, ref, &desc, err) < 0)
			goto out;
		bool nested = is_index(desc);
		if (desc_json(s, desc, &next, &name, err) < 0)
			goto out;
		json_decref(doc);
		doc = next;
		free(where);
		where = name;
		if (!nested && !is_index(doc))
			goto plan;
	}
	for (int depth = 0;; depth++) {
		if (depth > MAX_INDEX_DEPTH) {
			cst_error_set(err, CST_E_IMAGE, "%s: image indexes nested too deep", s->path);
			goto out;
		}
		json_t *desc = NULL;
		if (choose(s, doc, where, &want, platform != NULL, &desc, err) < 0)
			goto out;
		json_t *next;
		char *name;
		bool nested = is_index(desc);
		if (desc_json(s, desc, &next, &name, err) < 0)
			goto out;
		json_decref(doc);
		doc = next;
		free(where);
		where = name;
		if (!nested && !is_index(doc))
			break;
	}
plan:
	if (plan_from_manifest(s, doc, where, &p, err) < 0)
		goto out;
	*ret = p;
	p = (struct image_plan){0};
	r = 0;
out:
	free(where);
	json_decref(doc);
	image_plan_release(&p);
	return r;
}

/* oci_plan's walk, listing where it would choose: the platforms of the
 * first index that lists more than one image. */
static int oci_platforms(const struct oci_store *s, const char *ref, struct cst_platform_list *ret,
			 struct cst_error *err)
{
	json_t *doc = NULL;
	char *where = strdup("index.json");
	int r = -1;
	if (!where) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	if (store_json(s, "index.json", &doc, err) < 0)
		goto out;
	json_t *desc = NULL;
	if (ref && find_ref(s, doc, ref, &desc, err) < 0)
		goto out;
	for (int depth = 0;; depth++) {
		if (desc) {
			json_t *next;
			char *name;
			bool nested = is_index(desc);
			if (desc_json(s, desc, &next, &name, err) < 0)
				goto out;
			json_decref(doc);
			doc = next;
			free(where);
			where = name;
			if (!nested && !is_index(doc)) {
				r = 0; /* one image */
				goto out;
			}
		}
		if (depth > MAX_INDEX_DEPTH) {
			cst_error_set(err, CST_E_IMAGE, "%s: image indexes nested too deep", s->path);
			goto out;
		}
		if (platform_list(doc, s->path, where, oci_platform_of, (void *)s, ret, &desc, err) < 0)
			goto out;
		if (!desc) {
			r = 0;
			goto out;
		}
	}
out:
	free(where);
	json_decref(doc);
	return r;
}

int cst_image_archive_platforms(const char *path, const struct cst_archive_opts *opts,
				struct cst_platform_list *ret, struct cst_error *err)
{
	memset(ret, 0, sizeof(*ret));
	const char *ref = opts ? opts->ref_name : NULL;
	struct stat st;
	if (stat(path, &st) < 0)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		struct oci_store store = {.path = path};
		return oci_platforms(&store, ref, ret, err);
	}
	struct tar_cache cache = {0};
	if (tar_scan(path, &cache, err) < 0)
		return -1;
	int r = 0;
	/* As the archive source bids: manifest.json first. */
	if (!tar_cache_get(&cache, "manifest.json") && tar_cache_get(&cache, "oci-layout") &&
	    tar_cache_get(&cache, "index.json")) {
		struct oci_store store = {.path = path, .cache = &cache};
		r = oci_platforms(&store, ref, ret, err);
	}
	tar_cache_release(&cache);
	return r;
}
