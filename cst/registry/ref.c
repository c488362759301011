/* Registry references as the docker CLI reads them: an optional registry
 * host (a first component holding '.' or ':' or "localhost"), the
 * repository (Docker Hub's official images under library/), a tag
 * ("latest" when neither tag nor digest is given) and a digest. */
#include <stdlib.h>
#include <string.h>

#include "cst/registry/registry-internal.h"

bool reg_digest_valid(const char *s)
{
	return s && strncmp(s, "sha256:", 7) == 0 && strlen(s + 7) == 64 && strspn(s + 7, "0123456789abcdef") == 64;
}

void reg_ref_release(struct reg_ref *r)
{
	free(r->host);
	free(r->api_host);
	free(r->repo);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

static bool repo_valid(const char *s)
{
	/* Lower-case components of [a-z0-9] joined by '.', '_', '__', '-'
	 * runs, separated by '/': close enough to the grammar to refuse what
	 * would escape the URL path. */
	if (!*s || *s == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//") || strstr(s, ".."))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-/") == strlen(s);
}

static bool tag_valid(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 128 && *s != '.' && *s != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static bool host_valid(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == strlen(s);
}

int reg_ref_parse(const char *s, struct reg_ref *ret, struct cst_error *err)
{
	struct reg_ref r = {0};
	char *work = strdup(s);
	if (!work)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	char *at = strchr(work, '@');
	if (at) {
		*at = '\0';
		if (!reg_digest_valid(at + 1)) {
			free(work);
			return cst_error_set(err, CST_E_USAGE, "image reference '%s': the digest must be sha256: and 64 lower-case hex digits", s);
		}
		r.digest = strdup(at + 1);
	}
	char *slash = strchr(work, '/');
	char *name = work;
	if (slash && (memchr(work, '.', (size_t)(slash - work)) || memchr(work, ':', (size_t)(slash - work)) ||
		      (slash - work == 9 && strncmp(work, "localhost", 9) == 0))) {
		*slash = '\0';
		r.host = strdup(work);
		name = slash + 1;
	} else {
		r.host = strdup("docker.io");
	}
	char *last = strrchr(name, '/');
	char *colon = strrchr(last ? last : name, ':');
	if (colon) {
		*colon = '\0';
		r.tag = strdup(colon + 1);
	} else if (!r.digest) {
		r.tag = strdup("latest");
	}
	if (strcmp(r.host, "docker.io") == 0 && !strchr(name, '/')) {
		if (asprintf(&r.repo, "library/%s", name) < 0)
			r.repo = NULL;
	} else {
		r.repo = strdup(name);
	}
	r.api_host = strdup(strcmp(r.host, "docker.io") == 0 || strcmp(r.host, "index.docker.io") == 0
				    ? "registry-1.docker.io"
				    : r.host);
	free(work);
	if (!r.host || !r.repo || !r.api_host || (colon && !r.tag) || (at && !r.digest)) {
		reg_ref_release(&r);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	if (!host_valid(r.host) || !repo_valid(r.repo) || (r.tag && !tag_valid(r.tag))) {
		reg_ref_release(&r);
		return cst_error_set(err, CST_E_USAGE,
				     "image reference '%s': expected [HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST] with a "
				     "lower-case name",
				     s);
	}
	*ret = r;
	return 0;
}
