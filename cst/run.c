#include "cst/run.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cst/checks.h"
#include "cst/command.h"
#include "cst/config.h"
#include "cst/docker.h"
#include "cst/fs.h"
#include "cst-version.h"
#include "cst/image.h"
#include "cst/progress.h"
#include "cst/registry.h"
#include "cst/signals.h"

#define DEFAULT_TIMEOUT 300.0
/* Command tests join a network sandbox per job slot unless
 * --network-per-test: the differential suite (tests/compat) gives the same
 * verdicts either way, at about half the cost of a container. */
#define CST_NETWORK_SANDBOX_DEFAULT true

struct run {
	const struct cst_options *opts;
	FILE *diag;
	struct cst_config **configs;
	size_t n_configs;
	struct cst_docker *docker;
	struct cst_image_source *src;
	struct cst_image_meta meta;
	bool have_meta;
	struct cst_fs *fs;
	const char *image_ref; /* what the engine knows the image as */
	char *loaded_ref;      /* from --image-from-oci-layout */
	char *cache_dir;       /* index cache, NULL: none */
	const char *platform;  /* the image's: --platform, or one of --platform all's */
	struct cst_platform_list platforms; /* --platform all: the index's */
	char *commands_ref;    /* tar driver: the registry image the engine runs commands on */
	char *commands_why;    /* tar driver: why command tests cannot run */
};

static bool platform_all(const struct cst_options *o)
{
	return o->platform && strcmp(o->platform, "all") == 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* -v info and above: what the run is doing and how long each phase took,
 * on the diagnostics stream, never in the report. */
static bool verbose(const struct run *run)
{
	const char *v = run->opts->verbosity;
	return v && (strcmp(v, "info") == 0 || strcmp(v, "debug") == 0 || strcmp(v, "trace") == 0);
}

CST_PRINTF(3, 4) static void note(const struct run *run, int64_t t0, const char *fmt, ...)
{
	if (!run->diag || !verbose(run))
		return;
	va_list ap;
	va_start(ap, fmt);
	/* One line whole: the command tests' thread notes too. */
	flockfile(run->diag);
	fputs("cst: ", run->diag);
	vfprintf(run->diag, fmt, ap);
	va_end(ap);
	if (t0)
		fprintf(run->diag, " (%.1f ms)", (double)(now_ns() - t0) / 1e6);
	fputc('\n', run->diag);
	funlockfile(run->diag);
}

/* A config file cst refuses, as a report that says why: one failed result
 * with an empty name (CST's shape for a config it cannot use), one error
 * per line of the message.  For --test-report, so that a CI dashboard
 * shows why nothing ran. */
static int report_refused(struct cst_report *rep, const char *path, const char *msg)
{
	struct cst_suite *suite = cst_report_add_suite(rep, path);
	struct cst_result r = {0};
	if (!suite || cst_result_init(&r, "%s", "") < 0)
		return -1;
	const char *p = msg && *msg ? msg : "invalid config";
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (n && cst_result_fail(&r, "%.*s", (int)n, p) < 0)
			goto fail;
		p += n;
		if (*p)
			p++;
	}
	if (r.pass && cst_result_fail(&r, "invalid config") < 0)
		goto fail;
	if (cst_suite_add(suite, &r) < 0)
		goto fail;
	return 0;
fail:
	cst_result_release(&r);
	return -1;
}

/* rep (NULL: none) gets a failed result for each file that is refused. */
static int load_configs(struct run *run, FILE *diag, struct cst_report *rep, struct cst_error *err)
{
	const struct cst_options *o = run->opts;
	run->configs = calloc(o->n_configs, sizeof(*run->configs));
	if (!run->configs)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	/* Every file is loaded before anything runs, so that all problems of
	 * all files are reported at once and a bad file starts nothing. */
	struct cst_error all = CST_ERROR_INIT;
	for (size_t i = 0; i < o->n_configs; i++) {
		struct cst_error e = CST_ERROR_INIT;
		char *warnings = NULL;
		if (cst_config_load(o->configs[i], &run->configs[i], &warnings, &e) < 0) {
			cst_error_append(&all, e.code, "%s", e.msg ? e.msg : o->configs[i]);
			if (e.code != CST_E_CONFIG)
				all.code = e.code;
			if (rep && e.code != CST_E_NOMEM && report_refused(rep, o->configs[i], e.msg) < 0)
				all.code = CST_E_NOMEM;
		}
		if (warnings && *warnings && diag)
			fprintf(diag, "%s\n", warnings);
		free(warnings);
		cst_error_clear(&e);
		run->n_configs = i + 1;
	}
	if (all.code != CST_OK) {
		cst_error_move(err, &all);
		return -1;
	}
	return 0;
}

static bool needs_fs(const struct run *run)
{
	for (size_t i = 0; i < run->n_configs; i++) {
		const struct cst_config *c = run->configs[i];
		if (c->n_file_existence_tests || c->n_file_content_tests || c->n_license_tests ||
		    c->n_file_system_tests)
			return true;
		/* Layer sizes are measured while an archive's layers are
		 * applied; the engine's flat export cannot tell them. */
		const struct cst_layer_test *lt = &c->layer_test;
		if (run->opts->driver == CST_DRIVER_TAR &&
		    (lt->max_image_size.present || lt->max_layer_size.present || lt->max_wasted_bytes.present))
			return true;
	}
	return false;
}

static bool has_commands(const struct run *run)
{
	for (size_t i = 0; i < run->n_configs; i++)
		if (run->configs[i]->n_command_tests)
			return true;
	return false;
}

/* The index cache's directory: --cache-dir, else $CST_CACHE_DIR (empty:
 * no cache), else $XDG_CACHE_HOME/cst, else ~/.cache/cst.  NULL with
 * --no-cache or when none can be named; malloc'd otherwise. */
static char *cache_dir(const struct cst_options *o)
{
	if (o->no_cache)
		return NULL;
	if (o->cache_dir)
		return strdup(o->cache_dir);
	const char *env = getenv("CST_CACHE_DIR");
	if (env)
		return *env ? strdup(env) : NULL;
	const char *base = getenv("XDG_CACHE_HOME");
	const char *sub = "/cst";
	if (!base || base[0] != '/') {
		base = getenv("HOME");
		sub = "/.cache/cst";
	}
	if (!base || base[0] != '/')
		return NULL;
	size_t n = strlen(base) + strlen(sub) + 1;
	char *dir = malloc(n);
	if (dir)
		snprintf(dir, n, "%s%s", base, sub);
	return dir;
}

/* The engine, for the docker driver and for engine images of the tar
 * driver. */
static int open_engine(struct run *run, struct cst_error *err)
{
	const struct cst_options *o = run->opts;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (!run->cache_dir)
		run->cache_dir = cache_dir(o);
	struct cst_docker_opts dopts = {
		.runtime = o->runtime,
		.network = o->network,
		.platform = o->platform,
		.save = o->save,
		.shared_container = o->shared_container,
		.network_sandbox = o->network_sandbox || (CST_NETWORK_SANDBOX_DEFAULT && !o->network_per_test),
		.info = verbose(run),
		.cache_dir = run->cache_dir,
		.cache_max = (int64_t)o->cache_max,
		.read_plan = o->read_plan,
		.max_output = o->max_output ? o->max_output : CST_OUTPUT_BUDGET_DEFAULT,
		/* Twice the CPUs: much of a container's start with a network
		 * of its own is the engine waiting on I/O (measured on 2 cores:
		 * 10 command tests 2.7 s with 2 at once, 2.2 s with 4, no better
		 * with 8).  Joining a sandbox leaves the engine little to wait
		 * for, and each slot costs a sandbox to start and to remove: as
		 * many as the CPUs (the same tests 1.45 s with 2, 1.77 s with 4). */
		.jobs = o->jobs > 0 ? o->jobs : (ncpu > 0 && ncpu < 128 ? 2 * (int)ncpu : 2),
		.sandbox_jobs = o->jobs > 0 ? o->jobs : (ncpu > 0 && ncpu < 128 ? (int)ncpu : 1),
		.progress = run->diag,
		.meter = cst_progress_stream(run->diag, o->quiet),
	};
	if (cst_docker_open(&dopts, &run->docker, err) < 0 || cst_docker_reap_stale(run->docker, err) < 0)
		return -1;
	return 0;
}

/* An image of the engine for the tar driver; its metadata is read at once,
 * so that a missing image is known here. */
static int open_daemon_image(struct run *run, const char *ref, struct cst_error *err)
{
	if (!run->docker && open_engine(run, err) < 0)
		return -1;
	run->image_ref = ref;
	if (cst_docker_image_source(run->docker, ref, &run->src, err) < 0)
		return -1;
	if (run->src->ops->read_meta(run->src, &run->meta, err) < 0) {
		cst_image_close(run->src);
		run->src = NULL;
		return -1;
	}
	run->have_meta = true;
	return 0;
}

/* What CST's tar driver takes for an archive: a name ending in .tar or
 * .tgz; cst also takes anything that exists, and names that are
 * obviously paths. */
static bool names_a_file(const char *image)
{
	struct stat st;
	size_t n = strlen(image);
	if (stat(image, &st) == 0)
		return true;
	return image[0] == '/' || image[0] == '.' || (n > 4 && strcmp(image + n - 4, ".tar") == 0) ||
	       (n > 4 && strcmp(image + n - 4, ".tgz") == 0) || (n > 7 && strcmp(image + n - 7, ".tar.gz") == 0);
}

static struct cst_registry_opts registry_opts(const struct run *run)
{
	const struct cst_options *o = run->opts;
	return (struct cst_registry_opts){
		.platform = run->platform,
		.ca_file = o->registry_ca,
		.insecure = o->insecure_registries,
		.n_insecure = o->n_insecure_registries,
		.max_bytes = o->registry_max_size,
		.cache_dir = run->cache_dir,
		.cache_max = (int64_t)o->cache_max,
		.notes = verbose(run) ? run->diag : NULL,
	};
}

/* --platform all: the platforms of the image's index, as the tar driver
 * opens the image.  A plain name that is not a file is the registry's
 * (the engine's images hold one platform each); an engine image is
 * refused. */
static int list_platforms(struct run *run, struct cst_error *err)
{
	const struct cst_options *o = run->opts;
	struct cst_image_name name;
	if (cst_image_name_parse(o->image, &name, err) < 0)
		return -1;
	struct cst_archive_opts ao = {.ref_name = name.ref};
	struct cst_registry_opts ro = registry_opts(run);
	ro.platform = NULL;
	int rc = -1;
	switch (name.transport) {
	case CST_TRANSPORT_ARCHIVE:
	case CST_TRANSPORT_OCI:
	case CST_TRANSPORT_OCI_ARCHIVE:
		rc = cst_image_archive_platforms(name.target, &ao, &run->platforms, err);
		break;
	case CST_TRANSPORT_REGISTRY:
		rc = cst_registry_platforms(name.target, &ro, &run->platforms, err);
		break;
	case CST_TRANSPORT_DAEMON:
		rc = cst_error_set(err, CST_E_USAGE,
				   "--platform all needs an image index: the engine's image %s has one platform; use "
				   "a registry (docker://REF) or OCI layout (oci:DIR, oci-archive:PATH) image",
				   name.target);
		break;
	case CST_TRANSPORT_NONE:
		if (names_a_file(o->image))
			rc = cst_image_archive_platforms(o->image, &ao, &run->platforms, err);
		else
			rc = cst_registry_platforms(o->image, &ro, &run->platforms, err);
		break;
	}
	cst_image_name_release(&name);
	return rc;
}

static int open_tar_image(struct run *run, struct cst_error *err)
{
	const struct cst_options *o = run->opts;
	struct cst_image_name name;
	if (cst_image_name_parse(o->image, &name, err) < 0)
		return -1;
	struct cst_archive_opts ao = {
		.platform = run->platform,
		.metadata_path = o->metadata,
		.ignore_ref_annotation = o->ignore_ref_annotation,
		.default_image_tag = o->default_image_tag,
		.ref_name = name.ref,
	};
	if (!run->cache_dir)
		run->cache_dir = cache_dir(o);
	struct cst_registry_opts ro = registry_opts(run);
	int rc = -1;
	ao.cache_dir = run->cache_dir;
	ao.cache_max = ro.cache_max;
	ao.notes = ro.notes;
	switch (name.transport) {
	case CST_TRANSPORT_ARCHIVE:
	case CST_TRANSPORT_OCI:
	case CST_TRANSPORT_OCI_ARCHIVE:
		rc = cst_image_open_archive(name.target, &ao, &run->src, err);
		break;
	case CST_TRANSPORT_REGISTRY:
		rc = cst_registry_open(name.target, &ro, &run->src, err);
		break;
	case CST_TRANSPORT_DAEMON:
		if (!(run->loaded_ref = strdup(name.target))) {
			rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
			break;
		}
		rc = open_daemon_image(run, run->loaded_ref, err);
		break;
	case CST_TRANSPORT_NONE: {
		if (names_a_file(o->image)) {
			rc = cst_image_open_archive(o->image, &ao, &run->src, err);
			break;
		}
		/* As CST's tar driver: the engine's image, else the registry's;
		 * with --pull the registry's at once, which the engine pulls for
		 * the command tests, and with --platform all too (the engine's
		 * images hold one platform each). */
		char *engine_msg = NULL;
		if (!o->pull && !platform_all(o)) {
			rc = open_daemon_image(run, o->image, err);
			if (rc == 0 || err->code == CST_E_INTERRUPTED || err->code == CST_E_NOMEM)
				break;
			note(run, 0, "not in the engine (%s); trying the registry", err->msg ? err->msg : "");
			if (asprintf(&engine_msg, "%s%s", err->code != CST_E_IMAGE ? "the engine: " : "",
				     err->code != CST_E_IMAGE && err->msg ? err->msg : "the engine has no such image") < 0)
				engine_msg = NULL;
			cst_error_clear(err);
			run->image_ref = NULL;
		}
		rc = cst_registry_open(o->image, &ro, &run->src, err);
		if (rc < 0 && err->code != CST_E_INTERRUPTED)
			cst_error_wrap(err, "'%s' is not a file%s%s, and from the registry", o->image,
				       engine_msg ? ", " : "", engine_msg ? engine_msg : "");
		free(engine_msg);
		break;
	}
	}
	cst_image_name_release(&name);
	return rc;
}

static bool has_commands(const struct run *run);

/* Command tests of a registry image with the tar driver: with --pull, an
 * engine that answers pulls the very manifest the files are read from
 * and runs them as the docker driver does; else they fail saying why. */
static int registry_commands(struct run *run, struct cst_error *err)
{
	char *ref = NULL, *id = NULL;
	struct cst_error e = CST_ERROR_INIT;
	int rc = 0;
	if (cst_registry_pinned(run->src, &ref, &id) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	if (!ref && run->opts->pull) {
		rc = cst_error_set(err, CST_E_USAGE,
				   "--pull with the tar driver pulls a registry image into the engine for command tests; "
				   "'%s' is not one (%s image)",
				   run->opts->image, run->src->ops->name);
		goto out;
	}
	/* --platform all runs no command test (--pull cannot go with it):
	 * the tar driver's own reason stands. */
	if (!ref || !has_commands(run) || platform_all(run->opts))
		goto out;
	if (!run->opts->pull) {
		if (!(run->commands_why = strdup("the tar driver cannot run commands: use the docker driver, or --pull "
						 "to have the engine pull the registry's image and run them there")))
			rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto out;
	}
	if (!run->docker && open_engine(run, &e) < 0) {
		if (e.code == CST_E_INTERRUPTED || e.code == CST_E_NOMEM) {
			cst_error_move(err, &e);
			rc = -1;
			goto out;
		}
		note(run, 0, "no engine for the command tests: %s", e.msg ? e.msg : "?");
		if (asprintf(&run->commands_why, "the tar driver cannot run commands, and no engine answers to pull the "
			     "image into for --pull: %s", e.msg ? e.msg : "?") < 0) {
			run->commands_why = NULL;
			rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
		}
		goto out;
	}
	bool pulled = false;
	if (cst_docker_pull_pinned(run->docker, ref, id, &pulled, err) < 0) {
		rc = -1;
		goto out;
	}
	note(run, 0, "command tests run in the engine on %s (%s)", ref, pulled ? "pulled" : "which the engine had");
	run->commands_ref = ref;
	ref = NULL;
out:
	cst_error_clear(&e);
	free(ref);
	free(id);
	return rc;
}

static int open_image(struct run *run, struct cst_error *err)
{
	const struct cst_options *o = run->opts;
	if (o->driver == CST_DRIVER_HOST)
		return cst_error_set(err, CST_E_USAGE,
				     "the host driver is not supported by cst: use the docker or tar driver");
	if (o->driver == CST_DRIVER_TAR)
		return open_tar_image(run, err) < 0 ? -1 : registry_commands(run, err);
	if (open_engine(run, err) < 0)
		return -1;
	run->image_ref = o->image;
	if (o->image_from_oci_layout) {
		if (cst_docker_load_oci_layout(run->docker, o->image_from_oci_layout, &run->loaded_ref, err) < 0)
			return -1;
		run->image_ref = run->loaded_ref;
	} else if (o->pull && cst_docker_pull(run->docker, o->image, err) < 0) {
		return -1;
	}
	return cst_docker_image_source(run->docker, run->image_ref, &run->src, err);
}

static void cache_note(const struct run *run)
{
	char *notes = run->docker ? cst_docker_take_cache_notes(run->docker) : NULL;
	char *save = NULL;
	for (char *line = notes ? strtok_r(notes, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save))
		note(run, 0, "%s", line);
	free(notes);
}

static int path_env(const struct run *run, const struct cst_config *cfg, struct cst_env_list **ret);
static void path_env_free(struct cst_env_list *env);

static int read_fs(struct run *run, struct cst_error *err)
{
	if (!(run->fs = cst_fs_new()))
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	for (size_t i = 0; i < run->n_configs; i++) {
		if (cst_checks_want(run->configs[i], &run->meta.env, run->fs) < 0)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		/* The lookups themselves, for a source that reads path by path. */
		struct cst_env_list *env;
		int rc = path_env(run, run->configs[i], &env);
		if (rc == 0)
			rc = cst_checks_need(run->configs[i], env, run->fs);
		path_env_free(env);
		if (rc < 0)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	int64_t t0 = now_ns();
	if (run->src->ops->read_fs(run->src, run->fs, err) < 0)
		return -1;
	note(run, t0, "read the file system of %s%s%s: %zu entries", run->opts->image ? run->opts->image : run->image_ref,
	     run->platform ? " for " : "", run->platform ? run->platform : "", cst_fs_count(run->fs));
	cache_note(run);
	/* Wanted paths that turned out to be links need their targets' contents:
	 * one more pass, at most, since targets are now known exactly. */
	int more = cst_fs_want_resolved(run->fs);
	if (more < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	if (more > 0) {
		cst_fs_clear(run->fs);
		t0 = now_ns();
		if (run->src->ops->read_fs(run->src, run->fs, err) < 0)
			return -1;
		note(run, t0, "read it again for the contents behind %d links", more);
		cache_note(run);
	}
	return 0;
}

/* The env fileExistence paths are expanded against, as CST's drivers do:
 * the image env with the globals on top, which the docker driver commits
 * expanded and the tar driver sets as given.  Schema 1.0.0 does not expand
 * paths: *ret is then NULL. */
static int path_env(const struct run *run, const struct cst_config *cfg, struct cst_env_list **ret)
{
	*ret = NULL;
	if (cst_config_is_v1(cfg))
		return 0;
	struct cst_env_list *env = calloc(1, sizeof(*env));
	if (!env)
		return -1;
	*ret = env;
	if (cst_env_copy(env, &run->meta.env) < 0)
		return -1;
	if (run->opts->driver == CST_DRIVER_TAR) {
		for (size_t i = 0; i < cfg->global_env.n; i++)
			if (cst_env_set(env, cfg->global_env.v[i].key, cfg->global_env.v[i].value) < 0)
				return -1;
		return 0;
	}
	struct cst_env_list g;
	int rc = cst_command_globals(cfg, &run->meta.env, &g);
	if (rc == 0)
		rc = cst_env_copy(env, &g);
	cst_env_release(&g);
	return rc;
}

static void path_env_free(struct cst_env_list *env)
{
	if (env)
		cst_env_release(env);
	free(env);
}

/* The envFile's variables and the named host variables, which CST sends
 * to the test's container when run options are set.  A file CST cannot
 * load is a warning, and the tests run without it, as in CST.  A host
 * variable that is unset or empty is left out (CST sends an entry the
 * engine refuses, failing the test). */
static int run_env(const struct run *run, const struct cst_config *cfg, struct cst_env_list *ret)
{
	const struct cst_run_options *o = &cfg->run_opts;
	memset(ret, 0, sizeof(*ret));
	/* CST's tar driver never gets as far as reading it. */
	if (!cst_run_options_set(o) || (run->opts->driver == CST_DRIVER_TAR && !run->commands_ref))
		return 0;
	if (o->env_file.s && *o->env_file.s) {
		struct cst_env_list file = {0};
		struct cst_error e = CST_ERROR_INIT;
		int rc = cst_env_file_read(o->env_file.s, &file, &e);
		if (rc == 0)
			rc = cst_env_copy(ret, &file);
		else if (e.code != CST_E_NOMEM && run->diag)
			fprintf(run->diag, "%s:%d:%d: warning: unable to load envFile %s: %s; its command tests run without it\n",
				o->env_file.loc.file ? o->env_file.loc.file : cfg->path, o->env_file.loc.line,
				o->env_file.loc.col, o->env_file.s, e.msg ? e.msg : "error");
		bool nomem = rc < 0 && e.code == CST_E_NOMEM;
		cst_error_clear(&e);
		cst_env_release(&file);
		if (nomem)
			return -1;
	}
	for (size_t i = 0; i < o->env_vars.n; i++) {
		const char *name = o->env_vars.v[i].s;
		const char *val = name ? getenv(name) : NULL;
		if (val && *val && cst_env_set(ret, name, val) < 0)
			return -1;
	}
	return 0;
}

static int build_job(const struct run *run, const struct cst_config *cfg, const struct cst_env_list *globals,
		     const struct cst_env_list *renv, const struct cst_command_test *t, struct cst_command_job *job)
{
	if (cst_command_job_init(job, cfg, t, &run->meta.env, globals, renv) < 0)
		return -1;
	job->timeout = t->timeout > 0 ? t->timeout : (run->opts->timeout > 0 ? run->opts->timeout : DEFAULT_TIMEOUT);
	return 0;
}

struct command_batch {
	struct cst_command_job *jobs;
	struct cst_command_outcome *outs;
	size_t n;
};

static void batch_release(struct command_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		cst_command_job_release(&b->jobs[i]);
		cst_command_outcome_release(&b->outs[i]);
	}
	free(b->jobs);
	free(b->outs);
	memset(b, 0, sizeof(*b));
}

/* Command tests of all config files go to the engine as one batch, so
 * they run in parallel across files too. */
static int run_commands(struct run *run, struct command_batch *b, struct cst_error *err)
{
	size_t total = 0;
	for (size_t i = 0; i < run->n_configs; i++)
		total += run->configs[i]->n_command_tests;
	if (!total)
		return 0;
	b->jobs = calloc(total, sizeof(*b->jobs));
	b->outs = calloc(total, sizeof(*b->outs));
	if (!b->jobs || !b->outs)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	for (size_t i = 0; i < run->n_configs; i++) {
		const struct cst_config *cfg = run->configs[i];
		if (!cfg->n_command_tests)
			continue;
		struct cst_env_list globals = {0}, renv = {0};
		int rc = cst_command_globals(cfg, &run->meta.env, &globals);
		if (rc == 0)
			rc = run_env(run, cfg, &renv);
		for (size_t j = 0; rc == 0 && j < cfg->n_command_tests; j++) {
			b->n++;
			rc = build_job(run, cfg, &globals, &renv, &cfg->command_tests[j], &b->jobs[b->n - 1]);
		}
		cst_env_release(&globals);
		cst_env_release(&renv);
		if (rc < 0)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	if (run->opts->driver == CST_DRIVER_TAR && !run->commands_ref) {
		const char *why = run->commands_why ? run->commands_why
						    : "the tar driver cannot run commands: use the docker driver for command tests";
		for (size_t i = 0; i < b->n; i++)
			if (!(b->outs[i].failure = strdup(why)))
				return cst_error_set(err, CST_E_NOMEM, "out of memory");
		return 0;
	}
	int rc = cst_docker_run_commands(run->docker, run->commands_ref ? run->commands_ref : run->image_ref, b->jobs,
					 b->n, b->outs, err);
	for (size_t i = 0; i < b->n; i++)
		b->outs[i].timeout = b->jobs[i].timeout;
	return rc;
}

/* Files a check's result; rc is the check's own return. */
static int add(struct cst_suite *suite, struct cst_result *r, int rc, int64_t t0, struct cst_error *err)
{
	if (rc == 0 && !r->duration_ns)
		r->duration_ns = now_ns() - t0;
	if (rc < 0 || cst_suite_add(suite, r) < 0) {
		cst_result_release(r);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	return 0;
}

static int report_tests(struct cst_suite *suite, const struct cst_check_ctx *ctx, const struct cst_config *cfg,
			struct command_batch *b, size_t *next, struct cst_error *err)
{
	struct cst_result r = {0};
	int64_t t0;
	/* CST's order within a file: command, file content, file existence,
	 * license, metadata; cst's file system tests follow the file
	 * existence tests, its layer tests come last. */
	for (size_t i = 0; i < cfg->n_command_tests; i++, (*next)++) {
		t0 = now_ns();
		if (add(suite, &r, cst_check_command(&cfg->command_tests[i], &b->outs[*next], &r), t0, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->n_file_content_tests; i++) {
		t0 = now_ns();
		if (add(suite, &r, cst_check_file_content(ctx, &cfg->file_content_tests[i], &r), t0, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->n_file_existence_tests; i++) {
		t0 = now_ns();
		if (add(suite, &r, cst_check_file_existence(ctx, &cfg->file_existence_tests[i], &r), t0, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->n_file_system_tests; i++) {
		t0 = now_ns();
		if (add(suite, &r, cst_check_file_system(ctx, &cfg->file_system_tests[i], &r), t0, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->n_license_tests; i++) {
		t0 = now_ns();
		if (add(suite, &r, cst_check_license(ctx, &cfg->license_tests[i], &r), t0, err) < 0)
			return -1;
	}
	if (!cst_metadata_test_is_empty(&cfg->metadata)) {
		t0 = now_ns();
		if (add(suite, &r, cst_check_metadata(ctx, &cfg->metadata, &r), t0, err) < 0)
			return -1;
	}
	for (int a = 0; cfg->layer_test.present && a < CST_LAYER_N; a++) {
		if (!cst_layer_test_has(&cfg->layer_test, (enum cst_layer_assertion)a))
			continue;
		t0 = now_ns();
		if (add(suite, &r, cst_check_layer(ctx, &cfg->layer_test, (enum cst_layer_assertion)a, &r), t0, err) < 0)
			return -1;
	}
	return 0;
}

/* Results from `from` on are named with their image's platform:
 * "[linux/arm64] File Existence Test: bin". */
static int name_with_platform(struct cst_suite *suite, size_t from, const char *platform, struct cst_error *err)
{
	for (size_t i = from; i < suite->n_results; i++) {
		struct cst_result *r = &suite->results[i];
		char *name;
		if (asprintf(&name, "[%s] %s", platform, r->name ? r->name : "") < 0)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		free(r->name);
		r->name = name;
	}
	return 0;
}

static int report_config(struct run *run, const struct cst_config *cfg, struct command_batch *b, size_t *next,
			 struct cst_suite *suite, struct cst_error *err)
{
	struct cst_env_list *env;
	if (path_env(run, cfg, &env) < 0) {
		path_env_free(env);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	struct cst_check_ctx ctx = {.fs = run->fs, .meta = &run->meta, .env = env};
	int rc = report_tests(suite, &ctx, cfg, b, next, err);
	path_env_free(env);
	return rc;
}

/* The command tests, in a thread of their own beside the read of the
 * image's files. */
struct commands_beside {
	struct run *run;
	struct command_batch *batch;
	struct cst_error err;
	int rc;
};

static void *commands_thread(void *ud)
{
	struct commands_beside *cb = ud;
	int64_t t0 = now_ns();
	cb->rc = run_commands(cb->run, cb->batch, &cb->err);
	note(cb->run, t0, "ran %zu command tests", cb->batch->n);
	return NULL;
}

/* Reads the image's files and runs the command tests.  With the engine
 * both at once: an export is mostly the engine's disk and a command test
 * mostly the engine's container set-up, so a cold run of both costs about
 * the longer of the two instead of their sum.  When either fails, the
 * run stops and the other is told to (the export's failure is reported
 * first: the command tests' is often its consequence). */
static int read_and_run(struct run *run, struct command_batch *batch, struct cst_error *err)
{
	bool fs = needs_fs(run), commands = has_commands(run);
	struct commands_beside cb = {.run = run, .batch = batch, .err = CST_ERROR_INIT};
	pthread_t tid;
	bool beside = fs && commands && run->docker && pthread_create(&tid, NULL, commands_thread, &cb) == 0;
	int rc = 0;
	if (fs)
		rc = read_fs(run, err);
	if (rc == 0)
		rc = cst_signal_check(err);
	if (beside) {
		if (rc < 0)
			cst_docker_stop_commands(run->docker);
		pthread_join(tid, NULL);
		if (rc == 0 && cb.rc < 0) {
			cst_error_move(err, &cb.err);
			rc = -1;
		}
		cst_error_clear(&cb.err);
		return rc;
	}
	if (rc == 0 && commands) {
		int64_t t0 = now_ns();
		rc = run_commands(run, batch, err);
		note(run, t0, "ran %zu command tests", batch->n);
	}
	return rc;
}

/* The platform an image names itself with: its config's. */
static void meta_platform(const struct run *run, char *buf, size_t n)
{
	buf[0] = '\0';
	if (run->have_meta && run->meta.os && *run->meta.os && run->meta.architecture && *run->meta.architecture)
		snprintf(buf, n, "%s/%s%s%s", run->meta.os, run->meta.architecture, run->meta.variant ? "/" : "",
			 run->meta.variant ? run->meta.variant : "");
}

/* One image: opened, read, tested, its results filed in the suites from
 * `first` on (one per config, in order).  With --platform all they are
 * named with its platform. */
static int run_image(struct run *run, struct cst_report *rep, size_t first, struct cst_error *err)
{
	int64_t t0 = now_ns();
	if (open_image(run, err) < 0)
		return -1;
	if (!run->have_meta && run->src->ops->read_meta(run->src, &run->meta, err) < 0)
		return -1;
	run->have_meta = true;
	note(run, t0, "opened %s%s%s (%s)", run->image_ref ? run->image_ref : run->opts->image,
	     run->platform ? " for " : "", run->platform ? run->platform : "", run->src->ops->name);
	if (cst_signal_check(err) < 0)
		return -1;
	char named[128];
	if (run->platform)
		snprintf(named, sizeof(named), "%s", run->platform);
	else
		meta_platform(run, named, sizeof(named));
	struct command_batch batch = {0};
	int rc = read_and_run(run, &batch, err);
	if (rc == 0)
		rc = cst_signal_check(err);
	size_t next = 0;
	for (size_t i = 0; rc == 0 && i < run->n_configs; i++) {
		struct cst_suite *suite = &rep->suites[first + i];
		size_t from = suite->n_results;
		rc = report_config(run, run->configs[i], &batch, &next, suite, err);
		if (rc == 0 && platform_all(run->opts))
			rc = name_with_platform(suite, from, named[0] ? named : "no platform", err);
	}
	batch_release(&batch);
	return rc;
}

/* Each platform's image in turn, its file system freed before the next
 * is read: one index's worth of images costs the memory of the largest. */
static int run_platforms(struct run *run, struct cst_report *rep, size_t first, struct cst_error *err)
{
	int64_t t0 = now_ns();
	if (list_platforms(run, err) < 0)
		return -1;
	note(run, t0, "%s: %zu platforms", run->opts->image, run->platforms.n ? run->platforms.n : 1);
	size_t n = run->platforms.n ? run->platforms.n : 1;
	for (size_t k = 0; k < n; k++) {
		if (k) {
			cst_image_close(run->src);
			run->src = NULL;
			cst_fs_free(run->fs);
			run->fs = NULL;
			cst_image_meta_release(&run->meta);
			run->have_meta = false;
		}
		run->platform = run->platforms.n ? run->platforms.v[k] : NULL;
		if (run_image(run, rep, first, err) < 0)
			return -1;
	}
	return 0;
}

static int run_all(struct run *run, struct cst_report *rep, struct cst_error *err)
{
	size_t first = rep->n_suites;
	for (size_t i = 0; i < run->n_configs; i++)
		if (!cst_report_add_suite(rep, run->configs[i]->path))
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
	if (platform_all(run->opts))
		return run_platforms(run, rep, first, err);
	return run_image(run, rep, first, err);
}

/* What the reports say was tested.  Best effort: a report without a
 * hostname is still a report. */
static int fill_provenance(const struct run *run, struct cst_report *rep, int64_t start_unix_ns)
{
	const struct cst_options *o = run->opts;
	struct cst_provenance *p = &rep->prov;
	char host[256];
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	char platform[128] = "";
	meta_platform(run, platform, sizeof(platform));
	/* Several images: each one's ID is in no single field. */
	bool several = run->platforms.n > 0;
	struct cst_buf all = CST_BUF_INIT;
	for (size_t i = 0; i < run->platforms.n; i++)
		if (cst_buf_printf(&all, "%s%s", i ? ", " : "", run->platforms.v[i]) < 0) {
			cst_buf_release(&all);
			return -1;
		}
	p->start_unix_ns = start_unix_ns;
	if (cst_provenance_set(&p->version, CST_VERSION) < 0 ||
	    cst_provenance_set(&p->image, o->image ? o->image : o->image_from_oci_layout) < 0 ||
	    cst_provenance_set(&p->driver, o->driver == CST_DRIVER_TAR ? "tar" : "docker") < 0 ||
	    cst_provenance_set(&p->hostname, host[0] ? host : NULL) < 0 ||
	    cst_provenance_set(&p->platform, several ? all.data : platform[0] ? platform : NULL) < 0 ||
	    cst_provenance_set(&p->image_id, run->have_meta && !several ? run->meta.id : NULL) < 0 ||
	    cst_provenance_set(&p->repo_digest, run->have_meta && !several ? run->meta.repo_digest : NULL) < 0) {
		cst_buf_release(&all);
		return -1;
	}
	cst_buf_release(&all);
	return 0;
}

int cst_run_test(const struct cst_options *opts, FILE *diag, struct cst_report *rep, struct cst_error *err)
{
	struct run run = {.opts = opts, .diag = diag, .platform = platform_all(opts) ? NULL : opts->platform};
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	int64_t t0 = now_ns();
	int rc = load_configs(&run, diag, rep, err);
	if (rc == 0) {
		rc = run_all(&run, rep, err);
		/* Only a refused config leaves a report behind a failed run. */
		if (rc < 0) {
			cst_report_release(rep);
			memset(rep, 0, sizeof(*rep));
		}
	}
	rep->duration_ns = now_ns() - t0;
	if (fill_provenance(&run, rep, (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec) < 0 && rc == 0)
		rc = cst_error_set(err, CST_E_NOMEM, "out of memory");

	/* Cleanup runs on every way out; its own failure is reported only when
	 * nothing worse happened first. */
	if (run.docker) {
		struct cst_error cerr = CST_ERROR_INIT;
		if (cst_docker_cleanup(run.docker, &cerr) < 0 && rc == 0) {
			cst_error_move(err, &cerr);
			rc = -1;
		}
		cst_error_clear(&cerr);
	}
	if (run.src)
		cst_image_close(run.src);
	if (run.docker)
		cst_docker_close(run.docker);
	cst_fs_free(run.fs);
	if (run.have_meta)
		cst_image_meta_release(&run.meta);
	for (size_t i = 0; i < run.n_configs; i++)
		cst_config_free(run.configs[i]);
	free(run.configs);
	free(run.loaded_ref);
	free(run.cache_dir);
	cst_platform_list_release(&run.platforms);
	free(run.commands_ref);
	free(run.commands_why);
	return rc;
}

int cst_run_validate(const struct cst_options *opts, FILE *out, FILE *diag, struct cst_error *err)
{
	struct run run = {.opts = opts, .diag = diag};
	int rc = load_configs(&run, diag, NULL, err);
	for (size_t i = 0; rc == 0 && i < run.n_configs; i++) {
		const char *ext = run.configs[i]->extensions;
		if (opts->portable && ext) {
			/* Each line names one key CST would refuse. */
			for (const char *line = ext; *line;) {
				size_t n = strcspn(line, "\n");
				fprintf(out, "%.*s\n", (int)n, line);
				line += n + (line[n] == '\n');
			}
			/* CST's YAML decoding is strict; its JSON decoding drops
			 * keys it does not know, and the tests run without them. */
			size_t n = strlen(opts->configs[i]);
			bool json = n > 5 && !strcmp(opts->configs[i] + n - 5, ".json");
			fprintf(out, "%s: valid, but uses cst extensions that container-structure-test %s\n",
				opts->configs[i], json ? "ignores" : "refuses");
		} else {
			fprintf(out, "%s: ok\n", opts->configs[i]);
		}
	}
	for (size_t i = 0; rc == 0 && opts->portable && i < run.n_configs; i++)
		if (run.configs[i]->extensions)
			rc = 1;
	for (size_t i = 0; i < run.n_configs; i++)
		cst_config_free(run.configs[i]);
	free(run.configs);
	return rc;
}
