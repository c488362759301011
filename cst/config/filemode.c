#include <stdbool.h>
#include <string.h>

#include "build.h"

/* Go's os.FileMode.String(): one letter per type or special bit, in this
 * order and each at most once ("-" when none is set), then the nine
 * permission bits as rwx or '-'; setuid/setgid/sticky are letters in the
 * prefix, never 's'/'t' in the rwx part. */
static const char mode_letters[] = "dalTLDpSugct?";

bool cfg_valid_filemode(const char *s)
{
	size_t len = strlen(s);
	if (len < 10)
		return false;
	size_t prefix = len - 9;
	for (size_t i = 0; i < 9; i++) {
		char c = s[prefix + i];
		if (c != '-' && c != "rwx"[i % 3])
			return false;
	}
	if (prefix == 1 && s[0] == '-')
		return true;
	const char *next = mode_letters;
	for (size_t i = 0; i < prefix; i++) {
		const char *at = s[i] ? strchr(next, s[i]) : NULL;
		if (!at)
			return false;
		next = at + 1;
	}
	return true;
}
