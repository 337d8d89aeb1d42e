/*
 * tool.c - option parsing, --help, diagnostics and output for the tools.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

static const struct tool_option *find_long(const struct tool_spec *spec,
					   const char *name, size_t len,
					   int *ambiguous)
{
	const struct tool_option *hit = NULL;

	*ambiguous = 0;
	for (const struct tool_option *o = spec->options; o->id; o++) {
		if (!o->long_name || strncmp(o->long_name, name, len))
			continue;
		if (strlen(o->long_name) == len)
			return o; /* exact beats prefix */
		if (hit)
			*ambiguous = 1;
		hit = o;
	}
	return *ambiguous ? NULL : hit;
}

static const struct tool_option *find_short(const struct tool_spec *spec,
					    char c)
{
	for (const struct tool_option *o = spec->options; o->id; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

int tool_parse_args(const struct tool_spec *spec, int argc, char **argv,
		    tool_option_fn fn, void *ctx, char **pos, int *npos)
{
	int i, r;

	*npos = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			while (++i < argc)
				pos[(*npos)++] = argv[i];
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			int ambiguous;
			const struct tool_option *o =
				find_long(spec, name, len, &ambiguous);

			if (!o)
				return tool_usage_error(spec, "%s option '--%.*s'",
							ambiguous ? "ambiguous"
								  : "unknown",
							(int)len, name);
			if (o->arg == TOOL_NOARG) {
				if (eq)
					return tool_usage_error(
						spec, "option '--%s' takes no value",
						o->long_name);
				r = fn(ctx, o, NULL);
			} else if (eq) {
				r = fn(ctx, o, eq + 1);
			} else if (o->arg == TOOL_ARG) {
				if (i + 1 >= argc)
					return tool_usage_error(
						spec, "option '--%s' needs a value (%s)",
						o->long_name, o->arg_name);
				r = fn(ctx, o, argv[++i]);
			} else if (o->arg == TOOL_OPTARG) {
				const char *next = i + 1 < argc ? argv[i + 1] : NULL;
				if (next && o->accepts(next))
					r = fn(ctx, o, argv[++i]);
				else if (next && o->looks_like && o->looks_like(next))
					return tool_usage_error(
						spec, "invalid value '%s' for '--%s' "
						"(%s)", next, o->long_name, o->arg_name);
				else
					r = fn(ctx, o, NULL);
			} else { /* TOOL_LISTARG */
				r = 0;
				while (!r && i + 1 < argc && o->accepts(argv[i + 1]))
					r = fn(ctx, o, argv[++i]);
			}
			if (r)
				return r;
			continue;
		}
		/* A cluster of short options: -qv, -o0x9000, -o 0x9000. */
		for (const char *c = a + 1; *c; c++) {
			const struct tool_option *o = find_short(spec, *c);

			if (!o)
				return tool_usage_error(spec, "unknown option '-%c'",
							*c);
			if (o->arg == TOOL_NOARG) {
				r = fn(ctx, o, NULL);
			} else if (c[1]) {
				r = fn(ctx, o, c + 1);
				c += strlen(c) - 1;
			} else if (i + 1 < argc) {
				r = fn(ctx, o, argv[++i]);
			} else {
				return tool_usage_error(
					spec, "option '-%c' needs a value (%s)", *c,
					o->arg_name);
			}
			if (r)
				return r;
		}
	}
	return 0;
}

static void option_words(const struct tool_option *o, char *buf, size_t cap)
{
	const char *name = o->arg_name ? o->arg_name : "";

	if (o->arg == TOOL_ARG)
		snprintf(buf, cap, " %s", name);
	else if (o->arg == TOOL_OPTARG)
		snprintf(buf, cap, " [%s]", name);
	else if (o->arg == TOOL_LISTARG)
		snprintf(buf, cap, " %s ...", name);
	else
		buf[0] = '\0';
}

/* Appends one synopsis word, wrapping before column 79 with an indent. */
static void synopsis_word(FILE *f, int *col, int indent, const char *word)
{
	int n = (int)strlen(word);

	if (*col + 1 + n > 79) {
		fprintf(f, "\n%*s", indent, "");
		*col = indent;
	} else {
		fputc(' ', f);
		(*col)++;
	}
	fputs(word, f);
	*col += n;
}

void tool_print_synopsis(const struct tool_spec *spec, FILE *f)
{
	char flags[64], word[128];
	size_t n = 0;
	int col, indent;

	/* Value-less short options first, bundled: [-hqV]. */
	for (const struct tool_option *o = spec->options; o->id; o++)
		if (o->short_name && o->arg == TOOL_NOARG && n + 1 < sizeof(flags))
			flags[n++] = o->short_name;
	flags[n] = '\0';
	col = fprintf(f, "usage: %s", spec->name);
	indent = col + 1;
	if (n) {
		snprintf(word, sizeof(word), "[-%s]", flags);
		synopsis_word(f, &col, indent, word);
	}
	for (const struct tool_option *o = spec->options; o->id; o++) {
		char words[64];
		if (o->short_name && o->arg == TOOL_NOARG)
			continue;
		option_words(o, words, sizeof(words));
		if (o->short_name)
			snprintf(word, sizeof(word), "[-%c%s]", o->short_name, words);
		else
			snprintf(word, sizeof(word), "[--%s%s]", o->long_name, words);
		synopsis_word(f, &col, indent, word);
	}
	synopsis_word(f, &col, indent, spec->args);
	fputc('\n', f);
}

void tool_print_help(const struct tool_spec *spec, FILE *f)
{
	tool_print_synopsis(spec, f);
	fprintf(f, "\n%s\n\nOptions:\n", spec->summary);
	for (const struct tool_option *o = spec->options; o->id; o++) {
		char left[96], words[64];

		option_words(o, words, sizeof(words));
		if (o->short_name && o->long_name)
			snprintf(left, sizeof(left), "-%c, --%s%s", o->short_name,
				 o->long_name, words);
		else if (o->short_name)
			snprintf(left, sizeof(left), "-%c%s", o->short_name, words);
		else
			snprintf(left, sizeof(left), "    --%s%s", o->long_name,
				 words);
		if (strlen(left) > 30)
			fprintf(f, "  %s\n  %-30s %s\n", left, "", o->help);
		else
			fprintf(f, "  %-30s %s\n", left, o->help);
	}
	if (spec->epilog)
		fprintf(f, "\n%s", spec->epilog);
}

void tool_print_version(const struct tool_spec *spec, FILE *f)
{
	fprintf(f, "%s (espimg) %s\n", spec->name, espimg_version());
}

bool tool_help_or_version(const struct tool_spec *spec,
			  const struct tool_common *c)
{
	if (c->help)
		tool_print_help(spec, stdout);
	else if (c->version)
		tool_print_version(spec, stdout);
	return c->help || c->version;
}

/* "a|b|c" as "a, b or c", for messages. */
static void alternatives(const char *words, char *buf, size_t cap)
{
	const char *last = strrchr(words, '|');
	size_t n = 0;

	for (const char *w = words; *w && n + 4 < cap; w++) {
		if (*w != '|') {
			buf[n++] = *w;
		} else if (w == last) {
			memcpy(buf + n, " or ", 4);
			n += 4;
		} else {
			buf[n++] = ',';
			buf[n++] = ' ';
		}
	}
	buf[n] = '\0';
}

int tool_common_option(const struct tool_spec *spec, struct tool_common *c,
		       const struct tool_option *opt, const char *value)
{
	char values[64];

	switch (opt->id) {
	case TOOL_OPT_FORMAT:
		if (espimg_format_parse(value, &c->format)) {
			alternatives(opt->arg_name, values, sizeof(values));
			return tool_usage_error(spec, "format '%s' is not %s",
						value, values);
		}
		c->format_set = true;
		break;
	case TOOL_OPT_OUTPUT:
		if (!*value)
			return tool_usage_error(spec, "-o needs a file name");
		c->output = value;
		break;
	case TOOL_OPT_QUIET:
		c->quiet = true;
		break;
	case TOOL_OPT_HELP:
		c->help = true;
		break;
	case TOOL_OPT_VERSION:
		c->version = true;
		break;
	}
	return 0;
}

int tool_check_output(const struct tool_spec *spec,
		      const struct tool_common *c)
{
	if (c->output && !strcmp(c->output, "-") && c->format_set)
		return tool_usage_error(spec, "--format and -o - would both "
					"write to standard output");
	return 0;
}

int tool_parse_chip(const struct tool_spec *spec, const char *value,
		    const espimg_chip **chip)
{
	/* "auto" is esptool's spelling of "from the header". */
	if (!strcmp(value, "auto")) {
		*chip = NULL;
		return 0;
	}
	*chip = espimg_chip_by_key(value);
	if (*chip)
		return 0;
	fprintf(stderr, "%s: error: unknown chip '%s'; known: ", spec->name,
		value);
	for (size_t i = 0; i < espimg_chip_count(); i++)
		fprintf(stderr, "%s%s", i ? " " : "", espimg_chip_at(i)->key);
	fprintf(stderr, "\nTry '%s --help'.\n", spec->name);
	return TOOL_EXIT_USAGE;
}

int tool_usage_error(const struct tool_spec *spec, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", spec->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", spec->name);
	return TOOL_EXIT_USAGE;
}

void tool_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int tool_nomem(const char *prog)
{
	tool_error(prog, "out of memory");
	return TOOL_EXIT_INTERNAL;
}

int tool_worst(int a, int b)
{
	return a > b ? a : b;
}

int tool_flush_stdout(const char *prog)
{
	/* A failed earlier write leaves the error flag set while the next
	 * fflush() may succeed: glibc drops the buffer it could not write. */
	if (fflush(stdout) || ferror(stdout)) {
		tool_error(prog, "standard output: write error");
		return TOOL_EXIT_USAGE;
	}
	return 0;
}

void tool_hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void tool_diag_copy(espimg_diag_list *to, const espimg_diag *d,
		    const char *file, int64_t base)
{
	int64_t offset = d->offset >= 0 && !d->line ? d->offset + base : -1;

	espimg_diag_add(to, d->severity, d->code, d->file ? d->file : file,
			d->line, d->column, offset, "%s", d->message);
}

void tool_diags_move(espimg_diag_list *to, espimg_diag_list *from,
		     const char *file, int64_t base)
{
	for (size_t i = 0; i < espimg_diag_count(from); i++)
		tool_diag_copy(to, espimg_diag_get(from, i), file, base);
	espimg_diag_clear(from);
}

/* Line order (a stable sort), so layout findings that a later pass adds
 * still come out in file order. */
static int by_line(const void *a, const void *b)
{
	const espimg_diag *x = *(const espimg_diag *const *)a;
	const espimg_diag *y = *(const espimg_diag *const *)b;

	/* Findings without a line (whole-table ones) come last. */
	unsigned lx = x->line ? x->line : UINT_MAX;
	unsigned ly = y->line ? y->line : UINT_MAX;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x < y ? -1 : x > y;
}

size_t tool_print_diags(const char *prog, const espimg_diag_list *diags,
			bool quiet)
{
	size_t errors = 0, n = espimg_diag_count(diags);
	const espimg_diag **order = malloc((n ? n : 1) * sizeof(*order));

	for (size_t i = 0; i < n; i++) {
		if (order)
			order[i] = espimg_diag_get(diags, i);
	}
	if (order)
		qsort(order, n, sizeof(*order), by_line);
	for (size_t i = 0; i < n; i++) {
		const espimg_diag *d = order ? order[i] : espimg_diag_get(diags, i);

		if (d->severity == ESPIMG_SEV_ERROR)
			errors++;
		else if (quiet)
			continue;
		fprintf(stderr, "%s: ", prog);
		if (d->file && d->line)
			fprintf(stderr, "%s:%u:%u: ", d->file, d->line,
				d->column ? d->column : 1);
		else if (d->file && d->offset >= 0)
			fprintf(stderr, "%s: offset 0x%llx: ", d->file,
				(unsigned long long)d->offset);
		else if (d->file)
			fprintf(stderr, "%s: ", d->file);
		fprintf(stderr, "%s: %s [%s]\n", espimg_severity_name(d->severity),
			d->message, d->code);
	}
	free(order);
	return errors;
}

const char *tool_display_name(const char *path)
{
	return strcmp(path, "-") ? path : "<stdin>";
}

int tool_exit_for(int err)
{
	switch (err) {
	case 0:
		return TOOL_EXIT_OK;
	case ESPIMG_EFORMAT:
		return TOOL_EXIT_INVALID;
	case ESPIMG_ENOMEM:
		return TOOL_EXIT_INTERNAL;
	case ESPIMG_EINVAL:
		return TOOL_EXIT_INTERNAL;
	default:
		return TOOL_EXIT_USAGE;
	}
}

int tool_read_input(const char *prog, const char *path, size_t max,
		    uint8_t **buf, size_t *len)
{
	int r = espimg_read_file(path, max, buf, len);

	if (r == 0)
		return 0;
	if (r == ESPIMG_ETOOBIG)
		tool_error(prog, "%s: error: larger than %zu bytes",
			   tool_display_name(path), max);
	else if (r == ESPIMG_ENOMEM)
		tool_error(prog, "%s: out of memory", tool_display_name(path));
	else
		tool_error(prog, "%s: error: cannot read: %s", tool_display_name(path),
			   r == ESPIMG_ENOTFOUND ? strerror(ENOENT)
						 : strerror(errno));
	return r == ESPIMG_ENOMEM ? TOOL_EXIT_INTERNAL : TOOL_EXIT_USAGE;
}

/* A regular file read with pread(); ctx is the tool_input. */
static int fd_read_at(void *ctx, uint64_t offset, void *buf, size_t len,
		      size_t *got)
{
	const struct tool_input *in = ctx;
	size_t done = 0;

	while (done < len) {
		ssize_t n;

		if (offset + done > (uint64_t)INT64_MAX)
			break;
		n = pread(in->fd, (char *)buf + done, len - done,
			  (off_t)(offset + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*got = done;
			return ESPIMG_EIO;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return ESPIMG_OK;
}

int tool_input_error(const struct tool_input *in, int err, int saved_errno,
		     size_t limit, espimg_diag_list *diags)
{
	if (err == ESPIMG_ENOMEM) {
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "io.nomem", in->name, 0, 0,
				-1, "out of memory");
		return TOOL_EXIT_INTERNAL;
	}
	if (err == ESPIMG_ETOOBIG)
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "io.too_big", in->name, 0,
				0, -1,
				"cannot read: larger than %zu bytes (only regular "
				"files are read without this bound)", limit);
	else
		espimg_diag_add(diags, ESPIMG_SEV_ERROR, "io.read", in->name, 0, 0,
				-1, "cannot read: %s",
				strerror(err == ESPIMG_ENOTFOUND ? ENOENT
								 : saved_errno));
	return TOOL_EXIT_USAGE;
}

int tool_input_slurp(struct tool_input *in, size_t limit,
		     espimg_diag_list *diags)
{
	int r;

	if (in->fd >= 0) {
		close(in->fd);
		in->fd = -1;
	}
	r = espimg_read_file(in->path, limit, &in->mem, &in->mem_len);
	if (r)
		return tool_input_error(in, r, errno, limit, diags);
	espimg_source_mem(&in->src, in->mem, in->mem_len);
	return 0;
}

int tool_input_open(struct tool_input *in, const char *path,
		    espimg_diag_list *diags)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	in->path = path;
	in->name = tool_display_name(path);
	in->fd = -1;
	if (!strcmp(path, "-"))
		return tool_input_slurp(in, TOOL_INPUT_MEM_LIMIT, diags);
	in->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in->fd < 0)
		return tool_input_error(in, ESPIMG_EIO, errno, 0, diags);
	if (fstat(in->fd, &st))
		return tool_input_error(in, ESPIMG_EIO, errno, 0, diags);
	if (S_ISDIR(st.st_mode))
		return tool_input_error(in, ESPIMG_EIO, EISDIR, 0, diags);
	if (!S_ISREG(st.st_mode)) /* a pipe or device: no pread, no size */
		return tool_input_slurp(in, TOOL_INPUT_MEM_LIMIT, diags);
	in->src.read_at = fd_read_at;
	in->src.ctx = in;
	in->src.size = (uint64_t)st.st_size;
	return 0;
}

void tool_input_close(struct tool_input *in)
{
	if (in->fd >= 0)
		close(in->fd);
	free(in->mem);
	in->fd = -1;
	in->mem = NULL;
}

/* Creates the missing directories above path's last name, and that one
 * too when whole.  Returns 0, or -1 with errno set. */
static int make_dirs(const char *path, bool whole)
{
	char *copy = strdup(path);
	int r = 0;

	if (!copy)
		return -1;
	/* The first character is the root or part of the first name. */
	for (char *p = copy + (*copy != '\0'); !r; p++) {
		char c = *p;

		if (c == '/' || (!c && whole)) {
			*p = '\0';
			if (mkdir(copy, 0777) && errno != EEXIST)
				r = -1;
			*p = c;
		}
		if (!c)
			break;
	}
	free(copy);
	return r;
}

int tool_make_dirs(const char *dir)
{
	struct stat st;

	if (make_dirs(dir, true) || stat(dir, &st))
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int tool_write_output(const char *prog, const char *path, const void *data,
		      size_t len)
{
	if (!strcmp(path, "-")) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout)) {
			tool_error(prog, "standard output: error: %s",
				   strerror(errno));
			return TOOL_EXIT_USAGE;
		}
		return 0;
	}
	/* The reference makes the missing directories above its output. */
	if (make_dirs(path, false) ||
	    espimg_write_file_atomic(path, data, len, 0)) {
		tool_error(prog, "%s: error: cannot write: %s", path,
			   strerror(errno));
		return TOOL_EXIT_USAGE;
	}
	return 0;
}

int tool_file_write(void *ctx, const void *buf, size_t len)
{
	return fwrite(buf, 1, len, ctx) == len ? 0 : -1;
}

int tool_buf_write(void *ctx, const void *data, size_t len)
{
	struct tool_buf *b = ctx;

	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + len + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

/* ------------------------------------------------------------ documents */

espimg_emitter *tool_doc_begin(espimg_format format, const char *schema)
{
	espimg_emitter *e = espimg_emit_new(format, tool_file_write, stdout);

	if (e)
		espimg_emit_begin_doc(e, schema);
	return e;
}

int tool_doc_end(const char *prog, espimg_emitter *e)
{
	int r = espimg_emit_end_doc(e);

	espimg_emit_free(e);
	if (fflush(stdout))
		r = ESPIMG_EIO;
	if (r == ESPIMG_ENOMEM || r == ESPIMG_EINVAL) {
		tool_error(prog, "internal error: %s", espimg_strerror(r));
		return TOOL_EXIT_INTERNAL;
	}
	if (r) {
		tool_error(prog, "standard output: %s", espimg_strerror(r));
		return TOOL_EXIT_USAGE;
	}
	return 0;
}

void tool_kv_str_or_null(espimg_emitter *e, const char *key,
			 const char *v)
{
	espimg_emit_key(e, key);
	if (v)
		espimg_emit_str(e, v);
	else
		espimg_emit_null(e);
}

void tool_emit_diags(espimg_emitter *e, const espimg_diag_list *diags,
		     bool lines)
{
	espimg_emit_key(e, "diagnostics");
	espimg_emit_begin_list(e);
	for (size_t i = 0; i < espimg_diag_count(diags); i++) {
		const espimg_diag *d = espimg_diag_get(diags, i);

		espimg_emit_begin_map(e);
		espimg_emit_kv_str(e, "severity", espimg_severity_name(d->severity));
		espimg_emit_kv_str(e, "code", d->code);
		tool_kv_str_or_null(e, "file", d->file);
		espimg_emit_key(e, "offset");
		if (d->offset >= 0 && !(lines && d->line))
			espimg_emit_int(e, d->offset);
		else
			espimg_emit_null(e);
		if (lines) {
			espimg_emit_key(e, "line");
			if (d->line)
				espimg_emit_uint(e, d->line);
			else
				espimg_emit_null(e);
		}
		espimg_emit_kv_str(e, "message", d->message);
		espimg_emit_end_map(e);
	}
	espimg_emit_end_list(e);
}
