/*
 * test_diag.c - the diagnostics list, plus the small core pieces it sits
 * on: version and error strings, and the internal growable buffer.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "espimg/espimg.h"
#include "fixtures.h"
#include "internal.h"

Test(diag, new_is_empty_and_free_null_is_noop)
{
	espimg_diag_list *l = espimg_diag_list_new();

	cr_assert_not_null(l);
	cr_assert_eq(espimg_diag_count(l), 0);
	cr_assert_eq(espimg_diag_errors(l), 0);
	cr_assert_null(espimg_diag_get(l, 0));
	espimg_diag_list_free(l);
	espimg_diag_list_free(NULL);
}

Test(diag, null_list_is_accepted)
{
	cr_assert_eq(espimg_diag_add(NULL, ESPIMG_SEV_ERROR, "x.y", "f", 1, 2,
				     3, "msg %d", 1),
		     0);
	cr_assert_eq(espimg_diag_count(NULL), 0);
	cr_assert_eq(espimg_diag_errors(NULL), 0);
	cr_assert_null(espimg_diag_get(NULL, 0));
	espimg_diag_clear(NULL);
}

Test(diag, add_stores_every_field)
{
	static const char code[] = "ptable.overlap";
	espimg_diag_list *l = espimg_diag_list_new();
	char file[] = "partitions.csv";
	const espimg_diag *d;

	cr_assert_eq(espimg_diag_add(l, ESPIMG_SEV_ERROR, code, file, 12, 7,
				     345, "%s overlaps %s at 0x%x", "nvs",
				     "phy_init", 0x9000u),
		     0);
	/* The list keeps its own copy of the file name. */
	memset(file, 'X', sizeof(file) - 1);

	cr_assert_eq(espimg_diag_count(l), 1);
	d = espimg_diag_get(l, 0);
	cr_assert_not_null(d);
	cr_assert_eq(d->severity, ESPIMG_SEV_ERROR);
	cr_assert_eq(d->code, code, "code is kept by pointer");
	cr_assert_str_eq(d->file, "partitions.csv");
	cr_assert_eq(d->line, 12);
	cr_assert_eq(d->column, 7);
	cr_assert_eq(d->offset, 345);
	cr_assert_str_eq(d->message, "nvs overlaps phy_init at 0x9000");
	cr_assert_null(espimg_diag_get(l, 1));
	espimg_diag_list_free(l);
}

Test(diag, file_may_be_null_and_offset_negative)
{
	espimg_diag_list *l = espimg_diag_list_new();
	const espimg_diag *d;

	cr_assert_eq(espimg_diag_add(l, ESPIMG_SEV_NOTE, "image.note", NULL, 0,
				     0, -1, "plain"),
		     0);
	d = espimg_diag_get(l, 0);
	cr_assert_null(d->file);
	cr_assert_eq(d->line, 0);
	cr_assert_eq(d->column, 0);
	cr_assert_eq(d->offset, -1);
	cr_assert_str_eq(d->message, "plain");
	espimg_diag_list_free(l);
}

Test(diag, long_message_is_not_truncated)
{
	espimg_diag_list *l = espimg_diag_list_new();
	size_t n = 5000;
	char *s = malloc(n + 1), *want = malloc(n + 32);

	memset(s, 'm', n);
	s[n] = '\0';
	snprintf(want, n + 32, "[%s] %d", s, 42);
	cr_assert_eq(espimg_diag_add(l, ESPIMG_SEV_WARNING, "x.long", "f", 1,
				     1, 0, "[%s] %d", s, 42),
		     0);
	cr_assert_eq(strlen(espimg_diag_get(l, 0)->message), n + 5);
	cr_assert_str_eq(espimg_diag_get(l, 0)->message, want);
	espimg_diag_list_free(l);
	free(s);
	free(want);
}

Test(diag, counts_errors_and_keeps_order)
{
	espimg_diag_list *l = espimg_diag_list_new();
	unsigned i;

	for (i = 0; i < 1000; i++)
		cr_assert_eq(espimg_diag_add(l, (espimg_severity)(i % 3),
					     "x.many", "f", i + 1, 1, i,
					     "entry %u", i),
			     0);
	cr_assert_eq(espimg_diag_count(l), 1000);
	cr_assert_eq(espimg_diag_errors(l), 333); /* i % 3 == 2 */
	for (i = 0; i < 1000; i += 111) {
		char want[32];

		snprintf(want, sizeof(want), "entry %u", i);
		cr_assert_str_eq(espimg_diag_get(l, i)->message, want);
		cr_assert_eq(espimg_diag_get(l, i)->line, i + 1);
		cr_assert_eq(espimg_diag_get(l, i)->severity,
			     (espimg_severity)(i % 3));
	}
	espimg_diag_list_free(l);
}

Test(diag, clear_empties_and_list_stays_usable)
{
	espimg_diag_list *l = espimg_diag_list_new();

	espimg_diag_add(l, ESPIMG_SEV_ERROR, "a.b", "f", 1, 1, 0, "one");
	espimg_diag_add(l, ESPIMG_SEV_WARNING, "a.c", "f", 2, 1, 0, "two");
	espimg_diag_clear(l);
	cr_assert_eq(espimg_diag_count(l), 0);
	cr_assert_eq(espimg_diag_errors(l), 0);
	cr_assert_null(espimg_diag_get(l, 0));
	cr_assert_eq(espimg_diag_add(l, ESPIMG_SEV_ERROR, "a.d", "g", 3, 4, 5,
				     "three"),
		     0);
	cr_assert_eq(espimg_diag_count(l), 1);
	cr_assert_eq(espimg_diag_errors(l), 1);
	cr_assert_str_eq(espimg_diag_get(l, 0)->message, "three");
	cr_assert_str_eq(espimg_diag_get(l, 0)->file, "g");
	espimg_diag_list_free(l);
}

Test(diag, rejects_bad_arguments)
{
	espimg_diag_list *l = espimg_diag_list_new();

	cr_assert_eq(espimg_diag_add(l, ESPIMG_SEV_ERROR, NULL, "f", 1, 1, 0,
				     "m"),
		     ESPIMG_EINVAL);
	cr_assert_eq(espimg_diag_add(l, (espimg_severity)3, "a.b", "f", 1, 1,
				     0, "m"),
		     ESPIMG_EINVAL);
	cr_assert_eq(espimg_diag_add(l, (espimg_severity)-1, "a.b", "f", 1, 1,
				     0, "m"),
		     ESPIMG_EINVAL);
	cr_assert_eq(espimg_diag_count(l), 0);
	espimg_diag_list_free(l);
}

Test(diag, severity_names)
{
	cr_assert_str_eq(espimg_severity_name(ESPIMG_SEV_NOTE), "note");
	cr_assert_str_eq(espimg_severity_name(ESPIMG_SEV_WARNING), "warning");
	cr_assert_str_eq(espimg_severity_name(ESPIMG_SEV_ERROR), "error");
	cr_assert_str_eq(espimg_severity_name((espimg_severity)9), "unknown");
}

/* ------------------------------------------------------------ core */

Test(core, version)
{
	cr_assert_str_eq(espimg_version(), ESPIMG_VERSION_STRING);
	cr_assert_str_eq(espimg_version(), "0.1.0");
}

Test(core, strerror_covers_every_code)
{
	static const struct {
		int code;
		const char *text;
	} t[] = {
		{ ESPIMG_OK, "success" },
		{ ESPIMG_EINVAL, "invalid argument" },
		{ ESPIMG_ENOMEM, "out of memory" },
		{ ESPIMG_EIO, "input/output error" },
		{ ESPIMG_EFORMAT, "invalid input format" },
		{ ESPIMG_ETOOBIG, "input or result too big" },
		{ ESPIMG_ENOTFOUND, "not found" },
		{ ESPIMG_EUNSUPPORTED, "not supported" },
		{ -8, "unknown error" },
		{ 1, "unknown error" },
		{ INT32_MIN, "unknown error" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_assert_str_eq(espimg_strerror(t[i].code), t[i].text,
				 "code %d", t[i].code);
}

/* ------------------------------------------------------------ buf */

Test(buf, append_printf_finish)
{
	espimg_buf b = { 0 };
	char *s;
	size_t len = 99;

	espimg_buf_append(&b, "ab", 2);
	espimg_buf_append(&b, NULL, 0);
	espimg_buf_printf(&b, "-%d-%s", 42, "x");
	s = espimg_buf_finish(&b, &len);
	cr_assert_str_eq(s, "ab-42-x");
	cr_assert_eq(len, 7);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	free(s);
}

Test(buf, empty_finish_is_empty_string)
{
	espimg_buf b = { 0 };
	size_t len = 99;
	char *s = espimg_buf_finish(&b, &len);

	cr_assert_not_null(s);
	cr_assert_str_eq(s, "");
	cr_assert_eq(len, 0);
	free(s);
}

Test(buf, grows_for_long_printf_and_many_appends)
{
	espimg_buf b = { 0 };
	char big[3000];
	size_t i, len;
	char *s;

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	espimg_buf_printf(&b, "<%s>", big);
	for (i = 0; i < 10000; i++)
		espimg_buf_append(&b, "z", 1);
	cr_assert_eq(b.failed, 0);
	s = espimg_buf_finish(&b, &len);
	cr_assert_eq(len, sizeof(big) + 1 + 10000);
	cr_assert_eq(s[0], '<');
	cr_assert_eq(s[sizeof(big)], '>');
	cr_assert_eq(s[len - 1], 'z');
	cr_assert_eq(s[len], '\0');
	free(s);
}

Test(buf, failed_buffer_finishes_as_null)
{
	espimg_buf b = { 0 };
	size_t len = 5;

	espimg_buf_append(&b, "abc", 3);
	b.failed = 1; /* as after an allocation failure */
	espimg_buf_append(&b, "def", 3);
	espimg_buf_printf(&b, "%d", 1);
	cr_assert_eq(b.len, 3);
	cr_assert_null(espimg_buf_finish(&b, &len));
	cr_assert_null(b.data);
	espimg_buf_free(&b);
}

Test(buf, oversized_append_fails_cleanly)
{
	espimg_buf b = { 0 };

	espimg_buf_append(&b, "abc", 3);
	espimg_buf_append(&b, "x", SIZE_MAX - 1);
	cr_assert_eq(b.failed, 1);
	cr_assert_eq(b.len, 3);
	espimg_buf_free(&b);
	cr_assert_eq(b.failed, 0);
}
