/*
 * ptable.c - the ESP-IDF partition table: CSV and binary parsing, the
 * layout pass, validation, binary encoding and CSV rendering.
 *
 * Behaviour follows gen_esp32part.py v1.5 (ESP-IDF v5.5 .. v6.1-beta1);
 * ../shared/docs/partitions.md explains every rule.  The text-level Python
 * semantics (lines, whitespace, numbers) live in ptable_text.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "espimg/ptable.h"
#include "internal.h"
#include "ptable_int.h"

/* ------------------------------------------------------------ keywords */

/* Type keywords in the reference's order (it shows in messages). */
static const pt_keyword type_keywords[] = {
	{ "bootloader", ESPIMG_PTYPE_BOOTLOADER },
	{ "partition_table", ESPIMG_PTYPE_PARTITION_TABLE },
	{ "app", ESPIMG_PTYPE_APP },
	{ "data", ESPIMG_PTYPE_DATA },
};

/* esp_partition.h subtypes, in the reference's keyword order. */
static const pt_keyword app_subtypes[] = {
	{ "factory", 0x00 }, { "test", 0x20 },
	{ "ota_0", 0x10 }, { "ota_1", 0x11 }, { "ota_2", 0x12 },
	{ "ota_3", 0x13 }, { "ota_4", 0x14 }, { "ota_5", 0x15 },
	{ "ota_6", 0x16 }, { "ota_7", 0x17 }, { "ota_8", 0x18 },
	{ "ota_9", 0x19 }, { "ota_10", 0x1A }, { "ota_11", 0x1B },
	{ "ota_12", 0x1C }, { "ota_13", 0x1D }, { "ota_14", 0x1E },
	{ "ota_15", 0x1F },
	{ "tee_0", 0x30 }, { "tee_1", 0x31 }, /* ESP-IDF v5.5 */
};

static const pt_keyword data_subtypes[] = {
	{ "ota", 0x00 }, { "phy", 0x01 }, { "nvs", 0x02 }, { "coredump", 0x03 },
	{ "nvs_keys", 0x04 }, { "efuse", 0x05 }, { "undefined", 0x06 },
	{ "esphttpd", 0x80 }, { "fat", 0x81 }, { "spiffs", 0x82 },
	{ "littlefs", 0x83 }, /* ESP-IDF v5.1.4 / v5.2 */
	{ "tee_ota", 0x90 },  /* ESP-IDF v5.5 */
};

static const pt_keyword bootloader_subtypes[] = {
	{ "primary", 0x00 }, { "ota", 0x01 }, { "recovery", 0x02 },
};

static const pt_keyword table_subtypes[] = {
	{ "primary", 0x00 }, { "ota", 0x01 },
};

/* Room for the largest built-in list plus every extra subtype. */
#define PT_MAX_KEYWORDS (ESPIMG_ARRAY_SIZE(app_subtypes) + ESPIMG_PTABLE_MAX_EXTRA)

static const pt_keyword *builtin_subtypes(uint8_t type, size_t *n)
{
	switch (type) {
	case ESPIMG_PTYPE_APP:
		*n = ESPIMG_ARRAY_SIZE(app_subtypes);
		return app_subtypes;
	case ESPIMG_PTYPE_DATA:
		*n = ESPIMG_ARRAY_SIZE(data_subtypes);
		return data_subtypes;
	case ESPIMG_PTYPE_BOOTLOADER:
		*n = ESPIMG_ARRAY_SIZE(bootloader_subtypes);
		return bootloader_subtypes;
	case ESPIMG_PTYPE_PARTITION_TABLE:
		*n = ESPIMG_ARRAY_SIZE(table_subtypes);
		return table_subtypes;
	default:
		*n = 0;
		return NULL;
	}
}

/*
 * The subtype keywords of a type as the reference sees them after
 * --extra-partition-subtypes: built-ins in order (an extra with the same
 * name replaces the value in place, as a Python dict update does), then the
 * new names in the order given.
 */
static size_t subtype_keywords(const espimg_ptable_opts *opts, uint8_t type,
			       pt_keyword out[PT_MAX_KEYWORDS])
{
	size_t nb, n = 0;
	const pt_keyword *b = builtin_subtypes(type, &nb);
	size_t nextra = opts ? opts->n_extra : 0;

	for (size_t i = 0; i < nb; i++)
		out[n++] = b[i];
	for (size_t e = 0; e < nextra; e++) {
		const espimg_subtype_name *x = &opts->extra[e];
		size_t i;
		if (x->type != type)
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(out[i].name, x->name))
				break;
		if (i == n)
			out[n++].name = x->name;
		out[i].value = x->value;
	}
	return n;
}

static void keyword_list(espimg_buf *b, const pt_keyword *kw, size_t n)
{
	for (size_t i = 0; i < n; i++)
		espimg_buf_printf(b, "%s%s", i ? ", " : "", kw[i].name);
}

const char *espimg_ptable_type_name(uint8_t type)
{
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(type_keywords); i++)
		if (type_keywords[i].value == type)
			return type_keywords[i].name;
	return NULL;
}

const char *espimg_ptable_subtype_name(const espimg_ptable_opts *opts,
				       uint8_t type, uint8_t subtype)
{
	pt_keyword kw[PT_MAX_KEYWORDS];
	size_t n = subtype_keywords(opts, type, kw);

	for (size_t i = 0; i < n; i++)
		if (kw[i].value == subtype)
			return kw[i].name;
	return NULL;
}

/* ------------------------------------------------------------ options */

void espimg_ptable_opts_init(espimg_ptable_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->table_offset = ESPIMG_PTABLE_DEFAULT_OFFSET;
	opts->primary_bootloader_offset = -1;
	opts->recovery_bootloader_offset = -1;
	opts->md5 = true;
	opts->verify = true;
}

int espimg_ptable_add_extra_subtype(espimg_ptable_opts *opts, const char *spec,
				    espimg_diag_list *diags)
{
	pt_span piece[3];
	size_t npieces = 0;
	const char *p, *end;
	int64_t value;
	int type = -1;
	pt_keyword kw[PT_MAX_KEYWORDS];
	size_t n;

	if (!opts || !spec)
		return ESPIMG_EINVAL;
	p = spec;
	end = spec + strlen(spec);
	while (npieces < 3) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		pt_span s = { p, (size_t)(stop - p), 1 };
		piece[npieces++] = pt_strip(s);
		if (!comma)
			break;
		p = comma + 1;
	}
	if (npieces < 3) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.extra-subtype",
				NULL, 0, 0, -1,
				"custom subtype '%s' is not of the form "
				"type,name,value", spec);
		return ESPIMG_EINVAL;
	}
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(type_keywords); i++)
		if (strlen(type_keywords[i].name) == piece[0].len &&
		    !memcmp(type_keywords[i].name, piece[0].p, piece[0].len))
			type = (int)type_keywords[i].value;
	if (type < 0) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.extra-subtype",
				NULL, 0, 0, -1,
				"custom subtype '%s': type '%.*s' is not one of "
				"bootloader, partition_table, app, data", spec,
				(int)piece[0].len, piece[0].p);
		return ESPIMG_EINVAL;
	}
	if (pt_parse_hex(piece[2], &value) || value < 0 || value > 0xFF) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.extra-subtype",
				NULL, 0, 0, -1,
				"custom subtype '%s': value '%.*s' is not a "
				"hexadecimal number from 0 to ff", spec,
				(int)piece[2].len, piece[2].p);
		return ESPIMG_EINVAL;
	}
	if (piece[1].len == 0 || piece[1].len >= ESPIMG_PTABLE_EXTRA_NAME ||
	    memchr(piece[1].p, '\0', piece[1].len)) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.extra-subtype",
				NULL, 0, 0, -1,
				"custom subtype '%s': the name must have 1 to %u "
				"bytes", spec, ESPIMG_PTABLE_EXTRA_NAME - 1);
		return ESPIMG_EINVAL;
	}
	n = subtype_keywords(opts, (uint8_t)type, kw);
	for (size_t i = 0; i < n; i++) {
		if (kw[i].value == value) {
			espimg_diag_add(diags, ESPIMG_SEV_ERROR,
					"ptable.extra-subtype", NULL, 0, 0, -1,
					"custom subtype '%s': %s subtype 0x%02x "
					"is already named '%s'", spec,
					espimg_ptable_type_name((uint8_t)type),
					(unsigned)value, kw[i].name);
			return ESPIMG_EINVAL;
		}
	}
	if (opts->n_extra >= ESPIMG_PTABLE_MAX_EXTRA) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.extra-subtype",
				NULL, 0, 0, -1,
				"more than %d custom subtypes",
				ESPIMG_PTABLE_MAX_EXTRA);
		return ESPIMG_ETOOBIG;
	}
	{
		/* The reference matches lower-cased text and peels a trailing
		 * k/m off as a size suffix first: such names never match. */
		bool upper = false;
		char last = piece[1].p[piece[1].len - 1] | 0x20;
		for (size_t i = 0; i < piece[1].len; i++)
			if (piece[1].p[i] >= 'A' && piece[1].p[i] <= 'Z')
				upper = true;
		if (upper || last == 'k' || last == 'm')
			espimg_diag_add(diags, ESPIMG_SEV_WARNING,
					"ptable.extra-subtype", NULL, 0, 0, -1,
					"custom subtype name '%.*s' can never be "
					"used in a CSV: %s", (int)piece[1].len,
					piece[1].p,
					upper ? "names are matched in lower case"
					      : "a trailing k or m is read as a "
						"size suffix");
	}
	espimg_subtype_name *x = &opts->extra[opts->n_extra++];
	x->type = (uint8_t)type;
	x->value = (uint8_t)value;
	memcpy(x->name, piece[1].p, piece[1].len);
	x->name[piece[1].len] = '\0';
	return 0;
}

int espimg_idf_version_parse(const char *text, unsigned *out)
{
	unsigned part[3] = { 0, 0, 0 };
	int n = 0;
	const char *p = text;

	if (!text || !out)
		return ESPIMG_EINVAL;
	if (*p == 'v' || *p == 'V')
		p++;
	while (n < 3) {
		unsigned v = 0;
		int digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 3) {
			v = v * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (!digits || v > 99)
			return ESPIMG_EINVAL;
		part[n++] = v;
		if (*p != '.')
			break;
		p++;
	}
	if (*p || n < 2)
		return ESPIMG_EINVAL;
	*out = ESPIMG_IDF_VERSION(part[0], part[1], part[2]);
	return 0;
}

/* ------------------------------------------------------------ table */

void espimg_ptable_free(espimg_ptable *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->count; i++)
		free(t->parts[i].name);
	free(t->parts);
	free(t);
}

static espimg_partition *table_append(espimg_ptable *t, size_t *cap)
{
	if (t->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		espimg_partition *np = realloc(t->parts, ncap * sizeof(*np));
		if (!np)
			return NULL;
		t->parts = np;
		*cap = ncap;
	}
	espimg_partition *p = &t->parts[t->count++];
	memset(p, 0, sizeof(*p));
	p->bin_offset = -1;
	return p;
}

static const char *display_name(const espimg_partition *p)
{
	return p->name ? p->name : "";
}

/* Field numbers for positions: CSV column index / byte offset in an entry. */
enum { F_NAME, F_TYPE, F_SUBTYPE, F_OFFSET, F_SIZE, F_FLAGS, F_ENTRY };
static const unsigned field_byte[] = { 12, 2, 3, 4, 8, 28, 0 };

/* A diagnostic about one partition, placed at the field it concerns. */
static void ESPIMG_PRINTF(7, 8)
pdiag(espimg_diag_list *d, const char *file, const espimg_partition *p,
      int field, espimg_severity sev, const char *code, const char *fmt, ...);

static void pdiag(espimg_diag_list *d, const char *file,
		  const espimg_partition *p, int field, espimg_severity sev,
		  const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	unsigned col = 0;
	int64_t off = -1;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line) {
		col = field < F_ENTRY ? p->col[field] : 0;
		if (!col)
			col = p->col[F_NAME] ? p->col[F_NAME] : 1;
	}
	if (p->bin_offset >= 0)
		off = p->bin_offset + field_byte[field];
	espimg_diag_add(d, sev, code, file, p->line, col, off, "%s", msg);
}

/* ------------------------------------------------------------ CSV */

/* Per-entry facts the layout pass needs and the model does not keep. */
typedef struct pt_pending {
	int64_t offset;   /* when has_offset */
	int64_t size;     /* negative: "ends at -size" */
	bool has_offset;
	bool skip_layout; /* primary bootloader / table rows */
} pt_pending;

typedef struct pt_csv {
	const espimg_ptable_opts *opts;
	const char *file;
	espimg_diag_list *diags;
	int errors;
	unsigned line;
} pt_csv;

static void ESPIMG_PRINTF(5, 6)
cdiag(pt_csv *c, unsigned col, espimg_severity sev, const char *code,
      const char *fmt, ...);

static void cdiag(pt_csv *c, unsigned col, espimg_severity sev,
		  const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sev == ESPIMG_SEV_ERROR)
		c->errors++;
	espimg_diag_add(c->diags, sev, code, c->file, c->line, col, -1, "%s",
			msg);
}

/*
 * Parses a number field.  kw/nkw: its keywords (type or subtype); what:
 * the field's name for messages.  Returns 0 and *out, or -1 after adding an
 * error.
 */
static int csv_number(pt_csv *c, pt_span s, const pt_keyword *kw, size_t nkw,
		      const char *what, int64_t *out, bool *named)
{
	pt_span bad;
	int overflow = 0;
	int r = pt_parse_number(s, kw, nkw, out, &bad, &overflow);

	if (r == PT_NUM_INVALID) {
		cdiag(c, s.col, ESPIMG_SEV_ERROR, "ptable.number",
		      "%s '%.*s' is not a number%s", what, (int)s.len, s.p,
		      bad.len != s.len ? "" :
		      " (use decimal, 0x hex, 0o octal or 0b binary, with an "
		      "optional K or M suffix)");
		if (bad.len != s.len)
			espimg_diag_add(c->diags, ESPIMG_SEV_NOTE, "ptable.number",
					c->file, c->line, s.col, -1,
					"'%.*s' is left after the K/M suffixes "
					"and is not a number", (int)bad.len,
					bad.p);
		return -1;
	}
	if (r == PT_NUM_UNKNOWN_KEYWORD) {
		espimg_buf b = { 0 };
		keyword_list(&b, kw, nkw);
		char *list = espimg_buf_finish(&b, NULL);
		cdiag(c, s.col, ESPIMG_SEV_ERROR, "ptable.keyword",
		      "unknown %s '%.*s'; expected a number or one of: %s", what,
		      (int)bad.len, bad.p, list ? list : "");
		free(list);
		return -1;
	}
	if (overflow) {
		cdiag(c, s.col, ESPIMG_SEV_ERROR, "ptable.range",
		      "%s '%.*s' is far too large", what, (int)s.len, s.p);
		return -1;
	}
	if (named) {
		/* A keyword was used when the text is not a plain number. */
		int64_t dummy;
		int ov = 0;
		*named = pt_parse_number(s, NULL, 0, &dummy, &bad, &ov) != 0;
	}
	return 0;
}

/* Splits the stripped line into up to six trimmed fields. */
static void split_fields(pt_span line, pt_span f[6])
{
	const char *p = line.p, *end = line.p + line.len;
	unsigned col = line.col;
	bool more = true;

	for (int i = 0; i < 6; i++) {
		if (!more) { /* a missing field reads as empty */
			f[i] = (pt_span){ end, 0, col };
			continue;
		}
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		f[i] = pt_strip((pt_span){ p, (size_t)(stop - p), col });
		if (!f[i].len)
			f[i].col = col;
		col += (unsigned)pt_count_chars(p, (size_t)(stop - p)) + 1;
		if (comma)
			p = comma + 1;
		else
			more = false;
	}
}

static int csv_flags(pt_csv *c, pt_span s, uint32_t *flags)
{
	const char *p = s.p, *end = s.p + s.len;
	unsigned col = s.col;
	int bad = 0;

	/* Pieces are split on ':' and, like the reference, not trimmed. */
	while (p <= end) {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *stop = colon ? colon : end;
		size_t n = (size_t)(stop - p);

		if (n == 9 && !memcmp(p, "encrypted", 9)) {
			*flags |= ESPIMG_PFLAG_ENCRYPTED;
		} else if (n == 8 && !memcmp(p, "readonly", 8)) {
			*flags |= ESPIMG_PFLAG_READONLY;
		} else if (n) {
			cdiag(c, col, ESPIMG_SEV_ERROR, "ptable.flag",
			      "unknown flag '%.*s'; flags are 'encrypted' and "
			      "'readonly' (lower case), separated by ':' with no "
			      "spaces", (int)n, p);
			bad = 1;
		}
		col += (unsigned)pt_count_chars(p, n) + 1;
		if (!colon)
			break;
		p = colon + 1;
	}
	return bad ? -1 : 0;
}

static int has_nul(pt_span s)
{
	return memchr(s.p, '\0', s.len) != NULL;
}

/* Parses one non-comment line into p and its pending layout facts. */
static int csv_entry(pt_csv *c, pt_span line, espimg_partition *p,
		     pt_pending *pend)
{
	const espimg_ptable_opts *o = c->opts;
	pt_span f[6];
	int64_t v;
	bool named = false, type_ok = false;
	int errors = c->errors;

	split_fields(line, f);
	p->line = c->line;
	for (int i = 0; i < 6; i++)
		p->col[i] = f[i].col;

	/* name */
	if (has_nul(f[F_NAME]))
		cdiag(c, f[F_NAME].col, ESPIMG_SEV_ERROR, "ptable.name",
		      "the name contains a NUL character");
	p->name = malloc(f[F_NAME].len + 1);
	if (!p->name)
		return ESPIMG_ENOMEM;
	memcpy(p->name, f[F_NAME].p, f[F_NAME].len);
	p->name[f[F_NAME].len] = '\0';
	if (f[F_NAME].len > ESPIMG_PTABLE_NAME_LEN) {
		/* The reference cuts silently, even inside a character. */
		const uint8_t *nm = (const uint8_t *)p->name;
		size_t keep = ESPIMG_PTABLE_NAME_LEN;
		while (keep > 0 && (nm[keep] & 0xC0) == 0x80)
			keep--;
		cdiag(c, f[F_NAME].col, ESPIMG_SEV_WARNING, "ptable.name-cut",
		      "name '%s' has %zu bytes; the binary keeps the first 16%s",
		      p->name, f[F_NAME].len,
		      keep == ESPIMG_PTABLE_NAME_LEN ? "" :
		      ", cutting a UTF-8 character in two");
	}

	/* type */
	if (f[F_TYPE].len == 0) {
		cdiag(c, f[F_TYPE].col, ESPIMG_SEV_ERROR, "ptable.empty",
		      "the type field is empty; expected app, data, bootloader, "
		      "partition_table or a number");
	} else if (csv_number(c, f[F_TYPE], type_keywords,
			      ESPIMG_ARRAY_SIZE(type_keywords), "type", &v,
			      &named) == 0) {
		if (v < 0 || v > 0xFF) {
			cdiag(c, f[F_TYPE].col, ESPIMG_SEV_ERROR, "ptable.range",
			      "type %lld is out of range (0 to 255)",
			      (long long)v);
		} else {
			p->type = (uint8_t)v;
			type_ok = true;
			if (named)
				p->source |= ESPIMG_PSRC_TYPE_NAMED;
		}
	}

	/* subtype: its keywords depend on the type */
	if (type_ok) {
		pt_keyword kw[PT_MAX_KEYWORDS];
		size_t nkw = subtype_keywords(o, p->type, kw);

		if (f[F_SUBTYPE].len == 0) {
			if (p->type == ESPIMG_PTYPE_APP)
				cdiag(c, f[F_SUBTYPE].col, ESPIMG_SEV_ERROR,
				      "ptable.empty",
				      "an app partition needs a subtype (factory, "
				      "test, ota_0 .. ota_15, ...)");
			p->subtype = ESPIMG_PSUB_DATA_UNDEFINED;
			p->source |= ESPIMG_PSRC_SUBTYPE_EMPTY;
		} else if (csv_number(c, f[F_SUBTYPE], kw, nkw, "subtype", &v,
				      &named) == 0) {
			if (v < 0 || v > 0xFF)
				cdiag(c, f[F_SUBTYPE].col, ESPIMG_SEV_ERROR,
				      "ptable.range",
				      "subtype %lld is out of range (0 to 255)",
				      (long long)v);
			else
				p->subtype = (uint8_t)v;
			if (named)
				p->source |= ESPIMG_PSRC_SUBTYPE_NAMED;
		}
	}

	bool is_bl = type_ok && p->type == ESPIMG_PTYPE_BOOTLOADER;
	bool is_pt = type_ok && p->type == ESPIMG_PTYPE_PARTITION_TABLE;
	bool fixed_offset = (is_bl && (p->subtype == ESPIMG_PSUB_PRIMARY ||
				       p->subtype == ESPIMG_PSUB_RECOVERY)) ||
			    (is_pt && p->subtype == ESPIMG_PSUB_PRIMARY);

	/* offset: ignored (any text) where the options fix it */
	if (!fixed_offset && f[F_OFFSET].len) {
		if (csv_number(c, f[F_OFFSET], NULL, 0, "offset", &v, NULL) == 0) {
			if (v < 0)
				cdiag(c, f[F_OFFSET].col, ESPIMG_SEV_ERROR,
				      "ptable.range", "offset %lld is negative",
				      (long long)v);
			else if (v > 0xFFFFFFFF)
				cdiag(c, f[F_OFFSET].col, ESPIMG_SEV_ERROR,
				      "ptable.range",
				      "offset 0x%llx does not fit in 32 bits",
				      (unsigned long long)v);
			pend->offset = v;
			pend->has_offset = true;
		}
	} else if (!fixed_offset) {
		p->source |= ESPIMG_PSRC_OFFSET_BLANK;
	}

	/* size: ignored (any text) for bootloader and partition_table rows */
	if (!is_bl && !is_pt) {
		if (f[F_SIZE].len == 0) {
			cdiag(c, f[F_SIZE].col, ESPIMG_SEV_ERROR, "ptable.empty",
			      "the size field is empty");
		} else if (csv_number(c, f[F_SIZE], NULL, 0, "size", &v,
				      NULL) == 0) {
			/* A negative size is an end address; its range is
			 * checked once the offset is known. */
			if (v > 0xFFFFFFFF || v < -(int64_t)0x1FFFFFFFF)
				cdiag(c, f[F_SIZE].col, ESPIMG_SEV_ERROR,
				      "ptable.range",
				      "size 0x%llx does not fit in 32 bits",
				      (unsigned long long)(v < 0 ? -v : v));
			pend->size = v;
		}
	}

	/* flags */
	csv_flags(c, f[F_FLAGS], &p->flags);

	/* Bootloader and table rows take offsets and sizes from the options. */
	if (is_bl) {
		int64_t pbl = o->primary_bootloader_offset;
		if (pbl < 0)
			cdiag(c, f[F_TYPE].col, ESPIMG_SEV_ERROR,
			      "ptable.bootloader",
			      "a bootloader entry needs the primary bootloader "
			      "offset: give --primary-bootloader-offset");
		else
			pend->size = (int64_t)o->table_offset - pbl;
		if (p->subtype == ESPIMG_PSUB_PRIMARY && pbl >= 0) {
			pend->offset = pbl;
			pend->has_offset = true;
		}
		if (p->subtype == ESPIMG_PSUB_RECOVERY) {
			if (o->recovery_bootloader_offset < 0)
				cdiag(c, f[F_SUBTYPE].col, ESPIMG_SEV_ERROR,
				      "ptable.bootloader",
				      "a recovery bootloader entry needs "
				      "--recovery-bootloader-offset");
			pend->offset = o->recovery_bootloader_offset;
			pend->has_offset = true;
		}
		p->source |= ESPIMG_PSRC_DERIVED;
	} else if (is_pt) {
		pend->size = ESPIMG_PTABLE_SECTOR;
		if (p->subtype == ESPIMG_PSUB_PRIMARY) {
			pend->offset = o->table_offset;
			pend->has_offset = true;
		}
		p->source |= ESPIMG_PSRC_DERIVED;
	}
	/* The reference ignores what these rows write as size (and as offset
	 * for the primary/recovery rows); say so when a number is written. */
	if ((is_bl || is_pt) && f[F_SIZE].len && pend->size > 0) {
		pt_span bad;
		int ov = 0;
		if (pt_parse_number(f[F_SIZE], NULL, 0, &v, &bad, &ov) == 0 &&
		    !ov && v != pend->size)
			cdiag(c, f[F_SIZE].col, ESPIMG_SEV_WARNING,
			      "ptable.ignored",
			      "size %.*s is not used: ESP-IDF 5.5+ sizes a %s row "
			      "as %s, 0x%llx here", (int)f[F_SIZE].len,
			      f[F_SIZE].p, is_bl ? "bootloader" : "partition_table",
			      is_bl ? "the table offset minus the primary "
				      "bootloader offset"
				    : "one sector",
			      (unsigned long long)pend->size);
	}

	pend->skip_layout = (is_bl && p->subtype == ESPIMG_PSUB_PRIMARY) ||
			    (is_pt && p->subtype == ESPIMG_PSUB_PRIMARY);
	return c->errors > errors ? -1 : 0;
}

static const char *free_hint(char *buf, size_t cap, uint64_t cursor)
{
	snprintf(buf, cap, "; the first free offset is 0x%llx",
		 (unsigned long long)cursor);
	return buf;
}

/*
 * The reference's layout pass, in file order: explicit offsets must not go
 * below the end of the previous entry; blank offsets are placed at the
 * running end rounded up to the type's alignment; a negative size means
 * "up to that address".
 */
static void csv_layout(pt_csv *c, espimg_ptable *t, pt_pending *pend)
{
	/* After field errors some lines are missing, so a suggested free
	 * offset could be wrong: leave it out then. */
	const bool hint = c->errors == 0;
	const uint64_t table_end =
		(uint64_t)c->opts->table_offset + ESPIMG_PTABLE_SECTOR;
	uint64_t cursor = table_end;
	const espimg_partition *prev = NULL;

	for (size_t i = 0; i < t->count; i++) {
		espimg_partition *p = &t->parts[i];
		pt_pending *q = &pend[i];
		int64_t offset, size;

		char hintbuf[64];

		c->line = p->line;
		if (q->skip_layout) {
			p->offset = (uint32_t)q->offset;
			p->size = (uint32_t)q->size;
			continue;
		}
		if (q->has_offset) {
			offset = q->offset;
			if (offset < 0 || (uint64_t)offset < cursor) {
				unsigned col = p->col[F_OFFSET];
				if (offset < 0 || (uint64_t)offset < table_end)
					cdiag(c, col, ESPIMG_SEV_ERROR,
					      "ptable.overlap",
					      "partition '%s' at 0x%llx starts inside "
					      "the partition table sector 0x%x-0x%llx%s",
					      display_name(p), (long long)offset,
					      c->opts->table_offset,
					      (unsigned long long)table_end - 1,
					      hint ? free_hint(hintbuf, sizeof(hintbuf),
							       cursor) : "");
				else if (prev && offset < (int64_t)prev->offset)
					cdiag(c, col, ESPIMG_SEV_ERROR,
					      "ptable.order",
					      "partition '%s' at 0x%llx is out of "
					      "address order: it is listed after '%s' "
					      "at 0x%x (line %u); list partitions in "
					      "increasing address order",
					      display_name(p), (long long)offset,
					      display_name(prev), prev->offset,
					      prev->line);
				else
					cdiag(c, col, ESPIMG_SEV_ERROR,
					      "ptable.overlap",
					      "partition '%s' at 0x%llx overlaps '%s' "
					      "(0x%x-0x%llx, line %u)%s",
					      display_name(p), (long long)offset,
					      prev ? display_name(prev) : "",
					      prev ? prev->offset : 0,
					      (unsigned long long)cursor - 1,
					      prev ? prev->line : 0,
					      hint ? free_hint(hintbuf, sizeof(hintbuf),
							       cursor) : "");
			}
		} else {
			uint64_t align = p->type == ESPIMG_PTYPE_APP ? 0x10000
								     : 0x1000;
			cursor = (cursor + align - 1) / align * align;
			offset = (int64_t)cursor;
			if (cursor > 0xFFFFFFFF) {
				cdiag(c, p->col[F_OFFSET], ESPIMG_SEV_ERROR,
				      "ptable.range",
				      "partition '%s' would be placed at 0x%llx, "
				      "beyond the 4 GiB address space",
				      display_name(p),
				      (unsigned long long)cursor);
				offset = 0;
			}
		}
		size = q->size;
		if (size < 0) {
			size = -size - offset;
			if (size < 0)
				cdiag(c, p->col[F_SIZE], ESPIMG_SEV_ERROR,
				      "ptable.range",
				      "partition '%s' is to end at 0x%llx, before "
				      "its start 0x%llx", display_name(p),
				      (long long)-q->size, (long long)offset);
			else if (size > 0xFFFFFFFF)
				cdiag(c, p->col[F_SIZE], ESPIMG_SEV_ERROR,
				      "ptable.range",
				      "partition '%s' would be 0x%llx bytes, more "
				      "than 32 bits hold", display_name(p),
				      (long long)size);
		}
		if (offset >= 0 && offset <= 0xFFFFFFFF)
			p->offset = (uint32_t)offset;
		if (size >= 0 && size <= 0xFFFFFFFF)
			p->size = (uint32_t)size;
		if ((uint64_t)p->offset + p->size > 0x100000000ull)
			cdiag(c, p->col[F_SIZE], ESPIMG_SEV_WARNING,
			      "ptable.wrap",
			      "partition '%s' (0x%x + 0x%x) ends beyond the 4 GiB "
			      "address space", display_name(p), p->offset,
			      p->size);
		/* After an error keep the larger end so later lines are
		 * judged against what came before them. */
		{
			uint64_t end = (uint64_t)(offset > 0 ? offset : 0) +
				       (uint64_t)(size > 0 ? size : 0);
			if (end > cursor)
				cursor = end;
		}
		prev = p;
	}
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int parse_csv(const uint8_t *data, size_t len,
		     const espimg_ptable_opts *opts, const char *file,
		     espimg_ptable *t, espimg_diag_list *diags)
{
	pt_csv c = { opts, file, diags, 0, 0 };
	char *text;
	size_t text_len, pos = 0, cap = 0, pend_cap = 0;
	pt_pending *pend = NULL;
	espimg_buf line = { 0 };
	int r = pt_decode_text(data, len, file, diags, &text, &text_len);

	if (r)
		return r;
	while (pos < text_len) {
		size_t start = pos, brk = 0;

		while (pos < text_len &&
		       (brk = pt_line_break(text + pos, text_len - pos)) == 0)
			pos++;
		c.line++;
		line.len = 0;
		pt_expand_vars(text + start, pos - start, opts->lookup_env,
			       opts->env_ctx, &line);
		pos += brk;
		if (line.failed) {
			r = ESPIMG_ENOMEM;
			goto out;
		}
		espimg_buf_append(&line, "", 1); /* keep a terminator */
		line.len--;
		/* An unset $NAME at the very start of the line (after
		 * expansion) stops the reference; we report it and go on. */
		if (line.len >= 2 && line.data[0] == '$' &&
		    (line.data[1] == '_' || is_alpha(line.data[1]))) {
			size_t n = 1;
			while (n < line.len &&
			       (line.data[n] == '_' || is_alpha(line.data[n]) ||
				(line.data[n] >= '0' && line.data[n] <= '9')))
				n++;
			cdiag(&c, 1, ESPIMG_SEV_ERROR, "ptable.env",
			      "environment variable '%.*s' is not set",
			      (int)(n - 1), line.data + 1);
			continue;
		}
		pt_span s = { line.data, line.len, 1 };
		s = pt_strip(s);
		if (s.len == 0 || s.p[0] == '#')
			continue;
		espimg_partition *p = table_append(t, &cap);
		if (!p) {
			r = ESPIMG_ENOMEM;
			goto out;
		}
		if (t->count > pend_cap) {
			size_t ncap = pend_cap ? pend_cap * 2 : 16;
			pt_pending *np = realloc(pend, ncap * sizeof(*np));
			if (!np) {
				r = ESPIMG_ENOMEM;
				goto out;
			}
			pend = np;
			pend_cap = ncap;
		}
		memset(&pend[t->count - 1], 0, sizeof(*pend));
		r = csv_entry(&c, s, p, &pend[t->count - 1]);
		if (r == ESPIMG_ENOMEM)
			goto out;
		if (r < 0) {
			/* Keep going to report every line, but leave the bad
			 * entry out of the table. */
			free(p->name);
			t->count--;
		}
		r = 0;
	}
	/* Lay out what parsed even after errors, so one run reports
	 * overlaps as well as bad fields (failed lines are left out). */
	csv_layout(&c, t, pend);
	r = c.errors ? ESPIMG_EFORMAT : 0;
out:
	espimg_buf_free(&line);
	free(pend);
	free(text);
	return r;
}

/* ------------------------------------------------------------ binary */

static const uint8_t md5_magic[16] = {
	0xEB, 0xEB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

bool espimg_ptable_is_binary(const uint8_t *data, size_t len)
{
	if (len >= 2 && data[0] == 0xAA && data[1] == 0x50)
		return true;
	/* An empty table is its MD5 entry alone; the reference writes it but
	 * then reads it as (invalid) text. */
	return len >= 32 && !memcmp(data, md5_magic, sizeof(md5_magic));
}

static int md5(const uint8_t *data, size_t len, uint8_t out[16])
{
	unsigned int n = 16;

	return EVP_Digest(data, len, out, &n, EVP_md5(), NULL) == 1 ? 0
								     : ESPIMG_ENOMEM;
}

static int parse_binary(const uint8_t *data, size_t len,
			const espimg_ptable_opts *opts, const char *file,
			espimg_ptable *t, espimg_diag_list *diags)
{
	size_t cap = 0, off;
	int errors = 0, r = ESPIMG_EFORMAT;
	/* The running MD5 of the entry rows read so far, as the reference
	 * keeps it; an MD5 row is checked against a copy of it. */
	EVP_MD_CTX *entries = EVP_MD_CTX_new(), *at_row = EVP_MD_CTX_new();

	t->from_binary = true;
	if (!entries || !at_row ||
	    !EVP_DigestInit_ex(entries, EVP_md5(), NULL)) {
		r = ESPIMG_ENOMEM;
		goto out;
	}
	for (off = 0; off < len; off += ESPIMG_PTABLE_ENTRY_SIZE) {
		const uint8_t *row = data + off;
		uint8_t digest[16];

		if (len - off < ESPIMG_PTABLE_ENTRY_SIZE) {
			espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.length",
					file, 0, 0, (int64_t)off,
					"the table ends inside an entry: %zu bytes "
					"left at offset 0x%zx, entries are 32 bytes "
					"and no end marker came first",
					len - off, off);
			goto out;
		}
		if (espimg_all_ff(row, ESPIMG_PTABLE_ENTRY_SIZE)) {
			r = errors ? ESPIMG_EFORMAT : 0;
			goto out;
		}
		if (opts->md5 && row[0] == 0xEB && row[1] == 0xEB) {
			/* The digest covers the entry rows before this one,
			 * earlier MD5 rows excluded. */
			unsigned int n = 16;
			if (!EVP_MD_CTX_copy_ex(at_row, entries) ||
			    !EVP_DigestFinal_ex(at_row, digest, &n)) {
				r = ESPIMG_ENOMEM;
				goto out;
			}
			if (memcmp(row + 16, digest, 16)) {
				char want[33], got[33];

				espimg_hex(want, digest, 16);
				espimg_hex(got, row + 16, 16);
				espimg_diag_add(diags, ESPIMG_SEV_ERROR,
						"ptable.md5", file, 0, 0,
						(int64_t)off + 16,
						"MD5 entry at offset 0x%zx holds %s but "
						"the entries before it hash to %s "
						"(corrupt table, or give "
						"--disable-md5sum to skip the check)",
						off, got, want);
				errors++;
			}
			t->has_md5 = true;
			continue;
		}

		if (!EVP_DigestUpdate(entries, row, ESPIMG_PTABLE_ENTRY_SIZE)) {
			r = ESPIMG_ENOMEM;
			goto out;
		}
		espimg_partition *p = table_append(t, &cap);
		if (!p) {
			r = ESPIMG_ENOMEM;
			goto out;
		}
		p->bin_offset = (int64_t)off;
		if (row[0] != 0xAA || row[1] != 0x50) {
			espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.magic",
					file, 0, 0, (int64_t)off,
					"entry %zu at offset 0x%zx starts with "
					"%02x %02x, not the entry magic aa 50",
					off / ESPIMG_PTABLE_ENTRY_SIZE, off, row[0],
					row[1]);
			errors++;
			t->count--;
			continue;
		}
		p->type = row[2];
		p->subtype = row[3];
		p->offset = espimg_le32(row + 4);
		p->size = espimg_le32(row + 8);
		p->flags = espimg_le32(row + 28);

		/* name: up to the first NUL, UTF-8 */
		const uint8_t *nm = row + 12;
		size_t nlen = 0, i = 0;
		while (nlen < ESPIMG_PTABLE_NAME_LEN && nm[nlen])
			nlen++;
		while (i < nlen) {
			uint32_t cp;
			size_t n = espimg_utf8_seq(nm + i, nlen - i, &cp);
			if (n) {
				i += n;
				continue;
			}
			if (nlen == ESPIMG_PTABLE_NAME_LEN &&
			    pt_utf8_incomplete_tail(nm + i, nlen - i) == nlen - i) {
				espimg_diag_add(diags, ESPIMG_SEV_WARNING,
						"ptable.name-cut", file, 0, 0,
						(int64_t)(off + 12 + i),
						"the name of entry %zu was cut to 16 "
						"bytes inside a UTF-8 character; the "
						"incomplete character is dropped",
						off / ESPIMG_PTABLE_ENTRY_SIZE);
				nlen = i;
				break;
			}
			espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.name",
					file, 0, 0, (int64_t)(off + 12 + i),
					"the name of entry %zu is not valid UTF-8 "
					"(byte 0x%02x at offset 0x%zx)",
					off / ESPIMG_PTABLE_ENTRY_SIZE, nm[i],
					off + 12 + i);
			errors++;
			break;
		}
		p->name = malloc(nlen + 1);
		if (!p->name) {
			r = ESPIMG_ENOMEM;
			goto out;
		}
		memcpy(p->name, nm, nlen);
		p->name[nlen] = '\0';

		if (p->flags & ~(ESPIMG_PFLAG_ENCRYPTED | ESPIMG_PFLAG_READONLY)) {
			pdiag(diags, file, p, F_FLAGS, ESPIMG_SEV_WARNING,
			      "ptable.unknown-flags",
			      "partition '%s' has unknown flag bits 0x%08x; they "
			      "are dropped", p->name,
			      p->flags & ~(ESPIMG_PFLAG_ENCRYPTED |
					   ESPIMG_PFLAG_READONLY));
			p->flags &= ESPIMG_PFLAG_ENCRYPTED | ESPIMG_PFLAG_READONLY;
		}
	}
	espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.end-marker", file, 0, 0,
			(int64_t)len,
			"the table has no end marker (a row of 32 0xff bytes) "
			"before the end of the input at offset 0x%zx", len);
out:
	EVP_MD_CTX_free(entries);
	EVP_MD_CTX_free(at_row);
	return r;
}

int espimg_ptable_parse(const uint8_t *data, size_t len,
			const espimg_ptable_opts *opts, const char *file,
			espimg_ptable **out, espimg_diag_list *diags)
{
	espimg_ptable *t;
	int r;

	if (!out || !opts || (!data && len))
		return ESPIMG_EINVAL;
	*out = NULL;
	if (len > ESPIMG_PTABLE_MAX_INPUT) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.too-big", file, 0,
				0, -1, "%zu bytes is far larger than any partition "
				"table (the limit is %u bytes)", len,
				ESPIMG_PTABLE_MAX_INPUT);
		return ESPIMG_ETOOBIG;
	}
	if (opts->primary_bootloader_offset >= 0 &&
	    opts->primary_bootloader_offset >= (int64_t)opts->table_offset) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "ptable.options", NULL,
				0, 0, -1,
				"the primary bootloader offset 0x%llx must be "
				"below the partition table offset 0x%x",
				(unsigned long long)opts->primary_bootloader_offset,
				opts->table_offset);
		return ESPIMG_EFORMAT;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return ESPIMG_ENOMEM;
	if (espimg_ptable_is_binary(data, len))
		r = parse_binary(data, len, opts, file, t, diags);
	else
		r = parse_csv(data ? data : (const uint8_t *)"", len, opts, file,
			      t, diags);
	if (r) {
		espimg_ptable_free(t);
		return r;
	}
	*out = t;
	return 0;
}

/* ------------------------------------------------------------ verify */

static bool is_primary_row(const espimg_partition *p)
{
	return (p->type == ESPIMG_PTYPE_BOOTLOADER ||
		p->type == ESPIMG_PTYPE_PARTITION_TABLE) &&
	       p->subtype == ESPIMG_PSUB_PRIMARY;
}

static bool target_before(const espimg_ptable_opts *o, unsigned maj,
			  unsigned min, unsigned patch)
{
	return o->idf_version != ESPIMG_IDF_NEWEST &&
	       o->idf_version < ESPIMG_IDF_VERSION(maj, min, patch);
}

/* Entry counts include the MD5 row and must leave room for an end marker. */
static bool table_too_big(const espimg_ptable *t, const espimg_ptable_opts *o)
{
	uint64_t bytes = (uint64_t)t->count * ESPIMG_PTABLE_ENTRY_SIZE +
			 (o->md5 ? ESPIMG_PTABLE_ENTRY_SIZE : 0);

	return bytes >= ESPIMG_PTABLE_BIN_SIZE;
}

static size_t max_entries(const espimg_ptable_opts *o)
{
	return ESPIMG_PTABLE_BIN_SIZE / ESPIMG_PTABLE_ENTRY_SIZE - 1 -
	       (o->md5 ? 1 : 0);
}

static void verify_entry(const espimg_partition *p, const espimg_ptable_opts *o,
			 const char *file, espimg_diag_list *d, int *errors)
{
	const char *name = display_name(p);
	uint32_t align = p->type == ESPIMG_PTYPE_APP ? 0x10000 : 0x1000;

	if (p->offset % align) {
		pdiag(d, file, p, F_OFFSET, ESPIMG_SEV_ERROR, "ptable.align",
		      "partition '%s': offset 0x%x is not aligned to 0x%x (%s)",
		      name, p->offset, align,
		      p->type == ESPIMG_PTYPE_APP
			      ? "app partitions start on a 64 KiB boundary"
			      : "partitions start on a 4 KiB sector boundary");
		(*errors)++;
	}
	if (p->type == ESPIMG_PTYPE_APP &&
	    (o->secure == 1 || !target_before(o, 5, 3, 0))) {
		uint32_t salign = o->secure == 1 ? 0x10000 : 0x1000;
		if (p->size % salign) {
			pdiag(d, file, p, F_SIZE, ESPIMG_SEV_ERROR, "ptable.align",
			      "partition '%s': app size 0x%x is not a multiple "
			      "of 0x%x%s", name, p->size, salign,
			      o->secure == 1 ? " (Secure Boot v1)" : "");
			(*errors)++;
		}
	}

	/* The reference's two "mistake in partition table?" warnings. */
	for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(type_keywords); i++) {
		if (!strcmp(name, type_keywords[i].name) &&
		    type_keywords[i].value != p->type)
			pdiag(d, file, p, F_NAME, ESPIMG_SEV_WARNING,
			      "ptable.name-type",
			      "partition '%s' is named after a partition type "
			      "but has type 0x%02x", name, p->type);
	}
	{
		bool is_subtype_name = false, matches = false;
		for (unsigned ty = 0; ty <= ESPIMG_PTYPE_PARTITION_TABLE; ty++) {
			pt_keyword kw[PT_MAX_KEYWORDS];
			size_t n = subtype_keywords(o, (uint8_t)ty, kw);
			for (size_t i = 0; i < n; i++) {
				if (strcmp(name, kw[i].name))
					continue;
				is_subtype_name = true;
				if (ty == p->type && kw[i].value == p->subtype)
					matches = true;
			}
		}
		if (is_subtype_name && !matches)
			pdiag(d, file, p, F_NAME, ESPIMG_SEV_WARNING,
			      "ptable.name-subtype",
			      "partition '%s' is named after a subtype but has "
			      "type 0x%02x and subtype 0x%02x", name, p->type,
			      p->subtype);
	}

	if ((p->flags & ESPIMG_PFLAG_READONLY) &&
	    p->type == ESPIMG_PTYPE_DATA &&
	    (p->subtype == ESPIMG_PSUB_DATA_OTA ||
	     p->subtype == ESPIMG_PSUB_DATA_COREDUMP)) {
		pdiag(d, file, p, F_FLAGS, ESPIMG_SEV_ERROR, "ptable.readonly",
		      "partition '%s': %s partitions are written by the device "
		      "and cannot be readonly", name,
		      p->subtype == ESPIMG_PSUB_DATA_OTA ? "otadata"
							 : "coredump");
		(*errors)++;
	}
	if (p->type == ESPIMG_PTYPE_DATA && p->subtype == ESPIMG_PSUB_DATA_NVS &&
	    p->size < 0x3000 && !(p->flags & ESPIMG_PFLAG_READONLY) &&
	    !target_before(o, 5, 5, 0)) {
		pdiag(d, file, p, F_SIZE, ESPIMG_SEV_ERROR, "ptable.nvs-size",
		      "partition '%s': a read/write NVS partition needs at least "
		      "0x3000 bytes, this one has 0x%x; enlarge it or flag it "
		      "readonly", name, p->size);
		(*errors)++;
	}
}

/* --idf-version: features the target release does not know. */
static void verify_target(const espimg_partition *p, const espimg_ptable_opts *o,
			  const char *file, espimg_diag_list *d, int *errors)
{
	const char *name = display_name(p);
	unsigned v = o->idf_version;
	char ver[16];

	if (v == ESPIMG_IDF_NEWEST)
		return;
	if (v % 100)
		snprintf(ver, sizeof(ver), "%u.%u.%u", v / 10000 % 100,
			 v / 100 % 100, v % 100);
	else
		snprintf(ver, sizeof(ver), "%u.%u", v / 10000 % 100,
			 v / 100 % 100);
#define GATE(cond, field, fmt, ...)                                            \
	do {                                                                   \
		if (cond) {                                                    \
			pdiag(d, file, p, field, ESPIMG_SEV_ERROR,             \
			      "ptable.idf-version", fmt, __VA_ARGS__);         \
			(*errors)++;                                           \
		}                                                              \
	} while (0)

	GATE((p->flags & ESPIMG_PFLAG_READONLY) && target_before(o, 5, 2, 0),
	     F_FLAGS, "partition '%s': the readonly flag needs ESP-IDF 5.2 "
	     "(target is %s)", name, ver);
	GATE((p->type == ESPIMG_PTYPE_BOOTLOADER ||
	      p->type == ESPIMG_PTYPE_PARTITION_TABLE) &&
	     target_before(o, 5, 4, 0), F_TYPE,
	     "partition '%s': the %s type needs ESP-IDF 5.4 (target is %s)",
	     name, espimg_ptable_type_name(p->type), ver);
	GATE((p->type == ESPIMG_PTYPE_BOOTLOADER ||
	      p->type == ESPIMG_PTYPE_PARTITION_TABLE) &&
	     p->subtype != ESPIMG_PSUB_OTA && !target_before(o, 5, 4, 0) &&
	     target_before(o, 5, 5, 0), F_SUBTYPE,
	     "partition '%s': %s subtype '%s' needs ESP-IDF 5.5 (target is %s; "
	     "5.4 knows only 'ota')", name, espimg_ptable_type_name(p->type),
	     p->subtype == ESPIMG_PSUB_PRIMARY ? "primary" : "recovery", ver);
	GATE((p->source & ESPIMG_PSRC_SUBTYPE_NAMED) &&
	     ((p->type == ESPIMG_PTYPE_APP && (p->subtype == 0x30 ||
					       p->subtype == 0x31)) ||
	      (p->type == ESPIMG_PTYPE_DATA &&
	       p->subtype == ESPIMG_PSUB_DATA_TEE_OTA)) &&
	     target_before(o, 5, 5, 0), F_SUBTYPE,
	     "partition '%s': TEE subtypes need ESP-IDF 5.5 (target is %s)",
	     name, ver);
	/* littlefs was backported to 5.0.7 and 5.1.4. */
	GATE((p->source & ESPIMG_PSRC_SUBTYPE_NAMED) &&
	     p->type == ESPIMG_PTYPE_DATA && p->subtype == 0x83 &&
	     (target_before(o, 5, 0, 7) ||
	      (!target_before(o, 5, 1, 0) && target_before(o, 5, 1, 4))),
	     F_SUBTYPE,
	     "partition '%s': the littlefs subtype needs ESP-IDF 5.0.7, 5.1.4 "
	     "or 5.2 (target is %s); write 0x83 to keep the value", name, ver);
	GATE((p->source & ESPIMG_PSRC_SUBTYPE_EMPTY) &&
	     target_before(o, 4, 4, 0), F_SUBTYPE,
	     "partition '%s': an empty subtype means 'undefined' (0x06) since "
	     "ESP-IDF 4.4 but %s there (target is %s); write the subtype",
	     name, p->type == ESPIMG_PTYPE_APP ? "factory (0x00)" : "ota (0x00)",
	     ver);
#undef GATE
}

static int cmp_offset(const void *a, const void *b)
{
	const espimg_partition *x = *(const espimg_partition *const *)a;
	const espimg_partition *y = *(const espimg_partition *const *)b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x < y ? -1 : x > y; /* stable: table order on ties */
}

static bool same_otadata(const espimg_partition *p, uint8_t subtype)
{
	return p->type == ESPIMG_PTYPE_DATA && p->subtype == subtype;
}

static void verify_otadata(const espimg_ptable *t, const char *file,
			   espimg_diag_list *d, int *errors, uint8_t subtype,
			   const char *what)
{
	const espimg_partition *first = NULL;
	size_t count = 0;

	for (size_t i = 0; i < t->count; i++) {
		const espimg_partition *p = &t->parts[i];
		if (!same_otadata(p, subtype))
			continue;
		if (++count == 1) {
			first = p;
			continue;
		}
		pdiag(d, file, p, F_SUBTYPE, ESPIMG_SEV_ERROR, "ptable.otadata",
		      "partition '%s' is a second %s partition (the first is "
		      "'%s'); a table may have only one", display_name(p), what,
		      display_name(first));
		(*errors)++;
	}
	if (count == 1 && first->size != 0x2000) {
		pdiag(d, file, first, F_SIZE, ESPIMG_SEV_ERROR, "ptable.otadata",
		      "partition '%s': the %s partition must be 0x2000 bytes "
		      "(two 4 KiB sectors), not 0x%x", display_name(first), what,
		      first->size);
		(*errors)++;
	}
}

int espimg_ptable_verify(const espimg_ptable *t, const espimg_ptable_opts *o,
			 const char *file, espimg_diag_list *d)
{
	int errors = 0;

	if (!t || !o)
		return ESPIMG_EINVAL;
	if (o->verify) {
		const espimg_partition **sorted;
		const uint64_t table_end =
			(uint64_t)o->table_offset + ESPIMG_PTABLE_SECTOR;

		for (size_t i = 0; i < t->count; i++)
			verify_entry(&t->parts[i], o, file, d, &errors);

		/* Unique names, compared in full.  A binary table we may
		 * have written ourselves (names equal in their 16 bytes) is
		 * read back with a warning rather than refused. */
		for (size_t i = 0; i < t->count; i++) {
			for (size_t j = 0; j < i; j++) {
				const espimg_partition *a = &t->parts[j];
				const espimg_partition *b = &t->parts[i];
				if (!strcmp(display_name(a), display_name(b))) {
					/* Two full 16-byte names in a binary may
					 * be longer names the generator cut to the
					 * same bytes: read those back, warned. */
					bool cut = t->from_binary &&
						   strlen(display_name(a)) ==
							   ESPIMG_PTABLE_NAME_LEN;
					char where[48];
					if (a->line)
						snprintf(where, sizeof(where),
							 "line %u", a->line);
					else
						snprintf(where, sizeof(where),
							 "the entry at offset 0x%llx",
							 (unsigned long long)a->bin_offset);
					pdiag(d, file, b, F_NAME,
					      cut ? ESPIMG_SEV_WARNING
						  : ESPIMG_SEV_ERROR,
					      "ptable.duplicate-name",
					      "partition name '%s' is already used "
					      "by %s%s", display_name(b), where,
					      cut ? " (names longer than 16 bytes "
						    "cut to the same bytes?)"
						  : "; names must be unique");
					if (!cut)
						errors++;
					break;
				}
				if (!strncmp(display_name(a), display_name(b),
					     ESPIMG_PTABLE_NAME_LEN)) {
					pdiag(d, file, b, F_NAME,
					      ESPIMG_SEV_WARNING,
					      "ptable.duplicate-name",
					      "partition names '%s' and '%s' are "
					      "the same in their first 16 bytes, "
					      "all the binary keeps",
					      display_name(a), display_name(b));
					break;
				}
			}
		}

		/* Overlaps, in address order.  The primary bootloader and
		 * table rows sit below the table end by design, but they may
		 * not overlap anything. */
		sorted = malloc((t->count ? t->count : 1) * sizeof(*sorted));
		if (!sorted)
			return ESPIMG_ENOMEM;
		size_t n = t->count;
		for (size_t i = 0; i < n; i++)
			sorted[i] = &t->parts[i];
		qsort(sorted, n, sizeof(*sorted), cmp_offset);
		for (size_t i = 0; i < n; i++) {
			const espimg_partition *p = sorted[i];
			if (p->offset < table_end && !is_primary_row(p)) {
				pdiag(d, file, p, F_OFFSET, ESPIMG_SEV_ERROR,
				      "ptable.overlap",
				      "partition '%s' at 0x%x lies below the end "
				      "of the partition table sector 0x%llx",
				      display_name(p), p->offset,
				      (unsigned long long)table_end);
				errors++;
			} else if (i > 0) {
				const espimg_partition *q = sorted[i - 1];
				if (p->offset < (uint64_t)q->offset + q->size) {
					pdiag(d, file, p, F_OFFSET,
					      ESPIMG_SEV_ERROR, "ptable.overlap",
					      "partition '%s' at 0x%x overlaps "
					      "'%s' (0x%x-0x%llx)",
					      display_name(p), p->offset,
					      display_name(q), q->offset,
					      (unsigned long long)q->offset +
						      q->size - 1);
					errors++;
				}
			}
		}
		free(sorted);

		verify_otadata(t, file, d, &errors, ESPIMG_PSUB_DATA_OTA,
			       "otadata");
		verify_otadata(t, file, d, &errors, ESPIMG_PSUB_DATA_TEE_OTA,
			       "TEE otadata");
	}

	/* Only a table we are going to encode must leave room for the MD5
	 * entry and end marker; a binary being decoded has proved it fits. */
	if (!t->from_binary && table_too_big(t, o)) {
		espimg_diag_add(d, ESPIMG_SEV_ERROR, "ptable.too-many", file, 0,
				0, -1,
				"the table has %zu partitions; at most %zu fit "
				"in 0xc00 bytes %s", t->count, max_entries(o),
				o->md5 ? "with the MD5 entry (95 with "
					 "--disable-md5sum)"
				       : "with an end marker");
		errors++;
	}

	if (o->flash_size) {
		uint64_t need = espimg_ptable_flash_needed(t);
		if (need > o->flash_size) {
			espimg_diag_add(d, ESPIMG_SEV_ERROR, "ptable.flash-size",
					file, 0, 0, -1,
					"the partitions need %.1fMB of flash "
					"(up to 0x%llx, %llu bytes) but the flash "
					"size is %lluMB",
					(double)need / 1048576.0,
					(unsigned long long)need,
					(unsigned long long)need,
					(unsigned long long)(o->flash_size >> 20));
			errors++;
		}
	}

	for (size_t i = 0; i < t->count; i++)
		verify_target(&t->parts[i], o, file, d, &errors);

	return errors ? ESPIMG_EFORMAT : 0;
}

bool espimg_ptable_has_md5(const espimg_ptable *t, const espimg_ptable_opts *o)
{
	return t->from_binary ? t->has_md5 : o->md5;
}

uint64_t espimg_ptable_flash_needed(const espimg_ptable *t)
{
	const espimg_partition *last = NULL;

	for (size_t i = 0; i < t->count; i++)
		if (!last || t->parts[i].offset > last->offset)
			last = &t->parts[i];
	return last ? (uint64_t)last->offset + last->size : 0;
}

/* ------------------------------------------------------------ output */

int espimg_ptable_to_binary(const espimg_ptable *t, const espimg_ptable_opts *o,
			    uint8_t out[ESPIMG_PTABLE_BIN_SIZE],
			    espimg_diag_list *d)
{
	uint8_t *p = out;

	if (!t || !o || !out)
		return ESPIMG_EINVAL;
	if (table_too_big(t, o)) {
		espimg_diag_add(d, ESPIMG_SEV_ERROR, "ptable.too-many", NULL, 0,
				0, -1,
				"the table has %zu partitions; at most %zu fit",
				t->count, max_entries(o));
		return ESPIMG_ETOOBIG;
	}
	memset(out, 0xFF, ESPIMG_PTABLE_BIN_SIZE);
	for (size_t i = 0; i < t->count; i++, p += ESPIMG_PTABLE_ENTRY_SIZE) {
		const espimg_partition *e = &t->parts[i];
		size_t n = strlen(display_name(e));

		p[0] = 0xAA;
		p[1] = 0x50;
		p[2] = e->type;
		p[3] = e->subtype;
		espimg_put_le32(p + 4, e->offset);
		espimg_put_le32(p + 8, e->size);
		/* Cut to 16 bytes with no terminator, as the reference does. */
		memset(p + 12, 0, ESPIMG_PTABLE_NAME_LEN);
		memcpy(p + 12, display_name(e),
		       n < ESPIMG_PTABLE_NAME_LEN ? n : ESPIMG_PTABLE_NAME_LEN);
		espimg_put_le32(p + 28, e->flags);
	}
	if (o->md5) {
		memcpy(p, md5_magic, sizeof(md5_magic));
		if (md5(out, (size_t)(p - out), p + 16))
			return ESPIMG_ENOMEM;
	}
	return 0;
}

static void csv_size(espimg_buf *b, uint32_t size)
{
	if (size % 0x100000 == 0)
		espimg_buf_printf(b, "%uM", size / 0x100000);
	else if (size % 0x400 == 0)
		espimg_buf_printf(b, "%uK", size / 0x400);
	else
		espimg_buf_printf(b, "0x%x", size);
}

int espimg_ptable_to_csv(const espimg_ptable *t, const espimg_ptable_opts *o,
			 char **text, size_t *len)
{
	espimg_buf b = { 0 };

	if (!t || !text)
		return ESPIMG_EINVAL;
	espimg_buf_printf(&b, "# ESP-IDF Partition Table\n"
			      "# Name, Type, SubType, Offset, Size, Flags\n");
	for (size_t i = 0; i < t->count; i++) {
		const espimg_partition *p = &t->parts[i];
		const char *tn = espimg_ptable_type_name(p->type);
		const char *sn = espimg_ptable_subtype_name(o, p->type, p->subtype);

		espimg_buf_printf(&b, "%s,", display_name(p));
		if (tn)
			espimg_buf_printf(&b, "%s,", tn);
		else
			espimg_buf_printf(&b, "%u,", p->type);
		if (sn)
			espimg_buf_printf(&b, "%s,", sn);
		else
			espimg_buf_printf(&b, "%u,", p->subtype);
		espimg_buf_printf(&b, "0x%x,", p->offset);
		csv_size(&b, p->size);
		espimg_buf_printf(&b, ",%s%s%s\n",
				  p->flags & ESPIMG_PFLAG_ENCRYPTED ? "encrypted" : "",
				  (p->flags & ESPIMG_PFLAG_ENCRYPTED) &&
						  (p->flags & ESPIMG_PFLAG_READONLY)
					  ? ":" : "",
				  p->flags & ESPIMG_PFLAG_READONLY ? "readonly" : "");
	}
	*text = espimg_buf_finish(&b, len);
	return *text ? 0 : ESPIMG_ENOMEM;
}

int espimg_ptable_gaps(const espimg_ptable *t, const espimg_ptable_opts *o,
		       espimg_gap *out, size_t cap, size_t *count)
{
	uint64_t cursor;
	const espimg_partition **sorted;
	size_t n = 0, ngaps = 0;

	if (!t || !o || !count || (cap && !out))
		return ESPIMG_EINVAL;
	cursor = (uint64_t)o->table_offset + ESPIMG_PTABLE_SECTOR;
	*count = 0;
	sorted = malloc((t->count ? t->count : 1) * sizeof(*sorted));
	if (!sorted)
		return ESPIMG_ENOMEM;
	for (size_t i = 0; i < t->count; i++)
		if (!is_primary_row(&t->parts[i]))
			sorted[n++] = &t->parts[i];
	qsort(sorted, n, sizeof(*sorted), cmp_offset);
	for (size_t i = 0; i <= n; i++) {
		uint64_t start = i < n ? sorted[i]->offset
				       : (o->flash_size > cursor ? o->flash_size
								 : cursor);
		if (start > cursor) {
			if (ngaps < cap) {
				out[ngaps].offset = cursor;
				out[ngaps].size = start - cursor;
			}
			ngaps++;
		}
		if (i < n) {
			uint64_t end = (uint64_t)sorted[i]->offset + sorted[i]->size;
			if (end > cursor)
				cursor = end;
		}
	}
	free(sorted);
	*count = ngaps;
	return 0;
}

/* Standard flash sizes the reference's --flash-size accepts. */
static const unsigned flash_sizes_mb[] = { 1, 2, 4, 8, 16, 32, 64, 128 };

int espimg_ptable_emit(const espimg_ptable *t, const espimg_ptable_opts *o,
		       espimg_emitter *e)
{
	/* Callers pass the file name through the emitter document; we add
	 * only table facts here.  Errors are sticky in the emitter, so the
	 * result of the last call tells. */
	uint64_t need;
	espimg_gap *gaps;
	size_t ngaps;

	if (!t || !o || !e)
		return ESPIMG_EINVAL;
	need = espimg_ptable_flash_needed(t);
	espimg_emit_kv_str(e, "input_format", t->from_binary ? "binary" : "csv");
	espimg_emit_kv_uint(e, "table_offset", o->table_offset);
	espimg_emit_kv_hex(e, "table_offset_hex", o->table_offset);
	espimg_emit_kv_bool(e, "md5", espimg_ptable_has_md5(t, o));
	espimg_emit_key(e, "partitions");
	espimg_emit_begin_list(e);
	for (size_t i = 0; i < t->count; i++) {
		const espimg_partition *p = &t->parts[i];
		const char *tn = espimg_ptable_type_name(p->type);
		const char *sn = espimg_ptable_subtype_name(o, p->type, p->subtype);
		uint64_t end = (uint64_t)p->offset + p->size;

		espimg_emit_begin_map(e);
		espimg_emit_kv_str(e, "name", display_name(p));
		espimg_emit_kv_uint(e, "type", p->type);
		espimg_emit_kv_hex(e, "type_hex", p->type);
		espimg_emit_key(e, "type_name");
		tn ? espimg_emit_str(e, tn) : espimg_emit_null(e);
		espimg_emit_kv_uint(e, "subtype", p->subtype);
		espimg_emit_kv_hex(e, "subtype_hex", p->subtype);
		espimg_emit_key(e, "subtype_name");
		sn ? espimg_emit_str(e, sn) : espimg_emit_null(e);
		espimg_emit_kv_uint(e, "offset", p->offset);
		espimg_emit_kv_hex(e, "offset_hex", p->offset);
		espimg_emit_kv_uint(e, "size", p->size);
		espimg_emit_kv_hex(e, "size_hex", p->size);
		espimg_emit_kv_uint(e, "end", end);
		espimg_emit_kv_hex(e, "end_hex", end);
		espimg_emit_key(e, "flags");
		espimg_emit_begin_list(e);
		if (p->flags & ESPIMG_PFLAG_ENCRYPTED)
			espimg_emit_str(e, "encrypted");
		if (p->flags & ESPIMG_PFLAG_READONLY)
			espimg_emit_str(e, "readonly");
		espimg_emit_end_list(e);
		espimg_emit_key(e, "line");
		p->line ? espimg_emit_uint(e, p->line) : espimg_emit_null(e);
		espimg_emit_end_map(e);
	}
	espimg_emit_end_list(e);

	gaps = calloc(t->count + 1, sizeof(*gaps));
	if (!gaps || espimg_ptable_gaps(t, o, gaps, t->count + 1, &ngaps)) {
		free(gaps);
		return ESPIMG_ENOMEM;
	}
	espimg_emit_key(e, "gaps");
	espimg_emit_begin_list(e);
	for (size_t i = 0; i < ngaps; i++) {
		espimg_emit_begin_map(e);
		espimg_emit_kv_uint(e, "offset", gaps[i].offset);
		espimg_emit_kv_hex(e, "offset_hex", gaps[i].offset);
		espimg_emit_kv_uint(e, "size", gaps[i].size);
		espimg_emit_kv_hex(e, "size_hex", gaps[i].size);
		espimg_emit_end_map(e);
	}
	espimg_emit_end_list(e);
	free(gaps);

	espimg_emit_kv_uint(e, "flash_needed", need);
	espimg_emit_kv_hex(e, "flash_needed_hex", need);
	espimg_emit_key(e, "min_flash_size");
	{
		const char *best = NULL;
		static const char *const names[] = { "1MB", "2MB", "4MB", "8MB",
						     "16MB", "32MB", "64MB",
						     "128MB" };
		for (size_t i = 0; i < ESPIMG_ARRAY_SIZE(flash_sizes_mb); i++) {
			if ((uint64_t)flash_sizes_mb[i] << 20 >= need) {
				best = names[i];
				break;
			}
		}
		best ? espimg_emit_str(e, best) : espimg_emit_null(e);
	}
	espimg_emit_key(e, "flash_size");
	return o->flash_size ? espimg_emit_uint(e, o->flash_size)
			     : espimg_emit_null(e);
}
