/* SHA-256 through libcrypto, which libcurl's TLS backend links anyway:
 * the digests of file tests, of docker context names and of registry
 * blobs are all this one. */
#include "cst/sha256.h"

#include <stdio.h>
#include <string.h>

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

int cst_sha256_init(struct cst_sha256 *s)
{
	s->md = EVP_MD_CTX_new();
	if (s->md && EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) == 1)
		return 0;
	cst_sha256_release(s);
	return -1;
}

int cst_sha256_update(struct cst_sha256 *s, const void *data, size_t len)
{
	return s->md && EVP_DigestUpdate(s->md, data, len) == 1 ? 0 : -1;
}

int cst_sha256_final(struct cst_sha256 *s, char out[72])
{
	unsigned char md[32];
	unsigned int n = 0;
	out[0] = '\0';
	if (!s->md || EVP_DigestFinal_ex(s->md, md, &n) != 1 || n != sizeof(md))
		return -1;
	memcpy(out, "sha256:", 7);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

void cst_sha256_release(struct cst_sha256 *s)
{
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
}
