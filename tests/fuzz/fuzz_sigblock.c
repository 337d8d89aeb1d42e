/*
 * fuzz_sigblock.c - libFuzzer harness for Secure Boot v2 block and sector
 * decoding.
 *
 * Input: one option byte, then the sector, padded with 0xFF (erased flash)
 * to 4096 bytes.  Bit 0 of the option byte stores a correct CRC in every
 * slot that is not erased, so the valid-block paths are reached too.
 * Checked: the block count, slot order and offsets, and that "valid"
 * means exactly magic 0xE7, version 2 or 3 and a matching CRC.
 * Every decoded block is also verified (espimg_sigblock_verify) against a
 * fixed digest, or its own stored one when bit 1 of the option byte is
 * set, with no key, with two public keys (tests/keys/rsa3072.pub.pem and
 * p256.pub.pem) and with its own key digest: the verdict must follow the
 * header checks and name a key only when the signature verified.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "espimg/espimg.h"
#include "espimg/sigblock.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rsa_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEAqjQFBgz7RacNKmpOyH2e\n"
	"csaGSrh0ORiFohHi7TOakjDHBQzRcORWItiPPilpgbcfUjmzWvec2mKrBIyB3hA9\n"
	"fPOUs+lNMiVDQA12UyEqjllwgXIo/Jz6YnxCDB1+x04G4vugcPsca1LZx5Dq8NLi\n"
	"TOcxu20iaOpHYFhCCvVnIQpsqwYOmo0Oq6S+CSj2ZquxlrXnXA1Z/Elwla78s3V2\n"
	"mZK1ZOLpx07Eybs3zELTzmWpUoVKP6K5B/7Wg5u+4aJ6e75qgqkJhHDNOLcCEsdS\n"
	"PX4mlXozFWBWl2g8ECWSiPHmWjHrUphTpU2Wd4skHUkTnx0fR7+3UcmhJVAlI/ib\n"
	"KN63DxfHwybQOkgoGXX9JV17z+4MCJ7BLfZd8s+67EYr9OAD2tb9MJoOOUhHQ+70\n"
	"FKPDh7EQZO3Ne9L2rrqUctHCp0Wj5oMBWDhorcvq4JAUu0GpVf+04wRR6wavxmZK\n"
	"Va7mLHSB/AvZzUxDTCiHqhHXbnDml3Dd+X0JF8OS1AwtAgMBAAE=\n"
	"-----END PUBLIC KEY-----\n";

static const char ec_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEF9lRmcI4AMR7/SjCF/0rsuJulyDW\n"
	"JQvRxcjyGl3dZnUlGtyhcXgOIV5Vmq4Pg6gjW8WRVnE8NuNPdjPg+Z/fLw==\n"
	"-----END PUBLIC KEY-----\n";

static const espimg_key *keys[2];

static void load_keys(void)
{
	static const char *const pems[] = { rsa_pem, ec_pem };
	espimg_key *k;

	for (int i = 0; i < 2; i++) {
		if (keys[i])
			continue;
		CHECK(espimg_key_load((const uint8_t *)pems[i],
				      strlen(pems[i]), NULL, &k, NULL) == 0);
		keys[i] = k;
	}
}

static void check_block(const espimg_sigblock *b, const uint8_t *raw)
{
	uint32_t crc = (uint32_t)crc32(0L, raw, 1196);
	uint32_t stored = (uint32_t)raw[1196] | (uint32_t)raw[1197] << 8 |
			  (uint32_t)raw[1198] << 16 | (uint32_t)raw[1199] << 24;

	CHECK(b->magic == raw[0] && b->version == raw[1]);
	CHECK(b->crc_computed == crc && b->crc_stored == stored);
	CHECK(b->crc_ok == (crc == stored));
	CHECK(b->valid == (raw[0] == 0xE7 && (raw[1] == 2 || raw[1] == 3) &&
			   crc == stored));
	CHECK(b->image_digest_len == 32 || b->image_digest_len == 48);
	CHECK(!memcmp(b->image_digest, raw + 4, b->image_digest_len));
	CHECK(b->key_digest_ok == (raw[1] == 2 || raw[1] == 3));
	if (b->type == ESPIMG_SIG_RSA3072)
		CHECK(raw[1] == 2);
	else if (b->type != ESPIMG_SIG_UNKNOWN)
		CHECK(raw[1] == 3);
	CHECK(strlen(espimg_sig_type_name(b->type)) > 0);
}

static void check_verify(const espimg_sigblock *b, bool own_digest)
{
	static const uint8_t fixed[48] = { 0x5a, 0x11, 0xed };
	const uint8_t *dg = own_digest ? b->image_digest : fixed;
	size_t dl = espimg_sigblock_digest_len(b);
	bool header_ok = b->valid && b->type != ESPIMG_SIG_UNKNOWN &&
			 !memcmp(b->image_digest, dg, dl);
	espimg_sig_check c;

	for (int mode = 0; mode < 3; mode++) {
		size_t nk = mode == 1 ? 2 : 0, nd = mode == 2 ? 1 : 0;

		CHECK(espimg_sigblock_verify(b, dg, dl, keys, nk,
					     (const uint8_t(*)[32])b->key_digest,
					     nd, &c) == 0);
		CHECK(c.message[0] && memchr(c.message, 0, sizeof(c.message)));
		CHECK(c.type == b->type);
		CHECK(strncmp(espimg_sig_verdict_code(c.verdict), "sig.", 4) == 0);
		if (!header_ok) {
			CHECK(c.verdict <= ESPIMG_SIGV_DIGEST &&
			      c.verdict >= ESPIMG_SIGV_MAGIC);
			CHECK(c.key_index < 0 && c.key_digest_index < 0);
			continue;
		}
		CHECK(c.verdict > ESPIMG_SIGV_DIGEST ||
		      c.verdict == ESPIMG_SIGV_OK ||
		      c.verdict == ESPIMG_SIGV_NO_KEY);
		if (mode == 0)
			CHECK(c.verdict == ESPIMG_SIGV_NO_KEY ||
			      c.verdict == ESPIMG_SIGV_SIGNATURE);
		if (mode == 1)
			CHECK((c.key_index >= 0) ==
			      (c.verdict == ESPIMG_SIGV_OK ||
			       c.verdict == ESPIMG_SIGV_KEY_MISMATCH));
		else
			CHECK(c.key_index < 0);
		if (mode == 2)
			CHECK((c.key_digest_index == 0) ==
			      (c.verdict == ESPIMG_SIGV_OK));
		else
			CHECK(c.key_digest_index < 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *sector;
	espimg_sigblock out[ESPIMG_SIG_BLOCKS_MAX], one;
	size_t n;
	int r;

	if (size < 1)
		return 0;
	load_keys();
	n = size - 1 < ESPIMG_SIG_SECTOR_SIZE ? size - 1 : ESPIMG_SIG_SECTOR_SIZE;
	sector = malloc(ESPIMG_SIG_SECTOR_SIZE);
	CHECK(sector);
	memset(sector, 0xFF, ESPIMG_SIG_SECTOR_SIZE);
	memcpy(sector, data + 1, n);
	if (data[0] & 1) {
		for (unsigned i = 0; i < ESPIMG_SIG_BLOCKS_MAX; i++) {
			uint8_t *b = sector + i * ESPIMG_SIG_BLOCK_SIZE;
			uint32_t crc;

			if (all_ff(b, ESPIMG_SIG_BLOCK_SIZE))
				continue;
			crc = (uint32_t)crc32(0L, b, 1196);
			b[1196] = (uint8_t)crc;
			b[1197] = (uint8_t)(crc >> 8);
			b[1198] = (uint8_t)(crc >> 16);
			b[1199] = (uint8_t)(crc >> 24);
		}
	}

	/* A block cut short is never valid. */
	CHECK(espimg_sigblock_decode(sector, n < ESPIMG_SIG_BLOCK_SIZE ? n : 0,
				     0, &one) == 0);
	CHECK(!one.valid && one.type == ESPIMG_SIG_UNKNOWN);

	r = espimg_sigsector_decode(sector, ESPIMG_SIG_SECTOR_SIZE, 0x10000, out);
	CHECK(r >= 0 && r <= (int)ESPIMG_SIG_BLOCKS_MAX);
	for (int i = 0; i < r; i++) {
		const uint8_t *raw = sector + out[i].index * ESPIMG_SIG_BLOCK_SIZE;

		CHECK(out[i].index < ESPIMG_SIG_BLOCKS_MAX);
		if (i)
			CHECK(out[i].index > out[i - 1].index);
		CHECK(out[i].offset ==
		      0x10000 + (uint64_t)out[i].index * ESPIMG_SIG_BLOCK_SIZE);
		CHECK(!all_ff(raw, ESPIMG_SIG_BLOCK_SIZE));
		check_block(&out[i], raw);
		check_verify(&out[i], data[0] & 2);
	}
	if (!r) {
		/* Not recognised: no slot may have a valid block. */
		for (unsigned i = 0; i < ESPIMG_SIG_BLOCKS_MAX; i++) {
			const uint8_t *raw = sector + i * ESPIMG_SIG_BLOCK_SIZE;

			CHECK(espimg_sigblock_decode(raw, ESPIMG_SIG_BLOCK_SIZE,
						     0, &one) == 0);
			CHECK(!one.valid);
		}
		CHECK(sector[0] != 0xE7);
	}
	CHECK(espimg_sigsector_decode(sector, ESPIMG_SIG_SECTOR_SIZE - 1, 0,
				      out) == 0);
	free(sector);
	return 0;
}
