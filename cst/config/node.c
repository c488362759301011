#include "node.h"

#include <stdlib.h>
#include <string.h>

struct cfg_node *cfg_node_new(struct cfg_doc *doc, enum cfg_kind kind, struct cst_loc loc)
{
	struct cfg_node *node = cst_arena_alloc(&doc->arena, sizeof(*node));
	if (!node)
		return NULL;
	memset(node, 0, sizeof(*node));
	node->kind = kind;
	node->loc = loc;
	node->weight = 1;
	node->next_alloc = doc->all;
	doc->all = node;
	return node;
}

int cfg_node_push(struct cfg_node *parent, struct cfg_node *child)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct cfg_node **items = realloc(parent->items, cap * sizeof(*items));
		if (!items)
			return -1;
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->n++] = child;
	return 0;
}

void cfg_doc_release(struct cfg_doc *doc)
{
	struct cfg_node *node = doc->all;
	while (node) {
		struct cfg_node *next = node->next_alloc;
		free(node->items);
		node = next;
	}
	cst_arena_release(&doc->arena);
	doc->all = NULL;
	doc->root = NULL;
}

char *cfg_doc_strndup(struct cfg_doc *doc, const char *s, size_t n)
{
	return cst_arena_strndup(&doc->arena, s, n);
}

bool cfg_is_null(const struct cfg_node *node)
{
	if (node->kind != CFG_SCALAR || !node->plain)
		return false;
	const char *t = node->text;
	return !strcmp(t, "") || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL");
}

const char *cfg_describe(const struct cfg_node *node, bool json)
{
	switch (node->kind) {
	case CFG_MAP:
		return "a map";
	case CFG_SEQ:
		return "a list";
	case CFG_SCALAR:
		break;
	}
	if (cfg_is_null(node))
		return "null";
	if (!node->plain)
		return "a string";
	if (!json)
		return "a scalar";
	if (!strcmp(node->text, "true") || !strcmp(node->text, "false"))
		return "a boolean";
	return "a number";
}
