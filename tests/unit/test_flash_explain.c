/*
 * test_flash_explain.c - explaining whole flash images (flash_explain.c,
 * flash_svg.c): dumps built here from synthesised images, generated
 * tables and otadata written with the library - the next boot with
 * rollback off and on, fallbacks, NVS pages, erased and encrypted-looking
 * partitions, an image too big for its slot, another chip's image, an app
 * where the bootloader goes, partitions outside the file, a
 * --target-offset file - bounded and failing reads, the espimg.flash/1
 * keys, the text map and the SVG (well-formed XML, checked with python3);
 * then the corpus: every real merged image against its layout scan
 * (expected/NAME.layout.txt), app versions against espimg_image_read, the
 * S3 bootloader at the wrong offset, and a flash-encrypted device's dump
 * with NVS pages.
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

TestSuite(explain, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ building */

/* An app for the chip with this key: a DROM segment with the app
 * description, IRAM and IROM code (irom bytes of it). */
static uint8_t *mk_app(const char *key, const char *project,
		       const char *version, size_t irom, size_t *len)
{
	const synth_chip *c = fx_synth_chip(key);
	espimg_app_desc ad;
	uint8_t raw[256];
	synth_image s;

	synth_init(&s, c->id);
	synth_app_desc_init(&ad, project, version);
	ad.secure_version = 3;
	synth_app_desc_bytes(&ad, raw);
	cr_assert_geq(synth_add(&s, c->drom, raw, sizeof(raw)), 0);
	cr_assert_geq(synth_add_fill(&s, c->iram, 1024, SYNTH_FILL_RANDOM, 4), 0);
	cr_assert_geq(synth_add_fill(&s, c->irom, irom, SYNTH_FILL_COUNT, 5), 0);
	return fx_synth_finish(&s, len);
}

static uint8_t *mk_boot(const char *key, size_t *len)
{
	const synth_chip *c = fx_synth_chip(key);
	espimg_boot_desc bd;
	uint8_t raw[80];
	synth_image s;

	synth_init(&s, c->id);
	synth_boot_desc_init(&bd, 7);
	synth_boot_desc_bytes(&bd, raw);
	cr_assert_geq(synth_add(&s, c->dram, raw, sizeof(raw)), 0);
	cr_assert_geq(synth_add_fill(&s, c->iram, 2048, SYNTH_FILL_RANDOM, 3), 0);
	return fx_synth_finish(&s, len);
}

static espimg_ptable *parse_csv(const char *csv)
{
	espimg_ptable_opts o;
	espimg_ptable *t = NULL;

	espimg_ptable_opts_init(&o);
	cr_assert_eq(espimg_ptable_parse((const uint8_t *)csv, strlen(csv), &o,
					 "t.csv", &t, NULL),
		     0, "%s", csv);
	return t;
}

static void table_bin(const char *csv, bool md5,
		      uint8_t out[ESPIMG_PTABLE_BIN_SIZE])
{
	espimg_ptable_opts o;
	espimg_ptable *t = parse_csv(csv);

	espimg_ptable_opts_init(&o);
	o.md5 = md5;
	cr_assert_eq(espimg_ptable_to_binary(t, &o, out, NULL), 0);
	espimg_ptable_free(t);
}

/* A dump: `size` bytes of 0xFF, the chip's bootloader at its offset
 * (boot_at >= 0 overrides), the table at 0x8000 (table_at overrides). */
typedef struct dumpf {
	uint8_t *b;
	size_t size;
	const char *csv;
} dumpf;

static void put(dumpf *d, size_t at, const void *p, size_t n)
{
	cr_assert_leq(at + n, d->size, "0x%zx + 0x%zx", at, n);
	memcpy(d->b + at, p, n);
}

static dumpf mk_dump_at(const char *key, const char *csv, size_t size,
			long boot_at, long table_at, bool md5)
{
	dumpf d = { NULL, size, csv };
	uint8_t tab[ESPIMG_PTABLE_BIN_SIZE];
	uint8_t *b;
	size_t n;

	d.b = malloc(size);
	cr_assert_not_null(d.b);
	memset(d.b, 0xFF, size);
	b = mk_boot(key, &n);
	put(&d, boot_at >= 0 ? (size_t)boot_at
			     : espimg_chip_by_key(key)->bootloader_offset,
	    b, n);
	free(b);
	table_bin(csv, md5, tab);
	put(&d, table_at >= 0 ? (size_t)table_at : 0x8000, tab, sizeof(tab));
	return d;
}

static dumpf mk_dump(const char *key, const char *csv, size_t size)
{
	return mk_dump_at(key, csv, size, -1, -1, true);
}

/* An app image at `at`; returns its size. */
static size_t put_app(dumpf *d, size_t at, const char *key,
		      const char *version, size_t irom)
{
	size_t n;
	uint8_t *a = mk_app(key, "explained", version, irom, &n);

	put(d, at, a, n);
	free(a);
	return n;
}

/* The otadata partition of the dump's table as written by
 * esp_ota_set_boot_partition(slot) (slot < 0: left erased). */
static void put_otadata(dumpf *d, const char *slot)
{
	espimg_ptable *t = parse_csv(d->csv);
	espimg_otadata_layout *l = malloc(sizeof(*l));
	espimg_otadata_config *cfg = malloc(sizeof(*cfg));
	espimg_otadata_result res;
	uint8_t blob[0x2000];

	cr_assert(l && cfg);
	cr_assert_eq(espimg_otadata_layout_from_ptable(t, l, NULL), 0);
	cr_assert(l->has_otadata);
	espimg_otadata_config_init(cfg);
	cr_assert_eq(espimg_otadata_init(blob, sizeof(blob)), 0);
	cr_assert_eq(espimg_otadata_set_boot(blob, sizeof(blob), l, cfg,
					     espimg_otadata_find_app(l, slot),
					     &res, NULL),
		     0);
	cr_assert_eq(res.rc, ESPIMG_OTA_OK);
	put(d, l->otadata_offset, blob, sizeof(blob));
	espimg_ptable_free(t);
	free(l);
	free(cfg);
}

static espimg_flash_explain *explain_buf(const uint8_t *b, size_t n)
{
	espimg_explain_opts o = { .flash = { .file = "dump.bin" } };
	espimg_flash_explain *x = NULL;
	espimg_source s;

	espimg_source_mem(&s, b, n);
	espimg_diag_clear(D);
	cr_assert_eq(espimg_flash_explain_read(&s, &o, &x, D), 0);
	cr_assert_not_null(x);
	return x;
}

static espimg_flash_explain *explain(const dumpf *d)
{
	return explain_buf(d->b, d->size);
}

static int part_index(const espimg_flash_explain *x, const char *name)
{
	for (size_t i = 0; i < x->nparts; i++)
		if (!strcmp(x->parts[i].part->name, name))
			return (int)i;
	cr_assert_fail("no partition %s", name);
	return -1;
}

static const espimg_flash_part *part(const espimg_flash_explain *x,
				     const char *name)
{
	return &x->parts[part_index(x, name)];
}

static const char *boot_name(const espimg_flash_explain *x, int i)
{
	return i >= 0 ? x->parts[i].part->name : "(none)";
}

/* Two OTA slots, no factory. */
static const char ota_csv[] =
	"nvs,      data, nvs,    0x9000,  0x4000\n"
	"otadata,  data, ota,    0xd000,  0x2000\n"
	"phy_init, data, phy,    0xf000,  0x1000\n"
	"ota_0,    app,  ota_0,  0x10000, 0x40000\n"
	"ota_1,    app,  ota_1,  0x50000, 0x40000\n"
	"storage,  data, spiffs, 0x90000, 0x10000\n";
#define OTA_SIZE 0xA0000u

/* ------------------------------------------------------------ names */

Test(explain, content_names)
{
	static const struct {
		espimg_part_content c;
		const char *name;
	} t[] = {
		{ ESPIMG_PART_UNKNOWN, "unknown" },
		{ ESPIMG_PART_OUTSIDE, "outside" },
		{ ESPIMG_PART_ERASED, "erased" },
		{ ESPIMG_PART_IMAGE, "image" },
		{ ESPIMG_PART_OTADATA, "otadata" },
		{ ESPIMG_PART_NVS, "nvs" },
		{ ESPIMG_PART_ENCRYPTED, "encrypted" },
		{ ESPIMG_PART_DATA, "data" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_expect_str_eq(espimg_part_content_name(t[i].c), t[i].name);
	cr_expect_str_eq(espimg_part_content_name((espimg_part_content)99),
			 "unknown");
}

/* ------------------------------------------------------------ boot */

Test(explain, boots_the_slot_otadata_selects)
{
	dumpf d = mk_dump("esp32c3", ota_csv, OTA_SIZE);
	espimg_flash_explain *x;
	const espimg_flash_part *p;
	size_t n0, n1;

	n0 = put_app(&d, 0x10000, "esp32c3", "1.0", 4000);
	n1 = put_app(&d, 0x50000, "esp32c3", "2.0", 8000);
	put_otadata(&d, "ota_1");
	x = explain(&d);

	cr_expect(x->flash->has_bootloader);
	cr_expect(x->bootloader_ok);
	cr_expect(x->bootloader_runs);
	cr_expect_eq(x->bootloader_kind, ESPIMG_KIND_BOOTLOADER);
	cr_expect_str_eq(x->bootloader_version, "7");
	cr_expect_str_eq(x->bootloader_idf_ver, "v5.4.1");
	cr_expect_eq(x->flash_size, 4u << 20);
	cr_assert_eq(x->nparts, 6);

	p = part(x, "ota_0");
	cr_expect_eq(p->content, ESPIMG_PART_IMAGE);
	cr_expect(p->app_slot && p->image_ok && p->chip_ok && p->fits &&
		  p->bootable);
	cr_expect_str_eq(p->project, "explained");
	cr_expect_str_eq(p->version, "1.0");
	cr_expect_str_eq(p->idf_ver, "v5.4.1");
	cr_expect_eq(p->secure_version, 3);
	cr_expect_eq(p->used, n0);
	cr_expect_eq(p->kind, ESPIMG_KIND_APP);
	cr_expect_str_eq(p->problem, "");
	p = part(x, "ota_1");
	cr_expect_str_eq(p->version, "2.0");
	cr_expect_eq(p->used, n1);
	cr_expect_eq(p->file_offset, 0x50000);
	cr_expect_eq(p->in_file, 0x40000);

	p = part(x, "otadata");
	cr_expect_eq(p->content, ESPIMG_PART_OTADATA);
	cr_expect_eq(p->ota_active_entry, 0);
	cr_expect_eq(p->ota_seq[0], 2);
	cr_expect(p->ota_valid[0]);
	cr_expect_not(p->ota_valid[1]);

	cr_expect_str_eq(boot_name(x, x->boot), "ota_1");
	cr_expect_str_eq(boot_name(x, x->boot_rollback), "ota_1");
	cr_expect(x->boots);
	cr_expect(strstr(x->boot_reason, "seq 2") &&
		  strstr(x->boot_reason, "selects ota_1") &&
		  strstr(x->boot_reason, "ota_1 loads"),
		  "%s", x->boot_reason);
	cr_expect_eq(espimg_diag_errors(D), 0, "%s", diags());
	cr_expect_null(fx_diag_find(D, "flash.boot_fallback", -1));
	espimg_flash_explain_free(x);

	/* ota_1's image corrupted: the bootloader falls back to ota_0 */
	d.b[0x50000 + n1 - 40] ^= 0x55;
	x = explain(&d);
	p = part(x, "ota_1");
	cr_expect_eq(p->content, ESPIMG_PART_IMAGE);
	cr_expect_not(p->image_ok);
	cr_expect_not(p->bootable);
	cr_expect_neq(p->problem[0], '\0');
	cr_expect_str_eq(boot_name(x, x->boot), "ota_0");
	cr_expect(x->boots);
	cr_expect(strstr(x->boot_reason, "ota_1 does not load, so it falls "
					 "back to ota_0"),
		  "%s", x->boot_reason);
	cr_expect_not_null(fx_diag_find(D, "flash.boot_fallback",
					ESPIMG_SEV_WARNING));
	cr_expect_not_null(fx_diag_find(D, "flash.image_invalid",
					ESPIMG_SEV_ERROR), "%s", diags());
	espimg_flash_explain_free(x);

	/* and ota_0 erased too: nothing loads */
	memset(d.b + 0x10000, 0xFF, 0x40000);
	x = explain(&d);
	cr_expect_eq(part(x, "ota_0")->content, ESPIMG_PART_ERASED);
	cr_expect_eq(x->boot, -1);
	cr_expect_not(x->boots);
	cr_expect(strstr(x->boot_reason, "the bootloader resets"), "%s",
		  x->boot_reason);
	cr_expect_not_null(fx_diag_find(D, "flash.no_boot", ESPIMG_SEV_ERROR));
	espimg_flash_explain_free(x);
	free(d.b);
}

Test(explain, erased_otadata_and_factory)
{
	static const char csv[] =
		"nvs,     data, nvs,     0x9000,  0x4000\n"
		"otadata, data, ota,     0xd000,  0x2000\n"
		"factory, app,  factory, 0x10000, 0x20000\n"
		"ota_0,   app,  ota_0,   0x30000, 0x20000\n"
		"ota_1,   app,  ota_1,   0x50000, 0x20000\n";
	dumpf d = mk_dump("esp32s3", csv, 0x70000);
	espimg_flash_explain *x;

	put_app(&d, 0x10000, "esp32s3", "f", 2000);
	put_app(&d, 0x30000, "esp32s3", "a", 2000);
	x = explain(&d);
	cr_expect_str_eq(boot_name(x, x->boot), "factory");
	cr_expect(strstr(x->boot_reason, "otadata is erased: the bootloader "
					 "starts with the factory app"),
		  "%s", x->boot_reason);
	cr_expect_eq(part(x, "otadata")->ota_active_entry, -1);
	cr_expect_eq(part(x, "ota_1")->content, ESPIMG_PART_ERASED);
	cr_expect_not(part(x, "ota_1")->bootable);
	espimg_flash_explain_free(x);

	/* no factory image: the walk goes on to ota_0 */
	memset(d.b + 0x10000, 0xFF, 0x1000);
	x = explain(&d);
	cr_expect_str_eq(boot_name(x, x->boot), "ota_0");
	cr_expect(strstr(x->boot_reason, "factory does not load, so it "
					 "falls back to ota_0"),
		  "%s", x->boot_reason);
	espimg_flash_explain_free(x);
	free(d.b);
}

Test(explain, rollback_pending_verify)
{
	dumpf d = mk_dump("esp32c3", ota_csv, OTA_SIZE);
	espimg_flash_explain *x;
	uint8_t blob[0x2000];

	put_app(&d, 0x10000, "esp32c3", "1.0", 2000);
	put_app(&d, 0x50000, "esp32c3", "2.0", 2000);
	/* ota_0 confirmed (seq 1); ota_1 booted once and never confirmed */
	memset(blob, 0xFF, sizeof(blob));
	espimg_otadata_entry_encode(blob, 1, NULL, ESPIMG_OTA_STATE_VALID);
	espimg_otadata_entry_encode(blob + 0x1000, 2, NULL,
				    ESPIMG_OTA_STATE_PENDING_VERIFY);
	put(&d, 0xd000, blob, sizeof(blob));
	x = explain(&d);
	cr_expect_eq(part(x, "otadata")->ota_active_entry, 1);
	cr_expect_eq(part(x, "otadata")->ota_state[1],
		     ESPIMG_OTA_STATE_PENDING_VERIFY);
	/* without rollback PENDING_VERIFY is just a state */
	cr_expect_str_eq(boot_name(x, x->boot), "ota_1");
	/* with it, the bootloader aborts the entry and goes back */
	cr_expect_str_eq(boot_name(x, x->boot_rollback), "ota_0");
	cr_expect(strstr(x->boot_rollback_reason, "entry 1 was PENDING_VERIFY") &&
		  strstr(x->boot_rollback_reason, "ABORTED") &&
		  strstr(x->boot_rollback_reason, "selects ota_0"),
		  "%s", x->boot_rollback_reason);
	espimg_flash_explain_free(x);

	/* a NEW entry: rollback builds boot it once as PENDING_VERIFY */
	espimg_otadata_entry_encode(blob + 0x1000, 2, NULL,
				    ESPIMG_OTA_STATE_NEW);
	put(&d, 0xd000, blob, sizeof(blob));
	x = explain(&d);
	cr_expect_str_eq(boot_name(x, x->boot), "ota_1");
	cr_expect_str_eq(boot_name(x, x->boot_rollback), "ota_1");
	cr_expect(strstr(x->boot_rollback_reason, "becomes PENDING_VERIFY"),
		  "%s", x->boot_rollback_reason);
	cr_expect_null(strstr(x->boot_reason, "PENDING_VERIFY"), "%s",
		       x->boot_reason);
	espimg_flash_explain_free(x);
	free(d.b);
}

Test(explain, no_otadata_partition)
{
	static const char csv[] =
		"nvs,     data, nvs,     0x9000,  0x6000\n"
		"factory, app,  factory, 0x10000, 0x20000\n";
	dumpf d = mk_dump("esp32h2", csv, 0x30000);
	espimg_flash_explain *x;

	put_app(&d, 0x10000, "esp32h2", "1", 2000);
	x = explain(&d);
	cr_expect_str_eq(boot_name(x, x->boot), "factory");
	cr_expect(strstr(x->boot_reason, "no otadata partition"), "%s",
		  x->boot_reason);
	cr_expect(x->boots);
	espimg_flash_explain_free(x);
	free(d.b);
}

/* ------------------------------------------------------------ content */

/* An NVS page header (nvs_page.hpp Page::Header): state, seq, version
 * 0xFE, reserved 0xFF, CRC of bytes 4..27. */
static void nvs_page(uint8_t *pg, uint32_t state, uint32_t seq, bool bad_crc)
{
	uint32_t crc;

	memset(pg, 0xFF, 32);
	pg[0] = (uint8_t)state;
	pg[1] = (uint8_t)(state >> 8);
	pg[2] = (uint8_t)(state >> 16);
	pg[3] = (uint8_t)(state >> 24);
	pg[4] = (uint8_t)seq;
	pg[5] = (uint8_t)(seq >> 8);
	pg[6] = (uint8_t)(seq >> 16);
	pg[7] = (uint8_t)(seq >> 24);
	pg[8] = 0xFE;
	crc = (uint32_t)crc32(0xFFFFFFFFul, pg + 4, 24) ^ (bad_crc ? 1u : 0u);
	pg[28] = (uint8_t)crc;
	pg[29] = (uint8_t)(crc >> 8);
	pg[30] = (uint8_t)(crc >> 16);
	pg[31] = (uint8_t)(crc >> 24);
	/* the entry state bitmap and a first entry, as written pages have */
	memset(pg + 32, 0xAA, 32);
	memset(pg + 64, 0x01, 32);
}

Test(explain, nvs_pages)
{
	static const char csv[] =
		"nvs,     data, nvs,     0x9000,  0x6000\n"
		"factory, app,  factory, 0x10000, 0x10000\n";
	dumpf d = mk_dump("esp32", csv, 0x20000);
	espimg_flash_explain *x;
	const espimg_flash_part *p;

	put_app(&d, 0x10000, "esp32", "1", 1000);
	x = explain(&d);
	p = part(x, "nvs");
	cr_expect_eq(p->content, ESPIMG_PART_ERASED);
	cr_expect_eq(p->nvs_pages_erased, 6);
	cr_expect_eq(p->used, 0);
	espimg_flash_explain_free(x);

	nvs_page(d.b + 0x9000, 0xFFFFFFFC, 0, false);  /* full */
	nvs_page(d.b + 0xA000, 0xFFFFFFFC, 1, false);  /* full */
	nvs_page(d.b + 0xB000, 0xFFFFFFFE, 2, false);  /* active */
	nvs_page(d.b + 0xC000, 0xFFFFFFF8, 3, false);  /* freeing */
	nvs_page(d.b + 0xD000, 0xFFFFFFFE, 4, true);   /* bad CRC */
	/* 0xE000 stays erased */
	x = explain(&d);
	p = part(x, "nvs");
	cr_expect_eq(p->content, ESPIMG_PART_NVS);
	cr_expect_eq(p->nvs_pages_full, 2);
	cr_expect_eq(p->nvs_pages_active, 1);
	cr_expect_eq(p->nvs_pages_freeing, 1);
	cr_expect_eq(p->nvs_pages_corrupt, 1);
	cr_expect_eq(p->nvs_pages_erased, 1);
	cr_expect_eq(p->used, 0x4000 + 96);
	espimg_flash_explain_free(x);

	/* an uninitialised page with bytes in it, an unknown state: corrupt;
	 * no good header at all: just data */
	memset(d.b + 0x9000, 0xFF, 0x6000);
	d.b[0x9000 + 100] = 0;
	nvs_page(d.b + 0xA000, 0x12345678, 1, false);
	x = explain(&d);
	p = part(x, "nvs");
	cr_expect_eq(p->content, ESPIMG_PART_DATA);
	cr_expect_eq(p->nvs_pages_corrupt, 2);
	cr_expect_eq(p->nvs_pages_erased, 4);
	espimg_flash_explain_free(x);
	free(d.b);
}

Test(explain, encrypted_looking)
{
	static const char csv[] =
		"nvs,     data, nvs,    0x9000,  0x6000\n"
		"ota_0,   app,  ota_0,  0x10000, 0x10000\n"
		"ota_1,   app,  ota_1,  0x20000, 0x10000\n"
		"keys,    data, 0x99,   0x30000, 0x1000, encrypted\n"
		"blob,    data, 0x99,   0x31000, 0x1000\n"
		"text,    app,  ota_2,  0x40000, 0x10000\n";
	dumpf d = mk_dump("esp32c6", csv, 0x50000);
	espimg_flash_explain *x;
	const espimg_flash_part *p;

	put_app(&d, 0x10000, "esp32c6", "1", 1000);
	synth_fill_bytes(d.b + 0x20000, 0x8000, SYNTH_FILL_RANDOM, 99);
	d.b[0x20000] = 0x12; /* not 0xE9 */
	synth_fill_bytes(d.b + 0x30000, 0x1000, SYNTH_FILL_RANDOM, 98);
	synth_fill_bytes(d.b + 0x31000, 0x1000, SYNTH_FILL_RANDOM, 97);
	synth_fill_bytes(d.b + 0x40000, 0x2000, SYNTH_FILL_COUNT, 0);
	x = explain(&d);
	p = part(x, "ota_1");
	cr_expect_eq(p->content, ESPIMG_PART_ENCRYPTED);
	cr_expect_not(p->bootable);
	cr_expect(strstr(p->problem, "encrypted"), "%s", p->problem);
	cr_expect_eq(p->used, 0x8000);
	cr_expect_eq(part(x, "keys")->content, ESPIMG_PART_ENCRYPTED);
	/* random data in a data partition that is not flagged: data */
	cr_expect_eq(part(x, "blob")->content, ESPIMG_PART_DATA);
	/* a counting pattern in an app slot is not random */
	p = part(x, "text");
	cr_expect_eq(p->content, ESPIMG_PART_DATA);
	cr_expect(strstr(p->problem, "first byte is 0x00"), "%s", p->problem);
	cr_expect_eq(fx_diag_count(D, "flash.encrypted", ESPIMG_SEV_NOTE), 2,
		     "%s", diags());
	cr_expect_str_eq(boot_name(x, x->boot), "ota_0");
	espimg_flash_explain_free(x);
	free(d.b);
}

/* A flash-encrypted app read back from a device (corpus): its first
 * 64 KiB in an app slot look encrypted. */
Test(explain, encrypted_corpus)
{
	static const char csv[] =
		"factory, app, factory, 0x10000, 0x10000\n";
	dumpf d;
	espimg_flash_explain *x;
	size_t n;
	uint8_t *enc = fx_corpus_read(
		"images/KhiemCE22__Security-on-SoC-ESP32__flash_contents_"
		"encryption.bin",
		&n);

	cr_assert_geq(n, 0x10000);
	d = mk_dump("esp32", csv, 0x20000);
	put(&d, 0x10000, enc, 0x10000);
	x = explain(&d);
	cr_expect_eq(part(x, "factory")->content, ESPIMG_PART_ENCRYPTED);
	cr_expect_eq(x->boot, -1);
	espimg_flash_explain_free(x);
	free(d.b);
	free(enc);
}

Test(explain, image_too_big_and_other_chip)
{
	static const char csv[] =
		"otadata, data, ota,    0xd000,  0x2000\n"
		"ota_0,   app,  ota_0,  0x10000, 0x10000\n"
		"ota_1,   app,  ota_1,  0x20000, 0x10000\n"
		"ota_2,   app,  ota_2,  0x30000, 0x10000\n";
	dumpf d = mk_dump("esp32c3", csv, 0x40000);
	espimg_flash_explain *x;
	const espimg_flash_part *p;
	size_t big;

	big = put_app(&d, 0x10000, "esp32c3", "big", 0x14000);
	cr_assert_gt(big, 0x10000);
	put_app(&d, 0x30000, "esp32s3", "s3", 1000);
	x = explain(&d);
	p = part(x, "ota_0");
	cr_expect_eq(p->content, ESPIMG_PART_IMAGE);
	cr_expect(p->image_ok, "%s", p->problem);
	cr_expect_not(p->fits);
	cr_expect_not(p->bootable);
	cr_expect_eq(p->used, big);
	cr_expect(strstr(p->problem, "partition has 0x10000"), "%s",
		  p->problem);
	cr_expect_not_null(fx_diag_find(D, "flash.image_too_big",
					ESPIMG_SEV_ERROR), "%s", diags());
	/* its tail fills the start of ota_1, which is no image */
	cr_expect_eq(part(x, "ota_1")->content, ESPIMG_PART_DATA);

	p = part(x, "ota_2");
	cr_expect(p->image_ok && p->fits);
	cr_expect_not(p->chip_ok);
	cr_expect_not(p->bootable);
	cr_expect_eq(p->image_chip, espimg_chip_by_key("esp32s3"));
	cr_expect(strstr(p->problem, "ESP32-S3") && strstr(p->problem, "ESP32-C3"),
		  "%s", p->problem);
	cr_expect_not_null(fx_diag_find(D, "flash.image_chip", ESPIMG_SEV_ERROR));
	cr_expect_eq(x->boot, -1);
	cr_expect_not(x->boots);
	espimg_flash_explain_free(x);
	free(d.b);
}

Test(explain, partitions_outside_the_file)
{
	dumpf d = mk_dump("esp32c3", ota_csv, 0x60000);
	espimg_flash_explain *x;
	const espimg_flash_part *p;

	put_app(&d, 0x10000, "esp32c3", "1", 2000);
	x = explain(&d);
	p = part(x, "ota_1");
	cr_expect_eq(p->content, ESPIMG_PART_ERASED);
	cr_expect_eq(p->in_file, 0x10000);
	p = part(x, "storage");
	cr_expect_eq(p->content, ESPIMG_PART_OUTSIDE);
	cr_expect_eq(p->in_file, 0);
	cr_expect_eq(p->used, 0);
	cr_expect_eq(fx_diag_count(D, "flash.partition_outside",
				   ESPIMG_SEV_WARNING), 2, "%s", diags());
	cr_expect_str_eq(boot_name(x, x->boot), "ota_0");
	espimg_flash_explain_free(x);

	/* a file that ends inside the image */
	x = explain_buf(d.b, 0x10000 + 3000);
	p = part(x, "ota_0");
	cr_expect_eq(p->content, ESPIMG_PART_IMAGE);
	cr_expect_not(p->image_ok);
	cr_expect_str_eq(p->problem, "the file ends inside the image");
	cr_expect_eq(part(x, "ota_1")->content, ESPIMG_PART_OUTSIDE);
	cr_expect_eq(x->boot, -1);
	espimg_flash_explain_free(x);
	free(d.b);
}

Test(explain, bootloader_problems)
{
	dumpf d = mk_dump("esp32s3", ota_csv, OTA_SIZE);
	espimg_flash_explain *x;
	uint8_t *a;
	size_t n;

	put_app(&d, 0x10000, "esp32s3", "1", 2000);
	/* the S3 bootloader moved to 0x1000 (one corpus file has that) */
	memmove(d.b + 0x1000, d.b, 0x5000);
	memset(d.b, 0xFF, 0x1000);
	x = explain(&d);
	cr_expect_eq(x->flash->bootloader_offset, 0x1000);
	cr_expect_not(x->flash->bootloader_offset_ok);
	cr_expect(x->bootloader_ok);
	cr_expect_not(x->bootloader_runs);
	cr_expect_str_eq(boot_name(x, x->boot), "ota_0");
	cr_expect_not(x->boots);
	cr_expect_not_null(fx_diag_find(D, "flash.bootloader_offset",
					ESPIMG_SEV_WARNING));
	cr_expect_not_null(fx_diag_find(D, "flash.no_boot", ESPIMG_SEV_ERROR));
	espimg_flash_explain_free(x);

	/* an app where the bootloader goes */
	memset(d.b, 0xFF, 0x8000);
	a = mk_app("esp32s3", "notboot", "1", 2000, &n);
	put(&d, 0, a, n);
	free(a);
	x = explain(&d);
	cr_expect(x->flash->bootloader_offset_ok);
	cr_expect_eq(x->bootloader_kind, ESPIMG_KIND_APP);
	cr_expect_not(x->bootloader_ok);
	cr_expect_not(x->bootloader_runs);
	cr_expect_not(x->boots);
	cr_expect_not_null(fx_diag_find(D, "flash.bootloader_is_app",
					ESPIMG_SEV_ERROR));
	espimg_flash_explain_free(x);

	/* a bootloader with a bad checksum */
	a = mk_boot("esp32s3", &n);
	memset(d.b, 0xFF, 0x8000);
	put(&d, 0, a, n);
	d.b[n - 40] ^= 1;
	free(a);
	x = explain(&d);
	cr_expect_not(x->bootloader_ok);
	cr_expect_neq(x->bootloader_problem[0], '\0');
	cr_expect_not(x->boots);
	cr_expect_not_null(fx_diag_find(D, "flash.bootloader_invalid",
					ESPIMG_SEV_ERROR));
	espimg_flash_explain_free(x);

	/* no bootloader at all */
	memset(d.b, 0xFF, 0x8000);
	x = explain(&d);
	cr_expect_not(x->flash->has_bootloader);
	cr_expect_null(x->flash->chip);
	cr_expect_not(x->boots);
	/* without the bootloader's chip, an image's own chip is taken */
	cr_expect(part(x, "ota_0")->bootable);
	espimg_flash_explain_free(x);
	free(d.b);
}

Test(explain, target_offset_file)
{
	/* esptool merge-bin --target-offset 0x1000 for an ESP32: the file
	 * starts at flash 0x1000 */
	dumpf d = mk_dump_at("esp32", ota_csv, OTA_SIZE - 0x1000, 0, 0x7000, true);
	espimg_flash_explain *x;
	const espimg_flash_part *p;

	put_app(&d, 0x10000 - 0x1000, "esp32", "t", 2000);
	put_otadata(&d, "ota_0");
	/* put_otadata wrote at the flash offset: move it down */
	memmove(d.b + 0xd000 - 0x1000, d.b + 0xd000, 0x2000);
	memset(d.b + 0xe000, 0xFF, 0x1000);
	x = explain(&d);
	cr_expect_eq(x->flash->base_offset, 0x1000);
	cr_expect(x->bootloader_runs);
	p = part(x, "ota_0");
	cr_expect_eq(p->file_offset, 0xF000);
	cr_expect_eq(p->content, ESPIMG_PART_IMAGE);
	cr_expect_str_eq(p->version, "t");
	cr_expect_eq(part(x, "otadata")->ota_active_entry, 0);
	cr_expect_str_eq(boot_name(x, x->boot), "ota_0");
	cr_expect(x->boots);
	espimg_flash_explain_free(x);
	free(d.b);
}

Test(explain, no_table)
{
	dumpf d = mk_dump("esp32c3", ota_csv, 0x20000);
	espimg_flash_explain *x;

	memset(d.b + 0x8000, 0xFF, 0x1000);
	x = explain(&d);
	cr_expect_null(x->flash->table);
	cr_expect_eq(x->nparts, 0);
	cr_expect_null(x->parts);
	cr_expect_eq(x->boot, -1);
	cr_expect_eq(x->boot_rollback, -1);
	cr_expect(strstr(x->boot_reason, "no partition table"), "%s",
		  x->boot_reason);
	cr_expect_not(x->boots);
	espimg_flash_explain_free(x);
	free(d.b);
}

/* ------------------------------------------------------------ reading */

Test(explain, bounded_reads_16mb)
{
	static const char csv[] =
		"nvs,      data, nvs,    0x9000,   0x6000\n"
		"otadata,  data, ota,    0xf000,   0x2000\n"
		"ota_0,    app,  ota_0,  0x20000,  0x400000\n"
		"ota_1,    app,  ota_1,  0x420000, 0x400000\n"
		"storage,  data, spiffs, 0x820000, 0x7E0000\n";
	dumpf d = mk_dump("esp32s3", csv, 0x30000);
	struct fx_csrc c;
	espimg_source s;
	espimg_flash_explain *x = NULL;
	espimg_explain_opts o = { 0 };

	put_app(&d, 0x20000, "esp32s3", "1", 0x8000);
	s = fx_csrc_init(&c, d.b, d.size, 16u << 20);
	cr_assert_eq(espimg_flash_explain_read(&s, &o, &x, D), 0, "%s",
		     diags());
	cr_expect_not(c.out_of_range);
	cr_expect_leq(c.max_read, 256u * 1024, "%zu", c.max_read);
	/* every byte once for the erased scans, plus the image and the
	 * headers: well below twice the dump */
	cr_expect_leq(c.bytes, 2 * s.size, "%llu", (unsigned long long)c.bytes);
	cr_expect_eq(part(x, "storage")->content, ESPIMG_PART_ERASED);
	cr_expect_eq(part(x, "ota_1")->content, ESPIMG_PART_ERASED);
	cr_expect_str_eq(boot_name(x, x->boot), "ota_0");
	cr_expect(x->boots);
	espimg_flash_explain_free(x);

	/* every read call failing in turn: EIO, nothing returned */
	for (unsigned k = 1; k < 40; k++) {
		s = fx_csrc_init(&c, d.b, d.size, 1u << 20);
		c.fail_at = k;
		x = (espimg_flash_explain *)&c;
		espimg_diag_clear(D);
		int r = espimg_flash_explain_read(&s, &o, &x, D);

		if (c.calls < k) {
			cr_expect_eq(r, 0);
			espimg_flash_explain_free(x);
			break;
		}
		cr_expect_eq(r, ESPIMG_EIO, "call %u", k);
		cr_expect_null(x);
	}

	/* bigger than any flash; bad arguments */
	s = fx_csrc_init(&c, d.b, d.size, (uint64_t)ESPIMG_FLASH_MAX_SIZE + 1);
	cr_expect_eq(espimg_flash_explain_read(&s, NULL, &x, D), ESPIMG_ETOOBIG);
	cr_expect_null(x);
	cr_expect_eq(c.calls, 0);
	cr_expect_eq(espimg_flash_explain_read(NULL, NULL, &x, D), ESPIMG_EINVAL);
	cr_expect_eq(espimg_flash_explain_read(&s, NULL, NULL, D), ESPIMG_EINVAL);
	espimg_flash_explain_free(NULL);
	free(d.b);
}

/* ------------------------------------------------------------ output */

static char *emit_doc(const espimg_flash_explain *x, espimg_format fmt)
{
	struct fx_sink s = { 0 };
	espimg_emitter *e = espimg_emit_new(fmt, fx_sink_write, &s);

	cr_assert_not_null(e);
	cr_assert_eq(espimg_emit_begin_doc(e, "espimg.flash/1"), 0);
	cr_assert_eq(espimg_flash_explain_emit(x, "dump.bin", e), 0);
	cr_assert_eq(espimg_emit_end_doc(e), 0);
	espimg_emit_free(e);
	return s.data;
}

/* Runs python3 on a script with a file holding text as argv[1] and args
 * (words, no quotes) after it: its exit status, or -1 when python3 is
 * missing. */
static int python_check(const char *script, const char *text,
			const char *args)
{
	char *dir = fx_tmpdir(), *path, cmd[1024];
	int r;

	cr_assert_not_null(dir);
	path = fx_path(dir, "f");
	cr_assert_eq(fx_write_file(path, text, strlen(text)), 0);
	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		fx_rmtree(dir);
		free(dir);
		free(path);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "python3 -c '%s' '%s' %s", script, path,
		 args);
	r = system(cmd);
	fx_rmtree(dir);
	free(dir);
	free(path);
	return r;
}

/* The synthesised dump every output test uses: ota_1 boots, NVS pages,
 * storage erased, the end of the table's storage outside the file. */
static dumpf output_dump(void)
{
	dumpf d = mk_dump("esp32c3", ota_csv, 0x90000);

	put_app(&d, 0x10000, "esp32c3", "1.0", 4000);
	put_app(&d, 0x50000, "esp32c3", "2.0", 8000);
	put_otadata(&d, "ota_1");
	nvs_page(d.b + 0x9000, 0xFFFFFFFE, 0, false);
	return d;
}

Test(explain, emit_keys)
{
	static const char *const keys[] = {
		"\"schema\": \"espimg.flash/1\"", "\"file\": \"dump.bin\"",
		"\"chip\": \"esp32c3\"", "\"bootloader\": {", "\"offset\": 0,",
		"\"offset_ok\": true", "\"expected_offset\": 0,",
		"\"partition_table\": {", "\"offset\": 32768,",
		"\"partitions\": [", "\"name\": \"ota_1\"", "\"type\": \"app\"",
		"\"subtype\": \"ota_1\"", "\"offset\": 327680,",
		"\"size\": 262144,", "\"app\": {", "\"project\": \"explained\"",
		"\"version\": \"2.0\"", "\"valid\": true", "\"bootable\": true",
		"\"content\": \"nvs\"", "\"active\": 1",
		"\"content\": \"outside\"", "\"boot\": \"ota_1\"",
		"\"boot_rollback\": \"ota_1\"", "\"boots\": true",
		"\"active_entry\": 0",
	};
	dumpf d = output_dump();
	espimg_flash_explain *x = explain(&d);
	char *j = emit_doc(x, ESPIMG_FORMAT_JSON), *y;
	int r;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_expect_not_null(strstr(j, keys[i]), "%s not in\n%s", keys[i], j);
	r = python_check("import json,sys; d=json.load(open(sys.argv[1])); "
			 "assert d[\"schema\"]==\"espimg.flash/1\"; "
			 "assert [p[\"name\"] for p in d[\"partitions\"]]=="
			 "[\"nvs\",\"otadata\",\"phy_init\",\"ota_0\",\"ota_1\","
			 "\"storage\"]; "
			 "assert d[\"partitions\"][2][\"app\"] is None",
			 j, "");
	if (r >= 0)
		cr_expect_eq(r, 0, "%s", j);
	y = emit_doc(x, ESPIMG_FORMAT_YAML);
	cr_expect_not_null(strstr(y, "boot: ota_1"), "%s", y);
	free(y);
	free(j);
	cr_expect_eq(espimg_flash_explain_emit(NULL, NULL, NULL), ESPIMG_EINVAL);
	espimg_flash_explain_free(x);
	free(d.b);
}

Test(explain, text_map)
{
	dumpf d = output_dump();
	espimg_flash_explain *x = explain(&d);
	char *t = NULL, *line, *save = NULL;
	size_t len = 0, bars = 0;

	cr_assert_eq(espimg_flash_explain_text(x, "dump.bin", &t, &len), 0);
	cr_assert_not_null(t);
	cr_expect_eq(strlen(t), len);
	cr_expect(strstr(t, "dump.bin: ESP32-C3 flash image") &&
		  strstr(t, "boots ota_1") && strstr(t, "flash map:") &&
		  strstr(t, "NVS: 1 active"),
		  "%s", t);
	for (line = strtok_r(t, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *a = strchr(line, '|'), *b = a ? strchr(a + 1, '|') : NULL;

		if (!a || !b)
			continue;
		bars++;
		cr_expect_eq(b - a - 1, 64, "%s", line);
		if (strstr(line, "ota_1 ") == line + 2) {
			cr_expect_not_null(strstr(line, "<- boots"), "%s", line);
			cr_expect_eq(a[1 + 0x50000 * 64 / (4u << 20)], '#', "%s",
				     line);
		}
		if (strstr(line, "storage") == line + 2)
			cr_expect_not_null(strchr(a, '?'), "%s", line);
	}
	cr_expect_eq(bars, 2 + 6);
	free(t);
	cr_expect_eq(espimg_flash_explain_text(NULL, NULL, &t, NULL),
		     ESPIMG_EINVAL);
	espimg_flash_explain_free(x);
	free(d.b);
}

static const char xml_check[] =
	"import sys, xml.dom.minidom as m; "
	"d = m.parse(sys.argv[1]); s = d.documentElement; "
	"assert s.tagName == \"svg\" and s.getAttribute(\"width\") == \"1000\"; "
	"assert not d.getElementsByTagName(\"script\"); "
	"assert not d.getElementsByTagName(\"image\"); "
	"assert \"@import\" not in open(sys.argv[1]).read(); "
	"assert \"href\" not in open(sys.argv[1]).read(); "
	"texts = \" \".join(t.firstChild.data for t in "
	"d.getElementsByTagName(\"text\") if t.firstChild); "
	"[sys.exit(\"missing \" + n) for n in sys.argv[2:] if n not in texts]";

Test(explain, svg)
{
	dumpf d = output_dump();
	espimg_flash_explain *x = explain(&d);
	char *svg = NULL;
	size_t len = 0;
	int r;

	cr_assert_eq(espimg_flash_explain_svg(x, "dump.bin", &svg, &len), 0);
	cr_assert_not_null(svg);
	cr_expect_eq(strlen(svg), len);
	for (size_t i = 0; i < x->nparts; i++)
		cr_expect_not_null(strstr(svg, x->parts[i].part->name));
	cr_expect_not_null(strstr(svg, ">boots</text>"));
	cr_expect_not_null(strstr(svg, ">bootloader</text>"));
	cr_expect_not_null(strstr(svg, ">partition table</text>"));
	cr_expect_not_null(strstr(svg, ">Legend</text>"));
	cr_expect_null(strstr(svg, "<script"));
	r = python_check(xml_check, svg,
			 "nvs otadata phy_init ota_0 ota_1 storage bootloader "
			 "boots Legend");
	if (r >= 0)
		cr_expect_eq(r, 0, "%s", svg);
	free(svg);
	cr_expect_eq(espimg_flash_explain_svg(NULL, NULL, &svg, NULL),
		     ESPIMG_EINVAL);
	espimg_flash_explain_free(x);
	free(d.b);
}

/* Names with XML's special characters and bytes that are not UTF-8 stay
 * well-formed in the SVG and escaped in the text. */
Test(explain, hostile_names)
{
	static const char csv[] =
		"bbbbbbbbbbbbbbb, data, nvs,    0x9000,  0x6000\n"
		"aaaaaaaaaaaaaaa, app, factory, 0x10000, 0x10000\n";
	dumpf d = mk_dump_at("esp32c3", csv, 0x20000, -1, -1, false);
	espimg_flash_explain *x;
	char *svg = NULL, *t = NULL;

	memcpy(d.b + 0x8000 + 32 + 12, "<&\"'>\x01~]]>\\x", 12);
	memcpy(d.b + 0x8000 + 12, "\x1b[31m\xc3\xa9t\xe2\x80\xae", 11);
	put_app(&d, 0x10000, "esp32c3", "1", 1000);
	x = explain(&d);
	cr_assert_eq(x->nparts, 2, "%s", diags());
	cr_assert_eq(espimg_flash_explain_svg(x, "<t>&", &svg, NULL), 0);
	cr_expect_not_null(strstr(svg, "&lt;&amp;&quot;&#39;&gt;\\x01~]]&gt;\\\\x"),
			   "%s", svg);
	cr_expect_null(strstr(svg, "\x1b"));
	cr_expect_not_null(strstr(svg, "\xc3\xa9t"));
	{
		int r = python_check("import sys, xml.dom.minidom as m; "
				     "m.parse(sys.argv[1])",
				     svg, "");

		if (r >= 0)
			cr_expect_eq(r, 0, "%s", svg);
	}
	cr_assert_eq(espimg_flash_explain_text(x, "f\n", &t, NULL), 0);
	cr_expect_null(strstr(t, "\x1b"));
	cr_expect_null(strstr(t, "\x01"));
	cr_expect_not_null(strstr(t, "f\\x0a:"), "%s", t);
	free(svg);
	free(t);
	espimg_flash_explain_free(x);
	free(d.b);
}

/* ------------------------------------------------------------ corpus */

static const char *const merged[] = { FX_MERGED_WITH_TABLE };

/* The app slot each merged file's bootloader loads, by the otadata rules:
 * erased otadata without factory -> ota_0; no otadata -> factory; the
 * Switch-Node factory image carries seq 1 -> ota_0. */
static const char *expected_boot(const char *name)
{
	if (strstr(name, "NasDisplay") || strstr(name, "micropython"))
		return "factory";
	return "app0";
}

Test(explain, corpus_merged)
{
	unsigned wrong = 0, apps = 0;

	for (size_t i = 0; i < sizeof(merged) / sizeof(merged[0]); i++) {
		struct fx_layout l;
		espimg_flash_explain *x;
		char rel[512];
		uint8_t *buf;
		size_t len;

		fx_layout_read(merged[i], &l);
		snprintf(rel, sizeof(rel), "images/%s", merged[i]);
		buf = fx_corpus_read(rel, &len);
		x = explain_buf(buf, len);

		cr_assert(x->flash->has_bootloader, "%s", rel);
		cr_expect_eq((long)x->flash->bootloader_offset, l.boot, "%s", rel);
		cr_expect_eq(x->flash->chip, espimg_chip_by_id(l.chip_id), "%s",
			     rel);
		cr_expect(x->bootloader_ok, "%s: %s", rel, x->bootloader_problem);
		cr_assert_not_null(x->flash->table, "%s", rel);
		cr_expect_eq((long)x->flash->table_offset, l.table, "%s", rel);
		cr_assert_eq(x->nparts, l.n, "%s", rel);
		for (size_t k = 0; k < l.n; k++) {
			const espimg_flash_part *p = &x->parts[k];

			cr_expect_str_eq(p->part->name, l.name[k]);
			cr_expect_eq(p->part->offset, l.offset[k]);
			cr_expect_eq(p->part->size, l.size[k]);
			if (p->content != ESPIMG_PART_IMAGE)
				continue;
			/* the app at that offset, as the image reader sees it */
			{
				espimg_source s;
				espimg_image_opts io = { .offset = p->part->offset };
				espimg_image *img = NULL;
				char v[33], pr[33];

				espimg_source_mem(&s, buf, len);
				cr_assert_eq(espimg_image_read(&s, &io, &img, NULL),
					     0, "%s", rel);
				espimg_desc_text(img->app_desc.version, 32,
						 ESPIMG_DESC_CSTRING, v, sizeof(v));
				espimg_desc_text(img->app_desc.project_name, 32,
						 ESPIMG_DESC_CSTRING, pr,
						 sizeof(pr));
				cr_expect_str_eq(p->version, v, "%s", rel);
				cr_expect_str_eq(p->project, pr, "%s", rel);
				cr_expect_eq(p->used, img->image_size, "%s", rel);
				cr_expect(p->image_ok && p->bootable, "%s: %s",
					  rel, p->problem);
				espimg_image_free(img);
				apps++;
			}
		}
		cr_expect_str_eq(boot_name(x, x->boot), expected_boot(rel), "%s",
				 rel);
		cr_expect_eq(x->boots, x->flash->bootloader_offset_ok, "%s", rel);
		if (!x->flash->bootloader_offset_ok) {
			wrong++;
			cr_expect_not(x->bootloader_runs);
			cr_expect_not_null(fx_diag_find(D, "flash.bootloader_offset",
							ESPIMG_SEV_WARNING));
		}
		if (strstr(rel, "lilygo-twatch-s3")) {
			/* the S3 bootloader at 0x1000: said clearly */
			const espimg_diag *g = fx_diag_find(
				D, "flash.bootloader_offset", -1);
			char *t = NULL;

			cr_expect_eq(x->flash->bootloader_offset, 0x1000);
			cr_assert_not_null(g);
			cr_expect(strstr(g->message, "ESP32-S3") &&
				  strstr(g->message, "0x1000") &&
				  strstr(g->message, "0x0"),
				  "%s", g->message);
			cr_assert_eq(espimg_flash_explain_text(x, "s3.bin", &t,
							       NULL),
				     0);
			cr_expect(strstr(t, "WRONG OFFSET: the ESP32-S3 ROM loads "
					    "the bootloader from 0x0") &&
				  strstr(t, "does not boot"),
				  "%s", t);
			free(t);
		}
		espimg_flash_explain_free(x);
		free(buf);
	}
	cr_expect_eq(wrong, 2);
	cr_expect_eq(apps, 7);
}

/* A dump read back from a flash-encrypted ESP32 (128 KiB from 0x0): the
 * table at 0x10000, NVS pages that are not encrypted. */
Test(explain, corpus_encrypted_device_dump)
{
	size_t len;
	uint8_t *buf = fx_corpus_read(
		"images/KhiemCE22__Security-on-SoC-ESP32__flash_dump.bin", &len);
	espimg_flash_explain *x = explain_buf(buf, len);
	const espimg_flash_part *p;

	cr_assert_not_null(x->flash->table);
	cr_expect_eq(x->flash->table_offset, 0x10000);
	cr_expect(x->flash->table_scanned);
	p = part(x, "nvs");
	cr_expect_eq(p->content, ESPIMG_PART_NVS);
	cr_expect_eq(p->nvs_pages_full, 3);
	cr_expect_eq(p->nvs_pages_active, 1);
	cr_expect_eq(part(x, "factory")->content, ESPIMG_PART_OUTSIDE);
	cr_expect_eq(x->boot, -1);
	espimg_flash_explain_free(x);
	free(buf);
}
