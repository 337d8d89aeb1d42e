/*
 * test_image_text.c - espimg_image_text: esp-imginfo's human description
 * of one image, on synthesised images.  The whole text of an app and a
 * bootloader, the status word agreeing with the JSON document's, the
 * one-line forms, escaping of descriptor bytes, whole digests, partial
 * images, undefined header values, the chip lines, signatures, and the
 * layout rules (aligned segment table, no trailing blanks, no control
 * characters).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"
#include "espimg/image.h"
#include "fixtures.h"
#include "synth.h"

static const synth_chip *chip(const char *key)
{
	const synth_chip *c = synth_chip_by_key(key);

	cr_assert_not_null(c, "%s", key);
	return c;
}

/* Writes the image; keeps `s` (its digest, offsets) for the caller, who
 * frees it with synth_free. */
static uint8_t *finish_keep(synth_image *s, size_t *len)
{
	uint8_t *b = NULL;

	cr_assert_eq(synth_finish(s, &b, len), 0);
	return b;
}

static uint8_t *finish(synth_image *s, size_t *len)
{
	uint8_t *b = finish_keep(s, len);

	synth_free(s);
	return b;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* An ESP32-C3 app: its description (256 bytes) in DROM, 64 bytes of IRAM. */
static uint8_t *app_with_desc(const espimg_app_desc *a, size_t *len,
			      synth_image *keep)
{
	const synth_chip *c = chip("esp32c3");
	uint8_t raw[256];
	synth_image s;

	synth_app_desc_bytes(a, raw);
	synth_init(&s, c->id);
	cr_assert_geq(synth_add(&s, c->drom, raw, 256), 0);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	if (keep) {
		uint8_t *b = finish_keep(&s, len);
		*keep = s;
		return b;
	}
	return finish(&s, len);
}

struct described {
	char *text;       /* espimg_image_text */
	char *json;       /* espimg_image_emit_run of the same image */
	int read_rc;
};

static void described_free(struct described *d)
{
	free(d->text);
	free(d->json);
}

/* Parses buf (image at `offset`, chip forced when `force` is not NULL)
 * and renders it as text and as the JSON map. */
static struct described describe(const uint8_t *buf, size_t len,
				 uint64_t offset, int64_t address,
				 const char *force, const char *file)
{
	struct described r = { 0 };
	struct fx_sink sink = { 0 };
	espimg_source src;
	espimg_image_opts o = { .offset = offset, .file = file };
	espimg_image *img = NULL;
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_emitter *e = espimg_emit_new(ESPIMG_FORMAT_JSON, fx_sink_write,
					    &sink);
	size_t tlen = 0;

	cr_assert_not_null(d);
	cr_assert_not_null(e);
	if (force) {
		o.chip = espimg_chip_by_key(force);
		cr_assert_not_null(o.chip);
	}
	espimg_source_mem(&src, buf, len);
	r.read_rc = espimg_image_read(&src, &o, &img, d);
	cr_assert_not_null(img);
	cr_assert_eq(espimg_image_text(img, file, address, d, &r.text, &tlen),
		     ESPIMG_OK);
	cr_assert_not_null(r.text);
	cr_assert_eq(tlen, strlen(r.text));
	cr_assert_eq(espimg_emit_begin_doc(e, "espimg.image/1"), 0);
	cr_assert_eq(espimg_emit_key(e, "images"), 0);
	cr_assert_eq(espimg_emit_begin_list(e), 0);
	cr_assert_eq(espimg_image_emit_run(img, file, address, d, e), 0);
	cr_assert_eq(espimg_emit_end_list(e), 0);
	cr_assert_eq(espimg_emit_end_doc(e), 0);
	espimg_emit_free(e);
	r.json = sink.data;
	espimg_image_free(img);
	espimg_diag_list_free(d);
	return r;
}

static struct described describe_buf(const uint8_t *buf, size_t len)
{
	return describe(buf, len, 0, -1, NULL, "in.bin");
}

static void assert_has(const char *text, const char *needle)
{
	cr_assert_not_null(strstr(text, needle), "no '%s' in\n%s", needle, text);
}

static void assert_starts(const char *text, const char *prefix)
{
	cr_assert(!strncmp(text, prefix, strlen(prefix)), "'%s' does not start\n%s",
		  prefix, text);
}

static void assert_lacks(const char *text, const char *needle)
{
	cr_assert_null(strstr(text, needle), "'%s' unexpected in\n%s", needle,
		       text);
}

/* The status word ending the title line. */
static void title_status(const char *text, char *out, size_t outsz)
{
	const char *nl = strchr(text, '\n'), *p;
	size_t n;

	cr_assert_not_null(nl);
	for (p = nl; p > text && p[-1] != ' '; p--)
		;
	n = (size_t)(nl - p);
	cr_assert_lt(n, outsz);
	memcpy(out, p, n);
	out[n] = '\0';
}

/* The title's status word is the JSON document's "status". */
static void assert_status(const struct described *r, const char *want)
{
	char got[32], json[64];

	title_status(r->text, got, sizeof(got));
	cr_assert_str_eq(got, want, "status '%s', want '%s' in\n%s", got, want,
			 r->text);
	snprintf(json, sizeof(json), "\"status\": \"%s\"", want);
	assert_has(r->json, json);
}

/* Every line ends in a non-blank, nothing but '\n' is a control byte,
 * the text is UTF-8 and ends with a newline. */
static void assert_clean(const char *text)
{
	size_t n = strlen(text);

	cr_assert_gt(n, 0);
	cr_assert_eq(text[n - 1], '\n', "no final newline in\n%s", text);
	cr_assert(espimg_utf8_valid((const uint8_t *)text, n));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		cr_assert(c == '\n' || (c >= 0x20 && c != 0x7F),
			  "control byte 0x%02x at %zu in\n%s", c, i, text);
		if (c == '\n')
			cr_assert(i == 0 || text[i - 1] != ' ',
				  "trailing blank before offset %zu in\n%s", i, text);
	}
}

Test(image_text, app_whole_text)
{
	espimg_app_desc a;
	synth_image s;
	size_t len;
	uint8_t *b;
	char dig[65], want[2048];
	struct described r;

	synth_app_desc_init(&a, "hello", "1.2.3");
	b = app_with_desc(&a, &len, &s);
	hex(dig, s.digest, 32);
	snprintf(want, sizeof(want),
		 "in.bin: ESP32-C3 app, %zu bytes: ok\n"
		 "  chip        ESP32-C3 (id 5), revision v0.0 .. v0.99 (legacy min_rev 0)\n"
		 "  flash       DIO, 40m, 4MB\n"
		 "  entry       0x%08" PRIx32 "\n"
		 "  pins        WP disabled (0xee), drive clk 0 q 0 d 0 cs0 0 hd 0 wp 0\n"
		 "  segments    #  load addr   length  offset  memory\n"
		 "              0  0x%08" PRIx32 "  0x100   0x020   DROM\n"
		 "              1  0x%08" PRIx32 "  0x040   0x128   IRAM\n"
		 "  checksum    0x%02x (valid)\n"
		 "  sha256      %s (valid)\n"
		 "  app         hello 1.2.3\n"
		 "              ESP-IDF v5.4.1, built Jan  1 2025 12:34:56, secure version 0\n"
		 "              ELF SHA-256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
		 "              eFuse block revision 0.0 .. 0.99, MMU page 64 KB\n"
		 "  signatures  none\n",
		 s.image_size, s.entry, s.seg[0].addr, s.seg[1].addr, s.checksum,
		 dig);
	r = describe_buf(b, len);
	cr_assert_str_eq(r.text, want, "got\n%s\nwant\n%s", r.text, want);
	assert_status(&r, "ok");
	assert_clean(r.text);
	described_free(&r);
	synth_free(&s);
	free(b);
}

Test(image_text, bootloader_lines)
{
	const synth_chip *c = chip("esp32");
	espimg_boot_desc d;
	uint8_t raw[80];
	synth_image s;
	size_t len;
	uint8_t *b;
	struct described r;

	synth_boot_desc_init(&d, 7);
	d.secure_version = 2;
	synth_boot_desc_bytes(&d, raw);
	synth_init(&s, c->id);
	cr_assert_geq(synth_add(&s, c->dram, raw, sizeof(raw)), 0);
	cr_assert_geq(synth_add_fill(&s, c->iram, 128, SYNTH_FILL_COUNT, 3), 0);
	b = finish(&s, &len);
	r = describe_buf(b, len);
	assert_has(r.text, ": ESP32 bootloader, ");
	assert_has(r.text, "\n  bootloader  version 7\n"
			   "              ESP-IDF v5.4.1, built Jan  1 2025 12:34:56, secure version 2\n");
	assert_lacks(r.text, "\n  app ");
	assert_status(&r, "ok");
	assert_clean(r.text);
	described_free(&r);
	free(b);
}

Test(image_text, descriptor_bytes_are_escaped)
{
	espimg_app_desc a;
	size_t len;
	uint8_t *b;
	struct described r;

	synth_app_desc_init(&a, NULL, NULL);
	/* ESC [31m, a newline, a lone 0xff, a backslash, then well-formed
	 * UTF-8 that stays (e acute, an emoji) and that does not (U+0085, a
	 * C1 control; U+202E, right-to-left override), then an overlong
	 * '/' and a surrogate, which are not UTF-8. */
	memcpy(a.project_name, "a\x1b[31m\nb\xff\\c\xc3\xa9\xf0\x9f\x98\x80", 17);
	memcpy(a.version, "\xc2\x85" "d\xe2\x80\xae" "e\xc0\xaf\xed\xa0\x80", 12);
	/* Overlong 3- and 4-byte forms, past U+10FFFF, a truncated
	 * sequence; a euro sign between them stays. */
	memcpy(a.idf_ver, "\xe0\x80\xaf\xf0\x8f\xbf\xbf\xe2\x82\xac\xf4\x90\x80\x80\xe2\x82",
	       16);
	b = app_with_desc(&a, &len, NULL);
	r = describe_buf(b, len);
	assert_has(r.text, "\n  app         a\\x1b[31m\\x0ab\\xff\\\\c\xc3\xa9\xf0\x9f\x98\x80"
			   " \\xc2\\x85d\\xe2\\x80\\xaee\\xc0\\xaf\\xed\\xa0\\x80\n");
	assert_has(r.text, "\n              ESP-IDF \\xe0\\x80\\xaf\\xf0\\x8f\\xbf\\xbf"
			   "\xe2\x82\xac\\xf4\\x90\\x80\\x80\\xe2\\x82, built ");
	assert_clean(r.text);
	/* Not UTF-8: image.desc_utf8, an error. */
	assert_status(&r, "invalid");
	described_free(&r);
	free(b);
}

Test(image_text, escaping_stays_inside_the_field)
{
	espimg_app_desc a;
	size_t len;
	uint8_t *b;
	struct described r;

	synth_app_desc_init(&a, NULL, NULL);
	/* A version filling its 32 bytes, no NUL, ending in the first two
	 * bytes of a euro sign; the project name (the next field) starts
	 * with the third. */
	memset(a.version, 'v', sizeof(a.version));
	a.version[30] = 0xE2;
	a.version[31] = 0x82;
	memcpy(a.project_name, "\xac" "p", 2);
	b = app_with_desc(&a, &len, NULL);
	r = describe_buf(b, len);
	assert_has(r.text, "\n  app         \\xacp vvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\\xe2\\x82\n");
	assert_clean(r.text);
	described_free(&r);
	free(b);
}

Test(image_text, descriptor_text_is_the_c_string)
{
	espimg_app_desc a;
	size_t len;
	uint8_t *b;
	struct described r;

	synth_app_desc_init(&a, NULL, NULL);
	memcpy(a.version, "v1.0\0old", 8);
	memset(a.idf_ver, 0, sizeof(a.idf_ver));
	memset(a.date, 0, sizeof(a.date));
	b = app_with_desc(&a, &len, NULL);
	r = describe_buf(b, len);
	/* Empty fields show as "", bytes after the NUL not at all. */
	assert_has(r.text, "\n  app         \"\" v1.0\n");
	assert_has(r.text, "ESP-IDF \"\", built \"\" 12:34:56,");
	assert_lacks(r.text, "old");
	assert_status(&r, "ok");
	described_free(&r);
	free(b);
}

Test(image_text, file_name_escaped_and_located)
{
	espimg_app_desc a;
	size_t len;
	uint8_t *b, *big;
	struct described r;

	synth_app_desc_init(&a, "p", "1");
	b = app_with_desc(&a, &len, NULL);
	r = describe(b, len, 0, -1, NULL, "a\nb.bin");
	assert_starts(r.text, "a\\x0ab.bin: ESP32-C3 app, ");
	described_free(&r);

	r = describe(b, len, 0, -1, NULL, NULL);
	assert_starts(r.text, "(unnamed): ESP32-C3 app, ");
	described_free(&r);

	/* The image at 0x10000 of a dump; then as a HEX run at that flash
	 * address.  Offsets inside stay relative to the image. */
	big = malloc(len + 0x10000);
	cr_assert_not_null(big);
	memset(big, 0xFF, 0x10000);
	memcpy(big + 0x10000, b, len);
	r = describe(big, len + 0x10000, 0x10000, -1, NULL, "dump.bin");
	assert_starts(r.text, "dump.bin at offset 0x10000: ESP32-C3 app, ");
	assert_has(r.text, "  0x100   0x020   DROM\n");
	described_free(&r);
	r = describe(big, len + 0x10000, 0x10000, 0x10000, NULL, "m.hex");
	assert_starts(r.text, "m.hex at 0x10000: ESP32-C3 app, ");
	assert_clean(r.text);
	described_free(&r);
	free(big);
	free(b);
}

Test(image_text, digests_whole_and_both_when_wrong)
{
	const synth_chip *c = chip("esp32c3");
	synth_image s;
	size_t len;
	uint8_t *b;
	char dig[65], stored[65], line[256];
	struct described r;

	synth_init(&s, c->id);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	s.bad_digest = true;
	s.bad_checksum = true;
	b = finish_keep(&s, &len);
	hex(dig, s.digest, 32);
	hex(stored, b + s.digest_offset, 32);
	r = describe_buf(b, len);
	snprintf(line, sizeof(line), "\n  checksum    0x%02x (invalid; computed 0x%02x)\n",
		 (unsigned)(s.checksum ^ 0xFF), s.checksum);
	assert_has(r.text, line);
	snprintf(line, sizeof(line),
		 "\n  sha256      %s (invalid)\n              %s (computed)\n",
		 stored, dig);
	assert_has(r.text, line);
	assert_has(r.text, ": ESP32-C3 image, ");
	assert_status(&r, "invalid");
	described_free(&r);

	/* The file ends 10 bytes into the digest. */
	r = describe_buf(b, s.digest_offset + 10);
	snprintf(line, sizeof(line),
		 "\n  sha256      cut short: 10 of 32 bytes (invalid)\n"
		 "              %s (computed)\n", dig);
	assert_has(r.text, line);
	assert_status(&r, "invalid");
	described_free(&r);
	synth_free(&s);
	free(b);

	/* No digest asked for. */
	synth_init(&s, c->id);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	s.hash_appended = 0;
	b = finish(&s, &len);
	r = describe_buf(b, len);
	assert_has(r.text, "\n  sha256      none (hash_appended 0)\n");
	assert_status(&r, "ok");
	described_free(&r);
	free(b);
}

Test(image_text, truncated_image_shows_what_was_read)
{
	const synth_chip *c = chip("esp32c3");
	synth_image s;
	size_t len;
	uint8_t *b;
	struct described r;

	synth_init(&s, c->id);
	cr_assert_geq(synth_add_fill(&s, c->iram, 256, SYNTH_FILL_COUNT, 1), 0);
	cr_assert_geq(synth_add_fill(&s, c->irom, 256, SYNTH_FILL_COUNT, 2), 0);
	s.segment_count = 3;
	b = finish_keep(&s, &len);
	/* Cut inside segment 1's data. */
	r = describe_buf(b, s.seg[1].data_offset + 100);
	assert_has(r.text, ": ESP32-C3 image, incomplete: invalid\n");
	assert_has(r.text, "\n              (the header declares 3, 2 read)\n");
	assert_lacks(r.text, "checksum");
	assert_lacks(r.text, "sha256");
	assert_lacks(r.text, "signatures");
	assert_status(&r, "invalid");
	assert_clean(r.text);
	described_free(&r);
	synth_free(&s);
	free(b);
}

Test(image_text, no_image_is_one_line)
{
	static const uint8_t esp8266v2[32] = { 0xEA, 0x04 };
	static const uint8_t table[32] = { 0xAA, 0x50 };
	static const uint8_t header_only[10] = { 0xE9, 0x01 };
	espimg_diag_list *d = espimg_diag_list_new();
	struct described r;
	char *t = NULL;
	size_t n = 99;

	r = describe_buf(esp8266v2, sizeof(esp8266v2));
	cr_assert_str_eq(r.text, "in.bin: ESP8266 image: unsupported\n");
	assert_status(&r, "unsupported");
	described_free(&r);
	r = describe_buf(table, sizeof(table));
	cr_assert_str_eq(r.text, "in.bin: no image: invalid\n");
	assert_status(&r, "invalid");
	described_free(&r);
	r = describe_buf(header_only, sizeof(header_only));
	cr_assert_str_eq(r.text, "in.bin: no image: invalid\n");
	described_free(&r);

	/* No image at all: the status comes from the diagnostics. */
	cr_assert_not_null(d);
	cr_assert_eq(espimg_image_text(NULL, "x.hex", 0x8000, d, &t, &n), 0);
	cr_assert_str_eq(t, "x.hex at 0x8000: no image: not-an-image\n");
	cr_assert_eq(n, strlen(t));
	free(t);
	cr_assert_eq(espimg_diag_add(d, ESPIMG_SEV_ERROR, "ihex.checksum", "x.hex",
				     1, 2, 0, "bad"), 0);
	cr_assert_eq(espimg_image_text(NULL, "x.hex", -1, d, &t, NULL), 0);
	cr_assert_str_eq(t, "x.hex: no image: invalid\n");
	free(t);
	espimg_diag_clear(d);
	cr_assert_eq(espimg_diag_add(d, ESPIMG_SEV_ERROR, "io.read", "x.bin", 0, 0,
				     -1, "cannot read"), 0);
	cr_assert_eq(espimg_image_text(NULL, "x.bin", -1, d, &t, NULL), 0);
	cr_assert_str_eq(t, "x.bin: no image: unreadable\n");
	free(t);
	cr_assert_eq(espimg_image_text(NULL, "x.bin", -1, NULL, &t, NULL), 0);
	cr_assert_str_eq(t, "x.bin: no image: not-an-image\n");
	free(t);
	cr_assert_eq(espimg_image_text(NULL, "x.bin", -1, d, NULL, NULL),
		     ESPIMG_EINVAL);
	espimg_diag_list_free(d);
}

Test(image_text, undefined_header_values)
{
	const synth_chip *c = chip("esp32c3");
	synth_image s;
	size_t len;
	uint8_t *b;
	struct described r;

	synth_init(&s, c->id);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	s.flash_mode = 9;
	s.flash_size_freq = 0x95; /* size code 9; nibble 5 names nothing on the C3 */
	s.wp_pin = 7;
	s.drv[0] = 0x21;
	s.drv[1] = 0x43;
	s.drv[2] = 0x65;
	s.reserved[0] = 1;
	s.min_rev = 5;
	s.min_rev_full = 103;
	s.max_rev_full = 199;
	b = finish(&s, &len);
	r = describe_buf(b, len);
	assert_has(r.text, "\n  flash       mode 9 (undefined), freq code 5 (undefined), "
			   "size code 9 (undefined)\n");
	assert_has(r.text, "\n  pins        WP GPIO 7, drive clk 1 q 2 d 3 cs0 4 hd 5 wp 6\n");
	assert_has(r.text, "\n  reserved    01000000 (should be zero)\n");
	assert_has(r.text, "revision v1.3 .. v1.99 (legacy min_rev 5)\n");
	assert_status(&r, "invalid");
	assert_clean(r.text);
	described_free(&r);
	free(b);

	/* FAST_READ is ESP-IDF's mode 4: named, and fine. */
	synth_init(&s, c->id);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	s.flash_mode = 4;
	b = finish(&s, &len);
	r = describe_buf(b, len);
	assert_has(r.text, "\n  flash       FAST_READ, 40m, 4MB\n");
	assert_lacks(r.text, "reserved");
	assert_status(&r, "ok");
	described_free(&r);
	free(b);
}

Test(image_text, chip_line_forms)
{
	const synth_chip *c = chip("esp32c3");
	synth_image s;
	size_t len;
	uint8_t *b;
	struct described r;

	synth_init(&s, c->id);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	b = finish(&s, &len);
	r = describe(b, len, 0, -1, "esp32c3", "in.bin");
	assert_has(r.text, "\n  chip        ESP32-C3 (id 5, forced), revision");
	assert_status(&r, "ok");
	described_free(&r);
	r = describe(b, len, 0, -1, "esp32", "in.bin");
	assert_has(r.text, "in.bin: ESP32 image, ");
	assert_has(r.text, "\n  chip        ESP32 (forced; the header says id 5), revision");
	assert_status(&r, "invalid"); /* image.chip_mismatch */
	described_free(&r);
	free(b);

	/* 0x1205 names no chip; its low byte does (esptool's rule). */
	synth_init(&s, 0x1205);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	b = finish(&s, &len);
	r = describe_buf(b, len);
	assert_has(r.text, "\n  chip        ESP32-C3 (id 5, from the low byte of 4613), revision");
	assert_status(&r, "invalid"); /* image.chip_id */
	described_free(&r);
	free(b);

	/* Unknown: described as far as the header. */
	synth_init(&s, 0x77);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	b = finish(&s, &len);
	r = describe_buf(b, len);
	assert_has(r.text, "in.bin: image (unknown chip), incomplete: invalid\n");
	assert_has(r.text, "\n  chip        unknown (id 119), revision");
	assert_has(r.text, "\n  flash       DIO, freq code 0, 4MB\n");
	assert_has(r.text, "\n  segments    none read (the header declares 1)\n");
	assert_clean(r.text);
	described_free(&r);
	free(b);
}

Test(image_text, segment_table_is_aligned)
{
	const synth_chip *c = chip("esp32c3");
	synth_image s;
	size_t len;
	uint8_t *b;
	struct described r;
	const char *p, *head;
	long col = -1;

	synth_init(&s, c->id);
	for (int i = 0; i < 12; i++)
		cr_assert_geq(synth_add_fill(&s, i % 2 ? c->iram : c->dram,
					     i == 5 ? 0x12344 : 4 * (size_t)i,
					     SYNTH_FILL_COUNT, (uint32_t)i), 0);
	cr_assert_geq(synth_add(&s, 0, NULL, 8), 0); /* padding: address 0 */
	b = finish(&s, &len);
	r = describe_buf(b, len);
	/* Two-digit index, lengths padded to 5 hex digits. */
	assert_has(r.text, "\n  segments    #   load addr   length   offset   memory\n");
	assert_has(r.text, "\n               0  0x");
	assert_has(r.text, "\n              12  0x00000000  0x00008  ");
	assert_has(r.text, "  0x12344  ");
	assert_has(r.text, "PADDING\n");
	/* "memory" and every row's memory types start in the same column. */
	head = strstr(r.text, "  segments  ");
	cr_assert_not_null(head);
	for (p = head; *p && (p == head || !strncmp(p, "              ", 14));) {
		const char *nl = strchr(p, '\n');
		const char *m = p == head ? strstr(p, "memory") : NULL;

		if (!m) {
			m = strstr(p, "DRAM");
			if (!m || m > nl)
				m = strstr(p, "IRAM");
			if (!m || m > nl)
				m = strstr(p, "PADDING");
		}
		cr_assert(m && m < nl, "no memory column in line of\n%s", r.text);
		if (col < 0)
			col = m - p;
		cr_assert_eq(m - p, col, "misaligned row in\n%s", r.text);
		p = nl + 1;
	}
	assert_clean(r.text);
	described_free(&r);
	free(b);
}

Test(image_text, mmu_page_size_forms)
{
	static const struct {
		uint8_t log2;
		const char *want;
	} cases[] = {
		{ 0, ", MMU page size not recorded\n" },
		{ 13, ", MMU page 8 KB\n" },
		{ 16, ", MMU page 64 KB\n" },
		{ 5, ", MMU page 32 bytes\n" },
		{ 70, ", MMU page size 2^70 (invalid)\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		espimg_app_desc a;
		size_t len;
		uint8_t *b;
		struct described r;

		synth_app_desc_init(&a, "p", "1");
		a.mmu_page_size_log2 = cases[i].log2;
		a.min_efuse_blk_rev_full = 1;
		a.max_efuse_blk_rev_full = 205;
		b = app_with_desc(&a, &len, NULL);
		r = describe_buf(b, len);
		assert_has(r.text, "eFuse block revision 0.1 .. 2.5");
		assert_has(r.text, cases[i].want);
		described_free(&r);
		free(b);
	}
}

Test(image_text, signatures_v2_blocks)
{
	const synth_chip *c = chip("esp32s3");
	synth_sig sigs[3] = {
		{ .version = 2, .seed = 1 },
		{ .version = 3, .curve = 3, .seed = 2 },
		{ .version = 3, .curve = 2, .bad_crc = true, .seed = 3 },
	};
	synth_image s;
	size_t len;
	uint8_t *b;
	struct described r;
	const char *p;

	synth_init(&s, c->id);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	b = finish(&s, &len);
	cr_assert_eq(synth_sign_v2(&b, &len, sigs, 3), 0);
	r = describe_buf(b, len);
	assert_has(r.text, "\n  signatures  Secure Boot v2, sector at 0x1000\n"
			   "              block 0 at 0x1000: RSA-3072, CRC ok\n"
			   "                key digest    ");
	assert_has(r.text, "\n              block 1 at 0x14c0: ECDSA-P384, CRC ok\n");
	assert_has(r.text, "\n              block 2 at 0x1980: ECDSA-P256, bad CRC 0x");
	/* A SHA-384 image digest is 96 hex digits, whole. */
	p = strstr(r.text, "block 1 at");
	cr_assert_not_null(p);
	p = strstr(p, "image digest  ");
	cr_assert_not_null(p);
	p += strlen("image digest  ");
	cr_assert_eq(strcspn(p, "\n"), 96, "%s", r.text);
	/* A damaged block is a warning: still ok. */
	assert_status(&r, "ok");
	assert_clean(r.text);
	described_free(&r);
	free(b);
}

Test(image_text, signature_v1)
{
	const synth_chip *c = chip("esp32");
	synth_image s;
	size_t len;
	uint8_t *b;
	char want[128];
	struct described r;

	synth_init(&s, c->id);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	b = finish_keep(&s, &len);
	cr_assert_eq(synth_append_sig_v1(&b, &len, 9), 0);
	r = describe_buf(b, len);
	snprintf(want, sizeof(want),
		 "\n  signatures  Secure Boot v1 at 0x%zx: ECDSA-P256, version 0\n",
		 s.image_size);
	assert_has(r.text, want);
	assert_status(&r, "ok");
	described_free(&r);
	synth_free(&s);
	free(b);
}
