/* SIGINT/SIGTERM handling.  The handler only records the signal; ordinary
 * code polls cst_signal_pending() at its loops and long transfers, unwinds
 * with CST_E_INTERRUPTED and cleans up on the way out. */
#ifndef CST_SIGNALS_H
#define CST_SIGNALS_H

#include <stdbool.h>

int cst_signals_install(void);
/* 0 when none, else the first signal received. Async-signal-safe. */
int cst_signal_pending(void);
/* Sets err to CST_E_INTERRUPTED when a signal is pending; returns -1 then, 0 otherwise. */
struct cst_error;
int cst_signal_check(struct cst_error *err);

#endif
