/*
 * io.h - reading whole files with a size bound, and atomic writing.
 *
 * Writing goes to a temporary file in the destination's directory which is
 * then renamed over the destination, so a reader never sees a half-written
 * file and a failed write leaves the old file (or no file) in place.
 */
#ifndef ESPIMG_IO_H
#define ESPIMG_IO_H

#include <stddef.h>
#include <stdint.h>

#include "espimg/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Reads the whole file at `path` ("-" = standard input) into a new buffer
 * (*buf, free() it).  A file larger than max_size bytes is refused with
 * ESPIMG_ETOOBIG without reading it all.  A trailing NUL is stored after
 * the data (not counted in *len) so text parsers may rely on it.
 * Returns 0, ESPIMG_ENOTFOUND, ESPIMG_EIO (errno kept), ESPIMG_ETOOBIG,
 * ESPIMG_ENOMEM or ESPIMG_EINVAL.
 */
ESPIMG_API int espimg_read_file(const char *path, size_t max_size,
				uint8_t **buf, size_t *len);

/* espimg_write_file_atomic flags. */
#define ESPIMG_WRITE_SYNC 0x1u /* fsync the file and its directory too */

/*
 * Writes len bytes to `path` atomically: a temporary file in the same
 * directory, renamed over `path`, so readers see the old file or the new
 * one and a failed write leaves no partial file.  With ESPIMG_WRITE_SYNC the
 * data and the rename are also flushed to disk (durable across power loss;
 * about a millisecond more on ext4).  Missing parent directories are not
 * created.  The new file gets mode 0666 & ~umask, or the mode of the
 * regular file it replaces.
 * Returns 0, ESPIMG_EIO (errno kept), ESPIMG_ENOMEM or ESPIMG_EINVAL.
 * "-" is an ordinary file name here; tools map it to stdout themselves.
 */
ESPIMG_API int espimg_write_file_atomic(const char *path, const void *data,
					size_t len, unsigned flags);

#ifdef __cplusplus
}
#endif

#endif
