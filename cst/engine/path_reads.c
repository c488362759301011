/* Per-path reads: the paths the tests look up, each from
 * GET /containers/{id}/archive?path=P of the created container, into a
 * partial index that the checks query as they query a full one.
 *
 * The engine resolves symlinks in P's leading components its own way and
 * returns P's last component unfollowed as the archive's first entry,
 * named by its base name.  cst resolves as the index does (lookup.c): the
 * walk runs on the partial index itself, and where it reaches a component
 * not read yet, that component is asked for.  Its parent is then a real
 * directory, so the engine's answer is that very entry; a 404 is an
 * absence.  To spare a round per component, the rest of the walk's
 * components are asked for at once; an answer is kept only when its
 * parent turns out to be a directory (else the engine's resolution, not
 * cst's, chose it) and the walk goes on from what it learnt.  Symlink
 * targets are followed the same way, with the index's loop bound.
 *
 * A component walked through needs only to be known a directory: a stat
 * (HEAD, the X-Docker-Container-Path-Stat header) does, at a fraction of
 * an archive's cost; a stat that says anything else (a symlink, whose own
 * text it does not give) is asked again with a GET.  What a check is told
 * about always comes from the entry's own header: once that is in, the
 * transfer is closed (for a directory the engine then stops producing).
 * A file whose contents a test wants is read to its end, with the limit
 * of a layer read.  Requests of a round run on up to d->jobs connections
 * (the engine serves one container's archive requests one at a time, but
 * the client's side overlaps).  A path in one of the image's volumes is
 * never asked for: the archive shows the volume mounted, the export the
 * image's files, and the export is then read instead. */
#include "cst/engine/client.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "cst/signals.h"

/* Rounds of requests one run may take: a walk takes one per symlink met
 * (bounded by CST_FS_MAX_HOPS per lookup) and one for contents. */
#define MAX_ROUNDS 600
#define TAR_BLOCK 512

struct preq {
	char *path; /* clean absolute */
	bool head;  /* a stat (HEAD) is enough: a component walked through */
	bool deferred; /* the stat did not do: a GET next round */
	json_t *stat;  /* a HEAD's X-Docker-Container-Path-Stat */
	bool body;
	long status;
	bool stopped; /* closed by cst once the header was in */
	bool failed;
	struct cst_buf data;
	struct cst_error err;
};

struct round {
	struct preq *v;
	size_t n;
	size_t cap;
};

static void round_release(struct round *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].path);
		json_decref(r->v[i].stat);
		cst_buf_release(&r->v[i].data);
		cst_error_clear(&r->v[i].err);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Adds path (taken over) to the round, or marks the one there for its
 * body too.  -1 on allocation failure. */
static int round_add_as(struct round *r, char *path, bool head, bool body)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->v[i].path, path) == 0) {
			r->v[i].body |= body;
			r->v[i].head &= head && !body;
			free(path);
			return 0;
		}
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct preq *v = realloc(r->v, cap * sizeof(*v));
		if (!v) {
			free(path);
			return -1;
		}
		r->v = v;
		r->cap = cap;
	}
	struct preq *q = &r->v[r->n++];
	memset(q, 0, sizeof(*q));
	q->path = path;
	q->head = head && !body;
	q->body = body;
	q->err = (struct cst_error)CST_ERROR_INIT;
	cst_buf_init(&q->data, 0);
	return 0;
}

static int round_add(struct round *r, char *path, bool body)
{
	return round_add_as(r, path, false, body);
}

static bool round_has(const struct round *r, const char *path)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].path, path) == 0)
			return true;
	return false;
}

/* The first header of what has arrived, when it is all there: 1 with
 * its type and size, 0 when more is needed. */
static int probe_header(const struct cst_buf *b, mode_t *ret_type, int64_t *ret_size)
{
	if (b->len < TAR_BLOCK)
		return 0;
	struct archive *a = archive_read_new();
	if (!a)
		return 0;
	int found = 0;
	struct archive_entry *e;
	if (archive_read_support_format_tar(a) == ARCHIVE_OK &&
	    archive_read_open_memory(a, b->data, b->len) == ARCHIVE_OK && archive_read_next_header(a, &e) >= ARCHIVE_WARN) {
		*ret_type = archive_entry_filetype(e);
		*ret_size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
		found = 1;
	}
	archive_read_free(a);
	return found;
}

static size_t preq_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct preq *q = ud;
	size_t n = size * nmemb;
	if (cst_buf_append(&q->data, p, n) < 0)
		return 0;
	mode_t type;
	int64_t fsize;
	if (!probe_header(&q->data, &type, &fsize))
		return n;
	/* The header is in: the rest is wanted only for contents a test
	 * reads, and not past what a layer read would keep. */
	if (!q->body || type != AE_IFREG || fsize < 0 || (uint64_t)fsize > CST_FS_CONTENT_MAX) {
		q->stopped = true;
		return 0;
	}
	return n;
}

#define STAT_HEADER "X-Docker-Container-Path-Stat"

static size_t preq_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct preq *q = ud;
	size_t n = size * nmemb;
	/* Base64 of a JSON object with the name and the link target: a few
	 * times PATH_MAX at most. */
	char *v = malloc(65536);
	if (!v)
		return 0;
	if (dk_header_value(p, n, STAT_HEADER, v, 65536)) {
		struct cst_buf raw;
		cst_buf_init(&raw, 0);
		if (dk_base64_decode(v, &raw) == 0 && raw.len) {
			json_decref(q->stat);
			q->stat = json_loadb(raw.data, raw.len, 0, NULL);
		}
		cst_buf_release(&raw);
	}
	free(v);
	return n;
}

struct pool {
	struct cst_docker *d;
	const char *container;
	struct round *r;
	size_t next;
	pthread_mutex_t lock;
};

static void fetch_one(struct pool *p, struct dk_conn *c, struct preq *q)
{
	char *esc = dk_escape(c, q->path);
	char *path = NULL;
	if (!esc || asprintf(&path, "/containers/%s/archive?path=%s", p->container, esc) < 0) {
		path = NULL;
		cst_error_set(&q->err, CST_E_NOMEM, "out of memory");
		q->failed = true;
		free(esc);
		return;
	}
	free(esc);
	struct dk_request r = {.path = path, .write_cb = preq_write, .write_ud = q, .timeout_ms = DK_SHORT_TIMEOUT_MS};
	if (q->head) {
		r.method = "HEAD";
		r.header_cb = preq_header;
		r.header_ud = q;
	}
	long status = 0;
	long st = dk_call(p->d, c, &r, &status, NULL, &q->err);
	if (st < 0 && q->stopped && q->data.len >= TAR_BLOCK) {
		cst_error_clear(&q->err);
		st = 200;
	}
	if (st < 0) {
		q->status = status;
		q->failed = status != 404;
		if (!q->failed)
			cst_error_clear(&q->err);
	} else {
		q->status = st;
	}
	free(path);
}

static void pool_work(struct pool *p, struct dk_conn *c)
{
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next < p->r->n ? p->next++ : p->r->n;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->r->n)
			break;
		fetch_one(p, c, &p->r->v[i]);
	}
}

static void *pool_thread(void *ud)
{
	struct pool *p = ud;
	struct dk_conn c;
	struct cst_error e = CST_ERROR_INIT;
	if (dk_conn_init(&c, &e) < 0) {
		cst_error_clear(&e);
		return NULL; /* the other workers, or the caller, take its share */
	}
	pool_work(p, &c);
	dk_conn_release(&c);
	return NULL;
}

static void fetch_round(struct cst_docker *d, const char *container, struct round *r)
{
	struct pool p = {.d = d, .container = container, .r = r};
	pthread_mutex_init(&p.lock, NULL);
	size_t nthreads = (size_t)(d->jobs > 0 ? d->jobs : 1);
	if (nthreads > r->n)
		nthreads = r->n;
	pthread_t *tids = nthreads > 1 ? calloc(nthreads, sizeof(*tids)) : NULL;
	size_t started = 0;
	for (; tids && started < nthreads; started++)
		if (pthread_create(&tids[started], NULL, pool_thread, &p) != 0)
			break;
	/* The calling thread works too; with no thread it does it all. */
	pool_work(&p, &d->conn);
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	pthread_mutex_destroy(&p.lock);
}

static size_t depth_of(const char *path)
{
	size_t n = 0;
	for (; *path; path++)
		n += *path == '/';
	return n;
}

static int by_depth(const void *a, const void *b)
{
	size_t x = depth_of(((const struct preq *)a)->path), y = depth_of(((const struct preq *)b)->path);
	return x < y ? -1 : x > y;
}

/* Go's os.FileMode bits, as the stat header carries them. */
#define GO_MODE_DIR (1u << 31)
#define GO_MODE_TYPE 0x8F280000u /* dir, symlink, device, pipe, socket, char device, irregular */
#define GO_MODE_SETUID (1u << 23)
#define GO_MODE_SETGID (1u << 22)
#define GO_MODE_STICKY (1u << 20)

/* What a stat says, when it is a directory or a regular file; anything
 * else (a symlink, whose own text the stat does not give) is read again
 * with a GET, as is a stat that failed: a HEAD's error has no message. */
static int apply_stat(struct cst_fs *fs, struct preq *q, struct cst_error *err)
{
	json_t *mode = q->stat ? json_object_get(q->stat, "mode") : NULL;
	json_t *size = q->stat ? json_object_get(q->stat, "size") : NULL;
	if (q->failed || !json_is_integer(mode)) {
		q->deferred = true;
		cst_error_clear(&q->err);
		return 0;
	}
	uint32_t m = (uint32_t)json_integer_value(mode);
	if ((m & GO_MODE_TYPE) && (m & GO_MODE_TYPE) != GO_MODE_DIR) {
		q->deferred = true;
		return 0;
	}
	uint32_t perm = (m & 0777) | (m & GO_MODE_SETUID ? 04000 : 0) | (m & GO_MODE_SETGID ? 02000 : 0) |
			(m & GO_MODE_STICKY ? 01000 : 0);
	return cst_fs_put_stat(fs, q->path, m & GO_MODE_DIR ? CST_FT_DIR : CST_FT_REG, perm,
			       json_is_integer(size) ? (int64_t)json_integer_value(size) : 0, err);
}

/* Puts what a round learnt in the index, parents first. */
static int apply_round(struct cst_fs *fs, struct round *r, struct dk_path_stats *st, struct cst_error *err)
{
	qsort(r->v, r->n, sizeof(*r->v), by_depth);
	for (size_t i = 0; i < r->n; i++) {
		struct preq *q = &r->v[i];
		st->bytes += q->data.len;
		st->heads += q->head;
		/* Asked for beyond a component that is no directory: the
		 * engine's resolution answered, not cst's; the walk asks again
		 * from where it really leads. */
		if (!cst_fs_can_put(fs, q->path))
			continue;
		if (q->head && q->status != 404) {
			if (apply_stat(fs, q, err) < 0)
				return -1;
			continue;
		}
		/* The engine stats a link's target too, and fails on a loop
		 * that only the link's own entry would have shown. */
		if (q->failed && q->status >= 400 && q->err.msg && strstr(q->err.msg, "too many links")) {
			if (cst_fs_put_loop(fs, q->path, err) < 0)
				return -1;
			continue;
		}
		if (q->failed) {
			cst_error_move(err, &q->err);
			return cst_error_wrap(err, "reading '%s'", q->path);
		}
		if (q->status == 404) {
			if (cst_fs_put_absent(fs, q->path) < 0)
				return cst_error_set(err, CST_E_NOMEM, "out of memory");
			continue;
		}
		if (q->body && cst_fs_want_path(fs, q->path) < 0)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		struct archive *a = archive_read_new();
		if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
		    archive_read_open_memory(a, q->data.data ? q->data.data : "", q->data.len) != ARCHIVE_OK) {
			if (a)
				archive_read_free(a);
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		}
		int rc = cst_fs_read_first(a, fs, q->path, err);
		archive_read_free(a);
		if (rc < 0)
			return -1;
		if (rc == 0 && cst_fs_put_absent(fs, q->path) < 0)
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
	}
	return 0;
}

struct collect {
	struct cst_fs *fs;
	struct round *r;
	const struct round *get; /* paths a stat did not do for */
	struct round *firsts; /* the first unread component of each walk */
	int rc;
};

static char *join(const char *dir, const char *name, size_t len)
{
	size_t dl = strlen(dir);
	char *s = malloc(dl + len + 2);
	if (!s)
		return NULL;
	memcpy(s, dir, dl);
	s[dl] = '/';
	memcpy(s + dl + 1, name, len);
	s[dl + 1 + len] = '\0';
	return s;
}

/* The unread component and, ahead of need, the rest of the walk's
 * components up to a "." or ".." (where the engine's cleaning and cst's
 * walk part ways). */
static int ask_walk(struct collect *c, char *missing, const char *rest, bool body)
{
	char *first = strdup(missing);
	if (!first || round_add(c->firsts, first, false) < 0) {
		free(missing);
		return -1;
	}
	char *cur = missing;
	const char *p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		bool last = !*p;
		const char *end = p;
		while (*end && *end != '/')
			end++;
		size_t len = (size_t)(end - p);
		bool stop = last || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.');
		char *next = NULL;
		if (!stop && !(next = join(cur, p, len))) {
			free(cur);
			return -1;
		}
		/* A component walked through needs only a stat; the end of
		 * the walk is what a check sees, or a link to follow. */
		bool head = !last && !round_has(c->get, cur);
		if (round_add_as(c->r, cur, head, body && last) < 0) {
			free(next);
			return -1;
		}
		if (stop)
			return 0;
		cur = next;
		p = end;
	}
}

static int collect_one(const char *path, void *ud)
{
	struct collect *c = ud;
	bool wanted = cst_fs_wants(c->fs, path);
	for (int follow = 0; follow < 2; follow++) {
		struct cst_fs_info info;
		char *resolved = NULL, *missing = NULL, *rest = NULL;
		struct cst_error e = CST_ERROR_INIT;
		int r = cst_fs_lookup_partial(c->fs, path, follow, &info, &resolved, &missing, &rest, &e);
		int rc = 0;
		if (r < 0 && e.code == CST_E_NOMEM)
			rc = -1;
		/* Other errors (a loop) are the check's to report, as with the
		 * export. */
		if (r == 2) {
			rc = ask_walk(c, missing, rest, follow && wanted);
			missing = NULL;
		} else if (r == 1 && follow && wanted && info.type == CST_FT_REG && !info.has_content) {
			rc = round_add(c->r, resolved, true);
			resolved = NULL;
		} else if (r == 1 && info.stat_only) {
			/* What a check is told comes from the entry. */
			rc = round_add(c->r, resolved, false);
			resolved = NULL;
		}
		free(resolved);
		free(missing);
		free(rest);
		cst_error_clear(&e);
		if (rc < 0) {
			c->rc = -1;
			return 1;
		}
	}
	return 0;
}

static bool round_has_deferred(const struct round *r, const char *path)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].deferred && strcmp(r->v[i].path, path) == 0)
			return true;
	return false;
}

/* The volume path (its spelling in the image's config) that path is or is
 * under, else NULL. */
static const char *in_volume(const struct dk_container_src *cs, const char *path)
{
	for (size_t i = 0; i < cs->n_volumes; i++) {
		const char *v = cs->volumes[i];
		size_t n = strlen(v);
		while (n > 1 && v[n - 1] == '/')
			n--;
		if (n <= 1 && v[0] == '/')
			return v; /* "/" itself */
		if (strncmp(path, v, n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return v;
	}
	return NULL;
}

int dk_read_paths(struct cst_docker *d, const struct dk_container_src *cs, struct cst_fs *fs,
		  struct dk_path_stats *ret_stats, const char **ret_volume, struct cst_error *err)
{
	const char *container = NULL;
	*ret_volume = NULL;
	struct dk_path_stats st = {0};
	cst_fs_set_partial(fs);
	int rc = -1;
	struct round r = {0}, firsts = {0}, get = {0};
	for (;;) {
		/* Stats that did not do: asked again with a GET. */
		for (size_t i = 0; i < r.n; i++) {
			if (!r.v[i].deferred)
				continue;
			char *p = strdup(r.v[i].path);
			if (!p || round_add(&get, p, false) < 0) {
				cst_error_set(err, CST_E_NOMEM, "out of memory");
				goto out;
			}
		}
		round_release(&r);
		round_release(&firsts);
		struct collect c = {.fs = fs, .r = &r, .get = &get, .firsts = &firsts};
		cst_fs_each_need(fs, collect_one, &c);
		if (c.rc < 0) {
			cst_error_set(err, CST_E_NOMEM, "out of memory");
			goto out;
		}
		if (!r.n)
			break;
		if (++st.rounds > MAX_ROUNDS) {
			cst_error_set(err, CST_E_INTERNAL, "per-path reads took more than %d rounds", MAX_ROUNDS);
			goto out;
		}
		if (cst_signal_check(err) < 0)
			goto out;
		/* A container's archive shows its volumes mounted (their
		 * contents, or an empty directory the image does not have),
		 * its export the image's own files: the export answers. */
		for (size_t i = 0; i < r.n; i++) {
			if ((*ret_volume = in_volume(cs, r.v[i].path))) {
				rc = 1;
				goto out;
			}
		}
		/* Made only once something is to be read: a run that the saved
		 * partial index answers needs no container. */
		if (!container && !(container = cs->get(cs->ud, err)))
			goto out;
		fetch_round(d, container, &r);
		st.requests += r.n;
		if (cst_signal_check(err) < 0 || apply_round(fs, &r, &st, err) < 0)
			goto out;
		/* Each walk's first unread component has a directory for a
		 * parent, so its answer is always kept: a walk that learnt
		 * nothing would ask the same forever. */
		for (size_t i = 0; i < firsts.n; i++) {
			struct cst_fs_info info;
			char *missing = NULL, *rest = NULL;
			struct cst_error e = CST_ERROR_INIT;
			int known = cst_fs_lookup_partial(fs, firsts.v[i].path, false, &info, NULL, &missing, &rest, &e);
			free(missing);
			free(rest);
			cst_error_clear(&e);
			if (known == 2 && !round_has_deferred(&r, firsts.v[i].path)) {
				cst_error_set(err, CST_E_INTERNAL, "per-path reads: '%s' stayed unread", firsts.v[i].path);
				goto out;
			}
		}
	}
	rc = 0;
out:
	round_release(&r);
	round_release(&firsts);
	round_release(&get);
	if (ret_stats)
		*ret_stats = st;
	return rc;
}

struct estimate {
	struct round seen;
	int rc;
};

static int estimate_one(const char *path, void *ud)
{
	struct estimate *e = ud;
	char *clean = strdup(path);
	if (!clean) {
		e->rc = -1;
		return 1;
	}
	/* Every prefix of the spelling: the components a walk without
	 * symlinks asks for. */
	for (char *s = clean + 1;; s++) {
		if (*s == '/' || !*s) {
			char save = *s;
			*s = '\0';
			if (s > clean + 1 && s[-1] != '/') {
				char *prefix = strdup(clean);
				if (!prefix || round_add(&e->seen, prefix, false) < 0) {
					e->rc = -1;
					free(clean);
					return 1;
				}
			}
			*s = save;
			if (!save)
				break;
		}
	}
	free(clean);
	return 0;
}

size_t dk_paths_estimate(const struct cst_fs *fs)
{
	struct estimate e = {0};
	cst_fs_each_need(fs, estimate_one, &e);
	size_t n = e.rc < 0 ? (size_t)-1 : e.seen.n;
	round_release(&e.seen);
	return n;
}
