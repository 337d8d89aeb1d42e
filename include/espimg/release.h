/*
 * release.h - a release manifest (manifest.h) turned into the parts of one
 * flash image: images placed by partition name or offset, the binary
 * partition table generated from CSV (or taken as given), the otadata
 * written so `boot` is the slot that boots; every refusal with the
 * manifest's line and column. merge.h writes the parts out.
 */
#ifndef ESPIMG_RELEASE_H
#define ESPIMG_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/common.h"
#include "espimg/diag.h"
#include "espimg/emit.h"
#include "espimg/manifest.h"
#include "espimg/merge.h"
#include "espimg/ptable.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loads a file named in the manifest (`path` as written; the callback
 * resolves it, e.g. with espimg_manifest_path). On success *data is
 * malloc'd (the release frees it) and *len set. Returns 0 or a negative
 * ESPIMG_E* code (ESPIMG_ENOTFOUND, ESPIMG_EIO, ESPIMG_ETOOBIG). */
typedef int (*espimg_load_fn)(void *ctx, const char *path, uint8_t **data,
			      size_t *len);

typedef enum espimg_release_kind {
	ESPIMG_RPART_FILE = 0,   /* an image or data file from the manifest */
	ESPIMG_RPART_TABLE,      /* the partition table (generated or given) */
	ESPIMG_RPART_OTADATA,    /* generated for `boot` */
} espimg_release_kind;

typedef struct espimg_release_part {
	espimg_release_kind kind;
	char label[40];          /* partition name, "bootloader",
				    "partition-table", "otadata", or "0x9000" */
	const char *path;        /* as in the manifest; NULL when generated */
	uint64_t offset;         /* flash address */
	uint8_t *data;           /* owned (after any flash-parameter patch:
				    the bytes that will be written) */
	size_t len;
	char partition[40];      /* the partition it lies in ("" none) */
	uint64_t partition_size; /* bytes from the partition's start it may
				    fill (for a bootloader without a
				    bootloader row: up to the table); 0 when
				    not placed in a partition */
	uint8_t sha256[32];      /* of data */
	/* Images: */
	bool is_image;           /* an image of the chip, read to its end */
	bool is_bootloader;      /* at the chip's bootloader offset */
	/* From the app description; a bootloader's description gives
	 * version (its decimal number) and idf_ver. "" when absent. */
	char project[33], version[33], idf_ver[33];
	espimg_mpos pos;         /* the manifest entry it came from: the
				    image's key, partition_table's value,
				    boot's value for otadata */
} espimg_release_part;

typedef struct espimg_release {
	const espimg_chip *chip;
	uint64_t flash_size;     /* from the manifest, else the bootloader
				    header; 0 = unknown */
	espimg_flash_params flash; /* the manifest's (all -1 without flash:) */
	espimg_ptable *table;    /* owned; NULL without a table */
	char boot[40];           /* the slot the otadata part selects, "" */
	size_t nparts;
	espimg_release_part *parts; /* owned; sorted by offset */
	/* Ready for espimg_merge_write(). Its flash parameters are all -1:
	 * the bootloader part is patched already. pad_to_size "flash" is
	 * the flash size (the output ends where the flash ends). */
	espimg_merge_opts merge;
} espimg_release;

/*
 * Resolves a manifest. Refusals (errors in diags, code, manifest file,
 * line and column of the entry at fault): "release.chip" (an image for
 * another chip; at the path), "release.app_slot" (an image with an app
 * description not at the start of a 64 KiB-aligned app partition - without
 * a table: not at a 64 KiB-aligned offset), "release.too_big" (larger than
 * its partition, a bootloader running into the table, a table file larger
 * than its 4 KiB sector, a raw output past pad_to_size),
 * "release.overlap" (two parts share bytes or a 4 KiB flash sector, as
 * esptool refuses: at the later manifest entry; or a part outside every
 * partition runs into one), "release.below_target" (a part below
 * output.target_offset),
 * "release.boot_empty" (boot names a slot without an image),
 * "release.no_partition" (an image key or boot not in the table, or a
 * name without a table), "release.boot_slot" (boot cannot be written: not
 * an app partition, no table, no otadata partition, set_boot refuses),
 * "release.table_flash" (the table does not fit the flash size, at
 * partition_table), "release.flash_size" (pad_to_size: flash with the
 * flash size unknown or target_offset past it), "release.load" (a file
 * cannot be read; at the path), and the table's own ptable.* errors (in
 * the table's file). Placement errors point at the image's key. Every
 * file that starts with 0xE9 is read as an image. Warnings:
 * "release.not_image" (no readable image of the chip where the ROM or
 * bootloader loads one), "release.table_kind" (csv: holds a binary table
 * or bin: a CSV; taken by content), and the bootloader patch's own.
 * Returns 0 with *out set, ESPIMG_EFORMAT (refused; *out NULL),
 * ESPIMG_ENOMEM, ESPIMG_EINVAL.
 */
ESPIMG_API int espimg_release_plan(const espimg_manifest *m,
				   const char *manifest_file,
				   espimg_load_fn load, void *ctx,
				   espimg_release **out,
				   espimg_diag_list *diags);
ESPIMG_API void espimg_release_free(espimg_release *r); /* NULL ok */

/* The parts as espimg_merge_write() takes them (borrowed from r). */
ESPIMG_API int espimg_release_write(const espimg_release *r,
				    espimg_write_fn write, void *ctx,
				    espimg_diag_list *diags);

/* The JSON/YAML summary: the keys of the espimg.release/1 document, in
 * the map the caller opened with espimg_emit_begin_doc: manifest, chip,
 * flash_size (null when unknown), output {format, fill, target_offset,
 * pad_to_size}, boot (null), parts [{label, kind ("file",
 * "partition-table", "otadata"), path (null when generated), offset,
 * offset_hex, size, partition, partition_size (null), sha256, image,
 * bootloader, project, version, idf_ver (null when absent)}]. */
ESPIMG_API int espimg_release_emit(const espimg_release *r,
				   const char *manifest_file,
				   espimg_emitter *e);

/* An esptool argument file equivalent to the build, for flashing the parts
 * one by one: "--chip CHIP write-flash --flash-mode M --flash-freq F
 * --flash-size S" (each "keep" when the manifest does not set it; esptool
 * then patches the bootloader as the build did) then one "ADDRESS FILE"
 * line per part, FILE being part_paths[i] for parts[i], or parts[i].path
 * when part_paths or part_paths[i] is NULL (the tool writes generated
 * parts beside its output and passes their names); words are quoted for
 * esptool's shlex splitting. Returns 0 with malloc'd text in *text,
 * ESPIMG_EINVAL (a generated part without a name), ESPIMG_ENOMEM. */
ESPIMG_API int espimg_release_argfile(const espimg_release *r,
				      const char *const *part_paths,
				      char **text, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
