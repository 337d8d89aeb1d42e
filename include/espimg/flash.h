/*
 * flash.h - whole flash images and dumps: what a file is, and where the
 * bootloader and the partition table sit in a flash image.
 *
 * A flash image (esptool merge-bin output, a read-flash dump, a factory
 * image) holds the 2nd-stage bootloader at the chip's bootloader offset
 * (0x0, 0x1000 for ESP32/ESP32-S2, 0x2000 for ESP32-P4/ESP32-C5), the
 * partition table at CONFIG_PARTITION_TABLE_OFFSET (0x8000 by default) and
 * the partitions it lists. See ../shared/docs/images.md section 19.
 *
 * esp-verify uses this module to check a flash image part by part;
 * esp-flashimg (explain, extract, write) builds on it.  The explain part
 * (flash_explain.c, flash_svg.c) says what each partition holds and what
 * the dump will boot, as a structure, an espimg.flash/1 document, text
 * and an SVG picture.
 */
#ifndef ESPIMG_FLASH_H
#define ESPIMG_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/chip.h"
#include "espimg/common.h"
#include "espimg/diag.h"
#include "espimg/image.h"
#include "espimg/ptable.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest flash an ESP32-family chip addresses (128 MB, esptool's
 * flash-size table); a source larger than this is not a flash image. */
#define ESPIMG_FLASH_MAX_SIZE (128u << 20)

/* What a file holds, judged by its content. */
typedef enum espimg_content {
	ESPIMG_CONTENT_UNKNOWN = 0,
	ESPIMG_CONTENT_IMAGE,    /* one app or bootloader image (0xE9 first) */
	ESPIMG_CONTENT_PTABLE,   /* a binary partition table */
	ESPIMG_CONTENT_OTADATA,  /* an OTA data partition */
	ESPIMG_CONTENT_FLASH,    /* a flash image: bootloader, table, partitions */
} espimg_content;

/* "image", "partition-table", "otadata", "flash", "unknown". */
ESPIMG_API const char *espimg_content_name(espimg_content c);
/* The reverse (also accepts "ptable", "table"); -1 when unknown. */
ESPIMG_API int espimg_content_parse(const char *name, espimg_content *out);

/*
 * Guesses what `src` holds, reading at most a few KiB:
 * - FLASH when a partition table (a first entry with magic 0x50AA and a
 *   known type) sits at 0x8000, or at another 4 KiB boundary up to 0x10000
 *   while an image header sits at 0x0, 0x1000 or 0x2000;
 * - IMAGE when byte 0 is 0xE9;
 * - PTABLE when espimg_ptable_is_binary() holds and the source is at most
 *   0x1000 bytes (one table sector);
 * - OTADATA when the size is a multiple of 0x1000 from 0x2000 to
 *   ESPIMG_OTADATA_MAX_SIZE and the first entry of sectors 0 and 1 is each
 *   all 0xFF, has a CRC that matches its seq, or is followed by nothing but
 *   0xFF up to the end of its sector (a record with a bad CRC);
 * - UNKNOWN otherwise, and when the source cannot be read.
 */
ESPIMG_API espimg_content espimg_detect_content(const espimg_source *src);

typedef struct espimg_flash_opts {
	/* Decode the bootloader as this chip (NULL: by its header). */
	const espimg_chip *chip;
	/* Where the partition table is expected; 0 = 0x8000. When nothing is
	 * there, 4 KiB boundaries are scanned (table_scanned). */
	uint32_t table_offset;
	const char *file;        /* for diagnostics; may be NULL */
} espimg_flash_opts;

typedef struct espimg_flash {
	uint64_t size;           /* bytes in the source */

	/* The bootloader: the first of 0x0, 0x1000, 0x2000 that holds an image
	 * header with a known chip id (or any 0xE9 header when opts->chip is
	 * given). `chip` is opts->chip, else the header's. */
	bool has_bootloader;
	uint64_t bootloader_offset;
	const espimg_chip *chip;
	/* bootloader_offset == chip->bootloader_offset: where the ROM loads it. */
	bool bootloader_offset_ok;
	/* The flash offset of the file's first byte: 0, or N for a file
	 * written with esptool merge-bin --target-offset N - the bootloader
	 * sits N bytes below the chip's bootloader offset and the table, found
	 * by a scan, N bytes below the expected table offset.  A partition at
	 * flash offset P is at file offset P - base_offset. */
	uint64_t base_offset;

	/* The partition table, decoded without the layout rules (the caller
	 * runs espimg_ptable_verify). NULL when none was found. */
	espimg_ptable *table;    /* owned */
	uint64_t table_offset;
	bool table_scanned;      /* not at the expected offset; found by a scan */
} espimg_flash;

/*
 * Finds the bootloader and the partition table in a flash image. Findings
 * go to diags with codes "flash.*": "flash.no_bootloader" (warning),
 * "flash.bootloader_offset" (warning: found at another offset than the
 * chip's), "flash.no_table" (error), "flash.table_moved" (note: found by
 * scanning), "flash.partition_outside" (warning: a partition reaches past
 * the end of the file). Returns ESPIMG_OK with *out filled (free with
 * espimg_flash_free) even when no table was found; ESPIMG_ETOOBIG for a
 * source above ESPIMG_FLASH_MAX_SIZE; ESPIMG_EIO; ESPIMG_EINVAL;
 * ESPIMG_ENOMEM.
 */
ESPIMG_API int espimg_flash_locate(const espimg_source *src,
				   const espimg_flash_opts *opts,
				   espimg_flash **out, espimg_diag_list *diags);
ESPIMG_API void espimg_flash_free(espimg_flash *flash); /* NULL ok */

/* ------------------------------------------------------------ explain */

/* What a partition holds, judged by its bytes. */
typedef enum espimg_part_content {
	ESPIMG_PART_UNKNOWN = 0,  /* nothing looked at (not used by explain) */
	ESPIMG_PART_OUTSIDE,      /* the file holds none of the partition */
	ESPIMG_PART_ERASED,       /* all 0xFF */
	ESPIMG_PART_IMAGE,        /* an app (or bootloader) image, valid or
				   * not: 0xE9 first in an app or bootloader
				   * partition */
	ESPIMG_PART_OTADATA,      /* the OTA data partition (even erased) */
	ESPIMG_PART_NVS,          /* NVS pages: at least one page header with
				   * a known state and a matching CRC */
	ESPIMG_PART_ENCRYPTED,    /* looks encrypted: an app slot, or a
				   * partition flagged encrypted, whose first
				   * byte is not 0xE9 and whose first 4 KiB
				   * look random */
	ESPIMG_PART_DATA,         /* other data: some bytes written */
} espimg_part_content;

/* "unknown" "outside" "erased" "image" "otadata" "nvs" "encrypted" "data" */
ESPIMG_API const char *espimg_part_content_name(espimg_part_content c);

typedef struct espimg_flash_part {
	const espimg_partition *part; /* borrowed from flash->table */
	espimg_part_content content;
	uint64_t file_offset;    /* part->offset - base_offset (when in_file) */
	uint64_t in_file;        /* bytes of the partition inside the file */
	uint64_t used;           /* image size (+ signature sector), or up to
				    the last byte that is not 0xFF */
	/* An app partition the bootloader can load from: factory, ota_0 ..
	 * ota_15 or test. */
	bool app_slot;
	/* Images (content IMAGE): */
	bool image_ok;           /* read to its end; checksum, SHA-256 (when
				    appended) match; 1..16 segments */
	bool chip_ok;            /* for the bootloader's chip */
	bool fits;               /* image (+ signature sector) within the
				    partition */
	bool bootable;           /* the bootloader would load it: app slot,
				    an app image, image_ok, chip_ok, fits */
	espimg_image_kind kind;
	const espimg_chip *image_chip; /* the header's chip, NULL unknown */
	char project[33], version[33], idf_ver[33]; /* C strings, "" */
	uint32_t secure_version;
	uint8_t sha256[32];      /* as stored (or computed when none) */
	unsigned nsig;           /* Secure Boot v2 blocks after the image */
	/* NVS (content NVS, or an nvs partition): pages by state. */
	unsigned nvs_pages_active, nvs_pages_full, nvs_pages_freeing;
	unsigned nvs_pages_erased, nvs_pages_corrupt;
	/* otadata: the active entry (0/1, -1 none) and both records. */
	int ota_active_entry;
	uint32_t ota_seq[2], ota_state[2];
	bool ota_valid[2];
	/* Why an image is not valid or not bootable, in words; "" when it
	 * is. */
	char problem[192];
} espimg_flash_part;

typedef struct espimg_flash_explain {
	espimg_flash *flash;             /* owned: bootloader, table */
	/* The bootloader image (when flash->has_bootloader). */
	bool bootloader_ok;              /* image_ok, and not an app */
	espimg_image_kind bootloader_kind; /* ESPIMG_KIND_APP: an app sits
					      where the bootloader goes */
	uint64_t bootloader_size;        /* image size, 0 when unreadable */
	char bootloader_version[33];     /* esp_bootloader_desc_t version, "" */
	char bootloader_idf_ver[33];
	char bootloader_problem[192];    /* "" when ok */
	/* The ROM starts the bootloader: it is ok and sits at the chip's
	 * bootloader offset once the file is written at base_offset. */
	bool bootloader_runs;
	/* The flash size in the bootloader header, 0 when unknown. */
	uint64_t flash_size;
	size_t nparts;
	espimg_flash_part *parts;        /* owned; in table order */
	/* What boots next, by espimg_otadata_boot on a copy of otadata, images
	 * that are not bootable marked bad: partition index into parts[] or -1
	 * when nothing loads; with rollback off and on. */
	int boot;
	int boot_rollback;
	char boot_reason[384];           /* in words: why that one */
	char boot_rollback_reason[384];
	/* The dump boots an app: bootloader_runs and boot >= 0. */
	bool boots;
} espimg_flash_explain;

typedef struct espimg_explain_opts {
	espimg_flash_opts flash;
} espimg_explain_opts;

/*
 * Explains a whole flash image or dump: espimg_flash_locate, then the
 * bootloader image, each partition's content (one espimg_image_read per
 * app slot through a window on the partition; scans for erased flash,
 * NVS page headers, otadata records) and the next boot with rollback off
 * and on.  Everything is read through src in bounded chunks (at most
 * 256 KiB at a time); memory does not grow with the dump's size.
 * Findings go to diags: those of espimg_flash_locate and of
 * espimg_otadata_layout_from_ptable, and "flash.bootloader_invalid",
 * "flash.bootloader_is_app", "flash.image_invalid", "flash.image_chip",
 * "flash.image_too_big" (errors or warnings about one image, offset in
 * the file), "flash.encrypted" (note), "flash.boot_fallback" (warning),
 * "flash.no_boot" (error).
 * Returns ESPIMG_OK with *out (free with espimg_flash_explain_free) also
 * when nothing boots; ESPIMG_ETOOBIG (source above
 * ESPIMG_FLASH_MAX_SIZE), ESPIMG_EIO, ESPIMG_EINVAL, ESPIMG_ENOMEM.
 */
ESPIMG_API int espimg_flash_explain_read(const espimg_source *src,
					 const espimg_explain_opts *opts,
					 espimg_flash_explain **out,
					 espimg_diag_list *diags);
ESPIMG_API void espimg_flash_explain_free(espimg_flash_explain *x); /* NULL ok */

/*
 * The keys of an espimg.flash/1 document, emitted into the open top-level
 * map (call between espimg_emit_begin_doc(e, "espimg.flash/1") and
 * espimg_emit_end_doc): file, size, size_hex, chip (key or null),
 * chip_name, base_offset, base_offset_hex, flash_size (null unknown),
 * bootloader {found, offset, offset_hex, expected_offset,
 * expected_offset_hex, offset_ok, kind, ok, runs, size, version, idf_ver,
 * problem}, partition_table (null, or {offset, offset_hex, scanned,
 * count}), partitions [{name, type, type_id, subtype, subtype_id, offset,
 * offset_hex, size, size_hex, encrypted_flag, in_file, content, used,
 * used_hex, fits, problem, app (null, or {project, version, idf_ver,
 * secure_version, chip, kind, valid, chip_ok, bootable, sha256,
 * signatures}), nvs (null, or pages by state), otadata (null, or
 * {active_entry, entries [{seq, state, valid}]})}], boot, boot_rollback
 * (names or null), boot_reason, boot_rollback_reason, boots.
 * Returns ESPIMG_OK, ESPIMG_EINVAL, or the emitter's error.
 */
ESPIMG_API int espimg_flash_explain_emit(const espimg_flash_explain *x,
					 const char *file, espimg_emitter *e);

/*
 * Text for people: a summary (chip, bootloader, table, what boots and
 * why), one line per partition, then a proportional flash map (one bar
 * per partition, 64 columns for the whole flash).  Text from the input is
 * escaped as espimg_image_text does.  Returns ESPIMG_OK with *text
 * (malloc'd, NUL-terminated; caller frees) and *len (may be NULL),
 * ESPIMG_EINVAL or ESPIMG_ENOMEM.
 */
ESPIMG_API int espimg_flash_explain_text(const espimg_flash_explain *x,
					 const char *file, char **text,
					 size_t *len);

/*
 * The layout as an SVG picture, 1000 px wide: an overview bar of the
 * whole flash, then one row per area (bootloader, partition table, each
 * partition) with its name, offset and size, a bar to scale, used and
 * free space in each app slot, the slot that boots highlighted and
 * labelled "boots", and a legend.  Self-contained: no scripts, no
 * external fonts or links.  title may be NULL.  Returns as
 * espimg_flash_explain_text.
 */
ESPIMG_API int espimg_flash_explain_svg(const espimg_flash_explain *x,
					const char *title, char **svg,
					size_t *len);

#ifdef __cplusplus
}
#endif

#endif
