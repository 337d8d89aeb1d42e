/*
 * image_elf.c - an ELF32 executable rebuilt from an image's segments, for
 * disassemblers, debuggers and emulators.
 *
 * Layout of the output:
 *
 *   ELF header (52 bytes)
 *   program headers, one PT_LOAD per segment with a non-zero load address,
 *     sorted by address (gABI: loadable entries ascend by p_vaddr)
 *   segment data in image order, each at a file offset congruent to its
 *     load address modulo 4 (so p_offset % p_align == p_vaddr % p_align)
 *   .shstrtab contents
 *   section headers: the null section, one SHT_PROGBITS section per
 *     included segment (image order), .shstrtab
 *
 * Field values follow the System V gABI (ELF32) and the psABIs of the two
 * architectures; e_flags are what ESP-IDF's own toolchains write (see
 * elf_flags()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/image.h"
#include "internal.h"

/* ------------------------------------------------------------ ELF constants */

/* System V gABI, ELF32 (glibc elf.h spells the same values). */
#define EI_NIDENT 16
#define ELFCLASS32 1
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_XTENSA 94
#define EM_RISCV 243
#define PT_LOAD 1
#define PF_X 0x1u
#define PF_W 0x2u
#define PF_R 0x4u
#define SHT_PROGBITS 1
#define SHT_STRTAB 3
#define SHF_WRITE 0x1u
#define SHF_ALLOC 0x2u
#define SHF_EXECINSTR 0x4u

#define EHDR_SIZE 52u
#define PHDR_SIZE 32u
#define SHDR_SIZE 40u
#define SEG_ALIGN 4u

/* Xtensa: what xtensa-esp-elf-gcc writes in every ESP-IDF ELF
 * (EF_XTENSA_XT_INSN | EF_XTENSA_XT_LIT, binutils include/elf/xtensa.h). */
#define EF_XTENSA_ESP 0x300u
/* RISC-V psABI: compressed instructions; float ABI soft (0) or single (2). */
#define EF_RISCV_RVC 0x1u
#define EF_RISCV_FLOAT_ABI_SINGLE 0x2u

/* ------------------------------------------------------------ section names */

/*
 * Memory type -> section name and access rights. The names are the output
 * sections ESP-IDF's linker scripts place in those regions
 * (components/esp_system/ld/<chip>/sections.ld.in; the CACHE_PRO/CACHE_APP
 * name is the bootloader's iram_loader_seg output section,
 * components/bootloader/subproject/main/ld/esp32/bootloader.sections.ld.in).
 * Types not listed (MEM_INTERNAL, MEM_INTERNAL2, the ROM masks, ...) span
 * several kinds of memory and say nothing on their own.
 */
static const struct {
	const char *type;
	const char *section;
	unsigned pflags;
} type_map[] = {
	{ "DROM", ".flash.rodata", PF_R },
	{ "IROM", ".flash.text", PF_R | PF_X },
	{ "IRAM", ".iram0.text", PF_R | PF_X },
	{ "DIRAM_IRAM", ".iram0.text", PF_R | PF_X },
	{ "CACHE_PRO", ".iram_loader.text", PF_R | PF_X },
	{ "CACHE_APP", ".iram_loader.text", PF_R | PF_X },
	{ "DRAM", ".dram0.data", PF_R | PF_W },
	{ "BYTE_ACCESSIBLE", ".dram0.data", PF_R | PF_W },
	{ "DIRAM_DRAM", ".dram0.data", PF_R | PF_W },
	{ "RTC_IRAM", ".rtc.text", PF_R | PF_X },
	{ "RTC_DRAM", ".rtc.data", PF_R | PF_W },
	{ "RTC_DATA", ".rtc.data", PF_R | PF_W },
	{ "EXTRAM_DATA", ".ext_ram.data", PF_R | PF_W },
	{ "PADDING", ".padding", PF_R },
};

/* ".seg0" .. ".seg254": the name of a segment without a known memory type
 * (the segment array holds at most 255). */
#define SEGN(p, d) ".seg" #p #d
#define SEGN10(p)                                                        \
	SEGN(p, 0), SEGN(p, 1), SEGN(p, 2), SEGN(p, 3), SEGN(p, 4),     \
	SEGN(p, 5), SEGN(p, 6), SEGN(p, 7), SEGN(p, 8), SEGN(p, 9)
static const char *const seg_names[] = {
	SEGN10(), SEGN10(1), SEGN10(2), SEGN10(3), SEGN10(4), SEGN10(5),
	SEGN10(6), SEGN10(7), SEGN10(8), SEGN10(9), SEGN10(10), SEGN10(11),
	SEGN10(12), SEGN10(13), SEGN10(14), SEGN10(15), SEGN10(16),
	SEGN10(17), SEGN10(18), SEGN10(19), SEGN10(20), SEGN10(21),
	SEGN10(22), SEGN10(23), SEGN10(24),
	SEGN(25, 0), SEGN(25, 1), SEGN(25, 2), SEGN(25, 3), SEGN(25, 4),
};
_Static_assert(ESPIMG_ARRAY_SIZE(seg_names) ==
		       ESPIMG_ARRAY_SIZE(((espimg_image *)0)->segments),
	       "one .segN name per segment slot");

static size_t seg_type_count(const espimg_image_segment *seg)
{
	size_t n = seg->mem_type_count;

	return n < ESPIMG_ARRAY_SIZE(seg->mem_types) ? n
						      : ESPIMG_ARRAY_SIZE(seg->mem_types);
}

static int type_index(const char *type)
{
	size_t i;

	if (!type)
		return -1;
	for (i = 0; i < ESPIMG_ARRAY_SIZE(type_map); i++)
		if (!strcmp(type, type_map[i].type))
			return (int)i;
	return -1;
}

const char *espimg_image_segment_section(const espimg_image *img,
					 size_t index)
{
	const espimg_image_segment *seg;
	size_t i;
	int t;

	if (!img || index >= img->nsegments || index >= ESPIMG_ARRAY_SIZE(seg_names))
		return NULL;
	seg = &img->segments[index];
	for (i = 0; i < seg_type_count(seg); i++) {
		t = type_index(seg->mem_types[i]);
		if (t >= 0)
			return type_map[t].section;
	}
	return seg_names[index];
}

/* p_flags: the union over every known type of the segment (an address in a
 * window that is both code and data, as DROM+IROM on the C6, gets both
 * rights); R+W+X when no type is known. */
static unsigned segment_pflags(const espimg_image_segment *seg)
{
	unsigned f = 0;
	size_t i;
	int t;

	for (i = 0; i < seg_type_count(seg); i++) {
		t = type_index(seg->mem_types[i]);
		if (t >= 0)
			f |= type_map[t].pflags;
	}
	return f ? f : PF_R | PF_W | PF_X;
}

static uint32_t elf_flags(const espimg_chip *chip)
{
	/* ESP-IDF builds with -mabi=ilp32f where the core has an FPU
	 * (components/soc/project_include.cmake, SOC_CPU_HAS_FPU in
	 * components/soc/<chip>/include/soc/soc_caps.h): P4, H4, S31. The
	 * others use ilp32 (esptool's test/elf2image/esp32c6-appdesc.elf:
	 * 0x1). */
	static const char *const fpu_riscv[] = { "esp32p4", "esp32h4", "esp32s31" };
	size_t i;

	if (chip->arch == ESPIMG_ARCH_XTENSA)
		return EF_XTENSA_ESP;
	for (i = 0; i < ESPIMG_ARRAY_SIZE(fpu_riscv); i++)
		if (!strcmp(chip->key, fpu_riscv[i]))
			return EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_SINGLE;
	return EF_RISCV_RVC;
}

/* ------------------------------------------------------------ writer */

/* One included segment. */
typedef struct elf_part {
	size_t seg;        /* index in img->segments */
	uint32_t offset;   /* file offset of its data */
	uint32_t name;     /* offset of its name in .shstrtab */
	unsigned pflags;
	char suffix[24];   /* ".1", ".2", ... when the base name repeats */
} elf_part;

static void put_phdr(uint8_t *p, const espimg_image_segment *seg,
		     const elf_part *part)
{
	espimg_put_le32(p + 0, PT_LOAD);
	espimg_put_le32(p + 4, part->offset);
	espimg_put_le32(p + 8, seg->load_addr);  /* p_vaddr */
	espimg_put_le32(p + 12, seg->load_addr); /* p_paddr */
	espimg_put_le32(p + 16, seg->length);    /* p_filesz */
	espimg_put_le32(p + 20, seg->length);    /* p_memsz */
	espimg_put_le32(p + 24, part->pflags);
	espimg_put_le32(p + 28, SEG_ALIGN);
}

static void put_shdr(uint8_t *p, uint32_t name, uint32_t type, uint32_t flags,
		     uint32_t addr, uint32_t offset, uint32_t size,
		     uint32_t align)
{
	espimg_put_le32(p + 0, name);
	espimg_put_le32(p + 4, type);
	espimg_put_le32(p + 8, flags);
	espimg_put_le32(p + 12, addr);
	espimg_put_le32(p + 16, offset);
	espimg_put_le32(p + 20, size);
	espimg_put_le32(p + 24, 0); /* sh_link */
	espimg_put_le32(p + 28, 0); /* sh_info */
	espimg_put_le32(p + 32, align);
	espimg_put_le32(p + 36, 0); /* sh_entsize */
}

/* Reads exactly len bytes at off; a short source is ESPIMG_EIO. */
static int read_exact(const espimg_source *src, uint64_t off, uint8_t *buf,
		      size_t len)
{
	size_t got;
	int rc;

	while (len) {
		got = 0;
		rc = src->read_at(src->ctx, off, buf, len, &got);
		if (rc < 0)
			return rc;
		if (got == 0 || got > len)
			return ESPIMG_EIO;
		off += got;
		buf += got;
		len -= got;
	}
	return ESPIMG_OK;
}

/* Sorts part indices by load address, then image order (insertion sort:
 * at most 255 entries). */
static void sort_by_addr(const espimg_image *img, const elf_part *parts,
			 size_t *order, size_t n)
{
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		k = order[i];
		for (j = i; j > 0; j--) {
			const elf_part *a = &parts[order[j - 1]];
			const elf_part *b = &parts[k];
			uint32_t aa = img->segments[a->seg].load_addr;
			uint32_t ba = img->segments[b->seg].load_addr;

			if (aa < ba || (aa == ba && a->seg < b->seg))
				break;
			order[j] = order[j - 1];
		}
		order[j] = k;
	}
}

int espimg_image_to_elf(const espimg_image *img, const espimg_source *src,
			uint8_t **elf, size_t *len)
{
	elf_part parts[ESPIMG_ARRAY_SIZE(((espimg_image *)0)->segments)];
	size_t order[ESPIMG_ARRAY_SIZE(parts)];
	const espimg_image_segment *seg;
	size_t n = 0, nseg, i, j, dup;
	uint64_t pos, data_end, strtab_off, strtab_size, shoff, total;
	uint32_t shstrtab_name;
	uint8_t *out, *p;
	int rc;

	if (elf)
		*elf = NULL;
	if (len)
		*len = 0;
	if (!img || !src || !src->read_at || !elf || !len || !img->chip ||
	    img->stage < ESPIMG_STAGE_SEGMENTS)
		return ESPIMG_EINVAL;
	nseg = img->nsegments;
	if (nseg > ESPIMG_ARRAY_SIZE(parts))
		return ESPIMG_EINVAL;

	/* Pick the segments, give each a unique name and a file offset. */
	pos = EHDR_SIZE;
	for (i = 0; i < nseg; i++)
		if (img->segments[i].load_addr != 0)
			pos += PHDR_SIZE;
	strtab_size = 1; /* the empty name */
	for (i = 0; i < nseg; i++) {
		elf_part *part = &parts[n];
		const char *name;
		uint64_t end;

		seg = &img->segments[i];
		if (seg->load_addr == 0)
			continue;
		/* The bytes must be in the source (a source other than the
		 * one parsed could be shorter). */
		if (img->offset > UINT64_MAX - seg->length ||
		    seg->data_offset > UINT64_MAX - img->offset - seg->length)
			return ESPIMG_EINVAL;
		end = img->offset + seg->data_offset + seg->length;
		if (end > src->size)
			return ESPIMG_EINVAL;

		memset(part, 0, sizeof(*part));
		part->seg = i;
		part->pflags = segment_pflags(seg);
		name = espimg_image_segment_section(img, i);
		dup = 0;
		for (j = 0; j < n; j++)
			if (!strcmp(espimg_image_segment_section(img, parts[j].seg),
				    name))
				dup++;
		if (dup)
			snprintf(part->suffix, sizeof(part->suffix), ".%zu", dup);
		part->name = (uint32_t)strtab_size;
		strtab_size += strlen(name) + strlen(part->suffix) + 1;

		pos += (seg->load_addr - pos) & (SEG_ALIGN - 1);
		part->offset = (uint32_t)pos; /* checked against UINT32_MAX below */
		pos += seg->length;
		if (pos > UINT32_MAX)
			return ESPIMG_ETOOBIG;
		order[n] = n;
		n++;
	}
	data_end = pos;
	strtab_off = data_end;
	shstrtab_name = (uint32_t)strtab_size;
	strtab_size += sizeof(".shstrtab");
	shoff = (strtab_off + strtab_size + 3) & ~(uint64_t)3;
	total = shoff + (uint64_t)(n + 2) * SHDR_SIZE;
	if (total > UINT32_MAX || total > SIZE_MAX)
		return ESPIMG_ETOOBIG;

	out = calloc(1, (size_t)total);
	if (!out)
		return ESPIMG_ENOMEM;

	/* ELF header. */
	out[0] = 0x7f;
	out[1] = 'E';
	out[2] = 'L';
	out[3] = 'F';
	out[4] = ELFCLASS32;
	out[5] = ELFDATA2LSB;
	out[6] = EV_CURRENT;
	/* EI_OSABI 0 (System V), EI_ABIVERSION 0, as ESP-IDF's ELFs. */
	espimg_put_le16(out + 16, ET_EXEC);
	espimg_put_le16(out + 18, img->chip->arch == ESPIMG_ARCH_XTENSA
					  ? EM_XTENSA : EM_RISCV);
	espimg_put_le32(out + 20, EV_CURRENT);
	espimg_put_le32(out + 24, img->entry_addr);
	espimg_put_le32(out + 28, n ? EHDR_SIZE : 0); /* e_phoff */
	espimg_put_le32(out + 32, (uint32_t)shoff);
	espimg_put_le32(out + 36, elf_flags(img->chip));
	espimg_put_le16(out + 40, EHDR_SIZE);
	espimg_put_le16(out + 42, PHDR_SIZE);
	espimg_put_le16(out + 44, (uint16_t)n);
	espimg_put_le16(out + 46, SHDR_SIZE);
	espimg_put_le16(out + 48, (uint16_t)(n + 2));
	espimg_put_le16(out + 50, (uint16_t)(n + 1)); /* e_shstrndx */

	/* Program headers, by address. */
	sort_by_addr(img, parts, order, n);
	for (i = 0; i < n; i++)
		put_phdr(out + EHDR_SIZE + i * PHDR_SIZE,
			 &img->segments[parts[order[i]].seg], &parts[order[i]]);

	/* Segment data. */
	for (i = 0; i < n; i++) {
		seg = &img->segments[parts[i].seg];
		rc = read_exact(src, img->offset + seg->data_offset,
				out + parts[i].offset, seg->length);
		if (rc < 0) {
			free(out);
			return rc;
		}
	}

	/* .shstrtab: "", the section names, ".shstrtab". */
	p = out + strtab_off + 1;
	for (i = 0; i < n; i++) {
		const char *name = espimg_image_segment_section(img, parts[i].seg);
		size_t a = strlen(name), b = strlen(parts[i].suffix);

		memcpy(p, name, a);
		memcpy(p + a, parts[i].suffix, b);
		p += a + b + 1;
	}
	memcpy(p, ".shstrtab", sizeof(".shstrtab"));

	/* Section headers (the first, SHN_UNDEF, stays zero). */
	p = out + shoff + SHDR_SIZE;
	for (i = 0; i < n; i++, p += SHDR_SIZE) {
		uint32_t f = SHF_ALLOC;

		seg = &img->segments[parts[i].seg];
		if (parts[i].pflags & PF_W)
			f |= SHF_WRITE;
		if (parts[i].pflags & PF_X)
			f |= SHF_EXECINSTR;
		put_shdr(p, parts[i].name, SHT_PROGBITS, f, seg->load_addr,
			 parts[i].offset, seg->length,
			 seg->load_addr % SEG_ALIGN ? 1 : SEG_ALIGN);
	}
	put_shdr(p, shstrtab_name, SHT_STRTAB, 0, 0, (uint32_t)strtab_off,
		 (uint32_t)strtab_size, 1);

	*elf = out;
	*len = (size_t)total;
	return ESPIMG_OK;
}
