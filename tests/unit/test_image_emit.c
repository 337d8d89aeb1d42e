/*
 * test_image_emit.c - espimg_image_emit / espimg_image_emit_run: the image
 * map of the espimg.image/1 document on synthesised images.  Key order,
 * null sections, status values, descriptor text (C string, non-UTF-8),
 * offsets relative to the image, and the entry of an input that yielded
 * no image.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"
#include "espimg/image.h"
#include "fixtures.h"
#include "synth.h"

/* An app whose description is `desc` (256 bytes). */
static uint8_t *app_with_desc(const uint8_t desc[256], size_t *len)
{
	const synth_chip *c = fx_synth_chip("esp32c3");
	synth_image s;

	synth_init(&s, c->id);
	cr_assert_geq(synth_add(&s, c->drom, desc, 256), 0);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	return fx_synth_finish(&s, len);
}

static uint8_t *plain_app(size_t *len)
{
	espimg_app_desc a;
	uint8_t raw[256];

	synth_app_desc_init(&a, "hello", "1.2.3");
	synth_app_desc_bytes(&a, raw);
	return app_with_desc(raw, len);
}

/* Parses buf at offset and emits the image (run address `address`) as
 * the only element of a document's list, in `fmt`.  Returns the text
 * (caller frees). */
static char *emit(const uint8_t *buf, size_t len, uint64_t offset,
		  int64_t address, espimg_format fmt, int *read_rc)
{
	struct fx_sink sink = { 0 };
	espimg_source src;
	espimg_image_opts o = { .offset = offset, .file = "in.bin" };
	espimg_image *img = NULL;
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_emitter *e = espimg_emit_new(fmt, fx_sink_write, &sink);
	int rc;

	cr_assert_not_null(d);
	cr_assert_not_null(e);
	espimg_source_mem(&src, buf, len);
	rc = espimg_image_read(&src, &o, &img, d);
	if (read_rc)
		*read_rc = rc;
	cr_assert_not_null(img);
	cr_assert_eq(espimg_emit_begin_doc(e, "espimg.image/1"), 0);
	cr_assert_eq(espimg_emit_key(e, "images"), 0);
	cr_assert_eq(espimg_emit_begin_list(e), 0);
	if (address < 0)
		cr_assert_eq(espimg_image_emit(img, "in.bin", d, e), 0);
	else
		cr_assert_eq(espimg_image_emit_run(img, "in.bin", address, d, e), 0);
	cr_assert_eq(espimg_emit_end_list(e), 0);
	cr_assert_eq(espimg_emit_end_doc(e), 0);
	espimg_emit_free(e);
	espimg_image_free(img);
	espimg_diag_list_free(d);
	return sink.data;
}

static char *emit_json(const uint8_t *buf, size_t len)
{
	return emit(buf, len, 0, -1, ESPIMG_FORMAT_JSON, NULL);
}

/* The keys of the image map, in order, each at its indent in the JSON. */
static const char *const image_keys[] = {
	"file", "offset", "offset_hex", "address", "status", "chip", "kind",
	"image_size", "image_size_hex", "header", "extended_header", "segments",
	"checksum", "sha256", "app_desc", "bootloader_desc", "signatures",
	"errors", "warnings", "notes",
};

static void assert_key_order(const char *json)
{
	const char *p = json;
	char pat[64];

	for (size_t i = 0; i < sizeof(image_keys) / sizeof(*image_keys); i++) {
		/* Image keys sit at indent 6: doc map, images list, image map. */
		snprintf(pat, sizeof(pat), "\n      \"%s\": ", image_keys[i]);
		p = strstr(p, pat);
		cr_assert_not_null(p, "key %s missing or out of order in\n%s",
				   image_keys[i], json);
	}
}

static void assert_has(const char *text, const char *needle)
{
	cr_assert_not_null(strstr(text, needle), "no '%s' in\n%s", needle, text);
}

Test(image_emit, app_keys_in_order_and_values)
{
	size_t len;
	uint8_t *b = plain_app(&len);
	char *j = emit_json(b, len);

	assert_key_order(j);
	assert_has(j, "\"status\": \"ok\"");
	assert_has(j, "\"kind\": \"app\"");
	assert_has(j, "\"address\": null");
	assert_has(j, "\"key\": \"esp32c3\"");
	assert_has(j, "\"forced\": false");
	assert_has(j, "\"project_name\": \"hello\"");
	assert_has(j, "\"version\": \"1.2.3\"");
	assert_has(j, "\"flash_mode_name\": \"DIO\"");
	assert_has(j, "\"min_chip_rev\": \"v0.0\"");
	assert_has(j, "\"max_chip_rev\": \"v0.99\"");
	assert_has(j, "\"max_efuse_blk_rev\": \"0.99\"");
	assert_has(j, "\"mmu_page_size\": 65536");
	assert_has(j, "\"app_elf_sha256\": \"000102030405060708090a0b0c0d0e0f"
		      "101112131415161718191a1b1c1d1e1f\"");
	assert_has(j, "\"reserved_hex\": \"00000000\"");
	assert_has(j, "\"bootloader_desc\": null");
	assert_has(j, "\"errors\": []");
	free(j);
	free(b);
}

Test(image_emit, numbers_with_hex_beside)
{
	size_t len;
	uint8_t *b = plain_app(&len);
	char *j = emit_json(b, len);
	const synth_chip *c = fx_synth_chip("esp32c3");
	char want[96];

	snprintf(want, sizeof(want), "\"load_addr\": %u,\n", c->drom);
	assert_has(j, want);
	snprintf(want, sizeof(want), "\"load_addr_hex\": \"0x%x\"", c->drom);
	assert_has(j, want);
	assert_has(j, "\"data_offset\": 32,");
	assert_has(j, "\"data_offset_hex\": \"0x20\"");
	assert_has(j, "\"header_offset\": 24,");
	free(j);
	free(b);
}

Test(image_emit, desc_text_is_the_c_string)
{
	espimg_app_desc a;
	uint8_t raw[256];
	size_t len;
	uint8_t *b;
	char *j;

	synth_app_desc_init(&a, "proj", NULL);
	/* "v1.0", a NUL, then left-over bytes: the device sees "v1.0". */
	memcpy(a.version, "v1.0\0old", 8);
	synth_app_desc_bytes(&a, raw);
	b = app_with_desc(raw, &len);
	j = emit_json(b, len);
	assert_has(j, "\"version\": \"v1.0\",");
	cr_assert_null(strstr(j, "old"));
	free(j);
	free(b);
}

Test(image_emit, non_utf8_text_gives_valid_json_and_yaml)
{
	espimg_app_desc a;
	uint8_t raw[256];
	size_t len;
	uint8_t *b;
	char *j, *y;

	synth_app_desc_init(&a, NULL, "1.0");
	memcpy(a.project_name, "ab\xff\xfe" "c\"q", 7);
	synth_app_desc_bytes(&a, raw);
	b = app_with_desc(raw, &len);
	j = emit_json(b, len);
	y = emit(b, len, 0, -1, ESPIMG_FORMAT_YAML, NULL);
	cr_assert(espimg_utf8_valid((const uint8_t *)j, strlen(j)));
	cr_assert(espimg_utf8_valid((const uint8_t *)y, strlen(y)));
	/* Each ill-formed byte becomes U+FFFD; the quote is escaped. */
	assert_has(j, "\"project_name\": \"ab\xEF\xBF\xBD\xEF\xBF\xBD" "c\\\"q\"");
	assert_has(j, "\"status\": \"invalid\"");
	assert_has(j, "\"code\": \"image.desc_utf8\"");
	assert_has(y, "project_name: ");
	free(j);
	free(y);
	free(b);
}

Test(image_emit, run_address_and_offsets)
{
	size_t len;
	uint8_t *b = plain_app(&len);
	uint8_t *big = malloc(len + 0x10000);
	char *j;

	cr_assert_not_null(big);
	memset(big, 0xFF, 0x10000);
	memcpy(big + 0x10000, b, len);
	/* The image at 0x10000 of its source: "offset" is absolute, the
	 * offsets inside the image are relative to it. */
	j = emit(big, len + 0x10000, 0x10000, 0x10000, ESPIMG_FORMAT_JSON, NULL);
	assert_has(j, "\"offset\": 65536,");
	assert_has(j, "\"offset_hex\": \"0x10000\"");
	assert_has(j, "\"address\": 65536,");
	assert_has(j, "\"data_offset\": 32,");
	free(j);
	free(big);
	free(b);
}

Test(image_emit, bad_checksum_is_invalid_with_the_error)
{
	const synth_chip *c = fx_synth_chip("esp32c3");
	synth_image s;
	size_t len;
	uint8_t *b;
	char *j;

	synth_init(&s, c->id);
	cr_assert_geq(synth_add_fill(&s, c->iram, 64, SYNTH_FILL_COUNT, 1), 0);
	s.bad_checksum = true;
	b = fx_synth_finish(&s, &len);
	j = emit_json(b, len);
	assert_has(j, "\"status\": \"invalid\"");
	assert_has(j, "\"valid\": false");
	assert_has(j, "\"code\": \"image.checksum\"");
	assert_has(j, "\"kind\": \"unknown\"");
	assert_has(j, "\"app_desc\": null");
	free(j);
	free(b);
}

Test(image_emit, cut_digest_has_null_stored)
{
	size_t len;
	uint8_t *b = plain_app(&len);
	char *j = emit_json(b, len - 16);

	assert_has(j, "\"stored\": null");
	assert_has(j, "\"code\": \"image.sha256_truncated\"");
	free(j);
	free(b);
}

Test(image_emit, truncated_image_has_null_sections)
{
	size_t len;
	uint8_t *b = plain_app(&len);
	char *j = emit_json(b, 100);

	assert_key_order(j);
	assert_has(j, "\"status\": \"invalid\"");
	assert_has(j, "\"image_size\": null");
	assert_has(j, "\"checksum\": null");
	assert_has(j, "\"sha256\": null");
	free(j);
	free(b);
}

Test(image_emit, esp8266_is_unsupported)
{
	static const uint8_t esp8266v2[32] = { 0xEA, 0x04 };
	char *j = emit_json(esp8266v2, sizeof(esp8266v2));

	assert_has(j, "\"status\": \"unsupported\"");
	assert_has(j, "\"code\": \"image.esp8266\"");
	assert_has(j, "\"header\": null");
	free(j);
}

Test(image_emit, signatures_v2)
{
	size_t len;
	uint8_t *b = plain_app(&len);
	synth_sig sigs[2] = { { .version = 2, .seed = 1 },
			      { .version = 3, .curve = 2, .seed = 2 } };
	char *j;

	uint8_t *at;

	cr_assert_eq(synth_sign_v2(&b, &len, sigs, 2), 0);
	/* At 0x2000 of its source: block offsets are shown from the image
	 * start like every offset inside it. */
	at = malloc(len + 0x2000);
	cr_assert_not_null(at);
	memset(at, 0xFF, 0x2000);
	memcpy(at + 0x2000, b, len);
	j = emit(at, len + 0x2000, 0x2000, -1, ESPIMG_FORMAT_JSON, NULL);
	free(at);
	assert_has(j, "\"scheme\": \"v2\"");
	assert_has(j, "\"sector_offset\": 4096");
	assert_has(j, "\"type\": \"RSA-3072\"");
	assert_has(j, "\"type\": \"ECDSA-P256\"");
	assert_has(j, "\"offset\": 5312,"); /* block 1: 4096 + 1216 */
	assert_has(j, "\"crc_ok\": true");
	free(j);
	free(b);
}

Test(image_emit, no_image_entry)
{
	struct fx_sink sink = { 0 };
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_emitter *e = espimg_emit_new(ESPIMG_FORMAT_JSON, fx_sink_write,
					    &sink);

	cr_assert_not_null(d);
	cr_assert_not_null(e);
	espimg_diag_add(d, ESPIMG_SEV_ERROR, "io.read", "x.bin", 0, 0, -1,
			"cannot read: No such file or directory");
	espimg_emit_begin_doc(e, "espimg.image/1");
	espimg_emit_key(e, "images");
	espimg_emit_begin_list(e);
	cr_assert_eq(espimg_image_emit(NULL, "x.bin", d, e), 0);
	espimg_diag_clear(d);
	espimg_diag_add(d, ESPIMG_SEV_ERROR, "ihex.checksum", "y.hex", 1, 42, -1,
			"bad");
	cr_assert_eq(espimg_image_emit_run(NULL, "y.hex", -1, d, e), 0);
	espimg_emit_end_list(e);
	cr_assert_eq(espimg_emit_end_doc(e), 0);

	assert_key_order(fx_sink_str(&sink));
	assert_has(fx_sink_str(&sink), "\"status\": \"unreadable\"");
	assert_has(fx_sink_str(&sink), "\"status\": \"invalid\"");
	assert_has(fx_sink_str(&sink), "\"offset\": null");
	assert_has(fx_sink_str(&sink), "\"segments\": []");
	assert_has(fx_sink_str(&sink), "\"code\": \"io.read\"");
	espimg_emit_free(e);
	espimg_diag_list_free(d);
	fx_sink_free(&sink);
}

Test(image_emit, write_failure_is_reported)
{
	size_t len;
	uint8_t *b = plain_app(&len);
	struct fx_sink sink = { .fail_from = 5 };
	espimg_source src;
	espimg_image_opts o = { 0 };
	espimg_image *img = NULL;
	espimg_emitter *e = espimg_emit_new(ESPIMG_FORMAT_JSON, fx_sink_write,
					    &sink);

	espimg_source_mem(&src, b, len);
	cr_assert_eq(espimg_image_read(&src, &o, &img, NULL), 0);
	espimg_emit_begin_doc(e, "espimg.image/1");
	espimg_emit_key(e, "images");
	espimg_emit_begin_list(e);
	cr_assert_eq(espimg_image_emit(img, "a", NULL, e), ESPIMG_EIO);
	cr_assert_eq(espimg_image_emit(img, "a", NULL, NULL), ESPIMG_EINVAL);
	espimg_emit_free(e);
	espimg_image_free(img);
	fx_sink_free(&sink);
	free(b);
}
