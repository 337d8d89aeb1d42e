/*
 * otadata.c - the OTA data partition as the ESP-IDF bootloader and
 * esp_ota_ops read and write it.
 *
 * Sources (facts only): components/app_update/esp_ota_ops.c,
 * components/bootloader_support/src/bootloader_utility.c and
 * bootloader_common_loader.c, components/efuse/src/esp_efuse_fields.c at
 * ESP-IDF master (v6.1-dev) and the tags v6.0, v5.5.5, v4.4.8, v4.3,
 * v3.3.6 and v3.2.  ../shared/docs/otadata.md gives the rules (§n below).
 *
 * The device only ever looks at two 32-byte records; everything here
 * works on copies of those two records and writes back whole sectors the
 * way the device does (erase 4 KiB, program 32 bytes).
 */
#include <string.h>

#include <zlib.h>

#include "espimg/otadata.h"
#include "internal.h"

/* Behaviour changes by ESP-IDF version (§14). */
#define V_MIN ESPIMG_IDF_VERSION(3, 0, 0)        /* oldest we model */
#define V_STATES ESPIMG_IDF_VERSION(3, 3, 0)     /* ota_state, rollback */
#define V_TEST_ARB ESPIMG_IDF_VERSION(4, 3, 0)   /* test app checked by
						    anti-rollback */
#define V_INVALIDATE ESPIMG_IDF_VERSION(5, 5, 0) /* invalidate_inactive */
#define V_SAME_SLOT ESPIMG_IDF_VERSION(6, 0, 0)  /* same-slot rewrite */
#define V_NEWEST ESPIMG_IDF_VERSION(6, 1, 0)     /* master, v6.1-dev */

#define SEC ESPIMG_OTADATA_SECTOR
#define ENT ESPIMG_OTADATA_ENTRY_SIZE
#define SEQ_EMPTY ESPIMG_OTADATA_SEQ_EMPTY

/* ------------------------------------------------------------ helpers */

static unsigned version_of(const espimg_otadata_config *cfg)
{
	if (!cfg || cfg->idf_version == ESPIMG_IDF_NEWEST)
		return V_NEWEST;
	return cfg->idf_version;
}

static bool has_states(const espimg_otadata_config *cfg)
{
	return version_of(cfg) >= V_STATES;
}

uint32_t espimg_otadata_crc(uint32_t seq)
{
	uint8_t b[4];

	/* esp_rom_crc32_le(UINT32_MAX, ...) equals zlib's crc32 seeded
	 * with 0xFFFFFFFF (the ROM helper complements seed and result). */
	espimg_put_le32(b, seq);
	return (uint32_t)crc32(0xFFFFFFFFul, b, 4);
}

int espimg_otadata_seq_slot(uint32_t seq, unsigned n)
{
	if (n == 0)
		return -1;
	return (int)((uint32_t)(seq - 1u) % n);
}

/* One record as the device holds it in memory: the 32 bytes. */
typedef struct rec {
	uint8_t b[ENT];
} rec;

static uint32_t rec_seq(const rec *r)
{
	return espimg_le32(r->b + ESPIMG_OTADATA_OFF_SEQ);
}

static uint32_t rec_state(const rec *r)
{
	return espimg_le32(r->b + ESPIMG_OTADATA_OFF_STATE);
}

static uint32_t rec_crc(const rec *r)
{
	return espimg_le32(r->b + ESPIMG_OTADATA_OFF_CRC);
}

static bool rec_crc_ok(const rec *r)
{
	return rec_crc(r) == espimg_otadata_crc(rec_seq(r));
}

/* bootloader_common_ota_select_invalid (v3.3+); before: seq only. */
static bool rec_unusable(const rec *r, bool states)
{
	uint32_t st = rec_state(r);

	if (rec_seq(r) == SEQ_EMPTY)
		return true;
	return states && (st == ESPIMG_OTA_STATE_INVALID ||
			  st == ESPIMG_OTA_STATE_ABORTED);
}

static bool rec_valid(const rec *r, bool states)
{
	return !rec_unusable(r, states) && rec_crc_ok(r);
}

/* "Initial" in the bootloader's sense: erased seq or CRC mismatch. */
static bool rec_initial(const rec *r)
{
	return rec_seq(r) == SEQ_EMPTY || !rec_crc_ok(r);
}

/* bootloader_common_select_otadata with max = true / false. */
static int select_entry(const rec r[2], const bool ok[2], bool max)
{
	uint32_t s0 = rec_seq(&r[0]), s1 = rec_seq(&r[1]);

	if (ok[0] && ok[1]) {
		uint32_t c = max ? (s0 > s1 ? s0 : s1) : (s0 < s1 ? s0 : s1);
		return c == s0 ? 0 : 1;
	}
	if (ok[0])
		return 0;
	if (ok[1])
		return 1;
	return -1;
}

static int active_of(const rec r[2], bool states)
{
	bool ok[2] = { rec_valid(&r[0], states), rec_valid(&r[1], states) };

	return select_entry(r, ok, true);
}

/* Reads both records; bytes past the end of the blob read as 0xFF.
 * Returns how many records were complete. */
static int read_recs(const uint8_t *blob, size_t size, rec r[2])
{
	int complete = 0;

	for (unsigned i = 0; i < 2; i++) {
		size_t off = (size_t)i * SEC;

		memset(r[i].b, 0xFF, ENT);
		if (blob && off < size) {
			size_t n = size - off < ENT ? size - off : ENT;
			memcpy(r[i].b, blob + off, n);
		}
		if (blob && off + ENT <= size)
			complete++;
	}
	return complete;
}

/* A device write of sector i: erase 4 KiB, program the 32 bytes.  Clipped
 * to the blob. */
static void write_sector(uint8_t *blob, size_t size, unsigned i, const rec *r)
{
	size_t off = (size_t)i * SEC;
	size_t end = off + SEC;

	if (!blob || off >= size)
		return;
	if (end > size)
		end = size;
	memset(blob + off, 0xFF, end - off);
	memcpy(blob + off, r->b, end - off < ENT ? end - off : ENT);
}

static void rec_set(rec *r, uint32_t seq, uint32_t state, bool states)
{
	espimg_put_le32(r->b + ESPIMG_OTADATA_OFF_SEQ, seq);
	if (states)
		espimg_put_le32(r->b + ESPIMG_OTADATA_OFF_STATE, state);
	espimg_put_le32(r->b + ESPIMG_OTADATA_OFF_CRC, espimg_otadata_crc(seq));
}

static const char *app_name(const espimg_otadata_layout *l, int i)
{
	if (i < 0 || (size_t)i >= l->n_apps)
		return "(none)";
	return l->apps[i].name ? l->apps[i].name : "(unnamed)";
}

/* ------------------------------------------------------------ layout */

static void layout_views(espimg_otadata_layout *l)
{
	unsigned n = 0;

	while (n < ESPIMG_OTADATA_MAX_SLOTS && l->app_ota[n] >= 0)
		n++;
	l->app_n = n;
	/* esp_ota_get_app_partition_count asks next for subtype 0x10 + 16,
	 * which is the test subtype, and asserts the count is below 16. */
	l->app_n_asserts = n == ESPIMG_OTADATA_MAX_SLOTS && l->app_test >= 0;
}

void espimg_otadata_layout_init(espimg_otadata_layout *l)
{
	if (!l)
		return;
	memset(l, 0, sizeof(*l));
	l->boot_factory = l->boot_test = -1;
	l->app_factory = l->app_test = -1;
	for (unsigned i = 0; i < ESPIMG_OTADATA_MAX_SLOTS; i++)
		l->boot_ota[i] = l->app_ota[i] = -1;
}

int espimg_otadata_layout_add(espimg_otadata_layout *l, const char *name,
			      uint8_t type, uint8_t subtype, uint32_t offset,
			      uint32_t size)
{
	int idx;

	if (!l)
		return ESPIMG_EINVAL;
	if (type == ESPIMG_PTYPE_DATA && subtype == ESPIMG_PSUB_DATA_OTA) {
		if (l->has_otadata)
			return ESPIMG_EFORMAT;
		l->has_otadata = true;
		l->otadata_name = name;
		l->otadata_offset = offset;
		l->otadata_size = size;
		return 0;
	}
	if (type != ESPIMG_PTYPE_APP)
		return 0;
	if (l->n_apps >= ESPIMG_OTADATA_MAX_APPS)
		return ESPIMG_ETOOBIG;
	idx = (int)l->n_apps++;
	l->apps[idx].name = name;
	l->apps[idx].subtype = subtype;
	l->apps[idx].offset = offset;
	l->apps[idx].size = size;

	/* Bootloader: the last of each kind wins, every OTA subtype counts. */
	if (subtype == ESPIMG_PSUB_APP_FACTORY) {
		l->boot_factory = idx;
	} else if (subtype == ESPIMG_PSUB_APP_TEST) {
		l->boot_test = idx;
	} else if ((subtype & 0xF0) == ESPIMG_PSUB_APP_OTA_0) {
		l->boot_ota[subtype & 0x0F] = idx;
		l->boot_n++;
	}
	/* App: esp_partition_find_first, the first in table order. */
	if (subtype == ESPIMG_PSUB_APP_FACTORY && l->app_factory < 0)
		l->app_factory = idx;
	else if (subtype == ESPIMG_PSUB_APP_TEST && l->app_test < 0)
		l->app_test = idx;
	else if ((subtype & 0xF0) == ESPIMG_PSUB_APP_OTA_0 &&
		 l->app_ota[subtype & 0x0F] < 0)
		l->app_ota[subtype & 0x0F] = idx;
	layout_views(l);
	return 0;
}

int espimg_otadata_layout_from_ptable(const espimg_ptable *table,
				      espimg_otadata_layout *l,
				      espimg_diag_list *diags)
{
	bool dup_noted[ESPIMG_OTADATA_MAX_SLOTS] = { false };
	size_t i;

	if (!table || !l)
		return ESPIMG_EINVAL;
	espimg_otadata_layout_init(l);
	for (i = 0; i < table->count; i++) {
		const espimg_partition *p = &table->parts[i];
		int rc = espimg_otadata_layout_add(l, p->name, p->type,
						   p->subtype, p->offset,
						   p->size);
		if (rc == ESPIMG_EFORMAT) {
			espimg_diag_add(diags, ESPIMG_SEV_ERROR,
					"otadata.multiple", NULL, p->line, 0,
					p->bin_offset,
					"second otadata partition '%s': the bootloader would use the last one and the app the first",
					p->name);
			return rc;
		}
		if (rc == ESPIMG_ETOOBIG) {
			espimg_diag_add(diags, ESPIMG_SEV_ERROR,
					"otadata.too_many_apps", NULL, p->line,
					0, p->bin_offset,
					"more than %u app partitions",
					ESPIMG_OTADATA_MAX_APPS);
			return rc;
		}
		if (rc < 0)
			return rc;
		if (p->type == ESPIMG_PTYPE_APP &&
		    (p->subtype & 0xF0) == ESPIMG_PSUB_APP_OTA_0 &&
		    l->app_ota[p->subtype & 0x0F] != (int)l->n_apps - 1 &&
		    !dup_noted[p->subtype & 0x0F]) {
			dup_noted[p->subtype & 0x0F] = true;
			espimg_diag_add(diags, ESPIMG_SEV_WARNING,
					"otadata.duplicate_subtype", NULL,
					p->line, 0, p->bin_offset,
					"'%s' repeats subtype ota_%u of '%s': the bootloader boots the last one, the app uses the first",
					p->name, p->subtype & 0x0Fu,
					app_name(l, l->app_ota[p->subtype & 0x0F]));
		}
	}
	if (!l->has_otadata) {
		espimg_diag_add(diags, ESPIMG_SEV_NOTE, "otadata.missing",
				NULL, 0, 0, -1,
				"the table has no otadata partition: the bootloader starts at the factory app and esp_ota_set_boot_partition returns ESP_ERR_NOT_FOUND");
	} else if (l->otadata_size < ESPIMG_OTADATA_MIN_SIZE) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.too_small",
				NULL, 0, 0, -1,
				"otadata partition '%s' is 0x%x bytes: the bootloader needs 0x%x, fails to read it and resets",
				l->otadata_name ? l->otadata_name : "",
				l->otadata_size, ESPIMG_OTADATA_MIN_SIZE);
	}
	if (l->boot_n != l->app_n && !l->app_n_asserts)
		espimg_diag_add(diags, ESPIMG_SEV_WARNING, "otadata.slot_count",
				NULL, 0, 0, -1,
				"the bootloader counts %u OTA slots, the app %u (ota_0, ota_1, ... up to the first missing): they map seqs to different slots",
				l->boot_n, l->app_n);
	if (l->app_n_asserts)
		espimg_diag_add(diags, ESPIMG_SEV_WARNING,
				"otadata.test_after_16", NULL, 0, 0, -1,
				"16 OTA slots and a test partition: esp_ota_get_app_partition_count reaches the test subtype 0x20 and its assertion aborts the app");
	return 0;
}

int espimg_otadata_find_app(const espimg_otadata_layout *l, const char *name)
{
	if (!l || !name)
		return -1;
	for (size_t i = 0; i < l->n_apps; i++)
		if (l->apps[i].name && strcmp(l->apps[i].name, name) == 0)
			return (int)i;
	return -1;
}

int espimg_otadata_find_slot(const espimg_otadata_layout *l, unsigned slot)
{
	if (!l || slot >= ESPIMG_OTADATA_MAX_SLOTS)
		return -1;
	return l->app_ota[slot];
}

/* ------------------------------------------------------------ config */

void espimg_otadata_config_init(espimg_otadata_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->idf_version = ESPIMG_IDF_NEWEST;
	cfg->efuse_field_bits = 32;
	cfg->unsafe = ESPIMG_OTADATA_UNSAFE_REFUSE;
}

int espimg_otadata_config_check(const espimg_otadata_config *cfg,
				espimg_diag_list *diags)
{
	unsigned v;

	if (!cfg)
		return ESPIMG_EINVAL;
	v = version_of(cfg);
	if (v < V_MIN) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.idf_version",
				NULL, 0, 0, -1,
				"ESP-IDF v%u.%u is older than v3.0, whose otadata rules are not modelled",
				v / 10000, v / 100 % 100);
		return ESPIMG_EUNSUPPORTED;
	}
	if (cfg->rollback && v < V_STATES) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.config", NULL,
				0, 0, -1,
				"app rollback first appeared in ESP-IDF v3.3");
		return ESPIMG_EINVAL;
	}
	if (cfg->anti_rollback && !cfg->rollback) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.config", NULL,
				0, 0, -1,
				"anti-rollback requires rollback (CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK depends on CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE)");
		return ESPIMG_EINVAL;
	}
	if (cfg->efuse_field_bits == 0 || cfg->efuse_field_bits > 32 ||
	    cfg->efuse_secure_version > cfg->efuse_field_bits) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.config", NULL,
				0, 0, -1,
				"eFuse secure version %u does not fit a field of %u bits (1..32)",
				cfg->efuse_secure_version, cfg->efuse_field_bits);
		return ESPIMG_EINVAL;
	}
	if (cfg->unsafe > ESPIMG_OTADATA_UNSAFE_RESET_SEQ)
		return ESPIMG_EINVAL;
	return 0;
}

/* esp_efuse_update_secure_version: a thermometer code only grows, and a
 * version beyond the field is refused (ESP_ERR_INVALID_ARG). */
static espimg_ota_rc efuse_update(uint32_t *efuse, uint32_t sv,
				  unsigned bits)
{
	if (sv > bits)
		return ESPIMG_OTA_INVALID_ARG;
	if (*efuse < sv)
		*efuse = sv;
	else if (*efuse > sv)
		return ESPIMG_OTA_FAIL;
	return ESPIMG_OTA_OK;
}

/* ------------------------------------------------------------ records */

const char *espimg_otadata_state_name(uint32_t state)
{
	switch (state) {
	case ESPIMG_OTA_STATE_NEW:
		return "NEW";
	case ESPIMG_OTA_STATE_PENDING_VERIFY:
		return "PENDING_VERIFY";
	case ESPIMG_OTA_STATE_VALID:
		return "VALID";
	case ESPIMG_OTA_STATE_INVALID:
		return "INVALID";
	case ESPIMG_OTA_STATE_ABORTED:
		return "ABORTED";
	case ESPIMG_OTA_STATE_UNDEFINED:
		return "UNDEFINED";
	default:
		return NULL;
	}
}

void espimg_otadata_entry_encode(uint8_t out[ESPIMG_OTADATA_ENTRY_SIZE],
				 uint32_t seq, const uint8_t *label,
				 uint32_t state)
{
	if (!out)
		return;
	memset(out, 0xFF, ENT);
	if (label)
		memcpy(out + ESPIMG_OTADATA_OFF_LABEL, label,
		       ESPIMG_OTADATA_LABEL_LEN);
	espimg_put_le32(out + ESPIMG_OTADATA_OFF_SEQ, seq);
	espimg_put_le32(out + ESPIMG_OTADATA_OFF_STATE, state);
	espimg_put_le32(out + ESPIMG_OTADATA_OFF_CRC, espimg_otadata_crc(seq));
}

static void fill_entry(espimg_otadata_entry *e, unsigned i, const rec *r,
		       bool present, bool states)
{
	static const uint8_t ff[ENT] = {
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	};

	memset(e, 0, sizeof(*e));
	e->index = i;
	e->offset = i * SEC;
	e->present = present;
	e->erased = memcmp(r->b, ff, ENT) == 0;
	e->seq = rec_seq(r);
	memcpy(e->label, r->b + ESPIMG_OTADATA_OFF_LABEL,
	       ESPIMG_OTADATA_LABEL_LEN);
	e->state = rec_state(r);
	e->crc = rec_crc(r);
	e->crc_computed = espimg_otadata_crc(e->seq);
	e->crc_ok = e->crc == e->crc_computed;
	e->usable = !rec_unusable(r, states);
	e->valid = e->usable && e->crc_ok;
}

static uint32_t bswap32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xFF00u) | (v << 8 & 0xFF0000u) | v << 24;
}

/* The CRC some re-implementations compute instead (c09, c10). */
static uint32_t crc_standard(uint32_t seq, bool big_endian)
{
	uint8_t b[4];

	if (big_endian) {
		b[0] = (uint8_t)(seq >> 24);
		b[1] = (uint8_t)(seq >> 16);
		b[2] = (uint8_t)(seq >> 8);
		b[3] = (uint8_t)seq;
	} else {
		espimg_put_le32(b, seq);
	}
	return (uint32_t)crc32(0ul, b, 4);
}

static void entry_findings(const espimg_otadata_entry *e, bool states,
			   const uint8_t *blob, size_t size,
			   espimg_diag_list *diags)
{
	int64_t off = e->offset;

	if (e->erased)
		return;
	if (!e->crc_ok && e->seq != SEQ_EMPTY) {
		const char *why = "";
		uint8_t be[4];

		be[0] = (uint8_t)(e->seq >> 24);
		be[1] = (uint8_t)(e->seq >> 16);
		be[2] = (uint8_t)(e->seq >> 8);
		be[3] = (uint8_t)e->seq;
		if (e->crc == crc_standard(e->seq, false))
			why = " (it is the plain CRC-32 of the seq bytes, not the device's crc32(0xFFFFFFFF, ...))";
		else if (e->crc == crc_standard(e->seq, true))
			why = " (it is the plain CRC-32 of the seq in big-endian order)";
		else if (e->crc == (uint32_t)crc32(0xFFFFFFFFul, be, 4))
			why = " (it is computed over the seq in big-endian order)";
		else if (e->crc == bswap32(e->crc_computed))
			why = " (the right CRC stored big-endian)";
		espimg_diag_add(diags, ESPIMG_SEV_WARNING, "otadata.crc", NULL,
				0, 0, off + ESPIMG_OTADATA_OFF_CRC,
				"entry %u: CRC 0x%08x does not match 0x%08x computed from seq 0x%08x%s; the device ignores this entry",
				e->index, e->crc, e->crc_computed, e->seq, why);
	}
	if (e->seq == SEQ_EMPTY && e->crc_ok)
		espimg_diag_add(diags, ESPIMG_SEV_NOTE, "otadata.seq_empty",
				NULL, 0, 0, off,
				"entry %u: seq 0xFFFFFFFF with a matching CRC is still an empty entry",
				e->index);
	else if (e->seq == SEQ_EMPTY)
		espimg_diag_add(diags, ESPIMG_SEV_NOTE, "otadata.seq_empty",
				NULL, 0, 0, off,
				"entry %u: seq 0xFFFFFFFF (empty) but other bytes are written",
				e->index);
	if (e->seq == 0 && e->crc_ok)
		espimg_diag_add(diags, ESPIMG_SEV_NOTE, "otadata.seq_zero",
				NULL, 0, 0, off,
				"entry %u: seq 0 is valid on the device and selects slot (0xFFFFFFFF mod N), not slot N-1",
				e->index);
	if (states && !espimg_otadata_state_name(e->state))
		espimg_diag_add(diags, ESPIMG_SEV_WARNING,
				"otadata.state_unknown", NULL, 0, 0,
				off + ESPIMG_OTADATA_OFF_STATE,
				"entry %u: state 0x%08x is not a known state; the device treats it like VALID",
				e->index, e->state);
	if (e->present && blob) {
		size_t end = e->offset + SEC < size ? e->offset + SEC : size;
		for (size_t k = e->offset + ENT; k < end; k++) {
			if (blob[k] != 0xFF) {
				espimg_diag_add(diags, ESPIMG_SEV_NOTE,
						"otadata.sector_tail", NULL, 0,
						0, (int64_t)k,
						"sector %u holds data after its record (first at 0x%zx); the device never reads it and erases it with its next write of this sector",
						e->index, k);
				break;
			}
		}
	}
}

int espimg_otadata_decode(const uint8_t *blob, size_t size,
			  const espimg_otadata_config *cfg,
			  espimg_otadata_entry out[2], espimg_diag_list *diags)
{
	bool states = has_states(cfg);
	rec r[2];

	if (!out || (!blob && size))
		return ESPIMG_EINVAL;
	read_recs(blob, size, r);
	for (unsigned i = 0; i < 2; i++)
		fill_entry(&out[i], i, &r[i], (size_t)i * SEC + ENT <= size,
			   states);
	if (size < (size_t)SEC + ENT)
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.short", NULL,
				0, 0, (int64_t)size,
				"otadata is 0x%zx bytes: %s; the missing bytes are read as erased (0xFF)",
				size, size < ENT ?
				"both records (at 0x0 and 0x1000) are cut short or missing" :
				"the record of entry 1 at 0x1000 is cut short or missing");
	else if (size < ESPIMG_OTADATA_MIN_SIZE)
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.size", NULL,
				0, 0, (int64_t)size,
				"otadata is 0x%zx bytes: a partition below 0x%x makes the bootloader fail to read it and reset",
				size, ESPIMG_OTADATA_MIN_SIZE);
	for (unsigned i = 0; i < 2; i++)
		entry_findings(&out[i], states, blob, size, diags);
	if (out[0].valid && out[1].valid && out[0].seq == out[1].seq)
		espimg_diag_add(diags, ESPIMG_SEV_NOTE, "otadata.seq_tie",
				NULL, 0, 0, ESPIMG_OTADATA_SECTOR,
				"both entries hold seq 0x%08x: entry 0 wins the tie and entry 1's state is never looked at",
				out[0].seq);
	return 0;
}

int espimg_otadata_active(const espimg_otadata_entry e[2],
			  espimg_otadata_active_why *why)
{
	espimg_otadata_active_why w = ESPIMG_OTADATA_ACTIVE_NONE;
	int a = -1;

	if (e) {
		if (e[0].valid && e[1].valid) {
			a = e[1].seq > e[0].seq ? 1 : 0;
			w = e[0].seq == e[1].seq ? ESPIMG_OTADATA_ACTIVE_TIE :
						   ESPIMG_OTADATA_ACTIVE_LARGER;
		} else if (e[0].valid || e[1].valid) {
			a = e[0].valid ? 0 : 1;
			w = ESPIMG_OTADATA_ACTIVE_ONLY;
		}
	}
	if (why)
		*why = w;
	return a;
}

/* ------------------------------------------------------------ seq search */

int espimg_otadata_seq_search(uint32_t current, unsigned target, unsigned n,
			      uint32_t *new_seq)
{
	bool seen[256] = { false };
	uint32_t r, ans;

	if (!new_seq || n == 0 || n > 255 || target >= n)
		return ESPIMG_EINVAL;
	/* The device tries b, b + n, ... (mod 2^32) for the first value
	 * >= current.  Each pass runs up to the top of the 32-bit range;
	 * after the wrap the value is below n, so at most n passes differ
	 * before one repeats (then it never returns). */
	r = (target + 1) % n;
	seen[r] = true;
	for (;;) {
		uint32_t top;

		if (r >= current) {
			ans = r;
			break;
		}
		top = r + (UINT32_MAX - r) / n * n;
		if (top >= current) {
			uint64_t steps = ((uint64_t)current - r + n - 1) / n;
			ans = (uint32_t)(r + steps * n);
			break;
		}
		r = (uint32_t)(top + n); /* below n: the value after the wrap */
		if (seen[r]) {
			*new_seq = 0;
			return ESPIMG_OTADATA_SEQ_HANG;
		}
		seen[r] = true;
	}
	*new_seq = ans;
	if (ans == SEQ_EMPTY)
		return ESPIMG_OTADATA_SEQ_UNUSABLE;
	if ((uint32_t)(ans - 1u) % n != target)
		return ESPIMG_OTADATA_SEQ_WRONG_SLOT;
	return ESPIMG_OTADATA_SEQ_OK;
}

const char *espimg_otadata_verdict_name(espimg_otadata_verdict v)
{
	switch (v) {
	case ESPIMG_OTADATA_SEQ_OK:
		return "ok";
	case ESPIMG_OTADATA_SEQ_UNUSABLE:
		return "unusable (0xFFFFFFFF)";
	case ESPIMG_OTADATA_SEQ_WRONG_SLOT:
		return "maps to another slot";
	case ESPIMG_OTADATA_SEQ_HANG:
		return "never returns";
	}
	return "unknown";
}

const char *espimg_ota_rc_name(espimg_ota_rc rc)
{
	switch (rc) {
	case ESPIMG_OTA_OK:
		return "ESP_OK";
	case ESPIMG_OTA_FAIL:
		return "ESP_FAIL";
	case ESPIMG_OTA_INVALID_ARG:
		return "ESP_ERR_INVALID_ARG";
	case ESPIMG_OTA_NOT_FOUND:
		return "ESP_ERR_NOT_FOUND";
	case ESPIMG_OTA_NOT_SUPPORTED:
		return "ESP_ERR_NOT_SUPPORTED";
	case ESPIMG_OTA_VALIDATE_FAILED:
		return "ESP_ERR_OTA_VALIDATE_FAILED";
	case ESPIMG_OTA_SMALL_SEC_VER:
		return "ESP_ERR_OTA_SMALL_SEC_VER";
	case ESPIMG_OTA_ROLLBACK_FAILED:
		return "ESP_ERR_OTA_ROLLBACK_FAILED";
	case ESPIMG_OTA_HANG:
		return "HANG";
	case ESPIMG_OTA_ABORT:
		return "ABORT";
	case ESPIMG_OTA_DIV_ZERO:
		return "DIV_ZERO";
	case ESPIMG_OTA_REFUSE_SEQ_UNUSABLE:
		return "REFUSED_SEQ_UNUSABLE";
	case ESPIMG_OTA_REFUSE_SEQ_WRONG_SLOT:
		return "REFUSED_SEQ_WRONG_SLOT";
	case ESPIMG_OTA_REFUSE_NOT_BOOTABLE:
		return "REFUSED_NOT_BOOTABLE";
	}
	return "unknown";
}

/* ------------------------------------------------------------ bootloader */

/* The bootloader's run over the two records and the table; writes are
 * logged in *out and applied to r[]. */
typedef struct boot_ctx {
	const espimg_otadata_layout *l;
	const espimg_otadata_config *cfg;
	bool states, rollback, arb;
	uint32_t efuse;
	rec r[2];
	espimg_otadata_boot_result *out;
} boot_ctx;

static void boot_write(boot_ctx *c, unsigned i)
{
	espimg_otadata_boot_result *o = c->out;

	if (o->n_writes < ESPIMG_OTADATA_MAX_BOOT_WRITES) {
		o->writes[o->n_writes].sector = (int)i;
		o->writes[o->n_writes].seq = rec_seq(&c->r[i]);
		o->writes[o->n_writes].state = rec_state(&c->r[i]);
		o->n_writes++;
	}
}

/* bootloader_utility.c index_to_partition: apps[] index or -1.  Indexes
 * beyond the slot table or the count, and empty slots, have no partition. */
static int index_app(const boot_ctx *c, int index)
{
	const espimg_otadata_layout *l = c->l;

	if (index == ESPIMG_OTADATA_INDEX_FACTORY)
		return l->boot_factory;
	if (index == ESPIMG_OTADATA_INDEX_TEST)
		return l->boot_test;
	if (index >= 0 && index < (int)ESPIMG_OTADATA_MAX_SLOTS &&
	    index < (int)l->boot_n)
		return l->boot_ota[index];
	return -1;
}

/* check_anti_rollback: the app description must be readable (a partition
 * at a non-zero offset, bootloader_common_get_partition_description; we
 * assume a bad image still has one) and its secure_version at least the
 * eFuse value.  Always true without anti-rollback. */
static bool sv_ok(const boot_ctx *c, int app)
{
	if (!c->arb)
		return true;
	if (app < 0 || c->l->apps[app].offset == 0)
		return false;
	return c->cfg->secure_version[app] >= c->efuse;
}

static void burn(boot_ctx *c, int app)
{
	if (app >= 0)
		efuse_update(&c->efuse, c->cfg->secure_version[app],
			     c->cfg->efuse_field_bits);
}

/* try_load_partition after check_anti_rollback. */
static bool try_load(boot_ctx *c, int index, int app, bool check_sv)
{
	espimg_otadata_boot_result *o = c->out;
	espimg_otadata_try res = ESPIMG_OTADATA_TRY_LOADED;

	if (check_sv && !sv_ok(c, app))
		res = ESPIMG_OTADATA_TRY_SECURE_VERSION;
	else if (c->cfg->bad[app])
		res = ESPIMG_OTADATA_TRY_BAD_IMAGE;
	if (o->n_tries < ESPIMG_OTADATA_MAX_TRIES) {
		o->tries[o->n_tries].index = index;
		o->tries[o->n_tries].app = app;
		o->tries[o->n_tries].result = res;
		o->n_tries++;
	}
	return res == ESPIMG_OTADATA_TRY_LOADED;
}

/* set_actual_ota_seq: an OTA index loaded from "initial" otadata. */
static void loaded_at(boot_ctx *c, int index, int app, bool initial)
{
	c->out->outcome = ESPIMG_OTADATA_BOOT_LOADED;
	c->out->loaded = app;
	if (c->states && index >= 0 && initial) {
		memset(c->r[0].b, 0xFF, ENT);
		rec_set(&c->r[0], (uint32_t)index + 1u, ESPIMG_OTA_STATE_VALID,
			true);
		boot_write(c, 0);
		if (c->arb)
			burn(c, c->l->boot_ota[index]);
	}
}

static bool part_present(const boot_ctx *c, int app)
{
	return app >= 0 && c->l->apps[app].size != 0;
}

/* bootloader_utility_load_boot_image. */
static void load_walk(boot_ctx *c, int start, bool initial)
{
	const espimg_otadata_layout *l = c->l;
	bool test_sv = c->arb && version_of(c->cfg) >= V_TEST_ARB;
	int index, app;

	for (index = start; index >= ESPIMG_OTADATA_INDEX_FACTORY; index--) {
		app = index_app(c, index);
		if (!part_present(c, app))
			continue;
		if (try_load(c, index, app, true)) {
			loaded_at(c, index, app, initial);
			return;
		}
	}
	for (index = start + 1; index < (int)l->boot_n; index++) {
		app = index_app(c, index);
		if (!part_present(c, app))
			continue;
		if (try_load(c, index, app, true)) {
			loaded_at(c, index, app, initial);
			return;
		}
	}
	/* The test app last; anti-rollback checks it since v4.3.  A missing
	 * test partition fails the description read under anti-rollback. */
	if (part_present(c, l->boot_test) &&
	    try_load(c, ESPIMG_OTADATA_INDEX_TEST, l->boot_test, test_sv)) {
		c->out->outcome = ESPIMG_OTADATA_BOOT_LOADED;
		c->out->loaded = l->boot_test;
		return;
	}
	c->out->outcome = ESPIMG_OTADATA_BOOT_RESET_NO_APP;
}

/* bootloader_utility_get_selected_boot_partition, v3.0..v3.2. */
static int select_v32(boot_ctx *c)
{
	const espimg_otadata_layout *l = c->l;
	bool factory = l->boot_factory >= 0 && l->apps[l->boot_factory].offset;
	int a;

	if ((rec_seq(&c->r[0]) == SEQ_EMPTY && rec_seq(&c->r[1]) == SEQ_EMPTY) ||
	    l->boot_n == 0)
		return factory ? ESPIMG_OTADATA_INDEX_FACTORY : 0;
	a = active_of(c->r, false);
	if (a < 0)
		return ESPIMG_OTADATA_INDEX_FACTORY;
	c->out->selected_entry = a;
	return (int)((uint32_t)(rec_seq(&c->r[a]) - 1u) % l->boot_n);
}

/* v3.3 .. master.  Returns the start index, or INDEX_INVALID for a fault
 * (outcome set). */
static int select_v33(boot_ctx *c, bool *initial)
{
	const espimg_otadata_layout *l = c->l;
	bool factory = l->boot_factory >= 0 && l->apps[l->boot_factory].offset;
	int a, start;

	if (c->rollback) {
		for (unsigned i = 0; i < 2; i++) {
			if (rec_state(&c->r[i]) == ESPIMG_OTA_STATE_PENDING_VERIFY) {
				espimg_put_le32(c->r[i].b + ESPIMG_OTADATA_OFF_STATE,
						ESPIMG_OTA_STATE_ABORTED);
				boot_write(c, i);
			}
		}
	}
	if (!c->arb) {
		if ((rec_unusable(&c->r[0], true) &&
		     rec_unusable(&c->r[1], true)) || l->boot_n == 0) {
			if (factory)
				return ESPIMG_OTADATA_INDEX_FACTORY;
			*initial = rec_initial(&c->r[0]) && rec_initial(&c->r[1]);
			return 0;
		}
		a = active_of(c->r, true);
	} else {
		bool cand[2] = { false, false };

		if (rec_initial(&c->r[0]) && rec_initial(&c->r[1])) {
			*initial = true;
			return ESPIMG_OTADATA_INDEX_FACTORY;
		}
		for (unsigned i = 0; i < 2; i++) {
			uint32_t slot;

			if (!rec_valid(&c->r[i], true))
				continue;
			slot = l->boot_n ? (rec_seq(&c->r[i]) - 1u) % l->boot_n : 0;
			if (l->boot_n == 0 || slot >= ESPIMG_OTADATA_MAX_SLOTS) {
				/* Division by zero, or bs->ota[] read out of
				 * bounds: undefined on the device. */
				c->out->outcome = ESPIMG_OTADATA_BOOT_FAULT;
				return ESPIMG_OTADATA_INDEX_INVALID;
			}
			cand[i] = sv_ok(c, l->boot_ota[slot]);
		}
		a = select_entry(c->r, cand, true);
	}
	if (a < 0)
		return ESPIMG_OTADATA_INDEX_FACTORY;
	c->out->selected_entry = a;
	start = (int)((uint32_t)(rec_seq(&c->r[a]) - 1u) % l->boot_n);
	if (c->rollback && rec_state(&c->r[a]) == ESPIMG_OTA_STATE_NEW) {
		espimg_put_le32(c->r[a].b + ESPIMG_OTADATA_OFF_STATE,
				ESPIMG_OTA_STATE_PENDING_VERIFY);
		boot_write(c, (unsigned)a);
	}
	if (c->arb && rec_state(&c->r[a]) == ESPIMG_OTA_STATE_VALID) {
		if (start >= (int)ESPIMG_OTADATA_MAX_SLOTS) {
			c->out->outcome = ESPIMG_OTADATA_BOOT_FAULT;
			return ESPIMG_OTADATA_INDEX_INVALID;
		}
		burn(c, l->boot_ota[start]);
	}
	return start;
}

/* The whole boot over records r (changed in place). */
static void boot_run(boot_ctx *c)
{
	const espimg_otadata_layout *l = c->l;
	espimg_otadata_boot_result *o = c->out;
	bool initial = false;
	int start;

	o->loaded = -1;
	o->selected_entry = -1;
	o->efuse_before = c->efuse;
	if (!l->has_otadata || l->otadata_offset == 0) {
		start = ESPIMG_OTADATA_INDEX_FACTORY;
	} else if (l->otadata_size < ESPIMG_OTADATA_MIN_SIZE) {
		o->outcome = ESPIMG_OTADATA_BOOT_RESET_OTADATA;
		o->start_index = ESPIMG_OTADATA_INDEX_INVALID;
		o->efuse_after = c->efuse;
		return;
	} else if (!c->states) {
		start = select_v32(c);
	} else {
		start = select_v33(c, &initial);
	}
	o->start_index = start;
	o->initial = initial;
	if (start != ESPIMG_OTADATA_INDEX_INVALID)
		load_walk(c, start, initial);
	o->efuse_after = c->efuse;
}

static void boot_ctx_init(boot_ctx *c, const espimg_otadata_layout *l,
			  const espimg_otadata_config *cfg,
			  espimg_otadata_boot_result *out)
{
	memset(c, 0, sizeof(*c));
	memset(out, 0, sizeof(*out));
	c->l = l;
	c->cfg = cfg;
	c->states = has_states(cfg);
	c->rollback = c->states && cfg->rollback;
	c->arb = c->rollback && cfg->anti_rollback;
	c->efuse = cfg->efuse_secure_version;
	c->out = out;
}

int espimg_otadata_boot(uint8_t *blob, size_t size,
			const espimg_otadata_layout *l,
			const espimg_otadata_config *cfg,
			espimg_otadata_boot_result *out,
			espimg_diag_list *diags)
{
	boot_ctx c;
	int rc;

	if (!l || !cfg || !out || (!blob && size))
		return ESPIMG_EINVAL;
	rc = espimg_otadata_config_check(cfg, diags);
	if (rc < 0)
		return rc;
	boot_ctx_init(&c, l, cfg, out);
	if (l->has_otadata && l->otadata_size >= ESPIMG_OTADATA_MIN_SIZE) {
		if (!blob)
			return ESPIMG_EINVAL;
		if (read_recs(blob, size, c.r) < 2) {
			out->entries_assumed = true;
			espimg_diag_add(diags, ESPIMG_SEV_WARNING,
					"otadata.short", NULL, 0, 0,
					(int64_t)size,
					"otadata is only 0x%zx bytes: the prediction reads the missing record bytes as erased",
					size);
		} else if (size != l->otadata_size) {
			espimg_diag_add(diags, ESPIMG_SEV_WARNING,
					"otadata.size_mismatch", NULL, 0, 0,
					(int64_t)size,
					"otadata is 0x%zx bytes but the table's partition is 0x%x",
					size, l->otadata_size);
		}
	}
	boot_run(&c);
	for (unsigned i = 0; i < out->n_writes; i++) {
		unsigned s = (unsigned)out->writes[i].sector;
		size_t off = (size_t)s * SEC;
		bool same = true;

		/* Equal bytes are still an erase + write on the device;
		 * `written` says whether anything changed. */
		for (size_t k = off; k < off + SEC && k < size; k++) {
			uint8_t want = k - off < ENT ? c.r[s].b[k - off] : 0xFF;
			if (blob[k] != want) {
				same = false;
				break;
			}
		}
		if (!same)
			out->written = true;
		write_sector(blob, size, s, &c.r[s]);
	}
	if (out->outcome == ESPIMG_OTADATA_BOOT_FAULT)
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.boot_fault",
				NULL, 0, 0, -1,
				l->boot_n == 0 ?
				"anti-rollback bootloader with a valid entry and no OTA slot: it divides by zero (undefined on the device)" :
				"anti-rollback bootloader maps a seq past its 16-slot table (more than 16 OTA partitions): undefined on the device");
	return 0;
}

/* ------------------------------------------------------------ app side */

static void result_init(espimg_otadata_result *res,
			const espimg_otadata_config *cfg, int target)
{
	memset(res, 0, sizeof(*res));
	res->rc = ESPIMG_OTA_OK;
	res->sector = -1;
	res->target = target;
	res->erased_app = -1;
	res->efuse_secure_version = cfg->efuse_secure_version;
}

/* Common preconditions of a write: arguments, config, blob size. */
static int write_prep(uint8_t *blob, size_t size,
		      const espimg_otadata_layout *l,
		      const espimg_otadata_config *cfg,
		      espimg_otadata_result *res, espimg_diag_list *diags)
{
	int rc;

	if (!l || !cfg || !res || (!blob && size))
		return ESPIMG_EINVAL;
	rc = espimg_otadata_config_check(cfg, diags);
	if (rc < 0)
		return rc;
	if (!l->has_otadata)
		return 0;
	if (l->otadata_size < ESPIMG_OTADATA_MIN_SIZE) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.too_small",
				NULL, 0, 0, -1,
				"the otadata partition is 0x%x bytes, below 0x%x: the device cannot use it, nothing is written",
				l->otadata_size, ESPIMG_OTADATA_MIN_SIZE);
		return ESPIMG_EFORMAT;
	}
	if (!blob || size != l->otadata_size) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.size", NULL,
				0, 0, (int64_t)size,
				"otadata is 0x%zx bytes but the table's otadata partition is 0x%x; nothing is written",
				size, l->otadata_size);
		return ESPIMG_EFORMAT;
	}
	return 0;
}

static void refuse(espimg_otadata_result *res, espimg_ota_rc rc)
{
	res->rc = rc;
	res->refused = rc >= ESPIMG_OTA_HANG;
}

/* Writes one sector into the blob and records it. */
static void commit_sector(uint8_t *blob, size_t size, unsigned i,
			  const rec *r, espimg_otadata_result *res)
{
	size_t off = (size_t)i * SEC;

	for (size_t k = off; k < off + SEC && k < size; k++) {
		if (blob[k] != (k - off < ENT ? r->b[k - off] : 0xFF)) {
			res->changed = true;
			break;
		}
	}
	write_sector(blob, size, i, r);
	res->sector = (int)i;
	res->seq = rec_seq(r);
	res->state = rec_state(r);
}

/* The boot that follows a set_boot: does it load the target? */
static int predicted_load(const espimg_otadata_layout *l,
			  const espimg_otadata_config *cfg, const rec r[2])
{
	espimg_otadata_boot_result out;
	boot_ctx c;

	boot_ctx_init(&c, l, cfg, &out);
	memcpy(c.r, r, sizeof(c.r));
	boot_run(&c);
	return out.outcome == ESPIMG_OTADATA_BOOT_LOADED ? out.loaded : -1;
}

static void not_bootable(espimg_otadata_result *res,
			 const espimg_otadata_layout *l, int target,
			 int loads, espimg_diag_list *diags)
{
	const espimg_otadata_app *a = &l->apps[target];
	const char *why;

	if (a->subtype == ESPIMG_PSUB_APP_TEST)
		why = "the device takes the test partition as ota_0 (subtype 0x20 & 0x0F), and the bootloader never picks test from otadata";
	else if ((a->subtype & 0xF0) != ESPIMG_PSUB_APP_OTA_0 &&
		 a->subtype != ESPIMG_PSUB_APP_FACTORY)
		why = "its subtype is not an OTA subtype; the device uses its low four bits as a slot";
	else if (a->subtype != ESPIMG_PSUB_APP_FACTORY &&
		 l->boot_ota[a->subtype & 0x0F] != target)
		why = "another partition has the same subtype and the bootloader boots the last one";
	else if (l->boot_n != l->app_n)
		why = "the bootloader counts a different number of OTA slots than the app";
	else
		why = "the bootloader's fallbacks pick another image";
	refuse(res, ESPIMG_OTA_REFUSE_NOT_BOOTABLE);
	espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.not_bootable", NULL,
			0, 0, -1,
			"after this write the next boot would load %s, not '%s': %s; refused, nothing written",
			loads >= 0 ? app_name(l, loads) : "nothing (reset)",
			app_name(l, target), why);
}

int espimg_otadata_set_boot(uint8_t *blob, size_t size,
			    const espimg_otadata_layout *l,
			    const espimg_otadata_config *cfg, int target,
			    espimg_otadata_result *res,
			    espimg_diag_list *diags)
{
	const espimg_otadata_app *a;
	bool states, check;
	unsigned slot, n;
	rec r[2];
	int rc, act, sec, loads;
	uint32_t seq;

	rc = write_prep(blob, size, l, cfg, res, diags);
	if (rc < 0)
		return rc;
	if (target < 0 || (size_t)target >= l->n_apps)
		return ESPIMG_EINVAL;
	result_init(res, cfg, target);
	a = &l->apps[target];
	states = has_states(cfg);
	check = cfg->unsafe != ESPIMG_OTADATA_UNSAFE_MIMIC;

	if (cfg->bad[target]) {
		refuse(res, ESPIMG_OTA_VALIDATE_FAILED);
		espimg_diag_add(diags, ESPIMG_SEV_ERROR,
				"otadata.validate_failed", NULL, 0, 0, -1,
				"the image in '%s' does not verify: esp_ota_set_boot_partition returns ESP_ERR_OTA_VALIDATE_FAILED and writes nothing",
				a->name);
		return 0;
	}
	if (a->subtype == ESPIMG_PSUB_APP_FACTORY) {
		if (!l->has_otadata) {
			refuse(res, ESPIMG_OTA_NOT_FOUND);
			espimg_diag_add(diags, ESPIMG_SEV_ERROR,
					"otadata.no_otadata", NULL, 0, 0, -1,
					"the table has no otadata partition: ESP_ERR_NOT_FOUND");
			return 0;
		}
		if (check) {
			static const rec ff = { {
				0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
				0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
				0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
				0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			} };
			rec e[2] = { ff, ff };

			loads = predicted_load(l, cfg, e);
			if (loads != target) {
				not_bootable(res, l, target, loads, diags);
				return 0;
			}
		}
		for (size_t k = 0; k < size; k++) {
			if (blob[k] != 0xFF) {
				res->changed = true;
				break;
			}
		}
		memset(blob, 0xFF, size);
		res->erased_all = true;
		return 0;
	}
	if (cfg->anti_rollback && states &&
	    cfg->secure_version[target] < cfg->efuse_secure_version) {
		refuse(res, ESPIMG_OTA_SMALL_SEC_VER);
		res->erased_app = target;
		espimg_diag_add(diags, ESPIMG_SEV_ERROR,
				"otadata.small_sec_ver", NULL, 0, 0, -1,
				"'%s' has secure_version %u, below the eFuse secure version %u: the device returns ESP_ERR_OTA_SMALL_SEC_VER and erases that app partition; refused, nothing written",
				a->name, cfg->secure_version[target],
				cfg->efuse_secure_version);
		return 0;
	}
	if (!l->has_otadata) {
		refuse(res, ESPIMG_OTA_NOT_FOUND);
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.no_otadata",
				NULL, 0, 0, -1,
				"the table has no otadata partition: ESP_ERR_NOT_FOUND");
		return 0;
	}
	if (l->app_n_asserts) {
		refuse(res, ESPIMG_OTA_ABORT);
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.app_assert",
				NULL, 0, 0, -1,
				"16 OTA slots and a test partition: esp_ota_get_app_partition_count aborts the app; nothing written");
		return 0;
	}
	n = l->app_n;
	slot = a->subtype & 0x0Fu;
	if (slot >= n) {
		refuse(res, ESPIMG_OTA_INVALID_ARG);
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.slot_range",
				NULL, 0, 0, -1,
				"'%s' is slot %u but the app counts %u OTA slot%s (ota_0, ota_1, ... up to the first missing): ESP_ERR_INVALID_ARG",
				a->name, slot, n, n == 1 ? "" : "s");
		return 0;
	}

	read_recs(blob, size, r);
	act = active_of(r, states);
	if (act < 0) {
		sec = 0;
		seq = slot + 1;
	} else if ((uint32_t)(rec_seq(&r[act]) - 1u) % n == slot &&
		   version_of(cfg) >= V_SAME_SLOT) {
		sec = act;
		seq = rec_seq(&r[act]);
	} else {
		int v = espimg_otadata_seq_search(rec_seq(&r[act]), slot, n,
						  &seq);
		sec = act ^ 1;
		res->searched = true;
		res->search_seq = seq;
		res->verdict = (espimg_otadata_verdict)v;
		if (v == ESPIMG_OTADATA_SEQ_HANG) {
			refuse(res, ESPIMG_OTA_HANG);
			espimg_diag_add(diags, ESPIMG_SEV_ERROR,
					"otadata.seq_hang", NULL, 0, 0,
					(int64_t)act * SEC,
					"from seq 0x%08x with %u slots no seq for slot %u is ever found: the device loops forever in esp_ota_set_boot_partition (task watchdog); refused, nothing written",
					rec_seq(&r[act]), n, slot);
			return 0;
		}
		if (v != ESPIMG_OTADATA_SEQ_OK) {
			bool unusable = v == ESPIMG_OTADATA_SEQ_UNUSABLE;

			if (cfg->unsafe == ESPIMG_OTADATA_UNSAFE_REFUSE) {
				refuse(res, unusable ?
					ESPIMG_OTA_REFUSE_SEQ_UNUSABLE :
					ESPIMG_OTA_REFUSE_SEQ_WRONG_SLOT);
				espimg_diag_add(diags, ESPIMG_SEV_ERROR,
						unusable ? "otadata.seq_unusable" :
							   "otadata.seq_wrong_slot",
						NULL, 0, 0, (int64_t)sec * SEC,
						unusable ?
						"from seq 0x%08x the device's search ends at 0xFFFFFFFF, which it writes with ESP_OK but never boots (slot %u stays unreachable); refused, nothing written" :
						"from seq 0x%08x the device's search wraps to seq 0x%08x, which selects another slot than %u; it would return ESP_OK and boot the wrong app; refused, nothing written",
						rec_seq(&r[act]), unusable ? slot : seq,
						slot);
				return 0;
			}
			if (cfg->unsafe == ESPIMG_OTADATA_UNSAFE_RESET_SEQ) {
				rec e[2];

				memset(e, 0xFF, sizeof(e));
				rec_set(&e[0], slot + 1,
					cfg->rollback ? ESPIMG_OTA_STATE_NEW :
							ESPIMG_OTA_STATE_UNDEFINED,
					states);
				loads = predicted_load(l, cfg, e);
				if (loads != target) {
					not_bootable(res, l, target, loads,
						     diags);
					return 0;
				}
				commit_sector(blob, size, 1, &e[1], res);
				commit_sector(blob, size, 0, &e[0], res);
				res->reset_seq = true;
				espimg_diag_add(diags, ESPIMG_SEV_WARNING,
						"otadata.seq_reset", NULL, 0, 0,
						0,
						"the device's search would end at 0x%08x (%s): both sectors erased and entry 0 written with seq %u instead",
						seq,
						espimg_otadata_verdict_name((espimg_otadata_verdict)v),
						slot + 1);
				return 0;
			}
			espimg_diag_add(diags, ESPIMG_SEV_WARNING,
					unusable ? "otadata.seq_unusable" :
						   "otadata.seq_wrong_slot",
					NULL, 0, 0, (int64_t)sec * SEC,
					"written as the device does: seq 0x%08x (%s)",
					seq,
					espimg_otadata_verdict_name((espimg_otadata_verdict)v));
		}
	}
	/* The record read from that sector, new seq, new state, new CRC. */
	rec_set(&r[sec], seq,
		cfg->rollback ? ESPIMG_OTA_STATE_NEW : ESPIMG_OTA_STATE_UNDEFINED,
		states);
	if (check) {
		loads = predicted_load(l, cfg, r);
		if (loads != target) {
			not_bootable(res, l, target, loads, diags);
			return 0;
		}
	}
	commit_sector(blob, size, (unsigned)sec, &r[sec], res);
	return 0;
}

/* The running partition: the caller's, else the app view's boot partition. */
static int running_of(const uint8_t *blob, size_t size,
		      const espimg_otadata_layout *l,
		      const espimg_otadata_config *cfg, int running)
{
	espimg_ota_rc rc;
	int out = -1;

	if (running >= 0)
		return running;
	if (espimg_otadata_app_boot_partition(blob, size, l, cfg, &out, &rc) < 0 ||
	    rc != ESPIMG_OTA_OK)
		return -1;
	return out;
}

/* Shared head of esp_ota_current_ota_is_workable. */
static int workable_prep(uint8_t *blob, size_t size,
			 const espimg_otadata_layout *l,
			 const espimg_otadata_config *cfg, int running,
			 espimg_otadata_result *res, espimg_diag_list *diags,
			 rec r[2], int *act)
{
	int rc = write_prep(blob, size, l, cfg, res, diags);

	if (rc < 0)
		return rc;
	if (running >= 0 && (size_t)running >= l->n_apps)
		return ESPIMG_EINVAL;
	if (!has_states(cfg)) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.idf_version",
				NULL, 0, 0, -1,
				"the rollback calls first appeared in ESP-IDF v3.3");
		return ESPIMG_EUNSUPPORTED;
	}
	result_init(res, cfg, running_of(blob, size, l, cfg, running));
	if (!l->has_otadata) {
		refuse(res, ESPIMG_OTA_NOT_FOUND);
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.no_otadata",
				NULL, 0, 0, -1,
				"the table has no otadata partition: ESP_ERR_NOT_FOUND");
		return 1;
	}
	read_recs(blob, size, r);
	*act = active_of(r, true);
	/* The slot count is only asked for when an entry is active. */
	if (*act >= 0 && l->app_n_asserts) {
		refuse(res, ESPIMG_OTA_ABORT);
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.app_assert",
				NULL, 0, 0, -1,
				"16 OTA slots and a test partition: esp_ota_get_app_partition_count aborts the app; nothing written");
		return 1;
	}
	if (*act < 0 || l->app_n == 0) {
		refuse(res, ESPIMG_OTA_FAIL);
		espimg_diag_add(diags, ESPIMG_SEV_ERROR,
				"otadata.running_factory", NULL, 0, 0, -1,
				*act < 0 ?
				"no valid otadata entry, so the app assumes it runs the factory image: ESP_FAIL, nothing written" :
				"the table has no ota_0, so the app counts no OTA slot and assumes it runs the factory image: ESP_FAIL, nothing written");
		return 1;
	}
	return 0;
}

int espimg_otadata_mark_valid(uint8_t *blob, size_t size,
			      const espimg_otadata_layout *l,
			      const espimg_otadata_config *cfg, int running,
			      espimg_otadata_result *res,
			      espimg_diag_list *diags)
{
	rec r[2];
	int act = -1;
	int rc = workable_prep(blob, size, l, cfg, running, res, diags, r, &act);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (rec_state(&r[act]) == ESPIMG_OTA_STATE_VALID)
		return 0;
	rec_set(&r[act], rec_seq(&r[act]), ESPIMG_OTA_STATE_VALID, true);
	commit_sector(blob, size, (unsigned)act, &r[act], res);
	if (cfg->anti_rollback) {
		/* esp_ota_set_anti_rollback: the running app's version. */
		uint32_t e = cfg->efuse_secure_version;
		espimg_ota_rc u;

		if (res->target < 0) {
			espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.running",
					NULL, 0, 0, -1,
					"no running partition to take the secure version from");
			return ESPIMG_EINVAL;
		}
		u = efuse_update(&e, cfg->secure_version[res->target],
				 cfg->efuse_field_bits);
		res->efuse_burnt = e != cfg->efuse_secure_version;
		res->efuse_secure_version = e;
		res->efuse_rc = u;
		if (u != ESPIMG_OTA_OK) {
			/* The entry is VALID already; only the device's
			 * return value says the eFuse was not updated. */
			espimg_diag_add(diags, ESPIMG_SEV_WARNING,
					"otadata.efuse_not_updated", NULL, 0, 0,
					-1,
					"entry marked VALID, but the eFuse secure version is not raised to '%s''s %u (field of %u bits, eFuse at %u): %s",
					app_name(l, res->target),
					cfg->secure_version[res->target],
					cfg->efuse_field_bits,
					cfg->efuse_secure_version,
					espimg_ota_rc_name(u));
		}
	}
	return 0;
}

/* esp_ota_check_rollback_is_possible. */
static bool rollback_possible(const rec r[2], const espimg_otadata_layout *l,
			      const espimg_otadata_config *cfg)
{
	bool ok[2] = { rec_valid(&r[0], true), rec_valid(&r[1], true) };
	int act = select_entry(r, ok, true), last, p;

	if (l->app_n == 0 || act < 0)
		return false;
	last = act ^ 1;
	if (!cfg->anti_rollback && !ok[last] && l->app_factory >= 0 &&
	    !cfg->bad[l->app_factory])
		return true;
	if (!ok[last])
		return false;
	p = l->app_ota[(rec_seq(&r[last]) - 1u) % l->app_n];
	if (p < 0 || cfg->bad[p])
		return false;
	return !cfg->anti_rollback ||
	       cfg->secure_version[p] >= cfg->efuse_secure_version;
}

int espimg_otadata_mark_invalid(uint8_t *blob, size_t size,
				const espimg_otadata_layout *l,
				const espimg_otadata_config *cfg, int running,
				espimg_otadata_result *res,
				espimg_diag_list *diags)
{
	rec r[2];
	int act = -1;
	int rc = workable_prep(blob, size, l, cfg, running, res, diags, r, &act);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (!rollback_possible(r, l, cfg)) {
		refuse(res, ESPIMG_OTA_ROLLBACK_FAILED);
		espimg_diag_add(diags, ESPIMG_SEV_ERROR,
				"otadata.rollback_failed", NULL, 0, 0, -1,
				cfg->anti_rollback ?
				"no rollback target: the other entry is not valid, or its image does not verify or has a secure_version below the eFuse value (anti-rollback ignores the factory app): ESP_ERR_OTA_ROLLBACK_FAILED, nothing written" :
				"no rollback target: the other entry is not valid or its image does not verify, and no factory image verifies: ESP_ERR_OTA_ROLLBACK_FAILED, nothing written");
		return 0;
	}
	rec_set(&r[act], rec_seq(&r[act]), ESPIMG_OTA_STATE_INVALID, true);
	commit_sector(blob, size, (unsigned)act, &r[act], res);
	res->restart = true;
	return 0;
}

int espimg_otadata_invalidate_inactive(uint8_t *blob, size_t size,
				       const espimg_otadata_layout *l,
				       const espimg_otadata_config *cfg,
				       int running, espimg_otadata_result *res,
				       espimg_diag_list *diags)
{
	rec r[2];
	int rc, act, in, p;
	const char *why = NULL;

	rc = write_prep(blob, size, l, cfg, res, diags);
	if (rc < 0)
		return rc;
	if (running >= 0 && (size_t)running >= l->n_apps)
		return ESPIMG_EINVAL;
	if (version_of(cfg) < V_INVALIDATE) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "otadata.idf_version",
				NULL, 0, 0, -1,
				"esp_ota_invalidate_inactive_ota_data_slot first appeared in ESP-IDF v5.5");
		return ESPIMG_EUNSUPPORTED;
	}
	running = running_of(blob, size, l, cfg, running);
	result_init(res, cfg, running);
	if (!l->has_otadata) {
		refuse(res, ESPIMG_OTA_FAIL);
		return 0;
	}
	read_recs(blob, size, r);
	act = active_of(r, true);
	if (l->app_n_asserts) {
		refuse(res, ESPIMG_OTA_ABORT);
		return 0;
	}
	in = act ^ 1;
	if (act < 0 || l->app_n == 0)
		why = "no active entry or no OTA slot";
	else if (rec_seq(&r[in]) == SEQ_EMPTY || !rec_crc_ok(&r[in]))
		why = "the inactive entry is empty or has a bad CRC";
	else if ((p = l->app_ota[(rec_seq(&r[in]) - 1u) % l->app_n]) < 0 ||
		 p == running)
		why = "the inactive entry points at the running partition";
	if (why) {
		refuse(res, ESPIMG_OTA_FAIL);
		espimg_diag_add(diags, ESPIMG_SEV_NOTE, "otadata.nothing_inactive",
				NULL, 0, 0, -1, "%s: ESP_FAIL, nothing erased",
				why);
		return 0;
	}
	for (size_t k = (size_t)in * SEC; k < (size_t)in * SEC + SEC; k++) {
		if (blob[k] != 0xFF) {
			res->changed = true;
			break;
		}
	}
	memset(blob + (size_t)in * SEC, 0xFF, SEC);
	res->sector = in;
	res->sector_erased_only = true;
	res->seq = SEQ_EMPTY;
	res->state = ESPIMG_OTA_STATE_UNDEFINED;
	return 0;
}

/* ------------------------------------------------------------ queries */

/* find_default_boot_partition. */
static int default_boot(const espimg_otadata_layout *l)
{
	if (l->app_factory >= 0)
		return l->app_factory;
	for (unsigned s = 0; s < ESPIMG_OTADATA_MAX_SLOTS; s++)
		if (l->app_ota[s] >= 0)
			return l->app_ota[s];
	return l->app_test;
}

int espimg_otadata_app_boot_partition(const uint8_t *blob, size_t size,
				      const espimg_otadata_layout *l,
				      const espimg_otadata_config *cfg,
				      int *out, espimg_ota_rc *rc)
{
	bool states = has_states(cfg);
	rec r[2];
	int act;

	if (!l || !out || !rc || (!blob && size))
		return ESPIMG_EINVAL;
	*out = -1;
	*rc = ESPIMG_OTA_OK;
	if (!l->has_otadata)
		return 0;
	read_recs(blob, size, r);
	if (l->app_n_asserts) {
		*rc = ESPIMG_OTA_ABORT;
		return 0;
	}
	if (!states) {
		/* v3.0..v3.2: "both seqs erased" rather than "both unusable",
		 * and no guard against a table without OTA slots. */
		if (rec_seq(&r[0]) == SEQ_EMPTY && rec_seq(&r[1]) == SEQ_EMPTY) {
			*out = default_boot(l);
			return 0;
		}
		act = active_of(r, false);
		if (act >= 0 && l->app_n == 0) {
			*rc = ESPIMG_OTA_DIV_ZERO;
			return 0;
		}
	} else {
		if ((rec_unusable(&r[0], true) && rec_unusable(&r[1], true)) ||
		    l->app_n == 0) {
			*out = default_boot(l);
			return 0;
		}
		act = active_of(r, true);
	}
	if (act < 0)
		*out = default_boot(l);
	else
		*out = l->app_ota[(rec_seq(&r[act]) - 1u) % l->app_n];
	return 0;
}

int espimg_otadata_get_state(const uint8_t *blob, size_t size,
			     const espimg_otadata_layout *l,
			     const espimg_otadata_config *cfg, int app,
			     uint32_t *state, espimg_ota_rc *rc)
{
	rec r[2];
	uint8_t st;

	if (!l || !state || !rc || (!blob && size) || app < 0 ||
	    (size_t)app >= l->n_apps)
		return ESPIMG_EINVAL;
	if (!has_states(cfg))
		return ESPIMG_EUNSUPPORTED;
	*state = ESPIMG_OTA_STATE_UNDEFINED;
	st = l->apps[app].subtype;
	if ((st & 0xF0) != ESPIMG_PSUB_APP_OTA_0) {
		*rc = ESPIMG_OTA_NOT_SUPPORTED;
		return 0;
	}
	if (l->app_n_asserts) {
		*rc = ESPIMG_OTA_ABORT;
		return 0;
	}
	if (!l->has_otadata || l->app_n == 0) {
		*rc = ESPIMG_OTA_NOT_FOUND;
		return 0;
	}
	read_recs(blob, size, r);
	for (unsigned i = 0; i < 2; i++) {
		if ((rec_seq(&r[i]) - 1u) % l->app_n == (uint32_t)(st & 0x0F) &&
		    rec_crc_ok(&r[i])) {
			*state = rec_state(&r[i]);
			*rc = ESPIMG_OTA_OK;
			return 0;
		}
	}
	*rc = ESPIMG_OTA_NOT_FOUND;
	return 0;
}

int espimg_otadata_next_update(const espimg_otadata_layout *l, int start)
{
	int first = -1;
	bool next = false;

	if (!l)
		return -1;
	for (unsigned s = 0; s < ESPIMG_OTADATA_MAX_SLOTS; s++) {
		int p = l->app_ota[s];

		if (p < 0)
			continue;
		if (first < 0)
			first = p;
		if (p == start)
			next = true;
		else if (next)
			return p;
	}
	return first;
}

int espimg_otadata_last_invalid(const uint8_t *blob, size_t size,
				const espimg_otadata_layout *l,
				const espimg_otadata_config *cfg, int *out,
				espimg_ota_rc *rc)
{
	bool inv[2];
	rec r[2];
	int e, p;

	if (!l || !out || !rc || (!blob && size))
		return ESPIMG_EINVAL;
	if (!has_states(cfg))
		return ESPIMG_EUNSUPPORTED;
	*out = -1;
	*rc = ESPIMG_OTA_OK;
	if (!l->has_otadata)
		return 0;
	read_recs(blob, size, r);
	for (unsigned i = 0; i < 2; i++) {
		uint32_t st = rec_state(&r[i]);

		inv[i] = rec_seq(&r[i]) != SEQ_EMPTY && rec_crc_ok(&r[i]) &&
			 (st == ESPIMG_OTA_STATE_INVALID ||
			  st == ESPIMG_OTA_STATE_ABORTED);
	}
	e = select_entry(r, inv, false);
	if (l->app_n_asserts) {
		*rc = ESPIMG_OTA_ABORT;
		return 0;
	}
	if (e < 0 || l->app_n == 0)
		return 0;
	p = l->app_ota[(rec_seq(&r[e]) - 1u) % l->app_n];
	if (p >= 0 && cfg && cfg->bad[p])
		return 0;
	*out = p;
	return 0;
}

/* ------------------------------------------------------------ init */

int espimg_otadata_init(uint8_t *blob, size_t size)
{
	if (!blob || size < ESPIMG_OTADATA_MIN_SIZE || size % SEC ||
	    size > ESPIMG_OTADATA_MAX_SIZE)
		return ESPIMG_EINVAL;
	memset(blob, 0xFF, size);
	return 0;
}
