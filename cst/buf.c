#include "cst/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cst_budget_init(struct cst_budget *bg, size_t total)
{
	atomic_init(&bg->left, total);
	bg->total = total;
}

/* Up to n bytes from the budget: what it had left when it has less. */
static size_t budget_take(struct cst_budget *bg, size_t n)
{
	size_t left = atomic_load(&bg->left);
	size_t take;
	do
		take = n < left ? n : left;
	while (take && !atomic_compare_exchange_weak(&bg->left, &left, left - take));
	return take;
}

void cst_buf_init(struct cst_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->truncated = false;
	b->budget = NULL;
	b->over_budget = false;
}

static int grow(struct cst_buf *b, size_t need)
{
	if (need + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need + 1) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int cst_buf_append(struct cst_buf *b, const void *p, size_t n)
{
	if (b->max) {
		size_t room = b->len < b->max ? b->max - b->len : 0;
		if (n > room) {
			n = room;
			b->truncated = true;
		}
	}
	if (b->budget && n) {
		size_t take = budget_take(b->budget, n);
		if (take < n) {
			n = take;
			b->truncated = true;
			b->over_budget = true;
		}
	}
	if (n > SIZE_MAX - b->len - 1 || grow(b, b->len + n) < 0) {
		if (b->budget)
			atomic_fetch_add(&b->budget->left, n);
		return -1;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int cst_buf_puts(struct cst_buf *b, const char *s)
{
	return cst_buf_append(b, s, strlen(s));
}

int cst_buf_printf(struct cst_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	int r = cst_buf_append(b, s, (size_t)n);
	free(s);
	return r;
}

char *cst_buf_detach(struct cst_buf *b, size_t *ret_len)
{
	char *d = b->data;
	if (!d) {
		d = calloc(1, 1);
		if (!d)
			return NULL;
	}
	if (ret_len)
		*ret_len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->truncated = false;
	b->over_budget = false;
	return d;
}

void cst_buf_reset(struct cst_buf *b)
{
	if (b->budget)
		atomic_fetch_add(&b->budget->left, b->len);
	b->len = 0;
	b->truncated = false;
	b->over_budget = false;
	if (b->data)
		b->data[0] = '\0';
}

void cst_buf_release(struct cst_buf *b)
{
	if (b->budget)
		atomic_fetch_add(&b->budget->left, b->len);
	free(b->data);
	struct cst_budget *bg = b->budget;
	cst_buf_init(b, b->max);
	b->budget = bg;
}
