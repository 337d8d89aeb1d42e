/*
 * ptable_int.h - pieces shared by ptable.c and ptable_text.c; not installed.
 */
#ifndef ESPIMG_PTABLE_INT_H
#define ESPIMG_PTABLE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "espimg/ptable.h"
#include "internal.h"

/* A piece of one CSV line: bytes and the 1-based character column of p[0]. */
typedef struct pt_span {
	const char *p;
	size_t len;
	unsigned col;
} pt_span;

typedef struct pt_keyword {
	const char *name;
	int64_t value;
} pt_keyword;

enum { PT_NUM_INVALID = -1, PT_NUM_UNKNOWN_KEYWORD = -2 };

size_t pt_utf8_incomplete_tail(const uint8_t *s, size_t len);
int pt_decode_text(const uint8_t *data, size_t len, const char *file,
		   espimg_diag_list *diags, char **text, size_t *text_len);
size_t pt_line_break(const char *s, size_t len);
pt_span pt_strip(pt_span s);
size_t pt_count_chars(const char *s, size_t len);
int pt_expand_vars(const char *line, size_t len, espimg_env_fn env, void *ctx,
		   espimg_buf *out);
/*
 * Reads a number the way the reference does: trailing k/K (x1024) and m/M
 * (x1048576) are peeled off recursively, then Python int(text, 0), then a
 * case-insensitive keyword.  On failure returns PT_NUM_* and sets *bad to
 * the text that failed (after the suffixes were peeled).  *overflow is set
 * (and the call succeeds) when the value does not fit 62 bits.
 */
int pt_parse_number(pt_span s, const pt_keyword *kw, size_t nkw, int64_t *out,
		    pt_span *bad, int *overflow);
int pt_parse_hex(pt_span s, int64_t *out);

#endif
