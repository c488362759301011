/* --image-from-oci-layout with the docker driver: the layout directory is
 * sent to POST /images/load as a tar made on the fly (libarchive writes it
 * into a socket pair from a thread while libcurl reads the other end), and
 * the loaded image's reference is taken from the reply.
 *
 * Engines before 25.0 load only the docker-save shape, which needs a
 * manifest.json; when the layout has none, one is made from index.json (the
 * manifest for the wanted platform, its config and layers), and the image
 * is loaded by ID without tagging anything. */
#include "cst/engine/client.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

static char *blob_path(const char *digest)
{
	const char *colon = digest ? strchr(digest, ':') : NULL;
	if (!colon || strchr(colon + 1, '/') || colon == digest)
		return NULL;
	char *p = NULL;
	if (asprintf(&p, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1) < 0)
		return NULL;
	return p;
}

static json_t *load_json(const char *dir, const char *rel, struct cst_error *err)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s", dir, rel) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory"), NULL;
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		cst_error_set(err, CST_E_IMAGE, "%s: %s", path, je.text);
	free(path);
	return j;
}

static void host_platform(const char *platform, char *os, char *arch, size_t size)
{
	if (platform && *platform) {
		const char *slash = strchr(platform, '/');
		snprintf(os, size, "%.*s", slash ? (int)(slash - platform) : (int)strlen(platform), platform);
		snprintf(arch, size, "%.*s", slash ? (int)strcspn(slash + 1, "/") : 0, slash ? slash + 1 : "");
		return;
	}
	struct utsname u;
	snprintf(os, size, "linux");
	snprintf(arch, size, "amd64");
	if (uname(&u) == 0) {
		if (strcmp(u.machine, "aarch64") == 0)
			snprintf(arch, size, "arm64");
		else if (strcmp(u.machine, "x86_64") != 0)
			snprintf(arch, size, "%s", u.machine);
	}
}

/* The image manifest descriptor for the platform, descending nested
 * indexes; a single manifest is taken whatever its platform says. */
static int pick_manifest(const char *dir, json_t *index, const char *os, const char *arch, int depth, json_t **ret,
			 struct cst_error *err)
{
	json_t *list = json_object_get(index, "manifests");
	if (!json_array_size(list))
		return cst_error_set(err, CST_E_IMAGE, "%s: the index lists no manifests", dir);
	size_t i;
	json_t *m, *chosen = NULL;
	json_array_foreach(list, i, m) {
		json_t *p = json_object_get(m, "platform");
		const char *mos = json_string_value(json_object_get(p, "os"));
		const char *march = json_string_value(json_object_get(p, "architecture"));
		if (json_array_size(list) == 1 || !p || (mos && march && !strcmp(mos, os) && !strcmp(march, arch))) {
			chosen = m;
			break;
		}
	}
	if (!chosen)
		return cst_error_set(err, CST_E_IMAGE, "%s: no manifest for %s/%s", dir, os, arch);
	const char *mt = json_string_value(json_object_get(chosen, "mediaType"));
	if (mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST))) {
		if (depth > 4)
			return cst_error_set(err, CST_E_IMAGE, "%s: indexes nested too deep", dir);
		char *bp = blob_path(json_string_value(json_object_get(chosen, "digest")));
		if (!bp)
			return cst_error_set(err, CST_E_IMAGE, "%s: a malformed digest in the index", dir);
		json_t *sub = load_json(dir, bp, err);
		free(bp);
		if (!sub)
			return -1;
		int rc = pick_manifest(dir, sub, os, arch, depth + 1, ret, err);
		json_decref(sub);
		return rc;
	}
	*ret = json_incref(chosen);
	return 0;
}

/* manifest.json of the docker-save shape for the layout. */
static int make_docker_manifest(const char *dir, const char *platform, char **ret, struct cst_error *err)
{
	char os[80], arch[80];
	host_platform(platform, os, arch, sizeof(os));
	json_t *index = load_json(dir, "index.json", err);
	json_t *desc = NULL, *manifest = NULL, *out = NULL;
	char *mpath = NULL;
	int rc = -1;
	if (!index || pick_manifest(dir, index, os, arch, 0, &desc, err) < 0)
		goto out;
	if (!(mpath = blob_path(json_string_value(json_object_get(desc, "digest"))))) {
		cst_error_set(err, CST_E_IMAGE, "%s: a malformed manifest digest", dir);
		goto out;
	}
	if (!(manifest = load_json(dir, mpath, err)))
		goto out;
	char *cfg = blob_path(json_string_value(json_object_get(json_object_get(manifest, "config"), "digest")));
	json_t *layers = json_array();
	json_t *entry = json_pack("{s:s, s:n, s:O}", "Config", cfg, "RepoTags", "Layers", layers);
	out = json_array();
	if (!cfg || !layers || !entry || !out || json_array_append(out, entry) < 0) {
		free(cfg);
		json_decref(layers);
		json_decref(entry);
		cst_error_set(err, CST_E_IMAGE, "%s: the manifest has no usable config", dir);
		goto out;
	}
	free(cfg);
	json_decref(entry);
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(manifest, "layers"), i, l) {
		char *lp = blob_path(json_string_value(json_object_get(l, "digest")));
		if (!lp || json_array_append_new(layers, json_string(lp)) < 0) {
			free(lp);
			json_decref(layers);
			cst_error_set(err, CST_E_IMAGE, "%s: a malformed layer digest", dir);
			goto out;
		}
		free(lp);
	}
	json_decref(layers);
	if (!(*ret = json_dumps(out, JSON_COMPACT))) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(mpath);
	json_decref(index);
	json_decref(desc);
	json_decref(manifest);
	json_decref(out);
	return rc;
}

struct producer {
	const char *dir;
	const char *manifest; /* to add, or NULL */
	int fd;               /* write end */
	struct cst_error err;
};

static la_ssize_t producer_write(struct archive *a, void *ud, const void *p, size_t n)
{
	struct producer *pr = ud;
	const char *s = p;
	size_t done = 0;
	while (done < n) {
		/* No SIGPIPE when the engine gave up and the reader closed. */
		ssize_t w = send(pr->fd, s + done, n - done, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			archive_set_error(a, errno, "sending the layout: %s", strerror(errno));
			return -1;
		}
		done += (size_t)w;
	}
	return (la_ssize_t)n;
}

static int copy_tree(struct producer *pr, struct archive *out)
{
	struct archive *disk = archive_read_disk_new();
	struct archive_entry *entry = archive_entry_new();
	size_t prefix = strlen(pr->dir);
	char buf[65536];
	int rc = -1;
	if (!disk || !entry) {
		cst_error_set(&pr->err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_standard_lookup(disk);
	if (archive_read_disk_open(disk, pr->dir) != ARCHIVE_OK) {
		cst_error_set(&pr->err, CST_E_IO, "%s: %s", pr->dir, archive_error_string(disk));
		goto out;
	}
	for (;;) {
		int r = archive_read_next_header2(disk, entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			cst_error_set(&pr->err, CST_E_IO, "%s: %s", pr->dir, archive_error_string(disk));
			goto out;
		}
		archive_read_disk_descend(disk);
		const char *name = archive_entry_pathname(entry);
		if (!name || strlen(name) <= prefix)
			continue; /* the directory itself */
		const char *rel = name + prefix;
		while (*rel == '/')
			rel++;
		if (!*rel || (pr->manifest && strcmp(rel, "manifest.json") == 0))
			continue;
		char *copy = strdup(rel);
		if (!copy) {
			cst_error_set(&pr->err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		archive_entry_set_pathname(entry, copy);
		free(copy);
		if (archive_write_header(out, entry) < ARCHIVE_WARN) {
			cst_error_set(&pr->err, CST_E_ENGINE, "%s", archive_error_string(out));
			goto out;
		}
		if (archive_entry_filetype(entry) != AE_IFREG)
			continue;
		la_ssize_t n;
		while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0)
			if (archive_write_data(out, buf, (size_t)n) < 0) {
				cst_error_set(&pr->err, CST_E_ENGINE, "%s", archive_error_string(out));
				goto out;
			}
		if (n < 0) {
			cst_error_set(&pr->err, CST_E_IO, "%s: %s", name, archive_error_string(disk));
			goto out;
		}
	}
	rc = 0;
out:
	if (disk)
		archive_read_free(disk);
	archive_entry_free(entry);
	return rc;
}

static void *producer_main(void *ud)
{
	struct producer *pr = ud;
	struct archive *out = archive_write_new();
	if (!out || archive_write_set_format_pax_restricted(out) != ARCHIVE_OK ||
	    archive_write_open(out, pr, NULL, producer_write, NULL) != ARCHIVE_OK) {
		cst_error_set(&pr->err, CST_E_NOMEM, "cannot start the layout archive");
		goto out;
	}
	if (copy_tree(pr, out) < 0)
		goto out;
	if (pr->manifest) {
		struct archive_entry *e = archive_entry_new();
		size_t n = strlen(pr->manifest);
		if (!e) {
			cst_error_set(&pr->err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		archive_entry_set_pathname(e, "manifest.json");
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)n);
		int bad = archive_write_header(out, e) < ARCHIVE_WARN || archive_write_data(out, pr->manifest, n) < 0;
		archive_entry_free(e);
		if (bad) {
			cst_error_set(&pr->err, CST_E_ENGINE, "%s", archive_error_string(out));
			goto out;
		}
	}
	if (archive_write_close(out) != ARCHIVE_OK)
		cst_error_set(&pr->err, CST_E_ENGINE, "%s", archive_error_string(out));
out:
	if (out)
		archive_write_free(out);
	/* EOF for the reader: the request body ends here. */
	shutdown(pr->fd, SHUT_WR);
	return NULL;
}

static size_t consumer_read(char *p, size_t size, size_t nmemb, void *ud)
{
	int fd = *(int *)ud;
	for (;;) {
		ssize_t n = read(fd, p, size * nmemb);
		if (n >= 0)
			return (size_t)n;
		if (errno != EINTR)
			return CURL_READFUNC_ABORT;
	}
}

/* The reference from the reply's "Loaded image: x" or "Loaded image ID: y". */
static int loaded_ref(const struct cst_buf *reply, char **ret, struct cst_error *err)
{
	const char *p = reply->data ? reply->data : "";
	const char *end = p + reply->len;
	char *ref = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		json_t *msg = json_loadb(p, (size_t)(le - p), 0, NULL);
		const char *error = json_string_value(json_object_get(msg, "error"));
		const char *stream = json_string_value(json_object_get(msg, "stream"));
		if (error) {
			cst_error_set(err, CST_E_IMAGE, "loading the layout: %s", error);
			json_decref(msg);
			free(ref);
			return -1;
		}
		const char *v = NULL;
		if (stream && strncmp(stream, "Loaded image ID: ", 17) == 0)
			v = stream + 17;
		else if (stream && strncmp(stream, "Loaded image: ", 14) == 0)
			v = stream + 14;
		/* A tag names the image better than its ID. */
		if (v && (!ref || strncmp(stream, "Loaded image: ", 14) == 0)) {
			free(ref);
			ref = strndup(v, strcspn(v, "\r\n"));
		}
		json_decref(msg);
		p = nl ? nl + 1 : end;
	}
	if (!ref)
		return cst_error_set(err, CST_E_IMAGE, "the engine loaded the layout but named no image");
	*ret = ref;
	return 0;
}

int cst_docker_load_oci_layout(struct cst_docker *d, const char *dir, char **ret_ref, struct cst_error *err)
{
	char *manifest = NULL;
	char *probe = NULL;
	struct stat st;
	if (asprintf(&probe, "%s/manifest.json", dir) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	bool has_manifest = stat(probe, &st) == 0;
	free(probe);
	if (!has_manifest && make_docker_manifest(dir, d->platform, &manifest, err) < 0)
		return cst_error_wrap(err, "reading the OCI layout");

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(manifest);
		return cst_error_set(err, CST_E_IO, "socketpair: %s", strerror(errno));
	}
	struct producer pr = {.dir = dir, .manifest = manifest, .fd = sv[1], .err = CST_ERROR_INIT};
	pthread_t tid;
	if (pthread_create(&tid, NULL, producer_main, &pr) != 0) {
		close(sv[0]);
		close(sv[1]);
		free(manifest);
		return cst_error_set(err, CST_E_INTERNAL, "cannot start a thread");
	}
	struct cst_buf reply;
	cst_buf_init(&reply, DK_REPLY_MAX);
	struct dk_request r = {
		.method = "POST",
		.path = "/images/load?quiet=1",
		.read_cb = consumer_read,
		.read_ud = &sv[0],
		.content_type = "application/x-tar",
		.reply = &reply,
	};
	long rc = dk_call(d, &d->conn, &r, NULL, NULL, err);
	/* Unblocks the producer if the engine stopped reading early. */
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(tid, NULL);
	close(sv[0]);
	close(sv[1]);
	free(manifest);
	/* A refused send only echoes the engine's own error. */
	if (pr.err.code != CST_OK && (rc >= 0 || pr.err.code != CST_E_ENGINE)) {
		cst_error_move(err, &pr.err);
		cst_buf_release(&reply);
		return cst_error_wrap(err, "sending the OCI layout %s to the engine", dir);
	}
	cst_error_clear(&pr.err);
	if (rc < 0) {
		cst_buf_release(&reply);
		return cst_error_wrap(err, "loading the OCI layout %s", dir);
	}
	int lr = loaded_ref(&reply, ret_ref, err);
	cst_buf_release(&reply);
	return lr;
}
