/* One network leave at a time.
 *
 * Docker 20.10's libnetwork (Debian 12's docker.io among its builds) can
 * deadlock when two containers leave a network at the same moment: one
 * leave looks up the network's service records holding the network's lock
 * and then asks for the controller's, while the endpoint deletion of the
 * other, handled by the controller's watch loop, holds the controller's
 * lock and asks for the network's (moby/moby#42545, fixed in later
 * engines).  The engine then never creates a container again until it is
 * killed.  It was seen here with the four sandboxes of one run removed at
 * once.
 *
 * The sandboxes are the only containers of a run with an endpoint of their
 * own that cst removes while they run (a test with a network of its own
 * leaves it when its command ends, which cst does not time), so their
 * removals go one at a time: within the run under a mutex, and across the
 * user's concurrent runs under a lock file.  The file lock is awaited for a
 * bounded time only: a run stopped while it holds the lock must not hold up
 * every other run. */
#include "cst/engine/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cst/signals.h"

#define LEAVE_LOCK_WAIT_MS 10000
#define LEAVE_LOCK_POLL_MS 5

static int open_lock_file(void)
{
	char path[512];
	const char *dir = getenv("XDG_RUNTIME_DIR");
	int n = dir && *dir ? snprintf(path, sizeof(path), "%s/cst-network-leave.lock", dir)
			    : snprintf(path, sizeof(path), "/tmp/cst-network-leave-%lu.lock", (unsigned long)getuid());
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

int dk_leave_lock(struct cst_docker *d)
{
	pthread_mutex_lock(&d->leave_lock);
	int fd = open_lock_file();
	if (fd < 0)
		return -1;
	const struct timespec poll = {0, LEAVE_LOCK_POLL_MS * 1000000L};
	for (int waited = 0; waited < LEAVE_LOCK_WAIT_MS && !cst_signal_pending(); waited += LEAVE_LOCK_POLL_MS) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		nanosleep(&poll, NULL);
	}
	close(fd);
	return -1;
}

void dk_leave_unlock(struct cst_docker *d, int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
	pthread_mutex_unlock(&d->leave_lock);
}

int dk_container_remove_leaving(struct cst_docker *d, struct dk_conn *c, const char *id, struct cst_error *err)
{
	int fd = dk_leave_lock(d);
	int rc = dk_container_remove(d, c, id, err);
	dk_leave_unlock(d, fd);
	return rc;
}
