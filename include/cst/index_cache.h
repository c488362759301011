/* The index cache (cst/engine/index_cache.c): a file-system index saved
 * under the image's ID, which names every layer by digest, so that a later
 * run of the same image reads the index instead of the image (the engine
 * source, view "export": a container's file system); and staged layers
 * saved under their own digests, so that a run reads from its source only
 * the layers no earlier run read (the registry and archive sources). */
#ifndef CST_INDEX_CACHE_H
#define CST_INDEX_CACHE_H

#include <stdint.h>
#include <stdio.h>

#include "cst/fs.h"

struct cst_index_cache {
	const char *dir;     /* NULL: no cache */
	const char *id;      /* "sha256:<hex>" of the image config */
	const char *view;    /* what the index shows: "export", "layers", "paths" (partial) */
	const char *version; /* anything else the contents depend on; NULL: none */
	int64_t max_bytes;   /* --cache-max: all files together; 0: CST_CACHE_MAX_DEFAULT */
	char *notes;         /* what the cache did, one line each (malloc'd) */
};

/* What the cache may hold when --cache-max does not say. */
#define CST_CACHE_MAX_DEFAULT ((int64_t)512 << 20)

/* 1 when fs now holds a saved index that answers every wanted path, else 0
 * with fs empty.  Never fails the run: why it missed goes to notes. */
int cst_index_cache_load(struct cst_index_cache *c, struct cst_fs *fs);
/* Saves fs; a failure is a note. */
void cst_index_cache_store(struct cst_index_cache *c, const struct cst_fs *fs);

/* Per layer (c->id and c->view unused).  load: 1 with *ret, the staged
 * layer saved under digest ("sha256:<hex>"), when it keeps every content
 * fs wants; else 0 (why in notes).  store: saves a layer whose bytes were
 * checked against digest, and nothing else; then evicts. */
int cst_layer_cache_load(struct cst_index_cache *c, const char *digest, const struct cst_fs *fs,
			 struct cst_layer **ret);
void cst_layer_cache_store(struct cst_index_cache *c, const char *digest, const struct cst_layer *layer);
/* Adds a line to notes. */
void cst_index_cache_note(struct cst_index_cache *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes the notes to `to` ("cst: " before each line; NULL: nowhere) and
 * empties them. */
void cst_index_cache_say(struct cst_index_cache *c, FILE *to);

#endif
