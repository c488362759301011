/* The OCI layout reader: input "INDEX\0BLOB1\0BLOB2", placed as index.json
 * and as the blobs sha256:1111… and sha256:2222… of an OCI tar that also
 * holds two real layers as sha256:aaaa… and sha256:bbbb….  Digests are
 * not checked against contents, so the index and manifests being fuzzed
 * can point anywhere among them (seeds: an index -> manifest -> config). */
#include <string.h>

#include "fuzz.h"

#define HEX64(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
		 c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[3];
	fuzz_split(data, size, parts, 3);
	struct fuzz_tar *t = fuzz_tar_new();
	size_t n0, n1;
	const void *l1 = fuzz_layer_bytes(0, &n0);
	const void *l2 = fuzz_layer_bytes(1, &n1);
	static const char layout[] = "{\"imageLayoutVersion\": \"1.0.0\"}";
	fuzz_tar_add(t, FUZZ_FILE, "oci-layout", layout, strlen(layout));
	fuzz_tar_add(t, FUZZ_FILE, "index.json", parts[0].p, parts[0].len);
	if (parts[1].p)
		fuzz_tar_add(t, FUZZ_FILE, "blobs/sha256/" HEX64("1"), parts[1].p, parts[1].len);
	if (parts[2].p)
		fuzz_tar_add(t, FUZZ_FILE, "blobs/sha256/" HEX64("2"), parts[2].p, parts[2].len);
	fuzz_tar_add(t, FUZZ_FILE, "blobs/sha256/" HEX64("a"), l1, n0);
	fuzz_tar_add(t, FUZZ_FILE, "blobs/sha256/" HEX64("b"), l2, n1);
	size_t len;
	const void *bytes = fuzz_tar_finish(t, &len);
	const char *path = fuzz_scratch(".tar");
	fuzz_write_file(path, bytes, len);
	fuzz_tar_free(t);
	fuzz_parts_free(parts, 3);
	fuzz_image_archive(path);
	return 0;
}
