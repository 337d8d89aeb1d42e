/*
 * gen-partitions - convert an ESP-IDF partition table between CSV and
 * binary, validate it, and describe it.  A drop-in for ESP-IDF's
 * gen_esp32part.py: same arguments, same bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "espimg/espimg.h"
#include "tool.h"

/* Largest input we read: a CSV of this size is far beyond any real table. */
#define INPUT_LIMIT (16u << 20)

enum {
	OPT_OFFSET = 1, OPT_FLASH_SIZE, OPT_NO_MD5, OPT_NO_VERIFY, OPT_VERIFY,
	OPT_SECURE, OPT_PRIMARY_BL, OPT_RECOVERY_BL, OPT_EXTRA, OPT_CHECK,
	OPT_OUTPUT_DIR, OPT_IDF_VERSION,
};

static const char *const flash_sizes[] = { "1MB", "2MB", "4MB", "8MB",
					   "16MB", "32MB", "64MB", "128MB" };

static bool is_flash_size(const char *w)
{
	for (size_t i = 0; i < sizeof(flash_sizes) / sizeof(*flash_sizes); i++)
		if (!strcmp(w, flash_sizes[i]))
			return true;
	return false;
}

static bool is_secure_version(const char *w)
{
	return !strcmp(w, "v1") || !strcmp(w, "v2");
}

/* Words a user may have meant as a size or version: digits with a unit,
 * or 'v' and digits. */
static bool looks_like_size(const char *w)
{
	size_t n = strspn(w, "0123456789");
	return n > 0 && (w[n] == '\0' || strchr("kKmMgG", w[n]));
}

static bool looks_like_version(const char *w)
{
	return (w[0] == 'v' || w[0] == 'V') && w[1] >= '0' && w[1] <= '9';
}

static bool is_subtype_spec(const char *w)
{
	return w[0] != '-' && strchr(w, ',') != NULL;
}

static const struct tool_option options[] = {
	{ OPT_OFFSET, 'o', "offset", TOOL_ARG, "X",
	  "partition table offset in flash (default 0x8000)", NULL, NULL },
	{ OPT_FLASH_SIZE, 0, "flash-size", TOOL_OPTARG, "SIZE",
	  "check the table fits: 1MB 2MB 4MB 8MB 16MB 32MB 64MB 128MB",
	  is_flash_size, looks_like_size },
	{ OPT_NO_MD5, 0, "disable-md5sum", TOOL_NOARG, NULL,
	  "no MD5 entry (bootloaders before ESP-IDF 3.1)", NULL, NULL },
	{ OPT_NO_VERIFY, 0, "no-verify", TOOL_NOARG, NULL,
	  "skip the validation rules", NULL, NULL },
	{ OPT_VERIFY, 'v', "verify", TOOL_NOARG, NULL,
	  "accepted for compatibility; validation is on by default", NULL, NULL },
	{ OPT_SECURE, 0, "secure", TOOL_OPTARG, "v1|v2",
	  "Secure Boot version (bare: v1); v1 needs 64K-aligned app sizes",
	  is_secure_version, looks_like_version },
	{ OPT_PRIMARY_BL, 0, "primary-bootloader-offset", TOOL_ARG, "X",
	  "bootloader offset, for bootloader rows", NULL, NULL },
	{ OPT_RECOVERY_BL, 0, "recovery-bootloader-offset", TOOL_ARG, "X",
	  "recovery bootloader offset, for bootloader/recovery rows", NULL, NULL },
	{ OPT_EXTRA, 0, "extra-partition-subtypes", TOOL_LISTARG, "SPEC",
	  "custom subtype names, each type,name,value (value in hex)",
	  is_subtype_spec, NULL },
	TOOL_OPTION_QUIET("print errors only, no warnings"),
	{ OPT_CHECK, 0, "check", TOOL_NOARG, NULL,
	  "validate only; write OUTPUT only if it is named", NULL, NULL },
	{ OPT_OUTPUT_DIR, 0, "output-dir", TOOL_ARG, "DIR",
	  "convert every argument (all INPUTs) into DIR", NULL, NULL },
	TOOL_OPTION_FORMAT("text|json|yaml",
			   "describe the table on standard output"),
	{ OPT_IDF_VERSION, 0, "idf-version", TOOL_ARG, "X.Y[.Z]",
	  "reject features this ESP-IDF release does not know", NULL, NULL },
	TOOL_OPTIONS_END,
};

static const struct tool_spec spec = {
	"gen-partitions",
	"INPUT [OUTPUT]",
	"Convert an ESP-IDF partition table between CSV and binary (chosen by\n"
	"the input's content), check every rule, and describe it.  INPUT and\n"
	"OUTPUT may be '-' for standard input and output.  With --output-dir,\n"
	"or --check and more than two arguments, every argument is an INPUT.",
	options,
	"Exit status: 0 ok, 1 invalid table, 2 usage or I/O error, 3 internal "
	"error.\nSee gen-partitions(1).\n",
};

struct run {
	espimg_ptable_opts opts;
	espimg_diag_list *diags;
	struct tool_common common; /* --format, -q, -h, -V */
	bool check;
	const char *output_dir;
};

static int parse_offset(const char *what, const char *value, int64_t max,
			int64_t *out)
{
	if (espimg_ptable_parse_int(value, out) || *out < 0 || *out > max)
		return tool_usage_error(&spec,
					"%s '%s' is not a number from 0 to 0x%llx "
					"(decimal, 0x hex, 0o octal or 0b binary)",
					what, value, (unsigned long long)max);
	return 0;
}

static int on_option(void *ctx, const struct tool_option *opt,
		     const char *value)
{
	struct run *run = ctx;
	espimg_ptable_opts *o = &run->opts;
	int64_t v;

	switch (opt->id) {
	case OPT_OFFSET:
		if (parse_offset("table offset", value, 0xFFFFF000, &v))
			return TOOL_EXIT_USAGE;
		o->table_offset = (uint32_t)v;
		return 0;
	case OPT_FLASH_SIZE:
		if (!value) {
			o->flash_size = 0; /* bare: no check, as the reference */
			return 0;
		}
		if (!is_flash_size(value))
			return tool_usage_error(&spec,
						"flash size '%s' is not one of 1MB 2MB "
						"4MB 8MB 16MB 32MB 64MB 128MB", value);
		o->flash_size = (uint64_t)strtoul(value, NULL, 10) << 20;
		return 0;
	case OPT_NO_MD5:
		o->md5 = false;
		return 0;
	case OPT_NO_VERIFY:
		o->verify = false;
		return 0;
	case OPT_VERIFY:
		return 0;
	case OPT_SECURE:
		if (value && !is_secure_version(value))
			return tool_usage_error(&spec,
						"Secure Boot version '%s' is not v1 or v2",
						value);
		o->secure = value && !strcmp(value, "v2") ? 2 : 1;
		return 0;
	case OPT_PRIMARY_BL:
		if (parse_offset("primary bootloader offset", value, 0xFFFFFFFF, &v))
			return TOOL_EXIT_USAGE;
		o->primary_bootloader_offset = v;
		return 0;
	case OPT_RECOVERY_BL:
		if (parse_offset("recovery bootloader offset", value, 0xFFFFFFFF,
				 &v))
			return TOOL_EXIT_USAGE;
		o->recovery_bootloader_offset = v;
		return 0;
	case OPT_EXTRA:
		if (espimg_ptable_add_extra_subtype(o, value, run->diags)) {
			const espimg_diag *d = espimg_diag_get(
				run->diags, espimg_diag_count(run->diags) - 1);
			int r = tool_usage_error(&spec, "%s",
						 d ? d->message : "bad subtype");
			espimg_diag_clear(run->diags);
			return r;
		}
		return 0;
	case OPT_CHECK:
		run->check = true;
		return 0;
	case OPT_OUTPUT_DIR:
		run->output_dir = value;
		return 0;
	case OPT_IDF_VERSION:
		if (espimg_idf_version_parse(value, &o->idf_version))
			return tool_usage_error(&spec,
						"ESP-IDF version '%s' is not X.Y or X.Y.Z",
						value);
		return 0;
	}
	return tool_common_option(&spec, &run->common, opt, value);
}

static const char *env_lookup(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

/* 1M / 16K / 0x3e8: the reference's CSV size notation, for people. */
static void human_size(char *buf, size_t cap, uint64_t n)
{
	if (n && n % 0x100000 == 0)
		snprintf(buf, cap, "%lluM", (unsigned long long)(n >> 20));
	else if (n && n % 0x400 == 0)
		snprintf(buf, cap, "%lluK", (unsigned long long)(n >> 10));
	else
		snprintf(buf, cap, "%llu", (unsigned long long)n);
}

/* One table row, without trailing blanks. */
static void print_row(int wname, const char *name, int wtype, const char *type,
		      int wsub, const char *sub, const char *off,
		      const char *size, const char *hsize, const char *end,
		      const char *flags)
{
	char line[512];
	size_t n;

	snprintf(line, sizeof(line), "  %-*s  %-*s  %-*s  %-10s  %-10s  %-6s  %-10s  %s",
		 wname, name, wtype, type, wsub, sub, off, size, hsize, end, flags);
	n = strlen(line);
	while (n && line[n - 1] == ' ')
		line[--n] = '\0';
	puts(line);
}

static void print_text(const espimg_ptable *t, const espimg_ptable_opts *o,
		       const char *file)
{
	int wname = 4, wtype = 4, wsub = 7;
	char tbuf[8], sbuf[8], hs[32];

	for (size_t i = 0; i < t->count; i++) {
		const espimg_partition *p = &t->parts[i];
		const char *tn = espimg_ptable_type_name(p->type);
		const char *sn = espimg_ptable_subtype_name(o, p->type, p->subtype);
		int n = (int)strlen(p->name);
		if (n > wname)
			wname = n;
		n = tn ? (int)strlen(tn) : 4;
		if (n > wtype)
			wtype = n;
		n = sn ? (int)strlen(sn) : 4;
		if (n > wsub)
			wsub = n;
	}
	printf("%s: %s table, %zu partition%s, table at 0x%x, MD5 entry %s\n\n",
	       file, t->from_binary ? "binary" : "CSV", t->count,
	       t->count == 1 ? "" : "s", o->table_offset,
	       espimg_ptable_has_md5(t, o) ? "on" : "off");
	print_row(wname, "Name", wtype, "Type", wsub, "SubType", "Offset", "Size",
		  "", "End", "Flags");
	for (size_t i = 0; i < t->count; i++) {
		const espimg_partition *p = &t->parts[i];
		const char *tn = espimg_ptable_type_name(p->type);
		const char *sn = espimg_ptable_subtype_name(o, p->type, p->subtype);
		char off[16], size[16], end[16];

		if (!tn) {
			snprintf(tbuf, sizeof(tbuf), "0x%02x", p->type);
			tn = tbuf;
		}
		if (!sn) {
			snprintf(sbuf, sizeof(sbuf), "0x%02x", p->subtype);
			sn = sbuf;
		}
		snprintf(off, sizeof(off), "0x%06x", p->offset);
		snprintf(size, sizeof(size), "0x%06x", p->size);
		snprintf(end, sizeof(end), "0x%06llx",
			 (unsigned long long)p->offset + p->size);
		human_size(hs, sizeof(hs), p->size);
		char flags[24];
		snprintf(flags, sizeof(flags), "%s%s%s",
			 p->flags & ESPIMG_PFLAG_ENCRYPTED ? "encrypted" : "",
			 (p->flags & ESPIMG_PFLAG_ENCRYPTED) &&
					 (p->flags & ESPIMG_PFLAG_READONLY)
				 ? ":" : "",
			 p->flags & ESPIMG_PFLAG_READONLY ? "readonly" : "");
		print_row(wname, p->name, wtype, tn, wsub, sn, off, size, hs, end,
			  flags);
	}

	espimg_gap gaps[ESPIMG_PTABLE_BIN_SIZE / ESPIMG_PTABLE_ENTRY_SIZE + 1];
	size_t ngaps = 0;
	if (espimg_ptable_gaps(t, o, gaps, sizeof(gaps) / sizeof(*gaps), &ngaps))
		ngaps = 0;
	if (ngaps > sizeof(gaps) / sizeof(*gaps))
		ngaps = sizeof(gaps) / sizeof(*gaps);
	if (ngaps)
		printf("\nFree space:\n");
	for (size_t i = 0; i < ngaps; i++) {
		human_size(hs, sizeof(hs), gaps[i].size);
		printf("  0x%06llx-0x%06llx  %s\n",
		       (unsigned long long)gaps[i].offset,
		       (unsigned long long)(gaps[i].offset + gaps[i].size - 1), hs);
	}

	uint64_t need = espimg_ptable_flash_needed(t);
	if (!need) {
		printf("\nFlash needed: none (no partitions)\n");
		return;
	}
	human_size(hs, sizeof(hs), need);
	printf("\nFlash needed: 0x%llx bytes (%s)", (unsigned long long)need, hs);
	for (unsigned mb = 1; mb <= 128; mb *= 2) {
		if ((uint64_t)mb << 20 >= need) {
			printf("; smallest flash that holds it: %uMB", mb);
			break;
		}
	}
	printf("\n");
	if (o->flash_size) {
		char spare[32];
		human_size(spare, sizeof(spare),
			   o->flash_size >= need ? o->flash_size - need : 0);
		printf("Flash size: %lluMB, %s spare at the end\n",
		       (unsigned long long)(o->flash_size >> 20), spare);
	}
}

/* The JSON/YAML description; text goes through print_text. */
static int emit_doc(const espimg_ptable *t, const struct run *run,
		    const char *file)
{
	espimg_emitter *e = tool_doc_begin(run->common.format,
					   "espimg.partitions/1");
	int r;

	if (!e)
		return ESPIMG_ENOMEM;
	espimg_emit_kv_str(e, "file", file);
	espimg_ptable_emit(t, &run->opts, e);
	r = espimg_emit_end_doc(e);
	espimg_emit_free(e);
	if (fflush(stdout))
		r = ESPIMG_EIO;
	return r;
}

static char *batch_output(const char *dir, const char *in, bool to_csv);

/* Parses, verifies and converts one table.  out: where the conversion goes
 * ("-" for stdout), or NULL for none; with run->output_dir the name is made
 * from the input's.  Returns an exit status. */
static int convert_one(struct run *run, const char *in, const char *out)
{
	char *made = NULL;
	const char *file = tool_display_name(in);
	uint8_t *input = NULL;
	size_t input_len = 0;
	espimg_ptable *table = NULL;
	int r, status;

	espimg_diag_clear(run->diags);
	status = tool_read_input(spec.name, in, INPUT_LIMIT, &input, &input_len);
	if (status)
		return status;

	r = espimg_ptable_parse(input, input_len, &run->opts, file, &table,
				run->diags);
	if (r == 0)
		r = espimg_ptable_verify(table, &run->opts, file, run->diags);
	tool_print_diags(spec.name, run->diags, run->common.quiet);
	if (r) {
		status = tool_exit_for(r);
		goto done;
	}

	if (run->common.format_set) {
		if (run->common.format == ESPIMG_FORMAT_TEXT) {
			print_text(table, &run->opts, file);
			r = fflush(stdout) ? ESPIMG_EIO : 0;
		} else {
			r = emit_doc(table, run, file);
		}
		if (r) {
			tool_error(spec.name, "standard output: %s",
				   espimg_strerror(r));
			status = TOOL_EXIT_USAGE;
			goto done;
		}
	}

	if (run->output_dir && !run->check) {
		out = made = batch_output(run->output_dir, in, table->from_binary);
		if (!made) {
			status = tool_nomem(spec.name);
			goto done;
		}
	}
	if (!out)
		goto done;
	if (table->from_binary) {
		char *csv;
		size_t len;
		r = espimg_ptable_to_csv(table, &run->opts, &csv, &len);
		if (r) {
			tool_error(spec.name, "%s", espimg_strerror(r));
			status = TOOL_EXIT_INTERNAL;
			goto done;
		}
		status = tool_write_output(spec.name, out, csv, len);
		free(csv);
	} else if (!strcmp(out, "-") && isatty(STDOUT_FILENO)) {
		tool_error(spec.name, "not writing a binary table to a terminal: "
			   "name an OUTPUT file, or use --format text");
		status = TOOL_EXIT_USAGE;
	} else {
		uint8_t bin[ESPIMG_PTABLE_BIN_SIZE];
		espimg_diag_clear(run->diags);
		r = espimg_ptable_to_binary(table, &run->opts, bin, run->diags);
		if (r) {
			tool_print_diags(spec.name, run->diags, true);
			status = tool_exit_for(r == ESPIMG_ETOOBIG ? ESPIMG_EFORMAT
								   : r);
			goto done;
		}
		status = tool_write_output(spec.name, out, bin, sizeof(bin));
	}
done:
	espimg_ptable_free(table);
	free(input);
	free(made);
	return status;
}

/* DIR/<input name less a .csv or .bin extension>.bin, or .csv when the
 * input was a binary table (the content decides, not the name). */
static char *batch_output(const char *dir, const char *in, bool to_csv)
{
	const char *base = strrchr(in, '/') ? strrchr(in, '/') + 1 : in;
	const char *dot = strrchr(base, '.');
	size_t stem = dot && dot != base && (!strcmp(dot, ".csv") ||
					     !strcmp(dot, ".bin"))
			      ? (size_t)(dot - base) : strlen(base);
	const char *ext = to_csv ? ".csv" : ".bin";
	size_t n = strlen(dir) + 1 + stem + 5;
	char *path = malloc(n);

	if (path)
		snprintf(path, n, "%s/%.*s%s", dir, (int)stem, base, ext);
	return path;
}

int main(int argc, char **argv)
{
	struct run run = { 0 };
	char **pos = calloc((size_t)argc + 1, sizeof(*pos));
	int npos = 0, status = TOOL_EXIT_OK;
	const char *out;

	run.diags = espimg_diag_list_new();
	if (!pos || !run.diags)
		return tool_nomem(spec.name);
	/* MD5 needs no OpenSSL configuration; reading it costs a
	 * millisecond a run. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	espimg_ptable_opts_init(&run.opts);
	run.opts.lookup_env = env_lookup;

	status = tool_parse_args(&spec, argc, argv, on_option, &run, pos, &npos);
	if (status || tool_help_or_version(&spec, &run.common))
		goto done;

	/* Option findings (custom subtype names that can never match). */
	tool_print_diags(spec.name, run.diags, run.common.quiet);
	if (run.opts.primary_bootloader_offset >= 0 &&
	    run.opts.primary_bootloader_offset >= run.opts.table_offset) {
		status = tool_usage_error(
			&spec, "the primary bootloader offset 0x%llx must be below "
			"the partition table offset 0x%x",
			(unsigned long long)run.opts.primary_bootloader_offset,
			run.opts.table_offset);
		goto done;
	}

	if (run.output_dir || (run.check && npos > 2)) {
		/* Batch: every argument is an input; the worst status wins. */
		if (npos < 1) {
			status = tool_usage_error(&spec, "no INPUT given");
			goto done;
		}
		if (run.common.format_set && npos > 1) {
			status = tool_usage_error(&spec, "--format describes one table; "
							 "give one INPUT");
			goto done;
		}
		for (int i = 0; i < npos; i++) {
			int st;
			if (!strcmp(pos[i], "-")) {
				status = tool_usage_error(&spec, "standard input cannot "
								 "be part of a batch");
				goto done;
			}
			st = convert_one(&run, pos[i], NULL);
			if (st > status)
				status = st;
		}
		goto done;
	}

	if (npos < 1 || npos > 2) {
		status = tool_usage_error(&spec, npos ? "too many arguments"
						      : "no INPUT given");
		goto done;
	}
	out = npos == 2 ? pos[1]
	      : run.check || run.common.format_set ? NULL : "-";
	if (run.common.format_set && out && !strcmp(out, "-")) {
		status = tool_usage_error(&spec, "--format and OUTPUT '-' would "
						 "both write to standard output");
		goto done;
	}
	status = convert_one(&run, pos[0], out);

done:
	espimg_diag_list_free(run.diags);
	free(pos);
	return status;
}
