/*
 * fuzz_ptable_csv.c - libFuzzer harness for the partition table CSV parser.
 *
 * Input: two option bytes, then the CSV text.  The options vary what the
 * parser and the rules depend on (MD5, verification, table and bootloader
 * offsets, Secure Boot, flash size, --idf-version, extra subtypes, $NAME
 * expansion).  Inputs that would take the binary path are skipped.
 *
 * For every table the parser accepts, the harness checks (abort() on
 * failure):
 *   1. encoding succeeds, or fails only because the table is too long;
 *   2. the binary we wrote parses back with the same entries (names cut to
 *      16 bytes; a character cut in two at byte 16 may be dropped);
 *   3. re-encoding that decoded table gives the same bytes, unless a name
 *      was cut inside a UTF-8 character;
 *   4. the CSV we render parses again (without $NAME expansion) into a
 *      table that encodes to the same bytes, unless a name starts with '$'.
 * It also runs verification, gaps and the JSON description.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One variable is set; every other name is unset. */
static const char *fuzz_env(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "E") ? NULL : "0x1000";
}

static bool has_code(const espimg_diag_list *d, const char *code)
{
	for (size_t i = 0; i < espimg_diag_count(d); i++)
		if (!strcmp(espimg_diag_get(d, i)->code, code))
			return true;
	return false;
}

static void options(uint8_t a, uint8_t b, espimg_ptable_opts *o)
{
	static const uint32_t table_offsets[] = { 0x8000, 0x10000, 0x8001,
						  0xF000 };
	static const unsigned versions[] = {
		ESPIMG_IDF_NEWEST,	       ESPIMG_IDF_VERSION(4, 3, 0),
		ESPIMG_IDF_VERSION(4, 4, 0), ESPIMG_IDF_VERSION(5, 1, 3),
		ESPIMG_IDF_VERSION(5, 2, 0), ESPIMG_IDF_VERSION(5, 3, 0),
		ESPIMG_IDF_VERSION(5, 4, 0), ESPIMG_IDF_VERSION(5, 5, 0),
	};

	espimg_ptable_opts_init(o);
	o->md5 = !(a & 0x01);
	o->verify = !(a & 0x02);
	o->table_offset = table_offsets[(a >> 2) & 3];
	if (a & 0x10)
		o->primary_bootloader_offset = (b & 0x80) ? 0x2000 : 0x1000;
	if (a & 0x20)
		o->recovery_bootloader_offset = 0x200000;
	o->secure = ((a >> 6) & 3) % 3;
	if (b & 0x07)
		o->flash_size = (uint64_t)1 << (20 + (b & 0x07) - 1);
	o->idf_version = versions[(b >> 3) & 7];
	if (b & 0x40) {
		/* Names a CSV can use, and one remapped built-in. */
		CHECK(espimg_ptable_add_extra_subtype(o, "data,myfs,40", NULL) == 0);
		CHECK(espimg_ptable_add_extra_subtype(o, "app,tool,41", NULL) == 0);
		CHECK(espimg_ptable_add_extra_subtype(o, "data,nvs,50", NULL) == 0);
	}
	/* Expansion on for most inputs; the flash size bits double up. */
	if (!(b & 0x80) || (b & 1))
		o->lookup_env = fuzz_env;
}

static bool same_entry(const espimg_partition *a, const espimg_partition *b)
{
	return a->type == b->type && a->subtype == b->subtype &&
	       a->offset == b->offset && a->size == b->size &&
	       a->flags == b->flags;
}

/* The encoded binary read back: same entries, names cut to 16 bytes. */
static void check_binary(const espimg_ptable *t, const espimg_ptable_opts *o,
			 const uint8_t *bin)
{
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_ptable *back = NULL;
	uint8_t again[ESPIMG_PTABLE_BIN_SIZE];
	bool cut;
	int r;

	CHECK(d);
	r = espimg_ptable_parse(bin, ESPIMG_PTABLE_BIN_SIZE, o, "bin", &back, d);
	if (t->count == 0 && !o->md5) {
		/* All 0xFF: not recognised as a binary (nor as text). */
		CHECK(r == ESPIMG_EFORMAT);
		espimg_diag_list_free(d);
		return;
	}
	CHECK(r == 0);
	CHECK(back->from_binary);
	CHECK(back->has_md5 == o->md5);
	CHECK(back->count == t->count);
	cut = has_code(d, "ptable.name-cut");
	for (size_t i = 0; i < t->count; i++) {
		const espimg_partition *a = &t->parts[i], *b = &back->parts[i];
		size_t la = strlen(a->name), lb = strlen(b->name);
		size_t want = la < ESPIMG_PTABLE_NAME_LEN ? la
							   : ESPIMG_PTABLE_NAME_LEN;

		CHECK(same_entry(a, b));
		CHECK(b->line == 0);
		CHECK(b->bin_offset == (int64_t)(i * ESPIMG_PTABLE_ENTRY_SIZE));
		/* A cut character (at most 3 bytes) may be dropped. */
		CHECK(lb <= want && lb + 3 >= want);
		CHECK(!memcmp(a->name, b->name, lb));
		if (lb != want)
			CHECK(cut && la > ESPIMG_PTABLE_NAME_LEN);
	}
	CHECK(espimg_ptable_to_binary(back, o, again, d) == 0);
	if (!cut)
		CHECK(!memcmp(again, bin, ESPIMG_PTABLE_BIN_SIZE));
	espimg_ptable_free(back);
	espimg_diag_list_free(d);
}

/* The rendered CSV parses again into a table with the same bytes. */
static void check_csv(const espimg_ptable *t, const espimg_ptable_opts *o,
		      const char *text, size_t len, int enc_r, const uint8_t *bin)
{
	espimg_ptable_opts o2 = *o;
	espimg_diag_list *d;
	espimg_ptable *back = NULL;
	uint8_t again[ESPIMG_PTABLE_BIN_SIZE];

	for (size_t i = 0; i < t->count; i++)
		if (t->parts[i].name[0] == '$')
			return; /* would read as a variable at line start */
	o2.lookup_env = NULL;
	d = espimg_diag_list_new();
	CHECK(d);
	back = parse_rendered_csv(text, len, &o2, d);
	CHECK(back->count == t->count);
	for (size_t i = 0; i < t->count; i++) {
		CHECK(same_entry(&t->parts[i], &back->parts[i]));
		CHECK(!strcmp(t->parts[i].name, back->parts[i].name));
	}
	CHECK(espimg_ptable_to_binary(back, o, again, d) == enc_r);
	if (enc_r == 0)
		CHECK(!memcmp(again, bin, ESPIMG_PTABLE_BIN_SIZE));
	espimg_ptable_free(back);
	espimg_diag_list_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	espimg_ptable_opts o;
	espimg_diag_list *d;
	espimg_ptable *t = NULL;
	uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];
	char *text = NULL;
	size_t text_len = 0, ngaps = 0;
	espimg_gap gaps[4];
	int r, enc_r;

	if (size < 2)
		return 0;
	options(data[0], data[1], &o);
	data += 2;
	size -= 2;
	if (espimg_ptable_is_binary(data, size))
		return 0;

	d = espimg_diag_list_new();
	CHECK(d);
	r = espimg_ptable_parse(data, size, &o, "fuzz.csv", &t, d);
	if (r != 0) {
		CHECK(r == ESPIMG_EFORMAT && t == NULL);
		CHECK(espimg_diag_errors(d) > 0);
		espimg_diag_list_free(d);
		return 0;
	}
	CHECK(t && !t->from_binary);
	CHECK(espimg_diag_errors(d) == 0);

	r = espimg_ptable_verify(t, &o, "fuzz.csv", d);
	CHECK(r == 0 || r == ESPIMG_EFORMAT);
	CHECK((r == 0) == (espimg_diag_errors(d) == 0));
	(void)espimg_ptable_flash_needed(t);
	CHECK(espimg_ptable_gaps(t, &o, gaps, 4, &ngaps) == 0);
	CHECK(ngaps <= t->count + 1);

	enc_r = espimg_ptable_to_binary(t, &o, bin, d);
	if (enc_r != 0) {
		/* Only too many entries stop the encoder, and verify says so. */
		CHECK(enc_r == ESPIMG_ETOOBIG);
		CHECK(t->count * ESPIMG_PTABLE_ENTRY_SIZE +
			      (o.md5 ? ESPIMG_PTABLE_ENTRY_SIZE : 0) >=
		      ESPIMG_PTABLE_BIN_SIZE);
		CHECK(has_code(d, "ptable.too-many") && r != 0);
	} else {
		CHECK(bin[0] == (t->count ? 0xAA : o.md5 ? 0xEB : 0xFF));
		check_binary(t, &o, bin);
	}

	CHECK(espimg_ptable_to_csv(t, &o, &text, &text_len) == 0);
	CHECK(text && strlen(text) == text_len);
	check_csv(t, &o, text, text_len, enc_r, bin);
	free(text);

	{
		struct sink s = { 0, 0 };
		espimg_emitter *e = espimg_emit_new(ESPIMG_FORMAT_JSON,
						    sink_write, &s);
		CHECK(e);
		espimg_emit_begin_doc(e, "espimg.partitions/1");
		CHECK(espimg_ptable_emit(t, &o, e) == 0);
		CHECK(espimg_emit_end_doc(e) == 0);
		espimg_emit_free(e);
		CHECK(s.len > 0 && s.first == '{');
	}

	espimg_ptable_free(t);
	espimg_diag_list_free(d);
	return 0;
}
