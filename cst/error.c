#include "cst/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* When even the message cannot be allocated, the code still tells main()
 * what kind of failure it was. */
CST_PRINTF(1, 0) static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

int cst_error_setv(struct cst_error *err, enum cst_error_code code, const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	free(err->msg);
	err->code = code;
	err->msg = vformat(fmt, ap);
	err->signo = 0;
	return -1;
}

int cst_error_set(struct cst_error *err, enum cst_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cst_error_setv(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int cst_error_at(struct cst_error *err, enum cst_error_code code, struct cst_loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = vformat(fmt, ap);
	va_end(ap);
	cst_error_set(err, code, "%s:%d:%d: %s", loc.file ? loc.file : "?", loc.line, loc.col,
		      m ? m : "out of memory");
	free(m);
	return -1;
}

int cst_error_wrap(struct cst_error *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	char *ctx = vformat(fmt, ap);
	va_end(ap);
	if (!ctx)
		return -1;
	char *m = NULL;
	if (asprintf(&m, "%s: %s", ctx, err->msg ? err->msg : "unknown error") >= 0) {
		free(err->msg);
		err->msg = m;
	}
	free(ctx);
	if (err->code == CST_OK)
		err->code = CST_E_INTERNAL;
	return -1;
}

int cst_error_append(struct cst_error *err, enum cst_error_code code, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	char *line = vformat(fmt, ap);
	va_end(ap);
	if (!line)
		return -1;
	if (!err->msg) {
		err->msg = line;
	} else {
		char *m = NULL;
		if (asprintf(&m, "%s\n%s", err->msg, line) >= 0) {
			free(err->msg);
			err->msg = m;
		}
		free(line);
	}
	if (err->code == CST_OK)
		err->code = code;
	return -1;
}

void cst_error_clear(struct cst_error *err)
{
	if (!err)
		return;
	free(err->msg);
	err->msg = NULL;
	err->code = CST_OK;
	err->signo = 0;
}

void cst_error_move(struct cst_error *dst, struct cst_error *src)
{
	cst_error_clear(dst);
	*dst = *src;
	src->msg = NULL;
	src->code = CST_OK;
	src->signo = 0;
}
