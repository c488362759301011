/* SHA-256 through libcrypto, which libcurl's TLS backend links anyway:
 * the digests of file tests, of docker context names and of registry
 * blobs are all this one. */
#include "cst/sha256.h"

#include <stdio.h>

#include <openssl/evp.h>

int cst_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != sizeof(md)) {
		out[0] = '\0';
		return -1;
	}
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}
