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

/* Milliseconds on the monotonic clock: for waits and deadlines, never for dates. */
int64_t	clock_mono_ms(void);

/* 64-bit FNV-1a over LEN bytes. */
uint64_t hash_fnv1a64(const void *data, size_t len);

/*
 * Read the regular file PATH whole, refusing symlinks (-ELOOP), anything
 * that is not a regular file (-EINVAL) and files over CAP bytes (-EFBIG).
 * On success *ret is a malloc'd, NUL-terminated buffer the caller frees and
 * *ret_len its length without the NUL.
 */
int	read_file_capped(const char *path, size_t cap, char **ret, size_t *ret_len);

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

#endif
