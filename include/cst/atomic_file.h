/* Files written whole or not at all.
 *
 * The data goes to a temporary file beside the target (a dot name, so that
 * a glob for the target never sees it half written), which is renamed over
 * the target once complete.  Readers see the old file or the new one. */
#ifndef CST_ATOMIC_FILE_H
#define CST_ATOMIC_FILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "cst/error.h"

/* Writes path through write(f, ud, err).  mode 0 is 0666 less the umask,
 * as for any new file; durable syncs the file and its directory before
 * and after the rename.  `what` names the file in errors ("report":
 * "writing report 'out.json': ...").  On failure nothing is left behind
 * and path is as it was. */
int cst_atomic_write(const char *path, const char *what, mode_t mode, bool durable,
		     int (*write)(FILE *f, void *ud, struct cst_error *err), void *ud, struct cst_error *err);

#endif
