/* query: a request's query string, copied into a capped buffer for the log and for links. */
#ifndef DOSNAP_MOCK_QUERY_H
#define DOSNAP_MOCK_QUERY_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct qbuf {
	char s[1024];
	size_t len;
	bool overflow;			/* something did not fit: S holds what came before */
};

/* Every argument of C as "k=v&k=v", decoded, for the request log.  Q starts zeroed. */
void	query_all(struct MHD_Connection *c, struct qbuf *q);

/*
 * Every argument of C but page and per_page, each as "&k=v" percent-encoded
 * again, for paging links.  Q starts zeroed.
 */
void	query_without_paging(struct MHD_Connection *c, struct qbuf *q);

#endif
