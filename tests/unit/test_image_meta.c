/* cst_image_meta_from_json on the three shapes an image config comes in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "cst/image.h"

static int parse(const char *text, struct cst_image_meta *m, struct cst_error *err)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	if (!j)
		fail_msg("bad test JSON: %s", jerr.text);
	int r = cst_image_meta_from_json(j, "test-config", m, err);
	json_decref(j);
	return r;
}

static void parse_ok(const char *text, struct cst_image_meta *m)
{
	struct cst_error err = CST_ERROR_INIT;
	if (parse(text, m, &err) < 0)
		fail_msg("parse: %s", err.msg);
}

static void test_oci_config(void **state)
{
	(void)state;
	struct cst_image_meta m;
	parse_ok("{\"architecture\":\"arm64\",\"os\":\"linux\",\"config\":{"
		 "\"Env\":[\"PATH=/bin\",\"A=1\",\"A=2\"],\"Entrypoint\":[\"/init\"],\"Cmd\":null,"
		 "\"WorkingDir\":\"/app\",\"User\":\"app\",\"ExposedPorts\":{\"8080/tcp\":{},\"53/udp\":{}},"
		 "\"Volumes\":{\"/data\":{}},\"Labels\":{\"k\":\"v\",\"empty\":\"\"}},"
		 "\"container_config\":{\"Cmd\":[\"ignored\"]}}",
		 &m);
	assert_int_equal(m.env.n, 3);
	assert_string_equal(cst_env_get(&m.env, "A", 1), "2");
	assert_true(m.has_entrypoint);
	assert_int_equal(m.n_entrypoint, 1);
	assert_string_equal(m.entrypoint[0], "/init");
	assert_false(m.has_cmd);
	assert_int_equal(m.n_cmd, 0);
	assert_string_equal(m.workdir, "/app");
	assert_string_equal(m.user, "app");
	assert_string_equal(m.os, "linux");
	assert_string_equal(m.architecture, "arm64");
	assert_int_equal(m.n_exposed_ports, 2);
	assert_int_equal(m.n_volumes, 1);
	assert_int_equal(m.n_labels, 2);
	bool found = false;
	for (size_t i = 0; i < m.n_labels; i++) {
		if (strcmp(m.label_keys[i], "empty") == 0) {
			assert_string_equal(m.label_values[i], "");
			found = true;
		}
	}
	assert_true(found);
	cst_image_meta_release(&m);
}

static void test_inspect_reply(void **state)
{
	(void)state;
	struct cst_image_meta m;
	parse_ok("{\"Id\":\"sha256:x\",\"Os\":\"linux\",\"Architecture\":\"amd64\","
		 "\"ContainerConfig\":{\"Cmd\":[\"nope\"]},"
		 "\"Config\":{\"Env\":null,\"Cmd\":[],\"Entrypoint\":[\"sh\",\"-c\"],\"WorkingDir\":\"\","
		 "\"Labels\":null,\"ExposedPorts\":null}}",
		 &m);
	assert_int_equal(m.env.n, 0);
	/* [] is set and empty: a metadata test can require "no Cmd". */
	assert_true(m.has_cmd);
	assert_int_equal(m.n_cmd, 0);
	assert_int_equal(m.n_entrypoint, 2);
	assert_string_equal(m.workdir, "");
	assert_string_equal(m.user, "");
	assert_string_equal(m.architecture, "amd64");
	assert_int_equal(m.n_labels, 0);
	assert_int_equal(m.n_exposed_ports, 0);
	cst_image_meta_release(&m);
}

static void test_bare_config(void **state)
{
	(void)state;
	struct cst_image_meta m;
	parse_ok("{\"Env\":[\"X=y\"],\"Cmd\":\"echo hi\",\"User\":\"1000\"}", &m);
	assert_int_equal(m.env.n, 1);
	/* A string Cmd is a one-element list, as the Engine reads it. */
	assert_true(m.has_cmd);
	assert_int_equal(m.n_cmd, 1);
	assert_string_equal(m.cmd[0], "echo hi");
	assert_false(m.has_entrypoint);
	assert_string_equal(m.user, "1000");
	assert_string_equal(m.os, "");
	cst_image_meta_release(&m);

	parse_ok("{\"config\":null,\"os\":\"linux\"}", &m);
	assert_false(m.has_cmd);
	assert_string_equal(m.os, "linux");
	cst_image_meta_release(&m);
}

static void test_type_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"[]",
		"{\"config\":{\"Env\":\"A=1\"}}",
		"{\"config\":{\"Env\":[1]}}",
		"{\"config\":{\"Cmd\":{}}}",
		"{\"config\":{\"Labels\":{\"a\":1}}}",
		"{\"config\":{\"ExposedPorts\":[\"80\"]}}",
		"{\"config\":{\"User\":5}}",
		"{\"config\":{},\"os\":[]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cst_image_meta m;
		struct cst_error err = CST_ERROR_INIT;
		if (parse(bad[i], &m, &err) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(err.code, CST_E_IMAGE);
		assert_non_null(strstr(err.msg, "test-config"));
		cst_error_clear(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oci_config),
		cmocka_unit_test(test_inspect_reply),
		cmocka_unit_test(test_bare_config),
		cmocka_unit_test(test_type_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
