/*
 * ptable.h - the ESP-IDF partition table: CSV and binary parsing, the
 * layout (offset allocation) pass, validation rules, binary encoding, CSV
 * rendering and a structured description.
 *
 * Reference: ESP-IDF components/partition_table/gen_esp32part.py (v6.1-beta1,
 * identical in v5.5 and v6.0.x) and esp_partition.h / esp_flash_partitions.h.
 * The aim is byte parity: the same inputs accepted and rejected and the same
 * bytes written, with diagnostics of our own.
 */
#ifndef ESPIMG_PTABLE_H
#define ESPIMG_PTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/common.h"
#include "espimg/diag.h"
#include "espimg/emit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Binary layout (esp_flash_partitions.h). */
#define ESPIMG_PTABLE_BIN_SIZE 0xC00u    /* bytes written by the generator */
#define ESPIMG_PTABLE_SECTOR 0x1000u     /* reserved for the table in flash */
#define ESPIMG_PTABLE_ENTRY_SIZE 32u
#define ESPIMG_PTABLE_NAME_LEN 16u
#define ESPIMG_PTABLE_DEFAULT_OFFSET 0x8000u
#define ESPIMG_PTABLE_MAX_INPUT (16u << 20) /* larger input: ESPIMG_ETOOBIG */

/* Partition types (esp_partition.h). */
#define ESPIMG_PTYPE_APP 0x00
#define ESPIMG_PTYPE_DATA 0x01
#define ESPIMG_PTYPE_BOOTLOADER 0x02      /* ESP-IDF v5.4 */
#define ESPIMG_PTYPE_PARTITION_TABLE 0x03 /* ESP-IDF v5.4 */

/* A few subtypes the rules refer to. */
#define ESPIMG_PSUB_APP_FACTORY 0x00
#define ESPIMG_PSUB_APP_OTA_0 0x10
#define ESPIMG_PSUB_APP_TEST 0x20
#define ESPIMG_PSUB_DATA_OTA 0x00
#define ESPIMG_PSUB_DATA_COREDUMP 0x03
#define ESPIMG_PSUB_DATA_NVS 0x02
#define ESPIMG_PSUB_DATA_UNDEFINED 0x06
#define ESPIMG_PSUB_DATA_TEE_OTA 0x90
#define ESPIMG_PSUB_PRIMARY 0x00  /* bootloader, partition_table */
#define ESPIMG_PSUB_OTA 0x01      /* bootloader, partition_table */
#define ESPIMG_PSUB_RECOVERY 0x02 /* bootloader */

/* Entry flags. */
#define ESPIMG_PFLAG_ENCRYPTED 0x1u
#define ESPIMG_PFLAG_READONLY 0x2u /* ESP-IDF v5.2 */

/* ESP-IDF versions for espimg_ptable_opts.idf_version. */
#define ESPIMG_IDF_VERSION(maj, min, patch) \
	((unsigned)(maj) * 10000u + (unsigned)(min) * 100u + (unsigned)(patch))
#define ESPIMG_IDF_NEWEST 0u /* every feature the newest reference knows */

/* A custom subtype name (--extra-partition-subtypes). */
#define ESPIMG_PTABLE_MAX_EXTRA 64
#define ESPIMG_PTABLE_EXTRA_NAME 64
typedef struct espimg_subtype_name {
	uint8_t type;
	uint8_t value;
	char name[ESPIMG_PTABLE_EXTRA_NAME];
} espimg_subtype_name;

typedef const char *(*espimg_env_fn)(void *ctx, const char *name);

typedef struct espimg_ptable_opts {
	uint32_t table_offset;              /* default 0x8000 */
	int64_t primary_bootloader_offset;  /* -1: not given */
	int64_t recovery_bootloader_offset; /* -1: not given */
	int secure;                         /* 0 off, 1 = Secure Boot v1, 2 = v2 */
	bool md5;                           /* write / check the MD5 entry */
	bool verify;                        /* run the validation rules */
	uint64_t flash_size;                /* bytes; 0 = no flash size check */
	unsigned idf_version;               /* ESPIMG_IDF_VERSION() or NEWEST */
	size_t n_extra;
	espimg_subtype_name extra[ESPIMG_PTABLE_MAX_EXTRA];
	/* $NAME expansion in CSV lines; NULL = leave every $NAME as it is. */
	espimg_env_fn lookup_env;
	void *env_ctx;
} espimg_ptable_opts;

typedef struct espimg_partition {
	char *name;         /* full UTF-8 name as written (may exceed 16 bytes) */
	uint8_t type;
	uint8_t subtype;
	uint32_t offset;
	uint32_t size;
	uint32_t flags;     /* ESPIMG_PFLAG_* */
	unsigned line;      /* CSV line, 1-based; 0 for binary input */
	unsigned col[6];    /* CSV columns of name, type, subtype, offset, size,
			       flags (1-based characters; 0 = not from CSV) */
	unsigned source;    /* ESPIMG_PSRC_*: how the CSV wrote the entry */
	int64_t bin_offset; /* byte offset of the entry in binary input; else -1 */
} espimg_partition;

/* espimg_partition.source bits. */
#define ESPIMG_PSRC_TYPE_NAMED 0x1    /* type given as a keyword */
#define ESPIMG_PSRC_SUBTYPE_NAMED 0x2 /* subtype given as a keyword */
#define ESPIMG_PSRC_SUBTYPE_EMPTY 0x4 /* subtype left empty (default used) */
#define ESPIMG_PSRC_OFFSET_BLANK 0x8  /* offset allocated, not written */
#define ESPIMG_PSRC_DERIVED 0x10      /* offset/size from the bootloader and
					 table offsets (bootloader rows) */

typedef struct espimg_ptable {
	size_t count;
	espimg_partition *parts;
	bool from_binary;
	bool has_md5; /* binary input carried an MD5 entry */
} espimg_ptable;

/* Fills opts with the reference defaults. */
ESPIMG_API void espimg_ptable_opts_init(espimg_ptable_opts *opts);

/*
 * Adds one custom subtype from a "type,name,value" spec as the reference
 * takes it: pieces trimmed, value always read as hexadecimal, type one of
 * the four type names, value not already used by that type.
 * Returns 0, ESPIMG_EINVAL (bad spec, message in diags), ESPIMG_ETOOBIG.
 */
ESPIMG_API int espimg_ptable_add_extra_subtype(espimg_ptable_opts *opts,
					       const char *spec,
					       espimg_diag_list *diags);

/* Parses a whole number as Python's int(text, 0) does (the reference's
 * --offset and bootloader offsets): sign, 0x/0o/0b prefixes, underscores
 * between digits, no K/M suffix.  Returns 0, or ESPIMG_EINVAL when it is not
 * such a number or its magnitude needs more than 62 bits. */
ESPIMG_API int espimg_ptable_parse_int(const char *text, int64_t *out);

/* Parses "X.Y" or "X.Y.Z" into ESPIMG_IDF_VERSION form; ESPIMG_EINVAL. */
ESPIMG_API int espimg_idf_version_parse(const char *text, unsigned *out);

/* True when the bytes are a binary table (first entry magic AA 50, or a
 * table that starts with its MD5 entry, i.e. an empty table). */
ESPIMG_API bool espimg_ptable_is_binary(const uint8_t *data, size_t len);

/*
 * Parses a CSV or binary table (chosen by content) into *out.  CSV input
 * goes through the layout pass (blank offsets, negative sizes, bootloader
 * rows).  All problems found are added to diags, not only the first.
 * Verification (espimg_ptable_verify) is separate.
 * Returns 0 (warnings may have been added), ESPIMG_EFORMAT (errors in
 * diags; *out is NULL), ESPIMG_ETOOBIG (more than ESPIMG_PTABLE_MAX_INPUT
 * bytes), ESPIMG_ENOMEM or ESPIMG_EINVAL.
 */
ESPIMG_API int espimg_ptable_parse(const uint8_t *data, size_t len,
				   const espimg_ptable_opts *opts,
				   const char *file, espimg_ptable **out,
				   espimg_diag_list *diags);

ESPIMG_API void espimg_ptable_free(espimg_ptable *table); /* NULL ok */

/*
 * The validation rules (alignment, read-only rules, unique names, overlaps,
 * otadata) when opts->verify, then the flash size check when
 * opts->flash_size, then the --idf-version feature gates.  Returns 0 or
 * ESPIMG_EFORMAT.
 */
ESPIMG_API int espimg_ptable_verify(const espimg_ptable *table,
				    const espimg_ptable_opts *opts,
				    const char *file, espimg_diag_list *diags);

/*
 * Encodes the 0xC00-byte binary table into out.  Returns 0, or
 * ESPIMG_ETOOBIG when the entries (and MD5 entry) do not leave room for an
 * end marker (a diagnostic says so).
 */
ESPIMG_API int espimg_ptable_to_binary(const espimg_ptable *table,
				       const espimg_ptable_opts *opts,
				       uint8_t out[ESPIMG_PTABLE_BIN_SIZE],
				       espimg_diag_list *diags);

/*
 * Renders the table as the reference's CSV (header comment, one line per
 * entry).  *text is malloc()ed and NUL-terminated.  Returns 0 or ENOMEM.
 */
ESPIMG_API int espimg_ptable_to_csv(const espimg_ptable *table,
				    const espimg_ptable_opts *opts,
				    char **text, size_t *len);

/* Offset + size of the entry with the highest offset: the flash the table
 * needs (the reference's "table size"); 0 for an empty table. */
ESPIMG_API uint64_t espimg_ptable_flash_needed(const espimg_ptable *table);

/* Unused flash: between the end of the table sector and the partitions,
 * between partitions, and up to opts->flash_size when it is set. */
typedef struct espimg_gap {
	uint64_t offset;
	uint64_t size;
} espimg_gap;

/* Stores up to cap gaps in address order and sets *count to how many
 * there are (which may be more than cap); a table of n partitions has at
 * most n + 1.  Returns 0 or ESPIMG_ENOMEM. */
ESPIMG_API int espimg_ptable_gaps(const espimg_ptable *table,
				  const espimg_ptable_opts *opts, espimg_gap *out,
				  size_t cap, size_t *count);

/* Whether the table has an MD5 entry: as read for binary input, as it will
 * be written (opts->md5) otherwise. */
ESPIMG_API bool espimg_ptable_has_md5(const espimg_ptable *table,
				      const espimg_ptable_opts *opts);

/* Names: NULL when the value has no name.  Subtype names honour the extra
 * subtypes in opts (may be NULL). */
ESPIMG_API const char *espimg_ptable_type_name(uint8_t type);
ESPIMG_API const char *espimg_ptable_subtype_name(
	const espimg_ptable_opts *opts, uint8_t type, uint8_t subtype);

/*
 * Emits the description document (schema "espimg.partitions/1"): the
 * options that shaped the table, each partition (name, type and subtype by
 * name and number, offset, size, end, flags), free gaps, and the flash size
 * the table needs.  Returns 0 or the emitter's error.
 */
ESPIMG_API int espimg_ptable_emit(const espimg_ptable *table,
				  const espimg_ptable_opts *opts,
				  espimg_emitter *e);

#ifdef __cplusplus
}
#endif

#endif
