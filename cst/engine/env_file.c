/* containerRunOptions.envFile, read the way container-structure-test reads
 * it: with godotenv 1.5.1 (its parser.go), so that a file gives a command
 * the same variables under cst as under CST.
 *
 * That parser's rules, quirks included, since files that work with CST
 * rely on them:
 * - statements start at the first non-space character; '#' there starts a
 *   comment up to the end of the line; `export ` before a key is dropped;
 * - a key runs to the first '=' or ':' and may hold letters, digits, '_',
 *   '.' and blanks (blanks stay inside, trailing ones go).  The key is
 *   looked at byte by byte, each byte taken as a Latin-1 character;
 *   anything else (a line without '=', a UTF-8 key) fails the whole file;
 * - an unquoted value runs to the end of the line, the last " #" starts a
 *   comment, blanks around it go; '…' is taken as is; "…" may span lines
 *   and knows \n and \r, and \x stands for x;
 * - in unquoted and "…" values, $NAME, ${NAME} (NAME of A-Z, 0-9, _) take
 *   the value given to NAME earlier in the file ("" when none); \$ is a
 *   literal '$';
 * - an unquoted value has invalid UTF-8 replaced by U+FFFD.
 * CST then drops empty keys and empty values. */
#include "cst/docker.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cst/buf.h"

#define ENV_FILE_MAX (16u << 20)
#define RUNE_ERROR 0xFFFDu

/* Go's utf8.DecodeRune: the rune at p and its width; an invalid sequence
 * is RUNE_ERROR of width 1. */
static size_t decode_rune(const unsigned char *p, size_t n, uint32_t *r)
{
	if (n == 0) {
		*r = RUNE_ERROR;
		return 0;
	}
	unsigned char b = p[0];
	if (b < 0x80) {
		*r = b;
		return 1;
	}
	size_t w;
	unsigned char lo = 0x80, hi = 0xBF;
	if (b >= 0xC2 && b <= 0xDF) {
		w = 2;
	} else if (b >= 0xE0 && b <= 0xEF) {
		w = 3;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
	} else if (b >= 0xF0 && b <= 0xF4) {
		w = 4;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else {
		*r = RUNE_ERROR;
		return 1;
	}
	if (n < w || p[1] < lo || p[1] > hi) {
		*r = RUNE_ERROR;
		return 1;
	}
	for (size_t i = 2; i < w; i++)
		if (p[i] < 0x80 || p[i] > 0xBF) {
			*r = RUNE_ERROR;
			return 1;
		}
	uint32_t v = w == 2 ? b & 0x1Fu : w == 3 ? b & 0x0Fu : b & 0x07u;
	for (size_t i = 1; i < w; i++)
		v = v << 6 | (p[i] & 0x3Fu);
	*r = v;
	return w;
}

/* Go's utf8.DecodeLastRune: the rune that ends p[0..n). */
static size_t decode_last_rune(const unsigned char *p, size_t n, uint32_t *r)
{
	if (n == 0) {
		*r = RUNE_ERROR;
		return 0;
	}
	if (p[n - 1] < 0x80) {
		*r = p[n - 1];
		return 1;
	}
	size_t lim = n >= 4 ? n - 4 : 0;
	size_t start = n - 1;
	while (start > lim && (p[start] & 0xC0) == 0x80)
		start--;
	size_t w = decode_rune(p + start, n - start, r);
	if (start + w != n) {
		*r = RUNE_ERROR;
		return 1;
	}
	return w;
}

/* Go's unicode.IsSpace. */
static bool unicode_space(uint32_t r)
{
	switch (r) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xA0:
	case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
		return true;
	default:
		return r >= 0x2000 && r <= 0x200A;
	}
}

/* godotenv's isSpace: a blank, not a line break. */
static bool dotenv_space(uint32_t r)
{
	return r == '\t' || r == '\v' || r == '\f' || r == '\r' || r == ' ' || r == 0x85 || r == 0xA0;
}

/* unicode.IsLetter / IsNumber of a byte taken as a rune (U+0000-U+00FF). */
static bool latin1_letter(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == 0xAA || c == 0xB5 || c == 0xBA ||
	       (c >= 0xC0 && c != 0xD7 && c != 0xF7);
}

static bool latin1_number(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0xBC && c <= 0xBE);
}

typedef bool (*rune_pred)(uint32_t);

/* Offset of the first rune of p[0..n) that pred does not hold for (want
 * false) or does (want true); n when none. */
static size_t index_rune(const unsigned char *p, size_t n, rune_pred pred, bool want)
{
	size_t i = 0;
	while (i < n) {
		uint32_t r;
		size_t w = decode_rune(p + i, n - i, &r);
		if (pred(r) == want)
			return i;
		i += w;
	}
	return n;
}

static size_t trim_right(const unsigned char *p, size_t n, rune_pred pred)
{
	while (n > 0) {
		uint32_t r;
		size_t w = decode_last_rune(p, n, &r);
		if (!pred(r))
			break;
		n -= w;
	}
	return n;
}

/* The parse state: the rest of the input and the variables so far. */
struct parser {
	const unsigned char *p;
	size_t n;
	struct cst_env_list *env;
	struct cst_error *err;
};

static int nomem(struct parser *ps)
{
	return cst_error_set(ps->err, CST_E_NOMEM, "out of memory");
}

/* getStatementStart: skips blanks, line breaks and comment lines; false at
 * the end of the input. */
static bool statement_start(struct parser *ps)
{
	for (;;) {
		size_t pos = index_rune(ps->p, ps->n, unicode_space, false);
		if (pos == ps->n)
			return false;
		ps->p += pos;
		ps->n -= pos;
		if (ps->p[0] != '#')
			return true;
		const unsigned char *nl = memchr(ps->p, '\n', ps->n);
		if (!nl)
			return false;
		ps->n -= (size_t)(nl - ps->p);
		ps->p = nl;
	}
}

/* What an error message quotes of the input: up to the end of its line. */
static int near_len(const unsigned char *p, size_t n)
{
	const unsigned char *nl = memchr(p, '\n', n);
	size_t len = nl ? (size_t)(nl - p) : n;
	return len > 80 ? 80 : (int)len;
}

/* locateKeyName: *key (malloc'd) and the input moved past the separator
 * and the blanks after it. */
static int key_name(struct parser *ps, char **key)
{
	size_t skip = index_rune(ps->p, ps->n, dotenv_space, false);
	const unsigned char *src = ps->p + skip;
	size_t n = ps->n - skip;
	if (n >= 6 && memcmp(src, "export", 6) == 0 && n > 6) {
		uint32_t r;
		decode_rune(src + 6, n - 6, &r);
		if (dotenv_space(r)) {
			skip = index_rune(src + 6, n - 6, dotenv_space, false);
			src += 6 + skip;
			n -= 6 + skip;
		}
	}
	size_t klen = 0, offset = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = src[i];
		if (dotenv_space(c))
			continue;
		if (c == '=' || c == ':') {
			klen = i;
			offset = i + 1;
			break;
		}
		if (c == '_' || c == '.' || latin1_letter(c) || latin1_number(c))
			continue;
		char shown[8];
		if (c == '\n')
			snprintf(shown, sizeof(shown), "\\n");
		else if (c >= 0x20 && c < 0x7F)
			snprintf(shown, sizeof(shown), "%c", c);
		else
			snprintf(shown, sizeof(shown), "\\x%02x", c);
		return cst_error_set(ps->err, CST_E_CONFIG, "unexpected character \"%s\" in variable name near \"%.*s\"",
				     shown, near_len(src, n), (const char *)src);
	}
	if (n == 0)
		return cst_error_set(ps->err, CST_E_CONFIG, "zero length string");
	/* Without a separator the key is empty and the rest is its value. */
	klen = trim_right(src, klen, unicode_space);
	if (!(*key = strndup((const char *)src, klen)))
		return nomem(ps);
	src += offset;
	n -= offset;
	skip = index_rune(src, n, dotenv_space, false);
	ps->p = src + skip;
	ps->n = n - skip;
	return 0;
}

/* expandVariables: godotenv's `(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?`, where
 * a match with the backslash loses it, one with a name is that variable's
 * value so far, and any other stays as it is. */
static int expand_vars(const char *s, size_t n, const struct cst_env_list *env, struct cst_buf *out)
{
	size_t i = 0;
	while (i < n) {
		size_t start = i;
		bool escaped = false;
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == '$') {
			escaped = true;
			i++;
		} else if (s[i] != '$') {
			if (cst_buf_append(out, s + i, 1) < 0)
				return -1;
			i++;
			continue;
		}
		i++; /* the '$' */
		if (i < n && s[i] == '(')
			i++;
		if (i < n && s[i] == '{')
			i++;
		size_t name = i;
		while (i < n && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			i++;
		size_t name_len = i - name;
		if (i < n && s[i] == '}')
			i++;
		int rc;
		if (escaped) {
			rc = cst_buf_append(out, s + start + 1, i - start - 1);
		} else if (name_len) {
			const char *v = cst_env_get(env, s + name, name_len);
			rc = v ? cst_buf_puts(out, v) : 0;
		} else {
			rc = cst_buf_append(out, s + start, i - start);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* expandEscapes: `\n` and `\r` become the characters, then any other
 * `\x` (x not '$') becomes x. */
static int expand_escapes(const char *s, size_t n, struct cst_buf *out)
{
	struct cst_buf tmp = CST_BUF_INIT;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n;) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] != '\n') {
			uint32_t r;
			size_t w = decode_rune((const unsigned char *)s + i + 1, n - i - 1, &r);
			if (s[i + 1] == 'n')
				rc = cst_buf_append(&tmp, "\n", 1);
			else if (s[i + 1] == 'r')
				rc = cst_buf_append(&tmp, "\r", 1);
			else
				rc = cst_buf_append(&tmp, s + i, 1 + w);
			i += 1 + w;
		} else {
			rc = cst_buf_append(&tmp, s + i, 1);
			i++;
		}
	}
	const char *t = tmp.data;
	for (size_t i = 0; rc == 0 && i < tmp.len;) {
		if (t[i] == '\\' && i + 1 < tmp.len && t[i + 1] != '$') {
			uint32_t r;
			size_t w = decode_rune((const unsigned char *)t + i + 1, tmp.len - i - 1, &r);
			rc = cst_buf_append(out, t + i + 1, w);
			i += 1 + w;
		} else {
			rc = cst_buf_append(out, t + i, 1);
			i++;
		}
	}
	cst_buf_release(&tmp);
	return rc;
}

/* Appends p[0..n) with each invalid UTF-8 sequence as U+FFFD, as Go's
 * []rune(string) conversion does. */
static int append_runes(struct cst_buf *b, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t r;
		size_t w = decode_rune(p + i, n - i, &r);
		int rc = r == RUNE_ERROR && w == 1 ? cst_buf_append(b, "\xef\xbf\xbd", 3) : cst_buf_append(b, p + i, w);
		if (rc < 0)
			return -1;
		i += w;
	}
	return 0;
}

static size_t trim_left(const unsigned char *p, size_t n, rune_pred pred)
{
	return index_rune(p, n, pred, false);
}

/* extractVarValue for an unquoted value. */
static int unquoted_value(struct parser *ps, struct cst_buf *value)
{
	size_t eol = 0;
	while (eol < ps->n && ps->p[eol] != '\n' && ps->p[eol] != '\r')
		eol++;
	struct cst_buf line = CST_BUF_INIT;
	int rc = append_runes(&line, ps->p, eol);
	ps->p += eol;
	ps->n -= eol;
	if (rc < 0 || line.len == 0) {
		cst_buf_release(&line);
		return rc;
	}
	/* The last '#' with a blank before it starts a comment.  line is valid
	 * UTF-8 now, so the blank before is one byte or U+0085 / U+00A0. */
	const unsigned char *l = (const unsigned char *)line.data;
	size_t end = line.len;
	for (size_t i = line.len; i-- > 1;) {
		if (l[i] != '#')
			continue;
		if (dotenv_space(l[i - 1]) && l[i - 1] < 0x80) {
			end = i;
			break;
		}
		if (i >= 2 && l[i - 2] == 0xC2 && (l[i - 1] == 0x85 || l[i - 1] == 0xA0)) {
			end = i;
			break;
		}
	}
	size_t lead = trim_left(l, end, dotenv_space);
	end = lead + trim_right(l + lead, end - lead, dotenv_space);
	rc = expand_vars((const char *)l + lead, end - lead, ps->env, value);
	cst_buf_release(&line);
	return rc;
}

/* extractVarValue for a value that starts with a quote. */
static int quoted_value(struct parser *ps, struct cst_buf *value)
{
	unsigned char q = ps->p[0];
	size_t i = 1;
	while (i < ps->n && (ps->p[i] != q || ps->p[i - 1] == '\\'))
		i++;
	if (i >= ps->n) {
		int ln = near_len(ps->p, ps->n);
		return cst_error_set(ps->err, CST_E_CONFIG, "unterminated quoted value %.*s", ln, (const char *)ps->p);
	}
	/* Every quote at either end goes, not just one. */
	size_t a = 0, b = i;
	while (a < b && ps->p[a] == q)
		a++;
	while (b > a && ps->p[b - 1] == q)
		b--;
	const char *s = (const char *)ps->p + a;
	int rc;
	if (q == '\'') {
		rc = cst_buf_append(value, s, b - a);
	} else {
		struct cst_buf unesc = CST_BUF_INIT;
		rc = expand_escapes(s, b - a, &unesc);
		if (rc == 0)
			rc = expand_vars(unesc.data ? unesc.data : "", unesc.len, ps->env, value);
		cst_buf_release(&unesc);
	}
	ps->p += i + 1;
	ps->n -= i + 1;
	return rc < 0 ? nomem(ps) : 0;
}

int cst_env_file_parse(const char *text, size_t len, struct cst_env_list *env, struct cst_error *err)
{
	/* CRLF line ends are plain LF ones to it. */
	struct cst_buf src = CST_BUF_INIT;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue;
		if (cst_buf_append(&src, text + i, 1) < 0) {
			cst_buf_release(&src);
			return cst_error_set(err, CST_E_NOMEM, "out of memory");
		}
	}
	struct parser ps = {(const unsigned char *)(src.data ? src.data : ""), src.len, env, err};
	int rc = 0;
	while (rc == 0 && statement_start(&ps)) {
		char *key = NULL;
		if ((rc = key_name(&ps, &key)) < 0)
			break;
		struct cst_buf value = CST_BUF_INIT;
		if (ps.n && (ps.p[0] == '"' || ps.p[0] == '\''))
			rc = quoted_value(&ps, &value);
		else if (unquoted_value(&ps, &value) < 0)
			rc = nomem(&ps);
		if (rc == 0 && cst_env_set(env, key, value.data ? value.data : "") < 0)
			rc = nomem(&ps);
		cst_buf_release(&value);
		free(key);
	}
	cst_buf_release(&src);
	return rc;
}

int cst_env_file_read(const char *path, struct cst_env_list *env, struct cst_error *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return cst_error_set(err, CST_E_IO, "open %s: %s", path, strerror(errno));
	struct cst_buf b;
	cst_buf_init(&b, ENV_FILE_MAX);
	char chunk[8192];
	size_t n;
	int rc = 0;
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (cst_buf_append(&b, chunk, n) < 0)
			rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
		else if (b.truncated)
			rc = cst_error_set(err, CST_E_IO, "%s: larger than 16 MiB", path);
	}
	if (!rc && ferror(f))
		rc = cst_error_set(err, CST_E_IO, "read %s: %s", path, strerror(errno));
	fclose(f);
	struct cst_env_list all = {0};
	if (!rc)
		rc = cst_env_file_parse(b.data ? b.data : "", b.len, &all, err);
	cst_buf_release(&b);
	/* What CST passes on: neither an empty key nor an empty value. */
	for (size_t i = 0; !rc && i < all.n; i++) {
		const char *eq = strchr(all.v[i], '=');
		if (eq == all.v[i] || !eq[1])
			continue;
		char *key = strndup(all.v[i], (size_t)(eq - all.v[i]));
		if (!key || cst_env_set(env, key, eq + 1) < 0)
			rc = cst_error_set(err, CST_E_NOMEM, "out of memory");
		free(key);
	}
	cst_env_release(&all);
	return rc;
}
