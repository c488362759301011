/* Removing what dead earlier runs left in the engine.
 *
 * A run removes everything it created on every way out it controls; a
 * SIGKILL, a crash or an engine restarted under it leave containers and
 * committed images behind.  Their labels say which process made them and
 * where that pid means something (DK_LABEL_HOST: boot id and pid
 * namespace), so a later run on the same host can tell a dead run's
 * objects from those of a run still going, and never touches what a cst
 * on another machine or in another pid namespace sharing the engine made. */
#include "cst/engine/client.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cst/signals.h"

/* Whether the labels name a run of this host whose process is gone. */
static bool is_stale(const struct cst_docker *d, const json_t *labels)
{
	const char *run = json_string_value(json_object_get(labels, DK_LABEL_RUN));
	const char *pid = json_string_value(json_object_get(labels, DK_LABEL_PID));
	const char *host = json_string_value(json_object_get(labels, DK_LABEL_HOST));
	if (!run || !pid || !host || strcmp(host, d->host) != 0 || strcmp(run, d->run_id) == 0)
		return false;
	char *end;
	errno = 0;
	long v = strtol(pid, &end, 10);
	if (end == pid || *end || errno || v <= 1 || v > INT_MAX)
		return false;
	/* Our own pid under another run id: that run's process is gone, its
	 * pid reused by us. */
	if ((pid_t)v == getpid())
		return true;
	/* EPERM means a process of another user lives there: not stale. */
	return kill((pid_t)v, 0) == -1 && errno == ESRCH;
}

static int list_host_objects(struct cst_docker *d, bool images, json_t **ret, struct cst_error *err)
{
	json_t *f = json_pack("{s:[s, s+]}", "label", DK_LABEL_RUN, DK_LABEL_HOST "=", d->host);
	char *fs = f ? json_dumps(f, JSON_COMPACT) : NULL;
	json_decref(f);
	char *ef = fs ? dk_escape(&d->conn, fs) : NULL;
	free(fs);
	char *path = NULL;
	if (!ef || asprintf(&path, "%s?all=1&filters=%s", images ? "/images/json" : "/containers/json", ef) < 0)
		path = NULL;
	free(ef);
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	long st = dk_call_json(d, &d->conn, &r, ret, NULL, err);
	free(path);
	if (st >= 0 && !json_is_array(*ret)) {
		json_decref(*ret);
		*ret = NULL;
		return cst_error_set(err, CST_E_ENGINE, "listing %s: the engine's reply is not a list",
				     images ? "images" : "containers");
	}
	return st < 0 ? -1 : 0;
}

static int newest_first(const void *a, const void *b)
{
	json_int_t ca = json_integer_value(json_object_get(*(json_t *const *)a, "Created"));
	json_int_t cb = json_integer_value(json_object_get(*(json_t *const *)b, "Created"));
	return ca < cb ? 1 : (ca > cb ? -1 : 0);
}

struct reap_count {
	size_t containers;
	size_t images;
	size_t failed;
	struct cst_error first; /* of the failed */
};

static int reap_kind(struct cst_docker *d, bool images, struct reap_count *n, struct cst_error *err)
{
	json_t *list = NULL;
	if (list_host_objects(d, images, &list, err) < 0)
		return -1;
	size_t len = json_array_size(list);
	json_t **items = calloc(len ? len : 1, sizeof(*items));
	if (!items) {
		json_decref(list);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		json_t *item = json_array_get(list, i);
		if (json_string_value(json_object_get(item, "Id")) && is_stale(d, json_object_get(item, "Labels")))
			items[k++] = item;
	}
	/* Committed setup images are chained: children go before parents. */
	if (images)
		qsort(items, k, sizeof(*items), newest_first);
	int rc = 0;
	for (size_t i = 0; i < k; i++) {
		if (cst_signal_check(err) < 0) {
			rc = -1;
			break;
		}
		const char *id = json_string_value(json_object_get(items[i], "Id"));
		struct cst_error e = CST_ERROR_INIT;
		int r = images ? dk_image_remove(d, &d->conn, id, &e) : dk_container_remove_leaving(d, &d->conn, id, &e);
		if (r == 0) {
			if (images)
				n->images++;
			else
				n->containers++;
		} else {
			n->failed++;
			if (n->first.code == CST_OK)
				cst_error_move(&n->first, &e);
		}
		cst_error_clear(&e);
	}
	free(items);
	json_decref(list);
	return rc;
}

int cst_docker_reap_stale(struct cst_docker *d, struct cst_error *err)
{
	if (!d->host[0])
		return 0;
	struct reap_count n = {.first = CST_ERROR_INIT};
	struct cst_error e = CST_ERROR_INIT;
	int rc = 0;
	/* Containers first: an image in use by one cannot go. */
	for (int images = 0; images <= 1; images++)
		if (reap_kind(d, images, &n, &e) < 0) {
			if (e.code == CST_E_INTERRUPTED) {
				cst_error_move(err, &e);
				rc = -1;
				break;
			}
			n.failed++;
			if (n.first.code == CST_OK)
				cst_error_move(&n.first, &e);
			cst_error_clear(&e);
		}
	size_t removed = n.containers + n.images;
	if (removed && d->progress)
		fprintf(d->progress,
			"cst: removed %zu leftover%s of earlier cst runs that ended without cleaning up "
			"(%zu container%s, %zu image%s)\n",
			removed, removed == 1 ? "" : "s", n.containers, n.containers == 1 ? "" : "s", n.images,
			n.images == 1 ? "" : "s");
	if (n.failed && d->progress && rc == 0)
		fprintf(d->progress, "cst: could not remove leftovers of earlier cst runs: %s\n",
			n.first.msg ? n.first.msg : "unknown error");
	cst_error_clear(&n.first);
	return rc;
}
