/* The docker-save reader: input "MANIFEST\0CONFIG", placed as manifest.json
 * and cfg.json in an archive that also holds two real layers under
 * l1/layer.tar and l2/layer.tar.  Without a CONFIG part a valid one is
 * used, so most mutations exercise the manifest. */
#include <string.h>

#include "fuzz.h"

static const char default_config[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"],"
				     "\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[2];
	fuzz_split(data, size, parts, 2);
	struct fuzz_tar *t = fuzz_tar_new();
	size_t n0, n1;
	const void *l1 = fuzz_layer_bytes(0, &n0);
	const void *l2 = fuzz_layer_bytes(1, &n1);
	/* Layers after the manifest, as docker save writes them since 25. */
	fuzz_tar_add(t, FUZZ_FILE, "manifest.json", parts[0].p, parts[0].len);
	if (parts[1].p)
		fuzz_tar_add(t, FUZZ_FILE, "cfg.json", parts[1].p, parts[1].len);
	else
		fuzz_tar_add(t, FUZZ_FILE, "cfg.json", default_config, strlen(default_config));
	fuzz_tar_add(t, FUZZ_FILE, "l2/layer.tar", l2, n1);
	fuzz_tar_add(t, FUZZ_FILE, "l1/layer.tar", l1, n0);
	size_t len;
	const void *bytes = fuzz_tar_finish(t, &len);
	const char *path = fuzz_scratch(".tar");
	fuzz_write_file(path, bytes, len);
	fuzz_tar_free(t);
	fuzz_parts_free(parts, 2);
	fuzz_image_archive(path);
	return 0;
}
