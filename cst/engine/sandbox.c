/* Network sandboxes: one small container per job slot whose only work is
 * to hold a network namespace, joined by every command-test container of
 * that slot (HostConfig.NetworkMode "container:ID"), as a pod's containers
 * join its pause container.  Joining a namespace skips the engine's
 * creation of a network endpoint per container, the larger part of a
 * container's start (measured: 303 ms a container on the bridge, 134 ms
 * joining a sandbox).  The sandbox is created on the network the user
 * asked for, so tests keep its DNS and reach what it reaches.
 *
 * A slot runs one test at a time, so no two tests share the namespace
 * while they run; what a test leaves in it (a listening socket dies with
 * its process) is only what a test with network privileges could change,
 * and those run on networks of their own (dk_sandbox_may_join).
 *
 * The sandbox runs cst's own pause program (cst/pause/), carried in cst's
 * binary and imported into the engine once as the image cst-pause:TAG,
 * the tag naming cst's version and the program's bytes.  That image is
 * kept, like a pulled one: it is cst's, not a run's, and the next run
 * finds it (a look-up costs a few milliseconds; the import about 100).
 * When it cannot be imported or started (an engine of another
 * architecture, a runtime that cannot join namespaces), tests run on
 * networks of their own, as before, and -v info says so. */
#include "cst/engine/client.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "cst-version.h"

extern const unsigned char dk_pause_bin[];
extern const size_t dk_pause_bin_len;

#define PAUSE_REPO "cst-pause"
#define PAUSE_PATH "/pause"

bool dk_sandbox_network_ok(const char *network)
{
	if (!network || !*network)
		return true;
	/* none and host have no namespace of a container's own to share;
	 * container:X already joins one. */
	return strcmp(network, "none") != 0 && strcmp(network, "host") != 0 && strncmp(network, "container:", 10) != 0;
}

bool dk_sandbox_may_join(const struct cst_run_options *o)
{
	if (!o || !o->present)
		return true;
	/* Such a test may change the namespace (addresses, routes, firewall
	 * rules) and the next test of the slot would see it, which under CST
	 * it never does. */
	if (o->privileged)
		return false;
	for (size_t i = 0; i < o->capabilities.n; i++)
		if (o->capabilities.v[i].s)
			return false;
	return true;
}

/* FNV-1a: the tag changes whenever the program does. */
static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool image_exists(struct cst_docker *d, struct dk_conn *c, const char *ref, struct cst_error *err)
{
	char *path = dk_id_path(c, "/images/", ref, "/json");
	if (!path) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		return false;
	}
	struct dk_request r = {.path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	long status = 0;
	long st = dk_call(d, c, &r, &status, NULL, err);
	free(path);
	if (st < 0 && status == 404)
		cst_error_clear(err);
	return st >= 0;
}

/* The one-file tar of the pause program, in memory. */
static int pause_tar(char **ret, size_t *ret_len, struct cst_error *err)
{
	size_t cap = dk_pause_bin_len + 64 * 1024;
	char *buf = malloc(cap);
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t used = 0;
	int rc = -1;
	if (!buf || !a || !e) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	archive_entry_set_pathname(e, "pause");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0755);
	archive_entry_set_size(e, (la_int64_t)dk_pause_bin_len);
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK || archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK ||
	    archive_write_header(a, e) != ARCHIVE_OK ||
	    archive_write_data(a, dk_pause_bin, dk_pause_bin_len) != (la_ssize_t)dk_pause_bin_len ||
	    archive_write_close(a) != ARCHIVE_OK) {
		cst_error_set(err, CST_E_INTERNAL, "building the pause image's archive: %s", archive_error_string(a));
		goto out;
	}
	*ret = buf;
	*ret_len = used;
	buf = NULL;
	rc = 0;
out:
	archive_entry_free(e);
	if (a)
		archive_write_free(a);
	free(buf);
	return rc;
}

struct mem_reader {
	const char *p;
	size_t left;
};

static size_t mem_read(char *dst, size_t size, size_t nmemb, void *ud)
{
	struct mem_reader *m = ud;
	size_t n = size * nmemb < m->left ? size * nmemb : m->left;
	memcpy(dst, m->p, n);
	m->p += n;
	m->left -= n;
	return n;
}

/* The import answers 200 and tells a failure in its progress stream. */
static int import_reply_error(const struct cst_buf *reply, struct cst_error *err)
{
	const char *p = reply->data ? reply->data : "";
	const char *end = p + reply->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *j = json_loadb(p, len, 0, NULL);
		const char *msg = json_string_value(json_object_get(j, "error"));
		if (msg) {
			cst_error_set(err, CST_E_ENGINE, "%s", msg);
			json_decref(j);
			return -1;
		}
		json_decref(j);
		p += len + (nl ? 1 : 0);
	}
	return 0;
}

int dk_pause_image(struct cst_docker *d, struct dk_conn *c, char **ret_ref, struct cst_error *err)
{
	*ret_ref = NULL;
	if (dk_pause_bin_len == 0)
		return cst_error_set(err, CST_E_ENGINE, "cst was built without its pause program (no static C library)");
	char tag[64];
	snprintf(tag, sizeof(tag), "%s-%08x", CST_VERSION, (unsigned)fnv1a(dk_pause_bin, dk_pause_bin_len));
	char *ref = NULL;
	if (asprintf(&ref, PAUSE_REPO ":%s", tag) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	if (image_exists(d, c, ref, err)) {
		*ret_ref = ref;
		return 0;
	}
	if (err->code != CST_OK)
		goto fail;

	char *tar = NULL;
	size_t tar_len = 0;
	char *changes = dk_escape(c, "LABEL dev.cst.pause=" CST_VERSION);
	char *path = NULL;
	if (!changes || asprintf(&path, "/images/create?fromSrc=-&repo=" PAUSE_REPO "&tag=%s&changes=%s", tag, changes) < 0)
		path = NULL;
	free(changes);
	if (!path) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto fail;
	}
	if (pause_tar(&tar, &tar_len, err) < 0) {
		free(path);
		goto fail;
	}
	struct mem_reader m = {tar, tar_len};
	struct cst_buf reply;
	cst_buf_init(&reply, DK_REPLY_MAX);
	struct dk_request r = {
		.method = "POST",
		.path = path,
		.read_cb = mem_read,
		.read_ud = &m,
		.content_type = "application/x-tar",
		.reply = &reply,
		.timeout_ms = DK_SHORT_TIMEOUT_MS,
	};
	long st = dk_call(d, c, &r, NULL, NULL, err);
	free(path);
	free(tar);
	int bad = st < 0 ? -1 : import_reply_error(&reply, err);
	cst_buf_release(&reply);
	if (bad < 0)
		goto fail;
	*ret_ref = ref;
	return 0;
fail:
	free(ref);
	return cst_error_wrap(err, "importing the network sandbox image");
}

int dk_sandbox_start(struct cst_docker *d, struct dk_conn *c, const char *image, char **ret_id, struct cst_error *err)
{
	*ret_id = NULL;
	json_t *config = json_pack("{s:s, s:[s], s:[], s:{s:{s:s, s:{}}}, s:{s:s}}", "Image", image, "Entrypoint",
				   PAUSE_PATH, "Cmd", "HostConfig", "LogConfig", "Type", "none", "Config", "Labels",
				   "dev.cst.sandbox", "1");
	json_t *hc = json_object_get(config, "HostConfig");
	if (!config || (d->network && *d->network && json_object_set_new(hc, "NetworkMode", json_string(d->network)) < 0) ||
	    (d->runtime && *d->runtime && json_object_set_new(hc, "Runtime", json_string(d->runtime)) < 0)) {
		json_decref(config);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	/* The image is the engine's own architecture whatever --platform
	 * asks of the image under test. */
	int rc = dk_container_create_on(d, c, config, NULL, ret_id, err);
	json_decref(config);
	if (rc == 0)
		rc = dk_container_start(d, c, *ret_id, err);
	if (rc < 0 && *ret_id) {
		struct cst_error e = CST_ERROR_INIT;
		/* A failure here leaves it in the registry for cleanup. */
		dk_container_remove_leaving(d, c, *ret_id, &e);
		cst_error_clear(&e);
		free(*ret_id);
		*ret_id = NULL;
	}
	return rc < 0 ? cst_error_wrap(err, "starting a network sandbox") : 0;
}
