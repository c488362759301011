/* A command run as an exec in a running container (--shared-container).
 *
 * POST /containers/{id}/exec makes the exec; POST /exec/{id}/start answers
 * with the hijacked stream, framed as an attach is (raw with a TTY), which
 * ends once the process has exited; GET /exec/{id}/json then has its exit
 * code.  The API cannot kill an exec: at the timeout, or once the output
 * reaches its ceiling, the whole container is killed, which the caller
 * learns from x->killed and handles for the other execs in it.
 *
 * An exec that never started (no such binary, not executable, but also a
 * container that was stopping) still gets its 200 and its stream: the
 * engine writes its reason into the stream, and the exec's Pid stays 0.
 * That is told apart from output so that the test fails with the engine's
 * reason as a container's would, unless the container was the reason. */
#include "cst/engine/client.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cst/signals.h"

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* 404: the container is gone; 409: it is not running. */
static bool container_gone(long status)
{
	return status == 404 || status == 409;
}

static int exec_create(struct cst_docker *d, struct dk_conn *c, struct dk_exec *x, char **ret_id,
		       struct cst_error *err)
{
	char *path = dk_id_path(c, "/containers/", x->container, "/exec");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.method = "POST", .path = path, .json = x->config, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	json_t *reply = NULL;
	long status = 0;
	long st = dk_call_json(d, c, &r, &reply, &status, err);
	free(path);
	if (st < 0) {
		if (container_gone(status)) {
			cst_error_clear(err);
			x->gone = true;
			return 0;
		}
		return cst_error_wrap(err, "creating an exec in the shared container");
	}
	const char *id = json_string_value(json_object_get(reply, "Id"));
	*ret_id = id && *id ? strdup(id) : NULL;
	json_decref(reply);
	if (!*ret_id)
		return cst_error_set(err, CST_E_ENGINE, "the engine created an exec but sent no Id");
	return 0;
}

/* The exec's state: *ret_done once it has exited, then its exit code and
 * whether its process ever started. */
static int exec_inspect(struct cst_docker *d, struct dk_conn *c, struct dk_exec *x, const char *path, bool *ret_done,
			bool *ret_started, struct cst_error *err)
{
	struct dk_request r = {.path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	json_t *reply = NULL;
	long status = 0;
	*ret_done = false;
	if (dk_call_json(d, c, &r, &reply, &status, err) < 0) {
		/* Execs go with their container. */
		if (status == 404) {
			cst_error_clear(err);
			x->gone = true;
			*ret_done = true;
			return 0;
		}
		return cst_error_wrap(err, "inspecting the exec");
	}
	int rc = 0;
	if (!json_is_false(json_object_get(reply, "Running"))) {
		json_decref(reply);
		return 0;
	}
	json_t *code = json_object_get(reply, "ExitCode");
	*ret_started = json_integer_value(json_object_get(reply, "Pid")) != 0;
	*ret_done = true;
	/* One that never started may have no exit code at all. */
	if (json_is_integer(code))
		x->exit_code = (int)json_integer_value(code);
	else if (*ret_started)
		rc = cst_error_set(err, CST_E_ENGINE, "the exec has ended but the engine gives no exit code");
	json_decref(reply);
	return rc;
}

/* How long a container whose exec did not start is given to show that it
 * is stopping: the engine notes an exit a moment after the runtime
 * refuses execs in it.  Only tests whose command cannot start pay it. */
#define STOPPING_GRACE_MS 500L

/* Whether the container has stopped, or stops within the grace. */
static int container_stopping(struct cst_docker *d, struct dk_conn *c, const char *id, bool *ret,
			      struct cst_error *err)
{
	char *path = dk_id_path(c, "/containers/", id, "/wait?condition=not-running");
	if (!path)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	struct dk_request r = {.method = "POST", .path = path, .timeout_ms = STOPPING_GRACE_MS};
	long status = 0;
	bool timed_out = false;
	long st = dk_call(d, c, &r, &status, &timed_out, err);
	free(path);
	if (st >= 0 || status == 404 || timed_out) {
		cst_error_clear(err);
		*ret = !timed_out;
		return 0;
	}
	return cst_error_wrap(err, "checking the shared container");
}

/* The engine's reason, from what it wrote into the stream. */
static char *reason(const struct cst_buf *out)
{
	const char *p = out->data ? out->data : "";
	size_t n = out->len;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	if (!n)
		return strdup("the engine could not start the command");
	return strndup(p, n);
}

static int kill_container(struct cst_docker *d, struct dk_conn *c, struct dk_exec *x, struct cst_error *err)
{
	if (x->before_kill)
		x->before_kill(x->ud);
	x->killed = true;
	x->timed_out = true;
	return dk_container_kill(d, c, x->container, err);
}

int dk_exec_run(struct cst_docker *d, struct dk_conn *c, struct dk_conn *ac, struct dk_exec *x, struct cst_buf *out,
		struct cst_buf *errb, struct cst_error *err)
{
	x->exit_code = -1;
	x->killed = x->timed_out = x->gone = false;
	x->not_started = NULL;
	if (cst_signal_check(err) < 0)
		return -1;
	char *id = NULL;
	char *start_path = NULL;
	char *inspect_path = NULL;
	json_t *body = NULL;
	int rc = -1;
	if (exec_create(d, c, x, &id, err) < 0)
		return -1;
	if (x->gone)
		return 0;
	start_path = dk_id_path(ac, "/exec/", id, "/start");
	inspect_path = dk_id_path(c, "/exec/", id, "/json");
	body = json_pack("{s:b, s:b}", "Detach", 0, "Tty", x->tty);
	if (!start_path || !inspect_path || !body) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	struct dk_stream s = {
		.path = start_path,
		.body = body,
		.kill_id = x->container,
		.before_kill = x->before_kill,
		.ud = x->ud,
		.tty = x->tty,
		.timeout_s = x->timeout_s,
	};
	if (dk_stream_run(d, c, ac, &s, out, errb, err) < 0) {
		/* A container that exits as the exec starts is answered with
		 * a 500 ("is not running") as often as with a 409. */
		bool stopping = container_gone(s.status);
		if (!stopping && s.status >= 400) {
			struct cst_error e = CST_ERROR_INIT;
			if (container_stopping(d, c, x->container, &stopping, &e) < 0)
				stopping = false;
			cst_error_clear(&e);
		}
		if (stopping) {
			cst_error_clear(err);
			x->gone = true;
			rc = 0;
		}
		goto out;
	}
	if (s.killed) {
		/* As a container killed at the timeout reports it. */
		x->killed = true;
		x->timed_out = s.timed_out;
		x->exit_code = 137;
		rc = 0;
		goto out;
	}
	/* The stream ends as the process exits; the exit code is normally
	 * there at once, but a process that closed its output early may
	 * still run. */
	int64_t deadline = dk_mono_ms() + (int64_t)(s.left_s * 1000.0 + 0.5);
	long pause = 2;
	bool started = true;
	for (;;) {
		bool done = false;
		if (exec_inspect(d, c, x, inspect_path, &done, &started, err) < 0)
			goto out;
		if (done)
			break;
		if (cst_signal_check(err) < 0)
			goto out;
		if (dk_mono_ms() >= deadline) {
			if (kill_container(d, c, x, err) < 0)
				goto out;
			x->exit_code = 137;
			break;
		}
		sleep_ms(pause);
		if (pause < 100)
			pause *= 2;
	}
	if (!x->gone && !x->killed && !started) {
		bool stopping = false;
		if (container_stopping(d, c, x->container, &stopping, err) < 0)
			goto out;
		if (stopping) {
			x->gone = true;
			rc = 0;
			goto out;
		}
		if (!(x->not_started = reason(out))) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		cst_buf_reset(out);
		cst_buf_reset(errb);
	}
	rc = 0;
out:
	json_decref(body);
	free(start_path);
	free(inspect_path);
	free(id);
	return rc;
}
