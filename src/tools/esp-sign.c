/*
 * esp-sign - sign an ESP32-family image for Secure Boot v2 (RSA-3072 or
 * ECDSA P-192/P-256/P-384, one to three signature blocks, appended to the
 * valid blocks already there with --append) or v1 (ESP32, ECDSA P-256),
 * and print the public-key digest that eFuse holds for a v2 key.
 *
 * Keys, signature blocks and signatures are the library's
 * (include/espimg/sigblock.h); this file reads the inputs, checks the
 * keys, reports, and writes the result atomically.  Nothing is written when
 * anything fails, and the input changes only when -o names it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "espimg/espimg.h"
#include "espimg/sigblock.h"
#include "tool.h"

/* Largest input: the largest flash chip (esptool FLASH_SIZES, 128MB). */
#define INPUT_LIMIT (128u << 20)
/* Largest key file: a PEM RSA-3072 private key is about 2.5 KB. */
#define KEY_LIMIT (64u << 10)

enum { OPT_KEY = 1, OPT_APPEND, OPT_V1, OPT_DIGEST };

static const struct tool_option options[] = {
	{ OPT_KEY, 0, "key", TOOL_ARG, "PRIV.pem",
	  "sign with this private key (repeatable, at most 3)",
	  NULL, NULL },
	{ OPT_APPEND, 0, "append", TOOL_NOARG, NULL,
	  "keep the valid blocks IN ends in, add the new ones",
	  NULL, NULL },
	{ OPT_V1, 0, "v1", TOOL_NOARG, NULL,
	  "Secure Boot v1 (ESP32): one ECDSA P-256 signature",
	  NULL, NULL },
	{ OPT_DIGEST, 0, "digest", TOOL_ARG, "KEY.pem",
	  "print the eFuse key digest of KEY (repeatable)", NULL,
	  NULL },
	TOOL_OPTION_OUTPUT("the signed image (or the digest) goes to OUT; "
			   "- = stdout"),
	TOOL_OPTION_FORMAT("text|json|yaml", "summary format (default text)"),
	TOOL_OPTION_QUIET("no summary, no warnings: errors and exit status "
			  "only"),
	TOOL_OPTIONS_END,
};

static const struct tool_spec spec = {
	"esp-sign",
	"[IN]",
	"Sign an ESP32-family image for Secure Boot v2 (RSA-3072, ECDSA P-192,\n"
	"P-256 or P-384, by key type) or v1, or print the public-key digest\n"
	"that eFuse holds.\n"
	"  esp-sign --key PRIV.pem [--key PRIV2.pem ...] [--append] -o OUT IN\n"
	"  esp-sign --v1 --key PRIV.pem -o OUT IN\n"
	"  esp-sign --digest KEY.pem [--digest KEY2.pem ...] [-o OUT]",
	options,
	"Exit status: 0 ok, 1 the input or a key cannot be used, 2 usage error\n"
	"or unreadable/unwritable file, 3 internal error.  See esp-sign(1).\n",
};

enum mode { MODE_V2, MODE_V1, MODE_DIGEST };

struct run {
	enum mode mode;
	const char **keys;      /* --key, in order */
	size_t nkeys;
	const char **digests;   /* --digest, in order */
	size_t ndigests;
	const char *in_path;
	bool append, v1;
	struct tool_common common; /* -o, --format, -q, -h, -V */
	espimg_diag_list *diags;
};

/* A key file and what we made of it. */
struct keyfile {
	const char *path;
	const char *name;       /* for messages */
	espimg_key *key;
	espimg_sig_type type;
	bool private_key;
	char desc[96];          /* "RSA-3072 private key", ... */
	uint8_t digest[32];     /* the Secure Boot v2 digest, if digest_ok */
	bool digest_ok;
};

/* A block of the written signature (v1: the one signature). */
struct block_info {
	unsigned index;
	uint64_t offset;
	espimg_sig_type type;
	const uint8_t *key_digest; /* NULL: none (v1) */
	bool added;
	const char *key_name;      /* the --key of an added block */
};

/* ------------------------------------------------------------ options */

static int on_option(void *ctx, const struct tool_option *opt,
		     const char *value)
{
	struct run *run = ctx;

	switch (opt->id) {
	case OPT_KEY:
		if (!*value)
			return tool_usage_error(&spec, "--key needs a file name");
		run->keys[run->nkeys++] = value;
		return 0;
	case OPT_APPEND:
		run->append = true;
		return 0;
	case OPT_V1:
		run->v1 = true;
		return 0;
	case OPT_DIGEST:
		if (!*value)
			return tool_usage_error(&spec, "--digest needs a file name");
		run->digests[run->ndigests++] = value;
		return 0;
	}
	return tool_common_option(&spec, &run->common, opt, value);
}

/* Whether two paths name the same existing file. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return true;
	if (stat(a, &sa) || stat(b, &sb))
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Usage rules that need every option and the positionals. */
static int check_usage(struct run *run, char **pos, int npos)
{
	size_t stdin_uses = 0;

	if (run->ndigests) {
		if (run->nkeys || run->append || run->v1)
			return tool_usage_error(&spec, "--digest prints key digests; "
						"it does not go with --key, "
						"--append or --v1");
		if (npos)
			return tool_usage_error(&spec, "--digest takes no IN "
						"('%s')", pos[0]);
		if (run->common.output && run->ndigests > 1)
			return tool_usage_error(&spec, "-o writes one 32-byte digest: "
						"give one --digest with it");
		run->mode = MODE_DIGEST;
	} else {
		if (!run->nkeys)
			return tool_usage_error(&spec, "no --key given (or --digest "
						"KEY to print a key's digest)");
		if (run->v1 && run->nkeys > 1)
			return tool_usage_error(&spec, "Secure Boot v1 signs with "
						"one key; %zu --key given",
						run->nkeys);
		if (run->v1 && run->append)
			return tool_usage_error(&spec, "--append is for Secure Boot "
						"v2 signature blocks, not --v1");
		if (run->nkeys > ESPIMG_SIG_BLOCKS_MAX)
			return tool_usage_error(&spec, "%zu --key given: a signature "
						"sector holds at most %u blocks",
						run->nkeys, ESPIMG_SIG_BLOCKS_MAX);
		if (npos < 1)
			return tool_usage_error(&spec, "no IN given (the image to "
						"sign)");
		if (npos > 1)
			return tool_usage_error(&spec, "one IN at a time ('%s' "
						"and '%s' given)", pos[0], pos[1]);
		if (!run->common.output)
			return tool_usage_error(&spec, "no -o OUT given (it may be "
						"IN itself, replaced atomically)");
		run->in_path = pos[0];
		run->mode = run->v1 ? MODE_V1 : MODE_V2;
	}
	if (tool_check_output(&spec, &run->common))
		return TOOL_EXIT_USAGE;
	if (run->in_path && !strcmp(run->in_path, "-"))
		stdin_uses++;
	for (size_t i = 0; i < run->nkeys + run->ndigests; i++) {
		const char *k = i < run->nkeys ? run->keys[i]
					       : run->digests[i - run->nkeys];

		if (!strcmp(k, "-"))
			stdin_uses++;
		else if (run->common.output && same_file(run->common.output, k))
			return tool_usage_error(&spec, "-o %s would overwrite the "
						"key %s", run->common.output,
						k);
	}
	if (stdin_uses > 1)
		return tool_usage_error(&spec, "standard input ('-') can be read "
					"once only");
	if (run->common.output && !strcmp(run->common.output, "-") &&
	    isatty(STDOUT_FILENO)) {
		tool_error(spec.name, "not writing binary data to a terminal: "
			   "name an OUT file");
		return TOOL_EXIT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------------ helpers */

/* Exit status for a library error code from signing or key loading: the
 * input or key is unusable (1), or something went wrong inside (3). */
static int exit_for(int r)
{
	switch (r) {
	case ESPIMG_EFORMAT:
	case ESPIMG_EUNSUPPORTED:
	case ESPIMG_ETOOBIG:
		return TOOL_EXIT_INVALID;
	case ESPIMG_EIO:
		return TOOL_EXIT_USAGE;
	default:
		return TOOL_EXIT_INTERNAL;
	}
}

/* Reads a file (IN or a key) whole, bounded.  Returns an exit status. */
static int read_bounded(struct run *run, const char *path, size_t limit,
			const char *what, uint8_t **buf, size_t *len)
{
	const char *name = tool_display_name(path);
	int r = espimg_read_file(path, limit, buf, len);

	switch (r) {
	case 0:
		return 0;
	case ESPIMG_ENOMEM:
		tool_error(spec.name, "%s: out of memory", name);
		return TOOL_EXIT_INTERNAL;
	case ESPIMG_ETOOBIG:
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "io.too_big", name, 0,
				0, -1, "larger than %zu bytes: %s", limit, what);
		return TOOL_EXIT_INVALID;
	default:
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "io.read", name, 0, 0,
				-1, "cannot read: %s",
				strerror(r == ESPIMG_ENOTFOUND ? ENOENT : errno));
		return TOOL_EXIT_USAGE;
	}
}

/* The warning for a private key file that others may read or change. */
static void check_permissions(struct run *run, const struct keyfile *kf)
{
	struct stat st;
	mode_t m;

	if (!strcmp(kf->path, "-") || stat(kf->path, &st) || !S_ISREG(st.st_mode))
		return;
	m = st.st_mode & 07777;
	if (!(m & (S_IRWXG | S_IRWXO)))
		return;
	/* The contract's form: "esp-sign: warning: KEY: ..." (no file field,
	 * so the key's name leads the message). */
	espimg_diag_add(run->diags, ESPIMG_SEV_WARNING, "key.permissions", NULL,
			0, 0, -1, "%s: private key is %s by others (mode %04o)",
			kf->name, m & (S_IRGRP | S_IROTH) ? "readable"
							   : "accessible",
			(unsigned)m);
}

/* Reads and loads a key file.  Returns an exit status (errors recorded). */
static int load_key(struct run *run, const char *path, struct keyfile *kf,
		    espimg_diag_list *tmp)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r, st;

	size_t before = espimg_diag_errors(run->diags);

	memset(kf, 0, sizeof(*kf));
	kf->path = path;
	kf->name = tool_display_name(path);
	st = read_bounded(run, path, KEY_LIMIT, "not a key file", &data, &len);
	if (st)
		return st;
	r = espimg_key_load(data, len, kf->name, &kf->key, tmp);
	/* The buffer may hold private key material. */
	OPENSSL_cleanse(data, len);
	free(data);
	tool_diags_move(run->diags, tmp, kf->name, 0);
	if (r) {
		if (espimg_diag_errors(run->diags) == before)
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "key.format",
					kf->name, 0, 0, -1, "cannot load the key: %s",
					espimg_strerror(r));
		return exit_for(r);
	}
	kf->type = espimg_key_type(kf->key);
	kf->private_key = espimg_key_is_private(kf->key);
	espimg_key_describe(kf->key, kf->desc, sizeof(kf->desc));
	kf->digest_ok = kf->type != ESPIMG_SIG_UNKNOWN &&
			!espimg_key_sbv2_digest(kf->key, kf->digest);
	if (kf->private_key)
		check_permissions(run, kf);
	return 0;
}

/* Checks that a loaded key can sign in this mode; records why not. */
static bool key_can_sign(struct run *run, const struct keyfile *kf)
{
	if (!kf->private_key) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "sign.key", kf->name,
				0, 0, -1, "%s: signing needs the private key "
				"(this file holds only the public half)", kf->desc);
		return false;
	}
	if (run->mode == MODE_V1 && kf->type != ESPIMG_SIG_ECDSA_P256) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "sign.key", kf->name,
				0, 0, -1, "%s: Secure Boot v1 signs with an ECDSA "
				"P-256 (prime256v1) key only", kf->desc);
		return false;
	}
	if (kf->type == ESPIMG_SIG_UNKNOWN) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "sign.key", kf->name,
				0, 0, -1, "%s: Secure Boot v2 signs with RSA-3072 "
				"or ECDSA P-192, P-256 or P-384 keys", kf->desc);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------ output */

static bool reporting(const struct run *run)
{
	const char *out = run->common.output;

	return !run->common.quiet && !(out && !strcmp(out, "-"));
}

static espimg_emitter *doc_begin(const struct run *run, const char *op)
{
	espimg_emitter *e = tool_doc_begin(run->common.format, "espimg.sign/1");

	if (e)
		espimg_emit_kv_str(e, "operation", op);
	return e;
}

static int flush_stdout(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		tool_error(spec.name, "standard output: write error");
		return TOOL_EXIT_USAGE;
	}
	return 0;
}

/* The summary of a signing run. */
static int report_sign(const struct run *run, const char *in_name,
		       size_t in_len, size_t data_len, size_t pad_len,
		       size_t out_len, const struct block_info *blk,
		       unsigned nblk)
{
	const char *scheme = run->mode == MODE_V1 ? "v1" : "v2";
	size_t signed_len = data_len + pad_len;
	unsigned kept = 0;
	char dig[65];

	for (unsigned i = 0; i < nblk; i++)
		kept += !blk[i].added;
	if (!reporting(run))
		return 0;
	if (run->common.format != ESPIMG_FORMAT_TEXT) {
		espimg_emitter *e = doc_begin(run, "sign");

		if (!e)
			return tool_nomem(spec.name);
		espimg_emit_kv_str(e, "scheme", scheme);
		espimg_emit_kv_str(e, "input", in_name);
		espimg_emit_kv_str(e, "output", run->common.output);
		espimg_emit_kv_uint(e, "input_size", in_len);
		espimg_emit_kv_uint(e, "data_size", data_len);
		espimg_emit_kv_uint(e, "padding", pad_len);
		espimg_emit_kv_uint(e, "signed_size", signed_len);
		espimg_emit_kv_uint(e, "output_size", out_len);
		espimg_emit_kv_uint(e, "blocks_kept", kept);
		espimg_emit_kv_uint(e, "blocks_added", nblk - kept);
		espimg_emit_key(e, "blocks");
		espimg_emit_begin_list(e);
		for (unsigned i = 0; i < nblk; i++) {
			espimg_emit_begin_map(e);
			espimg_emit_kv_uint(e, "index", blk[i].index);
			espimg_emit_kv_uint(e, "offset", blk[i].offset);
			espimg_emit_kv_hex(e, "offset_hex", blk[i].offset);
			espimg_emit_kv_str(e, "type", espimg_sig_type_name(blk[i].type));
			if (blk[i].key_digest)
				tool_hex(dig, blk[i].key_digest, 32);
			tool_kv_str_or_null(e, "key_digest",
					    blk[i].key_digest ? dig : NULL);
			espimg_emit_kv_str(e, "origin", blk[i].added ? "added" : "kept");
			tool_kv_str_or_null(e, "key", blk[i].key_name);
			espimg_emit_end_map(e);
		}
		espimg_emit_end_list(e);
		tool_emit_diags(e, run->diags, false);
		return tool_doc_end(spec.name, e);
	}
	printf("%s: Secure Boot %s, %zu bytes signed", in_name, scheme,
	       signed_len);
	if (pad_len)
		printf(" (%zu bytes of 0xff padding added)", pad_len);
	else if (data_len < in_len && run->mode == MODE_V2)
		printf(" (the data before its signature sector)");
	putchar('\n');
	for (unsigned i = 0; i < nblk; i++) {
		if (run->mode == MODE_V1) {
			printf("  signature at 0x%llx: %s, %u bytes, %s\n",
			       (unsigned long long)blk[i].offset,
			       espimg_sig_type_name(blk[i].type),
			       ESPIMG_SIG_V1_SIZE, blk[i].key_name);
			continue;
		}
		tool_hex(dig, blk[i].key_digest, 32);
		printf("  block %u: %s, key digest %s, ", blk[i].index,
		       espimg_sig_type_name(blk[i].type), dig);
		if (blk[i].added)
			printf("added (%s)\n", blk[i].key_name);
		else
			printf("kept\n");
	}
	printf("wrote %s: %zu bytes\n", run->common.output, out_len);
	return flush_stdout();
}

/* ------------------------------------------------------------ commands */

/* Loads every key of the run; records all problems.  Returns the worst
 * exit status (2 over 1). */
static int load_keys(struct run *run, const char *const *paths, size_t n,
		     struct keyfile *kf, espimg_diag_list *tmp)
{
	int worst = 0;

	for (size_t i = 0; i < n; i++) {
		int st = load_key(run, paths[i], &kf[i], tmp);

		if (!st && run->mode != MODE_DIGEST && !key_can_sign(run, &kf[i]))
			st = TOOL_EXIT_INVALID;
		if (!st && run->mode == MODE_DIGEST && !kf[i].digest_ok) {
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "key.type",
					kf[i].name, 0, 0, -1, "%s: Secure Boot v2 "
					"keys are RSA-3072 or ECDSA P-192, P-256 or "
					"P-384; this one has no eFuse digest",
					kf[i].desc);
			st = TOOL_EXIT_INVALID;
		}
		if (st == TOOL_EXIT_INTERNAL)
			return st;
		if (st > worst)
			worst = st;
	}
	return worst;
}

static int cmd_digest(struct run *run, espimg_diag_list *tmp)
{
	struct keyfile *kf = calloc(run->ndigests, sizeof(*kf));
	int st;
	char dig[65];

	if (!kf)
		return tool_nomem(spec.name);
	st = load_keys(run, run->digests, run->ndigests, kf, tmp);
	if (!st && run->common.output)
		st = tool_write_output(spec.name, run->common.output,
				       kf[0].digest, sizeof(kf[0].digest));
	if (!st && reporting(run)) {
		if (run->common.format != ESPIMG_FORMAT_TEXT) {
			espimg_emitter *e = doc_begin(run, "digest");

			if (!e) {
				st = TOOL_EXIT_INTERNAL;
				goto out;
			}
			tool_kv_str_or_null(e, "output", run->common.output);
			espimg_emit_key(e, "keys");
			espimg_emit_begin_list(e);
			for (size_t i = 0; i < run->ndigests; i++) {
				tool_hex(dig, kf[i].digest, 32);
				espimg_emit_begin_map(e);
				espimg_emit_kv_str(e, "file", kf[i].name);
				espimg_emit_kv_str(e, "type",
						   espimg_sig_type_name(kf[i].type));
				espimg_emit_kv_bool(e, "private", kf[i].private_key);
				espimg_emit_kv_str(e, "digest", dig);
				espimg_emit_end_map(e);
			}
			espimg_emit_end_list(e);
			tool_emit_diags(e, run->diags, false);
			st = tool_doc_end(spec.name, e);
		} else {
			for (size_t i = 0; i < run->ndigests; i++) {
				tool_hex(dig, kf[i].digest, 32);
				printf("%s  %s\n", dig, kf[i].name);
			}
			if (run->common.output)
				printf("wrote %s: 32 bytes\n",
				       run->common.output);
			st = flush_stdout();
		}
	}
out:
	for (size_t i = 0; i < run->ndigests; i++)
		espimg_key_free(kf[i].key);
	free(kf);
	return st;
}

/* Warns when IN already ends in a signature sector that signing afresh
 * would bury inside the signed data. */
static void check_signed_input(struct run *run, const char *name,
			       const uint8_t *data, size_t len)
{
	espimg_sigblock blk[ESPIMG_SIG_BLOCKS_MAX];
	int n, valid = 0;

	if (len < ESPIMG_SIG_SECTOR_SIZE || len % ESPIMG_SIG_SECTOR_SIZE)
		return;
	n = espimg_sigsector_decode(data + len - ESPIMG_SIG_SECTOR_SIZE,
				    ESPIMG_SIG_SECTOR_SIZE,
				    len - ESPIMG_SIG_SECTOR_SIZE, blk);
	for (int i = 0; i < n; i++)
		valid += blk[i].valid;
	if (valid)
		espimg_diag_add(run->diags, ESPIMG_SEV_WARNING, "sign.signed_input",
				name, 0, 0, (int64_t)(len - ESPIMG_SIG_SECTOR_SIZE),
				"already ends in a signature sector with %d valid "
				"block%s; it is signed as data and its blocks no "
				"longer count (--append keeps them)", valid,
				valid == 1 ? "" : "s");
}

/* Warns when IN is not a valid image: espsecure signs any bytes, and so do
 * we, but a bootloader would refuse the result before looking at its
 * signature. */
static void check_image_input(struct run *run, const char *name,
			      const uint8_t *data, size_t len)
{
	espimg_image_opts opts = { .file = name };
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_image *img = NULL;
	espimg_source src;
	int r;

	if (!d)
		return;
	espimg_source_mem(&src, data, len);
	r = espimg_image_read(&src, &opts, &img, d);
	if (r != ESPIMG_ENOMEM && (r || espimg_diag_errors(d))) {
		const espimg_diag *first = NULL;

		for (size_t i = 0; i < espimg_diag_count(d) && !first; i++)
			if (espimg_diag_get(d, i)->severity == ESPIMG_SEV_ERROR)
				first = espimg_diag_get(d, i);
		espimg_diag_add(run->diags, ESPIMG_SEV_WARNING, "sign.not_image",
				name, 0, 0, first ? first->offset : -1,
				"not a valid image (%s [%s]); signed all the same, "
				"as espsecure does, but no bootloader would load it",
				first ? first->message : espimg_strerror(r),
				first ? first->code : "image");
	}
	espimg_image_free(img);
	espimg_diag_list_free(d);
}

static int cmd_sign(struct run *run, espimg_diag_list *tmp)
{
	struct keyfile kf[ESPIMG_SIG_BLOCKS_MAX];
	const espimg_key *keys[ESPIMG_SIG_BLOCKS_MAX];
	struct block_info blk[ESPIMG_SIG_BLOCKS_MAX];
	espimg_sigblock dec[ESPIMG_SIG_BLOCKS_MAX];
	espimg_sign_result *res = NULL;
	const char *in_name = tool_display_name(run->in_path);
	uint8_t *data = NULL, *out = NULL;
	size_t len = 0, out_len = 0, data_len, pad_len;
	unsigned nblk = 0;
	int st, r;

	memset(kf, 0, sizeof(kf));
	st = read_bounded(run, run->in_path, INPUT_LIMIT,
			  "no flash chip holds it", &data, &len);
	if (st)
		goto done;
	st = load_keys(run, run->keys, run->nkeys, kf, tmp);
	if (st)
		goto done;
	if (!len) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "sign.empty", in_name,
				0, 0, -1, "empty: nothing to sign");
		st = TOOL_EXIT_INVALID;
		goto done;
	}
	for (size_t i = 0; i < run->nkeys; i++)
		keys[i] = kf[i].key;
	check_image_input(run, in_name, data, len);

	if (run->mode == MODE_V1) {
		uint8_t digest[32];

		/* espsecure sign-data --version 1: the SHA-256 of the whole
		 * input, the signature appended after it. */
		if (!EVP_Digest(data, len, digest, NULL, EVP_sha256(), NULL)) {
			tool_error(spec.name, "internal error: SHA-256 failed");
			st = TOOL_EXIT_INTERNAL;
			goto done;
		}
		out_len = len + ESPIMG_SIG_V1_SIZE;
		out = malloc(out_len);
		if (!out) {
			st = tool_nomem(spec.name);
			goto done;
		}
		memcpy(out, data, len);
		r = espimg_sbv1_sign(keys[0], digest, out + len);
		if (r) {
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "sign.key",
					kf[0].name, 0, 0, -1, "cannot sign: %s",
					espimg_strerror(r));
			st = exit_for(r);
			goto done;
		}
		data_len = len;
		pad_len = 0;
		blk[nblk++] = (struct block_info){ 0, len, ESPIMG_SIG_ECDSA_P256,
						   NULL, true, kf[0].name };
	} else {
		if (!run->append)
			check_signed_input(run, in_name, data, len);
		res = malloc(sizeof(*res));
		if (!res) {
			st = tool_nomem(spec.name);
			goto done;
		}
		r = espimg_sbv2_sign(data, len, keys, run->nkeys, run->append, res,
				     tmp);
		tool_diags_move(run->diags, tmp, in_name, 0);
		if (r) {
			/* The library names its reasons; say something if not. */
			if (!espimg_diag_errors(run->diags))
				espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
						"sign.failed", in_name, 0, 0, -1,
						"cannot sign: %s", espimg_strerror(r));
			st = exit_for(r);
			goto done;
		}
		data_len = res->data_len;
		pad_len = res->pad_len;
		out_len = data_len + pad_len + ESPIMG_SIG_SECTOR_SIZE;
		out = malloc(out_len);
		if (!out) {
			st = tool_nomem(spec.name);
			goto done;
		}
		memcpy(out, data, data_len);
		memset(out + data_len, 0xFF, pad_len);
		memcpy(out + data_len + pad_len, res->sector, ESPIMG_SIG_SECTOR_SIZE);
		r = espimg_sigsector_decode(res->sector, ESPIMG_SIG_SECTOR_SIZE,
					    data_len + pad_len, dec);
		if (r != (int)(res->kept_blocks + res->new_blocks)) {
			tool_error(spec.name, "internal error: the new signature "
				   "sector holds %d blocks, not %u", r,
				   res->kept_blocks + res->new_blocks);
			st = TOOL_EXIT_INTERNAL;
			goto done;
		}
		for (unsigned i = 0; i < (unsigned)r; i++) {
			bool added = i >= res->kept_blocks;

			blk[nblk++] = (struct block_info){
				i, dec[i].offset, dec[i].type,
				dec[i].key_digest_ok ? dec[i].key_digest : NULL,
				added, added ? kf[i - res->kept_blocks].name : NULL,
			};
		}
	}
	st = tool_write_output(spec.name, run->common.output, out, out_len);
	if (st)
		goto done;
	st = report_sign(run, in_name, len, data_len, pad_len, out_len, blk,
			 nblk);
done:
	for (size_t i = 0; i < run->nkeys; i++)
		espimg_key_free(kf[i].key);
	free(res);
	free(out);
	free(data);
	return st;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct run run = { 0 };
	espimg_diag_list *tmp = espimg_diag_list_new();
	char **pos = calloc((size_t)argc + 1, sizeof(*pos));
	int npos = 0, status;

	run.diags = espimg_diag_list_new();
	run.keys = calloc((size_t)argc + 1, sizeof(*run.keys));
	run.digests = calloc((size_t)argc + 1, sizeof(*run.digests));
	if (!pos || !run.diags || !tmp || !run.keys || !run.digests)
		return tool_nomem(spec.name);

	status = tool_parse_args(&spec, argc, argv, on_option, &run, pos, &npos);
	if (status || tool_help_or_version(&spec, &run.common))
		goto done;
	status = check_usage(&run, pos, npos);
	if (status)
		goto done;

	if (run.mode == MODE_DIGEST)
		status = cmd_digest(&run, tmp);
	else
		status = cmd_sign(&run, tmp);
	if (tool_print_diags(spec.name, run.diags, run.common.quiet) && !status)
		status = TOOL_EXIT_INVALID;

done:
	espimg_diag_list_free(run.diags);
	espimg_diag_list_free(tmp);
	free(run.keys);
	free(run.digests);
	free(pos);
	return status;
}
