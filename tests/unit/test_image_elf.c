/*
 * test_image_elf.c - espimg_image_to_elf and espimg_image_segment_section.
 *
 * Images come from the synthesiser and are parsed by espimg_image_read; the
 * ELF is read back here field by field (System V gABI, ELF32 LE).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "espimg/espimg.h"
#include "espimg/image.h"
#include "fixtures.h"
#include "synth.h"

#define EM_XTENSA 94
#define EM_RISCV 243
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u
#define SHF_WRITE 1u
#define SHF_ALLOC 2u
#define SHF_EXECINSTR 4u

/* ------------------------------------------------------------ ELF reader */

typedef struct phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
} phdr;

typedef struct shdr {
	const char *name;
	uint32_t type, flags, addr, offset, size, align;
} shdr;

typedef struct elf_view {
	const uint8_t *b;
	size_t len;
	uint16_t type, machine, phnum, shnum, shstrndx;
	uint32_t entry, flags, phoff, shoff;
	phdr ph[300];
	shdr sh[300];
} elf_view;

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Decodes the headers, asserting every table lies inside the file. */
static void elf_read(elf_view *v, const uint8_t *b, size_t len)
{
	static const uint8_t ident[16] = { 0x7f, 'E', 'L', 'F', 1, 1, 1 };
	const uint8_t *str;
	uint32_t stroff, strsz;
	size_t i;

	memset(v, 0, sizeof(*v));
	v->b = b;
	v->len = len;
	cr_assert_geq(len, 52);
	cr_assert_arr_eq(b, ident, 16, "e_ident: ELF32, LSB, version 1, SysV");
	v->type = le16(b + 16);
	v->machine = le16(b + 18);
	cr_assert_eq(le32(b + 20), 1, "e_version");
	v->entry = le32(b + 24);
	v->phoff = le32(b + 28);
	v->shoff = le32(b + 32);
	v->flags = le32(b + 36);
	cr_assert_eq(le16(b + 40), 52, "e_ehsize");
	cr_assert_eq(le16(b + 42), 32, "e_phentsize");
	cr_assert_eq(le16(b + 46), 40, "e_shentsize");
	v->phnum = le16(b + 44);
	v->shnum = le16(b + 48);
	v->shstrndx = le16(b + 50);
	cr_assert_lt(v->phnum, 300);
	cr_assert_lt(v->shnum, 300);
	cr_assert_leq((uint64_t)v->phoff + 32u * v->phnum, len);
	cr_assert_leq((uint64_t)v->shoff + 40u * v->shnum, len);
	for (i = 0; i < v->phnum; i++) {
		const uint8_t *p = b + v->phoff + 32 * i;
		phdr *h = &v->ph[i];

		h->type = le32(p);
		h->offset = le32(p + 4);
		h->vaddr = le32(p + 8);
		h->paddr = le32(p + 12);
		h->filesz = le32(p + 16);
		h->memsz = le32(p + 20);
		h->flags = le32(p + 24);
		h->align = le32(p + 28);
		cr_assert_leq((uint64_t)h->offset + h->filesz, len,
			      "PT_LOAD %zu inside the file", i);
	}
	cr_assert_lt(v->shstrndx, v->shnum);
	str = b + v->shoff + 40 * v->shstrndx;
	cr_assert_eq(le32(str + 4), 3, "e_shstrndx names an SHT_STRTAB");
	stroff = le32(str + 16);
	strsz = le32(str + 20);
	cr_assert_leq((uint64_t)stroff + strsz, len);
	cr_assert(strsz > 0 && b[stroff + strsz - 1] == 0,
		  ".shstrtab ends with a NUL");
	for (i = 0; i < v->shnum; i++) {
		const uint8_t *p = b + v->shoff + 40 * i;
		shdr *s = &v->sh[i];

		cr_assert_lt(le32(p), strsz, "section %zu name inside .shstrtab", i);
		s->name = (const char *)b + stroff + le32(p);
		s->type = le32(p + 4);
		s->flags = le32(p + 8);
		s->addr = le32(p + 12);
		s->offset = le32(p + 16);
		s->size = le32(p + 20);
		s->align = le32(p + 32);
	}
}

/* The PT_LOAD at vaddr (the n-th one there, 0-based), or NULL. */
static const phdr *load_at(const elf_view *v, uint32_t vaddr, int n)
{
	for (size_t i = 0; i < v->phnum; i++)
		if (v->ph[i].type == 1 && v->ph[i].vaddr == vaddr && n-- == 0)
			return &v->ph[i];
	return NULL;
}

static const shdr *section(const elf_view *v, const char *name)
{
	for (size_t i = 0; i < v->shnum; i++)
		if (!strcmp(v->sh[i].name, name))
			return &v->sh[i];
	return NULL;
}

/* ------------------------------------------------------------ fixtures */

typedef struct fixture {
	synth_image s;
	uint8_t *bin;
	size_t binlen;
	espimg_source src;
	espimg_image *img;
	uint8_t *elf;
	size_t elflen;
	elf_view v;
} fixture;

static fixture fx;

static void fx_reset(void)
{
	memset(&fx, 0, sizeof(fx));
}

static void fx_teardown(void)
{
	free(fx.elf);
	espimg_image_free(fx.img);
	free(fx.bin);
	synth_free(&fx.s);
	fx_reset();
}

TestSuite(image_elf, .init = fx_reset, .fini = fx_teardown);

static uint16_t chip_id(const char *key)
{
	const synth_chip *c = synth_chip_by_key(key);

	cr_assert_not_null(c, "synth chip %s", key);
	return c->id;
}

/* Writes fx.s and parses it (it must parse to its end). */
static void parse(void)
{
	espimg_image_opts o = { 0 };
	int rc;

	cr_assert_eq(synth_finish(&fx.s, &fx.bin, &fx.binlen), 0);
	espimg_source_mem(&fx.src, fx.bin, fx.binlen);
	rc = espimg_image_read(&fx.src, &o, &fx.img, NULL);
	cr_assert_eq(rc, ESPIMG_OK, "parse: %s", espimg_strerror(rc));
	cr_assert_geq(fx.img->stage, ESPIMG_STAGE_SEGMENTS);
}

/* Parses fx.s, converts it and reads the ELF back. */
static void convert(void)
{
	int rc;

	parse();
	rc = espimg_image_to_elf(fx.img, &fx.src, &fx.elf, &fx.elflen);
	cr_assert_eq(rc, ESPIMG_OK, "to_elf: %s", espimg_strerror(rc));
	cr_assert_not_null(fx.elf);
	elf_read(&fx.v, fx.elf, fx.elflen);
}

/* Every synth segment with a non-zero address has a PT_LOAD and a section
 * with its exact bytes; address-0 segments have neither. */
static void assert_segments_match(void)
{
	size_t i, j, want = 0;

	for (i = 0; i < fx.s.nseg; i++) {
		const synth_segment *sg = &fx.s.seg[i];
		const phdr *h = NULL;
		int n = 0;

		if (sg->addr == 0)
			continue;
		want++;
		/* Segments at the same address: the n-th one in image order. */
		for (j = 0; j < i; j++)
			if (fx.s.seg[j].addr == sg->addr)
				n++;
		h = load_at(&fx.v, sg->addr, n);
		cr_assert_not_null(h, "PT_LOAD for segment %zu at 0x%08x", i,
				   sg->addr);
		cr_assert_eq(h->paddr, sg->addr, "p_paddr %zu", i);
		cr_assert_eq(h->filesz, sg->len, "p_filesz %zu", i);
		cr_assert_eq(h->memsz, sg->len, "p_memsz %zu", i);
		cr_assert_eq(h->align, 4);
		cr_assert_eq(h->offset % 4, h->vaddr % 4,
			     "p_offset congruent to p_vaddr mod p_align");
		cr_assert(!sg->len ||
			  !memcmp(fx.elf + h->offset, sg->data, sg->len),
			  "segment %zu bytes", i);
	}
	cr_assert_eq(fx.v.phnum, want, "one PT_LOAD per non-padding segment");
	cr_assert_eq(fx.v.shnum, want + 2, "null + one per segment + .shstrtab");
	for (i = 1; i < fx.v.phnum; i++)
		cr_assert_leq(fx.v.ph[i - 1].vaddr, fx.v.ph[i].vaddr,
			      "PT_LOAD sorted by p_vaddr");
	/* Sections: PROGBITS, on the same bytes as their PT_LOAD. */
	for (i = 1; i + 1 < fx.v.shnum; i++) {
		const shdr *s = &fx.v.sh[i];
		const phdr *h = NULL;

		cr_assert_eq(s->type, 1, "%s: SHT_PROGBITS", s->name);
		for (j = 0; j < fx.v.phnum; j++)
			if (fx.v.ph[j].offset == s->offset &&
			    fx.v.ph[j].vaddr == s->addr &&
			    fx.v.ph[j].filesz == s->size)
				h = &fx.v.ph[j];
		cr_assert_not_null(h, "%s: a PT_LOAD with its offset, address "
				   "and size", s->name);
		cr_assert(s->flags & SHF_ALLOC);
		cr_assert_eq(!!(s->flags & SHF_WRITE), !!(h->flags & PF_W),
			     "%s: SHF_WRITE = PF_W", s->name);
		cr_assert_eq(!!(s->flags & SHF_EXECINSTR), !!(h->flags & PF_X),
			     "%s: SHF_EXECINSTR = PF_X", s->name);
		cr_assert(s->align && s->addr % s->align == 0);
		for (j = 1; j < i; j++)
			cr_assert_str_neq(fx.v.sh[j].name, s->name,
					  "section names unique");
	}
	cr_assert_str_eq(fx.v.sh[fx.v.shstrndx].name, ".shstrtab");
	cr_assert_eq(fx.v.shstrndx, fx.v.shnum - 1);
	cr_assert_eq(fx.v.sh[0].type, 0, "section 0 is SHT_NULL");
	cr_assert_eq(fx.elflen, (size_t)fx.v.shoff + 40u * fx.v.shnum,
		     "the file ends with the section headers");
}

/* A section's PT_LOAD flags. */
static uint32_t pflags_of(const char *name)
{
	const shdr *s = section(&fx.v, name);

	cr_assert_not_null(s, "section %s", name);
	for (size_t j = 0; j < fx.v.phnum; j++)
		if (fx.v.ph[j].offset == s->offset &&
		    fx.v.ph[j].vaddr == s->addr && fx.v.ph[j].filesz == s->size)
			return fx.v.ph[j].flags;
	cr_assert_fail("no PT_LOAD for %s", name);
	return 0;
}

/* ------------------------------------------------------------ header */

Test(image_elf, esp32_header_and_segments)
{
	synth_init(&fx.s, chip_id("esp32"));
	fx.s.entry = 0x40080404;
	synth_add_fill(&fx.s, 0x3F400020, 0x120, SYNTH_FILL_COUNT, 1);  /* DROM */
	synth_add_fill(&fx.s, 0x3FFB0000, 0x40, SYNTH_FILL_RANDOM, 2);  /* DRAM */
	synth_add_fill(&fx.s, 0x40080000, 0x100, SYNTH_FILL_RANDOM, 3); /* IRAM */
	synth_add(&fx.s, 0, NULL, 0x200);                               /* padding */
	synth_add_fill(&fx.s, 0x400D0020, 0x300, SYNTH_FILL_RANDOM, 4); /* IROM */
	convert();

	cr_assert_eq(fx.v.type, 2, "ET_EXEC");
	cr_assert_eq(fx.v.machine, EM_XTENSA);
	cr_assert_eq(fx.v.flags, 0x300, "e_flags as xtensa-esp-elf-gcc writes");
	cr_assert_eq(fx.v.entry, 0x40080404);
	cr_assert_eq(fx.v.phoff, 52);
	cr_assert_eq(fx.v.phnum, 4, "the padding segment is left out");
	assert_segments_match();

	cr_assert_str_eq(fx.v.sh[1].name, ".flash.rodata");
	cr_assert_str_eq(fx.v.sh[2].name, ".dram0.data");
	cr_assert_str_eq(fx.v.sh[3].name, ".iram0.text");
	cr_assert_str_eq(fx.v.sh[4].name, ".flash.text");
	cr_assert_eq(pflags_of(".flash.rodata"), PF_R);
	cr_assert_eq(pflags_of(".dram0.data"), PF_R | PF_W);
	cr_assert_eq(pflags_of(".iram0.text"), PF_R | PF_X);
	cr_assert_eq(pflags_of(".flash.text"), PF_R | PF_X);
	cr_assert_eq(section(&fx.v, ".flash.rodata")->flags, SHF_ALLOC);
	cr_assert_eq(section(&fx.v, ".dram0.data")->flags, SHF_ALLOC | SHF_WRITE);
	cr_assert_eq(section(&fx.v, ".flash.text")->flags,
		     SHF_ALLOC | SHF_EXECINSTR);
}

Test(image_elf, every_chip_machine_and_flags)
{
	for (size_t i = 0; i < espimg_chip_count(); i++) {
		const espimg_chip *c = espimg_chip_at(i);
		const synth_chip *sc = synth_chip_by_id(c->image_id);
		uint32_t want_flags;

		cr_assert_not_null(sc, "synth knows %s", c->key);
		synth_init(&fx.s, sc->id);
		synth_add_fill(&fx.s, sc->drom, 0x100, SYNTH_FILL_RANDOM, 10);
		synth_add_fill(&fx.s, sc->dram, 0x24, SYNTH_FILL_RANDOM, 11);
		synth_add_fill(&fx.s, sc->iram, 0x88, SYNTH_FILL_RANDOM, 12);
		synth_add_fill(&fx.s, sc->irom, 0x64, SYNTH_FILL_RANDOM, 13);
		convert();
		cr_assert_eq(fx.img->chip, c);
		cr_assert_eq(fx.v.machine,
			     c->arch == ESPIMG_ARCH_XTENSA ? EM_XTENSA : EM_RISCV,
			     "%s e_machine", c->key);
		if (c->arch == ESPIMG_ARCH_XTENSA)
			want_flags = 0x300;
		else if (!strcmp(c->key, "esp32p4") || !strcmp(c->key, "esp32h4") ||
			 !strcmp(c->key, "esp32s31"))
			want_flags = 0x3; /* RVC, ilp32f */
		else
			want_flags = 0x1; /* RVC, ilp32 */
		cr_assert_eq(fx.v.flags, want_flags, "%s e_flags 0x%x", c->key,
			     fx.v.flags);
		cr_assert_eq(fx.v.entry, sc->iram, "%s e_entry", c->key);
		assert_segments_match();
		fx_teardown();
	}
}

Test(image_elf, riscv_c3_names)
{
	synth_init(&fx.s, chip_id("esp32c3"));
	synth_add_fill(&fx.s, 0x3C000020, 0x40, SYNTH_FILL_RANDOM, 1); /* DROM */
	synth_add_fill(&fx.s, 0x3FC88000, 0x40, SYNTH_FILL_RANDOM, 2); /* DRAM */
	synth_add_fill(&fx.s, 0x40380000, 0x40, SYNTH_FILL_RANDOM, 3); /* IRAM */
	synth_add_fill(&fx.s, 0x42000020, 0x40, SYNTH_FILL_RANDOM, 4); /* IROM */
	synth_add_fill(&fx.s, 0x50000000, 0x40, SYNTH_FILL_RANDOM, 5); /* RTC */
	convert();
	assert_segments_match();
	cr_assert_eq(fx.v.machine, EM_RISCV);
	cr_assert_eq(fx.v.flags, 0x1);
	cr_assert_str_eq(fx.v.sh[1].name, ".flash.rodata");
	cr_assert_str_eq(fx.v.sh[2].name, ".dram0.data");
	cr_assert_str_eq(fx.v.sh[3].name, ".iram0.text");
	cr_assert_str_eq(fx.v.sh[4].name, ".flash.text");
	/* C3 lists RTC_IRAM before RTC_DRAM for the same range. */
	cr_assert_str_eq(fx.v.sh[5].name, ".rtc.text");
	cr_assert_eq(pflags_of(".rtc.text"), PF_R | PF_W | PF_X);
}

/* C6: flash is DROM+IROM, RAM is DRAM+BYTE_ACCESSIBLE+IRAM. The first type
 * names the section; the rights are the union. */
Test(image_elf, unified_windows_c6)
{
	synth_init(&fx.s, chip_id("esp32c6"));
	synth_add_fill(&fx.s, 0x42008020, 0x100, SYNTH_FILL_RANDOM, 1);
	synth_add_fill(&fx.s, 0x40800000, 0x80, SYNTH_FILL_RANDOM, 2);
	synth_add_fill(&fx.s, 0x40800080, 0x80, SYNTH_FILL_RANDOM, 3);
	synth_add_fill(&fx.s, 0x42000020, 0x200, SYNTH_FILL_RANDOM, 4);
	convert();
	assert_segments_match();
	cr_assert_str_eq(espimg_image_segment_section(fx.img, 0), ".flash.rodata");
	cr_assert_str_eq(espimg_image_segment_section(fx.img, 1), ".dram0.data");
	cr_assert_str_eq(fx.v.sh[1].name, ".flash.rodata");
	cr_assert_str_eq(fx.v.sh[2].name, ".dram0.data");
	cr_assert_str_eq(fx.v.sh[3].name, ".dram0.data.1");
	cr_assert_str_eq(fx.v.sh[4].name, ".flash.rodata.1");
	cr_assert_eq(pflags_of(".flash.rodata"), PF_R | PF_X);
	cr_assert_eq(pflags_of(".flash.rodata.1"), PF_R | PF_X);
	cr_assert_eq(pflags_of(".dram0.data"), PF_R | PF_W | PF_X);
	/* Sorted: 0x40800000, 0x40800080, 0x42000020, 0x42008020. */
	cr_assert_eq(fx.v.ph[0].vaddr, 0x40800000);
	cr_assert_eq(fx.v.ph[1].vaddr, 0x40800080);
	cr_assert_eq(fx.v.ph[2].vaddr, 0x42000020);
	cr_assert_eq(fx.v.ph[3].vaddr, 0x42008020);
}

/* S3 IRAM is MEM_INTERNAL + IRAM: MEM_INTERNAL names nothing and adds no
 * rights. */
Test(image_elf, mem_internal_skipped_s3)
{
	synth_init(&fx.s, chip_id("esp32s3"));
	synth_add_fill(&fx.s, 0x40374000, 0x40, SYNTH_FILL_RANDOM, 1);
	synth_add_fill(&fx.s, 0x3FC88000, 0x40, SYNTH_FILL_RANDOM, 2);
	convert();
	assert_segments_match();
	cr_assert_str_eq(fx.v.sh[1].name, ".iram0.text");
	cr_assert_eq(pflags_of(".iram0.text"), PF_R | PF_X);
	cr_assert_str_eq(fx.v.sh[2].name, ".dram0.data");
	cr_assert_eq(pflags_of(".dram0.data"), PF_R | PF_W);
}

Test(image_elf, esp32_other_regions)
{
	synth_init(&fx.s, chip_id("esp32"));
	synth_add_fill(&fx.s, 0x3F800000, 0x10, SYNTH_FILL_RANDOM, 1); /* EXTRAM */
	synth_add_fill(&fx.s, 0x3FF80000, 0x10, SYNTH_FILL_RANDOM, 2); /* RTC_DRAM */
	synth_add_fill(&fx.s, 0x400C0000, 0x10, SYNTH_FILL_RANDOM, 3); /* RTC_IRAM */
	synth_add_fill(&fx.s, 0x50000000, 0x10, SYNTH_FILL_RANDOM, 4); /* RTC_DATA */
	synth_add_fill(&fx.s, 0x40078000, 0x10, SYNTH_FILL_RANDOM, 5); /* CACHE_APP */
	synth_add_fill(&fx.s, 0x400A0000, 0x10, SYNTH_FILL_RANDOM, 6); /* DIRAM_IRAM */
	convert();
	assert_segments_match();
	cr_assert_str_eq(fx.v.sh[1].name, ".ext_ram.data");
	cr_assert_str_eq(fx.v.sh[2].name, ".rtc.data");
	cr_assert_str_eq(fx.v.sh[3].name, ".rtc.text");
	cr_assert_str_eq(fx.v.sh[4].name, ".rtc.data.1");
	cr_assert_str_eq(fx.v.sh[5].name, ".iram_loader.text");
	cr_assert_str_eq(fx.v.sh[6].name, ".iram0.text");
	cr_assert_eq(pflags_of(".ext_ram.data"), PF_R | PF_W);
	cr_assert_eq(pflags_of(".rtc.text"), PF_R | PF_X);
	cr_assert_eq(pflags_of(".iram_loader.text"), PF_R | PF_X);
}

/* ------------------------------------------------------------ names */

Test(image_elf, repeated_names_get_suffixes)
{
	synth_init(&fx.s, chip_id("esp32"));
	synth_add_fill(&fx.s, 0x40080000, 0x20, SYNTH_FILL_RANDOM, 1);
	synth_add_fill(&fx.s, 0x3F400020, 0x20, SYNTH_FILL_RANDOM, 2);
	synth_add_fill(&fx.s, 0x40081000, 0x20, SYNTH_FILL_RANDOM, 3);
	synth_add_fill(&fx.s, 0x40082000, 0x20, SYNTH_FILL_RANDOM, 4);
	convert();
	assert_segments_match();
	cr_assert_str_eq(fx.v.sh[1].name, ".iram0.text");
	cr_assert_str_eq(fx.v.sh[2].name, ".flash.rodata");
	cr_assert_str_eq(fx.v.sh[3].name, ".iram0.text.1");
	cr_assert_str_eq(fx.v.sh[4].name, ".iram0.text.2");
	/* The library call gives the base name. */
	cr_assert_str_eq(espimg_image_segment_section(fx.img, 3), ".iram0.text");
}

Test(image_elf, unknown_region_named_by_index)
{
	synth_init(&fx.s, chip_id("esp32"));
	synth_add_fill(&fx.s, 0x3F400020, 0x20, SYNTH_FILL_RANDOM, 1);
	synth_add(&fx.s, 0, NULL, 0x10);
	synth_add_fill(&fx.s, 0x60000000, 0x20, SYNTH_FILL_RANDOM, 2);
	convert();
	assert_segments_match();
	cr_assert_eq(fx.img->segments[2].mem_type_count, 0);
	cr_assert_str_eq(espimg_image_segment_section(fx.img, 2), ".seg2");
	cr_assert_str_eq(fx.v.sh[2].name, ".seg2");
	cr_assert_eq(pflags_of(".seg2"), PF_R | PF_W | PF_X);
	cr_assert_eq(section(&fx.v, ".seg2")->flags,
		     SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR);
}

Test(image_elf, padding_section_name)
{
	synth_init(&fx.s, chip_id("esp32"));
	synth_add(&fx.s, 0, NULL, 0x40);
	synth_add_fill(&fx.s, 0x100, 0x10, SYNTH_FILL_RANDOM, 1); /* in PADDING */
	convert();
	assert_segments_match();
	cr_assert_str_eq(espimg_image_segment_section(fx.img, 0), ".padding");
	cr_assert_eq(fx.v.phnum, 1, "address 0 left out, 0x100 kept");
	cr_assert_str_eq(fx.v.sh[1].name, ".padding");
	cr_assert_eq(pflags_of(".padding"), PF_R);
}

Test(image_elf, section_name_bounds)
{
	synth_init(&fx.s, chip_id("esp32"));
	synth_add_fill(&fx.s, 0x3F400020, 0x20, SYNTH_FILL_RANDOM, 1);
	parse();
	cr_assert_not_null(espimg_image_segment_section(fx.img, 0));
	cr_assert_null(espimg_image_segment_section(fx.img, 1));
	cr_assert_null(espimg_image_segment_section(fx.img, (size_t)-1));
	cr_assert_null(espimg_image_segment_section(NULL, 0));
}

/* ------------------------------------------------------------ layout */

Test(image_elf, unaligned_and_empty_segments)
{
	synth_init(&fx.s, chip_id("esp32"));
	synth_add_fill(&fx.s, 0x3FFB0001, 0x13, SYNTH_FILL_RANDOM, 1);
	synth_add_fill(&fx.s, 0x3FFB1003, 0x05, SYNTH_FILL_RANDOM, 2);
	synth_add(&fx.s, 0x40080000, NULL, 0);
	synth_add_fill(&fx.s, 0x400D0022, 0x31, SYNTH_FILL_RANDOM, 3);
	convert();
	assert_segments_match();
	cr_assert_eq(load_at(&fx.v, 0x40080000, 0)->filesz, 0);
	cr_assert_eq(section(&fx.v, ".dram0.data")->align, 1,
		     "sh_addralign 1 for an unaligned address");
	cr_assert_eq(section(&fx.v, ".iram0.text")->align, 4);
}

Test(image_elf, only_padding)
{
	synth_init(&fx.s, chip_id("esp32c3"));
	synth_add(&fx.s, 0, NULL, 0x20);
	convert();
	cr_assert_eq(fx.v.phnum, 0);
	cr_assert_eq(fx.v.phoff, 0, "no program header table");
	cr_assert_eq(fx.v.shnum, 2);
	assert_segments_match();
}

Test(image_elf, sixteen_segments)
{
	synth_init(&fx.s, chip_id("esp32s2"));
	for (unsigned i = 0; i < 16; i++)
		synth_add_fill(&fx.s, 0x3FFB0000 + 0x1000 * (15 - i), 0x10 + i,
			       SYNTH_FILL_RANDOM, i);
	convert();
	assert_segments_match();
	cr_assert_str_eq(fx.v.sh[16].name, ".dram0.data.15");
}

/* The image inside a larger source: bytes come from offset + data_offset. */
Test(image_elf, image_at_an_offset)
{
	espimg_image_opts o = { .offset = 0x1000 };
	uint8_t *big;
	int rc;

	synth_init(&fx.s, chip_id("esp32c3"));
	synth_add_fill(&fx.s, 0x3C000020, 0x40, SYNTH_FILL_RANDOM, 1);
	synth_add_fill(&fx.s, 0x40380000, 0x40, SYNTH_FILL_RANDOM, 2);
	cr_assert_eq(synth_finish(&fx.s, &fx.bin, &fx.binlen), 0);
	big = malloc(0x1000 + fx.binlen);
	cr_assert_not_null(big);
	memset(big, 0xA5, 0x1000);
	memcpy(big + 0x1000, fx.bin, fx.binlen);
	free(fx.bin);
	fx.bin = big;
	fx.binlen += 0x1000;
	espimg_source_mem(&fx.src, fx.bin, fx.binlen);
	rc = espimg_image_read(&fx.src, &o, &fx.img, NULL);
	cr_assert_eq(rc, ESPIMG_OK);
	rc = espimg_image_to_elf(fx.img, &fx.src, &fx.elf, &fx.elflen);
	cr_assert_eq(rc, ESPIMG_OK);
	elf_read(&fx.v, fx.elf, fx.elflen);
	assert_segments_match();
}

/* ------------------------------------------------------------ errors */

Test(image_elf, null_arguments)
{
	static uint8_t dummy;
	uint8_t *elf = &dummy;
	size_t len = 7;

	synth_init(&fx.s, chip_id("esp32"));
	synth_add_fill(&fx.s, 0x3F400020, 0x20, SYNTH_FILL_RANDOM, 1);
	parse();
	cr_assert_eq(espimg_image_to_elf(NULL, &fx.src, &elf, &len), ESPIMG_EINVAL);
	cr_assert_null(elf, "*elf cleared on failure");
	cr_assert_eq(len, 0);
	cr_assert_eq(espimg_image_to_elf(fx.img, NULL, &elf, &len), ESPIMG_EINVAL);
	cr_assert_eq(espimg_image_to_elf(fx.img, &fx.src, NULL, &len), ESPIMG_EINVAL);
	cr_assert_eq(espimg_image_to_elf(fx.img, &fx.src, &elf, NULL), ESPIMG_EINVAL);
}

/* A truncated image (stops inside segment 1) was not read through its
 * segments. */
Test(image_elf, truncated_image_refused)
{
	espimg_image_opts o = { 0 };
	espimg_source cut;
	uint8_t *elf = NULL;
	size_t len = 0;
	int rc;

	synth_init(&fx.s, chip_id("esp32"));
	synth_add_fill(&fx.s, 0x3F400020, 0x20, SYNTH_FILL_RANDOM, 1);
	synth_add_fill(&fx.s, 0x40080000, 0x40, SYNTH_FILL_RANDOM, 2);
	cr_assert_eq(synth_finish(&fx.s, &fx.bin, &fx.binlen), 0);
	espimg_source_mem(&cut, fx.bin, fx.s.seg[1].data_offset + 4);
	rc = espimg_image_read(&cut, &o, &fx.img, NULL);
	cr_assert_eq(rc, ESPIMG_EFORMAT);
	cr_assert_not_null(fx.img);
	cr_assert_lt(fx.img->stage, ESPIMG_STAGE_SEGMENTS);
	cr_assert_eq(espimg_image_to_elf(fx.img, &cut, &elf, &len), ESPIMG_EINVAL);
	cr_assert_null(elf);
}

Test(image_elf, no_chip_refused)
{
	espimg_image *copy;
	uint8_t *elf = NULL;
	size_t len = 0;

	synth_init(&fx.s, chip_id("esp32"));
	synth_add_fill(&fx.s, 0x3F400020, 0x20, SYNTH_FILL_RANDOM, 1);
	parse();
	copy = malloc(sizeof(*copy));
	cr_assert_not_null(copy);
	memcpy(copy, fx.img, sizeof(*copy));
	copy->chip = NULL;
	cr_assert_eq(espimg_image_to_elf(copy, &fx.src, &elf, &len), ESPIMG_EINVAL);
	cr_assert_null(elf);
	free(copy);
}

/* A source shorter than the parsed image (not the one it came from). */
Test(image_elf, short_source_refused)
{
	espimg_source cut;
	uint8_t *elf = NULL;
	size_t len = 0;

	synth_init(&fx.s, chip_id("esp32"));
	synth_add_fill(&fx.s, 0x3F400020, 0x20, SYNTH_FILL_RANDOM, 1);
	synth_add_fill(&fx.s, 0x40080000, 0x40, SYNTH_FILL_RANDOM, 2);
	parse();
	espimg_source_mem(&cut, fx.bin, fx.s.seg[1].data_offset + 0x3F);
	cr_assert_eq(espimg_image_to_elf(fx.img, &cut, &elf, &len), ESPIMG_EINVAL);
	cr_assert_null(elf);
	/* A padding segment's bytes are not needed. */
}

static int fail_read(void *ctx, uint64_t off, void *buf, size_t len, size_t *got)
{
	const espimg_source *inner = ctx;

	if (off >= 0x30)
		return ESPIMG_EIO;
	return inner->read_at(inner->ctx, off, buf, len, got);
}

static int short_read(void *ctx, uint64_t off, void *buf, size_t len, size_t *got)
{
	*got = 0; /* claims the end of the source everywhere */
	return 0;
}

Test(image_elf, source_errors_passed_on)
{
	espimg_source bad;
	uint8_t *elf = NULL;
	size_t len = 0;

	synth_init(&fx.s, chip_id("esp32"));
	synth_add_fill(&fx.s, 0x3F400020, 0x20, SYNTH_FILL_RANDOM, 1);
	synth_add_fill(&fx.s, 0x40080000, 0x40, SYNTH_FILL_RANDOM, 2);
	parse();
	bad = fx.src;
	bad.read_at = fail_read;
	bad.ctx = &fx.src;
	cr_assert_eq(espimg_image_to_elf(fx.img, &bad, &elf, &len), ESPIMG_EIO);
	cr_assert_null(elf);
	cr_assert_eq(len, 0);
	bad.read_at = short_read;
	cr_assert_eq(espimg_image_to_elf(fx.img, &bad, &elf, &len), ESPIMG_EIO);
	cr_assert_null(elf);
}

/* ------------------------------------------------------------ readelf */

/* readelf -a on odd layouts: exit 0, no stderr, no "Warning". */
Test(image_elf, readelf_accepts_odd_layouts)
{
	char *dir, *path, cmd[512], line[512];
	FILE *p;
	int st, warn = 0;

	if (system("command -v readelf >/dev/null 2>&1") != 0)
		cr_skip_test("readelf not installed (scripts/deps.sh test)");
	synth_init(&fx.s, chip_id("esp32c6"));
	synth_add_fill(&fx.s, 0x42008021, 0x13, SYNTH_FILL_RANDOM, 1);
	synth_add(&fx.s, 0, NULL, 0x10);
	synth_add(&fx.s, 0x40800000, NULL, 0);
	synth_add_fill(&fx.s, 0x40800000, 0x21, SYNTH_FILL_RANDOM, 2);
	synth_add_fill(&fx.s, 0x40800002, 0x21, SYNTH_FILL_RANDOM, 3);
	synth_add_fill(&fx.s, 0x60000000, 0x8, SYNTH_FILL_RANDOM, 4);
	synth_add_fill(&fx.s, 0xFFFFFFF0, 0x10, SYNTH_FILL_RANDOM, 5);
	convert();
	assert_segments_match();
	dir = fx_tmpdir();
	cr_assert_not_null(dir);
	path = fx_path(dir, "t.elf");
	cr_assert_eq(fx_write_file(path, fx.elf, fx.elflen), 0);
	snprintf(cmd, sizeof(cmd), "readelf -a '%s' 2>&1 >/dev/null | head -c 1 | wc -c", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_not_null(fgets(line, sizeof(line), p));
	pclose(p);
	cr_assert_eq(atoi(line), 0, "readelf -a printed something on stderr");
	snprintf(cmd, sizeof(cmd), "readelf -a '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p))
		if (strstr(line, "Warning") || strstr(line, "warning"))
			warn = 1;
	st = pclose(p);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "readelf -a exit status");
	cr_assert_eq(warn, 0, "readelf -a printed a warning");
	fx_rmtree(dir);
	free(dir);
	free(path);
}
