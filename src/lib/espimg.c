/*
 * espimg.c - library version and error strings.
 */
#include "espimg/espimg.h"

const char *espimg_version(void)
{
	return ESPIMG_VERSION_STRING;
}

const char *espimg_strerror(int err)
{
	switch (err) {
	case ESPIMG_OK:
		return "success";
	case ESPIMG_EINVAL:
		return "invalid argument";
	case ESPIMG_ENOMEM:
		return "out of memory";
	case ESPIMG_EIO:
		return "input/output error";
	case ESPIMG_EFORMAT:
		return "invalid input format";
	case ESPIMG_ETOOBIG:
		return "input or result too big";
	case ESPIMG_ENOTFOUND:
		return "not found";
	case ESPIMG_EUNSUPPORTED:
		return "not supported";
	default:
		return "unknown error";
	}
}
