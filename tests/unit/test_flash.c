/*
 * test_flash.c - content detection and locating the bootloader and the
 * partition table in flash images: flash images built here from
 * synthesised images and generated tables, every rule of flash.h, failing
 * and oversized sources, bounded reads; then the corpus: merged files
 * against our own layout scans (expected/NAME.layout.txt) and esptool
 * merge-bin's command lines, images, binary tables and otadata vectors.
 */
#include <criterion/criterion.h>

#include "fixtures.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "espimg/espimg.h"
#include "espimg/flash.h"
#include "espimg/image.h"
#include "espimg/otadata.h"
#include "espimg/ptable.h"
#include "synth.h"

static espimg_diag_list *D;
static char *dump;

static void setup(void)
{
	D = espimg_diag_list_new();
	cr_assert_not_null(D);
}

static void teardown(void)
{
	espimg_diag_list_free(D);
	free(dump);
	dump = NULL;
}

static const char *diags(void)
{
	free(dump);
	dump = fx_diag_dump(D);
	return dump ? dump : "";
}

TestSuite(flash, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ sources */

static espimg_content detect_buf(const uint8_t *buf, size_t len)
{
	espimg_source s;

	espimg_source_mem(&s, buf, len);
	return espimg_detect_content(&s);
}

/* ------------------------------------------------------------ building */

/* A small bootloader (bootloader description) for the chip with this key. */
static uint8_t *mk_boot(const char *key, size_t *len)
{
	const synth_chip *c = fx_synth_chip(key);
	espimg_boot_desc bd;
	uint8_t raw[80];
	synth_image s;

	synth_init(&s, c->id);
	synth_boot_desc_init(&bd, 1);
	synth_boot_desc_bytes(&bd, raw);
	cr_assert_geq(synth_add(&s, c->dram, raw, sizeof(raw)), 0);
	cr_assert_geq(synth_add_fill(&s, c->iram, 512, SYNTH_FILL_RANDOM, 3), 0);
	return fx_synth_finish(&s, len);
}

/* A small app for the chip with this key. */
static uint8_t *mk_app(const char *key, size_t *len)
{
	const synth_chip *c = fx_synth_chip(key);
	espimg_app_desc ad;
	uint8_t raw[256];
	synth_image s;

	synth_init(&s, c->id);
	synth_app_desc_init(&ad, "flash", "1.0");
	synth_app_desc_bytes(&ad, raw);
	cr_assert_geq(synth_add(&s, c->drom, raw, sizeof(raw)), 0);
	cr_assert_geq(synth_add_fill(&s, c->iram, 1024, SYNTH_FILL_RANDOM, 4), 0);
	return fx_synth_finish(&s, len);
}

/* The 0xC00-byte binary of a CSV table (gen_esp32part's output; the
 * bytes do not depend on where the table goes when every offset is
 * given, so it is made for 0x8000 and placed anywhere). */
static void mk_table(const char *csv, bool md5,
		     uint8_t out[ESPIMG_PTABLE_BIN_SIZE])
{
	espimg_ptable_opts o;
	espimg_ptable *t = NULL;
	espimg_diag_list *d = espimg_diag_list_new();
	int r;

	espimg_ptable_opts_init(&o);
	o.md5 = md5;
	r = espimg_ptable_parse((const uint8_t *)csv, strlen(csv), &o, "t.csv",
				&t, d);
	cr_assert_eq(r, 0, "%s", csv);
	cr_assert_eq(espimg_ptable_to_binary(t, &o, out, d), 0);
	espimg_ptable_free(t);
	espimg_diag_list_free(d);
}

/* Partitions from 0x10000 on, so the table may sit at any boundary below. */
static const char small_csv[] =
	"factory,app,factory,0x10000,0x10000\n"
	"storage,data,spiffs,0x20000,0x8000\n";
#define SMALL_FLASH 0x28000u

/* A flash image of `size` bytes of 0xFF; parts placed with put(). */
static uint8_t *mk_flash(size_t size)
{
	uint8_t *f = malloc(size);

	cr_assert_not_null(f);
	memset(f, 0xFF, size);
	return f;
}

static void put(uint8_t *flash, size_t size, size_t off, const void *p,
		size_t n)
{
	cr_assert_leq(off + n, size);
	memcpy(flash + off, p, n);
}

/* bootloader for `key` at boot_off (none when boot_off < 0), the small
 * table at table_off (none when < 0), an app at 0x10000. */
static uint8_t *mk_std(const char *key, long boot_off, long table_off,
		       size_t size)
{
	uint8_t *f = mk_flash(size), *b, tab[ESPIMG_PTABLE_BIN_SIZE];
	size_t n;

	if (boot_off >= 0) {
		b = mk_boot(key, &n);
		put(f, size, (size_t)boot_off, b, n);
		free(b);
	}
	if (table_off >= 0) {
		mk_table(small_csv, true, tab);
		put(f, size, (size_t)table_off, tab, sizeof(tab));
	}
	b = mk_app(key, &n);
	put(f, size, 0x10000, b, n);
	free(b);
	return f;
}

static int locate(const uint8_t *buf, size_t len,
		  const espimg_flash_opts *o, espimg_flash **out)
{
	espimg_source s;

	espimg_source_mem(&s, buf, len);
	espimg_diag_clear(D);
	return espimg_flash_locate(&s, o, out, D);
}

/* ------------------------------------------------------------ names */

Test(flash, content_names)
{
	static const struct {
		espimg_content c;
		const char *name;
	} t[] = {
		{ ESPIMG_CONTENT_UNKNOWN, "unknown" },
		{ ESPIMG_CONTENT_IMAGE, "image" },
		{ ESPIMG_CONTENT_PTABLE, "partition-table" },
		{ ESPIMG_CONTENT_OTADATA, "otadata" },
		{ ESPIMG_CONTENT_FLASH, "flash" },
	};
	espimg_content c;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_expect_str_eq(espimg_content_name(t[i].c), t[i].name);
		c = (espimg_content)99;
		cr_expect_eq(espimg_content_parse(t[i].name, &c), 0);
		cr_expect_eq(c, t[i].c);
	}
	cr_expect_str_eq(espimg_content_name((espimg_content)42), "unknown");
	cr_expect_eq(espimg_content_parse("ptable", &c), 0);
	cr_expect_eq(c, ESPIMG_CONTENT_PTABLE);
	cr_expect_eq(espimg_content_parse("table", &c), 0);
	cr_expect_eq(c, ESPIMG_CONTENT_PTABLE);
	cr_expect_eq(espimg_content_parse("FLASH", &c), 0);
	cr_expect_eq(c, ESPIMG_CONTENT_FLASH);
	c = ESPIMG_CONTENT_IMAGE;
	cr_expect_eq(espimg_content_parse("auto", &c), -1);
	cr_expect_eq(espimg_content_parse("", &c), -1);
	cr_expect_eq(espimg_content_parse("images", &c), -1);
	cr_expect_eq(c, ESPIMG_CONTENT_IMAGE, "unchanged on failure");
	cr_expect_eq(espimg_content_parse(NULL, &c), -1);
	cr_expect_eq(espimg_content_parse("image", NULL), -1);
}

/* ------------------------------------------------------------ detection */

Test(flash, detect_unknown)
{
	uint8_t buf[0x3000];
	espimg_source s = { 0 };

	cr_expect_eq(espimg_detect_content(NULL), ESPIMG_CONTENT_UNKNOWN);
	cr_expect_eq(espimg_detect_content(&s), ESPIMG_CONTENT_UNKNOWN);
	cr_expect_eq(detect_buf(buf, 0), ESPIMG_CONTENT_UNKNOWN);
	memset(buf, 0, sizeof(buf));
	cr_expect_eq(detect_buf(buf, 0x2000), ESPIMG_CONTENT_UNKNOWN,
		     "zeros: seq 0 with CRC 0 is no otadata record");
	synth_fill_bytes(buf, sizeof(buf), SYNTH_FILL_RANDOM, 11);
	buf[0] = 0x12;
	for (size_t n = 1; n <= sizeof(buf); n += 0x7FF)
		cr_expect_eq(detect_buf(buf, n), ESPIMG_CONTENT_UNKNOWN, "%zu", n);
	memcpy(buf, "# Name, Type, SubType\nnvs,data,nvs,,0x6000\n", 43);
	cr_expect_eq(detect_buf(buf, 43), ESPIMG_CONTENT_UNKNOWN,
		     "a CSV table is not detected by content");
	memset(buf, 0xFF, sizeof(buf));
	cr_expect_eq(detect_buf(buf, 0x1000), ESPIMG_CONTENT_UNKNOWN,
		     "one erased sector is too small for otadata");
	cr_expect_eq(detect_buf(buf, 1), ESPIMG_CONTENT_UNKNOWN);
}

Test(flash, detect_image)
{
	for (size_t i = 0; i < synth_chip_count(); i++) {
		const synth_chip *c = synth_chip_at(i);
		size_t n;
		uint8_t *b = mk_app(c->key, &n);

		cr_expect_eq(detect_buf(b, n), ESPIMG_CONTENT_IMAGE, "%s app",
			     c->key);
		free(b);
		b = mk_boot(c->key, &n);
		cr_expect_eq(detect_buf(b, n), ESPIMG_CONTENT_IMAGE, "%s boot",
			     c->key);
		cr_expect_eq(detect_buf(b, 1), ESPIMG_CONTENT_IMAGE,
			     "byte 0 alone decides");
		free(b);
	}
}

Test(flash, detect_ptable)
{
	uint8_t tab[ESPIMG_PTABLE_SECTOR + 1];

	memset(tab, 0xFF, sizeof(tab));
	mk_table(small_csv, true, tab);
	cr_expect_eq(detect_buf(tab, ESPIMG_PTABLE_BIN_SIZE),
		     ESPIMG_CONTENT_PTABLE);
	cr_expect_eq(detect_buf(tab, ESPIMG_PTABLE_SECTOR),
		     ESPIMG_CONTENT_PTABLE, "a whole table sector");
	cr_expect_eq(detect_buf(tab, 64), ESPIMG_CONTENT_PTABLE,
		     "content decides, not completeness");
	cr_expect_eq(detect_buf(tab, sizeof(tab)), ESPIMG_CONTENT_UNKNOWN,
		     "more than one sector");
	mk_table(small_csv, false, tab);
	cr_expect_eq(detect_buf(tab, ESPIMG_PTABLE_BIN_SIZE),
		     ESPIMG_CONTENT_PTABLE, "without MD5");
	/* an empty table is its MD5 entry alone */
	mk_table("", true, tab);
	cr_expect_eq(tab[0], 0xEB);
	cr_expect_eq(detect_buf(tab, ESPIMG_PTABLE_BIN_SIZE),
		     ESPIMG_CONTENT_PTABLE);
}

/* One otadata record: seq, state, the device's CRC when crc_ok. */
static void ota_rec(uint8_t *p, uint32_t seq, bool crc_ok)
{
	uint8_t s[4] = { (uint8_t)seq, (uint8_t)(seq >> 8),
			 (uint8_t)(seq >> 16), (uint8_t)(seq >> 24) };
	/* esp_rom_crc32_le(UINT32_MAX, seq, 4) is zlib's crc32 seeded with
	 * 0xFFFFFFFF (otadata.md §2) */
	uint32_t crc = (uint32_t)crc32(0xFFFFFFFFul, s, 4);

	memset(p, 0xFF, ESPIMG_OTADATA_ENTRY_SIZE);
	memcpy(p, s, 4);
	memset(p + 4, 0, ESPIMG_OTADATA_LABEL_LEN);
	p[24] = 2; /* VALID */
	p[25] = p[26] = p[27] = 0;
	if (!crc_ok)
		crc ^= 1;
	p[28] = (uint8_t)crc;
	p[29] = (uint8_t)(crc >> 8);
	p[30] = (uint8_t)(crc >> 16);
	p[31] = (uint8_t)(crc >> 24);
}

/* Bytes 32..0xFFF of the sector at `sector` are all 0xFF. */
static bool tail_erased(const uint8_t *buf, size_t sector)
{
	for (size_t k = 32; k < 0x1000; k++)
		if (buf[sector + k] != 0xFF)
			return false;
	return true;
}

Test(flash, detect_otadata)
{
	size_t big = ESPIMG_OTADATA_MAX_SIZE + 0x1000;
	uint8_t *b = mk_flash(big);

	cr_expect_eq(espimg_otadata_crc(1), 0x4743989Au);
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_OTADATA, "erased");
	cr_expect_eq(detect_buf(b, 0x3000), ESPIMG_CONTENT_OTADATA);
	cr_expect_eq(detect_buf(b, ESPIMG_OTADATA_MAX_SIZE),
		     ESPIMG_CONTENT_OTADATA);
	cr_expect_eq(detect_buf(b, big), ESPIMG_CONTENT_UNKNOWN, "too big");
	cr_expect_eq(detect_buf(b, 0x2800), ESPIMG_CONTENT_UNKNOWN,
		     "not whole sectors");
	ota_rec(b, 1, true);
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_OTADATA);
	ota_rec(b + 0x1000, 2, true);
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_OTADATA);
	ota_rec(b + 0x1000, 2, false);
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_OTADATA,
		     "bad CRC in sector 1, alone in its erased sector");
	b[0x1FFF] = 0x00;
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_UNKNOWN,
		     "bad CRC in sector 1, sector not erased after it");
	b[0x1FFF] = 0xFF;
	b[0x1020] = 0x00;
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_UNKNOWN,
		     "bad CRC in sector 1, the byte after the record written");
	b[0x1020] = 0xFF;
	ota_rec(b + 0x1000, 0xFFFFFFFFu, true);
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_OTADATA,
		     "seq 0xffffffff with its CRC");
	memset(b + 0x1000, 0xFF, 32);
	ota_rec(b, 7, false);
	b[0x800] = 0x12;
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_UNKNOWN,
		     "bad CRC in sector 0, sector not erased after it");
	b[0x800] = 0xFF;
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_OTADATA,
		     "bad CRC in sector 0, alone in its erased sector");
	ota_rec(b, 7, true);
	b[0x1000 + 31] = 0xFE; /* not erased, CRC wrong */
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_OTADATA);
	b[0x1100] = 0x00;     /* ... and not alone in its sector */
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_UNKNOWN);
	b[0x1100] = 0xFF;
	b[0x1000 + 31] = 0xFF;
	b[0x10] = 0x55; /* in the label: the CRC covers seq only */
	cr_expect_eq(detect_buf(b, 0x2000), ESPIMG_CONTENT_OTADATA);
	free(b);
}

Test(flash, detect_flash)
{
	static const char *const keys[] = { "esp32", "esp32s2", "esp32s3",
					    "esp32c3", "esp32c6", "esp32p4" };
	uint8_t tab[ESPIMG_PTABLE_BIN_SIZE];
	uint8_t *f;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const espimg_chip *c = espimg_chip_by_key(keys[i]);

		f = mk_std(keys[i], c->bootloader_offset, 0x8000, SMALL_FLASH);
		cr_expect_eq(detect_buf(f, SMALL_FLASH), ESPIMG_CONTENT_FLASH,
			     "%s", keys[i]);
		free(f);
	}
	/* a table at 0x8000 is enough */
	f = mk_std("esp32c3", -1, 0x8000, SMALL_FLASH);
	cr_expect_eq(detect_buf(f, SMALL_FLASH), ESPIMG_CONTENT_FLASH);
	cr_expect_eq(detect_buf(f, 0x8000 + 32), ESPIMG_CONTENT_FLASH,
		     "the first entry is enough");
	cr_expect_eq(detect_buf(f, 0x8000 + 31), ESPIMG_CONTENT_UNKNOWN);
	free(f);
	/* a moved table needs a bootloader in front */
	for (long off = 0x1000; off < 0x10000; off += 0x1000) {
		if (off == 0x8000)
			continue;
		f = mk_std("esp32c3", 0, off, SMALL_FLASH);
		cr_expect_eq(detect_buf(f, SMALL_FLASH), ESPIMG_CONTENT_FLASH,
			     "table at 0x%lx", off);
		free(f);
		/* without: not a flash image; with sectors 0 and 1 erased
		 * the whole sectors look like erased otadata */
		f = mk_std("esp32c3", -1, off, SMALL_FLASH);
		cr_expect_eq(detect_buf(f, SMALL_FLASH),
			     off == 0x1000 ? ESPIMG_CONTENT_UNKNOWN
					   : ESPIMG_CONTENT_OTADATA,
			     "no bootloader, table at 0x%lx", off);
		cr_expect_eq(detect_buf(f, SMALL_FLASH - 1),
			     ESPIMG_CONTENT_UNKNOWN);
		free(f);
	}
	f = mk_std("esp32", 0x2000, 0x9000, SMALL_FLASH);
	cr_expect_eq(detect_buf(f, SMALL_FLASH), ESPIMG_CONTENT_FLASH,
		     "bootloader at 0x2000");
	free(f);
	/* not below 0x10000: an image with data after it */
	f = mk_std("esp32c3", 0, -1, 0x30000);
	mk_table(small_csv, true, tab);
	put(f, 0x30000, 0x28000, tab, sizeof(tab));
	cr_expect_eq(detect_buf(f, 0x30000), ESPIMG_CONTENT_IMAGE);
	free(f);
	/* the first entry's type must be one ESP-IDF names */
	f = mk_std("esp32c3", 0, 0x8000, SMALL_FLASH);
	f[0x8002] = 0x40;
	cr_expect_eq(detect_buf(f, SMALL_FLASH), ESPIMG_CONTENT_IMAGE,
		     "custom type 0x40 first");
	f[0x8002] = 0x04;
	cr_expect_eq(detect_buf(f, SMALL_FLASH), ESPIMG_CONTENT_IMAGE);
	f[0x8002] = 0x03;
	cr_expect_eq(detect_buf(f, SMALL_FLASH), ESPIMG_CONTENT_FLASH);
	/* a header with an unknown chip id is no bootloader */
	f[0x8000] = 0xFF;
	mk_table(small_csv, true, tab);
	put(f, SMALL_FLASH, 0x9000, tab, sizeof(tab));
	cr_expect_eq(detect_buf(f, SMALL_FLASH), ESPIMG_CONTENT_FLASH);
	f[12] = 0x77;
	f[13] = 0x77;
	cr_expect_eq(detect_buf(f, SMALL_FLASH), ESPIMG_CONTENT_IMAGE);
	free(f);
}

Test(flash, detect_bounded_and_failing)
{
	struct fx_csrc c;
	espimg_source s;
	uint8_t *f = mk_std("esp32s3", 0, 0x9000, SMALL_FLASH);

	s = fx_csrc_init(&c, f, SMALL_FLASH, SMALL_FLASH);
	cr_expect_eq(espimg_detect_content(&s), ESPIMG_CONTENT_FLASH);
	cr_expect_not(c.out_of_range);
	cr_expect_leq(c.bytes, 4096, "%llu bytes read",
		      (unsigned long long)c.bytes);
	cr_expect_leq(c.max_read, 32);

	/* every read call that fails makes it UNKNOWN */
	for (unsigned n = 1; n <= c.calls; n++) {
		s = fx_csrc_init(&c, f, SMALL_FLASH, SMALL_FLASH);
		c.fail_at = n;
		cr_expect_eq(espimg_detect_content(&s), ESPIMG_CONTENT_UNKNOWN,
			     "read %u fails", n);
	}
	free(f);

	/* a 1 MiB random file: a few KiB at most */
	f = malloc(1u << 20);
	cr_assert_not_null(f);
	synth_fill_bytes(f, 1u << 20, SYNTH_FILL_RANDOM, 5);
	f[0] = 0xE9;
	s = fx_csrc_init(&c, f, 1u << 20, 1u << 20);
	cr_expect_eq(espimg_detect_content(&s), ESPIMG_CONTENT_IMAGE);
	cr_expect_leq(c.bytes, 4096);
	free(f);

	/* larger than any flash: not a flash image, even with a table at
	 * 0x8000 (the virtual source is all 0xFF) */
	s = fx_csrc_init(&c, NULL, 0, (uint64_t)ESPIMG_FLASH_MAX_SIZE + 1);
	cr_expect_eq(espimg_detect_content(&s), ESPIMG_CONTENT_UNKNOWN);
	cr_expect_not(c.out_of_range);
}

/* ------------------------------------------------------------ locate */

Test(flash, locate_every_chip)
{
	for (size_t i = 0; i < espimg_chip_count(); i++) {
		const espimg_chip *chip = espimg_chip_at(i);
		const synth_chip *sc = synth_chip_by_id(chip->image_id);
		espimg_flash *f = NULL;
		uint8_t *b;

		if (!sc)
			continue;
		b = mk_std(sc->key, chip->bootloader_offset, 0x8000, SMALL_FLASH);
		cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
		cr_expect_eq(f->size, SMALL_FLASH);
		cr_expect(f->has_bootloader, "%s", chip->name);
		cr_expect_eq(f->bootloader_offset, chip->bootloader_offset);
		cr_expect_eq(f->chip, chip, "%s", chip->name);
		cr_expect(f->bootloader_offset_ok);
		cr_assert_not_null(f->table);
		cr_expect_eq(f->table_offset, 0x8000);
		cr_expect_not(f->table_scanned);
		cr_expect_eq(f->table->count, 2);
		cr_expect_str_eq(f->table->parts[0].name, "factory");
		cr_expect_eq(f->table->parts[1].offset, 0x20000);
		cr_expect(f->table->has_md5);
		cr_expect_eq(espimg_diag_count(D), 0, "%s: %s", chip->name,
			     diags());
		espimg_flash_free(f);
		free(b);
	}
}

Test(flash, locate_wrong_bootloader_offset)
{
	espimg_flash *f = NULL;
	const espimg_diag *d;
	uint8_t *b = mk_std("esp32s3", 0x1000, 0x8000, SMALL_FLASH);

	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_expect(f->has_bootloader);
	cr_expect_eq(f->bootloader_offset, 0x1000);
	cr_expect_eq(f->chip, espimg_chip_by_key("esp32s3"));
	cr_expect_not(f->bootloader_offset_ok);
	d = fx_diag_find(D, "flash.bootloader_offset", ESPIMG_SEV_WARNING);
	cr_assert_not_null(d, "%s", diags());
	cr_expect_eq(d->offset, 0x1000);
	cr_expect(strstr(d->message, "ESP32-S3") && strstr(d->message, "0x0"),
		  "%s", d->message);
	cr_expect_null(strstr(d->message, "target-offset"));
	cr_expect_eq(espimg_diag_count(D), 1, "%s", diags());
	espimg_flash_free(f);
	free(b);

	/* ESP32 at 0x0 */
	b = mk_std("esp32", 0, 0x8000, SMALL_FLASH);
	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_expect_eq(f->bootloader_offset, 0);
	cr_expect_not(f->bootloader_offset_ok);
	cr_expect_not_null(fx_diag_find(D, "flash.bootloader_offset", -1));
	espimg_flash_free(f);
	free(b);

	/* the first of 0x0, 0x1000, 0x2000 wins */
	b = mk_std("esp32", 0x1000, 0x8000, SMALL_FLASH);
	{
		size_t n;
		uint8_t *c3 = mk_boot("esp32c3", &n);
		put(b, SMALL_FLASH, 0, c3, n < 0x1000 ? n : 0x1000);
		free(c3);
	}
	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_expect_eq(f->bootloader_offset, 0);
	cr_expect_eq(f->chip, espimg_chip_by_key("esp32c3"));
	cr_expect(f->bootloader_offset_ok);
	espimg_flash_free(f);
	free(b);
}

Test(flash, locate_target_offset)
{
	/* esptool merge-bin --target-offset 0x1000 for an ESP32: the file
	 * starts at flash 0x1000, so the table sits at file offset 0x7000 */
	espimg_flash *f = NULL;
	const espimg_diag *d;
	uint8_t *b = mk_std("esp32", 0, 0x7000, SMALL_FLASH);

	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_expect_eq(f->bootloader_offset, 0);
	cr_expect_not(f->bootloader_offset_ok);
	cr_assert_not_null(f->table);
	cr_expect_eq(f->table_offset, 0x7000);
	cr_expect(f->table_scanned);
	d = fx_diag_find(D, "flash.bootloader_offset", ESPIMG_SEV_WARNING);
	cr_assert_not_null(d);
	cr_expect_not_null(strstr(d->message, "target-offset"), "%s",
			   d->message);
	d = fx_diag_find(D, "flash.table_moved", ESPIMG_SEV_NOTE);
	cr_assert_not_null(d, "%s", diags());
	cr_expect_eq(d->offset, 0x7000);
	espimg_flash_free(f);
	free(b);
}

Test(flash, locate_moved_and_expected_offset)
{
	espimg_flash_opts o = { 0 };
	espimg_flash *f = NULL;
	uint8_t *b = mk_std("esp32c3", 0, 0xA000, SMALL_FLASH);

	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_expect_eq(f->table_offset, 0xA000);
	cr_expect(f->table_scanned);
	cr_expect_eq(fx_diag_count(D, "flash.table_moved", ESPIMG_SEV_NOTE), 1);
	cr_expect_eq(espimg_diag_count(D), 1, "%s", diags());
	espimg_flash_free(f);

	o.table_offset = 0xA000;
	o.file = "f.bin";
	cr_assert_eq(locate(b, SMALL_FLASH, &o, &f), 0);
	cr_expect_eq(f->table_offset, 0xA000);
	cr_expect_not(f->table_scanned);
	cr_expect_eq(espimg_diag_count(D), 0, "%s", diags());
	espimg_flash_free(f);

	/* a table expected at 0x8000 that sits at 0xA000 and one at 0x20000:
	 * the first one wins; the scan reaches past 0x10000 */
	free(b);
	b = mk_std("esp32c3", 0, 0x20000, SMALL_FLASH);
	o.table_offset = 0;
	cr_assert_eq(locate(b, SMALL_FLASH, &o, &f), 0);
	cr_expect_eq(f->table_offset, 0x20000);
	cr_expect(f->table_scanned);
	cr_assert_gt(espimg_diag_count(D), 0);
	cr_expect_str_eq(espimg_diag_get(D, 0)->file, "f.bin");
	espimg_flash_free(f);

	o.table_offset = 0x8800;
	cr_expect_eq(locate(b, SMALL_FLASH, &o, &f), ESPIMG_EINVAL,
		     "table offsets are whole sectors");
	cr_expect_null(f);
	free(b);
}

Test(flash, locate_no_table_no_bootloader)
{
	espimg_flash_opts o = { 0 };
	espimg_flash *f = NULL;
	const espimg_diag *d;
	uint8_t *b = mk_std("esp32c3", -1, -1, SMALL_FLASH);

	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_expect_not(f->has_bootloader);
	cr_expect_null(f->chip);
	cr_expect_not(f->bootloader_offset_ok);
	cr_expect_null(f->table);
	cr_expect_not(f->table_scanned);
	cr_expect_not_null(fx_diag_find(D, "flash.no_bootloader",
					ESPIMG_SEV_WARNING));
	d = fx_diag_find(D, "flash.no_table", ESPIMG_SEV_ERROR);
	cr_assert_not_null(d);
	cr_expect_eq(d->offset, 0x8000);
	cr_expect_eq(espimg_diag_count(D), 2, "%s", diags());
	espimg_flash_free(f);

	/* the chip given: no bootloader still, but the chip is known */
	o.chip = espimg_chip_by_key("esp32h2");
	cr_assert_eq(locate(b, SMALL_FLASH, &o, &f), 0);
	cr_expect_not(f->has_bootloader);
	cr_expect_eq(f->chip, o.chip);
	espimg_flash_free(f);
	free(b);

	/* an empty source, and one that ends before 0x8000 */
	cr_assert_eq(locate((const uint8_t *)"", 0, NULL, &f), 0);
	cr_expect_eq(f->size, 0);
	cr_expect_not(f->has_bootloader);
	cr_expect_null(f->table);
	d = fx_diag_find(D, "flash.no_table", ESPIMG_SEV_ERROR);
	cr_assert_not_null(d);
	cr_expect_eq(d->offset, -1);
	espimg_flash_free(f);
}

Test(flash, locate_forced_chip)
{
	espimg_flash_opts o = { 0 };
	espimg_flash *f = NULL;
	uint8_t *b = mk_std("esp32c3", 0, 0x8000, SMALL_FLASH);

	b[12] = 0x34; /* chip id 0x1234: no chip */
	b[13] = 0x12;
	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_expect_not(f->has_bootloader, "an unknown chip id");
	cr_expect_null(f->chip);
	cr_expect_not_null(f->table);
	espimg_flash_free(f);

	o.chip = espimg_chip_by_key("esp32c3");
	cr_assert_eq(locate(b, SMALL_FLASH, &o, &f), 0);
	cr_expect(f->has_bootloader, "any 0xE9 header with the chip given");
	cr_expect_eq(f->bootloader_offset, 0);
	cr_expect_eq(f->chip, o.chip);
	cr_expect(f->bootloader_offset_ok);
	espimg_flash_free(f);

	/* the chip given decides the offset rule */
	o.chip = espimg_chip_by_key("esp32");
	cr_assert_eq(locate(b, SMALL_FLASH, &o, &f), 0);
	cr_expect_eq(f->chip, o.chip);
	cr_expect_not(f->bootloader_offset_ok);
	espimg_flash_free(f);

	/* a chip id whose low byte names a chip (esptool's guess) is no
	 * known chip id: the ROM compares all 16 bits */
	b[12] = 0x05; /* ESP32-C3 */
	b[13] = 0x01;
	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_expect_not(f->has_bootloader, "chip id 0x0105");
	espimg_flash_free(f);
	cr_expect_eq(detect_buf(b, 0x8000), ESPIMG_CONTENT_IMAGE);
	b[13] = 0x00;
	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_expect(f->has_bootloader);
	espimg_flash_free(f);

	/* a header cut short is no bootloader */
	cr_assert_eq(locate(b, 23, &o, &f), 0);
	cr_expect_not(f->has_bootloader);
	espimg_flash_free(f);
	cr_assert_eq(locate(b, 24, &o, &f), 0);
	cr_expect(f->has_bootloader);
	espimg_flash_free(f);
	free(b);
}

Test(flash, locate_bad_table_at_expected)
{
	espimg_flash *f = NULL;
	const espimg_diag *d;
	uint8_t tab[ESPIMG_PTABLE_BIN_SIZE];
	uint8_t *b = mk_std("esp32c3", 0, 0x8000, SMALL_FLASH);

	b[0x8000 + 64 + 20] ^= 1; /* the MD5 entry's digest */
	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_expect_null(f->table);
	d = fx_diag_find(D, "ptable.md5", ESPIMG_SEV_ERROR);
	cr_assert_not_null(d, "%s", diags());
	cr_expect_eq(d->offset, 0x8000 + 64 + 16, "absolute offset");
	d = fx_diag_find(D, "flash.no_table", ESPIMG_SEV_ERROR);
	cr_assert_not_null(d);
	cr_expect_not_null(strstr(d->message, "does not parse"));
	espimg_flash_free(f);

	/* a good copy elsewhere is found by the scan */
	mk_table(small_csv, true, tab);
	put(b, SMALL_FLASH, 0xC000, tab, sizeof(tab));
	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_assert_not_null(f->table);
	cr_expect_eq(f->table_offset, 0xC000);
	cr_expect(f->table_scanned);
	cr_expect_not_null(fx_diag_find(D, "ptable.md5", ESPIMG_SEV_ERROR));
	d = fx_diag_find(D, "flash.table_moved", ESPIMG_SEV_NOTE);
	cr_assert_not_null(d);
	cr_expect_not_null(strstr(d->message, "does not parse"));
	cr_expect_null(fx_diag_find(D, "flash.no_table", -1));
	espimg_flash_free(f);
	free(b);
}

Test(flash, locate_scan_skips_what_does_not_parse)
{
	espimg_flash *f = NULL;
	uint8_t *b = mk_std("esp32c3", 0, 0xB000, SMALL_FLASH);

	/* a first entry at 0x3000, then no end marker: garbage to 0x3C00 */
	synth_fill_bytes(b + 0x3000, 0xC00, SYNTH_FILL_COUNT, 1);
	b[0x3000] = 0xAA;
	b[0x3001] = 0x50;
	b[0x3002] = 0x01;
	/* a row that is AA 50 with an unnamed type at 0x5000 */
	memcpy(b + 0x5000, b + 0xB000, 0xC00);
	b[0x5002] = 0x40;
	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_assert_not_null(f->table);
	cr_expect_eq(f->table_offset, 0xB000);
	cr_expect_null(fx_diag_find(D, "ptable.end-marker", -1),
		       "a rejected candidate leaves no findings: %s", diags());
	espimg_flash_free(f);
	free(b);
}

Test(flash, locate_table_findings_absolute)
{
	espimg_flash *f = NULL;
	const espimg_diag *d;
	uint8_t *b = mk_std("esp32c3", 0, 0x8000, SMALL_FLASH);

	/* unknown flag bits in entry 1 (a warning; the MD5 entry is then
	 * wrong, so write the table without one) */
	{
		uint8_t tab[ESPIMG_PTABLE_BIN_SIZE];
		mk_table(small_csv, false, tab);
		tab[32 + 28] = 0x10;
		put(b, SMALL_FLASH, 0x8000, tab, sizeof(tab));
	}
	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_assert_not_null(f->table);
	cr_expect_not(f->table->has_md5);
	d = fx_diag_find(D, "ptable.unknown-flags", ESPIMG_SEV_WARNING);
	cr_assert_not_null(d, "%s", diags());
	cr_expect_eq(d->offset, 0x8000 + 32 + 28);
	cr_expect_eq(f->table->parts[1].bin_offset, 32, "relative to the table");
	espimg_flash_free(f);
	free(b);
}

Test(flash, locate_partition_outside)
{
	espimg_flash *f = NULL;
	const espimg_diag *d;
	uint8_t *b = mk_std("esp32c3", 0, 0x8000, SMALL_FLASH);

	/* cut inside 'storage' (0x20000..0x27fff) */
	cr_assert_eq(locate(b, 0x24000, NULL, &f), 0);
	cr_expect_eq(fx_diag_count(D, "flash.partition_outside", -1), 1);
	d = fx_diag_find(D, "flash.partition_outside", ESPIMG_SEV_WARNING);
	cr_assert_not_null(d);
	cr_expect_eq(d->offset, 0x8000 + 32);
	cr_expect_not_null(strstr(d->message, "'storage'"));
	espimg_flash_free(f);

	/* both cut: one of them starts after the end */
	cr_assert_eq(locate(b, 0x18000, NULL, &f), 0);
	cr_expect_eq(fx_diag_count(D, "flash.partition_outside", -1), 2);
	cr_expect_eq(espimg_diag_count(D), 2, "%s", diags());
	espimg_flash_free(f);

	/* exactly the flash the table needs: nothing */
	cr_assert_eq(locate(b, SMALL_FLASH, NULL, &f), 0);
	cr_expect_eq(espimg_diag_count(D), 0, "%s", diags());
	espimg_flash_free(f);
	free(b);
}

Test(flash, locate_args_and_limits)
{
	struct fx_csrc c;
	espimg_source s = { 0 };
	espimg_flash *f = (espimg_flash *)&s;

	cr_expect_eq(espimg_flash_locate(NULL, NULL, &f, D), ESPIMG_EINVAL);
	cr_expect_null(f);
	cr_expect_eq(espimg_flash_locate(&s, NULL, &f, D), ESPIMG_EINVAL);
	s = fx_csrc_init(&c, NULL, 0, 0x10000);
	cr_expect_eq(espimg_flash_locate(&s, NULL, NULL, D), ESPIMG_EINVAL);
	espimg_flash_free(NULL);

	s = fx_csrc_init(&c, NULL, 0, (uint64_t)ESPIMG_FLASH_MAX_SIZE + 1);
	espimg_diag_clear(D);
	cr_expect_eq(espimg_flash_locate(&s, NULL, &f, D), ESPIMG_ETOOBIG);
	cr_expect_null(f);
	cr_expect_eq(c.calls, 0);
	cr_expect_not_null(fx_diag_find(D, "flash.too_big", ESPIMG_SEV_ERROR),
			   "a refused size says why");

	{
		espimg_flash_opts o = { .table_offset = 0x8100 };

		s = fx_csrc_init(&c, NULL, 0, 0x10000);
		espimg_diag_clear(D);
		cr_expect_eq(espimg_flash_locate(&s, &o, &f, D), ESPIMG_EINVAL);
		cr_expect_not_null(fx_diag_find(D, "flash.table_offset",
						ESPIMG_SEV_ERROR));
	}

	/* the largest flash: the scan reads 32 bytes per sector */
	s = fx_csrc_init(&c, NULL, 0, ESPIMG_FLASH_MAX_SIZE);
	cr_assert_eq(espimg_flash_locate(&s, NULL, &f, NULL), 0);
	cr_expect_null(f->table);
	cr_expect_not(c.out_of_range);
	cr_expect_leq(c.max_read, 32);
	cr_expect_leq(c.bytes, (uint64_t)(ESPIMG_FLASH_MAX_SIZE / 0x1000) * 32 + 64);
	espimg_flash_free(f);
}

Test(flash, locate_bounded_reads_and_failures)
{
	struct fx_csrc c;
	espimg_source s;
	espimg_flash *f = NULL;
	const size_t size = 4u << 20;
	uint8_t *b = mk_flash(size), *p;
	size_t n;
	unsigned calls;
	int r;

	p = mk_boot("esp32c3", &n);
	put(b, size, 0, p, n);
	free(p);
	{
		uint8_t tab[ESPIMG_PTABLE_BIN_SIZE];
		mk_table(small_csv, true, tab);
		put(b, size, 0x8000, tab, sizeof(tab));
	}
	s = fx_csrc_init(&c, b, size, size);
	cr_assert_eq(espimg_flash_locate(&s, NULL, &f, D), 0);
	cr_expect_not(c.out_of_range);
	cr_expect_leq(c.max_read, ESPIMG_PTABLE_BIN_SIZE);
	cr_expect_leq(c.bytes, 8192, "%llu bytes", (unsigned long long)c.bytes);
	espimg_flash_free(f);
	calls = c.calls;

	for (unsigned k = 1; k <= calls; k++) {
		s = fx_csrc_init(&c, b, size, size);
		c.fail_at = k;
		f = (espimg_flash *)b;
		r = espimg_flash_locate(&s, NULL, &f, D);
		cr_expect_eq(r, ESPIMG_EIO, "read %u fails: %d", k, r);
		cr_expect_null(f);
	}

	/* moved to the end of the 4 MiB: 32 bytes per sector */
	memset(b + 0x8000, 0xFF, 0x1000);
	{
		uint8_t tab[ESPIMG_PTABLE_BIN_SIZE];
		mk_table(small_csv, true, tab);
		put(b, size, 0x3FF000, tab, sizeof(tab));
	}
	s = fx_csrc_init(&c, b, size, size);
	cr_assert_eq(espimg_flash_locate(&s, NULL, &f, D), 0);
	cr_expect_eq(f->table_offset, 0x3FF000);
	cr_expect_leq(c.bytes, (size / 0x1000) * 32 + 8192);
	espimg_flash_free(f);
	free(b);
}

/* ------------------------------------------------------------ corpus */

/* The merged files, and one without a partition table. */
static const char *const layout_files[] = {
	"KhiemCE22__Security-on-SoC-ESP32__flash_contents.bin",
	FX_MERGED_WITH_TABLE,
};

Test(flash, corpus_layouts)
{
	unsigned wrong_offset = 0, s3_at_0x1000 = 0, tables = 0;
	char rel[512];

	for (size_t i = 0; i < sizeof(layout_files) / sizeof(layout_files[0]);
	     i++) {
		struct fx_layout l;
		espimg_flash *f = NULL;
		espimg_flash_opts o = { .file = layout_files[i] };
		espimg_source s;
		uint8_t *buf;
		size_t len;

		fx_layout_read(layout_files[i], &l);
		snprintf(rel, sizeof(rel), "images/%s", layout_files[i]);
		buf = fx_corpus_read(rel, &len);
		espimg_source_mem(&s, buf, len);
		espimg_diag_clear(D);
		cr_assert_eq(espimg_flash_locate(&s, &o, &f, D), 0, "%s",
			     layout_files[i]);

		cr_expect_eq(f->has_bootloader, l.boot >= 0, "%s", rel);
		if (l.boot >= 0) {
			const espimg_chip *chip = espimg_chip_by_id(l.chip_id);

			cr_expect_eq((long)f->bootloader_offset, l.boot, "%s", rel);
			cr_expect_eq(f->chip, chip, "%s", rel);
			cr_expect_eq(f->bootloader_offset_ok,
				     chip && (long)chip->bootloader_offset == l.boot,
				     "%s", rel);
			cr_expect_eq(fx_diag_count(D, "flash.bootloader_offset",
						   ESPIMG_SEV_WARNING),
				     f->bootloader_offset_ok ? 0u : 1u, "%s", rel);
			if (!f->bootloader_offset_ok)
				wrong_offset++;
			if (chip && !strcmp(chip->key, "esp32s3") && l.boot == 0x1000)
				s3_at_0x1000++;
		}
		if (l.table < 0) {
			cr_expect_null(f->table, "%s", rel);
			cr_expect_not_null(fx_diag_find(D, "flash.no_table",
							ESPIMG_SEV_ERROR));
		} else {
			cr_assert_not_null(f->table, "%s: %s", rel, diags());
			tables++;
			cr_expect_eq((long)f->table_offset, l.table, "%s", rel);
			cr_expect_eq(f->table_scanned, l.table != 0x8000);
			cr_expect(f->table->has_md5);
			cr_assert_eq(f->table->count, l.n, "%s", rel);
			for (size_t k = 0; k < l.n; k++) {
				const espimg_partition *p = &f->table->parts[k];
				cr_expect_str_eq(p->name, l.name[k]);
				cr_expect_eq(p->type, l.type[k]);
				cr_expect_eq(p->subtype, l.subtype[k]);
				cr_expect_eq(p->offset, l.offset[k]);
				cr_expect_eq(p->size, l.size[k]);
			}
			cr_expect_eq(espimg_diag_errors(D), 0, "%s: %s", rel,
				     diags());
		}
		cr_expect_eq(espimg_detect_content(&s),
			     l.table >= 0 ? ESPIMG_CONTENT_FLASH
					  : ESPIMG_CONTENT_IMAGE,
			     "%s", rel);
		espimg_flash_free(f);
		free(buf);
	}
	cr_expect_eq(tables, 7);
	cr_expect_eq(s3_at_0x1000, 1, "the S3 bootloader at 0x1000");
	/* the S3 one and the ESP32 files with their bootloader at 0x0 */
	cr_expect_eq(wrong_offset, 3);
}

/* The esptool merge-bin command line of gen/<name>: where the bootloader
 * and the partition table went, minus --target-offset. */
static void merge_offsets(const char *name, long *boot, long *table)
{
	char rel[256], *text, *cmd, *tok, *save = NULL, *prev = NULL;
	long target = 0;
	size_t len;

	snprintf(rel, sizeof(rel), "images/expected/gen/%s.gen.txt", name);
	text = (char *)fx_corpus_read(rel, &len);
	cmd = strtok_r(text, "\n", &save);
	cr_assert_not_null(cmd);
	*boot = *table = -1;
	save = NULL;
	for (tok = strtok_r(cmd, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (prev && !strcmp(prev, "--target-offset"))
			target = strtol(tok, NULL, 0);
		else if (prev && !strncmp(prev, "0x", 2) && strstr(tok, "bootloader"))
			*boot = strtol(prev, NULL, 0);
		else if (prev && !strncmp(prev, "0x", 2) && strstr(tok, "partition"))
			*table = strtol(prev, NULL, 0);
		prev = tok;
	}
	cr_assert(*boot >= 0 && *table >= 0, "%s", rel);
	*boot -= target;
	*table -= target;
	free(text);
}

Test(flash, corpus_merge_bin)
{
	static const char *const names[] = {
		"merge_c3_patched_qio_40m_4MB.bin", "merge_c3_raw.bin",
		"merge_esp32_fill1MB_dout.bin", "merge_esp32_raw.bin",
		"merge_esp32_target1000.bin",
	};
	char rel[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		espimg_flash *f = NULL;
		espimg_source s;
		uint8_t *buf;
		size_t len;
		long boot, table;

		merge_offsets(names[i], &boot, &table);
		snprintf(rel, sizeof(rel), "images/gen/%s", names[i]);
		buf = fx_corpus_read(rel, &len);
		espimg_source_mem(&s, buf, len);
		cr_expect_eq(espimg_detect_content(&s), ESPIMG_CONTENT_FLASH,
			     "%s", rel);
		espimg_diag_clear(D);
		cr_assert_eq(espimg_flash_locate(&s, NULL, &f, D), 0);
		cr_expect(f->has_bootloader, "%s", rel);
		cr_expect_eq((long)f->bootloader_offset, boot, "%s", rel);
		cr_assert_not_null(f->table, "%s", rel);
		cr_expect_eq((long)f->table_offset, table, "%s", rel);
		cr_expect_eq(f->table_scanned, table != 0x8000, "%s", rel);
		cr_expect_eq(f->bootloader_offset_ok,
			     (long)f->chip->bootloader_offset == boot, "%s", rel);
		cr_expect_eq(espimg_diag_errors(D), 0, "%s: %s", rel, diags());
		espimg_flash_free(f);
		free(buf);
	}
}

/* Every top-level corpus image esptool 5.3.1 reads (manifest kinds app,
 * bootloader, signed) is an IMAGE. */
Test(flash, corpus_images)
{
	size_t len, n = 0;
	char *text = (char *)fx_corpus_read("images/manifest.tsv", &len);
	char *line, *save = NULL, rel[600];

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[400], chip[32], kind[32];
		uint8_t *buf;
		size_t blen;

		if (sscanf(line, "%399[^\t]\t%31[^\t]\t%31[^\t]", name, chip,
			   kind) != 3 || strchr(name, '/'))
			continue;
		if (strcmp(kind, "app") && strcmp(kind, "bootloader") &&
		    strcmp(kind, "signed"))
			continue;
		/* esptool reads the bootloader at its start, but it is a
		 * merged file (see corpus_more_flash) */
		if (!strcmp(name, "14790897__usb_webcam_esp32s3__firmware.bin"))
			continue;
		snprintf(rel, sizeof(rel), "images/%s", name);
		buf = fx_corpus_read(rel, &blen);
		cr_expect_eq(detect_buf(buf, blen), ESPIMG_CONTENT_IMAGE, "%s",
			     rel);
		free(buf);
		n++;
	}
	free(text);
	cr_log_info("flash: %zu corpus images detected", n);
	cr_expect_geq(n, 50);
}

static void detect_dir(const char *reldir, espimg_content want, size_t *n)
{
	char *dir = fx_corpus_path(reldir);
	struct dirent *e;
	DIR *dp = opendir(dir);

	cr_assert_not_null(dp, "%s", dir);
	while ((e = readdir(dp)) != NULL) {
		size_t l = strlen(e->d_name), blen;
		char *path;
		uint8_t *buf = NULL;

		if (l < 5 || strcmp(e->d_name + l - 4, ".bin"))
			continue;
		path = fx_path(dir, e->d_name);
		cr_assert_eq(espimg_read_file(path, 1u << 20, &buf, &blen), 0);
		cr_expect_eq(detect_buf(buf, blen), want, "%s", path);
		free(buf);
		free(path);
		(*n)++;
	}
	closedir(dp);
	free(dir);
}

Test(flash, corpus_ptables)
{
	size_t n = 0;

	detect_dir("partitions/bin", ESPIMG_CONTENT_PTABLE, &n);
	detect_dir("partitions/bin/variants", ESPIMG_CONTENT_PTABLE, &n);
	detect_dir("partitions/bin/bad", ESPIMG_CONTENT_PTABLE, &n);
	detect_dir("partitions/upstream_bin", ESPIMG_CONTENT_PTABLE, &n);
	cr_log_info("flash: %zu corpus tables detected", n);
	cr_expect_eq(n, 226 + 53 + 56 + 2);
}

/* otadata vectors: input blobs are OTADATA exactly when the device would
 * see each record erased or with a good CRC (decoded by the otadata
 * module); the vectors' tables are PTABLE. */
Test(flash, corpus_otadata)
{
	char *root = fx_corpus_path("otadata/vectors");
	DIR *dp = opendir(root);
	struct dirent *e;
	size_t blobs = 0, ota = 0, tables = 0;

	cr_assert_not_null(dp);
	while ((e = readdir(dp)) != NULL) {
		static const char *const files[] = { "input.bin", "output.bin",
						     "after_boot.bin" };
		char *dir, *path;
		uint8_t *buf;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		dir = fx_path(root, e->d_name);
		for (size_t k = 0; k < 3; k++) {
			espimg_otadata_entry ent[2];
			bool want;

			path = fx_path(dir, files[k]);
			if (espimg_read_file(path, 1u << 20, &buf, &len)) {
				free(path);
				continue;
			}
			cr_assert_eq(espimg_otadata_decode(buf, len, NULL, ent,
							   NULL), 0);
			/* A record with a bad CRC counts when nothing else
			 * is written in its sector. */
			want = len % 0x1000 == 0 && len >= 0x2000 &&
			       (ent[0].erased || ent[0].crc_ok ||
				tail_erased(buf, 0)) &&
			       (ent[1].erased || ent[1].crc_ok ||
				tail_erased(buf, 0x1000));
			cr_expect_eq(detect_buf(buf, len),
				     want ? ESPIMG_CONTENT_OTADATA
					  : ESPIMG_CONTENT_UNKNOWN,
				     "%s", path);
			blobs++;
			ota += want;
			free(buf);
			free(path);
		}
		path = fx_path(dir, "partitions.bin");
		cr_assert_eq(espimg_read_file(path, 1u << 20, &buf, &len), 0);
		cr_expect_eq(detect_buf(buf, len), ESPIMG_CONTENT_PTABLE, "%s",
			     path);
		tables++;
		free(buf);
		free(path);
		free(dir);
	}
	closedir(dp);
	free(root);
	cr_log_info("flash: %zu otadata blobs, %zu detected as otadata, %zu tables",
		    blobs, ota, tables);
	cr_expect_eq(tables, 137);
	cr_expect_eq(blobs, 137 * 2 + 90);
	cr_expect_gt(ota, blobs / 2);
	cr_expect_lt(ota, blobs, "some vectors have bad CRCs");
}

/* Two more flash images of the corpus, checked by hand (hexdump): a
 * merged file the manifest calls an app, and a read-back of a Secure
 * Boot v1 device whose table sits at 0x10000 (after the 4 KiB digest
 * block at 0x0 and the bootloader at 0x1000; the rest is encrypted). */
Test(flash, corpus_more_flash)
{
	static const struct {
		const char *name;
		long boot, table;
		const char *chip, *first, *last;
		size_t count;
	} t[] = {
		{ "14790897__usb_webcam_esp32s3__firmware.bin", 0, 0x8000,
		  "esp32s3", "nvs", "factory", 2 },
		{ "KhiemCE22__Security-on-SoC-ESP32__flash_dump.bin", 0x1000,
		  0x10000, "esp32", "nvs", "factory", 3 },
	};
	char rel[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		espimg_flash *f = NULL;
		espimg_source s;
		uint8_t *buf;
		size_t len;

		snprintf(rel, sizeof(rel), "images/%s", t[i].name);
		buf = fx_corpus_read(rel, &len);
		espimg_source_mem(&s, buf, len);
		espimg_diag_clear(D);
		cr_assert_eq(espimg_flash_locate(&s, NULL, &f, D), 0);
		cr_expect(f->has_bootloader, "%s", rel);
		cr_expect_eq((long)f->bootloader_offset, t[i].boot, "%s", rel);
		cr_expect_eq(f->chip, espimg_chip_by_key(t[i].chip), "%s", rel);
		cr_expect(f->bootloader_offset_ok, "%s", rel);
		cr_assert_not_null(f->table, "%s", rel);
		cr_expect_eq((long)f->table_offset, t[i].table, "%s", rel);
		cr_expect_eq(f->table_scanned, t[i].table != 0x8000);
		cr_assert_eq(f->table->count, t[i].count, "%s", rel);
		cr_expect_str_eq(f->table->parts[0].name, t[i].first);
		cr_expect_str_eq(f->table->parts[t[i].count - 1].name, t[i].last);
		cr_expect_eq(espimg_diag_errors(D), 0, "%s: %s", rel, diags());
		espimg_flash_free(f);
		free(buf);
	}
}
