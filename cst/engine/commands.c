/* Command tests in throwaway containers, several at once.
 *
 * As container-structure-test does it: per test a fresh container from the
 * image with the entrypoint cleared and Cmd = the command; the job's
 * image_env and env are sent and the engine adds the image's own env
 * underneath; each setup command runs in its own container (no TTY, only
 * image_env), committed to an image the next step uses (its exit code
 * ignored).  teardown is ignored, as CST's docker
 * driver ignores it: the test's container is thrown away anyway.
 *
 * Unlike CST, a test has a timeout (the container is killed, what it printed
 * so far is kept) and tests run in parallel, each worker with its own
 * connection.  A problem of one test (a command that does not exist, a bad
 * bind mount) becomes that test's failure; only a lost engine or a signal
 * stops the run.
 *
 * Each worker is a job slot with, unless --network-per-test, a network
 * sandbox of its own (sandbox.c) started before its first test: the
 * test's and setup steps' containers join its network namespace instead
 * of getting a network each, which halves a container's start.  Tests
 * that could change that namespace for the next one keep their own.
 *
 * With --shared-container, tests without setup run as execs in one running
 * container per set of run options (shared.c, exec.c) instead: a container
 * start costs several times an exec.  Tests then see each other's changes
 * to the container, which is why it is not the default. */
#include "cst/engine/client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cst/progress.h"
#include "cst/signals.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* lens: each string's length (it may hold NUL bytes); NULL: C strings. */
static json_t *strv_json(char *const *v, const size_t *lens, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_stringn(v[i], lens ? lens[i] : strlen(v[i]))) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *cst_strv_json(const struct cst_strv *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < v->n; i++)
		if (v->v[i].s && json_array_append_new(a, json_string(v->v[i].s)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static size_t vec_len(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

/* The env a container of the job is created with (the engine puts the
 * image's own under it): image_env, and for the test's own container (not
 * a setup step's) the job's env over it; last, the entries that hold a NUL
 * byte, for the engine to refuse. */
static json_t *job_env(const struct cst_command_job *job, bool setup)
{
	struct cst_env_list env = {0};
	json_t *ret = NULL;
	if (cst_env_copy(&env, &job->image_env) == 0 && (setup || cst_env_copy(&env, &job->env) == 0))
		ret = strv_json(env.v, NULL, env.n);
	cst_env_release(&env);
	for (size_t i = 0; ret && i < job->n_env_nul; i++)
		if (json_array_append_new(ret, json_stringn(job->env_nul[i], job->env_nul_len[i])) < 0) {
			json_decref(ret);
			ret = NULL;
		}
	return ret;
}

/* The create body for one container of the job; argv runs with the image's
 * entrypoint cleared, on network net ("container:ID" of a sandbox; NULL:
 * the --network asked for). */
static json_t *job_config(struct cst_docker *d, const struct cst_command_job *job, const char *image, char **argv,
			  const size_t *argv_len, size_t argc, json_t *env, bool tty, const char *net)
{
	const struct cst_run_options *o = job->opts && job->opts->present ? job->opts : NULL;
	json_t *c = json_object();
	json_t *hc = json_object();
	if (!c || !hc)
		goto fail;
	json_object_set_new(c, "HostConfig", hc);
	if (json_object_set_new(c, "Image", json_string(image)) < 0 ||
	    json_object_set_new(c, "Entrypoint", json_array()) < 0 ||
	    json_object_set_new(c, "Cmd", strv_json(argv, argv_len, argc)) < 0 || json_object_set(c, "Env", env) < 0 ||
	    json_object_set_new(c, "AttachStdout", json_true()) < 0 ||
	    json_object_set_new(c, "AttachStderr", json_true()) < 0 || json_object_set_new(c, "Tty", json_boolean(tty)) < 0)
		goto fail;
	if (o && o->user.s && *o->user.s && json_object_set_new(c, "User", json_string(o->user.s)) < 0)
		goto fail;
	if (o && o->privileged && json_object_set_new(hc, "Privileged", json_true()) < 0)
		goto fail;
	if (o && o->capabilities.n && json_object_set_new(hc, "CapAdd", cst_strv_json(&o->capabilities)) < 0)
		goto fail;
	if (o && o->bind_mounts.n && json_object_set_new(hc, "Binds", cst_strv_json(&o->bind_mounts)) < 0)
		goto fail;
	if (d->runtime && *d->runtime && json_object_set_new(hc, "Runtime", json_string(d->runtime)) < 0)
		goto fail;
	if (!net)
		net = d->network;
	if (net && *net && json_object_set_new(hc, "NetworkMode", json_string(net)) < 0)
		goto fail;
	/* Output is read from the attach stream.  The engine's log would keep
	 * a second copy on its disk, and the json-file driver's per-line
	 * overhead makes a chatty command slow (32 MiB of "y\n" take minutes
	 * instead of a second); kept containers keep their logs to look at. */
	if (!d->save) {
		json_t *lc = json_pack("{s:s, s:{}}", "Type", "none", "Config");
		if (!lc || json_object_set_new(hc, "LogConfig", lc) < 0)
			goto fail;
	}
	return c;
fail:
	if (!c)
		json_decref(hc);
	json_decref(c);
	return NULL;
}

/* Removes finished test containers on its own connection while the
 * workers go on with the next tests, as `docker run --rm` leaves removal
 * to the engine: a removal costs about as much as a create, and nothing
 * waits for it.  What it has not removed when the run ends stays in the
 * registry, and cleanup removes it. */
struct remover {
	struct cst_docker *d;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char **ids;
	size_t n;
	size_t cap;
	bool done;
	bool running;
	pthread_t tid;
};

struct worker {
	struct cst_docker *d;
	struct dk_conn *c;
	struct dk_conn *ac; /* the attach stream's */
	const char *image;  /* as asked for, for messages */
	struct remover *rm; /* NULL: remove in the worker */
	struct dk_shared_set *ss; /* --shared-container; NULL: off */
	const char *pause_image; /* network sandboxes' image; NULL: none */
	char *sandbox;      /* this slot's network sandbox; NULL: none */
};

/* Hands id over to the remover; false (id kept) when it cannot take it. */
static bool remover_push(struct remover *rm, char **id)
{
	if (!rm || !rm->running || !*id)
		return false;
	bool taken = false;
	pthread_mutex_lock(&rm->lock);
	if (rm->n == rm->cap) {
		size_t cap = rm->cap ? rm->cap * 2 : 16;
		char **v = realloc(rm->ids, cap * sizeof(*v));
		if (v) {
			rm->ids = v;
			rm->cap = cap;
		}
	}
	if (rm->n < rm->cap) {
		rm->ids[rm->n++] = *id;
		*id = NULL;
		taken = true;
		pthread_cond_signal(&rm->cond);
	}
	pthread_mutex_unlock(&rm->lock);
	return taken;
}

static void *remover_thread(void *ud)
{
	struct remover *rm = ud;
	struct dk_conn c;
	struct cst_error e = CST_ERROR_INIT;
	bool have_conn = dk_conn_init(&c, &e) == 0;
	cst_error_clear(&e);
	for (;;) {
		pthread_mutex_lock(&rm->lock);
		while (rm->n == 0 && !rm->done)
			pthread_cond_wait(&rm->cond, &rm->lock);
		if (rm->n == 0) {
			pthread_mutex_unlock(&rm->lock);
			break;
		}
		char *id = rm->ids[--rm->n];
		pthread_mutex_unlock(&rm->lock);
		/* A failure leaves the container in the registry for cleanup. */
		if (have_conn && !cst_signal_pending())
			dk_container_remove(rm->d, &c, id, &e);
		cst_error_clear(&e);
		free(id);
	}
	if (have_conn)
		dk_conn_release(&c);
	return NULL;
}

/* Removes queued containers on the caller's connection until none is
 * left: a worker out of tests helps, so that the last round's removals
 * run side by side instead of one after the other at the end. */
static void remover_help(struct remover *rm, struct dk_conn *c)
{
	if (!rm || !rm->running)
		return;
	for (;;) {
		pthread_mutex_lock(&rm->lock);
		char *id = rm->n ? rm->ids[--rm->n] : NULL;
		pthread_mutex_unlock(&rm->lock);
		if (!id)
			return;
		struct cst_error e = CST_ERROR_INIT;
		/* A failure leaves the container in the registry for cleanup. */
		if (!cst_signal_pending())
			dk_container_remove(rm->d, c, id, &e);
		cst_error_clear(&e);
		free(id);
	}
}

static void remover_start(struct remover *rm, struct cst_docker *d)
{
	memset(rm, 0, sizeof(*rm));
	rm->d = d;
	if (d->save)
		return;
	pthread_mutex_init(&rm->lock, NULL);
	pthread_cond_init(&rm->cond, NULL);
	rm->running = pthread_create(&rm->tid, NULL, remover_thread, rm) == 0;
	if (!rm->running) {
		pthread_cond_destroy(&rm->cond);
		pthread_mutex_destroy(&rm->lock);
	}
}

static void remover_finish(struct remover *rm)
{
	if (!rm->running)
		return;
	pthread_mutex_lock(&rm->lock);
	rm->done = true;
	pthread_cond_signal(&rm->cond);
	pthread_mutex_unlock(&rm->lock);
	pthread_join(rm->tid, NULL);
	for (size_t i = 0; i < rm->n; i++)
		free(rm->ids[i]);
	free(rm->ids);
	pthread_cond_destroy(&rm->cond);
	pthread_mutex_destroy(&rm->lock);
	rm->running = false;
}

/* Creates, starts and waits for one container; *ret_id is set as soon as
 * the container exists, so the caller removes it whatever happens. */
static int run_container(struct worker *w, json_t *config, double timeout, char **ret_id, int *ret_exit,
			 bool *ret_timed_out, struct cst_error *err)
{
	if (dk_container_create(w->d, w->c, config, ret_id, err) < 0)
		return -1;
	if (dk_container_start(w->d, w->c, *ret_id, err) < 0)
		return -1;
	return dk_container_wait(w->d, w->c, *ret_id, timeout, ret_exit, ret_timed_out, err);
}

static void drop_container(struct worker *w, char **id)
{
	if (*id && !w->d->save) {
		struct cst_error e = CST_ERROR_INIT;
		/* A failure here leaves it in the registry for cleanup. */
		dk_container_remove(w->d, w->c, *id, &e);
		cst_error_clear(&e);
	}
	free(*id);
	*id = NULL;
}

/* Whether an error of one test should stop the whole run: the engine no
 * longer answers, the image under test is gone, memory or descriptors ran
 * out or a signal came.  e then says why the run stopped. */
static bool run_must_stop(struct worker *w, const char *image, struct cst_error *e)
{
	/* CST_E_IO: this process's own limits (descriptors), not the image's. */
	if (e->code == CST_E_INTERRUPTED || e->code == CST_E_NOMEM || e->code == CST_E_IO)
		return true;
	if (cst_signal_check(e) < 0)
		return true;
	struct cst_error pe = CST_ERROR_INIT;
	if (!dk_engine_alive(w->d, w->c, &pe)) {
		cst_error_set(e, CST_E_ENGINE, "the Docker engine stopped during the run: %s",
			      pe.msg ? pe.msg : "no reply");
		cst_error_clear(&pe);
		return true;
	}
	/* Every test after this one would fail the same way, and their
	 * verdicts would say nothing about the image. */
	char *path = NULL;
	if (asprintf(&path, "/images/%s/json", image) < 0)
		return false;
	struct dk_request ir = {.path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	long status = 0;
	bool gone = dk_call(w->d, w->c, &ir, &status, NULL, &pe) < 0 && status == 404;
	free(path);
	cst_error_clear(&pe);
	if (gone)
		cst_error_set(e, CST_E_ENGINE, "the image %s was removed from the engine during the run", w->image);
	return gone;
}

/* The create body of the shared container for job's run options: what
 * job_config() gives its own container, kept alive by `cat` waiting on a
 * stdin that stays open (busybox and distribution images have it; an
 * image without it has its tests run in containers of their own).  No
 * env and no TTY: an exec brings its own. */
static json_t *shared_config(struct cst_docker *d, const struct cst_command_job *job, const char *image)
{
	char cat[] = "cat";
	char *argv[] = {cat};
	json_t *env = json_array();
	json_t *c = env ? job_config(d, job, image, argv, NULL, 1, env, false, NULL) : NULL;
	json_decref(env);
	if (!c)
		return NULL;
	json_object_del(c, "Env");
	if (json_object_set_new(c, "OpenStdin", json_true()) < 0 || json_object_set_new(c, "Tty", json_false()) < 0 ||
	    json_object_set_new(c, "AttachStdout", json_false()) < 0 ||
	    json_object_set_new(c, "AttachStderr", json_false()) < 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* The exec create body: the command, env, user and TTY its own container
 * would have had (the container's env and working directory are the
 * image's, under the exec's env, as for a container). */
static json_t *exec_config(const struct cst_command_job *job, json_t *env)
{
	const struct cst_run_options *o = job->opts && job->opts->present ? job->opts : NULL;
	json_t *c = json_pack("{s:o?, s:O, s:b, s:b, s:b}", "Cmd", strv_json(job->argv, job->argv_len, job->argc),
			      "Env", env, "AttachStdout", 1, "AttachStderr", 1, "Tty", o && o->allocate_tty);
	if (!c || !json_object_get(c, "Cmd"))
		goto fail;
	if (o && o->user.s && *o->user.s && json_object_set_new(c, "User", json_string(o->user.s)) < 0)
		goto fail;
	if (o && o->privileged && json_object_set_new(c, "Privileged", json_true()) < 0)
		goto fail;
	return c;
fail:
	json_decref(c);
	return NULL;
}

/* The worker's note of the shared container it is about to kill: taken
 * out of use first, so that no other exec starts in it and every exec
 * that was running in it learns it was cut short. */
struct kill_note {
	struct dk_shared_set *ss;
	const struct dk_shared_ref *ref;
	char *retired; /* to remove once the exec's stream has ended */
};

static void retire_before_kill(void *ud)
{
	struct kill_note *kn = ud;
	if (!kn->retired)
		kn->retired = dk_shared_retire(kn->ss, kn->ref);
}

/* A dead shared container goes the way a test's own container goes. */
static void drop_shared(struct worker *w, char **id)
{
	if (*id && !remover_push(w->rm, id))
		drop_container(w, id);
}

/* The job as an exec in the shared container of its run options.  *ret_own
 * when there is none to be had: the job then runs in a container of its
 * own.
 *
 * A test's timeout kills the shared container with every exec in it.  The
 * tests that were running there beside it are run once more, from the
 * start, in the next shared container: their output was cut, and the
 * container they had changed is gone anyway.  Cut short a second time
 * they fail, saying why, rather than run on without end. */
static int run_shared(struct worker *w, const char *image, const struct cst_command_job *job, json_t *env,
		      struct cst_command_outcome *o, bool *ret_own, struct cst_error *err)
{
	struct cst_docker *d = w->d;
	bool tty = job->opts && job->opts->present && job->opts->allocate_tty;
	json_t *ccfg = shared_config(d, job, image);
	json_t *xcfg = exec_config(job, env);
	int rc = -1;
	*ret_own = false;
	if (!ccfg || !xcfg) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	for (int attempt = 0;; attempt++) {
		struct dk_shared_ref ref;
		if (dk_shared_acquire(d, w->c, w->ss, ccfg, &ref, err) < 0)
			goto out;
		if (!ref.id) {
			*ret_own = true;
			break;
		}
		cst_buf_reset(&o->out);
		cst_buf_reset(&o->err);
		struct kill_note kn = {w->ss, &ref, NULL};
		struct dk_exec x = {
			.container = ref.id,
			.config = xcfg,
			.tty = tty,
			.timeout_s = job->timeout,
			.before_kill = retire_before_kill,
			.ud = &kn,
		};
		int r = dk_exec_run(d, w->c, w->ac, &x, &o->out, &o->err, err);
		const char *cut = NULL;
		char *lost = NULL;
		if (r == 0 && x.gone) {
			lost = dk_shared_lost(d, w->ss, &ref, ret_own);
			cut = "the shared container stopped";
		} else if (r == 0 && !x.killed && !dk_shared_done(w->ss, &ref, !x.not_started)) {
			cut = "the shared container was killed at another test's timeout";
		}
		drop_shared(w, &kn.retired);
		drop_shared(w, &lost);
		free(ref.id);
		if (r < 0 || *ret_own) {
			free(x.not_started);
			if (r < 0)
				goto out;
			break;
		}
		if (cut) {
			free(x.not_started);
			if (attempt == 0)
				continue;
			cst_error_set(err, CST_E_ENGINE, "not run to its end: %s, twice, while it ran", cut);
			goto out;
		}
		if (x.not_started) {
			cst_error_set(err, CST_E_ENGINE, "%s", x.not_started);
			free(x.not_started);
			goto out;
		}
		o->exit_code = x.exit_code;
		o->timed_out = x.timed_out;
		break;
	}
	if (*ret_own) {
		cst_buf_reset(&o->out);
		cst_buf_reset(&o->err);
	}
	rc = 0;
out:
	json_decref(ccfg);
	json_decref(xcfg);
	return rc;
}

/* Starts the slot's network sandbox.  One that cannot be started leaves
 * the slot's tests on networks of their own; -1 only when the run must
 * stop. */
static int sandbox_open(struct worker *w, struct cst_error *err)
{
	struct cst_error e = CST_ERROR_INIT;
	if (dk_sandbox_start(w->d, w->c, w->pause_image, &w->sandbox, &e) == 0)
		return 0;
	if (e.code == CST_E_INTERRUPTED || e.code == CST_E_NOMEM || cst_signal_pending()) {
		cst_error_move(err, &e);
		return -1;
	}
	if (w->d->info && w->d->progress)
		fprintf(w->d->progress, "cst: %s; this job slot's command tests run on networks of their own\n",
			e.msg ? e.msg : "no network sandbox");
	cst_error_clear(&e);
	return 0;
}

/* After a test that could not be run: when the slot's sandbox is what
 * failed (it stopped: removed by hand, killed by the engine), the slot
 * goes on without it and true says to run the test again. */
static bool sandbox_lost(struct worker *w, const struct cst_command_outcome *o)
{
	if (!w->sandbox || !o->failure || cst_signal_pending())
		return false;
	char *path = dk_id_path(w->c, "/containers/", w->sandbox, "/json");
	if (!path)
		return false;
	struct dk_request r = {.path = path, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	json_t *info = NULL;
	long status = 0;
	struct cst_error e = CST_ERROR_INIT;
	long st = dk_call_json(w->d, w->c, &r, &info, &status, &e);
	free(path);
	bool running = json_is_true(json_object_get(json_object_get(info, "State"), "Running"));
	json_decref(info);
	cst_error_clear(&e);
	/* An engine that does not answer is for run_must_stop() to judge. */
	if ((st < 0 && status != 404) || running)
		return false;
	if (w->d->info && w->d->progress)
		fprintf(w->d->progress,
			"cst: the network sandbox %.12s stopped; this job slot's command tests run on networks of their own\n",
			w->sandbox);
	drop_container(w, &w->sandbox);
	return true;
}

/* The network the job's containers join: "container:ID" of the slot's
 * sandbox, or NULL (*net untouched) for a network of their own. */
static int job_network(struct worker *w, const struct cst_command_job *job, char **net, struct cst_error *err)
{
	if (!w->sandbox || !dk_sandbox_may_join(job->opts))
		return 0;
	if (asprintf(net, "container:%s", w->sandbox) < 0) {
		*net = NULL;
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	return 0;
}

static int run_job(struct worker *w, const char *image, const struct cst_command_job *job,
		   struct cst_command_outcome *o, struct cst_error *err)
{
	struct cst_docker *d = w->d;
	int64_t t0 = now_ns();
	char **images = NULL; /* committed setup images, newest last */
	size_t n_images = 0;
	char *id = NULL;
	json_t *env = NULL;
	json_t *setup_env = NULL;
	json_t *config = NULL;
	char *net = NULL;
	struct cst_error e = CST_ERROR_INIT;
	int rc = 0;
	bool tty = job->opts && job->opts->present && job->opts->allocate_tty;

	cst_buf_init(&o->out, DK_OUTPUT_MAX);
	cst_buf_init(&o->err, DK_OUTPUT_MAX);
	o->out.budget = o->err.budget = d->output_budget;
	o->exit_code = -1;
	o->timed_out = false;
	o->failure = NULL;

	if (!(env = job_env(job, false)) || (job->n_setup && !(setup_env = job_env(job, true)))) {
		cst_error_set(&e, CST_E_NOMEM, "out of memory");
		goto test_failed;
	}
	if (w->ss && !job->n_setup) {
		bool own = false;
		if (run_shared(w, image, job, env, o, &own, &e) < 0)
			goto test_failed;
		if (!own)
			goto ran;
	}
	if (job_network(w, job, &net, &e) < 0)
		goto test_failed;
	if (job->n_setup && !(images = calloc(job->n_setup, sizeof(*images)))) {
		cst_error_set(&e, CST_E_NOMEM, "out of memory");
		goto test_failed;
	}

	const char *current = image;
	for (size_t s = 0; s < job->n_setup; s++) {
		char **argv = job->setup[s];
		int code = 0;
		bool timed_out = false;
		/* As CST's setup containers: no TTY, and only what CST commits
		 * into the image first in their env. */
		if (!(config = job_config(d, job, current, argv, job->setup_len ? job->setup_len[s] : NULL, vec_len(argv),
					  setup_env, false, net))) {
			cst_error_set(&e, CST_E_NOMEM, "out of memory");
			goto test_failed;
		}
		int r = run_container(w, config, job->timeout, &id, &code, &timed_out, &e);
		json_decref(config);
		config = NULL;
		if (r == 0 && timed_out)
			r = cst_error_set(&e, CST_E_ENGINE, "timed out after %g s", job->timeout);
		if (r == 0)
			r = dk_container_commit(d, w->c, id, &images[n_images], &e);
		drop_container(w, &id);
		if (r < 0) {
			cst_error_wrap(&e, "setup command '%s'", argv && argv[0] ? argv[0] : "");
			goto test_failed;
		}
		current = images[n_images++];
	}

	if (!(config = job_config(d, job, current, job->argv, job->argv_len, job->argc, env, tty, net))) {
		cst_error_set(&e, CST_E_NOMEM, "out of memory");
		goto test_failed;
	}
	int r = dk_container_create(d, w->c, config, &id, &e);
	if (r == 0)
		r = dk_container_run_attached(d, w->c, w->ac, id, tty, job->timeout, &o->out, &o->err, &o->exit_code,
					      &o->timed_out, &e);
	if (r < 0)
		goto test_failed;
ran:
	/* Killed, and not by cst: a stopping engine kills every container
	 * first, and the verdict would blame the command. */
	if (!o->timed_out && (o->exit_code == 137 || o->exit_code == 143) && !dk_engine_alive(d, w->c, &e)) {
		cst_error_wrap(&e, "the Docker engine stopped during the run");
		cst_error_move(err, &e);
		rc = -1;
		goto done;
	}
	goto done;

test_failed:
	if (run_must_stop(w, image, &e)) {
		cst_error_move(err, &e);
		rc = -1;
	} else {
		o->failure = strdup(e.msg ? e.msg : "the command could not be run");
		if (!o->failure) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			rc = -1;
		}
		o->exit_code = -1;
	}
done:
	json_decref(config);
	free(net);
	/* With setup images the container must be gone before its image can
	 * go; otherwise its removal need not hold up the next test. */
	if (n_images || !remover_push(w->rm, &id))
		drop_container(w, &id);
	for (size_t i = n_images; i-- > 0;) {
		if (!d->save) {
			struct cst_error ie = CST_ERROR_INIT;
			dk_image_remove(d, w->c, images[i], &ie);
			cst_error_clear(&ie);
		}
		free(images[i]);
	}
	free(images);
	json_decref(env);
	json_decref(setup_env);
	cst_error_clear(&e);
	o->duration_ns = now_ns() - t0;
	return rc;
}

struct pool {
	struct cst_docker *d;
	const char *image; /* what containers are created from */
	const char *name;  /* what the user named */
	const struct cst_command_job *jobs;
	struct cst_command_outcome *outs;
	size_t n;
	size_t *order; /* jobs in the order they are started */
	struct remover *rm;
	struct dk_shared_set *ss;
	const char *pause_image;
	size_t n_sandboxes; /* the first slots to start have one */
	size_t slots;       /* slots started so far */
	pthread_mutex_t lock;
	size_t next;
	bool stop;
	struct cst_error fatal;
	struct cst_progress *meter; /* tests done of all */
};

static void pool_fail(struct pool *p, struct cst_error *e)
{
	pthread_mutex_lock(&p->lock);
	if (p->fatal.code == CST_OK)
		cst_error_move(&p->fatal, e);
	p->stop = true;
	pthread_mutex_unlock(&p->lock);
	cst_error_clear(e);
}

static void pool_work(struct pool *p, struct dk_conn *c)
{
	struct dk_conn ac;
	struct cst_error ae = CST_ERROR_INIT;
	if (dk_conn_init(&ac, &ae) < 0) {
		pool_fail(p, &ae);
		return;
	}
	struct worker w = {p->d, c, &ac, p->name, p->rm, p->ss, p->pause_image, NULL};
	/* Started before the slot's first test, each slot its own at once:
	 * as many as there can be tests joining one at the same time. */
	pthread_mutex_lock(&p->lock);
	bool sandbox = p->slots++ < p->n_sandboxes && !p->stop;
	pthread_mutex_unlock(&p->lock);
	struct cst_error se = CST_ERROR_INIT;
	if (sandbox && sandbox_open(&w, &se) < 0) {
		pool_fail(p, &se);
		dk_conn_release(&ac);
		return;
	}
	for (;;) {
		pthread_mutex_lock(&p->lock);
		/* The run stops it from outside when the read of the image's
		 * files beside it fails. */
		bool stop = p->stop || p->next >= p->n || atomic_load(&p->d->commands_stopped);
		size_t i = stop ? 0 : p->order[p->next];
		if (!stop)
			p->next++;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			break;
		struct cst_error e = CST_ERROR_INIT;
		int r = run_job(&w, p->image, &p->jobs[i], &p->outs[i], &e);
		if (r == 0 && sandbox_lost(&w, &p->outs[i])) {
			cst_command_outcome_release(&p->outs[i]);
			r = run_job(&w, p->image, &p->jobs[i], &p->outs[i], &e);
		}
		if (r < 0) {
			pool_fail(p, &e);
			break;
		}
		cst_progress_add(p->meter, 1);
	}
	remover_help(p->rm, c);
	/* Other slots' test containers may still wait for the remover: a
	 * sandbox goes whatever joined it. */
	if (w.sandbox && !p->d->save) {
		struct cst_error e = CST_ERROR_INIT;
		/* A failure here leaves it in the registry for cleanup. */
		dk_container_remove_leaving(p->d, c, w.sandbox, &e);
		cst_error_clear(&e);
	}
	free(w.sandbox);
	w.sandbox = NULL;
	dk_conn_release(&ac);
}

static void *pool_thread(void *ud)
{
	struct pool *p = ud;
	struct dk_conn c;
	struct cst_error e = CST_ERROR_INIT;
	if (dk_conn_init(&c, &e) < 0) {
		pool_fail(p, &e);
		return NULL;
	}
	pool_work(p, &c);
	dk_conn_release(&c);
	return NULL;
}

/* Tests with setup commands take several containers and a commit each:
 * started first, they do not leave one worker busy at the end while the
 * others idle.  Otherwise config order (results are reported in config
 * order whatever the start order). */
static size_t *start_order(const struct cst_command_job *jobs, size_t n)
{
	size_t *order = malloc((n ? n : 1) * sizeof(*order));
	if (!order)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (jobs[i].n_setup)
			order[k++] = i;
	for (size_t i = 0; i < n; i++)
		if (!jobs[i].n_setup)
			order[k++] = i;
	return order;
}

/* The image of the run's network sandboxes, or NULL when its tests get
 * networks of their own: sandboxes are off, the network asked for has
 * no namespace to share, no test may join one, or --save keeps the
 * containers (a kept one must start again without its sandbox).  -1 only
 * when the run must stop. */
static int sandbox_image(struct cst_docker *d, struct dk_conn *c, const struct cst_command_job *jobs, size_t n,
			 char **ret, size_t *ret_joining, struct cst_error *err)
{
	*ret = NULL;
	*ret_joining = 0;
	if (!d->network_sandbox || d->save || !dk_sandbox_network_ok(d->network))
		return 0;
	size_t joining = 0;
	for (size_t i = 0; i < n; i++)
		if (dk_sandbox_may_join(jobs[i].opts) && !(d->shared_container && !jobs[i].n_setup))
			joining++;
	if (!joining)
		return 0;
	*ret_joining = joining;
	struct cst_error e = CST_ERROR_INIT;
	if (dk_pause_image(d, c, ret, &e) < 0) {
		if (e.code == CST_E_INTERRUPTED || e.code == CST_E_NOMEM || cst_signal_pending()) {
			cst_error_move(err, &e);
			return -1;
		}
		if (d->info && d->progress)
			fprintf(d->progress, "cst: %s; command tests run on networks of their own\n",
				e.msg ? e.msg : "no network sandboxes");
		cst_error_clear(&e);
		return 0;
	}
	if (d->info && d->progress)
		fprintf(d->progress, "cst: command tests join a network sandbox per job slot (%s)\n", *ret);
	return 0;
}

static int run_commands_on(struct cst_docker *d, struct dk_conn *mc, const char *image,
			   struct cst_command_job *jobs, size_t n, struct cst_command_outcome *outs,
			   struct cst_error *err);

int cst_docker_run_commands(struct cst_docker *d, const char *image, struct cst_command_job *jobs, size_t n,
			    struct cst_command_outcome *outs, struct cst_error *err)
{
	/* A connection of its own, not d->conn: the run may read the
	 * image's files over that one meanwhile. */
	struct dk_conn mc;
	if (dk_conn_init(&mc, err) < 0)
		return -1;
	int rc = run_commands_on(d, &mc, image, jobs, n, outs, err);
	dk_conn_release(&mc);
	return rc;
}

void cst_docker_stop_commands(struct cst_docker *d)
{
	atomic_store(&d->commands_stopped, true);
}

static int run_commands_on(struct cst_docker *d, struct dk_conn *mc, const char *image,
			   struct cst_command_job *jobs, size_t n, struct cst_command_outcome *outs,
			   struct cst_error *err)
{
	char *pause_image = NULL;
	size_t joining = 0;
	if (sandbox_image(d, mc, jobs, n, &pause_image, &joining, err) < 0)
		return -1;
	size_t *order = start_order(jobs, n);
	struct dk_shared_set *ss = d->shared_container ? dk_shared_new() : NULL;
	if (!order || (d->shared_container && !ss)) {
		free(order);
		free(pause_image);
		dk_shared_free(d, mc, ss);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	struct remover rm;
	remover_start(&rm, d);
	struct pool p = {
		.d = d,
		.image = d->pin_id && d->pin_name && strcmp(d->pin_name, image) == 0 ? d->pin_id : image,
		.name = image,
		.jobs = jobs,
		.outs = outs,
		.n = n,
		.order = order,
		.rm = &rm,
		.ss = ss,
		.pause_image = pause_image,
		.fatal = CST_ERROR_INIT,
		.meter = cst_progress_start(d->meter, "command tests", n, CST_PROGRESS_COUNT),
	};
	pthread_mutex_init(&p.lock, NULL);
	int slots = pause_image ? d->sandbox_jobs : d->jobs;
	size_t nthreads = (size_t)(slots > 0 ? slots : 1);
	if (nthreads > n)
		nthreads = n;
	if (pause_image)
		p.n_sandboxes = joining < nthreads ? joining : nthreads;

	if (nthreads <= 1) {
		pool_work(&p, mc);
	} else {
		pthread_t *tids = calloc(nthreads, sizeof(*tids));
		size_t started = 0;
		for (; tids && started < nthreads; started++)
			if (pthread_create(&tids[started], NULL, pool_thread, &p) != 0)
				break;
		/* With no thread at all the calling thread still does the
		 * work; fewer threads only make the run slower. */
		if (started == 0)
			pool_work(&p, mc);
		for (size_t i = 0; i < started; i++)
			pthread_join(tids[i], NULL);
		free(tids);
	}
	cst_progress_stop(p.meter);
	pthread_mutex_destroy(&p.lock);
	dk_shared_free(d, mc, ss);
	remover_finish(&rm);
	/* Jobs never reached keep empty outcomes with a reason. */
	for (size_t k = p.next; k < n; k++) {
		size_t i = order[k];
		cst_buf_init(&outs[i].out, DK_OUTPUT_MAX);
		cst_buf_init(&outs[i].err, DK_OUTPUT_MAX);
		outs[i].exit_code = -1;
		if (!outs[i].failure)
			outs[i].failure = strdup("not run: the run was stopped");
	}
	free(order);
	free(pause_image);
	if (p.fatal.code != CST_OK) {
		cst_error_move(err, &p.fatal);
		return -1;
	}
	return 0;
}
