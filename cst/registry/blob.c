/* A layer blob streamed from the registry through libarchive into a staged
 * layer: gzip, zstd or plain tar, told apart by libarchive from the bytes
 * (media types lie less often than they are missing).  The blob's digest
 * and size are checked after its last byte; a layer whose check fails is
 * dropped, never applied. */
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

int reg_blob_layer(struct reg_client *c, const struct reg_layer *l, const struct cst_fs *fs,
		   struct cst_layer **ret, struct cst_error *err)
{
	char *path = NULL, *what = NULL;
	struct reg_xfer x = {.c = c};
	struct archive *a = NULL;
	struct blob_stream bs = {.x = &x, .err = CST_ERROR_INIT, .first = true};
	struct cst_layer *layer = NULL;
	int r = -1;
	if (asprintf(&path, "/v2/%s/blobs/%s", c->ref.repo, l->digest) < 0 || asprintf(&what, "layer %s", l->digest) < 0) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	bs.what = what;
	if (reg_open(c, &x, path, NULL, l->size, true, what, err) < 0)
		goto out;
	if (!(a = archive_read_new())) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open(a, &bs, NULL, blob_read, NULL) != ARCHIVE_OK) {
		if (bs.failed)
			cst_error_move(err, &bs.err);
		else
			cst_error_set(err, CST_E_IMAGE, "%s: %s: %s", c->what, what, archive_error_string(a));
		goto out;
	}
	if (cst_layer_read(a, fs, &layer, err) < 0) {
		/* The transfer's own failure explains a broken archive best. */
		if (bs.failed)
			cst_error_move(err, &bs.err);
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
	cst_layer_free(layer);
	reg_xfer_release(&x);
	cst_error_clear(&bs.err);
	free(path);
	free(what);
	return r;
}
