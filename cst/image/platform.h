/* Platforms as image indexes name them (os/architecture/variant): the
 * host's, one given with --platform, and the choice between them, shared
 * by the OCI layout and registry sources. */
#ifndef CST_IMAGE_PLATFORM_H
#define CST_IMAGE_PLATFORM_H

#include <jansson.h>
#include <stdbool.h>

#include "cst/buf.h"
#include "cst/error.h"
#include "cst/image.h"

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

/* A descriptor's platform, as its source knows it (its own "platform", or
 * what the manifest it points to says). */
typedef int (*platform_of_fn)(void *ud, json_t *desc, struct platform *p, struct cst_error *err);
/* Picks from an index's "manifests" the image for want, attestation
 * entries skipped: the only image when there is one and no platform was
 * asked for (or it names none), else the first whose platform matches.  An
 * error names who and where, and lists the platforms there are. */
int platform_choose(json_t *index, const char *who, const char *where, const struct platform *want,
		    bool explicit_platform, platform_of_fn platform_of, void *ud, json_t **ret_desc,
		    struct cst_error *err);

/* The images of an index's "manifests" that --platform all runs, in index
 * order: attestation entries skipped, and entries naming no platform when
 * there are others (--platform could not choose them either), each
 * platform once (the first, as --platform chooses).  When the index lists
 * one image, *ret_only is its descriptor and nothing is listed: the
 * caller follows it, since it may be a nested index.  Errors name who and
 * where. */
int platform_list(json_t *index, const char *who, const char *where, platform_of_fn platform_of, void *ud,
		  struct cst_platform_list *ret, json_t **ret_only, struct cst_error *err);

#endif
