/* redact: secrets out of text, removed before any cut, never after; for the log and the API trace alike. */
#ifndef DOSNAP_REDACT_H
#define DOSNAP_REDACT_H

#include <stddef.h>

#define REDACT_MARK	"[REDACTED]"

/*
 * The secrets are N_SECRETS NUL-terminated strings; an empty one matches
 * nothing.  Nothing here logs or allocates.
 */

/* The length of the first of SECRETS that S (N bytes) begins with; 0 when none. */
size_t	redact_match(const char *const *secrets, size_t n_secrets, const char *s, size_t n);

/*
 * Copy SRC (N bytes) into DST (SIZE bytes, NUL-terminated) with every
 * occurrence of a secret replaced by REDACT_MARK: redact first, then cut.
 * Each position of SRC is compared with each whole secret over the whole
 * of SRC, so a limit can never leave the first part of a secret behind;
 * the mark goes in whole or not at all.  Returns the bytes written (the
 * NUL aside); *RET_USED (when not NULL) receives how many bytes of SRC
 * were used.
 */
size_t	redact_cut(const char *const *secrets, size_t n_secrets, const char *src, size_t n,
	    char *dst, size_t size, size_t *ret_used);

/*
 * A text cut at its end may end in the first part of a secret, which no
 * longer matches it whole: N less such a tail of S (any length), since even
 * part of a secret must not be shown.
 */
size_t	redact_drop_tail(const char *const *secrets, size_t n_secrets, const char *s, size_t n);

#endif
