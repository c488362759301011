#include "cst/index/arena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Large enough that chunk headers are noise, small enough that a tiny
 * image does not pay for much. */
#define CHUNK_SIZE (64 * 1024)

struct cst_arena_chunk {
	struct cst_arena_chunk *next;
	size_t size;
	alignas(max_align_t) char data[];
};

void *cst_arena_alloc(struct cst_arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	size_t need = (n + align - 1) & ~(align - 1);
	if (need < n)
		return NULL;
	/* Strings are packed unaligned, so realign before handing out memory. */
	size_t pad = a->cur ? (size_t)(-(uintptr_t)a->cur & (align - 1)) : 0;
	if (pad <= a->left && need <= a->left - pad) {
		void *p = a->cur + pad;
		a->cur += pad + need;
		a->left -= pad + need;
		return p;
	}
	/* A big request gets a chunk of its own behind the current one, so the
	 * space left in the current chunk is not wasted. */
	bool own = need > CHUNK_SIZE / 4;
	size_t size = own ? need : CHUNK_SIZE;
	if (size > SIZE_MAX - sizeof(struct cst_arena_chunk))
		return NULL;
	struct cst_arena_chunk *c = malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->size = size;
	if (own && a->chunks) {
		c->next = a->chunks->next;
		a->chunks->next = c;
		return c->data;
	}
	c->next = a->chunks;
	a->chunks = c;
	a->cur = c->data + need;
	a->left = size - need;
	return c->data;
}

char *cst_arena_strndup(struct cst_arena *a, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	/* Strings need no alignment: pack them byte by byte when they fit. */
	char *p;
	if (n + 1 <= a->left) {
		p = a->cur;
		a->cur += n + 1;
		a->left -= n + 1;
	} else {
		p = cst_arena_alloc(a, n + 1);
		if (!p)
			return NULL;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void cst_arena_reset(struct cst_arena *a)
{
	struct cst_arena_chunk *keep = a->chunks;
	if (!keep || keep->size != CHUNK_SIZE) {
		cst_arena_release(a);
		return;
	}
	struct cst_arena_chunk *c = keep->next;
	while (c) {
		struct cst_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	keep->next = NULL;
	a->cur = keep->data;
	a->left = CHUNK_SIZE;
}

void cst_arena_release(struct cst_arena *a)
{
	struct cst_arena_chunk *c = a->chunks;
	while (c) {
		struct cst_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->chunks = NULL;
	a->cur = NULL;
	a->left = 0;
}
