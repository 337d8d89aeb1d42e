/*
 * merge.c - esptool merge-bin: parts at flash addresses written as one raw,
 * Intel HEX or UF2 file, with the bootloader's flash parameters patched.
 *
 * Sources (facts only): esptool 5.3.1 esptool/cmds.py (merge_bin,
 * _update_image_flash_params), esptool/uf2_writer.py, esptool/cli_util.py
 * (AddrFilenamePairAction: the overlap rule), the intelhex 2.3.0 package
 * (IntelHex.write_hex_file, the HEX writer esptool calls);
 * ../shared/docs/images.md sections 16 and 22.
 *
 * Everything streams through the write callback: raw gaps and padding come
 * from a small fill buffer, HEX lines and UF2 blocks are formatted a few KiB
 * at a time. The only copy is of the part whose header gets patched.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "espimg/merge.h"
#include "internal.h"

/* esptool loader.py ESPLoader.FLASH_SECTOR_SIZE: the overlap check works on
 * whole sectors (cli_util.py AddrFilenamePairAction). */
#define SECTOR 0x1000u

/* esptool cmds.py FLASH_MODES: qio 0, qout 1, dio 2, dout 3. */
#define MODE_MAX 3

/* Header bytes (ESP-IDF esp_app_format.h esp_image_header_t). */
#define HDR_MODE 2
#define HDR_SIZE_FREQ 3

/* esptool uf2_writer.py UF2Writer. */
#define UF2_BLOCK 512u
#define UF2_DATA 476u
#define UF2_MD5_PART 24u
#define UF2_MAGIC0 0x0A324655u
#define UF2_MAGIC1 0x9E5D5157u
#define UF2_MAGIC_END 0x0AB16F30u
#define UF2_FLAG_FAMILY 0x00002000u
#define UF2_FLAG_MD5 0x00004000u

/* intelhex write_hex_file(byte_count=16). */
#define HEX_BYTES 16u

/* Output chunk for fill bytes and HEX text. */
#define OUT_CHUNK 16384u

static const char *part_name(const espimg_merge_part *p)
{
	return p->name ? p->name : "data";
}

static int params_valid(const espimg_flash_params *p)
{
	return p->mode >= -1 && p->mode <= MODE_MAX && p->size >= -1 &&
	       p->size <= 15 && p->freq >= -1 && p->freq <= 15;
}

static int params_keep(const espimg_flash_params *p)
{
	return p->mode < 0 && p->size < 0 && p->freq < 0;
}

/* ------------------------------------------------------------ patching */

/* What a patch changes, decided on the unpatched bytes. */
struct patch_plan {
	uint8_t mode, size_freq;
	bool sha;
	uint64_t sha_from;    /* the digest's offset = checksum offset + 1 */
};

static void not_image(espimg_diag_list *diags, const char *name,
		      uint64_t address, const espimg_chip *chip,
		      const char *why)
{
	espimg_diag_add(diags, ESPIMG_SEV_WARNING, "merge.not_image", name, 0,
			0, 0,
			"the data at 0x%" PRIx64 " is not a valid %s image (%s); flash parameters left unchanged",
			address, chip->name, why);
}

/*
 * esptool _update_image_flash_params, the decision: 1 (patch as *pl
 * says), 0 (leave alone; a warning when the data is not an image of the
 * chip) or a negative code.
 */
static int patch_plan(const uint8_t *buf, size_t len, uint64_t address,
		      const espimg_chip *chip, const espimg_flash_params *p,
		      const char *name, espimg_diag_list *diags,
		      struct patch_plan *pl)
{
	espimg_image_opts io = { 0 };
	espimg_diag_list *local;
	espimg_image *img = NULL;
	espimg_source src;
	int rc;

	/* esptool leaves data shorter than the common header alone without
	 * a word. */
	if (address != chip->bootloader_offset || params_keep(p) || len < 8)
		return 0;
	if (buf[0] != ESPIMG_IMAGE_MAGIC) {
		char why[48];

		snprintf(why, sizeof(why), "the first byte is 0x%02x, not 0xe9",
			 buf[0]);
		not_image(diags, name, address, chip, why);
		return 0;
	}

	/* A bounded parse: the image reader streams over the buffer and
	 * never allocates by a length read from it. */
	local = espimg_diag_list_new();
	if (!local)
		return ESPIMG_ENOMEM;
	espimg_source_mem(&src, buf, len);
	io.chip = chip;
	io.file = name;
	rc = espimg_image_read(&src, &io, &img, local);
	if (rc == ESPIMG_ENOMEM || rc == ESPIMG_EINVAL) {
		espimg_diag_list_free(local);
		espimg_image_free(img);
		return rc;
	}
	if (rc != ESPIMG_OK) {
		const char *why = espimg_diag_first_error(local);

		not_image(diags, name, address, chip,
			  why ? why : espimg_strerror(rc));
		rc = 0;
	} else if (img->chip_id != chip->image_id) {
		const espimg_chip *other = espimg_chip_by_id(img->chip_id);
		char why[96];

		snprintf(why, sizeof(why), "its chip id is %u (%s)",
			 img->chip_id, other ? other->name : "unknown");
		not_image(diags, name, address, chip, why);
		rc = 0;
	} else if (img->segment_count > ESPIMG_IMAGE_MAX_SEGMENTS) {
		char why[64];

		snprintf(why, sizeof(why), "%u segments, at most %u allowed",
			 img->segment_count, ESPIMG_IMAGE_MAX_SEGMENTS);
		not_image(diags, name, address, chip, why);
		rc = 0;
	} else if (img->has_sha256 && img->sha256_stored_len < 32) {
		char why[80];

		snprintf(why, sizeof(why),
			 "its SHA-256 digest is cut after %zu of 32 bytes",
			 img->sha256_stored_len);
		not_image(diags, name, address, chip, why);
		rc = 0;
	} else {
		uint8_t sf = buf[HDR_SIZE_FREQ];

		pl->mode = p->mode >= 0 ? (uint8_t)p->mode : buf[HDR_MODE];
		pl->size_freq =
			(uint8_t)((p->size >= 0 ? (unsigned)p->size << 4 :
						  sf & 0xF0u) |
				  (p->freq >= 0 ? (unsigned)p->freq :
						  sf & 0x0Fu));
		pl->sha = img->has_sha256;
		pl->sha_from = img->sha256_offset;
		rc = 1;
	}
	espimg_diag_list_free(local);
	espimg_image_free(img);
	return rc;
}

static int patch_apply(uint8_t *buf, const struct patch_plan *pl,
		       uint64_t address, const char *name,
		       espimg_diag_list *diags)
{
	unsigned mdlen = 0;
	uint8_t old_digest[32];
	bool changed = buf[HDR_MODE] != pl->mode ||
		       buf[HDR_SIZE_FREQ] != pl->size_freq;

	if (pl->sha)
		memcpy(old_digest, buf + pl->sha_from, sizeof(old_digest));
	buf[HDR_MODE] = pl->mode;
	buf[HDR_SIZE_FREQ] = pl->size_freq;
	/* The digest covers bytes 0 through the checksum, headers included
	 * (images.md 22.2); the checksum covers segment data only and stays. */
	if (pl->sha && EVP_Digest(buf, (size_t)pl->sha_from, buf + pl->sha_from,
				  &mdlen, EVP_sha256(), NULL) != 1)
		return ESPIMG_ENOMEM;
	if (pl->sha && memcmp(old_digest, buf + pl->sha_from, 32))
		changed = true;
	/* Like esptool, say so only when a byte changed (a stale digest
	 * repaired counts). */
	if (changed)
		espimg_diag_add(diags, ESPIMG_SEV_NOTE, "merge.patched", name, 0, 0,
				HDR_MODE,
				"flash parameters of the image at 0x%" PRIx64 " set to 0x%04x%s",
				address, (unsigned)pl->mode << 8 | pl->size_freq,
				pl->sha ? "; SHA-256 digest recomputed" : "");
	return 1;
}

int espimg_patch_flash_params(uint8_t *buf, size_t len, uint64_t address,
			      const espimg_chip *chip,
			      const espimg_flash_params *p,
			      espimg_diag_list *diags)
{
	struct patch_plan pl;
	int rc;

	if ((!buf && len) || !chip || !p || !params_valid(p))
		return ESPIMG_EINVAL;
	rc = patch_plan(buf, len, address, chip, p, NULL, diags, &pl);
	if (rc <= 0)
		return rc;
	return patch_apply(buf, &pl, address, NULL, diags);
}

/* ------------------------------------------------------------ options */

void espimg_merge_opts_init(espimg_merge_opts *opts, const espimg_chip *chip)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->chip = chip;
	opts->format = ESPIMG_OUT_RAW;
	opts->flash.mode = opts->flash.size = opts->flash.freq = -1;
	opts->fill = 0xFF;
	opts->uf2_md5 = true;
}

/* ------------------------------------------------------------ output */

typedef struct out {
	espimg_write_fn write;
	void *ctx;
	int err;
	size_t len;
	char buf[OUT_CHUNK];
} out;

static void out_flush(out *o)
{
	if (!o->err && o->len && o->write(o->ctx, o->buf, o->len))
		o->err = ESPIMG_EIO;
	o->len = 0;
}

static void out_put(out *o, const void *p, size_t n)
{
	if (o->err)
		return;
	if (o->len + n > sizeof(o->buf)) {
		out_flush(o);
		if (n > sizeof(o->buf)) {
			if (!o->err && o->write(o->ctx, p, n))
				o->err = ESPIMG_EIO;
			return;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

/* ------------------------------------------------------------ raw */

static void raw_fill(out *o, uint8_t fill, uint64_t n)
{
	out_flush(o);
	if (n)
		memset(o->buf, fill, (size_t)(n < OUT_CHUNK ? n : OUT_CHUNK));
	while (n && !o->err) {
		size_t k = n < OUT_CHUNK ? (size_t)n : OUT_CHUNK;

		if (o->write(o->ctx, o->buf, k))
			o->err = ESPIMG_EIO;
		n -= k;
	}
}

/* cmds.py merge_bin, format "raw": pad_to(addr) before each part, then to
 * --pad-to-size. */
static void write_raw(out *o, const espimg_merge_part *const *v, size_t n,
		      const uint8_t *const *data, const espimg_merge_opts *opts)
{
	uint64_t pos = opts->target_offset;

	for (size_t i = 0; i < n && !o->err; i++) {
		raw_fill(o, opts->fill, v[i]->address - pos);
		if (v[i]->len && !o->err &&
		    o->write(o->ctx, data[i], v[i]->len))
			o->err = ESPIMG_EIO;
		pos = v[i]->address + v[i]->len;
	}
	if (opts->pad_to_size > pos)
		raw_fill(o, opts->fill, opts->pad_to_size - pos);
}

/* ------------------------------------------------------------ hex */

typedef struct hexw {
	out *o;
	bool ext;          /* type-04 records wanted (a byte above 0xFFFF) */
	bool have_page;
	uint32_t page;     /* upper 16 bits last written in a type-04 record */
	uint64_t addr;     /* of the pending record */
	unsigned len;
	uint8_t data[HEX_BYTES];
} hexw;

static void hex_record(out *o, unsigned type, uint32_t addr16,
		       const uint8_t *d, unsigned n)
{
	static const char digits[] = "0123456789ABCDEF";
	uint8_t b[5 + 255];
	char line[1 + 2 * sizeof(b) + 1];
	unsigned sum = 0, k = 0;

	b[0] = (uint8_t)n;
	b[1] = (uint8_t)(addr16 >> 8);
	b[2] = (uint8_t)addr16;
	b[3] = (uint8_t)type;
	memcpy(b + 4, d, n);
	for (unsigned i = 0; i < 4 + n; i++)
		sum += b[i];
	b[4 + n] = (uint8_t)-sum;
	line[k++] = ':';
	for (unsigned i = 0; i < 5 + n; i++) {
		line[k++] = digits[b[i] >> 4];
		line[k++] = digits[b[i] & 15];
	}
	line[k++] = '\n';
	out_put(o, line, k);
}

static void hex_flush(hexw *h)
{
	if (!h->len)
		return;
	/* write_hex_file: a type-04 record opens each 64 KiB page it writes
	 * data in. */
	if (h->ext && (!h->have_page || h->addr >> 16 != h->page)) {
		uint8_t hi[2] = { (uint8_t)(h->addr >> 24),
				  (uint8_t)(h->addr >> 16) };

		hex_record(h->o, 4, 0, hi, 2);
		h->page = (uint32_t)(h->addr >> 16);
		h->have_page = true;
	}
	hex_record(h->o, 0, (uint32_t)h->addr & 0xFFFFu, h->data, h->len);
	h->len = 0;
}

/* A record holds up to 16 contiguous bytes and ends at a 64 KiB
 * boundary; adjacent parts continue the same run. */
static void hex_data(hexw *h, uint64_t addr, const uint8_t *p, size_t n)
{
	while (n) {
		uint64_t page_end;
		size_t k;

		if (h->len && addr != h->addr + h->len)
			hex_flush(h);
		if (!h->len)
			h->addr = addr;
		page_end = (h->addr | 0xFFFFu) + 1;
		k = HEX_BYTES - h->len;
		if (k > n)
			k = n;
		if (k > page_end - addr)
			k = (size_t)(page_end - addr);
		memcpy(h->data + h->len, p, k);
		h->len += (unsigned)k;
		addr += k;
		p += k;
		n -= k;
		if (h->len == HEX_BYTES || addr == page_end)
			hex_flush(h);
	}
}

static void write_hex(out *o, const espimg_merge_part *const *v, size_t n,
		      const uint8_t *const *data)
{
	hexw h = { .o = o };

	for (size_t i = 0; i < n; i++)
		if (v[i]->len && v[i]->address + v[i]->len - 1 > 0xFFFFu)
			h.ext = true;
	for (size_t i = 0; i < n && !o->err; i++)
		hex_data(&h, v[i]->address, data[i], v[i]->len);
	hex_flush(&h);
	out_put(o, ":00000001FF\n", 12);
	out_flush(o);
}

/* ------------------------------------------------------------ uf2 */

static int write_uf2(out *o, const espimg_merge_part *const *v, size_t n,
		     const uint8_t *const *data, const espimg_merge_opts *opts,
		     unsigned chunk)
{
	uint32_t flags = UF2_FLAG_FAMILY | (opts->uf2_md5 ? UF2_FLAG_MD5 : 0);
	EVP_MD_CTX *md = NULL;
	uint8_t b[UF2_BLOCK];

	if (opts->uf2_md5 && !(md = EVP_MD_CTX_new()))
		return ESPIMG_ENOMEM;
	for (size_t i = 0; i < n && !o->err; i++) {
		uint64_t len = v[i]->len;
		uint32_t blocks = (uint32_t)((len + chunk - 1) / chunk);
		uint32_t addr = (uint32_t)v[i]->address;

		for (uint32_t no = 0; no < blocks && !o->err; no++) {
			size_t off = (size_t)no * chunk;
			size_t k = len - off < chunk ? (size_t)(len - off) :
							chunk;
			unsigned mdlen = 0;

			memset(b, 0, sizeof(b));
			espimg_put_le32(b, UF2_MAGIC0);
			espimg_put_le32(b + 4, UF2_MAGIC1);
			espimg_put_le32(b + 8, flags);
			espimg_put_le32(b + 12, addr);
			espimg_put_le32(b + 16, (uint32_t)k);
			espimg_put_le32(b + 20, no);
			espimg_put_le32(b + 24, blocks);
			espimg_put_le32(b + 28, opts->chip->uf2_family);
			memcpy(b + 32, data[i] + off, k);
			if (md) {
				uint8_t *m = b + 32 + k;

				espimg_put_le32(m, addr);
				espimg_put_le32(m + 4, (uint32_t)k);
				if (!EVP_DigestInit_ex(md, EVP_md5(), NULL) ||
				    !EVP_DigestUpdate(md, data[i] + off, k) ||
				    !EVP_DigestFinal_ex(md, m + 8, &mdlen)) {
					EVP_MD_CTX_free(md);
					return ESPIMG_ENOMEM;
				}
			}
			espimg_put_le32(b + UF2_BLOCK - 4, UF2_MAGIC_END);
			out_put(o, b, sizeof(b));
			addr += (uint32_t)k;
		}
	}
	out_flush(o);
	EVP_MD_CTX_free(md);
	return 0;
}

/* ------------------------------------------------------------ checks */

static int by_address(const void *a, const void *b)
{
	const espimg_merge_part *const *x = a, *const *y = b;

	if ((*x)->address != (*y)->address)
		return (*x)->address < (*y)->address ? -1 : 1;
	/* Stable, as Python's sorted(): equal addresses keep their order. */
	return *x < *y ? -1 : *x > *y;
}

/* The layout checks of merge_bin and its argument parser, every finding
 * reported (esptool stops at the first). */
static void check_layout(const espimg_merge_part *const *v, size_t n,
			 const espimg_merge_opts *opts, espimg_diag_list *diags)
{
	const espimg_merge_part *holder = NULL;
	uint64_t sector_end = 0, raw_end = 0;
	bool narrow = opts->format != ESPIMG_OUT_RAW;

	for (size_t i = 0; i < n; i++) {
		const espimg_merge_part *p = v[i];
		uint64_t a = p->address, start = a & ~(uint64_t)(SECTOR - 1);
		uint64_t end;

		if (p->len > UINT64_MAX - SECTOR ||
		    a > UINT64_MAX - SECTOR - p->len ||
		    (narrow && p->len && a + p->len > (uint64_t)1 << 32)) {
			espimg_diag_add(diags, ESPIMG_SEV_ERROR,
					"merge.address_range", part_name(p), 0,
					0, -1,
					"'%s' at 0x%" PRIx64 " (0x%zx bytes) ends past %s",
					part_name(p), a, p->len,
					narrow ? "4 GiB, which Intel HEX and UF2 cannot address" :
						 "the 64-bit address space");
			continue;
		}
		end = a + p->len;
		if (a < opts->target_offset)
			espimg_diag_add(diags, ESPIMG_SEV_ERROR,
					"merge.below_target", part_name(p), 0,
					0, -1,
					"'%s' at 0x%" PRIx64 " is below the target offset 0x%" PRIx64 " where the output starts",
					part_name(p), a, opts->target_offset);
		/* cli_util.py: each file's first sector must start at or
		 * after the end of the previous file's last sector. */
		if (holder && start < sector_end) {
			uint64_t hend = holder->address + holder->len;

			if (a < hend)
				espimg_diag_add(diags, ESPIMG_SEV_ERROR,
						"merge.overlap", part_name(p), 0,
						0, -1,
						"'%s' at 0x%" PRIx64 " overlaps '%s' at 0x%" PRIx64 "..0x%" PRIx64,
						part_name(p), a,
						part_name(holder),
						holder->address, hend);
			else
				espimg_diag_add(diags, ESPIMG_SEV_ERROR,
						"merge.overlap", part_name(p), 0,
						0, -1,
						"'%s' at 0x%" PRIx64 " shares the 4 KiB flash sector at 0x%" PRIx64 " with '%s' at 0x%" PRIx64 "..0x%" PRIx64 " (flashing erases whole sectors; esptool refuses this too)",
						part_name(p), a, start,
						part_name(holder),
						holder->address, hend);
		}
		end = (end + SECTOR - 1) & ~(uint64_t)(SECTOR - 1);
		if (!holder || end >= sector_end) {
			sector_end = end;
			holder = p;
		}
		if (a + p->len > raw_end)
			raw_end = a + p->len;
	}
	if (opts->format == ESPIMG_OUT_RAW && opts->pad_to_size &&
	    raw_end > opts->pad_to_size)
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "merge.too_big", NULL,
				0, 0, -1,
				"the parts end at 0x%" PRIx64 ", past the pad-to size 0x%" PRIx64,
				raw_end, opts->pad_to_size);
}

/* ------------------------------------------------------------ entry */

int espimg_merge_write(const espimg_merge_part *parts, size_t n,
		       const espimg_merge_opts *opts, espimg_write_fn write,
		       void *ctx, espimg_diag_list *diags)
{
	const espimg_merge_part **v = NULL;
	const uint8_t **data = NULL;
	uint8_t *patched = NULL;
	espimg_diag_list *errs;
	unsigned chunk = 0;
	out *o = NULL;
	int rc;

	if (!opts || !opts->chip || !write || (n && !parts) ||
	    !params_valid(&opts->flash))
		return ESPIMG_EINVAL;
	if (opts->format != ESPIMG_OUT_RAW && opts->format != ESPIMG_OUT_HEX &&
	    opts->format != ESPIMG_OUT_UF2)
		return ESPIMG_EINVAL;
	if (opts->format == ESPIMG_OUT_UF2) {
		unsigned max = UF2_DATA - (opts->uf2_md5 ? UF2_MD5_PART : 0);

		/* esptool cli_util.py AutoChunkSizeType: 4-byte aligned;
		 * uf2_writer.py asserts the payload fits. */
		chunk = opts->uf2_chunk_size ? opts->uf2_chunk_size : max;
		if (chunk > max || chunk % 4)
			return ESPIMG_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (!parts[i].data && parts[i].len)
			return ESPIMG_EINVAL;
	if (!n) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "merge.no_input", NULL,
				0, 0, -1, "nothing to merge: no parts given");
		return ESPIMG_EFORMAT;
	}

	/* Errors are counted on a list of our own: the caller's may be NULL
	 * or already hold errors. */
	errs = espimg_diag_list_new();
	v = calloc(n, sizeof(*v));
	data = calloc(n, sizeof(*data));
	o = malloc(sizeof(*o));
	if (!errs || !v || !data || !o) {
		rc = ESPIMG_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &parts[i];
	qsort(v, n, sizeof(*v), by_address);
	check_layout(v, n, opts, errs);
	for (size_t i = 0; i < espimg_diag_count(errs); i++) {
		const espimg_diag *d = espimg_diag_get(errs, i);

		espimg_diag_add(diags, d->severity, d->code, d->file, d->line,
				d->column, d->offset, "%s", d->message);
	}
	if (espimg_diag_errors(errs)) {
		rc = ESPIMG_EFORMAT;
		goto done;
	}

	for (size_t i = 0; i < n; i++) {
		struct patch_plan pl;

		data[i] = v[i]->data;
		/* At most one part is patched: it holds the bytes at the
		 * bootloader offset (another part there would overlap). */
		rc = patch_plan(v[i]->data, v[i]->len, v[i]->address,
				opts->chip, &opts->flash, part_name(v[i]),
				diags, &pl);
		if (rc < 0)
			goto done;
		if (rc == 1) {
			patched = malloc(v[i]->len);
			if (!patched) {
				rc = ESPIMG_ENOMEM;
				goto done;
			}
			memcpy(patched, v[i]->data, v[i]->len);
			rc = patch_apply(patched, &pl, v[i]->address,
					 part_name(v[i]), diags);
			if (rc < 0)
				goto done;
			data[i] = patched;
		}
	}

	o->write = write;
	o->ctx = ctx;
	o->err = 0;
	o->len = 0;
	rc = 0;
	switch (opts->format) {
	case ESPIMG_OUT_RAW:
		write_raw(o, v, n, data, opts);
		break;
	case ESPIMG_OUT_HEX:
		write_hex(o, v, n, data);
		break;
	case ESPIMG_OUT_UF2:
		if (!opts->chip->uf2_family)
			espimg_diag_add(diags, ESPIMG_SEV_WARNING,
					"merge.uf2_family", NULL, 0, 0, -1,
					"%s has no UF2 family id; writing 0",
					opts->chip->name);
		rc = write_uf2(o, v, n, data, opts, chunk);
		break;
	}
	if (!rc)
		rc = o->err;
done:
	free(o);
	free(patched);
	free(data);
	free(v);
	espimg_diag_list_free(errs);
	return rc;
}
