/*
 * ihex.c - Intel HEX reader.
 *
 * Record rules follow the Python intelhex package that esptool 5.3.1 uses
 * to load HEX input (esptool/bin_image.py intel_hex_to_bin): one record per
 * line, ':' then hex digits (either case), byte count, 16-bit address,
 * type 00..05, data, and a checksum that makes the byte sum 0 mod 256.
 * Extended segment (02) and linear (04) records set a base added to later
 * data addresses (without 64 KiB wrap-around); start address records (03,
 * 05) may appear once; everything after the end-of-file record (01) is
 * ignored.  Lines end with LF, CRLF or CR; empty lines are skipped.
 *
 * esptool then splits the decoded bytes into runs of contiguous addresses
 * in address order (_split_intel_hex_file, _find_subsequences): gaps of any
 * size split, the order of records in the file does not matter.
 *
 * Memory: the data buffer grows with the bytes actually decoded (never by
 * an address or length taken from the file) and never holds more than
 * len / 2 bytes; addresses are kept as runs, not as a flat address space.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espimg/ihex.h"
#include "internal.h"

/* After this many errors the reader stops: a binary file fed in by
 * mistake must not produce one diagnostic per line. */
#define IHEX_MAX_ERRORS 100

/* A record: ':' + 2 * (5 + up to 255) digits. */
#define IHEX_MAX_RECORD 260

enum {
	REC_DATA = 0,
	REC_EOF = 1,
	REC_EXT_SEGMENT = 2,
	REC_START_SEGMENT = 3,
	REC_EXT_LINEAR = 4,
	REC_START_LINEAR = 5,
};

struct espimg_ihex {
	uint8_t *data;
	espimg_ihex_run *runs;
	size_t nruns;
};

/* Bytes of consecutive data records at contiguous addresses. */
typedef struct chunk {
	uint64_t start;
	size_t len;
	size_t data_off;  /* into the data buffer */
	size_t idx;       /* creation order, which is file order */
	size_t first_rec; /* ordinal of its first data record */
} chunk;

/* Diagnostics are collected, then handed over in input order. */
typedef struct pending {
	espimg_severity sev;
	const char *code;
	unsigned line;
	unsigned col;
	int64_t offset;
	size_t seq; /* keeps the sort stable */
	char msg[128];
} pending;

typedef struct reader {
	const char *text;
	size_t len;

	size_t line_no;  /* 1-based number of the current line */
	size_t line_off; /* offset of its first character */

	uint64_t base; /* from the last 02/04 record */
	bool have_start;
	bool eof;
	/* After a rejected 02/04 record later addresses are guesses: only the
	 * chunks made before it (sealed then) take part in the overlap check. */
	bool base_broken;
	size_t trusted_chunks;
	size_t nrec;      /* data records with at least one byte so far */

	uint8_t *data;
	size_t data_len;
	size_t data_cap;
	chunk *chunks;
	size_t nchunks;
	size_t chunks_cap;

	pending *diags;
	size_t ndiags;
	size_t diags_cap;
	size_t errors;
	bool stopped;
	bool oom;

	/* Locate mode: a second pass that only finds where the byte at
	 * want_addr of the chunk starting with data record want_rec is. */
	bool locate;
	uint64_t want_addr;
	size_t want_rec;
	bool found;
	size_t found_line;
	size_t found_index;
	size_t found_line_off;
} reader;

static unsigned sat_unsigned(size_t v)
{
	return v > (size_t)~0u ? ~0u : (unsigned)v;
}

static void add_pending(reader *r, espimg_severity sev, const char *code,
			size_t line, size_t col, size_t offset,
			const char *fmt, va_list ap) ESPIMG_PRINTF(7, 0);

static void add_pending(reader *r, espimg_severity sev, const char *code,
			size_t line, size_t col, size_t offset,
			const char *fmt, va_list ap)
{
	pending *p;

	if (r->ndiags == r->diags_cap) {
		size_t cap = r->diags_cap ? r->diags_cap * 2 : 8;
		pending *n = realloc(r->diags, cap * sizeof(*n));

		if (!n) {
			r->oom = true;
			r->stopped = true;
			return;
		}
		r->diags = n;
		r->diags_cap = cap;
	}
	p = &r->diags[r->ndiags];
	p->seq = r->ndiags++;
	p->sev = sev;
	p->code = code;
	p->line = sat_unsigned(line);
	p->col = sat_unsigned(col);
	p->offset = (int64_t)offset;
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
}

static void pend(reader *r, espimg_severity sev, const char *code,
		 size_t line, size_t col, size_t offset, const char *fmt, ...)
	ESPIMG_PRINTF(7, 8);

static void pend(reader *r, espimg_severity sev, const char *code,
		 size_t line, size_t col, size_t offset, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_pending(r, sev, code, line, col, offset, fmt, ap);
	va_end(ap);
}

/* A finding at byte `index` of the current line. */
static void report(reader *r, espimg_severity sev, const char *code,
		   size_t index, const char *fmt, ...) ESPIMG_PRINTF(5, 6);

static void report(reader *r, espimg_severity sev, const char *code,
		   size_t index, const char *fmt, ...)
{
	va_list ap;

	if (r->locate || r->stopped)
		return;
	if (sev == ESPIMG_SEV_ERROR) {
		if (r->errors == IHEX_MAX_ERRORS) {
			/* A note, so the error count stays at the limit. */
			pend(r, ESPIMG_SEV_NOTE, "ihex.too_many_errors",
			     r->line_no, index + 1, r->line_off + index,
			     "more than %d errors; the rest of the file was "
			     "not read", IHEX_MAX_ERRORS);
			r->stopped = true;
			return;
		}
		r->errors++;
	}
	va_start(ap, fmt);
	add_pending(r, sev, code, r->line_no, index + 1, r->line_off + index,
		    fmt, ap);
	va_end(ap);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static uint8_t hexbyte(const char *s)
{
	return (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
}

/* ------------------------------------------------------------ data */

static bool grow(void **p, size_t *cap, size_t need, size_t elem, size_t limit)
{
	size_t cap2;
	void *n;

	if (need <= *cap)
		return true;
	cap2 = *cap ? *cap * 2 : 256;
	if (cap2 < need)
		cap2 = need;
	if (cap2 > limit)
		cap2 = limit < need ? need : limit;
	n = realloc(*p, cap2 * elem);
	if (!n)
		return false;
	*p = n;
	*cap = cap2;
	return true;
}

/* n > 0 bytes of one data record at address a, whose first data digit is
 * at byte `index` of the line. */
static void data_record(reader *r, uint64_t a, const uint8_t *bytes, size_t n,
			size_t index)
{
	chunk *last = r->nchunks ? &r->chunks[r->nchunks - 1] : NULL;

	if (r->locate) {
		if (!r->found && r->nrec >= r->want_rec && a <= r->want_addr &&
		    r->want_addr < a + n) {
			r->found = true;
			r->found_line = r->line_no;
			r->found_line_off = r->line_off;
			r->found_index = index + 2 * (size_t)(r->want_addr - a);
		}
		r->nrec++;
		return;
	}
	/* Every byte costs two digits, so len / 2 bounds the buffer. */
	if (!grow((void **)&r->data, &r->data_cap, r->data_len + n, 1,
		  r->len / 2)) {
		r->oom = r->stopped = true;
		return;
	}
	memcpy(r->data + r->data_len, bytes, n);
	if (last && last->start + last->len == a && !r->base_broken) {
		last->len += n;
	} else {
		if (!grow((void **)&r->chunks, &r->chunks_cap, r->nchunks + 1,
			  sizeof(chunk), (size_t)-1 / sizeof(chunk))) {
			r->oom = r->stopped = true;
			return;
		}
		r->chunks[r->nchunks] = (chunk){ .start = a, .len = n,
						 .data_off = r->data_len,
						 .idx = r->nchunks,
						 .first_rec = r->nrec };
		r->nchunks++;
	}
	r->data_len += n;
	r->nrec++;
}

/* ------------------------------------------------------------ records */

static void record(reader *r, const char *s, size_t n)
{
	uint8_t b[IHEX_MAX_RECORD];
	size_t nb, i;
	unsigned count, addr16, sum = 0, type;

	if (!n)
		return; /* empty line */
	if (s[0] != ':') {
		report(r, ESPIMG_SEV_ERROR, "ihex.colon", 0,
		       "a record must start with ':'");
		return;
	}
	for (i = 1; i < n; i++) {
		if (hexval(s[i]) >= 0)
			continue;
		if (s[i] > ' ' && s[i] < 0x7F)
			report(r, ESPIMG_SEV_ERROR, "ihex.digit", i,
			       "'%c' is not a hex digit", s[i]);
		else
			report(r, ESPIMG_SEV_ERROR, "ihex.digit", i,
			       "byte 0x%02X is not a hex digit",
			       (unsigned)(unsigned char)s[i]);
		return;
	}
	if ((n - 1) % 2) {
		report(r, ESPIMG_SEV_ERROR, "ihex.length", n - 1,
		       "odd number of hex digits (%zu)", n - 1);
		return;
	}
	nb = (n - 1) / 2;
	if (nb < 5) {
		report(r, ESPIMG_SEV_ERROR, "ihex.length", 1,
		       "record of %zu bytes; at least 5 are needed (length, "
		       "address, type, checksum)", nb);
		return;
	}
	count = hexbyte(s + 1);
	if (nb != 5 + (size_t)count) {
		report(r, ESPIMG_SEV_ERROR, "ihex.length", 1,
		       "the length field says %u data bytes, the record has %zu",
		       count, nb - 5);
		return;
	}
	for (i = 0; i < nb; i++) {
		b[i] = hexbyte(s + 1 + 2 * i);
		sum += b[i];
	}
	type = b[3];
	if (type > REC_START_LINEAR) {
		report(r, ESPIMG_SEV_ERROR, "ihex.record_type", 7,
		       "unknown record type %02X (00..05 are defined)", type);
		return;
	}
	if (sum & 0xFF) {
		report(r, ESPIMG_SEV_ERROR, "ihex.checksum", n - 2,
		       "checksum %02X is wrong; this record needs %02X",
		       b[nb - 1], (b[nb - 1] - sum) & 0xFF);
		return;
	}
	addr16 = (unsigned)b[1] << 8 | b[2];

	switch (type) {
	case REC_DATA: {
		uint64_t a = r->base + addr16;

		if (!count)
			return;
		if (a + count - 1 > UINT32_MAX) {
			size_t k = a > UINT32_MAX ? 0 : (size_t)(UINT32_MAX - a + 1);

			report(r, ESPIMG_SEV_ERROR, "ihex.address", 9 + 2 * k,
			       "data byte at address 0x%llX, past the 32-bit "
			       "address space", (unsigned long long)(a + k));
			return;
		}
		data_record(r, a, b + 4, count, 9);
		return;
	}
	case REC_EOF:
		if (count) {
			report(r, ESPIMG_SEV_ERROR, "ihex.record", 1,
			       "end-of-file record with %u data bytes; it has "
			       "none", count);
			return;
		}
		r->eof = true;
		return;
	case REC_EXT_SEGMENT:
	case REC_EXT_LINEAR:
		if (count != 2 || addr16) {
			if (count != 2)
				report(r, ESPIMG_SEV_ERROR, "ihex.record", 1,
				       "extended address record with %u data "
				       "bytes; it has 2", count);
			else
				report(r, ESPIMG_SEV_ERROR, "ihex.record", 3,
				       "extended address record with address "
				       "%04X; it must be 0000", addr16);
			if (!r->base_broken)
				r->trusted_chunks = r->nchunks;
			r->base_broken = true;
			return;
		}
		r->base = (uint64_t)((unsigned)b[4] << 8 | b[5]);
		r->base <<= type == REC_EXT_LINEAR ? 16 : 4;
		return;
	default: /* REC_START_SEGMENT, REC_START_LINEAR */
		if (count != 4) {
			report(r, ESPIMG_SEV_ERROR, "ihex.record", 1,
			       "start address record with %u data bytes; it "
			       "has 4", count);
			return;
		}
		if (addr16) {
			report(r, ESPIMG_SEV_ERROR, "ihex.record", 3,
			       "start address record with address %04X; it "
			       "must be 0000", addr16);
			return;
		}
		if (r->have_start) {
			report(r, ESPIMG_SEV_ERROR, "ihex.start_twice", 0,
			       "a second start address record");
			return;
		}
		r->have_start = true;
		return;
	}
}

static bool blank(const char *s, size_t n, size_t *first)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\f' && s[i] != '\v') {
			*first = i;
			return false;
		}
	}
	return true;
}

/* One pass over the text. */
static void scan(reader *r)
{
	const char *t = r->text;
	size_t i = 0, start, end, first;

	r->line_no = 0;
	while (i < r->len && !r->stopped) {
		start = i;
		while (i < r->len && t[i] != '\n' && t[i] != '\r')
			i++;
		end = i;
		if (i < r->len)
			i += (t[i] == '\r' && i + 1 < r->len && t[i + 1] == '\n')
				     ? 2 : 1;
		r->line_no++;
		r->line_off = start;
		if (!r->eof) {
			record(r, t + start, end - start);
			continue;
		}
		if (!blank(t + start, end - start, &first)) {
			report(r, ESPIMG_SEV_WARNING, "ihex.after_eof", first,
			       "text after the end-of-file record is ignored");
			break;
		}
	}
}

/* ------------------------------------------------------------ overlaps */

static int chunk_cmp(const void *a, const void *b)
{
	const chunk *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Whether chunks created up to idx m (sorted by address) overlap. */
static bool prefix_overlaps(const chunk *c, size_t n, size_t m)
{
	uint64_t reach = 0;
	bool any = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (c[i].idx > m)
			continue;
		if (any && c[i].start < reach)
			return true;
		if (!any || c[i].start + c[i].len > reach)
			reach = c[i].start + c[i].len;
		any = true;
	}
	return false;
}

/* Line and index of the byte at `addr` in the chunk starting with data
 * record `rec`: a second pass over the text. */
static bool locate(const reader *r, size_t rec, uint64_t addr, size_t *line,
		   size_t *line_off, size_t *index)
{
	reader l;

	memset(&l, 0, sizeof(l));
	l.text = r->text;
	l.len = r->len;
	l.locate = true;
	l.want_rec = rec;
	l.want_addr = addr;
	scan(&l);
	*line = l.found_line;
	*line_off = l.found_line_off;
	*index = l.found_index;
	return l.found;
}

/*
 * intelhex stops at the first byte, in file order, written twice; that is
 * the one reported.  The first chunk (in file order) that overlaps an
 * earlier one is found by bisection over prefixes, then its lowest address
 * shared with an earlier chunk.  Only chunks made before index `trusted`
 * take part.  Chunks are sorted by address on return.
 */
static void check_overlaps(reader *r, size_t trusted)
{
	chunk *c = r->chunks, *x = NULL, *y = NULL;
	size_t n = r->nchunks, lo, hi, i, xl, xo, xi, yl, yo, yi;
	uint64_t a = 0;

	if (n < 2)
		return;
	qsort(c, n, sizeof(*c), chunk_cmp);
	if (trusted < 2 || !prefix_overlaps(c, n, trusted - 1))
		return;
	lo = 1;
	hi = trusted - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (prefix_overlaps(c, n, mid))
			hi = mid;
		else
			lo = mid + 1;
	}
	for (i = 0; i < n; i++)
		if (c[i].idx == lo)
			x = &c[i];
	for (i = 0; i < n; i++) {
		uint64_t s;

		if (c[i].idx >= lo || c[i].start >= x->start + x->len ||
		    x->start >= c[i].start + c[i].len)
			continue;
		s = c[i].start > x->start ? c[i].start : x->start;
		if (!y || s < a) {
			y = &c[i];
			a = s;
		}
	}
	if (!y || !locate(r, x->first_rec, a, &xl, &xo, &xi) ||
	    !locate(r, y->first_rec, a, &yl, &yo, &yi))
		return; /* cannot happen: both chunks hold address a */
	r->errors++;
	pend(r, ESPIMG_SEV_ERROR, "ihex.overlap", xl, xi + 1, xo + xi,
	     "data for address 0x%08llX was already given at line %zu, "
	     "column %zu", (unsigned long long)a, yl, yi + 1);
}

/* ------------------------------------------------------------ result */

static int pending_cmp(const void *a, const void *b)
{
	const pending *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int flush_diags(reader *r, const char *file, espimg_diag_list *diags)
{
	size_t i;
	int rc = ESPIMG_OK;

	if (r->ndiags > 1)
		qsort(r->diags, r->ndiags, sizeof(*r->diags), pending_cmp);
	for (i = 0; i < r->ndiags; i++) {
		const pending *p = &r->diags[i];

		if (espimg_diag_add(diags, p->sev, p->code, file, p->line,
				    p->col, p->offset, "%s", p->msg) ==
		    ESPIMG_ENOMEM)
			rc = ESPIMG_ENOMEM;
	}
	return rc;
}

/* Sorted, overlap-free chunks to runs; the data buffer is put in address
 * order first when the file was not. */
static int build_runs(reader *r, espimg_ihex *h)
{
	chunk *c = r->chunks;
	size_t n = r->nchunks, i, off = 0;
	bool in_order = true;

	for (i = 0; i < n; i++) {
		if (c[i].data_off != off)
			in_order = false;
		off += c[i].len;
	}
	if (!in_order) {
		uint8_t *d = malloc(r->data_len);

		if (!d)
			return ESPIMG_ENOMEM;
		for (i = 0, off = 0; i < n; i++) {
			memcpy(d + off, r->data + c[i].data_off, c[i].len);
			c[i].data_off = off;
			off += c[i].len;
		}
		free(r->data);
		r->data = d;
	} else if (r->data_len < r->data_cap) {
		uint8_t *d = realloc(r->data, r->data_len);

		if (d)
			r->data = d;
	}
	h->data = r->data;
	r->data = NULL;
	if (!n)
		return ESPIMG_OK;
	h->runs = malloc(n * sizeof(*h->runs));
	if (!h->runs)
		return ESPIMG_ENOMEM;
	for (i = 0; i < n; i++) {
		espimg_ihex_run *last = h->nruns ? &h->runs[h->nruns - 1] : NULL;

		if (last && (uint64_t)last->address + last->len == c[i].start) {
			last->len += c[i].len;
			continue;
		}
		h->runs[h->nruns++] = (espimg_ihex_run){
			.address = (uint32_t)c[i].start,
			.data = h->data + c[i].data_off,
			.len = c[i].len,
		};
	}
	return ESPIMG_OK;
}

int espimg_ihex_parse(const char *text, size_t len, const char *file,
		      espimg_ihex **out, espimg_diag_list *diags)
{
	reader r;
	espimg_ihex *h = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!out || (!text && len))
		return ESPIMG_EINVAL;
	memset(&r, 0, sizeof(r));
	r.text = text;
	r.len = len;
	scan(&r);

	if (!r.stopped && !r.eof) {
		size_t line = r.line_no ? r.line_no : 1;
		size_t col = len - r.line_off + 1;

		if (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) {
			line = r.line_no + 1;
			col = 1;
		}
		r.errors++;
		pend(&r, ESPIMG_SEV_ERROR, "ihex.no_eof", line, col, len,
		     "no end-of-file record (:00000001FF)");
	}
	/* Without errors the check always runs, so build_runs() gets the
	 * chunks sorted. */
	if (!r.stopped)
		check_overlaps(&r, r.base_broken ? r.trusted_chunks : r.nchunks);

	if (r.oom) {
		rc = ESPIMG_ENOMEM;
		goto out;
	}
	rc = flush_diags(&r, file, diags);
	if (rc)
		goto out;
	if (r.errors) {
		rc = ESPIMG_EFORMAT;
		goto out;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		rc = ESPIMG_ENOMEM;
		goto out;
	}
	rc = build_runs(&r, h);
	if (rc) {
		espimg_ihex_free(h);
		goto out;
	}
	*out = h;
out:
	free(r.data);
	free(r.chunks);
	free(r.diags);
	return rc;
}

void espimg_ihex_free(espimg_ihex *hex)
{
	if (!hex)
		return;
	free(hex->data);
	free(hex->runs);
	free(hex);
}

size_t espimg_ihex_run_count(const espimg_ihex *hex)
{
	return hex ? hex->nruns : 0;
}

const espimg_ihex_run *espimg_ihex_run_at(const espimg_ihex *hex, size_t index)
{
	return hex && index < hex->nruns ? &hex->runs[index] : NULL;
}

int espimg_ihex_detect(const void *buf, size_t len)
{
	const char *s = buf;
	size_t i = 0;

	if (!s)
		return 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
			   s[i] == '\n'))
		i++;
	return i + 1 < len && s[i] == ':' && hexval(s[i + 1]) >= 0;
}
