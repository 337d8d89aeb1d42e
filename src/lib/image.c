/*
 * image.c - the streaming parser for ESP32-family app and bootloader
 * images: headers, segments, checksum, the appended SHA-256, the app and
 * bootloader descriptions and the signatures after the image.
 *
 * Layout: ESP-IDF components/bootloader_support/include/esp_app_format.h.
 * Reading order, descriptor lookup and failure points follow esptool 5.3.1
 * (esptool/bin_image.py ESP32FirmwareImage, esptool/cmds.py image_info);
 * ../shared/docs/images.md restates both.
 *
 * The source is read front to back through one fixed buffer; the XOR
 * checksum and the SHA-256 are computed as the bytes go by, so an image
 * costs one pass and bounded memory whatever its header claims.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "espimg/image.h"
#include "internal.h"

/* Read granularity: large enough that per-read overhead vanishes against
 * SHA-256, small enough to stay in the L2 cache. */
#define IMG_BUF_SIZE (256u * 1024u)

#define IMG_SEG_HEADER_SIZE 8u   /* esp_image_segment_header_t */
#define IMG_CHECKSUM_ALIGN 16u   /* esptool bin_image.py read_checksum */
#define IMG_SHA256_SIZE 32u
#define IMG_SIG_V1_SIZE ESPIMG_SIG_V1_SIZE
/* Header byte offsets (esp_image_header_t). */
#define HDR_COUNT 1u
#define HDR_MODE 2u
#define HDR_SIZE_FREQ 3u
#define HDR_ENTRY 4u
#define HDR_CHIP_ID 12u
#define HDR_MIN_REV 14u
#define HDR_RESERVED 19u
#define HDR_HASH_APPENDED 23u
/* ESP-IDF esp_app_format.h esp_image_spi_mode_t: QIO .. SLOW_READ. */
#define IMG_FLASH_MODE_MAX 5u
/* ESP-IDF esp_image_flash_size_t: 1MB .. 128MB. */
#define IMG_FLASH_SIZE_MAX 7u

/* esptool image-info pads the in-memory copy of every segment whose load
 * address is not 0 to a multiple of 4 with zeros (bin_image.py
 * ImageSegment); the descriptor lookup sees that padded length. */
static uint64_t padded_len(uint32_t addr, uint32_t len)
{
	return addr ? ((uint64_t)len + 3) & ~(uint64_t)3 : len;
}

/* ------------------------------------------------------------ sources */

/* A memory source keeps the buffer pointer in ctx; the parser never asks
 * for bytes past src->size, and neither may other callers. */
static int mem_read_at(void *ctx, uint64_t offset, void *buf, size_t len,
		       size_t *got)
{
	memcpy(buf, (const uint8_t *)ctx + offset, len);
	*got = len;
	return ESPIMG_OK;
}

void espimg_source_mem(espimg_source *src, const void *buf, size_t len)
{
	if (!src)
		return;
	src->read_at = mem_read_at;
	/* The cast only drops const: mem_read_at never writes through it. */
	src->ctx = (void *)(uintptr_t)buf;
	src->size = buf ? len : 0;
}

/* ------------------------------------------------------------ reader */

/* A forward reader over the source through one buffer. Bytes consumed
 * with rd_take() go into the SHA-256 while `hashing` is set. */
typedef struct rd {
	const espimg_source *src;
	uint64_t base;  /* absolute offset of the image */
	uint64_t size;  /* bytes available from base */
	uint8_t *buf;
	uint64_t bpos;  /* image-relative offset of buf[0] */
	size_t blen;
	uint64_t pos;   /* next byte to consume, image-relative */
	EVP_MD_CTX *md;
	EVP_MD_CTX *prefix_md; /* copy of md at the checksum end, or NULL */
	int hashing;
	int err;        /* first source or hash failure */
} rd;

/* Points *p at the bytes at r->pos; *n = how many are contiguous (0 at
 * the end of the source). Returns 0 or a negative ESPIMG_E* code. */
static int rd_peek(rd *r, const uint8_t **p, size_t *n)
{
	*n = 0;
	if (r->err)
		return r->err;
	if (r->pos < r->bpos || r->pos >= r->bpos + r->blen) {
		uint64_t left = r->pos < r->size ? r->size - r->pos : 0;
		size_t want = left < IMG_BUF_SIZE ? (size_t)left : IMG_BUF_SIZE;
		size_t got = 0;
		int rc;

		r->blen = 0;
		if (!want)
			return 0;
		rc = r->src->read_at(r->src->ctx, r->base + r->pos, r->buf,
				     want, &got);
		if (rc < 0 || got > want) {
			r->err = rc < 0 ? rc : ESPIMG_EIO;
			return r->err;
		}
		if (got < want) /* the source ended early: believe it */
			r->size = r->pos + got;
		r->bpos = r->pos;
		r->blen = got;
		if (!got)
			return 0;
	}
	*p = r->buf + (r->pos - r->bpos);
	*n = (size_t)(r->bpos + r->blen - r->pos);
	return 0;
}

/* Consumes n bytes that rd_peek() made available. */
static void rd_take(rd *r, const uint8_t *p, size_t n)
{
	if (r->hashing && !EVP_DigestUpdate(r->md, p, n))
		r->err = ESPIMG_ENOMEM;
	r->pos += n;
}

/* Reads up to n bytes into dst; returns how many (fewer at the end of the
 * source), or a negative code. */
static int64_t rd_read(rd *r, uint8_t *dst, size_t n)
{
	size_t done = 0;

	while (done < n) {
		const uint8_t *p;
		size_t k;
		int rc = rd_peek(r, &p, &k);

		if (rc < 0)
			return rc;
		if (!k)
			break;
		if (k > n - done)
			k = n - done;
		memcpy(dst + done, p, k);
		rd_take(r, p, k);
		done += k;
	}
	return (int64_t)done;
}

/* XOR of n bytes into seed, eight at a time (esptool ESPLoader.checksum:
 * a byte-wise XOR, so the order does not matter). */
static uint8_t xor_bytes(const uint8_t *p, size_t n, uint8_t seed)
{
	uint64_t a = 0, b = 0, w;
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		memcpy(&w, p + i, 8);
		a ^= w;
		memcpy(&w, p + i + 8, 8);
		b ^= w;
	}
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		a ^= w;
	}
	a ^= b;
	a ^= a >> 32;
	a ^= a >> 16;
	a ^= a >> 8;
	seed ^= (uint8_t)a;
	for (; i < n; i++)
		seed ^= p[i];
	return seed;
}

/* ------------------------------------------------------------ parse state */

typedef struct parse {
	espimg_image *img;
	espimg_diag_list *diags;
	const char *file;
	uint64_t base;
	rd r;
	/* Descriptor candidates (esptool cmds.py _print_image_info). */
	int app_seg;          /* first DROM-typed segment, -1 none */
	uint8_t app_raw[ESPIMG_APP_DESC_SIZE];
	int boot_seg;         /* last later DRAM-typed segment >= 80 bytes */
	uint8_t boot_raw[ESPIMG_BOOT_DESC_SIZE];
	/* Bytes [0, prefix_from) are in r.prefix_md (0: nothing yet). */
	uint64_t prefix_from;
} parse;

static void diag(parse *ps, espimg_severity sev, const char *code,
		 uint64_t rel, const char *fmt, ...) ESPIMG_PRINTF(5, 6);

static void diag(parse *ps, espimg_severity sev, const char *code,
		 uint64_t rel, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!ps->diags)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	espimg_diag_add(ps->diags, sev, code, ps->file, 0, 0,
			(int64_t)(ps->base + rel), "%s", msg);
}

#define ERR(ps, code, rel, ...) diag(ps, ESPIMG_SEV_ERROR, code, rel, __VA_ARGS__)
#define WARN(ps, code, rel, ...) diag(ps, ESPIMG_SEV_WARNING, code, rel, __VA_ARGS__)
#define NOTE(ps, code, rel, ...) diag(ps, ESPIMG_SEV_NOTE, code, rel, __VA_ARGS__)

/* ------------------------------------------------------------ header */

/* What the first byte suggests when it is not 0xE9. */
static const char *magic_hint(uint8_t m)
{
	switch (m) {
	case 0xFF:
		return " (erased flash?)";
	case 0x00:
		return " (zero-filled?)";
	case 0xAA:
		return " (a partition table?)";
	case 0xE7:
		return " (a Secure Boot v2 signature sector?)";
	case 0x55:
		return " (a UF2 file?)";
	default:
		return "";
	}
}

static void decode_header(espimg_image *img, const uint8_t *h)
{
	img->magic = h[0];
	img->segment_count = h[HDR_COUNT];
	img->flash_mode = h[HDR_MODE];
	img->flash_size_freq = h[HDR_SIZE_FREQ];
	img->entry_addr = espimg_le32(h + HDR_ENTRY);
	img->wp_pin = h[8];
	img->clk_drv = h[9] & 15;
	img->q_drv = h[9] >> 4;
	img->d_drv = h[10] & 15;
	img->cs0_drv = h[10] >> 4;
	img->hd_drv = h[11] & 15;
	img->wp_drv = h[11] >> 4;
	img->chip_id = espimg_le16(h + HDR_CHIP_ID);
	img->min_rev = h[HDR_MIN_REV];
	img->min_rev_full = espimg_le16(h + 15);
	img->max_rev_full = espimg_le16(h + 17);
	memcpy(img->reserved, h + HDR_RESERVED, 4);
	img->hash_appended = h[HDR_HASH_APPENDED];
}

/* The legacy min_rev byte ESP-IDF writes for a min_rev_full
 * (components/esptool_py/project_include.cmake: the major revision on
 * ESP32, the minor one on ESP32-C3, not set elsewhere). */
static unsigned legacy_min_rev(const espimg_chip *chip, unsigned full)
{
	if (chip->image_id == 0)
		return full / 100;
	if (chip->image_id == 5)
		return full % 100;
	return 0;
}

/* The span of ESP8266 load addresses (esptool targets/esp8266.py
 * MEMORY_MAP: DPORT 0x3FF00000 up to the end of IROM 0x402E1010). */
static int esp8266_addr(uint32_t a)
{
	return a >= 0x3FF00000u && a < 0x402E1010u;
}

/* Chooses the chip and checks the header fields. Returns 0, or the code
 * that stops the parse. */
static int check_header(parse *ps, const uint8_t *h,
			const espimg_chip *forced)
{
	espimg_image *img = ps->img;
	const espimg_chip *full = espimg_chip_by_id(img->chip_id);
	const espimg_chip *low = full ? full : espimg_chip_by_id(img->chip_id & 0xFF);
	unsigned size_code = img->flash_size_freq >> 4;
	unsigned freq = img->flash_size_freq & 15;
	int hash_ok = img->hash_appended <= 1;

	/* esptool cmds.py _parse_image_info_header: a bad byte 23 or an
	 * unknown chip id at byte 12 means "ESP8266" to esptool. An ESP8266
	 * image has an 8-byte header and its first segment header at byte 8,
	 * so byte 23 is segment data and bytes 8..11 a load address: a bad
	 * byte 23 together with an unknown id, or with such an address, is
	 * an ESP8266 image. A chip given by the caller overrides the guess
	 * (esptool --chip decodes as that chip too). */
	if (!forced && !hash_ok && (!low || esp8266_addr(espimg_le32(h + 8)))) {
		ERR(ps, "image.esp8266", 0,
		    "looks like an ESP8266 image (byte 23 is 0x%02x, not 0 or 1, and %s); espimg handles ESP32-family images only",
		    img->hash_appended,
		    !low ? "the chip id at 0xc names no ESP32-family chip" :
			   "bytes 8..11 are an ESP8266 load address");
		return ESPIMG_EUNSUPPORTED;
	}
	if (forced) {
		img->chip = forced;
		img->chip_forced = true;
		if (img->chip_id != forced->image_id)
			ERR(ps, "image.chip_mismatch", HDR_CHIP_ID,
			    "the header's chip id is %u (%s), not %u (%s): the bootloader refuses this image on an %s; decoding as %s as asked",
			    img->chip_id, full ? full->name : "unknown",
			    forced->image_id, forced->name, forced->name,
			    forced->name);
	} else if (full) {
		img->chip = full;
	} else if (low) {
		img->chip = low;
		ERR(ps, "image.chip_id", HDR_CHIP_ID,
		    "chip id 0x%04x (%u) is no known chip; its low byte %u is %s, used for decoding (esptool looks at byte 12 only)",
		    img->chip_id, img->chip_id, img->chip_id & 0xFF, low->name);
	} else {
		ERR(ps, "image.chip_unknown", HDR_CHIP_ID,
		    "unknown chip id 0x%04x (%u); give the chip with --chip to decode it anyway",
		    img->chip_id, img->chip_id);
		return ESPIMG_EFORMAT;
	}
	if (!hash_ok) {
		ERR(ps, "image.hash_appended", HDR_HASH_APPENDED,
		    "hash_appended byte is 0x%02x; it must be 0 or 1, so where the image ends is unknown",
		    img->hash_appended);
		return ESPIMG_EFORMAT;
	}

	if (img->flash_mode > IMG_FLASH_MODE_MAX)
		ERR(ps, "image.flash_mode", HDR_MODE,
		    "flash mode %u is undefined (0 QIO, 1 QOUT, 2 DIO, 3 DOUT, 4 FAST_READ, 5 SLOW_READ)",
		    img->flash_mode);
	else if (img->flash_mode >= 4)
		NOTE(ps, "image.flash_mode_idf", HDR_MODE,
		     "flash mode %u is ESP-IDF's %s, which esptool has no name for",
		     img->flash_mode,
		     img->flash_mode == 4 ? "FAST_READ" : "SLOW_READ");
	if (size_code > IMG_FLASH_SIZE_MAX)
		ERR(ps, "image.flash_size", HDR_SIZE_FREQ,
		    "flash size code %u (byte 0x%02x) is undefined; 0..7 mean 1MB..128MB",
		    size_code, img->flash_size_freq);
	if (!espimg_chip_flash_freq_name(img->chip, freq))
		ERR(ps, "image.flash_freq", HDR_SIZE_FREQ,
		    "flash frequency code 0x%x (byte 0x%02x) is undefined for %s",
		    freq, img->flash_size_freq, img->chip->name);
	if (img->entry_addr == 0)
		ERR(ps, "image.entry", HDR_ENTRY, "entry point is 0 (not set)");
	if (img->reserved[0] | img->reserved[1] | img->reserved[2] |
	    img->reserved[3])
		WARN(ps, "image.reserved", HDR_RESERVED,
		     "reserved header bytes are %02x %02x %02x %02x, expected zeros",
		     img->reserved[0], img->reserved[1], img->reserved[2],
		     img->reserved[3]);
	/* Images from tools before the *_full fields carry max_rev_full 0
	 * and only the legacy byte: nothing to compare. */
	if (img->max_rev_full != 0 &&
	    img->min_rev != legacy_min_rev(img->chip, img->min_rev_full))
		WARN(ps, "image.min_rev_legacy", HDR_MIN_REV,
		     "legacy min_rev byte is %u but min_rev_full %u (v%u.%u) gives %u on %s (%s)",
		     img->min_rev, img->min_rev_full, img->min_rev_full / 100,
		     img->min_rev_full % 100,
		     legacy_min_rev(img->chip, img->min_rev_full),
		     img->chip->name,
		     img->chip->image_id == 0 ? "the major revision" :
		     img->chip->image_id == 5 ? "the minor revision" :
						"ESP-IDF leaves it 0");
	return 0;
}

/* ------------------------------------------------------------ segments */

static int has_type(const espimg_image_segment *s, const char *type)
{
	for (size_t i = 0; i < s->mem_type_count; i++)
		if (!strcmp(s->mem_types[i], type))
			return 1;
	return 0;
}

/* Reads segment data: checksum, hash, descriptor capture. Returns 0, or a
 * negative code; *got = bytes read (< len at the end of the source). */
static int read_seg_data(parse *ps, uint32_t len, uint8_t *cap,
			 size_t capn, uint8_t *ck, uint64_t *got)
{
	uint64_t done = 0;

	while (done < len) {
		const uint8_t *p;
		size_t k;
		int rc = rd_peek(&ps->r, &p, &k);

		if (rc < 0)
			return rc;
		if (!k)
			break;
		if (k > len - done)
			k = (size_t)(len - done);
		if (done < capn)
			memcpy(cap + done, p, capn - done < k ? capn - done : k);
		*ck = xor_bytes(p, k, *ck);
		rd_take(&ps->r, p, k);
		done += k;
	}
	*got = done;
	return ps->r.err;
}

static int read_segments(parse *ps)
{
	espimg_image *img = ps->img;
	uint8_t ck = ESPIMG_CHECKSUM_SEED;
	/* A hint for truncation messages: a wild count is the likelier fault. */
	const char *many = img->segment_count > ESPIMG_IMAGE_MAX_SEGMENTS ?
		" (the header's segment count is above the limit of 16)" : "";
	unsigned i;

	for (i = 0; i < img->segment_count; i++) {
		espimg_image_segment *s = &img->segments[i];
		uint64_t at = ps->r.pos, got;
		uint8_t h[IMG_SEG_HEADER_SIZE];
		uint8_t *cap = NULL;
		size_t capn = 0;
		int64_t n = rd_read(&ps->r, h, sizeof(h));
		int rc;

		if (n < 0)
			return (int)n;
		if (n < (int64_t)sizeof(h)) {
			if (n == 0)
				ERR(ps, "image.truncated", at,
				    "the file ends at 0x%" PRIx64 " where the header of segment %u of %u should start%s",
				    ps->base + at, i, img->segment_count, many);
			else
				ERR(ps, "image.truncated", at,
				    "the file ends inside the header of segment %u at 0x%" PRIx64 ": %zu of 8 bytes present%s",
				    i, ps->base + at, (size_t)n, many);
			return ESPIMG_EFORMAT;
		}
		s->load_addr = espimg_le32(h);
		s->length = espimg_le32(h + 4);
		s->header_offset = at;
		s->data_offset = at + IMG_SEG_HEADER_SIZE;
		s->mem_type_count = espimg_chip_mem_types(img->chip, s->load_addr,
							  s->mem_types, 8);
		if (s->mem_type_count > 8)
			s->mem_type_count = 8;
		img->nsegments = i + 1;

		/* esptool cmds.py _print_image_info: the first DROM-typed
		 * segment is the app description candidate; any other
		 * DRAM-typed one of >= 80 bytes the bootloader candidate
		 * (the last wins). */
		if (has_type(s, "DROM") && ps->app_seg < 0) {
			ps->app_seg = (int)i;
			cap = ps->app_raw;
			capn = sizeof(ps->app_raw);
		} else if (has_type(s, "DRAM") &&
			   padded_len(s->load_addr, s->length) >= ESPIMG_BOOT_DESC_SIZE) {
			ps->boot_seg = (int)i;
			memset(ps->boot_raw, 0, sizeof(ps->boot_raw));
			cap = ps->boot_raw;
			capn = sizeof(ps->boot_raw);
		}

		rc = read_seg_data(ps, s->length, cap, capn, &ck, &got);
		if (rc < 0)
			return rc;
		if (got < s->length) {
			ERR(ps, "image.segment_past_eof", at,
			    "segment %u (load address 0x%08" PRIx32 ") is %" PRIu32 " bytes but only %" PRIu64 " remain after its header at 0x%" PRIx64 "%s",
			    i, s->load_addr, s->length, got, ps->base + at, many);
			return ESPIMG_EFORMAT;
		}

		if (s->length % 4)
			WARN(ps, "image.segment_align", at + 4,
			     "segment %u (load address 0x%08" PRIx32 ") is %" PRIu32 " bytes, not a multiple of 4",
			     i, s->load_addr, s->length);
		if (s->load_addr != 0 &&
		    (s->mem_type_count == 0 ||
		     (s->mem_type_count == 1 && has_type(s, "PADDING"))))
			WARN(ps, "image.segment_addr", at,
			     "segment %u load address 0x%08" PRIx32 " is in no region of esptool's %s memory map",
			     i, s->load_addr, img->chip->name);
	}
	img->checksum_computed = ck;
	img->segments_end = ps->r.pos;
	img->stage = ESPIMG_STAGE_SEGMENTS;
	return 0;
}

/* ------------------------------------------------------------ footer */

static int read_footer(parse *ps)
{
	espimg_image *img = ps->img;
	uint64_t ck_at = img->segments_end | (IMG_CHECKSUM_ALIGN - 1);
	uint8_t pad[IMG_CHECKSUM_ALIGN], c;
	unsigned int mdlen = 0;
	int64_t n;

	/* The 0..15 bytes before the checksum are hashed but not checked
	 * (the tools write zeros; readers ignore them). */
	n = rd_read(&ps->r, pad, (size_t)(ck_at - img->segments_end));
	if (n >= 0 && ps->r.pos == ck_at)
		n = rd_read(&ps->r, &c, 1);
	if (n < 0)
		return (int)n;
	img->checksum_offset = ck_at;
	if (ps->r.pos != ck_at + 1) {
		if (ps->r.pos == ck_at)
			ERR(ps, "image.truncated", ck_at,
			    "the file ends at 0x%" PRIx64 ", where the checksum byte should be (the segment data ends at 0x%" PRIx64 ")",
			    ps->base + ck_at, ps->base + img->segments_end);
		else
			ERR(ps, "image.truncated", ck_at,
			    "the file ends at 0x%" PRIx64 ", %" PRIu64 " bytes before the checksum byte at 0x%" PRIx64 " (the segment data ends at 0x%" PRIx64 ")",
			    ps->base + ps->r.pos, ck_at - ps->r.pos,
			    ps->base + ck_at, ps->base + img->segments_end);
		return ESPIMG_EFORMAT;
	}
	img->checksum_stored = c;
	img->checksum_ok = c == img->checksum_computed;
	img->stage = ESPIMG_STAGE_CHECKSUM;

	ps->r.hashing = 0;
	/* The signed region starts with the image: keep the state so the
	 * region's SHA-256 continues from here (prefix_finish). */
	if (ps->r.prefix_md && !EVP_MD_CTX_copy_ex(ps->r.prefix_md, ps->r.md))
		return ESPIMG_ENOMEM;
	ps->prefix_from = ck_at + 1;
	if (!EVP_DigestFinal_ex(ps->r.md, img->sha256_computed, &mdlen))
		return ESPIMG_ENOMEM;
	img->image_size = ck_at + 1;

	if (!img->checksum_ok)
		ERR(ps, "image.checksum", ck_at,
		    "checksum 0x%02x does not match 0x%02x computed over the segment data",
		    c, img->checksum_computed);

	if (img->hash_appended == 1) {
		img->has_sha256 = true;
		img->sha256_offset = ck_at + 1;
		img->image_size += IMG_SHA256_SIZE;
		n = rd_read(&ps->r, img->sha256_stored, IMG_SHA256_SIZE);
		if (n < 0)
			return (int)n;
		img->sha256_stored_len = (size_t)n;
		img->sha256_ok = n == IMG_SHA256_SIZE &&
				 !memcmp(img->sha256_stored, img->sha256_computed,
					 IMG_SHA256_SIZE);
		if (n < IMG_SHA256_SIZE) {
			ERR(ps, "image.sha256_truncated", img->sha256_offset,
			    "the SHA-256 digest at 0x%" PRIx64 " is cut short: %zu of 32 bytes present",
			    ps->base + img->sha256_offset, (size_t)n);
		} else if (!img->sha256_ok) {
			char s[65], k[65];

			espimg_hex(s, img->sha256_stored, 32);
			espimg_hex(k, img->sha256_computed, 32);
			ERR(ps, "image.sha256", img->sha256_offset,
			    "stored SHA-256 %s does not match %s computed over bytes 0x%" PRIx64 "..0x%" PRIx64,
			    s, k, ps->base, ps->base + ck_at);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ descriptors */

static size_t utf8_prefix(const uint8_t *s, size_t n);

static void check_utf8(parse *ps, uint64_t field_at, const char *what,
		       const uint8_t *p, size_t n)
{
	size_t bad = utf8_prefix(p, n);

	if (bad < n)
		ERR(ps, "image.desc_utf8", field_at,
		    "%s is not valid UTF-8: byte %zu (0x%02x, at 0x%" PRIx64 ") breaks it",
		    what, bad, p[bad], ps->base + field_at + bad);
}

/* esp_app_desc_t field offsets (ESP-IDF esp_app_desc.h). */
static void decode_app_desc(parse *ps, const espimg_image_segment *s)
{
	espimg_app_desc *d = &ps->img->app_desc;
	const uint8_t *b = ps->app_raw;
	uint64_t at = s->data_offset;

	d->offset = at;
	d->segment = (unsigned)ps->app_seg;
	d->magic_word = espimg_le32(b);
	d->secure_version = espimg_le32(b + 4);
	memcpy(d->version, b + 16, 32);
	memcpy(d->project_name, b + 48, 32);
	memcpy(d->time, b + 80, 16);
	memcpy(d->date, b + 96, 16);
	memcpy(d->idf_ver, b + 112, 32);
	memcpy(d->app_elf_sha256, b + 144, 32);
	d->min_efuse_blk_rev_full = espimg_le16(b + 176);
	d->max_efuse_blk_rev_full = espimg_le16(b + 178);
	d->mmu_page_size_log2 = b[180];
	d->spi_flash_mode = b[181];
	ps->img->has_app_desc = true;
	ps->img->kind = ESPIMG_KIND_APP;

	/* esptool decodes these, in this order, as UTF-8 (then drops NULs). */
	check_utf8(ps, at + 16, "app description field 'version'", d->version, 32);
	check_utf8(ps, at + 48, "app description field 'project_name'", d->project_name, 32);
	check_utf8(ps, at + 80, "app description field 'time'", d->time, 16);
	check_utf8(ps, at + 96, "app description field 'date'", d->date, 16);
	check_utf8(ps, at + 112, "app description field 'idf_ver'", d->idf_ver, 32);
}

/* esp_bootloader_desc_t field offsets (ESP-IDF esp_bootloader_desc.h). */
static void decode_boot_desc(parse *ps, const espimg_image_segment *s)
{
	espimg_boot_desc *d = &ps->img->boot_desc;
	const uint8_t *b = ps->boot_raw;
	uint64_t at = s->data_offset;

	d->offset = at;
	d->segment = (unsigned)ps->boot_seg;
	d->magic_byte = b[0];
	d->secure_version = b[3];
	d->version = espimg_le32(b + 4);
	memcpy(d->idf_ver, b + 8, 32);
	memcpy(d->date_time, b + 40, 24);
	ps->img->has_boot_desc = true;
	ps->img->kind = ESPIMG_KIND_BOOTLOADER;
	check_utf8(ps, at + 8, "bootloader description field 'idf_ver'", d->idf_ver, 32);
	check_utf8(ps, at + 40, "bootloader description field 'date_time'", d->date_time, 24);
}

static void find_descriptors(parse *ps)
{
	espimg_image *img = ps->img;

	if (ps->app_seg >= 0) {
		const espimg_image_segment *s = &img->segments[ps->app_seg];
		uint64_t plen = padded_len(s->load_addr, s->length);

		/* The capture buffer holds min(length, 256) bytes and zeros
		 * after them, which is esptool's padded copy. */
		if (plen >= ESPIMG_APP_DESC_SIZE) {
			if (espimg_le32(ps->app_raw) == ESPIMG_APP_DESC_MAGIC)
				decode_app_desc(ps, s);
			return; /* no bootloader description then */
		}
		if (plen > 0) {
			if (plen >= 4 && espimg_le32(ps->app_raw) == ESPIMG_APP_DESC_MAGIC)
				ERR(ps, "image.app_desc_short", s->data_offset,
				    "segment %d (load address 0x%08" PRIx32 ") starts with the app description magic 0x%08x but is only %" PRIu32 " bytes; esp_app_desc_t needs 256",
				    ps->app_seg, s->load_addr, ESPIMG_APP_DESC_MAGIC, s->length);
			else
				NOTE(ps, "image.drom_short", s->data_offset,
				     "first DROM segment %d (load address 0x%08" PRIx32 ") is only %" PRIu32 " bytes, too short for an app description (esptool 5.3.1 fails on such an image)",
				     ps->app_seg, s->load_addr, s->length);
			return;
		}
		/* An empty DROM segment: esptool goes on to the bootloader
		 * description. */
	}
	if (ps->boot_seg >= 0 && ps->boot_raw[0] == ESPIMG_BOOT_DESC_MAGIC)
		decode_boot_desc(ps, &img->segments[ps->boot_seg]);
}

/* ------------------------------------------------------------ signatures */

static int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static int read_at(parse *ps, uint64_t rel, uint8_t *dst, size_t n)
{
	ps->r.pos = rel;
	return (int)rd_read(&ps->r, dst, n);
}

static int find_signatures(parse *ps)
{
	espimg_image *img = ps->img;
	uint64_t end = img->image_size;
	uint64_t sector_at = (end + ESPIMG_SIG_SECTOR_SIZE - 1) &
			     ~(uint64_t)(ESPIMG_SIG_SECTOR_SIZE - 1);
	uint8_t sector[ESPIMG_SIG_SECTOR_SIZE];
	int n;

	if (sector_at + ESPIMG_SIG_SECTOR_SIZE <= ps->r.size) {
		n = read_at(ps, sector_at, sector, sizeof(sector));
		if (n < 0)
			return n;
		if (n == (int)sizeof(sector)) {
			n = espimg_sigsector_decode(sector, sizeof(sector),
						    ps->base + sector_at, img->sig);
			if (n < 0)
				return n;
			img->nsig = (size_t)n;
			if (n > 0)
				img->sig_sector_offset = sector_at;
		}
	}
	for (size_t i = 0; i < img->nsig; i++) {
		const espimg_sigblock *b = &img->sig[i];
		uint64_t rel = b->offset - ps->base;

		if (b->valid)
			continue;
		if (b->magic != ESPIMG_SIG_BLOCK_MAGIC)
			WARN(ps, "image.sig_block", rel,
			     "signature block %u at 0x%" PRIx64 " has magic 0x%02x, not 0xe7",
			     b->index, b->offset, b->magic);
		else if (b->version != 2 && b->version != 3)
			WARN(ps, "image.sig_block", rel,
			     "signature block %u at 0x%" PRIx64 " has version %u, not 2 (RSA-3072) or 3 (ECDSA)",
			     b->index, b->offset, b->version);
		else
			WARN(ps, "image.sig_block", rel,
			     "signature block %u at 0x%" PRIx64 " has CRC-32 0x%08" PRIx32 " but its bytes give 0x%08" PRIx32,
			     b->index, b->offset, b->crc_stored, b->crc_computed);
	}

	/* Secure Boot v1 (ESP32 only): a version word and a raw P-256
	 * signature right after the image (ESP-IDF secure boot v1;
	 * espsecure sign_data --version 1). Only where a signer puts it:
	 * the trailer ends the file (espsecure), or only the padding to the
	 * next 64 KiB boundary follows it (ESP-IDF's --secure-pad). Anywhere
	 * else 68 bytes after an image are just the next data. */
	uint64_t v1_end = end + IMG_SIG_V1_SIZE;
	uint64_t v1_page = (v1_end + 0xFFFFu) & ~(uint64_t)0xFFFFu;
	if (img->nsig == 0 && img->chip->image_id == 0 &&
	    (v1_end == ps->r.size || v1_page == ps->r.size)) {
		n = read_at(ps, end, sector, IMG_SIG_V1_SIZE);
		if (n < 0)
			return n;
		if (n == IMG_SIG_V1_SIZE && espimg_le32(sector) < 256 &&
		    !all_bytes(sector + 4, 64, 0xFF) &&
		    !all_bytes(sector + 4, 64, 0x00)) {
			img->has_sig_v1 = true;
			img->sig_v1_offset = end;
			img->sig_v1_version = espimg_le32(sector);
			if (img->sig_v1_version != 0)
				WARN(ps, "image.sig_v1_version", end,
				     "Secure Boot v1 signature at 0x%" PRIx64 " has version %" PRIu32 "; only version 0 is defined",
				     ps->base + end, img->sig_v1_version);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ entry */

static int parse_image(parse *ps, const espimg_image_opts *opts)
{
	espimg_image *img = ps->img;
	uint8_t h[ESPIMG_IMAGE_HEADER_SIZE];
	int64_t n;
	int rc;

	if (img->source_size == 0) {
		if (ps->base)
			ERR(ps, "image.empty", 0,
			    "nothing at offset 0x%" PRIx64 ": the file is only %" PRIu64 " bytes",
			    ps->base, ps->r.src->size);
		else
			ERR(ps, "image.empty", 0, "the file is empty");
		return ESPIMG_EFORMAT;
	}
	memset(h, 0, sizeof(h));
	n = rd_read(&ps->r, h, sizeof(h));
	if (n < 0)
		return (int)n;
	if (h[0] != ESPIMG_IMAGE_MAGIC && h[0] != ESPIMG_IMAGE_MAGIC_ESP8266_V2) {
		ERR(ps, "image.magic", 0,
		    "not an ESP image: the first byte is 0x%02x, expected 0xe9%s",
		    h[0], magic_hint(h[0]));
		return ESPIMG_EFORMAT;
	}
	/* Whatever is there is decoded (missing bytes read as 0), also when
	 * the parse stops here: esptool's text up to its failure depends on
	 * these bytes (its chip detection). */
	decode_header(img, h);
	if (h[0] == ESPIMG_IMAGE_MAGIC_ESP8266_V2) {
		ERR(ps, "image.esp8266", 0,
		    "magic 0xea: an ESP8266 \"v2\" image; espimg handles ESP32-family images only");
		return ESPIMG_EUNSUPPORTED;
	}
	if (n < (int64_t)ESPIMG_IMAGE_HEADER_SIZE) {
		ERR(ps, "image.truncated", 0,
		    "the file ends inside the image header: %zu of %u bytes present",
		    (size_t)n, ESPIMG_IMAGE_HEADER_SIZE);
		return ESPIMG_EFORMAT;
	}
	img->stage = ESPIMG_STAGE_HEADER;
	rc = check_header(ps, h, opts->chip);
	if (rc == ESPIMG_EUNSUPPORTED)
		img->stage = ESPIMG_STAGE_NONE; /* not an ESP32-family header */
	if (rc < 0)
		return rc;

	rc = read_segments(ps);
	if (rc < 0)
		return rc;
	/* esptool checks the count only after reading every segment. */
	if (img->segment_count > ESPIMG_IMAGE_MAX_SEGMENTS)
		ERR(ps, "image.segment_count", HDR_COUNT,
		    "%u segments; ESP-IDF allows at most 16 (usually a linker script problem)",
		    img->segment_count);
	else if (img->segment_count == 0)
		ERR(ps, "image.no_segments", HDR_COUNT,
		    "the segment count is 0: the image holds no code or data");

	rc = read_footer(ps);
	if (rc < 0)
		return rc;
	find_descriptors(ps);
	rc = find_signatures(ps);
	if (rc < 0)
		return rc;
	img->stage = ESPIMG_STAGE_COMPLETE;
	return ESPIMG_OK;
}

/* Hashes [from, end) of the image into md through the reader. Returns 0,
 * ESPIMG_EFORMAT when the source ends first, or the reader's error. */
static int hash_range(rd *r, EVP_MD_CTX *md, uint64_t from, uint64_t end)
{
	r->pos = from;
	while (r->pos < end) {
		const uint8_t *p;
		size_t n;
		int rc = rd_peek(r, &p, &n);

		if (rc < 0)
			return rc;
		if (!n)
			return ESPIMG_EFORMAT;
		if (n > end - r->pos)
			n = (size_t)(end - r->pos);
		if (!EVP_DigestUpdate(md, p, n))
			return ESPIMG_ENOMEM;
		r->pos += n;
	}
	return 0;
}

/* The signed-region digest (opts->prefix_len), after the parse: continue
 * the SHA-256 state saved at the checksum when there is one and the region
 * covers it, else hash the region from the start. */
static int prefix_finish(parse *ps, const espimg_image_opts *opts)
{
	espimg_image *img = ps->img;
	uint64_t end = opts->prefix_len;
	const EVP_MD *alg = opts->prefix_sha384 ? EVP_sha384() : EVP_sha256();
	uint64_t from = 0;
	unsigned mdlen = 0;
	int rc;

	if (end == ESPIMG_PREFIX_TO_SECTOR) {
		if (img->stage < ESPIMG_STAGE_CHECKSUM)
			return 0;
		end = (img->image_size + ESPIMG_SIG_SECTOR_SIZE - 1) &
		      ~(uint64_t)(ESPIMG_SIG_SECTOR_SIZE - 1);
	}
	img->prefix_end = end;
	if (!opts->prefix_sha384 && ps->prefix_from && ps->prefix_from <= end)
		from = ps->prefix_from;
	else if (!EVP_DigestInit_ex(ps->r.prefix_md, alg, NULL))
		return ESPIMG_ENOMEM;
	rc = hash_range(&ps->r, ps->r.prefix_md, from, end);
	if (rc == ESPIMG_EFORMAT)
		return 0; /* the source is shorter: no digest */
	if (rc < 0)
		return rc;
	if (!EVP_DigestFinal_ex(ps->r.prefix_md, img->prefix_digest, &mdlen))
		return ESPIMG_ENOMEM;
	img->prefix_digest_len = mdlen;
	img->prefix_digest_ok = true;
	return 0;
}

int espimg_source_digest(const espimg_source *src, uint64_t offset,
			 uint64_t len, size_t digest_len, uint8_t *out)
{
	rd r;
	unsigned mdlen = 0;
	int rc;

	if (!src || !src->read_at || !out ||
	    (digest_len != 32 && digest_len != 48))
		return ESPIMG_EINVAL;
	memset(&r, 0, sizeof(r));
	r.src = src;
	r.base = offset;
	r.size = src->size > offset ? src->size - offset : 0;
	r.buf = malloc(IMG_BUF_SIZE);
	r.md = EVP_MD_CTX_new();
	if (!r.buf || !r.md ||
	    !EVP_DigestInit_ex(r.md, digest_len == 48 ? EVP_sha384()
						      : EVP_sha256(), NULL))
		rc = ESPIMG_ENOMEM;
	else
		rc = hash_range(&r, r.md, 0, len);
	if (!rc && !EVP_DigestFinal_ex(r.md, out, &mdlen))
		rc = ESPIMG_ENOMEM;
	free(r.buf);
	EVP_MD_CTX_free(r.md);
	return rc;
}

int espimg_image_read(const espimg_source *src, const espimg_image_opts *opts,
		      espimg_image **out, espimg_diag_list *diags)
{
	static const espimg_image_opts no_opts;
	parse ps;
	int rc;

	if (out)
		*out = NULL;
	if (!src || !src->read_at || !out)
		return ESPIMG_EINVAL;
	if (!opts)
		opts = &no_opts;

	memset(&ps, 0, sizeof(ps));
	ps.img = calloc(1, sizeof(*ps.img));
	ps.r.buf = malloc(IMG_BUF_SIZE);
	ps.r.md = EVP_MD_CTX_new();
	if (opts->prefix_len)
		ps.r.prefix_md = EVP_MD_CTX_new();
	if (!ps.img || !ps.r.buf || !ps.r.md ||
	    (opts->prefix_len && !ps.r.prefix_md) ||
	    !EVP_DigestInit_ex(ps.r.md, EVP_sha256(), NULL)) {
		free(ps.img);
		free(ps.r.buf);
		EVP_MD_CTX_free(ps.r.md);
		EVP_MD_CTX_free(ps.r.prefix_md);
		return ESPIMG_ENOMEM;
	}
	ps.diags = diags;
	ps.file = opts->file;
	ps.base = opts->offset;
	ps.app_seg = -1;
	ps.boot_seg = -1;
	ps.r.src = src;
	ps.r.base = opts->offset;
	ps.r.size = src->size > opts->offset ? src->size - opts->offset : 0;
	ps.r.hashing = 1;
	ps.img->offset = opts->offset;
	ps.img->source_size = ps.r.size;

	rc = parse_image(&ps, opts);
	if (opts->prefix_len && rc != ESPIMG_EIO && rc != ESPIMG_ENOMEM) {
		int prc = prefix_finish(&ps, opts);

		if (prc < 0)
			rc = prc;
	}

	free(ps.r.buf);
	EVP_MD_CTX_free(ps.r.md);
	EVP_MD_CTX_free(ps.r.prefix_md);
	*out = ps.img;
	return rc;
}

void espimg_image_free(espimg_image *img)
{
	free(img);
}

/* ------------------------------------------------------------ text helpers */

size_t espimg_desc_text(const uint8_t *field, size_t size,
			espimg_desc_mode mode, char *out, size_t outsz)
{
	size_t n = 0;

	for (size_t i = 0; i < size; i++) {
		if (field[i] == 0) {
			if (mode == ESPIMG_DESC_CSTRING)
				break;
			continue;
		}
		if (out && n + 1 < outsz)
			out[n] = (char)field[i];
		n++;
	}
	if (out && outsz)
		out[n < outsz ? n : outsz - 1] = '\0';
	return n;
}

/* Length of the longest well-formed UTF-8 prefix, as Python's strict
 * decoder judges it. */
static size_t utf8_prefix(const uint8_t *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n && (k = espimg_utf8_seq(s + i, n - i, &cp)) != 0)
		i += k;
	return i;
}

int espimg_utf8_valid(const uint8_t *s, size_t n)
{
	return s ? utf8_prefix(s, n) == n : n == 0;
}

void espimg_rev_text(unsigned rev_full, char out[16])
{
	snprintf(out, 16, "v%u.%u", rev_full / 100, rev_full % 100);
}
