/*
 * chip.c - the ESP32-family chip table.
 *
 * Values transcribed from esptool 5.3.1 (esptool/targets/<chip>.py) after
 * resolving class inheritance: H2 and H21 take ESP32-C6's memory map, S2/S3/
 * C3/P4/E22 take ESP32's flash frequencies, S31 takes ESP32-C5's, H21 takes
 * ESP32-H2's, E22 takes ESP32's UF2 family id.  Region order is esptool's:
 * it decides the order of a segment's printed memory types.
 */
#include <ctype.h>
#include <string.h>

#include "espimg/chip.h"
#include "internal.h"

/* ------------------------------------------------------------ memory maps */

/* esptool/targets/esp32.py MEMORY_MAP */
static const espimg_mem_region memmap_esp32[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x3F400000, 0x3F800000 },
	{ "EXTRAM_DATA", 0x3F800000, 0x3FC00000 },
	{ "RTC_DRAM", 0x3FF80000, 0x3FF82000 },
	{ "BYTE_ACCESSIBLE", 0x3FF90000, 0x40000000 },
	{ "DRAM", 0x3FFAE000, 0x40000000 },
	{ "DIRAM_DRAM", 0x3FFE0000, 0x3FFFFFFC },
	{ "IROM", 0x40000000, 0x40070000 },
	{ "CACHE_PRO", 0x40070000, 0x40078000 },
	{ "CACHE_APP", 0x40078000, 0x40080000 },
	{ "IRAM", 0x40080000, 0x400A0000 },
	{ "DIRAM_IRAM", 0x400A0000, 0x400BFFFC },
	{ "RTC_IRAM", 0x400C0000, 0x400C2000 },
	{ "IROM", 0x400D0000, 0x40400000 },
	{ "RTC_DATA", 0x50000000, 0x50002000 },
};

/* esptool/targets/esp32s2.py MEMORY_MAP */
static const espimg_mem_region memmap_esp32s2[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x3F000000, 0x3FF80000 },
	{ "EXTRAM_DATA", 0x3F500000, 0x3FF80000 },
	{ "RTC_DRAM", 0x3FF9E000, 0x3FFA0000 },
	{ "BYTE_ACCESSIBLE", 0x3FF9E000, 0x40000000 },
	{ "MEM_INTERNAL", 0x3FF9E000, 0x40072000 },
	{ "DRAM", 0x3FFB0000, 0x40000000 },
	{ "IROM_MASK", 0x40000000, 0x4001A100 },
	{ "IRAM", 0x40020000, 0x40070000 },
	{ "RTC_IRAM", 0x40070000, 0x40072000 },
	{ "IROM", 0x40080000, 0x40800000 },
	{ "RTC_DATA", 0x50000000, 0x50002000 },
};

/* esptool/targets/esp32c3.py MEMORY_MAP */
static const espimg_mem_region memmap_esp32c3[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x3C000000, 0x3C800000 },
	{ "DRAM", 0x3FC80000, 0x3FCE0000 },
	{ "BYTE_ACCESSIBLE", 0x3FC88000, 0x3FD00000 },
	{ "DROM_MASK", 0x3FF00000, 0x3FF20000 },
	{ "IROM_MASK", 0x40000000, 0x40060000 },
	{ "IROM", 0x42000000, 0x42800000 },
	{ "IRAM", 0x4037C000, 0x403E0000 },
	{ "RTC_IRAM", 0x50000000, 0x50002000 },
	{ "RTC_DRAM", 0x50000000, 0x50002000 },
	{ "MEM_INTERNAL2", 0x600FE000, 0x60100000 },
};

/* esptool/targets/esp32s3.py MEMORY_MAP */
static const espimg_mem_region memmap_esp32s3[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x3C000000, 0x3D000000 },
	{ "EXTRAM_DATA", 0x3D000000, 0x3E000000 },
	{ "RTC_DRAM", 0x600FE000, 0x60100000 },
	{ "BYTE_ACCESSIBLE", 0x3FC88000, 0x3FD00000 },
	{ "MEM_INTERNAL", 0x3FC88000, 0x403E2000 },
	{ "DRAM", 0x3FC88000, 0x3FD00000 },
	{ "IROM_MASK", 0x40000000, 0x4001A100 },
	{ "IRAM", 0x40370000, 0x403E0000 },
	{ "RTC_IRAM", 0x600FE000, 0x60100000 },
	{ "IROM", 0x42000000, 0x42800000 },
	{ "RTC_DATA", 0x50000000, 0x50002000 },
};

/* esptool/targets/esp32c2.py MEMORY_MAP */
static const espimg_mem_region memmap_esp32c2[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x3C000000, 0x3C400000 },
	{ "DRAM", 0x3FCA0000, 0x3FCE0000 },
	{ "BYTE_ACCESSIBLE", 0x3FC88000, 0x3FD00000 },
	{ "DROM_MASK", 0x3FF00000, 0x3FF50000 },
	{ "IROM_MASK", 0x40000000, 0x40090000 },
	{ "IROM", 0x42000000, 0x42400000 },
	{ "IRAM", 0x4037C000, 0x403C0000 },
};

/* esptool/targets/esp32c6.py MEMORY_MAP; ESP32-H2 and ESP32-H21 inherit it. */
static const espimg_mem_region memmap_esp32c6[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x42000000, 0x43000000 },
	{ "DRAM", 0x40800000, 0x40880000 },
	{ "BYTE_ACCESSIBLE", 0x40800000, 0x40880000 },
	{ "DROM_MASK", 0x4004AC00, 0x40050000 },
	{ "IROM_MASK", 0x40000000, 0x4004AC00 },
	{ "IROM", 0x42000000, 0x43000000 },
	{ "IRAM", 0x40800000, 0x40880000 },
	{ "RTC_IRAM", 0x50000000, 0x50004000 },
	{ "RTC_DRAM", 0x50000000, 0x50004000 },
	{ "MEM_INTERNAL2", 0x600FE000, 0x60100000 },
};

/* esptool/targets/esp32p4.py MEMORY_MAP */
static const espimg_mem_region memmap_esp32p4[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x40000000, 0x4C000000 },
	{ "DRAM", 0x4FF00000, 0x4FFA0000 },
	{ "BYTE_ACCESSIBLE", 0x4FF00000, 0x4FFA0000 },
	{ "DROM_MASK", 0x4FC00000, 0x4FC20000 },
	{ "IROM_MASK", 0x4FC00000, 0x4FC20000 },
	{ "IROM", 0x40000000, 0x4C000000 },
	{ "IRAM", 0x4FF00000, 0x4FFA0000 },
	{ "RTC_IRAM", 0x50108000, 0x50110000 },
	{ "RTC_DRAM", 0x50108000, 0x50110000 },
	{ "MEM_INTERNAL2", 0x600FE000, 0x60100000 },
};

/* esptool/targets/esp32c61.py MEMORY_MAP */
static const espimg_mem_region memmap_esp32c61[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x42000000, 0x44000000 },
	{ "DRAM", 0x40800000, 0x40860000 },
	{ "BYTE_ACCESSIBLE", 0x40800000, 0x40860000 },
	{ "DROM_MASK", 0x4004AC00, 0x40050000 },
	{ "IROM_MASK", 0x40000000, 0x4004AC00 },
	{ "IROM", 0x42000000, 0x44000000 },
	{ "IRAM", 0x40800000, 0x40860000 },
	{ "RTC_IRAM", 0x50000000, 0x50004000 },
	{ "RTC_DRAM", 0x50000000, 0x50004000 },
	{ "MEM_INTERNAL2", 0x600FE000, 0x60100000 },
};

/* esptool/targets/esp32c5.py MEMORY_MAP */
static const espimg_mem_region memmap_esp32c5[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x42000000, 0x44000000 },
	{ "DRAM", 0x40800000, 0x40860000 },
	{ "BYTE_ACCESSIBLE", 0x40800000, 0x40860000 },
	{ "DROM_MASK", 0x4003A000, 0x40040000 },
	{ "IROM_MASK", 0x40000000, 0x4003A000 },
	{ "IROM", 0x42000000, 0x44000000 },
	{ "IRAM", 0x40800000, 0x40860000 },
	{ "RTC_IRAM", 0x50000000, 0x50004000 },
	{ "RTC_DRAM", 0x50000000, 0x50004000 },
	{ "MEM_INTERNAL2", 0x600FE000, 0x60100000 },
};

/* esptool/targets/esp32h4.py MEMORY_MAP */
static const espimg_mem_region memmap_esp32h4[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x42000000, 0x44000000 },
	{ "DRAM", 0x40810000, 0x40860000 },
	{ "BYTE_ACCESSIBLE", 0x40810000, 0x40860000 },
	{ "DROM_MASK", 0x40000000, 0x40050000 },
	{ "IROM_MASK", 0x40000000, 0x40050000 },
	{ "IROM", 0x42000000, 0x44000000 },
	{ "IRAM", 0x40810000, 0x40860000 },
	{ "RTC_IRAM", 0x50000000, 0x50004000 },
	{ "RTC_DRAM", 0x50000000, 0x50004000 },
	{ "MEM_INTERNAL2", 0x60000000, 0x60100000 },
};

/* esptool/targets/esp32e22.py MEMORY_MAP */
static const espimg_mem_region memmap_esp32e22[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x3C000000, 0x40000000 },
	{ "DRAM", 0x31000000, 0x31200000 },
	{ "BYTE_ACCESSIBLE", 0x31000000, 0x31200000 },
	{ "DROM_MASK", 0x30000000, 0x30120000 },
	{ "IROM_MASK", 0x30000000, 0x30120000 },
	{ "IROM", 0x3C000000, 0x40000000 },
	{ "IRAM", 0x30FE0000, 0x31200000 },
	{ "RTC_IRAM", 0xC0000000, 0xC0008000 },
	{ "RTC_DRAM", 0xC0000000, 0xC0008000 },
};

/* esptool/targets/esp32s31.py MEMORY_MAP */
static const espimg_mem_region memmap_esp32s31[] = {
	{ "PADDING", 0x00000000, 0x00010000 },
	{ "DROM", 0x40000000, 0x54000000 },
	{ "DRAM", 0x2F000000, 0x2F080000 },
	{ "BYTE_ACCESSIBLE", 0x2F000000, 0x2F080000 },
	{ "DROM_MASK", 0x2F800000, 0x2F850000 },
	{ "IROM_MASK", 0x2F800000, 0x2F850000 },
	{ "IROM", 0x40000000, 0x54000000 },
	{ "IRAM", 0x2F000000, 0x2F080000 },
	{ "RTC_IRAM", 0x2E000000, 0x2E008000 },
	{ "RTC_DRAM", 0x2E000000, 0x2E008000 },
};

/* ------------------------------------------------------------ the table */

/*
 * Flash frequency per low nibble of header byte 3.  esptool keeps a
 * name -> nibble dict per chip and, when describing an image, prints the
 * first name in dict order whose value matches; those names are listed here.
 */
#define FREQ_ESP32 { [0x0] = "40m", [0x1] = "26m", [0x2] = "20m", [0xF] = "80m" }
/* esp32c2.py. */
#define FREQ_C2 { [0x0] = "30m", [0x1] = "20m", [0x2] = "15m", [0xF] = "60m" }
/* esp32c6.py: "80m" and "40m" both map to 0 (the ROM's 80 MHz divider is
 * unusable), "80m" comes first; no code 0x1 or 0xF. */
#define FREQ_C6 { [0x0] = "80m", [0x2] = "20m" }
/* esp32c5.py, esp32c61.py: no 26m. */
#define FREQ_C5 { [0x0] = "40m", [0x2] = "20m", [0xF] = "80m" }
/* esp32h2.py, esp32h4.py: 48 MHz flash clock. */
#define FREQ_H2 { [0x0] = "24m", [0x1] = "16m", [0x2] = "12m", [0xF] = "48m" }

#define MAP(m) .memmap = (m), .memmap_len = ESPIMG_ARRAY_SIZE(m)

/* In image chip id order (IMAGE_CHIP_ID). */
static const espimg_chip chips[] = {
	{ .key = "esp32", .name = "ESP32", .image_id = 0,
	  .arch = ESPIMG_ARCH_XTENSA, .bootloader_offset = 0x1000,
	  .uf2_family = 0x1C5F21B0, .flash_freq = FREQ_ESP32,
	  MAP(memmap_esp32) },
	{ .key = "esp32s2", .name = "ESP32-S2", .image_id = 2,
	  .arch = ESPIMG_ARCH_XTENSA, .bootloader_offset = 0x1000,
	  .uf2_family = 0xBFDD4EEE, .flash_freq = FREQ_ESP32,
	  MAP(memmap_esp32s2) },
	{ .key = "esp32c3", .name = "ESP32-C3", .image_id = 5,
	  .arch = ESPIMG_ARCH_RISCV, .bootloader_offset = 0x0,
	  .uf2_family = 0xD42BA06C, .flash_freq = FREQ_ESP32,
	  MAP(memmap_esp32c3) },
	{ .key = "esp32s3", .name = "ESP32-S3", .image_id = 9,
	  .arch = ESPIMG_ARCH_XTENSA, .bootloader_offset = 0x0,
	  .uf2_family = 0xC47E5767, .flash_freq = FREQ_ESP32,
	  MAP(memmap_esp32s3) },
	{ .key = "esp32c2", .name = "ESP32-C2", .image_id = 12,
	  .arch = ESPIMG_ARCH_RISCV, .bootloader_offset = 0x0,
	  .uf2_family = 0x2B88D29C, .flash_freq = FREQ_C2,
	  MAP(memmap_esp32c2) },
	{ .key = "esp32c6", .name = "ESP32-C6", .image_id = 13,
	  .arch = ESPIMG_ARCH_RISCV, .bootloader_offset = 0x0,
	  .uf2_family = 0x540DDF62, .flash_freq = FREQ_C6,
	  MAP(memmap_esp32c6) },
	{ .key = "esp32h2", .name = "ESP32-H2", .image_id = 16,
	  .arch = ESPIMG_ARCH_RISCV, .bootloader_offset = 0x0,
	  .uf2_family = 0x332726F6, .flash_freq = FREQ_H2,
	  MAP(memmap_esp32c6) },
	{ .key = "esp32p4", .name = "ESP32-P4", .image_id = 18,
	  .arch = ESPIMG_ARCH_RISCV, .bootloader_offset = 0x2000,
	  .uf2_family = 0x3D308E94, .flash_freq = FREQ_ESP32,
	  MAP(memmap_esp32p4) },
	{ .key = "esp32c61", .name = "ESP32-C61", .image_id = 20,
	  .arch = ESPIMG_ARCH_RISCV, .bootloader_offset = 0x0,
	  .uf2_family = 0x77D850C4, .flash_freq = FREQ_C5,
	  MAP(memmap_esp32c61) },
	/* 0x2000 since esptool 5 (4.8.1 had 0x0). */
	{ .key = "esp32c5", .name = "ESP32-C5", .image_id = 23,
	  .arch = ESPIMG_ARCH_RISCV, .bootloader_offset = 0x2000,
	  .uf2_family = 0xF71C0343, .flash_freq = FREQ_C5,
	  MAP(memmap_esp32c5) },
	{ .key = "esp32h21", .name = "ESP32-H21", .image_id = 25,
	  .arch = ESPIMG_ARCH_RISCV, .bootloader_offset = 0x0,
	  .uf2_family = 0xB6DD00AF, .flash_freq = FREQ_H2,
	  MAP(memmap_esp32c6) },
	{ .key = "esp32h4", .name = "ESP32-H4", .image_id = 28,
	  .arch = ESPIMG_ARCH_RISCV, .bootloader_offset = 0x2000,
	  .uf2_family = 0x9E0BAA8A, .flash_freq = FREQ_H2,
	  MAP(memmap_esp32h4) },
	/* No UF2 id of its own: esptool inherits ESP32's. */
	{ .key = "esp32e22", .name = "ESP32-E22", .image_id = 31,
	  .arch = ESPIMG_ARCH_RISCV, .bootloader_offset = 0x0,
	  .uf2_family = 0x1C5F21B0, .flash_freq = FREQ_ESP32,
	  MAP(memmap_esp32e22) },
	{ .key = "esp32s31", .name = "ESP32-S31", .image_id = 32,
	  .arch = ESPIMG_ARCH_RISCV, .bootloader_offset = 0x2000,
	  .uf2_family = 0x3101F7C1, .flash_freq = FREQ_C5,
	  MAP(memmap_esp32s31) },
};

size_t espimg_chip_count(void)
{
	return ESPIMG_ARRAY_SIZE(chips);
}

const espimg_chip *espimg_chip_at(size_t index)
{
	return index < ESPIMG_ARRAY_SIZE(chips) ? &chips[index] : NULL;
}

const espimg_chip *espimg_chip_by_id(unsigned image_id)
{
	size_t i;

	for (i = 0; i < ESPIMG_ARRAY_SIZE(chips); i++)
		if (chips[i].image_id == image_id)
			return &chips[i];
	return NULL;
}

/* Next significant character of a chip name: case folded, '-' and '_'
 * skipped.  Returns 0 at the end. */
static int key_char(const char **p)
{
	while (**p == '-' || **p == '_')
		(*p)++;
	if (!**p)
		return 0;
	return tolower((unsigned char)*(*p)++);
}

static int key_equal(const char *a, const char *b)
{
	int ca, cb;

	do {
		ca = key_char(&a);
		cb = key_char(&b);
		if (ca != cb)
			return 0;
	} while (ca);
	return 1;
}

const espimg_chip *espimg_chip_by_key(const char *key)
{
	size_t i;

	if (!key)
		return NULL;
	for (i = 0; i < ESPIMG_ARRAY_SIZE(chips); i++)
		if (key_equal(key, chips[i].key))
			return &chips[i];
	return NULL;
}

const char *espimg_flash_mode_name(unsigned mode)
{
	/* ESP-IDF components/bootloader_support/include/esp_app_format.h,
	 * esp_image_spi_mode_t; esptool's FLASH_MODES names 0..3 only. */
	static const char *const names[] = {
		"QIO", "QOUT", "DIO", "DOUT", "FAST_READ", "SLOW_READ",
	};

	return mode < ESPIMG_ARRAY_SIZE(names) ? names[mode] : NULL;
}

/* esptool/targets/esp32.py FLASH_SIZES (high nibble of byte 3), shared by
 * every ESP32-family chip. */
static const char *const flash_sizes[] = {
	"1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB",
};

const char *espimg_flash_size_name(unsigned code)
{
	return code < ESPIMG_ARRAY_SIZE(flash_sizes) ? flash_sizes[code] : NULL;
}

uint64_t espimg_flash_size_bytes(unsigned code)
{
	return code < ESPIMG_ARRAY_SIZE(flash_sizes) ? (uint64_t)1 << (20 + code)
						     : 0;
}

const char *espimg_chip_flash_freq_name(const espimg_chip *chip,
					unsigned nibble)
{
	if (!chip || nibble > 0xF)
		return NULL;
	return chip->flash_freq[nibble];
}

size_t espimg_chip_mem_types(const espimg_chip *chip, uint32_t addr,
			     const char **names, size_t max)
{
	size_t i, n = 0;

	if (!chip)
		return 0;
	for (i = 0; i < chip->memmap_len; i++) {
		const espimg_mem_region *r = &chip->memmap[i];

		if (addr >= r->start && addr < r->end) {
			if (names && n < max)
				names[n] = r->name;
			n++;
		}
	}
	return n;
}

int espimg_chip_addr_is(const espimg_chip *chip, uint32_t addr,
			const char *type)
{
	size_t i;

	if (!chip || !type)
		return 0;
	for (i = 0; i < chip->memmap_len; i++) {
		const espimg_mem_region *r = &chip->memmap[i];

		if (addr >= r->start && addr < r->end && !strcmp(r->name, type))
			return 1;
	}
	return 0;
}
