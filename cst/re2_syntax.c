#include "re2_syntax.h"
#include "re2_folds.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Go's limits: repeat counts and the product of nested counts stop at
 * 1000, and so does the height of the parsed expression's tree. */
#define GO_MAX_REPEAT 1000u
#define GO_MAX_HEIGHT 1000u
#define MAX_RUNE 0x10FFFFu

enum {
	F_FOLD = 1,	/* (?i) */
	F_MULTI = 2,	/* (?m) */
	F_DOTNL = 4,	/* (?s) */
	F_UNGREEDY = 8, /* (?U) */
};

/* ---- UTF-8 as Go decodes it ---- */

/* Length of the valid sequence at s, or 0 when s[0] starts none (Go then
 * reads one byte as U+FFFD). */
static size_t utf8_valid_len(const unsigned char *s, size_t n, uint32_t *ret)
{
	unsigned c = s[0];
	if (c < 0x80) {
		*ret = c;
		return 1;
	}
	size_t need;
	uint32_t v;
	unsigned lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n <= need || s[1] < lo || s[1] > hi)
		return 0;
	v = v << 6 | (s[1] & 0x3Fu);
	for (size_t i = 2; i <= need; i++) {
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
		v = v << 6 | (s[i] & 0x3Fu);
	}
	*ret = v;
	return need + 1;
}

size_t cst_utf8_bad_bytes(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t bad = 0;
	uint32_t r;
	for (size_t i = 0; i < len;) {
		/* Mostly ASCII: eight bytes at a time while none has its top bit. */
		uint64_t w;
		while (len - i >= 8 && (memcpy(&w, s + i, 8), (w & 0x8080808080808080u) == 0))
			i += 8;
		if (i >= len)
			break;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = utf8_valid_len(s + i, len - i, &r);
		if (n) {
			i += n;
		} else {
			bad++;
			i++;
		}
	}
	return bad;
}

void cst_utf8_replace_bad(const char *text, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t r;
	for (size_t i = 0; i < len;) {
		size_t n = s[i] < 0x80 ? 1 : utf8_valid_len(s + i, len - i, &r);
		if (n) {
			memcpy(out, s + i, n);
			out += n;
			i += n;
		} else {
			memcpy(out, "\xEF\xBF\xBD", 3);
			out += 3;
			i++;
		}
	}
}

/* ---- output ---- */

struct out {
	char *s;
	size_t len, cap;
	bool oom;
};

static void out_insert(struct out *o, size_t at, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 64;
		while (o->len + n + 1 > cap)
			cap *= 2;
		char *ns = realloc(o->s, cap);
		if (!ns) {
			o->oom = true;
			return;
		}
		o->s = ns;
		o->cap = cap;
	}
	memmove(o->s + at + n, o->s + at, o->len - at);
	memcpy(o->s + at, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void out_puts(struct out *o, const char *s)
{
	out_insert(o, o->len, s, strlen(s));
}

static void out_rune(struct out *o, uint32_t r)
{
	char b[16];
	if ((r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z'))
		snprintf(b, sizeof(b), "%c", (char)r);
	else
		snprintf(b, sizeof(b), "\\x{%x}", (unsigned)r);
	out_puts(o, b);
}

/* ---- character classes ---- */

struct range {
	uint32_t lo, hi;
};

struct cls {
	struct range *r;
	size_t n, cap;
	struct out props; /* \p{..} items, kept symbolic for PCRE2's tables */
	/* Items a class cannot hold: negated tables under (?i), each as its
	 * positive folded class "[..]", one per line. */
	struct out negs;
	bool oom;
};

static void cls_add(struct cls *c, uint32_t lo, uint32_t hi)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct range *nr = realloc(c->r, cap * sizeof(*nr));
		if (!nr) {
			c->oom = true;
			return;
		}
		c->r = nr;
		c->cap = cap;
	}
	c->r[c->n++] = (struct range){lo, hi};
}

static void cls_free(struct cls *c)
{
	free(c->r);
	free(c->props.s);
	free(c->negs.s);
}

/* An ASCII group (Perl or POSIX class) as ranges. */
struct group {
	const char *name;
	const char *ranges; /* pairs of bytes lo,hi */
};

static const struct group perl_groups[] = {
	{"d", "09"},
	{"s", "\t\n\f\r  "},
	{"w", "09AZ__az"},
};

static const struct group posix_groups[] = {
	{"alnum", "09AZaz"},
	{"alpha", "AZaz"},
	{"ascii", "\x01\x7f"}, /* and NUL: strings end there */
	{"blank", "\t\t  "},
	{"cntrl", "\x01\x1f\x7f\x7f"},
	{"digit", "09"},
	{"graph", "!~"},
	{"lower", "az"},
	{"print", " ~"},
	{"punct", "!/:@[`{~"},
	{"space", "\t\r  "},
	{"upper", "AZ"},
	{"word", "09AZ__az"},
	{"xdigit", "09AFaf"},
};

/* Adds the runs of ASCII code points whose in[] is `want`. */
static void add_runs(struct cls *c, const bool in[128], bool want)
{
	for (unsigned ch = 0; ch < 128;) {
		if (in[ch] != want) {
			ch++;
			continue;
		}
		unsigned end = ch;
		while (end + 1 < 128 && in[end + 1] == want)
			end++;
		cls_add(c, ch, end);
		ch = end + 1;
	}
}

/* Go folds before it negates: (?i)\W leaves out ſ and the Kelvin sign,
 * which fold to s and k. */
static void cls_add_group(struct cls *c, const struct group *g, bool with_nul, bool negate, bool fold)
{
	bool in[128] = {false};
	size_t n = strlen(g->ranges);
	for (size_t i = 0; i + 1 < n; i += 2)
		for (unsigned ch = (unsigned char)g->ranges[i]; ch <= (unsigned char)g->ranges[i + 1]; ch++)
			in[ch] = true;
	if (with_nul)
		in[0] = true;
	if (!negate) {
		add_runs(c, in, true);
		return;
	}
	bool long_s = false, kelvin = false;
	if (fold) {
		for (unsigned ch = 'A'; ch <= 'Z'; ch++)
			if (in[ch] || in[ch + 32])
				in[ch] = in[ch + 32] = true;
		long_s = in['s'];
		kelvin = in['k'];
	}
	add_runs(c, in, false);
	uint32_t from = 0x80;
	if (long_s) {
		cls_add(c, from, 0x17E);
		from = 0x180;
	}
	if (kelvin) {
		cls_add(c, from, 0x2129);
		from = 0x212B;
	}
	cls_add(c, from, MAX_RUNE);
}

static const char *const go_categories[] = {
	"C",  "Cc", "Cf", "Co", "Cs", "L",  "Ll", "Lm", "Lo", "Lt", "Lu", "M",	"Mc", "Me", "Mn", "N",	 "Nd",
	"Nl", "No", "P",  "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S",  "Sc", "Sk", "Sm", "So", "Z", "Zl",
	"Zp", "Zs",
};

/* Go 1.19's unicode.Scripts. */
static const char *const go_scripts[] = {
	"Adlam", "Ahom", "Anatolian_Hieroglyphs", "Arabic", "Armenian", "Avestan", "Balinese", "Bamum",
	"Bassa_Vah", "Batak", "Bengali", "Bhaiksuki", "Bopomofo", "Brahmi", "Braille", "Buginese", "Buhid",
	"Canadian_Aboriginal", "Carian", "Caucasian_Albanian", "Chakma", "Cham", "Cherokee", "Chorasmian",
	"Common", "Coptic", "Cuneiform", "Cypriot", "Cyrillic", "Deseret", "Devanagari", "Dives_Akuru", "Dogra",
	"Duployan", "Egyptian_Hieroglyphs", "Elbasan", "Elymaic", "Ethiopic", "Georgian", "Glagolitic", "Gothic",
	"Grantha", "Greek", "Gujarati", "Gunjala_Gondi", "Gurmukhi", "Han", "Hangul", "Hanifi_Rohingya",
	"Hanunoo", "Hatran", "Hebrew", "Hiragana", "Imperial_Aramaic", "Inherited", "Inscriptional_Pahlavi",
	"Inscriptional_Parthian", "Javanese", "Kaithi", "Kannada", "Katakana", "Kayah_Li", "Kharoshthi",
	"Khitan_Small_Script", "Khmer", "Khojki", "Khudawadi", "Lao", "Latin", "Lepcha", "Limbu", "Linear_A",
	"Linear_B", "Lisu", "Lycian", "Lydian", "Mahajani", "Makasar", "Malayalam", "Mandaic", "Manichaean",
	"Marchen", "Masaram_Gondi", "Medefaidrin", "Meetei_Mayek", "Mende_Kikakui", "Meroitic_Cursive",
	"Meroitic_Hieroglyphs", "Miao", "Modi", "Mongolian", "Mro", "Multani", "Myanmar", "Nabataean",
	"Nandinagari", "New_Tai_Lue", "Newa", "Nko", "Nushu", "Nyiakeng_Puachue_Hmong", "Ogham", "Ol_Chiki",
	"Old_Hungarian", "Old_Italic", "Old_North_Arabian", "Old_Permic", "Old_Persian", "Old_Sogdian",
	"Old_South_Arabian", "Old_Turkic", "Oriya", "Osage", "Osmanya", "Pahawh_Hmong", "Palmyrene",
	"Pau_Cin_Hau", "Phags_Pa", "Phoenician", "Psalter_Pahlavi", "Rejang", "Runic", "Samaritan", "Saurashtra",
	"Sharada", "Shavian", "Siddham", "SignWriting", "Sinhala", "Sogdian", "Sora_Sompeng", "Soyombo",
	"Sundanese", "Syloti_Nagri", "Syriac", "Tagalog", "Tagbanwa", "Tai_Le", "Tai_Tham", "Tai_Viet", "Takri",
	"Tamil", "Tangut", "Telugu", "Thaana", "Thai", "Tibetan", "Tifinagh", "Tirhuta", "Ugaritic", "Vai",
	"Wancho", "Warang_Citi", "Yezidi", "Yi", "Zanabazar_Square",
};

static bool in_list(const char *const *list, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && memcmp(list[i], name, len) == 0)
			return true;
	return false;
}

/* Go's (?i) adds to a table the code points that fold into it. */
static void cls_add_prop_folds(struct cls *c, const char *name)
{
	for (size_t i = 0; i < sizeof(re2_fold_runs) / sizeof(re2_fold_runs[0]); i++)
		if (strcmp(re2_fold_runs[i].table, name) == 0)
			for (uint32_t cp = re2_fold_runs[i].lo; cp <= re2_fold_runs[i].hi; cp += re2_fold_runs[i].stride)
				cls_add(c, cp, cp);
}

static bool cls_empty(const struct cls *c)
{
	if (c->props.len)
		return false;
	for (size_t i = 0; i < c->n; i++)
		if (c->r[i].lo < 0xD800 || c->r[i].hi > 0xDFFF)
			return false;
	return true;
}

static bool emit_class(struct out *o, const struct cls *c, bool negate);

/* A class with negated folded tables: [x\P{Ll}] is x or not Ll-folded,
 * [^x\P{Ll}] not x and Ll-folded, as alternatives and lookaheads. */
static void emit_mixed_class(struct out *o, const struct cls *c, bool negate)
{
	struct cls plain = *c;
	plain.negs = (struct out){0};
	bool has_plain = !cls_empty(&plain);
	out_puts(o, "(?:");
	if (has_plain) {
		out_puts(o, negate ? "(?!" : "");
		emit_class(o, &plain, false);
		out_puts(o, negate ? ")" : "|");
	}
	for (const char *e = c->negs.s; *e;) {
		const char *nl = strchr(e, '\n');
		bool last = nl[1] == '\0';
		if (!negate) {
			out_puts(o, "[^");
			out_insert(o, o->len, e + 1, (size_t)(nl - e - 1));
			out_puts(o, last ? "" : "|");
		} else {
			out_puts(o, last ? "" : "(?=");
			out_insert(o, o->len, e, (size_t)(nl - e));
			out_puts(o, last ? "" : ")");
		}
		e = nl + 1;
	}
	out_puts(o, ")");
}

/* Writes the class; an empty one never matches, an empty negated one
 * matches any character.  True when it wrote a single [..] item. */
static bool emit_class(struct out *o, const struct cls *c, bool negate)
{
	if (c->negs.len) {
		emit_mixed_class(o, c, negate);
		return false;
	}
	if (cls_empty(c)) {
		out_puts(o, negate ? "(?s:.)" : "(?!)");
		return false;
	}
	out_puts(o, negate ? "[^" : "[");
	for (size_t i = 0; i < c->n; i++) {
		uint32_t lo = c->r[i].lo, hi = c->r[i].hi;
		/* Surrogates are no characters to PCRE2 (nor in any text). */
		if (lo >= 0xD800 && lo <= 0xDFFF)
			lo = 0xE000;
		if (hi >= 0xD800 && hi <= 0xDFFF)
			hi = 0xD7FF;
		char b[48];
		if (lo < 0xD800 && hi > 0xDFFF) {
			snprintf(b, sizeof(b), "\\x{%x}-\\x{d7ff}\\x{e000}-\\x{%x}", (unsigned)lo, (unsigned)hi);
		} else if (lo > hi) {
			continue;
		} else if (lo == hi) {
			snprintf(b, sizeof(b), "\\x{%x}", (unsigned)lo);
		} else {
			snprintf(b, sizeof(b), "\\x{%x}-\\x{%x}", (unsigned)lo, (unsigned)hi);
		}
		out_puts(o, b);
	}
	if (c->props.s)
		out_puts(o, c->props.s);
	out_puts(o, "]");
	return true;
}

/* ---- the parser ---- */

/* Tree heights follow Go's parse tree: a concatenation or an alternation
 * of several nodes, a capture and a repetition each add a level; a run of
 * literals is one node.  (Go also factors alternations, which can only
 * make its tree lower: cst refuses a few patterns nested just below the
 * limit that Go accepts.) */
struct frame {
	unsigned saved_flags;
	bool saved_caseless;
	bool capture;
	size_t open_at;	    /* where the group's output starts */
	uint32_t need;	    /* the largest atom_need inside */
	uint32_t branch_h;  /* the highest node of the current alternative */
	uint32_t branch_n;  /* its nodes */
	bool branch_lit;    /* its last node is a literal run */
	uint32_t alt_h;	    /* the highest alternative so far */
	uint32_t alt_n;	    /* alternatives closed so far */
};

struct parser {
	const char *p, *end;
	unsigned flags;
	struct out o;
	struct frame *st;
	size_t depth, stcap;
	struct frame top;
	/* The last atom of the current alternative, which a repetition
	 * applies to: where its output starts and the nested-repeat budget
	 * it needs (Go's repeatIsValid: counts multiply down the tree). */
	bool have_atom;
	bool atom_lit; /* a plain literal: joins a literal run */
	uint32_t atom_h;
	bool atom_single; /* one PCRE2 item: repeatable without a group */
	bool caseless;	  /* PCRE2's (?i) where the output ends */
	size_t atom_start;
	uint32_t atom_need;
	bool last_was_repeat;
	const char *why;
	const char *why_at;
};

static int fail(struct parser *ps, const char *why, const char *at)
{
	ps->why = why;
	ps->why_at = at;
	return -1;
}

static bool at_end(const struct parser *ps, size_t ahead)
{
	return (size_t)(ps->end - ps->p) <= ahead;
}

/* The next rune of the pattern (validated as UTF-8 up front). */
static uint32_t next_rune(const char **p, const char *end)
{
	uint32_t r;
	size_t n = utf8_valid_len((const unsigned char *)*p, (size_t)(end - *p), &r);
	*p += n;
	return r;
}

/* An atom's need counts once no repetition can follow it any more. */
static void commit_atom(struct parser *ps)
{
	if (!ps->have_atom)
		return;
	if (ps->atom_need > ps->top.need)
		ps->top.need = ps->atom_need;
	if (!(ps->atom_lit && ps->top.branch_lit))
		ps->top.branch_n++;
	ps->top.branch_lit = ps->atom_lit;
	if (ps->atom_h > ps->top.branch_h)
		ps->top.branch_h = ps->atom_h;
	ps->have_atom = false;
}

static void close_branch(struct parser *ps)
{
	commit_atom(ps);
	struct frame *f = &ps->top;
	uint32_t h = f->branch_n >= 2 ? f->branch_h + 1 : f->branch_n ? f->branch_h : 1;
	if (h > f->alt_h)
		f->alt_h = h;
	f->alt_n++;
	f->branch_h = f->branch_n = 0;
	f->branch_lit = false;
}

/* The height of the group's tree, its alternatives closed. */
static uint32_t group_height(const struct frame *f)
{
	return (f->alt_n >= 2 ? f->alt_h + 1 : f->alt_h) + (f->capture ? 1 : 0);
}

static void begin_atom(struct parser *ps)
{
	commit_atom(ps);
	ps->atom_start = ps->o.len;
	ps->have_atom = true;
	ps->atom_lit = false;
	ps->atom_h = 1;
	ps->atom_single = false;
	ps->atom_need = 0;
	ps->last_was_repeat = false;
}

static void end_atom(struct parser *ps, uint32_t need)
{
	ps->atom_need = need;
}

/* PCRE2's caseless option as the next atom needs it.  Written before the
 * atom starts, so that a group put around the atom for a repetition does
 * not scope it; PCRE2 scopes (?i) to the end of the enclosing group and
 * carries it across |, as Go does with its flags. */
static void set_caseless(struct parser *ps, bool on)
{
	if (ps->caseless == on)
		return;
	commit_atom(ps);
	out_puts(&ps->o, on ? "(?i)" : "(?-i)");
	ps->caseless = on;
}

static void emit_literal(struct parser *ps, uint32_t r)
{
	/* Only letters and non-ASCII characters have other cases. */
	if (r >= 0x80 || (r | 0x20) - 'a' < 26)
		set_caseless(ps, ps->flags & F_FOLD);
	begin_atom(ps);
	if (r >= 0xD800 && r <= 0xDFFF) {
		out_puts(&ps->o, "(?!)");
	} else {
		out_rune(&ps->o, r);
		ps->atom_single = true;
	}
	ps->atom_lit = true;
	end_atom(ps, 0);
}

static bool is_alnum(unsigned c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int unhex(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* A single escaped rune (Go's parseEscape); p is at the backslash. */
static int parse_escape(struct parser *ps, const char **pp, uint32_t *ret)
{
	const char *s = *pp, *t = s + 1;
	if (t >= ps->end)
		return fail(ps, "trailing backslash at end of expression", s);
	uint32_t c = next_rune(&t, ps->end);
	if (c < 0x80 && !is_alnum(c)) {
		*ret = c;
		*pp = t;
		return 0;
	}
	switch (c) {
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
		/* A single non-zero digit would be a backreference. */
		if (t >= ps->end || *t < '0' || *t > '7')
			break;
		/* fall through */
	case '0': {
		uint32_t r = c - '0';
		for (int i = 1; i < 3 && t < ps->end && *t >= '0' && *t <= '7'; i++)
			r = r * 8 + (uint32_t)(*t++ - '0');
		*ret = r;
		*pp = t;
		return 0;
	}
	case 'x': {
		if (t >= ps->end)
			break;
		c = next_rune(&t, ps->end);
		if (c == '{') {
			uint32_t r = 0;
			int nhex = 0;
			for (;;) {
				if (t >= ps->end)
					goto invalid;
				c = next_rune(&t, ps->end);
				if (c == '}')
					break;
				int v = unhex(c);
				if (v < 0)
					goto invalid;
				r = r * 16 + (uint32_t)v;
				if (r > MAX_RUNE)
					goto invalid;
				nhex++;
			}
			if (!nhex)
				break;
			*ret = r;
			*pp = t;
			return 0;
		}
		int x = unhex(c);
		if (t >= ps->end)
			break;
		c = next_rune(&t, ps->end);
		int y = unhex(c);
		if (x < 0 || y < 0)
			break;
		*ret = (uint32_t)(x * 16 + y);
		*pp = t;
		return 0;
	}
	case 'a': *ret = 7; *pp = t; return 0;
	case 'f': *ret = '\f'; *pp = t; return 0;
	case 'n': *ret = '\n'; *pp = t; return 0;
	case 'r': *ret = '\r'; *pp = t; return 0;
	case 't': *ret = '\t'; *pp = t; return 0;
	case 'v': *ret = '\v'; *pp = t; return 0;
	default:
		break;
	}
invalid:
	return fail(ps, "invalid escape sequence", s);
}

/* \d \s \w and their negations; 1 when p starts one. */
static int parse_perl_class(struct parser *ps, const char **pp, struct cls *c)
{
	const char *s = *pp;
	if (ps->end - s < 2 || s[0] != '\\')
		return 0;
	char k = s[1];
	bool neg = k >= 'A' && k <= 'Z';
	char lk = neg ? (char)(k + 32) : k;
	for (size_t i = 0; i < sizeof(perl_groups) / sizeof(perl_groups[0]); i++)
		if (perl_groups[i].name[0] == lk) {
			cls_add_group(c, &perl_groups[i], false, neg, ps->flags & F_FOLD);
			*pp = s + 2;
			return 1;
		}
	return 0;
}

/* \pL, \p{Name}, \P{Name}, \p{^Name}; 1 when p starts one, -1 on error.
 * Go folds a table before it negates it: with flip, a negated class is
 * added as its positive, folded self and *flip says the caller negates. */
static int parse_unicode_class(struct parser *ps, const char **pp, struct cls *c, bool *flip)
{
	const char *s = *pp;
	if (ps->end - s < 2 || s[0] != '\\' || (s[1] != 'p' && s[1] != 'P'))
		return 0;
	bool neg = s[1] == 'P';
	const char *t = s + 2, *name, *name_end;
	if (t >= ps->end)
		return fail(ps, "invalid character class range", s);
	if (*t != '{') {
		name = t;
		next_rune(&t, ps->end);
		name_end = t;
	} else {
		const char *close = memchr(s, '}', (size_t)(ps->end - s));
		if (!close)
			return fail(ps, "invalid character class range", s);
		name = s + 3;
		name_end = close;
		t = close + 1;
	}
	if (name < name_end && *name == '^') {
		neg = !neg;
		name++;
	}
	size_t len = (size_t)(name_end - name);
	bool any = len == 3 && !memcmp(name, "Any", 3);
	bool cat = in_list(go_categories, sizeof(go_categories) / sizeof(go_categories[0]), name, len);
	if (!any && !cat && !in_list(go_scripts, sizeof(go_scripts) / sizeof(go_scripts[0]), name, len))
		return fail(ps, "invalid character class range", s);
	if (any) {
		if (!neg)
			cls_add(c, 0, MAX_RUNE);
		*pp = t;
		return 1;
	}
	char nm[32], b[64];
	snprintf(nm, sizeof(nm), "%.*s", (int)len, name);
	/* The table as class items.  Go's C is Cc Cf Co Cs (PCRE2's adds the
	 * unassigned Cn); sc: takes a script by its Script property (PCRE2's
	 * \p{Greek} would take Script_Extensions: U+0345 is Inherited to Go). */
	struct cls pos = {0};
	bool is_c = strcmp(nm, "C") == 0;
	snprintf(b, sizeof(b), "\\p{%s%s}", cat ? "" : "sc:", nm);
	out_puts(&pos.props, is_c ? "\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}" : b);
	if (ps->flags & F_FOLD)
		cls_add_prop_folds(&pos, nm);
	if (neg && !is_c && pos.n == 0) {
		b[1] = 'P'; /* a single table: \P is its exact complement */
		out_puts(&c->props, b);
	} else if (!neg || flip) {
		/* Go folds a table before it negates it: negated alone, the
		 * caller negates the whole class. */
		if (neg)
			*flip = true;
		for (size_t i = 0; i < pos.n; i++)
			cls_add(c, pos.r[i].lo, pos.r[i].hi);
		if (pos.props.s)
			out_puts(&c->props, pos.props.s);
	} else {
		emit_class(&c->negs, &pos, false);
		out_puts(&c->negs, "\n");
	}
	if (pos.oom || pos.props.oom)
		c->oom = true;
	cls_free(&pos);
	*pp = t;
	return 1;
}

/* [:alpha:] and [:^alpha:] inside a class; 1 when p starts one. */
static int parse_posix_class(struct parser *ps, const char **pp, struct cls *c)
{
	const char *s = *pp;
	if (ps->end - s <= 2 || s[0] != '[' || s[1] != ':')
		return 0;
	const char *close = NULL;
	for (const char *q = s + 2; q + 1 < ps->end; q++)
		if (q[0] == ':' && q[1] == ']') {
			close = q;
			break;
		}
	if (!close)
		return 0;
	const char *name = s + 2;
	bool neg = false;
	if (name < close && *name == '^') {
		neg = true;
		name++;
	}
	size_t len = (size_t)(close - name);
	for (size_t i = 0; i < sizeof(posix_groups) / sizeof(posix_groups[0]); i++)
		if (strlen(posix_groups[i].name) == len && !memcmp(posix_groups[i].name, name, len)) {
			bool nul = !strcmp(posix_groups[i].name, "ascii") || !strcmp(posix_groups[i].name, "cntrl");
			cls_add_group(c, &posix_groups[i], nul, neg,
				      ps->flags & F_FOLD);
			*pp = close + 2;
			return 1;
		}
	return fail(ps, "invalid character class range", s);
}

static int parse_class_char(struct parser *ps, const char **pp, uint32_t *ret)
{
	if (*pp >= ps->end)
		return fail(ps, "missing closing ]", ps->p);
	if (**pp == '\\')
		return parse_escape(ps, pp, ret);
	*ret = next_rune(pp, ps->end);
	return 0;
}

static int parse_class(struct parser *ps)
{
	const char *t = ps->p + 1;
	struct cls c = {0};
	bool neg = false;
	int rc = 0;
	if (t < ps->end && *t == '^') {
		neg = true;
		t++;
	}
	bool first = true;
	while (t >= ps->end || *t != ']' || first) {
		first = false;
		int r = parse_posix_class(ps, &t, &c);
		if (!r)
			r = parse_unicode_class(ps, &t, &c, NULL);
		if (!r)
			r = parse_perl_class(ps, &t, &c);
		if (r < 0) {
			rc = -1;
			goto out;
		}
		if (r > 0)
			continue;
		const char *rng = t;
		uint32_t lo, hi;
		if (parse_class_char(ps, &t, &lo) < 0) {
			rc = -1;
			goto out;
		}
		hi = lo;
		if (ps->end - t >= 2 && t[0] == '-' && t[1] != ']') {
			t++;
			if (parse_class_char(ps, &t, &hi) < 0) {
				rc = -1;
				goto out;
			}
			if (hi < lo) {
				rc = fail(ps, "invalid character class range", rng);
				goto out;
			}
		}
		cls_add(&c, lo, hi);
	}
	if (c.oom || c.props.oom || c.negs.oom) {
		ps->o.oom = true;
		goto out;
	}
	set_caseless(ps, ps->flags & F_FOLD);
	begin_atom(ps);
	ps->atom_single = emit_class(&ps->o, &c, neg);
	end_atom(ps, 0);
	ps->p = t + 1;
out:
	cls_free(&c);
	return rc;
}

/* An escape outside a class: an assertion, \Q..\E, a class or a rune. */
static int parse_backslash(struct parser *ps)
{
	const char *s = ps->p;
	if (ps->end - s >= 2) {
		const char *a = NULL;
		switch (s[1]) {
		case 'A': a = "\\A"; break;
		case 'z': a = "\\z"; break;
		case 'b': a = "\\b"; break; /* ASCII \w: PCRE2 without UCP */
		case 'B': a = "\\B"; break;
		case 'C': return fail(ps, "invalid escape sequence", s);
		case 'Q': {
			const char *t = s + 2, *e = t;
			while (e < ps->end && !(e[0] == '\\' && e + 1 < ps->end && e[1] == 'E'))
				e++;
			ps->last_was_repeat = false;
			while (t < e)
				emit_literal(ps, next_rune(&t, e));
			ps->p = e < ps->end ? e + 2 : e;
			return 0;
		}
		default:
			break;
		}
		if (a) {
			begin_atom(ps);
			out_puts(&ps->o, a);
			end_atom(ps, 0);
			ps->p = s + 2;
			return 0;
		}
	}
	struct cls c = {0};
	const char *t = s;
	bool flip = false;
	int r = parse_unicode_class(ps, &t, &c, &flip);
	if (!r)
		r = parse_perl_class(ps, &t, &c);
	if (r > 0) {
		if (c.oom || c.props.oom || c.negs.oom) {
			ps->o.oom = true;
		} else {
			set_caseless(ps, ps->flags & F_FOLD);
			begin_atom(ps);
			ps->atom_single = emit_class(&ps->o, &c, flip);
			end_atom(ps, 0);
		}
		ps->p = t;
	}
	cls_free(&c);
	if (r < 0)
		return -1;
	if (r > 0)
		return 0;
	uint32_t rune;
	if (parse_escape(ps, &t, &rune) < 0)
		return -1;
	emit_literal(ps, rune);
	ps->p = t;
	return 0;
}

/* Go's parseInt: digits without a leading zero; -1 when too big. */
static bool parse_int(const char **pp, const char *end, long *ret)
{
	const char *s = *pp;
	if (s >= end || *s < '0' || *s > '9')
		return false;
	if (end - s >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return false;
	long n = 0;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (n >= 100000000)
			n = -1;
		else if (n >= 0)
			n = n * 10 + (*s - '0');
	}
	*ret = n;
	*pp = s;
	return true;
}

/* {n}, {n,}, {n,m}; false when p starts none (then `{` is a literal). */
static bool parse_braces(const char **pp, const char *end, long *min, long *max)
{
	const char *s = *pp + 1;
	if (!parse_int(&s, end, min) || s >= end)
		return false;
	if (*s != ',') {
		*max = *min;
	} else {
		s++;
		if (s >= end)
			return false;
		if (*s == '}') {
			*max = -1;
		} else {
			if (!parse_int(&s, end, max))
				return false;
			if (*max < 0)
				*min = -1;
		}
	}
	if (s >= end || *s != '}')
		return false;
	*pp = s + 1;
	return true;
}

static int parse_repeat(struct parser *ps)
{
	const char *before = ps->p, *t = ps->p;
	long min = 0, max = 0;
	bool braces = *t == '{';
	char q[48];
	if (braces) {
		if (!parse_braces(&t, ps->end, &min, &max)) {
			emit_literal(ps, '{');
			ps->p++;
			return 0;
		}
		if (min < 0 || min > (long)GO_MAX_REPEAT || max > (long)GO_MAX_REPEAT || (max >= 0 && min > max))
			return fail(ps, "invalid repeat count", before);
		if (max < 0)
			snprintf(q, sizeof(q), "{%ld,}", min);
		else if (min == max)
			snprintf(q, sizeof(q), "{%ld}", min);
		else
			snprintf(q, sizeof(q), "{%ld,%ld}", min, max);
	} else {
		q[0] = *t++;
		q[1] = '\0';
	}
	bool lazy = (ps->flags & F_UNGREEDY) != 0;
	if (t < ps->end && *t == '?') {
		t++;
		lazy = !lazy;
	}
	if (ps->last_was_repeat)
		return fail(ps, "invalid nested repetition operator", before);
	if (!ps->have_atom)
		return fail(ps, "missing argument to repetition operator", before);
	uint32_t need = ps->atom_need;
	if (braces) {
		uint32_t m = (uint32_t)(max >= 0 ? max : min);
		if (m == 0) {
			need = 0;
		} else {
			uint64_t n = (uint64_t)m * (need ? need : 1);
			need = n > GO_MAX_REPEAT * 10u ? GO_MAX_REPEAT * 10u : (uint32_t)n;
		}
		if ((min >= 2 || max >= 2) && need > GO_MAX_REPEAT)
			return fail(ps, "invalid repeat count", before);
	}
	if (ps->atom_h + 1 > GO_MAX_HEIGHT)
		return fail(ps, "expression nests too deeply", before);
	ps->atom_h++;
	ps->atom_lit = false;
	/* Fewer groups keep JIT code off its stack limit. */
	if (!ps->atom_single) {
		out_insert(&ps->o, ps->atom_start, "(", 1);
		out_puts(&ps->o, ")");
	}
	out_puts(&ps->o, q);
	if (lazy)
		out_puts(&ps->o, "?");
	end_atom(ps, need);
	ps->atom_single = false;
	ps->last_was_repeat = true;
	ps->p = t;
	return 0;
}

static int push_group(struct parser *ps, unsigned new_flags, bool capture)
{
	if (ps->depth >= GO_MAX_HEIGHT)
		return fail(ps, "expression nests too deeply", ps->p);
	if (ps->depth == ps->stcap) {
		size_t cap = ps->stcap ? ps->stcap * 2 : 16;
		struct frame *ns = realloc(ps->st, cap * sizeof(*ns));
		if (!ns) {
			ps->o.oom = true;
			return -1;
		}
		ps->st = ns;
		ps->stcap = cap;
	}
	commit_atom(ps);
	ps->st[ps->depth++] = ps->top;
	ps->top = (struct frame){
		.saved_flags = ps->flags, .saved_caseless = ps->caseless, .capture = capture, .open_at = ps->o.len};
	ps->flags = new_flags;
	ps->have_atom = false;
	ps->last_was_repeat = false;
	out_puts(&ps->o, "(");
	return 0;
}

/* (?flags), (?flags:, (?P<name>; everything else Go does not know. */
static int parse_perl_group(struct parser *ps)
{
	const char *s = ps->p, *t = s + 2;
	if (ps->end - s > 4 && s[2] == 'P' && s[3] == '<') {
		const char *gt = memchr(s, '>', (size_t)(ps->end - s));
		if (!gt)
			return fail(ps, "invalid named capture", s);
		const char *name = s + 4;
		if (name == gt)
			return fail(ps, "invalid named capture", s);
		for (const char *q = name; q < gt; q++)
			if (!is_alnum((unsigned char)*q) && *q != '_')
				return fail(ps, "invalid named capture", s);
		ps->p = gt + 1;
		return push_group(ps, ps->flags, true);
	}
	unsigned flags = ps->flags;
	bool negative = false, saw = false;
	while (t < ps->end) {
		uint32_t c = next_rune(&t, ps->end);
		unsigned bit = 0;
		switch (c) {
		case 'i': bit = F_FOLD; break;
		case 'm': bit = F_MULTI; break;
		case 's': bit = F_DOTNL; break;
		case 'U': bit = F_UNGREEDY; break;
		case '-':
			if (negative)
				goto bad;
			negative = true;
			saw = false;
			continue;
		case ':':
		case ')':
			if (negative && !saw)
				goto bad;
			if (c == ':') {
				ps->p = t;
				return push_group(ps, flags, false);
			}
			ps->flags = flags;
			ps->p = t;
			ps->last_was_repeat = false;
			return 0;
		default:
			goto bad;
		}
		if (negative)
			flags &= ~bit;
		else
			flags |= bit;
		saw = true;
	}
bad:
	return fail(ps, "invalid or unsupported Perl syntax", s);
}

static int parse_right_paren(struct parser *ps)
{
	if (ps->depth == 0)
		return fail(ps, "unexpected )", ps->p);
	out_puts(&ps->o, ")");
	close_branch(ps);
	uint32_t need = ps->top.need;
	uint32_t h = group_height(&ps->top);
	if (h > GO_MAX_HEIGHT)
		return fail(ps, "expression nests too deeply", ps->p);
	size_t open = ps->top.open_at;
	ps->flags = ps->top.saved_flags;
	ps->caseless = ps->top.saved_caseless;
	ps->top = ps->st[--ps->depth];
	/* The group is the atom a repetition after it applies to. */
	ps->have_atom = true;
	ps->last_was_repeat = false;
	ps->atom_start = open;
	ps->atom_lit = false;
	ps->atom_h = h;
	ps->atom_single = true; /* "(...)" */
	end_atom(ps, need);
	ps->p++;
	return 0;
}

static int parse(struct parser *ps)
{
	while (ps->p < ps->end) {
		char ch = *ps->p;
		int rc = 0;
		switch (ch) {
		case '(':
			if (!at_end(ps, 1) && ps->p[1] == '?') {
				rc = parse_perl_group(ps);
			} else {
				ps->p++;
				rc = push_group(ps, ps->flags, true);
			}
			break;
		case '|':
			out_puts(&ps->o, "|");
			close_branch(ps);
			ps->last_was_repeat = false;
			ps->p++;
			break;
		case ')':
			rc = parse_right_paren(ps);
			break;
		case '^':
		case '$':
			begin_atom(ps);
			/* Compiled multiline with ALT_CIRCUMFLEX and LF newlines: ^
			 * also matches after a final newline, as in Go. */
			if (!(ps->flags & F_MULTI))
				out_puts(&ps->o, ch == '^' ? "\\A" : "\\z");
			else
				out_puts(&ps->o, ch == '^' ? "^" : "$");
			end_atom(ps, 0);
			ps->p++;
			break;
		case '.':
			begin_atom(ps);
			out_puts(&ps->o, (ps->flags & F_DOTNL) ? "(?s:.)" : "[^\\n]");
			end_atom(ps, 0);
			ps->p++;
			break;
		case '[':
			rc = parse_class(ps);
			break;
		case '*':
		case '+':
		case '?':
		case '{':
			rc = parse_repeat(ps);
			break;
		case '\\':
			rc = parse_backslash(ps);
			break;
		default:
			emit_literal(ps, next_rune(&ps->p, ps->end));
			break;
		}
		if (rc < 0)
			return -1;
		if (ps->o.oom)
			return -1;
	}
	if (ps->depth > 0)
		return fail(ps, "missing closing )", ps->end);
	close_branch(ps);
	if (group_height(&ps->top) > GO_MAX_HEIGHT)
		return fail(ps, "expression nests too deeply", ps->end);
	return 0;
}

char *cst_re2_to_pcre2(const char *pattern, size_t len, struct cst_error *err)
{
	uint32_t r;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_valid_len((const unsigned char *)pattern + i, len - i, &r);
		if (!n) {
			cst_error_set(err, CST_E_CONFIG, "invalid UTF-8 at offset %zu", i);
			return NULL;
		}
		i += n;
	}
	struct parser ps = {.p = pattern, .end = pattern + len};
	int rc = parse(&ps);
	free(ps.st);
	if (rc == 0 && !ps.o.oom && !ps.o.s)
		out_puts(&ps.o, "");
	if (ps.o.oom) {
		free(ps.o.s);
		cst_error_set(err, CST_E_NOMEM, "out of memory translating regex");
		return NULL;
	}
	if (rc < 0) {
		free(ps.o.s);
		cst_error_set(err, CST_E_CONFIG, "%s at offset %zu", ps.why, (size_t)(ps.why_at - pattern));
		return NULL;
	}
	return ps.o.s;
}
