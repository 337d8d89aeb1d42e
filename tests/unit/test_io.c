/*
 * test_io.c - bounded file reading and atomic writing.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "espimg/espimg.h"
#include "fixtures.h"

static char *dir;

static void setup(void)
{
	dir = fx_tmpdir();
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	fx_rmtree(dir);
	free(dir);
}

TestSuite(io, .init = setup, .fini = teardown);

/* A file in the test directory with `len` bytes of a known pattern. */
static char *make_file(const char *name, size_t len)
{
	char *path = fx_path(dir, name);
	char *data = malloc(len + 1);
	size_t i;

	for (i = 0; i < len; i++)
		data[i] = (char)('A' + i % 23);
	cr_assert_eq(fx_write_file(path, data, len), 0);
	free(data);
	return path;
}

static void assert_pattern(const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != (uint8_t)('A' + i % 23))
			cr_assert_fail("byte %zu differs", i);
}

/* ------------------------------------------------------------ reading */

Test(io, read_whole_file_nul_terminated)
{
	char *path = fx_path(dir, "t.txt");
	uint8_t *buf = NULL;
	size_t len = 0;

	cr_assert_eq(fx_write_file(path, "hello\nworld", 11), 0);
	cr_assert_eq(espimg_read_file(path, 1024, &buf, &len), 0);
	cr_assert_eq(len, 11);
	cr_assert_eq(memcmp(buf, "hello\nworld", 11), 0);
	cr_assert_eq(buf[11], '\0');
	free(buf);
	free(path);
}

Test(io, read_empty_file)
{
	char *path = make_file("empty", 0);
	uint8_t *buf = NULL;
	size_t len = 7;

	cr_assert_eq(espimg_read_file(path, 0, &buf, &len), 0);
	cr_assert_not_null(buf);
	cr_assert_eq(len, 0);
	cr_assert_eq(buf[0], '\0');
	free(buf);
	free(path);
}

Test(io, read_bound_exact_and_one_over)
{
	char *path = make_file("bound", 4096);
	uint8_t *buf = NULL;
	size_t len = 0;

	cr_assert_eq(espimg_read_file(path, 4096, &buf, &len), 0);
	cr_assert_eq(len, 4096);
	assert_pattern(buf, len);
	cr_assert_eq(buf[4096], '\0');
	free(buf);

	buf = (uint8_t *)path; /* must be reset on failure */
	len = 5;
	cr_assert_eq(espimg_read_file(path, 4095, &buf, &len), ESPIMG_ETOOBIG);
	cr_assert_null(buf);
	cr_assert_eq(len, 0);
	cr_assert_eq(espimg_read_file(path, 0, &buf, &len), ESPIMG_ETOOBIG);
	free(path);
}

Test(io, read_large_file)
{
	size_t n = (1u << 20) + 12345;
	char *path = make_file("large", n);
	uint8_t *buf = NULL;
	size_t len = 0;

	cr_assert_eq(espimg_read_file(path, SIZE_MAX, &buf, &len), 0);
	cr_assert_eq(len, n);
	assert_pattern(buf, len);
	cr_assert_eq(buf[n], '\0');
	free(buf);
	free(path);
}

Test(io, read_missing_file_is_notfound)
{
	char *path = fx_path(dir, "missing");
	uint8_t *buf = NULL;
	size_t len = 0;

	errno = 0;
	cr_assert_eq(espimg_read_file(path, 100, &buf, &len),
		     ESPIMG_ENOTFOUND);
	cr_assert_eq(errno, ENOENT);
	cr_assert_null(buf);
	free(path);
}

Test(io, read_directory_is_eio_eisdir)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	errno = 0;
	cr_assert_eq(espimg_read_file(dir, 100, &buf, &len), ESPIMG_EIO);
	cr_assert_eq(errno, EISDIR);
	cr_assert_null(buf);
}

Test(io, read_rejects_bad_arguments)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	cr_assert_eq(espimg_read_file(NULL, 1, &buf, &len), ESPIMG_EINVAL);
	cr_assert_eq(espimg_read_file(dir, 1, NULL, &len), ESPIMG_EINVAL);
	cr_assert_eq(espimg_read_file(dir, 1, &buf, NULL), ESPIMG_EINVAL);
}

/*
 * Replaces standard input with a pipe fed by a child that writes `total`
 * bytes of the pattern in small chunks.  Returns the child's pid.
 */
static pid_t stdin_from_writer(size_t total)
{
	int fds[2];
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		char chunk[1000];
		size_t off = 0, i, n;

		signal(SIGPIPE, SIG_IGN);
		close(fds[0]);
		while (off < total) {
			n = total - off < sizeof(chunk) ? total - off :
							  sizeof(chunk);
			for (i = 0; i < n; i++)
				chunk[i] = (char)('A' + (off + i) % 23);
			if (write(fds[1], chunk, n) != (ssize_t)n)
				_exit(1);
			off += n;
		}
		_exit(0);
	}
	close(fds[1]);
	cr_assert_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
	return pid;
}

Test(io, read_stdin_pipe)
{
	size_t n = 300000; /* several times the pipe buffer */
	pid_t pid = stdin_from_writer(n);
	uint8_t *buf = NULL;
	size_t len = 0;
	int status;

	cr_assert_eq(espimg_read_file("-", n, &buf, &len), 0);
	cr_assert_eq(len, n);
	assert_pattern(buf, len);
	cr_assert_eq(buf[n], '\0');
	free(buf);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(io, read_stdin_pipe_too_big_stops_early)
{
	size_t n = 300000, max = 100000, rest = 0;
	pid_t pid = stdin_from_writer(n);
	uint8_t *buf = NULL;
	size_t len = 0;
	char tmp[4096];
	ssize_t r;
	int status;

	cr_assert_eq(espimg_read_file("-", max, &buf, &len), ESPIMG_ETOOBIG);
	cr_assert_null(buf);
	/* Standard input stays open, and at most max + 1 bytes were taken. */
	while ((r = read(STDIN_FILENO, tmp, sizeof(tmp))) > 0)
		rest += (size_t)r;
	cr_assert_geq(rest, n - max - 1);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
}

Test(io, read_stdin_pipe_exact_bound)
{
	pid_t pid = stdin_from_writer(5000);
	uint8_t *buf = NULL;
	size_t len = 0;
	int status;

	cr_assert_eq(espimg_read_file("-", 5000, &buf, &len), 0);
	cr_assert_eq(len, 5000);
	assert_pattern(buf, len);
	cr_assert_eq(buf[5000], '\0');
	free(buf);
	waitpid(pid, &status, 0);
}

Test(io, read_fifo_one_over_bound)
{
	char *path = fx_path(dir, "fifo");
	pid_t pid;
	uint8_t *buf = NULL;
	size_t len = 0;
	int status;

	cr_assert_eq(mkfifo(path, 0600), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		int fd = open(path, O_WRONLY);

		signal(SIGPIPE, SIG_IGN);
		if (fd < 0 || write(fd, "0123456789", 10) != 10)
			_exit(1);
		_exit(0);
	}
	cr_assert_eq(espimg_read_file(path, 9, &buf, &len), ESPIMG_ETOOBIG);
	cr_assert_null(buf);
	waitpid(pid, &status, 0);
	free(path);
}

/* ------------------------------------------------------------ writing */

static mode_t file_mode(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void assert_contents(const char *path, const char *want, size_t n)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	cr_assert_eq(espimg_read_file(path, 1u << 20, &buf, &len), 0);
	cr_assert_eq(len, n);
	cr_assert_eq(memcmp(buf, want, n), 0);
	free(buf);
}

Test(io, write_new_file_uses_umask)
{
	char *path = fx_path(dir, "new.bin");

	umask(027);
	cr_assert_eq(espimg_write_file_atomic(path, "abc", 3, ESPIMG_WRITE_SYNC), 0);
	assert_contents(path, "abc", 3);
	cr_assert_eq(file_mode(path), 0640);
	cr_assert_eq(fx_count_entries(dir), 1, "no temporary file left");

	unlink(path);
	umask(077);
	cr_assert_eq(espimg_write_file_atomic(path, "abcd", 4, 0), 0);
	cr_assert_eq(file_mode(path), 0600);
	umask(022);
	free(path);
}

Test(io, write_replaces_and_keeps_mode)
{
	char *path = make_file("old.bin", 100);

	cr_assert_eq(chmod(path, 0604), 0);
	cr_assert_eq(espimg_write_file_atomic(path, "new", 3, ESPIMG_WRITE_SYNC), 0);
	assert_contents(path, "new", 3);
	cr_assert_eq(file_mode(path), 0604);
	cr_assert_eq(fx_count_entries(dir), 1);
	free(path);
}

Test(io, write_empty_file)
{
	char *path = fx_path(dir, "empty");

	cr_assert_eq(espimg_write_file_atomic(path, NULL, 0, 0), 0);
	assert_contents(path, "", 0);
	free(path);
}

Test(io, write_relative_path)
{
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(espimg_write_file_atomic("rel.txt", "r", 1, ESPIMG_WRITE_SYNC), 0);
	assert_contents("rel.txt", "r", 1);
	cr_assert_eq(fx_count_entries("."), 1);
}

Test(io, write_missing_directory_fails)
{
	char *path = fx_path(dir, "nodir/out.bin");

	errno = 0;
	cr_assert_eq(espimg_write_file_atomic(path, "x", 1, 0), ESPIMG_EIO);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(fx_count_entries(dir), 0);
	free(path);
}

Test(io, write_directory_is_a_file_fails)
{
	char *file = make_file("plain", 3);
	char *path = fx_path(file, "out.bin");

	errno = 0;
	cr_assert_eq(espimg_write_file_atomic(path, "x", 1, ESPIMG_WRITE_SYNC), ESPIMG_EIO);
	cr_assert_eq(errno, ENOTDIR);
	cr_assert_eq(fx_count_entries(dir), 1);
	free(path);
	free(file);
}

/* The temporary file is created, then rename() fails: it must go. */
Test(io, write_over_directory_leaves_no_temp_file)
{
	char *path = fx_path(dir, "adir");

	cr_assert_eq(mkdir(path, 0755), 0);
	errno = 0;
	cr_assert_eq(espimg_write_file_atomic(path, "x", 1, 0), ESPIMG_EIO);
	cr_assert_eq(errno, EISDIR);
	cr_assert_eq(fx_count_entries(dir), 1, "only adir remains");
	free(path);
}

/* A write() failure midway leaves the old file intact and no temp file. */
Test(io, write_failure_keeps_old_file)
{
	char *path = fx_path(dir, "keep.bin");
	struct rlimit rl = { 4096, 4096 };
	char *big = calloc(1, 8192);

	cr_assert_eq(fx_write_file(path, "old", 3), 0);
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	errno = 0;
	cr_assert_eq(espimg_write_file_atomic(path, big, 8192, ESPIMG_WRITE_SYNC), ESPIMG_EIO);
	cr_assert_eq(errno, EFBIG);
	assert_contents(path, "old", 3);
	cr_assert_eq(fx_count_entries(dir), 1);
	free(big);
	free(path);
}

Test(io, write_rejects_bad_arguments)
{
	char *slash = fx_path(dir, "");

	cr_assert_eq(espimg_write_file_atomic(NULL, "x", 1, 0), ESPIMG_EINVAL);
	cr_assert_eq(espimg_write_file_atomic("", "x", 1, ESPIMG_WRITE_SYNC), ESPIMG_EINVAL);
	cr_assert_eq(espimg_write_file_atomic(slash, "x", 1, 0), ESPIMG_EINVAL);
	cr_assert_eq(espimg_write_file_atomic("x", NULL, 1, ESPIMG_WRITE_SYNC), ESPIMG_EINVAL);
	cr_assert_eq(fx_count_entries(dir), 0);
	free(slash);
}
