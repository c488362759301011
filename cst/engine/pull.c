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

struct pull_state {
	struct cst_buf line;
	FILE *progress;
	char *error;
	bool nomem;
	char last[256]; /* the last status printed, to skip repeats */
};

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
	/* Byte counts of each layer would flood a log; statuses do not. */
	if (status && ps->progress && json_object_size(json_object_get(msg, "progressDetail")) == 0) {
		char now[256];
		snprintf(now, sizeof(now), "%s%s%s", id ? id : "", id ? ": " : "", status);
		if (strcmp(now, ps->last) != 0) {
			fprintf(ps->progress, "%s\n", now);
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
