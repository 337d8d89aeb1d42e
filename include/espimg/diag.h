/*
 * diag.h - a list of diagnostics (errors, warnings, notes) found in an input.
 *
 * Each entry carries a severity, a stable machine-readable code (for example
 * "ptable.overlap"), the file name, a 1-based line and column (0 when not
 * applicable, e.g. for binary input), a byte offset into the input (-1 when
 * not applicable) and a message in English.  Scripts key on the code; the
 * message wording may improve between releases.
 */
#ifndef ESPIMG_DIAG_H
#define ESPIMG_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "espimg/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum espimg_severity {
	ESPIMG_SEV_NOTE = 0,
	ESPIMG_SEV_WARNING = 1,
	ESPIMG_SEV_ERROR = 2,
} espimg_severity;

typedef struct espimg_diag {
	espimg_severity severity;
	const char *code;    /* static string, never NULL */
	const char *file;    /* copy owned by the list; NULL if none */
	unsigned line;       /* 1-based; 0 = not applicable */
	unsigned column;     /* 1-based, in characters; 0 = not applicable */
	int64_t offset;      /* byte offset into the input; -1 = not applicable */
	const char *message; /* owned by the list */
} espimg_diag;

typedef struct espimg_diag_list espimg_diag_list;

ESPIMG_API espimg_diag_list *espimg_diag_list_new(void);
ESPIMG_API void espimg_diag_list_free(espimg_diag_list *list); /* NULL ok */

/*
 * Appends a diagnostic.  `code` must be a string with static storage.
 * Returns 0, ESPIMG_ENOMEM (the list stays usable) or ESPIMG_EINVAL (NULL
 * code or format, unknown severity).  A NULL list is
 * accepted and ignored, so callers that do not want details can pass NULL.
 */
ESPIMG_API int espimg_diag_add(espimg_diag_list *list, espimg_severity sev,
			       const char *code, const char *file,
			       unsigned line, unsigned column, int64_t offset,
			       const char *fmt, ...) ESPIMG_PRINTF(8, 9);

ESPIMG_API size_t espimg_diag_count(const espimg_diag_list *list);
ESPIMG_API const espimg_diag *espimg_diag_get(const espimg_diag_list *list,
					      size_t index);
/* Number of entries with severity ESPIMG_SEV_ERROR. */
ESPIMG_API size_t espimg_diag_errors(const espimg_diag_list *list);
/* Removes every entry. */
ESPIMG_API void espimg_diag_clear(espimg_diag_list *list);

/* "error", "warning" or "note". */
ESPIMG_API const char *espimg_severity_name(espimg_severity sev);

#ifdef __cplusplus
}
#endif

#endif
