#include "cst/progress.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A phase shorter than this shows nothing: a meter that flashes up and
 * goes is noise.  Redraws are far enough apart to cost nothing. */
#define SHOW_AFTER_MS 1000
#define REDRAW_MS 200
/* Phases that may run at once (reading the image beside command tests)
 * share the one line. */
#define MAX_ACTIVE 4

struct cst_progress {
	FILE *out;
	char *what;
	uint64_t total;
	enum cst_progress_unit unit;
	pthread_t tid;
	pthread_cond_t cond;
	uint64_t done;
	bool visible; /* past SHOW_AFTER_MS */
	bool stop;
};

/* One lock for every meter and the line they share. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct cst_progress *active[MAX_ACTIVE];
static char shown[512]; /* the line as last drawn; "" when none is */

FILE *cst_progress_stream(FILE *err, int quiet)
{
	if (!err || quiet)
		return NULL;
	int fd = fileno(err);
	return fd >= 0 && isatty(fd) ? err : NULL;
}

/* "117.0 MiB", integer arithmetic. */
static void size_text(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;
	uint64_t whole = n, tenths = 0;
	while (whole >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		tenths = (whole % 1024) * 10 / 1024;
		whole /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " %s", whole, tenths, units[u]);
}

static void meter_text(const struct cst_progress *p, char *buf, size_t len)
{
	char done[32], total[32];
	if (p->unit == CST_PROGRESS_BYTES) {
		size_text(p->done, done, sizeof(done));
		size_text(p->total, total, sizeof(total));
	} else {
		snprintf(done, sizeof(done), "%" PRIu64, p->done);
		snprintf(total, sizeof(total), "%" PRIu64, p->total);
	}
	if (p->total && p->unit == CST_PROGRESS_COUNT) {
		snprintf(buf, len, "%s: %s of %s done", p->what, done, total);
	} else if (p->total) {
		/* An export is a little larger than the image's size, so the
		 * figure stops short of 100 until the phase ends. */
		uint64_t pct = p->done >= p->total ? 99 : p->done * 100 / p->total;
		snprintf(buf, len, "%s: %s of about %s (%" PRIu64 "%%)", p->what, done, total, pct);
	} else {
		snprintf(buf, len, "%s: %s", p->what, done);
	}
}

/* Draws the visible meters on one line, or erases the line when none is
 * left; only a change is written, since a terminal log (script, tmux's
 * scrollback) keeps every redraw.  Called with the lock held. */
static void draw(FILE *out)
{
	char line[sizeof(shown)] = "";
	size_t used = 0;
	for (size_t i = 0; i < MAX_ACTIVE; i++) {
		if (!active[i] || !active[i]->visible)
			continue;
		char part[256];
		meter_text(active[i], part, sizeof(part));
		int n = snprintf(line + used, sizeof(line) - used, "%s%s", used ? " \xC2\xB7 " : "cst: ", part);
		if (n < 0 || (size_t)n >= sizeof(line) - used)
			break;
		used += (size_t)n;
	}
	if (strcmp(line, shown) == 0)
		return;
	/* \r and erase-line: the meter rewrites its own line only. */
	fputs("\r\033[2K", out);
	fputs(line, out);
	fflush(out);
	memcpy(shown, line, sizeof(shown));
}

static struct timespec deadline(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static void *meter_thread(void *ud)
{
	struct cst_progress *p = ud;
	pthread_mutex_lock(&lock);
	struct timespec at = deadline(SHOW_AFTER_MS);
	while (!p->stop) {
		int rc = pthread_cond_timedwait(&p->cond, &lock, &at);
		if (p->stop)
			break;
		if (rc == ETIMEDOUT) {
			p->visible = true;
			draw(p->out);
			at = deadline(REDRAW_MS);
		}
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

struct cst_progress *cst_progress_start(FILE *out, const char *what, uint64_t total, enum cst_progress_unit unit)
{
	if (!out)
		return NULL;
	struct cst_progress *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->out = out;
	p->total = total;
	p->unit = unit;
	p->what = strdup(what ? what : "working");
	pthread_condattr_t ca;
	bool ok = p->what && pthread_condattr_init(&ca) == 0;
	if (ok) {
		ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&p->cond, &ca) == 0;
		pthread_condattr_destroy(&ca);
	}
	if (!ok) {
		free(p->what);
		free(p);
		return NULL;
	}
	pthread_mutex_lock(&lock);
	size_t slot = 0;
	while (slot < MAX_ACTIVE && active[slot])
		slot++;
	if (slot < MAX_ACTIVE)
		active[slot] = p;
	pthread_mutex_unlock(&lock);
	if (slot == MAX_ACTIVE || pthread_create(&p->tid, NULL, meter_thread, p) != 0) {
		pthread_mutex_lock(&lock);
		if (slot < MAX_ACTIVE)
			active[slot] = NULL;
		pthread_mutex_unlock(&lock);
		pthread_cond_destroy(&p->cond);
		free(p->what);
		free(p);
		return NULL;
	}
	return p;
}

void cst_progress_add(struct cst_progress *p, uint64_t n)
{
	if (!p)
		return;
	pthread_mutex_lock(&lock);
	p->done += n;
	pthread_mutex_unlock(&lock);
}

void cst_progress_set(struct cst_progress *p, uint64_t done, uint64_t total)
{
	if (!p)
		return;
	pthread_mutex_lock(&lock);
	p->done = done;
	p->total = total;
	pthread_mutex_unlock(&lock);
}

void cst_progress_line(struct cst_progress *p, FILE *out, const char *text)
{
	if (!p) {
		if (out)
			fprintf(out, "%s\n", text);
		return;
	}
	pthread_mutex_lock(&lock);
	if (shown[0]) {
		fputs("\r\033[2K", p->out);
		fflush(p->out);
		shown[0] = '\0';
	}
	if (out) {
		fprintf(out, "%s\n", text);
		fflush(out);
	}
	pthread_mutex_unlock(&lock);
}

void cst_progress_stop(struct cst_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&lock);
	pthread_join(p->tid, NULL);
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < MAX_ACTIVE; i++)
		if (active[i] == p)
			active[i] = NULL;
	/* The others still running keep the line; the last one erases it. */
	if (shown[0])
		draw(p->out);
	pthread_mutex_unlock(&lock);
	pthread_cond_destroy(&p->cond);
	free(p->what);
	free(p);
}
