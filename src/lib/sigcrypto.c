/*
 * sigcrypto.c - Secure Boot signatures with OpenSSL: verifying v2 blocks
 * and v1 signatures, building v2 blocks and sectors, v1 signing.
 *
 * Behaviour follows espsecure (esptool 5.3.1, espsecure/__init__.py:
 * verify_signature_v2, validate_signature_block, sign_secure_boot_v2,
 * generate_rsa_signature_block, generate_ecdsa_signature_block,
 * verify_signature_v1, sign_secure_boot_v1); layouts in images.md 13-14.
 * Verdicts beyond espsecure's (CURVE, KEY_MISMATCH, ...) are the issue 5
 * contract's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <zlib.h>

#include "espimg/sigblock.h"
#include "internal.h"
#include "sigkey_int.h"

/* Block versions and the ECDSA sha_version byte (espsecure
 * SIG_BLOCK_VERSION_RSA/_ECDSA, ECDSA_SHA_256/_384). */
#define SIG_VERSION_RSA 0x02
#define SIG_VERSION_ECDSA 0x03
#define SIG_SHA_256 0
#define SIG_SHA_384 1

/* RSA block: signature (byte-reversed) at 812; ECDSA: curve id, X||Y,
 * then r||s little-endian (generate_*_signature_block). */
#define RSA_SIG_OFFSET 812u
#define RSA_SIG_LEN 384u
#define ECDSA256_CURVE_OFFSET 36u
#define ECDSA384_CURVE_OFFSET 52u
#define CRC_OFFSET 1196u

/* RSA-PSS parameters of Secure Boot v2: SHA-256, MGF1-SHA-256, salt 32. */
#define PSS_SALT_LEN 32

static const char *const verdict_codes[] = {
	[ESPIMG_SIGV_OK] = "sig.ok",
	[ESPIMG_SIGV_NO_KEY] = "sig.no_key",
	[ESPIMG_SIGV_MAGIC] = "sig.magic",
	[ESPIMG_SIGV_VERSION] = "sig.version",
	[ESPIMG_SIGV_CRC] = "sig.crc",
	[ESPIMG_SIGV_CURVE] = "sig.curve",
	[ESPIMG_SIGV_DIGEST] = "sig.digest",
	[ESPIMG_SIGV_KEY_SIZE] = "sig.key_size",
	[ESPIMG_SIGV_KEY_TYPE] = "sig.key_type",
	[ESPIMG_SIGV_SIGNATURE] = "sig.signature",
	[ESPIMG_SIGV_KEY_DIGEST] = "sig.key_digest",
	[ESPIMG_SIGV_KEY_MISMATCH] = "sig.key_mismatch",
};

const char *espimg_sig_verdict_code(espimg_sig_verdict v)
{
	if ((unsigned)v < ESPIMG_ARRAY_SIZE(verdict_codes))
		return verdict_codes[v];
	return "sig.unknown";
}

size_t espimg_sigblock_digest_len(const espimg_sigblock *blk)
{
	if (blk && blk->version == SIG_VERSION_ECDSA &&
	    blk->sha_version == SIG_SHA_384)
		return 48;
	return 32;
}

/* ------------------------------------------------------------ helpers */

static void reverse(uint8_t *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

/* Bytes per ECDSA coordinate (and per r, s) of a block type; 0 for RSA. */
static size_t coord_len(espimg_sig_type t)
{
	switch (t) {
	case ESPIMG_SIG_ECDSA_P192:
		return 24;
	case ESPIMG_SIG_ECDSA_P256:
		return 32;
	case ESPIMG_SIG_ECDSA_P384:
		return 48;
	default:
		return 0;
	}
}

static const EVP_MD *ecdsa_md(espimg_sig_type t)
{
	return t == ESPIMG_SIG_ECDSA_P384 ? EVP_sha384() : EVP_sha256();
}

static size_t type_digest_len(espimg_sig_type t)
{
	return t == ESPIMG_SIG_ECDSA_P384 ? 48 : 32;
}

static bool pss_params(EVP_PKEY_CTX *ctx)
{
	return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	       EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0 &&
	       EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, PSS_SALT_LEN) > 0;
}

/* DER of an ECDSA signature from big-endian or little-endian r and s.
 * Returns the DER length (0 on failure); *der is OPENSSL_malloc'd. */
static int ecdsa_der(const uint8_t *r, const uint8_t *s, size_t n, bool le,
		     unsigned char **der)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = le ? BN_lebin2bn(r, (int)n, NULL)
			: BN_bin2bn(r, (int)n, NULL);
	BIGNUM *bs = le ? BN_lebin2bn(s, (int)n, NULL)
			: BN_bin2bn(s, (int)n, NULL);
	int len = 0;

	*der = NULL;
	if (sig && br && bs && ECDSA_SIG_set0(sig, br, bs) == 1) {
		br = bs = NULL; /* owned by sig now */
		len = i2d_ECDSA_SIG(sig, der);
		if (len < 0)
			len = 0;
	}
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	return len;
}

/* 1 verified, 0 not, <0 ESPIMG_ENOMEM. */
static int pkey_verify(EVP_PKEY *pkey, bool rsa, const EVP_MD *md,
		       const uint8_t *sig, size_t siglen,
		       const uint8_t *digest, size_t dlen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int r = -1;

	if (!ctx)
		goto out;
	if (EVP_PKEY_verify_init(ctx) != 1)
		goto out;
	if (rsa ? !pss_params(ctx)
		: EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
		goto out;
	r = EVP_PKEY_verify(ctx, sig, siglen, digest, dlen) == 1;
out:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return r < 0 ? ESPIMG_ENOMEM : r;
}

/* Does the signature in a valid v2 block verify with this key (of the
 * block's type) over digest? 1 yes, 0 no, <0 error. */
static int block_verifies(const espimg_sigblock *blk, const espimg_key *key,
			  const uint8_t *digest, size_t dlen)
{
	const uint8_t *raw = blk->raw;
	unsigned char *der = NULL;
	uint8_t sig[RSA_SIG_LEN];
	size_t n;
	int len, r;

	if (blk->type == ESPIMG_SIG_RSA3072) {
		reverse(sig, raw + RSA_SIG_OFFSET, RSA_SIG_LEN);
		return pkey_verify(key->pkey, true, NULL, sig, RSA_SIG_LEN,
				   digest, dlen);
	}
	n = coord_len(blk->type);
	raw += (blk->type == ESPIMG_SIG_ECDSA_P384 ? ECDSA384_CURVE_OFFSET
						   : ECDSA256_CURVE_OFFSET) +
	       1 + (blk->type == ESPIMG_SIG_ECDSA_P384 ? 96 : 64);
	len = ecdsa_der(raw, raw + n, n, true, &der);
	if (!len)
		return ESPIMG_ENOMEM;
	r = pkey_verify(key->pkey, false, ecdsa_md(blk->type), der,
			(size_t)len, digest, dlen);
	OPENSSL_free(der);
	return r;
}

static bool embeds(const espimg_sigblock *blk, const espimg_key *key)
{
	return !memcmp(blk->raw + key->material_off, key->material,
		       key->material_len);
}

static const char *key_name(const espimg_key *k, char *buf, size_t n,
			    size_t index)
{
	if (k->name[0]) {
		size_t len = strlen(k->name);

		/* Cut a long name before a whole UTF-8 character. */
		if (len > 160) {
			len = 160;
			while (len && ((uint8_t)k->name[len] & 0xC0) == 0x80)
				len--;
		}
		snprintf(buf, n, "%.*s", (int)len, k->name);
	} else
		snprintf(buf, n, "key %zu", index);
	return buf;
}

static void say(espimg_sig_check *out, espimg_sig_verdict v,
		const char *fmt, ...) ESPIMG_PRINTF(3, 4);

static void say(espimg_sig_check *out, espimg_sig_verdict v,
		const char *fmt, ...)
{
	va_list ap;

	out->verdict = v;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ verify v2 */

/* With supplied keys: the first key of the block's type that verifies. */
static int verify_with_keys(const espimg_sigblock *blk, const uint8_t *digest,
			    size_t dlen, const espimg_key *const *keys,
			    size_t nkeys, espimg_sig_check *out)
{
	const char *tname = espimg_sig_type_name(blk->type);
	size_t usable = 0, rsa_other = 0, first = 0;
	char name[168], kd[65];
	int rsa_bits = 0;

	for (size_t i = 0; i < nkeys; i++) {
		const espimg_key *k = keys[i];
		int r;

		if (!k)
			continue;
		if (k->type != blk->type) {
			if (blk->type == ESPIMG_SIG_RSA3072 &&
			    EVP_PKEY_is_a(k->pkey, "RSA") && !rsa_other++) {
				rsa_bits = EVP_PKEY_get_bits(k->pkey);
				first = i;
			}
			continue;
		}
		if (!usable++)
			first = i;
		r = block_verifies(blk, k, digest, dlen);
		if (r < 0)
			return r;
		if (!r)
			continue;
		out->key_index = (int)i;
		key_name(k, name, sizeof(name), i);
		if (!embeds(blk, k)) {
			espimg_hex(kd, blk->key_digest, 32);
			say(out, ESPIMG_SIGV_KEY_MISMATCH,
			    "%s signature verifies with %s, but the block "
			    "embeds another public key (digest %s): the "
			    "device verifies with the embedded key and would "
			    "refuse it",
			    tname, name, kd);
			return ESPIMG_OK;
		}
		espimg_hex(kd, k->digest, 32);
		say(out, ESPIMG_SIGV_OK, "%s block verified with %s (key digest %s)",
		    tname, name, kd);
		return ESPIMG_OK;
	}
	if (usable == 1) {
		say(out, ESPIMG_SIGV_SIGNATURE,
		    "%s signature does not verify with %s", tname,
		    key_name(keys[first], name, sizeof(name), first));
	} else if (usable) {
		say(out, ESPIMG_SIGV_SIGNATURE,
		    "%s signature verifies with none of the %zu supplied %s "
		    "keys",
		    tname, usable, tname);
	} else if (rsa_other) {
		say(out, ESPIMG_SIGV_KEY_SIZE,
		    "RSA-3072 block, but %s is an RSA-%d key (Secure Boot v2 "
		    "uses RSA-3072 only)",
		    key_name(keys[first], name, sizeof(name), first),
		    rsa_bits);
	} else if (nkeys == 1 && keys[0]) {
		say(out, ESPIMG_SIGV_KEY_TYPE, "%s block, but %s is an %s",
		    tname, key_name(keys[0], name, sizeof(name), 0),
		    keys[0]->desc);
	} else {
		say(out, ESPIMG_SIGV_KEY_TYPE,
		    "%s block, but none of the %zu supplied keys is %s", tname,
		    nkeys, tname);
	}
	return ESPIMG_OK;
}

/* Checks the block's signature with its own embedded key: 1 yes, 0 no (the
 * message says why), <0 error. */
static int verify_embedded(const espimg_sigblock *blk, const uint8_t *digest,
			   size_t dlen, espimg_sig_check *out)
{
	const char *tname = espimg_sig_type_name(blk->type);
	espimg_key *own = espimg_key_from_block(blk);
	int r;

	if (!own) {
		say(out, ESPIMG_SIGV_SIGNATURE,
		    "the block's embedded %s public key is not a valid key",
		    tname);
		return 0;
	}
	/* The RSA peripheral uses the stored R^2 mod n and m', not ones
	 * derived from n: they must be the right ones. */
	if (blk->type == ESPIMG_SIG_RSA3072 && !embeds(blk, own)) {
		espimg_key_free(own);
		say(out, ESPIMG_SIGV_SIGNATURE,
		    "the block's R^2 mod n or m' do not belong to its "
		    "RSA-3072 modulus: the device cannot verify it");
		return 0;
	}
	r = block_verifies(blk, own, digest, dlen);
	espimg_key_free(own);
	if (r == 0)
		say(out, ESPIMG_SIGV_SIGNATURE,
		    "%s signature does not verify with the block's own "
		    "embedded key",
		    tname);
	return r;
}

static int verify_with_digests(const espimg_sigblock *blk,
			       const uint8_t *digest, size_t dlen,
			       const uint8_t (*digests)[32], size_t ndigests,
			       espimg_sig_check *out)
{
	const char *tname = espimg_sig_type_name(blk->type);
	char kd[65];
	size_t i;
	int r;

	espimg_hex(kd, blk->key_digest, 32);
	for (i = 0; i < ndigests; i++)
		if (blk->key_digest_ok && !memcmp(digests[i], blk->key_digest, 32))
			break;
	if (i == ndigests) {
		say(out, ESPIMG_SIGV_KEY_DIGEST,
		    "the block's %s key digest %s is not %s", tname, kd,
		    ndigests == 1 ? "the supplied eFuse digest"
				  : "any of the supplied eFuse digests");
		return ESPIMG_OK;
	}
	r = verify_embedded(blk, digest, dlen, out);
	if (r <= 0)
		return r;
	out->key_digest_index = (int)i;
	say(out, ESPIMG_SIGV_OK,
	    "%s block verified with its embedded key, whose digest %s is "
	    "eFuse digest %zu",
	    tname, kd, i);
	return ESPIMG_OK;
}

int espimg_sigblock_verify(const espimg_sigblock *blk, const uint8_t *digest,
			   size_t digest_len, const espimg_key *const *keys,
			   size_t nkeys, const uint8_t (*digests)[32],
			   size_t ndigests, espimg_sig_check *out)
{
	const char *tname;
	char a[97], b[97];
	int r;

	if (!out)
		return ESPIMG_EINVAL;
	memset(out, 0, sizeof(*out));
	out->key_index = -1;
	out->key_digest_index = -1;
	if (!blk || !digest || (nkeys && !keys) || (ndigests && !digests) ||
	    digest_len != espimg_sigblock_digest_len(blk))
		return ESPIMG_EINVAL;
	out->type = blk->type;
	tname = espimg_sig_type_name(blk->type);

	/* The bootloader's (and validate_signature_block's) order. */
	if (blk->magic != ESPIMG_SIG_BLOCK_MAGIC) {
		say(out, ESPIMG_SIGV_MAGIC,
		    "magic byte 0x%02x is not 0xe7: not a signature block",
		    blk->magic);
		return ESPIMG_OK;
	}
	if (blk->version != SIG_VERSION_RSA &&
	    blk->version != SIG_VERSION_ECDSA) {
		say(out, ESPIMG_SIGV_VERSION,
		    "block version %u is neither 2 (RSA) nor 3 (ECDSA)",
		    blk->version);
		return ESPIMG_OK;
	}
	if (!blk->crc_ok) {
		say(out, ESPIMG_SIGV_CRC,
		    "CRC-32 0x%08x stored, 0x%08x computed: the block is "
		    "corrupt",
		    blk->crc_stored, blk->crc_computed);
		return ESPIMG_OK;
	}
	if (blk->type == ESPIMG_SIG_UNKNOWN) {
		say(out, ESPIMG_SIGV_CURVE,
		    "ECDSA curve id %u does not match the block's SHA-%s "
		    "layout (sha_version %u)",
		    blk->curve_id, blk->sha_version == SIG_SHA_384 ? "384" : "256",
		    blk->sha_version);
		return ESPIMG_OK;
	}
	if (memcmp(blk->image_digest, digest, digest_len)) {
		espimg_hex(a, blk->image_digest, digest_len);
		espimg_hex(b, digest, digest_len);
		say(out, ESPIMG_SIGV_DIGEST,
		    "the block signs image digest %s, the image's is %s",
		    a, b);
		return ESPIMG_OK;
	}

	if (nkeys) {
		r = verify_with_keys(blk, digest, digest_len, keys, nkeys, out);
		if (r < 0 || out->verdict == ESPIMG_SIGV_OK || !ndigests)
			return r;
		/* Keys did not vouch for it: the digests may. Their verdict
		 * is the more useful one when no key was of the block's
		 * type. */
		if (out->verdict == ESPIMG_SIGV_KEY_TYPE ||
		    out->verdict == ESPIMG_SIGV_KEY_SIZE) {
			out->key_index = -1;
			return verify_with_digests(blk, digest, digest_len,
						   digests, ndigests, out);
		} else {
			espimg_sig_check alt;

			memset(&alt, 0, sizeof(alt));
			alt.key_index = alt.key_digest_index = -1;
			alt.type = blk->type;
			r = verify_with_digests(blk, digest, digest_len,
						digests, ndigests, &alt);
			if (r < 0)
				return r;
			if (alt.verdict == ESPIMG_SIGV_OK)
				*out = alt;
			return ESPIMG_OK;
		}
	}
	if (ndigests)
		return verify_with_digests(blk, digest, digest_len, digests,
					   ndigests, out);

	r = verify_embedded(blk, digest, digest_len, out);
	if (r <= 0)
		return r;
	espimg_hex(a, blk->key_digest, 32);
	say(out, ESPIMG_SIGV_NO_KEY,
	    "%s block verifies with its own embedded key (key digest "
	    "%s); no trusted key or digest given",
	    tname, a);
	return ESPIMG_OK;
}

/* ------------------------------------------------------------ verify v1 */

int espimg_sbv1_verify(const uint8_t sig[ESPIMG_SIG_V1_SIZE],
		       const uint8_t digest[32], const espimg_key *const *keys,
		       size_t nkeys, espimg_sig_check *out)
{
	unsigned char *der = NULL;
	size_t usable = 0, first = 0;
	char name[168];
	uint32_t version;
	int len, r = 0;

	if (!out)
		return ESPIMG_EINVAL;
	memset(out, 0, sizeof(*out));
	out->key_index = -1;
	out->key_digest_index = -1;
	out->type = ESPIMG_SIG_ECDSA_P256;
	if (!sig || !digest || (nkeys && !keys))
		return ESPIMG_EINVAL;

	/* sign_secure_boot_v1 writes struct.pack("I", 0): little-endian on
	 * every host espsecure runs on, and what the ESP32 reads. */
	version = espimg_le32(sig);
	if (version != 0) {
		say(out, ESPIMG_SIGV_VERSION,
		    "signature version word is %u, not 0", version);
		return ESPIMG_OK;
	}
	len = ecdsa_der(sig + 4, sig + 36, 32, false, &der);
	if (!len)
		return ESPIMG_ENOMEM;
	for (size_t i = 0; i < nkeys; i++) {
		if (!keys[i] || keys[i]->type != ESPIMG_SIG_ECDSA_P256)
			continue;
		if (!usable++)
			first = i;
		r = pkey_verify(keys[i]->pkey, false, EVP_sha256(), der,
				(size_t)len, digest, 32);
		if (r < 0)
			break;
		if (r) {
			out->key_index = (int)i;
			say(out, ESPIMG_SIGV_OK,
			    "ECDSA-P256 signature verified with %s",
			    key_name(keys[i], name, sizeof(name), i));
			break;
		}
	}
	OPENSSL_free(der);
	if (r < 0)
		return r;
	if (out->key_index >= 0)
		return ESPIMG_OK;
	if (usable == 1)
		say(out, ESPIMG_SIGV_SIGNATURE,
		    "ECDSA-P256 signature does not verify with %s",
		    key_name(keys[first], name, sizeof(name), first));
	else if (usable)
		say(out, ESPIMG_SIGV_SIGNATURE,
		    "ECDSA-P256 signature verifies with none of the %zu "
		    "supplied P-256 keys",
		    usable);
	else if (nkeys == 1 && keys[0])
		say(out, ESPIMG_SIGV_KEY_TYPE,
		    "Secure Boot v1 signatures are ECDSA-P256, but %s is an %s",
		    key_name(keys[0], name, sizeof(name), 0), keys[0]->desc);
	else
		say(out, ESPIMG_SIGV_KEY_TYPE,
		    "Secure Boot v1 signatures are ECDSA-P256, and none of the "
		    "%zu supplied keys is",
		    nkeys);
	return ESPIMG_OK;
}

/* ------------------------------------------------------------ sign v2 */

/* EVP_PKEY_sign over a prehash; *sig is malloc'd. */
static int pkey_sign(const espimg_key *key, const uint8_t *digest,
		     size_t dlen, uint8_t **sig, size_t *siglen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
	bool rsa = key->type == ESPIMG_SIG_RSA3072;
	int rc = ESPIMG_ENOMEM;

	*sig = NULL;
	if (!ctx || EVP_PKEY_sign_init(ctx) != 1)
		goto out;
	if (rsa ? !pss_params(ctx)
		: EVP_PKEY_CTX_set_signature_md(ctx, ecdsa_md(key->type)) <= 0)
		goto out;
	if (EVP_PKEY_sign(ctx, NULL, siglen, digest, dlen) != 1)
		goto out;
	*sig = malloc(*siglen);
	if (!*sig)
		goto out;
	if (EVP_PKEY_sign(ctx, *sig, siglen, digest, dlen) != 1) {
		free(*sig);
		*sig = NULL;
		goto out;
	}
	rc = ESPIMG_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int espimg_sbv2_sign_block(const espimg_key *priv, const uint8_t *digest,
			   size_t digest_len,
			   uint8_t block[ESPIMG_SIG_BLOCK_SIZE])
{
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int rc;

	if (!priv || !digest || !block)
		return ESPIMG_EINVAL;
	if (!priv->priv || priv->type == ESPIMG_SIG_UNKNOWN)
		return ESPIMG_EUNSUPPORTED;
	if (digest_len != type_digest_len(priv->type))
		return ESPIMG_EINVAL;
	rc = pkey_sign(priv, digest, digest_len, &sig, &siglen);
	if (rc < 0)
		return rc;

	memset(block, 0, ESPIMG_SIG_BLOCK_SIZE);
	block[0] = ESPIMG_SIG_BLOCK_MAGIC;
	memcpy(block + 4, digest, digest_len);
	memcpy(block + priv->material_off, priv->material, priv->material_len);
	if (priv->type == ESPIMG_SIG_RSA3072) {
		block[1] = SIG_VERSION_RSA;
		if (siglen != RSA_SIG_LEN) {
			rc = ESPIMG_EINVAL;
			goto out;
		}
		reverse(block + RSA_SIG_OFFSET, sig, RSA_SIG_LEN);
	} else {
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
		const BIGNUM *r = NULL, *s = NULL;
		size_t n = coord_len(priv->type);
		uint8_t *rs = block + priv->material_off + priv->material_len;

		block[1] = SIG_VERSION_ECDSA;
		block[2] = priv->type == ESPIMG_SIG_ECDSA_P384 ? SIG_SHA_384
							      : SIG_SHA_256;
		if (!es) {
			rc = ESPIMG_ENOMEM;
			goto out;
		}
		ECDSA_SIG_get0(es, &r, &s);
		if (BN_bn2lebinpad(r, rs, (int)n) != (int)n ||
		    BN_bn2lebinpad(s, rs + n, (int)n) != (int)n)
			rc = ESPIMG_EINVAL;
		ECDSA_SIG_free(es);
		if (rc < 0)
			goto out;
	}
	espimg_put_le32(block + CRC_OFFSET,
			(uint32_t)crc32(0L, block, CRC_OFFSET));
out:
	free(sig);
	ERR_clear_error();
	return rc;
}

/* The digest of data[0..len) followed by pad bytes 0xFF. */
static bool pad_digest(const EVP_MD *md, const uint8_t *data, size_t len,
		       size_t pad, uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
		  (!len || EVP_DigestUpdate(ctx, data, len) == 1);
	uint8_t ff[256];

	memset(ff, 0xFF, sizeof(ff));

	while (ok && pad) {
		size_t n = pad < sizeof(ff) ? pad : sizeof(ff);

		ok = EVP_DigestUpdate(ctx, ff, n) == 1;
		pad -= n;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

int espimg_sbv2_sign(const uint8_t *data, size_t len,
		     const espimg_key *const *keys, size_t nkeys, bool append,
		     espimg_sign_result *out, espimg_diag_list *diags)
{
	uint8_t d256[32], d384[48];
	bool need256 = false, need384 = false;
	unsigned kept = 0;
	size_t i;

	if (!out || (!data && len) || !keys || !nkeys)
		return ESPIMG_EINVAL;
	memset(out, 0, sizeof(*out));
	memset(out->sector, 0xFF, sizeof(out->sector));

	for (i = 0; i < nkeys; i++) {
		const espimg_key *k = keys[i];

		if (!k)
			return ESPIMG_EINVAL;
		if (!k->priv || k->type == ESPIMG_SIG_UNKNOWN) {
			espimg_diag_add(diags, ESPIMG_SEV_ERROR, "sign.key",
					k->name[0] ? k->name : NULL, 0, 0, -1,
					"cannot sign with the %s: Secure Boot "
					"v2 needs an RSA-3072 or ECDSA "
					"P-192/P-256/P-384 private key",
					k->desc);
			return ESPIMG_EUNSUPPORTED;
		}
		if (k->type == ESPIMG_SIG_ECDSA_P384)
			need384 = true;
		else
			need256 = true;
	}

	if (append) {
		/* espsecure keeps the valid blocks from slot 0 up to the
		 * first one that is not (validate_signature_block). */
		if (len >= ESPIMG_SIG_SECTOR_SIZE &&
		    len % ESPIMG_SIG_SECTOR_SIZE == 0) {
			const uint8_t *sector =
				data + len - ESPIMG_SIG_SECTOR_SIZE;

			for (; kept < ESPIMG_SIG_BLOCKS_MAX; kept++) {
				espimg_sigblock b;

				espimg_sigblock_decode(
					sector + kept * ESPIMG_SIG_BLOCK_SIZE,
					ESPIMG_SIG_BLOCK_SIZE, 0, &b);
				if (!b.valid)
					break;
				if (espimg_sigblock_digest_len(&b) == 48)
					need384 = true;
				else
					need256 = true;
			}
		}
		if (!kept) {
			espimg_diag_add(diags, ESPIMG_SEV_ERROR,
					"sign.no_sector", NULL, 0, 0, -1,
					"--append needs a signed input: it "
					"does not end in a signature sector "
					"with a valid block in slot 0");
			return ESPIMG_EFORMAT;
		}
		out->data_len = len - ESPIMG_SIG_SECTOR_SIZE;
	} else {
		out->data_len = len;
		out->pad_len = (ESPIMG_SIG_SECTOR_SIZE -
				len % ESPIMG_SIG_SECTOR_SIZE) %
			       ESPIMG_SIG_SECTOR_SIZE;
	}
	if (kept + nkeys > ESPIMG_SIG_BLOCKS_MAX) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "sign.too_many", NULL,
				0, 0, -1,
				"%u signature block%s kept and %zu key%s: a "
				"sector holds at most %u blocks",
				kept, kept == 1 ? "" : "s", nkeys,
				nkeys == 1 ? "" : "s", ESPIMG_SIG_BLOCKS_MAX);
		return ESPIMG_ETOOBIG;
	}

	if ((need256 && !pad_digest(EVP_sha256(), data, out->data_len,
				    out->pad_len, d256)) ||
	    (need384 && !pad_digest(EVP_sha384(), data, out->data_len,
				    out->pad_len, d384)))
		return ESPIMG_ENOMEM;

	for (i = 0; i < kept; i++) {
		const uint8_t *src = data + out->data_len +
				     i * ESPIMG_SIG_BLOCK_SIZE;
		espimg_sigblock b;
		size_t dl;

		espimg_sigblock_decode(src, ESPIMG_SIG_BLOCK_SIZE, 0, &b);
		dl = espimg_sigblock_digest_len(&b);
		if (memcmp(b.image_digest, dl == 48 ? d384 : d256, dl)) {
			espimg_diag_add(diags, ESPIMG_SEV_ERROR, "sign.digest",
					NULL, 0, 0,
					(int64_t)(out->data_len +
						  i * ESPIMG_SIG_BLOCK_SIZE),
					"signature block %zu signs other data "
					"than the %zu bytes before its sector",
					i, out->data_len);
			return ESPIMG_EFORMAT;
		}
		memcpy(out->sector + i * ESPIMG_SIG_BLOCK_SIZE, src,
		       ESPIMG_SIG_BLOCK_SIZE);
	}
	out->kept_blocks = kept;

	for (i = 0; i < nkeys; i++) {
		bool p384 = keys[i]->type == ESPIMG_SIG_ECDSA_P384;
		int rc = espimg_sbv2_sign_block(
			keys[i], p384 ? d384 : d256, p384 ? 48 : 32,
			out->sector + (kept + i) * ESPIMG_SIG_BLOCK_SIZE);

		if (rc < 0)
			return rc;
	}
	out->new_blocks = (unsigned)nkeys;
	return ESPIMG_OK;
}

/* ------------------------------------------------------------ sign v1 */

/*
 * RFC 6979 section 3.2 with HMAC-SHA-256 on P-256, where qlen = hlen = 256
 * bits, so bits2int is the plain big-endian value and bits2octets(h1) is
 * h1 mod q. `cand` skips that many candidates (python-ecdsa's retry_gen,
 * used when r or s came out 0). k is big-endian, 32 bytes.
 */
static bool rfc6979_k(const uint8_t x[32], const uint8_t h[32],
		      const BIGNUM *q, unsigned cand, uint8_t k_out[32])
{
	uint8_t K[32], V[32], msg[32 + 1 + 32 + 32];
	BIGNUM *k = BN_new();
	unsigned len;
	bool ok = false;

	if (!k)
		return false;
	memset(V, 0x01, sizeof(V));
	memset(K, 0x00, sizeof(K));
	for (int round = 0; round < 2; round++) {
		memcpy(msg, V, 32);
		msg[32] = (uint8_t)round;
		memcpy(msg + 33, x, 32);
		memcpy(msg + 65, h, 32);
		if (!HMAC(EVP_sha256(), K, 32, msg, sizeof(msg), K, &len) ||
		    !HMAC(EVP_sha256(), K, 32, V, 32, V, &len))
			goto out;
	}
	for (;;) {
		if (!HMAC(EVP_sha256(), K, 32, V, 32, V, &len) ||
		    !BN_bin2bn(V, 32, k))
			goto out;
		if (!BN_is_zero(k) && BN_cmp(k, q) < 0 && cand-- == 0)
			break;
		memcpy(msg, V, 32);
		msg[32] = 0x00;
		if (!HMAC(EVP_sha256(), K, 32, msg, 33, K, &len) ||
		    !HMAC(EVP_sha256(), K, 32, V, 32, V, &len))
			goto out;
	}
	memcpy(k_out, V, 32);
	ok = true;
out:
	OPENSSL_cleanse(K, sizeof(K));
	OPENSSL_cleanse(V, sizeof(V));
	OPENSSL_cleanse(msg, sizeof(msg));
	BN_clear_free(k);
	return ok;
}

int espimg_sbv1_sign(const espimg_key *priv, const uint8_t digest[32],
		     uint8_t sig[ESPIMG_SIG_V1_SIZE])
{
	EC_GROUP *group = NULL;
	EC_POINT *R = NULL;
	BN_CTX *ctx = NULL;
	BIGNUM *d = NULL, *k, *e, *r, *s, *kinv, *nm2, *x;
	const BIGNUM *n;
	uint8_t xb[32], hb[32], kb[32];
	unsigned char *der = NULL;
	int rc = ESPIMG_ENOMEM, len;

	if (!priv || !digest || !sig)
		return ESPIMG_EINVAL;
	if (!priv->priv || priv->type != ESPIMG_SIG_ECDSA_P256)
		return ESPIMG_EUNSUPPORTED;

	group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	ctx = BN_CTX_secure_new();
	if (!ctx)
		goto out;
	BN_CTX_start(ctx);
	k = BN_CTX_get(ctx);
	e = BN_CTX_get(ctx);
	r = BN_CTX_get(ctx);
	s = BN_CTX_get(ctx);
	kinv = BN_CTX_get(ctx);
	nm2 = BN_CTX_get(ctx);
	x = BN_CTX_get(ctx);
	R = group ? EC_POINT_new(group) : NULL;
	n = group ? EC_GROUP_get0_order(group) : NULL;
	if (!x || !R || !n ||
	    EVP_PKEY_get_bn_param(priv->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) !=
		    1)
		goto out;
	BN_set_flags(d, BN_FLG_CONSTTIME);
	BN_set_flags(k, BN_FLG_CONSTTIME);
	/* int2octets(x) and bits2octets(h1) = h1 mod q. */
	if (BN_bn2binpad(d, xb, 32) != 32 || !BN_bin2bn(digest, 32, e) ||
	    !BN_nnmod(e, e, n, ctx) || BN_bn2binpad(e, hb, 32) != 32 ||
	    !BN_bin2bn(digest, 32, e) || !BN_copy(nm2, n) ||
	    !BN_sub_word(nm2, 2))
		goto out;

	for (unsigned cand = 0;; cand++) {
		if (!rfc6979_k(xb, hb, n, cand, kb) || !BN_bin2bn(kb, 32, k))
			goto out;
		/* r = (kG).x mod n */
		if (!EC_POINT_mul(group, R, k, NULL, NULL, ctx) ||
		    !EC_POINT_get_affine_coordinates(group, R, x, NULL, ctx) ||
		    !BN_nnmod(r, x, n, ctx))
			goto out;
		/* s = k^-1 (e + r d) mod n, k^-1 = k^(n-2) (Fermat, constant
		 * time); no low-s normalisation, like python-ecdsa. */
		if (!BN_mod_exp_mont_consttime(kinv, k, nm2, n, ctx, NULL) ||
		    !BN_mod_mul(s, r, d, n, ctx) ||
		    !BN_mod_add(s, s, e, n, ctx) ||
		    !BN_mod_mul(s, s, kinv, n, ctx))
			goto out;
		if (!BN_is_zero(r) && !BN_is_zero(s))
			break;
	}

	espimg_put_le32(sig, 0);
	if (BN_bn2binpad(r, sig + 4, 32) != 32 ||
	    BN_bn2binpad(s, sig + 36, 32) != 32)
		goto out;

	/* Check it, as espsecure does before writing. */
	len = ecdsa_der(sig + 4, sig + 36, 32, false, &der);
	if (!len)
		goto out;
	rc = pkey_verify(priv->pkey, false, EVP_sha256(), der, (size_t)len,
			 digest, 32);
	rc = rc == 1 ? ESPIMG_OK : rc == 0 ? ESPIMG_EINVAL : rc;
out:
	OPENSSL_free(der);
	OPENSSL_cleanse(xb, sizeof(xb));
	OPENSSL_cleanse(kb, sizeof(kb));
	BN_clear_free(d);
	if (ctx) {
		BN_CTX_end(ctx);
		BN_CTX_free(ctx);
	}
	EC_POINT_free(R);
	EC_GROUP_free(group);
	ERR_clear_error();
	return rc;
}
