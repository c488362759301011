/* argv -> struct cst_options, with container-structure-test's flag names. */
#ifndef CST_CLI_H
#define CST_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <stdio.h>

#include "cst/error.h"

enum cst_command {
	CST_CMD_TEST = 1,
	CST_CMD_VERSION,
	CST_CMD_HELP,
	CST_CMD_VALIDATE,
};

enum cst_driver_kind {
	CST_DRIVER_DOCKER = 1,
	CST_DRIVER_TAR,
	CST_DRIVER_HOST,
};

struct cst_options {
	enum cst_command command;
	const char *help_topic;      /* with CST_CMD_HELP: NULL or "test" */
	const char *image;
	const char **configs;        /* --config, in order */
	size_t n_configs;
	enum cst_driver_kind driver;
	const char *output;          /* text|json|junit|tap */
	const char *test_report;
	bool quiet;
	bool quiet_pass;             /* text: print failures and the summary only */
	bool no_color;
	bool pull;
	bool save;
	bool force;
	const char *runtime;
	const char *network;         /* --network: command tests' network mode */
	bool shared_container;       /* --shared-container: tests without setup exec in one container */
	bool network_sandbox;        /* --network-sandbox: tests join a network sandbox per job slot */
	bool network_per_test;       /* --network-per-test: every test container gets its own network */
	const char *cache_dir;       /* --cache-dir: where file-system indexes are kept */
	bool no_cache;               /* --no-cache: neither read nor write the index cache */
	size_t cache_max;            /* --cache-max: bytes the index cache may hold; 0: CST_CACHE_MAX_DEFAULT */
	const char *read_plan;       /* --read-plan: auto|export|paths; NULL = auto */
	const char *platform;
	const char *registry_ca;     /* --registry-ca: CA bundle registries' TLS is checked with */
	const char **insecure_registries; /* --insecure-registry: plain HTTP allowed */
	size_t n_insecure_registries;
	size_t registry_max_size;    /* --registry-max-size; 0 = CST_REGISTRY_MAX_BYTES_DEFAULT */
	const char *metadata;
	const char *image_from_oci_layout;
	const char *default_image_tag;
	bool ignore_ref_annotation;
	bool portable;               /* validate --portable: list the cst extensions a config uses */
	const char *junit_suite_name;
	const char *verbosity;       /* panic|fatal|error|warning|info|debug|trace */
	int jobs;                    /* --jobs; 0 = twice the number of CPUs */
	double timeout;              /* seconds per command test */
	size_t max_output;           /* --max-output; 0 = CST_OUTPUT_BUDGET_DEFAULT */
};

/* Parses argv.  Returns 0, or -1 with err (CST_E_USAGE) naming the flag. */
int cst_cli_parse(int argc, char **argv, struct cst_options *ret, struct cst_error *err);
void cst_cli_release(struct cst_options *opts);
/* Help texts for `cst --help` and `cst test --help`. */
void cst_cli_usage(FILE *out);
void cst_cli_test_usage(FILE *out);
void cst_cli_validate_usage(FILE *out);

#endif
