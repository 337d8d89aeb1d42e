/*
 * fuzz_common.h - what the libFuzzer harnesses share: a CHECK that aborts
 * (so libFuzzer saves the input) and a write sink that counts the bytes an
 * emitter produces.
 */
#ifndef ESPIMG_FUZZ_COMMON_H
#define ESPIMG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "espimg/espimg.h"

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                            \
			abort();                                             \
		}                                                            \
	} while (0)

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
