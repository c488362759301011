#include "cst/signals.h"

#include <signal.h>
#include <string.h>

#include "cst/error.h"

static volatile sig_atomic_t pending;

static void on_signal(int signo)
{
	/* Only record it: cleanup talks HTTP to the engine, which is not
	 * async-signal-safe, so ordinary code does it on the way out. */
	if (!pending)
		pending = signo;
}

int cst_signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
	/* A closed report pipe must show up as a write error, not kill us
	 * before containers are removed. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int cst_signal_pending(void)
{
	return pending;
}

int cst_signal_check(struct cst_error *err)
{
	int s = pending;
	if (!s)
		return 0;
	cst_error_set(err, CST_E_INTERRUPTED, "interrupted by signal %d", s);
	if (err)
		err->signo = s;
	return -1;
}
