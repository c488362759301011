/* The byte layer of the index cache's files (snap-io.h). */
#include "cst/index/snap-io.h"

#include <stdlib.h>

void snap_sum(uint64_t *sum, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		*sum ^= b[i];
		*sum *= 1099511628211ull;
	}
}

void snap_put(struct snap_out *o, const void *p, size_t n)
{
	if (o->failed || n == 0)
		return;
	snap_sum(&o->sum, p, n);
	if (fwrite(p, 1, n, o->f) != n)
		o->failed = true;
}

void snap_put_u(struct snap_out *o, uint64_t v, size_t width)
{
	unsigned char b[8];
	for (size_t i = 0; i < width; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	snap_put(o, b, width);
}

void snap_put_str(struct snap_out *o, const char *s, size_t n)
{
	snap_put_u(o, n, 4);
	snap_put(o, s, n);
}

int snap_get(struct snap_in *in, void *p, size_t n)
{
	if (n && fread(p, 1, n, in->f) != n)
		return cst_error_set(in->err, CST_E_IO, "%s: truncated", in->what);
	snap_sum(&in->sum, p, n);
	return 0;
}

int snap_get_u(struct snap_in *in, uint64_t *v, size_t width)
{
	unsigned char b[8];
	if (snap_get(in, b, width) < 0)
		return -1;
	*v = 0;
	for (size_t i = 0; i < width; i++)
		*v |= (uint64_t)b[i] << (8 * i);
	return 0;
}

int snap_get_str(struct snap_in *in, uint64_t max, bool none_ok, char **ret, size_t *ret_len)
{
	uint64_t n;
	*ret = NULL;
	if (snap_get_u(in, &n, 4) < 0)
		return -1;
	if (n == SNAP_NONE && none_ok)
		return 0;
	if (n > max)
		return cst_error_set(in->err, CST_E_IO, "%s: a length of %llu bytes is out of bounds", in->what,
				     (unsigned long long)n);
	/* Grown as the bytes arrive, so that a corrupt length ends at the
	 * end of the file rather than in a huge allocation. */
	char *s = NULL;
	for (size_t have = 0;;) {
		size_t step = n - have < SNAP_CHUNK ? (size_t)(n - have) : SNAP_CHUNK;
		char *grown = realloc(s, have + step + 1);
		if (!grown) {
			free(s);
			return cst_error_set(in->err, CST_E_NOMEM, "out of memory");
		}
		s = grown;
		if (snap_get(in, s + have, step) < 0) {
			free(s);
			return -1;
		}
		have += step;
		if (have == n)
			break;
	}
	s[n] = '\0';
	*ret = s;
	*ret_len = n;
	return 0;
}
