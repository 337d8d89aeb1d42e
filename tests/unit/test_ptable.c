/*
 * test_ptable.c - the partition table module against the rules of
 * shared/docs/partitions.md (gen_esp32part.py v1.5): number and flag
 * syntax, fields, lines and encodings, environment expansion, the layout
 * pass, bootloader rows, verification, --idf-version gates, extra
 * subtypes, binary encoding and decoding, CSV rendering and the helpers.
 *
 * Every fixture is a CSV string (or bytes built here); expected values were
 * worked out by hand from the rules and cross-checked with the reference.
 * Where we differ from the reference on purpose, the test says so and
 * checks our documented behaviour (see gen-partitions(1) COMPATIBILITY).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "espimg/espimg.h"
#include "fixtures.h"

/* ------------------------------------------------------------ harness */

static espimg_ptable_opts O; /* options of the next parse/verify */
static espimg_diag_list *D;  /* diagnostics of the last call */
static espimg_ptable *T;     /* table of the last successful parse */
static char *dump;           /* last diagnostics dump (for messages) */

static void setup(void)
{
	espimg_ptable_opts_init(&O);
	D = espimg_diag_list_new();
	cr_assert_not_null(D);
	T = NULL;
	dump = NULL;
}

static void teardown(void)
{
	espimg_ptable_free(T);
	espimg_diag_list_free(D);
	free(dump);
}

/* The diagnostics so far, one per line, for failure messages. */
static const char *diags(void)
{
	free(dump);
	dump = fx_diag_dump(D);
	return dump ? dump : "";
}

static int parse_n(const void *data, size_t len)
{
	espimg_ptable_free(T);
	T = NULL;
	espimg_diag_clear(D);
	return espimg_ptable_parse(data, len, &O, "t.csv", &T, D);
}

static int parse(const char *csv)
{
	return parse_n(csv, strlen(csv));
}

/* Parses and requires success. */
static void ok(const char *csv)
{
	int r = parse(csv);

	cr_assert_eq(r, 0, "parse failed (%d) for:\n%s\n%s", r, csv, diags());
	cr_assert_not_null(T);
}

static void ok_n(const void *data, size_t len)
{
	int r = parse_n(data, len);

	cr_assert_eq(r, 0, "parse failed (%d):\n%s", r, diags());
	cr_assert_not_null(T);
}

/* The first error with this code after a parse/verify, asserted present. */
static const espimg_diag *error(const char *code)
{
	const espimg_diag *d = fx_diag_find(D, code, ESPIMG_SEV_ERROR);

	cr_assert_not_null(d, "no error %s; diagnostics:\n%s", code, diags());
	return d;
}

static const espimg_diag *warning(const char *code)
{
	const espimg_diag *d = fx_diag_find(D, code, ESPIMG_SEV_WARNING);

	cr_assert_not_null(d, "no warning %s; diagnostics:\n%s", code, diags());
	return d;
}

/* Parse must fail with an error of this code; returns that error. */
static const espimg_diag *bad(const char *csv, const char *code)
{
	int r = parse(csv);

	cr_assert_eq(r, ESPIMG_EFORMAT, "parse gave %d, not EFORMAT, for:\n%s\n%s",
		     r, csv, diags());
	cr_assert_null(T);
	return error(code);
}

static const espimg_diag *bad_n(const void *data, size_t len, const char *code)
{
	int r = parse_n(data, len);

	cr_assert_eq(r, ESPIMG_EFORMAT, "parse gave %d, not EFORMAT\n%s", r,
		     diags());
	cr_assert_null(T);
	return error(code);
}

static int verify(void)
{
	cr_assert_not_null(T);
	return espimg_ptable_verify(T, &O, "t.csv", D);
}

/* Parse and verify must both succeed. */
static void valid(const char *csv)
{
	ok(csv);
	cr_assert_eq(verify(), 0, "verify failed for:\n%s\n%s", csv, diags());
}

/* Parse succeeds, verify fails with this code. */
static const espimg_diag *invalid(const char *csv, const char *code)
{
	int r;

	ok(csv);
	r = verify();
	cr_assert_eq(r, ESPIMG_EFORMAT, "verify gave %d for:\n%s\n%s", r, csv,
		     diags());
	return error(code);
}

static const espimg_partition *part(size_t i)
{
	cr_assert_not_null(T);
	cr_assert_lt(i, T->count, "no partition %zu (table has %zu)", i,
		     T->count);
	return &T->parts[i];
}

static void expect_part(size_t i, uint8_t type, uint8_t subtype,
			uint32_t offset, uint32_t size)
{
	const espimg_partition *p = part(i);

	cr_expect_eq(p->type, type, "partition %zu type 0x%x, want 0x%x", i,
		     p->type, type);
	cr_expect_eq(p->subtype, subtype, "partition %zu subtype 0x%x, want 0x%x",
		     i, p->subtype, subtype);
	cr_expect_eq(p->offset, offset, "partition %zu offset 0x%x, want 0x%x", i,
		     p->offset, offset);
	cr_expect_eq(p->size, size, "partition %zu size 0x%x, want 0x%x", i,
		     p->size, size);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* One 32-byte entry; the name is copied up to its NUL or 16 bytes. */
static void put_row(uint8_t *row, uint8_t type, uint8_t subtype,
		    uint32_t offset, uint32_t size, const char *name,
		    uint32_t flags)
{
	size_t n = strlen(name);

	row[0] = 0xAA;
	row[1] = 0x50;
	row[2] = type;
	row[3] = subtype;
	put_le32(row + 4, offset);
	put_le32(row + 8, size);
	memset(row + 12, 0, 16);
	memcpy(row + 12, name, n < 16 ? n : 16);
	put_le32(row + 28, flags);
}

/* The MD5 entry for the len bytes of entries before it. */
static void put_md5_row(uint8_t *row, const uint8_t *entries, size_t len)
{
	unsigned int n = 16;

	row[0] = 0xEB;
	row[1] = 0xEB;
	memset(row + 2, 0xFF, 14);
	cr_assert_eq(EVP_Digest(entries, len, row + 16, &n, EVP_md5(), NULL), 1);
}

static void expect_bytes(const uint8_t *got, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i],
			     "byte 0x%zx is %02x, want %02x", i, got[i], want[i]);
}

static void encode(uint8_t out[ESPIMG_PTABLE_BIN_SIZE])
{
	int r;

	cr_assert_not_null(T);
	r = espimg_ptable_to_binary(T, &O, out, D);
	cr_assert_eq(r, 0, "to_binary gave %d\n%s", r, diags());
}

/* A CSV of n data partitions p0, p1, ... (malloc()ed). */
static char *many(unsigned n)
{
	char *s = malloc((size_t)n * 32 + 1);
	size_t len = 0;

	cr_assert_not_null(s);
	s[0] = '\0';
	for (unsigned i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "p%u, data, fat, , 4K\n", i);
	return s;
}

/* UTF-8 text to UTF-16 with a BOM (the text must be valid UTF-8). */
static size_t to_utf16(const char *s, int big_endian, uint8_t *out)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t o = 0;

#define UNIT(x)                                                       \
	do {                                                          \
		unsigned v_ = (x);                                    \
		out[o + (big_endian ? 0 : 1)] = (uint8_t)(v_ >> 8);   \
		out[o + (big_endian ? 1 : 0)] = (uint8_t)v_;          \
		o += 2;                                               \
	} while (0)
	UNIT(0xFEFF);
	while (*u) {
		uint32_t cp;
		if (*u < 0x80) {
			cp = *u++;
		} else if (*u < 0xE0) {
			cp = (uint32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3F);
			u += 2;
		} else if (*u < 0xF0) {
			cp = (uint32_t)(u[0] & 0x0F) << 12 |
			     (uint32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);
			u += 3;
		} else {
			cp = (uint32_t)(u[0] & 0x07) << 18 |
			     (uint32_t)(u[1] & 0x3F) << 12 |
			     (uint32_t)(u[2] & 0x3F) << 6 | (u[3] & 0x3F);
			u += 4;
		}
		if (cp >= 0x10000) {
			UNIT(0xD800 + ((cp - 0x10000) >> 10));
			UNIT(0xDC00 + ((cp - 0x10000) & 0x3FF));
		} else {
			UNIT(cp);
		}
	}
#undef UNIT
	return o;
}

TestSuite(num, .init = setup, .fini = teardown);
TestSuite(field, .init = setup, .fini = teardown);
TestSuite(flags, .init = setup, .fini = teardown);
TestSuite(lines, .init = setup, .fini = teardown);
TestSuite(env, .init = setup, .fini = teardown);
TestSuite(layout, .init = setup, .fini = teardown);
TestSuite(boot, .init = setup, .fini = teardown);
TestSuite(verify, .init = setup, .fini = teardown);
TestSuite(idf, .init = setup, .fini = teardown);
TestSuite(extra, .init = setup, .fini = teardown);
TestSuite(bin, .init = setup, .fini = teardown);
TestSuite(csvout, .init = setup, .fini = teardown);
TestSuite(api, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ numbers */

struct num_case {
	const char *text;
	uint32_t value;
};

/* Python int(x, 0) plus the recursive K/M suffixes (section 3.4); every
 * value checked against the reference's parse_int. */
static const struct num_case size_ok[] = {
	{ "4096", 0x1000 },
	{ "0x1000", 0x1000 },
	{ "0X1000", 0x1000 },
	{ "0xaBcD", 0xABCD },
	{ "0o10000", 0x1000 },
	{ "0O10000", 0x1000 },
	{ "0b1000000000000", 0x1000 },
	{ "0B1000000000000", 0x1000 },
	{ "0x10_0000", 0x100000 },
	{ "0x1_000", 0x1000 },
	{ "4_096", 0x1000 },
	{ "1_2_3", 123 },
	{ "0x_10", 0x10 },
	{ "0X_FF", 0xFF },
	{ "0o_7", 7 },
	{ "0b_1", 1 },
	{ "+4096", 0x1000 },
	{ "+0x1000", 0x1000 },
	{ "+1K", 0x400 },
	{ "0", 0 },
	{ "00", 0 },
	{ "000", 0 },
	{ "0_0", 0 },
	{ "4K", 0x1000 },
	{ "4k", 0x1000 },
	{ "1M", 0x100000 },
	{ "1m", 0x100000 },
	{ "1kk", 0x100000 },
	{ "0x40k", 0x10000 },
	{ "0x40K", 0x10000 },
	{ "2mk", 0x80000000 },
	{ "3Mk", 0xC0000000 },
	{ "0b1k", 0x400 },
	{ "0o2K", 0x800 },
	{ "1_0K", 0x2800 },
	{ "0xfK", 0x3C00 },
	{ "0x1bk", 0x6C00 },
	{ "1 K", 0x400 }, /* int('1 ', 0): Python trims inside the suffix */
	{ "0xFFFFFFFF", 0xFFFFFFFF },
};

Test(num, valid_size_syntaxes)
{
	char csv[128];

	for (size_t i = 0; i < sizeof(size_ok) / sizeof(size_ok[0]); i++) {
		snprintf(csv, sizeof(csv), "p, data, fat, , %s\n", size_ok[i].text);
		ok(csv);
		cr_expect_eq(part(0)->size, size_ok[i].value,
			     "'%s' gave 0x%x, want 0x%x", size_ok[i].text,
			     part(0)->size, size_ok[i].value);
	}
}

/* Not numbers for the reference either. */
static const char *const size_bad[] = {
	"1.5M", "KB", "1KB", "0x 6000", "010", "024K", "08", "1__0", "1_",
	"_1", "0x", "0b", "0o", "0x__1", "0x1_", "0_", "+_1", "abc", "1e3",
	"0b102", "0o8", "0xg", "- 1", "++1", "+-1", "0x-1", "1 2", "1 _0",
	"M", "k", "0xK", "1MiB", "1.0", "0x1.0", "1k k", "1K1", "$1", "0d10",
};

Test(num, invalid_size_syntaxes)
{
	char csv[128];

	for (size_t i = 0; i < sizeof(size_bad) / sizeof(size_bad[0]); i++) {
		snprintf(csv, sizeof(csv), "p, data, fat, , %s\n", size_bad[i]);
		cr_expect_eq(parse(csv), ESPIMG_EFORMAT, "'%s' accepted",
			     size_bad[i]);
		cr_expect_not_null(fx_diag_find(D, "ptable.number",
						ESPIMG_SEV_ERROR),
				   "'%s': no ptable.number error\n%s", size_bad[i],
				   diags());
	}
}

Test(num, suffix_stripped_text_is_reported)
{
	const espimg_diag *d = bad("p, data, fat, , 1.5M\n", "ptable.number");
	const espimg_diag *note;

	cr_expect_eq(d->line, 1);
	cr_expect_eq(d->column, 17);
	cr_expect(strstr(d->message, "1.5M") != NULL, "%s", d->message);
	/* The reference reports '1.5', the text left after the suffix. */
	note = fx_diag_find(D, "ptable.number", ESPIMG_SEV_NOTE);
	cr_assert_not_null(note, "%s", diags());
	cr_expect(strstr(note->message, "'1.5'") != NULL, "%s", note->message);
}

Test(num, same_syntaxes_in_type_subtype_and_offset)
{
	static const char *const rows[] = {
		"p, 1, 0x81, 0x9000, 4K\n",
		"p, 0x01, 129, 36864, 4096\n",
		"p, 0b1, 0o201, 0x9_000, 0x1000\n",
		"p, +1, 0X81, 36K, 4k\n",
		"p, 1, 0x81, 0x9_0_0_0, 0b1_0000_0000_0000\n",
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ok(rows[i]);
		expect_part(0, ESPIMG_PTYPE_DATA, 0x81, 0x9000, 0x1000);
	}
	/* A decimal with a leading zero is invalid in every field. */
	bad("p, 01, 0x81, 0x9000, 4K\n", "ptable.keyword");
	bad("p, data, 0129, 0x9000, 4K\n", "ptable.keyword");
	bad("p, 0x40, 0129, 0x9000, 4K\n", "ptable.number");
	bad("p, data, fat, 036864, 4K\n", "ptable.number");
}

Test(num, negative_size_is_an_end_address)
{
	ok("a, app, factory, 0x10000, -2M\n");
	expect_part(0, ESPIMG_PTYPE_APP, 0, 0x10000, 0x1F0000);
	ok("d, data, fat, , -0x20000\n");
	expect_part(0, ESPIMG_PTYPE_DATA, 0x81, 0x9000, 0x17000);
	ok("d, data, fat, , -0x9000\n"); /* ends where it starts: size 0 */
	expect_part(0, ESPIMG_PTYPE_DATA, 0x81, 0x9000, 0);
}

Test(num, negative_size_below_the_offset_is_an_error)
{
	bad("d, data, fat, 0x20000, -0x10000\n", "ptable.range");
}

Test(num, keyword_takes_a_suffix)
{
	ok("p, appk, factory, , 64K\n"); /* 'app' x 1024 = 0 */
	cr_expect_eq(part(0)->type, ESPIMG_PTYPE_APP);
	ok("p, appm, factory, , 64K\n");
	cr_expect_eq(part(0)->type, ESPIMG_PTYPE_APP);
	bad("p, datak, fat, , 4K\n", "ptable.range"); /* 1 x 1024 */
}

Test(num, out_of_range_values)
{
	bad("p, 256, 0, , 4K\n", "ptable.range");
	bad("p, -1, 0, , 4K\n", "ptable.range");
	bad("p, 0x40, 300, , 4K\n", "ptable.range");
	bad("p, 0x40, -1, , 4K\n", "ptable.range");
	bad("p, data, fat, 0x100000000, 4K\n", "ptable.range");
	bad("p, data, fat, 4096M, 4K\n", "ptable.range");
	bad("p, data, fat, -0x1000, 4K\n", "ptable.range");
	bad("p, data, fat, , 0x100000000\n", "ptable.range");
	bad("p, data, fat, , 4mk\n", "ptable.range");
	bad("p, data, fat, , 0xffffffffffffffffffff\n", "ptable.range");
	/* The largest values that fit are fine. */
	ok("p, 255, 255, 0xFFFFF000, 0x1000\n");
	expect_part(0, 0xFF, 0xFF, 0xFFFFF000, 0x1000);
}

Test(num, size_past_4gib_only_warns)
{
	/* The reference does not notice offset + size > 4 GiB. */
	ok("p, data, fat, , 0xFFFFFFFF\n");
	expect_part(0, ESPIMG_PTYPE_DATA, 0x81, 0x9000, 0xFFFFFFFF);
	warning("ptable.wrap");
}

/* A negative size is an end address, ranged only after size = -size -
 * offset: "a, app, factory, 0x10000, -4096M" is an app of size 0xFFFF0000
 * in the reference too, though 4096M alone needs 33 bits. */
Test(num, negative_size_of_4gib_is_an_end_address)
{
	ok("a, app, factory, 0x10000, -4096M\n");
	expect_part(0, ESPIMG_PTYPE_APP, 0, 0x10000, 0xFFFF0000);
}

/* Python's int() reads any Unicode decimal digit (category Nd), so the
 * reference takes "\uFF14K" (fullwidth 4) as 4096, "0x\uFF11\uFF10" as 0x10
 * and Arabic-Indic "\u0664\u0660\u0669\u0666" as 4096; so must we. */
Test(num, unicode_digits_are_digits)
{
	ok("p, data, fat, , \xEF\xBC\x94K\n");
	cr_expect_eq(part(0)->size, 4096);
	ok("p, data, fat, , \xD9\xA4\xD9\xA0\xD9\xA9\xD9\xA6\n");
	cr_expect_eq(part(0)->size, 4096);
	ok("p, 0x40, 0x\xEF\xBC\x91\xEF\xBC\x90, , 4K\n");
	cr_expect_eq(part(0)->subtype, 0x10);
}

/* The reference tests suffixes and keywords on text.lower(), and U+212A
 * KELVIN SIGN lower-cases to ASCII 'k': "1\u212A" is 1024 and
 * "nvs_\u212Aeys" is nvs_keys (4). */
Test(num, kelvin_sign_lowercases_to_k)
{
	ok("p, data, fat, , 1\xE2\x84\xAA\n");
	cr_expect_eq(part(0)->size, 1024);
	ok("p, data, nvs_\xE2\x84\xAA" "eys, , 4K\n");
	cr_expect_eq(part(0)->subtype, 4);
}

/* ------------------------------------------------------------ fields */

Test(field, typical_table)
{
	ok("# Name,   Type, SubType, Offset,  Size, Flags\n"
	   "nvs,      data, nvs,     0x9000,  0x6000,\n"
	   "phy_init, data, phy,     0xf000,  0x1000,\n"
	   "factory,  app,  factory, 0x10000, 1M,\n");
	cr_assert_eq(T->count, 3);
	cr_expect_str_eq(part(0)->name, "nvs");
	cr_expect_str_eq(part(1)->name, "phy_init");
	cr_expect_str_eq(part(2)->name, "factory");
	expect_part(0, 1, 2, 0x9000, 0x6000);
	expect_part(1, 1, 1, 0xF000, 0x1000);
	expect_part(2, 0, 0, 0x10000, 0x100000);
	cr_expect_eq(part(0)->line, 2);
	cr_expect_eq(part(2)->line, 4);
	cr_expect(!T->from_binary);
	cr_expect_eq(part(0)->bin_offset, -1);
}

Test(field, empty_name_is_allowed)
{
	ok(", data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "");
}

Test(field, empty_type_is_an_error)
{
	const espimg_diag *d = bad("p, , fat, , 4K\n", "ptable.empty");

	cr_expect_eq(d->line, 1);
	cr_expect_eq(d->column, 3);
	bad("p\n", "ptable.empty");
}

Test(field, empty_app_subtype_is_an_error)
{
	bad("p, app, , , 64K\n", "ptable.empty");
	bad("p, 0, , , 64K\n", "ptable.empty");
}

Test(field, empty_subtype_of_other_types_is_undefined)
{
	ok("p, data, , , 4K\n");
	cr_expect_eq(part(0)->subtype, ESPIMG_PSUB_DATA_UNDEFINED);
	cr_expect(part(0)->source & ESPIMG_PSRC_SUBTYPE_EMPTY);
	ok("p, 0x40, , , 4K\n");
	cr_expect_eq(part(0)->type, 0x40);
	cr_expect_eq(part(0)->subtype, 0x06);
	O.primary_bootloader_offset = 0x1000;
	ok("p, bootloader, , , \n");
	expect_part(0, ESPIMG_PTYPE_BOOTLOADER, 0x06, 0x9000, 0x7000);
}

Test(field, empty_offset_is_allocated)
{
	ok("p, data, fat, , 4K\n");
	cr_expect_eq(part(0)->offset, 0x9000);
	cr_expect(part(0)->source & ESPIMG_PSRC_OFFSET_BLANK);
	ok("p, data, fat, 0x9000, 4K\n");
	cr_expect(!(part(0)->source & ESPIMG_PSRC_OFFSET_BLANK));
}

Test(field, empty_size_is_an_error)
{
	const espimg_diag *d = bad("p, data, fat, 0x9000, \n", "ptable.empty");

	cr_expect_eq(d->line, 1);
	bad("p, data, fat\n", "ptable.empty");
	bad("p, data, fat, 0x9000\n", "ptable.empty");
}

Test(field, fields_after_the_sixth_are_ignored)
{
	ok("p, data, fat, , 4K, encrypted, junk, more,,\n");
	cr_expect_eq(part(0)->flags, ESPIMG_PFLAG_ENCRYPTED);
	ok("p, data, fat, , 4K, , readonly\n");
	cr_expect_eq(part(0)->flags, 0);
}

Test(field, quotes_are_kept_literally)
{
	ok("\"my nvs\", data, nvs, , 16K\n");
	cr_expect_str_eq(part(0)->name, "\"my nvs\"");
	bad("p, \"data\", fat, , 4K\n", "ptable.keyword");
	bad("p, data, 'fat', , 4K\n", "ptable.keyword");
}

Test(field, keywords_are_case_insensitive)
{
	ok("p, APP, FACTORY, , 64K\n");
	expect_part(0, 0, 0, 0x10000, 0x10000);
	cr_expect(part(0)->source & ESPIMG_PSRC_TYPE_NAMED);
	cr_expect(part(0)->source & ESPIMG_PSRC_SUBTYPE_NAMED);
	ok("p, Data, NvS, , 16K\n");
	expect_part(0, 1, 2, 0x9000, 0x4000);
	ok("p, app, OTA_0, , 64K\n");
	cr_expect_eq(part(0)->subtype, 0x10);
	ok("p, 0, Ota_15, , 64K\n");
	cr_expect_eq(part(0)->subtype, 0x1F);
	cr_expect(!(part(0)->source & ESPIMG_PSRC_TYPE_NAMED));
}

struct kw_case {
	const char *type, *subtype;
	uint8_t t, s;
};

static const struct kw_case keywords[] = {
	{ "app", "factory", 0, 0x00 },     { "app", "test", 0, 0x20 },
	{ "app", "ota_0", 0, 0x10 },       { "app", "ota_1", 0, 0x11 },
	{ "app", "ota_7", 0, 0x17 },       { "app", "ota_10", 0, 0x1A },
	{ "app", "ota_15", 0, 0x1F },      { "app", "tee_0", 0, 0x30 },
	{ "app", "tee_1", 0, 0x31 },       { "data", "ota", 1, 0x00 },
	{ "data", "phy", 1, 0x01 },        { "data", "nvs", 1, 0x02 },
	{ "data", "coredump", 1, 0x03 },   { "data", "nvs_keys", 1, 0x04 },
	{ "data", "efuse", 1, 0x05 },      { "data", "undefined", 1, 0x06 },
	{ "data", "esphttpd", 1, 0x80 },   { "data", "fat", 1, 0x81 },
	{ "data", "spiffs", 1, 0x82 },     { "data", "littlefs", 1, 0x83 },
	{ "data", "tee_ota", 1, 0x90 },    { "bootloader", "primary", 2, 0 },
	{ "bootloader", "ota", 2, 1 },     { "bootloader", "recovery", 2, 2 },
	{ "partition_table", "primary", 3, 0 },
	{ "partition_table", "ota", 3, 1 },
};

Test(field, every_type_and_subtype_keyword)
{
	char csv[128];

	O.primary_bootloader_offset = 0x1000;
	O.recovery_bootloader_offset = 0x100000;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		const struct kw_case *k = &keywords[i];
		snprintf(csv, sizeof(csv), "p, %s, %s, , 64K\n", k->type,
			 k->subtype);
		ok(csv);
		cr_expect_eq(part(0)->type, k->t, "%s", csv);
		cr_expect_eq(part(0)->subtype, k->s, "%s", csv);
		/* Names map back to the same keywords. */
		cr_expect_str_eq(espimg_ptable_type_name(k->t), k->type);
		cr_expect_str_eq(espimg_ptable_subtype_name(NULL, k->t, k->s),
				 k->subtype);
	}
}

Test(field, unknown_keywords)
{
	const espimg_diag *d = bad("p, bogus, fat, , 4K\n", "ptable.keyword");

	cr_expect_eq(d->column, 4);
	/* Subtype keywords belong to their type. */
	bad("p, data, factory, , 4K\n", "ptable.keyword");
	bad("p, app, nvs, , 64K\n", "ptable.keyword");
	bad("p, app, ota_16, , 64K\n", "ptable.keyword");
	/* Custom types have no keywords: the subtype must be a number. */
	bad("p, 0x40, fat, , 4K\n", "ptable.number");
	/* Offsets and sizes have no keywords either. */
	bad("p, data, fat, app, 4K\n", "ptable.number");
}

Test(field, long_names_are_kept_whole_and_cut_in_the_binary)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];

	ok("abcdefghijklmnopqrst, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "abcdefghijklmnopqrst");
	warning("ptable.name-cut");
	encode(bin);
	cr_expect(!memcmp(bin + 12, "abcdefghijklmnop", 16));
	cr_expect_eq(bin[28], 0, "flags follow the name directly");
	/* 16 bytes exactly: no warning. */
	ok("abcdefghijklmnop, data, fat, , 4K\n");
	cr_expect_null(fx_diag_find(D, "ptable.name-cut", -1));
}

Test(field, columns_count_characters_not_bytes)
{
	const espimg_diag *d = bad("n\xC3\xA9, data, fat, , xx\n", "ptable.number");

	cr_expect_eq(d->column, 18);
	d = bad("nvs, data, nvs, 0x9000, 0x40x0\n", "ptable.number");
	cr_expect_eq(d->column, 25);
}

/* Deliberate difference (gen-partitions(1) COMPATIBILITY): a NUL in a name
 * is refused.  The reference writes "a\0b" and then reads the name back as
 * "a", a table it cannot reproduce. */
Test(field, nul_in_name_is_refused)
{
	static const char csv[] = "a\0b, data, fat, , 4K\n";
	espimg_ptable_opts o;
	espimg_diag_list *dl = espimg_diag_list_new();
	espimg_ptable *t = NULL;

	espimg_ptable_opts_init(&o);
	cr_assert_eq(espimg_ptable_parse((const uint8_t *)csv, sizeof(csv) - 1,
					 &o, "t.csv", &t, dl), ESPIMG_EFORMAT);
	cr_assert_null(t);
	cr_assert_eq(espimg_diag_count(dl), 1);
	cr_expect_str_eq(espimg_diag_get(dl, 0)->code, "ptable.name");
	cr_expect_eq(espimg_diag_get(dl, 0)->line, 1);
	espimg_diag_list_free(dl);
}

/* ------------------------------------------------------------ flags */

struct flag_case {
	const char *text;
	int flags; /* -1: ptable.flag error */
};

static const struct flag_case flag_cases[] = {
	{ "", 0 },
	{ "encrypted", ESPIMG_PFLAG_ENCRYPTED },
	{ "readonly", ESPIMG_PFLAG_READONLY },
	{ "encrypted:readonly", 3 },
	{ "readonly:encrypted", 3 },
	{ "encrypted:", ESPIMG_PFLAG_ENCRYPTED },
	{ ":readonly", ESPIMG_PFLAG_READONLY },
	{ "::", 0 },
	{ "encrypted::readonly", 3 },
	{ "encrypted:encrypted", ESPIMG_PFLAG_ENCRYPTED },
	{ "  encrypted  ", ESPIMG_PFLAG_ENCRYPTED }, /* the field is trimmed */
	{ "ENCRYPTED", -1 },
	{ "Readonly", -1 },
	{ "encrypted readonly", -1 },
	{ "encrypted : readonly", -1 }, /* pieces are not trimmed */
	{ "encrypted :readonly", -1 },
	{ "encrypted: readonly", -1 },
	{ "encrypted;readonly", -1 },
	{ "read-only", -1 },
	{ "# main nvs", -1 }, /* no trailing comments */
	{ "encrypted # secret", -1 },
	{ "ro", -1 },
};

Test(flags, every_flag_syntax)
{
	char csv[128];

	for (size_t i = 0; i < sizeof(flag_cases) / sizeof(flag_cases[0]); i++) {
		const struct flag_case *f = &flag_cases[i];
		snprintf(csv, sizeof(csv), "p, data, fat, , 4K, %s\n", f->text);
		if (f->flags >= 0) {
			ok(csv);
			cr_expect_eq(part(0)->flags, (uint32_t)f->flags,
				     "'%s' gave %u", f->text, part(0)->flags);
		} else {
			cr_expect_eq(parse(csv), ESPIMG_EFORMAT, "'%s' accepted",
				     f->text);
			cr_expect_not_null(fx_diag_find(D, "ptable.flag",
							ESPIMG_SEV_ERROR),
					   "'%s'\n%s", f->text, diags());
		}
	}
}

Test(flags, comma_ends_the_flags_field)
{
	/* ", readonly" is a seventh field and ignored. */
	ok("p, data, fat, , 4K, encrypted, readonly\n");
	cr_expect_eq(part(0)->flags, ESPIMG_PFLAG_ENCRYPTED);
}

Test(flags, bad_flag_column)
{
	const espimg_diag *d = bad("p, data, fat, , 4K, encrypted:bogus\n",
				   "ptable.flag");

	cr_expect_eq(d->line, 1);
	cr_expect_eq(d->column, 31, "column of 'bogus'");
	cr_expect(strstr(d->message, "bogus") != NULL, "%s", d->message);
}

/* ------------------------------------------------------------ lines */

Test(lines, crlf_and_cr_end_lines)
{
	ok("a, data, fat, , 4K\r\nb, data, fat, , 4K\r\n");
	cr_assert_eq(T->count, 2);
	cr_expect_eq(part(1)->line, 2);
	cr_expect_str_eq(part(1)->name, "b");
	ok("a, data, fat, , 4K\rb, data, fat, , 4K\r");
	cr_assert_eq(T->count, 2);
	cr_expect_eq(part(1)->line, 2);
	/* CR LF is one break, LF CR two. */
	ok("a, data, fat, , 4K\r\n\r\nb, data, fat, , 4K\n");
	cr_expect_eq(part(1)->line, 3);
	ok("a, data, fat, , 4K\n\rb, data, fat, , 4K\n");
	cr_expect_eq(part(1)->line, 3);
}

Test(lines, python_splitlines_breaks)
{
	static const char *const breaks[] = {
		"\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e",
		"\xC2\x85", "\xE2\x80\xA8", "\xE2\x80\xA9",
	};
	char csv[128];

	for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
		snprintf(csv, sizeof(csv),
			 "a, data, fat, , 4K%sb, data, fat, , 8K%s", breaks[i],
			 breaks[i]);
		ok(csv);
		cr_expect_eq(T->count, 2, "break %zu", i);
		cr_expect_str_eq(part(1)->name, "b", "break %zu", i);
		cr_expect_eq(part(1)->size, 0x2000, "break %zu", i);
		cr_expect_eq(part(1)->line, 2, "break %zu", i);
	}
}

Test(lines, other_controls_do_not_break_lines)
{
	/* U+001F is whitespace (trimmed) but not a line break. */
	bad("a, data, fat, , 4K\x1f" "b, data, fat, , 4K\n", "ptable.number");
	bad("a, data, fat, , 4K\tb, data, fat, , 4K\n", "ptable.number");
}

Test(lines, error_line_after_a_form_feed)
{
	const espimg_diag *d = bad("a, data, fat, , 4K\fb, data, fat, , xx\n",
				   "ptable.number");

	cr_expect_eq(d->line, 2);
}

Test(lines, comments_and_blank_lines)
{
	ok("# header\n"
	   "\n"
	   "   \t\n"
	   "  # indented comment\n"
	   "\t# tab-indented comment\n"
	   "\xC2\xA0# NBSP-indented comment\n"
	   "#no space, app, factory, , 64K\n"
	   "a, data, fat, , 4K\n"
	   "# trailing\n");
	cr_assert_eq(T->count, 1);
	cr_expect_eq(part(0)->line, 8);
}

Test(lines, hash_inside_a_line_is_text)
{
	ok("a#b, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "a#b");
	bad("a, data, fat, , 4K # size\n", "ptable.number");
	bad("a, data, fat, # auto, 4K\n", "ptable.number");
}

Test(lines, no_final_newline_and_empty_input)
{
	ok("a, data, fat, , 4K");
	cr_expect_eq(T->count, 1);
	ok("");
	cr_expect_eq(T->count, 0);
	ok("# only a comment\n\n");
	cr_expect_eq(T->count, 0);
}

Test(lines, utf8_bom_is_ignored)
{
	ok("\xEF\xBB\xBF# Name, Type\na, data, fat, , 4K\n");
	cr_expect_eq(T->count, 1);
	ok("\xEF\xBB\xBF" "a, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "a");
	/* Only one BOM is dropped; U+FEFF is not whitespace. */
	ok("\xEF\xBB\xBF\xEF\xBB\xBF" "a, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "\xEF\xBB\xBF" "a");
}

Test(lines, utf16_with_bom_is_decoded)
{
	/* "né" plus a character outside the BMP (a surrogate pair). */
	static const char text[] =
		"# table\nn\xC3\xA9\xF0\x9F\x98\x80, data, fat, , 4K\r\n";
	uint8_t buf[256];
	size_t n;

	for (int be = 0; be <= 1; be++) {
		n = to_utf16(text, be, buf);
		ok_n(buf, n);
		cr_assert_eq(T->count, 1);
		cr_expect_str_eq(part(0)->name, "n\xC3\xA9\xF0\x9F\x98\x80");
		cr_expect_eq(part(0)->line, 2);
	}
}

Test(lines, broken_utf16_is_refused)
{
	uint8_t buf[256];
	size_t n = to_utf16("a, data, fat, , 4K\n", 0, buf);

	bad_n(buf, n - 1, "ptable.encoding"); /* odd length */
	n = to_utf16("a", 0, buf);
	buf[n++] = 0x00; /* lone high surrogate D800 */
	buf[n++] = 0xD8;
	bad_n(buf, n, "ptable.encoding");
	n = to_utf16("a", 1, buf);
	buf[n++] = 0xDC; /* lone low surrogate DC00 */
	buf[n++] = 0x00;
	bad_n(buf, n, "ptable.encoding");
}

Test(lines, utf32_le_is_refused_and_be_decoded)
{
	static const uint8_t le[] = { 0xFF, 0xFE, 0x00, 0x00, 'a', 0, 0, 0,
				      ',', 0, 0, 0 };
	uint8_t be[4 + 4 * 32];
	const char *text = "a, data, fat, , 4K\n";
	size_t n = 4;

	bad_n(le, sizeof(le), "ptable.encoding");
	be[0] = 0;
	be[1] = 0;
	be[2] = 0xFE;
	be[3] = 0xFF;
	for (const char *p = text; *p; p++) {
		be[n++] = 0;
		be[n++] = 0;
		be[n++] = 0;
		be[n++] = (uint8_t)*p;
	}
	ok_n(be, n);
	expect_part(0, 1, 0x81, 0x9000, 0x1000);
}

Test(lines, invalid_utf8_is_refused_with_its_position)
{
	static const char *const bad_seqs[] = {
		"\xFF", "\xC0\x80", "\xC3", "\xE2\x82", "\xED\xA0\x80",
		"\xF4\x90\x80\x80", "\x80", "\xF8\x88\x80\x80\x80",
	};
	char csv[64];
	const espimg_diag *d;

	d = bad("a, data, fat, , 4K\nb\xFF, data, fat, , 4K\n",
		"ptable.encoding");
	cr_expect_eq(d->line, 2);
	cr_expect_eq(d->column, 2);
	cr_expect_eq(d->offset, 20);
	for (size_t i = 0; i < sizeof(bad_seqs) / sizeof(bad_seqs[0]); i++) {
		snprintf(csv, sizeof(csv), "n%s, data, fat, , 4K\n", bad_seqs[i]);
		cr_expect_eq(parse(csv), ESPIMG_EFORMAT, "sequence %zu accepted", i);
		cr_expect_not_null(fx_diag_find(D, "ptable.encoding", -1),
				   "sequence %zu", i);
	}
	/* A sequence cut by the end of the input. */
	bad("a, data, fat, , 4K\xE2\x82", "ptable.encoding");
}

Test(lines, unicode_whitespace_is_trimmed)
{
	ok("\xC2\xA0" "a\xC2\xA0,\tdata\t,\xE3\x80\x80" "fat\xE2\x80\x83, "
	   "\x1f, 4K\xE2\x80\xAF, \xE1\x9A\x80" "encrypted\xE2\x81\x9F\n");
	cr_expect_str_eq(part(0)->name, "a");
	expect_part(0, 1, 0x81, 0x9000, 0x1000);
	cr_expect_eq(part(0)->flags, ESPIMG_PFLAG_ENCRYPTED);
	/* Inner whitespace stays in a name. */
	ok("my\xC2\xA0" "nvs, data, nvs, , 16K\n");
	cr_expect_str_eq(part(0)->name, "my\xC2\xA0nvs");
}

Test(lines, zero_width_characters_are_not_whitespace)
{
	/* U+200B, U+FEFF and U+180E are not Python whitespace. */
	ok("\xE2\x80\x8B" "a, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "\xE2\x80\x8B" "a");
	bad("a, data\xEF\xBB\xBF, fat, , 4K\n", "ptable.keyword");
	bad("a, data, fat, , 4K\xE1\xA0\x8E\n", "ptable.number");
}

/* ------------------------------------------------------------ env */

static const char *test_env(void *ctx, const char *name)
{
	static const char *const vars[][2] = {
		{ "T", "data" },
		{ "OFF", "0x20000" },
		{ "N", "n" },
		{ "EMPTY", "" },
		{ "ROW", "data, fat" },
		{ "HIDE", "# hidden" },
		{ "REC", "$T" },
		{ "A B", "fat" },
	};

	(void)ctx;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (!strcmp(name, vars[i][0]))
			return vars[i][1];
	return NULL;
}

Test(env, dollar_name_and_braces_are_expanded)
{
	O.lookup_env = test_env;
	ok("a, $T, fat, $OFF, 4K\n");
	expect_part(0, 1, 0x81, 0x20000, 0x1000);
	ok("a, ${T}, fat, ${OFF}, 4K\n");
	expect_part(0, 1, 0x81, 0x20000, 0x1000);
	ok("${N}x, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "nx");
	ok("$N, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "n");
	/* ${...} may hold any name, even one with a space. */
	ok("a, data, ${A B}, , 4K\n");
	cr_expect_eq(part(0)->subtype, 0x81);
}

Test(env, expansion_happens_before_splitting_and_comments)
{
	O.lookup_env = test_env;
	ok("a, $ROW, , 4K\n");
	expect_part(0, 1, 0x81, 0x9000, 0x1000);
	ok("$HIDE, junk\na, data, fat, , 4K\n");
	cr_expect_eq(T->count, 1);
	ok("a, data, fat, $EMPTY, 4K\n");
	cr_expect(part(0)->source & ESPIMG_PSRC_OFFSET_BLANK);
	/* Values are not expanded again. */
	bad("a, $REC, fat, , 4K\n", "ptable.keyword");
}

Test(env, unset_name_at_line_start_is_an_error)
{
	const espimg_diag *d;

	O.lookup_env = test_env;
	d = bad("a, data, fat, , 4K\n$NOPE, data, fat, , 4K\n", "ptable.env");
	cr_expect_eq(d->line, 2);
	cr_expect_eq(d->column, 1);
	cr_expect(strstr(d->message, "NOPE") != NULL, "%s", d->message);
	bad("$_x, data, fat, , 4K\n", "ptable.env");
	/* Without a callback nothing is set. */
	O.lookup_env = NULL;
	bad("$T, data, fat, , 4K\n", "ptable.env");
}

Test(env, unset_names_elsewhere_stay_literal)
{
	O.lookup_env = test_env;
	ok("x$NOPE, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "x$NOPE");
	/* Not at the very start (before trimming), or not a name. */
	ok("  $NOPE, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "$NOPE");
	ok("${NOPE}, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "${NOPE}");
	ok("$1, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "$1");
	ok("$, data, fat, , 4K\n");
	cr_expect_str_eq(part(0)->name, "$");
	bad("a, data, fat, , $NOPE\n", "ptable.number");
	O.lookup_env = NULL;
	bad("a, $T, fat, , 4K\n", "ptable.keyword");
}

Test(env, names_in_comment_lines_are_harmless)
{
	O.lookup_env = test_env;
	ok("# $T ${OFF} $NOPE\na, data, fat, , 4K\n");
	cr_expect_eq(T->count, 1);
	ok("  # $NOPE\n");
	cr_expect_eq(T->count, 0);
}

Test(env, every_unset_line_is_reported)
{
	O.lookup_env = test_env;
	bad("$X1, data, fat, , 4K\n$X2, data, fat, , 4K\n", "ptable.env");
	cr_expect_eq(fx_diag_count(D, "ptable.env", ESPIMG_SEV_ERROR), 2);
}

/* ------------------------------------------------------------ layout */

Test(layout, blank_offsets_follow_type_alignment)
{
	ok("a, app, factory, , 1M\n");
	expect_part(0, 0, 0, 0x10000, 0x100000);
	ok("n, data, nvs, , 0x6000\n"
	   "f, app, factory, , 1M\n"
	   "s, data, spiffs, , 0x123\n"
	   "t, data, fat, , 4K\n"
	   "c, 0x40, 7, , 4K\n"
	   "o, app, ota_0, , 64K\n");
	expect_part(0, 1, 2, 0x9000, 0x6000);
	expect_part(1, 0, 0, 0x10000, 0x100000);
	expect_part(2, 1, 0x82, 0x110000, 0x123);
	expect_part(3, 1, 0x81, 0x111000, 0x1000);
	expect_part(4, 0x40, 7, 0x112000, 0x1000);
	expect_part(5, 0, 0x10, 0x120000, 0x10000);
}

Test(layout, odd_size_pushes_the_next_to_a_sector)
{
	ok("a, data, fat, 0xF000, 0x123\nb, data, fat, , 4K\n");
	cr_expect_eq(part(1)->offset, 0x10000);
}

Test(layout, zero_size_partition_shares_its_offset)
{
	ok("a, data, fat, , 0\nb, data, fat, , 4K\n");
	expect_part(0, 1, 0x81, 0x9000, 0);
	expect_part(1, 1, 0x81, 0x9000, 0x1000);
	/* Explicitly at the same place as a zero-size one is fine too. */
	ok("a, data, fat, 0xA000, 0\nb, data, fat, 0xA000, 4K\n");
	cr_expect_eq(part(1)->offset, 0xA000);
}

Test(layout, lower_address_after_a_higher_one_is_out_of_order)
{
	const espimg_diag *d = bad("a, data, fat, 0x20000, 0x10000\n"
				   "b, data, fat, 0x10000, 4K\n",
				   "ptable.order");

	cr_expect_eq(d->line, 2);
	cr_expect_eq(d->column, 15);
	cr_expect_null(fx_diag_find(D, "ptable.overlap", -1));
}

Test(layout, start_inside_the_previous_partition_overlaps)
{
	const espimg_diag *d = bad("a, data, fat, 0x20000, 0x10000\n"
				   "b, data, fat, 0x28000, 4K\n",
				   "ptable.overlap");

	cr_expect_eq(d->line, 2);
	cr_expect_eq(d->column, 15);
	cr_expect_null(fx_diag_find(D, "ptable.order", -1));
	/* Touching is fine. */
	ok("a, data, fat, 0x20000, 0x10000\nb, data, fat, 0x30000, 4K\n");
	/* Blank then explicit below the running end. */
	bad("a, data, fat, , 0x10000\nb, data, fat, 0x18000, 4K\n",
	    "ptable.overlap");
}

Test(layout, offset_inside_the_table_sector_overlaps)
{
	static const char *const offs[] = { "0", "0x1000", "0x8000", "0x8fff" };
	char csv[64];

	for (size_t i = 0; i < 4; i++) {
		snprintf(csv, sizeof(csv), "a, data, fat, %s, 4K\n", offs[i]);
		cr_expect_eq(parse(csv), ESPIMG_EFORMAT, "%s accepted", offs[i]);
		cr_expect_not_null(fx_diag_find(D, "ptable.overlap",
						ESPIMG_SEV_ERROR), "%s", offs[i]);
	}
	ok("a, data, fat, 0x9000, 4K\n");
	/* Also when it is not the first row. */
	bad("a, data, fat, , 4K\nb, data, fat, 0x8000, 4K\n", "ptable.overlap");
}

Test(layout, table_offset_moves_the_allocation)
{
	O.table_offset = 0x10000;
	ok("n, data, nvs, , 16K\nf, app, factory, , 1M\n");
	expect_part(0, 1, 2, 0x11000, 0x4000);
	expect_part(1, 0, 0, 0x20000, 0x100000);
	bad("n, data, nvs, 0x9000, 16K\n", "ptable.overlap");
}

Test(layout, unaligned_table_offset_is_accepted)
{
	O.table_offset = 0x8001;
	valid("n, data, nvs, , 16K\n");
	cr_expect_eq(part(0)->offset, 0xA000);
}

Test(layout, every_bad_line_is_reported)
{
	const espimg_diag *d1, *d2;

	cr_assert_eq(parse("a, data, fat, , xx\n# c\n\nb, bogus, fat, , 4K\n"
			   "c, data, fat, , 4K\n"),
		     ESPIMG_EFORMAT);
	cr_assert_eq(espimg_diag_errors(D), 2, "%s", diags());
	d1 = error("ptable.number");
	d2 = error("ptable.keyword");
	cr_expect_eq(d1->line, 1);
	cr_expect_eq(d1->column, 17);
	cr_expect_eq(d2->line, 4);
	cr_expect_eq(d2->column, 4);
	cr_expect_str_eq(d1->file, "t.csv");
}

Test(layout, every_overlap_is_reported)
{
	bad("a, data, fat, 0x20000, 0x10000\n"
	    "b, data, fat, 0x28000, 4K\n"
	    "c, data, fat, 0x10000, 4K\n",
	    "ptable.overlap");
	cr_expect_eq(espimg_diag_errors(D), 2, "%s", diags());
	cr_expect_eq(error("ptable.order")->line, 3);
}

Test(layout, allocation_past_4gib_is_an_error)
{
	bad("a, data, fat, 0xFFFFF000, 0x1000\nb, data, fat, , 4K\n",
	    "ptable.range");
}

/* ------------------------------------------------------------ bootloader */

static const char boot_csv[] =
	"bootloader, bootloader, primary, N/A, N/A\n"
	"partition_table, partition_table, primary, N/A, N/A\n"
	"nvs, data, nvs, , 0x6000\n"
	"bl_ota, bootloader, ota, , \n"
	"pt_ota, partition_table, ota, , \n"
	"recovery, bootloader, recovery, N/A, N/A\n"
	"factory, app, factory, , 1M\n";

Test(boot, rows_take_offsets_and_sizes_from_the_options)
{
	O.primary_bootloader_offset = 0x1000;
	O.recovery_bootloader_offset = 0x200000;
	valid(boot_csv);
	cr_assert_eq(T->count, 7);
	expect_part(0, 2, 0, 0x1000, 0x7000);
	expect_part(1, 3, 0, 0x8000, 0x1000);
	expect_part(2, 1, 2, 0x9000, 0x6000);
	expect_part(3, 2, 1, 0xF000, 0x7000);
	expect_part(4, 3, 1, 0x16000, 0x1000);
	expect_part(5, 2, 2, 0x200000, 0x7000);
	expect_part(6, 0, 0, 0x210000, 0x100000);
	cr_expect(part(0)->source & ESPIMG_PSRC_DERIVED);
	cr_expect_eq(espimg_diag_count(D), 0, "%s", diags());
}

Test(boot, other_table_offsets)
{
	O.primary_bootloader_offset = 0x2000;
	O.table_offset = 0x10000;
	ok("b, bootloader, primary, , \np, partition_table, primary, , \n"
	   "o, bootloader, ota, , \n");
	expect_part(0, 2, 0, 0x2000, 0xE000);
	expect_part(1, 3, 0, 0x10000, 0x1000);
	expect_part(2, 2, 1, 0x11000, 0xE000);
	O.primary_bootloader_offset = 0;
	ok("b, bootloader, primary, , \n");
	expect_part(0, 2, 0, 0, 0x10000);
}

Test(boot, missing_options_are_errors)
{
	bad("b, bootloader, primary, N/A, N/A\n", "ptable.bootloader");
	bad("b, bootloader, ota, , \n", "ptable.bootloader");
	bad("b, bootloader, 0x05, , \n", "ptable.bootloader");
	O.primary_bootloader_offset = 0x1000;
	bad("r, bootloader, recovery, N/A, N/A\n", "ptable.bootloader");
	/* partition_table rows need no option. */
	O.primary_bootloader_offset = -1;
	ok("p, partition_table, primary, N/A, N/A\np2, partition_table, ota, , \n");
	expect_part(0, 3, 0, 0x8000, 0x1000);
	expect_part(1, 3, 1, 0x9000, 0x1000);
}

Test(boot, offset_and_size_text_is_ignored)
{
	O.primary_bootloader_offset = 0x1000;
	ok("b, bootloader, primary, whatever, 1.5M\n"
	   "o, bootloader, ota, 0x10000, junk\n"
	   "p, partition_table, ota, , 12345\n");
	expect_part(0, 2, 0, 0x1000, 0x7000);
	expect_part(1, 2, 1, 0x10000, 0x7000);
	expect_part(2, 3, 1, 0x17000, 0x1000);
	/* The offset of an ota row is still a number. */
	bad("o, bootloader, ota, junk, \n", "ptable.number");
}

/* A size written on a bootloader or partition_table row that differs from
 * the one ESP-IDF 5.5+ derives is not used: ptable.ignored warns, at the
 * size field; the derived size itself gets no warning. */
Test(boot, unused_size_number_warns)
{
	O.primary_bootloader_offset = 0x1000;
	ok("p, partition_table, ota, , 12345\nb, bootloader, ota, , 0x1000\n");
	cr_expect_eq(fx_diag_count(D, "ptable.ignored", ESPIMG_SEV_WARNING), 2,
		     "%s", diags());
	cr_expect_eq(warning("ptable.ignored")->column, 28);
	/* The size that is used anyway: no warning. */
	ok("p, partition_table, ota, , 4K\nb, bootloader, ota, , 0x7000\n");
	cr_expect_null(fx_diag_find(D, "ptable.ignored", -1));
}

Test(boot, primary_bootloader_must_be_below_the_table)
{
	O.primary_bootloader_offset = 0x8000;
	cr_expect_eq(parse("a, data, fat, , 4K\n"), ESPIMG_EFORMAT);
	error("ptable.options");
	O.primary_bootloader_offset = 0x9000;
	cr_expect_eq(parse(""), ESPIMG_EFORMAT);
	error("ptable.options");
	O.primary_bootloader_offset = 0x7FFF;
	ok("a, data, fat, , 4K\n");
}

/* The reference's overlap check sorts every row, primary rows included
 * (they are only exempt from the below-table-end check): two primary
 * bootloader rows at 0x1000 overlap, as does a primary bootloader row that
 * reaches over an app. */
Test(boot, primary_rows_take_part_in_the_overlap_check)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];

	O.primary_bootloader_offset = 0x1000;
	invalid("b1, bootloader, primary, , \nb2, bootloader, primary, , \n",
		"ptable.overlap");
	/* Decoding: a primary bootloader row reaching into an app. */
	memset(bin, 0xFF, sizeof(bin));
	put_row(bin, 2, 0, 0x1000, 0x100000, "bootloader", 0);
	put_row(bin + 32, 0, 0, 0x10000, 0x100000, "factory", 0);
	ok_n(bin, sizeof(bin));
	cr_expect_eq(verify(), ESPIMG_EFORMAT, "%s", diags());
	error("ptable.overlap");
}

/* ------------------------------------------------------------ verify */

Test(verify, offset_alignment)
{
	invalid("a, app, factory, 0x18000, 64K\n", "ptable.align");
	valid("a, app, factory, 0x20000, 64K\n");
	invalid("d, data, fat, 0x9800, 4K\n", "ptable.align");
	invalid("c, 0x40, 0, 0x9100, 4K\n", "ptable.align");
	/* With verification off the same table passes. */
	O.verify = false;
	valid("a, app, factory, 0x18000, 64K\n");
}

Test(verify, app_size_alignment)
{
	const espimg_diag *d = invalid("a, app, factory, , 0x1800\n",
				       "ptable.align");

	cr_expect_eq(d->column, 20);
	valid("a, app, factory, , 0x1000\n");
	O.secure = 1;
	invalid("a, app, factory, , 0x1000\n", "ptable.align");
	invalid("a, app, factory, , 0x18000\n", "ptable.align");
	valid("a, app, factory, , 0x20000\n");
	O.secure = 2;
	valid("a, app, factory, , 0x1000\n");
	invalid("a, app, factory, , 0x1800\n", "ptable.align");
}

Test(verify, data_sizes_are_free)
{
	valid("d, data, fat, , 0x123\ne, data, spiffs, , 1\nz, data, fat, , 0\n"
	      "c, 0x40, 0, , 7\n");
	O.secure = 1;
	valid("d, data, fat, , 0x123\n");
}

Test(verify, readonly_rules)
{
	invalid("o, data, ota, , 0x2000, readonly\n", "ptable.readonly");
	invalid("c, data, coredump, , 64K, readonly\n", "ptable.readonly");
	invalid("c, data, 3, , 64K, encrypted:readonly\n", "ptable.readonly");
	valid("n, data, nvs, , 16K, readonly\n");
	valid("a, app, factory, , 64K, readonly\n");
	valid("f, data, fat, , 64K, readonly\n");
	valid("o, data, ota, , 0x2000, encrypted\n");
}

Test(verify, small_nvs_must_be_readonly)
{
	const espimg_diag *d = invalid("n, data, nvs, , 0x2000\n",
				       "ptable.nvs-size");

	cr_expect_eq(d->line, 1);
	invalid("n, data, 2, , 0x1000, encrypted\n", "ptable.nvs-size");
	invalid("n, data, nvs, , 0\n", "ptable.nvs-size");
	valid("n, data, nvs, , 0x1000, readonly\n");
	valid("n, data, nvs, , 0x3000\n");
	/* nvs_keys is not NVS for this rule. */
	valid("k, data, nvs_keys, , 0x1000\n");
}

Test(verify, duplicate_names)
{
	const espimg_diag *d = invalid("a, data, fat, , 4K\nb, data, fat, , 4K\n"
				       "a, data, fat, , 4K\n",
				       "ptable.duplicate-name");

	cr_expect_eq(d->line, 3);
	invalid(", data, fat, , 4K\n, data, fat, , 4K\n",
		"ptable.duplicate-name");
	/* Names differ by case: fine. */
	valid("a, data, fat, , 4K\nA, data, fat, , 4K\n");
}

Test(verify, duplicate_names_in_a_binary)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];

	/* Short names: an error, as for CSV. */
	O.verify = false;
	ok("a, data, fat, , 4K\na, data, fat, , 4K\n");
	encode(bin);
	O.verify = true;
	ok_n(bin, sizeof(bin));
	cr_expect(T->from_binary);
	cr_expect_eq(verify(), ESPIMG_EFORMAT, "%s", diags());
	cr_expect_eq(error("ptable.duplicate-name")->offset, 32 + 12);
	/* Full 16-byte names may be longer names we cut: only a warning. */
	ok("abcdefghijklmnopX, data, fat, , 4K\n"
	   "abcdefghijklmnopY, data, fat, , 4K\n");
	encode(bin);
	ok_n(bin, sizeof(bin));
	cr_expect_str_eq(part(1)->name, "abcdefghijklmnop");
	cr_expect_eq(verify(), 0, "%s", diags());
	warning("ptable.duplicate-name");
}

Test(verify, names_equal_in_16_bytes_warn)
{
	valid("abcdefghijklmnopX, data, fat, , 4K\n"
	      "abcdefghijklmnopY, data, fat, , 4K\n");
	warning("ptable.duplicate-name");
	cr_expect_eq(warning("ptable.duplicate-name")->line, 2);
}

Test(verify, otadata_rules)
{
	const espimg_diag *d;

	valid("o, data, ota, , 0x2000\n");
	d = invalid("o, data, ota, , 0x2000\np, data, ota, , 0x2000\n",
		    "ptable.otadata");
	cr_expect_eq(d->line, 2);
	invalid("o, data, ota, , 0x1000\n", "ptable.otadata");
	invalid("o, data, ota, , 0x4000\n", "ptable.otadata");
	/* However the subtype is written. */
	invalid("o, data, 0, , 0x1000\n", "ptable.otadata");
	invalid("o, 1, 0x0, , 8K\np, data, ota, , 8K\n", "ptable.otadata");
	/* Only type data. */
	valid("o, 0x40, 0, , 0x1000\np, 0x40, 0, , 0x1000\n");
}

Test(verify, tee_otadata_rules)
{
	valid("t, data, tee_ota, , 0x2000\no, data, ota, , 0x2000\n");
	invalid("t, data, tee_ota, , 0x2000\nu, data, tee_ota, , 0x2000\n",
		"ptable.otadata");
	invalid("t, data, tee_ota, , 0x3000\n", "ptable.otadata");
	invalid("t, data, 0x90, , 0x1000\n", "ptable.otadata");
}

Test(verify, flash_size)
{
	O.flash_size = 4u << 20;
	valid("d, data, fat, 0x3FF000, 0x1000\n");
	invalid("d, data, fat, 0x3FF000, 0x1001\n", "ptable.flash-size");
	/* The entry with the highest offset decides, not the largest end. */
	valid("big, data, fat, 0x9000, 0x3F7000\nz, data, fat, 0x400000, 0\n");
	/* Checked with verification off too. */
	O.verify = false;
	invalid("d, data, fat, 0x3FF000, 0x1001\n", "ptable.flash-size");
	valid("x, app, factory, 0x18000, 0x100\nd, data, fat, 0x3FF800, 0x800\n");
}

Test(verify, empty_table_is_valid)
{
	O.flash_size = 1u << 20;
	valid("");
	valid("# nothing\n");
}

Test(verify, name_matching_a_type_warns)
{
	valid("data, app, factory, , 64K\n");
	warning("ptable.name-type");
	valid("app, app, factory, , 64K\n");
	cr_expect_null(fx_diag_find(D, "ptable.name-type", -1));
	valid("bootloader, data, fat, , 4K\n");
	warning("ptable.name-type");
	/* Matched case-sensitively. */
	valid("Data, app, factory, , 64K\n");
	cr_expect_null(fx_diag_find(D, "ptable.name-type", -1));
}

Test(verify, name_matching_a_subtype_warns)
{
	static const struct {
		const char *csv;
		bool warns;
	} cases[] = {
		{ "nvs, data, fat, , 16K\n", true },
		{ "nvs, data, nvs, , 16K\n", false },
		{ "ota_3, app, ota_1, , 64K\n", true },
		{ "ota_3, app, ota_3, , 64K\n", false },
		{ "primary, data, fat, , 4K\n", true },
		{ "littlefs, data, spiffs, , 4K\n", true },
		{ "factory, app, factory, , 64K\n", false },
		{ "ota, data, ota, , 8K\n", false },
		{ "ota, app, ota_0, , 64K\n", true },
		{ "test, app, 0x20, , 64K\n", false },
		{ "phy, 0x40, 1, , 4K\n", true },
		{ "myapp, app, factory, , 64K\n", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		valid(cases[i].csv);
		cr_expect_eq(fx_diag_find(D, "ptable.name-subtype",
					  ESPIMG_SEV_WARNING) != NULL,
			     cases[i].warns, "%s", cases[i].csv);
	}
}

Test(verify, entry_limit_with_md5)
{
	char *csv = many(94);

	valid(csv);
	free(csv);
	csv = many(95);
	invalid(csv, "ptable.too-many");
	{
		uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];
		cr_expect_eq(espimg_ptable_to_binary(T, &O, bin, D),
			     ESPIMG_ETOOBIG);
	}
	free(csv);
}

Test(verify, entry_limit_without_md5)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];
	char *csv = many(95);

	O.md5 = false;
	valid(csv);
	encode(bin);
	/* The last row is left for the end marker. */
	for (size_t i = 95 * 32; i < sizeof(bin); i++)
		cr_assert_eq(bin[i], 0xFF);
	free(csv);
	csv = many(96);
	invalid(csv, "ptable.too-many");
	cr_expect_eq(espimg_ptable_to_binary(T, &O, bin, D), ESPIMG_ETOOBIG);
	/* Not a verification rule: it fires with --no-verify too. */
	O.verify = false;
	invalid(csv, "ptable.too-many");
	free(csv);
}

Test(verify, overlaps_in_a_binary)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];

	memset(bin, 0xFF, sizeof(bin));
	put_row(bin, 1, 2, 0x9000, 0x6000, "nvs", 0);
	put_row(bin + 32, 1, 1, 0xE000, 0x1000, "phy", 0);
	ok_n(bin, sizeof(bin));
	cr_expect_eq(verify(), ESPIMG_EFORMAT);
	cr_expect_eq(error("ptable.overlap")->offset, 32 + 4);
	/* Below the end of the table sector. */
	memset(bin, 0xFF, sizeof(bin));
	put_row(bin, 1, 2, 0x8000, 0x6000, "nvs", 0);
	ok_n(bin, sizeof(bin));
	cr_expect_eq(verify(), ESPIMG_EFORMAT);
	error("ptable.overlap");
	/* Out of order but disjoint is fine when decoding. */
	memset(bin, 0xFF, sizeof(bin));
	put_row(bin, 1, 1, 0xF000, 0x1000, "phy", 0);
	put_row(bin + 32, 1, 2, 0x9000, 0x6000, "nvs", 0);
	ok_n(bin, sizeof(bin));
	cr_expect_eq(verify(), 0, "%s", diags());
}

/* ------------------------------------------------------------ idf gates */

Test(idf, readonly_needs_5_2)
{
	O.idf_version = ESPIMG_IDF_VERSION(5, 1, 6);
	invalid("n, data, nvs, , 16K, readonly\n", "ptable.idf-version");
	O.idf_version = ESPIMG_IDF_VERSION(5, 2, 0);
	valid("n, data, nvs, , 16K, readonly\n");
}

Test(idf, bootloader_types)
{
	O.primary_bootloader_offset = 0x1000;
	O.idf_version = ESPIMG_IDF_VERSION(5, 3, 0);
	invalid("o, bootloader, ota, , \n", "ptable.idf-version");
	invalid("o, partition_table, ota, , \n", "ptable.idf-version");
	O.idf_version = ESPIMG_IDF_VERSION(5, 4, 0);
	valid("o, bootloader, ota, , \np, partition_table, ota, , \n");
	invalid("b, bootloader, primary, , \n", "ptable.idf-version");
	invalid("p, partition_table, primary, , \n", "ptable.idf-version");
	O.recovery_bootloader_offset = 0x100000;
	invalid("r, bootloader, recovery, , \n", "ptable.idf-version");
	O.idf_version = ESPIMG_IDF_VERSION(5, 5, 0);
	valid("b, bootloader, primary, , \np, partition_table, primary, , \n"
	      "r, bootloader, recovery, , \n");
}

Test(idf, tee_keywords_need_5_5)
{
	O.idf_version = ESPIMG_IDF_VERSION(5, 4, 1);
	invalid("t, app, tee_0, , 64K\n", "ptable.idf-version");
	invalid("t, app, tee_1, , 64K\n", "ptable.idf-version");
	invalid("t, data, tee_ota, , 8K\n", "ptable.idf-version");
	/* The numbers were always accepted. */
	valid("t, app, 0x30, , 64K\nu, data, 0x90, , 8K\n");
	O.idf_version = ESPIMG_IDF_VERSION(5, 5, 0);
	valid("t, app, tee_0, , 64K\n");
}

Test(idf, littlefs_keyword_needs_5_0_7_or_5_1_4)
{
	static const struct {
		unsigned version;
		bool known;
	} cases[] = {
		{ ESPIMG_IDF_VERSION(4, 4, 8), false },
		{ ESPIMG_IDF_VERSION(5, 0, 6), false },
		{ ESPIMG_IDF_VERSION(5, 0, 7), true },
		{ ESPIMG_IDF_VERSION(5, 1, 0), false },
		{ ESPIMG_IDF_VERSION(5, 1, 3), false },
		{ ESPIMG_IDF_VERSION(5, 1, 4), true },
		{ ESPIMG_IDF_VERSION(5, 2, 0), true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		O.idf_version = cases[i].version;
		ok("l, data, littlefs, , 64K\n");
		cr_expect_eq(verify() == 0, cases[i].known, "version %u\n%s",
			     cases[i].version, diags());
		/* The number was always accepted. */
		valid("l, data, 0x83, , 64K\n");
	}
}

Test(idf, empty_subtype_needs_4_4)
{
	O.idf_version = ESPIMG_IDF_VERSION(4, 3, 0);
	invalid("d, data, , , 4K\n", "ptable.idf-version");
	valid("d, data, undefined, , 4K\n");
	O.idf_version = ESPIMG_IDF_VERSION(4, 4, 0);
	valid("d, data, , , 4K\n");
}

Test(idf, older_rules_do_not_apply)
{
	O.idf_version = ESPIMG_IDF_VERSION(5, 4, 0);
	valid("n, data, nvs, , 0x1000\n"); /* NVS size rule is v5.5 */
	O.idf_version = ESPIMG_IDF_VERSION(5, 2, 0);
	valid("a, app, factory, , 0x1800\n"); /* app size since v5.3 */
	O.secure = 1;
	invalid("a, app, factory, , 0x1800\n", "ptable.align");
	O.secure = 0;
	O.idf_version = ESPIMG_IDF_VERSION(5, 3, 0);
	invalid("a, app, factory, , 0x1800\n", "ptable.align");
}

Test(idf, newest_has_no_gates)
{
	O.primary_bootloader_offset = 0x1000;
	cr_expect_eq(O.idf_version, ESPIMG_IDF_NEWEST);
	valid("b, bootloader, primary, , \nt, app, tee_0, , 64K\n"
	      "l, data, littlefs, , 64K, readonly\nd, data, , , 4K\n");
}

Test(idf, version_parse)
{
	static const struct {
		const char *text;
		unsigned value; /* 0: invalid */
	} cases[] = {
		{ "5.1", 50100 },    { "v5.1.4", 50104 }, { "4.4.8", 40408 },
		{ "5.5", 50500 },    { "6.1.0", 60100 },  { "5", 0 },
		{ "5.x", 0 },        { "5.1.2.3", 0 },    { "", 0 },
		{ "5.", 0 },         { ".5", 0 },         { "5..1", 0 },
		{ "100.1", 0 },      { "5.1 ", 0 },       { " 5.1", 0 },
		{ "v", 0 },          { "5.1-rc1", 0 },    { "-5.1", 0 },
	};
	unsigned v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		int r = espimg_idf_version_parse(cases[i].text, &v);
		if (cases[i].value) {
			cr_expect_eq(r, 0, "'%s' refused", cases[i].text);
			cr_expect_eq(v, cases[i].value, "'%s' gave %u",
				     cases[i].text, v);
		} else {
			cr_expect_eq(r, ESPIMG_EINVAL, "'%s' accepted",
				     cases[i].text);
		}
	}
	cr_expect_eq(ESPIMG_IDF_VERSION(5, 1, 4), 50104);
}

/* ------------------------------------------------------------ extras */

static int extra(const char *spec)
{
	return espimg_ptable_add_extra_subtype(&O, spec, D);
}

Test(extra, value_is_always_hex)
{
	cr_assert_eq(extra("data,myfs,40"), 0, "%s", diags());
	cr_assert_eq(extra("app,mine,0x41"), 0, "%s", diags());
	ok("a, data, myfs, , 4K\nb, app, mine, , 64K\nc, data, MYFS, , 4K\n");
	cr_expect_eq(part(0)->subtype, 0x40);
	cr_expect_eq(part(1)->subtype, 0x41);
	cr_expect_eq(part(2)->subtype, 0x40);
	cr_expect(part(0)->source & ESPIMG_PSRC_SUBTYPE_NAMED);
	/* The name belongs to its type only. */
	bad("a, app, myfs, , 64K\n", "ptable.keyword");
}

Test(extra, pieces_are_trimmed_and_extra_pieces_ignored)
{
	cr_assert_eq(extra(" data , myfs , 40 "), 0, "%s", diags());
	cr_assert_eq(extra("data,other,0x42,junk"), 0, "%s", diags());
	cr_expect_str_eq(O.extra[0].name, "myfs");
	cr_expect_eq(O.extra[0].type, 1);
	cr_expect_eq(O.extra[0].value, 0x40);
	cr_expect_eq(O.n_extra, 2);
	ok("a, data, other, , 4K\n");
	cr_expect_eq(part(0)->subtype, 0x42);
}

Test(extra, bad_specs)
{
	static const char *const specs[] = {
		"foo,myfs,40",   /* unknown type */
		"0x01,myfs,40",  /* types by name only */
		"Data,myfs,40",  /* type names are case-sensitive */
		"data,myfs",     /* fewer than three pieces */
		"data",          /* ditto */
		"",              /* ditto */
		"data,myfs,zz",  /* not hex */
		"data,myfs,",    /* empty value */
		"data,myfs,2",   /* duplicate of nvs */
		"app,mine,10",   /* duplicate of ota_0 */
		"bootloader,x,2" /* duplicate of recovery */
	};

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		espimg_diag_clear(D);
		cr_expect_eq(extra(specs[i]), ESPIMG_EINVAL, "'%s' accepted",
			     specs[i]);
		cr_expect_not_null(fx_diag_find(D, "ptable.extra-subtype",
						ESPIMG_SEV_ERROR), "'%s'", specs[i]);
	}
	cr_expect_eq(O.n_extra, 0);
}

Test(extra, duplicate_of_an_earlier_extra)
{
	cr_assert_eq(extra("data,myfs,40"), 0);
	cr_expect_eq(extra("data,yourfs,40"), ESPIMG_EINVAL);
	/* Same value for another type is fine. */
	cr_expect_eq(extra("app,myapp,40"), 0, "%s", diags());
}

Test(extra, builtin_name_is_overridden)
{
	cr_assert_eq(extra("data,nvs,0x50"), 0, "%s", diags());
	ok("n, data, nvs, , 16K\n");
	cr_expect_eq(part(0)->subtype, 0x50);
	cr_expect_str_eq(espimg_ptable_subtype_name(&O, 1, 0x50), "nvs");
	cr_expect_null(espimg_ptable_subtype_name(&O, 1, 0x02));
	cr_expect_str_eq(espimg_ptable_subtype_name(NULL, 1, 0x02), "nvs");
	/* The numeric value still works. */
	ok("n, data, 2, , 16K\n");
	cr_expect_eq(part(0)->subtype, 2);
}

Test(extra, uppercase_names_never_match)
{
	cr_assert_eq(extra("data,MyFs,40"), 0, "%s", diags());
	warning("ptable.extra-subtype");
	bad("a, data, MyFs, , 4K\n", "ptable.keyword");
	bad("a, data, myfs, , 4K\n", "ptable.keyword");
	cr_expect_str_eq(espimg_ptable_subtype_name(&O, 1, 0x40), "MyFs");
}

Test(extra, names_ending_in_k_or_m_are_mangled)
{
	cr_assert_eq(extra("data,fsm,40"), 0, "%s", diags());
	warning("ptable.extra-subtype");
	espimg_diag_clear(D);
	cr_assert_eq(extra("data,blk,41"), 0, "%s", diags());
	warning("ptable.extra-subtype");
	/* A usable name gets no warning. */
	espimg_diag_clear(D);
	cr_assert_eq(extra("data,myfs,42"), 0, "%s", diags());
	cr_expect_eq(espimg_diag_count(D), 0, "%s", diags());
	bad("a, data, fsm, , 4K\n", "ptable.keyword");
	bad("a, data, blk, , 4K\n", "ptable.keyword");
}

Test(extra, names_rendered_and_warned)
{
	char *csv;
	size_t len;

	cr_assert_eq(extra("data,myfs,40"), 0);
	valid("a, data, myfs, , 4K\nmyfs, data, fat, , 4K\n");
	warning("ptable.name-subtype");
	cr_assert_eq(espimg_ptable_to_csv(T, &O, &csv, &len), 0);
	cr_expect(strstr(csv, "\na,data,myfs,0x9000,4K,\n") != NULL, "%s", csv);
	free(csv);
}

Test(extra, bootloader_and_table_types_take_extras)
{
	cr_expect_eq(extra("partition_table,backup,5"), 0, "%s", diags());
	cr_expect_eq(extra("bootloader,spare,6"), 0, "%s", diags());
	ok("p, partition_table, backup, , \n");
	expect_part(0, 3, 5, 0x9000, 0x1000);
}

/* Deliberate difference: custom subtype specs are checked when given.  The
 * reference checks nothing until a CSV row uses the name, so a value over
 * 0xff, an empty name or one over 63 bytes only fail there if used. */
Test(extra, specs_checked_when_given)
{
	char spec[96];

	cr_expect_eq(extra("app,foo,100"), ESPIMG_EINVAL);
	cr_expect_eq(extra("data,,40"), ESPIMG_EINVAL);
	snprintf(spec, sizeof(spec), "data,%.70s,41",
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	cr_expect_eq(extra(spec), ESPIMG_EINVAL);
}

/* Known difference, documented: the validation rules key on the subtype
 * value (as the bootloader does), not on the name, so remapping a built-in
 * name with --extra-partition-subtypes does not move a rule.  The
 * reference keys them on its name table: with data,nvs,0x50 it accepts a
 * small "data, 2" row and rejects a small "data, nvs" one. */
Test(extra, rules_key_on_values_not_remapped_names)
{
	cr_assert_eq(extra("data,nvs,0x50"), 0);
	invalid("a, data, 2, , 0x1000\n", "ptable.nvs-size");
	valid("a, data, nvs, , 0x1000\n");
}

/* ------------------------------------------------------------ binary */

/* "nvs, data, nvs, 0x9000, 0x4000" and "factory, app, factory, 0x10000,
 * 1M, encrypted", written out byte by byte (section 1). */
static const uint8_t two_entries[64] = {
	0xAA, 0x50, 0x01, 0x02, 0x00, 0x90, 0x00, 0x00, /* data/nvs 0x9000 */
	0x00, 0x40, 0x00, 0x00, 'n',  'v',  's',  0x00, /* 0x4000 "nvs" */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* flags 0 */
	0xAA, 0x50, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, /* app/factory 0x10000 */
	0x00, 0x00, 0x10, 0x00, 'f',  'a',  'c',  't',  /* 0x100000 */
	'o',  'r',  'y',  0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* encrypted */
};

/* MD5 of those 64 bytes (hashlib.md5, from the reference's output). */
static const uint8_t two_entries_md5[16] = {
	0x6a, 0xe9, 0x69, 0xba, 0x78, 0x57, 0x29, 0x58,
	0x32, 0x05, 0x1f, 0x40, 0x2a, 0x53, 0xec, 0x40,
};

static const char two_csv[] = "nvs, data, nvs, 0x9000, 0x4000\n"
			      "factory, app, factory, 0x10000, 1M, encrypted\n";

Test(bin, exact_bytes_with_md5)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE], want[ESPIMG_PTABLE_BIN_SIZE];

	valid(two_csv);
	encode(bin);
	memset(want, 0xFF, sizeof(want));
	memcpy(want, two_entries, 64);
	want[64] = 0xEB;
	want[65] = 0xEB;
	memcpy(want + 80, two_entries_md5, 16);
	expect_bytes(bin, want, sizeof(want));
	/* And the digest is what OpenSSL says. */
	put_md5_row(want + 64, two_entries, 64);
	expect_bytes(bin, want, sizeof(want));
}

Test(bin, exact_bytes_without_md5)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE], want[ESPIMG_PTABLE_BIN_SIZE];

	O.md5 = false;
	valid(two_csv);
	encode(bin);
	memset(want, 0xFF, sizeof(want));
	memcpy(want, two_entries, 64);
	expect_bytes(bin, want, sizeof(want));
}

Test(bin, empty_table_is_its_md5_row)
{
	static const uint8_t empty_md5[16] = {
		0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
		0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e,
	};
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE], want[ESPIMG_PTABLE_BIN_SIZE];

	valid("# no partitions\n");
	encode(bin);
	memset(want, 0xFF, sizeof(want));
	want[0] = 0xEB;
	want[1] = 0xEB;
	memcpy(want + 16, empty_md5, 16);
	expect_bytes(bin, want, sizeof(want));
	/* It reads back as an empty binary table. */
	cr_expect(espimg_ptable_is_binary(bin, sizeof(bin)));
	ok_n(bin, sizeof(bin));
	cr_expect(T->from_binary);
	cr_expect(T->has_md5);
	cr_expect_eq(T->count, 0);
	/* Without MD5 it is all 0xFF. */
	O.md5 = false;
	valid("");
	encode(bin);
	memset(want, 0xFF, sizeof(want));
	expect_bytes(bin, want, sizeof(want));
}

Test(bin, long_name_fills_all_16_bytes)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];

	valid("abcdefghijklmnop, data, fat, , 4K, readonly\n");
	encode(bin);
	cr_expect(!memcmp(bin + 12, "abcdefghijklmnop", 16));
	cr_expect_eq(bin[28], 0x02);
	ok_n(bin, sizeof(bin));
	cr_expect_str_eq(part(0)->name, "abcdefghijklmnop");
	cr_expect_eq(part(0)->flags, ESPIMG_PFLAG_READONLY);
}

Test(bin, round_trip_gives_the_same_model)
{
	static const char csv[] =
		"nvs, data, nvs, , 0x6000\n"
		"otadata, data, ota, , 0x2000, encrypted\n"
		"phy_init, data, phy, , 0x1000, readonly\n"
		"ota_0, app, ota_0, , 1M, encrypted\n"
		"ota_1, app, ota_1, , 1M\n"
		"custom, 0x40, 0x99, , 0x123, encrypted:readonly\n"
		", data, undefined, , 0\n"
		"\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, data, fat, , 64K\n"
		"exactly16bytes!!, data, spiffs, , 1M\n";
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE], again[ESPIMG_PTABLE_BIN_SIZE];
	espimg_ptable *csv_table;

	valid(csv);
	encode(bin);
	csv_table = T;
	T = NULL;
	ok_n(bin, sizeof(bin));
	cr_expect(T->from_binary);
	cr_expect(T->has_md5);
	cr_assert_eq(T->count, csv_table->count);
	for (size_t i = 0; i < T->count; i++) {
		const espimg_partition *a = &csv_table->parts[i], *b = &T->parts[i];
		cr_expect_str_eq(b->name, a->name);
		cr_expect_eq(b->type, a->type);
		cr_expect_eq(b->subtype, a->subtype);
		cr_expect_eq(b->offset, a->offset);
		cr_expect_eq(b->size, a->size);
		cr_expect_eq(b->flags, a->flags);
		cr_expect_eq(b->line, 0);
		cr_expect_eq(b->bin_offset, (int64_t)i * 32);
	}
	espimg_ptable_free(csv_table);
	cr_expect_eq(verify(), 0, "%s", diags());
	encode(again);
	expect_bytes(again, bin, sizeof(bin));
	cr_expect_eq(espimg_diag_count(D), 0, "%s", diags());
}

Test(bin, md5_mismatch)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];
	const espimg_diag *d;

	valid(two_csv);
	encode(bin);
	bin[64 + 16 + 5] ^= 1;
	d = bad_n(bin, sizeof(bin), "ptable.md5");
	cr_expect_eq(d->offset, 64 + 16);
	cr_expect_eq(d->line, 0);
	/* A changed entry is caught the same way. */
	bin[64 + 16 + 5] ^= 1;
	bin[8] ^= 0x10;
	bad_n(bin, sizeof(bin), "ptable.md5");
}

Test(bin, md5_row_with_md5_off_is_a_bad_entry)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];
	const espimg_diag *d;

	valid(two_csv);
	encode(bin);
	O.md5 = false;
	d = bad_n(bin, sizeof(bin), "ptable.magic");
	cr_expect_eq(d->offset, 64);
}

Test(bin, table_without_md5_is_read_with_md5_on)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];

	O.md5 = false;
	valid(two_csv);
	encode(bin);
	O.md5 = true;
	ok_n(bin, sizeof(bin));
	cr_expect_eq(T->count, 2);
	cr_expect(!T->has_md5);
}

Test(bin, rows_after_the_md5_row_are_read)
{
	uint8_t bin[5 * 32], entries[64];

	memset(bin, 0xFF, sizeof(bin));
	put_row(entries, 1, 2, 0x9000, 0x6000, "nvs", 0);
	put_row(entries + 32, 0, 0, 0x10000, 0x100000, "factory", 0);
	memcpy(bin, entries, 32);
	put_md5_row(bin + 32, entries, 32);
	memcpy(bin + 64, entries + 32, 32);
	ok_n(bin, sizeof(bin));
	cr_expect_eq(T->count, 2);
	cr_expect(T->has_md5);
	cr_expect_str_eq(part(1)->name, "factory");
	/* A second MD5 row hashes the entries only, not the first MD5 row. */
	put_md5_row(bin + 96, entries, 64);
	ok_n(bin, sizeof(bin));
	cr_expect_eq(T->count, 2);
}

Test(bin, bad_magic_is_located)
{
	uint8_t bin[3 * 32];
	const espimg_diag *d;

	memset(bin, 0xFF, sizeof(bin));
	put_row(bin, 1, 2, 0x9000, 0x6000, "nvs", 0);
	put_row(bin + 32, 0, 0, 0x10000, 0x100000, "factory", 0);
	bin[33] = 0x51;
	d = bad_n(bin, sizeof(bin), "ptable.magic");
	cr_expect_eq(d->offset, 32);
	cr_expect_eq(d->line, 0);
	cr_expect_eq(d->severity, ESPIMG_SEV_ERROR);
}

Test(bin, length_must_be_a_multiple_of_32)
{
	uint8_t bin[40];
	const espimg_diag *d;

	memset(bin, 0xFF, sizeof(bin));
	put_row(bin, 1, 2, 0x9000, 0x6000, "nvs", 0);
	d = bad_n(bin, sizeof(bin), "ptable.length");
	cr_expect_eq(d->offset, 32);
	bad_n(bin, 31, "ptable.length");
}

Test(bin, end_marker_is_required)
{
	uint8_t bin[2 * 32];
	const espimg_diag *d;

	put_row(bin, 1, 2, 0x9000, 0x6000, "nvs", 0);
	put_row(bin + 32, 1, 1, 0xF000, 0x1000, "phy", 0);
	d = bad_n(bin, sizeof(bin), "ptable.end-marker");
	cr_expect_eq(d->offset, 64);
	/* A row of 31 0xFF and one other byte is not a marker. */
	uint8_t almost[3 * 32];
	put_row(almost, 1, 2, 0x9000, 0x6000, "nvs", 0);
	memset(almost + 32, 0xFF, 64);
	almost[32 + 31] = 0xFE;
	cr_expect_eq(parse_n(almost, sizeof(almost)), ESPIMG_EFORMAT);
}

Test(bin, bytes_after_the_end_marker_are_ignored)
{
	uint8_t bin[32 + 32 + 7];

	memset(bin, 0xFF, sizeof(bin));
	put_row(bin, 1, 2, 0x9000, 0x6000, "nvs", 0);
	memcpy(bin + 64, "garbage", 7);
	ok_n(bin, sizeof(bin));
	cr_expect_eq(T->count, 1);
	expect_part(0, 1, 2, 0x9000, 0x6000);
}

Test(bin, unknown_flag_bits_warn_and_are_dropped)
{
	uint8_t bin[2 * 32];
	const espimg_diag *d;

	memset(bin, 0xFF, sizeof(bin));
	put_row(bin, 1, 2, 0x9000, 0x6000, "nvs", 0x80000007);
	ok_n(bin, sizeof(bin));
	cr_expect_eq(part(0)->flags, 3);
	d = warning("ptable.unknown-flags");
	cr_expect_eq(d->offset, 28);
}

Test(bin, name_stops_at_the_first_nul)
{
	uint8_t bin[2 * 32];

	memset(bin, 0xFF, sizeof(bin));
	put_row(bin, 1, 2, 0x9000, 0x6000, "nvs", 0);
	memcpy(bin + 12 + 4, "\xFF\xFEjunk", 6); /* after the NUL */
	ok_n(bin, sizeof(bin));
	cr_expect_str_eq(part(0)->name, "nvs");
	/* An empty name. */
	memset(bin + 12, 0, 16);
	ok_n(bin, sizeof(bin));
	cr_expect_str_eq(part(0)->name, "");
}

Test(bin, invalid_utf8_name_is_an_error)
{
	uint8_t bin[2 * 32];
	const espimg_diag *d;

	memset(bin, 0xFF, sizeof(bin));
	put_row(bin, 1, 2, 0x9000, 0x6000, "a\xFF" "b", 0);
	d = bad_n(bin, sizeof(bin), "ptable.name");
	cr_expect_eq(d->offset, 13);
	/* An incomplete character that is not at the 16-byte end. */
	put_row(bin, 1, 2, 0x9000, 0x6000, "ab\xC3", 0);
	bad_n(bin, sizeof(bin), "ptable.name");
}

Test(bin, name_cut_inside_a_character_drops_it)
{
	/* 15 ASCII bytes and 'é' (2 bytes): 17 bytes, cut after C3. */
	static const char csv[] = "abcdefghijklmno\xC3\xA9, data, fat, , 4K\n";
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];
	const espimg_diag *d;

	ok(csv);
	d = warning("ptable.name-cut");
	cr_expect(strstr(d->message, "UTF-8") != NULL, "%s", d->message);
	encode(bin);
	cr_expect_eq(bin[12 + 15], 0xC3);
	ok_n(bin, sizeof(bin));
	cr_expect_str_eq(part(0)->name, "abcdefghijklmno");
	d = warning("ptable.name-cut");
	cr_expect_eq(d->offset, 12 + 15);
	/* Three bytes of a four-byte character (no MD5 row here). */
	memset(bin, 0xFF, sizeof(bin));
	put_row(bin, 1, 0x81, 0x9000, 0x1000, "abcdefghijklm\xF0\x9F\x98", 0);
	ok_n(bin, sizeof(bin));
	cr_expect_str_eq(part(0)->name, "abcdefghijklm");
	warning("ptable.name-cut");
}

Test(bin, is_binary)
{
	uint8_t ff[32], md5row[32];

	memset(ff, 0xFF, sizeof(ff));
	cr_expect(!espimg_ptable_is_binary(ff, sizeof(ff)));
	cr_expect(espimg_ptable_is_binary((const uint8_t *)"\xAA\x50", 2));
	cr_expect(!espimg_ptable_is_binary((const uint8_t *)"\xAA", 1));
	cr_expect(!espimg_ptable_is_binary((const uint8_t *)"\x50\xAA", 2));
	cr_expect(!espimg_ptable_is_binary((const uint8_t *)"", 0));
	cr_expect(!espimg_ptable_is_binary((const uint8_t *)"nvs,", 4));
	put_md5_row(md5row, NULL, 0);
	cr_expect(espimg_ptable_is_binary(md5row, sizeof(md5row)));
	cr_expect(!espimg_ptable_is_binary(md5row, 16));
	md5row[2] = 0;
	cr_expect(!espimg_ptable_is_binary(md5row, sizeof(md5row)));
}

Test(bin, all_ff_is_not_a_binary)
{
	uint8_t ff[ESPIMG_PTABLE_BIN_SIZE];

	memset(ff, 0xFF, sizeof(ff));
	/* It is read as text, and 0xFF is not UTF-8. */
	bad_n(ff, sizeof(ff), "ptable.encoding");
}

/* ------------------------------------------------------------ CSV output */

static char *render(void)
{
	char *text = NULL;
	size_t len = 0;

	cr_assert_eq(espimg_ptable_to_csv(T, &O, &text, &len), 0);
	cr_assert_not_null(text);
	cr_assert_eq(strlen(text), len);
	return text;
}

Test(csvout, exact_text)
{
	char *text;

	O.verify = false;
	ok("nvs, data, nvs, 0x9000, 16K\n"
	   "x, 0x40, 0x99, 0xd000, 1000\n"
	   "f, app, factory, 0x10000, 1M, encrypted:readonly\n"
	   "z, data, fat, 0x110000, 0\n"
	   "r, data, spiffs, 0x110000, 0x2fff, readonly\n"
	   "q, app, 0x99, 0x120000, 2048K\n"
	   "e, app, ota_1, 0x400000, 64K, readonly:encrypted\n");
	text = render();
	cr_expect_str_eq(text,
			 "# ESP-IDF Partition Table\n"
			 "# Name, Type, SubType, Offset, Size, Flags\n"
			 "nvs,data,nvs,0x9000,16K,\n"
			 "x,64,153,0xd000,0x3e8,\n"
			 "f,app,factory,0x10000,1M,encrypted:readonly\n"
			 "z,data,fat,0x110000,0M,\n"
			 "r,data,spiffs,0x110000,0x2fff,readonly\n"
			 "q,app,153,0x120000,2M,\n"
			 "e,app,ota_1,0x400000,64K,encrypted:readonly\n");
	free(text);
}

Test(csvout, empty_table_is_the_header)
{
	char *text;

	ok("");
	text = render();
	cr_expect_str_eq(text, "# ESP-IDF Partition Table\n"
			       "# Name, Type, SubType, Offset, Size, Flags\n");
	free(text);
}

Test(csvout, keywords_in_reference_order)
{
	char *text;

	O.primary_bootloader_offset = 0x1000;
	O.recovery_bootloader_offset = 0x200000;
	ok(boot_csv);
	text = render();
	cr_expect_str_eq(text,
			 "# ESP-IDF Partition Table\n"
			 "# Name, Type, SubType, Offset, Size, Flags\n"
			 "bootloader,bootloader,primary,0x1000,28K,\n"
			 "partition_table,partition_table,primary,0x8000,4K,\n"
			 "nvs,data,nvs,0x9000,24K,\n"
			 "bl_ota,bootloader,ota,0xf000,28K,\n"
			 "pt_ota,partition_table,ota,0x16000,4K,\n"
			 "recovery,bootloader,recovery,0x200000,28K,\n"
			 "factory,app,factory,0x210000,1M,\n");
	free(text);
}

Test(csvout, rendered_text_parses_back)
{
	uint8_t a[ESPIMG_PTABLE_BIN_SIZE], b[ESPIMG_PTABLE_BIN_SIZE];
	char *text;

	valid("n, data, nvs, , 24K\no, data, ota, , 8K\nf, app, factory, , 1M\n"
	      "c, 0x40, 0x99, , 0x123, encrypted\nd, data, , , -0x200000\n");
	encode(a);
	text = render();
	valid(text);
	encode(b);
	expect_bytes(a, b, sizeof(a));
	free(text);
}

/* ------------------------------------------------------------ API */

Test(api, opts_defaults)
{
	cr_expect_eq(O.table_offset, 0x8000);
	cr_expect_eq(O.primary_bootloader_offset, -1);
	cr_expect_eq(O.recovery_bootloader_offset, -1);
	cr_expect_eq(O.secure, 0);
	cr_expect(O.md5);
	cr_expect(O.verify);
	cr_expect_eq(O.flash_size, 0);
	cr_expect_eq(O.idf_version, ESPIMG_IDF_NEWEST);
	cr_expect_eq(O.n_extra, 0);
	cr_expect_null(O.lookup_env);
}

Test(api, bad_arguments)
{
	espimg_ptable *t = NULL;

	cr_expect_eq(espimg_ptable_parse((const uint8_t *)"x", 1, &O, NULL,
					 NULL, D),
		     ESPIMG_EINVAL);
	cr_expect_eq(espimg_ptable_parse(NULL, 5, &O, NULL, &t, D),
		     ESPIMG_EINVAL);
	cr_expect_eq(espimg_ptable_parse(NULL, 0, &O, NULL, &t, D), 0);
	cr_assert_not_null(t);
	cr_expect_eq(t->count, 0);
	espimg_ptable_free(t);
	espimg_ptable_free(NULL);
	/* A NULL diagnostics list is fine. */
	t = NULL;
	cr_expect_eq(espimg_ptable_parse((const uint8_t *)"x,", 2, &O, NULL,
					 &t, NULL),
		     ESPIMG_EFORMAT);
	cr_expect_null(t);
}

Test(api, parse_int)
{
	static const struct {
		const char *text;
		int64_t value;
	} good[] = {
		{ "0x8000", 0x8000 }, { "32768", 32768 }, { "0o100000", 0x8000 },
		{ "0b1", 1 },         { "-5", -5 },       { "+7", 7 },
		{ "1_000", 1000 },    { "0x_ff", 0xFF },  { " 12 ", 12 },
		{ "0", 0 },           { "00", 0 },        { "-0x1000", -0x1000 },
		{ "0x3FFFFFFFFFFFFFFF", INT64_C(0x3FFFFFFFFFFFFFFF) },
	};
	static const char *const bad_ints[] = {
		"", " ", "8K", "1M", "010", "0x", "1__0", "_1", "1_", "abc",
		"0x8000 0", "1.0", "0x4000000000000000", "99999999999999999999",
	};
	int64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 42;
		cr_expect_eq(espimg_ptable_parse_int(good[i].text, &v), 0, "'%s'",
			     good[i].text);
		cr_expect_eq(v, good[i].value, "'%s'", good[i].text);
	}
	for (size_t i = 0; i < sizeof(bad_ints) / sizeof(bad_ints[0]); i++)
		cr_expect_eq(espimg_ptable_parse_int(bad_ints[i], &v),
			     ESPIMG_EINVAL, "'%s' accepted", bad_ints[i]);
	cr_expect_eq(espimg_ptable_parse_int(NULL, &v), ESPIMG_EINVAL);
}

Test(api, flash_needed)
{
	ok("");
	cr_expect_eq(espimg_ptable_flash_needed(T), 0);
	ok("n, data, nvs, , 24K\nf, app, factory, , 1M\n");
	cr_expect_eq(espimg_ptable_flash_needed(T), 0x110000);
	/* The highest offset decides, even if another entry ends later. */
	{
		uint8_t bin[3 * 32];
		memset(bin, 0xFF, sizeof(bin));
		put_row(bin, 1, 0x81, 0x20000, 0x1000, "z", 0);
		put_row(bin + 32, 1, 0x81, 0x9000, 0x100000, "big", 0);
		ok_n(bin, sizeof(bin));
		cr_expect_eq(espimg_ptable_flash_needed(T), 0x21000);
	}
	/* On a tie the first in table order wins (a stable sort). */
	ok("a, data, fat, 0x10000, 0\nb, data, fat, 0x10000, 4K\n");
	cr_expect_eq(espimg_ptable_flash_needed(T), 0x10000);
}

Test(api, gaps)
{
	espimg_gap g[8];
	size_t n = 99;

	ok("a, data, fat, 0xA000, 4K\nb, data, fat, 0xC000, 4K\n");
	cr_assert_eq(espimg_ptable_gaps(T, &O, g, 8, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_eq(g[0].offset, 0x9000);
	cr_expect_eq(g[0].size, 0x1000);
	cr_expect_eq(g[1].offset, 0xB000);
	cr_expect_eq(g[1].size, 0x1000);
	O.flash_size = 0x10000;
	cr_assert_eq(espimg_ptable_gaps(T, &O, g, 8, &n), 0);
	cr_assert_eq(n, 3);
	cr_expect_eq(g[2].offset, 0xD000);
	cr_expect_eq(g[2].size, 0x3000);
	/* cap limits what is stored, not the count. */
	memset(g, 0, sizeof(g));
	cr_expect_eq(espimg_ptable_gaps(T, &O, g, 1, &n), 0);
	cr_expect_eq(n, 3);
	cr_expect_eq(g[0].offset, 0x9000);
	cr_expect_eq(g[1].offset, 0);
	/* No gaps in a packed table; the empty table is one gap. */
	O.flash_size = 0;
	ok("a, data, fat, , 4K\nb, data, fat, , 4K\n");
	cr_expect_eq(espimg_ptable_gaps(T, &O, g, 8, &n), 0);
	cr_expect_eq(n, 0);
	ok("");
	cr_expect_eq(espimg_ptable_gaps(T, &O, g, 8, &n), 0);
	cr_expect_eq(n, 0);
	O.flash_size = 1u << 20;
	cr_expect_eq(espimg_ptable_gaps(T, &O, g, 8, &n), 0);
	cr_expect_eq(n, 1);
	cr_expect_eq(g[0].offset, 0x9000);
	cr_expect_eq(g[0].size, 0x100000 - 0x9000);
}

Test(api, gaps_skip_primary_rows_and_overlaps)
{
	espimg_gap g[4];
	size_t n = 0;

	O.primary_bootloader_offset = 0x1000;
	ok("b, bootloader, primary, , \np, partition_table, primary, , \n"
	   "a, data, fat, 0x10000, 4K\n");
	cr_assert_eq(espimg_ptable_gaps(T, &O, g, 4, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(g[0].offset, 0x9000);
	cr_expect_eq(g[0].size, 0x7000);
}

Test(api, type_and_subtype_names)
{
	cr_expect_str_eq(espimg_ptable_type_name(0), "app");
	cr_expect_str_eq(espimg_ptable_type_name(1), "data");
	cr_expect_str_eq(espimg_ptable_type_name(2), "bootloader");
	cr_expect_str_eq(espimg_ptable_type_name(3), "partition_table");
	cr_expect_null(espimg_ptable_type_name(4));
	cr_expect_null(espimg_ptable_type_name(0x40));
	cr_expect_null(espimg_ptable_type_name(0xFF));
	cr_expect_str_eq(espimg_ptable_subtype_name(NULL, 0, 0x10), "ota_0");
	cr_expect_str_eq(espimg_ptable_subtype_name(NULL, 1, 0x83), "littlefs");
	cr_expect_str_eq(espimg_ptable_subtype_name(NULL, 2, 2), "recovery");
	cr_expect_str_eq(espimg_ptable_subtype_name(NULL, 3, 1), "ota");
	cr_expect_null(espimg_ptable_subtype_name(NULL, 0, 0x32));
	cr_expect_null(espimg_ptable_subtype_name(NULL, 1, 0x07));
	cr_expect_null(espimg_ptable_subtype_name(NULL, 3, 2));
	cr_expect_null(espimg_ptable_subtype_name(NULL, 0x40, 0));
	cr_assert_eq(extra("data,myfs,40"), 0);
	cr_expect_str_eq(espimg_ptable_subtype_name(&O, 1, 0x40), "myfs");
	cr_expect_null(espimg_ptable_subtype_name(&O, 0, 0x40));
	cr_expect_str_eq(espimg_ptable_subtype_name(&O, 1, 0x02), "nvs");
}

Test(api, emit_json_description)
{
	struct fx_sink s = { 0 };
	espimg_emitter *e = espimg_emit_new(ESPIMG_FORMAT_JSON, fx_sink_write, &s);

	cr_assert_not_null(e);
	valid("n, data, nvs, , 24K, readonly\nf, app, factory, , 1M\n");
	cr_assert_eq(espimg_emit_begin_doc(e, "espimg.partitions/1"), 0);
	cr_assert_eq(espimg_ptable_emit(T, &O, e), 0);
	cr_assert_eq(espimg_emit_end_doc(e), 0);
	espimg_emit_free(e);
	cr_expect(strstr(fx_sink_str(&s), "\"partitions\"") != NULL);
	cr_expect(strstr(fx_sink_str(&s), "\"readonly\"") != NULL);
	cr_expect(strstr(fx_sink_str(&s), "\"nvs\"") != NULL);
	fx_sink_free(&s);
}

Test(api, has_md5)
{
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];

	ok("a, data, fat, , 4K\n");
	cr_expect(espimg_ptable_has_md5(T, &O));
	O.md5 = false;
	cr_expect(!espimg_ptable_has_md5(T, &O));
	/* For a binary, what was read decides. */
	encode(bin);
	O.md5 = true;
	ok_n(bin, sizeof(bin));
	cr_expect(!espimg_ptable_has_md5(T, &O));
	encode(bin);
	ok_n(bin, sizeof(bin));
	O.md5 = false;
	cr_expect(espimg_ptable_has_md5(T, &O));
}

Test(api, huge_input_is_refused)
{
	size_t n = ESPIMG_PTABLE_MAX_INPUT + 1;
	uint8_t *big = malloc(n);

	cr_assert_not_null(big);
	memset(big, '#', n);
	cr_expect_eq(parse_n(big, n), ESPIMG_ETOOBIG);
	cr_expect_null(T);
	error("ptable.too-big");
	free(big);
}

/* NULL arguments are refused with ESPIMG_EINVAL, never dereferenced. */
Test(ptable, null_arguments)
{
	espimg_ptable_opts o;
	espimg_ptable t = { 0 };
	size_t count = 99;

	espimg_ptable_opts_init(&o);
	cr_expect_eq(espimg_ptable_add_extra_subtype(NULL, "app,0x40,x", NULL),
		     ESPIMG_EINVAL);
	cr_expect_eq(espimg_ptable_add_extra_subtype(&o, NULL, NULL),
		     ESPIMG_EINVAL);
	cr_expect_eq(espimg_ptable_gaps(NULL, &o, NULL, 0, &count), ESPIMG_EINVAL);
	cr_expect_eq(espimg_ptable_gaps(&t, NULL, NULL, 0, &count), ESPIMG_EINVAL);
	cr_expect_eq(espimg_ptable_gaps(&t, &o, NULL, 0, NULL), ESPIMG_EINVAL);
	cr_expect_eq(espimg_ptable_gaps(&t, &o, NULL, 4, &count), ESPIMG_EINVAL);
	cr_expect_eq(espimg_ptable_gaps(&t, &o, NULL, 0, &count), 0);
	cr_expect_eq(espimg_ptable_emit(NULL, &o, NULL), ESPIMG_EINVAL);
	cr_expect_eq(espimg_ptable_emit(&t, NULL, NULL), ESPIMG_EINVAL);
}
