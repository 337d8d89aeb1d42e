/*
 * sigblock.c - Secure Boot signature blocks: decoding.
 *
 * Layouts: ESP-IDF components/esp_rom/<chip>/include/<chip>/rom/secure_boot.h
 * (struct ets_secure_boot_sig_block) and espsecure (esptool 5.3.1,
 * espsecure/__init__.py: validate_signature_block, signature_info_v2);
 * ../shared/docs/images.md section 13 has the byte tables.
 */
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "espimg/sigblock.h"
#include "internal.h"

/* Block versions (espsecure SIG_BLOCK_VERSION_RSA / _ECDSA). */
#define SIG_VERSION_RSA 0x02
#define SIG_VERSION_ECDSA 0x03

/* ECDSA sha_version byte (espsecure ECDSA_SHA_256 / ECDSA_SHA_384). */
#define SIG_SHA_384 1

/* ECDSA curve ids (ROM ECDSA_CURVE: ETS_ECDSA_CURVE_P192 = 1, ...). */
#define CURVE_P192 1
#define CURVE_P256 2
#define CURVE_P384 3

/* The CRC covers everything before the stored CRC word. */
#define SIG_CRC_OFFSET 1196u

/* Public-key material hashed for the eFuse key digest, by layout:
 * RSA n || e || rinv || m' (bytes 36..811); ECDSA with a 32-byte digest:
 * curve id || 64-byte point (36..100); with a 48-byte digest: curve id ||
 * 96-byte point (52..148). */
#define RSA_KEY_OFFSET 36u
#define RSA_KEY_LEN 776u
#define ECDSA256_KEY_OFFSET 36u
#define ECDSA256_KEY_LEN 65u
#define ECDSA384_KEY_OFFSET 52u
#define ECDSA384_KEY_LEN 97u

const char *espimg_sig_type_name(espimg_sig_type type)
{
	switch (type) {
	case ESPIMG_SIG_RSA3072:
		return "RSA-3072";
	case ESPIMG_SIG_ECDSA_P192:
		return "ECDSA-P192";
	case ESPIMG_SIG_ECDSA_P256:
		return "ECDSA-P256";
	case ESPIMG_SIG_ECDSA_P384:
		return "ECDSA-P384";
	case ESPIMG_SIG_UNKNOWN:
		break;
	}
	return "unknown";
}

static uint32_t block_crc(const uint8_t *block)
{
	return (uint32_t)crc32(0L, block, SIG_CRC_OFFSET);
}

static bool sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
	unsigned n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 &&
	       n == 32;
}

/* The curve id must agree with the layout the sha_version byte selects:
 * P-192 and P-256 share the SHA-256 layout, P-384 has its own. A block
 * whose curve byte disagrees is not a block any ROM would accept. */
static espimg_sig_type ecdsa_type(uint8_t curve, bool sha384)
{
	if (sha384)
		return curve == CURVE_P384 ? ESPIMG_SIG_ECDSA_P384
					   : ESPIMG_SIG_UNKNOWN;
	if (curve == CURVE_P192)
		return ESPIMG_SIG_ECDSA_P192;
	if (curve == CURVE_P256)
		return ESPIMG_SIG_ECDSA_P256;
	return ESPIMG_SIG_UNKNOWN;
}

int espimg_sigblock_decode(const uint8_t *block, size_t len, uint64_t offset,
			   espimg_sigblock *out)
{
	size_t key_off = 0, key_len = 0;

	if (!out)
		return ESPIMG_EINVAL;
	memset(out, 0, sizeof(*out));
	out->offset = offset;
	out->type = ESPIMG_SIG_UNKNOWN;
	if (!block)
		return ESPIMG_EINVAL;
	if (len < ESPIMG_SIG_BLOCK_SIZE)
		return ESPIMG_OK; /* too short to be a block */

	memcpy(out->raw, block, ESPIMG_SIG_BLOCK_SIZE);
	out->magic = block[0];
	out->version = block[1];
	out->crc_stored = espimg_le32(block + SIG_CRC_OFFSET);
	out->crc_computed = block_crc(block);
	out->crc_ok = out->crc_stored == out->crc_computed;

	/* espsecure reads the digest as 48 bytes only for an ECDSA block
	 * whose sha_version byte is 1; every other block has 32. */
	out->image_digest_len = 32;
	if (out->version == SIG_VERSION_RSA) {
		out->type = ESPIMG_SIG_RSA3072;
		key_off = RSA_KEY_OFFSET;
		key_len = RSA_KEY_LEN;
	} else if (out->version == SIG_VERSION_ECDSA) {
		bool sha384 = block[2] == SIG_SHA_384;

		out->sha_version = block[2];
		if (sha384) {
			out->image_digest_len = 48;
			key_off = ECDSA384_KEY_OFFSET;
			key_len = ECDSA384_KEY_LEN;
		} else {
			key_off = ECDSA256_KEY_OFFSET;
			key_len = ECDSA256_KEY_LEN;
		}
		out->curve_id = block[key_off];
		out->type = ecdsa_type(out->curve_id, sha384);
	}
	memcpy(out->image_digest, block + 4, out->image_digest_len);

	/* The bootloader's check (and espsecure's): magic, version, CRC. */
	out->valid = out->magic == ESPIMG_SIG_BLOCK_MAGIC &&
		     (out->version == SIG_VERSION_RSA ||
		      out->version == SIG_VERSION_ECDSA) &&
		     out->crc_ok;

	if (key_len)
		out->key_digest_ok =
			sha256(block + key_off, key_len, out->key_digest);
	return ESPIMG_OK;
}

int espimg_sigsector_decode(const uint8_t *sector, size_t len, uint64_t offset,
			    espimg_sigblock out[ESPIMG_SIG_BLOCKS_MAX])
{
	bool recognised;
	unsigned i;
	int n = 0;

	if (!sector || !out)
		return ESPIMG_EINVAL;
	if (len < ESPIMG_SIG_SECTOR_SIZE)
		return 0;

	recognised = sector[0] == ESPIMG_SIG_BLOCK_MAGIC;
	for (i = 0; !recognised && i < ESPIMG_SIG_BLOCKS_MAX; i++) {
		const uint8_t *b = sector + i * ESPIMG_SIG_BLOCK_SIZE;

		recognised = espimg_le32(b + SIG_CRC_OFFSET) == block_crc(b);
	}
	if (!recognised)
		return 0;

	for (i = 0; i < ESPIMG_SIG_BLOCKS_MAX; i++) {
		const uint8_t *b = sector + i * ESPIMG_SIG_BLOCK_SIZE;
		int rc;

		if (espimg_all_ff(b, ESPIMG_SIG_BLOCK_SIZE))
			continue;
		rc = espimg_sigblock_decode(b, ESPIMG_SIG_BLOCK_SIZE,
					    offset + i * ESPIMG_SIG_BLOCK_SIZE,
					    &out[n]);
		if (rc < 0)
			return rc;
		out[n].index = i;
		n++;
	}
	return n;
}
