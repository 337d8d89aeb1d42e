/*
 * ptable_text.c - the text rules the partition CSV inherits from Python:
 * input decoding (BOMs, strict UTF-8), str.splitlines() line breaks,
 * str.strip() whitespace, os.path.expandvars() and int(text, 0) numbers
 * with the generator's recursive K/M suffixes.
 *
 * gen_esp32part.py is a Python program, so "what is a line", "what is
 * whitespace" and "what is a number" are Python's answers; matching them is
 * what makes us accept and reject the same files.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ptable_int.h"

/* Length of the longest prefix of s that is a valid but incomplete UTF-8
 * sequence start (0 if s does not start one). */
size_t pt_utf8_incomplete_tail(const uint8_t *s, size_t len)
{
	size_t want;

	if (len == 0)
		return 0;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		want = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		want = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		want = 4;
	else
		return 0;
	if (len >= want)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

static void put_utf8(espimg_buf *b, uint32_t cp)
{
	uint8_t o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (uint8_t)(0xC0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (uint8_t)(0xE0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		o[0] = (uint8_t)(0xF0 | cp >> 18);
		o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 4;
	}
	espimg_buf_append(b, o, n);
}

/* UTF-16 (either order) to UTF-8.  Returns the byte offset of the first
 * undecodable unit, or -1 when all is well. */
static int64_t utf16_to_utf8(const uint8_t *p, size_t len, int big_endian,
			     espimg_buf *out)
{
	size_t i = 0;

	while (i + 1 < len) {
		uint32_t u = big_endian ? (uint32_t)(p[i] << 8 | p[i + 1])
					: (uint32_t)(p[i] | p[i + 1] << 8);
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (i + 3 >= len)
				return (int64_t)i;
			uint32_t l = big_endian
					     ? (uint32_t)(p[i + 2] << 8 | p[i + 3])
					     : (uint32_t)(p[i + 2] | p[i + 3] << 8);
			if (l < 0xDC00 || l > 0xDFFF)
				return (int64_t)i;
			put_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00));
			i += 4;
		} else if (u >= 0xDC00 && u <= 0xDFFF) {
			return (int64_t)i;
		} else {
			put_utf8(out, u);
			i += 2;
		}
	}
	return i < len ? (int64_t)i : -1;
}

static int64_t utf32be_to_utf8(const uint8_t *p, size_t len, espimg_buf *out)
{
	size_t i;

	for (i = 0; i + 3 < len; i += 4) {
		uint32_t u = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 |
			     (uint32_t)p[i + 2] << 8 | p[i + 3];
		if (u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF))
			return (int64_t)i;
		put_utf8(out, u);
	}
	return i < len ? (int64_t)i : -1;
}

int pt_decode_text(const uint8_t *data, size_t len, const char *file,
		   espimg_diag_list *diags, char **text, size_t *text_len)
{
	espimg_buf b = { 0 };
	int64_t bad = -1;
	size_t skip = 0;

	*text = NULL;
	/* BOM checks in the reference's order: UTF-8, UTF-16 LE, UTF-16 BE,
	 * UTF-32 LE, UTF-32 BE.  FF FE 00 00 therefore reads as UTF-16 LE
	 * there; we refuse it instead of inventing text from NULs. */
	if (len >= 4 && !memcmp(data, "\xFF\xFE\x00\x00", 4)) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.encoding", file,
				0, 0, 0,
				"UTF-32 LE text is not supported (ESP-IDF misreads it "
				"as UTF-16); save the table as UTF-8");
		return ESPIMG_EFORMAT;
	}
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
		skip = 3;
	} else if (len >= 2 && (!memcmp(data, "\xFF\xFE", 2) ||
				!memcmp(data, "\xFE\xFF", 2))) {
		bad = utf16_to_utf8(data + 2, len - 2, data[0] == 0xFE, &b);
		if (bad >= 0)
			bad += 2;
		goto converted;
	} else if (len >= 4 && !memcmp(data, "\x00\x00\xFE\xFF", 4)) {
		bad = utf32be_to_utf8(data + 4, len - 4, &b);
		if (bad >= 0)
			bad += 4;
		goto converted;
	}

	/* Plain (or BOM-less after the UTF-8 BOM) strict UTF-8. */
	{
		unsigned line = 1, col = 1;
		size_t i = skip;

		while (i < len) {
			uint32_t cp;
			size_t n = espimg_utf8_seq(data + i, len - i, &cp);
			if (n == 0) {
				espimg_diag_add(diags, ESPIMG_SEV_ERROR,
						"ptable.encoding", file, line, col,
						(int64_t)i,
						"byte 0x%02x at offset %zu is not valid "
						"UTF-8; partition tables are UTF-8 text",
						data[i], i);
				return ESPIMG_EFORMAT;
			}
			if (cp == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
			i += n;
		}
		espimg_buf_append(&b, data + skip, len - skip);
	}
converted:
	if (bad >= 0) {
		espimg_buf_free(&b);
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.encoding", file, 0,
				0, bad, "text after the byte-order mark is not "
				"valid UTF-16/32 at byte offset %lld",
				(long long)bad);
		return ESPIMG_EFORMAT;
	}
	*text = espimg_buf_finish(&b, text_len);
	if (!*text) {
		if (b.failed)
			return ESPIMG_ENOMEM;
		*text = calloc(1, 1);
		*text_len = 0;
		if (!*text)
			return ESPIMG_ENOMEM;
	}
	return 0;
}

/* Python's str.splitlines() boundaries.  Returns the length of the line
 * break at s (0 if none). */
size_t pt_line_break(const char *s, size_t len)
{
	const uint8_t *u = (const uint8_t *)s;

	switch (u[0]) {
	case '\r':
		return (len > 1 && u[1] == '\n') ? 2 : 1;
	case '\n': case '\v': case '\f': case 0x1C: case 0x1D: case 0x1E:
		return 1;
	case 0xC2: /* U+0085 NEXT LINE */
		return (len > 1 && u[1] == 0x85) ? 2 : 0;
	case 0xE2: /* U+2028, U+2029 */
		return (len > 2 && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9))
			       ? 3 : 0;
	default:
		return 0;
	}
}

/* Python's str.isspace() for one code point. */
static int is_py_space(uint32_t cp)
{
	if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20))
		return 1;
	switch (cp) {
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return 1;
	default:
		return cp >= 0x2000 && cp <= 0x200A;
	}
}

/* Length of the Python whitespace character at s, or 0. */
static size_t space_at(const char *s, size_t len)
{
	uint32_t cp;
	size_t n = espimg_utf8_seq((const uint8_t *)s, len, &cp);

	return (n && is_py_space(cp)) ? n : 0;
}

pt_span pt_strip(pt_span s)
{
	size_t n;

	while (s.len && (n = space_at(s.p, s.len)) != 0) {
		s.p += n;
		s.len -= n;
		s.col++;
	}
	/* From the end: step back over whole UTF-8 sequences. */
	while (s.len) {
		size_t start = s.len - 1;
		while (start > 0 && ((uint8_t)s.p[start] & 0xC0) == 0x80)
			start--;
		if (space_at(s.p + start, s.len - start) != s.len - start)
			break;
		s.len = start;
	}
	return s;
}

size_t pt_count_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((uint8_t)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

static int is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* os.path.expandvars(): $NAME and ${NAME} with NAME from the environment
 * when set; everything else stays as it is. */
int pt_expand_vars(const char *line, size_t len, espimg_env_fn env,
		   void *ctx, espimg_buf *out)
{
	size_t i = 0;
	int changed = 0;

	while (i < len) {
		size_t name_start, name_len, end;

		if (line[i] != '$' || !env) {
			espimg_buf_append(out, line + i, 1);
			i++;
			continue;
		}
		if (i + 1 < len && line[i + 1] == '{') {
			const char *close = memchr(line + i + 2, '}', len - i - 2);
			if (!close) {
				espimg_buf_append(out, line + i, 1);
				i++;
				continue;
			}
			name_start = i + 2;
			name_len = (size_t)(close - (line + name_start));
			end = (size_t)(close - line) + 1;
		} else {
			name_start = i + 1;
			name_len = 0;
			while (name_start + name_len < len &&
			       is_word(line[name_start + name_len]))
				name_len++;
			end = name_start + name_len;
		}
		if (name_len == 0 && line[i + 1] != '{') {
			espimg_buf_append(out, line + i, 1);
			i++;
			continue;
		}
		{
			char name[256];
			const char *value = NULL;
			if (name_len < sizeof(name) &&
			    !memchr(line + name_start, '\0', name_len)) {
				memcpy(name, line + name_start, name_len);
				name[name_len] = '\0';
				value = env(ctx, name);
			}
			if (value) {
				espimg_buf_append(out, value, strlen(value));
				changed = 1;
			} else {
				espimg_buf_append(out, line + i, end - i);
			}
		}
		i = end;
	}
	return changed;
}

/* The zero of every run of ten Unicode decimal digits (category Nd) in the
 * Unicode 14.0 database of Python 3.11, which the reference runs on: int()
 * reads all of them as digits. */
static const uint32_t nd_zeros[] = {
	0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6,
	0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0,
	0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50,
	0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0,
	0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
	0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0,
	0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6,
	0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
};

static int nd_digit(uint32_t cp)
{
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(nd_zeros); i++)
		if (cp >= nd_zeros[i] && cp < nd_zeros[i] + 10)
			return (int)(cp - nd_zeros[i]);
	return -1;
}

static int py_int_ascii(pt_span s, int64_t *out, int *overflow);

/* Python int(text, 0): like Python, first rewrite non-ASCII decimal digits
 * as ASCII ones, then read the ASCII text. */
static int py_int(pt_span s, int64_t *out, int *overflow)
{
	char local[256], *buf = local;
	size_t n = 0;
	int r;

	s = pt_strip(s);
	if (s.len > sizeof(local) && !(buf = malloc(s.len)))
		return -1;
	for (size_t i = 0; i < s.len;) {
		uint32_t cp;
		size_t k = espimg_utf8_seq((const uint8_t *)s.p + i, s.len - i, &cp);
		int d = (k && cp >= 0x80) ? nd_digit(cp) : -1;
		if (d >= 0) {
			buf[n++] = (char)('0' + d);
			i += k;
		} else {
			buf[n++] = s.p[i++];
		}
	}
	r = py_int_ascii((pt_span){ buf, n, s.col }, out, overflow);
	if (buf != local)
		free(buf);
	return r;
}

/* int(text, 0) on ASCII text.  Sets *overflow when the magnitude does not
 * fit 62 bits. */
static int py_int_ascii(pt_span s, int64_t *out, int *overflow)
{
	const char *p;
	size_t n, i = 0;
	int neg = 0, base = 10, digits = 0, last_us = 0;
	uint64_t v = 0;

	p = s.p;
	n = s.len;
	if (n && (p[0] == '+' || p[0] == '-')) {
		neg = p[0] == '-';
		i = 1;
	}
	if (i + 1 < n && p[i] == '0') {
		char c = (char)(p[i + 1] | 0x20);
		if (c == 'x' || c == 'o' || c == 'b') {
			base = c == 'x' ? 16 : c == 'o' ? 8 : 2;
			i += 2;
			last_us = 1; /* one '_' may follow the prefix */
			if (i < n && p[i] == '_')
				i++, last_us = 2;
		}
	}
	if (base == 10 && i < n && p[i] == '0') {
		/* Decimal with a leading zero: only zeros allowed ("00", "0_0"). */
		for (size_t j = i; j < n; j++)
			if (p[j] != '0' && p[j] != '_')
				return -1;
	}
	for (; i < n; i++) {
		char c = p[i];
		int d;

		if (c == '_') {
			if (last_us == 2 || digits == 0 || i + 1 == n)
				return -1;
			last_us = 2;
			continue;
		}
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		if (v > (UINT64_C(1) << 62) / (uint64_t)base)
			*overflow = 1;
		else
			v = v * (uint64_t)base + (uint64_t)d;
		digits++;
		last_us = 0;
	}
	if (!digits || last_us == 2)
		return -1;
	if (v > (uint64_t)INT64_MAX / 2)
		*overflow = 1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* U+212A KELVIN SIGN: the one non-ASCII character whose Python lower()
 * is ASCII ('k'), so it works as a K suffix and inside keywords. */
#define KELVIN "\xE2\x84\xAA"

static int ends_with_kelvin(pt_span s)
{
	return s.len >= 3 && !memcmp(s.p + s.len - 3, KELVIN, 3);
}

int pt_parse_number(pt_span s, const pt_keyword *kw, size_t nkw, int64_t *out,
		    pt_span *bad, int *overflow)
{
	char last = s.len ? (char)(s.p[s.len - 1] | 0x20) : 0;

	if (last == 'k' || last == 'm' || ends_with_kelvin(s)) {
		int64_t mult = last == 'm' ? 1048576 : 1024;
		pt_span inner = s;
		int64_t v;
		int r;

		inner.len -= ends_with_kelvin(s) ? 3 : 1;
		r = pt_parse_number(inner, kw, nkw, &v, bad, overflow);
		if (r)
			return r;
		if (v > INT64_MAX / mult || v < INT64_MIN / mult)
			*overflow = 1;
		else
			v *= mult;
		*out = v;
		return 0;
	}
	if (py_int(s, out, overflow) == 0)
		return 0;
	*bad = s;
	if (!nkw)
		return PT_NUM_INVALID;
	/* Keywords are matched on the lower-cased text (ASCII lower-casing is
	 * enough: every keyword is ASCII, so no other text could match). */
	char lower[64];
	size_t n = 0;
	for (size_t j = 0; j < s.len && n < sizeof(lower); n++) {
		if (s.len - j >= 3 && !memcmp(s.p + j, KELVIN, 3)) {
			lower[n] = 'k';
			j += 3;
			continue;
		}
		char c = s.p[j++];
		lower[n] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	for (size_t k = 0; k < nkw; k++) {
		if (strlen(kw[k].name) == n && !memcmp(kw[k].name, lower, n)) {
			*out = kw[k].value;
			return 0;
		}
	}
	return PT_NUM_UNKNOWN_KEYWORD;
}

/* int(text, 16) as the reference applies it to custom subtype values. */
int pt_parse_hex(pt_span s, int64_t *out)
{
	int overflow = 0;
	pt_span t = pt_strip(s);
	char buf[80];

	if (t.len == 0 || t.len + 2 >= sizeof(buf))
		return -1;
	/* int(x, 16) accepts an optional 0x prefix; rewrite bare digits with
	 * one so the shared int(x, 0) reader can take it. */
	{
		size_t i = 0, o = 0;
		if (t.p[0] == '+' || t.p[0] == '-')
			buf[o++] = t.p[i++];
		if (!(t.len - i >= 2 && t.p[i] == '0' && (t.p[i + 1] | 0x20) == 'x')) {
			buf[o++] = '0';
			buf[o++] = 'x';
		}
		memcpy(buf + o, t.p + i, t.len - i);
		o += t.len - i;
		pt_span h = { buf, o, 1 };
		if (py_int(h, out, &overflow) || overflow)
			return -1;
	}
	return 0;
}

int espimg_ptable_parse_int(const char *text, int64_t *out)
{
	int overflow = 0;

	if (!text || !out)
		return ESPIMG_EINVAL;
	pt_span s = { text, strlen(text), 1 };
	if (memchr(text, '\0', s.len) || py_int(s, out, &overflow) || overflow)
		return ESPIMG_EINVAL;
	return 0;
}
