/*
 * fuzz_otadata.c - libFuzzer harness for the otadata decoder, the seq
 * search, the bootloader simulation and the app-side writes.
 *
 * Input: a 12-byte header, then otadata bytes.
 *   0     config: bit 0 rollback, bit 1 anti-rollback (with rollback),
 *         bits 2-3 ESP-IDF version (newest, v5.5.5, v3.3.6, v3.2),
 *         bits 4-5 unsafe policy, bit 6 16 KiB otadata, bit 7 raw blob
 *   1-2   OTA subtypes present (bit i = ota_i)
 *   3     bit 0 factory, bit 1 test, bit 2 a duplicate of subtype
 *         byte 4 & 0x1F plus 0x10 (or an unknown app subtype when that is
 *         above 0x1F), bit 3 no otadata, bit 4 otadata of 0x1000 bytes
 *   4     the duplicate's subtype
 *   5     operation (mod 6): set_boot, mark_valid, mark_invalid,
 *         invalidate_inactive, boot, queries
 *   6     target / running app (mod the number of apps)
 *   7     eFuse secure version (mod 17)
 *   8-9   bad images (bit i = apps[i])
 *   10-11 secure versions: app i gets bits 2i..2i+1 (mod 8 apps)
 * Without the raw bit the rest gives the two 32-byte records, placed at
 * 0x0 and 0x1000 of an erased partition; with it the rest is the whole
 * blob (any length, so short ones too).
 *
 * Checked: decode's fields follow the rules; the seq search's answer is
 * >= the current seq and in the right slot when it says ok, and a hang is
 * exactly "no value of the orbit reaches the current seq"; a refused or
 * failed write leaves the blob alone; a write touches only its sector's
 * 4 KiB (32 bytes, then 0xFF); a REFUSE-mode set_boot is followed by a
 * boot of its target, never with both entries invalid; boot writes only
 * entry sectors and never lowers the eFuse.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"
#include "espimg/otadata.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 12u
#define SEC ESPIMG_OTADATA_SECTOR

static const char *const names[] = {
	"ota_0", "ota_1", "ota_2", "ota_3", "ota_4", "ota_5", "ota_6",
	"ota_7", "ota_8", "ota_9", "ota_10", "ota_11", "ota_12", "ota_13",
	"ota_14", "ota_15",
};

static void check_search(uint32_t cur, unsigned t, unsigned n)
{
	uint32_t got = 0, b = (t + 1) % n, g = 1, top;
	int v = espimg_otadata_seq_search(cur, t, n, &got);

	CHECK(v >= 0);
	/* The values b + i*n (mod 2^32) are exactly those = b modulo the
	 * largest power of two dividing n; the search hangs iff the largest
	 * of them is below cur. */
	while (!(n & g))
		g <<= 1;
	top = UINT32_MAX - ((UINT32_MAX - b) % g);
	CHECK((v == ESPIMG_OTADATA_SEQ_HANG) == (top < cur));
	if (v == ESPIMG_OTADATA_SEQ_HANG)
		return;
	CHECK(got >= cur);
	CHECK(got % g == b % g);
	if (v == ESPIMG_OTADATA_SEQ_OK)
		CHECK(got != UINT32_MAX && (got - 1u) % n == t);
	else if (v == ESPIMG_OTADATA_SEQ_UNUSABLE)
		CHECK(got == UINT32_MAX);
	else
		CHECK(got != UINT32_MAX && (got - 1u) % n != t);
	/* Without a wrap the answer is the smallest seq >= cur in the slot. */
	if (b >= cur)
		CHECK(got == b);
	else if ((uint64_t)cur + n <= UINT32_MAX)
		CHECK(got - cur < n);
}

static void check_entries(const uint8_t *blob, size_t size,
			  const espimg_otadata_config *cfg)
{
	espimg_otadata_entry e[2];
	espimg_otadata_active_why why;
	bool states = cfg->idf_version == ESPIMG_IDF_NEWEST ||
		      cfg->idf_version >= ESPIMG_IDF_VERSION(3, 3, 0);
	espimg_diag_list *d = espimg_diag_list_new();
	int a;

	CHECK(d);
	CHECK(espimg_otadata_decode(blob, size, cfg, e, d) == 0);
	for (unsigned i = 0; i < 2; i++) {
		size_t off = (size_t)i * SEC;
		uint8_t rec[32];

		memset(rec, 0xFF, sizeof(rec));
		if (off < size)
			memcpy(rec, blob + off, size - off < 32 ? size - off : 32);
		CHECK(e[i].present == (off + 32 <= size));
		CHECK(e[i].seq == le32(rec) && e[i].state == le32(rec + 24) &&
		      e[i].crc == le32(rec + 28));
		CHECK(e[i].crc_computed == espimg_otadata_crc(e[i].seq));
		CHECK(e[i].crc_ok == (e[i].crc == e[i].crc_computed));
		CHECK(e[i].usable ==
		      (e[i].seq != UINT32_MAX &&
		       (!states || (e[i].state != 3 && e[i].state != 4))));
		CHECK(e[i].valid == (e[i].usable && e[i].crc_ok));
	}
	a = espimg_otadata_active(e, &why);
	if (e[0].valid && e[1].valid)
		CHECK(a == (e[1].seq > e[0].seq ? 1 : 0));
	else if (e[0].valid || e[1].valid)
		CHECK(a == (e[0].valid ? 0 : 1) && why == ESPIMG_OTADATA_ACTIVE_ONLY);
	else
		CHECK(a == -1 && why == ESPIMG_OTADATA_ACTIVE_NONE);
	for (size_t i = 0; i < espimg_diag_count(d); i++) {
		const espimg_diag *x = espimg_diag_get(d, i);
		CHECK(!strncmp(x->code, "otadata.", 8) && x->message);
	}
	espimg_diag_list_free(d);
}

/* Only sector s changed, as a device write leaves it. */
static void check_write(const uint8_t *before, const uint8_t *after,
			size_t size, const espimg_otadata_result *r)
{
	for (size_t k = 0; k < size; k++) {
		size_t s = k / SEC;

		if (r->erased_all) {
			CHECK(after[k] == 0xFF);
		} else if (r->reset_seq && s < 2) {
			if (k % SEC >= 32 || s == 1)
				CHECK(after[k] == 0xFF);
		} else if (r->sector >= 0 && s == (size_t)r->sector) {
			if (k % SEC >= 32 || r->sector_erased_only)
				CHECK(after[k] == 0xFF);
		} else {
			CHECK(after[k] == before[k]);
		}
	}
	CHECK(r->changed == (memcmp(before, after, size) != 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned vers[4] = {
		ESPIMG_IDF_NEWEST, ESPIMG_IDF_VERSION(5, 5, 5),
		ESPIMG_IDF_VERSION(3, 3, 6), ESPIMG_IDF_VERSION(3, 2, 0),
	};
	espimg_otadata_layout l;
	espimg_otadata_config c;
	const uint8_t *hdr;
	uint8_t *blob, *before;
	size_t bsize, psize;
	unsigned mask, n_apps, op;
	int target;
	uint32_t off = 0x10000;

	if (size < HDR)
		return 0;
	/* The seq search on header bytes reused as numbers. */
	check_search(le32(data + 2), data[6] % (1u + data[7] % 255u) ,
		     1u + data[7] % 255u);

	espimg_otadata_config_init(&c);
	c.rollback = data[0] & 1;
	c.idf_version = vers[(data[0] >> 2) & 3];
	if (c.idf_version == ESPIMG_IDF_VERSION(3, 2, 0))
		c.rollback = false;
	c.anti_rollback = c.rollback && (data[0] & 2);
	c.unsafe = (espimg_otadata_unsafe)(((data[0] >> 4) & 3) % 3);
	c.efuse_secure_version = data[7] % 17u;

	espimg_otadata_layout_init(&l);
	psize = data[3] & 0x10 ? 0x1000 : data[0] & 0x40 ? 0x4000 : 0x2000;
	if (!(data[3] & 8))
		CHECK(espimg_otadata_layout_add(&l, "otadata", 1, 0, 0xd000,
						(uint32_t)psize) == 0);
	if (data[3] & 1) {
		CHECK(espimg_otadata_layout_add(&l, "factory", 0, 0, off, 0x10000) == 0);
		off += 0x10000;
	}
	mask = (unsigned)data[1] | (unsigned)data[2] << 8;
	for (unsigned i = 0; i < 16; i++) {
		if (mask & (1u << i)) {
			CHECK(espimg_otadata_layout_add(&l, names[i], 0,
							(uint8_t)(0x10 + i), off,
							0x10000) == 0);
			off += 0x10000;
		}
	}
	if (data[3] & 4) {
		CHECK(espimg_otadata_layout_add(&l, "dup", 0,
						(uint8_t)(0x10 + data[4]), off,
						0x10000) == 0);
		off += 0x10000;
	}
	if (data[3] & 2)
		CHECK(espimg_otadata_layout_add(&l, "test", 0, 0x20, off, 0x10000) == 0);
	CHECK(l.boot_n <= 17 && l.app_n <= 16);
	n_apps = (unsigned)l.n_apps;
	for (unsigned i = 0; i < n_apps && i < 16; i++) {
		c.bad[i] = (data[8] | data[9] << 8) >> i & 1;
		c.secure_version[i] = (uint32_t)((data[10] | data[11] << 8) >>
						 (2 * (i % 8)) & 3);
	}
	CHECK(espimg_otadata_config_check(&c, NULL) == 0);

	hdr = data;
	data += HDR;
	size -= HDR;
	if (hdr[0] & 0x80) {
		bsize = size;
	} else {
		bsize = psize;
	}
	blob = malloc(bsize ? bsize : 1);
	before = malloc(bsize ? bsize : 1);
	CHECK(blob && before);
	if (hdr[0] & 0x80) {
		if (size)
			memcpy(blob, data, size);
	} else {
		memset(blob, 0xFF, bsize);
		for (unsigned i = 0; i < 2 && (size_t)i * 32 < size; i++) {
			size_t n = size - i * 32u < 32 ? size - i * 32u : 32;
			if ((size_t)i * SEC < bsize)
				memcpy(blob + (size_t)i * SEC, data + i * 32u,
				       n < bsize - (size_t)i * SEC ?
					       n : bsize - (size_t)i * SEC);
		}
	}
	memcpy(before, blob, bsize);
	check_entries(blob, bsize, &c);

	op = hdr[5] % 6u;
	target = n_apps ? (int)(hdr[6] % n_apps) : -1;
	if (op <= 3 && target >= 0) {
		espimg_otadata_result r;
		int rc;

		if (op == 0)
			rc = espimg_otadata_set_boot(blob, bsize, &l, &c, target, &r, NULL);
		else if (op == 1)
			rc = espimg_otadata_mark_valid(blob, bsize, &l, &c, target, &r, NULL);
		else if (op == 2)
			rc = espimg_otadata_mark_invalid(blob, bsize, &l, &c, target, &r, NULL);
		else
			rc = espimg_otadata_invalidate_inactive(blob, bsize, &l, &c, target, &r, NULL);
		CHECK(rc == 0 || rc == ESPIMG_EFORMAT || rc == ESPIMG_EUNSUPPORTED);
		if (rc == ESPIMG_EFORMAT)
			CHECK(l.has_otadata && (bsize != psize || psize < 0x2000));
		if (rc != 0 || r.rc != ESPIMG_OTA_OK) {
			CHECK(!memcmp(before, blob, bsize));
		} else {
			check_write(before, blob, bsize, &r);
			CHECK(r.sector >= 0 || r.erased_all || !r.changed);
		}
		CHECK(strlen(espimg_ota_rc_name(rc == 0 ? r.rc : ESPIMG_OTA_OK)) > 0);
		if (op == 0 && rc == 0 && r.rc == ESPIMG_OTA_OK &&
		    c.unsafe != ESPIMG_OTADATA_UNSAFE_MIMIC) {
			espimg_otadata_boot_result b;
			espimg_otadata_entry e[2];

			CHECK(espimg_otadata_decode(blob, bsize, &c, e, NULL) == 0);
			CHECK(r.erased_all || e[0].valid || e[1].valid);
			CHECK(espimg_otadata_boot(blob, bsize, &l, &c, &b, NULL) == 0);
			CHECK(b.outcome == ESPIMG_OTADATA_BOOT_LOADED &&
			      b.loaded == target);
		}
	} else if (op == 4 || target < 0) {
		espimg_otadata_boot_result b;
		int rc = espimg_otadata_boot(l.has_otadata ? blob : NULL,
					     l.has_otadata ? bsize : 0, &l, &c,
					     &b, NULL);

		CHECK(rc == 0);
		CHECK((b.outcome == ESPIMG_OTADATA_BOOT_LOADED) == (b.loaded >= 0));
		CHECK(b.loaded < (int)n_apps);
		CHECK(b.efuse_after >= b.efuse_before);
		CHECK(b.n_writes <= ESPIMG_OTADATA_MAX_BOOT_WRITES);
		CHECK(!b.written || b.n_writes > 0);
		for (size_t k = 2 * SEC; k < bsize; k++)
			CHECK(blob[k] == before[k]);
		if (b.loaded >= 0)
			CHECK(!c.bad[b.loaded] || b.loaded >= 16);
	} else {
		espimg_ota_rc rc;
		uint32_t st;
		int out = -2;

		CHECK(espimg_otadata_app_boot_partition(blob, bsize, &l, &c,
							&out, &rc) == 0);
		CHECK(out >= -1 && out < (int)n_apps);
		if (rc == ESPIMG_OTA_OK && l.has_otadata) {
			bool any = l.app_factory >= 0 || l.app_test >= 0;

			for (unsigned i = 0; i < 16; i++)
				any = any || l.app_ota[i] >= 0;
			CHECK((out >= 0) == any);
		}
		out = espimg_otadata_next_update(&l, target);
		CHECK(out >= -1 && out < (int)n_apps);
		CHECK((out >= 0) == (mask != 0 || (hdr[3] & 4 && hdr[4] < 16)));
		if (espimg_otadata_get_state(blob, bsize, &l, &c, target, &st, &rc) == 0 &&
		    rc == ESPIMG_OTA_OK)
			CHECK((l.apps[target].subtype & 0xF0) == 0x10);
		if (espimg_otadata_last_invalid(blob, bsize, &l, &c, &out, &rc) == 0)
			CHECK(out >= -1 && out < (int)n_apps);
		CHECK(!memcmp(before, blob, bsize));
	}
	free(blob);
	free(before);
	return 0;
}
