#define PCRE2_CODE_UNIT_WIDTH 8
#include "cst/match.h"

#include "re2_syntax.h"

#include <pcre2.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Bounds that turn catastrophic backtracking into a test failure within a
 * second or so instead of a hung CI job. */
#define CST_MATCH_LIMIT 10000000u
#define CST_DEPTH_LIMIT 100000u

/* Below this many bytes the interpreter is about as quick as JIT code, and
 * JIT-compiling every pattern of a big config up front costs memory: the
 * compiler's own code pages and executable mappings for the code it makes.
 * A pattern is JIT-compiled the first time it meets a longer text. */
#define CST_JIT_MIN_SUBJECT ((size_t)64 * 1024)

struct cst_regex {
	pcre2_code *code;
	/* A JIT-compiled copy, made on first need; the interpreter never sees
	 * the JIT compiler change its code under another thread's match. */
	_Atomic(pcre2_code *) jit;
	pthread_mutex_t jit_lock;
	bool jit_tried;
	pcre2_match_context *mctx;
	char *pattern;
};

/* Go refuses nesting deeper than 1000; the rewritten pattern adds a group
 * around each repeated atom and each case-folded one. */
#define CST_PARENS_NEST_LIMIT 3200u

struct cst_regex *cst_regex_compile(const char *pattern, struct cst_error *err)
{
	return cst_regex_compilen(pattern, strlen(pattern), err);
}

struct cst_regex *cst_regex_compilen(const char *pattern, size_t len, struct cst_error *err)
{
	struct cst_error why = CST_ERROR_INIT;
	char *translated = cst_re2_to_pcre2(pattern, len, &why);
	if (!translated) {
		if (why.code == CST_E_NOMEM)
			cst_error_set(err, CST_E_NOMEM, "out of memory compiling regex");
		else
			cst_error_set(err, CST_E_CONFIG, "invalid regex '%s': %s", pattern, why.msg);
		cst_error_clear(&why);
		return NULL;
	}
	int errcode = 0;
	PCRE2_SIZE erroff = 0;
	/* The rewritten pattern spells out every Go rule (see re2_syntax.h);
	 * the subject reaches PCRE2 as valid UTF-8 (cst_regex_match). */
	/* NO_AUTO_CAPTURE: its groups are plain "(", which PCRE2 nests deeper
	 * than "(?:".  MULTILINE: ^ and $ are only written for Go's (?m), \A
	 * and \z otherwise. */
	uint32_t flags = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C | PCRE2_NO_AUTO_CAPTURE |
			 PCRE2_MULTILINE | PCRE2_ALT_CIRCUMFLEX;
	pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
	if (cctx) {
		pcre2_set_parens_nest_limit(cctx, CST_PARENS_NEST_LIMIT);
		pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
	}
	pcre2_code *code = cctx ? pcre2_compile((PCRE2_SPTR)translated, PCRE2_ZERO_TERMINATED, flags, &errcode,
						&erroff, cctx)
				: NULL;
	pcre2_compile_context_free(cctx);
	free(translated);
	if (!code) {
		PCRE2_UCHAR msg[256];
		if (!cctx)
			strcpy((char *)msg, "out of memory");
		else if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "unknown error");
		cst_error_set(err, CST_E_CONFIG, "invalid regex '%s': %s", pattern, (char *)msg);
		return NULL;
	}
	struct cst_regex *re = calloc(1, sizeof(*re));
	pcre2_match_context *mctx = pcre2_match_context_create(NULL);
	char *copy = malloc(len + 1);
	if (copy) {
		memcpy(copy, pattern, len);
		copy[len] = '\0';
	}
	if (!re || !mctx || !copy) {
		free(re);
		free(copy);
		pcre2_match_context_free(mctx);
		pcre2_code_free(code);
		cst_error_set(err, CST_E_NOMEM, "out of memory compiling regex");
		return NULL;
	}
	pcre2_set_match_limit(mctx, CST_MATCH_LIMIT);
	pcre2_set_depth_limit(mctx, CST_DEPTH_LIMIT);
	re->code = code;
	pthread_mutex_init(&re->jit_lock, NULL);
	re->mctx = mctx;
	re->pattern = copy;
	return re;
}

/* The code to match a text of len bytes with.  JIT is an optimisation
 * only: when it is unavailable the interpreter runs.  CST_NO_JIT turns it
 * off for valgrind, which cannot follow JIT-compiled code and reports its
 * reads as uninitialised. */
static const pcre2_code *code_for(struct cst_regex *re, size_t len)
{
	if (len < CST_JIT_MIN_SUBJECT)
		return re->code;
	pcre2_code *jit = atomic_load_explicit(&re->jit, memory_order_acquire);
	if (jit)
		return jit;
	pthread_mutex_lock(&re->jit_lock);
	const char *no_jit = getenv("CST_NO_JIT");
	if (!re->jit_tried && (!no_jit || !*no_jit)) {
		re->jit_tried = true;
		pcre2_code *copy = pcre2_code_copy(re->code);
		if (copy && pcre2_jit_compile(copy, PCRE2_JIT_COMPLETE) == 0)
			atomic_store_explicit(&re->jit, copy, memory_order_release);
		else
			pcre2_code_free(copy);
	}
	pthread_mutex_unlock(&re->jit_lock);
	jit = atomic_load_explicit(&re->jit, memory_order_acquire);
	return jit ? jit : re->code;
}

int cst_regex_match(const struct cst_regex *cre, const char *text, size_t len, struct cst_error *err)
{
	/* Only the lazily made JIT copy changes, under its lock. */
	struct cst_regex *re = (struct cst_regex *)cre;
	if (!text)
		len = 0;
	/* Go reads each byte that is not part of valid UTF-8 as U+FFFD: such a
	 * byte matches `.`, [^a] and \x{FFFD} there, where PCRE2 would match
	 * nothing across it. */
	char *fixed = NULL;
	size_t bad = len ? cst_utf8_bad_bytes(text, len) : 0;
	if (bad) {
		fixed = malloc(len + 2 * bad);
		if (!fixed)
			return cst_error_set(err, CST_E_NOMEM, "out of memory matching regex");
		cst_utf8_replace_bad(text, len, fixed);
		text = fixed;
		len += 2 * bad;
	}
	const pcre2_code *code = code_for(re, len);
	/* Match data per call keeps a compiled regex usable from several threads. */
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
	if (!md) {
		free(fixed);
		return cst_error_set(err, CST_E_NOMEM, "out of memory matching regex");
	}
	PCRE2_SPTR subject = (PCRE2_SPTR)(text ? text : "");
	int rc = pcre2_match(code, subject, len, 0, 0, md, re->mctx);
	/* JIT code backtracks on a small fixed stack; the interpreter's
	 * backtracking is bounded by the match and depth limits instead. */
	if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
		rc = pcre2_match(re->code, subject, len, 0, 0, md, re->mctx);
	pcre2_match_data_free(md);
	free(fixed);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	PCRE2_UCHAR msg[256];
	if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
		strcpy((char *)msg, "unknown error");
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
		return cst_error_set(err, CST_E_CONFIG,
				     "regex '%s' gave up: %s (the pattern backtracks too much on this input)",
				     re->pattern, (char *)msg);
	return cst_error_set(err, CST_E_INTERNAL, "regex '%s': %s", re->pattern, (char *)msg);
}

const char *cst_regex_pattern(const struct cst_regex *re)
{
	return re->pattern;
}

void cst_regex_free(struct cst_regex *re)
{
	if (!re)
		return;
	pcre2_code_free(re->code);
	pcre2_code_free(atomic_load(&re->jit));
	pthread_mutex_destroy(&re->jit_lock);
	pcre2_match_context_free(re->mctx);
	free(re->pattern);
	free(re);
}
