/* A layer blob streamed from the registry through libarchive into a staged
 * layer: gzip, zstd or plain tar, told apart by libarchive from the bytes
 * (media types lie less often than they are missing).  The blob's digest
 * and size are checked after its last byte; a layer whose check fails is
 * dropped, never applied.
 *
 * Two archive readers in a row: the first only decompresses (every filter
 * libarchive knows, nested ones too), the second reads the tar from what
 * the first hands on.  Between them every uncompressed byte is counted
 * against the image's bound, so a small blob that inflates to terabytes
 * (a "gzip bomb") ends at the bound, in time proportional to it. */
#include <archive.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/registry/blob.h"

struct blob_stream {
	struct reg_xfer *x;
	const char *what;
	struct cst_error err;
	bool failed;
	bool first; /* reg_open() already holds the first block */
};

static la_ssize_t blob_read(struct archive *a, void *ud, const void **buf)
{
	struct blob_stream *bs = ud;
	if (!bs->first) {
		cst_buf_reset(&bs->x->body);
		if (reg_pump(bs->x, bs->what, &bs->err) < 0) {
			bs->failed = true;
			archive_set_error(a, EIO, "%s", bs->err.msg ? bs->err.msg : "read error");
			return -1;
		}
	}
	bs->first = false;
	*buf = bs->x->body.data;
	return (la_ssize_t)bs->x->body.len;
}

/* The uncompressed side: blocks of the decompressing reader, counted. */
struct plain_stream {
	struct reg_client *c;
	struct archive *raw;
	struct blob_stream *bs;
	const char *what;
	bool started, eof;
	struct cst_error err;
	bool failed;
};

static la_ssize_t plain_read(struct archive *a, void *ud, const void **buf)
{
	struct plain_stream *ps = ud;
	if (ps->eof)
		return 0;
	int r = ARCHIVE_OK;
	if (!ps->started) {
		struct archive_entry *e;
		ps->started = true;
		r = archive_read_next_header(ps->raw, &e);
	}
	size_t n = 0;
	la_int64_t off;
	while (r == ARCHIVE_OK && n == 0)
		r = archive_read_data_block(ps->raw, buf, &n, &off);
	if (r == ARCHIVE_EOF) {
		ps->eof = true;
		return 0;
	}
	if (r < ARCHIVE_WARN) {
		if (ps->bs->failed)
			cst_error_move(&ps->err, &ps->bs->err);
		else
			cst_error_set(&ps->err, CST_E_IMAGE, "%s: %s: %s", ps->c->what, ps->what,
				      archive_error_string(ps->raw));
		ps->failed = true;
		archive_set_error(a, EIO, "%s", ps->err.msg ? ps->err.msg : "read error");
		return -1;
	}
	uint64_t max = ps->c->opts->max_bytes ? ps->c->opts->max_bytes : CST_REGISTRY_MAX_BYTES_DEFAULT;
	if (n > max - ps->c->expanded) {
		cst_error_set(&ps->err, CST_E_IMAGE,
			      "%s: %s expands past %llu bytes uncompressed, the bound for the whole image "
			      "(a decompression bomb? --registry-max-size raises it)",
			      ps->c->what, ps->what, (unsigned long long)max);
		ps->failed = true;
		archive_set_error(a, EFBIG, "%s", ps->err.msg ? ps->err.msg : "too large");
		return -1;
	}
	ps->c->expanded += n;
	return (la_ssize_t)n;
}

int reg_blob_layer(struct reg_client *c, const struct reg_layer *l, const struct cst_fs *fs,
		   struct cst_layer **ret, struct cst_error *err)
{
	char *path = NULL, *what = NULL;
	struct reg_xfer x = {.c = c};
	struct archive *raw = NULL, *a = NULL;
	struct blob_stream bs = {.x = &x, .err = CST_ERROR_INIT, .first = true};
	struct plain_stream ps = {.c = c, .bs = &bs, .err = CST_ERROR_INIT};
	struct cst_layer *layer = NULL;
	int r = -1;
	if (asprintf(&path, "/v2/%s/blobs/%s", c->ref.repo, l->digest) < 0 || asprintf(&what, "layer %s", l->digest) < 0) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	bs.what = ps.what = what;
	if (reg_open(c, &x, path, NULL, l->size, true, what, err) < 0)
		goto out;
	if (!(raw = archive_read_new()) || !(a = archive_read_new())) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(raw);
	archive_read_support_format_raw(raw);
	archive_read_support_format_empty(raw);
	if (archive_read_open(raw, &bs, NULL, blob_read, NULL) != ARCHIVE_OK) {
		if (bs.failed)
			cst_error_move(err, &bs.err);
		else
			cst_error_set(err, CST_E_IMAGE, "%s: %s: %s", c->what, what, archive_error_string(raw));
		goto out;
	}
	ps.raw = raw;
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open(a, &ps, NULL, plain_read, NULL) != ARCHIVE_OK) {
		if (ps.failed)
			cst_error_move(err, &ps.err);
		else
			cst_error_set(err, CST_E_IMAGE, "%s: %s: %s", c->what, what, archive_error_string(a));
		goto out;
	}
	if (cst_layer_read(a, fs, &layer, err) < 0) {
		/* The transfer's own failure, or the bound, explains a broken
		 * archive best. */
		if (ps.failed)
			cst_error_move(err, &ps.err);
		else
			cst_error_wrap(err, "%s: %s", c->what, what);
		goto out;
	}
	/* Past the end-of-archive marker: padding and the compressor's
	 * trailer, which the digest covers too. */
	if (reg_finish(&x, l->digest, l->size, what, err) < 0)
		goto out;
	*ret = layer;
	layer = NULL;
	r = 0;
out:
	if (a)
		archive_read_free(a);
	if (raw)
		archive_read_free(raw);
	cst_layer_free(layer);
	reg_xfer_release(&x);
	cst_error_clear(&bs.err);
	cst_error_clear(&ps.err);
	free(path);
	free(what);
	return r;
}
