/* The Engine API reply parsers and the other text the engine driver reads
 * from outside: the first byte picks the parser, the rest is its input
 * (NUL-separated parts where a parser takes several strings). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cst/engine/client.h"
#include "cst/image.h"
#include "fuzz.h"

/* Feeds the stream in pieces whose sizes come from the input itself: the
 * parser must not care where libcurl cuts. */
static void demux(const uint8_t *data, size_t size, bool tty)
{
	if (!size)
		return;
	size_t step = data[0] % 17 + 1;
	data++;
	size--;
	struct cst_buf out, errb;
	cst_buf_init(&out, 4096);
	cst_buf_init(&errb, 4096);
	struct dk_demux dm;
	dk_demux_init(&dm, &out, &errb, tty);
	int r = 0;
	for (size_t off = 0; off < size && r == 0; off += step)
		r = dk_demux_feed(&dm, (const char *)data + off, size - off < step ? size - off : step);
	(void)dk_demux_partial(&dm);
	if (out.len + errb.len > size)
		abort(); /* more payload out than bytes in */
	cst_buf_release(&out);
	cst_buf_release(&errb);
}

static void version(const char *s, size_t len)
{
	char value[16];
	char ver[16];
	struct cst_error err = CST_ERROR_INIT;
	if (dk_header_value(s, len, "Api-Version", value, sizeof(value))) {
		if (strlen(value) >= sizeof(value))
			abort();
		if (dk_api_version_pick(value, NULL, ver, &err) == 0 && dk_version_cmp(ver, DK_API_MAX) > 0)
			abort(); /* never speak newer than cst knows */
		cst_error_clear(&err);
	}
	if (dk_api_version_pick(NULL, s, ver, &err) == 0 && strlen(ver) >= sizeof(ver))
		abort();
	cst_error_clear(&err);
	(void)dk_version_cmp(s, DK_API_MIN);
}

static void base64(const char *s, size_t len)
{
	struct cst_buf b = CST_BUF_INIT;
	(void)dk_base64_decode(s, &b);
	cst_buf_release(&b);
	for (int url = 0; url < 2; url++) {
		char *enc = dk_base64_encode(s, len, url);
		if (!enc)
			abort();
		cst_buf_init(&b, 0);
		if (dk_base64_decode(enc, &b) < 0 || b.len != len || (len && memcmp(b.data, s, len)))
			abort(); /* decode(encode(x)) == x */
		cst_buf_release(&b);
		free(enc);
	}
}

static void inspect_reply(const char *s, size_t len)
{
	json_t *root = json_loadb(s, len, 0, NULL);
	struct cst_image_meta meta;
	struct cst_error err = CST_ERROR_INIT;
	if (cst_image_meta_from_json(root, "inspect", &meta, &err) == 0)
		cst_image_meta_release(&meta);
	else if (!err.msg)
		abort();
	cst_error_clear(&err);
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int which = data[0] % 11;
	data++;
	size--;
	struct fuzz_part parts[3];
	fuzz_split(data, size, parts, 3);
	const char *s = parts[0].p;
	size_t len = parts[0].len;
	struct cst_error err = CST_ERROR_INIT;
	switch (which) {
	case 0:
		demux(data, size, false);
		break;
	case 1:
		demux(data, size, true);
		break;
	case 2:
		free(dk_error_message((const char *)data, size, 500));
		break;
	case 3:
		version(s, len);
		break;
	case 4:
		(void)dk_version_cmp(s, parts[1].p ? parts[1].p : "1.41");
		break;
	case 5: {
		struct cst_env_list env = {0};
		(void)cst_env_file_parse((const char *)data, size, &env, &err);
		cst_env_release(&env);
		break;
	}
	case 6:
		base64(s, len);
		break;
	case 7: {
		char *auth = NULL;
		(void)dk_registry_auth(s, parts[1].p ? parts[1].p : "registry.example/x:1", &auth, &err);
		free(auth);
		break;
	}
	case 8: {
		char *name = NULL, *tag = NULL;
		if (dk_split_reference(s, &name, &tag) == 0 && (!name || !tag))
			abort();
		free(name);
		free(tag);
		break;
	}
	case 9: {
		struct dk_endpoint ep;
		if (dk_endpoint_parse(s, parts[1].p, parts[2].p, "/nonexistent", &ep, &err) == 0)
			dk_endpoint_release(&ep);
		break;
	}
	default:
		inspect_reply((const char *)data, size);
		break;
	}
	cst_error_clear(&err);
	fuzz_parts_free(parts, 3);
	return 0;
}
