/*
 * flash_explain.c - what a whole flash image or dump holds and what it
 * will boot: the bootloader image, each partition's content (app images,
 * erased flash, NVS pages, otadata, data that looks encrypted), the next
 * boot with rollback off and on and why, as a structure, an espimg.flash/1
 * document and text with a proportional flash map.  The SVG picture is in
 * flash_svg.c.
 *
 * Everything is read through the source in bounded pieces: the image
 * reader streams each image through a window on its partition (256 KiB
 * at a time), scans for erased flash read SCAN_CHUNK bytes at a time, NVS
 * page headers 32 bytes each, otadata at most ESPIMG_OTADATA_MAX_SIZE.
 *
 * Facts used here: the NVS page header (ESP-IDF
 * components/nvs_flash/src/nvs_page.hpp, Page::Header and
 * Page::Header::calculateCrc32 in nvs_page.cpp; the constants in
 * private_include/nvs_constants.h): u32 state, u32 seq, u8 version, 19
 * reserved bytes, u32 CRC of bytes 4..27 computed as
 * esp_rom_crc32_le(0xFFFFFFFF, ...) (= zlib crc32 seeded with 0xFFFFFFFF,
 * see otadata.c).  The bootloader loads app partitions with subtype
 * factory (0x00), ota_0..ota_15 (0x10..0x1F) and test (0x20)
 * (bootloader_utility.c, bootloader_utility_load_partition_table); it
 * checks the image's chip id, segments, checksum and SHA-256 and that the
 * image fits its partition (esp_image_format.c).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "espimg/flash.h"
#include "espimg/otadata.h"
#include "flash_int.h"
#include "internal.h"

#define SECTOR 0x1000u
/* Bytes read at a time when scanning for erased flash. */
#define SCAN_CHUNK 0x10000u
/* Secure Boot v2: the signature sector after the image (4 KiB). */
#define SIG_SECTOR 0x1000u

/* NVS page header (nvs_page.hpp Page::Header; nvs_constants.h). */
#define NVS_PAGE 0x1000u                  /* NVS_CONST_PAGE_SIZE */
#define NVS_HDR 32u
#define NVS_HDR_SEQ 4u
#define NVS_HDR_CRC 28u
#define NVS_STATE_UNINIT 0xFFFFFFFFu      /* erased, not yet used */
#define NVS_STATE_ACTIVE 0xFFFFFFFEu      /* ~PSB_INIT */
#define NVS_STATE_FULL 0xFFFFFFFCu        /* ~(PSB_INIT | PSB_FULL) */
#define NVS_STATE_FREEING 0xFFFFFFF8u     /* ... & ~PSB_FREEING */
#define NVS_STATE_CORRUPT 0xFFFFFFF0u     /* ... & ~PSB_CORRUPT */

/* "Looks random": the chi-square statistic of the byte counts in the
 * first 4 KiB against a uniform distribution, and the same for the XOR of
 * each byte with the one before it (so that evenly spread patterns such
 * as a counter, whose counts alone are perfectly uniform, do not pass).
 * Random (encrypted) data has 255 on average for both (standard deviation
 * about 23); code, strings and tables give thousands.  Measured on the
 * corpus: 209..320 for both on flash-encrypted read-backs, 5800 and more
 * for the bytes of plain app sectors. */
#define RANDOM_BYTES 4096u
#define RANDOM_CHI2_MAX 400u

/* ------------------------------------------------------------ names */

const char *espimg_part_content_name(espimg_part_content c)
{
	switch (c) {
	case ESPIMG_PART_UNKNOWN:
		break;
	case ESPIMG_PART_OUTSIDE:
		return "outside";
	case ESPIMG_PART_ERASED:
		return "erased";
	case ESPIMG_PART_IMAGE:
		return "image";
	case ESPIMG_PART_OTADATA:
		return "otadata";
	case ESPIMG_PART_NVS:
		return "nvs";
	case ESPIMG_PART_ENCRYPTED:
		return "encrypted";
	case ESPIMG_PART_DATA:
		return "data";
	}
	return "unknown";
}

/* ------------------------------------------------------------ reading */

/* Reads exactly len bytes at off (the caller keeps them inside the
 * source).  Returns 0, or ESPIMG_EIO for a failed or short read. */
static int read_exact(const espimg_source *src, uint64_t off, void *buf,
		      size_t len)
{
	size_t got = 0;
	int r;

	if (!len)
		return 0;
	if (off > src->size || len > src->size - off)
		return ESPIMG_EIO;
	r = src->read_at(src->ctx, off, buf, len, &got);
	if (r < 0)
		return r;
	return r > 0 || got != len ? ESPIMG_EIO : 0;
}

/* The end of the last byte that is not 0xFF in [off, off + len) of src,
 * relative to off (0: all erased), reading backwards a chunk at a time.
 * Returns 0 or an error. */
static int last_written(const espimg_source *src, uint64_t off, uint64_t len,
			uint8_t *chunk, uint64_t *end)
{
	uint64_t pos = len;

	*end = 0;
	while (pos > 0) {
		size_t n = pos < SCAN_CHUNK ? (size_t)pos : SCAN_CHUNK;
		int r = read_exact(src, off + pos - n, chunk, n);

		if (r)
			return r;
		pos -= n;
		if (espimg_all_ff(chunk, n))
			continue;
		for (size_t i = n; i > 0; i--) {
			if (chunk[i - 1] != 0xFF) {
				*end = pos + i;
				return 0;
			}
		}
	}
	return 0;
}

/* The chi-square statistic of 256 counts over n values against a
 * uniform distribution, in integers (n a multiple of 256). */
static uint64_t chi2(const uint32_t count[256], size_t n)
{
	uint64_t sum = 0, e = n / 256;

	for (size_t i = 0; i < 256; i++) {
		int64_t d = (int64_t)count[i] - (int64_t)e;

		sum += (uint64_t)(d * d);
	}
	return sum / e;
}

/* Whether the first RANDOM_BYTES of p look random (RANDOM_CHI2_MAX). */
static bool looks_random(const uint8_t *p, size_t n)
{
	uint32_t bytes[256] = { 0 }, steps[256] = { 0 };

	if (n < RANDOM_BYTES)
		return false;
	n = RANDOM_BYTES;
	bytes[p[0]]++;
	steps[p[0] ^ p[n - 1]]++; /* wrap around: n steps for n bytes */
	for (size_t i = 1; i < n; i++) {
		bytes[p[i]]++;
		steps[p[i] ^ p[i - 1]]++;
	}
	return chi2(bytes, n) <= RANDOM_CHI2_MAX &&
	       chi2(steps, n) <= RANDOM_CHI2_MAX;
}

/* ------------------------------------------------------------ text */

static void set_problem(char *out, size_t n, const char *fmt, ...)
	ESPIMG_PRINTF(3, 4);

static void set_problem(char *out, size_t n, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	espimg_copy_cut(out, n, tmp);
}

static void desc_text(char out[33], const uint8_t *field, size_t size)
{
	espimg_desc_text(field, size, ESPIMG_DESC_CSTRING, out, 33);
}

/* ------------------------------------------------------------ images */

/* What the bootloader checks of an image itself: read to its end, 1..16
 * segments, checksum, SHA-256 when appended (esp_image_format.c). */
static bool image_sound(const espimg_image *img)
{
	return img->stage == ESPIMG_STAGE_COMPLETE && img->nsegments > 0 &&
	       img->segment_count <= ESPIMG_IMAGE_MAX_SEGMENTS &&
	       img->checksum_ok && (!img->has_sha256 || img->sha256_ok);
}

static const char *sound_problem(const espimg_image *img,
				 const espimg_diag_list *d)
{
	const char *e;

	if (img->stage == ESPIMG_STAGE_COMPLETE && !img->checksum_ok)
		return "the checksum does not match the segment data";
	if (img->stage == ESPIMG_STAGE_COMPLETE && img->has_sha256 &&
	    !img->sha256_ok)
		return "the SHA-256 does not match the image";
	e = espimg_diag_first_error(d);
	return e ? e : "the image cannot be read to its end";
}

/* Reads the image at [at, at + room) of src (clipped to the source).
 * Returns 0 with *img set (even for a bad image), or an error. */
static int read_image(const espimg_source *src, uint64_t at, uint64_t room,
		      espimg_image **img, espimg_diag_list *d)
{
	espimg_window w;
	espimg_source win;
	espimg_image_opts io;
	int r;

	*img = NULL;
	espimg_diag_clear(d);
	espimg_window_init(&win, &w, src, at, room);
	memset(&io, 0, sizeof(io));
	r = espimg_image_read(&win, &io, img, d);
	if (r == ESPIMG_EIO || r == ESPIMG_ENOMEM || r == ESPIMG_EINVAL ||
	    !*img) {
		espimg_image_free(*img);
		*img = NULL;
		return r ? r : ESPIMG_ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------ context */

typedef struct ectx {
	const espimg_source *src;
	const char *file;
	espimg_flash_explain *x;
	espimg_diag_list *diags;
	espimg_diag_list *scratch; /* the image reader's findings */
	uint8_t *chunk;            /* SCAN_CHUNK bytes */
} ectx;

static const char *chip_name(const espimg_chip *c)
{
	return c ? c->name : "unknown chip";
}

/* ------------------------------------------------------------ bootloader */

static int explain_bootloader(ectx *c)
{
	espimg_flash_explain *x = c->x;
	const espimg_flash *f = x->flash;
	espimg_image *img = NULL;
	uint64_t end;
	int r;

	if (!f->has_bootloader)
		return 0;
	/* up to the table, as the bootloader area ends there */
	end = f->table && f->table_offset > f->bootloader_offset
		      ? f->table_offset
		      : f->size;
	r = read_image(c->src, f->bootloader_offset,
		       end - f->bootloader_offset, &img, c->scratch);
	if (r)
		return r;
	if (img->stage >= ESPIMG_STAGE_HEADER) {
		unsigned code = img->flash_size_freq >> 4;

		x->flash_size = espimg_flash_size_bytes(code);
	}
	x->bootloader_kind = img->kind;
	if (img->stage >= ESPIMG_STAGE_CHECKSUM)
		x->bootloader_size = img->image_size;
	if (img->has_boot_desc) {
		snprintf(x->bootloader_version, sizeof(x->bootloader_version),
			 "%" PRIu32, img->boot_desc.version);
		desc_text(x->bootloader_idf_ver, img->boot_desc.idf_ver,
			  sizeof(img->boot_desc.idf_ver));
	}
	if (!image_sound(img)) {
		set_problem(x->bootloader_problem,
			    sizeof(x->bootloader_problem), "%s",
			    sound_problem(img, c->scratch));
		espimg_diag_add(c->diags, ESPIMG_SEV_ERROR,
				"flash.bootloader_invalid", c->file, 0, 0,
				(int64_t)f->bootloader_offset,
				"the bootloader at 0x%" PRIx64 " fails its "
				"checks: %s",
				f->bootloader_offset, x->bootloader_problem);
	} else if (img->kind == ESPIMG_KIND_APP) {
		set_problem(x->bootloader_problem,
			    sizeof(x->bootloader_problem),
			    "an app image (it has an application description), "
			    "not a bootloader");
		espimg_diag_add(c->diags, ESPIMG_SEV_ERROR,
				"flash.bootloader_is_app", c->file, 0, 0,
				(int64_t)f->bootloader_offset,
				"the image at 0x%" PRIx64 " is an app (it has an "
				"application description), not a second-stage "
				"bootloader: the ROM would start it as one",
				f->bootloader_offset);
	} else {
		x->bootloader_ok = true;
	}
	x->bootloader_runs = x->bootloader_ok && f->chip &&
			     f->bootloader_offset + f->base_offset ==
				     f->chip->bootloader_offset;
	espimg_image_free(img);
	return 0;
}

/* ------------------------------------------------------------ partitions */

static bool is_app_slot(const espimg_partition *p)
{
	return p->type == ESPIMG_PTYPE_APP &&
	       (p->subtype == ESPIMG_PSUB_APP_FACTORY ||
		(p->subtype >= ESPIMG_PSUB_APP_OTA_0 &&
		 p->subtype < ESPIMG_PSUB_APP_OTA_0 + 16) ||
		p->subtype == ESPIMG_PSUB_APP_TEST);
}

/* An image at the partition's start. */
static int part_image(ectx *c, espimg_flash_part *fp)
{
	const espimg_flash *f = c->x->flash;
	const espimg_partition *p = fp->part;
	espimg_image *img = NULL;
	uint64_t need;
	int r;

	fp->content = ESPIMG_PART_IMAGE;
	r = read_image(c->src, fp->file_offset, fp->in_file, &img, c->scratch);
	if (r)
		return r;
	/* Runs past the partition while the file goes on: read it again
	 * up to the end of the file to say how big it is. */
	if (img->stage < ESPIMG_STAGE_CHECKSUM &&
	    img->stage >= ESPIMG_STAGE_HEADER && fp->in_file == p->size &&
	    fp->file_offset + p->size < f->size) {
		espimg_diag_list *d = espimg_diag_list_new();
		espimg_image *big = NULL;

		if (!d) {
			espimg_image_free(img);
			return ESPIMG_ENOMEM;
		}
		r = read_image(c->src, fp->file_offset,
			       f->size - fp->file_offset, &big, d);
		if (!r && big->stage >= ESPIMG_STAGE_CHECKSUM) {
			espimg_image_free(img);
			img = big;
			espimg_diag_list_free(c->scratch);
			c->scratch = d;
			d = NULL;
		} else {
			espimg_image_free(big);
		}
		espimg_diag_list_free(d);
		if (r) {
			espimg_image_free(img);
			return r;
		}
	}

	fp->kind = img->kind;
	fp->image_chip = img->chip;
	fp->image_ok = image_sound(img);
	fp->chip_ok = img->chip && (!f->chip || img->chip == f->chip);
	if (img->has_app_desc) {
		const espimg_app_desc *a = &img->app_desc;

		desc_text(fp->project, a->project_name, sizeof(a->project_name));
		desc_text(fp->version, a->version, sizeof(a->version));
		desc_text(fp->idf_ver, a->idf_ver, sizeof(a->idf_ver));
		fp->secure_version = a->secure_version;
	}
	if (img->stage >= ESPIMG_STAGE_COMPLETE)
		memcpy(fp->sha256,
		       img->has_sha256 && img->sha256_stored_len == 32
			       ? img->sha256_stored
			       : img->sha256_computed,
		       32);
	fp->nsig = (unsigned)img->nsig;
	need = 0;
	if (img->stage >= ESPIMG_STAGE_CHECKSUM) {
		need = img->nsig ? img->sig_sector_offset + SIG_SECTOR
				 : img->image_size;
		fp->used = need;
	}
	fp->fits = img->stage >= ESPIMG_STAGE_CHECKSUM && need <= p->size;
	fp->bootable = fp->app_slot && img->kind != ESPIMG_KIND_BOOTLOADER &&
		       fp->image_ok && fp->chip_ok && fp->fits;

	if (img->stage >= ESPIMG_STAGE_CHECKSUM && !fp->fits) {
		set_problem(fp->problem, sizeof(fp->problem),
			    "the image%s needs 0x%" PRIx64 " bytes but the "
			    "partition has 0x%" PRIx32,
			    img->nsig ? " with its signature sector" : "",
			    need, p->size);
		espimg_diag_add(c->diags, ESPIMG_SEV_ERROR,
				"flash.image_too_big", c->file, 0, 0,
				(int64_t)fp->file_offset,
				"partition '%s': %s", p->name, fp->problem);
	} else if (!fp->image_ok) {
		const char *why = sound_problem(img, c->scratch);

		if (img->stage < ESPIMG_STAGE_CHECKSUM &&
		    fp->in_file < p->size)
			why = "the file ends inside the image";
		set_problem(fp->problem, sizeof(fp->problem), "%s", why);
		espimg_diag_add(c->diags,
				fp->app_slot ? ESPIMG_SEV_ERROR
					     : ESPIMG_SEV_WARNING,
				"flash.image_invalid", c->file, 0, 0,
				(int64_t)fp->file_offset,
				"partition '%s': the image fails its checks: %s",
				p->name, fp->problem);
	} else if (!fp->chip_ok) {
		set_problem(fp->problem, sizeof(fp->problem),
			    "an image for %s (chip id %u), the bootloader is "
			    "for %s",
			    img->chip ? img->chip->name : "an unknown chip",
			    img->chip_id, chip_name(f->chip));
		espimg_diag_add(c->diags, ESPIMG_SEV_ERROR, "flash.image_chip",
				c->file, 0, 0, (int64_t)fp->file_offset + 12,
				"partition '%s': %s", p->name, fp->problem);
	} else if (fp->app_slot && img->kind == ESPIMG_KIND_BOOTLOADER) {
		set_problem(fp->problem, sizeof(fp->problem),
			    "a bootloader image, not an app");
		espimg_diag_add(c->diags, ESPIMG_SEV_ERROR,
				"flash.image_invalid", c->file, 0, 0,
				(int64_t)fp->file_offset,
				"partition '%s' holds %s", p->name, fp->problem);
	}
	espimg_image_free(img);
	return 0;
}

/* NVS pages: one header per 4 KiB page (nvs_page.cpp Page::load). */
static int part_nvs(ectx *c, espimg_flash_part *fp, bool *any)
{
	uint8_t h[NVS_HDR];

	*any = false;
	for (uint64_t pg = 0; pg + NVS_PAGE <= fp->in_file; pg += NVS_PAGE) {
		uint64_t at = fp->file_offset + pg;
		uint32_t state;
		int r = read_exact(c->src, at, h, sizeof(h));

		if (r)
			return r;
		state = espimg_le32(h);
		if (state == NVS_STATE_UNINIT) {
			uint64_t end;

			/* an uninitialised page must be erased throughout */
			r = last_written(c->src, at, NVS_PAGE, c->chunk, &end);
			if (r)
				return r;
			if (end)
				fp->nvs_pages_corrupt++;
			else
				fp->nvs_pages_erased++;
			continue;
		}
		if (espimg_le32(h + NVS_HDR_CRC) !=
		    (uint32_t)crc32(0xFFFFFFFFul, h + NVS_HDR_SEQ,
				    NVS_HDR_CRC - NVS_HDR_SEQ)) {
			fp->nvs_pages_corrupt++;
			continue;
		}
		switch (state) {
		case NVS_STATE_ACTIVE:
			fp->nvs_pages_active++;
			*any = true;
			break;
		case NVS_STATE_FULL:
			fp->nvs_pages_full++;
			*any = true;
			break;
		case NVS_STATE_FREEING:
			fp->nvs_pages_freeing++;
			*any = true;
			break;
		default: /* CORRUPT, or a state the device does not know */
			fp->nvs_pages_corrupt++;
			break;
		}
	}
	return 0;
}

static int part_otadata(ectx *c, espimg_flash_part *fp)
{
	uint8_t rec[2 * ESPIMG_OTADATA_ENTRY_SIZE];
	espimg_otadata_entry e[2];
	uint64_t off[2] = { 0, ESPIMG_OTADATA_SECTOR };
	int r;

	fp->content = ESPIMG_PART_OTADATA;
	memset(rec, 0xFF, sizeof(rec));
	/* the two records the device reads; missing ones read as erased */
	for (unsigned i = 0; i < 2; i++) {
		if (off[i] + ESPIMG_OTADATA_ENTRY_SIZE > fp->in_file)
			continue;
		r = read_exact(c->src, fp->file_offset + off[i],
			       rec + i * ESPIMG_OTADATA_ENTRY_SIZE,
			       ESPIMG_OTADATA_ENTRY_SIZE);
		if (r)
			return r;
	}
	{
		/* decode wants the records at their offsets: a small blob
		 * with both sectors' first 32 bytes */
		uint8_t blob[ESPIMG_OTADATA_SECTOR + ESPIMG_OTADATA_ENTRY_SIZE];

		memset(blob, 0xFF, sizeof(blob));
		memcpy(blob, rec, ESPIMG_OTADATA_ENTRY_SIZE);
		memcpy(blob + ESPIMG_OTADATA_SECTOR,
		       rec + ESPIMG_OTADATA_ENTRY_SIZE,
		       ESPIMG_OTADATA_ENTRY_SIZE);
		espimg_otadata_decode(blob, sizeof(blob), NULL, e, NULL);
	}
	for (unsigned i = 0; i < 2; i++) {
		fp->ota_seq[i] = e[i].seq;
		fp->ota_state[i] = e[i].state;
		fp->ota_valid[i] = e[i].valid;
	}
	fp->ota_active_entry = espimg_otadata_active(e, NULL);
	return 0;
}

static int explain_part(ectx *c, espimg_flash_part *fp)
{
	const espimg_flash *f = c->x->flash;
	const espimg_partition *p = fp->part;
	uint8_t *head = c->chunk;
	size_t nhead;
	uint64_t end;
	int r;

	fp->ota_active_entry = -1;
	fp->app_slot = is_app_slot(p);
	if (p->offset >= f->base_offset &&
	    p->offset - f->base_offset < f->size) {
		uint64_t left;

		fp->file_offset = p->offset - f->base_offset;
		left = f->size - fp->file_offset;
		fp->in_file = p->size < left ? p->size : left;
	}
	if (!fp->in_file) {
		fp->content = ESPIMG_PART_OUTSIDE;
		if (fp->app_slot)
			set_problem(fp->problem, sizeof(fp->problem),
				    "not in the file");
		return 0;
	}

	if (p->type == ESPIMG_PTYPE_DATA && p->subtype == ESPIMG_PSUB_DATA_OTA)
		r = part_otadata(c, fp);
	else
		r = 0;
	if (r)
		return r;

	/* used: up to the last written byte (an image says its size) */
	r = last_written(c->src, fp->file_offset, fp->in_file, c->chunk, &end);
	if (r)
		return r;
	fp->used = end;
	if (fp->content == ESPIMG_PART_OTADATA)
		return 0;
	if (!end) {
		fp->content = ESPIMG_PART_ERASED;
		if (p->type == ESPIMG_PTYPE_DATA &&
		    p->subtype == ESPIMG_PSUB_DATA_NVS)
			fp->nvs_pages_erased = (unsigned)(fp->in_file / NVS_PAGE);
		if (fp->app_slot)
			set_problem(fp->problem, sizeof(fp->problem),
				    "erased: no image");
		return 0;
	}

	nhead = fp->in_file < RANDOM_BYTES ? (size_t)fp->in_file : RANDOM_BYTES;
	r = read_exact(c->src, fp->file_offset, head, nhead);
	if (r)
		return r;
	if ((p->type == ESPIMG_PTYPE_APP || p->type == ESPIMG_PTYPE_BOOTLOADER) &&
	    head[0] == ESPIMG_IMAGE_MAGIC)
		return part_image(c, fp);
	if ((fp->app_slot || (p->flags & ESPIMG_PFLAG_ENCRYPTED)) &&
	    looks_random(head, nhead)) {
		fp->content = ESPIMG_PART_ENCRYPTED;
		if (fp->app_slot)
			set_problem(fp->problem, sizeof(fp->problem),
				    "looks encrypted: no image header, random "
				    "bytes (flash encryption on?)");
		espimg_diag_add(c->diags, ESPIMG_SEV_NOTE, "flash.encrypted",
				c->file, 0, 0, (int64_t)fp->file_offset,
				"partition '%s' looks encrypted: %s, and its "
				"first 4 KiB look random",
				p->name,
				fp->app_slot ? "an app slot without an image "
					       "header (0xE9)"
					     : "flagged encrypted");
		return 0;
	}
	if (p->type == ESPIMG_PTYPE_DATA && p->subtype == ESPIMG_PSUB_DATA_NVS) {
		bool any;

		r = part_nvs(c, fp, &any);
		if (r)
			return r;
		if (any) {
			fp->content = ESPIMG_PART_NVS;
			return 0;
		}
	}
	fp->content = ESPIMG_PART_DATA;
	if (fp->app_slot)
		set_problem(fp->problem, sizeof(fp->problem),
			    "no image: the first byte is 0x%02x, not 0xE9",
			    head[0]);
	return 0;
}

/* ------------------------------------------------------------ boot */

/* parts[] index of the layout's app a, or -1. */
static int part_of_app(const espimg_flash_explain *x,
		       const espimg_otadata_layout *l, int a)
{
	if (a < 0 || (size_t)a >= l->n_apps)
		return -1;
	for (size_t i = 0; i < x->nparts; i++) {
		const espimg_partition *p = x->parts[i].part;

		if (p->type == ESPIMG_PTYPE_APP &&
		    p->offset == l->apps[a].offset &&
		    !strcmp(p->name, l->apps[a].name))
			return (int)i;
	}
	return -1;
}

static const char *app_name(const espimg_otadata_layout *l, int a)
{
	return a >= 0 && (size_t)a < l->n_apps ? l->apps[a].name : "?";
}

static const char *state_text(uint32_t s, char buf[16])
{
	const char *n = espimg_otadata_state_name(s);

	if (n)
		return n;
	snprintf(buf, 16, "0x%08" PRIx32, s);
	return buf;
}

/*
 * Why the bootloader loads what it loads, in words, from the entries it
 * read (e, before its own writes) and its result.
 */
static void boot_words(espimg_buf *b, const espimg_otadata_layout *l,
		       const espimg_otadata_entry e[2],
		       const espimg_otadata_boot_result *br, bool rollback)
{
	char sb[16];
	bool erased = e[0].erased && e[1].erased;
	int sel = br->selected_entry;

	switch (br->outcome) {
	case ESPIMG_OTADATA_BOOT_RESET_OTADATA:
		espimg_buf_printf(b, "the otadata partition is smaller than "
				     "0x2000: the bootloader cannot read it and "
				     "resets");
		return;
	case ESPIMG_OTADATA_BOOT_FAULT:
		espimg_buf_printf(b, "the bootloader's behaviour is undefined "
				     "with this table (more than 16 OTA "
				     "partitions)");
		return;
	default:
		break;
	}

	/* the ABORTED writes of a rollback bootloader come first */
	for (unsigned i = 0; rollback && i < br->n_writes; i++)
		if (br->writes[i].state == ESPIMG_OTA_STATE_ABORTED)
			espimg_buf_printf(b, "entry %d was PENDING_VERIFY (the "
					     "app never confirmed itself): the "
					     "rollback bootloader marks it "
					     "ABORTED; ",
					  br->writes[i].sector);

	if (!l->has_otadata) {
		espimg_buf_printf(b, "no otadata partition: the bootloader "
				     "starts with the factory app");
	} else if (br->start_index == ESPIMG_OTADATA_INDEX_FACTORY) {
		if (erased)
			espimg_buf_printf(b, "otadata is erased: the bootloader "
					     "starts with the factory app");
		else if (l->boot_n == 0)
			espimg_buf_printf(b, "no OTA slot in the table: the "
					     "bootloader starts with the "
					     "factory app");
		else
			espimg_buf_printf(b, "no usable otadata entry (erased, "
					     "INVALID/ABORTED, or a bad CRC): "
					     "the bootloader starts with the "
					     "factory app%s",
					  l->boot_factory < 0 ? ", which this "
								"table does not "
								"have" : "");
	} else if (br->initial) {
		espimg_buf_printf(b, "otadata is %s and there is no factory "
				     "app: the bootloader starts at ota_0",
				  erased ? "erased" : "unusable (bad CRCs)");
	} else if (sel >= 0 && br->start_index >= 0) {
		int a = l->boot_ota[br->start_index];

		espimg_buf_printf(b, "otadata entry %d (seq %" PRIu32
				     ", state %s) is the active one: "
				     "(seq - 1) mod %u = %d selects %s",
				  sel, e[sel].seq, state_text(e[sel].state, sb),
				  l->boot_n, br->start_index,
				  a >= 0 ? app_name(l, a) : "an empty index");
	} else if (br->start_index >= 0) {
		espimg_buf_printf(b, "no usable otadata entry and no factory "
				     "app: the bootloader starts at ota_%d",
				  br->start_index);
	}

	for (unsigned i = 0; rollback && i < br->n_writes; i++)
		if (br->writes[i].state == ESPIMG_OTA_STATE_PENDING_VERIFY)
			espimg_buf_printf(b, "; the entry was NEW, so it "
					     "becomes PENDING_VERIFY: the app "
					     "must mark itself valid or the "
					     "next boot rolls back");

	if (br->outcome == ESPIMG_OTADATA_BOOT_LOADED && br->loaded >= 0) {
		if (br->n_tries > 1) {
			espimg_buf_printf(b, "; ");
			for (unsigned i = 0; i + 1 < br->n_tries; i++)
				espimg_buf_printf(
					b, "%s%s", i ? ", " : "",
					app_name(l, br->tries[i].app));
			espimg_buf_printf(b, " %s not load, so it falls back to "
					     "%s",
					  br->n_tries > 2 ? "do" : "does",
					  app_name(l, br->loaded));
		} else {
			espimg_buf_printf(b, "; %s loads",
					  app_name(l, br->loaded));
		}
		if (br->initial)
			espimg_buf_printf(b, " (and the bootloader writes entry "
					     "0 so that it stays selected)");
	} else {
		if (br->n_tries)
			espimg_buf_printf(b, "; no app partition holds an image "
					     "that loads: the bootloader resets");
		else
			espimg_buf_printf(b, "; there is no app partition to "
					     "load: the bootloader resets");
	}
}

static void set_reason(char *out, size_t n, espimg_buf *b)
{
	char *s = espimg_buf_finish(b, NULL);

	espimg_copy_cut(out, n, s ? s : "");
	free(s);
}

static int explain_boot(ectx *c)
{
	espimg_flash_explain *x = c->x;
	const espimg_flash *f = x->flash;
	espimg_otadata_layout *l = NULL;
	espimg_otadata_config *cfg = NULL;
	espimg_otadata_boot_result *br = NULL;
	espimg_otadata_entry e[2];
	uint8_t *ota = NULL, *copy = NULL;
	size_t ota_len = 0;
	int r = 0;

	x->boot = x->boot_rollback = -1;
	if (!f->table) {
		espimg_copy_cut(x->boot_reason, sizeof(x->boot_reason),
			 "no partition table: the bootloader has nothing to "
			 "load and resets");
		espimg_copy_cut(x->boot_rollback_reason,
			 sizeof(x->boot_rollback_reason), x->boot_reason);
		return 0;
	}
	l = malloc(sizeof(*l));
	cfg = malloc(sizeof(*cfg));
	br = malloc(sizeof(*br));
	if (!l || !cfg || !br) {
		r = ESPIMG_ENOMEM;
		goto out;
	}
	r = espimg_otadata_layout_from_ptable(f->table, l, c->diags);
	if (r == ESPIMG_ENOMEM || r == ESPIMG_EINVAL)
		goto out;
	if (r) {
		r = 0;
		espimg_copy_cut(x->boot_reason, sizeof(x->boot_reason),
			 "the bootloader's view of the table cannot be built "
			 "(two otadata partitions, or too many apps)");
		espimg_copy_cut(x->boot_rollback_reason,
			 sizeof(x->boot_rollback_reason), x->boot_reason);
		goto out;
	}

	espimg_otadata_config_init(cfg);
	for (size_t a = 0; a < l->n_apps; a++) {
		int i = part_of_app(x, l, (int)a);

		cfg->bad[a] = i < 0 || !x->parts[i].bootable;
		cfg->secure_version[a] = i >= 0 ? x->parts[i].secure_version : 0;
	}

	memset(e, 0, sizeof(e));
	if (l->has_otadata) {
		int oi = -1;
		uint64_t in = 0, at = 0;

		for (size_t i = 0; i < x->nparts && oi < 0; i++)
			if (x->parts[i].part->offset == l->otadata_offset &&
			    x->parts[i].content == ESPIMG_PART_OTADATA)
				oi = (int)i;
		ota_len = l->otadata_size < ESPIMG_OTADATA_MAX_SIZE
				  ? l->otadata_size
				  : ESPIMG_OTADATA_MAX_SIZE;
		ota = malloc(ota_len ? ota_len : 1);
		copy = malloc(ota_len ? ota_len : 1);
		if (!ota || !copy) {
			r = ESPIMG_ENOMEM;
			goto out;
		}
		memset(ota, 0xFF, ota_len);
		if (oi >= 0) {
			in = x->parts[oi].in_file < ota_len ? x->parts[oi].in_file
							    : ota_len;
			at = x->parts[oi].file_offset;
		}
		r = read_exact(c->src, at, ota, (size_t)in);
		if (r)
			goto out;
		espimg_otadata_decode(ota, ota_len, NULL, e, NULL);
	}

	for (int rb = 0; rb < 2; rb++) {
		espimg_buf b = { 0 };
		int *boot = rb ? &x->boot_rollback : &x->boot;

		cfg->rollback = rb;
		if (ota)
			memcpy(copy, ota, ota_len);
		r = espimg_otadata_boot(ota ? copy : NULL, ota ? ota_len : 0, l,
					cfg, br, NULL);
		if (r)
			goto out;
		if (br->outcome == ESPIMG_OTADATA_BOOT_LOADED)
			*boot = part_of_app(x, l, br->loaded);
		boot_words(&b, l, e, br, rb);
		set_reason(rb ? x->boot_rollback_reason : x->boot_reason,
			   rb ? sizeof(x->boot_rollback_reason)
			      : sizeof(x->boot_reason),
			   &b);
		if (!rb && br->outcome == ESPIMG_OTADATA_BOOT_LOADED &&
		    br->n_tries > 1 && *boot >= 0)
			espimg_diag_add(c->diags, ESPIMG_SEV_WARNING,
					"flash.boot_fallback", c->file, 0, 0,
					(int64_t)x->parts[*boot].file_offset,
					"%s", x->boot_reason);
	}
out:
	free(ota);
	free(copy);
	free(l);
	free(cfg);
	free(br);
	return r;
}

/* ------------------------------------------------------------ entry */

const char *espimg_explain_no_boot(const espimg_flash_explain *x)
{
	const espimg_flash *f = x->flash;

	if (x->boots)
		return "";
	if (!f->has_bootloader)
		return "there is no bootloader";
	if (!x->bootloader_ok)
		return x->bootloader_kind == ESPIMG_KIND_APP
			       ? "an app sits where the bootloader goes"
			       : "the bootloader fails its checks";
	if (!x->bootloader_runs)
		return "the bootloader is not where the ROM loads it";
	return "the bootloader finds no app that loads";
}

int espimg_flash_explain_read(const espimg_source *src,
			      const espimg_explain_opts *opts,
			      espimg_flash_explain **out,
			      espimg_diag_list *diags)
{
	static const espimg_explain_opts no_opts;
	espimg_flash_explain *x;
	ectx c;
	int r;

	if (out)
		*out = NULL;
	if (!src || !src->read_at || !out)
		return ESPIMG_EINVAL;
	if (!opts)
		opts = &no_opts;
	x = calloc(1, sizeof(*x));
	if (!x)
		return ESPIMG_ENOMEM;
	x->boot = x->boot_rollback = -1;
	memset(&c, 0, sizeof(c));
	c.src = src;
	c.file = opts->flash.file;
	c.x = x;
	c.diags = diags;
	c.scratch = espimg_diag_list_new();
	c.chunk = malloc(SCAN_CHUNK);
	if (!c.scratch || !c.chunk) {
		r = ESPIMG_ENOMEM;
		goto fail;
	}

	r = espimg_flash_locate(src, &opts->flash, &x->flash, diags);
	if (r)
		goto fail;
	r = explain_bootloader(&c);
	if (r)
		goto fail;

	if (x->flash->table && x->flash->table->count) {
		x->nparts = x->flash->table->count;
		x->parts = calloc(x->nparts, sizeof(*x->parts));
		if (!x->parts) {
			r = ESPIMG_ENOMEM;
			goto fail;
		}
		for (size_t i = 0; i < x->nparts; i++) {
			x->parts[i].part = &x->flash->table->parts[i];
			r = explain_part(&c, &x->parts[i]);
			if (r)
				goto fail;
		}
	}

	r = explain_boot(&c);
	if (r)
		goto fail;
	x->boots = x->bootloader_runs && x->boot >= 0;
	if (!x->boots)
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "flash.no_boot",
				c.file, 0, 0, -1, "nothing boots: %s%s%s",
				espimg_explain_no_boot(x),
				x->bootloader_runs ? ": " : "",
				x->bootloader_runs ? x->boot_reason : "");
	espimg_diag_list_free(c.scratch);
	free(c.chunk);
	*out = x;
	return ESPIMG_OK;
fail:
	espimg_diag_list_free(c.scratch);
	free(c.chunk);
	espimg_flash_explain_free(x);
	return r;
}

void espimg_flash_explain_free(espimg_flash_explain *x)
{
	if (!x)
		return;
	espimg_flash_free(x->flash);
	free(x->parts);
	free(x);
}

/* ------------------------------------------------------------ shared */

uint64_t espimg_explain_map_size(const espimg_flash_explain *x)
{
	const espimg_flash *f = x->flash;
	uint64_t need = f->base_offset + f->size, p2 = 1u << 20;

	if (f->table) {
		uint64_t t = espimg_ptable_flash_needed(f->table);

		if (t > need)
			need = t;
	}
	if (x->flash_size >= need)
		return x->flash_size;
	while (p2 < need && p2 < ((uint64_t)1 << 40))
		p2 <<= 1;
	return p2;
}

void espimg_size_words(char out[32], uint64_t n)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB" };
	uint64_t scale = 1024;
	unsigned u = 0;

	if (n < 1024) {
		snprintf(out, 32, "%" PRIu64 " byte%s", n, n == 1 ? "" : "s");
		return;
	}
	while (u + 1 < ESPIMG_ARRAY_SIZE(unit) && n >= scale * 1024) {
		scale *= 1024;
		u++;
	}
	if (n % scale == 0)
		snprintf(out, 32, "%" PRIu64 " %s", n / scale, unit[u]);
	else
		snprintf(out, 32, "%" PRIu64 ".%" PRIu64 " %s", n / scale,
			 n % scale * 10 / scale, unit[u]);
}

const char *espimg_explain_type(const espimg_partition *p, char buf[8])
{
	const char *n = espimg_ptable_type_name(p->type);

	if (n)
		return n;
	snprintf(buf, 8, "0x%02x", p->type);
	return buf;
}

const char *espimg_explain_subtype(const espimg_partition *p, char buf[8])
{
	const char *n = espimg_ptable_subtype_name(NULL, p->type, p->subtype);

	if (n)
		return n;
	snprintf(buf, 8, "0x%02x", p->subtype);
	return buf;
}

static const char *kind_name(espimg_image_kind k)
{
	return k == ESPIMG_KIND_APP ? "app" :
	       k == ESPIMG_KIND_BOOTLOADER ? "bootloader" : "unknown";
}

/* ------------------------------------------------------------ emit */

static void kv_str_or_null(espimg_emitter *e, const char *k, const char *v)
{
	espimg_emit_key(e, k);
	if (v && *v)
		espimg_emit_str(e, v);
	else
		espimg_emit_null(e);
}

static void emit_part(espimg_emitter *e, const espimg_flash_part *fp)
{
	const espimg_partition *p = fp->part;
	char tb[8], sb[8], h[65];

	espimg_emit_begin_map(e);
	espimg_emit_kv_str(e, "name", p->name);
	espimg_emit_kv_str(e, "type", espimg_explain_type(p, tb));
	espimg_emit_kv_uint(e, "type_id", p->type);
	espimg_emit_kv_str(e, "subtype", espimg_explain_subtype(p, sb));
	espimg_emit_kv_uint(e, "subtype_id", p->subtype);
	espimg_emit_kv_num_hex(e, "offset", p->offset);
	espimg_emit_kv_num_hex(e, "size", p->size);
	espimg_emit_kv_bool(e, "encrypted_flag",
			    (p->flags & ESPIMG_PFLAG_ENCRYPTED) != 0);
	espimg_emit_kv_bool(e, "app_slot", fp->app_slot);
	espimg_emit_key(e, "file_offset");
	if (fp->in_file)
		espimg_emit_uint(e, fp->file_offset);
	else
		espimg_emit_null(e);
	espimg_emit_kv_uint(e, "in_file", fp->in_file);
	espimg_emit_kv_str(e, "content", espimg_part_content_name(fp->content));
	espimg_emit_kv_num_hex(e, "used", fp->used);
	espimg_emit_key(e, "fits");
	if (fp->content == ESPIMG_PART_IMAGE)
		espimg_emit_bool(e, fp->fits);
	else
		espimg_emit_null(e);
	kv_str_or_null(e, "problem", fp->problem);

	espimg_emit_key(e, "app");
	if (fp->content == ESPIMG_PART_IMAGE) {
		espimg_emit_begin_map(e);
		kv_str_or_null(e, "project", fp->project);
		kv_str_or_null(e, "version", fp->version);
		kv_str_or_null(e, "idf_ver", fp->idf_ver);
		espimg_emit_kv_uint(e, "secure_version", fp->secure_version);
		espimg_emit_key(e, "chip");
		if (fp->image_chip)
			espimg_emit_str(e, fp->image_chip->key);
		else
			espimg_emit_null(e);
		espimg_emit_kv_str(e, "kind", kind_name(fp->kind));
		espimg_emit_kv_bool(e, "valid", fp->image_ok);
		espimg_emit_kv_bool(e, "chip_ok", fp->chip_ok);
		espimg_emit_kv_bool(e, "bootable", fp->bootable);
		espimg_emit_key(e, "sha256");
		if (fp->image_ok || fp->fits) {
			espimg_hex(h, fp->sha256, 32);
			espimg_emit_str(e, h);
		} else {
			espimg_emit_null(e);
		}
		espimg_emit_kv_uint(e, "signatures", fp->nsig);
		espimg_emit_end_map(e);
	} else {
		espimg_emit_null(e);
	}

	espimg_emit_key(e, "nvs");
	if (fp->content == ESPIMG_PART_NVS ||
	    (p->type == ESPIMG_PTYPE_DATA &&
	     p->subtype == ESPIMG_PSUB_DATA_NVS &&
	     fp->content == ESPIMG_PART_ERASED)) {
		espimg_emit_begin_map(e);
		espimg_emit_kv_uint(e, "active", fp->nvs_pages_active);
		espimg_emit_kv_uint(e, "full", fp->nvs_pages_full);
		espimg_emit_kv_uint(e, "freeing", fp->nvs_pages_freeing);
		espimg_emit_kv_uint(e, "erased", fp->nvs_pages_erased);
		espimg_emit_kv_uint(e, "corrupt", fp->nvs_pages_corrupt);
		espimg_emit_end_map(e);
	} else {
		espimg_emit_null(e);
	}

	espimg_emit_key(e, "otadata");
	if (fp->content == ESPIMG_PART_OTADATA) {
		espimg_emit_begin_map(e);
		espimg_emit_key(e, "active_entry");
		if (fp->ota_active_entry >= 0)
			espimg_emit_int(e, fp->ota_active_entry);
		else
			espimg_emit_null(e);
		espimg_emit_key(e, "entries");
		espimg_emit_begin_list(e);
		for (unsigned i = 0; i < 2; i++) {
			const char *st = espimg_otadata_state_name(fp->ota_state[i]);

			espimg_emit_begin_map(e);
			espimg_emit_kv_uint(e, "seq", fp->ota_seq[i]);
			espimg_emit_key(e, "state");
			if (st)
				espimg_emit_str(e, st);
			else
				espimg_emit_hex(e, fp->ota_state[i]);
			espimg_emit_kv_bool(e, "valid", fp->ota_valid[i]);
			espimg_emit_end_map(e);
		}
		espimg_emit_end_list(e);
		espimg_emit_end_map(e);
	} else {
		espimg_emit_null(e);
	}
	espimg_emit_end_map(e);
}

static void emit_boot(espimg_emitter *e, const espimg_flash_explain *x,
		      const char *k, int i)
{
	espimg_emit_key(e, k);
	if (i >= 0)
		espimg_emit_str(e, x->parts[i].part->name);
	else
		espimg_emit_null(e);
}

int espimg_flash_explain_emit(const espimg_flash_explain *x, const char *file,
			      espimg_emitter *e)
{
	const espimg_flash *f;
	int r;

	if (!x || !x->flash || !e)
		return ESPIMG_EINVAL;
	f = x->flash;
	espimg_emit_key(e, "file");
	if (file)
		espimg_emit_str(e, file);
	else
		espimg_emit_null(e);
	espimg_emit_kv_num_hex(e, "size", f->size);
	espimg_emit_key(e, "chip");
	if (f->chip)
		espimg_emit_str(e, f->chip->key);
	else
		espimg_emit_null(e);
	kv_str_or_null(e, "chip_name", f->chip ? f->chip->name : NULL);
	espimg_emit_kv_num_hex(e, "base_offset", f->base_offset);
	espimg_emit_key(e, "flash_size");
	if (x->flash_size)
		espimg_emit_uint(e, x->flash_size);
	else
		espimg_emit_null(e);

	espimg_emit_key(e, "bootloader");
	espimg_emit_begin_map(e);
	espimg_emit_kv_bool(e, "found", f->has_bootloader);
	espimg_emit_key(e, "offset");
	if (f->has_bootloader)
		espimg_emit_uint(e, f->bootloader_offset);
	else
		espimg_emit_null(e);
	espimg_emit_key(e, "offset_hex");
	if (f->has_bootloader)
		espimg_emit_hex(e, f->bootloader_offset);
	else
		espimg_emit_null(e);
	espimg_emit_key(e, "expected_offset");
	if (f->chip)
		espimg_emit_uint(e, f->chip->bootloader_offset);
	else
		espimg_emit_null(e);
	espimg_emit_key(e, "expected_offset_hex");
	if (f->chip)
		espimg_emit_hex(e, f->chip->bootloader_offset);
	else
		espimg_emit_null(e);
	espimg_emit_kv_bool(e, "offset_ok", f->bootloader_offset_ok);
	espimg_emit_key(e, "kind");
	if (f->has_bootloader)
		espimg_emit_str(e, kind_name(x->bootloader_kind));
	else
		espimg_emit_null(e);
	espimg_emit_kv_bool(e, "ok", x->bootloader_ok);
	espimg_emit_kv_bool(e, "runs", x->bootloader_runs);
	espimg_emit_kv_uint(e, "size", x->bootloader_size);
	kv_str_or_null(e, "version", x->bootloader_version);
	kv_str_or_null(e, "idf_ver", x->bootloader_idf_ver);
	kv_str_or_null(e, "problem", x->bootloader_problem);
	espimg_emit_end_map(e);

	espimg_emit_key(e, "partition_table");
	if (f->table) {
		espimg_emit_begin_map(e);
		espimg_emit_kv_num_hex(e, "offset", f->table_offset);
		espimg_emit_kv_bool(e, "scanned", f->table_scanned);
		espimg_emit_kv_uint(e, "count", f->table->count);
		espimg_emit_kv_bool(e, "md5", f->table->has_md5);
		espimg_emit_end_map(e);
	} else {
		espimg_emit_null(e);
	}

	espimg_emit_key(e, "partitions");
	espimg_emit_begin_list(e);
	for (size_t i = 0; i < x->nparts; i++)
		emit_part(e, &x->parts[i]);
	espimg_emit_end_list(e);

	emit_boot(e, x, "boot", x->boot);
	emit_boot(e, x, "boot_rollback", x->boot_rollback);
	espimg_emit_kv_str(e, "boot_reason", x->boot_reason);
	espimg_emit_kv_str(e, "boot_rollback_reason", x->boot_rollback_reason);
	r = espimg_emit_kv_bool(e, "boots", x->boots);
	return r < 0 ? r : ESPIMG_OK;
}

/* ------------------------------------------------------------ text */

#define MAP_COLS 64

static void put_escaped(espimg_buf *b, const char *s)
{
	espimg_buf_escaped(b, s, strlen(s));
}

/* s escaped, then spaces up to width columns (bytes). */
static void put_padded(espimg_buf *b, const char *s, size_t width)
{
	size_t before = b->len;

	put_escaped(b, s);
	for (size_t n = b->len - before; n < width; n++)
		espimg_buf_append(b, " ", 1);
}

/* Columns [c0, c1) of the map covering [a, e) of map_size bytes: at least
 * one column for a non-empty range. */
static void cols(uint64_t a, uint64_t e, uint64_t map, unsigned *c0,
		 unsigned *c1)
{
	uint64_t s = a >= map ? MAP_COLS - 1 : a * MAP_COLS / map;
	uint64_t t = e >= map ? MAP_COLS : (e * MAP_COLS + map - 1) / map;

	if (t <= s)
		t = s + 1;
	*c0 = (unsigned)s;
	*c1 = (unsigned)(t > MAP_COLS ? MAP_COLS : t);
}

static void paint(char *bar, uint64_t a, uint64_t e, uint64_t map, char ch)
{
	unsigned c0, c1;

	if (e <= a)
		return;
	cols(a, e, map, &c0, &c1);
	for (unsigned i = c0; i < c1; i++)
		bar[i] = ch;
}

static char content_char(espimg_part_content c)
{
	switch (c) {
	case ESPIMG_PART_IMAGE:
		return '#';
	case ESPIMG_PART_ENCRYPTED:
		return '~';
	case ESPIMG_PART_ERASED:
	case ESPIMG_PART_OUTSIDE:
		return '.';
	default:
		return '=';
	}
}

static void map_row(espimg_buf *b, const char *name, const char *bar,
		    const char *mark)
{
	espimg_buf_printf(b, "  ");
	put_padded(b, name, 17);
	espimg_buf_printf(b, "|%.*s|%s%s\n", MAP_COLS, bar, *mark ? " " : "",
			  mark);
}

static void part_bar(const espimg_flash_part *fp, uint64_t map, char *bar)
{
	const espimg_partition *p = fp->part;
	uint64_t a = p->offset, end = a + p->size;
	uint64_t used = fp->used < fp->in_file ? fp->used : fp->in_file;

	if (fp->content == ESPIMG_PART_IMAGE && fp->used > used)
		used = fp->used; /* an image longer than its partition */
	memset(bar, ' ', MAP_COLS);
	paint(bar, a + fp->in_file, end, map, '?');
	paint(bar, a, a + fp->in_file, map, '.');
	if (fp->content != ESPIMG_PART_ERASED)
		paint(bar, a, a + (used < p->size ? used : p->size), map,
		      content_char(fp->content));
}

static void content_words(espimg_buf *b, const espimg_flash_explain *x,
			  const espimg_flash_part *fp)
{
	const espimg_partition *p = fp->part;
	char u[32], s[32];

	switch (fp->content) {
	case ESPIMG_PART_OUTSIDE:
		espimg_buf_printf(b, "not in the file");
		return;
	case ESPIMG_PART_ERASED:
		espimg_buf_printf(b, "erased");
		break;
	case ESPIMG_PART_IMAGE:
		espimg_buf_printf(b, "%s%s", fp->image_chip && !fp->chip_ok
						     ? fp->image_chip->name : "",
				  fp->image_chip && !fp->chip_ok ? " " : "");
		espimg_buf_printf(b, "%s", fp->kind == ESPIMG_KIND_BOOTLOADER
						   ? "bootloader"
						   : "app");
		if (fp->project[0]) {
			espimg_buf_printf(b, " ");
			put_escaped(b, fp->project);
		}
		if (fp->version[0]) {
			espimg_buf_printf(b, " ");
			put_escaped(b, fp->version);
		}
		if (fp->idf_ver[0]) {
			espimg_buf_printf(b, " (ESP-IDF ");
			put_escaped(b, fp->idf_ver);
			espimg_buf_printf(b, ")");
		}
		if (fp->secure_version)
			espimg_buf_printf(b, ", secure_version %" PRIu32,
					  fp->secure_version);
		if (fp->nsig)
			espimg_buf_printf(b, ", %u signature%s", fp->nsig,
					  fp->nsig == 1 ? "" : "s");
		if (fp->used) {
			espimg_size_words(u, fp->used);
			espimg_buf_printf(b, ", %s", u);
			if (fp->fits)
				espimg_buf_printf(b, " (%" PRIu64 "%% of the slot)",
						  fp->used * 100 / p->size);
		}
		espimg_buf_printf(b, fp->image_ok ? ", SHA-256 ok" : ", invalid");
		break;
	case ESPIMG_PART_OTADATA:
		if (fp->ota_active_entry >= 0) {
			int a = fp->ota_active_entry;
			char sb[16];

			espimg_buf_printf(b, "otadata: entry %d active (seq %" PRIu32
					     ", %s)",
					  a, fp->ota_seq[a],
					  state_text(fp->ota_state[a], sb));
		} else {
			espimg_buf_printf(b, "otadata: %s", fp->used
						   ? "no valid entry"
						   : "erased");
		}
		break;
	case ESPIMG_PART_NVS:
		espimg_buf_printf(b, "NVS: %u active, %u full", fp->nvs_pages_active,
				  fp->nvs_pages_full);
		if (fp->nvs_pages_freeing)
			espimg_buf_printf(b, ", %u freeing", fp->nvs_pages_freeing);
		espimg_buf_printf(b, ", %u erased", fp->nvs_pages_erased);
		if (fp->nvs_pages_corrupt)
			espimg_buf_printf(b, ", %u corrupt", fp->nvs_pages_corrupt);
		espimg_buf_printf(b, " page%s",
				  fp->in_file / NVS_PAGE == 1 ? "" : "s");
		break;
	case ESPIMG_PART_ENCRYPTED:
		espimg_buf_printf(b, "looks encrypted");
		break;
	case ESPIMG_PART_DATA:
	case ESPIMG_PART_UNKNOWN:
		espimg_size_words(u, fp->used);
		espimg_buf_printf(b, "data, written up to %s", u);
		break;
	}
	if (fp->in_file < p->size &&
	    !(fp->content == ESPIMG_PART_IMAGE && fp->image_ok)) {
		espimg_size_words(s, fp->in_file);
		espimg_buf_printf(b, " (only %s in the file)", s);
	}
	if (fp->app_slot)
		espimg_buf_printf(b, fp->bootable ? ": bootable"
						  : ": not bootable");
	if (fp->problem[0] && fp->content != ESPIMG_PART_ERASED &&
	    fp->content != ESPIMG_PART_OUTSIDE) {
		espimg_buf_printf(b, " (");
		put_escaped(b, fp->problem);
		espimg_buf_printf(b, ")");
	}
	(void)x;
}

static const char *boot_name(const espimg_flash_explain *x, int i)
{
	return i >= 0 ? x->parts[i].part->name : "nothing";
}

int espimg_flash_explain_text(const espimg_flash_explain *x, const char *file,
			      char **text, size_t *len)
{
	const espimg_flash *f;
	espimg_buf b = { 0 };
	char s1[32], s2[32], tb[8], sb[8], bar[MAP_COLS];
	uint64_t map;

	if (text)
		*text = NULL;
	if (len)
		*len = 0;
	if (!x || !x->flash || !text)
		return ESPIMG_EINVAL;
	f = x->flash;
	map = espimg_explain_map_size(x);

	put_escaped(&b, file ? file : "flash");
	espimg_size_words(s1, f->size);
	espimg_buf_printf(&b, ": %s flash image, %s (0x%" PRIx64 " bytes)",
			  f->chip ? f->chip->name : "unknown-chip", s1, f->size);
	if (x->flash_size) {
		espimg_size_words(s2, x->flash_size);
		espimg_buf_printf(&b, " of %s flash", s2);
	}
	if (x->boots) {
		espimg_buf_printf(&b, ": boots ");
		put_escaped(&b, x->parts[x->boot].part->name);
		espimg_buf_printf(&b, "\n");
	} else {
		espimg_buf_printf(&b, ": does not boot (%s)\n",
				  espimg_explain_no_boot(x));
	}
	if (f->base_offset)
		espimg_buf_printf(&b, "  starts at flash 0x%" PRIx64
				      " (esptool merge-bin --target-offset): "
				      "write it there\n",
				  f->base_offset);

	espimg_buf_printf(&b, "  bootloader   ");
	if (!f->has_bootloader) {
		espimg_buf_printf(&b, "none (no image header at 0x0, 0x1000 or "
				      "0x2000)\n");
	} else {
		espimg_buf_printf(&b, "0x%" PRIx64 ": %s %s", f->bootloader_offset,
				  chip_name(f->chip),
				  x->bootloader_kind == ESPIMG_KIND_APP
					  ? "app image"
					  : "bootloader");
		if (x->bootloader_version[0]) {
			espimg_buf_printf(&b, " v");
			put_escaped(&b, x->bootloader_version);
		}
		if (x->bootloader_idf_ver[0]) {
			espimg_buf_printf(&b, " (ESP-IDF ");
			put_escaped(&b, x->bootloader_idf_ver);
			espimg_buf_printf(&b, ")");
		}
		if (x->bootloader_ok) {
			espimg_buf_printf(&b, ", ok");
		} else {
			espimg_buf_printf(&b, ", FAILS: ");
			put_escaped(&b, x->bootloader_problem);
		}
		espimg_buf_printf(&b, "\n");
		if (!f->bootloader_offset_ok && f->chip)
			espimg_buf_printf(&b, "               %s: the %s ROM loads "
					      "the bootloader from 0x%" PRIx32
					      "\n",
					  f->base_offset
						  ? "placed for the start flash "
						    "offset above"
						  : "WRONG OFFSET",
					  f->chip->name,
					  f->chip->bootloader_offset);
	}
	espimg_buf_printf(&b, "  table        ");
	if (f->table)
		espimg_buf_printf(&b, "0x%" PRIx64 ": %zu partition%s%s\n",
				  f->table_offset, f->table->count,
				  f->table->count == 1 ? "" : "s",
				  f->table_scanned ? " (found by a scan, not at "
						     "the expected offset)"
						   : "");
	else
		espimg_buf_printf(&b, "none\n");
	espimg_buf_printf(&b, "  loads        ");
	put_escaped(&b, boot_name(x, x->boot));
	espimg_buf_printf(&b, ": ");
	put_escaped(&b, x->boot_reason);
	espimg_buf_printf(&b, "\n  rollback on  ");
	put_escaped(&b, boot_name(x, x->boot_rollback));
	espimg_buf_printf(&b, ": ");
	put_escaped(&b, x->boot_rollback_reason);
	espimg_buf_printf(&b, "\n");

	if (x->nparts) {
		espimg_buf_printf(&b, "\n  %-17s%-6s%-10s%-11s%-10s%s\n", "name",
				  "type", "subtype", "offset", "size",
				  "content");
		for (size_t i = 0; i < x->nparts; i++) {
			const espimg_flash_part *fp = &x->parts[i];
			const espimg_partition *p = fp->part;
			char off[16];

			espimg_buf_printf(&b, "  ");
			put_padded(&b, p->name, 17);
			snprintf(off, sizeof(off), "0x%" PRIx32, p->offset);
			espimg_size_words(s1, p->size);
			espimg_buf_printf(&b, "%-6s%-10s%-11s%-10s",
					  espimg_explain_type(p, tb),
					  espimg_explain_subtype(p, sb), off, s1);
			content_words(&b, x, fp);
			if ((int)i == x->boot)
				espimg_buf_printf(&b, "  <- boots");
			else if ((int)i == x->boot_rollback)
				espimg_buf_printf(&b, "  <- boots with rollback");
			espimg_buf_printf(&b, "\n");
		}
	}

	espimg_size_words(s1, map);
	espimg_size_words(s2, map / MAP_COLS);
	espimg_buf_printf(&b, "\n  flash map: %d columns for %s, %s each; # image, "
			      "= data, . erased or free, ~ encrypted, ? not in "
			      "the file\n",
			  MAP_COLS, s1, s2);
	if (f->has_bootloader) {
		uint64_t a = f->bootloader_offset + f->base_offset;
		uint64_t n = x->bootloader_size ? x->bootloader_size : 1;

		memset(bar, ' ', MAP_COLS);
		paint(bar, a, a + n, map, '#');
		map_row(&b, "bootloader", bar, "");
	}
	if (f->table) {
		uint64_t a = f->table_offset + f->base_offset;

		memset(bar, ' ', MAP_COLS);
		paint(bar, a, a + ESPIMG_PTABLE_BIN_SIZE, map, '=');
		map_row(&b, "partition table", bar, "");
	}
	for (size_t i = 0; i < x->nparts; i++) {
		part_bar(&x->parts[i], map, bar);
		map_row(&b, x->parts[i].part->name, bar,
			(int)i == x->boot ? "<- boots" :
			(int)i == x->boot_rollback ? "<- boots with rollback"
						    : "");
	}

	*text = espimg_buf_finish(&b, len);
	return *text ? ESPIMG_OK : ESPIMG_ENOMEM;
}
