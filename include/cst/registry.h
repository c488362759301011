/* Images straight from a registry (the OCI distribution API over libcurl):
 * the manifest, the config and the layers, streamed into the index with
 * every blob's digest checked as it arrives.  Nothing is written to disk. */
#ifndef CST_REGISTRY_H
#define CST_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cst/error.h"
#include "cst/image.h"

struct cst_registry_opts {
	const char *platform;            /* "os/arch[/variant]"; NULL: the host's */
	const char *ca_file;             /* --registry-ca: CA bundle TLS is checked with */
	const char *const *insecure;     /* --insecure-registry hosts: plain HTTP allowed */
	size_t n_insecure;
	const char *cache_dir;           /* index cache (layers keyed by their blob digests); NULL: none */
	int64_t cache_max;               /* --cache-max; 0: the default */
	FILE *notes;                     /* what the cache did, for -v info; NULL: quiet */
};

/* Opens REF ("host[:port]/repo[:tag][@sha256:...]", Docker Hub when the
 * first component is not a host) and reads its manifest and config.
 * Errors name the reference and the registry's answer. */
int cst_registry_open(const char *ref, const struct cst_registry_opts *opts, struct cst_image_source **ret,
		      struct cst_error *err);

#endif
