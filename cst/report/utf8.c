#include "cst/report/internal.h"

size_t cst_utf8_decode(const char *s, size_t n, uint32_t *ret_cp)
{
	const unsigned char *p = (const unsigned char *)s;
	if (n == 0)
		return 0;
	unsigned char c = p[0];
	if (c < 0x80) {
		*ret_cp = c;
		return 1;
	}

	size_t len;
	uint32_t cp, min;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, cp = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, cp = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	*ret_cp = cp;
	return len;
}

void cst_utf8_write_valid(FILE *out, const char *s, size_t n)
{
	size_t run = 0; /* start of the pending run of bytes to copy unchanged */
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t len = cst_utf8_decode(s + i, n - i, &cp);
		if (len) {
			i += len;
			continue;
		}
		fwrite(s + run, 1, i - run, out);
		fputs(CST_UTF8_REPLACEMENT, out);
		run = ++i;
	}
	fwrite(s + run, 1, n - run, out);
}
