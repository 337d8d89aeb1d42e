/*
 * test_image.c - the image parser (espimg_image_read) on images built by
 * the synthesiser (tests/synth), and on the corpus when it is there.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "espimg/espimg.h"
#include "espimg/chip.h"
#include "espimg/image.h"
#include "fixtures.h"
#include "internal.h"
#include "synth.h"

/* ------------------------------------------------------------ helpers */

/* A parsed image with its diagnostics; freed by done(). */
struct res {
	int rc;
	espimg_image *img;
	espimg_diag_list *d;
};

static struct res parse_opts(const uint8_t *buf, size_t len,
			     const espimg_image_opts *o)
{
	struct res r;
	espimg_source src;

	espimg_source_mem(&src, buf, len);
	r.d = espimg_diag_list_new();
	cr_assert_not_null(r.d);
	r.rc = espimg_image_read(&src, o, &r.img, r.d);
	cr_assert_not_null(r.img, "rc %d", r.rc);
	return r;
}

static struct res parse(const uint8_t *buf, size_t len)
{
	return parse_opts(buf, len, NULL);
}

static void done(struct res *r)
{
	espimg_image_free(r->img);
	espimg_diag_list_free(r->d);
}

/* Asserts a diagnostic with this code, severity and absolute offset. */
static const espimg_diag *expect_diag(const struct res *r, const char *code,
				      espimg_severity sev, int64_t offset)
{
	const espimg_diag *d = fx_diag_find(r->d, code, (int)sev);
	char *dump = fx_diag_dump(r->d);

	cr_assert_not_null(d, "no %s %s in:\n%s", espimg_severity_name(sev),
			   code, dump);
	cr_expect_eq(d->offset, offset, "%s at %lld, expected %lld:\n%s", code,
		     (long long)d->offset, (long long)offset, dump);
	free(dump);
	return d;
}

static void expect_no_diags(const struct res *r)
{
	char *dump = fx_diag_dump(r->d);

	cr_expect_eq(espimg_diag_count(r->d), 0, "unexpected:\n%s", dump);
	free(dump);
}

static void expect_no_errors(const struct res *r)
{
	char *dump = fx_diag_dump(r->d);

	cr_expect_eq(espimg_diag_errors(r->d), 0, "unexpected:\n%s", dump);
	free(dump);
}

static const synth_chip *sc(const char *key)
{
	const synth_chip *c = synth_chip_by_key(key);

	cr_assert_not_null(c, "%s", key);
	return c;
}

/* An app: app description in DROM, then IRAM and IROM code. */
static void app_image(synth_image *s, const synth_chip *c)
{
	espimg_app_desc a;
	uint8_t raw[256];

	synth_init(s, c->id);
	synth_app_desc_init(&a, "hello", "1.2.3");
	synth_app_desc_bytes(&a, raw);
	cr_assert_geq(synth_add(s, c->drom, raw, sizeof(raw)), 0);
	cr_assert_geq(synth_add_fill(s, c->iram, 1024, SYNTH_FILL_RANDOM, 7), 0);
	cr_assert_geq(synth_add_fill(s, c->irom, 4096, SYNTH_FILL_RANDOM, 8), 0);
}

/* A bootloader: IRAM code, then the bootloader description in DRAM (last:
 * on chips where IRAM is also typed DRAM, the last DRAM-typed segment of
 * >= 80 bytes is the candidate). */
static void boot_image(synth_image *s, const synth_chip *c)
{
	espimg_boot_desc b;
	uint8_t raw[80];

	synth_init(s, c->id);
	synth_boot_desc_init(&b, 3);
	synth_boot_desc_bytes(&b, raw);
	cr_assert_geq(synth_add_fill(s, c->iram, 2048, SYNTH_FILL_RANDOM, 9), 0);
	cr_assert_geq(synth_add(s, c->dram, raw, sizeof(raw)), 0);
}

/* One small DRAM segment, so that nothing but the field under test is
 * reported. */
static void minimal(synth_image *s, uint16_t chip_id)
{
	const synth_chip *c = synth_chip_by_id(chip_id);

	cr_assert_not_null(c);
	synth_init(s, chip_id);
	cr_assert_geq(synth_add_fill(s, c->dram, 16, SYNTH_FILL_COUNT, 0), 0);
}

static uint8_t *finish(synth_image *s, size_t *len)
{
	uint8_t *b = NULL;

	cr_assert_eq(synth_finish(s, &b, len), 0);
	return b;
}

/* Builds, parses, frees the synthesiser state. */
static struct res build_parse(synth_image *s, uint8_t **keep, size_t *klen)
{
	size_t len;
	uint8_t *b = finish(s, &len);
	struct res r = parse(b, len);

	if (keep) {
		*keep = b;
		*klen = len;
	} else {
		free(b);
	}
	return r;
}

/* ------------------------------------------------------------ basics */

Test(image, args_and_free)
{
	espimg_source src;
	espimg_image *img = (espimg_image *)1;
	uint8_t b[1] = { 0xE9 };

	espimg_source_mem(&src, b, sizeof(b));
	cr_expect_eq(espimg_image_read(NULL, NULL, &img, NULL), ESPIMG_EINVAL);
	cr_expect_null(img);
	cr_expect_eq(espimg_image_read(&src, NULL, NULL, NULL), ESPIMG_EINVAL);
	espimg_image_free(NULL);
	espimg_source_mem(NULL, b, 1);
	espimg_source_mem(&src, NULL, 5);
	cr_expect_eq(src.size, 0);
}

Test(image, good_app_every_field)
{
	const synth_chip *c = sc("esp32c3");
	synth_image s;
	uint8_t *b;
	size_t len;
	struct res r;

	app_image(&s, c);
	s.flash_mode = 3;
	s.flash_size_freq = 0x4F; /* 16MB, 80m */
	s.entry = 0x40380ABC;
	s.wp_pin = 0x07;
	s.drv[0] = 0x21;
	s.drv[1] = 0x43;
	s.drv[2] = 0x65;
	s.min_rev = 3;
	s.min_rev_full = 3;
	s.max_rev_full = 199;
	r = build_parse(&s, &b, &len);
	cr_assert_eq(r.rc, ESPIMG_OK);
	expect_no_diags(&r);
	cr_expect_eq(r.img->stage, ESPIMG_STAGE_COMPLETE);
	cr_expect_eq(r.img->chip, espimg_chip_by_id(5));
	cr_expect_not(r.img->chip_forced);
	cr_expect_eq(r.img->magic, 0xE9);
	cr_expect_eq(r.img->segment_count, 3);
	cr_expect_eq(r.img->flash_mode, 3);
	cr_expect_eq(r.img->flash_size_freq, 0x4F);
	cr_expect_eq(r.img->entry_addr, 0x40380ABC);
	cr_expect_eq(r.img->wp_pin, 7);
	cr_expect_eq(r.img->clk_drv, 1);
	cr_expect_eq(r.img->q_drv, 2);
	cr_expect_eq(r.img->d_drv, 3);
	cr_expect_eq(r.img->cs0_drv, 4);
	cr_expect_eq(r.img->hd_drv, 5);
	cr_expect_eq(r.img->wp_drv, 6);
	cr_expect_eq(r.img->chip_id, 5);
	cr_expect_eq(r.img->min_rev, 3);
	cr_expect_eq(r.img->min_rev_full, 3);
	cr_expect_eq(r.img->max_rev_full, 199);
	cr_expect_eq(r.img->hash_appended, 1);
	cr_expect_eq(r.img->offset, 0);
	cr_expect_eq(r.img->source_size, len);

	cr_assert_eq(r.img->nsegments, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_expect_eq(r.img->segments[i].load_addr, s.seg[i].addr);
		cr_expect_eq(r.img->segments[i].length, s.seg[i].len);
		cr_expect_eq(r.img->segments[i].header_offset, s.seg[i].header_offset);
		cr_expect_eq(r.img->segments[i].data_offset, s.seg[i].data_offset);
	}
	cr_expect_eq(r.img->segments[0].header_offset, 0x18);
	cr_expect_eq(r.img->segments[0].data_offset, 0x20);
	cr_assert_eq(r.img->segments[0].mem_type_count, 1);
	cr_expect_str_eq(r.img->segments[0].mem_types[0], "DROM");
	cr_assert_eq(r.img->segments[1].mem_type_count, 1);
	cr_expect_str_eq(r.img->segments[1].mem_types[0], "IRAM");
	cr_expect_str_eq(r.img->segments[2].mem_types[0], "IROM");
	cr_expect_eq(r.img->segments_end, s.seg[2].data_offset + s.seg[2].len);

	cr_expect_eq(r.img->checksum_offset, s.checksum_offset);
	cr_expect_eq((r.img->checksum_offset + 1) % 16, 0);
	cr_expect_eq(r.img->checksum_stored, s.checksum);
	cr_expect_eq(r.img->checksum_computed, s.checksum);
	cr_expect(r.img->checksum_ok);
	cr_expect(r.img->has_sha256);
	cr_expect_eq(r.img->sha256_offset, s.checksum_offset + 1);
	cr_expect_eq(r.img->sha256_stored_len, 32);
	cr_expect_arr_eq(r.img->sha256_computed, s.digest, 32);
	cr_expect_arr_eq(r.img->sha256_stored, s.digest, 32);
	cr_expect(r.img->sha256_ok);
	cr_expect_eq(r.img->image_size, len);

	cr_expect_eq(r.img->kind, ESPIMG_KIND_APP);
	cr_assert(r.img->has_app_desc);
	cr_expect_not(r.img->has_boot_desc);
	cr_expect_eq(r.img->app_desc.offset, 0x20);
	cr_expect_eq(r.img->app_desc.segment, 0);
	cr_expect_eq(r.img->app_desc.magic_word, ESPIMG_APP_DESC_MAGIC);
	cr_expect_str_eq((const char *)r.img->app_desc.project_name, "hello");
	cr_expect_str_eq((const char *)r.img->app_desc.version, "1.2.3");
	cr_expect_str_eq((const char *)r.img->app_desc.idf_ver, "v5.4.1");
	cr_expect_str_eq((const char *)r.img->app_desc.date, "Jan  1 2025");
	cr_expect_str_eq((const char *)r.img->app_desc.time, "12:34:56");
	cr_expect_eq(r.img->app_desc.app_elf_sha256[31], 31);
	cr_expect_eq(r.img->app_desc.max_efuse_blk_rev_full, 99);
	cr_expect_eq(r.img->app_desc.mmu_page_size_log2, 16);
	cr_expect_eq(r.img->nsig, 0);
	cr_expect_not(r.img->has_sig_v1);
	done(&r);
	free(b);
	synth_free(&s);
}

Test(image, app_desc_every_field)
{
	const synth_chip *c = sc("esp32s3");
	espimg_app_desc a;
	synth_image s;
	uint8_t raw[256];
	struct res r;

	synth_init(&s, c->id);
	synth_app_desc_init(&a, "p", "v");
	a.secure_version = 0x01020304;
	a.min_efuse_blk_rev_full = 102;
	a.max_efuse_blk_rev_full = 399;
	a.mmu_page_size_log2 = 15;
	a.spi_flash_mode = 2;
	/* Full-width fields have no terminator. */
	memset(a.version, 'V', 32);
	memset(a.project_name, 'P', 32);
	memset(a.time, 'T', 16);
	memset(a.date, 'D', 16);
	memset(a.idf_ver, 'I', 32);
	synth_app_desc_bytes(&a, raw);
	synth_add(&s, c->drom, raw, sizeof(raw));
	r = build_parse(&s, NULL, NULL);
	cr_assert_eq(r.rc, ESPIMG_OK);
	expect_no_errors(&r);
	cr_assert(r.img->has_app_desc);
	cr_expect_eq(r.img->app_desc.secure_version, 0x01020304);
	cr_expect_eq(r.img->app_desc.min_efuse_blk_rev_full, 102);
	cr_expect_eq(r.img->app_desc.max_efuse_blk_rev_full, 399);
	cr_expect_eq(r.img->app_desc.mmu_page_size_log2, 15);
	cr_expect_eq(r.img->app_desc.spi_flash_mode, 2);
	cr_expect_arr_eq(r.img->app_desc.version, a.version, 32);
	cr_expect_arr_eq(r.img->app_desc.project_name, a.project_name, 32);
	cr_expect_arr_eq(r.img->app_desc.time, a.time, 16);
	cr_expect_arr_eq(r.img->app_desc.date, a.date, 16);
	cr_expect_arr_eq(r.img->app_desc.idf_ver, a.idf_ver, 32);
	done(&r);
	synth_free(&s);
}

/* ------------------------------------------------------------ chips */

/* Every chip of the table: app and bootloader images decode with the
 * chip's name for their memory types and descriptors. */
Test(image, every_chip)
{
	for (size_t i = 0; i < espimg_chip_count(); i++) {
		const espimg_chip *chip = espimg_chip_at(i);
		const synth_chip *c = synth_chip_by_id(chip->image_id);
		synth_image s;
		struct res r;

		cr_assert_not_null(c, "synth has no addresses for %s", chip->key);
		app_image(&s, c);
		s.flash_size_freq = 0x20 | 2; /* nibble 2 is defined everywhere */
		r = build_parse(&s, NULL, NULL);
		cr_assert_eq(r.rc, ESPIMG_OK, "%s", chip->key);
		expect_no_diags(&r);
		cr_expect_eq(r.img->chip, chip, "%s", chip->key);
		cr_expect(espimg_chip_addr_is(chip, c->drom, "DROM"), "%s", chip->key);
		cr_expect(r.img->has_app_desc, "%s", chip->key);
		cr_expect_eq(r.img->kind, ESPIMG_KIND_APP, "%s", chip->key);
		cr_expect_eq(r.img->app_desc.segment, 0);
		for (size_t k = 0; k < r.img->nsegments; k++) {
			const espimg_image_segment *g = &r.img->segments[k];
			const char *names[8];
			size_t n = espimg_chip_mem_types(chip, g->load_addr, names, 8);

			cr_expect_eq(g->mem_type_count, n, "%s seg %zu", chip->key, k);
			for (size_t j = 0; j < n && j < g->mem_type_count; j++)
				cr_expect_str_eq(g->mem_types[j], names[j]);
		}
		done(&r);
		synth_free(&s);

		boot_image(&s, c);
		s.flash_size_freq = 0x22;
		r = build_parse(&s, NULL, NULL);
		cr_assert_eq(r.rc, ESPIMG_OK, "%s", chip->key);
		expect_no_diags(&r);
		cr_expect(r.img->has_boot_desc, "%s", chip->key);
		cr_expect_not(r.img->has_app_desc, "%s", chip->key);
		cr_expect_eq(r.img->kind, ESPIMG_KIND_BOOTLOADER, "%s", chip->key);
		cr_expect_eq(r.img->boot_desc.version, 3);
		cr_expect_eq(r.img->boot_desc.segment, 1);
		cr_expect_eq(r.img->boot_desc.offset, s.seg[1].data_offset);
		cr_expect_str_eq((const char *)r.img->boot_desc.idf_ver, "v5.4.1");
		done(&r);
		synth_free(&s);
	}
}

/* Frequency nibbles: an error exactly where the chip has no name. */
Test(image, flash_freq_per_chip)
{
	for (size_t i = 0; i < espimg_chip_count(); i++) {
		const espimg_chip *chip = espimg_chip_at(i);

		for (unsigned f = 0; f < 16; f++) {
			synth_image s;
			struct res r;
			int defined = espimg_chip_flash_freq_name(chip, f) != NULL;

			minimal(&s, chip->image_id);
			s.flash_size_freq = (uint8_t)(0x20 | f);
			r = build_parse(&s, NULL, NULL);
			cr_assert_eq(r.rc, ESPIMG_OK);
			if (defined)
				cr_expect_null(fx_diag_find(r.d, "image.flash_freq", -1),
					       "%s nibble %u", chip->key, f);
			else
				expect_diag(&r, "image.flash_freq", ESPIMG_SEV_ERROR, 3);
			done(&r);
			synth_free(&s);
		}
	}
	/* Spot checks from esptool's tables. */
	cr_expect_str_eq(espimg_chip_flash_freq_name(espimg_chip_by_key("esp32c6"), 0), "80m");
	cr_expect_null(espimg_chip_flash_freq_name(espimg_chip_by_key("esp32c6"), 0xF));
	cr_expect_str_eq(espimg_chip_flash_freq_name(espimg_chip_by_key("esp32c2"), 0xF), "60m");
}

Test(image, flash_mode_and_size)
{
	for (unsigned m = 0; m < 256; m += (m < 8 ? 1 : 37)) {
		synth_image s;
		struct res r;

		minimal(&s, 5);
		s.flash_mode = (uint8_t)m;
		r = build_parse(&s, NULL, NULL);
		cr_assert_eq(r.rc, ESPIMG_OK);
		cr_expect_eq(r.img->flash_mode, m);
		if (m <= 3)
			expect_no_diags(&r);
		else if (m <= 5)
			expect_diag(&r, "image.flash_mode_idf", ESPIMG_SEV_NOTE, 2);
		else
			expect_diag(&r, "image.flash_mode", ESPIMG_SEV_ERROR, 2);
		done(&r);
		synth_free(&s);
	}
	for (unsigned z = 0; z < 16; z++) {
		synth_image s;
		struct res r;

		minimal(&s, 5);
		s.flash_size_freq = (uint8_t)(z << 4);
		r = build_parse(&s, NULL, NULL);
		cr_assert_eq(r.rc, ESPIMG_OK);
		if (z <= 7)
			expect_no_diags(&r);
		else
			expect_diag(&r, "image.flash_size", ESPIMG_SEV_ERROR, 3);
		done(&r);
		synth_free(&s);
	}
}

/* ------------------------------------------------------------ revisions */

Test(image, rev_text)
{
	static const struct { unsigned v; const char *s; } t[] = {
		{ 0, "v0.0" }, { 3, "v0.3" }, { 99, "v0.99" }, { 100, "v1.0" },
		{ 199, "v1.99" }, { 305, "v3.5" }, { 399, "v3.99" },
		{ 9999, "v99.99" }, { 65535, "v655.35" },
	};
	char out[16];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		espimg_rev_text(t[i].v, out);
		cr_expect_str_eq(out, t[i].s);
	}
}

/* ESP-IDF writes the legacy byte as the major revision on ESP32, the
 * minor one on ESP32-C3 and 0 elsewhere; old images (max_rev_full 0) have
 * only the legacy byte. */
Test(image, min_rev_legacy)
{
	static const struct {
		const char *chip;
		uint8_t legacy;
		uint16_t full, max;
		int warn;
	} t[] = {
		{ "esp32", 3, 300, 399, 0 }, { "esp32", 0, 300, 399, 1 },
		{ "esp32", 1, 105, 399, 0 },
		{ "esp32c3", 3, 3, 199, 0 }, { "esp32c3", 0, 3, 199, 1 },
		{ "esp32c3", 4, 104, 199, 0 },
		{ "esp32s3", 0, 100, 199, 0 }, { "esp32s3", 1, 100, 199, 1 },
		{ "esp32p4", 0, 100, 199, 0 },
		{ "esp32", 3, 0, 0, 0 }, { "esp32s3", 10, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		synth_image s;
		struct res r;

		minimal(&s, sc(t[i].chip)->id);
		s.min_rev = t[i].legacy;
		s.min_rev_full = t[i].full;
		s.max_rev_full = t[i].max;
		r = build_parse(&s, NULL, NULL);
		cr_assert_eq(r.rc, ESPIMG_OK);
		cr_expect_eq(r.img->min_rev, t[i].legacy);
		cr_expect_eq(r.img->min_rev_full, t[i].full);
		cr_expect_eq(r.img->max_rev_full, t[i].max);
		if (t[i].warn)
			expect_diag(&r, "image.min_rev_legacy", ESPIMG_SEV_WARNING, 14);
		else
			expect_no_diags(&r);
		done(&r);
		synth_free(&s);
	}
}

/* ------------------------------------------------------------ header errors */

Test(image, empty_and_magic)
{
	static const uint8_t ff[32] = { 0xFF, 0xFF };
	uint8_t pt[32] = { 0xAA, 0x50 };
	struct res r;

	r = parse((const uint8_t *)"", 0);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_eq(r.img->stage, ESPIMG_STAGE_NONE);
	expect_diag(&r, "image.empty", ESPIMG_SEV_ERROR, 0);
	done(&r);

	r = parse(ff, sizeof(ff));
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_not_null(strstr(expect_diag(&r, "image.magic", ESPIMG_SEV_ERROR, 0)->message, "0xff"));
	done(&r);

	r = parse(pt, sizeof(pt));
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_not_null(strstr(expect_diag(&r, "image.magic", ESPIMG_SEV_ERROR, 0)->message, "partition table"));
	done(&r);
}

Test(image, esp8266)
{
	uint8_t b[64];
	struct res r;

	/* Magic 0xEA: ESP8266 "v2" image. */
	memset(b, 0, sizeof(b));
	b[0] = 0xEA;
	b[12] = 5;
	r = parse(b, sizeof(b));
	cr_expect_eq(r.rc, ESPIMG_EUNSUPPORTED);
	expect_diag(&r, "image.esp8266", ESPIMG_SEV_ERROR, 0);
	cr_expect_eq(r.img->stage, ESPIMG_STAGE_NONE);
	cr_expect_eq(r.img->magic, 0xEA);
	cr_expect_eq(r.img->chip_id, 5); /* decoded all the same */
	cr_expect_null(r.img->chip);
	done(&r);

	/* 0xE9 with an 8-byte header: byte 12 is a segment length byte, byte
	 * 23 segment data. */
	b[0] = 0xE9;
	b[1] = 1;
	b[12] = 0x40;
	b[23] = 0x7C;
	r = parse(b, sizeof(b));
	cr_expect_eq(r.rc, ESPIMG_EUNSUPPORTED);
	expect_diag(&r, "image.esp8266", ESPIMG_SEV_ERROR, 0);
	done(&r);

	/* A chip given by the caller replaces the ESP8266 guess, as esptool
	 * --chip does: decoded as that chip, refused for its byte 23. */
	{
		espimg_image_opts o = { .chip = espimg_chip_by_key("esp32") };

		r = parse_opts(b, sizeof(b), &o);
		cr_expect_eq(r.rc, ESPIMG_EFORMAT);
		expect_diag(&r, "image.chip_mismatch", ESPIMG_SEV_ERROR, 12);
		expect_diag(&r, "image.hash_appended", ESPIMG_SEV_ERROR, 23);
		cr_expect_eq(r.img->chip, o.chip);
		done(&r);
	}

	/* A known chip id at byte 12 by chance, but bytes 8..11 are an
	 * ESP8266 load address (esptool's helloworld-esp8266.bin). */
	memset(b, 0, sizeof(b));
	b[0] = 0xE9;
	b[1] = 2;
	espimg_put_le32(b + 8, 0x40108000);
	b[12] = 0x1C;
	b[23] = 0x40;
	r = parse(b, sizeof(b));
	cr_expect_eq(r.rc, ESPIMG_EUNSUPPORTED);
	cr_expect_eq(r.img->stage, ESPIMG_STAGE_NONE);
	expect_diag(&r, "image.esp8266", ESPIMG_SEV_ERROR, 0);
	done(&r);
	/* The same with an ESP32 extended header: just a bad byte 23. */
	b[8] = 0xEE;
	b[11] = 0;
	r = parse(b, sizeof(b));
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	expect_diag(&r, "image.hash_appended", ESPIMG_SEV_ERROR, 23);
	done(&r);
}

Test(image, header_truncated)
{
	synth_image s;
	uint8_t *b;
	size_t len;

	app_image(&s, sc("esp32c3"));
	b = finish(&s, &len);
	for (size_t n = 1; n < 24; n++) {
		struct res r = parse(b, n);

		cr_expect_eq(r.rc, ESPIMG_EFORMAT, "%zu", n);
		cr_expect_eq(r.img->stage, ESPIMG_STAGE_NONE);
		expect_diag(&r, "image.truncated", ESPIMG_SEV_ERROR, 0);
		/* The bytes present are decoded, the rest read as 0 (a
		 * renderer follows esptool's detection from them). */
		cr_expect_eq(r.img->magic, 0xE9);
		cr_expect_eq(r.img->segment_count, n > 1 ? 3 : 0);
		cr_expect_eq(r.img->chip_id, n > 12 ? 5 : 0, "%zu", n);
		cr_expect_eq(r.img->max_rev_full, n > 18 ? 99 : n > 17 ? 99 & 0xFF : 0);
		cr_expect_eq(r.img->wp_pin, n > 8 ? 0xEE : 0);
		cr_expect_null(r.img->chip);
		done(&r);
	}
	free(b);
	synth_free(&s);
}

Test(image, chip_ids)
{
	synth_image s;
	struct res r;
	uint8_t *b;
	size_t len;

	/* 0x0105: unknown; low byte 5 (C3) used for decoding. */
	app_image(&s, sc("esp32c3"));
	s.chip_id = 0x0105;
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_expect_eq(r.img->chip, espimg_chip_by_id(5));
	cr_expect_eq(r.img->chip_id, 0x0105);
	cr_expect(r.img->has_app_desc);
	expect_diag(&r, "image.chip_id", ESPIMG_SEV_ERROR, 12);
	done(&r);
	synth_free(&s);

	/* Neither the id nor its low byte is known: stop. */
	app_image(&s, sc("esp32c3"));
	s.chip_id = 0x1234;
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_null(r.img->chip);
	cr_expect_eq(r.img->stage, ESPIMG_STAGE_HEADER);
	cr_expect_eq(r.img->chip_id, 0x1234);
	expect_diag(&r, "image.chip_unknown", ESPIMG_SEV_ERROR, 12);
	done(&r);
	synth_free(&s);

	/* ... unless forced. */
	app_image(&s, sc("esp32c3"));
	s.chip_id = 0x00FF;
	b = finish(&s, &len);
	{
		espimg_image_opts o = { .chip = espimg_chip_by_key("esp32c3") };

		r = parse_opts(b, len, &o);
		cr_expect_eq(r.rc, ESPIMG_OK);
		cr_expect(r.img->chip_forced);
		cr_expect(r.img->has_app_desc);
		expect_diag(&r, "image.chip_mismatch", ESPIMG_SEV_ERROR, 12);
		done(&r);
	}
	free(b);
	synth_free(&s);

	/* Forced chip that differs from a known header id. */
	app_image(&s, sc("esp32c3"));
	b = finish(&s, &len);
	{
		espimg_image_opts o = { .chip = espimg_chip_by_key("esp32s3") };

		r = parse_opts(b, len, &o);
		cr_expect_eq(r.rc, ESPIMG_OK);
		cr_expect_eq(r.img->chip, espimg_chip_by_key("esp32s3"));
		expect_diag(&r, "image.chip_mismatch", ESPIMG_SEV_ERROR, 12);
		/* C3's DROM is DROM on S3 too; the description is found. */
		cr_expect(r.img->has_app_desc);
		done(&r);

		o.chip = espimg_chip_by_key("esp32c3");
		r = parse_opts(b, len, &o);
		expect_no_diags(&r);
		cr_expect(r.img->chip_forced);
		done(&r);
	}
	free(b);
	synth_free(&s);
}

Test(image, hash_appended_byte)
{
	synth_image s;
	struct res r;

	for (unsigned v = 2; v < 256; v += 85) {
		synth_init(&s, 5);
		s.hash_appended = (uint8_t)v;
		r = build_parse(&s, NULL, NULL);
		cr_expect_eq(r.rc, ESPIMG_EFORMAT);
		cr_expect_eq(r.img->hash_appended, v);
		expect_diag(&r, "image.hash_appended", ESPIMG_SEV_ERROR, 23);
		done(&r);
		synth_free(&s);
	}
	/* hash_appended 0: no digest, the image ends at the checksum. */
	app_image(&s, sc("esp32"));
	s.hash_appended = 0;
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	expect_no_diags(&r);
	cr_expect_not(r.img->has_sha256);
	cr_expect_eq(r.img->image_size, s.checksum_offset + 1);
	done(&r);
	synth_free(&s);
}

Test(image, entry_and_reserved)
{
	synth_image s;
	struct res r;

	minimal(&s, 9);
	s.entry = 0;
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	expect_diag(&r, "image.entry", ESPIMG_SEV_ERROR, 4);
	done(&r);
	synth_free(&s);

	minimal(&s, 9);
	s.reserved[2] = 0x5A;
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	expect_diag(&r, "image.reserved", ESPIMG_SEV_WARNING, 19);
	cr_expect_eq(espimg_diag_errors(r.d), 0);
	cr_expect_eq(r.img->reserved[2], 0x5A);
	done(&r);
	synth_free(&s);
}

/* ------------------------------------------------------------ segments */

Test(image, segment_warnings)
{
	const synth_chip *c = sc("esp32c3");
	synth_image s;
	struct res r;
	const espimg_diag *d;

	synth_init(&s, c->id);
	synth_add_fill(&s, c->dram, 13, SYNTH_FILL_COUNT, 0);  /* odd length */
	synth_add_fill(&s, 0x12345678, 8, SYNTH_FILL_ZERO, 0);  /* nowhere */
	synth_add_fill(&s, 0x100, 8, SYNTH_FILL_ZERO, 0);       /* PADDING only */
	synth_add_fill(&s, 0, 16, SYNTH_FILL_ZERO, 0);          /* padding */
	synth_add(&s, c->iram, NULL, 0);                        /* empty */
	r = build_parse(&s, NULL, NULL);
	cr_assert_eq(r.rc, ESPIMG_OK);
	expect_no_errors(&r);
	d = expect_diag(&r, "image.segment_align", ESPIMG_SEV_WARNING, 0x18 + 4);
	cr_expect_not_null(strstr(d->message, "13 bytes"), "%s", d->message);
	cr_expect_eq(fx_diag_count(r.d, "image.segment_addr", -1), 2);
	expect_diag(&r, "image.segment_addr", ESPIMG_SEV_WARNING,
		    (int64_t)s.seg[1].header_offset);
	cr_expect_eq(r.img->segments[1].mem_type_count, 0);
	cr_expect_eq(r.img->segments[3].mem_type_count, 1);
	cr_expect_str_eq(r.img->segments[3].mem_types[0], "PADDING");
	cr_expect_eq(r.img->segments[4].length, 0);
	/* Next header follows the real (unpadded) length. */
	cr_expect_eq(r.img->segments[1].header_offset, 0x18 + 8 + 13);
	cr_expect_eq(r.img->checksum_computed, s.checksum);
	done(&r);
	synth_free(&s);
}

static void tiny_segments(synth_image *s, unsigned n)
{
	synth_init(s, 5);
	for (unsigned i = 0; i < n; i++)
		synth_add_fill(s, 0x3FC88000 + 16 * i, 4, SYNTH_FILL_COUNT, i);
}

Test(image, segment_counts)
{
	synth_image s;
	struct res r;
	const espimg_diag *d;

	/* 0: the checksum is at 0x1f and the digest at 0x20. */
	synth_init(&s, 5);
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	expect_diag(&r, "image.no_segments", ESPIMG_SEV_ERROR, 1);
	cr_expect_eq(r.img->checksum_offset, 0x1F);
	cr_expect_eq(r.img->checksum_computed, 0xEF);
	cr_expect(r.img->checksum_ok);
	cr_expect_eq(r.img->sha256_offset, 0x20);
	cr_expect(r.img->sha256_ok);
	done(&r);
	synth_free(&s);

	tiny_segments(&s, 16);
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	expect_no_diags(&r);
	cr_expect_eq(r.img->nsegments, 16);
	done(&r);
	synth_free(&s);

	/* 17 and 255: every segment read, then the count reported. */
	tiny_segments(&s, 17);
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_expect_eq(r.img->nsegments, 17);
	cr_expect_eq(r.img->stage, ESPIMG_STAGE_COMPLETE);
	cr_expect(r.img->checksum_ok && r.img->sha256_ok);
	d = expect_diag(&r, "image.segment_count", ESPIMG_SEV_ERROR, 1);
	cr_expect_not_null(strstr(d->message, "17"));
	done(&r);
	synth_free(&s);

	tiny_segments(&s, 255);
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_expect_eq(r.img->nsegments, 255);
	cr_expect_eq(r.img->segments[254].load_addr, 0x3FC88000 + 16 * 254);
	cr_expect(r.img->checksum_ok && r.img->sha256_ok);
	expect_diag(&r, "image.segment_count", ESPIMG_SEV_ERROR, 1);
	done(&r);
	synth_free(&s);

	/* 255 declared, 2 present: the end of the file comes first (esptool
	 * fails there too), and the message points at the count. */
	tiny_segments(&s, 2);
	s.segment_count = 255;
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_null(fx_diag_find(r.d, "image.segment_count", -1));
	cr_expect_geq(r.img->nsegments, 2);
	cr_assert_eq(espimg_diag_count(r.d), 1);
	d = espimg_diag_get(r.d, 0);
	cr_expect(!strcmp(d->code, "image.segment_past_eof") ||
		  !strcmp(d->code, "image.truncated"), "%s", d->code);
	cr_expect_not_null(strstr(d->message, "limit of 16"), "%s", d->message);
	done(&r);
	synth_free(&s);
}

Test(image, length_ffffffff)
{
	const synth_chip *c = sc("esp32c3");
	synth_image s;
	uint8_t *b;
	size_t len;
	struct res r;
	const espimg_diag *d;
	char want[160];

	app_image(&s, c);
	synth_set_length_field(&s, 0, 0xFFFFFFFFu);
	r = build_parse(&s, &b, &len);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_eq(r.img->stage, ESPIMG_STAGE_HEADER);
	d = expect_diag(&r, "image.segment_past_eof", ESPIMG_SEV_ERROR, 0x18);
	snprintf(want, sizeof(want),
		 "segment 0 (load address 0x%08x) is 4294967295 bytes but only %zu remain after its header at 0x18",
		 c->drom, len - 0x20);
	cr_expect_str_eq(d->message, want);
	cr_expect_eq(r.img->nsegments, 1);
	cr_expect_eq(r.img->segments[0].length, 0xFFFFFFFFu);
	done(&r);
	free(b);
	synth_free(&s);
}

/* ------------------------------------------------------------ footer */

Test(image, checksum_and_digest)
{
	const synth_chip *c = sc("esp32");
	synth_image s;
	uint8_t *b;
	size_t len;
	struct res r;
	const espimg_diag *d;

	app_image(&s, c);
	s.bad_checksum = true;
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_expect_not(r.img->checksum_ok);
	cr_expect_eq(r.img->checksum_stored, (uint8_t)(s.checksum ^ 0xFF));
	cr_expect_eq(r.img->checksum_computed, s.checksum);
	expect_diag(&r, "image.checksum", ESPIMG_SEV_ERROR, (int64_t)s.checksum_offset);
	/* The synthesiser hashed the stored (wrong) byte: digest valid. */
	cr_expect(r.img->sha256_ok);
	done(&r);
	synth_free(&s);

	app_image(&s, c);
	s.bad_digest = true;
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_expect(r.img->checksum_ok);
	cr_expect_not(r.img->sha256_ok);
	cr_expect_arr_eq(r.img->sha256_computed, s.digest, 32);
	d = expect_diag(&r, "image.sha256", ESPIMG_SEV_ERROR, (int64_t)s.digest_offset);
	cr_expect_null(fx_diag_find(r.d, "image.checksum", -1));
	cr_expect_eq(espimg_diag_errors(r.d), 1, "%s", d->message);
	done(&r);
	synth_free(&s);

	/* A header patch breaks the digest, never the checksum. */
	app_image(&s, c);
	r = build_parse(&s, &b, &len);
	done(&r);
	b[3] = 0x3F;
	r = parse(b, len);
	cr_expect(r.img->checksum_ok);
	cr_expect_not(r.img->sha256_ok);
	done(&r);
	/* Two flips with the same mask cancel in the checksum only. */
	b[3] = s.flash_size_freq;
	b[s.seg[2].data_offset + 10] ^= 0x11;
	b[s.seg[2].data_offset + 99] ^= 0x11;
	r = parse(b, len);
	cr_expect(r.img->checksum_ok);
	cr_expect_not(r.img->sha256_ok);
	done(&r);
	/* One flip breaks both. */
	b[s.seg[2].data_offset + 99] ^= 0x11;
	r = parse(b, len);
	cr_expect_not(r.img->checksum_ok);
	cr_expect_not(r.img->sha256_ok);
	done(&r);
	free(b);
	synth_free(&s);
}

/* The checksum always ends a 16-byte block, for every end position. */
Test(image, checksum_position)
{
	for (size_t n = 0; n < 40; n++) {
		synth_image s;
		struct res r;

		synth_init(&s, 5);
		synth_add_fill(&s, 0x3FC88000, n, SYNTH_FILL_RANDOM, (uint32_t)n);
		r = build_parse(&s, NULL, NULL);
		cr_assert_eq(r.rc, ESPIMG_OK);
		cr_expect_eq(r.img->checksum_offset, s.checksum_offset);
		cr_expect_eq(r.img->checksum_offset, (0x20 + n) | 15);
		cr_expect(r.img->checksum_ok, "%zu", n);
		cr_expect(r.img->sha256_ok, "%zu", n);
		done(&r);
		synth_free(&s);
	}
}

/* Checksum speed path: word-at-a-time XOR agrees with bytes for every
 * alignment and length. */
Test(image, checksum_unaligned)
{
	uint8_t data[300];

	synth_fill_bytes(data, sizeof(data), SYNTH_FILL_RANDOM, 99);
	for (size_t off = 0; off < 9; off++) {
		for (size_t n = 0; n + off <= sizeof(data); n += 7) {
			synth_image s;
			struct res r;

			synth_init(&s, 5);
			synth_add(&s, 0x3FC88000, data + off, n);
			r = build_parse(&s, NULL, NULL);
			cr_assert(r.img->checksum_ok, "off %zu len %zu", off, n);
			done(&r);
			synth_free(&s);
		}
	}
}

/* ------------------------------------------------------------ truncation */

/* The expected outcome for an image cut to n bytes. */
static void check_cut(const synth_image *s, const uint8_t *b, size_t n)
{
	struct res r = parse(b, n);
	size_t ck = s->checksum_offset;

	if (n == 0) {
		expect_diag(&r, "image.empty", ESPIMG_SEV_ERROR, 0);
	} else if (n < 24) {
		cr_expect_eq(r.rc, ESPIMG_EFORMAT, "%zu", n);
		expect_diag(&r, "image.truncated", ESPIMG_SEV_ERROR, 0);
	} else if (n <= ck) {
		size_t i;

		cr_expect_eq(r.rc, ESPIMG_EFORMAT, "cut at %zu", n);
		for (i = 0; i < s->nseg; i++) {
			const synth_segment *g = &s->seg[i];

			if (n < g->data_offset) {
				expect_diag(&r, "image.truncated", ESPIMG_SEV_ERROR,
					    (int64_t)g->header_offset);
				cr_expect_eq(r.img->nsegments, i);
				break;
			}
			if (n < g->data_offset + g->len) {
				expect_diag(&r, "image.segment_past_eof",
					    ESPIMG_SEV_ERROR,
					    (int64_t)g->header_offset);
				cr_expect_eq(r.img->nsegments, i + 1);
				break;
			}
		}
		if (i == s->nseg) {
			expect_diag(&r, "image.truncated", ESPIMG_SEV_ERROR, (int64_t)ck);
			cr_expect_eq(r.img->stage, ESPIMG_STAGE_SEGMENTS);
		}
		cr_expect_eq(espimg_diag_errors(r.d), 1, "cut at %zu", n);
	} else if (n < ck + 33) {
		cr_expect_eq(r.rc, ESPIMG_OK, "cut at %zu", n);
		cr_expect(r.img->checksum_ok);
		cr_expect_eq(r.img->sha256_stored_len, n - ck - 1);
		expect_diag(&r, "image.sha256_truncated", ESPIMG_SEV_ERROR,
			    (int64_t)ck + 1);
		cr_expect_not(r.img->sha256_ok);
	} else {
		cr_expect_eq(r.rc, ESPIMG_OK, "cut at %zu", n);
		expect_no_errors(&r);
	}
	done(&r);
}

/* Every length of a small image: every structure boundary and +-1. */
Test(image, truncate_every_length)
{
	const synth_chip *c = sc("esp32c3");
	synth_image s;
	uint8_t *b, *cut;
	size_t len;

	app_image(&s, c);
	synth_add_fill(&s, c->dram, 13, SYNTH_FILL_RANDOM, 3);
	b = finish(&s, &len);
	for (size_t n = 0; n <= len; n++) {
		/* A copy of exactly n bytes, so ASan sees any overread. */
		cut = malloc(n ? n : 1);
		cr_assert_not_null(cut);
		memcpy(cut, b, n);
		check_cut(&s, cut, n);
		free(cut);
	}
	free(b);
	synth_free(&s);
}

/* A signed image cut around the signature sector and its blocks. */
Test(image, truncate_signed)
{
	const synth_chip *c = sc("esp32s3");
	synth_sig sg[2] = { { .version = 2 }, { .version = 3, .curve = 2 } };
	synth_image s;
	uint8_t *b;
	size_t len, sector, cuts[16], k = 0;

	app_image(&s, c);
	b = finish(&s, &len);
	sector = (len + 4095) & ~(size_t)4095;
	cr_assert_eq(synth_sign_v2(&b, &len, sg, 2), 0);
	cr_assert_eq(len, sector + 4096);
	cuts[k++] = s.image_size - 1;
	cuts[k++] = s.image_size;
	cuts[k++] = s.image_size + 1;
	cuts[k++] = sector;
	cuts[k++] = sector + 1216;
	cuts[k++] = sector + 4095;
	cuts[k++] = sector + 4096;
	for (size_t i = 0; i < k; i++) {
		uint8_t *cut = malloc(cuts[i]);
		struct res r;

		memcpy(cut, b, cuts[i]);
		r = parse(cut, cuts[i]);
		cr_expect_eq(r.rc, ESPIMG_OK);
		cr_expect_eq(r.img->nsig, cuts[i] == len ? 2 : 0, "cut %zu", cuts[i]);
		done(&r);
		free(cut);
	}
	free(b);
	synth_free(&s);
}

/* ------------------------------------------------------------ descriptors */

static int add_app_desc(synth_image *s, uint32_t addr, size_t len,
			const char *project)
{
	espimg_app_desc a;
	uint8_t raw[512];

	cr_assert_leq(len, sizeof(raw));
	memset(raw, 0, sizeof(raw));
	synth_app_desc_init(&a, project, "1.0");
	synth_app_desc_bytes(&a, raw);
	return synth_add(s, addr, raw, len);
}

static int add_boot_desc(synth_image *s, uint32_t addr, size_t len,
			 uint32_t version)
{
	espimg_boot_desc d;
	uint8_t raw[256];

	memset(raw, 0, sizeof(raw));
	synth_boot_desc_init(&d, version);
	synth_boot_desc_bytes(&d, raw);
	return synth_add(s, addr, raw, len);
}

Test(image, descriptor_rules)
{
	const synth_chip *c = sc("esp32c3");
	synth_image s;
	struct res r;
	const espimg_diag *d;

	/* First DROM is the candidate; a second DROM with a description is
	 * not looked at. */
	synth_init(&s, c->id);
	synth_add_fill(&s, c->drom, 256, SYNTH_FILL_ZERO, 0);
	add_app_desc(&s, c->drom + 0x10000, 256, "second");
	r = build_parse(&s, NULL, NULL);
	expect_no_diags(&r);
	cr_expect_not(r.img->has_app_desc);
	cr_expect_eq(r.img->kind, ESPIMG_KIND_UNKNOWN);
	done(&r);
	synth_free(&s);

	/* A DROM segment without the magic hides a bootloader description. */
	synth_init(&s, c->id);
	add_boot_desc(&s, c->dram, 80, 1);
	synth_add_fill(&s, c->drom, 256, SYNTH_FILL_RANDOM, 1);
	r = build_parse(&s, NULL, NULL);
	cr_expect_not(r.img->has_boot_desc);
	cr_expect_not(r.img->has_app_desc);
	done(&r);
	synth_free(&s);

	/* An empty DROM segment does not. */
	synth_init(&s, c->id);
	synth_add(&s, c->drom, NULL, 0);
	add_boot_desc(&s, c->dram, 80, 1);
	r = build_parse(&s, NULL, NULL);
	expect_no_diags(&r);
	cr_expect(r.img->has_boot_desc);
	cr_expect_eq(r.img->boot_desc.segment, 1);
	done(&r);
	synth_free(&s);

	/* The last DRAM segment of >= 80 bytes wins; shorter ones are not
	 * candidates (and say nothing). */
	synth_init(&s, c->id);
	add_boot_desc(&s, c->dram, 80, 1);
	add_boot_desc(&s, c->dram + 0x1000, 120, 2);
	add_boot_desc(&s, c->dram + 0x2000, 76, 3);
	r = build_parse(&s, NULL, NULL);
	expect_no_diags(&r);
	cr_assert(r.img->has_boot_desc);
	cr_expect_eq(r.img->boot_desc.version, 2);
	cr_expect_eq(r.img->boot_desc.segment, 1);
	cr_expect_eq(r.img->boot_desc.offset, s.seg[1].data_offset);
	done(&r);
	synth_free(&s);

	/* ... and when it lacks the magic, there is none. */
	synth_init(&s, c->id);
	add_boot_desc(&s, c->dram, 80, 1);
	synth_add_fill(&s, c->dram + 0x1000, 80, SYNTH_FILL_ZERO, 0);
	r = build_parse(&s, NULL, NULL);
	cr_expect_not(r.img->has_boot_desc);
	cr_expect_eq(r.img->kind, ESPIMG_KIND_UNKNOWN);
	done(&r);
	synth_free(&s);

	/* Short DROM with the magic: error; without: a note. */
	synth_init(&s, c->id);
	add_app_desc(&s, c->drom, 32, "short");
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_expect_not(r.img->has_app_desc);
	d = expect_diag(&r, "image.app_desc_short", ESPIMG_SEV_ERROR, 0x20);
	cr_expect_not_null(strstr(d->message, "32 bytes"), "%s", d->message);
	done(&r);
	synth_free(&s);

	synth_init(&s, c->id);
	synth_add_fill(&s, c->drom, 100, SYNTH_FILL_ZERO, 0);
	add_boot_desc(&s, c->dram, 80, 1);
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(espimg_diag_errors(r.d), 0);
	expect_diag(&r, "image.drom_short", ESPIMG_SEV_NOTE, 0x20);
	cr_expect_not(r.img->has_boot_desc);
	done(&r);
	synth_free(&s);

	/* 253..255 bytes are padded to 256 by esptool: still a description. */
	synth_init(&s, c->id);
	add_app_desc(&s, c->drom, 253, "padded");
	r = build_parse(&s, NULL, NULL);
	cr_expect(r.img->has_app_desc);
	cr_expect_str_eq((const char *)r.img->app_desc.project_name, "padded");
	expect_diag(&r, "image.segment_align", ESPIMG_SEV_WARNING, 0x18 + 4);
	done(&r);
	synth_free(&s);

	/* A DRAM-typed segment of 77 bytes is padded to 80: a candidate. */
	synth_init(&s, c->id);
	add_boot_desc(&s, c->dram, 77, 4);
	r = build_parse(&s, NULL, NULL);
	cr_expect(r.img->has_boot_desc);
	cr_expect_eq(r.img->boot_desc.version, 4);
	done(&r);
	synth_free(&s);
}

Test(image, descriptor_utf8)
{
	const synth_chip *c = sc("esp32c3");
	espimg_app_desc a;
	espimg_boot_desc bd;
	synth_image s;
	uint8_t raw[256];
	struct res r;
	const espimg_diag *d;

	synth_init(&s, c->id);
	synth_add_fill(&s, c->iram, 64, SYNTH_FILL_ZERO, 0);
	synth_app_desc_init(&a, "ok", "1.0");
	a.idf_ver[5] = 0xFF;       /* invalid byte after text */
	a.project_name[20] = 0xC3; /* after the NUL: esptool decodes it too */
	synth_app_desc_bytes(&a, raw);
	synth_add(&s, c->drom, raw, 256);
	r = build_parse(&s, NULL, NULL);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_expect(r.img->has_app_desc);
	cr_expect_eq(fx_diag_count(r.d, "image.desc_utf8", ESPIMG_SEV_ERROR), 2);
	d = expect_diag(&r, "image.desc_utf8", ESPIMG_SEV_ERROR,
			(int64_t)s.seg[1].data_offset + 48);
	cr_expect_not_null(strstr(d->message, "project_name"), "%s", d->message);
	done(&r);
	synth_free(&s);

	/* NULs are fine anywhere; well-formed multibyte text too. */
	synth_init(&s, c->id);
	synth_app_desc_init(&a, "caf\xc3\xa9", "\xe2\x82\xac" "1");
	a.version[10] = 'x';
	synth_app_desc_bytes(&a, raw);
	synth_add(&s, c->drom, raw, 256);
	r = build_parse(&s, NULL, NULL);
	expect_no_diags(&r);
	done(&r);
	synth_free(&s);

	synth_init(&s, c->id);
	synth_boot_desc_init(&bd, 1);
	bd.date_time[0] = 0x80;
	synth_boot_desc_bytes(&bd, raw);
	synth_add(&s, c->dram, raw, 80);
	r = build_parse(&s, NULL, NULL);
	cr_expect(r.img->has_boot_desc);
	expect_diag(&r, "image.desc_utf8", ESPIMG_SEV_ERROR, 0x20 + 40);
	done(&r);
	synth_free(&s);
}

Test(image, desc_text)
{
	static const uint8_t f[8] = { 'a', 'b', 0, 'c', 0, 0, 'd', 'e' };
	char out[16];

	cr_expect_eq(espimg_desc_text(f, 8, ESPIMG_DESC_CSTRING, out, sizeof(out)), 2);
	cr_expect_str_eq(out, "ab");
	cr_expect_eq(espimg_desc_text(f, 8, ESPIMG_DESC_STRIP_NUL, out, sizeof(out)), 5);
	cr_expect_str_eq(out, "abcde");
	cr_expect_eq(espimg_desc_text(f, 8, ESPIMG_DESC_STRIP_NUL, out, 3), 5);
	cr_expect_str_eq(out, "ab");
	cr_expect_eq(espimg_desc_text(f, 8, ESPIMG_DESC_STRIP_NUL, NULL, 0), 5);
	/* Unterminated full-width field. */
	cr_expect_eq(espimg_desc_text((const uint8_t *)"12345678", 8,
				      ESPIMG_DESC_CSTRING, out, sizeof(out)), 8);
	cr_expect_str_eq(out, "12345678");
}

Test(image, utf8_valid)
{
	static const struct { const char *s; int ok; } t[] = {
		{ "", 1 }, { "abc", 1 }, { "\xc3\xa9", 1 }, { "\xe2\x82\xac", 1 },
		{ "\xf0\x9f\x98\x80", 1 }, { "\xf4\x8f\xbf\xbf", 1 },
		{ "\xff", 0 }, { "\x80", 0 }, { "\xc3", 0 }, { "\xc0\xaf", 0 },
		{ "\xc1\xbf", 0 }, { "\xe0\x80\xaf", 0 }, { "\xed\xa0\x80", 0 },
		{ "\xf0\x80\x80\xaf", 0 }, { "\xf4\x90\x80\x80", 0 },
		{ "\xf5\x80\x80\x80", 0 }, { "\xe2\x82", 0 }, { "a\xc3(", 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_expect_eq(espimg_utf8_valid((const uint8_t *)t[i].s, strlen(t[i].s)),
			     t[i].ok, "case %zu", i);
	/* NUL is a valid character. */
	cr_expect(espimg_utf8_valid((const uint8_t *)"a\0b", 3));
}

/* ------------------------------------------------------------ offset */

Test(image, offset_in_larger_source)
{
	const synth_chip *c = sc("esp32");
	synth_image s;
	uint8_t *b, *big;
	size_t len, base = 0x10000;
	espimg_image_opts o = { .offset = 0x10000, .file = "flash.bin" };
	struct res r;
	const espimg_diag *d;

	app_image(&s, c);
	s.bad_checksum = true;
	b = finish(&s, &len);
	big = malloc(base + len + 0x3000);
	memset(big, 0xFF, base + len + 0x3000);
	memcpy(big + base, b, len);
	r = parse_opts(big, base + len + 0x3000, &o);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_expect_eq(r.img->offset, base);
	cr_expect_eq(r.img->source_size, len + 0x3000);
	cr_expect_eq(r.img->segments[0].header_offset, 0x18);
	cr_expect_eq(r.img->checksum_offset, s.checksum_offset);
	cr_expect(r.img->sha256_ok);
	d = expect_diag(&r, "image.checksum", ESPIMG_SEV_ERROR,
			(int64_t)(base + s.checksum_offset));
	cr_expect_str_eq(d->file, "flash.bin");
	cr_expect(r.img->has_app_desc);
	cr_expect_eq(r.img->app_desc.offset, 0x20);
	/* 0xFF after the image is no signature. */
	cr_expect_eq(r.img->nsig, 0);
	cr_expect_not(r.img->has_sig_v1);
	done(&r);

	/* Past the end of the source. */
	o.offset = base + len + 0x3000;
	r = parse_opts(big, base + len + 0x3000, &o);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	expect_diag(&r, "image.empty", ESPIMG_SEV_ERROR, (int64_t)o.offset);
	done(&r);
	o.offset = UINT64_MAX;
	r = parse_opts(big, base + len + 0x3000, &o);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	done(&r);

	/* Truncation offsets are absolute too. */
	o.offset = base;
	r = parse_opts(big, base + s.seg[1].data_offset + 5, &o);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	expect_diag(&r, "image.segment_past_eof", ESPIMG_SEV_ERROR,
		    (int64_t)(base + s.seg[1].header_offset));
	done(&r);
	free(big);
	free(b);
	synth_free(&s);
}

/* ------------------------------------------------------------ signatures */

Test(image, signatures_v2)
{
	const synth_chip *c = sc("esp32c6");
	synth_sig sg[3] = {
		{ .version = 2, .seed = 1 },
		{ .version = 3, .curve = 3, .seed = 2 },
		{ .version = 3, .curve = 2, .bad_crc = true, .seed = 3 },
	};
	synth_image s;
	uint8_t *b;
	size_t len, sector;
	struct res r;

	app_image(&s, c);
	b = finish(&s, &len);
	sector = (len + 4095) & ~(size_t)4095;
	cr_assert_eq(synth_sign_v2(&b, &len, sg, 3), 0);
	r = parse(b, len);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_assert_eq(r.img->nsig, 3);
	cr_expect_eq(r.img->sig_sector_offset, sector);
	cr_expect_eq(r.img->sig[0].type, ESPIMG_SIG_RSA3072);
	cr_expect(r.img->sig[0].valid);
	cr_expect_eq(r.img->sig[1].type, ESPIMG_SIG_ECDSA_P384);
	cr_expect(r.img->sig[1].valid);
	cr_expect_not(r.img->sig[2].valid);
	cr_expect_eq(r.img->sig[2].offset, sector + 2 * 1216);
	expect_diag(&r, "image.sig_block", ESPIMG_SEV_WARNING,
		    (int64_t)(sector + 2 * 1216));
	cr_expect_eq(espimg_diag_errors(r.d), 0);
	cr_expect_not(r.img->has_sig_v1);
	done(&r);
	free(b);
	synth_free(&s);

	/* Inside a larger source: block offsets are absolute. */
	app_image(&s, c);
	b = finish(&s, &len);
	cr_assert_eq(synth_sign_v2(&b, &len, sg, 1), 0);
	{
		uint8_t *big = calloc(1, 0x2000 + len);
		espimg_image_opts o = { .offset = 0x2000 };

		memcpy(big + 0x2000, b, len);
		r = parse_opts(big, 0x2000 + len, &o);
		cr_assert_eq(r.img->nsig, 1);
		cr_expect_eq(r.img->sig_sector_offset, sector);
		cr_expect_eq(r.img->sig[0].offset, 0x2000 + sector);
		done(&r);
		free(big);
	}
	free(b);
	synth_free(&s);

	/* A block with magic 0xE6 and a CRC over it: the sector is
	 * recognised by the CRC, the block reported invalid. */
	app_image(&s, c);
	b = finish(&s, &len);
	sg[0].magic = 0xE6;
	cr_assert_eq(synth_sign_v2(&b, &len, sg, 1), 0);
	r = parse(b, len);
	cr_assert_eq(r.img->nsig, 1);
	cr_expect_not(r.img->sig[0].valid);
	expect_diag(&r, "image.sig_block", ESPIMG_SEV_WARNING, (int64_t)sector);
	done(&r);
	free(b);
	synth_free(&s);
}

Test(image, signatures_v1)
{
	synth_image s;
	uint8_t *b;
	size_t len, ilen;
	struct res r;

	app_image(&s, sc("esp32"));
	b = finish(&s, &len);
	ilen = len;
	cr_assert_eq(synth_append_sig_v1(&b, &len, 5), 0);
	r = parse(b, len);
	cr_expect(r.img->has_sig_v1);
	cr_expect_eq(r.img->sig_v1_offset, ilen);
	cr_expect_eq(r.img->sig_v1_version, 0);
	cr_expect_eq(r.img->nsig, 0);
	expect_no_diags(&r);
	done(&r);
	/* One byte short: none. */
	r = parse(b, len - 1);
	cr_expect_not(r.img->has_sig_v1);
	done(&r);
	/* More data after it (a dump, the next partition): not a trailer. */
	{
		uint8_t *more = malloc(len + 100);
		cr_assert_not_null(more);
		memcpy(more, b, len);
		memset(more + len, 0x5A, 100);
		r = parse(more, len + 100);
		cr_expect_not(r.img->has_sig_v1);
		done(&r);
		free(more);
	}
	/* Version word not 0: reported, with a warning at the trailer. */
	b[ilen] = 1;
	r = parse(b, len);
	cr_expect(r.img->has_sig_v1);
	cr_expect_eq(r.img->sig_v1_version, 1);
	expect_diag(&r, "image.sig_v1_version", ESPIMG_SEV_WARNING,
		    (int64_t)ilen);
	done(&r);
	/* A version word that is not a small number: not a trailer. */
	b[ilen + 3] = 0x80;
	r = parse(b, len);
	cr_expect_not(r.img->has_sig_v1);
	done(&r);
	b[ilen] = 0;
	b[ilen + 3] = 0;
	/* An erased signature: none. */
	memset(b + ilen + 4, 0xFF, 64);
	r = parse(b, len);
	cr_expect_not(r.img->has_sig_v1);
	done(&r);
	free(b);
	synth_free(&s);

	/* ESP32 only. */
	app_image(&s, sc("esp32c3"));
	b = finish(&s, &len);
	cr_assert_eq(synth_append_sig_v1(&b, &len, 5), 0);
	r = parse(b, len);
	cr_expect_not(r.img->has_sig_v1);
	done(&r);
	free(b);
	synth_free(&s);
}

/* ------------------------------------------------------------ sources */

struct chunky {
	const uint8_t *buf;
	size_t len;      /* what the source really has */
	int fail_at;     /* read call number that fails; 0 never */
	int calls;
	size_t max_req;
};

static int chunky_read(void *ctx, uint64_t off, void *buf, size_t len,
		       size_t *got)
{
	struct chunky *c = ctx;

	c->calls++;
	if (len > c->max_req)
		c->max_req = len;
	if (c->fail_at && c->calls >= c->fail_at)
		return ESPIMG_EIO;
	*got = off < c->len ? (c->len - off < len ? c->len - off : len) : 0;
	memcpy(buf, c->buf + off, *got);
	return 0;
}

Test(image, source_failures)
{
	const synth_chip *c = sc("esp32c3");
	synth_image s;
	uint8_t *b;
	size_t len;
	struct chunky ck = { 0 };
	espimg_source src = { chunky_read, &ck, 0 };
	espimg_image *img;
	espimg_diag_list *d = espimg_diag_list_new();

	synth_init(&s, c->id);
	synth_add_fill(&s, c->irom, 3u << 20, SYNTH_FILL_RANDOM, 1);
	b = finish(&s, &len);
	ck.buf = b;
	ck.len = len;
	src.size = len;
	cr_expect_eq(espimg_image_read(&src, NULL, &img, d), ESPIMG_OK);
	cr_expect(img->sha256_ok);
	/* Bounded reads, never the segment length. */
	cr_expect_leq(ck.max_req, 256u * 1024u);
	cr_expect_gt(ck.calls, 3);
	espimg_image_free(img);

	ck.calls = 0;
	ck.fail_at = 3;
	cr_expect_eq(espimg_image_read(&src, NULL, &img, d), ESPIMG_EIO);
	cr_expect_not_null(img);
	espimg_image_free(img);

	/* The source claims more than it has: an ordinary truncation. */
	ck.calls = 0;
	ck.fail_at = 0;
	ck.len = len / 2;
	espimg_diag_clear(d);
	cr_expect_eq(espimg_image_read(&src, NULL, &img, d), ESPIMG_EFORMAT);
	cr_expect_not_null(fx_diag_find(d, "image.segment_past_eof", ESPIMG_SEV_ERROR));
	espimg_image_free(img);

	/* Without a diagnostics list. */
	cr_expect_eq(espimg_image_read(&src, NULL, &img, NULL), ESPIMG_EFORMAT);
	espimg_image_free(img);
	espimg_diag_list_free(d);
	free(b);
	synth_free(&s);
}

/* ------------------------------------------------------------ corpus */

static char *slurp_text(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (espimg_read_file(path, 1u << 20, &buf, &len) != 0)
		return NULL;
	return (char *)buf;
}

/* Compares one image with esptool 5.3.1's image-info text; returns the
 * number of mismatches (described on stderr). */
static int compare_with_esptool(const char *name, const uint8_t *buf,
				size_t len, const char *txt)
{
	struct res r = parse(buf, len);
	const char *p = strstr(txt, "Segments Information");
	unsigned seg = 0;
	int bad = 0;
	char line[512];

#define MISMATCH(...) do { fprintf(stderr, "%s: ", name); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); bad++; } while (0)

	if (r.rc != ESPIMG_OK)
		MISMATCH("rc %d", r.rc);
	if (!p) {
		MISMATCH("no segment table in the expected text");
		done(&r);
		return bad;
	}
	p = strstr(p, "------------\n");
	p = p ? p + 13 : "";
	while (*p && *p != '\n') {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		unsigned idx, plen, addr, offs;
		int used = 0;
		char types[400];

		memcpy(line, p, n < sizeof(line) ? n : sizeof(line) - 1);
		line[n < sizeof(line) ? n : sizeof(line) - 1] = '\0';
		if (sscanf(line, "%u 0x%x 0x%x 0x%x%n", &idx, &plen, &addr, &offs,
			   &used) != 4) {
			MISMATCH("unreadable row '%s'", line);
			break;
		}
		snprintf(types, sizeof(types), "%s", line + used + (line[used] ? 2 : 0));
		if (idx >= r.img->nsegments) {
			MISMATCH("segment %u missing", idx);
		} else {
			const espimg_image_segment *g = &r.img->segments[idx];
			char ours[400] = "";
			uint64_t pl = g->load_addr ? ((uint64_t)g->length + 3) & ~3ull
						   : g->length;

			for (size_t k = 0; k < g->mem_type_count; k++) {
				if (k)
					strcat(ours, ", ");
				strcat(ours, g->mem_types[k]);
			}
			if (pl != plen || g->load_addr != addr ||
			    g->header_offset != offs || strcmp(ours, types))
				MISMATCH("segment %u: ours %#llx %#x %#llx '%s', esptool %#x %#x %#x '%s'",
					 idx, (unsigned long long)pl, g->load_addr,
					 (unsigned long long)g->header_offset, ours,
					 plen, addr, offs, types);
		}
		seg++;
		p = e ? e + 1 : p + n;
	}
	if (seg != r.img->nsegments)
		MISMATCH("%u segments in esptool's table, %zu ours", seg, r.img->nsegments);

	p = strstr(txt, "Checksum: 0x");
	if (!p) {
		MISMATCH("no checksum line");
	} else {
		unsigned stored = strtoul(p + 12, NULL, 16);
		int valid = !strncmp(p + 14, " (valid)", 8);

		if (stored != r.img->checksum_stored || valid != r.img->checksum_ok)
			MISMATCH("checksum ours %02x %d, esptool %02x %d",
				 r.img->checksum_stored, r.img->checksum_ok, stored, valid);
		if (!valid) {
			const char *q = strstr(p, "calculated 0x");
			unsigned calc = q ? strtoul(q + 13, NULL, 16) : 999;

			if (calc != r.img->checksum_computed)
				MISMATCH("computed checksum ours %02x, esptool %02x",
					 r.img->checksum_computed, calc);
		}
	}
	p = strstr(txt, "Validation hash: ");
	if (!p != !r.img->has_sha256) {
		MISMATCH("validation hash presence differs");
	} else if (p) {
		char hx[65];
		int valid;

		for (int k = 0; k < 32; k++)
			snprintf(hx + 2 * k, 3, "%02x", r.img->sha256_computed[k]);
		valid = !strncmp(p + 17 + 64, " (valid)", 8);
		if (strncmp(p + 17, hx, 64) || valid != r.img->sha256_ok)
			MISMATCH("digest ours %s %d, esptool %.64s %d", hx,
				 r.img->sha256_ok, p + 17, valid);
	}
	if (!strstr(txt, "Application Information") != !r.img->has_app_desc)
		MISMATCH("app description presence differs (ours %d)", r.img->has_app_desc);
	if (!strstr(txt, "Bootloader Information") != !r.img->has_boot_desc)
		MISMATCH("bootloader description presence differs (ours %d)",
			 r.img->has_boot_desc);
	p = strstr(txt, "Detected image type: ");
	if (p && r.img->chip && strncmp(p + 21, r.img->chip->name, strlen(r.img->chip->name)))
		MISMATCH("chip %s", r.img->chip->name);
	done(&r);
#undef MISMATCH
	return bad;
}

Test(image, corpus_agrees_with_esptool)
{
	const char *root = fx_corpus_root();
	char path[4096], exp[4096];
	struct dirent *de;
	DIR *dir;
	int checked = 0, bad = 0;

	if (!root)
		cr_skip_test("corpus absent (set CORPUS=<corpus root>)");
	snprintf(path, sizeof(path), "%s/images", root);
	dir = opendir(path);
	cr_assert_not_null(dir, "%s", path);
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);
		char *rc, *txt;
		uint8_t *buf = NULL;
		size_t len = 0;

		if (n < 5 || strcmp(de->d_name + n - 4, ".bin"))
			continue;
		snprintf(exp, sizeof(exp), "%s/images/expected/%s.image_info_v5.rc",
			 root, de->d_name);
		rc = slurp_text(exp);
		if (!rc)
			continue;
		if (atoi(rc) != 0) {
			free(rc);
			continue;
		}
		free(rc);
		snprintf(exp, sizeof(exp), "%s/images/expected/%s.image_info_v5.txt",
			 root, de->d_name);
		txt = slurp_text(exp);
		cr_assert_not_null(txt, "%s", exp);
		if (strstr(txt, "Detected image type: ESP8266")) {
			free(txt);
			continue;
		}
		snprintf(path, sizeof(path), "%s/images/%s", root, de->d_name);
		cr_assert_eq(espimg_read_file(path, 64u << 20, &buf, &len), 0, "%s", path);
		bad += compare_with_esptool(de->d_name, buf, len, txt);
		checked++;
		free(buf);
		free(txt);
	}
	closedir(dir);
	cr_expect_gt(checked, 50, "only %d corpus images checked", checked);
	cr_expect_eq(bad, 0, "%d mismatches over %d images (see stderr)", bad, checked);
}

/* The signed-region digest computed in the parse equals the digest each
 * espsecure-signed corpus file's blocks carry, and a separate pass over the
 * same bytes: SHA-256 reusing the image's own state, SHA-384 from the start,
 * by the device's rule (up to the sector) and by a fixed length. */
Test(image, prefix_digest_matches_signed_blocks)
{
	static const struct {
		const char *file;
		bool sha384;
	} cases[] = {
		{ "images/gen/sign_v2_rsa_c3.bin", false },
		{ "images/gen/sign_v2_rsa3_s3.bin", false },
		{ "images/gen/sign_v2_ecdsa256_c6.bin", false },
		{ "images/gen/sign_v2_rsa_securepad2.bin", false },
		{ "images/gen/sign_v2_ecdsa384_c5.bin", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 0, dlen = cases[i].sha384 ? 48 : 32;
		uint8_t *buf = fx_corpus_read(cases[i].file, &len);
		espimg_source src;
		espimg_image *img = NULL;
		espimg_image_opts o = { .prefix_len = ESPIMG_PREFIX_TO_SECTOR,
					.prefix_sha384 = cases[i].sha384 };
		uint8_t sep[48];

		espimg_source_mem(&src, buf, len);
		cr_assert_eq(espimg_image_read(&src, &o, &img, NULL), 0, "%s",
			     cases[i].file);
		cr_assert(img->prefix_digest_ok, "%s", cases[i].file);
		cr_assert_eq(img->prefix_end, len - 4096, "%s", cases[i].file);
		cr_assert_eq(img->prefix_digest_len, dlen);
		cr_assert(img->nsig >= 1);
		cr_assert_eq(memcmp(img->prefix_digest, img->sig[0].image_digest,
				    dlen), 0, "%s", cases[i].file);
		cr_assert_eq(espimg_source_digest(&src, 0, len - 4096, dlen, sep),
			     0);
		cr_assert_eq(memcmp(sep, img->prefix_digest, dlen), 0);
		espimg_image_free(img);

		/* A fixed length shorter than the image: hashed on its own. */
		o.prefix_len = 100;
		cr_assert_eq(espimg_image_read(&src, &o, &img, NULL), 0);
		cr_assert(img->prefix_digest_ok);
		cr_assert_eq(espimg_source_digest(&src, 0, 100, dlen, sep), 0);
		cr_assert_eq(memcmp(sep, img->prefix_digest, dlen), 0);
		espimg_image_free(img);

		/* Past the end of the source: no digest. */
		o.prefix_len = len + 1;
		cr_assert_eq(espimg_image_read(&src, &o, &img, NULL), 0);
		cr_assert_not(img->prefix_digest_ok);
		cr_assert_eq(espimg_source_digest(&src, 0, len + 1, dlen, sep),
			     ESPIMG_EFORMAT);
		espimg_image_free(img);
		free(buf);
	}
}
