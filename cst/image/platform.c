/* Platforms: the host's from uname(2) in the names Go and the image
 * formats use, and the matching rules of an index's platform choice. */
#include "cst/image/platform.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

void host_platform(struct platform *p)
{
	struct utsname u;
	memset(p, 0, sizeof(*p));
	snprintf(p->os, sizeof(p->os), "linux");
	if (uname(&u) < 0) {
		snprintf(p->arch, sizeof(p->arch), "amd64");
		return;
	}
	static const struct {
		const char *machine, *arch, *variant;
	} map[] = {
		{"x86_64", "amd64", ""},   {"aarch64", "arm64", ""},    {"arm64", "arm64", ""},
		{"armv7l", "arm", "v7"},   {"armv6l", "arm", "v6"},     {"i686", "386", ""},
		{"i386", "386", ""},       {"ppc64le", "ppc64le", ""},  {"s390x", "s390x", ""},
		{"riscv64", "riscv64", ""}, {"mips64", "mips64", ""},   {"loongarch64", "loong64", ""},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(u.machine, map[i].machine) == 0) {
			snprintf(p->arch, sizeof(p->arch), "%s", map[i].arch);
			snprintf(p->variant, sizeof(p->variant), "%s", map[i].variant);
			return;
		}
	}
	snprintf(p->arch, sizeof(p->arch), "%.31s", u.machine);
}

int parse_platform(const char *s, struct platform *p, struct cst_error *err)
{
	memset(p, 0, sizeof(*p));
	const char *a = strchr(s, '/');
	const char *v = a ? strchr(a + 1, '/') : NULL;
	size_t ol = a ? (size_t)(a - s) : 0;
	size_t al = a ? (v ? (size_t)(v - a - 1) : strlen(a + 1)) : 0;
	if (!a || ol == 0 || al == 0 || ol >= sizeof(p->os) || al >= sizeof(p->arch) ||
	    (v && (strlen(v + 1) >= sizeof(p->variant) || strchr(v + 1, '/'))))
		return cst_error_set(err, CST_E_USAGE, "--platform '%s': expected os/arch[/variant]", s);
	memcpy(p->os, s, ol);
	memcpy(p->arch, a + 1, al);
	if (v)
		snprintf(p->variant, sizeof(p->variant), "%s", v + 1);
	return 0;
}

void format_platform(const struct platform *p, struct cst_buf *b)
{
	if (!p->os[0] && !p->arch[0]) {
		cst_buf_puts(b, "(no platform)");
		return;
	}
	cst_buf_printf(b, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

/* arm64's only variant is v8, so "linux/arm64" and "linux/arm64/v8" are
 * one platform; otherwise a variant is compared only when asked for. */
bool platform_matches(const struct platform *want, const struct platform *have)
{
	if (strcmp(want->os, have->os) != 0 || strcmp(want->arch, have->arch) != 0)
		return false;
	if (!want->variant[0] || !have->variant[0])
		return true;
	return strcmp(want->variant, have->variant) == 0;
}

void platform_from(json_t *obj, const char *os_key, const char *arch_key, struct platform *p)
{
	const char *os = json_string_value(json_object_get(obj, os_key));
	const char *arch = json_string_value(json_object_get(obj, arch_key));
	const char *variant = json_string_value(json_object_get(obj, "variant"));
	snprintf(p->os, sizeof(p->os), "%s", os ? os : "");
	snprintf(p->arch, sizeof(p->arch), "%s", arch ? arch : "");
	snprintf(p->variant, sizeof(p->variant), "%s", variant ? variant : "");
}


/* BuildKit's attestation manifests sit in an index beside the images. */
static bool is_attestation(json_t *desc)
{
	json_t *ann = json_object_get(desc, "annotations");
	const char *type = json_string_value(json_object_get(ann, "vnd.docker.reference.type"));
	if (type && strcmp(type, "attestation-manifest") == 0)
		return true;
	const char *os = json_string_value(json_object_get(json_object_get(desc, "platform"), "os"));
	return os && strcmp(os, "unknown") == 0;
}

int platform_choose(json_t *index, const char *who, const char *where, const struct platform *want,
		    bool explicit_platform, platform_of_fn platform_of, void *ud, json_t **ret_desc,
		    struct cst_error *err)
{
	json_t *manifests = json_object_get(index, "manifests");
	if (!json_is_array(manifests))
		return cst_error_set(err, CST_E_IMAGE, "%s: %s has no manifests list", who, where);
	size_t n = 0, i;
	json_t *desc, *only = NULL;
	json_array_foreach(manifests, i, desc) {
		if (json_is_object(desc) && !is_attestation(desc)) {
			n++;
			only = desc;
		}
	}
	if (n == 0)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s lists no image", who, where);
	if (n == 1 && !explicit_platform) {
		*ret_desc = only;
		return 0;
	}
	struct cst_buf seen = CST_BUF_INIT;
	json_array_foreach(manifests, i, desc) {
		if (!json_is_object(desc) || is_attestation(desc))
			continue;
		struct platform p = {0};
		if (platform_of(ud, desc, &p, err) < 0) {
			cst_buf_release(&seen);
			return -1;
		}
		/* A single image without any platform is taken as asked for. */
		if (platform_matches(want, &p) || (n == 1 && !p.os[0])) {
			cst_buf_release(&seen);
			*ret_desc = desc;
			return 0;
		}
		if (seen.len)
			cst_buf_puts(&seen, ", ");
		format_platform(&p, &seen);
	}
	struct cst_buf w = CST_BUF_INIT;
	format_platform(want, &w);
	cst_error_set(err, CST_E_IMAGE, "%s: no image for platform %s in %s (it has: %s); choose one with --platform",
		      who, w.data ? w.data : "?", where, seen.data ? seen.data : "");
	cst_buf_release(&w);
	cst_buf_release(&seen);
	return -1;
}

void cst_platform_list_release(struct cst_platform_list *l)
{
	for (size_t i = 0; l && i < l->n; i++)
		free(l->v[i]);
	if (l) {
		free(l->v);
		memset(l, 0, sizeof(*l));
	}
}

static bool listed(const struct cst_platform_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

int platform_list(json_t *index, const char *who, const char *where, platform_of_fn platform_of, void *ud,
		  struct cst_platform_list *ret, json_t **ret_only, struct cst_error *err)
{
	memset(ret, 0, sizeof(*ret));
	*ret_only = NULL;
	json_t *manifests = json_object_get(index, "manifests");
	if (!json_is_array(manifests))
		return cst_error_set(err, CST_E_IMAGE, "%s: %s has no manifests list", who, where);
	size_t n = 0, i;
	json_t *desc, *only = NULL;
	json_array_foreach(manifests, i, desc) {
		if (json_is_object(desc) && !is_attestation(desc)) {
			n++;
			only = desc;
		}
	}
	if (n == 0)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s lists no image", who, where);
	if (n == 1) {
		*ret_only = only;
		return 0;
	}
	struct cst_platform_list l = {0};
	if (!(l.v = calloc(n, sizeof(*l.v))))
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	json_array_foreach(manifests, i, desc) {
		if (!json_is_object(desc) || is_attestation(desc))
			continue;
		struct platform p = {0};
		if (platform_of(ud, desc, &p, err) < 0) {
			cst_platform_list_release(&l);
			return -1;
		}
		if (!p.os[0] || !p.arch[0])
			continue;
		struct cst_buf b = CST_BUF_INIT;
		format_platform(&p, &b);
		if (!b.data) {
			cst_platform_list_release(&l);
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		}
		if (listed(&l, b.data))
			cst_buf_release(&b);
		else
			l.v[l.n++] = b.data;
	}
	if (l.n == 0) {
		free(l.v);
		return cst_error_set(err, CST_E_IMAGE, "%s: %s lists %zu images, none of them with a platform", who,
				     where, n);
	}
	*ret = l;
	return 0;
}
