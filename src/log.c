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
#include "dosnap/redact.h"
#include "dosnap/util.h"

#define LOG_LINE_MAX	4096	/* one message; longer ones are cut with "..." */
#define LOG_SECRETS_MAX	4
#define LOG_FORMAT_MAX	(256 * 1024)	/* formatted before redaction; longer is cut */

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
	log_safe(line != NULL ? line : "", logger.status, sizeof(logger.status));
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

void
log_release(void)
{
	size_t i;

	for (i = 0; i < logger.n_secrets; i++) {
		wipe_secret(logger.secrets[i], strlen(logger.secrets[i]));
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

/*
 * The length of the UTF-8 character at S (N bytes left) and its code point,
 * or 0 when S does not start a valid, shortest-form character.
 */
static size_t
utf8_char(const unsigned char *s, size_t n, unsigned *ret_cp)
{
	unsigned cp;
	size_t len, i;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return len;
}

/*
 * Code points a terminal or a reader's eye acts on: C1 controls (U+0080 to
 * U+009F, CSI among them), the line and paragraph separators and the
 * marks and overrides that reorder text on screen.
 */
static bool
invisible_control(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/*
 * The escaped form of the character at S (N bytes left): its bytes in
 * *RET_PIECE (S itself, or ESC), their count in *RET_PLEN; returns how many
 * bytes of S it stands for.
 */
static size_t
escape_one(const char *s, size_t n, char esc[16], const char **ret_piece, size_t *ret_plen)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned cp = 0;
	size_t clen;

	clen = utf8_char(p, n, &cp);
	*ret_piece = esc;
	if (clen == 0) {
		/* A byte that is not UTF-8: an 8-bit terminal may take 0x9b for CSI. */
		snprintf(esc, 16, "\\x%02x", p[0]);
		*ret_plen = 4;
		return 1;
	}
	if (cp == '\n' || cp == '\r' || cp == '\t') {
		esc[0] = '\\';
		if (cp == '\n')
			esc[1] = 'n';
		else if (cp == '\r')
			esc[1] = 'r';
		else
			esc[1] = 't';
		*ret_plen = 2;
	} else if (cp < 0x20 || cp == 0x7f) {
		snprintf(esc, 16, "\\x%02x", cp);
		*ret_plen = 4;
	} else if (invisible_control(cp)) {
		snprintf(esc, 16, "\\u%04x", cp);
		*ret_plen = 6;
	} else {
		*ret_piece = s;
		*ret_plen = clen;
	}
	return clen;
}

size_t
log_escape(const char *s, size_t n, char *buf, size_t size)
{
	static const char dots[] = "...";
	size_t i, o = 0, total = 0, limit;
	const char *piece;
	size_t plen;
	char esc[16];

	if (size == 0)
		return 0;
	for (i = 0; i < n;) {
		i += escape_one(s + i, n - i, esc, &piece, &plen);
		total += plen;
	}
	/* When it does not all fit, whole characters up to the room left for "...". */
	limit = total < size ? total : size - 1 >= sizeof(dots) - 1 ? size - sizeof(dots) : 0;
	for (i = 0; i < n;) {
		size_t clen = escape_one(s + i, n - i, esc, &piece, &plen);

		if (o + plen > limit)
			break;
		memcpy(buf + o, piece, plen);
		o += plen;
		i += clen;
	}
	if (total >= size && o + sizeof(dots) - 1 < size) {
		memcpy(buf + o, dots, sizeof(dots) - 1);
		o += sizeof(dots) - 1;
	}
	buf[o] = '\0';
	return o;
}

const char *
log_safe(const char *s, char *buf, size_t size)
{
	if (buf == NULL || size == 0)
		return "";
	if (s == NULL)
		s = "";
	log_escape(s, strlen(s), buf, size);
	return buf;
}

/* The registered secrets, as the redact module takes them. */
#define LOG_SECRETS	(const char *const *)logger.secrets, logger.n_secrets

void
log_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t n = strlen((const char *)p), i = 0;

	fputc('"', f);
	while (i < n) {
		unsigned cp = 0;
		size_t clen = utf8_char(p + i, n - i, &cp);

		if (clen == 0) {
			/* JSON is UTF-8: a byte that is not becomes U+FFFD. */
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (int)cp);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (cp < 0x20 || cp == 0x7f || invisible_control(cp))
			fprintf(f, "\\u%04x", cp);
		else
			fwrite(p + i, 1, clen, f);
		i += clen;
	}
	fputc('"', f);
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

/*
 * Redact, then cut, then escape: a secret is removed from the whole message
 * before any limit applies, so a cut can never leave part of it; then every
 * control character becomes a visible escape, so no text from the API or a
 * file can move the cursor, forge a line of its own or set a journal
 * priority.  The result is one line in LINE (LOG_LINE_MAX bytes).
 */
static void
render_line(const char *msg, size_t n, bool cut, char *line)
{
	char *red;
	size_t cap;

	if (cut)
		n = redact_drop_tail(LOG_SECRETS, msg, n);
	cap = n * 3 + 16;
	red = malloc(cap);
	if (red == NULL) {
		/* Without memory, say less rather than risk showing a secret. */
		snprintf(line, LOG_LINE_MAX, "(a message was lost: out of memory)");
		return;
	}
	/* CAP holds any text: "[REDACTED]" is longer than a secret by at most 6 bytes per 4. */
	n = redact_cut(LOG_SECRETS, msg, n, red, cap, NULL);
	log_escape(red, n, line, LOG_LINE_MAX);
	free(red);
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], small[1024], *msg = small;
	bool cut = false;
	va_list ap2;
	int n;

	if (!log_enabled(level))
		return;
	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= 0 && (size_t)n >= sizeof(small)) {
		size_t want = (size_t)n + 1;

		if (want > LOG_FORMAT_MAX) {
			want = LOG_FORMAT_MAX;
			cut = true;
		}
		msg = malloc(want);
		if (msg != NULL) {
			n = vsnprintf(msg, want, fmt, ap2);
			if (n >= 0 && (size_t)n >= want)
				n = (int)want - 1;
		} else {
			msg = small;
			n = (int)sizeof(small) - 1;
			cut = true;
		}
	}
	va_end(ap2);
	if (n < 0) {
		if (msg != small)
			free(msg);
		return;
	}
	render_line(msg, (size_t)n, cut, line);
	if (msg != small) {
		wipe_secret(msg, strlen(msg));
		free(msg);
	}
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
		json_put_string(stderr, line);
		fputs("}\n", stderr);
	} else if (logger.journal) {
		fprintf(stderr, "<%d>%s\n", (int)level, line);
	} else if (level <= LOG_LEVEL_WARNING) {
		fprintf(stderr, "dosnap: %s: %s\n", level_name(level), line);
	} else {
		fprintf(stderr, "dosnap: %s\n", line);
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
	char small[1024], *msg = small;
	va_list ap, ap2;
	int n;

	/* The whole text first: redaction must see it uncut (see render_line). */
	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= 0 && (size_t)n >= sizeof(small)) {
		bool cut = (size_t)n + 1 > LOG_FORMAT_MAX;
		size_t want = cut ? LOG_FORMAT_MAX : (size_t)n + 1;

		msg = malloc(want);
		if (msg != NULL) {
			vsnprintf(msg, want, fmt, ap2);
		} else {
			msg = small;
			cut = true;
		}
		if (cut) {
			size_t len = strlen(msg);

			msg[redact_drop_tail(LOG_SECRETS, msg, len)] = '\0';
		}
	}
	va_end(ap2);
	va_end(ap);
	log_msg(LOG_LEVEL_ERR, "%s: %s", n >= 0 ? msg : fmt, strerror(r < 0 ? -r : r));
	if (msg != small) {
		wipe_secret(msg, strlen(msg));
		free(msg);
	}
	return r;
}
