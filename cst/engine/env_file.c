/* containerRunOptions.envFile, read the way `docker run --env-file` reads
 * it, so a file that works with docker works with cst. */
#include "cst/engine/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/expand.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int dk_env_file_parse(const char *text, size_t len, const char *what, struct cst_env_list *env,
		      struct cst_error *err)
{
	const char *p = text;
	const char *end = text + len;
	int lineno = 0;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		while (p < le && is_blank(*p))
			p++;
		if (p == le || *p == '#') {
			p = next;
			continue;
		}
		const char *eq = memchr(p, '=', (size_t)(le - p));
		const char *kend = eq ? eq : le;
		if (kend == p)
			return cst_error_set(err, CST_E_CONFIG, "%s:%d: no variable name before '='", what, lineno);
		for (const char *k = p; k < kend; k++)
			if (is_blank(*k))
				return cst_error_set(err, CST_E_CONFIG, "%s:%d: variable '%.*s' contains whitespace", what,
						     lineno, (int)(kend - p), p);
		char *key = strndup(p, (size_t)(kend - p));
		if (!key)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		int rc = 0;
		if (eq) {
			char *value = strndup(eq + 1, (size_t)(le - eq - 1));
			rc = value ? cst_env_set(env, key, value) : -1;
			free(value);
		} else {
			/* A bare name passes the host's value through. */
			const char *host = getenv(key);
			if (host)
				rc = cst_env_set(env, key, host);
		}
		free(key);
		if (rc < 0)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		p = next;
	}
	return 0;
}

int dk_env_file_read(const char *path, struct cst_env_list *env, struct cst_error *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return cst_error_set(err, CST_E_IO, "envFile '%s': %s", path, strerror(errno));
	struct cst_buf b;
	cst_buf_init(&b, 16u << 20);
	char chunk[8192];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (cst_buf_append(&b, chunk, n) < 0) {
			rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
			break;
		}
	if (!rc && ferror(f))
		rc = cst_error_set(err, CST_E_IO, "envFile '%s': read error", path);
	if (!rc && b.truncated)
		rc = cst_error_set(err, CST_E_IO, "envFile '%s': larger than 16 MiB", path);
	fclose(f);
	if (!rc)
		rc = dk_env_file_parse(b.data ? b.data : "", b.len, path, env, err);
	cst_buf_release(&b);
	return rc;
}
