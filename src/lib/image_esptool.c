/*
 * image_esptool.c - the text esptool 5.3.1 `image-info` prints for one
 * image, rebuilt from a parsed espimg_image.
 *
 * Facts from esptool 5.3.1: esptool/cmds.py (image_info,
 * _parse_image_info_header, _print_image_info, _parse_app_info,
 * _parse_bootloader_info), esptool/bin_image.py (ESP32FirmwareImage,
 * ImageSegment), esptool/util.py (expand_chip_name, hexify,
 * sanitize_string), esptool/logger.py (log.warning prints
 * "Warning: MESSAGE" on stdout; log.error goes to stderr).
 * ../shared/docs/images.md §11.3 and §12 sum them up.
 *
 * esptool loads the whole image before it prints any of it, so a load
 * failure leaves only the lines printed before the load ("Image size",
 * "Detected image type") plus the warnings logged while loading.  A
 * descriptor esptool cannot decode (a DROM segment too short for
 * esp_app_desc_t, text that is not UTF-8) stops it after the footer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/image.h"
#include "internal.h"

/* esptool's FLASH_MODES (cmds.py) has names for modes 0..3 only. */
static const char *const esptool_flash_modes[] = { "QIO", "QOUT", "DIO", "DOUT" };

/*
 * Byte `off` (0..23) of the image header, put back together from the
 * decoded fields.  The parser fills every field whose bytes it read, also
 * when the file ends inside the header; esptool's chip detection looks at
 * raw bytes of such short files.
 */
static unsigned hdr_byte(const espimg_image *img, unsigned off)
{
	switch (off) {
	case 0: return img->magic;
	case 1: return img->segment_count;
	case 2: return img->flash_mode;
	case 3: return img->flash_size_freq;
	case 4: case 5: case 6: case 7:
		return (img->entry_addr >> (8 * (off - 4))) & 0xFF;
	case 8: return img->wp_pin;
	case 9: return (img->clk_drv & 0xF) | (img->q_drv & 0xF) << 4;
	case 10: return (img->d_drv & 0xF) | (img->cs0_drv & 0xF) << 4;
	case 11: return (img->hd_drv & 0xF) | (img->wp_drv & 0xF) << 4;
	case 12: return img->chip_id & 0xFF;
	case 13: return img->chip_id >> 8;
	case 14: return img->min_rev;
	case 15: return img->min_rev_full & 0xFF;
	case 16: return img->min_rev_full >> 8;
	case 17: return img->max_rev_full & 0xFF;
	case 18: return img->max_rev_full >> 8;
	case 19: case 20: case 21: case 22: return img->reserved[off - 19];
	default: return img->hash_appended;
	}
}

/*
 * _parse_image_info_header without --chip: reads up to 24 bytes; if the
 * last byte it got (byte 23 of a whole header) is not 0 or 1, or byte 12
 * alone names no chip, the image is taken for an ESP8266 one (*esp8266 set,
 * NULL returned).  A file of 8 bytes or fewer makes it crash (it indexes
 * an empty extended header): NULL with *esp8266 clear.
 */
static const espimg_chip *esptool_detect(const espimg_image *img, bool *esp8266)
{
	uint64_t n = img->source_size;
	unsigned last, id;
	const espimg_chip *chip;

	*esp8266 = false;
	if (n <= 8)
		return NULL;
	last = hdr_byte(img, n >= ESPIMG_IMAGE_HEADER_SIZE ?
				     ESPIMG_IMAGE_HEADER_SIZE - 1 : (unsigned)n - 1);
	id = n > 12 ? hdr_byte(img, 12) : 0; /* int.from_bytes(b"") == 0 */
	chip = last <= 1 ? espimg_chip_by_id(id) : NULL;
	if (!chip)
		*esp8266 = true;
	return chip;
}

/* ImageSegment pads the data of every segment not at address 0 to a
 * multiple of 4 bytes; image-info shows (and tests) that length. */
static uint64_t shown_len(const espimg_image_segment *s)
{
	uint64_t len = s->length;

	return s->load_addr ? (len + 3) & ~(uint64_t)3 : len;
}

static bool seg_is(const espimg_image_segment *s, const char *type)
{
	size_t n = s->mem_type_count < ESPIMG_ARRAY_SIZE(s->mem_types) ?
			   s->mem_type_count : ESPIMG_ARRAY_SIZE(s->mem_types);

	for (size_t i = 0; i < n; i++)
		if (s->mem_types[i] && !strcmp(s->mem_types[i], type))
			return true;
	return false;
}

static void title(espimg_buf *b, const char *chip, const char *what)
{
	size_t n = (chip ? strlen(chip) + 1 : 0) + strlen(what);
	char line[128];

	if (chip)
		espimg_buf_printf(b, "%s %s\n", chip, what);
	else
		espimg_buf_printf(b, "%s\n", what);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	memset(line, '=', n);
	line[n] = '\n';
	espimg_buf_append(b, line, n + 1);
}

/* A descriptor text field as esptool 5.x prints it: decoded as UTF-8,
 * every NUL removed (sanitize_string). */
static void put_field(espimg_buf *b, const uint8_t *field, size_t size)
{
	char out[64];
	size_t n = espimg_desc_text(field, size, ESPIMG_DESC_STRIP_NUL, out,
				    sizeof(out));

	espimg_buf_append(b, out, n < sizeof(out) ? n : sizeof(out) - 1);
}

/* "N KB" for an app's mmu_page_size byte: Python's 2**n // 1024, an
 * integer of up to 74 digits for n = 255. */
static void put_mmu_page_size(espimg_buf *b, unsigned log2)
{
	unsigned char dig[96]; /* little-endian decimal digits */
	size_t nd = 1;
	char text[sizeof(dig) + 1];

	dig[0] = log2 >= 10 ? 1 : 0;
	for (unsigned i = 10; i < log2; i++) {
		unsigned carry = 0;

		for (size_t k = 0; k < nd; k++) {
			unsigned v = dig[k] * 2u + carry;

			dig[k] = (unsigned char)(v % 10);
			carry = v / 10;
		}
		if (carry)
			dig[nd++] = (unsigned char)carry;
	}
	for (size_t k = 0; k < nd; k++)
		text[k] = (char)('0' + dig[nd - 1 - k]);
	text[nd] = '\0';
	espimg_buf_printf(b, "MMU page size: %s KB\n", text);
}

static void put_rev(espimg_buf *b, const char *label, unsigned full)
{
	espimg_buf_printf(b, "%s%u.%u", label, full / 100, full % 100);
}

/* The header, extended header, segment table and footer sections. */
static void put_body(espimg_buf *b, const espimg_image *img,
		     const espimg_chip *chip)
{
	const espimg_chip *id_chip = espimg_chip_by_id(img->chip_id);
	unsigned size_bits = img->flash_size_freq & 0xF0;
	unsigned freq_bits = img->flash_size_freq & 0x0F;
	const char *name;

	espimg_buf_append(b, "\n", 1);
	title(b, chip->name, "Image Header");
	espimg_buf_printf(b, "Image version: 1\n");
	if (img->entry_addr)
		espimg_buf_printf(b, "Entry point: %#8" PRIx32 "\n", img->entry_addr);
	else
		espimg_buf_printf(b, "Entry point not set\n");
	espimg_buf_printf(b, "Segments: %zu\n", img->nsegments);

	name = espimg_flash_size_name(size_bits >> 4);
	if (name)
		espimg_buf_printf(b, "Flash size: %s\n", name);
	else
		espimg_buf_printf(b, "Warning: Invalid flash size (0x%x)\n", size_bits);
	name = espimg_chip_flash_freq_name(chip, freq_bits);
	if (name)
		espimg_buf_printf(b, "Flash freq: %s\n", name);
	else
		espimg_buf_printf(b, "Warning: Invalid flash frequency (0x%x)\n",
				  freq_bits);
	if (img->flash_mode < ESPIMG_ARRAY_SIZE(esptool_flash_modes))
		espimg_buf_printf(b, "Flash mode: %s\n",
				  esptool_flash_modes[img->flash_mode]);
	else
		espimg_buf_printf(b, "Warning: Invalid flash mode (%u)\n",
				  img->flash_mode);

	espimg_buf_append(b, "\n", 1);
	title(b, chip->name, "Extended Image Header");
	/* '{:#02x}': a 0x prefix and no zero padding, also for 0. */
	espimg_buf_printf(b, "WP pin: 0x%x%s\n", img->wp_pin,
			  img->wp_pin == ESPIMG_IMAGE_WP_PIN_DISABLED ?
				  " (disabled)" : "");
	espimg_buf_printf(b,
			  "Flash pins drive settings: clk_drv: 0x%x, q_drv: 0x%x, "
			  "d_drv: 0x%x, cs0_drv: 0x%x, hd_drv: 0x%x, wp_drv: 0x%x\n",
			  img->clk_drv, img->q_drv, img->d_drv, img->cs0_drv,
			  img->hd_drv, img->wp_drv);
	espimg_buf_printf(b, "Chip ID: %u (%s)\n", img->chip_id,
			  id_chip ? id_chip->name : "Unknown ID");
	put_rev(b, "Minimal chip revision: v", img->min_rev_full);
	espimg_buf_printf(b, ", (legacy min_rev = %u)\n", img->min_rev);
	put_rev(b, "Maximal chip revision: v", img->max_rev_full);
	espimg_buf_append(b, "\n\n", 2);

	title(b, NULL, "Segments Information");
	espimg_buf_printf(b, "Segment   Length   Load addr   File offs  Memory types\n"
			     "-------  -------  ----------  ----------  ------------\n");
	for (size_t i = 0; i < img->nsegments; i++) {
		const espimg_image_segment *s = &img->segments[i];
		size_t nt = s->mem_type_count < ESPIMG_ARRAY_SIZE(s->mem_types) ?
				    s->mem_type_count :
				    ESPIMG_ARRAY_SIZE(s->mem_types);

		espimg_buf_printf(b, "%7zu  0x%05" PRIx64 "  0x%08" PRIx32
				     "  0x%08" PRIx64 "  ",
				  i, shown_len(s), s->load_addr, s->header_offset);
		for (size_t t = 0; t < nt; t++)
			espimg_buf_printf(b, "%s%s", t ? ", " : "",
					  s->mem_types[t] ? s->mem_types[t] : "");
		espimg_buf_append(b, "\n", 1);
	}
	espimg_buf_append(b, "\n", 1);

	title(b, chip->name, "Image Footer");
	if (img->checksum_stored == img->checksum_computed)
		espimg_buf_printf(b, "Checksum: 0x%02x (valid)\n", img->checksum_stored);
	else
		espimg_buf_printf(b, "Checksum: 0x%02x (invalid - calculated 0x%02x)\n",
				  img->checksum_stored, img->checksum_computed);
	if (img->hash_appended == 1) {
		/* The calculated digest is shown, never the stored one. */
		espimg_buf_printf(b, "Validation hash: ");
		espimg_buf_hex(b, img->sha256_computed, sizeof(img->sha256_computed));
		espimg_buf_printf(b, " (%s)\n", img->sha256_ok ? "valid" : "invalid");
	}
}

/* Application Information; false when esptool cannot decode the text. */
static bool put_app_desc(espimg_buf *b, const espimg_app_desc *d)
{
	/* The fields sanitize_string() decodes, as whole fixed-width fields
	 * (NULs included: U+0000 is valid, and stripping first could join
	 * the halves of a split sequence). */
	if (!espimg_utf8_valid(d->version, sizeof(d->version)) ||
	    !espimg_utf8_valid(d->project_name, sizeof(d->project_name)) ||
	    !espimg_utf8_valid(d->time, sizeof(d->time)) ||
	    !espimg_utf8_valid(d->date, sizeof(d->date)) ||
	    !espimg_utf8_valid(d->idf_ver, sizeof(d->idf_ver)))
		return false;

	espimg_buf_append(b, "\n", 1);
	title(b, NULL, "Application Information");
	espimg_buf_printf(b, "Project name: ");
	put_field(b, d->project_name, sizeof(d->project_name));
	espimg_buf_printf(b, "\nApp version: ");
	put_field(b, d->version, sizeof(d->version));
	espimg_buf_printf(b, "\nCompile time: ");
	put_field(b, d->date, sizeof(d->date));
	espimg_buf_append(b, " ", 1);
	put_field(b, d->time, sizeof(d->time));
	espimg_buf_printf(b, "\nELF file SHA256: ");
	espimg_buf_hex(b, d->app_elf_sha256, sizeof(d->app_elf_sha256));
	espimg_buf_printf(b, "\nESP-IDF: ");
	put_field(b, d->idf_ver, sizeof(d->idf_ver));
	espimg_buf_append(b, "\n", 1);
	put_rev(b, "Minimal eFuse block revision: ", d->min_efuse_blk_rev_full);
	espimg_buf_append(b, "\n", 1);
	put_rev(b, "Maximal eFuse block revision: ", d->max_efuse_blk_rev_full);
	espimg_buf_append(b, "\n", 1);
	if (d->mmu_page_size_log2)
		put_mmu_page_size(b, d->mmu_page_size_log2);
	espimg_buf_printf(b, "Secure version: %" PRIu32 "\n", d->secure_version);
	return true;
}

/* Bootloader Information; false when esptool cannot decode the text. */
static bool put_boot_desc(espimg_buf *b, const espimg_boot_desc *d)
{
	if (!espimg_utf8_valid(d->idf_ver, sizeof(d->idf_ver)) ||
	    !espimg_utf8_valid(d->date_time, sizeof(d->date_time)))
		return false;

	espimg_buf_append(b, "\n", 1);
	title(b, NULL, "Bootloader Information");
	espimg_buf_printf(b, "Bootloader version: %" PRIu32 "\nESP-IDF: ", d->version);
	put_field(b, d->idf_ver, sizeof(d->idf_ver));
	espimg_buf_printf(b, "\nCompile time: ");
	put_field(b, d->date_time, sizeof(d->date_time));
	espimg_buf_append(b, "\n", 1);
	return true;
}

/*
 * The descriptor part.  esptool takes the first segment typed DROM as the
 * app description (esp_app_desc_t is 256 bytes: a shorter, non-empty one
 * makes its struct.unpack fail whatever the magic) and, when that segment
 * is absent or empty, the last other segment typed DRAM with at least 80
 * bytes as the bootloader description.  Returns false where esptool stops.
 */
static bool put_descriptors(espimg_buf *b, const espimg_image *img)
{
	long app = -1, boot = -1;

	for (size_t i = 0; i < img->nsegments; i++) {
		const espimg_image_segment *s = &img->segments[i];

		if (app < 0 && seg_is(s, "DROM"))
			app = (long)i;
		else if (seg_is(s, "DRAM") && shown_len(s) >= ESPIMG_BOOT_DESC_SIZE)
			boot = (long)i;
	}
	if (app >= 0 && shown_len(&img->segments[app]) > 0) {
		if (shown_len(&img->segments[app]) < ESPIMG_APP_DESC_SIZE)
			return false;
		if (img->has_app_desc && img->app_desc.segment == (unsigned long)app)
			return put_app_desc(b, &img->app_desc);
		return true; /* no magic word: nothing printed */
	}
	if (boot >= 0 && img->has_boot_desc &&
	    img->boot_desc.segment == (unsigned long)boot)
		return put_boot_desc(b, &img->boot_desc);
	return true;
}

int espimg_image_esptool_text(const espimg_image *img,
			      const espimg_esptool_opts *opts, char **text,
			      size_t *len)
{
	espimg_buf b = { 0 };
	const espimg_chip *chip;
	bool esp8266 = false, complete = false;
	char upper[64];

	if (!img || !opts || !text)
		return ESPIMG_EINVAL;
	*text = NULL;
	if (len)
		*len = 0;

	/* _parse_image_info_header: fatal errors before anything is printed
	 * for an empty file or a magic other than 0xE9/0xEA. */
	if (img->source_size == 0 || (img->magic != ESPIMG_IMAGE_MAGIC &&
				      img->magic != ESPIMG_IMAGE_MAGIC_ESP8266_V2))
		goto out;
	if (img->chip_forced) {
		chip = img->chip;
	} else {
		chip = esptool_detect(img, &esp8266);
		if (!chip && !esp8266)
			goto out; /* IndexError on a file of 1..8 bytes */
	}

	if (opts->size_line)
		espimg_buf_printf(&b, "Image size: %" PRIu64 " bytes\n",
				  img->source_size);
	if (opts->detected_line && !img->chip_forced) {
		const char *n = chip ? chip->name : "ESP8266";
		size_t i;

		for (i = 0; n[i] && i < sizeof(upper) - 1; i++)
			upper[i] = (char)(n[i] >= 'a' && n[i] <= 'z' ? n[i] - 32 : n[i]);
		upper[i] = '\0';
		espimg_buf_printf(&b, "Detected image type: %s\n", upper);
	}
	/* ESP8266 (detected, or the fallback for an unknown chip byte or a
	 * hash_appended byte other than 0/1): esptool goes on with its
	 * ESP8266 parser; we stop here. */
	if (!chip)
		goto out;

	/* LoadFirmwareImage: load_common_header refuses 0xEA, the header
	 * unpacks need 8 and 16 bytes, and the chip id warning comes before
	 * the append_digest check. */
	if (img->magic != ESPIMG_IMAGE_MAGIC ||
	    img->source_size < ESPIMG_IMAGE_HEADER_SIZE)
		goto out;
	if (img->chip_id != chip->image_id)
		espimg_buf_printf(&b,
				  "Warning: Unexpected chip ID in image. Expected %u but "
				  "value was %u. Is this image for a different chip "
				  "model?\n",
				  chip->image_id, img->chip_id);
	if (img->hash_appended > 1)
		goto out;
	/* Segments and checksum byte must have been read; verify() then
	 * refuses more than 16 segments. */
	if (img->stage < ESPIMG_STAGE_CHECKSUM ||
	    img->nsegments != img->segment_count ||
	    img->nsegments > ESPIMG_IMAGE_MAX_SEGMENTS)
		goto out;

	put_body(&b, img, chip);
	complete = put_descriptors(&b, img);
out:
	*text = espimg_buf_finish(&b, len);
	if (!*text)
		return ESPIMG_ENOMEM;
	return complete ? ESPIMG_OK : ESPIMG_EFORMAT;
}
