/*
 * flash_svg.c - the layout of an explained flash image as an SVG
 * picture: an overview bar of the whole flash, then one row per area
 * (bootloader, partition table, each partition) with its name, offset and
 * size, a bar to scale, the used and free space of each app slot, what it
 * holds, the slot that boots highlighted, and a legend.
 *
 * The document is self-contained (no scripts, no links, no web fonts:
 * generic font families only) and is meant to be read at 1000 px wide.
 * Coordinates are computed in integers (tenths of a pixel), so the output
 * does not depend on the locale or on floating point.  Text from the
 * input (partition names, app descriptions) is escaped for XML, and bytes
 * that are not printable UTF-8 are shown as \xNN.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/flash.h"
#include "flash_int.h"
#include "internal.h"

#define W 1000          /* picture width */
#define MARGIN 20
#define ROW_H 40
#define OV_H 32         /* overview bar height */
#define BAR_X 230       /* row bars: [BAR_X, BAR_X + BAR_W) */
#define BAR_W 400
#define DESC_X 642      /* row descriptions */
#define DESC_CHARS 52   /* about what fits in W - DESC_X at 12 px */
#define NOTE_CHARS 58   /* the same at 11 px */
#define REASON_CHARS 130 /* a line of the boot reason at 12 px */
#define TITLE_CHARS 80  /* the title at 18 px */
#define MIN_W 20        /* narrowest area drawn: 2 px (tenths) */
/* The area drawn for the partition table: its flash sector. */
#define TABLE_AREA ESPIMG_PTABLE_SECTOR

/* Colours (ColorBrewer-like, readable on white and in grey scale). */
#define C_BOOT "#6a51a3"
#define C_BOOT_AREA "#dadaeb"
#define C_TABLE "#9e9ac8"
#define C_IMAGE "#2171b5"
#define C_BAD "#cb181d"
#define C_FREE "#deebf7"
#define C_NVS "#41ab5d"
#define C_OTA "#a1d99b"
#define C_DATA "#fd8d3c"
#define C_ERASED "#ffffff"
#define C_ENC "#525252"
#define C_EDGE "#9e9e9e"
#define C_HI "#fff4d6"
#define C_HI_EDGE "#e69500"
#define C_TRACK "#f2f2f2"
#define C_NOTE "#555555"

/* ------------------------------------------------------------ output */

/* n tenths of a pixel as "12" or "12.5". */
static void num(espimg_buf *b, int64_t n)
{
	if (n < 0) {
		espimg_buf_append(b, "-", 1);
		n = -n;
	}
	if (n % 10)
		espimg_buf_printf(b, "%" PRId64 ".%d", n / 10, (int)(n % 10));
	else
		espimg_buf_printf(b, "%" PRId64, n / 10);
}

/* A rectangle in tenths; extra holds more attributes (or ""). */
static void rect(espimg_buf *b, int64_t x, int64_t y, int64_t w, int64_t h,
		 const char *fill, const char *extra)
{
	espimg_buf_printf(b, "<rect x=\"");
	num(b, x);
	espimg_buf_printf(b, "\" y=\"");
	num(b, y);
	espimg_buf_printf(b, "\" width=\"");
	num(b, w);
	espimg_buf_printf(b, "\" height=\"");
	num(b, h);
	espimg_buf_printf(b, "\" fill=\"%s\"%s%s/>\n", fill, *extra ? " " : "",
			  extra);
}

/*
 * Text for XML: &, <, >, " and ' as entities; bytes that are not
 * well-formed UTF-8, C0/C1 controls and U+FFFE/U+FFFF (not allowed in XML
 * or invisible) as \xNN.  At most max characters (0: no limit), then an
 * ellipsis.
 */
static void xml_text(espimg_buf *b, const char *str, size_t max)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t n = strlen(str), chars = 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = espimg_utf8_seq(s + i, n - i, &cp);

		if (max && chars == max) {
			espimg_buf_printf(b, "\xE2\x80\xA6");
			return;
		}
		chars++;
		if (!k || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ||
		    cp == 0xFFFE || cp == 0xFFFF) {
			size_t m = k ? k : 1;

			for (size_t j = 0; j < m; j++)
				espimg_buf_printf(b, "\\x%02x", s[i + j]);
			i += m;
			continue;
		}
		switch (cp) {
		case '&':
			espimg_buf_printf(b, "&amp;");
			break;
		case '<':
			espimg_buf_printf(b, "&lt;");
			break;
		case '>':
			espimg_buf_printf(b, "&gt;");
			break;
		case '"':
			espimg_buf_printf(b, "&quot;");
			break;
		case '\'':
			espimg_buf_printf(b, "&#39;");
			break;
		case '\\':
			espimg_buf_printf(b, "\\\\");
			break;
		default:
			espimg_buf_append(b, s + i, k);
		}
		i += k;
	}
}

/* A <text> element at (x, y) px; cls is a class of the style sheet. */
static void text(espimg_buf *b, int x, int y, const char *cls,
		 const char *anchor, const char *s, size_t max)
{
	espimg_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"%s\"", x, y, cls);
	if (anchor)
		espimg_buf_printf(b, " text-anchor=\"%s\"", anchor);
	espimg_buf_printf(b, ">");
	xml_text(b, s, max);
	espimg_buf_printf(b, "</text>\n");
}

/* ------------------------------------------------------------ geometry */

typedef struct geo {
	uint64_t map;  /* bytes the bars show */
	int64_t x, w;  /* bar left edge and width, tenths */
} geo;

/* [a, a + n) of the flash as (x, width) in tenths, at least MIN_W wide
 * and inside the bar. */
static void span(const geo *g, uint64_t a, uint64_t n, int64_t *x, int64_t *w)
{
	uint64_t e = a + n;

	if (a > g->map)
		a = g->map;
	if (e > g->map)
		e = g->map;
	*x = g->x + (int64_t)(a * (uint64_t)g->w / g->map);
	*w = (int64_t)(e * (uint64_t)g->w / g->map) - (*x - g->x);
	if (*w < MIN_W)
		*w = MIN_W;
	if (*x + *w > g->x + g->w)
		*x = g->x + g->w - *w;
}

static void area(espimg_buf *b, const geo *g, uint64_t a, uint64_t n,
		 int64_t y, int64_t h, const char *fill, const char *extra)
{
	int64_t x, w;

	span(g, a, n, &x, &w);
	rect(b, x, y, w, h, fill, extra);
}

/* ------------------------------------------------------------ content */

static const char *chip_name(const espimg_flash *f)
{
	return f->chip ? f->chip->name : "unknown chip";
}

static const char *part_fill(const espimg_flash_part *fp)
{
	switch (fp->content) {
	case ESPIMG_PART_IMAGE:
		return fp->image_ok && fp->chip_ok && fp->fits ? C_IMAGE : C_BAD;
	case ESPIMG_PART_NVS:
		return C_NVS;
	case ESPIMG_PART_OTADATA:
		return C_OTA;
	case ESPIMG_PART_ENCRYPTED:
		return C_ENC;
	case ESPIMG_PART_ERASED:
		return C_ERASED;
	case ESPIMG_PART_OUTSIDE:
		return "url(#outside)";
	default:
		return C_DATA;
	}
}

/* One partition drawn in the bar at y (tenths, height h). */
static void draw_part(espimg_buf *b, const geo *g, const espimg_flash_part *fp,
		      int64_t y, int64_t h, bool boots)
{
	const espimg_partition *p = fp->part;
	const char *edge = boots ? "stroke=\"" C_HI_EDGE "\" stroke-width=\"2\""
				 : "stroke=\"" C_EDGE "\" stroke-width=\"0.5\"";

	if (fp->content == ESPIMG_PART_IMAGE) {
		uint64_t used = fp->used < p->size ? fp->used : p->size;

		area(b, g, p->offset, p->size, y, h, C_FREE, "");
		if (used)
			area(b, g, p->offset, used, y, h, part_fill(fp), "");
	} else {
		area(b, g, p->offset, p->size, y, h, part_fill(fp), "");
	}
	if (fp->in_file < p->size && fp->content != ESPIMG_PART_OUTSIDE)
		area(b, g, p->offset + fp->in_file, p->size - fp->in_file, y, h,
		     "url(#outside)", "");
	area(b, g, p->offset, p->size, y, h, "none", edge);
}

/* The description of a partition (first line) and a note (second). */
static void part_words(const espimg_flash_part *fp, char *d, size_t dn,
		       char *note, size_t nn)
{
	const espimg_partition *p = fp->part;
	char u[32], s[32];

	*note = '\0';
	switch (fp->content) {
	case ESPIMG_PART_IMAGE:
		snprintf(d, dn, "%s%s%s%s%s", fp->kind == ESPIMG_KIND_BOOTLOADER
						      ? "bootloader" : "app",
			 fp->project[0] ? " " : "", fp->project,
			 fp->version[0] ? " " : "", fp->version);
		espimg_size_words(u, fp->used);
		espimg_size_words(s, p->size);
		if (fp->problem[0])
			snprintf(note, nn, "%s", fp->problem);
		else if (fp->idf_ver[0])
			snprintf(note, nn, "%s of %s used (%" PRIu64
					   "%%), ESP-IDF %s",
				 u, s, fp->used * 100 / (p->size ? p->size : 1),
				 fp->idf_ver);
		else
			snprintf(note, nn, "%s of %s used (%" PRIu64 "%%)", u, s,
				 fp->used * 100 / (p->size ? p->size : 1));
		return;
	case ESPIMG_PART_NVS:
		snprintf(d, dn, "NVS: %u active, %u full, %u erased pages",
			 fp->nvs_pages_active, fp->nvs_pages_full,
			 fp->nvs_pages_erased);
		if (fp->nvs_pages_corrupt || fp->nvs_pages_freeing)
			snprintf(note, nn, "%u freeing, %u corrupt",
				 fp->nvs_pages_freeing, fp->nvs_pages_corrupt);
		return;
	case ESPIMG_PART_OTADATA:
		if (fp->ota_active_entry >= 0) {
			const char *st = espimg_otadata_state_name(
				fp->ota_state[fp->ota_active_entry]);

			snprintf(d, dn, "otadata: entry %d active, seq %" PRIu32,
				 fp->ota_active_entry,
				 fp->ota_seq[fp->ota_active_entry]);
			snprintf(note, nn, "state %s", st ? st : "unknown");
		} else {
			snprintf(d, dn, "otadata: %s",
				 fp->used ? "no valid entry" : "erased");
		}
		return;
	case ESPIMG_PART_ENCRYPTED:
		snprintf(d, dn, "looks encrypted");
		break;
	case ESPIMG_PART_ERASED:
		snprintf(d, dn, "erased");
		break;
	case ESPIMG_PART_OUTSIDE:
		snprintf(d, dn, "not in the file");
		break;
	default:
		espimg_size_words(u, fp->used);
		snprintf(d, dn, "data, written up to %s", u);
		break;
	}
	if (fp->in_file && fp->in_file < p->size) {
		espimg_size_words(u, fp->in_file);
		snprintf(note, nn, "only %s of it in the file", u);
	} else if (fp->problem[0] && fp->content != ESPIMG_PART_OUTSIDE &&
		   fp->content != ESPIMG_PART_ERASED) {
		snprintf(note, nn, "%s", fp->problem);
	}
}

/* ------------------------------------------------------------ rows */

static void row_label(espimg_buf *b, int y, const char *name, uint64_t off,
		      uint64_t size)
{
	char s[32], line[64];

	text(b, MARGIN, y + 17, "n", NULL, name, 18);
	espimg_size_words(s, size);
	snprintf(line, sizeof(line), "0x%" PRIx64 " \xC2\xB7 %s", off, s);
	text(b, MARGIN, y + 33, "s", NULL, line, 0);
}

static void badge(espimg_buf *b, int y, const char *label, bool dashed)
{
	int w = (int)strlen(label) * 7 + 14;

	espimg_buf_printf(b, "<rect x=\"168\" y=\"%d\" width=\"%d\" height=\"18\" "
			     "rx=\"9\" fill=\"%s\"%s/>\n",
			  y + 4, w, dashed ? "#ffffff" : C_HI_EDGE,
			  dashed ? " stroke=\"" C_HI_EDGE "\" stroke-width=\"1.5\" "
				   "stroke-dasharray=\"3 2\""
				 : "");
	text(b, 168 + w / 2, y + 17, dashed ? "bd" : "b", "middle", label, 0);
}

static void track(espimg_buf *b, const geo *g, int y)
{
	rect(b, g->x, (int64_t)(y + 9) * 10, g->w, 200, C_TRACK,
	     "stroke=\"#d0d0d0\" stroke-width=\"0.5\"");
}

/* Splits s into lines of at most max bytes at spaces (a longer word is
 * cut); writes each with text() from y on (b NULL: only counts).
 * Returns the next y. */
static int wrapped(espimg_buf *b, int y, const char *s, size_t max, int step)
{
	size_t n = strlen(s);
	char line[256];

	if (max >= sizeof(line))
		max = sizeof(line) - 1;
	while (n) {
		size_t k = n <= max ? n : max;

		if (k < n) {
			size_t sp = k;

			while (sp > 0 && s[sp] != ' ')
				sp--;
			if (sp > 0)
				k = sp;
			else
				while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
					k--;
			if (!k)
				k = n <= max ? n : max;
		}
		memcpy(line, s, k);
		line[k] = '\0';
		if (b)
			text(b, MARGIN, y, "r", NULL, line, 0);
		y += step;
		s += k;
		n -= k;
		while (n && *s == ' ') {
			s++;
			n--;
		}
	}
	return y;
}

/* ------------------------------------------------------------ legend */

static const struct {
	const char *fill;
	const char *extra;
	const char *label;
} legend[] = {
	{ C_BOOT, "", "bootloader" },
	{ C_TABLE, "", "partition table" },
	{ C_IMAGE, "", "app image" },
	{ C_BAD, "", "image that does not load" },
	{ C_FREE, "stroke=\"" C_IMAGE "\" stroke-width=\"0.5\"",
	  "free space in an app slot" },
	{ C_NVS, "", "NVS" },
	{ C_OTA, "", "otadata" },
	{ C_DATA, "", "other data" },
	{ C_ERASED, "stroke=\"" C_EDGE "\" stroke-width=\"0.5\"", "erased" },
	{ C_ENC, "", "looks encrypted" },
	{ "url(#outside)", "stroke=\"" C_EDGE "\" stroke-width=\"0.5\"",
	  "not in the file" },
	{ C_HI, "stroke=\"" C_HI_EDGE "\" stroke-width=\"2\"",
	  "the slot that boots" },
};

#define LEGEND_PER_ROW 4
#define LEGEND_STEP 240

static int legend_height(void)
{
	return 30 + (int)((ESPIMG_ARRAY_SIZE(legend) + LEGEND_PER_ROW - 1) /
			  LEGEND_PER_ROW) * 22;
}

static void draw_legend(espimg_buf *b, int y)
{
	text(b, MARGIN, y + 14, "n", NULL, "Legend", 0);
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(legend); i++) {
		int x = MARGIN + (int)(i % LEGEND_PER_ROW) * LEGEND_STEP;
		int ly = y + 26 + (int)(i / LEGEND_PER_ROW) * 22;

		rect(b, (int64_t)x * 10, (int64_t)ly * 10, 160, 140,
		     legend[i].fill, legend[i].extra);
		text(b, x + 22, ly + 12, "s", NULL, legend[i].label, 0);
	}
}

/* ------------------------------------------------------------ picture */

int espimg_flash_explain_svg(const espimg_flash_explain *x, const char *title,
			     char **svg, size_t *len)
{
	const espimg_flash *f;
	espimg_buf b = { 0 };
	char head[160], d[192], note[192], s1[32], s2[32];
	uint64_t bl_area = 0, tb = 0;
	espimg_buf rb = { 0 };
	char *reason;
	int y, rows, height;
	geo ov, g;
	const char *name;

	if (svg)
		*svg = NULL;
	if (len)
		*len = 0;
	if (!x || !x->flash || !svg)
		return ESPIMG_EINVAL;
	f = x->flash;
	name = title ? title : "flash";

	ov.map = g.map = espimg_explain_map_size(x);
	ov.x = MARGIN * 10;
	ov.w = (W - 2 * MARGIN) * 10;
	g.x = BAR_X * 10;
	g.w = BAR_W * 10;

	if (f->has_bootloader)
		bl_area = f->table && f->table_offset > f->bootloader_offset
				  ? f->table_offset - f->bootloader_offset
				  : (x->bootloader_size ? x->bootloader_size
							: TABLE_AREA);
	if (f->table)
		tb = f->table_offset + f->base_offset;

	if (x->boot >= 0)
		espimg_buf_printf(&rb, "The bootloader loads %s: ",
				  x->parts[x->boot].part->name);
	else
		espimg_buf_printf(&rb, "The bootloader loads nothing: ");
	espimg_buf_printf(&rb, "%s", x->boot_reason);
	reason = espimg_buf_finish(&rb, NULL);
	if (!reason)
		return ESPIMG_ENOMEM;

	/* How tall: title, reason lines, overview, rows, legend. */
	rows = (f->has_bootloader ? 1 : 0) + (f->table ? 1 : 0) + (int)x->nparts;
	y = wrapped(NULL, 70, reason, REASON_CHARS, 16) + 16 + 12;
	height = y + OV_H + 30 + rows * ROW_H + 16 + legend_height() + 10;

	espimg_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	espimg_buf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
			      "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
			      "role=\"img\">\n",
			  W, height, W, height);
	espimg_buf_printf(&b, "<title>");
	xml_text(&b, name, 0);
	espimg_buf_printf(&b, ": flash layout</title>\n");
	espimg_buf_printf(
		&b,
		"<style>\n"
		"text { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, "
		"Helvetica, sans-serif; fill: #222222; }\n"
		".t { font-size: 18px; font-weight: bold; }\n"
		".h { font-size: 14px; font-weight: bold; }\n"
		".hw { font-size: 14px; font-weight: bold; fill: " C_BAD "; }\n"
		".r { font-size: 12px; }\n"
		".n { font-size: 14px; font-weight: bold; }\n"
		".d { font-size: 12px; }\n"
		".s { font-size: 11px; fill: " C_NOTE "; }\n"
		".w { font-size: 11px; fill: " C_BAD "; }\n"
		".b { font-size: 11px; font-weight: bold; fill: #ffffff; }\n"
		".bd { font-size: 11px; font-weight: bold; fill: " C_HI_EDGE "; }\n"
		"</style>\n");
	espimg_buf_printf(&b, "<defs><pattern id=\"outside\" width=\"6\" "
			      "height=\"6\" patternUnits=\"userSpaceOnUse\" "
			      "patternTransform=\"rotate(45)\"><rect width=\"6\" "
			      "height=\"6\" fill=\"#ffffff\"/><line x1=\"0\" "
			      "y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#bdbdbd\" "
			      "stroke-width=\"2\"/></pattern></defs>\n");
	rect(&b, 0, 0, W * 10, (int64_t)height * 10, "#ffffff", "");

	/* title, what boots and why */
	espimg_buf_printf(&b, "<text x=\"%d\" y=\"30\" class=\"t\">", MARGIN);
	xml_text(&b, name, TITLE_CHARS);
	espimg_buf_printf(&b, "</text>\n");
	espimg_size_words(s1, ov.map);
	if (x->boots)
		snprintf(head, sizeof(head), "%s, %s flash: boots %s",
			 chip_name(f), s1, x->parts[x->boot].part->name);
	else
		snprintf(head, sizeof(head), "%s, %s flash: does not boot (%s)",
			 chip_name(f), s1, espimg_explain_no_boot(x));
	text(&b, MARGIN, 52, x->boots ? "h" : "hw", NULL, head, 0);
	snprintf(d, sizeof(d), "With rollback on: %s.",
		 x->boot_rollback >= 0 ? x->parts[x->boot_rollback].part->name
				       : "nothing");
	text(&b, MARGIN, wrapped(&b, 70, reason, REASON_CHARS, 16), "r", NULL,
	     d, 0);
	free(reason);

	/* overview: the whole flash in one bar */
	rect(&b, ov.x, (int64_t)y * 10, ov.w, OV_H * 10, C_TRACK,
	     "stroke=\"#d0d0d0\" stroke-width=\"0.5\"");
	if (f->has_bootloader)
		area(&b, &ov, f->bootloader_offset + f->base_offset, bl_area,
		     (int64_t)y * 10, OV_H * 10, C_BOOT, "");
	if (f->table)
		area(&b, &ov, tb, TABLE_AREA, (int64_t)y * 10, OV_H * 10,
		     C_TABLE, "");
	for (size_t i = 0; i < x->nparts; i++)
		draw_part(&b, &ov, &x->parts[i], (int64_t)y * 10, OV_H * 10,
			  (int)i == x->boot);
	for (int k = 0; k <= 4; k++) {
		uint64_t at = ov.map / 4 * (uint64_t)k;
		char lab[24];

		snprintf(lab, sizeof(lab), "0x%" PRIx64, at);
		text(&b, MARGIN + (W - 2 * MARGIN) * k / 4, y + OV_H + 14, "s",
		     k == 0 ? "start" : k == 4 ? "end" : "middle", lab, 0);
	}
	y += OV_H + 30;

	/* one row per area */
	if (f->has_bootloader) {
		uint64_t a = f->bootloader_offset + f->base_offset;

		row_label(&b, y, "bootloader", a, bl_area);
		track(&b, &g, y);
		area(&b, &g, a, bl_area, (int64_t)(y + 9) * 10, 200, C_BOOT_AREA,
		     "");
		if (x->bootloader_size)
			area(&b, &g, a, x->bootloader_size, (int64_t)(y + 9) * 10,
			     200, x->bootloader_ok ? C_BOOT : C_BAD, "");
		snprintf(d, sizeof(d), "%s %s%s%s%s%s", chip_name(f),
			 x->bootloader_kind == ESPIMG_KIND_APP ? "app image"
							       : "bootloader",
			 x->bootloader_version[0] ? " v" : "",
			 x->bootloader_version,
			 x->bootloader_idf_ver[0] ? ", ESP-IDF " : "",
			 x->bootloader_idf_ver);
		text(&b, DESC_X, y + 17, "d", NULL, d, DESC_CHARS);
		if (!x->bootloader_ok) {
			text(&b, DESC_X, y + 33, "w", NULL, x->bootloader_problem,
			     NOTE_CHARS);
		} else if (!f->bootloader_offset_ok && f->chip) {
			snprintf(note, sizeof(note),
				 "%s: the ROM loads it from 0x%" PRIx32,
				 f->base_offset ? "file starts at a flash offset"
						: "wrong offset",
				 f->chip->bootloader_offset);
			text(&b, DESC_X, y + 33, f->base_offset ? "s" : "w", NULL,
			     note, NOTE_CHARS);
		} else {
			espimg_size_words(s1, x->bootloader_size);
			snprintf(note, sizeof(note), "%s, ok", s1);
			text(&b, DESC_X, y + 33, "s", NULL, note, NOTE_CHARS);
		}
		y += ROW_H;
	}
	if (f->table) {
		row_label(&b, y, "partition table", tb, TABLE_AREA);
		track(&b, &g, y);
		area(&b, &g, tb, TABLE_AREA, (int64_t)(y + 9) * 10, 200,
		     C_TABLE, "");
		snprintf(d, sizeof(d), "%zu partition%s%s", f->table->count,
			 f->table->count == 1 ? "" : "s",
			 f->table->has_md5 ? ", MD5 ok" : "");
		text(&b, DESC_X, y + 17, "d", NULL, d, DESC_CHARS);
		if (f->table_scanned)
			text(&b, DESC_X, y + 33, "s", NULL,
			     "found by a scan, not at the expected offset",
			     NOTE_CHARS);
		y += ROW_H;
	}
	for (size_t i = 0; i < x->nparts; i++) {
		const espimg_flash_part *fp = &x->parts[i];
		bool boots = (int)i == x->boot;
		bool bad = fp->app_slot && !fp->bootable &&
			   fp->content == ESPIMG_PART_IMAGE;

		if (boots)
			espimg_buf_printf(&b, "<rect x=\"10\" y=\"%d\" width=\"%d\" "
					      "height=\"%d\" rx=\"4\" fill=\"" C_HI
					      "\" stroke=\"" C_HI_EDGE
					      "\" stroke-width=\"2\"/>\n",
					  y + 1, W - 20, ROW_H - 2);
		row_label(&b, y, fp->part->name, fp->part->offset,
			  fp->part->size);
		if (boots)
			badge(&b, y, x->boots ? "boots" : "would boot", false);
		else if ((int)i == x->boot_rollback)
			badge(&b, y, "boots with rollback", true);
		track(&b, &g, y);
		draw_part(&b, &g, fp, (int64_t)(y + 9) * 10, 200, boots);
		part_words(fp, d, sizeof(d), note, sizeof(note));
		text(&b, DESC_X, y + 17, "d", NULL, d, DESC_CHARS);
		if (note[0])
			text(&b, DESC_X, y + 33, bad ? "w" : "s", NULL, note,
			     NOTE_CHARS);
		y += ROW_H;
	}
	espimg_size_words(s2, g.map);
	snprintf(d, sizeof(d), "bars: 0x0 to 0x%" PRIx64 " (%s)", g.map, s2);
	text(&b, BAR_X, y + 4, "s", NULL, d, 0);
	draw_legend(&b, y + 16);
	espimg_buf_printf(&b, "</svg>\n");

	*svg = espimg_buf_finish(&b, len);
	return *svg ? ESPIMG_OK : ESPIMG_ENOMEM;
}
