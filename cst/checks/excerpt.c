#include "excerpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cst_excerpt(const char *text, size_t len)
{
	char *s = NULL;
	if (!text)
		return strdup("");
	if (len <= CST_EXCERPT_MAX) {
		s = malloc(len + 1);
		if (s) {
			memcpy(s, text, len);
			s[len] = '\0';
		}
		return s;
	}
	if (asprintf(&s, "%.*s... [%zu more bytes]", CST_EXCERPT_MAX, text, len - CST_EXCERPT_MAX) < 0)
		return NULL;
	return s;
}

static int one_list(struct cst_result *r, const struct cst_patternv *list, bool want, const char *what,
		    const char *text, size_t len, char **quoted)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct cst_pattern *p = &list->v[i];
		struct cst_error err = CST_ERROR_INIT;
		int m = cst_regex_match(p->re, text, len, &err);
		if (m < 0) {
			int rc = cst_result_fail(r, "%s", err.msg ? err.msg : "regex failed");
			cst_error_clear(&err);
			if (rc < 0)
				return -1;
			continue;
		}
		if ((m == 1) == want)
			continue;
		if (!*quoted && !(*quoted = cst_excerpt(text, len)))
			return -1;
		if (cst_result_fail(r, "%s string '%s' %s in %s '%s'", want ? "Expected" : "Excluded", p->src,
				    want ? "not found" : "found", what, *quoted) < 0)
			return -1;
	}
	return 0;
}

int cst_check_patterns(struct cst_result *r, const struct cst_patternv *expected, const struct cst_patternv *excluded,
		       const char *what, const char *text, size_t len)
{
	char *quoted = NULL;
	int rc = one_list(r, expected, true, what, text, len, &quoted);
	if (rc == 0)
		rc = one_list(r, excluded, false, what, text, len, &quoted);
	free(quoted);
	return rc;
}
