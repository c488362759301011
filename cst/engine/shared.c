/* The containers that --shared-container runs command tests in as execs.
 *
 * One per distinct create body (the run options of a config file make it:
 * user, privileged, capabilities, bind mounts; the engine's runtime and
 * network), started by the first worker that needs it while the others
 * wait for it.  A generation number tells the containers of one slot
 * apart: killing one (the only way to stop a timed-out exec) retires it,
 * and an exec that ran in a retired generation knows that it was cut
 * short, whatever the order in which the workers see it.  A slot whose
 * container cannot be started, or stops before it ran a single command,
 * is unusable: its tests run in containers of their own. */
#include "cst/engine/client.h"

#include <stdlib.h>
#include <string.h>

struct shared_slot {
	json_t *config; /* the create body, without the run labels */
	char *id;       /* the running container; NULL: none now */
	unsigned gen;   /* bumped whenever the running one is retired */
	bool ran;       /* a command ran to its end in the current one */
	bool starting;  /* a worker is starting it */
	bool unusable;
};

struct dk_shared_set {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct shared_slot *v;
	size_t n;
	size_t cap;
};

struct dk_shared_set *dk_shared_new(void)
{
	struct dk_shared_set *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return NULL;
	pthread_mutex_init(&ss->lock, NULL);
	pthread_cond_init(&ss->cond, NULL);
	return ss;
}

/* Says once per slot why its tests run in containers of their own. */
static void unusable(struct cst_docker *d, struct shared_slot *s, const char *why)
{
	if (s->unusable)
		return;
	s->unusable = true;
	if (d->progress)
		fprintf(d->progress,
			"cst: --shared-container: %s; those command tests run in containers of their own\n", why);
}

/* The slot for config, added when new; -1 when out of memory. */
static long find_slot(struct dk_shared_set *ss, const json_t *config)
{
	for (size_t i = 0; i < ss->n; i++)
		if (json_equal(ss->v[i].config, config))
			return (long)i;
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? 2 * ss->cap : 4;
		struct shared_slot *v = realloc(ss->v, cap * sizeof(*v));
		if (!v)
			return -1;
		ss->v = v;
		ss->cap = cap;
	}
	json_t *copy = json_deep_copy(config);
	if (!copy)
		return -1;
	ss->v[ss->n] = (struct shared_slot){.config = copy};
	return (long)ss->n++;
}

static int start(struct cst_docker *d, struct dk_conn *c, const json_t *config, char **ret_id, struct cst_error *err)
{
	/* create adds the run labels to the body it is given */
	json_t *body = json_deep_copy(config);
	if (!body)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	int rc = dk_container_create(d, c, body, ret_id, err);
	json_decref(body);
	if (rc == 0)
		rc = dk_container_start(d, c, *ret_id, err);
	if (rc < 0 && *ret_id && !d->save) {
		struct cst_error e = CST_ERROR_INIT;
		/* A failure here leaves it in the registry for cleanup. */
		dk_container_remove(d, c, *ret_id, &e);
		cst_error_clear(&e);
	}
	if (rc < 0) {
		free(*ret_id);
		*ret_id = NULL;
	}
	return rc;
}

int dk_shared_acquire(struct cst_docker *d, struct dk_conn *c, struct dk_shared_set *ss, const json_t *config,
		      struct dk_shared_ref *ret, struct cst_error *err)
{
	ret->id = NULL;
	pthread_mutex_lock(&ss->lock);
	long k = find_slot(ss, config);
	if (k < 0) {
		pthread_mutex_unlock(&ss->lock);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	ret->slot = (size_t)k;
	/* Whoever starts it broadcasts on every path, and a start is bounded
	 * by the engine requests' own timeouts. */
	while (ss->v[k].starting)
		pthread_cond_wait(&ss->cond, &ss->lock);
	struct shared_slot *s = &ss->v[k];
	if (s->unusable) {
		pthread_mutex_unlock(&ss->lock);
		return 0;
	}
	if (s->id) {
		ret->gen = s->gen;
		ret->id = strdup(s->id);
		pthread_mutex_unlock(&ss->lock);
		return ret->id ? 0 : cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	s->starting = true;
	json_t *cfg = json_incref(s->config);
	pthread_mutex_unlock(&ss->lock);

	char *id = NULL;
	int rc = start(d, c, cfg, &id, err);
	json_decref(cfg);

	pthread_mutex_lock(&ss->lock);
	s = &ss->v[k];
	s->starting = false;
	if (rc == 0) {
		s->id = id;
		s->ran = false;
		ret->gen = s->gen;
		if (!(ret->id = strdup(id)))
			rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
	} else if (err->code != CST_E_INTERRUPTED && err->code != CST_E_NOMEM) {
		char *why = NULL;
		if (asprintf(&why, "cannot start a shared container: %s", err->msg ? err->msg : "unknown error") < 0)
			why = NULL;
		unusable(d, s, why ? why : "cannot start a shared container");
		free(why);
		cst_error_clear(err);
		rc = 0;
	}
	pthread_cond_broadcast(&ss->cond);
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

char *dk_shared_retire(struct dk_shared_set *ss, const struct dk_shared_ref *ref)
{
	char *id = NULL;
	pthread_mutex_lock(&ss->lock);
	struct shared_slot *s = &ss->v[ref->slot];
	if (s->gen == ref->gen && s->id) {
		id = s->id;
		s->id = NULL;
		s->gen++;
	}
	pthread_mutex_unlock(&ss->lock);
	return id;
}

bool dk_shared_done(struct dk_shared_set *ss, const struct dk_shared_ref *ref, bool started)
{
	pthread_mutex_lock(&ss->lock);
	struct shared_slot *s = &ss->v[ref->slot];
	bool current = s->gen == ref->gen;
	if (current && started)
		s->ran = true;
	pthread_mutex_unlock(&ss->lock);
	return current;
}

char *dk_shared_lost(struct cst_docker *d, struct dk_shared_set *ss, const struct dk_shared_ref *ref,
		     bool *ret_unusable)
{
	char *id = NULL;
	pthread_mutex_lock(&ss->lock);
	struct shared_slot *s = &ss->v[ref->slot];
	if (s->gen == ref->gen) {
		/* A container that cannot keep running (its `cat` missing or
		 * odd) would take every test down with it. */
		if (!s->ran)
			unusable(d, s, "the shared container stopped before it ran a command");
		id = s->id;
		s->id = NULL;
		s->gen++;
	}
	*ret_unusable = s->unusable;
	pthread_mutex_unlock(&ss->lock);
	return id;
}

void dk_shared_free(struct cst_docker *d, struct dk_conn *c, struct dk_shared_set *ss)
{
	if (!ss)
		return;
	for (size_t i = 0; i < ss->n; i++) {
		struct shared_slot *s = &ss->v[i];
		struct cst_error e = CST_ERROR_INIT;
		/* A failure here leaves it in the registry for cleanup.  One
		 * kept by --save is stopped like the test containers it keeps,
		 * with what the tests left in it: nothing of the run runs on. */
		if (s->id && !d->save)
			dk_container_remove_leaving(d, c, s->id, &e);
		else if (s->id)
			dk_container_kill(d, c, s->id, &e);
		cst_error_clear(&e);
		free(s->id);
		json_decref(s->config);
	}
	free(ss->v);
	pthread_cond_destroy(&ss->cond);
	pthread_mutex_destroy(&ss->lock);
	free(ss);
}
