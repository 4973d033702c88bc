/* util: small helpers every module may use: bounded parsing, capped reads, atomic writes. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/util.h"

int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	long long v;
	char *end;

	if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = (int64_t)v;
	return 0;
}

char *
str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

unsigned
str_distance(const char *a, size_t la, const char *b, size_t lb)
{
	/* Three rows of the table: the transposition looks two rows back. */
	unsigned rows[3][STR_DISTANCE_MAX + 1], *p2, *p1, *cur;
	size_t i, j;

	if (la > STR_DISTANCE_MAX || lb > STR_DISTANCE_MAX)
		return UINT_MAX;
	/* Row k of the table is rows[k % 3]. */
	for (j = 0; j <= lb; j++)
		rows[0][j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		p2 = rows[(i + 1) % 3];
		p1 = rows[(i + 2) % 3];
		cur = rows[i % 3];
		cur[0] = (unsigned)i;
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
			unsigned v = p1[j] + 1;

			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (p1[j - 1] + (ca != cb) < v)
				v = p1[j - 1] + (ca != cb);
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && p2[j - 2] + 1 < v)
				v = p2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return rows[la % 3][lb];
}

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
hash_fnv1a64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int
grow_array(void *arrayp, size_t *cap, size_t need, size_t size, size_t max)
{
	/* A T ** seen as void **: POSIX gives every object pointer void *'s representation. */
	void **slot = arrayp, *p;
	size_t n;

	if (need <= *cap)
		return 0;
	if (need > max || size == 0 || max > SIZE_MAX / size)
		return -E2BIG;
	n = *cap < 8 ? 8 : *cap;
	if (n > max)
		n = max;	/* a cap under 8: the capacity never passes it */
	while (n < need)
		n = n > max / 2 ? max : n * 2;
	p = realloc(*slot, n * size);
	if (p == NULL)
		return -ENOMEM;
	*slot = p;
	*cap = n;
	return 0;
}

void
wipe_secret(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

int
read_file_opt(const char *path, size_t cap, unsigned flags, char **ret, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r, oflags;

	/*
	 * O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	 * writer for ever.  Regular files ignore it; anything else is refused
	 * below before a single read.
	 */
	oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	if (!(flags & READ_FILE_FOLLOW))
		oflags |= O_NOFOLLOW;
	fd = open(path, oflags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if ((uintmax_t)st.st_size > cap) {
		r = -EFBIG;
		goto out;
	}
	/* Read to EOF rather than trusting st_size: the file may be growing. */
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == (size_t)st.st_size) {
			char extra;

			n = read(fd, &extra, 1);
			if (n > 0) {
				r = -EFBIG;
				goto out;
			}
		} else {
			n = read(fd, buf + len, (size_t)st.st_size - len);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	/* Overwrite what a failed read took in: it may have been a secret. */
	if (buf != NULL)
		wipe_secret(buf, len);
	free(buf);
	close(fd);
	return r;
}

int
read_file_capped(const char *path, size_t cap, char **ret, size_t *ret_len)
{
	int r = read_file_opt(path, cap, 0, ret, ret_len);

	return r == -EISDIR ? -EINVAL : r;
}

int
fd_is_regular(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	return S_ISREG(st.st_mode) ? 0 : -EINVAL;
}

static int
fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, r = 0;

	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int
write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_file_replace(path, data, len, mode, true);
}

int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

int
write_file_replace(const char *path, const void *data, size_t len, mode_t mode, bool durable)
{
	return write_file_opt(path, data, len, mode, durable ? WRITE_FILE_DURABLE : 0);
}

int
write_file_opt(const char *path, const void *data, size_t len, mode_t mode, unsigned flags)
{
	char tmp[PATH_MAX];
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	/*
	 * A .tmp left by a crash is ours to overwrite: the caller holds the
	 * lock.  Opened without blocking and truncated only once it is known
	 * to be a regular file, so that a FIFO or a device planted there is
	 * refused (-EINVAL) instead of hanging the run in open() until a
	 * reader comes, and is left for the user to look at.
	 */
	fd = open(tmp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, mode);
	if (fd < 0)
		/* ENXIO: a FIFO with no reader (or a device), not a file. */
		return errno == ENXIO ? -EINVAL : -errno;
	r = fd_is_regular(fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (ftruncate(fd, 0) < 0) {
		r = -errno;
		goto fail;
	}
	/* The umask may have taken bits MODE asks for: a reader as another user needs them. */
	if ((flags & WRITE_FILE_EXACT_MODE) && fchmod(fd, mode) < 0) {
		r = -errno;
		goto fail;
	}
	r = write_all(fd, data, len);
	if (r < 0)
		goto fail;
	if ((flags & WRITE_FILE_FSYNC) && fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	r = close(fd) < 0 ? -errno : 0;
	fd = -1;
	if (r < 0)
		goto fail;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	return (flags & WRITE_FILE_FSYNC_DIR) ? fsync_dir_of(path) : 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}
