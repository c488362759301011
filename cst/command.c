/* A command test as CST's docker driver runs it, made into a job.
 *
 * CST (v1.15.0, pkg/types/v2 and v1, pkg/drivers/docker_driver.go) does,
 * per test:
 * - schema 2.0.0: commits the globalEnvVars (values expanded against the
 *   image env) into the image; schema 1.0.0 does not;
 * - with setup, runs each setup command as given (no expansion) in a
 *   container whose env is the test's envVars (2.0.0) or the globals and
 *   then the test's envVars (1.0.0), values expanded against the env of
 *   the image so far, and commits it: the test's envVars are then in the
 *   image too;
 * - expands command and args against the env of the image the test runs on
 *   (so per-test envVars take part only with setup, and 1.0.0's globals
 *   only with setup);
 * - creates the test's container with the test's envVars as given, or,
 *   when any containerRunOptions are set, with the envFile's variables and
 *   the named host variables instead (cst keeps the test's envVars there
 *   when it has no setup; with setup they are in the image already).
 * cst commits nothing for env: the layers go into the job's image_env and
 * env (command.h), which give the same process env. */
#include "cst/command.h"

#include <stdlib.h>
#include <string.h>

static void free_vecs(char ***v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (char **p = v[i]; p && *p; p++)
			free(*p);
		free(v[i]);
	}
	free(v);
}

void cst_command_job_release(struct cst_command_job *job)
{
	for (size_t i = 0; i < job->argc; i++)
		free(job->argv[i]);
	free(job->argv);
	cst_env_release(&job->image_env);
	cst_env_release(&job->env);
	free_vecs(job->setup, job->n_setup);
	free_vecs(job->teardown, job->n_teardown);
	free(job->argv_len);
	for (size_t i = 0; job->setup_len && i < job->n_setup; i++)
		free(job->setup_len[i]);
	free(job->setup_len);
	for (size_t i = 0; i < job->n_env_nul; i++)
		free(job->env_nul[i]);
	free(job->env_nul);
	free(job->env_nul_len);
	memset(job, 0, sizeof(*job));
}

void cst_command_outcome_release(struct cst_command_outcome *o)
{
	cst_buf_release(&o->out);
	cst_buf_release(&o->err);
	free(o->failure);
	memset(o, 0, sizeof(*o));
}

bool cst_run_options_set(const struct cst_run_options *o)
{
	return o->present && ((o->user.s && *o->user.s) || o->privileged || o->allocate_tty ||
			      (o->env_file.s && *o->env_file.s) || o->env_vars.n || o->capabilities.n ||
			      o->bind_mounts.n);
}

bool cst_config_is_v1(const struct cst_config *cfg)
{
	return cfg->schema_version && strcmp(cfg->schema_version, "1.0.0") == 0;
}

static bool kv_has_nul(const struct cst_kv *kv)
{
	return cst_str_has_nul(kv->key, kv->key_len) || cst_str_has_nul(kv->value, kv->value_len);
}

/* Sets each of kv's variables in dst, its value expanded against base
 * (NULL: as given).  A variable holding a NUL byte is left to
 * add_env_nul(). */
static int set_all(struct cst_env_list *dst, const struct cst_kvv *kv, const struct cst_env_list *base)
{
	for (size_t i = 0; i < kv->n; i++) {
		if (kv_has_nul(&kv->v[i]))
			continue;
		const char *v = kv->v[i].value ? kv->v[i].value : "";
		char *x = base ? cst_expand(v, base) : strdup(v);
		int rc = x && kv->v[i].key ? cst_env_set(dst, kv->v[i].key, x) : (x ? 0 : -1);
		free(x);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int cst_command_globals(const struct cst_config *cfg, const struct cst_env_list *image, struct cst_env_list *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (cst_config_is_v1(cfg))
		return 0;
	return set_all(ret, &cfg->global_env, image);
}

/* The strings of a command vector, expanded against xenv (NULL: as
 * given), with their lengths in *ret_len: they may hold NUL bytes. */
static char **copy_vec(const struct cst_str *first, const struct cst_strv *rest, const struct cst_env_list *xenv,
		       size_t *ret_n, size_t **ret_len)
{
	size_t n = (first ? 1 : 0) + rest->n;
	char **v = calloc(n + 1, sizeof(*v));
	size_t *lens = calloc(n + 1, sizeof(*lens));
	if (!v || !lens)
		goto oom;
	for (size_t k = 0; k < n; k++) {
		const struct cst_str *s = first ? (k == 0 ? first : &rest->v[k - 1]) : &rest->v[k];
		if (!(v[k] = cst_expandn(s->s ? s->s : "", s->s ? s->len : 0, xenv, &lens[k])))
			goto oom;
	}
	if (ret_n)
		*ret_n = n;
	*ret_len = lens;
	return v;
oom:
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
	free(lens);
	return NULL;
}

/* A variable holding a NUL byte, KEY=VALUE, sent as given after the rest:
 * the engine refuses it, as it refuses CST's. */
static int add_env_nul(struct cst_command_job *job, const struct cst_kv *kv)
{
	size_t n = job->n_env_nul;
	char **v = realloc(job->env_nul, (n + 1) * sizeof(*v));
	if (!v)
		return -1;
	job->env_nul = v;
	size_t *lens = realloc(job->env_nul_len, (n + 1) * sizeof(*lens));
	if (!lens)
		return -1;
	job->env_nul_len = lens;
	size_t klen = kv->key ? kv->key_len : 0, vlen = kv->value ? kv->value_len : 0;
	char *e = malloc(klen + vlen + 2);
	if (!e)
		return -1;
	memcpy(e, kv->key ? kv->key : "", klen);
	e[klen] = '=';
	memcpy(e + klen + 1, kv->value ? kv->value : "", vlen);
	e[klen + 1 + vlen] = '\0';
	v[n] = e;
	lens[n] = klen + 1 + vlen;
	job->n_env_nul++;
	return 0;
}

/* The variables holding a NUL byte that CST would hand the engine: the
 * globals (1.0.0: only with setup) and the test's own. */
static int add_all_env_nul(struct cst_command_job *job, const struct cst_config *cfg, const struct cst_command_test *t)
{
	bool globals = !cst_config_is_v1(cfg) || t->n_setup > 0;
	for (size_t i = 0; globals && i < cfg->global_env.n; i++)
		if (kv_has_nul(&cfg->global_env.v[i]) && add_env_nul(job, &cfg->global_env.v[i]) < 0)
			return -1;
	for (size_t i = 0; i < t->env.n; i++)
		if (kv_has_nul(&t->env.v[i]) && add_env_nul(job, &t->env.v[i]) < 0)
			return -1;
	return 0;
}

int cst_command_job_init(struct cst_command_job *job, const struct cst_config *cfg, const struct cst_command_test *t,
			 const struct cst_env_list *image, const struct cst_env_list *globals,
			 const struct cst_env_list *run_env)
{
	memset(job, 0, sizeof(*job));
	job->test = t;
	job->opts = &cfg->run_opts;
	bool v1 = cst_config_is_v1(cfg);
	bool setup = t->n_setup > 0;
	struct cst_env_list committed = {0}; /* image + image_env: what the test's image holds */
	int rc = -1;

	/* What is committed before the test's container, and against what
	 * each value is expanded. */
	if (cst_env_copy(&job->image_env, globals) < 0 || cst_env_copy(&committed, image) < 0 ||
	    cst_env_copy(&committed, globals) < 0)
		goto out;
	if (setup) {
		struct cst_env_list added = {0};
		int r = (v1 ? set_all(&added, &cfg->global_env, image) : 0) == 0 &&
				set_all(&added, &t->env, v1 ? image : &committed) == 0 &&
				cst_env_copy(&job->image_env, &added) == 0 && cst_env_copy(&committed, &added) == 0
			? 0
			: -1;
		cst_env_release(&added);
		if (r < 0)
			goto out;
	}

	if (cst_run_options_set(&cfg->run_opts)) {
		if (cst_env_copy(&job->env, run_env) < 0 || (!setup && set_all(&job->env, &t->env, NULL) < 0))
			goto out;
	} else if (set_all(&job->env, &t->env, NULL) < 0) {
		goto out;
	}

	if (add_all_env_nul(job, cfg, t) < 0)
		goto out;

	if (!(job->argv = copy_vec(&t->command, &t->args, &committed, &job->argc, &job->argv_len)))
		goto out;
	if (t->n_setup && (!(job->setup = calloc(t->n_setup, sizeof(*job->setup))) ||
			   !(job->setup_len = calloc(t->n_setup, sizeof(*job->setup_len)))))
		goto out;
	for (size_t i = 0; i < t->n_setup; i++, job->n_setup++)
		if (!(job->setup[i] = copy_vec(NULL, &t->setup[i], NULL, NULL, &job->setup_len[i])))
			goto out;
	if (t->n_teardown && !(job->teardown = calloc(t->n_teardown, sizeof(*job->teardown))))
		goto out;
	for (size_t i = 0; i < t->n_teardown; i++, job->n_teardown++) {
		size_t *lens = NULL;
		job->teardown[i] = copy_vec(NULL, &t->teardown[i], NULL, NULL, &lens);
		free(lens); /* never run by the docker driver */
		if (!job->teardown[i])
			goto out;
	}
	rc = 0;
out:
	cst_env_release(&committed);
	return rc;
}
