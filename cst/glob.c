#include "cst/glob.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind {
	TOK_BYTE,
	TOK_ANY,       /* ? */
	TOK_CLASS,     /* [...] */
	TOK_STAR,      /* * within a component */
	TOK_DSTAR,     /* ** */
	TOK_DSTAR_DIR, /* ** followed by /: nothing, or anything ending in / ... */
	TOK_DSTAR_IN,  /* ... past its first byte: no longer nothing */
};

struct tok {
	uint8_t kind;
	uint8_t byte;
	uint16_t set; /* TOK_CLASS: index into sets */
};

/* Words of a state set: the tokens of the longest pattern (a relative
 * one gets 4 bytes before it, "**" + "/" is 2 tokens for 3 bytes), plus
 * the final state. */
#define STATE_WORDS ((CST_GLOB_MAX + 4 + 1 + 63) / 64)

struct byteset {
	uint64_t bits[4];
};

struct cst_glob {
	char *pattern;
	struct tok *toks;
	size_t n;
	struct byteset *sets;
	size_t n_sets;
	size_t words; /* of a state set: n + 1 states */
	/* Most globs are mostly literal: the literal bytes they start and end
	 * with reject most paths before the automaton runs, and a literal
	 * prefix and a final ** decide alone. */
	char *prefix;
	size_t prefix_len;
	char *suffix;
	size_t suffix_len;
	bool literal;      /* no wildcard at all: the prefix is the whole */
	bool prefix_dstar; /* the prefix, then ** alone */
};

static bool set_has(const struct byteset *s, unsigned char c)
{
	return (s->bits[c >> 6] >> (c & 63)) & 1;
}

static void set_add(struct byteset *s, unsigned char c)
{
	s->bits[c >> 6] |= (uint64_t)1 << (c & 63);
}

/* Parses the class starting after '[' at p; returns the byte after ']'
 * or NULL when it is not closed. */
static const char *parse_class(const char *p, struct byteset *out)
{
	bool negate = *p == '!' || *p == '^';
	if (negate)
		p++;
	memset(out, 0, sizeof(*out));
	bool first = true;
	while (*p && (*p != ']' || first)) {
		first = false;
		unsigned char lo = (unsigned char)*p;
		if (lo == '\\' && p[1])
			lo = (unsigned char)*++p;
		p++;
		unsigned char hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			hi = (unsigned char)*p;
			if (hi == '\\' && p[1])
				hi = (unsigned char)*++p;
			p++;
		}
		for (unsigned c = lo; c <= hi; c++)
			set_add(out, (unsigned char)c);
	}
	if (*p != ']')
		return NULL;
	if (negate)
		for (int i = 0; i < 4; i++)
			out->bits[i] = ~out->bits[i];
	/* No class matches the separator. */
	out->bits['/' >> 6] &= ~((uint64_t)1 << ('/' & 63));
	return p + 1;
}

struct cst_glob *cst_glob_compile(const char *pattern, struct cst_error *err)
{
	size_t plen = strlen(pattern);
	if (plen == 0) {
		cst_error_set(err, CST_E_CONFIG, "empty glob");
		return NULL;
	}
	if (plen > CST_GLOB_MAX) {
		cst_error_set(err, CST_E_CONFIG, "glob longer than %d bytes", CST_GLOB_MAX);
		return NULL;
	}
	struct cst_glob *g = calloc(1, sizeof(*g));
	/* A relative pattern matches at any depth: as if "/", "**", "/" came first. */
	const char *prefix = pattern[0] == '/' ? "" : (pattern[0] == '*' && pattern[1] == '*') ? "/" : "/**/";
	size_t len = strlen(prefix) + plen;
	if (!g || !(g->pattern = strdup(pattern)) || !(g->toks = calloc(len + 1, sizeof(*g->toks))) ||
	    !(g->sets = calloc(len / 2 + 1, sizeof(*g->sets)))) {
		cst_glob_free(g);
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		return NULL;
	}
	char *full = malloc(len + 1);
	if (!full) {
		cst_glob_free(g);
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		return NULL;
	}
	snprintf(full, len + 1, "%s%s", prefix, pattern);
	/* Paths never end in '/': neither does what they are matched with. */
	while (len > 1 && full[len - 1] == '/' && (len < 2 || full[len - 2] != '\\'))
		full[--len] = '\0';

	const char *p = full;
	while (*p) {
		struct tok *t = &g->toks[g->n];
		if (p[0] == '*' && p[1] == '*') {
			while (*p == '*')
				p++;
			if (*p == '/') {
				p++;
				/* Two states: matching nothing is possible only
				 * before the first byte. */
				t->kind = TOK_DSTAR_DIR;
				g->toks[++g->n].kind = TOK_DSTAR_IN;
			} else {
				t->kind = TOK_DSTAR;
			}
			/* Repeated stars add nothing to what one matches. */
			if (g->n && g->toks[g->n - 1].kind == TOK_DSTAR && t->kind == TOK_DSTAR)
				continue;
		} else if (*p == '*') {
			p++;
			t->kind = TOK_STAR;
			if (g->n && g->toks[g->n - 1].kind == TOK_STAR)
				continue;
		} else if (*p == '?') {
			p++;
			t->kind = TOK_ANY;
		} else if (*p == '[') {
			const char *end = parse_class(p + 1, &g->sets[g->n_sets]);
			if (!end) {
				cst_error_set(err, CST_E_CONFIG, "glob '%s': '[' at byte %zu is not closed", pattern,
					      (size_t)(p - full) - strlen(prefix) + 1);
				free(full);
				cst_glob_free(g);
				return NULL;
			}
			t->kind = TOK_CLASS;
			t->set = (uint16_t)g->n_sets++;
			p = end;
		} else {
			if (*p == '\\' && p[1])
				p++;
			t->kind = TOK_BYTE;
			t->byte = (uint8_t)*p++;
		}
		g->n++;
	}
	free(full);
	g->words = (g->n + 1 + 63) / 64;
	size_t np = 0, ns = 0;
	while (np < g->n && g->toks[np].kind == TOK_BYTE)
		np++;
	while (ns < g->n - np && g->toks[g->n - 1 - ns].kind == TOK_BYTE)
		ns++;
	if (!(g->prefix = malloc(np + 1)) || !(g->suffix = malloc(ns + 1))) {
		cst_glob_free(g);
		cst_error_set(err, CST_E_NOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < np; i++)
		g->prefix[i] = (char)g->toks[i].byte;
	for (size_t i = 0; i < ns; i++)
		g->suffix[i] = (char)g->toks[g->n - ns + i].byte;
	g->prefix_len = np;
	g->suffix_len = ns;
	g->literal = np == g->n;
	g->prefix_dstar = np + 1 == g->n && g->toks[np].kind == TOK_DSTAR;
	return g;
}

static bool has_state(const uint64_t *s, size_t i)
{
	return (s[i >> 6] >> (i & 63)) & 1;
}

static void add_state(uint64_t *s, size_t i)
{
	s[i >> 6] |= (uint64_t)1 << (i & 63);
}

/* Stars match nothing too: a state before one is also a state after it. */
static void close_states(const struct cst_glob *g, uint64_t *s)
{
	for (size_t i = 0; i < g->n; i++) {
		if (!has_state(s, i))
			continue;
		if (g->toks[i].kind == TOK_STAR || g->toks[i].kind == TOK_DSTAR)
			add_state(s, i + 1);
		else if (g->toks[i].kind == TOK_DSTAR_DIR)
			add_state(s, i + 2);
	}
}

bool cst_glob_match(const struct cst_glob *g, const char *path, size_t len)
{
	if (len < g->prefix_len || memcmp(path, g->prefix, g->prefix_len) != 0)
		return false;
	if (g->literal)
		return len == g->prefix_len;
	if (g->prefix_dstar)
		return true;
	if (len < g->suffix_len || memcmp(path + len - g->suffix_len, g->suffix, g->suffix_len) != 0)
		return false;
	/* The pattern's length is capped, so its state sets fit here. */
	uint64_t buf[2][STATE_WORDS];
	uint64_t *cur = buf[0], *next = buf[1];
	memset(cur, 0, g->words * sizeof(uint64_t));
	/* The prefix matched already: start past it. */
	add_state(cur, g->prefix_len);
	close_states(g, cur);
	bool alive = true;
	for (size_t k = g->prefix_len; k < len && alive; k++) {
		unsigned char c = (unsigned char)path[k];
		memset(next, 0, g->words * sizeof(uint64_t));
		alive = false;
		for (size_t w = 0; w < g->words; w++) {
			for (uint64_t bits = cur[w]; bits; bits &= bits - 1) {
				size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
				if (i >= g->n)
					continue;
				const struct tok *t = &g->toks[i];
				switch (t->kind) {
				case TOK_BYTE:
					if (c == t->byte)
						add_state(next, i + 1);
					break;
				case TOK_ANY:
					if (c != '/')
						add_state(next, i + 1);
					break;
				case TOK_CLASS:
					if (set_has(&g->sets[t->set], c))
						add_state(next, i + 1);
					break;
				case TOK_STAR:
					if (c != '/')
						add_state(next, i);
					break;
				case TOK_DSTAR:
					add_state(next, i);
					break;
				case TOK_DSTAR_DIR:
					add_state(next, i + 1);
					if (c == '/')
						add_state(next, i + 2);
					break;
				case TOK_DSTAR_IN:
					add_state(next, i);
					if (c == '/')
						add_state(next, i + 1);
					break;
				default:
					break;
				}
			}
		}
		close_states(g, next);
		for (size_t w = 0; w < g->words && !alive; w++)
			alive = next[w] != 0;
		uint64_t *tmp = cur;
		cur = next;
		next = tmp;
	}
	return alive && has_state(cur, g->n);
}

const char *cst_glob_pattern(const struct cst_glob *g)
{
	return g->pattern;
}

void cst_glob_free(struct cst_glob *g)
{
	if (!g)
		return;
	free(g->pattern);
	free(g->prefix);
	free(g->suffix);
	free(g->toks);
	free(g->sets);
	free(g);
}
