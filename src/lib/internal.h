/*
 * internal.h - helpers shared by the library's modules; not installed.
 */
#ifndef ESPIMG_INTERNAL_H
#define ESPIMG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/espimg.h"

#define ESPIMG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Little-endian loads and stores on byte arrays (never packed-struct casts). */
static inline uint16_t espimg_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t espimg_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void espimg_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void espimg_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A growable byte buffer; on allocation failure `failed` is set and later
 * appends do nothing, so callers check once at the end. */
typedef struct espimg_buf {
	char *data;
	size_t len;
	size_t cap;
	int failed;
} espimg_buf;

void espimg_buf_append(espimg_buf *b, const void *data, size_t len);
void espimg_buf_printf(espimg_buf *b, const char *fmt, ...) ESPIMG_PRINTF(2, 3);
/* Returns the NUL-terminated contents (caller frees), or NULL after a failure. */
char *espimg_buf_finish(espimg_buf *b, size_t *len);
void espimg_buf_free(espimg_buf *b);

/* The lowercase hex of n bytes in out[0..2n], NUL-terminated. */
void espimg_hex(char *out, const uint8_t *p, size_t n);
/* Appends the lowercase hex of n bytes. */
void espimg_buf_hex(espimg_buf *b, const uint8_t *p, size_t n);
/* Appends n bytes of text for a terminal: printable UTF-8 as it is, a
 * backslash as "\\", every other byte (invalid UTF-8, C0/C1 controls, the
 * invisible characters that reorder or break a line) as "\xNN", so text
 * from an input cannot carry control sequences or fake lines. */
void espimg_buf_escaped(espimg_buf *b, const void *s, size_t n);

/* Decodes one UTF-8 sequence at s[0..len) strictly (no overlongs, no
 * surrogates, max U+10FFFF), as Python's 'utf-8' codec does.  Returns its
 * length (1-4) and the code point, or 0 when the bytes are invalid. */
size_t espimg_utf8_seq(const uint8_t *s, size_t len, uint32_t *cp);

/* Copies s into out (size bytes, at least 1), cut before a partial UTF-8
 * character when it does not fit. */
void espimg_copy_cut(char *out, size_t size, const char *s);

/* Whether all n bytes are 0xFF (erased flash). */
bool espimg_all_ff(const uint8_t *p, size_t n);

/* A window [base, base + size) of another source, seen from offset 0:
 * reads are clipped to the window. */
typedef struct espimg_window {
	const espimg_source *src;
	uint64_t base;
	uint64_t size;
} espimg_window;

/* Makes out read the window of src at base through w (which it points
 * to); the window ends at size bytes or at the end of src. */
void espimg_window_init(espimg_source *out, espimg_window *w,
			const espimg_source *src, uint64_t base,
			uint64_t size);

/* "key": v and "key_hex": "0x..", for the numbers people read in hex. */
void espimg_emit_kv_num_hex(espimg_emitter *e, const char *key, uint64_t v);

/* The message of the first error in l, or NULL. */
const char *espimg_diag_first_error(const espimg_diag_list *l);

/* The "status" of an image in esp-imginfo's output ("ok", "invalid",
 * "unsupported", "unreadable", "not-an-image"; see espimg_image_emit_run);
 * image_emit.c. */
struct espimg_image;
struct espimg_diag_list;
const char *espimg_image_status(const struct espimg_image *img,
				const struct espimg_diag_list *diags);

#endif
