/* Go's os.Expand as container-structure-test uses it for `$VAR` and
 * `${VAR}` in command lines and fileExistence paths. */
#ifndef CST_EXPAND_H
#define CST_EXPAND_H

#include <stddef.h>

/* An environment: entries "KEY=VALUE"; a later entry of the same key wins. */
struct cst_env_list {
	char **v;
	size_t n;
};

/* Looks KEY up; NULL when unset. */
const char *cst_env_get(const struct cst_env_list *env, const char *key, size_t keylen);
/* Adds or replaces KEY=VALUE (copies). 0 or -1 on allocation failure. */
int cst_env_set(struct cst_env_list *env, const char *key, const char *value);
int cst_env_copy(struct cst_env_list *dst, const struct cst_env_list *src);
void cst_env_release(struct cst_env_list *env);

/* Returns a newly allocated expansion of s (unknown names expand to "", a
 * lone trailing `$` stays), NULL on allocation failure.  With env NULL, s
 * is not expanded at all (schema 1.0.0's file paths): a copy. */
char *cst_expand(const char *s, const struct cst_env_list *env);
/* The same for s[0..len), which may hold NUL bytes (a config's strings are
 * Go's) and is NUL-terminated at s[len]; the result's length is stored in
 * *ret_len. */
char *cst_expandn(const char *s, size_t len, const struct cst_env_list *env, size_t *ret_len);

#endif
