/* The Engine API over ssh, as the docker CLI does it: every connection
 * libcurl opens becomes `ssh [-l USER] [-p PORT] -- HOST docker system
 * dial-stdio` with the connection as its stdin and stdout.  libcurl
 * connects to a listening unix socket of this process (abstract, so
 * nothing is left on disk; only this process may connect, which the
 * listener checks), and a thread hands each accepted connection to an ssh
 * of its own.  So each dk_conn (one per job slot, plus a second for
 * streams) keeps one ssh for as long as libcurl keeps the connection, and
 * closing the connection ends that ssh: it reads the end of its input.
 *
 * (Handing libcurl one end of a socketpair as an already connected socket
 * would spare the listener, but libcurl 7.88 calls connect() on such a
 * socket anyway.)
 *
 * ssh runs with the user's own configuration and agent, in batch mode so
 * that it never asks for a password, and in a process group of its own:
 * a Ctrl-C meant for cst must not cut the connections cst still needs to
 * remove its containers.  What ssh says on stderr goes into a memory file
 * that becomes part of the error when its connection fails. */
#include "cst/engine/ssh_transport.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct ssh_child {
	pid_t pid;
	int errfd; /* ssh's stderr */
};

struct dk_ssh {
	char *argv[20];
	char name[64];  /* the listener's abstract socket name */
	int listener;
	pthread_t acceptor;
	bool acceptor_running;
	pthread_mutex_t lock;
	struct ssh_child *kids;
	size_t n_kids;
	size_t cap_kids;
	unsigned long spawned;
	char last_words[512];
};
static void note_words(struct dk_ssh *s, int errfd, int status)
{
	char buf[sizeof(s->last_words)];
	ssize_t got = errfd >= 0 ? pread(errfd, buf, sizeof(buf) - 1, 0) : 0;
	if (got < 0)
		got = 0;
	buf[got] = '\0';
	/* The last non-empty line is ssh's reason; earlier ones are warnings. */
	size_t len = (size_t)got;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	const char *line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (*line)
		snprintf(s->last_words, sizeof(s->last_words), "%s", line);
	else if (WIFEXITED(status))
		snprintf(s->last_words, sizeof(s->last_words), "ssh exited with status %d", WEXITSTATUS(status));
	else
		snprintf(s->last_words, sizeof(s->last_words), "ssh was killed by signal %d", WTERMSIG(status));
}

/* Reaps the ssh processes that ended, keeping what a failed one said.
 * With s->lock held. */
static size_t reap_ended(struct dk_ssh *s)
{
	size_t failed = 0;
	for (size_t i = 0; i < s->n_kids;) {
		int status = 0;
		if (waitpid(s->kids[i].pid, &status, WNOHANG) != s->kids[i].pid) {
			i++;
			continue;
		}
		/* One whose connection was closed leaves with status 0. */
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			note_words(s, s->kids[i].errfd, status);
			failed++;
		}
		if (s->kids[i].errfd >= 0)
			close(s->kids[i].errfd);
		s->kids[i] = s->kids[--s->n_kids];
	}
	return failed;
}

static int spawn(struct dk_ssh *s, int conn)
{
	int errfd = memfd_create("cst-ssh-stderr", MFD_CLOEXEC);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, conn, 0);
	posix_spawn_file_actions_adddup2(&fa, conn, 1);
	if (errfd >= 0)
		posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	sigset_t none, dfl;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	pid_t pid = -1;
	int rc = posix_spawnp(&pid, "ssh", &fa, &at, s->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	pthread_mutex_lock(&s->lock);
	reap_ended(s);
	if (rc == 0 && s->n_kids == s->cap_kids) {
		size_t cap = s->cap_kids ? 2 * s->cap_kids : 8;
		struct ssh_child *k = realloc(s->kids, cap * sizeof(*k));
		if (k) {
			s->kids = k;
			s->cap_kids = cap;
		} else {
			/* Untracked it could outlive the run: end it now. */
			kill(pid, SIGTERM);
			waitpid(pid, NULL, 0);
			rc = ENOMEM;
		}
	}
	if (rc == 0) {
		s->kids[s->n_kids++] = (struct ssh_child){.pid = pid, .errfd = errfd};
		s->spawned++;
	} else {
		snprintf(s->last_words, sizeof(s->last_words), "cannot run ssh: %s", strerror(rc));
		if (errfd >= 0)
			close(errfd);
	}
	pthread_mutex_unlock(&s->lock);
	return rc == 0 ? 0 : -1;
}

static void *acceptor(void *ud)
{
	struct dk_ssh *s = ud;
	for (;;) {
		int conn = accept4(s->listener, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE)
				continue;
			return NULL; /* shut down by dk_ssh_free() */
		}
		/* An abstract socket has no permissions: anyone on the host
		 * could ask it for an ssh with this user's keys. */
		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid == getpid())
			spawn(s, conn);
		/* ssh holds its own copies: closing ours leaves the
		 * connection to ssh and libcurl. */
		close(conn);
	}
}

int dk_ssh_new(const struct dk_endpoint *ep, struct dk_ssh **ret, struct cst_error *err)
{
	struct dk_ssh *s = calloc(1, sizeof(*s));
	if (!s)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	s->listener = -1;
	pthread_mutex_init(&s->lock, NULL);
	*ret = s;
	/* ConnectTimeout as the docker CLI sets it: a host that never
	 * answers ends the connection, not the run's patience. */
	const char *fixed[] = {"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-T"};
	size_t n = 0;
	bool ok = true;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		ok = ok && (s->argv[n++] = strdup(fixed[i]));
	if (ep->ssh_user) {
		ok = ok && (s->argv[n++] = strdup("-l"));
		ok = ok && (s->argv[n++] = strdup(ep->ssh_user));
	}
	if (ep->ssh_port) {
		ok = ok && (s->argv[n++] = strdup("-p"));
		ok = ok && (s->argv[n++] = strdup(ep->ssh_port));
	}
	const char *tail[] = {"--", ep->ssh_host, "docker", "system", "dial-stdio"};
	for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
		ok = ok && (s->argv[n++] = strdup(tail[i]));
	if (!ok)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");

	unsigned char raw[8];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return cst_error_set(err, CST_E_INTERNAL, "getrandom: %s", strerror(errno));
	int w = snprintf(s->name, sizeof(s->name), "cst-ssh-%ld-", (long)getpid());
	for (size_t i = 0; i < sizeof(raw); i++)
		w += snprintf(s->name + w, sizeof(s->name) - (size_t)w, "%02x", raw[i]);

	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t nlen = strlen(s->name);
	memcpy(sa.sun_path + 1, s->name, nlen);
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + nlen);
	s->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listener < 0 || bind(s->listener, (struct sockaddr *)&sa, salen) < 0 || listen(s->listener, 64) < 0)
		return cst_error_set(err, CST_E_IO, "ssh transport: cannot listen on a unix socket: %s", strerror(errno));

	/* Signals are for the threads that can act on them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&s->acceptor, NULL, acceptor, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return cst_error_set(err, CST_E_INTERNAL, "ssh transport: cannot start a thread: %s", strerror(rc));
	s->acceptor_running = true;
	return 0;
}

void dk_ssh_setopt(struct dk_ssh *s, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_ABSTRACT_UNIX_SOCKET, s->name);
}

bool dk_ssh_take_words(struct dk_ssh *s, char *ret, size_t size)
{
	pthread_mutex_lock(&s->lock);
	/* The connection breaks as ssh exits, a moment before it can be
	 * reaped: give a failing ssh that moment (bounded, error path only). */
	for (int i = 0; i < 50 && !s->last_words[0] && s->n_kids; i++) {
		if (reap_ended(s))
			break;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	bool any = s->last_words[0] != '\0';
	snprintf(ret, size, "%s", s->last_words);
	s->last_words[0] = '\0';
	pthread_mutex_unlock(&s->lock);
	return any;
}

unsigned long dk_ssh_spawned(struct dk_ssh *s)
{
	pthread_mutex_lock(&s->lock);
	unsigned long n = s->spawned;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void dk_ssh_free(struct dk_ssh *s)
{
	if (!s)
		return;
	if (s->acceptor_running) {
		/* Wakes the blocked accept(). */
		shutdown(s->listener, SHUT_RDWR);
		pthread_join(s->acceptor, NULL);
	}
	if (s->listener >= 0)
		close(s->listener);
	/* Connections are closed by now; an ssh still running has not
	 * noticed yet, or hangs: it ends with the run either way. */
	for (size_t i = 0; i < s->n_kids; i++) {
		kill(s->kids[i].pid, SIGTERM);
		while (waitpid(s->kids[i].pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (s->kids[i].errfd >= 0)
			close(s->kids[i].errfd);
	}
	free(s->kids);
	for (size_t i = 0; i < sizeof(s->argv) / sizeof(s->argv[0]); i++)
		free(s->argv[i]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
