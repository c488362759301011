/* A bump allocator for the many small strings of a file index.
 *
 * Names and link targets are never freed one by one: a layer's staged
 * entries die together and an index's names die with cst_fs_clear(), so an
 * arena replaces a malloc per entry with a pointer bump and frees everything
 * in one pass.  Not thread-safe.
 */
#ifndef CST_INDEX_ARENA_H
#define CST_INDEX_ARENA_H

#include <stddef.h>

struct cst_arena_chunk;

struct cst_arena {
	struct cst_arena_chunk *chunks;
	char *cur;
	size_t left;
};

#define CST_ARENA_INIT {NULL, NULL, 0}

/* n bytes aligned for any scalar; NULL on allocation failure. */
void *cst_arena_alloc(struct cst_arena *a, size_t n);
/* A NUL-terminated copy of s[0..n); NULL on allocation failure. */
char *cst_arena_strndup(struct cst_arena *a, const char *s, size_t n);
/* Forgets every allocation, keeping one chunk for the next ones. */
void cst_arena_reset(struct cst_arena *a);
void cst_arena_release(struct cst_arena *a);

#endif
