/* Path globs: input "PATTERN\0PATH".  Whatever the pattern, a compile
 * either works or says why, and a match of any path ends in a step per
 * byte (a hang here is a backtracking matcher). */
#include <stdlib.h>
#include <string.h>

#include "cst/glob.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[2];
	fuzz_split(data, size, parts, 2);
	struct cst_error err = CST_ERROR_INIT;
	struct cst_glob *g = cst_glob_compile(parts[0].p, &err);
	if (!g) {
		if (!err.msg)
			abort();
	} else {
		const char *path = parts[1].p ? parts[1].p : parts[0].p;
		size_t len = parts[1].p ? parts[1].len : parts[0].len;
		bool m = cst_glob_match(g, path, len);
		/* A pattern without a wildcard or escape matches itself only. */
		if (!strpbrk(parts[0].p, "*?[\\") && parts[0].p[0] == '/' &&
		    parts[0].p[strlen(parts[0].p) - 1] != '/' &&
		    m != (len == strlen(parts[0].p) && !memcmp(path, parts[0].p, len)))
			abort();
		cst_glob_free(g);
	}
	cst_error_clear(&err);
	fuzz_parts_free(parts, 2);
	return 0;
}
