/*
 * image.h - ESP32-family app and second-stage bootloader images.
 *
 * Layout (ESP-IDF components/bootloader_support/include/esp_app_format.h,
 * esp_image_header_t / esp_image_segment_header_t; esptool bin_image.py):
 *
 *   0x00  common header, 8 bytes: magic 0xE9, segment count, SPI mode,
 *         size<<4|freq, u32 entry point
 *   0x08  extended header, 16 bytes: WP pin, drive nibbles, u16 chip id,
 *         legacy min rev, u16 min/max rev full, 4 reserved, hash_appended
 *   0x18  segments: {u32 load address, u32 length} + data, back to back
 *         0..15 zero bytes, then the XOR checksum (seed 0xEF, over segment
 *         data only) as the last byte of a 16-byte block
 *         SHA-256 of everything from 0x00 through the checksum, when
 *         hash_appended is 1
 *
 * The parser streams: it reads the source through a callback in bounded
 * chunks, hashes and checksums as it goes and never allocates by a length
 * read from the file. ESP8266 images are recognised and refused.
 */
#ifndef ESPIMG_IMAGE_H
#define ESPIMG_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/chip.h"
#include "espimg/common.h"
#include "espimg/diag.h"
#include "espimg/emit.h"
#include "espimg/sigblock.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESPIMG_IMAGE_MAGIC 0xE9u
#define ESPIMG_IMAGE_MAGIC_ESP8266_V2 0xEAu
#define ESPIMG_IMAGE_HEADER_SIZE 24u   /* common + extended header */
#define ESPIMG_IMAGE_MAX_SEGMENTS 16u  /* ESP_IMAGE_MAX_SEGMENTS */
#define ESPIMG_IMAGE_WP_PIN_DISABLED 0xEEu
#define ESPIMG_CHECKSUM_SEED 0xEFu
#define ESPIMG_APP_DESC_MAGIC 0xABCD5432u /* ESP_APP_DESC_MAGIC_WORD */
#define ESPIMG_APP_DESC_SIZE 256u
#define ESPIMG_BOOT_DESC_MAGIC 0x50u      /* ESP_BOOTLOADER_DESC_MAGIC_BYTE */
#define ESPIMG_BOOT_DESC_SIZE 80u

/* A byte source read by offset. read_at() reads up to len bytes at offset
 * into buf and stores the count in *got; *got < len only at the end of the
 * source. Returns 0, or a negative ESPIMG_E* code (ESPIMG_EIO). */
typedef int (*espimg_read_at_fn)(void *ctx, uint64_t offset, void *buf,
				 size_t len, size_t *got);

typedef struct espimg_source {
	espimg_read_at_fn read_at;
	void *ctx;
	uint64_t size; /* total bytes in the source */
} espimg_source;

/* A source over a memory buffer (which must outlive the source). Its
 * read_at cannot see the buffer's length (the source allocates nothing), so
 * callers must keep reads within [0, size): clamp len to size - offset.
 * espimg_image_read() and espimg_image_to_elf() do. */
ESPIMG_API void espimg_source_mem(espimg_source *src, const void *buf,
				  size_t len);

typedef struct espimg_image_segment {
	uint32_t load_addr;
	uint32_t length;        /* as stored in the segment header */
	uint64_t header_offset; /* relative to the image start */
	uint64_t data_offset;   /* relative to the image start */
	/* Memory regions containing load_addr, in the chip map's order. */
	const char *mem_types[8];
	size_t mem_type_count;
} espimg_image_segment;

/* esp_app_desc_t. Text fields are kept as raw fixed-width bytes (NUL padded,
 * possibly unterminated, possibly not UTF-8); see espimg_desc_text(). */
typedef struct espimg_app_desc {
	uint64_t offset;  /* relative to the image start */
	unsigned segment; /* index of the segment holding it */
	uint32_t magic_word;
	uint32_t secure_version;
	uint8_t version[32];
	uint8_t project_name[32];
	uint8_t time[16];
	uint8_t date[16];
	uint8_t idf_ver[32];
	uint8_t app_elf_sha256[32];
	uint16_t min_efuse_blk_rev_full;
	uint16_t max_efuse_blk_rev_full;
	uint8_t mmu_page_size_log2; /* 0 = not recorded */
	uint8_t spi_flash_mode;     /* newer ESP-IDF; 0 in older images */
} espimg_app_desc;

/* esp_bootloader_desc_t. */
typedef struct espimg_boot_desc {
	uint64_t offset;
	unsigned segment;
	uint8_t magic_byte;
	uint8_t secure_version;
	uint32_t version;
	uint8_t idf_ver[32];
	uint8_t date_time[24];
} espimg_boot_desc;

typedef enum espimg_image_kind {
	ESPIMG_KIND_UNKNOWN = 0, /* no descriptor found */
	ESPIMG_KIND_APP,         /* has an esp_app_desc_t */
	ESPIMG_KIND_BOOTLOADER,  /* has an esp_bootloader_desc_t */
} espimg_image_kind;

/* How far the parse got. Every field before the stage that failed is
 * filled; later ones are zero. */
typedef enum espimg_image_stage {
	ESPIMG_STAGE_NONE = 0,  /* nothing readable (empty, bad magic, ...) */
	ESPIMG_STAGE_HEADER,    /* both headers decoded */
	ESPIMG_STAGE_SEGMENTS,  /* every segment read */
	ESPIMG_STAGE_CHECKSUM,  /* checksum byte read */
	ESPIMG_STAGE_COMPLETE,  /* digest (if any) read, descriptors looked up */
} espimg_image_stage;

typedef struct espimg_image {
	/* Where the image sits in its source. All *_offset fields below are
	 * relative to `offset`; diagnostics carry absolute source offsets. */
	uint64_t offset;
	uint64_t source_size;   /* bytes in the source from `offset` on */
	espimg_image_stage stage;

	/* The chip used to decode: the forced one, else the one named by the
	 * header's chip id (esptool's rule: its low byte). NULL when unknown. */
	const espimg_chip *chip;
	bool chip_forced;

	/* Common header. */
	uint8_t magic;
	uint8_t segment_count;  /* as stored */
	uint8_t flash_mode;
	uint8_t flash_size_freq; /* size code << 4 | freq nibble */
	uint32_t entry_addr;

	/* Extended header. */
	uint8_t wp_pin;
	uint8_t clk_drv, q_drv, d_drv, cs0_drv, hd_drv, wp_drv;
	uint16_t chip_id;       /* the full 16-bit field */
	uint8_t min_rev;        /* legacy byte */
	uint16_t min_rev_full;  /* major*100 + minor */
	uint16_t max_rev_full;
	uint8_t reserved[4];
	uint8_t hash_appended;

	/* Segments actually read (nsegments <= segment_count). */
	espimg_image_segment segments[255];
	size_t nsegments;
	uint64_t segments_end;  /* first byte after the last segment's data */

	/* Footer. */
	uint64_t checksum_offset;
	uint8_t checksum_stored;
	uint8_t checksum_computed;
	bool checksum_ok;

	bool has_sha256;        /* hash_appended == 1 */
	uint64_t sha256_offset;
	size_t sha256_stored_len; /* < 32 when the file ends inside it */
	uint8_t sha256_stored[32];
	uint8_t sha256_computed[32]; /* over [0, checksum_offset] */
	bool sha256_ok;

	uint64_t image_size;    /* through the checksum and digest */

	/* Descriptors (esptool 5.x rule: the app description is the start of
	 * the first segment typed DROM; the bootloader description the start of
	 * the last segment typed DRAM of at least 80 bytes, looked at only when
	 * there is no DROM segment with data). */
	espimg_image_kind kind;
	bool has_app_desc;
	espimg_app_desc app_desc;
	bool has_boot_desc;
	espimg_boot_desc boot_desc;

	/* Signatures after the image. Secure Boot v2: a sector at the image
	 * size rounded up to 4096 (source offset sig_sector_offset). Secure
	 * Boot v1 (ESP32): 68 bytes right after the image. */
	uint64_t sig_sector_offset; /* relative to `offset`; valid if nsig > 0 */
	espimg_sigblock sig[ESPIMG_SIG_BLOCKS_MAX];
	size_t nsig;
	bool has_sig_v1;
	uint64_t sig_v1_offset;
	uint32_t sig_v1_version;

	/* The digest of the signed region asked for with opts->prefix_len:
	 * bytes [0, prefix_end) of the image. prefix_digest_ok is false when
	 * none was asked for, or the source ends before prefix_end. */
	bool prefix_digest_ok;
	uint64_t prefix_end;
	size_t prefix_digest_len;      /* 32 (SHA-256) or 48 (SHA-384) */
	uint8_t prefix_digest[48];
} espimg_image;

/* opts->prefix_len: up to the Secure Boot v2 signature sector, i.e. the
 * image size rounded up to 4096 (the ESP-IDF bootloader's signed region);
 * nothing when the image could not be read to its checksum. */
#define ESPIMG_PREFIX_TO_SECTOR UINT64_MAX

typedef struct espimg_image_opts {
	const espimg_chip *chip; /* force the chip (like esptool --chip); NULL = from header */
	uint64_t offset;         /* where the image starts in the source */
	const char *file;        /* name used in diagnostics; may be NULL */
	/* Also digest the image's first prefix_len bytes (0 = no; or
	 * ESPIMG_PREFIX_TO_SECTOR) in the same pass over the source: the
	 * region a Secure Boot signature covers. With SHA-256 the image's own
	 * SHA-256 state is reused, so the bytes are hashed once. */
	uint64_t prefix_len;
	bool prefix_sha384;      /* SHA-384 instead (ECDSA P-384 blocks) */
} espimg_image_opts;

/* Parses the image at opts->offset in `src`. On return *out holds whatever
 * was decoded (also after a format error, see `stage`) and must be freed
 * with espimg_image_free(); it is NULL only on ESPIMG_ENOMEM/EINVAL.
 * Findings go to `diags` (may be NULL) with stable codes "image.*".
 *
 * Returns ESPIMG_OK when the image was read to its end (it may still have
 * errors in diags: a bad checksum or digest, too many segments, ...);
 * ESPIMG_EFORMAT when it could not be read to its end (truncated, bad magic,
 * unknown chip, ...); ESPIMG_EUNSUPPORTED for an ESP8266 image;
 * ESPIMG_EIO when the source failed. */
ESPIMG_API int espimg_image_read(const espimg_source *src,
				 const espimg_image_opts *opts,
				 espimg_image **out, espimg_diag_list *diags);

ESPIMG_API void espimg_image_free(espimg_image *img); /* NULL ok */

/* The SHA-256 (digest_len 32) or SHA-384 (48) of len bytes of src at
 * offset, read in bounded chunks. ESPIMG_EFORMAT when the source ends
 * first; ESPIMG_EIO; ESPIMG_EINVAL; ESPIMG_ENOMEM. */
ESPIMG_API int espimg_source_digest(const espimg_source *src, uint64_t offset,
				    uint64_t len, size_t digest_len,
				    uint8_t *out);

/* Renders a fixed-width descriptor text field.
 * ESPIMG_DESC_CSTRING: the bytes before the first NUL (what the device's C
 * code sees). ESPIMG_DESC_STRIP_NUL: every byte except NULs (esptool 5.x).
 * Writes at most outsz-1 bytes plus a NUL; returns the full length. */
typedef enum espimg_desc_mode {
	ESPIMG_DESC_CSTRING = 0,
	ESPIMG_DESC_STRIP_NUL = 1,
} espimg_desc_mode;
ESPIMG_API size_t espimg_desc_text(const uint8_t *field, size_t size,
				   espimg_desc_mode mode, char *out,
				   size_t outsz);

/* 1 if the n bytes are well-formed UTF-8. */
ESPIMG_API int espimg_utf8_valid(const uint8_t *s, size_t n);

/* "v3.5" style revision text for a major*100+minor value (no zero padding
 * of the minor part, as esptool and ESP-IDF print it). */
ESPIMG_API void espimg_rev_text(unsigned rev_full, char out[16]);

/* The esptool 5.3.1 `image-info` text for one image, byte for byte
 * (without esptool's version banner). */
typedef struct espimg_esptool_opts {
	bool size_line;      /* "Image size: N bytes" */
	bool detected_line;  /* "Detected image type: CHIP" (chip not forced) */
} espimg_esptool_opts;

/* Returns the text esptool prints on stdout for this image in *text
 * (malloc'd, NUL-terminated; caller frees). When esptool would fail partway
 * (a parse failure, or a descriptor it cannot decode), the text is what it
 * prints before failing and the return is ESPIMG_EFORMAT; ESPIMG_OK
 * otherwise; ESPIMG_ENOMEM. */
ESPIMG_API int espimg_image_esptool_text(const espimg_image *img,
					 const espimg_esptool_opts *opts,
					 char **text, size_t *len);

/* Writes an ELF32 little-endian ET_EXEC file for the image's chip
 * architecture: EM_XTENSA with e_flags 0x300, or EM_RISCV with e_flags 0x1
 * (RVC, soft-float ABI), 0x3 (RVC, single-float ABI) on the cores ESP-IDF
 * builds with -mabi=ilp32f (P4, H4, S31); e_entry is the image's entry point.
 * One PT_LOAD program header (sorted by address, p_align 4, p_vaddr =
 * p_paddr = load address, p_filesz = p_memsz = length) and one
 * SHT_PROGBITS section (in image order) per segment with a non-zero load
 * address; padding segments at address 0 hold no code or data and are left
 * out. Access rights: the union over the segment's memory types (DROM R;
 * IROM, IRAM, RTC_IRAM R+X; DRAM, RTC_DRAM, EXTRAM_DATA R+W; PADDING R), so
 * a window that is both code and data, like DROM+IROM flash on the C6, is
 * R+X; R+W+X when no type is known. Section flags follow: SHF_ALLOC, plus
 * SHF_WRITE and SHF_EXECINSTR for W and X. Section names come from
 * espimg_image_segment_section(); a name already used gets ".1", ".2", ...
 * appended. The segment bytes are read from `src`, which must be the
 * source the image was parsed from.
 *
 * Returns ESPIMG_OK with the ELF in *elf (malloc'd; caller frees) and its
 * size in *len; ESPIMG_EINVAL for a NULL argument, an image not read
 * through its segments (stage < ESPIMG_STAGE_SEGMENTS) or without a chip,
 * or a source too short for the segments; ESPIMG_ETOOBIG when the ELF would
 * exceed 4 GiB; ESPIMG_ENOMEM; the source's error (ESPIMG_EIO). */
ESPIMG_API int espimg_image_to_elf(const espimg_image *img,
				   const espimg_source *src, uint8_t **elf,
				   size_t *len);

/* The ELF section name for segment `index` (a static string), from the
 * first of its memory types (in the chip map's order) that names one:
 * DROM ".flash.rodata", IROM ".flash.text", IRAM/DIRAM_IRAM ".iram0.text",
 * CACHE_PRO/CACHE_APP ".iram_loader.text" (the ESP32 bootloader's loader
 * code), DRAM/BYTE_ACCESSIBLE/DIRAM_DRAM ".dram0.data", RTC_IRAM
 * ".rtc.text", RTC_DRAM/RTC_DATA ".rtc.data", EXTRAM_DATA ".ext_ram.data",
 * PADDING ".padding". Types spanning several kinds (MEM_INTERNAL, ...) are
 * skipped. Where one window is both (DROM+IROM on C5/C6/C61/H2/P4, DRAM+IRAM
 * on the RISC-V chips) the map's first type wins: ".flash.rodata",
 * ".dram0.data". No named type: ".seg<index>". NULL when index is out of
 * range. Without the ".1" suffixes espimg_image_to_elf adds. */
ESPIMG_API const char *espimg_image_segment_section(const espimg_image *img,
						    size_t index);

/* Emits one image as a map: the element of "images" in the
 * espimg.image/1 document (see man/man1/esp-imginfo.1 for the keys). The
 * diagnostics found for it (may be NULL) go in its "errors" and "warnings"
 * lists. `file` names the input. */
ESPIMG_API int espimg_image_emit(const espimg_image *img, const char *file,
				 const espimg_diag_list *diags,
				 espimg_emitter *e);

/* The same, for an image taken from an Intel HEX run that starts at flash
 * `address` (its "address" key; -1 = not from a HEX run, null, as
 * espimg_image_emit writes). img may be NULL for an input that yielded no
 * image: the keys are still all there, empty, and "status" is
 * "unreadable" when diags hold an "io.*" error, "invalid" when they hold
 * another error, "not-an-image" otherwise (a HEX run that is not an image,
 * such as a partition table). */
ESPIMG_API int espimg_image_emit_run(const espimg_image *img, const char *file,
				     int64_t address,
				     const espimg_diag_list *diags,
				     espimg_emitter *e);

/* The description of one image for people (esp-imginfo's --format text):
 * a title line "FILE: CHIP KIND, SIZE bytes: STATUS" (" at 0xADDR" after
 * FILE for a HEX run at flash `address`, " at offset 0xN" for an image
 * not at offset 0; STATUS as in espimg_image_emit_run), then one labelled
 * line, or a small table, per part of the image: chip, flash, entry, pins,
 * segments, checksum, sha256, app or bootloader, signatures.  Digests are
 * printed whole.  Text from the image is its C string, each byte that is
 * not part of a printable UTF-8 character shown as \xNN and a backslash
 * as \\, so it never holds control characters.  img may be NULL; it and
 * an image whose header could not be read get the title line only
 * ("FILE: no image: STATUS").  diags (may be NULL) only decide the status;
 * they are not repeated.  Returns ESPIMG_OK with the text in *text
 * (malloc'd, NUL-terminated, ends with a newline; caller frees) and its
 * length in *len (may be NULL); ESPIMG_EINVAL when text is NULL;
 * ESPIMG_ENOMEM. */
ESPIMG_API int espimg_image_text(const espimg_image *img, const char *file,
				 int64_t address,
				 const espimg_diag_list *diags, char **text,
				 size_t *len);

#ifdef __cplusplus
}
#endif

#endif
