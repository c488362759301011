/* Platforms: the host's from uname(2) in the names Go and the image
 * formats use, and the matching rules of an index's platform choice. */
#include "cst/image/platform.h"

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

