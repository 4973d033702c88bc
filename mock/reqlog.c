/* reqlog: the request log, a capped ring of what the API was asked, and the accessors tests read it with. */
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dosnap/util.h"
#include "server.h"

void
mock_log_request(struct mock *m, const char *method, const char *url, const char *query,
    int status, const char *fault, double when)
{
	struct mock_request *e;

	m->log_total++;
	/*
	 * The ring has not wrapped yet while it still grows (head is 0).  At
	 * MOCK_MAX_REQUEST_LOG (-E2BIG), or with no memory, it keeps its size
	 * and the oldest entry goes.
	 */
	if (m->log_n == m->log_cap)
		(void)grow_array(&m->log, &m->log_cap, m->log_n + 1, sizeof(*m->log),
		    MOCK_MAX_REQUEST_LOG);
	if (m->log_cap == 0)
		return;
	if (m->log_n < m->log_cap) {
		e = &m->log[(m->log_head + m->log_n) % m->log_cap];
		m->log_n++;
	} else {
		e = &m->log[m->log_head];
		m->log_head = (m->log_head + 1) % m->log_cap;
	}
	snprintf(e->method, sizeof(e->method), "%s", method);
	snprintf(e->path, sizeof(e->path), "%s", url);
	snprintf(e->query, sizeof(e->query), "%s", query);
	e->status = status;
	snprintf(e->fault, sizeof(e->fault), "%s", fault != NULL ? fault : "");
	e->time = when;
}

struct mock_request *
mock_log_at(struct mock *m, size_t i)
{
	return &m->log[(m->log_head + i) % m->log_cap];
}

size_t
mock_request_count(struct mock *m, const char *method, const char *path, int status)
{
	size_t i, n = 0;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->log_n; i++) {
		const struct mock_request *e = mock_log_at(m, i);

		if (method != NULL && method[0] != '\0' && strcmp(method, e->method) != 0)
			continue;
		if (path != NULL && fnmatch(path, e->path, 0) != 0)
			continue;
		if (status != 0 && status != e->status)
			continue;
		n++;
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}

int
mock_request_get(struct mock *m, size_t index, struct mock_request *ret)
{
	int r = -ENOENT;

	pthread_mutex_lock(&m->lock);
	if (index < m->log_n) {
		*ret = *mock_log_at(m, index);
		r = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}
