/*
 * tool.h - what every espimg tool shares: one option table from which both
 * argument parsing and --help are generated, the options every tool has
 * (--format, -q, -h, -V, -o), diagnostics printing, input, output,
 * json/yaml documents and exit codes.
 *
 * We parse arguments ourselves rather than with getopt_long: the reference
 * tools take options whose value is optional but may stand in the next word
 * (`--secure v1`, `--flash-size 4MB`) and a greedy list option, which
 * getopt_long cannot express.  Long options may be abbreviated to any
 * unique prefix, as argparse allows.
 */
#ifndef ESPIMG_TOOL_H
#define ESPIMG_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "espimg/espimg.h"
#include "espimg/image.h"

enum tool_exit {
	TOOL_EXIT_OK = 0,
	TOOL_EXIT_INVALID = 1,  /* the input is invalid or a check failed */
	TOOL_EXIT_USAGE = 2,    /* bad usage, unreadable input, unwritable output */
	TOOL_EXIT_INTERNAL = 3, /* out of memory, bug */
};

enum tool_arg {
	TOOL_NOARG,   /* a switch */
	TOOL_ARG,     /* value required: --opt=V, --opt V, -oV, -o V */
	TOOL_OPTARG,  /* value optional: --opt=V, or the next word if accepts() */
	TOOL_LISTARG, /* every following word that accepts() takes, or --opt=V */
};

struct tool_option {
	int id;                 /* handed to the callback */
	char short_name;        /* 0 for none */
	const char *long_name;  /* without the dashes */
	enum tool_arg arg;
	const char *arg_name;   /* for --help, e.g. "SIZE" */
	const char *help;       /* one line */
	bool (*accepts)(const char *word);
	/* TOOL_OPTARG: a following word that looks like a value but is not
	 * accepted is refused rather than taken as a positional (so a typo
	 * such as `--flash-size 3MB` is not read as INPUT).  May be NULL. */
	bool (*looks_like)(const char *word);
};

struct tool_spec {
	const char *name;       /* program name */
	const char *args;       /* positional part of the synopsis */
	const char *summary;    /* one line: what the tool does */
	const struct tool_option *options; /* ends with an entry whose id is 0 */
	const char *epilog;     /* after the options in --help; may be NULL */
};

/*
 * The options several tools share have fixed ids, so tool_common_option()
 * can handle them; a tool numbers its own options from 1.  Every tool's
 * table ends with TOOL_OPTIONS_END (-h, -V and the end mark); the other
 * rows take the help line (and for --format the values) the tool needs.
 */
enum tool_common_id {
	TOOL_OPT_FORMAT = 0x100, /* --format text|json|yaml (and the tool's) */
	TOOL_OPT_OUTPUT,         /* -o, --output OUT */
	TOOL_OPT_QUIET,          /* -q, --quiet */
	TOOL_OPT_HELP,           /* -h, --help */
	TOOL_OPT_VERSION,        /* -V, --version */
};

#define TOOL_OPTION_FORMAT(values, help) \
	{ TOOL_OPT_FORMAT, 0, "format", TOOL_ARG, values, help, NULL, NULL }
#define TOOL_OPTION_OUTPUT(help) \
	{ TOOL_OPT_OUTPUT, 'o', "output", TOOL_ARG, "OUT", help, NULL, NULL }
#define TOOL_OPTION_QUIET(help) \
	{ TOOL_OPT_QUIET, 'q', "quiet", TOOL_NOARG, NULL, help, NULL, NULL }
#define TOOL_OPTIONS_END \
	{ TOOL_OPT_HELP, 'h', "help", TOOL_NOARG, NULL, "show this help", \
	  NULL, NULL }, \
	{ TOOL_OPT_VERSION, 'V', "version", TOOL_NOARG, NULL, \
	  "show the version", NULL, NULL }, \
	{ 0, 0, NULL, TOOL_NOARG, NULL, NULL, NULL, NULL }

/* What the shared options set. */
struct tool_common {
	espimg_format format;   /* --format text (the default), json or yaml */
	bool format_set;        /* --format named one of those three */
	const char *output;     /* -o OUT; NULL when not given */
	bool quiet, help, version;
};

/* Called once per option; value is NULL for a switch or an absent
 * optional value.  Return 0, or TOOL_EXIT_USAGE after tool_usage_error(). */
typedef int (*tool_option_fn)(void *ctx, const struct tool_option *opt,
			      const char *value);

/* Parses argv.  Positionals (and everything after "--") are stored in
 * pos[0..*npos) (pos must have argc slots).  Returns 0 or TOOL_EXIT_USAGE
 * (a message was printed). */
int tool_parse_args(const struct tool_spec *spec, int argc, char **argv,
		    tool_option_fn fn, void *ctx, char **pos, int *npos);

/* The one-line synopsis ("usage: prog [-hV] ... ARGS"). */
void tool_print_synopsis(const struct tool_spec *spec, FILE *f);
void tool_print_help(const struct tool_spec *spec, FILE *f);
void tool_print_version(const struct tool_spec *spec, FILE *f);
/* -h wins over -V: prints the help or the version on stdout and returns
 * true when either was asked for (the tool then exits 0). */
bool tool_help_or_version(const struct tool_spec *spec,
			  const struct tool_common *c);

/*
 * Records a shared option (an id from enum tool_common_id) in c; any
 * other option is left alone.  Returns 0, or TOOL_EXIT_USAGE after a
 * message: a --format value that is not text, json or yaml is refused
 * with the list of values the row names, so a tool with values of its own
 * (esptool, jsonl) takes those before calling this.  A tool's option
 * callback ends with it.
 */
int tool_common_option(const struct tool_spec *spec, struct tool_common *c,
		       const struct tool_option *opt, const char *value);

/* Usage error when -o - and --format would both write to standard output. */
int tool_check_output(const struct tool_spec *spec,
		      const struct tool_common *c);

/* An ESP chip by its key (esp32, esp32c3, ...), or NULL for "auto" (the
 * image's own).  An unknown key is a usage error that lists the known
 * ones: returns TOOL_EXIT_USAGE. */
int tool_parse_chip(const struct tool_spec *spec, const char *value,
		    const espimg_chip **chip);

/* Prints "prog: error: MESSAGE" and a hint to --help; returns TOOL_EXIT_USAGE. */
int tool_usage_error(const struct tool_spec *spec, const char *fmt, ...)
	ESPIMG_PRINTF(2, 3);

/* Prints "prog: MESSAGE" on stderr. */
void tool_error(const char *prog, const char *fmt, ...) ESPIMG_PRINTF(2, 3);

/* Prints "prog: out of memory"; returns TOOL_EXIT_INTERNAL. */
int tool_nomem(const char *prog);

/* The worse of two exit statuses (the larger). */
int tool_worst(int a, int b);

/* Flushes standard output; when that fails prints "prog: standard
 * output: write error" and returns TOOL_EXIT_USAGE, else 0. */
int tool_flush_stdout(const char *prog);

/* The lowercase hex of n bytes in out[0..2n], NUL-terminated. */
void tool_hex(char *out, const uint8_t *p, size_t n);

/* Prints every diagnostic on stderr in compiler style; warnings and notes
 * are left out when quiet.  Returns the number of errors. */
size_t tool_print_diags(const char *prog, const espimg_diag_list *diags,
			bool quiet);

/* Copies d into `to`, naming file when d names none and counting its
 * byte offset from base (a finding with a line number keeps no offset). */
void tool_diag_copy(espimg_diag_list *to, const espimg_diag *d,
		    const char *file, int64_t base);

/* tool_diag_copy() of every finding in from, which is then emptied. */
void tool_diags_move(espimg_diag_list *to, espimg_diag_list *from,
		     const char *file, int64_t base);

/* "-" is shown as "<stdin>" in messages. */
const char *tool_display_name(const char *path);

/* Reads a whole input file, bounded; on failure prints why and returns
 * TOOL_EXIT_USAGE (or TOOL_EXIT_INTERNAL for out of memory). */
int tool_read_input(const char *prog, const char *path, size_t max,
		    uint8_t **buf, size_t *len);

/* ------------------------------------------------------------ input */

/* Standard input and non-regular files are read into memory: at most the
 * largest flash chip (128 MiB, esptool FLASH_SIZES). */
#define TOOL_INPUT_MEM_LIMIT (128u << 20)

/*
 * An input file as an espimg_source.  A regular file is read with pread()
 * where needed, never whole, so memory stays flat whatever its size;
 * standard input ("-"), pipes and devices are read into memory once,
 * bounded.  src.ctx points into the struct: do not copy an open input.
 * Inputs of different threads are independent.
 */
struct tool_input {
	const char *path;
	const char *name;      /* for messages: "<stdin>" for "-" */
	int fd;                /* -1 unless read with pread */
	uint8_t *mem;          /* the whole input when not read with pread */
	size_t mem_len;
	espimg_source src;
};

/* Opens path.  On failure records why in diags (code io.read, io.too_big
 * or io.nomem, file in->name) and returns TOOL_EXIT_USAGE, or
 * TOOL_EXIT_INTERNAL for out of memory; in->name is set either way and
 * tool_input_close() must still be called. */
int tool_input_open(struct tool_input *in, const char *path,
		    espimg_diag_list *diags);

/* Reads the whole input into memory (at most limit bytes) and makes src a
 * memory source, closing a pread file first (for text formats that are
 * parsed whole).  Errors as tool_input_open. */
int tool_input_slurp(struct tool_input *in, size_t limit,
		     espimg_diag_list *diags);

/* Records a read failure of `in` in diags: err is the ESPIMG_E* code
 * (ESPIMG_EIO, ESPIMG_ENOTFOUND, ESPIMG_ETOOBIG, ESPIMG_ENOMEM), saved_errno
 * the errno for EIO, limit the bound for ETOOBIG.  Returns the exit status
 * as tool_input_open does. */
int tool_input_error(const struct tool_input *in, int err, int saved_errno,
		     size_t limit, espimg_diag_list *diags);

void tool_input_close(struct tool_input *in);

/* Writes data to path atomically, or to stdout for "-".  On failure prints
 * why and returns TOOL_EXIT_USAGE. */
int tool_write_output(const char *prog, const char *path, const void *data,
		      size_t len);

/* Creates the directory dir and its missing parents; fails with ENOTDIR
 * when dir exists but is no directory.  Returns 0, or -1 with errno set. */
int tool_make_dirs(const char *dir);

/* espimg_write_fn that writes to a FILE *. */
int tool_file_write(void *ctx, const void *buf, size_t len);

/* A growing memory buffer, always NUL-terminated (p is NULL until the
 * first write); free(p) when done. */
struct tool_buf {
	char *p;
	size_t len, cap;
};

/* espimg_write_fn that appends to a struct tool_buf. */
int tool_buf_write(void *ctx, const void *data, size_t len);

/* ------------------------------------------------------------ documents */

/* A json or yaml document on standard output: a new emitter with the
 * document begun ("schema": schema), or NULL for out of memory. */
espimg_emitter *tool_doc_begin(espimg_format format, const char *schema);

/* Ends the document, frees the emitter and flushes standard output.
 * Returns 0, or an exit status after a message: TOOL_EXIT_INTERNAL (out of
 * memory, emitter misuse) or TOOL_EXIT_USAGE (output failed). */
int tool_doc_end(const char *prog, espimg_emitter *e);

/* key: v, or key: null when v is NULL. */
void tool_kv_str_or_null(espimg_emitter *e, const char *key,
			 const char *v);

/* "diagnostics": a list of maps (severity, code, file, offset, message);
 * with lines, a "line" key too (null, or the line of a text input, whose
 * offset is then null). */
void tool_emit_diags(espimg_emitter *e, const espimg_diag_list *diags,
		     bool lines);

/* Maps a library error code to an exit status. */
int tool_exit_for(int err);

#endif
