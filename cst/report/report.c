#include "cst/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cst/atomic_file.h"
#include "cst/report/internal.h"

static const struct cst_reporter *const reporters[] = {
	&cst_report_text,
	&cst_report_json,
	&cst_report_junit,
	&cst_report_tap,
	&cst_report_html,
};

const struct cst_reporter *cst_reporter_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(reporters) / sizeof(reporters[0]); i++)
		if (strcmp(reporters[i]->name, name) == 0)
			return reporters[i];
	return NULL;
}

const char *cst_path_base(const char *path, size_t *ret_len)
{
	size_t n = path ? strlen(path) : 0;
	if (n == 0) {
		*ret_len = 1;
		return ".";
	}
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n == 0) {
		*ret_len = 1;
		return "/";
	}
	size_t start = n;
	while (start > 0 && path[start - 1] != '/')
		start--;
	*ret_len = n - start;
	return path + start;
}

size_t cst_report_total(const struct cst_report *rep)
{
	size_t total = 0;
	for (size_t i = 0; i < rep->n_suites; i++)
		total += rep->suites[i].n_results;
	return total;
}

void cst_report_seconds(int64_t ns, char buf[static 32])
{
	if (ns < 0)
		ns = 0;
	char frac[10];
	snprintf(frac, sizeof(frac), "%09" PRId64, ns % 1000000000);
	int len = 9;
	while (len > 3 && frac[len - 1] == '0')
		len--;
	snprintf(buf, 32, "%" PRId64 ".%.*s", ns / 1000000000, len, frac);
}

static void add_field(struct cst_prov_fields *r, const char *name, const char *json, const char *label,
		      const char *value)
{
	if (value && *value && r->n < CST_PROV_MAX)
		r->f[r->n++] = (struct cst_prov_field){name, json, label, value};
}

void cst_provenance_fields(const struct cst_report *rep, struct cst_prov_fields *ret)
{
	memset(ret, 0, sizeof(*ret));
	const struct cst_provenance *p = &rep->prov;
	if (!p->version)
		return;
	if (p->start_unix_ns > 0) {
		time_t t = (time_t)(p->start_unix_ns / 1000000000);
		struct tm tm;
		if (gmtime_r(&t, &tm) && !strftime(ret->start, sizeof(ret->start), "%Y-%m-%dT%H:%M:%SZ", &tm))
			ret->start[0] = '\0';
	}
	cst_report_seconds(rep->duration_ns, ret->duration);
	add_field(ret, "image", "Image", "image", p->image);
	add_field(ret, "image.id", "ImageID", "image ID", p->image_id);
	add_field(ret, "image.digest", "RepoDigest", "repo digest", p->repo_digest);
	add_field(ret, "platform", "Platform", "platform", p->platform);
	add_field(ret, "driver", "Driver", "driver", p->driver);
	add_field(ret, "version", "Version", "cst", p->version);
	add_field(ret, "hostname", "Hostname", "host", p->hostname);
	add_field(ret, "start", "StartTime", "started", ret->start);
	add_field(ret, "duration", NULL, "seconds", ret->duration);
}

/* Whether path, made of segments, holds a ".." one. */
static bool climbs(const char *path)
{
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		while (*p == '/')
			p++;
	}
	return false;
}

char *cst_junit_classname(const char *path, const char *cwd)
{
	const char *rel = NULL;
	if (path && *path == '/') {
		size_t n = cwd ? strlen(cwd) : 0;
		while (n > 1 && cwd[n - 1] == '/')
			n--;
		if (n && strncmp(path, cwd, n) == 0 && (path[n] == '/' || n == 1) && !climbs(path))
			rel = path + (n == 1 ? 1 : n + 1);
	} else if (path && !climbs(path)) {
		rel = path;
	}
	/* "./a.yaml", "a//b.yaml": the same file, one name. */
	while (rel && (rel[0] == '/' || (rel[0] == '.' && rel[1] == '/')))
		rel += rel[0] == '/' ? 1 : 2;
	size_t len;
	const char *name;
	if (rel && *rel) {
		name = rel;
		len = strlen(rel);
	} else {
		name = cst_path_base(path, &len);
	}
	char *out = malloc(len + 1);
	if (!out)
		return NULL;
	size_t w = 0;
	for (size_t i = 0; i < len; i++) {
		/* Trailing slashes and runs of them add nothing to a name. */
		if (name[i] == '/' && (w == 0 || out[w - 1] == '.' || i + 1 == len))
			continue;
		if (name[i] == '.' && (i + 1 < len && name[i + 1] == '/') && (i == 0 || name[i - 1] == '/')) {
			i++;
			continue;
		}
		out[w++] = name[i] == '.' ? '_' : name[i] == '/' ? '.' : name[i];
	}
	while (w && out[w - 1] == '.')
		w--;
	out[w] = '\0';
	return out;
}

int cst_report_finish(FILE *out, struct cst_error *err)
{
	if (fflush(out) != 0 || ferror(out)) {
		int e = errno ? errno : EIO;
		return cst_error_set(err, CST_E_IO, "writing report: %s", strerror(e));
	}
	return 0;
}

struct write_ud {
	const struct cst_reporter *fmt;
	const struct cst_report *rep;
	const struct cst_report_opts *opts;
};

static int write_report(FILE *f, void *ud, struct cst_error *err)
{
	const struct write_ud *w = ud;
	return w->fmt->write(f, w->rep, w->opts, err);
}

int cst_report_write_file(const struct cst_reporter *fmt, const char *path, const struct cst_report *rep,
			  const struct cst_report_opts *opts, struct cst_error *err)
{
	if (!path || strcmp(path, "-") == 0) {
		if (fmt->write(stdout, rep, opts, err) < 0)
			return cst_error_wrap(err, "writing report to stdout");
		return 0;
	}

	struct write_ud w = {fmt, rep, opts};
	return cst_atomic_write(path, "report", 0, true, write_report, &w, err);
}
