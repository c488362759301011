/* The config harnesses: the input as a config file with a given extension,
 * loaded and validated through cst_config_load(). */
#ifndef CST_FUZZ_CONFIG_H
#define CST_FUZZ_CONFIG_H

#include <stdlib.h>

#include "cst/config.h"
#include "fuzz.h"

static inline int fuzz_config(const uint8_t *data, size_t size, const char *ext)
{
	const char *path = fuzz_scratch(ext);
	fuzz_write_file(path, data, size);
	struct cst_config *cfg = NULL;
	char *warnings = NULL;
	struct cst_error err = CST_ERROR_INIT;
	if (cst_config_load(path, &cfg, &warnings, &err) == 0)
		cst_config_free(cfg);
	else if (!err.msg)
		abort(); /* a failure must say why */
	free(warnings);
	cst_error_clear(&err);
	return 0;
}

#endif
