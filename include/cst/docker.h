/* The Docker Engine driver: an Engine API client over libcurl (unix socket,
 * TCP, TLS), the image's file system read from the engine once, and command
 * tests in throwaway containers.
 *
 * Everything the driver creates in the engine (containers, network
 * sandboxes, committed setup images) carries the labels `dev.cst.run=<run id>` and `dev.cst.pid=<pid>`
 * (and `dev.cst.host=<boot id>/<pid namespace>` unless --save keeps it)
 * and is removed by cst_docker_cleanup(), which run.c calls on every path
 * out: success, failed test, engine error and interruption.  What a killed
 * run could not remove, cst_docker_reap_stale() removes at a later start.
 * The one exception is the image of the network sandboxes, cst-pause:TAG
 * (labelled dev.cst.pause), kept for later runs as a pulled image is. */
#ifndef CST_DOCKER_H
#define CST_DOCKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cst/command.h"
#include "cst/error.h"
#include "cst/image.h"

struct cst_docker;

struct cst_docker_opts {
	const char *runtime;  /* --runtime: HostConfig.Runtime */
	const char *network;  /* --network: HostConfig.NetworkMode of command tests */
	const char *platform; /* --platform */
	bool save;            /* --save: keep containers, name them on stderr */
	int jobs;             /* parallel command tests; >= 1 */
	int sandbox_jobs;     /* the same when they join network sandboxes; 0: jobs */
	bool shared_container; /* --shared-container: command tests without setup
				* run as execs in one started container per
				* set of run options instead of one each */
	bool network_sandbox; /* command tests join one network sandbox per job
			       * slot instead of getting a network each
			       * (--network-per-test turns it off) */
	bool info;            /* -v info: say on progress how tests run */
	const char *cache_dir; /* index cache directory; NULL: no cache */
	int64_t cache_max;     /* --cache-max: bytes the cache may hold; 0: the default */
	const char *read_plan; /* --read-plan: "export", "paths", or NULL/"auto":
				* chosen by cost (read_plan.c) */
	size_t max_output;    /* --max-output: command output the whole run may
			       * hold, all tests together; 0: no budget */
	FILE *progress;       /* pull progress and notes (stderr); never the report */
	FILE *meter;          /* progress meters (cst/progress.h); NULL: none */
};

/* Connects (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH,
 * DOCKER_API_VERSION), pings and negotiates the API version. */
int cst_docker_open(const struct cst_docker_opts *opts, struct cst_docker **ret, struct cst_error *err);
/* Removes what earlier runs on this host left in the engine because they
 * could not clean up (SIGKILL, a crash, the engine restarted under them):
 * containers and images labelled by a cst process of this host that is
 * gone.  Says how many on opts->progress.  A removal that fails is noted
 * there too and does not stop this run: -1 only when interrupted. */
int cst_docker_reap_stale(struct cst_docker *d, struct cst_error *err);
/* Pulls image (progress to opts->progress; credentials from
 * ~/.docker/config.json when present). */
int cst_docker_pull(struct cst_docker *d, const char *image, struct cst_error *err);
/* Pulls ref, a reference by digest ("HOST/REPO@sha256:..."), unless the
 * engine has it already; image_id (NULL: unknown) is the image's config
 * digest.  What the pull adds is removed by cst_docker_cleanup() unless
 * the engine had that image before; *ret_pulled says whether it pulled. */
int cst_docker_pull_pinned(struct cst_docker *d, const char *ref, const char *image_id, bool *ret_pulled,
			   struct cst_error *err);
/* Loads an OCI layout directory into the engine; *ret_ref is the reference
 * to test (malloc'd). */
int cst_docker_load_oci_layout(struct cst_docker *d, const char *dir, char **ret_ref, struct cst_error *err);
/* An image source over the engine: metadata from inspect (a missing image
 * is a CST_E_IMAGE error that suggests --pull), file system read once. */
int cst_docker_image_source(struct cst_docker *d, const char *image, struct cst_image_source **ret,
			    struct cst_error *err);
/* Runs every job (setup, command, teardown) in its own container, or, with
 * shared_container, every job without setup as an exec in a container
 * shared by the jobs of the same run options; up to opts->jobs at once, filling outs[i] for jobs[i].  A per-test problem
 * (cannot start, timeout) goes into the outcome; -1 only when the run
 * cannot go on (engine gone, interrupted). */
int cst_docker_run_commands(struct cst_docker *d, const char *image, struct cst_command_job *jobs, size_t n,
			    struct cst_command_outcome *outs, struct cst_error *err);
/* Makes a cst_docker_run_commands() running in another thread start no
 * further test; those not started get "not run" outcomes.  For a run
 * that must stop because of something outside the command tests. */
void cst_docker_stop_commands(struct cst_docker *d);
/* Removes every container and image this run created (unless --save kept
 * the containers).  Safe to call more than once. */
int cst_docker_cleanup(struct cst_docker *d, struct cst_error *err);
void cst_docker_close(struct cst_docker *d);
/* What the index cache did since the last call (read, saved, or why
 * not), one line each; malloc'd, NULL when nothing. */
char *cst_docker_take_cache_notes(struct cst_docker *d);

/* containerRunOptions.envFile as CST reads it (godotenv 1.5.1; env_file.c
 * says how).  parse: adds every KEY=VALUE of text to env, with $NAME in
 * values taken from env so far; -1 when godotenv refuses the text, which
 * CST warns about and runs without the file.  read: the file at path, its
 * empty keys and values dropped, as CST passes them on. */
int cst_env_file_parse(const char *text, size_t len, struct cst_env_list *env, struct cst_error *err);
int cst_env_file_read(const char *path, struct cst_env_list *env, struct cst_error *err);

#endif
