#include <string.h>

#include "cst/checks.h"

/* Go's FileMode.String(): type and special letters from "dalTLDpSugct?" in
 * that order, or '-' when none, then rwx bits that never show s or t. */
void cst_mode_string(const struct cst_fs_info *info, char buf[16])
{
	size_t w = 0;
	if (info->type == CST_FT_DIR)
		buf[w++] = 'd';
	if (info->type == CST_FT_SYMLINK)
		buf[w++] = 'L';
	if (info->type == CST_FT_CHR || info->type == CST_FT_BLK)
		buf[w++] = 'D';
	if (info->type == CST_FT_FIFO)
		buf[w++] = 'p';
	if (info->type == CST_FT_SOCK)
		buf[w++] = 'S';
	if (info->mode & 04000)
		buf[w++] = 'u';
	if (info->mode & 02000)
		buf[w++] = 'g';
	if (info->type == CST_FT_CHR)
		buf[w++] = 'c';
	if (info->mode & 01000)
		buf[w++] = 't';
	if (w == 0)
		buf[w++] = '-';
	static const char rwx[] = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		buf[w++] = (info->mode & (1u << (8 - i))) ? rwx[i] : '-';
	buf[w] = '\0';
}
