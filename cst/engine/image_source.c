/* The engine as an image source: metadata from inspect, the file system
 * from a created (never started) container: its export, or per-path
 * archive reads of the paths the tests look up (path_reads.c), whichever
 * costs less (read_plan.c).
 *
 * The export is one flattened tar of the whole file system, streamed into
 * libarchive as it arrives: libarchive pulls (its read callback asks for the
 * next block) while libcurl pushes (its write callback hands data over), so
 * the read callback drives a curl multi handle until a block is there.  One
 * container serves every file test and a second read pass; reading "/"
 * costs what reading one file costs.
 *
 * Per-path GET /containers/{id}/archive was measured against this (Debian
 * bookworm minbase, 117 MB, 6677 entries, engine 20.10): export 1.0 s,
 * archive of one file 0.07 s, of /usr/share/doc 0.11 s, of / 0.75 s.  Per
 * path wins for a few tests of a large image; the run declares every path
 * its checks will look up (cst_fs_need_path), and per-path reads fetch
 * those and every component their resolution walks through.
 *
 * What a file test sees is what CST's docker driver sees: a created
 * container's file system, so the engine's own files are part of it
 * (/.dockerenv, empty /etc/hosts, /etc/hostname and /etc/resolv.conf,
 * /dev/console, /dev/pts, /dev/shm, empty /proc and /sys, /etc/mtab ->
 * /proc/mounts), over whatever the image has there.  Configs test them.
 *
 * The index is saved in the index cache (index_cache.c) under the image's
 * ID, and a later run of the same image loads it instead:
 * no container, no export. */
#include "cst/engine/client.h"

#include <archive.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cst/progress.h"
#include "cst/signals.h"

/* Blocks handed to libarchive stay near this size; past it the transfer
 * pauses until libarchive has taken the block. */
#define EXPORT_BLOCK (256u << 10)

struct engine_src {
	struct cst_docker *d;
	char *image;
	char *container;
	long long size; /* from inspect; -1 when unknown */
	int64_t image_bytes; /* the inspect's Size; -1: unknown */
	char **volumes;      /* Config.Volumes' keys */
	size_t n_volumes;
};

/* The image name in a request path: '/' and ':' are kept as the docker
 * CLI sends them; anything else unusual is escaped. */
static char *image_path(struct dk_conn *c, const char *prefix, const char *image, const char *suffix)
{
	struct cst_buf b;
	cst_buf_init(&b, 0);
	int rc = cst_buf_puts(&b, prefix);
	for (const char *p = image; rc == 0 && *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/:._-@", *p))
			rc = cst_buf_append(&b, p, 1);
		else
			rc = cst_buf_printf(&b, "%%%02X", (unsigned char)*p);
	}
	if (rc == 0)
		rc = cst_buf_puts(&b, suffix);
	if (rc < 0) {
		cst_buf_release(&b);
		return NULL;
	}
	(void)c;
	return cst_buf_detach(&b, NULL);
}

/* What the reports name the image by, and the size the export's progress
 * is measured against. */
static int inspect_extras(json_t *root, struct cst_image_meta *m, struct cst_error *err)
{
	const char *id = json_string_value(json_object_get(root, "Id"));
	const char *digest = json_string_value(json_array_get(json_object_get(root, "RepoDigests"), 0));
	const char *variant = json_string_value(json_object_get(root, "Variant"));
	json_t *size = json_object_get(root, "Size");
	m->size = json_is_integer(size) ? (long long)json_integer_value(size) : -1;
	if ((id && !(m->id = strdup(id))) || (digest && !(m->repo_digest = strdup(digest))) ||
	    (variant && *variant && !(m->variant = strdup(variant))))
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	return 0;
}

static int engine_read_meta(struct cst_image_source *src, struct cst_image_meta *ret, struct cst_error *err)
{
	struct engine_src *s = src->priv;
	char *path = image_path(&s->d->conn, "/images/", s->image, "/json");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	json_t *root = NULL;
	long status = 0;
	long st = dk_call_json(s->d, &s->d->conn, &r, &root, &status, err);
	free(path);
	if (st < 0) {
		if (status == 404) {
			char *msg = err->msg ? strdup(err->msg) : NULL;
			cst_error_set(err, CST_E_IMAGE, "%s (use --pull to pull it)", msg ? msg : "No such image");
			free(msg);
		} else if (status == 400 && err->msg) {
			/* A malformed reference: the engine puts "no such image:
			 * NAME: " before the reason, which is not what went wrong. */
			char prefix[300];
			snprintf(prefix, sizeof(prefix), "no such image: %s: ", s->image);
			size_t n = strlen(prefix);
			char *why = strdup(strncasecmp(err->msg, prefix, n) == 0 ? err->msg + n : err->msg);
			cst_error_set(err, CST_E_USAGE, "image '%s': %s", s->image, why ? why : "invalid reference");
			free(why);
		}
		return -1;
	}
	int rc = cst_image_meta_from_json(root, s->image, ret, err);
	for (size_t i = 0; rc == 0 && i < ret->n_volumes; i++) {
		char **v = realloc(s->volumes, (s->n_volumes + 1) * sizeof(*v));
		if (!v || !(v[s->n_volumes] = strdup(ret->volumes[i]))) {
			if (v)
				s->volumes = v;
			rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
			break;
		}
		s->volumes = v;
		s->n_volumes++;
	}
	json_t *size = json_object_get(root, "Size");
	s->image_bytes = json_is_integer(size) && json_integer_value(size) >= 0 ? (int64_t)json_integer_value(size) : -1;
	const char *id = json_string_value(json_object_get(root, "Id"));
	if (rc == 0)
		rc = inspect_extras(root, ret, err);
	if (rc == 0)
		s->size = ret->size;
	if (rc == 0 && id && *id) {
		char *name = strdup(s->image);
		char *copy = strdup(id);
		if (!name || !copy) {
			free(name);
			free(copy);
			rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
		} else {
			free(s->d->pin_name);
			free(s->d->pin_id);
			s->d->pin_name = name;
			s->d->pin_id = copy;
		}
	}
	json_decref(root);
	return rc;
}

static int ensure_container(struct engine_src *s, struct cst_error *err)
{
	if (s->container)
		return 0;
	bool pinned = s->d->pin_id && s->d->pin_name && strcmp(s->d->pin_name, s->image) == 0;
	json_t *cfg = json_object();
	json_t *cmd = json_array();
	if (!cfg || !cmd || json_array_append_new(cmd, json_string("cst-export")) < 0 ||
	    json_object_set_new(cfg, "Image", json_string(pinned ? s->d->pin_id : s->image)) < 0 ||
	    json_object_set_new(cfg, "Entrypoint", json_array()) < 0 || json_object_set_new(cfg, "Cmd", cmd) < 0 ||
	    json_object_set_new(cfg, "NetworkDisabled", json_true()) < 0) {
		if (!cfg)
			json_decref(cmd);
		json_decref(cfg);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	int rc = dk_container_create(s->d, &s->d->conn, cfg, &s->container, err);
	json_decref(cfg);
	if (rc < 0)
		return cst_error_wrap(err, "creating a container of '%s' to read its files", s->image);
	return 0;
}

struct export_stream {
	CURLM *multi;
	struct dk_conn *conn;
	struct dk_xfer x;
	bool added;
	bool done;
	bool paused;
	struct cst_buf block;
	struct cst_error err;
	bool failed;
	long status;
	struct cst_progress *meter;
};

static size_t export_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct export_stream *es = ud;
	if (es->block.len >= EXPORT_BLOCK) {
		es->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (cst_buf_append(&es->block, p, size * nmemb) < 0)
		return 0;
	return size * nmemb;
}

/* Runs the transfer until the block holds data or it ends. */
static int export_pump(struct export_stream *es)
{
	if (es->paused) {
		es->paused = false;
		curl_easy_pause(es->conn->curl, CURLPAUSE_CONT);
	}
	while (es->block.len == 0 && !es->done) {
		int running = 0;
		CURLMcode mc = curl_multi_perform(es->multi, &running);
		if (mc != CURLM_OK) {
			cst_error_set(&es->err, CST_E_ENGINE, "reading the export: %s", curl_multi_strerror(mc));
			es->failed = true;
			return -1;
		}
		int left;
		CURLMsg *m;
		while ((m = curl_multi_info_read(es->multi, &left)))
			if (m->msg == CURLMSG_DONE) {
				es->done = true;
				curl_multi_remove_handle(es->multi, es->conn->curl);
				es->added = false;
				if (dk_xfer_finish(es->conn, &es->x, m->data.result, &es->status, NULL, &es->err) < 0) {
					es->failed = true;
					return -1;
				}
			}
		if (es->block.len || es->done)
			break;
		if (es->paused)
			continue;
		curl_multi_poll(es->multi, NULL, 0, 1000, NULL);
	}
	return 0;
}

static la_ssize_t export_read(struct archive *a, void *ud, const void **buf)
{
	struct export_stream *es = ud;
	cst_buf_reset(&es->block);
	if (export_pump(es) < 0) {
		archive_set_error(a, EIO, "%s", es->err.msg ? es->err.msg : "export failed");
		return -1;
	}
	cst_progress_add(es->meter, es->block.len);
	*buf = es->block.data;
	return (la_ssize_t)es->block.len;
}

/* Streams GET path, a container's export (one flat layer), into
 * libarchive. */
static int read_stream(struct engine_src *s, const char *path, struct cst_fs *fs, struct cst_error *err)
{
	struct cst_docker *d = s->d;
	char what[256];
	snprintf(what, sizeof(what), "reading %s", s->image);
	struct export_stream es = {
		.conn = &d->conn,
		.err = CST_ERROR_INIT,
		.meter = cst_progress_start(d->meter, what, s->size > 0 ? (uint64_t)s->size : 0, CST_PROGRESS_BYTES),
	};
	cst_buf_init(&es.block, 0);
	struct dk_request r = {.path = path, .write_cb = export_write, .write_ud = &es};
	struct archive *a = NULL;
	int rc = -1;

	if (!path || !(es.multi = curl_multi_init())) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	if (dk_xfer_prepare(d, &d->conn, &r, &es.x, err) < 0)
		goto out;
	if (curl_multi_add_handle(es.multi, d->conn.curl) != CURLM_OK) {
		cst_error_set(err, CST_E_INTERNAL, "curl_multi_add_handle failed");
		goto out;
	}
	es.added = true;

	a = archive_read_new();
	if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	if (archive_read_open(a, &es, NULL, export_read, NULL) != ARCHIVE_OK) {
		if (es.failed)
			cst_error_move(err, &es.err);
		else
			cst_error_set(err, CST_E_IMAGE, "the export of '%s': %s", s->image, archive_error_string(a));
		goto out;
	}
	if (cst_fs_read_flat_layer(a, fs, err) < 0) {
		/* The transfer's own failure explains a broken archive best. */
		if (es.failed)
			cst_error_move(err, &es.err);
		goto out;
	}
	/* Past the end-of-archive marker only padding is left; draining it
	 * lets the transfer finish cleanly. */
	while (!es.done && !es.failed) {
		cst_buf_reset(&es.block);
		if (export_pump(&es) < 0)
			break;
	}
	if (es.failed) {
		cst_error_move(err, &es.err);
		goto out;
	}
	rc = 0;
out:
	if (a)
		archive_read_free(a);
	if (es.added)
		curl_multi_remove_handle(es.multi, d->conn.curl);
	dk_xfer_release(&es.x);
	if (es.multi)
		curl_multi_cleanup(es.multi);
	cst_buf_release(&es.block);
	cst_error_clear(&es.err);
	cst_progress_stop(es.meter);
	if (rc < 0 && err->code == CST_OK)
		cst_error_set(err, CST_E_ENGINE, "reading the files of '%s' failed", s->image);
	return rc;
}

static void plan_note(const struct cst_docker *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void plan_note(const struct cst_docker *d, const char *fmt, ...)
{
	if (!d->info || !d->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("cst: ", d->progress);
	vfprintf(d->progress, fmt, ap);
	fputc('\n', d->progress);
	va_end(ap);
}

/* CST reads a file through an archive request on a created container,
 * for which the engine mounts the image's volumes, making each mount
 * point (a directory where the image has none) in the container's own
 * layer.  The export never mounts them: one stat first makes the engine
 * do the same, so that a volume without files in the image is there as
 * CST sees it. */
static int make_mount_points(struct engine_src *s, struct cst_error *err)
{
	struct cst_docker *d = s->d;
	char *path = image_path(&d->conn, "/containers/", s->container, "/archive?path=/");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.method = "HEAD", .path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	long st = dk_call(d, &d->conn, &r, NULL, NULL, err);
	free(path);
	return st < 0 ? cst_error_wrap(err, "mounting the image's volumes") : 0;
}

static int read_export(struct engine_src *s, struct cst_fs *fs, struct cst_error *err)
{
	struct cst_docker *d = s->d;
	if (ensure_container(s, err) < 0)
		return -1;
	if (s->n_volumes && make_mount_points(s, err) < 0)
		return cst_error_wrap(err, "reading the files of '%s'", s->image);
	char *path = image_path(&d->conn, "/containers/", s->container, "/export");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	int rc = read_stream(s, path, fs, err);
	free(path);
	if (rc < 0)
		return cst_error_wrap(err, "reading the files of '%s'", s->image);
	dk_cache_store(d, fs);
	return 0;
}

static const char *container_for_paths(void *ud, struct cst_error *err)
{
	struct engine_src *s = ud;
	return ensure_container(s, err) < 0 ? NULL : s->container;
}

static int read_paths(struct engine_src *s, struct cst_fs *fs, struct cst_error *err)
{
	struct cst_docker *d = s->d;
	/* What earlier per-path runs learnt: only the rest is asked for. */
	dk_cache_load_paths(d, fs);
	struct dk_path_stats st;
	int64_t t0 = dk_mono_ms();
	struct dk_container_src cs = {.get = container_for_paths, .ud = s, .volumes = s->volumes,
				      .n_volumes = s->n_volumes};
	const char *volume = NULL;
	int rc = dk_read_paths(d, &cs, fs, &st, &volume, err);
	if (rc < 0)
		return cst_error_wrap(err, "reading the files of '%s' path by path", s->image);
	if (rc == 1) {
		plan_note(d, "read plan: the export after all: a test looks into %s, a volume of the image, which "
			  "an archive request shows mounted and the export does not",
			  volume);
		cst_fs_clear(fs);
		return read_export(s, fs, err);
	}
	plan_note(d, "per-path reads: %zu requests (%zu stats) in %zu rounds, %zu bytes, %lld ms", st.requests,
		  st.heads, st.rounds, st.bytes, (long long)(dk_mono_ms() - t0));
	if (st.requests)
		dk_cache_store_paths(d, fs);
	return 0;
}

static int engine_read_fs(struct cst_image_source *src, struct cst_fs *fs, struct cst_error *err)
{
	struct engine_src *s = src->priv;
	struct cst_docker *d = s->d;
	const char *tree = cst_fs_tree_needed(fs);
	d->export_mounts = s->n_volumes > 0;
	/* A saved export answers everything at once; a forced per-path run
	 * reads path by path all the same (that is what it is for). */
	if ((d->read_plan != DK_PLAN_PATHS || tree) && dk_cache_load(d, fs)) {
		plan_note(d, "read plan: the saved index of the export");
		return 0;
	}
	struct dk_plan_input in = {
		.forced = (enum dk_read_plan)d->read_plan,
		.tree_why = tree,
		.image_bytes = s->image_bytes,
		.n_paths = cst_fs_n_needs(fs),
		.n_requests = dk_paths_estimate(fs),
	};
	char why[400];
	enum dk_read_plan plan = dk_read_plan_choose(&dk_read_costs_default, &in, why, sizeof(why));
	plan_note(d, "read plan: %s", why);
	if (plan == DK_PLAN_PATHS)
		return read_paths(s, fs, err);
	return read_export(s, fs, err);
}

static void engine_close(struct cst_image_source *src)
{
	struct engine_src *s = src->priv;
	if (s->container && !s->d->save) {
		struct cst_error e = CST_ERROR_INIT;
		/* On failure the registry still holds it for cleanup. */
		dk_container_remove(s->d, &s->d->conn, s->container, &e);
		cst_error_clear(&e);
	}
	free(s->container);
	for (size_t i = 0; i < s->n_volumes; i++)
		free(s->volumes[i]);
	free(s->volumes);
	free(s->image);
	free(s);
	free(src);
}

static const struct cst_image_source_ops engine_ops = {
	.name = "engine",
	.read_meta = engine_read_meta,
	.read_fs = engine_read_fs,
	.close = engine_close,
};

int cst_docker_image_source(struct cst_docker *d, const char *image, struct cst_image_source **ret,
			    struct cst_error *err)
{
	struct cst_image_source *src = calloc(1, sizeof(*src));
	struct engine_src *s = calloc(1, sizeof(*s));
	if (!src || !s || !(s->image = strdup(image))) {
		free(src);
		free(s);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	s->d = d;
	s->image_bytes = -1;
	src->ops = &engine_ops;
	src->priv = s;
	*ret = src;
	return 0;
}
