/*
 * esp-imginfo - describe ESP32-family app and bootloader images: headers,
 * segments, checksum and SHA-256, the application or bootloader
 * description and any signature blocks; optionally extract the segments or
 * write an ELF file.  --format esptool reproduces esptool 5.3.1
 * `image-info` byte for byte.
 *
 * Regular files are read with pread() through an espimg_source, never
 * whole, so memory stays flat whatever the file size (tool_input_open in
 * tool.c).  Standard input, other special files and Intel HEX text are
 * read into memory, bounded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "espimg/espimg.h"
#include "espimg/chip.h"
#include "espimg/ihex.h"
#include "espimg/image.h"
#include "tool.h"

/* Intel HEX text is read whole: a little under 2.9 bytes per data byte
 * (16-byte records) for the largest flash chip.  Other inputs are read as
 * tool.h's tool_input_open() does. */
#define HEX_INPUT_LIMIT (384u << 20)
/* How many leading bytes decide whether the input is Intel HEX. */
#define SNIFF_LEN 64

enum { OPT_CHIP = 1, OPT_OFFSET, OPT_EXTRACT, OPT_ELF };

static const struct tool_option options[] = {
	TOOL_OPTION_FORMAT("text|json|yaml|esptool",
			   "output format (default text)"),
	{ OPT_CHIP, 0, "chip", TOOL_ARG, "CHIP",
	  "decode as this chip (esp32, esp32c3, ...), not the header's", NULL,
	  NULL },
	{ OPT_OFFSET, 0, "offset", TOOL_ARG, "N",
	  "the image starts at byte N of FILE (0x.. or decimal)", NULL, NULL },
	{ OPT_EXTRACT, 0, "extract-segments", TOOL_ARG, "DIR",
	  "write each segment and segments.json into DIR", NULL, NULL },
	{ OPT_ELF, 0, "elf", TOOL_ARG, "OUT",
	  "write the image as an ELF32 file to OUT", NULL, NULL },
	TOOL_OPTION_QUIET("no description, no warnings: errors and exit "
			  "status only"),
	TOOL_OPTIONS_END,
};

static const struct tool_spec spec = {
	"esp-imginfo",
	"FILE ...",
	"Describe ESP32-family app and bootloader images: chip, flash settings,\n"
	"segments, checksum, SHA-256, application or bootloader description and\n"
	"signature blocks.  FILE may be '-' for standard input, or Intel HEX\n"
	"text (each contiguous run is described as an image).",
	options,
	"Exit status: 0 every image valid, 1 an image is invalid, 2 usage or I/O\n"
	"error, 3 internal error.  See esp-imginfo(1).\n",
};

struct run {
	struct tool_common common; /* --format text|json|yaml, -q, -h, -V */
	bool esptool;           /* --format esptool */
	const espimg_chip *chip;
	uint64_t offset;
	bool offset_set;
	const char *extract_dir;
	const char *elf_out;
	bool text;              /* --format text: espimg_image_text per image */
	size_t ntext;           /* descriptions printed so far */
	bool text_nomem;        /* one could not be made */
	espimg_emitter *em;     /* json/yaml document, NULL otherwise */
	espimg_diag_list *diags;
};

/* ------------------------------------------------------------ options */

static int on_option(void *ctx, const struct tool_option *opt,
		     const char *value)
{
	struct run *run = ctx;
	int64_t v;

	switch (opt->id) {
	case TOOL_OPT_FORMAT:
		run->esptool = !strcmp(value, "esptool");
		if (run->esptool)
			return 0;
		break;
	case OPT_CHIP:
		return tool_parse_chip(&spec, value, &run->chip);
	case OPT_OFFSET:
		if (espimg_ptable_parse_int(value, &v) || v < 0)
			return tool_usage_error(&spec, "offset '%s' is not a "
						"non-negative number (decimal, 0x "
						"hex, 0o octal or 0b binary)", value);
		run->offset = (uint64_t)v;
		run->offset_set = true;
		return 0;
	case OPT_EXTRACT:
		if (!*value)
			return tool_usage_error(&spec, "--extract-segments needs a "
						"directory name");
		run->extract_dir = value;
		return 0;
	case OPT_ELF:
		if (!*value)
			return tool_usage_error(&spec, "--elf needs a file name");
		run->elf_out = value;
		return 0;
	}
	return tool_common_option(&spec, &run->common, opt, value);
}

/* ------------------------------------------------------------ input */

/* One Intel HEX run seen at its flash address: source offset = flash
 * address, so image offsets and diagnostics name flash addresses. */
struct run_source {
	const uint8_t *data;
	size_t len;
	uint64_t base;
};

static int run_read_at(void *ctx, uint64_t offset, void *buf, size_t len,
		       size_t *got)
{
	struct run_source *s = ctx;
	uint64_t rel;
	size_t n;

	*got = 0;
	if (offset < s->base)
		return ESPIMG_EINVAL; /* nothing lies before the run */
	rel = offset - s->base;
	if (rel >= s->len)
		return ESPIMG_OK;
	n = s->len - (size_t)rel < len ? s->len - (size_t)rel : len;
	memcpy(buf, s->data + rel, n);
	*got = n;
	return ESPIMG_OK;
}

/* ------------------------------------------------------------ output */

/* Prints this image's findings and clears the list for the next one. */
static void flush_diags(struct run *run)
{
	tool_print_diags(spec.name, run->diags, run->common.quiet);
}

/* The status of one image: 0 valid, 1 invalid, 2 unreadable, 3 internal. */
static int image_status(struct run *run, int r)
{
	switch (r) {
	case ESPIMG_OK:
		return espimg_diag_errors(run->diags) ? TOOL_EXIT_INVALID
						      : TOOL_EXIT_OK;
	case ESPIMG_EFORMAT:
	case ESPIMG_EUNSUPPORTED:
		return TOOL_EXIT_INVALID;
	case ESPIMG_EIO:
		return TOOL_EXIT_USAGE;
	default:
		return TOOL_EXIT_INTERNAL;
	}
}

static int stdout_write(const void *buf, size_t len)
{
	return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}

/* Reads n bytes at offset of the source into a new buffer. */
static int read_range(const espimg_source *src, uint64_t offset, size_t n,
		      uint8_t **out)
{
	uint8_t *buf = malloc(n ? n : 1);
	size_t got = 0;
	int r;

	if (!buf)
		return ESPIMG_ENOMEM;
	r = src->read_at(src->ctx, offset, buf, n, &got);
	if (!r && got != n)
		r = ESPIMG_EIO;
	if (r) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

/* The file name of segment i: segNN_AAAAAAAA.bin (index, load address). */
#define SEG_NAME_MAX 48
static void seg_name(char name[SEG_NAME_MAX], size_t i, uint32_t addr)
{
	snprintf(name, SEG_NAME_MAX, "seg%02zu_%08" PRIx32 ".bin", i, addr);
}

/* --extract-segments: DIR/segNN_AAAAAAAA.bin per segment, then
 * DIR/segments.json (espimg.segments/1), each written atomically. */
static int extract_segments(struct run *run, const struct tool_input *in,
			    const espimg_source *src, const espimg_image *img)
{
	const char *dir = run->extract_dir;
	struct tool_buf json = { NULL, 0, 0 };
	size_t dlen = strlen(dir);
	size_t cap = dlen + 1 + SEG_NAME_MAX;
	char *path = malloc(cap);
	char name[SEG_NAME_MAX];
	espimg_emitter *e = NULL;
	int status = TOOL_EXIT_OK, r;

	if (!path)
		return tool_nomem(spec.name);
	if (tool_make_dirs(dir)) {
		tool_error(spec.name, "%s: error: cannot create directory: %s", dir,
			   strerror(errno));
		free(path);
		return TOOL_EXIT_USAGE;
	}
	for (size_t i = 0; i < img->nsegments && !status; i++) {
		const espimg_image_segment *s = &img->segments[i];
		uint8_t *data = NULL;

		seg_name(name, i, s->load_addr);
		snprintf(path, cap, "%s/%s", dir, name);
		r = read_range(src, img->offset + s->data_offset, s->length, &data);
		if (r) {
			tool_error(spec.name, "%s: error: cannot read segment %zu: %s",
				   in->name, i, r == ESPIMG_ENOMEM ? "out of memory"
								: strerror(errno));
			status = r == ESPIMG_ENOMEM ? TOOL_EXIT_INTERNAL
						    : TOOL_EXIT_USAGE;
			break;
		}
		if (espimg_write_file_atomic(path, data, s->length, 0)) {
			tool_error(spec.name, "%s: error: cannot write: %s", path,
				   strerror(errno));
			status = TOOL_EXIT_USAGE;
		}
		free(data);
	}
	if (status)
		goto done;

	e = espimg_emit_new(ESPIMG_FORMAT_JSON, tool_buf_write, &json);
	if (!e) {
		status = TOOL_EXIT_INTERNAL;
		goto done;
	}
	espimg_emit_begin_doc(e, "espimg.segments/1");
	espimg_emit_kv_str(e, "file", in->name);
	tool_kv_str_or_null(e, "chip", img->chip ? img->chip->key : NULL);
	espimg_emit_kv_uint(e, "entry", img->entry_addr);
	espimg_emit_kv_hex(e, "entry_hex", img->entry_addr);
	espimg_emit_key(e, "segments");
	espimg_emit_begin_list(e);
	for (size_t i = 0; i < img->nsegments; i++) {
		const espimg_image_segment *s = &img->segments[i];
		size_t nt = s->mem_type_count < 8 ? s->mem_type_count : 8;

		seg_name(name, i, s->load_addr);
		espimg_emit_begin_map(e);
		espimg_emit_kv_uint(e, "index", i);
		espimg_emit_kv_uint(e, "load_addr", s->load_addr);
		espimg_emit_kv_hex(e, "load_addr_hex", s->load_addr);
		espimg_emit_kv_uint(e, "length", s->length);
		espimg_emit_kv_uint(e, "file_offset", img->offset + s->data_offset);
		espimg_emit_key(e, "memory_types");
		espimg_emit_begin_list(e);
		for (size_t t = 0; t < nt; t++)
			espimg_emit_str(e, s->mem_types[t]);
		espimg_emit_end_list(e);
		espimg_emit_kv_str(e, "file", name);
		espimg_emit_end_map(e);
	}
	espimg_emit_end_list(e);
	r = espimg_emit_end_doc(e);
	if (r) {
		tool_error(spec.name, "segments.json: %s", espimg_strerror(r));
		status = TOOL_EXIT_INTERNAL;
		goto done;
	}
	snprintf(path, cap, "%s/segments.json", dir);
	if (espimg_write_file_atomic(path, json.p, json.len, 0)) {
		tool_error(spec.name, "%s: error: cannot write: %s", path,
			   strerror(errno));
		status = TOOL_EXIT_USAGE;
	}
done:
	espimg_emit_free(e);
	free(json.p);
	free(path);
	return status;
}

static int write_elf(struct run *run, const struct tool_input *in,
		     const espimg_source *src, const espimg_image *img)
{
	uint8_t *elf = NULL;
	size_t len = 0;
	int r = espimg_image_to_elf(img, src, &elf, &len), status;

	if (r) {
		tool_error(spec.name, "%s: error: no ELF written: %s", in->name,
			   espimg_strerror(r));
		return r == ESPIMG_ENOMEM ? TOOL_EXIT_INTERNAL
		       : r == ESPIMG_EIO  ? TOOL_EXIT_USAGE
					  : TOOL_EXIT_INVALID;
	}
	status = tool_write_output(spec.name, run->elf_out, elf, len);
	free(elf);
	return status;
}

/* The text description of one image (or of an input that yielded none),
 * a blank line before every one but the first. */
static void print_text(struct run *run, const espimg_image *img,
		       const char *name, int64_t address)
{
	char *text = NULL;
	size_t len = 0;

	if (espimg_image_text(img, name, address, run->diags, &text, &len)) {
		tool_error(spec.name, "out of memory");
		run->text_nomem = true;
		return;
	}
	if (run->ntext++)
		putchar('\n');
	stdout_write(text, len);
	free(text);
}

/* esptool's text for one image.  Returns ESPIMG_EFORMAT when esptool would
 * have stopped there (the caller stops too). */
static int print_esptool(struct run *run, const espimg_image *img,
			 bool size_line, bool detected_line)
{
	espimg_esptool_opts eo = { size_line, detected_line };
	char *text = NULL;
	size_t len = 0;
	int r = espimg_image_esptool_text(img, &eo, &text, &len);

	if (r == ESPIMG_ENOMEM || (r && !text))
		return r;
	if (!run->common.quiet && len)
		stdout_write(text, len);
	free(text);
	return r;
}

/* Describes one image of the input; returns its status.  With
 * --format esptool, *esptool_r (may be NULL) receives what the renderer
 * returned; *detected (may be NULL) the chip the image was decoded as. */
static int describe(struct run *run, const struct tool_input *in,
		    const espimg_source *src, uint64_t offset, int64_t address,
		    const espimg_chip *chip, bool size_line, bool detected_line,
		    int *esptool_r, const espimg_chip **detected)
{
	espimg_image_opts opts = { .chip = chip, .offset = offset, .file = in->name };
	espimg_image *img = NULL;
	int r, status;

	espimg_diag_clear(run->diags);
	r = espimg_image_read(src, &opts, &img, run->diags);
	if (!img) {
		tool_error(spec.name, "%s: %s", in->name, espimg_strerror(r));
		return TOOL_EXIT_INTERNAL;
	}
	status = image_status(run, r);
	if (detected)
		*detected = img->chip;
	if (r == ESPIMG_EIO && !espimg_diag_errors(run->diags))
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "io.read", in->name,
				0, 0, -1, "cannot read: %s", strerror(errno));

	flush_diags(run);
	if (run->esptool) {
		int er = print_esptool(run, img, size_line, detected_line);
		if (er == ESPIMG_ENOMEM)
			status = tool_nomem(spec.name);
		if (esptool_r)
			*esptool_r = er;
	} else if (run->text) {
		print_text(run, img, in->name, address);
	} else if (run->em) {
		espimg_image_emit_run(img, in->name, address, run->diags, run->em);
	}

	if (run->extract_dir || run->elf_out) {
		if (r != ESPIMG_OK) {
			tool_error(spec.name, "%s: error: %s: the image could not "
				   "be read to its end", in->name,
				   run->elf_out ? "no ELF written"
						: "no segments extracted");
			if (status < TOOL_EXIT_INVALID)
				status = TOOL_EXIT_INVALID;
		} else {
			int st = 0;
			if (run->extract_dir)
				st = extract_segments(run, in, src, img);
			if (!st && run->elf_out)
				st = write_elf(run, in, src, img);
			if (st > status)
				status = st;
		}
	}
	espimg_image_free(img);
	return status;
}

/* An input that yielded no image: its entry in the document. */
static void describe_nothing(struct run *run, const struct tool_input *in,
			     int64_t address)
{
	flush_diags(run);
	if (run->text)
		print_text(run, NULL, in->name, address);
	else if (run->em)
		espimg_image_emit_run(NULL, in->name, address, run->diags,
				      run->em);
}

/* A line of n '=', as esptool underlines its titles and banners. */
static void print_rule(int n)
{
	while (n-- > 0)
		putchar('=');
	putchar('\n');
}

/* Whether esptool's first check (_parse_image_info_header: an empty
 * input, a bad magic byte) rejected the image just read. */
static bool detect_failed(const struct run *run)
{
	for (size_t i = 0; i < espimg_diag_count(run->diags); i++) {
		const espimg_diag *d = espimg_diag_get(run->diags, i);

		if (!strcmp(d->code, "image.magic") ||
		    !strcmp(d->code, "image.empty"))
			return true;
	}
	return false;
}

/* Intel HEX: every contiguous run is described as an image at its flash
 * address, as esptool 5.x splits a merged HEX file.  A run that is not an
 * image (a partition table) is reported like any other non-image. */
static int describe_hex(struct run *run, struct tool_input *in)
{
	espimg_ihex *hex = NULL;
	size_t n;
	int status = TOOL_EXIT_OK, r;
	const espimg_chip *chip = run->chip;

	if (in->fd >= 0) {
		r = tool_input_slurp(in, HEX_INPUT_LIMIT, run->diags);
		if (r) {
			describe_nothing(run, in, -1);
			return r;
		}
	}
	r = espimg_ihex_parse((const char *)in->mem, in->mem_len, in->name, &hex,
			      run->diags);
	if (r) {
		describe_nothing(run, in, -1);
		espimg_ihex_free(hex);
		return r == ESPIMG_ENOMEM ? TOOL_EXIT_INTERNAL : TOOL_EXIT_INVALID;
	}
	n = espimg_ihex_run_count(hex);
	if (n == 0) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "ihex.no_data",
				in->name, 0, 0, -1, "no data records");
		describe_nothing(run, in, -1);
		espimg_ihex_free(hex);
		return TOOL_EXIT_INVALID;
	}
	if (run->offset_set || ((run->extract_dir || run->elf_out) && n > 1)) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
				run->offset_set ? "ihex.offset" : "ihex.several",
				in->name, 0, 0, -1, "%s",
				run->offset_set
					? "--offset does not apply to Intel HEX input "
					  "(each run is an image at its address)"
					: "holds several images; --extract-segments "
					  "and --elf need one");
		describe_nothing(run, in, -1);
		espimg_ihex_free(hex);
		return TOOL_EXIT_USAGE;
	}
	if (run->esptool && n > 1 && !run->common.quiet)
		printf("Merged binary image detected. Processing each file "
		       "individually.\n");
	for (size_t i = 0; i < n; i++) {
		const espimg_ihex_run *hr = espimg_ihex_run_at(hex, i);
		struct run_source rs = { hr->data, hr->len, hr->address };
		espimg_source src = { run_read_at, &rs, hr->address + hr->len };
		const espimg_chip *found = NULL;
		int er = ESPIMG_OK, st;

		if (run->esptool && n > 1 && !run->common.quiet) {
			char line[128];
			int w = snprintf(line, sizeof(line),
					 "Processing file %zu/%zu, offset: 0x%" PRIx32
					 ", size: %zu bytes", i + 1, n, hr->address,
					 hr->len);
			putchar('\n');
			print_rule(w);
			puts(line);
			print_rule(w);
		}
		/* A merged HEX file holds more than images: a run that does not
		 * start with an image magic (the partition table, otadata) is
		 * noted, not an error.  esptool logs it on stderr and goes on. */
		if (n > 1 && hr->len > 0 && hr->data[0] != ESPIMG_IMAGE_MAGIC &&
		    hr->data[0] != ESPIMG_IMAGE_MAGIC_ESP8266_V2) {
			espimg_diag_clear(run->diags);
			espimg_diag_add(run->diags, ESPIMG_SEV_NOTE,
					"ihex.not_image", in->name, 0, 0,
					(int64_t)hr->address,
					"run %zu of %zu at 0x%" PRIx32 " (%zu bytes) is not an image%s",
					i + 1, n, hr->address, hr->len,
					hr->len >= 2 && hr->data[0] == 0xAA &&
							hr->data[1] == 0x50
						? ": it starts like a partition table"
						: "");
			describe_nothing(run, in, hr->address);
			continue;
		}
		/* esptool decodes every later run as the chip it detected in
		 * the first one; --format esptool follows it. */
		st = describe(run, in, &src, hr->address, hr->address,
			      run->esptool ? chip : run->chip, n == 1,
			      i == 0 && !run->chip, &er, &found);
		status = tool_worst(status, st);
		if (i == 0 && !chip)
			chip = found;
		/* esptool goes on after a run it cannot even recognise (bad
		 * magic), and stops at any later failure. */
		if (run->esptool && er == ESPIMG_EFORMAT && !detect_failed(run))
			break;
	}
	espimg_ihex_free(hex);
	return status;
}

static int describe_file(struct run *run, const char *path)
{
	struct tool_input in;
	uint8_t head[SNIFF_LEN];
	size_t got = 0;
	int status;

	espimg_diag_clear(run->diags);
	status = tool_input_open(&in, path, run->diags);
	if (status) {
		describe_nothing(run, &in, -1);
		tool_input_close(&in);
		return status;
	}
	/* A memory source does not bound reads itself (image.h): clamp. */
	if (in.src.read_at(in.src.ctx, 0, head,
			   in.src.size < sizeof(head) ? (size_t)in.src.size
						      : sizeof(head),
			   &got)) {
		tool_input_error(&in, ESPIMG_EIO, errno, 0, run->diags);
		describe_nothing(run, &in, -1);
		tool_input_close(&in);
		return TOOL_EXIT_USAGE;
	}
	if (espimg_ihex_detect(head, got))
		status = describe_hex(run, &in);
	else
		status = describe(run, &in, &in.src, run->offset, -1, run->chip,
				  true, !run->chip, NULL, NULL);
	tool_input_close(&in);
	return status;
}

int main(int argc, char **argv)
{
	struct run run = { 0 };
	char **pos = calloc((size_t)argc + 1, sizeof(*pos));
	int npos = 0, status = TOOL_EXIT_OK, r;
	bool describing;

	run.diags = espimg_diag_list_new();
	if (!pos || !run.diags)
		return tool_nomem(spec.name);
	/* SHA-256 needs no OpenSSL configuration; reading it costs a
	 * millisecond a run. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);

	status = tool_parse_args(&spec, argc, argv, on_option, &run, pos, &npos);
	if (status || tool_help_or_version(&spec, &run.common))
		goto done;
	if (npos < 1) {
		status = tool_usage_error(&spec, "no FILE given");
		goto done;
	}
	if ((run.extract_dir || run.elf_out) && npos != 1) {
		status = tool_usage_error(&spec, "%s takes exactly one FILE",
					  run.elf_out ? "--elf"
						      : "--extract-segments");
		goto done;
	}
	if (run.elf_out && !strcmp(run.elf_out, "-")) {
		if (!run.common.quiet) {
			status = tool_usage_error(&spec, "--elf - and the description "
						  "would both write to standard "
						  "output (add -q)");
			goto done;
		}
		if (isatty(STDOUT_FILENO)) {
			tool_error(spec.name, "not writing an ELF file to a terminal");
			status = TOOL_EXIT_USAGE;
			goto done;
		}
	}

	/* -q describes nothing; --format esptool prints as it goes. */
	describing = !run.common.quiet && !run.esptool;
	if (describing && run.common.format == ESPIMG_FORMAT_TEXT) {
		run.text = true;
	} else if (describing) {
		run.em = tool_doc_begin(run.common.format, "espimg.image/1");
		if (!run.em) {
			status = tool_nomem(spec.name);
			goto done;
		}
		espimg_emit_key(run.em, "images");
		espimg_emit_begin_list(run.em);
	}
	for (int i = 0; i < npos; i++)
		status = tool_worst(status, describe_file(&run, pos[i]));
	if (run.text_nomem)
		status = tool_worst(status, TOOL_EXIT_INTERNAL);
	if (run.em) {
		espimg_emit_end_list(run.em);
		r = espimg_emit_end_doc(run.em);
		if (r && r != ESPIMG_EIO) {
			tool_error(spec.name, "output: %s", espimg_strerror(r));
			status = tool_worst(status, TOOL_EXIT_INTERNAL);
		}
	}
	if (fflush(stdout) || ferror(stdout)) {
		tool_error(spec.name, "standard output: error: %s",
			   strerror(errno));
		status = tool_worst(status, TOOL_EXIT_USAGE);
	}

done:
	espimg_emit_free(run.em);
	espimg_diag_list_free(run.diags);
	free(pos);
	return status;
}
