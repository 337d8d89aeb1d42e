/*
 * sigkey.c - Secure Boot signing and verification keys: loading (PEM in
 * every form OpenSSL's decoders know, or the raw 64-byte Secure Boot v1
 * public key), classification and the Secure Boot v2 public-key digest.
 *
 * The key material and its digest follow espsecure (esptool 5.3.1,
 * espsecure/__init__.py: _get_sbv2_rsa_primitives, _microecc_format,
 * _digest_sbv2_public_key) and the block layout in images.md 13.2/13.3.
 * The raw v1 key is ESP-IDF's signature_verification_key.bin (espsecure
 * verify_signature_v1: X || Y, 32 bytes each, big-endian, P-256).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "espimg/sigblock.h"
#include "internal.h"
#include "sigkey_int.h"

/* ECDSA curve ids (espsecure CURVE_ID_P192/P256/P384). */
#define CURVE_P192 1
#define CURVE_P256 2
#define CURVE_P384 3

/* Where a block keeps its key material (espsecure signature_info_v2). */
#define RSA_KEY_OFFSET 36u
#define RSA_KEY_LEN 776u
#define ECDSA256_KEY_OFFSET 36u
#define ECDSA384_KEY_OFFSET 52u

/* The raw Secure Boot v1 public key: X || Y, big-endian. */
#define V1_RAW_KEY_LEN 64u

static const struct curve_info {
	espimg_sig_type type;
	int nid;
	const char *group;  /* OpenSSL group name */
	uint8_t id;         /* block curve id */
	size_t coord;       /* bytes per coordinate */
	size_t field;       /* bytes of the block's X || Y field */
} curves[] = {
	{ ESPIMG_SIG_ECDSA_P192, NID_X9_62_prime192v1, "prime192v1",
	  CURVE_P192, 24, 64 },
	{ ESPIMG_SIG_ECDSA_P256, NID_X9_62_prime256v1, "prime256v1",
	  CURVE_P256, 32, 64 },
	{ ESPIMG_SIG_ECDSA_P384, NID_secp384r1, "secp384r1", CURVE_P384, 48,
	  96 },
};

static const struct curve_info *curve_by_type(espimg_sig_type type)
{
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(curves); i++)
		if (curves[i].type == type)
			return &curves[i];
	return NULL;
}

static const struct curve_info *curve_by_nid(int nid)
{
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(curves); i++)
		if (curves[i].nid == nid)
			return &curves[i];
	return NULL;
}

/* ------------------------------------------------------------ material */

/* -n^-1 mod 2^32 for odd n0 (Newton's iteration doubles the correct low
 * bits each step: 3, 6, 12, 24, 48). */
static uint32_t mont_minv(uint32_t n0)
{
	uint32_t x = n0;

	for (int i = 0; i < 4; i++)
		x *= 2u - n0 * x;
	return 0u - x;
}

/* RSA: n (LE, 384 bytes) || e (u32) || R^2 mod n with R = 2^3072 (LE) ||
 * m' = -n^-1 mod 2^32 (u32), as the RSA peripheral wants them. */
static bool rsa_material(const BIGNUM *n, const BIGNUM *e, uint8_t *out)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *rr = BN_new();
	uint32_t n0;
	bool ok = false;

	if (!ctx || !rr)
		goto out;
	if (BN_num_bits(n) != 3072 || !BN_is_odd(n) || BN_num_bits(e) > 32)
		goto out;
	if (BN_bn2lebinpad(n, out, SIGKEY_RSA_BYTES) != SIGKEY_RSA_BYTES)
		goto out;
	espimg_put_le32(out + 384, (uint32_t)BN_get_word(e));
	/* R^2 = 2^6144 */
	if (!BN_set_bit(rr, 2 * 3072) || !BN_nnmod(rr, rr, n, ctx))
		goto out;
	if (BN_bn2lebinpad(rr, out + 388, SIGKEY_RSA_BYTES) !=
	    SIGKEY_RSA_BYTES)
		goto out;
	n0 = espimg_le32(out);
	espimg_put_le32(out + 772, mont_minv(n0));
	ok = true;
out:
	BN_free(rr);
	BN_CTX_free(ctx);
	return ok;
}

/* ECDSA: curve id || X || Y, each little-endian, in a field of 64 bytes
 * (P-192 leaves 16 zero bytes) or 96 (P-384). */
static bool ec_material(const struct curve_info *c, const BIGNUM *x,
			const BIGNUM *y, uint8_t *out)
{
	memset(out, 0, 1 + c->field);
	out[0] = c->id;
	return BN_bn2lebinpad(x, out + 1, (int)c->coord) == (int)c->coord &&
	       BN_bn2lebinpad(y, out + 1 + c->coord, (int)c->coord) ==
		       (int)c->coord;
}

static bool sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned len = 0;

	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 &&
	       len == 32;
}

static bool has_bn(const EVP_PKEY *pkey, const char *param)
{
	BIGNUM *bn = NULL;
	bool ok = EVP_PKEY_get_bn_param(pkey, param, &bn) == 1;

	BN_clear_free(bn);
	return ok;
}

/* Fills everything but pkey and name from the EVP_PKEY (RSA or EC). */
static int classify(espimg_key *k)
{
	BIGNUM *a = NULL, *b = NULL;
	int rc = ESPIMG_OK;

	k->type = ESPIMG_SIG_UNKNOWN;
	if (EVP_PKEY_is_a(k->pkey, "RSA")) {
		int bits = EVP_PKEY_get_bits(k->pkey);

		k->priv = has_bn(k->pkey, OSSL_PKEY_PARAM_RSA_D);
		snprintf(k->desc, sizeof(k->desc), "RSA-%d %s key", bits,
			 k->priv ? "private" : "public");
		if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &a) !=
			    1 ||
		    EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &b) !=
			    1) {
			rc = ESPIMG_EFORMAT;
			goto out;
		}
		if (rsa_material(a, b, k->material)) {
			k->type = ESPIMG_SIG_RSA3072;
			k->material_len = RSA_KEY_LEN;
			k->material_off = RSA_KEY_OFFSET;
		}
	} else {
		char group[80] = "";
		const struct curve_info *c = NULL;
		size_t glen = 0;

		k->priv = has_bn(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY);
		if (EVP_PKEY_get_utf8_string_param(k->pkey,
						   OSSL_PKEY_PARAM_GROUP_NAME,
						   group, sizeof(group),
						   &glen) == 1) {
			int nid = OBJ_sn2nid(group);

			if (nid == NID_undef)
				nid = EC_curve_nist2nid(group);
			c = curve_by_nid(nid);
		} else {
			snprintf(group, sizeof(group), "(explicit parameters)");
		}
		if (c)
			snprintf(k->desc, sizeof(k->desc), "%s %s key",
				 espimg_sig_type_name(c->type),
				 k->priv ? "private" : "public");
		else
			snprintf(k->desc, sizeof(k->desc), "EC %s %s key",
				 group, k->priv ? "private" : "public");
		if (!c)
			goto out;
		if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X,
					  &a) != 1 ||
		    EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
					  &b) != 1) {
			rc = ESPIMG_EFORMAT;
			goto out;
		}
		if (ec_material(c, a, b, k->material)) {
			k->type = c->type;
			k->material_len = 1 + c->field;
			k->material_off = c->type == ESPIMG_SIG_ECDSA_P384
						  ? ECDSA384_KEY_OFFSET
						  : ECDSA256_KEY_OFFSET;
		}
	}
	if (k->type != ESPIMG_SIG_UNKNOWN &&
	    !sha256(k->material, k->material_len, k->digest))
		rc = ESPIMG_ENOMEM;
out:
	BN_free(a);
	BN_free(b);
	ERR_clear_error();
	return rc;
}

/* Takes ownership of pkey (freed on failure). */
static int wrap(EVP_PKEY *pkey, const char *name, espimg_key **out)
{
	espimg_key *k = calloc(1, sizeof(*k));
	int rc;

	if (!k) {
		EVP_PKEY_free(pkey);
		return ESPIMG_ENOMEM;
	}
	k->pkey = pkey;
	if (name)
		snprintf(k->name, sizeof(k->name), "%s", name);
	rc = classify(k);
	if (rc < 0) {
		espimg_key_free(k);
		return rc;
	}
	*out = k;
	return ESPIMG_OK;
}

/* ------------------------------------------------------------ building */

static EVP_PKEY *from_params(const char *alg, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *pkey = NULL;

	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	ERR_clear_error();
	return pkey;
}

/* An EC public key from big-endian X and Y; NULL when the point is not on
 * the curve. */
static EVP_PKEY *ec_public(const struct curve_info *c, const uint8_t *x,
			   const uint8_t *y)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	uint8_t pt[1 + 2 * 48];
	EVP_PKEY *pkey = NULL;

	if (!bld)
		return NULL;
	pt[0] = 0x04; /* uncompressed point (SEC 1, 2.3.3) */
	memcpy(pt + 1, x, c->coord);
	memcpy(pt + 1 + c->coord, y, c->coord);
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					    c->group, 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
					     1 + 2 * c->coord) == 1)
		pkey = from_params("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static void reverse(uint8_t *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

espimg_key *espimg_key_from_block(const espimg_sigblock *blk)
{
	const uint8_t *raw = blk->raw;
	EVP_PKEY *pkey = NULL;
	espimg_key *k = NULL;

	if (blk->type == ESPIMG_SIG_RSA3072) {
		OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
		BIGNUM *n = BN_lebin2bn(raw + RSA_KEY_OFFSET, SIGKEY_RSA_BYTES,
					NULL);
		BIGNUM *e = BN_new();

		if (bld && n && e &&
		    BN_set_word(e, espimg_le32(raw + RSA_KEY_OFFSET + 384)) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			pkey = from_params("RSA", bld);
		OSSL_PARAM_BLD_free(bld);
		BN_free(n);
		BN_free(e);
	} else {
		const struct curve_info *c = curve_by_type(blk->type);
		uint8_t x[48], y[48];
		const uint8_t *f;

		if (!c)
			return NULL;
		f = raw + (c->type == ESPIMG_SIG_ECDSA_P384
				   ? ECDSA384_KEY_OFFSET
				   : ECDSA256_KEY_OFFSET) + 1;
		reverse(x, f, c->coord);
		reverse(y, f + c->coord, c->coord);
		pkey = ec_public(c, x, y);
	}
	if (!pkey || wrap(pkey, "the block's own key", &k) < 0)
		return NULL;
	if (k->type != blk->type) {
		espimg_key_free(k);
		return NULL;
	}
	return k;
}

/* ------------------------------------------------------------ loading */

static const char pem_begin[] = "-----BEGIN ";

static const uint8_t *find(const uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (p[i] == (uint8_t)s[0] && !memcmp(p + i, s, n))
			return p + i;
	return NULL;
}

/* Refuses to ask for a passphrase, and remembers it was asked. */
static int no_passphrase(char *pass, size_t size, size_t *len,
			 const OSSL_PARAM params[], void *arg)
{
	*(bool *)arg = true;
	return 0;
}

static int load_error(espimg_diag_list *diags, const char *name, int rc,
		      const char *code, const char *msg)
{
	espimg_diag_add(diags, ESPIMG_SEV_ERROR, code, name, 0, 0, -1, "%s",
			msg);
	return rc;
}

/* Decodes the first PEM object that is not "EC PARAMETERS" (OpenSSL's
 * "ecparam -genkey" writes one before the key). */
static int load_pem(const uint8_t *data, size_t len, const char *name,
		    EVP_PKEY **pkey, espimg_diag_list *diags)
{
	const uint8_t *p = data, *end = data + len;
	OSSL_DECODER_CTX *dctx;
	bool asked = false;
	size_t left;
	int ok;

	for (;;) {
		const uint8_t *label;

		p = find(p, (size_t)(end - p), pem_begin);
		if (!p)
			return load_error(diags, name, ESPIMG_EFORMAT,
					  "key.format",
					  "no PEM key (only EC parameters)");
		label = p + strlen(pem_begin);
		if ((size_t)(end - label) >= 13 &&
		    !memcmp(label, "EC PARAMETERS", 13)) {
			p = label;
			continue;
		}
		if ((size_t)(end - label) >= 9 &&
		    !memcmp(label, "ENCRYPTED", 9))
			return load_error(diags, name, ESPIMG_EUNSUPPORTED,
					  "key.encrypted",
					  "the key is protected by a "
					  "passphrase; decrypt it first "
					  "(openssl pkey -in KEY -out PLAIN)");
		break;
	}

	dctx = OSSL_DECODER_CTX_new_for_pkey(pkey, "PEM", NULL, NULL, 0, NULL,
					     NULL);
	if (!dctx)
		return ESPIMG_ENOMEM;
	OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, &asked);
	left = (size_t)(end - p);
	ok = OSSL_DECODER_from_data(dctx, &p, &left);
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	if (ok == 1 && *pkey)
		return ESPIMG_OK;
	EVP_PKEY_free(*pkey);
	*pkey = NULL;
	if (asked)
		return load_error(diags, name, ESPIMG_EUNSUPPORTED,
				  "key.encrypted",
				  "the key is protected by a passphrase; "
				  "decrypt it first (openssl pkey -in KEY "
				  "-out PLAIN)");
	return load_error(diags, name, ESPIMG_EFORMAT, "key.format",
			  "not a PEM key OpenSSL can decode");
}

int espimg_key_load(const uint8_t *data, size_t len, const char *name,
		    espimg_key **out, espimg_diag_list *diags)
{
	EVP_PKEY *pkey = NULL;
	espimg_key *k = NULL;
	int rc;

	if (!out)
		return ESPIMG_EINVAL;
	*out = NULL;
	if (!data && len)
		return ESPIMG_EINVAL;

	if (data && find(data, len, pem_begin)) {
		rc = load_pem(data, len, name, &pkey, diags);
		if (rc < 0)
			return rc;
	} else if (len == V1_RAW_KEY_LEN) {
		pkey = ec_public(curve_by_type(ESPIMG_SIG_ECDSA_P256), data,
				 data + 32);
		if (!pkey)
			return load_error(diags, name, ESPIMG_EFORMAT,
					  "key.format",
					  "64 raw bytes that are not a P-256 "
					  "public point X||Y");
	} else {
		return load_error(diags, name, ESPIMG_EFORMAT, "key.format",
				  "neither a PEM key nor a 64-byte raw P-256 "
				  "public key");
	}

	if (!EVP_PKEY_is_a(pkey, "RSA") && !EVP_PKEY_is_a(pkey, "EC")) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "key.algorithm", name,
				0, 0, -1,
				"%s keys cannot be used for Secure Boot "
				"(RSA-3072 or ECDSA only)",
				EVP_PKEY_get0_type_name(pkey)
					? EVP_PKEY_get0_type_name(pkey)
					: "these");
		EVP_PKEY_free(pkey);
		return ESPIMG_EUNSUPPORTED;
	}
	rc = wrap(pkey, name, &k);
	if (rc == ESPIMG_EFORMAT)
		return load_error(diags, name, rc, "key.format",
				  "the key's parameters cannot be read");
	if (rc < 0)
		return rc;
	*out = k;
	return ESPIMG_OK;
}

void espimg_key_free(espimg_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	OPENSSL_cleanse(key, sizeof(*key));
	free(key);
}

espimg_sig_type espimg_key_type(const espimg_key *key)
{
	return key ? key->type : ESPIMG_SIG_UNKNOWN;
}

bool espimg_key_is_private(const espimg_key *key)
{
	return key && key->priv;
}

void espimg_key_describe(const espimg_key *key, char *out, size_t n)
{
	if (!out || !n)
		return;
	snprintf(out, n, "%s", key ? key->desc : "no key");
}

int espimg_key_sbv2_digest(const espimg_key *key, uint8_t out[32])
{
	if (!key || !out)
		return ESPIMG_EINVAL;
	if (key->type == ESPIMG_SIG_UNKNOWN)
		return ESPIMG_EUNSUPPORTED;
	memcpy(out, key->digest, 32);
	return ESPIMG_OK;
}
