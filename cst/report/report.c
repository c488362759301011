#include "cst/report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int cst_report_finish(FILE *out, struct cst_error *err)
{
	if (fflush(out) != 0 || ferror(out)) {
		int e = errno ? errno : EIO;
		return cst_error_set(err, CST_E_IO, "writing report: %s", strerror(e));
	}
	return 0;
}

/* mkstemp creates the file 0600; a report is an ordinary file that others
 * (CI artifact uploaders running as another user) may need to read. */
static mode_t default_file_mode(void)
{
	mode_t mask = umask(0);
	umask(mask);
	return 0666 & ~mask;
}

/* Makes the rename itself durable; best effort, since a file system that
 * cannot sync a directory has already stored the data we care about. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int cst_report_write_file(const struct cst_reporter *fmt, const char *path, const struct cst_report *rep,
			  const struct cst_report_opts *opts, struct cst_error *err)
{
	if (!path || strcmp(path, "-") == 0) {
		if (fmt->write(stdout, rep, opts, err) < 0)
			return cst_error_wrap(err, "writing report to stdout");
		return 0;
	}

	int ret = -1;
	char *tmp = NULL;
	char *dir = NULL;
	FILE *f = NULL;
	int fd = -1;

	size_t base_len;
	const char *base = cst_path_base(path, &base_len);
	size_t dir_len = (size_t)(base - path);
	if (base_len == 0 || strcmp(base, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		cst_error_set(err, CST_E_IO, "writing report '%s': not a file name", path);
		goto out;
	}
	if (dir_len == 0)
		dir = strdup(".");
	else
		dir = strndup(path, dir_len);
	/* The temporary name starts with a dot so that a glob for the report
	 * (e.g. a CI artifact pattern) never picks up a half-written one. */
	if (!dir || asprintf(&tmp, "%s/.%.*s.XXXXXX", dir, (int)base_len, base) < 0) {
		tmp = NULL;
		cst_error_set(err, CST_E_NOMEM, "writing report '%s': out of memory", path);
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		cst_error_set(err, CST_E_IO, "writing report '%s': %s", path, strerror(errno));
		free(tmp);
		tmp = NULL; /* nothing was created */
		goto out;
	}
	if (fchmod(fd, default_file_mode()) < 0 || !(f = fdopen(fd, "w"))) {
		cst_error_set(err, CST_E_IO, "writing report '%s': %s", path, strerror(errno));
		goto out;
	}
	fd = -1; /* owned by f now */

	if (fmt->write(f, rep, opts, err) < 0) {
		cst_error_wrap(err, "writing report '%s'", path);
		goto out;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		cst_error_set(err, CST_E_IO, "writing report '%s': %s", path, strerror(errno));
		goto out;
	}
	FILE *done = f;
	f = NULL;
	if (fclose(done) != 0) {
		cst_error_set(err, CST_E_IO, "writing report '%s': %s", path, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		cst_error_set(err, CST_E_IO, "writing report '%s': %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	sync_dir(dir);
	ret = 0;

out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	return ret;
}
