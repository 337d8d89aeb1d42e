/*
 * image_text.c - one image described for people: esp-imginfo's default
 * output (--format text).  The JSON/YAML map of image_emit.c carries the
 * same facts for programs; this is the compact view of them:
 *
 *   FILE: ESP32-C3 app, 69984 bytes: ok
 *     chip        ESP32-C3 (id 5), revision v0.0 .. v0.99 (legacy min_rev 0)
 *     flash       DIO, 40m, 4MB
 *     entry       0x40380000
 *     ...
 *
 * The title line ends with the status word of the JSON document ("ok",
 * "invalid", ...); the findings themselves go to stderr through the
 * diagnostics, so they are not repeated.  Digests are printed whole
 * (people compare them), offsets inside the image are relative to its start
 * as in the JSON document.  Text taken from the image is the C string the
 * device sees, with every byte that is not printable UTF-8 shown as \xNN,
 * so a crafted descriptor cannot inject control sequences or fake lines.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "espimg/image.h"
#include "internal.h"

/* Labels are left-aligned in a column this wide, after two spaces. */
#define LABEL_W 12
#define INDENT (2 + LABEL_W)

/* ------------------------------------------------------------ strings */

/* A fixed-width descriptor field as the C string the device sees (up to
 * the first NUL), escaped; "" when empty. */
static void put_desc(espimg_buf *b, const uint8_t *field, size_t size)
{
	const uint8_t *nul = memchr(field, 0, size);
	size_t n = nul ? (size_t)(nul - field) : size;

	if (!n)
		espimg_buf_append(b, "\"\"", 2);
	else
		espimg_buf_escaped(b, field, n);
}

/* Starts a line: the label in its column, or blanks for a continuation
 * line (label ""). */
static void label(espimg_buf *b, const char *l)
{
	espimg_buf_printf(b, "  %-*s", LABEL_W, l);
}

/* ------------------------------------------------------------ parts */

/* "FILE[ at ...]: " - where the image is. */
static void put_where(espimg_buf *b, const espimg_image *img,
		      const char *file, int64_t address)
{
	if (file)
		espimg_buf_escaped(b, file, strlen(file));
	else
		espimg_buf_append(b, "(unnamed)", 9);
	if (address >= 0)
		espimg_buf_printf(b, " at 0x%" PRIx64, (uint64_t)address);
	else if (img && img->offset)
		espimg_buf_printf(b, " at offset 0x%" PRIx64, img->offset);
	espimg_buf_append(b, ": ", 2);
}

static void put_title(espimg_buf *b, const espimg_image *img)
{
	const char *kind = img->kind == ESPIMG_KIND_APP ? "app"
			   : img->kind == ESPIMG_KIND_BOOTLOADER ? "bootloader"
								 : "image";

	if (img->chip)
		espimg_buf_printf(b, "%s %s", img->chip->name, kind);
	else
		espimg_buf_printf(b, "%s (unknown chip)", kind);
	if (img->stage >= ESPIMG_STAGE_CHECKSUM)
		espimg_buf_printf(b, ", %" PRIu64 " bytes", img->image_size);
	else
		espimg_buf_append(b, ", incomplete", 12);
}

static void put_chip(espimg_buf *b, const espimg_image *img)
{
	const espimg_chip *c = img->chip;
	char lo[16], hi[16];

	label(b, "chip");
	if (!c)
		espimg_buf_printf(b, "unknown (id %u)", img->chip_id);
	else if (img->chip_id == c->image_id)
		espimg_buf_printf(b, "%s (id %u%s)", c->name, c->image_id,
				  img->chip_forced ? ", forced" : "");
	else if (img->chip_forced)
		espimg_buf_printf(b, "%s (forced; the header says id %u)", c->name,
				  img->chip_id);
	else
		/* esptool's rule: the low byte of an unknown 16-bit id. */
		espimg_buf_printf(b, "%s (id %u, from the low byte of %u)", c->name,
				  c->image_id, img->chip_id);
	espimg_rev_text(img->min_rev_full, lo);
	espimg_rev_text(img->max_rev_full, hi);
	espimg_buf_printf(b, ", revision %s .. %s (legacy min_rev %u)\n", lo, hi,
			  img->min_rev);
}

static void put_flash(espimg_buf *b, const espimg_image *img)
{
	unsigned size_code = img->flash_size_freq >> 4;
	unsigned freq_code = img->flash_size_freq & 0xF;
	const char *mode = espimg_flash_mode_name(img->flash_mode);
	const char *size = espimg_flash_size_name(size_code);
	const char *freq = img->chip ? espimg_chip_flash_freq_name(img->chip,
								   freq_code)
				     : NULL;

	label(b, "flash");
	if (mode)
		espimg_buf_printf(b, "%s, ", mode);
	else
		espimg_buf_printf(b, "mode %u (undefined), ", img->flash_mode);
	if (freq)
		espimg_buf_printf(b, "%s, ", freq);
	else
		espimg_buf_printf(b, "freq code %u%s, ", freq_code,
				  img->chip ? " (undefined)" : "");
	if (size)
		espimg_buf_printf(b, "%s\n", size);
	else
		espimg_buf_printf(b, "size code %u (undefined)\n", size_code);

	label(b, "entry");
	espimg_buf_printf(b, "0x%08" PRIx32 "\n", img->entry_addr);

	label(b, "pins");
	if (img->wp_pin == ESPIMG_IMAGE_WP_PIN_DISABLED)
		espimg_buf_printf(b, "WP disabled (0x%02x)", img->wp_pin);
	else
		espimg_buf_printf(b, "WP GPIO %u", img->wp_pin);
	espimg_buf_printf(b, ", drive clk %u q %u d %u cs0 %u hd %u wp %u\n",
			  img->clk_drv, img->q_drv, img->d_drv, img->cs0_drv,
			  img->hd_drv, img->wp_drv);

	if (memcmp(img->reserved, "\0\0\0\0", 4)) {
		label(b, "reserved");
		espimg_buf_hex(b, img->reserved, sizeof(img->reserved));
		espimg_buf_append(b, " (should be zero)\n", 18);
	}
}

static int hex_digits(uint64_t v)
{
	int n = 1;

	while (v >>= 4)
		n++;
	return n;
}

static void put_segments(espimg_buf *b, const espimg_image *img)
{
	size_t n = img->nsegments;
	uint64_t max_len = 0, max_off = 0;
	int wi, wl, wo, cl, co;

	if (n > ESPIMG_ARRAY_SIZE(img->segments))
		n = ESPIMG_ARRAY_SIZE(img->segments);
	label(b, "segments");
	if (!n) {
		if (img->stage >= ESPIMG_STAGE_SEGMENTS)
			espimg_buf_append(b, "none\n", 5);
		else
			espimg_buf_printf(b, "none read (the header declares %u)\n",
					  img->segment_count);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (img->segments[i].length > max_len)
			max_len = img->segments[i].length;
		if (img->segments[i].data_offset > max_off)
			max_off = img->segments[i].data_offset;
	}
	/* Hex numbers zero-padded to the widest of their column; a column
	 * is as wide as its heading at least. */
	wi = n > 1 ? (int)snprintf(NULL, 0, "%zu", n - 1) : 1;
	wl = hex_digits(max_len);
	wo = hex_digits(max_off);
	cl = wl + 2 > 6 ? wl + 2 : 6;
	co = wo + 2 > 6 ? wo + 2 : 6;
	espimg_buf_printf(b, "%-*s  %-10s  %-*s  %-*s  memory\n", wi, "#",
			  "load addr", cl, "length", co, "offset");
	for (size_t i = 0; i < n; i++) {
		const espimg_image_segment *s = &img->segments[i];
		size_t nt = s->mem_type_count;
		char len[24], off[24];

		if (nt > ESPIMG_ARRAY_SIZE(s->mem_types))
			nt = ESPIMG_ARRAY_SIZE(s->mem_types);
		snprintf(len, sizeof(len), "0x%0*" PRIx32, wl, s->length);
		snprintf(off, sizeof(off), "0x%0*" PRIx64, wo, s->data_offset);
		espimg_buf_printf(b, "%*s%*zu  0x%08" PRIx32 "  %-*s  %-*s  ",
				  INDENT, "", wi, i, s->load_addr, cl, len, co, off);
		if (!nt)
			espimg_buf_append(b, "(none)", 6);
		for (size_t t = 0; t < nt; t++)
			espimg_buf_printf(b, "%s%s", t ? " " : "", s->mem_types[t]);
		espimg_buf_append(b, "\n", 1);
	}
	if (n != img->segment_count) {
		label(b, "");
		espimg_buf_printf(b, "(the header declares %u, %zu read)\n",
				  img->segment_count, n);
	}
}

static void put_footer(espimg_buf *b, const espimg_image *img)
{
	label(b, "checksum");
	if (img->checksum_ok)
		espimg_buf_printf(b, "0x%02x (valid)\n", img->checksum_stored);
	else
		espimg_buf_printf(b, "0x%02x (invalid; computed 0x%02x)\n",
				  img->checksum_stored, img->checksum_computed);

	label(b, "sha256");
	if (!img->has_sha256) {
		espimg_buf_printf(b, "none (hash_appended %u)\n",
				  img->hash_appended);
		return;
	}
	if (img->sha256_stored_len >= sizeof(img->sha256_stored)) {
		espimg_buf_hex(b, img->sha256_stored, sizeof(img->sha256_stored));
		if (img->sha256_ok) {
			espimg_buf_append(b, " (valid)\n", 9);
			return;
		}
		espimg_buf_append(b, " (invalid)\n", 11);
	} else {
		espimg_buf_printf(b, "cut short: %zu of 32 bytes (invalid)\n",
				  img->sha256_stored_len);
	}
	label(b, "");
	espimg_buf_hex(b, img->sha256_computed, sizeof(img->sha256_computed));
	espimg_buf_append(b, " (computed)\n", 12);
}

/* "0.99" for an eFuse block revision (esptool prints it without "v"). */
static void put_blk_rev(espimg_buf *b, unsigned rev)
{
	espimg_buf_printf(b, "%u.%u", rev / 100, rev % 100);
}

static void put_app_desc(espimg_buf *b, const espimg_app_desc *a)
{
	unsigned lg = a->mmu_page_size_log2;

	label(b, "app");
	put_desc(b, a->project_name, sizeof(a->project_name));
	espimg_buf_append(b, " ", 1);
	put_desc(b, a->version, sizeof(a->version));
	espimg_buf_append(b, "\n", 1);

	label(b, "");
	espimg_buf_append(b, "ESP-IDF ", 8);
	put_desc(b, a->idf_ver, sizeof(a->idf_ver));
	espimg_buf_append(b, ", built ", 8);
	put_desc(b, a->date, sizeof(a->date));
	espimg_buf_append(b, " ", 1);
	put_desc(b, a->time, sizeof(a->time));
	espimg_buf_printf(b, ", secure version %" PRIu32 "\n", a->secure_version);

	label(b, "");
	espimg_buf_append(b, "ELF SHA-256 ", 12);
	espimg_buf_hex(b, a->app_elf_sha256, sizeof(a->app_elf_sha256));
	espimg_buf_append(b, "\n", 1);

	label(b, "");
	espimg_buf_append(b, "eFuse block revision ", 21);
	put_blk_rev(b, a->min_efuse_blk_rev_full);
	espimg_buf_append(b, " .. ", 4);
	put_blk_rev(b, a->max_efuse_blk_rev_full);
	/* log2 of the MMU page size; 0 = not recorded (older ESP-IDF). */
	if (!lg)
		espimg_buf_append(b, ", MMU page size not recorded\n", 29);
	else if (lg >= 64)
		espimg_buf_printf(b, ", MMU page size 2^%u (invalid)\n", lg);
	else if (lg >= 10)
		espimg_buf_printf(b, ", MMU page %" PRIu64 " KB\n",
				  (uint64_t)1 << (lg - 10));
	else
		espimg_buf_printf(b, ", MMU page %u bytes\n", 1u << lg);
}

static void put_boot_desc(espimg_buf *b, const espimg_boot_desc *d)
{
	label(b, "bootloader");
	espimg_buf_printf(b, "version %" PRIu32 "\n", d->version);
	label(b, "");
	espimg_buf_append(b, "ESP-IDF ", 8);
	put_desc(b, d->idf_ver, sizeof(d->idf_ver));
	espimg_buf_append(b, ", built ", 8);
	put_desc(b, d->date_time, sizeof(d->date_time));
	espimg_buf_printf(b, ", secure version %u\n", d->secure_version);
}

/* Block offsets are source offsets; shown relative to the image. */
static uint64_t rel(const espimg_image *img, uint64_t off)
{
	return off >= img->offset ? off - img->offset : off;
}

static void put_signatures(espimg_buf *b, const espimg_image *img)
{
	size_t n = img->nsig;

	if (n > ESPIMG_ARRAY_SIZE(img->sig))
		n = ESPIMG_ARRAY_SIZE(img->sig);
	label(b, "signatures");
	if (!n && img->has_sig_v1) {
		/* A version word and a raw P-256 signature: nothing to
		 * check without the key. */
		espimg_buf_printf(b, "Secure Boot v1 at 0x%" PRIx64 ": %s, version %"
				  PRIu32 "\n", img->sig_v1_offset,
				  espimg_sig_type_name(ESPIMG_SIG_ECDSA_P256),
				  img->sig_v1_version);
		return;
	}
	if (!n) {
		espimg_buf_append(b, "none\n", 5);
		return;
	}
	espimg_buf_printf(b, "Secure Boot v2, sector at 0x%" PRIx64 "\n",
			  img->sig_sector_offset);
	for (size_t i = 0; i < n; i++) {
		const espimg_sigblock *s = &img->sig[i];
		size_t dl = s->image_digest_len;

		if (dl > sizeof(s->image_digest))
			dl = sizeof(s->image_digest);
		label(b, "");
		espimg_buf_printf(b, "block %u at 0x%" PRIx64 ": %s, ", s->index,
				  rel(img, s->offset), espimg_sig_type_name(s->type));
		/* What the bootloader checks before it verifies: magic,
		 * version, CRC.  The signature itself is esp-verify's. */
		if (s->magic != ESPIMG_SIG_BLOCK_MAGIC)
			espimg_buf_printf(b, "bad magic 0x%02x\n", s->magic);
		else if (s->version != 2 && s->version != 3)
			espimg_buf_printf(b, "bad version %u\n", s->version);
		else if (!s->crc_ok)
			espimg_buf_printf(b, "bad CRC 0x%08" PRIx32 " (computed 0x%08"
					  PRIx32 ")\n", s->crc_stored, s->crc_computed);
		else
			espimg_buf_append(b, "CRC ok\n", 7);
		if (s->key_digest_ok) {
			label(b, "");
			espimg_buf_append(b, "  key digest    ", 16);
			espimg_buf_hex(b, s->key_digest, sizeof(s->key_digest));
			espimg_buf_append(b, "\n", 1);
		}
		label(b, "");
		espimg_buf_append(b, "  image digest  ", 16);
		espimg_buf_hex(b, s->image_digest, dl);
		espimg_buf_append(b, "\n", 1);
	}
}

/* ------------------------------------------------------------ entry */

int espimg_image_text(const espimg_image *img, const char *file,
		      int64_t address, const espimg_diag_list *diags,
		      char **text, size_t *len)
{
	espimg_buf b = { 0 };
	const char *status;

	if (!text)
		return ESPIMG_EINVAL;
	*text = NULL;
	if (len)
		*len = 0;
	status = espimg_image_status(img, diags);

	put_where(&b, img, file, address);
	if (!img || img->stage < ESPIMG_STAGE_HEADER) {
		/* Nothing decoded worth showing: one line. */
		espimg_buf_printf(&b, "%s: %s\n",
				  !strcmp(status, "unsupported") ? "ESP8266 image"
								 : "no image",
				  status);
		goto out;
	}
	put_title(&b, img);
	espimg_buf_printf(&b, ": %s\n", status);
	put_chip(&b, img);
	put_flash(&b, img);
	put_segments(&b, img);
	if (img->stage >= ESPIMG_STAGE_CHECKSUM)
		put_footer(&b, img);
	if (img->has_app_desc)
		put_app_desc(&b, &img->app_desc);
	if (img->has_boot_desc)
		put_boot_desc(&b, &img->boot_desc);
	if (img->stage >= ESPIMG_STAGE_COMPLETE)
		put_signatures(&b, img);
out:
	*text = espimg_buf_finish(&b, len);
	return *text ? ESPIMG_OK : ESPIMG_ENOMEM;
}
