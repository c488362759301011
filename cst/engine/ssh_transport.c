/* The Engine API over ssh, as the docker CLI does it: every connection
 * libcurl opens becomes `ssh [-l USER] [-p PORT] -- HOST docker system
 * dial-stdio` with the connection as its stdin and stdout.  libcurl
 * connects to a listening unix socket of this process (in a directory of
 * its own, and only this process may connect, which the listener checks),
 * and a thread hands each accepted connection to an ssh of its own.  So
 * each dk_conn (one per job slot, plus a second for streams) keeps one ssh
 * for as long as libcurl keeps the connection, and closing the connection
 * ends that ssh: it reads the end of its input.  Those ssh are sessions
 * over one master connection opened at the start, so that only the master
 * pays for the handshake and a host that refuses fails the run at once.
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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cst/signals.h"

extern char **environ;

struct ssh_child {
	pid_t pid;
	int errfd; /* ssh's stderr */
	bool mux;  /* a session over the master */
};

/* sshd's MaxSessions is 10 by default, the master's own session one of
 * them: connections beyond that many at once (large --jobs) make their
 * own ssh connection instead of being refused. */
#define MUX_SESSIONS_MAX 9

struct dk_ssh {
	char *argv[24];        /* one connection: a session over the master's */
	char *direct_argv[24]; /* one connection of its own */
	char *master_argv[24];
	char dir[128];         /* private, for the master's control socket */
	char control[160];
	pid_t master;
	int master_in;         /* the master's stdin: its end is cst's end */
	int master_err;
	char name[160]; /* the listener's socket */
	int listener;
	pthread_t acceptor;
	bool acceptor_running;
	pthread_mutex_t lock;
	struct ssh_child *kids;
	size_t n_kids;
	size_t cap_kids;
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

static int spawn_ssh(char **argv, int in, int out, int errfd, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
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
	int rc = posix_spawnp(ret_pid, "ssh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc;
}

static int spawn(struct dk_ssh *s, int conn)
{
	int errfd = memfd_create("cst-ssh-stderr", MFD_CLOEXEC);
	pid_t pid = -1;
	pthread_mutex_lock(&s->lock);
	reap_ended(s);
	size_t sessions = 0;
	for (size_t i = 0; i < s->n_kids; i++)
		sessions += s->kids[i].mux;
	bool mux = sessions < MUX_SESSIONS_MAX;
	pthread_mutex_unlock(&s->lock);
	int rc = spawn_ssh(mux ? s->argv : s->direct_argv, conn, conn, errfd, &pid);
	pthread_mutex_lock(&s->lock);
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
		s->kids[s->n_kids++] = (struct ssh_child){.pid = pid, .errfd = errfd, .mux = mux};
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
		/* The socket's directory is this user's alone; the check keeps
		 * even this user's other processes from an ssh of cst's. */
		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid == getpid())
			spawn(s, conn);
		/* ssh holds its own copies: closing ours leaves the
		 * connection to ssh and libcurl. */
		close(conn);
	}
}

/* ConnectTimeout as the docker CLI sets it: a host that never answers
 * ends the connection, not the run's patience.  Every connection is a
 * session multiplexed over one master connection, so that only the
 * master pays for the handshake. */
static int build_argv(char **argv, const struct dk_endpoint *ep, const char *master, const char *control)
{
	const char *fixed[] = {"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-T",
			       "-o", master, "-o", control, "-o", "ControlPersist=no"};
	size_t n = 0;
	bool ok = true;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		ok = ok && (argv[n++] = strdup(fixed[i]));
	if (ep->ssh_user) {
		ok = ok && (argv[n++] = strdup("-l"));
		ok = ok && (argv[n++] = strdup(ep->ssh_user));
	}
	if (ep->ssh_port) {
		ok = ok && (argv[n++] = strdup("-p"));
		ok = ok && (argv[n++] = strdup(ep->ssh_port));
	}
	const char *tail[] = {"--", ep->ssh_host, "docker", "system", "dial-stdio"};
	for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
		ok = ok && (argv[n++] = strdup(tail[i]));
	return ok ? 0 : -1;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The master runs `docker system dial-stdio` like every connection, with
 * a pipe of cst's as its stdin: it ends when cst does, however cst ends,
 * and a host that refuses or wants a password fails here, at the start. */
static int start_master(struct dk_ssh *s, const char *url, struct cst_error *err)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return cst_error_set(err, CST_E_IO, "ssh transport: pipe: %s", strerror(errno));
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	s->master_err = memfd_create("cst-ssh-master-stderr", MFD_CLOEXEC);
	int rc = out < 0 ? errno : spawn_ssh(s->master_argv, in[0], out, s->master_err, &s->master);
	close(in[0]);
	if (out >= 0)
		close(out);
	s->master_in = in[1];
	if (rc != 0) {
		s->master = -1;
		return cst_error_set(err, CST_E_ENGINE, "cannot reach the Docker engine at %s: cannot run ssh: %s", url,
				     strerror(rc));
	}
	char sock[200];
	snprintf(sock, sizeof(sock), "%s/m", s->dir);
	/* Past ssh's own ConnectTimeout plus the remote login. */
	int64_t deadline = mono_ms() + 90000;
	for (;;) {
		struct stat st;
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		int status = 0;
		if (waitpid(s->master, &status, WNOHANG) == s->master) {
			s->master = -1;
			note_words(s, s->master_err, status);
			rc = cst_error_set(err, CST_E_ENGINE, "cannot reach the Docker engine at %s: %s", url, s->last_words);
			s->last_words[0] = '\0';
			return rc;
		}
		if (cst_signal_check(err) < 0)
			return -1;
		if (mono_ms() > deadline)
			return cst_error_set(err, CST_E_ENGINE, "cannot reach the Docker engine at %s: no ssh connection within 90 s",
					     url);
		/* ssh tells nothing when the socket is there: look again soon. */
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

#define SSH_DIR_PREFIX "cst-ssh-"

static void remove_run_dir(const char *dir)
{
	static const char *const files[] = {"m", "c", "pid"};
	char path[PATH_MAX + 8];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* The directories of runs killed before they could remove theirs
 * (SIGKILL, a crash): each names its run's process in a pid file, and one
 * whose process is gone is removed.  A directory without a pid file is a
 * run just starting; a pid that came back as another process keeps its
 * directory (it is only left longer). */
static void sweep_stale_dirs(const char *tmp)
{
	DIR *d = opendir(tmp);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, SSH_DIR_PREFIX, strlen(SSH_DIR_PREFIX)) != 0)
			continue;
		char dir[PATH_MAX], pidfile[PATH_MAX + 8];
		struct stat st;
		snprintf(dir, sizeof(dir), "%s/%s", tmp, de->d_name);
		if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
			continue;
		snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
		FILE *f = fopen(pidfile, "r");
		long pid = 0;
		bool have = f && fscanf(f, "%ld", &pid) == 1 && pid > 0;
		if (f)
			fclose(f);
		if (!have || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		remove_run_dir(dir);
	}
	closedir(d);
}

static void write_pid_file(const char *dir)
{
	char path[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/pid", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

int dk_ssh_new(const struct dk_endpoint *ep, struct dk_ssh **ret, struct cst_error *err)
{
	struct dk_ssh *s = calloc(1, sizeof(*s));
	if (!s)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	s->listener = -1;
	pthread_mutex_init(&s->lock, NULL);
	*ret = s;
	s->master = -1;
	s->master_in = s->master_err = -1;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp || strlen(tmp) >= 60)
		tmp = "/tmp";
	sweep_stale_dirs(tmp);
	snprintf(s->dir, sizeof(s->dir), "%s/" SSH_DIR_PREFIX "XXXXXX", tmp);
	if (!mkdtemp(s->dir)) {
		int e = errno;
		s->dir[0] = '\0';
		return cst_error_set(err, CST_E_IO, "ssh transport: cannot make a directory for ssh's control socket: %s",
				     strerror(e));
	}
	write_pid_file(s->dir);
	snprintf(s->control, sizeof(s->control), "ControlPath=%s/m", s->dir);
	if (build_argv(s->argv, ep, "ControlMaster=no", s->control) < 0 ||
	    build_argv(s->direct_argv, ep, "ControlMaster=no", "ControlPath=none") < 0 ||
	    build_argv(s->master_argv, ep, "ControlMaster=yes", s->control) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");

	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(s->name, sizeof(s->name), "%s/c", s->dir);
	if (strlen(s->name) >= sizeof(sa.sun_path))
		return cst_error_set(err, CST_E_IO, "ssh transport: the socket path %s is too long", s->name);
	memcpy(sa.sun_path, s->name, strlen(s->name) + 1);
	s->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listener < 0 || bind(s->listener, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s->listener, 64) < 0)
		return cst_error_set(err, CST_E_IO, "ssh transport: cannot listen on %s: %s", s->name, strerror(errno));

	/* Signals are for the threads that can act on them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&s->acceptor, NULL, acceptor, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return cst_error_set(err, CST_E_INTERNAL, "ssh transport: cannot start a thread: %s", strerror(rc));
	s->acceptor_running = true;
	return start_master(s, ep->ssh_url, err);
}

void dk_ssh_setopt(struct dk_ssh *s, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, s->name);
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
	if (s->master_in >= 0)
		close(s->master_in);
	if (s->master > 0) {
		kill(s->master, SIGTERM);
		while (waitpid(s->master, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (s->master_err >= 0)
		close(s->master_err);
	if (s->dir[0])
		remove_run_dir(s->dir);
	for (size_t i = 0; i < sizeof(s->argv) / sizeof(s->argv[0]); i++) {
		free(s->argv[i]);
		free(s->direct_argv[i]);
		free(s->master_argv[i]);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}
