/*
 * merge.h - one flash image from parts at flash addresses, written as raw
 * bytes, Intel HEX or UF2 exactly as esptool merge-bin writes them
 * (esptool 5.3.1 cmds.py merge_bin, uf2_writer.py; images.md section 16),
 * with the bootloader's flash parameters patched and its SHA-256
 * recomputed the way esptool does it.
 *
 * raw:  file offset 0 holds flash address target_offset; gaps between parts
 *       and the tail up to pad_to_size hold `fill`.
 * hex:  Intel HEX as esptool writes it through the intelhex package
 *       (IntelHex.write_hex_file): sparse, no fill; data records of up to
 *       16 contiguous bytes that never cross a 64 KiB boundary (a record
 *       starts where a run of contiguous bytes starts, so runs not aligned
 *       to 16 give unaligned records); a type-04 record (upper 16 address
 *       bits) before the first record of each 64 KiB page that holds data,
 *       only when some byte lies at or above 0x10000; no start-address
 *       record; the end record ":00000001FF"; upper-case digits, "\n" line
 *       ends. Bytes of adjacent parts form one run.
 * uf2:  512-byte blocks per part (block numbers and counts restart for
 *       every part): magics 0x0A324655 0x9E5D5157, flags 0x2000 (family id)
 *       | 0x4000 (MD5 record), address, payload length, block number, block
 *       count, the chip's UF2 family id, 476 bytes of payload then (with
 *       MD5) address u32, length u32 and the payload's MD5, zero filled,
 *       final magic 0x0AB16F30 (esptool uf2_writer.py).
 */
#ifndef ESPIMG_MERGE_H
#define ESPIMG_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/chip.h"
#include "espimg/common.h"
#include "espimg/diag.h"
#include "espimg/emit.h"      /* espimg_write_fn */
#include "espimg/manifest.h"  /* espimg_out_format, espimg_flash_params */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct espimg_merge_part {
	uint64_t address;      /* flash address */
	const uint8_t *data;   /* borrowed; never changed */
	size_t len;
	const char *name;      /* for diagnostics (a file or partition name) */
} espimg_merge_part;

typedef struct espimg_merge_opts {
	const espimg_chip *chip;   /* required: bootloader offset, UF2 family */
	espimg_out_format format;
	/* Flash parameters for the part at the chip's bootloader offset;
	 * all -1 = keep (no patching). */
	espimg_flash_params flash;
	uint8_t fill;              /* raw gaps and padding; esptool: 0xFF */
	uint64_t target_offset;    /* the address file offset 0 holds (raw);
				    * a part below it is refused in every
				    * format, as esptool does */
	uint64_t pad_to_size;      /* raw: pad up to this flash address, so
				    * the file holds pad_to_size -
				    * target_offset bytes (esptool
				    * --pad-to-size 4MB with --target-offset
				    * 0x1000 writes 0x3ff000 bytes); 0 = no
				    * padding; ignored for hex and uf2 */
	unsigned uf2_chunk_size;   /* payload bytes per block: 0 = 452 with
				    * MD5, 476 without; else a multiple of
				    * 4 (esptool's rule), at most those */
	bool uf2_md5;
} espimg_merge_opts;

/* merge-bin's defaults: raw, keep, fill 0xFF, no target offset, no pad,
 * UF2 MD5 on. */
ESPIMG_API void espimg_merge_opts_init(espimg_merge_opts *opts,
				       const espimg_chip *chip);

/*
 * Patches an image's flash mode/size/frequency as esptool does when it is
 * placed at the chip's bootloader offset (images.md 16.2): only when
 * `address` is that offset, some parameter is not -1, and `buf` parses as
 * an image of the chip (else a warning "merge.not_image" and nothing
 * changes); header bytes 2 and 3 are rewritten and, when the image carries
 * a SHA-256 (byte 23 == 1), the digest is recomputed in place (over bytes
 * 0 through the checksum, as esptool does, also when the parameters did
 * not change); the checksum and any bytes after the digest are left alone.
 * A patch that changes a byte adds a note "merge.patched".
 * "Parses as an image of the chip":
 * espimg_image_read reads it to its end with the chip forced, its chip id
 * is the chip's, at most 16 segments, the whole digest present (esptool
 * also patches an image whose chip id names another chip, with a warning;
 * we do not, since the frequency codes differ per chip).
 * p->mode is -1 or 0..3 (qio, qout, dio, dout), p->size and p->freq -1 or
 * 0..15, else ESPIMG_EINVAL. Returns 1 when patched, 0 when not, or a
 * negative ESPIMG_E* code (ESPIMG_EINVAL, ESPIMG_ENOMEM).
 */
ESPIMG_API int espimg_patch_flash_params(uint8_t *buf, size_t len,
					 uint64_t address,
					 const espimg_chip *chip,
					 const espimg_flash_params *p,
					 espimg_diag_list *diags);

/*
 * Writes the merged output through `write` (streamed: never more than one
 * part plus a block in memory). Parts are taken in address order (stable).
 * Errors in diags, and nothing is written (ESPIMG_EFORMAT): no parts
 * ("merge.no_input"); two parts in the same 4 KiB flash sector
 * ("merge.overlap": esptool's rule, since flashing erases whole sectors,
 * so 0x1000+0x10 and 0x1800 overlap); a part below target_offset
 * ("merge.below_target"); a raw output past pad_to_size ("merge.too_big";
 * esptool writes it unpadded instead); for hex and uf2 a byte at or above
 * 4 GiB, or for raw an end past 2^64 ("merge.address_range"). The part at
 * the bootloader offset is patched on a private copy per opts->flash
 * (warnings and notes as espimg_patch_flash_params). A chip without a UF2
 * family id gets 0 and a warning "merge.uf2_family", as in esptool.
 * Returns 0, ESPIMG_EFORMAT, ESPIMG_EIO (a write failed; part of the
 * output may have been written), ESPIMG_ENOMEM, ESPIMG_EINVAL (NULL
 * arguments, a part with NULL data and a length, a bad format, flash
 * parameter or uf2_chunk_size).
 */
ESPIMG_API int espimg_merge_write(const espimg_merge_part *parts, size_t n,
				  const espimg_merge_opts *opts,
				  espimg_write_fn write, void *ctx,
				  espimg_diag_list *diags);

#ifdef __cplusplus
}
#endif

#endif
