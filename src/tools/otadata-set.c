/*
 * otadata-set - read, explain and write the ESP-IDF OTA data partition
 * offline: show both records and what the device makes of them, select
 * the boot partition, mark the running app valid or invalid, simulate the
 * next boot, or write a blank otadata.  Everything the device does is in
 * the library (include/espimg/otadata.h); this file reads the inputs,
 * reports and writes the result.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "espimg/espimg.h"
#include "espimg/otadata.h"
#include "tool.h"

/* Largest FILE we read: far beyond any otadata partition (the library
 * reports a size that differs from the table's). */
#define FILE_LIMIT (16u << 20)
/* Largest flash image: the largest flash chip (esptool FLASH_SIZES). */
#define IMAGE_LIMIT (128u << 20)

enum {
	OPT_TABLE = 1, OPT_FLASH, OPT_TABLE_OFFSET, OPT_DRY_RUN, OPT_PARTITION,
	OPT_SLOT, OPT_FACTORY, OPT_RUNNING, OPT_SIZE, OPT_ROLLBACK,
	OPT_ANTI_ROLLBACK, OPT_BAD, OPT_SECURE_VERSION, OPT_EFUSE,
	OPT_IDF_VERSION, OPT_UNSAFE,
};

static const struct tool_option options[] = {
	{ OPT_TABLE, 0, "table", TOOL_ARG, "FILE",
	  "partition table, CSV or binary", NULL, NULL },
	{ OPT_FLASH, 0, "flash", TOOL_ARG, "IMAGE",
	  "use the otadata partition inside this flash image", NULL, NULL },
	{ OPT_TABLE_OFFSET, 0, "table-offset", TOOL_ARG, "N",
	  "where the table is in flash (default 0x8000)", NULL, NULL },
	TOOL_OPTION_OUTPUT("write the result to OUT, not back to FILE or "
			   "IMAGE"),
	{ OPT_DRY_RUN, 'n', "dry-run", TOOL_NOARG, NULL,
	  "show what would be written, write nothing", NULL, NULL },
	{ OPT_PARTITION, 0, "partition", TOOL_ARG, "NAME",
	  "set-boot: the app partition to boot", NULL, NULL },
	{ OPT_SLOT, 0, "slot", TOOL_ARG, "N",
	  "set-boot: the partition ota_N", NULL, NULL },
	{ OPT_FACTORY, 0, "factory", TOOL_NOARG, NULL,
	  "set-boot: the factory app (erases otadata)", NULL, NULL },
	{ OPT_RUNNING, 0, "running", TOOL_ARG, "NAME",
	  "the running app (default: the app's boot partition)", NULL, NULL },
	{ OPT_SIZE, 0, "size", TOOL_ARG, "N",
	  "init: size of the blank otadata (default 0x2000)", NULL, NULL },
	{ OPT_ROLLBACK, 0, "rollback", TOOL_NOARG, NULL,
	  "app and bootloader built with app rollback", NULL, NULL },
	{ OPT_ANTI_ROLLBACK, 0, "anti-rollback", TOOL_NOARG, NULL,
	  "and with anti-rollback (implies --rollback)", NULL, NULL },
	{ OPT_BAD, 0, "bad", TOOL_ARG, "NAME",
	  "the image in NAME fails verification (repeatable)", NULL, NULL },
	{ OPT_SECURE_VERSION, 0, "secure-version", TOOL_ARG, "NAME=N",
	  "the app in NAME has secure_version N (repeatable)", NULL, NULL },
	{ OPT_EFUSE, 0, "efuse-secure-version", TOOL_ARG, "N",
	  "bits burnt in the SECURE_VERSION eFuse (default 0)", NULL, NULL },
	{ OPT_IDF_VERSION, 0, "idf-version", TOOL_ARG, "X.Y[.Z]",
	  "behave as this ESP-IDF release (default the newest)", NULL, NULL },
	{ OPT_UNSAFE, 0, "unsafe", TOOL_ARG, "refuse|device|reset",
	  "set-boot near seq 0xffffffff: refuse (default), write what the "
	  "device writes, or restart the seqs", NULL, NULL },
	TOOL_OPTION_FORMAT("text|json|yaml", "report format (default text)"),
	TOOL_OPTION_QUIET("no report, no warnings: errors and exit status "
			  "only"),
	TOOL_OPTIONS_END,
};

static const struct tool_spec spec = {
	"otadata-set",
	"COMMAND [FILE]",
	"Read, explain and write the OTA data partition (otadata) of an\n"
	"ESP-IDF device offline, exactly as the device's bootloader and app do.\n"
	"COMMAND is show, set-boot, mark-valid, mark-invalid, boot or init.\n"
	"FILE is the otadata partition; with --flash IMAGE, the one in IMAGE.",
	options,
	"Exit status: 0 ok, 1 refused or invalid input, 2 usage or I/O error,\n"
	"3 internal error.  See otadata-set(1).\n",
};

enum cmd {
	CMD_NONE, CMD_SHOW, CMD_SET_BOOT, CMD_MARK_VALID, CMD_MARK_INVALID,
	CMD_BOOT, CMD_INIT,
};

static const char *const cmd_names[] = {
	[CMD_SHOW] = "show", [CMD_SET_BOOT] = "set-boot",
	[CMD_MARK_VALID] = "mark-valid", [CMD_MARK_INVALID] = "mark-invalid",
	[CMD_BOOT] = "boot", [CMD_INIT] = "init",
};

/* NAME=N of --secure-version. */
struct secver {
	const char *name;
	size_t len;
	uint32_t value;
};

struct run {
	enum cmd cmd;
	const char *table_path, *flash_path, *file;
	uint32_t table_offset;
	bool table_offset_set, dry_run;
	struct tool_common common; /* -o, --format, -q, -h, -V */
	/* set-boot target: exactly one of these. */
	const char *partition;
	int slot;
	bool factory;
	unsigned n_targets;
	const char *running;
	uint64_t size;
	bool size_set;
	/* Device options. */
	bool rollback, anti_rollback, device_opts;
	const char **bad;
	size_t n_bad;
	struct secver *secver;
	size_t n_secver;
	uint32_t efuse;
	unsigned idf_version;
	espimg_otadata_unsafe unsafe;
	espimg_diag_list *diags;
};

/* What we work on: FILE, or the otadata inside IMAGE. */
struct input {
	const char *path;     /* FILE or IMAGE; NULL for init without one */
	const char *name;     /* for messages */
	uint8_t *data;        /* whole FILE or IMAGE */
	size_t len;
	size_t ota_off;       /* the otadata blob within data */
	size_t ota_len;
	const char *table_name;
	int64_t table_base;   /* table offset in IMAGE, for diagnostics */
	uint8_t *table_data;
	size_t table_len;
	espimg_ptable *table;
	espimg_otadata_layout layout;
	bool have_layout;
};

/* ------------------------------------------------------------ options */

static int parse_u32(const char *what, const char *value, uint64_t max,
		     uint64_t *out)
{
	int64_t v;

	if (espimg_ptable_parse_int(value, &v) || v < 0 || (uint64_t)v > max)
		return tool_usage_error(&spec,
					"%s '%s' is not a number from 0 to %llu "
					"(decimal, or 0x hex)", what, value,
					(unsigned long long)max);
	*out = (uint64_t)v;
	return 0;
}

static int on_option(void *ctx, const struct tool_option *opt,
		     const char *value)
{
	struct run *run = ctx;
	uint64_t v = 0;
	const char *eq;

	switch (opt->id) {
	case OPT_TABLE:
		run->table_path = value;
		return 0;
	case OPT_FLASH:
		run->flash_path = value;
		return 0;
	case OPT_TABLE_OFFSET:
		if (parse_u32("table offset", value, 0xFFFFF000u, &v))
			return TOOL_EXIT_USAGE;
		run->table_offset = (uint32_t)v;
		run->table_offset_set = true;
		return 0;
	case OPT_DRY_RUN:
		run->dry_run = true;
		return 0;
	case OPT_PARTITION:
		run->partition = value;
		run->n_targets++;
		return 0;
	case OPT_SLOT:
		if (parse_u32("slot", value, ESPIMG_OTADATA_MAX_SLOTS - 1, &v))
			return TOOL_EXIT_USAGE;
		run->slot = (int)v;
		run->n_targets++;
		return 0;
	case OPT_FACTORY:
		run->factory = true;
		run->n_targets++;
		return 0;
	case OPT_RUNNING:
		run->running = value;
		return 0;
	case OPT_SIZE:
		if (parse_u32("size", value, ESPIMG_OTADATA_MAX_SIZE, &v))
			return TOOL_EXIT_USAGE;
		run->size = v;
		run->size_set = true;
		return 0;
	case OPT_ROLLBACK:
		run->rollback = true;
		run->device_opts = true;
		return 0;
	case OPT_ANTI_ROLLBACK:
		run->rollback = run->anti_rollback = true;
		run->device_opts = true;
		return 0;
	case OPT_BAD:
		run->bad[run->n_bad++] = value;
		run->device_opts = true;
		return 0;
	case OPT_SECURE_VERSION:
		eq = strchr(value, '=');
		if (!eq || eq == value)
			return tool_usage_error(&spec, "--secure-version '%s' is "
						"not NAME=N", value);
		if (parse_u32("secure version", eq + 1, 0xFFFFFFFFu, &v))
			return TOOL_EXIT_USAGE;
		run->secver[run->n_secver].name = value;
		run->secver[run->n_secver].len = (size_t)(eq - value);
		run->secver[run->n_secver++].value = (uint32_t)v;
		run->device_opts = true;
		return 0;
	case OPT_EFUSE:
		/* A thermometer code of at most 32 bits. */
		if (parse_u32("eFuse secure version", value, 32, &v))
			return TOOL_EXIT_USAGE;
		run->efuse = (uint32_t)v;
		run->device_opts = true;
		return 0;
	case OPT_IDF_VERSION:
		if (espimg_idf_version_parse(value, &run->idf_version))
			return tool_usage_error(&spec, "ESP-IDF version '%s' is not "
						"X.Y or X.Y.Z", value);
		run->device_opts = true;
		return 0;
	case OPT_UNSAFE:
		if (!strcmp(value, "refuse"))
			run->unsafe = ESPIMG_OTADATA_UNSAFE_REFUSE;
		else if (!strcmp(value, "device"))
			run->unsafe = ESPIMG_OTADATA_UNSAFE_MIMIC;
		else if (!strcmp(value, "reset"))
			run->unsafe = ESPIMG_OTADATA_UNSAFE_RESET_SEQ;
		else
			return tool_usage_error(&spec, "--unsafe '%s' is not refuse, "
						"device or reset", value);
		return 0;
	}
	return tool_common_option(&spec, &run->common, opt, value);
}

/* Usage rules that need every option and the positionals. */
static int check_usage(struct run *run, char **pos, int npos)
{
	enum cmd c;

	if (npos < 1)
		return tool_usage_error(&spec, "no COMMAND given (show, set-boot, "
					"mark-valid, mark-invalid, boot or init)");
	for (c = CMD_SHOW; c <= CMD_INIT; c++)
		if (!strcmp(pos[0], cmd_names[c]))
			break;
	if (c > CMD_INIT)
		return tool_usage_error(&spec, "unknown COMMAND '%s' (show, "
					"set-boot, mark-valid, mark-invalid, boot or "
					"init)", pos[0]);
	run->cmd = c;
	if (npos > 2)
		return tool_usage_error(&spec, "too many arguments");
	run->file = npos == 2 ? pos[1] : NULL;

	if (run->file && run->flash_path)
		return tool_usage_error(&spec, "give FILE or --flash IMAGE, not "
					"both");
	if (!run->file && !run->flash_path &&
	    !(c == CMD_INIT && run->common.output))
		return tool_usage_error(&spec, "no FILE given (or --flash IMAGE)");
	if (!run->table_path && !run->flash_path && c != CMD_INIT)
		return tool_usage_error(&spec, "%s needs the partition table: "
					"--table FILE, or --flash IMAGE",
					cmd_names[c]);
	if (c == CMD_INIT && run->file && run->common.output)
		return tool_usage_error(&spec, "init writes FILE or OUT; give "
					"one");
	if (c == CMD_SET_BOOT && run->n_targets != 1)
		return tool_usage_error(&spec, "set-boot needs exactly one of "
					"--partition, --slot and --factory");
	if (c != CMD_SET_BOOT && run->n_targets)
		return tool_usage_error(&spec, "--partition, --slot and --factory "
					"are for set-boot");
	if (run->running && c != CMD_SHOW && c != CMD_MARK_VALID &&
	    c != CMD_MARK_INVALID)
		return tool_usage_error(&spec, "--running is for show, mark-valid "
					"and mark-invalid");
	if (run->size_set && c != CMD_INIT)
		return tool_usage_error(&spec, "--size is for init");
	if (run->unsafe != ESPIMG_OTADATA_UNSAFE_REFUSE && c != CMD_SET_BOOT)
		return tool_usage_error(&spec, "--unsafe is for set-boot");
	if (run->common.output && c == CMD_SHOW)
		return tool_usage_error(&spec, "show writes nothing; -o is for "
					"the commands that do");
	if (tool_check_output(&spec, &run->common))
		return TOOL_EXIT_USAGE;
	if (c == CMD_INIT && run->file && !strcmp(run->file, "-") &&
	    run->common.format_set)
		return tool_usage_error(&spec, "--format and FILE '-' would both "
					"write to standard output");
	if (run->file && !strcmp(run->file, "-") && !run->common.output &&
	    !run->dry_run &&
	    (c == CMD_SET_BOOT || c == CMD_MARK_VALID || c == CMD_MARK_INVALID))
		return tool_usage_error(&spec, "standard input cannot be changed "
					"in place: give -o OUT");
	return 0;
}

/* ------------------------------------------------------------ diagnostics */

/*
 * The library's findings carry no file name and count offsets from the
 * start of what it was given; moves those in `from` to the run's list with
 * the file name and offsets counted in that file.
 */
static void move_diags(struct run *run, espimg_diag_list *from,
		       const char *file, int64_t base)
{
	tool_diags_move(run->diags, from, file, base);
}

/* ------------------------------------------------------------ input */

static void input_free(struct input *in)
{
	espimg_ptable_free(in->table);
	free(in->table_data);
	free(in->data);
}

/* Reads the table from --table, or from IMAGE, and builds the layout. */
static int load_table(struct run *run, struct input *in,
		      espimg_diag_list *tmp)
{
	espimg_ptable_opts opts;
	const uint8_t *bytes;
	size_t len;
	int r;

	espimg_ptable_opts_init(&opts);
	if (run->table_offset_set)
		opts.table_offset = run->table_offset;
	if (run->table_path) {
		r = tool_read_input(spec.name, run->table_path,
				    ESPIMG_PTABLE_MAX_INPUT, &in->table_data,
				    &in->table_len);
		if (r)
			return r;
		in->table_name = tool_display_name(run->table_path);
		in->table_base = 0;
		bytes = in->table_data;
		len = in->table_len;
	} else {
		uint32_t off = opts.table_offset;

		in->table_name = in->name;
		in->table_base = off;
		if (in->len < (size_t)off + ESPIMG_PTABLE_BIN_SIZE) {
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
					"otadata.no_table", in->name, 0, 0,
					(int64_t)in->len,
					"the image is 0x%zx bytes: it ends before the "
					"partition table at 0x%x (0x%x bytes); give "
					"--table-offset or --table", in->len, off,
					ESPIMG_PTABLE_BIN_SIZE);
			return TOOL_EXIT_INVALID;
		}
		bytes = in->data + off;
		len = ESPIMG_PTABLE_BIN_SIZE;
		if (!espimg_ptable_is_binary(bytes, len)) {
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
					"otadata.no_table", in->name, 0, 0, off,
					"no partition table at 0x%x (it starts "
					"%02x %02x, not the entry magic aa 50); give "
					"--table-offset or --table", off, bytes[0],
					bytes[1]);
			return TOOL_EXIT_INVALID;
		}
	}
	r = espimg_ptable_parse(bytes, len, &opts, in->table_name, &in->table,
				tmp);
	move_diags(run, tmp, in->table_name, in->table_base);
	if (r)
		return tool_exit_for(r);
	r = espimg_otadata_layout_from_ptable(in->table, &in->layout, tmp);
	move_diags(run, tmp, in->table_name, in->table_base);
	if (r)
		return tool_exit_for(r == ESPIMG_ETOOBIG ? ESPIMG_EFORMAT : r);
	in->have_layout = true;
	return 0;
}

/* Reads FILE or IMAGE and finds the otadata blob in it. */
static int load_input(struct run *run, struct input *in,
		      espimg_diag_list *tmp)
{
	const espimg_otadata_layout *l = &in->layout;
	int r;

	if (run->flash_path) {
		in->path = run->flash_path;
		in->name = tool_display_name(in->path);
		r = tool_read_input(spec.name, in->path, IMAGE_LIMIT, &in->data,
				    &in->len);
		if (r)
			return r;
	} else if (run->file && run->cmd != CMD_INIT) {
		in->path = run->file;
		in->name = tool_display_name(in->path);
		r = tool_read_input(spec.name, in->path, FILE_LIMIT, &in->data,
				    &in->len);
		if (r)
			return r;
	} else {
		in->path = run->file;
		in->name = run->file ? tool_display_name(run->file)
				     : run->common.output;
	}
	if (run->table_path || run->flash_path) {
		r = load_table(run, in, tmp);
		if (r)
			return r;
	}
	if (!run->flash_path) {
		in->ota_off = 0;
		in->ota_len = in->len;
		return 0;
	}
	if (!l->has_otadata) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
				"otadata.no_otadata", in->table_name, 0, 0, -1,
				"the table has no otadata partition (type data, "
				"subtype ota)");
		return TOOL_EXIT_INVALID;
	}
	if ((uint64_t)l->otadata_offset + l->otadata_size > in->len) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "otadata.short",
				in->name, 0, 0, (int64_t)in->len,
				"the image is 0x%zx bytes: it ends before the end "
				"of otadata partition '%s' (0x%x-0x%llx)", in->len,
				l->otadata_name ? l->otadata_name : "",
				l->otadata_offset,
				(unsigned long long)l->otadata_offset +
					l->otadata_size - 1);
		return TOOL_EXIT_INVALID;
	}
	in->ota_off = l->otadata_offset;
	in->ota_len = l->otadata_size;
	return 0;
}

/* Fills the device configuration; names must be app partitions. */
static int make_config(struct run *run, struct input *in,
		       espimg_otadata_config *cfg, espimg_diag_list *tmp)
{
	const espimg_otadata_layout *l = &in->layout;
	int bad = 0;

	espimg_otadata_config_init(cfg);
	cfg->idf_version = run->idf_version;
	cfg->rollback = run->rollback;
	cfg->anti_rollback = run->anti_rollback;
	cfg->efuse_secure_version = run->efuse;
	cfg->unsafe = run->unsafe;
	for (size_t i = 0; i < run->n_bad; i++) {
		int a = espimg_otadata_find_app(l, run->bad[i]);

		if (a < 0) {
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
					"otadata.no_partition", in->table_name, 0, 0,
					-1, "--bad %s: the table has no app "
					"partition of that name", run->bad[i]);
			bad = 1;
			continue;
		}
		/* A name used twice: the device sees only the first. */
		cfg->bad[a] = true;
	}
	for (size_t i = 0; i < run->n_secver; i++) {
		const struct secver *s = &run->secver[i];
		char name[ESPIMG_PTABLE_NAME_LEN * 4 + 1];
		int a = -1;

		if (s->len < sizeof(name)) {
			memcpy(name, s->name, s->len);
			name[s->len] = '\0';
			a = espimg_otadata_find_app(l, name);
		}
		if (a < 0) {
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
					"otadata.no_partition", in->table_name, 0, 0,
					-1, "--secure-version %.*s: the table has no "
					"app partition of that name", (int)s->len,
					s->name);
			bad = 1;
			continue;
		}
		cfg->secure_version[a] = s->value;
	}
	if (bad)
		return TOOL_EXIT_INVALID;
	if (espimg_otadata_config_check(cfg, tmp)) {
		/* Option combinations the library cannot model. */
		for (size_t i = 0; i < espimg_diag_count(tmp); i++)
			fprintf(stderr, "%s: error: %s\n", spec.name,
				espimg_diag_get(tmp, i)->message);
		espimg_diag_clear(tmp);
		fprintf(stderr, "Try '%s --help'.\n", spec.name);
		return TOOL_EXIT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------------ names */

static const char *app_name(const espimg_otadata_layout *l, int a)
{
	return a >= 0 && (size_t)a < l->n_apps ? l->apps[a].name : NULL;
}

/* The partition a bootloader index names. */
static int index_app(const espimg_otadata_layout *l, int index)
{
	if (index == ESPIMG_OTADATA_INDEX_FACTORY)
		return l->boot_factory;
	if (index == ESPIMG_OTADATA_INDEX_TEST)
		return l->boot_test;
	if (index >= 0 && index < (int)ESPIMG_OTADATA_MAX_SLOTS)
		return l->boot_ota[index];
	return -1;
}

static void index_text(char *buf, size_t cap, int index)
{
	if (index == ESPIMG_OTADATA_INDEX_FACTORY)
		snprintf(buf, cap, "factory");
	else if (index == ESPIMG_OTADATA_INDEX_TEST)
		snprintf(buf, cap, "test");
	else if (index >= 0)
		snprintf(buf, cap, "ota_%d", index);
	else
		snprintf(buf, cap, "none");
}

static const char *state_text(uint32_t state, char *buf, size_t cap)
{
	const char *n = espimg_otadata_state_name(state);

	if (n)
		return n;
	snprintf(buf, cap, "0x%08x", state);
	return buf;
}

static const char *active_reason(espimg_otadata_active_why why)
{
	switch (why) {
	case ESPIMG_OTADATA_ACTIVE_ONLY:
		return "the only valid entry";
	case ESPIMG_OTADATA_ACTIVE_LARGER:
		return "both valid, the larger seq";
	case ESPIMG_OTADATA_ACTIVE_TIE:
		return "both valid with equal seqs: entry 0 wins the tie";
	default:
		return "no valid entry";
	}
}

static const char *outcome_name(espimg_otadata_boot_outcome o)
{
	switch (o) {
	case ESPIMG_OTADATA_BOOT_LOADED:
		return "loaded";
	case ESPIMG_OTADATA_BOOT_RESET_NO_APP:
		return "reset: no bootable app";
	case ESPIMG_OTADATA_BOOT_RESET_OTADATA:
		return "reset: otadata cannot be read";
	default:
		return "undefined behaviour";
	}
}

static const char *try_name(espimg_otadata_try t)
{
	switch (t) {
	case ESPIMG_OTADATA_TRY_LOADED:
		return "loaded";
	case ESPIMG_OTADATA_TRY_BAD_IMAGE:
		return "image fails verification";
	default:
		return "secure_version below the eFuse";
	}
}

/* ------------------------------------------------------------ emitting */

static void kv_index(espimg_emitter *e, const char *k, int v)
{
	espimg_emit_key(e, k);
	if (v >= 0)
		espimg_emit_int(e, v);
	else
		espimg_emit_null(e);
}

static void emit_entries(espimg_emitter *e, const espimg_otadata_layout *l,
			 const espimg_otadata_entry ent[2])
{
	espimg_emit_key(e, "entries");
	espimg_emit_begin_list(e);
	for (int i = 0; i < 2; i++) {
		const espimg_otadata_entry *x = &ent[i];
		char label[ESPIMG_OTADATA_LABEL_LEN * 2 + 1];
		const char *sn = espimg_otadata_state_name(x->state);

		tool_hex(label, x->label, ESPIMG_OTADATA_LABEL_LEN);
		espimg_emit_begin_map(e);
		espimg_emit_kv_uint(e, "index", x->index);
		espimg_emit_kv_uint(e, "offset", x->offset);
		espimg_emit_kv_hex(e, "offset_hex", x->offset);
		espimg_emit_kv_bool(e, "present", x->present);
		espimg_emit_kv_bool(e, "erased", x->erased);
		espimg_emit_kv_uint(e, "seq", x->seq);
		espimg_emit_kv_hex(e, "seq_hex", x->seq);
		espimg_emit_kv_str(e, "label_hex", label);
		espimg_emit_kv_uint(e, "state", x->state);
		espimg_emit_kv_hex(e, "state_hex", x->state);
		tool_kv_str_or_null(e, "state_name", sn);
		espimg_emit_kv_uint(e, "crc", x->crc);
		espimg_emit_kv_hex(e, "crc_hex", x->crc);
		espimg_emit_kv_hex(e, "crc_computed_hex", x->crc_computed);
		espimg_emit_kv_bool(e, "crc_ok", x->crc_ok);
		espimg_emit_kv_bool(e, "usable", x->usable);
		espimg_emit_kv_bool(e, "valid", x->valid);
		if (x->seq != ESPIMG_OTADATA_SEQ_EMPTY) {
			kv_index(e, "bootloader_slot",
				 espimg_otadata_seq_slot(x->seq, l->boot_n));
			kv_index(e, "app_slot",
				 espimg_otadata_seq_slot(x->seq, l->app_n));
		} else {
			kv_index(e, "bootloader_slot", -1);
			kv_index(e, "app_slot", -1);
		}
		espimg_emit_end_map(e);
	}
	espimg_emit_end_list(e);
}

static void emit_boot_writes(espimg_emitter *e,
			     const espimg_otadata_boot_result *b)
{
	espimg_emit_key(e, "writes");
	espimg_emit_begin_list(e);
	for (unsigned i = 0; i < b->n_writes; i++) {
		espimg_emit_begin_map(e);
		espimg_emit_kv_int(e, "entry", b->writes[i].sector);
		espimg_emit_kv_hex(e, "offset_hex",
				   (uint64_t)b->writes[i].sector *
					   ESPIMG_OTADATA_SECTOR);
		espimg_emit_kv_uint(e, "seq", b->writes[i].seq);
		espimg_emit_kv_hex(e, "seq_hex", b->writes[i].seq);
		tool_kv_str_or_null(e, "state_name",
			espimg_otadata_state_name(b->writes[i].state));
		espimg_emit_kv_hex(e, "state_hex", b->writes[i].state);
		espimg_emit_end_map(e);
	}
	espimg_emit_end_list(e);
}

/* ------------------------------------------------------------ text */

static void text_entry(const espimg_otadata_layout *l,
		       const espimg_otadata_entry *x)
{
	char sb[16];
	bool label_ff = true;

	for (unsigned k = 0; k < ESPIMG_OTADATA_LABEL_LEN; k++)
		if (x->label[k] != 0xFF)
			label_ff = false;
	printf("  entry %u at 0x%04x: ", x->index, x->offset);
	if (!x->present)
		printf("cut short (missing bytes read as 0xff): ");
	if (x->erased) {
		printf("erased: not valid\n");
		return;
	}
	if (x->seq == ESPIMG_OTADATA_SEQ_EMPTY)
		printf("seq 0xffffffff (empty)");
	else
		printf("seq %u (0x%08x)", x->seq, x->seq);
	printf(", state %s, crc 0x%08x %s", state_text(x->state, sb, sizeof(sb)),
	       x->crc, x->crc_ok ? "ok" : "wrong");
	if (!x->crc_ok)
		printf(" (want 0x%08x)", x->crc_computed);
	if (label_ff) {
		printf(", label blank");
	} else {
		printf(", label ");
		for (unsigned k = 0; k < ESPIMG_OTADATA_LABEL_LEN; k++)
			printf("%02x", x->label[k]);
	}
	if (x->valid) {
		int s = espimg_otadata_seq_slot(x->seq, l->boot_n);
		const char *n = s >= 0 ? app_name(l, l->boot_ota[s]) : NULL;
		printf(": valid, selects %s\n", n ? n : "nothing");
	} else {
		printf(": not valid (%s)\n", !x->usable ?
		       (x->seq == ESPIMG_OTADATA_SEQ_EMPTY ? "empty seq" :
							      "state says so") :
		       "CRC");
	}
}

/* ------------------------------------------------------------ helpers */

/* Moves findings like move_diags, leaving out codes already reported
 * (the boot simulation repeats what decoding found). */
static void move_new_diags(struct run *run, espimg_diag_list *from,
			   const char *file, int64_t base)
{
	for (size_t i = 0; i < espimg_diag_count(from); i++) {
		const espimg_diag *d = espimg_diag_get(from, i);
		bool seen = false;

		for (size_t j = 0; j < espimg_diag_count(run->diags) && !seen; j++)
			seen = !strcmp(espimg_diag_get(run->diags, j)->code,
				       d->code);
		if (!seen)
			tool_diag_copy(run->diags, d, file, base);
	}
	espimg_diag_clear(from);
}

/* The next boot from a copy of blob; findings go to diags (may be NULL).
 * Returns 0 or an ESPIMG_E* code. */
static int simulate(const struct input *in, const uint8_t *blob,
		    const espimg_otadata_config *cfg,
		    espimg_otadata_boot_result *b, espimg_diag_list *diags)
{
	size_t n = in->ota_len;
	uint8_t *copy = malloc(n ? n : 1);
	int r;

	if (!copy)
		return ESPIMG_ENOMEM;
	if (n)
		memcpy(copy, blob, n);
	r = espimg_otadata_boot(copy, n, &in->layout, cfg, b, diags);
	free(copy);
	return r;
}

/* The partition the bootloader loads, or NULL. */
static const char *boot_name(const espimg_otadata_layout *l,
			     const espimg_otadata_boot_result *b)
{
	return b->outcome == ESPIMG_OTADATA_BOOT_LOADED ? app_name(l, b->loaded)
							 : NULL;
}

static espimg_emitter *doc_begin(struct run *run)
{
	return tool_doc_begin(run->common.format, "espimg.otadata/1");
}

/* Ends the document with its diagnostics; returns an exit status. */
static int doc_end(struct run *run, espimg_emitter *e)
{
	/* Table findings (CSV) have lines. */
	tool_emit_diags(e, run->diags, true);
	return tool_doc_end(spec.name, e);
}

/* Whether a report goes to standard output. */
static bool reporting(const struct run *run)
{
	if (run->common.quiet)
		return false;
	if (run->common.output && !strcmp(run->common.output, "-"))
		return false;
	if (run->cmd == CMD_INIT && run->file && !strcmp(run->file, "-"))
		return false;
	return true;
}

static bool structured(const struct run *run)
{
	return reporting(run) && run->common.format != ESPIMG_FORMAT_TEXT;
}

static bool text(const struct run *run)
{
	return reporting(run) && run->common.format == ESPIMG_FORMAT_TEXT;
}

/* Where a changed result goes: OUT, or back to FILE / IMAGE. */
static const char *target_path(const struct run *run, const struct input *in)
{
	return run->common.output ? run->common.output : in->path;
}

/*
 * Writes the result (in->data, changed in place) unless --dry-run; in
 * place only when something changed.  *wrote says whether a file was
 * written.  Returns an exit status.
 */
static int write_result(const struct run *run, const struct input *in,
			bool changed, bool *wrote)
{
	*wrote = false;
	if (run->dry_run || (!run->common.output && !changed))
		return 0;
	*wrote = true;
	return tool_write_output(spec.name, target_path(run, in), in->data,
				 in->len);
}

static void text_written(const struct run *run, const struct input *in,
			 bool changed, bool wrote)
{
	if (!text(run))
		return;
	if (run->dry_run)
		printf("dry run: nothing written\n");
	else if (wrote)
		printf("wrote %s\n", target_path(run, in));
	else if (!changed)
		printf("otadata unchanged: %s not rewritten\n", in->name);
}

static void emit_output_key(espimg_emitter *e, const struct run *run,
			    const struct input *in, bool wrote)
{
	tool_kv_str_or_null(e, "output", wrote ? target_path(run, in) : NULL);
	espimg_emit_kv_bool(e, "dry_run", run->dry_run);
}

/* ------------------------------------------------------------ show */

static void emit_next_boot(espimg_emitter *e, const char *key,
			   const espimg_otadata_layout *l,
			   const espimg_otadata_boot_result *b, bool have)
{
	espimg_emit_key(e, key);
	if (!have) {
		espimg_emit_null(e);
		return;
	}
	espimg_emit_begin_map(e);
	tool_kv_str_or_null(e, "boot", boot_name(l, b));
	espimg_emit_kv_str(e, "outcome", outcome_name(b->outcome));
	emit_boot_writes(e, b);
	espimg_emit_kv_bool(e, "writes_otadata", b->written);
	espimg_emit_end_map(e);
}

static void text_next_boot(const char *what, const espimg_otadata_layout *l,
			   const espimg_otadata_boot_result *b)
{
	const char *n = boot_name(l, b);
	char sb[16];

	if (n)
		printf("%sloads %s", what, n);
	else
		printf("%s%s", what, outcome_name(b->outcome));
	if (!b->n_writes) {
		printf("; otadata not written\n");
		return;
	}
	for (unsigned i = 0; i < b->n_writes; i++)
		printf("%s entry %d := seq %u, %s", i ? "," : "; writes",
		       b->writes[i].sector, b->writes[i].seq,
		       state_text(b->writes[i].state, sb, sizeof(sb)));
	printf("\n");
}

static int cmd_show(struct run *run, struct input *in,
		    const espimg_otadata_config *cfg, espimg_diag_list *tmp)
{
	const espimg_otadata_layout *l = &in->layout;
	const uint8_t *blob = in->data + in->ota_off;
	size_t size = in->ota_len;
	espimg_otadata_entry ent[2];
	espimg_otadata_active_why why;
	espimg_otadata_boot_result bcfg, boff, bon;
	espimg_otadata_config coff = *cfg, con = *cfg;
	espimg_ota_rc rc_boot = ESPIMG_OTA_OK, rc_last = ESPIMG_OTA_OK;
	int act, app_boot = -1, running, next, last = -1, r;
	bool have_on, have_last;
	char sb[16];

	r = espimg_otadata_decode(blob, size, cfg, ent, tmp);
	move_diags(run, tmp, in->name, (int64_t)in->ota_off);
	if (r)
		return tool_exit_for(r);
	act = espimg_otadata_active(ent, &why);

	r = simulate(in, blob, cfg, &bcfg, tmp);
	move_new_diags(run, tmp, in->name, (int64_t)in->ota_off);
	if (r)
		return tool_exit_for(r);
	coff.rollback = coff.anti_rollback = false;
	r = simulate(in, blob, &coff, &boff, NULL);
	if (r)
		return tool_exit_for(r);
	/* Rollback needs v3.3; anti-rollback stays as given. */
	con.rollback = true;
	have_on = espimg_otadata_config_check(&con, NULL) == 0 &&
		  simulate(in, blob, &con, &bon, NULL) == 0;

	r = espimg_otadata_app_boot_partition(blob, size, l, cfg, &app_boot,
					      &rc_boot);
	if (r)
		return tool_exit_for(r);
	if (rc_boot != ESPIMG_OTA_OK)
		app_boot = -1;
	running = app_boot;
	if (run->running) {
		running = espimg_otadata_find_app(l, run->running);
		if (running < 0) {
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
					"otadata.no_partition", in->table_name, 0,
					0, -1, "--running %s: the table has no app "
					"partition of that name", run->running);
			return TOOL_EXIT_INVALID;
		}
	}
	next = espimg_otadata_next_update(l, running);
	have_last = espimg_otadata_last_invalid(blob, size, l, cfg, &last,
						&rc_last) == 0 &&
		    rc_last == ESPIMG_OTA_OK;

	if (structured(run)) {
		espimg_emitter *e = doc_begin(run);
		int ab = act;

		if (!e)
			return TOOL_EXIT_INTERNAL;
		tool_kv_str_or_null(e, "boot", boot_name(l, &bcfg));
		espimg_emit_kv_str(e, "file", in->name);
		espimg_emit_kv_str(e, "table", in->table_name);
		espimg_emit_key(e, "otadata");
		espimg_emit_begin_map(e);
		tool_kv_str_or_null(e, "name",
				    l->has_otadata ? l->otadata_name : NULL);
		espimg_emit_kv_uint(e, "offset", l->otadata_offset);
		espimg_emit_kv_hex(e, "offset_hex", l->otadata_offset);
		espimg_emit_kv_uint(e, "size", l->otadata_size);
		espimg_emit_kv_hex(e, "size_hex", l->otadata_size);
		espimg_emit_kv_uint(e, "bytes", size);
		espimg_emit_kv_hex(e, "bytes_hex", size);
		espimg_emit_end_map(e);
		espimg_emit_key(e, "slot_count");
		espimg_emit_begin_map(e);
		espimg_emit_kv_uint(e, "bootloader", l->boot_n);
		espimg_emit_kv_uint(e, "app", l->app_n);
		espimg_emit_end_map(e);
		emit_entries(e, l, ent);
		kv_index(e, "active", ab);
		espimg_emit_kv_str(e, "active_reason", active_reason(why));
		espimg_emit_key(e, "slots");
		espimg_emit_begin_map(e);
		kv_index(e, "bootloader", ab >= 0 ? espimg_otadata_seq_slot(
						ent[ab].seq, l->boot_n) : -1);
		kv_index(e, "app", ab >= 0 ? espimg_otadata_seq_slot(
					 ent[ab].seq, l->app_n) : -1);
		espimg_emit_end_map(e);
		espimg_emit_key(e, "next_boot");
		espimg_emit_begin_map(e);
		emit_next_boot(e, "rollback_off", l, &boff, true);
		emit_next_boot(e, "rollback_on", l, &bon, have_on);
		espimg_emit_end_map(e);
		tool_kv_str_or_null(e, "app_boot_partition",
				    app_name(l, app_boot));
		tool_kv_str_or_null(e, "running", app_name(l, running));
		tool_kv_str_or_null(e, "next_update", app_name(l, next));
		tool_kv_str_or_null(e, "last_invalid",
				    have_last ? app_name(l, last) : NULL);
		espimg_emit_key(e, "partitions");
		espimg_emit_begin_list(e);
		for (size_t i = 0; i < l->n_apps; i++) {
			const espimg_otadata_app *a = &l->apps[i];
			uint32_t st;
			espimg_ota_rc src;
			bool ota = (a->subtype & 0xF0) == ESPIMG_PSUB_APP_OTA_0;

			espimg_emit_begin_map(e);
			espimg_emit_kv_str(e, "name", a->name);
			espimg_emit_kv_uint(e, "subtype", a->subtype);
			espimg_emit_kv_hex(e, "subtype_hex", a->subtype);
			espimg_emit_kv_hex(e, "offset_hex", a->offset);
			kv_index(e, "slot", ota ? (int)(a->subtype & 0x0F) : -1);
			espimg_emit_kv_bool(e, "bad", cfg->bad[i]);
			espimg_emit_kv_uint(e, "secure_version",
					    cfg->secure_version[i]);
			tool_kv_str_or_null(e, "state",
				espimg_otadata_get_state(blob, size, l, cfg,
							 (int)i, &st, &src) == 0 &&
						src == ESPIMG_OTA_OK
					? state_text(st, sb, sizeof(sb)) : NULL);
			espimg_emit_end_map(e);
		}
		espimg_emit_end_list(e);
		r = doc_end(run, e);
		if (r)
			return r;
	} else if (text(run)) {
		char tb[32];

		if (run->table_path)
			snprintf(tb, sizeof(tb), "%s", "table");
		else
			snprintf(tb, sizeof(tb), "table at 0x%llx",
				 (unsigned long long)in->table_base);
		printf("%s: otadata of 0x%zx bytes", in->name, size);
		if (l->has_otadata)
			printf("; %s%s%s: partition '%s' at 0x%x, 0x%x bytes",
			       tb, run->table_path ? " " : "",
			       run->table_path ? in->table_name : "",
			       l->otadata_name, l->otadata_offset, l->otadata_size);
		else
			printf("; %s%s%s has no otadata partition", tb,
			       run->table_path ? " " : "",
			       run->table_path ? in->table_name : "");
		printf("\n  OTA slots: %u for the bootloader, %u for the app",
		       l->boot_n, l->app_n);
		printf("; factory %s, test %s\n",
		       l->boot_factory >= 0 ? app_name(l, l->boot_factory) : "none",
		       l->boot_test >= 0 ? app_name(l, l->boot_test) : "none");
		text_entry(l, &ent[0]);
		text_entry(l, &ent[1]);
		if (act >= 0)
			printf("active: entry %d (%s)\n", act, active_reason(why));
		else
			printf("active: none (%s)\n", active_reason(why));
		text_next_boot(cfg->rollback ? "next boot (with rollback): "
					     : "next boot: ", l, &bcfg);
		if (cfg->rollback)
			text_next_boot("  without rollback: ", l, &boff);
		else if (have_on)
			text_next_boot("  with rollback: ", l, &bon);
		printf("app's boot partition: %s\n",
		       rc_boot != ESPIMG_OTA_OK ? espimg_ota_rc_name(rc_boot) :
		       app_boot >= 0 ? app_name(l, app_boot) : "none");
		printf("next update partition: %s",
		       next >= 0 ? app_name(l, next) : "none");
		if (running >= 0)
			printf(" (after %s)", app_name(l, running));
		printf("\nlast invalid partition: %s\n",
		       have_last && last >= 0 ? app_name(l, last) : "none");
		printf("app states:");
		for (size_t i = 0, n = 0; i < l->n_apps; i++) {
			uint32_t st;
			espimg_ota_rc src;

			if ((l->apps[i].subtype & 0xF0) != ESPIMG_PSUB_APP_OTA_0)
				continue;
			printf("%s %s %s", n++ ? "," : "", l->apps[i].name,
			       espimg_otadata_get_state(blob, size, l, cfg, (int)i,
							&st, &src) == 0 &&
					       src == ESPIMG_OTA_OK
				       ? state_text(st, sb, sizeof(sb)) : "none");
		}
		printf("\n");
		if (tool_flush_stdout(spec.name))
			return TOOL_EXIT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------------ boot */

static int cmd_boot(struct run *run, struct input *in,
		    const espimg_otadata_config *cfg, espimg_diag_list *tmp)
{
	const espimg_otadata_layout *l = &in->layout;
	uint8_t *blob = in->data + in->ota_off;
	espimg_otadata_boot_result b;
	espimg_otadata_entry ent[2];
	bool wrote;
	char ib[16], sb[16];
	int r, st;

	r = espimg_otadata_decode(blob, in->ota_len, cfg, ent, tmp);
	move_diags(run, tmp, in->name, (int64_t)in->ota_off);
	if (r)
		return tool_exit_for(r);
	r = espimg_otadata_boot(blob, in->ota_len, l, cfg, &b, tmp);
	move_new_diags(run, tmp, in->name, (int64_t)in->ota_off);
	if (r)
		return tool_exit_for(r);
	espimg_otadata_decode(blob, in->ota_len, cfg, ent, NULL);
	/* Only -o writes: the boot is a prediction. */
	st = run->common.output ? write_result(run, in, true, &wrote) : 0;
	if (!run->common.output)
		wrote = false;
	if (st)
		return st;

	if (structured(run)) {
		espimg_emitter *e = doc_begin(run);

		if (!e)
			return TOOL_EXIT_INTERNAL;
		tool_kv_str_or_null(e, "boot", boot_name(l, &b));
		espimg_emit_kv_str(e, "file", in->name);
		espimg_emit_kv_str(e, "table", in->table_name);
		espimg_emit_kv_str(e, "outcome", outcome_name(b.outcome));
		index_text(ib, sizeof(ib), b.start_index);
		tool_kv_str_or_null(e, "start",
				    b.start_index == ESPIMG_OTADATA_INDEX_INVALID
					    ? NULL : ib);
		tool_kv_str_or_null(e, "start_partition",
				    app_name(l, index_app(l, b.start_index)));
		kv_index(e, "selected_entry", b.selected_entry);
		espimg_emit_kv_bool(e, "initial", b.initial);
		emit_boot_writes(e, &b);
		espimg_emit_kv_bool(e, "writes_otadata", b.written);
		espimg_emit_key(e, "tries");
		espimg_emit_begin_list(e);
		for (unsigned i = 0; i < b.n_tries; i++) {
			espimg_emit_begin_map(e);
			tool_kv_str_or_null(e, "partition",
					    app_name(l, b.tries[i].app));
			index_text(ib, sizeof(ib), b.tries[i].index);
			espimg_emit_kv_str(e, "index", ib);
			espimg_emit_kv_str(e, "result", try_name(b.tries[i].result));
			espimg_emit_end_map(e);
		}
		espimg_emit_end_list(e);
		espimg_emit_key(e, "efuse_secure_version");
		if (cfg->anti_rollback) {
			espimg_emit_begin_map(e);
			espimg_emit_kv_uint(e, "before", b.efuse_before);
			espimg_emit_kv_uint(e, "after", b.efuse_after);
			espimg_emit_end_map(e);
		} else {
			espimg_emit_null(e);
		}
		emit_entries(e, l, ent);
		emit_output_key(e, run, in, wrote);
		r = doc_end(run, e);
		if (r)
			return r;
	} else if (text(run)) {
		const char *n = boot_name(l, &b);

		if (n)
			printf("%s: next boot loads %s\n", in->name, n);
		else
			printf("%s: next boot: %s\n", in->name,
			       outcome_name(b.outcome));
		index_text(ib, sizeof(ib), b.start_index);
		if (b.selected_entry >= 0)
			printf("  start: %s (entry %d, seq %u)\n", ib,
			       b.selected_entry, ent[b.selected_entry].seq);
		else if (b.start_index != ESPIMG_OTADATA_INDEX_INVALID)
			printf("  start: %s (%s)\n", ib,
			       b.initial ? "otadata is blank or unreadable" :
					   "no usable entry");
		for (unsigned i = 0; i < b.n_tries; i++)
			printf("  tried %s: %s\n", app_name(l, b.tries[i].app),
			       try_name(b.tries[i].result));
		for (unsigned i = 0; i < b.n_writes; i++)
			printf("  bootloader writes entry %d: seq %u, state %s\n",
			       b.writes[i].sector, b.writes[i].seq,
			       state_text(b.writes[i].state, sb, sizeof(sb)));
		if (!b.n_writes)
			printf("  bootloader writes nothing to otadata\n");
		if (cfg->anti_rollback)
			printf("  eFuse secure version: %u -> %u\n", b.efuse_before,
			       b.efuse_after);
		if (run->common.output)
			text_written(run, in, b.written, wrote);
		if (tool_flush_stdout(spec.name))
			return TOOL_EXIT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------------ writes */

/* The partition set-boot names, or -1 (an error was recorded). */
static int resolve_target(struct run *run, struct input *in)
{
	const espimg_otadata_layout *l = &in->layout;
	int a;

	if (run->factory) {
		a = l->app_factory;
		if (a < 0)
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
					"otadata.no_partition", in->table_name, 0,
					0, -1, "--factory: the table has no factory "
					"app partition");
		return a;
	}
	if (run->slot >= 0) {
		a = espimg_otadata_find_slot(l, (unsigned)run->slot);
		if (a < 0)
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
					"otadata.no_partition", in->table_name, 0,
					0, -1, "--slot %d: the table has no app "
					"partition of subtype ota_%d", run->slot,
					run->slot);
		return a;
	}
	a = espimg_otadata_find_app(l, run->partition);
	if (a >= 0)
		return a;
	for (size_t i = 0; i < in->table->count; i++) {
		const espimg_partition *p = &in->table->parts[i];

		if (strcmp(p->name, run->partition))
			continue;
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
				"otadata.not_app", in->table_name, p->line, 0,
				p->line ? -1 : p->bin_offset + in->table_base,
				"'%s' is not an app partition: "
				"esp_ota_set_boot_partition returns "
				"ESP_ERR_INVALID_ARG; nothing written", p->name);
		return -1;
	}
	espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "otadata.no_partition",
			in->table_name, 0, 0, -1,
			"--partition %s: the table has no partition of that name",
			run->partition);
	return -1;
}

static int cmd_write(struct run *run, struct input *in,
		     const espimg_otadata_config *cfg, espimg_diag_list *tmp)
{
	const espimg_otadata_layout *l = &in->layout;
	uint8_t *blob = in->data + in->ota_off;
	espimg_otadata_result res;
	espimg_otadata_boot_result b;
	espimg_otadata_entry ent[2];
	int r, target = -1, running = -1, st = 0;
	bool wrote = false, ok;
	char sb[16];

	if (run->cmd == CMD_SET_BOOT) {
		target = resolve_target(run, in);
		if (target < 0)
			return TOOL_EXIT_INVALID;
		r = espimg_otadata_set_boot(blob, in->ota_len, l, cfg, target,
					    &res, tmp);
	} else {
		if (run->running) {
			running = espimg_otadata_find_app(l, run->running);
			if (running < 0) {
				espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
						"otadata.no_partition",
						in->table_name, 0, 0, -1,
						"--running %s: the table has no app "
						"partition of that name",
						run->running);
				return TOOL_EXIT_INVALID;
			}
		}
		if (run->cmd == CMD_MARK_VALID)
			r = espimg_otadata_mark_valid(blob, in->ota_len, l, cfg,
						      running, &res, tmp);
		else
			r = espimg_otadata_mark_invalid(blob, in->ota_len, l, cfg,
							running, &res, tmp);
	}
	move_diags(run, tmp, in->name, (int64_t)in->ota_off);
	if (r)
		return tool_exit_for(r);
	ok = res.rc == ESPIMG_OTA_OK;
	/* The device may have written before it failed (mark-valid raising
	 * the eFuse); a refusal of ours never writes. */
	if (ok || (res.changed && !res.refused)) {
		st = write_result(run, in, res.changed, &wrote);
		if (st)
			return st;
	}
	if (run->cmd != CMD_SET_BOOT)
		running = res.target;
	/* What the next boot makes of the result (or of the unchanged
	 * otadata after a refusal). */
	r = simulate(in, blob, cfg, &b, NULL);
	if (r)
		return tool_exit_for(r);
	espimg_otadata_decode(blob, in->ota_len, cfg, ent, NULL);

	if (structured(run)) {
		espimg_emitter *e = doc_begin(run);

		if (!e)
			return TOOL_EXIT_INTERNAL;
		tool_kv_str_or_null(e, "boot", boot_name(l, &b));
		espimg_emit_kv_str(e, "file", in->name);
		espimg_emit_kv_str(e, "table", in->table_name);
		espimg_emit_kv_str(e, "operation", cmd_names[run->cmd]);
		tool_kv_str_or_null(e, "target", app_name(l, target));
		tool_kv_str_or_null(e, "running", app_name(l, running));
		espimg_emit_kv_str(e, "rc", espimg_ota_rc_name(res.rc));
		espimg_emit_kv_bool(e, "refused", res.refused);
		espimg_emit_kv_bool(e, "restart", res.restart);
		espimg_emit_key(e, "written");
		if ((ok || res.changed) && res.sector >= 0) {
			espimg_emit_begin_map(e);
			espimg_emit_kv_int(e, "entry", res.sector);
			espimg_emit_kv_hex(e, "offset_hex",
					   (uint64_t)res.sector *
						   ESPIMG_OTADATA_SECTOR);
			espimg_emit_kv_uint(e, "seq", res.seq);
			espimg_emit_kv_hex(e, "seq_hex", res.seq);
			tool_kv_str_or_null(e, "state_name",
				espimg_otadata_state_name(res.state));
			espimg_emit_kv_hex(e, "state_hex", res.state);
			espimg_emit_end_map(e);
		} else {
			espimg_emit_null(e);
		}
		espimg_emit_kv_bool(e, "erased", res.erased_all);
		espimg_emit_kv_bool(e, "reset_seq", res.reset_seq);
		espimg_emit_kv_bool(e, "changed", res.changed);
		if (res.erased_app >= 0)
			tool_kv_str_or_null(e, "device_erases",
					    app_name(l, res.erased_app));
		if (res.searched) {
			espimg_emit_key(e, "seq_search");
			espimg_emit_begin_map(e);
			espimg_emit_kv_uint(e, "seq", res.search_seq);
			espimg_emit_kv_hex(e, "seq_hex", res.search_seq);
			espimg_emit_kv_str(e, "verdict",
					   espimg_otadata_verdict_name(res.verdict));
			espimg_emit_end_map(e);
		}
		if (cfg->anti_rollback)
			espimg_emit_kv_uint(e, "efuse_secure_version",
					    res.efuse_secure_version);
		emit_entries(e, l, ent);
		emit_output_key(e, run, in, wrote);
		r = doc_end(run, e);
		if (r)
			return r;
	} else if (text(run)) {
		const char *n = boot_name(l, &b);

		printf("%s: %s", in->name, cmd_names[run->cmd]);
		if (target >= 0)
			printf(" %s", app_name(l, target));
		if (!ok && !res.changed) {
			printf(": refused (%s); nothing written\n",
			       espimg_ota_rc_name(res.rc));
		} else if (res.erased_all) {
			printf(": whole otadata partition erased (0x%zx bytes)\n",
			       in->ota_len);
		} else if (res.sector >= 0) {
			printf(": %sentry %d at 0x%04x: seq %u (0x%08x), state %s\n",
			       res.reset_seq ? "seqs restarted, " : "",
			       res.sector, res.sector * ESPIMG_OTADATA_SECTOR,
			       res.seq, res.seq,
			       state_text(res.state, sb, sizeof(sb)));
		} else {
			printf(": nothing to write\n");
		}
		if (!ok && res.changed)
			printf("the device returns %s\n",
			       espimg_ota_rc_name(res.rc));
		if (ok && res.restart)
			printf("the device restarts\n");
		if (n)
			printf("next boot loads %s\n", n);
		else
			printf("next boot: %s\n", outcome_name(b.outcome));
		if (ok || res.changed)
			text_written(run, in, res.changed, wrote);
		if (tool_flush_stdout(spec.name))
			return TOOL_EXIT_USAGE;
	}
	return ok ? 0 : TOOL_EXIT_INVALID;
}

/* ------------------------------------------------------------ init */

static int cmd_init(struct run *run, struct input *in)
{
	const espimg_otadata_layout *l = &in->layout;
	uint64_t size = run->size_set ? run->size : ESPIMG_OTADATA_DEFAULT_SIZE;
	bool wrote = false;
	int r, st;

	if (in->have_layout && l->has_otadata) {
		if (run->size_set && run->size != l->otadata_size) {
			espimg_diag_add(run->diags, ESPIMG_SEV_ERROR,
					"otadata.size", in->table_name, 0, 0, -1,
					"--size 0x%llx differs from the otadata "
					"partition '%s' of the table (0x%x bytes)",
					(unsigned long long)run->size,
					l->otadata_name, l->otadata_size);
			return TOOL_EXIT_INVALID;
		}
		size = l->otadata_size;
	} else if (in->have_layout && !run->size_set) {
		espimg_diag_add(run->diags, ESPIMG_SEV_WARNING,
				"otadata.no_otadata", in->table_name, 0, 0, -1,
				"the table has no otadata partition; writing "
				"0x%llx bytes", (unsigned long long)size);
	}
	if (size < ESPIMG_OTADATA_MIN_SIZE || size % ESPIMG_OTADATA_SECTOR ||
	    size > ESPIMG_OTADATA_MAX_SIZE) {
		espimg_diag_add(run->diags, ESPIMG_SEV_ERROR, "otadata.size",
				in->have_layout ? in->table_name : NULL, 0, 0, -1,
				"an otadata of 0x%llx bytes: the device needs at "
				"least 0x%x bytes in whole 4 KiB sectors (and we "
				"write at most 0x%x)", (unsigned long long)size,
				ESPIMG_OTADATA_MIN_SIZE, ESPIMG_OTADATA_MAX_SIZE);
		return TOOL_EXIT_INVALID;
	}
	if (!run->flash_path) {
		free(in->data);
		in->data = malloc((size_t)size);
		if (!in->data)
			return tool_nomem(spec.name);
		in->len = in->ota_len = (size_t)size;
		in->ota_off = 0;
		in->path = run->file;
	}
	r = espimg_otadata_init(in->data + in->ota_off, (size_t)size);
	if (r)
		return tool_exit_for(r);
	if (!run->dry_run) {
		st = tool_write_output(spec.name, target_path(run, in), in->data,
				       in->len);
		if (st)
			return st;
		wrote = true;
	}
	if (structured(run)) {
		espimg_emitter *e = doc_begin(run);

		if (!e)
			return TOOL_EXIT_INTERNAL;
		espimg_emit_kv_str(e, "operation", "init");
		tool_kv_str_or_null(e, "file",
				    run->flash_path ? in->name : NULL);
		espimg_emit_kv_uint(e, "size", size);
		espimg_emit_kv_hex(e, "size_hex", size);
		espimg_emit_kv_uint(e, "offset", in->ota_off);
		espimg_emit_kv_hex(e, "offset_hex", in->ota_off);
		tool_kv_str_or_null(e, "output",
				    wrote ? target_path(run, in) : NULL);
		espimg_emit_kv_bool(e, "dry_run", run->dry_run);
		return doc_end(run, e);
	}
	if (text(run)) {
		if (run->flash_path)
			printf("%s: otadata at 0x%zx: 0x%llx bytes of 0xff\n",
			       in->name, in->ota_off, (unsigned long long)size);
		else
			printf("blank otadata: 0x%llx bytes of 0xff\n",
			       (unsigned long long)size);
		if (run->dry_run)
			printf("dry run: nothing written\n");
		else
			printf("wrote %s\n", target_path(run, in));
		if (tool_flush_stdout(spec.name))
			return TOOL_EXIT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct run run = { 0 };
	struct input in = { 0 };
	espimg_otadata_config cfg;
	espimg_diag_list *tmp = espimg_diag_list_new();
	char **pos = calloc((size_t)argc + 1, sizeof(*pos));
	int npos = 0, status;

	run.slot = -1;
	run.diags = espimg_diag_list_new();
	run.bad = calloc((size_t)argc + 1, sizeof(*run.bad));
	run.secver = calloc((size_t)argc + 1, sizeof(*run.secver));
	if (!pos || !run.diags || !tmp || !run.bad || !run.secver)
		return tool_nomem(spec.name);
	/* MD5 of binary tables needs no OpenSSL configuration. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);

	status = tool_parse_args(&spec, argc, argv, on_option, &run, pos, &npos);
	if (status || tool_help_or_version(&spec, &run.common))
		goto done;
	status = check_usage(&run, pos, npos);
	if (status)
		goto done;

	status = load_input(&run, &in, tmp);
	if (!status && run.cmd != CMD_INIT)
		status = make_config(&run, &in, &cfg, tmp);
	if (!status) {
		switch (run.cmd) {
		case CMD_SHOW:
			status = cmd_show(&run, &in, &cfg, tmp);
			break;
		case CMD_BOOT:
			status = cmd_boot(&run, &in, &cfg, tmp);
			break;
		case CMD_INIT:
			status = cmd_init(&run, &in);
			break;
		default:
			status = cmd_write(&run, &in, &cfg, tmp);
			break;
		}
	}
	if (tool_print_diags(spec.name, run.diags, run.common.quiet) && !status)
		status = TOOL_EXIT_INVALID;

done:
	input_free(&in);
	espimg_diag_list_free(run.diags);
	espimg_diag_list_free(tmp);
	free(run.bad);
	free(run.secver);
	free(pos);
	return status;
}
