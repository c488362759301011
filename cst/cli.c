#include "cst/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cst/suggest.h"

enum {
	OPT_NO_COLOR = 256,
	OPT_PULL,
	OPT_SAVE,
	OPT_RUNTIME,
	OPT_PLATFORM,
	OPT_METADATA,
	OPT_OCI_LAYOUT,
	OPT_DEFAULT_TAG,
	OPT_IGNORE_REF,
	OPT_JUNIT_SUITE,
	OPT_TEST_REPORT,
	OPT_JOBS,
	OPT_TIMEOUT,
	OPT_MAX_OUTPUT,
	OPT_CACHE_MAX,
	OPT_HELP,
	OPT_QUIET_PASS,
	OPT_NETWORK,
	OPT_SHARED,
	OPT_CACHE_DIR,
	OPT_NO_CACHE,
	OPT_NET_SANDBOX,
	OPT_NET_PER_TEST,
	OPT_READ_PLAN,
	OPT_REGISTRY_CA,
	OPT_INSECURE_REGISTRY,
	OPT_REGISTRY_MAX_SIZE,
};

/* Booleans take an optional "=true"/"=false" as cobra's do, so existing
 * CST command lines such as `--pull=false` keep working. */
static const struct option test_options[] = {
	{"image", required_argument, NULL, 'i'},
	{"config", required_argument, NULL, 'c'},
	{"driver", required_argument, NULL, 'd'},
	{"output", required_argument, NULL, 'o'},
	{"json", optional_argument, NULL, 'j'},
	{"quiet", optional_argument, NULL, 'q'},
	{"force", optional_argument, NULL, 'f'},
	{"verbosity", required_argument, NULL, 'v'},
	{"no-color", optional_argument, NULL, OPT_NO_COLOR},
	{"quiet-pass", optional_argument, NULL, OPT_QUIET_PASS},
	{"pull", optional_argument, NULL, OPT_PULL},
	{"save", optional_argument, NULL, OPT_SAVE},
	{"runtime", required_argument, NULL, OPT_RUNTIME},
	{"network", required_argument, NULL, OPT_NETWORK},
	{"shared-container", optional_argument, NULL, OPT_SHARED},
	{"network-sandbox", optional_argument, NULL, OPT_NET_SANDBOX},
	{"network-per-test", optional_argument, NULL, OPT_NET_PER_TEST},
	{"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
	{"no-cache", optional_argument, NULL, OPT_NO_CACHE},
	{"read-plan", required_argument, NULL, OPT_READ_PLAN},
	{"platform", required_argument, NULL, OPT_PLATFORM},
	{"registry-ca", required_argument, NULL, OPT_REGISTRY_CA},
	{"insecure-registry", required_argument, NULL, OPT_INSECURE_REGISTRY},
	{"registry-max-size", required_argument, NULL, OPT_REGISTRY_MAX_SIZE},
	{"metadata", required_argument, NULL, OPT_METADATA},
	{"image-from-oci-layout", required_argument, NULL, OPT_OCI_LAYOUT},
	{"default-image-tag", required_argument, NULL, OPT_DEFAULT_TAG},
	{"ignore-ref-annotation", optional_argument, NULL, OPT_IGNORE_REF},
	{"junit-suite-name", required_argument, NULL, OPT_JUNIT_SUITE},
	{"test-report", required_argument, NULL, OPT_TEST_REPORT},
	{"jobs", required_argument, NULL, OPT_JOBS},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"max-output", required_argument, NULL, OPT_MAX_OUTPUT},
	{"cache-max", required_argument, NULL, OPT_CACHE_MAX},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const char *const verbosities[] = {"panic", "fatal", "error", "warn", "warning", "info", "debug", "trace", NULL};
static const char *const read_plans[] = {"auto", "export", "paths", NULL};
static const char *const outputs[] = {"text", "json", "junit", "tap", "html", NULL};

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static int parse_bool(const char *flag, const char *arg, bool *ret, struct cst_error *err)
{
	if (!arg || strcmp(arg, "true") == 0 || strcmp(arg, "1") == 0) {
		*ret = true;
		return 0;
	}
	if (strcmp(arg, "false") == 0 || strcmp(arg, "0") == 0) {
		*ret = false;
		return 0;
	}
	return cst_error_set(err, CST_E_USAGE, "invalid value '%s' for --%s: expected true or false", arg, flag);
}

static int add_config(struct cst_options *o, const char *path, struct cst_error *err)
{
	const char **v = realloc(o->configs, (o->n_configs + 1) * sizeof(*v));
	if (!v)
		return cst_error_set(err, CST_E_NOMEM, "out of memory");
	o->configs = v;
	o->configs[o->n_configs++] = path;
	return 0;
}

/* A byte count: digits and an optional binary unit (K, M, G, with or
 * without "iB"). */
static int parse_size(const char *s, size_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-' || n == 0)
		return -1;
	unsigned shift = 0;
	if (*end) {
		const char *units = "KMG";
		const char *u = strchr(units, *end);
		if (!u)
			return -1;
		shift = 10 * (unsigned)(u - units + 1);
		end++;
		if (strcmp(end, "") != 0 && strcmp(end, "iB") != 0)
			return -1;
	}
	if (n > (SIZE_MAX >> shift))
		return -1;
	*ret = (size_t)n << shift;
	return 0;
}

/* The error for an unknown long flag, with the nearest known one when the
 * flag looks like a typo of it: "--confg" -> "did you mean --config?". */
static int unknown_flag(const char *arg, const struct option *known, const char *cmd, struct cst_error *err)
{
	const char *names[64];
	size_t n = 0;
	for (; n < sizeof(names) / sizeof(names[0]) && known[n].name; n++)
		names[n] = known[n].name;
	char flag[64];
	const char *name = arg + strspn(arg, "-");
	size_t len = strcspn(name, "=");
	const char *best = NULL;
	if (len < sizeof(flag)) {
		memcpy(flag, name, len);
		flag[len] = '\0';
		best = cst_suggest(flag, names, n);
	}
	if (best)
		return cst_error_set(err, CST_E_USAGE, "unknown flag %.*s: did you mean --%s? (see 'cst %s --help')",
				     (int)(name - arg + len), arg, best, cmd);
	return cst_error_set(err, CST_E_USAGE, "unknown flag %s (see 'cst %s --help')", arg, cmd);
}

static int parse_test(int argc, char **argv, struct cst_options *o, struct cst_error *err)
{
	bool json = false;
	optind = 1;
	opterr = 0;
	for (;;) {
		int longidx = -1;
		int c = getopt_long(argc, argv, ":i:c:d:o:v:qfjh", test_options, &longidx);
		if (c == -1)
			break;
		const char *name = longidx >= 0 ? test_options[longidx].name : NULL;
		/* getopt leaves optarg stale after a short flag without a value. */
		const char *boolarg = longidx >= 0 ? optarg : NULL;
		switch (c) {
		case 'i':
			o->image = optarg;
			break;
		case 'c':
			if (add_config(o, optarg, err) < 0)
				return -1;
			break;
		case 'd':
			if (strcmp(optarg, "docker") == 0)
				o->driver = CST_DRIVER_DOCKER;
			else if (strcmp(optarg, "tar") == 0)
				o->driver = CST_DRIVER_TAR;
			else if (strcmp(optarg, "host") == 0)
				o->driver = CST_DRIVER_HOST;
			else
				return cst_error_set(err, CST_E_USAGE,
						     "unsupported driver '%s': expected docker, tar or host", optarg);
			break;
		case 'o':
			if (!in_list(optarg, outputs))
				return cst_error_set(err, CST_E_USAGE,
						     "unsupported output format '%s': expected text, json, junit, tap or html",
						     optarg);
			o->output = optarg;
			break;
		case 'j':
			if (parse_bool("json", boolarg, &json, err) < 0)
				return -1;
			break;
		case 'q':
			if (parse_bool("quiet", boolarg, &o->quiet, err) < 0)
				return -1;
			break;
		case 'f':
			if (parse_bool("force", boolarg, &o->force, err) < 0)
				return -1;
			break;
		case 'v':
			if (!in_list(optarg, verbosities))
				return cst_error_set(err, CST_E_USAGE,
						     "invalid verbosity '%s': expected one of panic, fatal, error, "
						     "warn, info, debug, trace",
						     optarg);
			o->verbosity = optarg;
			break;
		case OPT_NO_COLOR:
			if (parse_bool(name, boolarg, &o->no_color, err) < 0)
				return -1;
			break;
		case OPT_QUIET_PASS:
			if (parse_bool(name, boolarg, &o->quiet_pass, err) < 0)
				return -1;
			break;
		case OPT_PULL:
			if (parse_bool(name, boolarg, &o->pull, err) < 0)
				return -1;
			break;
		case OPT_SAVE:
			if (parse_bool(name, boolarg, &o->save, err) < 0)
				return -1;
			break;
		case OPT_IGNORE_REF:
			if (parse_bool(name, boolarg, &o->ignore_ref_annotation, err) < 0)
				return -1;
			break;
		case OPT_RUNTIME:
			o->runtime = optarg;
			break;
		case OPT_NETWORK:
			if (!*optarg)
				return cst_error_set(err, CST_E_USAGE, "--network needs a network name, e.g. none or host");
			o->network = optarg;
			break;
		case OPT_SHARED:
			if (parse_bool(name, boolarg, &o->shared_container, err) < 0)
				return -1;
			break;
		case OPT_NET_SANDBOX:
			if (parse_bool(name, boolarg, &o->network_sandbox, err) < 0)
				return -1;
			break;
		case OPT_NET_PER_TEST:
			if (parse_bool(name, boolarg, &o->network_per_test, err) < 0)
				return -1;
			break;
		case OPT_CACHE_DIR:
			if (!*optarg)
				return cst_error_set(err, CST_E_USAGE, "--cache-dir needs a directory");
			o->cache_dir = optarg;
			break;
		case OPT_NO_CACHE:
			if (parse_bool(name, boolarg, &o->no_cache, err) < 0)
				return -1;
			break;
		case OPT_PLATFORM:
			if (!strchr(optarg, '/') && strcmp(optarg, "all") != 0)
				return cst_error_set(err, CST_E_USAGE,
						     "invalid platform '%s': expected os/arch[/variant] (e.g. linux/amd64) or all",
						     optarg);
			o->platform = optarg;
			break;
		case OPT_REGISTRY_CA:
			if (!*optarg)
				return cst_error_set(err, CST_E_USAGE, "--registry-ca needs a file");
			o->registry_ca = optarg;
			break;
		case OPT_INSECURE_REGISTRY: {
			if (!*optarg || strchr(optarg, '/'))
				return cst_error_set(err, CST_E_USAGE, "--insecure-registry '%s': expected HOST[:PORT]",
						     optarg);
			const char **v = realloc(o->insecure_registries, (o->n_insecure_registries + 1) * sizeof(*v));
			if (!v)
				return cst_error_set(err, CST_E_NOMEM, "out of memory");
			o->insecure_registries = v;
			v[o->n_insecure_registries++] = optarg;
			break;
		}
		case OPT_REGISTRY_MAX_SIZE:
			if (parse_size(optarg, &o->registry_max_size) < 0)
				return cst_error_set(err, CST_E_USAGE,
						     "invalid value '%s' for --registry-max-size: expected bytes greater than "
						     "0, optionally with K, M or G (KiB, MiB, GiB)",
						     optarg);
			break;
		case OPT_METADATA:
			o->metadata = optarg;
			break;
		case OPT_OCI_LAYOUT:
			o->image_from_oci_layout = optarg;
			break;
		case OPT_DEFAULT_TAG:
			o->default_image_tag = optarg;
			break;
		case OPT_JUNIT_SUITE:
			o->junit_suite_name = optarg;
			break;
		case OPT_TEST_REPORT:
			o->test_report = optarg;
			break;
		case OPT_READ_PLAN:
			if (!in_list(optarg, read_plans))
				return cst_error_set(err, CST_E_USAGE,
						     "invalid value '%s' for --read-plan: expected auto, export or paths",
						     optarg);
			o->read_plan = optarg;
			break;
		case OPT_JOBS: {
			char *end;
			errno = 0;
			long n = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > 256)
				return cst_error_set(err, CST_E_USAGE,
						     "invalid value '%s' for --jobs: expected a number from 1 to 256",
						     optarg);
			o->jobs = (int)n;
			break;
		}
		case OPT_TIMEOUT: {
			char *end;
			errno = 0;
			double t = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(t > 0) || t > 86400 * 7)
				return cst_error_set(err, CST_E_USAGE,
						     "invalid value '%s' for --timeout: expected seconds greater than 0",
						     optarg);
			o->timeout = t;
			break;
		}
		case OPT_MAX_OUTPUT:
			if (parse_size(optarg, &o->max_output) < 0)
				return cst_error_set(err, CST_E_USAGE,
						     "invalid value '%s' for --max-output: expected bytes greater than 0, "
						     "optionally with K, M or G (KiB, MiB, GiB)",
						     optarg);
			break;
		case OPT_CACHE_MAX:
			if (parse_size(optarg, &o->cache_max) < 0 || o->cache_max > INT64_MAX)
				return cst_error_set(err, CST_E_USAGE,
						     "invalid value '%s' for --cache-max: expected bytes greater than 0, "
						     "optionally with K, M or G (KiB, MiB, GiB)",
						     optarg);
			break;
		case 'h':
			o->command = CST_CMD_HELP;
			o->help_topic = "test";
			return 0;
		case ':':
			if (optopt)
				return cst_error_set(err, CST_E_USAGE, "flag -%c needs a value", optopt);
			return cst_error_set(err, CST_E_USAGE, "flag %s needs a value", argv[optind - 1]);
		default:
			if (optopt)
				return cst_error_set(err, CST_E_USAGE, "unknown flag -%c (see 'cst test --help')",
						     optopt);
			return unknown_flag(argv[optind - 1], test_options, "test", err);
		}
	}
	if (optind < argc)
		return cst_error_set(err, CST_E_USAGE, "unexpected argument '%s' (see 'cst test --help')", argv[optind]);
	if (json)
		o->output = "json";
	if (o->n_configs == 0)
		return cst_error_set(err, CST_E_USAGE, "required flag --config (-c) not given");
	if (o->image && o->image_from_oci_layout)
		return cst_error_set(err, CST_E_USAGE, "--image and --image-from-oci-layout cannot be used together");
	if (!o->image && !o->image_from_oci_layout)
		return cst_error_set(err, CST_E_USAGE, "required flag --image (-i) not given");
	if (o->pull && o->image_from_oci_layout)
		return cst_error_set(err, CST_E_USAGE, "--pull and --image-from-oci-layout cannot be used together");
	if (o->network && o->driver != CST_DRIVER_DOCKER)
		return cst_error_set(err, CST_E_USAGE, "--network needs the docker driver");
	if (o->shared_container && o->driver != CST_DRIVER_DOCKER)
		return cst_error_set(err, CST_E_USAGE, "--shared-container needs the docker driver");
	if (o->network_sandbox && o->network_per_test)
		return cst_error_set(err, CST_E_USAGE, "--network-sandbox and --network-per-test cannot be used together");
	if ((o->network_sandbox || o->network_per_test) && o->driver != CST_DRIVER_DOCKER)
		return cst_error_set(err, CST_E_USAGE, "--%s needs the docker driver",
				     o->network_sandbox ? "network-sandbox" : "network-per-test");
	if (o->cache_dir && o->no_cache)
		return cst_error_set(err, CST_E_USAGE, "--cache-dir and --no-cache cannot be used together");
	if (o->pull && o->driver == CST_DRIVER_HOST)
		return cst_error_set(err, CST_E_USAGE, "--pull needs the docker or tar driver");
	if (o->pull && o->driver == CST_DRIVER_TAR && o->metadata)
		return cst_error_set(err, CST_E_USAGE,
				     "--pull with the tar driver is for registry images (the engine pulls them to run "
				     "command tests), not a root file system tar with --metadata");
	if (o->image_from_oci_layout && o->driver != CST_DRIVER_DOCKER)
		return cst_error_set(err, CST_E_USAGE, "--image-from-oci-layout needs the docker driver");
	/* The engine's images hold one platform each. */
	if (o->platform && strcmp(o->platform, "all") == 0 && o->driver != CST_DRIVER_TAR)
		return cst_error_set(err, CST_E_USAGE,
				     "--platform all needs an image index: use the tar driver with a registry "
				     "(docker://REF) or OCI layout (oci:DIR, oci-archive:PATH) image");
	if (o->platform && strcmp(o->platform, "all") == 0 && o->pull)
		return cst_error_set(err, CST_E_USAGE,
				     "--pull and --platform all cannot be used together: the engine runs the command "
				     "tests of one platform");
	if (o->metadata && o->driver == CST_DRIVER_DOCKER)
		return cst_error_set(err, CST_E_USAGE, "--metadata is for the tar and host drivers");
	return 0;
}

static int parse_validate(int argc, char **argv, struct cst_options *o, struct cst_error *err)
{
	static const struct option vopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"portable", no_argument, NULL, 'P'},
		{NULL, 0, NULL, 0},
	};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":c:h", vopts, NULL)) != -1) {
		if (c == 'P') {
			o->portable = true;
		} else if (c == 'c') {
			if (add_config(o, optarg, err) < 0)
				return -1;
		} else if (c == 'h') {
			o->command = CST_CMD_HELP;
			o->help_topic = "validate";
			return 0;
		} else if (c == ':') {
			return cst_error_set(err, CST_E_USAGE, "flag %s needs a value", argv[optind - 1]);
		} else if (optopt) {
			return cst_error_set(err, CST_E_USAGE, "unknown flag -%c (see 'cst validate --help')", optopt);
		} else {
			return unknown_flag(argv[optind - 1], vopts, "validate", err);
		}
	}
	for (; optind < argc; optind++)
		if (add_config(o, argv[optind], err) < 0)
			return -1;
	if (o->n_configs == 0)
		return cst_error_set(err, CST_E_USAGE, "cst validate needs at least one config file");
	return 0;
}

int cst_cli_parse(int argc, char **argv, struct cst_options *o, struct cst_error *err)
{
	memset(o, 0, sizeof(*o));
	o->driver = CST_DRIVER_DOCKER;
	o->output = "text";
	o->verbosity = "warning";
	if (argc < 2)
		return cst_error_set(err, CST_E_USAGE, "no command given (see 'cst --help')");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		o->command = CST_CMD_HELP;
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		o->command = CST_CMD_HELP;
		o->help_topic = argc > 2 ? argv[2] : NULL;
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		o->command = CST_CMD_VERSION;
		return 0;
	}
	if (strcmp(cmd, "test") == 0) {
		o->command = CST_CMD_TEST;
		return parse_test(argc - 1, argv + 1, o, err);
	}
	if (strcmp(cmd, "validate") == 0) {
		o->command = CST_CMD_VALIDATE;
		return parse_validate(argc - 1, argv + 1, o, err);
	}
	static const char *const commands[] = {"test", "validate", "version", "help"};
	const char *best = cst_suggest(cmd, commands, sizeof(commands) / sizeof(commands[0]));
	if (best)
		return cst_error_set(err, CST_E_USAGE, "unknown command '%s': did you mean 'cst %s'? (see 'cst --help')",
				     cmd, best);
	return cst_error_set(err, CST_E_USAGE, "unknown command '%s' (see 'cst --help')", cmd);
}

void cst_cli_release(struct cst_options *o)
{
	free(o->configs);
	o->configs = NULL;
	o->n_configs = 0;
	free(o->insecure_registries);
	o->insecure_registries = NULL;
	o->n_insecure_registries = 0;
}
