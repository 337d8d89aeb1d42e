/*
 * emit.c - structured output with text, JSON and YAML back ends.
 *
 * The front half checks the document structure (a stack of open maps and
 * lists) for every back end alike; the back halves only lay out output.
 * Text and JSON output of one call is built in a scratch buffer and handed
 * to the write callback in one piece; YAML goes through libyaml's event API,
 * which writes through the same callback when its own buffer fills up and
 * at the end of the document.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* The umbrella first: it defines what the module headers need. */
#include "espimg/espimg.h"
#include "espimg/emit.h"
#include "internal.h"

#define EMIT_MAX_DEPTH 32

enum { KIND_MAP, KIND_LIST };

/* Text back end: how the first child of a container starts its line. */
enum {
	OPEN_DOC,  /* at the start of a line, indent 0 */
	OPEN_KEY,  /* after "key:", on a new line */
	OPEN_DASH, /* after "-", on the same line */
};

enum { STATE_NEW, STATE_DOC, STATE_DONE };

struct emit_frame {
	unsigned char kind;
	unsigned char key_pending; /* map: a key waits for its value */
	unsigned char open;        /* text: OPEN_* */
	size_t count;              /* entries laid out so far */
};

struct espimg_emitter {
	espimg_format fmt;
	espimg_write_fn write;
	void *ctx;
	int err;   /* sticky error */
	int state; /* STATE_* */
	unsigned depth;
	struct emit_frame stack[EMIT_MAX_DEPTH];
	espimg_buf out; /* text/JSON output of the current call */
	espimg_buf tmp; /* YAML: sanitised scalar */
	yaml_emitter_t yaml;
	int yaml_ready;
};

/* Scalars as the front end hands them to the back ends. */
enum scalar_type { SC_STR, SC_NUM, SC_BOOL, SC_NULL };

struct scalar {
	enum scalar_type type;
	const char *s; /* SC_STR: the string; SC_NUM: the digits */
	size_t n;
	int b;
};

/* ---------------------------------------------------------------- UTF-8 */

#define UTF8_INVALID 0xFFFFFFFFu

/*
 * Decodes one character at s (n > 0 bytes available).  Returns the number of
 * bytes consumed; *cp is the code point, or UTF8_INVALID for an ill-formed
 * sequence, in which case the maximal ill-formed subpart is consumed (at
 * least one byte), as Unicode recommends for U+FFFD substitution.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need, i;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0; /* no overlongs */
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* <= U+10FFFF */
	} else {
		*cp = UTF8_INVALID;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*cp = UTF8_INVALID;
			return i;
		}
		v = v << 6 | (s[i] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = v;
	return need + 1;
}

static const char utf8_replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

enum esc_mode { ESC_JSON, ESC_TEXT, ESC_NONE };

/*
 * Appends s[0..n) to b with ill-formed UTF-8 replaced by U+FFFD and, by
 * mode, JSON string escapes or readable escapes of control characters.
 */
static void append_clean(espimg_buf *b, const char *str, size_t n,
			 enum esc_mode mode)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, k;
	char esc[8];
	uint32_t cp;

	while (i < n) {
		k = utf8_decode(s + i, n - i, &cp);
		if (cp == UTF8_INVALID) {
			espimg_buf_append(b, s + run, i - run);
			espimg_buf_append(b, utf8_replacement, 3);
		} else if (mode != ESC_NONE &&
			   (cp < 0x20 || (mode == ESC_JSON && cp == '"') ||
			    (mode == ESC_JSON && cp == '\\') ||
			    (mode == ESC_TEXT && cp == 0x7F))) {
			espimg_buf_append(b, s + run, i - run);
			switch (cp) {
			case '"':
				memcpy(esc, "\\\"", 3);
				break;
			case '\\':
				memcpy(esc, "\\\\", 3);
				break;
			case '\b':
				memcpy(esc, "\\b", 3);
				break;
			case '\f':
				memcpy(esc, "\\f", 3);
				break;
			case '\n':
				memcpy(esc, "\\n", 3);
				break;
			case '\r':
				memcpy(esc, "\\r", 3);
				break;
			case '\t':
				memcpy(esc, "\\t", 3);
				break;
			default:
				snprintf(esc, sizeof(esc),
					 mode == ESC_JSON ? "\\u%04x" : "\\x%02x",
					 (unsigned)cp);
				break;
			}
			espimg_buf_append(b, esc, strlen(esc));
		} else {
			i += k;
			continue;
		}
		i += k;
		run = i;
	}
	espimg_buf_append(b, s + run, i - run);
}

/* ---------------------------------------------------------------- output */

static int emit_fail(espimg_emitter *e, int err)
{
	e->err = err;
	return err;
}

/* Hands the scratch buffer to the write callback. */
static int emit_flush(espimg_emitter *e)
{
	if (e->out.failed)
		return emit_fail(e, ESPIMG_ENOMEM);
	if (e->out.len && e->write(e->ctx, e->out.data, e->out.len) != 0)
		return emit_fail(e, ESPIMG_EIO);
	e->out.len = 0;
	return 0;
}

static void put(espimg_emitter *e, const char *s)
{
	espimg_buf_append(&e->out, s, strlen(s));
}

static void put_indent(espimg_emitter *e, unsigned n)
{
	static const char spaces[] = "                                ";

	while (n > sizeof(spaces) - 1) {
		espimg_buf_append(&e->out, spaces, sizeof(spaces) - 1);
		n -= (unsigned)(sizeof(spaces) - 1);
	}
	espimg_buf_append(&e->out, spaces, n);
}

static struct emit_frame *top(espimg_emitter *e)
{
	return &e->stack[e->depth - 1];
}

/* ---------------------------------------------------------------- JSON */

static void json_string(espimg_emitter *e, const char *s, size_t n)
{
	put(e, "\"");
	append_clean(&e->out, s, n, ESC_JSON);
	put(e, "\"");
}

/* Separator and indent before an entry of the innermost container. */
static void json_lead(espimg_emitter *e)
{
	struct emit_frame *f = top(e);

	put(e, f->count ? ",\n" : "\n");
	put_indent(e, 2 * e->depth);
	f->count++;
}

static void json_scalar(espimg_emitter *e, const struct scalar *v)
{
	switch (v->type) {
	case SC_STR:
		json_string(e, v->s, v->n);
		break;
	case SC_NUM:
		espimg_buf_append(&e->out, v->s, v->n);
		break;
	case SC_BOOL:
		put(e, v->b ? "true" : "false");
		break;
	case SC_NULL:
		put(e, "null");
		break;
	}
}

/* ---------------------------------------------------------------- text */

/* Starts the line of a new entry of the innermost container. */
static void text_lead(espimg_emitter *e)
{
	struct emit_frame *f = top(e);

	if (f->count == 0 && f->open == OPEN_DASH) {
		put(e, " ");
	} else {
		if (f->count == 0 && f->open == OPEN_KEY)
			put(e, "\n");
		put_indent(e, 2 * (e->depth - 1));
	}
	f->count++;
}

static void text_scalar(espimg_emitter *e, const struct scalar *v)
{
	switch (v->type) {
	case SC_STR:
		if (v->n) {
			put(e, " ");
			append_clean(&e->out, v->s, v->n, ESC_TEXT);
		}
		break;
	case SC_NUM:
		put(e, " ");
		espimg_buf_append(&e->out, v->s, v->n);
		break;
	case SC_BOOL:
		put(e, v->b ? " yes" : " no");
		break;
	case SC_NULL:
		put(e, " -");
		break;
	}
	put(e, "\n");
}

/* ---------------------------------------------------------------- YAML */

static int yaml_write_handler(void *data, unsigned char *buf, size_t size)
{
	espimg_emitter *e = data;

	return e->write(e->ctx, buf, size) == 0;
}

/* Emits one event; maps libyaml's failure to an ESPIMG_E* code. */
static int yaml_put(espimg_emitter *e, yaml_event_t *ev, int init_ok)
{
	if (!init_ok)
		return emit_fail(e, ESPIMG_ENOMEM);
	if (!yaml_emitter_emit(&e->yaml, ev)) {
		switch (e->yaml.error) {
		case YAML_WRITER_ERROR:
			return emit_fail(e, ESPIMG_EIO);
		case YAML_MEMORY_ERROR:
			return emit_fail(e, ESPIMG_ENOMEM);
		default:
			return emit_fail(e, ESPIMG_EINVAL);
		}
	}
	return 0;
}

static int ieq(const char *a, size_t n, const char *b)
{
	size_t i;

	if (strlen(b) != n)
		return 0;
	for (i = 0; i < n; i++) {
		char c = a[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != b[i])
			return 0;
	}
	return 1;
}

/*
 * Whether a plain scalar with this text could be read as something other
 * than a string by a YAML 1.1 or 1.2 reader: null, a boolean, a number
 * (any base, sexagesimal, .inf/.nan), a timestamp, a merge or value key.
 * Deliberately generous: everything that starts like a number is quoted.
 */
static int yaml_ambiguous(const char *s, size_t n)
{
	static const char *const words[] = {
		"~", "null", "true", "false", "yes", "no", "on", "off", "y",
		"n", ".inf", "+.inf", "-.inf", ".nan", "<<", "=",
	};
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < ESPIMG_ARRAY_SIZE(words); i++)
		if (ieq(s, n, words[i]))
			return 1;
	i = 0;
	if (s[0] == '+' || s[0] == '-')
		i = 1;
	if (i < n && s[i] == '.')
		i++;
	return i < n && s[i] >= '0' && s[i] <= '9';
}

static int yaml_scalar(espimg_emitter *e, const struct scalar *v)
{
	yaml_event_t ev;
	const char *s;
	size_t n;
	int plain, ok;

	switch (v->type) {
	case SC_STR:
		e->tmp.len = 0;
		append_clean(&e->tmp, v->s, v->n, ESC_NONE);
		if (e->tmp.failed)
			return emit_fail(e, ESPIMG_ENOMEM);
		s = e->tmp.data ? e->tmp.data : "";
		n = e->tmp.len;
		plain = !yaml_ambiguous(s, n);
		break;
	case SC_NUM:
		s = v->s;
		n = v->n;
		plain = 1;
		break;
	case SC_BOOL:
		s = v->b ? "true" : "false";
		n = strlen(s);
		plain = 1;
		break;
	default:
		s = "null";
		n = 4;
		plain = 1;
		break;
	}
	if (n > INT_MAX)
		return emit_fail(e, ESPIMG_ETOOBIG);
	/*
	 * No tag: plain_implicit = 0 makes libyaml quote the scalar, so a
	 * reader cannot resolve it to another type; otherwise libyaml picks
	 * plain style where the text allows it.
	 */
	ok = yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (const yaml_char_t *)s, (int)n,
					  plain, 1,
					  v->type == SC_STR ?
					  YAML_ANY_SCALAR_STYLE :
					  YAML_PLAIN_SCALAR_STYLE);
	return yaml_put(e, &ev, ok);
}

static int yaml_begin(espimg_emitter *e, int kind)
{
	yaml_event_t ev;
	int ok;

	if (kind == KIND_MAP)
		ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							 YAML_BLOCK_MAPPING_STYLE);
	else
		ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							  YAML_BLOCK_SEQUENCE_STYLE);
	return yaml_put(e, &ev, ok);
}

static int yaml_end(espimg_emitter *e, int kind)
{
	yaml_event_t ev;
	int ok;

	if (kind == KIND_MAP)
		ok = yaml_mapping_end_event_initialize(&ev);
	else
		ok = yaml_sequence_end_event_initialize(&ev);
	return yaml_put(e, &ev, ok);
}

/* ---------------------------------------------------------------- front */

static int check(espimg_emitter *e)
{
	if (!e)
		return ESPIMG_EINVAL;
	if (e->err)
		return e->err;
	if (e->state != STATE_DOC)
		return emit_fail(e, ESPIMG_EINVAL);
	return 0;
}

/*
 * Common start of every value (scalar or container): checks that the
 * innermost container can take one and lays out what precedes it.
 */
static int value_begin(espimg_emitter *e)
{
	struct emit_frame *f;
	int rc = check(e);

	if (rc)
		return rc;
	f = top(e);
	if (f->kind == KIND_MAP) {
		if (!f->key_pending)
			return emit_fail(e, ESPIMG_EINVAL);
		f->key_pending = 0;
		return 0;
	}
	if (e->fmt == ESPIMG_FORMAT_JSON) {
		json_lead(e);
	} else if (e->fmt == ESPIMG_FORMAT_TEXT) {
		text_lead(e);
		put(e, "-");
	}
	return 0;
}

static int emit_scalar(espimg_emitter *e, const struct scalar *v)
{
	int rc = value_begin(e);

	if (rc)
		return rc;
	switch (e->fmt) {
	case ESPIMG_FORMAT_JSON:
		json_scalar(e, v);
		break;
	case ESPIMG_FORMAT_TEXT:
		text_scalar(e, v);
		break;
	case ESPIMG_FORMAT_YAML:
		return yaml_scalar(e, v);
	}
	return emit_flush(e);
}

static int emit_begin(espimg_emitter *e, int kind)
{
	struct emit_frame *f;
	int rc = check(e), in_list;

	if (rc)
		return rc;
	if (e->depth >= EMIT_MAX_DEPTH)
		return emit_fail(e, ESPIMG_EINVAL);
	in_list = top(e)->kind == KIND_LIST;
	rc = value_begin(e);
	if (rc)
		return rc;
	f = &e->stack[e->depth++];
	f->kind = (unsigned char)kind;
	f->key_pending = 0;
	f->open = in_list ? OPEN_DASH : OPEN_KEY;
	f->count = 0;
	switch (e->fmt) {
	case ESPIMG_FORMAT_JSON:
		put(e, kind == KIND_MAP ? "{" : "[");
		break;
	case ESPIMG_FORMAT_TEXT:
		break;
	case ESPIMG_FORMAT_YAML:
		return yaml_begin(e, kind);
	}
	return emit_flush(e);
}

/* Lays out the end of the innermost container and pops it. */
static void close_frame(espimg_emitter *e)
{
	struct emit_frame *f = top(e);
	int map = f->kind == KIND_MAP;

	switch (e->fmt) {
	case ESPIMG_FORMAT_JSON:
		if (f->count) {
			put(e, "\n");
			put_indent(e, 2 * (e->depth - 1));
		}
		put(e, map ? "}" : "]");
		break;
	case ESPIMG_FORMAT_TEXT:
		if (f->count == 0 && f->open != OPEN_DOC)
			put(e, map ? " {}\n" : " []\n");
		break;
	case ESPIMG_FORMAT_YAML:
		break;
	}
	e->depth--;
}

static int emit_end(espimg_emitter *e, int kind)
{
	struct emit_frame *f;
	int rc = check(e);

	if (rc)
		return rc;
	f = top(e);
	/* The document's own map is closed by end_doc only. */
	if (e->depth < 2 || f->kind != kind || f->key_pending)
		return emit_fail(e, ESPIMG_EINVAL);
	close_frame(e);
	if (e->fmt == ESPIMG_FORMAT_YAML)
		return yaml_end(e, kind);
	return emit_flush(e);
}

int espimg_format_parse(const char *name, espimg_format *out)
{
	static const struct {
		const char *name;
		espimg_format fmt;
	} formats[] = {
		{ "text", ESPIMG_FORMAT_TEXT },
		{ "json", ESPIMG_FORMAT_JSON },
		{ "yaml", ESPIMG_FORMAT_YAML },
	};
	size_t i;

	if (!name || !out)
		return ESPIMG_EINVAL;
	for (i = 0; i < ESPIMG_ARRAY_SIZE(formats); i++) {
		if (strcmp(name, formats[i].name) == 0) {
			*out = formats[i].fmt;
			return 0;
		}
	}
	return ESPIMG_EINVAL;
}

espimg_emitter *espimg_emit_new(espimg_format fmt, espimg_write_fn write,
				void *ctx)
{
	espimg_emitter *e;

	if (!write || (fmt != ESPIMG_FORMAT_TEXT && fmt != ESPIMG_FORMAT_JSON &&
		       fmt != ESPIMG_FORMAT_YAML))
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->fmt = fmt;
	e->write = write;
	e->ctx = ctx;
	if (fmt == ESPIMG_FORMAT_YAML) {
		if (!yaml_emitter_initialize(&e->yaml)) {
			free(e);
			return NULL;
		}
		e->yaml_ready = 1;
		yaml_emitter_set_output(&e->yaml, yaml_write_handler, e);
		yaml_emitter_set_encoding(&e->yaml, YAML_UTF8_ENCODING);
		yaml_emitter_set_unicode(&e->yaml, 1);
		yaml_emitter_set_indent(&e->yaml, 2);
		yaml_emitter_set_width(&e->yaml, -1);
		yaml_emitter_set_break(&e->yaml, YAML_LN_BREAK);
	}
	return e;
}

void espimg_emit_free(espimg_emitter *e)
{
	if (!e)
		return;
	if (e->yaml_ready)
		yaml_emitter_delete(&e->yaml);
	espimg_buf_free(&e->out);
	espimg_buf_free(&e->tmp);
	free(e);
}

int espimg_emit_begin_doc(espimg_emitter *e, const char *schema)
{
	struct emit_frame *f;
	yaml_event_t ev;
	int rc;

	if (!e)
		return ESPIMG_EINVAL;
	if (e->err)
		return e->err;
	if (e->state != STATE_NEW || !schema)
		return emit_fail(e, ESPIMG_EINVAL);
	e->state = STATE_DOC;
	f = &e->stack[e->depth++];
	f->kind = KIND_MAP;
	f->key_pending = 0;
	f->open = OPEN_DOC;
	f->count = 0;
	switch (e->fmt) {
	case ESPIMG_FORMAT_JSON:
		put(e, "{");
		rc = emit_flush(e);
		break;
	case ESPIMG_FORMAT_TEXT:
		/* People do not need the schema. */
		return 0;
	case ESPIMG_FORMAT_YAML:
		rc = yaml_put(e, &ev, yaml_stream_start_event_initialize(
					      &ev, YAML_UTF8_ENCODING));
		if (!rc)
			rc = yaml_put(e, &ev,
				      yaml_document_start_event_initialize(
					      &ev, NULL, NULL, NULL, 1));
		if (!rc)
			rc = yaml_begin(e, KIND_MAP);
		break;
	default:
		rc = emit_fail(e, ESPIMG_EINVAL);
		break;
	}
	if (rc)
		return rc;
	return espimg_emit_kv_str(e, "schema", schema);
}

int espimg_emit_end_doc(espimg_emitter *e)
{
	yaml_event_t ev;
	int rc = check(e);

	if (rc)
		return rc;
	if (e->depth != 1 || top(e)->key_pending)
		return emit_fail(e, ESPIMG_EINVAL);
	close_frame(e);
	e->state = STATE_DONE;
	switch (e->fmt) {
	case ESPIMG_FORMAT_JSON:
		put(e, "\n");
		break;
	case ESPIMG_FORMAT_TEXT:
		break;
	case ESPIMG_FORMAT_YAML:
		rc = yaml_end(e, KIND_MAP);
		if (!rc)
			rc = yaml_put(e, &ev,
				      yaml_document_end_event_initialize(&ev,
									 1));
		if (!rc)
			rc = yaml_put(e, &ev,
				      yaml_stream_end_event_initialize(&ev));
		if (!rc && !yaml_emitter_flush(&e->yaml))
			rc = emit_fail(e, e->yaml.error == YAML_WRITER_ERROR ?
					  ESPIMG_EIO : ESPIMG_ENOMEM);
		return rc;
	}
	return emit_flush(e);
}

int espimg_emit_key(espimg_emitter *e, const char *key)
{
	struct emit_frame *f;
	struct scalar v;
	int rc = check(e);

	if (rc)
		return rc;
	f = top(e);
	if (!key || f->kind != KIND_MAP || f->key_pending)
		return emit_fail(e, ESPIMG_EINVAL);
	f->key_pending = 1;
	switch (e->fmt) {
	case ESPIMG_FORMAT_JSON:
		json_lead(e);
		json_string(e, key, strlen(key));
		put(e, ": ");
		break;
	case ESPIMG_FORMAT_TEXT:
		/* The schema is for programs; people do not see it. */
		text_lead(e);
		append_clean(&e->out, key, strlen(key), ESC_TEXT);
		put(e, ":");
		break;
	case ESPIMG_FORMAT_YAML:
		v.type = SC_STR;
		v.s = key;
		v.n = strlen(key);
		v.b = 0;
		return yaml_scalar(e, &v);
	}
	return emit_flush(e);
}

int espimg_emit_begin_map(espimg_emitter *e)
{
	return emit_begin(e, KIND_MAP);
}

int espimg_emit_end_map(espimg_emitter *e)
{
	return emit_end(e, KIND_MAP);
}

int espimg_emit_begin_list(espimg_emitter *e)
{
	return emit_begin(e, KIND_LIST);
}

int espimg_emit_end_list(espimg_emitter *e)
{
	return emit_end(e, KIND_LIST);
}

int espimg_emit_strn(espimg_emitter *e, const char *s, size_t n)
{
	struct scalar v = { SC_STR, s, n, 0 };

	if (!s) {
		if (n)
			return e ? emit_fail(e, ESPIMG_EINVAL) : ESPIMG_EINVAL;
		v.type = SC_NULL;
	}
	return emit_scalar(e, &v);
}

int espimg_emit_str(espimg_emitter *e, const char *s)
{
	return espimg_emit_strn(e, s, s ? strlen(s) : 0);
}

int espimg_emit_int(espimg_emitter *e, int64_t v)
{
	char num[24];
	struct scalar sc = { SC_NUM, num, 0, 0 };

	sc.n = (size_t)snprintf(num, sizeof(num), "%" PRId64, v);
	return emit_scalar(e, &sc);
}

int espimg_emit_uint(espimg_emitter *e, uint64_t v)
{
	char num[24];
	struct scalar sc = { SC_NUM, num, 0, 0 };

	sc.n = (size_t)snprintf(num, sizeof(num), "%" PRIu64, v);
	return emit_scalar(e, &sc);
}

int espimg_emit_bool(espimg_emitter *e, bool v)
{
	struct scalar sc = { SC_BOOL, NULL, 0, v };

	return emit_scalar(e, &sc);
}

int espimg_emit_null(espimg_emitter *e)
{
	struct scalar sc = { SC_NULL, NULL, 0, 0 };

	return emit_scalar(e, &sc);
}

int espimg_emit_hex(espimg_emitter *e, uint64_t v)
{
	char hex[24];
	int n = snprintf(hex, sizeof(hex), "0x%" PRIx64, v);

	return espimg_emit_strn(e, hex, (size_t)n);
}

int espimg_emit_kv_str(espimg_emitter *e, const char *k, const char *v)
{
	int rc = espimg_emit_key(e, k);

	return rc ? rc : espimg_emit_str(e, v);
}

int espimg_emit_kv_int(espimg_emitter *e, const char *k, int64_t v)
{
	int rc = espimg_emit_key(e, k);

	return rc ? rc : espimg_emit_int(e, v);
}

int espimg_emit_kv_uint(espimg_emitter *e, const char *k, uint64_t v)
{
	int rc = espimg_emit_key(e, k);

	return rc ? rc : espimg_emit_uint(e, v);
}

int espimg_emit_kv_bool(espimg_emitter *e, const char *k, bool v)
{
	int rc = espimg_emit_key(e, k);

	return rc ? rc : espimg_emit_bool(e, v);
}

int espimg_emit_kv_hex(espimg_emitter *e, const char *k, uint64_t v)
{
	int rc = espimg_emit_key(e, k);

	return rc ? rc : espimg_emit_hex(e, v);
}
