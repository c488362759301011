/* YAML text -> located tree, from libyaml's event stream.
 *
 * Events rather than libyaml's document loader, so that the reader controls
 * what a hostile file can cost: nesting is capped, an alias shares its
 * anchor's node and adds that node's expanded size to a running total
 * (an "alias bomb" fails as soon as the total passes the cap), and an anchor
 * only becomes usable once its node is complete, so an alias can never make
 * a cycle.  Like CST's YAML library, only the first document is read.
 */
#include "node.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct anchor {
	char *name;
	struct cfg_node *node;
};

struct frame {
	struct cfg_node *node;
	char *anchor; /* registered when the collection ends */
};

struct yreader {
	const char *file;
	const char *text;
	size_t len;
	struct cfg_doc *doc;
	struct frame stack[CFG_MAX_DEPTH];
	size_t depth;
	/* Anchors by name in an open-addressing table (a power-of-two size, at
	 * most half full): a file may define hundreds of thousands, and a
	 * linear search per alias made such a file take hours. */
	struct anchor *anchors;
	size_t n_anchors;
	size_t cap_anchors;
	size_t total; /* expanded nodes so far */
	bool aliased; /* an alias has added to total */
	struct cst_error *err;
};

static struct cst_loc mark_loc(const struct yreader *r, yaml_mark_t mark)
{
	return (struct cst_loc){r->file, (int)mark.line + 1, (int)mark.column + 1};
}

static int nomem(struct yreader *r)
{
	return cst_error_set(r->err, CST_E_NOMEM, "out of memory reading %s", r->file);
}

static int located(struct yreader *r, yaml_mark_t mark, const char *msg, const char *arg)
{
	struct cst_loc loc = mark_loc(r, mark);
	return cst_error_set(r->err, CST_E_CONFIG, "%s:%d:%d: %s%s%s%s", loc.file, loc.line, loc.col, msg,
			     arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
}

static size_t anchor_hash(const char *name)
{
	/* FNV-1a */
	size_t h = (size_t)14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * (size_t)1099511628211ull;
	return h;
}

static struct anchor *anchor_slot(struct anchor *table, size_t cap, const char *name)
{
	size_t i = anchor_hash(name) & (cap - 1);
	while (table[i].name && strcmp(table[i].name, name) != 0)
		i = (i + 1) & (cap - 1);
	return &table[i];
}

static int grow_anchors(struct yreader *r)
{
	size_t cap = r->cap_anchors ? r->cap_anchors * 2 : 16;
	struct anchor *table = calloc(cap, sizeof(*table));
	if (!table)
		return nomem(r);
	for (size_t i = 0; i < r->cap_anchors; i++) {
		if (r->anchors[i].name)
			*anchor_slot(table, cap, r->anchors[i].name) = r->anchors[i];
	}
	free(r->anchors);
	r->anchors = table;
	r->cap_anchors = cap;
	return 0;
}

/* The latest definition wins, as YAML specifies for a reused anchor name. */
static int add_anchor(struct yreader *r, const char *name, struct cfg_node *node)
{
	if (!name)
		return 0;
	if (2 * (r->n_anchors + 1) > r->cap_anchors && grow_anchors(r) < 0)
		return -1;
	struct anchor *a = anchor_slot(r->anchors, r->cap_anchors, name);
	if (a->name) {
		a->node = node;
		return 0;
	}
	if (!(a->name = strdup(name)))
		return nomem(r);
	a->node = node;
	r->n_anchors++;
	return 0;
}

static struct cfg_node *find_anchor(const struct yreader *r, const char *name)
{
	if (!r->cap_anchors)
		return NULL;
	return anchor_slot(r->anchors, r->cap_anchors, name)->node;
}

static int attach(struct yreader *r, struct cfg_node *node)
{
	if (r->depth == 0) {
		if (!r->doc->root)
			r->doc->root = node;
		return 0;
	}
	if (cfg_node_push(r->stack[r->depth - 1].node, node) < 0)
		return nomem(r);
	return 0;
}

static int count(struct yreader *r, size_t weight, yaml_mark_t mark)
{
	r->total += weight;
	if (r->total > CFG_MAX_EXPANDED_NODES) {
		struct cst_loc loc = mark_loc(r, mark);
		/* Without aliases the file is merely huge: no talk of a bomb. */
		if (!r->aliased)
			return cst_error_set(r->err, CST_E_CONFIG,
					     "%s:%d:%d: more than %u values in one config; split it into several files",
					     loc.file, loc.line, loc.col, CFG_MAX_EXPANDED_NODES);
		return cst_error_set(r->err, CST_E_CONFIG,
				     "%s:%d:%d: aliases expand to more than %u nodes (alias bomb?)", loc.file,
				     loc.line, loc.col, CFG_MAX_EXPANDED_NODES);
	}
	return 0;
}

static int on_scalar(struct yreader *r, const yaml_event_t *ev)
{
	struct cfg_node *node = cfg_node_new(r->doc, CFG_SCALAR, mark_loc(r, ev->start_mark));
	if (!node)
		return nomem(r);
	/* A NUL ("\0") is kept: CST's strings are Go's, and carry it on. */
	node->len = ev->data.scalar.length;
	node->text = cfg_doc_strndup(r->doc, (const char *)ev->data.scalar.value, ev->data.scalar.length);
	if (!node->text)
		return nomem(r);
	/* An explicit tag such as !!str makes even an unquoted scalar plain text. */
	node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
	if (count(r, 1, ev->start_mark) < 0)
		return -1;
	if (add_anchor(r, (const char *)ev->data.scalar.anchor, node) < 0)
		return -1;
	return attach(r, node);
}

static int on_start(struct yreader *r, const yaml_event_t *ev, enum cfg_kind kind)
{
	if (r->depth == CFG_MAX_DEPTH)
		return located(r, ev->start_mark, "nesting deeper than 64 levels", NULL);
	struct cfg_node *node = cfg_node_new(r->doc, kind, mark_loc(r, ev->start_mark));
	if (!node)
		return nomem(r);
	if (count(r, 1, ev->start_mark) < 0)
		return -1;
	const yaml_char_t *anchor =
		kind == CFG_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	char *copy = NULL;
	if (anchor && !(copy = strdup((const char *)anchor)))
		return nomem(r);
	r->stack[r->depth++] = (struct frame){node, copy};
	/* The stack frame owns copy now: on_end() or cfg_read_yaml() frees it. */
	/* cppcheck-suppress memleak */
	return 0;
}

static int on_end(struct yreader *r)
{
	struct frame f = r->stack[--r->depth];
	size_t weight = 1;
	for (size_t i = 0; i < f.node->n; i++)
		weight += f.node->items[i]->weight;
	f.node->weight = weight;
	int rc = add_anchor(r, f.anchor, f.node);
	free(f.anchor);
	if (rc < 0)
		return -1;
	return attach(r, f.node);
}

static int on_alias(struct yreader *r, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct cfg_node *node = find_anchor(r, name);
	if (!node)
		return located(r, ev->start_mark, "unknown anchor (or an alias inside its own anchor)", name);
	r->aliased = true;
	if (count(r, node->weight, ev->start_mark) < 0)
		return -1;
	return attach(r, node);
}

static int syntax_error(struct yreader *r, const yaml_parser_t *parser)
{
	if (parser->error == YAML_MEMORY_ERROR)
		return nomem(r);
	struct cst_loc loc = mark_loc(r, parser->problem_mark);
	if (parser->error == YAML_READER_ERROR) {
		/* libyaml gives only a byte offset for bad encoding: count lines
		 * so the message points at the byte like every other one does. */
		int line = 1, col = 1;
		for (size_t i = 0; i < parser->problem_offset && i < r->len; i++) {
			if (r->text[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		return cst_error_set(r->err, CST_E_CONFIG, "%s:%d:%d: invalid YAML: %s (byte %zu)", r->file, line, col,
				     parser->problem ? parser->problem : "unreadable input", parser->problem_offset);
	}
	return cst_error_set(r->err, CST_E_CONFIG, "%s:%d:%d: invalid YAML: %s%s%s", loc.file, loc.line, loc.col,
			     parser->problem ? parser->problem : "syntax error", parser->context ? " " : "",
			     parser->context ? parser->context : "");
}

static int run(struct yreader *r, yaml_parser_t *parser)
{
	bool seen_document = false;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(parser, &ev))
			return syntax_error(r, parser);
		int rc = 0;
		bool done = false;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			seen_document = true;
			break;
		case YAML_DOCUMENT_END_EVENT:
			done = seen_document;
			break;
		case YAML_SCALAR_EVENT:
			rc = on_scalar(r, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = on_start(r, &ev, CFG_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = on_start(r, &ev, CFG_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = on_end(r);
			break;
		case YAML_ALIAS_EVENT:
			rc = on_alias(r, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (rc < 0)
			return -1;
		if (done)
			return 0;
	}
}

int cfg_read_yaml(const char *file, const char *text, size_t len, struct cfg_doc *doc, struct cst_error *err)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return cst_error_set(err, CST_E_NOMEM, "out of memory reading %s", file);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

	struct yreader r = {.file = file, .text = text, .len = len, .doc = doc, .err = err};
	int rc = run(&r, &parser);

	while (r.depth > 0)
		free(r.stack[--r.depth].anchor);
	for (size_t i = 0; i < r.cap_anchors; i++)
		free(r.anchors[i].name);
	free(r.anchors);
	yaml_parser_delete(&parser);
	if (rc < 0)
		cfg_doc_release(doc);
	return rc;
}
