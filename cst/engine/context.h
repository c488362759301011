/* Engine resolution in the docker CLI's order (context.c). */
#ifndef CST_ENGINE_CONTEXT_H
#define CST_ENGINE_CONTEXT_H

#include <stddef.h>

#include "cst/engine/client.h"
#include "cst/error.h"

/* The environment resolution reads, NULL for what is unset. */
struct dk_resolve_env {
	const char *docker_host;
	const char *docker_context;
	const char *docker_config;   /* the CLI's config directory; NULL: $HOME/.docker */
	const char *home;
	const char *tls_verify;      /* DOCKER_TLS_VERIFY, DOCKER_CERT_PATH: with */
	const char *cert_path;       /* DOCKER_HOST or the default context only */
	const char *xdg_runtime_dir;
	const char *default_socket;  /* NULL: DK_DEFAULT_SOCKET */
};

/* Fills ret, with ret->source saying why that engine.  An unknown
 * context, an unreadable store or config.json, a broken TLS file of the
 * context: CST_E_ENGINE naming the file. */
int dk_endpoint_resolve(const struct dk_resolve_env *env, struct dk_endpoint *ret, struct cst_error *err);

#endif
