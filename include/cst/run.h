/* Drives one `cst test` or `cst validate`: config -> image source ->
 * checks -> results.  Reporting and exit codes are main()'s. */
#ifndef CST_RUN_H
#define CST_RUN_H

#include <stdio.h>

#include "cst/cli.h"
#include "cst/error.h"
#include "cst/result.h"

/* Runs every config against the image and fills rep.  Notes (config
 * warnings, --save containers) go to diag.  Returns -1 with err when the
 * run could not be completed; a failed test is not an error.  When configs
 * are refused, nothing runs, and rep then holds one failed result per
 * refused file saying why (empty otherwise after -1). */
int cst_run_test(const struct cst_options *opts, FILE *diag, struct cst_report *rep, struct cst_error *err);

/* Loads every config; prints "FILE: ok" lines to out.  -1 with every
 * problem of every file in err.  With --portable, also prints where each
 * file uses a cst extension and returns 1 when any does. */
int cst_run_validate(const struct cst_options *opts, FILE *out, FILE *diag, struct cst_error *err);

#endif
