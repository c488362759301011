/* The index cache (cst/engine/index_cache.c): a file-system index saved
 * under the image's ID, which names every layer by digest, so that a later
 * run of the same image reads the index instead of the image.  Used by the
 * engine source (view "export": a container's file system) and the
 * registry source (view "layers": the image's own layers). */
#ifndef CST_INDEX_CACHE_H
#define CST_INDEX_CACHE_H

#include "cst/fs.h"

struct cst_index_cache {
	const char *dir;     /* NULL: no cache */
	const char *id;      /* "sha256:<hex>" of the image config */
	const char *view;    /* what the index shows: "export", "layers", "paths" (partial) */
	const char *version; /* anything else the contents depend on; NULL: none */
	char *notes;         /* what the cache did, one line each (malloc'd) */
};

/* 1 when fs now holds a saved index that answers every wanted path, else 0
 * with fs empty.  Never fails the run: why it missed goes to notes. */
int cst_index_cache_load(struct cst_index_cache *c, struct cst_fs *fs);
/* Saves fs; a failure is a note. */
void cst_index_cache_store(struct cst_index_cache *c, const struct cst_fs *fs);

#endif
