/*
 * fuzz_ihex.c - libFuzzer harness for the Intel HEX reader.
 *
 * The input is the HEX text.  A rejected input must come with at least one
 * error, every diagnostic inside the input (line and column from 1, offset
 * within it).  An accepted one must give non-empty runs in strictly
 * increasing address order with a gap between neighbours, no more bytes
 * than half the input, and the same runs again when the harness writes them
 * out as HEX (its own writer: 16-byte records, a 04 record at every 64 KiB
 * boundary) and parses that.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"
#include "espimg/ihex.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	char *s;
	size_t len;
	size_t cap;
};

static void out_rec(struct out *o, unsigned type, unsigned addr,
		    const uint8_t *d, size_t n)
{
	unsigned sum = (unsigned)n + (addr >> 8) + (addr & 0xFF) + type;
	size_t need = o->len + 11 + 2 * n + 2;

	if (need > o->cap) {
		o->cap = need * 2;
		o->s = realloc(o->s, o->cap);
		CHECK(o->s);
	}
	o->len += (size_t)sprintf(o->s + o->len, ":%02X%04X%02X", (unsigned)n,
				  addr & 0xFFFF, type);
	for (size_t i = 0; i < n; i++) {
		o->len += (size_t)sprintf(o->s + o->len, "%02X", d[i]);
		sum += d[i];
	}
	o->len += (size_t)sprintf(o->s + o->len, "%02X\n",
				  (0x100 - (sum & 0xFF)) & 0xFF);
}

static char *write_hex(const espimg_ihex *h, size_t *len)
{
	struct out o = { NULL, 0, 0 };
	uint32_t upper = 0;
	bool have_upper = false;

	for (size_t i = 0; i < espimg_ihex_run_count(h); i++) {
		const espimg_ihex_run *r = espimg_ihex_run_at(h, i);
		size_t k = 0;

		while (k < r->len) {
			uint64_t a = (uint64_t)r->address + k;
			size_t n = r->len - k;

			if (n > 16)
				n = 16;
			/* A record does not cross a 64 KiB boundary. */
			if ((a & 0xFFFF) + n > 0x10000)
				n = 0x10000 - (a & 0xFFFF);
			if (!have_upper || upper != (uint32_t)(a >> 16)) {
				uint8_t u[2] = { (uint8_t)(a >> 24),
						 (uint8_t)(a >> 16) };

				upper = (uint32_t)(a >> 16);
				have_upper = true;
				out_rec(&o, 4, 0, u, 2);
			}
			out_rec(&o, 0, (unsigned)(a & 0xFFFF), r->data + k, n);
			k += n;
		}
	}
	out_rec(&o, 1, 0, NULL, 0);
	*len = o.len;
	return o.s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_ihex *h = NULL, *back = NULL;
	char *text, *again;
	size_t total = 0, len;
	int r;

	CHECK(d);
	text = input_copy(data, size);
	(void)espimg_ihex_detect(text, size);

	r = espimg_ihex_parse(text, size, "fuzz.hex", &h, d);
	for (size_t i = 0; i < espimg_diag_count(d); i++) {
		const espimg_diag *g = espimg_diag_get(d, i);

		CHECK(g->line >= 1 && g->column >= 1);
		CHECK(g->offset >= 0 && (uint64_t)g->offset <= size);
		CHECK(!strncmp(g->code, "ihex.", 5));
	}
	if (r) {
		CHECK(r == ESPIMG_EFORMAT && !h);
		CHECK(espimg_diag_errors(d) > 0);
		goto out;
	}
	CHECK(h && espimg_diag_errors(d) == 0);
	for (size_t i = 0; i < espimg_ihex_run_count(h); i++) {
		const espimg_ihex_run *x = espimg_ihex_run_at(h, i);

		CHECK(x->len > 0 && x->data);
		CHECK((uint64_t)x->address + x->len <= 0x100000000ull);
		if (i) {
			const espimg_ihex_run *p = espimg_ihex_run_at(h, i - 1);

			CHECK((uint64_t)p->address + p->len < x->address);
		}
		total += x->len;
	}
	CHECK(total <= size / 2);
	CHECK(!espimg_ihex_run_at(h, espimg_ihex_run_count(h)));

	again = write_hex(h, &len);
	espimg_diag_clear(d);
	CHECK(espimg_ihex_parse(again, len, "again.hex", &back, d) == 0);
	CHECK(espimg_diag_count(d) == 0);
	CHECK(espimg_ihex_run_count(back) == espimg_ihex_run_count(h));
	for (size_t i = 0; i < espimg_ihex_run_count(h); i++) {
		const espimg_ihex_run *x = espimg_ihex_run_at(h, i);
		const espimg_ihex_run *y = espimg_ihex_run_at(back, i);

		CHECK(x->address == y->address && x->len == y->len);
		CHECK(!memcmp(x->data, y->data, x->len));
	}
	free(again);
out:
	espimg_ihex_free(back);
	espimg_ihex_free(h);
	espimg_diag_list_free(d);
	free(text);
	return 0;
}
