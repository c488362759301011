#include "cst/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int cst_atomic_write(const char *path, const char *what, mode_t mode, bool durable,
		     int (*write)(FILE *f, void *ud, struct cst_error *err), void *ud, struct cst_error *err)
{
	int ret = -1;
	char *tmp = NULL;
	char *dir = NULL;
	FILE *f = NULL;
	int fd = -1;

	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return cst_error_set(err, CST_E_IO, "writing %s '%s': not a file name", what, path);
	dir = slash ? (slash == path ? strdup("/") : strndup(path, (size_t)(slash - path))) : strdup(".");
	if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		tmp = NULL;
		cst_error_set(err, CST_E_NOMEM, "writing %s '%s': out of memory", what, path);
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		cst_error_set(err, CST_E_IO, "writing %s '%s': %s", what, path, strerror(errno));
		free(tmp);
		tmp = NULL; /* nothing was created */
		goto out;
	}
	if (fchmod(fd, mode ? mode : default_file_mode()) < 0 || !(f = fdopen(fd, "w"))) {
		cst_error_set(err, CST_E_IO, "writing %s '%s': %s", what, path, strerror(errno));
		goto out;
	}
	fd = -1; /* owned by f now */

	if (write(f, ud, err) < 0) {
		cst_error_wrap(err, "writing %s '%s'", what, path);
		goto out;
	}
	if (fflush(f) != 0 || (durable && fsync(fileno(f)) != 0)) {
		cst_error_set(err, CST_E_IO, "writing %s '%s': %s", what, path, strerror(errno));
		goto out;
	}
	FILE *done = f;
	f = NULL;
	if (fclose(done) != 0 || rename(tmp, path) < 0) {
		cst_error_set(err, CST_E_IO, "writing %s '%s': %s", what, path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if (durable)
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
