/* api_trace: the trace hook's lines, with the token redacted out of them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "dosnap/redact.h"

/* How many secrets C has for the redact module: its token, when it has one. */
static size_t
n_tokens(const struct api_client *c)
{
	return c->token_len > 0 ? 1 : 0;
}

/*
 * Copy LINE (N bytes) to OUT without the token: an Authorization header
 * becomes "Authorization: Bearer [REDACTED]", an "authorization:" inside
 * other text (libcurl's HTTP/2 notes print headers in brackets) loses its
 * value, and any other occurrence of the token becomes "[REDACTED]".
 */
static void
redact_line(const struct api_client *c, const char *line, size_t n, struct api_buf *out)
{
	static const char red[] = REDACT_MARK;
	const char *tok[1] = { c->token };
	size_t i = 0, hit;

	api_buf_reset(out);
	if (n >= 14 && api_prefix_icase(line, "authorization:")) {
		api_buf_append(out, "Authorization: Bearer [REDACTED]", 32);
		return;
	}
	while (i < n) {
		hit = redact_match(tok, n_tokens(c), line + i, n - i);
		if (hit > 0) {
			api_buf_append(out, red, sizeof(red) - 1);
			i += hit;
			continue;
		}
		if (n - i >= 14 && api_prefix_icase(line + i, "authorization:")) {
			api_buf_append(out, line + i, 14);
			api_buf_append(out, " [REDACTED]", 11);
			i += 14;
			while (i < n && line[i] != ']' && line[i] != '\r' && line[i] != '\n')
				i++;
			continue;
		}
		api_buf_append(out, line + i, 1);
		i++;
	}
}

/* Redact, then cut: see redact_cut. */
size_t
api_token_cut(const struct api_client *c, const char *src, size_t n, char *dst, size_t size)
{
	const char *tok[1] = { c->token };
	size_t used;

	redact_cut(tok, n_tokens(c), src, n, dst, size, &used);
	return used;
}

void
api_trace_text(const struct api_client *c, enum api_trace_kind kind, const char *data, size_t size)
{
	struct api_buf out = { .cap = TRACE_LINE_MAX };
	size_t start = 0, i;

	for (i = 0; i <= size; i++) {
		size_t end;

		if (i < size && data[i] != '\n')
			continue;
		end = i;
		if (end > start && data[end - 1] == '\r')
			end--;
		if (end > start) {
			redact_line(c, data + start, end - start, &out);
			if (out.data != NULL && out.len > 0)
				c->trace(kind, out.data, c->trace_userdata);
		}
		start = i + 1;
	}
	api_buf_release(&out);
}

void
api_trace_event(const struct api_client *c, const char *fmt, ...)
{
	char small[1024], *line = small;
	va_list ap, ap2;
	int n;

	if (c->trace == NULL)
		return;
	/* Whole, then redacted, then cut (by api_trace_text): never cut first. */
	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= 0 && (size_t)n >= sizeof(small)) {
		line = malloc((size_t)n + 1);
		if (line != NULL)
			vsnprintf(line, (size_t)n + 1, fmt, ap2);
	}
	va_end(ap2);
	va_end(ap);
	if (n >= 0 && line != NULL)
		api_trace_text(c, API_TRACE_EVENT, line, (size_t)n);
	if (line != small)
		free(line);
}

/*
 * Trace a request or response body: its first TRACE_BODY_MAX bytes,
 * redacted over the whole body first (api_token_cut), so a token is hidden
 * wherever it lies, across any boundary of the pieces libcurl hands over.
 */
void
api_trace_body(const struct api_client *c, enum api_trace_kind kind, const char *data, size_t len)
{
	char shown[TRACE_BODY_MAX + 1];
	size_t used;

	if (c->trace == NULL || !c->trace_bodies || data == NULL || len == 0)
		return;
	used = api_token_cut(c, data, len, shown, sizeof(shown));
	api_trace_text(c, kind, shown, strlen(shown));
	if (used < len) {
		char note[96];

		snprintf(note, sizeof(note), "[body cut: %zu of %zu bytes shown]", used, len);
		c->trace(kind, note, c->trace_userdata);
	}
}

/* Replace the token wherever a server put it into an error's text. */
void
api_scrub(const struct api_client *c, char *s, size_t size)
{
	struct api_buf out = { .cap = size * 2 + 64 };

	if (c->token_len == 0 || strstr(s, c->token) == NULL)
		return;
	redact_line(c, s, strlen(s), &out);
	if (out.data != NULL)
		snprintf(s, size, "%s", out.data);
	api_buf_release(&out);
}

/*
 * libcurl cuts its own error text (CURL_ERROR_SIZE) before dosnap sees it:
 * when S is full to SIZE, drop a tail that begins the token.
 */
void
api_drop_token_tail(const struct api_client *c, char *s, size_t size)
{
	const char *tok[1] = { c->token };
	size_t n = strlen(s);

	if (c->token_len == 0 || n + 1 < size)
		return;
	s[redact_drop_tail(tok, n_tokens(c), s, n)] = '\0';
}
