/* page: one pager for every listing: page and per_page, the window, links and meta.total. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "page.h"
#include "query.h"
#include "reply.h"
#include "routes.h"
#include "server.h"

#define DEFAULT_PER_PAGE	20
#define MAX_PER_PAGE		200

static int
parse_positive(const char *s, size_t *ret)
{
	unsigned long long v = 0;
	size_t i;

	if (s[0] == '\0' || strlen(s) > 9)
		return -EINVAL;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1)
		return -EINVAL;
	*ret = (size_t)v;
	return 0;
}

int
pager_init(struct pager *pg, const struct req *q, const char *key)
{
	const char *p = req_arg(q, "page");
	const char *pp = req_arg(q, "per_page");

	memset(pg, 0, sizeof(*pg));
	pg->key = key;
	pg->ok = true;
	pg->page = 1;
	pg->per_page = DEFAULT_PER_PAGE;
	if (p != NULL && parse_positive(p, &pg->page) < 0)
		return -EINVAL;
	if (pp != NULL && parse_positive(pp, &pg->per_page) < 0)
		return -EINVAL;
	if (pg->per_page > MAX_PER_PAGE)
		pg->per_page = MAX_PER_PAGE;
	return 0;
}

int
pager_refuse(struct reply *rp)
{
	return reply_error(rp, 400, "bad_request", "page and per_page must be positive integers");
}

static bool
pager_start(struct pager *pg)
{
	if (pg->list == NULL && pg->ok) {
		pg->list = json_list_start(pg->key, &pg->arr);
		pg->ok = pg->list != NULL;
	}
	return pg->ok;
}

bool
pager_take(struct pager *pg)
{
	size_t i = pg->total++;

	return pg->ok && i >= (pg->page - 1) * pg->per_page && i < pg->page * pg->per_page;
}

void
pager_push(struct pager *pg, cJSON *item)
{
	if (!pager_start(pg)) {
		cJSON_Delete(item);
		return;
	}
	pg->ok = json_push(pg->arr, item);
}

/*
 * The scheme and host the client asked for, as links should name them: the
 * service's links point at the host the request went to.  Behind a TLS front
 * (tests/tlsfront.c) that is the front, told by its Host and
 * X-Forwarded-Proto headers; without a usable Host header, the mock's own URL.
 */
static const char *
link_base(const struct mock *m, struct MHD_Connection *c, char *buf, size_t size)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *proto = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Proto");
	size_t i;

	if (host == NULL || host[0] == '\0' || strlen(host) > 255)
		return m->url;
	for (i = 0; host[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]",
		    host[i]) == NULL)
			return m->url;
	snprintf(buf, size, "%s://%s", proto != NULL && strcmp(proto, "https") == 0 ? "https" : "http",
	    host);
	return buf;
}

/* Add links (pages: first, prev, next, last as they apply) and meta.total to the list. */
static int
add_paging(const struct pager *pg, const struct req *q)
{
	struct qbuf qs = { .len = 0 };
	size_t last = pg->total == 0 ? 1 : (pg->total + pg->per_page - 1) / pg->per_page;
	cJSON *links, *pages, *meta;
	char buf[1400], basebuf[280];
	const char *base = link_base(q->m, q->c, basebuf, sizeof(basebuf));

	query_without_paging(q->c, &qs);
	if (qs.overflow)
		qs.s[0] = '\0';
	links = cJSON_AddObjectToObject(pg->list, "links");
	meta = cJSON_AddObjectToObject(pg->list, "meta");
	if (links == NULL || meta == NULL ||
	    cJSON_AddNumberToObject(meta, "total", (double)pg->total) == NULL)
		return -ENOMEM;
	if (last <= 1 && pg->page == 1)
		return 0;
	pages = cJSON_AddObjectToObject(links, "pages");
	if (pages == NULL)
		return -ENOMEM;
#define LINK(name, n) do { \
		snprintf(buf, sizeof(buf), "%s%s?page=%zu&per_page=%zu%s", base, q->url, (size_t)(n), \
		    pg->per_page, qs.s); \
		if (cJSON_AddStringToObject(pages, name, buf) == NULL) \
			return -ENOMEM; \
	} while (0)
	if (pg->page > 1) {
		LINK("first", 1);
		LINK("prev", pg->page - 1 < last ? pg->page - 1 : last);
	}
	if (pg->page < last) {
		LINK("next", pg->page + 1);
		LINK("last", last);
	}
#undef LINK
	return 0;
}

int
pager_finish(struct pager *pg, const struct req *q, struct reply *rp)
{
	cJSON *o;

	if (!pager_start(pg) || add_paging(pg, q) < 0) {
		cJSON_Delete(pg->list);
		pg->list = NULL;
		return -ENOMEM;
	}
	o = pg->list;
	pg->list = NULL;
	return reply_json(rp, 200, o);
}
