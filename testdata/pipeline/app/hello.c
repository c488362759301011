/* The application of the worked pipeline: small enough to read at a glance,
 * built static so that its runtime image can be FROM scratch. */
#include <stdio.h>
#include <string.h>

#ifndef APP_VERSION
#define APP_VERSION "0.0.0"
#endif
#ifndef APP_REVISION
#define APP_REVISION "unknown"
#endif

int main(int argc, char **argv)
{
	const char *who = "world";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("hello %s (%s)\n", APP_VERSION, APP_REVISION);
			return 0;
		}
		if (strcmp(argv[i], "--greet") == 0 && i + 1 < argc) {
			who = argv[++i];
			continue;
		}
		fprintf(stderr, "usage: hello [--greet NAME] [--version]\n");
		return 2;
	}
	printf("Hello, %s!\n", who);
	return 0;
}
