/*
 * chip.h - the ESP32-family chip table.
 *
 * One entry per chip that esptool 5.3.1 knows by the image header's chip id
 * (esptool/targets/<chip>.py: IMAGE_CHIP_ID, CHIP_NAME, BOOTLOADER_FLASH_OFFSET,
 * FLASH_FREQUENCY, MEMORY_MAP, UF2_FAMILY_ID). ESP8266 images carry no chip
 * id and are not in the table: the image parser refuses them.
 */
#ifndef ESPIMG_CHIP_H
#define ESPIMG_CHIP_H

#include <stddef.h>
#include <stdint.h>

#include "espimg/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum espimg_arch {
	ESPIMG_ARCH_XTENSA = 0,
	ESPIMG_ARCH_RISCV = 1,
} espimg_arch;

/* One named address range of a chip's memory map, [start, end). */
typedef struct espimg_mem_region {
	const char *name; /* esptool's name: "DROM", "IRAM", "PADDING", ... */
	uint32_t start;
	uint32_t end; /* exclusive */
} espimg_mem_region;

typedef struct espimg_chip {
	const char *key;            /* "esp32c3": the --chip spelling */
	const char *name;           /* "ESP32-C3" */
	uint16_t image_id;          /* extended-header chip id (bytes 12-13) */
	espimg_arch arch;
	uint32_t bootloader_offset; /* flash offset of the 2nd-stage bootloader */
	uint32_t uf2_family;        /* UF2 family id, 0 if none */
	/* Flash frequency name per low nibble of header byte 3; NULL where the
	 * nibble is undefined for this chip ("80m", "40m", ...). */
	const char *flash_freq[16];
	/* Memory map in esptool 5.3.1's order (the order matters: a segment's
	 * type list is every region containing its start address, in order). */
	const espimg_mem_region *memmap;
	size_t memmap_len;
} espimg_chip;

/* Iterate the table: index 0 .. espimg_chip_count()-1, in chip-id order. */
ESPIMG_API size_t espimg_chip_count(void);
ESPIMG_API const espimg_chip *espimg_chip_at(size_t index);

/* The chip whose image id is `image_id`, or NULL. */
ESPIMG_API const espimg_chip *espimg_chip_by_id(unsigned image_id);

/* Look a chip up by name, ignoring case and '-'/'_': "esp32c3", "ESP32-C3",
 * "esp32_c3" all match. NULL if unknown. */
ESPIMG_API const espimg_chip *espimg_chip_by_key(const char *key);

/* Flash mode byte (header byte 2): 0 "QIO", 1 "QOUT", 2 "DIO", 3 "DOUT",
 * 4 "FAST_READ", 5 "SLOW_READ" (ESP-IDF's esp_image_spi_mode_t); NULL for
 * other values. esptool names only 0..3. */
ESPIMG_API const char *espimg_flash_mode_name(unsigned mode);

/* Flash size code (high nibble of header byte 3, 0..15): "1MB" .. "128MB"
 * for 0..7, NULL otherwise. */
ESPIMG_API const char *espimg_flash_size_name(unsigned code);
/* The same size in bytes, 0 when undefined. */
ESPIMG_API uint64_t espimg_flash_size_bytes(unsigned code);

/* Flash frequency name for the low nibble of header byte 3, or NULL. */
ESPIMG_API const char *espimg_chip_flash_freq_name(const espimg_chip *chip,
						   unsigned nibble);

/* Writes the names of every memory region containing `addr` (in map order)
 * into names[0..max-1]; returns how many regions matched (which may exceed
 * max; only max are written). */
ESPIMG_API size_t espimg_chip_mem_types(const espimg_chip *chip, uint32_t addr,
					const char **names, size_t max);

/* 1 if a region named `type` contains addr. */
ESPIMG_API int espimg_chip_addr_is(const espimg_chip *chip, uint32_t addr,
				   const char *type);

#ifdef __cplusplus
}
#endif

#endif
