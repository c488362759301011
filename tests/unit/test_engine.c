/* The engine driver's parsers, without an engine: log stream frames,
 * DOCKER_HOST, API version negotiation, error replies, env files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "cst/engine/client.h"
#include "cst/engine/context.h"
#include "cst/sha256.h"

/* One frame: header for stream, then payload. */
static void frame(struct cst_buf *b, int stream, const void *p, size_t n)
{
	unsigned char h[8] = {(unsigned char)stream, 0, 0, 0, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
			      (unsigned char)(n >> 8), (unsigned char)n};
	assert_int_equal(cst_buf_append(b, h, 8), 0);
	assert_int_equal(cst_buf_append(b, p, n), 0);
}

/* Feeds the stream in pieces of `step` bytes (0: one byte, then growing). */
static void feed_in_pieces(struct dk_demux *dm, const struct cst_buf *in, size_t step)
{
	size_t off = 0;
	size_t n = step ? step : 1;
	while (off < in->len) {
		size_t take = in->len - off < n ? in->len - off : n;
		assert_int_equal(dk_demux_write_cb(in->data + off, 1, take, dm), take);
		off += take;
		if (!step)
			n = n * 3 + 1;
	}
}

static void test_demux_split_anywhere(void **state)
{
	(void)state;
	struct cst_buf in = CST_BUF_INIT;
	frame(&in, 1, "hello ", 6);
	frame(&in, 2, "oops\n", 5);
	frame(&in, 1, "", 0);
	frame(&in, 1, "world\n", 6);
	frame(&in, 2, "again\n", 6);
	/* Every split point, including inside headers, gives the same result. */
	for (size_t step = 0; step <= in.len; step++) {
		struct cst_buf out = CST_BUF_INIT, err = CST_BUF_INIT;
		struct dk_demux dm;
		dk_demux_init(&dm, &out, &err, false);
		feed_in_pieces(&dm, &in, step);
		assert_false(dk_demux_partial(&dm));
		assert_int_equal(out.len, 12);
		assert_memory_equal(out.data, "hello world\n", 12);
		assert_string_equal(err.data, "oops\nagain\n");
		cst_buf_release(&out);
		cst_buf_release(&err);
	}
	cst_buf_release(&in);
}

static void test_demux_large_binary(void **state)
{
	(void)state;
	size_t n = 3u << 20;
	unsigned char *payload = malloc(n);
	assert_non_null(payload);
	for (size_t i = 0; i < n; i++)
		payload[i] = (unsigned char)(i * 7 + (i >> 11));
	struct cst_buf in = CST_BUF_INIT;
	frame(&in, 1, payload, n);          /* one frame larger than any callback */
	frame(&in, 2, payload, 70000);
	frame(&in, 1, payload + 5, 1);

	struct cst_buf out = CST_BUF_INIT, err = CST_BUF_INIT;
	struct dk_demux dm;
	dk_demux_init(&dm, &out, &err, false);
	feed_in_pieces(&dm, &in, 16384);
	assert_int_equal(out.len, n + 1);
	assert_memory_equal(out.data, payload, n);
	assert_int_equal((unsigned char)out.data[n], payload[5]);
	assert_int_equal(err.len, 70000);
	assert_memory_equal(err.data, payload, 70000);
	cst_buf_release(&out);
	cst_buf_release(&err);
	cst_buf_release(&in);
	free(payload);
}

static void test_demux_cap_truncates(void **state)
{
	(void)state;
	struct cst_buf in = CST_BUF_INIT;
	char big[5000];
	memset(big, 'x', sizeof(big));
	frame(&in, 1, big, sizeof(big));
	frame(&in, 2, "still here", 10);
	frame(&in, 1, big, sizeof(big));

	struct cst_buf out, err;
	cst_buf_init(&out, 4096);
	cst_buf_init(&err, 4096);
	struct dk_demux dm;
	dk_demux_init(&dm, &out, &err, false);
	feed_in_pieces(&dm, &in, 777);
	/* Past the cap output is dropped, not the framing: stderr after a
	 * truncated stdout frame still arrives. */
	assert_int_equal(out.len, 4096);
	assert_true(out.truncated);
	assert_string_equal(err.data, "still here");
	assert_false(err.truncated);
	assert_false(dk_demux_partial(&dm));
	cst_buf_release(&out);
	cst_buf_release(&err);
	cst_buf_release(&in);
}

static void test_demux_tty_is_raw(void **state)
{
	(void)state;
	struct cst_buf out = CST_BUF_INIT, err = CST_BUF_INIT;
	struct dk_demux dm;
	dk_demux_init(&dm, &out, &err, true);
	/* Bytes that would be a frame header are plain output with a TTY. */
	const char raw[] = "\x01\x00\x00\x00\x00\x00\x00\x03" "abc\r\n";
	assert_int_equal(dk_demux_feed(&dm, raw, sizeof(raw) - 1), 0);
	assert_int_equal(out.len, sizeof(raw) - 1);
	assert_memory_equal(out.data, raw, sizeof(raw) - 1);
	assert_int_equal(err.len, 0);
	assert_false(dk_demux_partial(&dm));
	cst_buf_release(&out);
	cst_buf_release(&err);
}

static void test_demux_bad_and_partial(void **state)
{
	(void)state;
	struct cst_buf out = CST_BUF_INIT, err = CST_BUF_INIT;
	struct dk_demux dm;
	dk_demux_init(&dm, &out, &err, false);
	assert_int_equal(dk_demux_feed(&dm, "\x01\x00\x00\x00\x00\x00\x00\x05" "ab", 10), 0);
	assert_true(dk_demux_partial(&dm));
	assert_string_equal(out.data, "ab");

	dk_demux_init(&dm, &out, &err, false);
	assert_int_equal(dk_demux_feed(&dm, "hello world", 11), -1);
	assert_true(dm.bad);
	assert_int_equal(dk_demux_write_cb((char *)"more", 1, 4, &dm), 0);
	cst_buf_release(&out);
	cst_buf_release(&err);
}

static void test_endpoint_unix(void **state)
{
	(void)state;
	struct dk_endpoint ep;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(dk_endpoint_parse(NULL, NULL, NULL, "/home/u", &ep, &err), 0);
	assert_string_equal(ep.socket_path, "/var/run/docker.sock");
	assert_string_equal(ep.base_url, "http://localhost");
	assert_false(ep.tls);
	dk_endpoint_release(&ep);

	assert_int_equal(dk_endpoint_parse("unix:///run/user/1000/docker.sock", NULL, NULL, NULL, &ep, &err), 0);
	assert_string_equal(ep.socket_path, "/run/user/1000/docker.sock");
	dk_endpoint_release(&ep);
}

static void test_endpoint_tcp(void **state)
{
	(void)state;
	struct dk_endpoint ep;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(dk_endpoint_parse("tcp://10.0.0.5:2375", "", NULL, NULL, &ep, &err), 0);
	assert_null(ep.socket_path);
	assert_string_equal(ep.base_url, "http://10.0.0.5:2375");
	assert_false(ep.tls);
	dk_endpoint_release(&ep);

	assert_int_equal(dk_endpoint_parse("tcp://engine.example", NULL, NULL, NULL, &ep, &err), 0);
	assert_string_equal(ep.base_url, "http://engine.example:2375");
	dk_endpoint_release(&ep);

	assert_int_equal(dk_endpoint_parse("tcp://[::1]:2376/", "1", "/certs", NULL, &ep, &err), 0);
	assert_string_equal(ep.base_url, "https://[::1]:2376");
	assert_true(ep.tls);
	assert_true(ep.verify);
	assert_string_equal(ep.ca, "/certs/ca.pem");
	dk_endpoint_release(&ep);

	/* A cert path alone means TLS without checking the engine's name,
	 * as the docker CLI does it; the port defaults to 2376 then. */
	assert_int_equal(dk_endpoint_parse("tcp://engine", NULL, "/nonexistent", NULL, &ep, &err), 0);
	assert_string_equal(ep.base_url, "https://engine:2376");
	assert_true(ep.tls);
	assert_false(ep.verify);
	assert_null(ep.ca);
	assert_null(ep.cert);
	dk_endpoint_release(&ep);
}

static void test_endpoint_errors(void **state)
{
	(void)state;
	struct dk_endpoint ep;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(dk_endpoint_parse("npipe:////./pipe/docker_engine", NULL, NULL, NULL, &ep, &err), -1);
	assert_int_equal(err.code, CST_E_ENGINE);
	assert_non_null(strstr(err.msg, "npipe://"));
	cst_error_clear(&err);
	assert_int_equal(dk_endpoint_parse("ssh://host:", NULL, NULL, NULL, &ep, &err), -1);
	cst_error_clear(&err);
	assert_int_equal(dk_endpoint_parse("ssh://@host", NULL, NULL, NULL, &ep, &err), -1);
	cst_error_clear(&err);
	assert_int_equal(dk_endpoint_parse("ssh://-oProxyCommand=x", NULL, NULL, NULL, &ep, &err), -1);
	cst_error_clear(&err);
	assert_int_equal(dk_endpoint_parse("ssh://me:secret@host", NULL, NULL, NULL, &ep, &err), -1);
	assert_non_null(strstr(err.msg, "password"));
	cst_error_clear(&err);
	assert_int_equal(dk_endpoint_parse("tcp://host:", NULL, NULL, NULL, &ep, &err), -1);
	cst_error_clear(&err);
	assert_int_equal(dk_endpoint_parse("tcp://host:12ab", NULL, NULL, NULL, &ep, &err), -1);
	cst_error_clear(&err);
	assert_int_equal(dk_endpoint_parse("localhost:2375", NULL, NULL, NULL, &ep, &err), -1);
	cst_error_clear(&err);
}

static void test_endpoint_ssh(void **state)
{
	(void)state;
	struct dk_endpoint ep;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(dk_endpoint_parse("ssh://me@build-1:2222/ignored", "1", NULL, NULL, &ep, &err), 0);
	assert_string_equal(ep.ssh_host, "build-1");
	assert_string_equal(ep.ssh_user, "me");
	assert_string_equal(ep.ssh_port, "2222");
	assert_string_equal(ep.ssh_url, "ssh://me@build-1:2222");
	assert_null(ep.socket_path);
	assert_false(ep.tls);
	dk_endpoint_release(&ep);
	assert_int_equal(dk_endpoint_parse("ssh://[::1]", NULL, NULL, NULL, &ep, &err), 0);
	assert_string_equal(ep.ssh_host, "::1");
	assert_null(ep.ssh_user);
	assert_null(ep.ssh_port);
	dk_endpoint_release(&ep);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_context_resolution(void **state)
{
	(void)state;
	char hex[65];
	cst_sha256_hex("reachctx", 8, hex);
	assert_string_equal(hex, "c865534f68eacf83d2bdf6e9b0f76f5a74d2291bb48c45eb0e069a5a86e3b5e2");
	cst_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	char dir[] = "/tmp/cst-ctx-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[512], cmd[600];
	cst_sha256_hex("remote", 6, hex);
	snprintf(path, sizeof(path), "%s/contexts/meta/%s", dir, hex);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", path);
	assert_int_equal(system(cmd), 0);
	strcat(path, "/meta.json");
	write_text(path, "{\"Name\":\"remote\",\"Endpoints\":{\"docker\":{\"Host\":\"tcp://engine:2376\","
			 "\"SkipTLSVerify\":true}}}");

	struct dk_resolve_env env = {.docker_config = dir, .default_socket = "/nonexistent/docker.sock"};
	struct dk_endpoint ep;
	struct cst_error err = CST_ERROR_INIT;

	/* Nothing set: the default socket, even when absent and no rootless one. */
	assert_int_equal(dk_endpoint_resolve(&env, &ep, &err), 0);
	assert_string_equal(ep.socket_path, "/nonexistent/docker.sock");
	assert_string_equal(ep.source, "default");
	dk_endpoint_release(&ep);

	/* A rootless engine's socket when the default one is absent. */
	char xdg[64];
	snprintf(xdg, sizeof(xdg), "%s/run", dir);
	assert_int_equal(mkdir(xdg, 0700), 0);
	env.xdg_runtime_dir = xdg;
	assert_int_equal(dk_endpoint_resolve(&env, &ep, &err), 0);
	assert_string_equal(ep.socket_path, "/nonexistent/docker.sock"); /* no socket there yet */
	dk_endpoint_release(&ep);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/docker.sock", xdg);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(dk_endpoint_resolve(&env, &ep, &err), 0);
	assert_string_equal(ep.socket_path, sa.sun_path);
	assert_non_null(strstr(ep.source, "rootless"));
	dk_endpoint_release(&ep);
	close(fd);
	env.xdg_runtime_dir = NULL;

	/* A context by DOCKER_CONTEXT: SkipTLSVerify alone is TLS unverified. */
	env.docker_context = "remote";
	assert_int_equal(dk_endpoint_resolve(&env, &ep, &err), 0);
	assert_string_equal(ep.base_url, "https://engine:2376");
	assert_true(ep.tls);
	assert_false(ep.verify);
	assert_string_equal(ep.source, "context remote, DOCKER_CONTEXT");
	dk_endpoint_release(&ep);

	/* DOCKER_HOST wins over any context. */
	env.docker_host = "tcp://other:2375";
	assert_int_equal(dk_endpoint_resolve(&env, &ep, &err), 0);
	assert_string_equal(ep.base_url, "http://other:2375");
	assert_string_equal(ep.source, "DOCKER_HOST");
	dk_endpoint_release(&ep);
	env.docker_host = NULL;

	/* currentContext when DOCKER_CONTEXT is unset; DOCKER_CONTEXT wins. */
	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_text(path, "{\"currentContext\":\"remote\"}");
	env.docker_context = NULL;
	assert_int_equal(dk_endpoint_resolve(&env, &ep, &err), 0);
	assert_string_equal(ep.base_url, "https://engine:2376");
	assert_non_null(strstr(ep.source, "currentContext in"));
	dk_endpoint_release(&ep);
	env.docker_context = "default";
	assert_int_equal(dk_endpoint_resolve(&env, &ep, &err), 0);
	assert_non_null(ep.socket_path);
	dk_endpoint_release(&ep);

	/* Unknown names and broken TLS files are errors. */
	env.docker_context = "nope";
	assert_int_equal(dk_endpoint_resolve(&env, &ep, &err), -1);
	assert_int_equal(err.code, CST_E_ENGINE);
	assert_non_null(strstr(err.msg, "context 'nope' not found"));
	cst_error_clear(&err);
	snprintf(path, sizeof(path), "%s/contexts/tls/%s/docker", dir, hex);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", path);
	assert_int_equal(system(cmd), 0);
	strcat(path, "/ca.pem");
	write_text(path, "not a certificate\n");
	env.docker_context = "remote";
	assert_int_equal(dk_endpoint_resolve(&env, &ep, &err), -1);
	assert_non_null(strstr(err.msg, "is not PEM"));
	cst_error_clear(&err);

	/* A malformed config.json names itself. */
	env.docker_context = NULL;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_text(path, "{");
	assert_int_equal(dk_endpoint_resolve(&env, &ep, &err), -1);
	assert_non_null(strstr(err.msg, "config.json"));
	cst_error_clear(&err);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_version_negotiation(void **state)
{
	(void)state;
	char v[16];
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(dk_version_cmp("1.9", "1.41"), -1);
	assert_int_equal(dk_version_cmp("1.41", "1.41"), 0);
	assert_int_equal(dk_version_cmp("2.0", "1.41"), 1);

	assert_int_equal(dk_api_version_pick("1.50", NULL, v, &err), 0);
	assert_string_equal(v, DK_API_MAX);
	assert_int_equal(dk_api_version_pick("1.40", NULL, v, &err), 0);
	assert_string_equal(v, "1.40");
	assert_int_equal(dk_api_version_pick("1.50", "1.38", v, &err), 0);
	assert_string_equal(v, "1.38");
	assert_int_equal(dk_api_version_pick("1.41", "v1.30", v, &err), 0);
	assert_string_equal(v, "1.30");
	assert_int_equal(dk_api_version_pick("1.12", NULL, v, &err), -1);
	assert_non_null(strstr(err.msg, "1.12"));
	cst_error_clear(&err);
	assert_int_equal(dk_api_version_pick(NULL, NULL, v, &err), -1); /* no header: too old */
	cst_error_clear(&err);
	assert_int_equal(dk_api_version_pick("1.41", "latest", v, &err), -1);
	cst_error_clear(&err);
	assert_int_equal(dk_api_version_pick("garbage", NULL, v, &err), -1);
	cst_error_clear(&err);
}

static void test_ping_header(void **state)
{
	(void)state;
	char v[32];
	const char *h = "Api-Version: 1.41\r\n";
	assert_true(dk_header_value(h, strlen(h), "Api-Version", v, sizeof(v)));
	assert_string_equal(v, "1.41");
	h = "api-version:1.43 \r\n";
	assert_true(dk_header_value(h, strlen(h), "Api-Version", v, sizeof(v)));
	assert_string_equal(v, "1.43");
	h = "Api-Versions: 1\r\n";
	assert_false(dk_header_value(h, strlen(h), "Api-Version", v, sizeof(v)));
	h = "HTTP/1.1 200 OK\r\n";
	assert_false(dk_header_value(h, strlen(h), "Api-Version", v, sizeof(v)));
}

static void test_error_message(void **state)
{
	(void)state;
	const char *body = "{\"message\":\"No such image: cst-test/nope:1\"}\n";
	char *m = dk_error_message(body, strlen(body), 404);
	assert_string_equal(m, "No such image: cst-test/nope:1");
	free(m);
	body = "{\"message\":\"no such image: nosuch:1: No such image: nosuch:1\"}";
	m = dk_error_message(body, strlen(body), 404);
	assert_string_equal(m, "no such image: nosuch:1");
	free(m);
	body = "{\"message\":\"a: a: b\"}";
	m = dk_error_message(body, strlen(body), 500);
	assert_string_equal(m, "a: a: b");
	free(m);
	body = "page not found\n";
	m = dk_error_message(body, strlen(body), 404);
	assert_string_equal(m, "page not found");
	free(m);
	m = dk_error_message("", 0, 500);
	assert_string_equal(m, "HTTP status 500");
	free(m);
	body = "{\"other\":1}";
	m = dk_error_message(body, strlen(body), 409);
	assert_string_equal(m, "HTTP status 409");
	free(m);
}

static void test_base64(void **state)
{
	(void)state;
	char *e = dk_base64_encode("user:pa?s>", 10, false);
	assert_string_equal(e, "dXNlcjpwYT9zPg==");
	free(e);
	e = dk_base64_encode("user:pa?s>", 10, true);
	assert_string_equal(e, "dXNlcjpwYT9zPg==");
	free(e);
	e = dk_base64_encode("\xfb\xff", 2, true);
	assert_string_equal(e, "-_8=");
	free(e);
	struct cst_buf b = CST_BUF_INIT;
	assert_int_equal(dk_base64_decode("dXNlcjpwYT9zPg==", &b), 0);
	assert_string_equal(b.data, "user:pa?s>");
	cst_buf_reset(&b);
	assert_int_equal(dk_base64_decode("not base64!", &b), -1);
	cst_buf_release(&b);
}

static void test_references(void **state)
{
	(void)state;
	static const char *const cases[][3] = {
		{"busybox", "busybox", "latest"},
		{"cst-test/busybox:1", "cst-test/busybox", "1"},
		{"localhost:5000/app", "localhost:5000/app", "latest"},
		{"localhost:5000/app:v2", "localhost:5000/app", "v2"},
		{"app@sha256:abcd", "app", "sha256:abcd"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *name, *tag;
		assert_int_equal(dk_split_reference(cases[i][0], &name, &tag), 0);
		assert_string_equal(name, cases[i][1]);
		assert_string_equal(tag, cases[i][2]);
		free(name);
		free(tag);
	}
}

/* The X-Registry-Auth value decoded back to its JSON. */
static json_t *auth_for(const char *config, const char *image)
{
	char *hdr = NULL;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(dk_registry_auth(config, image, &hdr, &err), 0);
	if (!hdr)
		return NULL;
	struct cst_buf b = CST_BUF_INIT;
	assert_int_equal(dk_base64_decode(hdr, &b), 0);
	free(hdr);
	json_t *j = json_loadb(b.data, b.len, 0, NULL);
	assert_non_null(j);
	cst_buf_release(&b);
	return j;
}

static void test_registry_auth(void **state)
{
	(void)state;
	const char *config = "{\"auths\": {"
			     "\"https://index.docker.io/v1/\": {\"auth\": \"aHViOnNlY3JldA==\"},"
			     "\"localhost:5000\": {\"username\": \"me\", \"password\": \"pw\"},"
			     "\"https://reg.example.com/v2/\": {\"identitytoken\": \"tok\"}}}";
	json_t *j = auth_for(config, "library/busybox:1");
	assert_string_equal(json_string_value(json_object_get(j, "username")), "hub");
	assert_string_equal(json_string_value(json_object_get(j, "password")), "secret");
	json_decref(j);
	j = auth_for(config, "localhost:5000/app:1");
	assert_string_equal(json_string_value(json_object_get(j, "username")), "me");
	assert_string_equal(json_string_value(json_object_get(j, "serveraddress")), "localhost:5000");
	json_decref(j);
	j = auth_for(config, "reg.example.com/team/app");
	assert_string_equal(json_string_value(json_object_get(j, "identitytoken")), "tok");
	json_decref(j);
	assert_null(auth_for(config, "other.example.org/app"));

	char *hdr = NULL;
	struct cst_error err = CST_ERROR_INIT;
	assert_int_equal(dk_registry_auth("{not json", "app", &hdr, &err), -1);
	cst_error_clear(&err);
	assert_int_equal(dk_registry_auth("{\"auths\":{\"docker.io\":{\"auth\":\"bm9jb2xvbg==\"}}}", "app", &hdr, &err), -1);
	assert_non_null(strstr(err.msg, "malformed"));
	cst_error_clear(&err);
}

/* Which networks sandboxes stand in for, and which tests may join one:
 * a test that can change the network namespace keeps a network of its
 * own, as every test has under CST. */
static void test_sandbox_rules(void **state)
{
	(void)state;
	assert_true(dk_sandbox_network_ok(NULL));
	assert_true(dk_sandbox_network_ok(""));
	assert_true(dk_sandbox_network_ok("bridge"));
	assert_true(dk_sandbox_network_ok("my-net"));
	assert_false(dk_sandbox_network_ok("none"));
	assert_false(dk_sandbox_network_ok("host"));
	assert_false(dk_sandbox_network_ok("container:abc"));

	assert_true(dk_sandbox_may_join(NULL));
	struct cst_run_options o = {0};
	o.privileged = true; /* not given: no run options at all */
	assert_true(dk_sandbox_may_join(&o));
	o.present = true;
	assert_false(dk_sandbox_may_join(&o));
	o.privileged = false;
	assert_true(dk_sandbox_may_join(&o));
	char net_admin[] = "NET_ADMIN";
	struct cst_str caps[] = {{.s = NULL}, {.s = net_admin, .len = 9}};
	o.capabilities.v = caps;
	o.capabilities.n = 1; /* an entry without a value adds nothing */
	assert_true(dk_sandbox_may_join(&o));
	o.capabilities.n = 2;
	assert_false(dk_sandbox_may_join(&o));
	o.user.s = net_admin; /* user and the rest do not matter */
	o.capabilities.n = 0;
	assert_true(dk_sandbox_may_join(&o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demux_split_anywhere),
		cmocka_unit_test(test_demux_large_binary),
		cmocka_unit_test(test_demux_cap_truncates),
		cmocka_unit_test(test_demux_tty_is_raw),
		cmocka_unit_test(test_demux_bad_and_partial),
		cmocka_unit_test(test_endpoint_unix),
		cmocka_unit_test(test_endpoint_tcp),
		cmocka_unit_test(test_endpoint_errors),
		cmocka_unit_test(test_endpoint_ssh),
		cmocka_unit_test(test_context_resolution),
		cmocka_unit_test(test_version_negotiation),
		cmocka_unit_test(test_ping_header),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_references),
		cmocka_unit_test(test_registry_auth),
		cmocka_unit_test(test_sandbox_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
