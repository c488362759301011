#include <stdio.h>

#include "cst/cli.h"

void cst_cli_usage(FILE *out)
{
	fputs("cst - check that a container image is built the way you meant\n"
	      "\n"
	      "Usage:\n"
	      "  cst test --image IMAGE --config FILE [--config FILE ...] [flags]\n"
	      "  cst validate [--config] FILE [FILE ...]\n"
	      "  cst version\n"
	      "  cst help [test|validate]\n"
	      "\n"
	      "Commands:\n"
	      "  test       run the structure tests of the config files against an image\n"
	      "  validate   check config files without any image or engine\n"
	      "  version    print the version\n"
	      "\n"
	      "Config files use container-structure-test's schema (schemaVersion 2.0.0 or 1.0.0).\n"
	      "Run 'cst test --help' for the test flags.\n"
	      "\n"
	      "Exit status: 0 all tests passed, 1 a test failed, 2 usage, config, image or\n"
	      "engine error, 130/143 interrupted by SIGINT/SIGTERM.\n",
	      out);
}

void cst_cli_test_usage(FILE *out)
{
	fputs("Usage: cst test --image IMAGE --config FILE [--config FILE ...] [flags]\n"
	      "\n"
	      "Flags:\n"
	      "  -i, --image IMAGE              image to test: a reference in the engine (docker\n"
	      "                                 driver); with the tar driver an archive path, a name\n"
	      "                                 (the engine's image, else the registry's) or\n"
	      "                                 docker://REF, docker-daemon:REF, docker-archive:PATH,\n"
	      "                                 oci:DIR[:REF], oci-archive:PATH[:REF]\n"
	      "  -c, --config FILE              test config file (YAML or JSON); repeatable, run in order\n"
	      "  -d, --driver NAME              docker (default) or tar; host is not supported\n"
	      "  -o, --output FORMAT            text (default), json, junit, tap or html\n"
	      "      --test-report FILE         write the report to FILE instead of stdout (written\n"
	      "                                 atomically; text becomes json, as in CST)\n"
	      "      --junit-suite-name NAME    name of the JUnit test suite\n"
	      "  -q, --quiet                    print no report; the exit status still tells\n"
	      "      --quiet-pass               text: print only failed tests and the summary\n"
	      "      --no-color                 no colour even on a terminal\n"
	      "      --pull                     pull the image before testing (docker driver)\n"
	      "      --save                     keep the containers of command tests and name them\n"
	      "      --runtime NAME             container runtime for command tests (docker driver)\n"
	      "      --network MODE             network of command-test containers, e.g. none (faster\n"
	      "                                 to start) or host; default: the engine's bridge\n"
	      "      --network-per-test         a network for each command-test container, as CST;\n"
	      "                                 default: the tests of a job slot join one sandbox's\n"
	      "      --network-sandbox          the default: tests join a network sandbox per job slot\n"
	      "      --shared-container         run command tests without setup as execs in one\n"
	      "                                 container (faster; tests see each other's changes)\n"
	      "      --cache-dir DIR            keep file-system indexes of tested images in DIR\n"
	      "                                 (default: $CST_CACHE_DIR, else ~/.cache/cst)\n"
	      "      --no-cache                 neither read nor write the index cache\n"
	      "      --platform OS/ARCH         platform to pull, run or pick from an OCI index\n"
	      "      --registry-ca FILE         CA certificates (PEM) that registries' TLS is checked with\n"
	      "      --insecure-registry HOST   allow plain HTTP to HOST[:PORT] (always for loopback)\n"
	      "      --metadata FILE            image config JSON for a rootfs tar (tar driver)\n"
	      "      --image-from-oci-layout DIR\n"
	      "                                 load an OCI layout into the engine and test it\n"
	      "      --default-image-tag TAG    tag for --image-from-oci-layout without a ref annotation\n"
	      "      --ignore-ref-annotation    use --default-image-tag even when a ref annotation exists\n"
	      "      --jobs N                   command tests run at once (default: twice the CPUs)\n"
	      "      --timeout SECONDS          per command test (default 300); a hung command fails\n"
	      "      --max-output SIZE          command output the whole run may hold (default 256M);\n"
	      "                                 a test past it fails saying so, the run goes on\n"
	      "  -f, --force                    accepted for compatibility\n"
	      "  -v, --verbosity LEVEL          panic, fatal, error, warning (default), info, debug, trace\n"
	      "  -j, --json                     same as --output json (deprecated in CST)\n"
	      "  -h, --help                     this help\n"
	      "\n"
	      "Environment: DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_API_VERSION;\n"
	      "DOCKER_CONFIG (registry credentials in config.json, as docker login writes them).\n",
	      out);
}

void cst_cli_validate_usage(FILE *out)
{
	fputs("Usage: cst validate [--config] FILE [FILE ...]\n"
	      "\n"
	      "Loads each config file as 'cst test' would, without any image or engine, and\n"
	      "prints every problem as FILE:LINE:COLUMN: message.  Exit status 0 when all files\n"
	      "are valid, 2 otherwise.\n",
	      out);
}
