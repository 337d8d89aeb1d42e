/*
 * fuzz_common.h - what the libFuzzer harnesses share: a CHECK that aborts
 * (so libFuzzer saves the input), a copy of the input, a write sink that
 * counts the bytes an emitter produces and one that keeps them,
 * little-endian loads, an erased-bytes test, and a counting source that
 * checks every read and can fail on demand.
 */
#ifndef ESPIMG_FUZZ_COMMON_H
#define ESPIMG_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                            \
			abort();                                             \
		}                                                            \
	} while (0)

/* A copy of the input in a buffer of its own size, so that a read past
 * the input is caught by ASan. */
static inline char *input_copy(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	CHECK(p);
	memcpy(p, data, size);
	return p;
}

struct sink {
	size_t len;
	char first;
};

static int sink_write(void *ctx, const void *buf, size_t len)
{
	struct sink *s = ctx;

	if (len && !s->len)
		s->first = *(const char *)buf;
	s->len += len;
	return 0;
}

/* A sink that keeps what is written, NUL-terminated (data is NULL until
 * the first write); free(data) when done. */
struct membuf {
	char *data;
	size_t len, cap;
};

static inline int membuf_write(void *ctx, const void *buf, size_t len)
{
	struct membuf *m = ctx;

	if (m->len + len + 1 > m->cap) {
		size_t cap = (m->len + len + 1) * 2 + 256;
		char *d = realloc(m->data, cap);

		CHECK(d);
		m->data = d;
		m->cap = cap;
	}
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	m->data[m->len] = '\0';
	return 0;
}

/* Whether all n bytes are 0xFF (erased flash). */
static inline bool all_ff(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

/* Little-endian loads for the oracles. */
static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* How a counted source misbehaves. */
struct fault {
	unsigned fail_call; /* this read call (1-based) fails with EIO; 0 = none */
	uint64_t extra;     /* bytes the source claims beyond its end */
};

/*
 * A counting wrapper around espimg_source_mem.  Every read must ask for at
 * most max_read bytes and, unless the source claims extra bytes, stay
 * inside the buffer (espimg_source_mem copies whatever it is asked for);
 * with extra bytes, reads come back short at the real end (a file that
 * shrank while it was read).
 */
struct counted {
	espimg_source mem;
	size_t max_read;
	struct fault f;
	unsigned calls;
	uint64_t bytes; /* bytes delivered */
	bool failed;    /* the failing call happened */
};

static inline int counted_read(void *ctx, uint64_t off, void *buf,
			       size_t len, size_t *got)
{
	struct counted *c = ctx;
	int r;

	CHECK(buf && got);
	CHECK(len <= c->max_read);
	c->calls++;
	if (c->calls == c->f.fail_call) {
		c->failed = true;
		*got = 0;
		return ESPIMG_EIO;
	}
	if (c->f.extra) {
		if (off >= c->mem.size) {
			*got = 0;
			return 0;
		}
		if (len > c->mem.size - off)
			len = (size_t)(c->mem.size - off);
	} else {
		CHECK(off <= c->mem.size && len <= c->mem.size - off);
	}
	r = c->mem.read_at(c->mem.ctx, off, buf, len, got);
	CHECK(r == 0 && *got == len);
	c->bytes += *got;
	return 0;
}

/* Makes src read buf[0..len) through c (which it points to). */
static inline void counted_init(struct counted *c, espimg_source *src,
				const uint8_t *buf, size_t len,
				size_t max_read, struct fault f)
{
	memset(c, 0, sizeof(*c));
	espimg_source_mem(&c->mem, buf, len);
	CHECK(c->mem.size == len && c->mem.read_at);
	c->max_read = max_read;
	c->f = f;
	src->read_at = counted_read;
	src->ctx = c;
	src->size = len + f.extra;
}

/* Parses CSV text that the library itself rendered: that must succeed, so
 * a failure prints the findings and the text, then aborts. */
static inline espimg_ptable *parse_rendered_csv(const char *text, size_t len,
						const espimg_ptable_opts *o,
						espimg_diag_list *d)
{
	espimg_ptable *t = NULL;

	if (espimg_ptable_parse((const uint8_t *)text, len, o, "csv", &t, d)) {
		for (size_t i = 0; i < espimg_diag_count(d); i++)
			fprintf(stderr, "%s: %s\n", espimg_diag_get(d, i)->code,
				espimg_diag_get(d, i)->message);
		fprintf(stderr, "%s", text);
		abort();
	}
	return t;
}

#endif
