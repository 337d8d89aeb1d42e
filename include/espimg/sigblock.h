/*
 * sigblock.h - Secure Boot signature blocks: decoding.
 *
 * Secure Boot v2 (ESP-IDF components/bootloader_support, "secure boot v2
 * signature block"; espsecure sign_data --version 2): the signed file is the
 * image padded with 0xFF to a multiple of 4096, then one 4096-byte sector with
 * up to three 1216-byte blocks at 0, 1216 and 2432. A block is valid when its
 * magic is 0xE7, its version is 2 (RSA-3072) or 3 (ECDSA) and the CRC-32 of
 * its first 1196 bytes equals the stored one.
 *
 * Secure Boot v1 (ESP32 only): 68 bytes, a u32 version word (0) and a raw
 * P-256 signature r||s, big-endian.
 *
 * Verification (the signature itself, the image digest) belongs to
 * esp-verify; this module only decodes.
 */
#ifndef ESPIMG_SIGBLOCK_H
#define ESPIMG_SIGBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESPIMG_SIG_SECTOR_SIZE 4096u
#define ESPIMG_SIG_BLOCK_SIZE 1216u
#define ESPIMG_SIG_BLOCKS_MAX 3u
#define ESPIMG_SIG_BLOCK_MAGIC 0xE7u
#define ESPIMG_SIG_V1_SIZE 68u

typedef enum espimg_sig_type {
	ESPIMG_SIG_UNKNOWN = 0,  /* not a recognisable block */
	ESPIMG_SIG_RSA3072,      /* version 2 */
	ESPIMG_SIG_ECDSA_P192,   /* version 3, curve 1 */
	ESPIMG_SIG_ECDSA_P256,   /* version 3, curve 2 */
	ESPIMG_SIG_ECDSA_P384,   /* version 3, curve 3, SHA-384 */
} espimg_sig_type;

typedef struct espimg_sigblock {
	unsigned index;        /* 0..2 within the sector */
	uint64_t offset;       /* of the block, in the source */
	uint8_t magic;
	uint8_t version;
	uint8_t sha_version;   /* ECDSA: 0 = SHA-256, 1 = SHA-384 */
	uint8_t curve_id;      /* ECDSA only, else 0 */
	espimg_sig_type type;
	bool crc_ok;
	uint32_t crc_stored;
	uint32_t crc_computed;
	bool valid;            /* magic, version and CRC as the bootloader checks */
	uint8_t image_digest[48]; /* as stored */
	size_t image_digest_len;  /* 32, or 48 for SHA-384 */
	/* SHA-256 of the public-key material: the value burnt into eFuse
	 * (RSA: bytes 36..811; ECDSA: curve id || key field). Valid when
	 * key_digest_ok. */
	uint8_t key_digest[32];
	bool key_digest_ok;
} espimg_sigblock;

/* Human name of a type: "RSA-3072", "ECDSA-P256", ...; "unknown". */
ESPIMG_API const char *espimg_sig_type_name(espimg_sig_type type);

/* Decodes one 1216-byte block. Always fills *out (type UNKNOWN, valid false
 * when it is not a block). Returns ESPIMG_OK, or ESPIMG_EINVAL on NULL
 * arguments. */
ESPIMG_API int espimg_sigblock_decode(const uint8_t *block, size_t len,
				      uint64_t offset, espimg_sigblock *out);

/* Decodes a 4096-byte signature sector found at `offset`. The sector is
 * recognised when its first byte is 0xE7 or any of its three blocks has a
 * matching CRC; then every block slot that is not entirely 0xFF (erased) is
 * decoded, valid or not, in order. Returns the number of blocks written to
 * out[0..2] (0 when the sector is not recognised), or a negative ESPIMG_E*
 * code. */
ESPIMG_API int espimg_sigsector_decode(const uint8_t *sector, size_t len,
				       uint64_t offset,
				       espimg_sigblock out[ESPIMG_SIG_BLOCKS_MAX]);

#ifdef __cplusplus
}
#endif

#endif
