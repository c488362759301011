/* The Docker Engine driver's insides: the HTTP client, the registry of
 * what this run created, and the pieces the unit tests reach directly.
 *
 * Threads: a struct cst_docker is shared by every worker; its registry is
 * guarded by `lock`, everything else is read-only after cst_docker_open().
 * A struct dk_conn (one CURL easy handle) belongs to one thread at a time
 * and is reused for all of that thread's requests so connections stay open.
 */
#ifndef CST_ENGINE_CLIENT_H
#define CST_ENGINE_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cst/buf.h"
#include "cst/command.h"
#include "cst/docker.h"
#include "cst/error.h"
#include "cst/fs.h"

/* The API versions cst speaks: it never asks for a newer one than it was
 * written against, and refuses engines older than what it relies on
 * (labels filters, wait conditions, container export). */
#define DK_API_MAX "1.41"
#define DK_API_MIN "1.25"

#define DK_DEFAULT_SOCKET "/var/run/docker.sock"
/* Replies cst parses (inspect, lists) are small; anything larger is a
 * broken engine or a wrong endpoint. */
#define DK_REPLY_MAX (64u << 20)
/* Per stream of one command test. */
#define DK_OUTPUT_MAX CST_OUTPUT_MAX
#define DK_CONNECT_TIMEOUT_MS 10000L
/* Requests that should answer at once (create, start, remove...). */
#define DK_SHORT_TIMEOUT_MS 120000L

#define DK_LABEL_RUN "dev.cst.run"
#define DK_LABEL_PID "dev.cst.pid"
/* Where that pid means something: the kernel's boot id and the pid
 * namespace of the run, so that leftovers are only ever judged by a cst
 * that can see whether their process still lives (reap.c).  Objects kept
 * by --save do not carry it: they are the user's to remove. */
#define DK_LABEL_HOST "dev.cst.host"

/* Where the engine is, from DOCKER_HOST and friends. */
struct dk_endpoint {
	char *socket_path; /* unix socket, or NULL for TCP */
	char *base_url;    /* "http://localhost", "https://host:2376" */
	bool tls;
	bool verify;       /* check the engine's certificate and name */
	char *ca;          /* PEM files, NULL when absent */
	char *cert;
	char *key;
	/* ssh://[user@]host[:port]: the Engine API through `ssh ... docker
	 * system dial-stdio`, one ssh per connection (ssh_transport.c). */
	char *ssh_host;   /* NULL: not ssh */
	char *ssh_user;   /* NULL: ssh's own choice */
	char *ssh_port;
	char *ssh_url;    /* as given, for messages */
	/* Why this engine, for -v info: "DOCKER_HOST", "context NAME
	 * (DOCKER_CONTEXT)"...; NULL when not resolved by context.c. */
	char *source;
};

/* TLS for a tcp:// host: on, checking the engine's certificate or not;
 * the PEM files (ca.pem, cert.pem, key.pem) are looked for in a directory. */
struct dk_tls_files {
	bool on;
	bool verify;
};

/* docker_host NULL or "" means the default socket.  tls_verify and
 * cert_path are DOCKER_TLS_VERIFY / DOCKER_CERT_PATH (NULL when unset);
 * home locates ~/.docker.  Like the docker CLI: a cert path or TLS_VERIFY
 * turns TLS on, and only TLS_VERIFY checks the engine's certificate. */
int dk_endpoint_parse(const char *docker_host, const char *tls_verify, const char *cert_path, const char *home,
		      struct dk_endpoint *ret, struct cst_error *err);
/* host as above, what names its origin in messages ("DOCKER_HOST",
 * "context 'x'"); tls_dir holds the PEM files (NULL: none). */
int dk_endpoint_parse_as(const char *host, const char *what, const struct dk_tls_files *tls, const char *tls_dir,
			 struct dk_endpoint *ret, struct cst_error *err);
void dk_endpoint_release(struct dk_endpoint *ep);

/* -1, 0, 1 comparing "MAJOR.MINOR" versions numerically. */
int dk_version_cmp(const char *a, const char *b);
/* The version to speak: override (DOCKER_API_VERSION) verbatim when set,
 * else the engine's capped to DK_API_MAX (1.24 assumed when the engine did
 * not say).  An engine older than DK_API_MIN is an error. */
int dk_api_version_pick(const char *engine, const char *override, char ret[16], struct cst_error *err);
/* When the header line (as libcurl hands it over, CRLF included) is
 * `name: value`, copies the trimmed value into ret and returns true. */
bool dk_header_value(const char *line, size_t len, const char *name, char *ret, size_t retsz);
/* The engine's message from an error reply ({"message": "..."}, else the
 * body as text, else the HTTP status); malloc'd, NULL on allocation failure. */
char *dk_error_message(const char *body, size_t len, long status);

struct dk_conn {
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
};

struct dk_object {
	char *id;
	bool is_image;
	bool gone;
};

struct dk_ssh;

struct cst_docker {
	struct dk_endpoint ep;
	struct dk_ssh *ssh; /* ssh:// endpoints only */
	char api[16];
	/* The export's cache key: the API version, and whether the image's
	 * volume mount points were made first (read_export()). */
	char export_key[32];
	bool export_mounts;
	char run_id[33];
	char pid[24];
	char host[96]; /* DK_LABEL_HOST; "" when unknown: nothing is reaped */
	char *runtime;
	char *network;
	char *platform;
	bool save;
	bool shared_container;
	bool network_sandbox; /* command tests join a sandbox per job slot (sandbox.c) */
	bool info;            /* -v info: notes on d->progress about how tests run */
	char *cache_dir; /* index cache; NULL: none */
	int64_t cache_max; /* --cache-max; 0: the default */
	char *cache_note; /* what the cache did last, for -v info */
	atomic_bool labelled; /* a create or commit with this run's labels was sent */
	atomic_bool commands_stopped; /* cst_docker_stop_commands(): start no more tests */
	int jobs;
	int sandbox_jobs; /* jobs when command tests join sandboxes */
	int read_plan; /* enum dk_read_plan */
	FILE *progress;
	FILE *meter; /* progress meters of long phases; NULL: none */
	/* The command output of the whole run, every test's streams drawing
	 * on it; NULL: no budget, only the per-stream ceiling. */
	struct cst_budget *output_budget;
	struct cst_budget output_budget_store;
	struct dk_conn conn; /* the opening thread's */
	/* The image under test by its ID, from the inspect that read its
	 * metadata, so that every container runs that very image even when
	 * its name is moved or removed during the run. */
	char *pin_name;
	char *pin_id;

	pthread_mutex_t lock;
	pthread_mutex_t leave_lock; /* leave_lock.c */
	struct dk_object *objs;
	size_t n_objs;
	size_t cap_objs;
	bool cleaned;
};

int dk_conn_init(struct dk_conn *c, struct cst_error *err);
void dk_conn_release(struct dk_conn *c);

struct dk_request {
	const char *method;  /* NULL: GET */
	const char *path;    /* "/containers/create?name=x", no version prefix */
	bool unversioned;    /* /_ping is asked before a version is known */
	const json_t *json;  /* body, sent as application/json */
	/* A body of unknown length pulled from read_cb (chunked). */
	curl_read_callback read_cb;
	void *read_ud;
	const char *content_type;
	/* The reply body goes to write_cb when set (only for 2xx replies: an
	 * error body is kept for the message), else into reply (NULL: dropped). */
	curl_write_callback write_cb;
	void *write_ud;
	struct cst_buf *reply;
	struct curl_slist *headers; /* extra request headers */
	curl_write_callback header_cb;
	void *header_ud;
	long timeout_ms;     /* the whole transfer; 0: no limit */
	bool no_abort;       /* cleanup: runs to the end despite a pending signal */
	/* On a new connection, not a kept-alive one: a stopping dockerd
	 * closes its listener first and serves open connections to the end,
	 * so only a new connection tells that it is going away. */
	bool fresh;
};

/* Performs one request.  Returns the HTTP status when the engine answered
 * 2xx; any other status is an error carrying the engine's message
 * (CST_E_ENGINE, err_status set when not NULL).  Transport failures are
 * CST_E_ENGINE naming the endpoint, a pending signal is CST_E_INTERRUPTED,
 * and running past timeout_ms sets *ret_timed_out (when not NULL) and
 * fails.  Returns -1 on every failure. */
long dk_call(struct cst_docker *d, struct dk_conn *c, const struct dk_request *r, long *ret_status,
	     bool *ret_timed_out, struct cst_error *err);
/* dk_call with reply parsed as JSON (*ret NULL for an empty body). */
long dk_call_json(struct cst_docker *d, struct dk_conn *c, const struct dk_request *r, json_t **ret, long *ret_status,
		  struct cst_error *err);

/* The pieces of dk_call for callers that drive the transfer themselves
 * (curl multi in image_source.c). */
struct dk_xfer {
	struct cst_docker *d;
	CURL *curl;
	const struct dk_request *r;
	struct curl_slist *headers;
	char *url;
	char *body;
	long status;
	struct cst_buf errbody;
	bool write_failed;
};
int dk_xfer_prepare(struct cst_docker *d, struct dk_conn *c, const struct dk_request *r, struct dk_xfer *x,
		    struct cst_error *err);
long dk_xfer_finish(struct dk_conn *c, struct dk_xfer *x, CURLcode rc, long *ret_status, bool *ret_timed_out,
		    struct cst_error *err);
/* Frees what prepare allocated, for a transfer abandoned unfinished
 * (dk_xfer_finish does it otherwise).  Safe to call twice. */
void dk_xfer_release(struct dk_xfer *x);

/* URL-escapes s for a query or path component; malloc'd. */
char *dk_escape(struct dk_conn *c, const char *s);

/* Whether the engine takes a new connection and answers /_ping; when not,
 * err says why.  A signal does not cut it short. */
bool dk_engine_alive(struct cst_docker *d, struct dk_conn *c, struct cst_error *err);

/* Registry of what this run created, for cst_docker_cleanup(). */
int dk_registry_add(struct cst_docker *d, const char *id, bool is_image);
void dk_registry_forget(struct cst_docker *d, const char *id);

/* Adds the run labels to a container or commit config's "Labels". */
int dk_add_labels(struct cst_docker *d, json_t *config);

/* prefix + escaped id + suffix, malloc'd; NULL on allocation failure. */
char *dk_id_path(struct dk_conn *c, const char *prefix, const char *id, const char *suffix);
/* CLOCK_MONOTONIC in milliseconds. */
int64_t dk_mono_ms(void);

/* Containers (container.c).  config is the create body (Image, Cmd, ...);
 * labels are added and the container registered before returning. */
int dk_container_create(struct cst_docker *d, struct dk_conn *c, json_t *config, char **ret_id,
			struct cst_error *err);
/* The same for a container of another platform than --platform's; NULL:
 * the engine's own. */
int dk_container_create_on(struct cst_docker *d, struct dk_conn *c, json_t *config, const char *platform,
			   char **ret_id, struct cst_error *err);
int dk_container_start(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err);
/* Waits for the container to stop.  timeout_s > 0 bounds the wait: past
 * it the container is killed and *ret_timed_out set (not an error). */
int dk_container_wait(struct cst_docker *d, struct dk_conn *c, const char *id, double timeout_s, int *ret_exit,
		      bool *ret_timed_out, struct cst_error *err);
/* Everything the container printed, stdout and stderr apart (tty: raw,
 * all on out). */
int dk_container_logs(struct cst_docker *d, struct dk_conn *c, const char *id, bool tty, struct cst_buf *out,
		      struct cst_buf *errb, struct cst_error *err);
/* Starts the created container with its output streamed into out and
 * errb (attached before the start, so nothing is missed) and waits for it.
 * Past timeout_s it is killed and *ret_timed_out set; once either buffer
 * reaches its ceiling it is killed too (the buffer says truncated).  ac
 * is a second connection, for the stream while c starts and waits. */
int dk_container_run_attached(struct cst_docker *d, struct dk_conn *c, struct dk_conn *ac, const char *id, bool tty,
			      double timeout_s, struct cst_buf *out, struct cst_buf *errb, int *ret_exit,
			      bool *ret_timed_out, struct cst_error *err);
/* Kills the container (SIGKILL); one already stopped or gone counts as
 * killed. */
int dk_container_kill(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err);

/* The output of one process, read live from a POST that answers with the
 * engine's (hijacked) stream: a container's attach, or an exec's start.
 * At the deadline, or once out or errb reaches its ceiling, kill_id is
 * killed (that is the only way to stop an exec) and the stream read to its
 * end.  ac carries the stream; c the start and the kill. */
struct dk_stream {
	const char *path;       /* the POST, e.g. "/exec/ID/start" */
	const json_t *body;     /* its JSON body, or NULL */
	const char *start_id;   /* a container started once the POST is answered,
				 * so that none of its output is missed; NULL: none */
	const char *kill_id;
	/* Called once, just before the kill is sent. */
	void (*before_kill)(void *ud);
	void *ud;
	bool tty;               /* one raw stream, all to out */
	double timeout_s;
	/* Set by dk_stream_run(): */
	bool killed;            /* kill_id was killed, at the deadline or the cap */
	bool timed_out;         /* killed at the deadline */
	long status;            /* the POST's HTTP status, when known */
	double left_s;          /* what was left of the timeout when the stream ended */
};
int dk_stream_run(struct cst_docker *d, struct dk_conn *c, struct dk_conn *ac, struct dk_stream *s,
		  struct cst_buf *out, struct cst_buf *errb, struct cst_error *err);

/* Force-removes the container with its anonymous volumes. */
int dk_container_remove(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err);
/* Commits the container to a new, labelled, untagged image. */
int dk_container_commit(struct cst_docker *d, struct dk_conn *c, const char *id, char **ret_image,
			struct cst_error *err);
int dk_image_remove(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err);

/* Execs in a running container (exec.c), for --shared-container. */
struct dk_exec {
	const char *container;
	const json_t *config;   /* the exec create body: Cmd, Env, User, Tty... */
	bool tty;
	double timeout_s;
	/* As in struct dk_stream: called once before container is killed. */
	void (*before_kill)(void *ud);
	void *ud;
	/* Set by dk_exec_run(): */
	int exit_code;
	bool killed;            /* the container was killed: timeout or output cap */
	bool timed_out;
	bool gone;              /* the container was not running (any more): the
				 * command did not run, or not to its end */
	char *not_started;      /* the engine's reason when the command could not be
				 * started (e.g. no such binary); malloc'd */
};
/* Runs the exec with its output in out and errb.  A container found not
 * running sets x->gone and returns 0; -1 for other engine errors, an
 * interruption or no memory. */
int dk_exec_run(struct cst_docker *d, struct dk_conn *c, struct dk_conn *ac, struct dk_exec *x, struct cst_buf *out,
		struct cst_buf *errb, struct cst_error *err);

/* The containers --shared-container runs execs in (shared.c): one per
 * distinct create body, started by the first worker that asks for it,
 * replaced once killed or stopped. */
struct dk_shared_set;
struct dk_shared_ref {
	size_t slot;
	unsigned gen; /* which of the slot's containers */
	char *id;     /* malloc'd; NULL: none for this body, the test runs in a
		       * container of its own (said once on d->progress) */
};
struct dk_shared_set *dk_shared_new(void);
/* The running container for config (a create body, kept unchanged),
 * started when there is none.  -1 only when interrupted or out of memory:
 * a container that cannot start is ret->id NULL. */
int dk_shared_acquire(struct cst_docker *d, struct dk_conn *c, struct dk_shared_set *ss, const json_t *config,
		      struct dk_shared_ref *ret, struct cst_error *err);
/* Takes ref's container out of use before cst kills it: the next acquire
 * starts another.  Its id, for the caller to remove, when it was still
 * the current one; else NULL. */
char *dk_shared_retire(struct dk_shared_set *ss, const struct dk_shared_ref *ref);
/* After an exec in ref's container: whether that container is still the
 * current one (not killed meanwhile), which means the exec ran to its
 * own end.  started: its command did start (the container can run one). */
bool dk_shared_done(struct dk_shared_set *ss, const struct dk_shared_ref *ref, bool started);
/* ref's container was found not running: retired as above, and the slot
 * made unusable (*ret_unusable) when it never ran a command. */
char *dk_shared_lost(struct cst_docker *d, struct dk_shared_set *ss, const struct dk_shared_ref *ref,
		     bool *ret_unusable);
/* Removes the containers still running (--save: stops them). */
void dk_shared_free(struct cst_docker *d, struct dk_conn *c, struct dk_shared_set *ss);

/* Network leaves one at a time (leave_lock.c): dk_leave_lock() returns
 * a descriptor for dk_leave_unlock() (-1 when only the run's own mutex
 * could be taken), and dk_container_remove_leaving() removes a running
 * container with an endpoint of its own under that lock. */
int dk_leave_lock(struct cst_docker *d);
void dk_leave_unlock(struct cst_docker *d, int fd);
int dk_container_remove_leaving(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err);

/* Network sandboxes (sandbox.c).  Whether sandboxes can stand in for the
 * network mode asked for (default or a named network: yes; none, host,
 * container:X: no), and whether a test of these run options may join one
 * (not when privileged or given capabilities). */
bool dk_sandbox_network_ok(const char *network);
bool dk_sandbox_may_join(const struct cst_run_options *o);
/* cst's pause image in the engine, imported when missing; *ret_ref
 * malloc'd. */
int dk_pause_image(struct cst_docker *d, struct dk_conn *c, char **ret_ref, struct cst_error *err);
/* Creates and starts a sandbox from image on d->network (labelled and
 * registered like every container of the run); *ret_id malloc'd. */
int dk_sandbox_start(struct cst_docker *d, struct dk_conn *c, const char *image, char **ret_id,
		     struct cst_error *err);

/* Frame demultiplexing of attach/logs streams (stream.c).  Frames are an
 * 8-byte header (stream type, 3 zero bytes, big-endian length) and the
 * payload; they may be split anywhere across writes.  With tty the stream
 * is raw and all goes to out.  Output past the buffers' ceilings is
 * dropped and the buffer marked truncated. */
struct dk_demux {
	struct cst_buf *out;
	struct cst_buf *err;
	bool tty;
	unsigned char hdr[8];
	size_t hdr_len;
	size_t left;  /* payload bytes still due for the current frame */
	int stream;   /* of the current frame */
	bool bad;     /* an unknown stream type: framing lost */
	bool nomem;
};
void dk_demux_init(struct dk_demux *dm, struct cst_buf *out, struct cst_buf *err, bool tty);
/* 0, or -1 when framing is lost or memory ran out (dm->bad / dm->nomem). */
int dk_demux_feed(struct dk_demux *dm, const char *p, size_t n);
/* Whether the stream ended in the middle of a frame. */
bool dk_demux_partial(const struct dk_demux *dm);
size_t dk_demux_write_cb(char *p, size_t size, size_t nmemb, void *ud);

/* Base64 (RFC 4648), for the registry auth header; url selects the URL
 * alphabet.  malloc'd. */
char *dk_base64_encode(const void *p, size_t n, bool url);
/* -1 on a malformed input. */
int dk_base64_decode(const char *s, struct cst_buf *ret);
/* The X-Registry-Auth value for image from the docker config JSON text
 * (`auths`), or NULL (*ret) when it holds nothing for that registry. */
int dk_registry_auth(const char *config_json, const char *image, char **ret, struct cst_error *err);
/* The docker CLI's config.json text ($DOCKER_CONFIG or ~/.docker), NULL
 * (*ret) when there is none. */
int dk_read_docker_config(char **ret, struct cst_error *err);
/* The credentials of host ("docker.io" for Docker Hub): from its
 * credHelpers entry or the credsStore helper, else its `auths` entry; user
 * and password, or an identity token; all NULL when there are none. */
int dk_registry_credentials(const char *config_json, const char *host, char **ret_user, char **ret_pass,
			    char **ret_token, struct cst_error *err);
/* Runs docker-credential-HELPER get for server: *ret_user and
 * *ret_secret, or both NULL when the helper has none for it. */
int dk_cred_helper_get(const char *helper, const char *server, char **ret_user, char **ret_secret,
		       struct cst_error *err);
/* Splits an image reference into what POST /images/create wants. */
int dk_split_reference(const char *image, char **ret_name, char **ret_tag);

/* The index cache (index_cache.c), for the pinned image.  load: 1 when fs now holds a saved index that
 * answers every wanted path, else 0 with fs empty; store: saves fs,
 * keeping what the snapshot it replaces held.  Neither fails the run: what
 * went wrong is kept in d->cache_note. */
int dk_cache_load(struct cst_docker *d, struct cst_fs *fs);
void dk_cache_store(struct cst_docker *d, const struct cst_fs *fs);
/* The same for the partial indexes of per-path reads, kept apart from the
 * export's: load leaves fs partial (what it lacks is read on top), and
 * store saves what this run learnt with what earlier runs did. */
int dk_cache_load_paths(struct cst_docker *d, struct cst_fs *fs);
void dk_cache_store_paths(struct cst_docker *d, const struct cst_fs *fs);

/* The read plan (read_plan.c): export or per-path reads, by cost. */
enum dk_read_plan {
	DK_PLAN_AUTO,
	DK_PLAN_EXPORT,
	DK_PLAN_PATHS,
};
struct dk_read_costs {
	double export_fixed_ms;   /* an export's start, whatever the size */
	double export_ms_per_mib; /* of the image's size */
	double request_ms;        /* one archive request, start to first header */
	double link_rounds;       /* further rounds of requests for symlinks met */
};
extern const struct dk_read_costs dk_read_costs_default;
struct dk_plan_input {
	enum dk_read_plan forced; /* --read-plan; DK_PLAN_AUTO: by cost */
	const char *tree_why;     /* a test needs the whole tree: the export */
	int64_t image_bytes;      /* from the image's inspect; -1: unknown */
	size_t n_paths;           /* distinct paths the tests look up */
	size_t n_requests;        /* distinct path components among them */
};
double dk_read_plan_export_ms(const struct dk_read_costs *c, int64_t image_bytes);
double dk_read_plan_paths_ms(const struct dk_read_costs *c, size_t n_requests);
/* The plan, with why (for -v info) in why. */
enum dk_read_plan dk_read_plan_choose(const struct dk_read_costs *c, const struct dk_plan_input *in, char *why,
				      size_t whysz);
/* Reads the paths fs declares (cst_fs_need_path) and every component
 * their resolution walks through from container's file system into fs,
 * which becomes (or stays) partial; contents of wanted paths are read too.
 * Requests run on up to d->jobs connections.  -1 with err. */
struct dk_path_stats {
	size_t requests;
	size_t heads;    /* of which stats (HEAD) of components walked through */
	size_t rounds;
	size_t bytes;
};
/* The container to read from, made on first use: its ID, or NULL with err. */
struct dk_container_src {
	const char *(*get)(void *ud, struct cst_error *err);
	void *ud;
	/* The image's volumes (Config.Volumes): an archive request shows them
	 * mounted, the export does not, so reads do not go there. */
	char *const *volumes;
	size_t n_volumes;
};
/* 1, with *ret_volume, when a read would reach into a volume of the image:
 * the export must answer then. */
int dk_read_paths(struct cst_docker *d, const struct dk_container_src *cs, struct cst_fs *fs,
		  struct dk_path_stats *ret_stats, const char **ret_volume, struct cst_error *err);
/* The distinct path components (requests at most) the declared paths
 * need, for the estimate. */
size_t dk_paths_estimate(const struct cst_fs *fs);

#endif
