/*
 * test_chip.c - the chip table against esptool 5.3.1's targets and the
 * memory type lists esptool prints for real segment addresses.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "espimg/espimg.h"
#include "espimg/chip.h"

struct chip_row {
	const char *key;
	const char *name;
	unsigned id;
	espimg_arch arch;
	uint32_t bootloader_offset;
	uint32_t uf2;
	size_t memmap_len;
};

/* esptool 5.3.1 esptool/targets/<chip>.py, inheritance resolved. */
static const struct chip_row rows[] = {
	{ "esp32", "ESP32", 0, ESPIMG_ARCH_XTENSA, 0x1000, 0x1C5F21B0, 15 },
	{ "esp32s2", "ESP32-S2", 2, ESPIMG_ARCH_XTENSA, 0x1000, 0xBFDD4EEE, 12 },
	{ "esp32c3", "ESP32-C3", 5, ESPIMG_ARCH_RISCV, 0x0, 0xD42BA06C, 11 },
	{ "esp32s3", "ESP32-S3", 9, ESPIMG_ARCH_XTENSA, 0x0, 0xC47E5767, 12 },
	{ "esp32c2", "ESP32-C2", 12, ESPIMG_ARCH_RISCV, 0x0, 0x2B88D29C, 8 },
	{ "esp32c6", "ESP32-C6", 13, ESPIMG_ARCH_RISCV, 0x0, 0x540DDF62, 11 },
	{ "esp32h2", "ESP32-H2", 16, ESPIMG_ARCH_RISCV, 0x0, 0x332726F6, 11 },
	{ "esp32p4", "ESP32-P4", 18, ESPIMG_ARCH_RISCV, 0x2000, 0x3D308E94, 11 },
	{ "esp32c61", "ESP32-C61", 20, ESPIMG_ARCH_RISCV, 0x0, 0x77D850C4, 11 },
	{ "esp32c5", "ESP32-C5", 23, ESPIMG_ARCH_RISCV, 0x2000, 0xF71C0343, 11 },
	{ "esp32h21", "ESP32-H21", 25, ESPIMG_ARCH_RISCV, 0x0, 0xB6DD00AF, 11 },
	{ "esp32h4", "ESP32-H4", 28, ESPIMG_ARCH_RISCV, 0x2000, 0x9E0BAA8A, 11 },
	{ "esp32e22", "ESP32-E22", 31, ESPIMG_ARCH_RISCV, 0x0, 0x1C5F21B0, 10 },
	{ "esp32s31", "ESP32-S31", 32, ESPIMG_ARCH_RISCV, 0x2000, 0x3101F7C1, 10 },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

Test(chip, table_matches_esptool)
{
	size_t i;

	cr_assert_eq(espimg_chip_count(), NROWS);
	for (i = 0; i < NROWS; i++) {
		const espimg_chip *c = espimg_chip_at(i);

		cr_assert_not_null(c);
		cr_expect_str_eq(c->key, rows[i].key);
		cr_expect_str_eq(c->name, rows[i].name);
		cr_expect_eq(c->image_id, rows[i].id, "%s", rows[i].key);
		cr_expect_eq(c->arch, rows[i].arch, "%s", rows[i].key);
		cr_expect_eq(c->bootloader_offset, rows[i].bootloader_offset,
			     "%s", rows[i].key);
		cr_expect_eq(c->uf2_family, rows[i].uf2, "%s", rows[i].key);
		cr_expect_eq(c->memmap_len, rows[i].memmap_len, "%s", rows[i].key);
		cr_expect_eq(espimg_chip_by_id(rows[i].id), c);
		cr_expect_eq(espimg_chip_by_key(rows[i].key), c);
		cr_expect_eq(espimg_chip_by_key(rows[i].name), c);
	}
	cr_expect_null(espimg_chip_at(NROWS));
}

Test(chip, ids_ascending_and_unique)
{
	size_t i;

	for (i = 1; i < espimg_chip_count(); i++)
		cr_expect_gt(espimg_chip_at(i)->image_id,
			     espimg_chip_at(i - 1)->image_id);
}

Test(chip, unknown_ids)
{
	/* Removed betas (4, 7, 10, 14, 17), gaps, ESP8266 has no id, and the
	 * full 16-bit field: 0x0105 is not ESP32-C3. */
	static const unsigned ids[] = { 1, 3, 4, 7, 10, 14, 17, 19, 33,
					0xFF, 0x100, 0x0105, 0xFFFF, 0x10000 };
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		cr_expect_null(espimg_chip_by_id(ids[i]), "id %u", ids[i]);
}

Test(chip, key_spellings)
{
	const espimg_chip *c3 = espimg_chip_by_id(5);

	cr_expect_eq(espimg_chip_by_key("esp32c3"), c3);
	cr_expect_eq(espimg_chip_by_key("ESP32-C3"), c3);
	cr_expect_eq(espimg_chip_by_key("esp32_c3"), c3);
	cr_expect_eq(espimg_chip_by_key("Esp32-_C3"), c3);
	cr_expect_eq(espimg_chip_by_key("esp32c61"), espimg_chip_by_id(20));
	cr_expect_eq(espimg_chip_by_key("esp32h21"), espimg_chip_by_id(25));
	cr_expect_null(espimg_chip_by_key("esp32c"));
	cr_expect_null(espimg_chip_by_key("esp32c33"));
	cr_expect_null(espimg_chip_by_key("esp32c6x"));
	cr_expect_null(espimg_chip_by_key("esp8266"));
	cr_expect_null(espimg_chip_by_key(""));
	cr_expect_null(espimg_chip_by_key("-"));
	cr_expect_null(espimg_chip_by_key(NULL));
}

/* Flash frequency names per nibble: 16 entries, "" for undefined. */
struct freq_row {
	const char *key;
	const char *names[16];
};

#define ESP32_FREQ { "40m", "26m", "20m", "", "", "", "", "", "", "", "", "", "", "", "", "80m" }
#define H2_FREQ { "24m", "16m", "12m", "", "", "", "", "", "", "", "", "", "", "", "", "48m" }
#define C5_FREQ { "40m", "", "20m", "", "", "", "", "", "", "", "", "", "", "", "", "80m" }

static const struct freq_row freq_rows[] = {
	{ "esp32", ESP32_FREQ },
	{ "esp32s2", ESP32_FREQ },
	{ "esp32c3", ESP32_FREQ },
	{ "esp32s3", ESP32_FREQ },
	{ "esp32c2", { "30m", "20m", "15m", "", "", "", "", "", "", "", "", "", "", "", "", "60m" } },
	/* "80m" and "40m" share code 0; esptool prints the first, "80m". */
	{ "esp32c6", { "80m", "", "20m", "", "", "", "", "", "", "", "", "", "", "", "", "" } },
	{ "esp32h2", H2_FREQ },
	{ "esp32p4", ESP32_FREQ },
	{ "esp32c61", C5_FREQ },
	{ "esp32c5", C5_FREQ },
	{ "esp32h21", H2_FREQ },
	{ "esp32h4", H2_FREQ },
	{ "esp32e22", ESP32_FREQ },
	{ "esp32s31", C5_FREQ },
};

Test(chip, flash_freq_names)
{
	size_t i;
	unsigned n;

	cr_assert_eq(sizeof(freq_rows) / sizeof(freq_rows[0]), NROWS);
	for (i = 0; i < NROWS; i++) {
		const espimg_chip *c = espimg_chip_by_key(freq_rows[i].key);

		cr_assert_not_null(c);
		for (n = 0; n < 16; n++) {
			const char *want = freq_rows[i].names[n];
			const char *got = espimg_chip_flash_freq_name(c, n);

			if (!*want)
				cr_expect_null(got, "%s nibble %u: %s", c->key, n, got);
			else
				cr_expect(got && !strcmp(got, want),
					  "%s nibble %u: want %s, got %s", c->key,
					  n, want, got ? got : "(null)");
		}
		cr_expect_null(espimg_chip_flash_freq_name(c, 16));
	}
	cr_expect_null(espimg_chip_flash_freq_name(NULL, 0));
}

Test(chip, flash_modes_and_sizes)
{
	static const char *const modes[] = { "QIO", "QOUT", "DIO", "DOUT",
					     "FAST_READ", "SLOW_READ" };
	static const char *const sizes[] = { "1MB", "2MB", "4MB", "8MB",
					     "16MB", "32MB", "64MB", "128MB" };
	unsigned i;

	for (i = 0; i < 6; i++)
		cr_expect_str_eq(espimg_flash_mode_name(i), modes[i]);
	cr_expect_null(espimg_flash_mode_name(6));
	cr_expect_null(espimg_flash_mode_name(0xFF));
	for (i = 0; i < 8; i++) {
		cr_expect_str_eq(espimg_flash_size_name(i), sizes[i]);
		cr_expect_eq(espimg_flash_size_bytes(i), (uint64_t)1 << (20 + i));
	}
	for (i = 8; i < 16; i++) {
		cr_expect_null(espimg_flash_size_name(i));
		cr_expect_eq(espimg_flash_size_bytes(i), 0);
	}
	cr_expect_eq(espimg_flash_size_bytes(7), 128ull * 1024 * 1024);
}

/*
 * Memory type lists for segment load addresses as esptool 5.3.1 prints
 * them in the corpus (expected/<file>.image_info_v5.txt), plus edges of the
 * maps.  "" means no region at all.
 */
struct type_row {
	const char *key;
	uint32_t addr;
	const char *types;
};

static const struct type_row type_rows[] = {
	{ "esp32", 0x00000000, "PADDING" },
	{ "esp32", 0x3f400010, "DROM" },
	{ "esp32", 0x3ffb0000, "BYTE_ACCESSIBLE, DRAM" },
	{ "esp32", 0x3fff0010, "BYTE_ACCESSIBLE, DRAM, DIRAM_DRAM" },
	{ "esp32", 0x40078000, "CACHE_APP" },
	{ "esp32", 0x40080000, "IRAM" },
	{ "esp32", 0x400d0018, "IROM" },
	{ "esp32", 0x40000000, "IROM" },
	{ "esp32", 0x3ffffffc, "BYTE_ACCESSIBLE, DRAM" },
	{ "esp32", 0x50000000, "RTC_DATA" },
	{ "esp32", 0x00010000, "" },
	{ "esp32s2", 0x3f000020, "DROM" },
	{ "esp32s2", 0x3ffbcb20, "BYTE_ACCESSIBLE, MEM_INTERNAL, DRAM" },
	{ "esp32s2", 0x40022000, "MEM_INTERNAL, IRAM" },
	{ "esp32s2", 0x40080020, "IROM" },
	{ "esp32s2", 0x50000000, "RTC_DATA" },
	{ "esp32s2", 0x3f500000, "DROM, EXTRAM_DATA" },
	{ "esp32c3", 0x3c010020, "DROM" },
	{ "esp32c3", 0x3fc87c00, "DRAM" },
	{ "esp32c3", 0x3fc8a200, "DRAM, BYTE_ACCESSIBLE" },
	{ "esp32c3", 0x40380000, "IRAM" },
	{ "esp32c3", 0x42000020, "IROM" },
	{ "esp32c3", 0x50000000, "RTC_IRAM, RTC_DRAM" },
	{ "esp32c3", 0xdeadbeef, "" },
	{ "esp32s3", 0x3c020020, "DROM" },
	{ "esp32s3", 0x3fc8eb00, "BYTE_ACCESSIBLE, MEM_INTERNAL, DRAM" },
	{ "esp32s3", 0x40374000, "MEM_INTERNAL, IRAM" },
	{ "esp32s3", 0x42000020, "IROM" },
	{ "esp32s3", 0x600fe000, "RTC_DRAM, RTC_IRAM" },
	{ "esp32s3", 0xdeadbeef, "" },
	{ "esp32c2", 0x3c008020, "DROM" },
	{ "esp32c2", 0x3fca70a0, "DRAM, BYTE_ACCESSIBLE" },
	{ "esp32c2", 0x40380000, "IRAM" },
	{ "esp32c2", 0x42000020, "IROM" },
	{ "esp32c6", 0x40800000, "DRAM, BYTE_ACCESSIBLE, IRAM" },
	{ "esp32c6", 0x42000020, "DROM, IROM" },
	{ "esp32c6", 0x4087ffff, "DRAM, BYTE_ACCESSIBLE, IRAM" },
	{ "esp32c6", 0x40880000, "" },
	{ "esp32c6", 0x42ffffff, "DROM, IROM" },
	{ "esp32c6", 0x43000000, "" },
	{ "esp32c61", 0x40830000, "DRAM, BYTE_ACCESSIBLE, IRAM" },
	{ "esp32c61", 0x43000000, "DROM, IROM" },
	{ "esp32c5", 0x40800000, "DRAM, BYTE_ACCESSIBLE, IRAM" },
	{ "esp32c5", 0x42000020, "DROM, IROM" },
	{ "esp32c5", 0x4003a000, "DROM_MASK" },
	{ "esp32h2", 0x40800000, "DRAM, BYTE_ACCESSIBLE, IRAM" },
	{ "esp32h2", 0x42000020, "DROM, IROM" },
	{ "esp32h21", 0x42000020, "DROM, IROM" },
	{ "esp32p4", 0x30100000, "" },
	{ "esp32p4", 0x40000020, "DROM, IROM" },
	{ "esp32p4", 0x4ff00000, "DRAM, BYTE_ACCESSIBLE, IRAM" },
	{ "esp32p4", 0x4fc00000, "DROM_MASK, IROM_MASK" },
	{ "esp32h4", 0x40810000, "DRAM, BYTE_ACCESSIBLE, IRAM" },
	{ "esp32h4", 0x40800000, "" },
	{ "esp32e22", 0x30fe0000, "IRAM" },
	{ "esp32e22", 0x31000000, "DRAM, BYTE_ACCESSIBLE, IRAM" },
	{ "esp32e22", 0xc0000000, "RTC_IRAM, RTC_DRAM" },
	{ "esp32s31", 0x2f000000, "DRAM, BYTE_ACCESSIBLE, IRAM" },
	{ "esp32s31", 0x40000020, "DROM, IROM" },
};

/* The types joined as esptool prints them. */
static void joined_types(const espimg_chip *c, uint32_t addr, char *out,
			 size_t outlen)
{
	const char *names[16];
	size_t n = espimg_chip_mem_types(c, addr, names, 16), i;

	cr_assert_leq(n, 16);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strncat(out, ", ", outlen - strlen(out) - 1);
		strncat(out, names[i], outlen - strlen(out) - 1);
	}
}

Test(chip, memory_types_as_esptool_prints)
{
	size_t i;
	char buf[256];

	for (i = 0; i < sizeof(type_rows) / sizeof(type_rows[0]); i++) {
		const espimg_chip *c = espimg_chip_by_key(type_rows[i].key);

		cr_assert_not_null(c);
		joined_types(c, type_rows[i].addr, buf, sizeof(buf));
		cr_expect_str_eq(buf, type_rows[i].types, "%s 0x%08x",
				 type_rows[i].key, (unsigned)type_rows[i].addr);
	}
}

Test(chip, padding_in_every_map)
{
	size_t i;

	for (i = 0; i < espimg_chip_count(); i++) {
		const espimg_chip *c = espimg_chip_at(i);
		const char *name = NULL;

		cr_expect_eq(espimg_chip_mem_types(c, 0, &name, 1), 1, "%s", c->key);
		cr_expect_str_eq(name, "PADDING");
		cr_expect_eq(espimg_chip_mem_types(c, 0xFFFF, NULL, 0), 1);
	}
}

Test(chip, mem_types_bounded_output)
{
	const espimg_chip *c = espimg_chip_by_key("esp32");
	const char *names[2] = { NULL, NULL };

	/* Three regions match; only one slot is written. */
	cr_expect_eq(espimg_chip_mem_types(c, 0x3fff0010, names, 1), 3);
	cr_expect_str_eq(names[0], "BYTE_ACCESSIBLE");
	cr_expect_null(names[1]);
	cr_expect_eq(espimg_chip_mem_types(NULL, 0, names, 2), 0);
}

Test(chip, addr_is)
{
	const espimg_chip *c6 = espimg_chip_by_key("esp32c6");
	const espimg_chip *s3 = espimg_chip_by_key("esp32s3");

	cr_expect(espimg_chip_addr_is(c6, 0x42000020, "DROM"));
	cr_expect(espimg_chip_addr_is(c6, 0x42000020, "IROM"));
	cr_expect_not(espimg_chip_addr_is(c6, 0x42000020, "IRAM"));
	cr_expect_not(espimg_chip_addr_is(c6, 0x43000000, "DROM"));
	cr_expect(espimg_chip_addr_is(s3, 0x3c020020, "DROM"));
	cr_expect_not(espimg_chip_addr_is(s3, 0x42000020, "DROM"));
	cr_expect(espimg_chip_addr_is(s3, 0x3fc8eb00, "DRAM"));
	cr_expect_not(espimg_chip_addr_is(s3, 0x3fc8eb00, "dram"));
	cr_expect_not(espimg_chip_addr_is(NULL, 0, "PADDING"));
	cr_expect_not(espimg_chip_addr_is(s3, 0, NULL));
}

Test(chip, regions_well_formed)
{
	size_t i, j;

	for (i = 0; i < espimg_chip_count(); i++) {
		const espimg_chip *c = espimg_chip_at(i);

		cr_assert_not_null(c->memmap);
		cr_expect_str_eq(c->memmap[0].name, "PADDING");
		for (j = 0; j < c->memmap_len; j++)
			cr_expect_lt(c->memmap[j].start, c->memmap[j].end,
				     "%s region %zu", c->key, j);
	}
}
