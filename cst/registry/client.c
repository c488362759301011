/* HTTP to a registry over libcurl.
 *
 * Every request goes through one multi handle, so that a blob can be
 * streamed: libarchive pulls the next block, and the pump drives curl until
 * the write callback has handed one over (the transfer pauses past a
 * block).  A body is hashed as it arrives and bounded by what the caller
 * expects (the descriptor's size, or a few MiB for JSON): a Content-Length
 * above the bound ends the transfer before its body.
 *
 * Retries: 429, 502, 503 and 504, and connections dropped before any byte
 * of a body was handed on, are tried again after a backoff (Retry-After
 * honoured up to a cap), at most REG_ATTEMPTS times; a 401 is answered once
 * per credential change (auth.c).  Redirects (blob storage) are followed
 * by curl, which sends an Authorization header only to the host it was
 * set for.
 *
 * Plain HTTP is used only for loopback hosts and --insecure-registry
 * hosts, and only when HTTPS fails there, as dockerd decides. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cst/registry/registry-internal.h"
#include "cst/sha256.h"
#include "cst/signals.h"

#define REG_ATTEMPTS 5
#define REG_BACKOFF_MS 250
#define REG_BACKOFF_MAX_MS 2000
#define REG_BLOCK (256u << 10)
#define REG_ERRBODY_MAX 2048
/* A transfer averaging less than this many bytes a second over
 * REG_LOW_SPEED_S seconds is given up on (a peer that stalls, or sends a
 * byte now and then to keep the connection open); CST_REGISTRY_LOW_SPEED
 * ("BYTES:SECONDS") changes both. */
#define REG_LOW_SPEED_BYTES 64
#define REG_LOW_SPEED_S 30

int reg_sha256(const void *data, size_t len, char out[72])
{
	memcpy(out, "sha256:", 7);
	return cst_sha256_hex(data, len, out + 7);
}

static bool host_is_loopback(const char *hostport)
{
	char host[256];
	const char *end;
	if (hostport[0] == '[') {
		end = strchr(hostport, ']');
		if (!end)
			return false;
		snprintf(host, sizeof(host), "%.*s", (int)(end - hostport - 1), hostport + 1);
	} else {
		end = strchr(hostport, ':');
		snprintf(host, sizeof(host), "%.*s", end ? (int)(end - hostport) : (int)strlen(hostport), hostport);
	}
	return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 || strncmp(host, "127.", 4) == 0;
}

static bool plain_http_allowed(const struct reg_client *c)
{
	if (host_is_loopback(c->ref.api_host))
		return true;
	for (size_t i = 0; i < c->opts->n_insecure; i++)
		if (strcmp(c->opts->insecure[i], c->ref.host) == 0 || strcmp(c->opts->insecure[i], c->ref.api_host) == 0)
			return true;
	return false;
}

/* Whether the response in progress carries the body: a 200, or the 206
 * answering a resumed stream's Range. */
static bool body_status(const struct reg_xfer *x)
{
	return x->status == 200 || (x->status == 206 && x->resumed);
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct reg_xfer *x = ud;
	size_t n = size * nmemb;
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or a 100): forget the last one's. */
		const char *sp = memchr(p, ' ', n);
		x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		x->skip = x->resumed && x->status == 200 ? x->received : 0;
		free(x->content_type);
		free(x->www_auth);
		x->content_type = x->www_auth = NULL;
		x->retry_after = -1;
		return n;
	}
	const char *colon = memchr(p, ':', n);
	if (!colon)
		return n;
	size_t klen = (size_t)(colon - p);
	const char *v = colon + 1;
	size_t vlen = n - klen - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	char **slot = NULL;
	if (klen == 12 && strncasecmp(p, "content-type", 12) == 0)
		slot = &x->content_type;
	else if (klen == 16 && strncasecmp(p, "www-authenticate", 16) == 0)
		slot = &x->www_auth;
	else if (klen == 11 && strncasecmp(p, "retry-after", 11) == 0)
		x->retry_after = vlen && vlen < 8 ? strtol(v, NULL, 10) : -1;
	else if (klen == 14 && strncasecmp(p, "content-length", 14) == 0 && body_status(x)) {
		char num[32];
		snprintf(num, sizeof(num), "%.*s", vlen < 31 ? (int)vlen : 31, v);
		unsigned long long cl = strtoull(num, NULL, 10);
		if (vlen >= 31 || cl > (x->status == 206 ? x->max - x->received : x->max)) {
			x->too_big = true;
			return 0;
		}
	}
	if (slot) {
		free(*slot);
		*slot = strndup(v, vlen);
	}
	return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct reg_xfer *x = ud;
	size_t n = size * nmemb;
	if (!body_status(x)) {
		if (x->errbody.len < REG_ERRBODY_MAX)
			cst_buf_append(&x->errbody, p, n < REG_ERRBODY_MAX ? n : REG_ERRBODY_MAX);
		return n;
	}
	if (x->skip) {
		size_t k = n < x->skip ? n : (size_t)x->skip;
		x->skip -= k;
		if (k == n)
			return n;
		size_t kept = on_body(p + k, 1, n - k, ud);
		return kept == n - k ? n : (kept == CURL_WRITEFUNC_PAUSE ? kept : 0);
	}
	if (x->stream && x->body.len >= REG_BLOCK) {
		x->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (n > x->max - x->received) {
		x->too_big = true;
		return 0;
	}
	if (EVP_DigestUpdate(x->md, p, n) != 1 || cst_buf_append(&x->body, p, n) < 0)
		return 0;
	x->received += n;
	return n;
}

void reg_xfer_release(struct reg_xfer *x)
{
	if (x->added)
		curl_multi_remove_handle(x->c->multi, x->c->curl);
	curl_slist_free_all(x->hdrs);
	free(x->url);
	free(x->content_type);
	free(x->www_auth);
	if (x->md)
		EVP_MD_CTX_free(x->md);
	cst_buf_release(&x->body);
	cst_buf_release(&x->errbody);
	struct reg_client *c = x->c;
	memset(x, 0, sizeof(*x));
	x->c = c;
}

static int add_header(struct reg_xfer *x, const char *line, struct cst_error *err)
{
	struct curl_slist *h = curl_slist_append(x->hdrs, line);
	if (!h)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	x->hdrs = h;
	return 0;
}

/* Sets the easy handle up for x->url with x->hdrs and adds it. */
static int launch(struct reg_client *c, struct reg_xfer *x, struct cst_error *err)
{
	CURL *k = c->curl;
	curl_easy_reset(k);
	curl_easy_setopt(k, CURLOPT_URL, x->url);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(k, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(k, CURLOPT_ERRORBUFFER, x->curl_err);
	curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(k, CURLOPT_MAXREDIRS, (long)REG_MAX_REDIRECTS);
	/* Never send the Authorization header to the host a redirect names. */
	curl_easy_setopt(k, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(k, CURLOPT_REDIR_PROTOCOLS_STR, plain_http_allowed(c) ? "http,https" : "https");
	curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(k, CURLOPT_LOW_SPEED_LIMIT, c->low_speed_bytes);
	curl_easy_setopt(k, CURLOPT_LOW_SPEED_TIME, c->low_speed_s);
	curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k, CURLOPT_USERAGENT, "cst");
	/* Layers are compressed already; raw bytes are what the digest covers. */
	curl_easy_setopt(k, CURLOPT_ACCEPT_ENCODING, NULL);
	if (c->opts->ca_file)
		curl_easy_setopt(k, CURLOPT_CAINFO, c->opts->ca_file);
	if (x->form)
		curl_easy_setopt(k, CURLOPT_POSTFIELDS, x->form);
	if (curl_multi_add_handle(c->multi, k) != CURLM_OK)
		return cst_error_set(err, CST_E_INTERNAL, "curl_multi_add_handle failed");
	x->added = true;
	return 0;
}

static int start(struct reg_client *c, struct reg_xfer *x, const char *url, const char *accept, const char *auth,
		 const char *form, uint64_t max, bool stream, struct cst_error *err)
{
	memset(x, 0, sizeof(*x));
	x->c = c;
	x->form = form;
	x->max = max;
	x->stream = stream;
	x->retry_after = -1;
	cst_buf_init(&x->body, 0);
	cst_buf_init(&x->errbody, 0);
	if (!(x->url = strdup(url)) || !(x->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(x->md, EVP_sha256(), NULL) != 1)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	char *line = NULL;
	if (accept) {
		if (asprintf(&line, "Accept: %s", accept) < 0)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		int r = add_header(x, line, err);
		free(line);
		if (r < 0)
			return -1;
	}
	if (auth && add_header(x, auth, err) < 0)
		return -1;
	return launch(c, x, err);
}

/* A stream whose connection dropped after part of the body was handed on
 * goes on from where it stopped: the same URL with a Range, the digest
 * going on over the rest.  A server that ignores the Range sends the whole
 * body again; what was had already is skipped. */
static int resume(struct reg_xfer *x, struct cst_error *err)
{
	struct reg_client *c = x->c;
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	char range[64];
	snprintf(range, sizeof(range), "Range: bytes=%llu-", (unsigned long long)x->received);
	if ((c->auth && add_header(x, c->auth, err) < 0) || add_header(x, range, err) < 0)
		return -1;
	free(x->content_type);
	free(x->www_auth);
	x->content_type = x->www_auth = NULL;
	x->status = 0;
	x->retry_after = -1;
	x->done = x->paused = false;
	x->result = CURLE_OK;
	x->curl_err[0] = '\0';
	x->resumed++;
	x->skip = 0;
	cst_buf_reset(&x->errbody);
	return launch(c, x, err);
}

/* Runs the transfer until it has a block for the consumer (streams), or
 * until it ends. */
static int pump(struct reg_xfer *x, struct cst_error *err)
{
	struct reg_client *c = x->c;
	if (x->paused) {
		x->paused = false;
		curl_easy_pause(c->curl, CURLPAUSE_CONT);
	}
	while (!x->done && !(x->stream && x->body.len)) {
		if (cst_signal_check(err) < 0)
			return -1;
		int running = 0;
		CURLMcode mc = curl_multi_perform(c->multi, &running);
		if (mc != CURLM_OK)
			return cst_error_set(err, CST_E_IMAGE, "%s: %s", x->url, curl_multi_strerror(mc));
		int left;
		CURLMsg *m;
		while ((m = curl_multi_info_read(c->multi, &left))) {
			if (m->msg == CURLMSG_DONE) {
				x->done = true;
				x->result = m->data.result;
				curl_multi_remove_handle(c->multi, c->curl);
				x->added = false;
			}
		}
		if (x->done || (x->stream && x->body.len) || x->paused)
			break;
		curl_multi_poll(c->multi, NULL, 0, 500, NULL);
	}
	return 0;
}

static bool status_retryable(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

static bool curl_retryable(CURLcode r)
{
	return r == CURLE_RECV_ERROR || r == CURLE_SEND_ERROR || r == CURLE_GOT_NOTHING || r == CURLE_PARTIAL_FILE;
}

static void backoff(int attempt, long retry_after)
{
	long ms = REG_BACKOFF_MS << attempt;
	if (retry_after >= 0 && retry_after * 1000 > ms)
		ms = retry_after * 1000;
	if (ms > REG_BACKOFF_MAX_MS)
		ms = REG_BACKOFF_MAX_MS;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !cst_signal_pending())
		;
}

/* The registry's own words for an error: the first errors[].message of its
 * JSON body, else nothing. */
static const char *registry_says(struct reg_xfer *x, char *buf, size_t n)
{
	buf[0] = '\0';
	if (!x->errbody.len)
		return buf;
	json_t *j = json_loadb(x->errbody.data, x->errbody.len, 0, NULL);
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e0, "code"));
	const char *msg = json_string_value(json_object_get(e0, "message"));
	if (code || msg)
		snprintf(buf, n, " (%s%s%s)", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
	json_decref(j);
	return buf;
}

static int transfer_error(struct reg_xfer *x, const char *what, struct cst_error *err)
{
	if (x->too_big)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s: the registry sends more than the %llu bytes expected",
				     x->c->what, what, (unsigned long long)x->max);
	if (x->result == CURLE_OPERATION_TIMEDOUT && x->status)
		return cst_error_set(err, CST_E_IMAGE,
				     "%s: %s: the registry sends less than %ld bytes a second for %ld s, and is given up "
				     "on (CST_REGISTRY_LOW_SPEED=%ld:%ld)",
				     x->c->what, what, x->c->low_speed_bytes, x->c->low_speed_s, x->c->low_speed_bytes,
				     x->c->low_speed_s);
	if (x->result == CURLE_TOO_MANY_REDIRECTS)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s: more than %d redirects", x->c->what, what,
				     REG_MAX_REDIRECTS);
	if (x->result != CURLE_OK)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s: %s", x->c->what, what,
				     x->curl_err[0] ? x->curl_err : curl_easy_strerror(x->result));
	char says[600];
	if (x->status == 404)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s: not found in the registry (404)%s", x->c->what, what,
				     registry_says(x, says, sizeof(says)));
	return cst_error_set(err, CST_E_IMAGE, "%s: %s: the registry answers %ld%s", x->c->what, what, x->status,
			     registry_says(x, says, sizeof(says)));
}

/* Starts GET url (POST form when set) and runs it until its first block
 * (or its end), with authentication and retries. */
static int open_url(struct reg_client *c, struct reg_xfer *x, const char *url, const char *accept, const char *form,
		    uint64_t max, bool stream, const char *what, struct cst_error *err)
{
	int auth_tries = 0;
	for (int attempt = 0;; attempt++) {
		if (start(c, x, url, accept, c->auth, form, max, stream, err) < 0 || pump(x, err) < 0)
			return -1;
		if (!x->done || (x->result == CURLE_OK && x->status == 200))
			return 0;
		/* Part of a stream came before the drop: reg_pump() goes on from there. */
		if (stream && x->status == 200 && x->received > 0 && curl_retryable(x->result))
			return 0;
		bool again = false;
		if (x->result == CURLE_OK && x->status == 401 && auth_tries < 2 && !c->fetching_token) {
			auth_tries++;
			char *challenge = x->www_auth ? strdup(x->www_auth) : NULL;
			bool had = c->auth != NULL;
			int r = reg_authorize(c, challenge, had, err);
			free(challenge);
			if (r < 0)
				return cst_error_wrap(err, "%s: %s", c->what, what);
			again = true;
			attempt--;
		} else if (attempt + 1 < REG_ATTEMPTS &&
			   ((x->result == CURLE_OK && status_retryable(x->status)) || curl_retryable(x->result))) {
			backoff(attempt, x->retry_after);
			again = true;
		}
		if (!again)
			return transfer_error(x, what, err);
		reg_xfer_release(x);
		if (cst_signal_check(err) < 0)
			return -1;
	}
}

int reg_open_url(struct reg_client *c, struct reg_xfer *x, const char *url, const char *accept, uint64_t max,
		 bool stream, const char *what, struct cst_error *err)
{
	return open_url(c, x, url, accept, NULL, max, stream, what, err);
}

int reg_post_form(struct reg_client *c, struct reg_xfer *x, const char *url, const char *form, uint64_t max,
		  const char *what, struct cst_error *err)
{
	return open_url(c, x, url, "application/json", form, max, false, what, err);
}

int reg_open(struct reg_client *c, struct reg_xfer *x, const char *path, const char *accept, uint64_t max,
	     bool stream, const char *what, struct cst_error *err)
{
	char *url;
	if (asprintf(&url, "%s%s", c->base, path) < 0)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	int r = reg_open_url(c, x, url, accept, max, stream, what, err);
	free(url);
	return r;
}

int reg_pump(struct reg_xfer *x, const char *what, struct cst_error *err)
{
	for (;;) {
		if (pump(x, err) < 0)
			return -1;
		if (x->done && x->stream && curl_retryable(x->result) && x->resumed + 1 < REG_ATTEMPTS &&
		    body_status(x) && x->received < x->max) {
			/* Whatever arrived before the drop is handed on first. */
			if (x->body.len)
				return 0;
			backoff(x->resumed, -1);
			if (resume(x, err) < 0)
				return -1;
			continue;
		}
		if (x->done && (x->result != CURLE_OK || !body_status(x)))
			return transfer_error(x, what, err);
		return 0;
	}
}

int reg_finish(struct reg_xfer *x, const char *expect_digest, uint64_t expect_size, const char *what,
	       struct cst_error *err)
{
	/* A stream's rest: read, hashed, dropped (a resumed stream may only
	 * end here). */
	while (x->stream && (!x->done || x->body.len || curl_retryable(x->result))) {
		cst_buf_reset(&x->body);
		if (reg_pump(x, what, err) < 0)
			return -1;
		if (x->done && !x->body.len)
			break;
	}
	if (x->result != CURLE_OK || !body_status(x))
		return transfer_error(x, what, err);
	if (expect_size != UINT64_MAX && x->received != expect_size)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s: %llu bytes received, the manifest says %llu", x->c->what,
				     what, (unsigned long long)x->received, (unsigned long long)expect_size);
	if (!expect_digest)
		return 0;
	unsigned char md[32];
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(x->md, md, &n) != 1 || n != 32)
		return cst_error_set(err, CST_E_INTERNAL, "sha256 failed");
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (strncmp(expect_digest, "sha256:", 7) != 0 || strcmp(expect_digest + 7, hex) != 0)
		return cst_error_set(err, CST_E_IMAGE, "%s: %s: digest mismatch: expected %s, the content is sha256:%s",
				     x->c->what, what, expect_digest, hex);
	return 0;
}

int reg_get(struct reg_client *c, const char *path, const char *accept, size_t max, const char *expect_digest,
	    const char *what, struct cst_buf *ret_body, char **ret_content_type, struct cst_error *err)
{
	struct reg_xfer x = {.c = c};
	int r = -1;
	if (reg_open(c, &x, path, accept, max, false, what, err) < 0 ||
	    reg_finish(&x, expect_digest, UINT64_MAX, what, err) < 0)
		goto out;
	*ret_body = x.body;
	cst_buf_init(&x.body, 0);
	if (ret_content_type) {
		*ret_content_type = x.content_type;
		x.content_type = NULL;
	}
	r = 0;
out:
	reg_xfer_release(&x);
	return r;
}

/* GET /v2/: which scheme the registry speaks, and its challenge, so that
 * the first real request already carries credentials. */
static int ping(struct reg_client *c, struct cst_error *err)
{
	const char *schemes[2] = {"https", plain_http_allowed(c) ? "http" : NULL};
	struct reg_xfer x = {.c = c};
	struct cst_error first = CST_ERROR_INIT;
	int r = -1;
	for (int i = 0; i < 2 && schemes[i]; i++) {
		free(c->base);
		if (asprintf(&c->base, "%s://%s", schemes[i], c->ref.api_host) < 0) {
			c->base = NULL;
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		char *url;
		if (asprintf(&url, "%s/v2/", c->base) < 0) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		int s = 0;
		for (int attempt = 0; attempt < REG_ATTEMPTS; attempt++) {
			s = start(c, &x, url, NULL, NULL, NULL, REG_ERRBODY_MAX, false, err);
			if (s == 0)
				s = pump(&x, err);
			if (s < 0 || !x.done || x.result != CURLE_OK || !status_retryable(x.status) ||
			    attempt + 1 == REG_ATTEMPTS)
				break;
			backoff(attempt, x.retry_after);
			reg_xfer_release(&x);
		}
		free(url);
		if (s < 0)
			goto out;
		if (x.result == CURLE_OK) {
			if (x.status == 401 && x.www_auth && reg_authorize(c, x.www_auth, false, err) < 0) {
				cst_error_wrap(err, "%s", c->what);
				goto out;
			}
			r = 0;
			goto out;
		}
		if (x.result == CURLE_PEER_FAILED_VERIFICATION) {
			/* It speaks TLS with a certificate not trusted: plain HTTP
			 * would only hide that. */
			cst_error_set(err, CST_E_IMAGE, "%s: %s (a CA to trust can be given with --registry-ca)",
				      c->what, x.curl_err[0] ? x.curl_err : curl_easy_strerror(x.result));
			goto out;
		}
		if (!first.msg)
			transfer_error(&x, x.url, &first);
		reg_xfer_release(&x);
	}
	cst_error_move(err, &first);
out:
	cst_error_clear(&first);
	reg_xfer_release(&x);
	return r;
}

/* CST_REGISTRY_LOW_SPEED=BYTES:SECONDS, both whole numbers above 0. */
static int low_speed(struct reg_client *c, struct cst_error *err)
{
	c->low_speed_bytes = REG_LOW_SPEED_BYTES;
	c->low_speed_s = REG_LOW_SPEED_S;
	const char *v = getenv("CST_REGISTRY_LOW_SPEED");
	if (!v || !*v)
		return 0;
	char *end = NULL, *end2 = NULL;
	errno = 0;
	long bytes = strtol(v, &end, 10);
	long secs = *end == ':' ? strtol(end + 1, &end2, 10) : 0;
	if (errno || end == v || *end != ':' || end2 == end + 1 || *end2 || bytes <= 0 || secs <= 0 ||
	    secs > 86400)
		return cst_error_set(err, CST_E_USAGE,
				     "CST_REGISTRY_LOW_SPEED='%s': expected BYTES:SECONDS, e.g. %d:%d (a transfer "
				     "averaging less than BYTES a second for SECONDS is given up on)",
				     v, REG_LOW_SPEED_BYTES, REG_LOW_SPEED_S);
	c->low_speed_bytes = bytes;
	c->low_speed_s = secs;
	return 0;
}

int reg_client_init(struct reg_client *c, const char *ref, const struct cst_registry_opts *opts,
		    struct cst_error *err)
{
	memset(c, 0, sizeof(*c));
	c->opts = opts;
	if (low_speed(c, err) < 0)
		return -1;
	if (reg_ref_parse(ref, &c->ref, err) < 0)
		return -1;
	if (!(c->what = strdup(ref)) || !(c->multi = curl_multi_init()) || !(c->curl = curl_easy_init()))
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	return ping(c, err);
}

void reg_client_release(struct reg_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	reg_ref_release(&c->ref);
	free(c->what);
	free(c->base);
	free(c->auth);
	free(c->user);
	free(c->pass);
	free(c->identity_token);
	memset(c, 0, sizeof(*c));
}
