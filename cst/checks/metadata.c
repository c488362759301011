#include <stdlib.h>
#include <string.h>

#include "cst/buf.h"
#include "cst/checks.h"

/* Go's %v of a []string: "[a b c]". */
static char *go_list(char **v, size_t n)
{
	struct cst_buf b = CST_BUF_INIT;
	int rc = cst_buf_puts(&b, "[");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (i)
			rc = cst_buf_puts(&b, " ");
		if (rc == 0)
			rc = cst_buf_puts(&b, v[i]);
	}
	if (rc == 0)
		rc = cst_buf_puts(&b, "]");
	if (rc < 0) {
		cst_buf_release(&b);
		return NULL;
	}
	return cst_buf_detach(&b, NULL);
}

static char *go_strv(const struct cst_strv *sv)
{
	char **v = calloc(sv->n + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < sv->n; i++)
		v[i] = sv->v[i].s;
	char *s = go_list(v, sv->n);
	free(v);
	return s;
}

/* A config string (which may hold NUL bytes, as Go's do) equal to an
 * image's, which holds none. */
static bool same(const char *have, const char *want, size_t want_len)
{
	return strlen(have) == want_len && memcmp(have, want, want_len) == 0;
}

/* CST's messages: one when the lengths differ, else one per differing
 * element ("Image config Cmd [..] does not match expected value: [..]"). */
static int check_list(struct cst_result *r, const char *what, const struct cst_strv *want, bool has, char **have,
		      size_t n)
{
	if (!want->present)
		return 0;
	if (!has)
		n = 0;
	size_t wrong = 0;
	if (want->n == n) {
		for (size_t i = 0; i < n; i++)
			wrong += !same(have[i], want->v[i].s, want->v[i].len);
		if (!wrong)
			return 0;
	}
	char *a = go_list(have, n), *e = go_strv(want);
	int rc = (a && e) ? 0 : -1;
	if (rc == 0 && want->n != n)
		rc = cst_result_fail(r, "Image %s %s does not match expected %s: %s", what, a, what, e);
	for (size_t i = 0; rc == 0 && i < wrong; i++)
		rc = cst_result_fail(r, "Image config %s %s does not match expected value: %s", what, a, e);
	free(a);
	free(e);
	return rc;
}

static const char *label_get(const struct cst_image_meta *m, const char *key, size_t key_len)
{
	for (size_t i = 0; i < m->n_labels; i++)
		if (same(m->label_keys[i], key, key_len))
			return m->label_values[i];
	return NULL;
}

static int check_kv(struct cst_result *r, const struct cst_kv *kv, const char *have, bool is_label)
{
	const char *kind = is_label ? "label" : "env var";
	if (!have && is_label)
		return cst_result_fail(r, "label %s not found in image metadata", kv->key);
	if (!have)
		return cst_result_fail(r, "variable %s not found in image env", kv->key);
	bool ok;
	if (kv->is_regex && kv->re) {
		struct cst_error err = CST_ERROR_INIT;
		int m = cst_regex_match(kv->re, have, strlen(have), &err);
		if (m < 0) {
			int rc = cst_result_fail(r, "%s", err.msg ? err.msg : "regex failed");
			cst_error_clear(&err);
			return rc;
		}
		ok = m == 1;
	} else {
		ok = same(have, kv->value, kv->value_len);
	}
	if (ok)
		return 0;
	return cst_result_fail(r, "%s %s value %s does not match expected value: %s", kind, kv->key, have, kv->value);
}

/* "8080" names a port whatever its protocol (as CST compares numbers only);
 * "53/udp" names that protocol only, where CST could never match it. */
static bool port_exposed(const struct cst_image_meta *m, const struct cst_str *want)
{
	const char *port = want->s;
	if (cst_str_has_nul(want->s, want->len))
		return false;
	bool has_proto = strchr(port, '/') != NULL;
	size_t pl = strlen(port);
	for (size_t i = 0; i < m->n_exposed_ports; i++) {
		const char *p = m->exposed_ports[i];
		if (has_proto) {
			if (strcmp(p, port) == 0)
				return true;
		} else if (strncmp(p, port, pl) == 0 && (p[pl] == '/' || p[pl] == '\0')) {
			return true;
		}
	}
	return false;
}

static bool in_list(char **v, size_t n, const struct cst_str *s)
{
	for (size_t i = 0; i < n; i++)
		if (same(v[i], s->s, s->len))
			return true;
	return false;
}

int cst_check_metadata(const struct cst_check_ctx *ctx, const struct cst_metadata_test *t, struct cst_result *r)
{
	const struct cst_image_meta *m = ctx->meta;
	if (cst_result_init(r, "Metadata Test") < 0)
		return -1;
	for (size_t i = 0; i < t->env.n; i++) {
		const struct cst_kv *kv = &t->env.v[i];
		const char *have = cst_env_get(&m->env, kv->key, kv->key_len);
		if (check_kv(r, kv, have, false) < 0)
			return -1;
	}
	for (size_t i = 0; i < t->unbound_env_vars.n; i++) {
		const char *key = t->unbound_env_vars.v[i].s;
		if (cst_env_get(&m->env, key, t->unbound_env_vars.v[i].len) &&
		    cst_result_fail(r, "env variable %s should not be present in image metadata", key) < 0)
			return -1;
	}
	for (size_t i = 0; i < t->labels.n; i++) {
		const struct cst_kv *kv = &t->labels.v[i];
		if (check_kv(r, kv, label_get(m, kv->key, kv->key_len), true) < 0)
			return -1;
	}
	if (check_list(r, "Cmd", &t->cmd, m->has_cmd, m->cmd, m->n_cmd) < 0 ||
	    check_list(r, "entrypoint", &t->entrypoint, m->has_entrypoint, m->entrypoint, m->n_entrypoint) < 0)
		return -1;
	if (t->workdir.s && t->workdir.len && !same(m->workdir ? m->workdir : "", t->workdir.s, t->workdir.len) &&
	    cst_result_fail(r, "Image workdir %s does not match config workdir: %s", m->workdir ? m->workdir : "",
			    t->workdir.s) < 0)
		return -1;
	/* An empty user is no check, as an empty workdir (CST). */
	if (t->user.s && t->user.len && !same(m->user ? m->user : "", t->user.s, t->user.len) &&
	    cst_result_fail(r, "Image user %s does not match config user: %s", m->user ? m->user : "", t->user.s) < 0)
		return -1;
	for (size_t i = 0; i < t->exposed_ports.n; i++)
		if (!port_exposed(m, &t->exposed_ports.v[i]) &&
		    cst_result_fail(r, "Port %s not found in config", t->exposed_ports.v[i].s) < 0)
			return -1;
	for (size_t i = 0; i < t->unexposed_ports.n; i++)
		if (port_exposed(m, &t->unexposed_ports.v[i]) &&
		    cst_result_fail(r, "Port %s should not be exposed", t->unexposed_ports.v[i].s) < 0)
			return -1;
	for (size_t i = 0; i < t->volumes.n; i++)
		if (!in_list(m->volumes, m->n_volumes, &t->volumes.v[i]) &&
		    cst_result_fail(r, "Volume %s not found in config", t->volumes.v[i].s) < 0)
			return -1;
	for (size_t i = 0; i < t->unmounted_volumes.n; i++)
		if (in_list(m->volumes, m->n_volumes, &t->unmounted_volumes.v[i]) &&
		    cst_result_fail(r, "Volume %s should not be mounted", t->unmounted_volumes.v[i].s) < 0)
			return -1;
	return 0;
}
