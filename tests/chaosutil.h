/* chaosutil: run the real binary with a deadline, signals at chosen moments, and a look for sanitizer reports. */
#ifndef DOSNAP_CHAOSUTIL_H
#define DOSNAP_CHAOSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CU_ARGS_MAX	48
#define CU_ENV_MAX	16

struct cu_run {
	int status;		/* exit code, or 128 + signal; -1 when it was killed at the deadline */
	long elapsed_ms;	/* from start to exit */
	long signal_ms;		/* when the first signal went, -1: none */
	char *err;		/* stderr, NUL-terminated, malloc'd (capped) */
};

/*
 * Run $DOSNAP_BIN with ARGV (NULL-terminated, without argv[0]) and ENV added
 * to PATH, HOME, TZ and ASAN_OPTIONS (stack-use-after-return detection on,
 * so a sanitizer build reports it).  When SIG is not 0, send it after
 * SIG_AT_MS, and again SIG2_GAP_MS later when that is >= 0.  Kill it at
 * DEADLINE_MS.  Fills *ret; release with cu_run_release.
 */
void	cu_dosnap(const char *const *argv, const char *const *env, int sig, long sig_at_ms,
	    long sig2_gap_ms, long deadline_ms, struct cu_run *ret);

/*
 * When set, the first signal waits, past SIG_AT_MS, until READY(ARG) says
 * the child has reached the moment the test wants (a request at the mock).
 */
void	cu_set_ready(bool (*ready)(void *arg), void *arg);

/*
 * When DIR is set, the next runs see it read-only (EROFS), even as root: a
 * read-only bind mount in a mount namespace of the child's own (Linux).
 * NULL: no such mount.  Only where cu_readonly_supported() says so.
 */
void	cu_set_readonly(const char *dir);
bool	cu_readonly_supported(void);

void	cu_run_release(struct cu_run *r);

/* The first line of a sanitizer report in TEXT, or NULL. */
const char *cu_sanitizer_report(const char *text);

/* The libfaketime to LD_PRELOAD (Debian's paths), or NULL when it is not installed. */
const char *cu_faketime_lib(void);

/* Monotonic milliseconds. */
long	cu_now_ms(void);

#endif
