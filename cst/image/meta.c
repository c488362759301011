/* Image config JSON -> struct cst_image_meta.
 *
 * Three shapes carry the same keys: an OCI/Docker image config ("config"
 * plus top-level "os"/"architecture"), an Engine inspect reply ("Config"
 * plus "Os"/"Architecture") and a bare config object (as a --metadata file
 * may hold).  Entrypoint/Cmd keep the difference between null (not set:
 * has_* false) and [] (set, empty), which metadata tests compare.
 */
#include "cst/image.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int nomem(struct cst_error *err)
{
	return cst_error_set(err, CST_E_NOMEM, "out of memory");
}

static int type_error(struct cst_error *err, const char *what, const char *key, const char *expected)
{
	return cst_error_set(err, CST_E_IMAGE, "%s: image config field %s must be %s", what, key, expected);
}

static int get_string(json_t *obj, const char *key, const char *what, char **ret, struct cst_error *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s = "";
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return type_error(err, what, key, "a string");
		s = json_string_value(v);
	}
	if (!(*ret = strdup(s)))
		return nomem(err);
	return 0;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A list of strings; a lone string counts as a one-element list, as the
 * Engine's strslice type reads it. */
static int get_strv(json_t *obj, const char *key, const char *what, bool *ret_has, char ***ret, size_t *ret_n,
		    struct cst_error *err)
{
	json_t *v = json_object_get(obj, key);
	if (ret_has)
		*ret_has = false;
	*ret = NULL;
	*ret_n = 0;
	if (!v || json_is_null(v))
		return 0;
	size_t n = json_is_array(v) ? json_array_size(v) : 1;
	if (!json_is_array(v) && !json_is_string(v))
		return type_error(err, what, key, "a list of strings");
	char **out = calloc(n + 1, sizeof(*out));
	if (!out)
		return nomem(err);
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_is_array(v) ? json_array_get(v, i) : v;
		if (!json_is_string(item)) {
			free_strv(out, i);
			return type_error(err, what, key, "a list of strings");
		}
		if (!(out[i] = strdup(json_string_value(item)))) {
			free_strv(out, i);
			return nomem(err);
		}
	}
	if (ret_has)
		*ret_has = true;
	*ret = out;
	*ret_n = n;
	return 0;
}

/* The keys of an object such as ExposedPorts or Volumes ({"80/tcp": {}}). */
static int get_keys(json_t *obj, const char *key, const char *what, char ***ret, size_t *ret_n,
		    struct cst_error *err)
{
	json_t *v = json_object_get(obj, key);
	*ret = NULL;
	*ret_n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return type_error(err, what, key, "an object");
	size_t n = json_object_size(v);
	char **out = calloc(n + 1, sizeof(*out));
	if (!out)
		return nomem(err);
	size_t i = 0;
	const char *k;
	json_t *val;
	json_object_foreach(v, k, val) {
		if (!(out[i] = strdup(k))) {
			free_strv(out, i);
			return nomem(err);
		}
		i++;
	}
	*ret = out;
	*ret_n = i;
	return 0;
}

static int get_labels(json_t *obj, const char *what, struct cst_image_meta *meta, struct cst_error *err)
{
	json_t *v = json_object_get(obj, "Labels");
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return type_error(err, what, "Labels", "an object of strings");
	size_t n = json_object_size(v);
	meta->label_keys = calloc(n + 1, sizeof(char *));
	meta->label_values = calloc(n + 1, sizeof(char *));
	if (!meta->label_keys || !meta->label_values)
		return nomem(err);
	const char *k;
	json_t *val;
	json_object_foreach(v, k, val) {
		if (!json_is_string(val))
			return type_error(err, what, "Labels", "an object of strings");
		char *key = strdup(k), *value = strdup(json_string_value(val));
		if (!key || !value) {
			free(key);
			free(value);
			return nomem(err);
		}
		meta->label_keys[meta->n_labels] = key;
		meta->label_values[meta->n_labels++] = value;
	}
	return 0;
}

static int get_env(json_t *obj, const char *what, struct cst_image_meta *meta, struct cst_error *err)
{
	char **v;
	size_t n;
	/* Unlike Cmd, Env has no string form. */
	if (json_is_string(json_object_get(obj, "Env")))
		return type_error(err, what, "Env", "a list of strings");
	if (get_strv(obj, "Env", what, NULL, &v, &n, err) < 0)
		return -1;
	/* Kept as written, duplicates included: cst_env_get() takes the last. */
	meta->env.v = v;
	meta->env.n = n;
	return 0;
}

/* The layers' diff IDs: an image config's rootfs.diff_ids or an inspect
 * reply's RootFS.Layers.  Only layerTests read them, so a config without
 * them (or with something else there) is no error: its layers are unknown. */
static int get_diff_ids(json_t *root, struct cst_image_meta *meta, struct cst_error *err)
{
	json_t *rootfs = json_object_get(root, "rootfs");
	json_t *ids = json_is_object(rootfs) ? json_object_get(rootfs, "diff_ids") : NULL;
	if (!ids) {
		rootfs = json_object_get(root, "RootFS");
		ids = json_is_object(rootfs) ? json_object_get(rootfs, "Layers") : NULL;
	}
	if (!json_is_array(ids) || !json_array_size(ids))
		return 0;
	size_t n = json_array_size(ids);
	if (!(meta->diff_ids = calloc(n, sizeof(*meta->diff_ids))))
		return nomem(err);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(ids, i));
		if (!s)
			continue;
		if (!(meta->diff_ids[meta->n_diff_ids] = strdup(s)))
			return nomem(err);
		meta->n_diff_ids++;
	}
	return 0;
}

int cst_image_meta_from_json(const struct json_t *root_in, const char *what, struct cst_image_meta *meta,
			     struct cst_error *err)
{
	/* jansson's getters take non-const pointers but do not modify. */
	json_t *root = (json_t *)root_in;
	memset(meta, 0, sizeof(*meta));
	if (!json_is_object(root))
		return cst_error_set(err, CST_E_IMAGE, "%s: image config is not a JSON object", what);

	json_t *cfg = json_object_get(root, "config");
	const char *os_key = "os", *arch_key = "architecture";
	if (!cfg || (!json_is_object(cfg) && !json_is_null(cfg))) {
		json_t *inspect = json_object_get(root, "Config");
		if (inspect && (json_is_object(inspect) || json_is_null(inspect))) {
			cfg = inspect;
			os_key = "Os";
			arch_key = "Architecture";
		} else {
			cfg = root;
		}
	}
	/* "config": null is an image with nothing configured. */
	json_t *empty = NULL;
	if (json_is_null(cfg)) {
		cfg = empty = json_object();
		if (!cfg)
			return nomem(err);
	}
	int r = -1;
	if (get_env(cfg, what, meta, err) < 0 || get_labels(cfg, what, meta, err) < 0 ||
	    get_strv(cfg, "Entrypoint", what, &meta->has_entrypoint, &meta->entrypoint, &meta->n_entrypoint, err) < 0 ||
	    get_strv(cfg, "Cmd", what, &meta->has_cmd, &meta->cmd, &meta->n_cmd, err) < 0 ||
	    get_keys(cfg, "ExposedPorts", what, &meta->exposed_ports, &meta->n_exposed_ports, err) < 0 ||
	    get_keys(cfg, "Volumes", what, &meta->volumes, &meta->n_volumes, err) < 0 ||
	    get_string(cfg, "WorkingDir", what, &meta->workdir, err) < 0 ||
	    get_string(cfg, "User", what, &meta->user, err) < 0 ||
	    get_string(root, os_key, what, &meta->os, err) < 0 ||
	    get_string(root, arch_key, what, &meta->architecture, err) < 0 || get_diff_ids(root, meta, err) < 0)
		goto out;
	json_t *size = json_object_get(root, "Size");
	meta->size = json_is_integer(size) ? (long long)json_integer_value(size) : -1;
	r = 0;
out:
	json_decref(empty);
	if (r < 0)
		cst_image_meta_release(meta);
	return r;
}

void cst_image_meta_release(struct cst_image_meta *meta)
{
	if (!meta)
		return;
	cst_env_release(&meta->env);
	free_strv(meta->label_keys, meta->n_labels);
	free_strv(meta->label_values, meta->n_labels);
	free_strv(meta->entrypoint, meta->n_entrypoint);
	free_strv(meta->cmd, meta->n_cmd);
	free_strv(meta->exposed_ports, meta->n_exposed_ports);
	free_strv(meta->volumes, meta->n_volumes);
	free(meta->workdir);
	free(meta->user);
	free(meta->os);
	free(meta->architecture);
	free(meta->id);
	free(meta->repo_digest);
	free(meta->variant);
	free_strv(meta->diff_ids, meta->n_diff_ids);
	memset(meta, 0, sizeof(*meta));
}
