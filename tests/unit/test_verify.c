/*
 * test_verify.c - espimg_verify: images (structure, chip, descriptors),
 * Secure Boot v2 and v1 signatures signed here with tests/keys, partition
 * tables, otadata and synthesised flash images with their boot
 * prediction; the report's JSON and text; then the corpus: every row of
 * expected/verify_signature_index.tsv against espsecure 5.3.1's exit
 * status, the precise code of every bad/sig_* file, and the merged flash
 * images described by the expected layout scans (LAYOUT.layout.txt).
 */
#include <criterion/criterion.h>

#include "fixtures.h"
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "espimg/espimg.h"
#include "espimg/otadata.h"
#include "espimg/ptable.h"
#include "espimg/verify.h"
#include "synth.h"

/* ------------------------------------------------------------ helpers */

/* An app for `chip`: a DROM segment starting with an esp_app_desc_t,
 * IRAM code and IROM code; tweak (may be NULL) edits it first. */
static uint8_t *make_app(const char *chip, const char *project,
			 void (*tweak)(synth_image *), size_t *len)
{
	const synth_chip *c = fx_synth_chip(chip);
	espimg_app_desc d;
	uint8_t drom[512];
	synth_image s;

	synth_init(&s, c->id);
	synth_app_desc_init(&d, project, "1.2.3");
	synth_fill_bytes(drom, sizeof(drom), SYNTH_FILL_RANDOM, 7);
	synth_app_desc_bytes(&d, drom);
	cr_assert_geq(synth_add(&s, c->drom, drom, sizeof(drom)), 0);
	cr_assert_geq(synth_add_fill(&s, c->iram, 1000, SYNTH_FILL_RANDOM, 1), 0);
	cr_assert_geq(synth_add_fill(&s, c->irom, 3000, SYNTH_FILL_RANDOM, 2), 0);
	if (tweak)
		tweak(&s);
	return fx_synth_finish(&s, len);
}

/* A second-stage bootloader: IRAM code and a DRAM segment holding an
 * esp_bootloader_desc_t. */
static uint8_t *make_bootloader(const char *chip, size_t *len)
{
	const synth_chip *c = fx_synth_chip(chip);
	espimg_boot_desc d;
	uint8_t dram[128];
	synth_image s;

	synth_init(&s, c->id);
	synth_boot_desc_init(&d, 1);
	memset(dram, 0, sizeof(dram));
	synth_boot_desc_bytes(&d, dram);
	cr_assert_geq(synth_add_fill(&s, c->iram, 2000, SYNTH_FILL_RANDOM, 3), 0);
	cr_assert_geq(synth_add(&s, c->dram, dram, sizeof(dram)), 0);
	return fx_synth_finish(&s, len);
}

static espimg_key *load_key(const char *name)
{
	char path[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	espimg_key *k = NULL;

	snprintf(path, sizeof(path), "tests/keys/%s", name);
	cr_assert_eq(espimg_read_file(path, 1 << 20, &buf, &len), 0, "%s", path);
	cr_assert_eq(espimg_key_load(buf, len, name, &k, NULL), 0, "%s", name);
	free(buf);
	return k;
}

/* Signs data for Secure Boot v2 with the private keys (espsecure's layout:
 * padded to 4096, then the sector); returns the signed file. */
static uint8_t *sign_v2(const uint8_t *data, size_t len, const char *const *names,
			size_t n, size_t *out_len)
{
	espimg_key *keys[3];
	espimg_sign_result res;
	uint8_t *out;

	for (size_t i = 0; i < n; i++)
		keys[i] = load_key(names[i]);
	cr_assert_eq(espimg_sbv2_sign(data, len, (const espimg_key *const *)keys,
				      n, false, &res, NULL), 0);
	*out_len = res.data_len + res.pad_len + ESPIMG_SIG_SECTOR_SIZE;
	out = malloc(*out_len);
	cr_assert_not_null(out);
	memcpy(out, data, res.data_len);
	memset(out + res.data_len, 0xFF, res.pad_len);
	memcpy(out + res.data_len + res.pad_len, res.sector, ESPIMG_SIG_SECTOR_SIZE);
	for (size_t i = 0; i < n; i++)
		espimg_key_free(keys[i]);
	return out;
}

static void sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned int k = 32;

	cr_assert_eq(EVP_Digest(p, n, out, &k, EVP_sha256(), NULL), 1);
}

/* Options with up to 3 keys by file name; free with opts_free. */
typedef struct vopts {
	espimg_verify_opts o;
	espimg_key *keys[3];
	const char *names[3];
} vopts;

static void opts_keys(vopts *v, const char *k0, const char *k1)
{
	memset(v, 0, sizeof(*v));
	if (k0) {
		v->names[v->o.nkeys] = k0;
		v->keys[v->o.nkeys++] = load_key(k0);
	}
	if (k1) {
		v->names[v->o.nkeys] = k1;
		v->keys[v->o.nkeys++] = load_key(k1);
	}
	v->o.keys = (const espimg_key *const *)v->keys;
}

static void opts_free(vopts *v)
{
	for (size_t i = 0; i < v->o.nkeys; i++)
		espimg_key_free(v->keys[i]);
}

static espimg_verify_report *verify_mem(const uint8_t *p, size_t n,
					const espimg_verify_opts *o)
{
	espimg_source src;
	espimg_verify_report *r = NULL;
	int rc;

	espimg_source_mem(&src, p, n);
	rc = espimg_verify(&src, o, &r);
	cr_assert_not_null(r, "rc %d", rc);
	cr_assert_eq(rc, r->unreadable ? ESPIMG_EIO : ESPIMG_OK);
	return r;
}

/* Every check as text, for assertion messages; free() it. */
static char *dump(const espimg_verify_report *r)
{
	char *t = NULL;

	cr_assert_eq(espimg_verify_text(r, "f", NULL, &t, NULL), 0);
	return t;
}

/* The first check with this check name and code (either may be NULL for
 * any), part (NULL any), and sig_block (-2 any). */
static const espimg_check *find(const espimg_verify_report *r, const char *part,
				const char *check, const char *code, int block)
{
	for (size_t i = 0; i < r->nchecks; i++) {
		const espimg_check *c = &r->checks[i];

		if ((!part || !strcmp(c->part, part)) &&
		    (!check || !strcmp(c->check, check)) &&
		    (!code || !strcmp(c->code, code)) &&
		    (block == -2 || c->sig_block == block))
			return c;
	}
	return NULL;
}

#define expect(r, part, check, code, block, st)                                \
	do {                                                                   \
		const espimg_check *c_ = find(r, part, check, code, block);    \
		char *d_ = dump(r);                                            \
		cr_assert_not_null(c_, "no %s %s [%s] in\n%s", part ? part : "", \
				   check ? check : "*", code ? code : "*", d_);  \
		cr_assert_eq(c_->status, st, "%s [%s] is %s in\n%s", check,    \
			     code ? code : "*",                                \
			     espimg_check_status_name(c_->status), d_);         \
		free(d_);                                                      \
	} while (0)

static size_t count_status(const espimg_verify_report *r, espimg_check_status st)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nchecks; i++)
		n += r->checks[i].status == st;
	return n;
}

/* ------------------------------------------------------------ basics */

Test(verify, status_names)
{
	cr_assert_str_eq(espimg_check_status_name(ESPIMG_CHECK_PASS), "PASS");
	cr_assert_str_eq(espimg_check_status_name(ESPIMG_CHECK_FAIL), "FAIL");
	cr_assert_str_eq(espimg_check_status_name(ESPIMG_CHECK_WARN), "WARN");
	cr_assert_str_eq(espimg_check_status_name(ESPIMG_CHECK_INFO), "INFO");
}

Test(verify, bad_arguments)
{
	espimg_verify_report *r = (void *)1;
	espimg_source src;
	espimg_verify_opts o = { 0 };
	uint8_t b = 0xE9;

	espimg_source_mem(&src, &b, 1);
	cr_assert_eq(espimg_verify(NULL, NULL, &r), ESPIMG_EINVAL);
	cr_assert_null(r);
	cr_assert_eq(espimg_verify(&src, NULL, NULL), ESPIMG_EINVAL);
	o.nkeys = 1; /* keys NULL */
	cr_assert_eq(espimg_verify(&src, &o, &r), ESPIMG_EINVAL);
	espimg_verify_report_free(NULL);
	cr_assert_eq(espimg_verify_text(NULL, "f", NULL, (char **)&r, NULL),
		     ESPIMG_EINVAL);
}

Test(verify, unknown_and_empty)
{
	uint8_t junk[300];
	espimg_verify_report *r;

	memset(junk, 0x42, sizeof(junk));
	r = verify_mem(junk, sizeof(junk), NULL);
	cr_assert_eq(r->type, ESPIMG_CONTENT_UNKNOWN);
	cr_assert_not(r->ok);
	cr_assert_not(r->unreadable);
	expect(r, "", "type", "verify.unknown_type", -2, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);

	r = verify_mem(junk, 0, NULL);
	cr_assert_not(r->ok);
	expect(r, "", "type", "verify.unknown_type", -2, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
}

static int fail_read(void *ctx, uint64_t off, void *buf, size_t len,
		     size_t *got)
{
	*got = 0;
	return ESPIMG_EIO;
}

Test(verify, unreadable)
{
	espimg_source src = { fail_read, NULL, 100000 };
	espimg_verify_opts o = { 0 };
	espimg_verify_report *r = NULL;
	espimg_content types[] = { ESPIMG_CONTENT_UNKNOWN, ESPIMG_CONTENT_IMAGE,
				   ESPIMG_CONTENT_PTABLE, ESPIMG_CONTENT_OTADATA,
				   ESPIMG_CONTENT_FLASH };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		o.type = types[i];
		cr_assert_eq(espimg_verify(&src, &o, &r), ESPIMG_EIO, "type %zu", i);
		cr_assert_not_null(r);
		cr_assert(r->unreadable, "type %zu", i);
		cr_assert_not(r->ok);
		expect(r, NULL, "read", "io.read", -2, ESPIMG_CHECK_FAIL);
		espimg_verify_report_free(r);
	}
}

/* ------------------------------------------------------------ images */

Test(verify, good_app)
{
	size_t len;
	uint8_t *app = make_app("esp32c3", "demo", NULL, &len);
	espimg_verify_report *r = verify_mem(app, len, NULL);
	const espimg_check *c;

	cr_assert(r->ok);
	cr_assert_eq(r->type, ESPIMG_CONTENT_IMAGE);
	cr_assert_not_null(r->chip);
	cr_assert_str_eq(r->chip->key, "esp32c3");
	cr_assert_eq(count_status(r, ESPIMG_CHECK_FAIL), 0);
	expect(r, "", "header", "image.header", -2, ESPIMG_CHECK_PASS);
	expect(r, "", "segments", "image.segments", -2, ESPIMG_CHECK_PASS);
	expect(r, "", "checksum", "image.checksum", -2, ESPIMG_CHECK_PASS);
	expect(r, "", "sha256", "image.sha256", -2, ESPIMG_CHECK_PASS);
	c = find(r, "", "app-desc", "image.app_desc", -2);
	cr_assert_not_null(c);
	cr_assert_eq(c->status, ESPIMG_CHECK_PASS);
	cr_assert(strstr(c->message, "project demo"), "%s", c->message);
	cr_assert(strstr(c->message, "version 1.2.3"), "%s", c->message);
	cr_assert(strstr(c->message, "ESP-IDF v5.4.1"), "%s", c->message);
	/* Unsigned and nothing asked: a fact, not a failure. */
	expect(r, "", "signatures", "sig.missing", -2, ESPIMG_CHECK_INFO);
	cr_assert_null(find(r, NULL, "chip", NULL, -2)); /* no --chip */
	espimg_verify_report_free(r);
	free(app);
}

static void tweak_bad_checksum(synth_image *s) { s->bad_checksum = true; }
static void tweak_bad_digest(synth_image *s) { s->bad_digest = true; }
static void tweak_no_hash(synth_image *s) { s->hash_appended = 0; }
static void tweak_bad_utf8(synth_image *s)
{
	/* version field of esp_app_desc_t at offset 16: 0xC3 0x28 is not
	 * UTF-8 */
	s->seg[0].data[16] = 0xC3;
	s->seg[0].data[17] = 0x28;
}

Test(verify, checksum_digest_and_desc_failures)
{
	size_t len;
	uint8_t *app = make_app("esp32s3", "x", tweak_bad_checksum, &len);
	espimg_verify_report *r = verify_mem(app, len, NULL);
	const espimg_check *c;

	cr_assert_not(r->ok);
	c = find(r, "", "checksum", "image.checksum", -2);
	cr_assert_not_null(c);
	cr_assert_eq(c->status, ESPIMG_CHECK_FAIL);
	/* The checksum byte sits 33 bytes before the end (SHA-256 after it). */
	cr_assert_eq(c->offset, len - 33);
	espimg_verify_report_free(r);
	free(app);

	app = make_app("esp32s3", "x", tweak_bad_digest, &len);
	r = verify_mem(app, len, NULL);
	cr_assert_not(r->ok);
	expect(r, "", "sha256", "image.sha256", -2, ESPIMG_CHECK_FAIL);
	expect(r, "", "checksum", "image.checksum", -2, ESPIMG_CHECK_PASS);
	espimg_verify_report_free(r);
	free(app);

	app = make_app("esp32s3", "x", tweak_no_hash, &len);
	r = verify_mem(app, len, NULL);
	cr_assert(r->ok);
	expect(r, "", "sha256", "image.sha256", -2, ESPIMG_CHECK_INFO);
	espimg_verify_report_free(r);
	free(app);

	app = make_app("esp32s3", "x", tweak_bad_utf8, &len);
	r = verify_mem(app, len, NULL);
	cr_assert_not(r->ok);
	expect(r, "", "app-desc", "image.desc_utf8", -2, ESPIMG_CHECK_FAIL);
	cr_assert_null(find(r, "", "app-desc", "image.app_desc", -2));
	espimg_verify_report_free(r);
	free(app);
}

Test(verify, truncated_image)
{
	size_t len;
	uint8_t *app = make_app("esp32c3", "x", NULL, &len);
	espimg_verify_report *r = verify_mem(app, 700, NULL);

	cr_assert_not(r->ok);
	expect(r, "", "segments", "image.segment_past_eof", -2, ESPIMG_CHECK_FAIL);
	cr_assert_null(find(r, "", "checksum", "image.checksum", -2));
	espimg_verify_report_free(r);
	free(app);
}

Test(verify, chip_expected)
{
	size_t len;
	uint8_t *app = make_app("esp32c3", "x", NULL, &len);
	espimg_verify_opts o = { 0 };
	espimg_verify_report *r;

	o.chip = espimg_chip_by_key("esp32s3");
	r = verify_mem(app, len, &o);
	cr_assert_not(r->ok);
	expect(r, "", "chip", "image.chip_mismatch", -2, ESPIMG_CHECK_FAIL);
	cr_assert_eq(find(r, "", "chip", NULL, -2)->offset, 12);
	espimg_verify_report_free(r);

	o.chip = espimg_chip_by_key("esp32c3");
	r = verify_mem(app, len, &o);
	cr_assert(r->ok);
	expect(r, "", "chip", "image.chip", -2, ESPIMG_CHECK_PASS);
	espimg_verify_report_free(r);
	free(app);
}

Test(verify, bootloader_desc)
{
	size_t len;
	uint8_t *bl = make_bootloader("esp32c6", &len);
	espimg_verify_report *r = verify_mem(bl, len, NULL);
	const espimg_check *c = find(r, "", "boot-desc", "image.boot_desc", -2);

	cr_assert(r->ok);
	cr_assert_not_null(c);
	cr_assert(strstr(c->message, "bootloader version 1"), "%s", c->message);
	espimg_verify_report_free(r);
	free(bl);
}

/* ------------------------------------------------------------ SBv2 */

Test(verify, v2_rsa_keys_and_digests)
{
	static const char *const k[] = { "rsa3072.pem" };
	size_t alen, slen;
	uint8_t *app = make_app("esp32c3", "signed", NULL, &alen);
	uint8_t *s = sign_v2(app, alen, k, 1, &slen);
	espimg_verify_report *r;
	const espimg_check *c;
	uint8_t kd[32], other[32];
	vopts v;

	/* No key: consistent with the embedded key. */
	r = verify_mem(s, slen, NULL);
	cr_assert(r->ok);
	expect(r, "", "signature", "sig.no_key", 0, ESPIMG_CHECK_PASS);
	expect(r, "", "signature", "sig.empty", 1, ESPIMG_CHECK_INFO);
	expect(r, "", "signature", "sig.empty", 2, ESPIMG_CHECK_INFO);
	expect(r, "", "signatures", "sig.no_key", -1, ESPIMG_CHECK_PASS);
	c = find(r, "", "signature", NULL, 0);
	cr_assert_eq(c->offset, slen - 4096);
	cr_assert_eq(c->sig_type, ESPIMG_SIG_RSA3072);
	cr_assert(c->has_key_digest);
	espimg_verify_report_free(r);

	/* The public half verifies it. */
	opts_keys(&v, "rsa3072.pub.pem", NULL);
	r = verify_mem(s, slen, &v.o);
	cr_assert(r->ok);
	expect(r, "", "signature", "sig.ok", 0, ESPIMG_CHECK_PASS);
	c = find(r, "", "signature", "sig.ok", 0);
	cr_assert_eq(c->key_index, 0);
	cr_assert_eq(espimg_key_sbv2_digest(v.keys[0], kd), 0);
	cr_assert_arr_eq(c->key_digest, kd, 32);
	expect(r, "", "signatures", "sig.ok", -1, ESPIMG_CHECK_PASS);
	espimg_verify_report_free(r);
	opts_free(&v);

	/* Another RSA-3072 key: FAIL with the precise reason. */
	opts_keys(&v, "rsa3072-2.pub.pem", NULL);
	r = verify_mem(s, slen, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "signature", "sig.signature", 0, ESPIMG_CHECK_FAIL);
	expect(r, "", "signatures", "sig.signature", -1, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	opts_free(&v);

	/* An RSA-2048 key, an ECDSA key. */
	opts_keys(&v, "rsa2048.pub.pem", NULL);
	r = verify_mem(s, slen, &v.o);
	expect(r, "", "signature", "sig.key_size", 0, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	opts_free(&v);
	opts_keys(&v, "p256.pub.pem", NULL);
	r = verify_mem(s, slen, &v.o);
	expect(r, "", "signature", "sig.key_type", 0, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	opts_free(&v);

	/* eFuse digests: the right one passes, another fails. */
	memset(&v, 0, sizeof(v));
	v.o.key_digests = (const uint8_t(*)[32])kd;
	v.o.nkey_digests = 1;
	r = verify_mem(s, slen, &v.o);
	cr_assert(r->ok);
	c = find(r, "", "signature", "sig.ok", 0);
	cr_assert_not_null(c);
	cr_assert_eq(c->key_digest_index, 0);
	espimg_verify_report_free(r);
	memset(other, 0x5A, sizeof(other));
	v.o.key_digests = (const uint8_t(*)[32])other;
	r = verify_mem(s, slen, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "signature", "sig.key_digest", 0, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);

	/* Keys imply a signature: the unsigned app fails. */
	opts_keys(&v, "rsa3072.pub.pem", NULL);
	r = verify_mem(app, alen, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "signatures", "sig.missing", -1, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	opts_free(&v);

	/* So does --require-signature. */
	memset(&v, 0, sizeof(v));
	v.o.require_signature = true;
	r = verify_mem(app, alen, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "signatures", "sig.missing", -1, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	r = verify_mem(s, slen, &v.o);
	cr_assert(r->ok);
	espimg_verify_report_free(r);

	free(s);
	free(app);
}

/* Three blocks of three types; each key verifies its own block and the
 * others are facts, not failures.  The P-384 block needs SHA-384 next to
 * the SHA-256 of the other two. */
Test(verify, v2_three_blocks)
{
	static const char *const k[] = { "rsa3072.pem", "p256.pem", "p384.pem" };
	static const char *const pub[] = { "rsa3072.pub.pem", "p256.pub.pem",
					   "p384.pub.pem" };
	size_t alen, slen;
	uint8_t *app = make_app("esp32c6", "multi", NULL, &alen);
	uint8_t *s = sign_v2(app, alen, k, 3, &slen);
	espimg_verify_report *r;
	vopts v;

	for (int i = 0; i < 3; i++) {
		opts_keys(&v, pub[i], NULL);
		r = verify_mem(s, slen, &v.o);
		cr_assert(r->ok, "key %s", pub[i]);
		for (int b = 0; b < 3; b++) {
			const espimg_check *c = find(r, "", "signature", NULL, b);

			cr_assert_not_null(c);
			if (b == i)
				cr_assert_str_eq(c->code, "sig.ok");
			else
				cr_assert_eq(c->status, ESPIMG_CHECK_INFO,
					     "block %d with %s: %s %s", b, pub[i],
					     c->code, c->message);
		}
		expect(r, "", "signatures", "sig.ok", -1, ESPIMG_CHECK_PASS);
		espimg_verify_report_free(r);
		opts_free(&v);
	}
	r = verify_mem(s, slen, NULL);
	cr_assert(r->ok);
	for (int b = 0; b < 3; b++)
		expect(r, "", "signature", "sig.no_key", b, ESPIMG_CHECK_PASS);
	espimg_verify_report_free(r);
	free(s);
	free(app);
}

Test(verify, v2_p384_alone)
{
	static const char *const k[] = { "p384.pem" };
	size_t alen, slen;
	uint8_t *app = make_app("esp32c5", "p384", NULL, &alen);
	uint8_t *s = sign_v2(app, alen, k, 1, &slen);
	espimg_verify_report *r;
	vopts v;

	opts_keys(&v, "p384.pub.pem", NULL);
	r = verify_mem(s, slen, &v.o);
	cr_assert(r->ok);
	expect(r, "", "signature", "sig.ok", 0, ESPIMG_CHECK_PASS);
	cr_assert_eq(find(r, "", "signature", "sig.ok", 0)->sig_type,
		     ESPIMG_SIG_ECDSA_P384);
	espimg_verify_report_free(r);
	opts_free(&v);

	/* A changed padding byte: the image is fine, the digest is not. */
	s[alen + 5] ^= 0x01;
	opts_keys(&v, "p384.pub.pem", NULL);
	r = verify_mem(s, slen, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "checksum", "image.checksum", -2, ESPIMG_CHECK_PASS);
	expect(r, "", "signature", "sig.digest", 0, ESPIMG_CHECK_FAIL);
	expect(r, "", "signatures", "sig.digest", -1, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	opts_free(&v);
	free(s);
	free(app);
}

/* Stores the CRC-32 of a block's first 1196 bytes (zlib's, as the
 * bootloader checks it) after editing the block. */
static void fix_crc(uint8_t *blk)
{
	uint32_t crc = (uint32_t)crc32(0, blk, 1196);

	blk[1196] = (uint8_t)crc;
	blk[1197] = (uint8_t)(crc >> 8);
	blk[1198] = (uint8_t)(crc >> 16);
	blk[1199] = (uint8_t)(crc >> 24);
}

/* A verified block next to one whose stored digest is wrong still fails:
 * espsecure stops at a digest mismatch. */
Test(verify, v2_digest_mismatch_beats_a_good_block)
{
	static const char *const k[] = { "p256.pem", "p256-2.pem" };
	size_t alen, slen;
	uint8_t *app = make_app("esp32c3", "x", NULL, &alen);
	uint8_t *s = sign_v2(app, alen, k, 2, &slen);
	uint8_t *blk = s + slen - 4096 + ESPIMG_SIG_BLOCK_SIZE;
	espimg_verify_report *r;
	vopts v;

	blk[4] ^= 0xFF; /* block 1's stored digest */
	fix_crc(blk);
	opts_keys(&v, "p256.pub.pem", NULL);
	r = verify_mem(s, slen, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "signature", "sig.ok", 0, ESPIMG_CHECK_PASS);
	expect(r, "", "signature", "sig.digest", 1, ESPIMG_CHECK_FAIL);
	expect(r, "", "signatures", "sig.digest", -1, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	opts_free(&v);
	free(s);
	free(app);
}

/* The signature verifies with the supplied key, but the block embeds
 * another public key (the device uses the embedded one): a FAIL, unlike
 * espsecure, which never compares. */
Test(verify, v2_key_mismatch)
{
	static const char *const k1[] = { "p256.pem" };
	static const char *const k2[] = { "p256-2.pem" };
	size_t alen, l1, l2;
	uint8_t *app = make_app("esp32c3", "x", NULL, &alen);
	uint8_t *s1 = sign_v2(app, alen, k1, 1, &l1);
	uint8_t *s2 = sign_v2(app, alen, k2, 1, &l2);
	uint8_t *b1 = s1 + l1 - 4096, *b2 = s2 + l2 - 4096;
	espimg_verify_report *r;
	vopts v;

	/* curve id and X||Y of p256-2 into the block p256 signed */
	memcpy(b1 + 36, b2 + 36, 65);
	fix_crc(b1);
	opts_keys(&v, "p256.pub.pem", NULL);
	r = verify_mem(s1, l1, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "signature", "sig.key_mismatch", 0, ESPIMG_CHECK_FAIL);
	expect(r, "", "signatures", "sig.key_mismatch", -1, ESPIMG_CHECK_FAIL);
	cr_assert_eq(find(r, "", "signature", NULL, 0)->key_index, 0);
	espimg_verify_report_free(r);
	opts_free(&v);
	free(s1);
	free(s2);
	free(app);
}

/* Broken blocks built with the synthesiser: the reason is the code. */
Test(verify, v2_invalid_blocks)
{
	static const struct {
		synth_sig sig;
		const char *code;
	} cases[] = {
		{ { .version = 2, .bad_crc = true }, "sig.crc" },
		{ { .version = 2, .magic = 0xE6 }, "sig.magic" },
		{ { .version = 3, .curve = 2 }, "sig.signature" },
		{ { .version = 2 }, "sig.signature" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		uint8_t *app = make_app("esp32c3", "x", NULL, &len);
		espimg_verify_report *r;
		vopts v;

		cr_assert_eq(synth_sign_v2(&app, &len, &cases[i].sig, 1), 0);
		/* The fake blocks' key bytes are arbitrary: no key verifies
		 * them, not even their own. */
		r = verify_mem(app, len, NULL);
		cr_assert_not(r->ok, "case %zu", i);
		expect(r, "", "signature", cases[i].code, 0, ESPIMG_CHECK_FAIL);
		espimg_verify_report_free(r);
		opts_keys(&v, "rsa3072.pub.pem", NULL);
		r = verify_mem(app, len, &v.o);
		cr_assert_not(r->ok, "case %zu", i);
		if (strcmp(cases[i].code, "sig.signature") || cases[i].sig.version == 2)
			expect(r, "", "signature", cases[i].code, 0,
			       ESPIMG_CHECK_FAIL);
		espimg_verify_report_free(r);
		opts_free(&v);
		free(app);
	}
}

/* An invalid block next to a verified one is a warning. */
Test(verify, v2_invalid_block_beside_a_good_one)
{
	static const char *const k[] = { "rsa3072.pem" };
	size_t alen, slen;
	uint8_t *app = make_app("esp32c3", "x", NULL, &alen);
	uint8_t *s = sign_v2(app, alen, k, 1, &slen);
	uint8_t *b1 = s + slen - 4096 + ESPIMG_SIG_BLOCK_SIZE;
	espimg_verify_report *r;
	vopts v;

	memcpy(b1, s + slen - 4096, ESPIMG_SIG_BLOCK_SIZE);
	b1[1] = 9; /* version 9, CRC left stale */
	fix_crc(b1);
	opts_keys(&v, "rsa3072.pub.pem", NULL);
	r = verify_mem(s, slen, &v.o);
	cr_assert(r->ok);
	expect(r, "", "signature", "sig.ok", 0, ESPIMG_CHECK_PASS);
	expect(r, "", "signature", "sig.version", 1, ESPIMG_CHECK_WARN);
	expect(r, "", "signature", "sig.empty", 2, ESPIMG_CHECK_INFO);
	espimg_verify_report_free(r);
	opts_free(&v);
	free(s);
	free(app);
}

/* Placement: espsecure's rule for a standalone file (size a multiple of
 * 4096, sector last) against the bootloader's (image end rounded up). */
Test(verify, v2_layout)
{
	static const char *const k[] = { "rsa3072.pem" };
	size_t alen, slen;
	uint8_t *app = make_app("esp32c3", "x", NULL, &alen);
	uint8_t *s = sign_v2(app, alen, k, 1, &slen);
	uint8_t *big;
	espimg_verify_report *r;
	vopts v;

	/* Cut short: the sector is incomplete. */
	opts_keys(&v, "rsa3072.pub.pem", NULL);
	r = verify_mem(s, slen - 100, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "signatures", "sig.layout", -1, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);

	/* An erased sector after the signed file: the bootloader still
	 * finds the signature, espsecure does not. */
	big = malloc(slen + 4096);
	cr_assert_not_null(big);
	memcpy(big, s, slen);
	memset(big + slen, 0xFF, 4096);
	r = verify_mem(big, slen + 4096, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "signature", "sig.ok", 0, ESPIMG_CHECK_PASS);
	expect(r, "", "signatures", "sig.layout", -1, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	opts_free(&v);
	r = verify_mem(big, slen + 4096, NULL);
	cr_assert(r->ok);
	expect(r, "", "signatures", "sig.layout", -1, ESPIMG_CHECK_WARN);
	espimg_verify_report_free(r);
	free(big);

	/* The image with 4 KiB of zeros before the sector: espsecure's rule
	 * holds, but the bootloader would look elsewhere. */
	big = malloc(alen + 8192);
	cr_assert_not_null(big);
	memcpy(big, app, alen);
	{
		size_t padded = (alen + 4095) / 4096 * 4096 + 4096;
		static const char *const kk[] = { "rsa3072.pem" };
		size_t l2;
		uint8_t *s2;

		memset(big + alen, 0xFF, padded - alen);
		memset(big + padded - 4096, 0, 4096);
		s2 = sign_v2(big, padded, kk, 1, &l2);
		opts_keys(&v, "rsa3072.pub.pem", NULL);
		r = verify_mem(s2, l2, &v.o);
		cr_assert(r->ok);
		expect(r, "", "signature", "sig.ok", 0, ESPIMG_CHECK_PASS);
		expect(r, "", "signatures", "sig.layout", -1, ESPIMG_CHECK_WARN);
		espimg_verify_report_free(r);
		opts_free(&v);
		free(s2);
	}
	free(big);
	free(s);
	free(app);
}

/* ------------------------------------------------------------ SBv1 */

/* An ESP32 app signed the Secure Boot v1 way: SHA-256 of `signed_len`
 * bytes, the 68-byte signature appended at that point, then `tail` more
 * bytes. */
static uint8_t *sign_v1(const uint8_t *app, size_t alen, const char *key,
			size_t tail, size_t *out_len)
{
	espimg_key *k = load_key(key);
	uint8_t dg[32], *out;

	*out_len = alen + ESPIMG_SIG_V1_SIZE + tail;
	out = malloc(*out_len);
	cr_assert_not_null(out);
	memcpy(out, app, alen);
	sha256(app, alen, dg);
	cr_assert_eq(espimg_sbv1_sign(k, dg, out + alen), 0);
	synth_fill_bytes(out + alen + ESPIMG_SIG_V1_SIZE, tail,
			 SYNTH_FILL_RANDOM, 9);
	espimg_key_free(k);
	return out;
}

Test(verify, v1)
{
	size_t alen, slen;
	uint8_t *app = make_app("esp32", "v1", NULL, &alen);
	uint8_t *s = sign_v1(app, alen, "p256.pem", 0, &slen);
	espimg_verify_report *r;
	const espimg_check *c;
	vopts v;

	opts_keys(&v, "p256.pub.pem", NULL);
	v.o.secure_boot = ESPIMG_SECURE_BOOT_V1;
	r = verify_mem(s, slen, &v.o);
	cr_assert(r->ok);
	c = find(r, "", "signature", "sig.ok", ESPIMG_CHECK_SIG_V1);
	cr_assert_not_null(c);
	cr_assert_eq(c->offset, alen);
	cr_assert_eq(c->key_index, 0);
	expect(r, "", "signatures", "sig.ok", -1, ESPIMG_CHECK_PASS);
	espimg_verify_report_free(r);
	opts_free(&v);

	/* Another P-256 key, an RSA key, no key. */
	opts_keys(&v, "p256-2.pub.pem", NULL);
	v.o.secure_boot = ESPIMG_SECURE_BOOT_V1;
	r = verify_mem(s, slen, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "signature", "sig.signature", ESPIMG_CHECK_SIG_V1,
	       ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	opts_free(&v);
	opts_keys(&v, "rsa3072.pub.pem", NULL);
	v.o.secure_boot = ESPIMG_SECURE_BOOT_V1;
	r = verify_mem(s, slen, &v.o);
	expect(r, "", "signature", "sig.key_type", ESPIMG_CHECK_SIG_V1,
	       ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	opts_free(&v);
	memset(&v, 0, sizeof(v));
	v.o.secure_boot = ESPIMG_SECURE_BOOT_V1;
	r = verify_mem(s, slen, &v.o);
	cr_assert(r->ok);
	expect(r, "", "signatures", "sig.no_key", -1, ESPIMG_CHECK_WARN);
	espimg_verify_report_free(r);

	/* Version word 1. */
	s[alen] = 1;
	opts_keys(&v, "p256.pub.pem", NULL);
	v.o.secure_boot = ESPIMG_SECURE_BOOT_V1;
	r = verify_mem(s, slen, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "signature", "sig.version", ESPIMG_CHECK_SIG_V1,
	       ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);

	/* Auto mode does not check v1 but says it is there. */
	s[alen] = 0;
	v.o.secure_boot = ESPIMG_SECURE_BOOT_AUTO;
	r = verify_mem(s, slen, &v.o);
	cr_assert_not(r->ok); /* a key was given, no v2 signature */
	c = find(r, "", "signatures", "sig.missing", -1);
	cr_assert_not_null(c);
	cr_assert(strstr(c->message, "--secure-boot v1"), "%s", c->message);
	espimg_verify_report_free(r);
	opts_free(&v);
	free(s);
	free(app);
}

/* ESP-IDF's placement: the signature right after the image, then padding
 * to 64 KiB.  espsecure (last 68 bytes) fails it; we say where the valid
 * signature is. */
Test(verify, v1_idf_placement)
{
	size_t alen, slen;
	uint8_t *app = make_app("esp32", "v1", NULL, &alen);
	uint8_t *s = sign_v1(app, alen, "p256.pem", 12, &slen);
	espimg_verify_report *r;
	vopts v;

	opts_keys(&v, "p256.pub.pem", NULL);
	v.o.secure_boot = ESPIMG_SECURE_BOOT_V1;
	r = verify_mem(s, slen, &v.o);
	cr_assert_not(r->ok);
	expect(r, "", "signature", "sig.v1_placement", ESPIMG_CHECK_SIG_V1,
	       ESPIMG_CHECK_INFO);
	cr_assert_eq(find(r, "", "signature", "sig.v1_placement", -2)->offset,
		     alen);
	cr_assert(strstr(find(r, "", "signature", "sig.v1_placement", -2)->message,
			 "a valid"));
	cr_assert_not_null(find(r, "", "signatures", NULL, -1));
	cr_assert_eq(find(r, "", "signatures", NULL, -1)->status,
		     ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	opts_free(&v);
	free(s);
	free(app);
}

/* ------------------------------------------------------------ tables */

static const char table_csv[] =
	"nvs,      data, nvs,     0x9000,  0x4000,\n"
	"otadata,  data, ota,     0xd000,  0x2000,\n"
	"phy_init, data, phy,     0xf000,  0x1000,\n"
	"factory,  app,  factory, 0x10000, 0x20000,\n"
	"ota_0,    app,  ota_0,   0x30000, 0x20000,\n"
	"ota_1,    app,  ota_1,   0x50000, 0x20000,\n";

static void table_bin(const char *csv, bool md5, uint8_t out[ESPIMG_PTABLE_BIN_SIZE])
{
	espimg_ptable_opts po;
	espimg_ptable *t = NULL;

	espimg_ptable_opts_init(&po);
	po.md5 = md5;
	cr_assert_eq(espimg_ptable_parse((const uint8_t *)csv, strlen(csv), &po,
					 "t.csv", &t, NULL), 0);
	cr_assert_eq(espimg_ptable_to_binary(t, &po, out, NULL), 0);
	espimg_ptable_free(t);
}

Test(verify, partition_table)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE], big[0x2000];
	espimg_verify_opts o = { 0 };
	espimg_verify_report *r;

	table_bin(table_csv, true, bin);
	r = verify_mem(bin, sizeof(bin), NULL);
	cr_assert_eq(r->type, ESPIMG_CONTENT_PTABLE);
	cr_assert(r->ok);
	expect(r, "", "table", "ptable.md5", -2, ESPIMG_CHECK_PASS);
	expect(r, "", "table", "ptable.layout", -2, ESPIMG_CHECK_PASS);
	espimg_verify_report_free(r);

	/* A flipped byte in an entry: the MD5 row no longer matches. */
	bin[3 * 32 + 8] ^= 0x01;
	r = verify_mem(bin, sizeof(bin), NULL);
	cr_assert_not(r->ok);
	expect(r, "", "table", "ptable.md5", -2, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);

	/* Overlap, no MD5 row to betray it: the layout rules do. */
	table_bin(table_csv, false, bin);
	bin[4 * 32 + 6] = 0x02; /* ota_0 at 0x20000, inside factory */
	r = verify_mem(bin, sizeof(bin), NULL);
	cr_assert_not(r->ok);
	expect(r, "", "table", "ptable.md5", -2, ESPIMG_CHECK_INFO);
	expect(r, "", "table", "ptable.overlap", -2, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);

	/* More than a sector, forced: the first 0xC00 bytes, said so. */
	table_bin(table_csv, true, bin);
	memset(big, 0xFF, sizeof(big));
	memcpy(big, bin, sizeof(bin));
	o.type = ESPIMG_CONTENT_PTABLE;
	r = verify_mem(big, sizeof(big), &o);
	cr_assert(r->ok);
	expect(r, "", "table", "verify.table_size", -2, ESPIMG_CHECK_INFO);
	espimg_verify_report_free(r);
}

/* ------------------------------------------------------------ otadata */

static void put_entry(uint8_t *blob, unsigned i, uint32_t seq, uint32_t state)
{
	espimg_otadata_entry_encode(blob + i * ESPIMG_OTADATA_SECTOR, seq, NULL,
				    state);
}

Test(verify, otadata)
{
	uint8_t blob[0x2000];
	espimg_verify_opts o = { 0 };
	espimg_verify_report *r;
	const espimg_check *c;

	memset(blob, 0xFF, sizeof(blob));
	put_entry(blob, 0, 2, ESPIMG_OTA_STATE_VALID);
	put_entry(blob, 1, 3, ESPIMG_OTA_STATE_VALID);
	r = verify_mem(blob, sizeof(blob), NULL);
	cr_assert_eq(r->type, ESPIMG_CONTENT_OTADATA);
	cr_assert(r->ok);
	expect(r, "", "otadata", "otadata.size", -2, ESPIMG_CHECK_PASS);
	c = find(r, "", "otadata", "otadata.active", -2);
	cr_assert_not_null(c);
	cr_assert_eq(c->status, ESPIMG_CHECK_PASS);
	cr_assert_eq(c->offset, 0x1000);
	cr_assert(strstr(c->message, "active entry 1: seq 3 -> OTA slot 2"),
		  "%s", c->message);
	espimg_verify_report_free(r);

	/* Entry 1's CRC broken: a warning; entry 0 is active now.  Detection
	 * refuses such a blob, so the type is given. */
	blob[0x1000 + ESPIMG_OTADATA_OFF_CRC] ^= 0xFF;
	o.type = ESPIMG_CONTENT_OTADATA;
	r = verify_mem(blob, sizeof(blob), &o);
	cr_assert(r->ok);
	c = find(r, "", "otadata", "otadata.crc", -2);
	cr_assert_eq(c->status, ESPIMG_CHECK_PASS);
	cr_assert_eq(c->offset, 0);
	c = NULL;
	for (size_t i = 0; i < r->nchecks; i++)
		if (!strcmp(r->checks[i].code, "otadata.crc") &&
		    r->checks[i].status == ESPIMG_CHECK_WARN)
			c = &r->checks[i];
	cr_assert_not_null(c);
	cr_assert_eq(c->offset, 0x1000 + ESPIMG_OTADATA_OFF_CRC);
	c = find(r, "", "otadata", "otadata.active", -2);
	cr_assert(strstr(c->message, "active entry 0: seq 2"), "%s", c->message);
	espimg_verify_report_free(r);

	/* One sector only. */
	r = verify_mem(blob, 0x1000, &o);
	cr_assert_not(r->ok);
	expect(r, "", "otadata", "otadata.size", -2, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);

	/* Erased: no active entry, a fact. */
	memset(blob, 0xFF, sizeof(blob));
	r = verify_mem(blob, sizeof(blob), NULL);
	cr_assert(r->ok);
	expect(r, "", "otadata", "otadata.active", -2, ESPIMG_CHECK_INFO);
	espimg_verify_report_free(r);
}

/* ------------------------------------------------------------ flash */

typedef struct flash_img {
	uint8_t *buf;
	size_t len;
} flash_img;

static void flash_put(flash_img *f, size_t at, const uint8_t *p, size_t n)
{
	cr_assert_leq(at + n, f->len);
	memcpy(f->buf + at, p, n);
}

/* A C3 flash image: bootloader at 0x0, the table of table_csv at 0x8000,
 * otadata selecting slot `slot` (-1: erased), apps in factory and ota_0,
 * ota_1 (NULL: left erased). */
static flash_img make_flash_shifted(const char *chip, size_t boot_at,
				    size_t shift, int slot,
				    const uint8_t *const apps[3],
				    const size_t alen[3]);

static flash_img make_flash(const char *chip, size_t boot_at, int slot,
			    const uint8_t *const apps[3], const size_t alen[3])
{
	return make_flash_shifted(chip, boot_at, 0, slot, apps, alen);
}

/* The same, as a file that starts at flash offset `shift` (esptool
 * merge-bin --target-offset): everything sits `shift` bytes lower. */
static flash_img make_flash_shifted(const char *chip, size_t boot_at,
				    size_t shift, int slot,
				    const uint8_t *const apps[3],
				    const size_t alen[3])
{
	flash_img f;
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE], ota[0x2000];
	size_t blen;
	uint8_t *bl = make_bootloader(chip, &blen);
	static const size_t app_at[3] = { 0x10000, 0x30000, 0x50000 };

	f.len = 0x70000;
	f.buf = malloc(f.len);
	cr_assert_not_null(f.buf);
	memset(f.buf, 0xFF, f.len);
	flash_put(&f, boot_at, bl, blen);
	free(bl);
	table_bin(table_csv, true, bin);
	flash_put(&f, 0x8000 - shift, bin, sizeof(bin));
	memset(ota, 0xFF, sizeof(ota));
	if (slot >= 0)
		put_entry(ota, 0, (uint32_t)slot + 1, ESPIMG_OTA_STATE_UNDEFINED);
	flash_put(&f, 0xd000 - shift, ota, sizeof(ota));
	for (int i = 0; i < 3; i++)
		if (apps[i])
			flash_put(&f, app_at[i] - shift, apps[i], alen[i]);
	return f;
}

Test(verify, flash_boot_prediction)
{
	size_t alen[3];
	uint8_t *apps[3];
	espimg_verify_report *r;
	flash_img f;

	for (int i = 0; i < 3; i++)
		apps[i] = make_app("esp32c3", i == 0 ? "factory" : "ota", NULL,
				   &alen[i]);

	/* otadata selects ota_1. */
	f = make_flash("esp32c3", 0, 1, (const uint8_t *const *)apps, alen);
	r = verify_mem(f.buf, f.len, NULL);
	cr_assert_eq(r->type, ESPIMG_CONTENT_FLASH);
	cr_assert(r->ok);
	cr_assert_str_eq(r->boot, "ota_1");
	cr_assert_str_eq(r->chip->key, "esp32c3");
	expect(r, "bootloader", "bootloader-offset", "flash.bootloader_offset",
	       -2, ESPIMG_CHECK_PASS);
	expect(r, "bootloader", "boot-desc", "image.boot_desc", -2,
	       ESPIMG_CHECK_PASS);
	expect(r, "partition-table", "table", "ptable.md5", -2, ESPIMG_CHECK_PASS);
	expect(r, "partition-table", "table", "ptable.layout", -2,
	       ESPIMG_CHECK_PASS);
	expect(r, "ota_0", "chip", "image.chip", -2, ESPIMG_CHECK_PASS);
	expect(r, "ota_1", "fits", "image.fits", -2, ESPIMG_CHECK_PASS);
	cr_assert_eq(find(r, "ota_1", "checksum", NULL, -2)->offset,
		     0x50000 + alen[2] - 33);
	expect(r, "otadata", "otadata", "otadata.active", -2, ESPIMG_CHECK_PASS);
	cr_assert(strstr(find(r, "otadata", "otadata", "otadata.active", -2)->message,
			 "OTA slot 1 of 2"));
	expect(r, "ota_1", "boot", "flash.boot", -2, ESPIMG_CHECK_PASS);
	espimg_verify_report_free(r);
	free(f.buf);

	/* Erased otadata: the factory app. */
	f = make_flash("esp32c3", 0, -1, (const uint8_t *const *)apps, alen);
	r = verify_mem(f.buf, f.len, NULL);
	cr_assert(r->ok);
	cr_assert_str_eq(r->boot, "factory");
	espimg_verify_report_free(r);
	free(f.buf);

	/* ota_1 broken (a padding byte before its checksum: only the SHA-256
	 * sees it): it fails, and the bootloader falls back to ota_0. */
	apps[2][alen[2] - 40] ^= 0x01;
	f = make_flash("esp32c3", 0, 1, (const uint8_t *const *)apps, alen);
	r = verify_mem(f.buf, f.len, NULL);
	cr_assert_not(r->ok);
	cr_assert_str_eq(r->boot, "ota_0");
	expect(r, "ota_1", "sha256", "image.sha256", -2, ESPIMG_CHECK_FAIL);
	expect(r, "ota_0", "boot", "flash.boot_fallback", -2, ESPIMG_CHECK_WARN);
	espimg_verify_report_free(r);
	free(f.buf);

	/* Nothing but erased apps: nothing boots. */
	{
		const uint8_t *none[3] = { NULL, NULL, NULL };

		f = make_flash("esp32c3", 0, 1, none, alen);
		r = verify_mem(f.buf, f.len, NULL);
		cr_assert_not(r->ok);
		cr_assert_str_eq(r->boot, "");
		expect(r, "factory", "image", "flash.empty", -2, ESPIMG_CHECK_INFO);
		expect(r, "", "boot", "flash.no_boot", -2, ESPIMG_CHECK_FAIL);
		espimg_verify_report_free(r);
		free(f.buf);
	}
	for (int i = 0; i < 3; i++)
		free(apps[i]);
}

Test(verify, flash_wrong_chip_and_place)
{
	size_t alen[3];
	uint8_t *apps[3];
	espimg_verify_report *r;
	flash_img f;

	apps[0] = make_app("esp32c3", "factory", NULL, &alen[0]);
	apps[1] = make_app("esp32s3", "other", NULL, &alen[1]);
	apps[2] = NULL;
	alen[2] = 0;
	f = make_flash("esp32c3", 0, 0, (const uint8_t *const *)apps, alen);
	r = verify_mem(f.buf, f.len, NULL);
	cr_assert_not(r->ok);
	expect(r, "ota_0", "chip", "image.chip_mismatch", -2, ESPIMG_CHECK_FAIL);
	expect(r, "ota_1", "image", "flash.empty", -2, ESPIMG_CHECK_INFO);
	/* ota_0 is refused, so the factory app runs */
	cr_assert_str_eq(r->boot, "factory");
	espimg_verify_report_free(r);
	free(f.buf);

	/* An ESP32 bootloader at 0x0: the ROM reads 0x1000. */
	free(apps[0]);
	free(apps[1]);
	apps[0] = make_app("esp32", "factory", NULL, &alen[0]);
	apps[1] = NULL;
	f = make_flash("esp32", 0, -1, (const uint8_t *const *)apps, alen);
	r = verify_mem(f.buf, f.len, NULL);
	cr_assert_not(r->ok);
	expect(r, "bootloader", "bootloader-offset", "flash.bootloader_offset",
	       -2, ESPIMG_CHECK_FAIL);
	expect(r, "", "boot", "flash.no_boot", -2, ESPIMG_CHECK_FAIL);
	cr_assert(strstr(find(r, "", "boot", NULL, -2)->message, "factory"));
	cr_assert_str_eq(r->boot, "");
	espimg_verify_report_free(r);
	free(f.buf);

	/* At 0x1000 it is right. */
	f = make_flash("esp32", 0x1000, -1, (const uint8_t *const *)apps, alen);
	r = verify_mem(f.buf, f.len, NULL);
	cr_assert(r->ok);
	cr_assert_str_eq(r->boot, "factory");
	espimg_verify_report_free(r);
	free(f.buf);
	free(apps[0]);
}

/* A file for flash offset 0x1000: the ESP32 bootloader at file offset 0
 * is right when the file is written there.  A warning, and every part is
 * read at its place. */
Test(verify, flash_target_offset)
{
	size_t alen[3];
	uint8_t *apps[3] = { NULL, NULL, NULL };
	espimg_verify_report *r;
	flash_img f;

	apps[1] = make_app("esp32", "ota", NULL, &alen[1]);
	f = make_flash_shifted("esp32", 0, 0x1000, 0, (const uint8_t *const *)apps,
			       alen);
	r = verify_mem(f.buf, f.len, NULL);
	cr_assert_eq(r->type, ESPIMG_CONTENT_FLASH);
	cr_assert(r->ok);
	cr_assert_str_eq(r->boot, "ota_0");
	expect(r, "bootloader", "bootloader-offset", "flash.bootloader_offset",
	       -2, ESPIMG_CHECK_WARN);
	expect(r, "", "layout", "flash.target_offset", -2, ESPIMG_CHECK_INFO);
	expect(r, "ota_0", "app-desc", "image.app_desc", -2, ESPIMG_CHECK_PASS);
	cr_assert_eq(find(r, "ota_0", "header", NULL, -2)->offset, 0x2f000);
	expect(r, "otadata", "otadata", "otadata.active", -2, ESPIMG_CHECK_PASS);
	cr_assert_eq(find(r, "otadata", "otadata", "otadata.active", -2)->offset,
		     0xc000);
	espimg_verify_report_free(r);
	free(f.buf);
	free(apps[1]);
}

/* Reports for different sources in parallel, sharing the keys. */
struct par_job {
	const uint8_t *buf;
	size_t len;
	const espimg_verify_opts *o;
	int ok_runs;
};

static void *par_run(void *arg)
{
	struct par_job *pj = arg;

	for (int i = 0; i < 20; i++) {
		espimg_source src;
		espimg_verify_report *r = NULL;

		espimg_source_mem(&src, pj->buf, pj->len);
		if (espimg_verify(&src, pj->o, &r) == ESPIMG_OK && r->ok &&
		    r->nchecks > 0 &&
		    !strcmp(r->checks[r->nchecks - 1].code, "sig.ok"))
			pj->ok_runs++;
		espimg_verify_report_free(r);
	}
	return NULL;
}

Test(verify, parallel_reports_share_keys)
{
	static const char *const k[][1] = { { "rsa3072.pem" }, { "p256.pem" },
					    { "p384.pem" }, { "p192.pem" } };
	struct par_job jobs[4];
	pthread_t th[4];
	uint8_t *files[4];
	size_t alen;
	uint8_t *app = make_app("esp32c6", "par", NULL, &alen);
	vopts v;

	memset(&v, 0, sizeof(v));
	v.names[0] = "rsa3072.pub.pem";
	v.keys[0] = load_key("rsa3072.pub.pem");
	v.names[1] = "p256.pub.pem";
	v.keys[1] = load_key("p256.pub.pem");
	v.names[2] = "p384.pub.pem";
	v.keys[2] = load_key("p384.pub.pem");
	v.o.nkeys = 3;
	v.o.keys = (const espimg_key *const *)v.keys;
	for (int i = 0; i < 4; i++) {
		files[i] = sign_v2(app, alen, k[i], 1, &jobs[i].len);
		jobs[i].buf = files[i];
		jobs[i].o = &v.o;
		jobs[i].ok_runs = 0;
		cr_assert_eq(pthread_create(&th[i], NULL, par_run, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(pthread_join(th[i], NULL), 0);
		free(files[i]);
	}
	/* The P-192 file is signed by a key not given: it never passes. */
	cr_assert_eq(jobs[0].ok_runs, 20);
	cr_assert_eq(jobs[1].ok_runs, 20);
	cr_assert_eq(jobs[2].ok_runs, 20);
	cr_assert_eq(jobs[3].ok_runs, 0);
	opts_free(&v);
	free(app);
}

/* An app larger than its partition. */
static void tweak_huge(synth_image *s)
{
	synth_add_fill(s, 0x42010000, 0x21000, SYNTH_FILL_RANDOM, 5);
}

Test(verify, flash_image_too_big)
{
	size_t alen[3];
	uint8_t *apps[3] = { NULL, NULL, NULL };
	espimg_verify_report *r;
	flash_img f;

	apps[0] = make_app("esp32c3", "small", NULL, &alen[0]);
	f = make_flash("esp32c3", 0, -1, (const uint8_t *const *)apps, alen);
	free(apps[0]);
	/* The big image overwrites factory and runs into ota_0. */
	apps[0] = make_app("esp32c3", "big", tweak_huge, &alen[0]);
	cr_assert_gt(alen[0], 0x20000);
	flash_put(&f, 0x10000, apps[0], alen[0]);
	r = verify_mem(f.buf, f.len, NULL);
	cr_assert_not(r->ok);
	/* Read inside its partition, it is cut short. */
	expect(r, "factory", "segments", "image.segment_past_eof", -2,
	       ESPIMG_CHECK_FAIL);
	expect(r, "factory", "fits", "image.fits", -2, ESPIMG_CHECK_FAIL);
	/* and ota_0 starts with the end of it */
	expect(r, "ota_0", "header", "image.magic", -2, ESPIMG_CHECK_FAIL);
	espimg_verify_report_free(r);
	free(f.buf);
	free(apps[0]);
}

/* ------------------------------------------------------------ output */

static int emit_to(const espimg_verify_report *r, const char *file,
		   const char *const *names, espimg_format fmt,
		   struct fx_sink *sink)
{
	espimg_emitter *e = espimg_emit_new(fmt, fx_sink_write, sink);
	int rc;

	cr_assert_not_null(e);
	espimg_emit_begin_doc(e, "espimg.verify/1");
	espimg_emit_key(e, "files");
	espimg_emit_begin_list(e);
	rc = espimg_verify_emit(r, file, names, e);
	espimg_emit_end_list(e);
	if (!rc)
		rc = espimg_emit_end_doc(e);
	espimg_emit_free(e);
	return rc;
}

Test(verify, emit_json_and_text)
{
	static const char *const k[] = { "rsa3072.pem" };
	size_t alen, slen;
	uint8_t *app = make_app("esp32c3", "x", NULL, &alen);
	uint8_t *s = sign_v2(app, alen, k, 1, &slen);
	struct fx_sink sink = { 0 };
	espimg_verify_report *r;
	uint8_t kd[32];
	char hex[65], *t = NULL, line[400];
	const char *names[] = { "my key.pem" };
	vopts v;

	opts_keys(&v, "rsa3072.pub.pem", NULL);
	cr_assert_eq(espimg_key_sbv2_digest(v.keys[0], kd), 0);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", kd[i]);
	r = verify_mem(s, slen, &v.o);
	cr_assert(r->ok);

	cr_assert_eq(emit_to(r, "app.bin", names, ESPIMG_FORMAT_JSON, &sink), 0);
	const char *j = fx_sink_str(&sink);
	cr_assert(strstr(j, "\"schema\": \"espimg.verify/1\"") ||
		  strstr(j, "\"schema\":\"espimg.verify/1\""), "%s", j);
	cr_assert(strstr(j, "\"file\": \"app.bin\""), "%s", j);
	cr_assert(strstr(j, "\"type\": \"image\""), "%s", j);
	cr_assert(strstr(j, "\"chip\": \"esp32c3\""), "%s", j);
	cr_assert(strstr(j, "\"ok\": true"), "%s", j);
	cr_assert(strstr(j, "\"status\": \"pass\""), "%s", j);
	cr_assert(strstr(j, "\"boot\": null"), "%s", j);
	cr_assert(strstr(j, "\"code\": \"sig.ok\""), "%s", j);
	cr_assert(strstr(j, "\"key\": \"my key.pem\""), "%s", j);
	cr_assert(strstr(j, "\"scheme\": \"v2\""), "%s", j);
	cr_assert(strstr(j, "\"block\": 0"), "%s", j);
	cr_assert(strstr(j, "\"type\": \"RSA-3072\""), "%s", j);
	/* Digests whole, never shortened. */
	snprintf(line, sizeof(line), "\"key_digest\": \"%s\"", hex);
	cr_assert(strstr(j, line), "%s", j);
	cr_assert_null(strstr(j, "..."), "%s", j);
	cr_assert_null(strstr(j, "\xe2\x80\xa6"), "%s", j);
	fx_sink_free(&sink);

	/* YAML too. */
	cr_assert_eq(emit_to(r, "app.bin", names, ESPIMG_FORMAT_YAML, &sink), 0);
	cr_assert(strstr(fx_sink_str(&sink), "code: sig.ok"), "%s",
		  fx_sink_str(&sink));
	fx_sink_free(&sink);

	/* Text: one line per check, the summary last. */
	cr_assert_eq(espimg_verify_text(r, "app.bin", names, &t, NULL), 0);
	snprintf(line, sizeof(line), "app.bin: PASS signature[0]: ");
	cr_assert(strstr(t, line), "%s", t);
	cr_assert(strstr(t, hex), "%s", t);
	cr_assert(strstr(t, "[sig.ok]\n"), "%s", t);
	cr_assert(strstr(t, "app.bin: INFO signature[1]: slot 1 is empty (erased) [sig.empty]\n"),
		  "%s", t);
	cr_assert(strstr(t, "app.bin: PASS checksum: "), "%s", t);
	{
		size_t n = strlen(t), lines = 0;

		for (size_t i = 0; i < n; i++)
			lines += t[i] == '\n';
		cr_assert_eq(lines, r->nchecks + 1);
		cr_assert(n > 14 && !strcmp(t + n - 14, "app.bin: PASS\n"), "%s", t);
	}
	free(t);
	espimg_verify_report_free(r);
	opts_free(&v);

	/* A failing file: the count, and names with control bytes escaped. */
	s[alen + 5] ^= 1;
	opts_keys(&v, "rsa3072.pub.pem", NULL);
	r = verify_mem(s, slen, &v.o);
	cr_assert_eq(espimg_verify_text(r, "a\nb.bin", NULL, &t, NULL), 0);
	cr_assert(strstr(t, "a\\x0ab.bin: FAIL (2 checks failed)\n"), "%s", t);
	cr_assert_null(strstr(t, "a\nb"));
	cr_assert(strstr(t, "a\\x0ab.bin: FAIL signature[0]: "), "%s", t);
	free(t);
	cr_assert_eq(emit_to(r, "x", NULL, ESPIMG_FORMAT_JSON, &sink), 0);
	cr_assert(strstr(fx_sink_str(&sink), "\"status\": \"fail\""));
	cr_assert(strstr(fx_sink_str(&sink), "\"key\": null"));
	cr_assert(strstr(fx_sink_str(&sink), "\"failed\": 2"));
	fx_sink_free(&sink);
	espimg_verify_report_free(r);
	opts_free(&v);

	/* A write failure comes back. */
	r = verify_mem(app, alen, NULL);
	sink.fail_from = 1;
	cr_assert_neq(emit_to(r, "x", NULL, ESPIMG_FORMAT_JSON, &sink), 0);
	fx_sink_free(&sink);
	espimg_verify_report_free(r);
	free(s);
	free(app);
}

Test(verify, flash_text_has_parts)
{
	size_t alen[3];
	uint8_t *apps[3] = { NULL, NULL, NULL };
	espimg_verify_report *r;
	flash_img f;
	char *t = NULL;

	apps[0] = make_app("esp32c3", "factory", NULL, &alen[0]);
	f = make_flash("esp32c3", 0, -1, (const uint8_t *const *)apps, alen);
	r = verify_mem(f.buf, f.len, NULL);
	cr_assert_eq(espimg_verify_text(r, "flash.bin", NULL, &t, NULL), 0);
	cr_assert(strstr(t, "flash.bin: PASS factory@0x10000 header: "), "%s", t);
	cr_assert(strstr(t, "flash.bin: PASS partition-table@0x8000 table: "), "%s", t);
	cr_assert(strstr(t, "flash.bin: PASS factory@0x10000 boot: boots factory [flash.boot]\n"),
		  "%s", t);
	cr_assert(strstr(t, "flash.bin: PASS, boots factory\n"), "%s", t);
	free(t);
	espimg_verify_report_free(r);
	free(f.buf);
	free(apps[0]);
}

/* ------------------------------------------------------------ corpus */

static espimg_verify_report *verify_corpus(const char *rel,
					   const espimg_verify_opts *o)
{
	size_t len;
	uint8_t *buf = fx_corpus_read(rel, &len);
	espimg_verify_report *r = verify_mem(buf, len, o);

	free(buf);
	return r;
}

static espimg_key *corpus_key(const char *rel)
{
	size_t len;
	uint8_t *buf = fx_corpus_read(rel, &len);
	espimg_key *k = NULL;

	cr_assert_eq(espimg_key_load(buf, len, rel, &k, NULL), 0, "%s", rel);
	free(buf);
	return k;
}

/* Acceptance 1: our verdict is espsecure 5.3.1's for every row. */
Test(verify_corpus, signature_index)
{
	char *path = fx_corpus_path("images/expected/verify_signature_index.tsv");
	FILE *fp = fopen(path, "r");
	char line[1024];
	int rows = 0;

	cr_assert_not_null(fp, "%s", path);
	cr_assert_not_null(fgets(line, sizeof(line), fp)); /* header */
	while (fgets(line, sizeof(line), fp)) {
		char file[400], key[400], rel[420];
		int version, e4, e5;
		espimg_verify_opts o = { 0 };
		espimg_key *k;
		espimg_verify_report *r;

		if (sscanf(line, "%399[^\t]\t%d\t%399[^\t]\t%d\t%d", file, &version,
			   key, &e4, &e5) != 5)
			continue;
		snprintf(rel, sizeof(rel), "images/%s", key);
		k = corpus_key(rel);
		o.keys = (const espimg_key *const *)&k;
		o.nkeys = 1;
		o.secure_boot = version == 1 ? ESPIMG_SECURE_BOOT_V1
					     : ESPIMG_SECURE_BOOT_V2;
		snprintf(rel, sizeof(rel), "images/%s", file);
		r = verify_corpus(rel, &o);
		{
			char *d = dump(r);

			cr_expect_eq(r->ok, e5 == 0,
				     "%s with %s: espsecure exit %d, ours %s\n%s",
				     file, key, e5, r->ok ? "PASS" : "FAIL", d);
			free(d);
		}
		espimg_verify_report_free(r);
		espimg_key_free(k);
		rows++;
	}
	fclose(fp);
	free(path);
	cr_assert_geq(rows, 41);
}

/* Acceptance 2: every broken signature in bad/ fails with its reason. */
Test(verify_corpus, bad_signatures)
{
	static const struct {
		const char *file, *key, *code;
		int block; /* the check carrying the code; -1 the verdict */
		espimg_content type;
		int v1;
	} cases[] = {
#define C(f, k, c, b) { .file = f, .key = k, .code = c, .block = b }
		C("sig_rsa_bad_magic.bin", "rsa_secure_boot_signing_pubkey", "sig.magic", 0),
		C("sig_rsa_bad_version.bin", "rsa_secure_boot_signing_pubkey", "sig.version", 0),
		C("sig_rsa_bad_crc.bin", "rsa_secure_boot_signing_pubkey", "sig.crc", 0),
		C("sig_rsa_digest_mismatch.bin", "rsa_secure_boot_signing_pubkey", "sig.digest", 0),
		C("sig_rsa_image_modified.bin", "rsa_secure_boot_signing_pubkey", "sig.digest", 0),
		C("sig_rsa_bad_signature.bin", "rsa_secure_boot_signing_pubkey", "sig.signature", 0),
		C("sig_rsa_not_4k_multiple.bin", "rsa_secure_boot_signing_pubkey", "sig.layout", -1),
		/* Only a sector is no image: given as one, its block signs
		 * another digest than that of nothing. */
		{ .file = "sig_rsa_only_sector.bin",
		  .key = "rsa_secure_boot_signing_pubkey", .code = "sig.digest",
		  .block = 0, .type = ESPIMG_CONTENT_IMAGE },
		C("sig_ecdsa256_bad_signature.bin", "ecdsa256_secure_boot_signing_key_v2",
		  "sig.signature", 0),
		C("sig_ecdsa256_curve_id_3.bin", "ecdsa256_secure_boot_signing_key_v2",
		  "sig.curve", 0),
		{ .file = "sig_v1_bad_signature.bin",
		  .key = "ecdsa_secure_boot_signing_pubkey", .code = "sig.signature",
		  .block = ESPIMG_CHECK_SIG_V1, .v1 = 1 },
		{ .file = "sig_v1_version_1.bin",
		  .key = "ecdsa_secure_boot_signing_pubkey", .code = "sig.version",
		  .block = ESPIMG_CHECK_SIG_V1, .v1 = 1 },
#undef C
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[300];
		espimg_verify_opts o = { 0 };
		espimg_key *k;
		espimg_verify_report *r;
		const espimg_check *c;

		snprintf(rel, sizeof(rel),
			 "images/keys/espressif__esptool__test_secure_images_%s.pem",
			 cases[i].key);
		k = corpus_key(rel);
		o.keys = (const espimg_key *const *)&k;
		o.nkeys = 1;
		o.type = cases[i].type;
		o.secure_boot = cases[i].v1 ? ESPIMG_SECURE_BOOT_V1
					    : ESPIMG_SECURE_BOOT_AUTO;
		snprintf(rel, sizeof(rel), "images/bad/%s", cases[i].file);
		r = verify_corpus(rel, &o);
		cr_assert_not(r->ok, "%s", cases[i].file);
		c = find(r, "", cases[i].block == -1 ? "signatures" : "signature",
			 cases[i].code, cases[i].block);
		{
			char *d = dump(r);

			cr_assert_not_null(c, "%s: no %s\n%s", cases[i].file,
					   cases[i].code, d);
			cr_assert_eq(c->status, ESPIMG_CHECK_FAIL, "%s\n%s",
				     cases[i].file, d);
			free(d);
		}
		/* The verdict carries the block's reason too. */
		c = find(r, "", "signatures", NULL, -1);
		cr_assert_not_null(c);
		cr_assert_str_eq(c->code, cases[i].code, "%s", cases[i].file);
		espimg_verify_report_free(r);
		espimg_key_free(k);
	}

	/* Key size: an RSA-2048 key against an RSA-3072 block. */
	{
		vopts v;
		espimg_verify_report *r;

		opts_keys(&v, "rsa2048.pub.pem", NULL);
		r = verify_corpus("images/gen/sign_v2_rsa_c3.bin", &v.o);
		cr_assert_not(r->ok);
		expect(r, "", "signature", "sig.key_size", 0, ESPIMG_CHECK_FAIL);
		espimg_verify_report_free(r);
		opts_free(&v);
	}
}

/* Corpus eFuse digests (espsecure digest-sbv2-public-key outputs). */
Test(verify_corpus, key_digest_files)
{
	static const struct {
		const char *file, *digest;
	} cases[] = {
		{ "gen/sign_v2_rsa_c3.bin", "gen/pubkey_digest_rsa.bin" },
		{ "gen/sign_v2_ecdsa256_c6.bin", "gen/pubkey_digest_ecdsa256.bin" },
		{ "gen/sign_v2_ecdsa384_c5.bin", "gen/pubkey_digest_ecdsa384.bin" },
		{ "gen/sign_v2_ecdsa192_c2.bin", "gen/pubkey_digest_ecdsa192.bin" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[200];
		size_t len;
		uint8_t *dg;
		espimg_verify_opts o = { 0 };
		espimg_verify_report *r;

		snprintf(rel, sizeof(rel), "images/%s", cases[i].digest);
		dg = fx_corpus_read(rel, &len);
		cr_assert_eq(len, 32);
		o.key_digests = (const uint8_t(*)[32])dg;
		o.nkey_digests = 1;
		snprintf(rel, sizeof(rel), "images/%s", cases[i].file);
		r = verify_corpus(rel, &o);
		/* Each digest is of the key that signed the file (the
		 * gen.txt commands and the index say so). */
		cr_assert(r->ok, "%s with %s", cases[i].file, cases[i].digest);
		expect(r, "", "signatures", "sig.ok", -1, ESPIMG_CHECK_PASS);
		espimg_verify_report_free(r);
		free(dg);
	}
}

/* Merged flash images, checked against our layout scans in expected/:
 * the bootloader where the chip's ROM loads it (or the file written for
 * that flash offset) passes and boots the first app of the table; a
 * bootloader elsewhere fails. */
Test(verify_corpus, merged_flash_images)
{
	static const char *const files[] = {
		FX_MERGED_WITH_TABLE,
		"gen/merge_c3_patched_qio_40m_4MB.bin",
		"gen/merge_c3_raw.bin",
		"gen/merge_esp32_fill1MB_dout.bin",
		"gen/merge_esp32_raw.bin",
		"gen/merge_esp32_target1000.bin",
	};
	int passed = 0, failed = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[300];
		const char *first_app = "";
		struct fx_layout l;
		const espimg_chip *chip;
		espimg_verify_report *r;
		bool expect_ok;

		fx_layout_read(files[i], &l);
		for (size_t k = 0; k < l.n && !first_app[0]; k++)
			if (l.type[k] == 0) /* app */
				first_app = l.name[k];
		cr_assert_geq(l.boot, 0, "%s", files[i]);
		cr_assert_geq(l.table, 0, "%s", files[i]);
		chip = espimg_chip_by_id(l.chip_id);
		cr_assert_not_null(chip);
		/* At the ROM's offset, or everything shifted down alike. */
		expect_ok = (unsigned long)l.boot == chip->bootloader_offset ||
			    (l.boot < (long)chip->bootloader_offset &&
			     l.table + (long)chip->bootloader_offset - l.boot ==
				     0x8000);

		snprintf(rel, sizeof(rel), "images/%s", files[i]);
		r = verify_corpus(rel, NULL);
		{
			char *d = dump(r);

			cr_assert_eq(r->type, ESPIMG_CONTENT_FLASH, "%s", files[i]);
			cr_assert_eq(r->chip, chip, "%s", files[i]);
			cr_assert_eq(r->ok, expect_ok, "%s\n%s", files[i], d);
			cr_assert_not_null(find(r, "partition-table", "table",
						"ptable.layout", -2),
					   "%s\n%s", files[i], d);
			if (expect_ok) {
				cr_assert_str_eq(r->boot, first_app, "%s\n%s",
						 files[i], d);
				passed++;
			} else {
				cr_assert_str_eq(r->boot, "");
				cr_assert_not_null(find(r, "bootloader",
							"bootloader-offset",
							"flash.bootloader_offset", -2));
				expect(r, "", "boot", "flash.no_boot", -2,
				       ESPIMG_CHECK_FAIL);
				failed++;
			}
			free(d);
		}
		espimg_verify_report_free(r);
	}
	cr_assert_eq(passed, 10);
	cr_assert_eq(failed, 2);
}

/* A table and an otadata blob from the corpus. */
Test(verify_corpus, table_and_otadata)
{
	espimg_verify_report *r;

	r = verify_corpus("images/parts/sdyspb__NasDisplay__partitions.bin", NULL);
	cr_assert_eq(r->type, ESPIMG_CONTENT_PTABLE);
	cr_assert(r->ok);
	expect(r, "", "table", "ptable.md5", -2, ESPIMG_CHECK_PASS);
	expect(r, "", "table", "ptable.layout", -2, ESPIMG_CHECK_PASS);
	espimg_verify_report_free(r);

	/* Arduino's boot_app0.bin: entry 0 seq 1 selects slot 0. */
	r = verify_corpus("images/parts/ssayala__esp32-led-simple__docs_firmware_boot_app0.bin",
			  NULL);
	cr_assert_eq(r->type, ESPIMG_CONTENT_OTADATA);
	cr_assert(r->ok);
	cr_assert(strstr(find(r, "", "otadata", "otadata.active", -2)->message,
			 "active entry 0: seq 1 -> OTA slot 0"));
	espimg_verify_report_free(r);

	r = verify_corpus("images/parts/BlynkGO__esp32c6_wifi_slave__ota_data_initial.bin",
			  NULL);
	cr_assert_eq(r->type, ESPIMG_CONTENT_OTADATA);
	cr_assert(r->ok);
	expect(r, "", "otadata", "otadata.active", -2, ESPIMG_CHECK_INFO);
	espimg_verify_report_free(r);
}
