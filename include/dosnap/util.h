/* util: small helpers every module may use: bounded parsing, capped reads, atomic writes. */
#ifndef DOSNAP_UTIL_H
#define DOSNAP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Parse all of S as a decimal integer in [MIN, MAX] (strtonum-style).
 * On success store it in *ret and return 0; -EINVAL when S is not a number
 * or has trailing characters, -ERANGE when outside the bounds.
 */
int	parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret);

/* malloc'd printf; NULL on failure.  The caller frees. */
char	*str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The optimal string alignment distance (edits, adjacent swaps counting
 * one) between A and B, of LA and LB bytes, ignoring ASCII case: for "did
 * you mean".  UINT_MAX when either is longer than STR_DISTANCE_MAX.
 */
#define STR_DISTANCE_MAX	64
unsigned str_distance(const char *a, size_t la, const char *b, size_t lb);

/* Milliseconds on the monotonic clock: for waits and deadlines, never for dates. */
int64_t	clock_mono_ms(void);

/* 64-bit FNV-1a over LEN bytes. */
uint64_t hash_fnv1a64(const void *data, size_t len);

/*
 * The one growth helper for arrays: make room for NEED elements of SIZE
 * bytes in the array *ARRAYP (a T ** passed as void *) whose capacity is
 * *CAP elements, doubling from 8, never past MAX elements.  Returns 0 (the
 * array and *CAP unchanged when NEED already fits), -E2BIG when NEED is
 * over MAX, or -ENOMEM (the old array kept, still owned by the caller).
 */
int	grow_array(void *arrayp, size_t *cap, size_t need, size_t size, size_t max);

/*
 * gcc 12's -fanalyzer loses a pointer stored in an element of a heap array
 * that grow_array() (another file) grew, and calls it leaked.  Put these
 * around a function that stores such pointers and say which release frees
 * them: only that warning is silenced, only there (clang has no such check).
 */
#if defined(__GNUC__) && !defined(__clang__)
#define ANALYZER_LEAK_FP_BEGIN	_Pragma("GCC diagnostic push") \
	_Pragma("GCC diagnostic ignored \"-Wanalyzer-malloc-leak\"")
#define ANALYZER_LEAK_FP_END	_Pragma("GCC diagnostic pop")
#else
#define ANALYZER_LEAK_FP_BEGIN
#define ANALYZER_LEAK_FP_END
#endif

/* Overwrite N bytes at P with zeros in a way the compiler may not drop as a dead store. */
void	wipe_secret(void *p, size_t n);

/* 0 when FD is a regular file, -EINVAL when it is anything else, or fstat's -errno. */
int	fd_is_regular(int fd);

/* Flags for read_file_opt. */
#define READ_FILE_FOLLOW	0x1u	/* follow a symbolic link at PATH (files a user names) */

/*
 * Read the regular file PATH whole, in at most CAP bytes.  The file is
 * opened without blocking (a FIFO would otherwise wait for a writer for
 * ever) and, unless FLAGS has READ_FILE_FOLLOW, without following a
 * symbolic link (-ELOOP).  Errors: -EISDIR for a directory, -EINVAL for
 * anything else that is not a regular file (FIFO, socket, device), -EFBIG
 * over CAP, -ENOMEM, or open's and read's errno.  On success *ret is a
 * malloc'd, NUL-terminated buffer the caller frees and *ret_len its length
 * without the NUL; on failure whatever was read is wiped first.
 */
int	read_file_opt(const char *path, size_t cap, unsigned flags, char **ret, size_t *ret_len);

/* read_file_opt without following links; a directory is -EINVAL too. */
int	read_file_capped(const char *path, size_t cap, char **ret, size_t *ret_len);

/* Write all LEN bytes of DATA to FD, across short writes and EINTR.  0 or -errno. */
int	write_all(int fd, const void *data, size_t len);

/*
 * Replace PATH with DATA atomically: write "PATH.tmp" (created with MODE,
 * never through a symlink), fsync it, rename it over PATH, fsync the
 * directory.  Readers see the old file or the new one, never a mix.
 */
int	write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * As write_file_atomic; without DURABLE the fsyncs are left out, so the
 * replacement is atomic (old or new, never a mix) but a crash soon after
 * may bring the old file back.  For records whose loss only costs a check.
 */
int	write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
	    bool durable);

/* Flags for write_file_opt. */
#define WRITE_FILE_FSYNC	0x1u	/* fsync the file before the rename */
#define WRITE_FILE_FSYNC_DIR	0x2u	/* fsync the directory after it */
#define WRITE_FILE_DURABLE	(WRITE_FILE_FSYNC | WRITE_FILE_FSYNC_DIR)
#define WRITE_FILE_EXACT_MODE	0x4u	/* MODE whatever the umask (fchmod before the rename) */

/*
 * The one writer: replace PATH with the LEN bytes of DATA through
 * "PATH.tmp" (created with MODE, never through a symlink: -ELOOP) and a
 * rename, so readers see the old file or the new one, never a mix; FLAGS
 * add the fsyncs and the exact mode.  Something other than a regular file
 * at "PATH.tmp" (a FIFO, a device) is refused with -EINVAL without
 * blocking, and left there.  0 or a negative errno.
 */
int	write_file_opt(const char *path, const void *data, size_t len, mode_t mode,
	    unsigned flags);

#endif
