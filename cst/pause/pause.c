/* The process of a network sandbox (cst/engine/sandbox.c): it only holds
 * the container, and with it the network namespace that the command
 * tests of one job slot join.  Linked statically, it runs from an image
 * of this one file.
 *
 * As PID 1 of its container it gets no signal the kernel would act on by
 * default, so SIGTERM and SIGINT (docker stop, a terminal) need handlers
 * to end it; everything else waits in pause(). */
#include <signal.h>
#include <unistd.h>

static void leave(int sig)
{
	(void)sig;
	_exit(0);
}

int main(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = leave;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return 1;
	for (;;)
		pause();
}
