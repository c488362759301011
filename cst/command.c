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
	cst_env_release(&job->env);
	free_vecs(job->setup, job->n_setup);
	free_vecs(job->teardown, job->n_teardown);
	memset(job, 0, sizeof(*job));
}

void cst_command_outcome_release(struct cst_command_outcome *o)
{
	cst_buf_release(&o->out);
	cst_buf_release(&o->err);
	free(o->failure);
	memset(o, 0, sizeof(*o));
}
