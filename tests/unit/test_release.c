/*
 * test_release.c - espimg_release_plan: the primary example (a 4 MB ESP32
 * with partitions_ota_user.csv booting ota_1) planned, merged and read
 * back with espimg_flash_locate and espimg_otadata_boot; every refusal
 * with its code and manifest line:column; the summary, the argument file;
 * and the eight esptool merge-bin outputs of the corpus (raw, hex, uf2)
 * rebuilt byte for byte from plain-merge manifests.
 *
 * Manifests are YAML texts read by espimg_manifest_parse (a few filled
 * in by hand, for what the reader refuses itself); files come from an
 * in-memory loader.
 */
#include <criterion/criterion.h>

#include "fixtures.h"
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"
#include "espimg/flash.h"
#include "espimg/manifest.h"
#include "espimg/merge.h"
#include "espimg/otadata.h"
#include "espimg/ptable.h"
#include "espimg/release.h"
#include "synth.h"

#define MFILE "rel/release.yaml"
#define PRIMARY_CSV "partitions/partitions_ota_user.csv"

/* ------------------------------------------------------------ files */

#define FS_MAX 16
struct memfs {
	size_t n;
	char *name[FS_MAX];
	uint8_t *data[FS_MAX];
	size_t len[FS_MAX];
	unsigned loads;
};

/* Adds a file (takes data). */
static void fs_add(struct memfs *fs, const char *name, uint8_t *data,
		   size_t len)
{
	cr_assert_lt(fs->n, FS_MAX);
	fs->name[fs->n] = strdup(name);
	fs->data[fs->n] = data;
	fs->len[fs->n] = len;
	fs->n++;
}

static void fs_add_text(struct memfs *fs, const char *name, const char *text)
{
	fs_add(fs, name, (uint8_t *)strdup(text), strlen(text));
}

static int fs_load(void *ctx, const char *path, uint8_t **data, size_t *len)
{
	struct memfs *fs = ctx;

	fs->loads++;
	for (size_t i = 0; i < fs->n; i++) {
		if (strcmp(fs->name[i], path))
			continue;
		*data = malloc(fs->len[i] ? fs->len[i] : 1);
		if (!*data)
			return ESPIMG_ENOMEM;
		memcpy(*data, fs->data[i], fs->len[i]);
		*len = fs->len[i];
		return 0;
	}
	return ESPIMG_ENOTFOUND;
}

static void fs_free(struct memfs *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->name[i]);
		free(fs->data[i]);
	}
	memset(fs, 0, sizeof(*fs));
}

static const uint8_t *fs_get(const struct memfs *fs, const char *name,
			     size_t *len)
{
	for (size_t i = 0; i < fs->n; i++)
		if (!strcmp(fs->name[i], name)) {
			*len = fs->len[i];
			return fs->data[i];
		}
	cr_assert_fail("no file %s", name);
	return NULL;
}

/* Files under a directory of the corpus. */
static int dir_load(void *ctx, const char *path, uint8_t **data, size_t *len)
{
	char full[1024];

	snprintf(full, sizeof(full), "%s/%s", (const char *)ctx, path);
	return espimg_read_file(full, 64u << 20, data, len);
}

/* ------------------------------------------------------------ images */

/* An app: a DROM segment starting with its esp_app_desc_t, IRAM code and
 * `irom` bytes of IROM code. */
static uint8_t *make_app(const char *chip, const char *project,
			 const char *version, size_t irom, size_t *len)
{
	const synth_chip *c = fx_synth_chip(chip);
	espimg_app_desc d;
	uint8_t drom[512];
	synth_image s;

	synth_init(&s, c->id);
	synth_app_desc_init(&d, project, version);
	synth_fill_bytes(drom, sizeof(drom), SYNTH_FILL_RANDOM, 7);
	synth_app_desc_bytes(&d, drom);
	cr_assert_geq(synth_add(&s, c->drom, drom, sizeof(drom)), 0);
	cr_assert_geq(synth_add_fill(&s, c->iram, 1000, SYNTH_FILL_RANDOM, 1), 0);
	cr_assert_geq(synth_add_fill(&s, c->irom, irom, SYNTH_FILL_RANDOM, 2), 0);
	return fx_synth_finish(&s, len);
}

/* A bootloader with header bytes 2 and 3 (QIO, 2MB and nibble 0xF unless
 * told otherwise) and `extra` more bytes of IRAM code. */
static uint8_t *make_boot(const char *chip, uint8_t mode, uint8_t size_freq,
			  size_t extra, size_t *len)
{
	const synth_chip *c = fx_synth_chip(chip);
	espimg_boot_desc d;
	uint8_t dram[128];
	synth_image s;

	synth_init(&s, c->id);
	s.flash_mode = mode;
	s.flash_size_freq = size_freq;
	synth_boot_desc_init(&d, 3);
	memset(dram, 0, sizeof(dram));
	synth_boot_desc_bytes(&d, dram);
	cr_assert_geq(synth_add_fill(&s, c->iram, 2000 + extra,
				     SYNTH_FILL_RANDOM, 3), 0);
	cr_assert_geq(synth_add(&s, c->dram, dram, sizeof(dram)), 0);
	return fx_synth_finish(&s, len);
}

static uint8_t *pattern(size_t n, uint32_t seed)
{
	uint8_t *p = malloc(n);

	cr_assert_not_null(p);
	synth_fill_bytes(p, n, SYNTH_FILL_COUNT, seed);
	return p;
}

static void add_app(struct memfs *fs, const char *name, const char *chip,
		    const char *version, size_t irom)
{
	size_t len;
	uint8_t *a = make_app(chip, "demo", version, irom, &len);

	fs_add(fs, name, a, len);
}

static void add_boot(struct memfs *fs, const char *name, const char *chip)
{
	size_t len;
	uint8_t *b = make_boot(chip, 0, 0x1F, 0, &len);

	fs_add(fs, name, b, len);
}

static void add_file(struct memfs *fs, const char *name, const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	cr_assert_eq(espimg_read_file(path, 1 << 20, &buf, &len), 0, "%s",
		     path);
	fs_add(fs, name, buf, len);
}

/* asprintf (a GNU extension). */
static int xasprintf(char **out, const char *fmt, ...) ESPIMG_PRINTF(2, 3);

static int xasprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	*out = malloc((size_t)n + 1);
	cr_assert_not_null(*out);
	va_start(ap, fmt);
	vsnprintf(*out, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return n;
}

/* ------------------------------------------------------------ manifests */

/* The manifest a YAML text gives (asserts it parses). */
static espimg_manifest *yaml(const char *text)
{
	espimg_manifest *m = NULL;
	espimg_diag_list *d = espimg_diag_list_new();
	int rc = espimg_manifest_parse(text, strlen(text), MFILE, &m, d);
	char *dump = fx_diag_dump(d);

	cr_assert_eq(rc, 0, "rc %d\n%s\n%s", rc, text, dump);
	cr_assert_not_null(m);
	free(dump);
	espimg_diag_list_free(d);
	return m;
}

/* Where `mark` is written in text: mark is a piece of the text with a
 * '|' before the character whose line and column are wanted. */
static espimg_mpos at(const char *text, const char *mark)
{
	char needle[256];
	const char *bar = strchr(mark, '|'), *hit;
	espimg_mpos pos = { 1, 1 };

	cr_assert_not_null(bar, "%s", mark);
	snprintf(needle, sizeof(needle), "%.*s%s", (int)(bar - mark), mark,
		 bar + 1);
	hit = strstr(text, needle);
	cr_assert_not_null(hit, "'%s' not in\n%s", needle, text);
	cr_assert_null(strstr(hit + 1, needle), "'%s' twice in\n%s", needle,
		       text);
	hit += bar - mark;
	for (const char *c = text; c < hit; c++) {
		if (*c == '\n') {
			pos.line++;
			pos.col = 1;
		} else {
			pos.col++;
		}
	}
	return pos;
}

/* The freq nibble this chip names `name`. */
static int freq_code(const espimg_chip *chip, const char *name)
{
	for (unsigned i = 0; i < 16; i++) {
		const char *n = espimg_chip_flash_freq_name(chip, i);
		if (n && !strcmp(n, name))
			return (int)i;
	}
	cr_assert_fail("no frequency %s", name);
	return -1;
}

/*
 * A manifest filled in by hand, for what the manifest reader refuses
 * itself but the library takes from any caller (a name or boot without a
 * table, pad_to_size: flash without a size).
 */
static espimg_manifest *by_hand(const char *chip)
{
	espimg_manifest *m = calloc(1, sizeof(*m));

	cr_assert_not_null(m);
	m->chip = espimg_chip_by_key(chip);
	m->pos_chip = (espimg_mpos){ 1, 7 };
	m->flash.mode = m->flash.size = m->flash.freq = -1;
	m->table_offset = ESPIMG_PTABLE_DEFAULT_OFFSET;
	m->fill = 0xFF;
	m->uf2_md5 = true;
	return m;
}

static void by_hand_image(espimg_manifest *m, unsigned line, const char *name,
			  uint64_t offset, const char *path)
{
	espimg_manifest_image *im = &m->images[m->nimages++];

	im->name = name ? strdup(name) : NULL;
	im->offset = offset;
	im->path = strdup(path);
	im->pos_key = (espimg_mpos){ line, 3 };
	im->pos_path = (espimg_mpos){ line, 12 };
}

/* ------------------------------------------------------------ planning */

static espimg_release *plan_ok(const espimg_manifest *m, struct memfs *fs,
			       espimg_diag_list *d)
{
	espimg_release *r = NULL;
	int rc = espimg_release_plan(m, MFILE, fs_load, fs, &r, d);
	char *dump = fx_diag_dump(d);

	cr_assert_eq(rc, 0, "rc %d:\n%s", rc, dump);
	cr_assert_eq(espimg_diag_errors(d), 0, "%s", dump);
	cr_assert_not_null(r);
	free(dump);
	return r;
}

/* The plan of m is refused with one error `code` at pos of the manifest. */
static void refused_at(const espimg_manifest *m, struct memfs *fs,
		       const char *code, espimg_mpos pos)
{
	espimg_release *r = (espimg_release *)1;
	espimg_diag_list *d = espimg_diag_list_new();
	int rc = espimg_release_plan(m, MFILE, fs_load, fs, &r, d);
	const espimg_diag *e = fx_diag_find(d, code, ESPIMG_SEV_ERROR);
	char *dump = fx_diag_dump(d);

	cr_assert_eq(rc, ESPIMG_EFORMAT, "rc %d:\n%s", rc, dump);
	cr_assert_null(r);
	cr_assert_not_null(e, "no %s in:\n%s", code, dump);
	cr_assert_str_eq(e->file, MFILE);
	cr_assert(e->line == pos.line && e->column == pos.col,
		  "%s at %u:%u, not %u:%u\n%s", code, e->line, e->column,
		  pos.line, pos.col, dump);
	cr_assert_eq(espimg_diag_errors(d), 1, "%s", dump);
	free(dump);
	espimg_diag_list_free(d);
}

/* The same for a YAML text, the error at `mark` (see at()). */
static void refused(const char *text, struct memfs *fs, const char *code,
		    const char *mark)
{
	espimg_manifest *m = yaml(text);

	refused_at(m, fs, code, at(text, mark));
	espimg_manifest_free(m);
}

static const espimg_release_part *find_part(const espimg_release *r,
					    uint64_t offset)
{
	for (size_t i = 0; i < r->nparts; i++)
		if (r->parts[i].offset == offset)
			return &r->parts[i];
	cr_assert_fail("no part at 0x%llx", (unsigned long long)offset);
	return NULL;
}

static void sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned k;

	cr_assert_eq(EVP_Digest(p, n, out, &k, EVP_sha256(), NULL), 1);
}

/* The primary example, with `flash` as the flash: line (NULL: none) and
 * `output` as the output: line. */
static char *primary_text(const char *flash, const char *output)
{
	char *t = NULL;

	cr_assert_gt(xasprintf(&t,
			      "chip: esp32\n"
			      "%s%s%s"
			      "partition_table: {csv: " PRIMARY_CSV
			      ", offset: 0x8000}\n"
			      "images:\n"
			      "  bootloader: build/bootloader.bin\n"
			      "  ota_0: build/app0.bin\n"
			      "  ota_1: build/app1.bin\n"
			      "  0x9000: build/nvs.bin\n"
			      "boot: ota_1\n"
			      "output: %s\n",
			      flash ? "flash: " : "", flash ? flash : "",
			      flash ? "\n" : "", output), 0);
	return t;
}

static void primary_files(struct memfs *fs)
{
	add_file(fs, PRIMARY_CSV, PRIMARY_CSV);
	add_boot(fs, "build/bootloader.bin", "esp32");
	add_app(fs, "build/app0.bin", "esp32", "1.0", 3000);
	add_app(fs, "build/app1.bin", "esp32", "1.1", 5000);
	fs_add(fs, "build/nvs.bin", pattern(0x4000, 9), 0x4000);
}

/*
 *   chip: esp32
 *   flash: {size: 4MB, mode: dio, freq: 40m}
 *   partition_table: {csv: partitions/partitions_ota_user.csv, offset: 0x8000}
 *   images:
 *     bootloader: build/bootloader.bin
 *     ota_0: build/app0.bin
 *     ota_1: build/app1.bin
 *     0x9000: build/nvs.bin
 *   boot: ota_1
 *   output: {format: raw, pad_to_size: flash}
 */
static espimg_manifest *primary(struct memfs *fs)
{
	char *t = primary_text("{size: 4MB, mode: dio, freq: 40m}",
			       "{format: raw, pad_to_size: flash}");
	espimg_manifest *m = yaml(t);

	free(t);
	primary_files(fs);
	return m;
}

/* ------------------------------------------------------------ example */

Test(release, primary_example_parts)
{
	struct memfs fs = { 0 };
	espimg_manifest *m = primary(&fs);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r = plan_ok(m, &fs, d);
	static const struct {
		uint64_t offset;
		espimg_release_kind kind;
		const char *label, *partition;
		uint64_t partition_size;
	} want[] = {
		{ 0x1000, ESPIMG_RPART_FILE, "bootloader", "", 0x7000 },
		{ 0x8000, ESPIMG_RPART_TABLE, "partition-table", "", 0x1000 },
		{ 0x9000, ESPIMG_RPART_FILE, "0x9000", "nvs", 0x4000 },
		{ 0xD000, ESPIMG_RPART_OTADATA, "otadata", "otadata", 0x2000 },
		{ 0x10000, ESPIMG_RPART_FILE, "ota_0", "ota_0", 0x1C2000 },
		{ 0x1E0000, ESPIMG_RPART_FILE, "ota_1", "ota_1", 0x1C2000 },
	};
	uint8_t digest[32];

	cr_assert_eq(r->nparts, sizeof(want) / sizeof(want[0]));
	cr_assert_eq(r->chip, espimg_chip_by_key("esp32"));
	cr_assert_eq(r->flash_size, 4u << 20);
	cr_assert_str_eq(r->boot, "ota_1");
	cr_assert_not_null(r->table);
	cr_assert_eq(r->table->count, 6);
	for (size_t i = 0; i < r->nparts; i++) {
		const espimg_release_part *p = &r->parts[i];

		cr_assert_eq(p->offset, want[i].offset, "part %zu", i);
		cr_assert_eq(p->kind, want[i].kind, "part %zu", i);
		cr_assert_str_eq(p->label, want[i].label);
		cr_assert_str_eq(p->partition, want[i].partition);
		cr_assert_eq(p->partition_size, want[i].partition_size,
			     "part %zu", i);
		sha256(p->data, p->len, digest);
		cr_assert_arr_eq(p->sha256, digest, 32, "part %zu", i);
		cr_assert_eq(p->path == NULL, p->kind == ESPIMG_RPART_OTADATA);
	}
	cr_assert(r->parts[0].is_bootloader);
	cr_assert(r->parts[0].is_image);
	cr_assert_str_eq(r->parts[0].version, "3");
	cr_assert_str_eq(r->parts[0].idf_ver, "v5.4.1");
	cr_assert_str_eq(r->parts[0].project, "");
	cr_assert_not(r->parts[2].is_image);
	cr_assert_str_eq(r->parts[4].project, "demo");
	cr_assert_str_eq(r->parts[4].version, "1.0");
	cr_assert_str_eq(r->parts[5].version, "1.1");
	cr_assert(r->parts[5].is_image);
	cr_assert_not(r->parts[5].is_bootloader);
	cr_assert_eq(r->parts[0].pos.line, 5);
	cr_assert_eq(r->parts[1].pos.line, 3);
	cr_assert_eq(r->parts[3].pos.line, 9);

	/* The merge options: raw, padded to the 4 MB flash, the bootloader
	 * already patched. */
	cr_assert_eq(r->merge.chip, r->chip);
	cr_assert_eq(r->merge.format, ESPIMG_OUT_RAW);
	cr_assert_eq(r->merge.fill, 0xFF);
	cr_assert_eq(r->merge.pad_to_size, 4u << 20);
	cr_assert_eq(r->merge.target_offset, 0);
	cr_assert_eq(r->merge.flash.mode, -1);
	cr_assert_eq(r->merge.flash.size, -1);
	cr_assert_eq(r->merge.flash.freq, -1);
	cr_assert_eq(r->flash.mode, 2);
	cr_assert_eq(r->flash.size, 2);

	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* The table part is gen_esp32part's binary of the CSV. */
Test(release, primary_example_table)
{
	struct memfs fs = { 0 };
	espimg_manifest *m = primary(&fs);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r = plan_ok(m, &fs, d);
	const espimg_release_part *t = find_part(r, 0x8000);
	espimg_ptable_opts o;
	espimg_ptable *pt = NULL;
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];
	const uint8_t *csv;
	size_t n;

	csv = fs_get(&fs, PRIMARY_CSV, &n);
	espimg_ptable_opts_init(&o);
	o.flash_size = 4u << 20;
	cr_assert_eq(espimg_ptable_parse(csv, n, &o, "t", &pt, NULL), 0);
	cr_assert_eq(espimg_ptable_to_binary(pt, &o, bin, NULL), 0);
	cr_assert_eq(t->len, sizeof(bin));
	cr_assert_arr_eq(t->data, bin, sizeof(bin));
	cr_assert_str_eq(t->path, PRIMARY_CSV);
	espimg_ptable_free(pt);
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* The bootloader carries flash: (DIO, 4MB, 40m) and a SHA-256 that
 * matches its patched bytes. */
Test(release, primary_example_bootloader_patched)
{
	struct memfs fs = { 0 };
	espimg_manifest *m = primary(&fs);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r = plan_ok(m, &fs, d);
	const espimg_release_part *b = find_part(r, 0x1000);
	const espimg_diag *note;
	espimg_image *img = NULL;
	espimg_source src;
	const uint8_t *orig;
	size_t n;

	orig = fs_get(&fs, "build/bootloader.bin", &n);
	cr_assert_eq(orig[2], 0);
	cr_assert_eq(orig[3], 0x1F);
	cr_assert_eq(b->len, n);
	cr_assert_eq(b->data[2], 2);
	cr_assert_eq(b->data[3], 0x20 | freq_code(r->chip, "40m"));
	espimg_source_mem(&src, b->data, b->len);
	cr_assert_eq(espimg_image_read(&src, &(espimg_image_opts){ 0 }, &img,
				       NULL), 0);
	cr_assert(img->checksum_ok);
	cr_assert(img->has_sha256);
	cr_assert(img->sha256_ok);
	cr_assert_neq(memcmp(b->data + img->sha256_offset,
			     orig + img->sha256_offset, 32), 0);
	espimg_image_free(img);
	/* The patch's note points at the bootloader's path. */
	note = fx_diag_find(d, "merge.patched", ESPIMG_SEV_NOTE);
	cr_assert_not_null(note);
	cr_assert_str_eq(note->file, MFILE);
	cr_assert_eq(note->line, 5);
	cr_assert_eq(note->column, 15);
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* The otadata part makes the bootloader load ota_1. */
Test(release, primary_example_otadata_boots_ota_1)
{
	struct memfs fs = { 0 };
	espimg_manifest *m = primary(&fs);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r = plan_ok(m, &fs, d);
	const espimg_release_part *o = find_part(r, 0xD000);
	espimg_otadata_layout l;
	espimg_otadata_config cfg;
	espimg_otadata_boot_result b;
	uint8_t blob[0x2000];

	cr_assert_eq(o->len, sizeof(blob));
	memcpy(blob, o->data, sizeof(blob));
	cr_assert_eq(espimg_otadata_layout_from_ptable(r->table, &l, NULL), 0);
	espimg_otadata_config_init(&cfg);
	cr_assert_eq(espimg_otadata_boot(blob, sizeof(blob), &l, &cfg, &b,
					 NULL), 0);
	cr_assert_eq(b.outcome, ESPIMG_OTADATA_BOOT_LOADED);
	cr_assert_eq(b.loaded, espimg_otadata_find_app(&l, "ota_1"));
	cr_assert_not(b.initial);
	/* With rollback the same record boots ota_1 too. */
	memcpy(blob, o->data, sizeof(blob));
	cfg.rollback = true;
	cr_assert_eq(espimg_otadata_boot(blob, sizeof(blob), &l, &cfg, &b,
					 NULL), 0);
	cr_assert_eq(b.loaded, espimg_otadata_find_app(&l, "ota_1"));
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* Merged through espimg_merge_write: a 4 MB dump espimg_flash_locate
 * reads back with every part at its place. */
Test(release, primary_example_merged_dump)
{
	struct memfs fs = { 0 };
	espimg_manifest *m = primary(&fs);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r = plan_ok(m, &fs, d);
	struct fx_sink out = { 0 };
	espimg_flash *f = NULL;
	espimg_source src;
	uint8_t digest[32];

	cr_assert_eq(espimg_release_write(r, fx_sink_write, &out, d), 0);
	cr_assert_eq(out.len, 4u << 20);
	for (size_t i = 0; i < r->nparts; i++) {
		const espimg_release_part *p = &r->parts[i];

		sha256((const uint8_t *)out.data + p->offset, p->len, digest);
		cr_assert_arr_eq(digest, p->sha256, 32, "part %s", p->label);
	}
	espimg_source_mem(&src, out.data, out.len);
	cr_assert_eq(espimg_flash_locate(&src, &(espimg_flash_opts){ 0 }, &f,
					 NULL), 0);
	cr_assert(f->has_bootloader);
	cr_assert_eq(f->bootloader_offset, 0x1000);
	cr_assert(f->bootloader_offset_ok);
	cr_assert_eq(f->chip, espimg_chip_by_key("esp32"));
	cr_assert_not_null(f->table);
	cr_assert_eq(f->table_offset, 0x8000);
	cr_assert_not(f->table_scanned);
	cr_assert_eq(f->table->count, 6);
	for (size_t i = 0; i < f->table->count; i++) {
		cr_assert_str_eq(f->table->parts[i].name,
				 r->table->parts[i].name);
		cr_assert_eq(f->table->parts[i].offset,
			     r->table->parts[i].offset);
	}
	espimg_flash_free(f);
	fx_sink_free(&out);
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* boot: factory writes an erased otadata; no boot writes none. */
Test(release, boot_factory_and_none)
{
	static const char csv[] =
		"nvs,data,nvs,0x9000,0x4000\n"
		"otadata,data,ota,0xd000,0x2000\n"
		"factory,app,factory,0x10000,0x100000\n"
		"ota_0,app,ota_0,0x110000,0x100000\n";
	static const char text[] =
		"chip: esp32c3\n"
		"partition_table: {csv: t.csv}\n"
		"images: {factory: f.bin}\n"
		"boot: factory\n";
	struct memfs fs = { 0 };
	espimg_manifest *m = yaml(text);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r;
	const espimg_release_part *o;

	fs_add_text(&fs, "t.csv", csv);
	add_app(&fs, "f.bin", "esp32c3", "2.0", 100);
	r = plan_ok(m, &fs, d);
	cr_assert_eq(r->nparts, 3);
	o = find_part(r, 0xD000);
	cr_assert_eq(o->kind, ESPIMG_RPART_OTADATA);
	cr_assert_eq(o->len, 0x2000);
	for (size_t i = 0; i < o->len; i++)
		cr_assert_eq(o->data[i], 0xFF, "byte %zu", i);
	cr_assert_str_eq(r->boot, "factory");
	cr_assert_eq(r->flash_size, 0, "no flash size, no bootloader");
	espimg_release_free(r);

	free(m->boot);
	m->boot = NULL;
	r = plan_ok(m, &fs, d);
	cr_assert_eq(r->nparts, 2);
	cr_assert_str_eq(r->boot, "");
	cr_assert_eq(r->parts[1].offset, 0x10000);
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* A given binary table is placed byte for byte; "bootloader" names the
 * table's bootloader partition when it has one (ESP-IDF v5.4 rows); the
 * flash size comes from the bootloader header without flash:. */
Test(release, binary_table_and_bootloader_row)
{
	static const char csv[] =
		"bootloader,bootloader,primary,N/A,N/A\n"
		"partition_table,partition_table,primary,N/A,N/A\n"
		"factory,app,factory,0x10000,0x100000\n";
	static const char text[] =
		"chip: esp32s3\n"
		"partition_table: {bin: t.bin}\n"
		"images:\n"
		"  bootloader: bl.bin\n"
		"  factory: app.bin\n";
	struct memfs fs = { 0 };
	espimg_manifest *m = yaml(text);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_ptable_opts o;
	espimg_ptable *t = NULL;
	uint8_t *bin = malloc(ESPIMG_PTABLE_SECTOR);
	espimg_release *r;

	cr_assert_not_null(bin);
	espimg_ptable_opts_init(&o);
	o.primary_bootloader_offset = 0;
	cr_assert_eq(espimg_ptable_parse((const uint8_t *)csv, strlen(csv), &o,
					 "t.csv", &t, NULL), 0);
	memset(bin, 0xFF, ESPIMG_PTABLE_SECTOR);
	cr_assert_eq(espimg_ptable_to_binary(t, &o, bin, NULL), 0);
	espimg_ptable_free(t);
	fs_add(&fs, "t.bin", bin, ESPIMG_PTABLE_SECTOR);
	add_boot(&fs, "bl.bin", "esp32s3");
	add_app(&fs, "app.bin", "esp32s3", "1", 100);
	r = plan_ok(m, &fs, d);
	cr_assert_eq(r->nparts, 3);
	cr_assert_eq(r->parts[0].offset, 0);
	cr_assert_str_eq(r->parts[0].partition, "bootloader");
	cr_assert_eq(r->parts[0].partition_size, 0x8000);
	cr_assert(r->parts[0].is_bootloader);
	cr_assert_eq(r->parts[1].kind, ESPIMG_RPART_TABLE);
	cr_assert_str_eq(r->parts[1].partition, "partition_table");
	cr_assert_eq(r->parts[1].len, ESPIMG_PTABLE_SECTOR);
	cr_assert_arr_eq(r->parts[1].data, fs.data[0], ESPIMG_PTABLE_SECTOR);
	cr_assert_eq(r->flash_size, 2u << 20, "from the bootloader header");
	cr_assert_eq(espimg_diag_count(d), 0);
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* csv: naming a binary table is taken by its content, with a warning. */
Test(release, table_kind_by_content)
{
	static const char text[] =
		"chip: esp32\n"
		"partition_table: {csv: t.bin}\n"
		"images: {0x10000: app.bin}\n";
	struct memfs fs = { 0 };
	espimg_manifest *m = yaml(text);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r;
	espimg_ptable_opts o;
	espimg_ptable *t = NULL;
	uint8_t *bin = malloc(ESPIMG_PTABLE_BIN_SIZE);
	const espimg_diag *w;
	const char *csv = "factory,app,factory,0x10000,0x10000\n";

	espimg_ptable_opts_init(&o);
	cr_assert_eq(espimg_ptable_parse((const uint8_t *)csv, strlen(csv), &o,
					 "t.csv", &t, NULL), 0);
	cr_assert_eq(espimg_ptable_to_binary(t, &o, bin, NULL), 0);
	espimg_ptable_free(t);
	fs_add(&fs, "t.bin", bin, ESPIMG_PTABLE_BIN_SIZE);
	add_app(&fs, "app.bin", "esp32", "1", 100);
	r = plan_ok(m, &fs, d);
	w = fx_diag_find(d, "release.table_kind", ESPIMG_SEV_WARNING);
	cr_assert_not_null(w);
	cr_assert_eq(w->line, 2);
	cr_assert_eq(w->column, 24);
	cr_assert_arr_eq(r->parts[0].data, bin, ESPIMG_PTABLE_BIN_SIZE);
	cr_assert_str_eq(r->parts[1].partition, "factory");
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* ------------------------------------------------------------ refusals */

/* A small table for the refusals: a gap from 0x11000 to 0x20000. */
static const char small_csv[] =
	"nvs,data,nvs,0x9000,0x4000\n"
	"otadata,data,ota,0xd000,0x2000\n"
	"phy,data,phy,0xf000,0x1000\n"
	"ota_0,app,ota_0,0x20000,0x20000\n"
	"ota_1,app,ota_1,0x40000,0x20000\n"
	"spiffs,data,spiffs,0x60000,0x10000\n";

/* "chip: CHIP", the small table, then `rest`. */
static char *small(struct memfs *fs, const char *chip, const char *rest)
{
	char *t = NULL;

	if (fs->n == 0 || strcmp(fs->name[0], "t.csv"))
		fs_add_text(fs, "t.csv", small_csv);
	cr_assert_gt(xasprintf(&t, "chip: %s\npartition_table: {csv: t.csv}\n%s",
			      chip, rest), 0);
	return t;
}

/* refused() on small(fs, chip, rest). */
static void small_refused(struct memfs *fs, const char *chip, const char *rest,
			  const char *code, const char *mark)
{
	char *t = small(fs, chip, rest);

	refused(t, fs, code, mark);
	free(t);
}

Test(release, refuse_chip)
{
	struct memfs fs = { 0 };

	add_app(&fs, "c3.bin", "esp32c3", "1", 100);
	small_refused(&fs, "esp32", "images:\n  ota_0: c3.bin\n",
		      "release.chip", "ota_0: |c3.bin");
	fs_free(&fs);
}

Test(release, refuse_chip_bootloader)
{
	struct memfs fs = { 0 };

	add_boot(&fs, "s2.bin", "esp32s2");
	small_refused(&fs, "esp32s3", "images:\n  bootloader: s2.bin\n",
		      "release.chip", "bootloader: |s2.bin");
	fs_free(&fs);
}

Test(release, refuse_chip_esp8266)
{
	static const uint8_t v1[] = { 0xE9, 1, 2, 0x20, 0x00, 0x10, 0x10, 0x40,
				      0x00, 0x00, 0x10, 0x40, 4, 0, 0, 0,
				      1, 2, 3, 4, 0, 0, 0, 0,
				      0, 0, 0, 0, 0, 0, 0, 0 };
	struct memfs fs = { 0 };
	uint8_t *p = malloc(sizeof(v1));

	memcpy(p, v1, sizeof(v1));
	fs_add(&fs, "8266.bin", p, sizeof(v1));
	small_refused(&fs, "esp32", "images:\n  ota_0: 8266.bin\n",
		      "release.chip", "ota_0: |8266.bin");
	fs_free(&fs);
}

/* An app in a data partition, by name and by offset. */
Test(release, refuse_app_in_data_partition)
{
	struct memfs fs = { 0 };

	add_app(&fs, "a.bin", "esp32", "1", 100);
	small_refused(&fs, "esp32", "images:\n  spiffs: a.bin\n",
		      "release.app_slot", "|spiffs: a.bin");
	small_refused(&fs, "esp32", "images:\n  0x9000: a.bin\n",
		      "release.app_slot", "|0x9000: a.bin");
	fs_free(&fs);
}

/* An app inside an app partition, not at its start; an app in a gap. */
Test(release, refuse_app_off_slot)
{
	struct memfs fs = { 0 };

	add_app(&fs, "a.bin", "esp32", "1", 100);
	small_refused(&fs, "esp32", "images:\n  0x30000: a.bin\n",
		      "release.app_slot", "|0x30000");
	small_refused(&fs, "esp32", "images:\n  0x10000: a.bin\n",
		      "release.app_slot", "|0x10000");
	fs_free(&fs);
}

/* Without a table an app must still sit on a 64 KiB boundary. */
Test(release, refuse_app_unaligned_without_table)
{
	static const char bad[] = "chip: esp32c3\nimages:\n  0x18000: a.bin\n";
	static const char good[] = "chip: esp32c3\nimages:\n  0x20000: a.bin\n";
	struct memfs fs = { 0 };
	espimg_manifest *m = yaml(good);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r;

	add_app(&fs, "a.bin", "esp32c3", "1", 100);
	refused(bad, &fs, "release.app_slot", "|0x18000");
	r = plan_ok(m, &fs, d);
	cr_assert_eq(r->nparts, 1);
	cr_assert_null(r->table);
	cr_assert_str_eq(r->parts[0].partition, "");
	cr_assert_eq(r->parts[0].partition_size, 0);
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

Test(release, refuse_too_big)
{
	struct memfs fs = { 0 };
	char *t = small(&fs, "esp32", "images:\n  ota_0: a.bin\n");
	espimg_manifest *m = yaml(t);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r;
	size_t len;

	/* 0x20000 bytes fit ota_0 exactly; one more does not. */
	add_app(&fs, "a.bin", "esp32", "1", 100);
	cr_assert_eq(synth_append(&fs.data[1], &fs.len[1], 0xFF,
				  0x20000 - fs.len[1]), 0);
	r = plan_ok(m, &fs, d);
	cr_assert_eq(r->parts[1].len, 0x20000);
	espimg_release_free(r);
	cr_assert_eq(synth_append(&fs.data[1], &fs.len[1], 0xFF, 1), 0);
	refused(t, &fs, "release.too_big", "|ota_0");
	free(t);
	espimg_manifest_free(m);

	/* Data by offset, past the end of its partition. */
	fs_add(&fs, "nvs.bin", pattern(0x4001, 1), 0x4001);
	small_refused(&fs, "esp32", "images:\n  0x9000: nvs.bin\n",
		      "release.too_big", "|0x9000");

	/* A bootloader running into the table. */
	fs_add(&fs, "bl.bin", make_boot("esp32", 2, 0x20, 0x7000, &len), 0);
	fs.len[fs.n - 1] = len;
	small_refused(&fs, "esp32", "images:\n  bootloader: bl.bin\n",
		      "release.too_big", "|bootloader");
	espimg_diag_list_free(d);
	fs_free(&fs);
}

/* An app that fits, whose Secure Boot v2 signature sector does not. */
Test(release, refuse_too_big_with_signature)
{
	struct memfs fs = { 0 };
	synth_sig sig = { .version = 2, .seed = 1 };
	size_t len;
	uint8_t *a = make_app("esp32c3", "demo", "1", 0x1EC00, &len);

	cr_assert_lt(len, 0x20000);
	cr_assert_gt(len, 0x1F000);
	cr_assert_eq(synth_sign_v2(&a, &len, &sig, 1), 0);
	cr_assert_eq(len, 0x21000);
	fs_add(&fs, "a.bin", a, len);
	small_refused(&fs, "esp32c3", "images:\n  ota_1: a.bin\n",
		      "release.too_big", "|ota_1");
	fs_free(&fs);
}

/* Two files sharing bytes: refused at the later entry; a file in a gap
 * running into a partition; a file over the generated table. */
Test(release, refuse_overlap)
{
	static const char plain[] = "chip: esp32c3\n"
				    "images:\n"
				    "  0x5000: y.bin\n"
				    "  0x4000: x.bin\n";
	struct memfs fs = { 0 };

	fs_add(&fs, "x.bin", pattern(0x2000, 1), 0x2000);
	fs_add(&fs, "y.bin", pattern(0x1000, 2), 0x1000);
	refused(plain, &fs, "release.overlap", "|0x4000");
	fs_free(&fs);
	fs_add_text(&fs, "t.csv", small_csv);
	fs_add(&fs, "x.bin", pattern(0x2000, 1), 0x2000);
	small_refused(&fs, "esp32c3", "images:\n  0x1f000: x.bin\n",
		      "release.overlap", "|0x1f000");
	/* The table's entry comes first in the manifest. */
	small_refused(&fs, "esp32c3", "images:\n  0x7000: x.bin\n",
		      "release.overlap", "|0x7000");
	fs_free(&fs);
}

/* Two files in one 4 KiB sector share no byte, but flashing one erases
 * the other: refused, as esptool refuses it. */
Test(release, refuse_shared_sector)
{
	static const char plain[] = "chip: esp32\n"
				    "images:\n"
				    "  0x9800: b.bin\n"
				    "  0x9000: a.bin\n";
	static const char apart[] = "chip: esp32\n"
				    "images:\n"
				    "  0xa000: b.bin\n"
				    "  0x9000: a.bin\n";
	struct memfs fs = { 0 };
	espimg_manifest *m = yaml(apart);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r;

	fs_add(&fs, "a.bin", pattern(0x100, 1), 0x100);
	fs_add(&fs, "b.bin", pattern(0x100, 2), 0x100);
	refused(plain, &fs, "release.overlap", "|0x9000");
	r = plan_ok(m, &fs, d);
	cr_assert_eq(r->nparts, 2);
	espimg_release_free(r);
	espimg_diag_list_free(d);
	espimg_manifest_free(m);
	fs_free(&fs);
}

/* What the merge would refuse, refused with the manifest's position: a
 * part below target_offset; a part past pad_to_size. */
Test(release, refuse_output_bounds)
{
	static const char below[] = "chip: esp32\n"
				    "images:\n"
				    "  0x9000: a.bin\n"
				    "  0x1000: b.bin\n"
				    "output: {target_offset: 0x2000}\n";
	static const char past[] = "chip: esp32\n"
				   "images:\n"
				   "  0x9000: a.bin\n"
				   "  0xff000: c.bin\n"
				   "output: {pad_to_size: 1MB}\n";
	struct memfs fs = { 0 };

	fs_add(&fs, "a.bin", pattern(0x100, 1), 0x100);
	fs_add(&fs, "b.bin", pattern(0x100, 2), 0x100);
	fs_add(&fs, "c.bin", pattern(0x1001, 3), 0x1001);
	refused(below, &fs, "release.below_target", "|0x1000");
	refused(past, &fs, "release.too_big", "|0xff000");
	fs_free(&fs);
}

/* boot: ota_1 while only ota_0 has an image. */
Test(release, refuse_boot_empty)
{
	struct memfs fs = { 0 };

	add_app(&fs, "a.bin", "esp32", "1", 100);
	small_refused(&fs, "esp32", "images:\n  ota_0: a.bin\nboot: ota_1\n",
		      "release.boot_empty", "boot: |ota_1");
	fs_free(&fs);
}

Test(release, refuse_no_partition)
{
	struct memfs fs = { 0 };
	espimg_manifest *m = by_hand("esp32");

	add_app(&fs, "a.bin", "esp32", "1", 100);
	small_refused(&fs, "esp32", "images:\n  ota_0: a.bin\n  ota_7: a.bin\n",
		      "release.no_partition", "|ota_7");
	small_refused(&fs, "esp32", "images:\n  ota_0: a.bin\nboot: factory\n",
		      "release.no_partition", "boot: |factory");
	/* A name without a table (the manifest reader refuses it too). */
	by_hand_image(m, 3, "ota_0", 0, "a.bin");
	refused_at(m, &fs, "release.no_partition", (espimg_mpos){ 3, 3 });
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* The primary table needs 0x3B2000 bytes: not in 2 MB, from flash.size or
 * from the bootloader header. */
Test(release, refuse_table_flash)
{
	struct memfs fs = { 0 };
	char *t = primary_text("{size: 2MB, mode: dio, freq: 40m}",
			       "{format: raw}");

	primary_files(&fs);
	refused(t, &fs, "release.table_flash", "{csv: |partitions/");
	free(t);
	t = primary_text(NULL, "{format: raw}");
	refused(t, &fs, "release.table_flash", "{csv: |partitions/");
	free(t);
	fs_free(&fs);
}

Test(release, refuse_load)
{
	static const char text[] = "chip: esp32\n"
				   "partition_table: {csv: nope.csv}\n"
				   "images: {ota_0: a.bin}\n";
	struct memfs fs = { 0 };

	small_refused(&fs, "esp32", "images:\n  ota_0: missing.bin\n",
		      "release.load", "|missing.bin");
	refused(text, &fs, "release.load", "|nope.csv");
	fs_free(&fs);
}

/* boot: a data partition, a table without otadata, a test partition
 * (set_boot refuses: the bootloader would not load it). */
Test(release, refuse_boot_slot)
{
	static const char no_ota[] =
		"chip: esp32\n"
		"partition_table: {csv: no_ota.csv}\n"
		"images: {factory: a.bin}\n"
		"boot: factory\n";
	static const char test[] =
		"chip: esp32\n"
		"partition_table: {csv: test.csv}\n"
		"images: {test: a.bin}\n"
		"boot: test\n";
	struct memfs fs = { 0 };

	fs_add(&fs, "n.bin", pattern(0x100, 1), 0x100);
	small_refused(&fs, "esp32", "images:\n  nvs: n.bin\nboot: nvs\n",
		      "release.boot_slot", "boot: |nvs");
	add_app(&fs, "a.bin", "esp32", "1", 100);
	fs_add_text(&fs, "no_ota.csv", "factory,app,factory,0x10000,0x10000\n");
	refused(no_ota, &fs, "release.boot_slot", "boot: |factory");
	fs_add_text(&fs, "test.csv",
		    "otadata,data,ota,0xd000,0x2000\n"
		    "ota_0,app,ota_0,0x10000,0x10000\n"
		    "test,app,test,0x20000,0x10000\n");
	refused(test, &fs, "release.boot_slot", "boot: |test");
	fs_free(&fs);
}

/* pad_to_size: flash past the flash's end; and (by hand: the reader
 * refuses it) with no flash size at all. */
Test(release, refuse_pad_to_flash)
{
	static const char text[] =
		"chip: esp32\n"
		"flash: {size: 2MB}\n"
		"images: {0x200000: x.bin}\n"
		"output: {pad_to_size: flash, target_offset: 0x200000}\n";
	struct memfs fs = { 0 };
	espimg_manifest *m = by_hand("esp32");

	fs_add(&fs, "x.bin", pattern(0x100, 1), 0x100);
	refused(text, &fs, "release.flash_size", "pad_to_size: |flash");
	by_hand_image(m, 4, NULL, 0x9000, "x.bin");
	m->pad_to_flash = true;
	m->pos_pad = (espimg_mpos){ 6, 16 };
	refused_at(m, &fs, "release.flash_size", m->pos_pad);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* The table's own errors come with the CSV's name, line and column. */
Test(release, refuse_bad_table)
{
	static const char bad[] =
		"ota_0,app,ota_0,0x10000,0x20000\n"
		"ota_1,app,ota_1,0x20000,0x20000\n";
	static const char text[] = "chip: esp32\n"
				   "partition_table: {csv: tables/bad.csv}\n"
				   "images: {ota_0: a.bin}\n";
	struct memfs fs = { 0 };
	espimg_manifest *m = yaml(text);
	espimg_release *r = (espimg_release *)1;
	espimg_diag_list *d = espimg_diag_list_new();
	const espimg_diag *e;

	fs_add_text(&fs, "tables/bad.csv", bad);
	cr_assert_eq(espimg_release_plan(m, MFILE, fs_load, &fs, &r, d),
		     ESPIMG_EFORMAT);
	cr_assert_null(r);
	e = fx_diag_find(d, "ptable.overlap", ESPIMG_SEV_ERROR);
	cr_assert_not_null(e);
	cr_assert_str_eq(e->file, "rel/tables/bad.csv");
	cr_assert_eq(e->line, 2);
	cr_assert_eq(fs.loads, 1, "the images are not read");
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* Every refusal of one manifest is reported, not only the first. */
Test(release, refusals_all_reported)
{
	struct memfs fs = { 0 };
	char *t = small(&fs, "esp32",
			"images:\n"
			"  ota_0: c3.bin\n"
			"  spiffs: a.bin\n"
			"  nope: a.bin\n"
			"  0x70000: gone.bin\n"
			"boot: ota_1\n");
	espimg_manifest *m = yaml(t);
	espimg_release *r = (espimg_release *)1;
	espimg_diag_list *d = espimg_diag_list_new();
	static const char *const codes[] = {
		"release.chip", "release.app_slot", "release.no_partition",
		"release.load", "release.boot_empty",
	};

	add_app(&fs, "c3.bin", "esp32c3", "1", 100);
	add_app(&fs, "a.bin", "esp32", "1", 100);
	cr_assert_eq(espimg_release_plan(m, MFILE, fs_load, &fs, &r, d),
		     ESPIMG_EFORMAT);
	cr_assert_eq(espimg_diag_errors(d), 5);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		cr_assert_not_null(fx_diag_find(d, codes[i], ESPIMG_SEV_ERROR),
				   "%s", codes[i]);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
	free(t);
}

/* Not an image where the bootloader loads one: a warning, not a refusal. */
Test(release, warn_not_image)
{
	struct memfs fs = { 0 };
	char *t = small(&fs, "esp32", "images:\n  ota_0: junk.bin\n");
	espimg_manifest *m = yaml(t);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r;
	const espimg_diag *w;
	espimg_mpos pos = at(t, "ota_0: |junk.bin");

	fs_add(&fs, "junk.bin", pattern(0x100, 1), 0x100);
	r = plan_ok(m, &fs, d);
	w = fx_diag_find(d, "release.not_image", ESPIMG_SEV_WARNING);
	cr_assert_not_null(w);
	cr_assert_eq(w->line, pos.line);
	cr_assert_eq(w->column, pos.col);
	cr_assert_not(r->parts[1].is_image);
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
	free(t);
}

/* A loader out of memory stops the plan with ESPIMG_ENOMEM. */
static int nomem_load(void *ctx, const char *path, uint8_t **data,
		      size_t *len)
{
	return ESPIMG_ENOMEM;
}

Test(release, bad_arguments)
{
	struct memfs fs = { 0 };
	espimg_manifest *m = yaml("chip: esp32\nimages: {0x9000: x.bin}\n");
	espimg_release *r = NULL;
	char *text = NULL;

	cr_assert_eq(espimg_release_plan(m, MFILE, fs_load, &fs, NULL, NULL),
		     ESPIMG_EINVAL);
	cr_assert_eq(espimg_release_plan(NULL, MFILE, fs_load, &fs, &r, NULL),
		     ESPIMG_EINVAL);
	cr_assert_eq(espimg_release_plan(m, MFILE, NULL, &fs, &r, NULL),
		     ESPIMG_EINVAL);
	cr_assert_eq(espimg_release_plan(m, MFILE, nomem_load, NULL, &r, NULL),
		     ESPIMG_ENOMEM);
	cr_assert_null(r);
	cr_assert_eq(espimg_release_write(NULL, fx_sink_write, NULL, NULL),
		     ESPIMG_EINVAL);
	cr_assert_eq(espimg_release_argfile(NULL, NULL, &text, NULL),
		     ESPIMG_EINVAL);
	cr_assert_eq(espimg_release_emit(NULL, MFILE, NULL), ESPIMG_EINVAL);
	espimg_release_free(NULL);
	espimg_manifest_free(m);
}

/* ------------------------------------------------------------ outputs */

Test(release, summary_json)
{
	struct memfs fs = { 0 };
	espimg_manifest *m = primary(&fs);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r = plan_ok(m, &fs, d);
	struct fx_sink s = { 0 };
	espimg_emitter *e = espimg_emit_new(ESPIMG_FORMAT_JSON, fx_sink_write,
					    &s);
	char hex[65], want[128];

	cr_assert_not_null(e);
	cr_assert_eq(espimg_emit_begin_doc(e, "espimg.release/1"), 0);
	cr_assert_eq(espimg_release_emit(r, MFILE, e), 0);
	cr_assert_eq(espimg_emit_end_doc(e), 0);
	espimg_emit_free(e);
	for (size_t i = 0; i < r->nparts; i++) {
		for (size_t k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", r->parts[i].sha256[k]);
		snprintf(want, sizeof(want), "\"sha256\": \"%s\"", hex);
		cr_assert_not_null(strstr(s.data, want), "%s in\n%s", want,
				   s.data);
	}
	cr_assert_not_null(strstr(s.data, "\"boot\": \"ota_1\""), "%s", s.data);
	cr_assert_not_null(strstr(s.data, "\"chip\": \"esp32\""));
	cr_assert_not_null(strstr(s.data, "\"flash_size\": 4194304"));
	cr_assert_not_null(strstr(s.data, "\"kind\": \"otadata\""));
	cr_assert_not_null(strstr(s.data, "\"offset_hex\": \"0x1e0000\""));
	cr_assert_not_null(strstr(s.data, "\"version\": \"1.1\""));
	cr_assert_not_null(strstr(s.data, "\"path\": null"));
	cr_assert_not_null(strstr(s.data, "\"manifest\": \"" MFILE "\""));
	fx_sink_free(&s);
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

Test(release, argfile)
{
	struct memfs fs = { 0 };
	espimg_manifest *m = primary(&fs);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r;
	const char *paths[6] = { NULL, "out/partition-table.bin", NULL,
				 "out/otadata.bin", NULL, "it's here.bin" };
	char *text = NULL, *nf;
	size_t len = 0;

	r = plan_ok(m, &fs, d);
	cr_assert_eq(espimg_release_argfile(r, paths, &text, &len), 0);
	cr_assert_str_eq(text,
			 "--chip esp32 write-flash --flash-mode dio "
			 "--flash-freq 40m --flash-size 4MB\n"
			 "0x1000 build/bootloader.bin\n"
			 "0x8000 out/partition-table.bin\n"
			 "0x9000 build/nvs.bin\n"
			 "0xd000 out/otadata.bin\n"
			 "0x10000 build/app0.bin\n"
			 "0x1e0000 'it'\"'\"'s here.bin'\n");
	cr_assert_eq(len, strlen(text));
	free(text);
	/* The generated parts need names. */
	cr_assert_eq(espimg_release_argfile(r, NULL, &text, &len),
		     ESPIMG_EINVAL);
	cr_assert_null(text);
	espimg_release_free(r);

	/* No flash: every parameter kept (a 4 MB bootloader header). */
	espimg_manifest_free(m);
	nf = primary_text(NULL, "{format: raw}");
	m = yaml(nf);
	free(nf);
	for (size_t i = 0; i < fs.n; i++)
		if (!strcmp(fs.name[i], "build/bootloader.bin")) {
			free(fs.data[i]);
			fs.data[i] = make_boot("esp32", 2, 0x20, 0, &fs.len[i]);
		}
	r = plan_ok(m, &fs, d);
	cr_assert_eq(espimg_release_argfile(r, paths, &text, &len), 0);
	cr_assert_eq(strncmp(text,
			     "--chip esp32 write-flash --flash-mode keep "
			     "--flash-freq keep --flash-size keep\n",
			     77), 0, "%s", text);
	free(text);
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* A failing sink: the write's error comes back. */
Test(release, write_error)
{
	struct memfs fs = { 0 };
	espimg_manifest *m = primary(&fs);
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_release *r = plan_ok(m, &fs, d);
	struct fx_sink s = { .fail_from = 2 };

	cr_assert_eq(espimg_release_write(r, fx_sink_write, &s, d),
		     ESPIMG_EIO);
	fx_sink_free(&s);
	espimg_release_free(r);
	espimg_diag_list_free(d);
	fs_free(&fs);
	espimg_manifest_free(m);
}

/* ------------------------------------------------------------ corpus */

/* esptool merge-bin's outputs (images/gen, commands in
 * expected/gen/NAME.gen.txt) rebuilt from plain-merge manifests: the
 * output keys reach espimg_merge_write as merge-bin's options. */
#define SF "espressif__esp-serial-flasher__"
static const struct {
	const char *name;
	const char *chip;
	const char *flash;  /* NULL: no flash: */
	const char *output;
} gen_merges[] = {
	{ "merge_c3.hex", "esp32c3", NULL, "{format: hex}" },
	{ "merge_c3.uf2", "esp32c3", NULL, "{format: uf2}" },
	{ "merge_c3_chunk256_nomd5.uf2", "esp32c3", NULL,
	  "{format: uf2, uf2_chunk_size: 256, uf2_md5: false}" },
	{ "merge_c3_patched_qio_40m_4MB.bin", "esp32c3",
	  "{size: 4MB, mode: qio, freq: 40m}", "{format: raw}" },
	{ "merge_c3_raw.bin", "esp32c3", NULL, "{format: raw}" },
	{ "merge_esp32_fill1MB_dout.bin", "esp32", "{mode: dout}",
	  "{pad_to_size: 1MB}" },
	{ "merge_esp32_raw.bin", "esp32", NULL, "{format: raw}" },
	{ "merge_esp32_target1000.bin", "esp32", NULL,
	  "{target_offset: 0x1000}" },
};

Test(release, corpus_merge_bin)
{
	char *dir = fx_corpus_path("images");

	for (size_t i = 0; i < sizeof(gen_merges) / sizeof(gen_merges[0]);
	     i++) {
		bool c3 = !strcmp(gen_merges[i].chip, "esp32c3");
		const char *tag = c3 ? "HW_ESP32_C3" : "HW_ESP32";
		espimg_diag_list *d = espimg_diag_list_new();
		espimg_release *r = NULL;
		struct fx_sink out = { 0 };
		espimg_manifest *m;
		char rel[256], *text;
		uint8_t *want;
		size_t wlen;
		int rc;

		xasprintf(&text,
			  "chip: %s\n%s%s%s"
			  "images:\n"
			  "  %s: " SF "%s_bootloader.bin\n"
			  "  0x8000: parts/" SF "HW_partition-table.bin\n"
			  "  0x10000: " SF "%s_hello_world.bin\n"
			  "output: %s\n",
			  gen_merges[i].chip,
			  gen_merges[i].flash ? "flash: " : "",
			  gen_merges[i].flash ? gen_merges[i].flash : "",
			  gen_merges[i].flash ? "\n" : "", c3 ? "0x0" : "0x1000",
			  tag, tag, gen_merges[i].output);
		m = yaml(text);
		rc = espimg_release_plan(m, "images/release.yaml", dir_load,
					 dir, &r, d);
		cr_assert_eq(rc, 0, "%s: %d", gen_merges[i].name, rc);
		cr_assert_eq(espimg_release_write(r, fx_sink_write, &out, d),
			     0, "%s", gen_merges[i].name);
		snprintf(rel, sizeof(rel), "images/gen/%s", gen_merges[i].name);
		want = fx_corpus_read(rel, &wlen);
		cr_assert_eq(out.len, wlen, "%s: %zu bytes, esptool %zu",
			     gen_merges[i].name, out.len, wlen);
		cr_assert_arr_eq(out.data, want, wlen, "%s",
				 gen_merges[i].name);
		free(want);
		free(text);
		fx_sink_free(&out);
		espimg_release_free(r);
		espimg_diag_list_free(d);
		espimg_manifest_free(m);
	}
	free(dir);
}
