/*
 * mkimage.c - command-line front end of the test image synthesiser
 * (synth.h). Builds one ESP32-family image from options, in the order the
 * segments are given. Run with --help for the options.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "espimg/espimg.h"
#include "espimg/sigblock.h"
#include "synth.h"

static const char usage_text[] =
"usage: mkimage [options] -o OUT\n"
"Writes a synthetic ESP32-family app/bootloader image (test fixture).\n"
"Segments are written in the order given. ADDR is a number or one of\n"
"drom, dram, iram, irom (an address of that type for the chip).\n"
"\n"
"  --chip KEY|ID          chip: esp32 esp32s2 esp32c3 esp32s3 esp32c2 esp32c6\n"
"                         esp32h2 esp32p4 esp32c61 esp32c5 esp32h21 esp32h4\n"
"                         esp32e22 esp32s31, or a numeric id (default esp32c3)\n"
"  --app PROJECT,VERSION[,IDF_VER[,SECURE_VERSION]]\n"
"                         a DROM segment holding an esp_app_desc_t (256 bytes)\n"
"  --app-len N            make that segment N bytes (>= 256; rest random)\n"
"  --boot VERSION[,IDF_VER[,DATE_TIME]]\n"
"                         a DRAM segment holding an esp_bootloader_desc_t (80 bytes)\n"
"  --seg ADDR,LEN[,FILL[,SEED]]\n"
"                         a segment of LEN bytes; FILL zero|ff|count|random\n"
"                         (default random); LEN takes K and M suffixes\n"
"  --seg-file ADDR,FILE   a segment holding FILE's bytes\n"
"  --seg-len I,N          segment I declares length N in its header\n"
"  --magic N              byte 0 (default 0xe9)\n"
"  --count N              segment count byte (default: segments given)\n"
"  --mode N               flash mode byte: 0-255 or qio qout dio dout (default dio)\n"
"  --size-freq N          byte 3: size code << 4 | freq nibble (default 0x20)\n"
"  --entry ADDR           entry point (default: the chip's IRAM address)\n"
"  --wp-pin N             byte 8 (default 0xee)\n"
"  --drive N              bytes 9..11 as one number, byte 9 lowest (default 0)\n"
"  --chip-id N            header chip id (default: the chip's)\n"
"  --min-rev N            legacy byte 14\n"
"  --min-rev-full N       bytes 15-16 (major*100+minor)\n"
"  --max-rev-full N       bytes 17-18 (default 99)\n"
"  --reserved N           bytes 19-22 as a little-endian u32\n"
"  --hash-appended N      byte 23 (default 1: a SHA-256 follows the checksum)\n"
"  --no-digest            leave the SHA-256 out even when byte 23 is 1\n"
"  --bad-checksum         store a wrong checksum\n"
"  --bad-digest           store a wrong SHA-256\n"
"  --sign-v2 LIST         pad to 4096 and add a Secure Boot v2 sector; LIST is\n"
"                         up to 3 of rsa, p192, p256, p384, badcrc, badmagic\n"
"                         separated by commas (signature bytes are arbitrary;\n"
"                         CRC and image digest are right unless asked)\n"
"  --sign KEY             sign for Secure Boot v2 with the private key in KEY\n"
"                         (PEM; repeatable, up to 3 keys), as espsecure\n"
"                         sign-data --version 2 does; after --sign-v2 the\n"
"                         new blocks are appended to the synthetic ones\n"
"  --sign-v1 [KEY]        append a Secure Boot v1 trailer (68 bytes): signed\n"
"                         with the P-256 private key in KEY, or arbitrary\n"
"                         signature bytes without KEY (a following word\n"
"                         not starting with '-' is KEY)\n"
"  --trail N[,BYTE]       append N bytes of BYTE (default 0xff)\n"
"  --offset N             put N bytes of 0xff before the image\n"
"  -o OUT                 output file ('-' = stdout)\n"
"  -h, --help             this text\n"
"\n"
"Example: mkimage --chip esp32c3 --app blink,1.0 --seg iram,4K --seg irom,64K -o a.bin\n";

static const synth_chip *chip;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mkimage: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static unsigned long long num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (end == s || errno)
		die("bad number '%s'", s);
	if (*end == 'K' || *end == 'k') {
		v *= 1024;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		v *= 1024 * 1024;
		end++;
	}
	if (*end)
		die("bad number '%s'", s);
	return v;
}

static uint32_t addr(const char *s)
{
	if (!strcmp(s, "drom"))
		return chip->drom;
	if (!strcmp(s, "dram"))
		return chip->dram;
	if (!strcmp(s, "iram"))
		return chip->iram;
	if (!strcmp(s, "irom"))
		return chip->irom;
	return (uint32_t)num(s);
}

/* Splits s at commas into at most max fields (s is modified). */
static size_t split(char *s, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		f[n++] = s;
		s = strchr(s, ',');
		if (!s)
			break;
		*s++ = '\0';
	}
	return n;
}

static synth_fill fill_of(const char *s)
{
	if (!strcmp(s, "zero"))
		return SYNTH_FILL_ZERO;
	if (!strcmp(s, "ff"))
		return SYNTH_FILL_FF;
	if (!strcmp(s, "count"))
		return SYNTH_FILL_COUNT;
	if (!strcmp(s, "random"))
		return SYNTH_FILL_RANDOM;
	die("unknown fill '%s'", s);
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		die("cannot open '%s'", path);
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			p = realloc(p, cap);
			if (!p)
				die("out of memory reading '%s'", path);
		}
		got = fread(p + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	*len = n;
	return p;
}

/* Loads a private key for --sign / --sign-v1. */
static espimg_key *load_key(const char *path)
{
	espimg_diag_list *diags = espimg_diag_list_new();
	espimg_key *key = NULL;
	size_t len;
	uint8_t *data = read_all(path, &len);

	if (!diags)
		die("%s", "out of memory");
	if (espimg_key_load(data, len, path, &key, diags)) {
		const espimg_diag *d = espimg_diag_count(diags)
					       ? espimg_diag_get(diags, 0)
					       : NULL;
		die("%s: %s", path, d ? d->message : "cannot load the key");
	}
	free(data);
	espimg_diag_list_free(diags);
	return key;
}

/* --sign: replaces img with the Secure Boot v2 signed file (the library's
 * signer; append keeps the valid blocks of a --sign-v2 sector). */
static void sign_v2(uint8_t **img, size_t *len, const char *const *paths,
		    size_t n, bool append)
{
	espimg_key *keys[3];
	espimg_sign_result res;
	espimg_diag_list *diags = espimg_diag_list_new();
	uint8_t *out;
	size_t out_len;

	if (!diags)
		die("%s", "out of memory");
	for (size_t i = 0; i < n; i++)
		keys[i] = load_key(paths[i]);
	if (espimg_sbv2_sign(*img, *len, (const espimg_key *const *)keys, n,
			     append, &res, diags)) {
		const espimg_diag *d = espimg_diag_count(diags)
					       ? espimg_diag_get(diags, 0)
					       : NULL;
		die("--sign: %s", d ? d->message : "signing failed");
	}
	out_len = res.data_len + res.pad_len + ESPIMG_SIG_SECTOR_SIZE;
	out = malloc(out_len);
	if (!out)
		die("%s", "out of memory");
	memcpy(out, *img, res.data_len);
	memset(out + res.data_len, 0xFF, res.pad_len);
	memcpy(out + res.data_len + res.pad_len, res.sector,
	       ESPIMG_SIG_SECTOR_SIZE);
	free(*img);
	*img = out;
	*len = out_len;
	for (size_t i = 0; i < n; i++)
		espimg_key_free(keys[i]);
	espimg_diag_list_free(diags);
}

/* --sign-v1 KEY: appends u32 0 and the P-256 signature of the SHA-256 of
 * everything before (espsecure sign-data --version 1). */
static void sign_v1(uint8_t **img, size_t *len, const char *path)
{
	espimg_key *key = load_key(path);
	uint8_t digest[32], sig[ESPIMG_SIG_V1_SIZE], *p;
	unsigned dlen = 0;

	if (!EVP_Digest(*img, *len, digest, &dlen, EVP_sha256(), NULL) ||
	    dlen != 32)
		die("%s", "SHA-256 failed");
	if (espimg_sbv1_sign(key, digest, sig))
		die("--sign-v1: %s: not a P-256 private key", path);
	p = realloc(*img, *len + sizeof(sig));
	if (!p)
		die("%s", "out of memory");
	memcpy(p + *len, sig, sizeof(sig));
	*img = p;
	*len += sizeof(sig);
	espimg_key_free(key);
}

static int parse_sigs(char *list, synth_sig *sigs)
{
	char *f[8];
	size_t n = split(list, f, 8), k = 0;

	for (size_t i = 0; i < n; i++) {
		synth_sig *sg;

		if (!strcmp(f[i], "badcrc") || !strcmp(f[i], "badmagic")) {
			if (!k)
				die("'%s' must follow a block type", f[i]);
			if (f[i][3] == 'c')
				sigs[k - 1].bad_crc = true;
			else
				sigs[k - 1].magic = 0xE6;
			continue;
		}
		if (k == 3)
			die("at most 3 signature blocks ('%s')", f[i]);
		sg = &sigs[k];
		memset(sg, 0, sizeof(*sg));
		sg->seed = (uint32_t)k + 1;
		if (!strcmp(f[i], "rsa"))
			sg->version = 2;
		else if (!strcmp(f[i], "p192") || !strcmp(f[i], "p256") ||
			 !strcmp(f[i], "p384")) {
			sg->version = 3;
			sg->curve = f[i][2] == '9' ? 1 : f[i][2] == '5' ? 2 : 3;
		} else
			die("unknown signature block type '%s'", f[i]);
		k++;
	}
	return (int)k;
}

int main(int argc, char **argv)
{
	synth_image s;
	synth_sig sigs[3];
	const char *out = NULL;
	uint8_t *img = NULL;
	const char *sign_keys[3], *sign_v1_key = NULL;
	size_t nsign = 0;
	size_t len = 0, trail = 0, offset = 0, app_len = 256;
	int nsig = -1, sig_v1 = 0, have_app = -1;
	uint8_t trail_byte = 0xFF;
	int i;

	chip = synth_chip_by_key("esp32c3");
	/* First pass: the chip decides the defaults and addresses. */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--chip") && i + 1 < argc) {
			const char *k = argv[++i];

			chip = synth_chip_by_key(k);
			if (!chip) {
				char *end;
				unsigned long id = strtoul(k, &end, 0);

				if (*end || end == k)
					die("unknown chip '%s'", k);
				chip = synth_chip_by_id((unsigned)id);
				if (!chip)
					die("unknown chip id '%s'", k);
			}
		}
	}
	synth_init(&s, chip->id);

	for (i = 1; i < argc; i++) {
		const char *o = argv[i];
		char *v, *f[4];
		size_t n;

		if (!strcmp(o, "--no-digest")) {
			s.append_digest = false;
			continue;
		}
		if (!strcmp(o, "--bad-checksum")) {
			s.bad_checksum = true;
			continue;
		}
		if (!strcmp(o, "--bad-digest")) {
			s.bad_digest = true;
			continue;
		}
		if (!strcmp(o, "--sign-v1")) {
			sig_v1 = 1;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				sign_v1_key = argv[++i];
			continue;
		}
		if (i + 1 >= argc)
			die("option '%s' needs a value or is unknown (see --help)", o);
		v = argv[++i];
		if (!strcmp(o, "--chip")) {
			/* handled above */
		} else if (!strcmp(o, "-o")) {
			out = v;
		} else if (!strcmp(o, "--app")) {
			espimg_app_desc d;
			uint8_t raw[256];

			n = split(v, f, 4);
			if (n < 2)
				die("--app needs PROJECT,VERSION (got '%s')", v);
			synth_app_desc_init(&d, f[0], f[1]);
			if (n > 2)
				synth_set_text(d.idf_ver, sizeof(d.idf_ver), f[2]);
			if (n > 3)
				d.secure_version = (uint32_t)num(f[3]);
			synth_app_desc_bytes(&d, raw);
			have_app = synth_add(&s, chip->drom, raw, 256);
		} else if (!strcmp(o, "--app-len")) {
			app_len = (size_t)num(v);
			if (app_len < 256)
				die("--app-len must be at least 256 (got '%s')", v);
		} else if (!strcmp(o, "--boot")) {
			espimg_boot_desc d;
			uint8_t raw[80];

			n = split(v, f, 3);
			synth_boot_desc_init(&d, (uint32_t)num(f[0]));
			if (n > 1)
				synth_set_text(d.idf_ver, sizeof(d.idf_ver), f[1]);
			if (n > 2)
				synth_set_text(d.date_time, sizeof(d.date_time), f[2]);
			synth_boot_desc_bytes(&d, raw);
			synth_add(&s, chip->dram, raw, 80);
		} else if (!strcmp(o, "--seg")) {
			n = split(v, f, 4);
			if (n < 2)
				die("--seg needs ADDR,LEN (got '%s')", v);
			if (synth_add_fill(&s, addr(f[0]), (size_t)num(f[1]),
					   n > 2 ? fill_of(f[2]) : SYNTH_FILL_RANDOM,
					   n > 3 ? (uint32_t)num(f[3])
						 : (uint32_t)s.nseg + 1) < 0)
				die("out of memory for '%s'", v);
		} else if (!strcmp(o, "--seg-file")) {
			uint8_t *data;
			size_t dlen;

			n = split(v, f, 2);
			if (n < 2)
				die("--seg-file needs ADDR,FILE (got '%s')", v);
			data = read_all(f[1], &dlen);
			if (synth_add(&s, addr(f[0]), data, dlen) < 0)
				die("out of memory for '%s'", f[1]);
			free(data);
		} else if (!strcmp(o, "--seg-len")) {
			n = split(v, f, 2);
			if (n < 2 || num(f[0]) >= s.nseg)
				die("--seg-len needs I,N with I an existing segment (got '%s')", v);
			synth_set_length_field(&s, (size_t)num(f[0]),
					       (uint32_t)num(f[1]));
		} else if (!strcmp(o, "--magic")) {
			s.magic = (uint8_t)num(v);
		} else if (!strcmp(o, "--count")) {
			s.segment_count = (int)(num(v) & 0xFF);
		} else if (!strcmp(o, "--mode")) {
			static const char *const modes[] = { "qio", "qout", "dio", "dout" };
			int m = -1;

			for (int k = 0; k < 4; k++)
				if (!strcmp(v, modes[k]))
					m = k;
			s.flash_mode = (uint8_t)(m >= 0 ? (unsigned)m : num(v));
		} else if (!strcmp(o, "--size-freq")) {
			s.flash_size_freq = (uint8_t)num(v);
		} else if (!strcmp(o, "--entry")) {
			s.entry = addr(v);
		} else if (!strcmp(o, "--wp-pin")) {
			s.wp_pin = (uint8_t)num(v);
		} else if (!strcmp(o, "--drive")) {
			unsigned long long d = num(v);

			s.drv[0] = (uint8_t)d;
			s.drv[1] = (uint8_t)(d >> 8);
			s.drv[2] = (uint8_t)(d >> 16);
		} else if (!strcmp(o, "--chip-id")) {
			s.chip_id = (uint16_t)num(v);
		} else if (!strcmp(o, "--min-rev")) {
			s.min_rev = (uint8_t)num(v);
		} else if (!strcmp(o, "--min-rev-full")) {
			s.min_rev_full = (uint16_t)num(v);
		} else if (!strcmp(o, "--max-rev-full")) {
			s.max_rev_full = (uint16_t)num(v);
		} else if (!strcmp(o, "--reserved")) {
			unsigned long long r = num(v);

			for (int k = 0; k < 4; k++)
				s.reserved[k] = (uint8_t)(r >> (8 * k));
		} else if (!strcmp(o, "--hash-appended")) {
			s.hash_appended = (uint8_t)num(v);
		} else if (!strcmp(o, "--sign")) {
			if (nsign == 3)
				die("at most 3 --sign keys ('%s')", v);
			sign_keys[nsign++] = v;
		} else if (!strcmp(o, "--sign-v2")) {
			nsig = parse_sigs(v, sigs);
		} else if (!strcmp(o, "--trail")) {
			n = split(v, f, 2);
			trail = (size_t)num(f[0]);
			if (n > 1)
				trail_byte = (uint8_t)num(f[1]);
		} else if (!strcmp(o, "--offset")) {
			offset = (size_t)num(v);
		} else {
			die("unknown option '%s' (see --help)", o);
		}
	}
	if (!out)
		die("%s", "no output file: give -o OUT (see --help)");

	/* Grow the app segment after the fact so --app-len may come later. */
	if (have_app >= 0 && app_len > 256) {
		synth_segment *g = &s.seg[have_app];
		uint8_t *p = realloc(g->data, app_len);

		if (!p)
			die("%s", "out of memory");
		synth_fill_bytes(p + 256, app_len - 256, SYNTH_FILL_RANDOM, 77);
		g->data = p;
		g->len = app_len;
	}
	if (synth_finish(&s, &img, &len) < 0)
		die("%s", "out of memory");
	if (nsig >= 0 && synth_sign_v2(&img, &len, sigs, (size_t)nsig) < 0)
		die("%s", "out of memory");
	if (nsign)
		sign_v2(&img, &len, sign_keys, nsign, nsig >= 0);
	if (sig_v1 && sign_v1_key)
		sign_v1(&img, &len, sign_v1_key);
	else if (sig_v1 && synth_append_sig_v1(&img, &len, 1) < 0)
		die("%s", "out of memory");
	if (trail && synth_append(&img, &len, trail_byte, trail) < 0)
		die("%s", "out of memory");

	{
		FILE *fo = strcmp(out, "-") ? fopen(out, "wb") : stdout;
		int bad;

		if (!fo)
			die("cannot create '%s'", out);
		for (size_t k = 0; k < offset; k++)
			fputc(0xFF, fo);
		bad = fwrite(img, 1, len, fo) != len;
		if (fo != stdout)
			bad |= fclose(fo) != 0;
		else
			bad |= fflush(fo) != 0;
		if (bad)
			die("cannot write '%s'", out);
	}
	free(img);
	synth_free(&s);
	return 0;
}
