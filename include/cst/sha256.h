/* SHA-256 (FIPS 180-4) of a buffer, for the sha256 of a file test: none
 * of cst's libraries exports a digest. */
#ifndef CST_SHA256_H
#define CST_SHA256_H

#include <stddef.h>

/* Writes the digest of data[0..len) as 64 lowercase hex digits and a NUL. */
void cst_sha256_hex(const void *data, size_t len, char out[65]);

#endif
