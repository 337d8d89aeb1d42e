/*
 * test_ihex.c - the Intel HEX reader: records, runs, every error with its
 * position, and esptool's merge-bin --format hex output from the corpus.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "espimg/espimg.h"
#include "espimg/ihex.h"
#include "fixtures.h"

/* ------------------------------------------------------------ helpers */

/* Records come from fx_ihex_rec (fixtures.h), written there independently
 * of the library. */

/* Data record of n bytes, byte i = seed + i. */
static void data_rec(struct fx_sink *t, unsigned addr, size_t n,
		     unsigned seed)
{
	uint8_t d[255];
	size_t i;

	for (i = 0; i < n; i++)
		d[i] = (uint8_t)(seed + i);
	fx_ihex_rec(t, 0x00, addr, d, n);
}

static espimg_diag_list *diags;

static void setup(void)
{
	diags = espimg_diag_list_new();
	cr_assert_not_null(diags);
}

static void teardown(void)
{
	espimg_diag_list_free(diags);
}

TestSuite(ihex, .init = setup, .fini = teardown);

static espimg_ihex *parse_ok(const char *s, size_t len)
{
	espimg_ihex *h = NULL;
	int rc = espimg_ihex_parse(s, len, "t.hex", &h, diags);

	if (rc) {
		char *dump = fx_diag_dump(diags);

		cr_assert_fail("parse failed (%d):\n%s", rc, dump);
	}
	cr_assert_not_null(h);
	return h;
}

static espimg_ihex *parse_text(struct fx_sink *t)
{
	return parse_ok(t->data, t->len);
}

/* Parses, expects ESPIMG_EFORMAT and no result. */
static void parse_bad(const char *s, size_t len)
{
	espimg_ihex *h = (espimg_ihex *)1;

	cr_assert_eq(espimg_ihex_parse(s, len, "t.hex", &h, diags),
		     ESPIMG_EFORMAT);
	cr_assert_null(h);
	cr_assert_gt(espimg_diag_errors(diags), 0);
}

static void expect_diag(size_t i, espimg_severity sev, const char *code,
			unsigned line, unsigned col)
{
	const espimg_diag *d = espimg_diag_get(diags, i);

	cr_assert_not_null(d, "no diagnostic %zu", i);
	cr_expect_eq(d->severity, sev, "%s", d->message);
	cr_expect_str_eq(d->code, code);
	cr_expect_eq(d->line, line, "%s: line %u", d->code, d->line);
	cr_expect_eq(d->column, col, "%s: column %u", d->code, d->column);
	cr_expect_str_eq(d->file, "t.hex");
}

/* A one-error input: the code and its position. */
static void expect_error(const char *s, const char *code, unsigned line,
			 unsigned col)
{
	espimg_diag_clear(diags);
	parse_bad(s, strlen(s));
	cr_expect_eq(espimg_diag_count(diags), 1, "%s: %zu diagnostics", s,
		     espimg_diag_count(diags));
	expect_diag(0, ESPIMG_SEV_ERROR, code, line, col);
}

static void expect_run(const espimg_ihex *h, size_t i, uint32_t addr,
		       size_t len)
{
	const espimg_ihex_run *r = espimg_ihex_run_at(h, i);

	cr_assert_not_null(r, "no run %zu", i);
	cr_expect_eq(r->address, addr, "run %zu at 0x%x", i, r->address);
	cr_expect_eq(r->len, len, "run %zu len %zu", i, r->len);
}

/* ------------------------------------------------------------ good input */

Test(ihex, eof_only)
{
	espimg_ihex *h = parse_ok(":00000001FF\n", 12);

	cr_expect_eq(espimg_ihex_run_count(h), 0);
	cr_expect_null(espimg_ihex_run_at(h, 0));
	cr_expect_eq(espimg_diag_count(diags), 0);
	espimg_ihex_free(h);
}

Test(ihex, one_record)
{
	static const char s[] = ":0400000001020304F2\n:00000001FF\n";
	espimg_ihex *h = parse_ok(s, strlen(s));
	const espimg_ihex_run *r;

	cr_assert_eq(espimg_ihex_run_count(h), 1);
	r = espimg_ihex_run_at(h, 0);
	cr_expect_eq(r->address, 0);
	cr_assert_eq(r->len, 4);
	cr_expect(!memcmp(r->data, "\x01\x02\x03\x04", 4));
	cr_expect_null(espimg_ihex_run_at(h, 1));
	espimg_ihex_free(h);
}

Test(ihex, lowercase_and_line_endings)
{
	/* CRLF, CR alone, blank lines, lowercase digits, no final newline. */
	static const char s[] = ":0400000001020304f2\r\n\r\n"
				":0400040005060708de\r\r"
				":00000001ff";
	espimg_ihex *h = parse_ok(s, strlen(s));

	cr_assert_eq(espimg_ihex_run_count(h), 1);
	expect_run(h, 0, 0, 8);
	cr_expect(!memcmp(espimg_ihex_run_at(h, 0)->data,
			  "\x01\x02\x03\x04\x05\x06\x07\x08", 8));
	espimg_ihex_free(h);
}

Test(ihex, extended_addresses)
{
	struct fx_sink t = { 0 };
	uint8_t seg[2] = { 0x10, 0x00 }; /* segment 0x1000 -> base 0x10000 */
	espimg_ihex *h;

	fx_ihex_ela(&t, 0x0002);
	data_rec(&t, 0x0010, 16, 0);
	fx_ihex_rec(&t, 0x02, 0, seg, 2);
	data_rec(&t, 0x0000, 8, 0x40);
	/* Segment bases do not wrap at 64 KiB: 0xFFFF0 + 0xFFF8. */
	seg[0] = 0xFF;
	seg[1] = 0xFF;
	fx_ihex_rec(&t, 0x02, 0, seg, 2);
	data_rec(&t, 0xFFF8, 4, 0x80);
	fx_ihex_eof(&t);
	h = parse_text(&t);
	cr_assert_eq(espimg_ihex_run_count(h), 3);
	expect_run(h, 0, 0x10000, 8);
	expect_run(h, 1, 0x20010, 16);
	expect_run(h, 2, 0xFFFF0 + 0xFFF8, 4);
	cr_expect_eq(espimg_ihex_run_at(h, 0)->data[0], 0x40);
	cr_expect_eq(espimg_ihex_run_at(h, 1)->data[15], 15);
	cr_expect_eq(espimg_ihex_run_at(h, 2)->data[3], 0x83);
	espimg_ihex_free(h);
	fx_sink_free(&t);
}

Test(ihex, run_continues_across_64k)
{
	struct fx_sink t = { 0 };
	espimg_ihex *h;

	data_rec(&t, 0xFFF0, 16, 0);
	fx_ihex_ela(&t, 0x0001);
	data_rec(&t, 0x0000, 16, 16);
	fx_ihex_eof(&t);
	h = parse_text(&t);
	cr_assert_eq(espimg_ihex_run_count(h), 1);
	expect_run(h, 0, 0xFFF0, 32);
	for (size_t i = 0; i < 32; i++)
		cr_expect_eq(espimg_ihex_run_at(h, 0)->data[i], i);
	espimg_ihex_free(h);
	fx_sink_free(&t);
}

Test(ihex, runs_sorted_gaps_split)
{
	struct fx_sink t = { 0 };
	espimg_ihex *h;

	/* In file order: 0x200, 0x100, 0x104 (continues 0x100), 0x0,
	 * 0x109 (one-byte gap after 0x108). */
	data_rec(&t, 0x200, 4, 0xA0);
	data_rec(&t, 0x100, 4, 0x10);
	data_rec(&t, 0x104, 4, 0x14);
	data_rec(&t, 0x000, 2, 0x00);
	data_rec(&t, 0x109, 1, 0x99);
	fx_ihex_eof(&t);
	h = parse_text(&t);
	cr_assert_eq(espimg_ihex_run_count(h), 4);
	expect_run(h, 0, 0x000, 2);
	expect_run(h, 1, 0x100, 8);
	expect_run(h, 2, 0x109, 1);
	expect_run(h, 3, 0x200, 4);
	cr_expect(!memcmp(espimg_ihex_run_at(h, 1)->data,
			  "\x10\x11\x12\x13\x14\x15\x16\x17", 8));
	cr_expect_eq(espimg_ihex_run_at(h, 2)->data[0], 0x99);
	cr_expect(!memcmp(espimg_ihex_run_at(h, 3)->data, "\xA0\xA1\xA2\xA3",
			  4));
	espimg_ihex_free(h);
	fx_sink_free(&t);
}

Test(ihex, descending_records_join)
{
	struct fx_sink t = { 0 };
	espimg_ihex *h;
	size_t i;

	/* Sixteen adjacent records, last address first: one run, in order. */
	for (i = 16; i-- > 0;)
		data_rec(&t, (unsigned)(i * 16), 16, (unsigned)(i * 16));
	fx_ihex_eof(&t);
	h = parse_text(&t);
	cr_assert_eq(espimg_ihex_run_count(h), 1);
	expect_run(h, 0, 0, 256);
	for (i = 0; i < 256; i++)
		cr_expect_eq(espimg_ihex_run_at(h, 0)->data[i], i);
	espimg_ihex_free(h);
	fx_sink_free(&t);
}

Test(ihex, sparse_addresses_stay_small)
{
	struct fx_sink t = { 0 };
	espimg_ihex *h;

	/* 32 bytes spread over the whole 4 GiB space. */
	data_rec(&t, 0x0000, 16, 0);
	fx_ihex_ela(&t, 0xFFFF);
	data_rec(&t, 0xFFF0, 16, 0xF0);
	fx_ihex_eof(&t);
	h = parse_text(&t);
	cr_assert_eq(espimg_ihex_run_count(h), 2);
	expect_run(h, 0, 0, 16);
	expect_run(h, 1, 0xFFFFFFF0, 16);
	cr_expect_eq(espimg_ihex_run_at(h, 1)->data[15], 0xFF);
	espimg_ihex_free(h);
	fx_sink_free(&t);
}

Test(ihex, start_records_and_empty_data)
{
	struct fx_sink t = { 0 };
	static const uint8_t start[4] = { 0x40, 0x38, 0x00, 0x00 };
	espimg_ihex *h;

	fx_ihex_rec(&t, 0x05, 0, start, 4);
	fx_ihex_rec(&t, 0x00, 0x1234, NULL, 0); /* no bytes: no run */
	data_rec(&t, 0x10, 4, 1);
	fx_ihex_eof(&t);
	h = parse_text(&t);
	cr_assert_eq(espimg_ihex_run_count(h), 1);
	expect_run(h, 0, 0x10, 4);
	espimg_ihex_free(h);
	fx_sink_free(&t);

	/* A segment start record alone is fine too. */
	fx_ihex_rec(&t, 0x03, 0, start, 4);
	fx_ihex_eof(&t);
	h = parse_text(&t);
	cr_expect_eq(espimg_ihex_run_count(h), 0);
	espimg_ihex_free(h);
	fx_sink_free(&t);
}

Test(ihex, text_after_eof_is_a_warning)
{
	static const char s[] = ":0400000001020304F2\n:00000001FF\n\n  \n"
				"  garbage :zz\n:0400000001020304F2\n";
	espimg_ihex *h = parse_ok(s, strlen(s));

	cr_expect_eq(espimg_ihex_run_count(h), 1);
	cr_assert_eq(espimg_diag_count(diags), 1);
	expect_diag(0, ESPIMG_SEV_WARNING, "ihex.after_eof", 5, 3);
	espimg_ihex_free(h);

	/* Blank lines after the end record are not worth a word. */
	espimg_diag_clear(diags);
	h = parse_ok(":00000001FF\n\n\t \n", 16);
	cr_expect_eq(espimg_diag_count(diags), 0);
	espimg_ihex_free(h);
}

/* ------------------------------------------------------------ errors */

Test(ihex, colon_and_digits)
{
	expect_error(":0400000001020304F2\nx\n:00000001FF\n", "ihex.colon", 2, 1);
	expect_error(":04000000010G0304F2\n:00000001FF\n", "ihex.digit", 1, 13);
	/* Trailing blanks are not allowed (intelhex rejects them too). */
	expect_error(":0400000001020304F2 \n:00000001FF\n", "ihex.digit", 1, 20);
	expect_error(":04000000\x01\n:00000001FF\n", "ihex.digit", 1, 10);
}

Test(ihex, lengths)
{
	/* Odd digit count: at the unpaired digit. */
	expect_error(":0400000001020304F\n:00000001FF\n", "ihex.length", 1, 18);
	/* Fewer than 5 bytes. */
	expect_error(":00000001\n:00000001FF\n", "ihex.length", 1, 2);
	expect_error(":\n:00000001FF\n", "ihex.length", 1, 2);
	/* Length field disagrees with the record. */
	expect_error(":0500000001020304F1\n:00000001FF\n", "ihex.length", 1, 2);
	expect_error(":0300000001020304F3\n:00000001FF\n", "ihex.length", 1, 2);
}

Test(ihex, type_and_checksum)
{
	const espimg_diag *d;

	expect_error(":0400000601020304EC\n:00000001FF\n", "ihex.record_type", 1, 8);
	expect_error(":0400000001020304F3\n:00000001FF\n", "ihex.checksum", 1, 18);
	d = espimg_diag_get(diags, 0);
	cr_expect(strstr(d->message, "F3") && strstr(d->message, "F2"),
		  "%s", d->message);
	expect_error(":00000001FE\n:00000001FF\n", "ihex.checksum", 1, 10);
}

Test(ihex, record_fields)
{
	/* End record with data. */
	expect_error(":01000001AA54\n:00000001FF\n", "ihex.record", 1, 2);
	/* Extended address records: 2 bytes at address 0000. */
	expect_error(":0100000401FA\n:00000001FF\n", "ihex.record", 1, 2);
	expect_error(":020010040001E9\n:00000001FF\n", "ihex.record", 1, 4);
	expect_error(":020010020001EB\n:00000001FF\n", "ihex.record", 1, 4);
	/* Start address records: 4 bytes at address 0000, once. */
	expect_error(":020000050000F9\n:00000001FF\n", "ihex.record", 1, 2);
	expect_error(":0400010500000000F6\n:00000001FF\n", "ihex.record", 1, 4);
	expect_error(":0400000500000000F7\n:0400000300000000F9\n:00000001FF\n",
		     "ihex.start_twice", 2, 1);
}

Test(ihex, address_space_end)
{
	struct fx_sink t = { 0 };

	fx_ihex_ela(&t, 0xFFFF);
	data_rec(&t, 0xFFFC, 8, 0); /* bytes 4..7 are past 0xFFFFFFFF */
	fx_ihex_eof(&t);
	parse_bad(t.data, t.len);
	cr_assert_eq(espimg_diag_count(diags), 1);
	expect_diag(0, ESPIMG_SEV_ERROR, "ihex.address", 2, 10 + 2 * 4);
	fx_sink_free(&t);
}

Test(ihex, no_eof)
{
	expect_error(":0400000001020304F2\n", "ihex.no_eof", 2, 1);
	expect_error(":0400000001020304F2", "ihex.no_eof", 1, 20);
	expect_error("", "ihex.no_eof", 1, 1);
	expect_error("\n\n", "ihex.no_eof", 3, 1);
}

Test(ihex, every_error_in_one_run)
{
	static const char s[] = ":0400000001020304F3\n"  /* checksum */
				":0400040005060708DE\n"  /* fine */
				"junk\n"                 /* colon */
				":0400000701020304EB\n"; /* type, then no end */
	size_t i;

	parse_bad(s, strlen(s));
	cr_assert_eq(espimg_diag_count(diags), 4);
	expect_diag(0, ESPIMG_SEV_ERROR, "ihex.checksum", 1, 18);
	expect_diag(1, ESPIMG_SEV_ERROR, "ihex.colon", 3, 1);
	expect_diag(2, ESPIMG_SEV_ERROR, "ihex.record_type", 4, 8);
	expect_diag(3, ESPIMG_SEV_ERROR, "ihex.no_eof", 5, 1);
	for (i = 0; i < 4; i++)
		cr_expect_geq(espimg_diag_get(diags, i)->offset, 0);
	/* Offsets are byte positions of the column. */
	cr_expect_eq(espimg_diag_get(diags, 0)->offset, 17);
	cr_expect_eq(espimg_diag_get(diags, 1)->offset, 40);
}

Test(ihex, error_limit)
{
	struct fx_sink t = { 0 };
	size_t i;

	for (i = 0; i < 300; i++)
		fx_sink_printf(&t, "bad\n");
	parse_bad(t.data, t.len);
	cr_expect_eq(espimg_diag_errors(diags), 100);
	cr_assert_eq(espimg_diag_count(diags), 101);
	expect_diag(100, ESPIMG_SEV_NOTE, "ihex.too_many_errors", 101, 1);
	fx_sink_free(&t);
}

/* ------------------------------------------------------------ overlaps */

Test(ihex, overlap_at_first_byte)
{
	struct fx_sink t = { 0 };
	const espimg_diag *d;

	data_rec(&t, 0x0, 4, 0); /* line 1 */
	data_rec(&t, 0x2, 4, 0); /* line 2: its first byte hits line 1 */
	fx_ihex_eof(&t);
	parse_bad(t.data, t.len);
	cr_assert_eq(espimg_diag_count(diags), 1);
	expect_diag(0, ESPIMG_SEV_ERROR, "ihex.overlap", 2, 10);
	d = espimg_diag_get(diags, 0);
	cr_expect(strstr(d->message, "0x00000002"), "%s", d->message);
	cr_expect(strstr(d->message, "line 1, column 14"), "%s", d->message);
	fx_sink_free(&t);
}

Test(ihex, overlap_inside_record)
{
	struct fx_sink t = { 0 };

	data_rec(&t, 0x10, 4, 0); /* line 1 */
	data_rec(&t, 0x0C, 8, 0); /* line 2: 0x0C..0x13, 0x10 is byte 4 */
	fx_ihex_eof(&t);
	parse_bad(t.data, t.len);
	cr_assert_eq(espimg_diag_count(diags), 1);
	expect_diag(0, ESPIMG_SEV_ERROR, "ihex.overlap", 2, 10 + 2 * 4);
	cr_expect(strstr(espimg_diag_get(diags, 0)->message, "line 1, column 10"));
	fx_sink_free(&t);
}

Test(ihex, overlap_with_joined_records)
{
	struct fx_sink t = { 0 };

	/* Lines 1-2 join into one run 0x00..0x1F; line 3 rewrites 0x18. */
	data_rec(&t, 0x00, 16, 0);
	data_rec(&t, 0x10, 16, 0);
	data_rec(&t, 0x18, 4, 0);
	fx_ihex_eof(&t);
	parse_bad(t.data, t.len);
	cr_assert_eq(espimg_diag_count(diags), 1);
	expect_diag(0, ESPIMG_SEV_ERROR, "ihex.overlap", 3, 10);
	cr_expect(strstr(espimg_diag_get(diags, 0)->message,
			 "line 2, column 26"), "%s",
		  espimg_diag_get(diags, 0)->message);
	fx_sink_free(&t);

	/* The offender continues a run across an extended address record:
	 * line 1 puts 0x10020; lines 3 and 5 join, line 5 reaches 0x10020. */
	espimg_diag_clear(diags);
	fx_ihex_ela(&t, 0x0001);   /* line 1 */
	data_rec(&t, 0x20, 4, 0);  /* line 2 */
	data_rec(&t, 0x00, 16, 0); /* line 3: 0x10000.. */
	data_rec(&t, 0x10, 16, 0); /* line 4 */
	data_rec(&t, 0x20, 4, 0);  /* line 5: 0x10020, already given */
	fx_ihex_eof(&t);
	parse_bad(t.data, t.len);
	cr_assert_eq(espimg_diag_count(diags), 1);
	expect_diag(0, ESPIMG_SEV_ERROR, "ihex.overlap", 5, 10);
	cr_expect(strstr(espimg_diag_get(diags, 0)->message, "0x00010020"));
	cr_expect(strstr(espimg_diag_get(diags, 0)->message, "line 2, column 10"));
	fx_sink_free(&t);
}

Test(ihex, first_overlap_in_file_order)
{
	struct fx_sink t = { 0 };

	data_rec(&t, 0x000, 4, 0);  /* line 1 */
	data_rec(&t, 0x100, 4, 0);  /* line 2 */
	data_rec(&t, 0x102, 4, 0);  /* line 3: first overlap in the file */
	data_rec(&t, 0x000, 8, 0);  /* line 4: overlaps line 1 at 0x0 */
	fx_ihex_eof(&t);
	parse_bad(t.data, t.len);
	cr_assert_eq(espimg_diag_count(diags), 1);
	expect_diag(0, ESPIMG_SEV_ERROR, "ihex.overlap", 3, 10);
	cr_expect(strstr(espimg_diag_get(diags, 0)->message, "0x00000102"));
	cr_expect(strstr(espimg_diag_get(diags, 0)->message, "line 2, column 14"));
	fx_sink_free(&t);
}

Test(ihex, no_overlap_check_after_bad_base)
{
	/* The second ELA is rejected, so line 4's address is unknown: only
	 * the record error is reported, not an overlap with line 2. */
	static const char s[] = ":020000040001F9\n"
				":0400000001020304F2\n"
				":0100000401FA\n"
				":0400000001020304F2\n"
				":00000001FF\n";

	/* An overlap before the bad record is still found. */
	static const char t[] = ":0400000001020304F2\n"
				":0400000001020304F2\n"
				":0100000401FA\n"
				":00000001FF\n";

	parse_bad(s, strlen(s));
	cr_assert_eq(espimg_diag_count(diags), 1);
	expect_diag(0, ESPIMG_SEV_ERROR, "ihex.record", 3, 2);

	espimg_diag_clear(diags);
	parse_bad(t, strlen(t));
	cr_assert_eq(espimg_diag_count(diags), 2);
	expect_diag(0, ESPIMG_SEV_ERROR, "ihex.overlap", 2, 10);
	expect_diag(1, ESPIMG_SEV_ERROR, "ihex.record", 3, 2);
}

/* ------------------------------------------------------------ API */

Test(ihex, detect)
{
	cr_expect(espimg_ihex_detect(":00000001FF", 11));
	cr_expect(espimg_ihex_detect(" \t\r\n:1", 6));
	cr_expect(espimg_ihex_detect(":a", 2));
	cr_expect_not(espimg_ihex_detect(":", 1));
	cr_expect_not(espimg_ihex_detect(":x", 2));
	cr_expect_not(espimg_ihex_detect("", 0));
	cr_expect_not(espimg_ihex_detect("\xE9\x03\x02\x1F", 4));
	cr_expect_not(espimg_ihex_detect("x:00", 4));
	/* The length is respected: the digit is past the end. */
	cr_expect_not(espimg_ihex_detect(":0", 1));
	cr_expect_not(espimg_ihex_detect(NULL, 4));
}

Test(ihex, arguments)
{
	espimg_ihex *h = (espimg_ihex *)1;

	cr_expect_eq(espimg_ihex_parse(NULL, 4, "t", &h, diags), ESPIMG_EINVAL);
	cr_expect_null(h);
	cr_expect_eq(espimg_ihex_parse(":00000001FF", 11, "t", NULL, diags),
		     ESPIMG_EINVAL);
	/* No diagnostics list: the result code still tells. */
	cr_expect_eq(espimg_ihex_parse("x", 1, NULL, &h, NULL), ESPIMG_EFORMAT);
	cr_expect_eq(espimg_ihex_parse(":00000001FF", 11, NULL, &h, NULL),
		     ESPIMG_OK);
	espimg_ihex_free(h);
	espimg_ihex_free(NULL);
	cr_expect_eq(espimg_ihex_run_count(NULL), 0);
	cr_expect_null(espimg_ihex_run_at(NULL, 0));
}

Test(ihex, text_not_nul_terminated)
{
	/* The reader must stop at len: the EOF record lies beyond it. */
	static const char s[] = ":0400000001020304F2\n:00000001FF\n";

	parse_bad(s, 20);
	cr_assert_eq(espimg_diag_count(diags), 1);
	expect_diag(0, ESPIMG_SEV_ERROR, "ihex.no_eof", 2, 1);
}

/* ------------------------------------------------------------ corpus */

Test(ihex, merge_bin_hex_from_esptool)
{
	size_t hex_len, raw_len, i;
	uint8_t *hex = fx_corpus_read("images/gen/merge_c3.hex", &hex_len);
	uint8_t *raw = fx_corpus_read("images/gen/merge_c3_raw.bin", &raw_len);
	/* merge_bin 0x0 bootloader (19152 bytes), 0x8000 partition table
	 * (3072), 0x10000 app (124192); the raw merge pads the gaps. */
	static const struct {
		uint32_t addr;
		size_t len;
	} want[] = { { 0x0, 19152 }, { 0x8000, 3072 }, { 0x10000, 124192 } };
	espimg_ihex *h;

	cr_assert(espimg_ihex_detect(hex, hex_len));
	h = parse_ok((const char *)hex, hex_len);
	cr_expect_eq(espimg_diag_count(diags), 0);
	cr_assert_eq(espimg_ihex_run_count(h), 3);
	for (i = 0; i < 3; i++) {
		const espimg_ihex_run *r = espimg_ihex_run_at(h, i);

		expect_run(h, i, want[i].addr, want[i].len);
		cr_assert_leq(r->address + r->len, raw_len);
		cr_expect(!memcmp(r->data, raw + r->address, r->len),
			  "run %zu differs from merge_c3_raw.bin", i);
	}
	cr_expect_eq(espimg_ihex_run_at(h, 0)->data[0], 0xE9);
	espimg_ihex_free(h);
	free(hex);
	free(raw);
}
