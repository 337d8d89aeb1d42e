/*
 * tool.h - what every espimg tool shares: one option table from which both
 * argument parsing and --help are generated, diagnostics printing, output
 * writing and exit codes.
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
bool tool_help_or_version(const struct tool_spec *spec, bool help,
			  bool version);

/* Prints "prog: error: MESSAGE" and a hint to --help; returns TOOL_EXIT_USAGE. */
int tool_usage_error(const struct tool_spec *spec, const char *fmt, ...)
	ESPIMG_PRINTF(2, 3);

/* Prints "prog: MESSAGE" on stderr. */
void tool_error(const char *prog, const char *fmt, ...) ESPIMG_PRINTF(2, 3);

/* Prints every diagnostic on stderr in compiler style; warnings and notes
 * are left out when quiet.  Returns the number of errors. */
size_t tool_print_diags(const char *prog, const espimg_diag_list *diags,
			bool quiet);

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

/* espimg_write_fn that writes to a FILE *. */
int tool_file_write(void *ctx, const void *buf, size_t len);

/* Maps a library error code to an exit status. */
int tool_exit_for(int err);

#endif
