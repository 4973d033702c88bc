/* query: a request's query string, copied into a capped buffer for the log and for links. */
#include <stdio.h>
#include <string.h>

#include "query.h"

static void
qbuf_add(struct qbuf *q, const char *s)
{
	size_t n = strlen(s);

	if (q->len + n >= sizeof(q->s)) {
		q->overflow = true;
		return;
	}
	memcpy(q->s + q->len, s, n + 1);
	q->len += n;
}

/* Keep every query argument but the paging ones, percent-encoded again. */
static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct qbuf *q = cls;
	char enc[8];
	const char *p;

	(void)kind;
	if (strcmp(key, "page") == 0 || strcmp(key, "per_page") == 0)
		return MHD_YES;
	qbuf_add(q, "&");
	qbuf_add(q, key);
	qbuf_add(q, "=");
	for (p = value != NULL ? value : ""; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			enc[0] = (char)ch;
			enc[1] = '\0';
		} else {
			snprintf(enc, sizeof(enc), "%%%02X", ch);
		}
		qbuf_add(q, enc);
	}
	return MHD_YES;
}

static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct qbuf *q = cls;

	(void)kind;
	if (q->len > 0)
		qbuf_add(q, "&");
	qbuf_add(q, key);
	if (value != NULL) {
		qbuf_add(q, "=");
		qbuf_add(q, value);
	}
	return MHD_YES;
}

void
query_all(struct MHD_Connection *c, struct qbuf *q)
{
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, q);
}

void
query_without_paging(struct MHD_Connection *c, struct qbuf *q)
{
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, q);
}
