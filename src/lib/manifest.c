/*
 * manifest.c - the YAML release manifest (manifest.h, espimg-manifest(5)).
 *
 * Two passes.  The first reads libyaml's events into a small tree of
 * scalars, mappings and lists that keeps every node's line and column and
 * refuses what the format has no use for (anchors, aliases, tags, several
 * documents, deep nesting); the second walks the tree against the format's
 * keys and fills an espimg_manifest.  Both passes go on after an error so
 * that one run reports everything wrong with a manifest; only a YAML syntax
 * error stops the first pass (libyaml cannot resume after one).
 *
 * libyaml marks are 0-based and count characters; diagnostics are 1-based.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "espimg/manifest.h"
#include "internal.h"

/* A manifest has a few dozen nodes; this only bounds what a hostile
 * input can make us allocate before the walk refuses it. */
#define MAX_NODES 65536u

/* How much of a value a message quotes. */
#define SHOW_MAX 64u

/* esptool 5.3.1 uf2_writer.py: 476 data bytes per 512-byte block, 24 of
 * them taken by the MD5 part when it is on; --chunk-size must be a
 * multiple of 4 (cli_util.py AutoChunkSizeType). */
#define UF2_DATA_SIZE 476u
#define UF2_MD5_PART_SIZE 24u

/* ESP-IDF's default CONFIG_PARTITION_TABLE_OFFSET. */
#define DEFAULT_TABLE_OFFSET 0x8000u

enum mkind { N_SCALAR, N_MAP, N_SEQ, N_ALIAS };

typedef struct mnode {
	enum mkind kind;
	bool plain;  /* a plain (unquoted) scalar */
	bool bad;    /* already reported: the walk skips it silently */
	unsigned line, col;
	char *s;     /* scalar text, NUL-terminated */
	size_t len;
	struct mnode **kid; /* mapping: key, value, key, value...; list: items */
	size_t nkid, cap;
} mnode;

/* Diagnostics are collected, then handed over in manifest order (the
 * whole-manifest checks run last but point anywhere). */
typedef struct pending {
	espimg_severity sev;
	const char *code;
	unsigned line, col;
	size_t seq;
	char *msg;
} pending;

typedef struct mctx {
	const char *file;
	pending *pend;
	size_t npend, cappend;
	espimg_diag_list *diags;
	unsigned end_line, end_col; /* just after the last character */
	unsigned errors;
	bool nomem;
	size_t nodes;
	espimg_manifest *m;
	bool chip_seen;  /* a chip key was given (valid or not) */
	bool had_bad;    /* a node was refused while reading */
	const mnode *images_key;
	bool images_empty;
	const mnode *image_keys[ESPIMG_MANIFEST_MAX_IMAGES];
} mctx;

static void ESPIMG_PRINTF(6, 7)
report(mctx *c, espimg_severity sev, const char *code, unsigned line,
       unsigned col, const char *fmt, ...);

static void report(mctx *c, espimg_severity sev, const char *code,
		   unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	pending *p;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sev == ESPIMG_SEV_ERROR)
		c->errors++;
	/* At the end of a text without a final line break libyaml moves to
	 * a line of its own past the last one. */
	if (c->end_line && line > c->end_line) {
		line = c->end_line;
		col = c->end_col;
	}
	if (c->npend == c->cappend) {
		size_t cap = c->cappend ? c->cappend * 2 : 16;

		p = realloc(c->pend, cap * sizeof(*p));
		if (!p) {
			c->nomem = true;
			return;
		}
		c->pend = p;
		c->cappend = cap;
	}
	p = &c->pend[c->npend];
	p->msg = strdup(msg);
	if (!p->msg) {
		c->nomem = true;
		return;
	}
	p->sev = sev;
	p->code = code;
	p->line = line;
	p->col = col;
	p->seq = c->npend++;
}

static int pending_cmp(const void *a, const void *b)
{
	const pending *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void flush(mctx *c)
{
	if (c->npend)
		qsort(c->pend, c->npend, sizeof(*c->pend), pending_cmp);
	for (size_t i = 0; i < c->npend; i++) {
		const pending *p = &c->pend[i];

		if (!c->nomem &&
		    espimg_diag_add(c->diags, p->sev, p->code, c->file,
				    p->line, p->col, -1, "%s",
				    p->msg) == ESPIMG_ENOMEM)
			c->nomem = true;
		free(p->msg);
	}
	free(c->pend);
	c->pend = NULL;
	c->npend = c->cappend = 0;
}

#define err_at(c, n, code, ...) \
	report((c), ESPIMG_SEV_ERROR, (code), (n)->line, (n)->col, __VA_ARGS__)
#define warn_at(c, n, code, ...) \
	report((c), ESPIMG_SEV_WARNING, (code), (n)->line, (n)->col, \
	       __VA_ARGS__)

/* A value for a message: escaped for a terminal, cut to SHOW_MAX bytes. */
static const char *show(char out[4 * SHOW_MAX + 8], const char *s, size_t len)
{
	espimg_buf b = { 0 };
	char *t;

	espimg_buf_escaped(&b, s, len > SHOW_MAX ? SHOW_MAX : len);
	if (len > SHOW_MAX)
		espimg_buf_append(&b, "...", 3);
	t = espimg_buf_finish(&b, NULL);
	snprintf(out, 4 * SHOW_MAX + 8, "%s", t ? t : "?");
	free(t);
	return out;
}

#define SHOW(n) show((char[4 * SHOW_MAX + 8]){ 0 }, (n)->s, (n)->len)

/* ------------------------------------------------------------ the tree */

static void node_free(mnode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkid; i++)
		node_free(n->kid[i]);
	free(n->kid);
	free(n->s);
	free(n);
}

static mnode *node_new(mctx *c, enum mkind kind, yaml_mark_t mark)
{
	mnode *n = calloc(1, sizeof(*n));

	if (!n) {
		c->nomem = true;
		return NULL;
	}
	n->kind = kind;
	n->line = (unsigned)mark.line + 1;
	n->col = (unsigned)mark.column + 1;
	return n;
}

static int node_add(mctx *c, mnode *parent, mnode *kid)
{
	if (parent->nkid == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		mnode **k = realloc(parent->kid, cap * sizeof(*k));

		if (!k) {
			c->nomem = true;
			return -1;
		}
		parent->kid = k;
		parent->cap = cap;
	}
	parent->kid[parent->nkid++] = kid;
	return 0;
}

/* Line and column of a byte offset (libyaml's reader errors give only the
 * offset), counted as libyaml's marks count them: characters, and a line
 * ends at LF, CR, CR LF, NEL, LS or PS (YAML 1.1 line breaks). */
static void offset_pos(const char *text, size_t len, size_t off,
		       unsigned *line, unsigned *col)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned l = 1, k = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		bool brk = s[i] == '\n' ||
			   (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'));

		if (i + 1 < off && s[i] == 0xC2 && s[i + 1] == 0x85)
			brk = true;
		if (i + 2 < off && s[i] == 0xE2 && s[i + 1] == 0x80 &&
		    (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
			brk = true;
		if (brk) {
			l++;
			k = 1;
			/* Skip the rest of a multi-byte break. */
			while (i + 1 < off && (s[i + 1] & 0xC0) == 0x80)
				i++;
		} else if ((s[i] & 0xC0) != 0x80) {
			k++;
		}
	}
	*line = l;
	*col = k;
}

static void yaml_failed(mctx *c, const yaml_parser_t *p, const char *text,
			size_t len)
{
	unsigned line, col;

	if (p->error == YAML_MEMORY_ERROR) {
		c->nomem = true;
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		offset_pos(text, len, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			report(c, ESPIMG_SEV_ERROR, "manifest.yaml", line, col,
			       "not YAML text: %s (#%X)",
			       p->problem ? p->problem : "unreadable",
			       (unsigned)p->problem_value);
		else
			report(c, ESPIMG_SEV_ERROR, "manifest.yaml", line, col,
			       "not YAML text: %s",
			       p->problem ? p->problem : "unreadable");
		return;
	}
	line = (unsigned)p->problem_mark.line + 1;
	col = (unsigned)p->problem_mark.column + 1;
	if (p->context)
		report(c, ESPIMG_SEV_ERROR, "manifest.yaml", line, col,
		       "YAML syntax: %s (%s, at line %u column %u)",
		       p->problem ? p->problem : "error", p->context,
		       (unsigned)p->context_mark.line + 1,
		       (unsigned)p->context_mark.column + 1);
	else
		report(c, ESPIMG_SEV_ERROR, "manifest.yaml", line, col,
		       "YAML syntax: %s", p->problem ? p->problem : "error");
}

/* Anchors and tags: the format has no use for them, and a tag could make
 * a value mean something other than what the reader sees. */
static bool refuse_props(mctx *c, const yaml_event_t *ev,
			 const yaml_char_t *anchor, const yaml_char_t *tag)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	unsigned col = (unsigned)ev->start_mark.column + 1;
	bool bad = false;

	if (anchor || tag)
		c->had_bad = true;
	if (anchor) {
		report(c, ESPIMG_SEV_ERROR, "manifest.yaml_feature", line, col,
		       "YAML anchors (&%s) are not allowed in a manifest; "
		       "write the value out",
		       show((char[4 * SHOW_MAX + 8]){ 0 },
			    (const char *)anchor,
			    strlen((const char *)anchor)));
		bad = true;
	}
	if (tag) {
		report(c, ESPIMG_SEV_ERROR, "manifest.yaml_feature", line, col,
		       "YAML tags (%s) are not allowed in a manifest",
		       show((char[4 * SHOW_MAX + 8]){ 0 }, (const char *)tag,
			    strlen((const char *)tag)));
		bad = true;
	}
	return bad;
}

/*
 * Reads the events into a tree.  Returns the root (NULL for an empty
 * stream or after a failure; errors are in c).  *stop is set when the
 * reading ended early (syntax error, bound hit): the tree is then
 * incomplete and is not walked.
 */
static mnode *read_tree(mctx *c, const char *text, size_t len, bool *stop)
{
	yaml_parser_t p;
	mnode *stack[ESPIMG_MANIFEST_MAX_DEPTH];
	mnode *root = NULL;
	size_t depth = 0;
	unsigned docs = 0;
	bool done = false;

	*stop = false;
	if (!yaml_parser_initialize(&p)) {
		c->nomem = true;
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && !c->nomem) {
		yaml_event_t ev;
		mnode *n = NULL;
		unsigned line, col;

		if (!yaml_parser_parse(&p, &ev)) {
			yaml_failed(c, &p, text, len);
			*stop = true;
			break;
		}
		line = (unsigned)ev.start_mark.line + 1;
		col = (unsigned)ev.start_mark.column + 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				report(c, ESPIMG_SEV_ERROR,
				       "manifest.yaml_feature", line, col,
				       "a manifest is one YAML document; a "
				       "second one starts here");
				*stop = true;
				done = true;
				break;
			}
			if (ev.data.document_start.tag_directives.start !=
			    ev.data.document_start.tag_directives.end)
				report(c, ESPIMG_SEV_ERROR,
				       "manifest.yaml_feature", line, col,
				       "%%TAG directives are not allowed in a "
				       "manifest");
			break;
		case YAML_ALIAS_EVENT:
			report(c, ESPIMG_SEV_ERROR, "manifest.yaml_feature",
			       line, col,
			       "YAML aliases (*%s) are not allowed in a "
			       "manifest; write the value out",
			       show((char[4 * SHOW_MAX + 8]){ 0 },
				    (const char *)ev.data.alias.anchor,
				    strlen((const char *)
						   ev.data.alias.anchor)));
			n = node_new(c, N_ALIAS, ev.start_mark);
			if (n)
				n->bad = c->had_bad = true;
			break;
		case YAML_SCALAR_EVENT:
			n = node_new(c, N_SCALAR, ev.start_mark);
			if (!n)
				break;
			n->bad = refuse_props(c, &ev, ev.data.scalar.anchor,
					      ev.data.scalar.tag);
			n->plain = ev.data.scalar.style ==
				   YAML_PLAIN_SCALAR_STYLE;
			n->len = ev.data.scalar.length;
			if (n->len > ESPIMG_MANIFEST_MAX_STRING) {
				report(c, ESPIMG_SEV_ERROR,
				       "manifest.too_long", line, col,
				       "a value of %zu bytes; at most %u are "
				       "allowed", n->len,
				       ESPIMG_MANIFEST_MAX_STRING);
				n->bad = c->had_bad = true;
				n->len = 0;
			}
			n->s = malloc(n->len + 1);
			if (!n->s) {
				c->nomem = true;
				break;
			}
			memcpy(n->s, ev.data.scalar.value, n->len);
			n->s[n->len] = '\0';
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == ESPIMG_MANIFEST_MAX_DEPTH) {
				report(c, ESPIMG_SEV_ERROR, "manifest.depth",
				       line, col,
				       "mappings and lists nested more than "
				       "%u deep", ESPIMG_MANIFEST_MAX_DEPTH);
				*stop = true;
				done = true;
				break;
			}
			n = node_new(c, ev.type == YAML_MAPPING_START_EVENT ?
						N_MAP : N_SEQ, ev.start_mark);
			if (!n)
				break;
			if (ev.type == YAML_MAPPING_START_EVENT)
				n->bad = refuse_props(
					c, &ev, ev.data.mapping_start.anchor,
					ev.data.mapping_start.tag);
			else
				n->bad = refuse_props(
					c, &ev, ev.data.sequence_start.anchor,
					ev.data.sequence_start.tag);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth)
				depth--;
			break;
		default:
			break;
		}
		if (n && ++c->nodes > MAX_NODES) {
			report(c, ESPIMG_SEV_ERROR, "manifest.too_big", line,
			       col, "more than %u YAML values", MAX_NODES);
			*stop = true;
			done = true;
		}
		if (n && !c->nomem) {
			if (!depth) {
				if (!root)
					root = n;
				else
					node_free(n); /* not reached: one document */
			} else if (node_add(c, stack[depth - 1], n)) {
				node_free(n);
				n = NULL;
			}
			if (n && (n->kind == N_MAP || n->kind == N_SEQ))
				stack[depth++] = n;
		} else if (n) {
			node_free(n);
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (c->nomem)
		*stop = true;
	return root;
}

/* ------------------------------------------------------------ values */

static const char *kind_name(const mnode *n)
{
	switch (n->kind) {
	case N_MAP:
		return "a mapping";
	case N_SEQ:
		return "a list";
	default:
		return "a single value";
	}
}

static bool is_null(const mnode *v)
{
	static const char *const nulls[] = { "~", "null", "Null", "NULL" };

	if (v->kind != N_SCALAR || !v->plain)
		return false;
	if (!v->len)
		return true;
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(nulls); i++)
		if (!strcmp(v->s, nulls[i]))
			return true;
	return false;
}

/* The value of key k must be a scalar (not empty); false after an error.
 * An empty value is reported at its key: libyaml puts an empty scalar
 * where the next token starts, which may be lines further down. */
static bool need_scalar(mctx *c, const mnode *k, const mnode *v,
			const char *what)
{
	if (v->kind != N_SCALAR) {
		err_at(c, v, "manifest.type", "'%s' must be %s, not %s",
		       SHOW(k), what, kind_name(v));
		return false;
	}
	if (is_null(v)) {
		err_at(c, k, "manifest.type", "'%s' has no value; it must be %s",
		       SHOW(k), what);
		return false;
	}
	return true;
}

static bool need_map(mctx *c, const mnode *k, const mnode *v,
		     const char *what)
{
	if (v->kind == N_MAP)
		return true;
	if (is_null(v))
		err_at(c, k, "manifest.type",
		       "'%s' has no value; it must be a mapping (%s)", SHOW(k),
		       what);
	else
		err_at(c, v, "manifest.type",
		       "'%s' must be a mapping (%s), not %s", SHOW(k), what,
		       kind_name(v));
	return false;
}

/* A copy of a string value that must not be empty (a path or a name). */
static char *get_string(mctx *c, const mnode *k, const mnode *v,
			const char *what)
{
	char *s;

	if (!need_scalar(c, k, v, what))
		return NULL;
	if (!v->len) {
		err_at(c, v, "manifest.value", "'%s' is empty; it must be %s",
		       SHOW(k), what);
		return NULL;
	}
	if (memchr(v->s, '\0', v->len)) {
		err_at(c, v, "manifest.value", "'%s' holds a NUL character",
		       SHOW(k));
		return NULL;
	}
	s = strdup(v->s);
	if (!s)
		c->nomem = true;
	return s;
}

/* Replaces *slot (a key given once; duplicates never get here). */
static void set_string(mctx *c, char **slot, espimg_mpos *pos,
		       const mnode *k, const mnode *v, const char *what)
{
	char *s = get_string(c, k, v, what);

	if (!s)
		return;
	free(*slot);
	*slot = s;
	if (pos) {
		pos->line = v->line;
		pos->col = v->col;
	}
}

static espimg_mpos pos_of(const mnode *n)
{
	espimg_mpos p = { n->line, n->col };
	return p;
}

/* A whole number as Python's int(x, 0) reads it (espimg_ptable_parse_int:
 * decimal, 0x hex, 0o, 0b, '_' between digits). */
static int parse_number(const mnode *v, int64_t *out)
{
	if (memchr(v->s, '\0', v->len))
		return ESPIMG_EINVAL;
	return espimg_ptable_parse_int(v->s, out);
}

/* A number in [0, max]; reports and returns false otherwise. */
static bool get_uint(mctx *c, const mnode *k, const mnode *v, uint64_t max,
		     const char *what, uint64_t *out)
{
	int64_t x;

	if (!need_scalar(c, k, v, what))
		return false;
	if (parse_number(v, &x)) {
		err_at(c, v, "manifest.number",
		       "'%s' value '%s' is not a number (use decimal or 0x "
		       "hex)", SHOW(k), SHOW(v));
		return false;
	}
	if (x < 0 || (uint64_t)x > max) {
		err_at(c, v, "manifest.range",
		       "'%s' value '%s' is out of range (0 to 0x%llx)", SHOW(k),
		       SHOW(v), (unsigned long long)max);
		return false;
	}
	*out = (uint64_t)x;
	return true;
}

/* "4MB", "4M", "4MiB", "1800K", "0x400000", "4096" (suffixes ignore case;
 * K is 1024, M is 1024 * 1024).  Returns 0, ESPIMG_EINVAL (not a size) or
 * ESPIMG_ETOOBIG (negative or too large). */
static int parse_size(const char *s, size_t len, uint64_t *out)
{
	static const struct {
		const char *sfx;
		uint64_t mul;
	} sfx[] = {
		{ "KiB", 1u << 10 }, { "MiB", 1u << 20 }, { "KB", 1u << 10 },
		{ "MB", 1u << 20 },  { "K", 1u << 10 },   { "M", 1u << 20 },
	};
	char num[72];
	uint64_t mul = 1;
	int64_t x;

	if (memchr(s, '\0', len))
		return ESPIMG_EINVAL;
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(sfx); i++) {
		size_t n = strlen(sfx[i].sfx);

		if (len > n && !strcasecmp(s + len - n, sfx[i].sfx)) {
			mul = sfx[i].mul;
			len -= n;
			break;
		}
	}
	if (!len || len >= sizeof(num))
		return ESPIMG_EINVAL;
	memcpy(num, s, len);
	num[len] = '\0';
	if (espimg_ptable_parse_int(num, &x))
		return ESPIMG_EINVAL;
	if (x < 0 || (uint64_t)x > (UINT64_C(1) << 62) / mul)
		return ESPIMG_ETOOBIG;
	*out = (uint64_t)x * mul;
	return 0;
}

static bool get_size(mctx *c, const mnode *k, const mnode *v, uint64_t *out)
{
	int r;

	if (!need_scalar(c, k, v, "a size such as 4MB, 0x400000 or 4096"))
		return false;
	r = parse_size(v->s, v->len, out);
	if (r == ESPIMG_EINVAL) {
		err_at(c, v, "manifest.number",
		       "'%s' value '%s' is not a size (write it as 4MB, 4M, "
		       "1800K, 0x400000 or 4096)", SHOW(k), SHOW(v));
		return false;
	}
	if (r) {
		err_at(c, v, "manifest.range",
		       "'%s' value '%s' is out of range", SHOW(k), SHOW(v));
		return false;
	}
	return true;
}

/* YAML 1.1's booleans, as PyYAML reads them; only plain scalars. */
static bool get_bool(mctx *c, const mnode *k, const mnode *v, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes",
					   "Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no",
					  "No", "NO", "off", "Off", "OFF" };

	if (!need_scalar(c, k, v, "true or false"))
		return false;
	if (v->plain) {
		for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(yes); i++) {
			if (!strcmp(v->s, yes[i])) {
				*out = true;
				return true;
			}
			if (!strcmp(v->s, no[i])) {
				*out = false;
				return true;
			}
		}
	}
	err_at(c, v, "manifest.type", "'%s' must be true or false, not %s'%s'",
	       SHOW(k), v->plain ? "" : "the quoted text ", SHOW(v));
	return false;
}

/* The scalar is `name`, ignoring case. */
static bool name_eq(const mnode *v, const char *name)
{
	return strlen(v->s) == v->len && !strcasecmp(v->s, name);
}

static bool is_keep(const mnode *v)
{
	return name_eq(v, "keep");
}

/* ------------------------------------------------------------ mappings */

typedef void (*key_fn)(mctx *c, const mnode *k, const mnode *v);

typedef struct keydef {
	const char *name;
	key_fn fn;
} keydef;

/* Levenshtein distance, for "did you mean"; large for long strings. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + ((a[i - 1] | 0x20) != (b[j - 1] | 0x20));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void unknown_key(mctx *c, const mnode *k, const keydef *defs,
			size_t n, const char *where)
{
	espimg_buf b = { 0 };
	const char *near = NULL;
	size_t best = 3;
	char *list;

	for (size_t i = 0; i < n; i++) {
		size_t d = distance(k->s, defs[i].name);

		espimg_buf_printf(&b, "%s%s", i ? ", " : "", defs[i].name);
		if (d < best) {
			best = d;
			near = defs[i].name;
		}
	}
	list = espimg_buf_finish(&b, NULL);
	if (!list)
		c->nomem = true;
	if (near)
		err_at(c, k, "manifest.unknown_key",
		       "unknown key '%s' in %s; did you mean '%s'?", SHOW(k),
		       where, near);
	else
		err_at(c, k, "manifest.unknown_key",
		       "unknown key '%s' in %s (known keys: %s)", SHOW(k),
		       where, list ? list : "?");
	free(list);
}

/* Same scalar key earlier in the mapping?  Returns it. */
static const mnode *earlier_key(const mnode *map, size_t i)
{
	const mnode *k = map->kid[i];

	for (size_t j = 0; j < i; j += 2) {
		const mnode *e = map->kid[j];

		if (e->kind == N_SCALAR && !e->bad && e->len == k->len &&
		    !memcmp(e->s, k->s, k->len))
			return e;
	}
	return NULL;
}

/* A key must be a plain name, not a mapping or list (YAML's "? [a]: b"). */
static bool key_ok(mctx *c, const mnode *k, const char *where)
{
	if (k->bad)
		return false;
	if (k->kind != N_SCALAR) {
		err_at(c, k, "manifest.type",
		       "a key in %s must be a name, not %s", where,
		       kind_name(k));
		return false;
	}
	return true;
}

static void walk_map(mctx *c, const mnode *map, const keydef *defs,
		     size_t ndefs, const char *where, const char *skip)
{
	for (size_t i = 0; i + 1 < map->nkid; i += 2) {
		const mnode *k = map->kid[i], *v = map->kid[i + 1], *e;
		const keydef *d = NULL;

		if (!key_ok(c, k, where))
			continue;
		e = earlier_key(map, i);
		if (e) {
			err_at(c, k, "manifest.duplicate_key",
			       "duplicate key '%s' in %s (first at line %u "
			       "column %u)", SHOW(k), where, e->line, e->col);
			continue;
		}
		for (size_t j = 0; j < ndefs; j++)
			if (!strcmp(k->s, defs[j].name))
				d = &defs[j];
		if (!d) {
			unknown_key(c, k, defs, ndefs, where);
			continue;
		}
		if (v->bad || (skip && !strcmp(k->s, skip)))
			continue;
		d->fn(c, k, v);
	}
}

/* ------------------------------------------------------------ chip, flash */

static void key_chip(mctx *c, const mnode *k, const mnode *v)
{
	espimg_buf b = { 0 };
	char *list;

	c->chip_seen = true;
	if (!need_scalar(c, k, v, "a chip name such as esp32 or esp32c3"))
		return;
	c->m->pos_chip = pos_of(v);
	c->m->chip = memchr(v->s, '\0', v->len) ? NULL
						 : espimg_chip_by_key(v->s);
	if (c->m->chip)
		return;
	for (size_t i = 0; i < espimg_chip_count(); i++)
		espimg_buf_printf(&b, "%s%s", i ? ", " : "",
				  espimg_chip_at(i)->key);
	list = espimg_buf_finish(&b, NULL);
	if (!list)
		c->nomem = true;
	err_at(c, v, "manifest.chip", "unknown chip '%s' (known: %s)",
	       SHOW(v), list ? list : "?");
	free(list);
}

static void key_flash_size(mctx *c, const mnode *k, const mnode *v)
{
	espimg_flash_params *f = &c->m->flash;
	uint64_t bytes;

	if (!need_scalar(c, k, v, "a flash size such as 4MB, or keep"))
		return;
	f->pos_size = pos_of(v);
	if (is_keep(v))
		return;
	if (!get_size(c, k, v, &bytes))
		return;
	for (unsigned code = 0; espimg_flash_size_name(code); code++) {
		if (espimg_flash_size_bytes(code) == bytes) {
			f->size = (int)code;
			f->size_bytes = bytes;
			return;
		}
	}
	err_at(c, v, "manifest.flash_size",
	       "flash size '%s' is not one an image header can hold (1MB, "
	       "2MB, 4MB, 8MB, 16MB, 32MB, 64MB, 128MB or keep)", SHOW(v));
}

static void key_flash_mode(mctx *c, const mnode *k, const mnode *v)
{
	/* esptool's FLASH_MODES: header byte 2 (esp_image_spi_mode_t). */
	static const char *const modes[] = { "qio", "qout", "dio", "dout" };
	espimg_flash_params *f = &c->m->flash;

	if (!need_scalar(c, k, v, "qio, qout, dio, dout or keep"))
		return;
	f->pos_mode = pos_of(v);
	if (is_keep(v))
		return;
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(modes); i++) {
		if (name_eq(v, modes[i])) {
			f->mode = (int)i;
			return;
		}
	}
	err_at(c, v, "manifest.flash_mode",
	       "unknown flash mode '%s' (qio, qout, dio, dout or keep)",
	       SHOW(v));
}

/* The nibble for a frequency name on this chip.  chip.h keeps one name per
 * nibble; esptool's esp32c6.py also maps "40m" to 0 (next to "80m"). */
static int freq_nibble(const espimg_chip *chip, const char *name)
{
	for (unsigned i = 0; i < 16; i++) {
		const char *f = espimg_chip_flash_freq_name(chip, i);

		if (f && !strcasecmp(f, name))
			return (int)i;
	}
	if (!strcmp(chip->key, "esp32c6") && !strcasecmp(name, "40m"))
		return 0;
	return -1;
}

static void key_flash_freq(mctx *c, const mnode *k, const mnode *v)
{
	espimg_flash_params *f = &c->m->flash;
	const espimg_chip *chip = c->m->chip;
	espimg_buf b = { 0 };
	char *list;
	int nib;

	if (!need_scalar(c, k, v, "a flash frequency such as 40m, or keep"))
		return;
	f->pos_freq = pos_of(v);
	if (is_keep(v))
		return;
	if (!chip) {
		/* Its names depend on the chip: reported once the chip is
		 * known (a missing chip is an error of its own). */
		return;
	}
	nib = memchr(v->s, '\0', v->len) ? -1 : freq_nibble(chip, v->s);
	if (nib >= 0) {
		f->freq = nib;
		return;
	}
	for (unsigned i = 16; i-- > 0;) {
		const char *n = espimg_chip_flash_freq_name(chip, i);

		if (n)
			espimg_buf_printf(&b, "%s, ", n);
	}
	espimg_buf_printf(&b, "keep");
	list = espimg_buf_finish(&b, NULL);
	if (!list)
		c->nomem = true;
	err_at(c, v, "manifest.flash_freq",
	       "flash frequency '%s' is not one %s takes (%s)", SHOW(v),
	       chip->name, list ? list : "?");
	free(list);
}

static const keydef flash_keys[] = {
	{ "size", key_flash_size },
	{ "mode", key_flash_mode },
	{ "freq", key_flash_freq },
};

static void key_flash(mctx *c, const mnode *k, const mnode *v)
{
	c->m->pos_flash_key = pos_of(k);
	if (!need_map(c, k, v, "size, mode, freq"))
		return;
	c->m->has_flash = true;
	walk_map(c, v, flash_keys, ESPIMG_ARRAY_SIZE(flash_keys), "'flash'",
		 NULL);
}

/* ------------------------------------------------------------ table */

static void table_file(mctx *c, const mnode *k, const mnode *v, bool csv)
{
	espimg_manifest *m = c->m;
	char *s = get_string(c, k, v, "a file name");

	if (!s)
		return;
	if (m->table_path) {
		err_at(c, k, "manifest.conflict",
		       "'partition_table' takes csv or bin, not both (%s is "
		       "at line %u column %u)", m->table_is_csv ? "csv" : "bin",
		       m->pos_table.line, m->pos_table.col);
		free(s);
		return;
	}
	m->table_path = s;
	m->table_is_csv = csv;
	m->pos_table = pos_of(v);
}

static void key_table_csv(mctx *c, const mnode *k, const mnode *v)
{
	table_file(c, k, v, true);
}

static void key_table_bin(mctx *c, const mnode *k, const mnode *v)
{
	table_file(c, k, v, false);
}

static void key_table_offset(mctx *c, const mnode *k, const mnode *v)
{
	uint64_t x;

	if (!get_uint(c, k, v, UINT32_MAX, "a flash offset such as 0x8000",
		      &x))
		return;
	c->m->table_offset = (uint32_t)x;
	c->m->pos_table_offset = pos_of(v);
}

static const keydef table_keys[] = {
	{ "csv", key_table_csv },
	{ "bin", key_table_bin },
	{ "offset", key_table_offset },
};

static void key_table(mctx *c, const mnode *k, const mnode *v)
{
	espimg_manifest *m = c->m;
	size_t before = c->errors;

	m->pos_table_key = pos_of(k);
	if (!need_map(c, k, v, "csv or bin, offset"))
		return;
	m->has_table = true;
	walk_map(c, v, table_keys, ESPIMG_ARRAY_SIZE(table_keys),
		 "'partition_table'", NULL);
	/* Missing file: said only when nothing else went wrong in the
	 * section (a misspelt "cvs" already said enough). */
	if (!m->table_path && c->errors == before)
		err_at(c, k, "manifest.missing",
		       "'partition_table' needs csv: FILE or bin: FILE");
}

/* ------------------------------------------------------------ images */

/* True for text that starts like a number: a digit, or a sign and one. */
static bool numeric_start(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return *s >= '0' && *s <= '9';
}

static bool hex_start(const char *s)
{
	return s[0] == '0' && (s[1] | 0x20) == 'x';
}

/*
 * An image key: an offset when it is a plain number (YAML's int, e.g.
 * 0x9000 or 36864) or quoted text that starts with 0x (JSON has no hex);
 * otherwise a partition name.  A plain key that starts like a number but
 * is not one is refused rather than taken as a name.
 */
static void image_entry(mctx *c, const mnode *k, const mnode *v)
{
	espimg_manifest *m = c->m;
	espimg_manifest_image img = { 0 };
	bool by_offset = k->plain ? numeric_start(k->s) : hex_start(k->s);

	if (by_offset) {
		int64_t x;

		if (parse_number(k, &x)) {
			err_at(c, k, "manifest.number",
			       "image key '%s' is neither a flash offset "
			       "(decimal or 0x hex) nor a partition name%s",
			       SHOW(k),
			       k->plain ? " (quote a name that starts with a "
					  "digit)"
					: "");
			return;
		}
		if (x < 0 || (uint64_t)x > UINT32_MAX) {
			err_at(c, k, "manifest.range",
			       "image offset '%s' is out of range (0 to "
			       "0xffffffff)", SHOW(k));
			return;
		}
		img.offset = (uint64_t)x;
	} else if (!k->len || memchr(k->s, '\0', k->len)) {
		err_at(c, k, "manifest.value",
		       "an image key must be a partition name or a flash "
		       "offset, not empty text");
		return;
	}
	/* The same place twice under two spellings (36864 and 0x9000). */
	for (size_t i = 0; i < m->nimages; i++) {
		const espimg_manifest_image *o = &m->images[i];
		const mnode *ok = c->image_keys[i];

		if (by_offset ? (!o->name && o->offset == img.offset)
			      : (o->name && !strcmp(o->name, k->s))) {
			err_at(c, k, "manifest.duplicate_key",
			       "image key '%s' names the same %s as '%s' at "
			       "line %u column %u", SHOW(k),
			       by_offset ? "offset" : "partition",
			       SHOW(ok), ok->line, ok->col);
			return;
		}
	}
	if (m->nimages == ESPIMG_MANIFEST_MAX_IMAGES) {
		err_at(c, k, "manifest.too_many",
		       "more than %u images", ESPIMG_MANIFEST_MAX_IMAGES);
		return;
	}
	img.path = get_string(c, k, v, "a file name");
	if (!img.path)
		return;
	if (!by_offset) {
		img.name = strdup(k->s);
		if (!img.name) {
			c->nomem = true;
			free(img.path);
			return;
		}
	}
	img.pos_key = pos_of(k);
	img.pos_path = pos_of(v);
	c->image_keys[m->nimages] = k;
	m->images[m->nimages++] = img;
}

static void key_images(mctx *c, const mnode *k, const mnode *v)
{
	c->images_key = k;
	c->m->pos_images_key = pos_of(k);
	if (!need_map(c, k, v, "partition name or flash offset: FILE"))
		return;
	c->images_empty = v->nkid == 0;
	for (size_t i = 0; i + 1 < v->nkid; i += 2) {
		const mnode *ik = v->kid[i], *iv = v->kid[i + 1], *e;

		if (!key_ok(c, ik, "'images'"))
			continue;
		e = earlier_key(v, i);
		if (e) {
			err_at(c, ik, "manifest.duplicate_key",
			       "duplicate key '%s' in 'images' (first at line "
			       "%u column %u)", SHOW(ik), e->line, e->col);
			continue;
		}
		if (iv->bad)
			continue;
		image_entry(c, ik, iv);
	}
}

static void key_boot(mctx *c, const mnode *k, const mnode *v)
{
	set_string(c, &c->m->boot, &c->m->pos_boot, k, v,
		   "the name of an app partition");
}

/* ------------------------------------------------------------ output */

static void key_out_format(mctx *c, const mnode *k, const mnode *v)
{
	static const struct {
		const char *name;
		espimg_out_format f;
	} formats[] = {
		{ "raw", ESPIMG_OUT_RAW },
		{ "hex", ESPIMG_OUT_HEX },
		{ "uf2", ESPIMG_OUT_UF2 },
	};

	if (!need_scalar(c, k, v, "raw, hex or uf2"))
		return;
	c->m->pos_format = pos_of(v);
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(formats); i++) {
		if (name_eq(v, formats[i].name)) {
			c->m->format = formats[i].f;
			return;
		}
	}
	err_at(c, v, "manifest.format",
	       "unknown output format '%s' (raw, hex or uf2)", SHOW(v));
}

static void key_out_fill(mctx *c, const mnode *k, const mnode *v)
{
	uint64_t x;

	if (!get_uint(c, k, v, 0xFF, "a byte value such as 0xff", &x))
		return;
	c->m->fill = (uint8_t)x;
	c->m->pos_fill = pos_of(v);
}

static void key_out_pad(mctx *c, const mnode *k, const mnode *v)
{
	espimg_manifest *m = c->m;
	uint64_t x;

	if (!need_scalar(c, k, v, "a size such as 4MB, or flash"))
		return;
	m->pos_pad = pos_of(v);
	if (name_eq(v, "flash")) {
		m->pad_to_flash = true;
		return;
	}
	if (!get_size(c, k, v, &x))
		return;
	if (!x) {
		err_at(c, v, "manifest.range",
		       "'pad_to_size' must be more than 0 (leave it out for "
		       "no padding)");
		return;
	}
	m->pad_to_size = x;
}

static void key_out_target(mctx *c, const mnode *k, const mnode *v)
{
	uint64_t x;

	if (!get_uint(c, k, v, UINT32_MAX, "a flash offset such as 0x0", &x))
		return;
	c->m->target_offset = x;
	c->m->pos_target = pos_of(v);
}

static void key_out_chunk(mctx *c, const mnode *k, const mnode *v)
{
	uint64_t x;

	if (!get_uint(c, k, v, UINT32_MAX, "a number of bytes such as 256",
		      &x))
		return;
	/* The upper bound depends on uf2_md5: checked at the end. */
	if (!x || x % 4 || x > UF2_DATA_SIZE) {
		err_at(c, v, "manifest.range",
		       "'uf2_chunk_size' must be a multiple of 4 from 4 to "
		       "%u (%u with uf2_md5)", UF2_DATA_SIZE,
		       UF2_DATA_SIZE - UF2_MD5_PART_SIZE);
		return;
	}
	c->m->uf2_chunk_size = (unsigned)x;
	c->m->pos_uf2_chunk = pos_of(v);
}

static void key_out_md5(mctx *c, const mnode *k, const mnode *v)
{
	bool b;

	if (!get_bool(c, k, v, &b))
		return;
	c->m->uf2_md5 = b;
	c->m->pos_uf2_md5 = pos_of(v);
}

static void key_out_summary(mctx *c, const mnode *k, const mnode *v)
{
	set_string(c, &c->m->summary_path, &c->m->pos_summary, k, v,
		   "a file name");
}

static void key_out_argfile(mctx *c, const mnode *k, const mnode *v)
{
	set_string(c, &c->m->argfile_path, &c->m->pos_argfile, k, v,
		   "a file name");
}

static void key_out_file(mctx *c, const mnode *k, const mnode *v)
{
	set_string(c, &c->m->output_path, &c->m->pos_output_file, k, v,
		   "a file name");
}

static const keydef output_keys[] = {
	{ "format", key_out_format },
	{ "fill", key_out_fill },
	{ "pad_to_size", key_out_pad },
	{ "target_offset", key_out_target },
	{ "uf2_chunk_size", key_out_chunk },
	{ "uf2_md5", key_out_md5 },
	{ "summary", key_out_summary },
	{ "argfile", key_out_argfile },
	{ "file", key_out_file },
};

static void key_output(mctx *c, const mnode *k, const mnode *v)
{
	c->m->pos_output_key = pos_of(k);
	if (!need_map(c, k, v, "format, fill, pad_to_size, ..."))
		return;
	walk_map(c, v, output_keys, ESPIMG_ARRAY_SIZE(output_keys),
		 "'output'", NULL);
}

static const keydef root_keys[] = {
	{ "chip", key_chip },
	{ "flash", key_flash },
	{ "partition_table", key_table },
	{ "images", key_images },
	{ "boot", key_boot },
	{ "output", key_output },
};

/* ------------------------------------------------------------ checks */

static void ignored(mctx *c, espimg_mpos p, const char *key, const char *why)
{
	if (p.line)
		report(c, ESPIMG_SEV_WARNING, "manifest.ignored", p.line, p.col,
		       "'%s' is ignored: %s", key, why);
}

/* What needs another key, and output keys the format does not use.  Not
 * after a node was refused: its section may be what is missing. */
static void check_whole(mctx *c, const mnode *root)
{
	espimg_manifest *m = c->m;

	if (c->had_bad)
		return;

	if (!c->chip_seen)
		report(c, ESPIMG_SEV_ERROR, "manifest.missing", root->line,
		       root->col,
		       "the manifest has no 'chip' (esp32, esp32c3, ...)");
	if (!c->images_key && !m->has_table)
		report(c, ESPIMG_SEV_ERROR, "manifest.missing", root->line,
		       root->col,
		       "the manifest has no 'images' and no "
		       "'partition_table': there is nothing to write");
	else if (c->images_empty && !m->has_table)
		err_at(c, c->images_key, "manifest.missing",
		       "'images' is empty and there is no 'partition_table': "
		       "there is nothing to write");
	if (m->pad_to_flash && m->flash.size < 0)
		report(c, ESPIMG_SEV_ERROR, "manifest.requires",
		       m->pos_pad.line, m->pos_pad.col,
		       "'pad_to_size: flash' needs the flash size: give "
		       "flash: {size: ...}");
	if (m->boot && !m->has_table)
		report(c, ESPIMG_SEV_ERROR, "manifest.requires",
		       m->pos_boot.line, m->pos_boot.col,
		       "'boot' needs a 'partition_table' (the otadata and "
		       "the slot are found there)");
	for (size_t i = 0; i < m->nimages; i++) {
		const espimg_manifest_image *im = &m->images[i];

		if (im->name && !m->has_table && strcmp(im->name, "bootloader"))
			report(c, ESPIMG_SEV_ERROR, "manifest.requires",
			       im->pos_key.line, im->pos_key.col,
			       "image key '%s' is a partition name, which "
			       "needs a 'partition_table' (or give a flash "
			       "offset such as 0x10000)",
			       show((char[4 * SHOW_MAX + 8]){ 0 }, im->name,
				    strlen(im->name)));
	}
	if (m->uf2_chunk_size && m->uf2_md5 &&
	    m->uf2_chunk_size > UF2_DATA_SIZE - UF2_MD5_PART_SIZE)
		report(c, ESPIMG_SEV_ERROR, "manifest.range",
		       m->pos_uf2_chunk.line, m->pos_uf2_chunk.col,
		       "'uf2_chunk_size' %u leaves no room for the MD5 part: "
		       "at most %u with uf2_md5 (or set uf2_md5: false)",
		       m->uf2_chunk_size, UF2_DATA_SIZE - UF2_MD5_PART_SIZE);
	if (m->format != ESPIMG_OUT_UF2) {
		ignored(c, m->pos_uf2_chunk, "uf2_chunk_size",
			"the output format is not uf2");
		ignored(c, m->pos_uf2_md5, "uf2_md5",
			"the output format is not uf2");
	}
	if (m->format != ESPIMG_OUT_RAW) {
		/* esptool merge-bin: --pad-to-size is a RAW option and only
		 * raw output fills gaps. */
		ignored(c, m->pos_fill, "fill",
			"only raw output fills gaps");
		ignored(c, m->pos_pad, "pad_to_size",
			"only raw output is padded");
	}
}

/* ------------------------------------------------------------ API */

void espimg_manifest_free(espimg_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nimages; i++) {
		free(m->images[i].name);
		free(m->images[i].path);
	}
	free(m->table_path);
	free(m->boot);
	free(m->summary_path);
	free(m->argfile_path);
	free(m->output_path);
	free(m);
}

static void manifest_init(espimg_manifest *m)
{
	m->flash.mode = -1;
	m->flash.size = -1;
	m->flash.freq = -1;
	m->table_offset = DEFAULT_TABLE_OFFSET;
	m->format = ESPIMG_OUT_RAW;
	m->fill = 0xFF;
	m->uf2_md5 = true;
}

int espimg_manifest_parse(const char *text, size_t len, const char *file,
			  espimg_manifest **out, espimg_diag_list *diags)
{
	mctx c = { .file = file, .diags = diags };
	espimg_manifest *m;
	mnode *root;
	bool stop;
	int ret = 0;

	if (!out || (!text && len))
		return ESPIMG_EINVAL;
	*out = NULL;
	if (len > ESPIMG_MANIFEST_MAX_SIZE) {
		report(&c, ESPIMG_SEV_ERROR, "manifest.too_big", 0, 0,
		       "the manifest is %zu bytes; at most %u are read", len,
		       ESPIMG_MANIFEST_MAX_SIZE);
		flush(&c);
		return c.nomem ? ESPIMG_ENOMEM : ESPIMG_ETOOBIG;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return ESPIMG_ENOMEM;
	manifest_init(m);
	c.m = m;
	/* UTF-16 (libyaml reads it after a byte order mark) is not
	 * counted here. */
	if (!(len >= 2 && (((unsigned char)text[0] == 0xFE &&
			    (unsigned char)text[1] == 0xFF) ||
			   ((unsigned char)text[0] == 0xFF &&
			    (unsigned char)text[1] == 0xFE))))
		offset_pos(text ? text : "", len, len, &c.end_line,
			   &c.end_col);

	root = read_tree(&c, text ? text : "", len, &stop);
	if (!stop) {
		if (!root) {
			report(&c, ESPIMG_SEV_ERROR, "manifest.missing", 1, 1,
			       "the manifest is empty");
		} else if (root->kind != N_MAP) {
			if (!root->bad)
				err_at(&c, root, "manifest.type",
				       "a manifest must be a mapping of keys "
				       "(chip, images, ...), not %s",
				       is_null(root) ? "an empty value"
						     : kind_name(root));
		} else {
			/* The chip first: frequency names depend on it. */
			for (size_t i = 0; i + 1 < root->nkid; i += 2) {
				const mnode *k = root->kid[i];

				if (k->kind == N_SCALAR && !k->bad &&
				    !strcmp(k->s, "chip")) {
					c.chip_seen = true;
					if (!root->kid[i + 1]->bad)
						key_chip(&c, k,
							 root->kid[i + 1]);
					break;
				}
			}
			walk_map(&c, root, root_keys,
				 ESPIMG_ARRAY_SIZE(root_keys), "the manifest",
				 "chip");
			check_whole(&c, root);
		}
	}
	node_free(root);
	flush(&c);
	if (c.nomem)
		ret = ESPIMG_ENOMEM;
	else if (c.errors)
		ret = ESPIMG_EFORMAT;
	if (ret) {
		espimg_manifest_free(m);
		return ret;
	}
	*out = m;
	return 0;
}

char *espimg_manifest_path(const char *manifest_file, const char *rel)
{
	const char *slash;
	size_t dlen;
	char *s;

	if (!rel)
		return NULL;
	slash = manifest_file ? strrchr(manifest_file, '/') : NULL;
	if (rel[0] == '/' || !slash)
		return strdup(rel);
	dlen = (size_t)(slash - manifest_file) + 1; /* keeps the '/' */
	s = malloc(dlen + strlen(rel) + 1);
	if (!s)
		return NULL;
	memcpy(s, manifest_file, dlen);
	strcpy(s + dlen, rel);
	return s;
}
