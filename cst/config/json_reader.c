/* JSON text -> located tree.
 *
 * jansson decides what is valid JSON (CST reads JSON with a strict JSON
 * decoder, and YAML would accept far more), but it keeps no positions.  JSON
 * is YAML's flow syntax, so once jansson has accepted the text, libyaml reads
 * it again to get every node's line and column.  The few valid JSON texts
 * libyaml refuses (a surrogate pair written as two \u escapes) are built from
 * jansson's tree instead, located at the start of the file.
 */
#include "node.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct cfg_node *from_json(struct cfg_doc *doc, const json_t *v, struct cst_loc loc)
{
	char num[64];
	const char *text = NULL;
	size_t len = 0;
	enum cfg_kind kind = CFG_SCALAR;
	bool plain = true;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		kind = CFG_MAP;
		break;
	case JSON_ARRAY:
		kind = CFG_SEQ;
		break;
	case JSON_STRING:
		text = json_string_value(v);
		len = json_string_length(v);
		plain = false;
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		text = num;
		len = strlen(num);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		text = num;
		len = strlen(num);
		break;
	case JSON_TRUE:
		text = "true";
		len = 4;
		break;
	case JSON_FALSE:
		text = "false";
		len = 5;
		break;
	case JSON_NULL:
		text = "null";
		len = 4;
		break;
	}

	struct cfg_node *node = cfg_node_new(doc, kind, loc);
	if (!node)
		return NULL;
	if (kind == CFG_SCALAR) {
		node->plain = plain;
		if (!(node->text = cfg_doc_strndup(doc, text, len)))
			return NULL;
		node->len = len;
		return node;
	}
	if (kind == CFG_SEQ) {
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item) {
			struct cfg_node *child = from_json(doc, item, loc);
			if (!child || cfg_node_push(node, child) < 0)
				return NULL;
			node->weight += child->weight;
		}
		return node;
	}
	const char *key;
	json_t *item;
	json_object_foreach((json_t *)v, key, item) {
		struct cfg_node *k = cfg_node_new(doc, CFG_SCALAR, loc);
		if (!k || !(k->text = cfg_doc_strndup(doc, key, strlen(key))) || cfg_node_push(node, k) < 0)
			return NULL;
		k->len = strlen(key);
		struct cfg_node *child = from_json(doc, item, loc);
		if (!child || cfg_node_push(node, child) < 0)
			return NULL;
		node->weight += 1 + child->weight;
	}
	return node;
}

int cfg_read_json(const char *file, const char *text, size_t len, struct cfg_doc *doc, struct cst_error *err)
{
	json_error_t jerr;
	/* Duplicate keys are left to the builder, which reports every one of
	 * them with its location instead of the first alone. */
	/* \u0000 is a string's NUL byte, as for Go; integers past 64 bits are
	 * numbers all the same (an int field refuses them, as Go's does). */
	json_t *root = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
	if (!root) {
		int line = jerr.line > 0 ? jerr.line : 1;
		int col = jerr.column > 0 ? jerr.column : 1;
		return cst_error_set(err, CST_E_CONFIG, "%s:%d:%d: invalid JSON: %s", file, line, col, jerr.text);
	}

	struct cst_error yerr = CST_ERROR_INIT;
	int rc = cfg_read_yaml(file, text, len, doc, &yerr);
	if (rc < 0 && yerr.code == CST_E_NOMEM) {
		cst_error_move(err, &yerr);
	} else if (rc < 0) {
		/* The YAML syntax error is meaningless to a JSON author: jansson
		 * accepted the text, so build without positions. */
		struct cst_loc loc = {file, 1, 1};
		doc->root = from_json(doc, root, loc);
		if (doc->root) {
			rc = 0;
		} else {
			cfg_doc_release(doc);
			cst_error_set(err, CST_E_NOMEM, "out of memory reading %s", file);
		}
	}
	cst_error_clear(&yerr);
	json_decref(root);
	if (rc == 0)
		doc->json = true;
	return rc;
}
