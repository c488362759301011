/* Image sources: where the image's metadata and file system come from.
 *
 * One interface, one file per source under cst/image/: a `docker save`
 * archive, an OCI image layout (directory or tar), a flat rootfs tar with a
 * separate config, and the Docker Engine.  Every source feeds the same
 * struct cst_fs index.
 */
#ifndef CST_IMAGE_H
#define CST_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cst/error.h"
#include "cst/expand.h"
#include "cst/fs.h"

/* The parts of an image config that metadata tests and command tests use. */
struct cst_image_meta {
	struct cst_env_list env;   /* Config.Env, in order */
	char **label_keys;         /* Config.Labels */
	char **label_values;
	size_t n_labels;
	bool has_entrypoint;       /* false when null/absent */
	char **entrypoint;
	size_t n_entrypoint;
	bool has_cmd;
	char **cmd;
	size_t n_cmd;
	char **exposed_ports;      /* keys of Config.ExposedPorts, "8080/tcp" */
	size_t n_exposed_ports;
	char **volumes;            /* keys of Config.Volumes */
	size_t n_volumes;
	char *workdir;             /* "" when unset */
	char *user;                /* "" when unset */
	char *os;                  /* "linux", "" when unknown */
	char *architecture;        /* "amd64", "" when unknown */
	/* Known for the engine only (inspect); NULL otherwise. */
	char *id;                  /* "sha256:..." */
	char *repo_digest;         /* RepoDigests[0] */
	char *variant;             /* "v8" */
	char **diff_ids;           /* rootfs.diff_ids (inspect: RootFS.Layers), bottom first */
	size_t n_diff_ids;
	long long size;            /* inspect's Size; -1 when unknown */
};

struct json_t;
/* Fills meta from an image config JSON: an OCI/docker image config (keys
 * under "config"), an engine inspect reply (keys under "Config"), or a bare
 * config object.  `what` names the input in error messages. */
int cst_image_meta_from_json(const struct json_t *root, const char *what, struct cst_image_meta *meta,
			     struct cst_error *err);
void cst_image_meta_release(struct cst_image_meta *meta);

struct cst_image_source;

struct cst_image_source_ops {
	const char *name; /* "docker-save", "oci-layout", "rootfs", "engine" */
	int (*read_meta)(struct cst_image_source *src, struct cst_image_meta *ret, struct cst_error *err);
	/* Fills fs (already holding its wanted set); may be called again after
	 * cst_fs_clear() for a second pass. */
	int (*read_fs)(struct cst_image_source *src, struct cst_fs *fs, struct cst_error *err);
	void (*close)(struct cst_image_source *src);
};

struct cst_image_source {
	const struct cst_image_source_ops *ops;
	void *priv;
};

struct cst_archive_opts {
	const char *platform;      /* "os/arch[/variant]"; NULL: the host's */
	const char *metadata_path; /* --metadata: image config JSON for a rootfs tar */
	bool ignore_ref_annotation;
	const char *default_image_tag;
	const char *ref_name;      /* oci:DIR:REF: the org.opencontainers.image.ref.name to take */
	const char *cache_dir;     /* the index cache: layers kept by digest; NULL: none (outlives the source) */
	int64_t cache_max;         /* --cache-max; 0: the default */
	FILE *notes;               /* what the cache did, for -v info; NULL: quiet */
};

/* Opens a file or directory as an image: a docker-save archive (.tar,
 * .tar.gz), an OCI layout (directory or tar), or a rootfs tar (needs
 * metadata_path).  The source bids on its input; errors name the path. */
int cst_image_open_archive(const char *path, const struct cst_archive_opts *opts, struct cst_image_source **ret,
			   struct cst_error *err);
void cst_image_close(struct cst_image_source *src);

/* --image with a containers-transports(5) prefix (transport_name.c). */
enum cst_image_transport {
	CST_TRANSPORT_NONE,        /* a plain name: the driver decides */
	CST_TRANSPORT_REGISTRY,    /* docker://REF */
	CST_TRANSPORT_DAEMON,      /* docker-daemon:REF */
	CST_TRANSPORT_ARCHIVE,     /* docker-archive:PATH */
	CST_TRANSPORT_OCI,         /* oci:DIR[:REF] */
	CST_TRANSPORT_OCI_ARCHIVE, /* oci-archive:PATH[:REF] */
};

struct cst_image_name {
	enum cst_image_transport transport;
	char *target; /* the reference or the path */
	char *ref;    /* oci's REF, NULL when absent */
};

/* The platforms --platform all runs an image for: the images of its index.
 * n == 0: the image is one image (not an index, or an index of one), run
 * once without choosing. */
struct cst_platform_list {
	char **v; /* "os/arch[/variant]", in index order */
	size_t n;
};

void cst_platform_list_release(struct cst_platform_list *l);
/* For an OCI layout (directory or tar; opts->ref_name as oci:DIR:REF):
 * its index's platforms.  Any other archive is one image (n == 0). */
int cst_image_archive_platforms(const char *path, const struct cst_archive_opts *opts,
				struct cst_platform_list *ret, struct cst_error *err);

int cst_image_name_parse(const char *s, struct cst_image_name *ret, struct cst_error *err);
void cst_image_name_release(struct cst_image_name *n);

#endif
