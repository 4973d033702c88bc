/* log: the one place where dosnap writes messages: text or JSON, journald prefixes, redaction. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dosnap/log.h"

#define LOG_LINE_MAX	4096	/* one message; longer ones are cut with "..." */
#define LOG_SECRETS_MAX	4

static struct {
	enum log_format format;
	int max_level;
	bool journal;
	char *secrets[LOG_SECRETS_MAX];
	size_t n_secrets;
	bool tty;
	char status[256];	/* the status line shown, "" for none */
} logger = {
	.format = LOG_FORMAT_TEXT,
	.max_level = LOG_LEVEL_NOTICE,
};

/*
 * systemd sets $JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected
 * to stderr; only when they match is stderr really the journal.
 */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	/* "DEVICE:INODE" in decimal.  strtoull, not sscanf: sscanf's overflow is undefined. */
	if (js == NULL || js[0] < '0' || js[0] > '9')
		return false;
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		return false;
	ino = strtoull(end + 1, &end, 10);
	if (*end != '\0' || errno == ERANGE)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_setup(enum log_format format, int verbosity)
{
	logger.format = format;
	if (verbosity < 0)
		logger.max_level = LOG_LEVEL_WARNING;
	else if (verbosity == 0)
		logger.max_level = LOG_LEVEL_NOTICE;
	else if (verbosity == 1)
		logger.max_level = LOG_LEVEL_INFO;
	else
		logger.max_level = LOG_LEVEL_DEBUG;
	logger.journal = stderr_is_journal();
	logger.tty = isatty(STDERR_FILENO) && !logger.journal;
}

int
log_status_enabled(void)
{
	return logger.tty && logger.format == LOG_FORMAT_TEXT &&
	    logger.max_level >= LOG_LEVEL_NOTICE;
}

void
log_status(const char *line)
{
	if (!log_status_enabled())
		return;
	snprintf(logger.status, sizeof(logger.status), "%s", line != NULL ? line : "");
	/* \r and erase-line: one line, redrawn in place. */
	fprintf(stderr, "\r\033[K%s", logger.status);
	(void)fflush(stderr);	/* a status line that fails to show is no failure */
}

int
log_add_secret(const char *secret)
{
	char *copy;

	if (secret == NULL || strlen(secret) < 4)
		return 0;
	if (logger.n_secrets == LOG_SECRETS_MAX)
		return -ENOSPC;
	copy = strdup(secret);
	if (copy == NULL)
		return -ENOMEM;
	logger.secrets[logger.n_secrets++] = copy;
	return 0;
}

static void
wipe(char *s)
{
	volatile char *p = s;

	while (*p != '\0')
		*p++ = '\0';
}

void
log_release(void)
{
	size_t i;

	for (i = 0; i < logger.n_secrets; i++) {
		wipe(logger.secrets[i]);
		free(logger.secrets[i]);
		logger.secrets[i] = NULL;
	}
	logger.n_secrets = 0;
}

int
log_enabled(enum log_level level)
{
	return (int)level <= logger.max_level;
}

/* Replace every registered secret in BUF (NUL-terminated, capacity CAP). */
static void
redact(char *buf, size_t cap)
{
	static const char mark[] = "[REDACTED]";
	size_t i;

	for (i = 0; i < logger.n_secrets; i++) {
		const char *s = logger.secrets[i];
		size_t slen = strlen(s);
		char *p;

		for (p = strstr(buf, s); p != NULL; p = strstr(p, s)) {
			size_t tail = strlen(p + slen);
			size_t mlen = sizeof(mark) - 1;

			if ((size_t)(p - buf) + mlen + tail + 1 > cap)
				tail = cap - (size_t)(p - buf) - mlen - 1;
			memmove(p + mlen, p + slen, tail);
			p[mlen + tail] = '\0';
			memcpy(p, mark, mlen);
			p += mlen;
		}
	}
}

static const char *
level_name(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERR:
		return "error";
	case LOG_LEVEL_WARNING:
		return "warning";
	case LOG_LEVEL_NOTICE:
		return "notice";
	case LOG_LEVEL_INFO:
		return "info";
	case LOG_LEVEL_DEBUG:
		return "debug";
	}
	return "unknown";
}

static void
json_put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	int n;

	if (!log_enabled(level))
		return;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		memcpy(buf + sizeof(buf) - 4, "...", 4);
	redact(buf, sizeof(buf));
	if (logger.status[0] != '\0')
		fputs("\r\033[K", stderr);

	if (logger.format == LOG_FORMAT_JSON) {
		struct timespec ts;
		struct tm tm;
		char when[40];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"message\":",
		    when, ts.tv_nsec / 1000000, level_name(level));
		json_put_string(stderr, buf);
		fputs("}\n", stderr);
	} else if (logger.journal) {
		fprintf(stderr, "<%d>%s\n", (int)level, buf);
	} else if (level <= LOG_LEVEL_WARNING) {
		fprintf(stderr, "dosnap: %s: %s\n", level_name(level), buf);
	} else {
		fprintf(stderr, "dosnap: %s\n", buf);
	}
	if (logger.status[0] != '\0') {
		fputs(logger.status, stderr);
		(void)fflush(stderr);
	}
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

int
log_errno(int r, const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(LOG_LEVEL_ERR, "%s: %s", buf, strerror(r < 0 ? -r : r));
	return r;
}
