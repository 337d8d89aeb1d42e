/*
 * test_merge.c - merge-bin output (raw, Intel HEX, UF2) byte for byte
 * against esptool's in the corpus, the layout refusals, the UF2 and HEX
 * record layouts, and the bootloader flash-parameter patch.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "espimg/espimg.h"
#include "espimg/merge.h"
#include "fixtures.h"

static espimg_diag_list *diags;

static void setup(void)
{
	diags = espimg_diag_list_new();
	cr_assert_not_null(diags);
}

static void teardown(void)
{
	espimg_diag_list_free(diags);
	diags = NULL;
}

TestSuite(merge, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ helpers */

static const espimg_chip *chip(const char *key)
{
	const espimg_chip *c = espimg_chip_by_key(key);

	cr_assert_not_null(c, "%s", key);
	return c;
}

static espimg_merge_opts opts_for(const char *key, espimg_out_format f)
{
	espimg_merge_opts o;

	espimg_merge_opts_init(&o, chip(key));
	o.format = f;
	return o;
}

static int merge(const espimg_merge_part *p, size_t n,
		 const espimg_merge_opts *o, struct fx_sink *s)
{
	return espimg_merge_write(p, n, o, fx_sink_write, s, diags);
}

static uint32_t le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static uint8_t *pattern(size_t len, uint32_t seed)
{
	uint8_t *p = malloc(len ? len : 1);

	cr_assert_not_null(p);
	synth_fill_bytes(p, len, SYNTH_FILL_RANDOM, seed);
	return p;
}

/* A small image for `key`: two segments, hash_appended as given. */
static uint8_t *image_for(const char *key, int hash, size_t *len)
{
	const synth_chip *c = fx_synth_chip(key);
	synth_image s;

	synth_init(&s, c->id);
	s.hash_appended = (uint8_t)hash;
	cr_assert_geq(synth_add_fill(&s, c->dram, 300, SYNTH_FILL_RANDOM, 7), 0);
	cr_assert_geq(synth_add_fill(&s, c->iram, 1001, SYNTH_FILL_RANDOM, 8), 0);
	return fx_synth_finish(&s, len);
}

static espimg_image *read_image(const uint8_t *buf, size_t len,
				const char *key)
{
	espimg_image_opts io = { .chip = chip(key) };
	espimg_image *img = NULL;
	espimg_source src;

	espimg_source_mem(&src, buf, len);
	cr_assert_eq(espimg_image_read(&src, &io, &img, NULL), ESPIMG_OK);
	return img;
}

static void expect_code(const char *code, int sev)
{
	char *dump = fx_diag_dump(diags);

	cr_expect_not_null(fx_diag_find(diags, code, sev), "%s missing:\n%s",
			   code, dump);
	free(dump);
}

/* ------------------------------------------------------------ corpus */

#define C3_BOOT "images/espressif__esp-serial-flasher__HW_ESP32_C3_bootloader.bin"
#define C3_APP "images/espressif__esp-serial-flasher__HW_ESP32_C3_hello_world.bin"
#define E32_BOOT "images/espressif__esp-serial-flasher__HW_ESP32_bootloader.bin"
#define E32_APP "images/espressif__esp-serial-flasher__HW_ESP32_hello_world.bin"
#define TABLE "images/parts/espressif__esp-serial-flasher__HW_partition-table.bin"

/* One images/gen/merge_* file and the esptool merge_bin command that made
 * it (images/expected/gen/NAME.gen.txt). */
struct gen_case {
	const char *expected;
	const char *chip;
	espimg_out_format format;
	int mode, size, freq;
	uint64_t target, pad;
	unsigned chunk;
	bool no_md5;
};

static void gen_case(const struct gen_case *c)
{
	bool e32 = !strcmp(c->chip, "esp32");
	const char *files[3] = { e32 ? E32_BOOT : C3_BOOT, TABLE,
				 e32 ? E32_APP : C3_APP };
	const uint64_t addrs[3] = { e32 ? 0x1000 : 0x0, 0x8000, 0x10000 };
	espimg_merge_part parts[3];
	uint8_t *data[3], *want;
	struct fx_sink s = { 0 };
	espimg_merge_opts o = opts_for(c->chip, c->format);
	size_t wlen;
	char rel[128];

	snprintf(rel, sizeof(rel), "images/gen/%s", c->expected);
	want = fx_corpus_read(rel, &wlen);
	/* Given out of order: merge-bin sorts by address. */
	for (size_t i = 0; i < 3; i++) {
		size_t j = 2 - i;

		data[j] = fx_corpus_read(files[j], &parts[i].len);
		parts[i].data = data[j];
		parts[i].address = addrs[j];
		parts[i].name = files[j];
	}
	o.flash.mode = c->mode;
	o.flash.size = c->size;
	o.flash.freq = c->freq;
	o.target_offset = c->target;
	o.pad_to_size = c->pad;
	o.uf2_chunk_size = c->chunk;
	o.uf2_md5 = !c->no_md5;
	cr_assert_eq(merge(parts, 3, &o, &s), 0, "%s", c->expected);
	cr_assert_eq(s.len, wlen, "%s: %zu bytes, esptool wrote %zu",
		     c->expected, s.len, wlen);
	cr_assert(!memcmp(s.data, want, wlen), "%s differs", c->expected);
	cr_assert_eq(espimg_diag_errors(diags), 0);
	cr_assert_eq(fx_diag_count(diags, "merge.patched", -1),
		     c->mode >= 0 || c->size >= 0 || c->freq >= 0);
	fx_sink_free(&s);
	for (size_t i = 0; i < 3; i++)
		free(data[i]);
	free(want);
}

Test(merge, gen_c3_raw)
{
	gen_case(&(struct gen_case){ "merge_c3_raw.bin", "esp32c3",
				     ESPIMG_OUT_RAW, -1, -1, -1, 0, 0, 0,
				     false });
}

Test(merge, gen_c3_hex)
{
	gen_case(&(struct gen_case){ "merge_c3.hex", "esp32c3", ESPIMG_OUT_HEX,
				     -1, -1, -1, 0, 0, 0, false });
}

Test(merge, gen_c3_uf2)
{
	gen_case(&(struct gen_case){ "merge_c3.uf2", "esp32c3", ESPIMG_OUT_UF2,
				     -1, -1, -1, 0, 0, 0, false });
}

Test(merge, gen_c3_uf2_chunk256_nomd5)
{
	gen_case(&(struct gen_case){ "merge_c3_chunk256_nomd5.uf2", "esp32c3",
				     ESPIMG_OUT_UF2, -1, -1, -1, 0, 0, 256,
				     true });
}

/* --flash_mode qio --flash_freq 40m --flash_size 4MB */
Test(merge, gen_c3_patched_qio_40m_4mb)
{
	gen_case(&(struct gen_case){ "merge_c3_patched_qio_40m_4MB.bin",
				     "esp32c3", ESPIMG_OUT_RAW, 0, 2, 0, 0, 0,
				     0, false });
}

Test(merge, gen_esp32_raw)
{
	gen_case(&(struct gen_case){ "merge_esp32_raw.bin", "esp32",
				     ESPIMG_OUT_RAW, -1, -1, -1, 0, 0, 0,
				     false });
}

/* --fill-flash-size 1MB --flash_mode dout */
Test(merge, gen_esp32_fill1mb_dout)
{
	gen_case(&(struct gen_case){ "merge_esp32_fill1MB_dout.bin", "esp32",
				     ESPIMG_OUT_RAW, 3, -1, -1, 0, 1u << 20,
				     0, false });
}

Test(merge, gen_esp32_target1000)
{
	gen_case(&(struct gen_case){ "merge_esp32_target1000.bin", "esp32",
				     ESPIMG_OUT_RAW, -1, -1, -1, 0x1000, 0, 0,
				     false });
}

/* ------------------------------------------------------------ raw */

Test(merge, raw_sorted_gaps_fill)
{
	uint8_t a[3] = { 1, 2, 3 }, b[2] = { 4, 5 };
	espimg_merge_part p[2] = {
		{ .address = 0x3000, .data = b, .len = 2, .name = "b" },
		{ .address = 0x1004, .data = a, .len = 3, .name = "a" },
	};
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_RAW);
	struct fx_sink s = { 0 };

	o.fill = 0x5A;
	o.target_offset = 0x1000;
	cr_assert_eq(merge(p, 2, &o, &s), 0);
	cr_assert_eq(s.len, 0x2002);
	for (size_t i = 0; i < s.len; i++) {
		uint8_t want = i >= 4 && i < 7 ? a[i - 4] :
			       i >= 0x2000 ? b[i - 0x2000] : 0x5A;

		cr_assert_eq((uint8_t)s.data[i], want, "byte 0x%zx", i);
	}
	fx_sink_free(&s);
}

/* pad_to_size is a flash address: with target_offset the file holds
 * pad_to_size - target_offset bytes (esptool 5.3.1 --target-offset 0x1000
 * --pad-to-size 1MB writes 0xff000 bytes). */
Test(merge, raw_pad_from_target)
{
	uint8_t a[16];
	espimg_merge_part p = { .address = 0x2000, .data = a, .len = 16 };
	espimg_merge_opts o = opts_for("esp32", ESPIMG_OUT_RAW);
	struct fx_sink s = { 0 };

	memset(a, 0x11, sizeof(a));
	o.target_offset = 0x1000;
	o.pad_to_size = 0x4000;
	cr_assert_eq(merge(&p, 1, &o, &s), 0);
	cr_assert_eq(s.len, 0x3000);
	cr_assert_eq((uint8_t)s.data[0], 0xFF);
	cr_assert_eq((uint8_t)s.data[0x1000], 0x11);
	cr_assert_eq((uint8_t)s.data[0x2fff], 0xFF);
	fx_sink_free(&s);
}

/* A sink that keeps nothing: the output's length, a running sum and the
 * largest single write. */
struct count_sink {
	uint64_t len, sum;
	size_t max_write;
};

static int count_write(void *ctx, const void *buf, size_t len)
{
	struct count_sink *c = ctx;
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		c->sum += p[i];
	c->len += len;
	if (len > c->max_write)
		c->max_write = len;
	return 0;
}

/* 16 MB of padding streams in small writes (the writer holds no buffer of
 * the output's size). */
Test(merge, raw_pad_16mb_streams)
{
	uint8_t a[100];
	espimg_merge_part p = { .address = 0x0, .data = a, .len = sizeof(a) };
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_RAW);
	struct count_sink c = { 0 };

	memset(a, 0, sizeof(a));
	o.pad_to_size = 16u << 20;
	cr_assert_eq(espimg_merge_write(&p, 1, &o, count_write, &c, diags), 0);
	cr_assert_eq(c.len, 16u << 20);
	cr_assert_eq(c.sum, (uint64_t)((16u << 20) - 100) * 0xFF);
	cr_assert_leq(c.max_write, 64u << 10, "largest write %zu", c.max_write);
}

/* ------------------------------------------------------------ refusals */

Test(merge, overlap_bytes)
{
	uint8_t *a = pattern(0x2000, 1), b[16] = { 0 };
	espimg_merge_part p[2] = {
		{ .address = 0x1000, .data = a, .len = 0x2000, .name = "a" },
		{ .address = 0x2000, .data = b, .len = 16, .name = "b" },
	};
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_RAW);
	struct fx_sink s = { 0 };
	const espimg_diag *d;

	cr_assert_eq(merge(p, 2, &o, &s), ESPIMG_EFORMAT);
	cr_assert_eq(s.calls, 0, "nothing is written");
	d = fx_diag_find(diags, "merge.overlap", ESPIMG_SEV_ERROR);
	cr_assert_not_null(d);
	cr_expect_not_null(strstr(d->message, "overlaps 'a'"), "%s", d->message);
	free(a);
}

/* esptool's rule: two parts may not share a 4 KiB sector. */
Test(merge, overlap_same_sector)
{
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	espimg_merge_part p[2] = {
		{ .address = 0x1800, .data = b, .len = 16, .name = "b" },
		{ .address = 0x1000, .data = a, .len = 16, .name = "a" },
	};
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_HEX);
	struct fx_sink s = { 0 };
	const espimg_diag *d;

	cr_assert_eq(merge(p, 2, &o, &s), ESPIMG_EFORMAT);
	cr_assert_eq(s.calls, 0);
	d = fx_diag_find(diags, "merge.overlap", ESPIMG_SEV_ERROR);
	cr_assert_not_null(d);
	cr_expect_not_null(strstr(d->message, "sector"), "%s", d->message);
	cr_expect_str_eq(d->file, "b");
}

Test(merge, adjacent_sectors_ok)
{
	uint8_t *a = pattern(0x1000, 2), b[1] = { 0x42 };
	espimg_merge_part p[2] = {
		{ .address = 0x2000, .data = b, .len = 1 },
		{ .address = 0x1000, .data = a, .len = 0x1000 },
	};
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_RAW);
	struct fx_sink s = { 0 };

	cr_assert_eq(merge(p, 2, &o, &s), 0);
	cr_assert_eq(s.len, 0x2001);
	cr_assert(!memcmp(s.data + 0x1000, a, 0x1000));
	cr_assert_eq((uint8_t)s.data[0x2000], 0x42);
	fx_sink_free(&s);
	free(a);
}

Test(merge, below_target)
{
	uint8_t a[4] = { 0 };
	espimg_merge_part p[2] = {
		{ .address = 0x1000, .data = a, .len = 4, .name = "low" },
		{ .address = 0x8000, .data = a, .len = 4, .name = "ok" },
	};
	espimg_merge_opts o;

	for (int f = ESPIMG_OUT_RAW; f <= ESPIMG_OUT_UF2; f++) {
		struct fx_sink s = { 0 };

		espimg_diag_clear(diags);
		o = opts_for("esp32", (espimg_out_format)f);
		o.target_offset = 0x2000;
		cr_assert_eq(merge(p, 2, &o, &s), ESPIMG_EFORMAT, "format %d", f);
		cr_assert_eq(s.calls, 0);
		cr_assert_eq(fx_diag_count(diags, "merge.below_target",
					   ESPIMG_SEV_ERROR), 1);
		cr_expect_str_eq(fx_diag_find(diags, "merge.below_target", -1)
					 ->file, "low");
	}
}

Test(merge, too_big)
{
	uint8_t *a = pattern(0x1001, 3);
	espimg_merge_part p = { .address = 0x2000, .data = a, .len = 0x1001 };
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_RAW);
	struct fx_sink s = { 0 };

	o.pad_to_size = 0x3000;
	cr_assert_eq(merge(&p, 1, &o, &s), ESPIMG_EFORMAT);
	cr_assert_eq(s.calls, 0);
	expect_code("merge.too_big", ESPIMG_SEV_ERROR);

	/* Exactly full is fine; hex and uf2 ignore the pad size. */
	espimg_diag_clear(diags);
	p.len = 0x1000;
	cr_assert_eq(merge(&p, 1, &o, &s), 0);
	cr_assert_eq(s.len, 0x3000);
	fx_sink_free(&s);
	p.len = 0x1001;
	o.format = ESPIMG_OUT_HEX;
	cr_assert_eq(merge(&p, 1, &o, &s), 0);
	fx_sink_free(&s);
	free(a);
}

Test(merge, hex_and_uf2_stop_at_4gib)
{
	uint8_t a[32] = { 0 };
	espimg_merge_part p = { .address = 0xFFFFFFF0u, .data = a, .len = 32 };
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_HEX);
	struct fx_sink s = { 0 };

	cr_assert_eq(merge(&p, 1, &o, &s), ESPIMG_EFORMAT);
	expect_code("merge.address_range", ESPIMG_SEV_ERROR);
	o.format = ESPIMG_OUT_UF2;
	cr_assert_eq(merge(&p, 1, &o, &s), ESPIMG_EFORMAT);
	cr_assert_eq(s.calls, 0);
	/* The last addressable byte is fine. */
	p.len = 16;
	cr_assert_eq(merge(&p, 1, &o, &s), 0);
	fx_sink_free(&s);
}

Test(merge, no_input_and_bad_arguments)
{
	uint8_t a[4] = { 0 };
	espimg_merge_part p = { .address = 0, .data = a, .len = 4 };
	espimg_merge_part nul = { .address = 0, .data = NULL, .len = 4 };
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_RAW);
	struct fx_sink s = { 0 };

	cr_assert_eq(merge(&p, 0, &o, &s), ESPIMG_EFORMAT);
	expect_code("merge.no_input", ESPIMG_SEV_ERROR);
	cr_assert_eq(merge(&nul, 1, &o, &s), ESPIMG_EINVAL);
	cr_assert_eq(espimg_merge_write(&p, 1, NULL, fx_sink_write, &s, NULL),
		     ESPIMG_EINVAL);
	cr_assert_eq(espimg_merge_write(&p, 1, &o, NULL, &s, NULL),
		     ESPIMG_EINVAL);
	o.flash.mode = 4;
	cr_assert_eq(merge(&p, 1, &o, &s), ESPIMG_EINVAL);
	o.flash.mode = -1;
	o.flash.size = 16;
	cr_assert_eq(merge(&p, 1, &o, &s), ESPIMG_EINVAL);
	o.flash.size = -1;
	o.format = (espimg_out_format)7;
	cr_assert_eq(merge(&p, 1, &o, &s), ESPIMG_EINVAL);
	o.chip = NULL;
	o.format = ESPIMG_OUT_RAW;
	cr_assert_eq(merge(&p, 1, &o, &s), ESPIMG_EINVAL);
	cr_assert_eq(s.calls, 0);
}

Test(merge, write_failure_is_eio)
{
	uint8_t a[4] = { 0 };
	espimg_merge_part p = { .address = 0x1000, .data = a, .len = 4 };

	for (int f = ESPIMG_OUT_RAW; f <= ESPIMG_OUT_UF2; f++) {
		espimg_merge_opts o = opts_for("esp32c3", (espimg_out_format)f);
		struct fx_sink s = { .fail_from = 1 };

		cr_assert_eq(merge(&p, 1, &o, &s), ESPIMG_EIO, "format %d", f);
		cr_assert_eq(s.calls, 1, "no write after the failed one");
	}
}

/* ------------------------------------------------------------ hex */

/* Below 64 KiB: no type-04 record; a run that spans two parts (the first
 * ends where the second begins) is cut into records from its start, not
 * at 16-byte boundaries. */
Test(merge, hex_low_runs)
{
	uint8_t a[8], b[20];
	espimg_merge_part p[2] = {
		{ .address = 0xFF8, .data = a, .len = sizeof(a) },
		{ .address = 0x1000, .data = b, .len = sizeof(b) },
	};
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_HEX);
	struct fx_sink s = { 0 };
	struct fx_sink t = { 0 };
	uint8_t run[28];

	synth_fill_bytes(a, sizeof(a), SYNTH_FILL_COUNT, 1);
	synth_fill_bytes(b, sizeof(b), SYNTH_FILL_COUNT, 100);
	memcpy(run, a, 8);
	memcpy(run + 8, b, 20);
	fx_ihex_rec(&t, 0, 0xFF8, run, 16);
	fx_ihex_rec(&t, 0, 0x1008, run + 16, 12);
	fx_ihex_eof(&t);
	cr_assert_eq(merge(p, 2, &o, &s), 0);
	cr_assert_str_eq(fx_sink_str(&s), fx_sink_str(&t));
	fx_sink_free(&s);
	fx_sink_free(&t);
}

/* Above 64 KiB: a type-04 record opens every page that holds data, also
 * page 0; a record never crosses a page boundary. */
Test(merge, hex_pages)
{
	uint8_t a[20], b[1] = { 0x77 }, c[3] = { 1, 2, 3 };
	espimg_merge_part p[3] = {
		{ .address = 0x30000, .data = b, .len = 1 },
		{ .address = 0xFFF8, .data = a, .len = sizeof(a) },
		{ .address = 0x1000000, .data = c, .len = 3 },
	};
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_HEX);
	struct fx_sink s = { 0 };
	struct fx_sink t = { 0 };
	espimg_ihex *h = NULL;

	synth_fill_bytes(a, sizeof(a), SYNTH_FILL_COUNT, 9);
	fx_ihex_ela(&t, 0);
	fx_ihex_rec(&t, 0, 0xFFF8, a, 8);
	fx_ihex_ela(&t, 1);
	fx_ihex_rec(&t, 0, 0x0000, a + 8, 12);
	fx_ihex_ela(&t, 3);
	fx_ihex_rec(&t, 0, 0x0000, b, 1);
	fx_ihex_ela(&t, 0x100);
	fx_ihex_rec(&t, 0, 0x0000, c, 3);
	fx_ihex_eof(&t);
	cr_assert_eq(merge(p, 3, &o, &s), 0);
	cr_assert_str_eq(fx_sink_str(&s), fx_sink_str(&t));

	/* Our own reader gets the parts back. */
	cr_assert_eq(espimg_ihex_parse(s.data, s.len, "x.hex", &h, diags), 0);
	cr_assert_eq(espimg_ihex_run_count(h), 3);
	cr_assert_eq(espimg_ihex_run_at(h, 0)->address, 0xFFF8);
	cr_assert_eq(espimg_ihex_run_at(h, 0)->len, 20);
	cr_assert(!memcmp(espimg_ihex_run_at(h, 0)->data, a, 20));
	cr_assert_eq(espimg_ihex_run_at(h, 2)->address, 0x1000000);
	espimg_ihex_free(h);
	fx_sink_free(&s);
	fx_sink_free(&t);
}

Test(merge, hex_empty_parts)
{
	uint8_t a[1];
	espimg_merge_part p = { .address = 0x20000, .data = a, .len = 0 };
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_HEX);
	struct fx_sink s = { 0 };

	cr_assert_eq(merge(&p, 1, &o, &s), 0);
	cr_assert_str_eq(fx_sink_str(&s), ":00000001FF\n");
	fx_sink_free(&s);
}

/* ------------------------------------------------------------ uf2 */

static void check_block(const uint8_t *b, uint32_t flags, uint32_t addr,
			const uint8_t *payload, uint32_t len, uint32_t no,
			uint32_t count, uint32_t family, bool md5)
{
	size_t end = 32 + len;

	cr_assert_eq(le32(b), 0x0A324655u);
	cr_assert_eq(le32(b + 4), 0x9E5D5157u);
	cr_assert_eq(le32(b + 8), flags);
	cr_assert_eq(le32(b + 12), addr);
	cr_assert_eq(le32(b + 16), len);
	cr_assert_eq(le32(b + 20), no);
	cr_assert_eq(le32(b + 24), count);
	cr_assert_eq(le32(b + 28), family);
	cr_assert(!memcmp(b + 32, payload, len));
	if (md5) {
		uint8_t digest[16];
		unsigned n = 0;

		cr_assert_eq(EVP_Digest(payload, len, digest, &n, EVP_md5(),
					NULL), 1);
		cr_assert_eq(le32(b + end), addr);
		cr_assert_eq(le32(b + end + 4), len);
		cr_assert(!memcmp(b + end + 8, digest, 16));
		end += 24;
	}
	for (size_t i = end; i < 508; i++)
		cr_assert_eq(b[i], 0, "block %u byte %zu", no, i);
	cr_assert_eq(le32(b + 508), 0x0AB16F30u);
}

/* Default chunk with MD5: 452 bytes; block numbers restart per part. */
Test(merge, uf2_layout_md5)
{
	uint8_t *a = pattern(1000, 4), *b = pattern(10, 5);
	espimg_merge_part p[2] = {
		{ .address = 0x10000, .data = b, .len = 10 },
		{ .address = 0x2000, .data = a, .len = 1000 },
	};
	espimg_merge_opts o = opts_for("esp32s3", ESPIMG_OUT_UF2);
	uint32_t fam = chip("esp32s3")->uf2_family;
	struct fx_sink s = { 0 };
	const uint8_t *d;

	cr_assert_eq(fam, 0xC47E5767u); /* esptool targets/esp32s3.py */
	cr_assert_eq(merge(p, 2, &o, &s), 0);
	cr_assert_eq(s.len, 4 * 512);
	d = (const uint8_t *)s.data;
	check_block(d, 0x6000, 0x2000, a, 452, 0, 3, fam, true);
	check_block(d + 512, 0x6000, 0x2000 + 452, a + 452, 452, 1, 3, fam,
		    true);
	check_block(d + 1024, 0x6000, 0x2000 + 904, a + 904, 96, 2, 3, fam,
		    true);
	check_block(d + 1536, 0x6000, 0x10000, b, 10, 0, 1, fam, true);
	fx_sink_free(&s);
	free(a);
	free(b);
}

Test(merge, uf2_layout_chunk_no_md5)
{
	uint8_t *a = pattern(600, 6);
	espimg_merge_part p = { .address = 0x0, .data = a, .len = 600 };
	espimg_merge_opts o = opts_for("esp32p4", ESPIMG_OUT_UF2);
	uint32_t fam = chip("esp32p4")->uf2_family;
	struct fx_sink s = { 0 };

	o.uf2_md5 = false;
	o.uf2_chunk_size = 256;
	cr_assert_eq(merge(&p, 1, &o, &s), 0);
	cr_assert_eq(s.len, 3 * 512);
	check_block((const uint8_t *)s.data, 0x2000, 0, a, 256, 0, 3, fam,
		    false);
	check_block((const uint8_t *)s.data + 1024, 0x2000, 512, a + 512, 88, 2,
		    3, fam, false);
	fx_sink_free(&s);

	/* Without MD5 the default chunk is the whole 476-byte data area. */
	o.uf2_chunk_size = 0;
	cr_assert_eq(merge(&p, 1, &o, &s), 0);
	cr_assert_eq(s.len, 2 * 512);
	check_block((const uint8_t *)s.data, 0x2000, 0, a, 476, 0, 2, fam,
		    false);
	fx_sink_free(&s);
	free(a);
}

Test(merge, uf2_chunk_limits)
{
	uint8_t a[8] = { 0 };
	espimg_merge_part p = { .address = 0x0, .data = a, .len = 8 };
	espimg_merge_opts o = opts_for("esp32c3", ESPIMG_OUT_UF2);
	struct fx_sink s = { 0 };

	o.uf2_chunk_size = 456; /* > 452 with MD5 */
	cr_assert_eq(merge(&p, 1, &o, &s), ESPIMG_EINVAL);
	o.uf2_chunk_size = 10;  /* esptool wants a multiple of 4 */
	cr_assert_eq(merge(&p, 1, &o, &s), ESPIMG_EINVAL);
	o.uf2_chunk_size = 452;
	cr_assert_eq(merge(&p, 1, &o, &s), 0);
	fx_sink_free(&s);
	o.uf2_md5 = false;
	o.uf2_chunk_size = 476;
	cr_assert_eq(merge(&p, 1, &o, &s), 0);
	cr_assert_eq(s.len, 512);
	fx_sink_free(&s);
}

/* ------------------------------------------------------------ patch */

static espimg_flash_params params(int mode, int size, int freq)
{
	espimg_flash_params p;

	memset(&p, 0, sizeof(p));
	p.mode = mode;
	p.size = size;
	p.freq = freq;
	return p;
}

/* With the digest: bytes 2 and 3 change, the digest is recomputed and
 * verifies, the checksum and the bytes after the digest stay. */
Test(merge, patch_with_sha)
{
	size_t ilen, len;
	uint8_t *img = image_for("esp32c3", 1, &ilen), *buf, *orig;
	espimg_flash_params fp = params(0, 3, 0xF);
	espimg_image *r;

	buf = malloc(ilen + 4096);
	cr_assert_not_null(buf);
	memcpy(buf, img, ilen);
	memset(buf + ilen, 0xAB, 4096); /* a merged blob's tail */
	len = ilen + 4096;
	orig = malloc(len);
	memcpy(orig, buf, len);

	cr_assert_eq(espimg_patch_flash_params(buf, len, 0x0, chip("esp32c3"),
					       &fp, diags), 1);
	cr_assert_eq(buf[2], 0);
	cr_assert_eq(buf[3], 0x3F);
	r = read_image(buf, len, "esp32c3");
	cr_assert(r->has_sha256);
	cr_assert(r->sha256_ok, "the digest verifies after the patch");
	cr_assert(r->checksum_ok);
	cr_assert_eq(buf[r->checksum_offset], orig[r->checksum_offset]);
	for (size_t i = 0; i < len; i++)
		if (i != 2 && i != 3 &&
		    (i < r->sha256_offset || i >= r->sha256_offset + 32))
			cr_assert_eq(buf[i], orig[i], "byte 0x%zx", i);
	cr_assert(memcmp(buf + r->sha256_offset, orig + r->sha256_offset, 32));
	expect_code("merge.patched", ESPIMG_SEV_NOTE);
	cr_assert_eq(espimg_diag_errors(diags), 0);
	espimg_image_free(r);
	free(img);
	free(buf);
	free(orig);
}

Test(merge, patch_without_sha)
{
	size_t len;
	uint8_t *buf = image_for("esp32", 0, &len), *orig = malloc(len);
	espimg_flash_params fp = params(3, -1, -1);
	espimg_image *r;

	memcpy(orig, buf, len);
	cr_assert_eq(espimg_patch_flash_params(buf, len, 0x1000, chip("esp32"),
					       &fp, diags), 1);
	cr_assert_eq(buf[2], 3);
	cr_assert_eq(buf[3], orig[3], "size and frequency kept");
	cr_assert(!memcmp(buf + 4, orig + 4, len - 4));
	r = read_image(buf, len, "esp32");
	cr_assert_not(r->has_sha256);
	cr_assert(r->checksum_ok);
	espimg_image_free(r);
	free(buf);
	free(orig);
}

/* A stale digest is replaced too, as esptool does whenever it patches. */
Test(merge, patch_repairs_stale_digest)
{
	const synth_chip *c = fx_synth_chip("esp32c3");
	espimg_flash_params fp = params(2, -1, -1);
	synth_image s;
	uint8_t *buf;
	size_t len;
	espimg_image *r;

	synth_init(&s, c->id);
	s.bad_digest = true;
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 0), 0);
	buf = fx_synth_finish(&s, &len);
	cr_assert_eq(espimg_patch_flash_params(buf, len, 0, chip("esp32c3"),
					       &fp, diags), 1);
	r = read_image(buf, len, "esp32c3");
	cr_assert(r->sha256_ok);
	espimg_image_free(r);
	free(buf);
}

Test(merge, patch_refused_not_image)
{
	uint8_t *buf = pattern(4096, 11), *orig = malloc(4096);
	espimg_flash_params fp = params(0, -1, -1);

	buf[0] = 0x00;
	memcpy(orig, buf, 4096);
	cr_assert_eq(espimg_patch_flash_params(buf, 4096, 0, chip("esp32c3"),
					       &fp, diags), 0);
	expect_code("merge.not_image", ESPIMG_SEV_WARNING);
	cr_assert(!memcmp(buf, orig, 4096));

	/* 0xE9 first, but no image behind it. */
	espimg_diag_clear(diags);
	buf[0] = 0xE9;
	buf[1] = 3;
	buf[23] = 0;
	memcpy(orig, buf, 4096);
	cr_assert_eq(espimg_patch_flash_params(buf, 4096, 0, chip("esp32c3"),
					       &fp, diags), 0);
	expect_code("merge.not_image", ESPIMG_SEV_WARNING);
	cr_assert(!memcmp(buf, orig, 4096));
	cr_assert_eq(espimg_diag_errors(diags), 0);
	free(buf);
	free(orig);
}

/* A segment length of 0xFFFFFFFF: refused after a bounded read. */
Test(merge, patch_refused_huge_segment)
{
	size_t len;
	uint8_t *buf = image_for("esp32c3", 1, &len);
	espimg_flash_params fp = params(0, -1, -1);

	buf[24 + 4] = buf[24 + 5] = buf[24 + 6] = buf[24 + 7] = 0xFF;
	cr_assert_eq(espimg_patch_flash_params(buf, len, 0, chip("esp32c3"),
					       &fp, diags), 0);
	expect_code("merge.not_image", ESPIMG_SEV_WARNING);
	cr_assert_eq(buf[2], 2);
	free(buf);
}

Test(merge, patch_refused_other_chip)
{
	size_t len;
	uint8_t *buf = image_for("esp32s3", 1, &len);
	espimg_flash_params fp = params(0, -1, -1);
	const espimg_diag *d;

	cr_assert_eq(espimg_patch_flash_params(buf, len, 0, chip("esp32c3"),
					       &fp, diags), 0);
	d = fx_diag_find(diags, "merge.not_image", ESPIMG_SEV_WARNING);
	cr_assert_not_null(d);
	cr_expect_not_null(strstr(d->message, "ESP32-S3"), "%s", d->message);
	cr_assert_eq(buf[2], 2);
	free(buf);
}

/* Not at the bootloader offset, everything kept, or shorter than the
 * common header: nothing happens and nothing is said. */
Test(merge, patch_not_applicable)
{
	size_t len;
	uint8_t *buf = image_for("esp32p4", 1, &len);
	espimg_flash_params keep = params(-1, -1, -1), fp = params(0, 1, 2);

	cr_assert_eq(chip("esp32p4")->bootloader_offset, 0x2000);
	cr_assert_eq(espimg_patch_flash_params(buf, len, 0x0, chip("esp32p4"),
					       &fp, diags), 0);
	cr_assert_eq(espimg_patch_flash_params(buf, len, 0x2000,
					       chip("esp32p4"), &keep, diags),
		     0);
	cr_assert_eq(espimg_patch_flash_params(buf, 7, 0x2000, chip("esp32p4"),
					       &fp, diags), 0);
	cr_assert_eq(espimg_diag_count(diags), 0);
	cr_assert_eq(buf[2], 2);
	cr_assert_eq(espimg_patch_flash_params(buf, len, 0x2000,
					       chip("esp32p4"), &fp, diags),
		     1);
	cr_assert_eq(buf[2], 0);
	cr_assert_eq(buf[3], 0x12);
	fp.mode = 4;
	cr_assert_eq(espimg_patch_flash_params(buf, len, 0x2000,
					       chip("esp32p4"), &fp, diags),
		     ESPIMG_EINVAL);
	free(buf);
}

/* merge_write patches a private copy: the caller's bytes stay. */
Test(merge, merge_patches_copy)
{
	size_t len;
	uint8_t *boot = image_for("esp32", 1, &len), *orig = malloc(len);
	espimg_merge_part p = { .address = 0x1000, .data = boot, .len = len };
	espimg_merge_opts o = opts_for("esp32", ESPIMG_OUT_RAW);
	struct fx_sink s = { 0 };
	espimg_image *r;

	memcpy(orig, boot, len);
	o.flash = params(3, 4, 0xF);
	cr_assert_eq(merge(&p, 1, &o, &s), 0);
	cr_assert(!memcmp(boot, orig, len), "input untouched");
	cr_assert_eq(s.len, 0x1000 + len);
	cr_assert_eq((uint8_t)s.data[0x1002], 3);
	cr_assert_eq((uint8_t)s.data[0x1003], 0x4F);
	r = read_image((const uint8_t *)s.data + 0x1000, len, "esp32");
	cr_assert(r->sha256_ok);
	espimg_image_free(r);

	/* A non-image there is written as it is, with the warning. */
	fx_sink_free(&s);
	boot[0] = 0x12;
	cr_assert_eq(merge(&p, 1, &o, &s), 0);
	cr_assert(!memcmp(s.data + 0x1000, boot, len));
	expect_code("merge.not_image", ESPIMG_SEV_WARNING);
	fx_sink_free(&s);
	free(boot);
	free(orig);
}
