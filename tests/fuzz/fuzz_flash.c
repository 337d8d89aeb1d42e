/*
 * fuzz_flash.c - libFuzzer harness for content detection and for locating
 * the bootloader and the partition table in a flash image
 * (espimg_detect_content, espimg_flash_locate).
 *
 * Input: one option byte, then the bytes.
 *   bits 0-1  0: the bytes are the file as they are;
 *             1: the bytes are records {u8 sector, u16 length (LE), data}
 *                placed at sector * 0x1000 (sector & 0x3F) in 0xFF
 *                filler, so that short inputs reach 0x8000 and beyond; the
 *                file ends after the last record, or (bit 7) at the next
 *                4 KiB boundary after it;
 *             2: the file as it is, and read call number (bits 4-6) + 1
 *                fails with EIO;
 *             3: the file as it is, but the source claims to be larger
 *                than any flash (no read may happen)
 *   bits 2-3  the expected table offset: default, 0x8000, 0x9000, 0x10000
 *   bits 4-6  (modes 0, 1) 0: no chip given, else chip table entry
 *             (bits 4-6) - 1
 * The file is copied into a buffer of its own size and read through
 * espimg_source_mem wrapped by a counting source, so that ASan catches a
 * read past it.
 *
 * Checks (abort() on failure):
 *   - every read stays inside the source, a single read is at most one
 *     table (0xC00 bytes); detection reads at most 4 KiB in all, the
 *     locator 32 bytes per 4 KiB step plus one table per candidate;
 *   - detection follows the rules of flash.h: IMAGE only with 0xE9 first,
 *     PTABLE only for a table start in at most 0x1000 bytes, OTADATA only
 *     for whole sectors of the right sizes with erased or CRC-correct
 *     records, FLASH only with a table entry at 0x8000 or below 0x10000;
 *   - the locator's bootloader is an 0xE9 header at 0x0/0x1000/0x2000 and
 *     its chip decides bootloader_offset_ok; its table starts with a
 *     binary table at a 4 KiB boundary, is found by a scan exactly when
 *     it is not at the expected offset, and decodes again to the same
 *     entries from the file's bytes; the flash.* findings match the
 *     result (no_bootloader, bootloader_offset, no_table, table_moved, one
 *     partition_outside per partition past the end); every finding's
 *     offset lies inside the file;
 *   - a table the locator found at 0x8000 (first entry AA 50 with a named
 *     type) makes the file FLASH for detection;
 *   - a failing read gives UNKNOWN and ESPIMG_EIO with no result; an
 *     oversized source gives ESPIMG_ETOOBIG without reading.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"
#include "espimg/flash.h"
#include "espimg/image.h"
#include "espimg/otadata.h"
#include "espimg/ptable.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECTOR 0x1000u

/* ------------------------------------------------------------ input */

/* Mode 1: the next record {u8 sector, u16 length (LE), data} at p[*i..n):
 * its place in the file and its data (the length cut at the input's end).
 * false when no record header is left. */
static bool next_record(const uint8_t *p, size_t n, size_t *i, size_t *off,
			const uint8_t **data, size_t *l)
{
	if (n - *i < 3)
		return false;
	*off = (size_t)(p[*i] & 0x3F) * SECTOR;
	*l = (size_t)p[*i + 1] | (size_t)p[*i + 2] << 8;
	*i += 3;
	if (*l > n - *i)
		*l = n - *i;
	*data = p + *i;
	*i += *l;
	return true;
}

/* Mode 1: records into 0xFF filler.  Returns the file (malloc'd). */
static uint8_t *place(const uint8_t *p, size_t n, bool round, size_t *len)
{
	size_t end = 0, i = 0, off, l;
	const uint8_t *data;
	uint8_t *buf;

	/* first pass: the size */
	while (next_record(p, n, &i, &off, &data, &l))
		if (off + l > end)
			end = off + l;
	if (round)
		end = (end + SECTOR) & ~(size_t)(SECTOR - 1);
	buf = malloc(end ? end : 1);
	CHECK(buf);
	memset(buf, 0xFF, end);
	i = 0;
	while (next_record(p, n, &i, &off, &data, &l))
		memcpy(buf + off, data, l);
	*len = end;
	return buf;
}

/* ------------------------------------------------------------ oracles */

static bool row_at(const uint8_t *buf, size_t len, uint64_t off)
{
	return off + ESPIMG_PTABLE_ENTRY_SIZE <= len;
}

/* A first table entry: AA 50 and a type ESP-IDF names. */
static bool entry_at(const uint8_t *buf, size_t len, uint64_t off)
{
	return row_at(buf, len, off) && buf[off] == 0xAA &&
	       buf[off + 1] == 0x50 &&
	       espimg_ptable_type_name(buf[off + 2]) != NULL;
}

static bool header_byte_at(const uint8_t *buf, size_t len, uint64_t off)
{
	return off + ESPIMG_IMAGE_HEADER_SIZE <= len &&
	       buf[off] == ESPIMG_IMAGE_MAGIC;
}

/* The otadata record at the start of sector r: erased, a CRC that matches
 * its seq, or alone in an otherwise erased sector. */
static bool record_ok(const uint8_t *r)
{
	bool erased = true, alone = true;

	for (size_t i = 0; i < ESPIMG_OTADATA_ENTRY_SIZE; i++)
		erased = erased && r[i] == 0xFF;
	for (size_t i = ESPIMG_OTADATA_ENTRY_SIZE; i < SECTOR; i++)
		alone = alone && r[i] == 0xFF;
	return erased || alone ||
	       le32(r + ESPIMG_OTADATA_OFF_CRC) ==
		       espimg_otadata_crc(le32(r + ESPIMG_OTADATA_OFF_SEQ));
}

static void check_detect(espimg_content c, const uint8_t *buf, size_t len)
{
	bool below = false, header = false;

	switch (c) {
	case ESPIMG_CONTENT_UNKNOWN:
		/* what every rule would have taken is not unknown */
		CHECK(!entry_at(buf, len, ESPIMG_PTABLE_DEFAULT_OFFSET));
		CHECK(!len || buf[0] != ESPIMG_IMAGE_MAGIC);
		CHECK(!(len && len <= ESPIMG_PTABLE_SECTOR &&
			espimg_ptable_is_binary(buf, len)));
		break;
	case ESPIMG_CONTENT_IMAGE:
		CHECK(len && buf[0] == ESPIMG_IMAGE_MAGIC);
		CHECK(!entry_at(buf, len, ESPIMG_PTABLE_DEFAULT_OFFSET));
		break;
	case ESPIMG_CONTENT_PTABLE:
		CHECK(len <= ESPIMG_PTABLE_SECTOR &&
		      espimg_ptable_is_binary(buf, len));
		break;
	case ESPIMG_CONTENT_OTADATA:
		CHECK(len % ESPIMG_OTADATA_SECTOR == 0 &&
		      len >= ESPIMG_OTADATA_MIN_SIZE &&
		      len <= ESPIMG_OTADATA_MAX_SIZE);
		CHECK(record_ok(buf) && record_ok(buf + ESPIMG_OTADATA_SECTOR));
		CHECK(buf[0] != ESPIMG_IMAGE_MAGIC);
		break;
	case ESPIMG_CONTENT_FLASH:
		if (entry_at(buf, len, ESPIMG_PTABLE_DEFAULT_OFFSET))
			break;
		for (uint64_t off = 0; off <= 0x10000; off += SECTOR)
			below = below || entry_at(buf, len, off);
		for (uint64_t off = 0; off <= 0x2000; off += SECTOR)
			header = header || header_byte_at(buf, len, off);
		CHECK(below && header);
		break;
	default:
		CHECK(!"detection returned no content value");
	}
	CHECK(espimg_content_name(c) != NULL);
}

static size_t count_code(const espimg_diag_list *d, const char *code)
{
	size_t n = 0;

	for (size_t i = 0; i < espimg_diag_count(d); i++)
		n += !strcmp(espimg_diag_get(d, i)->code, code);
	return n;
}

static void check_locate(const espimg_flash *f, const espimg_flash_opts *o,
			 const uint8_t *buf, size_t len,
			 const espimg_diag_list *d)
{
	uint64_t expected = o->table_offset ? o->table_offset
					    : ESPIMG_PTABLE_DEFAULT_OFFSET;
	size_t outside = 0;

	CHECK(f->size == len);
	if (f->has_bootloader) {
		CHECK(f->bootloader_offset == 0 || f->bootloader_offset == 0x1000 ||
		      f->bootloader_offset == 0x2000);
		CHECK(header_byte_at(buf, len, f->bootloader_offset));
		CHECK(f->chip);
		if (o->chip)
			CHECK(f->chip == o->chip);
		else
			CHECK(espimg_chip_by_id(buf[f->bootloader_offset + 12] |
						(unsigned)buf[f->bootloader_offset + 13]
							<< 8) == f->chip);
		/* the first one */
		for (uint64_t off = 0; off < f->bootloader_offset; off += SECTOR)
			CHECK(o->chip ? !header_byte_at(buf, len, off) : true);
		CHECK(f->bootloader_offset_ok ==
		      (f->bootloader_offset == f->chip->bootloader_offset));
		CHECK(count_code(d, "flash.no_bootloader") == 0);
		CHECK(count_code(d, "flash.bootloader_offset") ==
		      (f->bootloader_offset_ok ? 0u : 1u));
	} else {
		CHECK(f->chip == o->chip);
		CHECK(!f->bootloader_offset_ok);
		CHECK(count_code(d, "flash.no_bootloader") == 1);
		CHECK(count_code(d, "flash.bootloader_offset") == 0);
		if (o->chip)
			for (uint64_t off = 0; off <= 0x2000; off += SECTOR)
				CHECK(!header_byte_at(buf, len, off));
	}

	if (!f->table) {
		CHECK(!f->table_scanned);
		CHECK(count_code(d, "flash.no_table") == 1);
		CHECK(count_code(d, "flash.table_moved") == 0);
		CHECK(count_code(d, "flash.partition_outside") == 0);
		CHECK(espimg_diag_errors(d) > 0);
	} else {
		espimg_ptable_opts po;
		espimg_ptable *again = NULL;
		size_t n;

		CHECK(f->table_offset % SECTOR == 0);
		CHECK(row_at(buf, len, f->table_offset));
		CHECK(espimg_ptable_is_binary(buf + f->table_offset,
					      len - f->table_offset));
		CHECK(f->table->from_binary);
		CHECK(f->table->count <=
		      ESPIMG_PTABLE_BIN_SIZE / ESPIMG_PTABLE_ENTRY_SIZE);
		CHECK(f->table_scanned == (f->table_offset != expected));
		if (f->table_scanned)
			CHECK(entry_at(buf, len, f->table_offset));
		CHECK(count_code(d, "flash.no_table") == 0);
		CHECK(count_code(d, "flash.table_moved") ==
		      (f->table_scanned ? 1u : 0u));

		/* the same entries from the file's bytes */
		n = len - f->table_offset;
		if (n > ESPIMG_PTABLE_BIN_SIZE)
			n = ESPIMG_PTABLE_BIN_SIZE;
		espimg_ptable_opts_init(&po);
		po.verify = false;
		CHECK(espimg_ptable_parse(buf + f->table_offset, n, &po, NULL,
					  &again, NULL) == 0);
		CHECK(again->count == f->table->count);
		for (size_t i = 0; i < again->count; i++) {
			const espimg_partition *p = &f->table->parts[i];
			const espimg_partition *q = &again->parts[i];

			CHECK(!strcmp(p->name, q->name));
			CHECK(p->type == q->type && p->subtype == q->subtype);
			CHECK(p->offset == q->offset && p->size == q->size);
			CHECK(p->flags == q->flags);
			if ((uint64_t)p->offset + p->size > len)
				outside++;
		}
		espimg_ptable_free(again);
		CHECK(count_code(d, "flash.partition_outside") == outside);
	}

	for (size_t i = 0; i < espimg_diag_count(d); i++) {
		const espimg_diag *x = espimg_diag_get(d, i);

		CHECK(x->code && x->message);
		CHECK(x->offset >= -1 && (x->offset < 0 || (uint64_t)x->offset <= len));
		CHECK(!strncmp(x->code, "flash.", 6) ||
		      !strncmp(x->code, "ptable.", 7));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t table_offsets[] = { 0, 0x8000, 0x9000, 0x10000 };
	static const struct fault none = { 0, 0 };
	espimg_flash_opts o = { .file = "fuzz.bin" };
	struct fault fault = none;
	struct counted c;
	espimg_source src;
	espimg_diag_list *d;
	espimg_flash *f = NULL;
	espimg_content content;
	uint8_t *buf, a;
	unsigned mode, sel;
	size_t len;
	int r;

	if (size < 1)
		return 0;
	a = data[0];
	mode = a & 3;
	sel = (a >> 4) & 7;
	o.table_offset = table_offsets[(a >> 2) & 3];
	if (mode == 1) {
		buf = place(data + 1, size - 1, (a & 0x80) != 0, &len);
	} else {
		len = size - 1;
		buf = malloc(len ? len : 1);
		CHECK(buf);
		memcpy(buf, data + 1, len);
	}
	if (mode < 2 && sel)
		o.chip = espimg_chip_at((sel - 1) % espimg_chip_count());
	fault.fail_call = mode == 2 ? sel + 1 : 0;

	d = espimg_diag_list_new();
	CHECK(d);

	if (mode == 3) {
		/* claims more than any flash holds */
		counted_init(&c, &src, buf, len, ESPIMG_PTABLE_BIN_SIZE, none);
		src.size = (uint64_t)ESPIMG_FLASH_MAX_SIZE + 1 + len;
		f = (espimg_flash *)buf;
		CHECK(espimg_flash_locate(&src, &o, &f, d) == ESPIMG_ETOOBIG);
		CHECK(f == NULL && c.calls == 0);
		goto out;
	}

	/* detection */
	counted_init(&c, &src, buf, len, ESPIMG_PTABLE_BIN_SIZE, fault);
	content = espimg_detect_content(&src);
	/* A few KiB: the head, table rows up to 0x10000, three image
	 * headers, and the rest of both otadata sectors when a record's CRC
	 * is bad (2 x 4064 bytes). */
	CHECK(c.bytes <= 12288);
	if (c.failed)
		CHECK(content == ESPIMG_CONTENT_UNKNOWN);
	else
		check_detect(content, buf, len);

	/* locating */
	counted_init(&c, &src, buf, len, ESPIMG_PTABLE_BIN_SIZE, fault);
	r = espimg_flash_locate(&src, &o, &f, d);
	if (c.failed) {
		CHECK(r == ESPIMG_EIO && f == NULL);
		goto out;
	}
	CHECK(r == ESPIMG_OK && f);
	CHECK(c.bytes <= (len / SECTOR + 2) *
				 (ESPIMG_PTABLE_ENTRY_SIZE + ESPIMG_PTABLE_BIN_SIZE) +
			 3 * (1 + ESPIMG_IMAGE_HEADER_SIZE));
	check_locate(f, &o, buf, len, d);
	if (f->table && f->table_offset == ESPIMG_PTABLE_DEFAULT_OFFSET &&
	    entry_at(buf, len, ESPIMG_PTABLE_DEFAULT_OFFSET) && mode != 2)
		CHECK(content == ESPIMG_CONTENT_FLASH);
	if (!o.chip && f->has_bootloader && f->table &&
	    f->table_offset < 0x10000 && entry_at(buf, len, f->table_offset) &&
	    mode != 2)
		CHECK(content == ESPIMG_CONTENT_FLASH);
out:
	espimg_flash_free(f);
	espimg_diag_list_free(d);
	free(buf);
	return 0;
}
