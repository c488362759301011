/* The test config as typed structs (schema 2.0.0 and 1.0.0).
 *
 * Loaded from YAML (libyaml) or JSON (jansson) by extension, validated, with
 * every regex compiled; the rest of cst never sees a parser tree.  Every node
 * keeps the location it was read from.  "Absent" and "empty" differ where
 * CST makes them differ: a list has `present`, a scalar string is NULL when
 * absent.  Strings may hold NUL bytes, as Go's do: each carries its length
 * and is NUL-terminated too, so text without one reads as a C string.  All
 * memory belongs to the struct cst_config and is freed by cst_config_free().
 */
#ifndef CST_CONFIG_H
#define CST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cst/error.h"
#include "cst/match.h"

struct cst_str {
	char *s; /* NULL: absent */
	size_t len;
	struct cst_loc loc;
};

/* Whether a config string holds a NUL byte (so reads short as a C string). */
static inline bool cst_str_has_nul(const char *s, size_t len)
{
	return s && len && memchr(s, '\0', len) != NULL;
}

struct cst_strv {
	struct cst_str *v;
	size_t n;
	bool present; /* the key was given (possibly as []) */
	struct cst_loc loc;
};

/* A regex from an expected/excluded list. */
struct cst_pattern {
	char *src;
	size_t len;
	struct cst_regex *re;
	struct cst_loc loc;
};

struct cst_patternv {
	struct cst_pattern *v;
	size_t n;
};

/* envVars, globalEnvVars, metadata envVars/labels: {key, value, isRegex}. */
struct cst_kv {
	char *key;
	size_t key_len;
	char *value;        /* "" when not given */
	size_t value_len;
	bool is_regex;
	struct cst_regex *re; /* compiled when is_regex (metadata only) */
	struct cst_loc loc;
};

struct cst_kvv {
	struct cst_kv *v;
	size_t n;
	bool present;
};

struct cst_command_test {
	struct cst_str name;
	struct cst_str command; /* 1.0.0: first element of the `command` list */
	struct cst_strv args;   /* 1.0.0: the rest of the `command` list */
	struct cst_strv *setup; /* each entry one command vector */
	size_t n_setup;
	struct cst_strv *teardown;
	size_t n_teardown;
	struct cst_kvv env;
	struct cst_patternv expected_output;
	struct cst_patternv excluded_output;
	struct cst_patternv expected_error;
	struct cst_patternv excluded_error;
	int exit_code;       /* default 0; always checked */
	double timeout;      /* seconds; 0 = the run's default (cst extension) */
	struct cst_loc loc;
};

/* A number a cst extension key bounds something by. */
struct cst_limit {
	bool present;
	int64_t value;
	struct cst_loc loc;
};

/* [min, max], both included. */
struct cst_range {
	bool present;
	int64_t min;
	int64_t max;
	struct cst_loc loc;
};

struct cst_glob;

/* Globs as written and compiled (cst/glob.h). */
struct cst_globv {
	struct cst_strv src;
	struct cst_glob **g; /* src.n of them once loaded */
};

enum cst_exec_by {
	CST_EXEC_UNSET = 0,
	CST_EXEC_ANY,
	CST_EXEC_OWNER,
	CST_EXEC_GROUP,
	CST_EXEC_OTHER,
};

struct cst_file_existence_test {
	struct cst_str name;
	struct cst_str path;
	bool should_exist;        /* default true */
	struct cst_str permissions; /* Go FileMode string; s NULL: unchecked */
	bool has_uid;
	int64_t uid;
	bool has_gid;
	int64_t gid;
	enum cst_exec_by is_executable_by;
	/* cst extensions: */
	struct cst_str owner;       /* user name (the image's /etc/passwd) or number */
	struct cst_str group;       /* group name (the image's /etc/group) or number */
	int file_type;              /* enum cst_ftype; 0: unchecked */
	struct cst_str link_target; /* exact, or a regex when link_target_is_regex */
	bool link_target_is_regex;
	struct cst_regex *link_re;
	struct cst_limit size;      /* exact size in bytes */
	struct cst_limit max_size;
	struct cst_str sha256;      /* 64 lowercase hex digits */
	struct cst_loc loc;
};

/* fileSystemTests (cst extension): assertions over every entry of the
 * image whose path matches `paths` and no `exclude`. */
struct cst_file_system_test {
	struct cst_str name;
	struct cst_globv paths;   /* absent: every entry */
	struct cst_globv exclude;
	bool no_world_writable;
	bool sticky_world_writable; /* noWorldWritable also fails sticky directories */
	struct cst_globv setuid_allowed; /* present: setuid files beyond it fail */
	struct cst_globv setgid_allowed;
	struct cst_globv must_not_exist;
	struct cst_range uid_range;
	struct cst_range gid_range;
	struct cst_str owner;
	struct cst_str group;
	struct cst_limit max_total_size;
	struct cst_loc loc;
};

/* layerTests (cst extension): one object per config. */
struct cst_layer_test {
	bool present;
	struct cst_limit max_layers;
	struct cst_limit max_image_size;
	struct cst_limit max_layer_size;
	struct cst_limit max_wasted_bytes;
	struct cst_strv base_layers; /* diff IDs, bottom first */
	struct cst_loc loc;
};

struct cst_file_content_test {
	struct cst_str name;
	struct cst_str path;
	struct cst_patternv expected_contents;
	struct cst_patternv excluded_contents;
	struct cst_loc loc;
};

struct cst_metadata_test {
	bool present;        /* the metadataTest key was given */
	struct cst_kvv env;  /* `envVars` */
	struct cst_strv unbound_env_vars; /* keys only */
	struct cst_kvv labels;
	struct cst_strv entrypoint; /* present=false: not checked; [] = must be empty */
	struct cst_strv cmd;
	struct cst_strv exposed_ports;
	struct cst_strv unexposed_ports;
	struct cst_strv volumes;
	struct cst_strv unmounted_volumes;
	struct cst_str workdir; /* NULL or "": not checked */
	struct cst_str user;    /* NULL: not checked */
	struct cst_loc loc;
};

struct cst_license_test {
	bool debian;
	struct cst_strv files;
	struct cst_loc loc;
};

struct cst_run_options {
	bool present;
	struct cst_str user;
	bool privileged;
	bool allocate_tty;
	struct cst_str env_file;
	struct cst_strv env_vars;     /* names of host variables to pass in */
	struct cst_strv capabilities; /* CapAdd */
	struct cst_strv bind_mounts;  /* host:container[:ro] */
	struct cst_loc loc;
};

struct cst_config {
	char *path;            /* as given on the command line; cst_loc.file points here */
	char *schema_version;  /* "1.0.0" or "2.0.0" */
	struct cst_kvv global_env;
	struct cst_run_options run_opts;
	struct cst_command_test *command_tests;
	size_t n_command_tests;
	struct cst_file_existence_test *file_existence_tests;
	size_t n_file_existence_tests;
	struct cst_file_content_test *file_content_tests;
	size_t n_file_content_tests;
	struct cst_license_test *license_tests;
	size_t n_license_tests;
	struct cst_metadata_test metadata;
	struct cst_file_system_test *file_system_tests;
	size_t n_file_system_tests;
	struct cst_layer_test layer_test;
	/* cst extensions used, one "FILE:LINE:COL: KEY in WHAT" line each;
	 * NULL when the config is CST's schema only. */
	char *extensions;
};

/* Loads and validates one config file.  On failure returns -1 with err
 * (CST_E_CONFIG) holding one "FILE:LINE:COL: message" line per problem
 * found in the file (all of them, not just the first); CST_E_IO when the
 * file cannot be read.  Non-fatal notes (an unknown key in JSON) are
 * appended to *ret_warnings as lines when ret_warnings is not NULL. */
int cst_config_load(const char *path, struct cst_config **ret, char **ret_warnings, struct cst_error *err);
void cst_config_free(struct cst_config *cfg);

/* Whether a metadataTest has anything to check (CST yields no result for an
 * empty one). */
bool cst_metadata_test_is_empty(const struct cst_metadata_test *mt);

/* Whether the config's tests need the image's whole file system (every
 * entry's header) rather than a few named paths: fileSystemTests, layer
 * sizes (measured while an archive's layers are applied), owner or group
 * given by name (which read /etc/passwd and /etc/group, declared wanted by
 * cst_checks_want). */
bool cst_config_needs_whole_tree(const struct cst_config *cfg);

#endif
