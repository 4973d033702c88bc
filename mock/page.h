/* page: one pager for every listing: page and per_page, the window, links and meta.total. */
#ifndef DOSNAP_MOCK_PAGE_H
#define DOSNAP_MOCK_PAGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct req;
struct reply;

struct pager {
	const char *key;		/* "droplets", "actions", ... */
	size_t page, per_page;
	size_t total;			/* items counted so far */
	cJSON *list, *arr;		/* made at the first item, or at the end */
	bool ok;			/* false once out of memory */
};

/*
 * A listing, in three steps:
 *
 *	if (pager_init(&pg, q, "droplets") < 0)
 *		return pager_refuse(rp);
 *	for (each item that passes the filters)
 *		if (pager_take(&pg))
 *			pager_push(&pg, render(item));
 *	return pager_finish(&pg, q, rp);
 *
 * pager_init reads page and per_page (per_page at most 200, as the service
 * caps it) and returns 0, or -EINVAL for junk; it allocates nothing, so a
 * handler may still refuse a bad filter after it.  pager_refuse writes the
 * 400 for junk.  pager_take counts an item and says whether it is on the
 * page; pager_push appends its rendering (taken over; NULL means out of
 * memory).  pager_finish writes {"KEY": [...], "links": {...}, "meta":
 * {"total": N}} as a 200, the links naming the host the client asked for,
 * and returns 0 or -ENOMEM; it frees what the pager holds in every case.
 */
int	pager_init(struct pager *pg, const struct req *q, const char *key);
int	pager_refuse(struct reply *rp);
bool	pager_take(struct pager *pg);
void	pager_push(struct pager *pg, cJSON *item);
int	pager_finish(struct pager *pg, const struct req *q, struct reply *rp);

#endif
