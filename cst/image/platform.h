/* Platforms as image indexes name them (os/architecture/variant): the
 * host's, one given with --platform, and the choice between them, shared
 * by the OCI layout and registry sources. */
#ifndef CST_IMAGE_PLATFORM_H
#define CST_IMAGE_PLATFORM_H

#include <jansson.h>
#include <stdbool.h>

#include "cst/buf.h"
#include "cst/error.h"

struct platform {
	char os[32];
	char arch[32];
	char variant[32];
};

void host_platform(struct platform *p);
/* "os/arch[/variant]"; a usage error naming --platform otherwise. */
int parse_platform(const char *s, struct platform *p, struct cst_error *err);
void format_platform(const struct platform *p, struct cst_buf *b);
bool platform_matches(const struct platform *want, const struct platform *have);
/* Reads os_key, arch_key and "variant" of obj; absent ones are "". */
void platform_from(json_t *obj, const char *os_key, const char *arch_key, struct platform *p);

#endif
