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

/* The uncompressed bytes an image's layers may expand to, all together:
 * far above real images (the largest seen are tens of GiB), low enough
 * that a decompression bomb ends within a minute or so of inflating. */
#define CST_REGISTRY_MAX_BYTES_DEFAULT ((uint64_t)64 << 30)

struct cst_registry_opts {
	const char *platform;            /* "os/arch[/variant]"; NULL: the host's */
	const char *ca_file;             /* --registry-ca: CA bundle TLS is checked with */
	const char *const *insecure;     /* --insecure-registry hosts: plain HTTP allowed */
	size_t n_insecure;
	const char *cache_dir;           /* index cache (layers keyed by their blob digests); NULL: none */
	int64_t cache_max;               /* --cache-max; 0: the default */
	FILE *notes;                     /* what the cache did, for -v info; NULL: quiet */
	uint64_t max_bytes;              /* --registry-max-size; 0: CST_REGISTRY_MAX_BYTES_DEFAULT */
};

/* Opens REF ("host[:port]/repo[:tag][@sha256:...]", Docker Hub when the
 * first component is not a host) and reads its manifest and config.
 * Errors name the reference and the registry's answer. */
int cst_registry_open(const char *ref, const struct cst_registry_opts *opts, struct cst_image_source **ret,
		      struct cst_error *err);
/* The platforms of REF's index, as --platform all runs them (n == 0: REF
 * is one image).  Reads the manifests only. */
int cst_registry_platforms(const char *ref, const struct cst_registry_opts *opts, struct cst_platform_list *ret,
			   struct cst_error *err);

/* For a source of cst_registry_open(): the reference naming exactly the
 * manifest read, "HOST/REPO@sha256:..." (what an engine pulls), and the
 * image ID (the config's digest), both malloc'd; both NULL for any other
 * source.  -1 only when out of memory. */
int cst_registry_pinned(const struct cst_image_source *src, char **ret_ref, char **ret_id);

#endif
