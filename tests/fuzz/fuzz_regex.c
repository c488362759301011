/* The regex layer: input "PATTERN\0SUBJECT".  Whatever the pattern, a
 * compile either works or says why, and a match ends within the match
 * limit with a verdict or an error that says why. */
#include <stdlib.h>

#include "cst/match.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[2];
	fuzz_split(data, size, parts, 2);
	struct cst_error err = CST_ERROR_INIT;
	struct cst_regex *re = cst_regex_compile(parts[0].p, &err);
	if (!re) {
		if (!err.msg)
			abort();
	} else {
		const char *subject = parts[1].p ? parts[1].p : parts[0].p;
		size_t len = parts[1].p ? parts[1].len : parts[0].len;
		int r = cst_regex_match(re, subject, len, &err);
		if (r < 0 && !err.msg)
			abort();
		/* Every prefix once more: matches ending at the very end ($). */
		if (r >= 0 && len)
			(void)cst_regex_match(re, subject, len - 1, &err);
		cst_regex_free(re);
	}
	cst_error_clear(&err);
	fuzz_parts_free(parts, 2);
	return 0;
}
