/* Users and groups by name, as the image defines them: its own
 * /etc/passwd and /etc/group, never the host's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/checks.h"

static bool parse_id(const char *s, size_t len, int64_t *ret)
{
	if (!len || len > 10)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*ret = v;
	return true;
}

int cst_image_account(const struct cst_fs *fs, bool group, const char *name, int64_t *ret, char *why,
		      size_t why_size)
{
	const char *file = group ? "/etc/group" : "/etc/passwd";
	/* A number names the id itself, as chown takes one. */
	if (parse_id(name, strlen(name), ret))
		return 1;
	struct cst_fs_info info;
	struct cst_error err = CST_ERROR_INIT;
	int found = cst_fs_lookup(fs, file, true, &info, NULL, &err);
	cst_error_clear(&err);
	if (found <= 0 || info.type != CST_FT_REG) {
		snprintf(why, why_size, "the image has no %s to look %s '%s' up in", file, group ? "group" : "user",
			 name);
		return 0;
	}
	if (!info.has_content) {
		snprintf(why, why_size, "the contents of %s were not read", file);
		return 0;
	}
	size_t nlen = strlen(name);
	const char *p = info.content, *end = info.content + info.content_len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		/* name:password:id:... */
		const char *c1 = memchr(p, ':', (size_t)(eol - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
		if (c2 && (size_t)(c1 - p) == nlen && !memcmp(p, name, nlen)) {
			const char *id = c2 + 1;
			const char *c3 = memchr(id, ':', (size_t)(eol - id));
			if (parse_id(id, (size_t)((c3 ? c3 : eol) - id), ret))
				return 1;
		}
		p = eol + 1;
	}
	snprintf(why, why_size, "no %s '%s' in the image's %s", group ? "group" : "user", name, file);
	return 0;
}
