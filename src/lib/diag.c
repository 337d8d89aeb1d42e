/*
 * diag.c - the diagnostics list.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The umbrella first: it defines what the module headers need. */
#include "espimg/espimg.h"
#include "espimg/diag.h"

struct espimg_diag_list {
	espimg_diag *items;
	size_t count;
	size_t cap;
	size_t errors;
};

espimg_diag_list *espimg_diag_list_new(void)
{
	return calloc(1, sizeof(espimg_diag_list));
}

static void diag_release(espimg_diag *d)
{
	free((void *)(uintptr_t)d->file);
	free((void *)(uintptr_t)d->message);
}

void espimg_diag_list_free(espimg_diag_list *list)
{
	if (!list)
		return;
	espimg_diag_clear(list);
	free(list->items);
	free(list);
}

/* Formats into a new string sized by a first vsnprintf; NULL on failure. */
static char *diag_vformat(const char *fmt, va_list ap) ESPIMG_PRINTF(1, 0);

static char *diag_vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	char *s;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	if (vsnprintf(s, (size_t)n + 1, fmt, ap) != n) {
		free(s);
		return NULL;
	}
	return s;
}

int espimg_diag_add(espimg_diag_list *list, espimg_severity sev,
		    const char *code, const char *file, unsigned line,
		    unsigned column, int64_t offset, const char *fmt, ...)
{
	espimg_diag *d;
	char *msg, *fcopy = NULL;
	va_list ap;

	if (!list)
		return 0;
	if (!code || !fmt || (int)sev < (int)ESPIMG_SEV_NOTE ||
	    (int)sev > (int)ESPIMG_SEV_ERROR)
		return ESPIMG_EINVAL;

	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;

		if (cap > SIZE_MAX / sizeof(*d))
			return ESPIMG_ENOMEM;
		d = realloc(list->items, cap * sizeof(*d));
		if (!d)
			return ESPIMG_ENOMEM;
		list->items = d;
		list->cap = cap;
	}

	va_start(ap, fmt);
	msg = diag_vformat(fmt, ap);
	va_end(ap);
	if (!msg)
		return ESPIMG_ENOMEM;
	if (file) {
		fcopy = strdup(file);
		if (!fcopy) {
			free(msg);
			return ESPIMG_ENOMEM;
		}
	}

	d = &list->items[list->count++];
	d->severity = sev;
	d->code = code;
	d->file = fcopy;
	d->line = line;
	d->column = column;
	d->offset = offset;
	d->message = msg;
	if (sev == ESPIMG_SEV_ERROR)
		list->errors++;
	return 0;
}

size_t espimg_diag_count(const espimg_diag_list *list)
{
	return list ? list->count : 0;
}

const espimg_diag *espimg_diag_get(const espimg_diag_list *list, size_t index)
{
	if (!list || index >= list->count)
		return NULL;
	return &list->items[index];
}

size_t espimg_diag_errors(const espimg_diag_list *list)
{
	return list ? list->errors : 0;
}

void espimg_diag_clear(espimg_diag_list *list)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < list->count; i++)
		diag_release(&list->items[i]);
	list->count = 0;
	list->errors = 0;
}

const char *espimg_severity_name(espimg_severity sev)
{
	switch (sev) {
	case ESPIMG_SEV_NOTE:
		return "note";
	case ESPIMG_SEV_WARNING:
		return "warning";
	case ESPIMG_SEV_ERROR:
		return "error";
	}
	return "unknown";
}
