/*
 * test_emit.c - the structured-output emitter: layout of each back end,
 * escaping, YAML quoting, structure checks and sticky errors.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "espimg/espimg.h"
#include "fixtures.h"

#define OK(x) cr_assert_eq((x), 0, "%s failed", #x)

typedef void (*build_fn)(espimg_emitter *e);

/* Renders a document built by fn; returns the output (free it). */
static char *render(espimg_format fmt, build_fn fn)
{
	struct fx_sink s = { 0 };
	espimg_emitter *e = espimg_emit_new(fmt, fx_sink_write, &s);
	char *out;

	cr_assert_not_null(e);
	OK(espimg_emit_begin_doc(e, "espimg.test/1"));
	fn(e);
	OK(espimg_emit_end_doc(e));
	espimg_emit_free(e);
	out = strdup(fx_sink_str(&s));
	fx_sink_free(&s);
	cr_assert_not_null(out);
	return out;
}

static void expect(espimg_format fmt, build_fn fn, const char *want)
{
	char *got = render(fmt, fn);

	cr_assert_str_eq(got, want);
	free(got);
}

/* A document with every kind of value and container. */
static void build_full(espimg_emitter *e)
{
	OK(espimg_emit_kv_str(e, "name", "nvs"));
	OK(espimg_emit_kv_uint(e, "offset", 36864));
	OK(espimg_emit_kv_hex(e, "offset_hex", 0x9000));
	OK(espimg_emit_kv_int(e, "min", INT64_MIN));
	OK(espimg_emit_kv_uint(e, "max", UINT64_MAX));
	OK(espimg_emit_kv_bool(e, "encrypted", false));
	OK(espimg_emit_kv_bool(e, "valid", true));
	OK(espimg_emit_key(e, "label"));
	OK(espimg_emit_null(e));
	OK(espimg_emit_key(e, "chip"));
	OK(espimg_emit_begin_map(e));
	OK(espimg_emit_kv_str(e, "id", "esp32c3"));
	OK(espimg_emit_key(e, "flash"));
	OK(espimg_emit_begin_map(e));
	OK(espimg_emit_kv_str(e, "size", "4MB"));
	OK(espimg_emit_end_map(e));
	OK(espimg_emit_end_map(e));
	OK(espimg_emit_key(e, "parts"));
	OK(espimg_emit_begin_list(e));
	OK(espimg_emit_begin_map(e));
	OK(espimg_emit_kv_str(e, "name", "factory"));
	OK(espimg_emit_kv_int(e, "size", 1024));
	OK(espimg_emit_end_map(e));
	OK(espimg_emit_begin_map(e));
	OK(espimg_emit_kv_str(e, "name", "ota_0"));
	OK(espimg_emit_end_map(e));
	OK(espimg_emit_end_list(e));
	OK(espimg_emit_key(e, "matrix"));
	OK(espimg_emit_begin_list(e));
	OK(espimg_emit_begin_list(e));
	OK(espimg_emit_int(e, 1));
	OK(espimg_emit_int(e, 2));
	OK(espimg_emit_end_list(e));
	OK(espimg_emit_str(e, "x"));
	OK(espimg_emit_begin_list(e));
	OK(espimg_emit_end_list(e));
	OK(espimg_emit_begin_map(e));
	OK(espimg_emit_end_map(e));
	OK(espimg_emit_end_list(e));
	OK(espimg_emit_key(e, "none"));
	OK(espimg_emit_begin_list(e));
	OK(espimg_emit_end_list(e));
	OK(espimg_emit_key(e, "nomap"));
	OK(espimg_emit_begin_map(e));
	OK(espimg_emit_end_map(e));
}

Test(emit, format_parse)
{
	espimg_format f = (espimg_format)99;

	OK(espimg_format_parse("text", &f));
	cr_assert_eq(f, ESPIMG_FORMAT_TEXT);
	OK(espimg_format_parse("json", &f));
	cr_assert_eq(f, ESPIMG_FORMAT_JSON);
	OK(espimg_format_parse("yaml", &f));
	cr_assert_eq(f, ESPIMG_FORMAT_YAML);
	cr_assert_eq(espimg_format_parse("JSON", &f), ESPIMG_EINVAL);
	cr_assert_eq(espimg_format_parse("yml", &f), ESPIMG_EINVAL);
	cr_assert_eq(espimg_format_parse("json ", &f), ESPIMG_EINVAL);
	cr_assert_eq(espimg_format_parse("", &f), ESPIMG_EINVAL);
	cr_assert_eq(espimg_format_parse("esptool", &f), ESPIMG_EINVAL);
	cr_assert_eq(espimg_format_parse(NULL, &f), ESPIMG_EINVAL);
	cr_assert_eq(espimg_format_parse("json", NULL), ESPIMG_EINVAL);
	cr_assert_eq(f, ESPIMG_FORMAT_YAML);
}

Test(emit, new_rejects_bad_arguments)
{
	struct fx_sink s = { 0 };

	cr_assert_null(espimg_emit_new(ESPIMG_FORMAT_JSON, NULL, &s));
	cr_assert_null(espimg_emit_new((espimg_format)3, fx_sink_write, &s));
	cr_assert_null(espimg_emit_new((espimg_format)-1, fx_sink_write, &s));
	espimg_emit_free(NULL);
}

Test(emit, json_full_document)
{
	expect(ESPIMG_FORMAT_JSON, build_full,
	       "{\n"
	       "  \"schema\": \"espimg.test/1\",\n"
	       "  \"name\": \"nvs\",\n"
	       "  \"offset\": 36864,\n"
	       "  \"offset_hex\": \"0x9000\",\n"
	       "  \"min\": -9223372036854775808,\n"
	       "  \"max\": 18446744073709551615,\n"
	       "  \"encrypted\": false,\n"
	       "  \"valid\": true,\n"
	       "  \"label\": null,\n"
	       "  \"chip\": {\n"
	       "    \"id\": \"esp32c3\",\n"
	       "    \"flash\": {\n"
	       "      \"size\": \"4MB\"\n"
	       "    }\n"
	       "  },\n"
	       "  \"parts\": [\n"
	       "    {\n"
	       "      \"name\": \"factory\",\n"
	       "      \"size\": 1024\n"
	       "    },\n"
	       "    {\n"
	       "      \"name\": \"ota_0\"\n"
	       "    }\n"
	       "  ],\n"
	       "  \"matrix\": [\n"
	       "    [\n"
	       "      1,\n"
	       "      2\n"
	       "    ],\n"
	       "    \"x\",\n"
	       "    [],\n"
	       "    {}\n"
	       "  ],\n"
	       "  \"none\": [],\n"
	       "  \"nomap\": {}\n"
	       "}\n");
}

Test(emit, yaml_full_document)
{
	expect(ESPIMG_FORMAT_YAML, build_full,
	       "schema: espimg.test/1\n"
	       "name: nvs\n"
	       "offset: 36864\n"
	       "offset_hex: '0x9000'\n"
	       "min: -9223372036854775808\n"
	       "max: 18446744073709551615\n"
	       "encrypted: false\n"
	       "valid: true\n"
	       "label: null\n"
	       "chip:\n"
	       "  id: esp32c3\n"
	       "  flash:\n"
	       "    size: '4MB'\n"
	       "parts:\n"
	       "- name: factory\n"
	       "  size: 1024\n"
	       "- name: ota_0\n"
	       "matrix:\n"
	       "- - 1\n"
	       "  - 2\n"
	       "- x\n"
	       "- []\n"
	       "- {}\n"
	       "none: []\n"
	       "nomap: {}\n");
}

Test(emit, text_full_document)
{
	expect(ESPIMG_FORMAT_TEXT, build_full,
	       "name: nvs\n"
	       "offset: 36864\n"
	       "offset_hex: 0x9000\n"
	       "min: -9223372036854775808\n"
	       "max: 18446744073709551615\n"
	       "encrypted: no\n"
	       "valid: yes\n"
	       "label: -\n"
	       "chip:\n"
	       "  id: esp32c3\n"
	       "  flash:\n"
	       "    size: 4MB\n"
	       "parts:\n"
	       "  - name: factory\n"
	       "    size: 1024\n"
	       "  - name: ota_0\n"
	       "matrix:\n"
	       "  - - 1\n"
	       "    - 2\n"
	       "  - x\n"
	       "  - []\n"
	       "  - {}\n"
	       "none: []\n"
	       "nomap: {}\n");
}

static void build_empty(espimg_emitter *e)
{
	(void)e;
}

Test(emit, schema_only_documents)
{
	expect(ESPIMG_FORMAT_JSON, build_empty,
	       "{\n  \"schema\": \"espimg.test/1\"\n}\n");
	expect(ESPIMG_FORMAT_YAML, build_empty, "schema: espimg.test/1\n");
	expect(ESPIMG_FORMAT_TEXT, build_empty, "");
}

static void build_json_escapes(espimg_emitter *e)
{
	OK(espimg_emit_kv_str(e, "quote", "say \"hi\" \\ /"));
	OK(espimg_emit_kv_str(e, "ctl", "\b\f\n\r\t\x01\x1f\x7f"));
	OK(espimg_emit_key(e, "nul"));
	OK(espimg_emit_strn(e, "a\0b", 3));
	OK(espimg_emit_kv_str(e, "utf8", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
	OK(espimg_emit_kv_str(e, "k\"\n", "v"));
	OK(espimg_emit_key(e, "strn"));
	OK(espimg_emit_strn(e, "abcdef", 3));
}

Test(emit, json_escaping)
{
	expect(ESPIMG_FORMAT_JSON, build_json_escapes,
	       "{\n"
	       "  \"schema\": \"espimg.test/1\",\n"
	       "  \"quote\": \"say \\\"hi\\\" \\\\ /\",\n"
	       "  \"ctl\": \"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\",\n"
	       "  \"nul\": \"a\\u0000b\",\n"
	       "  \"utf8\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\n"
	       "  \"k\\\"\\n\": \"v\",\n"
	       "  \"strn\": \"abc\"\n"
	       "}\n");
}

#define FFFD "\xef\xbf\xbd"

static void build_bad_utf8(espimg_emitter *e)
{
	OK(espimg_emit_kv_str(e, "lone", "a\xff" "b\x80" "c"));
	OK(espimg_emit_kv_str(e, "overlong", "\xc0\xaf\xe0\x80\xaf"));
	OK(espimg_emit_kv_str(e, "truncated", "\xe2\x82x"));
	OK(espimg_emit_kv_str(e, "surrogate", "\xed\xa0\x80"));
	OK(espimg_emit_kv_str(e, "too_high", "\xf4\x90\x80\x80"));
	OK(espimg_emit_kv_str(e, "at_end", "ok\xf0\x9f\x98"));
	OK(espimg_emit_kv_str(e, "key\xfe", "v"));
}

Test(emit, json_invalid_utf8_becomes_replacement_char)
{
	expect(ESPIMG_FORMAT_JSON, build_bad_utf8,
	       "{\n"
	       "  \"schema\": \"espimg.test/1\",\n"
	       "  \"lone\": \"a" FFFD "b" FFFD "c\",\n"
	       "  \"overlong\": \"" FFFD FFFD FFFD FFFD FFFD "\",\n"
	       "  \"truncated\": \"" FFFD "x\",\n"
	       "  \"surrogate\": \"" FFFD FFFD FFFD "\",\n"
	       "  \"too_high\": \"" FFFD FFFD FFFD FFFD "\",\n"
	       "  \"at_end\": \"ok" FFFD "\",\n"
	       "  \"key" FFFD "\": \"v\"\n"
	       "}\n");
}

Test(emit, yaml_invalid_utf8_becomes_replacement_char)
{
	expect(ESPIMG_FORMAT_YAML, build_bad_utf8,
	       "schema: espimg.test/1\n"
	       "lone: a" FFFD "b" FFFD "c\n"
	       "overlong: " FFFD FFFD FFFD FFFD FFFD "\n"
	       "truncated: " FFFD "x\n"
	       "surrogate: " FFFD FFFD FFFD "\n"
	       "too_high: " FFFD FFFD FFFD FFFD "\n"
	       "at_end: ok" FFFD "\n"
	       "key" FFFD ": v\n");
}

static void build_yaml_ambiguous(espimg_emitter *e)
{
	static const char *const strs[] = {
		"true", "False", "yes", "No", "on", "OFF", "y", "n",
		"null", "Null", "~", "", "0x10", "123", "-1", "+5", "1.5",
		".5", "1e3", "0o17", "017", "1_000", "12:30", "2024-01-31",
		".inf", "-.Inf", ".NaN", "<<", "=",
	};
	size_t i;

	OK(espimg_emit_key(e, "quoted"));
	OK(espimg_emit_begin_list(e));
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		OK(espimg_emit_str(e, strs[i]));
	OK(espimg_emit_end_list(e));
	OK(espimg_emit_key(e, "plain"));
	OK(espimg_emit_begin_list(e));
	OK(espimg_emit_str(e, "hello world"));
	OK(espimg_emit_str(e, "ota_0"));
	OK(espimg_emit_str(e, "v5.1"));
	OK(espimg_emit_str(e, "truely"));
	OK(espimg_emit_str(e, "nvs-key"));
	OK(espimg_emit_str(e, "caf\xc3\xa9"));
	OK(espimg_emit_end_list(e));
	OK(espimg_emit_key(e, "typed"));
	OK(espimg_emit_begin_list(e));
	OK(espimg_emit_int(e, 123));
	OK(espimg_emit_int(e, -1));
	OK(espimg_emit_bool(e, true));
	OK(espimg_emit_null(e));
	OK(espimg_emit_str(e, NULL));
	OK(espimg_emit_end_list(e));
	OK(espimg_emit_key(e, "libyaml"));
	OK(espimg_emit_begin_list(e));
	OK(espimg_emit_str(e, "a: b"));
	OK(espimg_emit_str(e, "- x"));
	OK(espimg_emit_str(e, "#c"));
	OK(espimg_emit_str(e, " pad"));
	OK(espimg_emit_str(e, "it's"));
	OK(espimg_emit_str(e, "tab\there"));
	OK(espimg_emit_str(e, "bell\x07"));
	OK(espimg_emit_end_list(e));
	OK(espimg_emit_kv_int(e, "true", 1));
	OK(espimg_emit_kv_int(e, "null", 2));
	OK(espimg_emit_kv_int(e, "8", 3));
}

Test(emit, yaml_quotes_ambiguous_strings)
{
	expect(ESPIMG_FORMAT_YAML, build_yaml_ambiguous,
	       "schema: espimg.test/1\n"
	       "quoted:\n"
	       "- 'true'\n"
	       "- 'False'\n"
	       "- 'yes'\n"
	       "- 'No'\n"
	       "- 'on'\n"
	       "- 'OFF'\n"
	       "- 'y'\n"
	       "- 'n'\n"
	       "- 'null'\n"
	       "- 'Null'\n"
	       "- '~'\n"
	       "- ''\n"
	       "- '0x10'\n"
	       "- '123'\n"
	       "- '-1'\n"
	       "- '+5'\n"
	       "- '1.5'\n"
	       "- '.5'\n"
	       "- '1e3'\n"
	       "- '0o17'\n"
	       "- '017'\n"
	       "- '1_000'\n"
	       "- '12:30'\n"
	       "- '2024-01-31'\n"
	       "- '.inf'\n"
	       "- '-.Inf'\n"
	       "- '.NaN'\n"
	       "- '<<'\n"
	       "- '='\n"
	       "plain:\n"
	       "- hello world\n"
	       "- ota_0\n"
	       "- v5.1\n"
	       "- truely\n"
	       "- nvs-key\n"
	       "- caf\xc3\xa9\n"
	       "typed:\n"
	       "- 123\n"
	       "- -1\n"
	       "- true\n"
	       "- null\n"
	       "- null\n"
	       "libyaml:\n"
	       "- 'a: b'\n"
	       "- '- x'\n"
	       "- '#c'\n"
	       "- ' pad'\n"
	       "- it's\n"
	       "- \"tab\\there\"\n"
	       "- \"bell\\a\"\n"
	       "'true': 1\n"
	       "'null': 2\n"
	       "'8': 3\n");
}

Test(emit, yaml_long_string_is_not_folded)
{
	struct fx_sink s = { 0 };
	espimg_emitter *e = espimg_emit_new(ESPIMG_FORMAT_YAML, fx_sink_write,
					    &s);
	char word[] = "word ", *str, *want;
	size_t i, n = 60 * 5;

	str = malloc(n + 1);
	want = malloc(n + 64);
	for (i = 0; i < n; i++)
		str[i] = word[i % 5];
	str[n - 1] = 'x';
	str[n] = '\0';
	OK(espimg_emit_begin_doc(e, "espimg.test/1"));
	OK(espimg_emit_kv_str(e, "long", str));
	OK(espimg_emit_end_doc(e));
	snprintf(want, n + 64, "schema: espimg.test/1\nlong: %s\n", str);
	cr_assert_str_eq(fx_sink_str(&s), want);
	espimg_emit_free(e);
	fx_sink_free(&s);
	free(str);
	free(want);
}

static void build_text_strings(espimg_emitter *e)
{
	OK(espimg_emit_kv_str(e, "plain", "true"));
	OK(espimg_emit_kv_str(e, "ctl", "a\nb\tc\x01\x7f"));
	OK(espimg_emit_kv_str(e, "bad", "x\xff"));
	OK(espimg_emit_kv_str(e, "empty", ""));
	OK(espimg_emit_key(e, "items"));
	OK(espimg_emit_begin_list(e));
	OK(espimg_emit_null(e));
	OK(espimg_emit_bool(e, false));
	OK(espimg_emit_str(e, ""));
	OK(espimg_emit_begin_map(e));
	OK(espimg_emit_key(e, "sub"));
	OK(espimg_emit_begin_map(e));
	OK(espimg_emit_kv_hex(e, "addr", 0xdeadbeefULL));
	OK(espimg_emit_end_map(e));
	OK(espimg_emit_kv_int(e, "n", 7));
	OK(espimg_emit_end_map(e));
	OK(espimg_emit_begin_map(e));
	OK(espimg_emit_key(e, "l"));
	OK(espimg_emit_begin_list(e));
	OK(espimg_emit_begin_map(e));
	OK(espimg_emit_kv_str(e, "deep", "yes"));
	OK(espimg_emit_kv_str(e, "er", "no"));
	OK(espimg_emit_end_map(e));
	OK(espimg_emit_end_list(e));
	OK(espimg_emit_end_map(e));
	OK(espimg_emit_end_list(e));
	OK(espimg_emit_kv_str(e, "after", "z"));
}

Test(emit, text_layout_and_strings)
{
	expect(ESPIMG_FORMAT_TEXT, build_text_strings,
	       "plain: true\n"
	       "ctl: a\\nb\\tc\\x01\\x7f\n"
	       "bad: x" FFFD "\n"
	       "empty:\n"
	       "items:\n"
	       "  - -\n"
	       "  - no\n"
	       "  -\n"
	       "  - sub:\n"
	       "      addr: 0xdeadbeef\n"
	       "    n: 7\n"
	       "  - l:\n"
	       "      - deep: yes\n"
	       "        er: no\n"
	       "after: z\n");
}

/* ------------------------------------------------------------ misuse */

static espimg_emitter *open_doc(espimg_format fmt, struct fx_sink *s)
{
	espimg_emitter *e = espimg_emit_new(fmt, fx_sink_write, s);

	cr_assert_not_null(e);
	OK(espimg_emit_begin_doc(e, "espimg.test/1"));
	return e;
}

/* After an error, every call returns it, including well-formed ones. */
static void assert_sticky(espimg_emitter *e, int err)
{
	cr_assert_eq(espimg_emit_key(e, "k"), err);
	cr_assert_eq(espimg_emit_kv_str(e, "k", "v"), err);
	cr_assert_eq(espimg_emit_begin_map(e), err);
	cr_assert_eq(espimg_emit_end_map(e), err);
	cr_assert_eq(espimg_emit_begin_list(e), err);
	cr_assert_eq(espimg_emit_end_list(e), err);
	cr_assert_eq(espimg_emit_int(e, 1), err);
	cr_assert_eq(espimg_emit_end_doc(e), err);
	cr_assert_eq(espimg_emit_begin_doc(e, "x/1"), err);
}

static const espimg_format all_formats[] = {
	ESPIMG_FORMAT_TEXT, ESPIMG_FORMAT_JSON, ESPIMG_FORMAT_YAML,
};

Test(emit_misuse, value_without_key_in_map)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		struct fx_sink s = { 0 };
		espimg_emitter *e = open_doc(all_formats[i], &s);

		cr_assert_eq(espimg_emit_str(e, "v"), ESPIMG_EINVAL);
		assert_sticky(e, ESPIMG_EINVAL);
		espimg_emit_free(e);
		fx_sink_free(&s);
	}
}

Test(emit_misuse, container_without_key_in_map)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		struct fx_sink s = { 0 };
		espimg_emitter *e = open_doc(all_formats[i], &s);

		OK(espimg_emit_key(e, "m"));
		OK(espimg_emit_begin_map(e));
		cr_assert_eq(espimg_emit_begin_list(e), ESPIMG_EINVAL);
		assert_sticky(e, ESPIMG_EINVAL);
		espimg_emit_free(e);
		fx_sink_free(&s);
	}
}

Test(emit_misuse, key_errors)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		struct fx_sink s = { 0 };
		espimg_emitter *e = open_doc(all_formats[i], &s);

		OK(espimg_emit_key(e, "a"));
		cr_assert_eq(espimg_emit_key(e, "b"), ESPIMG_EINVAL);
		assert_sticky(e, ESPIMG_EINVAL);
		espimg_emit_free(e);

		e = open_doc(all_formats[i], &s);
		OK(espimg_emit_key(e, "l"));
		OK(espimg_emit_begin_list(e));
		cr_assert_eq(espimg_emit_key(e, "k"), ESPIMG_EINVAL);
		espimg_emit_free(e);

		e = open_doc(all_formats[i], &s);
		cr_assert_eq(espimg_emit_key(e, NULL), ESPIMG_EINVAL);
		cr_assert_eq(espimg_emit_key(e, "ok"), ESPIMG_EINVAL);
		espimg_emit_free(e);
		fx_sink_free(&s);
	}
}

Test(emit_misuse, unbalanced_ends)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		struct fx_sink s = { 0 };
		espimg_emitter *e;

		/* The document map is closed by end_doc only. */
		e = open_doc(all_formats[i], &s);
		cr_assert_eq(espimg_emit_end_map(e), ESPIMG_EINVAL);
		espimg_emit_free(e);

		e = open_doc(all_formats[i], &s);
		cr_assert_eq(espimg_emit_end_list(e), ESPIMG_EINVAL);
		espimg_emit_free(e);

		e = open_doc(all_formats[i], &s);
		OK(espimg_emit_key(e, "l"));
		OK(espimg_emit_begin_list(e));
		cr_assert_eq(espimg_emit_end_map(e), ESPIMG_EINVAL);
		espimg_emit_free(e);

		e = open_doc(all_formats[i], &s);
		OK(espimg_emit_key(e, "m"));
		OK(espimg_emit_begin_map(e));
		cr_assert_eq(espimg_emit_end_list(e), ESPIMG_EINVAL);
		espimg_emit_free(e);

		/* A key waiting for its value. */
		e = open_doc(all_formats[i], &s);
		OK(espimg_emit_key(e, "m"));
		OK(espimg_emit_begin_map(e));
		OK(espimg_emit_key(e, "dangling"));
		cr_assert_eq(espimg_emit_end_map(e), ESPIMG_EINVAL);
		espimg_emit_free(e);

		e = open_doc(all_formats[i], &s);
		OK(espimg_emit_key(e, "dangling"));
		cr_assert_eq(espimg_emit_end_doc(e), ESPIMG_EINVAL);
		espimg_emit_free(e);

		/* end_doc with a container still open. */
		e = open_doc(all_formats[i], &s);
		OK(espimg_emit_key(e, "l"));
		OK(espimg_emit_begin_list(e));
		cr_assert_eq(espimg_emit_end_doc(e), ESPIMG_EINVAL);
		assert_sticky(e, ESPIMG_EINVAL);
		espimg_emit_free(e);
		fx_sink_free(&s);
	}
}

Test(emit_misuse, outside_a_document)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		struct fx_sink s = { 0 };
		espimg_emitter *e;

		e = espimg_emit_new(all_formats[i], fx_sink_write, &s);
		cr_assert_eq(espimg_emit_kv_int(e, "a", 1), ESPIMG_EINVAL);
		espimg_emit_free(e);

		e = espimg_emit_new(all_formats[i], fx_sink_write, &s);
		cr_assert_eq(espimg_emit_end_doc(e), ESPIMG_EINVAL);
		espimg_emit_free(e);

		e = espimg_emit_new(all_formats[i], fx_sink_write, &s);
		cr_assert_eq(espimg_emit_begin_doc(e, NULL), ESPIMG_EINVAL);
		espimg_emit_free(e);

		e = open_doc(all_formats[i], &s);
		cr_assert_eq(espimg_emit_begin_doc(e, "again/1"),
			     ESPIMG_EINVAL);
		espimg_emit_free(e);

		e = open_doc(all_formats[i], &s);
		OK(espimg_emit_end_doc(e));
		cr_assert_eq(espimg_emit_kv_int(e, "late", 1), ESPIMG_EINVAL);
		cr_assert_eq(espimg_emit_begin_doc(e, "again/1"),
			     ESPIMG_EINVAL);
		espimg_emit_free(e);
		fx_sink_free(&s);
	}
}

Test(emit_misuse, null_emitter)
{
	cr_assert_eq(espimg_emit_begin_doc(NULL, "x/1"), ESPIMG_EINVAL);
	cr_assert_eq(espimg_emit_end_doc(NULL), ESPIMG_EINVAL);
	cr_assert_eq(espimg_emit_key(NULL, "k"), ESPIMG_EINVAL);
	cr_assert_eq(espimg_emit_begin_map(NULL), ESPIMG_EINVAL);
	cr_assert_eq(espimg_emit_end_list(NULL), ESPIMG_EINVAL);
	cr_assert_eq(espimg_emit_str(NULL, "v"), ESPIMG_EINVAL);
	cr_assert_eq(espimg_emit_strn(NULL, NULL, 3), ESPIMG_EINVAL);
	cr_assert_eq(espimg_emit_uint(NULL, 1), ESPIMG_EINVAL);
	cr_assert_eq(espimg_emit_kv_hex(NULL, "k", 1), ESPIMG_EINVAL);
}

Test(emit_misuse, strn_null_with_length)
{
	struct fx_sink s = { 0 };
	espimg_emitter *e = open_doc(ESPIMG_FORMAT_JSON, &s);

	OK(espimg_emit_key(e, "k"));
	cr_assert_eq(espimg_emit_strn(e, NULL, 2), ESPIMG_EINVAL);
	assert_sticky(e, ESPIMG_EINVAL);
	espimg_emit_free(e);
	fx_sink_free(&s);
}

/* The document map counts: 31 nested containers fit, the 32nd does not. */
Test(emit_misuse, nesting_limit)
{
	size_t i;
	int d;

	for (i = 0; i < 3; i++) {
		struct fx_sink s = { 0 };
		espimg_emitter *e = open_doc(all_formats[i], &s);

		OK(espimg_emit_key(e, "deep"));
		for (d = 0; d < 31; d++)
			OK(espimg_emit_begin_list(e));
		cr_assert_eq(espimg_emit_begin_list(e), ESPIMG_EINVAL);
		assert_sticky(e, ESPIMG_EINVAL);
		espimg_emit_free(e);

		e = open_doc(all_formats[i], &s);
		OK(espimg_emit_key(e, "deep"));
		for (d = 0; d < 31; d++)
			OK(espimg_emit_begin_list(e));
		OK(espimg_emit_int(e, 0));
		for (d = 0; d < 31; d++)
			OK(espimg_emit_end_list(e));
		OK(espimg_emit_end_doc(e));
		espimg_emit_free(e);
		fx_sink_free(&s);
	}
}

/* ------------------------------------------------------------ writing */

Test(emit_io, json_and_text_write_as_they_go)
{
	struct fx_sink s = { 0 };
	espimg_emitter *e = open_doc(ESPIMG_FORMAT_JSON, &s);

	cr_assert_str_eq(fx_sink_str(&s),
			 "{\n  \"schema\": \"espimg.test/1\"");
	OK(espimg_emit_kv_int(e, "a", 1));
	cr_assert_str_eq(fx_sink_str(&s),
			 "{\n  \"schema\": \"espimg.test/1\",\n  \"a\": 1");
	espimg_emit_free(e);
	fx_sink_free(&s);

	e = open_doc(ESPIMG_FORMAT_TEXT, &s);
	OK(espimg_emit_kv_int(e, "a", 1));
	cr_assert_str_eq(fx_sink_str(&s), "a: 1\n");
	espimg_emit_free(e);
	fx_sink_free(&s);
}

Test(emit_io, write_failure_is_eio_and_sticky)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		struct fx_sink s = { 0 };
		espimg_emitter *e = espimg_emit_new(all_formats[i],
						    fx_sink_write, &s);
		int rc;

		s.fail_from = 2;
		rc = espimg_emit_begin_doc(e, "espimg.test/1");
		if (rc == 0)
			rc = espimg_emit_kv_int(e, "a", 1);
		if (rc == 0)
			rc = espimg_emit_kv_int(e, "b", 2);
		cr_assert_eq(rc, ESPIMG_EIO);
		assert_sticky(e, ESPIMG_EIO);
		espimg_emit_free(e);
		fx_sink_free(&s);
	}
}

Test(emit_io, yaml_write_failure_is_eio_and_sticky)
{
	struct fx_sink s = { .fail_from = 1 };
	espimg_emitter *e = espimg_emit_new(ESPIMG_FORMAT_YAML, fx_sink_write,
					    &s);
	int rc;

	/* libyaml buffers: the failure shows at the latest at end_doc. */
	rc = espimg_emit_begin_doc(e, "espimg.test/1");
	if (rc == 0)
		rc = espimg_emit_kv_int(e, "a", 1);
	if (rc == 0)
		rc = espimg_emit_end_doc(e);
	cr_assert_eq(rc, ESPIMG_EIO);
	cr_assert_geq(s.calls, 1);
	assert_sticky(e, ESPIMG_EIO);
	espimg_emit_free(e);
	fx_sink_free(&s);
}

Test(emit_io, large_string)
{
	struct fx_sink s = { 0 };
	size_t n = 100000, i;
	char *big = malloc(n + 1);
	espimg_emitter *e;

	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	e = open_doc(ESPIMG_FORMAT_JSON, &s);
	OK(espimg_emit_kv_str(e, "big", big));
	OK(espimg_emit_end_doc(e));
	cr_assert_eq(s.len, strlen("{\n  \"schema\": \"espimg.test/1\",\n"
				   "  \"big\": \"\"\n}\n") + n);
	cr_assert_eq(memcmp(strstr(s.data, "\"big\": \"") + 8, big, n), 0);
	espimg_emit_free(e);
	fx_sink_free(&s);
	free(big);
}
