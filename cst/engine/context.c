/* Which engine to talk to, found the way the docker CLI finds it:
 * DOCKER_HOST; else the context DOCKER_CONTEXT names; else config.json's
 * currentContext; else the default socket, or a rootless engine's socket
 * under XDG_RUNTIME_DIR when the default one is absent.
 *
 * A context lives in the CLI's store under the SHA-256 of its name:
 * contexts/meta/HEX/meta.json holds the docker endpoint's Host and
 * SkipTLSVerify, contexts/tls/HEX/docker/ its PEM files. */
#include "cst/engine/context.h"
#include "cst/sha256.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

/* The file's JSON; *ret NULL (and 0 returned) when it does not exist. */
static int load_json(const char *path, json_t **ret, struct cst_error *err)
{
	*ret = NULL;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return cst_error_set(err, CST_E_ENGINE, "cannot read %s: %s", path, strerror(errno));
	}
	json_error_t je;
	*ret = json_loadf(f, 0, &je);
	fclose(f);
	if (!*ret)
		return cst_error_set(err, CST_E_ENGINE, "%s:%d: malformed JSON: %s", path, je.line, je.text);
	return 0;
}

/* Every PEM file of the context that is there must be usable: a TLS
 * setup that silently drops a broken certificate would talk to the
 * engine without it. */
static int check_pem(const char *name, const char *dir, const char *file, bool *ret_present, struct cst_error *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return cst_error_set(err, CST_E_ENGINE, "context '%s': cannot read the TLS file %s: %s", name, path,
				     strerror(errno));
	}
	char head[4096];
	size_t n = fread(head, 1, sizeof(head) - 1, f);
	bool failed = ferror(f);
	fclose(f);
	head[n] = '\0';
	if (failed)
		return cst_error_set(err, CST_E_ENGINE, "context '%s': cannot read the TLS file %s", name, path);
	if (!strstr(head, "-----BEGIN "))
		return cst_error_set(err, CST_E_ENGINE, "context '%s': the TLS file %s is not PEM", name, path);
	*ret_present = true;
	return 0;
}

static int from_context(const char *confdir, const char *name, struct dk_endpoint *ret, struct cst_error *err)
{
	char hex[65];
	/* The docker CLI's store names a context by its name's digest. */
	if (cst_sha256_hex(name, strlen(name), hex) < 0)
		return cst_error_set(err, CST_E_INTERNAL, "context '%s': SHA-256 failed", name);
	char meta[4096], tlsdir[4096];
	snprintf(meta, sizeof(meta), "%s/contexts/meta/%s/meta.json", confdir, hex);
	snprintf(tlsdir, sizeof(tlsdir), "%s/contexts/tls/%s/docker", confdir, hex);

	json_t *root = NULL;
	if (load_json(meta, &root, err) < 0)
		return cst_error_wrap(err, "context '%s'", name);
	if (!root)
		return cst_error_set(err, CST_E_ENGINE, "context '%s' not found (no %s; `docker context ls` lists them)",
				     name, meta);
	int rc = -1;
	const char *stored = json_string_value(json_object_get(root, "Name"));
	json_t *ep = json_object_get(json_object_get(root, "Endpoints"), "docker");
	json_t *host = json_object_get(ep, "Host");
	json_t *skip = json_object_get(ep, "SkipTLSVerify");
	if (!stored || strcmp(stored, name) != 0) {
		cst_error_set(err, CST_E_ENGINE, "context '%s': %s names another context ('%s')", name, meta,
			      stored ? stored : "");
		goto out;
	}
	if (!json_is_object(ep)) {
		cst_error_set(err, CST_E_ENGINE, "context '%s' has no docker endpoint (%s)", name, meta);
		goto out;
	}
	if ((host && !json_is_string(host)) || (skip && !json_is_boolean(skip))) {
		cst_error_set(err, CST_E_ENGINE, "context '%s': %s: Endpoints.docker.%s has the wrong type", name, meta,
			      host && !json_is_string(host) ? "Host" : "SkipTLSVerify");
		goto out;
	}
	struct dk_tls_files tls = {.verify = !json_is_true(skip)};
	bool pem = false;
	if (check_pem(name, tlsdir, "ca.pem", &pem, err) < 0 || check_pem(name, tlsdir, "cert.pem", &pem, err) < 0 ||
	    check_pem(name, tlsdir, "key.pem", &pem, err) < 0)
		goto out;
	/* As the CLI: TLS when the context has TLS material or asks not to
	 * verify; plain TCP otherwise. */
	tls.on = pem || json_is_true(skip);
	char what[300];
	snprintf(what, sizeof(what), "context '%s'", name);
	const char *h = json_string_value(host);
	rc = dk_endpoint_parse_as(h && *h ? h : NULL, what, &tls, pem ? tlsdir : NULL, ret, err);
out:
	json_decref(root);
	return rc;
}

/* The context config.json names, or NULL. */
static int current_context(const char *confdir, char **ret, char **ret_path, struct cst_error *err)
{
	*ret = NULL;
	*ret_path = NULL;
	char *path = NULL;
	if (asprintf(&path, "%s/config.json", confdir) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	json_t *root = NULL;
	if (load_json(path, &root, err) < 0) {
		free(path);
		return -1;
	}
	json_t *cur = json_object_get(root, "currentContext");
	int rc = 0;
	if (cur && !json_is_string(cur))
		rc = cst_error_set(err, CST_E_ENGINE, "%s: currentContext is not a string", path);
	else if (json_string_length(cur) && !(*ret = strdup(json_string_value(cur))))
		rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
	json_decref(root);
	if (rc == 0 && *ret)
		*ret_path = path;
	else
		free(path);
	return rc;
}

static int set_source(struct dk_endpoint *ep, struct cst_error *err, const char *text)
{
	if (!(ep->source = strdup(text))) {
		dk_endpoint_release(ep);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	return 0;
}

int dk_endpoint_resolve(const struct dk_resolve_env *env, struct dk_endpoint *ret, struct cst_error *err)
{
	if (env->docker_host && *env->docker_host) {
		if (dk_endpoint_parse(env->docker_host, env->tls_verify, env->cert_path, env->home, ret, err) < 0)
			return -1;
		return set_source(ret, err, "DOCKER_HOST");
	}

	char *confdir = NULL;
	if (env->docker_config && *env->docker_config)
		confdir = strdup(env->docker_config);
	else if (asprintf(&confdir, "%s/.docker", env->home && *env->home ? env->home : ".") < 0)
		confdir = NULL;
	if (!confdir)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");

	char *name = NULL, *from = NULL;
	int rc = -1;
	if (env->docker_context && *env->docker_context) {
		if (!(name = strdup(env->docker_context))) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
	} else if (current_context(confdir, &name, &from, err) < 0) {
		goto out;
	}

	if (name && strcmp(name, "default") != 0) {
		if (from_context(confdir, name, ret, err) < 0)
			goto out;
		char why[4400];
		if (from)
			snprintf(why, sizeof(why), "context %s, currentContext in %s", name, from);
		else
			snprintf(why, sizeof(why), "context %s, DOCKER_CONTEXT", name);
		rc = set_source(ret, err, why);
		goto out;
	}

	/* The default context: the default socket, with the TLS variables
	 * as for DOCKER_HOST (they matter only for a tcp:// host). */
	const char *sock = env->default_socket ? env->default_socket : DK_DEFAULT_SOCKET;
	char *rootless = NULL;
	struct stat st;
	if (stat(sock, &st) < 0 && errno == ENOENT && env->xdg_runtime_dir && *env->xdg_runtime_dir) {
		if (asprintf(&rootless, "%s/docker.sock", env->xdg_runtime_dir) < 0) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		if (stat(rootless, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			free(rootless);
			rootless = NULL;
		}
	}
	char *url = NULL;
	if (asprintf(&url, "unix://%s", rootless ? rootless : sock) < 0) {
		free(rootless);
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	free(rootless);
	rc = dk_endpoint_parse(url, env->tls_verify, env->cert_path, env->home, ret, err);
	free(url);
	if (rc == 0)
		rc = set_source(ret, err,
				ret->socket_path && strcmp(ret->socket_path, sock) != 0
					? "rootless engine in XDG_RUNTIME_DIR: the default socket is absent"
					: (name ? "default, context default" : "default"));
out:
	free(name);
	free(from);
	free(confdir);
	return rc;
}
