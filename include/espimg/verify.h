/*
 * verify.h - verifying files as the device would: images (structure,
 * checksum, SHA-256, chip, descriptors), Secure Boot v2 and v1 signatures,
 * binary partition tables, otadata, and whole flash images part by part.
 *
 * One call checks one source and returns a report: a list of checks, each
 * PASS, FAIL, WARN or INFO with a stable code and a message. esp-verify
 * prints reports; the espimg.verify/1 document is built from them.
 *
 * Signature rules (espsecure 5.3.1 verify-signature, ESP-IDF
 * bootloader_support secure_boot_v2): see sigblock.h and
 * ../shared/docs/images.md sections 13 and 14.
 */
#ifndef ESPIMG_VERIFY_H
#define ESPIMG_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/chip.h"
#include "espimg/common.h"
#include "espimg/diag.h"
#include "espimg/emit.h"
#include "espimg/flash.h"
#include "espimg/image.h"
#include "espimg/sigblock.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum espimg_check_status {
	ESPIMG_CHECK_PASS = 0,
	ESPIMG_CHECK_FAIL,  /* the file fails verification */
	ESPIMG_CHECK_WARN,  /* worth knowing, does not fail the file */
	ESPIMG_CHECK_INFO,  /* a fact (an erased slot, a block signed by a key
			     * not supplied while another block verified) */
} espimg_check_status;

/* "PASS", "FAIL", "WARN", "INFO". */
ESPIMG_API const char *espimg_check_status_name(espimg_check_status s);

typedef struct espimg_check {
	espimg_check_status status;
	/* What part of the file: "" for the file itself; in a flash image
	 * "bootloader", "partition-table" or a partition name. */
	char part[24];
	uint64_t offset;     /* absolute offset in the source of what is checked */
	/* What was checked: "read", "type", "header", "segments", "checksum",
	 * "sha256", "chip", "app-desc", "boot-desc", "bootloader-offset",
	 * "fits", "signature" (one per v2 block or the v1 signature),
	 * "signatures" (the file's verdict on its signatures), "table",
	 * "otadata", "boot". */
	char check[24];
	/* Stable code of the finding ("image.checksum", "sig.crc",
	 * "ptable.overlap", ...); for a PASS the code of what passed
	 * ("image.checksum"), so every line has one. */
	char code[40];
	char message[320];   /* why, in words; one line, no trailing period */

	/* Signature checks only (sig_block >= 0 for a v2 block, 3 for the v1
	 * signature; -1 otherwise). */
	int sig_block;
	espimg_sig_type sig_type;
	int key_index;          /* opts->keys[] that verified it, else -1 */
	int key_digest_index;   /* opts->key_digests[] that matched, else -1 */
	bool has_key_digest;    /* the block's public-key digest (eFuse value) */
	uint8_t key_digest[32];
} espimg_check;

#define ESPIMG_CHECK_SIG_V1 3

typedef struct espimg_verify_report {
	espimg_content type;      /* as detected or forced */
	const espimg_chip *chip;  /* of the image / bootloader; NULL unknown */
	bool ok;                  /* no FAIL check and readable */
	bool unreadable;          /* the source failed to read (exit 2) */
	/* Flash images (and otadata with a table): the partition the
	 * bootloader will load next, "" when none or not known. */
	char boot[24];
	size_t nchecks;
	espimg_check *checks;     /* owned */
} espimg_verify_report;

typedef enum espimg_secure_boot {
	ESPIMG_SECURE_BOOT_AUTO = 0, /* v2 blocks when there are any */
	ESPIMG_SECURE_BOOT_V1,       /* ESP32 Secure Boot v1 (last 68 bytes) */
	ESPIMG_SECURE_BOOT_V2,
} espimg_secure_boot;

typedef struct espimg_verify_opts {
	espimg_content type;           /* UNKNOWN = detect */
	const espimg_chip *chip;       /* expected chip; NULL = any */
	const espimg_key *const *keys; /* trusted keys (public or private) */
	size_t nkeys;
	const uint8_t (*key_digests)[32]; /* trusted eFuse key digests */
	size_t nkey_digests;
	espimg_secure_boot secure_boot;
	/* Fail images without a signature. Keys or digests imply it for
	 * standalone images (like espsecure, which fails an unsigned file). */
	bool require_signature;
	uint32_t table_offset;         /* flash images: 0 = 0x8000 */
	const char *file;              /* for diagnostics; may be NULL */
} espimg_verify_opts;

/*
 * Verifies one source. Always returns a report in *out (free with
 * espimg_verify_report_free) unless the return is ESPIMG_EINVAL or
 * ESPIMG_ENOMEM; a source read failure gives ESPIMG_EIO with a report
 * whose `unreadable` is set and a FAIL "read" check. Thread-safe: reports
 * for different sources may be made in parallel with shared keys.
 */
ESPIMG_API int espimg_verify(const espimg_source *src,
			     const espimg_verify_opts *opts,
			     espimg_verify_report **out);
ESPIMG_API void espimg_verify_report_free(espimg_verify_report *r); /* NULL ok */

/*
 * Emits one report as a map, the element of "files" in espimg.verify/1:
 * file, type, chip, ok, status ("pass", "fail", "unreadable"), boot, and
 * checks (status, part, offset, offset_hex, check, code, message; for
 * signatures also block, type, key (key_names[key_index] or null),
 * key_digest (hex)). key_names may be NULL.
 */
ESPIMG_API int espimg_verify_emit(const espimg_verify_report *r,
				  const char *file,
				  const char *const *key_names,
				  espimg_emitter *e);

/*
 * The report for people: one line per check,
 *   "FILE: PASS checksum: 0x5a [image.checksum]"
 *   "FILE: FAIL ota_0@0x10000 signature[0]: ... [sig.signature]"
 * Returns ESPIMG_OK with the text in *text (malloc'd, NUL-terminated; the
 * caller frees) and its length in *len (may be NULL).
 */
ESPIMG_API int espimg_verify_text(const espimg_verify_report *r,
				  const char *file,
				  const char *const *key_names, char **text,
				  size_t *len);

#ifdef __cplusplus
}
#endif

#endif
