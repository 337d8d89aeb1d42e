/*
 * esp-verify - verify files as the device would: app and bootloader images
 * (structure, checksum, SHA-256, chip, descriptions), Secure Boot v2 and v1
 * signatures, binary partition tables, otadata and whole flash images.
 * All checks are the library's (include/espimg/verify.h); this file loads
 * the trusted keys once, verifies each FILE (in parallel with -j) and
 * prints the reports in input order.
 *
 * Regular files are read with pread() through an espimg_source
 * (tool_input_open), so the bytes are read once and memory stays flat.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "espimg/espimg.h"
#include "espimg/chip.h"
#include "espimg/flash.h"
#include "espimg/sigblock.h"
#include "espimg/verify.h"
#include "tool.h"

/* A PEM key file is a few KiB; anything this large is not one. */
#define KEY_FILE_LIMIT (1u << 20)
/* A --key-digest file: 32 raw bytes, or 64 hex digits and white space. */
#define DIGEST_FILE_LIMIT 1024u
/* -j beyond this buys nothing but threads. */
#define JOBS_MAX 256

enum {
	OPT_TYPE = 1, OPT_CHIP, OPT_KEY, OPT_KEY_DIGEST, OPT_SECURE_BOOT,
	OPT_REQUIRE, OPT_TABLE_OFFSET, OPT_JOBS,
};

static const struct tool_option options[] = {
	{ OPT_TYPE, 0, "type", TOOL_ARG, "TYPE",
	  "auto (default), image, partition-table, otadata, flash", NULL,
	  NULL },
	{ OPT_CHIP, 0, "chip", TOOL_ARG, "CHIP",
	  "images must be for this chip (esp32, ...)", NULL, NULL },
	{ OPT_KEY, 0, "key", TOOL_ARG, "FILE",
	  "trusted signing key, PEM (repeatable)", NULL, NULL },
	{ OPT_KEY_DIGEST, 0, "key-digest", TOOL_ARG, "HEX|FILE",
	  "trusted eFuse key digest (repeatable)", NULL, NULL },
	{ OPT_SECURE_BOOT, 0, "secure-boot", TOOL_ARG, "auto|v1|v2",
	  "signature scheme (default auto)", NULL, NULL },
	{ OPT_REQUIRE, 0, "require-signature", TOOL_NOARG, NULL,
	  "fail images that carry no signature", NULL, NULL },
	{ OPT_TABLE_OFFSET, 0, "table-offset", TOOL_ARG, "N",
	  "flash images: table offset (default 0x8000)", NULL, NULL },
	{ OPT_JOBS, 'j', "jobs", TOOL_ARG, "N",
	  "N files at a time (0: one per CPU)", NULL, NULL },
	TOOL_OPTION_FORMAT("text|json|yaml|jsonl",
			   "report format (default text)"),
	TOOL_OPTION_QUIET("text: no PASS or INFO lines"),
	TOOL_OPTIONS_END,
};

static const struct tool_spec spec = {
	"esp-verify",
	"FILE ...",
	"Verify ESP32-family files as the device would: app and bootloader\n"
	"images (structure, checksum, SHA-256, chip), Secure Boot v2 and v1\n"
	"signatures, partition tables, otadata and whole flash images.  FILE\n"
	"may be '-' for standard input.",
	options,
	"Exit status: 0 every file passes, 1 a check failed, 2 usage error or\n"
	"a file cannot be read, 3 internal error.  See esp-verify(1).\n",
};

/* One FILE: its report once verified. */
struct job {
	const char *path;
	const char *name;              /* "<stdin>" for "-" */
	espimg_verify_report *report;  /* NULL until done, and after printing */
	bool own;                      /* report made here (input error) */
	int status;                    /* exit status of this file */
};

struct run {
	/* options */
	struct tool_common common; /* --format text|json|yaml, -q, -h, -V */
	bool jsonl;                /* --format jsonl */
	long jobs;
	const char **key_paths;
	size_t nkey_paths;
	uint8_t (*digests)[32];
	size_t ndigests;
	espimg_verify_opts opts;
	espimg_key **keys;

	/* the files; next and printed are guarded by lock */
	struct job *job;
	size_t njob;
	size_t next;                   /* next job to start */
	size_t printed;                /* jobs before this one are printed */
	bool *done;
	pthread_mutex_t lock;
	bool threaded;
	int out_status;                /* stdout failed: TOOL_EXIT_USAGE */
};

/* ------------------------------------------------------------ options */

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 64 hex digits (after trimming white space at both ends when
 * trim) into out. */
static bool parse_digest_hex(const char *s, size_t n, bool trim,
			     uint8_t out[32])
{
	while (trim && n && strchr(" \t\r\n", s[0])) {
		s++;
		n--;
	}
	while (trim && n && strchr(" \t\r\n", s[n - 1]))
		n--;
	if (n != 64)
		return false;
	for (size_t i = 0; i < 32; i++) {
		int hi = hex_digit((unsigned char)s[2 * i]);
		int lo = hex_digit((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* --key-digest: 64 hex digits, else a file holding the 32 raw bytes that
 * espsecure digest-sbv2-public-key writes (or the digits as text). */
static int add_digest(struct run *run, const char *value)
{
	uint8_t d[32], *buf = NULL, (*grown)[32];
	size_t len = 0;
	int r;

	if (!parse_digest_hex(value, strlen(value), false, d)) {
		size_t n = strspn(value, "0123456789abcdefABCDEF");

		if (!*value)
			return tool_usage_error(&spec, "--key-digest needs 64 hex "
						"digits or a file name");
		/* Hex digits of the wrong count, and no such file. */
		if (!value[n] && access(value, F_OK))
			return tool_usage_error(&spec, "key digest '%s' has %zu hex "
						"digits, not 64", value, n);
		r = tool_read_input(spec.name, value, DIGEST_FILE_LIMIT, &buf,
				    &len);
		if (r)
			return r;
		if (len == 32)
			memcpy(d, buf, 32);
		else if (!parse_digest_hex((const char *)buf, len, true, d)) {
			free(buf);
			tool_error(spec.name, "%s: error: not a key digest: %zu "
				   "bytes, neither 32 raw bytes nor 64 hex digits",
				   value, len);
			return TOOL_EXIT_USAGE;
		}
		free(buf);
	}
	grown = realloc(run->digests, (run->ndigests + 1) * sizeof(*grown));
	if (!grown)
		return tool_nomem(spec.name);
	run->digests = grown;
	memcpy(run->digests[run->ndigests++], d, 32);
	return 0;
}

static int on_option(void *ctx, const struct tool_option *opt,
		     const char *value)
{
	struct run *run = ctx;
	const char **paths;
	espimg_content type;
	int64_t v;
	char *end;

	switch (opt->id) {
	case OPT_TYPE:
		if (!strcmp(value, "auto")) {
			run->opts.type = ESPIMG_CONTENT_UNKNOWN;
			return 0;
		}
		if (espimg_content_parse(value, &type) ||
		    type == ESPIMG_CONTENT_UNKNOWN)
			return tool_usage_error(&spec, "type '%s' is not auto, "
						"image, partition-table, otadata "
						"or flash", value);
		run->opts.type = type;
		return 0;
	case OPT_CHIP:
		return tool_parse_chip(&spec, value, &run->opts.chip);
	case OPT_KEY:
		if (!*value)
			return tool_usage_error(&spec, "--key needs a file name");
		paths = realloc(run->key_paths,
				(run->nkey_paths + 1) * sizeof(*paths));
		if (!paths)
			return tool_nomem(spec.name);
		run->key_paths = paths;
		run->key_paths[run->nkey_paths++] = value;
		return 0;
	case OPT_KEY_DIGEST:
		return add_digest(run, value);
	case OPT_SECURE_BOOT:
		if (!strcmp(value, "auto"))
			run->opts.secure_boot = ESPIMG_SECURE_BOOT_AUTO;
		else if (!strcmp(value, "v1") || !strcmp(value, "1"))
			run->opts.secure_boot = ESPIMG_SECURE_BOOT_V1;
		else if (!strcmp(value, "v2") || !strcmp(value, "2"))
			run->opts.secure_boot = ESPIMG_SECURE_BOOT_V2;
		else
			return tool_usage_error(&spec, "secure boot '%s' is not "
						"auto, v1 or v2", value);
		return 0;
	case OPT_REQUIRE:
		run->opts.require_signature = true;
		return 0;
	case OPT_TABLE_OFFSET:
		/* ESP-IDF requires a 4 KiB aligned table below the first app
		 * (gen_esp32part.py, CONFIG_PARTITION_TABLE_OFFSET). */
		if (espimg_ptable_parse_int(value, &v) || v <= 0 ||
		    v > 0xFFFFF000 || (v & 0xFFF))
			return tool_usage_error(&spec, "table offset '%s' is not a "
						"positive multiple of 0x1000 below "
						"4 GiB", value);
		run->opts.table_offset = (uint32_t)v;
		return 0;
	case OPT_JOBS:
		errno = 0;
		run->jobs = strtol(value, &end, 10);
		if (end == value || *end || errno || run->jobs < 0 ||
		    run->jobs > JOBS_MAX)
			return tool_usage_error(&spec, "jobs '%s' is not a number "
						"from 0 to %d", value, JOBS_MAX);
		return 0;
	case TOOL_OPT_FORMAT:
		run->jsonl = !strcmp(value, "jsonl");
		if (run->jsonl)
			return 0;
		break;
	}
	return tool_common_option(&spec, &run->common, opt, value);
}

/* Loads every --key once; they are shared read-only by the workers. */
static int load_keys(struct run *run)
{
	espimg_diag_list *diags;
	int status = 0;

	if (!run->nkey_paths)
		return 0;
	run->keys = calloc(run->nkey_paths, sizeof(*run->keys));
	diags = espimg_diag_list_new();
	if (!run->keys || !diags) {
		espimg_diag_list_free(diags);
		return tool_nomem(spec.name);
	}
	for (size_t i = 0; i < run->nkey_paths && !status; i++) {
		const char *path = run->key_paths[i];
		uint8_t *buf = NULL;
		size_t len = 0;
		int r;

		status = tool_read_input(spec.name, path, KEY_FILE_LIMIT, &buf,
					 &len);
		if (status)
			break;
		r = espimg_key_load(buf, len, tool_display_name(path),
				    &run->keys[i], diags);
		/* Key bytes may be private: wipe them before freeing. */
		OPENSSL_cleanse(buf, len);
		free(buf);
		if (r) {
			if (!espimg_diag_errors(diags))
				tool_error(spec.name, "%s: error: cannot load key: %s",
					   tool_display_name(path),
					   espimg_strerror(r));
			status = r == ESPIMG_ENOMEM ? TOOL_EXIT_INTERNAL
						    : TOOL_EXIT_USAGE;
		}
	}
	tool_print_diags(spec.name, diags, false);
	espimg_diag_list_free(diags);
	return status;
}

/* ------------------------------------------------------------ verifying */

/* A report for a FILE that could not be opened or read whole (the
 * library never saw it), or that the library could not report on (out of
 * memory): one FAIL "read" check with the reason. */
static espimg_verify_report *input_report(const char *code,
					   const char *message)
{
	espimg_verify_report *r = calloc(1, sizeof(*r));
	espimg_check *c;

	if (!r)
		return NULL;
	r->checks = calloc(1, sizeof(*r->checks));
	if (!r->checks) {
		free(r);
		return NULL;
	}
	r->type = ESPIMG_CONTENT_UNKNOWN;
	r->unreadable = !strncmp(code, "io.", 3);
	r->nchecks = 1;
	c = &r->checks[0];
	c->status = ESPIMG_CHECK_FAIL;
	snprintf(c->check, sizeof(c->check), "read");
	snprintf(c->code, sizeof(c->code), "%s", code);
	snprintf(c->message, sizeof(c->message), "%s", message);
	c->sig_block = -1;
	c->key_index = -1;
	c->key_digest_index = -1;
	return r;
}

static void report_free(espimg_verify_report *r, bool own)
{
	if (!own) {
		espimg_verify_report_free(r);
	} else if (r) {
		free(r->checks);
		free(r);
	}
}

/* A job that failed before or inside the library: a report made here
 * (NULL when even that fails: the job is then left out of the output). */
static void job_failed(struct job *job, int status, const char *code,
		       const char *message)
{
	job->report = input_report(code, message);
	job->own = true;
	job->status = job->report ? status : TOOL_EXIT_INTERNAL;
}

/* Verifies one FILE into job->report; diags is the worker's scratch
 * list for input errors (NULL when it could not be made). */
static void verify_one(const struct run *run, struct job *job,
		       espimg_diag_list *diags)
{
	struct tool_input in;
	espimg_verify_opts opts = run->opts;
	int r;

	if (!diags) {
		job_failed(job, TOOL_EXIT_INTERNAL, "io.nomem", "out of memory");
		return;
	}
	espimg_diag_clear(diags);
	r = tool_input_open(&in, job->path, diags);
	if (r) {
		const espimg_diag *d = espimg_diag_count(diags)
					       ? espimg_diag_get(diags, 0)
					       : NULL;

		job_failed(job, r, d ? d->code : "io.read",
			   d ? d->message : "cannot read");
		tool_input_close(&in);
		return;
	}
	opts.file = in.name;
	r = espimg_verify(&in.src, &opts, &job->report);
	tool_input_close(&in);
	if (r == ESPIMG_ENOMEM || r == ESPIMG_EINVAL || !job->report) {
		espimg_verify_report_free(job->report);
		job_failed(job, TOOL_EXIT_INTERNAL, "internal",
			   espimg_strerror(r ? r : ESPIMG_ENOMEM));
		return;
	}
	job->status = job->report->unreadable ? TOOL_EXIT_USAGE
		      : job->report->ok       ? TOOL_EXIT_OK
					      : TOOL_EXIT_INVALID;
}

/* ------------------------------------------------------------ output */

/* Removes the white space between JSON tokens in place (our emitter
 * escapes every control character inside strings, so a blank outside a
 * string is layout). */
static void json_compact(struct tool_buf *b)
{
	bool in_str = false, esc = false;
	size_t o = 0;

	for (size_t i = 0; i < b->len; i++) {
		char c = b->p[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
			continue;
		}
		b->p[o++] = c;
	}
	b->len = o;
	if (b->p)
		b->p[o] = '\0';
}

static void out_write(struct run *run, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, stdout) != n)
		run->out_status = TOOL_EXIT_USAGE;
}

/* json or yaml: one document, printed once every file is verified. */
static bool structured(const struct run *run)
{
	return !run->jsonl && run->common.format != ESPIMG_FORMAT_TEXT;
}

static const char *const *key_names(const struct run *run)
{
	return run->nkey_paths ? run->key_paths : NULL;
}

/* The checks -q keeps: no PASS or INFO lines, so failures and warnings. */
static bool quiet_keeps(const espimg_check *c)
{
	return c->status == ESPIMG_CHECK_FAIL || c->status == ESPIMG_CHECK_WARN;
}

/* Text: the report's lines.  With -q only the failed checks and warnings,
 * and the summary line only for a file that failed. */
static int print_text(struct run *run, const struct job *job)
{
	const espimg_verify_report *r = job->report;
	espimg_verify_report shown = *r;
	espimg_check *kept = NULL;
	char *text = NULL;
	size_t len = 0;
	int e;

	if (run->common.quiet) {
		kept = malloc((r->nchecks ? r->nchecks : 1) * sizeof(*kept));
		if (!kept)
			return TOOL_EXIT_INTERNAL;
		shown.nchecks = 0;
		for (size_t i = 0; i < r->nchecks; i++)
			if (quiet_keeps(&r->checks[i]))
				kept[shown.nchecks++] = r->checks[i];
		shown.checks = kept;
		if (job->status == TOOL_EXIT_OK && !shown.nchecks) {
			free(kept);
			return 0;
		}
	}
	e = espimg_verify_text(&shown, job->name, key_names(run), &text, &len);
	free(kept);
	if (e) {
		free(text);
		return TOOL_EXIT_INTERNAL;
	}
	/* The text ends with the file's summary line; a passing file's is a
	 * PASS line, which -q leaves out. */
	if (run->common.quiet && job->status == TOOL_EXIT_OK && len) {
		len--;
		while (len && text[len - 1] != '\n')
			len--;
	}
	out_write(run, text, len);
	free(text);
	return 0;
}

/* jsonl: the file's map as one compact line, "schema" first. */
static int print_jsonl(struct run *run, const struct job *job)
{
	static const char head[] = "{\"schema\":\"espimg.verify/1\",\"f\":{";
	struct tool_buf b = { NULL, 0, 0 };
	espimg_emitter *e = espimg_emit_new(ESPIMG_FORMAT_JSON, tool_buf_write,
					    &b);
	int r;

	if (!e)
		return TOOL_EXIT_INTERNAL;
	/* The report is a map value; wrapped under a key for the emitter,
	 * then its keys are spliced in after "schema". */
	espimg_emit_begin_doc(e, "espimg.verify/1");
	espimg_emit_key(e, "f");
	espimg_verify_emit(job->report, job->name, key_names(run), e);
	r = espimg_emit_end_doc(e);
	espimg_emit_free(e);
	if (!r)
		json_compact(&b);
	if (r || b.len < sizeof(head) + 1 ||
	    memcmp(b.p, head, sizeof(head) - 1) || b.p[b.len - 2] != '}' ||
	    b.p[b.len - 1] != '}') {
		free(b.p);
		return TOOL_EXIT_INTERNAL;
	}
	/* {"schema":"espimg.verify/1", then the report's keys and its } */
	out_write(run, head, sizeof(head) - 6);
	out_write(run, b.p + sizeof(head) - 1, b.len - sizeof(head));
	out_write(run, "\n", 1);
	free(b.p);
	return 0;
}

/* Prints job i (text, jsonl) and frees its report. */
static int print_job(struct run *run, struct job *job)
{
	int r;

	if (!job->report) {
		tool_error(spec.name, "%s: out of memory", job->name);
		return TOOL_EXIT_INTERNAL;
	}
	r = run->jsonl ? print_jsonl(run, job) : print_text(run, job);

	if (fflush(stdout))
		run->out_status = TOOL_EXIT_USAGE;
	if (r) {
		tool_error(spec.name, "%s: out of memory", job->name);
		job->status = TOOL_EXIT_INTERNAL;
	}
	report_free(job->report, job->own);
	job->report = NULL;
	return r;
}

/* Streaming formats: prints every finished job whose predecessors are
 * all printed.  Called with the lock held. */
static void print_ready(struct run *run)
{
	while (run->printed < run->njob && run->done[run->printed]) {
		print_job(run, &run->job[run->printed]);
		run->printed++;
	}
}

/* json/yaml: the one document, once every file is verified. */
static int print_document(struct run *run)
{
	espimg_emitter *e = tool_doc_begin(run->common.format,
					   "espimg.verify/1");
	bool ok = true;
	int r;

	if (!e)
		return tool_nomem(spec.name);
	for (size_t i = 0; i < run->njob; i++)
		if (run->job[i].status)
			ok = false;
	espimg_emit_kv_bool(e, "ok", ok);
	espimg_emit_key(e, "files");
	espimg_emit_begin_list(e);
	for (size_t i = 0; i < run->njob; i++) {
		if (run->job[i].report)
			espimg_verify_emit(run->job[i].report, run->job[i].name,
					   key_names(run), e);
		else
			tool_error(spec.name, "%s: out of memory", run->job[i].name);
	}
	espimg_emit_end_list(e);
	r = espimg_emit_end_doc(e);
	espimg_emit_free(e);
	if (r == ESPIMG_EIO)
		run->out_status = TOOL_EXIT_USAGE;
	else if (r) {
		tool_error(spec.name, "output: %s", espimg_strerror(r));
		return TOOL_EXIT_INTERNAL;
	}
	return 0;
}

/* ------------------------------------------------------------ workers */

/* Takes the next file until none is left. */
static void *worker(void *arg)
{
	struct run *run = arg;
	espimg_diag_list *diags = espimg_diag_list_new();
	bool stream = !structured(run);

	for (;;) {
		size_t i;

		if (run->threaded)
			pthread_mutex_lock(&run->lock);
		i = run->next < run->njob ? run->next++ : run->njob;
		if (run->threaded)
			pthread_mutex_unlock(&run->lock);
		if (i == run->njob)
			break;
		verify_one(run, &run->job[i], diags);
		if (run->threaded)
			pthread_mutex_lock(&run->lock);
		run->done[i] = true;
		if (stream)
			print_ready(run);
		if (run->threaded)
			pthread_mutex_unlock(&run->lock);
	}
	espimg_diag_list_free(diags);
	return NULL;
}

static long online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > JOBS_MAX ? JOBS_MAX : n;
}

/* Runs the workers: the main thread and jobs - 1 more. */
static void verify_all(struct run *run)
{
	size_t want = run->jobs == 0 ? (size_t)online_cpus() : (size_t)run->jobs;
	pthread_t *tid = NULL;
	size_t started = 0;

	if (want > run->njob)
		want = run->njob;
	if (want > 1 && !pthread_mutex_init(&run->lock, NULL)) {
		tid = calloc(want - 1, sizeof(*tid));
		run->threaded = tid != NULL;
		/* A thread that cannot be started leaves its share to the
		 * others. */
		for (size_t t = 0; tid && t < want - 1; t++) {
			if (pthread_create(&tid[t], NULL, worker, run))
				break;
			started++;
		}
	}
	worker(run);
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	if (run->threaded)
		pthread_mutex_destroy(&run->lock);
	free(tid);
}

int main(int argc, char **argv)
{
	struct run run = { 0 };
	char **pos = calloc((size_t)argc + 1, sizeof(*pos));
	int npos = 0, status = TOOL_EXIT_OK;

	run.jobs = 1;
	if (!pos)
		return tool_nomem(spec.name);
	/* Hashing and signature checks need no OpenSSL configuration;
	 * reading it costs a millisecond a run. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);

	status = tool_parse_args(&spec, argc, argv, on_option, &run, pos, &npos);
	if (status || tool_help_or_version(&spec, &run.common))
		goto done;
	if (npos < 1) {
		status = tool_usage_error(&spec, "no FILE given");
		goto done;
	}
	status = load_keys(&run);
	if (status)
		goto done;
	run.opts.keys = (const espimg_key *const *)run.keys;
	run.opts.nkeys = run.nkey_paths;
	run.opts.key_digests = (const uint8_t(*)[32])run.digests;
	run.opts.nkey_digests = run.ndigests;

	run.njob = (size_t)npos;
	run.job = calloc(run.njob, sizeof(*run.job));
	run.done = calloc(run.njob, sizeof(*run.done));
	if (!run.job || !run.done) {
		status = tool_nomem(spec.name);
		goto done;
	}
	for (size_t i = 0; i < run.njob; i++) {
		run.job[i].path = pos[i];
		run.job[i].name = tool_display_name(pos[i]);
	}

	verify_all(&run);
	if (structured(&run))
		status = print_document(&run);
	for (size_t i = 0; i < run.njob; i++)
		status = tool_worst(status, run.job[i].status);
	if (fflush(stdout) || ferror(stdout) || run.out_status) {
		tool_error(spec.name, "standard output: error: %s",
			   strerror(errno ? errno : EIO));
		status = tool_worst(status, TOOL_EXIT_USAGE);
	}

done:
	if (run.job) {
		for (size_t i = 0; i < run.njob; i++)
			report_free(run.job[i].report, run.job[i].own);
	}
	for (size_t i = 0; run.keys && i < run.nkey_paths; i++)
		espimg_key_free(run.keys[i]);
	free(run.keys);
	free(run.key_paths);
	free(run.digests);
	free(run.job);
	free(run.done);
	free(pos);
	return status;
}
