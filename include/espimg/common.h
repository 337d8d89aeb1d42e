/*
 * common.h - what every libespimg header needs: the export macro, version
 * and error codes.  Module headers include this, not the umbrella header.
 */
#ifndef ESPIMG_COMMON_H
#define ESPIMG_COMMON_H

#define ESPIMG_VERSION_MAJOR 0
#define ESPIMG_VERSION_MINOR 1
#define ESPIMG_VERSION_PATCH 0
#define ESPIMG_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define ESPIMG_API __attribute__((visibility("default")))
#define ESPIMG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ESPIMG_API
#define ESPIMG_PRINTF(f, a)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes.  Values are frozen once released; new codes are appended. */
enum {
	ESPIMG_OK = 0,
	ESPIMG_EINVAL = -1,       /* bad argument from the caller */
	ESPIMG_ENOMEM = -2,       /* out of memory */
	ESPIMG_EIO = -3,          /* read or write failed (errno is kept) */
	ESPIMG_EFORMAT = -4,      /* the input is invalid; see the diagnostics */
	ESPIMG_ETOOBIG = -5,      /* input or result exceeds a documented bound */
	ESPIMG_ENOTFOUND = -6,    /* no such file or item */
	ESPIMG_EUNSUPPORTED = -7, /* valid, but not supported by this version */
};

/* Returns the version of the library actually linked, as "X.Y.Z". */
ESPIMG_API const char *espimg_version(void);

/* Returns a static English description of an ESPIMG_E* code. */
ESPIMG_API const char *espimg_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
