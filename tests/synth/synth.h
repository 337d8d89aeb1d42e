/*
 * synth.h - a small ESP32-family image synthesiser for tests.
 *
 * Builds app and bootloader images byte by byte (layout: ESP-IDF
 * esp_app_format.h, esptool bin_image.py; see ../shared/docs/images.md):
 * 24-byte header, segments, zero padding to the checksum byte at the end of
 * a 16-byte block, the XOR checksum (seed 0xEF) and the SHA-256 of
 * everything before it. Every field can be set to any value, including
 * wrong ones, so tests can build each failure on purpose.
 *
 * Used by the unit tests (linked into every tests/unit binary), by
 * tests/synth/mkimage.c (the command-line front end) and through mkimage by
 * the CLI goldens, fuzz seeds and `make demo`.
 *
 * Functions return 0 or -1 (out of memory / bad argument); nothing prints.
 */
#ifndef ESPIMG_SYNTH_H
#define ESPIMG_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/image.h"

/* Default addresses for one chip (esptool 5.3.1 targets/esp32*.py MEMORY_MAP):
 * an address inside its DROM, DRAM, IRAM and IROM regions. */
typedef struct synth_chip {
	const char *key;   /* "esp32c3" */
	uint16_t id;       /* extended-header chip id */
	uint32_t drom;     /* typed DROM: where the app description goes */
	uint32_t dram;     /* typed DRAM, not DROM: bootloader description */
	uint32_t iram;     /* typed IRAM; the default entry point */
	uint32_t irom;     /* typed IROM (also DROM on chips where they overlap) */
} synth_chip;

size_t synth_chip_count(void);
const synth_chip *synth_chip_at(size_t i);
/* By key ("esp32c3", case-insensitive, '-' and '_' ignored) or NULL. */
const synth_chip *synth_chip_by_key(const char *key);
const synth_chip *synth_chip_by_id(unsigned id);

typedef enum synth_fill {
	SYNTH_FILL_ZERO = 0,
	SYNTH_FILL_FF,
	SYNTH_FILL_COUNT,  /* byte i = (i + seed) & 0xff */
	SYNTH_FILL_RANDOM, /* xorshift32 stream from seed (deterministic) */
} synth_fill;

typedef struct synth_segment {
	uint32_t addr;
	uint8_t *data;          /* len bytes, owned */
	size_t len;             /* bytes actually written after the header */
	bool length_override;   /* write length_field instead of len */
	uint32_t length_field;
	/* Filled by synth_finish(): offsets from the image start. */
	size_t header_offset;
	size_t data_offset;
} synth_segment;

typedef struct synth_image {
	/* Common header. */
	uint8_t magic;            /* 0xE9 */
	int segment_count;        /* -1 (default): the number of segments added */
	uint8_t flash_mode;       /* 2 = DIO */
	uint8_t flash_size_freq;  /* 0x20: 4MB, nibble 0 */
	uint32_t entry;           /* the chip's IRAM address, else 0x40080400 */
	/* Extended header. */
	uint8_t wp_pin;           /* 0xEE */
	uint8_t drv[3];           /* bytes 9..11 */
	uint16_t chip_id;
	uint8_t min_rev;
	uint16_t min_rev_full;
	uint16_t max_rev_full;    /* 99 (v0.99) */
	uint8_t reserved[4];
	uint8_t hash_appended;    /* 1 */

	/* Footer control. */
	bool append_digest;       /* write the SHA-256 (default: true; used
				   * only when hash_appended == 1 unless
				   * force_digest) */
	bool force_digest;        /* write a digest whatever hash_appended says */
	bool bad_checksum;        /* store the checksum XOR 0xFF */
	bool bad_digest;          /* flip the last byte of the digest */
	uint8_t pad_byte;         /* the bytes before the checksum (0) */

	synth_segment *seg;
	size_t nseg;
	size_t cap;

	/* Filled by synth_finish() (offsets from the image start). */
	size_t checksum_offset;
	uint8_t checksum;         /* the correct value */
	size_t digest_offset;     /* 0 when no digest was written */
	uint8_t digest[32];       /* the correct value */
	size_t image_size;
} synth_image;

/* Starts an image for chip id `chip_id` with the defaults above. */
void synth_init(synth_image *s, uint16_t chip_id);
void synth_free(synth_image *s);

/* Appends a segment with a copy of len bytes (data NULL = zeros). Returns
 * the segment index, or -1. */
int synth_add(synth_image *s, uint32_t addr, const void *data, size_t len);
/* Appends a segment of len bytes filled by a pattern. Returns the index. */
int synth_add_fill(synth_image *s, uint32_t addr, size_t len, synth_fill fill,
		   uint32_t seed);
/* Makes segment i declare `length` in its header (its data stays as is). */
void synth_set_length_field(synth_image *s, size_t i, uint32_t length);

/* Fills a buffer with a pattern. */
void synth_fill_bytes(uint8_t *p, size_t len, synth_fill fill, uint32_t seed);

/* Writes the image. *out is malloc'd (caller frees). The offsets in `s`
 * and its segments are filled. Returns 0 or -1. */
int synth_finish(synth_image *s, uint8_t **out, size_t *len);

/* ------------------------------------------------------ descriptors */

/* An esp_app_desc_t with magic, project, version, "12:34:56", "Jan  1 2025",
 * idf_ver "v5.4.1", app_elf_sha256 = 0x00..0x1f, max_efuse_blk_rev_full 99,
 * mmu_page_size_log2 16. NULL strings leave the field empty. */
void synth_app_desc_init(espimg_app_desc *d, const char *project,
			 const char *version);
/* Copies a C string into a fixed-width field (NUL padded, truncated). */
void synth_set_text(uint8_t *field, size_t size, const char *text);
/* The 256 bytes of esp_app_desc_t (ESP-IDF esp_app_desc.h). */
void synth_app_desc_bytes(const espimg_app_desc *d, uint8_t out[256]);

/* An esp_bootloader_desc_t: magic 0x50, version, idf_ver "v5.4.1",
 * date_time "Jan  1 2025 12:34:56". */
void synth_boot_desc_init(espimg_boot_desc *d, uint32_t version);
/* The 80 bytes of esp_bootloader_desc_t (ESP-IDF esp_bootloader_desc.h). */
void synth_boot_desc_bytes(const espimg_boot_desc *d, uint8_t out[80]);

/* ------------------------------------------------------ signatures */

/* One Secure Boot v2 block to append (ESP-IDF secure boot v2 signature
 * block; espsecure sign_data --version 2). Key and signature bytes are
 * arbitrary (deterministic from seed): only the layout and the CRC are
 * right, and the image digest is the real digest of the padded data. */
typedef struct synth_sig {
	uint8_t version;   /* 2 = RSA-3072, 3 = ECDSA */
	uint8_t curve;     /* ECDSA: 1 P-192, 2 P-256, 3 P-384 */
	bool bad_crc;      /* store a wrong CRC */
	uint8_t magic;     /* 0 means the right one (0xE7) */
	uint32_t seed;
} synth_sig;

/* Pads *buf with 0xFF to a multiple of 4096 and appends a 4096-byte
 * signature sector holding n (<= 3) blocks; the rest is 0xFF. *buf is
 * realloc'd. Returns 0 or -1. */
int synth_sign_v2(uint8_t **buf, size_t *len, const synth_sig *sigs, size_t n);

/* Appends a Secure Boot v1 trailer: u32 version 0 and 64 signature bytes
 * from seed (ESP32 only; espsecure sign_data --version 1). */
int synth_append_sig_v1(uint8_t **buf, size_t *len, uint32_t seed);

/* Appends n bytes of `byte` (padding, trailing garbage). */
int synth_append(uint8_t **buf, size_t *len, uint8_t byte, size_t n);

#endif
