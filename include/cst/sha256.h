/* SHA-256 of a buffer (libcrypto). */
#ifndef CST_SHA256_H
#define CST_SHA256_H

#include <stddef.h>

/* Writes the digest of data[0..len) as 64 lowercase hex digits and a NUL;
 * -1 (out empty) when libcrypto fails. */
int cst_sha256_hex(const void *data, size_t len, char out[65]);

/* The digest of bytes that arrive in pieces (a layer as it is read). */
struct cst_sha256 {
	void *md; /* EVP_MD_CTX */
};
/* -1 when libcrypto fails (or is out of memory). */
int cst_sha256_init(struct cst_sha256 *s);
int cst_sha256_update(struct cst_sha256 *s, const void *data, size_t len);
/* "sha256:" and 64 hex digits; -1 (out empty) on failure. */
int cst_sha256_final(struct cst_sha256 *s, char out[72]);
void cst_sha256_release(struct cst_sha256 *s);

#endif
