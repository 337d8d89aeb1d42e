/*
 * esp-flashimg - from a release manifest to the exact bytes that go onto a
 * device (build), and offline tools for whole flash images and dumps: what
 * the device does when it boots (explain), the layout as a picture (map),
 * and parttool's read, write and erase without a device (extract, write,
 * erase).  The manifest, the release plan, merging and the explanation are
 * the library's (manifest.h, release.h, merge.h, flash.h); this file reads
 * the inputs, writes every output atomically and reports.
 *
 * Dumps are read through an espimg_source (tool_input_open: pread on a
 * regular file), so explain, extract, write and erase keep memory flat
 * whatever the dump's size; a changed dump is streamed to a temporary file
 * beside it, synced and renamed over it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "espimg/espimg.h"
#include "espimg/flash.h"
#include "espimg/manifest.h"
#include "espimg/merge.h"
#include "espimg/release.h"
#include "tool.h"

/* Bytes copied at a time when a dump is streamed. */
#define CHUNK (64u << 10)

enum {
	OPT_SUMMARY = 1, OPT_ARGFILE, OPT_PARTITION, OPT_CHIP, OPT_TABLE_OFFSET,
};

static const struct tool_option options[] = {
	TOOL_OPTION_OUTPUT("the output; write, erase: not in place"),
	{ OPT_SUMMARY, 0, "summary", TOOL_ARG, "FILE",
	  "build: also a JSON summary of the parts", NULL, NULL },
	{ OPT_ARGFILE, 0, "argfile", TOOL_ARG, "FILE",
	  "build: also an esptool argument file", NULL, NULL },
	{ OPT_PARTITION, 0, "partition", TOOL_ARG, "NAME",
	  "extract, write, erase: the partition", NULL, NULL },
	{ OPT_CHIP, 0, "chip", TOOL_ARG, "CHIP",
	  "dumps: the chip (default: the bootloader's)", NULL, NULL },
	{ OPT_TABLE_OFFSET, 0, "table-offset", TOOL_ARG, "N",
	  "dumps: table offset (default 0x8000)", NULL, NULL },
	TOOL_OPTION_FORMAT("text|json|yaml", "report format (default text)"),
	TOOL_OPTION_QUIET("no report, no warnings: errors only"),
	TOOL_OPTIONS_END,
};

static const struct tool_spec spec = {
	"esp-flashimg",
	"COMMAND FILE [IN]",
	"Build a flash image from a release manifest, and explain, map and\n"
	"edit ESP32-family flash images and dumps offline.  COMMAND is one of\n"
	"  build MANIFEST                  the image the manifest describes\n"
	"  explain DUMP                    what the device does when it boots\n"
	"  map DUMP|MANIFEST -o MAP.svg    the flash layout as a picture\n"
	"  extract DUMP --partition NAME -o OUT\n"
	"  write DUMP --partition NAME IN  (in place, all or nothing)\n"
	"  erase DUMP --partition NAME     (in place, all or nothing)",
	options,
	"Exit status: 0 ok, 1 refused or invalid input (explain: nothing would\n"
	"boot, or the bootloader is misplaced), 2 usage or I/O error, 3 internal\n"
	"error.  See esp-flashimg(1) and espimg-manifest(5).\n",
};

enum cmd {
	CMD_NONE, CMD_BUILD, CMD_EXPLAIN, CMD_MAP, CMD_EXTRACT, CMD_WRITE,
	CMD_ERASE,
};

static const char *const cmd_names[] = {
	[CMD_BUILD] = "build", [CMD_EXPLAIN] = "explain", [CMD_MAP] = "map",
	[CMD_EXTRACT] = "extract", [CMD_WRITE] = "write", [CMD_ERASE] = "erase",
};

struct run {
	struct tool_common common; /* -o, --format, -q, -h, -V */
	enum cmd cmd;
	const char *file;          /* MANIFEST or DUMP */
	const char *in;            /* write: IN */
	const char *summary, *argfile, *partition;
	const espimg_chip *chip;   /* --chip; NULL: the bootloader's */
	bool chip_set;
	uint32_t table_offset;     /* --table-offset; 0: 0x8000 */
	espimg_diag_list *diags;
};

/* ------------------------------------------------------------ options */

static int on_option(void *ctx, const struct tool_option *opt,
		     const char *value)
{
	struct run *run = ctx;
	int64_t v;

	switch (opt->id) {
	case OPT_SUMMARY:
		run->summary = value;
		return 0;
	case OPT_ARGFILE:
		run->argfile = value;
		return 0;
	case OPT_PARTITION:
		run->partition = value;
		return 0;
	case OPT_CHIP:
		run->chip_set = true;
		return tool_parse_chip(&spec, value, &run->chip);
	case OPT_TABLE_OFFSET:
		/* The table fills one 4 KiB sector (ESP-IDF
		 * CONFIG_PARTITION_TABLE_OFFSET must be sector aligned). */
		if (espimg_ptable_parse_int(value, &v) || v <= 0 ||
		    v > 0xFFFFF000 || v % ESPIMG_PTABLE_SECTOR)
			return tool_usage_error(&spec, "table offset '%s' is not a "
						"multiple of 0x1000 from 0x1000 "
						"to 0xfffff000", value);
		run->table_offset = (uint32_t)v;
		return 0;
	}
	return tool_common_option(&spec, &run->common, opt, value);
}

static bool is_stdout(const char *path)
{
	return path && !strcmp(path, "-");
}

static bool edits(enum cmd c)
{
	return c == CMD_EXTRACT || c == CMD_WRITE || c == CMD_ERASE;
}

/* Usage rules that need every option and the positionals. */
static int check_usage(struct run *run, char **pos, int npos)
{
	enum cmd c;
	int want;

	if (npos < 1)
		return tool_usage_error(&spec, "no COMMAND given (build, explain, "
					"map, extract, write or erase)");
	for (c = CMD_BUILD; c <= CMD_ERASE; c++)
		if (!strcmp(pos[0], cmd_names[c]))
			break;
	if (c > CMD_ERASE)
		return tool_usage_error(&spec, "unknown COMMAND '%s' (build, "
					"explain, map, extract, write or erase)",
					pos[0]);
	run->cmd = c;
	want = c == CMD_WRITE ? 3 : 2;
	if (npos < 2)
		return tool_usage_error(&spec, "%s needs %s", cmd_names[c],
					c == CMD_BUILD ? "MANIFEST" :
					c == CMD_MAP ? "DUMP or MANIFEST" : "DUMP");
	if (npos < want)
		return tool_usage_error(&spec, "write needs IN, the file to "
					"write into the partition");
	if (npos > want)
		return tool_usage_error(&spec, "too many arguments");
	run->file = pos[1];
	run->in = c == CMD_WRITE ? pos[2] : NULL;

	if ((run->summary || run->argfile) && c != CMD_BUILD)
		return tool_usage_error(&spec, "--summary and --argfile are for "
					"build");
	if (run->partition && !edits(c))
		return tool_usage_error(&spec, "--partition is for extract, write "
					"and erase");
	if (!run->partition && edits(c))
		return tool_usage_error(&spec, "%s needs --partition NAME",
					cmd_names[c]);
	if ((run->chip_set || run->table_offset) && c == CMD_BUILD)
		return tool_usage_error(&spec, "--chip and --table-offset are for "
					"dumps; a manifest names its chip and "
					"table offset");
	if (!run->common.output && (c == CMD_MAP || c == CMD_EXTRACT))
		return tool_usage_error(&spec, "%s needs -o OUT", cmd_names[c]);
	if (run->common.output && c == CMD_EXPLAIN)
		return tool_usage_error(&spec, "explain writes nothing; -o is for "
					"the commands that do");
	if (tool_check_output(&spec, &run->common))
		return TOOL_EXIT_USAGE;
	if (is_stdout(run->summary) + is_stdout(run->argfile) +
	    is_stdout(run->common.output) > 1)
		return tool_usage_error(&spec, "only one of -o, --summary and "
					"--argfile can be standard output");
	if ((is_stdout(run->summary) || is_stdout(run->argfile)) &&
	    run->common.format_set)
		return tool_usage_error(&spec, "--format and a file '-' would "
					"both write to standard output");
	if ((c == CMD_WRITE || c == CMD_ERASE) && !strcmp(run->file, "-") &&
	    !run->common.output)
		return tool_usage_error(&spec, "standard input cannot be changed "
					"in place: give -o OUT");
	if (run->in && !strcmp(run->in, "-") && !strcmp(run->file, "-"))
		return tool_usage_error(&spec, "DUMP and IN cannot both be "
					"standard input");
	return 0;
}

/* Whether a report goes to standard output: not when a file does. */
static bool reporting(const struct run *run)
{
	return !run->common.quiet && !is_stdout(run->common.output) &&
	       !is_stdout(run->summary) && !is_stdout(run->argfile);
}

static bool structured(const struct run *run)
{
	return reporting(run) && run->common.format != ESPIMG_FORMAT_TEXT;
}

static bool text(const struct run *run)
{
	return reporting(run) && run->common.format == ESPIMG_FORMAT_TEXT;
}

/* ------------------------------------------------------------ output */

/*
 * An output file written as a stream: into a temporary file beside it,
 * renamed over it once complete, so a reader sees the old file or the new
 * one and a failure (or a fatal signal) leaves nothing behind.  "-" is
 * standard output, written directly.
 */
struct outfile {
	const char *path;
	char *tmp;         /* the temporary file; NULL for standard output */
	int fd;
	uint64_t size;     /* bytes written */
	EVP_MD_CTX *md;    /* SHA-256 of what was written, when asked for */
	int err;           /* errno of the first failure */
};

/* The temporary file being written, removed on a fatal signal. */
static char *volatile pending_tmp;

static void on_fatal_signal(int sig)
{
	char *t = pending_tmp;

	if (t)
		unlink(t);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int fatal_sigs[] = { SIGINT, SIGTERM, SIGHUP };

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal_sigs) / sizeof(fatal_sigs[0]); i++)
		sigaction(fatal_sigs[i], &sa, NULL);
	/* A file size limit makes write() fail (EFBIG), which is handled,
	 * rather than kill us with the temporary file left behind. */
	signal(SIGXFSZ, SIG_IGN);
}

static int out_fail(struct outfile *o, int err)
{
	tool_error(spec.name, "%s: error: cannot write: %s",
		   tool_display_name(o->path), strerror(err));
	return TOOL_EXIT_USAGE;
}

static int out_open(struct outfile *o, const char *path, bool digest)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dirlen = (size_t)(base - path), baselen = strlen(base);
	sigset_t block, old;
	int e;

	memset(o, 0, sizeof(*o));
	o->path = path;
	o->fd = -1;
	if (digest) {
		o->md = EVP_MD_CTX_new();
		if (!o->md || !EVP_DigestInit_ex(o->md, EVP_sha256(), NULL))
			return tool_nomem(spec.name);
	}
	if (!strcmp(path, "-")) {
		o->fd = STDOUT_FILENO;
		return 0;
	}
	if (!baselen || !strcmp(base, ".") || !strcmp(base, ".."))
		return out_fail(o, EISDIR);
	/* "<dir>/.<base>.XXXXXX", as espimg_write_file_atomic names it. */
	o->tmp = malloc(dirlen + baselen + 9);
	if (!o->tmp)
		return tool_nomem(spec.name);
	memcpy(o->tmp, path, dirlen);
	if (dirlen > 1) {
		/* The missing directories above the output, as the other
		 * tools make them. */
		o->tmp[dirlen - 1] = '\0';
		if (tool_make_dirs(o->tmp))
			return out_fail(o, errno);
		o->tmp[dirlen - 1] = '/';
	}
	o->tmp[dirlen] = '.';
	memcpy(o->tmp + dirlen + 1, base, baselen);
	memcpy(o->tmp + dirlen + 1 + baselen, ".XXXXXX", 8);
	/* The fatal signals wait until the handler knows the file: one
	 * between mkstemp() and pending_tmp would leave it behind. */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(fatal_sigs) / sizeof(fatal_sigs[0]); i++)
		sigaddset(&block, fatal_sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	o->fd = mkstemp(o->tmp);
	e = errno;
	if (o->fd >= 0)
		pending_tmp = o->tmp;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (o->fd < 0) {
		free(o->tmp);
		o->tmp = NULL;
		return out_fail(o, e);
	}
	return 0;
}

/* espimg_write_fn into an outfile. */
static int out_write(void *ctx, const void *buf, size_t len)
{
	struct outfile *o = ctx;
	const char *p = buf;

	if (o->err)
		return -1;
	if (o->md && !EVP_DigestUpdate(o->md, buf, len)) {
		o->err = ENOMEM;
		return -1;
	}
	while (len) {
		ssize_t n = write(o->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			o->err = errno;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		o->size += (uint64_t)n;
	}
	return 0;
}

static void out_free(struct outfile *o)
{
	EVP_MD_CTX_free(o->md);
	o->md = NULL;
	free(o->tmp);
	o->tmp = NULL;
}

/* Removes the temporary file. */
static void out_abort(struct outfile *o)
{
	if (o->tmp) {
		if (o->fd >= 0)
			close(o->fd);
		unlink(o->tmp);
		pending_tmp = NULL;
	}
	o->fd = -1;
	out_free(o);
}

/* Renames the complete file into place; with sync, data and rename are
 * flushed to disk first.  The digest, when asked for, goes to sha256. */
static int out_commit(struct outfile *o, bool sync, uint8_t sha256[32])
{
	struct stat st;
	mode_t mode, mask;
	int e;

	if (o->err) {
		e = o->err;
		out_abort(o);
		return out_fail(o, e);
	}
	if (o->md && sha256 && !EVP_DigestFinal_ex(o->md, sha256, NULL)) {
		out_abort(o);
		return tool_nomem(spec.name);
	}
	if (!o->tmp) {
		out_free(o);
		return 0;
	}
	/* The mode of the file replaced, else what open(2) would give. */
	if (stat(o->path, &st) == 0 && S_ISREG(st.st_mode)) {
		mode = st.st_mode & 07777;
	} else {
		mask = umask(0);
		umask(mask);
		mode = 0666 & ~mask;
	}
	if (fchmod(o->fd, mode) || (sync && fsync(o->fd))) {
		e = errno;
		out_abort(o);
		return out_fail(o, e);
	}
	e = close(o->fd) ? errno : 0;
	o->fd = -1;
	if (e || rename(o->tmp, o->path)) {
		e = e ? e : errno;
		out_abort(o);
		return out_fail(o, e);
	}
	pending_tmp = NULL;
	if (sync) {
		/* The rename itself: sync the directory. */
		char *slash = strrchr(o->tmp, '/');
		int dfd;

		if (slash == o->tmp)
			dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		else if (slash) {
			*slash = '\0';
			dfd = open(o->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		} else {
			dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	out_free(o);
	return 0;
}

/* ------------------------------------------------------------ sources */

/* Reads exactly len bytes at offset; ESPIMG_EFORMAT when src ends first. */
static int read_exact(const espimg_source *src, uint64_t offset, void *buf,
		      size_t len)
{
	size_t got = 0;
	int r = src->read_at(src->ctx, offset, buf, len, &got);

	if (r)
		return r;
	return got == len ? 0 : ESPIMG_EFORMAT;
}

static int read_fail(const struct tool_input *in, int r)
{
	if (r == ESPIMG_EIO)
		tool_error(spec.name, "%s: error: cannot read: %s", in->name,
			   strerror(errno));
	else
		tool_error(spec.name, "%s: error: cannot read: the file changed "
			   "while it was read", in->name);
	return TOOL_EXIT_USAGE;
}

/* Copies len bytes of in at offset to out. */
static int copy_range(const struct tool_input *in, uint64_t offset,
		      uint64_t len, struct outfile *out, uint8_t *buf)
{
	while (len) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;
		int r = read_exact(&in->src, offset, buf, n);

		if (r)
			return read_fail(in, r);
		if (out_write(out, buf, n))
			return out_fail(out, out->err);
		offset += n;
		len -= n;
	}
	return 0;
}

/* Writes n bytes of value to out. */
static int fill_range(struct outfile *out, uint8_t value, uint64_t n,
		      uint8_t *buf)
{
	memset(buf, value, n < CHUNK ? (size_t)n : CHUNK);
	while (n) {
		size_t k = n < CHUNK ? (size_t)n : CHUNK;

		if (out_write(out, buf, k))
			return out_fail(out, out->err);
		n -= k;
	}
	return 0;
}

/* ------------------------------------------------------------ manifests */

/* Loads the files a manifest names: relative to the manifest, bounded. */
struct loader {
	const char *manifest;  /* the path as given */
	size_t limit;
	bool nomem;
};

static int load_file(void *ctx, const char *path, uint8_t **data,
		     size_t *len)
{
	struct loader *l = ctx;
	char *full = espimg_manifest_path(l->manifest, path);
	int r;

	if (!full) {
		l->nomem = true;
		return ESPIMG_ENOMEM;
	}
	r = espimg_read_file(full, l->limit, data, len);
	free(full);
	if (r == ESPIMG_ENOMEM)
		l->nomem = true;
	return r;
}

/* A manifest and what it resolves to. */
struct plan {
	const char *path;
	const char *name;      /* for messages */
	uint8_t *text;
	size_t len;
	espimg_manifest *m;
	espimg_release *r;
};

static void plan_free(struct plan *p)
{
	espimg_release_free(p->r);
	espimg_manifest_free(p->m);
	free(p->text);
}

/* Parses p->text and plans the release; an exit status. */
static int plan_release(struct run *run, struct plan *p)
{
	struct loader ld = { p->path, ESPIMG_FLASH_MAX_SIZE, false };
	int r;

	r = espimg_manifest_parse((const char *)p->text, p->len, p->name, &p->m,
				  run->diags);
	if (r)
		return tool_exit_for(r);
	/* No image can be larger than the flash it goes into. */
	if (p->m->has_flash && p->m->flash.size_bytes &&
	    p->m->flash.size_bytes < ld.limit)
		ld.limit = (size_t)p->m->flash.size_bytes;
	r = espimg_release_plan(p->m, p->name, load_file, &ld, &p->r,
				run->diags);
	if (ld.nomem && !r)
		r = ESPIMG_ENOMEM;
	return tool_exit_for(r);
}

/* ------------------------------------------------------------ build */

static const char *format_name(espimg_out_format f)
{
	return f == ESPIMG_OUT_HEX ? "hex" : f == ESPIMG_OUT_UF2 ? "uf2" : "raw";
}

/* The file a part is flashed from as it is, or NULL when the build made
 * it (the table from CSV, otadata). */
static const char *part_file(const struct plan *p,
			     const espimg_release_part *pt)
{
	if (pt->kind == ESPIMG_RPART_FILE ||
	    (pt->kind == ESPIMG_RPART_TABLE && !p->m->table_is_csv))
		return pt->path;
	return NULL;
}

/* What the build wrote. */
struct built {
	const char *output;
	uint64_t size;
	uint8_t sha256[32];
	const char *argfile, *summary;
	char **paths;         /* per part: the file the argument file names */
};

static void emit_build(espimg_emitter *e, const struct plan *p,
		       const struct built *b, const espimg_diag_list *diags)
{
	char hex[65];

	espimg_release_emit(p->r, p->name, e);
	espimg_emit_key(e, "written");
	espimg_emit_begin_map(e);
	espimg_emit_kv_str(e, "file", tool_display_name(b->output));
	espimg_emit_kv_uint(e, "size", b->size);
	espimg_emit_kv_hex(e, "size_hex", b->size);
	tool_hex(hex, b->sha256, 32);
	espimg_emit_kv_str(e, "sha256", hex);
	espimg_emit_end_map(e);
	tool_kv_str_or_null(e, "argfile", b->argfile);
	tool_emit_diags(e, diags, true);
}

static void print_build(const struct plan *p, const struct built *b)
{
	const espimg_release *r = p->r;
	char hex[65];

	printf("%s: %s", p->name, r->chip->name);
	if (r->flash_size)
		printf(", %llu KiB flash", (unsigned long long)(r->flash_size >> 10));
	printf(", %zu parts\n", r->nparts);
	for (size_t i = 0; i < r->nparts; i++) {
		const espimg_release_part *pt = &r->parts[i];
		char size[48];

		if (pt->partition_size)
			snprintf(size, sizeof(size), "0x%zx of 0x%llx", pt->len,
				 (unsigned long long)pt->partition_size);
		else
			snprintf(size, sizeof(size), "0x%zx", pt->len);
		printf("  0x%08llx  %-16s %-20s ", (unsigned long long)pt->offset,
		       pt->label, size);
		if (part_file(p, pt))
			printf("%s", pt->path);
		else if (pt->path)
			printf("generated from %s", pt->path);
		else if (pt->kind == ESPIMG_RPART_OTADATA && p->m->boot)
			printf("generated: boots %s", p->m->boot);
		else
			printf("generated");
		if (pt->is_image && pt->project[0])
			printf(" (%s %s)", pt->project, pt->version);
		else if (pt->is_image && pt->version[0])
			printf(" (version %s)", pt->version);
		putchar('\n');
	}
	tool_hex(hex, b->sha256, 32);
	printf("wrote %s: %s, 0x%llx bytes, sha256 %s\n", b->output,
	       format_name(r->merge.format), (unsigned long long)b->size, hex);
	if (b->argfile)
		printf("wrote %s\n", b->argfile);
	if (b->summary)
		printf("wrote %s\n", b->summary);
}

/*
 * The esptool argument file: the parts from files by their paths (as seen
 * from the current directory), generated parts written beside `base` as
 * BASE.LABEL.bin.
 */
static int write_argfile(const struct plan *p, struct built *b,
			 const char *argfile, const char *base)
{
	const espimg_release *r = p->r;
	char *text = NULL;
	size_t len = 0;
	int st = 0, rc;

	b->paths = calloc(r->nparts ? r->nparts : 1, sizeof(*b->paths));
	if (!b->paths)
		return tool_nomem(spec.name);
	for (size_t i = 0; i < r->nparts && !st; i++) {
		const espimg_release_part *pt = &r->parts[i];

		if (part_file(p, pt)) {
			b->paths[i] = espimg_manifest_path(p->path, pt->path);
			if (!b->paths[i])
				st = tool_nomem(spec.name);
			continue;
		}
		b->paths[i] = malloc(strlen(base) + strlen(pt->label) + 6);
		if (!b->paths[i]) {
			st = tool_nomem(spec.name);
			break;
		}
		sprintf(b->paths[i], "%s.%s.bin", base, pt->label);
		st = tool_write_output(spec.name, b->paths[i], pt->data, pt->len);
	}
	if (st)
		return st;
	rc = espimg_release_argfile(r, (const char *const *)b->paths, &text,
				    &len);
	if (rc) {
		if (rc == ESPIMG_ENOMEM)
			return tool_nomem(spec.name);
		tool_error(spec.name, "%s: error: %s", argfile,
			   espimg_strerror(rc));
		return tool_exit_for(rc);
	}
	st = tool_write_output(spec.name, argfile, text, len);
	free(text);
	if (!st)
		b->argfile = argfile;
	return st;
}

static int write_summary(struct run *run, const struct plan *p,
			 const struct built *b, const char *path)
{
	struct tool_buf buf = { 0 };
	espimg_emitter *e = espimg_emit_new(ESPIMG_FORMAT_JSON, tool_buf_write,
					    &buf);
	int r;

	if (!e)
		return tool_nomem(spec.name);
	espimg_emit_begin_doc(e, "espimg.release/1");
	emit_build(e, p, b, run->diags);
	r = espimg_emit_end_doc(e);
	espimg_emit_free(e);
	if (r) {
		free(buf.p);
		return r == ESPIMG_ENOMEM || r == ESPIMG_EIO ?
			tool_nomem(spec.name) : TOOL_EXIT_INTERNAL;
	}
	r = tool_write_output(spec.name, path, buf.p, buf.len);
	free(buf.p);
	return r;
}

/* An output named on the command line (cmd), else by the manifest (key,
 * relative to the manifest; *own is then the copy to free), else none. */
static int manifest_file(const struct plan *p, const char *cmd,
			 const char *key, char **own, const char **out)
{
	*out = cmd;
	if (cmd || !key)
		return 0;
	*own = espimg_manifest_path(p->path, key);
	if (!*own)
		return tool_nomem(spec.name);
	*out = *own;
	return 0;
}

static int cmd_build(struct run *run)
{
	struct plan p = { .path = run->file,
			  .name = tool_display_name(run->file) };
	struct built b = { 0 };
	struct outfile out;
	const char *argfile = NULL, *summary = NULL;
	char *own_out = NULL, *own_arg = NULL, *own_sum = NULL;
	int st, r;

	st = tool_read_input(spec.name, p.path, ESPIMG_MANIFEST_MAX_SIZE, &p.text,
			     &p.len);
	if (!st)
		st = plan_release(run, &p);
	if (st)
		goto done;
	/* The command line wins over the manifest's output keys, whose
	 * paths are relative to the manifest. */
	st = manifest_file(&p, run->common.output, p.m->output_path, &own_out,
			   &b.output);
	if (!st)
		st = manifest_file(&p, run->argfile, p.m->argfile_path, &own_arg,
				   &argfile);
	if (!st)
		st = manifest_file(&p, run->summary, p.m->summary_path, &own_sum,
				   &summary);
	if (st)
		goto done;
	if (!b.output) {
		st = tool_usage_error(&spec, "build needs -o OUT (or output: "
				      "{file: OUT} in the manifest)");
		goto done;
	}
	st = out_open(&out, b.output, true);
	if (st) {
		out_abort(&out);
		goto done;
	}
	r = espimg_release_write(p.r, out_write, &out, run->diags);
	if (r) {
		int e = out.err;

		out_abort(&out);
		if (r == ESPIMG_EIO && e)
			st = out_fail(&out, e);
		else
			st = tool_exit_for(r);
		goto done;
	}
	b.size = out.size;
	st = out_commit(&out, false, b.sha256);
	if (!st && argfile)
		st = write_argfile(&p, &b, argfile,
				   strcmp(b.output, "-") ? b.output : argfile);
	if (!st && summary) {
		st = write_summary(run, &p, &b, summary);
		b.summary = summary;
	}
	if (st)
		goto done;
	if (structured(run)) {
		espimg_emitter *e = tool_doc_begin(run->common.format,
						   "espimg.release/1");

		if (!e) {
			st = tool_nomem(spec.name);
			goto done;
		}
		emit_build(e, &p, &b, run->diags);
		st = tool_doc_end(spec.name, e);
	} else if (text(run)) {
		print_build(&p, &b);
		st = tool_flush_stdout(spec.name);
	}
done:
	if (b.paths)
		for (size_t i = 0; i < (p.r ? p.r->nparts : 0); i++)
			free(b.paths[i]);
	free(b.paths);
	free(own_out);
	free(own_arg);
	free(own_sum);
	plan_free(&p);
	return st;
}

/* ------------------------------------------------------------ explain */

static void flash_opts(const struct run *run, const char *name,
		       espimg_flash_opts *fo)
{
	memset(fo, 0, sizeof(*fo));
	fo->chip = run->chip;
	fo->table_offset = run->table_offset;
	fo->file = name;
}

/* 0 when the dump boots an app from a bootloader where the ROM looks. */
static int explain_status(const espimg_flash_explain *x)
{
	return x->boots ? 0 : TOOL_EXIT_INVALID;
}

static int cmd_explain(struct run *run)
{
	struct tool_input in;
	espimg_explain_opts xo;
	espimg_flash_explain *x = NULL;
	int st, r;

	st = tool_input_open(&in, run->file, run->diags);
	if (st)
		goto done;
	memset(&xo, 0, sizeof(xo));
	flash_opts(run, in.name, &xo.flash);
	r = espimg_flash_explain_read(&in.src, &xo, &x, run->diags);
	if (r) {
		st = tool_exit_for(r);
		goto done;
	}
	if (structured(run)) {
		espimg_emitter *e = tool_doc_begin(run->common.format,
						   "espimg.flash/1");

		if (!e) {
			st = tool_nomem(spec.name);
			goto done;
		}
		espimg_flash_explain_emit(x, in.name, e);
		tool_emit_diags(e, run->diags, false);
		st = tool_doc_end(spec.name, e);
	} else if (text(run)) {
		char *t = NULL;
		size_t len = 0;

		r = espimg_flash_explain_text(x, in.name, &t, &len);
		if (r) {
			st = tool_exit_for(r);
			goto done;
		}
		fwrite(t, 1, len, stdout);
		free(t);
		st = tool_flush_stdout(spec.name);
	}
	if (!st)
		st = explain_status(x);
done:
	espimg_flash_explain_free(x);
	tool_input_close(&in);
	return st;
}

/* ------------------------------------------------------------ map */

/* A memory buffer that refuses to grow past limit. */
struct capped {
	struct tool_buf b;
	size_t limit;
	bool over;
};

static int capped_write(void *ctx, const void *buf, size_t len)
{
	struct capped *c = ctx;

	if (len > c->limit - c->b.len) {
		c->over = true;
		return -1;
	}
	return tool_buf_write(&c->b, buf, len);
}

/*
 * A manifest rather than a dump: not a flash image or an image by its
 * content, and text (no NUL and no byte that cannot occur in UTF-8) in
 * its first 4 KiB.
 */
static bool is_manifest(const struct tool_input *in)
{
	uint8_t buf[4096];
	size_t n = in->src.size < sizeof(buf) ? (size_t)in->src.size : sizeof(buf);
	espimg_content c = espimg_detect_content(&in->src);

	if (c == ESPIMG_CONTENT_FLASH || c == ESPIMG_CONTENT_IMAGE || !n ||
	    in->src.size > ESPIMG_MANIFEST_MAX_SIZE ||
	    read_exact(&in->src, 0, buf, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (buf[i] == 0 || buf[i] >= 0xF8 || buf[i] == 0xC0 ||
		    buf[i] == 0xC1)
			return false;
	return true;
}

/* Builds the manifest's image in memory, raw from flash address 0 and
 * padded to the flash size, as the dump the device would hold. */
static int build_in_memory(struct run *run, struct plan *p, struct capped *c)
{
	espimg_release *r = p->r;
	int rc;

	c->limit = r->flash_size ? (size_t)r->flash_size : ESPIMG_FLASH_MAX_SIZE;
	r->merge.format = ESPIMG_OUT_RAW;
	r->merge.target_offset = 0;
	r->merge.pad_to_size = r->flash_size;
	rc = espimg_release_write(r, capped_write, c, run->diags);
	if (rc && c->over) {
		tool_error(spec.name, "%s: error: the image would be larger than "
			   "the flash (0x%zx bytes)", p->name, c->limit);
		return TOOL_EXIT_INVALID;
	}
	if (rc == ESPIMG_EIO)
		return tool_nomem(spec.name);
	return tool_exit_for(rc);
}

static int cmd_map(struct run *run)
{
	struct tool_input in;
	struct plan p = { .path = run->file };
	struct capped c = { .limit = 0 };
	espimg_explain_opts xo;
	espimg_flash_explain *x = NULL;
	const espimg_source *src = &in.src;
	espimg_source mem;
	bool manifest;
	const char *title;
	char *svg = NULL;
	size_t len = 0;
	int st, r;

	st = tool_input_open(&in, run->file, run->diags);
	if (st)
		goto done;
	p.name = in.name;
	memset(&xo, 0, sizeof(xo));
	flash_opts(run, in.name, &xo.flash);
	manifest = is_manifest(&in);
	if (manifest) {
		st = tool_input_slurp(&in, ESPIMG_MANIFEST_MAX_SIZE, run->diags);
		if (st)
			goto done;
		/* The plan reads its own copy; in.mem stays the input's. */
		p.text = malloc(in.mem_len + 1);
		if (!p.text) {
			st = tool_nomem(spec.name);
			goto done;
		}
		memcpy(p.text, in.mem, in.mem_len);
		p.text[in.mem_len] = 0;
		p.len = in.mem_len;
		st = plan_release(run, &p);
		if (!st)
			st = build_in_memory(run, &p, &c);
		if (st)
			goto done;
		espimg_source_mem(&mem, c.b.p, c.b.len);
		src = &mem;
		xo.flash.chip = p.r->chip;
		xo.flash.table_offset = p.m->has_table ? p.m->table_offset : 0;
	}
	r = espimg_flash_explain_read(src, &xo, &x, run->diags);
	/* The picture is titled with the file's name, not its directory. */
	title = strrchr(in.name, '/');
	if (!r)
		r = espimg_flash_explain_svg(x, title ? title + 1 : in.name, &svg,
					     &len);
	if (r) {
		st = tool_exit_for(r);
		goto done;
	}
	st = tool_write_output(spec.name, run->common.output, svg, len);
	if (st)
		goto done;
	if (structured(run)) {
		espimg_emitter *e = tool_doc_begin(run->common.format,
						   "espimg.flashimg/1");

		if (!e) {
			st = tool_nomem(spec.name);
			goto done;
		}
		espimg_emit_kv_str(e, "operation", "map");
		espimg_emit_kv_str(e, "file", in.name);
		espimg_emit_kv_str(e, "source", manifest ? "manifest" : "dump");
		espimg_emit_kv_str(e, "output", run->common.output);
		espimg_emit_kv_uint(e, "partitions", x->nparts);
		tool_kv_str_or_null(e, "boot", x->boot >= 0 ?
				    x->parts[x->boot].part->name : NULL);
		tool_emit_diags(e, run->diags, manifest);
		st = tool_doc_end(spec.name, e);
	} else if (text(run)) {
		printf("wrote %s: map of %s, %zu partitions", run->common.output,
		       in.name, x->nparts);
		if (x->boot >= 0)
			printf(", boots %s", x->parts[x->boot].part->name);
		else
			printf(", nothing boots");
		putchar('\n');
		st = tool_flush_stdout(spec.name);
	}
done:
	free(svg);
	espimg_flash_explain_free(x);
	free(c.b.p);
	plan_free(&p);
	tool_input_close(&in);
	return st;
}

/* ------------------------------------------------------------ edits */

/* What extract, write and erase found and did. */
struct edit {
	struct tool_input in;
	espimg_flash *fl;
	const espimg_partition *part;
	uint64_t at;            /* the partition's offset in the file */
	uint8_t *data;          /* write: IN */
	size_t len;
	bool is_image;
	char project[33], version[33];
	const espimg_chip *image_chip;
	const char *output;     /* the file written; NULL when none */
	bool changed;
};

/* Finds --partition in the dump's table, entirely inside the dump. */
static int find_partition(struct run *run, struct edit *ed)
{
	const espimg_ptable *t = ed->fl->table;
	const espimg_partition *p = NULL;
	uint64_t base = ed->fl->base_offset;

	if (!t) {
		/* flash_locate reported flash.no_table. */
		return TOOL_EXIT_INVALID;
	}
	for (size_t i = 0; i < t->count && !p; i++)
		if (!strcmp(t->parts[i].name, run->partition))
			p = &t->parts[i];
	if (!p) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
				"flashimg.no_partition", ed->in.name, 0, 0, -1,
				"the partition table at 0x%llx has no partition "
				"'%s'", (unsigned long long)ed->fl->table_offset,
				run->partition);
		return TOOL_EXIT_INVALID;
	}
	/* A file written with merge-bin --target-offset starts at flash
	 * address base_offset. */
	if (p->offset < base ||
	    (uint64_t)p->offset - base + p->size > ed->in.src.size) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "flashimg.outside",
				ed->in.name, 0, 0, -1,
				"partition '%s' (0x%x to 0x%llx) is not entirely "
				"in the file (flash 0x%llx to 0x%llx)", p->name,
				p->offset,
				(unsigned long long)p->offset + p->size,
				(unsigned long long)base,
				(unsigned long long)(base + ed->in.src.size));
		return TOOL_EXIT_INVALID;
	}
	ed->part = p;
	ed->at = p->offset - base;
	return 0;
}

/*
 * An app (or bootloader) partition takes only an image for the dump's
 * chip, read without errors, that fits (the read is bounded by the
 * partition size); other partitions take any bytes.
 */
static int check_image(struct run *run, struct edit *ed)
{
	const espimg_partition *p = ed->part;
	const espimg_chip *chip = ed->fl->chip;
	const char *in = tool_display_name(run->in);
	espimg_diag_list *tmp;
	espimg_image_opts io;
	espimg_image *img = NULL;
	espimg_source src;
	size_t errors = 0;
	int r, st = 0;

	if (p->type != ESPIMG_PTYPE_APP && p->type != ESPIMG_PTYPE_BOOTLOADER)
		return 0;
	if (!chip) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "flashimg.no_chip",
				ed->in.name, 0, 0, -1,
				"no bootloader found, so the dump's chip is "
				"unknown: give --chip to write into partition "
				"'%s'", p->name);
		return TOOL_EXIT_INVALID;
	}
	tmp = espimg_diag_list_new();
	if (!tmp)
		return tool_nomem(spec.name);
	memset(&io, 0, sizeof(io));
	io.file = in;
	espimg_source_mem(&src, ed->data, ed->len);
	r = espimg_image_read(&src, &io, &img, tmp);
	if (r == ESPIMG_ENOMEM || r == ESPIMG_EINVAL) {
		st = tool_exit_for(r);
		goto done;
	}
	for (size_t i = 0; i < espimg_diag_count(tmp); i++)
		if (espimg_diag_get(tmp, i)->severity == ESPIMG_SEV_ERROR)
			errors++;
	tool_diags_move(run->diags, tmp, in, 0);
	if (r || errors || !img) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "flashimg.not_image",
				in, 0, 0, -1,
				"not a valid image; partition '%s' (%s) takes "
				"only an image for %s", p->name,
				espimg_ptable_type_name(p->type), chip->name);
		st = TOOL_EXIT_INVALID;
	} else if (img->chip != chip) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "flashimg.chip", in,
				0, 0, -1,
				"an image for %s; the dump is for %s",
				img->chip ? img->chip->name : "an unknown chip",
				chip->name);
		st = TOOL_EXIT_INVALID;
	} else if (p->type == ESPIMG_PTYPE_APP &&
		   img->kind == ESPIMG_KIND_BOOTLOADER) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "flashimg.not_image",
				in, 0, 0, -1,
				"a bootloader image; partition '%s' is an app "
				"slot", p->name);
		st = TOOL_EXIT_INVALID;
	} else {
		ed->is_image = true;
		ed->image_chip = img->chip;
		if (img->has_app_desc) {
			espimg_desc_text(img->app_desc.project_name,
					 sizeof(img->app_desc.project_name),
					 ESPIMG_DESC_CSTRING, ed->project,
					 sizeof(ed->project));
			espimg_desc_text(img->app_desc.version,
					 sizeof(img->app_desc.version),
					 ESPIMG_DESC_CSTRING, ed->version,
					 sizeof(ed->version));
		}
	}
done:
	espimg_image_free(img);
	espimg_diag_list_free(tmp);
	return st;
}

/* Reads IN, at most the partition's size. */
static int read_in(struct run *run, struct edit *ed)
{
	const espimg_partition *p = ed->part;
	const char *in = tool_display_name(run->in);
	int r = espimg_read_file(run->in, p->size, &ed->data, &ed->len);
	struct stat st;

	if (r == ESPIMG_ETOOBIG) {
		if (strcmp(run->in, "-") && stat(run->in, &st) == 0)
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
					"flashimg.too_big", in, 0, 0, -1,
					"0x%llx bytes do not fit partition '%s' "
					"(0x%x bytes)",
					(unsigned long long)st.st_size, p->name,
					p->size);
		else
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
					"flashimg.too_big", in, 0, 0, -1,
					"more bytes than partition '%s' holds "
					"(0x%x)", p->name, p->size);
		return TOOL_EXIT_INVALID;
	}
	if (r == ESPIMG_ENOMEM)
		return tool_nomem(spec.name);
	if (r) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "io.read", in, 0, 0,
				-1, "cannot read: %s",
				strerror(r == ESPIMG_ENOTFOUND ? ENOENT : errno));
		return TOOL_EXIT_USAGE;
	}
	return 0;
}

/* Whether the partition already holds data followed by 0xFF. */
static int unchanged(const struct edit *ed, uint8_t *buf, bool *same)
{
	uint64_t off = ed->at, size = ed->part->size, done = 0;

	*same = false;
	while (done < size) {
		size_t n = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
		int r = read_exact(&ed->in.src, off + done, buf, n);

		if (r)
			return read_fail(&ed->in, r);
		for (size_t i = 0; i < n; i++) {
			uint64_t at = done + i;
			uint8_t want = at < ed->len ? ed->data[at] : 0xFF;

			if (buf[i] != want)
				return 0;
		}
		done += n;
	}
	*same = true;
	return 0;
}

/* The dump with the partition replaced by data and 0xFF after it. */
static int write_dump(struct run *run, struct edit *ed, uint8_t *buf)
{
	const espimg_partition *p = ed->part;
	const char *shown = run->common.output ? run->common.output : run->file;
	uint64_t end = ed->at + p->size;
	struct outfile out;
	char *real = NULL;
	int st;

	/* In place through a symbolic link: the file it names is replaced,
	 * and the link stays. */
	if (!run->common.output) {
		real = realpath(run->file, NULL);
		if (!real && errno == ENOMEM)
			return tool_nomem(spec.name);
	}
	st = out_open(&out, real ? real : shown, false);
	if (!st)
		st = copy_range(&ed->in, 0, ed->at, &out, buf);
	if (!st && ed->len && out_write(&out, ed->data, ed->len))
		st = out_fail(&out, out.err);
	if (!st)
		st = fill_range(&out, 0xFF, p->size - ed->len, buf);
	if (!st)
		st = copy_range(&ed->in, end, ed->in.src.size - end, &out, buf);
	if (st) {
		out_abort(&out);
		free(real);
		return st;
	}
	/* In place: durable before the old dump is gone. */
	st = out_commit(&out, true, NULL);
	if (!st)
		ed->output = shown;
	free(real);
	return st;
}

static int extract(struct run *run, struct edit *ed, uint8_t *buf)
{
	struct outfile out;
	int st;

	st = out_open(&out, run->common.output, false);
	if (!st)
		st = copy_range(&ed->in, ed->at, ed->part->size, &out, buf);
	if (st) {
		out_abort(&out);
		return st;
	}
	st = out_commit(&out, false, NULL);
	if (!st)
		ed->output = run->common.output;
	return st;
}

static void emit_edit(espimg_emitter *e, const struct run *run,
		      const struct edit *ed)
{
	const espimg_partition *p = ed->part;
	const char *sub = espimg_ptable_subtype_name(NULL, p->type, p->subtype);
	const char *type = espimg_ptable_type_name(p->type);

	espimg_emit_kv_str(e, "operation", cmd_names[run->cmd]);
	espimg_emit_kv_str(e, "file", ed->in.name);
	espimg_emit_key(e, "partition");
	espimg_emit_begin_map(e);
	espimg_emit_kv_str(e, "name", p->name);
	espimg_emit_key(e, "type");
	if (type)
		espimg_emit_str(e, type);
	else
		espimg_emit_uint(e, p->type);
	espimg_emit_key(e, "subtype");
	if (sub)
		espimg_emit_str(e, sub);
	else
		espimg_emit_uint(e, p->subtype);
	espimg_emit_kv_uint(e, "offset", p->offset);
	espimg_emit_kv_hex(e, "offset_hex", p->offset);
	espimg_emit_kv_uint(e, "size", p->size);
	espimg_emit_kv_hex(e, "size_hex", p->size);
	espimg_emit_end_map(e);
	if (run->cmd == CMD_WRITE) {
		espimg_emit_kv_str(e, "input", tool_display_name(run->in));
		espimg_emit_kv_uint(e, "input_size", ed->len);
		espimg_emit_key(e, "image");
		if (ed->is_image) {
			espimg_emit_begin_map(e);
			espimg_emit_kv_str(e, "chip", ed->image_chip->key);
			espimg_emit_kv_str(e, "project", ed->project);
			espimg_emit_kv_str(e, "version", ed->version);
			espimg_emit_end_map(e);
		} else {
			espimg_emit_null(e);
		}
	}
	tool_kv_str_or_null(e, "output", ed->output ?
			    tool_display_name(ed->output) : NULL);
	if (run->cmd != CMD_EXTRACT)
		espimg_emit_kv_bool(e, "changed", ed->changed);
	tool_emit_diags(e, run->diags, false);
}

static void print_edit(const struct run *run, const struct edit *ed)
{
	const espimg_partition *p = ed->part;
	const char *in = run->in ? tool_display_name(run->in) : NULL;

	printf("%s: partition %s at 0x%x, 0x%x bytes: ", ed->in.name, p->name,
	       p->offset, p->size);
	switch (run->cmd) {
	case CMD_EXTRACT:
		printf("extracted\n");
		break;
	case CMD_WRITE:
		printf("%s, 0x%zx bytes", in, ed->len);
		if (ed->is_image && ed->project[0])
			printf(" (%s %s %s)", ed->image_chip->key, ed->project,
			       ed->version);
		else if (ed->is_image)
			printf(" (%s image)", ed->image_chip->key);
		if (ed->len < p->size)
			printf(", then 0x%llx bytes of 0xff",
			       (unsigned long long)(p->size - ed->len));
		putchar('\n');
		break;
	default:
		printf("erased (0xff)\n");
		break;
	}
	if (ed->output)
		printf("wrote %s\n", tool_display_name(ed->output));
	else
		printf("unchanged: the partition already holds these bytes\n");
}

static int cmd_edit(struct run *run)
{
	struct edit ed;
	espimg_flash_opts fo;
	uint8_t *buf = NULL;
	bool same = false;
	int st, r;

	memset(&ed, 0, sizeof(ed));
	st = tool_input_open(&ed.in, run->file, run->diags);
	if (st)
		goto done;
	flash_opts(run, ed.in.name, &fo);
	r = espimg_flash_locate(&ed.in.src, &fo, &ed.fl, run->diags);
	if (r) {
		st = tool_exit_for(r);
		goto done;
	}
	st = find_partition(run, &ed);
	if (!st && run->cmd == CMD_WRITE)
		st = read_in(run, &ed);
	if (!st && run->cmd == CMD_WRITE)
		st = check_image(run, &ed);
	if (st)
		goto done;
	buf = malloc(CHUNK);
	if (!buf) {
		st = tool_nomem(spec.name);
		goto done;
	}
	if (run->cmd == CMD_EXTRACT) {
		st = extract(run, &ed, buf);
	} else {
		/* In place, an unchanged partition is not rewritten. */
		if (!run->common.output)
			st = unchanged(&ed, buf, &same);
		if (!st && !same) {
			st = write_dump(run, &ed, buf);
			ed.changed = !st;
		}
	}
	if (st)
		goto done;
	if (structured(run)) {
		espimg_emitter *e = tool_doc_begin(run->common.format,
						   "espimg.flashimg/1");

		if (!e) {
			st = tool_nomem(spec.name);
			goto done;
		}
		emit_edit(e, run, &ed);
		st = tool_doc_end(spec.name, e);
	} else if (text(run)) {
		print_edit(run, &ed);
		st = tool_flush_stdout(spec.name);
	}
done:
	free(buf);
	free(ed.data);
	espimg_flash_free(ed.fl);
	tool_input_close(&ed.in);
	return st;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct run run = { 0 };
	char **pos = calloc((size_t)argc + 1, sizeof(*pos));
	int npos = 0, status;

	run.diags = espimg_diag_list_new();
	if (!pos || !run.diags)
		return tool_nomem(spec.name);
	/* Digests and table MD5s need no OpenSSL configuration. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	catch_signals();

	status = tool_parse_args(&spec, argc, argv, on_option, &run, pos, &npos);
	if (status || tool_help_or_version(&spec, &run.common))
		goto done;
	status = check_usage(&run, pos, npos);
	if (status)
		goto done;
	switch (run.cmd) {
	case CMD_BUILD:
		status = cmd_build(&run);
		break;
	case CMD_EXPLAIN:
		status = cmd_explain(&run);
		break;
	case CMD_MAP:
		status = cmd_map(&run);
		break;
	default:
		status = cmd_edit(&run);
		break;
	}
	if (tool_print_diags(spec.name, run.diags, run.common.quiet) && !status)
		status = TOOL_EXIT_INVALID;
done:
	espimg_diag_list_free(run.diags);
	free(pos);
	return status;
}
