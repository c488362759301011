#include <stdbool.h>
#include <string.h>

#include "build.h"

/* Go's os.FileMode.String(): one letter per type or special bit, in this
 * order and each at most once ("-" when none is set), then the nine
 * permission bits as rwx or '-'; setuid/setgid/sticky are letters in the
 * prefix, never 's'/'t' in the rwx part. */
static const char mode_letters[] = "dalTLDpSugct?";

bool cfg_valid_filemode(const char *s)
{
	size_t len = strlen(s);
	if (len < 10)
		return false;
	size_t prefix = len - 9;
	for (size_t i = 0; i < 9; i++) {
		char c = s[prefix + i];
		if (c != '-' && c != "rwx"[i % 3])
			return false;
	}
	if (prefix == 1 && s[0] == '-')
		return true;
	const char *next = mode_letters;
	for (size_t i = 0; i < prefix; i++) {
		const char *at = s[i] ? strchr(next, s[i]) : NULL;
		if (!at)
			return false;
		next = at + 1;
	}
	return true;
}

/* ls writes the file type as one letter (l for a link, c and b for devices,
 * s for a socket) and the setuid, setgid and sticky bits in the execute
 * columns (s/S, s/S, t/T: lower case when x is also set); Go writes them
 * as prefix letters. */
bool cfg_ls_to_go_mode(const char *s, char buf[16])
{
	if (strlen(s) != 10)
		return false;
	static const struct {
		char ls;
		const char *go;
	} types[] = {{'-', ""}, {'d', "d"}, {'l', "L"}, {'c', "Dc"}, {'b', "D"}, {'p', "p"}, {'s', "S"}};
	const char *type = NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (s[0] == types[i].ls)
			type = types[i].go;
	if (!type)
		return false;
	char rwx[10];
	bool setuid = false, setgid = false, sticky = false;
	for (size_t i = 0; i < 9; i++) {
		char c = s[1 + i];
		char want = "rwx"[i % 3];
		bool *special = i == 2 ? &setuid : i == 5 ? &setgid : i == 8 ? &sticky : NULL;
		char lower = i == 8 ? 't' : 's';
		if (c == want || c == '-') {
			rwx[i] = c;
		} else if (special && c == lower) {
			*special = true;
			rwx[i] = 'x';
		} else if (special && c == lower - 'a' + 'A') {
			*special = true;
			rwx[i] = '-';
		} else {
			return false;
		}
	}
	rwx[9] = '\0';
	/* In Go's order: d, L, D, p, S (the type), u, g, c, t. */
	size_t w = 0;
	for (const char *p = type; *p && *p != 'c'; p++)
		buf[w++] = *p;
	if (setuid)
		buf[w++] = 'u';
	if (setgid)
		buf[w++] = 'g';
	if (strchr(type, 'c'))
		buf[w++] = 'c';
	if (sticky)
		buf[w++] = 't';
	if (w == 0)
		buf[w++] = '-';
	memcpy(buf + w, rwx, 10);
	return strcmp(buf, s) != 0;
}
