/*
 * fuzz_ptable_bin.c - libFuzzer harness for the binary partition table
 * decoder.
 *
 * Input: one option byte, then the table.  Bit 0 of the option byte puts
 * the entry magic AA 50 in front of the data so that most inputs reach the
 * binary path; the other bits vary MD5 checking, verification, the table
 * offset, Secure Boot and the flash size.
 *
 * For every table the decoder accepts, the harness runs verification,
 * gaps, CSV rendering and the JSON description (which must not be empty),
 * and then parses the rendered CSV again.  That must succeed, with the same
 * entries and the same encoded bytes, whenever the CSV can carry the table:
 * no bootloader/partition_table rows (their offsets and sizes come from
 * options), names without ',', line breaks, a leading '#' or '$', or
 * whitespace at either end, and offsets that only go up, each at or after
 * the end of the one before and of the table sector (the layout pass).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes one code point of valid UTF-8 (names that parsed are valid). */
static uint32_t utf8_at(const unsigned char *s, size_t *n)
{
	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	if (s[0] < 0xE0) {
		*n = 2;
		return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
	}
	if (s[0] < 0xF0) {
		*n = 3;
		return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 |
		       (s[2] & 0x3F);
	}
	*n = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
	       (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

/* Python's str.isspace(); line breaks (str.splitlines()) are a subset. */
static bool py_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) ||
	       c == 0x85 || c == 0xA0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
	       c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool py_line_break(uint32_t c)
{
	return (c >= 0x0A && c <= 0x0D) || (c >= 0x1C && c <= 0x1E) ||
	       c == 0x85 || c == 0x2028 || c == 0x2029;
}

/* Whether a name survives as the first field of a CSV line. */
static bool csv_safe_name(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t len = strlen(name), i = 0, n;
	uint32_t c = 0;

	if (!len)
		return true;
	if (s[0] == '#' || s[0] == '$' || py_space(utf8_at(s, &n)))
		return false;
	while (i < len) {
		c = utf8_at(s + i, &n);
		if (c == ',' || py_line_break(c))
			return false;
		i += n;
	}
	return !py_space(c); /* the last character */
}

static bool csv_can_carry(const espimg_ptable *t, const espimg_ptable_opts *o)
{
	uint64_t cursor = (uint64_t)o->table_offset + ESPIMG_PTABLE_SECTOR;

	for (size_t i = 0; i < t->count; i++) {
		const espimg_partition *p = &t->parts[i];
		if (p->type == ESPIMG_PTYPE_BOOTLOADER ||
		    p->type == ESPIMG_PTYPE_PARTITION_TABLE)
			return false;
		if (!csv_safe_name(p->name) || p->offset < cursor)
			return false;
		cursor = (uint64_t)p->offset + p->size;
	}
	return true;
}

static void options(uint8_t a, espimg_ptable_opts *o)
{
	static const uint32_t table_offsets[] = { 0x8000, 0x10000, 0x0, 0xF000 };

	espimg_ptable_opts_init(o);
	o->md5 = !(a & 0x02);
	o->verify = !(a & 0x04);
	o->table_offset = table_offsets[(a >> 3) & 3];
	o->secure = (a & 0x20) ? 1 : 0;
	if (a & 0x40)
		o->flash_size = (a & 0x80) ? 4u << 20 : 16u << 20;
}

static void check_csv(const espimg_ptable *t, const espimg_ptable_opts *o,
		      const char *text, size_t len)
{
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_ptable *back = NULL;
	uint8_t a[ESPIMG_PTABLE_BIN_SIZE], b[ESPIMG_PTABLE_BIN_SIZE];
	int ra, rb;

	CHECK(d);
	back = parse_rendered_csv(text, len, o, d);
	CHECK(back->count == t->count);
	for (size_t i = 0; i < t->count; i++) {
		const espimg_partition *p = &t->parts[i], *q = &back->parts[i];
		CHECK(!strcmp(p->name, q->name));
		CHECK(p->type == q->type && p->subtype == q->subtype);
		CHECK(p->offset == q->offset && p->size == q->size);
		CHECK(p->flags == q->flags);
	}
	ra = espimg_ptable_to_binary(t, o, a, d);
	rb = espimg_ptable_to_binary(back, o, b, d);
	CHECK(ra == rb && (ra == 0 || ra == ESPIMG_ETOOBIG));
	if (ra == 0)
		CHECK(!memcmp(a, b, sizeof(a)));
	espimg_ptable_free(back);
	espimg_diag_list_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	espimg_ptable_opts o;
	espimg_diag_list *d;
	espimg_ptable *t = NULL;
	uint8_t *buf;
	char *text = NULL;
	size_t len, text_len = 0, ngaps = 0;
	espimg_gap gaps[8];
	int r;

	if (size < 1)
		return 0;
	options(data[0], &o);
	/* Copy so that a read past the input is caught by ASan. */
	len = size - 1 + ((data[0] & 1) ? 2 : 0);
	buf = malloc(len ? len : 1);
	CHECK(buf);
	if (data[0] & 1) {
		buf[0] = 0xAA;
		buf[1] = 0x50;
		memcpy(buf + 2, data + 1, size - 1);
	} else {
		memcpy(buf, data + 1, size - 1);
	}

	d = espimg_diag_list_new();
	CHECK(d);
	r = espimg_ptable_parse(buf, len, &o, "fuzz.bin", &t, d);
	if (r != 0) {
		CHECK(r == ESPIMG_EFORMAT && t == NULL);
		CHECK(espimg_diag_errors(d) > 0);
		goto out;
	}
	CHECK(t->from_binary == espimg_ptable_is_binary(buf, len));
	if (t->from_binary) {
		CHECK(t->count <= len / ESPIMG_PTABLE_ENTRY_SIZE);
		for (size_t i = 0; i < t->count; i++) {
			CHECK(strlen(t->parts[i].name) <= ESPIMG_PTABLE_NAME_LEN);
			CHECK(!(t->parts[i].flags &
				~(ESPIMG_PFLAG_ENCRYPTED | ESPIMG_PFLAG_READONLY)));
		}
	}

	r = espimg_ptable_verify(t, &o, "fuzz.bin", d);
	CHECK(r == 0 || r == ESPIMG_EFORMAT);
	(void)espimg_ptable_flash_needed(t);
	CHECK(espimg_ptable_gaps(t, &o, gaps, 8, &ngaps) == 0);
	CHECK(ngaps <= t->count + 1);

	{
		struct sink s = { 0, 0 };
		espimg_emitter *e = espimg_emit_new(ESPIMG_FORMAT_JSON,
						    sink_write, &s);
		CHECK(e);
		espimg_emit_begin_doc(e, "espimg.partitions/1");
		espimg_emit_kv_str(e, "file", "fuzz.bin");
		CHECK(espimg_ptable_emit(t, &o, e) == 0);
		CHECK(espimg_emit_end_doc(e) == 0);
		espimg_emit_free(e);
		CHECK(s.len > 0 && s.first == '{');
	}

	CHECK(espimg_ptable_to_csv(t, &o, &text, &text_len) == 0);
	CHECK(text && strlen(text) == text_len);
	if (t->from_binary && csv_can_carry(t, &o))
		check_csv(t, &o, text, text_len);
	free(text);
out:
	espimg_ptable_free(t);
	espimg_diag_list_free(d);
	free(buf);
	return 0;
}
