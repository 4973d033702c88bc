/* testutil: what the tests share: temporary directories, files, and running the real binary. */
#ifndef DOSNAP_TESTUTIL_H
#define DOSNAP_TESTUTIL_H

#include <stddef.h>

#define TU_OUTPUT_MAX (1024 * 1024)

struct tu_result {
	int status;		/* exit code, or 128 + signal */
	char *out;		/* stdout, NUL-terminated, malloc'd */
	char *err;		/* stderr */
};

/* A fresh directory under $TMPDIR (or /tmp); malloc'd path.  Aborts on failure. */
char	*tu_mkdtemp(void);

/* Remove DIR and everything in it.  NULL does nothing. */
void	tu_rmtree(const char *dir);

/* Write TEXT to DIR/NAME (mode 0644); returns the malloc'd path.  Aborts on failure. */
char	*tu_write(const char *dir, const char *name, const char *text);

/*
 * Run the dosnap binary ($DOSNAP_BIN, else build/dosnap) with ARGV (NULL-
 * terminated, without argv[0]), with ENV entries ("NAME=VALUE", NULL-
 * terminated, may be NULL) added to a clean environment holding only PATH,
 * HOME=/nonexistent and TZ=UTC.  Fills *res; release with tu_result_release.
 */
void	tu_run_dosnap(const char *const *argv, const char *const *env, struct tu_result *res);

/* As tu_run_dosnap for any program PATH. */
void	tu_run(const char *path, const char *const *argv, const char *const *env,
	    struct tu_result *res);

void	tu_result_release(struct tu_result *res);

/* The dosnap binary's path. */
/* All of FD from its start, at most CAP bytes, NUL-terminated and malloc'd. */
char	*tu_slurp_fd(int fd, size_t cap);

const char *tu_dosnap_bin(void);

/* The source tree's top ($DOSNAP_SRCDIR, else "."). */
const char *tu_srcdir(void);

#endif
