/* Command lines as CST users write them, and the errors for bad ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cst/cli.h"

static int parse(struct cst_options *o, struct cst_error *err, int argc, ...)
{
	static char *argv[64];
	va_list ap;
	va_start(ap, argc);
	argv[0] = (char *)"cst";
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	return cst_cli_parse(argc, argv, o, err);
}

static void test_cst_style_command_line(void **state)
{
	(void)state;
	struct cst_options o;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(parse(&o, &err, 13, "test", "--image", "app:1", "-c", "a.yaml", "--config=b.yaml", "-o",
			       "junit", "--test-report", "r.xml", "--pull=false", "-q"),
			 0);
	assert_int_equal(o.command, CST_CMD_TEST);
	assert_string_equal(o.image, "app:1");
	assert_int_equal(o.n_configs, 2);
	assert_string_equal(o.configs[0], "a.yaml");
	assert_string_equal(o.configs[1], "b.yaml");
	assert_string_equal(o.output, "junit");
	assert_string_equal(o.test_report, "r.xml");
	assert_false(o.pull);
	assert_true(o.quiet);
	assert_int_equal(o.driver, CST_DRIVER_DOCKER);
	cst_cli_release(&o);
}

static void test_all_flags(void **state)
{
	(void)state;
	struct cst_options o;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(parse(&o, &err, 25, "test", "-i", "x.tar", "-c", "c.yaml", "-d", "tar", "--metadata", "m.json",
			       "--platform", "linux/arm64", "--no-color", "--save", "--runtime", "runsc", "--junit-suite-name",
			       "s", "-v", "debug", "--jobs", "3", "--timeout", "2.5", "-f"),
			 0);
	assert_int_equal(o.driver, CST_DRIVER_TAR);
	assert_string_equal(o.metadata, "m.json");
	assert_string_equal(o.platform, "linux/arm64");
	assert_true(o.no_color);
	assert_true(o.save);
	assert_string_equal(o.runtime, "runsc");
	assert_string_equal(o.junit_suite_name, "s");
	assert_string_equal(o.verbosity, "debug");
	assert_int_equal(o.jobs, 3);
	assert_true(o.timeout > 2.4 && o.timeout < 2.6);
	assert_true(o.force);
	cst_cli_release(&o);
	assert_int_equal(parse(&o, &err, 10, "test", "-i", "x", "-c", "c", "-d", "tar", "--platform", "all"), 0);
	assert_string_equal(o.platform, "all");
	cst_cli_release(&o);
}

static void test_deprecated_json_flag(void **state)
{
	(void)state;
	struct cst_options o;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(parse(&o, &err, 8, "test", "-i", "x", "-c", "c.yaml", "-j", "-q"), 0);
	assert_string_equal(o.output, "json");
	assert_null(o.network);
	assert_true(o.quiet);
	assert_false(o.shared_container);
	assert_null(o.cache_dir);
	assert_false(o.no_cache);
	cst_cli_release(&o);
}

static void test_speed_flags(void **state)
{
	(void)state;
	struct cst_options o;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(parse(&o, &err, 9, "test", "-i", "x", "-c", "c", "--shared-container", "--cache-dir", "/d"), 0);
	assert_true(o.shared_container);
	assert_string_equal(o.cache_dir, "/d");
	cst_cli_release(&o);
	assert_int_equal(parse(&o, &err, 8, "test", "-i", "x", "-c", "c", "--shared-container=false", "--no-cache"), 0);
	assert_false(o.shared_container);
	assert_true(o.no_cache);
	assert_false(o.network_sandbox);
	assert_false(o.network_per_test);
	cst_cli_release(&o);
	assert_int_equal(parse(&o, &err, 7, "test", "-i", "x", "-c", "c", "--network-per-test"), 0);
	assert_true(o.network_per_test);
	assert_false(o.network_sandbox);
	cst_cli_release(&o);
	assert_int_equal(parse(&o, &err, 8, "test", "-i", "x", "-c", "c", "--network-sandbox",
			       "--network-per-test=false"), 0);
	assert_true(o.network_sandbox);
	assert_false(o.network_per_test);
	cst_cli_release(&o);
}

static void test_registry_flags(void **state)
{
	(void)state;
	struct cst_options o;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(parse(&o, &err, 14, "test", "-i", "docker://r:5000/a:1", "-c", "c", "-d", "tar",
			       "--registry-ca", "/ca.pem", "--insecure-registry", "r:5000", "--insecure-registry",
			       "10.0.0.1"),
			 0);
	assert_string_equal(o.registry_ca, "/ca.pem");
	assert_int_equal(o.n_insecure_registries, 2);
	assert_string_equal(o.insecure_registries[0], "r:5000");
	assert_string_equal(o.insecure_registries[1], "10.0.0.1");
	cst_cli_release(&o);
	assert_int_equal(parse(&o, &err, 8, "test", "-i", "x", "-c", "c", "--insecure-registry", "http://r/"), -1);
	assert_int_equal(err.code, CST_E_USAGE);
	assert_non_null(strstr(err.msg, "--insecure-registry 'http://r/'"));
	cst_error_clear(&err);
	cst_cli_release(&o);
	assert_int_equal(parse(&o, &err, 8, "test", "-i", "x", "-c", "c", "--registry-max-size", "100G"), 0);
	assert_true(o.registry_max_size == (size_t)100 << 30);
	cst_cli_release(&o);
	assert_int_equal(parse(&o, &err, 8, "test", "-i", "x", "-c", "c", "--registry-max-size", "1T"), -1);
	assert_non_null(strstr(err.msg, "invalid value '1T' for --registry-max-size"));
	cst_error_clear(&err);
	cst_cli_release(&o);
}

static void expect_usage_error(const char *needle, int argc, const char **args)
{
	struct cst_options o;
	struct cst_error err = CST_ERROR_INIT;
	char *argv[32] = {(char *)"cst"};
	for (int i = 0; i < argc; i++)
		argv[i + 1] = (char *)args[i];
	assert_int_equal(cst_cli_parse(argc + 1, argv, &o, &err), -1);
	assert_int_equal(err.code, CST_E_USAGE);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' not in '%s'", needle, err.msg);
	cst_error_clear(&err);
	cst_cli_release(&o);
}

#define USAGE(needle, ...)                                                                                             \
	do {                                                                                                           \
		const char *a_[] = {__VA_ARGS__};                                                                            \
		expect_usage_error(needle, (int)(sizeof(a_) / sizeof(a_[0])), a_);                                    \
	} while (0)

static void test_usage_errors(void **state)
{
	(void)state;
	USAGE("--config", "test", "-i", "x");
	USAGE("--image", "test", "-c", "c.yaml");
	USAGE("unsupported driver 'podman'", "test", "-i", "x", "-c", "c", "-d", "podman");
	USAGE("unsupported output format 'xml'", "test", "-i", "x", "-c", "c", "-o", "xml");
	USAGE("unknown flag --bogus", "test", "-i", "x", "-c", "c", "--bogus");
	USAGE("cannot be used together", "test", "-i", "x", "--image-from-oci-layout", "d", "-c", "c");
	USAGE("--pull needs the docker or tar driver", "test", "-i", "x", "-c", "c", "-d", "host", "--pull");
	USAGE("--pull with the tar driver is for registry images", "test", "-i", "x", "-c", "c", "-d", "tar", "--metadata",
	      "m.json", "--pull");
	USAGE("--network needs the docker driver", "test", "-i", "x", "-c", "c", "-d", "tar", "--network", "none");
	USAGE("--shared-container needs the docker driver", "test", "-i", "x", "-c", "c", "-d", "tar",
	      "--shared-container");
	USAGE("--network-sandbox and --network-per-test cannot be used together", "test", "-i", "x", "-c", "c",
	      "--network-sandbox", "--network-per-test");
	USAGE("--network-per-test needs the docker driver", "test", "-i", "x", "-c", "c", "-d", "tar",
	      "--network-per-test");
	USAGE("--cache-dir and --no-cache", "test", "-i", "x", "-c", "c", "--cache-dir", "d", "--no-cache");
	USAGE("--cache-dir needs a directory", "test", "-i", "x", "-c", "c", "--cache-dir=");
	USAGE("--jobs", "test", "-i", "x", "-c", "c", "--jobs", "0");
	USAGE("--timeout", "test", "-i", "x", "-c", "c", "--timeout", "-1");
	USAGE("invalid platform", "test", "-i", "x", "-c", "c", "--platform", "amd64");
	USAGE("--platform all needs an image index", "test", "-i", "x", "-c", "c", "--platform", "all");
	USAGE("--platform all needs an image index", "test", "--image-from-oci-layout", "d", "-c", "c", "--platform",
	      "all");
	USAGE("--pull and --platform all cannot be used together", "test", "-i", "x", "-c", "c", "-d", "tar",
	      "--platform", "all", "--pull");
	USAGE("needs a value", "test", "-i", "x", "-c");
	USAGE("expected true or false", "test", "-i", "x", "-c", "c", "--pull=maybe");
	USAGE("unknown command 'tset': did you mean 'cst test'?", "tset");
	USAGE("unknown command 'vaildate': did you mean 'cst validate'?", "vaildate");
	USAGE("unknown command 'frobnicate' (see 'cst --help')", "frobnicate");
	USAGE("unknown flag --confg: did you mean --config?", "test", "-i", "x", "--confg", "c");
	USAGE("unknown flag --imgae: did you mean --image?", "test", "--imgae=x", "-c", "c");
	USAGE("unknown flag --bogus (see 'cst test --help')", "test", "-i", "x", "-c", "c", "--bogus");
	USAGE("unknown flag --confg: did you mean --config? (see 'cst validate --help')", "validate", "--confg", "c");
	USAGE("invalid verbosity", "test", "-i", "x", "-c", "c", "-v", "loud");
}

static void test_max_output_sizes(void **state)
{
	(void)state;
	static const struct {
		const char *arg;
		size_t want;
	} ok[] = {{"1", 1}, {"4096", 4096}, {"64K", 64 << 10}, {"256M", (size_t)256 << 20},
		  {"1G", (size_t)1 << 30}, {"3MiB", (size_t)3 << 20}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct cst_options o;
		struct cst_error err = CST_ERROR_INIT;
		assert_int_equal(parse(&o, &err, 8, "test", "-i", "x", "-c", "c", "--max-output", ok[i].arg), 0);
		assert_int_equal(o.max_output, ok[i].want);
		cst_cli_release(&o);
	}
	struct cst_options o;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(parse(&o, &err, 6, "test", "-i", "x", "-c", "c"), 0);
	assert_int_equal(o.max_output, 0); /* the default applies */
	cst_cli_release(&o);
	USAGE("--max-output", "test", "-i", "x", "-c", "c", "--max-output", "0");
	USAGE("--max-output", "test", "-i", "x", "-c", "c", "--max-output", "-5M");
	USAGE("--max-output", "test", "-i", "x", "-c", "c", "--max-output", "12T");
	USAGE("--max-output", "test", "-i", "x", "-c", "c", "--max-output", "1Mb");
	USAGE("--max-output", "test", "-i", "x", "-c", "c", "--max-output", "99999999999999999999");

	/* --cache-max takes the same sizes. */
	assert_int_equal(parse(&o, &err, 8, "test", "-i", "x", "-c", "c", "--cache-max", "2G"), 0);
	assert_int_equal(o.cache_max, (size_t)2 << 30);
	cst_cli_release(&o);
	USAGE("--cache-max", "test", "-i", "x", "-c", "c", "--cache-max", "0");
	USAGE("--cache-max", "test", "-i", "x", "-c", "c", "--cache-max", "1Mb");
}

static void test_subcommands(void **state)
{
	(void)state;
	struct cst_options o;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(parse(&o, &err, 2, "version"), 0);
	assert_int_equal(o.command, CST_CMD_VERSION);
	assert_int_equal(parse(&o, &err, 2, "--help"), 0);
	assert_int_equal(o.command, CST_CMD_HELP);
	assert_int_equal(parse(&o, &err, 3, "test", "--help"), 0);
	assert_int_equal(o.command, CST_CMD_HELP);
	assert_string_equal(o.help_topic, "test");
	assert_int_equal(parse(&o, &err, 4, "validate", "a.yaml", "b.json"), 0);
	assert_int_equal(o.command, CST_CMD_VALIDATE);
	assert_int_equal(o.n_configs, 2);
	cst_cli_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cst_style_command_line),
		cmocka_unit_test(test_all_flags),
		cmocka_unit_test(test_deprecated_json_flag),
		cmocka_unit_test(test_speed_flags),
		cmocka_unit_test(test_registry_flags),
		cmocka_unit_test(test_max_output_sizes),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_subcommands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
