/* Command tests: the job handed to a driver and what comes back.
 *
 * run.c builds one job per commandTest the way CST's docker driver sees it
 * (command + args expanded against the env of the image the test runs on,
 * setup commands as given; the environment in two layers, see below), hands
 * them all to the driver, which may run them in parallel, and checks each
 * outcome in config order with cst_check_command(). */
#ifndef CST_COMMAND_H
#define CST_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "cst/buf.h"
#include "cst/config.h"
#include "cst/expand.h"

/* What one stream of one command may hold; past it the command is killed
 * and the test fails saying so. */
#define CST_OUTPUT_MAX ((size_t)32 << 20)
/* --max-output's default: what the command output of a whole run may hold,
 * all tests together. */
#define CST_OUTPUT_BUDGET_DEFAULT ((size_t)256 << 20)

struct cst_command_job {
	const struct cst_command_test *test;
	char **argv;                   /* expanded command + args */
	size_t argc;
	/* What CST commits into the image before the test's own container:
	 * globalEnvVars and, with setup, the test's envVars, values expanded.
	 * Setup containers run with it over the image's own env. */
	struct cst_env_list image_env;
	/* Over image_env in the test's own container: envFile, host
	 * variables, the test's envVars as given (later ones win). */
	struct cst_env_list env;
	char ***setup;                 /* setup command vectors, NULL-terminated each */
	size_t n_setup;
	char ***teardown;
	size_t n_teardown;
	const struct cst_run_options *opts;
	double timeout;                /* seconds; > 0 */
	/* A config's strings may hold NUL bytes (they are Go's in CST), which
	 * the engine is left to refuse as it refuses CST's: the lengths of
	 * argv's and each setup vector's strings, and the env entries that
	 * hold one, sent after env. */
	size_t *argv_len;
	size_t **setup_len;
	char **env_nul;
	size_t *env_nul_len;
	size_t n_env_nul;
};

struct cst_command_outcome {
	struct cst_buf out;  /* stdout (with a TTY: both streams) */
	struct cst_buf err;  /* stderr */
	int exit_code;
	bool timed_out;      /* killed after job->timeout */
	double timeout;      /* the job's timeout, for the message */
	char *failure;       /* set when the command could not be run at all (the
			      * engine's message): the test fails with it */
	int64_t duration_ns;
};

/* CST's ContainerRunOptions.IsSet(): any option given a value that is not
 * the default.  Only then are envFile and host variables sent. */
bool cst_run_options_set(const struct cst_run_options *o);
bool cst_config_is_v1(const struct cst_config *cfg);
/* cfg's globalEnvVars as CST commits them into the image every test of the
 * config runs on (schema 2.0.0; none with 1.0.0): values expanded against
 * the image's own env. */
int cst_command_globals(const struct cst_config *cfg, const struct cst_env_list *image, struct cst_env_list *ret);
/* The job for t: image is the image's own env, globals what
 * cst_command_globals() gave, run_env the envFile's and host variables
 * (used when cst_run_options_set()).  Leaves timeout to the caller.  0, or
 * -1 when memory ran out (release the job either way). */
int cst_command_job_init(struct cst_command_job *job, const struct cst_config *cfg, const struct cst_command_test *t,
			 const struct cst_env_list *image, const struct cst_env_list *globals,
			 const struct cst_env_list *run_env);
void cst_command_job_release(struct cst_command_job *job);
void cst_command_outcome_release(struct cst_command_outcome *o);

#endif
