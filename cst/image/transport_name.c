/* Image names with a transport prefix, as containers-transports(5) writes
 * them.  Only the known prefixes count: "localhost:5000/app" is a plain
 * name (its first component holds a '/' after the colon, no transport
 * does). */
#include <stdlib.h>
#include <string.h>

#include "cst/image.h"

void cst_image_name_release(struct cst_image_name *n)
{
	free(n->target);
	free(n->ref);
	memset(n, 0, sizeof(*n));
}

int cst_image_name_parse(const char *s, struct cst_image_name *ret, struct cst_error *err)
{
	static const struct {
		const char *prefix;
		enum cst_image_transport t;
	} known[] = {
		{"docker://", CST_TRANSPORT_REGISTRY},     {"docker-daemon:", CST_TRANSPORT_DAEMON},
		{"docker-archive:", CST_TRANSPORT_ARCHIVE}, {"oci-archive:", CST_TRANSPORT_OCI_ARCHIVE},
		{"oci:", CST_TRANSPORT_OCI},
	};
	memset(ret, 0, sizeof(*ret));
	const char *rest = s;
	ret->transport = CST_TRANSPORT_NONE;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		size_t n = strlen(known[i].prefix);
		if (strncmp(s, known[i].prefix, n) == 0) {
			ret->transport = known[i].t;
			rest = s + n;
			break;
		}
	}
	if (!*rest)
		return cst_error_set(err, CST_E_USAGE, "--image '%s': nothing after the transport", s);
	const char *colon = NULL;
	/* Paths end at the first ':', as in containers-transports(5). */
	if (ret->transport == CST_TRANSPORT_OCI || ret->transport == CST_TRANSPORT_OCI_ARCHIVE ||
	    ret->transport == CST_TRANSPORT_ARCHIVE)
		colon = strchr(rest, ':');
	ret->target = colon ? strndup(rest, (size_t)(colon - rest)) : strdup(rest);
	if (colon && colon[1])
		ret->ref = strdup(colon + 1);
	if (!ret->target || (colon && colon[1] && !ret->ref)) {
		cst_image_name_release(ret);
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	if (!*ret->target) {
		cst_image_name_release(ret);
		return cst_error_set(err, CST_E_USAGE, "--image '%s': no path before the ':'", s);
	}
	if (ret->transport == CST_TRANSPORT_ARCHIVE && ret->ref) {
		cst_image_name_release(ret);
		return cst_error_set(err, CST_E_USAGE,
				     "--image '%s': choosing an image inside a docker-archive is not supported; save "
				     "one image per archive",
				     s);
	}
	return 0;
}
