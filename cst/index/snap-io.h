/* The byte layer of the index cache's files (snapshot.c, layer_snapshot.c):
 * little-endian integers, length-prefixed strings, and an FNV-1a sum of
 * every byte that ends the file, so that a damaged file is told from a
 * good one before anything in it is believed. */
#ifndef CST_INDEX_SNAP_IO_H
#define CST_INDEX_SNAP_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cst/error.h"

/* A string length that says "absent". */
#define SNAP_NONE 0xffffffffu
/* The step a string read grows by. */
#define SNAP_CHUNK ((size_t)64 << 10)
#define SNAP_SUM_INIT 1469598103934665603ull

struct snap_out {
	FILE *f;
	uint64_t sum;
	bool failed; /* a write failed: the caller reports it once, at the end */
};

struct snap_in {
	FILE *f;
	uint64_t sum;
	const char *what; /* names the file in errors */
	struct cst_error *err;
};

void snap_sum(uint64_t *sum, const void *p, size_t n);
void snap_put(struct snap_out *o, const void *p, size_t n);
void snap_put_u(struct snap_out *o, uint64_t v, size_t width);
void snap_put_str(struct snap_out *o, const char *s, size_t n);
/* -1 with a CST_E_IO "truncated" error naming in->what. */
int snap_get(struct snap_in *in, void *p, size_t n);
int snap_get_u(struct snap_in *in, uint64_t *v, size_t width);
/* A length-prefixed string into malloc'd memory (NUL-terminated), at most
 * max bytes; *ret NULL for SNAP_NONE when none_ok. */
int snap_get_str(struct snap_in *in, uint64_t max, bool none_ok, char **ret, size_t *ret_len);

#endif
