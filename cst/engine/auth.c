/* Image references and registry credentials as the docker CLI reads them
 * from ~/.docker/config.json: credHelpers and credsStore (cred_helper.c),
 * then auths. */
#include "cst/engine/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *dk_base64_encode(const void *p, size_t n, bool url)
{
	const char *alpha = url ? b64_url : b64_std;
	const unsigned char *s = p;
	char *out = malloc((n + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = i + 1 < n ? alpha[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? alpha[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int dk_base64_decode(const char *s, struct cst_buf *ret)
{
	unsigned v = 0;
	int bits = 0;
	for (; *s && *s != '='; s++) {
		int x = b64_value(*s);
		if (x < 0)
			return -1;
		v = v << 6 | (unsigned)x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			unsigned char byte = (unsigned char)(v >> bits);
			if (cst_buf_append(ret, &byte, 1) < 0)
				return -1;
		}
	}
	return 0;
}

int dk_split_reference(const char *image, char **ret_name, char **ret_tag)
{
	const char *at = strchr(image, '@');
	const char *slash = strrchr(image, '/');
	const char *colon = strrchr(image, ':');
	const char *sep = NULL;
	const char *tag = "latest";
	if (at)
		sep = at;
	else if (colon && (!slash || colon > slash))
		sep = colon;
	char *name = sep ? strndup(image, (size_t)(sep - image)) : strdup(image);
	char *t = strdup(sep ? sep + 1 : tag);
	if (!name || !t) {
		free(name);
		free(t);
		return -1;
	}
	*ret_name = name;
	*ret_tag = t;
	return 0;
}

/* The registry host of a reference: its first component when that looks
 * like a host (has '.' or ':' or is localhost), else Docker Hub. */
static char *registry_host(const char *image)
{
	const char *slash = strchr(image, '/');
	if (slash) {
		size_t n = (size_t)(slash - image);
		if (memchr(image, '.', n) || memchr(image, ':', n) || (n == 9 && strncmp(image, "localhost", 9) == 0))
			return strndup(image, n);
	}
	return strdup("docker.io");
}

/* An `auths` key reduced to its host: "https://host:5000/v1/" -> "host:5000". */
static bool key_matches(const char *key, const char *host)
{
	const char *k = strstr(key, "://");
	k = k ? k + 3 : key;
	size_t n = strcspn(k, "/");
	if (strcmp(host, "docker.io") == 0) {
		static const char *const hub[] = {"docker.io", "index.docker.io", "registry-1.docker.io"};
		for (size_t i = 0; i < sizeof(hub) / sizeof(hub[0]); i++)
			if (strlen(hub[i]) == n && strncmp(k, hub[i], n) == 0)
				return true;
		return false;
	}
	return strlen(host) == n && strncmp(k, host, n) == 0;
}

/* The docker CLI's config: $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
int dk_read_docker_config(char **ret, struct cst_error *err)
{
	*ret = NULL;
	const char *dir = getenv("DOCKER_CONFIG");
	const char *home = getenv("HOME");
	char *path = NULL;
	if (dir && *dir) {
		if (asprintf(&path, "%s/config.json", dir) < 0)
			path = NULL;
	} else if (home && *home) {
		if (asprintf(&path, "%s/.docker/config.json", home) < 0)
			path = NULL;
	} else {
		return 0;
	}
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		free(path);
		return e == ENOENT ? 0 : cst_error_set(err, CST_E_IO, "docker config: %s", strerror(e));
	}
	struct cst_buf b;
	cst_buf_init(&b, 4u << 20);
	char chunk[4096];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (cst_buf_append(&b, chunk, n) < 0) {
			rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
			break;
		}
	fclose(f);
	if (rc == 0 && b.truncated)
		rc = cst_error_set(err, CST_E_IO, "%s: too large", path);
	free(path);
	if (rc == 0)
		*ret = cst_buf_detach(&b, NULL);
	cst_buf_release(&b);
	return rc;
}

int dk_registry_credentials(const char *config_json, const char *host, char **ret_user, char **ret_pass,
			    char **ret_token, struct cst_error *err)
{
	*ret_user = *ret_pass = *ret_token = NULL;
	json_error_t je;
	json_t *root = json_loads(config_json, 0, &je);
	if (!root)
		return cst_error_set(err, CST_E_IO, "docker config.json: %s (line %d)", je.text, je.line);
	json_t *auths = json_object_get(root, "auths");
	json_t *entry = NULL;
	const char *key;
	json_t *val;
	int rc = 0;
	struct cst_buf plain = CST_BUF_INIT;
	/* As the docker CLI: the registry's own helper, else the store for
	 * all; what they do not know comes from auths. */
	const char *helper = NULL;
	json_object_foreach(json_object_get(root, "credHelpers"), key, val) {
		if (key_matches(key, host) && json_is_string(val)) {
			helper = json_string_value(val);
			break;
		}
	}
	if (!helper)
		helper = json_string_value(json_object_get(root, "credsStore"));
	if (helper && *helper) {
		char *u = NULL, *secret = NULL;
		const char *server = strcmp(host, "docker.io") == 0 ? "https://index.docker.io/v1/" : host;
		if (dk_cred_helper_get(helper, server, &u, &secret, err) < 0) {
			rc = -1;
			goto done;
		}
		if (u) {
			/* "<token>": the secret is an identity token. */
			if (strcmp(u, "<token>") == 0) {
				*ret_token = secret;
				free(u);
			} else {
				*ret_user = u;
				*ret_pass = secret;
			}
			goto done;
		}
	}
	json_object_foreach(auths, key, val) {
		if (key_matches(key, host)) {
			entry = val;
			break;
		}
	}
	if (!entry)
		goto done;
	const char *user = json_string_value(json_object_get(entry, "username"));
	const char *pass = json_string_value(json_object_get(entry, "password"));
	const char *token = json_string_value(json_object_get(entry, "identitytoken"));
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	char *colon = NULL;
	if (auth && *auth) {
		if (dk_base64_decode(auth, &plain) < 0 || !plain.data || !(colon = strchr(plain.data, ':'))) {
			rc = cst_error_set(err, CST_E_IO, "docker config.json: the auth entry for '%s' is malformed", key);
			goto done;
		}
		*colon = '\0';
		user = plain.data;
		pass = colon + 1;
	}
	if (token && *token && !(*ret_token = strdup(token)))
		goto nomem;
	if (user && (!(*ret_user = strdup(user)) || !(*ret_pass = strdup(pass ? pass : ""))))
		goto nomem;
	goto done;
nomem:
	rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
	free(*ret_user);
	free(*ret_pass);
	free(*ret_token);
	*ret_user = *ret_pass = *ret_token = NULL;
done:
	cst_buf_release(&plain);
	json_decref(root);
	return rc;
}

int dk_registry_auth(const char *config_json, const char *image, char **ret, struct cst_error *err)
{
	*ret = NULL;
	char *host = registry_host(image);
	char *user = NULL, *pass = NULL, *token = NULL;
	json_t *out = NULL;
	if (!host)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	int rc = dk_registry_credentials(config_json, host, &user, &pass, &token, err);
	if (rc < 0 || (!user && !token))
		goto done;
	out = json_object();
	if (!out)
		goto nomem;
	if (token) {
		if (json_object_set_new(out, "identitytoken", json_string(token)) < 0)
			goto nomem;
	} else if (json_object_set_new(out, "username", json_string(user)) < 0 ||
		   json_object_set_new(out, "password", json_string(pass)) < 0) {
		goto nomem;
	}
	if (json_object_set_new(out, "serveraddress", json_string(strcmp(host, "docker.io") == 0 ? "https://index.docker.io/v1/" : host)) < 0)
		goto nomem;
	char *text = json_dumps(out, JSON_COMPACT);
	if (!text)
		goto nomem;
	*ret = dk_base64_encode(text, strlen(text), true);
	free(text);
	if (!*ret)
		goto nomem;
	goto done;
nomem:
	rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
done:
	json_decref(out);
	free(user);
	free(pass);
	free(token);
	free(host);
	return rc;
}
