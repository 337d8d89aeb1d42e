/*
 * test_otadata.c - the otadata module: the CRC worked examples, one test
 * per device rule of ../shared/docs/otadata.md §3..§10 and §14, the ten
 * details of §16, the corpus vectors (every boot / set_boot / mark / query
 * vector against the oracle's bytes and answers), the 512 seq-search
 * results, and property tests over slot counts 1..16.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "espimg/espimg.h"
#include "espimg/otadata.h"
#include "espimg/ptable.h"
#include "fixtures.h"

#define SZ 0x2000u
#define SEC 0x1000u

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The device's CRC bit by bit (reflected 0xEDB88320, register from 0,
 * result complemented), keeping the register after each byte. */
static uint32_t ref_crc(uint32_t seq, uint32_t regs[4])
{
	uint32_t r = 0;
	uint8_t b[4];

	put_le32(b, seq);
	for (int i = 0; i < 4; i++) {
		r ^= b[i];
		for (int k = 0; k < 8; k++)
			r = (r >> 1) ^ (0xEDB88320u & (0u - (r & 1u)));
		if (regs)
			regs[i] = r;
	}
	return r ^ 0xFFFFFFFFu;
}

/* ------------------------------------------------------------ fixtures */

static const char *const ota_names[16] = {
	"ota_0", "ota_1", "ota_2", "ota_3", "ota_4", "ota_5", "ota_6", "ota_7",
	"ota_8", "ota_9", "ota_10", "ota_11", "ota_12", "ota_13", "ota_14",
	"ota_15",
};

/* otadata at 0xd000 (size sz), optional factory, OTA slots from a mask
 * (bit i = ota_i), optional test; apps 1 MiB each from 0x10000. */
static void mk_layout(espimg_otadata_layout *l, bool factory, unsigned mask,
		      bool test, uint32_t sz)
{
	uint32_t off = 0x10000;

	espimg_otadata_layout_init(l);
	cr_assert_eq(espimg_otadata_layout_add(l, "nvs", 0x01, 0x02, 0x9000,
					       0x4000), 0);
	if (sz)
		cr_assert_eq(espimg_otadata_layout_add(l, "otadata", 0x01, 0x00,
						       0xd000, sz), 0);
	if (factory) {
		cr_assert_eq(espimg_otadata_layout_add(l, "factory", 0x00, 0x00,
						       off, 0x100000), 0);
		off += 0x100000;
	}
	for (unsigned i = 0; i < 16; i++) {
		if (!(mask & (1u << i)))
			continue;
		cr_assert_eq(espimg_otadata_layout_add(l, ota_names[i], 0x00,
						       (uint8_t)(0x10 + i), off,
						       0x100000), 0);
		off += 0x100000;
	}
	if (test)
		cr_assert_eq(espimg_otadata_layout_add(l, "test", 0x00, 0x20,
						       off, 0x100000), 0);
}

static unsigned slots_mask(unsigned n)
{
	return n >= 32 ? 0xFFFFFFFFu : (1u << n) - 1u;
}

static void mk_config(espimg_otadata_config *c, bool rollback, bool arb)
{
	espimg_otadata_config_init(c);
	c->rollback = rollback;
	c->anti_rollback = arb;
}

static void blank(uint8_t *b, size_t n)
{
	memset(b, 0xFF, n);
}

/* Writes a record as a device would (sector erased first). */
static void put_entry(uint8_t *blob, unsigned i, uint32_t seq, uint32_t state)
{
	memset(blob + i * SEC, 0xFF, SEC);
	espimg_otadata_entry_encode(blob + i * SEC, seq, NULL, state);
}

static int app(const espimg_otadata_layout *l, const char *name)
{
	int i = espimg_otadata_find_app(l, name);

	cr_assert_geq(i, 0, "no app %s", name);
	return i;
}

static const char *name_of(const espimg_otadata_layout *l, int i)
{
	return i < 0 ? "NULL" : l->apps[i].name;
}

static espimg_otadata_boot_result do_boot(uint8_t *blob,
					  const espimg_otadata_layout *l,
					  const espimg_otadata_config *c)
{
	espimg_otadata_boot_result b;

	cr_assert_eq(espimg_otadata_boot(blob, l->otadata_size, l, c, &b, NULL),
		     0);
	return b;
}

static espimg_otadata_result do_set(uint8_t *blob,
				    const espimg_otadata_layout *l,
				    const espimg_otadata_config *c,
				    const char *target)
{
	espimg_otadata_result r;

	cr_assert_eq(espimg_otadata_set_boot(blob, l->otadata_size, l, c,
					     app(l, target), &r, NULL), 0);
	return r;
}

/* ------------------------------------------------------------ §2 CRC */

Test(otadata_crc, worked_examples_register_by_register)
{
	static const struct {
		uint32_t seq;
		uint32_t regs[4];
		uint32_t crc;
		uint8_t stored[4];
	} ex[] = {
		{ 1, { 0x77073096, 0x191B3141, 0x01C26A37, 0xB8BC6765 },
		  0x4743989A, { 0x9A, 0x98, 0x43, 0x47 } },
		{ 2, { 0xEE0E612C, 0x32366282, 0x0384D46E, 0xAA09C88B },
		  0x55F63774, { 0x74, 0x37, 0xF6, 0x55 } },
		{ 0xFFFFFFFE, { 0x5A05DF1B, 0xA73D23BE, 0x017C4C25, 0x66074786 },
		  0x99F8B879, { 0x79, 0xB8, 0xF8, 0x99 } },
	};

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		uint32_t regs[4];
		uint8_t e[32];

		cr_expect_eq(ref_crc(ex[i].seq, regs), ex[i].crc);
		for (int k = 0; k < 4; k++)
			cr_expect_eq(regs[k], ex[i].regs[k], "seq %u byte %d",
				     ex[i].seq, k);
		cr_expect_eq(espimg_otadata_crc(ex[i].seq), ex[i].crc);
		espimg_otadata_entry_encode(e, ex[i].seq, NULL, 2);
		cr_expect_arr_eq(e + 0x1C, ex[i].stored, 4);
	}
}

Test(otadata_crc, other_values_and_a_fresh_entry)
{
	static const uint8_t fresh[32] = {
		0x01, 0x00, 0x00, 0x00,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0x02, 0x00, 0x00, 0x00, 0x9A, 0x98, 0x43, 0x47,
	};
	uint8_t e[32];

	cr_expect_eq(espimg_otadata_crc(0), 0xFFFFFFFFu);
	cr_expect_eq(espimg_otadata_crc(3), 0xED4A5011u);
	cr_expect_eq(espimg_otadata_crc(0xFFFFFFFF), 0x2144DF1Cu);
	espimg_otadata_entry_encode(e, 1, NULL, ESPIMG_OTA_STATE_VALID);
	cr_expect_arr_eq(e, fresh, 32);
	/* Agreement with the bit-serial definition over a spread of seqs. */
	for (uint32_t s = 0, k = 0; k < 5000; k++, s = s * 2654435761u + 97u)
		cr_assert_eq(espimg_otadata_crc(s), ref_crc(s, NULL), "seq %u", s);
}

Test(otadata_crc, covers_only_the_seq)
{
	uint8_t a[32], b[32], lab[20];

	memset(lab, 0x41, sizeof(lab));
	espimg_otadata_entry_encode(a, 7, NULL, ESPIMG_OTA_STATE_NEW);
	espimg_otadata_entry_encode(b, 7, lab, ESPIMG_OTA_STATE_ABORTED);
	cr_expect_arr_eq(a + 0x1C, b + 0x1C, 4);
}

/* ------------------------------------------------------------ §1, decode */

Test(otadata_decode, entries_at_0_and_0x1000_only)
{
	uint8_t blob[0x4000];
	espimg_otadata_entry e[2];

	blank(blob, sizeof(blob));
	put_entry(blob, 1, 5, ESPIMG_OTA_STATE_VALID);
	/* A record at 0x20 or at size/2 is not an entry. */
	espimg_otadata_entry_encode(blob + 0x20, 9, NULL, 2);
	espimg_otadata_entry_encode(blob + 0x2000, 11, NULL, 2);
	cr_assert_eq(espimg_otadata_decode(blob, sizeof(blob), NULL, e, NULL), 0);
	cr_expect(e[0].erased);
	cr_expect_eq(e[1].seq, 5);
	cr_expect_eq(e[1].offset, 0x1000);
	cr_expect(e[1].valid);
	cr_expect_eq(espimg_otadata_active(e, NULL), 1);
}

Test(otadata_decode, short_blob_reads_as_erased_and_says_where)
{
	uint8_t blob[0x1010];
	espimg_otadata_entry e[2];
	espimg_diag_list *d = espimg_diag_list_new();
	const espimg_diag *x;

	blank(blob, sizeof(blob));
	put_entry(blob, 0, 1, 2);
	memset(blob + 0x1000, 0x00, 0x10);
	cr_assert_eq(espimg_otadata_decode(blob, sizeof(blob), NULL, e, d), 0);
	cr_expect(e[0].present && e[0].valid);
	cr_expect_not(e[1].present);
	/* 16 bytes present (zero seq), the rest 0xFF. */
	cr_expect_eq(e[1].seq, 0);
	cr_expect_eq(e[1].crc, 0xFFFFFFFFu);
	x = fx_diag_find(d, "otadata.short", ESPIMG_SEV_ERROR);
	cr_assert_not_null(x);
	cr_expect_eq(x->offset, 0x1010);
	espimg_diag_list_free(d);

	/* Empty and NULL. */
	cr_expect_eq(espimg_otadata_decode(NULL, 0, NULL, e, NULL), 0);
	cr_expect(e[0].erased && !e[0].present);
	cr_expect_eq(espimg_otadata_decode(NULL, 4, NULL, e, NULL), ESPIMG_EINVAL);
	cr_expect_eq(espimg_otadata_decode(blob, 4, NULL, NULL, NULL), ESPIMG_EINVAL);
}

Test(otadata_decode, size_below_0x2000_is_an_error_with_its_offset)
{
	uint8_t blob[0x1800];
	espimg_otadata_entry e[2];
	espimg_diag_list *d = espimg_diag_list_new();
	const espimg_diag *x;

	blank(blob, sizeof(blob));
	cr_assert_eq(espimg_otadata_decode(blob, sizeof(blob), NULL, e, d), 0);
	x = fx_diag_find(d, "otadata.size", ESPIMG_SEV_ERROR);
	cr_assert_not_null(x);
	cr_expect_eq(x->offset, 0x1800);
	cr_expect(e[1].present);
	espimg_diag_list_free(d);
}

Test(otadata_decode, wrong_crc_flavours_are_named)
{
	uint8_t blob[SZ];
	espimg_otadata_entry e[2];
	espimg_diag_list *d = espimg_diag_list_new();
	const espimg_diag *x;

	blank(blob, SZ);
	put_entry(blob, 0, 1, 2);
	put_le32(blob + 0x1C, 0x99F8B879u); /* zlib.crc32(b"\x01\0\0\0") */
	put_entry(blob, 1, 2, 2);
	put_le32(blob + 0x101C, 0x7437F655u); /* 0x55F63774 big-endian */
	cr_assert_eq(espimg_otadata_decode(blob, SZ, NULL, e, d), 0);
	cr_expect_not(e[0].valid);
	cr_expect(e[0].usable);
	cr_expect_eq(fx_diag_count(d, "otadata.crc", ESPIMG_SEV_WARNING), 2);
	x = fx_diag_find(d, "otadata.crc", -1);
	cr_assert_not_null(x);
	cr_expect_eq(x->offset, 0x1C);
	cr_expect_not_null(strstr(x->message, "plain CRC-32"), "%s", x->message);
	x = espimg_diag_get(d, 1);
	cr_assert_not_null(x);
	cr_expect_eq(x->offset, 0x101C);
	cr_expect_not_null(strstr(x->message, "big-endian"), "%s", x->message);
	espimg_diag_list_free(d);
}

Test(otadata_decode, junk_state_seq0_tie_and_sector_tail)
{
	uint8_t blob[SZ];
	espimg_otadata_entry e[2];
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_otadata_active_why why;

	blank(blob, SZ);
	put_entry(blob, 0, 0, 7);
	put_entry(blob, 1, 0, 2);
	blob[0x1800] = 0;
	cr_assert_eq(espimg_otadata_decode(blob, SZ, NULL, e, d), 0);
	cr_expect(e[0].valid, "state 7 is acceptable");
	cr_expect(e[1].valid, "seq 0 is valid");
	cr_expect_not_null(fx_diag_find(d, "otadata.state_unknown", -1));
	cr_expect_not_null(fx_diag_find(d, "otadata.seq_zero", -1));
	cr_expect_not_null(fx_diag_find(d, "otadata.seq_tie", -1));
	cr_expect_eq(fx_diag_find(d, "otadata.sector_tail", -1)->offset, 0x1800);
	cr_expect_eq(espimg_otadata_active(e, &why), 0);
	cr_expect_eq(why, ESPIMG_OTADATA_ACTIVE_TIE);
	espimg_diag_list_free(d);
}

/* ------------------------------------------------------------ §3 */

Test(otadata_rules, s3_usable_and_valid)
{
	static const struct {
		uint32_t seq, state;
		bool crc_good, usable, valid;
	} t[] = {
		{ 1, ESPIMG_OTA_STATE_VALID, true, true, true },
		{ 1, ESPIMG_OTA_STATE_NEW, true, true, true },
		{ 1, ESPIMG_OTA_STATE_PENDING_VERIFY, true, true, true },
		{ 1, ESPIMG_OTA_STATE_UNDEFINED, true, true, true },
		{ 1, 7, true, true, true },
		{ 1, ESPIMG_OTA_STATE_INVALID, true, false, false },
		{ 1, ESPIMG_OTA_STATE_ABORTED, true, false, false },
		{ 0xFFFFFFFF, ESPIMG_OTA_STATE_VALID, true, false, false },
		{ 0, ESPIMG_OTA_STATE_VALID, true, true, true },
		{ 1, ESPIMG_OTA_STATE_VALID, false, true, false },
	};
	uint8_t blob[SZ];
	espimg_otadata_entry e[2];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		blank(blob, SZ);
		put_entry(blob, 0, t[i].seq, t[i].state);
		if (!t[i].crc_good)
			blob[0x1C] ^= 1;
		espimg_otadata_decode(blob, SZ, NULL, e, NULL);
		cr_expect_eq(e[0].usable, t[i].usable, "case %zu", i);
		cr_expect_eq(e[0].valid, t[i].valid, "case %zu", i);
	}
}

Test(otadata_rules, s3_v32_has_no_states)
{
	uint8_t blob[SZ];
	espimg_otadata_entry e[2];
	espimg_otadata_config c;

	mk_config(&c, false, false);
	c.idf_version = ESPIMG_IDF_VERSION(3, 2, 0);
	blank(blob, SZ);
	put_entry(blob, 0, 1, ESPIMG_OTA_STATE_ABORTED);
	espimg_otadata_decode(blob, SZ, &c, e, NULL);
	cr_expect(e[0].valid);
	espimg_otadata_decode(blob, SZ, NULL, e, NULL);
	cr_expect_not(e[0].valid);
}

/* ------------------------------------------------------------ §4, §5 */

Test(otadata_rules, s4_plain_unsigned_max_and_tie)
{
	espimg_otadata_entry e[2];
	espimg_otadata_active_why w;
	uint8_t blob[SZ];

	blank(blob, SZ);
	put_entry(blob, 0, 0xFFFFFFFE, 2);
	put_entry(blob, 1, 3, 2);
	espimg_otadata_decode(blob, SZ, NULL, e, NULL);
	cr_expect_eq(espimg_otadata_active(e, &w), 0);
	cr_expect_eq(w, ESPIMG_OTADATA_ACTIVE_LARGER);
	put_entry(blob, 0, 3, 2);
	espimg_otadata_decode(blob, SZ, NULL, e, NULL);
	cr_expect_eq(espimg_otadata_active(e, &w), 0);
	cr_expect_eq(w, ESPIMG_OTADATA_ACTIVE_TIE);
	put_entry(blob, 0, 3, ESPIMG_OTA_STATE_INVALID);
	espimg_otadata_decode(blob, SZ, NULL, e, NULL);
	cr_expect_eq(espimg_otadata_active(e, &w), 1);
	cr_expect_eq(w, ESPIMG_OTADATA_ACTIVE_ONLY);
	put_entry(blob, 1, 0xFFFFFFFF, 2);
	espimg_otadata_decode(blob, SZ, NULL, e, NULL);
	cr_expect_eq(espimg_otadata_active(e, &w), -1);
	cr_expect_eq(w, ESPIMG_OTADATA_ACTIVE_NONE);
}

Test(otadata_rules, s5_slot_in_uint32)
{
	cr_expect_eq(espimg_otadata_seq_slot(1, 2), 0);
	cr_expect_eq(espimg_otadata_seq_slot(4, 2), 1);
	cr_expect_eq(espimg_otadata_seq_slot(0, 2), 1);
	cr_expect_eq(espimg_otadata_seq_slot(0, 3), 0);
	cr_expect_eq(espimg_otadata_seq_slot(7, 2), 0);
	cr_expect_eq(espimg_otadata_seq_slot(7, 0), -1);
}

Test(otadata_rules, s5_two_slot_counts)
{
	espimg_otadata_layout l;

	/* Gap: ota_0 and ota_2. */
	mk_layout(&l, false, 0x5, false, SZ);
	cr_expect_eq(l.boot_n, 2);
	cr_expect_eq(l.app_n, 1);
	cr_expect_eq(l.boot_ota[1], -1);
	cr_expect_eq(l.boot_ota[2], app(&l, "ota_2"));
	/* No ota_0. */
	mk_layout(&l, true, 0x6, false, SZ);
	cr_expect_eq(l.boot_n, 2);
	cr_expect_eq(l.app_n, 0);
	/* Duplicate subtype: bootloader last, app first, both counted. */
	espimg_otadata_layout_init(&l);
	espimg_otadata_layout_add(&l, "otadata", 1, 0, 0xd000, SZ);
	espimg_otadata_layout_add(&l, "a", 0, 0x10, 0x10000, 0x10000);
	espimg_otadata_layout_add(&l, "b", 0, 0x10, 0x20000, 0x10000);
	cr_expect_eq(l.boot_n, 2);
	cr_expect_eq(l.app_n, 1);
	cr_expect_eq(l.boot_ota[0], 1);
	cr_expect_eq(l.app_ota[0], 0);
	cr_expect_eq(espimg_otadata_layout_add(&l, "o2", 1, 0, 0xf000, SZ),
		     ESPIMG_EFORMAT);
}

Test(otadata_rules, s5_sixteen_slots_and_test_abort_the_app)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_result r;
	espimg_ota_rc rc;
	uint8_t blob[SZ];
	int out;

	mk_layout(&l, false, 0xFFFF, true, SZ);
	mk_config(&c, false, false);
	cr_expect(l.app_n_asserts);
	blank(blob, SZ);
	r = do_set(blob, &l, &c, "ota_3");
	cr_expect_eq(r.rc, ESPIMG_OTA_ABORT);
	espimg_otadata_app_boot_partition(blob, SZ, &l, &c, &out, &rc);
	cr_expect_eq(rc, ESPIMG_OTA_ABORT);
	mk_layout(&l, false, 0xFFFF, false, SZ);
	cr_expect_not(l.app_n_asserts);
	cr_expect_eq(l.app_n, 16);
}

/* ------------------------------------------------------------ §7 boot */

Test(otadata_boot, erased_with_and_without_factory)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_boot_result b;
	uint8_t blob[SZ], want[32];

	mk_config(&c, false, false);
	mk_layout(&l, true, 0x3, false, SZ);
	blank(blob, SZ);
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "factory"));
	cr_expect_not(b.written);
	/* a02: no factory -> ota_0, entry 0 = {1, FF, VALID}. */
	mk_layout(&l, false, 0x3, false, SZ);
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "ota_0"));
	cr_expect(b.initial && b.written);
	espimg_otadata_entry_encode(want, 1, NULL, ESPIMG_OTA_STATE_VALID);
	cr_expect_arr_eq(blob, want, 32);
	/* a06: ota_0 bad -> ota_1 loads, seq 2 written. */
	blank(blob, SZ);
	c.bad[app(&l, "ota_0")] = true;
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "ota_1"));
	cr_expect_eq(get_le32(blob), 2);
	/* All bad, no test: reset, nothing written. */
	blank(blob, SZ);
	c.bad[app(&l, "ota_1")] = true;
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.outcome, ESPIMG_OTADATA_BOOT_RESET_NO_APP);
	cr_expect_not(b.written);
	cr_expect_eq(b.n_tries, 2);
}

Test(otadata_boot, bad_crc_only_is_not_initial)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_boot_result b;
	uint8_t blob[SZ];

	/* c07: good seqs with bad CRCs, no factory: ota_0, nothing written. */
	mk_config(&c, false, false);
	mk_layout(&l, false, 0x3, false, SZ);
	blank(blob, SZ);
	put_entry(blob, 0, 1, 2);
	put_entry(blob, 1, 2, 2);
	blob[0x1C] ^= 0xFF;
	blob[0x101C] ^= 0xFF;
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "ota_0"));
	cr_expect_eq(b.start_index, ESPIMG_OTADATA_INDEX_FACTORY);
	cr_expect_not(b.written);
	/* g07: both INVALID/ABORTED (good CRC) + no factory: ota_0, no write. */
	put_entry(blob, 0, 1, ESPIMG_OTA_STATE_INVALID);
	put_entry(blob, 1, 2, ESPIMG_OTA_STATE_ABORTED);
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "ota_0"));
	cr_expect_not(b.initial);
	cr_expect_not(b.written);
}

Test(otadata_boot, rollback_transitions)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_boot_result b;
	uint8_t blob[SZ];

	mk_layout(&l, true, 0x3, false, SZ);
	mk_config(&c, true, false);
	/* NEW -> PENDING_VERIFY. */
	blank(blob, SZ);
	put_entry(blob, 0, 1, 2);
	put_entry(blob, 1, 2, ESPIMG_OTA_STATE_NEW);
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "ota_1"));
	cr_expect_eq(get_le32(blob + 0x1018), ESPIMG_OTA_STATE_PENDING_VERIFY);
	/* Next boot: PENDING_VERIFY -> ABORTED, back to ota_0. */
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "ota_0"));
	cr_expect_eq(get_le32(blob + 0x1018), ESPIMG_OTA_STATE_ABORTED);
	cr_expect_eq(b.writes[0].sector, 1);
	/* Without rollback in the bootloader NEW stays NEW. */
	mk_config(&c, false, false);
	put_entry(blob, 1, 2, ESPIMG_OTA_STATE_NEW);
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "ota_1"));
	cr_expect_not(b.written);
	/* g08: both PENDING (rollback) -> both ABORTED -> factory. */
	mk_config(&c, true, false);
	put_entry(blob, 0, 1, ESPIMG_OTA_STATE_PENDING_VERIFY);
	put_entry(blob, 1, 2, ESPIMG_OTA_STATE_PENDING_VERIFY);
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "factory"));
	cr_expect_eq(b.n_writes, 2);
	/* g05: ABORTED is skipped even without rollback. */
	mk_config(&c, false, false);
	put_entry(blob, 0, 1, 2);
	put_entry(blob, 1, 2, ESPIMG_OTA_STATE_ABORTED);
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "ota_0"));
}

Test(otadata_boot, walk_order_gap_and_test)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_boot_result b;
	uint8_t blob[SZ];

	/* 4 slots, seq 3 -> ota_2; ota_2 bad: ota_1, ota_0, factory, then
	 * ota_3, then test. */
	mk_layout(&l, true, 0xF, true, SZ);
	mk_config(&c, false, false);
	blank(blob, SZ);
	put_entry(blob, 0, 3, 2);
	for (int i = 0; i < 3; i++)
		c.bad[app(&l, ota_names[i])] = true;
	c.bad[app(&l, "factory")] = true;
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "ota_3"));
	cr_assert_eq(b.n_tries, 5);
	cr_expect_eq(b.tries[0].index, 2);
	cr_expect_eq(b.tries[1].index, 1);
	cr_expect_eq(b.tries[2].index, 0);
	cr_expect_eq(b.tries[3].index, ESPIMG_OTADATA_INDEX_FACTORY);
	cr_expect_eq(b.tries[4].index, 3);
	c.bad[app(&l, "ota_3")] = true;
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "test"));
	/* e05b: gap table, seq 2 -> index 1 empty -> ota_0 (ota_2 is never
	 * reached from otadata). */
	mk_layout(&l, false, 0x5, false, SZ);
	mk_config(&c, false, false);
	put_entry(blob, 0, 2, 2);
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.start_index, 1);
	cr_expect_eq(b.loaded, app(&l, "ota_0"));
}

Test(otadata_boot, no_otadata_small_otadata_short_blob)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_boot_result b;
	uint8_t blob[SZ];
	espimg_diag_list *d = espimg_diag_list_new();

	mk_config(&c, false, false);
	mk_layout(&l, true, 0x3, false, 0);
	cr_assert_eq(espimg_otadata_boot(NULL, 0, &l, &c, &b, NULL), 0);
	cr_expect_eq(b.loaded, app(&l, "factory"));
	mk_layout(&l, true, 0x3, false, 0x1000);
	cr_assert_eq(espimg_otadata_boot(blob, 0x1000, &l, &c, &b, NULL), 0);
	cr_expect_eq(b.outcome, ESPIMG_OTADATA_BOOT_RESET_OTADATA);
	mk_layout(&l, false, 0x3, false, SZ);
	blank(blob, SZ);
	cr_assert_eq(espimg_otadata_boot(blob, 0x800, &l, &c, &b, d), 0);
	cr_expect(b.entries_assumed);
	cr_expect_eq(b.loaded, app(&l, "ota_0"));
	cr_expect_not_null(fx_diag_find(d, "otadata.short", -1));
	espimg_diag_list_free(d);
}

Test(otadata_boot, anti_rollback)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_boot_result b;
	uint8_t blob[SZ];
	int o0, o1;

	mk_layout(&l, false, 0x3, false, SZ);
	o0 = app(&l, "ota_0");
	o1 = app(&l, "ota_1");
	/* i01: the newer entry's app is below the eFuse: skipped. */
	mk_config(&c, true, true);
	c.secure_version[o0] = 2;
	c.secure_version[o1] = 1;
	c.efuse_secure_version = 2;
	blank(blob, SZ);
	put_entry(blob, 0, 1, 2);
	put_entry(blob, 1, 2, 2);
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, o0);
	cr_expect_eq(b.selected_entry, 0);
	/* i02: VALID active entry burns the eFuse up to its app. */
	c.secure_version[o0] = 1;
	c.secure_version[o1] = 3;
	c.efuse_secure_version = 1;
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, o1);
	cr_expect_eq(b.efuse_after, 3);
	/* A version beyond the field is not burnt. */
	c.efuse_field_bits = 2;
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.efuse_after, 1);
	/* No OTA slot with a valid entry: the device divides by zero. */
	mk_layout(&l, true, 0, false, SZ);
	mk_config(&c, true, true);
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.outcome, ESPIMG_OTADATA_BOOT_FAULT);
}

/* ------------------------------------------------------------ §8 set_boot */

Test(otadata_set, from_erased_and_sector_choice)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_result r;
	uint8_t blob[SZ], want[SZ];

	mk_layout(&l, true, 0x3, false, SZ);
	mk_config(&c, false, false);
	blank(blob, SZ);
	r = do_set(blob, &l, &c, "ota_1");
	cr_expect_eq(r.rc, ESPIMG_OTA_OK);
	cr_expect_eq(r.sector, 0);
	cr_expect_eq(r.seq, 2);
	cr_expect_eq(r.state, ESPIMG_OTA_STATE_UNDEFINED);
	blank(want, SZ);
	espimg_otadata_entry_encode(want, 2, NULL, ESPIMG_OTA_STATE_UNDEFINED);
	cr_expect_arr_eq(blob, want, SZ);
	/* Active = entry 0 (ota_1) -> ota_0: other sector, seq 3. */
	r = do_set(blob, &l, &c, "ota_0");
	cr_expect_eq(r.sector, 1);
	cr_expect_eq(r.seq, 3);
	/* Active = entry 1 -> ota_1: sector 0 (not "the older" one). */
	r = do_set(blob, &l, &c, "ota_1");
	cr_expect_eq(r.sector, 0);
	cr_expect_eq(r.seq, 4);
	/* c08: bad CRCs everywhere -> entry 0, seq slot+1. */
	put_entry(blob, 0, 40, 2);
	put_entry(blob, 1, 41, 2);
	blob[0x1C] ^= 1;
	blob[0x101C] ^= 1;
	r = do_set(blob, &l, &c, "ota_1");
	cr_expect_eq(r.sector, 0);
	cr_expect_eq(r.seq, 2);
}

Test(otadata_set, record_keeps_label_tail_untouched_state_by_rollback)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_result r;
	uint8_t blob[0x4000], lab[20];

	mk_layout(&l, true, 0x3, false, 0x4000);
	mk_config(&c, true, false);
	blank(blob, sizeof(blob));
	for (int i = 0; i < 20; i++)
		lab[i] = (uint8_t)('a' + i);
	espimg_otadata_entry_encode(blob, 1, NULL, ESPIMG_OTA_STATE_VALID);
	espimg_otadata_entry_encode(blob + SEC, 0xFFFFFFFF, lab, 0x12345678);
	blob[SEC + 0x40] = 0x00;      /* erased by the write */
	blob[0x3000] = 0x55;          /* past 0x2000: untouched */
	blob[0x500] = 0x66;           /* the other sector: untouched */
	r = do_set(blob, &l, &c, "ota_1");
	cr_assert_eq(r.rc, ESPIMG_OTA_OK);
	cr_expect_eq(r.sector, 1);
	cr_expect_arr_eq(blob + SEC + 4, lab, 20);
	cr_expect_eq(get_le32(blob + SEC + 0x18), ESPIMG_OTA_STATE_NEW);
	cr_expect_eq(blob[SEC + 0x40], 0xFF);
	cr_expect_eq(blob[0x3000], 0x55);
	cr_expect_eq(blob[0x500], 0x66);
}

Test(otadata_set, same_slot_by_version)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_result r;
	uint8_t blob[SZ];

	mk_layout(&l, true, 0x3, false, SZ);
	mk_config(&c, true, false);
	blank(blob, SZ);
	put_entry(blob, 0, 1, 2);
	put_entry(blob, 1, 2, 2);
	/* v6.0+: the active entry rewritten with its own seq. */
	r = do_set(blob, &l, &c, "ota_1");
	cr_expect_eq(r.sector, 1);
	cr_expect_eq(r.seq, 2);
	cr_expect_not(r.searched);
	cr_expect_eq(get_le32(blob + SEC + 0x18), ESPIMG_OTA_STATE_NEW);
	/* v5.5: the same seq into the other entry. */
	put_entry(blob, 1, 2, 2);
	c.idf_version = ESPIMG_IDF_VERSION(5, 5, 5);
	r = do_set(blob, &l, &c, "ota_1");
	cr_expect_eq(r.sector, 0);
	cr_expect_eq(r.seq, 2);
	cr_expect(r.searched);
}

Test(otadata_set, refusals_and_device_errors)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_result r;
	uint8_t blob[SZ], before[SZ];

	mk_layout(&l, true, 0x3, true, SZ);
	mk_config(&c, false, false);
	blank(blob, SZ);
	put_entry(blob, 0, 1, 2);
	memcpy(before, blob, SZ);
	c.bad[app(&l, "ota_1")] = true;
	r = do_set(blob, &l, &c, "ota_1");
	cr_expect_eq(r.rc, ESPIMG_OTA_VALIDATE_FAILED);
	cr_expect_not(r.refused);
	c.bad[app(&l, "ota_1")] = false;
	/* Test partition: the device takes it as ota_0. */
	r = do_set(blob, &l, &c, "test");
	cr_expect_eq(r.rc, ESPIMG_OTA_REFUSE_NOT_BOOTABLE);
	cr_expect(r.refused);
	cr_expect_arr_eq(blob, before, SZ);
	c.unsafe = ESPIMG_OTADATA_UNSAFE_MIMIC;
	r = do_set(blob, &l, &c, "test");
	cr_expect_eq(r.rc, ESPIMG_OTA_OK);
	cr_expect_eq(r.sector, 0, "same slot as ota_0: active rewritten");
	/* Anti-rollback small version: reported, not done. */
	mk_layout(&l, false, 0x3, false, SZ);
	mk_config(&c, true, true);
	c.efuse_secure_version = 2;
	c.secure_version[app(&l, "ota_1")] = 1;
	memcpy(blob, before, SZ);
	r = do_set(blob, &l, &c, "ota_1");
	cr_expect_eq(r.rc, ESPIMG_OTA_SMALL_SEC_VER);
	cr_expect_eq(r.erased_app, app(&l, "ota_1"));
	cr_expect_arr_eq(blob, before, SZ);
	/* Gap table: ota_2 beyond the app's count. */
	mk_layout(&l, false, 0x5, false, SZ);
	mk_config(&c, false, false);
	r = do_set(blob, &l, &c, "ota_2");
	cr_expect_eq(r.rc, ESPIMG_OTA_INVALID_ARG);
	/* No otadata. */
	mk_layout(&l, true, 0x3, false, 0);
	cr_assert_eq(espimg_otadata_set_boot(NULL, 0, &l, &c,
					     app(&l, "ota_0"), &r, NULL), 0);
	cr_expect_eq(r.rc, ESPIMG_OTA_NOT_FOUND);
	/* Wrong blob size: not a device answer but a caller error. */
	mk_layout(&l, true, 0x3, false, SZ);
	cr_expect_eq(espimg_otadata_set_boot(blob, 0x1800, &l, &c,
					     app(&l, "ota_0"), &r, NULL),
		     ESPIMG_EFORMAT);
}

Test(otadata_set, factory_erases_everything)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_result r;
	uint8_t blob[0x10000];

	mk_layout(&l, true, 0x3, false, 0x10000);
	mk_config(&c, false, false);
	memset(blob, 0x11, sizeof(blob));
	put_entry(blob, 0, 1, 2);
	r = do_set(blob, &l, &c, "factory");
	cr_expect_eq(r.rc, ESPIMG_OTA_OK);
	cr_expect(r.erased_all && r.changed);
	for (size_t i = 0; i < sizeof(blob); i++)
		cr_assert_eq(blob[i], 0xFF, "byte %zu", i);
}

Test(otadata_set, wraparound_policies)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_result r;
	uint8_t blob[SZ], before[SZ];

	/* d02: seq 0xFFFFFFFE (ota_1 of 2) -> ota_0 gives 0xFFFFFFFF. */
	mk_layout(&l, true, 0x3, false, SZ);
	mk_config(&c, false, false);
	blank(blob, SZ);
	put_entry(blob, 0, 0xFFFFFFFE, 2);
	memcpy(before, blob, SZ);
	r = do_set(blob, &l, &c, "ota_0");
	cr_expect_eq(r.rc, ESPIMG_OTA_REFUSE_SEQ_UNUSABLE);
	cr_expect_eq(r.verdict, ESPIMG_OTADATA_SEQ_UNUSABLE);
	cr_expect_arr_eq(blob, before, SZ);
	c.unsafe = ESPIMG_OTADATA_UNSAFE_MIMIC;
	r = do_set(blob, &l, &c, "ota_0");
	cr_expect_eq(r.rc, ESPIMG_OTA_OK);
	cr_expect_eq(get_le32(blob + SEC), 0xFFFFFFFFu);
	memcpy(blob, before, SZ);
	c.unsafe = ESPIMG_OTADATA_UNSAFE_RESET_SEQ;
	r = do_set(blob, &l, &c, "ota_0");
	cr_expect_eq(r.rc, ESPIMG_OTA_OK);
	cr_expect(r.reset_seq);
	cr_expect_eq(get_le32(blob), 1);
	cr_expect_eq(get_le32(blob + SEC), 0xFFFFFFFFu);
	/* d03: 4 slots from 0xFFFFFFFE to ota_0 never returns, in every mode. */
	mk_layout(&l, false, 0xF, false, SZ);
	blank(blob, SZ);
	put_entry(blob, 0, 0xFFFFFFFE, 2);
	memcpy(before, blob, SZ);
	c.unsafe = ESPIMG_OTADATA_UNSAFE_MIMIC;
	r = do_set(blob, &l, &c, "ota_0");
	cr_expect_eq(r.rc, ESPIMG_OTA_HANG);
	cr_expect(r.refused);
	cr_expect_arr_eq(blob, before, SZ);
	/* c20: seq 0, 3 slots, ota_2 -> answer 0 maps to ota_0. */
	mk_layout(&l, false, 0x7, false, SZ);
	mk_config(&c, false, false);
	blank(blob, SZ);
	put_entry(blob, 0, 0, 2);
	r = do_set(blob, &l, &c, "ota_2");
	cr_expect_eq(r.rc, ESPIMG_OTA_REFUSE_SEQ_WRONG_SLOT);
}

/* ------------------------------------------------------------ §9 search */

Test(otadata_search, examples_and_arguments)
{
	uint32_t s;

	cr_expect_eq(espimg_otadata_seq_search(1, 1, 2, &s), ESPIMG_OTADATA_SEQ_OK);
	cr_expect_eq(s, 2);
	cr_expect_eq(espimg_otadata_seq_search(4, 0, 2, &s), ESPIMG_OTADATA_SEQ_OK);
	cr_expect_eq(s, 5);
	cr_expect_eq(espimg_otadata_seq_search(1, 3, 4, &s), ESPIMG_OTADATA_SEQ_OK);
	cr_expect_eq(s, 4);
	cr_expect_eq(espimg_otadata_seq_search(0, 1, 3, &s), ESPIMG_OTADATA_SEQ_OK);
	cr_expect_eq(s, 2);
	cr_expect_eq(espimg_otadata_seq_search(0xFFFFFFFD, 1, 2, &s),
		     ESPIMG_OTADATA_SEQ_OK);
	cr_expect_eq(s, 0xFFFFFFFE);
	cr_expect_eq(espimg_otadata_seq_search(0xFFFFFFFE, 0, 4, &s),
		     ESPIMG_OTADATA_SEQ_HANG);
	cr_expect_eq(espimg_otadata_seq_search(1, 0, 0, &s), ESPIMG_EINVAL);
	cr_expect_eq(espimg_otadata_seq_search(1, 2, 2, &s), ESPIMG_EINVAL);
	cr_expect_eq(espimg_otadata_seq_search(1, 0, 2, NULL), ESPIMG_EINVAL);
	cr_expect_str_eq(espimg_otadata_verdict_name(ESPIMG_OTADATA_SEQ_HANG),
			 "never returns");
}

/* The device's loop itself for small moduli where it ends quickly or we
 * can bound it: step until >= current or 2^32 / gcd steps have passed. */
Test(otadata_search, agrees_with_the_literal_loop_where_it_ends_fast)
{
	static const uint32_t cur[] = { 0, 1, 2, 3, 17, 1000, 0xFFFFFF00u };

	for (unsigned n = 1; n <= 16; n++) {
		for (unsigned t = 0; t < n; t++) {
			for (size_t k = 0; k < sizeof(cur) / sizeof(cur[0]); k++) {
				uint32_t i = 0, b = (t + 1) % n, want, got;
				uint64_t steps = 0;

				while (cur[k] > b + i * n && steps < (1u << 30)) {
					i++;
					steps++;
				}
				if (steps >= (1u << 30))
					continue;
				want = b + i * n;
				cr_assert_geq(espimg_otadata_seq_search(cur[k], t, n, &got), 0);
				cr_assert_eq(got, want, "n %u t %u cur %u", n, t, cur[k]);
			}
		}
	}
}

/* Independent of the pass model: the values b + i*n (mod 2^32) are those
 * congruent to b modulo the largest power of two dividing n, so the search
 * hangs exactly when the largest of them is below the current seq; and
 * without a wrap the answer is the first seq >= current in the slot. */
Test(otadata_search, hang_exactly_when_the_orbit_stays_below)
{
	uint32_t rs = 0x9E3779B9u;
	unsigned hangs = 0;

	for (unsigned k = 0; k < 200000; k++) {
		uint32_t cur, got, b, g = 1, top;
		unsigned n, t;
		int v;

		rs ^= rs << 13;
		rs ^= rs >> 17;
		rs ^= rs << 5;
		n = 1 + rs % 255;
		t = (rs >> 8) % n;
		cur = k & 1 ? 0xFFFFFFFFu - (rs >> 20) : rs * 2654435761u;
		b = (t + 1) % n;
		while (!(n & g))
			g <<= 1;
		top = 0xFFFFFFFFu - ((0xFFFFFFFFu - b) % g);
		v = espimg_otadata_seq_search(cur, t, n, &got);
		cr_assert_geq(v, 0);
		cr_assert_eq(v == ESPIMG_OTADATA_SEQ_HANG, top < cur,
			     "n %u t %u cur 0x%08x", n, t, cur);
		if (v == ESPIMG_OTADATA_SEQ_HANG) {
			hangs++;
			continue;
		}
		cr_assert_geq(got, cur);
		cr_assert_eq(got % g, b % g);
		if ((uint64_t)cur + n <= 0xFFFFFFFFu && b < cur)
			cr_assert_lt(got - cur, n);
	}
	cr_expect_gt(hangs, 0);
}

/* ------------------------------------------------------------ §10 queries */

Test(otadata_query, app_boot_partition)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_ota_rc rc;
	uint8_t blob[SZ];
	int out;

	mk_config(&c, false, false);
	blank(blob, SZ);
	mk_layout(&l, true, 0x3, false, SZ);
	espimg_otadata_app_boot_partition(blob, SZ, &l, &c, &out, &rc);
	cr_expect_eq(out, app(&l, "factory"));
	mk_layout(&l, false, 0x3, true, SZ);
	espimg_otadata_app_boot_partition(blob, SZ, &l, &c, &out, &rc);
	cr_expect_eq(out, app(&l, "ota_0"));
	/* Gap: the app uses N = 1, seq 2 -> ota_0 (the bootloader too here). */
	mk_layout(&l, false, 0x5, false, SZ);
	put_entry(blob, 0, 2, 2);
	espimg_otadata_app_boot_partition(blob, SZ, &l, &c, &out, &rc);
	cr_expect_eq(out, app(&l, "ota_0"));
	/* Good seqs, bad CRCs: the default partition. */
	mk_layout(&l, true, 0x3, false, SZ);
	blob[0x1C] ^= 1;
	espimg_otadata_app_boot_partition(blob, SZ, &l, &c, &out, &rc);
	cr_expect_eq(out, app(&l, "factory"));
	/* v3.2 with a valid entry and no OTA slot divides by zero. */
	mk_layout(&l, true, 0, false, SZ);
	put_entry(blob, 0, 2, 2);
	c.idf_version = ESPIMG_IDF_VERSION(3, 2, 0);
	espimg_otadata_app_boot_partition(blob, SZ, &l, &c, &out, &rc);
	cr_expect_eq(rc, ESPIMG_OTA_DIV_ZERO);
	c.idf_version = ESPIMG_IDF_NEWEST;
	espimg_otadata_app_boot_partition(blob, SZ, &l, &c, &out, &rc);
	cr_expect_eq(rc, ESPIMG_OTA_OK);
	cr_expect_eq(out, app(&l, "factory"));
}

Test(otadata_query, get_state_ignores_states_and_checks_crc)
{
	espimg_otadata_layout l;
	espimg_ota_rc rc;
	uint32_t st;
	uint8_t blob[SZ];

	mk_layout(&l, true, 0x3, false, SZ);
	blank(blob, SZ);
	put_entry(blob, 0, 1, ESPIMG_OTA_STATE_ABORTED);
	put_entry(blob, 1, 3, ESPIMG_OTA_STATE_PENDING_VERIFY);
	espimg_otadata_get_state(blob, SZ, &l, NULL, app(&l, "ota_0"), &st, &rc);
	cr_expect_eq(rc, ESPIMG_OTA_OK);
	cr_expect_eq(st, ESPIMG_OTA_STATE_ABORTED, "entry 0 first");
	espimg_otadata_get_state(blob, SZ, &l, NULL, app(&l, "ota_1"), &st, &rc);
	cr_expect_eq(rc, ESPIMG_OTA_NOT_FOUND);
	blob[0x1C] ^= 1;
	espimg_otadata_get_state(blob, SZ, &l, NULL, app(&l, "ota_0"), &st, &rc);
	cr_expect_eq(st, ESPIMG_OTA_STATE_PENDING_VERIFY);
	espimg_otadata_get_state(blob, SZ, &l, NULL, app(&l, "factory"), &st, &rc);
	cr_expect_eq(rc, ESPIMG_OTA_NOT_SUPPORTED);
	/* seq 0xFFFFFFFF with its CRC is not excluded: slot (0xFFFFFFFE % 2). */
	put_entry(blob, 0, 0xFFFFFFFF, 2);
	put_entry(blob, 1, 0xFFFFFFFF, 2);
	espimg_otadata_get_state(blob, SZ, &l, NULL, app(&l, "ota_0"), &st, &rc);
	cr_expect_eq(rc, ESPIMG_OTA_OK);
}

Test(otadata_query, next_update_and_last_invalid)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_ota_rc rc;
	uint8_t blob[SZ];
	int out;

	mk_layout(&l, true, 0xF, false, SZ);
	cr_expect_eq(espimg_otadata_next_update(&l, app(&l, "ota_0")), app(&l, "ota_1"));
	cr_expect_eq(espimg_otadata_next_update(&l, app(&l, "ota_3")), app(&l, "ota_0"));
	cr_expect_eq(espimg_otadata_next_update(&l, app(&l, "factory")), app(&l, "ota_0"));
	mk_layout(&l, false, 0x5, false, SZ);
	cr_expect_eq(espimg_otadata_next_update(&l, app(&l, "ota_0")), app(&l, "ota_2"));
	mk_layout(&l, true, 0, false, SZ);
	cr_expect_eq(espimg_otadata_next_update(&l, 0), -1);

	mk_layout(&l, false, 0x3, false, SZ);
	mk_config(&c, true, false);
	blank(blob, SZ);
	put_entry(blob, 0, 3, ESPIMG_OTA_STATE_ABORTED);
	put_entry(blob, 1, 2, ESPIMG_OTA_STATE_INVALID);
	espimg_otadata_last_invalid(blob, SZ, &l, &c, &out, &rc);
	cr_expect_eq(out, app(&l, "ota_1"), "smaller seq");
	c.bad[app(&l, "ota_1")] = true;
	espimg_otadata_last_invalid(blob, SZ, &l, &c, &out, &rc);
	cr_expect_eq(out, -1, "its image does not verify");
}

Test(otadata_query, mark_valid_and_invalid)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_result r;
	uint8_t blob[SZ], before[SZ];

	mk_layout(&l, true, 0x3, false, SZ);
	mk_config(&c, false, false);
	blank(blob, SZ);
	cr_assert_eq(espimg_otadata_mark_valid(blob, SZ, &l, &c, -1, &r, NULL), 0);
	cr_expect_eq(r.rc, ESPIMG_OTA_FAIL);
	/* g12: works without rollback; UNDEFINED -> VALID. */
	put_entry(blob, 0, 1, ESPIMG_OTA_STATE_UNDEFINED);
	cr_assert_eq(espimg_otadata_mark_valid(blob, SZ, &l, &c, -1, &r, NULL), 0);
	cr_expect_eq(r.rc, ESPIMG_OTA_OK);
	cr_expect_eq(get_le32(blob + 0x18), ESPIMG_OTA_STATE_VALID);
	memcpy(before, blob, SZ);
	cr_assert_eq(espimg_otadata_mark_valid(blob, SZ, &l, &c, -1, &r, NULL), 0);
	cr_expect_not(r.changed);
	cr_expect_eq(r.sector, -1);
	cr_expect_arr_eq(blob, before, SZ);
	/* mark_invalid: other entry empty, factory verifies -> ok. */
	mk_config(&c, true, false);
	cr_assert_eq(espimg_otadata_mark_invalid(blob, SZ, &l, &c, -1, &r, NULL), 0);
	cr_expect_eq(r.rc, ESPIMG_OTA_OK);
	cr_expect(r.restart);
	cr_expect_eq(get_le32(blob + 0x18), ESPIMG_OTA_STATE_INVALID);
	/* ... but not when the factory image is bad. */
	memcpy(blob, before, SZ);
	c.bad[app(&l, "factory")] = true;
	cr_assert_eq(espimg_otadata_mark_invalid(blob, SZ, &l, &c, -1, &r, NULL), 0);
	cr_expect_eq(r.rc, ESPIMG_OTA_ROLLBACK_FAILED);
	cr_expect_arr_eq(blob, before, SZ);
	/* Anti-rollback: mark_valid raises the eFuse to the running app's
	 * version; one beyond the field is the device's error, entry
	 * written all the same. */
	mk_layout(&l, true, 0x3, false, SZ);
	mk_config(&c, true, true);
	c.secure_version[app(&l, "ota_0")] = 5;
	c.efuse_secure_version = 1;
	blank(blob, SZ);
	put_entry(blob, 0, 1, ESPIMG_OTA_STATE_PENDING_VERIFY);
	cr_assert_eq(espimg_otadata_mark_valid(blob, SZ, &l, &c, -1, &r, NULL), 0);
	cr_expect_eq(r.rc, ESPIMG_OTA_OK);
	cr_expect_eq(r.efuse_rc, ESPIMG_OTA_OK);
	cr_expect(r.efuse_burnt);
	cr_expect_eq(r.efuse_secure_version, 5);
	c.efuse_field_bits = 4;
	put_entry(blob, 0, 1, ESPIMG_OTA_STATE_PENDING_VERIFY);
	cr_assert_eq(espimg_otadata_mark_valid(blob, SZ, &l, &c, -1, &r, NULL), 0);
	cr_expect_eq(r.rc, ESPIMG_OTA_OK);
	cr_expect_eq(r.efuse_rc, ESPIMG_OTA_INVALID_ARG);
	cr_expect_not(r.efuse_burnt);
	cr_expect_eq(get_le32(blob + 0x18), ESPIMG_OTA_STATE_VALID);
	/* v3.2 has no such calls. */
	c.idf_version = ESPIMG_IDF_VERSION(3, 2, 0);
	c.rollback = false;
	c.anti_rollback = false;
	c.bad[app(&l, "factory")] = false;
	cr_expect_eq(espimg_otadata_mark_valid(blob, SZ, &l, &c, -1, &r, NULL),
		     ESPIMG_EUNSUPPORTED);
}

Test(otadata_query, invalidate_inactive)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_result r;
	uint8_t blob[SZ];

	mk_layout(&l, false, 0x3, false, SZ);
	mk_config(&c, true, false);
	blank(blob, SZ);
	put_entry(blob, 0, 1, 2);
	put_entry(blob, 1, 2, 2);
	cr_assert_eq(espimg_otadata_invalidate_inactive(blob, SZ, &l, &c,
							app(&l, "ota_1"), &r,
							NULL), 0);
	cr_expect_eq(r.rc, ESPIMG_OTA_OK);
	cr_expect_eq(r.sector, 0);
	cr_expect_eq(get_le32(blob), 0xFFFFFFFFu);
	cr_assert_eq(espimg_otadata_invalidate_inactive(blob, SZ, &l, &c,
							app(&l, "ota_1"), &r,
							NULL), 0);
	cr_expect_eq(r.rc, ESPIMG_OTA_FAIL);
	c.idf_version = ESPIMG_IDF_VERSION(5, 4, 0);
	cr_expect_eq(espimg_otadata_invalidate_inactive(blob, SZ, &l, &c, 0, &r,
							NULL),
		     ESPIMG_EUNSUPPORTED);
}

Test(otadata_misc, init_names_config)
{
	uint8_t blob[0x3000];
	espimg_otadata_config c;

	cr_expect_eq(espimg_otadata_init(blob, 0x2000), 0);
	for (size_t i = 0; i < 0x2000; i++)
		cr_assert_eq(blob[i], 0xFF);
	cr_expect_eq(espimg_otadata_init(blob, 0x3000), 0);
	cr_expect_eq(espimg_otadata_init(blob, 0x1000), ESPIMG_EINVAL);
	cr_expect_eq(espimg_otadata_init(blob, 0x2800), ESPIMG_EINVAL);
	cr_expect_eq(espimg_otadata_init(NULL, 0x2000), ESPIMG_EINVAL);
	cr_expect_str_eq(espimg_otadata_state_name(1), "PENDING_VERIFY");
	cr_expect_null(espimg_otadata_state_name(7));
	cr_expect_str_eq(espimg_ota_rc_name(ESPIMG_OTA_ROLLBACK_FAILED),
			 "ESP_ERR_OTA_ROLLBACK_FAILED");
	mk_config(&c, false, true);
	cr_expect_eq(espimg_otadata_config_check(&c, NULL), ESPIMG_EINVAL);
	mk_config(&c, true, false);
	c.idf_version = ESPIMG_IDF_VERSION(3, 2, 0);
	cr_expect_eq(espimg_otadata_config_check(&c, NULL), ESPIMG_EINVAL);
	c.idf_version = ESPIMG_IDF_VERSION(2, 1, 0);
	cr_expect_eq(espimg_otadata_config_check(&c, NULL), ESPIMG_EUNSUPPORTED);
}

/* ------------------------------------------------------------ §16 */

/* The ten details a re-implementer gets wrong, one assertion group each;
 * most are covered at length above, this is the checklist. */
Test(otadata_details, ten_traps)
{
	espimg_otadata_layout l;
	espimg_otadata_config c;
	espimg_otadata_result r;
	espimg_otadata_boot_result b;
	espimg_otadata_entry e[2];
	uint8_t blob[SZ];
	uint32_t s;

	/* 1. CRC seed and coverage. */
	cr_expect_eq(espimg_otadata_crc(1), 0x4743989Au);
	/* 2. Entry 1 at 0x1000 even in a 16 KiB partition. */
	mk_layout(&l, true, 0x3, false, 0x4000);
	mk_config(&c, false, false);
	{
		uint8_t big[0x4000];

		blank(big, sizeof(big));
		put_entry(big, 0, 1, 2);
		r = do_set(big, &l, &c, "ota_1");
		cr_expect_eq(get_le32(big + 0x1000), 2);
		cr_expect_eq(get_le32(big + 0x2000), 0xFFFFFFFFu);
	}
	/* 3. ABORTED invalid without rollback; seq 0 and junk state valid. */
	blank(blob, SZ);
	put_entry(blob, 0, 5, ESPIMG_OTA_STATE_ABORTED);
	put_entry(blob, 1, 0, 9);
	espimg_otadata_decode(blob, SZ, &c, e, NULL);
	cr_expect(!e[0].valid && e[1].valid);
	/* 4. Ties go to entry 0. */
	put_entry(blob, 0, 0, 2);
	espimg_otadata_decode(blob, SZ, &c, e, NULL);
	cr_expect_eq(espimg_otadata_active(e, NULL), 0);
	/* 5. Bootloader N vs app N. */
	mk_layout(&l, false, 0x5, false, SZ);
	cr_expect(l.boot_n == 2 && l.app_n == 1);
	/* 6. The other sector than the active one, even when it is newer
	 * by nothing but position: active entry 1 -> write 0. */
	mk_layout(&l, true, 0x3, false, SZ);
	blank(blob, SZ);
	put_entry(blob, 0, 1, ESPIMG_OTA_STATE_INVALID);
	put_entry(blob, 1, 2, 2);
	r = do_set(blob, &l, &c, "ota_0");
	cr_expect_eq(r.sector, 0);
	cr_expect_eq(r.seq, 3);
	/* 7. State NEW only with rollback. */
	cr_expect_eq(r.state, ESPIMG_OTA_STATE_UNDEFINED);
	/* 8. Test -> ota_0 on the device; the bootloader never picks test. */
	mk_layout(&l, true, 0x3, true, SZ);
	c.unsafe = ESPIMG_OTADATA_UNSAFE_MIMIC;
	blank(blob, SZ);
	r = do_set(blob, &l, &c, "test");
	b = do_boot(blob, &l, &c);
	cr_expect_eq(b.loaded, app(&l, "ota_0"));
	c.unsafe = ESPIMG_OTADATA_UNSAFE_REFUSE;
	/* 9. The bootloader writes even with rollback off. */
	mk_layout(&l, false, 0x3, false, SZ);
	blank(blob, SZ);
	b = do_boot(blob, &l, &c);
	cr_expect(b.written);
	/* 10. Wraparound: unusable, wrong slot, hang. */
	cr_expect_eq(espimg_otadata_seq_search(0xFFFFFFFE, 0, 2, &s),
		     ESPIMG_OTADATA_SEQ_UNUSABLE);
	cr_expect_eq(espimg_otadata_seq_search(0, 2, 3, &s),
		     ESPIMG_OTADATA_SEQ_WRONG_SLOT);
	cr_expect_eq(espimg_otadata_seq_search(0xFFFFFFFE, 0, 4, &s),
		     ESPIMG_OTADATA_SEQ_HANG);
}

/* ------------------------------------------------------------ corpus */

static char *corpus_path(const char *rel)
{
	const char *root = getenv("CORPUS");
	struct stat st;
	size_t n;
	char *p;

	if (!root || !*root)
		root = "../shared/corpus";
	n = strlen(root) + strlen(rel) + 2;
	p = malloc(n);
	cr_assert_not_null(p);
	snprintf(p, n, "%s/%s", root, rel);
	if (stat(p, &st) != 0) {
		free(p);
		cr_skip_test("otadata corpus absent (set CORPUS=<corpus root>)");
	}
	return p;
}

/* a + b + c into out, failing the test when it does not fit. */
static void join3(char *out, size_t cap, const char *a, const char *b,
		  const char *c)
{
	int k = snprintf(out, cap, "%s%s%s", a, b, c);

	cr_assert(k >= 0 && (size_t)k < cap, "path too long: %s%s%s", a, b, c);
}

static uint8_t *load(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	uint8_t *buf = NULL;

	join3(path, sizeof(path), dir, "/", name);
	*len = 0;
	if (espimg_read_file(path, 1u << 20, &buf, len) != 0)
		return NULL;
	return buf;
}

/* Splits a line into tab-separated fields in place. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

enum {
	C_ID, C_VER, C_CONFIG, C_LAYOUT, C_SLOTS, C_FACTORY, C_TEST, C_SIZE,
	C_INPUT, C_OP, C_ARG, C_ENV, C_RC, C_O0S, C_O0ST, C_O0V, C_O1S, C_O1ST,
	C_O1V, C_CHANGED, C_BOOT, C_REWRITES, C_APPVIEW, C_NOTE, C_N
};

/* Vectors whose device answer is ESP_OK but which we refuse by default;
 * each must match the oracle in MIMIC mode. */
static const char *const refused_ok[] = {
	"c19_set_test_partition",        /* test taken as ota_0 */
	"c20_seq0_3slots_set_ota2",      /* answer 0 maps to ota_0 */
	"d02_wrap_seqFFFFFFFE_set_invalid",
	"d04_wrap_4slots_to_ota2",
	"d05_wrap_3slots_wraps",
};

static bool is_refused_ok(const char *id)
{
	for (size_t i = 0; i < sizeof(refused_ok) / sizeof(refused_ok[0]); i++)
		if (!strcmp(id, refused_ok[i]))
			return true;
	return false;
}

static unsigned parse_version(const char *v)
{
	unsigned out = 0;

	if (!strcmp(v, "master"))
		return ESPIMG_IDF_NEWEST;
	cr_assert_eq(espimg_idf_version_parse(v, &out), 0, "version %s", v);
	return out;
}

/* env: "bad=a+b", "secver=l:N+l:N", "efuse=N", "running=l", joined by ','. */
static void parse_env(const char *env, const espimg_otadata_layout *l,
		      espimg_otadata_config *c, int *running)
{
	char buf[512], *save = NULL, *tok;

	*running = -1;
	if (!strcmp(env, "-"))
		return;
	snprintf(buf, sizeof(buf), "%s", env);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *v = strchr(tok, '='), *s2 = NULL, *it;

		cr_assert_not_null(v, "env %s", env);
		*v++ = '\0';
		if (!strcmp(tok, "efuse")) {
			c->efuse_secure_version = (uint32_t)strtoul(v, NULL, 0);
		} else if (!strcmp(tok, "running")) {
			*running = app(l, v);
		} else {
			for (it = strtok_r(v, "+", &s2); it; it = strtok_r(NULL, "+", &s2)) {
				if (!strcmp(tok, "bad")) {
					c->bad[app(l, it)] = true;
				} else if (!strcmp(tok, "secver")) {
					char *colon = strchr(it, ':');

					cr_assert_not_null(colon);
					*colon++ = '\0';
					c->secure_version[app(l, it)] =
						(uint32_t)strtoul(colon, NULL, 0);
				} else {
					cr_assert_fail("unknown env key %s", tok);
				}
			}
		}
	}
}

struct corpus_counts {
	unsigned vectors, matched, after_boot, mimic, refused, skipped;
};

static void check_after_boot(const char *id, const uint8_t *ours, size_t len,
			     const uint8_t *after, size_t after_len,
			     const espimg_otadata_layout *l,
			     const espimg_otadata_config *c, const char *boot_col,
			     const char *app_view)
{
	uint8_t *copy = malloc(len);
	espimg_otadata_boot_result b;
	espimg_ota_rc rc;
	int view;

	cr_assert_not_null(copy);
	memcpy(copy, ours, len);
	cr_assert_eq(espimg_otadata_boot(copy, len, l, c, &b, NULL), 0, "%s", id);
	cr_expect_str_eq(name_of(l, b.loaded), boot_col, "%s: next boot", id);
	if (after) {
		cr_expect_eq(after_len, len, "%s", id);
		cr_expect(after_len == len && !memcmp(copy, after, len),
			  "%s: otadata after the next boot differs", id);
	}
	cr_assert_eq(espimg_otadata_app_boot_partition(ours, len, l, c, &view,
						       &rc), 0);
	cr_expect_str_eq(name_of(l, view), app_view, "%s: app view", id);
	free(copy);
}

static void run_vector(char **f, const char *root, struct corpus_counts *n)
{
	char dir[1400];
	size_t plen, ilen, olen, alen;
	uint8_t *pbin, *in, *out, *after, *work;
	espimg_ptable_opts po;
	espimg_ptable *t = NULL;
	espimg_otadata_layout l;
	espimg_otadata_config c;
	const char *id = f[C_ID], *op = f[C_OP], *rcs = f[C_RC];
	int running;

	join3(dir, sizeof(dir), root, "/vectors/", id);
	if (!strncmp(op, "otatool_", 8)) {
		n->skipped++; /* otatool.py is not the device */
		return;
	}
	n->vectors++;
	pbin = load(dir, "partitions.bin", &plen);
	in = load(dir, "input.bin", &ilen);
	out = load(dir, "output.bin", &olen);
	after = load(dir, "after_boot.bin", &alen);
	cr_assert(pbin && in && out, "%s: files", id);
	espimg_ptable_opts_init(&po);
	cr_assert_eq(espimg_ptable_parse(pbin, plen, &po, "partitions.bin", &t,
					 NULL), 0, "%s", id);
	cr_assert_eq(espimg_otadata_layout_from_ptable(t, &l, NULL), 0, "%s", id);
	espimg_otadata_config_init(&c);
	c.idf_version = parse_version(f[C_VER]);
	c.rollback = strcmp(f[C_CONFIG], "rb0") != 0;
	c.anti_rollback = !strcmp(f[C_CONFIG], "arb");
	parse_env(f[C_ENV], &l, &c, &running);
	cr_assert_eq(ilen, l.otadata_size, "%s", id);
	work = malloc(ilen);
	cr_assert_not_null(work);
	memcpy(work, in, ilen);

	if (!strcmp(op, "boot")) {
		espimg_otadata_boot_result b;

		cr_assert_eq(espimg_otadata_boot(work, ilen, &l, &c, &b, NULL), 0);
		cr_expect_str_eq(name_of(&l, b.loaded), f[C_BOOT], "%s", id);
		cr_expect_str_eq(b.outcome == ESPIMG_OTADATA_BOOT_LOADED ?
				 "loaded" : "reset_no_bootable_app", rcs, "%s", id);
		cr_expect_eq(b.written, !strcmp(f[C_REWRITES], "y"), "%s", id);
		if (olen == ilen && !memcmp(work, out, olen))
			n->matched++;
		else
			cr_expect_fail("%s: output differs", id);
	} else if (!strcmp(op, "set_boot") || !strcmp(op, "mark_valid") ||
		   !strcmp(op, "mark_invalid") ||
		   !strcmp(op, "invalidate_inactive")) {
		espimg_otadata_result r;
		bool ok = !strncmp(rcs, "ESP_OK", 6);
		int rc;

		if (!strcmp(op, "set_boot"))
			rc = espimg_otadata_set_boot(work, ilen, &l, &c,
						     app(&l, f[C_ARG]), &r, NULL);
		else if (!strcmp(op, "mark_valid"))
			rc = espimg_otadata_mark_valid(work, ilen, &l, &c,
						       running, &r, NULL);
		else if (!strcmp(op, "mark_invalid"))
			rc = espimg_otadata_mark_invalid(work, ilen, &l, &c,
							 running, &r, NULL);
		else
			rc = espimg_otadata_invalidate_inactive(work, ilen, &l,
								&c, running,
								&r, NULL);
		cr_assert_eq(rc, 0, "%s", id);
		if (ok && is_refused_ok(id)) {
			/* Refused by default, the device's bytes in MIMIC. */
			cr_expect(r.refused, "%s: expected a refusal, got %s",
				  id, espimg_ota_rc_name(r.rc));
			cr_expect_arr_eq(work, in, ilen, "%s: refusal wrote", id);
			n->refused++;
			c.unsafe = ESPIMG_OTADATA_UNSAFE_MIMIC;
			memcpy(work, in, ilen);
			cr_assert_eq(espimg_otadata_set_boot(work, ilen, &l, &c,
							     app(&l, f[C_ARG]),
							     &r, NULL), 0);
			cr_expect_eq(r.rc, ESPIMG_OTA_OK, "%s", id);
			n->mimic++;
		} else if (ok) {
			cr_expect_eq(r.rc, ESPIMG_OTA_OK, "%s: %s", id,
				     espimg_ota_rc_name(r.rc));
			cr_expect_eq(r.restart, strstr(rcs, "+restart") != NULL,
				     "%s", id);
		} else if (!strcmp(rcs, "HANG")) {
			cr_expect_eq(r.rc, ESPIMG_OTA_HANG, "%s", id);
			n->refused++;
		} else {
			cr_expect_str_eq(espimg_ota_rc_name(r.rc), rcs, "%s", id);
		}
		if (olen == ilen && !memcmp(work, out, olen))
			n->matched++;
		else
			cr_expect_fail("%s: output differs", id);
		cr_expect_eq(r.changed, !strcmp(f[C_CHANGED], "y"), "%s", id);
		check_after_boot(id, work, ilen, after, alen, &l, &c, f[C_BOOT],
				 f[C_APPVIEW]);
		n->after_boot++;
	} else {
		espimg_ota_rc rc = ESPIMG_OTA_OK;
		int res = -1;
		char got[64];

		if (!strcmp(op, "get_boot")) {
			cr_assert_eq(espimg_otadata_app_boot_partition(in, ilen, &l,
								       &c, &res,
								       &rc), 0);
			snprintf(got, sizeof(got), "result=%s", name_of(&l, res));
		} else if (!strcmp(op, "last_invalid")) {
			cr_assert_eq(espimg_otadata_last_invalid(in, ilen, &l, &c,
								 &res, &rc), 0);
			snprintf(got, sizeof(got), "result=%s", name_of(&l, res));
		} else if (!strcmp(op, "next_update")) {
			res = espimg_otadata_next_update(&l, running);
			snprintf(got, sizeof(got), "result=%s", name_of(&l, res));
		} else if (!strcmp(op, "get_state")) {
			uint32_t st;

			cr_assert_eq(espimg_otadata_get_state(in, ilen, &l, &c,
							      app(&l, f[C_ARG]),
							      &st, &rc), 0);
			if (rc == ESPIMG_OTA_OK)
				snprintf(got, sizeof(got), "ESP_OK/%s",
					 espimg_otadata_state_name(st));
			else
				snprintf(got, sizeof(got), "%s",
					 espimg_ota_rc_name(rc));
		} else {
			cr_assert_fail("%s: unknown op %s", id, op);
		}
		if (strcmp(op, "get_state"))
			cr_expect_eq(rc, ESPIMG_OTA_OK, "%s", id);
		if (!strcmp(got, rcs))
			n->matched++;
		else
			cr_expect_str_eq(got, rcs, "%s", id);
		cr_expect_arr_eq(in, out, ilen, "%s: a query changed otadata", id);
		check_after_boot(id, in, ilen, after, alen, &l, &c, f[C_BOOT],
				 f[C_APPVIEW]);
		n->after_boot++;
	}
	free(work);
	free(pbin);
	free(in);
	free(out);
	free(after);
	espimg_ptable_free(t);
}

Test(otadata_corpus, vectors)
{
	char *root = corpus_path("otadata/vectors.tsv");
	char *tsv = root, line[2048], *f[C_N + 1];
	char base[1024];
	struct corpus_counts n = { 0 };
	FILE *fp = fopen(tsv, "r");
	unsigned lines = 0;

	cr_assert_not_null(fp);
	join3(base, sizeof(base), tsv, "", "");
	*strrchr(base, '/') = '\0';
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (lines++ == 0)
			continue; /* header */
		cr_assert_eq(split(line, f, C_N + 1), C_N, "line %u", lines);
		run_vector(f, base, &n);
	}
	fclose(fp);
	free(root);
	cr_log_info("otadata corpus: %u vectors, %u matched, %u after-boot checks, %u refused by default (%u matched in MIMIC mode), %u otatool skipped",
		    n.vectors, n.matched, n.after_boot, n.refused, n.mimic,
		    n.skipped);
	cr_expect_eq(n.vectors + n.skipped, 137);
	cr_expect_eq(n.matched, n.vectors);
}

Test(otadata_corpus, seq_search_table)
{
	char *path = corpus_path("otadata/seq_search.tsv");
	char line[256], *f[8];
	FILE *fp = fopen(path, "r");
	unsigned rows = 0, hangs = 0;

	cr_assert_not_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		unsigned n, cur_slot, target;
		uint32_t cur, got = 0;
		int v;

		line[strcspn(line, "\r\n")] = '\0';
		if (!strncmp(line, "slots", 5))
			continue;
		cr_assert_eq(split(line, f, 8), 7, "%s", line);
		n = (unsigned)strtoul(f[0], NULL, 0);
		cur = (uint32_t)strtoul(f[1], NULL, 0);
		cur_slot = (unsigned)strtoul(f[2], NULL, 0);
		target = (unsigned)strtoul(f[3], NULL, 0);
		cr_expect_eq((unsigned)espimg_otadata_seq_slot(cur, n), cur_slot);
		v = espimg_otadata_seq_search(cur, target, n, &got);
		cr_assert_geq(v, 0);
		cr_expect_str_eq(espimg_otadata_verdict_name((espimg_otadata_verdict)v),
				 f[6], "n %u cur 0x%08x target %u", n, cur, target);
		if (v == ESPIMG_OTADATA_SEQ_HANG) {
			cr_expect_str_eq(f[4], "HANG");
			hangs++;
		} else {
			cr_expect_eq(got, (uint32_t)strtoul(f[4], NULL, 0),
				     "n %u cur 0x%08x target %u", n, cur, target);
			cr_expect_eq((unsigned)espimg_otadata_seq_slot(got, n),
				     (unsigned)strtoul(f[5], NULL, 0));
		}
		rows++;
	}
	fclose(fp);
	free(path);
	cr_expect_eq(rows, 512);
	cr_expect_eq(hangs, 66);
}

/* ------------------------------------------------------------ properties */

/* xorshift32, fixed seed. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#define MAX_PRIOR 512
struct prior {
	uint8_t e[2][32];
};

/* Prior entry pairs: from every input.bin of the corpus (when present),
 * then random ones around interesting seqs with every state. */
static size_t priors(struct prior *p, size_t cap)
{
	static const uint32_t seqs[] = {
		0, 1, 2, 3, 4, 5, 15, 16, 17, 0x7FFFFFFF, 0x80000000,
		0xFFFFFFF0, 0xFFFFFFFC, 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFF,
	};
	static const uint32_t states[] = { 0, 1, 2, 3, 4, 0xFFFFFFFF, 7 };
	const char *root = getenv("CORPUS");
	char tsv[1024], line[2048], *f[C_N + 1];
	size_t n = 0;
	uint32_t s = 0x2545F491u;
	FILE *fp;

	if (!root || !*root)
		root = "../shared/corpus";
	join3(tsv, sizeof(tsv), root, "/otadata/vectors.tsv", "");
	fp = fopen(tsv, "r");
	while (fp && fgets(line, sizeof(line), fp) && n < cap / 2) {
		char dir[1200];
		uint8_t *in;
		size_t len;

		line[strcspn(line, "\r\n")] = '\0';
		if (split(line, f, C_N + 1) != C_N || !strcmp(f[C_ID], "id"))
			continue;
		join3(dir, sizeof(dir), root, "/otadata/vectors/", f[C_ID]);
		in = load(dir, "input.bin", &len);
		if (in && len >= SZ) {
			memcpy(p[n].e[0], in, 32);
			memcpy(p[n].e[1], in + SEC, 32);
			n++;
		}
		free(in);
	}
	if (fp)
		fclose(fp);
	while (n < cap) {
		for (int i = 0; i < 2; i++) {
			uint32_t r = rnd(&s), seq;

			switch (r % 4) {
			case 0:
				seq = seqs[rnd(&s) % (sizeof(seqs) / sizeof(seqs[0]))];
				break;
			case 1:
				seq = rnd(&s);
				break;
			default:
				seq = rnd(&s) % 40;
				break;
			}
			espimg_otadata_entry_encode(p[n].e[i], seq, NULL,
						    states[rnd(&s) % 7]);
			if (rnd(&s) % 8 == 0)
				p[n].e[i][0x1C] ^= 0x5A; /* bad CRC */
			if (rnd(&s) % 10 == 0)
				memset(p[n].e[i], 0xFF, 32);
		}
		n++;
	}
	return n;
}

/*
 * Acceptance 2: for 1..16 slots, every prior pair of entries, every
 * target slot: set_boot then boot loads that slot, or set_boot refuses;
 * a successful write never leaves both entries invalid.  The device's own
 * write (MIMIC, no check of ours) is booted too, so the property does not
 * rest on set_boot's self-check: only the search verdicts may differ.
 */
Test(otadata_property, set_boot_then_boot_loads_that_slot_or_refuses,
     .timeout = 120)
{
	static struct prior pr[MAX_PRIOR];
	size_t np = priors(pr, MAX_PRIOR);
	unsigned cases = 0, refused = 0, written = 0;
	uint8_t blob[SZ], dev[SZ], tmp[SZ];

	for (unsigned n = 1; n <= 16; n++) {
		for (int variant = 0; variant < 4; variant++) {
			espimg_otadata_layout l;
			espimg_otadata_config c, m;
			bool factory = variant & 1, rb = variant & 2;

			mk_layout(&l, factory, slots_mask(n), false, SZ);
			mk_config(&c, rb, false);
			m = c;
			m.unsafe = ESPIMG_OTADATA_UNSAFE_MIMIC;
			for (size_t k = 0; k < np; k++) {
				for (unsigned t = 0; t < n; t++) {
					espimg_otadata_result r, rm;
					espimg_otadata_boot_result b;
					espimg_otadata_entry e[2];
					int target = app(&l, ota_names[t]);
					bool unsafe;

					blank(blob, SZ);
					memcpy(blob, pr[k].e[0], 32);
					memcpy(blob + SEC, pr[k].e[1], 32);
					memcpy(dev, blob, SZ);
					cr_assert_eq(espimg_otadata_set_boot(blob, SZ, &l, &c,
									     target, &r, NULL), 0);
					cr_assert_eq(espimg_otadata_set_boot(dev, SZ, &l, &m,
									     target, &rm, NULL), 0);
					cases++;
					unsafe = rm.searched && rm.verdict != ESPIMG_OTADATA_SEQ_OK;
					/* The device's write boots the target unless the
					 * search went wrong. */
					if (rm.rc == ESPIMG_OTA_OK && !unsafe) {
						memcpy(tmp, dev, SZ);
						cr_assert_eq(espimg_otadata_boot(tmp, SZ, &l, &m, &b, NULL), 0);
						cr_assert_eq(b.loaded, target,
							     "n %u prior %zu: device write for %s boots %s",
							     n, k, ota_names[t], name_of(&l, b.loaded));
					}
					if (r.rc != ESPIMG_OTA_OK) {
						cr_assert(r.refused && unsafe,
							  "n %u prior %zu slot %u: %s", n, k, t,
							  espimg_ota_rc_name(r.rc));
						cr_assert_eq(r.rc, r.verdict == ESPIMG_OTADATA_SEQ_HANG ?
							     ESPIMG_OTA_HANG :
							     r.verdict == ESPIMG_OTADATA_SEQ_UNUSABLE ?
							     ESPIMG_OTA_REFUSE_SEQ_UNUSABLE :
							     ESPIMG_OTA_REFUSE_SEQ_WRONG_SLOT);
						refused++;
						continue;
					}
					cr_assert_not(unsafe);
					cr_assert_arr_eq(blob, dev, SZ, "n %u prior %zu slot %u variant %d: %s sector %d/%d seq %x/%x",
							 n, k, t, variant, espimg_ota_rc_name(rm.rc), r.sector, rm.sector, r.seq, rm.seq);
					written++;
					espimg_otadata_decode(blob, SZ, &c, e, NULL);
					cr_assert(e[0].valid || e[1].valid,
						  "n %u prior %zu slot %u: both entries invalid", n, k, t);
					cr_assert_eq(espimg_otadata_boot(blob, SZ, &l, &c, &b, NULL), 0);
					cr_assert_eq(b.loaded, target,
						     "n %u prior %zu: set %s, boot loads %s",
						     n, k, ota_names[t], name_of(&l, b.loaded));
				}
			}
		}
	}
	cr_log_info("otadata property: %u set_boot cases over 1..16 slots (%u written and booted, %u refused)",
		    cases, written, refused);
	cr_expect_gt(written, refused);
	cr_expect_gt(refused, 0);
}

/* The same through the factory target and with the version switches. */
Test(otadata_property, versions_and_factory)
{
	static struct prior pr[MAX_PRIOR];
	size_t np = priors(pr, MAX_PRIOR);
	static const unsigned vers[] = {
		ESPIMG_IDF_VERSION(3, 2, 0), ESPIMG_IDF_VERSION(3, 3, 6),
		ESPIMG_IDF_VERSION(5, 5, 5), ESPIMG_IDF_NEWEST,
	};
	uint8_t blob[SZ];

	for (size_t v = 0; v < sizeof(vers) / sizeof(vers[0]); v++) {
		for (unsigned n = 1; n <= 4; n++) {
			espimg_otadata_layout l;
			espimg_otadata_config c;

			mk_layout(&l, true, slots_mask(n), false, SZ);
			mk_config(&c, vers[v] != ESPIMG_IDF_VERSION(3, 2, 0), false);
			c.idf_version = vers[v];
			for (size_t k = 0; k < np; k += 3) {
				for (int t = -1; t < (int)n; t++) {
					espimg_otadata_result r;
					espimg_otadata_boot_result b;
					int target = t < 0 ? app(&l, "factory") :
							     app(&l, ota_names[t]);

					blank(blob, SZ);
					memcpy(blob, pr[k].e[0], 32);
					memcpy(blob + SEC, pr[k].e[1], 32);
					cr_assert_eq(espimg_otadata_set_boot(blob, SZ, &l, &c,
									     target, &r, NULL), 0);
					if (r.rc != ESPIMG_OTA_OK) {
						cr_assert(r.refused);
						continue;
					}
					cr_assert_eq(espimg_otadata_boot(blob, SZ, &l, &c, &b, NULL), 0);
					cr_assert_eq(b.loaded, target, "version %u n %u prior %zu target %d",
						     vers[v], n, k, t);
				}
			}
		}
	}
}
