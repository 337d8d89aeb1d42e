/*
 * verify_emit.c - a verification report as the element of "files" in the
 * espimg.verify/1 document (JSON/YAML through emit.h), and as text lines
 * for people:
 *
 *   app.bin: PASS checksum: 0x5a matches the segment data [image.checksum]
 *   flash.bin: FAIL ota_0@0x10000 signature[0]: ... [sig.signature]
 *   app.bin: FAIL (2 checks failed)
 *
 * Digests are written whole in both forms.  Text from the input (file
 * names, partition names, messages quoting them) is escaped in the text
 * form so it cannot carry control characters or fake lines.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "espimg/verify.h"
#include "internal.h"

static const char *status_key(espimg_check_status s)
{
	switch (s) {
	case ESPIMG_CHECK_PASS:
		return "pass";
	case ESPIMG_CHECK_FAIL:
		return "fail";
	case ESPIMG_CHECK_WARN:
		return "warn";
	case ESPIMG_CHECK_INFO:
		return "info";
	}
	return "?";
}

static const char *report_status(const espimg_verify_report *r)
{
	return r->unreadable ? "unreadable" : r->ok ? "pass" : "fail";
}

static size_t nfailed(const espimg_verify_report *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nchecks; i++)
		if (r->checks[i].status == ESPIMG_CHECK_FAIL)
			n++;
	return n;
}

/* The name of the key that verified a check, or NULL. */
static const char *key_name(const espimg_check *c,
			    const char *const *key_names)
{
	return key_names && c->key_index >= 0 ? key_names[c->key_index] : NULL;
}

static bool is_sig(const espimg_check *c)
{
	return c->sig_block >= 0;
}

/* ------------------------------------------------------------ map */

static void emit_check(espimg_emitter *e, const espimg_check *c,
		       const char *const *key_names)
{
	char h[65];
	const char *kn;

	espimg_emit_begin_map(e);
	espimg_emit_kv_str(e, "status", status_key(c->status));
	espimg_emit_kv_str(e, "part", c->part);
	espimg_emit_kv_uint(e, "offset", c->offset);
	espimg_emit_kv_hex(e, "offset_hex", c->offset);
	espimg_emit_kv_str(e, "check", c->check);
	espimg_emit_kv_str(e, "code", c->code);
	espimg_emit_kv_str(e, "message", c->message);
	if (is_sig(c)) {
		bool v1 = c->sig_block == ESPIMG_CHECK_SIG_V1;

		espimg_emit_kv_str(e, "scheme", v1 ? "v1" : "v2");
		espimg_emit_key(e, "block");
		if (v1)
			espimg_emit_null(e);
		else
			espimg_emit_int(e, c->sig_block);
		espimg_emit_kv_str(e, "type", espimg_sig_type_name(c->sig_type));
		kn = key_name(c, key_names);
		espimg_emit_key(e, "key");
		if (kn)
			espimg_emit_str(e, kn);
		else
			espimg_emit_null(e);
		espimg_emit_key(e, "key_digest");
		if (c->has_key_digest) {
			espimg_hex(h, c->key_digest, 32);
			espimg_emit_str(e, h);
		} else {
			espimg_emit_null(e);
		}
	}
	espimg_emit_end_map(e);
}

int espimg_verify_emit(const espimg_verify_report *r, const char *file,
		       const char *const *key_names, espimg_emitter *e)
{
	int rc;

	if (!r || !e)
		return ESPIMG_EINVAL;
	espimg_emit_begin_map(e);
	espimg_emit_key(e, "file");
	if (file)
		espimg_emit_str(e, file);
	else
		espimg_emit_null(e);
	espimg_emit_kv_str(e, "type", espimg_content_name(r->type));
	espimg_emit_key(e, "chip");
	if (r->chip)
		espimg_emit_str(e, r->chip->key);
	else
		espimg_emit_null(e);
	espimg_emit_kv_bool(e, "ok", r->ok);
	espimg_emit_kv_str(e, "status", report_status(r));
	espimg_emit_key(e, "boot");
	if (r->boot[0])
		espimg_emit_str(e, r->boot);
	else
		espimg_emit_null(e);
	espimg_emit_kv_uint(e, "failed", nfailed(r));
	espimg_emit_key(e, "checks");
	espimg_emit_begin_list(e);
	for (size_t i = 0; i < r->nchecks; i++)
		emit_check(e, &r->checks[i], key_names);
	espimg_emit_end_list(e);
	rc = espimg_emit_end_map(e);
	return rc;
}

/* ------------------------------------------------------------ text */

static void put_line(espimg_buf *b, const espimg_check *c, const char *file,
		     const char *const *key_names)
{
	const char *kn = key_name(c, key_names);

	espimg_buf_escaped(b, file, strlen(file));
	espimg_buf_printf(b, ": %s ", espimg_check_status_name(c->status));
	if (c->part[0]) {
		espimg_buf_escaped(b, c->part, strlen(c->part));
		espimg_buf_printf(b, "@0x%" PRIx64 " ", c->offset);
	}
	espimg_buf_append(b, c->check, strlen(c->check));
	if (is_sig(c) && !strcmp(c->check, "signature")) {
		if (c->sig_block == ESPIMG_CHECK_SIG_V1)
			espimg_buf_append(b, "[v1]", 4);
		else
			espimg_buf_printf(b, "[%d]", c->sig_block);
	}
	espimg_buf_append(b, ": ", 2);
	espimg_buf_escaped(b, c->message, strlen(c->message));
	/* The key and the block's key digest, unless the message says them
	 * already. */
	if (is_sig(c)) {
		char h[65] = "";

		if (c->has_key_digest)
			espimg_hex(h, c->key_digest, 32);
		if (kn && strstr(c->message, kn))
			kn = NULL;
		if (h[0] && strstr(c->message, h))
			h[0] = '\0';
		if (kn || h[0]) {
			espimg_buf_append(b, " (", 2);
			if (kn) {
				espimg_buf_append(b, "key ", 4);
				espimg_buf_escaped(b, kn, strlen(kn));
			}
			if (h[0])
				espimg_buf_printf(b, "%sblock key digest %s",
						  kn ? "; " : "", h);
			espimg_buf_append(b, ")", 1);
		}
	}
	espimg_buf_printf(b, " [%s]\n", c->code);
}

int espimg_verify_text(const espimg_verify_report *r, const char *file,
		       const char *const *key_names, char **text, size_t *len)
{
	espimg_buf b = { 0 };
	size_t failed;

	if (text)
		*text = NULL;
	if (len)
		*len = 0;
	if (!r || !text)
		return ESPIMG_EINVAL;
	if (!file)
		file = "(unnamed)";
	for (size_t i = 0; i < r->nchecks; i++)
		put_line(&b, &r->checks[i], file, key_names);
	failed = nfailed(r);
	espimg_buf_escaped(&b, file, strlen(file));
	if (r->ok)
		espimg_buf_append(&b, ": PASS", 6);
	else if (r->unreadable)
		espimg_buf_append(&b, ": FAIL (unreadable)", 19);
	else
		espimg_buf_printf(&b, ": FAIL (%zu check%s failed)", failed,
				  failed == 1 ? "" : "s");
	if (r->boot[0]) {
		espimg_buf_append(&b, ", boots ", 8);
		espimg_buf_escaped(&b, r->boot, strlen(r->boot));
	}
	espimg_buf_append(&b, "\n", 1);
	*text = espimg_buf_finish(&b, len);
	return *text ? ESPIMG_OK : ESPIMG_ENOMEM;
}
