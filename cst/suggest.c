#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cst/suggest.h"

/* Keys are short, so the two-row Levenshtein table fits on the stack;
 * anything longer is not a typo of a known key. */
#define MAX_KEY 64

static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > MAX_KEY || lb > MAX_KEY)
		return (size_t)-1;
	size_t prev[MAX_KEY + 1], cur[MAX_KEY + 1];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = prev[j - 1] + cost;
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			cur[j] = best;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

const char *cst_suggest(const char *name, const char *const *candidates, size_t n)
{
	/* Two edits catch most typos; longer names may drift a little more. */
	size_t limit = strlen(name) / 3;
	if (limit < 2)
		limit = 2;
	const char *best = NULL;
	size_t best_d = limit + 1;
	for (size_t i = 0; i < n; i++) {
		size_t d = distance(name, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}
