/*
 * io.c - bounded whole-file reading and atomic file writing.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The umbrella first: it defines what the module headers need. */
#include "espimg/espimg.h"
#include "espimg/io.h"

#define READ_CHUNK 65536

/* Resizes *p to `want` bytes, but never beyond `limit`. */
static int io_grow(uint8_t **p, size_t *cap, size_t want, size_t limit)
{
	size_t ncap = want < limit ? want : limit;
	uint8_t *np;

	np = realloc(*p, ncap);
	if (!np)
		return ESPIMG_ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/*
 * Reads fd to the end into a new buffer.  At most max_size + 1 bytes are
 * ever read: one byte more than allowed proves the input is too big.
 * `hint` is the expected size (0 if unknown).
 */
static int io_read_fd(int fd, size_t max_size, size_t hint, uint8_t **bufp,
		      size_t *lenp)
{
	/* Room for max_size + 1 data bytes and the NUL. */
	size_t limit = max_size > SIZE_MAX - 2 ? SIZE_MAX : max_size + 2;
	size_t cap = 0, len = 0;
	uint8_t *p = NULL;
	ssize_t n;
	int rc, saved;

	/* hint + 2: the final read() that returns 0 needs no realloc. */
	if (hint == 0)
		rc = io_grow(&p, &cap, READ_CHUNK, limit);
	else
		rc = io_grow(&p, &cap,
			     hint > SIZE_MAX - 2 ? SIZE_MAX : hint + 2, limit);
	if (rc)
		return rc;
	for (;;) {
		if (len == cap - 1) {
			/* Cannot happen: a full buffer at the limit means
			 * more than max_size bytes were read already. */
			if (cap >= limit) {
				rc = ESPIMG_ETOOBIG;
				goto fail;
			}
			rc = io_grow(&p, &cap,
				     cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2,
				     limit);
			if (rc)
				goto fail;
		}
		n = read(fd, p + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = ESPIMG_EIO;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max_size) {
			rc = ESPIMG_ETOOBIG;
			goto fail;
		}
	}
	p[len] = '\0';
	*bufp = p;
	*lenp = len;
	return 0;
fail:
	saved = errno;
	free(p);
	errno = saved;
	return rc;
}

int espimg_read_file(const char *path, size_t max_size, uint8_t **buf,
		     size_t *len)
{
	struct stat st;
	size_t hint = 0;
	int fd, rc, saved;
	int is_stdin;

	if (!path || !buf || !len)
		return ESPIMG_EINVAL;
	*buf = NULL;
	*len = 0;

	is_stdin = strcmp(path, "-") == 0;
	if (is_stdin) {
		fd = STDIN_FILENO;
	} else {
		do
			fd = open(path, O_RDONLY | O_CLOEXEC);
		while (fd < 0 && errno == EINTR);
		if (fd < 0)
			return errno == ENOENT ? ESPIMG_ENOTFOUND : ESPIMG_EIO;
	}

	if (fstat(fd, &st) != 0) {
		rc = ESPIMG_EIO;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		rc = ESPIMG_EIO;
		goto out;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uintmax_t)st.st_size > (uintmax_t)max_size) {
			rc = ESPIMG_ETOOBIG;
			goto out;
		}
		hint = (size_t)st.st_size;
	}
	rc = io_read_fd(fd, max_size, hint, buf, len);
out:
	if (!is_stdin) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return rc;
}

/* The process umask, read without changing it where the system allows. */
static mode_t io_umask(void)
{
	char line[128];
	unsigned long v;
	mode_t m;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "Umask:", 6) == 0) {
				char *end;

				v = strtoul(line + 6, &end, 8);
				if (end != line + 6 && v <= 07777) {
					fclose(f);
					return (mode_t)v;
				}
				break;
			}
		}
		fclose(f);
	}
	/* Fallback: racy against other threads changing the umask. */
	m = umask(022);
	umask(m);
	return m;
}

static int io_write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Best effort: makes the rename durable.  Errors are ignored. */
static void io_sync_dir(const char *tmpl, size_t dirlen)
{
	char *dir;
	int fd, saved = errno;

	if (dirlen == 0) {
		dir = strdup(".");
	} else {
		dir = malloc(dirlen + 1);
		if (dir) {
			memcpy(dir, tmpl, dirlen);
			dir[dirlen] = '\0';
		}
	}
	if (dir) {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			(void)fsync(fd);
			close(fd);
		}
		free(dir);
	}
	errno = saved;
}

int espimg_write_file_atomic(const char *path, const void *data, size_t len,
			     unsigned flags)
{
	bool sync = flags & ESPIMG_WRITE_SYNC;

	const char *slash, *base;
	size_t dirlen, baselen;
	struct stat st;
	char *tmpl;
	mode_t mode;
	int fd, saved;

	/* errno is set too, so a caller's strerror(errno) says why. */
	if (!path || !*path || (!data && len) || (flags & ~ESPIMG_WRITE_SYNC)) {
		errno = EINVAL;
		return ESPIMG_EINVAL;
	}
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	dirlen = (size_t)(base - path);
	baselen = strlen(base);
	if (baselen == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		errno = EINVAL;
		return ESPIMG_EINVAL;
	}

	/* "<dir>/.<base>.XXXXXX" */
	tmpl = malloc(dirlen + 1 + baselen + 8);
	if (!tmpl)
		return ESPIMG_ENOMEM;
	memcpy(tmpl, path, dirlen);
	tmpl[dirlen] = '.';
	memcpy(tmpl + dirlen + 1, base, baselen);
	memcpy(tmpl + dirlen + 1 + baselen, ".XXXXXX", 8);

	fd = mkstemp(tmpl);
	if (fd < 0)
		goto fail_free;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		mode = st.st_mode & 07777;
	else
		mode = 0666 & ~io_umask();

	if (io_write_all(fd, data, len) != 0 || (sync && fsync(fd) != 0) ||
	    fchmod(fd, mode) != 0)
		goto fail_close;
	if (close(fd) != 0) {
		fd = -1;
		goto fail_close;
	}
	fd = -1;
	if (rename(tmpl, path) != 0)
		goto fail_close;
	if (sync)
		io_sync_dir(tmpl, dirlen);
	free(tmpl);
	return 0;

fail_close:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmpl);
	errno = saved;
fail_free:
	saved = errno;
	free(tmpl);
	errno = saved;
	return ESPIMG_EIO;
}
