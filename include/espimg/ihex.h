/*
 * ihex.h - Intel HEX input (what esptool merge-bin --format hex writes).
 *
 * Records: data (00), end of file (01), extended segment address (02),
 * start segment address (03), extended linear address (04), start linear
 * address (05). The decoded bytes are grouped into runs of contiguous
 * addresses, in address order, as esptool 5.x image-info splits a HEX file
 * into the images it holds.
 */
#ifndef ESPIMG_IHEX_H
#define ESPIMG_IHEX_H

#include <stddef.h>
#include <stdint.h>

#include "espimg/common.h"
#include "espimg/diag.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct espimg_ihex_run {
	uint32_t address;  /* flash address of the first byte */
	const uint8_t *data;
	size_t len;
} espimg_ihex_run;

typedef struct espimg_ihex espimg_ihex;

/* 1 if the text looks like Intel HEX (first non-blank character ':'
 * followed by hex digits), else 0. Cheap; used to pick the reader. */
ESPIMG_API int espimg_ihex_detect(const void *buf, size_t len);

/* Parses HEX text. Errors (bad digit, bad checksum, bad record length,
 * overlapping data, missing end record) go to diags with file:line:col and
 * code "ihex.*"; returns ESPIMG_EFORMAT then, ESPIMG_OK otherwise. The
 * decoded size never exceeds len / 2. */
ESPIMG_API int espimg_ihex_parse(const char *text, size_t len, const char *file,
				 espimg_ihex **out, espimg_diag_list *diags);

ESPIMG_API void espimg_ihex_free(espimg_ihex *hex); /* NULL ok */

ESPIMG_API size_t espimg_ihex_run_count(const espimg_ihex *hex);
ESPIMG_API const espimg_ihex_run *espimg_ihex_run_at(const espimg_ihex *hex,
						     size_t index);

#ifdef __cplusplus
}
#endif

#endif
