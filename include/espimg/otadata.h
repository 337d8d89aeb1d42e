/*
 * otadata.h - the OTA data partition: decoding, the bootloader's choice of
 * the app to load, and the app-side calls that write it, each exactly as
 * the device does them.
 *
 * References (ESP-IDF master v6.1-dev, and the tags v6.0, v5.5.5, v4.4.8,
 * v3.3.6, v3.2): components/app_update/esp_ota_ops.c,
 * components/bootloader_support/src/bootloader_utility.c and
 * bootloader_common_loader.c, components/efuse/src/esp_efuse_fields.c.
 * ../shared/docs/otadata.md explains every rule; section numbers below
 * (§n) point there.
 *
 * Model.  otadata is a data partition (type 0x01, subtype 0x00) of at
 * least 0x2000 bytes.  The device reads two 32-byte records, entry 0 at
 * offset 0x0000 and entry 1 at 0x1000 (the start of the first two 4 KiB
 * flash sectors), and nothing else.  A record is a little-endian sequence
 * number, a 20-byte label, a little-endian state word and a CRC of the
 * four sequence bytes.  The entry with the larger sequence number among
 * the valid ones is active; its sequence number, minus one, modulo the
 * number of OTA slots, is the slot that boots.  Every device write erases
 * a whole 4 KiB sector and programs 32 bytes at its start.
 *
 * Conventions.  Every function works on a caller-owned blob (the whole
 * partition as bytes) and a layout built from the partition table; none
 * allocates or does I/O.  A function returns 0 when it could simulate the
 * device, and a negative ESPIMG_E* code when the caller's arguments do not
 * allow it (NULL pointers, a blob of the wrong size for a write, an
 * unsupported configuration).  What the device itself would answer -
 * ESP_OK, an esp_err, a hang, or a refusal of ours - is in the result's
 * `rc`.  An operation whose rc is not ESPIMG_OTA_OK leaves the blob
 * untouched.  Findings go to the optional diagnostics list with stable
 * codes "otadata.*".
 */
#ifndef ESPIMG_OTADATA_H
#define ESPIMG_OTADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/common.h"
#include "espimg/diag.h"
#include "espimg/ptable.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ constants */

/* Partition geometry (bootloader_common_read_otadata: SPI_SEC_SIZE, the
 * "too small" check at 2 * SPI_SEC_SIZE; esp_flash_partitions.h:
 * esp_ota_select_entry_t). */
#define ESPIMG_OTADATA_SECTOR 0x1000u
#define ESPIMG_OTADATA_ENTRY_SIZE 32u
#define ESPIMG_OTADATA_LABEL_LEN 20u
#define ESPIMG_OTADATA_MIN_SIZE 0x2000u     /* smaller: the bootloader resets */
#define ESPIMG_OTADATA_DEFAULT_SIZE 0x2000u /* the only size gen_esp32part
					       accepts since ESP-IDF v4.4 */
/* Our bound on a blob we initialise or write (not a device limit). */
#define ESPIMG_OTADATA_MAX_SIZE 0x100000u

/* Entry field offsets. */
#define ESPIMG_OTADATA_OFF_SEQ 0x00u
#define ESPIMG_OTADATA_OFF_LABEL 0x04u
#define ESPIMG_OTADATA_OFF_STATE 0x18u
#define ESPIMG_OTADATA_OFF_CRC 0x1Cu

#define ESPIMG_OTADATA_SEQ_EMPTY 0xFFFFFFFFu
#define ESPIMG_OTADATA_MAX_SLOTS 16u  /* ota_0 .. ota_15 (MAX_OTA_SLOTS) */
/* App partitions a layout holds: a binary table has at most 95 entries. */
#define ESPIMG_OTADATA_MAX_APPS 96u

/* ota_state values (esp_ota_img_states_t, esp_flash_partitions.h; ESP-IDF
 * v3.3 and later - before that these bytes were part of the label). */
#define ESPIMG_OTA_STATE_NEW 0x00000000u
#define ESPIMG_OTA_STATE_PENDING_VERIFY 0x00000001u
#define ESPIMG_OTA_STATE_VALID 0x00000002u
#define ESPIMG_OTA_STATE_INVALID 0x00000003u
#define ESPIMG_OTA_STATE_ABORTED 0x00000004u
#define ESPIMG_OTA_STATE_UNDEFINED 0xFFFFFFFFu

/* Bootloader start indexes besides 0..15 (bootloader_utility.h). */
#define ESPIMG_OTADATA_INDEX_FACTORY (-1)
#define ESPIMG_OTADATA_INDEX_TEST (-2)
#define ESPIMG_OTADATA_INDEX_INVALID (-99)

/* ------------------------------------------------------------ layout */

/* One app partition (type 0x00) of the table. */
typedef struct espimg_otadata_app {
	const char *name; /* borrowed from the table / the caller */
	uint8_t subtype;  /* 0x00 factory, 0x10..0x1F ota_N, 0x20 test, ... */
	uint32_t offset;
	uint32_t size;
} espimg_otadata_app;

/*
 * What the bootloader and the app know about the table.  They count the
 * OTA slots differently (§5): the bootloader files every app partition
 * with subtype 0x10..0x1F under index subtype & 0x0F (a later duplicate
 * replaces an earlier one) and counts them all, gaps and duplicates
 * included; the app counts ota_0, ota_1, ... up to the first subtype
 * missing and always uses the first partition of a subtype.  All indexes
 * below are into apps[], -1 when absent.
 */
typedef struct espimg_otadata_layout {
	size_t n_apps;
	espimg_otadata_app apps[ESPIMG_OTADATA_MAX_APPS]; /* table order */

	bool has_otadata;
	const char *otadata_name; /* borrowed */
	uint32_t otadata_offset;
	uint32_t otadata_size;

	/* Bootloader view (bootloader_utility_load_partition_table). */
	int boot_factory;                           /* last factory */
	int boot_test;                              /* last test */
	int boot_ota[ESPIMG_OTADATA_MAX_SLOTS];     /* last per subtype */
	unsigned boot_n;                            /* bs->app_count */

	/* App view (esp_partition_find_first, esp_ota_get_app_partition_count). */
	int app_factory;                            /* first factory */
	int app_test;                               /* first test */
	int app_ota[ESPIMG_OTADATA_MAX_SLOTS];      /* first per subtype */
	unsigned app_n;                             /* contiguous from ota_0 */
	/* 16 contiguous OTA slots and a test partition: the app's counting
	 * loop reaches subtype 0x20 and fails its assertion (abort) in every
	 * call that counts slots. */
	bool app_n_asserts;
} espimg_otadata_layout;

/* An empty layout (no apps, no otadata). */
ESPIMG_API void espimg_otadata_layout_init(espimg_otadata_layout *l);

/*
 * Adds one partition in table order; only app partitions and the otadata
 * partition matter, others are ignored (returns 0).  `name` must outlive
 * the layout.  Returns 0, ESPIMG_ETOOBIG (more than
 * ESPIMG_OTADATA_MAX_APPS apps), ESPIMG_EFORMAT (a second otadata
 * partition: the bootloader would use the last and the app the first, which
 * we do not model) or ESPIMG_EINVAL.
 */
ESPIMG_API int espimg_otadata_layout_add(espimg_otadata_layout *l,
					 const char *name, uint8_t type,
					 uint8_t subtype, uint32_t offset,
					 uint32_t size);

/*
 * Builds the layout of a parsed table (names stay borrowed from it).
 * Adds notes or warnings about what makes the two views differ (gaps,
 * duplicate subtypes, the test partition next to 16 slots, an otadata
 * partition smaller than 0x2000, none at all).  Returns 0, or the
 * espimg_otadata_layout_add error with an error diagnostic.
 */
ESPIMG_API int espimg_otadata_layout_from_ptable(const espimg_ptable *table,
						 espimg_otadata_layout *l,
						 espimg_diag_list *diags);

/* Index into apps[] of the first app partition with this name, or -1. */
ESPIMG_API int espimg_otadata_find_app(const espimg_otadata_layout *l,
				       const char *name);

/* Index of the partition the app calls ota_<slot> (first with subtype
 * 0x10 + slot), or -1. */
ESPIMG_API int espimg_otadata_find_slot(const espimg_otadata_layout *l,
					unsigned slot);

/* ------------------------------------------------------------ config */

/* What set-boot does when the device's seq search would end badly (§9). */
typedef enum espimg_otadata_unsafe {
	/* Refuse (default): rc says why, nothing is written. */
	ESPIMG_OTADATA_UNSAFE_REFUSE = 0,
	/* Write what the device writes (0xFFFFFFFF, or a seq of another
	 * slot) and report the verdict; a hang is still refused. */
	ESPIMG_OTADATA_UNSAFE_MIMIC,
	/* Erase both sectors and write seq = slot + 1 to entry 0, which is
	 * what the device does from an erased otadata. */
	ESPIMG_OTADATA_UNSAFE_RESET_SEQ,
} espimg_otadata_unsafe;

/*
 * How the device was built and what the images in its app partitions are.
 * Per-app arrays are indexed like layout.apps[].
 */
typedef struct espimg_otadata_config {
	/* ESPIMG_IDF_VERSION(x, y, z) whose logic to follow, or
	 * ESPIMG_IDF_NEWEST (v6.1-dev).  v3.0..v3.2: no state word (§14);
	 * v3.3: states, rollback; v5.5: esp_ota_invalidate_inactive_ota_data_slot;
	 * v6.0: same-slot set_boot rewrites the active entry.  Older than
	 * v3.0: ESPIMG_EUNSUPPORTED. */
	unsigned idf_version;
	/* CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE in both app and bootloader
	 * (v3.3+). */
	bool rollback;
	/* CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK; requires rollback. */
	bool anti_rollback;
	/* Number of bits set in the SECURE_VERSION eFuse field. */
	uint32_t efuse_secure_version;
	/* CONFIG_BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD (capped by the chip's
	 * field): a secure_version above it is never burnt.  Default 32. */
	unsigned efuse_field_bits;
	/* The image in apps[i] fails esp_image_verify (--bad).  Its app
	 * description is taken to be readable all the same (a digest or
	 * signature failure), so anti-rollback still sees its version. */
	bool bad[ESPIMG_OTADATA_MAX_APPS];
	/* The secure_version in apps[i]'s app description (default 0). */
	uint32_t secure_version[ESPIMG_OTADATA_MAX_APPS];
	/* set_boot only. */
	espimg_otadata_unsafe unsafe;
} espimg_otadata_config;

/* Newest version, rollback off, every image good, versions 0, eFuse 0,
 * 32 field bits, unsafe = REFUSE. */
ESPIMG_API void espimg_otadata_config_init(espimg_otadata_config *cfg);

/* Checks a configuration: anti_rollback without rollback, rollback before
 * v3.3, a version older than v3.0.  Returns 0, ESPIMG_EINVAL or
 * ESPIMG_EUNSUPPORTED (message in diags). */
ESPIMG_API int espimg_otadata_config_check(const espimg_otadata_config *cfg,
					   espimg_diag_list *diags);

/* ------------------------------------------------------------ records */

/*
 * The CRC of one entry as the device computes it (§2): esp_rom_crc32_le
 * seeded with 0xFFFFFFFF over the four little-endian seq bytes only, i.e.
 * zlib crc32(0xFFFFFFFF, bytes, 4).  seq 1 gives 0x4743989A.
 */
ESPIMG_API uint32_t espimg_otadata_crc(uint32_t seq);

/* One decoded record. */
typedef struct espimg_otadata_entry {
	unsigned index;        /* 0 or 1 */
	uint32_t offset;       /* 0x0000 or 0x1000 */
	/* All 32 bytes lie inside the blob.  Missing bytes are read as
	 * 0xFF (erased) so that what follows still says something. */
	bool present;
	bool erased;           /* all 32 bytes 0xFF */
	uint32_t seq;
	uint8_t label[ESPIMG_OTADATA_LABEL_LEN];
	uint32_t state;        /* before v3.3: the last 4 label bytes */
	uint32_t crc;          /* stored */
	uint32_t crc_computed;
	bool crc_ok;
	/* Not unusable by content (§3): seq != 0xFFFFFFFF and, since v3.3,
	 * state is neither INVALID nor ABORTED.  The CRC is not part of it. */
	bool usable;
	bool valid;            /* usable && crc_ok */
} espimg_otadata_entry;

/*
 * Decodes both entries of a blob under cfg's version rules (cfg may be
 * NULL: newest).  Never fails on content: a short blob gives entries with
 * present = false (an error diagnostic at the offset where the blob ends);
 * a bad CRC, an unknown state, seq 0, equal seqs, a CRC computed the wrong
 * way (plain CRC-32, or big-endian seq) and bytes after a record that are
 * not 0xFF give notes or warnings.  Returns 0 or ESPIMG_EINVAL (NULL out,
 * or NULL blob with a non-zero size).
 */
ESPIMG_API int espimg_otadata_decode(const uint8_t *blob, size_t size,
				     const espimg_otadata_config *cfg,
				     espimg_otadata_entry out[2],
				     espimg_diag_list *diags);

/*
 * Encodes a record: seq, the 20 label bytes (NULL: 0xFF), state, and the
 * CRC of seq.
 */
ESPIMG_API void espimg_otadata_entry_encode(uint8_t out[ESPIMG_OTADATA_ENTRY_SIZE],
					    uint32_t seq, const uint8_t *label,
					    uint32_t state);

/* "NEW", "PENDING_VERIFY", "VALID", "INVALID", "ABORTED", "UNDEFINED";
 * NULL for any other value. */
ESPIMG_API const char *espimg_otadata_state_name(uint32_t state);

/* Why an entry is active (or none is). */
typedef enum espimg_otadata_active_why {
	ESPIMG_OTADATA_ACTIVE_NONE = 0,  /* neither entry is valid */
	ESPIMG_OTADATA_ACTIVE_ONLY,      /* the only valid entry */
	ESPIMG_OTADATA_ACTIVE_LARGER,    /* both valid, larger seq (unsigned) */
	ESPIMG_OTADATA_ACTIVE_TIE,       /* both valid, equal seqs: entry 0 */
} espimg_otadata_active_why;

/*
 * The active entry as bootloader and app both choose it (§4): among the
 * valid entries the larger seq as a plain unsigned comparison, entry 0 on
 * a tie.  Returns 0, 1 or -1 (none); *why may be NULL.
 */
ESPIMG_API int espimg_otadata_active(const espimg_otadata_entry e[2],
				     espimg_otadata_active_why *why);

/* The slot a seq selects with n slots: (seq - 1) mod n in 32-bit unsigned
 * arithmetic (seq 0 gives 0xFFFFFFFF mod n).  -1 when n is 0. */
ESPIMG_API int espimg_otadata_seq_slot(uint32_t seq, unsigned n);

/* ------------------------------------------------------------ seq search */

typedef enum espimg_otadata_verdict {
	ESPIMG_OTADATA_SEQ_OK = 0,     /* <= 0xFFFFFFFE and in the target slot */
	ESPIMG_OTADATA_SEQ_UNUSABLE,   /* 0xFFFFFFFF: written, never booted */
	ESPIMG_OTADATA_SEQ_WRONG_SLOT, /* maps to another slot */
	ESPIMG_OTADATA_SEQ_HANG,       /* the search never returns */
} espimg_otadata_verdict;

/*
 * The device's new-seq search (§8, §9): with b = (target + 1) mod n it
 * tries b, b + n, b + 2n, ... in 32-bit arithmetic, passing 0xFFFFFFFF and
 * starting again from a small value, until one is >= current.  Computed in
 * at most n passes, not 2^32 steps.  Stores the answer in *new_seq (0 on a
 * hang) and returns the verdict, or ESPIMG_EINVAL when n is 0 or above 255
 * (the device passes a uint8_t), target >= n, or new_seq is NULL.
 */
ESPIMG_API int espimg_otadata_seq_search(uint32_t current, unsigned target,
					 unsigned n, uint32_t *new_seq);

/* "ok", "unusable (0xFFFFFFFF)", "maps to another slot", "never returns"
 * (the words of seq_search.tsv). */
ESPIMG_API const char *espimg_otadata_verdict_name(espimg_otadata_verdict v);

/* ------------------------------------------------------------ results */

/* What the device answers, or why we refuse. */
typedef enum espimg_ota_rc {
	ESPIMG_OTA_OK = 0,             /* ESP_OK */
	ESPIMG_OTA_FAIL,               /* ESP_FAIL */
	ESPIMG_OTA_INVALID_ARG,        /* ESP_ERR_INVALID_ARG */
	ESPIMG_OTA_NOT_FOUND,          /* ESP_ERR_NOT_FOUND */
	ESPIMG_OTA_NOT_SUPPORTED,      /* ESP_ERR_NOT_SUPPORTED */
	ESPIMG_OTA_VALIDATE_FAILED,    /* ESP_ERR_OTA_VALIDATE_FAILED */
	ESPIMG_OTA_SMALL_SEC_VER,      /* ESP_ERR_OTA_SMALL_SEC_VER */
	ESPIMG_OTA_ROLLBACK_FAILED,    /* ESP_ERR_OTA_ROLLBACK_FAILED */
	/* The device never returns: the seq search loops forever. */
	ESPIMG_OTA_HANG,
	/* The app aborts: esp_ota_get_app_partition_count's assertion
	 * (16 OTA slots and a test partition). */
	ESPIMG_OTA_ABORT,
	/* The app divides by zero (v3.0..v3.2 esp_ota_get_boot_partition with
	 * a valid entry and no OTA slot). */
	ESPIMG_OTA_DIV_ZERO,
	/* Refusals of ours where the device returns ESP_OK: */
	ESPIMG_OTA_REFUSE_SEQ_UNUSABLE,   /* it would write seq 0xFFFFFFFF */
	ESPIMG_OTA_REFUSE_SEQ_WRONG_SLOT, /* its seq selects another slot */
	/* The target is not what the bootloader would load from the written
	 * otadata: the test partition (taken as ota_0), an app subtype
	 * outside 0x10..0x1F, a duplicate subtype, or a table where the
	 * bootloader counts other slots than the app. */
	ESPIMG_OTA_REFUSE_NOT_BOOTABLE,
} espimg_ota_rc;

/* "ESP_OK", "ESP_ERR_OTA_ROLLBACK_FAILED", ..., "HANG", "ABORT",
 * "DIV_ZERO", "REFUSED_SEQ_UNUSABLE", "REFUSED_SEQ_WRONG_SLOT",
 * "REFUSED_NOT_BOOTABLE". */
ESPIMG_API const char *espimg_ota_rc_name(espimg_ota_rc rc);

/* The outcome of an app-side write (set_boot, mark_valid, mark_invalid,
 * invalidate_inactive). */
typedef struct espimg_otadata_result {
	espimg_ota_rc rc;
	/* A refusal of ours (rc >= ESPIMG_OTA_HANG) for a call the device
	 * would make return ESP_OK or never return. */
	bool refused;
	bool restart;          /* mark_invalid: the device reboots next */
	bool changed;          /* blob bytes differ from before */
	bool erased_all;       /* set_boot factory: whole partition erased */
	int sector;            /* sector erased and written, -1: none */
	bool sector_erased_only; /* invalidate_inactive: erased, not written */
	uint32_t seq;          /* written record (sector >= 0) */
	uint32_t state;
	int target;            /* apps[] index the call was about, -1 */
	/* set_boot: the seq search, when the device ran it. */
	bool searched;
	uint32_t search_seq;
	espimg_otadata_verdict verdict;
	/* set_boot with ESPIMG_OTADATA_UNSAFE_RESET_SEQ used: both sectors
	 * erased, entry 0 written. */
	bool reset_seq;
	/* ESP_ERR_OTA_SMALL_SEC_VER: the device erases this app partition
	 * (apps[] index); we only report it.  -1 otherwise. */
	int erased_app;
	/* Anti-rollback: eFuse secure version after the call. */
	bool efuse_burnt;
	uint32_t efuse_secure_version;
	/* mark_valid with anti-rollback: the eFuse update's answer.  When it
	 * is not ESPIMG_OTA_OK the device returns it from mark_valid although
	 * the entry was written (rc stays ESPIMG_OTA_OK here). */
	espimg_ota_rc efuse_rc;
} espimg_otadata_result;

/* ------------------------------------------------------------ app side */

/*
 * esp_ota_set_boot_partition(apps[target]) (§8): the image must verify
 * (cfg->bad: ESP_ERR_OTA_VALIDATE_FAILED); factory erases the whole
 * otadata partition; anti-rollback refuses a secure_version below the eFuse
 * value (ESP_ERR_OTA_SMALL_SEC_VER - the device also erases that app
 * partition, which we report in erased_app and do not do); slot =
 * subtype & 0x0F must be below the app's slot count
 * (ESP_ERR_INVALID_ARG).  Then, with no active entry, entry 0 gets
 * seq = slot + 1; when the active entry selects another slot, the other
 * entry gets the searched seq; when it selects this slot, v6.0+ rewrites
 * the active entry with its own seq and older versions write that seq into
 * the other entry.  The record written is the 32 bytes previously in that
 * sector with the new seq, state NEW (rollback) or UNDEFINED, the CRC
 * recomputed (v3.0..v3.2: state bytes kept), its sector erased first.
 * Refusals: ESPIMG_OTA_HANG always; with cfg->unsafe REFUSE,
 * REFUSE_SEQ_UNUSABLE and REFUSE_SEQ_WRONG_SLOT (RESET_SEQ writes a fresh
 * entry 0 instead, MIMIC the device's record); unless MIMIC,
 * REFUSE_NOT_BOOTABLE when espimg_otadata_boot on the result (same cfg)
 * would not load apps[target] - so with REFUSE a successful set_boot is
 * always followed by a boot of the target.
 * Returns 0 (outcome in *res), ESPIMG_EINVAL, ESPIMG_EUNSUPPORTED (cfg),
 * or ESPIMG_EFORMAT when the blob size differs from the layout's otadata
 * size or that is below 0x2000 (diagnostic says so).
 */
ESPIMG_API int espimg_otadata_set_boot(uint8_t *blob, size_t size,
				       const espimg_otadata_layout *l,
				       const espimg_otadata_config *cfg,
				       int target, espimg_otadata_result *res,
				       espimg_diag_list *diags);

/*
 * esp_ota_mark_app_valid_cancel_rollback(): with no active entry or no OTA
 * slot, ESP_FAIL ("running factory"); a VALID active entry is left alone;
 * otherwise the active sector is rewritten with state VALID (works without
 * rollback too).  Anti-rollback: then the eFuse is raised to the running
 * app's secure_version (`running`, apps[] index; -1: the app view's boot
 * partition); a refused update (version beyond the field, or below the
 * eFuse) is the device's return value, reported in efuse_rc.
 * Returns as espimg_otadata_set_boot.
 */
ESPIMG_API int espimg_otadata_mark_valid(uint8_t *blob, size_t size,
					 const espimg_otadata_layout *l,
					 const espimg_otadata_config *cfg,
					 int running, espimg_otadata_result *res,
					 espimg_diag_list *diags);

/*
 * esp_ota_mark_app_invalid_rollback_and_reboot(): ESP_FAIL without an
 * active entry or OTA slot; ESP_ERR_OTA_ROLLBACK_FAILED unless the other
 * entry is valid and its slot's image verifies (anti-rollback: and its
 * secure_version is acceptable), or - not with anti-rollback - the other
 * entry is not valid and a factory image verifies.  Otherwise the active
 * entry becomes INVALID and restart is set.  `running` as mark_valid
 * (unused by the device's checks; kept for the report).
 */
ESPIMG_API int espimg_otadata_mark_invalid(uint8_t *blob, size_t size,
					   const espimg_otadata_layout *l,
					   const espimg_otadata_config *cfg,
					   int running, espimg_otadata_result *res,
					   espimg_diag_list *diags);

/*
 * esp_ota_invalidate_inactive_ota_data_slot() (v5.5+, called by
 * esp_ota_begin in rollback builds): erases the non-active sector when it
 * holds a CRC-valid seq for another partition than `running`; ESP_FAIL
 * otherwise.  ESPIMG_EUNSUPPORTED before v5.5.
 */
ESPIMG_API int espimg_otadata_invalidate_inactive(uint8_t *blob, size_t size,
						  const espimg_otadata_layout *l,
						  const espimg_otadata_config *cfg,
						  int running,
						  espimg_otadata_result *res,
						  espimg_diag_list *diags);

/* ------------------------------------------------------------ queries */

/*
 * esp_ota_get_boot_partition() (§10): the app's prediction, which ignores
 * images and uses the app's slot count.  *out = apps[] index, or -1 for
 * NULL (no otadata partition, or no app partition at all).  Returns 0 with
 * *rc = ESPIMG_OTA_OK, ESPIMG_OTA_ABORT or ESPIMG_OTA_DIV_ZERO; or an
 * ESPIMG_E* code.  A blob shorter than the entries reads as 0xFF there.
 */
ESPIMG_API int espimg_otadata_app_boot_partition(const uint8_t *blob,
						 size_t size,
						 const espimg_otadata_layout *l,
						 const espimg_otadata_config *cfg,
						 int *out, espimg_ota_rc *rc);

/*
 * esp_ota_get_state_partition(apps[app]): ESP_ERR_NOT_SUPPORTED unless an
 * OTA partition (0x10..0x1F); ESP_ERR_NOT_FOUND without otadata or OTA
 * slots; else the state of the first entry (0 before 1) whose CRC matches
 * and whose (seq - 1) mod N is the partition's slot - states and seq
 * 0xFFFFFFFF are not checked - or ESP_ERR_NOT_FOUND.  v3.0..v3.2 has no
 * such call: ESPIMG_EUNSUPPORTED.
 */
ESPIMG_API int espimg_otadata_get_state(const uint8_t *blob, size_t size,
					const espimg_otadata_layout *l,
					const espimg_otadata_config *cfg,
					int app, uint32_t *state,
					espimg_ota_rc *rc);

/*
 * esp_ota_get_next_update_partition(apps[start]): walks ota_0..ota_15
 * (first partition of each), answers the one after `start`, or the first
 * when `start` is the last or not among them.  Ignores otadata.  Returns
 * the apps[] index, or -1 when there is no OTA partition.
 */
ESPIMG_API int espimg_otadata_next_update(const espimg_otadata_layout *l,
					  int start);

/*
 * esp_ota_get_last_invalid_partition(): among entries with a matching
 * CRC, seq != 0xFFFFFFFF and state INVALID or ABORTED, the smaller seq
 * (tie: entry 0), mapped with the app's N; NULL (-1) when none, when N is
 * 0, or when that image does not verify.  *out = apps[] index or -1.
 * Same returns as espimg_otadata_app_boot_partition; v3.0..v3.2:
 * ESPIMG_EUNSUPPORTED.
 */
ESPIMG_API int espimg_otadata_last_invalid(const uint8_t *blob, size_t size,
					   const espimg_otadata_layout *l,
					   const espimg_otadata_config *cfg,
					   int *out, espimg_ota_rc *rc);

/* ------------------------------------------------------------ bootloader */

typedef enum espimg_otadata_boot_outcome {
	ESPIMG_OTADATA_BOOT_LOADED = 0,
	ESPIMG_OTADATA_BOOT_RESET_NO_APP,   /* "No bootable app partitions" */
	ESPIMG_OTADATA_BOOT_RESET_OTADATA,  /* otadata < 0x2000: read fails */
	/* Undefined on the device: anti-rollback with no OTA slot divides
	 * by zero; more than 16 OTA partitions index past its slot table. */
	ESPIMG_OTADATA_BOOT_FAULT,
} espimg_otadata_boot_outcome;

/* Why a load attempt failed or succeeded. */
typedef enum espimg_otadata_try {
	ESPIMG_OTADATA_TRY_LOADED = 0,
	ESPIMG_OTADATA_TRY_BAD_IMAGE,     /* fails verification (cfg->bad) */
	ESPIMG_OTADATA_TRY_SECURE_VERSION,/* secure_version < eFuse */
} espimg_otadata_try;

#define ESPIMG_OTADATA_MAX_TRIES 20
#define ESPIMG_OTADATA_MAX_BOOT_WRITES 4

typedef struct espimg_otadata_boot_result {
	espimg_otadata_boot_outcome outcome;
	int loaded;              /* apps[] index, -1 */
	int start_index;         /* 0..15 or ESPIMG_OTADATA_INDEX_* */
	int selected_entry;      /* active entry used for start_index, -1 */
	/* Both entries erased or bad CRC, no factory: the first OTA index
	 * that loads is written to entry 0 as seq index + 1, VALID. */
	bool initial;
	bool entries_assumed;    /* the blob was short: missing bytes read as
				    0xFF */
	/* Writes in order: PENDING_VERIFY -> ABORTED per entry, NEW ->
	 * PENDING_VERIFY of the active entry, the initial entry 0. */
	unsigned n_writes;
	struct {
		int sector;
		uint32_t seq;
		uint32_t state;
	} writes[ESPIMG_OTADATA_MAX_BOOT_WRITES];
	bool written;            /* otadata bytes changed */
	/* Load walk: each partition tried, in order. */
	unsigned n_tries;
	struct {
		int index;           /* bootloader index */
		int app;             /* apps[] index */
		espimg_otadata_try result;
	} tries[ESPIMG_OTADATA_MAX_TRIES];
	/* Anti-rollback eFuse. */
	uint32_t efuse_before;
	uint32_t efuse_after;
} espimg_otadata_boot_result;

/*
 * Simulates the next boot (§7): rollback builds first turn every
 * PENDING_VERIFY entry into ABORTED; then the start index is chosen (no
 * otadata: factory; both entries unusable or no OTA slot: factory, or
 * index 0 and "initial" when both are erased or have bad CRCs; else the
 * active entry's slot with the bootloader's N - NEW becomes PENDING_VERIFY
 * in rollback builds, a VALID entry raises the eFuse in anti-rollback
 * builds - or the factory index when no entry is valid); anti-rollback
 * builds replace the "unusable" test by the initial test and only take
 * entries whose app has an acceptable secure_version.  The load walk then
 * tries the start index, lower indexes down to factory, higher ones, the
 * test app; an OTA index that loads while "initial" writes entry 0.
 * v3.0..v3.2 never writes.  The blob is changed as the bootloader changes
 * it; blob may be NULL when the layout has no otadata.  A blob whose size
 * differs from the layout's is simulated (writes clipped to it) with a
 * warning; a short one reads as 0xFF past its end (entries_assumed).
 * Returns 0 or ESPIMG_EINVAL / ESPIMG_EUNSUPPORTED.
 */
ESPIMG_API int espimg_otadata_boot(uint8_t *blob, size_t size,
				   const espimg_otadata_layout *l,
				   const espimg_otadata_config *cfg,
				   espimg_otadata_boot_result *out,
				   espimg_diag_list *diags);

/* ------------------------------------------------------------ init */

/*
 * A fresh otadata, as ota_data_initial.bin and `idf.py erase-otadata`
 * leave it: `size` bytes of 0xFF (ESPIMG_OTADATA_DEFAULT_SIZE unless the
 * table says otherwise).  Returns 0, or ESPIMG_EINVAL when blob is NULL or
 * size is below 0x2000, not a multiple of 0x1000, or above
 * ESPIMG_OTADATA_MAX_SIZE; nothing is written then.
 */
ESPIMG_API int espimg_otadata_init(uint8_t *blob, size_t size);

#ifdef __cplusplus
}
#endif

#endif
