/*
 * flash.c - what a file holds (image, partition table, otadata, flash
 * image), and where the bootloader and the partition table sit in a flash
 * image.
 *
 * Layout facts: ../shared/docs/images.md section 19; the bootloader offset
 * per chip comes from the chip table (esptool targets/<chip>.py
 * BOOTLOADER_FLASH_OFFSET), the table offset default from ESP-IDF
 * components/partition_table/Kconfig.projbuild (PARTITION_TABLE_OFFSET,
 * 0x8000, a multiple of 0x1000), the table's entry layout from
 * esp_flash_partitions.h (ESP_PARTITION_MAGIC 0x50AA, at most
 * ESP_PARTITION_TABLE_MAX_LEN 0xC00 bytes read by the bootloader).
 *
 * Everything is read through the source's read_at in small fixed-size
 * pieces: a 24-byte image header, 32 bytes per table candidate, one
 * 0xC00-byte table.  Nothing is allocated by a length read from the file.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "espimg/flash.h"
#include "espimg/otadata.h"
#include "internal.h"

/* Flash sectors, the granularity of every flash layout (SPI_FLASH_SEC_SIZE). */
#define FLASH_SECTOR 0x1000u

/* Where a second-stage bootloader can sit: the chips' bootloader offsets
 * (esptool targets/<chip>.py BOOTLOADER_FLASH_OFFSET). */
static const uint32_t boot_offsets[] = { 0x0, 0x1000, 0x2000 };

/* A moved table is looked for up to the first app (0x10000, the default
 * first app offset) when guessing what a file is. */
#define DETECT_SCAN_END 0x10000u

/* ------------------------------------------------------------ names */

static const struct {
	const char *name;
	espimg_content content;
} content_names[] = {
	{ "unknown", ESPIMG_CONTENT_UNKNOWN },
	{ "image", ESPIMG_CONTENT_IMAGE },
	{ "partition-table", ESPIMG_CONTENT_PTABLE },
	{ "otadata", ESPIMG_CONTENT_OTADATA },
	{ "flash", ESPIMG_CONTENT_FLASH },
	/* accepted spellings only */
	{ "ptable", ESPIMG_CONTENT_PTABLE },
	{ "table", ESPIMG_CONTENT_PTABLE },
};

const char *espimg_content_name(espimg_content c)
{
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(content_names); i++)
		if (content_names[i].content == c)
			return content_names[i].name;
	return "unknown";
}

int espimg_content_parse(const char *name, espimg_content *out)
{
	if (!name || !out)
		return -1;
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(content_names); i++) {
		if (!strcasecmp(name, content_names[i].name)) {
			*out = content_names[i].content;
			return 0;
		}
	}
	return -1;
}

/* ------------------------------------------------------------ reading */

/* Reads up to len bytes at off, never asking past the source's end (a
 * memory source cannot check).  *got is what was read (0 past the end).
 * Returns 0 or the source's error. */
static int read_some(const espimg_source *src, uint64_t off, void *buf,
		     size_t len, size_t *got)
{
	size_t n = 0;
	int r;

	*got = 0;
	if (off >= src->size)
		return 0;
	if (len > src->size - off)
		len = (size_t)(src->size - off);
	if (!len)
		return 0;
	r = src->read_at(src->ctx, off, buf, len, &n);
	if (r < 0)
		return r;
	if (r > 0)
		return ESPIMG_EIO;
	*got = n < len ? n : len;
	return 0;
}

/*
 * Whether an image header sits at `off`: all 24 header bytes present,
 * magic 0xE9, and a chip id the chip table knows (with `chip` given: any
 * header, decoded as that chip).  The header is decoded by the image
 * parser over a window that ends after it, so the chip is chosen by the
 * same rules as everywhere else and no segment is read or hashed.
 * Returns 1 (found; *found_chip set), 0 (not found), or an error.
 */
static int header_at(const espimg_source *src, uint64_t off,
		     const espimg_chip *chip, const espimg_chip **found_chip)
{
	espimg_window w;
	espimg_source win;
	espimg_image_opts io;
	espimg_image *img = NULL;
	uint8_t magic;
	size_t got;
	int r, found = 0;

	/* Most candidates are 0xFF padding: look at one byte first. */
	r = read_some(src, off, &magic, 1, &got);
	if (r < 0)
		return r;
	if (got < 1 || magic != ESPIMG_IMAGE_MAGIC ||
	    src->size - off < ESPIMG_IMAGE_HEADER_SIZE)
		return 0;

	espimg_window_init(&win, &w, src, 0, off + ESPIMG_IMAGE_HEADER_SIZE);
	memset(&io, 0, sizeof(io));
	io.chip = chip;
	io.offset = off;
	r = espimg_image_read(&win, &io, &img, NULL);
	if (r == ESPIMG_EIO || r == ESPIMG_ENOMEM || r == ESPIMG_EINVAL) {
		espimg_image_free(img);
		return r;
	}
	if (img && img->stage >= ESPIMG_STAGE_HEADER && img->chip &&
	    (chip || espimg_chip_by_id(img->chip_id))) {
		*found_chip = img->chip;
		found = 1;
	}
	espimg_image_free(img);
	return found;
}

/* The first of 0x0, 0x1000, 0x2000 holding an image header: 1 with *off
 * and *found_chip set, 0 when none, or an error. */
static int find_bootloader(const espimg_source *src, const espimg_chip *chip,
			   uint64_t *off, const espimg_chip **found_chip)
{
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(boot_offsets); i++) {
		int r = header_at(src, boot_offsets[i], chip, found_chip);

		if (r)
			*off = boot_offsets[i];
		if (r)
			return r;
	}
	return 0;
}

/* A table's first entry: the entry magic AA 50 (ESP_PARTITION_MAGIC,
 * little-endian) and a type ESP-IDF names. */
static bool table_entry(const uint8_t row[ESPIMG_PTABLE_ENTRY_SIZE])
{
	return row[0] == 0xAA && row[1] == 0x50 &&
	       espimg_ptable_type_name(row[2]) != NULL;
}

/* Reads the 32 bytes at off.  Returns 1 when they are all there, 0 when
 * the source ends first, or an error. */
static int read_row(const espimg_source *src, uint64_t off,
		    uint8_t row[ESPIMG_PTABLE_ENTRY_SIZE])
{
	size_t got;
	int r = read_some(src, off, row, ESPIMG_PTABLE_ENTRY_SIZE, &got);

	if (r < 0)
		return r;
	return got == ESPIMG_PTABLE_ENTRY_SIZE;
}

/* A record with a bad CRC still looks like otadata when the rest of its
 * sector is erased: esp_ota_ops erases the sector and writes only the
 * 32-byte record, so a corrupted or half-written record sits alone there. */
static bool sector_tail_erased(const espimg_source *src, uint64_t sector)
{
	uint8_t row[ESPIMG_PTABLE_ENTRY_SIZE];

	for (uint64_t off = ESPIMG_PTABLE_ENTRY_SIZE;
	     off < ESPIMG_OTADATA_SECTOR; off += sizeof(row)) {
		if (read_row(src, sector + off, row) != 1)
			return false;
		for (size_t k = 0; k < sizeof(row); k++)
			if (row[k] != 0xFF)
				return false;
	}
	return true;
}

/* 1 when a table's first entry sits at off, 0 when not, or an error. */
static int table_entry_at(const espimg_source *src, uint64_t off)
{
	uint8_t row[ESPIMG_PTABLE_ENTRY_SIZE];
	int r = read_row(src, off, row);

	return r <= 0 ? r : table_entry(row);
}

/* ------------------------------------------------------------ detection */

static espimg_content detect(const espimg_source *src)
{
	uint8_t head[ESPIMG_OTADATA_ENTRY_SIZE], rec[ESPIMG_OTADATA_ENTRY_SIZE];
	const espimg_chip *chip;
	uint64_t boot;
	size_t got;
	int r;

	if (src->size == 0)
		return ESPIMG_CONTENT_UNKNOWN;

	/* A flash image: a table at 0x8000, or a moved one below the first
	 * app behind a bootloader. */
	if (src->size <= ESPIMG_FLASH_MAX_SIZE) {
		r = table_entry_at(src, ESPIMG_PTABLE_DEFAULT_OFFSET);
		if (r < 0)
			return ESPIMG_CONTENT_UNKNOWN;
		if (r)
			return ESPIMG_CONTENT_FLASH;
		for (uint64_t off = 0; off <= DETECT_SCAN_END;
		     off += FLASH_SECTOR) {
			if (off == ESPIMG_PTABLE_DEFAULT_OFFSET)
				continue;
			r = table_entry_at(src, off);
			if (r < 0)
				return ESPIMG_CONTENT_UNKNOWN;
			if (!r)
				continue;
			r = find_bootloader(src, NULL, &boot, &chip);
			if (r < 0)
				return ESPIMG_CONTENT_UNKNOWN;
			if (r)
				return ESPIMG_CONTENT_FLASH;
			break; /* the bootloader does not depend on off */
		}
	}

	memset(head, 0xFF, sizeof(head));
	if (read_some(src, 0, head, sizeof(head), &got) < 0 || !got)
		return ESPIMG_CONTENT_UNKNOWN;
	if (head[0] == ESPIMG_IMAGE_MAGIC)
		return ESPIMG_CONTENT_IMAGE;
	if (src->size <= ESPIMG_PTABLE_SECTOR &&
	    espimg_ptable_is_binary(head, got))
		return ESPIMG_CONTENT_PTABLE;

	/* otadata: whole sectors, and each of the two records the device
	 * reads erased or carrying the CRC of its seq (otadata.md §2). */
	if (src->size % ESPIMG_OTADATA_SECTOR ||
	    src->size < ESPIMG_OTADATA_MIN_SIZE ||
	    src->size > ESPIMG_OTADATA_MAX_SIZE)
		return ESPIMG_CONTENT_UNKNOWN;
	for (unsigned i = 0; i < 2; i++) {
		bool erased = true;

		if (i == 0) {
			memcpy(rec, head, sizeof(rec));
		} else if (read_row(src, ESPIMG_OTADATA_SECTOR, rec) != 1) {
			return ESPIMG_CONTENT_UNKNOWN;
		}
		for (size_t k = 0; k < sizeof(rec); k++)
			erased = erased && rec[k] == 0xFF;
		if (!erased &&
		    espimg_le32(rec + ESPIMG_OTADATA_OFF_CRC) !=
			    espimg_otadata_crc(espimg_le32(rec +
							   ESPIMG_OTADATA_OFF_SEQ)) &&
		    !sector_tail_erased(src, i * (uint64_t)ESPIMG_OTADATA_SECTOR))
			return ESPIMG_CONTENT_UNKNOWN;
	}
	return ESPIMG_CONTENT_OTADATA;
}

espimg_content espimg_detect_content(const espimg_source *src)
{
	if (!src || !src->read_at)
		return ESPIMG_CONTENT_UNKNOWN;
	return detect(src);
}

/* ------------------------------------------------------------ locate */

/* Copies the table parser's findings to the caller's list, with offsets
 * made absolute (the parser counts from the table's first byte). */
static int copy_diags(espimg_diag_list *to, const espimg_diag_list *from,
		      uint64_t base)
{
	for (size_t i = 0; i < espimg_diag_count(from); i++) {
		const espimg_diag *d = espimg_diag_get(from, i);
		int r = espimg_diag_add(to, d->severity, d->code, d->file,
					d->line, d->column,
					d->offset >= 0 ? d->offset + (int64_t)base
						       : -1,
					"%s", d->message);
		if (r == ESPIMG_ENOMEM)
			return r;
	}
	return 0;
}

/*
 * Parses the table at off (the bootloader's 0xC00 bytes, fewer when the
 * source ends first) without the layout rules.  Returns 0 with *out set,
 * ESPIMG_EFORMAT when it does not parse (its findings are in `found`), or
 * an error.
 */
static int table_at(const espimg_source *src, uint64_t off, const char *file,
		    espimg_ptable **out, espimg_diag_list *found)
{
	uint8_t buf[ESPIMG_PTABLE_BIN_SIZE];
	espimg_ptable_opts po;
	size_t got;
	int r;

	*out = NULL;
	r = read_some(src, off, buf, sizeof(buf), &got);
	if (r < 0)
		return r;
	espimg_ptable_opts_init(&po);
	po.verify = false;
	po.table_offset = off <= UINT32_MAX ? (uint32_t)off : 0;
	r = espimg_ptable_parse(buf, got, &po, file, out, found);
	if (r == ESPIMG_ETOOBIG || r == ESPIMG_EINVAL)
		r = ESPIMG_EFORMAT; /* cannot happen for 0xC00 bytes */
	if (r == 0 && !(*out)->from_binary) {
		/* parse chooses by content; a candidate always starts as a
		 * binary table, so this is only a guard */
		espimg_ptable_free(*out);
		*out = NULL;
		r = ESPIMG_EFORMAT;
	}
	return r;
}

static int locate_table(const espimg_source *src, uint64_t expected,
			const char *file, espimg_flash *f,
			espimg_diag_list *diags, bool *rejected)
{
	espimg_diag_list *found = espimg_diag_list_new();
	uint8_t row[ESPIMG_PTABLE_ENTRY_SIZE];
	int r;

	*rejected = false;
	if (!found)
		return ESPIMG_ENOMEM;

	/* At the expected offset any binary table start counts (custom
	 * types 0x40..0xFE, an empty table that is its MD5 entry alone);
	 * what does not parse there is reported. */
	r = read_row(src, expected, row);
	if (r == 1 && espimg_ptable_is_binary(row, sizeof(row))) {
		r = table_at(src, expected, file, &f->table, found);
		if (r == 0 || r == ESPIMG_EFORMAT) {
			int c = copy_diags(diags, found, expected);

			if (c < 0)
				r = c;
		}
		if (r == 0) {
			f->table_offset = expected;
			goto out;
		}
		if (r != ESPIMG_EFORMAT)
			goto out;
		*rejected = true;
	} else if (r < 0) {
		goto out;
	}

	/* Elsewhere: every 4 KiB boundary, 32 bytes each, the first table
	 * that parses wins. */
	for (uint64_t off = 0; off < src->size; off += FLASH_SECTOR) {
		if (off == expected)
			continue;
		r = table_entry_at(src, off);
		if (r < 0)
			goto out;
		if (!r)
			continue;
		espimg_diag_clear(found);
		r = table_at(src, off, file, &f->table, found);
		if (r == ESPIMG_EFORMAT)
			continue;
		if (r == 0) {
			f->table_offset = off;
			f->table_scanned = true;
			r = copy_diags(diags, found, off);
		}
		goto out;
	}
	r = 0;
out:
	espimg_diag_list_free(found);
	return r;
}

/* Partitions the file does not hold in full (a merged file usually ends
 * after its last image; a dump of another flash size). */
static void check_partitions(const espimg_flash *f, const char *file,
			     espimg_diag_list *diags)
{
	for (size_t i = 0; i < f->table->count; i++) {
		const espimg_partition *p = &f->table->parts[i];
		uint64_t end = (uint64_t)p->offset + p->size;
		int64_t at = p->bin_offset >= 0
				     ? (int64_t)f->table_offset + p->bin_offset
				     : -1;

		if (end <= f->size)
			continue;
		if (p->offset >= f->size)
			espimg_diag_add(diags, ESPIMG_SEV_WARNING,
					"flash.partition_outside", file, 0, 0, at,
					"partition '%s' (0x%" PRIx32 "-0x%" PRIx64
					") starts after the end of the file "
					"(0x%" PRIx64 " bytes): none of it is in "
					"this image",
					p->name, p->offset, end - 1, f->size);
		else
			espimg_diag_add(diags, ESPIMG_SEV_WARNING,
					"flash.partition_outside", file, 0, 0, at,
					"partition '%s' (0x%" PRIx32 "-0x%" PRIx64
					") reaches past the end of the file "
					"(0x%" PRIx64 " bytes): only 0x%" PRIx64
					" of its 0x%" PRIx32 " bytes are in it",
					p->name, p->offset, end - 1, f->size,
					f->size - p->offset, p->size);
	}
}

int espimg_flash_locate(const espimg_source *src,
			const espimg_flash_opts *opts, espimg_flash **out,
			espimg_diag_list *diags)
{
	static const espimg_flash_opts no_opts;
	const espimg_chip *chip = NULL;
	const char *file;
	uint64_t expected;
	espimg_flash *f;
	bool rejected = false;
	int r;

	if (out)
		*out = NULL;
	if (!src || !src->read_at || !out)
		return ESPIMG_EINVAL;
	if (!opts)
		opts = &no_opts;
	expected = opts->table_offset ? opts->table_offset
				      : ESPIMG_PTABLE_DEFAULT_OFFSET;
	file = opts->file;
	if (expected % FLASH_SECTOR) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "flash.table_offset",
				file, 0, 0, -1,
				"the partition table offset 0x%" PRIx64
				" is not a multiple of 0x1000",
				expected);
		return ESPIMG_EINVAL;
	}
	if (src->size > ESPIMG_FLASH_MAX_SIZE) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "flash.too_big", file,
				0, 0, -1,
				"%" PRIu64 " bytes: larger than the largest flash "
				"an ESP32-family chip addresses (128 MiB)",
				src->size);
		return ESPIMG_ETOOBIG;
	}

	f = calloc(1, sizeof(*f));
	if (!f)
		return ESPIMG_ENOMEM;
	f->size = src->size;

	r = find_bootloader(src, opts->chip, &f->bootloader_offset, &chip);
	if (r < 0)
		goto fail;
	f->has_bootloader = r == 1;
	f->chip = opts->chip ? opts->chip : (f->has_bootloader ? chip : NULL);
	f->bootloader_offset_ok = f->has_bootloader &&
				  f->bootloader_offset == f->chip->bootloader_offset;

	r = locate_table(src, expected, file, f, diags, &rejected);
	if (r < 0)
		goto fail;

	if (!f->has_bootloader) {
		espimg_diag_add(diags, ESPIMG_SEV_WARNING, "flash.no_bootloader",
				file, 0, 0, -1,
				"no bootloader: no image header%s at 0x0, "
				"0x1000 or 0x2000",
				opts->chip ? "" : " with a known chip id");
	} else if (!f->bootloader_offset_ok) {
		uint64_t want = f->chip->bootloader_offset;
		/* esptool merge-bin --target-offset N writes flash offset N
		 * at file offset 0: everything moves down by the same amount */
		bool shifted = want > f->bootloader_offset && f->table &&
			       f->table_scanned &&
			       f->table_offset + (want - f->bootloader_offset) ==
				       expected;

		if (shifted)
			f->base_offset = want - f->bootloader_offset;
		espimg_diag_add(diags, ESPIMG_SEV_WARNING,
				"flash.bootloader_offset", file, 0, 0,
				(int64_t)f->bootloader_offset,
				"the %s bootloader is at 0x%" PRIx64 " but the "
				"ROM loads it from 0x%" PRIx64 "%s",
				f->chip->name, f->bootloader_offset, want,
				shifted ? "; the partition table is moved down "
					  "by as much, so the file seems to "
					  "start at that flash offset (written "
					  "with --target-offset)"
					: "");
	}
	if (!f->table) {
		if (expected >= f->size)
			espimg_diag_add(diags, ESPIMG_SEV_ERROR, "flash.no_table",
					file, 0, 0, -1,
					"no partition table: the file (0x%" PRIx64
					" bytes) ends before 0x%" PRIx64
					" and holds none at a 4 KiB boundary",
					f->size, expected);
		else if (rejected)
			espimg_diag_add(diags, ESPIMG_SEV_ERROR, "flash.no_table",
					file, 0, 0, (int64_t)expected,
					"no partition table: the one at 0x%" PRIx64
					" does not parse (the ptable errors "
					"above) and there is none at any other "
					"4 KiB boundary", expected);
		else
			espimg_diag_add(diags, ESPIMG_SEV_ERROR, "flash.no_table",
					file, 0, 0, (int64_t)expected,
					"no partition table: nothing at 0x%" PRIx64
					" and none at any other 4 KiB boundary",
					expected);
	} else {
		if (f->table_scanned)
			espimg_diag_add(diags, ESPIMG_SEV_NOTE, "flash.table_moved",
					file, 0, 0, (int64_t)f->table_offset,
					"the partition table is at 0x%" PRIx64
					", not at 0x%" PRIx64 "%s",
					f->table_offset, expected,
					rejected ? " (the table there does not "
						   "parse)"
						 : "");
		check_partitions(f, file, diags);
	}

	*out = f;
	return ESPIMG_OK;
fail:
	espimg_flash_free(f);
	return r;
}

void espimg_flash_free(espimg_flash *flash)
{
	if (!flash)
		return;
	espimg_ptable_free(flash->table);
	free(flash);
}
