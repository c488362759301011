/* Freeing what the builder filled: used by cst_config_free() and by the
 * setters, which release a member before a later key (a JSON duplicate, a
 * YAML merge) sets it again. */
#include <stdlib.h>
#include <string.h>

#include "build.h"

void cfg_str_release(struct cst_str *s)
{
	free(s->s);
	s->s = NULL;
	s->len = 0;
}

void cfg_strv_release(struct cst_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i].s);
	free(v->v);
	v->v = NULL;
	v->n = 0;
	v->present = false;
}

void cfg_patternv_release(struct cst_patternv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].src);
		cst_regex_free(v->v[i].re);
	}
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

void cfg_kv_release(void *obj)
{
	struct cst_kv *kv = obj;
	free(kv->key);
	free(kv->value);
	cst_regex_free(kv->re);
	kv->key = kv->value = NULL;
	kv->key_len = kv->value_len = 0;
	kv->re = NULL;
}

void cfg_kvv_release(struct cst_kvv *v)
{
	for (size_t i = 0; i < v->n; i++)
		cfg_kv_release(&v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
	v->present = false;
}

void cfg_commands_release(struct cst_strv **cmds, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		cfg_strv_release(&(*cmds)[i]);
	free(*cmds);
	*cmds = NULL;
	*n = 0;
}

void cfg_command_test_release(void *obj)
{
	struct cst_command_test *t = obj;
	cfg_str_release(&t->name);
	cfg_str_release(&t->command);
	cfg_strv_release(&t->args);
	cfg_commands_release(&t->setup, &t->n_setup);
	cfg_commands_release(&t->teardown, &t->n_teardown);
	cfg_kvv_release(&t->env);
	cfg_patternv_release(&t->expected_output);
	cfg_patternv_release(&t->excluded_output);
	cfg_patternv_release(&t->expected_error);
	cfg_patternv_release(&t->excluded_error);
}

void cfg_file_existence_test_release(void *obj)
{
	struct cst_file_existence_test *t = obj;
	cfg_str_release(&t->name);
	cfg_str_release(&t->path);
	cfg_str_release(&t->permissions);
	cfg_str_release(&t->owner);
	cfg_str_release(&t->group);
	cfg_str_release(&t->link_target);
	cst_regex_free(t->link_re);
	t->link_re = NULL;
	cfg_str_release(&t->sha256);
}

void cfg_file_content_test_release(void *obj)
{
	struct cst_file_content_test *t = obj;
	cfg_str_release(&t->name);
	cfg_str_release(&t->path);
	cfg_patternv_release(&t->expected_contents);
	cfg_patternv_release(&t->excluded_contents);
}

void cfg_license_test_release(void *obj)
{
	cfg_strv_release(&((struct cst_license_test *)obj)->files);
}

void cfg_metadata_release(void *obj)
{
	struct cst_metadata_test *m = obj;
	cfg_kvv_release(&m->env);
	cfg_strv_release(&m->unbound_env_vars);
	cfg_kvv_release(&m->labels);
	cfg_strv_release(&m->entrypoint);
	cfg_strv_release(&m->cmd);
	cfg_strv_release(&m->exposed_ports);
	cfg_strv_release(&m->unexposed_ports);
	cfg_strv_release(&m->volumes);
	cfg_strv_release(&m->unmounted_volumes);
	cfg_str_release(&m->workdir);
	cfg_str_release(&m->user);
}

void cfg_run_options_release(void *obj)
{
	struct cst_run_options *o = obj;
	cfg_str_release(&o->user);
	cfg_str_release(&o->env_file);
	cfg_strv_release(&o->env_vars);
	cfg_strv_release(&o->capabilities);
	cfg_strv_release(&o->bind_mounts);
}

void cfg_objects_release(char **arr, size_t *n, size_t size, void (*release)(void *))
{
	for (size_t i = 0; i < *n; i++)
		release(*arr + i * size);
	free(*arr);
	*arr = NULL;
	*n = 0;
}
