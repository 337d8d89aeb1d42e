/*
 * sigkey_int.h - the espimg_key structure, shared by sigkey.c (loading,
 * the Secure Boot v2 key material) and sigcrypto.c (signing, verifying).
 * Not installed.
 */
#ifndef ESPIMG_SIGKEY_INT_H
#define ESPIMG_SIGKEY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "espimg/sigblock.h"

/* Key material as a signature block lays it out (images.md 13.2/13.3):
 * RSA n || e || R^2 mod n || m' = 776 bytes at block offset 36; ECDSA
 * curve id || X || Y = 65 bytes at 36 (P-192, P-256) or 97 at 52 (P-384). */
#define SIGKEY_MATERIAL_MAX 776u
#define SIGKEY_RSA_BYTES 384u

struct espimg_key {
	EVP_PKEY *pkey;
	espimg_sig_type type;   /* UNKNOWN: Secure Boot v2 cannot use it */
	bool priv;
	char name[128];         /* for messages; "" when none was given */
	char desc[64];          /* espimg_key_describe() */
	/* Valid when type != UNKNOWN: */
	uint8_t material[SIGKEY_MATERIAL_MAX];
	size_t material_len;
	size_t material_off;    /* where a block holds it */
	uint8_t digest[32];     /* SHA-256 of material: the eFuse digest */
};

/* The public key a decoded block embeds, as a key of the block's type
 * (with its material recomputed from n and e, or X and Y). NULL when the
 * block is not a valid RSA/ECDSA block or its key is unusable (not on the
 * curve, not a 3072-bit modulus, ...). */
espimg_key *espimg_key_from_block(const espimg_sigblock *blk);

#endif
