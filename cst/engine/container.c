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
#include <time.h>

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
	if (d->host[0] && !d->save && json_object_set_new(labels, DK_LABEL_HOST, json_string(d->host)) < 0)
		return -1;
	atomic_store(&d->labelled, true);
	return 0;
}

char *dk_id_path(struct dk_conn *c, const char *prefix, const char *id, const char *suffix)
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
	return dk_container_create_on(d, c, config, d->platform, ret_id, err);
}

int dk_container_create_on(struct cst_docker *d, struct dk_conn *c, json_t *config, const char *platform,
			   char **ret_id, struct cst_error *err)
{
	if (cst_signal_check(err) < 0)
		return -1;
	if (dk_add_labels(d, config) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	char *path = NULL;
	if (platform) {
		char *ep = dk_escape(c, platform);
		if (!ep || asprintf(&path, "/containers/create?platform=%s", ep) < 0)
			path = NULL;
		free(ep);
	} else {
		path = strdup("/containers/create");
	}
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	/* Not cut short by a signal: the engine would finish the create
	 * anyway, and only a reply read to the end puts the container in the
	 * registry before cleanup looks. */
	struct dk_request r = {
		.method = "POST", .path = path, .json = config, .timeout_ms = DK_SHORT_TIMEOUT_MS, .no_abort = true};
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
	char *path = dk_id_path(c, "/containers/", id, "/start");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.method = "POST", .path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	long st = dk_call(d, c, &r, NULL, NULL, err);
	free(path);
	return st < 0 ? -1 : 0;
}

int dk_container_kill(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err)
{
	char *path = dk_id_path(c, "/containers/", id, "/kill");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.method = "POST", .path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS, .no_abort = true};
	long status = 0;
	long st = dk_call(d, c, &r, &status, NULL, err);
	free(path);
	/* 409: it stopped on its own meanwhile; 404: a shared container that
	 * another worker killed and removed first. */
	if (st < 0 && (status == 409 || status == 404)) {
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
	char *path = dk_id_path(c, "/containers/", id, "/wait");
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
		rc = dk_container_kill(d, c, id, err);
		if (rc == 0)
			rc = wait_once(d, c, path, DK_SHORT_TIMEOUT_MS, ret_exit, &timed_out, err);
	}
	free(path);
	return rc;
}

int dk_container_logs(struct cst_docker *d, struct dk_conn *c, const char *id, bool tty, struct cst_buf *out,
		      struct cst_buf *errb, struct cst_error *err)
{
	char *path = dk_id_path(c, "/containers/", id, "/logs?stdout=1&stderr=1");
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

/* The attach stream of one container.  Once a buffer reaches its ceiling
 * the rest would be dropped anyway: the container is killed then, so that
 * a command printing without end costs neither time nor the engine's disk. */
struct attach_state {
	struct dk_demux dm;
	bool headers_done;
	bool capped;
};

static size_t attach_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct attach_state *as = ud;
	size_t n = size * nmemb;
	if ((n == 2 && p[0] == '\r' && p[1] == '\n') || (n == 1 && p[0] == '\n'))
		as->headers_done = true;
	return n;
}

static size_t attach_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct attach_state *as = ud;
	size_t n = size * nmemb;
	/* Past the ceiling the stream is still read, and dropped: the engine
	 * counts a container as stopped only once its output is delivered. */
	if (as->capped)
		return n;
	if (dk_demux_feed(&as->dm, p, n) < 0)
		return 0;
	if (as->dm.out->truncated || (as->dm.err && as->dm.err->truncated))
		as->capped = true;
	return n;
}

int64_t dk_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The attach stream and, once the container must die, the kill request,
 * both driven by one multi handle: the kill returns only when the engine
 * has delivered the container's last output, so the stream must keep
 * being read meanwhile. */
struct attach_xfer {
	CURLM *multi;
	struct dk_conn *ac;
	struct dk_conn *c;
	struct dk_xfer x;
	bool added;
	bool ended;
	CURLcode rc;
	struct dk_request kr;
	struct dk_xfer kx;
	bool kadded;
	bool kended;
	CURLcode krc;
};

/* Moves the transfers on, waiting up to wait_ms for data.  -1 only when
 * curl itself fails. */
static int attach_pump(struct attach_xfer *ax, long wait_ms, struct cst_error *err)
{
	int running = 0;
	CURLMcode mc = curl_multi_perform(ax->multi, &running);
	bool news = false;
	if (mc == CURLM_OK) {
		int left;
		CURLMsg *m;
		while ((m = curl_multi_info_read(ax->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			news = true;
			if (m->easy_handle == ax->ac->curl) {
				ax->ended = true;
				ax->rc = m->data.result;
			} else if (m->easy_handle == ax->c->curl) {
				ax->kended = true;
				ax->krc = m->data.result;
			}
		}
		if (!news && wait_ms > 0)
			mc = curl_multi_poll(ax->multi, NULL, 0, (int)wait_ms, NULL);
	}
	if (mc != CURLM_OK)
		return cst_error_set(err, CST_E_ENGINE, "reading the container's output: %s", curl_multi_strerror(mc));
	return 0;
}

static int kill_start(struct cst_docker *d, struct attach_xfer *ax, const char *path, struct cst_error *err)
{
	ax->kr = (struct dk_request){.method = "POST", .path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS, .no_abort = true};
	if (dk_xfer_prepare(d, ax->c, &ax->kr, &ax->kx, err) < 0) {
		dk_xfer_release(&ax->kx);
		return -1;
	}
	if (curl_multi_add_handle(ax->multi, ax->c->curl) != CURLM_OK) {
		dk_xfer_release(&ax->kx);
		return cst_error_set(err, CST_E_INTERNAL, "curl_multi_add_handle failed");
	}
	ax->kadded = true;
	return 0;
}

static int kill_finish(struct attach_xfer *ax, struct cst_error *err)
{
	curl_multi_remove_handle(ax->multi, ax->c->curl);
	ax->kadded = false;
	long status = 0;
	if (dk_xfer_finish(ax->c, &ax->kx, ax->krc, &status, NULL, err) >= 0)
		return 0;
	/* As in dk_container_kill. */
	if (status == 409 || status == 404) {
		cst_error_clear(err);
		return 0;
	}
	return -1;
}

/* Ends the stream: its result when it ran to the end (*ret_status, when
 * not NULL, the HTTP status of a refused one), else it is dropped (the
 * connection with it).  An unfinished kill is dropped too. */
static int attach_finish(struct attach_xfer *ax, long *ret_status, struct cst_error *err)
{
	int rc = 0;
	if (!ax->multi)
		return 0;
	if (ax->kadded) {
		curl_multi_remove_handle(ax->multi, ax->c->curl);
		dk_xfer_release(&ax->kx);
		ax->kadded = false;
	}
	if (ax->added)
		curl_multi_remove_handle(ax->multi, ax->ac->curl);
	ax->added = false;
	if (ax->ended)
		rc = dk_xfer_finish(ax->ac, &ax->x, ax->rc, ret_status, NULL, err) < 0 ? -1 : 0;
	else
		dk_xfer_release(&ax->x);
	curl_multi_cleanup(ax->multi);
	ax->multi = NULL;
	return rc;
}

int dk_stream_run(struct cst_docker *d, struct dk_conn *c, struct dk_conn *ac, struct dk_stream *s,
		  struct cst_buf *out, struct cst_buf *errb, struct cst_error *err)
{
	s->killed = false;
	s->timed_out = false;
	s->status = 0;
	s->left_s = 0;
	if (cst_signal_check(err) < 0)
		return -1;
	char *kill_path = dk_id_path(c, "/containers/", s->kill_id, "/kill");
	struct attach_state as = {.headers_done = false};
	dk_demux_init(&as.dm, out, errb, s->tty);
	struct dk_request r = {
		.method = "POST",
		.path = s->path,
		.json = s->body,
		.write_cb = attach_write,
		.write_ud = &as,
		.header_cb = attach_header,
		.header_ud = &as,
	};
	struct attach_xfer ax = {.multi = NULL, .ac = ac, .c = c};
	int rc = -1;
	if (!kill_path || !(ax.multi = curl_multi_init())) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	if (dk_xfer_prepare(d, ac, &r, &ax.x, err) < 0) {
		dk_xfer_release(&ax.x);
		goto out;
	}
	if (curl_multi_add_handle(ax.multi, ac->curl) != CURLM_OK) {
		dk_xfer_release(&ax.x);
		cst_error_set(err, CST_E_INTERNAL, "curl_multi_add_handle failed");
		goto out;
	}
	ax.added = true;

	/* The engine answers the attach before the container runs; starting
	 * it only then is what makes sure not a byte of output is missed.  An
	 * exec's start request starts the process itself. */
	int64_t limit = dk_mono_ms() + DK_SHORT_TIMEOUT_MS;
	while (s->start_id && !as.headers_done && !ax.ended) {
		if (cst_signal_check(err) < 0)
			goto out;
		if (dk_mono_ms() > limit) {
			cst_error_set(err, CST_E_ENGINE, "attaching to the container: no answer from the engine within %ld s",
				      DK_SHORT_TIMEOUT_MS / 1000);
			goto out;
		}
		/* The headers are read by a perform, after which pumping again
		 * would sleep in poll with the news already in hand: look first. */
		if (attach_pump(&ax, 0, err) < 0)
			goto out;
		if (as.headers_done || ax.ended)
			break;
		if (attach_pump(&ax, 200, err) < 0)
			goto out;
	}
	if (s->start_id && ax.ended) {
		if (attach_finish(&ax, &s->status, err) == 0)
			cst_error_set(err, CST_E_ENGINE, "attaching to the container: the engine closed the stream");
		goto out;
	}
	if (s->start_id && dk_container_start(d, c, s->start_id, err) < 0)
		goto out;

	int64_t deadline = dk_mono_ms() + (int64_t)(s->timeout_s * 1000.0 + 0.5);
	for (;;) {
		if (cst_signal_check(err) < 0)
			goto out;
		int64_t now = dk_mono_ms();
		if (!s->killed && (as.capped || now >= deadline)) {
			if (!as.capped)
				s->timed_out = true;
			if (s->before_kill)
				s->before_kill(s->ud);
			if (kill_start(d, &ax, kill_path, err) < 0)
				goto out;
			s->killed = true;
			/* What it printed before the kill is still on its way. */
			deadline = now + DK_SHORT_TIMEOUT_MS;
		}
		if (s->killed && ax.kended && ax.kadded && kill_finish(&ax, err) < 0)
			goto out;
		if (ax.ended && (!s->killed || !ax.kadded))
			break;
		if (s->killed && now >= deadline) {
			cst_error_set(err, CST_E_ENGINE, "the killed container did not stop within %ld s",
				      DK_SHORT_TIMEOUT_MS / 1000);
			goto out;
		}
		long wait = (long)(deadline - now);
		if (attach_pump(&ax, wait < 1 ? 1 : (wait > 1000 ? 1000 : wait), err) < 0)
			goto out;
	}
	if (!s->killed)
		s->left_s = (double)(deadline - dk_mono_ms()) / 1000.0;
	if (attach_finish(&ax, &s->status, err) < 0)
		goto out;
	if (as.dm.nomem) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	if (as.dm.bad) {
		cst_error_set(err, CST_E_ENGINE, "the %s output stream is not framed as expected",
			      s->start_id ? "container's" : "command's");
		goto out;
	}
	rc = 0;
out:;
	struct cst_error fe = CST_ERROR_INIT;
	attach_finish(&ax, NULL, &fe);
	cst_error_clear(&fe);
	free(kill_path);
	return rc;
}

int dk_container_run_attached(struct cst_docker *d, struct dk_conn *c, struct dk_conn *ac, const char *id, bool tty,
			      double timeout_s, struct cst_buf *out, struct cst_buf *errb, int *ret_exit,
			      bool *ret_timed_out, struct cst_error *err)
{
	*ret_timed_out = false;
	char *path = dk_id_path(ac, "/containers/", id, "/attach?stream=1&stdout=1&stderr=1");
	char *wait_path = dk_id_path(c, "/containers/", id, "/wait");
	if (!path || !wait_path) {
		free(path);
		free(wait_path);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	struct dk_stream s = {.path = path, .start_id = id, .kill_id = id, .tty = tty, .timeout_s = timeout_s};
	int rc = dk_stream_run(d, c, ac, &s, out, errb, err);
	if (rc == 0 && s.killed) {
		bool late = false;
		*ret_timed_out = s.timed_out;
		rc = wait_once(d, c, wait_path, DK_SHORT_TIMEOUT_MS, ret_exit, &late, err);
	} else if (rc == 0) {
		/* Its streams closed; the process may still run on. */
		bool late = false;
		rc = dk_container_wait(d, c, id, s.left_s > 0.001 ? s.left_s : 0.001, ret_exit, &late, err);
		if (late)
			*ret_timed_out = true;
	}
	free(path);
	free(wait_path);
	return rc;
}

int dk_container_remove(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err)
{
	char *path = dk_id_path(c, "/containers/", id, "?force=1&v=1");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.method = "DELETE", .path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS, .no_abort = true};
	long status = 0;
	long st = dk_call(d, c, &r, &status, NULL, err);
	free(path);
	/* Gone already is as good as removed, and so is a removal already in
	 * progress (409 is nothing else with force=1): another cst removing
	 * leftovers at the same time. */
	if (st < 0 && status != 404 && status != 409)
		return -1;
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
	/* As with create, a signal waits for the commit: the image it makes
	 * must be known to be removed.  A commit takes as long as the setup's
	 * changes are large, so it has no time limit. */
	struct dk_request r = {.method = "POST", .path = path, .json = config, .timeout_ms = 0, .no_abort = true};
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
	char *path = dk_id_path(c, "/images/", id, "?force=1");
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

/* After a failed removal: when the engine no longer answers, the other
 * removals would each wait for their own timeout in vain.  first then
 * says so; the next cst test on this host removes what is left. */
static bool engine_gone(struct cst_docker *d, struct cst_error *first)
{
	struct cst_error pe = CST_ERROR_INIT;
	if (dk_engine_alive(d, &d->conn, &pe)) {
		cst_error_clear(&pe);
		return false;
	}
	cst_error_clear(first);
	cst_error_set(first, CST_E_ENGINE, "%s; what the run created is left in it for the next cst test to remove",
		      pe.msg ? pe.msg : "the Docker engine does not answer");
	cst_error_clear(&pe);
	return true;
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
		if (ids[i] && !is_image[i] && dk_container_remove_leaving(d, &d->conn, ids[i], &e) < 0) {
			keep_first_error(&first, &e);
			if (engine_gone(d, &first))
				goto out;
		}
	/* Newest image first: committed setup images are chained. */
	for (size_t i = k; i-- > 0;)
		if (ids[i] && is_image[i] && dk_image_remove(d, &d->conn, ids[i], &e) < 0) {
			keep_first_error(&first, &e);
			if (engine_gone(d, &first))
				goto out;
		}

	/* Whatever the registry missed but the engine knows by label: only
	 * a run that asked for an object can have one (listing images costs
	 * 10 ms and more, much of a run answered from the index cache). */
	for (int images = 0; images <= 1 && atomic_load(&d->labelled); images++) {
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
			int rc = images ? dk_image_remove(d, &d->conn, id, &e) : dk_container_remove_leaving(d, &d->conn, id, &e);
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
