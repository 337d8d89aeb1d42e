/*
 * manifest.h - the YAML release manifest esp-flashimg builds from.
 *
 *   chip: esp32
 *   flash: {size: 4MB, mode: dio, freq: 40m}
 *   partition_table: {csv: partitions.csv, offset: 0x8000}   # or bin: FILE
 *   images:
 *     bootloader: build/bootloader.bin   # at the chip's bootloader offset
 *     ota_0: build/app.bin               # by partition name
 *     0x9000: build/nvs.bin              # by flash offset
 *   boot: ota_0
 *   output: {format: raw, fill: 0xff, pad_to_size: flash, target_offset: 0,
 *            uf2_chunk_size: 256, uf2_md5: true}
 *
 * The key names are a contract (man/man5/espimg-manifest.5). Every value
 * keeps the line and column it was written at, so every later refusal
 * (an image too big for its slot, a boot slot without an image) points
 * into the manifest. Paths are kept as written; they are relative to the
 * manifest's directory (espimg_manifest_path joins them).
 */
#ifndef ESPIMG_MANIFEST_H
#define ESPIMG_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/chip.h"
#include "espimg/common.h"
#include "espimg/diag.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Larger manifests are refused (ESPIMG_ETOOBIG): a release has a few
 * dozen lines. */
#define ESPIMG_MANIFEST_MAX_SIZE (1u << 20)
#define ESPIMG_MANIFEST_MAX_IMAGES 64u
/* Longer scalars (paths, names) are refused ("manifest.too_long"). */
#define ESPIMG_MANIFEST_MAX_STRING 4096u
/* Deeper nesting of mappings and lists is refused ("manifest.depth"); the
 * format itself needs two levels. */
#define ESPIMG_MANIFEST_MAX_DEPTH 16u

/* Where a value was written (1-based; 0 = not written). */
typedef struct espimg_mpos {
	unsigned line;
	unsigned col;
} espimg_mpos;

typedef enum espimg_out_format {
	ESPIMG_OUT_RAW = 0,
	ESPIMG_OUT_HEX,   /* Intel HEX, as esptool merge-bin --format hex */
	ESPIMG_OUT_UF2,   /* UF2, as esptool merge-bin --format uf2 */
} espimg_out_format;

/* A flash parameter: -1 = keep what the bootloader header says. */
typedef struct espimg_flash_params {
	int mode;        /* header byte 2 code: 0 qio, 1 qout, 2 dio, 3 dout */
	int size;        /* size code (high nibble of byte 3) */
	int freq;        /* frequency nibble (low nibble of byte 3), per chip */
	uint64_t size_bytes; /* the flash size in bytes when size >= 0, else 0 */
	espimg_mpos pos_mode, pos_size, pos_freq;
} espimg_flash_params;

typedef struct espimg_manifest_image {
	/* Keyed by partition name (name != NULL; "bootloader" names the
	 * chip's bootloader offset unless the table has a partition of that
	 * name) or by flash offset (name == NULL). */
	char *name;
	uint64_t offset;     /* when keyed by offset */
	char *path;          /* as written */
	espimg_mpos pos_key, pos_path;
} espimg_manifest_image;

typedef struct espimg_manifest {
	const espimg_chip *chip;
	espimg_mpos pos_chip;

	bool has_flash;
	espimg_flash_params flash;

	bool has_table;
	bool table_is_csv;   /* csv: FILE, else bin: FILE */
	char *table_path;
	uint32_t table_offset;   /* default 0x8000 */
	espimg_mpos pos_table, pos_table_offset;

	size_t nimages;
	espimg_manifest_image images[ESPIMG_MANIFEST_MAX_IMAGES];

	char *boot;          /* partition name, or NULL */
	espimg_mpos pos_boot;

	espimg_out_format format;
	uint8_t fill;            /* default 0xFF */
	bool pad_to_flash;       /* pad_to_size: flash */
	uint64_t pad_to_size;    /* bytes, 0 = none (or pad_to_flash) */
	uint64_t target_offset;  /* default 0 */
	unsigned uf2_chunk_size; /* 0 = esptool's default */
	bool uf2_md5;            /* default true */
	espimg_mpos pos_format, pos_pad, pos_target, pos_uf2_chunk;

	/* Added keys (not in the example): output.summary (JSON
	 * summary file), output.argfile (esptool argument file), output.file
	 * (the output when the tool gets no -o). Paths as written; NULL when
	 * absent. */
	char *summary_path;
	char *argfile_path;
	char *output_path;
	espimg_mpos pos_summary, pos_argfile, pos_output_file;
	/* Positions of the remaining values, and of the section keys
	 * themselves (`flash:`, `partition_table:`, `images:`, `output:`),
	 * for refusals about a whole section. pos_table above is the csv:/bin:
	 * value, pos_table_offset the offset value (0:0 when defaulted). */
	espimg_mpos pos_fill, pos_uf2_md5;
	espimg_mpos pos_flash_key, pos_table_key, pos_images_key,
		pos_output_key;
} espimg_manifest;

/*
 * Reads a manifest (YAML text). Unknown keys, wrong types, bad numbers
 * (sizes "4MB", "0x400000", "4096"; offsets decimal or 0x-hex), unknown
 * chips, flash modes and frequencies (per chip), duplicate keys and
 * duplicate image keys are errors in diags with code "manifest.*", the
 * file name `file` and the line and column of the offending key or value.
 * Every error is reported, not only the first (a YAML syntax error ends
 * the reading at that point). Codes: manifest.yaml (syntax),
 * manifest.yaml_feature (anchors, aliases, tags, %TAG, several
 * documents), manifest.depth, manifest.too_big, manifest.too_long,
 * manifest.too_many, manifest.type, manifest.unknown_key,
 * manifest.duplicate_key, manifest.missing, manifest.conflict,
 * manifest.requires, manifest.number, manifest.range, manifest.value,
 * manifest.chip, manifest.flash_size, manifest.flash_mode,
 * manifest.flash_freq, manifest.format; warnings manifest.ignored (an
 * output key the chosen format does not use); espimg-manifest(5) says
 * what each means.
 * Returns 0 with *out set (free with espimg_manifest_free; warnings may
 * have been added), ESPIMG_EFORMAT (errors in diags; *out NULL),
 * ESPIMG_ETOOBIG (more than ESPIMG_MANIFEST_MAX_SIZE bytes; an error
 * "manifest.too_big" in diags), ESPIMG_ENOMEM, ESPIMG_EINVAL (NULL out,
 * or NULL text with len > 0).
 */
ESPIMG_API int espimg_manifest_parse(const char *text, size_t len,
				     const char *file, espimg_manifest **out,
				     espimg_diag_list *diags);
ESPIMG_API void espimg_manifest_free(espimg_manifest *m); /* NULL ok */

/* `rel` resolved against the directory of `manifest_file` (absolute rel
 * paths are kept); malloc'd, NULL on ENOMEM. */
ESPIMG_API char *espimg_manifest_path(const char *manifest_file,
				      const char *rel);

#ifdef __cplusplus
}
#endif

#endif
