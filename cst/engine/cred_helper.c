/* The docker credential helper protocol: `docker-credential-NAME get`
 * reads a server URL on stdin and writes {"Username": ..., "Secret": ...}
 * on stdout, or fails saying the credentials are not found.  The helper
 * runs with a bounded time and output; its stderr is not shown, as the
 * docker CLI does not show it either. */
#include "cst/engine/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELPER_TIMEOUT_MS 30000
#define HELPER_OUTPUT_MAX (64u << 10)

extern char **environ;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the helper; *ret_out is its stdout (NUL-terminated), *ret_status
 * its wait status.  -1 when it cannot be run or takes too long. */
static int run_helper(const char *prog, const char *input, char **ret_out, int *ret_status, struct cst_error *err)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	bool fa_ok = false;
	pid_t pid = -1;
	int rc = -1;
	struct cst_buf b;
	cst_buf_init(&b, HELPER_OUTPUT_MAX);
	/* A socket for stdin: a helper that exits without reading it must not
	 * raise SIGPIPE here. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		cst_error_set(err, CST_E_IO, "%s: %s", prog, strerror(errno));
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	fa_ok = true;
	char *argv[] = {(char *)prog, (char *)"get", NULL};
	if (posix_spawn_file_actions_adddup2(&fa, in[1], 0) != 0 || posix_spawn_file_actions_adddup2(&fa, out[1], 1) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) != 0) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	int e = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	if (e != 0) {
		pid = -1;
		cst_error_set(err, CST_E_IO, "docker config.json names the credential helper %s: %s", prog, strerror(e));
		goto out;
	}
	close(in[1]);
	close(out[1]);
	in[1] = out[1] = -1;
	size_t len = strlen(input);
	if (send(in[0], input, len, MSG_NOSIGNAL) < 0 && errno != EPIPE) {
		cst_error_set(err, CST_E_IO, "%s: %s", prog, strerror(errno));
		goto out;
	}
	shutdown(in[0], SHUT_WR);
	int64_t deadline = now_ms() + HELPER_TIMEOUT_MS;
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			cst_error_set(err, CST_E_IO, "%s get: no answer within %d s", prog, HELPER_TIMEOUT_MS / 1000);
			goto out;
		}
		struct pollfd p = {.fd = out[0], .events = POLLIN};
		int n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cst_error_set(err, CST_E_IO, "%s: %s", prog, strerror(errno));
			goto out;
		}
		if (n == 0)
			continue;
		char chunk[4096];
		ssize_t r = read(out[0], chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (cst_buf_append(&b, chunk, (size_t)r) < 0 || b.truncated) {
			cst_error_set(err, CST_E_IO, "%s get: more than %u bytes of output", prog, HELPER_OUTPUT_MAX);
			goto out;
		}
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	*ret_status = status;
	*ret_out = cst_buf_detach(&b, NULL);
	if (!*ret_out && !(*ret_out = strdup(""))) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	cst_buf_release(&b);
	return rc;
}

int dk_cred_helper_get(const char *helper, const char *server, char **ret_user, char **ret_secret,
		       struct cst_error *err)
{
	*ret_user = *ret_secret = NULL;
	if (!*helper || strspn(helper, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(helper))
		return cst_error_set(err, CST_E_IO, "docker config.json: '%s' is not a credential helper name", helper);
	char *prog = NULL, *out = NULL;
	int status = 0, rc = -1;
	if (asprintf(&prog, "docker-credential-%s", helper) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	if (run_helper(prog, server, &out, &status, err) < 0)
		goto done;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (strstr(out, "credentials not found")) {
			rc = 0;
			goto done;
		}
		out[strcspn(out, "\n")] = '\0';
		cst_error_set(err, CST_E_IO, "%s get %s failed: %.200s", prog, server, *out ? out : "no message");
		goto done;
	}
	json_t *j = json_loads(out, 0, NULL);
	const char *user = json_string_value(json_object_get(j, "Username"));
	const char *secret = json_string_value(json_object_get(j, "Secret"));
	if (!user || !secret) {
		json_decref(j);
		cst_error_set(err, CST_E_IO, "%s get %s: the answer has no Username and Secret", prog, server);
		goto done;
	}
	*ret_user = strdup(user);
	*ret_secret = strdup(secret);
	json_decref(j);
	if (!*ret_user || !*ret_secret) {
		free(*ret_user);
		free(*ret_secret);
		*ret_user = *ret_secret = NULL;
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto done;
	}
	rc = 0;
done:
	free(prog);
	free(out);
	return rc;
}
