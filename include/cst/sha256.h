/* SHA-256 of a buffer (libcrypto). */
#ifndef CST_SHA256_H
#define CST_SHA256_H

#include <stddef.h>

/* Writes the digest of data[0..len) as 64 lowercase hex digits and a NUL;
 * -1 (out empty) when libcrypto fails. */
int cst_sha256_hex(const void *data, size_t len, char out[65]);

#endif
