/* --pull: POST /images/create, its progress to the progress stream (never
 * into the report), credentials from the docker config.
 *
 * The engine answers 200 at once and reports a failed pull inside the
 * stream as an {"error": ...} line, so every line is parsed. */
#include "cst/engine/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/progress.h"

/* Layers whose bytes the meter adds up; a pull of more shows the first. */
#define PULL_LAYERS_MAX 128

struct pull_layer {
	char id[80];
	uint64_t current;
	uint64_t total;
};

struct pull_state {
	struct cst_buf line;
	FILE *progress;
	char *error;
	bool nomem;
	char last[256]; /* the last status printed, to skip repeats */
	struct cst_progress *meter; /* bytes downloaded of all layers */
	struct pull_layer layers[PULL_LAYERS_MAX];
	size_t n_layers;
};

/* A layer's "Downloading" lines carry its bytes so far; the meter shows
 * the sum over every layer seen. */
static void pull_bytes(struct pull_state *ps, const char *id, const char *status, json_t *detail)
{
	if (!ps->meter || !id)
		return;
	bool downloading = strcmp(status, "Downloading") == 0;
	bool complete = strcmp(status, "Download complete") == 0;
	if (!downloading && !complete)
		return;
	struct pull_layer *l = NULL;
	for (size_t i = 0; i < ps->n_layers && !l; i++)
		if (strcmp(ps->layers[i].id, id) == 0)
			l = &ps->layers[i];
	if (!l) {
		if (ps->n_layers == PULL_LAYERS_MAX)
			return;
		l = &ps->layers[ps->n_layers++];
		snprintf(l->id, sizeof(l->id), "%s", id);
	}
	json_t *cur = json_object_get(detail, "current"), *tot = json_object_get(detail, "total");
	if (downloading && json_is_integer(cur) && json_integer_value(cur) >= 0)
		l->current = (uint64_t)json_integer_value(cur);
	if (downloading && json_is_integer(tot) && json_integer_value(tot) > 0)
		l->total = (uint64_t)json_integer_value(tot);
	if (complete && l->total)
		l->current = l->total;
	uint64_t done = 0, total = 0;
	for (size_t i = 0; i < ps->n_layers; i++) {
		done += ps->layers[i].current;
		total += ps->layers[i].total;
	}
	cst_progress_set(ps->meter, done, total);
}

static void pull_line(struct pull_state *ps, const char *text, size_t len)
{
	json_t *msg = json_loadb(text, len, 0, NULL);
	if (!msg)
		return;
	const char *error = json_string_value(json_object_get(msg, "error"));
	const char *detail = json_string_value(json_object_get(json_object_get(msg, "errorDetail"), "message"));
	if ((error || detail) && !ps->error) {
		ps->error = strdup(detail ? detail : error);
		if (!ps->error)
			ps->nomem = true;
	}
	const char *status = json_string_value(json_object_get(msg, "status"));
	const char *id = json_string_value(json_object_get(msg, "id"));
	json_t *bytes = json_object_get(msg, "progressDetail");
	if (status)
		pull_bytes(ps, id, status, bytes);
	/* Byte counts of each layer would flood a log; statuses do not, and
	 * on a terminal the meter adds the bytes up. */
	if (status && ps->progress && json_object_size(bytes) == 0) {
		char now[256];
		snprintf(now, sizeof(now), "%s%s%s", id ? id : "", id ? ": " : "", status);
		if (strcmp(now, ps->last) != 0) {
			cst_progress_line(ps->meter, ps->progress, now);
			memcpy(ps->last, now, sizeof(now));
		}
	}
	json_decref(msg);
}

static size_t pull_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct pull_state *ps = ud;
	size_t n = size * nmemb;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (ps->line.len)
				pull_line(ps, ps->line.data, ps->line.len);
			cst_buf_reset(&ps->line);
		} else if (cst_buf_append(&ps->line, p + i, 1) < 0) {
			ps->nomem = true;
			return 0;
		}
	}
	return n;
}

int cst_docker_pull(struct cst_docker *d, const char *image, struct cst_error *err)
{
	char *name = NULL, *tag = NULL, *config = NULL, *auth = NULL, *path = NULL, *ename = NULL, *etag = NULL,
	     *eplat = NULL;
	struct curl_slist *headers = NULL;
	struct pull_state ps = {.progress = d->progress};
	cst_buf_init(&ps.line, 1u << 20);
	int rc = -1;

	if (dk_split_reference(image, &name, &tag) < 0)
		goto nomem;
	if (dk_read_docker_config(&config, err) < 0)
		goto out;
	if (config && dk_registry_auth(config, image, &auth, err) < 0)
		goto out;
	if (auth) {
		char *h = NULL;
		if (asprintf(&h, "X-Registry-Auth: %s", auth) < 0)
			goto nomem;
		headers = curl_slist_append(NULL, h);
		free(h);
		if (!headers)
			goto nomem;
	}
	ename = dk_escape(&d->conn, name);
	etag = dk_escape(&d->conn, tag);
	if (d->platform)
		eplat = dk_escape(&d->conn, d->platform);
	if (!ename || !etag || (d->platform && !eplat) ||
	    asprintf(&path, "/images/create?fromImage=%s&tag=%s%s%s", ename, etag, eplat ? "&platform=" : "",
		     eplat ? eplat : "") < 0) {
		path = NULL;
		goto nomem;
	}
	if (d->progress)
		fprintf(d->progress, "Pulling %s\n", image);
	char what[256];
	snprintf(what, sizeof(what), "pulling %s", image);
	ps.meter = cst_progress_start(d->meter, what, 0, CST_PROGRESS_BYTES);
	struct dk_request r = {
		.method = "POST",
		.path = path,
		.headers = headers,
		.write_cb = pull_write,
		.write_ud = &ps,
	};
	if (dk_call(d, &d->conn, &r, NULL, NULL, err) < 0) {
		if (ps.nomem)
			goto nomem;
		if (err->code == CST_E_ENGINE)
			cst_error_wrap(err, "pulling %s", image);
		goto out;
	}
	if (ps.line.len)
		pull_line(&ps, ps.line.data, ps.line.len);
	if (ps.nomem)
		goto nomem;
	if (ps.error) {
		cst_error_set(err, CST_E_IMAGE, "pulling %s: %s", image, ps.error);
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	cst_error_set(err, CST_E_NOMEM, "out of memory");
out:
	cst_progress_stop(ps.meter);
	curl_slist_free_all(headers);
	cst_buf_release(&ps.line);
	free(ps.error);
	free(name);
	free(tag);
	free(config);
	free(auth);
	free(path);
	free(ename);
	free(etag);
	free(eplat);
	return rc;
}
