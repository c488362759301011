/* The index cache: a run of an image already read answers its file tests
 * without a container.
 *
 * Reading an image through the engine means exporting its whole file
 * system (1-3 s for a Debian image here), while the index built from it is
 * a few hundred kilobytes.  An image ID is the digest of the image's config,
 * which names every layer by digest, so an index saved under that ID never
 * goes stale; the engine's API version is part of the key because it
 * changes what an export holds.  Names and keys say "export": earlier
 * versions also kept indexes of the image's own layers ("image"), which a
 * container's view must not be answered from.  Per-path reads keep a
 * partial index apart ("paths"): it answers only what was read, so it is
 * read on top of, never taken for a whole.
 *
 * The registry and archive sources keep their layers here, one file per
 * layer under the digest of its bytes (below): an image shares most of
 * its layers with others, and the engine's flat export has none to keep.
 * Files of the view "layers" (whole registry images, by config digest)
 * that earlier versions saved are no longer read and age out.
 *
 * The cache only ever makes a run faster: a snapshot that cannot be read,
 * is for another key, or lacks the contents this run wants is a miss, and a
 * cache that cannot be written is skipped.  Why is said at -v info. */
#include "cst/engine/client.h"
#include "cst/index_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cst/atomic_file.h"

/* Past either bound the least recently used files go: whole-image
 * snapshots past 64 of them, any file past the byte bound (--cache-max).
 * A Debian minbase index is about 0.5 MB, its one layer's the same. */
#define CACHE_MAX_FILES 64
#define SNAP_SUFFIX ".idx"
#define LAYER_SUFFIX ".layer"

static void cache_note(struct cst_index_cache *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cache_note(struct cst_index_cache *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	/* Notes pile up until run.c takes them: a miss and the save that
	 * follows it are both worth telling. */
	char *all = msg;
	if (d->notes && asprintf(&all, "%s\n%s", d->notes, msg) < 0)
		all = NULL;
	if (all != msg)
		free(msg);
	if (all) {
		free(d->notes);
		d->notes = all;
	}
}

/* The snapshot's path and key for the image, or -1 when this run cannot
 * use the cache (no directory, no image ID of the usual form). */
static int cache_names(const struct cst_index_cache *d, char **ret_path, char **ret_key)
{
	*ret_path = *ret_key = NULL;
	if (!d->dir || !d->id || !d->view)
		return -1;
	const char *hex = strncmp(d->id, "sha256:", 7) == 0 ? d->id + 7 : NULL;
	if (!hex || strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
		return -1;
	if (asprintf(ret_path, "%s/%s-%s" SNAP_SUFFIX, d->dir, hex, d->view) < 0) {
		*ret_path = NULL;
		return -1;
	}
	if (asprintf(ret_key, "image=%s view=%s api=%s", d->id, d->view, d->version ? d->version : "-") < 0) {
		free(*ret_path);
		*ret_path = *ret_key = NULL;
		return -1;
	}
	return 0;
}

/* An index decides verdicts: one that someone else could have written is
 * not believed. */
static FILE *open_own(struct cst_index_cache *d, const char *path, bool note_missing)
{
	FILE *f = fopen(path, "rbe");
	if (!f) {
		if (errno != ENOENT)
			cache_note(d, "index cache: cannot open %s: %s", path, strerror(errno));
		else if (note_missing)
			cache_note(d, "index cache: no index of this image yet");
		return NULL;
	}
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		cache_note(d, "index cache: %s is not this user's own file; not used", path);
		fclose(f);
		return NULL;
	}
	return f;
}

int cst_index_cache_load(struct cst_index_cache *d, struct cst_fs *fs)
{
	/* view "paths": a partial index, read on top of, never complete. */
	bool partial = d->view && strcmp(d->view, "paths") == 0;
	char *path, *key;
	if (cache_names(d, &path, &key) < 0)
		return 0;
	int hit = 0;
	struct cst_error e = CST_ERROR_INIT;
	FILE *f = open_own(d, path, !partial);
	if (!f)
		goto out;
	if (cst_fs_snapshot_read(fs, key, f, path, &e) < 0) {
		cache_note(d, "index cache: %s", e.msg ? e.msg : "unreadable");
		goto out;
	}
	if (partial) {
		cst_fs_set_partial(fs);
		utimensat(AT_FDCWD, path, NULL, 0);
		cache_note(d, "index cache: read %s (partial: only what is missing is read)", path);
		hit = 1;
		goto out;
	}
	int missing = cst_fs_content_missing(fs);
	if (missing != 0) {
		cache_note(d, "index cache: the saved index lacks contents this run wants");
		cst_fs_clear(fs);
		goto out;
	}
	/* Its modification time orders eviction: most recently used last. */
	utimensat(AT_FDCWD, path, NULL, 0);
	cache_note(d, "index cache: read %s", path);
	hit = 1;
out:
	if (f)
		fclose(f);
	cst_error_clear(&e);
	free(path);
	free(key);
	return hit;
}

static int mkdir_p(const char *dir)
{
	char *p = strdup(dir);
	if (!p)
		return -1;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}

struct snap_file {
	char *name;
	off_t size;
	struct timespec mtime;
	bool snap; /* a whole-image snapshot (counted), else a layer */
};

static bool has_suffix(const char *name, const char *suffix)
{
	size_t len = strlen(name), n = strlen(suffix);
	return len > n && strcmp(name + len - n, suffix) == 0;
}

static int by_mtime(const void *a, const void *b)
{
	const struct snap_file *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return 0;
}

/* Least recently used first, until both bounds hold; temporary files of
 * writers that died (an hour old) go too.  A reader that has a file open
 * keeps reading it when it goes: an unlinked file lives on until closed. */
static void evict(const char *dir, int64_t max_bytes)
{
	off_t max = max_bytes > 0 ? (off_t)max_bytes : CST_CACHE_MAX_DEFAULT;
	DIR *dh = opendir(dir);
	if (!dh)
		return;
	struct snap_file *files = NULL;
	size_t n = 0, cap = 0;
	off_t total = 0;
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(dh))) {
		struct stat st;
		bool snap = has_suffix(de->d_name, SNAP_SUFFIX);
		bool layer = has_suffix(de->d_name, LAYER_SUFFIX);
		/* cst_atomic_write's temporaries are dot names. */
		bool tmp = de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
		if ((!snap && !layer && !tmp) || fstatat(dirfd(dh), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (tmp) {
			if (now - st.st_mtime > 3600)
				unlinkat(dirfd(dh), de->d_name, 0);
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct snap_file *nf = realloc(files, ncap * sizeof(*nf));
			if (!nf)
				break;
			files = nf;
			cap = ncap;
		}
		if (!(files[n].name = strdup(de->d_name)))
			break;
		files[n].size = st.st_size;
		files[n].mtime = st.st_mtim;
		files[n].snap = snap;
		total += st.st_size;
		n++;
	}
	if (n > 1)
		qsort(files, n, sizeof(*files), by_mtime);
	size_t snaps = 0;
	for (size_t i = 0; i < n; i++)
		snaps += files[i].snap;
	for (size_t i = 0; i < n && (snaps > CACHE_MAX_FILES || total > max); i++) {
		if (total <= max && !files[i].snap)
			continue;
		if (unlinkat(dirfd(dh), files[i].name, 0) == 0) {
			total -= files[i].size;
			snaps -= files[i].snap;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(files[i].name);
	free(files);
	closedir(dh);
}

/* The snapshot being replaced, when it is one of this key: what earlier
 * runs kept of other files is kept again. */
static struct cst_fs *previous(struct cst_index_cache *d, const char *path, const char *key)
{
	FILE *f = open_own(d, path, false);
	if (!f)
		return NULL;
	struct cst_fs *old = cst_fs_new();
	struct cst_error e = CST_ERROR_INIT;
	if (old && cst_fs_snapshot_read(old, key, f, path, &e) < 0) {
		cst_fs_free(old);
		old = NULL;
	}
	cst_error_clear(&e);
	fclose(f);
	return old;
}

struct store_ud {
	const struct cst_fs *fs;
	struct cst_fs *old;
	const char *key;
};

static int write_snapshot(FILE *f, void *ud, struct cst_error *err)
{
	const struct store_ud *s = ud;
	return cst_fs_snapshot_write(s->fs, s->old, s->key, f, err);
}

void cst_index_cache_store(struct cst_index_cache *d, const struct cst_fs *fs)
{
	char *path, *key;
	if (cache_names(d, &path, &key) < 0)
		return;
	struct cst_error e = CST_ERROR_INIT;
	if (mkdir_p(d->dir) < 0) {
		cache_note(d, "index cache: cannot create %s: %s", d->dir, strerror(errno));
	} else {
		struct store_ud ud = {fs, previous(d, path, key), key};
		/* Private: an index tells what an image holds. */
		if (cst_atomic_write(path, "index", 0600, false, write_snapshot, &ud, &e) < 0) {
			cache_note(d, "index cache: %s", e.msg ? e.msg : "saving the index failed");
		} else {
			cache_note(d, "index cache: saved %s", path);
			evict(d->dir, d->max_bytes);
		}
		cst_fs_free(ud.old);
	}
	cst_error_clear(&e);
	free(path);
	free(key);
}

/* --- per-layer ---------------------------------------------------------
 *
 * Archive and registry sources read an image layer by layer, each layer
 * named by the digest of its bytes as the source holds them (a registry's
 * or an OCI layout's blob, a docker save's layer.tar).  A staged layer is
 * saved under that digest once its bytes were checked against it, so a
 * later image that shares the layer reads it from here, and only its own
 * layers from the source. */

static int layer_names(const struct cst_index_cache *d, const char *digest, char **ret_path, char **ret_key)
{
	*ret_path = *ret_key = NULL;
	const char *hex = digest && strncmp(digest, "sha256:", 7) == 0 ? digest + 7 : NULL;
	if (!d->dir || !hex || strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
		return -1;
	if (asprintf(ret_path, "%s/%s" LAYER_SUFFIX, d->dir, hex) < 0) {
		*ret_path = NULL;
		return -1;
	}
	if (asprintf(ret_key, "layer=%s", digest) < 0) {
		free(*ret_path);
		*ret_path = *ret_key = NULL;
		return -1;
	}
	return 0;
}

/* The saved layer at path, NULL (with a note, unless quiet) when there is
 * none to believe. */
static struct cst_layer *layer_read(struct cst_index_cache *d, const char *path, const char *key, bool quiet)
{
	FILE *f = open_own(d, path, false);
	if (!f)
		return NULL;
	struct cst_layer *layer = NULL;
	struct cst_error e = CST_ERROR_INIT;
	if (cst_layer_snapshot_read(key, f, path, &layer, &e) < 0 && !quiet)
		cache_note(d, "index cache: %s; not used", e.msg ? e.msg : "unreadable");
	cst_error_clear(&e);
	fclose(f);
	return layer;
}

int cst_layer_cache_load(struct cst_index_cache *d, const char *digest, const struct cst_fs *fs,
			 struct cst_layer **ret)
{
	*ret = NULL;
	char *path, *key;
	if (layer_names(d, digest, &path, &key) < 0)
		return 0;
	struct cst_layer *layer = layer_read(d, path, key, false);
	char *missing = NULL;
	int hit = 0;
	if (!layer)
		goto out;
	int m = cst_layer_content_missing(fs, layer, &missing);
	if (m != 0) {
		cache_note(d, "index cache: the saved layer %s lacks contents this run wants (%s)", digest,
			   missing ? missing : "out of memory");
		cst_layer_free(layer);
		goto out;
	}
	/* Its modification time orders eviction: most recently used last. */
	utimensat(AT_FDCWD, path, NULL, 0);
	cache_note(d, "index cache: layer %s read from %s", digest, path);
	*ret = layer;
	hit = 1;
out:
	free(missing);
	free(path);
	free(key);
	return hit;
}

struct layer_store_ud {
	const struct cst_layer *layer;
	const struct cst_layer *old;
	const char *key;
};

static int write_layer(FILE *f, void *ud, struct cst_error *err)
{
	const struct layer_store_ud *s = ud;
	return cst_layer_snapshot_write(s->layer, s->old, s->key, f, err);
}

void cst_layer_cache_store(struct cst_index_cache *d, const char *digest, const struct cst_layer *layer)
{
	char *path, *key;
	if (layer_names(d, digest, &path, &key) < 0)
		return;
	struct cst_error e = CST_ERROR_INIT;
	if (mkdir_p(d->dir) < 0) {
		cache_note(d, "index cache: cannot create %s: %s", d->dir, strerror(errno));
	} else {
		/* What earlier runs kept of other files is kept again. */
		struct cst_layer *old = layer_read(d, path, key, true);
		struct layer_store_ud ud = {layer, old, key};
		if (cst_atomic_write(path, "layer index", 0600, false, write_layer, &ud, &e) < 0) {
			cache_note(d, "index cache: %s", e.msg ? e.msg : "saving the layer failed");
		} else {
			cache_note(d, "index cache: layer %s saved as %s", digest, path);
			evict(d->dir, d->max_bytes);
		}
		cst_layer_free(old);
	}
	cst_error_clear(&e);
	free(path);
	free(key);
}

void cst_index_cache_say(struct cst_index_cache *d, FILE *to)
{
	char *save = NULL;
	for (char *line = d->notes && to ? strtok_r(d->notes, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		fprintf(to, "cst: %s\n", line);
	free(d->notes);
	d->notes = NULL;
}

void cst_index_cache_note(struct cst_index_cache *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg)
		cache_note(d, "%s", msg);
	free(msg);
}

/* The engine's view: a created container's export, keyed by the API
 * version too, since it changes what an export holds. */
static struct cst_index_cache engine_cache(struct cst_docker *d, const char *view)
{
	snprintf(d->export_key, sizeof(d->export_key), "%s%s", d->api, d->export_mounts ? "+mounts" : "");
	struct cst_index_cache c = {.dir = d->cache_dir, .id = d->pin_id, .view = view, .version = d->export_key,
				    .max_bytes = d->cache_max, .notes = d->cache_note};
	d->cache_note = NULL;
	return c;
}

static int engine_load(struct cst_docker *d, struct cst_fs *fs, const char *view)
{
	struct cst_index_cache c = engine_cache(d, view);
	int hit = cst_index_cache_load(&c, fs);
	d->cache_note = c.notes;
	return hit;
}

static void engine_store(struct cst_docker *d, const struct cst_fs *fs, const char *view)
{
	struct cst_index_cache c = engine_cache(d, view);
	cst_index_cache_store(&c, fs);
	d->cache_note = c.notes;
}

int dk_cache_load(struct cst_docker *d, struct cst_fs *fs)
{
	return engine_load(d, fs, "export");
}

int dk_cache_load_paths(struct cst_docker *d, struct cst_fs *fs)
{
	return engine_load(d, fs, "paths");
}

void dk_cache_store(struct cst_docker *d, const struct cst_fs *fs)
{
	engine_store(d, fs, "export");
}

void dk_cache_store_paths(struct cst_docker *d, const struct cst_fs *fs)
{
	engine_store(d, fs, "paths");
}
