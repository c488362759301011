/* The Engine API client: where the engine is, which API version to speak,
 * and one request at a time over a reused libcurl easy handle. */
#include "cst/engine/client.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cst/engine/context.h"
#include "cst/engine/ssh_transport.h"
#include "cst/signals.h"

void dk_endpoint_release(struct dk_endpoint *ep)
{
	free(ep->socket_path);
	free(ep->base_url);
	free(ep->ca);
	free(ep->cert);
	free(ep->key);
	free(ep->ssh_host);
	free(ep->ssh_user);
	free(ep->ssh_port);
	free(ep->ssh_url);
	free(ep->source);
	memset(ep, 0, sizeof(*ep));
}

static char *path_join(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* DOCKER_TLS_VERIFY / DOCKER_CERT_PATH as the docker CLI reads them. */
static int env_tls(const char *tls_verify, const char *cert_path, const char *home, struct dk_tls_files *ret,
		   char **ret_dir, struct cst_error *err)
{
	bool verify = tls_verify && *tls_verify;
	bool certs = cert_path && *cert_path;
	*ret_dir = NULL;
	memset(ret, 0, sizeof(*ret));
	if (!verify && !certs)
		return 0;
	ret->on = true;
	ret->verify = verify;
	char *dir = NULL;
	if (certs)
		dir = strdup(cert_path);
	else if (asprintf(&dir, "%s/.docker", home && *home ? home : ".") < 0)
		dir = NULL;
	if (!dir)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	*ret_dir = dir;
	return 0;
}

static int endpoint_tls(struct dk_endpoint *ep, const struct dk_tls_files *tls, const char *dir,
			struct cst_error *err)
{
	if (!tls->on)
		return 0;
	ep->tls = true;
	ep->verify = tls->verify;
	if (!dir)
		return 0;
	ep->ca = path_join(dir, "ca.pem");
	ep->cert = path_join(dir, "cert.pem");
	ep->key = path_join(dir, "key.pem");
	if (!ep->ca || !ep->cert || !ep->key)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	/* A client certificate is optional (engines may only check the
	 * server side); a missing CA with verification on is the user's
	 * problem that curl reports with the file name. */
	if (access(ep->cert, R_OK) < 0 || access(ep->key, R_OK) < 0) {
		free(ep->cert);
		free(ep->key);
		ep->cert = ep->key = NULL;
	}
	if (access(ep->ca, R_OK) < 0 && !tls->verify) {
		free(ep->ca);
		ep->ca = NULL;
	}
	return 0;
}

/* ssh://[user@]host[:port][/path]: the path is not used, as by the CLI. */
static int parse_ssh(const char *host, const char *what, struct dk_endpoint *ep, struct cst_error *err)
{
	const char *rest = host + 6;
	size_t len = strcspn(rest, "/?#");
	const char *at = memchr(rest, '@', len);
	const char *h = at ? at + 1 : rest;
	size_t hlen = (size_t)(rest + len - h);
	const char *close = memchr(h, ']', hlen);
	const char *colon = memchr(close ? close : h, ':', (size_t)(h + hlen - (close ? close : h)));
	size_t namelen = colon ? (size_t)(colon - h) : hlen;
	if (at && at == rest)
		return cst_error_set(err, CST_E_ENGINE, "%s '%s': empty user name", what, host);
	if (!namelen)
		return cst_error_set(err, CST_E_ENGINE, "%s '%s': no host", what, host);
	if (colon) {
		const char *p = colon + 1;
		if (p == h + hlen)
			return cst_error_set(err, CST_E_ENGINE, "%s '%s': empty port", what, host);
		for (; p < h + hlen; p++)
			if (!isdigit((unsigned char)*p))
				return cst_error_set(err, CST_E_ENGINE, "%s '%s': bad port", what, host);
	}
	/* Brackets only delimit an IPv6 literal in the URL; ssh wants it bare. */
	const char *name = h;
	if (namelen > 2 && name[0] == '[' && name[namelen - 1] == ']') {
		name++;
		namelen -= 2;
	}
	/* As the docker CLI: no password in the URL (ssh asks for none in
	 * batch mode anyway), and nothing ssh could take for an option. */
	if (at && memchr(rest, ':', (size_t)(at - rest)))
		return cst_error_set(err, CST_E_ENGINE, "%s '%s': a password in the URL is not supported (use a key)", what,
				     host);
	if (name[0] == '-' || (at && rest[0] == '-'))
		return cst_error_set(err, CST_E_ENGINE, "%s '%s': a user or host may not start with '-'", what, host);
	if (!(ep->ssh_host = strndup(name, namelen)) || (at && !(ep->ssh_user = strndup(rest, (size_t)(at - rest)))) ||
	    (colon && !(ep->ssh_port = strndup(colon + 1, (size_t)(h + hlen - colon - 1)))) ||
	    !(ep->ssh_url = strndup(host, (size_t)(rest + len - host))) ||
	    /* The host part of the URL only fills the Host header: the
	     * connection is a unix socket of ssh_transport.c. */
	    !(ep->base_url = strdup("http://localhost")))
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	return 0;
}

int dk_endpoint_parse_as(const char *docker_host, const char *what, const struct dk_tls_files *tls,
			 const char *tls_dir, struct dk_endpoint *ret, struct cst_error *err)
{
	struct dk_endpoint ep = {0};
	const char *host = docker_host && *docker_host ? docker_host : "unix://" DK_DEFAULT_SOCKET;

	if (strncmp(host, "unix://", 7) == 0) {
		const char *path = host + 7;
		if (!*path)
			path = DK_DEFAULT_SOCKET;
		ep.socket_path = strdup(path);
		/* The host part of the URL only fills the Host header. */
		ep.base_url = strdup("http://localhost");
		if (!ep.socket_path || !ep.base_url)
			goto nomem;
		*ret = ep;
		return 0;
	}
	if (strncmp(host, "ssh://", 6) == 0) {
		if (parse_ssh(host, what, &ep, err) < 0) {
			dk_endpoint_release(&ep);
			return -1;
		}
		*ret = ep;
		return 0;
	}

	const char *rest = NULL;
	bool https = false;
	if (strncmp(host, "tcp://", 6) == 0)
		rest = host + 6;
	else if (strncmp(host, "http://", 7) == 0)
		rest = host + 7;
	else if (strncmp(host, "https://", 8) == 0) {
		rest = host + 8;
		https = true;
	}
	if (!rest) {
		const char *colon = strstr(host, "://");
		if (colon)
			return cst_error_set(err, CST_E_ENGINE,
					     "%s '%s': the %.*s:// scheme is not supported (use unix://, tcp:// or ssh://)",
					     what, host, (int)(colon - host), host);
		return cst_error_set(err, CST_E_ENGINE, "%s '%s': expected unix://PATH, tcp://HOST:PORT or ssh://[USER@]HOST",
				     what, host);
	}

	size_t hostlen = strcspn(rest, "/");
	const char *path = rest + hostlen;
	if (hostlen == 0)
		return cst_error_set(err, CST_E_ENGINE, "%s '%s': no host", what, host);
	/* A port is the part after the last ':' unless that ':' is inside
	 * an IPv6 literal. */
	const char *close = memchr(rest, ']', hostlen);
	const char *colon = NULL;
	for (const char *p = close ? close : rest; p < rest + hostlen; p++)
		if (*p == ':')
			colon = p;
	if (colon && colon + 1 == rest + hostlen)
		return cst_error_set(err, CST_E_ENGINE, "%s '%s': empty port", what, host);
	if (colon)
		for (const char *p = colon + 1; p < rest + hostlen; p++)
			if (!isdigit((unsigned char)*p))
				return cst_error_set(err, CST_E_ENGINE, "%s '%s': bad port", what, host);

	if (endpoint_tls(&ep, tls, tls_dir, err) < 0) {
		dk_endpoint_release(&ep);
		return -1;
	}
	if (https)
		ep.tls = true;
	/* Strip a trailing '/' from a path prefix so that "/v1.41/..." joins. */
	size_t pathlen = strlen(path);
	while (pathlen && path[pathlen - 1] == '/')
		pathlen--;
	if (asprintf(&ep.base_url, "%s://%.*s%s%.*s", ep.tls ? "https" : "http", (int)hostlen, rest,
		     colon ? "" : (ep.tls ? ":2376" : ":2375"), (int)pathlen, path) < 0) {
		ep.base_url = NULL;
		goto nomem;
	}
	*ret = ep;
	return 0;
nomem:
	dk_endpoint_release(&ep);
	return cst_error_set(err, CST_E_NOMEM, "out of memory");
}

int dk_endpoint_parse(const char *docker_host, const char *tls_verify, const char *cert_path, const char *home,
		      struct dk_endpoint *ret, struct cst_error *err)
{
	struct dk_tls_files tls;
	char *dir = NULL;
	if (env_tls(tls_verify, cert_path, home, &tls, &dir, err) < 0)
		return -1;
	int rc = dk_endpoint_parse_as(docker_host, "DOCKER_HOST", &tls, dir, ret, err);
	free(dir);
	return rc;
}

static bool parse_version(const char *s, long *major, long *minor)
{
	char *end;
	errno = 0;
	*major = strtol(s, &end, 10);
	if (end == s || *end != '.' || errno)
		return false;
	const char *m = end + 1;
	*minor = strtol(m, &end, 10);
	return end != m && *end == '\0' && !errno && *major >= 0 && *minor >= 0;
}

int dk_version_cmp(const char *a, const char *b)
{
	long amaj = 0, amin = 0, bmaj = 0, bmin = 0;
	parse_version(a, &amaj, &amin);
	parse_version(b, &bmaj, &bmin);
	if (amaj != bmaj)
		return amaj < bmaj ? -1 : 1;
	if (amin != bmin)
		return amin < bmin ? -1 : 1;
	return 0;
}

int dk_api_version_pick(const char *engine, const char *override, char ret[16], struct cst_error *err)
{
	long maj, min;
	if (override && *override) {
		const char *v = override[0] == 'v' ? override + 1 : override;
		if (!parse_version(v, &maj, &min) || strlen(v) >= 16)
			return cst_error_set(err, CST_E_ENGINE, "DOCKER_API_VERSION '%s': expected a version like 1.41",
					     override);
		strcpy(ret, v);
		return 0;
	}
	/* Engines before 1.25 did not send the header. */
	const char *v = engine && *engine ? engine : "1.24";
	if (!parse_version(v, &maj, &min) || strlen(v) >= 16)
		return cst_error_set(err, CST_E_ENGINE, "the engine sent a malformed API version '%s'", v);
	if (dk_version_cmp(v, DK_API_MIN) < 0)
		return cst_error_set(err, CST_E_ENGINE, "the engine speaks API %s; cst needs %s or newer", v, DK_API_MIN);
	strcpy(ret, dk_version_cmp(v, DK_API_MAX) > 0 ? DK_API_MAX : v);
	return 0;
}

bool dk_header_value(const char *line, size_t len, const char *name, char *ret, size_t retsz)
{
	size_t nlen = strlen(name);
	if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return false;
	const char *v = line + nlen + 1;
	const char *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	size_t n = (size_t)(end - v);
	if (n >= retsz)
		n = retsz - 1;
	memcpy(ret, v, n);
	ret[n] = '\0';
	return true;
}

/* Some engines wrap an error in itself ("no such image: x:1: No such
 * image: x:1"); a message says its cause once, so the repeat goes. */
static void drop_repeat(char *msg)
{
	size_t n = strlen(msg);
	if (n < 4 || (n - 2) % 2)
		return;
	size_t half = (n - 2) / 2;
	if (msg[half] == ':' && msg[half + 1] == ' ' && strncasecmp(msg, msg + half + 2, half) == 0)
		msg[half] = '\0';
}

char *dk_error_message(const char *body, size_t len, long status)
{
	char *msg = NULL;
	if (body && len) {
		json_t *root = json_loadb(body, len, 0, NULL);
		const char *m = json_string_value(json_object_get(root, "message"));
		if (m && *m)
			msg = strdup(m);
		json_decref(root);
		if (!msg && !root) {
			while (len && isspace((unsigned char)body[len - 1]))
				len--;
			if (len)
				msg = strndup(body, len);
		}
		if (msg) {
			drop_repeat(msg);
			return msg;
		}
	}
	if (asprintf(&msg, "HTTP status %ld", status) < 0)
		return NULL;
	return msg;
}

int dk_conn_init(struct dk_conn *c, struct cst_error *err)
{
	c->errbuf[0] = '\0';
	c->curl = curl_easy_init();
	if (!c->curl)
		return cst_error_set(err, CST_E_NOMEM, "cannot create a libcurl handle");
	return 0;
}

void dk_conn_release(struct dk_conn *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

char *dk_escape(struct dk_conn *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	if (!e)
		return NULL;
	char *copy = strdup(e);
	curl_free(e);
	return copy;
}

static size_t xfer_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct dk_xfer *x = ud;
	size_t n = size * nmemb;
	if (!x->status)
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->status < 200 || x->status >= 300) {
		/* Error bodies are small JSON; the ceiling keeps a confused
		 * endpoint from filling memory. */
		if (cst_buf_append(&x->errbody, p, n) < 0)
			return 0;
		return n;
	}
	if (x->r->write_cb) {
		size_t got = x->r->write_cb(p, size, nmemb, x->r->write_ud);
		if (got != n && got != CURL_WRITEFUNC_PAUSE)
			x->write_failed = true;
		return got;
	}
	if (x->r->reply && cst_buf_append(x->r->reply, p, n) < 0) {
		x->write_failed = true;
		return 0;
	}
	return n;
}

static int xfer_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const struct dk_xfer *x = ud;
	/* Waits and streams can last as long as a command test; a signal
	 * must end them so that cleanup runs. */
	return !x->r->no_abort && cst_signal_pending() ? 1 : 0;
}

int dk_xfer_prepare(struct cst_docker *d, struct dk_conn *c, const struct dk_request *r, struct dk_xfer *x,
		    struct cst_error *err)
{
	memset(x, 0, sizeof(*x));
	x->d = d;
	x->r = r;
	x->curl = c->curl;
	cst_buf_init(&x->errbody, 1u << 20);
	CURL *h = c->curl;

	if (r->unversioned)
		x->url = malloc(strlen(d->ep.base_url) + strlen(r->path) + 1);
	else
		x->url = malloc(strlen(d->ep.base_url) + strlen(d->api) + strlen(r->path) + 3);
	if (!x->url)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	if (r->unversioned)
		sprintf(x->url, "%s%s", d->ep.base_url, r->path);
	else
		sprintf(x->url, "%s/v%s%s", d->ep.base_url, d->api, r->path);

	/* Reset keeps the connection cache: requests reuse the socket. */
	curl_easy_reset(h);
	c->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, DK_CONNECT_TIMEOUT_MS);
	if (r->fresh) {
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	}
	if (r->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	if (d->ep.socket_path)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, d->ep.socket_path);
	if (d->ssh)
		dk_ssh_setopt(d->ssh, h);
	if (d->ep.tls) {
		if (d->ep.ca)
			curl_easy_setopt(h, CURLOPT_CAINFO, d->ep.ca);
		if (d->ep.cert)
			curl_easy_setopt(h, CURLOPT_SSLCERT, d->ep.cert);
		if (d->ep.key)
			curl_easy_setopt(h, CURLOPT_SSLKEY, d->ep.key);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, d->ep.verify ? 1L : 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, d->ep.verify ? 2L : 0L);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, xfer_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	if (r->header_cb) {
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, r->header_cb);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, r->header_ud);
	}
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);

	const char *method = r->method ? r->method : "GET";
	struct curl_slist *hl = NULL;
	for (const struct curl_slist *e = r->headers; e; e = e->next)
		if (!(hl = curl_slist_append(hl, e->data)))
			goto nomem;
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		/* The engine answers at once; waiting for 100-continue would
		 * only add a round trip. */
		if (!(hl = curl_slist_append(hl, "Expect:")))
			goto nomem;
		if (r->read_cb) {
			curl_easy_setopt(h, CURLOPT_READFUNCTION, r->read_cb);
			curl_easy_setopt(h, CURLOPT_READDATA, r->read_ud);
			if (!(hl = curl_slist_append(hl, "Transfer-Encoding: chunked")))
				goto nomem;
		} else {
			if (r->json && !(x->body = json_dumps(r->json, JSON_COMPACT)))
				goto nomem;
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, x->body ? (long)strlen(x->body) : 0L);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body ? x->body : "");
		}
		const char *ct = r->content_type ? r->content_type : (r->json ? "application/json" : NULL);
		if (ct) {
			char line[128];
			snprintf(line, sizeof(line), "Content-Type: %s", ct);
			if (!(hl = curl_slist_append(hl, line)))
				goto nomem;
		}
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	x->headers = hl;
	if (hl)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	return 0;
nomem:
	curl_slist_free_all(hl);
	return cst_error_set(err, CST_E_NOMEM, "out of memory");
}

void dk_xfer_release(struct dk_xfer *x)
{
	curl_slist_free_all(x->headers);
	free(x->url);
	free(x->body);
	cst_buf_release(&x->errbody);
	x->headers = NULL;
	x->url = x->body = NULL;
}

/* Whether this process is out of file descriptors now.  curl does not
 * always keep the errno of a socket() that failed, and without this a
 * run at its descriptor limit would blame the engine. */
static int descriptors_exhausted(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EMFILE || errno == ENFILE ? errno : 0;
}

/* The engine as DOCKER_HOST or the context names it. */
static const char *where(const struct cst_docker *d, char *buf, size_t size)
{
	const char *url = d->ep.base_url;
	if (d->ep.ssh_url)
		snprintf(buf, size, "%s", d->ep.ssh_url);
	else if (d->ep.socket_path)
		snprintf(buf, size, "unix://%s", d->ep.socket_path);
	else if (strncmp(url, "http://", 7) == 0)
		snprintf(buf, size, "tcp://%s", url + 7);
	else if (strncmp(url, "https://", 8) == 0)
		snprintf(buf, size, "tcp://%s (TLS)", url + 8);
	else
		snprintf(buf, size, "%s", url);
	return buf;
}

long dk_xfer_finish(struct dk_conn *c, struct dk_xfer *x, CURLcode rc, long *ret_status, bool *ret_timed_out,
		    struct cst_error *err)
{
	const struct dk_request *r = x->r;
	const char *method = r->method ? r->method : "GET";
	long status = 0;
	long result = -1;
	char w[300];

	if (ret_status)
		*ret_status = 0;
	if (ret_timed_out)
		*ret_timed_out = false;
	if (rc == CURLE_ABORTED_BY_CALLBACK && cst_signal_pending()) {
		cst_signal_check(err);
		goto out;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT && r->timeout_ms > 0) {
		if (ret_timed_out)
			*ret_timed_out = true;
		cst_error_set(err, CST_E_ENGINE, "%s %s: no answer from the engine at %s within %.1f s", method,
			      r->path, where(x->d, w, sizeof(w)), (double)r->timeout_ms / 1000.0);
		goto out;
	}
	if (rc == CURLE_WRITE_ERROR && x->write_failed) {
		/* The consumer gave up on the body; it says why. */
		cst_error_set(err, CST_E_ENGINE, "%s %s: the reply could not be taken in", method, r->path);
		goto out;
	}
	if (rc != CURLE_OK) {
		const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
		/* Over ssh, libcurl only sees the connection close; ssh knows why. */
		char words[512];
		if (x->d->ssh && dk_ssh_take_words(x->d->ssh, words, sizeof(words))) {
			cst_error_set(err, CST_E_ENGINE, "cannot reach the Docker engine at %s: %s (%s %s: %s)",
				      where(x->d, w, sizeof(w)), words, method, r->path, why);
			goto out;
		}
		long oserr = 0;
		curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
		int nofd = oserr == EMFILE || oserr == ENFILE ? (int)oserr : 0;
		if (!nofd && rc == CURLE_COULDNT_CONNECT)
			nofd = descriptors_exhausted();
		if (nofd) {
			cst_error_set(err, CST_E_IO,
				      "cannot open a connection to the Docker engine at %s: %s (raise the limit, ulimit -n, or lower --jobs)",
				      where(x->d, w, sizeof(w)), strerror(nofd));
		} else if (rc == CURLE_COULDNT_CONNECT && oserr) {
			/* curl words a unix socket failure as "localhost port 80";
			 * the system's reason names what is wrong. */
			bool denied = oserr == EACCES || oserr == EPERM;
			cst_error_set(err, CST_E_ENGINE, "cannot connect to the Docker engine at %s: %s (%s)",
				      where(x->d, w, sizeof(w)), strerror((int)oserr),
				      denied ? "is this user allowed to use it, e.g. in the docker group?"
					     : "is the docker daemon running?");
		} else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_OPERATION_TIMEDOUT)
			cst_error_set(err, CST_E_ENGINE, "cannot connect to the Docker engine at %s: %s (is the docker daemon running?)",
				      where(x->d, w, sizeof(w)), why);
		else
			cst_error_set(err, CST_E_ENGINE, "%s %s at %s: %s", method, r->path, where(x->d, w, sizeof(w)), why);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (ret_status)
		*ret_status = status;
	/* 304: the container was already started or stopped, which is what
	 * was asked for. */
	if ((status >= 200 && status < 300) || status == 304) {
		result = status;
		goto out;
	}
	char *msg = dk_error_message(x->errbody.data, x->errbody.len, status);
	cst_error_set(err, CST_E_ENGINE, "%s", msg ? msg : "out of memory");
	free(msg);
out:
	dk_xfer_release(x);
	return result;
}

long dk_call(struct cst_docker *d, struct dk_conn *c, const struct dk_request *r, long *ret_status,
	     bool *ret_timed_out, struct cst_error *err)
{
	struct dk_xfer x;
	if (dk_xfer_prepare(d, c, r, &x, err) < 0) {
		dk_xfer_release(&x);
		return -1;
	}
	CURLcode rc = curl_easy_perform(c->curl);
	return dk_xfer_finish(c, &x, rc, ret_status, ret_timed_out, err);
}

long dk_call_json(struct cst_docker *d, struct dk_conn *c, const struct dk_request *r, json_t **ret, long *ret_status,
		  struct cst_error *err)
{
	struct cst_buf reply;
	cst_buf_init(&reply, DK_REPLY_MAX);
	struct dk_request req = *r;
	req.reply = &reply;
	req.write_cb = NULL;
	*ret = NULL;
	long status = dk_call(d, c, &req, ret_status, NULL, err);
	if (status < 0)
		goto out;
	if (reply.truncated) {
		status = cst_error_set(err, CST_E_ENGINE, "%s: the engine's reply is larger than %u bytes", r->path,
				       DK_REPLY_MAX);
		goto out;
	}
	if (reply.len) {
		json_error_t je;
		/* Go strings may hold NUL: another container's command, say,
		 * in a list that the reaper reads. */
		*ret = json_loadb(reply.data, reply.len, JSON_ALLOW_NUL, &je);
		if (!*ret)
			status = cst_error_set(err, CST_E_ENGINE, "%s: malformed reply from the engine: %s", r->path,
					       je.text);
	}
out:
	cst_buf_release(&reply);
	return status;
}

bool dk_engine_alive(struct cst_docker *d, struct dk_conn *c, struct cst_error *err)
{
	struct dk_request r = {
		.path = "/_ping", .unversioned = true, .timeout_ms = 10000, .no_abort = true, .fresh = true};
	return dk_call(d, c, &r, NULL, NULL, err) >= 0;
}

struct ping_headers {
	char api[32];
};

static size_t ping_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct ping_headers *ph = ud;
	dk_header_value(p, size * nmemb, "Api-Version", ph->api, sizeof(ph->api));
	return size * nmemb;
}

static int ping(struct cst_docker *d, struct cst_error *err)
{
	struct ping_headers ph = {""};
	struct dk_request r = {
		.path = "/_ping",
		.unversioned = true,
		.header_cb = ping_header,
		.header_ud = &ph,
		.timeout_ms = 30000,
	};
	long status = 0;
	if (dk_call(d, &d->conn, &r, &status, NULL, err) < 0) {
		if (status)
			cst_error_wrap(err, "the Docker engine does not answer its ping");
		return -1;
	}
	return dk_api_version_pick(ph.api, getenv("DOCKER_API_VERSION"), d->api, err);
}

/* DK_LABEL_HOST: the boot id and the pid namespace's inode.  Left empty
 * when either is unknown, which turns reaping off rather than guess. */
static void host_identity(char *ret, size_t size)
{
	ret[0] = '\0';
	char boot[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (!f)
		return;
	bool ok = fgets(boot, sizeof(boot), f) != NULL;
	fclose(f);
	boot[strcspn(boot, "\n")] = '\0';
	struct stat st;
	if (!ok || !*boot || stat("/proc/self/ns/pid", &st) < 0)
		return;
	snprintf(ret, size, "%s/%llu", boot, (unsigned long long)st.st_ino);
}

static int make_run_id(char ret[33], struct cst_error *err)
{
	unsigned char raw[16];
	ssize_t got = getrandom(raw, sizeof(raw), 0);
	if (got != (ssize_t)sizeof(raw))
		return cst_error_set(err, CST_E_INTERNAL, "getrandom: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(ret + 2 * i, "%02x", raw[i]);
	return 0;
}

char *cst_docker_take_cache_notes(struct cst_docker *d)
{
	char *notes = d->cache_note;
	d->cache_note = NULL;
	return notes;
}

int cst_docker_open(const struct cst_docker_opts *opts, struct cst_docker **ret, struct cst_error *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return cst_error_set(err, CST_E_INTERNAL, "libcurl failed to initialise");
	struct cst_docker *d = calloc(1, sizeof(*d));
	if (!d) {
		curl_global_cleanup();
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->leave_lock, NULL);
	d->save = opts && opts->save;
	d->shared_container = opts && opts->shared_container;
	d->network_sandbox = opts && opts->network_sandbox;
	d->info = opts && opts->info;
	d->jobs = opts && opts->jobs > 0 ? opts->jobs : 1;
	d->sandbox_jobs = opts && opts->sandbox_jobs > 0 ? opts->sandbox_jobs : d->jobs;
	if (opts && opts->read_plan)
		d->read_plan = strcmp(opts->read_plan, "export") == 0 ? DK_PLAN_EXPORT
			       : strcmp(opts->read_plan, "paths") == 0 ? DK_PLAN_PATHS
									: DK_PLAN_AUTO;
	if (opts && opts->max_output) {
		cst_budget_init(&d->output_budget_store, opts->max_output);
		d->output_budget = &d->output_budget_store;
	}
	d->progress = opts ? opts->progress : NULL;
	d->meter = opts ? opts->meter : NULL;
	d->cache_max = opts ? opts->cache_max : 0;
	snprintf(d->pid, sizeof(d->pid), "%ld", (long)getpid());
	host_identity(d->host, sizeof(d->host));
	if ((opts && opts->runtime && !(d->runtime = strdup(opts->runtime))) ||
	    (opts && opts->network && !(d->network = strdup(opts->network))) ||
	    (opts && opts->platform && !(d->platform = strdup(opts->platform))) ||
	    (opts && opts->cache_dir && !(d->cache_dir = strdup(opts->cache_dir)))) {
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		goto fail;
	}
	if (make_run_id(d->run_id, err) < 0 || dk_conn_init(&d->conn, err) < 0)
		goto fail;
	struct dk_resolve_env env = {
		.docker_host = getenv("DOCKER_HOST"),
		.docker_context = getenv("DOCKER_CONTEXT"),
		.docker_config = getenv("DOCKER_CONFIG"),
		.home = getenv("HOME"),
		.tls_verify = getenv("DOCKER_TLS_VERIFY"),
		.cert_path = getenv("DOCKER_CERT_PATH"),
		.xdg_runtime_dir = getenv("XDG_RUNTIME_DIR"),
	};
	if (dk_endpoint_resolve(&env, &d->ep, err) < 0)
		goto fail;
	if (d->ep.ssh_host && dk_ssh_new(&d->ep, &d->ssh, err) < 0)
		goto fail;
	if (d->info && d->progress) {
		char w[300];
		fprintf(d->progress, "cst: engine %s (%s)\n", where(d, w, sizeof(w)), d->ep.source ? d->ep.source : "");
	}
	if (ping(d, err) < 0)
		goto fail;
	*ret = d;
	return 0;
fail:
	cst_docker_close(d);
	return -1;
}

void cst_docker_close(struct cst_docker *d)
{
	if (!d)
		return;
	dk_conn_release(&d->conn);
	dk_ssh_free(d->ssh);
	dk_endpoint_release(&d->ep);
	for (size_t i = 0; i < d->n_objs; i++)
		free(d->objs[i].id);
	free(d->objs);
	free(d->runtime);
	free(d->network);
	free(d->platform);
	free(d->cache_dir);
	free(d->cache_note);
	free(d->pin_name);
	free(d->pin_id);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->leave_lock);
	free(d);
	curl_global_cleanup();
}
