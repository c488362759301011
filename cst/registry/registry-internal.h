/* The registry client's parts: references (ref.c), HTTP with retries,
 * authentication and bounded bodies (client.c, auth.c), manifests and
 * platform choice (manifest.c), blob streams (blob.c). */
#ifndef CST_REGISTRY_INTERNAL_H
#define CST_REGISTRY_INTERNAL_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cst/buf.h"
#include "cst/error.h"
#include "cst/registry.h"

/* Manifests, indexes, configs and token replies are small. */
#define REG_JSON_MAX ((size_t)4 * 1024 * 1024)
#define REG_MAX_LAYERS 1000
#define REG_MAX_REDIRECTS 8

struct reg_ref {
	char *host;     /* as written: "127.0.0.1:5000", "docker.io" */
	char *api_host; /* where the API is: "registry-1.docker.io" for Docker Hub */
	char *repo;     /* "library/busybox" */
	char *tag;      /* NULL when only a digest is given */
	char *digest;   /* "sha256:<64 hex>" or NULL */
};

int reg_ref_parse(const char *s, struct reg_ref *ret, struct cst_error *err);
void reg_ref_release(struct reg_ref *r);
/* Whether s is "sha256:" and 64 lower-case hex digits. */
bool reg_digest_valid(const char *s);

struct reg_client {
	struct reg_ref ref;
	char *what;     /* the reference as given, for messages */
	const struct cst_registry_opts *opts;
	CURLM *multi;
	CURL *curl;
	char *base;     /* "https://host:port" once known */
	char *auth;     /* "Authorization: ..." header line; NULL: anonymous */
	bool creds_loaded;
	bool fetching_token; /* a 401 from the token server is final */
	char *user, *pass, *identity_token;
	uint64_t expanded;   /* uncompressed layer bytes of this read of the image */
	long low_speed_bytes, low_speed_s; /* CST_REGISTRY_LOW_SPEED */
};

/* A response in progress or done. */
struct reg_xfer {
	struct reg_client *c;
	struct curl_slist *hdrs;
	char *url;
	const char *form;  /* a POST body (application/x-www-form-urlencoded); NULL: GET */
	bool stream;       /* pause past a block instead of keeping everything */
	uint64_t max;      /* body bytes allowed */
	void *md;          /* EVP_MD_CTX over a 200 body */
	struct cst_buf body;     /* a 200 body, or the block a stream hands on */
	struct cst_buf errbody;  /* the start of any other body */
	uint64_t received;
	long status;       /* of the last response (after redirects) */
	char *content_type;
	char *www_auth;
	long retry_after;  /* seconds; -1 when absent */
	bool added, done, paused, too_big;
	int resumed;       /* times a dropped stream went on with a Range */
	uint64_t skip;     /* bytes of a repeated 200 body already had */
	CURLcode result;
	char curl_err[CURL_ERROR_SIZE];
};

int reg_client_init(struct reg_client *c, const char *ref, const struct cst_registry_opts *opts,
		    struct cst_error *err);
void reg_client_release(struct reg_client *c);
/* GET path ("/v2/...") into a bounded buffer; follows the auth challenge
 * and retries as every request does.  expect_digest, when set, must be the
 * body's sha256; what names the object in messages. */
int reg_get(struct reg_client *c, const char *path, const char *accept, size_t max, const char *expect_digest,
	    const char *what, struct cst_buf *ret_body, char **ret_content_type, struct cst_error *err);

/* A started GET whose 200 body is being read: reg_open() returns once the
 * first bytes are there (or the body is empty), having dealt with
 * authentication and retries; reg_pump() fills x->body with the next
 * block; reg_xfer_release() ends it.  The body's digest is checked by
 * reg_finish(), after the last byte. */
int reg_open(struct reg_client *c, struct reg_xfer *x, const char *path, const char *accept, uint64_t max,
	     bool stream, const char *what, struct cst_error *err);
/* The same for an absolute URL (a token realm). */
int reg_open_url(struct reg_client *c, struct reg_xfer *x, const char *url, const char *accept, uint64_t max,
		 bool stream, const char *what, struct cst_error *err);
/* The same as a POST of an application/x-www-form-urlencoded body (form,
 * which must outlive x), its 200 answer kept whole. */
int reg_post_form(struct reg_client *c, struct reg_xfer *x, const char *url, const char *form, uint64_t max,
		  const char *what, struct cst_error *err);
int reg_pump(struct reg_xfer *x, const char *what, struct cst_error *err);
int reg_finish(struct reg_xfer *x, const char *expect_digest, uint64_t expect_size, const char *what,
	       struct cst_error *err);
void reg_xfer_release(struct reg_xfer *x);

/* Authentication (auth.c): given the challenge of a 401, sets c->auth for
 * the next try; -1 with err when there is nothing more to try. */
int reg_authorize(struct reg_client *c, const char *challenge, bool had_auth, struct cst_error *err);

/* sha256 as "sha256:<hex>" of data (manifests and configs). */
int reg_sha256(const void *data, size_t len, char out[72]);

#endif
