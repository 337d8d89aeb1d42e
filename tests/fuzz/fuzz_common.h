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

#endif
