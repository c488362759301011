/* Registry authentication as the docker CLI does it: anonymous first; on a
 * challenge, Basic with the credentials of docker's config.json `auths`,
 * or the Bearer token flow (a token from the challenge's realm for
 * service and scope "repository:NAME:pull", asked for with those
 * credentials when there are any), kept for the rest of the run.  An
 * identity token (`identitytoken`, which docker login keeps for registries
 * that hand out OAuth2 refresh tokens) is traded for the token as
 * docker/distribution's token handler does: a POST of the form
 * grant_type=refresh_token to the realm, answered with an access_token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cst/engine/client.h"
#include "cst/registry/registry-internal.h"

static int load_creds(struct reg_client *c, struct cst_error *err)
{
	if (c->creds_loaded)
		return 0;
	c->creds_loaded = true;
	char *config = NULL;
	if (dk_read_docker_config(&config, err) < 0)
		return -1;
	if (!config)
		return 0;
	int r = dk_registry_credentials(config, c->ref.host, &c->user, &c->pass, &c->identity_token, err);
	free(config);
	return r;
}

/* One parameter of a challenge: key=value or key="value", comma-separated. */
static char *challenge_param(const char *ch, const char *key)
{
	size_t klen = strlen(key);
	const char *p = ch;
	while ((p = strcasestr(p, key))) {
		bool starts = p == ch || p[-1] == ' ' || p[-1] == ',';
		if (starts && p[klen] == '=') {
			const char *v = p + klen + 1;
			if (*v == '"') {
				const char *end = strchr(v + 1, '"');
				return end ? strndup(v + 1, (size_t)(end - v - 1)) : NULL;
			}
			return strndup(v, strcspn(v, ", "));
		}
		p += klen;
	}
	return NULL;
}

static char *basic_header(const struct reg_client *c)
{
	char *plain = NULL, *b64 = NULL, *line = NULL;
	if (asprintf(&plain, "%s:%s", c->user, c->pass ? c->pass : "") < 0)
		return NULL;
	b64 = dk_base64_encode(plain, strlen(plain), false);
	if (b64 && asprintf(&line, "Authorization: Basic %s", b64) < 0)
		line = NULL;
	free(plain);
	free(b64);
	return line;
}

/* The docker daemon's client_id in the OAuth2 form. */
#define REG_OAUTH_CLIENT_ID "docker"

/* The form that trades an identity token for an access token. */
static char *refresh_form(const struct reg_client *c, const char *service, const char *scope)
{
	char *form = NULL;
	char *etok = curl_easy_escape(NULL, c->identity_token, 0);
	char *eservice = curl_easy_escape(NULL, service ? service : "", 0);
	char *escope = curl_easy_escape(NULL, scope, 0);
	if (etok && eservice && escope &&
	    asprintf(&form, "grant_type=refresh_token&refresh_token=%s&service=%s&scope=%s&client_id=%s", etok,
		     eservice, escope, REG_OAUTH_CLIENT_ID) < 0)
		form = NULL;
	curl_free(etok);
	curl_free(eservice);
	curl_free(escope);
	return form;
}

/* GET realm?service=...&scope=... for a token, or with an identity token
 * POST the refresh form there. */
static int fetch_token(struct reg_client *c, const char *challenge, struct cst_error *err)
{
	char *realm = challenge_param(challenge, "realm");
	char *service = challenge_param(challenge, "service");
	char *scope = challenge_param(challenge, "scope");
	char *url = NULL, *eservice = NULL, *escope = NULL, *basic = NULL, *given = NULL, *form = NULL;
	int r = -1;
	if (!realm || (strncmp(realm, "https://", 8) != 0 && strncmp(realm, "http://", 7) != 0)) {
		cst_error_set(err, CST_E_IMAGE, "the registry asks for a token but names no realm to get it from");
		goto out;
	}
	if (!scope && asprintf(&given, "repository:%s:pull", c->ref.repo) < 0)
		goto nomem;
	eservice = curl_easy_escape(NULL, service ? service : "", 0);
	escope = curl_easy_escape(NULL, scope ? scope : given, 0);
	if (!eservice || !escope ||
	    asprintf(&url, "%s%cservice=%s&scope=%s", realm, strchr(realm, '?') ? '&' : '?', eservice, escope) < 0)
		goto nomem;
	if (c->identity_token && *c->identity_token) {
		if (!(form = refresh_form(c, service, scope ? scope : given)))
			goto nomem;
	} else if (c->user && !(basic = basic_header(c))) {
		goto nomem;
	}
	/* The token request goes through the same machinery, without the
	 * registry's own header. */
	char *saved = c->auth;
	c->auth = basic;
	struct cst_buf body;
	cst_buf_init(&body, 0);
	struct reg_xfer x = {.c = c};
	c->fetching_token = true;
	int g = form ? reg_post_form(c, &x, realm, form, REG_JSON_MAX, "token", err)
		     : reg_open_url(c, &x, url, "application/json", REG_JSON_MAX, false, "token", err);
	if (g == 0)
		g = reg_finish(&x, NULL, UINT64_MAX, "token", err);
	c->fetching_token = false;
	c->auth = saved;
	if (g < 0) {
		reg_xfer_release(&x);
		cst_error_wrap(err, "%s %s", form ? "trading the identity token of docker's config.json for a token at"
						    : "getting a token from",
			       realm);
		goto out;
	}
	json_t *j = json_loadb(x.body.data ? x.body.data : "", x.body.len, 0, NULL);
	reg_xfer_release(&x);
	/* The OAuth2 answer's is access_token; the GET's, token (or both). */
	const char *tok = json_string_value(json_object_get(j, form ? "access_token" : "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(j, form ? "token" : "access_token"));
	if (!tok || !*tok || strpbrk(tok, "\r\n")) {
		json_decref(j);
		cst_error_set(err, CST_E_IMAGE, "the token server %s answers without a token", realm);
		goto out;
	}
	free(c->auth);
	if (asprintf(&c->auth, "Authorization: Bearer %s", tok) < 0)
		c->auth = NULL;
	json_decref(j);
	if (!c->auth)
		goto nomem;
	r = 0;
	goto out;
nomem:
	cst_error_set(err, CST_E_NOMEM, "out of memory");
out:
	free(form);
	free(basic);
	free(realm);
	free(service);
	free(scope);
	free(given);
	free(url);
	curl_free(eservice);
	curl_free(escope);
	return r;
}

int reg_authorize(struct reg_client *c, const char *challenge, bool had_auth, struct cst_error *err)
{
	if (!challenge)
		return cst_error_set(err, CST_E_IMAGE, "access denied (401) without a challenge");
	if (load_creds(c, err) < 0)
		return -1;
	if (strncasecmp(challenge, "Bearer", 6) == 0) {
		/* A token refused for a request it was got for will not do better
		 * the second time, unless the scope has changed. */
		if (had_auth && c->auth && strncmp(c->auth, "Authorization: Bearer", 21) == 0 &&
		    !strstr(challenge, "error=\"insufficient_scope\"") && !strstr(challenge, "error=\"invalid_token\""))
			return cst_error_set(err, CST_E_IMAGE, "access denied (401) with a token");
		return fetch_token(c, challenge, err);
	}
	if (strncasecmp(challenge, "Basic", 5) == 0) {
		if (!c->user)
			return cst_error_set(err, CST_E_IMAGE,
					     "the registry %s wants a user name and password: none is in docker's "
					     "config.json (log in with docker login)",
					     c->ref.host);
		if (had_auth)
			return cst_error_set(err, CST_E_IMAGE, "the registry %s refuses the credentials of docker's "
					     "config.json (401)", c->ref.host);
		char *h = basic_header(c);
		if (!h)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		free(c->auth);
		c->auth = h;
		return 0;
	}
	return cst_error_set(err, CST_E_IMAGE, "access denied (401): unknown challenge '%.40s'", challenge);
}
