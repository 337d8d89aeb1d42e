/*
 * buf.c - a growable byte buffer for building strings inside the library,
 * the renderers that append to it (hex, escaped text), and the small
 * helpers several modules share (internal.h): cut copies, erased bytes,
 * source windows, "_hex" keys, the first error of a list.
 *
 * One byte beyond `len` is always reserved so the contents can be
 * NUL-terminated without another allocation.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BUF_MIN_CAP 64

/* Makes room for `extra` more bytes plus the NUL; returns 0 or -1. */
static int buf_reserve(espimg_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return -1;
	if (b->cap > b->len && extra < b->cap - b->len)
		return 0;
	if (extra > SIZE_MAX - b->len - 1)
		goto fail;
	need = b->len + extra + 1;
	cap = b->cap ? b->cap : BUF_MIN_CAP;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		goto fail;
	b->data = p;
	b->cap = cap;
	return 0;
fail:
	b->failed = 1;
	return -1;
}

void espimg_buf_append(espimg_buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len))
		return;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void espimg_buf_printf(espimg_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (buf_reserve(b, 0))
		return;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if ((size_t)n >= room) {
		if (buf_reserve(b, (size_t)n))
			return;
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
	}
	b->len += (size_t)n;
}

char *espimg_buf_finish(espimg_buf *b, size_t *len)
{
	char *p;

	if (buf_reserve(b, 0)) {
		espimg_buf_free(b);
		return NULL;
	}
	p = b->data;
	p[b->len] = '\0';
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void espimg_buf_free(espimg_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = 0;
}

/* Decodes one UTF-8 sequence at s[0..len) strictly (no overlongs, no
 * surrogates, max U+10FFFF), as Python's 'utf-8' codec does.  Returns its
 * length (1-4) and the code point, or 0 when the bytes are invalid. */
size_t espimg_utf8_seq(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint8_t c = s[0];
	size_t n;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
	    (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

static const char hex_digits[] = "0123456789abcdef";

void espimg_hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digits[p[i] >> 4];
		out[2 * i + 1] = hex_digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void espimg_buf_hex(espimg_buf *b, const uint8_t *p, size_t n)
{
	char two[2];

	for (size_t i = 0; i < n; i++) {
		two[0] = hex_digits[p[i] >> 4];
		two[1] = hex_digits[p[i] & 15];
		espimg_buf_append(b, two, 2);
	}
}

/* Characters shown escaped although well-formed: C0 and C1 controls, and
 * the invisible ones that reorder or break a line on a terminal (bidi
 * marks, embeddings, overrides and isolates; line and paragraph
 * separators), which could make a text read as something else. */
static int printable(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
		return 0;
	if (cp == 0x061C || cp == 0x200E || cp == 0x200F ||
	    (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return 1;
}

void espimg_buf_escaped(espimg_buf *b, const void *str, size_t n)
{
	const uint8_t *s = str;
	size_t i = 0;

	while (i < n) {
		uint32_t cp = 0;
		size_t len = espimg_utf8_seq(s + i, n - i, &cp);

		if (len && cp == '\\') {
			espimg_buf_append(b, "\\\\", 2);
		} else if (len && printable(cp)) {
			espimg_buf_append(b, s + i, len);
		} else {
			if (!len)
				len = 1;
			for (size_t k = 0; k < len; k++)
				espimg_buf_printf(b, "\\x%02x", s[i + k]);
		}
		i += len;
	}
}

void espimg_copy_cut(char *out, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

bool espimg_all_ff(const uint8_t *p, size_t n)
{
	size_t i = 0;

	/* A word at a time: this is most of the time spent on an empty
	 * flash dump. */
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if (w != UINT64_MAX)
			return false;
	}
	for (; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

static int window_read(void *ctx, uint64_t off, void *buf, size_t len,
		       size_t *got)
{
	const espimg_window *w = ctx;

	*got = 0;
	if (off >= w->size)
		return 0;
	if (len > w->size - off)
		len = (size_t)(w->size - off);
	return w->src->read_at(w->src->ctx, w->base + off, buf, len, got);
}

void espimg_window_init(espimg_source *out, espimg_window *w,
			const espimg_source *src, uint64_t base,
			uint64_t size)
{
	uint64_t avail = src->size > base ? src->size - base : 0;

	w->src = src;
	w->base = base;
	w->size = size < avail ? size : avail;
	out->read_at = window_read;
	out->ctx = w;
	out->size = w->size;
}

void espimg_emit_kv_num_hex(espimg_emitter *e, const char *key, uint64_t v)
{
	char hk[40];

	snprintf(hk, sizeof(hk), "%s_hex", key);
	espimg_emit_kv_uint(e, key, v);
	espimg_emit_kv_hex(e, hk, v);
}

const char *espimg_diag_first_error(const espimg_diag_list *l)
{
	size_t n = espimg_diag_count(l);

	for (size_t i = 0; i < n; i++) {
		const espimg_diag *d = espimg_diag_get(l, i);

		if (d->severity == ESPIMG_SEV_ERROR)
			return d->message;
	}
	return NULL;
}
