/*
 * fuzz_image.c - libFuzzer harness for the app/bootloader image parser and
 * everything built on its result: the esptool text, the description
 * (JSON, plus YAML or the emitter's text), the text for people and the ELF
 * writer.
 *
 * Input: one option byte, then the image.
 *   bits 0-1  0 or 2: chip from the header; 1: chip forced, bits 2-5 pick
 *             it from the chip table; 3: a failing source: with bit 5
 *             clear, read call number (bits 2-4) + 1 fails with EIO; with
 *             bit 5 set, the source claims ((bits 2-4) + 1) KiB more than
 *             it holds and reads come back short at its real end (a file
 *             that shrank while it was read)
 *   bits 6-7  the image sits after 0, 1, 24 or 4096 bytes of 0xFF and is
 *             parsed at that offset
 * The image is copied into a buffer of its own size, so that ASan catches
 * any read past it.
 *
 * Checks (abort() on failure):
 *   - the return code, the stage and the diagnostics agree (an error for
 *     every failure, absolute offsets inside the source);
 *   - segments chain from 0x18, each inside the source, nsegments <=
 *     segment_count; checksum position and value, SHA-256 recomputed here;
 *     image_size <= source size; descriptors sit at the start of a segment
 *     of the right memory type and hold the source's bytes; signature
 *     blocks lie in a 4 KiB-aligned sector inside the source;
 *   - the source is read in bounded chunks, about once, and never past
 *     its size (espimg_source_mem copies whatever it is asked for); a
 *     failing source gives ESPIMG_EIO, in the parser and the ELF writer;
 *   - with a prefix, the same image parsed at offset 0 gives the same result
 *     (diagnostic offsets shifted); forcing the chip the header names gives
 *     the same result as not forcing it;
 *   - the esptool text is a NUL-free string; the JSON description is
 *     well-formed UTF-8 JSON; the text for people is UTF-8 without
 *     control characters; the ELF has one PT_LOAD per non-padding
 *     segment holding the image's bytes, and nothing else but its headers.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "espimg/espimg.h"
#include "espimg/image.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_READ ((size_t)1 << 20) /* the largest single read we accept */

/* ------------------------------------------------------------ JSON check */

struct json {
	const char *p, *end;
	int depth;
};

static void json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' ||
				 *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static bool json_lit(struct json *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
		return false;
	j->p += n;
	return true;
}

static bool json_string(struct json *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;

		if (c < 0x20)
			return false;
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end || !strchr("\"\\/bfnrtu", *j->p))
				return false;
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (j->p + i >= j->end ||
					    !strchr("0123456789abcdefABCDEF",
						    j->p[i]))
						return false;
				j->p += 4;
			}
		}
		j->p++;
	}
	if (j->p >= j->end)
		return false;
	j->p++;
	return true;
}

static bool json_number(struct json *j)
{
	const char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return false;
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	/* we only emit integers */
	return j->p > s;
}

static bool json_value(struct json *j)
{
	bool ok = true;

	json_ws(j);
	if (j->p >= j->end || ++j->depth > 64)
		return false;
	switch (*j->p) {
	case '{':
		j->p++;
		json_ws(j);
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			break;
		}
		for (;;) {
			json_ws(j);
			if (!json_string(j))
				return false;
			json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
			if (!json_value(j))
				return false;
			json_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p >= j->end || *j->p++ != '}')
				return false;
			break;
		}
		break;
	case '[':
		j->p++;
		json_ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			break;
		}
		for (;;) {
			if (!json_value(j))
				return false;
			json_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p >= j->end || *j->p++ != ']')
				return false;
			break;
		}
		break;
	case '"':
		ok = json_string(j);
		break;
	case 't':
		ok = json_lit(j, "true");
		break;
	case 'f':
		ok = json_lit(j, "false");
		break;
	case 'n':
		ok = json_lit(j, "null");
		break;
	default:
		ok = json_number(j);
	}
	j->depth--;
	return ok;
}

static bool json_valid(const char *s, size_t n)
{
	struct json j = { s, s + n, 0 };

	if (!json_value(&j))
		return false;
	json_ws(&j);
	return j.p == j.end;
}

/* ------------------------------------------------------------ parse checks */

static bool has_type(const espimg_image_segment *s, const char *type)
{
	for (size_t i = 0; i < s->mem_type_count; i++)
		if (!strcmp(s->mem_types[i], type))
			return true;
	return false;
}

/* esptool pads the data of a segment with a non-zero load address to a
 * multiple of 4 (bin_image.py ImageSegment); descriptor lookups see that. */
static uint64_t padded(const espimg_image_segment *s)
{
	return s->load_addr ? ((uint64_t)s->length + 3) & ~(uint64_t)3 :
			      s->length;
}

/* Checks one parse result against the bytes it came from: src_size bytes
 * at src (the source may claim more, see struct fault), the image at
 * o->offset. */
static void check_image(int r, const espimg_image *img,
			const espimg_image_opts *o, const uint8_t *src,
			uint64_t src_size, bool shrunk,
			const espimg_diag_list *d)
{
	const uint8_t *im = src + o->offset;
	uint64_t avail = src_size - o->offset; /* image bytes really there */
	uint64_t pos = ESPIMG_IMAGE_HEADER_SIZE;
	uint8_t sum = ESPIMG_CHECKSUM_SEED;

	CHECK(img->offset == o->offset);
	if (!shrunk)
		CHECK(img->source_size == avail);
	CHECK((r == ESPIMG_OK) == (img->stage == ESPIMG_STAGE_COMPLETE));
	if (r != ESPIMG_OK)
		CHECK(espimg_diag_errors(d) > 0);

	for (size_t i = 0; i < espimg_diag_count(d); i++) {
		const espimg_diag *g = espimg_diag_get(d, i);

		CHECK(g && g->code && g->message);
		CHECK(g->severity <= ESPIMG_SEV_ERROR);
		/* Inside the source, or at its end; a missing checksum byte
		 * is reported at the offset it should have. */
		CHECK(g->offset == -1 ||
		      (g->offset >= (int64_t)o->offset &&
		       ((uint64_t)g->offset <= src_size ||
			(!strcmp(g->code, "image.truncated") &&
			 (uint64_t)g->offset ==
				 o->offset + img->checksum_offset))));
	}

	if (img->stage < ESPIMG_STAGE_HEADER)
		return;
	CHECK(img->magic == ESPIMG_IMAGE_MAGIC);
	CHECK(img->chip_forced == (o->chip != NULL));
	if (o->chip)
		CHECK(img->chip == o->chip);
	CHECK(avail >= ESPIMG_IMAGE_HEADER_SIZE);
	CHECK(img->segment_count == im[1]);
	CHECK(img->entry_addr == ((uint32_t)im[4] | (uint32_t)im[5] << 8 |
				  (uint32_t)im[6] << 16 |
				  (uint32_t)im[7] << 24));
	CHECK(img->chip_id == (im[12] | im[13] << 8));
	CHECK(img->hash_appended == im[23]);
	CHECK(img->nsegments <= img->segment_count);

	for (size_t i = 0; i < img->nsegments; i++) {
		const espimg_image_segment *s = &img->segments[i];

		CHECK(s->header_offset == pos);
		CHECK(s->data_offset == pos + 8);
		CHECK(s->data_offset <= avail);
		/* Only the segment the source ends in (its header read, its
		 * data not) may reach past the end, and that stops the parse. */
		if (s->data_offset + s->length > avail) {
			CHECK(i == img->nsegments - 1);
			CHECK(img->stage == ESPIMG_STAGE_HEADER);
			CHECK(r == ESPIMG_EFORMAT);
			break;
		}
		CHECK(s->load_addr == ((uint32_t)im[pos] |
				       (uint32_t)im[pos + 1] << 8 |
				       (uint32_t)im[pos + 2] << 16 |
				       (uint32_t)im[pos + 3] << 24));
		CHECK(s->mem_type_count <= 8);
		for (size_t k = 0; k < s->mem_type_count; k++)
			CHECK(s->mem_types[k] && *s->mem_types[k]);
		for (uint64_t k = 0; k < s->length; k++)
			sum ^= im[s->data_offset + k];
		pos = s->data_offset + s->length;
	}

	if (img->stage < ESPIMG_STAGE_SEGMENTS)
		return;
	CHECK(img->chip != NULL);
	CHECK(img->nsegments == img->segment_count);
	CHECK(img->segments_end == pos);

	if (img->stage < ESPIMG_STAGE_CHECKSUM)
		return;
	CHECK(img->checksum_offset >= img->segments_end);
	CHECK(img->checksum_offset < img->segments_end + 16);
	CHECK(img->checksum_offset % 16 == 15);
	CHECK(img->checksum_offset < avail);
	CHECK(img->checksum_stored == im[img->checksum_offset]);
	CHECK(img->checksum_computed == sum);
	CHECK(img->checksum_ok == (sum == img->checksum_stored));

	if (img->stage < ESPIMG_STAGE_COMPLETE)
		return;
	CHECK(img->hash_appended <= 1);
	CHECK(img->has_sha256 == (img->hash_appended == 1));
	if (img->has_sha256) {
		uint8_t md[32];
		uint64_t left = avail - img->sha256_offset;

		CHECK(img->sha256_offset == img->checksum_offset + 1);
		CHECK(img->sha256_stored_len == (left < 32 ? left : 32));
		CHECK(!memcmp(img->sha256_stored, im + img->sha256_offset,
			      img->sha256_stored_len));
		SHA256(im, img->checksum_offset + 1, md);
		CHECK(!memcmp(md, img->sha256_computed, 32));
		CHECK(img->sha256_ok == (img->sha256_stored_len == 32 &&
					 !memcmp(md, img->sha256_stored, 32)));
		/* image_size counts the whole digest, also when the source
		 * ends inside it (then it is the size the image should have) */
		CHECK(img->image_size == img->sha256_offset + 32);
		CHECK(img->image_size <= avail ||
		      img->sha256_stored_len < 32);
	} else {
		CHECK(img->image_size == img->checksum_offset + 1);
	}

	CHECK(!(img->has_app_desc && img->has_boot_desc));
	if (img->has_app_desc) {
		const espimg_app_desc *a = &img->app_desc;
		const espimg_image_segment *s;

		CHECK(img->kind == ESPIMG_KIND_APP);
		CHECK(a->segment < img->nsegments);
		s = &img->segments[a->segment];
		CHECK(a->offset == s->data_offset);
		CHECK(padded(s) >= ESPIMG_APP_DESC_SIZE);
		CHECK(has_type(s, "DROM"));
		CHECK(a->magic_word == ESPIMG_APP_DESC_MAGIC);
		CHECK(!memcmp(a->version, im + a->offset + 16, 32));
		CHECK(!memcmp(a->project_name, im + a->offset + 48, 32));
		CHECK(!memcmp(a->idf_ver, im + a->offset + 112, 32));
		CHECK(!memcmp(a->app_elf_sha256, im + a->offset + 144, 32));
		CHECK(a->mmu_page_size_log2 == im[a->offset + 180]);
	} else if (img->has_boot_desc) {
		const espimg_boot_desc *b = &img->boot_desc;
		const espimg_image_segment *s;

		CHECK(img->kind == ESPIMG_KIND_BOOTLOADER);
		CHECK(b->segment < img->nsegments);
		s = &img->segments[b->segment];
		CHECK(b->offset == s->data_offset);
		CHECK(padded(s) >= ESPIMG_BOOT_DESC_SIZE);
		CHECK(has_type(s, "DRAM"));
		CHECK(b->magic_byte == ESPIMG_BOOT_DESC_MAGIC);
		CHECK(!memcmp(b->idf_ver, im + b->offset + 8, 32));
		CHECK(!memcmp(b->date_time, im + b->offset + 40, 24));
	} else {
		CHECK(img->kind == ESPIMG_KIND_UNKNOWN);
	}

	CHECK(img->nsig <= ESPIMG_SIG_BLOCKS_MAX);
	if (img->nsig) {
		CHECK(img->sig_sector_offset % ESPIMG_SIG_SECTOR_SIZE == 0);
		CHECK(img->sig_sector_offset >= img->image_size);
		CHECK(img->sig_sector_offset < img->image_size +
						   ESPIMG_SIG_SECTOR_SIZE);
		CHECK(img->sig_sector_offset + ESPIMG_SIG_SECTOR_SIZE <= avail);
		CHECK(!img->has_sig_v1);
		for (size_t i = 0; i < img->nsig; i++) {
			const espimg_sigblock *b = &img->sig[i];

			/* erased slots are skipped */
			CHECK(b->index < ESPIMG_SIG_BLOCKS_MAX);
			CHECK(!i || b->index > img->sig[i - 1].index);
			CHECK(b->offset == o->offset + img->sig_sector_offset +
						   b->index * ESPIMG_SIG_BLOCK_SIZE);
			CHECK(b->image_digest_len == 32 ||
			      b->image_digest_len == 48);
		}
	}
	if (img->has_sig_v1) {
		CHECK(!strcmp(img->chip->key, "esp32"));
		CHECK(img->sig_v1_offset == img->image_size);
		CHECK(img->image_size + ESPIMG_SIG_V1_SIZE <= avail);
	}
}

/* ------------------------------------------------------------ agreement */

static void same_diags(const espimg_diag_list *a, const espimg_diag_list *b,
		       uint64_t shift)
{
	CHECK(espimg_diag_count(a) == espimg_diag_count(b));
	for (size_t i = 0; i < espimg_diag_count(a); i++) {
		const espimg_diag *x = espimg_diag_get(a, i);
		const espimg_diag *y = espimg_diag_get(b, i);

		CHECK(x->severity == y->severity);
		CHECK(!strcmp(x->code, y->code));
		CHECK((x->offset == -1) == (y->offset == -1));
		if (x->offset != -1)
			CHECK(x->offset == y->offset + (int64_t)shift);
	}
}

/* a: parsed at offset `shift`; b: the same bytes parsed at offset 0. */
static void same_image(const espimg_image *a, const espimg_image *b,
		       uint64_t shift, bool forced_differs)
{
	CHECK(a->stage == b->stage);
	CHECK(a->source_size == b->source_size);
	CHECK(a->chip == b->chip);
	if (!forced_differs)
		CHECK(a->chip_forced == b->chip_forced);
	if (a->stage < ESPIMG_STAGE_HEADER)
		return;
	CHECK(a->segment_count == b->segment_count);
	CHECK(a->flash_mode == b->flash_mode);
	CHECK(a->flash_size_freq == b->flash_size_freq);
	CHECK(a->wp_pin == b->wp_pin && a->clk_drv == b->clk_drv &&
	      a->q_drv == b->q_drv && a->d_drv == b->d_drv &&
	      a->cs0_drv == b->cs0_drv && a->hd_drv == b->hd_drv &&
	      a->wp_drv == b->wp_drv);
	CHECK(a->min_rev == b->min_rev && a->min_rev_full == b->min_rev_full &&
	      a->max_rev_full == b->max_rev_full);
	CHECK(!memcmp(a->reserved, b->reserved, 4));
	CHECK(a->nsegments == b->nsegments);
	for (size_t i = 0; i < a->nsegments; i++) {
		const espimg_image_segment *x = &a->segments[i];
		const espimg_image_segment *y = &b->segments[i];

		CHECK(x->load_addr == y->load_addr && x->length == y->length);
		CHECK(x->header_offset == y->header_offset &&
		      x->data_offset == y->data_offset);
		CHECK(x->mem_type_count == y->mem_type_count);
		for (size_t k = 0; k < x->mem_type_count; k++)
			CHECK(!strcmp(x->mem_types[k], y->mem_types[k]));
	}
	if (a->stage < ESPIMG_STAGE_COMPLETE)
		return;
	CHECK(a->segments_end == b->segments_end);
	CHECK(a->checksum_offset == b->checksum_offset &&
	      a->checksum_computed == b->checksum_computed &&
	      a->checksum_ok == b->checksum_ok);
	CHECK(a->has_sha256 == b->has_sha256 && a->sha256_ok == b->sha256_ok);
	CHECK(!memcmp(a->sha256_computed, b->sha256_computed, 32));
	CHECK(a->image_size == b->image_size);
	CHECK(a->kind == b->kind);
	CHECK(a->has_app_desc == b->has_app_desc);
	if (a->has_app_desc)
		CHECK(a->app_desc.offset == b->app_desc.offset &&
		      a->app_desc.segment == b->app_desc.segment &&
		      a->app_desc.secure_version == b->app_desc.secure_version);
	CHECK(a->has_boot_desc == b->has_boot_desc);
	if (a->has_boot_desc)
		CHECK(a->boot_desc.offset == b->boot_desc.offset &&
		      a->boot_desc.segment == b->boot_desc.segment &&
		      a->boot_desc.version == b->boot_desc.version);
	CHECK(a->nsig == b->nsig);
	if (a->nsig)
		CHECK(a->sig_sector_offset == b->sig_sector_offset);
	for (size_t i = 0; i < a->nsig; i++) {
		CHECK(a->sig[i].offset == b->sig[i].offset + shift);
		CHECK(a->sig[i].type == b->sig[i].type &&
		      a->sig[i].valid == b->sig[i].valid &&
		      a->sig[i].crc_ok == b->sig[i].crc_ok &&
		      a->sig[i].key_digest_ok == b->sig[i].key_digest_ok);
		if (a->sig[i].key_digest_ok)
			CHECK(!memcmp(a->sig[i].key_digest,
				      b->sig[i].key_digest, 32));
	}
	CHECK(a->has_sig_v1 == b->has_sig_v1);
	if (a->has_sig_v1)
		CHECK(a->sig_v1_offset == b->sig_v1_offset &&
		      a->sig_v1_version == b->sig_v1_version);
}

/* ------------------------------------------------------------ consumers */

static void check_desc_text(const uint8_t *field, size_t size)
{
	char out[8];
	size_t n;

	for (int mode = 0; mode < 2; mode++) {
		n = espimg_desc_text(field, size, (espimg_desc_mode)mode, out,
				     sizeof(out));
		CHECK(n <= size);
		CHECK(strlen(out) == (n < sizeof(out) ? n : sizeof(out) - 1));
		CHECK(!memchr(out, 0, strlen(out)));
	}
}

static void check_esptool(int r, const espimg_image *img, unsigned variant)
{
	espimg_esptool_opts eo = { (variant & 1) != 0, (variant & 2) != 0 };
	char *text = NULL;
	size_t len = 0;
	int t = espimg_image_esptool_text(img, &eo, &text, &len);

	CHECK(t == ESPIMG_OK || t == ESPIMG_EFORMAT);
	CHECK(text);
	/* esptool cannot print more than we could parse */
	if (r != ESPIMG_OK)
		CHECK(t == ESPIMG_EFORMAT);
	CHECK(strlen(text) == len);
	free(text);
}

/* address: a HEX run's flash address, or -1. */
static void check_emit(const espimg_image *img, const espimg_diag_list *d,
		       espimg_format fmt, int64_t address)
{
	struct membuf m = { NULL, 0, 0 };
	espimg_emitter *e = espimg_emit_new(fmt, membuf_write, &m);

	CHECK(e);
	CHECK(espimg_emit_begin_doc(e, "espimg.image/1") == 0);
	CHECK(espimg_emit_key(e, "images") == 0);
	CHECK(espimg_emit_begin_list(e) == 0);
	if (address < 0)
		CHECK(espimg_image_emit(img, "fuzz.bin", d, e) == 0);
	else
		CHECK(espimg_image_emit_run(img, "fuzz.bin", address, d, e) ==
		      0);
	CHECK(espimg_emit_end_list(e) == 0);
	CHECK(espimg_emit_end_doc(e) == 0);
	espimg_emit_free(e);
	CHECK(m.len > 0);
	CHECK(espimg_utf8_valid((const uint8_t *)m.data, m.len));
	if (fmt == ESPIMG_FORMAT_JSON) {
		CHECK(m.data[0] == '{');
		if (!json_valid(m.data, m.len)) {
			fprintf(stderr, "%.*s\n", (int)m.len, m.data);
			CHECK(!"JSON is well-formed");
		}
	}
	free(m.data);
}

/* The text for people: one string ending in a newline, valid UTF-8,
 * without control characters other than the line breaks. */
static void check_text(const espimg_image *img, const espimg_diag_list *d,
		       int64_t address)
{
	char *text = NULL;
	size_t len = 0;

	CHECK(espimg_image_text(img, "fuzz.bin", address, d, &text, &len) ==
	      ESPIMG_OK);
	CHECK(text && len > 0 && strlen(text) == len);
	CHECK(text[len - 1] == '\n');
	CHECK(espimg_utf8_valid((const uint8_t *)text, len));
	for (size_t i = 0; i < len; i++)
		CHECK(text[i] == '\n' ||
		      ((unsigned char)text[i] >= 0x20 && text[i] != 0x7F));
	free(text);
}

/* ELF32 little-endian (the System V gABI): 52-byte header, 32-byte
 * program headers, 40-byte section headers. */
static void check_elf(const espimg_image *img, const uint8_t *im,
		      const espimg_source *src, const struct counted *c)
{
	uint8_t *elf = NULL;
	size_t len = 0, nload = 0, k;
	bool used[256] = { false }; /* the segment count is one byte */
	uint64_t data = 0;
	uint32_t phoff, shoff, shstr_off, shstr_size;
	uint16_t phnum, shnum, shstrndx;
	int r;

	r = espimg_image_to_elf(img, src, &elf, &len);
	if (c->failed) {
		CHECK(r == ESPIMG_EIO);
		return;
	}
	CHECK(r == ESPIMG_OK);
	CHECK(elf && len >= 52);
	for (size_t i = 0; i < img->nsegments; i++) {
		if (img->segments[i].load_addr) {
			nload++;
			data += img->segments[i].length;
		}
	}
	CHECK(!memcmp(elf, "\x7f" "ELF\x01\x01\x01", 7));
	CHECK(le16(elf + 16) == 2); /* ET_EXEC */
	CHECK(le16(elf + 18) ==
	      (img->chip->arch == ESPIMG_ARCH_XTENSA ? 94 : 243));
	CHECK(le32(elf + 24) == img->entry_addr);
	phoff = le32(elf + 28);
	shoff = le32(elf + 32);
	CHECK(le16(elf + 40) == 52);
	phnum = le16(elf + 44);
	shnum = le16(elf + 48);
	shstrndx = le16(elf + 50);
	CHECK(phnum == nload);
	CHECK(!phnum || (le16(elf + 42) == 32 &&
			 (uint64_t)phoff + 32u * phnum <= len));
	CHECK(le16(elf + 46) == 40 && shnum >= nload + 2 && shstrndx < shnum);
	CHECK((uint64_t)shoff + 40u * shnum <= len);

	shstr_off = le32(elf + shoff + 40u * shstrndx + 16);
	shstr_size = le32(elf + shoff + 40u * shstrndx + 20);
	CHECK((uint64_t)shstr_off + shstr_size <= len && shstr_size > 0);
	CHECK(elf[shstr_off + shstr_size - 1] == 0);
	for (size_t i = 0; i < shnum; i++)
		CHECK(le32(elf + shoff + 40u * i) < shstr_size);

	/* PT_LOAD entries ascend by address (gABI); each holds one
	 * non-padding segment's bytes. */
	for (k = 0; k < phnum; k++) {
		const uint8_t *ph = elf + phoff + 32u * k;

		CHECK(le32(ph) == 1); /* PT_LOAD */
		CHECK(le32(ph + 8) == le32(ph + 12)); /* vaddr == paddr */
		CHECK(le32(ph + 16) == le32(ph + 20)); /* filesz == memsz */
		CHECK((uint64_t)le32(ph + 4) + le32(ph + 16) <= len);
		if (k)
			CHECK(le32(ph + 8) >= le32(ph - 32 + 8));
	}
	for (size_t i = 0; i < img->nsegments; i++) {
		const espimg_image_segment *s = &img->segments[i];
		bool found = false;

		if (!s->load_addr)
			continue;
		for (k = 0; k < phnum && !found; k++) {
			const uint8_t *ph = elf + phoff + 32u * k;

			if (used[k] || le32(ph + 8) != s->load_addr ||
			    le32(ph + 16) != s->length ||
			    memcmp(elf + le32(ph + 4), im + s->data_offset,
				   s->length))
				continue;
			used[k] = found = true;
		}
		CHECK(found);
	}
	/* Headers, names and segment data; alignment may add a little. */
	CHECK(len >= 52 + 32u * phnum + 40u * shnum + shstr_size + data);
	CHECK(len <= 52 + 32u * phnum + 40u * shnum + shstr_size + data +
			     4u * (phnum + shnum + 4));
	free(elf);

	for (size_t i = 0; i < img->nsegments; i++) {
		const char *n = espimg_image_segment_section(img, i);

		CHECK(n && n[0] == '.' && n[1]);
	}
}

/* ------------------------------------------------------------ entry */

struct run {
	espimg_image *img;
	espimg_diag_list *d;
	struct counted c;
	espimg_source src;
	int r;
};

static void run_parse(struct run *p, const uint8_t *buf, size_t len,
		      const espimg_image_opts *o, struct fault f)
{
	p->d = espimg_diag_list_new();
	CHECK(p->d);
	counted_init(&p->c, &p->src, buf, len, MAX_READ, f);
	p->img = NULL;
	p->r = espimg_image_read(&p->src, o, &p->img, p->d);
	CHECK(p->img);
	if (p->c.failed) {
		CHECK(p->r == ESPIMG_EIO);
		CHECK(p->img->stage != ESPIMG_STAGE_COMPLETE);
	} else {
		CHECK(p->r == ESPIMG_OK || p->r == ESPIMG_EFORMAT ||
		      p->r == ESPIMG_EUNSUPPORTED);
		/* streamed: about one pass over the source */
		CHECK(p->c.bytes <= 2 * (uint64_t)len + 16384);
	}
}

static void run_free(struct run *p)
{
	espimg_image_free(p->img);
	espimg_diag_list_free(p->d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t prefixes[] = { 0, 1, 24, 4096 };
	static const struct fault none = { 0, 0 };
	espimg_image_opts o = { .file = "fuzz.bin" };
	struct fault f = none;
	struct run p, q;
	const espimg_image *img;
	size_t n, pre, len;
	uint8_t *buf, a;
	unsigned mode, sel;
	int64_t address;

	if (size < 1)
		return 0;
	a = data[0];
	mode = a & 3;
	sel = (a >> 2) & 15;
	pre = prefixes[a >> 6];
	n = size - 1;
	len = pre + n;
	buf = malloc(len ? len : 1);
	CHECK(buf);
	memset(buf, 0xFF, pre);
	memcpy(buf + pre, data + 1, n);
	o.offset = pre;
	if (mode == 1)
		o.chip = espimg_chip_at(sel % espimg_chip_count());
	else if (mode == 3 && (sel & 8))
		f.extra = (uint64_t)((sel & 7) + 1) << 10;
	else if (mode == 3)
		f.fail_call = (sel & 7) + 1;

	run_parse(&p, buf, len, &o, f);
	img = p.img;
	if (!p.c.failed)
		check_image(p.r, img, &o, buf, len, f.extra != 0, p.d);

	/* The same bytes at offset 0 of their own buffer. */
	if (pre && mode != 3) {
		uint8_t *own = malloc(n ? n : 1);
		espimg_image_opts o0 = o;

		CHECK(own);
		memcpy(own, data + 1, n);
		o0.offset = 0;
		run_parse(&q, own, n, &o0, none);
		CHECK(q.r == p.r);
		same_image(img, q.img, pre, false);
		same_diags(p.d, q.d, pre);
		run_free(&q);
		free(own);
	}
	/* Forcing the chip the header names changes nothing but the flag. */
	if (mode != 3 && !o.chip && img->stage >= ESPIMG_STAGE_HEADER &&
	    img->chip && espimg_chip_by_id(img->chip_id) == img->chip) {
		espimg_image_opts of = o;

		of.chip = img->chip;
		run_parse(&q, buf, len, &of, none);
		CHECK(q.r == p.r);
		CHECK(q.img->chip_forced);
		same_image(img, q.img, 0, true);
		same_diags(p.d, q.d, 0);
		run_free(&q);
	}

	if (img->stage >= ESPIMG_STAGE_HEADER) {
		char rev[16];

		espimg_rev_text(img->min_rev_full, rev);
		CHECK(rev[0] == 'v' && strlen(rev) < sizeof(rev));
		espimg_rev_text(img->max_rev_full, rev);
		CHECK(rev[0] == 'v' && strlen(rev) < sizeof(rev));
	}
	if (img->has_app_desc) {
		check_desc_text(img->app_desc.project_name, 32);
		check_desc_text(img->app_desc.version, 32);
		check_desc_text(img->app_desc.date, 16);
	}
	if (img->has_boot_desc)
		check_desc_text(img->boot_desc.date_time, 24);

	check_esptool(p.r, img, (unsigned)size);
	address = (size & 2) ? 0x10000 : -1;
	check_emit(img, p.d, ESPIMG_FORMAT_JSON, address);
	check_emit(img, p.d, (size & 1) ? ESPIMG_FORMAT_YAML : ESPIMG_FORMAT_TEXT,
		   address);
	check_text(img, p.d, address);
	/* an input that yielded no image at all */
	if (img->stage == ESPIMG_STAGE_NONE) {
		check_emit(NULL, p.d, ESPIMG_FORMAT_JSON, address);
		check_text(NULL, p.d, address);
	}
	/* the ELF writer reads the segments again, through the same source
	 * (which may still have its failure to come) */
	if (img->stage == ESPIMG_STAGE_COMPLETE)
		check_elf(img, buf + pre, &p.src, &p.c);

	run_free(&p);
	free(buf);
	return 0;
}
