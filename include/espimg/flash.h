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
 * esp-flashimg (explain, extract, write) builds on it.
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

#ifdef __cplusplus
}
#endif

#endif
