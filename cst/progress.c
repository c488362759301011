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

struct cst_progress {
	FILE *out;
	char *what;
	uint64_t total;
	enum cst_progress_unit unit;
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t done;
	bool stop;
	bool drawn;
	uint64_t shown; /* done as last drawn */
	uint64_t shown_total;
};

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

/* Called with the lock held.  Only a change is drawn: a terminal log
 * (script, tmux's scrollback) keeps every redraw. */
static void draw(struct cst_progress *p)
{
	if (p->drawn && p->shown == p->done && p->shown_total == p->total)
		return;
	char done[32], total[32];
	if (p->unit == CST_PROGRESS_BYTES) {
		size_text(p->done, done, sizeof(done));
		size_text(p->total, total, sizeof(total));
	} else {
		snprintf(done, sizeof(done), "%" PRIu64, p->done);
		snprintf(total, sizeof(total), "%" PRIu64, p->total);
	}
	/* \r and erase-line: the meter rewrites its own line only. */
	fprintf(p->out, "\r\033[2Kcst: %s: %s", p->what, done);
	if (p->total && p->unit == CST_PROGRESS_COUNT) {
		fprintf(p->out, " of %s done", total);
	} else if (p->total) {
		/* An export is a little larger than the image's size, so the
		 * figure stops short of 100 until the phase ends. */
		uint64_t pct = p->done >= p->total ? 99 : p->done * 100 / p->total;
		fprintf(p->out, " of about %s (%" PRIu64 "%%)", total, pct);
	}
	fflush(p->out);
	p->drawn = true;
	p->shown = p->done;
	p->shown_total = p->total;
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
	pthread_mutex_lock(&p->lock);
	struct timespec at = deadline(SHOW_AFTER_MS);
	while (!p->stop) {
		int rc = pthread_cond_timedwait(&p->cond, &p->lock, &at);
		if (p->stop)
			break;
		if (rc == ETIMEDOUT) {
			draw(p);
			at = deadline(REDRAW_MS);
		}
	}
	if (p->drawn) {
		fputs("\r\033[2K", p->out);
		fflush(p->out);
	}
	pthread_mutex_unlock(&p->lock);
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
	pthread_mutex_init(&p->lock, NULL);
	if (pthread_create(&p->tid, NULL, meter_thread, p) != 0) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
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
	pthread_mutex_lock(&p->lock);
	p->done += n;
	pthread_mutex_unlock(&p->lock);
}

void cst_progress_set(struct cst_progress *p, uint64_t done, uint64_t total)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->done = done;
	p->total = total;
	pthread_mutex_unlock(&p->lock);
}

void cst_progress_line(struct cst_progress *p, FILE *out, const char *text)
{
	if (!p) {
		if (out)
			fprintf(out, "%s\n", text);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (p->drawn)
		fputs("\r\033[2K", p->out);
	fflush(p->out);
	if (out) {
		fprintf(out, "%s\n", text);
		fflush(out);
	}
	p->drawn = false;
	pthread_mutex_unlock(&p->lock);
}

void cst_progress_stop(struct cst_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->tid, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p->what);
	free(p);
}
