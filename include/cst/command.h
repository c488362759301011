/* Command tests: the job handed to a driver and what comes back.
 *
 * run.c builds one job per commandTest (command + args already expanded
 * against the image env, env = expanded globals + the test's envVars), hands
 * them all to the driver, which may run them in parallel, and checks each
 * outcome in config order with cst_check_command(). */
#ifndef CST_COMMAND_H
#define CST_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "cst/buf.h"
#include "cst/config.h"
#include "cst/expand.h"

struct cst_command_job {
	const struct cst_command_test *test;
	char **argv;                   /* expanded command + args */
	size_t argc;
	struct cst_env_list env;       /* added to the image's own env */
	char ***setup;                 /* expanded setup command vectors, NULL-terminated each */
	size_t n_setup;
	char ***teardown;
	size_t n_teardown;
	const struct cst_run_options *opts;
	double timeout;                /* seconds; > 0 */
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

void cst_command_job_release(struct cst_command_job *job);
void cst_command_outcome_release(struct cst_command_outcome *o);

#endif
