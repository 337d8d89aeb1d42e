/*
 * fuzz_manifest.c - libFuzzer harness for the release manifest reader.
 *
 * The input is the manifest text.  Every diagnostic must carry a
 * "manifest." code, the file name, a line and column inside the input, and
 * come in manifest order; a refused input must have at least one error and
 * no result, an accepted one none.  The same input read without a
 * diagnostics list must give the same answer.  For an accepted manifest the
 * harness checks each field against the format's rules (ranges, names,
 * what needs what), then writes the manifest out again as YAML of its own
 * (every string double-quoted, escaped by code point) and reads that: the
 * result must be the same manifest.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/espimg.h"
#include "espimg/manifest.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void puts_(struct membuf *o, const char *s)
{
	membuf_write(o, s, strlen(s));
}

static void putf(struct membuf *o, const char *fmt, unsigned long long v)
{
	char b[64];
	int n = snprintf(b, sizeof(b), fmt, v);

	CHECK(n > 0 && (size_t)n < sizeof(b));
	membuf_write(o, b, (size_t)n);
}

/* One UTF-8 sequence (the reader gives valid UTF-8 only). */
static size_t utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;

	CHECK(len <= n);
	if (len == 1) {
		*cp = s[0];
		return 1;
	}
	*cp = s[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		CHECK((s[i] & 0xC0) == 0x80);
		*cp = *cp << 6 | (s[i] & 0x3F);
	}
	return len;
}

/* A double-quoted YAML scalar: printable ASCII as it is, everything else
 * as a code point escape. */
static void put_str(struct membuf *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	puts_(o, "\"");
	while (i < n) {
		uint32_t cp;
		size_t k = utf8(p + i, n - i, &cp);

		if (cp == '"' || cp == '\\') {
			char e[2] = { '\\', (char)cp };
			membuf_write(o, e, 2);
		} else if (cp >= 0x20 && cp < 0x7F) {
			char c = (char)cp;
			membuf_write(o, &c, 1);
		} else {
			putf(o, "\\U%08llX", cp);
		}
		i += k;
	}
	puts_(o, "\"");
}

static void put_key_str(struct membuf *o, const char *key, const char *s)
{
	puts_(o, key);
	put_str(o, s);
	puts_(o, "\n");
}

/* The manifest as YAML of our own. */
static char *write_manifest(const espimg_manifest *m, size_t *len)
{
	static const char *const modes[] = { "qio", "qout", "dio", "dout" };
	static const char *const formats[] = { "raw", "hex", "uf2" };
	struct membuf o = { NULL, 0, 0 };

	puts_(&o, "chip: ");
	puts_(&o, m->chip->key);
	puts_(&o, "\n");
	if (m->has_flash) {
		puts_(&o, "flash:\n  size: ");
		puts_(&o, m->flash.size < 0 ? "keep"
			  : espimg_flash_size_name((unsigned)m->flash.size));
		puts_(&o, "\n  mode: ");
		puts_(&o, m->flash.mode < 0 ? "keep" : modes[m->flash.mode]);
		puts_(&o, "\n  freq: ");
		puts_(&o, m->flash.freq < 0 ? "keep"
			  : espimg_chip_flash_freq_name(
				    m->chip, (unsigned)m->flash.freq));
		puts_(&o, "\n");
	}
	if (m->has_table) {
		puts_(&o, "partition_table:\n");
		put_key_str(&o, m->table_is_csv ? "  csv: " : "  bin: ",
			    m->table_path);
		putf(&o, "  offset: 0x%llx\n", m->table_offset);
	}
	if (m->nimages)
		puts_(&o, "images:\n");
	for (size_t i = 0; i < m->nimages; i++) {
		const espimg_manifest_image *im = &m->images[i];

		puts_(&o, "  ");
		if (im->name)
			put_str(&o, im->name);
		else
			putf(&o, "0x%llx", im->offset);
		puts_(&o, ": ");
		put_str(&o, im->path);
		puts_(&o, "\n");
	}
	if (!m->nimages && !m->has_table)
		puts_(&o, "images: {}\n"); /* not reached: refused */
	if (m->boot)
		put_key_str(&o, "boot: ", m->boot);
	puts_(&o, "output:\n  format: ");
	puts_(&o, formats[m->format]);
	putf(&o, "\n  fill: %llu\n", m->fill);
	if (m->pad_to_flash)
		puts_(&o, "  pad_to_size: flash\n");
	else if (m->pad_to_size)
		putf(&o, "  pad_to_size: %llu\n", m->pad_to_size);
	putf(&o, "  target_offset: %llu\n", m->target_offset);
	if (m->uf2_chunk_size)
		putf(&o, "  uf2_chunk_size: %llu\n", m->uf2_chunk_size);
	puts_(&o, m->uf2_md5 ? "  uf2_md5: true\n" : "  uf2_md5: false\n");
	if (m->summary_path)
		put_key_str(&o, "  summary: ", m->summary_path);
	if (m->argfile_path)
		put_key_str(&o, "  argfile: ", m->argfile_path);
	if (m->output_path)
		put_key_str(&o, "  file: ", m->output_path);
	*len = o.len;
	return o.data;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void same_manifest(const espimg_manifest *a, const espimg_manifest *b)
{
	CHECK(a->chip == b->chip);
	CHECK(a->has_flash == b->has_flash);
	CHECK(a->flash.mode == b->flash.mode);
	CHECK(a->flash.size == b->flash.size);
	CHECK(a->flash.size_bytes == b->flash.size_bytes);
	CHECK(a->flash.freq == b->flash.freq);
	CHECK(a->has_table == b->has_table);
	if (a->has_table) {
		CHECK(a->table_is_csv == b->table_is_csv);
		CHECK(same_str(a->table_path, b->table_path));
	}
	CHECK(a->table_offset == b->table_offset);
	CHECK(a->nimages == b->nimages);
	for (size_t i = 0; i < a->nimages; i++) {
		CHECK(same_str(a->images[i].name, b->images[i].name));
		CHECK(same_str(a->images[i].path, b->images[i].path));
		CHECK(a->images[i].offset == b->images[i].offset);
	}
	CHECK(same_str(a->boot, b->boot));
	CHECK(a->format == b->format);
	CHECK(a->fill == b->fill);
	CHECK(a->pad_to_flash == b->pad_to_flash);
	CHECK(a->pad_to_size == b->pad_to_size);
	CHECK(a->target_offset == b->target_offset);
	CHECK(a->uf2_chunk_size == b->uf2_chunk_size);
	CHECK(a->uf2_md5 == b->uf2_md5);
	CHECK(same_str(a->summary_path, b->summary_path));
	CHECK(same_str(a->argfile_path, b->argfile_path));
	CHECK(same_str(a->output_path, b->output_path));
}

static void check_pos(espimg_mpos p, unsigned lines, bool given)
{
	if (given)
		CHECK(p.line >= 1 && p.line <= lines && p.col >= 1);
	else
		CHECK(p.line == 0 && p.col == 0);
}

static void check_string(const char *s)
{
	CHECK(s && *s && strlen(s) <= ESPIMG_MANIFEST_MAX_STRING);
}

/* The fields of an accepted manifest obey the format's rules. */
static void check_fields(const espimg_manifest *m, unsigned lines)
{
	CHECK(m->chip);
	check_pos(m->pos_chip, lines, true);
	CHECK(m->flash.mode >= -1 && m->flash.mode <= 3);
	CHECK(m->flash.size >= -1 && m->flash.size <= 7);
	if (m->flash.size >= 0)
		CHECK(m->flash.size_bytes ==
		      espimg_flash_size_bytes((unsigned)m->flash.size));
	else
		CHECK(m->flash.size_bytes == 0);
	CHECK(m->flash.freq >= -1 && m->flash.freq <= 15);
	if (m->flash.freq >= 0)
		CHECK(espimg_chip_flash_freq_name(m->chip,
						  (unsigned)m->flash.freq));
	if (!m->has_flash)
		CHECK(m->flash.mode < 0 && m->flash.size < 0 &&
		      m->flash.freq < 0);
	check_pos(m->flash.pos_mode, lines, m->flash.mode >= 0 ||
					    m->flash.pos_mode.line);
	check_pos(m->flash.pos_size, lines, m->flash.size >= 0 ||
					    m->flash.pos_size.line);
	check_pos(m->flash.pos_freq, lines, m->flash.freq >= 0 ||
					    m->flash.pos_freq.line);
	CHECK(m->has_table == !!m->table_path);
	if (m->has_table) {
		check_string(m->table_path);
		check_pos(m->pos_table, lines, true);
		check_pos(m->pos_table_key, lines, true);
	}
	CHECK(m->nimages <= ESPIMG_MANIFEST_MAX_IMAGES);
	CHECK(m->nimages || m->has_table);
	for (size_t i = 0; i < m->nimages; i++) {
		const espimg_manifest_image *im = &m->images[i];

		check_string(im->path);
		check_pos(im->pos_key, lines, true);
		check_pos(im->pos_path, lines, true);
		CHECK(im->pos_key.line < im->pos_path.line ||
		      (im->pos_key.line == im->pos_path.line &&
		       im->pos_key.col < im->pos_path.col));
		if (im->name) {
			check_string(im->name);
			CHECK(!(im->name[0] == '0' &&
				(im->name[1] | 0x20) == 'x'));
			CHECK(im->offset == 0);
			CHECK(m->has_table || !strcmp(im->name, "bootloader"));
		} else {
			CHECK(im->offset <= UINT32_MAX);
		}
		for (size_t j = 0; j < i; j++) {
			const espimg_manifest_image *o = &m->images[j];

			if (im->name)
				CHECK(!o->name || strcmp(o->name, im->name));
			else
				CHECK(o->name || o->offset != im->offset);
		}
	}
	if (m->boot) {
		check_string(m->boot);
		CHECK(m->has_table);
		check_pos(m->pos_boot, lines, true);
	}
	CHECK(m->format <= ESPIMG_OUT_UF2);
	CHECK(!(m->pad_to_flash && m->pad_to_size));
	if (m->pad_to_flash)
		CHECK(m->flash.size >= 0);
	CHECK(m->target_offset <= UINT32_MAX);
	if (m->uf2_chunk_size) {
		CHECK(m->uf2_chunk_size % 4 == 0);
		CHECK(m->uf2_chunk_size <= (m->uf2_md5 ? 452u : 476u));
	}
	if (m->summary_path)
		check_string(m->summary_path);
	if (m->argfile_path)
		check_string(m->argfile_path);
	if (m->output_path)
		check_string(m->output_path);
}

static void check_paths(const espimg_manifest *m)
{
	for (size_t i = 0; i < m->nimages; i++) {
		const char *rel = m->images[i].path;
		char *p = espimg_manifest_path("dir/m.yaml", rel);

		CHECK(p);
		if (rel[0] == '/')
			CHECK(!strcmp(p, rel));
		else
			CHECK(!strncmp(p, "dir/", 4) && !strcmp(p + 4, rel));
		free(p);
	}
}

/* At least as many lines as libyaml can count: it breaks lines at LF, CR,
 * NEL, LS and PS, and reads UTF-16 after a byte order mark. */
static unsigned max_lines(const uint8_t *s, size_t n)
{
	unsigned lines = 1;

	if (n >= 2 && ((s[0] == 0xFE && s[1] == 0xFF) ||
		       (s[0] == 0xFF && s[1] == 0xFE)))
		return (unsigned)n + 1;
	for (size_t i = 0; i < n; i++)
		lines += s[i] == '\n' || s[i] == '\r' ||
			 (s[i] == 0x85 && i && s[i - 1] == 0xC2) ||
			 ((s[i] == 0xA8 || s[i] == 0xA9) && i >= 2 &&
			  s[i - 1] == 0x80 && s[i - 2] == 0xE2);
	return lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	espimg_diag_list *d = espimg_diag_list_new();
	espimg_manifest *m = NULL, *again = NULL, *quiet = NULL;
	unsigned lines;
	char *text;
	int r;

	CHECK(d);
	text = input_copy(data, size);
	lines = max_lines(data, size);

	r = espimg_manifest_parse(text, size, "fuzz.yaml", &m, d);
	CHECK(r == 0 || r == ESPIMG_EFORMAT);
	for (size_t i = 0; i < espimg_diag_count(d); i++) {
		const espimg_diag *g = espimg_diag_get(d, i);

		CHECK(!strncmp(g->code, "manifest.", 9));
		CHECK(g->file && !strcmp(g->file, "fuzz.yaml"));
		CHECK(g->line >= 1 && g->line <= lines && g->column >= 1);
		CHECK(g->offset == -1);
		CHECK(g->message && *g->message);
		if (i) {
			const espimg_diag *p = espimg_diag_get(d, i - 1);

			CHECK(p->line < g->line ||
			      (p->line == g->line && p->column <= g->column));
		}
	}
	CHECK(espimg_manifest_parse(text, size, NULL, &quiet, NULL) == r);
	espimg_manifest_free(quiet);
	if (r) {
		CHECK(!m && espimg_diag_errors(d) > 0);
		goto out;
	}
	CHECK(m && espimg_diag_errors(d) == 0);
	check_fields(m, lines);
	check_paths(m);
	{
		size_t len;
		char *yaml = write_manifest(m, &len);

		espimg_diag_clear(d);
		if (espimg_manifest_parse(yaml, len, "again.yaml", &again, d)) {
			fprintf(stderr, "%s\n", yaml);
			for (size_t i = 0; i < espimg_diag_count(d); i++)
				fprintf(stderr, "%u:%u %s\n",
					espimg_diag_get(d, i)->line,
					espimg_diag_get(d, i)->column,
					espimg_diag_get(d, i)->message);
			CHECK(!"the manifest written out does not parse");
		}
		same_manifest(m, again);
		free(yaml);
	}
out:
	espimg_manifest_free(again);
	espimg_manifest_free(m);
	espimg_diag_list_free(d);
	free(text);
	return 0;
}
