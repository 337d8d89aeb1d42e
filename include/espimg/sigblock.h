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
 * Decoding is in sigblock.c; keys (PEM/raw loading, the eFuse key digest)
 * in sigkey.c; signing and verifying with OpenSSL in sigcrypto.c.
 */
#ifndef ESPIMG_SIGBLOCK_H
#define ESPIMG_SIGBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/common.h"
#include "espimg/diag.h"

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
	uint8_t raw[ESPIMG_SIG_BLOCK_SIZE]; /* the block's bytes as stored */
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

/* ------------------------------------------------------------------ keys */

/* A public or private key for Secure Boot signing or verification. Holds an
 * OpenSSL EVP_PKEY; immutable once loaded, so one key may be shared by
 * threads. */
typedef struct espimg_key espimg_key;

/* Loads a key from a file's bytes: PEM "PUBLIC KEY" (SubjectPublicKeyInfo),
 * "RSA PUBLIC KEY" (PKCS#1), "PRIVATE KEY" (PKCS#8), "RSA PRIVATE KEY",
 * "EC PRIVATE KEY" (SEC1, with or without an "EC PARAMETERS" block before
 * it); or exactly 64 raw bytes, a P-256 public point X||Y big-endian (the
 * Secure Boot v1 "signature_verification_key.bin" that ESP-IDF embeds).
 * Any RSA or EC key loads; espimg_key_type() says whether Secure Boot can
 * use it. `name` is for diagnostics (may be NULL).
 * Errors (in diags, codes "key.*"): "key.encrypted" (a passphrase-protected
 * PEM: ESPIMG_EUNSUPPORTED), "key.format" (not a key: ESPIMG_EFORMAT),
 * "key.algorithm" (neither RSA nor EC, e.g. Ed25519: ESPIMG_EUNSUPPORTED).
 * The library never puts private key material in a diagnostic. */
ESPIMG_API int espimg_key_load(const uint8_t *data, size_t len,
			       const char *name, espimg_key **out,
			       espimg_diag_list *diags);
ESPIMG_API void espimg_key_free(espimg_key *key); /* NULL ok */

/* The Secure Boot v2 type of a key: RSA3072 for a 3072-bit RSA key, ECDSA_*
 * for a key on P-192 (prime192v1), P-256 (prime256v1) or P-384
 * (secp384r1); UNKNOWN for any other size or curve. */
ESPIMG_API espimg_sig_type espimg_key_type(const espimg_key *key);
ESPIMG_API bool espimg_key_is_private(const espimg_key *key);
/* "RSA-2048 public key", "ECDSA-P256 private key", "EC secp256k1 public
 * key", ...: for messages. Writes at most n bytes, NUL-terminated. */
ESPIMG_API void espimg_key_describe(const espimg_key *key, char *out,
				    size_t n);

/* The Secure Boot v2 public-key digest: what eFuse KEY_PURPOSE_SECURE_BOOT_
 * DIGESTn holds and espsecure digest-sbv2-public-key writes: the SHA-256 of
 * the key material as a signature block lays it out (RSA: n, e, R^2 mod n,
 * m' as in the block; ECDSA: curve id || X || Y little-endian, P-192 padded
 * as in the block). Equal to espimg_sigblock.key_digest of every block this
 * key signs. ESPIMG_EUNSUPPORTED for a key of type UNKNOWN. */
ESPIMG_API int espimg_key_sbv2_digest(const espimg_key *key,
				      uint8_t out[32]);

/* -------------------------------------------------------- verification */

/* The digest a block signs: SHA-256, or SHA-384 for a version-3 block
 * whose sha_version byte is 1. Returns 32 or 48. */
ESPIMG_API size_t espimg_sigblock_digest_len(const espimg_sigblock *blk);

/* The outcome of checking one signature (a v2 block or a v1 signature). */
typedef enum espimg_sig_verdict {
	ESPIMG_SIGV_OK = 0,        /* verified */
	ESPIMG_SIGV_NO_KEY,        /* consistent (verifies with its own
				    * embedded key) but no key or digest was
				    * given to trust */
	ESPIMG_SIGV_MAGIC,         /* magic byte not 0xE7: the device skips it */
	ESPIMG_SIGV_VERSION,       /* version not 2 or 3 (v1: word not 0) */
	ESPIMG_SIGV_CRC,           /* CRC-32 mismatch: the device skips it */
	ESPIMG_SIGV_CURVE,         /* curve id unknown or disagreeing with the
				    * block's sha_version */
	ESPIMG_SIGV_DIGEST,        /* stored image digest != actual digest */
	ESPIMG_SIGV_KEY_SIZE,      /* a supplied RSA key is not 3072 bits */
	ESPIMG_SIGV_KEY_TYPE,      /* no supplied key is of the block's type
				    * (e.g. an ECDSA key for an RSA block, or
				    * P-256 for a P-384 block) */
	ESPIMG_SIGV_SIGNATURE,     /* does not verify with any supplied key
				    * (nor, for --key-digest, with its own) */
	ESPIMG_SIGV_KEY_DIGEST,    /* its embedded key's digest is none of the
				    * supplied eFuse digests */
	ESPIMG_SIGV_KEY_MISMATCH,  /* verifies with a supplied key, but the
				    * block embeds another public key: the
				    * device, which verifies with the embedded
				    * key, would refuse it */
} espimg_sig_verdict;

/* Stable code per verdict: "sig.ok", "sig.no_key", "sig.magic",
 * "sig.version", "sig.crc", "sig.curve", "sig.digest", "sig.key_size",
 * "sig.key_type", "sig.signature", "sig.key_digest", "sig.key_mismatch". */
ESPIMG_API const char *espimg_sig_verdict_code(espimg_sig_verdict v);

typedef struct espimg_sig_check {
	espimg_sig_verdict verdict;
	espimg_sig_type type;  /* of the block (v1: ECDSA_P256) */
	int key_index;         /* keys[i] that verified it, else -1 */
	int key_digest_index;  /* key_digests[i] that matched, else -1 */
	char message[448];     /* why, in words, for one output line */
} espimg_sig_check;

/* Checks one decoded Secure Boot v2 block against `digest` (the SHA-256 or
 * SHA-384, per espimg_sigblock_digest_len(), of everything before the
 * signature sector) as espsecure verify-signature and the ROM do, in this
 * order: magic, version, CRC, curve, stored digest, then the signature:
 * - with keys (nkeys > 0): RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) or
 *   ECDSA over the digest as a prehash, with each key of the block's type in
 *   turn; the first that verifies wins (key_index); then the block's own key
 *   must be that key (else KEY_MISMATCH).
 * - with eFuse digests (ndigests > 0): the block's key digest must be one of
 *   them and the signature must verify with the block's own key.
 * - with neither: verifies with the block's own key, giving NO_KEY (or
 *   SIGNATURE when it does not).
 * Both lists may be given: the block passes with either.
 * Returns ESPIMG_OK (the verdict is in *out), ESPIMG_EINVAL, ESPIMG_ENOMEM. */
ESPIMG_API int espimg_sigblock_verify(const espimg_sigblock *blk,
				      const uint8_t *digest, size_t digest_len,
				      const espimg_key *const *keys,
				      size_t nkeys,
				      const uint8_t (*digests)[32],
				      size_t ndigests,
				      espimg_sig_check *out);

/* Checks a Secure Boot v1 signature (68 bytes: u32 version 0, then r||s
 * big-endian, P-256) over `digest`, the SHA-256 of the signed bytes, with
 * each P-256 key in turn. Verdicts: OK, VERSION, KEY_TYPE, SIGNATURE. */
ESPIMG_API int espimg_sbv1_verify(const uint8_t sig[ESPIMG_SIG_V1_SIZE],
				  const uint8_t digest[32],
				  const espimg_key *const *keys, size_t nkeys,
				  espimg_sig_check *out);

/* ---------------------------------------------------------------- signing */

/* Builds one Secure Boot v2 block signing `digest` (32 bytes, or 48 for a
 * P-384 key) with a private key of a supported type: RSA-PSS or ECDSA
 * (randomised, like espsecure), the key material, CRC and zero padding.
 * ESPIMG_EUNSUPPORTED for a public key or a key of type UNKNOWN;
 * ESPIMG_EINVAL for a digest of the wrong length. */
ESPIMG_API int espimg_sbv2_sign_block(const espimg_key *priv,
				      const uint8_t *digest, size_t digest_len,
				      uint8_t block[ESPIMG_SIG_BLOCK_SIZE]);

/* What espimg_sbv2_sign() decided: the signed file is the first data_len
 * bytes of the input, then pad_len bytes 0xFF, then `sector`. */
typedef struct espimg_sign_result {
	size_t data_len;      /* input bytes kept (before any old sector) */
	size_t pad_len;       /* 0xFF bytes added to reach a 4 KiB multiple */
	unsigned kept_blocks; /* valid blocks kept from the old sector */
	unsigned new_blocks;  /* one per key */
	uint8_t sector[ESPIMG_SIG_SECTOR_SIZE];
} espimg_sign_result;

/* Signs `data` for Secure Boot v2 with nkeys (1..3) private keys, the way
 * espsecure sign-data --version 2 does: without `append` the whole input
 * is signed (padded with 0xFF to a multiple of 4096); with `append` the
 * input must end in a signature sector whose valid blocks are kept (in
 * order, then the new ones), and everything before that sector is signed.
 * Errors in diags with codes "sign.*": "sign.too_many" (kept + new > 3),
 * "sign.no_sector" (append without a sector of valid blocks),
 * "sign.key" (a public key, or an unsupported key type), "sign.digest"
 * (append: a kept block signs another digest than the data's). */
ESPIMG_API int espimg_sbv2_sign(const uint8_t *data, size_t len,
				const espimg_key *const *keys, size_t nkeys,
				bool append, espimg_sign_result *out,
				espimg_diag_list *diags);

/* The Secure Boot v1 signature of `digest` (the SHA-256 of the data) with a
 * P-256 private key: u32 version 0, then r||s big-endian. Deterministic
 * (RFC 6979 nonce with HMAC-SHA-256), so byte-identical to espsecure
 * sign-data --version 1. ESPIMG_EUNSUPPORTED for other keys. */
ESPIMG_API int espimg_sbv1_sign(const espimg_key *priv,
				const uint8_t digest[32],
				uint8_t sig[ESPIMG_SIG_V1_SIZE]);

#ifdef __cplusplus
}
#endif

#endif
