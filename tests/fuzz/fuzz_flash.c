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
 *
 * Then the dump scanner, espimg_flash_explain_read, on the same file
 * (same options and fault), with its JSON and YAML documents, text and
 * SVG made in memory.  Checks:
 *   - reads stay inside the source, at most 256 KiB each (the image
 *     reader's buffer), a bounded multiple of the file per partition;
 *   - it agrees with the locator (bootloader, table, one entry per
 *     partition in table order);
 *   - per partition: the part in the file lies inside it; OUTSIDE exactly
 *     when none of it is there; ERASED only when those bytes are all 0xFF
 *     (and then nothing is used); IMAGE only with 0xE9 first in an app or
 *     bootloader partition; an image is bootable exactly when it is in an
 *     app slot, sound, for the chip, fits and is not a bootloader; NVS
 *     page counts within the pages in the file; a valid otadata entry
 *     has a matching CRC;
 *   - the boot predictions name bootable app slots (or nothing), boots
 *     is bootloader_runs and a boot, every reason is a non-empty string;
 *   - the text has no control character but newlines; the SVG is one
 *     document, starts with the XML declaration, ends with </svg>, has
 *     no script, every '<' closes before the next one, every '&' starts
 *     an entity, no control character but newlines;
 *   - a failing read gives ESPIMG_EIO and no result.
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

/* ------------------------------------------------------------ explain */

/* The image reader's buffer: the largest single read explain makes. */
#define EXPLAIN_MAX_READ (256u * 1024u)

static void check_string(const char *s, size_t n, bool newlines)
{
	CHECK(s);
	CHECK(strlen(s) == n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		CHECK(c >= 0x20 || (newlines && c == '\n'));
		CHECK(c != 0x7F);
	}
}

/* The markup is well nested at the level of '<' and '>', and text and
 * attribute values hold only entities for XML's special characters. */
static void check_svg(const char *svg, size_t n)
{
	static const char *const ent[] = { "&amp;", "&lt;", "&gt;", "&quot;",
					   "&#39;" };
	bool in_tag = false;

	check_string(svg, n, true);
	CHECK(!strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39));
	CHECK(n > 7 && !strcmp(svg + n - 7, "</svg>\n"));
	CHECK(!strstr(svg, "<script"));
	CHECK(strstr(svg, "<svg ") && !strstr(strstr(svg, "<svg ") + 1, "<svg "));
	for (size_t i = 0; i < n; i++) {
		if (svg[i] == '<') {
			CHECK(!in_tag);
			in_tag = true;
		} else if (svg[i] == '>') {
			CHECK(in_tag);
			in_tag = false;
		} else if (svg[i] == '&') {
			bool ok = false;

			for (size_t k = 0; k < sizeof(ent) / sizeof(ent[0]); k++)
				ok = ok || !strncmp(svg + i, ent[k], strlen(ent[k]));
			CHECK(ok);
		}
	}
	CHECK(!in_tag);
}

static void check_explain(const espimg_flash_explain *x,
			  const espimg_flash_opts *o, const uint8_t *buf,
			  size_t len)
{
	const espimg_flash *f = x->flash;
	espimg_flash *l = NULL;
	espimg_source src;
	struct sink sk = { 0, 0 };
	char *t = NULL;
	size_t tn = 0;

	/* the locator's answer */
	espimg_source_mem(&src, buf, len);
	CHECK(espimg_flash_locate(&src, o, &l, NULL) == 0);
	CHECK(f && f->size == len);
	CHECK(f->has_bootloader == l->has_bootloader &&
	      f->bootloader_offset == l->bootloader_offset &&
	      f->chip == l->chip && f->base_offset == l->base_offset);
	CHECK(!f->table == !l->table);
	CHECK(!f->table || f->table_offset == l->table_offset);
	CHECK(x->nparts == (f->table ? f->table->count : 0));
	espimg_flash_free(l);
	CHECK(!x->bootloader_runs || (x->bootloader_ok && f->has_bootloader));
	CHECK(!x->bootloader_ok || x->bootloader_kind != ESPIMG_KIND_APP);

	for (size_t i = 0; i < x->nparts; i++) {
		const espimg_flash_part *p = &x->parts[i];
		const espimg_partition *q = p->part;

		CHECK(q == &f->table->parts[i]);
		CHECK(p->in_file <= q->size);
		CHECK(p->file_offset + p->in_file <= len);
		CHECK((p->content == ESPIMG_PART_OUTSIDE) == (p->in_file == 0));
		CHECK(p->content != ESPIMG_PART_UNKNOWN);
		if (p->content == ESPIMG_PART_ERASED) {
			CHECK(all_ff(buf + p->file_offset, p->in_file));
			CHECK(p->used == 0);
		} else if (p->content != ESPIMG_PART_OUTSIDE &&
			   p->content != ESPIMG_PART_OTADATA) {
			CHECK(!all_ff(buf + p->file_offset, p->in_file));
		}
		/* an image's size (with its signature sector, which the file
		 * may end inside) can run past its partition */
		if (p->content != ESPIMG_PART_IMAGE)
			CHECK(p->used <= p->in_file);
		else
			CHECK(p->used <= len - p->file_offset + 0x1000);
		if (p->content == ESPIMG_PART_IMAGE) {
			CHECK(buf[p->file_offset] == ESPIMG_IMAGE_MAGIC);
			CHECK(q->type == ESPIMG_PTYPE_APP ||
			      q->type == ESPIMG_PTYPE_BOOTLOADER);
			CHECK(p->bootable ==
			      (p->app_slot && p->image_ok && p->chip_ok &&
			       p->fits && p->kind != ESPIMG_KIND_BOOTLOADER));
		} else {
			CHECK(!p->bootable);
		}
		if (p->content == ESPIMG_PART_ENCRYPTED)
			CHECK(buf[p->file_offset] != ESPIMG_IMAGE_MAGIC ||
			      (q->type != ESPIMG_PTYPE_APP &&
			       q->type != ESPIMG_PTYPE_BOOTLOADER));
		CHECK((uint64_t)p->nvs_pages_active + p->nvs_pages_full +
			      p->nvs_pages_freeing + p->nvs_pages_erased +
			      p->nvs_pages_corrupt <=
		      p->in_file / 0x1000);
		if (p->content == ESPIMG_PART_NVS)
			CHECK(p->nvs_pages_active + p->nvs_pages_full +
				      p->nvs_pages_freeing > 0);
		CHECK(p->ota_active_entry >= -1 && p->ota_active_entry <= 1);
		for (unsigned k = 0; k < 2; k++)
			if (p->ota_valid[k])
				CHECK(espimg_otadata_crc(p->ota_seq[k]) ==
				      le32(buf + p->file_offset + k * 0x1000 +
					   ESPIMG_OTADATA_OFF_CRC));
		CHECK(memchr(p->problem, 0, sizeof(p->problem)));
		CHECK(memchr(p->project, 0, sizeof(p->project)));
	}
	for (int k = 0; k < 2; k++) {
		int b = k ? x->boot_rollback : x->boot;

		CHECK(b >= -1 && (b < 0 || (size_t)b < x->nparts));
		if (b >= 0)
			CHECK(x->parts[b].bootable && x->parts[b].app_slot);
	}
	CHECK(x->boots == (x->bootloader_runs && x->boot >= 0));
	CHECK(memchr(x->boot_reason, 0, sizeof(x->boot_reason)) &&
	      x->boot_reason[0]);
	CHECK(memchr(x->boot_rollback_reason, 0,
		     sizeof(x->boot_rollback_reason)) &&
	      x->boot_rollback_reason[0]);

	/* the outputs, in memory */
	for (int fmt = ESPIMG_FORMAT_JSON; fmt <= ESPIMG_FORMAT_YAML; fmt++) {
		espimg_emitter *e = espimg_emit_new((espimg_format)fmt,
						    sink_write, &sk);

		CHECK(e);
		sk.len = 0;
		CHECK(espimg_emit_begin_doc(e, "espimg.flash/1") == 0);
		CHECK(espimg_flash_explain_emit(x, "fuzz.bin", e) == 0);
		CHECK(espimg_emit_end_doc(e) == 0);
		CHECK(sk.len > 0);
		espimg_emit_free(e);
	}
	CHECK(espimg_flash_explain_text(x, "fuzz.bin", &t, &tn) == 0);
	check_string(t, tn, true);
	free(t);
	CHECK(espimg_flash_explain_svg(x, "fuzz.bin", &t, &tn) == 0);
	check_svg(t, tn);
	free(t);
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

	/* explaining: the locator's reads, the bootloader, then per
	 * partition a scan, a look at its head, NVS headers and pages, and
	 * at most two image reads to the end of the file */
	{
		espimg_explain_opts eo = { .flash = o };
		espimg_flash_explain *x = (espimg_flash_explain *)buf;
		uint64_t parts = f->table ? f->table->count : 0;

		counted_init(&c, &src, buf, len, EXPLAIN_MAX_READ, fault);
		r = espimg_flash_explain_read(&src, &eo, &x, d);
		if (c.failed) {
			CHECK(r == ESPIMG_EIO && x == NULL);
			goto out;
		}
		CHECK(r == ESPIMG_OK && x);
		CHECK(c.bytes <= (len / SECTOR + 2) *
					 (ESPIMG_PTABLE_ENTRY_SIZE +
					  ESPIMG_PTABLE_BIN_SIZE) +
				 3 * (1 + ESPIMG_IMAGE_HEADER_SIZE) +
				 (parts + 2) * (6 * (uint64_t)len + 0x4000));
		check_explain(x, &o, buf, len);
		espimg_flash_explain_free(x);
	}
out:
	espimg_flash_free(f);
	espimg_diag_list_free(d);
	free(buf);
	return 0;
}
