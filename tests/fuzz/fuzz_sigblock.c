/*
 * fuzz_sigblock.c - libFuzzer harness for Secure Boot v2 block and sector
 * decoding.
 *
 * Input: one option byte, then the sector, padded with 0xFF (erased flash)
 * to 4096 bytes.  Bit 0 of the option byte stores a correct CRC in every
 * slot that is not erased, so the valid-block paths are reached too.
 * Checked: the block count, slot order and offsets, and that "valid"
 * means exactly magic 0xE7, version 2 or 3 and a matching CRC.
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

static bool erased(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *sector;
	espimg_sigblock out[ESPIMG_SIG_BLOCKS_MAX], one;
	size_t n;
	int r;

	if (size < 1)
		return 0;
	n = size - 1 < ESPIMG_SIG_SECTOR_SIZE ? size - 1 : ESPIMG_SIG_SECTOR_SIZE;
	sector = malloc(ESPIMG_SIG_SECTOR_SIZE);
	CHECK(sector);
	memset(sector, 0xFF, ESPIMG_SIG_SECTOR_SIZE);
	memcpy(sector, data + 1, n);
	if (data[0] & 1) {
		for (unsigned i = 0; i < ESPIMG_SIG_BLOCKS_MAX; i++) {
			uint8_t *b = sector + i * ESPIMG_SIG_BLOCK_SIZE;
			uint32_t crc;

			if (erased(b, ESPIMG_SIG_BLOCK_SIZE))
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
		CHECK(!erased(raw, ESPIMG_SIG_BLOCK_SIZE));
		check_block(&out[i], raw);
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
