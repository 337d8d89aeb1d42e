/*
 * emit.h - one structured-output API with three back ends: human text,
 * JSON and YAML (through libyaml).
 *
 * The caller describes a document as nested maps and lists; keys come out in
 * the order they are emitted, so output is deterministic.  Every document
 * starts with a "schema" key ("espimg.<tool>/<major>").  Output goes through
 * a write callback; the emitter buffers nothing it does not have to.
 *
 * Text back end: "key: value" lines, nested maps indented by two spaces,
 * list items introduced by "- ".  It is meant for people; tools that want a
 * table print their own text and use JSON/YAML through this API.
 */
#ifndef ESPIMG_EMIT_H
#define ESPIMG_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espimg/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum espimg_format {
	ESPIMG_FORMAT_TEXT = 0,
	ESPIMG_FORMAT_JSON = 1,
	ESPIMG_FORMAT_YAML = 2,
} espimg_format;

/* Writes len bytes; returns 0 on success, nonzero on failure. */
typedef int (*espimg_write_fn)(void *ctx, const void *buf, size_t len);

typedef struct espimg_emitter espimg_emitter;

/* Parses "text", "json" or "yaml"; returns 0 or ESPIMG_EINVAL. */
ESPIMG_API int espimg_format_parse(const char *name, espimg_format *out);

ESPIMG_API espimg_emitter *espimg_emit_new(espimg_format fmt,
					   espimg_write_fn write, void *ctx);
ESPIMG_API void espimg_emit_free(espimg_emitter *e); /* NULL ok */

/*
 * Document structure.  begin_doc opens the top-level map and emits
 * "schema": schema as its first key; end_doc closes it and flushes.
 * Inside a map, call espimg_emit_key before every value (a scalar or a
 * nested begin_map/begin_list).  Inside a list, emit values directly.
 * Misuse (a value without a key in a map, unbalanced calls) returns
 * ESPIMG_EINVAL; a failed write returns ESPIMG_EIO.  After an error every
 * later call returns the same error.
 */
ESPIMG_API int espimg_emit_begin_doc(espimg_emitter *e, const char *schema);
ESPIMG_API int espimg_emit_end_doc(espimg_emitter *e);
ESPIMG_API int espimg_emit_key(espimg_emitter *e, const char *key);
ESPIMG_API int espimg_emit_begin_map(espimg_emitter *e);
ESPIMG_API int espimg_emit_end_map(espimg_emitter *e);
ESPIMG_API int espimg_emit_begin_list(espimg_emitter *e);
ESPIMG_API int espimg_emit_end_list(espimg_emitter *e);

/* Scalars.  Strings are UTF-8 and are escaped as each format requires. */
ESPIMG_API int espimg_emit_str(espimg_emitter *e, const char *s);
ESPIMG_API int espimg_emit_strn(espimg_emitter *e, const char *s, size_t n);
ESPIMG_API int espimg_emit_int(espimg_emitter *e, int64_t v);
ESPIMG_API int espimg_emit_uint(espimg_emitter *e, uint64_t v);
ESPIMG_API int espimg_emit_bool(espimg_emitter *e, bool v);
ESPIMG_API int espimg_emit_null(espimg_emitter *e);
/* A string "0x%x" (lowercase, no padding): hex for people, beside numbers. */
ESPIMG_API int espimg_emit_hex(espimg_emitter *e, uint64_t v);

/* Shorthands: key followed by a scalar. */
ESPIMG_API int espimg_emit_kv_str(espimg_emitter *e, const char *k,
				  const char *v);
ESPIMG_API int espimg_emit_kv_int(espimg_emitter *e, const char *k,
				  int64_t v);
ESPIMG_API int espimg_emit_kv_uint(espimg_emitter *e, const char *k,
				   uint64_t v);
ESPIMG_API int espimg_emit_kv_bool(espimg_emitter *e, const char *k, bool v);
ESPIMG_API int espimg_emit_kv_hex(espimg_emitter *e, const char *k,
				  uint64_t v);

#ifdef __cplusplus
}
#endif

#endif
