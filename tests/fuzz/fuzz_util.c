#include "fuzz.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cst/fs.h"
#include "cst/image.h"

void fuzz_die(const char *what)
{
	perror(what);
	abort();
}

struct scratch {
	char *suffix;
	char *path;
};

static struct scratch scratches[8];
static int n_scratches;

static void remove_scratches(void)
{
	for (int i = 0; i < n_scratches; i++) {
		unlink(scratches[i].path);
		free(scratches[i].path);
		free(scratches[i].suffix);
	}
	n_scratches = 0;
}

const char *fuzz_scratch(const char *suffix)
{
	for (int i = 0; i < n_scratches; i++) {
		if (strcmp(scratches[i].suffix, suffix) == 0)
			return scratches[i].path;
	}
	if (n_scratches == (int)(sizeof(scratches) / sizeof(scratches[0])))
		fuzz_die("too many scratch files");
	const char *dir = getenv("TMPDIR");
	char *path = NULL;
	if (asprintf(&path, "%s/cst-fuzz-%ld-%d%s", dir && *dir ? dir : "/tmp", (long)getpid(), n_scratches, suffix) <
	    0)
		fuzz_die("asprintf");
	if (n_scratches == 0)
		atexit(remove_scratches);
	scratches[n_scratches].suffix = strdup(suffix);
	scratches[n_scratches].path = path;
	n_scratches++;
	return path;
}

void fuzz_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		fuzz_die(path);
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0)
			fuzz_die(path);
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

void fuzz_split(const uint8_t *data, size_t size, struct fuzz_part *parts, int max)
{
	size_t off = 0;
	for (int i = 0; i < max; i++) {
		parts[i].p = NULL;
		parts[i].len = 0;
		if (off > size || (i > 0 && off == size && data[off - 1] != '\0'))
			continue;
		const uint8_t *end = i == max - 1 ? NULL : memchr(data + off, '\0', size - off);
		size_t len = end ? (size_t)(end - (data + off)) : size - off;
		char *p = malloc(len + 1);
		if (!p)
			fuzz_die("malloc");
		if (len)
			memcpy(p, data + off, len);
		p[len] = '\0';
		parts[i].p = p;
		parts[i].len = len;
		off += len + 1;
		if (!end)
			off = size + 1;
	}
}

void fuzz_parts_free(struct fuzz_part *parts, int max)
{
	for (int i = 0; i < max; i++)
		free(parts[i].p);
}

struct fuzz_tar {
	struct archive *a;
	char *buf;
	size_t len;
	size_t cap;
};

static la_ssize_t tar_write(struct archive *a, void *ud, const void *p, size_t n)
{
	(void)a;
	struct fuzz_tar *t = ud;
	if (t->len + n > t->cap) {
		size_t cap = t->cap ? t->cap : 65536;
		while (cap < t->len + n)
			cap *= 2;
		char *b = realloc(t->buf, cap);
		if (!b)
			fuzz_die("realloc");
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
	return (la_ssize_t)n;
}

struct fuzz_tar *fuzz_tar_new(void)
{
	struct fuzz_tar *t = calloc(1, sizeof(*t));
	if (!t || !(t->a = archive_write_new()))
		fuzz_die("archive_write_new");
	archive_write_set_format_pax_restricted(t->a);
	archive_write_set_bytes_in_last_block(t->a, 1);
	if (archive_write_open(t->a, t, NULL, tar_write, NULL) != ARCHIVE_OK)
		fuzz_die("archive_write_open");
	return t;
}

void fuzz_tar_add(struct fuzz_tar *t, enum fuzz_kind kind, const char *name, const void *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_mtime(e, 1700000000, 0);
	switch (kind) {
	case FUZZ_DIR:
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, 0755);
		break;
	case FUZZ_SYMLINK:
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_perm(e, 0777);
		archive_entry_set_symlink(e, data);
		break;
	case FUZZ_HARDLINK:
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_hardlink(e, data);
		break;
	case FUZZ_FILE:
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		break;
	}
	if (archive_write_header(t->a, e) != ARCHIVE_OK)
		fuzz_die("archive_write_header");
	if (kind == FUZZ_FILE && len && archive_write_data(t->a, data, len) != (la_ssize_t)len)
		fuzz_die("archive_write_data");
	archive_entry_free(e);
}

const void *fuzz_tar_finish(struct fuzz_tar *t, size_t *ret_len)
{
	if (archive_write_close(t->a) != ARCHIVE_OK)
		fuzz_die("archive_write_close");
	*ret_len = t->len;
	return t->buf;
}

void fuzz_tar_free(struct fuzz_tar *t)
{
	if (!t)
		return;
	archive_write_free(t->a);
	free(t->buf);
	free(t);
}

static struct fuzz_tar *layers[2];

static void free_layers(void)
{
	fuzz_tar_free(layers[0]);
	fuzz_tar_free(layers[1]);
}

const void *fuzz_layer_bytes(int which, size_t *ret_len)
{
	if (!layers[0]) {
		struct fuzz_tar *t = fuzz_tar_new();
		fuzz_tar_add(t, FUZZ_DIR, "etc/", NULL, 0);
		fuzz_tar_add(t, FUZZ_FILE, "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 26);
		fuzz_tar_add(t, FUZZ_SYMLINK, "etc/alt", "/etc/passwd", 0);
		fuzz_tar_add(t, FUZZ_HARDLINK, "etc/hard", "etc/passwd", 0);
		fuzz_tar_add(t, FUZZ_FILE, "gone/file", "x", 1);
		layers[0] = t;
		t = fuzz_tar_new();
		fuzz_tar_add(t, FUZZ_FILE, ".wh.gone", "", 0);
		fuzz_tar_add(t, FUZZ_FILE, "etc/.wh..wh..opq", "", 0);
		fuzz_tar_add(t, FUZZ_FILE, "etc/os-release", "ID=fuzz\n", 8);
		layers[1] = t;
		size_t n;
		fuzz_tar_finish(layers[0], &n);
		fuzz_tar_finish(layers[1], &n);
		atexit(free_layers);
	}
	*ret_len = layers[which]->len;
	return layers[which]->buf;
}

void fuzz_image_archive(const char *path)
{
	struct cst_error err = CST_ERROR_INIT;
	struct cst_archive_opts opts = {.platform = "linux/amd64"};
	struct cst_image_source *src = NULL;
	if (cst_image_open_archive(path, &opts, &src, &err) < 0) {
		cst_error_clear(&err);
		return;
	}
	struct cst_image_meta meta;
	memset(&meta, 0, sizeof(meta));
	if (src->ops->read_meta(src, &meta, &err) == 0)
		cst_image_meta_release(&meta);
	cst_error_clear(&err);
	struct cst_fs *fs = cst_fs_new();
	if (!fs)
		fuzz_die("cst_fs_new");
	if (cst_fs_want_path(fs, "/etc/passwd") < 0 || cst_fs_want_path(fs, "/etc/alt") < 0)
		fuzz_die("cst_fs_want_path");
	if (src->ops->read_fs(src, fs, &err) == 0 && cst_fs_want_resolved(fs) > 0) {
		cst_fs_clear(fs);
		(void)src->ops->read_fs(src, fs, &err);
	}
	cst_error_clear(&err);
	cst_fs_free(fs);
	cst_image_close(src);
}
