/* Value setters shared by every config object (see build.h for the
 * setter contract): each converts one value into the member at f->off and
 * reports located problems in ctx, never failing the whole load. */
#ifndef CST_CONFIG_VALUES_H
#define CST_CONFIG_VALUES_H

#include "build.h"

#define SETTER(name)                                                                                              \
	void name(struct build_ctx *ctx, const struct field *f, const struct cfg_node *key,                       \
		  const struct cfg_node *v, void *obj)

SETTER(cfg_set_str);     /* struct cst_str; null leaves it absent */
SETTER(cfg_set_cstr);    /* char * at off, its length at off2 */
SETTER(cfg_set_bool);    /* bool */
SETTER(cfg_set_int);     /* int */
SETTER(cfg_set_timeout); /* double, seconds >= 0 */
SETTER(cfg_set_strv);    /* struct cst_strv; null leaves it absent, [] is present */
SETTER(cfg_set_strv_ptr); /* the same for CST's *[]string (cmd, entrypoint) */
SETTER(cfg_set_patterns); /* struct cst_patternv, each compiled */
SETTER(cfg_set_commands); /* struct cst_strv * at off, count at off2 */
SETTER(cfg_set_objects);  /* array of f->desc at off, count at off2 */
SETTER(cfg_set_object);   /* one f->desc */
SETTER(cfg_set_kvv);      /* struct cst_kvv of f->desc entries */

/* Shared by the setters of single keys. */
const char *cfg_got(const struct build_ctx *ctx, const struct cfg_node *v, char *buf, size_t size);
void cfg_type_error(struct build_ctx *ctx, const char *key, const struct cfg_node *v, const char *expected);
bool cfg_is_text(const struct build_ctx *ctx, const struct cfg_node *v);
/* A Go int as CST's decoder reads one: 1 with *ret set (YAML null is 0);
 * 0 for JSON null, which changes nothing; -1 when not an integer (reported). */
int cfg_int_value(struct build_ctx *ctx, const struct cfg_node *key, const struct cfg_node *v, long long *ret);
void cfg_fill_strv(struct build_ctx *ctx, const char *key, const struct cfg_node *v, struct cst_strv *out);

#endif
