#include "cst/fs.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cst/buf.h"
#include "cst/index/fs-internal.h"

#define TABLE_MIN 1024u

static uint32_t hash_name(uint32_t parent, const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ ((uint64_t)parent * 0x9e3779b97f4a7c15ull);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}

static bool name_eq(const char *stored, const char *s, size_t n)
{
	return strncmp(stored, s, n) == 0 && stored[n] == '\0';
}

static void init_root(struct cst_fs *fs)
{
	struct fs_node *r = &fs->nodes[0];
	memset(r, 0, sizeof(*r));
	r->name = "";
	r->type = CST_FT_DIR;
	r->mode = 0755;
	fs->n_nodes = 1;
	fs->free_list = 0;
	fs->count = 0;
}

struct cst_fs *cst_fs_new(void)
{
	struct cst_fs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	fs->cap_nodes = 256;
	fs->nodes = malloc(fs->cap_nodes * sizeof(*fs->nodes));
	if (!fs->nodes) {
		free(fs);
		return NULL;
	}
	init_root(fs);
	fs->acct_layer = -1;
	return fs;
}

static void strset_release(struct fs_strset *s)
{
	if (s->slots) {
		for (size_t i = 0; i <= s->mask; i++)
			free(s->slots[i]);
	}
	free(s->slots);
	s->slots = NULL;
	s->mask = 0;
	s->n = 0;
}

static void drop_nodes(struct cst_fs *fs)
{
	for (uint32_t i = 1; i < fs->n_contents; i++)
		free(fs->contents[i].data);
	free(fs->contents);
	fs->contents = NULL;
	fs->n_contents = 0;
	fs->cap_contents = 0;
	free(fs->table);
	fs->table = NULL;
	fs->table_mask = 0;
	fs->table_used = 0;
	cst_arena_release(&fs->names);
	free(fs->lstats);
	fs->lstats = NULL;
	fs->n_lstats = 0;
	strset_release(&fs->absent);
	fs->partial = false;
}

void cst_fs_free(struct cst_fs *fs)
{
	if (!fs)
		return;
	drop_nodes(fs);
	free(fs->nodes);
	strset_release(&fs->wants);
	strset_release(&fs->needs);
	free(fs->tree_why);
	for (size_t i = 0; i < fs->n_globs; i++)
		free(fs->globs[i]);
	free(fs->globs);
	free(fs);
}

void cst_fs_clear(struct cst_fs *fs)
{
	drop_nodes(fs);
	init_root(fs);
}

size_t cst_fs_count(const struct cst_fs *fs)
{
	return fs->count;
}

size_t cst_fs_layer_stats(const struct cst_fs *fs, const struct cst_fs_layer_stats **ret)
{
	*ret = fs->lstats;
	return fs->n_lstats;
}

/* --- the (parent, name) table ------------------------------------------ */

static int table_grow(struct cst_fs *fs)
{
	uint32_t size = fs->table ? (fs->table_mask + 1) * 2 : TABLE_MIN;
	if (size == 0)
		return -1;
	struct fs_slot *t = calloc(size, sizeof(*t));
	if (!t)
		return -1;
	uint32_t mask = size - 1;
	if (fs->table) {
		for (uint32_t i = 0; i <= fs->table_mask; i++) {
			if (!fs->table[i].id)
				continue;
			uint32_t j = fs->table[i].hash & mask;
			while (t[j].id)
				j = (j + 1) & mask;
			t[j] = fs->table[i];
		}
	}
	free(fs->table);
	fs->table = t;
	fs->table_mask = mask;
	return 0;
}

uint32_t fs_child(const struct cst_fs *fs, uint32_t dir, const char *name, size_t len)
{
	if (!fs->table)
		return 0;
	uint32_t h = hash_name(dir, name, len);
	for (uint32_t i = h & fs->table_mask;; i = (i + 1) & fs->table_mask) {
		const struct fs_slot *slot = &fs->table[i];
		if (!slot->id)
			return 0;
		if (slot->hash != h)
			continue;
		const struct fs_node *n = &fs->nodes[slot->id];
		if (n->parent == dir && name_eq(n->name, name, len))
			return slot->id;
	}
}

static void table_remove(struct cst_fs *fs, uint32_t id)
{
	uint32_t mask = fs->table_mask;
	uint32_t i = fs->nodes[id].hash & mask;
	while (fs->table[i].id != id)
		i = (i + 1) & mask;
	/* Backward-shift deletion keeps probe chains intact without tombstones,
	 * so a layer that deletes and re-adds many paths does not slow lookups. */
	for (uint32_t j = i;;) {
		j = (j + 1) & mask;
		if (!fs->table[j].id)
			break;
		uint32_t home = fs->table[j].hash & mask;
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		fs->table[i] = fs->table[j];
		i = j;
	}
	fs->table[i].id = 0;
	fs->table_used--;
}

/* --- nodes -------------------------------------------------------------- */

uint32_t fs_add_child(struct cst_fs *fs, uint32_t dir, const char *name, size_t len)
{
	if (!fs->table || (uint64_t)(fs->table_used + 1) * 10 > (uint64_t)(fs->table_mask + 1) * 7) {
		if (table_grow(fs) < 0)
			return 0;
	}
	const char *copy = cst_arena_strndup(&fs->names, name, len);
	if (!copy)
		return 0;
	uint32_t id = fs->free_list;
	if (id) {
		fs->free_list = fs->nodes[id].next;
	} else {
		if (fs->n_nodes == fs->cap_nodes) {
			if (fs->cap_nodes > UINT32_MAX / 2)
				return 0;
			uint32_t cap = fs->cap_nodes * 2;
			struct fs_node *nodes = realloc(fs->nodes, (size_t)cap * sizeof(*nodes));
			if (!nodes)
				return 0;
			fs->nodes = nodes;
			fs->cap_nodes = cap;
		}
		id = fs->n_nodes++;
	}
	struct fs_node *n = &fs->nodes[id];
	memset(n, 0, sizeof(*n));
	n->name = copy;
	n->parent = dir;
	n->hash = hash_name(dir, name, len);
	struct fs_node *d = &fs->nodes[dir];
	n->next = d->first_child;
	if (d->first_child)
		fs->nodes[d->first_child].prev = id;
	d->first_child = id;

	uint32_t i = n->hash & fs->table_mask;
	while (fs->table[i].id)
		i = (i + 1) & fs->table_mask;
	fs->table[i].id = id;
	fs->table[i].hash = n->hash;
	fs->table_used++;
	fs->count++;
	return id;
}

static void drop_content(struct cst_fs *fs, struct fs_node *n)
{
	if (n->content) {
		free(fs->contents[n->content].data);
		fs->contents[n->content].data = NULL;
		fs->contents[n->content].len = 0;
		n->content = 0;
	}
}

/* A file an earlier layer added, now removed or replaced: its bytes are
 * still in that layer, wasted (dive's measure). */
static void account_loss(struct cst_fs *fs, const struct fs_node *n)
{
	if (fs->acct_layer >= 0 && n->type == CST_FT_REG && !(n->flags & NODE_HARDLINK) &&
	    n->layer < fs->acct_layer && (size_t)fs->acct_layer < fs->n_lstats)
		fs->lstats[fs->acct_layer].wasted += n->size;
}

void fs_reset_node(struct cst_fs *fs, uint32_t id)
{
	struct fs_node *n = &fs->nodes[id];
	account_loss(fs, n);
	drop_content(fs, n);
	n->link = NULL;
	n->flags = 0;
	n->size = 0;
}

static void unlink_node(struct cst_fs *fs, uint32_t id)
{
	struct fs_node *n = &fs->nodes[id];
	if (n->prev)
		fs->nodes[n->prev].next = n->next;
	else
		fs->nodes[n->parent].first_child = n->next;
	if (n->next)
		fs->nodes[n->next].prev = n->prev;
}

static void free_node(struct cst_fs *fs, uint32_t id)
{
	table_remove(fs, id);
	struct fs_node *n = &fs->nodes[id];
	account_loss(fs, n);
	drop_content(fs, n);
	n->type = 0;
	n->first_child = 0;
	n->next = fs->free_list;
	fs->free_list = id;
	fs->count--;
}

void fs_remove_children(struct cst_fs *fs, uint32_t id)
{
	/* Iterative post-order walk: a deep tree cannot exhaust the stack. */
	uint32_t cur = fs->nodes[id].first_child;
	while (cur) {
		if (fs->nodes[cur].first_child) {
			cur = fs->nodes[cur].first_child;
			continue;
		}
		uint32_t p = fs->nodes[cur].parent;
		unlink_node(fs, cur);
		free_node(fs, cur);
		if (p == id)
			cur = fs->nodes[id].first_child;
		else
			cur = fs->nodes[p].first_child ? fs->nodes[p].first_child : p;
	}
}

void fs_remove(struct cst_fs *fs, uint32_t id)
{
	if (id == 0)
		return;
	fs_remove_children(fs, id);
	unlink_node(fs, id);
	free_node(fs, id);
}

int fs_set_content(struct cst_fs *fs, uint32_t id, char *data, size_t len)
{
	drop_content(fs, &fs->nodes[id]);
	if (fs->n_contents == 0)
		fs->n_contents = 1;
	if (fs->n_contents >= fs->cap_contents) {
		if (fs->cap_contents > UINT32_MAX / 2)
			return -1;
		uint32_t cap = fs->cap_contents ? fs->cap_contents * 2 : 16;
		struct fs_content *c = realloc(fs->contents, (size_t)cap * sizeof(*c));
		if (!c)
			return -1;
		fs->contents = c;
		fs->cap_contents = cap;
	}
	uint32_t slot = fs->n_contents++;
	fs->contents[slot].data = data;
	fs->contents[slot].len = len;
	fs->nodes[id].content = slot;
	return 0;
}

bool fs_find_literal(const struct cst_fs *fs, const char *path, uint32_t *ret_id)
{
	uint32_t cur = 0;
	const char *p = path;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len) {
			if (fs->nodes[cur].type != CST_FT_DIR)
				return false;
			cur = fs_child(fs, cur, p, len);
			if (!cur)
				return false;
		}
		if (!end)
			break;
		p = end + 1;
	}
	*ret_id = cur;
	return true;
}

char *fs_node_path(const struct cst_fs *fs, uint32_t id)
{
	if (id == 0)
		return strdup("/");
	size_t len = 0;
	for (uint32_t i = id; i; i = fs->nodes[i].parent)
		len += strlen(fs->nodes[i].name) + 1;
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	s[len] = '\0';
	size_t pos = len;
	for (uint32_t i = id; i; i = fs->nodes[i].parent) {
		size_t n = strlen(fs->nodes[i].name);
		pos -= n;
		memcpy(s + pos, fs->nodes[i].name, n);
		s[--pos] = '/';
	}
	return s;
}

void fs_node_info(const struct cst_fs *fs, uint32_t id, struct cst_fs_info *ret)
{
	const struct fs_node *n = &fs->nodes[id];
	memset(ret, 0, sizeof(*ret));
	ret->type = (enum cst_ftype)n->type;
	ret->mode = n->mode;
	ret->uid = n->uid;
	ret->gid = n->gid;
	ret->size = n->size;
	ret->link = n->type == CST_FT_SYMLINK ? n->link : NULL;
	ret->layer = n->layer;
	ret->stat_only = (n->flags & NODE_STAT_ONLY) != 0;
	if (n->content) {
		ret->content = fs->contents[n->content].data;
		ret->content_len = fs->contents[n->content].len;
		ret->has_content = true;
	}
}

/* --- wanted paths ------------------------------------------------------- */

char *fs_clean_path(const char *path)
{
	size_t n = strlen(path);
	char *out = malloc(n + 2);
	if (!out)
		return NULL;
	size_t len = 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = p;
		while (*end && *end != '/')
			end++;
		size_t clen = (size_t)(end - p);
		if (clen == 0 || (clen == 1 && p[0] == '.')) {
			/* nothing */
		} else if (clen == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else {
			out[len++] = '/';
			memcpy(out + len, p, clen);
			len += clen;
		}
		p = end;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

static size_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 29));
}

static bool strset_has(const struct fs_strset *s, const char *key)
{
	if (!s->slots)
		return false;
	for (size_t i = hash_str(key) & s->mask;; i = (i + 1) & s->mask) {
		if (!s->slots[i])
			return false;
		if (strcmp(s->slots[i], key) == 0)
			return true;
	}
}

static void strset_put(char **slots, size_t mask, char *key)
{
	size_t i = hash_str(key) & mask;
	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = key;
}

/* Takes ownership of key; 0 added, 1 already there, -1 allocation failure. */
static int strset_add(struct fs_strset *s, char *key)
{
	if (strset_has(s, key)) {
		free(key);
		return 1;
	}
	size_t size = s->slots ? s->mask + 1 : 0;
	if ((s->n + 1) * 2 > size) {
		size_t nsize = size ? size * 2 : 64;
		char **slots = calloc(nsize, sizeof(*slots));
		if (!slots) {
			free(key);
			return -1;
		}
		for (size_t i = 0; i < size; i++) {
			if (s->slots[i])
				strset_put(slots, nsize - 1, s->slots[i]);
		}
		free(s->slots);
		s->slots = slots;
		s->mask = nsize - 1;
	}
	strset_put(s->slots, s->mask, key);
	s->n++;
	return 0;
}

int fs_strset_add(struct fs_strset *s, char *key)
{
	return strset_add(s, key);
}

bool fs_strset_has(const struct fs_strset *s, const char *key)
{
	return strset_has(s, key);
}

void fs_strset_release(struct fs_strset *s)
{
	strset_release(s);
}

int cst_fs_want_path(struct cst_fs *fs, const char *path)
{
	char *clean = fs_clean_path(path);
	if (!clean)
		return -1;
	return strset_add(&fs->wants, clean) < 0 ? -1 : 0;
}

int cst_fs_want_glob(struct cst_fs *fs, const char *pattern)
{
	char *clean = fs_clean_path(pattern);
	if (!clean)
		return -1;
	for (size_t i = 0; i < fs->n_globs; i++) {
		if (strcmp(fs->globs[i], clean) == 0) {
			free(clean);
			return 0;
		}
	}
	char **globs = realloc(fs->globs, (fs->n_globs + 1) * sizeof(*globs));
	if (!globs) {
		free(clean);
		return -1;
	}
	fs->globs = globs;
	fs->globs[fs->n_globs++] = clean;
	return 0;
}

bool fs_wants_clean(const struct cst_fs *fs, const char *path)
{
	if (strset_has(&fs->wants, path))
		return true;
	for (size_t i = 0; i < fs->n_globs; i++) {
		if (fnmatch(fs->globs[i], path, FNM_PATHNAME) == 0)
			return true;
	}
	return false;
}

bool cst_fs_wants(const struct cst_fs *fs, const char *path)
{
	char *clean = fs_clean_path(path);
	if (!clean)
		return false;
	bool r = fs_wants_clean(fs, clean);
	free(clean);
	return r;
}

/* --- globbing ----------------------------------------------------------- */

struct glob_walk {
	const struct cst_fs *fs;
	char **comps;
	size_t n_comps;
	struct cst_buf path;
	int (*fn)(const struct cst_fs *fs, uint32_t id, const char *path, void *ud);
	void *ud;
};

static bool has_magic(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

static int cmp_ids_by_name(const void *a, const void *b, void *ud)
{
	const struct cst_fs *fs = ud;
	return strcmp(fs->nodes[*(const uint32_t *)a].name, fs->nodes[*(const uint32_t *)b].name);
}

static int glob_visit(struct glob_walk *w, uint32_t id, size_t depth);

static int glob_level(struct glob_walk *w, uint32_t dir, size_t depth)
{
	const struct cst_fs *fs = w->fs;
	const char *comp = w->comps[depth];
	if (!has_magic(comp)) {
		uint32_t id = fs_child(fs, dir, comp, strlen(comp));
		return id ? glob_visit(w, id, depth + 1) : 0;
	}
	size_t n = 0, cap = 0;
	uint32_t *ids = NULL;
	for (uint32_t c = fs->nodes[dir].first_child; c; c = fs->nodes[c].next) {
		if (fnmatch(comp, fs->nodes[c].name, 0) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			uint32_t *nids = realloc(ids, cap * sizeof(*ids));
			if (!nids) {
				free(ids);
				return -1;
			}
			ids = nids;
		}
		ids[n++] = c;
	}
	/* ids is NULL in an empty directory, which qsort must not be given. */
	if (n > 1)
		qsort_r(ids, n, sizeof(*ids), cmp_ids_by_name, (void *)fs);
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = glob_visit(w, ids[i], depth + 1);
	free(ids);
	return r;
}

static int glob_visit(struct glob_walk *w, uint32_t id, size_t depth)
{
	const struct cst_fs *fs = w->fs;
	size_t saved = w->path.len;
	if (id != 0 && (cst_buf_puts(&w->path, "/") < 0 || cst_buf_puts(&w->path, fs->nodes[id].name) < 0))
		return -1;
	int r = 0;
	if (depth == w->n_comps)
		r = w->fn(fs, id, id == 0 ? "/" : w->path.data, w->ud);
	else if (fs->nodes[id].type == CST_FT_DIR)
		r = glob_level(w, id, depth);
	w->path.len = saved;
	if (w->path.data)
		w->path.data[saved] = '\0';
	return r;
}

int fs_glob_ids(const struct cst_fs *fs, const char *pattern,
		int (*fn)(const struct cst_fs *fs, uint32_t id, const char *path, void *ud), void *ud)
{
	char *clean = fs_clean_path(pattern);
	if (!clean)
		return -1;
	struct glob_walk w = {.fs = fs, .path = CST_BUF_INIT, .fn = fn, .ud = ud};
	for (const char *p = clean; *p; p++)
		w.n_comps += *p == '/' && p[1];
	int r = -1;
	w.comps = calloc(w.n_comps + 1, sizeof(*w.comps));
	if (!w.comps)
		goto out;
	size_t i = 0;
	char *save = NULL;
	for (char *tok = strtok_r(clean, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		w.comps[i++] = tok;
	r = glob_visit(&w, 0, 0);
out:
	free(w.comps);
	cst_buf_release(&w.path);
	free(clean);
	return r;
}

struct glob_info_ud {
	int (*fn)(const char *path, const struct cst_fs_info *info, void *ud);
	void *ud;
};

static int glob_info_cb(const struct cst_fs *fs, uint32_t id, const char *path, void *ud)
{
	struct glob_info_ud *g = ud;
	struct cst_fs_info info;
	fs_node_info(fs, id, &info);
	return g->fn(path, &info, g->ud);
}

int cst_fs_glob(const struct cst_fs *fs, const char *pattern,
		int (*fn)(const char *path, const struct cst_fs_info *info, void *ud), void *ud)
{
	struct glob_info_ud g = {fn, ud};
	return fs_glob_ids(fs, pattern, glob_info_cb, &g);
}

/* --- second pass -------------------------------------------------------- */

struct resolve_ud {
	struct cst_fs *fs;
	char **found;
	size_t n_found;
	size_t cap_found;
};

/* Records the path whose contents would answer a content test on `path`. */
static int note_resolved(struct resolve_ud *r, const char *path)
{
	const struct cst_fs *fs = r->fs;
	uint32_t id;
	struct cst_error err = CST_ERROR_INIT;
	int found = fs_resolve(fs, path, true, &id, &err);
	cst_error_clear(&err);
	if (found <= 0)
		return 0; /* absent or a loop: the check will say so */
	const struct fs_node *n = &fs->nodes[id];
	if (n->type != CST_FT_REG || n->content)
		return 0;
	char *target;
	if (n->flags & NODE_HARDLINK)
		target = fs_clean_path(n->link);
	else
		target = fs_node_path(fs, id);
	if (!target)
		return -1;
	if (fs_wants_clean(fs, target)) {
		free(target);
		return 0;
	}
	if (r->n_found == r->cap_found) {
		size_t cap = r->cap_found ? r->cap_found * 2 : 16;
		char **f = realloc(r->found, cap * sizeof(*f));
		if (!f) {
			free(target);
			return -1;
		}
		r->found = f;
		r->cap_found = cap;
	}
	r->found[r->n_found++] = target;
	return 0;
}

static int resolve_glob_cb(const struct cst_fs *fs, uint32_t id, const char *path, void *ud)
{
	return note_resolved(ud, path);
}

int cst_fs_want_resolved(struct cst_fs *fs)
{
	struct resolve_ud r = {.fs = fs};
	int ret = -1;
	/* Collect first: adding to the set while walking it would rehash it. */
	if (fs->wants.slots) {
		for (size_t i = 0; i <= fs->wants.mask; i++) {
			if (fs->wants.slots[i] && note_resolved(&r, fs->wants.slots[i]) < 0)
				goto out;
		}
	}
	for (size_t i = 0; i < fs->n_globs; i++) {
		if (fs_glob_ids(fs, fs->globs[i], resolve_glob_cb, &r) != 0)
			goto out;
	}
	int added = 0;
	for (size_t i = 0; i < r.n_found; i++) {
		int a = strset_add(&fs->wants, r.found[i]);
		r.found[i] = NULL;
		if (a < 0)
			goto out;
		added += a == 0;
	}
	ret = added;
out:
	for (size_t i = 0; i < r.n_found; i++)
		free(r.found[i]);
	free(r.found);
	return ret;
}
