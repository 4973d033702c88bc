/* log: the one place where dosnap writes messages: text or JSON, journald prefixes, redaction. */
#ifndef DOSNAP_LOG_H
#define DOSNAP_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Levels are syslog's, so journald prefixes ("<3>") follow directly. */
enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

/*
 * Set the format and how much is shown: verbosity 0 shows notices and up
 * (-q makes it -1: warnings and errors only; -v is 1: info; -vv is 2: debug).
 * When $JOURNAL_STREAM names stderr, text lines get "<N>" priority prefixes
 * and no timestamp, since the journal has its own.
 */
void	log_setup(enum log_format format, int verbosity);

/*
 * Register a secret (the API token): from now on every occurrence of it in
 * any message is replaced by "[REDACTED]", before any cut, and a message
 * cut at a limit loses a tail that begins the secret.  The string is copied; log_release
 * wipes the copy.  Returns 0, or -ENOMEM.  Secrets shorter than 4 bytes are
 * ignored, since redacting them would mangle ordinary text.
 */
int	log_add_secret(const char *secret);

/* Wipe and free registered secrets. */
void	log_release(void);

/* Whether a message at LEVEL would be shown. */
int	log_enabled(enum log_level level);

/* Write one message (no trailing newline needed). */
void	log_msg(enum log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_vmsg(enum log_level level, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

/*
 * Log at error level with ": <strerror(-r)>" appended, and return R, so
 * that `return log_errno(r, "cannot open '%s'", path);` reads naturally.
 */
int	log_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A status line at the bottom of a terminal (a live progress view): shown
 * only when stderr is a terminal, text format, not -q.  Messages clear it
 * and draw it again below themselves.  LINE NULL clears it for good.
 */
void	log_status(const char *line);

/* Whether log_status shows anything (stderr a terminal, text, not quiet). */
int	log_status_enabled(void);

/*
 * Make text from the API or a file safe to show: copy S (N bytes) to BUF
 * (SIZE bytes, always NUL-terminated) with control characters, DEL, bytes
 * that are not UTF-8 and C1 controls as visible escapes ("\x1b", "\n",
 * "\x9b", "\u009b"), and the Unicode marks that reorder text on screen
 * (U+202E and friends) as "\u202e".  Text that does not fit is cut at a
 * character boundary and ends in "...".  Returns the length written.
 * Every log message passes through this; callers printing to stdout use
 * log_safe.
 */
size_t	log_escape(const char *s, size_t n, char *buf, size_t size);

/* log_escape of the string S (NULL: "") into BUF; returns BUF, for printf arguments. */
const char *log_safe(const char *s, char *buf, size_t size);

/*
 * Write S (NULL: "") to F as a JSON string that is valid whatever S holds:
 * control characters, DEL, C1 and reordering marks as \u escapes, bytes
 * that are not UTF-8 as \ufffd.
 */
void	log_json_string(FILE *f, const char *s);

#define log_error(...)	log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
