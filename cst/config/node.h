/* The located tree both config front ends produce.
 *
 * YAML and JSON text are read into this one small tree so that a single
 * typed builder (schema.c) validates both with the same messages.  Every node
 * keeps the 1-based line and column it starts at.  Nodes reached through a
 * YAML alias are shared, not copied: a node may have several parents, so
 * nodes are owned by the document's allocation chain, never by a parent.
 */
#ifndef CST_CONFIG_NODE_H
#define CST_CONFIG_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "cst/error.h"
#include "cst/index/arena.h"

enum cfg_kind {
	CFG_SCALAR,
	CFG_SEQ,
	CFG_MAP,
};

struct cfg_node {
	enum cfg_kind kind;
	struct cst_loc loc;
	/* CFG_SCALAR: the text as written (quotes and escapes resolved); plain
	 * is true for an unquoted scalar, which alone can be null, a boolean or
	 * a number. */
	char *text;
	size_t len; /* text's length: it may hold NUL bytes */
	bool plain;
	/* CFG_SEQ: items[0..n); CFG_MAP: key items[2i], value items[2i+1]. */
	struct cfg_node **items;
	size_t n;
	size_t cap;
	/* Nodes in the subtree with every alias expanded: what a walk costs. */
	size_t weight;
	struct cfg_node *next_alloc;
};

struct cfg_doc {
	struct cfg_node *root; /* NULL: the file holds no document */
	struct cfg_node *all;  /* allocation chain */
	bool json;
	/* The nodes and their texts: one block per 64 KiB, not a malloc each,
	 * so that freeing the tree leaves no holes among the config's own
	 * allocations, made while it lived. */
	struct cst_arena arena;
};

/* Limits that keep a hostile config from exhausting memory or stack. */
#define CFG_MAX_DEPTH 64
#define CFG_MAX_EXPANDED_NODES 1000000u

struct cfg_node *cfg_node_new(struct cfg_doc *doc, enum cfg_kind kind, struct cst_loc loc);
/* 0, or -1 when out of memory. */
int cfg_node_push(struct cfg_node *parent, struct cfg_node *child);
void cfg_doc_release(struct cfg_doc *doc);
/* A copy of s[0..n) that lives as long as doc; NULL when out of memory. */
char *cfg_doc_strndup(struct cfg_doc *doc, const char *s, size_t n);

static inline size_t cfg_map_len(const struct cfg_node *map)
{
	return map->n / 2;
}

static inline const struct cfg_node *cfg_map_key(const struct cfg_node *map, size_t i)
{
	return map->items[2 * i];
}

static inline const struct cfg_node *cfg_map_value(const struct cfg_node *map, size_t i)
{
	return map->items[2 * i + 1];
}

/* Whether a scalar's text holds a NUL byte: such text equals no key or
 * keyword, which are C strings. */
static inline bool cfg_has_nul(const struct cfg_node *node)
{
	return strlen(node->text) != node->len;
}

/* An unquoted ~, null, Null, NULL or nothing at all. */
bool cfg_is_null(const struct cfg_node *node);
/* "a map", "a list", "a string", "a number", "null"... for messages. */
const char *cfg_describe(const struct cfg_node *node, bool json);

/* Front ends.  Both return 0 with doc filled, or -1 with err holding a
 * located syntax error (CST_E_CONFIG) or CST_E_NOMEM.  `file` is used for
 * the nodes' locations and must outlive doc. */
int cfg_read_yaml(const char *file, const char *text, size_t len, struct cfg_doc *doc, struct cst_error *err);
int cfg_read_json(const char *file, const char *text, size_t len, struct cfg_doc *doc, struct cst_error *err);

#endif
