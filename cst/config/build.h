/* Located tree -> typed structs, driven by tables.
 *
 * Each config object (a command test, the metadata test...) is described
 * by a const table of its keys: name, setter, offset into the struct, and
 * the schema versions that know it.  One walker (cfg_object) handles what
 * every object shares, the way CST's decoders do: in YAML (gopkg.in/yaml.v2,
 * strict) keys match exactly, a duplicate or unknown key is an error and
 * merge keys apply in file order; in JSON (encoding/json) keys match the Go
 * field names ignoring case, a later duplicate wins and unknown keys are
 * ignored (with a warning).  Setters convert one value, release what an
 * earlier key set, and report located problems; an object's `check`
 * validates what needs the whole object (a missing name).  Problems are
 * collected, never fatal, so one run reports every error in the file.
 */
#ifndef CST_CONFIG_BUILD_H
#define CST_CONFIG_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cst/buf.h"
#include "cst/config.h"
#include "node.h"

#define CFG_V1 1u
#define CFG_V2 2u
#define CFG_VALL (CFG_V1 | CFG_V2)

/* Beyond this many errors (or warnings) the rest are summarised in one line. */
#define CFG_MAX_ERRORS 100
/* Every config map is an object with a dozen known keys; a map far larger
 * is hostile, and duplicate detection is quadratic in its size. */
#define CFG_MAX_KEYS 1000

struct build_diag {
	struct cst_loc loc;
	char *msg;
};

struct build_ctx {
	const char *file;
	bool json;
	unsigned version; /* CFG_V1 or CFG_V2 */
	const char *version_name;
	size_t n_errors;
	struct build_diag *errors; /* the first CFG_MAX_ERRORS, unsorted */
	size_t n_kept;
	struct cst_buf warnings; /* lines joined by '\n' */
	size_t n_warnings;
	struct cst_buf extensions; /* where cst extensions are used: lines joined by '\n' */
	bool oom;
};

struct field;
struct object_desc;

typedef void (*field_setter)(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
			     const struct cfg_node *value, void *obj);

struct field {
	const char *name;
	field_setter set;
	size_t off;
	size_t off2;                    /* element count, for setters that fill an array */
	unsigned versions;
	const struct object_desc *desc; /* element type, for object setters */
	unsigned formats;               /* CFG_IN_YAML, CFG_IN_JSON; 0: both */
	bool ext;                       /* a cst extension: CST does not know the key */
};

/* A key only one format knows: CST's JSON decoder matches Go field names,
 * which differ from the YAML tags in one place (TTY, YAML's allocateTty). */
#define CFG_IN_YAML 1u
#define CFG_IN_JSON 2u

struct object_desc {
	const char *what; /* "fileExistenceTests entry", for messages */
	const struct field *fields;
	size_t n_fields;
	size_t size;
	void (*init)(void *obj, struct cst_loc loc);
	void (*check)(struct build_ctx *ctx, const struct cfg_node *map, void *obj);
	void (*release)(void *obj);
};

#define FIELD_PTR(obj, off, type) ((type *)(void *)((char *)(obj) + (off)))

void cfg_error(struct build_ctx *ctx, struct cst_loc loc, const char *fmt, ...) CST_PRINTF(3, 4);
/* Moves the collected errors into err, in file order (checks of a whole
 * object run after its keys, so collection order is not file order), and
 * frees what ctx holds.  Returns -1 when there were errors, else 0. */
int cfg_finish(struct build_ctx *ctx, struct cst_error *err);
void cfg_warning(struct build_ctx *ctx, struct cst_loc loc, const char *fmt, ...) CST_PRINTF(3, 4);
char *cfg_strdup(struct build_ctx *ctx, const char *s);
/* A NUL-terminated copy of s[0..len), which may hold NUL bytes. */
char *cfg_memdup(struct build_ctx *ctx, const char *s, size_t len);
/* calloc that records an allocation failure in ctx. */
void *cfg_calloc(struct build_ctx *ctx, size_t n, size_t size);

/* Walks the keys of map into obj (map must be a CFG_MAP). */
void cfg_object(struct build_ctx *ctx, const struct cfg_node *map, const struct object_desc *desc, void *obj);
/* Finds a key among map's own keys as the format matches keys (JSON: the
 * last one equal ignoring case); NULL when absent. */
const struct cfg_node *cfg_lookup(const struct build_ctx *ctx, const struct cfg_node *map, const char *key);
/* Whether a JSON key names the Go field `name` as encoding/json matches
 * them: ASCII case ignored, and U+017F and U+212A equal to s and k. */
bool cfg_json_key_matches(const char *key, const char *name);

/* Whether s is a string Go's os.FileMode.String() can produce. */
bool cfg_valid_filemode(const char *s);
/* The Go FileMode string for s written in ls notation (-rwsr-xr-x,
 * drwxrwxrwt, lrwxrwxrwx, crw-rw-rw-...) into buf; false when s is not ls
 * notation or already reads the same in both. */
bool cfg_ls_to_go_mode(const char *s, char buf[16]);

/* Release helpers (release.c): each frees and resets one member. */
void cfg_str_release(struct cst_str *s);
void cfg_strv_release(struct cst_strv *v);
void cfg_patternv_release(struct cst_patternv *v);
void cfg_kv_release(void *obj);
void cfg_kvv_release(struct cst_kvv *v);
void cfg_commands_release(struct cst_strv **cmds, size_t *n);
void cfg_command_test_release(void *obj);
void cfg_file_existence_test_release(void *obj);
void cfg_file_content_test_release(void *obj);
void cfg_license_test_release(void *obj);
void cfg_metadata_release(void *obj);
void cfg_run_options_release(void *obj);
void cfg_objects_release(char **arr, size_t *n, size_t size, void (*release)(void *));

/* The cst extensions (policy.c). */
extern const struct object_desc cfg_file_system_desc;
extern const struct object_desc cfg_layer_test_desc;
void cfg_set_limit(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		   const struct cfg_node *v, void *obj);
void cfg_set_range(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		   const struct cfg_node *v, void *obj);
void cfg_set_file_type(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		       const struct cfg_node *v, void *obj);
void cfg_set_sha256(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,
		    const struct cfg_node *v, void *obj);
/* The checks of the extension keys of a file existence test. */
void cfg_file_existence_ext_check(struct build_ctx *ctx, const struct cfg_node *map,
				  struct cst_file_existence_test *t);
/* "file", "directory"... for an enum cst_ftype. */
const char *cfg_file_type_name(int type);
void cfg_globv_release_compiled(struct cst_globv *gv);
void cfg_file_system_test_release(void *obj);
void cfg_layer_test_release(void *obj);

/* Fills cfg from doc's root; errors are collected in ctx. */
void cfg_build(struct build_ctx *ctx, const struct cfg_doc *doc, struct cst_config *cfg);

#endif
