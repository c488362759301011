/* Manifests: a tag or digest resolved to one image manifest (through an
 * OCI index or a Docker manifest list, by platform), then its config.
 * Every document fetched by digest is checked against that digest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/image/platform.h"
#include "cst/registry/registry-internal.h"
#include "cst/registry/manifest.h"

#define MAX_INDEX_DEPTH 4

static const char accept_all[] = "application/vnd.oci.image.manifest.v1+json, "
				 "application/vnd.docker.distribution.manifest.v2+json, "
				 "application/vnd.oci.image.index.v1+json, "
				 "application/vnd.docker.distribution.manifest.list.v2+json";

void reg_plan_release(struct reg_plan *p)
{
	json_decref(p->config);
	free(p->config_digest);
	free(p->manifest_digest);
	for (size_t i = 0; i < p->n_layers; i++)
		free(p->layers[i].digest);
	free(p->layers);
	memset(p, 0, sizeof(*p));
}

static bool is_index(json_t *doc, const char *content_type)
{
	const char *mt = json_string_value(json_object_get(doc, "mediaType"));
	if (!mt)
		mt = content_type;
	if (mt && (strncmp(mt, "application/vnd.oci.image.index.v1+json", 39) == 0 ||
		   strncmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json", 57) == 0))
		return true;
	return json_is_array(json_object_get(doc, "manifests"));
}

static int reg_platform_of(void *ud, json_t *desc, struct platform *p, struct cst_error *err)
{
	(void)ud;
	(void)err;
	platform_from(json_object_get(desc, "platform"), "os", "architecture", p);
	return 0;
}

static int choose(struct reg_client *c, json_t *index, const char *where, const struct platform *want,
		  bool explicit_platform, const char **ret_digest, struct cst_error *err)
{
	json_t *chosen = NULL;
	if (platform_choose(index, c->what, where, want, explicit_platform, reg_platform_of, NULL, &chosen, err) < 0)
		return -1;
	const char *d = json_string_value(json_object_get(chosen, "digest"));
	if (!reg_digest_valid(d))
		return cst_error_set(err, CST_E_IMAGE, "%s: %s: a manifest descriptor has no valid sha256 digest", c->what,
				     where);
	*ret_digest = d;
	return 0;
}

/* GET a manifest by tag or digest; a digest is checked against the body. */
static int get_manifest(struct reg_client *c, const char *ref, json_t **ret, char **ret_type, char **ret_digest,
			struct cst_error *err)
{
	char *path = NULL, *what = NULL;
	struct cst_buf body = CST_BUF_INIT;
	int r = -1;
	bool by_digest = strncmp(ref, "sha256:", 7) == 0;
	if (asprintf(&path, "/v2/%s/manifests/%s", c->ref.repo, ref) < 0 ||
	    asprintf(&what, "manifest %s", ref) < 0) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	if (reg_get(c, path, accept_all, REG_JSON_MAX, by_digest ? ref : NULL, what, &body, ret_type, err) < 0)
		goto out;
	json_error_t je;
	if (!(*ret = json_loadb(body.data ? body.data : "", body.len, 0, &je)) || !json_is_object(*ret)) {
		json_decref(*ret);
		*ret = NULL;
		cst_error_set(err, CST_E_IMAGE, "%s: %s: not a JSON object (%s)", c->what, what, je.text);
		goto out;
	}
	char digest[72];
	if (reg_sha256(body.data ? body.data : "", body.len, digest) < 0 || !(*ret_digest = strdup(digest))) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	r = 0;
out:
	if (r < 0 && ret_type) {
		free(*ret_type);
		*ret_type = NULL;
	}
	cst_buf_release(&body);
	free(path);
	free(what);
	return r;
}

/* Leaves the manifest in *doc for the one digest names (which may point
 * into *doc). */
static int follow(struct reg_client *c, const char *digest_ref, json_t **doc, char **type, char **digest,
		  struct cst_error *err)
{
	char *next = strdup(digest_ref);
	json_decref(*doc);
	*doc = NULL;
	free(*type);
	*type = NULL;
	free(*digest);
	*digest = NULL;
	if (!next)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	int g = get_manifest(c, next, doc, type, digest, err);
	free(next);
	return g;
}

static int plan_from_manifest(struct reg_client *c, json_t *m, const char *where, struct reg_plan *p,
			      struct cst_error *err)
{
	json_t *config = json_object_get(m, "config");
	json_t *layers = json_object_get(m, "layers");
	if (json_integer_value(json_object_get(m, "schemaVersion")) == 1)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s is a Docker schema 1 manifest, which is not supported",
				     c->what, where);
	if (!json_is_object(config) || !json_is_array(layers))
		return cst_error_set(err, CST_E_IMAGE, "%s: %s has no config or no layers", c->what, where);
	if (json_array_size(layers) > REG_MAX_LAYERS)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s lists %zu layers; at most %d are supported", c->what,
				     where, json_array_size(layers), REG_MAX_LAYERS);
	const char *cd = json_string_value(json_object_get(config, "digest"));
	if (!reg_digest_valid(cd))
		return cst_error_set(err, CST_E_IMAGE, "%s: %s: the config has no valid sha256 digest", c->what, where);
	if (!(p->layers = calloc(json_array_size(layers) + 1, sizeof(*p->layers))) ||
	    !(p->config_digest = strdup(cd)))
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		const char *d = json_string_value(json_object_get(l, "digest"));
		json_t *size = json_object_get(l, "size");
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		if (!reg_digest_valid(d) || !json_is_integer(size) || json_integer_value(size) < 0)
			return cst_error_set(err, CST_E_IMAGE, "%s: %s: layers[%zu] has no valid sha256 digest or size",
					     c->what, where, i);
		if (mt && strstr(mt, "encrypted"))
			return cst_error_set(err, CST_E_IMAGE, "%s: %s: layers[%zu] is encrypted (%s)", c->what, where, i,
					     mt);
		if (!(p->layers[i].digest = strdup(d)))
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		p->layers[i].size = (uint64_t)json_integer_value(size);
		p->n_layers = i + 1;
	}
	/* The config, by digest. */
	char *path = NULL, *what = NULL;
	struct cst_buf body = CST_BUF_INIT;
	int r = -1;
	if (asprintf(&path, "/v2/%s/blobs/%s", c->ref.repo, cd) < 0 || asprintf(&what, "config %s", cd) < 0) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	if (reg_get(c, path, NULL, REG_JSON_MAX, cd, what, &body, NULL, err) < 0)
		goto out;
	json_error_t je;
	if (!(p->config = json_loadb(body.data ? body.data : "", body.len, 0, &je)) || !json_is_object(p->config)) {
		cst_error_set(err, CST_E_IMAGE, "%s: %s: not a JSON object (%s)", c->what, what, je.text);
		goto out;
	}
	r = 0;
out:
	cst_buf_release(&body);
	free(path);
	free(what);
	return r;
}

int reg_plan(struct reg_client *c, struct reg_plan *ret, struct cst_error *err)
{
	struct platform want;
	const char *platform = c->opts->platform;
	if (platform) {
		if (parse_platform(platform, &want, err) < 0)
			return -1;
	} else {
		host_platform(&want);
	}
	struct reg_plan p = {0};
	json_t *doc = NULL;
	char *type = NULL, *digest = NULL, *where = NULL;
	const char *ref = c->ref.digest ? c->ref.digest : c->ref.tag;
	int r = -1;
	if (get_manifest(c, ref, &doc, &type, &digest, err) < 0)
		goto out;
	for (int depth = 0; is_index(doc, type); depth++) {
		if (depth >= MAX_INDEX_DEPTH) {
			cst_error_set(err, CST_E_IMAGE, "%s: image indexes nested too deep", c->what);
			goto out;
		}
		free(where);
		if (asprintf(&where, "index %s", digest) < 0) {
			where = NULL;
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		const char *next = NULL;
		if (choose(c, doc, where, &want, platform != NULL, &next, err) < 0)
			goto out;
		if (follow(c, next, &doc, &type, &digest, err) < 0)
			goto out;
	}
	free(where);
	if (asprintf(&where, "manifest %s", digest) < 0) {
		where = NULL;
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	if (plan_from_manifest(c, doc, where, &p, err) < 0)
		goto out;
	p.manifest_digest = digest;
	digest = NULL;
	*ret = p;
	p = (struct reg_plan){0};
	r = 0;
out:
	reg_plan_release(&p);
	json_decref(doc);
	free(type);
	free(digest);
	free(where);
	return r;
}

/* reg_plan's walk, listing where it would choose: the platforms of the
 * first index that lists more than one image. */
static int reg_platforms(struct reg_client *c, struct cst_platform_list *ret, struct cst_error *err)
{
	json_t *doc = NULL;
	char *type = NULL, *digest = NULL, *where = NULL;
	const char *ref = c->ref.digest ? c->ref.digest : c->ref.tag;
	int r = -1;
	if (get_manifest(c, ref, &doc, &type, &digest, err) < 0)
		goto out;
	for (int depth = 0; is_index(doc, type); depth++) {
		if (depth >= MAX_INDEX_DEPTH) {
			cst_error_set(err, CST_E_IMAGE, "%s: image indexes nested too deep", c->what);
			goto out;
		}
		free(where);
		if (asprintf(&where, "index %s", digest) < 0) {
			where = NULL;
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		json_t *only = NULL;
		if (platform_list(doc, c->what, where, reg_platform_of, NULL, ret, &only, err) < 0)
			goto out;
		if (!only)
			break;
		const char *d = json_string_value(json_object_get(only, "digest"));
		if (!reg_digest_valid(d)) {
			cst_error_set(err, CST_E_IMAGE, "%s: %s: a manifest descriptor has no valid sha256 digest",
				      c->what, where);
			goto out;
		}
		if (follow(c, d, &doc, &type, &digest, err) < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(doc);
	free(type);
	free(digest);
	free(where);
	return r;
}

int cst_registry_platforms(const char *ref, const struct cst_registry_opts *opts, struct cst_platform_list *ret,
			   struct cst_error *err)
{
	static const struct cst_registry_opts no_opts = {0};
	struct reg_client c;
	memset(ret, 0, sizeof(*ret));
	int r = reg_client_init(&c, ref, opts ? opts : &no_opts, err);
	if (r == 0)
		r = reg_platforms(&c, ret, err);
	reg_client_release(&c);
	return r;
}
