/*
 * test_sigblock.c - Secure Boot v2 block and sector decoding: synthetic
 * blocks with known CRCs and key digests, then the corpus's signed files
 * against espsecure's own key digests.
 */
#include <criterion/criterion.h>

#include "fixtures.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "espimg/espimg.h"
#include "espimg/sigblock.h"

#define BLK ESPIMG_SIG_BLOCK_SIZE

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* CRC-32 (IEEE, reflected, as zlib's crc32), bit by bit, so the test does
 * not share the library's implementation. */
static uint32_t ref_crc32(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xFFFFFFFFu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void set_crc(uint8_t *b)
{
	put_le32(b + 1196, ref_crc32(b, 1196));
}

/*
 * A block filled with the pattern (i * 31 + 7) & 0xff, then magic 0xE7,
 * version, sha-version byte, the curve byte where the layout puts it (curve
 * < 0: none), 16 zero bytes of padding and a correct CRC. The expected
 * values in the tests were computed for this pattern with Python's zlib and
 * hashlib.
 */
static void make_block(uint8_t *b, int version, int sha, int curve)
{
	size_t i;

	for (i = 0; i < BLK; i++)
		b[i] = (uint8_t)(i * 31 + 7);
	b[0] = 0xE7;
	b[1] = (uint8_t)version;
	b[2] = (uint8_t)sha;
	b[3] = 0;
	if (curve >= 0)
		b[sha == 1 ? 52 : 36] = (uint8_t)curve;
	memset(b + 1200, 0, 16);
	set_crc(b);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

static void expect_digest(const espimg_sigblock *s, const char *want)
{
	char buf[65];

	cr_assert(s->key_digest_ok);
	hex(s->key_digest, 32, buf);
	cr_expect_str_eq(buf, want);
}

static void expect_pattern_digest(const espimg_sigblock *s, size_t len)
{
	size_t i;

	cr_assert_eq(s->image_digest_len, len);
	for (i = 0; i < len; i++)
		cr_expect_eq(s->image_digest[i], (uint8_t)((4 + i) * 31 + 7),
			     "digest byte %zu", i);
}

Test(sigblock, rsa_block)
{
	uint8_t b[BLK];
	espimg_sigblock s;

	make_block(b, 2, 0, -1);
	cr_assert_eq(espimg_sigblock_decode(b, sizeof(b), 0x1000, &s), ESPIMG_OK);
	cr_expect_eq(s.offset, 0x1000);
	cr_expect_eq(s.index, 0);
	cr_expect_eq(s.magic, 0xE7);
	cr_expect_eq(s.version, 2);
	cr_expect_eq(s.type, ESPIMG_SIG_RSA3072);
	cr_expect_eq(s.curve_id, 0);
	cr_expect_eq(s.sha_version, 0);
	cr_expect_eq(s.crc_stored, 0xae40b172);
	cr_expect_eq(s.crc_computed, 0xae40b172);
	cr_expect(s.crc_ok);
	cr_expect(s.valid);
	expect_pattern_digest(&s, 32);
	/* SHA-256 of bytes 36..811. */
	expect_digest(&s, "0fe2e165a68dbe0d7ed089d9165199c2f4aec54ee984f53ba4cfe3a5c303cbb6");
}

Test(sigblock, ecdsa_p192_p256_p384)
{
	static const struct {
		int sha, curve;
		espimg_sig_type type;
		uint32_t crc;
		size_t digest_len;
		const char *key_digest;
	} rows[] = {
		{ 0, 1, ESPIMG_SIG_ECDSA_P192, 0x58326e97, 32,
		  "ba5f5b7503a1d5f890f03b18b0b6b5644faac8943d8c4864660421522f5054d0" },
		{ 0, 2, ESPIMG_SIG_ECDSA_P256, 0xc92294fc, 32,
		  "b009e83ffc7a52949b78417b18fda38dbc27734545d4244f7c7cbc76393a3144" },
		{ 1, 3, ESPIMG_SIG_ECDSA_P384, 0x5313a49a, 48,
		  "8dd72b166d3279bbc0288d8bed79682edafdbf39fdd74db03f4ec932f333ab9e" },
	};
	uint8_t b[BLK];
	espimg_sigblock s;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		make_block(b, 3, rows[i].sha, rows[i].curve);
		cr_assert_eq(espimg_sigblock_decode(b, sizeof(b), 0, &s), ESPIMG_OK);
		cr_expect_eq(s.version, 3);
		cr_expect_eq(s.type, rows[i].type, "row %zu", i);
		cr_expect_eq(s.sha_version, rows[i].sha);
		cr_expect_eq(s.curve_id, rows[i].curve);
		cr_expect_eq(s.crc_computed, rows[i].crc, "row %zu", i);
		cr_expect(s.valid);
		expect_pattern_digest(&s, rows[i].digest_len);
		expect_digest(&s, rows[i].key_digest);
	}
}

Test(sigblock, bad_crc)
{
	uint8_t b[BLK];
	espimg_sigblock s;

	make_block(b, 2, 0, -1);
	b[1196] ^= 1;
	espimg_sigblock_decode(b, sizeof(b), 0, &s);
	cr_expect_not(s.crc_ok);
	cr_expect_not(s.valid);
	cr_expect_eq(s.crc_stored, 0xae40b172 ^ 1);
	cr_expect_eq(s.crc_computed, 0xae40b172);
	cr_expect_eq(s.type, ESPIMG_SIG_RSA3072);
	cr_expect(s.key_digest_ok);

	/* A changed byte inside the covered range: the stored CRC is stale. */
	make_block(b, 2, 0, -1);
	b[1000] ^= 0x80;
	espimg_sigblock_decode(b, sizeof(b), 0, &s);
	cr_expect_not(s.crc_ok);
	cr_expect_not(s.valid);

	/* The 16 padding bytes are outside the CRC. */
	make_block(b, 2, 0, -1);
	b[1210] = 0x55;
	espimg_sigblock_decode(b, sizeof(b), 0, &s);
	cr_expect(s.valid);
}

Test(sigblock, bad_magic_and_version)
{
	static const int versions[] = { 0, 1, 4, 0xFF };
	uint8_t b[BLK];
	espimg_sigblock s;
	size_t i;

	make_block(b, 2, 0, -1);
	b[0] = 0xE6;
	set_crc(b);
	espimg_sigblock_decode(b, sizeof(b), 0, &s);
	cr_expect(s.crc_ok);
	cr_expect_not(s.valid);
	cr_expect_eq(s.magic, 0xE6);

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		make_block(b, versions[i], 0, -1);
		espimg_sigblock_decode(b, sizeof(b), 0, &s);
		cr_expect(s.crc_ok);
		cr_expect_not(s.valid, "version %d", versions[i]);
		cr_expect_eq(s.type, ESPIMG_SIG_UNKNOWN);
		cr_expect_not(s.key_digest_ok);
		cr_expect_eq(s.image_digest_len, 32);
	}
}

Test(sigblock, curve_disagrees_with_layout)
{
	uint8_t b[BLK];
	espimg_sigblock s;

	/* Curve 3 in the SHA-256 layout: a well-formed block (the bootloader's
	 * checks pass) that no ROM can verify; the key digest is espsecure's,
	 * over bytes 36..100. */
	make_block(b, 3, 0, 3);
	espimg_sigblock_decode(b, sizeof(b), 0, &s);
	cr_expect_eq(s.type, ESPIMG_SIG_UNKNOWN);
	cr_expect_eq(s.curve_id, 3);
	cr_expect(s.valid);
	cr_expect_eq(s.image_digest_len, 32);
	cr_expect(s.key_digest_ok);

	/* Curve 2 in the SHA-384 layout. */
	make_block(b, 3, 1, 2);
	espimg_sigblock_decode(b, sizeof(b), 0, &s);
	cr_expect_eq(s.type, ESPIMG_SIG_UNKNOWN);
	cr_expect_eq(s.image_digest_len, 48);

	/* Unknown curve ids. */
	make_block(b, 3, 0, 0);
	espimg_sigblock_decode(b, sizeof(b), 0, &s);
	cr_expect_eq(s.type, ESPIMG_SIG_UNKNOWN);
	make_block(b, 3, 0, 4);
	espimg_sigblock_decode(b, sizeof(b), 0, &s);
	cr_expect_eq(s.type, ESPIMG_SIG_UNKNOWN);

	/* A sha-version byte other than 1 means the SHA-256 layout (as
	 * espsecure reads it). */
	make_block(b, 3, 2, 2);
	espimg_sigblock_decode(b, sizeof(b), 0, &s);
	cr_expect_eq(s.type, ESPIMG_SIG_ECDSA_P256);
	cr_expect_eq(s.image_digest_len, 32);
}

Test(sigblock, short_and_null)
{
	uint8_t b[BLK];
	espimg_sigblock s;

	make_block(b, 2, 0, -1);
	memset(&s, 0xA5, sizeof(s));
	cr_expect_eq(espimg_sigblock_decode(b, BLK - 1, 7, &s), ESPIMG_OK);
	cr_expect_eq(s.type, ESPIMG_SIG_UNKNOWN);
	cr_expect_not(s.valid);
	cr_expect_not(s.crc_ok);
	cr_expect_not(s.key_digest_ok);
	cr_expect_eq(s.offset, 7);
	cr_expect_eq(espimg_sigblock_decode(NULL, BLK, 0, &s), ESPIMG_EINVAL);
	cr_expect_not(s.valid);
	cr_expect_eq(espimg_sigblock_decode(b, BLK, 0, NULL), ESPIMG_EINVAL);
}

Test(sigblock, type_names)
{
	cr_expect_str_eq(espimg_sig_type_name(ESPIMG_SIG_RSA3072), "RSA-3072");
	cr_expect_str_eq(espimg_sig_type_name(ESPIMG_SIG_ECDSA_P192), "ECDSA-P192");
	cr_expect_str_eq(espimg_sig_type_name(ESPIMG_SIG_ECDSA_P256), "ECDSA-P256");
	cr_expect_str_eq(espimg_sig_type_name(ESPIMG_SIG_ECDSA_P384), "ECDSA-P384");
	cr_expect_str_eq(espimg_sig_type_name(ESPIMG_SIG_UNKNOWN), "unknown");
	cr_expect_str_eq(espimg_sig_type_name((espimg_sig_type)99), "unknown");
}

/* ------------------------------------------------------------ sectors */

static uint8_t sector[ESPIMG_SIG_SECTOR_SIZE];

static void erase(void)
{
	memset(sector, 0xFF, sizeof(sector));
}

Test(sigsector, one_block)
{
	espimg_sigblock out[3];

	erase();
	make_block(sector, 2, 0, -1);
	cr_assert_eq(espimg_sigsector_decode(sector, sizeof(sector), 0x20000, out), 1);
	cr_expect_eq(out[0].index, 0);
	cr_expect_eq(out[0].offset, 0x20000);
	cr_expect(out[0].valid);
}

Test(sigsector, three_blocks_and_a_gap)
{
	espimg_sigblock out[3];

	erase();
	make_block(sector, 2, 0, -1);
	make_block(sector + BLK, 3, 0, 2);
	make_block(sector + 2 * BLK, 3, 1, 3);
	cr_assert_eq(espimg_sigsector_decode(sector, sizeof(sector), 0x10000, out), 3);
	cr_expect_eq(out[1].index, 1);
	cr_expect_eq(out[1].offset, 0x10000 + BLK);
	cr_expect_eq(out[1].type, ESPIMG_SIG_ECDSA_P256);
	cr_expect_eq(out[2].index, 2);
	cr_expect_eq(out[2].offset, 0x10000 + 2 * BLK);
	cr_expect_eq(out[2].type, ESPIMG_SIG_ECDSA_P384);

	/* An erased middle slot is skipped; the last one keeps its index. */
	memset(sector + BLK, 0xFF, BLK);
	cr_assert_eq(espimg_sigsector_decode(sector, sizeof(sector), 0, out), 2);
	cr_expect_eq(out[0].index, 0);
	cr_expect_eq(out[1].index, 2);
	cr_expect_eq(out[1].offset, 2 * BLK);
}

Test(sigsector, recognition)
{
	espimg_sigblock out[3];
	size_t i;

	/* Erased, zeroed, or random-looking data: not a sector. */
	erase();
	cr_expect_eq(espimg_sigsector_decode(sector, sizeof(sector), 0, out), 0);
	memset(sector, 0, sizeof(sector));
	cr_expect_eq(espimg_sigsector_decode(sector, sizeof(sector), 0, out), 0);
	for (i = 0; i < sizeof(sector); i++)
		sector[i] = (uint8_t)(i * 13 + 1);
	cr_expect_eq(espimg_sigsector_decode(sector, sizeof(sector), 0, out), 0);

	/* First byte 0xE7 alone is enough; the broken block is reported. */
	erase();
	sector[0] = 0xE7;
	cr_assert_eq(espimg_sigsector_decode(sector, sizeof(sector), 0, out), 1);
	cr_expect_not(out[0].valid);
	cr_expect_not(out[0].crc_ok);

	/* Bad magic but a matching CRC in block 0. */
	erase();
	make_block(sector, 2, 0, -1);
	sector[0] = 0xE6;
	set_crc(sector);
	cr_assert_eq(espimg_sigsector_decode(sector, sizeof(sector), 0, out), 1);
	cr_expect(out[0].crc_ok);
	cr_expect_not(out[0].valid);

	/* Block 0 garbage (not erased), block 2 matches its CRC. */
	erase();
	memset(sector, 0x00, BLK);
	make_block(sector + 2 * BLK, 2, 0, -1);
	cr_assert_eq(espimg_sigsector_decode(sector, sizeof(sector), 0, out), 2);
	cr_expect_eq(out[0].index, 0);
	cr_expect_not(out[0].valid);
	cr_expect_eq(out[1].index, 2);
	cr_expect(out[1].valid);

	/* Short input or NULL. */
	erase();
	make_block(sector, 2, 0, -1);
	cr_expect_eq(espimg_sigsector_decode(sector, sizeof(sector) - 1, 0, out), 0);
	cr_expect_eq(espimg_sigsector_decode(NULL, sizeof(sector), 0, out), ESPIMG_EINVAL);
	cr_expect_eq(espimg_sigsector_decode(sector, sizeof(sector), 0, NULL), ESPIMG_EINVAL);
}

/* ------------------------------------------------------------ corpus */

/* The signature sector of a signed file: its last 4096 bytes. */
static int decode_file(const char *rel, espimg_sigblock out[3], uint64_t *size)
{
	char *path = fx_corpus_path(rel);
	uint8_t *buf = NULL;
	size_t len = 0;
	int n;

	cr_assert_eq(espimg_read_file(path, 64u << 20, &buf, &len), 0, "%s", path);
	free(path);
	cr_assert_geq(len, ESPIMG_SIG_SECTOR_SIZE);
	n = espimg_sigsector_decode(buf + len - ESPIMG_SIG_SECTOR_SIZE,
				    ESPIMG_SIG_SECTOR_SIZE,
				    len - ESPIMG_SIG_SECTOR_SIZE, out);
	free(buf);
	if (size)
		*size = len;
	return n;
}

/* The 32 bytes of a digest_sbv2_public_key output, as hex. */
static void pubkey_digest(const char *rel, char out[65])
{
	char *path = fx_corpus_path(rel);
	uint8_t *buf = NULL;
	size_t len = 0;

	cr_assert_eq(espimg_read_file(path, 4096, &buf, &len), 0, "%s", path);
	free(path);
	cr_assert_eq(len, 32);
	hex(buf, 32, out);
	free(buf);
}

/* Key digests espsecure signature_info_v2 prints for the esptool test keys
 * rsa_secure_boot_signing_key2/3 (expected/gen/sign_v2_rsa3_s3.bin.
 * signature_info_v2.txt); key 1 is gen/pubkey_digest_rsa.bin. */
#define RSA_KEY2 "901a7409238d52d4cbf96f563fb3f4296dabd66a33f53b15eecd8cb3e7ec45d3"
#define RSA_KEY3 "27919392d68bab79286a26759143a5b1d599efcebd754e5703b5dd23b5e3dd3b"

static void expect_blocks(const char *rel, int nblocks, espimg_sig_type type,
			  const char *const digests[])
{
	espimg_sigblock out[3];
	uint64_t size = 0;
	char buf[65];
	int i, n;

	n = decode_file(rel, out, &size);
	cr_assert_eq(n, nblocks, "%s: %d blocks", rel, n);
	for (i = 0; i < n; i++) {
		cr_expect_eq(out[i].index, (unsigned)i);
		cr_expect_eq(out[i].offset, size - 4096 + (uint64_t)i * BLK);
		cr_expect(out[i].valid, "%s block %d", rel, i);
		cr_expect_eq(out[i].type, type, "%s block %d", rel, i);
		cr_assert(out[i].key_digest_ok);
		hex(out[i].key_digest, 32, buf);
		cr_expect_str_eq(buf, digests[i], "%s block %d", rel, i);
	}
}

Test(sigcorpus, key_digests_match_espsecure)
{
	char rsa[65], p192[65], p256[65], p384[65], rsa_pub[65];

	pubkey_digest("images/gen/pubkey_digest_rsa.bin", rsa);
	pubkey_digest("images/gen/pubkey_digest_rsa_from_pub.bin", rsa_pub);
	pubkey_digest("images/gen/pubkey_digest_ecdsa192.bin", p192);
	pubkey_digest("images/gen/pubkey_digest_ecdsa256.bin", p256);
	pubkey_digest("images/gen/pubkey_digest_ecdsa384.bin", p384);
	cr_expect_str_eq(rsa, rsa_pub);

	{
		const char *d[] = { rsa };

		expect_blocks("images/gen/sign_v2_rsa_c3.bin", 1, ESPIMG_SIG_RSA3072, d);
		expect_blocks("images/gen/sign_v2_rsa_h2_bootloader.bin", 1,
			      ESPIMG_SIG_RSA3072, d);
		expect_blocks("images/gen/sign_v2_rsa_securepad2.bin", 1,
			      ESPIMG_SIG_RSA3072, d);
	}
	{
		const char *d[] = { rsa, RSA_KEY2 };

		expect_blocks("images/gen/sign_v2_rsa2_s3.bin", 2, ESPIMG_SIG_RSA3072, d);
	}
	{
		const char *d[] = { rsa, RSA_KEY2, RSA_KEY3 };

		expect_blocks("images/gen/sign_v2_rsa3_s3.bin", 3, ESPIMG_SIG_RSA3072, d);
		/* esptool's own test image, signed with the same three keys. */
		expect_blocks("images/espressif__esptool__test_secure_images_bootloader_multi_signed_v2.bin",
			      3, ESPIMG_SIG_RSA3072, d);
	}
	{
		const char *d[] = { p192 };

		expect_blocks("images/gen/sign_v2_ecdsa192_c2.bin", 1,
			      ESPIMG_SIG_ECDSA_P192, d);
	}
	{
		const char *d[] = { p256 };

		expect_blocks("images/gen/sign_v2_ecdsa256_c6.bin", 1,
			      ESPIMG_SIG_ECDSA_P256, d);
	}
	{
		const char *d[] = { p384 };

		expect_blocks("images/gen/sign_v2_ecdsa384_c5.bin", 1,
			      ESPIMG_SIG_ECDSA_P384, d);
	}
}

Test(sigcorpus, broken_blocks)
{
	espimg_sigblock out[3];

	cr_assert_eq(decode_file("images/bad/sig_rsa_bad_crc.bin", out, NULL), 1);
	cr_expect_not(out[0].crc_ok);
	cr_expect_not(out[0].valid);
	cr_expect_eq(out[0].type, ESPIMG_SIG_RSA3072);

	/* Magic 0xE6 with the CRC recomputed: recognised by the CRC. */
	cr_assert_eq(decode_file("images/bad/sig_rsa_bad_magic.bin", out, NULL), 1);
	cr_expect_eq(out[0].magic, 0xE6);
	cr_expect(out[0].crc_ok);
	cr_expect_not(out[0].valid);

	cr_assert_eq(decode_file("images/bad/sig_rsa_bad_version.bin", out, NULL), 1);
	cr_expect_eq(out[0].version, 4);
	cr_expect(out[0].crc_ok);
	cr_expect_not(out[0].valid);
	cr_expect_eq(out[0].type, ESPIMG_SIG_UNKNOWN);

	/* Decoding does not verify: these stay valid blocks. */
	cr_assert_eq(decode_file("images/bad/sig_rsa_digest_mismatch.bin", out, NULL), 1);
	cr_expect(out[0].valid);
	cr_assert_eq(decode_file("images/bad/sig_ecdsa256_bad_signature.bin", out, NULL), 1);
	cr_expect(out[0].valid);
	cr_expect_eq(out[0].type, ESPIMG_SIG_ECDSA_P256);

	cr_assert_eq(decode_file("images/bad/sig_ecdsa256_curve_id_3.bin", out, NULL), 1);
	cr_expect(out[0].valid);
	cr_expect_eq(out[0].curve_id, 3);
	cr_expect_eq(out[0].type, ESPIMG_SIG_UNKNOWN);
	cr_expect_eq(out[0].image_digest_len, 32);

	/* An unsigned image's last sector is not a signature sector. */
	cr_expect_eq(decode_file("images/gen/merge_c3_raw.bin", out, NULL), 0);
}
