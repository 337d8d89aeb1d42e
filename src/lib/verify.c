/*
 * verify.c - espimg_verify(): one source checked as the device would see
 * it, as a list of PASS/FAIL/WARN/INFO checks (verify.h).
 *
 * Images are read once: espimg_image_read() also digests the Secure Boot
 * signed region (opts.prefix_len), continuing its own SHA-256 state past
 * the checksum, so verifying a signed image hashes its bytes once.  Only a
 * SHA-384 block (ECDSA P-384) next to SHA-256 blocks, or a P-384 block
 * found by the device rule, costs a second pass.
 *
 * Signature placement (../shared/docs/images.md sections 13 and 14; the
 * issue 5 contract):
 * - a standalone file follows espsecure 5.3.1 verify-signature: the last
 *   4096 bytes are the sector and the file size must be a non-zero
 *   multiple of 4096; v1: the last 68 bytes;
 * - an image inside a flash image follows the ESP-IDF bootloader: the
 *   sector sits at the image size rounded up to 4096, a v1 signature right
 *   after the image.
 *
 * Flash images: espimg_flash_locate() finds the bootloader and the table;
 * each part is checked at its place and the next boot is predicted with
 * the otadata module on a copy of the otadata bytes (otadata.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/otadata.h"
#include "espimg/ptable.h"
#include "espimg/verify.h"
#include "internal.h"

#define SECTOR ESPIMG_SIG_SECTOR_SIZE
#define ROUND4K(x) (((x) + SECTOR - 1) & ~(uint64_t)(SECTOR - 1))

/* An app partition whose first 4 KiB are all 0xFF holds nothing (the
 * flash erase value). */
#define EMPTY_PROBE 0x1000u

typedef struct vctx {
	const espimg_verify_opts *o;
	espimg_verify_report *r;
	size_t cap;
	int err;          /* ESPIMG_ENOMEM once an append failed */
	bool trust;       /* keys or eFuse digests were given */
} vctx;

/* ------------------------------------------------------------ checks */

/* A string cut to fit may end inside a UTF-8 character: drop its start. */
static void trim_utf8(char *s, size_t len)
{
	size_t i = len;

	while (i > 0 && len - i < 4 && ((uint8_t)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i > 0 && ((uint8_t)s[i - 1] & 0x80)) {
		uint32_t cp;

		if (!espimg_utf8_seq((const uint8_t *)s + i - 1, len - i + 1, &cp))
			s[i - 1] = '\0';
	}
}

static void copy_str(char *dst, size_t n, const char *s)
{
	size_t k = s ? strlen(s) : 0;

	if (k >= n) {
		k = n - 1;
		memcpy(dst, s, k);
		dst[k] = '\0';
		trim_utf8(dst, k);
		return;
	}
	if (k)
		memcpy(dst, s, k);
	dst[k] = '\0';
}

static espimg_check *vadd(vctx *v, espimg_check_status st, const char *part,
			  uint64_t off, const char *check, const char *code,
			  const char *fmt, va_list ap) ESPIMG_PRINTF(7, 0);
static espimg_check *vadd(vctx *v, espimg_check_status st, const char *part,
			  uint64_t off, const char *check, const char *code,
			  const char *fmt, va_list ap)
{
	espimg_check *c;

	if (v->err)
		return NULL;
	if (v->r->nchecks == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		espimg_check *p = realloc(v->r->checks, cap * sizeof(*p));

		if (!p) {
			v->err = ESPIMG_ENOMEM;
			return NULL;
		}
		v->r->checks = p;
		v->cap = cap;
	}
	c = &v->r->checks[v->r->nchecks++];
	memset(c, 0, sizeof(*c));
	c->status = st;
	copy_str(c->part, sizeof(c->part), part);
	c->offset = off;
	copy_str(c->check, sizeof(c->check), check);
	copy_str(c->code, sizeof(c->code), code);
	if (vsnprintf(c->message, sizeof(c->message), fmt, ap) >=
	    (int)sizeof(c->message))
		trim_utf8(c->message, sizeof(c->message) - 1);
	c->sig_block = -1;
	c->key_index = -1;
	c->key_digest_index = -1;
	return c;
}

static espimg_check *add(vctx *v, espimg_check_status st, const char *part,
			 uint64_t off, const char *check, const char *code,
			 const char *fmt, ...) ESPIMG_PRINTF(7, 8);
static espimg_check *add(vctx *v, espimg_check_status st, const char *part,
			 uint64_t off, const char *check, const char *code,
			 const char *fmt, ...)
{
	espimg_check *c;
	va_list ap;

	va_start(ap, fmt);
	c = vadd(v, st, part, off, check, code, fmt, ap);
	va_end(ap);
	return c;
}

/* A read of the source failed: *unreadable (the report's or an image
 * job's) is set and an io.read check says where; what is "file" or
 * "flash image". */
static void read_failed(vctx *v, bool *unreadable, const char *part,
			uint64_t at, const char *what)
{
	*unreadable = true;
	add(v, ESPIMG_CHECK_FAIL, part, at, "read", "io.read",
	    "the %s could not be read", what);
}

/* Number of FAIL checks from index `from` on. */
static size_t fails_since(const vctx *v, size_t from)
{
	size_t n = 0;

	for (size_t i = from; i < v->r->nchecks; i++)
		if (v->r->checks[i].status == ESPIMG_CHECK_FAIL)
			n++;
	return n;
}

static bool has_check(const vctx *v, size_t from, const char *check,
		      espimg_check_status st)
{
	for (size_t i = from; i < v->r->nchecks; i++)
		if (v->r->checks[i].status == st &&
		    !strcmp(v->r->checks[i].check, check))
			return true;
	return false;
}

static espimg_check_status sev_status(espimg_severity s)
{
	return s == ESPIMG_SEV_ERROR ? ESPIMG_CHECK_FAIL :
	       s == ESPIMG_SEV_WARNING ? ESPIMG_CHECK_WARN : ESPIMG_CHECK_INFO;
}

/* Every diagnostic from index `from` on becomes a check; check_of names
 * the check of a code (NULL: leave that diagnostic out). */
typedef const char *(*check_of_fn)(const void *ctx, const char *code);

static void add_diags(vctx *v, const espimg_diag_list *d, size_t from,
		      const char *part, uint64_t base, check_of_fn check_of,
		      const void *ctx)
{
	size_t n = espimg_diag_count(d);

	for (size_t i = from; i < n; i++) {
		const espimg_diag *g = espimg_diag_get(d, i);
		const char *check = check_of(ctx, g->code);

		if (!check)
			continue;
		add(v, sev_status(g->severity), part,
		    base + (g->offset >= 0 ? (uint64_t)g->offset : 0), check,
		    g->code, "%s", g->message);
	}
}

static const char *fixed_check(const void *ctx, const char *code)
{
	return ctx;
}

/* ------------------------------------------------------------ sources */

/* Reads up to len bytes at off (fewer at the end of the source). Returns
 * the count or a negative ESPIMG_E* code. */
static int64_t read_some(const espimg_source *src, uint64_t off, void *buf,
			 size_t len)
{
	size_t done = 0;

	if (off >= src->size)
		return 0;
	if (len > src->size - off)
		len = (size_t)(src->size - off);
	while (done < len) {
		size_t got = 0;
		int rc = src->read_at(src->ctx, off + done, (uint8_t *)buf + done,
				      len - done, &got);

		if (rc < 0)
			return rc;
		if (!got)
			break;
		done += got;
	}
	return (int64_t)done;
}

/* A descriptor text field as printable ASCII for a message: the C string
 * the device sees, other bytes as '?'. */
static void desc_str(char *out, size_t n, const uint8_t *field, size_t size)
{
	size_t k = 0;

	for (size_t i = 0; i < size && field[i] && k + 1 < n; i++)
		out[k++] = field[i] >= 0x20 && field[i] < 0x7F ? (char)field[i]
							       : '?';
	out[k] = '\0';
}

/* ------------------------------------------------------------ images */

/* Where an image is checked and what it must be. */
typedef struct img_job {
	const espimg_source *src; /* the file, or a window on a partition */
	uint64_t abs;             /* offset of src's byte 0 in the report's source */
	const char *part;         /* "" for a standalone file */
	bool in_flash;            /* device rule for signatures */
	bool bootloader;          /* the flash image's bootloader */
	const espimg_chip *chip;  /* expected chip, NULL = any */
	const char *chip_why;     /* "as --chip says", "like the bootloader" */
	uint64_t room;            /* partition size; 0 = no bound */
	bool clipped;             /* the source goes on after the partition */
	/* Results. */
	bool failed;
	bool unreadable;
	const espimg_chip *img_chip;
	uint8_t flash_size_code;  /* header byte 3 >> 4 */
	bool has_header;
	uint32_t secure_version;  /* app description, for anti-rollback */
} img_job;

typedef struct img_ctx {
	const espimg_image *img;
} img_ctx;

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The check an image.* diagnostic belongs to. The reader's notes on
 * signature blocks are left out: the signature checks report every block. */
static const char *image_check_of(const void *ctx, const char *code)
{
	const img_ctx *c = ctx;

	if (starts(code, "image.sig"))
		return NULL;
	if (starts(code, "image.checksum"))
		return "checksum";
	if (starts(code, "image.sha256"))
		return "sha256";
	if (starts(code, "image.chip"))
		return "chip";
	if (starts(code, "image.desc_"))
		return c->img && c->img->kind == ESPIMG_KIND_BOOTLOADER ?
			       "boot-desc" : "app-desc";
	if (starts(code, "image.app_desc") || starts(code, "image.drom"))
		return "app-desc";
	if (starts(code, "image.boot_desc"))
		return "boot-desc";
	if (starts(code, "image.segment") || starts(code, "image.no_segments") ||
	    starts(code, "image.truncated"))
		return "segments";
	return "header";
}

/* Signature state of one image. */
typedef struct sig_plan {
	/* v2 */
	bool file_rule;            /* espsecure's: the last sector */
	espimg_sigblock blk[ESPIMG_SIG_BLOCKS_MAX];
	size_t nblk;
	uint64_t sector_off;       /* relative to the image source */
	bool need256, need384;
	/* v1 */
	bool v1;
	/* what was asked of espimg_image_read */
	uint64_t prefix_len;
	bool prefix_sha384;
} sig_plan;

/* The standalone v2 rule: a sector in the last 4096 bytes of a file whose
 * size is a non-zero multiple of 4096. */
static int plan_file_sector(const espimg_source *src, sig_plan *p)
{
	uint8_t *sector;
	int64_t n;
	int rc;

	if (!src->size || src->size % SECTOR)
		return 0;
	sector = malloc(SECTOR);
	if (!sector)
		return ESPIMG_ENOMEM;
	n = read_some(src, src->size - SECTOR, sector, SECTOR);
	if (n < 0) {
		free(sector);
		return (int)n;
	}
	rc = n == SECTOR ? espimg_sigsector_decode(sector, SECTOR,
						   src->size - SECTOR, p->blk)
			 : 0;
	free(sector);
	if (rc < 0)
		return rc;
	p->nblk = (size_t)rc;
	if (!p->nblk)
		return 0;
	p->file_rule = true;
	p->sector_off = src->size - SECTOR;
	for (size_t i = 0; i < p->nblk; i++) {
		if (!p->blk[i].valid)
			continue;
		if (espimg_sigblock_digest_len(&p->blk[i]) == 48)
			p->need384 = true;
		else
			p->need256 = true;
	}
	return 0;
}

/* The digests a block may need: [0, end) of src in SHA-256 and SHA-384,
 * taking what espimg_image_read computed and hashing the rest. */
typedef struct digests {
	bool ok256, ok384;
	uint8_t d256[32], d384[48];
} digests;

static int get_digest(const espimg_source *src, uint64_t end,
		      const espimg_image *img, size_t len, digests *d)
{
	bool *ok = len == 48 ? &d->ok384 : &d->ok256;
	uint8_t *out = len == 48 ? d->d384 : d->d256;
	int rc;

	if (*ok)
		return 0;
	if (img && img->prefix_digest_ok && img->prefix_end == end &&
	    img->prefix_digest_len == len) {
		memcpy(out, img->prefix_digest, len);
		*ok = true;
		return 0;
	}
	rc = espimg_source_digest(src, 0, end, len, out);
	if (rc == ESPIMG_EFORMAT)
		return 0; /* the source is shorter: no digest */
	if (rc < 0)
		return rc;
	*ok = true;
	return 0;
}

static bool verdict_invalid(espimg_sig_verdict s)
{
	return s == ESPIMG_SIGV_MAGIC || s == ESPIMG_SIGV_VERSION ||
	       s == ESPIMG_SIGV_CRC || s == ESPIMG_SIGV_CURVE;
}

static const char *key_kind(const vctx *v)
{
	return v->o->nkeys && v->o->nkey_digests ? "supplied key or key digest" :
	       v->o->nkeys ? "supplied key" : "supplied key digest";
}

/*
 * The message of one block's check.  espimg_sigblock_verify's own words
 * serve, except where they shorten a digest (JSON carries digests whole):
 * a digest mismatch, a key mismatch and the embedded-key check.
 */
static void sig_message(char *out, size_t n, const espimg_sigblock *b,
			const espimg_sig_check *s, const uint8_t *dg, size_t dl,
			uint64_t signed_len)
{
	const char *t = espimg_sig_type_name(b->type);
	char h1[97], h2[97];

	switch (s->verdict) {
	case ESPIMG_SIGV_DIGEST:
		espimg_hex(h1, b->image_digest, dl);
		espimg_hex(h2, dg, dl);
		snprintf(out, n,
			 "the block signs digest %s, but the %" PRIu64 " bytes before the signature sector hash to %s",
			 h1, signed_len, h2);
		break;
	case ESPIMG_SIGV_KEY_MISMATCH:
		snprintf(out, n,
			 "%s signature verifies with a supplied key, but the block embeds another public key: the device verifies with the embedded key and refuses it",
			 t);
		break;
	case ESPIMG_SIGV_NO_KEY:
		snprintf(out, n,
			 "%s block verifies with its own embedded key; no trusted key or key digest given",
			 t);
		break;
	default:
		snprintf(out, n, "%s", s->message);
		break;
	}
}

/*
 * Checks the blocks of one v2 sector against the digest of everything
 * before it and adds one "signature" check per slot and the "signatures"
 * verdict (contract: a PASS needs one verified block and no valid block
 * with a digest mismatch; without keys or digests the blocks are checked
 * against their own embedded keys).
 */
static int check_v2_blocks(vctx *v, img_job *j, const espimg_image *img,
			   const espimg_sigblock *blk, size_t nblk,
			   uint64_t sector_off)
{
	espimg_sig_check chk[ESPIMG_SIG_BLOCKS_MAX];
	espimg_check *line[ESPIMG_SIG_BLOCKS_MAX] = { NULL };
	digests d = { 0 };
	size_t good = 0, digest_bad = 0, mismatch = 0;
	espimg_sig_verdict worst = ESPIMG_SIGV_OK;
	static const uint8_t no_digest[48]; /* invalid blocks: never read */
	char msg[320];
	int rc;

	/* Digests first (each at most once). */
	for (size_t i = 0; i < nblk; i++) {
		if (!blk[i].valid)
			continue;
		rc = get_digest(j->src, sector_off, img,
				espimg_sigblock_digest_len(&blk[i]), &d);
		if (rc < 0)
			return rc;
	}

	size_t k = 0;
	for (unsigned slot = 0; slot < ESPIMG_SIG_BLOCKS_MAX; slot++) {
		uint64_t off = j->abs + sector_off + slot * ESPIMG_SIG_BLOCK_SIZE;
		espimg_check *c;

		if (k >= nblk || blk[k].index != slot) {
			c = add(v, ESPIMG_CHECK_INFO, j->part, off, "signature",
				"sig.empty", "slot %u is empty (erased)", slot);
			if (c)
				c->sig_block = (int)slot;
			continue;
		}
		const espimg_sigblock *b = &blk[k];
		espimg_sig_check *s = &chk[k];
		size_t dl = espimg_sigblock_digest_len(b);
		const uint8_t *dg = dl == 48 ? (d.ok384 ? d.d384 : NULL)
					     : (d.ok256 ? d.d256 : NULL);

		memset(s, 0, sizeof(*s));
		if (b->valid && !dg) {
			/* The sector lies inside the source, so the bytes
			 * before it can always be read: not reached. */
			return ESPIMG_EFORMAT;
		}
		rc = espimg_sigblock_verify(b, dg ? dg : no_digest, dl,
					    v->o->keys, v->o->nkeys,
					    v->o->key_digests,
					    v->o->nkey_digests, s);
		if (rc < 0)
			return rc;
		if (s->verdict == ESPIMG_SIGV_OK ||
		    (!v->trust && s->verdict == ESPIMG_SIGV_NO_KEY))
			good++;
		else if (s->verdict == ESPIMG_SIGV_DIGEST)
			digest_bad++;
		else if (s->verdict == ESPIMG_SIGV_KEY_MISMATCH)
			mismatch++;
		if (s->verdict > worst)
			worst = s->verdict;
		sig_message(msg, sizeof(msg), b, s, dg, dl, sector_off);
		c = add(v, ESPIMG_CHECK_PASS, j->part, off, "signature",
			espimg_sig_verdict_code(s->verdict), "%s", msg);
		if (c) {
			c->sig_block = (int)slot;
			c->sig_type = b->type == ESPIMG_SIG_UNKNOWN ? s->type
								    : b->type;
			c->key_index = s->key_index;
			c->key_digest_index = s->key_digest_index;
			c->has_key_digest = b->key_digest_ok;
			if (b->key_digest_ok)
				memcpy(c->key_digest, b->key_digest, 32);
		}
		line[k] = c;
		k++;
	}
	if (v->err)
		return v->err;

	/* Statuses, now that the other blocks are known. */
	for (size_t i = 0; i < nblk; i++) {
		espimg_sig_verdict s = chk[i].verdict;
		espimg_check_status st;

		if (s == ESPIMG_SIGV_OK || s == ESPIMG_SIGV_NO_KEY)
			st = ESPIMG_CHECK_PASS;
		else if (s == ESPIMG_SIGV_DIGEST || s == ESPIMG_SIGV_KEY_MISMATCH)
			st = ESPIMG_CHECK_FAIL;
		else if (!good)
			st = ESPIMG_CHECK_FAIL;
		else if (verdict_invalid(s) || !v->trust)
			st = ESPIMG_CHECK_WARN;
		else
			st = ESPIMG_CHECK_INFO; /* signed by a key not given */
		if (line[i])
			line[i]->status = st;
	}

	uint64_t at = j->abs + sector_off;
	if (digest_bad) {
		add(v, ESPIMG_CHECK_FAIL, j->part, at, "signatures", "sig.digest",
		    "%zu signature block%s sign%s another digest than that of the %" PRIu64 " bytes before the signature sector (the data changed after signing)",
		    digest_bad, digest_bad > 1 ? "s" : "",
		    digest_bad > 1 ? "" : "s", sector_off);
	} else if (mismatch) {
		add(v, ESPIMG_CHECK_FAIL, j->part, at, "signatures",
		    "sig.key_mismatch",
		    "a block verifies with a supplied key but embeds another public key; the device verifies with the embedded key and refuses it");
	} else if (good && v->trust) {
		add(v, ESPIMG_CHECK_PASS, j->part, at, "signatures", "sig.ok",
		    "%zu of %zu signature block%s verified with a %s",
		    good, nblk, nblk > 1 ? "s" : "", key_kind(v));
	} else if (good) {
		add(v, ESPIMG_CHECK_PASS, j->part, at, "signatures", "sig.no_key",
		    "%zu of %zu signature block%s consistent (verified with the key embedded in the block); no trusted key given, so the signer is not checked",
		    good, nblk, nblk > 1 ? "s" : "");
	} else {
		add(v, ESPIMG_CHECK_FAIL, j->part, at, "signatures",
		    espimg_sig_verdict_code(worst),
		    v->trust ? "no signature block verified with a %s" :
			       "no signature block is consistent%s",
		    v->trust ? key_kind(v) : "");
	}
	return v->err;
}

/* No signature where one may be expected. */
static void add_unsigned(vctx *v, img_job *j, bool required, uint64_t at,
			 const char *why)
{
	if (required)
		add(v, ESPIMG_CHECK_FAIL, j->part, at, "signatures", "sig.missing",
		    "not signed: %s, and %s", why,
		    v->trust ? "a key or key digest was given" :
			       "a signature is required");
	else
		add(v, ESPIMG_CHECK_INFO, j->part, at, "signatures", "sig.missing",
		    "not signed: %s", why);
}

/* Secure Boot v2, a standalone file (espsecure's rule) or an image in a
 * flash image (the bootloader's). */
static int check_v2(vctx *v, img_job *j, const espimg_image *img,
		    const sig_plan *p)
{
	bool required = v->trust || v->o->require_signature;
	uint64_t size = j->src->size;
	int rc;

	/* Secure Boot v1 bootloaders are verified by the ROM with a digest,
	 * not a signature block. */
	if (j->in_flash && j->bootloader &&
	    v->o->secure_boot == ESPIMG_SECURE_BOOT_V1)
		return 0;

	if (!j->in_flash && p->file_rule) {
		uint64_t dev = img && img->stage >= ESPIMG_STAGE_CHECKSUM ?
				       ROUND4K(img->image_size) : p->sector_off;

		rc = check_v2_blocks(v, j, img, p->blk, p->nblk, p->sector_off);
		if (rc < 0)
			return rc;
		if (dev != p->sector_off)
			add(v, ESPIMG_CHECK_WARN, j->part,
			    j->abs + p->sector_off, "signatures", "sig.layout",
			    "the signature sector is the file's last 4 KiB at 0x%" PRIx64 " (espsecure's rule), but the ESP-IDF bootloader reads it at 0x%" PRIx64 ", the end of the image rounded up to 4 KiB",
			    p->sector_off, dev);
		return v->err;
	}

	/* The device rule: what espimg_image_read found after the image. */
	if (img && img->nsig) {
		rc = check_v2_blocks(v, j, img, img->sig, img->nsig,
				     img->sig_sector_offset);
		if (rc < 0)
			return rc;
		if (!j->in_flash)
			add(v, v->trust ? ESPIMG_CHECK_FAIL : ESPIMG_CHECK_WARN,
			    j->part, j->abs + img->sig_sector_offset,
			    "signatures", "sig.layout",
			    "the signature sector at 0x%" PRIx64 " is where the ESP-IDF bootloader reads it, but not the file's last 4 KiB (file size 0x%" PRIx64 "%s): espsecure verify-signature refuses the file",
			    img->sig_sector_offset, size,
			    size % SECTOR ? ", not a multiple of 4096" : "");
		return v->err;
	}

	/* A sector cut short by the end of the file. */
	if (img && img->stage >= ESPIMG_STAGE_CHECKSUM) {
		uint64_t at = ROUND4K(img->image_size);
		uint8_t b = 0;

		if (at < size && size < at + SECTOR &&
		    read_some(j->src, at, &b, 1) == 1 &&
		    b == ESPIMG_SIG_BLOCK_MAGIC) {
			add(v, required ? ESPIMG_CHECK_FAIL : ESPIMG_CHECK_WARN,
			    j->part, j->abs + at, "signatures", "sig.layout",
			    "a signature sector starts at 0x%" PRIx64 " but the %s ends %" PRIu64 " bytes before its end",
			    at, j->in_flash ? "partition" : "file",
			    at + SECTOR - size);
			return v->err;
		}
	}

	if (img && img->has_sig_v1) {
		add_unsigned(v, j, required, j->abs + img->sig_v1_offset,
			     "no Secure Boot v2 signature sector; a Secure Boot v1 signature follows the image (check it with --secure-boot v1)");
	} else if (!j->in_flash && size % SECTOR && required) {
		add_unsigned(v, j, required, j->abs,
			     "no signature sector, and the file size is not a multiple of 4096 (espsecure refuses such a file)");
	} else {
		add_unsigned(v, j, required, j->abs + (j->in_flash && img ?
			     ROUND4K(img->image_size) : size),
			     j->in_flash ? "no Secure Boot v2 signature sector after the image" :
			     "no Secure Boot v2 signature sector at the end of the file");
	}
	return v->err;
}

/* A v1 signature at `at` over SHA-256 digest `dg`; fills the verdict. */
static int v1_verify_at(const espimg_source *src, uint64_t at,
			const uint8_t dg[32], const vctx *v,
			espimg_sig_check *out)
{
	uint8_t sig[ESPIMG_SIG_V1_SIZE];
	int64_t n = read_some(src, at, sig, sizeof(sig));

	if (n < 0)
		return (int)n;
	if (n != ESPIMG_SIG_V1_SIZE)
		return ESPIMG_EFORMAT;
	return espimg_sbv1_verify(sig, dg, v->o->keys, v->o->nkeys, out);
}

static espimg_check *v1_line(vctx *v, img_job *j, uint64_t at,
			     espimg_check_status st,
			     const espimg_sig_check *s, const char *where)
{
	espimg_check *c = add(v, st, j->part, j->abs + at, "signature",
			      espimg_sig_verdict_code(s->verdict),
			      "%s (Secure Boot v1, %s)", s->message, where);

	if (c) {
		c->sig_block = ESPIMG_CHECK_SIG_V1;
		c->sig_type = ESPIMG_SIG_ECDSA_P256;
		c->key_index = s->key_index;
	}
	return c;
}

/*
 * Secure Boot v1 (ESP32): standalone, the last 68 bytes over everything
 * before them (espsecure); in a flash image, right after the image (the
 * ESP-IDF bootloader).  When a standalone file fails and a valid
 * signature sits right after the image, that is said (hello-world-signed
 * in the corpus), but the verdict stays espsecure's.
 */
static int check_v1(vctx *v, img_job *j, const espimg_image *img)
{
	uint64_t size = j->src->size;
	espimg_sig_check s;
	uint8_t dg[32];
	int rc;

	if (j->in_flash && j->bootloader) {
		add(v, ESPIMG_CHECK_INFO, j->part, j->abs, "signatures",
		    "sig.missing",
		    "a Secure Boot v1 bootloader is checked by the ROM against a digest in eFuse, not a signature");
		return v->err;
	}
	if (!v->o->nkeys) {
		add(v, v->o->require_signature ? ESPIMG_CHECK_FAIL :
						 ESPIMG_CHECK_WARN,
		    j->part, j->abs, "signatures", "sig.no_key",
		    "a Secure Boot v1 signature can only be checked with the public key (--key)%s",
		    v->o->nkey_digests ? "; key digests are for Secure Boot v2" : "");
		return v->err;
	}

	uint64_t at, signed_len;
	if (j->in_flash) {
		if (!img || img->stage < ESPIMG_STAGE_COMPLETE) {
			add(v, ESPIMG_CHECK_FAIL, j->part, j->abs, "signatures",
			    "sig.missing",
			    "the image could not be read to its end, so its Secure Boot v1 signature cannot be found");
			return v->err;
		}
		signed_len = img->image_size;
		at = signed_len;
		if (at + ESPIMG_SIG_V1_SIZE > size) {
			add(v, ESPIMG_CHECK_FAIL, j->part, j->abs + at,
			    "signatures", "sig.missing",
			    "no room for a Secure Boot v1 signature after the image");
			return v->err;
		}
		rc = espimg_source_digest(j->src, 0, signed_len, 32, dg);
	} else {
		if (size < ESPIMG_SIG_V1_SIZE) {
			add(v, ESPIMG_CHECK_FAIL, j->part, j->abs, "signatures",
			    "sig.layout",
			    "the file is %" PRIu64 " bytes, shorter than a Secure Boot v1 signature (68 bytes)",
			    size);
			return v->err;
		}
		signed_len = size - ESPIMG_SIG_V1_SIZE;
		at = signed_len;
		if (img && img->prefix_digest_ok && img->prefix_end == signed_len &&
		    img->prefix_digest_len == 32) {
			memcpy(dg, img->prefix_digest, 32);
			rc = 0;
		} else {
			rc = espimg_source_digest(j->src, 0, signed_len, 32, dg);
		}
	}
	if (rc < 0)
		return rc;
	rc = v1_verify_at(j->src, at, dg, v, &s);
	if (rc < 0)
		return rc;
	if (s.verdict == ESPIMG_SIGV_OK) {
		v1_line(v, j, at, ESPIMG_CHECK_PASS, &s,
			j->in_flash ? "right after the image" : "the last 68 bytes");
		add(v, ESPIMG_CHECK_PASS, j->part, j->abs + at, "signatures",
		    "sig.ok",
		    "Secure Boot v1 signature over %" PRIu64 " bytes verified with a supplied key",
		    signed_len);
		return v->err;
	}
	v1_line(v, j, at, ESPIMG_CHECK_FAIL, &s,
		j->in_flash ? "right after the image" : "the last 68 bytes");

	/* Where the ESP-IDF bootloader looks: right after the image. */
	if (!j->in_flash && img && img->stage >= ESPIMG_STAGE_COMPLETE &&
	    img->image_size + ESPIMG_SIG_V1_SIZE <= size &&
	    img->image_size != signed_len) {
		espimg_sig_check s2;
		uint8_t d2[32];

		rc = espimg_source_digest(j->src, 0, img->image_size, 32, d2);
		if (rc < 0)
			return rc;
		rc = v1_verify_at(j->src, img->image_size, d2, v, &s2);
		if (rc < 0)
			return rc;
		espimg_check *c = NULL;

		if (s2.verdict == ESPIMG_SIGV_OK)
			c = add(v, ESPIMG_CHECK_INFO, j->part,
				j->abs + img->image_size, "signature",
				"sig.v1_placement",
				"a valid Secure Boot v1 signature sits right after the image at 0x%" PRIx64 ", where the ESP-IDF bootloader reads it; espsecure verify-signature only reads the last 68 bytes",
				img->image_size);
		else if (s2.verdict != ESPIMG_SIGV_VERSION)
			c = add(v, ESPIMG_CHECK_INFO, j->part,
				j->abs + img->image_size, "signature",
				"sig.v1_placement",
				"a Secure Boot v1 signature follows the image at 0x%" PRIx64 " (where the ESP-IDF bootloader reads it), but it does not verify either: %s",
				img->image_size, s2.message);
		if (c) {
			c->sig_block = ESPIMG_CHECK_SIG_V1;
			c->sig_type = ESPIMG_SIG_ECDSA_P256;
			c->key_index = s2.key_index;
		}
	}
	add(v, ESPIMG_CHECK_FAIL, j->part, j->abs + at, "signatures",
	    espimg_sig_verdict_code(s.verdict),
	    "the Secure Boot v1 signature does not verify");
	return v->err;
}

/* The app or bootloader description line. */
static void check_desc(vctx *v, img_job *j, const espimg_image *img,
		       size_t first, bool boot_desc_failed)
{
	char a[40], b[40], c[40];

	if (img->has_app_desc) {
		const espimg_app_desc *d = &img->app_desc;

		if (has_check(v, first, "app-desc", ESPIMG_CHECK_FAIL))
			return;
		desc_str(a, sizeof(a), d->project_name, sizeof(d->project_name));
		desc_str(b, sizeof(b), d->version, sizeof(d->version));
		desc_str(c, sizeof(c), d->idf_ver, sizeof(d->idf_ver));
		add(v, ESPIMG_CHECK_PASS, j->part, j->abs + d->offset, "app-desc",
		    "image.app_desc",
		    "project %s, version %s, ESP-IDF %s, secure version %" PRIu32,
		    a[0] ? a : "\"\"", b[0] ? b : "\"\"", c[0] ? c : "\"\"",
		    d->secure_version);
	} else if (img->has_boot_desc) {
		const espimg_boot_desc *d = &img->boot_desc;

		if (boot_desc_failed)
			return;
		desc_str(c, sizeof(c), d->idf_ver, sizeof(d->idf_ver));
		desc_str(a, sizeof(a), d->date_time, sizeof(d->date_time));
		add(v, ESPIMG_CHECK_PASS, j->part, j->abs + d->offset,
		    "boot-desc", "image.boot_desc",
		    "bootloader version %" PRIu32 ", ESP-IDF %s, built %s",
		    d->version, c[0] ? c : "\"\"", a[0] ? a : "\"\"");
	} else if (!has_check(v, first, "app-desc", ESPIMG_CHECK_FAIL)) {
		add(v, ESPIMG_CHECK_INFO, j->part, j->abs, "app-desc",
		    "image.no_desc",
		    "no app or bootloader description (esp_app_desc_t, esp_bootloader_desc_t) in the image");
	}
}

/* The image's findings and PASS lines, one category after the other. */
static void image_checks(vctx *v, img_job *j, const espimg_image *img,
			 const espimg_diag_list *diags)
{
	static const char *const order[] = { "header", "segments", "checksum",
					     "sha256", "chip", "app-desc",
					     "boot-desc" };
	img_ctx ic = { img };
	char h[65];

	for (size_t k = 0; k < ESPIMG_ARRAY_SIZE(order); k++) {
		const char *cat = order[k];
		size_t first = v->r->nchecks;

		for (size_t i = 0; i < espimg_diag_count(diags); i++) {
			const espimg_diag *g = espimg_diag_get(diags, i);
			const char *check = image_check_of(&ic, g->code);

			if (!check || strcmp(check, cat))
				continue;
			add(v, sev_status(g->severity), j->part,
			    j->abs + (g->offset >= 0 ? (uint64_t)g->offset : 0),
			    check, g->code, "%s", g->message);
		}
		if (has_check(v, first, cat, ESPIMG_CHECK_FAIL))
			continue;
		if (!strcmp(cat, "header") && img->stage >= ESPIMG_STAGE_HEADER) {
			const char *mode = espimg_flash_mode_name(img->flash_mode);
			const char *size = espimg_flash_size_name(img->flash_size_freq >> 4);

			add(v, ESPIMG_CHECK_PASS, j->part, j->abs, "header",
			    "image.header", "%s %simage, %s flash, %s",
			    img->chip ? img->chip->name : "unknown-chip",
			    img->kind == ESPIMG_KIND_APP ? "app " :
			    img->kind == ESPIMG_KIND_BOOTLOADER ? "bootloader " : "",
			    mode ? mode : "?", size ? size : "unknown size");
		} else if (!strcmp(cat, "segments") &&
			   img->stage >= ESPIMG_STAGE_SEGMENTS) {
			add(v, ESPIMG_CHECK_PASS, j->part, j->abs + 8, "segments",
			    "image.segments", "%zu segment%s, image size %" PRIu64 " bytes",
			    img->nsegments, img->nsegments == 1 ? "" : "s",
			    img->image_size);
		} else if (!strcmp(cat, "checksum") &&
			   img->stage >= ESPIMG_STAGE_CHECKSUM && img->checksum_ok) {
			add(v, ESPIMG_CHECK_PASS, j->part,
			    j->abs + img->checksum_offset, "checksum",
			    "image.checksum", "0x%02x matches the segment data",
			    img->checksum_stored);
		} else if (!strcmp(cat, "sha256") &&
			   img->stage >= ESPIMG_STAGE_CHECKSUM) {
			if (img->has_sha256 && img->sha256_ok) {
				espimg_hex(h, img->sha256_stored, 32);
				add(v, ESPIMG_CHECK_PASS, j->part,
				    j->abs + img->sha256_offset, "sha256",
				    "image.sha256", "%s matches the image", h);
			} else if (!img->has_sha256) {
				add(v, ESPIMG_CHECK_INFO, j->part, j->abs + 23,
				    "sha256", "image.sha256",
				    "no SHA-256 appended (hash_appended is 0): only the checksum protects the image");
			}
		} else if (!strcmp(cat, "chip") && j->chip && img->chip) {
			if (img->chip != j->chip)
				add(v, ESPIMG_CHECK_FAIL, j->part, j->abs + 12,
				    "chip", "image.chip_mismatch",
				    "the image is for %s (chip id %u), not %s (chip id %u) %s",
				    img->chip->name, img->chip_id, j->chip->name,
				    j->chip->image_id, j->chip_why);
			else
				add(v, ESPIMG_CHECK_PASS, j->part, j->abs + 12,
				    "chip", "image.chip", "%s (chip id %u) %s",
				    img->chip->name, img->chip_id, j->chip_why);
		} else if (!strcmp(cat, "app-desc") &&
			   img->stage >= ESPIMG_STAGE_COMPLETE) {
			bool bad = false;

			for (size_t i = 0; i < espimg_diag_count(diags); i++) {
				const espimg_diag *g = espimg_diag_get(diags, i);
				const char *c = image_check_of(&ic, g->code);

				bad = bad || (c && !strcmp(c, "boot-desc") &&
					      g->severity == ESPIMG_SEV_ERROR);
			}
			check_desc(v, j, img, first, bad);
		}
	}
}

/*
 * One image: structure, checksum, SHA-256, chip, descriptors, then its
 * signatures.  j->failed says whether any check of it failed.
 */
static int check_image(vctx *v, img_job *j)
{
	const espimg_verify_opts *o = v->o;
	espimg_image_opts io = { 0 };
	espimg_diag_list *diags = espimg_diag_list_new();
	espimg_image *img = NULL;
	sig_plan p;
	size_t first = v->r->nchecks;
	int rc, rrc;

	if (!diags)
		return ESPIMG_ENOMEM;
	memset(&p, 0, sizeof(p));
	p.v1 = o->secure_boot == ESPIMG_SECURE_BOOT_V1;

	/* What the reader digests in its pass: the signed region. */
	if (p.v1) {
		if (!j->in_flash && j->src->size >= ESPIMG_SIG_V1_SIZE)
			p.prefix_len = j->src->size - ESPIMG_SIG_V1_SIZE;
	} else if (j->in_flash) {
		p.prefix_len = ESPIMG_PREFIX_TO_SECTOR;
	} else {
		rc = plan_file_sector(j->src, &p);
		if (rc < 0)
			goto out;
		if (p.file_rule) {
			p.prefix_len = p.sector_off;
			p.prefix_sha384 = p.need384 && !p.need256;
		} else {
			p.prefix_len = ESPIMG_PREFIX_TO_SECTOR;
		}
	}

	io.offset = 0;
	io.file = o->file;
	io.prefix_len = p.prefix_len;
	io.prefix_sha384 = p.prefix_sha384;
	rrc = espimg_image_read(j->src, &io, &img, diags);
	if (rrc == ESPIMG_EIO) {
		read_failed(v, &j->unreadable, j->part, j->abs,
			    j->in_flash ? "flash image" : "file");
		rc = ESPIMG_EIO;
		goto out;
	}
	if (rrc == ESPIMG_ENOMEM || rrc == ESPIMG_EINVAL || !img) {
		rc = rrc ? rrc : ESPIMG_ENOMEM;
		goto out;
	}

	image_checks(v, j, img, diags);

	j->img_chip = img->chip;
	if (img->stage >= ESPIMG_STAGE_HEADER) {
		j->has_header = true;
		j->flash_size_code = img->flash_size_freq >> 4;
	}
	if (img->has_app_desc)
		j->secure_version = img->app_desc.secure_version;

	if (j->clipped && img->stage < ESPIMG_STAGE_CHECKSUM &&
	    img->stage >= ESPIMG_STAGE_HEADER) {
		add(v, ESPIMG_CHECK_FAIL, j->part, j->abs, "fits", "image.fits",
		    "the image runs past the end of its 0x%" PRIx64 "-byte partition",
		    j->room);
	} else if (j->room && img->stage >= ESPIMG_STAGE_CHECKSUM) {
		uint64_t need = img->nsig ? img->sig_sector_offset + SECTOR
					  : img->image_size;

		if (need > j->room)
			add(v, ESPIMG_CHECK_FAIL, j->part, j->abs, "fits",
			    "image.fits",
			    "the image%s needs 0x%" PRIx64 " bytes but the partition has 0x%" PRIx64,
			    img->nsig ? " with its signature sector" : "",
			    need, j->room);
		else
			add(v, ESPIMG_CHECK_PASS, j->part, j->abs, "fits",
			    "image.fits",
			    "0x%" PRIx64 " bytes%s in a 0x%" PRIx64 "-byte partition",
			    need, img->nsig ? " with the signature sector" : "",
			    j->room);
	}

	rc = p.v1 ? check_v1(v, j, img) : check_v2(v, j, img, &p);
	if (rc == ESPIMG_EIO) {
		read_failed(v, &j->unreadable, j->part, j->abs,
			    j->in_flash ? "flash image" : "file");
	}
out:
	if (!rc && v->err)
		rc = v->err;
	j->failed = fails_since(v, first) > 0;
	espimg_image_free(img);
	espimg_diag_list_free(diags);
	return rc;
}

/* ------------------------------------------------------------ tables */

static int check_table_parsed(vctx *v, const espimg_ptable *t,
			      espimg_ptable_opts *po, const char *part,
			      uint64_t base)
{
	espimg_diag_list *diags = espimg_diag_list_new();
	size_t first = v->r->nchecks;

	if (!diags)
		return ESPIMG_ENOMEM;
	if (t->has_md5)
		add(v, ESPIMG_CHECK_PASS, part, base, "table", "ptable.md5",
		    "MD5 entry matches the %zu entries before it", t->count);
	else
		add(v, ESPIMG_CHECK_INFO, part, base, "table", "ptable.md5",
		    "no MD5 entry (table written with --disable-md5sum)");
	po->verify = true;
	espimg_ptable_verify(t, po, v->o->file, diags);
	add_diags(v, diags, 0, part, base, fixed_check, "table");
	if (!fails_since(v, first)) {
		if (po->flash_size)
			add(v, ESPIMG_CHECK_PASS, part, base, "table",
			    "ptable.layout",
			    "%zu partitions, layout rules hold (aligned, no overlaps, within %" PRIu64 " MB of flash)",
			    t->count, po->flash_size >> 20);
		else
			add(v, ESPIMG_CHECK_PASS, part, base, "table",
			    "ptable.layout",
			    "%zu partitions, layout rules hold (aligned, no overlaps)",
			    t->count);
	}
	espimg_diag_list_free(diags);
	return v->err;
}

/* The first `want` bytes of a standalone file (all of a shorter one) in a
 * new buffer (*buf, *len).  Returns 0, ESPIMG_ENOMEM, or the error of a
 * failed read (reported). */
static int read_head(vctx *v, const espimg_source *src, size_t want,
		     uint8_t **buf, size_t *len)
{
	int64_t n;

	*buf = malloc(want ? want : 1);
	if (!*buf)
		return ESPIMG_ENOMEM;
	n = read_some(src, 0, *buf, want);
	if (n < 0) {
		read_failed(v, &v->r->unreadable, "", 0, "file");
		free(*buf);
		*buf = NULL;
		return (int)n;
	}
	*len = (size_t)n;
	return 0;
}

/* A standalone binary partition table: at most one 0x1000-byte sector. */
static int check_ptable(vctx *v, const espimg_source *src)
{
	espimg_diag_list *diags = espimg_diag_list_new();
	espimg_ptable *t = NULL;
	espimg_ptable_opts po;
	uint8_t *buf = NULL;
	size_t want = src->size > ESPIMG_PTABLE_SECTOR ? ESPIMG_PTABLE_BIN_SIZE
						       : (size_t)src->size;
	size_t n;
	int rc = 0;

	if (!diags)
		return ESPIMG_ENOMEM;
	if (src->size > ESPIMG_PTABLE_SECTOR)
		add(v, ESPIMG_CHECK_INFO, "", 0, "table", "verify.table_size",
		    "the file is %" PRIu64 " bytes, more than a table sector (0x1000): only its first 0x%x bytes are read as the table",
		    src->size, ESPIMG_PTABLE_BIN_SIZE);
	rc = read_head(v, src, want, &buf, &n);
	if (rc)
		goto out;
	espimg_ptable_opts_init(&po);
	po.md5 = true;
	rc = espimg_ptable_parse(buf, n, &po, v->o->file, &t, diags);
	add_diags(v, diags, 0, "", 0, fixed_check, "table");
	if (rc == ESPIMG_ENOMEM || rc == ESPIMG_EINVAL)
		goto out;
	rc = 0;
	if (t)
		rc = check_table_parsed(v, t, &po, "", 0);
	else if (!fails_since(v, 0))
		add(v, ESPIMG_CHECK_FAIL, "", 0, "table", "ptable.magic",
		    "not a binary partition table");
out:
	espimg_ptable_free(t);
	free(buf);
	espimg_diag_list_free(diags);
	return rc ? rc : v->err;
}

/* ------------------------------------------------------------ otadata */

static bool otadata_size_ok(uint64_t size)
{
	return size >= ESPIMG_OTADATA_MIN_SIZE &&
	       size <= ESPIMG_OTADATA_MAX_SIZE &&
	       size % ESPIMG_OTADATA_SECTOR == 0;
}

/* Entries and the active one; nslots > 0 names the slot it selects. */
static void check_otadata_blob(vctx *v, const uint8_t *blob, size_t size,
			       uint64_t declared, const char *part,
			       uint64_t base, unsigned nslots)
{
	espimg_diag_list *diags = espimg_diag_list_new();
	espimg_otadata_entry e[2];
	espimg_otadata_active_why why;
	int a;

	if (!diags) {
		v->err = ESPIMG_ENOMEM;
		return;
	}
	if (!otadata_size_ok(declared))
		add(v, ESPIMG_CHECK_FAIL, part, base, "otadata", "otadata.size",
		    "otadata is 0x%" PRIx64 " bytes; the bootloader needs two 4 KiB sectors (0x2000 bytes, a multiple of 0x1000)",
		    declared);
	else
		add(v, ESPIMG_CHECK_PASS, part, base, "otadata", "otadata.size",
		    "0x%" PRIx64 " bytes (entries at 0x0 and 0x1000)", declared);

	espimg_otadata_decode(blob, size, NULL, e, diags);
	for (unsigned i = 0; i < 2; i++) {
		const char *state = espimg_otadata_state_name(e[i].state);

		if (!e[i].present)
			continue;
		if (e[i].erased)
			add(v, ESPIMG_CHECK_INFO, part, base + e[i].offset,
			    "otadata", "otadata.entry", "entry %u is erased", i);
		else if (e[i].crc_ok)
			add(v, ESPIMG_CHECK_PASS, part, base + e[i].offset,
			    "otadata", "otadata.crc",
			    "entry %u: seq %" PRIu32 ", state %s, CRC 0x%08" PRIx32 " matches",
			    i, e[i].seq, state ? state : "unknown", e[i].crc);
	}
	/* otadata.size and otadata.short would repeat the check above. */
	for (size_t i = 0; i < espimg_diag_count(diags); i++) {
		const espimg_diag *g = espimg_diag_get(diags, i);

		if (!strcmp(g->code, "otadata.size") ||
		    (!otadata_size_ok(declared) &&
		     !strcmp(g->code, "otadata.short")))
			continue;
		add(v, sev_status(g->severity), part,
		    base + (g->offset >= 0 ? (uint64_t)g->offset : 0),
		    "otadata", g->code, "%s", g->message);
	}
	a = espimg_otadata_active(e, &why);
	if (a < 0) {
		add(v, ESPIMG_CHECK_INFO, part, base, "otadata",
		    "otadata.active",
		    "no valid entry: the bootloader starts the factory app (or the first OTA app when there is none)");
	} else if (nslots) {
		add(v, ESPIMG_CHECK_PASS, part, base + e[a].offset, "otadata",
		    "otadata.active",
		    "active entry %d: seq %" PRIu32 " -> OTA slot %d of %u%s", a,
		    e[a].seq, espimg_otadata_seq_slot(e[a].seq, nslots), nslots,
		    why == ESPIMG_OTADATA_ACTIVE_TIE ? " (equal seqs: entry 0 wins)" : "");
	} else {
		/* Without the table the slot count N is unknown: the slot
		 * is (seq - 1) mod N. */
		uint32_t s1 = e[a].seq - 1;
		char slot[96];

		if (s1 == 0)
			snprintf(slot, sizeof(slot), "OTA slot 0 whatever the number of slots");
		else if (s1 < ESPIMG_OTADATA_MAX_SLOTS)
			snprintf(slot, sizeof(slot),
				 "OTA slot %" PRIu32 " with %" PRIu32 " or more slots, (seq - 1) mod N with N fewer",
				 s1, s1 + 1);
		else
			snprintf(slot, sizeof(slot),
				 "OTA slot (seq - 1) mod N: %" PRIu32 " with 2 slots",
				 s1 % 2);
		add(v, ESPIMG_CHECK_PASS, part, base + e[a].offset, "otadata",
		    "otadata.active", "active entry %d: seq %" PRIu32 " -> %s%s",
		    a, e[a].seq, slot,
		    why == ESPIMG_OTADATA_ACTIVE_TIE ? " (equal seqs: entry 0 wins)" : "");
	}
	espimg_diag_list_free(diags);
}

static int check_otadata(vctx *v, const espimg_source *src)
{
	size_t n = src->size < ESPIMG_OTADATA_MAX_SIZE ? (size_t)src->size
						       : ESPIMG_OTADATA_MAX_SIZE;
	uint8_t *buf;
	size_t got;
	int rc = read_head(v, src, n, &buf, &got);

	if (rc)
		return rc;
	check_otadata_blob(v, buf, got, src->size, "", 0, 0);
	free(buf);
	return v->err;
}

/* ------------------------------------------------------------ flash */

/*
 * espimg_flash_locate's findings.  A missing or misplaced bootloader and
 * a missing table fail the file (the device would not boot it); parts of
 * the table beyond the end of the file are normal for a merged file (it
 * ends after its last image), so they are facts, not warnings.
 */
static void add_flash_diags(vctx *v, const espimg_diag_list *d,
			    const espimg_flash *fl, bool bootloader,
			    uint64_t shift)
{
	for (size_t i = 0; i < espimg_diag_count(d); i++) {
		const espimg_diag *g = espimg_diag_get(d, i);
		espimg_check_status st = sev_status(g->severity);
		const char *part = "", *check = "layout";
		uint64_t off = g->offset >= 0 ? (uint64_t)g->offset : 0;
		bool about_bootloader = starts(g->code, "flash.no_bootloader") ||
					starts(g->code, "flash.bootloader");

		if (about_bootloader != bootloader)
			continue;
		if (!strcmp(g->code, "flash.no_bootloader")) {
			st = ESPIMG_CHECK_FAIL;
			part = "bootloader";
			check = "bootloader";
			off = fl->chip ? fl->chip->bootloader_offset : 0;
		} else if (!strcmp(g->code, "flash.bootloader_offset")) {
			/* Where the ROM does not look, unless the whole file
			 * is meant for a higher flash offset. */
			st = shift ? ESPIMG_CHECK_WARN : ESPIMG_CHECK_FAIL;
			part = "bootloader";
			check = "bootloader-offset";
		} else if (!strcmp(g->code, "flash.partition_outside")) {
			st = ESPIMG_CHECK_INFO;
		} else if (starts(g->code, "ptable.") ||
			   starts(g->code, "flash.no_table") ||
			   starts(g->code, "flash.table")) {
			part = "partition-table";
			check = "table";
		}
		add(v, st, part, off, check, g->code, "%s", g->message);
	}
}

/* The app partitions: one result per partition of the table. */
typedef struct app_res {
	bool present;  /* a valid image is there */
	uint32_t secure_version;
} app_res;

static int check_flash(vctx *v, const espimg_source *src)
{
	const espimg_verify_opts *o = v->o;
	espimg_flash_opts fo = { 0 };
	espimg_diag_list *diags = espimg_diag_list_new();
	espimg_flash *fl = NULL;
	espimg_otadata_layout *lay = NULL;
	espimg_otadata_config *cfg = NULL;
	espimg_otadata_boot_result *br = NULL;
	uint8_t *ota = NULL;
	size_t ota_len = 0;
	uint64_t ota_at = 0;
	app_res *apps = NULL;
	img_job bl = { 0 };
	bool boot_ok = true, bl_ok = false;
	uint64_t shift = 0;
	int rc;

	if (!diags)
		return ESPIMG_ENOMEM;
	fo.chip = o->chip;
	fo.table_offset = o->table_offset;
	fo.file = o->file;
	rc = espimg_flash_locate(src, &fo, &fl, diags);
	if (rc == ESPIMG_EIO) {
		read_failed(v, &v->r->unreadable, "", 0, "flash image");
		goto out;
	}
	if (rc == ESPIMG_ETOOBIG) {
		add(v, ESPIMG_CHECK_FAIL, "", 0, "type", "flash.too_big",
		    "%" PRIu64 " bytes is more than the largest flash (128 MB)",
		    src->size);
		rc = 0;
		goto out;
	}
	if (rc < 0 || !fl)
		goto out;
	/* esptool merge-bin --target-offset N: file offset 0 is flash
	 * offset N, so the bootloader and the table both sit N bytes low. */
	shift = fl->base_offset;
	add_flash_diags(v, diags, fl, true, shift);
	v->r->chip = fl->chip;

	/* The bootloader, where the ROM loads it. */
	if (!fl->has_bootloader) {
		boot_ok = false;
	} else {
		espimg_source w;
		espimg_window win;
		uint64_t end = fl->table && fl->table_offset > fl->bootloader_offset
				       ? fl->table_offset : src->size;

		if (fl->bootloader_offset_ok)
			add(v, ESPIMG_CHECK_PASS, "bootloader",
			    fl->bootloader_offset, "bootloader-offset",
			    "flash.bootloader_offset",
			    "at 0x%" PRIx64 ", where the %s ROM loads it",
			    fl->bootloader_offset, fl->chip->name);
		espimg_window_init(&w, &win, src, fl->bootloader_offset,
				   end - fl->bootloader_offset);
		bl.src = &w;
		bl.abs = fl->bootloader_offset;
		bl.part = "bootloader";
		bl.in_flash = true;
		bl.bootloader = true;
		bl.chip = o->chip;
		bl.chip_why = "as --chip says";
		bl.room = end - fl->bootloader_offset;
		bl.clipped = end < src->size;
		rc = check_image(v, &bl);
		if (rc < 0)
			goto out;
		if (!v->r->chip)
			v->r->chip = bl.img_chip;
		bl_ok = !bl.failed && (fl->bootloader_offset_ok || shift);
		if (!bl_ok)
			boot_ok = false;
	}
	add_flash_diags(v, diags, fl, false, shift);
	if (shift)
		add(v, ESPIMG_CHECK_INFO, "", 0, "layout", "flash.target_offset",
		    "the file starts at flash offset 0x%" PRIx64 " (esptool merge-bin --target-offset): it must be written there, and partitions are read 0x%" PRIx64 " bytes before their flash offsets",
		    shift, shift);

	if (!fl->table) {
		/* flash.no_table is among the findings */
		rc = 0;
		goto out;
	}

	/* The table, with the flash size the bootloader header gives. */
	espimg_ptable_opts po;
	espimg_ptable_opts_init(&po);
	po.md5 = true;
	po.table_offset = (uint32_t)fl->table_offset;
	if (bl.has_header)
		po.flash_size = espimg_flash_size_bytes(bl.flash_size_code);
	rc = check_table_parsed(v, fl->table, &po, "partition-table",
				fl->table_offset);
	if (rc < 0)
		goto out;

	/* Apps and otadata. */
	const espimg_ptable *t = fl->table;
	const espimg_partition *otap = NULL;
	apps = calloc(t->count ? t->count : 1, sizeof(*apps));
	if (!apps) {
		rc = ESPIMG_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < t->count; i++) {
		const espimg_partition *pt = &t->parts[i];
		espimg_source w;
		espimg_window win;
		uint8_t probe[EMPTY_PROBE];
		int64_t n;

		if (pt->type == ESPIMG_PTYPE_DATA &&
		    pt->subtype == ESPIMG_PSUB_DATA_OTA && !otap)
			otap = pt;
		if (pt->type != ESPIMG_PTYPE_APP)
			continue;
		if (pt->offset < shift) {
			add(v, ESPIMG_CHECK_FAIL, pt->name, 0, "image",
			    "flash.partition_outside",
			    "at flash 0x%" PRIx32 ", before the start of the file (flash 0x%" PRIx64 ")",
			    pt->offset, shift);
			continue;
		}
		uint64_t at = pt->offset - shift;

		if (at >= src->size) {
			add(v, ESPIMG_CHECK_INFO, pt->name, at, "image",
			    "flash.partition_outside",
			    "not in the file (it ends at 0x%" PRIx64 "): taken as empty",
			    src->size);
			continue;
		}
		n = read_some(src, at, probe,
			      pt->size < EMPTY_PROBE ? pt->size : EMPTY_PROBE);
		if (n < 0) {
			rc = (int)n;
			read_failed(v, &v->r->unreadable, pt->name, at,
				    "flash image");
			goto out;
		}
		if (espimg_all_ff(probe, (size_t)n)) {
			add(v, ESPIMG_CHECK_INFO, pt->name, at, "image",
			    "flash.empty", "empty (erased)");
			continue;
		}
		img_job aj = { 0 };

		espimg_window_init(&w, &win, src, at, pt->size);
		aj.src = &w;
		aj.abs = at;
		aj.part = pt->name;
		aj.in_flash = true;
		aj.chip = fl->chip ? fl->chip : o->chip;
		aj.chip_why = fl->chip ? "like the bootloader" : "as --chip says";
		aj.room = pt->size;
		aj.clipped = at + pt->size < src->size;
		rc = check_image(v, &aj);
		if (rc < 0)
			goto out;
		apps[i].present = !aj.failed;
		apps[i].secure_version = aj.secure_version;
	}

	if (otap) {
		uint64_t oat = otap->offset >= shift ? otap->offset - shift : src->size;
		uint64_t avail = oat < src->size ? src->size - oat : 0;
		size_t want = otap->size < ESPIMG_OTADATA_MAX_SIZE ? otap->size
						   : ESPIMG_OTADATA_MAX_SIZE;
		int64_t n;

		ota = malloc(want ? want : 1);
		if (!ota) {
			rc = ESPIMG_ENOMEM;
			goto out;
		}
		memset(ota, 0xFF, want);
		n = avail ? read_some(src, oat, ota, want) : 0;
		if (n < 0) {
			rc = (int)n;
			read_failed(v, &v->r->unreadable, otap->name, oat,
				    "flash image");
			goto out;
		}
		ota_at = oat;
		if ((uint64_t)n < want)
			add(v, ESPIMG_CHECK_INFO, otap->name, oat,
			    "otadata", "flash.partition_outside",
			    "the file ends 0x%" PRIx64 " bytes into the otadata partition: the rest is taken as erased",
			    (uint64_t)n);
		ota_len = want;
	}

	/* The next boot, on a copy of the otadata bytes. */
	lay = malloc(sizeof(*lay));
	cfg = malloc(sizeof(*cfg));
	br = malloc(sizeof(*br));
	if (!lay || !cfg || !br) {
		rc = ESPIMG_ENOMEM;
		goto out;
	}
	espimg_diag_clear(diags);
	rc = espimg_otadata_layout_from_ptable(t, lay, diags);
	add_diags(v, diags, 0, "partition-table", fl->table_offset,
		  fixed_check, "boot");
	if (rc < 0) {
		add(v, ESPIMG_CHECK_FAIL, "", 0, "boot", "flash.no_boot",
		    "the bootloader's view of the table cannot be built");
		rc = 0;
		goto out;
	}
	if (otap)
		check_otadata_blob(v, ota, ota_len, otap->size, otap->name,
				   ota_at, lay->boot_n);
	espimg_otadata_config_init(cfg);
	for (size_t a = 0; a < lay->n_apps; a++) {
		cfg->bad[a] = true;
		for (size_t i = 0; i < t->count; i++) {
			if (t->parts[i].type == ESPIMG_PTYPE_APP &&
			    t->parts[i].offset == lay->apps[a].offset &&
			    !strcmp(t->parts[i].name, lay->apps[a].name)) {
				cfg->bad[a] = !apps[i].present;
				cfg->secure_version[a] = apps[i].secure_version;
				break;
			}
		}
	}
	espimg_diag_clear(diags);
	rc = espimg_otadata_boot(lay->has_otadata ? ota : NULL,
				 lay->has_otadata ? ota_len : 0, lay, cfg, br,
				 diags);
	if (rc < 0) {
		add(v, ESPIMG_CHECK_FAIL, "", 0, "boot", "flash.no_boot",
		    "the next boot cannot be predicted (%s)", espimg_strerror(rc));
		rc = 0;
		goto out;
	}
	bool loads = br->outcome == ESPIMG_OTADATA_BOOT_LOADED && br->loaded >= 0;

	if (!boot_ok) {
		const char *would = loads ? lay->apps[br->loaded].name : NULL;

		add(v, ESPIMG_CHECK_FAIL, "", 0, "boot", "flash.no_boot",
		    "%s%s%s%s",
		    !fl->has_bootloader ? "no bootloader: the ROM has nothing to start" :
		    !fl->bootloader_offset_ok && !shift ?
			    "the bootloader is not where the ROM loads it" :
			    "the bootloader fails its checks: the ROM does not start it",
		    would ? " (with a working bootloader, " : "",
		    would ? would : "", would ? " would boot)" : "");
	} else if (loads) {
		const espimg_otadata_app *ld = &lay->apps[br->loaded];
		uint64_t ld_at = ld->offset >= shift ? ld->offset - shift : 0;

		copy_str(v->r->boot, sizeof(v->r->boot), ld->name);
		if (br->n_tries > 1) {
			char skipped[160] = "";
			size_t k = 0;

			for (unsigned i = 0; i + 1 < br->n_tries && k + 20 < sizeof(skipped); i++) {
				int ai = br->tries[i].app;
				k += (size_t)snprintf(skipped + k, sizeof(skipped) - k,
						      "%s%s", i ? ", " : "",
						      ai >= 0 ? lay->apps[ai].name : "?");
			}
			add(v, ESPIMG_CHECK_WARN, ld->name, ld_at, "boot",
			    "flash.boot_fallback",
			    "boots %s after %s failed to load", ld->name, skipped);
		} else {
			add(v, ESPIMG_CHECK_PASS, ld->name, ld_at, "boot",
			    "flash.boot", "boots %s", ld->name);
		}
	} else {
		add(v, ESPIMG_CHECK_FAIL, "", 0, "boot", "flash.no_boot",
		    "%s",
		    br->outcome == ESPIMG_OTADATA_BOOT_RESET_OTADATA ?
			"the otadata partition is smaller than 0x2000: the bootloader fails to read it and resets" :
		    br->outcome == ESPIMG_OTADATA_BOOT_FAULT ?
			"the bootloader's behaviour is undefined with this table (no OTA slot with anti-rollback, or more than 16 OTA partitions)" :
			"no app partition holds an image that loads: the bootloader resets (\"No bootable app partitions\")");
	}
	rc = 0;
out:
	free(ota);
	free(apps);
	free(lay);
	free(cfg);
	free(br);
	espimg_flash_free(fl);
	espimg_diag_list_free(diags);
	return rc ? rc : v->err;
}

/* ------------------------------------------------------------ entry */

const char *espimg_check_status_name(espimg_check_status s)
{
	switch (s) {
	case ESPIMG_CHECK_PASS:
		return "PASS";
	case ESPIMG_CHECK_FAIL:
		return "FAIL";
	case ESPIMG_CHECK_WARN:
		return "WARN";
	case ESPIMG_CHECK_INFO:
		return "INFO";
	}
	return "?";
}

void espimg_verify_report_free(espimg_verify_report *r)
{
	if (!r)
		return;
	free(r->checks);
	free(r);
}

/* The source read fails: report it as unreadable. */
static bool probe_unreadable(const espimg_source *src)
{
	uint8_t b;
	size_t got = 0;

	return src->size && src->read_at(src->ctx, 0, &b, 1, &got) < 0;
}

int espimg_verify(const espimg_source *src, const espimg_verify_opts *opts,
		  espimg_verify_report **out)
{
	static const espimg_verify_opts no_opts;
	espimg_verify_report *r;
	vctx v;
	int rc = 0;

	if (out)
		*out = NULL;
	if (!src || !src->read_at || !out)
		return ESPIMG_EINVAL;
	if (!opts)
		opts = &no_opts;
	if ((opts->nkeys && !opts->keys) ||
	    (opts->nkey_digests && !opts->key_digests))
		return ESPIMG_EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ESPIMG_ENOMEM;
	memset(&v, 0, sizeof(v));
	v.o = opts;
	v.r = r;
	v.trust = opts->nkeys || opts->nkey_digests;

	r->type = opts->type ? opts->type : espimg_detect_content(src);
	switch (r->type) {
	case ESPIMG_CONTENT_IMAGE: {
		img_job j = { 0 };

		j.src = src;
		j.part = "";
		j.chip = opts->chip;
		j.chip_why = "as --chip says";
		rc = check_image(&v, &j);
		r->chip = j.img_chip;
		if (j.unreadable)
			r->unreadable = true;
		break;
	}
	case ESPIMG_CONTENT_PTABLE:
		rc = check_ptable(&v, src);
		break;
	case ESPIMG_CONTENT_OTADATA:
		rc = check_otadata(&v, src);
		break;
	case ESPIMG_CONTENT_FLASH:
		rc = check_flash(&v, src);
		break;
	default:
		r->type = ESPIMG_CONTENT_UNKNOWN;
		if (probe_unreadable(src)) {
			read_failed(&v, &r->unreadable, "", 0, "file");
			rc = ESPIMG_EIO;
		} else if (!src->size) {
			add(&v, ESPIMG_CHECK_FAIL, "", 0, "type",
			    "verify.unknown_type",
			    "the file is empty: not an image, partition table, otadata or flash image");
		} else {
			add(&v, ESPIMG_CHECK_FAIL, "", 0, "type",
			    "verify.unknown_type",
			    "not an image, partition table, otadata or flash image; use --type");
		}
		break;
	}
	if (v.err || rc == ESPIMG_ENOMEM || rc == ESPIMG_EINVAL) {
		espimg_verify_report_free(r);
		return v.err ? v.err : rc;
	}
	if (rc == ESPIMG_EIO)
		r->unreadable = true;
	r->ok = !r->unreadable && fails_since(&v, 0) == 0;
	*out = r;
	return r->unreadable ? ESPIMG_EIO : ESPIMG_OK;
}
