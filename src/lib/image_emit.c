/*
 * image_emit.c - one image as a map of the espimg.image/1 document (the
 * JSON/YAML/text output of esp-imginfo; keys listed in esp-imginfo(1)).
 *
 * Numbers go out as numbers with a "_hex" string beside the ones people
 * read in hex; byte strings (digests) as lowercase hex; descriptor text
 * fields as the C string the device sees (up to the first NUL).  The
 * emitter replaces ill-formed UTF-8 with U+FFFD, so a descriptor with stray
 * bytes still gives valid JSON and YAML (the image.desc_utf8 error says
 * which field it was).
 *
 * Offsets: the image's "offset" and the diagnostics' offsets are absolute
 * positions in the input; every other *_offset is relative to the image
 * start, as esptool prints them.
 */
#include <stdio.h>
#include <string.h>

#include "espimg/image.h"
#include "internal.h"

/* Errors are sticky in the emitter: the status of the last call tells
 * whether everything before it went out. */

static void emit_opt_str(espimg_emitter *e, const char *key, const char *s)
{
	espimg_emit_key(e, key);
	if (s)
		espimg_emit_str(e, s);
	else
		espimg_emit_null(e);
}

/* Lowercase hex of n bytes (at most 64). */
static void emit_bytes_hex(espimg_emitter *e, const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];

	if (n > 64)
		n = 64;
	espimg_hex(buf, p, n);
	espimg_emit_strn(e, buf, 2 * n);
}

/* A fixed-width descriptor text field as a C string. */
static void emit_desc_text(espimg_emitter *e, const char *key,
			   const uint8_t *field, size_t size)
{
	char buf[64];
	size_t n = espimg_desc_text(field, size, ESPIMG_DESC_CSTRING, buf,
				    sizeof(buf));

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	espimg_emit_key(e, key);
	espimg_emit_strn(e, buf, n);
}

/* "v3.5" for chip revisions; eFuse block revisions print without the
 * "v", as esptool shows them ("0.0"). */
static void emit_rev(espimg_emitter *e, const char *key, unsigned rev,
		     int with_v)
{
	char buf[16];

	espimg_rev_text(rev, buf);
	espimg_emit_kv_str(e, key, with_v || buf[0] != 'v' ? buf : buf + 1);
}

static int has_code(const espimg_diag_list *diags, const char *code)
{
	size_t n = espimg_diag_count(diags);

	for (size_t i = 0; i < n; i++) {
		const espimg_diag *d = espimg_diag_get(diags, i);
		if (d->severity == ESPIMG_SEV_ERROR && !strcmp(d->code, code))
			return 1;
	}
	return 0;
}

static int has_code_prefix(const espimg_diag_list *diags, const char *prefix)
{
	size_t n = espimg_diag_count(diags), len = strlen(prefix);

	for (size_t i = 0; i < n; i++) {
		const espimg_diag *d = espimg_diag_get(diags, i);
		if (d->severity == ESPIMG_SEV_ERROR &&
		    !strncmp(d->code, prefix, len))
			return 1;
	}
	return 0;
}

/* Shared with image_text.c (internal.h). */
const char *espimg_image_status(const espimg_image *img,
				const espimg_diag_list *diags)
{
	if (!img) {
		if (has_code_prefix(diags, "io."))
			return "unreadable";
		/* A HEX run that holds something else (a partition table)
		 * carries only a note. */
		return espimg_diag_errors(diags) ? "invalid" : "not-an-image";
	}
	if (has_code(diags, "image.esp8266"))
		return "unsupported";
	if (espimg_diag_errors(diags))
		return "invalid";
	return "ok";
}

static void emit_diags(espimg_emitter *e, const char *key,
		       const espimg_diag_list *diags, espimg_severity sev)
{
	size_t n = espimg_diag_count(diags);

	espimg_emit_key(e, key);
	espimg_emit_begin_list(e);
	for (size_t i = 0; i < n; i++) {
		const espimg_diag *d = espimg_diag_get(diags, i);

		if (d->severity != sev)
			continue;
		espimg_emit_begin_map(e);
		espimg_emit_kv_str(e, "code", d->code);
		if (d->offset >= 0) {
			espimg_emit_kv_num_hex(e, "offset",
					       (uint64_t)d->offset);
		} else {
			espimg_emit_key(e, "offset");
			espimg_emit_null(e);
			espimg_emit_key(e, "offset_hex");
			espimg_emit_null(e);
		}
		espimg_emit_kv_str(e, "message", d->message);
		espimg_emit_end_map(e);
	}
	espimg_emit_end_list(e);
}

static void emit_chip(espimg_emitter *e, const espimg_image *img)
{
	const espimg_chip *c = img->chip;

	espimg_emit_key(e, "chip");
	if (!c) {
		espimg_emit_null(e);
		return;
	}
	espimg_emit_begin_map(e);
	espimg_emit_kv_str(e, "key", c->key);
	espimg_emit_kv_str(e, "name", c->name);
	espimg_emit_kv_num_hex(e, "id", c->image_id);
	espimg_emit_kv_bool(e, "forced", img->chip_forced);
	espimg_emit_end_map(e);
}

static void emit_header(espimg_emitter *e, const espimg_image *img)
{
	unsigned size_code = img->flash_size_freq >> 4;
	unsigned freq_code = img->flash_size_freq & 0xF;
	uint64_t size_bytes = espimg_flash_size_bytes(size_code);

	espimg_emit_key(e, "header");
	if (img->stage < ESPIMG_STAGE_HEADER) {
		espimg_emit_null(e);
		return;
	}
	espimg_emit_begin_map(e);
	espimg_emit_kv_hex(e, "magic_hex", img->magic);
	espimg_emit_kv_uint(e, "segment_count", img->segment_count);
	espimg_emit_kv_uint(e, "flash_mode", img->flash_mode);
	emit_opt_str(e, "flash_mode_name", espimg_flash_mode_name(img->flash_mode));
	espimg_emit_kv_uint(e, "flash_size_code", size_code);
	emit_opt_str(e, "flash_size", espimg_flash_size_name(size_code));
	espimg_emit_key(e, "flash_size_bytes");
	if (size_bytes)
		espimg_emit_uint(e, size_bytes);
	else
		espimg_emit_null(e);
	espimg_emit_kv_uint(e, "flash_freq_code", freq_code);
	emit_opt_str(e, "flash_freq",
		     img->chip ? espimg_chip_flash_freq_name(img->chip, freq_code)
			       : NULL);
	espimg_emit_kv_num_hex(e, "entry_point", img->entry_addr);
	espimg_emit_end_map(e);
}

static void emit_ext_header(espimg_emitter *e, const espimg_image *img)
{
	espimg_emit_key(e, "extended_header");
	if (img->stage < ESPIMG_STAGE_HEADER) {
		espimg_emit_null(e);
		return;
	}
	espimg_emit_begin_map(e);
	espimg_emit_kv_num_hex(e, "wp_pin", img->wp_pin);
	espimg_emit_kv_bool(e, "wp_pin_disabled",
			    img->wp_pin == ESPIMG_IMAGE_WP_PIN_DISABLED);
	espimg_emit_key(e, "drive");
	espimg_emit_begin_map(e);
	espimg_emit_kv_uint(e, "clk", img->clk_drv);
	espimg_emit_kv_uint(e, "q", img->q_drv);
	espimg_emit_kv_uint(e, "d", img->d_drv);
	espimg_emit_kv_uint(e, "cs0", img->cs0_drv);
	espimg_emit_kv_uint(e, "hd", img->hd_drv);
	espimg_emit_kv_uint(e, "wp", img->wp_drv);
	espimg_emit_end_map(e);
	espimg_emit_kv_uint(e, "chip_id", img->chip_id);
	espimg_emit_kv_uint(e, "min_chip_rev_legacy", img->min_rev);
	espimg_emit_kv_uint(e, "min_chip_rev_full", img->min_rev_full);
	emit_rev(e, "min_chip_rev", img->min_rev_full, 1);
	espimg_emit_kv_uint(e, "max_chip_rev_full", img->max_rev_full);
	emit_rev(e, "max_chip_rev", img->max_rev_full, 1);
	espimg_emit_key(e, "reserved_hex");
	emit_bytes_hex(e, img->reserved, sizeof(img->reserved));
	espimg_emit_kv_uint(e, "hash_appended", img->hash_appended);
	espimg_emit_end_map(e);
}

static void emit_segments(espimg_emitter *e, const espimg_image *img)
{
	espimg_emit_key(e, "segments");
	espimg_emit_begin_list(e);
	for (size_t i = 0; i < img->nsegments; i++) {
		const espimg_image_segment *s = &img->segments[i];
		size_t nt = s->mem_type_count;

		if (nt > ESPIMG_ARRAY_SIZE(s->mem_types))
			nt = ESPIMG_ARRAY_SIZE(s->mem_types);
		espimg_emit_begin_map(e);
		espimg_emit_kv_uint(e, "index", i);
		espimg_emit_kv_num_hex(e, "load_addr", s->load_addr);
		espimg_emit_kv_num_hex(e, "length", s->length);
		espimg_emit_kv_uint(e, "header_offset", s->header_offset);
		espimg_emit_kv_num_hex(e, "data_offset", s->data_offset);
		espimg_emit_key(e, "memory_types");
		espimg_emit_begin_list(e);
		for (size_t t = 0; t < nt; t++)
			espimg_emit_str(e, s->mem_types[t]);
		espimg_emit_end_list(e);
		espimg_emit_end_map(e);
	}
	espimg_emit_end_list(e);
}

static void emit_footer(espimg_emitter *e, const espimg_image *img)
{
	int have = img->stage >= ESPIMG_STAGE_CHECKSUM;

	espimg_emit_key(e, "checksum");
	if (!have) {
		espimg_emit_null(e);
	} else {
		espimg_emit_begin_map(e);
		espimg_emit_kv_uint(e, "offset", img->checksum_offset);
		espimg_emit_kv_num_hex(e, "stored", img->checksum_stored);
		espimg_emit_kv_num_hex(e, "computed", img->checksum_computed);
		espimg_emit_kv_bool(e, "valid", img->checksum_ok);
		espimg_emit_end_map(e);
	}

	espimg_emit_key(e, "sha256");
	if (!have || !img->has_sha256) {
		espimg_emit_null(e);
		return;
	}
	espimg_emit_begin_map(e);
	espimg_emit_kv_uint(e, "offset", img->sha256_offset);
	espimg_emit_key(e, "stored");
	if (img->sha256_stored_len == sizeof(img->sha256_stored))
		emit_bytes_hex(e, img->sha256_stored, sizeof(img->sha256_stored));
	else
		espimg_emit_null(e);
	espimg_emit_key(e, "computed");
	emit_bytes_hex(e, img->sha256_computed, sizeof(img->sha256_computed));
	espimg_emit_kv_bool(e, "valid", img->sha256_ok);
	espimg_emit_end_map(e);
}

static void emit_app_desc(espimg_emitter *e, const espimg_image *img)
{
	const espimg_app_desc *a = &img->app_desc;

	espimg_emit_key(e, "app_desc");
	if (!img->has_app_desc) {
		espimg_emit_null(e);
		return;
	}
	espimg_emit_begin_map(e);
	espimg_emit_kv_uint(e, "offset", a->offset);
	espimg_emit_kv_uint(e, "segment", a->segment);
	emit_desc_text(e, "project_name", a->project_name,
		       sizeof(a->project_name));
	emit_desc_text(e, "version", a->version, sizeof(a->version));
	emit_desc_text(e, "idf_ver", a->idf_ver, sizeof(a->idf_ver));
	emit_desc_text(e, "date", a->date, sizeof(a->date));
	emit_desc_text(e, "time", a->time, sizeof(a->time));
	espimg_emit_kv_uint(e, "secure_version", a->secure_version);
	espimg_emit_key(e, "app_elf_sha256");
	emit_bytes_hex(e, a->app_elf_sha256, sizeof(a->app_elf_sha256));
	espimg_emit_kv_uint(e, "min_efuse_blk_rev_full",
			    a->min_efuse_blk_rev_full);
	emit_rev(e, "min_efuse_blk_rev", a->min_efuse_blk_rev_full, 0);
	espimg_emit_kv_uint(e, "max_efuse_blk_rev_full",
			    a->max_efuse_blk_rev_full);
	emit_rev(e, "max_efuse_blk_rev", a->max_efuse_blk_rev_full, 0);
	espimg_emit_key(e, "mmu_page_size");
	/* log2 of the page size; 0 = not recorded (older ESP-IDF). A
	 * corrupt value of 64 or more is shown as null rather than shifted
	 * out of range. */
	if (a->mmu_page_size_log2 && a->mmu_page_size_log2 < 64)
		espimg_emit_uint(e, (uint64_t)1 << a->mmu_page_size_log2);
	else
		espimg_emit_null(e);
	espimg_emit_end_map(e);
}

static void emit_boot_desc(espimg_emitter *e, const espimg_image *img)
{
	const espimg_boot_desc *b = &img->boot_desc;

	espimg_emit_key(e, "bootloader_desc");
	if (!img->has_boot_desc) {
		espimg_emit_null(e);
		return;
	}
	espimg_emit_begin_map(e);
	espimg_emit_kv_uint(e, "offset", b->offset);
	espimg_emit_kv_uint(e, "segment", b->segment);
	espimg_emit_kv_uint(e, "version", b->version);
	espimg_emit_kv_uint(e, "secure_version", b->secure_version);
	emit_desc_text(e, "idf_ver", b->idf_ver, sizeof(b->idf_ver));
	emit_desc_text(e, "date_time", b->date_time, sizeof(b->date_time));
	espimg_emit_end_map(e);
}

static void emit_signatures(espimg_emitter *e, const espimg_image *img)
{
	size_t n = img->nsig;

	if (n > ESPIMG_ARRAY_SIZE(img->sig))
		n = ESPIMG_ARRAY_SIZE(img->sig);
	espimg_emit_key(e, "signatures");
	espimg_emit_begin_map(e);
	espimg_emit_key(e, "scheme");
	if (n) {
		espimg_emit_str(e, "v2");
		espimg_emit_kv_uint(e, "sector_offset", img->sig_sector_offset);
	} else if (img->has_sig_v1) {
		espimg_emit_str(e, "v1");
		espimg_emit_kv_uint(e, "sector_offset", img->sig_v1_offset);
	} else {
		espimg_emit_null(e);
		espimg_emit_key(e, "sector_offset");
		espimg_emit_null(e);
	}
	espimg_emit_key(e, "blocks");
	espimg_emit_begin_list(e);
	for (size_t i = 0; i < n; i++) {
		const espimg_sigblock *b = &img->sig[i];
		size_t dl = b->image_digest_len;

		if (dl > sizeof(b->image_digest))
			dl = sizeof(b->image_digest);
		espimg_emit_begin_map(e);
		espimg_emit_kv_uint(e, "index", b->index);
		/* Blocks carry source offsets; shown relative to the image
		 * like every offset inside it. */
		espimg_emit_kv_uint(e, "offset", b->offset >= img->offset
							 ? b->offset - img->offset
							 : b->offset);
		espimg_emit_kv_str(e, "type", espimg_sig_type_name(b->type));
		espimg_emit_kv_uint(e, "version", b->version);
		espimg_emit_kv_bool(e, "crc_ok", b->crc_ok);
		espimg_emit_kv_bool(e, "valid", b->valid);
		espimg_emit_key(e, "image_digest");
		emit_bytes_hex(e, b->image_digest, dl);
		espimg_emit_key(e, "key_digest");
		if (b->key_digest_ok)
			emit_bytes_hex(e, b->key_digest, sizeof(b->key_digest));
		else
			espimg_emit_null(e);
		espimg_emit_end_map(e);
	}
	if (!n && img->has_sig_v1) {
		/* Secure Boot v1: a version word and a raw P-256 signature;
		 * nothing to check without the key. */
		espimg_emit_begin_map(e);
		espimg_emit_kv_uint(e, "index", 0);
		espimg_emit_kv_uint(e, "offset", img->sig_v1_offset);
		espimg_emit_kv_str(e, "type",
				   espimg_sig_type_name(ESPIMG_SIG_ECDSA_P256));
		espimg_emit_kv_uint(e, "version", img->sig_v1_version);
		espimg_emit_key(e, "crc_ok");
		espimg_emit_null(e);
		espimg_emit_kv_bool(e, "valid", img->sig_v1_version == 0);
		espimg_emit_key(e, "image_digest");
		espimg_emit_null(e);
		espimg_emit_key(e, "key_digest");
		espimg_emit_null(e);
		espimg_emit_end_map(e);
	}
	espimg_emit_end_list(e);
	espimg_emit_end_map(e);
}

static const char *kind_name(espimg_image_kind k)
{
	switch (k) {
	case ESPIMG_KIND_APP:
		return "app";
	case ESPIMG_KIND_BOOTLOADER:
		return "bootloader";
	default:
		return "unknown";
	}
}

int espimg_image_emit_run(const espimg_image *img, const char *file,
			  int64_t address, const espimg_diag_list *diags,
			  espimg_emitter *e)
{
	if (!e)
		return ESPIMG_EINVAL;
	espimg_emit_begin_map(e);
	emit_opt_str(e, "file", file);
	if (img) {
		espimg_emit_kv_num_hex(e, "offset", img->offset);
	} else {
		espimg_emit_key(e, "offset");
		espimg_emit_null(e);
		espimg_emit_key(e, "offset_hex");
		espimg_emit_null(e);
	}
	espimg_emit_key(e, "address");
	if (address >= 0)
		espimg_emit_uint(e, (uint64_t)address);
	else
		espimg_emit_null(e);
	espimg_emit_kv_str(e, "status", espimg_image_status(img, diags));
	if (img) {
		emit_chip(e, img);
		espimg_emit_kv_str(e, "kind", kind_name(img->kind));
	} else {
		espimg_emit_key(e, "chip");
		espimg_emit_null(e);
		espimg_emit_kv_str(e, "kind", kind_name(ESPIMG_KIND_UNKNOWN));
	}
	if (img && img->stage >= ESPIMG_STAGE_CHECKSUM) {
		espimg_emit_kv_num_hex(e, "image_size", img->image_size);
	} else {
		espimg_emit_key(e, "image_size");
		espimg_emit_null(e);
		espimg_emit_key(e, "image_size_hex");
		espimg_emit_null(e);
	}
	if (img) {
		emit_header(e, img);
		emit_ext_header(e, img);
		emit_segments(e, img);
		emit_footer(e, img);
		emit_app_desc(e, img);
		emit_boot_desc(e, img);
		emit_signatures(e, img);
	} else {
		/* Nothing was read: the same keys, empty. */
		static const char *const none[] = {
			"header", "extended_header", "segments", "checksum",
			"sha256", "app_desc", "bootloader_desc", "signatures",
		};
		for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(none); i++) {
			espimg_emit_key(e, none[i]);
			if (!strcmp(none[i], "segments")) {
				espimg_emit_begin_list(e);
				espimg_emit_end_list(e);
			} else {
				espimg_emit_null(e);
			}
		}
	}
	emit_diags(e, "errors", diags, ESPIMG_SEV_ERROR);
	emit_diags(e, "warnings", diags, ESPIMG_SEV_WARNING);
	emit_diags(e, "notes", diags, ESPIMG_SEV_NOTE);
	return espimg_emit_end_map(e);
}

int espimg_image_emit(const espimg_image *img, const char *file,
		      const espimg_diag_list *diags, espimg_emitter *e)
{
	return espimg_image_emit_run(img, file, -1, diags, e);
}
