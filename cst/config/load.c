#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "cst/config.h"

/* Far beyond any real test config; keeps a wrong --config (an image tar)
 * from being read whole into memory. */
#define CFG_MAX_FILE_SIZE (64u << 20)

enum cfg_format {
	CFG_FORMAT_NONE,
	CFG_FORMAT_YAML,
	CFG_FORMAT_JSON,
};

/* By extension, exactly as CST decides. */
static enum cfg_format format_of(const char *path)
{
	size_t len = strlen(path);
	struct {
		const char *ext;
		enum cfg_format format;
	} const exts[] = {{".yaml", CFG_FORMAT_YAML}, {".yml", CFG_FORMAT_YAML}, {".json", CFG_FORMAT_JSON}};
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t n = strlen(exts[i].ext);
		if (len > n && !strcmp(path + len - n, exts[i].ext))
			return exts[i].format;
	}
	return CFG_FORMAT_NONE;
}

static int read_file(const char *path, char **ret, size_t *ret_len, struct cst_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return cst_error_set(err, CST_E_IO, "cannot open config file '%s': %s", path, strerror(errno));
	struct cst_buf b;
	cst_buf_init(&b, CFG_MAX_FILE_SIZE);
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (cst_buf_append(&b, chunk, n) < 0) {
			rc = cst_error_set(err, CST_E_NOMEM, "out of memory reading '%s'", path);
			break;
		}
		if (b.truncated) {
			rc = cst_error_set(err, CST_E_CONFIG, "%s: config file larger than %u MiB", path,
					   CFG_MAX_FILE_SIZE >> 20);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = cst_error_set(err, CST_E_IO, "cannot read config file '%s': %s", path, strerror(errno));
	fclose(f);
	if (rc < 0) {
		cst_buf_release(&b);
		return rc;
	}
	*ret = cst_buf_detach(&b, ret_len);
	return 0;
}

static void hand_over_warnings(struct cst_buf *w, char **ret_warnings)
{
	if (!ret_warnings || !w->len) {
		cst_buf_release(w);
		return;
	}
	if (*ret_warnings) {
		char *joined = NULL;
		if (asprintf(&joined, "%s\n%s", *ret_warnings, w->data) >= 0) {
			free(*ret_warnings);
			*ret_warnings = joined;
		}
		cst_buf_release(w);
		return;
	}
	*ret_warnings = cst_buf_detach(w, NULL);
}

int cst_config_load(const char *path, struct cst_config **ret, char **ret_warnings, struct cst_error *err)
{
	enum cfg_format format = format_of(path);
	if (format == CFG_FORMAT_NONE)
		return cst_error_set(err, CST_E_CONFIG,
				     "%s: provide a valid JSON (.json) or YAML (.yaml, .yml) config file", path);

	struct cst_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->path = strdup(path))) {
		free(cfg);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}

	char *text = NULL;
	size_t len = 0;
	if (read_file(path, &text, &len, err) < 0) {
		cst_config_free(cfg);
		return -1;
	}

	struct cfg_doc doc = {0};
	int rc = format == CFG_FORMAT_JSON ? cfg_read_json(cfg->path, text, len, &doc, err)
					   : cfg_read_yaml(cfg->path, text, len, &doc, err);
	free(text);
	if (rc < 0) {
		cst_config_free(cfg);
		return -1;
	}

	struct cst_error problems = CST_ERROR_INIT;
	struct build_ctx ctx = {.file = cfg->path, .json = doc.json};
	cst_buf_init(&ctx.warnings, 0);
	cst_buf_init(&ctx.extensions, 0);
	cfg_build(&ctx, &doc, cfg);
	if (ctx.extensions.len)
		cfg->extensions = cst_buf_detach(&ctx.extensions, NULL);
	cst_buf_release(&ctx.extensions);
	cfg_doc_release(&doc);
	hand_over_warnings(&ctx.warnings, ret_warnings);

	if (cfg_finish(&ctx, &problems) < 0 || ctx.oom) {
		if (ctx.oom) {
			cst_error_clear(&problems);
			cst_error_set(err, CST_E_NOMEM, "out of memory loading '%s'", path);
		} else {
			cst_error_move(err, &problems);
		}
		cst_config_free(cfg);
		return -1;
	}
	*ret = cfg;
	return 0;
}

void cst_config_free(struct cst_config *cfg)
{
	if (!cfg)
		return;
	cfg_kvv_release(&cfg->global_env);
	cfg_run_options_release(&cfg->run_opts);
	cfg_objects_release((char **)&cfg->command_tests, &cfg->n_command_tests, sizeof(*cfg->command_tests),
			    cfg_command_test_release);
	cfg_objects_release((char **)&cfg->file_existence_tests, &cfg->n_file_existence_tests,
			    sizeof(*cfg->file_existence_tests), cfg_file_existence_test_release);
	cfg_objects_release((char **)&cfg->file_content_tests, &cfg->n_file_content_tests,
			    sizeof(*cfg->file_content_tests), cfg_file_content_test_release);
	cfg_objects_release((char **)&cfg->license_tests, &cfg->n_license_tests, sizeof(*cfg->license_tests),
			    cfg_license_test_release);
	cfg_metadata_release(&cfg->metadata);
	cfg_objects_release((char **)&cfg->file_system_tests, &cfg->n_file_system_tests,
			    sizeof(*cfg->file_system_tests), cfg_file_system_test_release);
	cfg_layer_test_release(&cfg->layer_test);
	free(cfg->extensions);
	free(cfg->schema_version);
	free(cfg->path);
	free(cfg);
}

bool cst_metadata_test_is_empty(const struct cst_metadata_test *mt)
{
	return mt->env.n == 0 && mt->unbound_env_vars.n == 0 && mt->exposed_ports.n == 0 &&
	       mt->unexposed_ports.n == 0 && !mt->entrypoint.present && !mt->cmd.present &&
	       (!mt->workdir.s || !*mt->workdir.s) && (!mt->user.s || !*mt->user.s) && mt->volumes.n == 0 &&
	       mt->unmounted_volumes.n == 0 && mt->labels.n == 0;
}

bool cst_config_needs_whole_tree(const struct cst_config *cfg)
{
	const struct cst_layer_test *lt = &cfg->layer_test;
	if (cfg->n_file_system_tests || lt->max_image_size.present || lt->max_layer_size.present ||
	    lt->max_wasted_bytes.present)
		return true;
	for (size_t i = 0; i < cfg->n_file_existence_tests; i++)
		if (cfg->file_existence_tests[i].owner.s || cfg->file_existence_tests[i].group.s)
			return true;
	return false;
}
