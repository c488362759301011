/* Helpers shared by the fuzz harnesses.
 *
 * Every harness defines LLVMFuzzerTestOneInput and drives one public entry
 * point of cst with the input.  Entry points that take a path get the
 * input written to a file first; image harnesses build a small archive
 * around the input, so the mutations land in the manifest or index being
 * fuzzed instead of in tar headers that would merely fail to parse.
 *
 * The same files build two ways: with -fsanitize=fuzzer (tests/fuzz/
 * meson.build, -Dfuzzers=true) and with replay.c's main() as a plain test
 * that feeds every saved input to the harness (tests/meson.build).
 */
#ifndef CST_FUZZ_H
#define CST_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Exits the process: a harness cannot go on without its scratch files. */
void fuzz_die(const char *what);

/* A path in $TMPDIR (or /tmp) unique to this process, ending in suffix;
 * the same string for the same suffix on every call, removed at exit. */
const char *fuzz_scratch(const char *suffix);
/* Writes len bytes to path, replacing it. */
void fuzz_write_file(const char *path, const void *data, size_t len);

/* The input cut at NUL bytes into at most max parts; parts beyond what
 * the input holds are NULL with length 0.  Each part is a malloc'd,
 * NUL-terminated copy; fuzz_parts_free frees them. */
struct fuzz_part {
	char *p;
	size_t len;
};
void fuzz_split(const uint8_t *data, size_t size, struct fuzz_part *parts, int max);
void fuzz_parts_free(struct fuzz_part *parts, int max);

/* A tar built in memory, entry by entry. */
struct fuzz_tar;
struct fuzz_tar *fuzz_tar_new(void);
enum fuzz_kind { FUZZ_FILE, FUZZ_DIR, FUZZ_SYMLINK, FUZZ_HARDLINK };
void fuzz_tar_add(struct fuzz_tar *t, enum fuzz_kind kind, const char *name, const void *data, size_t len);
/* Finishes the archive; returns its bytes (owned by t) and length. */
const void *fuzz_tar_finish(struct fuzz_tar *t, size_t *ret_len);
void fuzz_tar_free(struct fuzz_tar *t);

/* A small two-layer image as the harnesses' fixed part: layer 1 a tree
 * with a symlink and a hardlink, layer 2 whiteouts over it. */
const void *fuzz_layer_bytes(int which, size_t *ret_len);

/* Opens path as an image archive and, when that works, reads its metadata
 * and file system with a few paths wanted, as a run would. */
void fuzz_image_archive(const char *path);

#endif
