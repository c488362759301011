/* Container lifecycle and the registry of everything this run created.
 *
 * Every container and committed image is labelled with the run id and
 * recorded here before anything else can fail, so that cleanup finds it
 * whichever way the run ends.  Cleanup also asks the engine for objects
 * carrying the run label: a create whose reply was lost to a signal still
 * left a container behind. */
#include "cst/engine/client.h"

#include <stdlib.h>
#include <string.h>

#include "cst/signals.h"

int dk_registry_add(struct cst_docker *d, const char *id, bool is_image)
{
	int rc = 0;
	pthread_mutex_lock(&d->lock);
	if (d->n_objs == d->cap_objs) {
		size_t cap = d->cap_objs ? 2 * d->cap_objs : 16;
		struct dk_object *o = realloc(d->objs, cap * sizeof(*o));
		if (!o) {
			rc = -1;
			goto out;
		}
		d->objs = o;
		d->cap_objs = cap;
	}
	char *copy = strdup(id);
	if (!copy) {
		rc = -1;
		goto out;
	}
	d->objs[d->n_objs++] = (struct dk_object){copy, is_image, false};
out:
	pthread_mutex_unlock(&d->lock);
	return rc;
}

void dk_registry_forget(struct cst_docker *d, const char *id)
{
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->n_objs; i++)
		if (!d->objs[i].gone && strcmp(d->objs[i].id, id) == 0)
			d->objs[i].gone = true;
	pthread_mutex_unlock(&d->lock);
}

int dk_add_labels(struct cst_docker *d, json_t *config)
{
	json_t *labels = json_object_get(config, "Labels");
	if (!labels) {
		labels = json_object();
		if (!labels || json_object_set_new(config, "Labels", labels) < 0)
			return -1;
	}
	if (json_object_set_new(labels, DK_LABEL_RUN, json_string(d->run_id)) < 0 ||
	    json_object_set_new(labels, DK_LABEL_PID, json_string(d->pid)) < 0)
		return -1;
	return 0;
}

/* prefix + escaped id + suffix */
static char *id_path(struct dk_conn *c, const char *prefix, const char *id, const char *suffix)
{
	char *eid = dk_escape(c, id);
	char *path = NULL;
	if (eid && asprintf(&path, "%s%s%s", prefix, eid, suffix) < 0)
		path = NULL;
	free(eid);
	return path;
}

int dk_container_create(struct cst_docker *d, struct dk_conn *c, json_t *config, char **ret_id,
			struct cst_error *err)
{
	if (cst_signal_check(err) < 0)
		return -1;
	if (dk_add_labels(d, config) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	char *path = NULL;
	if (d->platform) {
		char *ep = dk_escape(c, d->platform);
		if (!ep || asprintf(&path, "/containers/create?platform=%s", ep) < 0)
			path = NULL;
		free(ep);
	} else {
		path = strdup("/containers/create");
	}
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.method = "POST", .path = path, .json = config, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	json_t *reply = NULL;
	long st = dk_call_json(d, c, &r, &reply, NULL, err);
	free(path);
	if (st < 0)
		return -1;
	const char *id = json_string_value(json_object_get(reply, "Id"));
	if (!id || !*id) {
		json_decref(reply);
		return cst_error_set(err, CST_E_ENGINE, "the engine created a container but sent no Id");
	}
	char *copy = strdup(id);
	json_decref(reply);
	if (!copy || dk_registry_add(d, copy, false) < 0) {
		free(copy);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	*ret_id = copy;
	return 0;
}

int dk_container_start(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err)
{
	if (cst_signal_check(err) < 0)
		return -1;
	char *path = id_path(c, "/containers/", id, "/start");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.method = "POST", .path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	long st = dk_call(d, c, &r, NULL, NULL, err);
	free(path);
	return st < 0 ? -1 : 0;
}

static int container_kill(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err)
{
	char *path = id_path(c, "/containers/", id, "/kill");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.method = "POST", .path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS, .no_abort = true};
	long status = 0;
	long st = dk_call(d, c, &r, &status, NULL, err);
	free(path);
	/* 409: it stopped on its own meanwhile. */
	if (st < 0 && status == 409) {
		cst_error_clear(err);
		return 0;
	}
	return st < 0 ? -1 : 0;
}

static int wait_once(struct cst_docker *d, struct dk_conn *c, const char *path, long timeout_ms, int *ret_exit,
		     bool *ret_timed_out, struct cst_error *err)
{
	struct dk_request r = {.method = "POST", .path = path, .timeout_ms = timeout_ms};
	json_t *reply = NULL;
	struct cst_buf b;
	cst_buf_init(&b, DK_REPLY_MAX);
	r.reply = &b;
	long st = dk_call(d, c, &r, NULL, ret_timed_out, err);
	if (st < 0) {
		cst_buf_release(&b);
		return -1;
	}
	reply = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
	cst_buf_release(&b);
	json_t *code = json_object_get(reply, "StatusCode");
	const char *msg = json_string_value(json_object_get(json_object_get(reply, "Error"), "Message"));
	int rc = 0;
	if (msg && *msg)
		rc = cst_error_set(err, CST_E_ENGINE, "waiting for the container: %s", msg);
	else if (!json_is_integer(code))
		rc = cst_error_set(err, CST_E_ENGINE, "waiting for the container: no exit status in the reply");
	else
		*ret_exit = (int)json_integer_value(code);
	json_decref(reply);
	return rc;
}

int dk_container_wait(struct cst_docker *d, struct dk_conn *c, const char *id, double timeout_s, int *ret_exit,
		      bool *ret_timed_out, struct cst_error *err)
{
	*ret_timed_out = false;
	char *path = id_path(c, "/containers/", id, "/wait");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	long ms = timeout_s > 0 ? (long)(timeout_s * 1000.0 + 0.5) : 0;
	if (timeout_s > 0 && ms < 1)
		ms = 1;
	bool timed_out = false;
	int rc = wait_once(d, c, path, ms, ret_exit, &timed_out, err);
	if (rc < 0 && timed_out) {
		/* What it printed so far stays in its logs; the caller reads
		 * them after the kill. */
		cst_error_clear(err);
		*ret_timed_out = true;
		rc = container_kill(d, c, id, err);
		if (rc == 0)
			rc = wait_once(d, c, path, DK_SHORT_TIMEOUT_MS, ret_exit, &timed_out, err);
	}
	free(path);
	return rc;
}

int dk_container_logs(struct cst_docker *d, struct dk_conn *c, const char *id, bool tty, struct cst_buf *out,
		      struct cst_buf *errb, struct cst_error *err)
{
	char *path = id_path(c, "/containers/", id, "/logs?stdout=1&stderr=1");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_demux dm;
	dk_demux_init(&dm, out, errb, tty);
	struct dk_request r = {.path = path, .write_cb = dk_demux_write_cb, .write_ud = &dm};
	long st = dk_call(d, c, &r, NULL, NULL, err);
	free(path);
	if (dm.nomem)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	if (dm.bad)
		return cst_error_set(err, CST_E_ENGINE, "the container's log stream is not framed as expected");
	if (st < 0)
		return cst_error_wrap(err, "reading the container's output");
	return 0;
}

int dk_container_remove(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err)
{
	char *path = id_path(c, "/containers/", id, "?force=1&v=1");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.method = "DELETE", .path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS, .no_abort = true};
	long status = 0;
	long st = dk_call(d, c, &r, &status, NULL, err);
	free(path);
	if (st < 0 && status != 404)
		return -1;
	/* Gone already is as good as removed. */
	cst_error_clear(err);
	dk_registry_forget(d, id);
	return 0;
}

int dk_container_commit(struct cst_docker *d, struct dk_conn *c, const char *id, char **ret_image,
			struct cst_error *err)
{
	if (cst_signal_check(err) < 0)
		return -1;
	char *eid = dk_escape(c, id);
	char *path = NULL;
	if (!eid || asprintf(&path, "/commit?container=%s", eid) < 0)
		path = NULL;
	free(eid);
	json_t *config = json_object();
	if (!path || !config || dk_add_labels(d, config) < 0) {
		free(path);
		json_decref(config);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	struct dk_request r = {.method = "POST", .path = path, .json = config, .timeout_ms = 0};
	json_t *reply = NULL;
	long st = dk_call_json(d, c, &r, &reply, NULL, err);
	free(path);
	json_decref(config);
	if (st < 0)
		return -1;
	const char *img = json_string_value(json_object_get(reply, "Id"));
	char *copy = img && *img ? strdup(img) : NULL;
	json_decref(reply);
	if (!copy)
		return cst_error_set(err, CST_E_ENGINE, "the engine committed a container but sent no image Id");
	if (dk_registry_add(d, copy, true) < 0) {
		free(copy);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	*ret_image = copy;
	return 0;
}

int dk_image_remove(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err)
{
	char *path = id_path(c, "/images/", id, "?force=1");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.method = "DELETE", .path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS, .no_abort = true};
	long status = 0;
	long st = dk_call(d, c, &r, &status, NULL, err);
	free(path);
	if (st < 0 && status != 404)
		return -1;
	cst_error_clear(err);
	dk_registry_forget(d, id);
	return 0;
}

/* Ids of containers or images carrying this run's label. */
static int list_labelled(struct cst_docker *d, bool images, json_t **ret, struct cst_error *err)
{
	char filter[128];
	snprintf(filter, sizeof(filter), "{\"label\":[\"" DK_LABEL_RUN "=%s\"]}", d->run_id);
	char *ef = dk_escape(&d->conn, filter);
	char *path = NULL;
	if (!ef || asprintf(&path, "%s?all=1&filters=%s", images ? "/images/json" : "/containers/json", ef) < 0)
		path = NULL;
	free(ef);
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS, .no_abort = true};
	long st = dk_call_json(d, &d->conn, &r, ret, NULL, err);
	free(path);
	return st < 0 ? -1 : 0;
}

static void keep_first_error(struct cst_error *first, struct cst_error *e)
{
	if (first->code == CST_OK)
		cst_error_move(first, e);
	else
		cst_error_clear(e);
}

int cst_docker_cleanup(struct cst_docker *d, struct cst_error *err)
{
	if (!d)
		return 0;
	struct cst_error first = CST_ERROR_INIT;
	struct cst_error e = CST_ERROR_INIT;

	/* Snapshot under the lock: workers are gone by now, but a caller
	 * may clean up from an error path while one still runs. */
	pthread_mutex_lock(&d->lock);
	size_t n = d->n_objs;
	char **ids = calloc(n ? n : 1, sizeof(*ids));
	bool *is_image = calloc(n ? n : 1, sizeof(*is_image));
	size_t k = 0;
	for (size_t i = 0; ids && is_image && i < n; i++)
		if (!d->objs[i].gone) {
			ids[k] = strdup(d->objs[i].id);
			is_image[k++] = d->objs[i].is_image;
		}
	pthread_mutex_unlock(&d->lock);
	if (!ids || !is_image) {
		free(ids);
		free(is_image);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}

	if (d->save) {
		for (size_t i = 0; i < k; i++)
			if (d->progress && ids[i])
				fprintf(d->progress, "cst: kept %s %.12s\n", is_image[i] ? "image" : "container", ids[i]);
		goto out;
	}
	/* Containers first: an image in use by one cannot go. */
	for (size_t i = 0; i < k; i++)
		if (ids[i] && !is_image[i] && dk_container_remove(d, &d->conn, ids[i], &e) < 0)
			keep_first_error(&first, &e);
	/* Newest image first: committed setup images are chained. */
	for (size_t i = k; i-- > 0;)
		if (ids[i] && is_image[i] && dk_image_remove(d, &d->conn, ids[i], &e) < 0)
			keep_first_error(&first, &e);

	/* Whatever the registry missed but the engine knows by label. */
	for (int images = 0; images <= 1; images++) {
		json_t *list = NULL;
		if (list_labelled(d, images, &list, &e) < 0) {
			keep_first_error(&first, &e);
			break;
		}
		size_t i;
		json_t *item;
		json_array_foreach(list, i, item) {
			const char *id = json_string_value(json_object_get(item, "Id"));
			if (!id)
				continue;
			int rc = images ? dk_image_remove(d, &d->conn, id, &e) : dk_container_remove(d, &d->conn, id, &e);
			if (rc < 0)
				keep_first_error(&first, &e);
		}
		json_decref(list);
	}
out:
	for (size_t i = 0; i < k; i++)
		free(ids[i]);
	free(ids);
	free(is_image);
	d->cleaned = true;
	if (first.code != CST_OK) {
		cst_error_move(err, &first);
		return cst_error_wrap(err, "removing what the run created");
	}
	return 0;
}
