/* Registry references and transport names, as the docker CLI and
 * containers-transports(5) read them, and the bad ones refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cst/image.h"
#include "cst/registry/registry-internal.h"

static void check_ref(const char *s, const char *host, const char *api, const char *repo, const char *tag,
		      const char *digest)
{
	struct reg_ref r;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(reg_ref_parse(s, &r, &err), 0);
	assert_string_equal(r.host, host);
	assert_string_equal(r.api_host, api);
	assert_string_equal(r.repo, repo);
	if (tag)
		assert_string_equal(r.tag, tag);
	else
		assert_null(r.tag);
	if (digest)
		assert_string_equal(r.digest, digest);
	else
		assert_null(r.digest);
	reg_ref_release(&r);
}

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_references(void **state)
{
	(void)state;
	check_ref("busybox", "docker.io", "registry-1.docker.io", "library/busybox", "latest", NULL);
	check_ref("org/app:1.2", "docker.io", "registry-1.docker.io", "org/app", "1.2", NULL);
	check_ref("127.0.0.1:5000/app", "127.0.0.1:5000", "127.0.0.1:5000", "app", "latest", NULL);
	check_ref("localhost/a/b:x", "localhost", "localhost", "a/b", "x", NULL);
	check_ref("reg.example.com/a@sha256:" D64, "reg.example.com", "reg.example.com", "a", NULL, "sha256:" D64);
	check_ref("reg.example.com:443/a:t@sha256:" D64, "reg.example.com:443", "reg.example.com:443", "a", "t",
		  "sha256:" D64);
}

static void test_bad_references(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"UPPER/case",          "reg.example.com/a@sha256:abc", "reg.example.com/a@md5:" D64,
		"reg.example.com/a/../b", "reg.example.com//a",        "reg.example.com/a:bad tag",
		"reg.example.com/a:",  "a b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct reg_ref r;
		struct cst_error err = CST_ERROR_INIT;
		assert_int_equal(reg_ref_parse(bad[i], &r, &err), -1);
		assert_int_equal(err.code, CST_E_USAGE);
		assert_non_null(strstr(err.msg, bad[i]));
		cst_error_clear(&err);
	}
}

static void check_name(const char *s, enum cst_image_transport t, const char *target, const char *ref)
{
	struct cst_image_name n;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(cst_image_name_parse(s, &n, &err), 0);
	assert_int_equal(n.transport, t);
	assert_string_equal(n.target, target);
	if (ref)
		assert_string_equal(n.ref, ref);
	else
		assert_null(n.ref);
	cst_image_name_release(&n);
}

static void test_transport_names(void **state)
{
	(void)state;
	check_name("docker://reg:5000/app:1", CST_TRANSPORT_REGISTRY, "reg:5000/app:1", NULL);
	check_name("docker-daemon:app:1", CST_TRANSPORT_DAEMON, "app:1", NULL);
	check_name("docker-archive:/tmp/a.tar", CST_TRANSPORT_ARCHIVE, "/tmp/a.tar", NULL);
	check_name("oci:/srv/layout", CST_TRANSPORT_OCI, "/srv/layout", NULL);
	check_name("oci:/srv/layout:app-1.0", CST_TRANSPORT_OCI, "/srv/layout", "app-1.0");
	check_name("oci-archive:img.tar:v2", CST_TRANSPORT_OCI_ARCHIVE, "img.tar", "v2");
	/* Plain names, a registry host with a port among them. */
	check_name("localhost:5000/app:1", CST_TRANSPORT_NONE, "localhost:5000/app:1", NULL);
	check_name("image.tar", CST_TRANSPORT_NONE, "image.tar", NULL);
	check_name("ocifoo:1", CST_TRANSPORT_NONE, "ocifoo:1", NULL);
}

static void test_bad_transport_names(void **state)
{
	(void)state;
	static const char *const bad[] = {"docker://", "oci:", "oci::ref", "docker-archive:a.tar:some/ref:1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cst_image_name n;
		struct cst_error err = CST_ERROR_INIT;
		assert_int_equal(cst_image_name_parse(bad[i], &n, &err), -1);
		assert_int_equal(err.code, CST_E_USAGE);
		assert_non_null(strstr(err.msg, bad[i]));
		cst_error_clear(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_references),
		cmocka_unit_test(test_bad_references),
		cmocka_unit_test(test_transport_names),
		cmocka_unit_test(test_bad_transport_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
