/*
 * test_image_esptool.c - espimg_image_esptool_text on synthesised images
 * for what the corpus does not show: odd header values, a 2**245 KB MMU
 * page, a segment in no memory region, a 13-byte segment, an empty first
 * DROM segment, a short one, broken bootloader text, 17 segments, a bad
 * hash_appended byte, and the Intel HEX run options.
 *
 * Every expected text below is what esptool 5.3.1 `image-info` printed for
 * the same image (banner line dropped), checked when the test was written.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"
#include "espimg/image.h"
#include "synth.h"

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !strcmp(s + len - n, suffix);
}

struct rendered {
	int rc;
	char *text;
	size_t len;
};

/* Parses buf (chip forced when key is not NULL) and renders it. */
static struct rendered render(uint8_t *buf, size_t len, const char *key,
			      bool size_line, bool detected_line)
{
	espimg_source src;
	espimg_image_opts o = { 0 };
	espimg_esptool_opts eo = { .size_line = size_line,
				   .detected_line = detected_line };
	espimg_image *img = NULL;
	struct rendered r = { 0 };

	espimg_source_mem(&src, buf, len);
	if (key) {
		o.chip = espimg_chip_by_key(key);
		cr_assert_not_null(o.chip, "%s", key);
	}
	espimg_image_read(&src, &o, &img, NULL);
	cr_assert_not_null(img);
	r.rc = espimg_image_esptool_text(img, &eo, &r.text, &r.len);
	cr_assert_not_null(r.text);
	cr_assert_eq(strlen(r.text), r.len);
	espimg_image_free(img);
	return r;
}

/* Chip id 0x0105 (esptool detects by byte 12: ESP32-C3), odd flash bytes,
 * WP pin 0, every drive nibble set, revisions 305/9999, an app description
 * whose project name has a NUL inside, a 13-byte segment, an empty one, one
 * at an address in no region, a padding segment. */
static void build_odd(uint8_t **out, size_t *len, unsigned mmu_log2)
{
	synth_image s;
	espimg_app_desc d;
	uint8_t raw[ESPIMG_APP_DESC_SIZE];

	synth_init(&s, 0x0105);
	s.entry = 0x400;
	s.wp_pin = 0;
	s.drv[0] = 0x56;
	s.drv[1] = 0x34;
	s.drv[2] = 0x12;
	s.flash_mode = 5;
	s.flash_size_freq = 0xF5;
	s.min_rev = 7;
	s.min_rev_full = 305;
	s.max_rev_full = 9999;
	synth_app_desc_init(&d, "ab", "0123456789abcdef0123456789abcdef");
	d.project_name[3] = 'c';
	d.mmu_page_size_log2 = (uint8_t)mmu_log2;
	d.secure_version = 7;
	d.min_efuse_blk_rev_full = 102;
	synth_app_desc_bytes(&d, raw);
	synth_add(&s, 0x3C000020, raw, sizeof(raw));
	synth_add_fill(&s, 0x3FC88000, 13, SYNTH_FILL_COUNT, 1);
	synth_add(&s, 0x40380000, NULL, 0);
	synth_add_fill(&s, 0x12345678, 8, SYNTH_FILL_COUNT, 2);
	synth_add_fill(&s, 0, 20, SYNTH_FILL_ZERO, 0);
	cr_assert_eq(synth_finish(&s, out, len), 0);
	synth_free(&s);
}

#define ODD_BODY                                                               \
	"Warning: Unexpected chip ID in image. Expected 5 but value was 261. " \
	"Is this image for a different chip model?\n"                         \
	"\n"                                                                   \
	"ESP32-C3 Image Header\n"                                              \
	"=====================\n"                                              \
	"Image version: 1\n"                                                   \
	"Entry point:    0x400\n"                                              \
	"Segments: 5\n"                                                        \
	"Warning: Invalid flash size (0xf0)\n"                                 \
	"Warning: Invalid flash frequency (0x5)\n"                             \
	"Warning: Invalid flash mode (5)\n"                                    \
	"\n"                                                                   \
	"ESP32-C3 Extended Image Header\n"                                     \
	"==============================\n"                                     \
	"WP pin: 0x0\n"                                                        \
	"Flash pins drive settings: clk_drv: 0x6, q_drv: 0x5, d_drv: 0x4, "    \
	"cs0_drv: 0x3, hd_drv: 0x2, wp_drv: 0x1\n"                             \
	"Chip ID: 261 (Unknown ID)\n"                                          \
	"Minimal chip revision: v3.5, (legacy min_rev = 7)\n"                  \
	"Maximal chip revision: v99.99\n"                                      \
	"\n"                                                                   \
	"Segments Information\n"                                               \
	"====================\n"                                               \
	"Segment   Length   Load addr   File offs  Memory types\n"             \
	"-------  -------  ----------  ----------  ------------\n"             \
	"      0  0x00100  0x3c000020  0x00000018  DROM\n"                     \
	"      1  0x00010  0x3fc88000  0x00000120  DRAM, BYTE_ACCESSIBLE\n"    \
	"      2  0x00000  0x40380000  0x00000135  IRAM\n"                     \
	"      3  0x00008  0x12345678  0x0000013d  \n"                         \
	"      4  0x00014  0x00000000  0x0000014d  PADDING\n"                  \
	"\n"                                                                   \
	"ESP32-C3 Image Footer\n"                                              \
	"=====================\n"                                              \
	"Checksum: 0x63 (valid)\n"

#define ODD_APP                                                                \
	"\n"                                                                   \
	"Application Information\n"                                            \
	"=======================\n"                                            \
	"Project name: abc\n"                                                  \
	"App version: 0123456789abcdef0123456789abcdef\n"                      \
	"Compile time: Jan  1 2025 12:34:56\n"                                 \
	"ELF file SHA256: "                                                    \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"   \
	"ESP-IDF: v5.4.1\n"                                                    \
	"Minimal eFuse block revision: 1.2\n"                                  \
	"Maximal eFuse block revision: 0.99\n"

Test(image_esptool, odd_values_and_huge_mmu_page)
{
	uint8_t *buf;
	size_t len;
	struct rendered r;

	build_odd(&buf, &len, 255);
	r = render(buf, len, NULL, true, true);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_expect_str_eq(r.text,
			 "Image size: 400 bytes\n"
			 "Detected image type: ESP32-C3\n" ODD_BODY
			 "Validation hash: 2578aef42bebdcab33775ccc73f10eb371506c163e5d1217f1cbf3e3ba12814e (valid)\n" ODD_APP
			 "MMU page size: 56539106072908298546665520023773392506479484700019806659891398441363832832 KB\n"
			 "Secure version: 7\n");
	free(r.text);

	/* An Intel HEX run after the first: no size line, no detection. */
	r = render(buf, len, NULL, false, false);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_expect(starts_with(r.text, ODD_BODY), "%s", r.text);
	free(r.text);
	free(buf);
}

Test(image_esptool, mmu_page_size_small)
{
	static const struct {
		unsigned log2;
		const char *line;
	} cases[] = {
		{ 5, "\nMMU page size: 0 KB\n" },  /* 2**5 // 1024 */
		{ 10, "\nMMU page size: 1 KB\n" },
		{ 16, "\nMMU page size: 64 KB\n" },
		{ 0, NULL },                       /* not recorded: no line */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *buf;
		size_t len;
		struct rendered r;

		build_odd(&buf, &len, cases[i].log2);
		r = render(buf, len, NULL, true, true);
		cr_expect_eq(r.rc, ESPIMG_OK);
		if (cases[i].line)
			cr_expect_not_null(strstr(r.text, cases[i].line), "%u", cases[i].log2);
		else
			cr_expect_null(strstr(r.text, "MMU page size"));
		cr_expect_not_null(strstr(r.text, ODD_APP));
		free(r.text);
		free(buf);
	}
}

/* An empty DROM segment first: esptool goes on to the bootloader
 * description in the DRAM segment. */
static void build_boot(uint8_t **out, size_t *len, bool bad_utf8)
{
	synth_image s;
	espimg_boot_desc b;
	uint8_t raw[ESPIMG_BOOT_DESC_SIZE];

	synth_init(&s, 9);
	synth_boot_desc_init(&b, 3);
	if (bad_utf8)
		b.date_time[5] = 0xC3; /* a lead byte followed by ' ' */
	synth_boot_desc_bytes(&b, raw);
	synth_add(&s, 0x3C000020, NULL, 0);
	synth_add(&s, 0x3FC88000, raw, sizeof(raw));
	synth_add_fill(&s, 0x40380000, 64, SYNTH_FILL_COUNT, 5);
	cr_assert_eq(synth_finish(&s, out, len), 0);
	synth_free(&s);
}

#define BOOT_TAIL(chip, rule, dram_types, iram_types)                          \
	"Segments Information\n"                                               \
	"====================\n"                                               \
	"Segment   Length   Load addr   File offs  Memory types\n"             \
	"-------  -------  ----------  ----------  ------------\n"             \
	"      0  0x00000  0x3c000020  0x00000018  DROM\n"                     \
	"      1  0x00050  0x3fc88000  0x00000020  " dram_types "\n"           \
	"      2  0x00040  0x40380000  0x00000078  " iram_types "\n"           \
	"\n" chip " Image Footer\n" rule "\n"                                  \
	"Checksum: 0xcc (valid)\n"                                             \
	"Validation hash: dbf57320ce71efc324ddb968864008cc61de482e87d2e5c6322d0e178ca0b26e (valid)\n"

#define BOOT_INFO                                                              \
	"\n"                                                                   \
	"Bootloader Information\n"                                             \
	"======================\n"                                             \
	"Bootloader version: 3\n"                                              \
	"ESP-IDF: v5.4.1\n"                                                    \
	"Compile time: Jan  1 2025 12:34:56\n"

Test(image_esptool, bootloader_after_empty_drom)
{
	uint8_t *buf;
	size_t len;
	struct rendered r;
	const char *tail;

	build_boot(&buf, &len, false);
	r = render(buf, len, NULL, true, true);
	cr_expect_eq(r.rc, ESPIMG_OK);
	tail = BOOT_TAIL("ESP32-S3", "=====================",
			 "BYTE_ACCESSIBLE, MEM_INTERNAL, DRAM",
			 "MEM_INTERNAL, IRAM") BOOT_INFO;
	cr_expect(ends_with(r.text, r.len, tail), "%s", r.text);
	cr_expect(starts_with(r.text, "Image size: 240 bytes\nDetected image type: ESP32-S3\n\n"));
	free(r.text);

	/* --chip esp32c3: the chip's own names and map, a warning. */
	r = render(buf, len, "esp32c3", true, true);
	cr_expect_eq(r.rc, ESPIMG_OK);
	cr_expect(starts_with(r.text,
			      "Image size: 240 bytes\n"
			      "Warning: Unexpected chip ID in image. Expected 5 but value was 9. "
			      "Is this image for a different chip model?\n\nESP32-C3 Image Header\n"),
		  "%s", r.text);
	cr_expect_not_null(strstr(r.text, "Chip ID: 9 (ESP32-S3)\n"));
	tail = BOOT_TAIL("ESP32-C3", "=====================", "DRAM, BYTE_ACCESSIBLE",
			 "IRAM") BOOT_INFO;
	cr_expect(ends_with(r.text, r.len, tail), "%s", r.text);
	free(r.text);
	free(buf);
}

Test(image_esptool, bootloader_text_not_utf8)
{
	uint8_t *buf;
	size_t len;
	struct rendered r;

	build_boot(&buf, &len, true);
	r = render(buf, len, NULL, true, true);
	/* esptool dies decoding date_time: the text ends after the footer. */
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect(ends_with(r.text, r.len,
			    "ESP32-S3 Image Footer\n"
			    "=====================\n"
			    "Checksum: 0x3e (valid)\n"
			    "Validation hash: a2b12d941799af7f2264991ec6b0380563726b33ffe4b00bcac976678b1b2803 (valid)\n"),
		  "%s", r.text);
	free(r.text);
	free(buf);
}

Test(image_esptool, short_drom_segment)
{
	synth_image s;
	uint8_t *buf;
	size_t len;
	struct rendered r;
	static const char tail[] =
		"      0  0x00080  0x3fc88000  0x00000018  DRAM, BYTE_ACCESSIBLE\n"
		"      1  0x00064  0x3c000020  0x000000a0  DROM\n"
		"\n"
		"ESP32-C3 Image Footer\n"
		"=====================\n"
		"Checksum: 0x6f (valid)\n"
		"Validation hash: 45a28b08ab634371a8911670ace2c4deba99e4b7287acac296c5ae0f8970cfa0 (valid)\n";

	/* A 100-byte DROM segment, no magic word: esptool's unpack of 256
	 * bytes fails all the same (and the DRAM one is not looked at). */
	synth_init(&s, 5);
	synth_add_fill(&s, 0x3FC88000, 128, SYNTH_FILL_COUNT, 3);
	synth_add_fill(&s, 0x3C000020, 100, SYNTH_FILL_COUNT, 4);
	cr_assert_eq(synth_finish(&s, &buf, &len), 0);
	synth_free(&s);
	r = render(buf, len, NULL, true, true);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect(ends_with(r.text, r.len, tail), "%s", r.text);
	free(r.text);
	free(buf);
}

Test(image_esptool, seventeen_segments)
{
	synth_image s;
	uint8_t *buf;
	size_t len;
	struct rendered r;

	/* esptool reads all 17, then refuses the count before printing. */
	synth_init(&s, 5);
	for (uint32_t i = 0; i < 17; i++)
		synth_add_fill(&s, 0x3FC88000, 4, SYNTH_FILL_COUNT, i);
	cr_assert_eq(synth_finish(&s, &buf, &len), 0);
	synth_free(&s);
	r = render(buf, len, NULL, true, true);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_str_eq(r.text, "Image size: 272 bytes\nDetected image type: ESP32-C3\n");
	free(r.text);
	free(buf);
}

Test(image_esptool, hash_appended_2)
{
	synth_image s;
	uint8_t *buf;
	size_t len;
	struct rendered r;

	synth_init(&s, 5);
	s.hash_appended = 2;
	synth_add_fill(&s, 0x3FC88000, 64, SYNTH_FILL_COUNT, 6);
	cr_assert_eq(synth_finish(&s, &buf, &len), 0);
	synth_free(&s);

	/* Detection reads it as ESP8266; we stop where esptool goes on. */
	r = render(buf, len, NULL, true, true);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_str_eq(r.text, "Image size: 112 bytes\nDetected image type: ESP8266\n");
	free(r.text);

	/* With --chip the extended header load raises. */
	r = render(buf, len, "esp32c3", true, true);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_str_eq(r.text, "Image size: 112 bytes\n");
	free(r.text);

	/* A HEX run: nothing of ours. */
	r = render(buf, len, "esp32c3", false, false);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_str_eq(r.text, "");
	free(r.text);
	free(buf);
}

Test(image_esptool, nothing_printed_before_failures)
{
	static uint8_t empty[1];
	static uint8_t magic_ff[32] = { 0xFF };
	static uint8_t short8[8] = { 0xE9, 1, 2, 0x20 };
	struct rendered r;

	r = render(empty, 0, NULL, true, true); /* "Image is empty." */
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_str_eq(r.text, "");
	free(r.text);
	r = render(magic_ff, sizeof(magic_ff), "esp32", true, true);
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_str_eq(r.text, "");
	free(r.text);
	r = render(short8, sizeof(short8), NULL, true, true); /* IndexError */
	cr_expect_eq(r.rc, ESPIMG_EFORMAT);
	cr_expect_str_eq(r.text, "");
	free(r.text);
}

Test(image_esptool, bad_arguments)
{
	espimg_image img = { 0 };
	espimg_esptool_opts eo = { 0 };
	char *text = (char *)&img;
	size_t len;

	cr_expect_eq(espimg_image_esptool_text(NULL, &eo, &text, &len), ESPIMG_EINVAL);
	cr_expect_eq(espimg_image_esptool_text(&img, NULL, &text, &len), ESPIMG_EINVAL);
	cr_expect_eq(espimg_image_esptool_text(&img, &eo, NULL, &len), ESPIMG_EINVAL);
}
