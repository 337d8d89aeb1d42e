/*
 * fixtures.h - small helpers shared by the Criterion suites.
 *
 * Everything here is static inline so a suite pays only for what it uses.
 * Helpers return an error instead of asserting; suites assert on the result.
 */
#ifndef ESPIMG_TEST_FIXTURES_H
#define ESPIMG_TEST_FIXTURES_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "espimg/espimg.h"
#include "synth.h"

/* ------------------------------------------------------------ write sink */

/*
 * An in-memory espimg_write_fn target.  Zero-initialise it; set fail_from
 * to N to make the N-th write call (1-based) and every later one fail.
 */
struct fx_sink {
	char *data; /* always NUL-terminated once anything was written */
	size_t len;
	size_t cap;
	unsigned calls;
	unsigned fail_from; /* 0 = never fail */
};

static inline int fx_sink_write(void *ctx, const void *buf, size_t len)
{
	struct fx_sink *s = ctx;

	s->calls++;
	if (s->fail_from && s->calls >= s->fail_from)
		return -1;
	if (s->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 256;
		char *p;

		while (cap < s->len + len + 1)
			cap *= 2;
		p = realloc(s->data, cap);
		if (!p)
			return -1;
		s->data = p;
		s->cap = cap;
	}
	memcpy(s->data + s->len, buf, len);
	s->len += len;
	s->data[s->len] = '\0';
	return 0;
}

/* The bytes written so far as a string ("" when nothing was written). */
static inline const char *fx_sink_str(const struct fx_sink *s)
{
	return s->data ? s->data : "";
}

static inline void fx_sink_free(struct fx_sink *s)
{
	free(s->data);
	memset(s, 0, sizeof(*s));
}

/* Appends printf-style text (asserts it could). */
static inline void fx_sink_printf(struct fx_sink *s, const char *fmt, ...)
	ESPIMG_PRINTF(2, 3);

static inline void fx_sink_printf(struct fx_sink *s, const char *fmt, ...)
{
	char buf[256], *p = buf;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	if ((size_t)n >= sizeof(buf)) {
		p = malloc((size_t)n + 1);
		cr_assert_not_null(p);
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	cr_assert_eq(fx_sink_write(s, p, (size_t)n), 0);
	if (p != buf)
		free(p);
}

/* ------------------------------------------------------------ Intel HEX */

/* One Intel HEX record (type, the low 16 address bits, n data bytes) with
 * a correct checksum, written here independently of the library. */
static inline void fx_ihex_rec(struct fx_sink *s, unsigned type, unsigned addr,
			       const uint8_t *d, size_t n)
{
	unsigned sum = (unsigned)n + (addr >> 8 & 0xFF) + (addr & 0xFF) + type;

	fx_sink_printf(s, ":%02X%04X%02X", (unsigned)n, addr & 0xFFFF, type);
	for (size_t i = 0; i < n; i++) {
		fx_sink_printf(s, "%02X", d[i]);
		sum += d[i];
	}
	fx_sink_printf(s, "%02X\n", (0x100 - (sum & 0xFF)) & 0xFF);
}

/* An extended linear address record (type 04): the upper 16 bits of the
 * addresses that follow. */
static inline void fx_ihex_ela(struct fx_sink *s, unsigned upper)
{
	uint8_t d[2] = { (uint8_t)(upper >> 8), (uint8_t)upper };

	fx_ihex_rec(s, 0x04, 0, d, 2);
}

/* The end-of-file record. */
static inline void fx_ihex_eof(struct fx_sink *s)
{
	fx_sink_printf(s, ":00000001FF\n");
}

/* ------------------------------------------------------------ sources */

/*
 * A counting source: `len` bytes of buf, then 0xFF up to `size` (a
 * virtual flash; buf may be NULL with len 0).  It records every read and
 * can fail its fail_at-th read call.
 */
struct fx_csrc {
	const uint8_t *buf;
	size_t len;
	uint64_t size;
	unsigned calls;
	unsigned fail_at;  /* 0 = never */
	uint64_t bytes;    /* bytes delivered */
	size_t max_read;   /* the largest read */
	bool out_of_range; /* a read asked for bytes past the end */
};

static inline int fx_csrc_read(void *ctx, uint64_t off, void *buf, size_t n,
			       size_t *got)
{
	struct fx_csrc *c = ctx;
	size_t k = 0;

	c->calls++;
	*got = 0;
	if (c->fail_at && c->calls == c->fail_at)
		return ESPIMG_EIO;
	if (off > c->size || n > c->size - off) {
		c->out_of_range = true;
		if (off >= c->size)
			return 0;
		n = (size_t)(c->size - off);
	}
	if (off < c->len)
		k = c->len - off < n ? (size_t)(c->len - off) : n;
	if (k)
		memcpy(buf, c->buf + off, k);
	memset((uint8_t *)buf + k, 0xFF, n - k);
	*got = n;
	c->bytes += n;
	if (n > c->max_read)
		c->max_read = n;
	return 0;
}

static inline espimg_source fx_csrc_init(struct fx_csrc *c,
					 const uint8_t *buf, size_t len,
					 uint64_t size)
{
	espimg_source s = { fx_csrc_read, c, size };

	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->len = len;
	c->size = size;
	return s;
}

/* ------------------------------------------------------------ diagnostics */

/*
 * The first diagnostic with this code, or NULL.  sev < 0 matches any
 * severity, otherwise only that espimg_severity.
 */
static inline const espimg_diag *fx_diag_find(const espimg_diag_list *l,
					      const char *code, int sev)
{
	size_t n = espimg_diag_count(l);

	for (size_t i = 0; i < n; i++) {
		const espimg_diag *d = espimg_diag_get(l, i);
		if (!strcmp(d->code, code) && (sev < 0 || (int)d->severity == sev))
			return d;
	}
	return NULL;
}

/* How many diagnostics have this code (and severity, unless sev < 0). */
static inline size_t fx_diag_count(const espimg_diag_list *l, const char *code,
				   int sev)
{
	size_t n = espimg_diag_count(l), k = 0;

	for (size_t i = 0; i < n; i++) {
		const espimg_diag *d = espimg_diag_get(l, i);
		if (!strcmp(d->code, code) && (sev < 0 || (int)d->severity == sev))
			k++;
	}
	return k;
}

/*
 * Every diagnostic as "severity code line:column@offset: message" lines,
 * for assertion messages.  free() the result (never NULL unless out of
 * memory; "" for an empty list).
 */
static inline char *fx_diag_dump(const espimg_diag_list *l)
{
	struct fx_sink s = { 0 };
	size_t n = espimg_diag_count(l);
	char line[1400];

	for (size_t i = 0; i < n; i++) {
		const espimg_diag *d = espimg_diag_get(l, i);
		int k = snprintf(line, sizeof(line), "%s %s %u:%u@%lld: %s\n",
				 espimg_severity_name(d->severity), d->code,
				 d->line, d->column, (long long)d->offset,
				 d->message);
		if (k > 0)
			fx_sink_write(&s, line,
				      (size_t)k < sizeof(line) ? (size_t)k
							       : sizeof(line) - 1);
	}
	return s.data ? s.data : strdup("");
}

/* ------------------------------------------------------------ synthesis */

/* The synthesiser's chip with this key (esp32, esp32c3, ...); asserts it
 * exists. */
static inline const synth_chip *fx_synth_chip(const char *key)
{
	const synth_chip *c = synth_chip_by_key(key);

	cr_assert_not_null(c, "synth chip %s", key);
	return c;
}

/* The image s describes, malloc'd (asserts it builds); frees s. */
static inline uint8_t *fx_synth_finish(synth_image *s, size_t *len)
{
	uint8_t *out = NULL;

	cr_assert_eq(synth_finish(s, &out, len), 0);
	synth_free(s);
	return out;
}

/* ------------------------------------------------------------ files */

/* Creates a fresh directory under $TMPDIR or /tmp; free() the result. */
static inline char *fx_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	size_t n;
	char *p;

	if (!base || !*base)
		base = "/tmp";
	n = strlen(base) + sizeof("/espimg-test.XXXXXX");
	p = malloc(n);
	if (!p)
		return NULL;
	snprintf(p, n, "%s/espimg-test.XXXXXX", base);
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

/* "dir/name" in a new string; free() the result. */
static inline char *fx_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Writes a whole file (mode 0644); returns 0 or -1. */
static inline int fx_write_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

/* Number of entries in dir, "." and ".." excluded; -1 on error. */
static inline int fx_count_entries(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (!dp)
		return -1;
	while ((d = readdir(dp)) != NULL)
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			n++;
	closedir(dp);
	return n;
}

/* Removes dir and everything in it (recursively); errors are ignored. */
static inline void fx_rmtree(const char *dir)
{
	struct dirent *d;
	struct stat st;
	DIR *dp = opendir(dir);
	char *p;

	if (dp) {
		while ((d = readdir(dp)) != NULL) {
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			p = fx_path(dir, d->d_name);
			if (!p)
				continue;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				fx_rmtree(p);
			else
				unlink(p);
			free(p);
		}
		closedir(dp);
	}
	rmdir(dir);
}

/* The shared corpus: CORPUS names its root, default ../shared/corpus (the
 * tests run from the repository root).  NULL when it is absent. */
static inline const char *fx_corpus_root(void)
{
	const char *root = getenv("CORPUS");
	struct stat st;

	if (!root || !*root)
		root = "../shared/corpus";
	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return root;
}

/* ROOT/rel, malloc'd; skips the calling test when the corpus is absent. */
static inline char *fx_corpus_path(const char *rel)
{
	const char *root = fx_corpus_root();
	size_t n;
	char *p;

	if (!root)
		cr_skip_test("corpus absent (set CORPUS=<corpus root>)");
	n = strlen(root) + strlen(rel) + 2;
	p = malloc(n);
	cr_assert_not_null(p);
	snprintf(p, n, "%s/%s", root, rel);
	return p;
}

/* The bytes of a corpus file (at most 64 MiB); skips when the corpus is
 * absent, fails when the file cannot be read. */
static inline uint8_t *fx_corpus_read(const char *rel, size_t *len)
{
	char *path = fx_corpus_path(rel);
	uint8_t *buf = NULL;

	cr_assert_eq(espimg_read_file(path, 64u << 20, &buf, len), 0, "%s",
		     path);
	free(path);
	return buf;
}

/* ------------------------------------------------------------ merged files */

/* The corpus's real merged flash images that hold a partition table
 * (images/NAME; our layout scan of each is images/expected/NAME.layout.txt). */
#define FX_MERGED_WITH_TABLE                                                   \
	"ant777__passman__firmware_merged.bin",                                \
	"fivef__Servo-Driver-with-ESP32__merged-firmware.bin",                 \
	"kukkiksm__ats-mini__bin_merged.bin",                                  \
	"sdyspb__NasDisplay__firmware_merged.bin",                             \
	"shariltumin__esp32-h2-w5500-micropython__build-ESP32_H2_STD_firmware.bin", \
	"t-root__lilygo-twatch-s3-binary-time-deauther__merged.bin",           \
	"zainalabidin85__Switch-Node__factory.bin"

/* A layout scan of a merged file: the first image header at a bootloader
 * offset (0x0..0x2000), the partition table's offset and its entries. */
struct fx_layout {
	long boot;  /* -1: none */
	long table; /* -1: none */
	unsigned chip_id;
	size_t n;
	char name[32][17];
	unsigned type[32], subtype[32], offset[32], size[32];
};

/* Reads images/expected/NAME.layout.txt (NAME relative to images/, e.g.
 * "gen/x.bin"); skips the test when the corpus is absent. */
static inline void fx_layout_read(const char *name, struct fx_layout *l)
{
	char rel[512], *text, *line, *save = NULL;
	bool in_table = false;
	size_t len;

	snprintf(rel, sizeof(rel), "images/expected/%s.layout.txt", name);
	text = (char *)fx_corpus_read(rel, &len);
	memset(l, 0, sizeof(*l));
	l->boot = l->table = -1;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long off;
		char pname[64];
		unsigned t, st, o, sz;

		if (strstr(line, "image header:") &&
		    sscanf(line, "0x%lx", &off) == 1) {
			const char *c = strstr(line, "chip_id=");

			in_table = false;
			cr_assert_not_null(c, "%s: %s", rel, line);
			if (l->boot < 0 && off <= 0x2000) {
				l->boot = (long)off;
				l->chip_id = (unsigned)strtoul(c + 8, NULL, 10);
			}
		} else if (strstr(line, "partition table:") &&
			   sscanf(line, "0x%lx", &off) == 1) {
			cr_assert_eq(l->table, -1, "%s: one table per layout", rel);
			l->table = (long)off;
			in_table = true;
		} else if (in_table &&
			   sscanf(line, " %63s type=0x%x subtype=0x%x "
					"offset=0x%x size=0x%x",
				  pname, &t, &st, &o, &sz) == 5) {
			cr_assert_lt(l->n, 32);
			cr_assert_leq(strlen(pname), 16);
			strcpy(l->name[l->n], pname);
			l->type[l->n] = t;
			l->subtype[l->n] = st;
			l->offset[l->n] = o;
			l->size[l->n] = sz;
			l->n++;
		}
	}
	free(text);
}

#endif
