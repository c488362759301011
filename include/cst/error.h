/* One error type for all of cst.
 *
 * A function that can fail takes `struct cst_error *err` last, returns a
 * negative value (or NULL) on failure and fills err.  Callers add context on
 * the way up with cst_error_wrap(); main() prints the message once and maps
 * err->code to the exit status.  Library code never prints and never exits.
 */
#ifndef CST_ERROR_H
#define CST_ERROR_H

#include <stdarg.h>

/* Where a config node came from.  `file` is owned by the config it belongs
 * to; line and col count from 1 (libyaml's marks count from 0). */
struct cst_loc {
	const char *file;
	int line;
	int col;
};

enum cst_error_code {
	CST_OK = 0,
	CST_E_USAGE,       /* bad command line */
	CST_E_CONFIG,      /* bad test config: message holds FILE:LINE:COL lines */
	CST_E_IMAGE,       /* image missing, unreadable or malformed */
	CST_E_ENGINE,      /* container engine unreachable or failing */
	CST_E_IO,          /* local file system */
	CST_E_NOMEM,
	CST_E_INTERRUPTED, /* SIGINT/SIGTERM seen; cleanup already done */
	CST_E_INTERNAL,
};

struct cst_error {
	enum cst_error_code code;
	char *msg; /* NULL when code == CST_OK */
	int signo; /* with CST_E_INTERRUPTED: the signal */
};

#define CST_ERROR_INIT {CST_OK, NULL, 0}

#if defined(__GNUC__)
#define CST_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CST_PRINTF(a, b)
#endif

/* Sets err (replacing any earlier message); always returns -1. */
int cst_error_set(struct cst_error *err, enum cst_error_code code, const char *fmt, ...) CST_PRINTF(3, 4);
int cst_error_setv(struct cst_error *err, enum cst_error_code code, const char *fmt, va_list ap) CST_PRINTF(3, 0);
/* Sets a located error: "FILE:LINE:COL: message". Returns -1. */
int cst_error_at(struct cst_error *err, enum cst_error_code code, struct cst_loc loc, const char *fmt, ...) CST_PRINTF(4, 5);
/* Prefixes the message with context: "context: old message". Returns -1. */
int cst_error_wrap(struct cst_error *err, const char *fmt, ...) CST_PRINTF(2, 3);
/* Appends a further line to the message (for reporting several config
 * errors at once); sets code if none was set. Returns -1. */
int cst_error_append(struct cst_error *err, enum cst_error_code code, const char *fmt, ...) CST_PRINTF(3, 4);
void cst_error_clear(struct cst_error *err);
/* Moves src into dst (dst cleared first); src is left empty. */
void cst_error_move(struct cst_error *dst, struct cst_error *src);

#endif
