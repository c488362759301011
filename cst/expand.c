#include "cst/expand.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cst/buf.h"

const char *cst_env_get(const struct cst_env_list *env, const char *key, size_t keylen)
{
	/* Last one wins, as when the engine merges Env lists. */
	for (size_t i = env->n; i-- > 0;) {
		const char *e = env->v[i];
		if (strncmp(e, key, keylen) == 0 && e[keylen] == '=')
			return e + keylen + 1;
	}
	return NULL;
}

int cst_env_set(struct cst_env_list *env, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	char *e = malloc(kl + vl + 2);
	if (!e)
		return -1;
	memcpy(e, key, kl);
	e[kl] = '=';
	memcpy(e + kl + 1, value, vl + 1);
	for (size_t i = 0; i < env->n; i++) {
		if (strncmp(env->v[i], key, kl) == 0 && env->v[i][kl] == '=') {
			free(env->v[i]);
			env->v[i] = e;
			return 0;
		}
	}
	char **v = realloc(env->v, (env->n + 1) * sizeof(*v));
	if (!v) {
		free(e);
		return -1;
	}
	env->v = v;
	env->v[env->n++] = e;
	return 0;
}

int cst_env_copy(struct cst_env_list *dst, const struct cst_env_list *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const char *eq = strchr(src->v[i], '=');
		if (!eq)
			continue;
		char *key = strndup(src->v[i], (size_t)(eq - src->v[i]));
		if (!key || cst_env_set(dst, key, eq + 1) < 0) {
			free(key);
			return -1;
		}
		free(key);
	}
	return 0;
}

void cst_env_release(struct cst_env_list *env)
{
	for (size_t i = 0; i < env->n; i++)
		free(env->v[i]);
	free(env->v);
	env->v = NULL;
	env->n = 0;
}

static bool is_special(char c)
{
	return strchr("*#$@!?-0123456789", c) != NULL && c != '\0';
}

static bool is_alnum(char c)
{
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Go's getShellName: the name after a `$` and how many bytes it used.  An
 * empty name with a nonzero width is bad syntax whose bytes are eaten. */
static void shell_name(const char *s, const char **name, size_t *nlen, size_t *width)
{
	*name = s;
	*nlen = 0;
	if (s[0] == '{') {
		if (s[1] && is_special(s[1]) && s[2] == '}') {
			*name = s + 1;
			*nlen = 1;
			*width = 3;
			return;
		}
		for (size_t i = 1; s[i]; i++) {
			if (s[i] == '}') {
				if (i == 1) {
					*width = 2;
					return;
				}
				*name = s + 1;
				*nlen = i - 1;
				*width = i + 1;
				return;
			}
		}
		*width = 1;
		return;
	}
	if (is_special(s[0])) {
		*nlen = 1;
		*width = 1;
		return;
	}
	size_t i = 0;
	while (is_alnum(s[i]))
		i++;
	*nlen = i;
	*width = i;
}

char *cst_expand(const char *s, const struct cst_env_list *env)
{
	if (!env)
		return strdup(s);
	struct cst_buf b = CST_BUF_INIT;
	size_t i = 0;
	for (size_t j = 0; s[j]; j++) {
		if (s[j] != '$' || !s[j + 1])
			continue;
		if (cst_buf_append(&b, s + i, j - i) < 0)
			goto oom;
		const char *name;
		size_t nlen, w;
		shell_name(s + j + 1, &name, &nlen, &w);
		if (nlen == 0 && w > 0) {
			/* bad syntax: eaten, as Go does */
		} else if (nlen == 0) {
			if (cst_buf_append(&b, "$", 1) < 0)
				goto oom;
		} else {
			const char *v = cst_env_get(env, name, nlen);
			if (v && cst_buf_puts(&b, v) < 0)
				goto oom;
		}
		j += w;
		i = j + 1;
	}
	if (cst_buf_puts(&b, s + i) < 0)
		goto oom;
	return cst_buf_detach(&b, NULL);
oom:
	cst_buf_release(&b);
	return NULL;
}

/* A NUL byte ends no name and starts none, so each NUL-free run expands on
 * its own and the runs are joined again with their NUL bytes. */
char *cst_expandn(const char *s, size_t len, const struct cst_env_list *env, size_t *ret_len)
{
	struct cst_buf b = CST_BUF_INIT;
	for (size_t i = 0; i <= len;) {
		char *part = cst_expand(s + i, env);
		if (!part || cst_buf_puts(&b, part) < 0) {
			free(part);
			cst_buf_release(&b);
			return NULL;
		}
		free(part);
		i += strlen(s + i) + 1;
		if (i <= len && cst_buf_append(&b, "", 1) < 0) {
			cst_buf_release(&b);
			return NULL;
		}
	}
	return cst_buf_detach(&b, ret_len);
}
