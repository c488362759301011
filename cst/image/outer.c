/* The outer tar of a docker-save archive or an OCI layout tar.
 *
 * One scan reads every header and keeps only the entries that can be
 * manifests, indexes or configs (small, JSON, at the places those formats
 * put them), so a 200 MB archive costs a header walk: libarchive seeks
 * over the data of an uncompressed file.  Layers are read in a later pass
 * through a nested reader that pulls the outer entry's data block by block.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cst/image/archive-internal.h"

/* All cached JSON together; beyond it a scan stops keeping entries. */
#define CACHE_TOTAL_MAX ((size_t)64 * 1024 * 1024)
#define BLOCK_SIZE (64 * 1024)

void archive_name_normalise(char *name)
{
	char *r = name, *w = name;
	for (;;) {
		while (*r == '/')
			r++;
		if (r[0] == '.' && (r[1] == '/' || r[1] == '\0')) {
			r++;
			continue;
		}
		break;
	}
	while (*r) {
		if (*r == '/' && (r[1] == '/' || r[1] == '\0')) {
			r++;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
}

int archive_open_file(const char *path, struct archive **ret, struct cst_error *err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open_filename(a, path, BLOCK_SIZE) != ARCHIVE_OK) {
		cst_error_set(err, CST_E_IMAGE, "%s: %s", path, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	*ret = a;
	return 0;
}

struct nested {
	struct archive *outer;
	int64_t offset;
	struct cst_sha256 *sum; /* NULL: not summed */
};

static la_ssize_t nested_read(struct archive *a, void *ud, const void **buf)
{
	struct nested *n = ud;
	size_t size;
	la_int64_t offset;
	int r = archive_read_data_block(n->outer, buf, &size, &offset);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN) {
		const char *msg = archive_error_string(n->outer);
		archive_set_error(a, EIO, "%s", msg ? msg : "read error in the enclosing archive");
		return -1;
	}
	/* A layer stored as a sparse entry would need its holes filled in;
	 * no tool writes one, so refuse it rather than misread it. */
	if (offset != n->offset) {
		archive_set_error(a, EINVAL, "layer stored as a sparse tar entry");
		return -1;
	}
	n->offset += (int64_t)size;
	if (n->sum && cst_sha256_update(n->sum, *buf, size) < 0) {
		archive_set_error(a, ENOMEM, "sha256 failed");
		return -1;
	}
	return (la_ssize_t)size;
}

static int nested_close(struct archive *a, void *ud)
{
	free(ud);
	return ARCHIVE_OK;
}

int archive_open_nested(struct archive *outer, struct archive **ret, struct cst_error *err)
{
	return archive_open_nested_sum(outer, NULL, ret, err);
}

int archive_open_nested_sum(struct archive *outer, struct cst_sha256 *sum, struct archive **ret,
			    struct cst_error *err)
{
	struct archive *a = archive_read_new();
	struct nested *n = calloc(1, sizeof(*n));
	if (!a || !n) {
		archive_read_free(a);
		free(n);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	n->outer = outer;
	n->sum = sum;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	/* An empty layer file is a valid empty layer. */
	archive_read_support_format_empty(a);
	/* archive_read_open calls nested_close (freeing n) on failure too. */
	if (archive_read_open(a, n, NULL, nested_read, nested_close) != ARCHIVE_OK) {
		cst_error_set(err, CST_E_IMAGE, "%s", archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	*ret = a;
	return 0;
}

int archive_sum_rest(struct archive *outer, struct cst_sha256 *sum)
{
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t offset;
		int r = archive_read_data_block(outer, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN || cst_sha256_update(sum, buf, size) < 0)
			return -1;
	}
}

/* A layer file read through a digest of its bytes. */
static int summed_close(struct archive *a, void *ud);
struct summed_file {
	int fd;
	struct cst_sha256 *sum;
	char buf[BLOCK_SIZE];
};

static la_ssize_t summed_read(struct archive *a, void *ud, const void **buf)
{
	struct summed_file *f = ud;
	ssize_t n;
	do
		n = read(f->fd, f->buf, sizeof(f->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	if (n > 0 && cst_sha256_update(f->sum, f->buf, (size_t)n) < 0) {
		archive_set_error(a, ENOMEM, "sha256 failed");
		return -1;
	}
	*buf = f->buf;
	return n;
}

static int summed_close(struct archive *a, void *ud)
{
	(void)a;
	free(ud);
	return ARCHIVE_OK;
}

int archive_open_file_sum(const char *path, struct cst_sha256 *sum, struct archive **ret, int *ret_fd,
			  struct cst_error *err)
{
	struct summed_file *f = calloc(1, sizeof(*f));
	struct archive *a = archive_read_new();
	if (!f || !a) {
		free(f);
		archive_read_free(a);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	f->sum = sum;
	if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		cst_error_set(err, CST_E_IMAGE, "%s: %s", path, strerror(errno));
		free(f);
		archive_read_free(a);
		return -1;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	/* The client data is freed by the archive (summed_close), the fd by
	 * the caller after archive_sum_file_rest. */
	int fd = f->fd;
	if (archive_read_open(a, f, NULL, summed_read, summed_close) != ARCHIVE_OK) {
		cst_error_set(err, CST_E_IMAGE, "%s: %s", path, archive_error_string(a));
		archive_read_free(a);
		close(fd);
		return -1;
	}
	*ret = a;
	*ret_fd = fd;
	return 0;
}

int archive_sum_fd_rest(int fd, struct cst_sha256 *sum)
{
	char buf[BLOCK_SIZE];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n > 0 && cst_sha256_update(sum, buf, (size_t)n) < 0))
			return -1;
		if (n == 0)
			return 0;
	}
}

/* Where the formats keep their JSON: docker-save's manifest.json and
 * <id>.json, OCI's index.json, oci-layout and blobs/<alg>/<digest>. */
static bool may_be_json(const char *name)
{
	const char *slash = strchr(name, '/');
	if (!slash) {
		size_t n = strlen(name);
		return strcmp(name, "oci-layout") == 0 || (n > 5 && strcmp(name + n - 5, ".json") == 0);
	}
	if (strncmp(name, "blobs/", 6) != 0)
		return false;
	const char *second = strchr(name + 6, '/');
	return second && second[1] && !strchr(second + 1, '/');
}

/* Reads the current entry if it is JSON: 1 kept, 0 not JSON, -1 error. */
static int read_json_entry(struct archive *a, size_t size, char **ret, size_t *ret_len, struct cst_error *err)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	size_t len = 0;
	bool decided = false;
	while (len < size) {
		la_ssize_t n = archive_read_data(a, buf + len, size - len);
		if (n < 0) {
			free(buf);
			return cst_error_set(err, CST_E_IMAGE, "%s", archive_error_string(a));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* A layer blob shows it is not JSON in its first bytes: stop there
		 * and let libarchive skip the rest. */
		if (!decided) {
			size_t i = 0;
			while (i < len && buf[i] && strchr(" \t\r\n", buf[i]))
				i++;
			if (i < len) {
				if (buf[i] != '{' && buf[i] != '[') {
					free(buf);
					return 0;
				}
				decided = true;
			}
		}
	}
	if (len != size) {
		free(buf);
		return cst_error_set(err, CST_E_IMAGE, "truncated entry");
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 1;
}

static size_t name_hash(const char *name)
{
	/* FNV-1a */
	size_t h = (size_t)14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * (size_t)1099511628211ull;
	return h;
}

/* The slot holding name, or the empty slot where it would go. */
static size_t *cache_slot(const struct tar_cache *c, const char *name)
{
	size_t mask = c->n_slots - 1;
	size_t i = name_hash(name) & mask;
	while (c->slots[i] && strcmp(c->v[c->slots[i] - 1].name, name) != 0)
		i = (i + 1) & mask;
	return &c->slots[i];
}

static int cache_rehash(struct tar_cache *c)
{
	size_t n_slots = c->n_slots ? c->n_slots * 2 : 64;
	size_t *slots = calloc(n_slots, sizeof(*slots));
	if (!slots)
		return -1;
	free(c->slots);
	c->slots = slots;
	c->n_slots = n_slots;
	for (size_t i = 0; i < c->n; i++)
		*cache_slot(c, c->v[i].name) = i + 1;
	return 0;
}

int tar_cache_add(struct tar_cache *c, const char *name, char *data, size_t len)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct tar_cached *v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return -1;
		c->v = v;
		c->cap = cap;
	}
	if (2 * (c->n + 1) > c->n_slots && cache_rehash(c) < 0)
		return -1;
	char *copy = strdup(name);
	if (!copy)
		return -1;
	c->v[c->n].name = copy;
	c->v[c->n].data = data;
	c->v[c->n].len = len;
	/* A repeated name keeps its first entry for lookups, as before. */
	size_t *slot = cache_slot(c, name);
	if (!*slot)
		*slot = c->n + 1;
	c->n++;
	c->bytes += len;
	return 0;
}

int tar_scan(const char *path, struct tar_cache *ret, struct cst_error *err)
{
	struct archive *a;
	if (archive_open_file(path, &a, err) < 0)
		return -1;
	struct tar_cache c = {0};
	char *name = NULL;
	int r = -1;
	for (;;) {
		struct archive_entry *entry;
		int h = archive_read_next_header(a, &entry);
		if (h == ARCHIVE_EOF)
			break;
		if (h == ARCHIVE_RETRY)
			continue;
		if (h < ARCHIVE_WARN) {
			cst_error_set(err, CST_E_IMAGE, "%s: %s", path, archive_error_string(a));
			goto out;
		}
		const char *raw = archive_entry_pathname(entry);
		if (!raw || archive_entry_filetype(entry) != AE_IFREG)
			continue;
		free(name);
		if (!(name = strdup(raw))) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		archive_name_normalise(name);
		int64_t size = archive_entry_size(entry);
		/* Said here, or the archive would be reported as having none. */
		if ((strcmp(name, "manifest.json") == 0 || strcmp(name, "index.json") == 0) &&
		    (uint64_t)size > CST_IMAGE_JSON_MAX) {
			cst_error_set(err, CST_E_IMAGE,
				      "%s: entry '%s' holds %lld bytes; more than %zu MiB is not a manifest", path, name,
				      (long long)size, CST_IMAGE_JSON_MAX >> 20);
			goto out;
		}
		if (!may_be_json(name) || size <= 0 || (uint64_t)size > CST_IMAGE_JSON_MAX ||
		    c.bytes + (size_t)size > CACHE_TOTAL_MAX || tar_cache_get(&c, name))
			continue;
		char *data = NULL;
		size_t len = 0;
		int k = read_json_entry(a, (size_t)size, &data, &len, err);
		if (k < 0) {
			cst_error_wrap(err, "%s: entry '%s'", path, name);
			goto out;
		}
		if (k == 1 && tar_cache_add(&c, name, data, len) < 0) {
			free(data);
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
	}
	*ret = c;
	c = (struct tar_cache){0};
	r = 0;
out:
	free(name);
	tar_cache_release(&c);
	archive_read_free(a);
	return r;
}

const struct tar_cached *tar_cache_get(const struct tar_cache *c, const char *name)
{
	if (!c->n_slots)
		return NULL;
	size_t i = *cache_slot(c, name);
	return i ? &c->v[i - 1] : NULL;
}

int tar_cache_json(const struct tar_cache *c, const char *path, const char *name, json_t **ret,
		   struct cst_error *err)
{
	const struct tar_cached *e = tar_cache_get(c, name);
	if (!e)
		return cst_error_set(err, CST_E_IMAGE, "%s: no entry '%s' (or not a JSON file of at most %zu MiB)", path,
				     name, CST_IMAGE_JSON_MAX >> 20);
	json_error_t jerr;
	json_t *j = json_loadb(e->data, e->len, 0, &jerr);
	if (!j)
		return cst_error_set(err, CST_E_IMAGE, "%s: entry '%s': invalid JSON at line %d: %s", path, name,
				     jerr.line, jerr.text);
	*ret = j;
	return 0;
}

void tar_cache_release(struct tar_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].data);
	}
	free(c->v);
	free(c->slots);
	*c = (struct tar_cache){0};
}
