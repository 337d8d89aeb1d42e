/*
 * test_manifest.c - the release manifest reader: the issue's example and
 * the primary example parse to the expected struct; every key, its value
 * syntax and default; every error and warning with its code, line and
 * column; the bounds; path resolution.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"
#include "espimg/manifest.h"
#include "fixtures.h"

/* Two lines every test can start from: the keys under test follow on
 * line 3. */
#define BASE "chip: esp32\nimages: {0x1000: bl.bin}\n"

static espimg_diag_list *diags;

static void setup(void)
{
	diags = espimg_diag_list_new();
	cr_assert_not_null(diags);
}

static void teardown(void)
{
	espimg_diag_list_free(diags);
}

TestSuite(manifest, .init = setup, .fini = teardown);

static espimg_manifest *parse_ok(const char *text)
{
	espimg_manifest *m = NULL;
	int rc;

	espimg_diag_clear(diags);
	rc = espimg_manifest_parse(text, strlen(text), "m.yaml", &m, diags);
	if (rc) {
		char *dump = fx_diag_dump(diags);

		cr_assert_fail("parse failed (%d) for:\n%s\n%s", rc, text, dump);
	}
	cr_assert_not_null(m);
	cr_assert_eq(espimg_diag_errors(diags), 0);
	return m;
}

/* Accepted with no diagnostic at all. */
static espimg_manifest *parse_clean(const char *text)
{
	espimg_manifest *m = parse_ok(text);
	char *dump = fx_diag_dump(diags);

	cr_assert_eq(espimg_diag_count(diags), 0, "%s\n%s", text, dump);
	free(dump);
	return m;
}

static void parse_bad(const char *text, size_t len)
{
	espimg_manifest *m = (espimg_manifest *)1;

	espimg_diag_clear(diags);
	cr_assert_eq(espimg_manifest_parse(text, len, "m.yaml", &m, diags),
		     ESPIMG_EFORMAT, "%s", text);
	cr_assert_null(m);
	cr_assert_gt(espimg_diag_errors(diags), 0);
}

static void expect_diag(size_t i, espimg_severity sev, const char *code,
			unsigned line, unsigned col)
{
	const espimg_diag *d = espimg_diag_get(diags, i);
	char *dump = fx_diag_dump(diags);

	cr_assert_not_null(d, "no diagnostic %zu:\n%s", i, dump);
	cr_expect_eq(d->severity, sev, "%s", d->message);
	cr_expect_str_eq(d->code, code, "%s", dump);
	cr_expect_eq(d->line, line, "%s: line %u:\n%s", d->code, d->line,
		     dump);
	cr_expect_eq(d->column, col, "%s: column %u:\n%s", d->code, d->column,
		     dump);
	cr_expect_str_eq(d->file, "m.yaml");
	cr_expect_eq(d->offset, -1);
	cr_expect_gt(strlen(d->message), 10);
	free(dump);
}

/* Refused with exactly one diagnostic: this error at line:col. */
static void one_error(const char *text, const char *code, unsigned line,
		      unsigned col)
{
	char *dump;

	parse_bad(text, strlen(text));
	dump = fx_diag_dump(diags);
	cr_assert_eq(espimg_diag_count(diags), 1, "%s\n%s", text, dump);
	free(dump);
	expect_diag(0, ESPIMG_SEV_ERROR, code, line, col);
}

/* The one error's message contains `part`. */
static void message_has(size_t i, const char *part)
{
	const espimg_diag *d = espimg_diag_get(diags, i);

	cr_assert_not_null(d);
	cr_expect_not_null(strstr(d->message, part), "'%s' not in '%s'", part,
			   d->message);
}

static void pos_is(espimg_mpos p, unsigned line, unsigned col)
{
	cr_expect_eq(p.line, line, "line %u, want %u", p.line, line);
	cr_expect_eq(p.col, col, "col %u, want %u", p.col, col);
}

/* ------------------------------------------------------------ examples */

/* The manifest in the text of issue 6, byte for byte. */
static const char issue_example[] =
	"chip: esp32\n"
	"flash: {size: 4MB, mode: dio, freq: 40m}  # optional; absent keeps "
	"headers as they are\n"
	"partition_table: {csv: partitions/partitions_ota_user.csv, offset: "
	"0x8000}  # or bin: FILE; optional\n"
	"images:                                 # keyed by partition name or "
	"by flash offset\n"
	"  bootloader: build/bootloader.bin      # placed at the chip's "
	"bootloader offset\n"
	"  ota_0: build/app.bin\n"
	"  0x9000: build/nvs.bin\n"
	"boot: ota_0                             # optional: writes otadata so "
	"this slot boots\n"
	"output:\n"
	"  format: raw                           # raw | hex | uf2\n"
	"  fill: 0xff\n"
	"  pad_to_size: flash                    # optional: a size, or flash\n"
	"  target_offset: 0x0                    # optional: the flash offset "
	"the output starts at\n"
	"  uf2_chunk_size: 256                   # optional, uf2 only\n"
	"  uf2_md5: true                         # optional, uf2 only\n";

Test(manifest, issue_example)
{
	espimg_manifest *m = parse_ok(issue_example);

	/* uf2_* with raw output: two warnings, nothing else. */
	cr_assert_eq(espimg_diag_count(diags), 2);
	expect_diag(0, ESPIMG_SEV_WARNING, "manifest.ignored", 14, 19);
	expect_diag(1, ESPIMG_SEV_WARNING, "manifest.ignored", 15, 12);

	cr_assert_not_null(m->chip);
	cr_expect_str_eq(m->chip->key, "esp32");
	pos_is(m->pos_chip, 1, 7);

	cr_expect(m->has_flash);
	cr_expect_eq(m->flash.size, 2);
	cr_expect_eq(m->flash.size_bytes, 4u << 20);
	cr_expect_eq(m->flash.mode, 2);
	cr_expect_eq(m->flash.freq, 0);
	pos_is(m->flash.pos_size, 2, 15);
	pos_is(m->flash.pos_mode, 2, 26);
	pos_is(m->flash.pos_freq, 2, 37);
	pos_is(m->pos_flash_key, 2, 1);

	cr_expect(m->has_table);
	cr_expect(m->table_is_csv);
	cr_expect_str_eq(m->table_path, "partitions/partitions_ota_user.csv");
	cr_expect_eq(m->table_offset, 0x8000);
	pos_is(m->pos_table, 3, 24);
	pos_is(m->pos_table_offset, 3, 68);
	pos_is(m->pos_table_key, 3, 1);

	cr_assert_eq(m->nimages, 3);
	cr_expect_str_eq(m->images[0].name, "bootloader");
	cr_expect_str_eq(m->images[0].path, "build/bootloader.bin");
	pos_is(m->images[0].pos_key, 5, 3);
	pos_is(m->images[0].pos_path, 5, 15);
	cr_expect_str_eq(m->images[1].name, "ota_0");
	cr_expect_str_eq(m->images[1].path, "build/app.bin");
	pos_is(m->images[1].pos_key, 6, 3);
	pos_is(m->images[1].pos_path, 6, 10);
	cr_expect_null(m->images[2].name);
	cr_expect_eq(m->images[2].offset, 0x9000);
	cr_expect_str_eq(m->images[2].path, "build/nvs.bin");
	pos_is(m->images[2].pos_key, 7, 3);
	pos_is(m->images[2].pos_path, 7, 11);
	pos_is(m->pos_images_key, 4, 1);

	cr_expect_str_eq(m->boot, "ota_0");
	pos_is(m->pos_boot, 8, 7);

	pos_is(m->pos_output_key, 9, 1);
	cr_expect_eq(m->format, ESPIMG_OUT_RAW);
	pos_is(m->pos_format, 10, 11);
	cr_expect_eq(m->fill, 0xFF);
	pos_is(m->pos_fill, 11, 9);
	cr_expect(m->pad_to_flash);
	cr_expect_eq(m->pad_to_size, 0);
	pos_is(m->pos_pad, 12, 16);
	cr_expect_eq(m->target_offset, 0);
	pos_is(m->pos_target, 13, 18);
	cr_expect_eq(m->uf2_chunk_size, 256);
	pos_is(m->pos_uf2_chunk, 14, 19);
	cr_expect(m->uf2_md5);
	pos_is(m->pos_uf2_md5, 15, 12);
	cr_expect_null(m->summary_path);
	cr_expect_null(m->argfile_path);
	cr_expect_null(m->output_path);
	espimg_manifest_free(m);
}

/* The primary example, as in espimg-manifest(5): partitions_ota_user.csv
 * on a 4 MB ESP32 that boots ota_1. */
Test(manifest, primary_example)
{
	espimg_manifest *m = parse_clean(
		"# release.yaml\n"
		"chip: esp32\n"
		"flash:\n"
		"  size: 4MB\n"
		"  mode: dio\n"
		"  freq: 40m\n"
		"partition_table:\n"
		"  csv: ../../partitions/partitions_ota_user.csv\n"
		"images:\n"
		"  bootloader: build/bootloader.bin\n"
		"  ota_0: build/app-v1.bin\n"
		"  ota_1: build/app-v2.bin\n"
		"boot: ota_1\n"
		"output:\n"
		"  file: factory.bin\n"
		"  pad_to_size: flash\n"
		"  summary: factory.json\n"
		"  argfile: factory.args\n");

	cr_expect_str_eq(m->chip->key, "esp32");
	cr_expect_eq(m->flash.size_bytes, 4u << 20);
	cr_expect_eq(m->table_offset, 0x8000);
	pos_is(m->pos_table_offset, 0, 0);
	cr_expect_eq(m->nimages, 3);
	cr_expect_str_eq(m->images[2].name, "ota_1");
	cr_expect_str_eq(m->boot, "ota_1");
	pos_is(m->pos_boot, 13, 7);
	cr_expect_str_eq(m->output_path, "factory.bin");
	pos_is(m->pos_output_file, 15, 9);
	cr_expect_str_eq(m->summary_path, "factory.json");
	pos_is(m->pos_summary, 17, 12);
	cr_expect_str_eq(m->argfile_path, "factory.args");
	pos_is(m->pos_argfile, 18, 12);
	espimg_manifest_free(m);
}

/* A plain merge (offsets only, no table), as JSON: libyaml reads it. */
Test(manifest, json_plain_merge)
{
	espimg_manifest *m = parse_clean(
		"{\"chip\": \"esp32c3\", \"images\": {\"0x0\": \"bl.bin\", "
		"\"0x8000\": \"pt.bin\", \"0x10000\": \"app.bin\"},\n"
		" \"output\": {\"format\": \"uf2\", \"uf2_md5\": false, "
		"\"uf2_chunk_size\": 476}}");

	cr_expect_str_eq(m->chip->key, "esp32c3");
	cr_expect(!m->has_flash);
	cr_expect_eq(m->flash.mode, -1);
	cr_expect_eq(m->flash.size, -1);
	cr_expect_eq(m->flash.freq, -1);
	cr_expect_eq(m->flash.size_bytes, 0);
	cr_expect(!m->has_table);
	cr_assert_eq(m->nimages, 3);
	for (size_t i = 0; i < 3; i++)
		cr_expect_null(m->images[i].name);
	cr_expect_eq(m->images[0].offset, 0);
	cr_expect_eq(m->images[1].offset, 0x8000);
	cr_expect_eq(m->images[2].offset, 0x10000);
	pos_is(m->images[1].pos_key, 1, 49);
	cr_expect_eq(m->format, ESPIMG_OUT_UF2);
	cr_expect(!m->uf2_md5);
	cr_expect_eq(m->uf2_chunk_size, 476);
	pos_is(m->pos_uf2_chunk, 2, 66);
	espimg_manifest_free(m);
}

Test(manifest, defaults)
{
	espimg_manifest *m = parse_clean(BASE);

	cr_expect(!m->has_flash && !m->has_table);
	cr_expect_eq(m->flash.mode, -1);
	cr_expect_eq(m->flash.size, -1);
	cr_expect_eq(m->flash.freq, -1);
	cr_expect_null(m->table_path);
	cr_expect_eq(m->table_offset, 0x8000);
	cr_expect_null(m->boot);
	pos_is(m->pos_boot, 0, 0);
	cr_expect_eq(m->format, ESPIMG_OUT_RAW);
	cr_expect_eq(m->fill, 0xFF);
	cr_expect(!m->pad_to_flash);
	cr_expect_eq(m->pad_to_size, 0);
	cr_expect_eq(m->target_offset, 0);
	cr_expect_eq(m->uf2_chunk_size, 0);
	cr_expect(m->uf2_md5);
	pos_is(m->pos_format, 0, 0);
	pos_is(m->pos_output_key, 0, 0);
	cr_expect_eq(m->nimages, 1);
	cr_expect_eq(m->images[0].offset, 0x1000);
	espimg_manifest_free(m);
}

/* Comments, document markers and a %YAML directive are plain YAML. */
Test(manifest, yaml_document_markers)
{
	espimg_manifest *m = parse_clean("%YAML 1.1\n---\n# a comment\n" BASE
					 "...\n");

	cr_expect_str_eq(m->chip->key, "esp32");
	pos_is(m->pos_chip, 4, 7);
	espimg_manifest_free(m);
}

/* ------------------------------------------------------------ chip */

Test(manifest, chip_every_key_and_spelling)
{
	char text[128];

	for (size_t i = 0; i < espimg_chip_count(); i++) {
		const espimg_chip *c = espimg_chip_at(i);
		espimg_manifest *m;

		snprintf(text, sizeof(text), "chip: %s\nimages: {0: a}\n",
			 c->key);
		m = parse_clean(text);
		cr_expect_eq(m->chip, c, "%s", c->key);
		espimg_manifest_free(m);
		/* espimg_chip_by_key's spellings: the product name. */
		snprintf(text, sizeof(text), "chip: \"%s\"\nimages: {0: a}\n",
			 c->name);
		m = parse_clean(text);
		cr_expect_eq(m->chip, c, "%s", c->name);
		espimg_manifest_free(m);
	}
}

Test(manifest, chip_errors)
{
	one_error("chip: esp8266\nimages: {0: a}\n", "manifest.chip", 1, 7);
	message_has(0, "esp32c3");
	one_error("images: {0: a}\nchip: [esp32]\n", "manifest.type", 2, 7);
	one_error("images: {0: a}\nchip:\n", "manifest.type", 2, 1);
	one_error("images: {0: a}\nchip: ~\n", "manifest.type", 2, 1);
	one_error("images: {0: a}\n", "manifest.missing", 1, 1);
	message_has(0, "chip");
	/* A chip that is not usable does not add a "missing chip". */
	one_error("chip: {a: b}\nimages: {0: a}\n", "manifest.type", 1, 7);
}

/* ------------------------------------------------------------ flash */

Test(manifest, flash_sizes)
{
	static const struct {
		const char *text;
		int code;
	} ok[] = {
		{ "1MB", 0 },      { "2MB", 1 },	{ "4MB", 2 },
		{ "8MB", 3 },      { "16MB", 4 },	{ "32MB", 5 },
		{ "64MB", 6 },     { "128MB", 7 },	{ "4M", 2 },
		{ "4mb", 2 },      { "4MiB", 2 },	{ "4096K", 2 },
		{ "4096KB", 2 },   { "0x400000", 2 },	{ "4194304", 2 },
		{ "\"16MB\"", 4 }, { "0x1000000", 4 },	{ "4_194_304", 2 },
		{ "keep", -1 },    { "KEEP", -1 },	{ "4 MB", 2 },
	};
	char text[160];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		espimg_manifest *m;

		snprintf(text, sizeof(text), BASE "flash: {size: %s}\n",
			 ok[i].text);
		m = parse_clean(text);
		cr_expect(m->has_flash);
		cr_expect_eq(m->flash.size, ok[i].code, "%s", ok[i].text);
		cr_expect_eq(m->flash.size_bytes,
			     ok[i].code < 0 ? 0 : (1u << 20) << ok[i].code,
			     "%s", ok[i].text);
		cr_expect_eq(m->flash.mode, -1);
		cr_expect_eq(m->flash.freq, -1);
		pos_is(m->flash.pos_size, 3, 15);
		espimg_manifest_free(m);
	}
}

Test(manifest, flash_size_errors)
{
	one_error(BASE "flash: {size: 3MB}\n", "manifest.flash_size", 3, 15);
	message_has(0, "128MB");
	one_error(BASE "flash: {size: 512KB}\n", "manifest.flash_size", 3,
		  15);
	one_error(BASE "flash: {size: 256MB}\n", "manifest.flash_size", 3,
		  15);
	one_error(BASE "flash: {size: 4XB}\n", "manifest.number", 3, 15);
	one_error(BASE "flash: {size: 4.5MB}\n", "manifest.number", 3, 15);
	one_error(BASE "flash: {size: MB}\n", "manifest.number", 3, 15);
	one_error(BASE "flash: {size: -4MB}\n", "manifest.range", 3, 15);
	one_error(BASE "flash: {size: 0x100000000000M}\n",
		  "manifest.range", 3, 15);
	one_error(BASE "flash: {size: [4MB]}\n", "manifest.type", 3, 15);
	one_error(BASE "flash: {size: }\n", "manifest.type", 3, 9);
}

Test(manifest, flash_modes)
{
	static const char *const names[] = { "qio", "qout", "dio", "dout" };
	char text[160];

	for (int i = 0; i < 4; i++) {
		espimg_manifest *m;

		snprintf(text, sizeof(text), BASE "flash:\n  mode: %s\n",
			 names[i]);
		m = parse_clean(text);
		cr_expect_eq(m->flash.mode, i, "%s", names[i]);
		pos_is(m->flash.pos_mode, 4, 9);
		espimg_manifest_free(m);
	}
	{
		espimg_manifest *m = parse_clean(BASE "flash: {mode: DOUT}\n");
		cr_expect_eq(m->flash.mode, 3);
		espimg_manifest_free(m);
		m = parse_clean(BASE "flash: {mode: keep}\n");
		cr_expect_eq(m->flash.mode, -1);
		pos_is(m->flash.pos_mode, 3, 15);
		espimg_manifest_free(m);
	}
	one_error(BASE "flash: {mode: fast_read}\n", "manifest.flash_mode", 3,
		  15);
	message_has(0, "dout");
	one_error(BASE "flash: {mode: 2}\n", "manifest.flash_mode", 3, 15);
}

/* Names per chip (esptool's FLASH_FREQUENCY): the nibble for each. */
Test(manifest, flash_freqs)
{
	static const struct {
		const char *chip, *freq;
		int nibble;
	} ok[] = {
		{ "esp32", "80m", 0xF },   { "esp32", "40m", 0x0 },
		{ "esp32", "26m", 0x1 },   { "esp32", "20m", 0x2 },
		{ "esp32", "40M", 0x0 },   { "esp32c2", "60m", 0xF },
		{ "esp32c2", "30m", 0x0 }, { "esp32c2", "15m", 0x2 },
		{ "esp32h2", "48m", 0xF }, { "esp32h2", "16m", 0x1 },
		{ "esp32c6", "80m", 0x0 }, { "esp32c6", "40m", 0x0 },
		{ "esp32c6", "20m", 0x2 }, { "esp32c5", "80m", 0xF },
		{ "esp32s3", "keep", -1 },
	};
	char text[160];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		espimg_manifest *m;

		/* The chip after the flash section: order does not matter. */
		snprintf(text, sizeof(text),
			 "flash: {freq: %s}\nchip: %s\nimages: {0: a}\n",
			 ok[i].freq, ok[i].chip);
		m = parse_clean(text);
		cr_expect_eq(m->flash.freq, ok[i].nibble, "%s %s", ok[i].chip,
			     ok[i].freq);
		pos_is(m->flash.pos_freq, 1, 15);
		espimg_manifest_free(m);
	}
}

Test(manifest, flash_freq_errors)
{
	one_error("chip: esp32c6\nimages: {0: a}\nflash: {freq: 26m}\n",
		  "manifest.flash_freq", 3, 15);
	message_has(0, "ESP32-C6");
	message_has(0, "20m");
	one_error(BASE "flash: {freq: 40MHz}\n", "manifest.flash_freq", 3, 15);
	one_error("chip: esp32h2\nimages: {0: a}\nflash: {freq: 80m}\n",
		  "manifest.flash_freq", 3, 15);
	/* Unknown chip: the frequency cannot be judged; one error. */
	one_error("chip: esp99\nimages: {0: a}\nflash: {freq: 80m}\n",
		  "manifest.chip", 1, 7);
}

Test(manifest, flash_section)
{
	espimg_manifest *m = parse_clean(BASE "flash: {}\n");

	cr_expect(m->has_flash);
	cr_expect_eq(m->flash.mode, -1);
	cr_expect_eq(m->flash.size, -1);
	cr_expect_eq(m->flash.freq, -1);
	pos_is(m->pos_flash_key, 3, 1);
	espimg_manifest_free(m);

	one_error(BASE "flash: 4MB\n", "manifest.type", 3, 8);
	message_has(0, "mapping");
	one_error(BASE "flash: [4MB]\n", "manifest.type", 3, 8);
	one_error(BASE "flash:\n", "manifest.type", 3, 1);
	one_error(BASE "flash:\n  sise: 4MB\n", "manifest.unknown_key", 4, 3);
	message_has(0, "did you mean 'size'");
	one_error(BASE "flash:\n  size: 4MB\n  size: 8MB\n",
		  "manifest.duplicate_key", 5, 3);
	message_has(0, "line 4 column 3");
}

/* ------------------------------------------------------------ table */

Test(manifest, partition_table)
{
	espimg_manifest *m = parse_clean(BASE "partition_table: {csv: p.csv}\n");

	cr_expect(m->has_table && m->table_is_csv);
	cr_expect_str_eq(m->table_path, "p.csv");
	cr_expect_eq(m->table_offset, 0x8000);
	pos_is(m->pos_table, 3, 24);
	pos_is(m->pos_table_key, 3, 1);
	espimg_manifest_free(m);

	m = parse_clean(BASE "partition_table:\n  offset: 0x9000\n"
			     "  bin: build/partition-table.bin\n");
	cr_expect(m->has_table && !m->table_is_csv);
	cr_expect_str_eq(m->table_path, "build/partition-table.bin");
	cr_expect_eq(m->table_offset, 0x9000);
	pos_is(m->pos_table_offset, 4, 11);
	pos_is(m->pos_table, 5, 8);
	espimg_manifest_free(m);

	m = parse_clean(BASE "partition_table: {csv: p.csv, offset: 65536}\n");
	cr_expect_eq(m->table_offset, 0x10000);
	espimg_manifest_free(m);

	/* A table alone (no images) is something to write. */
	m = parse_clean("chip: esp32\npartition_table: {csv: p.csv}\n");
	cr_expect_eq(m->nimages, 0);
	espimg_manifest_free(m);
}

Test(manifest, partition_table_errors)
{
	one_error(BASE "partition_table: {csv: a.csv, bin: b.bin}\n",
		  "manifest.conflict", 3, 31);
	message_has(0, "line 3 column 24");
	one_error(BASE "partition_table: {offset: 0x8000}\n",
		  "manifest.missing", 3, 1);
	one_error(BASE "partition_table: {}\n", "manifest.missing", 3, 1);
	/* A misspelt key says so, without a second "missing" error. */
	one_error(BASE "partition_table: {cvs: a.csv}\n",
		  "manifest.unknown_key", 3, 19);
	message_has(0, "did you mean 'csv'");
	one_error(BASE "partition_table: a.csv\n", "manifest.type", 3, 18);
	one_error(BASE "partition_table: {csv: a.csv, offset: 0x8000x}\n",
		  "manifest.number", 3, 39);
	one_error(BASE "partition_table: {csv: a.csv, offset: 0x100000000}\n",
		  "manifest.range", 3, 39);
	one_error(BASE "partition_table: {csv: a.csv, offset: -1}\n",
		  "manifest.range", 3, 39);
	one_error(BASE "partition_table: {csv: \"\"}\n", "manifest.value", 3,
		  24);
	one_error(BASE "partition_table: {csv: [a]}\n", "manifest.type", 3,
		  24);
	one_error(BASE "partition_table: {csv: }\n", "manifest.type", 3, 19);
}

/* ------------------------------------------------------------ images */

Test(manifest, image_keys)
{
	espimg_manifest *m = parse_clean(
		"chip: esp32\n"
		"partition_table: {csv: p.csv}\n"
		"images:\n"
		"  bootloader: bl.bin\n"
		"  0x9000: nvs.bin\n"
		"  65536: app.bin\n"
		"  \"0x1E0000\": ota1.bin\n"
		"  '0X3A2000': fs.bin\n"
		"  \"123\": named.bin\n"
		"  0o20: octal.bin\n"
		"  phy_init: \"phy init.bin\"\n");

	cr_assert_eq(m->nimages, 8);
	cr_expect_str_eq(m->images[0].name, "bootloader");
	cr_expect_null(m->images[1].name);
	cr_expect_eq(m->images[1].offset, 0x9000);
	cr_expect_null(m->images[2].name);
	cr_expect_eq(m->images[2].offset, 0x10000);
	cr_expect_null(m->images[3].name);
	cr_expect_eq(m->images[3].offset, 0x1E0000);
	cr_expect_eq(m->images[4].offset, 0x3A2000);
	/* Quoted text that does not start with 0x is a name. */
	cr_expect_str_eq(m->images[5].name, "123");
	cr_expect_eq(m->images[6].offset, 16);
	cr_expect_str_eq(m->images[7].name, "phy_init");
	cr_expect_str_eq(m->images[7].path, "phy init.bin");
	pos_is(m->images[7].pos_key, 11, 3);
	pos_is(m->images[7].pos_path, 11, 13);
	espimg_manifest_free(m);

	/* "bootloader" needs no table; other names do. */
	m = parse_clean("chip: esp32\nimages: {bootloader: bl.bin}\n");
	cr_expect_str_eq(m->images[0].name, "bootloader");
	espimg_manifest_free(m);
}

Test(manifest, image_errors)
{
	one_error("chip: esp32\nimages:\n  0x9000: a\n  36864: b\n",
		  "manifest.duplicate_key", 4, 3);
	message_has(0, "line 3 column 3");
	one_error("chip: esp32\nimages:\n  0x9000: a\n  0x9000: b\n",
		  "manifest.duplicate_key", 4, 3);
	one_error("chip: esp32\nimages:\n  0x9000: a\n  \"0x9000\": b\n",
		  "manifest.duplicate_key", 4, 3);
	one_error("chip: esp32\npartition_table: {csv: p}\n"
		  "images: {ota_0: a, \"ota_0\": b}\n",
		  "manifest.duplicate_key", 3, 20);
	one_error("chip: esp32\nimages: {0x9000x: a}\n", "manifest.number", 2,
		  10);
	one_error("chip: esp32\nimages: {9abc: a}\n", "manifest.number", 2,
		  10);
	message_has(0, "quote");
	one_error("chip: esp32\nimages: {010: a}\n", "manifest.number", 2, 10);
	one_error("chip: esp32\nimages: {\"0xZZ\": a}\n", "manifest.number", 2,
		  10);
	one_error("chip: esp32\nimages: {0x100000000: a}\n", "manifest.range",
		  2, 10);
	one_error("chip: esp32\nimages: {-1: a}\n", "manifest.range", 2, 10);
	one_error("chip: esp32\nimages: {\"\": a}\n", "manifest.value", 2, 10);
	one_error("chip: esp32\nimages: {0x0: [a]}\n", "manifest.type", 2, 15);
	one_error("chip: esp32\nimages: {0x0: }\n", "manifest.type", 2, 10);
	one_error("chip: esp32\nimages:\n  0x0:\n", "manifest.type", 3, 3);
	one_error("chip: esp32\nimages: {0x0: ''}\n", "manifest.value", 2, 15);
	one_error("chip: esp32\nimages:\n  ? [a]\n  : b\n", "manifest.type",
		  3, 5);
	one_error("chip: esp32\nimages: [a.bin]\n", "manifest.type", 2, 9);
	one_error("chip: esp32\nimages: a.bin\n", "manifest.type", 2, 9);
	one_error("chip: esp32\nimages:\n", "manifest.type", 2, 1);
	one_error("chip: esp32\nimages: {}\n", "manifest.missing", 2, 1);
	one_error("chip: esp32\n", "manifest.missing", 1, 1);
	message_has(0, "nothing to write");
	one_error("chip: esp32\nimages: {ota_0: a}\n", "manifest.requires", 2,
		  10);
	message_has(0, "partition_table");
}

Test(manifest, image_limit)
{
	char *text = malloc(64 * 1024);
	size_t n;
	espimg_manifest *m;

	cr_assert_not_null(text);
	n = (size_t)sprintf(text, "chip: esp32\nimages:\n");
	for (unsigned i = 0; i < ESPIMG_MANIFEST_MAX_IMAGES; i++)
		n += (size_t)sprintf(text + n, "  0x%x: f%u.bin\n",
				     i * 0x1000, i);
	m = parse_clean(text);
	cr_expect_eq(m->nimages, ESPIMG_MANIFEST_MAX_IMAGES);
	cr_expect_str_eq(m->images[63].path, "f63.bin");
	espimg_manifest_free(m);

	n += (size_t)sprintf(text + n, "  0x100000: one-too-many.bin\n");
	one_error(text, "manifest.too_many", 67, 3);
	free(text);
}

/* ------------------------------------------------------------ boot */

Test(manifest, boot)
{
	espimg_manifest *m = parse_clean(
		BASE "partition_table: {csv: p.csv}\nboot: factory\n");

	cr_expect_str_eq(m->boot, "factory");
	pos_is(m->pos_boot, 4, 7);
	espimg_manifest_free(m);

	one_error(BASE "boot: ota_1\n", "manifest.requires", 3, 7);
	one_error(BASE "partition_table: {csv: p}\nboot: [ota_1]\n",
		  "manifest.type", 4, 7);
	one_error(BASE "partition_table: {csv: p}\nboot:\n", "manifest.type",
		  4, 1);
	one_error(BASE "partition_table: {csv: p}\nboot: ''\n",
		  "manifest.value", 4, 7);
}

/* ------------------------------------------------------------ output */

Test(manifest, output_format)
{
	static const struct {
		const char *text;
		espimg_out_format f;
	} ok[] = {
		{ "raw", ESPIMG_OUT_RAW }, { "hex", ESPIMG_OUT_HEX },
		{ "uf2", ESPIMG_OUT_UF2 }, { "UF2", ESPIMG_OUT_UF2 },
		{ "'hex'", ESPIMG_OUT_HEX },
	};
	char text[160];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		espimg_manifest *m;

		snprintf(text, sizeof(text), BASE "output:\n  format: %s\n",
			 ok[i].text);
		m = parse_clean(text);
		cr_expect_eq(m->format, ok[i].f, "%s", ok[i].text);
		pos_is(m->pos_format, 4, 11);
		pos_is(m->pos_output_key, 3, 1);
		espimg_manifest_free(m);
	}
	one_error(BASE "output: {format: bin}\n", "manifest.format", 3, 18);
	message_has(0, "raw, hex or uf2");
	one_error(BASE "output: {format: }\n", "manifest.type", 3, 10);
	one_error(BASE "output: raw\n", "manifest.type", 3, 9);
	one_error(BASE "output: {fromat: raw}\n", "manifest.unknown_key", 3,
		  10);
	message_has(0, "did you mean 'format'");
	one_error(BASE "output: {format: raw, format: hex}\n",
		  "manifest.duplicate_key", 3, 23);
}

Test(manifest, output_fill)
{
	espimg_manifest *m = parse_clean(BASE "output: {fill: 0}\n");

	cr_expect_eq(m->fill, 0);
	pos_is(m->pos_fill, 3, 16);
	espimg_manifest_free(m);
	m = parse_clean(BASE "output: {fill: 255}\n");
	cr_expect_eq(m->fill, 255);
	espimg_manifest_free(m);
	m = parse_clean(BASE "output: {fill: \"0xAA\"}\n");
	cr_expect_eq(m->fill, 0xAA);
	espimg_manifest_free(m);

	one_error(BASE "output: {fill: 256}\n", "manifest.range", 3, 16);
	one_error(BASE "output: {fill: -1}\n", "manifest.range", 3, 16);
	one_error(BASE "output: {fill: ff}\n", "manifest.number", 3, 16);
	one_error(BASE "output: {fill: true}\n", "manifest.number", 3, 16);
	one_error(BASE "output: {fill: [1]}\n", "manifest.type", 3, 16);
}

Test(manifest, output_pad_to_size)
{
	espimg_manifest *m = parse_clean(BASE "output: {pad_to_size: 1800K}\n");

	cr_expect(!m->pad_to_flash);
	cr_expect_eq(m->pad_to_size, 1800u * 1024);
	pos_is(m->pos_pad, 3, 23);
	espimg_manifest_free(m);
	m = parse_clean(BASE "output: {pad_to_size: 0x400000}\n");
	cr_expect_eq(m->pad_to_size, 0x400000);
	espimg_manifest_free(m);
	m = parse_clean(BASE "output: {pad_to_size: 2M}\n");
	cr_expect_eq(m->pad_to_size, 2u << 20);
	espimg_manifest_free(m);
	m = parse_clean(BASE "flash: {size: 8MB}\noutput: {pad_to_size: "
			     "flash}\n");
	cr_expect(m->pad_to_flash);
	cr_expect_eq(m->pad_to_size, 0);
	cr_expect_eq(m->flash.size_bytes, 8u << 20);
	espimg_manifest_free(m);

	one_error(BASE "output: {pad_to_size: flash}\n", "manifest.requires",
		  3, 23);
	message_has(0, "flash size");
	one_error(BASE "flash: {size: keep}\noutput: {pad_to_size: flash}\n",
		  "manifest.requires", 4, 23);
	one_error(BASE "output: {pad_to_size: 0}\n", "manifest.range", 3, 23);
	one_error(BASE "output: {pad_to_size: big}\n", "manifest.number", 3,
		  23);
}

Test(manifest, output_target_offset)
{
	espimg_manifest *m =
		parse_clean(BASE "output: {target_offset: 0x1000}\n");

	cr_expect_eq(m->target_offset, 0x1000);
	pos_is(m->pos_target, 3, 25);
	espimg_manifest_free(m);
	one_error(BASE "output: {target_offset: 4K}\n", "manifest.number", 3,
		  25);
	one_error(BASE "output: {target_offset: 0x100000000}\n",
		  "manifest.range", 3, 25);
}

Test(manifest, output_uf2)
{
	espimg_manifest *m = parse_clean(
		BASE "output: {format: uf2, uf2_chunk_size: 452}\n");

	cr_expect_eq(m->uf2_chunk_size, 452);
	cr_expect(m->uf2_md5);
	espimg_manifest_free(m);
	m = parse_clean(BASE "output: {format: uf2, uf2_chunk_size: 476, "
			     "uf2_md5: false}\n");
	cr_expect_eq(m->uf2_chunk_size, 476);
	cr_expect(!m->uf2_md5);
	pos_is(m->pos_uf2_md5, 3, 53);
	espimg_manifest_free(m);

	one_error(BASE "output: {format: uf2, uf2_chunk_size: 456}\n",
		  "manifest.range", 3, 39);
	message_has(0, "uf2_md5");
	one_error(BASE "output: {format: uf2, uf2_chunk_size: 480, "
		       "uf2_md5: no}\n",
		  "manifest.range", 3, 39);
	one_error(BASE "output: {format: uf2, uf2_chunk_size: 3}\n",
		  "manifest.range", 3, 39);
	one_error(BASE "output: {format: uf2, uf2_chunk_size: 0}\n",
		  "manifest.range", 3, 39);
	one_error(BASE "output: {format: uf2, uf2_chunk_size: x}\n",
		  "manifest.number", 3, 39);
}

Test(manifest, output_booleans)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes",
					   "on" };
	static const char *const no[] = { "false", "False", "FALSE", "no",
					  "Off" };
	char text[160];

	for (size_t i = 0; i < 5; i++) {
		espimg_manifest *m;

		snprintf(text, sizeof(text),
			 BASE "output: {format: uf2, uf2_md5: %s}\n", yes[i]);
		m = parse_clean(text);
		cr_expect(m->uf2_md5, "%s", yes[i]);
		espimg_manifest_free(m);
		snprintf(text, sizeof(text),
			 BASE "output: {format: uf2, uf2_md5: %s}\n", no[i]);
		m = parse_clean(text);
		cr_expect(!m->uf2_md5, "%s", no[i]);
		espimg_manifest_free(m);
	}
	one_error(BASE "output: {format: uf2, uf2_md5: \"true\"}\n",
		  "manifest.type", 3, 32);
	message_has(0, "quoted");
	one_error(BASE "output: {format: uf2, uf2_md5: 1}\n", "manifest.type",
		  3, 32);
	one_error(BASE "output: {format: uf2, uf2_md5: }\n", "manifest.type",
		  3, 23);
}

Test(manifest, output_files)
{
	espimg_manifest *m = parse_clean(
		BASE "output:\n  summary: out/s.json\n  argfile: out/a.args\n"
		     "  file: out/factory.bin\n");

	cr_expect_str_eq(m->summary_path, "out/s.json");
	cr_expect_str_eq(m->argfile_path, "out/a.args");
	cr_expect_str_eq(m->output_path, "out/factory.bin");
	pos_is(m->pos_summary, 4, 12);
	pos_is(m->pos_argfile, 5, 12);
	pos_is(m->pos_output_file, 6, 9);
	espimg_manifest_free(m);

	one_error(BASE "output: {summary: {}}\n", "manifest.type", 3, 19);
	one_error(BASE "output: {argfile: \"\"}\n", "manifest.value", 3, 19);
	one_error(BASE "output: {file: }\n", "manifest.type", 3, 10);
	one_error(BASE "output: {file: \"a\\0b\"}\n", "manifest.value", 3, 16);
}

/* Output keys the chosen format does not use: warnings, still accepted. */
Test(manifest, ignored_output_keys)
{
	espimg_manifest *m = parse_ok(
		BASE "output: {uf2_chunk_size: 256, uf2_md5: false}\n");

	cr_assert_eq(espimg_diag_count(diags), 2);
	expect_diag(0, ESPIMG_SEV_WARNING, "manifest.ignored", 3, 26);
	expect_diag(1, ESPIMG_SEV_WARNING, "manifest.ignored", 3, 40);
	message_has(0, "uf2");
	espimg_manifest_free(m);

	m = parse_ok(BASE "output: {format: hex, fill: 0, pad_to_size: 4MB}\n");
	cr_assert_eq(espimg_diag_count(diags), 2);
	expect_diag(0, ESPIMG_SEV_WARNING, "manifest.ignored", 3, 29);
	expect_diag(1, ESPIMG_SEV_WARNING, "manifest.ignored", 3, 45);
	message_has(1, "raw");
	espimg_manifest_free(m);

	m = parse_clean(BASE "output: {format: raw, fill: 0, pad_to_size: "
			     "4MB, target_offset: 0x1000}\n");
	espimg_manifest_free(m);
	m = parse_clean(BASE "output: {format: uf2, target_offset: 0x1000}\n");
	espimg_manifest_free(m);
}

/* ------------------------------------------------------------ keys */

Test(manifest, unknown_and_duplicate_keys)
{
	one_error(BASE "bootloader: x.bin\n", "manifest.unknown_key", 3, 1);
	message_has(0, "known keys: chip, flash, partition_table, images, "
		       "boot, output");
	one_error(BASE "Boot: ota_0\n", "manifest.unknown_key", 3, 1);
	message_has(0, "did you mean 'boot'");
	one_error(BASE "partition-table: {csv: a}\n", "manifest.unknown_key",
		  3, 1);
	message_has(0, "did you mean 'partition_table'");
	one_error(BASE "chip: esp32c3\n", "manifest.duplicate_key", 3, 1);
	message_has(0, "line 1 column 1");
	/* The first chip counts (esp32: 26m is known). */
	one_error("chip: esp32\nchip: esp32c6\nflash: {freq: 26m}\n"
		  "images: {0: a}\n",
		  "manifest.duplicate_key", 2, 1);
	one_error(BASE "[a]: b\n", "manifest.type", 3, 1);
	one_error(BASE "\"\": b\n", "manifest.unknown_key", 3, 1);
	/* Keys are matched as written, also quoted. */
	{
		espimg_manifest *m = parse_clean(
			"\"chip\": esp32\n'images': {0: a}\n");
		espimg_manifest_free(m);
	}
}

/* ------------------------------------------------------------ YAML */

Test(manifest, yaml_syntax)
{
	one_error(BASE "output: {format: raw\n", "manifest.yaml", 4, 1);
	message_has(0, "line 3 column 9");
	one_error("chip: esp32\n  images: x\n", "manifest.yaml", 2, 9);
	one_error("chip: \"esp32\nimages: {0: a}\n", "manifest.yaml", 3, 1);
	one_error("chip: esp32\n\timages: {0: a}\n", "manifest.yaml", 2, 1);
	/* The reader: bytes that are not text, with their place. */
	{
		static const char ctl[] = "chip: esp32\nimages: {0: a\x01}\n";
		static const char utf[] = "chip: esp32\nboot: \xc3\xa9\xff\n";
		static const char nul[] = "chip: esp32\0\n";

		one_error(ctl, "manifest.yaml", 2, 14);
		parse_bad(utf, sizeof(utf) - 1);
		cr_assert_eq(espimg_diag_count(diags), 1);
		expect_diag(0, ESPIMG_SEV_ERROR, "manifest.yaml", 2, 8);
		parse_bad(nul, sizeof(nul) - 1);
		expect_diag(0, ESPIMG_SEV_ERROR, "manifest.yaml", 1, 12);
		/* Lines end at CR too, as libyaml counts them. */
		one_error("chip: esp32\rimages: {0: a\x01}\r", "manifest.yaml",
			  2, 14);
		one_error("chip: esp32\r\nimages: {0: \xc3\xa9\x01}\r\n",
			  "manifest.yaml", 2, 14);
	}
	/* At the end of a text without a final line break: after its last
	 * character, not on a line of its own. */
	one_error("chip: esp32\nbcoch", "manifest.yaml", 2, 6);
	one_error("chip: esp32\nbcoch\n", "manifest.yaml", 3, 1);
}

/* Errors found before a syntax error are kept with it. */
Test(manifest, errors_before_syntax_error)
{
	static const char text[] = "chip: esp32\nimages: &x {0: a}\nboot: [\n";

	parse_bad(text, strlen(text));
	cr_assert_eq(espimg_diag_count(diags), 2);
	expect_diag(0, ESPIMG_SEV_ERROR, "manifest.yaml_feature", 2, 9);
	expect_diag(1, ESPIMG_SEV_ERROR, "manifest.yaml", 4, 1);
}

Test(manifest, yaml_features_refused)
{
	one_error("chip: &c esp32\nimages: {0: a}\n",
		  "manifest.yaml_feature", 1, 7);
	message_has(0, "anchor");
	parse_bad("chip: &c esp32\nimages: {0: *c}\n", 31);
	cr_assert_eq(espimg_diag_count(diags), 2);
	expect_diag(0, ESPIMG_SEV_ERROR, "manifest.yaml_feature", 1, 7);
	expect_diag(1, ESPIMG_SEV_ERROR, "manifest.yaml_feature", 2, 13);
	message_has(1, "alias");
	one_error("chip: !!str esp32\nimages: {0: a}\n",
		  "manifest.yaml_feature", 1, 7);
	message_has(0, "tag");
	one_error("chip: esp32\nimages: !!map {0: a}\n",
		  "manifest.yaml_feature", 2, 9);
	one_error("chip: esp32\nimages: {0: !local a}\n",
		  "manifest.yaml_feature", 2, 13);
	one_error("chip: esp32\nimages: !!seq [a]\n", "manifest.yaml_feature",
		  2, 9);
	one_error("%TAG !e! tag:example.com,2024:\n---\n" BASE,
		  "manifest.yaml_feature", 1, 1);
	one_error(BASE "---\nchip: esp32\n", "manifest.yaml_feature", 3, 1);
	message_has(0, "one YAML document");
	one_error(BASE "...\n---\n", "manifest.yaml_feature", 4, 1);
	/* Merge keys need aliases: refused through them. */
	{
		static const char merge[] = "base: &b {format: raw}\n"
					    "chip: esp32\nimages: {0: a}\n"
					    "output:\n  <<: *b\n";

		parse_bad(merge, strlen(merge));
		cr_expect_eq(fx_diag_count(diags, "manifest.yaml_feature", -1),
			     2);
	}
}

Test(manifest, not_a_mapping)
{
	one_error("", "manifest.missing", 1, 1);
	message_has(0, "empty");
	one_error("# only a comment\n", "manifest.missing", 1, 1);
	one_error("esp32\n", "manifest.type", 1, 1);
	one_error("- chip: esp32\n", "manifest.type", 1, 1);
	message_has(0, "list");
	one_error("---\n", "manifest.type", 2, 1);
	one_error("~\n", "manifest.type", 1, 1);
}

/* ------------------------------------------------------------ bounds */

Test(manifest, nesting_depth)
{
	char text[256];
	size_t n = (size_t)sprintf(text, BASE "x: ");
	espimg_manifest *m;

	/* 15 lists in the root mapping: 16 levels, refused only by key. */
	for (int i = 0; i < 15; i++)
		text[n++] = '[';
	for (int i = 0; i < 15; i++)
		text[n++] = ']';
	text[n++] = '\n';
	text[n] = '\0';
	one_error(text, "manifest.unknown_key", 3, 1);

	n = (size_t)sprintf(text, BASE "x: ");
	for (int i = 0; i < 16; i++)
		text[n++] = '[';
	for (int i = 0; i < 16; i++)
		text[n++] = ']';
	text[n++] = '\n';
	text[n] = '\0';
	one_error(text, "manifest.depth", 3, 19);

	/* The limit stops the reading at once: nothing after it is seen. */
	m = NULL;
	cr_assert_eq(espimg_manifest_parse("a: [[[[[[[[[[[[[[[[[[[[[[", 24,
					   "m.yaml", &m, diags),
		     ESPIMG_EFORMAT);
}

Test(manifest, string_length)
{
	size_t max = ESPIMG_MANIFEST_MAX_STRING;
	char *text = malloc(max + 128);
	espimg_manifest *m;
	size_t n;

	cr_assert_not_null(text);
	n = (size_t)sprintf(text, BASE "boot: ");
	memset(text + n, 'a', max);
	strcpy(text + n + max, "\npartition_table: {csv: p}\n");
	m = parse_clean(text);
	cr_expect_eq(strlen(m->boot), max);
	espimg_manifest_free(m);

	memset(text + n, 'a', max + 1);
	strcpy(text + n + max + 1, "\npartition_table: {csv: p}\n");
	one_error(text, "manifest.too_long", 3, 7);
	message_has(0, "4097");
	free(text);
}

Test(manifest, size_limit)
{
	size_t len = ESPIMG_MANIFEST_MAX_SIZE + 1;
	char *text = malloc(len);
	espimg_manifest *m = (espimg_manifest *)1;

	cr_assert_not_null(text);
	memset(text, '#', len);
	memcpy(text, BASE, strlen(BASE));
	cr_assert_eq(espimg_manifest_parse(text, len, "m.yaml", &m, diags),
		     ESPIMG_ETOOBIG);
	cr_expect_null(m);
	cr_assert_eq(espimg_diag_count(diags), 1);
	cr_expect_str_eq(espimg_diag_get(diags, 0)->code, "manifest.too_big");

	/* Exactly the limit is read (a comment fills it). */
	espimg_diag_clear(diags);
	text[strlen(BASE)] = '\n';
	cr_assert_eq(espimg_manifest_parse(text, len - 1, "m.yaml", &m, diags),
		     0);
	cr_expect_eq(m->nimages, 1);
	espimg_manifest_free(m);
	free(text);
}

/* Many small values: the node bound, not the byte bound, refuses it. */
Test(manifest, node_limit)
{
	size_t cap = 70000 * 2 + 64, n;
	char *text = malloc(cap);

	cr_assert_not_null(text);
	n = (size_t)sprintf(text, BASE "x: [");
	for (int i = 0; i < 70000; i++) {
		text[n++] = '1';
		text[n++] = ',';
	}
	text[n++] = ']';
	text[n] = '\0';
	parse_bad(text, n);
	cr_expect_eq(espimg_diag_count(diags), 1);
	cr_expect_str_eq(espimg_diag_get(diags, 0)->code, "manifest.too_big");
	free(text);
}

/* ------------------------------------------------------------ reporting */

/* One run reports everything, in manifest order, each once. */
Test(manifest, every_error_in_one_run)
{
	static const char text[] =
		"chip: esp33\n"                       /* 1:7 chip */
		"flash:\n"
		"  size: 3MB\n"                       /* 3:9 flash_size */
		"  mode: qqq\n"                       /* 4:9 flash_mode */
		"  sise: 4MB\n"                       /* 5:3 unknown_key */
		"partition_table: {csv: a, bin: b}\n" /* 6:27 conflict */
		"images:\n"
		"  0x9000: a.bin\n"
		"  36864: b.bin\n"                    /* 9:3 duplicate_key */
		"  9x: c.bin\n"                       /* 10:3 number */
		"boot: ota_0\n"
		"boot: ota_1\n"                       /* 12:1 duplicate_key */
		"output:\n"
		"  format: elf\n"                     /* 14:11 format */
		"  fill: 256\n"                       /* 15:9 range */
		"  pad_to_size: flash\n"              /* 16:16 requires */
		"  uf2_md5: \"yes\"\n"                /* 17:12 type */
		"  extra: 1\n";                       /* 18:3 unknown_key */
	static const struct {
		const char *code;
		unsigned line, col;
	} want[] = {
		{ "manifest.chip", 1, 7 },
		{ "manifest.flash_size", 3, 9 },
		{ "manifest.flash_mode", 4, 9 },
		{ "manifest.unknown_key", 5, 3 },
		{ "manifest.conflict", 6, 27 },
		{ "manifest.duplicate_key", 9, 3 },
		{ "manifest.number", 10, 3 },
		{ "manifest.duplicate_key", 12, 1 },
		{ "manifest.format", 14, 11 },
		{ "manifest.range", 15, 9 },
		{ "manifest.requires", 16, 16 },
		{ "manifest.type", 17, 12 },
		{ "manifest.unknown_key", 18, 3 },
	};

	parse_bad(text, strlen(text));
	cr_assert_eq(espimg_diag_count(diags), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		expect_diag(i, ESPIMG_SEV_ERROR, want[i].code, want[i].line,
			    want[i].col);
}

/* Columns count characters (as libyaml's marks do), not bytes. */
Test(manifest, columns_count_characters)
{
	one_error("{chip: esp32, images: {0: \"\xc3\xa9t\xc3\xa9\"}, "
		  "bout: x}\n",
		  "manifest.unknown_key", 1, 35);
}

/* Values quoted in messages are escaped for a terminal and cut short. */
Test(manifest, messages_escape_values)
{
	char text[600];
	const espimg_diag *d;

	parse_bad(BASE "\"\\e[31m\": y\n", strlen(BASE) + 12);
	d = espimg_diag_get(diags, 0);
	cr_assert_not_null(d);
	cr_expect_null(strchr(d->message, 0x1b));
	cr_expect_not_null(strstr(d->message, "\\x1b[31m"));

	snprintf(text, sizeof(text), BASE "output: {format: %0300d}\n", 7);
	parse_bad(text, strlen(text));
	d = espimg_diag_get(diags, 0);
	cr_assert_not_null(d);
	cr_expect_lt(strlen(d->message), 200);
	cr_expect_not_null(strstr(d->message, "..."));
}

/* ------------------------------------------------------------ API */

Test(manifest, arguments)
{
	espimg_manifest *m = NULL;

	cr_expect_eq(espimg_manifest_parse(BASE, strlen(BASE), "m.yaml", NULL,
					   diags),
		     ESPIMG_EINVAL);
	cr_expect_eq(espimg_manifest_parse(NULL, 3, "m.yaml", &m, diags),
		     ESPIMG_EINVAL);
	cr_expect_eq(espimg_manifest_parse(NULL, 0, "m.yaml", &m, diags),
		     ESPIMG_EFORMAT);
	cr_expect_null(m);
	/* No diagnostics list and no file name: still parsed / refused. */
	cr_assert_eq(espimg_manifest_parse(BASE, strlen(BASE), NULL, &m, NULL),
		     0);
	espimg_manifest_free(m);
	cr_expect_eq(espimg_manifest_parse("chip: x\n", 8, NULL, &m, NULL),
		     ESPIMG_EFORMAT);
	/* Only len bytes are read. */
	cr_assert_eq(espimg_manifest_parse(BASE "boot: [", strlen(BASE), NULL,
					   &m, NULL),
		     0);
	espimg_manifest_free(m);
	espimg_manifest_free(NULL);
	/* File names in the diagnostics. */
	espimg_diag_clear(diags);
	cr_expect_eq(espimg_manifest_parse("x: 1\n", 5, NULL, &m, diags),
		     ESPIMG_EFORMAT);
	cr_assert_gt(espimg_diag_count(diags), 0);
	cr_expect_null(espimg_diag_get(diags, 0)->file);
}

Test(manifest, path)
{
	static const struct {
		const char *manifest, *rel, *want;
	} cases[] = {
		{ "release.yaml", "build/app.bin", "build/app.bin" },
		{ "rel/release.yaml", "build/app.bin", "rel/build/app.bin" },
		{ "/abs/rel/release.yaml", "app.bin", "/abs/rel/app.bin" },
		{ "/release.yaml", "app.bin", "/app.bin" },
		{ "../x/release.yaml", "../p.csv", "../x/../p.csv" },
		{ "rel/release.yaml", "/abs/app.bin", "/abs/app.bin" },
		{ "-", "app.bin", "app.bin" },
		{ NULL, "app.bin", "app.bin" },
		{ "dir/", "app.bin", "dir/app.bin" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = espimg_manifest_path(cases[i].manifest, cases[i].rel);

		cr_assert_not_null(p);
		cr_expect_str_eq(p, cases[i].want, "%s + %s",
				 cases[i].manifest ? cases[i].manifest : "NULL",
				 cases[i].rel);
		free(p);
	}
	cr_expect_null(espimg_manifest_path("a/b.yaml", NULL));
}
